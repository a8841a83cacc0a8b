"""The uploader's policy (backoff, Retry-After) and its handling of central's answers."""

import json
import sqlite3
import threading
from datetime import timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import kiosk_sync
from helpers import add_responses
from kiosk import store
from kiosk.clock import now_utc
from sync.uploader import Backoff, SyncError, Uploader, parse_retry_after, run_once


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
])
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
    conn = sqlite3.connect(tmp_path / "kiosk.db")
    conn.execute("DROP TRIGGER responses_no_update")
    conn.execute("UPDATE responses SET questionnaire_version = '' WHERE seq = 2")
    conn.commit()
    conn.close()
    live_central.start()
    result = kiosk_sync({"KIOSK_DB": str(tmp_path / "kiosk.db"), "KIOSK_ID": "test-kiosk",
                         "KIOSK_SECRET": live_central.secret, "CENTRAL_URL": live_central.url}, "--once")
    assert result.returncode == 3, result.stderr  # delivered, but one refused: documented exit code
    assert result.stdout.splitlines()[-1].startswith(
        "Refused: central rejected 1 of 5 response(s) answered for (4 accepted, 0 duplicate, 1 rejected)")
    db = store.connect(tmp_path / "kiosk.db")
    acks = {row["seq"]: (row["status"], row["reason"]) for row in db["sync_acks"].rows}
    db.close()
    assert acks[2] == ("rejected", "responses[1].questionnaire_version must be text of 1 to 64 characters")
    assert {seq: status for seq, (status, _) in acks.items() if seq != 2} == {
        1: "accepted", 3: "accepted", 4: "accepted", 5: "accepted"}
