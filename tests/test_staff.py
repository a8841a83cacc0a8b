"""Kiosk staff mode: PIN with lockout, duty, dossier binding, today's count."""

from datetime import datetime, timedelta, timezone

import pytest

from helpers import ANSWERS, Citizen, all_responses
from kiosk import staff, store
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
        store.set_setting(db, "pin_locked_until", utc_iso(past))
    assert citizen.post("/staff/", {"pin": "2468"}).headers["Location"] == "/staff/home"


def test_malformed_pin_is_a_400_and_counts_nothing(client, db, with_pin):
    citizen = Citizen(client)
    response = citizen.post("/staff/", {"pin": "12ab"})
    assert response.status_code == 400
    assert "Mã PIN gồm 4 đến 8 chữ số." in response.get_data(as_text=True)
    assert store.get_setting(db, "pin_failures") == "0"


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
    from sync import outbox
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
