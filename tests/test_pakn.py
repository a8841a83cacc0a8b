"""PAKN from every channel: registered with consent rules, answered in writing with numbered letters, and
the QĐ 766 ratios against hand-computed fixtures on SQLite and PostgreSQL."""

import re
from datetime import date, datetime, timezone

import pytest

from conftest import sqlite_only
from helpers import csrf, log_in
from kiosk.config import SettingError
from sync.central import cases as case_rules
from sync.central.config import load
from sync.central.store import cases as case_store
from sync.central.store import pakn as pakn_store

NOV = (date(2026, 11, 1), date(2026, 11, 30))
NOW = datetime(2026, 12, 10, 3, 0, tzinfo=timezone.utc)  # 10/12/2026 10:00 in Hà Nội


def utc(text):
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def add(engine, received, channel="hotline", category="officers", unit="Unit A", closed=None, satisfied="unsaid",
        again=False, transferred=None):
    """A PAKN received at `received` (UTC text), closed at `closed` (UTC text) if given, with its outcome."""
    case_id = pakn_store.register(engine, unit=unit, channel=channel, received=utc(received), category=category,
                                  content="Nội dung", user_name="sup-a", now=utc(received),
                                  within_competence=transferred is None, transferred_to=transferred)
    case_store.update(engine, case_id, "sup-a", utc(received), answer="Trả lời")
    if closed:
        case_store.update(engine, case_id, "sup-a", utc(closed), status="closed")
    pakn_store.record_outcome(engine, case_id, "sup-a", utc(received), told_how="letter", told_utc=utc(received),
                              satisfied=satisfied, complained_again=again)
    return case_id


@pytest.fixture
def november(central_engine):
    """The hand-computed month. Monday 2/11/2026 + 10 working days (no holiday in November) = Monday 16/11."""
    e = central_engine
    add(e, "2026-11-02T02:00:00", closed="2026-11-16T08:00:00", satisfied="yes")       # A on time (16/11)
    add(e, "2026-11-02T02:00:00", "email", closed="2026-11-16T17:30:00")               # B late: 00:30 17/11 local
    add(e, "2026-11-02T02:00:00", "box", "procedures", closed="2026-11-05T02:00:00", satisfied="no")  # C on time
    add(e, "2026-11-02T02:00:00", "portal", "results", closed="2026-11-10T02:00:00", again=True)      # D on time
    add(e, "2026-11-20T02:00:00", "in_person", "access", transferred="UBND huyện")      # E transferred, open
    add(e, "2026-11-30T02:00:00", "hotline", "feedback")                              # F due 14/12: pending
    add(e, "2026-11-03T02:00:00")                                                     # G due 17/11, open: late
    add(e, "2026-10-31T02:00:00")                                                     # H: October
    add(e, "2026-11-30T17:30:00")                                                     # I: 1/12 local
    add(e, "2026-11-02T02:00:00", unit="Unit B")                                      # J: another unit
    return e


def test_the_qd766_pakn_ratios_match_the_hand_computed_month(november):
    ratios = pakn_store.pakn_ratios(november, "Unit A", *NOV, now=NOW)
    assert ratios == {
        "pakn": 7, "within_competence": 6, "transferred": 1, "on_time": 3, "late": 2, "pending": 1,
        "on_time_pct": 60.0,  # A, C, D of A, B, C, D, G (F not yet due)
        "dissatisfied": 1, "complained_again": 1,
        "satisfied_pct": 42.9,  # (7 - B late - G late - C dissatisfied - D complained again) / 7
        "by_channel": {"box": 1, "email": 1, "hotline": 3, "in_person": 1, "portal": 1}}
    every_unit = pakn_store.pakn_ratios(november, None, *NOV, now=NOW)
    assert every_unit["pakn"] == 8 and every_unit["late"] == 3  # J: 2/11, open, late too


def test_the_ratios_follow_the_days_set_per_category(november):
    config = load({"CENTRAL_DB": "unused.db", "CENTRAL_PAKN_DAYS": "officers=5"})
    ratios = pakn_store.pakn_ratios(november, "Unit A", *NOV, config=config, now=NOW)
    # officers: 2/11 + 5 working days = 9/11, so A (closed 16/11) is late too
    assert (ratios["on_time"], ratios["late"], ratios["on_time_pct"], ratios["satisfied_pct"]) == (2, 3, 40.0, 28.6)


def test_kiosk_complaints_count_as_pakn_but_a_comment_alone_does_not(with_complaint, central_engine):
    from kiosk.clock import local_today, now_utc
    today = local_today(now_utc())
    ratios = pakn_store.pakn_ratios(central_engine, "Unit A", today, today)
    assert ratios["pakn"] == 2 and ratios["by_channel"] == {"kiosk": 2} and ratios["pending"] == 2
    with central_engine.begin() as conn:  # make one of them a comment alone (as praise would be)
        from sync.central.store.schema import cases
        conn.execute(cases.update().where(cases.c.officer == "An").values(why="comment"))
    assert pakn_store.pakn_ratios(central_engine, "Unit A", today, today)["pakn"] == 1


def test_due_days_per_channel_and_category_and_the_setting():
    config = load({"CENTRAL_DB": "x.db", "CENTRAL_PAKN_DAYS": "officers=5, procedures=15", "CENTRAL_CASE_DAYS": "3"})
    assert case_rules.due_working_days("kiosk", None, config) == 3
    assert case_rules.due_working_days("hotline", "officers", config) == 5
    assert case_rules.due_working_days("email", "procedures", config) == 15
    assert case_rules.due_working_days("portal", "results", config) == case_rules.PAKN_DEFAULT_DAYS == 10
    assert case_rules.due_day(date(2026, 11, 27), 5) == date(2026, 12, 4)  # Friday + 5 working days
    for bad in ("rude=3", "officers=0", "officers=x", "officers=5,officers=6"):
        with pytest.raises(SettingError, match="CENTRAL_PAKN_DAYS"):
            load({"CENTRAL_DB": "x.db", "CENTRAL_PAKN_DAYS": bad})


def register_form(client, **fields):
    form = {"csrf_token": csrf(client, "/pakn/new"), "unit": "Unit A", "channel": "hotline",
            "received": "2026-11-02T09:00", "category": "officers", "content": "Cán bộ hướng dẫn chưa rõ."}
    form.update(fields)
    return client.post("/pakn/new", data=form)


@sqlite_only
def test_contact_without_consent_a_future_time_or_a_transfer_to_nobody_is_refused(site, central_engine):
    log_in(site, "sup-a")
    before = len(case_store.list_cases(central_engine))
    for fields, message in [({"contact": "0912345678"}, "chỉ được lưu khi"),
                            ({"received": "2099-01-01T08:00"}, "không thể ở tương lai"),
                            ({"received": "1990-01-01T08:00"}, "quá xa trong quá khứ"),
                            ({"received": "hôm qua"}, 'id="received-error"'),
                            ({"transferred": "y"}, "Ghi rõ đã chuyển cho"),
                            ({"content": ""}, 'id="content-error"'),
                            ({"channel": "kiosk"}, 'id="channel-error"'),
                            ({"category": "x"}, 'id="category-error"')]:
        reply = register_form(site, **fields)
        assert reply.status_code == 400, fields
        assert message in reply.get_data(as_text=True), fields
    assert len(case_store.list_cases(central_engine)) == before
    log_in(site, "an")
    assert site.get("/pakn/new").status_code == 403  # officers do not register PAKN


@sqlite_only
def test_register_answer_in_writing_and_record_the_outcome(site, central_engine):
    log_in(site, "sup-a")
    reply = register_form(site, consent="y", citizen_name="Nguyễn Thị Hoa", contact="0987 654 321",
                          received="2026-11-02T09:00:00")  # with seconds, as some browsers send it
    case_id = int(re.search(r"/cases/(\d+)", reply.headers["Location"])[1])
    case = case_store.get_case(central_engine, case_id)
    assert (case["channel"], case["kiosk_id"], case["response_id"], case["local_day"], case["status"]) == \
        ("hotline", "", None, "2026-11-02", "new")
    page = site.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Cán bộ hướng dẫn chưa rõ." in page and 'href="tel:0987654321"' in page and "16/11/2026" in page
    token = csrf(site, f"/cases/{case_id}")
    assert site.post(f"/cases/{case_id}/letters", data={"csrf_token": token, "signer": "Lan"}).status_code == 409
    site.post(f"/cases/{case_id}", data={"csrf_token": token, "answer": "Đã hướng dẫn lại đầy đủ."})
    first = site.post(f"/cases/{case_id}/letters", data={"csrf_token": token, "signer": "Trần Văn Lan"})
    second = site.post(f"/cases/{case_id}/letters", data={"csrf_token": token, "signer": "Trần Văn Lan"})
    year = str(datetime.now().year)
    assert first.headers["Location"].endswith(f"/letters/{year}/1")
    assert second.headers["Location"].endswith(f"/letters/{year}/2")
    letter = site.get(first.headers["Location"]).get_data(as_text=True)
    for text in ("Số: 1/TB-PAKN", "Nguyễn Thị Hoa", "Cán bộ hướng dẫn chưa rõ.", "Đã hướng dẫn lại đầy đủ.",
                 "Trần Văn Lan", "UNIT A"):
        assert text in letter, text
    assert "0987" not in letter  # the contact is not printed
    done = site.post(f"/cases/{case_id}/outcome", data={"csrf_token": token, "told_how": "letter",
                                                        "told_at": "2026-11-10T10:00", "satisfied": "yes"})
    assert done.status_code == 302
    refused = site.post(f"/cases/{case_id}/outcome", data={"csrf_token": token, "told_how": "phone",
                                                           "told_at": "2026-11-01T10:00",  # before it was received
                                                           "satisfied": "no"})
    page = refused.get_data(as_text=True)  # the case page again, with the reason and what was entered
    assert refused.status_code == 400 and "Không ghi nhận gì." in page and 'value="2026-11-01T10:00"' in page
    assert f'action="/cases/{case_id}/outcome"' in page
    assert site.post(f"/cases/{case_id}/outcome", data={"csrf_token": token, "told_how": "letter",
                                                        "satisfied": "yes"}).status_code == 400  # when?
    stored = case_store.get_case(central_engine, case_id)
    assert (stored["told_how"], stored["told_utc"], stored["satisfied"]) == ("letter", "2026-11-10T03:00:00.000Z",
                                                                             "yes")
    assert [h["action"] for h in stored["history"]] == ["register", "answer", "letter", "letter", "told"]
    history = site.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "số: 1/TB-PAKN (năm 2026)" in history and "số: 2/TB-PAKN (năm 2026)" in history  # as the letters say


@sqlite_only
def test_the_monthly_report_names_the_elements_compares_the_month_before_and_counts_pakn(site, central_engine):
    for received in ("2025-02-05T02:00:00", "2025-03-03T02:00:00", "2025-03-04T02:00:00"):
        add(central_engine, received, closed="2025-03-05T02:00:00")  # February's: due 19/2, so late
    log_in(site, "sup-a")
    page = site.get("/report?month=2025-03").get_data(as_text=True)
    text = re.sub(r"<[^>]+>", " ", page)
    text = re.sub(r"\s+", " ", text)
    assert 'type="month"' in page and 'value="2025-03"' in page  # the month picker
    assert "Unit A" in text and "Báo cáo sự hài lòng của người dân, tháng 03/2025" in text and "02/2025" in text
    for name in ("1. Tiếp cận dịch vụ hành chính công", "2. Thủ tục hành chính",
                 "3. Công chức trực tiếp giải quyết công việc", "4. Kết quả cung ứng dịch vụ hành chính công",
                 "5. Tiếp nhận, xử lý góp ý, phản ánh, kiến nghị"):
        assert name in text, name
    assert text.count("Chưa có câu hỏi riêng") == 2  # elements 1 and 5: only the overall rating
    assert "Tính từ các câu hỏi: Đúng hẹn (II.22, IV.28)" in text  # element 2
    assert "Số phản ánh, kiến nghị tiếp nhận 2 1" in text  # March beside February
    assert "Xử lý đúng hạn 2 0" in text and "Tỷ lệ xử lý đúng hạn (thuộc thẩm quyền) 100,0% 0,0%" in text
    with site.get("/static/central.css") as css:
        assert "break-before: page" in css.get_data(as_text=True)
    assert site.get("/report?month=2026-13").status_code == 400


def test_a_store_made_before_0010_gains_pakn_letters_and_outcomes_keeping_its_cases(central_url):
    from sqlalchemy import text

    from sync.central.store import database, migrations
    engine = database.engine_for(central_url)
    try:
        migrations.migrate(engine, upto="0009_case_channels")
        with database.write(engine) as conn:  # a PAKN-shaped case in a store as 0009 left it
            conn.execute(text("INSERT INTO cases (local_day, unit, kiosk_id, why, status, opened_utc, updated_utc, "
                              "channel) VALUES ('2026-11-02', 'Unit A', '', 'pakn', 'new', 'x', 'x', 'hotline')"))
        assert migrations.migrate(engine) == list(migrations.STEPS[migrations.STEPS.index("0010_pakn_channels"):])
        [old] = case_store.list_cases(engine)
        assert (old["complained_again"], old["satisfied"]) == (0, None)
        new = add(engine, "2026-11-03T02:00:00", closed="2026-11-04T02:00:00", satisfied="no")
        assert pakn_store.pakn_ratios(engine, "Unit A", *NOV, now=NOW)["pakn"] == 2
        assert case_store.get_case(engine, new)["satisfied"] == "no"
    finally:
        engine.dispose()


def test_the_retention_rule_erases_a_pakn_citizen_s_name_and_contact(central_engine):
    from sync.central import erasure
    kept = pakn_store.register(central_engine, unit="Unit A", channel="email", received=utc("2026-01-05T02:00:00"),
                               category="results", content="Chậm trả kết quả", user_name="sup-a",
                               now=utc("2026-01-05T02:00:00"), citizen_name="Lê Văn Nam", contact="nam@example.vn",
                               consent=True)
    gone = pakn_store.register(central_engine, unit="Unit A", channel="email", received=utc("2026-01-05T02:00:00"),
                               category="results", content="Chậm trả kết quả", user_name="sup-a",
                               now=utc("2026-01-05T02:00:00"), citizen_name="Lê Thị Mai", contact="0911222333",
                               consent=True)
    case_store.update(central_engine, gone, "sup-a", utc("2026-01-06T02:00:00"), answer="Đã trả", status="closed")
    assert pakn_store.details(central_engine, gone)["pakn"]["consent_utc"] == "2026-01-05T02:00:00.000Z"
    with pytest.raises(ValueError):
        pakn_store.register(central_engine, unit="Unit A", channel="email", received=utc("2026-01-05T02:00:00"),
                            category="results", content="x", user_name="sup-a", now=utc("2026-01-05T02:00:00"),
                            contact="0911222333")  # no consent: nothing stored
    assert erasure.erase_expired_contacts(central_engine, utc("2026-04-07T02:00:00"), 90) == 1
    erased, held = (pakn_store.details(central_engine, c)["pakn"] for c in (gone, kept))
    assert (erased["citizen_name"], erased["contact"], erased["content"]) == (None, None, "Chậm trả kết quả")
    assert erased["erased_utc"] and (held["citizen_name"], held["contact"]) == ("Lê Văn Nam", "nam@example.vn")
    assert len(case_store.list_cases(central_engine)) == 2


@sqlite_only
def test_a_kiosk_case_gets_a_letter_with_the_comment_and_never_the_phone(with_complaint, central_engine):
    log_in(with_complaint, "sup-a")
    [case] = [c for c in case_store.list_cases(central_engine) if c["officer"] == "An"]
    token = csrf(with_complaint, f"/cases/{case['id']}")
    with_complaint.post(f"/cases/{case['id']}", data={"csrf_token": token, "answer": "Đã nhắc nhở cán bộ."})
    made = with_complaint.post(f"/cases/{case['id']}/letters", data={"csrf_token": token, "signer": "Lan"})
    letter = with_complaint.get(made.headers["Location"]).get_data(as_text=True)
    assert "Cán bộ gây khó dễ" in letter and "Đã nhắc nhở cán bộ." in letter and "0912345678" not in letter
    assert "Kính gửi: Ông/Bà đã gửi phản ánh, kiến nghị" in letter
    with_complaint.get("/lang/en")
    english = with_complaint.get(made.headers["Location"]).get_data(as_text=True)
    assert "SOCIALIST REPUBLIC OF VIETNAM" in english and "Reply letter no. 1/" in english
    assert with_complaint.get(made.headers["Location"].rsplit("/", 1)[0] + "/7").status_code == 404
    log_in(with_complaint, "an")  # the officer of the case reads its letter but makes none
    assert with_complaint.get(made.headers["Location"]).status_code == 200
    assert with_complaint.post(f"/cases/{case['id']}/letters", data={"csrf_token": csrf(with_complaint, "/cases"),
                                                                     "signer": "An"}).status_code == 403


@sqlite_only
def test_a_pakn_of_today_shows_on_the_summary_and_in_the_case_list(site, central_engine):
    from kiosk.clock import now_utc
    log_in(site, "sup-a")
    case_id = pakn_store.register(central_engine, unit="Unit A", channel="box", received=now_utc(),
                                  category="access", content="Bảng niêm yết thủ tục bị che khuất.",
                                  user_name="sup-a", now=now_utc())
    from kiosk.clock import local_today
    summary = site.get(f"/?date={local_today(now_utc()).isoformat()}")  # the summary opens on yesterday
    assert summary.status_code == 200 and f'href="/cases/{case_id}"' in summary.get_data(as_text=True)
    listed = site.get("/cases").get_data(as_text=True)
    assert f'href="/cases/{case_id}"' in listed and "phản ánh, kiến nghị qua kênh khác" in listed


def test_the_setting_names_exactly_the_pakn_categories():
    from kiosk import settings
    assert settings.get("CENTRAL_PAKN_DAYS").kind.keys == tuple(case_rules.CATEGORIES)


@sqlite_only
def test_a_pakn_within_competence_closes_only_once_how_the_citizen_was_told_is_recorded(site, central_engine):
    log_in(site, "sup-a")
    case_id = int(re.search(r"/cases/(\d+)", register_form(site).headers["Location"])[1])
    url, token = f"/cases/{case_id}", csrf(site, f"/cases/{case_id}")
    refused = site.post(url, data={"csrf_token": token, "answer": "Đã hướng dẫn lại.", "close": "y"})
    assert refused.status_code == 400
    assert "hãy ghi nhận cách đã thông báo kết quả cho người dân" in refused.get_data(as_text=True)
    stored = case_store.get_case(central_engine, case_id)
    assert (stored["status"], stored["answer"]) == ("new", None)  # nothing changed
    assert site.post(f"{url}/outcome", data={"csrf_token": token, "told_how": "not_reachable",
                                             "told_at": "2026-11-05T15:00", "satisfied": "unsaid"}).status_code == 302
    page = site.get(url).get_data(as_text=True)
    assert "thông báo kết quả cho người dân: không liên lạc được 15:00 05/11/2026" in page
    closed = site.post(url, data={"csrf_token": token, "answer": "Đã hướng dẫn lại.", "close": "y"})
    assert closed.status_code == 302 and case_store.get_case(central_engine, case_id)["status"] == "closed"
    moved = int(re.search(r"/cases/(\d+)", register_form(site, transferred="y", transferred_to="UBND huyện")
                          .headers["Location"])[1])  # transferred: the receiving body answers
    assert site.post(f"/cases/{moved}", data={"csrf_token": token, "answer": "Đã chuyển.", "close": "y"}) \
        .status_code == 302


@sqlite_only
def test_a_pakn_can_be_given_to_any_officer_of_the_unit_who_then_sees_it(site, central_engine):
    log_in(site, "sup-a")
    case_id = int(re.search(r"/cases/(\d+)", register_form(site).headers["Location"])[1])
    url = f"/cases/{case_id}"
    page = site.get(url).get_data(as_text=True)
    assert '<option value="an">An</option>' in page  # not on duty for it: a PAKN has no officer on duty
    log_in(site, "an")
    assert site.get(url).status_code == 404 and f'href="{url}"' not in site.get("/cases").get_data(as_text=True)
    log_in(site, "sup-a")
    assert site.post(url, data={"csrf_token": csrf(site, url), "assignee": "an"}).status_code == 302
    log_in(site, "an")
    assert site.get(url).status_code == 200 and f'href="{url}"' in site.get("/cases").get_data(as_text=True)
    assert site.post(url, data={"csrf_token": csrf(site, url), "answer": "x"}).status_code == 403  # read only


@sqlite_only
def test_publishing_a_pakn_starts_from_its_content(site, central_engine):
    log_in(site, "sup-a")
    case_id = int(re.search(r"/cases/(\d+)", register_form(site, content="Hồ sơ chậm trả kết quả.")
                            .headers["Location"])[1])
    url, token = f"/cases/{case_id}", csrf(site, f"/cases/{case_id}")
    site.post(f"{url}/outcome", data={"csrf_token": token, "told_how": "phone", "told_at": "2026-11-05T15:00",
                                      "satisfied": "yes"})
    assert site.post(url, data={"csrf_token": token, "answer": "Đã trả.", "close": "y"}).status_code == 302
    form = site.get(f"{url}/publish").get_data(as_text=True)
    assert re.search(r'<textarea[^>]*name="question"[^>]*>\s*Hồ sơ chậm trả kết quả.</textarea>', form)
