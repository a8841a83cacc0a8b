"""Central's pages for staff: login and the daily summary, scoped by role.

An admin sees every unit, a supervisor their unit, an officer only the
responses given while they were on duty (the kiosks' officer name).
"""

import json
import math
from datetime import date, timedelta
from functools import wraps

from flask import Blueprint, Response, abort, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from kiosk import indices
from kiosk.clock import local_today, now_utc, parse_utc
from kiosk.passwords import secret_matches
from kiosk.forms import no_control_characters
from kiosk.text import nfc, storable
from kiosk import web, websafety

from . import cases as case_rules
from . import logins, reports
from .store import accounts, cases as case_store, reads, tallies

bp = Blueprint("staff", __name__)
SILENT_AFTER = timedelta(days=1)
DAY_CASES_SHOWN = 50  # on the summary; the case list shows the rest
CASES_SHOWN = 500


class CaseForm(FlaskForm):
    assignee = StringField(filters=[nfc], validators=[Optional(), Length(max=64), no_control_characters])
    answer = TextAreaField(validators=[Optional(), Length(max=4000), no_control_characters])
    close = BooleanField()


class LoginForm(FlaskForm):
    name = StringField(filters=[nfc], validators=[DataRequired(), Length(max=64), no_control_characters])
    password = PasswordField(validators=[DataRequired(), Length(max=200)])


def engine():
    return current_app.extensions["central_engine"]


def current_user():
    """The logged-in user's row, or None: also when the session was ended (logout elsewhere, a new
    password, the user disabled), which the session version in the cookie tells."""
    if "user" not in g:
        user_id = session.get("user_id")
        user = accounts.get_user(engine(), user_id=user_id) if user_id else None
        if user is not None and (user["disabled_utc"] or user["session_version"] != session.get("session_version")):
            user = None
        if user is None and user_id:
            session.pop("user_id", None)
            session.pop("session_version", None)
        g.user = user
    return g.user


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_user() is None:
            if request.method == "POST":  # never drop what was typed: show it back to copy
                return not_saved(gettext("Your session has ended, so nothing was saved. Copy your text, "
                                         "log in again and send it again."), 401)
            return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return wrapped


def form_expired(_error):
    """A form whose token is missing, invalid or expired: shown again with what was typed (never the
    password) and a message, status 400; nothing is saved. Other posts (or a session that has ended)
    get the error page, which still shows the texts that were typed so they can be copied."""
    message = websafety.csrf_message()
    if request.endpoint == "staff.login":
        return render_template("central/login.html", form=LoginForm(), error=message), 400
    if request.endpoint == "staff.case_detail" and current_user() is not None:
        g.form_message = message  # the view shows the form again: its own token check fails too
        page = current_app.make_response(current_app.view_functions[request.endpoint](**request.view_args))
        page.status_code = 400
        return page
    return not_saved(message, 400)


def not_saved(message, status):
    """The error page with `message` and every text the refused form held (never a password or token)."""
    kept = [value for name, value in request.form.items(multi=True)
            if name not in ("csrf_token", "password") and value.strip() and value != "y"]
    return render_template("central/error.html", code=status, message=message, kept=kept), status


@bp.app_context_processor
def page_context():
    return {
        "lang": session.get("lang", "vi"), "user": current_user(), "form_message": g.get("form_message"),
        "status_names": {"new": gettext("new"), "assigned": gettext("assigned"),
                         "answered": gettext("answered"), "closed": gettext("closed")},
        "why_names": {"comment": gettext("comment"), "low_rating": gettext("rating of 1 or 2"),
                      "extra_request": gettext("extra documents or fees")},
        "action_names": {"assign": gettext("assigned to"), "answer": gettext("answered"),
                         "close": gettext("closed"), "reopen": gettext("reopened")},
    }


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in, within the limits of ``sync.logins`` (the attempt is counted before the password is checked)."""
    form, error, status, waiting, now = LoginForm(), None, 200, None, now_utc()
    if form.validate_on_submit():
        keys = logins.keys_for(form.name.data, request.remote_addr)
        waiting = logins.reserve(engine(), keys, now)
        user = None if waiting else accounts.get_user(engine(), name=form.name.data)
        if waiting:
            minutes = max(1, math.ceil((waiting - now).total_seconds() / 60))
            error, status = gettext("Too many failed logins. Try again in %(minutes)d minute(s).",
                                    minutes=minutes), 429
        # An unknown name is checked against a dummy hash: it takes as long as a wrong password.
        elif secret_matches(form.password.data, user["password_hash"] if user else None) \
                and not user["disabled_utc"]:
            logins.succeeded(engine(), keys)
            lang = session.get("lang", "vi")
            session.clear()
            session.update(user_id=user["id"], session_version=user["session_version"], lang=lang)
            return redirect(websafety.safe_next(request.args.get("next"), url_for("staff.summary")))
        else:
            error, status = gettext("Wrong name or password."), 401
    elif form.is_submitted():
        error, status = gettext("Enter your name and password."), 400
    headers = {"Retry-After": str(math.ceil((waiting - now).total_seconds()))} if status == 429 else {}
    return render_template("central/login.html", form=form, error=error), status, headers


@bp.post("/logout")
def logout():
    """End every session of the user, not only this browser's (see ``accounts.end_sessions``)."""
    user = current_user()
    if user is not None:
        accounts.end_sessions(engine(), user["id"])
    session.pop("user_id", None)
    session.pop("session_version", None)
    return redirect(url_for("staff.login"))


@bp.get("/lang/<code>")
def switch_language(code):
    return web.switch_language(code, url_for("staff.summary"))


def scope(user, requested_unit):
    """(unit, officer) the user may see; an admin may pick any unit or all. Units compare in NFC."""
    requested_unit = nfc(requested_unit)
    if requested_unit and not (len(requested_unit) <= 64 and storable(requested_unit, one_line=True)):
        abort(400, description=gettext("Unknown unit."))
    if user["role"] == "admin":
        return requested_unit or None, None
    if requested_unit and requested_unit != user["unit"]:
        abort(403)
    return user["unit"], user["display_name"] if user["role"] == "officer" else None


def day_tallies(day, unit, officer, detail=False):
    return tallies.tallies_between(engine(), day.isoformat(), day.isoformat(), unit=unit, officer=officer,
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
        return date.fromisoformat(text)
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
        day_cases=[{**c, "answers": json.loads(c["answers"])} for c in case_store.list_cases(
            engine(), unit=unit, officer=officer, day=day.isoformat(), limit=DAY_CASES_SHOWN)],
        day_case_count=case_store.count_cases(engine(), unit=unit, officer=officer, day=day.isoformat()),
    )


def may_see(user, case) -> bool:
    if user["role"] == "admin":
        return True
    if case["unit"] != user["unit"]:
        return False
    return user["role"] == "supervisor" or case["officer"] == user["display_name"]


@bp.get("/cases")
@login_required
def case_list():
    user = current_user()
    unit, officer = scope(user, request.args.get("unit"))
    status = request.args.get("status") or None
    if status and status not in case_rules.STATUSES:
        abort(400, description=gettext("Unknown status."))
    day = requested_day("day")
    filters = {"unit": unit, "officer": officer, "status": status, "day": day.isoformat() if day else None}
    now = now_utc()
    limit = current_app.config["CENTRAL"].case_days
    rows = [{**c, "overdue": case_rules.is_overdue(c, now, limit, current_app.config["WORKDAYS"])}
            for c in case_store.list_cases(engine(), **filters, limit=CASES_SHOWN)]
    return render_template("central/cases.html", cases=rows, total=case_store.count_cases(engine(), **filters),
                           status=status, day=day, unit=request.args.get("unit") or "",
                           statuses=case_rules.STATUSES)


@bp.route("/cases/<int:case_id>", methods=["GET", "POST"])
@login_required
def case_detail(case_id):
    user = current_user()
    case = case_store.get_case(engine(), case_id)
    if case is None or not may_see(user, case):
        abort(404)
    form, status, refused = CaseForm(), 200, None
    if request.method == "POST":
        if user["role"] == "officer":
            abort(403)
        if case["status"] == "closed":
            refused = gettext("This case is closed, so nothing was changed. Reopen it first to change it.")
            status = 409
        elif form.validate_on_submit():
            answer = form.answer.data.strip() if form.answer.data else None
            if form.close.data and not (answer or case["answer"]):
                form.answer.errors.append(gettext("Write the answer given to the citizen before closing."))
                status = 400
            else:
                try:
                    case_store.update(engine(), case_id, user["name"], now_utc(),
                                      assignee=(form.assignee.data or "").strip() or None, answer=answer,
                                      status="closed" if form.close.data else None)
                except case_store.CaseClosed:  # closed by someone else meanwhile
                    refused, status = gettext("This case was closed meanwhile, so nothing was changed."), 409
                else:
                    return redirect(url_for("staff.case_detail", case_id=case_id))
        else:
            status = 400
        case = case_store.get_case(engine(), case_id) if status == 409 else case
    elif case["status"] != "closed":
        form.assignee.data, form.answer.data = case["assignee"] or user["name"], case["answer"]
    return render_template(
        "central/case.html", case=case, form=form, questions=current_app.config["QUESTIONS"],
        show_phone=user["role"] != "officer", refused=refused,
        overdue=case_rules.is_overdue(case, now_utc(), current_app.config["CENTRAL"].case_days,
                                      current_app.config["WORKDAYS"])), status


@bp.post("/cases/<int:case_id>/reopen")
@login_required
def case_reopen(case_id):
    """Reopen a closed case (supervisors and admins): its own action, in the case's history."""
    user = current_user()
    case = case_store.get_case(engine(), case_id)
    if case is None or not may_see(user, case):
        abort(404)
    if user["role"] == "officer":
        abort(403)
    case_store.reopen(engine(), case_id, user["name"], now_utc())
    return redirect(url_for("staff.case_detail", case_id=case_id))


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


def scoped_rows(start, end):
    """The responses of these days that the user may see."""
    unit, officer = scope(current_user(), request.args.get("unit"))
    return unit, reads.range_responses(engine(), start.isoformat(), end.isoformat(), unit=unit, officer=officer)


def scoped_tallies(start, end, detail=False):
    """The day tallies of these days that the user may see."""
    unit, officer = scope(current_user(), request.args.get("unit"))
    return unit, tallies.tallies_between(engine(), start.isoformat(), end.isoformat(), unit=unit, officer=officer,
                                    detail=detail and unit is not None)


@bp.get("/export.csv")
@login_required
def export_csv():
    start, end = requested_range()
    _unit, rows = scoped_rows(start, end)
    return Response(reports.csv_bytes(rows, current_app.config["QUESTIONNAIRE"], export_labels()),
                    mimetype="text/csv; charset=utf-8",
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


@bp.get("/trends")
@login_required
def trends():
    days = request.args.get("days", "30")
    if days not in ("30", "90"):
        abort(400, description=gettext("Trends cover 30 or 90 days."))
    end = local_today(now_utc())
    start = end - timedelta(days=int(days) - 1)
    unit, tallies = scoped_tallies(start, end)
    series = reports.by_day(tallies, start, end, current_app.config["ELEMENTS"])
    lines = [(q, reports.chart_points([f["questions"].get(q.key, {}).get("satisfied_pct") for _d, f in series],
                                      600, 200)) for q in current_app.config["QUESTIONS"]]
    return render_template("central/trends.html", days=int(days), start=start, end=end, unit=unit,
                           lines=lines, series=series)


@bp.get("/report")
@login_required
def monthly_report():
    today = local_today(now_utc())
    try:
        first = date.fromisoformat((request.args.get("month") or today.strftime("%Y-%m")) + "-01")
    except ValueError:
        abort(400, description=gettext("The month must look like 2026-01."))
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    unit, tallies = scoped_tallies(first, last, detail=True)
    elements = current_app.config["ELEMENTS"]
    return render_template("central/report.html", first=first, last=last, unit=unit,
                           figures=indices.summarize_tallies(tallies, elements),
                           days=[d for d in reports.by_day(tallies, first, last, elements) if d[1]["responses"]],
                           groups=tables_for(tallies, unit, elements),
                           questions=current_app.config["QUESTIONS"])
