"""Central's case pages: the queue (filtered, paged, overdue first), one case (assign, answer, close) and
reopening, scoped by role."""

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, TextAreaField
from wtforms.validators import Length, Optional

from kiosk.clock import local_today, now_utc
from kiosk.forms import no_control_characters
from kiosk.text import nfc, storable

from .. import cases as case_rules
from ..store import accounts, reads
from ..store import cases as case_store
from ..store import published, queue, roster
from .auth import current_user, engine, login_required, scope
from .summary import requested_day

bp = Blueprint("central_cases", __name__)


class CaseForm(FlaskForm):
    # The unit's staff (display names); "" keeps the current assignee.
    assignee = SelectField(choices=[], default="", validate_choice=True)
    answer = TextAreaField(validators=[Optional(), Length(max=4000), no_control_characters])
    close = BooleanField()


def may_see(user, case) -> bool:
    if user["role"] == "admin":
        return True
    if case["unit"] != user["unit"]:
        return False
    if user["role"] == "supervisor" or bool(user["officer_id"]) and case["officer_id"] == user["officer_id"]:
        return True
    return case["channel"] != "kiosk" and case["assignee"] == user["name"]  # a PAKN given to this officer


def visible_case(case_id):
    """(user, case) when the logged-in user may see case `case_id`; 404 otherwise (also when it does not exist)."""
    user = current_user()
    case = case_store.get_case(engine(), case_id)
    if case is None or not may_see(user, case):
        abort(404)
    return user, case


def current_deadlines(pairs=None):
    """The queue's cut-off days for today (see ``sync.central.cases.deadlines``)."""
    return queue.deadlines_on(engine(), local_today(now_utc()), current_app.config["CENTRAL"],
                              current_app.config["WORKDAYS"], pairs)


def _day_arg(name):
    day = requested_day(name)
    return day.isoformat() if day else None


def _short_arg(name, allowed=None):
    value = nfc(request.args.get(name) or "").strip() or None
    if value is None:
        return None
    if (allowed is not None and value not in allowed) or len(value) > 80 or not storable(value, one_line=True):
        abort(400, description=gettext("This filter has no such value: %(value)s.", value=value[:40]))
    return value


def requested_filter(user) -> queue.QueueFilter:
    """The queue's filter from the URL (parameter names in the README), within what `user` may see: an
    officer always gets their own cases, a supervisor their unit's. Aborts 400 on a value that cannot be one."""
    unit, officer = scope(user, request.args.get("unit"))
    wanted_officer = _short_arg("officer")  # a roster id, from the officer filter
    if wanted_officer is not None and not roster.ROSTER_ID.match(wanted_officer):
        abort(400, description=gettext("This filter has no such value: %(value)s.", value=wanted_officer[:40]))
    if officer is None:
        officer = wanted_officer
    reasons = case_rules.WHY_CODES + tuple(r.key for r in current_app.config["QUESTIONNAIRE"].reasons)
    start, end = _day_arg("from"), _day_arg("to")
    if request.args.get("day"):  # one day, as the summary's older links give it
        start = end = _day_arg("day")
    if start and end and start > end:
        abort(400, description=gettext("The first day comes after the last day."))
    return queue.QueueFilter(
        unit=unit, officer_id=officer, assigned_to=user["name"] if user["role"] == "officer" else None,
        status=_short_arg("status", case_rules.STATUSES + ("open",)),
        channel=_short_arg("channel", case_rules.CHANNELS), category=_short_arg("category"),
        reason=_short_arg("reason", reasons), start=start, end=end,
        overdue=request.args.get("overdue") == "1", due_today=request.args.get("due") == "today")


def requested_page() -> int:
    raw = request.args.get("page") or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= 100_000:
        abort(400, description=gettext("Give a page number from 1."))
    return int(raw)


@bp.get("/cases")
@login_required
def case_list():
    user = current_user()
    wanted = requested_filter(user)
    pairs = queue.group_pairs(engine())
    deadlines = current_deadlines(pairs)
    page = requested_page()
    result = queue.queue_page(engine(), wanted, deadlines, page)
    if page > result["pages"]:  # past the last page (cases closed meanwhile, an old link): show the last one
        return redirect(url_for("central_cases.case_list", **{k: v for k, v in request.args.items()
                                                              if k != "page" and v}, page=result["pages"]))
    overdue_days = {(ch, cat): last for ch, cat, last in deadlines.overdue}
    rows = [{**c, "overdue": _row_overdue(c, overdue_days)} for c in result["rows"]]
    names = accounts.display_names(engine(), [c["assignee"] for c in rows])
    return render_template(
        "central/cases.html", cases=rows, result=result, f=wanted, names=names,
        args={k: v for k, v in request.args.items() if k != "page" and v},
        units=reads.units(engine()) if user["role"] == "admin" else [],
        officers=roster.list_officers(engine(), wanted.unit) if user["role"] != "officer" else [],
        reasons=current_app.config["QUESTIONNAIRE"].reasons, reason_names=reason_names(),
        categories=sorted({cat for _ch, cat in pairs if cat}), statuses=case_rules.STATUSES,
        channels=case_rules.CHANNELS)


def reason_names() -> dict:
    """{reason key: its text in the page's language}."""
    lang = session.get("lang", "vi")
    return {r.key: r.text.get(lang) or r.text["vi"] for r in current_app.config["QUESTIONNAIRE"].reasons}


def _row_overdue(case, overdue_days) -> bool:
    if case["status"] == "closed" or not case["local_day"]:
        return False
    for key in ((case["channel"], case["category"]), (case["channel"], "*"), ("*", "*")):
        if key in overdue_days:
            return case["local_day"] <= overdue_days[key]
    return False


def must_tell(case) -> bool:
    """True when closing `case` must wait until how the citizen was told is recorded: a PAKN of another
    channel within the department's competence (the department's plan, section V: each citizen is told
    the outcome in writing; "could not be reached" counts as recorded). Kiosk cases (the citizen is
    usually anonymous) and PAKN transferred elsewhere (the receiving body answers) close without it."""
    return case["channel"] != "kiosk" and bool(case["within_competence"]) and not case["told_how"]


def assignee_choices(case):
    """("" = keep the current one) then who can work on it, as (login name, display name): the unit's
    supervisors, and for a kiosk case the officer on duty when the citizen rated (a complaint about one
    officer is not shown to the others), for a PAKN of another channel every officer of the unit (the one
    assigned then sees it, see ``may_see``)."""
    staff = [(s["name"], s["display_name"]) for s in accounts.unit_users(engine(), case["unit"])
             if s["role"] == "supervisor" or (s["role"] == "officer" and (
                 case["channel"] != "kiosk" or (s["officer_id"] and s["officer_id"] == case["officer_id"])))]
    return [("", gettext("— keep as it is —"))] + staff


@bp.route("/cases/<int(max=2147483647):case_id>", methods=["GET", "POST"])  # what an id column holds
@login_required
def case_detail(case_id):
    user, case = visible_case(case_id)
    form, status, refused = CaseForm(), 200, None
    form.assignee.choices = assignee_choices(case)
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
            elif form.close.data and must_tell(case):
                form.close.errors.append(gettext(
                    "Record how the citizen was told the outcome before closing: each citizen is told in "
                    "writing. If they could not be reached, record that below."))
                status = 400
            else:
                try:
                    case_store.update(engine(), case_id, user["name"], now_utc(),
                                      assignee=form.assignee.data or None, answer=answer,
                                      status="closed" if form.close.data else None)
                except case_store.CaseClosed:  # closed by someone else meanwhile
                    refused, status = gettext("This case was closed meanwhile, so nothing was changed."), 409
                else:
                    return redirect(url_for("central_cases.case_detail", case_id=case_id))
        else:
            status = 400
        case = case_store.get_case(engine(), case_id) if status == 409 else case
    elif case["status"] != "closed":
        form.assignee.data, form.answer.data = "", case["answer"]
    return render_template("central/case.html", **case_page(user, case), form=form, refused=refused), status


def render_case(user, case, status=200):
    """The case page as a GET shows it (the form not pre-filled with the viewer), answered with `status`: for
    a form elsewhere on the page that was refused and is shown again with its message (see web/pakn.py)."""
    form = CaseForm(formdata=None)
    form.assignee.choices = assignee_choices(case)
    if case["status"] != "closed":
        form.assignee.data, form.answer.data = "", case["answer"]
    return render_template("central/case.html", **case_page(user, case), form=form, refused=None), status


def case_page(user, case) -> dict:
    """What the case page shows besides its form: names, the phone's visibility, overdue, publication."""
    people = accounts.display_names(engine(), [case["assignee"]] + [e["user_name"] for e in case["history"]]
                                    + [e["detail"] for e in case["history"] if e["action"] == "assign"])
    limit = case_rules.due_working_days(case["channel"], case["category"], current_app.config["CENTRAL"])
    return {"case": case, "names": people, "questions": current_app.config["QUESTIONS"],
            "show_phone": user["role"] != "officer", "reason_names": reason_names(),
            "published": published.get(engine(), case["id"]),
            "overdue": case_rules.is_overdue(case, now_utc(), limit, current_app.config["WORKDAYS"])}


@bp.post("/cases/<int(max=2147483647):case_id>/reopen")
@login_required
def case_reopen(case_id):
    """Reopen a closed case (supervisors and admins): its own action, in the case's history."""
    user, case = visible_case(case_id)
    if user["role"] == "officer":
        abort(403)
    case_store.reopen(engine(), case_id, user["name"], now_utc())
    return redirect(url_for("central_cases.case_detail", case_id=case_id))
