"""The admins' roster page (issue 13): add, rename and retire units, counters and officers, map old names;
Vietnamese first, English one tap away; a refused change says why and changes nothing; admins only.
In headless Chromium at 1366×900 and 390×844: no sideways scroll, axe-core clean, screenshots kept."""

import pytest

from conftest import sqlite_only
from helpers import STAFF_PASSWORD, csrf, log_in, staff_log_in
from sync.central.store import accounts, roster, roster_match

UNIT = "Sở Xây dựng"


@pytest.fixture
def admin(central_app, central_engine):
    accounts.add_user(central_engine, "admin", "admin", None, STAFF_PASSWORD)
    accounts.add_user(central_engine, "sup", "supervisor", UNIT, STAFF_PASSWORD)
    client = central_app.test_client()
    log_in(client, "admin")
    return client


def change(client, **form):
    return client.post("/roster", data={"csrf_token": csrf(client, "/roster"), **form})


def test_an_admin_builds_the_roster_on_the_page(admin, central_engine):
    page = admin.get("/roster").get_data(as_text=True)
    assert '<html lang="vi">' in page and "Danh mục đơn vị, quầy và công chức" in page and "English" in page
    assert "Chưa có đơn vị nào" in page
    assert "Đã thêm đơn vị." in change(admin, action="add_unit", code=UNIT, name="Sở Xây dựng tỉnh Đắk Lắk")\
        .get_data(as_text=True)
    assert "Đã thêm quầy." in change(admin, action="add_counter", unit=UNIT, id="Q1", name="Quầy 1")\
        .get_data(as_text=True)
    added = change(admin, action="add_officer", unit=UNIT, name="Nguyễn Văn Hùng").get_data(as_text=True)
    [officer] = roster.list_officers(central_engine, UNIT)
    assert f"Đã thêm công chức, mã {officer['id']}." in added
    renamed = change(admin, action="rename", unit=UNIT, kind="officer", key=officer["id"], name="Nguyễn Văn Hưng")
    assert "Đã đổi tên. Các phiếu đã lưu giữ nguyên tên" in renamed.get_data(as_text=True)
    assert change(admin, action="retire", unit=UNIT, kind="counter", key="Q1").status_code == 200
    assert roster.kiosk_roster(central_engine, UNIT) == {"counters": [],
                                                         "officers": [{"id": officer["id"], "name": "Nguyễn Văn Hưng"}]}
    page = admin.get(f"/roster?unit={UNIT}").get_data(as_text=True)
    assert "thôi sử dụng từ" in page and "Nguyễn Văn Hưng" in page
    admin.get("/lang/en")
    assert "Roster: units, counters and officers" in admin.get("/roster").get_data(as_text=True)


@pytest.mark.parametrize("form, message", [
    ({"action": "add_counter", "id": "Quầy 1", "name": "Quầy 1"}, "Mã gồm 1 đến 36 ký tự"),
    ({"action": "add_counter", "id": "Q1", "name": "Khác"}, "Mã này đã được dùng"),
    ({"action": "add_officer", "name": " "}, "Tên dài 1 đến 80 ký tự"),
    ({"action": "rename", "kind": "officer", "key": "cb-none", "name": "An"}, "Không tìm thấy mục này"),
    ({"action": "add_unit", "code": UNIT, "name": "Lại"}, "Mã này đã được dùng"),
])
def test_a_refused_change_says_why_and_changes_nothing(admin, central_engine, form, message):
    roster.add_unit(central_engine, UNIT, "Sở")
    roster.add_counter(central_engine, UNIT, "Q1", "Quầy 1")
    before = (roster.list_units(central_engine), roster.list_counters(central_engine),
              roster.list_officers(central_engine))
    reply = change(admin, unit=UNIT, **form)
    assert reply.status_code == 400
    assert f"Chưa có gì thay đổi. {message}" in reply.get_data(as_text=True)
    assert (roster.list_units(central_engine), roster.list_counters(central_engine),
            roster.list_officers(central_engine)) == before


def test_only_admins_see_the_roster_page(admin, central_app):
    other = central_app.test_client()
    log_in(other, "sup")
    assert other.get("/roster").status_code == 403
    assert "/roster" not in other.get("/").get_data(as_text=True)
    assert admin.post("/roster", data={"action": "add_unit", "code": "X", "name": "X"}).status_code == 400  # no CSRF


def test_old_names_are_listed_and_mapped_on_the_page(admin, old_responses):
    page = admin.get(f"/roster?unit={UNIT}").get_data(as_text=True)
    assert "Tên công chức trên các phiếu cũ, chưa gắn mã" in page
    assert all(f'<th scope="row">{name}</th>' in page for name in ("An", "Bình", "Cường"))
    assert "2 phiếu đã được gắn mã của công chức này." in change(
        admin, action="resolve", unit=UNIT, name="Bình", officer_id="cb-binh-2").get_data(as_text=True)
    assert "1 tên khớp đúng một công chức và đã được gắn mã." in change(admin, action="match", unit=UNIT)\
        .get_data(as_text=True)
    assert [row["name"] for row in roster_match.unresolved(old_responses)] == ["Cường"]


@sqlite_only
@pytest.mark.browser
@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 900}, {"width": 390, "height": 844}],
                         ids=["desktop", "phone"])
def test_the_roster_page_reads_on_desktop_and_phone(browser, live_central, screenshots, viewport):
    from axe_playwright_python.sync_playwright import Axe
    assert live_central.cli_input("add-user", "quan-tri", "--role", "admin", input="mat-khau-quan-tri\n")\
        .returncode == 0
    live_central.cli("unit", "add", "Sở Xây dựng", "--name", "Sở Xây dựng tỉnh Đắk Lắk")
    live_central.cli("unit", "add", "Trung tâm Phục vụ hành chính công", "--name", "Trung tâm PVHCC tỉnh")
    for number in (1, 2, 3):
        live_central.cli("counter", "add", "--unit", "Sở Xây dựng", "--id", f"Q{number}", "--name", f"Quầy {number}")
    for name in ("Nguyễn Văn Hùng", "Trần Thị Thu Hương", "Lê Minh Đức", "Nguyễn Văn Hùng"):
        live_central.cli("officer", "add", "--unit", "Sở Xây dựng", "--name", name)
    live_central.cli("counter", "retire", "Q3")
    live_central.start()
    context = browser.new_context(viewport=viewport, locale="vi-VN")
    page = context.new_page()
    staff_log_in(page, live_central.url, "quan-tri", "mat-khau-quan-tri")
    page.get_by_role("link", name="Danh mục").click()
    page.get_by_label("Họ và tên công chức, có dấu").fill("Phạm Thị Mai")
    with page.expect_navigation():
        page.get_by_role("button", name="Thêm công chức").click()
    assert "Đã thêm công chức, mã cb-" in page.inner_text("main")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    name = "desktop" if viewport["width"] > 600 else "phone"
    page.screenshot(path=str(screenshots / f"roster-{name}.png"), full_page=True)
    page.screenshot(path=str(screenshots / f"roster-{name}-first-screen.png"))
    serious = [v["id"] for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == []
    context.close()
