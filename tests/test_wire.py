"""The batch contract: every field checked for what both stores hold, on SQLite and PostgreSQL.

A malformed row is a 400 naming its place and nothing is written; the rest of
the batch is then delivered. The OpenAPI batch schema and the validator agree.
"""

import copy
import json
import sys
import time

import jsonschema_rs
import pytest

from helpers import add_responses, assert_error, commented_rows, post, stored_counts
from kiosk import chain
from sync.central.store import database, schema
from sync import wire
from sync.central.openapi import OPENAPI


@pytest.fixture
def rows(tmp_path):
    return commented_rows(tmp_path / "kiosk.db", 4)


def rehashed(row, **fields):
    """`row` with fields changed and its hash made again, as a kiosk would have written it."""
    row = copy.deepcopy(row)
    row.update(fields)
    row["hash"] = chain.record_hash(row) if _encodable(row) else "0" * 64
    return row


def _encodable(row):
    try:
        chain.canonical(row)
        return True
    except UnicodeEncodeError:
        return False


def with_private(row, **fields):
    row = copy.deepcopy(row)
    row["private"].update(fields)
    return row


# Each odd row (index 1 of 4): the place the 400 must name.
ODD_ROWS = [
    ("lone surrogate in counter", lambda r: rehashed(r, counter="Q\ud800"), "responses[1].counter"),
    ("seq 2**70", lambda r: rehashed(r, seq=2**70), "responses[1].seq"),
    ("seq just over PostgreSQL's integer", lambda r: rehashed(r, seq=2**31), "responses[1].seq"),
    ("NUL in comment", lambda r: with_private(r, comment="tốt\u0000"), "responses[1].private.comment"),
    ("NUL in dossier code", lambda r: rehashed(r, dossier_code="HS\u00001"), "responses[1].dossier_code"),
    ("escape character in officer", lambda r: rehashed(r, officer="An\x1b[2J"), "responses[1].officer"),
    ("zero-width space in officer", lambda r: rehashed(r, officer="An\u200b"), "responses[1].officer"),
    ("bidi override in counter", lambda r: rehashed(r, counter="3\u202e"), "responses[1].counter"),
    ("lone surrogate in phone", lambda r: with_private(r, phone="09\udc00"), "responses[1].private.phone"),
    ("NUL in an answer code", lambda r: rehashed(r, answers={**r["answers"], "visits": "1\x00"}),
     "responses[1].answers"),
    ("lone surrogate in an answer key", lambda r: rehashed(r, answers={**r["answers"], "\ud83d": 3}),
     "responses[1].answers"),
    ("NUL in a reason", lambda r: rehashed(r, reasons=["slow\x00"]), "responses[1].reasons"),
    ("51 flags", lambda r: rehashed(r, flags=["burst"] * 51), "responses[1].flags"),
    ("questionnaire version with a C1 control", lambda r: rehashed(r, questionnaire_version="2025\x85"),
     "responses[1].questionnaire_version"),
    ("year 9999", lambda r: rehashed(r, created_utc="9999-12-31T23:59:59.000Z"), "responses[1].created_utc"),
    ("complete as 1.0", lambda r: {**r, "complete": 1.0}, "responses[1].complete"),
]


@pytest.mark.parametrize("make, place", [o[1:] for o in ODD_ROWS], ids=[o[0] for o in ODD_ROWS])
def test_an_odd_row_is_a_400_naming_it_and_the_rest_is_then_delivered(
        central_client, central_engine, kiosk_secret, rows, make, place):
    odd = rows[:1] + [make(rows[1])] + rows[2:]
    reply = post(central_client, kiosk_secret, body=json.dumps(wire.batch("test-kiosk", odd)).encode())
    assert_error(reply, 400, place)
    assert all(e.startswith("responses[1].") for e in reply.get_json()["errors"])
    assert stored_counts(central_engine) == (0, 0, 0, 0)
    # What the uploader does next: set the named row aside and send the others.
    rest = post(central_client, kiosk_secret, wire.batch("test-kiosk", rows[:1] + rows[2:])).get_json()
    assert (rest["accepted"], rest["rejected"]) == (3, 0)
    assert stored_counts(central_engine)[:2] == (3, 3)


def _nested(depth):
    return b"[" * depth + b"]" * depth


BAD_BODIES = [
    ("100,000-deep array", lambda rows: _nested(100_000), "nested too deeply"),
    ("100,000-deep array inside a response",
     lambda rows: json.dumps(wire.batch("test-kiosk", rows)).encode().replace(
         b'"flags": []', b'"flags": ' + _nested(100_000), 1), "nested too deeply"),
    ("5,000-digit number", lambda rows: json.dumps(wire.batch("test-kiosk", rows)).encode().replace(
        b'"seq": 2', b'"seq": ' + b"9" * 5000, 1), "responses[1].seq must be a whole number"),
    ("5,000-digit answer", lambda rows: json.dumps(wire.batch("test-kiosk", rows)).encode().replace(
        b'"overall": 4', b'"overall": -' + b"4" * 5000, 1), "responses[0].answers must be"),
    ("5,000-digit list", lambda rows: b'{"responses": -' + b"1" * 5000 + b"}", "responses must be a non-empty"),
    ("NaN", lambda rows: b'{"responses": NaN}', "NaN, which is not JSON"),
    ("Infinity", lambda rows: b'{"responses": [-Infinity]}', "-Infinity, which is not JSON"),
]


@pytest.mark.parametrize("make, fragment", [b[1:] for b in BAD_BODIES], ids=[b[0] for b in BAD_BODIES])
def test_unreadable_bodies_are_400(central_client, central_engine, kiosk_secret, rows, make, fragment):
    for compress in (False, True):
        assert_error(post(central_client, kiosk_secret, body=make(rows), compress=compress), 400, fragment)
    assert stored_counts(central_engine) == (0, 0, 0, 0)


@pytest.mark.parametrize("signature", ["é" * 64, "ünïcødé", "\u00ff", "0" * 63 + "\u00e9"])
def test_a_non_ascii_signature_is_401(central_client, central_engine, kiosk_secret, rows, signature):
    reply = post(central_client, kiosk_secret, wire.batch("test-kiosk", rows),
                 headers={wire.SIGNATURE_HEADER: signature.encode().decode("latin-1")})
    assert_error(reply, 401, "The signature does not match")
    assert stored_counts(central_engine) == (0, 0, 0, 0)


@pytest.mark.parametrize("timestamp", ["１７００００００００", "٣", "1" * 5000, "-5", " 17"])
def test_a_timestamp_not_in_ascii_digits_is_401(central_client, kiosk_secret, rows, timestamp):
    body = json.dumps(wire.batch("test-kiosk", rows)).encode()
    reply = central_client.post("/api/v1/batches", data=body, headers={
        "Content-Type": "application/json", wire.KIOSK_HEADER: "test-kiosk",
        wire.TIMESTAMP_HEADER: timestamp.encode().decode("latin-1"),
        wire.SIGNATURE_HEADER: wire.sign(kiosk_secret, timestamp.encode().decode("latin-1"), body)})
    assert_error(reply, 401, "must be Unix seconds")


def test_what_the_duty_form_lets_in_central_accepts(central_client, central_engine, kiosk_secret, rows):
    """The kiosk's duty form refuses control characters but not tab or line breaks; central agrees."""
    from kiosk.forms import CONTROL
    assert not CONTROL.search("Quầy\t3\nB") and CONTROL.search("\x1b")
    reply = post(central_client, kiosk_secret, wire.batch("test-kiosk", [rehashed(rows[0], counter="Quầy\t3",
                                                                          officer="An\r\nBình")]))
    assert reply.status_code == 200 and reply.get_json()["accepted"] == 1


def test_the_bounds_themselves_are_accepted(central_client, central_engine, kiosk_secret, rows):
    """The largest values the validator allows are stored on both databases."""
    edge = [rehashed(rows[0], counter="Q" * 20, officer="Nguyễn" * 13 + "An", dossier_code="H" * 64,
                     questionnaire_version="v" * 64, reasons=["r" * 32] * 50),
            rehashed(rows[1], seq=wire.SEQ_MAX, counter="Quầy\u00a03", officer=None)]
    edge[1]["private"].update(comment="Dòng 1\nDòng 2\tcuối" + "x" * 970)
    edge[1]["private"]["comment"] = edge[1]["private"]["comment"][:1000]
    edge[1]["comment_hash"] = chain.private_hash(edge[1]["private"]["comment_salt"], edge[1]["private"]["comment"])
    edge[1] = rehashed(edge[1])
    reply = post(central_client, kiosk_secret, wire.batch("test-kiosk", edge))
    assert reply.status_code == 200, reply.get_data(as_text=True)
    assert reply.get_json()["accepted"] == 2, reply.get_json()["results"]
    assert stored_counts(central_engine)[:2] == (2, 2)


# --- the OpenAPI batch schema and the validator agree --------------------------------

def _schema_errors(payload):
    schema = {**OPENAPI["components"]["schemas"]["Batch"], "components": OPENAPI["components"]}
    return list(jsonschema_rs.Draft202012Validator(schema).iter_errors(payload))


def _variants(row):
    """(name, row) pairs at each bound of each field and one step past it."""
    for name, longest in wire.TEXT_MAX.items():
        for length in (longest, longest + 1):
            if name in ("comment", "phone"):
                yield f"{name} of {length}", with_private(row, **{name: "9" * length})
            else:
                yield f"{name} of {length}", {**row, name: "a" * length}
        if name not in ("questionnaire_version",):
            target = {**row, "private": {**row["private"], name: ""}} if name in ("comment", "phone") \
                else {**row, name: ""}
            yield f"{name} empty", target
        for odd in ("\x00", "\n", "\t", "\x85", "\u2066"):
            yield f"{name} with {odd!r}", with_private(row, **{name: "a" + odd}) if name in ("comment", "phone") \
                else {**row, name: "a" + odd}
    for seq in (1, wire.SEQ_MAX, 0, wire.SEQ_MAX + 1):
        yield f"seq {seq}", {**row, "seq": seq}
    for minutes in (-840, 840, -841, 841):
        yield f"offset {minutes}", {**row, "utc_offset_minutes": minutes}
    for count in (wire.ANSWERS_MAX, wire.ANSWERS_MAX + 1):
        yield f"{count} answers", {**row, "answers": {f"q{i}": 3 for i in range(count)}}
    for length in (wire.ANSWER_KEY_MAX, wire.ANSWER_KEY_MAX + 1):
        yield f"answer key of {length}", {**row, "answers": {"k" * length: 3}}
    for length in (wire.ANSWER_TEXT_MAX, wire.ANSWER_TEXT_MAX + 1, 0):
        yield f"answer code of {length}", {**row, "answers": {"visits": "v" * length}}
    for value in (1, 5, 0, 6, True):
        yield f"answer {value}", {**row, "answers": {"overall": value}}
    for field in ("reasons", "flags"):
        for count in (wire.CODES_MAX, wire.CODES_MAX + 1):
            yield f"{count} {field}", {**row, field: ["c"] * count}
        for length in (wire.CODE_MAX, wire.CODE_MAX + 1, 0):
            yield f"{field} code of {length}", {**row, field: ["c" * length]}
    for value in (0, 1, 2, True):
        yield f"complete {value}", {**row, "complete": value}
    for value in ("2026-01-31T08:15:00.000Z", "1999-12-31T23:59:59.000Z", "2026-01-31T08:15:00Z"):
        yield f"created {value}", {**row, "created_utc": value}


def test_the_openapi_batch_schema_and_the_validator_agree(rows):
    row = copy.deepcopy(rows[0])
    verdicts = []
    for name, variant in _variants(row):
        payload = wire.batch("test-kiosk", [variant])
        by_validator = wire.batch_problems(payload, 1000) == []
        by_schema = _schema_errors(payload) == []
        assert by_validator == by_schema, f"{name}: validator {by_validator}, schema {by_schema}"
        verdicts.append(by_validator)
    assert verdicts.count(True) > 20 and verdicts.count(False) > 30
    assert wire.batch_problems(wire.batch("test-kiosk", [row]), 1000) == [] and _schema_errors(
        wire.batch("test-kiosk", [row])) == []


def test_the_served_schema_counts_responses_as_central_is_configured(central_client):
    schema = central_client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["Batch"]
    assert schema["properties"]["responses"]["maxItems"] == 5000



# --- what reaches central's log ------------------------------------------------------

@pytest.mark.slow
def test_no_phone_or_comment_reaches_centrals_log_on_a_real_fault(live_central, rows, tmp_path):
    """A genuine database fault (a table gone) is a 500; its logged error hides the parameters."""
    import subprocess
    from pathlib import Path

    import requests
    from sqlalchemy import text

    from conftest import wait_until_healthy

    log_path = tmp_path / "central.log"
    with open(log_path, "w") as log:
        live_central.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "central"), "run", "--port", str(live_central.port)],
            env=live_central.env, stdout=log, stderr=subprocess.STDOUT)
    wait_until_healthy(live_central, "central run")
    engine = database.engine_for(live_central.env.get("DATABASE_URL") or "sqlite:///" + live_central.env["CENTRAL_DB"])
    with database.write(engine) as conn:
        conn.execute(text("ALTER TABLE response_private RENAME TO response_private_gone"))
    engine.dispose()
    body = json.dumps(wire.batch("test-kiosk", rows), ensure_ascii=False).encode()
    timestamp = str(int(time.time()))
    reply = requests.post(live_central.url + "/api/v1/batches", data=body, timeout=30, headers={
        "Content-Type": "application/json", wire.KIOSK_HEADER: "test-kiosk", wire.TIMESTAMP_HEADER: timestamp,
        wire.SIGNATURE_HEADER: wire.sign(live_central.secret, timestamp, body)})
    assert reply.status_code == 500
    live_central.stop()
    logged = log_path.read_text()
    assert "response_private" in logged and "parameters hidden" in logged  # the fault itself is logged
    for secret in ("0912345678", "Rất tốt", rows[0]["private"]["phone_salt"], rows[0]["uuid"]):
        assert secret not in logged


@pytest.mark.slow
def test_the_uploader_sets_an_odd_row_aside_and_delivers_the_ones_after_it(live_central, tmp_path):
    from conftest import kiosk_sync
    from kiosk import store

    db_path = tmp_path / "odd-kiosk.db"
    add_responses(db_path, 2)
    add_responses(db_path, 1, comment="tốt\x00", phone="0912345678")  # past the forms: a NUL in the comment
    add_responses(db_path, 2)
    live_central.start()
    env = {"KIOSK_DB": str(db_path), "KIOSK_ID": "test-kiosk", "KIOSK_SECRET": live_central.secret,
           "CENTRAL_URL": live_central.url}
    kiosk_sync(env, "--once")
    report = requests_get(live_central, "/api/v1/integrity?kiosk=test-kiosk")
    assert (report["responses"], report["highest_seq"]) == (4, 5)
    assert [(e["kind"], e["seq_from"]) for e in report["events"]] == [("gap", 3)]
    db = store.connect(db_path)
    try:
        acks = dict(db.execute("SELECT seq, status FROM sync_acks").fetchall())
        reason = db.execute("SELECT reason FROM sync_acks WHERE seq = 3").fetchone()[0]
    finally:
        db.close()
    assert acks == {1: "accepted", 2: "accepted", 3: "rejected", 4: "accepted", 5: "accepted"}
    assert "responses[2].private.comment must be text" in reason


def requests_get(central, path):
    import requests
    return requests.get(central.url + path, headers={"Authorization": f"Bearer {central.token}"}, timeout=10).json()


def test_a_row_the_store_itself_refuses_is_quarantined_alone(central_client, central_engine, kiosk_secret, rows):
    """Fault injection: the database refuses one well-formed row; the others are stored, that one held."""
    from sqlalchemy import text

    with database.write(central_engine) as conn:
        if central_engine.dialect.name == "sqlite":
            conn.execute(text("CREATE TRIGGER refuse_q9 BEFORE INSERT ON responses WHEN NEW.counter = 'Q9' "
                              "BEGIN SELECT RAISE(ABORT, 'refused'); END"))
        else:
            conn.execute(text("ALTER TABLE responses ADD CONSTRAINT refuse_q9 CHECK (counter <> 'Q9')"))
    odd = rows[:1] + [rehashed(rows[1], counter="Q9")] + rows[2:]
    reply = post(central_client, kiosk_secret, wire.batch("test-kiosk", odd))
    assert reply.status_code == 200, reply.get_data(as_text=True)
    body = reply.get_json()
    assert (body["accepted"], body["rejected"]) == (3, 1)
    assert body["results"][1]["status"] == "rejected"
    assert body["results"][1]["reason"].startswith("central's store refused it (")
    assert stored_counts(central_engine)[:3] == (3, 3, 1)
    with central_engine.connect() as conn:
        held = conn.execute(schema.quarantine.select()).mappings().one()
    assert held["seq"] == 2 and json.loads(held["payload"])["private"]["phone"] == "0912345678"
    again = post(central_client, kiosk_secret, wire.batch("test-kiosk", rows[2:])).get_json()
    assert (again["accepted"], again["duplicate"]) == (0, 2)
