"""Issue 13 end to end with real processes and headless Chromium: an officer added at central is a
choice in kiosk staff mode after one `kiosk-sync --once`; staff picks (800x1280, looked at, axe clean);
a response given while that officer is on duty carries the officer id."""

import pytest
from sqlalchemy import select

from conftest import kiosk_sync, sqlite_only
from helpers import UNIT, VI_FLOW, Tablet, stored
from kiosk import outbox, store
from sync.central.store import database, roster, schema

pytestmark = pytest.mark.browser

NAMES = ["Nguyễn Văn Hùng", "Trần Thị Lan", "Lê Văn Đức", "Phạm Thị Hoa", "Hoàng Văn Nam", "Vũ Thị Mai",
         "Đặng Văn Long", "Bùi Thị Thu", "Đỗ Văn Khánh"]


def serious(axe, page):
    return [(v["id"], [n["target"] for n in v["nodes"]]) for v in axe.run(page).response["violations"]
            if v["impact"] in ("serious", "critical")]


@sqlite_only
def test_an_officer_added_at_central_is_picked_in_staff_mode_and_rated_by_id(
        browser, live_central, central_url, live_kiosk, screenshots):
    from axe_playwright_python.sync_playwright import Axe

    engine = database.engine_for(central_url)
    roster.add_unit(engine, UNIT, "Bộ phận Một cửa – Sở Xây dựng")
    for counter_id, name in (("Q1", "Quầy 1"), ("Q2", "Quầy 2"), ("Q3", "Quầy 3 – Đất đai")):
        roster.add_counter(engine, UNIT, counter_id, name)
    for name in NAMES:
        roster.add_officer(engine, UNIT, name)
    central = live_central.start()
    kiosk = live_kiosk()
    env = {**kiosk.env, "KIOSK_SECRET": central.secret, "CENTRAL_URL": central.url}
    assert kiosk_sync(env, "--once").returncode == 0
    new_id = roster.add_officer(engine, UNIT, "Lê Văn Mới")  # added at central ...
    engine.dispose()
    tablet = Tablet(browser, kiosk).open("/staff/")
    page = tablet.page
    page.locator("#pin").fill("2468")
    with page.expect_navigation():
        page.locator("form button[type=submit]").first.tap()
    assert page.get_by_role("radio", name="Lê Văn Mới").count() == 0
    assert kiosk_sync(env, "--once").returncode == 0  # ... a choice after one sync
    page.reload()
    assert page.get_by_role("radio", name="Lê Văn Mới").count() == 1
    assert "Bộ phận Một cửa – Sở Xây dựng" in page.inner_text("h1")
    tablet.shot(screenshots, "staff-roster-picks-800x1280")
    axe = Axe()
    assert serious(axe, page) == []
    for chip in page.locator(".pick-list .chip").all():  # large touch targets
        box = chip.bounding_box()
        assert box["height"] >= 48 and box["width"] >= 48
    search = page.locator("input[type=search]")  # ten officers: a search box, diacritics optional
    search.fill("moi")
    visible = [c.inner_text().strip() for c in page.locator("#officer-list .chip").all() if c.is_visible()]
    assert visible == ["Lê Văn Mới"]
    page.get_by_role("radio", name="Quầy 3 – Đất đai").check()
    page.get_by_role("radio", name="Lê Văn Mới").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Lưu", exact=True).tap()
    assert "Đã lưu: Quầy 3 – Đất đai · Lê Văn Mới" in page.inner_text("main")
    tablet.shot(screenshots, "staff-roster-saved-800x1280")
    assert serious(axe, page) == []
    tablet.open("/reset")
    assert "Lê Văn Mới" in page.inner_text("body")  # the citizen sees whom they rate, as before
    for _screen, answer in VI_FLOW:
        tablet.tap(answer)
    tablet.tap("Gửi đánh giá")
    [response] = stored(kiosk)
    assert (response["officer_id"], response["officer"], response["counter_id"]) == (new_id, "Lê Văn Mới", "Q3")
    with store.connect(kiosk.db_path) as db:
        [sent] = outbox.pending(db, 10)
    assert sent["officer_id"] == new_id and sent["counter_id"] == "Q3"  # what the outbox sends
    tablet.close()
    done = kiosk_sync(env, "--once")
    assert done.returncode == 0 and "1 accepted" in done.stdout, done.stdout + done.stderr
    engine = database.engine_for(central_url)
    with engine.connect() as conn:
        rows = conn.execute(select(schema.responses.c.officer_id, schema.responses.c.counter_id,
                                   schema.responses.c.officer)).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [(new_id, "Q3", "Lê Văn Mới")]
