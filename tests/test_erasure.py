"""Erasure everywhere: the kiosk's own copy, central's quarantine, and central's erasures sent to the kiosk.

Every test also proves the chain and the figures stay intact (`kiosk verify`,
the integrity API, the summary).
"""

import copy
import json
import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from conftest import kiosk_sync
from helpers import add_responses, post, today, wire_responses
from kiosk import store
from kiosk.clock import now_utc, utc_iso
from sync.central.store import accounts, database, migrations, schema
from sync import wire
from sync.central import erasure

PHONE = "0912345678"


def kiosk_cli(env, *args):
    return subprocess.run([sys.executable, "-m", "kiosk", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=60)


def phones(db_path):
    with store.connect(db_path) as db:
        return dict(db.execute("SELECT r.uuid, p.phone FROM responses r JOIN response_private p ON p.seq = r.seq "
                               "ORDER BY r.seq").fetchall())


def comments(db_path):
    with store.connect(db_path) as db:
        return [row[0] for row in db.execute("SELECT comment FROM response_private ORDER BY seq")]


# --- on the kiosk --------------------------------------------------------------------

def test_kiosk_erase_contact_erases_one_phone_and_the_chain_still_verifies(kiosk_env):
    db_path = kiosk_env["KIOSK_DB"]
    add_responses(db_path, 3, comment="Góp ý", phone=PHONE)
    uuids = list(phones(db_path))
    done = kiosk_cli(kiosk_env, "erase-contact", uuids[1])
    assert done.returncode == 0 and done.stdout == f"Erased the phone number of response {uuids[1]}.\n"
    assert list(phones(db_path).values()) == [PHONE, None, PHONE]
    assert comments(db_path) == ["Góp ý"] * 3  # only the contact goes
    again = kiosk_cli(kiosk_env, "erase-contact", uuids[1])
    assert again.stdout == f"Response {uuids[1]} has no phone number to erase.\n"
    unknown = kiosk_cli(kiosk_env, "erase-contact", "00000000-0000-4000-8000-000000000000")
    assert unknown.returncode == 1 and "No response '00000000-0000-4000-8000-000000000000'" in unknown.stderr
    assert kiosk_cli(kiosk_env, "erase-contact").stderr.strip() == "Error: Give either a response UUID or --expired."
    verified = kiosk_cli(kiosk_env, "verify")
    assert verified.returncode == 0 and verified.stdout == "OK: 3 responses, sequence and hash chain intact.\n"


def test_kiosk_retention_erases_phones_older_than_kiosk_contact_days(kiosk_env):
    db_path = kiosk_env["KIOSK_DB"]
    add_responses(db_path, 2, phone=PHONE, now=now_utc() - timedelta(days=91))
    add_responses(db_path, 1, phone=PHONE, now=now_utc() - timedelta(days=89))
    done = kiosk_cli(kiosk_env, "erase-contact", "--expired")
    assert done.stdout == "Erased 2 phone number(s) given more than 90 days ago.\n"
    assert list(phones(db_path).values()) == [None, None, PHONE]
    shorter = kiosk_cli({**kiosk_env, "KIOSK_CONTACT_DAYS": "30"}, "erase-contact", "--expired")
    assert shorter.stdout == "Erased 1 phone number(s) given more than 30 days ago.\n"
    assert kiosk_cli(kiosk_env, "verify").returncode == 0


@pytest.mark.slow
def test_kiosk_run_applies_retention_by_itself(kiosk_env, live_kiosk):
    add_responses(kiosk_env["KIOSK_DB"], 1, phone=PHONE, now=now_utc() - timedelta(days=120))
    add_responses(kiosk_env["KIOSK_DB"], 1, phone=PHONE)
    live_kiosk()
    deadline = time.monotonic() + 15
    while list(phones(kiosk_env["KIOSK_DB"]).values()) != [None, PHONE] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert list(phones(kiosk_env["KIOSK_DB"]).values()) == [None, PHONE]


# --- at central: quarantine ----------------------------------------------------------

@pytest.fixture
def quarantined(central_app, central_engine, tmp_path):
    """An altered response with a phone number, held in quarantine; a good one stored."""
    secret = accounts.add_kiosk(central_engine, "test-kiosk", "Sở Xây dựng")
    add_responses(tmp_path / "kiosk.db", 2, comment="Chậm", phone=PHONE)
    rows = wire_responses(tmp_path / "kiosk.db")
    altered = copy.deepcopy(rows[1])
    altered["answers"]["overall"] = 1
    client = central_app.test_client()
    reply = post(client, secret, wire.batch("test-kiosk", [rows[0], altered])).get_json()
    assert (reply["accepted"], reply["rejected"], reply["erased"]) == (1, 1, [])
    client.secret, client.rows = secret, rows
    return client


def held_payloads(engine):
    with engine.connect() as conn:
        return [(json.loads(row.payload), row.erased_utc)
                for row in conn.execute(select(schema.quarantine.c.payload, schema.quarantine.c.erased_utc))]


def test_erase_contact_reaches_quarantine_and_is_sent_to_the_kiosk(quarantined, central_engine, central_url):
    from conftest import central_env_for
    from helpers import invoke

    uuid = quarantined.rows[1]["uuid"]
    assert held_payloads(central_engine)[0][0]["private"]["phone"] == PHONE
    result = invoke(["erase-contact", uuid], central_env_for(central_url))
    assert result.exit_code == 0 and result.output.startswith(f"Erased the phone number of response {uuid};")
    [(payload, erased_utc)] = held_payloads(central_engine)
    assert payload["private"]["phone"] is None and payload["private"]["phone_salt"] is None and erased_utc
    assert payload["private"]["comment"] == "Chậm" and PHONE not in json.dumps(payload)
    assert erasure.erase_contact(central_engine, uuid, now_utc()) is False  # nothing left; the kiosk told again
    def answer():
        return post(quarantined, quarantined.secret, wire.batch("test-kiosk", quarantined.rows[:1])).get_json()

    # Answers can be lost and the kiosk confirms nothing: every answer carries the erasure ...
    assert [answer()["erased"] for _ in range(7)] == [[uuid]] * 7
    with database.write(central_engine) as conn:  # ... until the kiosk's own retention has erased it anyway
        conn.execute(schema.erasure_notices.update().values(erased_utc=utc_iso(now_utc() - timedelta(days=91))))
    assert answer()["erased"] == []
    with pytest.raises(schema.CentralStoreError, match="is stored or quarantined"):
        erasure.erase_contact(central_engine, "00000000-0000-4000-8000-000000000000", now_utc())


def test_quarantine_keeps_no_phone_past_retention(quarantined, central_engine):
    assert erasure.erase_expired_contacts(central_engine, now_utc(), 90) == 0  # held today: kept
    with database.write(central_engine) as conn:
        conn.execute(schema.quarantine.update().values(received_utc=utc_iso(now_utc() - timedelta(days=91))))
    assert erasure.erase_expired_contacts(central_engine, now_utc(), 90) == 1
    [(payload, erased_utc)] = held_payloads(central_engine)
    assert payload["private"]["phone"] is None and erased_utc
    assert erasure.erase_expired_contacts(central_engine, now_utc(), 90) == 0  # visited once
    answer = post(quarantined, quarantined.secret, wire.batch("test-kiosk", quarantined.rows[:1])).get_json()
    assert answer["erased"] == [quarantined.rows[1]["uuid"]]


# --- from central to the kiosk, with real processes ----------------------------------

@pytest.mark.slow
def test_centrals_erasure_reaches_the_kiosk_and_every_figure_stays(live_central, tmp_path):
    db_path = tmp_path / "kiosk.db"
    add_responses(db_path, 3, comment="Góp ý", phone=PHONE)
    live_central.start()
    env = {"KIOSK_DB": str(db_path), "KIOSK_ID": "test-kiosk", "KIOSK_SECRET": live_central.secret,
           "CENTRAL_URL": live_central.url}
    assert kiosk_sync(env, "--once").returncode == 0
    auth = {"Authorization": f"Bearer {live_central.token}"}
    before = requests.get(f"{live_central.url}/api/v1/summary?date={today()}", headers=auth, timeout=10).json()
    uuid = list(phones(db_path))[1]
    erased = live_central.cli("erase-contact", uuid)
    assert erased.returncode == 0 and "Erased the phone number of response" in erased.stdout
    add_responses(db_path, 1)  # the next sync answer carries the erasure
    assert kiosk_sync(env, "--once").returncode == 0
    assert list(phones(db_path).values()) == [PHONE, None, PHONE]
    assert comments(db_path) == ["Góp ý"] * 3
    verified = kiosk_cli(env, "verify")
    assert verified.returncode == 0 and verified.stdout == "OK: 4 responses, sequence and hash chain intact.\n"
    report = requests.get(f"{live_central.url}/api/v1/integrity?kiosk=test-kiosk", headers=auth, timeout=10).json()
    assert (report["responses"], report["highest_seq"], report["quarantined"], report["events"]) == (4, 4, 0, [])
    after = requests.get(f"{live_central.url}/api/v1/summary?date={today()}", headers=auth, timeout=10).json()
    assert after["responses"] == before["responses"] + 1 == 4


def test_0007_upgrades_a_store_made_before_it(central_engine):
    """An existing store at 0005, quarantine without erased_utc: 0007 adds it and erasure works."""
    from sqlalchemy import text

    with database.write(central_engine) as conn:  # back to the store as 0005 left it
        conn.execute(text("DROP TABLE erasure_notices"))
        conn.execute(text("ALTER TABLE quarantine DROP COLUMN erased_utc"))
        conn.execute(text("DELETE FROM schema_migrations WHERE name = '0007_quarantine_erasure'"))
        conn.execute(text("INSERT INTO quarantine (kiosk_id, batch_id, seq, uuid, reason, payload, received_utc) "
                          "VALUES ('k-1', :b, 2, :u, 'altered', :p, '2026-01-01T00:00:00.000Z')"),
                     {"b": "00000000-0000-4000-8000-00000000000b", "u": "00000000-0000-4000-8000-00000000000a",
                      "p": json.dumps({"private": {"phone": PHONE, "phone_salt": "ab" * 16}})})
    assert migrations.pending_migrations(central_engine) == ["0007_quarantine_erasure"]
    assert migrations.migrate(central_engine) == ["0007_quarantine_erasure"]
    assert erasure.erase_expired_contacts(central_engine, now_utc(), 90) == 1
    [(payload, erased_utc)] = held_payloads(central_engine)
    assert payload["private"]["phone"] is None and erased_utc
    assert erasure.erasures_for(central_engine, "k-1", now_utc(), 90) == ["00000000-0000-4000-8000-00000000000a"]
