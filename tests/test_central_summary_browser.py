"""The summary and the trends in headless Chromium on a desktop (1366×900) and a phone (390×844): 40 days
of responses with gaps, yesterday by default, the day buttons, an alert acknowledged on the page, chart
labels of 12 px or more, a date label per week, axe-core without serious or critical findings."""

import json
import random
import re
import time
from datetime import datetime, timedelta
from datetime import time as clock_time

import pytest
import requests

from conftest import sqlite_only
from helpers import add_responses, staff_log_in, wire_responses
from kiosk import store
from kiosk.clock import LOCAL_TZ, local_today, now_utc
from sync import wire

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
GAP_DAYS = {5, 6, 17, 18, 19}  # days back with no responses at all
OFFICERS = ["Lan", "Minh", "Hùng", "Thu"]


def post_all(central, path):
    rows = wire_responses(path)
    for start in range(0, len(rows), 400):
        body = json.dumps(wire.batch("test-kiosk", rows[start:start + 400])).encode()
        stamp = str(int(time.time()))
        reply = requests.post(central.url + "/api/v1/batches", data=body, timeout=30, headers={
            "Content-Type": "application/json", wire.KIOSK_HEADER: "test-kiosk", wire.TIMESTAMP_HEADER: stamp,
            wire.SIGNATURE_HEADER: wire.sign(central.secret, stamp, body)})
        assert reply.ok, reply.text


@pytest.fixture
def central_with_weeks(live_central, tmp_path):
    """40 days of responses (none on GAP_DAYS), then a burst of bad ratings now that opens an alert."""
    rng, path = random.Random(12), tmp_path / "k.db"
    today = local_today(now_utc())
    store.init(path, "test-kiosk")
    for back in range(40, 0, -1):
        if back in GAP_DAYS:
            continue
        day = today - timedelta(days=back)
        for i in range(rng.randint(4, 16) if back != 1 else 22):
            with store.connect(path) as db, store.write(db):  # yesterday: Thu 12 responses, the others 3 or 4
                store.set_setting(db, "officer", OFFICERS[i % 4] if back != 1 or i >= 12 else "Thu")
                store.set_setting(db, "counter", str(1 + i % 3))
            overall = rng.choices([1, 2, 3, 4, 5], weights=[1, 1, 2, 5, 6 if back % 7 else 2])[0]
            moment = datetime.combine(day, clock_time(8 + i % 9, 5 * (i % 12)), LOCAL_TZ)
            add_responses(path, 1, answers={"overall": overall, "guidance": rng.randint(2, 5),
                                            "attitude": rng.randint(3, 5), "fairness": 5,
                                            "timeliness": rng.choice([3, 4, 5]), "visits": "1",
                                            "extra_request": rng.choice(["no"] * 9 + ["yes"])},
                          now=moment, reasons=["long_wait"] if overall <= 2 else None)
    add_responses(path, 4, answers={"overall": 1, "attitude": 1}, reasons=["impolite"])  # the alert's burst
    made = live_central.cli_input("add-user", "lan", "--role", "supervisor", "--unit", "Sở Xây dựng",
                                  "--display-name", "Lan", "--email", "lan@example.gov.vn",
                                  input="mat-khau-rat-dai\n")
    assert made.returncode == 0, made.stderr
    live_central.start()
    post_all(live_central, path)
    return live_central


def log_in(page, base_url):
    staff_log_in(page, base_url, "lan", "mat-khau-rat-dai")


def looked_at(page, viewport, path):
    """No sideways scroll, axe-core finds nothing serious; the whole page and its first screen kept as PNGs."""
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=f"{path}.png", full_page=True)
    page.screenshot(path=f"{path}-first-screen.png")
    assert serious(page) == []


def serious(page):
    from axe_playwright_python.sync_playwright import Axe
    return [v["id"] for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]


def rendered_font_px(svg):
    """The px size of the chart's labels: its font size in SVG units times the drawn width per unit."""
    box = svg.bounding_box()
    view_width = float(svg.get_attribute("viewBox").split()[2])
    return float(svg.get_attribute("font-size")) * box["width"] / view_width


@sqlite_only  # the figures on both stores: test_central_summary.py
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_summary_and_trends_read_on_desktop_and_phone(browser, central_with_weeks, viewport, screenshots):
    name = "desktop" if viewport == DESKTOP else "phone"
    context = browser.new_context(viewport=viewport, locale="vi-VN")
    page = context.new_page()
    log_in(page, central_with_weeks.url)
    yesterday = local_today(now_utc()) - timedelta(days=1)
    assert page.locator("strong.day").inner_text() == f"{yesterday.strftime('%d/%m/%Y')} (hôm qua)"
    main = page.inner_text("main")
    assert "Cần xử lý" in main and re.search(r"Hài lòng chung\s+\d+,\d%", main)
    assert re.search(r"(Đạt|Gần đạt|Chưa đạt) mục tiêu", main)
    assert "quá ít phản hồi" in main  # yesterday: at most 4 responses for Lan, Minh and Hùng
    officers = page.locator("table.ranked").nth(1).locator("tbody th").all_text_contents()
    assert officers[0] == "Thu" and sorted(officers[1:]) == ["Hùng", "Lan", "Minh"]  # enough responses first
    assert "Cảnh báo cần xử lý" in main and "nhiều đánh giá không hài lòng" in main
    looked_at(page, viewport, screenshots / f"summary-{name}")

    page.get_by_label("Việc đã làm (bắt buộc)").fill("Đã gặp người dân ở quầy 2.")
    with page.expect_navigation():
        page.get_by_role("button", name="Xác nhận đã xử lý").click()
    assert "Cảnh báo cần xử lý" not in page.inner_text("main")
    with page.expect_navigation():
        page.get_by_role("link", name="Ngày trước").click()
    before = yesterday - timedelta(days=1)
    assert page.locator("strong.day").inner_text() == before.strftime("%d/%m/%Y")
    with page.expect_navigation():
        page.goto(central_with_weeks.url + f"/?date={(local_today(now_utc()) - timedelta(days=5)).isoformat()}")
    assert "Không có phiếu đánh giá nào trong ngày" in page.inner_text("main")
    assert serious(page) == []

    page.goto(central_with_weeks.url + "/trends?days=30")
    charts = page.locator("svg.narrow" if viewport == PHONE else "svg.wide")
    other = page.locator("svg.wide" if viewport == PHONE else "svg.narrow")
    assert charts.count() == 5 and charts.first.is_visible() and not other.first.is_visible()
    assert rendered_font_px(charts.first) >= 12
    end = local_today(now_utc())
    mondays = sum((end - timedelta(days=i)).weekday() == 0 for i in range(30))
    dates = [t for t in charts.first.locator("text").all_text_contents() if re.fullmatch(r"\d\d/\d\d", t)]
    assert len(dates) == mondays and 4 <= mondays <= 5
    assert charts.first.locator("polyline.daily").count() >= 2  # the line breaks over the gaps
    assert charts.first.locator("polyline.average").count() >= 1 and charts.first.locator("line.target").count() == 1
    assert charts.first.locator("rect").count() == 30 - len([d for d in GAP_DAYS if d < 30])  # today: the burst
    looked_at(page, viewport, screenshots / f"trends-{name}")
    page.get_by_label("Thời gian").select_option("90")
    with page.expect_navigation():
        page.get_by_role("button", name="Xem").click()
    assert "90 ngày gần nhất" in page.inner_text("h1") and rendered_font_px(charts.first) >= 12
    assert serious(page) == []
    context.close()


@sqlite_only
def test_an_admin_sets_a_units_target_on_its_page(browser, live_central, screenshots):
    made = live_central.cli_input("add-user", "quan-tri", "--role", "admin", input="mat-khau-quan-tri\n")
    assert made.returncode == 0, made.stderr
    live_central.start()
    context = browser.new_context(viewport=PHONE, locale="vi-VN")
    page = context.new_page()
    staff_log_in(page, live_central.url, "quan-tri", "mat-khau-quan-tri")
    assert "Không có phiếu đánh giá nào trong ngày" in page.inner_text("main")
    page.get_by_role("link", name="Mục tiêu").click()
    page.get_by_label("Mục tiêu của Sở Xây dựng, tính theo phần trăm").fill("85")
    with page.expect_navigation():
        page.get_by_role("button", name="Lưu").click()
    assert "Đã lưu mục tiêu của Sở Xây dựng: 85%." in page.inner_text("main")
    assert page.get_by_label("Mục tiêu của Sở Xây dựng, tính theo phần trăm").input_value() == "85"
    page.screenshot(path=str(screenshots / "targets-phone.png"), full_page=True)
    assert serious(page) == []
    page.goto(live_central.url + "/trends?unit=Sở Xây dựng")
    assert "mục tiêu 85,0%" in page.inner_text("main")
    context.close()
