"""Central's daily summary page: the day's answer card (headline against the target, what needs doing,
reasons, counters and officers worst first, units without responses), the open alerts, the kiosks and the
day's cases. Yesterday by default (Asia/Ho_Chi_Minh)."""

import json
from datetime import timedelta

from flask import Blueprint, abort, current_app, render_template, request, session
from flask_babel import gettext

from kiosk import indices
from kiosk.clock import local_today, now_utc, parse_utc

from .. import alerts, daycard, reports
from ..store import cases as case_store
from ..store import queue, reads, targets
from ..store import roster
from ..store.tallies import tallies_between
from .auth import current_user, engine, login_required, scope

bp = Blueprint("central_summary", __name__)
SILENT_AFTER = timedelta(days=1)
DAY_CASES_SHOWN = 50  # on the summary; the case list shows the rest


def day_tallies(day, unit, officer_id, detail=False):
    return tallies_between(engine(), day.isoformat(), day.isoformat(), unit=unit, officer_id=officer_id,
                           detail=detail)


def grouped(tallies, key, elements):
    """Figures per unit, counter or officer ('—' where none was set). Officers are grouped by roster id,
    named as the roster names them now; responses without an id by the name the kiosk sent. Two groups
    that would show one name are told apart by their id."""
    groups, names = {}, {}
    if key == "officer":
        names = roster.officer_names(engine(), [row.get("officer_id") for row in tallies])
    for row in tallies:
        officer_id = row.get("officer_id") if key == "officer" else None
        group = ("id", officer_id) if officer_id else ("name", row[key] or "—")
        groups.setdefault(group, []).append(row)
    shown = {group: names.get(group[1], rows[0]["officer"] or group[1]) if group[0] == "id" else group[1]
             for group, rows in groups.items()}
    twice = {name for name in shown.values() if list(shown.values()).count(name) > 1}
    return sorted(((f"{shown[g]} ({g[1]})" if shown[g] in twice and g[0] == "id" else shown[g],
                    indices.summarize_tallies(rows, elements)) for g, rows in groups.items()),
                  key=lambda item: item[0])


def tables_for(tallies, unit, elements):
    """(title, figures per group): counter and officer names mean something within a unit; across
    units, the units are compared. `tallies` are detailed when a unit is given."""
    if unit is None:
        return [(gettext("Per unit"), grouped(tallies, "unit", elements))]
    return [(gettext("Per counter"), grouped(tallies, "counter", elements)),
            (gettext("Per officer"), grouped(tallies, "officer", elements))]


def requested_day(name, default=None):
    """The day given in the query as `name`, or `default`."""
    text = request.args.get(name)
    if not text:
        return default
    try:
        return reports.parse_day(text)
    except ValueError:
        abort(400, description=gettext("The date must look like 2026-01-31."))


def card(day, unit, officer, tallies):
    """The answer card's figures: the day, its neighbours for the changes, and the groups ranked."""
    config, elements = current_app.config["CENTRAL"], current_app.config["ELEMENTS"]
    figures = indices.summarize_tallies(tallies, elements)
    before = {name: indices.summarize_tallies(day_tallies(other, unit, officer), elements)
              for name, other in (("day", day - timedelta(days=1)), ("week", day - timedelta(days=7)))}
    target = targets.target_for(engine(), unit, config.target_pct)
    head = daycard.share(figures)
    changes = {name: {"points": daycard.change(head["pct"], daycard.share(f)["pct"]),
                      "count": figures["responses"] - f["responses"]} for name, f in before.items()}
    if unit is None:
        groups = [(title, daycard.unit_rows(rows, reads.units(engine()), targets.targets(engine()),
                                            config.target_pct), "units") for title, rows in
                  tables_for(tallies, unit, elements)]
    else:
        groups = [(title, daycard.ranked(rows, config.min_responses), "people")
                  for title, rows in tables_for(tallies, unit, elements)]
    shares = {q.key: daycard.share(figures, q.key) for q in current_app.config["QUESTIONS"]}
    return {"figures": figures, "head": head, "shares": shares, "target": target,
            "question_states": {key: daycard.state(s["pct"], target) for key, s in shares.items()},
            "state": daycard.state(head["pct"], target),
            "changes": changes, "groups": groups, "min_responses": config.min_responses,
            "reasons": daycard.top_reasons(figures, current_app.config["QUESTIONNAIRE"], session.get("lang", "vi"))}


@bp.get("/")
@login_required
def summary():
    user = current_user()
    now = now_utc()
    today = local_today(now)
    day = requested_day("date", today - timedelta(days=1))
    unit, officer = scope(user, request.args.get("unit"))
    tallies = day_tallies(day, unit, officer, detail=unit is not None)
    kiosks = [{**k, "silent": not k["last_batch_utc"] or now - parse_utc(k["last_batch_utc"]) > SILENT_AFTER}
              for k in reads.kiosk_list(engine(), unit=unit)] if user["role"] != "officer" else []
    return render_template(
        "central/summary.html", day=day, unit=unit, today=today,
        previous_day=day - timedelta(days=1) if day > reports.FIRST_DAY else None,
        next_day=day + timedelta(days=1) if day < today else None,
        units=reads.units(engine()) if user["role"] == "admin" else [user["unit"]],
        **card(day, unit, officer, tallies),
        todo=to_handle(unit, officer, user["name"] if user["role"] == "officer" else None),
        open_alerts=alerts.open_alerts(engine(), unit) if user["role"] != "officer" else [],
        handled_alerts=alerts.history(engine(), unit, limit=5) if user["role"] != "officer" else [],
        kiosks=kiosks, questions=current_app.config["QUESTIONS"],
        day_cases=[{**c, "answers": json.loads(c["answers"] or "{}")} for c in case_store.list_cases(
            engine(), unit=unit, officer_id=officer, day=day.isoformat(), limit=DAY_CASES_SHOWN)],
        day_case_count=case_store.count_cases(engine(), unit=unit, officer_id=officer, day=day.isoformat()),
    )


def to_handle(unit, officer, assigned_to=None) -> dict:
    """"Cần xử lý": {"open", "overdue", "due_today"} cases in scope (an officer's: `assigned_to` their login
    name), counted exactly as the case queue's filters that the summary links to count them (``store.queue``,
    deadlines per channel and category)."""
    deadlines = queue.deadlines_on(engine(), local_today(now_utc()), current_app.config["CENTRAL"],
                                   current_app.config["WORKDAYS"])

    def count(**wanted):
        return queue.count_matching(engine(), queue.QueueFilter(unit=unit, officer_id=officer, status="open",
                                                                assigned_to=assigned_to, **wanted), deadlines)
    return {"open": count(), "overdue": count(overdue=True), "due_today": count(due_today=True)}
