"""The uploader's policy (backoff, Retry-After) and its handling of central's answers."""

from collections import Counter
import gzip
import json
import logging
import os
import random
import string
import subprocess
import sys
import threading
import time
from datetime import timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import kiosk_sync
from helpers import add_responses, bulk_responses, central_rows, spoil_rows, watched_session
from kiosk import outbox, store
from kiosk.clock import now_utc
from sync import wire
from sync.uploader import Backoff, SyncError, Uploader, parse_retry_after, run_forever, run_once


def test_backoff_doubles_up_to_the_cap_with_jitter():
    policy = Backoff(base=1, cap=60)
    assert [policy.delay(n, rng=lambda: 1.0) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert [policy.delay(n, rng=lambda: 0.0) for n in (1, 3, 10)] == [0.5, 2, 30]


def test_retry_after_wins_when_longer_and_is_clamped():
    policy = Backoff(base=1, cap=60, retry_after_cap=600)
    assert policy.delay(1, retry_after=45, rng=lambda: 1.0) == 45
    assert policy.delay(8, retry_after=5, rng=lambda: 1.0) == 60
    assert policy.delay(1, retry_after=86_400, rng=lambda: 1.0) == 600


@pytest.mark.parametrize("header, expected", [
    ("120", 120.0), ("", None), (None, None), ("soon", None),
    (format_datetime(now_utc() - timedelta(minutes=5), usegmt=True), 0.0),
], ids=["seconds", "empty", "absent", "words", "a-past-date"])  # fixed ids: every xdist worker collects the same
def test_retry_after_header_forms(header, expected):
    assert parse_retry_after(header) == expected


def test_retry_after_date_in_the_future():
    header = format_datetime(now_utc() + timedelta(seconds=90), usegmt=True)
    assert 85 <= parse_retry_after(header) <= 90


class Busy(BaseHTTPRequestHandler):
    """A real loopback server that is always busy: 503 with Retry-After: 7."""

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps({"ok": False, "error": "maintenance", "errors": ["maintenance"], "status": 503}).encode()
        self.send_response(503)
        self.send_header("Retry-After", "7")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_busy_central_is_retried_after_its_retry_after_then_reported(tmp_path):
    add_responses(tmp_path / "kiosk.db", 2)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Busy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    waits = []
    uploader = Uploader(tmp_path / "kiosk.db", "test-kiosk", "ab" * 32, f"http://127.0.0.1:{server.server_port}")
    try:
        with pytest.raises(SyncError) as error:
            run_once(uploader, attempts=3, sleep=waits.append)
    finally:
        server.shutdown()
        server.server_close()
        uploader.session.close()
    assert str(error.value) == "central is busy or failing (HTTP 503): maintenance"
    assert not error.value.fatal and len(waits) == 2 and all(w >= 7 for w in waits)
    db = store.connect(tmp_path / "kiosk.db")
    assert db["sync_acks"].count == 0  # nothing marked done
    db.close()


def test_a_response_central_cannot_read_is_kept_back_and_the_rest_delivered(live_central, tmp_path):
    add_responses(tmp_path / "kiosk.db", 5)
    spoil_rows(tmp_path / "kiosk.db", 2)
    live_central.start()
    result = kiosk_sync({"KIOSK_DB": str(tmp_path / "kiosk.db"), "KIOSK_ID": "test-kiosk",
                         "KIOSK_SECRET": live_central.secret, "CENTRAL_URL": live_central.url}, "--once")
    assert result.returncode == 3, result.stderr  # delivered, but one refused: documented exit code
    assert result.stdout.splitlines()[-1].startswith(
        "Refused: central rejected 1 of 5 response(s) answered for (4 accepted, 0 duplicate, 1 rejected)")
    db = store.connect(tmp_path / "kiosk.db")
    acks = {row["seq"]: (row["status"], row["reason"]) for row in db["sync_acks"].rows}
    db.close()
    assert acks[2] == ("rejected", "responses[1].questionnaire_version must be text of 1 to 64 characters, "
                                    "without control characters")
    assert {seq: status for seq, (status, _) in acks.items() if seq != 2} == {
        1: "accepted", 3: "accepted", 4: "accepted", 5: "accepted"}


# --- central's answer must be signed with the kiosk's secret -----------------------

SECRET = "cd" * 32


def loopback_central(answer_for, sign_with=None, batch_id_of=lambda payload: payload["batch_id"]):
    """A loopback server answering each batch with ``answer_for(payload) -> (status, JSON object)``,
    signed as told (None: unsigned)."""

    class Fake(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            payload = json.loads(body)
            status, answer = answer_for(payload)
            answer = json.dumps(answer, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            if sign_with:
                self.send_header(wire.CENTRAL_SIGNATURE_HEADER,
                                 wire.sign_answer(sign_with, batch_id_of(payload), answer))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Fake)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _all_accepted(payload):
    results = [{"uuid": r["uuid"], "seq": r["seq"], "status": "accepted"} for r in payload["responses"]]
    return 200, {"ok": True, "batch_id": payload["batch_id"], "accepted": len(results), "duplicate": 0,
                 "rejected": 0, "results": results}


def fake_central(sign_with=None, batch_id_of=lambda payload: payload["batch_id"]):
    """A loopback server answering every batch "accepted", signed as told (None: unsigned)."""
    return loopback_central(_all_accepted, sign_with, batch_id_of)


def _sync_against(server, tmp_path):
    """``kiosk-sync --once`` against `server`, which is then shut down."""
    try:
        return kiosk_sync({"KIOSK_DB": str(tmp_path / "kiosk.db"), "KIOSK_ID": "test-kiosk", "KIOSK_SECRET": SECRET,
                           "CENTRAL_URL": f"http://127.0.0.1:{server.server_port}"}, "--once")
    finally:
        server.shutdown()
        server.server_close()


def _acks(tmp_path):
    db = store.connect(tmp_path / "kiosk.db")
    try:
        return db["sync_acks"].count, outbox.status(db)
    finally:
        db.close()


@pytest.mark.parametrize("sign_with, batch_id_of", [
    (None, None),
    ("ef" * 32, lambda payload: payload["batch_id"]),  # a server that does not know the secret
    (SECRET, lambda payload: "00000000-0000-4000-8000-000000000000"),  # an answer to another batch
], ids=["unsigned", "another secret", "another batch"])
def test_an_answer_not_signed_with_the_kiosk_secret_marks_nothing_done(tmp_path, sign_with, batch_id_of):
    add_responses(tmp_path / "kiosk.db", 9)
    server = fake_central(sign_with, batch_id_of or (lambda payload: payload["batch_id"]))
    result = _sync_against(server, tmp_path)
    assert result.returncode == 1 and result.stdout == ""
    assert "is not signed with this kiosk's secret, so nothing was marked done" in result.stderr
    assert "Nothing was lost; the responses stay pending." in result.stderr
    marked, status = _acks(tmp_path)
    assert marked == 0 and status["pending"] == 9 and "not signed" in status["last_error"]


def test_the_same_fake_answer_signed_with_the_secret_is_believed(tmp_path):
    add_responses(tmp_path / "kiosk.db", 9)
    server = fake_central(SECRET)
    result = _sync_against(server, tmp_path)
    assert result.returncode == 0, result.stderr
    assert _acks(tmp_path)[0] == 9


def refusing_central(with_details):
    """A loopback server that refuses (400, signed with SECRET) any batch holding seq 2 and accepts the others.

    Its words name no row the old way; only ``details`` (when `with_details`) does, as central's schema does.
    """

    def answer_for(payload):
        seqs = [r["seq"] for r in payload["responses"]]
        if 2 not in seqs:
            return _all_accepted(payload)
        message = "Hàng thứ hai: quầy có ký tự điều khiển."
        answer = {"ok": False, "error": message, "errors": [message], "status": 400}
        if with_details:
            answer["details"] = [{"index": seqs.index(2), "field": "counter", "message": message},
                                 {"index": None, "field": "kiosk_id", "message": "ignored: no row"},
                                 {"index": 99, "field": "seq", "message": "ignored: no such row"}]
        return 400, answer

    return loopback_central(answer_for, SECRET)


@pytest.mark.parametrize("with_details", [True, False], ids=["structured errors", "prose alone"])
def test_the_uploader_sets_aside_only_the_rows_named_in_centrals_structured_errors(tmp_path, with_details):
    """The row named by ``details`` is kept back as rejected, the rest delivered; prose alone is not read:
    a 400 naming no row in ``details`` sets nothing aside and stops (a person must look)."""
    add_responses(tmp_path / "kiosk.db", 4)
    server = refusing_central(with_details)
    result = _sync_against(server, tmp_path)
    db = store.connect(tmp_path / "kiosk.db")
    acks = {row["seq"]: (row["status"], row["reason"]) for row in db["sync_acks"].rows}
    pending = outbox.status(db)["pending"]
    db.close()
    if with_details:
        assert result.returncode == 3, result.stderr
        assert acks == {1: ("accepted", None), 2: ("rejected", "Hàng thứ hai: quầy có ký tự điều khiển."),
                        3: ("accepted", None), 4: ("accepted", None)}
    else:
        assert result.returncode == 4, result.stderr
        assert "central refused the batch (HTTP 400): Hàng thứ hai" in result.stderr
        assert acks == {} and pending == 4


# --- forever mode: through every recoverable error, stopped only by what a person must fix ---

def _wait_for(check, seconds, what):
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"{what} within {seconds} s"
        time.sleep(0.2)


@pytest.mark.slow
def test_forever_mode_survives_no_central_and_a_clock_refusal_then_delivers(live_central, tmp_path):
    db_path, offset, log = tmp_path / "kiosk.db", tmp_path / "clock-offset", tmp_path / "sync.log"
    add_responses(db_path, 3)
    offset.write_text("600")  # the kiosk's clock ten minutes ahead
    env = {**os.environ, "KIOSK_DB": str(db_path), "KIOSK_ID": "test-kiosk", "KIOSK_SECRET": live_central.secret,
           "CENTRAL_URL": live_central.url, "KIOSK_SYNC_BACKOFF_CAP": "1", "KIOSK_TEST_CLOCK_OFFSET_FILE": str(offset)}
    with open(log, "w") as output:
        uploader = subprocess.Popen([str(Path(sys.executable).parent / "kiosk-sync"), "--interval", "0.2"],
                                    env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        _wait_for(lambda: "cannot reach central" in (_acks(tmp_path)[1]["last_error"] or ""), 20,
                  "no 'cannot reach' error recorded")
        live_central.start()
        _wait_for(lambda: "kiosk's clock" in (_acks(tmp_path)[1]["last_error"] or ""), 20,
                  "no clock refusal recorded")
        time.sleep(2)  # several more refusals: still running, nothing marked
        assert uploader.poll() is None and _acks(tmp_path)[0] == 0
        offset.write_text("0")  # the clock is fixed
        _wait_for(lambda: _acks(tmp_path)[0] == 3, 20, "not delivered after the clock was fixed")
        # the line comes after the acks and the success mark are committed: on a busy machine, a while after
        _wait_for(lambda: "Delivered: 3" in log.read_text(), 20, "no delivery logged")
        assert uploader.poll() is None
    finally:
        uploader.terminate()
        uploader.wait(timeout=10)
    text = log.read_text()
    assert "central refused the batch because of the kiosk's clock (HTTP 401)" in text and "retrying in" in text
    assert "Delivered: 3 response(s) answered for by central (3 accepted, 0 duplicate, 0 rejected)" in text


def test_forever_mode_stops_on_a_wrong_secret_saying_a_person_must_fix_it(live_central, tmp_path):
    add_responses(tmp_path / "kiosk.db", 2)
    live_central.start()
    env = {"KIOSK_DB": str(tmp_path / "kiosk.db"), "KIOSK_ID": "test-kiosk", "KIOSK_SECRET": "ab" * 32,
           "CENTRAL_URL": live_central.url}
    result = kiosk_sync(env, "--interval", "0.2", timeout=30)
    assert result.returncode == 4
    assert result.stderr.strip().endswith(
        "Error: Stopped: central refused the kiosk's credentials (HTTP 401): The signature does not match: check "
        "KIOSK_SECRET. A person must fix this; nothing was lost, the responses stay pending.")
    assert _acks(tmp_path)[0] == 0


def test_small_batches_with_unreadable_rows_are_each_sent_once_and_all_answered(live_central, tmp_path):
    """Batches of 2: while this kiosk records an answer the next batch is already on its way; a batch
    central could not read (400) is recorded first and its readable rows are sent again, never twice."""
    add_responses(tmp_path / "kiosk.db", 7)
    spoil_rows(tmp_path / "kiosk.db", 2, 5)
    live_central.start()
    uploader = Uploader(tmp_path / "kiosk.db", "test-kiosk", live_central.secret, live_central.url, batch_size=2)
    try:
        verdicts = uploader.send_pending()
    finally:
        uploader.session.close()
    assert verdicts == {"accepted": 5, "rejected": 2}
    db = store.connect(tmp_path / "kiosk.db")
    acks = {row["seq"]: row["status"] for row in db["sync_acks"].rows}
    assert outbox.status(db)["pending"] == 0
    db.close()
    assert acks == {1: "accepted", 2: "rejected", 3: "accepted", 4: "accepted", 5: "rejected", 6: "accepted",
                    7: "accepted"}


def test_a_rounds_first_batch_is_of_at_most_1000_then_batches_are_full_size(live_central, central_url, tmp_path):
    """Central starts on a small first batch while the kiosk reads the next; a smaller batch size still caps it."""
    bulk_responses(tmp_path / "kiosk.db", 2600)
    live_central.start()
    session, seen = watched_session()
    try:
        assert Uploader(tmp_path / "kiosk.db", "test-kiosk", live_central.secret, live_central.url,
                        session=session).send_pending() == {"accepted": 2600}
        assert sorted(seen) == [(1000, 200, None), (1600, 200, None)]
        add_responses(tmp_path / "kiosk.db", 70)
        seen.clear()
        assert Uploader(tmp_path / "kiosk.db", "test-kiosk", live_central.secret, live_central.url, batch_size=30,
                        session=session).send_pending() == {"accepted": 70}
        assert sorted(seen) == [(10, 200, None), (30, 200, None), (30, 200, None)]
    finally:
        session.close()
    assert central_rows(central_url) == (2670, 2670)


def test_forever_mode_exchanges_the_configuration_at_most_once_a_minute(tmp_path, older_central):
    """Rounds every 30 s (a test clock): the configuration is asked for at 0, 60 and 120 s, not every round."""
    store.init(tmp_path / "kiosk.db", "test-kiosk")
    uploader = Uploader(tmp_path / "kiosk.db", "test-kiosk", "ab" * 32, older_central.url)
    now, rounds = [0.0], []

    def sleep(seconds):
        rounds.append(seconds)
        now[0] += 30
        if len(rounds) == 5:
            raise KeyboardInterrupt

    try:
        with pytest.raises(KeyboardInterrupt):
            run_forever(uploader, interval=30, sleep=sleep, clock=lambda: now[0])
    finally:
        uploader.session.close()
    assert older_central.asked == ["/api/v1/kiosk-config"] * 3


# --- a 413 steps the batch size down instead of stopping ------------------------------

def _steps_down(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "kiosk-sync" and r.levelno == logging.WARNING]


def _statuses(tmp_path):
    db = store.connect(tmp_path / "kiosk.db")
    try:
        return {row["seq"]: row["status"] for row in db["sync_acks"].rows}, outbox.status(db)["pending"]
    finally:
        db.close()


def test_a_central_taking_fewer_gets_batches_of_its_max_responses_each_response_once(
        live_central, tmp_path, central_url, caplog):
    """Central takes 7 a batch, the kiosk sends 20: central's 413 names 7 (to both batches on the wire), the same
    responses go again at once in batches of 7 (the batch prepared ahead at 20 is never sent), every one accepted
    once, and the size stays."""
    add_responses(tmp_path / "kiosk.db", 50)
    live_central.env["CENTRAL_MAX_BATCH"] = "7"
    live_central.start()
    session, seen = watched_session()
    uploader = Uploader(tmp_path / "kiosk.db", "test-kiosk", live_central.secret, live_central.url, batch_size=20,
                        session=session)
    try:
        with caplog.at_level(logging.WARNING, logger="kiosk-sync"):
            verdicts = uploader.send_pending()
            assert verdicts == {"accepted": 50}
            assert Counter(seen) == {(20, 413, 7): 2, (7, 200, None): 7, (1, 200, None): 1}  # two on the wire
            assert uploader.batch_size == 7
            assert _steps_down(caplog) == ["central took at most 7 responses per batch; sending batches of 7"]
            add_responses(tmp_path / "kiosk.db", 10)  # a later round of the same uploader (as forever mode runs)
            seen.clear()
            assert uploader.send_pending() == {"accepted": 10}
            assert Counter(seen) == {(7, 200, None): 1, (3, 200, None): 1} and len(_steps_down(caplog)) == 1
    finally:
        session.close()
    assert _statuses(tmp_path) == ({seq: "accepted" for seq in range(1, 61)}, 0)
    assert central_rows(central_url) == (60, 60)


def test_a_central_older_than_max_responses_gets_halved_batches_until_they_fit(
        central_without_max_responses, tmp_path, central_url, caplog):
    """An older central's 413 gives no limit: 20, then 10, then 5 (it takes 6), halved once for the two batches on
    the wire, and all 50 are delivered once."""
    older = central_without_max_responses
    add_responses(tmp_path / "kiosk.db", 50)
    session, seen = watched_session()
    uploader = Uploader(tmp_path / "kiosk.db", "test-kiosk", older.secret, older.url, batch_size=20, session=session)
    try:
        with caplog.at_level(logging.WARNING, logger="kiosk-sync"):
            verdicts = uploader.send_pending()
    finally:
        session.close()
    assert verdicts == {"accepted": 50}
    assert Counter(seen) == {(20, 413, None): 2, (10, 413, None): 2, (5, 200, None): 10} and older.stripped == 4
    assert uploader.batch_size == 5
    assert _steps_down(caplog) == [
        "central refused a batch of 20 responses as too large (HTTP 413: responses has 20 items; at most 6 per "
        "batch); sending batches of 10",
        "central refused a batch of 10 responses as too large (HTTP 413: responses has 10 items; at most 6 per "
        "batch); sending batches of 5"]
    assert _statuses(tmp_path) == ({seq: "accepted" for seq in range(1, 51)}, 0)
    assert central_rows(central_url) == (50, 50)


def test_a_413_even_for_one_response_still_stops_with_the_same_message(live_central, tmp_path):
    """Central takes at most 1,000 bytes: four short responses go in smaller batches, the fifth, with a long
    comment, is too large alone: stopped as before (exit 4, the same sentence), it stays pending."""
    rng = random.Random(5)
    add_responses(tmp_path / "kiosk.db", 4)
    add_responses(tmp_path / "kiosk.db", 1, phone="0912345678",
                  comment="".join(rng.choice(string.ascii_letters + string.digits) for _ in range(1000)))
    live_central.env["CENTRAL_MAX_BODY_BYTES"] = "1000"
    live_central.start()
    result = kiosk_sync({"KIOSK_DB": str(tmp_path / "kiosk.db"), "KIOSK_ID": "test-kiosk",
                         "KIOSK_SECRET": live_central.secret, "CENTRAL_URL": live_central.url,
                         "KIOSK_SYNC_BATCH": "20"}, "--once")
    assert result.returncode == 4, result.stderr
    assert result.stderr.strip().endswith(
        "Error: Stopped: central refused the batch as too large (HTTP 413): The body is larger than 1000 bytes. "
        "A person must fix this; nothing was lost, the responses stay pending.")
    assert ("central refused a batch of 5 responses as too large (HTTP 413: The body is larger than 1000 bytes.); "
            "sending batches of 2") in result.stderr
    assert _statuses(tmp_path) == ({1: "accepted", 2: "accepted", 3: "accepted", 4: "accepted"}, 1)


@pytest.mark.parametrize("limit", [None, "5", True, 0, 20], ids=["absent", "text", "true", "zero", "not smaller"])
def test_a_max_responses_that_is_no_smaller_whole_number_halves_the_batch(tmp_path, limit):
    """Only a whole number below the refused batch's size is taken as central's limit; anything else halves."""

    def answer_for(payload):
        if len(payload["responses"]) <= 5:
            return _all_accepted(payload)
        message = f"responses has {len(payload['responses'])} items; at most 5 per batch"
        answer = {"ok": False, "error": message, "errors": [message], "status": 413}
        return 413, answer if limit is None else {**answer, "max_responses": limit}

    add_responses(tmp_path / "kiosk.db", 12)
    server = loopback_central(answer_for, SECRET)
    session, seen = watched_session()
    uploader = Uploader(tmp_path / "kiosk.db", "test-kiosk", SECRET, f"http://127.0.0.1:{server.server_port}",
                        batch_size=20, session=session)
    try:
        assert uploader.send_pending() == {"accepted": 12}
    finally:
        session.close()
        server.shutdown()
        server.server_close()
    assert Counter((size, status) for size, status, _ in seen) == {(12, 413): 1, (6, 413): 2, (3, 200): 4}
    assert uploader.batch_size == 3


def test_batches_of_two_kiosk_stores_are_never_on_the_wire_together(tmp_path):
    """Two batches of one store go at once, but a moved or restored store's first batch only once the last batch
    of the store before it is answered: central, taking them the other way round, would think two tablets
    send as one kiosk at once (``installs``' two_installs event)."""
    (tmp_path / "before").mkdir()
    add_responses(tmp_path / "before" / "kiosk.db", 6)
    (tmp_path / "before" / "kiosk.db").rename(tmp_path / "kiosk.db")  # opened elsewhere: a new store from #7
    add_responses(tmp_path / "kiosk.db", 6)
    assert len(store.installs(store.connect(tmp_path / "kiosk.db"))) == 2
    on_the_wire, together, lock = [], [], threading.Lock()

    def answer_for(payload):
        install = (payload.get("install") or {}).get("id", "")
        with lock:
            together.extend((other, install) for other in on_the_wire)
            on_the_wire.append(install)
        time.sleep(0.8 if payload["responses"][0]["seq"] == 4 else 0.2)  # the first store's last batch: the longest
        with lock:
            on_the_wire.remove(install)
        return _all_accepted(payload)

    server = loopback_central(answer_for, SECRET)
    uploader = Uploader(tmp_path / "kiosk.db", "test-kiosk", SECRET, f"http://127.0.0.1:{server.server_port}",
                        batch_size=3)
    try:
        assert uploader.send_pending() == {"accepted": 12}
    finally:
        server.shutdown()
        server.server_close()
    assert len(together) == 2 and all(earlier == later for earlier, later in together)  # one pair per store
