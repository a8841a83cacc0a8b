"""The survey through Flask's test client: flow, bad input, normalisation, flags."""

import unicodedata

import pytest

from helpers import ANSWERS, STORED_ANSWERS, Citizen, all_responses, counts


def location(response):
    return response.headers["Location"]


def test_full_response_is_stored_once_with_its_questionnaire_version(client, db):
    citizen = Citizen(client)
    sent = citizen.full_response(ANSWERS, reasons=["impolite"], comment="Cảm ơn")
    assert location(sent) == "/thanks"
    [response] = all_responses(db)
    assert response["answers"] == STORED_ANSWERS
    assert response["reasons"] == ["impolite"]
    assert response["complete"] == 1
    assert response["questionnaire_version"] == "2026.1"
    assert response["seq"] == 1 and response["kiosk_id"] == "test-kiosk"
    assert db["drafts"].count == 0
    private = db["response_private"].get(1)
    assert private["comment"] == "Cảm ơn" and private["phone"] is None


def test_each_tap_advances_to_the_next_screen(client):
    citizen = Citizen(client)
    assert location(citizen.answer("overall", "5")) == "/q/guidance"
    assert location(citizen.post("/q/guidance", {"nav": "skip"})) == "/q/attitude"
    assert location(citizen.post("/q/attitude", {"nav": "back"})) == "/q/guidance"
    assert location(citizen.post("/q/guidance", {"nav": "back"})) == "/"
    assert location(citizen.answer("visits", "3+")) == "/feedback"


def test_back_shows_the_answer_already_given(client):
    citizen = Citizen(client)
    citizen.answer("overall", "2")
    page = client.get("/").get_data(as_text=True)
    assert 'value="2" class="option chosen" aria-pressed="true"' in page


def test_reasons_are_offered_only_for_low_ratings(client):
    citizen = Citizen(client)
    citizen.answer("overall", "4")
    assert "impolite" not in client.get("/feedback").get_data(as_text=True)
    citizen.answer("attitude", "1")
    page = client.get("/feedback").get_data(as_text=True)
    assert 'value="impolite"' in page and 'value="late_result"' not in page


BAD_INPUT = [
    # (path, form, expected message) - each must answer 400 and store nothing
    ("/q/overall", {"answer": "6"}, "“6” không phải là một câu trả lời của câu hỏi này."),
    ("/q/overall", {"answer": "0"}, "“0” không phải là một câu trả lời của câu hỏi này."),
    ("/q/overall", {"answer": "-1"}, "“-1” không phải là một câu trả lời của câu hỏi này."),
    ("/q/overall", {"answer": "yes"}, "“yes” không phải là một câu trả lời của câu hỏi này."),
    ("/q/visits", {"answer": "4"}, "“4” không phải là một câu trả lời của câu hỏi này."),
    ("/q/overall", {}, "Xin vui lòng chọn một câu trả lời."),
    ("/q/overall", {"nav": "jump"}, "Thao tác không hợp lệ."),
    ("/q/salary", {"answer": "1"}, "Không có câu hỏi “salary”. Chưa có gì được lưu."),
    ("/feedback", {"nav": "submit", "comment": "x" * 1001}, "tối đa 1000 ký tự"),
    ("/feedback", {"nav": "submit", "comment": "a\x07b"}, "ký tự điều khiển ẩn"),
    ("/feedback", {"nav": "submit", "comment": "a\u202eb"}, "ký tự điều khiển ẩn"),
    ("/feedback", {"nav": "submit", "phone": "12345", "consent": "y"}, "số điện thoại Việt Nam"),
    ("/feedback", {"nav": "submit", "phone": "0912345678"}, "đánh dấu ô đồng ý"),
    ("/feedback", {"nav": "submit", "reasons": "bribe"}, "“bribe” không phải là một lý do được nêu."),
    ("/feedback", {"nav": "teleport"}, "Thao tác không hợp lệ."),
]


@pytest.mark.parametrize("path, form, message", BAD_INPUT)
def test_bad_input_gets_a_clear_400_and_writes_nothing(client, db, path, form, message):
    citizen = Citizen(client)
    citizen.answer("attitude", "1")  # a survey in progress, with reasons offered
    before = counts(db)
    draft_before = db.execute("SELECT answers FROM drafts").fetchall()
    response = citizen.post(path, form)
    assert response.status_code == 400
    assert message in unicodedata.normalize("NFC", response.get_data(as_text=True))
    assert counts(db) == before
    assert db.execute("SELECT answers FROM drafts").fetchall() == draft_before


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_post_without_a_valid_csrf_token_is_refused(client, db, token):
    citizen = Citizen(client)
    form = {"answer": "5"} if token is None else {"answer": "5", "csrf_token": token}
    response = citizen.post("/q/overall", form, token=False)
    assert response.status_code == 400
    assert "Phiếu đã hết hạn" in response.get_data(as_text=True)
    assert counts(db) == (0, 0)


def test_oversized_post_is_refused(client, db):
    citizen = Citizen(client)
    response = citizen.send(comment="x" * 70_000)
    assert response.status_code == 413
    assert "Nội dung gửi quá lớn" in response.get_data(as_text=True)
    assert counts(db) == (0, 0)


def test_decomposed_vietnamese_is_stored_composed(client, db):
    decomposed = unicodedata.normalize("NFD", "Cán bộ hướng dẫn rất tận tình")
    assert decomposed != unicodedata.normalize("NFC", decomposed)
    citizen = Citizen(client)
    citizen.answer("overall", "5")
    # 1,000 composed letters arrive as 2,000 code points: normalised first, then measured.
    long_text = unicodedata.normalize("NFD", "ế" * 1000)
    assert citizen.send(comment=decomposed).status_code == 302
    citizen.answer("overall", "5")
    assert citizen.send(comment=long_text).status_code == 302
    comments = [row["comment"] for row in db["response_private"].rows]
    assert comments == ["Cán bộ hướng dẫn rất tận tình", "ế" * 1000]
    assert all(unicodedata.is_normalized("NFC", c) for c in comments)


def test_phone_is_stored_only_with_consent_and_apart_from_the_record(client, db):
    citizen = Citizen(client)
    citizen.answer("overall", "1")
    assert citizen.send(phone="091 234-5678", consent="y").status_code == 302
    [response] = all_responses(db)
    assert "0912345678" not in str(response)
    assert response["contact_hash"] is not None
    assert db["response_private"].get(1)["phone"] == "0912345678"


def test_idle_reset_keeps_the_answers_as_incomplete_and_restores_vietnamese(client, db):
    citizen = Citizen(client)
    client.get("/lang/en?next=/")
    citizen.answer("overall", "2")
    citizen.answer("guidance", "3")
    assert location(client.get("/reset")) == "/"
    [response] = all_responses(db)
    assert response["complete"] == 0
    assert response["answers"] == {"overall": 2, "guidance": 3}
    assert '<html lang="vi">' in client.get("/").get_data(as_text=True)


def test_a_second_tap_on_send_stores_nothing_more(client, db):
    citizen = Citizen(client)
    citizen.full_response(ANSWERS)
    assert location(citizen.send()) == "/thanks"
    assert db["responses"].count == 1


def test_skip_on_the_last_screen_sends_what_is_there(client, db):
    citizen = Citizen(client)
    citizen.answer("overall", "1")
    refused = citizen.post("/feedback", {"nav": "skip", "comment": "x" * 2000})
    assert refused.status_code == 400 and counts(db) == (0, 1)  # nothing dropped silently
    assert location(citizen.post("/feedback", {"nav": "skip", "reasons": "impolite",
                                               "comment": "Chờ lâu"})) == "/thanks"
    [response] = all_responses(db)
    assert response["complete"] == 1 and response["reasons"] == ["impolite"]
    assert db["response_private"].get(1)["comment"] == "Chờ lâu"
    assert location(citizen.post("/feedback", {"nav": "skip"})) == "/thanks"  # nothing left to keep
    assert db["responses"].count == 1 and db["response_private"].count == 1


def test_a_comment_whose_survey_was_already_closed_is_still_kept(client, db):
    citizen = Citizen(client)
    citizen.answer("overall", "3")
    client.get("/reset")  # the idle timer fired while the citizen was typing
    citizen.send(comment="Tôi vẫn muốn góp ý")
    first, second = all_responses(db)
    assert first["complete"] == 0 and second["complete"] == 1
    assert db["response_private"].get(second["seq"])["comment"] == "Tôi vẫn muốn góp ý"


def test_surveys_left_open_are_kept_when_the_kiosk_restarts(make_app, client, db):
    Citizen(client).answer("overall", "5")
    assert counts(db) == (0, 1)
    make_app()  # a new process starting on the same database
    [response] = all_responses(db)
    assert response["complete"] == 0 and response["answers"] == {"overall": 5}


def test_too_fast_and_burst_responses_are_flagged_not_dropped(make_app):
    app = make_app(env={"KIOSK_BURST_LIMIT": "2", "KIOSK_MIN_SECONDS": "60"})
    client = app.test_client()
    citizen = Citizen(client)
    for _ in range(3):
        citizen.full_response(ANSWERS)
    from kiosk import store
    with store.connect(app.config["KIOSK"].db_path) as db:
        flags = [r["flags"] for r in all_responses(db)]
    assert flags == [["too_fast"], ["too_fast"], ["too_fast", "burst"]]


def test_a_normal_response_has_no_flag(make_app):
    app = make_app(env={"KIOSK_MIN_SECONDS": "0"})
    citizen = Citizen(app.test_client())
    citizen.full_response(ANSWERS)
    from kiosk import store
    with store.connect(app.config["KIOSK"].db_path) as db:
        assert all_responses(db)[0]["flags"] == []


@pytest.mark.parametrize("target, expected", [
    ("/q/guidance", "/q/guidance"),
    ("//evil.example/x", "/"),
    ("https://evil.example/", "/"),
    ("", "/"),
])
def test_language_switch_only_returns_to_a_kiosk_page(client, target, expected):
    response = client.get("/lang/en", query_string={"next": target})
    assert location(response) == expected
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)


def test_unknown_language_and_unknown_question_page_are_404(client):
    assert client.get("/lang/fr").status_code == 404
    response = client.get("/q/salary")
    assert response.status_code == 404
    assert "Trang này không tồn tại." in response.get_data(as_text=True)


def test_every_page_is_vietnamese_first_in_nfc(client):
    for path in ["/", "/q/guidance", "/q/visits", "/feedback", "/thanks", "/staff/"]:
        if path == "/thanks":  # the thank-you page follows a stored response
            Citizen(client).full_response(ANSWERS)
        page = client.get(path).get_data(as_text=True)
        assert '<html lang="vi">' in page, path
        assert unicodedata.is_normalized("NFC", page), path
        assert "English" in page, path


def test_pages_load_nothing_from_off_the_machine(client):
    import re
    for path in ["/", "/q/visits", "/feedback", "/thanks", "/staff/"]:
        if path == "/thanks":
            Citizen(client).full_response(ANSWERS)
        page = client.get(path).get_data(as_text=True)
        assert re.findall(r'(?:src|href|action)="(?!/|data:,")[^"]*"', page) == [], path


def test_healthz_reports_counts(client):
    Citizen(client).full_response(ANSWERS)
    health = client.get("/healthz").get_json()
    assert health == {"ok": True, "kiosk_id": "test-kiosk", "questionnaire_version": "2026.1",
                      "responses": 1, "open_surveys": 0, "marked": {},
                      "sync": {"pending": 1, "rejected": 0, "last_rejected": None, "last_success_utc": None,
                               "last_error": None, "last_error_utc": None},
                      "central_config_version": None}  # no configuration from central yet
