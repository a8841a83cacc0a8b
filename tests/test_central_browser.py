"""Central's staff pages in headless Chromium: log in, read the day's summary, on desktop and phone."""

import json
import re
import time

import pytest
import requests

from helpers import add_responses, staff_log_in, wire_responses
from kiosk.clock import local_today, now_utc
from sync import wire

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def central_with_data(live_central, tmp_path):
    add_responses(tmp_path / "k.db", 3, answers={"overall": 5, "guidance": 4, "attitude": 2, "visits": "2"})
    add_responses(tmp_path / "k.db", 1, answers={"overall": 2})
    made = live_central.cli_input("add-user", "lan", "--role", "supervisor", "--unit", "Sở Xây dựng",
                                  "--display-name", "Lan", input="mat-khau-rat-dai\n")
    assert made.returncode == 0, made.stderr
    live_central.start()
    body = json.dumps(wire.batch("test-kiosk", wire_responses(tmp_path / "k.db"))).encode()
    stamp = str(int(time.time()))
    reply = requests.post(live_central.url + "/api/v1/batches", data=body, timeout=10, headers={
        "Content-Type": "application/json", wire.KIOSK_HEADER: "test-kiosk", wire.TIMESTAMP_HEADER: stamp,
        wire.SIGNATURE_HEADER: wire.sign(live_central.secret, stamp, body)})
    assert reply.json()["accepted"] == 4
    return live_central


def log_in(page, base_url, name, password):
    staff_log_in(page, base_url, name, password)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_log_in_and_read_the_daily_summary(browser, central_with_data, viewport, screenshots):
    from axe_playwright_python.sync_playwright import Axe

    context = browser.new_context(viewport=viewport, locale="vi-VN")
    page = context.new_page()
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(central_with_data.url + "/")
    assert page.url.startswith(central_with_data.url + "/login")
    name = "desktop" if viewport == DESKTOP else "phone"
    page.screenshot(path=str(screenshots / f"central-{name}-login.png"))
    axe = Axe()
    serious = lambda: [v["id"] for v in axe.run(page).response["violations"]  # noqa: E731
                       if v["impact"] in ("serious", "critical")]
    assert serious() == []
    page.get_by_label("Tên").fill("lan")
    page.get_by_label("Mật khẩu").fill("mat-khau-rat-dai")
    with page.expect_navigation():
        page.get_by_role("button", name="Đăng nhập").click()
    assert page.get_by_role("heading", name="Tổng hợp ngày").is_visible()
    assert "Không có phiếu đánh giá nào trong ngày" in page.inner_text("main")  # yesterday, the default
    with page.expect_navigation():
        page.get_by_role("link", name="Ngày sau").click()
    text = page.inner_text("main")
    assert re.search(r"Số phiếu\s+4\b", text) and "75,0% (3 trên 4 phiếu)" in text  # 3 of 4 satisfied overall
    page.screenshot(path=str(screenshots / f"central-{name}-summary.png"), full_page=True)
    assert serious() == []
    page.get_by_role("link", name="Phản ánh, góp ý").click()
    assert serious() == []
    page.get_by_role("link", name=re.compile(r"^Phản ánh \d+$")).first.click()
    assert "Thái độ: 2" in page.inner_text("main") or "Tổng thể: 2" in page.inner_text("main")  # oldest first
    assert serious() == []
    page.get_by_label("Nội dung trả lời người dân").fill("Đã liên hệ và xin lỗi Ông/Bà.")
    page.get_by_label("Đóng phản ánh").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Lưu").click()
    assert "Phản ánh" in page.inner_text("h1") and "đã đóng" in page.inner_text("h1")
    assert "Lan · đã đóng" in page.inner_text("main")  # the history names people by their display name
    page.screenshot(path=str(screenshots / f"central-{name}-case.png"), full_page=True)
    page.get_by_role("link", name="English").click()
    assert "Case" in page.inner_text("h1") and "closed" in page.inner_text("h1")
    assert serious() == []
    with page.expect_navigation():
        page.get_by_role("button", name="Reopen the case").click()
    assert "answered" in page.inner_text("h1") and "Lan · reopened" in page.inner_text("main")
    assert serious() == []
    assert all(r.startswith(central_with_data.url) or r.startswith("data:") for r in requested)
    context.close()


def test_export_xlsx_and_every_other_staff_page(browser, central_with_data, tmp_path, screenshots):
    from axe_playwright_python.sync_playwright import Axe
    from openpyxl import load_workbook

    context = browser.new_context(viewport=DESKTOP, locale="vi-VN", accept_downloads=True)
    page = context.new_page()
    log_in(page, central_with_data.url, "lan", "mat-khau-rat-dai")
    with page.expect_download() as download:
        page.get_by_role("link", name="Excel (XLSX)").click()
    saved = tmp_path / "export.xlsx"
    download.value.save_as(saved)
    book = load_workbook(saved)
    assert book.sheetnames == ["Tổng hợp", "Số phiếu"] and len(list(book["Số phiếu"].values)) == 1 + 4
    axe = Axe()
    for link, shot in [("Xu hướng", "trends"), ("Báo cáo tháng", "report"), ("Phản ánh, góp ý", "cases")]:
        page.get_by_role("link", name=link).click()
        page.screenshot(path=str(screenshots / f"central-desktop-{shot}.png"), full_page=True)
        serious = [v["id"] for v in axe.run(page).response["violations"] if v["impact"] in ("serious", "critical")]
        assert serious == [], shot
    assert page.goto(central_with_data.url + "/cases/999").status == 404  # the error page, in Vietnamese
    assert "Trang này không tồn tại" in page.inner_text("main")
    assert [v["id"] for v in axe.run(page).response["violations"] if v["impact"] in ("serious", "critical")] == []
    context.close()


def test_an_admin_compares_the_units_then_opens_one(browser, central_with_data, screenshots):
    from axe_playwright_python.sync_playwright import Axe

    made = central_with_data.cli_input("add-user", "quan-tri", "--role", "admin", input="mat-khau-quan-tri\n")
    assert made.returncode == 0, made.stderr
    context = browser.new_context(viewport=DESKTOP, locale="vi-VN")
    page = context.new_page()
    log_in(page, central_with_data.url, "quan-tri", "mat-khau-quan-tri")
    page.goto(central_with_data.url + f"/?date={local_today(now_utc()).isoformat()}")
    assert page.get_by_role("heading", name="Theo đơn vị").is_visible()
    assert re.search(r"Sở Xây dựng\s+4\s+75,0% \(3 trên 4\)\s+90,0% · chưa đạt", page.inner_text("main"))
    page.screenshot(path=str(screenshots / "central-desktop-summary-admin.png"), full_page=True)
    assert [v["id"] for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")] == []
    page.get_by_label("Đơn vị").select_option("Sở Xây dựng")
    with page.expect_navigation():
        page.get_by_role("button", name="Xem").click()
    assert page.get_by_role("heading", name="Theo quầy").is_visible()
    assert page.get_by_role("heading", name="Theo công chức").is_visible()
    context.close()


def test_an_officer_cannot_reach_other_rows_by_link_or_export(browser, central_with_data):
    assert central_with_data.cli("unit", "add", "Sở Xây dựng", "--name", "Sở Xây dựng").returncode == 0
    officer_id = central_with_data.cli("officer", "add", "--unit", "Sở Xây dựng", "--name", "Khai").stdout.strip()
    made = central_with_data.cli_input("add-user", "khai", "--role", "officer", "--officer", officer_id,
                                       input="mat-khau-cua-khai\n")
    assert made.returncode == 0, made.stderr
    context = browser.new_context(viewport=PHONE, locale="vi-VN")
    page = context.new_page()
    log_in(page, central_with_data.url, "khai", "mat-khau-cua-khai")
    page.goto(central_with_data.url + f"/?date={local_today(now_utc()).isoformat()}")
    assert "Không có phiếu đánh giá nào trong ngày" in page.inner_text("main")  # the day's responses were not his
    assert page.goto(central_with_data.url + "/cases/1").status == 404
    exported = page.request.get(central_with_data.url + "/export.csv")
    assert exported.ok and exported.text().lstrip("\ufeff").count("\n") == 1  # the header only
    assert "0912" not in page.content()
    context.close()
