"""The daily summary as an answer card: the headline against the unit's target, the groups worst first.

Pure functions over ``kiosk.indices`` figures, so the rules are tested without a page:

- The headline is the share satisfied overall (ratings of 4 or 5 on the overall
  question, see ``kiosk.indices``) against the unit's target (``store.targets``).
  It is *met* at or above the target, *close* less than CLOSE_POINTS below it,
  *below* further down; *none* without ratings.
- Counters and officers are listed worst first by that share; those with fewer
  than CENTRAL_MIN_RESPONSES responses on the day are marked "too few responses"
  and listed after the others (a share of 2 says little), worst first among
  themselves; ties go to the one with more responses, then by name.
"""

#: Points below the target still counted as close to it.
CLOSE_POINTS = 5


def share(figures, key="overall") -> dict:
    """{"pct", "satisfied", "answered"} of one rating question in `figures` (``summarize_tallies``);
    pct None when nobody answered it. pct is computed from the counts, unrounded, so the page rounds
    once (23 of 34 is 67.6%, not 67.65% rounded again to 67.7%)."""
    stats = figures["questions"].get(key)
    if not stats or not stats["answered"]:
        return {"pct": None, "satisfied": 0, "answered": 0}
    dist = stats["distribution"]
    satisfied = dist["4"] + dist["5"]
    return {"pct": 100 * satisfied / stats["answered"], "satisfied": satisfied, "answered": stats["answered"]}


def state(pct, target) -> str:
    """met, close, below or none (see the module docstring)."""
    if pct is None:
        return "none"
    if pct >= target:
        return "met"
    return "close" if target - pct < CLOSE_POINTS else "below"


def change(now, before):
    """now - before, rounded to one decimal; None when either is missing."""
    return None if now is None or before is None else round(now - before, 1)


def ranked(groups, min_responses: int) -> list:
    """Rows for a per-counter or per-officer table, worst first (see the module docstring).

    `groups` is [(name, figures)]; each row is {"name", "responses", "share", "sipas", "too_few"}.
    """
    rows = [{"name": name, "responses": f["responses"], "share": share(f), "sipas": f["sipas_index"],
             "too_few": f["responses"] < min_responses} for name, f in groups]
    return sorted(rows, key=lambda r: (r["too_few"], r["share"]["pct"] is None, r["share"]["pct"] or 0,
                                       -r["responses"], r["name"]))


def unit_rows(groups, every_unit, targets: dict, default_target: int) -> list:
    """Rows for the per-unit table: each unit of `every_unit` and of `groups`, those without responses
    included (responses 0), worst first; each with its target and state."""
    figures = dict(groups)
    rows = []
    for name in sorted(set(every_unit) | set(figures)):
        f = figures.get(name)
        target = targets.get(name, default_target)
        pct = share(f)["pct"] if f else None
        rows.append({"name": name, "responses": f["responses"] if f else 0, "share": share(f) if f else share(
            {"questions": {}}), "sipas": f["sipas_index"] if f else None, "target": target,
            "state": state(pct, target)})
    return sorted(rows, key=lambda r: (r["responses"] == 0, r["share"]["pct"] is None, r["share"]["pct"] or 0,
                                       r["name"]))


def top_reasons(figures, questionnaire, lang: str) -> list:
    """[{"text", "count"}] of the day's most given reasons, in the page's language."""
    texts = {r.key: r.text[lang] for r in questionnaire.reasons}
    return [{"text": texts.get(r["reason"], r["reason"]), "count": r["count"]} for r in figures["top_reasons"]]
