"""The daily summary as an answer card, on SQLite and PostgreSQL: yesterday by default, the headline
against the unit's target, the "too few responses" rule and worst-first order against hand-computed
figures, the to-handle counts, units without responses, an empty day, numbers in the page's language."""

import re
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select, update

from conftest import central_env_for
from helpers import STAFF_PASSWORD, add_responses, csrf, invoke, log_in, post, wire_responses
from kiosk import store
from kiosk.clock import LOCAL_TZ, local_today, now_utc, utc_iso
from sync import wire
from sync.central import cases as case_rules
from sync.central import daycard
from sync.central.store import accounts, schema
from sync.central.workdays import WorkCalendar

#: Hand-computed day: officer -> (responses, of which satisfied overall (5); the rest rate overall 1).
DAY = {"An": (12, 9), "Bình": (10, 5), "Chi": (3, 0), "Dũng": (9, 9)}
# Enough responses (>= 10): Bình 50.0% then An 75.0%; too few after them: Chi 0.0%, then Dũng 100.0%.
WORST_FIRST = ["Bình", "An", "Chi", "Dũng"]
# Overall: 23 satisfied of 34 = 67.647...% -> "67,6%"; 11 ratings of 1 open 11 cases.


def yesterday_noon():
    day = local_today(now_utc()) - timedelta(days=1)
    return datetime.combine(day, time(12), LOCAL_TZ), day


@pytest.fixture
def day_site(central_app, central_engine, tmp_path):
    """Unit A (kiosk k-a) with the hand-computed day yesterday; Unit C has a kiosk and no responses."""
    secret = accounts.add_kiosk(central_engine, "k-a", "Unit A")
    accounts.add_kiosk(central_engine, "k-c", "Unit C")
    path, (moment, _day) = tmp_path / "k-a.db", yesterday_noon()
    store.init(path, "k-a")
    for officer, (count, happy) in DAY.items():
        with store.connect(path) as db, store.write(db):
            store.set_setting(db, "officer", officer)
            store.set_setting(db, "counter", f"Q{len(officer)}")
        add_responses(path, happy, kiosk_id="k-a", answers={"overall": 5, "attitude": 5}, now=moment)
        add_responses(path, count - happy, kiosk_id="k-a", answers={"overall": 1, "attitude": 2}, now=moment,
                      reasons=["long_wait"])
    client = central_app.test_client()
    reply = post(client, secret, wire.batch("k-a", wire_responses(path)), kiosk="k-a")
    assert reply.get_json()["accepted"] == 34
    accounts.add_user(central_engine, "admin", "admin", None, STAFF_PASSWORD)
    accounts.add_user(central_engine, "sup-a", "supervisor", "Unit A", STAFF_PASSWORD)
    return client


def officer_rows(page):
    """(name, responses, too few?) of the per-officer table, in page order."""
    table = page.split("Theo công chức</h2>")[1].split("</table>")[0]
    return [(name, int(n), "quá ít phản hồi" in rest) for name, n, rest in re.findall(
        r'<th scope="row">([^<]+)</th>\s*<td>(\d+)(.*?)</td>', table, re.S)]


def test_yesterday_by_default_with_the_hand_computed_order_and_too_few_marks(day_site):
    log_in(day_site, "sup-a")
    page = day_site.get("/").get_data(as_text=True)
    _moment, day = yesterday_noon()
    assert f'<strong class="day">{day.strftime("%d/%m/%Y")} (hôm qua)</strong>' in page
    assert officer_rows(page) == [("Bình", 10, False), ("An", 12, False), ("Chi", 3, True), ("Dũng", 9, True)]
    assert "67,6% <span class=\"count\">(23 trên 34 phiếu)</span>" in page
    assert "Chưa đạt mục tiêu: thấp hơn 22,4 điểm % so với mục tiêu 90,0%" in page
    assert "Phải chờ đợi" not in page and "Chờ đợi quá lâu: 11 lần" in page  # the top reason, in words
    assert "50,0% <span class=\"count\">(5 trên 10)</span>" in page  # Bình's share with its count
    assert re.search(r'href="/cases\?status=open&amp;unit=Unit\+A"><span class="big">11</span>', page)
    assert '‹</span> Ngày trước' in page and "Ngày sau" in page  # yesterday has a day after: today


def test_a_target_set_by_command_or_page_changes_the_state(day_site, central_url):
    env = central_env_for(central_url)
    assert invoke(["set-target", "Unit A", "60"], env).exit_code == 0
    assert invoke(["set-target", "Unit A", "0"], env).exit_code != 0  # 1 to 100 only
    log_in(day_site, "sup-a")
    assert "Đạt mục tiêu (60,0%)" in day_site.get("/").get_data(as_text=True)
    assert day_site.get("/targets").status_code == 403  # admins only
    log_in(day_site, "admin")
    token = csrf(day_site, "/targets")
    assert day_site.post("/targets", data={"csrf_token": token, "unit": "Unit A", "target": "101"}).status_code == 400
    saved = day_site.post("/targets", data={"csrf_token": token, "unit": "Unit A", "target": "68"})
    assert saved.status_code == 200 and "Đã lưu mục tiêu của Unit A: 68%." in saved.get_data(as_text=True)
    page = day_site.get("/?unit=Unit A").get_data(as_text=True)
    assert "Gần đạt mục tiêu: thấp hơn 0,4 điểm % so với mục tiêu 68,0%" in page


def test_every_unit_listed_worst_first_with_those_without_responses(day_site):
    log_in(day_site, "admin")
    page = day_site.get("/").get_data(as_text=True)
    table = page.split("Theo đơn vị</h2>")[1].split("</table>")[0]
    assert re.findall(r'<th scope="row">([^<]+)</th>', table) == ["Unit A", "Unit C"]
    assert "không có phiếu" in table.split("Unit C")[1]


def test_an_empty_day_says_so(day_site):
    log_in(day_site, "sup-a")
    page = day_site.get("/?date=2026-01-05").get_data(as_text=True)
    assert "Không có phiếu đánh giá nào trong ngày 05/01/2026." in page
    assert "Hài lòng chung</h2>" not in page  # no wall of dashes


def test_numbers_follow_the_page_language(day_site):
    log_in(day_site, "sup-a")
    day_site.get("/lang/en")
    page = day_site.get("/").get_data(as_text=True)
    assert "67.6% <span class=\"count\">(23 of 34 responses)</span>" in page
    assert "Below the target: 22.4 points below 90.0%" in page and "too few responses" in page


def test_the_to_handle_counts_match_the_overdue_rule(day_site, central_engine, central_app):
    """Cases opened 0 to 20 days ago: overdue and due today as ``cases.is_overdue`` and the calendar say."""
    now, calendar = now_utc(), WorkCalendar()
    limit = central_app.config["CENTRAL"].case_days
    with central_engine.begin() as conn:
        ids = conn.execute(select(schema.cases.c.id).order_by(schema.cases.c.id)).scalars().all()
        for back, case_id in enumerate(ids):  # 11 cases, opened today, 2 days ago, ... 20 days ago
            opened = now - timedelta(days=2 * back)
            conn.execute(update(schema.cases).where(schema.cases.c.id == case_id).values(
                opened_utc=utc_iso(opened), started_utc=utc_iso(opened),
                local_day=local_today(opened).isoformat()))
        conn.execute(update(schema.cases).where(schema.cases.c.id == ids[-1]).values(status="closed"))
        rows = conn.execute(select(schema.cases)).mappings().all()
    today = local_today(now)
    overdue = sum(case_rules.is_overdue(r, now, limit, calendar) for r in rows)
    due = sum(r["status"] != "closed" and calendar.working_days_between(
        local_today(datetime.fromisoformat(r["opened_utc"][:-1] + "+00:00")), today) == limit for r in rows)
    assert overdue >= 3  # the rule is exercised, not only zeroes
    log_in(day_site, "sup-a")
    page = day_site.get("/").get_data(as_text=True)
    counts = dict(re.findall(r'href="/cases\?(status=open|overdue=1|due=today)&amp;unit=Unit\+A">'
                             r'<span class="big">(\d+)</span>', page))
    assert counts == {"status=open": "10", "overdue=1": str(overdue), "due=today": str(due)}


def test_ranked_breaks_ties_by_responses_then_name():
    def figures(n, happy):
        return {"responses": n, "sipas_index": None, "questions": {"overall": {
            "answered": n, "distribution": {"1": n - happy, "2": 0, "3": 0, "4": 0, "5": happy},
            "satisfied_pct": round(100 * happy / n, 2)}}}
    rows = daycard.ranked([("Ba", figures(10, 5)), ("An", figures(20, 10)), ("Cả", figures(10, 5)),
                           ("Dư", figures(9, 0)), ("Ê", figures(12, 12))], min_responses=10)
    assert [r["name"] for r in rows] == ["An", "Ba", "Cả", "Ê", "Dư"]
    assert [r["too_few"] for r in rows] == [False, False, False, False, True]
    assert daycard.state(89.99, 90) == "close" and daycard.state(85, 90) == "below" and daycard.state(90, 90) == "met"
