"""Issue 8 in real headless Chromium: double taps, the last screen, Back after Send, a clean start."""

import re
import time

import pytest

from helpers import VI_FLOW, Tablet, settled, stored
from kiosk import drafts, store

pytestmark = pytest.mark.browser

COMPLAINT = "Cán bộ hẹn trả kết quả thứ Hai nhưng đến nay chưa có."


def draft_answers(kiosk):
    db = store.connect(kiosk.db_path)
    try:
        return [drafts.get_draft(db, row["id"])["answers"] for row in db["drafts"].rows]
    finally:
        db.close()


def test_a_double_tap_never_answers_the_screen_not_yet_seen(browser, live_kiosk):
    kiosk = live_kiosk(KIOSK_SETTLE_MS="800")  # the default
    tablet = Tablet(browser, kiosk).open()
    page = tablet.page
    settled(page)
    face = page.locator('button[name=answer][value="5"]').bounding_box()
    x, y = face["x"] + face["width"] / 2, face["y"] + face["height"] / 2
    first = time.monotonic()
    page.touchscreen.tap(x, y)  # "Rất hài lòng" on the welcome screen ...
    for after_ms in (150, 400, 700):  # ... and the same finger again, 150-800 ms later
        page.wait_for_timeout(max(0, after_ms - (time.monotonic() - first) * 1000))
        page.touchscreen.tap(x, y)
    assert time.monotonic() - first < 0.8
    page.wait_for_timeout(500)
    assert page.url == kiosk.url + "/q/guidance"
    assert draft_answers(kiosk) == [{"overall": 5}]
    tablet.tap("Rất hài lòng")  # once the screen has settled, a tap answers it
    assert page.url == kiosk.url + "/q/attitude"
    assert draft_answers(kiosk) == [{"overall": 5, "guidance": 5}]
    tablet.close()


def to_feedback(tablet, flow=VI_FLOW):
    for _screen, answer in flow:
        tablet.tap(answer)
    assert tablet.page.url.endswith("/feedback")


def test_back_and_skip_on_the_last_screen_keep_what_was_ticked_and_typed(browser, live_kiosk):
    kiosk = live_kiosk()
    tablet = Tablet(browser, kiosk).open()
    to_feedback(tablet)
    page = tablet.page
    assert page.get_by_role("button", name="Bỏ qua ›").count() == 0  # one way to finish: send
    tablet.tap("Thái độ chưa lịch sự, thiếu tôn trọng", role="checkbox")
    page.get_by_label("Góp ý").fill(COMPLAINT)
    tablet.tap("‹ Quay lại")
    assert page.url.endswith("/q/visits")
    tablet.tap("Bỏ qua ›")
    assert page.get_by_label("Góp ý").input_value() == COMPLAINT
    assert page.get_by_role("checkbox", name="Thái độ chưa lịch sự, thiếu tôn trọng").is_checked()
    tablet.tap("Gửi đánh giá")
    assert "Đánh giá đã được ghi nhận" in page.inner_text("main")
    [response] = stored(kiosk)
    assert response["reasons"] == ["impolite"] and response["complete"] == 1
    db = store.connect(kiosk.db_path)
    assert db["response_private"].get(response["seq"])["comment"] == COMPLAINT
    db.close()
    tablet.close()


def test_the_idle_reset_on_the_last_screen_keeps_the_typed_text(browser, live_kiosk):
    kiosk = live_kiosk(KIOSK_IDLE_SECONDS="3")  # 12 s on the last screen
    tablet = Tablet(browser, kiosk).open()
    to_feedback(tablet)
    tablet.page.get_by_label("Góp ý").fill(COMPLAINT)
    countdown = tablet.page.locator(".countdown")
    countdown.wait_for(state="visible", timeout=15_000)
    assert re.search(r"sau \d+ giây", countdown.inner_text())
    tablet.page.wait_for_url(kiosk.url + "/", timeout=15_000)
    [response] = stored(kiosk)
    assert response["complete"] == 0 and response["answers"]["visits"] == "1"
    assert response["comment_hash"] is not None
    tablet.close()


def test_browser_back_after_send_makes_no_second_response(browser, live_kiosk):
    kiosk = live_kiosk()
    tablet = Tablet(browser, kiosk).open()
    to_feedback(tablet)
    page = tablet.page
    page.get_by_label("Góp ý").fill("Thủ tục nhanh, cảm ơn cán bộ")
    tablet.tap("Gửi đánh giá")
    assert "Đánh giá đã được ghi nhận" in page.inner_text("main")
    page.go_back()
    if page.url.endswith("/feedback"):  # the browser kept the page, the comment still in the box
        tablet.tap("Gửi đánh giá")
    assert "Đánh giá đã được ghi nhận" in page.inner_text("main")
    page.go_back()
    page.go_back()
    if page.url.endswith("/q/visits"):
        tablet.tap("2 lần")
    [response] = stored(kiosk)
    assert response["answers"]["visits"] == "1"
    db = store.connect(kiosk.db_path)
    assert db["response_private"].count == 1 and db["drafts"].count == 0
    db.close()
    tablet.close()


def test_the_next_citizen_starts_over_and_sees_the_countdown(browser, live_kiosk):
    kiosk = live_kiosk(KIOSK_IDLE_SECONDS="6")
    tablet = Tablet(browser, kiosk).open()
    page = tablet.page
    for _screen, answer in VI_FLOW[:3]:
        tablet.tap(answer)
    assert "Câu 4/8" in page.inner_text("main")
    countdown = page.locator(".countdown")
    assert countdown.is_hidden()
    countdown.wait_for(state="visible", timeout=8_000)  # the last seconds are counted down
    assert re.search(r"sau [1-3] giây", countdown.inner_text())
    tablet.tap("Làm lại từ đầu")  # the next citizen, arriving
    assert page.url == kiosk.url + "/"
    assert "Câu 1/8" in page.inner_text("main") and page.locator(".chosen").count() == 0
    [response] = stored(kiosk)
    assert response["complete"] == 0
    assert response["answers"] == {"overall": 4, "guidance": 5, "attitude": 2}
    tablet.close()
