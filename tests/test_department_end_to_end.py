"""Issue 13 end to end, every part a real process: `central run` and its CLI, `kiosk run`, `kiosk-sync
--once`. An officer added at central is a choice in kiosk staff mode after one sync, and the response
given on their duty is seen by their central login only (not by a namesake's); a questionnaire published
at central is answered at the kiosk and recorded with its version, a broken one is refused and the kiosk
keeps the old; with central down the kiosk serves on with its last configuration and the response waits
for central's return. On SQLite and on PostgreSQL."""

import csv
import io
import json
import re

import pytest
import requests
from sqlalchemy import select

from conftest import kiosk_sync, sqlite_only
from helpers import (STAFF_PASSWORD, UNIT, central_over_http, pick_over_http, questionnaire_source,
                     respond_over_http, staff_choices, staff_over_http, stored, today)
from kiosk import central_config, outbox, store
from loopback_proxy import AnswerRewriter
from sync.central.store import database, schema

HUNG = "Nguyễn Văn Hùng"
#: The packaged questionnaire's (2026.1) welcome question, and the published one's (2026.9).
OWN_QUESTION = "Ông/Bà hài lòng thế nào với việc giải quyết thủ tục hôm nay?"
NEW_QUESTION = "Ông/Bà đánh giá chung thế nào về Bộ phận Một cửa?"


def ok(done):
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip()


@pytest.fixture
def department(live_central, live_kiosk):
    """Central running with unit UNIT, its counter Q1 and officer HUNG (id cb-hung-cu, login hung-cu), all
    added with the `central` CLI, and KIOSK_MIN_SECONDS 0 for the kiosks; kiosk test-kiosk running, synced
    once (it has the roster)."""
    central = live_central
    ok(central.cli("unit", "add", UNIT, "--name", "Bộ phận Một cửa – Sở Xây dựng"))
    ok(central.cli("counter", "add", "--unit", UNIT, "--id", "Q1", "--name", "Quầy 1"))
    # A script answers faster than any citizen: central tells the kiosk not to flag that as too fast.
    ok(central.cli("kiosk-settings", "set", "KIOSK_MIN_SECONDS", "0"))
    assert ok(central.cli("officer", "add", "--unit", UNIT, "--name", HUNG, "--id", "cb-hung-cu")) == "cb-hung-cu"
    ok(central.cli_input("add-user", "hung-cu", "--role", "officer", "--officer", "cb-hung-cu",
                         input=STAFF_PASSWORD + "\n"))
    central.start()
    kiosk = live_kiosk(KIOSK_SECRET=central.secret, CENTRAL_URL=central.url)
    kiosk.sync = lambda: kiosk_sync(kiosk.env, "--once")
    assert "nothing pending" in ok(kiosk.sync())
    return central, kiosk


def kiosk_welcome(kiosk):
    return requests.get(kiosk.url + "/", timeout=10).text


def kiosk_config(kiosk):
    with store.connect(kiosk.db_path) as db:
        return central_config.current(db), len(outbox.pending(db, 100))


def central_rows(central_url):
    engine = database.engine_for(central_url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(select(
                schema.responses.c.officer_id, schema.responses.c.officer, schema.responses.c.counter_id,
                schema.responses.c.questionnaire_version).order_by(schema.responses.c.id))]
    finally:
        engine.dispose()


def seen_by(central, login):
    """What officer login `login` sees of today on the real central: (responses on the summary, the open
    cases' page, the export's data rows)."""
    web = central_over_http(central.url, login)
    summary = web.get(f"{central.url}/?date={today()}", timeout=10).text
    count = re.search(r'<h2>Số phiếu</h2><p class="big">(\d+)</p>', summary)
    assert count or "Không có phiếu đánh giá nào trong ngày" in summary, summary[-2000:]
    cases = web.get(f"{central.url}/cases?status=open", timeout=10).text
    export = web.get(f"{central.url}/export.csv?start={today()}&end={today()}", timeout=10)
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(export.text.lstrip("\ufeff"))))[1:]
    return int(count[1]) if count else 0, cases, rows


def test_an_officer_added_at_central_is_picked_at_the_kiosk_and_only_their_login_sees_the_rating(
        department, central_url):
    central, kiosk = department
    new_id = ok(central.cli("officer", "add", "--unit", UNIT, "--name", HUNG))  # a namesake, id generated
    assert re.fullmatch(r"cb-[0-9a-f]{8}", new_id)
    ok(central.cli_input("add-user", "hung-moi", "--role", "officer", "--officer", new_id,
                         input=STAFF_PASSWORD + "\n"))
    staff = staff_over_http(kiosk.url)
    assert staff_choices(staff, kiosk.url, "officer") == {"cb-hung-cu": HUNG}
    assert "nothing pending" in ok(kiosk.sync())  # one sync ...
    assert staff_choices(staff, kiosk.url, "officer") == {"cb-hung-cu": HUNG, new_id: HUNG}  # ... a choice
    assert staff_choices(staff, kiosk.url, "counter") == {"Q1": "Quầy 1"}
    assert f"Đã lưu: Quầy 1 · {HUNG}" in pick_over_http(staff, kiosk.url, "Q1", new_id)

    respond_over_http(kiosk.url, comment="Cán bộ hướng dẫn chưa rõ")  # attitude 2: it opens a case
    [response] = stored(kiosk)
    assert (response["officer_id"], response["officer"], response["counter_id"]) == (new_id, HUNG, "Q1")
    assert "1 accepted" in ok(kiosk.sync())
    assert central_rows(central_url) == [(new_id, HUNG, "Q1", "2026.1")]

    count, cases, rows = seen_by(central, "hung-moi")
    assert count == 1 and "Cán bộ hướng dẫn chưa rõ" in cases and len(rows) == 1 and HUNG in rows[0]
    count, cases, rows = seen_by(central, "hung-cu")  # the same display name, another roster entry
    assert count == 0 and "Cán bộ hướng dẫn chưa rõ" not in cases and rows == []


def test_a_published_questionnaire_is_answered_a_broken_one_refused_and_central_down_changes_nothing(
        department, central_url, tmp_path):
    central, kiosk = department
    published = tmp_path / "phieu-2026.9.toml"
    published.write_text(questionnaire_source("2026.9", overall_vi=NEW_QUESTION), encoding="utf-8")
    ok(central.cli("questionnaire", "publish", str(published)))
    assert OWN_QUESTION in kiosk_welcome(kiosk)  # the kiosk's own file until it syncs
    ok(kiosk.sync())
    assert NEW_QUESTION in kiosk_welcome(kiosk)
    staff = staff_over_http(kiosk.url)
    pick_over_http(staff, kiosk.url, "Q1", "cb-hung-cu")
    respond_over_http(kiosk.url)
    assert [r["questionnaire_version"] for r in stored(kiosk)] == ["2026.9"]
    assert "1 accepted" in ok(kiosk.sync())
    assert central_rows(central_url) == [("cb-hung-cu", HUNG, "Q1", "2026.9")]
    good, _pending = kiosk_config(kiosk)

    broken = tmp_path / "phieu-2026.10.toml"
    broken.write_text(questionnaire_source("2026.10").replace('kind = "rating"', 'kind = "stars"', 1),
                      encoding="utf-8")
    refused = central.cli("questionnaire", "publish", str(broken))
    assert refused.returncode == 2 and "questions[0].kind must be 'rating' or 'choice'" in refused.stderr
    listed = ok(central.cli("questionnaire", "list"))
    assert "2026.10" not in listed and re.search(r"2026\.9 .*running on 1 kiosk\(s\): test-kiosk", listed)
    ok(kiosk.sync())
    assert kiosk_config(kiosk) == (good, 0) and NEW_QUESTION in kiosk_welcome(kiosk)

    central.stop()
    assert NEW_QUESTION in kiosk_welcome(kiosk)  # the survey goes on with the last configuration
    assert staff_choices(staff, kiosk.url, "officer") == {"cb-hung-cu": HUNG}
    respond_over_http(kiosk.url)
    failed = kiosk.sync()
    assert failed.returncode == 1 and "Nothing was lost; the responses stay pending." in failed.stderr
    assert "Traceback" not in failed.stderr
    assert kiosk_config(kiosk) == (good, 1)
    central.start()
    assert "1 accepted" in ok(kiosk.sync())
    assert kiosk_config(kiosk) == (good, 0)
    assert central_rows(central_url) == [("cb-hung-cu", HUNG, "Q1", "2026.9")] * 2


def renamed_officer(request_body, status, headers, body):
    """Central's configuration answer with its new officer renamed, the signature left as central made it."""
    try:
        sent = json.loads(request_body)
    except ValueError:  # a (gzipped) batch
        sent = None
    if not isinstance(sent, dict) or "nonce" not in sent:
        return status, headers, body  # a batch's answer goes back as it came
    answer = json.loads(body)
    [new] = [officer for officer in answer["officers"] if officer["id"] == "cb-moi"]  # the real change ...
    new["name"] = "Kẻ Mạo Danh"  # ... altered on its way
    return status, headers, json.dumps(answer, ensure_ascii=False).encode()


@sqlite_only
def test_a_configuration_answer_altered_on_the_way_is_ignored_by_kiosk_sync(department):
    central, kiosk = department
    good, _pending = kiosk_config(kiosk)
    ok(central.cli("officer", "add", "--unit", UNIT, "--name", "Lê Văn Mới", "--id", "cb-moi"))
    proxy = AnswerRewriter(central.url, renamed_officer)
    try:
        done = kiosk_sync({**kiosk.env, "CENTRAL_URL": proxy.url}, "--once")
    finally:
        proxy.close()
    assert "not signed with this kiosk's secret" in done.stderr, done.stderr
    assert kiosk_config(kiosk) == (good, 0)
    staff = staff_over_http(kiosk.url)
    assert staff_choices(staff, kiosk.url, "officer") == {"cb-hung-cu": HUNG}
    assert "Kẻ Mạo Danh" not in staff.get(kiosk.url + "/staff/home", timeout=10).text
    ok(kiosk.sync())  # straight from central: the real change comes in
    assert staff_choices(staff, kiosk.url, "officer") == {"cb-hung-cu": HUNG, "cb-moi": "Lê Văn Mới"}
