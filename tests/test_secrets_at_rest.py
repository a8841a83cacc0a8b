"""Database files are owner-only (0600), with their -wal and -shm, however permissive the umask."""

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from kiosk import store
from sync.central.store import database, migrations


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def open_umask():
    """The umask most systems ship (files 0644 by default)."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def run(*args, env):
    return subprocess.run(list(args), env={**os.environ, **env}, capture_output=True, text=True, timeout=60,
                          umask=0o022)


def modes(db_path):
    return {suffix: mode(str(db_path) + suffix) for suffix in ("", "-wal", "-shm")}


def test_central_sqlite_store_and_its_wal_are_owner_only(tmp_path, open_umask):
    db_path = tmp_path / "var" / "central.db"
    env = {"CENTRAL_DB": str(db_path)}
    assert run(str(Path(sys.executable).parent / "central"), "init", env=env).returncode == 0
    assert run(str(Path(sys.executable).parent / "central"), "add-kiosk", "k-1", "--unit", "Sở Xây dựng",
               env=env).returncode == 0
    assert mode(db_path) == 0o600
    engine = database.engine_for(f"sqlite:///{db_path}")
    with engine.connect() as conn:  # while a connection is open, -wal and -shm exist
        conn.execute(text("SELECT count(*) FROM kiosks")).scalar()
        assert modes(db_path) == {"": 0o600, "-wal": 0o600, "-shm": 0o600}
    engine.dispose()


def test_a_central_store_made_by_the_engine_itself_is_owner_only(tmp_path, open_umask):
    engine = database.engine_for(f"sqlite:///{tmp_path / 'fresh.db'}")
    migrations.migrate(engine)
    with engine.connect():
        assert modes(tmp_path / "fresh.db") == {"": 0o600, "-wal": 0o600, "-shm": 0o600}
    engine.dispose()


def test_kiosk_database_and_its_wal_are_owner_only(tmp_path, open_umask):
    db_path = tmp_path / "kiosk" / "kiosk.db"
    env = {"KIOSK_DB": str(db_path), "KIOSK_ID": "k-1"}
    assert run(sys.executable, "-m", "kiosk", "init", env=env).returncode == 0
    assert mode(db_path) == 0o600
    db = store.connect(db_path)
    try:
        with store.write(db):
            store.set_setting(db, "counter", "3")
        assert modes(db_path) == {"": 0o600, "-wal": 0o600, "-shm": 0o600}
    finally:
        db.close()


def test_an_existing_world_readable_database_is_tightened(tmp_path, open_umask):
    kiosk_db, central_db = tmp_path / "old-kiosk.db", tmp_path / "old-central.db"
    for path in (kiosk_db, central_db):
        sqlite3.connect(path).close()
        os.chmod(path, 0o644)
    store.init(kiosk_db, "k-1")
    engine = database.engine_for(f"sqlite:///{central_db}")
    migrations.migrate(engine)
    engine.dispose()
    assert (mode(kiosk_db), mode(central_db)) == (0o600, 0o600)
