"""Every kiosk screen fits the tablets departments buy: 600x1024 up to 1920x1080, both languages.

Measured in real headless Chromium from the DOM: no sideways scroll, nothing cut off, five equal
faces on screen and above the action bar, the action bar (Back, Start over, Skip, Send) inside the
viewport, also with an error shown and with the on-screen keyboard up; axe-core finds nothing
serious. Screenshots go to test-output/screenshots/layout-*.png.
"""

from urllib.parse import urlsplit

import pytest

from helpers import settled

pytestmark = pytest.mark.browser

SIZES = [(600, 1024), (800, 1280), (1280, 800), (1920, 1080)]
AXE_SIZES = {(600, 1024), (1280, 800)}  # one per layout (narrow, wide): axe costs ~0.3 s a run
LANGUAGES = ["vi", "en"]

# What the survey logic adds to these screens (a start-over button, the masked dossier code, the
# idle countdown, a "not yet" answer to timeliness); drawn here (only when the page has none) so the
# layout is measured with the crowded screens the citizen will really see.
PLACEHOLDERS = {
    "vi": {"restart": "Làm lại từ đầu", "dossier": "Hồ sơ đang đánh giá: ••••0001", "not-yet": "Chưa nhận kết quả",
           "countdown": "Màn hình sẽ trở về trang đầu sau 5 giây. Chạm vào màn hình để tiếp tục."},
    "en": {"restart": "Start over", "dossier": "Dossier being rated: ••••0001", "not-yet": "No result yet",
           "countdown": "This screen goes back to the start in 5 seconds. Tap anywhere to go on."},
}

ADD_PLACEHOLDERS = """([kinds, texts]) => {
  if (kinds.includes('restart') && !document.querySelector('.steps .restart')) {
    const button = document.createElement('button');
    button.type = 'button'; button.className = 'step restart'; button.textContent = texts.restart;
    document.querySelector('.steps [value=back]').after(button);
  }
  const scale = document.querySelector('.options-rating');
  if (kinds.includes('not-yet') && scale && scale.children.length === 5) {
    const button = document.createElement('button');
    button.type = 'button'; button.className = 'option';
    button.innerHTML = '<span class="label"></span>'; button.firstChild.textContent = texts['not-yet'];
    scale.append(button);
  }
  if (kinds.includes('dossier') && !document.querySelector('.dossier')) {
    const p = document.createElement('p');
    p.className = 'dossier'; p.textContent = texts.dossier;
    document.querySelector('.progress').before(p);
  }
  if (kinds.includes('countdown') && !document.querySelector('.countdown:not([hidden])')) {
    const div = document.createElement('div');
    div.className = 'countdown'; div.setAttribute('role', 'status'); div.textContent = texts.countdown;
    document.body.append(div);
  }
}"""

# Everything a layout check needs, in CSS pixels, read in one round trip.
MEASURE = """() => {
  const box = e => { const r = e.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height}; };
  const name = e => (e.getAttribute('aria-label') || e.textContent || e.name || e.tagName).trim().slice(0, 40);
  const visible = e => e.checkVisibility({visibilityProperty: true}) && e.getBoundingClientRect().width > 1;
  const bar = document.querySelector('.steps');
  return {
    scrollWidth: document.documentElement.scrollWidth,
    width: window.innerWidth, height: window.innerHeight,
    faces: [...document.querySelectorAll('.option .face')].map(box),
    bar: bar && box(bar),
    steps: [...document.querySelectorAll('.steps .step')].filter(visible).map(e => ({name: name(e), ...box(e)})),
    outside: [...document.querySelectorAll('body *')].filter(visible)
      .filter(e => !e.closest('.visually-hidden'))
      .map(e => [name(e), box(e)])
      .filter(([, r]) => r.left < -1 || r.right > window.innerWidth + 1)
      .map(([n, r]) => `${n} ${Math.round(r.left)}..${Math.round(r.right)}`),
    cut: [...document.querySelectorAll('.option, .option .label, .step, .lang, .chip, h1, .error')]
      .filter(visible)
      .filter(e => e.scrollWidth > e.clientWidth + 1)
      .map(e => `${name(e)} ${e.scrollWidth}>${e.clientWidth}`),
    labels_outside_buttons: [...document.querySelectorAll('.option .label')].filter(label => {
      const l = label.getBoundingClientRect(), b = label.closest('.option').getBoundingClientRect();
      return l.left < b.left - 1 || l.right > b.right + 1 || l.bottom > b.bottom + 1;
    }).map(name),
  };
}"""


def layout_problems(m, *, faces):
    """Every way the measured screen `m` breaks the layout rules, as readable strings (empty: fine)."""
    problems = []
    if m["scrollWidth"] > m["width"]:
        problems.append(f"scrolls sideways: {m['scrollWidth']} px wide")
    problems += [f"off screen: {item}" for item in m["outside"]]
    problems += [f"cut off: {item}" for item in m["cut"]]
    problems += [f"label outside its button: {item}" for item in m["labels_outside_buttons"]]
    if len(m["faces"]) != faces:
        problems.append(f"{len(m['faces'])} faces, expected {faces}")
    if m["faces"]:
        widths = [f["width"] for f in m["faces"]]
        heights = [f["height"] for f in m["faces"]]
        if max(widths) - min(widths) > 1 or max(heights) - min(heights) > 1:
            problems.append(f"faces of unequal size: {[round(w) for w in widths]}")
        if min(widths) < 40:
            problems.append(f"faces too small: {round(min(widths))} px")
        limit = m["bar"]["top"] if m["bar"] else m["height"]
        for number, face in enumerate(m["faces"], 1):
            if face["left"] < 0 or face["right"] > m["width"] or face["top"] < 0 or face["bottom"] > limit + 1:
                problems.append(f"face {number} off screen or under the action bar: {face}")
    bar = m["bar"]
    if bar is not None:
        if bar["top"] < 0 or bar["bottom"] > m["height"] + 1 or bar["left"] < -1 or bar["right"] > m["width"] + 1:
            problems.append(f"action bar outside the viewport: {bar}")
        for step in m["steps"]:
            if step["top"] < bar["top"] - 1 or step["bottom"] > bar["bottom"] + 1 or step["right"] > m["width"]:
                problems.append(f"button {step['name']!r} outside the action bar")
        if len({round(step["top"]) for step in m["steps"]}) > 1:
            problems.append(f"action bar on several rows: {[s['name'] for s in m['steps']]}")
        if m["steps"] and m["steps"][0]["left"] > bar["left"] + bar["width"] / 2 \
                and m["steps"][0]["name"].startswith("‹"):
            problems.append("Back is not on the left")
    return problems


def serious_violations(axe, page):
    return [(v["id"], [n["target"] for n in v["nodes"]])
            for v in axe.run(page).response["violations"] if v["impact"] in ("serious", "critical")]


class Walk:
    """One language's pass over every screen, checked at every size; problems are collected."""

    def __init__(self, browser, kiosk, lang, screenshots):
        from axe_playwright_python.sync_playwright import Axe

        self.kiosk, self.lang, self.folder, self.axe = kiosk, lang, screenshots, Axe()
        self.context = browser.new_context(viewport=dict(zip(("width", "height"), SIZES[0], strict=True)),
                                           has_touch=True, locale="vi-VN")
        self.context.clock.install()  # timers stand still: no idle reset while a screen is measured
        self.page = self.context.new_page()
        self.problems = []
        self.checked = 0

    def open(self, path):
        self.page.goto(self.kiosk.url + path)

    def press(self, selector):
        self.page.clock.run_for(2000)  # past the screen's settle time (timers stand still otherwise)
        with self.page.expect_navigation():
            self.page.locator(selector).first.tap()

    def placeholders(self, *kinds):
        self.page.evaluate(ADD_PLACEHOLDERS, [list(kinds), PLACEHOLDERS[self.lang]])

    def check(self, screen, *, faces=0, sizes=SIZES, then=None, in_view=()):
        """Measure the current page at each size and save a screenshot; run axe at AXE_SIZES.

        `then(walk)` runs after each resize (e.g. a tap that re-renders the page, seen from where the
        browser puts it); without it the page is measured from its top. `in_view`: selectors that
        must be on screen and above the action bar.
        """
        for width, height in sizes:
            self.page.set_viewport_size({"width": width, "height": height})
            if then:
                then(self)
            else:
                self.page.evaluate("window.scrollTo(0, 0)")
            assert self.page.locator("html").get_attribute("lang") == self.lang, screen
            if "error" not in screen:  # the screen itself, not the "this did not work" page
                assert self.page.locator(".message-screen").count() == 0, screen
            measured = self.page.evaluate(MEASURE)
            where = f"{self.lang} {width}x{height} {screen}"
            self.problems += [f"{where}: {p}" for p in layout_problems(measured, faces=faces)]
            for selector in in_view:
                box = self.page.locator(selector).bounding_box()
                if box is None or box["y"] < 0 or box["y"] + box["height"] > measured["bar"]["top"] + 1:
                    self.problems.append(f"{where}: {selector} not in view above the action bar: {box}")
            if (width, height) in AXE_SIZES:
                try:
                    violations = serious_violations(self.axe, self.page)
                except Exception as error:
                    raise AssertionError(f"{where}: axe did not run ({self.page.url})") from error
                self.problems += [f"{where}: axe {v}" for v in violations]
            self.page.screenshot(path=str(self.folder / f"layout-{self.lang}-{width}x{height}-{screen}.png"))
            self.checked += 1

    def keyboard_up(self, screen, field):
        """The on-screen keyboard takes ~45% of the height: the bar and the focused field stay visible.

        The page asks for interactive-widget=resizes-content, so the keyboard shrinks the viewport
        (what a smaller viewport here stands for) instead of covering the bottom of the page.
        """
        meta = self.page.locator("meta[name=viewport]").get_attribute("content")
        assert "interactive-widget=resizes-content" in meta
        for width, height in SIZES:
            self.page.set_viewport_size({"width": width, "height": height * 55 // 100})
            self.page.locator(field).focus()
            self.page.evaluate("document.activeElement.scrollIntoView({block: 'nearest'})")
            measured = self.page.evaluate(MEASURE)
            field_box = self.page.locator(field).bounding_box()
            where = f"{self.lang} {width}x{height} keyboard up {screen}"
            self.problems += [f"{where}: {p}" for p in layout_problems(measured, faces=0)]
            if field_box["y"] + field_box["height"] > measured["bar"]["top"] + 1:
                self.problems.append(f"{where}: {field} hidden under the action bar")
            self.page.screenshot(path=str(self.folder / f"layout-{self.lang}-{width}x{height}-{screen}-keyboard.png"))

    def close(self):
        self.context.close()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_screen_fits_every_tablet(browser, live_kiosk, screenshots, lang):
    """Welcome, each question, the last screen (plain, 4 buttons, consent error, keyboard up),
    thank-you, error page, staff login and staff mode: at 600x1024, 800x1280, 1280x800 and 1920x1080."""
    kiosk = live_kiosk()
    walk = Walk(browser, kiosk, lang, screenshots)
    walk.open(f"/lang/{lang}?next=/")
    walk.check("01-welcome", faces=5)
    walk.placeholders("dossier", "countdown")
    walk.check("01-welcome-dossier-countdown", faces=5)
    screens = [("1", 5), ("2", 5), ("2", 5), ("3", 5), ("4", 0), ("yes", 0), ("3+", None)]
    for number, (tap, faces_next) in enumerate(screens, 2):
        walk.press(f'button[name=answer][value="{tap}"]')
        if faces_next is None:
            break
        walk.placeholders("restart", *(["not-yet"] if walk.page.url.endswith("/timeliness") else []))
        walk.check(f"{number:02d}-{urlsplit(walk.page.url).path.rsplit('/', 1)[-1]}", faces=faces_next)
    assert urlsplit(walk.page.url).path == "/feedback"
    walk.check("09-feedback")
    walk.placeholders("restart")
    walk.check("09-feedback-four-buttons", sizes=SIZES[:1])
    walk.page.locator("#phone").fill("0912 345 678")
    walk.page.locator("#comment").fill("Cán bộ hẹn trả kết quả thứ Hai nhưng đến nay chưa có. " * 3)
    # No consent ticked: refused, and at every size the error and the box to tick are in view.
    walk.check("10-feedback-consent-error", then=lambda w: w.press("button[value=submit]"),
               in_view=["#phone-error", "input[name=consent]"])
    walk.keyboard_up("10-feedback-consent-error", "#comment")
    walk.page.set_viewport_size(dict(zip(("width", "height"), SIZES[0], strict=True)))
    walk.page.locator("input[name=consent]").check()
    walk.press("button[value=submit]")
    walk.page.locator(".done").wait_for(state="visible")  # shown after 2 s
    walk.check("11-thanks")
    walk.open("/q/no-such-question")
    walk.check("12-error")
    walk.open("/staff/")
    walk.check("13-staff-login")
    walk.page.locator("#pin").fill("2468")
    walk.press("button[type=submit]")
    walk.page.locator("#counter").fill("12")
    walk.page.locator("#officer").fill("Nguyễn Thị Minh Khai")
    walk.press("form[action$=duty] button")
    walk.check("14-staff-mode")
    walk.open("/reset")
    walk.open(f"/lang/{lang}?next=/")
    walk.check("15-welcome-counter-officer", faces=5)
    walk.close()
    assert walk.checked == 15 * len(SIZES) + 1
    assert walk.problems == []


def overlaps(a, b):
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] \
        and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


@pytest.mark.parametrize("lang, name", [("vi", "Cài đặt máy, chỉ dành cho nhân viên (cần mã PIN)"),
                                        ("en", "Kiosk settings, for staff only (PIN required)")])
def test_staff_entry_is_a_quiet_corner_away_from_back_and_skip(browser, live_kiosk, lang, name):
    """Staff mode is not where "‹ Quay lại" is on every other screen, nor among the citizen's
    buttons, and its name says it is the kiosk's settings, not "rate the officer"."""
    kiosk = live_kiosk()
    context = browser.new_context(has_touch=True, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{kiosk.url}/lang/{lang}?next=/")
    for width, height in [SIZES[0], SIZES[2]]:
        page.set_viewport_size({"width": width, "height": height})
        page.goto(kiosk.url + "/")
        entry = page.get_by_role("link", name=name, exact=True)
        assert entry.count() == 1
        assert page.locator("header").get_by_role("link", name=name, exact=True).count() == 1
        assert page.locator('.steps a, .steps [href*="staff"]').count() == 0  # only Skip down there
        steps = page.locator(".steps .step").all_inner_texts()  # Skip, and Start over once a survey is begun
        assert steps[-1] == ("Bỏ qua" if lang == "vi" else "Skip") + " ›"
        assert set(steps[:-1]) <= {"Làm lại từ đầu" if lang == "vi" else "Start over"}
        corner, bar = entry.bounding_box(), page.locator(".steps").bounding_box()
        language = page.locator(".lang").bounding_box()
        assert corner["width"] <= 64 and corner["height"] <= 64  # small, yet a finger's size
        assert corner["x"] < width / 4 and corner["y"] + corner["height"] < bar["y"] - height / 2
        assert language["x"] - (corner["x"] + corner["width"]) > width / 3  # far from the language switch

        settled(page)
        with page.expect_navigation():
            page.locator('button[name=answer][value="4"]').tap()
        back = page.locator(".steps .step").first
        assert back.inner_text() == "‹ " + ("Quay lại" if lang == "vi" else "Back")
        assert not overlaps(back.bounding_box(), corner)
        assert page.get_by_role("link", name=name, exact=True).count() == 0  # citizens' screens: none
        page.goto(kiosk.url + "/")
        settled(page)
        with page.expect_navigation():
            entry.tap()
        assert page.url == kiosk.url + "/staff/"
        assert page.locator("#pin").is_visible()
    context.close()


# Widths from 600 px up, portrait (16:10) and landscape (16:9), plus common tablet sizes.
SWEEP = [(w, h) for w in range(600, 1921, 80) for h in (w * 16 // 10, w * 9 // 16) if h >= 540] \
    + [(1024, 600), (1024, 768), (768, 1024), (1366, 768), (601, 962), (1280, 720)]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_faces_equal_and_nothing_cut_at_every_width(browser, live_kiosk, lang):
    """Measured only (no screenshots): the crowded screens at widths from 600 to 1920 px."""
    kiosk = live_kiosk()
    walk = Walk(browser, kiosk, lang, None)
    walk.open(f"/lang/{lang}?next=/")

    def sweep(screen, faces):
        for width, height in SWEEP:
            walk.page.set_viewport_size({"width": width, "height": height})
            walk.page.evaluate("window.scrollTo(0, 0)")
            problems = layout_problems(walk.page.evaluate(MEASURE), faces=faces)
            walk.problems += [f"{lang} {width}x{height} {screen}: {p}" for p in problems]

    walk.placeholders("dossier")
    sweep("welcome", 5)
    for tap in ["1", "2", "1", "2"]:  # low ratings: the last screen offers its reasons
        walk.press(f'button[name=answer][value="{tap}"]')
    walk.placeholders("restart", "not-yet")
    assert walk.page.url.endswith("/timeliness")
    sweep("timeliness", 5)
    walk.open("/feedback")
    walk.page.locator("#phone").fill("0912345678")
    walk.press("button[value=submit]")
    walk.placeholders("restart")
    sweep("feedback-consent-error", 0)
    walk.close()
    assert len(SWEEP) > 30
    assert walk.problems == []


def test_the_tablet_faults_seen_in_issue_8(browser, live_kiosk):
    """The inputs as reported: each value that was wrong, asserted right."""
    kiosk = live_kiosk()
    walk = Walk(browser, kiosk, "en", None)
    page = walk.page

    def in_viewport(locator, width, height):
        box = locator.bounding_box()
        return box is not None and box["x"] >= 0 and box["y"] >= 0 \
            and box["x"] + box["width"] <= width and box["y"] + box["height"] <= height

    # English at 800x1280: "Very satisfied" was cut off and the page 863 px wide.
    walk.open("/lang/en?next=/")
    page.set_viewport_size({"width": 800, "height": 1280})
    assert page.evaluate("document.documentElement.scrollWidth") == 800
    label = page.locator(".option .label", has_text="Very satisfied")
    assert label.evaluate("e => e.scrollWidth <= e.clientWidth")
    assert in_viewport(label, 800, 1280)
    # Vietnamese at 600x1024: two faces were off screen, and 55 px vs 90 px wide.
    walk.open("/lang/vi?next=/")
    page.set_viewport_size({"width": 600, "height": 1024})
    faces = page.locator(".option .face")
    assert faces.count() == 5
    assert all(in_viewport(faces.nth(i), 600, 1024) for i in range(5))
    widths = [faces.nth(i).bounding_box()["width"] for i in range(5)]
    assert max(widths) - min(widths) <= 1 and min(widths) >= 60
    # 600x1024, the comment screen with its reasons: "Gửi đánh giá" was below the fold.
    for value in ["1", "1", "1", "1", "4", "no", "1"]:
        walk.press(f'button[name=answer][value="{value}"]')
    assert page.locator(".chip").count() > 0
    send = page.get_by_role("button", name="Gửi đánh giá")
    assert in_viewport(send, 600, 1024)
    # 1280x800, after the phone-consent error: the action buttons were pushed off the bottom.
    page.set_viewport_size({"width": 1280, "height": 800})
    page.locator("#phone").fill("0912 345 678")
    walk.press("button[value=submit]")
    assert page.get_by_text("đánh dấu ô đồng ý").is_visible()
    for name in ["‹ Quay lại", "Làm lại từ đầu", "Gửi đánh giá"]:  # the last screen has no Skip
        assert in_viewport(page.get_by_role("button", name=name, exact=True), 1280, 800), name
    walk.close()
