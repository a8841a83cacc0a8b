"""Every tap counted once and nothing a citizen gives lost or misplaced (issue 8, items 1-6)."""

import re
import threading

import pytest
import requests

from helpers import ANSWERS, STORED_ANSWERS, Citizen, all_responses, counts, survey_id
from kiosk import drafts, indices, store
from kiosk.clock import local_today, now_utc


def location(response):
    return response.headers["Location"]


def page(client, path):
    return client.get(path).get_data(as_text=True)


# --- 1. one tap, one answer -----------------------------------------------------------


def test_a_second_post_for_a_screen_already_answered_keeps_the_first_answer(client, db):
    citizen = Citizen(client)
    survey = survey_id(page(client, "/q/guidance"))
    drawn = {"survey": survey, "seen": ""}  # both posts come from the same screen, drawn unanswered
    assert location(citizen.post("/q/guidance", {**drawn, "answer": "5"})) == "/q/attitude"
    assert location(citizen.post("/q/guidance", {**drawn, "answer": "1"})) == "/q/attitude"
    [draft] = db["drafts"].rows
    assert draft["answers"] == '{"guidance":5}'


def test_back_then_a_new_tap_changes_the_answer(client, db):
    citizen = Citizen(client)
    citizen.answer("overall", "5")
    citizen.answer("guidance", "5")
    screen = page(client, "/q/guidance")  # the citizen came back: 5 is shown as chosen
    assert 'name="seen" type="hidden" value="5"' in screen
    citizen.post("/q/guidance", {"survey": survey_id(screen), "seen": "5", "answer": "2"})
    assert drafts.get_draft(db, survey_id(screen))["answers"] == {"overall": 5, "guidance": 2}


def test_every_screen_tells_the_script_its_settle_time(make_app):
    client = make_app(env={"KIOSK_SETTLE_MS": "650"}).test_client()
    for path in ["/", "/q/guidance", "/feedback"]:
        assert 'data-settle="650"' in page(client, path), path


# --- 2. nothing typed or ticked is discarded on the last screen ----------------------

COMPLAINT = "Cán bộ hẹn trả kết quả thứ Hai nhưng đến nay chưa có."


@pytest.mark.parametrize("nav", ["skip", "submit"])
def test_skip_or_send_on_the_last_screen_keeps_the_reason_and_the_comment(client, db, nav):
    citizen = Citizen(client)
    citizen.answer("overall", "2")
    survey = survey_id(page(client, "/feedback"))
    sent = citizen.post("/feedback", {"survey": survey, "nav": nav, "reasons": "late_result",
                                      "comment": COMPLAINT})
    assert location(sent) == "/thanks"
    [response] = all_responses(db)
    assert response["reasons"] == ["late_result"] and response["complete"] == 1
    assert db["response_private"].get(response["seq"])["comment"] == COMPLAINT


def test_the_last_screen_has_one_way_to_finish(client):
    Citizen(client).answer("overall", "2")
    screen = page(client, "/feedback")
    assert re.findall(r'name="nav" value="(\w+)"', screen) == ["back", "restart", "submit"]
    assert "Làm lại từ đầu" in screen and "Bỏ qua" not in screen


def test_back_from_the_last_screen_keeps_what_was_entered(client, db):
    citizen = Citizen(client)
    citizen.answer("overall", "2")
    survey = survey_id(page(client, "/feedback"))
    back = citizen.post("/feedback", {"survey": survey, "nav": "back", "reasons": "late_result",
                                      "comment": COMPLAINT, "phone": "0912 345 678", "consent": "y"})
    assert location(back) == "/q/visits"
    screen = page(client, "/feedback")  # forward again: everything is still there
    assert COMPLAINT in screen and 'value="0912345678"' in screen
    assert re.search(r'checked[^>]*value="late_result"|value="late_result"[^>]*checked', screen)
    assert location(citizen.post("/feedback", {"survey": survey, "nav": "submit", "reasons": "late_result",
                                               "comment": COMPLAINT, "phone": "0912345678",
                                               "consent": "y"})) == "/thanks"
    [response] = all_responses(db)
    assert response["reasons"] == ["late_result"] and response["contact_hash"] is not None
    assert db["response_private"].get(response["seq"])["comment"] == COMPLAINT


def test_switching_language_on_the_last_screen_keeps_what_was_entered(client, db):
    citizen = Citizen(client)
    citizen.answer("overall", "2")
    survey = survey_id(page(client, "/feedback"))
    switch = citizen.post("/feedback", {"survey": survey, "nav": "lang-en", "reasons": "late_result",
                                        "comment": COMPLAINT})
    assert location(switch) == "/lang/en?next=/feedback"
    assert location(client.get("/lang/en?next=/feedback")) == "/feedback"
    screen = page(client, "/feedback")
    assert 'lang="en"' in screen and COMPLAINT in screen
    assert 'name="nav" value="lang-vi"' in screen  # the switch back sends the form too
    assert re.search(r'checked[^>]*value="late_result"|value="late_result"[^>]*checked', screen)


def test_an_empty_send_with_a_dossier_waiting_leaves_it_to_no_one(client, db):
    staff(client).post("/staff/dossier", {"dossier_code": DOSSIER})
    survey = survey_id(page(client, "/feedback"))
    assert location(Citizen(client).post("/feedback", {"survey": survey, "nav": "submit"})) == "/thanks"
    assert store.get_setting(db, "pending_dossier") is None  # even if the thank-you page never resets
    Citizen(client.application.test_client()).full_response(ANSWERS)  # the next citizen, another browser
    [response] = all_responses(db)
    assert response["dossier_code"] is None


def test_back_with_an_invalid_entry_says_why_and_changes_nothing(client, db):
    citizen = Citizen(client)
    citizen.answer("overall", "2")
    survey = survey_id(page(client, "/feedback"))
    refused = citizen.post("/feedback", {"survey": survey, "nav": "back", "phone": "0912345678"})
    assert refused.status_code == 400 and "đánh dấu ô đồng ý" in refused.get_data(as_text=True)
    assert drafts.get_draft(db, survey)["feedback"] == drafts.NO_FEEDBACK


def test_the_idle_reset_on_the_last_screen_keeps_the_text_with_the_incomplete_response(client, db):
    citizen = Citizen(client)
    citizen.answer("overall", "1")
    survey = survey_id(page(client, "/feedback"))
    # The script sends the form with nav=restart when the idle timer fires on this screen;
    # the phone without consent cannot be kept, the rest is.
    reset = citizen.post("/feedback", {"survey": survey, "nav": "restart", "reasons": "late_result",
                                       "comment": COMPLAINT, "phone": "0912345678"})
    assert location(reset) == "/reset"
    assert location(client.get("/reset")) == "/"
    [response] = all_responses(db)
    assert response["complete"] == 0 and response["answers"] == {"overall": 1}
    assert response["reasons"] == ["late_result"] and response["contact_hash"] is None
    assert db["response_private"].get(response["seq"])["comment"] == COMPLAINT


# --- 3. thanks only after the commit ---------------------------------------------------


def test_the_thank_you_page_is_not_shown_for_nothing_stored(client, db):
    assert location(client.get("/thanks")) == "/"
    citizen = Citizen(client)
    citizen.answer("overall", "4")
    assert location(client.get("/thanks")) == "/"
    citizen.send()
    assert "Đánh giá đã được ghi nhận" in page(client, "/thanks")


@pytest.mark.slow
def test_a_full_disk_shows_no_thanks_keeps_the_draft_and_the_retry_stores_exactly_one(
        make_app, fillable_disk):
    app = make_app(env={"KIOSK_DB": str(fillable_disk.path / "kiosk.db")})
    client = app.test_client()
    citizen = Citizen(client)
    for key, value in ANSWERS.items():
        citizen.answer(key, value)
    survey = survey_id(page(client, "/feedback"))
    form = {"survey": survey, "nav": "submit", "reasons": "impolite", "comment": "Thủ tục nhanh"}

    fillable_disk.fill()
    tap = citizen.post("/q/visits", {"survey": survey, "seen": "1", "answer": "2"})
    assert tap.status_code == 503 and "Thử lại" in tap.get_data(as_text=True)
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["ok"] is False
    failed = citizen.post("/feedback", form)
    text = failed.get_data(as_text=True)
    assert failed.status_code == 503 and "Location" not in failed.headers
    assert "chưa lưu được" in text and "Cảm ơn" not in text
    assert "Thủ tục nhanh" in text  # the form comes back as it was, ready to send again
    assert location(client.get("/thanks")) == "/"
    again = citizen.post("/feedback", form)  # a retry while the disk is still full
    assert again.status_code == 503

    fillable_disk.free()
    assert location(citizen.post("/feedback", form)) == "/thanks"
    assert client.get("/healthz").get_json()["ok"] is True
    db = store.connect(app.config["KIOSK"].db_path)
    try:
        [response] = all_responses(db)
        assert response["answers"] == STORED_ANSWERS and response["reasons"] == ["impolite"]
        assert db["response_private"].get(response["seq"])["comment"] == "Thủ tục nhanh"
        assert db["drafts"].count == 0
        assert store.verify(db) == (1, None)
    finally:
        db.close()


def test_healthz_does_a_real_write(client, db):
    before = store.get_setting(db, "health_checked_utc")
    assert client.get("/healthz").get_json()["ok"] is True
    assert store.get_setting(db, "health_checked_utc") not in (None, before)


# --- 4. one survey, one response --------------------------------------------------------


def test_browser_back_after_send_stores_nothing_more(client, db):
    citizen = Citizen(client)
    for key, value in ANSWERS.items():
        citizen.answer(key, value)
    form = {"survey": survey_id(page(client, "/feedback")), "nav": "submit",
            "comment": "Thủ tục nhanh, cảm ơn cán bộ"}
    assert location(citizen.post("/feedback", form)) == "/thanks"
    assert location(citizen.post("/feedback", form)) == "/thanks"  # Back, the comment still there
    assert "Đánh giá đã được ghi nhận" in page(client, "/thanks")
    assert location(citizen.post("/q/visits", {"survey": form["survey"], "answer": "2"})) == "/thanks"
    [response] = all_responses(db)
    assert response["answers"] == STORED_ANSWERS
    assert counts(db) == (1, 0) and db["response_private"].count == 1


def test_two_sends_of_the_same_survey_at_once_store_one_response(live_kiosk):
    kiosk = live_kiosk()
    session = requests.Session()
    welcome = session.get(kiosk.url + "/", timeout=5).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', welcome).group(1)
    survey = survey_id(welcome)
    for key, value in ANSWERS.items():
        session.post(f"{kiosk.url}/q/{key}", data={"csrf_token": token, "survey": survey, "answer": value},
                     allow_redirects=False, timeout=5).raise_for_status()
    form = {"csrf_token": token, "survey": survey, "nav": "submit", "comment": "Thủ tục nhanh, cảm ơn cán bộ"}
    replies = []

    def send():
        replies.append(session.post(kiosk.url + "/feedback", data=form, allow_redirects=False, timeout=10))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [reply.headers.get("Location") for reply in replies] == ["/thanks"] * 4
    db = store.connect(kiosk.db_path)
    try:
        assert counts(db) == (1, 0) and db["response_private"].count == 1
    finally:
        db.close()


# --- 5. a clean start for every citizen -------------------------------------------------


def test_start_over_keeps_the_survey_as_incomplete_and_starts_afresh(client, db):
    citizen = Citizen(client)
    client.get("/lang/en?next=/")
    citizen.answer("overall", "5")
    citizen.answer("guidance", "4")
    screen = page(client, "/q/attitude")
    assert 'class="step restart"' in screen
    restart = citizen.post("/q/attitude", {"survey": survey_id(screen), "nav": "restart"})
    assert location(restart) == "/reset"
    assert location(client.get("/reset")) == "/"
    [response] = all_responses(db)
    assert response["complete"] == 0 and response["answers"] == {"overall": 5, "guidance": 4}
    welcome = page(client, "/")
    assert '<html lang="vi">' in welcome and "chosen" not in welcome
    assert survey_id(welcome) != survey_id(screen)


def test_every_question_screen_has_start_over_and_a_countdown(client):
    Citizen(client).answer("overall", "3")
    for path in ["/", "/q/guidance", "/q/timeliness", "/q/visits", "/feedback"]:
        screen = page(client, path)
        assert re.search(r'<button type="submit" name="nav" value="restart" class="step restart">'
                         r'\s*Làm lại từ đầu', screen), path
        assert re.search(r'<p class="countdown" role="status" hidden data-text="[^"]*\{s\}', screen), path


def test_an_empty_welcome_screen_has_neither_start_over_nor_countdown(client):
    screen = page(client, "/")
    assert 'value="restart"' not in screen and 'class="countdown"' not in screen


# --- 6. the dossier is visible, cancellable, and expires --------------------------------

DOSSIER = "000.00.15.H29-250611-0001"


def staff(client):
    from kiosk.staff import set_pin
    db = store.connect(client.application.config["KIOSK"].db_path)
    set_pin(db, "2468")
    db.close()
    citizen = Citizen(client)
    citizen.post("/staff/", {"pin": "2468"})
    return citizen


def test_the_welcome_screen_shows_the_dossier_masked(client):
    staff(client).post("/staff/dossier", {"dossier_code": DOSSIER})
    welcome = page(client, "/")
    assert re.search(r'<p class="dossier">[^<]*…0001</p>', welcome)
    assert DOSSIER not in welcome and "250611" not in welcome


def test_staff_can_cancel_the_dossier(client, db):
    citizen = staff(client)
    citizen.post("/staff/dossier", {"dossier_code": DOSSIER})
    citizen.post("/staff/", {"pin": "2468"})
    assert DOSSIER in page(client, "/staff/home")
    assert location(citizen.post("/staff/dossier/cancel")) == "/staff/home"
    assert store.get_setting(db, "pending_dossier") is None
    assert 'class="dossier"' not in page(client, "/")


def test_the_dossier_expires_with_the_idle_reset(client, db):
    staff(client).post("/staff/dossier", {"dossier_code": DOSSIER})
    client.get("/reset")  # the citizen walked away; the idle timer fired
    assert store.get_setting(db, "pending_dossier") is None
    Citizen(client).full_response(ANSWERS)  # the next citizen's rating
    [response] = all_responses(db)
    assert response["dossier_code"] is None


def test_the_dossier_stays_with_the_citizen_who_started(client, db):
    staff(client).post("/staff/dossier", {"dossier_code": DOSSIER})
    citizen = Citizen(client)
    citizen.answer("overall", "4")
    assert "…0001" in page(client, "/")  # back on the welcome screen: still shown
    citizen.send()
    [response] = all_responses(db)
    assert response["dossier_code"] == DOSSIER


# --- 10. questions people can answer ------------------------------------------------------


def test_not_yet_on_timeliness_is_stored_as_not_applicable_and_not_counted(client, db):
    citizen = Citizen(client)
    screen = page(client, "/q/timeliness")
    assert re.search(r'value="na" class="option not-applicable">\s*<span class="label">Chưa nhận kết quả',
                     screen)
    citizen.full_response({**ANSWERS, "timeliness": "na"})
    [response] = all_responses(db)
    assert response["answers"]["timeliness"] == "na"
    assert response["questionnaire_version"] == "2026.1"
    summary = indices.summarize(store.responses_for_day(db, local_today(now_utc())), include_flagged=True)
    assert "timeliness" not in summary["questions"] and summary["not_applicable"] == {"timeliness": 1}
