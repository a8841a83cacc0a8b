"""Uploader and central as real processes on loopback: faults, tampering, end to end."""

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import requests

from conftest import kiosk_sync
from helpers import add_responses, bulk_responses, central_rows, wire_responses
from kiosk import outbox, store
from kiosk.clock import local_today, now_utc
from loopback_proxy import Proxy
from sync import wire


def sync_env(tmp_path, central, url=None):
    return {"KIOSK_DB": str(tmp_path / "kiosk.db"), "KIOSK_ID": "test-kiosk",
            "KIOSK_SECRET": central.secret, "CENTRAL_URL": url or central.url}


def acks(tmp_path):
    db = store.connect(tmp_path / "kiosk.db")
    try:
        return dict(db.execute("SELECT status, count(*) FROM sync_acks GROUP BY status").fetchall())
    finally:
        db.close()


def summary(central, day=None):
    day = day or local_today(now_utc()).isoformat()
    return requests.get(f"{central.url}/api/v1/summary", params={"date": day},
                        headers={"Authorization": f"Bearer {central.token}"}, timeout=5).json()


def integrity(central):
    return requests.get(f"{central.url}/api/v1/integrity", params={"kiosk": "test-kiosk"},
                        headers={"Authorization": f"Bearer {central.token}"}, timeout=5).json()


def test_central_down_marks_nothing_then_a_later_run_delivers_everything(live_central, tmp_path, central_url):
    add_responses(tmp_path / "kiosk.db", 30)
    env = sync_env(tmp_path, live_central)
    down = kiosk_sync(env, "--once")
    assert down.returncode == 1
    assert down.stderr.strip() == (f"Error: Upload failed: cannot reach central at {live_central.url}/api/v1/batches "
                                   "(connection refused). Nothing was lost; the responses stay pending.")
    assert acks(tmp_path) == {}
    live_central.start()
    up = kiosk_sync({**env, "KIOSK_SYNC_BATCH": "7"}, "--once")
    assert up.returncode == 0, up.stderr
    assert up.stdout == ("Delivered: 30 response(s) answered for by central (30 accepted, 0 duplicate, "
                         "0 rejected); nothing pending.\n")
    assert acks(tmp_path) == {"accepted": 30}
    assert summary(live_central)["responses"] == 30
    assert central_rows(central_url) == (30, 30)


def test_answer_lost_after_central_processed_the_batch_is_retried_and_stored_once(
        live_central, tmp_path, central_url):
    add_responses(tmp_path / "kiosk.db", 25)
    live_central.start()
    proxy = Proxy(live_central.port, cut_answers=1)
    result = kiosk_sync({**sync_env(tmp_path, live_central, proxy.url), "KIOSK_SYNC_BATCH": "10"}, "--once")
    proxy.close()
    assert result.returncode == 0, result.stderr
    assert proxy.cut == 1 and proxy.requests == 5  # batch 1 sent twice, then the configuration request
    assert acks(tmp_path) == {"duplicate": 10, "accepted": 15}
    assert central_rows(central_url) == (25, 25)


def test_central_killed_mid_batch_keeps_all_or_nothing_and_a_resend_stores_each_once(
        live_central, tmp_path, central_url):
    bulk_responses(tmp_path / "kiosk.db", 5000)
    live_central.env["CENTRAL_MAX_BATCH"] = "5000"
    live_central.start()

    def kill_central(_request_number):
        time.sleep(0.1)  # central is decoding, checking and storing 5,000 responses now
        live_central.kill()

    proxy = Proxy(live_central.port, on_request_forwarded=kill_central)
    env = {**sync_env(tmp_path, live_central, proxy.url), "KIOSK_SYNC_BATCH": "5000"}
    killed = kiosk_sync(env, "--once")
    proxy.close()
    assert killed.returncode == 1 and "Nothing was lost" in killed.stderr
    assert acks(tmp_path) == {}
    assert central_rows(central_url)[0] in (0, 1000, 5000)  # a batch is one transaction (the first one: 1,000)
    live_central.start()
    delivered = kiosk_sync(sync_env(tmp_path, live_central), "--once")
    assert delivered.returncode == 0, delivered.stderr
    assert sum(acks(tmp_path).values()) == 5000  # accepted, or duplicate if the kill came after the commit
    assert central_rows(central_url) == (5000, 5000)


def test_tampered_kiosk_rows_are_named_by_verify_and_become_integrity_events(live_central, tmp_path):
    add_responses(tmp_path / "kiosk.db", 6)
    conn = sqlite3.connect(tmp_path / "kiosk.db")
    conn.execute("DROP TRIGGER responses_no_update")
    conn.execute("DROP TRIGGER responses_no_delete")
    conn.execute("""UPDATE responses SET answers = '{"overall":1}' WHERE seq = 3""")
    conn.execute("DELETE FROM responses WHERE seq = 5")
    conn.commit()
    conn.close()
    env = sync_env(tmp_path, live_central)
    verify = subprocess.run([sys.executable, "-m", "kiosk", "verify"], env={**env, "PATH": ""},
                            capture_output=True, text=True)
    assert verify.returncode == 1 and "Error: Response #3 (" in verify.stderr
    assert "its content does not match its hash (altered)" in verify.stderr
    live_central.start()
    assert kiosk_sync(env, "--once").returncode == 3  # delivered, the altered one refused
    assert acks(tmp_path) == {"accepted": 4, "rejected": 1}
    events = {(e["kind"], e["seq_from"], e["seq_to"]) for e in integrity(live_central)["events"]}
    assert events == {("altered", 3, 3), ("gap", 3, 3), ("gap", 5, 5)}
    assert integrity(live_central)["kiosk"] == "test-kiosk"


def test_wrong_secret_stops_with_a_reason_and_marks_nothing(live_central, tmp_path):
    add_responses(tmp_path / "kiosk.db", 3)
    live_central.start()
    result = kiosk_sync({**sync_env(tmp_path, live_central), "KIOSK_SECRET": "ab" * 32}, "--once")
    assert result.returncode == 4  # a person must fix it
    assert result.stderr.strip() == (
        "Error: Stopped: central refused the kiosk's credentials (HTTP 401): The signature does not "
        "match: check KIOSK_SECRET. A person must fix this; nothing was lost, the responses stay pending.")
    assert acks(tmp_path) == {}
    db = store.connect(tmp_path / "kiosk.db")
    status = outbox.status(db)
    db.close()
    assert status["pending"] == 3 and "HTTP 401" in status["last_error"]


def test_the_uploader_sends_soon_after_each_new_response(live_central, tmp_path, central_url):
    store.init(tmp_path / "kiosk.db", "test-kiosk")
    live_central.start()
    uploader = subprocess.Popen([str(Path(sys.executable).parent / "kiosk-sync"), "--interval", "0.5"],
                                env={**sync_env(tmp_path, live_central), "PATH": ""},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for expected in (1, 2):
            add_responses(tmp_path / "kiosk.db", 1)
            deadline = time.monotonic() + 10
            while central_rows(central_url)[0] < expected:
                assert time.monotonic() < deadline, "not delivered within 10 s"
                time.sleep(0.1)
    finally:
        uploader.terminate()
        uploader.wait(timeout=10)


def test_settings_are_checked_before_anything_is_sent(tmp_path):
    base = {"KIOSK_DB": str(tmp_path / "kiosk.db"), "KIOSK_ID": "test-kiosk", "KIOSK_SECRET": "ab" * 32,
            "CENTRAL_URL": "http://127.0.0.1:9"}
    for name, value, message in [
        ("KIOSK_SECRET", "short",
         "Error: KIOSK_SECRET must be the 64-hex-digit secret that `central add-kiosk` printed."),
        ("CENTRAL_URL", "ftp://x", "Error: CENTRAL_URL must be central's address, e.g. CENTRAL_URL=http://10.0.0.5:8000."),
        ("KIOSK_DB", "", "Error: KIOSK_DB is not set: give the path of the kiosk's SQLite file, "
                         "e.g. KIOSK_DB=/var/lib/kiosk/kiosk.db."),
    ]:
        result = kiosk_sync({**base, name: value}, "--once")
        assert (result.returncode, result.stderr.strip()) == (1, message)
    missing = kiosk_sync(base, "--once")
    assert missing.stderr.strip().endswith("which does not exist: run `kiosk init` first.")


def test_responses_tapped_in_chromium_reach_the_central_summary(browser, live_kiosk, live_central):
    from helpers import VI_FLOW, Tablet

    kiosk = live_kiosk(KIOSK_MIN_SECONDS="0")  # a test taps faster than a person: not flagged here
    live_central.start()
    tablet = Tablet(browser, kiosk).open()
    for _ in range(2):
        for _screen, answer in VI_FLOW:
            tablet.tap(answer)
        tablet.tap("Gửi đánh giá")
        tablet.open("/reset")
    tablet.close()
    env = {"KIOSK_DB": str(kiosk.db_path), "KIOSK_ID": "test-kiosk", "KIOSK_SECRET": live_central.secret,
           "CENTRAL_URL": live_central.url}
    assert kiosk_sync(env, "--once").returncode == 0
    figures = summary(live_central)
    assert figures["responses"] == 2
    assert figures["questions"]["overall"]["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 2, "5": 0}
    assert figures["questions"]["attitude"]["satisfied_pct"] == 0.0
    assert figures["choices"]["extra_request"] == {"no": 2}
    health = requests.get(kiosk.url + "/healthz", timeout=5).json()
    assert health["sync"]["pending"] == 0 and health["sync"]["last_success_utc"]


def post_signed(central, payload, secret=None):
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    stamp = str(int(time.time()))
    return requests.post(central.url + "/api/v1/batches", data=body, timeout=10, headers={
        "Content-Type": "application/json", wire.KIOSK_HEADER: "test-kiosk", wire.TIMESTAMP_HEADER: stamp,
        wire.SIGNATURE_HEADER: wire.sign(secret or central.secret, stamp, body)})


def test_repeated_and_out_of_order_batches_over_http_are_stored_once(live_central, tmp_path, central_url):
    add_responses(tmp_path / "kiosk.db", 12)
    responses = wire_responses(tmp_path / "kiosk.db")
    live_central.start()
    late, early = wire.batch("test-kiosk", responses[6:]), wire.batch("test-kiosk", responses[:6])
    assert post_signed(live_central, late).json()["accepted"] == 6
    assert [(e["kind"], e["seq_from"], e["seq_to"]) for e in integrity(live_central)["events"]] == [("gap", 1, 6)]
    assert post_signed(live_central, late).json()["duplicate"] == 6
    assert post_signed(live_central, early).json()["accepted"] == 6
    assert integrity(live_central)["events"] == []
    assert central_rows(central_url) == (12, 12)
    refused = post_signed(live_central, early, secret="cd" * 32)
    assert refused.status_code == 401 and refused.json()["error"] == "The signature does not match: check KIOSK_SECRET."
