"""Central's case pages: the list, one case (assign, answer, close) and reopening, scoped by role."""

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from kiosk.clock import now_utc
from kiosk.forms import no_control_characters
from kiosk.text import nfc

from .. import cases as case_rules
from ..store import cases as case_store
from .auth import current_user, engine, login_required, scope
from .summary import requested_day

bp = Blueprint("central_cases", __name__)
CASES_SHOWN = 500


class CaseForm(FlaskForm):
    assignee = StringField(filters=[nfc], validators=[Optional(), Length(max=64), no_control_characters])
    answer = TextAreaField(validators=[Optional(), Length(max=4000), no_control_characters])
    close = BooleanField()


def may_see(user, case) -> bool:
    if user["role"] == "admin":
        return True
    if case["unit"] != user["unit"]:
        return False
    return user["role"] == "supervisor" or case["officer"] == user["display_name"]


def visible_case(case_id):
    """(user, case) when the logged-in user may see case `case_id`; 404 otherwise (also when it does not exist)."""
    user = current_user()
    case = case_store.get_case(engine(), case_id)
    if case is None or not may_see(user, case):
        abort(404)
    return user, case


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


@bp.route("/cases/<int(max=2147483647):case_id>", methods=["GET", "POST"])  # what an id column holds
@login_required
def case_detail(case_id):
    user, case = visible_case(case_id)
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
                    return redirect(url_for("central_cases.case_detail", case_id=case_id))
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


@bp.post("/cases/<int(max=2147483647):case_id>/reopen")
@login_required
def case_reopen(case_id):
    """Reopen a closed case (supervisors and admins): its own action, in the case's history."""
    user, case = visible_case(case_id)
    if user["role"] == "officer":
        abort(403)
    case_store.reopen(engine(), case_id, user["name"], now_utc())
    return redirect(url_for("central_cases.case_detail", case_id=case_id))
