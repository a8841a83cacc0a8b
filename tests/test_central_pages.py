"""Central staff pages: login, rate limit, security headers, the daily summary and its scoping by role."""

import re

import pytest

from helpers import STAFF_PASSWORD as PASSWORD
from helpers import add_responses, csrf, log_in, post, today, wire_responses
from kiosk import store
from kiosk.clock import now_utc
from sync import wire


def test_pages_need_a_login(site):
    reply = site.get("/")
    assert reply.status_code == 302 and reply.headers["Location"].startswith("/login")


def test_login_page_is_vietnamese_first_with_security_headers(site):
    reply = site.get("/login")
    page = reply.get_data(as_text=True)
    assert '<html lang="vi">' in page and "Đăng nhập" in page and "English" in page
    assert "default-src 'self'" in reply.headers["Content-Security-Policy"]
    assert reply.headers["X-Frame-Options"] == "DENY" and reply.headers["X-Content-Type-Options"] == "nosniff"
    cookie = reply.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_login_without_csrf_token_is_refused(site):
    reply = site.post("/login", data={"name": "admin", "password": PASSWORD})
    assert reply.status_code == 400
    assert site.get("/").status_code == 302


def test_wrong_password_then_lockout_after_five_failures(site):
    for _ in range(4):
        assert log_in(site, "admin", "wrong-password").status_code == 401
    log_in(site, "admin", "wrong-password")
    locked = log_in(site, "admin")
    assert locked.status_code == 429
    assert "Đăng nhập sai quá nhiều lần" in locked.get_data(as_text=True)


def test_admin_sees_every_unit(site):
    assert log_in(site, "admin").headers["Location"] == "/"
    page = site.get(f"/?date={today()}").get_data(as_text=True)
    assert "Tổng hợp ngày" in page
    assert '<h2>Số phiếu</h2><p class="big">3</p>' in page
    assert "k-a" in page and "k-b" in page


def test_supervisor_sees_only_their_unit(site):
    log_in(site, "sup-a")
    page = site.get(f"/?date={today()}").get_data(as_text=True)
    assert '<h2>Số phiếu</h2><p class="big">2</p>' in page
    assert "k-b" not in page and "Chi" not in page
    assert site.get(f"/?date={today()}&unit=Unit B").status_code == 403


def test_officer_sees_only_their_own_rows(site):
    log_in(site, "an")
    page = site.get(f"/?date={today()}").get_data(as_text=True)
    assert '<h2>Số phiếu</h2><p class="big">1</p>' in page
    assert "Bình" not in page and "k-a" not in page  # no other officer, no kiosk table
    assert site.get(f"/?date={today()}&unit=Unit B").status_code == 403


def test_bad_date_is_a_clear_400(site):
    log_in(site, "admin")
    reply = site.get("/?date=31/01/2026")
    assert reply.status_code == 400 and "Ngày phải có dạng 2026-01-31." in reply.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/?date=0001-01-01", "/?date=9999-12-31", "/report?month=9999-12",
                                  "/report?month=0001-01", "/export.xlsx?start=9999-12-30&end=9999-12-31",
                                  "/export.csv?start=0001-01-01&end=0001-01-07", "/cases?day=0001-01-01"])
def test_days_at_the_ends_of_the_calendar_are_a_400_not_a_500(site, path):
    log_in(site, "admin")
    assert site.get(path).status_code == 400


@pytest.mark.parametrize("case_id", ["2147483648", "9223372036854775808", "99999999999999999999999"])
def test_case_ids_beyond_what_a_column_holds_are_not_found(site, case_id):
    log_in(site, "admin")
    assert site.get(f"/cases/{case_id}").status_code == 404
    assert site.post(f"/cases/{case_id}").status_code in (400, 404)  # no token: never a 500
    assert site.post(f"/cases/{case_id}/reopen").status_code in (400, 404)


def test_logout_needs_its_token_and_ends_the_session(site):
    log_in(site, "admin")
    assert site.post("/logout").status_code == 400
    site.post("/logout", data={"csrf_token": csrf(site, "/")})
    assert site.get("/").status_code == 302


def test_the_api_answers_json_not_the_login_page(site):
    reply = site.get("/api/v1/summary?date=2026-01-01")
    assert reply.status_code == 401 and reply.get_json()["status"] == 401


def test_every_unit_is_compared_per_unit_and_one_unit_per_counter_and_officer(site):
    log_in(site, "admin")
    every = site.get(f"/?date={today()}").get_data(as_text=True)
    assert "<h2>Theo đơn vị</h2>" in every and "Theo quầy" not in every
    assert re.search(r'<th scope="row">Unit A</th>\s*<td>2\b', every)
    assert re.search(r'<th scope="row">Unit B</th>\s*<td>1\b', every)
    one = site.get(f"/?date={today()}&unit=Unit A").get_data(as_text=True)
    assert "Theo đơn vị" not in one and "<h2>Theo quầy</h2>" in one and "<h2>Theo công chức</h2>" in one
    assert re.search(r'<th scope="row">An</th>\s*<td>1\b', one)
    assert re.search(r'<th scope="row">Bình</th>\s*<td>1\b', one)


def test_the_days_cases_on_the_summary_are_capped_with_a_link_to_them_all(site, tmp_path):
    path = tmp_path / "k-b.db"
    add_responses(path, 55, kiosk_id="k-b", answers={"overall": 1})
    post(site, site.kiosk_secrets["k-b"], wire.batch("k-b", wire_responses(path)[1:]), kiosk="k-b")
    log_in(site, "admin")
    page = site.get(f"/?date={today()}").get_data(as_text=True)
    assert "50 trường hợp mới nhất trong tổng số 56." in page  # Bình's rating of 1, and these 55
    assert page.count('href="/cases/') == 50
    link = re.search(r'href="(/cases\?day=[^"]+)"', page)[1]
    listed = site.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert "56 phản ánh" in listed and listed.count('href="/cases/') == 50  # the queue shows 50 a page
    rest = site.get(link.replace("&amp;", "&") + "&page=2").get_data(as_text=True)
    assert rest.count('href="/cases/') == 6
    assert "0 phản ánh" in site.get("/cases?day=2020-01-01").get_data(as_text=True)
    reply = site.get("/cases?day=hôm-nay")
    assert reply.status_code == 400 and "Ngày phải có dạng 2026-01-31." in reply.get_data(as_text=True)


def test_the_summary_lists_a_kiosk_store_and_clock_events(site, tmp_path):
    """A replaced k-a (new store from #1) with a clock set back: both events shown, in Vietnamese first."""
    from datetime import timedelta

    path = tmp_path / "k-a-new.db"
    add_responses(path, 1, kiosk_id="k-a")
    add_responses(path, 1, kiosk_id="k-a", now=now_utc() - timedelta(hours=3))
    with store.connect(path) as db:
        install = store.installs(db)[-1]
    batch = wire.batch("k-a", wire_responses(path), {**install, "head_seq": 2})
    reply = post(site, site.kiosk_secrets["k-a"], batch, kiosk="k-a").get_json()
    assert reply["accepted"] == 2
    log_in(site, "admin")
    page = site.get(f"/?date={today()}").get_data(as_text=True)
    assert "máy đánh giá được cài lại: kho dữ liệu mới từ #1" in page
    assert "đồng hồ bị lùi: phiếu được tính vào ngày mà máy đánh giá hiển thị (#2)" in page
    assert f"Kiosk k-a reinstalled: new store from seq 1 (store {install['id']}" in page  # the detail, on hover
