"""`kiosk backup` and `kiosk restore`: a checked copy of the store, and putting one back.

A backup is made with SQLite's online backup API (``sqlite3.Connection.backup``),
so it is consistent while ``kiosk run`` and ``kiosk-sync`` keep writing, and
holds what the ``-wal`` file holds too. The copy is one self-contained file
(rollback journal, no ``-wal``), owner-only (0600), and it is checked with the
same check as ``kiosk verify`` before it takes DEST's name: a copy that does
not verify never replaces anything.

What a restore means (the choice this module makes): the restored store is the
same kiosk's chain continued from the backup's last response, as a **new store
(install)** whose parent is the store the backup was taken from. The next
response gets the backup's last sequence number + 1. Central keeps the
sequence numbers of each store apart, so responses the lost store made after
the backup and already delivered (the uploader runs every few seconds, backups
once a day, so central usually holds some) never collide with the restored
store's new ones: nothing is quarantined, central records one ``copied`` event
saying the store continues from the backup (``sync.central.installs``), and
both stores' responses are counted. Reusing the old store's id would instead
make central refuse every new response whose number it already holds.
"""

import os
import sqlite3
import uuid
from datetime import datetime
from pathlib import Path

from sqlite_utils import Database

from . import store
from .paths import owner_only
from .schema import migrations


class BackupError(Exception):
    """A backup or restore cannot be made as asked; the message says why and what to do."""


def check(db: Database, kiosk_id: str, name) -> dict:
    """The check ``kiosk verify`` makes, on an open store: sequence, hash chain, erasable-text hashes.

    Returns ``{"checked": int, "problem": str or None, "marks": [...], "head": int}``.
    Raises ``BackupError`` when `name` is not a store of `kiosk_id`.
    """
    try:
        owner = store.get_setting(db, "kiosk_id")
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{name} is not a kiosk database ({error}).") from None
    if owner != kiosk_id:
        raise BackupError(f"{name} is not a database of kiosk {kiosk_id} "
                          f"({'it belongs to kiosk ' + repr(owner) if owner else 'no kiosk id in it'}).")
    checked, problem = store.verify(db)
    head = db.execute("SELECT max(seq) FROM responses").fetchone()[0] or 0
    return {"checked": checked, "problem": problem, "marks": store.marks(db), "head": head}


def _copy(source: sqlite3.Connection, dest: Path) -> None:
    """Copy an open database into a new owner-only file `dest`, as one file without a ``-wal``."""
    owner_only(dest)
    target = sqlite3.connect(dest)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")
    finally:
        target.close()


def _check_file(path: Path, kiosk_id: str, name) -> dict:
    db = Database(sqlite3.connect(path))
    try:
        return check(db, kiosk_id, name)
    finally:
        db.close()


def _partial(path: Path) -> Path:
    return path.with_name(f".{path.name}.partial-{os.getpid()}")


def _remove(path: Path) -> None:
    for each in (path, path.with_name(path.name + "-journal")):
        each.unlink(missing_ok=True)


def backup(db_path: Path, kiosk_id: str, dest: Path, force: bool = False) -> dict:
    """Copy the kiosk's store to `dest` (a file path) and check the copy; returns ``check``'s dict.

    Raises ``BackupError`` when `dest` exists and not `force`, is a folder or the
    store itself, or when the copy does not verify (then `dest` is left as it was),
    and ``StoreError`` when the store is missing or belongs to another kiosk.
    """
    dest = Path(dest)
    if dest.is_dir():
        raise BackupError(f"{dest} is a folder: give a file name, e.g. {dest / 'kiosk-backup.db'}.")
    if dest.exists() and not force:
        raise BackupError(f"{dest} already exists: give another name, or --force to replace it.")
    if dest.exists() and dest.resolve() == Path(db_path).resolve():
        raise BackupError(f"{dest} is the kiosk's own database (KIOSK_DB): give another file name.")
    if not dest.parent.is_dir():
        raise BackupError(f"The folder {dest.parent} does not exist: create it first.")
    db = store.open_existing(db_path, kiosk_id)
    partial = _partial(dest)
    try:
        _copy(db.conn, partial)
        result = _check_file(partial, kiosk_id, dest)
        if result["problem"]:
            raise BackupError(f"The copy does not verify, so {dest} was not written: {result['problem']} "
                              f"Run `kiosk verify` on the kiosk's own database.")
        os.replace(partial, dest)
    finally:
        db.close()
        _remove(partial)
    return result


def restore(backup_path: Path, db_path: Path, kiosk_id: str, force: bool = False) -> dict:
    """Put a backup in place as KIOSK_DB, continuing the chain as a new store (see the module doc).

    The backup must verify. An existing KIOSK_DB is refused unless `force`; then it
    is kept beside, renamed ``<name>.replaced-<UTC time>`` (with its -wal and -shm),
    never deleted. Returns ``check``'s dict plus ``"install"`` (the new store) and
    ``"kept"`` (the renamed old file or None). Raises ``BackupError``.
    """
    backup_path, db_path = Path(backup_path), Path(db_path)
    if not backup_path.is_file():
        raise BackupError(f"The backup {backup_path} does not exist.")
    if db_path.exists() and not force:
        raise BackupError(f"{db_path} (KIOSK_DB) exists: stop `kiosk run` and `kiosk-sync`, then give --force "
                          f"to put the backup in its place (the current file is kept beside it, renamed).")
    if not db_path.parent.is_dir():
        raise BackupError(f"The folder {db_path.parent} does not exist: create it first.")
    partial = _partial(db_path)
    try:
        source = sqlite3.connect(f"{backup_path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            _copy(source, partial)
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{backup_path} is not a kiosk database ({error}).") from None
        finally:
            source.close()
        result = _check_file(partial, kiosk_id, backup_path)
        if result["problem"]:
            raise BackupError(f"The backup {backup_path} does not verify, so nothing was changed: "
                              f"{result['problem']} Use an older backup.")
        kept = _set_aside(db_path) if db_path.exists() else None
        os.replace(partial, db_path)
    finally:
        _remove(partial)
    db = store.connect(db_path)
    try:
        migrations.apply(db)  # a backup from an older version
        install = continue_as_new_store(db, db_path)
    finally:
        db.close()
    store.init(db_path, kiosk_id)  # WAL on again; the store's place is already this one
    return {**result, "install": install, "kept": kept}


def _set_aside(db_path: Path) -> Path:
    stamp = datetime.now().astimezone().strftime("%Y%m%dT%H%M%S")
    kept = db_path.with_name(f"{db_path.name}.replaced-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        current = db_path.with_name(db_path.name + suffix)
        if current.exists():
            os.replace(current, kept.with_name(kept.name + suffix))
    return kept


def continue_as_new_store(db: Database, path: Path) -> dict:
    """Start a new install continuing this store's chain from its next seq (parent: the current one).

    Returns the new install ``{"id", "from_seq", "parent"}`` (see ``kiosk.store.ensure_install``).
    """
    with store.write(db):
        history = store.installs(db)
        head = db.execute("SELECT max(seq) FROM responses").fetchone()[0] or 0
        if not history and head:  # a store from before install ids: its responses are the legacy store's
            history = [{"id": "", "from_seq": 1, "parent": None}]
        current = {"id": str(uuid.uuid4()), "from_seq": head + 1, "parent": history[-1]["id"] if history else None}
        store.set_setting(db, "install_history", store.dumps(history + [current]))
        store.set_setting(db, "install_place", store.install_place(path))
    return current
