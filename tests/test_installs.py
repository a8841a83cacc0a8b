"""Kiosk stores (installs) and time along the chain, with real processes on loopback, SQLite and PostgreSQL.

A replaced tablet, a copied database and a clock set back: every response is
kept and counted, central records an integrity event naming kiosk, store and
sequence numbers, and the uploader's last line tells the truth.
"""

import sqlite3
import subprocess
import sys
from datetime import timedelta
from importlib import import_module

import requests

from conftest import kiosk_sync
from helpers import add_responses
from kiosk import store
from kiosk.clock import local_today, now_utc
from sync.central.store import accounts, database, integrity, migrations


def env_for(db_path, central):
    return {"KIOSK_DB": str(db_path), "KIOSK_ID": "test-kiosk", "KIOSK_SECRET": central.secret,
            "CENTRAL_URL": central.url}


def kiosk_cli(env, *args, input=None):
    return subprocess.run([sys.executable, "-m", "kiosk", *args], env={**env, "PATH": ""}, input=input,
                          capture_output=True, text=True, timeout=60)


def api(central, path, **params):
    reply = requests.get(f"{central.url}{path}", params=params,
                         headers={"Authorization": f"Bearer {central.token}"}, timeout=10)
    assert reply.status_code == 200, reply.text
    return reply.json()


def day_count(central, day=None):
    day = day or local_today(now_utc())
    return api(central, "/api/v1/summary", date=day.isoformat())["responses"]


def events_of(report, *kinds):
    return [e for e in report["events"] if e["kind"] in kinds]


def delivered(count):
    return (f"Delivered: {count} response(s) answered for by central ({count} accepted, 0 duplicate, "
            f"0 rejected); nothing pending.\n")


def install_id(db_path):
    db = store.connect(db_path)
    try:
        return store.installs(db)[-1]["id"]
    finally:
        db.close()


def test_a_replaced_tablet_starts_a_new_chain_that_central_counts(live_central, tmp_path):
    old_db = tmp_path / "kiosk.db"
    add_responses(old_db, 4)
    live_central.start()
    env = env_for(old_db, live_central)
    assert kiosk_sync(env, "--once").stdout == delivered(4)
    old_install = install_id(old_db)
    for path in tmp_path.glob("kiosk.db*"):  # the tablet's SQLite file is lost
        path.unlink()
    assert kiosk_cli(env, "init").returncode == 0
    assert kiosk_cli(env, "set-pin", input="2468\n").returncode == 0
    add_responses(old_db, 2)
    new_install = install_id(old_db)
    assert new_install and new_install != old_install

    result = kiosk_sync(env, "--once")
    assert result.returncode == 0, result.stderr
    assert result.stdout == delivered(2)
    assert day_count(live_central) == 6
    report = api(live_central, "/api/v1/integrity", kiosk="test-kiosk")
    assert report["responses"] == 6 and report["quarantined"] == 0
    assert [e["kind"] for e in report["events"]] == ["reinstalled"]
    event = report["events"][0]
    assert event["install_id"] == new_install and event["seq_from"] == 1
    assert event["detail"].startswith("Kiosk test-kiosk reinstalled: new store from seq 1 (store " + new_install)
    assert f"store {old_install} ended at #4" in event["detail"]
    assert {(s["install_id"], s["from_seq"], s["responses"]) for s in report["installs"]} == {
        (old_install, 1, 4), (new_install, 1, 2)}
    assert kiosk_cli(env, "verify").returncode == 0


def test_a_copied_database_sending_beside_its_original_is_an_event_naming_both(live_central, tmp_path):
    first, second = tmp_path / "a" / "kiosk.db", tmp_path / "b" / "kiosk.db"
    add_responses(first, 4)
    live_central.start()
    assert kiosk_sync(env_for(first, live_central), "--once").returncode == 0
    second.parent.mkdir()
    source, copy = sqlite3.connect(first), sqlite3.connect(second)
    source.backup(copy)  # the whole database, as a copy to a second tablet would be
    source.close()
    copy.close()
    add_responses(first, 2)
    add_responses(second, 3)  # opened elsewhere: the copy becomes a store of its own from #5
    original, copied = install_id(first), install_id(second)
    assert copied != original

    for path, count in ((second, 3), (first, 2)):
        result = kiosk_sync(env_for(path, live_central), "--once")
        assert (result.returncode, result.stdout) == (0, delivered(count)), result.stderr
    assert day_count(live_central) == 9
    report = api(live_central, "/api/v1/integrity", kiosk="test-kiosk")
    assert report["responses"] == 9 and report["quarantined"] == 0
    assert [e["kind"] for e in report["events"]] == ["copied", "two_installs"]
    copied_event, both = report["events"]
    assert copied_event["install_id"] == copied and copied_event["seq_from"] == 5
    assert f"store {copied} is a copy of store {original}, continuing its chain from #5" in copied_event["detail"]
    assert f"store {original}" in both["detail"] and f"store {copied}" in both["detail"]
    assert "sending at once" in both["detail"]
    stores = {s["install_id"]: s for s in report["installs"]}
    assert (stores[original]["responses"], stores[copied]["responses"]) == (6, 3)
    assert stores[copied]["parent_id"] == original and stores[original]["concurrent_with"] == copied
    for path in (first, second):
        assert kiosk_cli(env_for(path, live_central), "verify").returncode == 0
    # Sending again says nothing new.
    add_responses(first, 1)
    assert kiosk_sync(env_for(first, live_central), "--once").returncode == 0
    assert len(api(live_central, "/api/v1/integrity", kiosk="test-kiosk")["events"]) == 2


def test_a_clock_set_back_is_flagged_at_the_kiosk_and_an_event_at_central(live_central, tmp_path, monkeypatch):
    db_path, offset = tmp_path / "kiosk.db", tmp_path / "clock-offset"
    offset.write_text("0")
    monkeypatch.setenv("KIOSK_TEST_CLOCK_OFFSET_FILE", str(offset))
    add_responses(db_path, 3)
    live_central.start()
    env = env_for(db_path, live_central)
    assert kiosk_sync(env, "--once").stdout == delivered(3)

    offset.write_text(str(-2 * 86400))  # the kiosk restarted two days behind
    add_responses(db_path, 1)
    offset.write_text("0")  # the clock is fixed

    verify = kiosk_cli({**env, "KIOSK_TEST_CLOCK_OFFSET_FILE": str(offset)}, "verify")
    assert verify.returncode == 0
    assert "Warning: response #4 is marked clock_back: committed at" in verify.stderr
    assert "earlier than response #3" in verify.stderr
    assert verify.stdout.startswith("OK: 4 responses, sequence and hash chain intact; 1 marked")
    db = store.connect(db_path)
    assert [(m["seq"], m["mark"]) for m in store.marks(db)] == [(4, "clock_back")]
    db.close()

    assert kiosk_sync(env, "--once").stdout == delivered(1)
    report = api(live_central, "/api/v1/integrity", kiosk="test-kiosk")
    clock = events_of(report, "clock_back", "clock_behind")
    assert [(e["kind"], e["seq_from"], e["install_id"]) for e in clock] == [
        ("clock_back", 4, install_id(db_path))]
    assert "Response #4 of kiosk test-kiosk" in clock[0]["detail"]
    assert "earlier than response #3" in clock[0]["detail"]
    # Figures keep the kiosk's time: the response counts on the day its clock said.
    two_days_ago = local_today(now_utc() - timedelta(days=2))
    assert day_count(live_central, two_days_ago) == 1
    assert day_count(live_central) == 3


def test_a_fresh_response_stamped_long_before_the_previous_batch_is_an_event(live_central, tmp_path, monkeypatch):
    db_path, offset = tmp_path / "kiosk.db", tmp_path / "clock-offset"
    monkeypatch.setenv("KIOSK_TEST_CLOCK_OFFSET_FILE", str(offset))
    offset.write_text(str(-3 * 86400))  # set up with a clock three days behind
    add_responses(db_path, 1)
    live_central.start()
    offset.write_text("0")
    env = env_for(db_path, live_central)
    assert kiosk_sync(env, "--once").returncode == 0
    offset.write_text(str(-3 * 86400 + 60))  # behind again, yet after #1: no step back
    add_responses(db_path, 1)
    offset.write_text("0")
    assert kiosk_sync(env, "--once").returncode == 0
    clock = events_of(api(live_central, "/api/v1/integrity", kiosk="test-kiosk"), "clock_back", "clock_behind")
    assert [(e["kind"], e["seq_from"]) for e in clock] == [("clock_behind", 2)]
    assert "the kiosk's clock was behind" in clock[0]["detail"]


def test_a_store_made_before_install_ids_keeps_its_chain_and_central_upgrades(central_url, tmp_path):
    """Migration 0006 on an existing store: rows, ids and links kept; the legacy chain goes on."""
    from sqlalchemy import text

    from sync.central import app as central
    from sync.central.config import load
    from conftest import central_env_for
    from helpers import post, wire_responses
    from sync import wire

    engine = database.engine_for(central_url)
    migrations.migrate(engine)
    secret = accounts.add_kiosk(engine, "test-kiosk", "Sở Xây dựng")
    add_responses(tmp_path / "kiosk.db", 5, comment="Rất tệ", phone="0912345678")
    sent = wire_responses(tmp_path / "kiosk.db")
    app = central.create_app(load(central_env_for(central_url)), engine)
    assert post(app.test_client(), secret, wire.batch("test-kiosk", sent[:3])).status_code == 200
    with engine.connect() as conn:
        before = conn.execute(text("SELECT id, uuid FROM responses ORDER BY id")).all()
    _back_to_0005(engine)

    assert migrations.migrate(engine) == ["0006_installs"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id, uuid FROM responses ORDER BY id")).all() == before
        assert conn.execute(text("SELECT DISTINCT install_id FROM responses")).scalars().all() == [""]
        assert conn.execute(text("SELECT count(*) FROM cases")).scalar() == 3
    if engine.dialect.name == "sqlite":  # 0006 rebuilt `responses` as it knew it: what 0014 added, again
        roster_step = import_module("sync.central.store.migrations.0014_roster")
        with database.write(engine) as conn:
            for column in ("officer_id", "counter_id"):
                conn.execute(text(f"ALTER TABLE responses ADD COLUMN {column} VARCHAR(36)"))
            conn.execute(text(dict(roster_step.ID_COLUMNS)["responses"]))
    client = app.test_client()
    assert post(client, secret, wire.batch("test-kiosk", sent[3:])).get_json()["accepted"] == 2
    add_responses(tmp_path / "new.db", 2)  # the tablet replaced after the upgrade
    install = {"id": install_id(tmp_path / "new.db"), "from_seq": 1, "parent": None, "head_seq": 2}
    fresh = post(client, secret, wire.batch("test-kiosk", wire_responses(tmp_path / "new.db"), install))
    assert fresh.get_json()["accepted"] == 2
    report = integrity.integrity_report(engine, "test-kiosk")
    assert report["responses"] == 7 and [e["kind"] for e in report["events"]] == ["reinstalled"]
    assert {(s["install_id"], s["responses"]) for s in report["installs"]} == {("", 5), (install["id"], 2)}
    engine.dispose()


def _back_to_0005(engine):
    """Give a current store the shape it had before 0006_installs, keeping its rows."""
    from sqlalchemy import text

    with database.write(engine) as conn:
        conn.execute(text("DROP TABLE installs"))
        conn.execute(text("DELETE FROM schema_migrations WHERE name = '0006_installs'"))
        for table in ("quarantine", "integrity_events"):
            conn.execute(text(f"ALTER TABLE {table} DROP COLUMN install_id"))
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE responses DROP COLUMN install_id"))
            conn.execute(text("ALTER TABLE responses ADD CONSTRAINT responses_kiosk_seq UNIQUE (kiosk_id, seq)"))
            return
        step = import_module("sync.central.store.migrations.0006_installs")
        old = (step.RESPONSES_WITH_INSTALL.replace(", install_id VARCHAR(36) DEFAULT '' NOT NULL", "")
               .replace("responses_chain_seq UNIQUE (kiosk_id, install_id, seq)",
                        "responses_kiosk_seq UNIQUE (kiosk_id, seq)"))
        conn.execute(text("PRAGMA defer_foreign_keys = ON"))
        conn.execute(text("CREATE TEMP TABLE kept AS SELECT * FROM responses"))
        conn.execute(text("DROP TABLE responses"))
        conn.execute(text(old))
        conn.execute(text("INSERT INTO responses SELECT id, uuid, kiosk_id, unit, seq, local_day, started_utc, "
                          "created_utc, utc_offset_minutes, received_utc, questionnaire_version, counter, officer, "
                          "dossier_code, answers, reasons, complete, flags, comment_hash, contact_hash, prev_hash, "
                          "hash, batch_id FROM kept"))
        conn.execute(text("DROP TABLE kept"))
        conn.execute(text("CREATE INDEX responses_day_unit ON responses (local_day, unit)"))


def test_responses_pending_when_the_database_was_copied_stay_in_their_own_chain(live_central, tmp_path):
    first, second = tmp_path / "a" / "kiosk.db", tmp_path / "b" / "kiosk.db"
    add_responses(first, 2)
    live_central.start()
    assert kiosk_sync(env_for(first, live_central), "--once").returncode == 0
    add_responses(first, 2)  # #3 and #4 still pending when the file is copied
    second.parent.mkdir()
    source, copy = sqlite3.connect(first), sqlite3.connect(second)
    source.backup(copy)
    source.close()
    copy.close()
    add_responses(second, 2)  # the copy's own #5 and #6
    result = kiosk_sync(env_for(second, live_central), "--once")
    assert (result.returncode, result.stdout) == (0, delivered(4)), result.stderr
    again = kiosk_sync(env_for(first, live_central), "--once")  # the original sends #3 and #4 too
    assert again.returncode == 0
    assert again.stdout == ("Delivered: 2 response(s) answered for by central (0 accepted, 2 duplicate, "
                            "0 rejected); nothing pending.\n")
    report = api(live_central, "/api/v1/integrity", kiosk="test-kiosk")
    stores = {s["install_id"]: s["responses"] for s in report["installs"]}
    assert stores == {install_id(first): 4, install_id(second): 2}
    assert not events_of(report, "gap", "broken_link", "conflict")
    assert day_count(live_central) == 6
