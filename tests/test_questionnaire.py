"""The questionnaire file: the default one, and broken ones named by field."""

import copy
import tomllib

import pytest

from kiosk.config import DEFAULT_QUESTIONNAIRE
from kiosk.questionnaire import QuestionnaireError, load, parse

DEFAULT = tomllib.loads(DEFAULT_QUESTIONNAIRE.read_text(encoding="utf-8"))


def test_default_questionnaire_maps_questions_to_sipas():
    q = load(DEFAULT_QUESTIONNAIRE)
    assert [x.key for x in q.questions] == [
        "overall", "guidance", "attitude", "fairness", "timeliness", "extra_request", "visits"]
    assert q.question("guidance").sipas_items == ("III.24", "III.25")
    assert q.question("fairness").elements == (3, 4)
    assert [o.text["vi"] for o in q.question("overall").options] == [
        "Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"]
    assert [o.value for o in q.question("visits").options] == ["1", "2", "3+"]


def test_answers_are_parsed_to_their_stored_form():
    q = load(DEFAULT_QUESTIONNAIRE)
    assert q.question("overall").parse("5") == 5
    assert q.question("overall").parse("6") is None
    assert q.question("visits").parse("3+") == "3+"


def test_reasons_follow_the_low_ratings():
    q = load(DEFAULT_QUESTIONNAIRE)
    assert q.reasons_for({"overall": 4, "attitude": 3}) == []
    assert [r.key for r in q.reasons_for({"timeliness": 2})] == [
        "many_visits", "late_result", "long_wait", "other"]


def broken(change):
    data = copy.deepcopy(DEFAULT)
    change(data)
    return data


BROKEN = [
    (lambda d: d.pop("version"), "version is missing"),
    (lambda d: d.update(version=3), "version must be a string, not 3"),
    (lambda d: d["questions"][2].update(kind="stars"),
     "questions[2].kind must be 'rating' or 'choice', not 'stars'"),
    (lambda d: d["questions"][1]["text"].pop("en"), "questions[1].text.en is missing"),
    (lambda d: d["questions"][1]["text"].update(vi="  "), "questions[1].text.vi is empty"),
    (lambda d: d["questions"][3].update(key="guidance"), "questions[3].key repeats 'guidance'"),
    (lambda d: d["questions"][3].update(key="Bad Key"),
     "questions[3].key must be lower-case letters, digits or '_', not 'Bad Key'"),
    (lambda d: d["questions"].insert(0, d["questions"].pop(1)),
     "questions[0] must be the 'overall' rating"),
    (lambda d: d["questions"][6].update(options=[d["questions"][6]["options"][0]]),
     "questions[6].options must list at least 2 options"),
    (lambda d: d["questions"][5]["options"][1].update(value="yes"),
     "questions[5].options[1].value must be a new short code"),
    (lambda d: d["questions"][2].update(elements=[6]),
     "questions[2].elements must list SIPAS element numbers from 1 to 5"),
    (lambda d: d["scale"]["labels"].update(vi=["a", "b"]), "scale.labels.vi must list 5 labels"),
    (lambda d: d["reasons"][0].update(questions=["salary"]),
     "reasons[0].questions names unknown question 'salary'"),
    (lambda d: d.update(reasons_at_or_below=7), "reasons_at_or_below must be from 1 to 5, not 7"),
    (lambda d: d.pop("privacy_purpose"), "privacy_purpose is missing"),
]


@pytest.mark.parametrize("change, message", BROKEN)
def test_a_broken_questionnaire_names_the_field(change, message):
    with pytest.raises(QuestionnaireError) as error:
        parse(broken(change), "q.toml")
    assert str(error.value).startswith(f"q.toml: {message}")


def test_unreadable_files_are_named(tmp_path):
    bad = tmp_path / "q.toml"
    bad.write_text("version = ", encoding="utf-8")
    with pytest.raises(QuestionnaireError, match=r"q.toml: not valid TOML"):
        load(bad)
    with pytest.raises(QuestionnaireError, match=r"missing.toml: the questionnaire file does not exist."):
        load(tmp_path / "missing.toml")


def test_texts_are_normalised_to_nfc():
    import unicodedata
    data = broken(lambda d: d["questions"][1]["text"].update(vi=unicodedata.normalize("NFD", "Hướng dẫn")))
    assert parse(data).questions[1].text["vi"] == "Hướng dẫn"


ELEMENT_QUESTIONS = ("guidance", "attitude", "fairness", "timeliness")


def test_the_element_questions_ask_one_thing_each_on_a_satisfaction_scale():
    q = load(DEFAULT_QUESTIONNAIRE)
    assert q.version != "2025.1"  # the wording changed: responses keep the version they answered
    for key in ELEMENT_QUESTIONS:
        text = q.question(key).text
        assert text["vi"].startswith("Ông/Bà đánh giá thế nào về "), key
        assert text["en"].startswith("How would you rate "), key
        for words in text.values():  # one idea: no list of qualities, not a yes/no question
            assert "," not in words and " không?" not in words and " or " not in words, (key, words)
        assert [o.value for o in q.question(key).options][:5] == ["1", "2", "3", "4", "5"]


def test_timeliness_can_be_answered_not_yet_and_is_stored_as_not_applicable():
    q = load(DEFAULT_QUESTIONNAIRE)
    extra = [o for o in q.question("timeliness").options if o.extra]
    assert [(o.value, o.text) for o in extra] == [("na", {"vi": "Chưa nhận kết quả", "en": "No result yet"})]
    assert q.question("timeliness").parse("na") == "na"
    assert q.question("guidance").parse("na") is None  # only where the file offers it
    assert q.low_rated({"timeliness": "na"}) == [] and q.reasons_for({"timeliness": "na"}) == []
    # Staff pages show it in words, never as the raw key
    timeliness, visits = q.question("timeliness"), q.question("visits")
    assert timeliness.shown("na", "vi") == "Chưa nhận kết quả" and timeliness.shown(4, "vi") == "4"
    assert visits.shown("3+", "en") == next(o.text["en"] for o in visits.options if o.value == "3+")
    assert visits.shown("zz", "vi") == "zz"  # a value the file does not know: as it is


def test_not_applicable_is_reserved_for_rating_questions():
    data = broken(lambda d: d["questions"][6]["options"].append(
        {"value": "na", "text": {"vi": "Không rõ", "en": "Unknown"}}))
    with pytest.raises(QuestionnaireError, match=r"questions\[6\]\.options\[3\]\.value must not be 'na'"):
        parse(data, "q.toml")
