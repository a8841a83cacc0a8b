"""Ingest's write path (one statement per table, response ids given up front, COPY on PostgreSQL)
stores every value as the reference encoding says, on SQLite and PostgreSQL: the response rows, their
erasable part, the cases they open and the day tallies, to the character."""

import unicodedata
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from helpers import UNIT, post
from kiosk import chain, indices
from kiosk.clock import local_today, now_utc, parse_utc, utc_iso
from kiosk.text import nfc
from sync import wire
from sync.central.cases import why
from sync.central.store import schema

KIOSK = "test-kiosk"


def varied_responses(count):
    """`count` chained wire responses that differ in every way a stored value can: decomposed
    (NFD) officer names, roster ids or none, comments and phone numbers, dossiers, reasons, flags, "na" answers."""
    start, prev, responses = now_utc() - timedelta(days=2), chain.GENESIS_HASH, []
    for seq in range(1, count + 1):
        moment = utc_iso(start + timedelta(hours=seq * 5))
        private = comment_hash = contact_hash = None
        if seq % 3 == 0:
            private = {"comment": "Rất tốt\nnhưng hơi chậm", "comment_salt": chain.new_salt(),
                       "phone": "0912345678", "phone_salt": chain.new_salt(), "consent_utc": moment}
            comment_hash = chain.private_hash(private["comment_salt"], private["comment"])
            contact_hash = chain.private_hash(private["phone_salt"], private["phone"])
        record = {"seq": seq, "uuid": str(uuid.uuid4()), "kiosk_id": KIOSK, "started_utc": moment,
                  "created_utc": moment, "utc_offset_minutes": 420, "questionnaire_version": "2025.1",
                  "counter": None if seq % 5 == 1 else f"Quầy {seq % 2}",
                  "officer": unicodedata.normalize("NFD", "Nguyễn Thị Ánh") if seq % 2 else "Lê Văn Bình",
                  "dossier_code": f"HS-{seq:03d}" if seq % 4 == 0 else None,
                  "answers": {"overall": seq % 5 + 1, "guidance": 5 - seq % 5, "timeliness": "na",
                              "extra_request": "yes" if seq % 6 == 0 else "no", "visits": "2"},
                  "reasons": ["slow", "rude"] if seq % 2 else [], "complete": seq % 7 != 0,
                  "flags": ["too_fast"] if seq % 7 == 0 else [], "comment_hash": comment_hash,
                  "contact_hash": contact_hash, "prev_hash": prev}
        record["complete"] = int(record["complete"])
        if seq % 9 == 3:  # rated well: with a comment, a compliment (#12), or a case for its reason chips (#3, #21)
            record["answers"].update(overall=5, guidance=4, extra_request="no")
        if seq % 2:  # the roster's ids (issue 13): given, null, or absent as from a kiosk before the roster
            record.update(officer_id="cb-0a1b2c3d", counter_id=None if record["counter"] is None else "Q.1")
        elif seq % 4 == 0:
            record.update(officer_id=None, counter_id=None)
        record["hash"] = prev = chain.record_hash(record)
        responses.append({**record, "private": private})
    return responses


def expected_row(response, response_id, batch_id, received):
    row = {name: response[name] for name in chain.CHAINED_FIELDS}
    row.update({name: chain.CANONICAL_JSON.encode(response[name]) for name in ("answers", "reasons", "flags")})
    row.update(id=response_id, counter=nfc(response["counter"]), officer=nfc(response["officer"]),
               hash=response["hash"], unit=UNIT, local_day=local_today(parse_utc(response["created_utc"])).isoformat(),
               received_utc=received, batch_id=batch_id, install_id="",
               officer_id=response.get("officer_id"), counter_id=response.get("counter_id"))
    return row


def _all(conn, table):
    return [dict(row) for row in conn.execute(select(table).order_by(*table.primary_key.columns)).mappings()]


@pytest.mark.parametrize("second_from", [9, 4], ids=["every response new", "some already stored"])
def test_every_stored_value_is_the_reference_encoding(central_client, central_engine, kiosk_secret, second_from):
    """The same rows whether every response of a batch is new (what the checking worker counted holds) or the
    batch repeats responses already stored (the rest are counted again, in the request)."""
    responses = varied_responses(23)
    batches = [wire.batch(KIOSK, responses[:9]), wire.batch(KIOSK, responses[second_from:])]
    for payload, new in zip(batches, (9, 23 - 9), strict=True):
        reply = post(central_client, kiosk_secret, payload, compress=True).get_json()
        assert (reply["accepted"], reply["duplicate"]) == (new, len(payload["responses"]) - new)
    again = post(central_client, kiosk_secret, batches[1]).get_json()
    assert again["duplicate"] == len(batches[1]["responses"])

    with central_engine.connect() as conn:
        stored = _all(conn, schema.responses)
        privates, cases = _all(conn, schema.response_private), _all(conn, schema.cases)
        day_tallies, unit_tallies = _all(conn, schema.day_tallies), _all(conn, schema.unit_day_tallies)
        compliments = _all(conn, schema.compliments)
    batch_of = {r["uuid"]: payload["batch_id"] for payload in reversed(batches) for r in payload["responses"]}
    received = {row["uuid"]: row["received_utc"] for row in stored}
    assert stored == [expected_row(r, i, batch_of[r["uuid"]], received[r["uuid"]])
                      for i, r in enumerate(responses, start=1)]
    ids = {row["uuid"]: row["id"] for row in stored}

    assert privates == [{"response_id": ids[r["uuid"]], **r["private"], "erased_utc": None}
                        for r in responses if r["private"]]
    assert [(case["response_id"], case["why"], case["officer"], case["officer_id"], case["local_day"],
             case["status"], case["opened_utc"]) for case in cases] == [
        (ids[r["uuid"]], ",".join(why(r["answers"], r["comment_hash"] is not None, r["reasons"])), nfc(r["officer"]),
         r.get("officer_id"),
         local_today(parse_utc(r["created_utc"])).isoformat(), "new", received[r["uuid"]])
        for r in responses if why(r["answers"], r["comment_hash"] is not None, r["reasons"])]
    assert [(c["response_id"], c["officer"], c["started_utc"]) for c in compliments] == [
        (ids[r["uuid"]], nfc(r["officer"]), r["created_utc"]) for r in responses
        if r["comment_hash"] is not None and not why(r["answers"], True, r["reasons"])]

    for rows, key_columns in ((day_tallies, ("local_day", "unit", "kiosk_id", "counter", "counter_id", "officer",
                                             "officer_id")),
                              (unit_tallies, ("local_day", "unit"))):
        expected = {}
        for r in responses:
            decoded = {**r, "counter": nfc(r["counter"]), "officer": nfc(r["officer"]), "unit": UNIT,
                       "local_day": local_today(parse_utc(r["created_utc"])).isoformat(),
                       "has_comment": r["comment_hash"] is not None}
            key = (*[decoded.get(name) or "" for name in key_columns], int(bool(r["flags"])))
            expected.setdefault(key, Counter()).update(indices.tally(decoded))
        assert {(*[row[name] for name in key_columns], row["flagged"]): row["tally"] for row in rows} == \
            {key: indices.tally_json(facts) for key, facts in expected.items()}
