"""The survey in real headless Chromium, as a citizen taps it on a 10-inch tablet."""

from urllib.parse import urlsplit

import pytest

from helpers import PORTRAIT, VI_FLOW, Tablet, settled, stored

pytestmark = pytest.mark.browser

LANDSCAPE = {"width": 1280, "height": 800}
EXPECTED_ANSWERS = {"overall": 4, "guidance": 5, "attitude": 2, "fairness": 3,
                    "timeliness": 4, "extra_request": "no", "visits": "1"}


def test_full_response_in_vietnamese_by_tapping_only(browser, live_kiosk, screenshots):
    kiosk = live_kiosk()
    tablet = Tablet(browser, kiosk).open()
    assert tablet.page.locator("html").get_attribute("lang") == "vi"
    for screen, answer in VI_FLOW:
        tablet.shot(screenshots, f"vi-{screen}")
        tablet.tap(answer)
    tablet.shot(screenshots, "vi-08-feedback")
    tablet.tap("Thái độ chưa lịch sự, thiếu tôn trọng", role="checkbox")
    tablet.shot(screenshots, "vi-08-feedback-reason")
    tablet.tap("Gửi đánh giá")
    assert "Đánh giá đã được ghi nhận" in tablet.page.inner_text("main")
    tablet.page.wait_for_timeout(2100)
    tablet.shot(screenshots, "vi-09-thanks")

    assert tablet.taps <= 9
    [response] = stored(kiosk)
    assert response["answers"] == EXPECTED_ANSWERS
    assert response["reasons"] == ["impolite"]
    assert response["complete"] == 1
    assert tablet.foreign_requests() == []
    tablet.page.wait_for_url(kiosk.url + "/", timeout=8000)  # thank-you returns to welcome
    tablet.close()


def test_full_response_in_english(browser, live_kiosk, screenshots):
    kiosk = live_kiosk()
    tablet = Tablet(browser, kiosk).open()
    tablet.tap("English", role="link")
    assert tablet.page.locator("html").get_attribute("lang") == "en"
    flow = ["Satisfied", "Very satisfied", "Dissatisfied", "Neutral", "Satisfied", "No", "Once"]
    for i, answer in enumerate(flow, 1):
        tablet.shot(screenshots, f"en-{i:02d}")
        tablet.tap(answer)
    tablet.page.get_by_label("Comment").fill("Cán bộ hướng dẫn tận tình")
    tablet.shot(screenshots, "en-08-feedback")
    tablet.tap("Send")
    assert "Your rating has been saved" in tablet.page.inner_text("main")
    [response] = stored(kiosk)
    assert response["answers"] == EXPECTED_ANSWERS
    assert response["comment_hash"] is not None
    assert tablet.foreign_requests() == []
    tablet.close()


def test_abandoned_survey_is_kept_as_incomplete_after_idle_timeout(browser, live_kiosk):
    kiosk = live_kiosk(KIOSK_IDLE_SECONDS="3")
    tablet = Tablet(browser, kiosk).open()
    tablet.tap("English", role="link")
    tablet.tap("Very dissatisfied")
    tablet.tap("Satisfied")
    assert tablet.page.url.endswith("/q/attitude")
    tablet.page.wait_for_url(kiosk.url + "/", timeout=10_000)
    assert tablet.page.locator("html").get_attribute("lang") == "vi"  # next citizen starts in Vietnamese
    [response] = stored(kiosk)
    assert response["complete"] == 0
    assert response["answers"] == {"overall": 1, "guidance": 4}
    tablet.close()


def test_full_response_with_javascript_disabled(browser, live_kiosk, screenshots):
    kiosk = live_kiosk()
    tablet = Tablet(browser, kiosk, js=False).open()
    for _screen, answer in VI_FLOW:
        tablet.tap(answer)
    tablet.tap("Gây phiền hà, nhũng nhiễu", role="checkbox")
    tablet.tap("Thái độ chưa lịch sự, thiếu tôn trọng", role="checkbox")
    tablet.page.get_by_label("Số điện thoại để được liên hệ lại").fill("0912 345 678")
    tablet.tap("Gửi đánh giá")  # no consent yet: refused, nothing stored
    assert "đánh dấu ô đồng ý" in tablet.page.inner_text("main")
    assert stored(kiosk) == []
    tablet.shot(screenshots, "nojs-feedback-error")
    tablet.page.get_by_role("checkbox", name="Tôi đồng ý", exact=False).tap()
    tablet.tap("Gửi đánh giá")
    assert "Đánh giá đã được ghi nhận" in tablet.page.inner_text("main")
    [response] = stored(kiosk)
    assert response["answers"] == EXPECTED_ANSWERS
    assert response["reasons"] == ["harassment", "impolite"]
    assert response["contact_hash"] is not None
    tablet.close()


def survey_screens(tablet):
    """Walk every screen in the current language (low ratings, so reasons show); yield its name."""
    page = tablet.page

    def press(selector):
        settled(page)
        with page.expect_navigation():
            page.locator(selector).tap()

    yield "welcome"
    for value in ["1", "2", "2", "3", "4", "yes", "3+"]:
        press(f'button[name=answer][value="{value}"]')
        yield urlsplit(page.url).path.rsplit("/", 1)[-1]  # the screen reached
    press("button[value=submit]")
    yield "thanks"
    tablet.open("/q/no-such-question")
    yield "error"
    tablet.open("/staff/")
    yield "staff-login"
    page.locator("#pin").fill("2468")
    press("button[type=submit]")
    yield "staff-home"
    page.locator("#counter").fill("12")
    page.locator("#officer").fill("Nguyễn Thị Minh Khai")
    press("form[action$=duty] button")
    yield "staff-home-duty-set"
    tablet.open("/reset")
    yield "welcome-with-duty"


def test_no_serious_accessibility_violation_on_any_screen(browser, live_kiosk):
    from axe_playwright_python.sync_playwright import Axe

    kiosk = live_kiosk()
    axe = Axe()
    for lang in ("vi", "en"):
        tablet = Tablet(browser, kiosk).open(f"/lang/{lang}?next=/")
        for screen in survey_screens(tablet):
            expected = "vi" if screen == "welcome-with-duty" else lang  # /reset restores Vietnamese
            assert tablet.page.locator("html").get_attribute("lang") == expected, screen
            violations = [
                (v["id"], v["impact"], [n["target"] for n in v["nodes"]])
                for v in axe.run(tablet.page).response["violations"]
                if v["impact"] in ("serious", "critical")
            ]
            assert violations == [], f"{lang} {screen}"
        tablet.close()


@pytest.mark.parametrize("viewport", [PORTRAIT, LANDSCAPE], ids=["portrait", "landscape"])
def test_every_screen_fits_without_scrolling_with_big_targets(browser, live_kiosk, viewport,
                                                              screenshots):
    kiosk = live_kiosk()
    tablet = Tablet(browser, kiosk, viewport=viewport).open()
    for number, screen in enumerate(survey_screens(tablet), 1):
        page = tablet.page
        page.wait_for_timeout(100)
        tablet.shot(screenshots, f"{'portrait' if viewport == PORTRAIT else 'landscape'}-{number:02d}-{screen}")
        assert page.evaluate("document.documentElement.scrollHeight") <= viewport["height"], screen
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], screen
        font = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        assert font >= 22, screen
        # A checkbox's target is the whole label around it.
        small = page.evaluate("""() => [...document.querySelectorAll(
                'button, a, input:not([type=hidden]), textarea')]
            .filter(e => e.checkVisibility())
            .map(e => e.type === 'checkbox' ? e.closest('label') : e)
            .map(e => [e.textContent.trim() || e.name, e.getBoundingClientRect()])
            .filter(([_, r]) => r.height < 64 || r.width < 64)
            .map(([name, r]) => name + ' ' + Math.round(r.width) + 'x' + Math.round(r.height))""")
        assert small == [], screen
    assert tablet.foreign_requests() == []
    tablet.close()
