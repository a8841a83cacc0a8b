"""The configuration central sends a kiosk: checked whole, stored whole, read back (kiosk.central_config)."""

import pytest

from helpers import add_responses, config_answer, questionnaire_source
from kiosk import central_config, chain, drafts, store
from kiosk.central_config import ConfigInvalid
from kiosk.clock import now_utc
from kiosk.flags import FlagPolicy


def test_a_valid_configuration_is_checked_into_names_ids_and_typed_settings():
    answer = config_answer(settings={"KIOSK_IDLE_SECONDS": 90, "KIOSK_BURST_LIMIT": "7"},
                           questionnaire={"version": "2026.9", "source": questionnaire_source("2026.9")})
    checked = central_config.check(answer)
    assert checked.counters == (("Q1", "Quầy 1"), ("Q2", "Quầy 2"))
    assert checked.officer_name("cb-lan") == "Trần Thị Lan" and checked.officer_name("cb-x") is None
    assert checked.settings == {"idle_seconds": 90, "burst_limit": 7}
    assert checked.questionnaire.version == "2026.9" and checked.has_roster


def test_names_are_stored_in_nfc():
    decomposed = "Nguye\u0302\u0303n Va\u0306n Hu\u0300ng"
    checked = central_config.check(config_answer(officers=[{"id": "cb-1", "name": decomposed}]))
    assert checked.officers == (("cb-1", "Nguyễn Văn Hùng"),)


@pytest.mark.parametrize("fields, message", [
    ({"officers": [{"id": "cb 1", "name": "An"}]}, "officers[0].id must be 1 to 36 letters"),
    ({"officers": [{"id": "a" * 37, "name": "An"}]}, "officers[0].id must be 1 to 36 letters"),
    ({"counters": [{"id": "Q1", "name": "A"}, {"id": "Q1", "name": "B"}]}, "counters[1].id repeats 'Q1'"),
    ({"counters": [{"id": "Q1", "name": ""}]}, "counters[0].name must be 1 to 80 characters"),
    ({"officers": [{"id": "cb-1", "name": "An\u202e"}]}, "officers[0].name must be 1 to 80 characters"),
    ({"officers": "cb-1"}, "officers must be a list"),
    ({"unit": None}, "unit must be an object"),
    ({"settings": {"KIOSK_IDLE_SECONDS": 1}}, "settings.KIOSK_IDLE_SECONDS must be a whole number from 3 to 3600"),
    ({"settings": {"KIOSK_IDLE_SECONDS": [90]}}, "settings.KIOSK_IDLE_SECONDS must be a text or a whole number"),
    ({"questionnaire": {"version": "x", "source": "version = "}}, "questionnaire.source is not valid TOML"),
    ({"questionnaire": {"version": "2026.9", "source": questionnaire_source("2026.9").replace(
        'kind = "rating"', 'kind = "stars"', 1)}}, "questions[0].kind must be 'rating' or 'choice', not 'stars'"),
    ({"questionnaire": {"version": "2026.8", "source": questionnaire_source("2026.9")}},
     "questionnaire.version '2026.8' is not the file's own version '2026.9'"),
])
def test_a_wrong_field_is_named(fields, message):
    with pytest.raises(ConfigInvalid) as error:
        central_config.check(config_answer(**fields))
    assert message in str(error.value)


def test_a_version_that_is_not_a_sha256_is_refused():
    with pytest.raises(ConfigInvalid, match="config_version must be 64"):
        central_config.check({**config_answer(), "config_version": "v1"})


def test_settings_central_may_not_set_here_are_left_out_and_named():
    checked = central_config.check(config_answer(settings={"KIOSK_DB": "/tmp/x.db", "KIOSK_MIN_SECONDS": 4}))
    assert checked.settings == {"min_seconds": 4} and checked.ignored == ("KIOSK_DB",)


def test_only_registry_entries_flagged_central_are_settable():
    assert set(central_config.central_settings()) == {
        "KIOSK_IDLE_SECONDS", "KIOSK_SETTLE_MS", "KIOSK_MIN_SECONDS", "KIOSK_BURST_LIMIT", "KIOSK_BURST_WINDOW"}


@pytest.fixture
def kiosk_db(tmp_path):
    store.init(tmp_path / "kiosk.db", "test-kiosk")
    db = store.connect(tmp_path / "kiosk.db")
    yield db
    db.close()


def test_saved_then_read_back_the_same(kiosk_db):
    checked = central_config.check(config_answer(
        settings={"KIOSK_IDLE_SECONDS": 90}, questionnaire={"version": "2026.9", "source": questionnaire_source()}))
    assert central_config.current(kiosk_db) is None
    assert central_config.save(kiosk_db, checked, now_utc()) is True
    assert central_config.current(kiosk_db) == checked
    assert central_config.stored_version(kiosk_db) == checked.version
    assert central_config.received_questionnaire(kiosk_db, "2026.9").version == "2026.9"
    assert central_config.save(kiosk_db, checked, now_utc()) is False  # the same again: nothing to change


def test_a_save_that_fails_midway_leaves_the_last_good_one_whole(kiosk_db):
    first = central_config.check(config_answer())
    central_config.save(kiosk_db, first, now_utc())
    second = central_config.check(config_answer(
        officers=[{"id": "cb-new", "name": "Lê Văn Mới"}],
        questionnaire={"version": "2026.9", "source": questionnaire_source()}))
    kiosk_db.execute("CREATE TRIGGER no_more BEFORE INSERT ON received_questionnaires "
                     "BEGIN SELECT RAISE(ABORT, 'disk full, say'); END")
    with pytest.raises(Exception, match="disk full"):
        central_config.save(kiosk_db, second, now_utc())
    assert central_config.current(kiosk_db) == first
    assert kiosk_db["received_questionnaires"].count == 0


def test_the_officer_on_duty_renamed_at_central_is_shown_by_the_new_name(kiosk_db):
    with store.write(kiosk_db):
        for key, value in (("officer_id", "cb-hung"), ("officer", "Nguyễn Văn Hùng")):
            store.set_setting(kiosk_db, key, value)
    central_config.save(kiosk_db, central_config.check(config_answer(
        officers=[{"id": "cb-hung", "name": "Nguyễn Văn Hưng"}])), now_utc())
    assert store.get_setting(kiosk_db, "officer") == "Nguyễn Văn Hưng"


# --- responses carry the roster's ids; the chain of every older response is unchanged --------------


def test_an_old_record_keeps_its_hash():
    """A response stored before issue 13 (no id columns at all) hashes as it always did."""
    record = {"seq": 1, "uuid": "0b7e7f4e-8a51-4c1e-9b7e-3c2d1a0f9e8d", "kiosk_id": "k", "started_utc":
              "2026-01-05T01:00:00.000Z", "created_utc": "2026-01-05T01:01:00.000Z", "utc_offset_minutes": 420,
              "questionnaire_version": "2026.1", "counter": "Quầy 1", "officer": "An", "dossier_code": None,
              "answers": {"overall": 5}, "reasons": [], "complete": 1, "flags": [], "comment_hash": None,
              "contact_hash": None, "prev_hash": chain.GENESIS_HASH}
    # The hash kiosk/chain.py gave this record before issue 13 (main at d5f3811), fixed here, not recomputed.
    before = "6412d41f1e22afd17f8b85b339d3aa86ae0008b3a4706a36e5bf690bee800b96"
    assert chain.record_hash(record) == before
    assert chain.record_hash({**record, "officer_id": None, "counter_id": None}) == before  # as read from the store
    assert chain.record_hash({**record, "officer_id": "cb-1"}) != before


def test_a_response_carries_the_ids_on_duty_and_verifies(kiosk_db, tmp_path):
    add_responses(tmp_path / "kiosk.db", 1)  # before any roster: no ids
    with store.write(kiosk_db):
        for key, value in (("counter_id", "Q1"), ("counter", "Quầy 1"), ("officer_id", "cb-hung"),
                           ("officer", "Nguyễn Văn Hùng")):
            store.set_setting(kiosk_db, key, value)
    draft = drafts.start_draft(kiosk_db, "2026.1", now_utc())
    drafts.save_answer(kiosk_db, draft, "overall", 5, now_utc())
    drafts.finish_draft(kiosk_db, draft, complete=True, now=now_utc(), policy=FlagPolicy(0, 10**9))
    old, new = store.responses(kiosk_db)
    assert (old["officer_id"], old["counter_id"]) == (None, None)
    assert (new["officer_id"], new["counter_id"], new["officer"]) == ("cb-hung", "Q1", "Nguyễn Văn Hùng")
    assert "officer_id" in chain.chained(new) and "officer_id" not in chain.chained(old)
    assert store.verify(kiosk_db) == (2, None)
