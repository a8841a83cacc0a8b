"""Central's daily summary page: a day's figures, the days before, per group, the kiosks and the day's cases."""

import json
from datetime import timedelta

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import gettext

from kiosk import indices
from kiosk.clock import local_today, now_utc, parse_utc

from .. import reports
from ..store import cases as case_store
from ..store import reads
from ..store.tallies import tallies_between
from .auth import current_user, engine, login_required, scope

bp = Blueprint("central_summary", __name__)
SILENT_AFTER = timedelta(days=1)
DAY_CASES_SHOWN = 50  # on the summary; the case list shows the rest


def day_tallies(day, unit, officer, detail=False):
    return tallies_between(engine(), day.isoformat(), day.isoformat(), unit=unit, officer=officer,
                                   detail=detail)


def grouped(tallies, key, elements):
    """Figures per unit, counter or officer ('—' where none was set)."""
    groups = {}
    for row in tallies:
        groups.setdefault(row[key] or "—", []).append(row)
    return [(name, indices.summarize_tallies(rows, elements)) for name, rows in sorted(groups.items())]


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


@bp.get("/")
@login_required
def summary():
    user = current_user()
    day = requested_day("date", local_today(now_utc()))
    unit, officer = scope(user, request.args.get("unit"))
    elements = current_app.config["ELEMENTS"]
    tallies = day_tallies(day, unit, officer, detail=unit is not None)
    now = now_utc()
    kiosks = [{**k, "silent": not k["last_batch_utc"] or now - parse_utc(k["last_batch_utc"]) > SILENT_AFTER}
              for k in reads.kiosk_list(engine(), unit=unit)] if user["role"] != "officer" else []
    return render_template(
        "central/summary.html", day=day, unit=unit,
        units=reads.units(engine()) if user["role"] == "admin" else [user["unit"]],
        figures=indices.summarize_tallies(tallies, elements),
        day_before=indices.summarize_tallies(day_tallies(day - timedelta(days=1), unit, officer), elements),
        week_before=indices.summarize_tallies(day_tallies(day - timedelta(days=7), unit, officer), elements),
        groups=tables_for(tallies, unit, elements),
        kiosks=kiosks, questions=current_app.config["QUESTIONS"],
        day_cases=[{**c, "answers": json.loads(c["answers"] or "{}")} for c in case_store.list_cases(
            engine(), unit=unit, officer=officer, day=day.isoformat(), limit=DAY_CASES_SHOWN)],
        day_case_count=case_store.count_cases(engine(), unit=unit, officer=officer, day=day.isoformat()),
    )
