"""A supervisor's working day end to end in headless Chromium against a real `central run` (issue 12, the
whole "Must show" story in order): the summary opens on yesterday and its "Cần xử lý" counts match the
seeded cases; the overdue link opens the overdue queue; a hotline complaint is registered, assigned from
the list, answered, its reply letter read back, the citizen's outcome recorded (closing before it is
refused), closed and published; the public page shows the anonymised text only; a compliment is no case;
an officer sees only their own (their duty's cases, and the complaint assigned to them). Screenshots of
the summary, queue, case, letter and public page at 1366×900 and 390×844 go to
test-output/screenshots/working-day/; axe-core finds nothing serious or critical on any page, and no page
scrolls sideways."""

import re
from datetime import datetime, timedelta
from datetime import time as clock_time

import pytest

from conftest import sqlite_only
from helpers import add_responses, send_to_live, staff_log_in, tell_in_writing_satisfied_and_close
from kiosk import store
from kiosk.clock import LOCAL_TZ, local_today, now_utc
from sync.central.workdays import WorkCalendar

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
PASSWORD = "mat-khau-rat-dai"
CITIZEN, PHONE_NO, DOSSIER = "Nguyễn Thị Hoa", "0987654321", "000.00.12.H59-261105-0042"
COMPLAINT = (f"Bà {CITIZEN} (điện thoại {PHONE_NO}) gọi đường dây nóng: hồ sơ số {DOSSIER} hẹn trả kết quả "
             "ngày 20 nhưng đến nay chưa có, quầy 3 không giải thích lý do.")
QUESTION = "Hồ sơ cấp phép xây dựng quá hẹn trả kết quả nhưng quầy tiếp nhận không giải thích lý do."
ANSWER = "Sở đã trả kết quả cho Ông/Bà, xin lỗi vì sự chậm trễ và nhắc nhở công chức quầy tiếp nhận."
PRAISE = "Thủ tục nhanh gọn, cán bộ nhiệt tình."


def at(day, hour, minute=0):
    return datetime.combine(day, clock_time(hour, minute), LOCAL_TZ)


def due_today_start(today, days, calendar):
    """The latest start day whose case falls due today (exactly `days` working days after it up to today),
    walked by hand over the calendar; None when today is not a working day."""
    if not calendar.is_working_day(today):
        return None
    day, counted = today, 0
    while True:
        if calendar.is_working_day(day):
            counted += 1
            if counted == days:
                return day - timedelta(days=1)
        day -= timedelta(days=1)


def respond(path, officer, count, answers, moment, **private):
    with store.connect(path) as db, store.write(db):
        store.set_setting(db, "officer", officer)
        store.set_setting(db, "counter", "3")
    add_responses(path, count, answers=answers, now=moment, **private)


@pytest.fixture
def working_day(live_central, tmp_path):
    """Kiosk cases: 2 overdue (30 and 20 days ago: Khai, Minh), 1 due today if today is a working day (Minh,
    5 working days back at least), 2 from yesterday (Khai, ratings of 2); yesterday also 9 satisfied ratings
    from Khai (one a compliment) and 3 from Minh (4s): yesterday's overall is 12 satisfied of 14."""
    path, today = tmp_path / "k.db", local_today(now_utc())
    yesterday = today - timedelta(days=1)
    store.init(path, "test-kiosk")
    low = {"overall": 2, "attitude": 1, "extra_request": "no"}
    good = {"overall": 5, "attitude": 5, "extra_request": "no"}
    respond(path, "Khai", 1, low, at(today - timedelta(days=30), 9), comment="Cán bộ Khai hướng dẫn chưa rõ",
            phone="0912345678")
    respond(path, "Minh", 1, {"overall": 1}, at(today - timedelta(days=20), 10), comment="Chờ quá lâu")
    due = due_today_start(today, 5, WorkCalendar())  # CENTRAL_CASE_DAYS' default: 5
    if due is not None:
        respond(path, "Minh", 1, {"overall": 2}, at(due, 11), reasons=["long_wait"])
    respond(path, "Khai", 1, low, at(yesterday, 8, 30), comment="Phải đi lại ba lần")
    respond(path, "Khai", 1, low, at(yesterday, 8, 45))
    respond(path, "Khai", 8, good, at(yesterday, 9))
    respond(path, "Khai", 1, good, at(yesterday, 10), comment=PRAISE)
    respond(path, "Minh", 3, {"overall": 4, "attitude": 4}, at(yesterday, 14))
    assert live_central.cli("unit", "add", "Sở Xây dựng", "--name", "Sở Xây dựng").returncode == 0
    for officer_id, name in (("cb-khai", "Khai"), ("cb-minh", "Minh")):  # the roster (issue 13)
        added = live_central.cli("officer", "add", "--unit", "Sở Xây dựng", "--name", name, "--id", officer_id)
        assert added.returncode == 0, added.stderr
    for name, role, display in [("lan", "supervisor", "Trần Thị Lan"), ("minh-pho", "supervisor", "Phạm Văn Minh"),
                                ("khai", "officer", "Khai"), ("minh", "officer", "Minh")]:
        linked = ("--officer", f"cb-{name}") if role == "officer" else ()
        made = live_central.cli_input("add-user", name, "--role", role, "--unit", "Sở Xây dựng",
                                      "--display-name", display, *linked, input=PASSWORD + "\n")
        assert made.returncode == 0, made.stderr
    live_central.start()
    sent = send_to_live(live_central, path)
    # The kiosk's responses name their officers as a kiosk without the roster did: map them to the ids.
    assert live_central.cli("officer", "match", "--apply").returncode == 0
    live_central.expected = {"open": 4 + (due is not None), "overdue": 2, "due_today": int(due is not None)}
    assert sent["accepted"] == 16 + live_central.expected["due_today"]
    return live_central


def log_in(page, base_url, name):
    staff_log_in(page, base_url, name, PASSWORD)


def serious(page):
    from axe_playwright_python.sync_playwright import Axe
    return [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in Axe().run(page).response["violations"]
            if v["impact"] in ("serious", "critical")]


def looked_at(page, viewport, folder, name):
    """No sideways scroll, nothing serious for axe-core, the whole page kept as a PNG."""
    size = "desktop" if viewport == DESKTOP else "phone"
    page.screenshot(path=str(folder / f"{name}-{size}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], name
    assert serious(page) == [], name


def text(page, selector="main"):
    return re.sub(r"\s+", " ", page.inner_text(selector))


def todo_counts(page):
    items = page.locator(".todo-list li").all_inner_texts()
    return {key: int(re.match(r"\s*(\d+)", item).group(1)) for key, item in zip(("open", "overdue", "due_today"),
                                                                                  items, strict=True)}


@sqlite_only  # the figures on both stores: test_central_summary.py, test_case_queue.py, test_pakn.py
def test_a_supervisors_working_day_from_the_summary_to_the_public_page(browser, working_day, screenshots):
    folder = screenshots / "working-day"
    folder.mkdir(exist_ok=True)
    base, expected = working_day.url, working_day.expected
    context = browser.new_context(viewport=DESKTOP, locale="vi-VN")
    page = context.new_page()
    log_in(page, base, "lan")
    pages = {"summary": page.url}

    # The summary: yesterday by default, its headline, and what needs doing now.
    yesterday = local_today(now_utc()) - timedelta(days=1)
    assert page.locator("strong.day").inner_text() == f"{yesterday.strftime('%d/%m/%Y')} (hôm qua)"
    main = text(page)
    assert "Hài lòng chung 85,7% (12 trên 14 phiếu)" in main, main[:600]
    assert todo_counts(page) == expected
    looked_at(page, DESKTOP, folder, "summary")

    # The overdue queue from the summary's link: the two late cases, the oldest first.
    with page.expect_navigation():
        page.locator(".todo-list li").nth(1).get_by_role("link").click()
    assert "overdue=1" in page.url
    assert text(page, "p.note").startswith("2 phản ánh, trong đó 2 quá hạn")
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 2 and "Cán bộ Khai hướng dẫn chưa rõ" in rows.first.inner_text()
    assert "Chờ quá lâu" in rows.nth(1).inner_text() and rows.first.locator(".late-mark").count() == 1
    pages["queue"] = page.url
    looked_at(page, DESKTOP, folder, "queue")

    # A hotline complaint, registered with the citizen's consent.
    with page.expect_navigation():
        page.get_by_role("link", name="Vào sổ phản ánh, kiến nghị từ kênh khác").click()
    assert serious(page) == []
    page.get_by_label("Tiếp nhận qua").select_option("hotline")
    page.get_by_label("Lĩnh vực phản ánh (yếu tố SIPAS)").select_option("results")
    page.get_by_label("Nội dung phản ánh, kiến nghị").fill(COMPLAINT)
    page.get_by_label("Họ tên người dân").fill(CITIZEN)
    page.get_by_label("Số điện thoại hoặc thư điện tử").fill(PHONE_NO)
    page.get_by_label("Người dân đồng ý để cơ quan lưu họ tên và thông tin liên hệ cho mục đích này").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Vào sổ").click()
    case_id = int(re.search(r"Phản ánh (\d+) · mới", page.inner_text("h1")).group(1))

    # Back to the queue: the new complaint is listed (open, not late); opened from the list and assigned.
    with page.expect_navigation():
        page.get_by_role("link", name="Phản ánh, góp ý", exact=True).click()
    assert text(page, "p.note").startswith(f"{expected['open'] + 1} phản ánh, trong đó 2 quá hạn")
    assert PRAISE not in text(page)  # the compliment is no case
    row = page.locator("table.queue tbody tr", has=page.get_by_role("link", name=f"Phản ánh {case_id}", exact=True))
    assert "đường dây nóng" in row.inner_text() and row.locator(".late-mark").count() == 0
    with page.expect_navigation():
        row.get_by_role("link", name=f"Phản ánh {case_id}", exact=True).click()
    choices = page.get_by_label("Người xử lý").locator("option").all_inner_texts()
    assert {"Trần Thị Lan", "Phạm Văn Minh", "Khai", "Minh"} <= set(choices)  # the unit's staff
    page.get_by_label("Người xử lý").select_option(label="Minh")
    page.get_by_label("Nội dung trả lời người dân").fill(ANSWER)
    with page.expect_navigation():
        page.get_by_role("button", name="Lưu", exact=True).click()
    assert "Trần Thị Lan · phân công cho: Minh" in text(page)
    assert page.get_by_role("link", name=PHONE_NO).get_attribute("href") == f"tel:{PHONE_NO}"

    # The reply letter, read back from its HTML.
    page.get_by_label("Người ký").fill("Phạm Văn Minh")
    with page.expect_navigation():
        page.get_by_role("button", name="Lập văn bản trả lời").click()
    letter = text(page, "body")
    for part in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "SỞ XÂY DỰNG", "THÔNG BÁO", "Số: 1/TB-PAKN",
                 f"Kính gửi: {CITIZEN}", COMPLAINT, ANSWER, "Phạm Văn Minh"):
        assert part in letter, part
    assert PHONE_NO not in page.content().replace(COMPLAINT, "")  # only inside the citizen's own words
    pages["letter"] = page.url
    looked_at(page, DESKTOP, folder, "letter")
    page.emulate_media(media="print")  # printed: the letter alone, on A4
    assert not page.get_by_role("link", name=re.compile("Quay lại phản ánh")).is_visible()
    assert page.pdf(format="A4").startswith(b"%PDF")
    page.emulate_media(media="screen")
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("Quay lại phản ánh")).click()

    # Closing before the citizen was told is refused with a reason, and changes nothing.
    page.get_by_label("Đóng phản ánh").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Lưu", exact=True).click()
    assert "hãy ghi nhận cách đã thông báo kết quả cho người dân" in text(page)
    assert "đã đóng" not in page.inner_text("h1") and serious(page) == []

    # The citizen was told in writing and said they were satisfied; then closed.
    tell_in_writing_satisfied_and_close(page)
    assert "đã đóng" in page.inner_text("h1")
    history = text(page, ".history >> nth=-1")
    for action in ("vào sổ, tiếp nhận qua: đường dây nóng", "phân công cho: Minh",
                   "ban hành văn bản trả lời số: 1/TB-PAKN", "thông báo kết quả cho người dân: bằng văn bản",
                   "; hài lòng", "đã đóng"):
        assert action in history, (action, history)
    pages["case"] = page.url
    looked_at(page, DESKTOP, folder, "case")

    # Published: the complaint as it was is refused (name, phone, dossier code); the rewritten text is kept.
    with page.expect_navigation():
        page.get_by_role("link", name="Công khai thành câu hỏi – trả lời điển hình").click()
    assert page.get_by_label("Câu hỏi (nội dung người dân phản ánh)").input_value() == COMPLAINT
    with page.expect_navigation():
        page.get_by_role("button", name="Công khai", exact=True).click()
    refused = text(page)
    for what in ("số điện thoại của người dân", "họ tên của người dân", "mã hồ sơ"):
        assert what in refused, what
    page.get_by_label("Câu hỏi (nội dung người dân phản ánh)").fill(QUESTION)
    with page.expect_navigation():
        page.get_by_role("button", name="Công khai", exact=True).click()
    assert "Trần Thị Lan · đã công khai trên trang công khai" in text(page)

    anonymous = browser.new_context(viewport=DESKTOP, locale="vi-VN")  # the public, not logged in
    public = anonymous.new_page()
    public.goto(base + "/cong-khai")
    html = public.content()
    assert QUESTION in html and ANSWER in html
    for secret in (CITIZEN, PHONE_NO, DOSSIER, "0912345678", "Khai"):
        assert secret not in html, secret
    pages["public"] = public.url
    looked_at(public, DESKTOP, folder, "public")
    anonymous.close()

    # The compliment: on its own page, never in the queue, whatever the status.
    page.goto(base + "/cases")
    assert PRAISE not in text(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Lời khen").click()
    assert PRAISE in text(page) and serious(page) == []
    context.close()

    # The same pages on a phone (the public one not logged in).
    public_url = pages.pop("public")
    for name, urls in (("lan", pages), (None, {"public": public_url})):
        phone = browser.new_context(viewport=PHONE, locale="vi-VN")
        small = phone.new_page()
        if name:
            log_in(small, base, name)
        for shot, url in urls.items():
            small.goto(url)
            looked_at(small, PHONE, folder, shot)
        phone.close()

    # An officer sees only the cases of their own duty, and only their own compliments.
    officer = browser.new_context(viewport=PHONE, locale="vi-VN")
    own = officer.new_page()
    log_in(own, base, "khai")
    own.goto(base + "/cases")
    main = text(own, "table.queue")
    assert text(own, "p.note").startswith("3 phản ánh, trong đó 1 quá hạn")
    assert "Cán bộ Khai hướng dẫn chưa rõ" in main and "Phải đi lại ba lần" in main
    assert "Chờ quá lâu" not in main and "đường dây nóng" not in main
    assert own.goto(base + f"/cases/{case_id}").status == 404
    own.goto(base + "/compliments")
    assert PRAISE in text(own)
    officer.close()
    officer = browser.new_context(viewport=PHONE, locale="vi-VN")  # Minh: his duty and the PAKN given him
    own = officer.new_page()
    log_in(own, base, "minh")
    assert todo_counts(own) == {"open": expected["open"] - 3, "overdue": 1, "due_today": expected["due_today"]}
    own.goto(base + "/cases")
    main = text(own, "table.queue")
    assert "Chờ quá lâu" in main and "đường dây nóng" in main and "Cán bộ Khai" not in main
    assert own.goto(base + f"/cases/{case_id}").status == 200 and QUESTION not in own.content()
    officer.close()
