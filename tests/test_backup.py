"""`kiosk backup` and `kiosk restore`: a checked copy made while the kiosk runs, and a kiosk carried on from it.

With real processes: `kiosk run` on loopback, `kiosk-sync`, and `central run` on SQLite and PostgreSQL.
"""

import sqlite3
import stat
import subprocess
import sys

import requests

from conftest import LiveKiosk, free_port, kiosk_sync
from helpers import add_responses, respond_over_http
from kiosk import store


def kiosk_cli(env, *args):
    return subprocess.run([sys.executable, "-m", "kiosk", *args], env=env, capture_output=True, text=True,
                          timeout=60)


def settings(path) -> dict:
    conn = sqlite3.connect(path)
    try:
        return dict(conn.execute("SELECT key, value FROM settings"))
    finally:
        conn.close()


def seqs(path) -> list:
    conn = sqlite3.connect(path)
    try:
        return [row[0] for row in conn.execute("SELECT seq FROM responses ORDER BY seq")]
    finally:
        conn.close()


def integrity(central):
    reply = requests.get(f"{central.url}/api/v1/integrity", params={"kiosk": "test-kiosk"},
                         headers={"Authorization": f"Bearer {central.token}"}, timeout=10)
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_a_restored_kiosk_carries_on_and_central_accepts_its_next_batch(live_central, tmp_path):
    db_path, copy = tmp_path / "var" / "kiosk.db", tmp_path / "backups" / "kiosk-1.db"
    copy.parent.mkdir()
    env = {"PATH": "", "KIOSK_DB": str(db_path), "KIOSK_ID": "test-kiosk", "KIOSK_SECRET": live_central.secret,
           "CENTRAL_URL": live_central.url, "KIOSK_SETTLE_MS": "0"}
    add_responses(db_path, 3)
    live_central.start()
    kiosk = LiveKiosk(env, free_port()).start()  # the backup is taken while the kiosk serves
    try:
        respond_over_http(kiosk.url)  # #4, partly still in the -wal
        made = kiosk_cli(env, "backup", str(copy))
        assert made.returncode == 0, made.stderr
        assert f"Backed up responses #1–#4 to {copy}." in made.stdout
        assert "OK (the copy): 4 responses, sequence and hash chain intact." in made.stdout
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600
        assert not copy.with_name(copy.name + "-wal").exists()  # one self-contained file

        again = kiosk_cli(env, "backup", str(copy))  # never overwritten unless --force
        assert again.returncode == 1 and "already exists: give another name, or --force" in again.stderr
        assert kiosk_cli(env, "backup", "--force", str(copy)).returncode == 0

        # The copy verifies with `kiosk verify`, and looking at it does not make it a store of its own.
        before = settings(copy)
        checked = kiosk_cli({**env, "KIOSK_DB": str(copy)}, "verify")
        assert (checked.returncode, checked.stdout) == (0, "OK: 4 responses, sequence and hash chain intact.\n")
        assert settings(copy)["install_history"] == before["install_history"]

        respond_over_http(kiosk.url)  # #5 and #6 are made after the backup, and central receives them
        respond_over_http(kiosk.url)
        assert kiosk_sync(env, "--once").returncode == 0
    finally:
        kiosk.stop()
    old_store = store.installs(store.connect(db_path))[-1]["id"]

    db_path.write_bytes(b"the disk failed" * 100)  # the kiosk's database is lost
    for suffix in ("-wal", "-shm"):
        db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)
    refused = kiosk_cli(env, "restore", str(copy))
    assert refused.returncode == 1 and "exists: stop `kiosk run` and `kiosk-sync`, then give --force" in refused.stderr
    restored = kiosk_cli(env, "restore", "--force", str(copy))
    assert restored.returncode == 0, restored.stderr
    assert "Restored responses #1–#4" in restored.stdout and "The next response is #5" in restored.stdout
    kept = list(db_path.parent.glob("kiosk.db.replaced-*"))
    assert len(kept) == 1 and kept[0].read_bytes().startswith(b"the disk failed")  # never deleted

    kiosk = LiveKiosk(env, free_port()).start()
    try:
        respond_over_http(kiosk.url)
    finally:
        kiosk.stop()
    assert seqs(db_path) == [1, 2, 3, 4, 5]  # the sequence carries on from the backup
    assert kiosk_cli(env, "verify").returncode == 0
    history = store.installs(store.connect(db_path))
    assert history[-1]["from_seq"] == 5 and history[-1]["parent"] == old_store

    sent = kiosk_sync(env, "--once")
    assert sent.returncode == 0, sent.stderr + sent.stdout
    assert "(1 accepted, 4 duplicate, 0 rejected)" in sent.stdout  # #1-#4 were there already
    report = integrity(live_central)
    assert report["quarantined"] == 0 and report["responses"] == 7
    assert [e["kind"] for e in report["events"]] == ["copied"]
    assert "restored from a backup" in report["events"][0]["detail"]
    assert f"Central already holds #5–#6 of store {old_store}" in report["events"][0]["detail"]


def test_a_backup_that_does_not_verify_is_not_kept_and_restore_refuses_it(tmp_path):
    db_path, copy = tmp_path / "kiosk.db", tmp_path / "copy.db"
    env = {"PATH": "", "KIOSK_DB": str(db_path), "KIOSK_ID": "test-kiosk"}
    add_responses(db_path, 3)
    conn = sqlite3.connect(db_path)
    conn.execute("DROP TRIGGER responses_no_update")  # as someone altering the file by hand would
    conn.execute("UPDATE responses SET counter = 'altered' WHERE seq = 2")
    conn.commit()
    conn.close()
    made = kiosk_cli(env, "backup", str(copy))
    assert made.returncode == 1 and "The copy does not verify, so" in made.stderr
    assert "Response #2" in made.stderr and not copy.exists()
    assert list(tmp_path.iterdir()) == [db_path]  # nothing left half-written

    add_responses(tmp_path / "other.db", 2, kiosk_id="another-kiosk")
    wrong = kiosk_cli({**env, "KIOSK_DB": str(tmp_path / "new.db")}, "restore", str(tmp_path / "other.db"))
    assert wrong.returncode == 1 and "is not a database of kiosk test-kiosk" in wrong.stderr
    assert not (tmp_path / "new.db").exists()
    altered = kiosk_cli({**env, "KIOSK_DB": str(tmp_path / "new.db")}, "restore", str(db_path))
    assert altered.returncode == 1 and "does not verify, so nothing was changed" in altered.stderr
    missing = kiosk_cli(env, "backup", str(tmp_path / "no-such-folder" / "copy.db"))
    assert missing.returncode == 1 and "does not exist: create it first" in missing.stderr


def test_a_backup_restored_on_a_new_box_carries_on_its_chain(tmp_path):
    old_box, new_box = tmp_path / "old" / "kiosk.db", tmp_path / "new" / "kiosk.db"
    new_box.parent.mkdir()
    add_responses(old_box, 3)
    env = {"PATH": "", "KIOSK_DB": str(old_box), "KIOSK_ID": "test-kiosk"}
    assert kiosk_cli(env, "backup", str(tmp_path / "copy.db")).returncode == 0
    restored = kiosk_cli({**env, "KIOSK_DB": str(new_box)}, "restore", str(tmp_path / "copy.db"))
    assert restored.returncode == 0, restored.stderr
    assert "The database that was there" not in restored.stdout
    old, new = (store.installs(store.connect(path)) for path in (old_box, new_box))
    assert new[:-1] == old and new[-1]["from_seq"] == 4 and new[-1]["parent"] == old[-1]["id"]
    add_responses(new_box, 1)  # opened at its place: no further store, the chain goes on
    assert seqs(new_box) == [1, 2, 3, 4] and store.installs(store.connect(new_box)) == new
    assert kiosk_cli({**env, "KIOSK_DB": str(new_box)}, "verify").returncode == 0
