"""The index arithmetic against hand-computed figures."""

from collections import Counter

from kiosk.config import DEFAULT_QUESTIONNAIRE
from kiosk.indices import (count_facts, facts, summarize, summarize_tallies, tally, tally_record, tally_from_json,
                           tally_json)
from kiosk.questionnaire import load

ELEMENTS = {q.key: q.elements for q in load(DEFAULT_QUESTIONNAIRE).questions}

RESPONSES = [
    {"answers": {"overall": 5, "guidance": 4, "attitude": 5, "fairness": 3, "timeliness": 4,
                 "extra_request": "no", "visits": "1"}, "dossier_code": "D1"},
    {"answers": {"overall": 2, "guidance": 2, "attitude": 1, "timeliness": 3,  # fairness skipped
                 "extra_request": "yes", "visits": "3+"},
     "reasons": ["impolite", "extra_demands"], "dossier_code": "D2"},
    {"answers": {"overall": 4, "guidance": 5}, "dossier_code": "D3", "has_comment": True},  # incomplete
    {"answers": {"overall": 5, "guidance": 5, "attitude": 5}, "flags": ["too_fast"], "dossier_code": "D4"},
    {"answers": {"guidance": 1}},  # no overall rating: does not count
    {"answers": {"overall": 3, "attitude": 4}, "reasons": ["impolite"], "flags": ["repeat_dossier"],
     "dossier_code": "D1"},
]


def test_flagged_left_out_by_default_and_counted_apart():
    figures = summarize(RESPONSES, ELEMENTS)
    assert (figures["responses"], figures["flagged"], figures["without_overall"]) == (3, 2, 1)
    assert figures["flags"] == {"repeat_dossier": 1, "too_fast": 1}
    assert figures["flagged_included"] is False
    assert figures["questions"]["overall"] == {
        "answered": 3, "distribution": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1},
        "mean": 3.667, "satisfied_pct": 66.67}
    assert figures["questions"]["attitude"] == {
        "answered": 2, "distribution": {"1": 1, "2": 0, "3": 0, "4": 0, "5": 1},
        "mean": 3.0, "satisfied_pct": 50.0}
    assert figures["questions"]["fairness"]["answered"] == 1  # skipped questions are not answered
    assert figures["questions"]["fairness"]["satisfied_pct"] == 0.0
    assert figures["questions"]["timeliness"]["satisfied_pct"] == 50.0


def test_elements_and_the_sipas_style_index():
    figures = summarize(RESPONSES, ELEMENTS)
    # element 2: timeliness 50; element 3: guidance 66.67, attitude 50, fairness 0;
    # element 4: fairness 0, timeliness 50.
    assert figures["elements"] == {"2": 50.0, "3": 38.89, "4": 25.0}
    assert figures["sipas_index"] == 37.96


def test_shares_reasons_and_the_per_dossier_rate():
    figures = summarize(RESPONSES, ELEMENTS)
    assert figures["extra_request_pct"] == 50.0
    assert figures["repeat_visits_pct"] == 50.0
    assert figures["top_reasons"] == [{"reason": "extra_demands", "count": 1}, {"reason": "impolite", "count": 1}]
    # D1 satisfied; D2 rated 1 and 2 and complained; D3 left a comment.
    assert figures["dossiers"] == {"rated": 3, "satisfaction_pct": 33.33}


def test_flagged_put_in_on_request():
    figures = summarize(RESPONSES, ELEMENTS, include_flagged=True)
    assert (figures["responses"], figures["flagged"]) == (5, 2)
    assert figures["questions"]["overall"]["satisfied_pct"] == 60.0
    assert figures["top_reasons"][0] == {"reason": "impolite", "count": 2}
    # D1's second rating complained; D4, satisfied, is rated only by a flagged response.
    assert figures["dossiers"] == {"rated": 4, "satisfaction_pct": 25.0}


def test_nothing_to_count():
    figures = summarize([], ELEMENTS)
    assert figures["responses"] == 0 and figures["sipas_index"] is None
    assert figures["dossiers"] == {"rated": 0, "satisfaction_pct": None}
    assert figures["extra_request_pct"] is None


def test_tallies_added_up_give_the_same_figures_in_any_grouping():
    for include_flagged in (False, True):
        whole = summarize(RESPONSES, ELEMENTS, include_flagged)
        for size in (1, 2, 4):
            groups = [RESPONSES[i:i + size] for i in range(0, len(RESPONSES), size)]
            tallies = []
            for group in groups:
                for flagged in (False, True):
                    facts = Counter()
                    for response in group:
                        if bool(response.get("flags")) == flagged:
                            facts.update(tally(response))
                    tallies.append({"flagged": flagged, "tally": tally_record(facts)})
            assert summarize_tallies(tallies, ELEMENTS, include_flagged) == whole


def test_a_tally_survives_its_stored_form():
    facts = tally({"answers": {"overall": 2, "ý:kiến": "có: thêm"}, "reasons": ["chậm"],
                   "dossier_code": "HS:001/Sở", "flags": ["burst"]})
    assert tally_from_json(tally_json(facts)) == facts
    assert facts[("choice", "ý:kiến", "có: thêm")] == 1 and facts[("dossier_unhappy", "HS:001/Sở", "")] == 1


def test_not_applicable_answers_are_in_no_rating_figure():
    rated = [{"answers": {"overall": 4, "timeliness": 2}}]
    not_yet = [{"answers": {"overall": 4, "timeliness": "na"}} for _ in range(3)]
    figures = summarize(rated + not_yet, ELEMENTS)
    assert figures["responses"] == 4
    assert figures["questions"]["timeliness"] == {
        "answered": 1, "distribution": {"1": 0, "2": 1, "3": 0, "4": 0, "5": 0},
        "mean": 2.0, "satisfied_pct": 0.0}
    assert figures["not_applicable"] == {"timeliness": 3}
    assert figures["choices"] == {}  # not a choice either
    assert figures["elements"] == {"2": 0.0, "4": 0.0}
    only_not_yet = summarize(not_yet, ELEMENTS)
    assert "timeliness" not in only_not_yet["questions"] and only_not_yet["sipas_index"] is None
    assert summarize_tallies([{"flagged": False, "tally": tally_record(tally(not_yet[0]))}],
                             ELEMENTS)["not_applicable"] == {"timeliness": 1}


def test_facts_counted_by_pattern_are_the_facts_of_each_response():
    """``count_facts`` lists each answer pattern once: the same counts as every response's own facts, for
    repeated patterns with and without dossier codes, unhappy or not, flagged, and without an overall rating."""
    import random

    rng, many = random.Random(11), []
    for n in range(400):
        answers = {key: rng.choice([1, 2, 4, 5, 5, "na"]) for key in ("overall", "guidance", "attitude")
                   if rng.random() < 0.9}
        many.append({"answers": answers, "flags": rng.choice([[], [], ["too_fast"], ["burst", "too_fast"]]),
                     "reasons": rng.choice([[], [], ["impolite"]]), "has_comment": rng.random() < 0.2,
                     "dossier_code": rng.choice([None, f"HS-{n % 37}", f"HS-{n % 5}"])})
    for group in (RESPONSES, many, many[:1], []):
        assert count_facts(group) == Counter(fact for response in group for fact in facts(response))
    assert count_facts(many)[("dossier_unhappy", "HS-1", "")] > 0  # the case the pattern trick must keep
