"""Staff mode with central's roster (issue 13): the counter and officer on duty are picked, never typed;
responses carry their ids; a survey in progress keeps its questionnaire; central's settings apply."""

import re

import pytest

from helpers import ANSWERS, Citizen, config_answer, questionnaire_source
from kiosk import central_config, staff, store
from kiosk.clock import now_utc


@pytest.fixture
def staff_client(client, db):
    staff.set_pin(db, "2468")
    citizen = Citizen(client)
    assert citizen.post("/staff/", {"pin": "2468"}).headers["Location"] == "/staff/home"
    return citizen


def receive(db, **fields):
    """Store a configuration as the uploader does once central's answer is verified."""
    central_config.save(db, central_config.check(config_answer(**fields)), now_utc())


def test_without_a_roster_the_free_text_form_stays_and_says_why(staff_client):
    page = staff_client.client.get("/staff/home").get_data(as_text=True)
    assert "Chưa có danh sách quầy và cán bộ từ máy chủ trung tâm: vui lòng nhập tên." in page
    assert 'name="officer"' in page and 'name="officer_id"' not in page


def test_with_a_roster_staff_picks_and_sees_it_saved(staff_client, db):
    receive(db)
    page = staff_client.client.get("/staff/home").get_data(as_text=True)
    assert 'type="radio" name="officer_id" value="cb-lan"' in page and 'name="officer"' not in page
    assert "Bộ phận Một cửa – Sở Xây dựng" in page
    saved = staff_client.post("/staff/pick", {"counter_id": "Q2", "officer_id": "cb-lan"})
    assert saved.headers["Location"] == "/staff/home"
    page = staff_client.client.get("/staff/home").get_data(as_text=True)
    assert "Đã lưu: Quầy 2 · Trần Thị Lan" in page
    assert [store.get_setting(db, k) for k in ("counter_id", "counter", "officer_id", "officer")] == [
        "Q2", "Quầy 2", "cb-lan", "Trần Thị Lan"]
    welcome = staff_client.client.get("/").get_data(as_text=True)
    assert "Trần Thị Lan" in welcome and "Quầy 2" in welcome  # shown to the citizen as before


@pytest.mark.parametrize("form, message", [
    ({"counter_id": "Q1"}, "Vui lòng chọn cán bộ trực."),
    ({"officer_id": "cb-lan"}, "Vui lòng chọn quầy."),
    ({"counter_id": "Q1", "officer_id": "cb-gone"}, "Lựa chọn này không còn trong danh sách"),
])
def test_a_pick_not_on_the_lists_is_refused_and_changes_nothing(staff_client, db, form, message):
    receive(db)
    refused = staff_client.post("/staff/pick", form)
    assert refused.status_code == 400 and message in refused.get_data(as_text=True)
    assert store.get_setting(db, "officer_id") is None and store.get_setting(db, "counter_id") is None


def test_typing_names_is_refused_once_a_roster_came(staff_client, db):
    receive(db)
    refused = staff_client.post("/staff/duty", {"counter": "Quầy 9", "officer": "Nguyen Van Hung"})
    assert refused.status_code == 400 and store.get_setting(db, "officer") is None


def test_a_long_list_gets_a_search_that_ignores_diacritics(staff_client, db):
    officers = [{"id": f"cb-{i}", "name": name} for i, name in enumerate(
        ["Nguyễn Văn Hùng", "Trần Thị Lan", "Lê Văn Đức", "Phạm Thị Hoa", "Hoàng Văn Nam", "Vũ Thị Mai",
         "Đặng Văn Long", "Bùi Thị Thu", "Đỗ Văn Khánh"])]
    receive(db, officers=officers)
    page = staff_client.client.get("/staff/home").get_data(as_text=True)
    assert 'type="search"' in page and page.count('name="officer_id"') == 9
    found = staff_client.client.get("/staff/home?q=duc").get_data(as_text=True)
    assert re.findall(r'name="officer_id" value="([^"]+)"', found) == ["cb-2"]
    assert "Lê Văn Đức" in found
    none = staff_client.client.get("/staff/home?q=xyz").get_data(as_text=True)
    assert "Không có cán bộ nào có tên chứa “xyz”." in none


def test_a_short_list_has_no_search(staff_client, db):
    receive(db)
    assert 'type="search"' not in staff_client.client.get("/staff/home").get_data(as_text=True)


def test_an_officer_retired_at_central_leaves_the_list_and_staff_mode_says_so(staff_client, db):
    receive(db)
    staff_client.post("/staff/pick", {"counter_id": "Q1", "officer_id": "cb-hung"})
    receive(db, officers=[{"id": "cb-lan", "name": "Trần Thị Lan"}])  # cb-hung retired at central
    page = staff_client.client.get("/staff/home").get_data(as_text=True)
    assert 'value="cb-hung"' not in page
    assert ("Nguyễn Văn Hùng, cán bộ đang trực tại đây, không còn trong danh sách của đơn vị ở máy chủ "
            "trung tâm: vui lòng chọn cán bộ trực.") in page


def test_a_response_given_on_duty_carries_both_ids_and_names(staff_client, db):
    receive(db)
    staff_client.post("/staff/pick", {"counter_id": "Q1", "officer_id": "cb-hung"})
    citizen = Citizen(staff_client.client)
    assert citizen.full_response(ANSWERS).status_code == 302
    [response] = store.responses(db)
    assert (response["officer_id"], response["officer"], response["counter_id"], response["counter"]) == (
        "cb-hung", "Nguyễn Văn Hùng", "Q1", "Quầy 1")
    assert store.verify(db) == (1, None)


def test_central_settings_override_the_environment(client, db):
    assert 'data-idle="30"' in client.get("/").get_data(as_text=True)
    receive(db, settings={"KIOSK_IDLE_SECONDS": 75, "KIOSK_SETTLE_MS": 300})
    page = client.get("/").get_data(as_text=True)
    assert 'data-idle="75"' in page and 'data-settle="300"' in page


def test_a_new_questionnaire_applies_from_the_next_survey_not_mid_survey(client, db):
    citizen = Citizen(client)
    assert citizen.answer("overall", "4").status_code == 302  # a survey in progress on 2026.1
    receive(db, questionnaire={"version": "2026.9", "source": questionnaire_source(
        "2026.9", overall_vi="Ông/Bà đánh giá chung thế nào về Bộ phận Một cửa?")})
    back_to_first = client.get("/").get_data(as_text=True)  # this citizen's survey keeps its questionnaire
    assert "Ông/Bà hài lòng thế nào với việc giải quyết thủ tục hôm nay?" in back_to_first
    for key, value in list(ANSWERS.items())[1:]:
        assert citizen.answer(key, value).status_code == 302
    assert citizen.send().status_code == 302
    welcome = client.get("/").get_data(as_text=True)  # the next citizen
    assert "Ông/Bà đánh giá chung thế nào về Bộ phận Một cửa?" in welcome
    assert citizen.full_response(ANSWERS).status_code == 302
    first, second = store.responses(db)
    assert first["questionnaire_version"] == "2026.1" and first["answers"]["visits"] == "1"
    assert second["questionnaire_version"] == "2026.9"


def test_staff_mode_says_when_central_s_last_configuration_was_not_applied(staff_client, db):
    central_config.record_problem(db, "the configuration from central is invalid: questions[0].kind must be ...")
    page = staff_client.client.get("/staff/home").get_data(as_text=True)
    assert "Cấu hình mới nhất từ máy chủ trung tâm chưa được áp dụng; máy vẫn dùng cấu hình trước đó:" in page
    assert "questions[0].kind" in page
    central_config.record_problem(db, None)  # the next good one clears it
    assert "chưa được áp dụng" not in staff_client.client.get("/staff/home").get_data(as_text=True)
