"""Kiosk staff mode: PIN with lockout, duty, dossier binding, today's count."""

from datetime import datetime, timedelta, timezone

import pytest

from helpers import ANSWERS, Citizen, all_responses
from kiosk import drafts, staff, store
from kiosk.clock import utc_iso


@pytest.fixture
def with_pin(db):
    staff.set_pin(db, "2468")


def log_in(client, pin="2468"):
    citizen = Citizen(client)
    return citizen, citizen.post("/staff/", {"pin": pin})


def test_staff_pages_need_the_pin(client, with_pin):
    assert client.get("/staff/home").headers["Location"] == "/staff/"
    citizen = Citizen(client)
    assert citizen.post("/staff/duty", {"counter": "1", "officer": "A"}).headers["Location"] == "/staff/"


def test_without_a_pin_staff_mode_says_how_to_set_one(client):
    page = client.get("/staff/").get_data(as_text=True)
    assert "Chưa đặt mã PIN: chạy lệnh “kiosk set-pin”" in page


def test_pin_is_stored_hashed(db, with_pin):
    stored = store.get_setting(db, "pin_hash")
    assert stored.startswith("scrypt$") and "2468" not in stored


def test_right_pin_opens_staff_mode(client, with_pin):
    _citizen, response = log_in(client)
    assert response.headers["Location"] == "/staff/home"
    page = client.get("/staff/home").get_data(as_text=True)
    assert "Chế độ cán bộ" in page and "Số phiếu hôm nay" in page


def test_five_wrong_pins_lock_staff_mode_for_five_minutes(client, db, with_pin):
    citizen = Citizen(client)
    for _ in range(4):
        response = citizen.post("/staff/", {"pin": "0000"})
        assert response.status_code == 403 and "Mã PIN không đúng." in response.get_data(as_text=True)
    citizen.post("/staff/", {"pin": "0000"})
    locked = citizen.post("/staff/", {"pin": "2468"})  # even the right PIN
    assert locked.status_code == 403
    assert "bị khóa thêm 5 phút" in locked.get_data(as_text=True)
    assert client.get("/staff/home").status_code == 302
    # Five minutes later the right PIN works again.
    past = datetime.now(timezone.utc) - timedelta(seconds=1)
    with store.write(db):
        db.execute("UPDATE pin_attempts SET locked_until = ?", [utc_iso(past)])
    assert citizen.post("/staff/", {"pin": "2468"}).headers["Location"] == "/staff/home"


def test_malformed_pin_is_a_400_and_counts_nothing(client, db, with_pin):
    citizen = Citizen(client)
    response = citizen.post("/staff/", {"pin": "12ab"})
    assert response.status_code == 400
    assert "Mã PIN gồm 4 đến 8 chữ số." in response.get_data(as_text=True)
    assert db.execute("SELECT count(*) FROM pin_attempts").fetchone()[0] == 0


def test_duty_is_shown_to_the_citizen_and_stored_with_each_response(client, db, with_pin):
    citizen, _ = log_in(client)
    citizen.post("/staff/duty", {"counter": "3", "officer": "Nguyễn Văn An"})
    header = client.get("/staff/home").get_data(as_text=True).split("</header>")[0]
    assert "Quầy 3 · Nguyễn Văn An" in header and "<input" not in header
    client.get("/reset")
    welcome = client.get("/").get_data(as_text=True)
    assert "Quầy 3" in welcome and "Nguyễn Văn An" in welcome
    citizen.full_response(ANSWERS)
    [response] = all_responses(db)
    assert (response["counter"], response["officer"]) == ("3", "Nguyễn Văn An")


def test_duty_form_rejects_bad_input_and_changes_nothing(client, db, with_pin):
    citizen, _ = log_in(client)
    response = citizen.post("/staff/duty", {"counter": "", "officer": "A\x00B"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Nhập quầy." in page and "ký tự điều khiển ẩn" in page
    assert store.get_setting(db, "counter") is None


def test_a_dossier_rating_binds_the_next_response_and_repeats_are_flagged(client, db, with_pin):
    citizen, _ = log_in(client)
    started = citizen.post("/staff/dossier", {"dossier_code": "000.00.15.H29-250611-0001"})
    assert started.headers["Location"] == "/"  # staff mode closes, survey starts
    assert client.get("/staff/home").status_code == 302
    assert "000.00.15.H29" not in client.get("/").get_data(as_text=True)  # staff only
    citizen.full_response(ANSWERS)
    log_in(client)
    citizen.post("/staff/dossier", {"dossier_code": "000.00.15.H29-250611-0001"})
    citizen.full_response(ANSWERS)
    citizen.full_response(ANSWERS)  # no dossier this time
    first, second, third = all_responses(db)
    assert first["dossier_code"] == second["dossier_code"] == "000.00.15.H29-250611-0001"
    assert "repeat_dossier" not in first["flags"] and "repeat_dossier" in second["flags"]
    assert third["dossier_code"] is None


def test_bad_dossier_code_is_refused(client, db, with_pin):
    citizen, _ = log_in(client)
    response = citizen.post("/staff/dossier", {"dossier_code": "<script>"})
    assert response.status_code == 400
    assert "Mã hồ sơ chỉ gồm chữ, số" in response.get_data(as_text=True)
    assert store.get_setting(db, "pending_dossier") is None


def test_today_count_is_shown(client, with_pin):
    citizen = Citizen(client)
    citizen.full_response(ANSWERS)
    citizen.full_response(ANSWERS)
    log_in(client)
    page = client.get("/staff/home").get_data(as_text=True)
    assert "<strong>2</strong>" in page


def test_sync_status_is_shown_in_staff_mode(client, db, with_pin):
    from kiosk import outbox
    Citizen(client).full_response(ANSWERS)
    outbox.record_error(db, "cannot reach central at http://10.0.0.5:8000/api/v1/batches (connection refused)")
    log_in(client)
    page = client.get("/staff/home").get_data(as_text=True)
    assert "Chờ gửi về máy chủ: <strong>1</strong>" in page
    assert "lần gửi gần nhất: chưa có" in page
    assert "Lỗi gần nhất" in page and "connection refused" in page


def test_staff_mode_shows_todays_figures_from_the_shared_arithmetic(make_app):
    app = make_app(env={"KIOSK_MIN_SECONDS": "0"})
    client = app.test_client()
    with store.connect(app.config["KIOSK"].db_path) as db:
        staff.set_pin(db, "2468")
    citizen = Citizen(client)
    citizen.full_response(ANSWERS)  # guidance 5, attitude 2, fairness 3, timeliness 4
    citizen.full_response({**ANSWERS, "attitude": "4"})
    log_in(client)
    page = client.get("/staff/home").get_data(as_text=True)
    # guidance 100, attitude 50, fairness 0, timeliness 100 -> elements 2: 100, 3: 50, 4: 50
    assert "Chỉ số (cách tính SIPAS)</th><td>66.67%" in page
    assert "Thái độ</th>\n        <td>50.0% <small>(2)</small>" in page


def from_address(app, address):
    """A browser on the counter's LAN (KIOSK_ALLOWED_CLIENTS names the LAN, as for tablets onto a box)."""
    from dataclasses import replace
    from ipaddress import ip_network

    app.config["KIOSK"] = replace(app.config["KIOSK"], allowed_clients=(ip_network("127.0.0.1"),
                                                                          ip_network("192.168.0.0/16")))
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return Citizen(client)


def test_a_concurrent_burst_of_wrong_pins_checks_at_most_the_limit_and_the_wait_holds(app, db, with_pin):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from kiosk.clock import now_utc, parse_utc

    for round_ in range(2):
        citizens = [from_address(app, f"192.168.{round_}.{i}") for i in range(30)]
        start = threading.Barrier(30)

        def send(citizen, start=start):
            start.wait()
            return citizen.post("/staff/", {"pin": "0000"}).get_data(as_text=True)

        with ThreadPoolExecutor(30) as pool:
            pages = list(pool.map(send, citizens))
        checked = sum("Mã PIN không đúng." in page for page in pages)
        assert checked == (10 if round_ == 0 else 0)
        assert sum("bị khóa thêm" in page for page in pages) == 30 - checked
    failures, until = db.execute("SELECT failures, locked_until FROM pin_attempts WHERE key = 'kiosk'").fetchone()
    assert failures == 10 and parse_utc(until) > now_utc()
    staff_member = from_address(app, "127.0.0.1")
    refused = staff_member.post("/staff/", {"pin": "2468"})  # the right PIN, while staff mode waits
    assert refused.status_code == 403 and "bị khóa thêm 1 phút" in refused.get_data(as_text=True)
    assert staff_member.client.get("/staff/home").status_code == 302


def test_wrong_pins_from_one_address_do_not_lock_out_another(app, with_pin):
    prankster = from_address(app, "192.168.1.50")
    for _ in range(5):
        prankster.post("/staff/", {"pin": "0000"})
    assert prankster.post("/staff/", {"pin": "2468"}).status_code == 403
    counter = from_address(app, "127.0.0.1")
    assert counter.post("/staff/", {"pin": "2468"}).headers["Location"] == "/staff/home"


@pytest.mark.parametrize("leave", ["back", "dossier"])
def test_leaving_staff_mode_ends_the_session_for_every_copy_of_the_cookie(app, client, with_pin, leave):
    citizen, _ = log_in(client)
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    assert copy.get("/staff/home").status_code == 200
    if leave == "back":
        client.get("/reset")
    else:
        assert citizen.post("/staff/dossier", {"dossier_code": "000123"}).status_code == 302
    assert copy.get("/staff/home").headers["Location"] == "/staff/"
    assert client.get("/staff/home").headers["Location"] == "/staff/"
    assert Citizen(copy).post("/staff/duty", {"counter": "9", "officer": "X"}).headers["Location"] == "/staff/"


def test_an_idle_reset_by_another_visitor_does_not_end_staff_mode(app, client, with_pin):
    log_in(client)
    app.test_client().get("/reset")  # someone else's browser: not the staff session
    assert client.get("/staff/home").status_code == 200


def test_the_pin_is_checked_once_per_attempt_with_the_real_hash(client, with_pin, monkeypatch):
    import hashlib
    calls, real = [], hashlib.scrypt
    monkeypatch.setattr(hashlib, "scrypt", lambda *a, **k: calls.append(1) or real(*a, **k))
    citizen = Citizen(client)
    citizen.post("/staff/", {"pin": "0000"})
    assert len(calls) == 1


def test_a_kiosk_made_before_pin_attempts_is_upgraded_and_its_old_lock_forgotten(kiosk_env):
    from pathlib import Path
    path = Path(kiosk_env["KIOSK_DB"])
    store.init(path, "test-kiosk")
    with store.connect(path) as db:  # the shape before i10b_pin_attempts, locked the old way
        db.execute("DROP TABLE pin_attempts")
        db.execute("DELETE FROM _sqlite_migrations WHERE name = 'i10b_pin_attempts'")
        with store.write(db):
            store.set_setting(db, "pin_failures", 3)
            store.set_setting(db, "pin_locked_until", "2999-01-01T00:00:00.000Z")
    db = store.open_existing(path, "test-kiosk")
    try:
        assert store.get_setting(db, "pin_locked_until") is None and store.get_setting(db, "pin_failures") is None
        staff.set_pin(db, "2468")
        right, until = staff.check_pin(db, "2468", "127.0.0.1", datetime.now(timezone.utc))
        assert (right, until) == (True, None)
    finally:
        db.close()


def test_staff_mode_and_healthz_tell_refusals_and_a_clock_set_back(client, db, with_pin):
    from datetime import timedelta

    from kiosk.clock import now_utc
    from kiosk.flags import FlagPolicy
    from kiosk import outbox

    for moment in (now_utc(), now_utc() - timedelta(hours=2)):  # the second one with the clock set back
        draft = drafts.start_draft(db, "2025.1", moment)
        drafts.finish_draft(db, draft, complete=False, now=moment, policy=FlagPolicy())
    outbox.record_verdicts(db, "b", {1: ("accepted", None), 2: ("rejected", "conflict: test reason")})
    citizen, _ = log_in(client, "2468")
    page = citizen.client.get("/staff/home").get_data(as_text=True)
    assert "Máy chủ đã từ chối 1 phiếu" in page and "Phiếu gần nhất: #2 (conflict: test reason)" in page
    assert "1 phiếu được lưu khi đồng hồ bị chậm" in page
    health = client.get("/healthz").get_json()
    assert health["marked"] == {"clock_back": 1}
    assert health["sync"]["rejected"] == 1 and health["sync"]["last_rejected"] == {
        "seq": 2, "reason": "conflict: test reason"}
