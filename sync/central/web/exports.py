"""Central's exports: the responses of a range of days as CSV, or as XLSX with a sheet of daily figures."""

from flask import Blueprint, Response, abort, current_app, render_template, request, session
from flask_babel import gettext

from kiosk.clock import local_today, now_utc

from .. import reports
from ..store import reads
from .auth import current_user, engine, login_required, scope, scoped_rows, scoped_tallies

bp = Blueprint("central_exports", __name__)


def export_labels():
    return {"lang": session.get("lang", "vi"), "day": gettext("Day"), "time": gettext("Time"),
            "kiosk": gettext("Kiosk"), "unit": gettext("Unit"), "counter": gettext("Counter"),
            "officer": gettext("Officer"), "dossier": gettext("Dossier"),
            "reasons": gettext("Reasons"), "complete": gettext("Complete"), "flags": gettext("Flags"),
            "comment": gettext("Comment"), "responses": gettext("Responses"), "flagged": gettext("Flagged"),
            "sipas": gettext("SIPAS-style index"), "dossiers": gettext("Dossiers satisfied (QĐ 766)"),
            "summary_sheet": gettext("Summary"), "raw_sheet": gettext("Responses"),
            "yes": gettext("Yes"), "no": gettext("No"),
            "flag_names": {"too_fast": gettext("too fast"), "burst": gettext("many in a short time"),
                           "repeat_dossier": gettext("dossier rated before")}}


def requested_range():
    today = local_today(now_utc())
    try:
        return reports.parse_range(request.args.get("start"), request.args.get("end"), today)
    except ValueError:
        abort(400, description=gettext("Give a start and an end day like 2026-01-31, at most a year apart."))


@bp.get("/exports")
@login_required
def export_page():
    """Pickers for the exports: the range of days and (for admins) the unit; the files are downloaded by GET."""
    start, end = requested_range()
    user = current_user()
    unit, _officer = scope(user, request.args.get("unit"))
    return render_template("central/exports.html", start=start, end=end, unit=unit or "",
                           units=reads.units(engine()) if user["role"] == "admin" else [])


@bp.get("/export.csv")
@login_required
def export_csv():
    start, end = requested_range()
    _unit, rows = scoped_rows(start, end)
    return Response(reports.csv_bytes(rows, current_app.config["QUESTIONNAIRE"], export_labels()),
                    mimetype="text/csv",  # Flask adds charset=utf-8
                    headers={"Content-Disposition": f"attachment; filename=sipas-{start}-{end}.csv"})


@bp.get("/export.xlsx")
@login_required
def export_xlsx():
    start, end = requested_range()
    _unit, rows = scoped_rows(start, end)
    days = reports.by_day(scoped_tallies(start, end)[1], start, end, current_app.config["ELEMENTS"])
    body = reports.xlsx_bytes(rows, days, current_app.config["QUESTIONNAIRE"], export_labels())
    return Response(body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename=sipas-{start}-{end}.xlsx"})
