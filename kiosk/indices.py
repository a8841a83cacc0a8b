"""The index arithmetic, shared by the kiosk and central (SIPAS-style, see domain.md).

Input is any iterable of responses as dicts with ``answers``, and where known
``reasons``, ``flags``, ``dossier_code`` and ``has_comment``. Rules:

- A response counts only if it answers the overall question (the one answer a
  response needs); others are reported apart as ``without_overall``.
- Flagged responses (too fast, burst, repeated dossier) are left out unless
  ``include_flagged``, and always counted apart.
- Per rating question: answered, distribution over 1–5, mean, and the
  satisfied share (answers of 4 or 5). Skipped questions are not answered.
- Per SIPAS element: the mean of the satisfied shares of the rating questions
  mapped to it (``elements``: question key -> element numbers, from the
  questionnaire); the SIPAS-style overall index is the mean of the elements.
  The overall question itself is not an item of any element.
- QĐ 766 per-dossier rate, over responses tied to a dossier code: dossiers
  without any rating of 1 or 2 and without a complaint (a reason or a
  comment), as a share of all dossiers rated.
"""

from collections import Counter

SCALE = (1, 2, 3, 4, 5)
SATISFIED = (4, 5)
UNSATISFIED = (1, 2)
OVERALL = "overall"


def _pct(part, whole):
    return round(100 * part / whole, 2) if whole else None


def _is_rating(value):
    return type(value) is int and value in SCALE


def rating_stats(values) -> dict:
    counts = Counter(values)
    answered = sum(counts.values())
    return {
        "answered": answered,
        "distribution": {str(v): counts.get(v, 0) for v in SCALE},
        "mean": round(sum(v * n for v, n in counts.items()) / answered, 3) if answered else None,
        "satisfied_pct": _pct(sum(counts[v] for v in SATISFIED), answered),
    }


def summarize(responses, elements=None, include_flagged=False, top_reasons=5) -> dict:
    """Every figure of a set of responses (see the module docstring for the rules)."""
    ratings, choices, reasons, flag_counts = {}, {}, Counter(), Counter()
    counted = flagged = without_overall = 0
    dossiers = {}
    for response in responses:
        answers = response.get("answers", {})
        flags = response.get("flags") or []
        if flags:
            flagged += 1
            flag_counts.update(flags)
            if not include_flagged:
                continue
        if not _is_rating(answers.get(OVERALL)):
            without_overall += 1
            continue
        counted += 1
        for key, value in answers.items():
            if _is_rating(value):
                ratings.setdefault(key, []).append(value)
            elif isinstance(value, str):
                choices.setdefault(key, Counter())[value] += 1
        reasons.update(response.get("reasons") or [])
        if response.get("dossier_code"):
            unhappy = any(_is_rating(v) and v in UNSATISFIED for v in answers.values()) \
                or bool(response.get("reasons")) or bool(response.get("has_comment"))
            dossiers[response["dossier_code"]] = dossiers.get(response["dossier_code"], False) or unhappy

    questions = {key: rating_stats(values) for key, values in sorted(ratings.items())}
    element_index = {}
    for number in range(1, 6):
        shares = [questions[key]["satisfied_pct"] for key, mapped in (elements or {}).items()
                  if key != OVERALL and number in mapped and key in questions]
        if shares:
            element_index[str(number)] = round(sum(shares) / len(shares), 2)
    extra = choices.get("extra_request", Counter())
    visits = choices.get("visits", Counter())
    return {
        "responses": counted,
        "flagged": flagged,
        "flags": dict(sorted(flag_counts.items())),
        "flagged_included": include_flagged,
        "without_overall": without_overall,
        "questions": questions,
        "choices": {key: dict(sorted(counts.items())) for key, counts in sorted(choices.items())},
        "elements": element_index,
        "sipas_index": round(sum(element_index.values()) / len(element_index), 2) if element_index else None,
        "extra_request_pct": _pct(extra.get("yes", 0), sum(extra.values())),
        "repeat_visits_pct": _pct(sum(n for v, n in visits.items() if v != "1"), sum(visits.values())),
        "top_reasons": [{"reason": r, "count": n} for r, n in
                        sorted(reasons.items(), key=lambda item: (-item[1], item[0]))[:top_reasons]],
        "dossiers": {"rated": len(dossiers),
                     "satisfaction_pct": _pct(sum(not unhappy for unhappy in dossiers.values()), len(dossiers))},
    }
