"""The index arithmetic, shared by the kiosk and central (SIPAS-style, see domain.md).

Input is any iterable of responses as dicts with ``answers``, and where known
``reasons``, ``flags``, ``dossier_code`` and ``has_comment``. Rules:

- A response counts only if it answers the overall question (the one answer a
  response needs); others are reported apart as ``without_overall``.
- Flagged responses (too fast, burst, repeated dossier) are left out unless
  ``include_flagged``, and always counted apart.
- Per rating question: answered, distribution over 1–5, mean, and the
  satisfied share (answers of 4 or 5). Skipped questions are not answered, and
  neither are "not applicable" answers (``"na"``, e.g. "no result received
  yet" on timeliness): those are counted apart in ``not_applicable`` only.
- Per SIPAS element: the mean of the satisfied shares of the rating questions
  mapped to it (``elements``: question key -> element numbers, from the
  questionnaire); the SIPAS-style overall index is the mean of the elements.
  The overall question itself is not an item of any element.
- QĐ 766 per-dossier rate, over responses tied to a dossier code: dossiers
  without any rating of 1 or 2 and without a complaint (a reason or a
  comment), as a share of all dossiers rated.

Every figure is computed from *tallies*: counts of countable facts such as
``("rating", "guidance", 4)``. Tallies add up, so central keeps one per day,
kiosk, counter, officer and flagged-or-not as batches arrive, and a day's
figures come from adding a few hundred tallies instead of reading every
response. ``summarize`` (responses) and ``summarize_tallies`` (stored tallies)
give the same figures by construction. A tally is built as a ``Counter`` of
facts, and stored and read as a record (``tally_record``): the list of
``[kind, item, value, count]``, with the dossier facts apart as
``{dossier code: count}`` since only the codes count there, as a set.
"""

import json
from collections import Counter

from .questionnaire import NOT_APPLICABLE

SCALE = (1, 2, 3, 4, 5)
SATISFIED = (4, 5)
UNSATISFIED = (1, 2)
OVERALL = "overall"
#: Tally facts counted even when flagged responses are left out.
ALWAYS_COUNTED = ("flagged", "flag")
#: Tally facts about dossiers: (kind, dossier code, "").
DOSSIER_KINDS = ("dossier", "dossier_unhappy")


def _pct(part, whole):
    return round(100 * part / whole, 2) if whole else None


def _is_rating(value):
    return type(value) is int and value in SCALE


def facts(response) -> list:
    """The countable facts of one response, each (kind, item, value), a fact as often as it counts."""
    answers = response.get("answers", {})
    flags = response.get("flags") or []
    found = [("flagged", "", ""), *[("flag", name, "") for name in flags]] if flags else []
    if not _is_rating(answers.get(OVERALL)):
        found.append(("without_overall", "", ""))
        return found
    found.append(("responses", "", ""))
    unhappy = False
    for key, value in answers.items():
        if type(value) is int and value in SCALE:  # _is_rating, inline: this loop runs for every answer
            found.append(("rating", key, value))
            unhappy = unhappy or value in UNSATISFIED
        elif value == NOT_APPLICABLE:
            found.append(("not_applicable", key, ""))
        elif isinstance(value, str):
            found.append(("choice", key, value))
    reasons = response.get("reasons")
    if reasons:
        found += [("reason", code, "") for code in reasons]
    if response.get("dossier_code"):
        found.append(("dossier", response["dossier_code"], ""))
        if unhappy or reasons or response.get("has_comment"):
            found.append(("dossier_unhappy", response["dossier_code"], ""))
    return found


#: Stands for a response's dossier code while a pattern's facts are listed once (``count_facts``).
_CODE = object()


def count_facts(responses) -> Counter:
    """The facts of many responses counted: equal to ``Counter(f for r in responses for f in facts(r))``.

    Responses that answered alike (answers, flags, reasons, comment or not) have the same facts but their
    dossier code, so each such pattern is listed once by ``facts`` and counted as often as it occurs: a
    batch of 1,000 responses holds a few dozen patterns (central's ingest, ``store.tallies``).
    """
    patterns, coded = Counter(), []
    for response in responses:
        pattern = (tuple(response.get("answers", {}).items()), tuple(response.get("flags") or ()),
                   tuple(response.get("reasons") or ()), bool(response.get("has_comment")))
        patterns[pattern] += 1
        if response.get("dossier_code"):
            coded.append((pattern, response["dossier_code"]))
    counted, dossier_kinds = Counter(), {}
    for pattern, n in patterns.items():
        answers, flags, reasons, has_comment = pattern
        listed = facts({"answers": dict(answers), "flags": list(flags), "reasons": list(reasons),
                        "has_comment": has_comment, "dossier_code": _CODE})
        dossier_kinds[pattern] = [kind for kind, item, _value in listed if item is _CODE]
        for fact in listed:
            if fact[1] is not _CODE:
                counted[fact] += n
    for pattern, code in coded:
        for kind in dossier_kinds[pattern]:
            counted[(kind, code, "")] += 1
    return counted


def tally(response) -> Counter:
    """The countable facts of one response, each (kind, item, value) with a count."""
    return Counter(facts(response))


def tally_record(facts: Counter) -> dict:
    """A tally as stored and read: {"counts": [[kind, item, value, count], …], "dossier": {code: count}, …}."""
    record = {"counts": [], **{kind: {} for kind in DOSSIER_KINDS}}
    for (kind, item, value), n in sorted(facts.items(), key=str):
        if kind in DOSSIER_KINDS:
            record[kind][item] = n
        else:
            record["counts"].append([kind, item, value, n])
    return record


def tally_json(facts: Counter) -> str:
    return json.dumps(tally_record(facts), ensure_ascii=False)


def tally_from_json(text: str) -> Counter:
    record = json.loads(text)
    facts = Counter({(kind, item, value): n for kind, item, value, n in record["counts"]})
    for kind in DOSSIER_KINDS:
        facts.update({(kind, code, ""): n for code, n in record[kind].items()})
    return facts


def rating_stats(counts: Counter) -> dict:
    answered = sum(counts.values())
    return {
        "answered": answered,
        "distribution": {str(v): counts.get(v, 0) for v in SCALE},
        "mean": round(sum(v * n for v, n in counts.items()) / answered, 3) if answered else None,
        "satisfied_pct": _pct(sum(counts[v] for v in SATISFIED), answered),
    }


def summarize(responses, elements=None, include_flagged=False, top_reasons=5) -> dict:
    """Every figure of a set of responses (see the module docstring for the rules)."""
    by_flag = {False: Counter(), True: Counter()}
    for response in responses:
        by_flag[bool(response.get("flags"))].update(tally(response))
    tallies = [{"flagged": flagged, "tally": tally_record(facts)} for flagged, facts in by_flag.items()]
    return summarize_tallies(tallies, elements, include_flagged, top_reasons)


def summarize_tallies(tallies, elements=None, include_flagged=False, top_reasons=5) -> dict:
    """Every figure from tallies: dicts with ``tally`` (a record) and ``flagged`` (of flagged responses or not)."""
    total, dossiers, unhappy = Counter(), set(), set()
    for row in tallies:
        every_fact = include_flagged or not row["flagged"]
        for kind, item, value, n in row["tally"]["counts"]:
            if every_fact or kind in ALWAYS_COUNTED:
                total[kind, item, value] += n
        if every_fact:
            dossiers.update(row["tally"]["dossier"])
            unhappy.update(row["tally"]["dossier_unhappy"])

    ratings, choices, reasons, flags, not_applicable = {}, {}, Counter(), Counter(), Counter()
    for (kind, item, value), n in total.items():
        if kind == "rating":
            ratings.setdefault(item, Counter())[value] += n
        elif kind == "choice":
            choices.setdefault(item, Counter())[value] += n
        elif kind == "reason":
            reasons[item] += n
        elif kind == "flag":
            flags[item] += n
        elif kind == "not_applicable":
            not_applicable[item] += n

    questions = {key: rating_stats(counts) for key, counts in sorted(ratings.items())}
    element_index = {}
    for number in range(1, 6):
        shares = [questions[key]["satisfied_pct"] for key, mapped in (elements or {}).items()
                  if key != OVERALL and number in mapped and key in questions]
        if shares:
            element_index[str(number)] = round(sum(shares) / len(shares), 2)
    extra = choices.get("extra_request", Counter())
    visits = choices.get("visits", Counter())
    return {
        "responses": total["responses", "", ""],
        "flagged": total["flagged", "", ""],
        "flags": dict(sorted(flags.items())),
        "flagged_included": include_flagged,
        "without_overall": total["without_overall", "", ""],
        "questions": questions,
        "choices": {key: dict(sorted(counts.items())) for key, counts in sorted(choices.items())},
        "not_applicable": dict(sorted(not_applicable.items())),
        "elements": element_index,
        "sipas_index": round(sum(element_index.values()) / len(element_index), 2) if element_index else None,
        "extra_request_pct": _pct(extra.get("yes", 0), sum(extra.values())),
        "repeat_visits_pct": _pct(sum(n for v, n in visits.items() if v != "1"), sum(visits.values())),
        "top_reasons": [{"reason": r, "count": n} for r, n in
                        sorted(reasons.items(), key=lambda item: (-item[1], item[0]))[:top_reasons]],
        "dossiers": {"rated": len(dossiers),
                     "satisfaction_pct": _pct(len(dossiers - unhappy), len(dossiers))},
    }
