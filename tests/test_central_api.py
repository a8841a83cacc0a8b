"""Central's HTTP API in-process, on SQLite and PostgreSQL: ingest verdicts, bad input, reading."""

import copy
import gzip
import json
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from helpers import (UNIT, add_responses, assert_error, bulk_responses, commented_rows, post, stored_counts,
                     wire_responses)
from kiosk import chain, settings
from kiosk.clock import LOCAL_TZ
from sync.central.store import accounts, schema
from sync import wire

@pytest.fixture
def token(central_engine):
    return accounts.add_token(central_engine, "tests")


@pytest.fixture
def responses(tmp_path):
    return commented_rows(tmp_path / "kiosk.db", 10)


def test_a_batch_is_accepted_then_its_repeat_is_all_duplicates(central_client, central_engine, kiosk_secret, responses):
    payload = wire.batch("test-kiosk", responses)
    first = post(central_client, kiosk_secret, payload).get_json()
    assert (first["accepted"], first["duplicate"], first["rejected"]) == (10, 0, 0)
    assert [r["seq"] for r in first["results"]] == list(range(1, 11))
    again = post(central_client, kiosk_secret, payload).get_json()
    assert (again["accepted"], again["duplicate"]) == (0, 10)
    assert stored_counts(central_engine) == (10, 10, 0, 0)


@pytest.mark.parametrize("batch_id", ["\ud800", "\udfff", "not-a-uuid"])
def test_a_batch_id_that_is_no_uuid_is_a_signed_400(central_client, kiosk_secret, responses, batch_id):
    body = json.dumps({"kiosk_id": "test-kiosk", "batch_id": batch_id, "responses": responses}).encode()
    reply = post(central_client, kiosk_secret, body=body)
    assert reply.status_code == 400 and "batch_id" in reply.get_json()["error"]
    assert wire.answer_signature_matches(kiosk_secret, "", reply.get_data(), reply.headers["X-Central-Signature"])


def test_gzip_bodies_are_accepted(central_client, central_engine, kiosk_secret, responses):
    reply = post(central_client, kiosk_secret, wire.batch("test-kiosk", responses), compress=True)
    assert reply.get_json()["accepted"] == 10


def test_batches_out_of_order_show_a_gap_until_it_is_filled(central_client, central_engine, kiosk_secret, responses,
                                                           token):
    post(central_client, kiosk_secret, wire.batch("test-kiosk", responses[5:]))
    auth = {"Authorization": f"Bearer {token}"}
    events = central_client.get("/api/v1/integrity?kiosk=test-kiosk", headers=auth).get_json()["events"]
    assert events == [{"kind": "gap", "install_id": "", "seq_from": 1, "seq_to": 5,
                       "detail": "Responses #1–#5 have not been received."}]
    post(central_client, kiosk_secret, wire.batch("test-kiosk", responses[:5]))
    report = central_client.get("/api/v1/integrity?kiosk=test-kiosk", headers=auth).get_json()
    assert report["events"] == [] and report["responses"] == 10 and report["highest_seq"] == 10


def test_an_altered_response_is_quarantined_and_does_not_hold_back_the_rest(
        central_client, central_engine, kiosk_secret, responses, token):
    responses[3]["answers"]["overall"] = 1  # edited after it was chained
    reply = post(central_client, kiosk_secret, wire.batch("test-kiosk", responses)).get_json()
    assert (reply["accepted"], reply["rejected"]) == (9, 1)
    assert reply["results"][3] == {"uuid": responses[3]["uuid"], "seq": 4, "status": "rejected",
                                   "reason": "its content does not match its hash (altered)"}
    events = central_client.get("/api/v1/integrity?kiosk=test-kiosk",
                        headers={"Authorization": f"Bearer {token}"}).get_json()["events"]
    kinds = [(e["kind"], e["seq_from"], e["seq_to"]) for e in events]
    assert ("altered", 4, 4) in kinds and ("gap", 4, 4) in kinds
    with central_engine.connect() as conn:
        held = conn.execute(select(schema.quarantine)).mappings().one()
    assert held["seq"] == 4 and json.loads(held["payload"])["answers"]["overall"] == 1


def test_an_altered_comment_is_rejected(central_client, kiosk_secret, responses):
    responses[0]["private"]["comment"] = "Rất tệ"
    verdict = post(central_client, kiosk_secret, wire.batch("test-kiosk", responses[:1])).get_json()["results"][0]
    assert verdict["reason"] == "its comment does not match the hash in the chain (altered)"


def test_a_uuid_stored_under_another_number_is_a_conflict_and_the_rest_of_its_batch_is_stored(
        central_client, central_engine, kiosk_secret, responses):
    """A response whose UUID central holds under another sequence number (a kiosk never sends one: forged or
    misfiled) is refused as a conflict, and the others of its batch are stored as ever."""
    post(central_client, kiosk_secret, wire.batch("test-kiosk", responses[:1]))
    forged = copy.deepcopy(responses[2])
    forged["uuid"] = responses[0]["uuid"]
    forged["hash"] = chain.record_hash(forged)
    batch = wire.batch("test-kiosk", [responses[1], forged, responses[3]])
    reply = post(central_client, kiosk_secret, batch).get_json()
    assert [(r["seq"], r["status"], r.get("reason")) for r in reply["results"]] == [
        (2, "accepted", None), (3, "rejected", "conflict: another response with this UUID is already stored"),
        (4, "accepted", None)]
    assert stored_counts(central_engine)[0] == 3


def test_same_uuid_with_other_content_is_a_conflict(central_client, central_engine, kiosk_secret, responses):
    post(central_client, kiosk_secret, wire.batch("test-kiosk", responses[:1]))
    forged = copy.deepcopy(responses[0])
    forged["answers"]["overall"] = 1
    forged["hash"] = chain.record_hash(forged)
    verdict = post(central_client, kiosk_secret, wire.batch("test-kiosk", [forged])).get_json()["results"][0]
    assert verdict["status"] == "rejected"
    assert verdict["reason"] == "conflict: another response with this UUID is already stored"
    assert stored_counts(central_engine)[:3] == (1, 1, 1)


def test_a_kiosk_clock_far_off_is_recorded(central_client, central_engine, kiosk_secret, responses, token):
    post(central_client, kiosk_secret, wire.batch("test-kiosk", responses[:1]), timestamp=int(time.time()) - 200)
    events = central_client.get("/api/v1/integrity?kiosk=test-kiosk",
                        headers={"Authorization": f"Bearer {token}"}).get_json()["events"]
    assert events[0]["kind"] == "clock_skew" and "behind central's" in events[0]["detail"]


def _wrong_types(responses):
    payload = wire.batch("test-kiosk", responses[:2])
    payload["responses"][0]["seq"] = "one"
    payload["responses"][1]["answers"] = {"overall": 9}
    return payload


BAD = [
    # (name, how to send, status, message fragment)
    ("wrong signature", lambda c, s, r: post(c, "0" * 64, wire.batch("test-kiosk", r)), 401,
     "The signature does not match"),
    ("stale timestamp", lambda c, s, r: post(c, s, wire.batch("test-kiosk", r), timestamp=int(time.time()) - 301),
     401, "refused as a possible replay"),
    ("future timestamp", lambda c, s, r: post(c, s, wire.batch("test-kiosk", r), timestamp=int(time.time()) + 3600),
     401, "refused as a possible replay"),
    ("unknown kiosk", lambda c, s, r: post(c, s, wire.batch("ghost", r), kiosk="ghost"), 401, "Unknown kiosk 'ghost'"),
    ("no signature", lambda c, s, r: c.post("/api/v1/batches", json=wire.batch("test-kiosk", r)), 401, "Unknown kiosk"),
    ("malformed JSON", lambda c, s, r: post(c, s, body=b'{"kiosk_id": '), 400, "The body is not valid JSON"),
    ("not UTF-8", lambda c, s, r: post(c, s, body=b'{"kiosk_id": "\xff\xfe"}'), 400, "The body is not UTF-8."),
    ("wrong types", lambda c, s, r: post(c, s, _wrong_types(r)), 400,
     "responses[0].seq must be a whole number from 1 to 2147483647; "
     "responses[1].answers must be an object of at most 50 answers"),
    ("not an object", lambda c, s, r: post(c, s, [1, 2]), 400, "The body must be a JSON object."),
    # Found by schemathesis: a repeated sequence number once crashed the validator.
    ("sequence out of order", lambda c, s, r: post(c, s, wire.batch("test-kiosk", [r[1], r[0]])), 400,
     "responses[1].seq must be greater than the one before it (sequence order)"),
    ("impossible date", lambda c, s, r: post(c, s, wire.batch("test-kiosk", [
        {**r[0], "created_utc": "2026-02-30T00:00:00.000Z"}])), 400,
     "responses[0].created_utc must be a UTC time like"),
    ("unknown field", lambda c, s, r: post(c, s, {**wire.batch("test-kiosk", r), "extra": 1}), 400,
     "extra is not a known field"),
    ("another kiosk's responses", lambda c, s, r: post(c, s, wire.batch("test-kiosk", [
        {**r[0], "kiosk_id": "other"}])), 403, "may post only its own responses"),
    ("bad gzip", lambda c, s, r: post(c, s, body=b"not gzip", headers={"Content-Encoding": "gzip"}), 400,
     "not valid gzip"),
    # Found by an attack on issue 11's work: a gzip body cut short (its checksum never reached) was read as whole.
    ("gzip cut short", lambda c, s, r: post(c, s, body=gzip.compress(json.dumps(wire.batch("test-kiosk", r)).encode())
                                            [:-6], headers={"Content-Encoding": "gzip"}), 400, "not valid gzip"),
    ("unknown encoding", lambda c, s, r: post(c, s, wire.batch("test-kiosk", r), headers={"Content-Encoding": "br"}),
     415, "Content-Encoding 'br' is not supported"),
    ("oversize body", lambda c, s, r: post(c, s, body=b" " * 5_000_001), 413, "larger than 5000000 bytes"),
    ("10,000 responses", lambda c, s, r: post(c, s, wire.batch("test-kiosk", r * 1000), compress=True), 413,
     "responses has 10000 items; at most 5000 per batch"),
    ("gzip bomb", lambda c, s, r: post(c, s, body=gzip.compress(b" " * 30_000_000), headers={
        "Content-Encoding": "gzip"}), 413, "inflates to more than"),
]


@pytest.mark.parametrize("send, status, fragment", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_is_a_4xx_json_error_and_writes_nothing(central_client, central_engine, kiosk_secret, responses,
                                                          send, status, fragment):
    before = stored_counts(central_engine)
    assert_error(send(central_client, kiosk_secret, responses), status, fragment)
    assert stored_counts(central_engine) == before == (0, 0, 0, 0)


def test_central_takes_5000_by_default_and_answers_more_with_max_responses(central_client, central_engine,
                                                                          kiosk_secret, tmp_path):
    """Central's default limit (CENTRAL_MAX_BATCH unset): 5,000 responses in one batch are stored; 5,001 are a
    413 with the limit as a number beside the unchanged words."""
    bulk_responses(tmp_path / "k.db", 5001, mix="typical")
    rows = wire_responses(tmp_path / "k.db")
    reply = post(central_client, kiosk_secret, wire.batch("test-kiosk", rows), compress=True)
    body = reply.get_json()
    assert reply.status_code == 413
    assert body["max_responses"] == settings.get("CENTRAL_MAX_BATCH").default == 5000
    assert list(body) == ["ok", "error", "errors", "status", "details", "max_responses"]
    assert body["error"] == "responses has 5001 items; at most 5000 per batch" and body["status"] == 413
    assert body["details"] == [{"index": None, "field": "responses", "message": body["error"]}]
    assert stored_counts(central_engine) == (0, 0, 0, 0)
    fits = post(central_client, kiosk_secret, wire.batch("test-kiosk", rows[:5000]), compress=True)
    assert fits.status_code == 200 and fits.get_json()["accepted"] == 5000
    assert stored_counts(central_engine)[0] == 5000


def test_summary_counts_the_day_in_ho_chi_minh_time(central_client, kiosk_secret, token, tmp_path):
    # 23:59 on 1 March in Hà Nội is 16:59 UTC; 17:00 UTC is already 2 March.
    add_responses(tmp_path / "k.db", 2, now=datetime(2026, 3, 1, 16, 59, tzinfo=timezone.utc),
                  answers={"overall": 5, "attitude": 2})
    add_responses(tmp_path / "k.db", 1, now=datetime(2026, 3, 1, 17, 0, tzinfo=timezone.utc),
                  answers={"overall": 3, "visits": "2"})
    batch = wire.batch("test-kiosk", wire_responses(tmp_path / "k.db"))
    timestamp = int(time.time())
    assert post(central_client, kiosk_secret, batch, timestamp=timestamp).status_code == 200
    auth = {"Authorization": f"Bearer {token}"}
    first = central_client.get("/api/v1/summary?date=2026-03-01", headers=auth).get_json()
    assert first["responses"] == 2
    assert first["questions"]["overall"] == {"answered": 2, "distribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 2},
                                             "mean": 5.0, "satisfied_pct": 100.0}
    assert first["questions"]["attitude"]["satisfied_pct"] == 0.0
    second = central_client.get("/api/v1/summary?date=2026-03-02&unit=" + UNIT, headers=auth).get_json()
    assert second["responses"] == 1 and second["choices"] == {"visits": {"2": 1}}
    assert "attitude" not in second["questions"]  # skipped questions are not counted as answered
    other = central_client.get("/api/v1/summary?date=2026-03-02&kiosk=nobody", headers=auth).get_json()
    assert other["responses"] == 0


def test_summary_leaves_flagged_responses_out_unless_asked(central_client, kiosk_secret, token, tmp_path):
    add_responses(tmp_path / "k.db", 3, flagged=True)  # made in no time: flagged too_fast
    add_responses(tmp_path / "k.db", 1)
    post(central_client, kiosk_secret, wire.batch("test-kiosk", wire_responses(tmp_path / "k.db")))
    auth = {"Authorization": f"Bearer {token}"}
    day = datetime.now(timezone.utc).astimezone(LOCAL_TZ).date().isoformat()
    default = central_client.get(f"/api/v1/summary?date={day}", headers=auth).get_json()
    assert (default["responses"], default["flagged"], default["flags"]) == (1, 3, {"too_fast": 3})
    everything = central_client.get(f"/api/v1/summary?date={day}&include_flagged=true", headers=auth).get_json()
    assert (everything["responses"], everything["flagged"]) == (4, 3)
    # guidance 100, attitude 0, fairness 0, timeliness 100 -> elements 2: 100, 3: 33.33, 4: 50
    assert everything["sipas_index"] == 61.11
    assert_error(central_client.get(f"/api/v1/summary?date={day}&include_flagged=yes", headers=auth), 400,
                 "include_flagged must be true or false.")


@pytest.mark.parametrize("query, headers, status, fragment", [
    ("date=2026-03-01", {}, 401, "A valid API token is needed"),
    ("date=2026-03-01", {"Authorization": "Bearer wrong"}, 401, "A valid API token is needed"),
    ("date=yesterday", None, 400, "date must be a day like 2026-01-31"),
    ("", None, 400, "date must be a day like 2026-01-31"),
    ("date=2026-03-01&kiosk=%00", None, 400, "kiosk must be a kiosk id"),
    ("date=2026-03-01&unit=a%00b", None, 400, "unit must be printable text"),
    ("date=2026-03-01&sort=x", None, 400, "Unknown parameter: sort."),
])
def test_summary_refuses_bad_queries(central_client, token, query, headers, status, fragment):
    reply = central_client.get("/api/v1/summary?" + query,
                       headers={"Authorization": f"Bearer {token}"} if headers is None else headers)
    assert_error(reply, status, fragment)


def test_integrity_for_an_unknown_kiosk_is_404(central_client, token):
    assert_error(central_client.get("/api/v1/integrity?kiosk=ghost", headers={"Authorization": f"Bearer {token}"}),
                 404, "No kiosk 'ghost' is registered.")


def test_openapi_document_describes_every_route(central_app, central_client):
    document = central_client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    routes = {rule.rule for rule in central_app.url_map.iter_rules()
              if rule.rule.startswith("/api/") or rule.rule == "/healthz"}  # the rest are staff pages
    assert routes == set(document["paths"])


def test_healthz(central_client, kiosk_secret, central_engine):
    assert central_client.get("/healthz").get_json() == {
        "ok": True, "database": central_engine.dialect.name, "kiosks": 1, "last_batch_utc": None}


def _restamped(response, seconds):
    """The response stamped `seconds` after four minutes ago (started and committed), hashed again."""
    from kiosk.clock import now_utc, utc_iso
    from datetime import timedelta
    created = utc_iso(now_utc() - timedelta(minutes=4) + timedelta(seconds=seconds))
    changed = dict(response, started_utc=created, created_utc=created)
    changed["hash"] = chain.record_hash(changed)
    return changed


def test_clock_steps_back_within_a_batch_and_across_batches_are_each_one_event(central_client, kiosk_secret,
                                                                            responses, token):
    """#2 stamped before #1 in one batch; later #5-#6, in order, sent after #4 was stored stamped after #5
    and #7 stamped before #6: each neighbour stored before or after the batch is compared too."""
    by_seq = {r["seq"]: r for r in responses}
    for batch in ({1: 10, 2: 5, 3: 20}, {7: 30}, {4: 60}, {5: 40, 6: 50}):
        rows = [_restamped(by_seq[seq], seconds) for seq, seconds in batch.items()]
        assert post(central_client, kiosk_secret, wire.batch("test-kiosk", rows)).get_json()["accepted"] == len(rows)
    events = central_client.get("/api/v1/integrity?kiosk=test-kiosk",
                                headers={"Authorization": f"Bearer {token}"}).get_json()["events"]
    assert sorted((e["kind"], e["seq_from"]) for e in events if e["kind"].startswith("clock")) == [
        ("clock_back", 2), ("clock_back", 5), ("clock_back", 7)]


def test_a_response_committed_before_its_first_tap_is_a_clock_event(central_client, kiosk_secret, responses, token):
    odd = dict(responses[0], started_utc="2099-01-01T00:00:00.000Z")
    odd["hash"] = chain.record_hash(odd)
    assert post(central_client, kiosk_secret, wire.batch("test-kiosk", [odd])).get_json()["accepted"] == 1
    events = central_client.get("/api/v1/integrity?kiosk=test-kiosk",
                        headers={"Authorization": f"Bearer {token}"}).get_json()["events"]
    assert [(e["kind"], e["seq_from"]) for e in events] == [("clock_back", 1)]
    assert "earlier than its own first tap" in events[0]["detail"]
