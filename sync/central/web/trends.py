"""Central's trend charts (30 or 90 days) and the monthly report."""

from datetime import timedelta

from flask import Blueprint, abort, current_app, render_template, request, session
from flask_babel import gettext

from kiosk import indices
from kiosk.clock import local_today, now_utc

from .. import charts, reports
from ..store import pakn as pakn_store
from ..store import reads, targets
from . import numbers
from .auth import current_user, engine, login_required, scoped_counts, scoped_tallies
from .pakn import channel_names
from .summary import tables_for

bp = Blueprint("central_trends", __name__)


@bp.get("/trends")
@login_required
def trends():
    """Share satisfied per question and day over 30 or 90 days, with its 7-day average, the unit's target
    and the daily answers (see ``sync.central.charts``); a unit picker for those who may choose."""
    days = request.args.get("days", "30")
    if days not in ("30", "90"):
        abort(400, description=gettext("Trends cover 30 or 90 days."))
    end = local_today(now_utc())
    start = end - timedelta(days=int(days) - 1)
    read_from = charts.average_window_start(start)
    unit, tallies = scoped_counts(read_from, end)
    series = reports.by_day(tallies, read_from, end, current_app.config["ELEMENTS"], dossiers=False)
    config, user = current_app.config["CENTRAL"], current_user()
    target = targets.target_for(engine(), unit, config.target_pct)
    return render_template("central/trends.html", days=int(days), start=start, end=end, unit=unit, target=target,
                           units=reads.units(engine()) if user["role"] == "admin" else [user["unit"]],
                           charts=_drawn(charts.charts_for(series, current_app.config["QUESTIONS"], target, start)))


def _drawn(made) -> list:
    """[(question, wide SVG, narrow SVG, total)] from ``charts.charts_for`` output, in the page's language."""
    lang = session.get("lang", "vi")
    formatted = {}

    def number(value):  # a 90-day page formats some 2,000 counts, many of them alike
        if value not in formatted:
            formatted[value] = numbers.number(value)
        return formatted[value]

    answers = gettext("%(n)s answers", n="%(n)s")  # the translation, filled per bar by charts.svg
    drawn = []
    for question, wide, narrow, total in made:
        label = gettext("%(q)s: share satisfied per day, 7-day average, target and answers per day",
                        q=question.short[lang])
        drawn.append((question, charts.svg(wide, label, number, answers), charts.svg(narrow, label, number, answers),
                      total))
    return drawn


@bp.get("/report")
@login_required
def monthly_report():
    today = local_today(now_utc())
    try:
        first = reports.parse_day((request.args.get("month") or today.strftime("%Y-%m")) + "-01")
    except ValueError:
        abort(400, description=gettext("The month must look like 2026-01."))
    first, last = reports.month_bounds(first)
    before_first, before_last = reports.month_bounds(reports.previous_month(first))
    unit, tallies = scoped_tallies(first, last, detail=True)
    _unit, tallies_before = scoped_tallies(before_first, before_last)
    elements, config = current_app.config["ELEMENTS"], current_app.config["CENTRAL"]
    user = current_user()
    ratios = (lambda a, b: pakn_store.pakn_ratios(engine(), unit, a, b, config, current_app.config["WORKDAYS"])) \
        if user["role"] != "officer" else None  # an officer's own figures only: PAKN are the unit's
    return render_template("central/report.html", first=first, last=last, unit=unit, before_first=before_first,
                           figures=indices.summarize_tallies(tallies, elements),
                           before=indices.summarize_tallies(tallies_before, elements),
                           sources=reports.element_sources(current_app.config["QUESTIONNAIRE"]),
                           pakn=ratios(first, last) if ratios else None,
                           pakn_before=ratios(before_first, before_last) if ratios else None,
                           prepared=local_today(now_utc()), channels=channel_names(),
                           days=[d for d in reports.by_day(tallies, first, last, elements) if d[1]["responses"]],
                           groups=tables_for(tallies, unit, elements),
                           questions=current_app.config["QUESTIONS"])
