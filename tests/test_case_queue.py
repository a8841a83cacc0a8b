"""The case queue (issue 12): filters, paging and order against a hand-built store, on SQLite and PostgreSQL;
bad filters are a clear 400; compliments open no case; the assignee is chosen from the unit's staff; an
officer's scope holds the PAKN assigned to them."""

import re
from datetime import date, datetime, timedelta, timezone

import pytest

from helpers import STAFF_PASSWORD, add_responses, csrf, log_in, post, wire_responses
from sync import wire
from sync.central import cases as case_rules
from sync.central.store import cases as case_store
from sync.central.store import accounts, compliments, database, queue, schema
from sync.central.store import pakn as pakn_store
from sync.central.workdays import WorkCalendar

TODAY = date(2026, 12, 9)  # a Wednesday, with no public holiday in the week before
CALENDAR = WorkCalendar()


class Days:
    case_days = 5


def make_cases(engine, count=130):
    """`count` cases over 30 days before TODAY, in two units, three officers, every status, some reasons."""
    rows = []
    for i in range(count):
        day = TODAY - timedelta(days=i % 30)
        status = case_rules.STATUSES[i % 4]
        rows.append({"response_id": None, "local_day": day.isoformat(), "unit": "Unit A" if i % 3 else "Unit B",
                     "kiosk_id": "k-a", "officer": ("An", "Bình", "Chi")[i % 3], "status": status,
                     "officer_id": ("cb-an", "cb-binh", "cb-chi")[i % 3],
                     "why": ("comment,low_rating", "low_rating", "extra_request")[i % 3],
                     "reasons": ("long_wait,impolite", None, "impolite")[i % 5 % 3],
                     "opened_utc": f"{day}T03:00:00.000Z", "updated_utc": f"{day}T03:00:00.000Z",
                     "started_utc": f"{day.isoformat()}T02:{i % 60:02d}:00.000Z", "channel": "kiosk",
                     "assignee": None})
    with database.write(engine) as conn:
        conn.execute(schema.cases.insert(), rows)
        made = [dict(r) for r in conn.execute(schema.cases.select()).mappings()]
        case_store.add_reasons(conn, made)  # as ingest does
    return made


def expected_order(rows):
    late = [r for r in rows if case_rules.is_overdue(r, _now(), 5, CALENDAR)]
    open_ = [r for r in rows if r["status"] != "closed" and r not in late]
    closed = [r for r in rows if r["status"] == "closed"]
    by_start = lambda r: (r["started_utc"], r["id"])  # noqa: E731
    return (sorted(late, key=by_start) + sorted(open_, key=by_start)
            + sorted(closed, key=by_start, reverse=True))


def _now():
    from datetime import datetime, timezone
    return datetime(TODAY.year, TODAY.month, TODAY.day, 4, tzinfo=timezone.utc)


def deadlines():
    overdue, due = case_rules.deadlines(TODAY, Days, CALENDAR)
    return queue.Deadlines(overdue=overdue, due_today=due)


def test_pages_hold_every_case_once_in_queue_order(central_engine):
    rows = make_cases(central_engine)
    seen = []
    first = queue.queue_page(central_engine, queue.QueueFilter(), deadlines(), 1, size=50)
    assert first["total"] == 130 and first["pages"] == 3
    for page in (1, 2, 3):
        seen += [r["id"] for r in queue.queue_page(central_engine, queue.QueueFilter(), deadlines(), page, 50)["rows"]]
    assert seen == [r["id"] for r in expected_order(rows)]
    assert queue.queue_page(central_engine, queue.QueueFilter(), deadlines(), 9, 50)["rows"] == []
    late = [r for r in rows if case_rules.is_overdue(r, _now(), 5, CALENDAR)]
    assert first["overdue"] == len(late) > 0
    assert all(r["id"] in {x["id"] for x in late} for r in first["rows"][:len(late)])


@pytest.mark.parametrize("wanted, keep", [
    ({"status": "open"}, lambda r: r["status"] != "closed"),
    ({"status": "answered"}, lambda r: r["status"] == "answered"),
    ({"unit": "Unit B"}, lambda r: r["unit"] == "Unit B"),
    ({"officer_id": "cb-binh"}, lambda r: r["officer_id"] == "cb-binh"),
    ({"channel": "kiosk"}, lambda r: True),
    ({"channel": "hotline"}, lambda r: False),
    ({"reason": "extra_request"}, lambda r: "extra_request" in r["why"]),
    ({"reason": "impolite"}, lambda r: "impolite" in (r["reasons"] or "")),
    ({"reason": "long_wait"}, lambda r: "long_wait" in (r["reasons"] or "")),
    ({"start": (TODAY - timedelta(days=6)).isoformat(), "end": (TODAY - timedelta(days=2)).isoformat()},
     lambda r: (TODAY - timedelta(days=6)).isoformat() <= r["local_day"] <= (TODAY - timedelta(days=2)).isoformat()),
    ({"overdue": True}, lambda r: case_rules.is_overdue(r, _now(), 5, CALENDAR)),
    # Due today: open, started on a day with exactly 5 working days after it up to Wednesday 9/12.
    ({"due_today": True}, lambda r: r["status"] != "closed" and r["local_day"] == "2026-12-02"),
    # An officer's own scope (their cases, and PAKN assigned to their login) with each kind of filter on top.
    ({"officer_id": "cb-binh", "assigned_to": "binh", "reason": "impolite"},
     lambda r: r["officer_id"] == "cb-binh" and "impolite" in (r["reasons"] or "")),
    ({"officer_id": "cb-binh", "assigned_to": "binh", "status": "closed"},
     lambda r: r["officer_id"] == "cb-binh" and r["status"] == "closed"),
    ({"officer_id": "cb-an", "assigned_to": "an", "overdue": True},
     lambda r: r["officer_id"] == "cb-an" and case_rules.is_overdue(r, _now(), 5, CALENDAR)),
], ids=lambda v: "-".join(v) if isinstance(v, dict) else "")
def test_each_filter_keeps_what_it_says(central_engine, wanted, keep):
    rows = make_cases(central_engine)
    expected = [r["id"] for r in expected_order(rows) if keep(r)]
    f = queue.QueueFilter(**wanted)
    got = queue.queue_page(central_engine, f, deadlines(), 1, size=200)
    assert [r["id"] for r in got["rows"]] == expected and got["total"] == len(expected)
    assert queue.count_matching(central_engine, f, deadlines()) == len(expected)


def test_deadlines_skip_weekends_and_holidays():
    # Started Wed 2/12: its fifth working day after is Wed 9/12 (due), overdue from Thu 10/12.
    assert case_rules.overdue_before(date(2026, 12, 9), 5, CALENDAR) == date(2026, 12, 1)
    assert case_rules.due_today_after(date(2026, 12, 9), 5, CALENDAR) == (date(2026, 12, 2), date(2026, 12, 2))
    # Tue 24/11/2026 is a public holiday (Vietnam Cultural Day): on Monday 30/11 the cases of Fri 20/11 and
    # the weekend after fall due (23, 25, 26, 27 and 30/11 are their five working days).
    assert case_rules.due_today_after(date(2026, 11, 30), 5, CALENDAR) == (date(2026, 11, 20), date(2026, 11, 22))
    assert case_rules.due_today_after(date(2026, 11, 28), 5, CALENDAR) is None  # a Saturday: nothing falls due


def test_the_clock_starts_when_the_citizen_rated_not_on_receipt():
    late_upload = {"status": "new", "local_day": "2026-11-16", "opened_utc": "2026-11-25T02:00:00.000Z"}
    assert case_rules.is_overdue(late_upload, _now(), 5, CALENDAR)


@pytest.mark.parametrize("query", ["status=waiting", "page=0", "page=x", "from=31/01/2026", "channel=fax",
                                   "reason=rude", "from=2026-02-01&to=2026-01-01", "officer=a%07b", "to=0001-01-01"])
def test_a_bad_filter_is_a_clear_400(site, query):
    log_in(site, "admin")
    reply = site.get("/cases?" + query)
    assert reply.status_code == 400 and "<h1" in reply.get_data(as_text=True)


def test_the_queue_page_filters_and_shows_comment_and_reasons(with_complaint):
    log_in(with_complaint, "sup-a")
    page = with_complaint.get("/cases?status=open&reason=low_rating").get_data(as_text=True)
    assert "Cán bộ gây khó dễ" in page and "đánh giá mức 1 hoặc 2" in page
    assert "Thời điểm người dân phản ánh/đánh giá" in page and "2 phản ánh" in page
    assert '<option value="open" selected>' in page
    assert "0 phản ánh" in with_complaint.get("/cases?status=closed").get_data(as_text=True)
    assert with_complaint.get("/cases?unit=Unit B").status_code == 403  # a supervisor stays in their unit
    past = with_complaint.get("/cases?status=open&page=7")  # past the last page: the last one, filters kept
    assert past.status_code == 302 and past.headers["Location"] == "/cases?status=open&page=1"


def test_an_officer_sees_only_their_own_in_the_queue(with_complaint, central_engine):
    log_in(with_complaint, "an")
    ids = {int(n) for n in re.findall(r'href="/cases/(\d+)"', with_complaint.get("/cases?officer=cb-binh")
                                      .get_data(as_text=True))}
    own = {c["id"] for c in case_store.list_cases(central_engine) if c["officer_id"] == "cb-an"}
    assert ids == own and own


def test_a_compliment_opens_no_case_and_is_listed_with_counts(site, central_engine, tmp_path):
    path = tmp_path / "k-a.db"
    before = {c["id"] for c in case_store.list_cases(central_engine)}
    from kiosk import store
    with store.connect(path) as db, store.write(db):
        store.set_setting(db, "officer", "An")
    add_responses(path, 2, kiosk_id="k-a", answers={"overall": 5, "attitude": 5, "extra_request": "no"},
                  comment="Thủ tục nhanh gọn.")
    assert post(site, site.kiosk_secrets["k-a"], wire.batch("k-a", wire_responses(path)), kiosk="k-a").status_code \
        == 200
    assert {c["id"] for c in case_store.list_cases(central_engine)} == before
    log_in(site, "sup-a")
    assert "Thủ tục nhanh gọn." not in site.get("/cases").get_data(as_text=True)
    page = site.get("/compliments").get_data(as_text=True)
    assert page.count("Thủ tục nhanh gọn.") == 2 and "2 lời khen." in page
    assert re.search(r"<th scope=\"row\">An</th><td>2</td>", page)
    log_in(site, "admin")
    assert site.get("/compliments?unit=Unit B").get_data(as_text=True).count("Thủ tục nhanh gọn.") == 0


def test_the_rule_is_one_function():
    assert case_rules.why({"overall": 5}, True) == []
    assert case_rules.is_compliment({"overall": 5}, True)
    assert case_rules.why({"overall": 5}, True, ["long_wait"]) == ["comment"]
    assert case_rules.why({"overall": 2}, True) == ["comment", "low_rating"]
    assert case_rules.why({"overall": 4, "extra_request": "yes"}, False) == ["extra_request"]
    assert not case_rules.is_compliment({"overall": 5}, False)


def test_init_moves_untouched_compliment_cases_and_keeps_touched_ones(site, central_engine, tmp_path):
    """A store made before the rule: two comment-only cases, one already assigned."""
    path = tmp_path / "k-a.db"
    add_responses(path, 2, kiosk_id="k-a", answers={"overall": 5}, comment="Rất tốt")
    post(site, site.kiosk_secrets["k-a"], wire.batch("k-a", wire_responses(path)), kiosk="k-a")
    with database.write(central_engine) as conn:
        praised = conn.execute(schema.compliments.select()).mappings().all()
        conn.execute(schema.compliments.delete())
        ids = [row["response_id"] for row in praised]
        for n, response_id in enumerate(ids):
            conn.execute(schema.cases.insert().values(
                response_id=response_id, local_day="2026-11-20", unit="Unit A", kiosk_id="k-a", officer=None,
                why="comment", status="assigned" if n else "new", assignee="sup-a" if n else None,
                opened_utc="2026-11-20T02:00:00.000Z", updated_utc="2026-11-20T02:00:00.000Z"))
    assert compliments.settle(central_engine) == {"moved": 1, "added": 0}
    assert compliments.settle(central_engine) == {"moved": 0, "added": 0}  # idempotent
    kept = [c for c in case_store.list_cases(central_engine) if c["response_id"] in ids]
    assert [c["assignee"] for c in kept] == ["sup-a"]
    assert compliments.compliment_page(central_engine)["total"] == 1


def test_the_assignee_is_chosen_from_the_units_staff_and_kept_when_not_chosen(with_complaint, central_engine):
    log_in(with_complaint, "sup-a")
    [case] = [c for c in case_store.list_cases(central_engine) if c["officer"] == "An"]
    url = f"/cases/{case['id']}"
    page = with_complaint.get(url).get_data(as_text=True)
    assert '<option value="an">An</option>' in page and 'value="admin"' not in page  # admins have no unit
    accounts.add_user(central_engine, "binh", "officer", "Unit A", STAFF_PASSWORD, officer_id="cb-binh")
    page = with_complaint.get(url).get_data(as_text=True)  # an officer sees only cases of their own duty:
    assert 'value="binh"' not in page and 'value="sup-a"' in page  # another one is not offered
    assert '<option selected value="">' in page  # not pre-filled with the viewer
    token = csrf(with_complaint, url)
    assert with_complaint.post(url, data={"csrf_token": token, "assignee": "an"}).status_code == 302
    assert with_complaint.post(url, data={"csrf_token": token, "answer": "Đã xử lý."}).status_code == 302
    stored = case_store.get_case(central_engine, case["id"])
    assert stored["assignee"] == "an" and stored["answer"] == "Đã xử lý."
    refused = with_complaint.post(url, data={"csrf_token": token, "assignee": "someone-else"})
    assert refused.status_code == 400 and case_store.get_case(central_engine, case["id"])["assignee"] == "an"
    page = with_complaint.get(url).get_data(as_text=True)
    assert "sup-a · phân công cho: An" in page and 'href="tel:0912345678"' in page


def test_the_exports_page_has_pickers_for_the_days_and_the_unit(site):
    log_in(site, "admin")
    page = site.get("/exports?start=2026-01-01&end=2026-01-31").get_data(as_text=True)
    assert 'type="date" name="start" value="2026-01-01"' in page and 'name="end" value="2026-01-31"' in page
    assert '<option>Unit B</option>' in page and 'formaction="/export.csv"' in page
    assert site.get("/exports?start=2026-02-01&end=2026-01-01").status_code == 400
    log_in(site, "sup-a")
    page = site.get("/exports").get_data(as_text=True)
    assert '<select name="unit">' not in page and 'name="unit" value="Unit A"' in page


def test_a_compliments_phone_is_erased_after_the_retention_days(site, central_engine, tmp_path):
    """A compliment has no case to close, so its phone number goes CENTRAL_CONTACT_DAYS after it was given."""
    from datetime import datetime, timezone

    from kiosk.clock import now_utc
    from sync.central import erasure
    path = tmp_path / "k-a.db"
    add_responses(path, 1, kiosk_id="k-a", answers={"overall": 5}, comment="Rất tốt", phone="0912345678",
                  now=now_utc() - timedelta(days=91))
    add_responses(path, 1, kiosk_id="k-a", answers={"overall": 5}, comment="Tốt", phone="0987654321")
    post(site, site.kiosk_secrets["k-a"], wire.batch("k-a", wire_responses(path)), kiosk="k-a")
    assert compliments.compliment_page(central_engine)["total"] == 2
    assert erasure.erase_expired_contacts(central_engine, datetime.now(timezone.utc), 90) == 1
    with central_engine.connect() as conn:
        kept = conn.execute(schema.response_private.select().where(schema.response_private.c.phone.is_not(None)))
        assert [row.phone for row in kept] == ["0987654321"]


def reason_rows_said_by_cases(engine) -> list:
    """(case id, reason) for each why code (but a PAKN's 'pakn') and reason chip the cases' own columns list."""
    with engine.connect() as conn:
        listed = conn.execute(schema.cases.select()).mappings().all()
    return sorted({(c["id"], key) for c in listed
                   for key in (c["why"].split(",") + (c["reasons"] or "").split(",")) if key not in ("", "pakn")})


def reason_rows(engine) -> list:
    with engine.connect() as conn:
        return sorted((r.case_id, r.reason) for r in conn.execute(schema.case_reasons.select()))


def test_the_reason_table_equals_what_the_cases_say(site, central_engine, tmp_path):
    """Kept by ingest (low ratings, chips, extra demands, comments), PAKN registration and the compliment
    tidy-up, on SQLite and PostgreSQL."""
    path = tmp_path / "k-a.db"
    add_responses(path, 2, kiosk_id="k-a", answers={"overall": 1}, comment="Chờ lâu", reasons=["long_wait", "impolite"])
    add_responses(path, 1, kiosk_id="k-a", answers={"overall": 4, "extra_request": "yes"}, reasons=["extra_demands"])
    add_responses(path, 1, kiosk_id="k-a", answers={"overall": 2})
    add_responses(path, 1, kiosk_id="k-a", answers={"overall": 5}, comment="Rất tốt")  # a compliment: no case
    post(site, site.kiosk_secrets["k-a"], wire.batch("k-a", wire_responses(path)), kiosk="k-a")
    pakn_store.register(central_engine, unit="Unit A", channel="hotline", received=_now(), category="officers",
                        content="Gọi điện phản ánh", user_name="sup-a", now=_now())
    expected = reason_rows_said_by_cases(central_engine)
    assert len({case_id for case_id, _r in expected}) == 5, expected  # the site's own low rating too
    assert {r for _c, r in expected} == {"comment", "low_rating", "extra_request", "long_wait", "impolite",
                                         "extra_demands"}
    assert reason_rows(central_engine) == expected
    with database.write(central_engine) as conn:  # a comment-only case as stores made before the rule held
        praised = conn.execute(schema.compliments.select()).mappings().one()
        conn.execute(schema.compliments.delete())
        case_id = conn.execute(schema.cases.insert().values(
            response_id=praised["response_id"], local_day=praised["local_day"], unit="Unit A", kiosk_id="k-a",
            officer=None, why="comment", status="new", opened_utc="2026-11-20T02:00:00.000Z",
            updated_utc="2026-11-20T02:00:00.000Z")).inserted_primary_key[0]
        case_store.add_reasons(conn, [{"id": case_id, "why": "comment", "reasons": None}])
    assert (case_id, "comment") in reason_rows(central_engine)
    assert compliments.settle(central_engine)["moved"] == 1  # the case and its reason rows go
    assert reason_rows(central_engine) == reason_rows_said_by_cases(central_engine) == expected


def test_the_reason_filter_keeps_what_the_old_text_match_kept(central_engine):
    """The filter reads case_reasons; what it keeps is what matching the why and reasons texts kept."""
    rows = make_cases(central_engine)
    for reason in ("comment", "low_rating", "extra_request", "long_wait", "impolite", "harassment", "pakn"):
        column = "why" if reason in case_rules.WHY_CODES else "reasons"
        expected = [r["id"] for r in expected_order(rows) if reason in (r[column] or "").split(",")]
        got = queue.queue_page(central_engine, queue.QueueFilter(reason=reason), deadlines(), 1, size=200)
        assert [r["id"] for r in got["rows"]] == expected, reason
        assert got["total"] == len(expected) == queue.count_matching(
            central_engine, queue.QueueFilter(reason=reason), deadlines())
    assert reason_rows(central_engine) == reason_rows_said_by_cases(central_engine)
def test_an_officer_s_scope_adds_the_pakn_assigned_to_them_and_no_other(central_engine):
    rows = make_cases(central_engine, count=30)
    received = datetime(TODAY.year, TODAY.month, TODAY.day, 2, tzinfo=timezone.utc)
    given = pakn_store.register(central_engine, unit="Unit B", channel="email", received=received,
                                category="officers", content="Góp ý qua thư.", user_name="sup-a", now=received)
    other = pakn_store.register(central_engine, unit="Unit B", channel="hotline", received=received,
                                category="officers", content="Gọi đường dây nóng.", user_name="sup-a", now=received)
    case_store.update(central_engine, given, "sup-a", received, assignee="an")
    case_store.update(central_engine, other, "sup-a", received, assignee="binh")
    mine = queue.QueueFilter(unit="Unit B", officer_id="cb-an", assigned_to="an")  # An works in Unit B
    expected = {r["id"] for r in rows if r["officer"] == "An"} | {given}
    got = queue.queue_page(central_engine, mine, deadlines(), 1, size=200)
    assert {r["id"] for r in got["rows"]} == expected and got["total"] == len(expected)
    assert queue.count_matching(central_engine, queue.QueueFilter(officer_id="cb-an"), deadlines()) == len(expected) - 1
