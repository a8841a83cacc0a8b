"""A supervisor registers a hotline complaint, answers it in writing and records the outcome, in headless
Chromium on desktop and phone; axe-core finds nothing serious on these pages; screenshots for review."""

import re
from pathlib import Path

import pytest

from helpers import staff_log_in, tell_in_writing_satisfied_and_close

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
SHOTS = Path("/work/shots/i12-pakn")


@pytest.fixture
def central_with_supervisor(live_central):
    made = live_central.cli_input("add-user", "lan", "--role", "supervisor", "--unit", "Sở Xây dựng",
                                  "--display-name", "Trần Thị Lan", input="mat-khau-rat-dai\n")
    assert made.returncode == 0, made.stderr
    return live_central.start()


def serious(page):
    from axe_playwright_python.sync_playwright import Axe
    return [v["id"] for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_supervisor_registers_answers_in_writing_and_closes_a_hotline_complaint(
        browser, central_with_supervisor, viewport, screenshots):
    name = "desktop" if viewport == DESKTOP else "phone"
    shots = SHOTS if SHOTS.parent.exists() else screenshots
    shots.mkdir(exist_ok=True)
    base = central_with_supervisor.url
    context = browser.new_context(viewport=viewport, locale="vi-VN")
    page = context.new_page()
    staff_log_in(page, base, "lan", "mat-khau-rat-dai")
    page.get_by_role("link", name="Phản ánh, góp ý").click()
    with page.expect_navigation():
        page.get_by_role("link", name="Vào sổ phản ánh, kiến nghị từ kênh khác").click()
    assert serious(page) == []
    page.get_by_label("Tiếp nhận qua").select_option("hotline")
    page.get_by_label("Lĩnh vực phản ánh (yếu tố SIPAS)").select_option("officers")
    page.get_by_label("Nội dung phản ánh, kiến nghị").fill("Công chức quầy 3 hẹn trả kết quả nhưng không trả.")
    page.get_by_label("Họ tên người dân").fill("Nguyễn Thị Hoa")
    page.get_by_label("Số điện thoại hoặc thư điện tử").fill("0987654321")
    with page.expect_navigation():
        page.get_by_role("button", name="Vào sổ").click()
    assert "chỉ được lưu khi người dân đồng ý" in page.inner_text("main")  # no consent ticked: refused
    assert page.get_by_label("Họ tên người dân").input_value() == "Nguyễn Thị Hoa"  # what was typed is kept
    page.screenshot(path=str(shots / f"{name}-register-refused.png"), full_page=True)
    assert serious(page) == []
    page.get_by_label("Người dân đồng ý để cơ quan lưu họ tên và thông tin liên hệ cho mục đích này").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Vào sổ").click()
    main = page.inner_text("main")
    assert re.search(r"Phản ánh \d+ · mới", page.inner_text("h1"))
    assert "đường dây nóng" in main and "Công chức quầy 3 hẹn" in main and "Nguyễn Thị Hoa" in main
    assert "10 ngày làm việc" in main and "Chưa có văn bản trả lời." in main
    assert page.get_by_role("link", name="0987654321").get_attribute("href") == "tel:0987654321"
    assert serious(page) == []
    page.get_by_label("Nội dung trả lời người dân").fill("Sở đã trả kết quả cho Ông/Bà và nhắc nhở công chức.")
    with page.expect_navigation():
        page.get_by_role("button", name="Lưu", exact=True).click()
    page.get_by_label("Người ký").fill("Phạm Văn Minh")
    with page.expect_navigation():
        page.get_by_role("button", name="Lập văn bản trả lời").click()
    letter = page.inner_text("body")
    for text in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Số: 1/TB-PAKN", "THÔNG BÁO", "Kính gửi: Nguyễn Thị Hoa",
                 "Công chức quầy 3 hẹn trả kết quả nhưng không trả.",
                 "Sở đã trả kết quả cho Ông/Bà và nhắc nhở công chức.", "Phạm Văn Minh", "SỞ XÂY DỰNG"):
        assert text in letter, text
    assert "0987654321" not in page.content() and page.get_by_role("button", name="In văn bản").is_visible()
    page.screenshot(path=str(shots / f"{name}-letter.png"), full_page=True)
    assert serious(page) == []
    page.emulate_media(media="print")
    assert not page.get_by_role("link", name=re.compile("Quay lại phản ánh")).is_visible()  # not printed
    if viewport == DESKTOP:
        pdf = page.pdf(format="A4")
        assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page>") <= 2
    page.emulate_media(media="screen")
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("Quay lại phản ánh")).click()
    page.get_by_role("radio", name="bằng văn bản").check()
    page.get_by_label("Thời điểm", exact=True).fill("2020-01-01T10:30")  # before it was received: refused
    with page.expect_navigation():
        page.get_by_role("button", name="Ghi nhận việc thông báo").click()
    assert "sau khi tiếp nhận" in page.inner_text("main")
    page.go_back()
    tell_in_writing_satisfied_and_close(page)
    assert "đã đóng" in page.inner_text("h1")
    history = page.inner_text(".history >> nth=-1")
    for action in ("vào sổ, tiếp nhận qua", "ban hành văn bản trả lời số: 1/", "ghi nhận việc thông báo", "đã đóng"):
        assert action in history, action
    assert page.get_by_role("radio", name="hài lòng", exact=True).is_checked()
    page.screenshot(path=str(shots / f"{name}-case.png"), full_page=True)
    assert serious(page) == []
    with page.expect_navigation():
        page.get_by_role("link", name="Báo cáo tháng").click()
    main = re.sub(r"\s+", " ", page.inner_text("main"))
    assert "Số phản ánh, kiến nghị tiếp nhận 1 0" in main and "đường dây nóng 1 0" in main
    page.screenshot(path=str(shots / f"{name}-report.png"), full_page=True)
    assert serious(page) == []
    page.emulate_media(media="print")
    page.screenshot(path=str(shots / f"{name}-report-print.png"), full_page=True)
    context.close()
