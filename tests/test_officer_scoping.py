"""Officer scoping by roster id (issue 13): two officers with one display name each see only the responses,
cases, compliments, figures and exports of their own duty; a login without a roster id sees nothing and is
told what the admin must do; the summary API takes an officer's id. On SQLite and PostgreSQL."""

import csv
import io
import re

import pytest

from helpers import STAFF_PASSWORD, add_officer_login, add_responses, log_in, on_duty, post, today, wire_responses
from kiosk import store
from sync import wire
from sync.central.store import accounts

NAME = "Nguyễn Văn Hùng"
UNIT = "Unit A"
#: Each response the kiosk sends: (officer id, answers, comment).
DUTY = [("cb-hung-1", {"overall": 2, "attitude": 1}, "Anh Hùng số một chậm"),
        ("cb-hung-1", {"overall": 5}, "Anh Hùng số một rất tốt"),
        ("cb-hung-1", {"overall": 4}, None),
        ("cb-hung-2", {"overall": 1}, "Anh Hùng số hai khó chịu"),
        ("cb-hung-2", {"overall": 5}, "Anh Hùng số hai tận tình")]


@pytest.fixture
def namesakes(central_app, central_engine, tmp_path):
    """Two officers named NAME in UNIT, each with a login (hung1, hung2); a kiosk's day of DUTY."""
    secret = accounts.add_kiosk(central_engine, "k-a", UNIT)
    add_officer_login(central_engine, "hung1", UNIT, NAME, "cb-hung-1")
    add_officer_login(central_engine, "hung2", UNIT, NAME, "cb-hung-2")
    path = tmp_path / "k-a.db"
    store.init(path, "k-a")
    with store.connect(path) as db, store.write(db):
        store.set_setting(db, "officer", NAME)  # both are "Nguyễn Văn Hùng" on the kiosk's screen
    for _officer_id, answers, comment in DUTY:
        add_responses(path, 1, kiosk_id="k-a", answers=answers, **({"comment": comment} if comment else {}))
    sent = on_duty(wire_responses(path), [officer_id for officer_id, _a, _c in DUTY])
    client = central_app.test_client()
    assert post(client, secret, wire.batch("k-a", sent), kiosk="k-a").get_json()["accepted"] == len(DUTY)
    return client


def comments_of(officer_id):
    return {comment for who, _a, comment in DUTY if comment and who == officer_id}


@pytest.mark.parametrize("login, own, other", [("hung1", "cb-hung-1", "cb-hung-2"),
                                               ("hung2", "cb-hung-2", "cb-hung-1")])
def test_two_officers_with_one_name_each_see_only_their_own(namesakes, central_engine, login, own, other):
    log_in(namesakes, login)
    count = sum(who == own for who, _a, _c in DUTY)
    summary = namesakes.get(f"/?date={today()}").get_data(as_text=True)
    assert f'<h2>Số phiếu</h2><p class="big">{count}</p>' in summary

    queue = namesakes.get("/cases?status=open").get_data(as_text=True)
    mine = {c for c in comments_of(own) if "chậm" in c or "khó chịu" in c}  # the low ratings open cases
    assert all(c in queue for c in mine) and not any(c in queue for c in comments_of(other))
    for case_id in map(int, re.findall(r'href="/cases/(\d+)"', queue)):
        assert namesakes.get(f"/cases/{case_id}").status_code == 200
    from sync.central.store import cases as case_store
    others = [c["id"] for c in case_store.list_cases(central_engine) if c["officer_id"] == other]
    assert others and all(namesakes.get(f"/cases/{i}").status_code == 404 for i in others)

    praised = namesakes.get("/compliments").get_data(as_text=True)
    assert [c for c in comments_of(own) if "tốt" in c or "tận tình" in c][0] in praised
    assert not any(c in praised for c in comments_of(other))

    exported = namesakes.get(f"/export.csv?start={today()}&end={today()}")
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) - 1 == count and all(NAME in row for row in rows[1:])
    report = namesakes.get(f"/report?month={today()[:7]}").get_data(as_text=True)
    assert re.search(rf"<th scope=\"row\">{NAME}</th>\s*<td>{count}\b", report), report[-3000:]
    trends = namesakes.get(f"/trends?start={today()}&end={today()}")
    assert trends.status_code == 200


def test_a_supervisor_sees_both_namesakes_apart_on_the_summary(namesakes, central_engine):
    accounts.add_user(central_engine, "sup-a", "supervisor", UNIT, STAFF_PASSWORD)
    log_in(namesakes, "sup-a")
    page = namesakes.get(f"/?date={today()}&unit={UNIT}").get_data(as_text=True)
    assert re.search(rf'<th scope="row">{NAME} \(cb-hung-1\)</th>\s*<td>3\b', page)
    assert re.search(rf'<th scope="row">{NAME} \(cb-hung-2\)</th>\s*<td>2\b', page)


def test_the_summary_api_takes_an_officers_roster_id(namesakes, central_engine):
    auth = {"Authorization": f"Bearer {accounts.add_token(central_engine, 'báo cáo')}"}
    for officer_id, count in (("cb-hung-1", 3), ("cb-hung-2", 2), ("cb-nobody", 0)):
        reply = namesakes.get("/api/v1/summary", query_string={"date": today(), "officer": officer_id}, headers=auth)
        assert reply.status_code == 200 and reply.get_json()["responses"] == count
        assert reply.get_json()["officer"] == officer_id
    bad = namesakes.get("/api/v1/summary", query_string={"date": today(), "officer": NAME}, headers=auth)
    assert bad.status_code == 400 and "officer must be an officer's roster id" in bad.get_json()["error"]


def test_an_officer_login_without_a_roster_id_sees_nothing_and_is_told_why(namesakes, central_engine):
    from sqlalchemy import update

    from sync.central.store import database, schema
    accounts.add_user(central_engine, "cu", "supervisor", UNIT, STAFF_PASSWORD, display_name=NAME)
    with database.write(central_engine) as conn:  # an officer login made before the roster
        conn.execute(update(schema.users).where(schema.users.c.name == "cu").values(role="officer"))
    log_in(namesakes, "cu")
    page = namesakes.get(f"/?date={today()}").get_data(as_text=True)
    assert "Không có phiếu đánh giá nào trong ngày" in page
    assert ("Tài khoản của Ông/Bà chưa được gắn với công chức nào trong danh mục" in page
            and "central officer link-user cu MÃ_CÔNG_CHỨC" in page)
    assert "href=\"/cases/" not in namesakes.get("/cases").get_data(as_text=True)
    assert "Anh Hùng" not in namesakes.get("/compliments").get_data(as_text=True)
    exported = namesakes.get(f"/export.csv?start={today()}&end={today()}").get_data(as_text=True)
    assert len(exported.strip().splitlines()) == 1  # the header only

    accounts.link_user(central_engine, "cu", "cb-hung-2")  # every session ends: log in again
    log_in(namesakes, "cu")
    page = namesakes.get(f"/?date={today()}").get_data(as_text=True)
    assert '<h2>Số phiếu</h2><p class="big">2</p>' in page and "chưa được gắn" not in page
