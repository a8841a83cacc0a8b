"""Where the shipped templates, static files and translations are; files kept owner-only."""

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def asset_dir(name: str) -> Path:
    """Return the top-level ``templates``/``static`` folder.

    A wheel carries them as ``kiosk/_assets/<name>``; a source checkout or an
    editable install has them at the top of the repository.
    """
    packaged = PACKAGE_DIR / "_assets" / name
    if packaged.is_dir():
        return packaged
    return PACKAGE_DIR.parent / name


def owner_only(path) -> None:
    """Make `path` a file only its owner may read or write (0600), created empty if missing.

    For database and secret files: an existing file, and SQLite's ``-wal`` and
    ``-shm`` beside it, lose any group or other permission. SQLite gives the
    ``-wal`` and ``-shm`` it creates the database file's own mode.
    """
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))  # never readable by others, even briefly
    for each in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if each.stat().st_mode & 0o077:
                each.chmod(0o600)
        except FileNotFoundError:
            continue
