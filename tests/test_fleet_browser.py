"""The fleet page in headless Chromium on a desktop (1366×900) and a phone (390×844): kiosks reporting through
the real endpoint of a real `central run`, every state shown in words, worst first, no sideways scroll,
axe-core without serious or critical findings; English one tap away."""

from datetime import timedelta

import pytest

from conftest import sqlite_only
from helpers import config_request_live, staff_log_in
from kiosk.clock import now_utc, utc_iso

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
HEALTHY = {"software_version": "0.2.0", "questionnaire_version": "2026.1", "config_version": None, "pending": 0,
           "oldest_pending_age_s": None, "free_disk_bytes": 12_400_000_000, "last_error": None,
           "last_error_utc": None}
KIOSKS = {  # kiosk id: what its report changes from HEALTHY (None: it never reports)
    "mc-quay-01": {}, "mc-quay-02": {"pending": 37, "oldest_pending_age_s": 5400,
                                     "last_error": "Không kết nối được máy chủ trung tâm (ConnectionError)"},
    "mc-quay-03": {"clock_ahead_s": 450}, "mc-quay-04": {"free_disk_bytes": 310_000_000},
    "mc-quay-05": {"software_version": "0.1.4"}, "mc-quay-06": None,
}


@pytest.fixture
def reporting_fleet(live_central):
    made = live_central.cli_input("add-user", "quantri", "--role", "admin", input="mat-khau-rat-dai\n")
    assert made.returncode == 0, made.stderr
    live_central.start()
    for kiosk_id, change in KIOSKS.items():
        added = live_central.cli("add-kiosk", kiosk_id, "--unit", "Sở Xây dựng")
        assert added.returncode == 0, added.stderr
        if change is None:
            continue
        change = dict(change)
        clock = now_utc() + timedelta(seconds=change.pop("clock_ahead_s", 0))
        health = {**HEALTHY, **change, "clock_utc": utc_iso(clock)}
        if health["last_error"]:
            health["last_error_utc"] = utc_iso(clock - timedelta(minutes=4))
        reply = config_request_live(live_central.url, kiosk_id, added.stdout.strip(), health)
        assert reply.status_code == 200, reply.text
    return live_central


def looked_at(page, viewport, path):
    from axe_playwright_python.sync_playwright import Axe
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=f"{path}.png", full_page=True)
    page.screenshot(path=f"{path}-first-screen.png")
    violations = Axe().run(page).response["violations"]
    assert [v["id"] for v in violations if v["impact"] in ("serious", "critical")] == []


@sqlite_only  # the store's part on both databases: test_fleet.py, test_kioskconfig.py
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_fleet_page_reads_on_desktop_and_phone(browser, reporting_fleet, viewport, screenshots):
    name = "desktop" if viewport is DESKTOP else "phone"
    page = browser.new_page(viewport=viewport)
    try:
        staff_log_in(page, reporting_fleet.url, "quantri", "mat-khau-rat-dai")
        page.get_by_role("link", name="Máy đánh giá").click()
        page.wait_for_url("**/fleet")
        rows = page.locator("table.fleet tbody tr")
        assert rows.count() == 7  # live_central's test-kiosk too, which never reported
        order = [rows.nth(i).locator("th").inner_text().split("\n")[0] for i in range(7)]
        assert order == ["mc-quay-06", "test-kiosk", "mc-quay-02", "mc-quay-03", "mc-quay-04", "mc-quay-05",
                         "mc-quay-01"]
        for words in ("Im lặng", "Đang lỗi", "Lệch giờ", "Sắp đầy bộ nhớ", "Chưa cập nhật", "Bình thường",
                      "nhanh 7 phút", "310 MB", "12,4 GB"):
            assert page.get_by_text(words).first.is_visible(), words
        looked_at(page, viewport, screenshots / f"fleet-{name}")
        page.get_by_role("link", name="English").click()
        page.wait_for_url("**/fleet")
        assert page.get_by_text("Clock off").first.is_visible()
        looked_at(page, viewport, screenshots / f"fleet-{name}-en")
    finally:
        page.close()
