"""Complaints and comments as cases: opened at ingest, answered and closed with an audit log, scoped by role."""

from datetime import date, datetime, timezone

import pytest

from conftest import sqlite_only
from helpers import csrf, log_in
from sync.central import cases, erasure
from sync.central.workdays import WorkCalendar
from sync.central.store import cases as case_store, database, integrity, schema


def case_ids(client, query=""):
    import re
    return [int(n) for n in re.findall(r'href="/cases/(\d+)"', client.get("/cases" + query).get_data(as_text=True))]


def test_ingest_opens_a_case_for_low_ratings_comments_and_extra_demands(with_complaint, central_engine):
    rows = case_store.list_cases(central_engine)
    assert sorted((c["officer"], c["why"]) for c in rows) == [
        ("An", "comment,low_rating"), ("Bình", "low_rating")]
    assert all(c["status"] == "new" for c in rows)


def test_answer_and_close_a_case_with_its_audit_log(with_complaint, central_engine):
    log_in(with_complaint, "sup-a")
    [case] = [c for c in case_store.list_cases(central_engine) if c["officer"] == "An"]
    page = with_complaint.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert "Cán bộ gây khó dễ" in page and "0912345678" in page
    token = csrf(with_complaint, f"/cases/{case['id']}")
    refused = with_complaint.post(f"/cases/{case['id']}", data={"csrf_token": token, "close": "y"})
    assert refused.status_code == 400 and "Ghi nội dung trả lời" in refused.get_data(as_text=True)
    with_complaint.post(f"/cases/{case['id']}", data={"csrf_token": token, "assignee": "sup-a",
                                                      "answer": "Đã nhắc nhở cán bộ, xin lỗi Ông/Bà."})
    with_complaint.post(f"/cases/{case['id']}", data={"csrf_token": token, "close": "y"})
    stored = case_store.get_case(central_engine, case["id"])
    assert stored["status"] == "closed" and stored["closed_utc"]
    assert [(h["user_name"], h["action"]) for h in stored["history"]] == [
        ("sup-a", "assign"), ("sup-a", "answer"), ("sup-a", "close")]
    assert with_complaint.post(f"/cases/{case['id']}", data={"assignee": "x"}).status_code == 400  # no CSRF


def test_an_officer_sees_only_their_cases_and_never_a_phone(with_complaint, central_engine):
    log_in(with_complaint, "an")
    own = [c["id"] for c in case_store.list_cases(central_engine) if c["officer"] == "An"]
    other = [c["id"] for c in case_store.list_cases(central_engine) if c["officer"] == "Bình"]
    assert case_ids(with_complaint) == own
    assert with_complaint.get(f"/cases/{other[0]}").status_code == 404  # not even by link
    page = with_complaint.get(f"/cases/{own[0]}").get_data(as_text=True)
    assert "Cán bộ gây khó dễ" in page and "0912345678" not in page
    assert with_complaint.post(f"/cases/{own[0]}", data={"csrf_token": csrf(with_complaint, "/cases"),
                                                         "answer": "x"}).status_code == 403


def test_overdue_after_five_working_days():
    friday = date(2026, 11, 27)
    assert WorkCalendar().working_days_between(friday, date(2026, 12, 4)) == 5  # Mon-Fri, weekend skipped
    case = {"status": "new", "opened_utc": "2026-11-27T02:00:00.000Z"}
    assert not cases.is_overdue(case, datetime(2026, 12, 4, 5, tzinfo=timezone.utc), 5)
    assert cases.is_overdue(case, datetime(2026, 12, 7, 5, tzinfo=timezone.utc), 5)
    assert not cases.is_overdue({**case, "status": "closed"}, datetime(2027, 1, 1, tzinfo=timezone.utc), 5)


def test_erase_contact_keeps_figures_and_integrity(with_complaint, central_engine, central_url):
    from helpers import invoke
    from conftest import central_env_for
    [case] = [c for c in case_store.list_cases(central_engine) if c["officer"] == "An"]
    stored = case_store.get_case(central_engine, case["id"])
    before = integrity.integrity_report(central_engine, "k-a")
    env = central_env_for(central_url)
    result = invoke(["erase-contact", stored["uuid"]], env)
    assert result.output == (f"Erased the phone number of response {stored['uuid']}; its kiosk erases its copy "
                             "at the next sync.\n")
    after = case_store.get_case(central_engine, case["id"])
    assert after["phone"] is None and after["erased_utc"] and after["comment"] == "Cán bộ gây khó dễ"
    assert integrity.integrity_report(central_engine, "k-a") == before
    again = invoke(["erase-contact", stored["uuid"]], env)
    assert again.output == (f"Response {stored['uuid']} has no phone number to erase here; its kiosk is told "
                            "to erase any copy at the next sync.\n")
    assert invoke(["erase-contact"], env).output == "Error: Give either a response UUID or --expired.\n"
    assert invoke(["erase-contact", "--expired"], env).output == (
        "Erased 0 phone number(s) of cases closed, or responses quarantined, more than 90 days ago; "
        "their kiosks erase theirs at the next sync.\n")


def test_the_summary_lists_the_days_comments_and_low_ratings(with_complaint):
    from helpers import today
    log_in(with_complaint, "sup-a")
    page = with_complaint.get(f"/?date={today()}").get_data(as_text=True)
    section = page.split("Góp ý và đánh giá thấp trong ngày")[1].split("</section>")[0]
    assert "Cán bộ gây khó dễ" in section and "Bình" in section and "Tổng thể: 1" in section
    assert "0912345678" not in page


def test_phone_numbers_are_erased_90_days_after_their_case_closes(with_complaint, central_engine):
    from datetime import timedelta

    from kiosk.clock import now_utc, utc_iso
    [case] = [c for c in case_store.list_cases(central_engine) if c["officer"] == "An"]
    case_store.update(central_engine, case["id"], "sup-a", now_utc(), answer="Đã trả lời.", status="closed")
    assert erasure.erase_expired_contacts(central_engine, now_utc(), 90) == 0  # closed today: kept
    with database.write(central_engine) as conn:
        conn.execute(schema.cases.update().where(schema.cases.c.id == case["id"]).values(
            closed_utc=utc_iso(now_utc() - timedelta(days=91))))
    assert erasure.erase_expired_contacts(central_engine, now_utc(), 90) == 1
    stored = case_store.get_case(central_engine, case["id"])
    assert stored["phone"] is None and stored["comment"] == "Cán bộ gây khó dễ"


def _answered_and_closed(client, engine):
    log_in(client, "sup-a")
    [case] = [c for c in case_store.list_cases(engine) if c["officer"] == "An"]
    token = csrf(client, f"/cases/{case['id']}")
    client.post(f"/cases/{case['id']}", data={"csrf_token": token, "assignee": "sup-a", "answer": "Đã xin lỗi.",
                                              "close": "y"})
    assert case_store.get_case(engine, case["id"])["status"] == "closed"
    return case["id"], token


def test_a_closed_case_refuses_an_edit_and_changes_nothing(with_complaint, central_engine):
    case_id, token = _answered_and_closed(with_complaint, central_engine)
    before = case_store.get_case(central_engine, case_id)
    reply = with_complaint.post(f"/cases/{case_id}", data={"csrf_token": token, "assignee": "ai-do",
                                                           "answer": "Câu trả lời mới"})
    page = reply.get_data(as_text=True)
    assert reply.status_code == 409 and "Phản ánh đã đóng nên không có gì thay đổi" in page
    assert "Câu trả lời mới" in page  # what was typed is shown back, not lost
    assert case_store.get_case(central_engine, case_id) == before
    with pytest.raises(case_store.CaseClosed):
        case_store.update(central_engine, case_id, "sup-a", datetime.now(timezone.utc), answer="khác", status="closed")
    assert case_store.get_case(central_engine, case_id) == before


def test_reopening_is_its_own_logged_action(with_complaint, central_engine):
    case_id, token = _answered_and_closed(with_complaint, central_engine)
    page = with_complaint.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Mở lại phản ánh" in page and 'name="answer"' not in page
    assert with_complaint.post(f"/cases/{case_id}/reopen").status_code == 400  # no token
    assert with_complaint.post(f"/cases/{case_id}/reopen", data={"csrf_token": token}).status_code == 302
    stored = case_store.get_case(central_engine, case_id)
    assert stored["status"] == "answered" and stored["closed_utc"] is None and stored["answer"] == "Đã xin lỗi."
    assert [h["action"] for h in stored["history"]] == ["assign", "answer", "close", "reopen"]
    assert "sup-a · đã mở lại" in with_complaint.get(f"/cases/{case_id}").get_data(as_text=True)
    with_complaint.post(f"/cases/{case_id}", data={"csrf_token": token, "answer": "Đã gọi lại cho Ông/Bà."})
    assert case_store.get_case(central_engine, case_id)["answer"] == "Đã gọi lại cho Ông/Bà."
    assert not case_store.reopen(central_engine, case_id, "sup-a", datetime.now(timezone.utc))  # not closed: no-op
    log_in(with_complaint, "an")
    assert with_complaint.post(f"/cases/{case_id}/reopen",
                               data={"csrf_token": csrf(with_complaint, "/")}).status_code == 403


@sqlite_only
def test_a_case_form_left_open_for_hours_still_saves(with_complaint, central_engine, monkeypatch):
    import itsdangerous.timed
    import time as real_time
    log_in(with_complaint, "sup-a")
    [case] = [c for c in case_store.list_cases(central_engine) if c["officer"] == "An"]
    token = csrf(with_complaint, f"/cases/{case['id']}")
    later = int(real_time.time()) + 5 * 3600  # the answer is sent five hours after the page was opened
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", lambda _self: later)
    reply = with_complaint.post(f"/cases/{case['id']}", data={"csrf_token": token, "answer": "Trả lời sau 5 giờ"})
    assert reply.status_code == 302
    assert case_store.get_case(central_engine, case["id"])["answer"] == "Trả lời sau 5 giờ"


@sqlite_only
def test_an_invalid_token_shows_the_form_again_with_the_typed_text(with_complaint, central_engine):
    log_in(with_complaint, "sup-a")
    [case] = [c for c in case_store.list_cases(central_engine) if c["officer"] == "An"]
    typed = "Chúng tôi đã làm việc với cán bộ <b>An</b> và xin lỗi Ông/Bà."
    for token in ("IjEyMyI.abc.def", None):
        data = {"assignee": "an", "answer": typed, **({"csrf_token": token} if token else {})}
        reply = with_complaint.post(f"/cases/{case['id']}", data=data)
        page = reply.get_data(as_text=True)
        assert reply.status_code == 400 and "Biểu mẫu đã hết hạn nên chưa có gì được lưu" in page
        assert "xin lỗi Ông/Bà." in page and "&lt;b&gt;An&lt;/b&gt;" in page and '<option selected value="an">' in page
        assert "CSRF" not in page and '<html lang="vi">' in page
        assert case_store.get_case(central_engine, case["id"])["answer"] is None
    resent = with_complaint.post(f"/cases/{case['id']}", data={"csrf_token": csrf_in(page), "answer": typed})
    assert resent.status_code == 302 and case_store.get_case(central_engine, case["id"])["answer"] == typed


def csrf_in(page):
    import re
    return re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', page)[1]


@sqlite_only
def test_the_login_form_keeps_the_name_when_its_token_fails(site):
    reply = site.post("/login", data={"csrf_token": "bad", "name": "sup-a", "password": "mật-khẩu-đủ-dài"})
    page = reply.get_data(as_text=True)
    assert reply.status_code == 400 and 'value="sup-a"' in page and "mật-khẩu-đủ-dài" not in page
    assert "Biểu mẫu đã hết hạn" in page


@sqlite_only
def test_text_sent_after_the_session_ended_is_shown_back(with_complaint, central_engine):
    log_in(with_complaint, "sup-a")
    [case] = [c for c in case_store.list_cases(central_engine) if c["officer"] == "An"]
    token = csrf(with_complaint, f"/cases/{case['id']}")
    with_complaint.post("/logout", data={"csrf_token": token})
    reply = with_complaint.post(f"/cases/{case['id']}", data={"csrf_token": token, "answer": "Câu trả lời dài"})
    page = reply.get_data(as_text=True)
    assert reply.status_code == 401 and "Phiên làm việc đã kết thúc" in page and "Câu trả lời dài" in page
    assert "Cán bộ gây khó dễ" not in page  # the case itself is not shown to a stranger
    assert case_store.get_case(central_engine, case["id"])["answer"] is None
    fresh = with_complaint.application.test_client()  # no session at all: the token check fails first
    reply = fresh.post(f"/cases/{case['id']}", data={"csrf_token": token, "answer": "Lần thứ hai"})
    page = reply.get_data(as_text=True)
    assert reply.status_code == 400 and "Biểu mẫu đã hết hạn" in page and "Lần thứ hai" in page
    assert "Cán bộ gây khó dễ" not in page and case_store.get_case(central_engine, case["id"])["answer"] is None


@pytest.mark.slow
def test_an_edit_racing_a_close_never_lands_after_it(with_complaint, central_engine):
    import threading
    [case] = [c for c in case_store.list_cases(central_engine) if c["officer"] == "An"]
    for round_ in range(10):
        start = threading.Barrier(2)

        def close(round_=round_, start=start):
            start.wait()
            case_store.update(central_engine, case["id"], "sup-a", datetime.now(timezone.utc),
                         answer=f"đóng {round_}", status="closed")

        def edit(round_=round_, start=start):
            start.wait()
            try:
                case_store.update(central_engine, case["id"], "admin", datetime.now(timezone.utc),
                                  answer=f"sửa {round_}")
            except case_store.CaseClosed:
                pass

        threads = [threading.Thread(target=close), threading.Thread(target=edit)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        stored = case_store.get_case(central_engine, case["id"])
        history = stored["history"]
        assert stored["status"] == "closed" and history[-1]["action"] == "close", round_
        assert stored["answer"] == [h["detail"] for h in history if h["action"] == "answer"][-1], round_
        assert case_store.reopen(central_engine, case["id"], "sup-a", datetime.now(timezone.utc))
