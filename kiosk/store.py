"""The kiosk's local store: one SQLite file where responses are only appended.

Every write goes through ``write(db)``, one ``BEGIN IMMEDIATE`` transaction,
so two requests can never take the same sequence number. ``synchronous=FULL``
with WAL makes a committed response survive power loss.

The store is split by concern: this module (connection, settings, installs,
reading and verifying responses), ``kiosk.schema`` (tables and migrations),
``kiosk.drafts`` (surveys in progress becoming responses) and ``kiosk.erasure``
(erasing comments and phone numbers).
"""

import hashlib
import json
import os
import secrets
import socket
import sqlite3
import uuid
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

from sqlite_utils import Database

from . import chain
from .schema import migrations
from .clock import day_bounds_utc, utc_iso
from .paths import owner_only

JSON_COLUMNS = ("answers", "reasons", "flags")


class StoreError(Exception):
    """The database is missing, belongs to another kiosk, or cannot be written."""


def dumps(value) -> str:
    return chain.CANONICAL_JSON.encode(value)


def connect(path: Path) -> Database:
    """Open the kiosk's SQLite file; it, its -wal and its -shm are owner-only (0600)."""
    owner_only(path)
    conn = sqlite3.connect(str(path), timeout=15)
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    return Database(conn)


@contextmanager
def write(db: Database):
    """One write transaction, taken at once so concurrent writers queue."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.rollback()
        raise
    db.execute("COMMIT")


def init(path: Path, kiosk_id: str, claim: bool = True) -> bool:
    """Create or upgrade the database; never drops anything. True if created.

    ``claim``: record this machine and path as the store's place (``ensure_install``);
    a read-only look (``kiosk verify``) passes False, so checking a copied file
    does not make it a store of its own.
    """
    path = Path(path)
    created = not path.exists()
    db = connect(path)
    try:
        db.enable_wal()
        migrations.apply(db)
        owner = get_setting(db, "kiosk_id")
        if owner is not None and owner != kiosk_id:
            raise StoreError(
                f"KIOSK_ID is {kiosk_id!r} but the database {path} belongs to kiosk {owner!r}.")
        if owner is None:
            with write(db):
                set_setting(db, "kiosk_id", kiosk_id)
                set_setting(db, "secret_key", secrets.token_hex(32))
        if claim:
            ensure_install(db, path)
    finally:
        db.close()
    return created


def open_existing(path: Path, kiosk_id: str, claim: bool = True) -> Database:
    """Open a database made by ``kiosk init``, applying any pending migrations (``claim``: see ``init``)."""
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"KIOSK_DB names {path}, which does not exist: run `kiosk init` first.")
    init(path, kiosk_id, claim)
    return connect(path)


# --- install identity: which store (and which machine) a response was made in -----

def install_place(path: Path) -> str:
    """A fingerprint of where this store lives: the machine's id and the file's real path.

    The machine id is /etc/machine-id (or D-Bus's copy), else the host name.
    """
    machine = socket.gethostname()
    for candidate in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            machine = Path(candidate).read_text().strip() or machine
            break
        except OSError:
            continue
    place = f"{machine}\0{os.path.realpath(path)}"
    return hashlib.sha256(place.encode("utf-8")).hexdigest()[:32]


def ensure_install(db: Database, path: Path) -> dict:
    """Give the store its install id, or a new one when it was copied or moved to another place.

    A new store gets a random install id from seq 1. A store made before install
    ids that already holds responses stays the legacy install (id ''). A store
    opened somewhere other than where its install was made (another machine or
    path: a copied or moved database) starts a new install continuing the chain
    from its next seq, with the old one as parent. Returns the current install:
    ``{"id", "from_seq", "parent"}``.
    """
    place = install_place(path)
    with write(db):
        history = installs(db)
        if history and get_setting(db, "install_place") == place:
            return history[-1]
        head = db.execute("SELECT max(seq) FROM responses").fetchone()[0] or 0
        if not history:
            current = {"id": "" if head else str(uuid.uuid4()), "from_seq": 1, "parent": None}
        else:
            current = {"id": str(uuid.uuid4()), "from_seq": head + 1, "parent": history[-1]["id"]}
        set_setting(db, "install_history", dumps(history + [current]))
        set_setting(db, "install_place", place)
    return current


def installs(db: Database) -> list:
    """This store's installs, oldest first: dicts ``{"id", "from_seq", "parent"}`` (id '' is legacy)."""
    return json.loads(get_setting(db, "install_history", "[]"))


def install_of(history: list, seq: int):
    """(the install a response with this seq was made in, the next install's from_seq or None)."""
    current, following = history[0], None
    for install in history[1:]:
        if install["from_seq"] > seq:
            following = install["from_seq"]
            break
        current = install
    return current, following


def get_setting(db: Database, key: str, default=None):
    if not db["settings"].exists():
        return default
    row = db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    return row[0] if row else default


def set_setting(db: Database, key: str, value) -> None:
    db.execute(
        "INSERT INTO settings(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, str(value)])


def forget_pending_dossier(db: Database) -> None:
    """Drop the dossier code staff set for the next survey, if any (its citizen's turn is over)."""
    if get_setting(db, "pending_dossier") is not None:
        with write(db):
            db.execute("DELETE FROM settings WHERE key = 'pending_dossier'")


def check_writable(db: Database, now: datetime) -> None:
    """Prove the database can be written: commit a small probe row (the time of the check).

    A rolled-back write never reaches the disk, so it cannot see a full disk; this
    one does. Raises ``sqlite3.Error`` (e.g. "database or disk is full") if not.
    """
    with write(db):
        set_setting(db, "health_checked_utc", utc_iso(now))


# --- responses --------------------------------------------------------------

def record_from_row(row: dict) -> dict:
    return {k: json.loads(v) if k in JSON_COLUMNS else v for k, v in row.items()}


def responses(db: Database):
    """Every response as a record (JSON columns decoded), in sequence order."""
    for row in db["responses"].rows_where(order_by="seq"):
        yield record_from_row(row)

def responses_for_day(db: Database, day: date) -> list:
    """A day's responses (Asia/Ho_Chi_Minh) as ``kiosk.indices`` takes them."""
    start, end = day_bounds_utc(day)
    rows = db.execute("SELECT answers, reasons, flags, dossier_code, comment_hash FROM responses "
                      "WHERE created_utc >= ? AND created_utc < ?", [start, end]).fetchall()
    return [{"answers": json.loads(a), "reasons": json.loads(r), "flags": json.loads(f),
             "dossier_code": d, "has_comment": c is not None} for a, r, f, d, c in rows]


def marks(db: Database) -> list:
    """Notes kept with responses (e.g. 'clock_back'), in sequence order: dicts ``{seq, mark, detail}``."""
    return list(db["response_marks"].rows_where(order_by="seq, mark"))


def mark_counts(db: Database) -> dict:
    """How many responses carry each mark, e.g. ``{"clock_back": 1}``."""
    return dict(db.execute("SELECT mark, count(*) FROM response_marks GROUP BY mark").fetchall())


def verify(db: Database):
    """Check sequence, chain and erasable-text hashes.

    Returns (number of responses checked, the first problem or None).
    """
    expected_seq, prev_hash, checked = 1, chain.GENESIS_HASH, 0
    private = {row["seq"]: row for row in db["response_private"].rows}
    for record in responses(db):
        seq, label = record["seq"], f"Response #{record['seq']} ({record['uuid']})"
        if seq != expected_seq:
            missing = f"#{expected_seq}" if seq == expected_seq + 1 else f"#{expected_seq}–#{seq - 1}"
            return checked, f"Sequence gap: {missing} missing before response #{seq}."
        if record["prev_hash"] != prev_hash:
            return checked, f"{label}: its previous hash does not match response #{seq - 1}."
        if chain.record_hash(record) != record["hash"]:
            return checked, f"{label}: its content does not match its hash (altered)."
        extra = private.get(seq)
        for field, hash_field in (("comment", "comment_hash"), ("phone", "contact_hash")):
            text = extra and extra[field]
            if text is not None and chain.private_hash(extra[f"{field}_salt"], text) != record[hash_field]:
                return checked, f"{label}: its {field} does not match the hash in the chain (altered)."
        expected_seq, prev_hash, checked = seq + 1, record["hash"], checked + 1
    head = get_setting(db, "chain_head")
    if head and head != (f"{expected_seq - 1} {prev_hash}"):
        head_seq = head.split()[0]
        return checked, (f"The chain ends at #{expected_seq - 1} but response #{head_seq} "
                         f"was written: responses at the end were deleted or altered.")
    return checked, None
