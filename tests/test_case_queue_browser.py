"""The case queue, a case, compliments and the public page in headless Chromium, desktop and phone (issue 12):
a supervisor filters the queue, assigns from the unit's staff, answers, closes and publishes; the public
page shows the anonymised text only; a compliment is not a case; an officer sees only their own."""

import json
import re
import shutil
import time
from pathlib import Path

import pytest
import requests

from helpers import add_responses, staff_log_in, wire_responses
from kiosk import store
from sync import wire

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
SHOTS = Path("/work/shots/i12-cases")
QUESTION = "Người dân phản ánh cán bộ hướng dẫn chưa rõ ràng, phải bổ sung giấy tờ nhiều lần."
ANSWER = "Đơn vị đã nhắc nhở cán bộ và gửi lại hướng dẫn đầy đủ thành phần hồ sơ."


def send(central, path):
    body = json.dumps(wire.batch("test-kiosk", wire_responses(path))).encode()
    stamp = str(int(time.time()))
    return requests.post(central.url + "/api/v1/batches", data=body, timeout=10, headers={
        "Content-Type": "application/json", wire.KIOSK_HEADER: "test-kiosk", wire.TIMESTAMP_HEADER: stamp,
        wire.SIGNATURE_HEADER: wire.sign(central.secret, stamp, body)}).json()


@pytest.fixture
def central_with_cases(live_central, tmp_path):
    path = tmp_path / "k.db"
    for officer, answers, private in [
            ("Khai", {"overall": 2, "attitude": 1},
             {"comment": "Cán bộ Khai hướng dẫn chưa rõ", "phone": "0912345678"}),
            ("Minh", {"overall": 1}, {"comment": "Chờ quá lâu"}),
            ("Khai", {"overall": 5, "attitude": 5, "extra_request": "no"}, {"comment": "Thủ tục nhanh gọn."})]:
        store.init(path, "test-kiosk")
        with store.connect(path) as db, store.write(db):
            store.set_setting(db, "officer", officer)
        add_responses(path, 1, answers=answers, **private)
    assert live_central.cli("unit", "add", "Sở Xây dựng", "--name", "Sở Xây dựng").returncode == 0
    for name, role, display in [("lan", "supervisor", "Lan"), ("khai", "officer", "Khai"), ("minh", "officer", "Minh")]:
        who = ["--unit", "Sở Xây dựng", "--display-name", display]
        if role == "officer":  # in the roster, the login linked to it
            assert live_central.cli("officer", "add", "--unit", "Sở Xây dựng", "--name", display,
                                    "--id", f"cb-{name}").returncode == 0
            who = ["--officer", f"cb-{name}"]
        made = live_central.cli_input("add-user", name, "--role", role, *who, input="mat-khau-rat-dai\n")
        assert made.returncode == 0, made.stderr
    live_central.start()
    assert send(live_central, path)["accepted"] == 3
    assert live_central.cli("officer", "match", "--apply").returncode == 0  # sent by a kiosk before the roster
    return live_central


def log_in(page, base_url, name, password="mat-khau-rat-dai"):
    staff_log_in(page, base_url, name, password)


def shoot(page, name, screenshots):
    page.screenshot(path=str(screenshots / name), full_page=True)
    if SHOTS.parent.is_dir():
        SHOTS.mkdir(exist_ok=True)
        shutil.copy(screenshots / name, SHOTS / name)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_queue_case_publish_and_public_page(browser, central_with_cases, viewport, screenshots):
    from axe_playwright_python.sync_playwright import Axe

    size = "desktop" if viewport == DESKTOP else "phone"
    axe = Axe()
    serious = lambda page: [v["id"] for v in axe.run(page).response["violations"]  # noqa: E731
                            if v["impact"] in ("serious", "critical")]
    context = browser.new_context(viewport=viewport, locale="vi-VN")
    page = context.new_page()
    base = central_with_cases.url
    log_in(page, base, "lan")
    page.goto(base + "/cases")
    main = page.inner_text("main")
    assert "2 phản ánh" in main and "Thủ tục nhanh gọn." not in main  # the compliment is no case
    assert "Cán bộ Khai hướng dẫn chưa rõ" in main and "Thời điểm người dân phản ánh/đánh giá" in page.content()
    shoot(page, f"queue-{size}.png", screenshots)
    assert serious(page) == []
    page.get_by_label("Công chức").select_option("Khai")
    with page.expect_navigation():
        page.get_by_role("button", name="Xem").click()
    assert "1 phản ánh" in page.inner_text("main") and "officer=cb-khai" in page.url
    page.get_by_role("link", name=re.compile(r"^Phản ánh \d+$")).first.click()
    assert page.locator('a[href="tel:0912345678"]').count() == 1
    assert page.get_by_label("Người xử lý").input_value() == ""  # not pre-filled with the viewer
    page.get_by_label("Người xử lý").select_option(label="Khai")
    page.get_by_label("Nội dung trả lời người dân").fill("Đã liên hệ, hướng dẫn lại và xin lỗi Ông/Bà.")
    page.get_by_label("Đóng phản ánh").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Lưu").click()
    assert "đã đóng" in page.inner_text("h1") and "Lan · phân công cho: Khai" in page.inner_text("main")
    shoot(page, f"case-{size}.png", screenshots)
    assert serious(page) == []
    page.get_by_role("link", name="Công khai thành câu hỏi – trả lời điển hình").click()
    assert page.get_by_label("Câu hỏi (nội dung người dân phản ánh)").input_value() == "Cán bộ Khai hướng dẫn chưa rõ"
    assert serious(page) == []
    page.get_by_label("Câu hỏi (nội dung người dân phản ánh)").fill("Gọi lại cho tôi số 0912 345 678")
    page.get_by_label("Trả lời (kết quả giải quyết)").fill(ANSWER)
    with page.expect_navigation():
        page.get_by_role("button", name="Công khai", exact=True).click()
    assert "số điện thoại của người dân" in page.inner_text("main")
    shoot(page, f"publish-refused-{size}.png", screenshots)
    page.get_by_label("Câu hỏi (nội dung người dân phản ánh)").fill(QUESTION)
    with page.expect_navigation():
        page.get_by_role("button", name="Công khai", exact=True).click()
    assert "Lan · đã công khai trên trang công khai" in page.inner_text("main")
    page.get_by_role("link", name="Lời khen").click()
    assert "Thủ tục nhanh gọn." in page.inner_text("main") and serious(page) == []
    shoot(page, f"compliments-{size}.png", screenshots)
    anonymous = browser.new_context(viewport=viewport, locale="vi-VN")  # not logged in
    public = anonymous.new_page()
    public.goto(base + "/cong-khai")
    html = public.content()
    assert QUESTION in html and ANSWER in html
    for secret in ("0912345678", "0912 345 678", "Cán bộ Khai hướng dẫn chưa rõ", "Khai"):
        assert secret not in html
    shoot(public, f"public-{size}.png", screenshots)
    assert serious(public) == []
    public.get_by_role("link", name="English").click()
    assert "Typical questions and answers" in public.inner_text("h1") and serious(public) == []
    anonymous.close()
    context.close()


def test_an_officer_sees_only_their_own_cases_and_compliments(browser, central_with_cases):
    context = browser.new_context(viewport=PHONE, locale="vi-VN")
    page = context.new_page()
    log_in(page, central_with_cases.url, "minh")
    page.goto(central_with_cases.url + "/cases")
    main = page.inner_text("main")
    assert "1 phản ánh" in main and "Chờ quá lâu" in main and "Cán bộ Khai" not in main
    assert page.get_by_label("Công chức").count() == 0  # no officer picker: only their own
    page.goto(central_with_cases.url + "/compliments")
    assert "Thủ tục nhanh gọn." not in page.inner_text("main")  # Khai's, not Minh's
    context.close()
