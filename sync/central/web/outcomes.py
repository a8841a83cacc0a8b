"""Compliments and published outcomes: the compliments page (scoped like cases), publishing a closed case
as an anonymised question and answer, unpublishing, and the public page (no login)."""

from datetime import date

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from kiosk.clock import now_utc
from kiosk.forms import no_control_characters
from kiosk.text import nfc, storable

from .. import publishing
from ..store import compliments, pakn, published
from .auth import current_user, engine, login_required, scope
from .cases import requested_page, visible_case

bp = Blueprint("central_outcomes", __name__)


class PublishForm(FlaskForm):
    question = TextAreaField(filters=[nfc], validators=[DataRequired(), Length(max=2000), no_control_characters])
    answer = TextAreaField(filters=[nfc], validators=[DataRequired(), Length(max=4000), no_control_characters])


@bp.get("/compliments")
@login_required
def compliment_list():
    """Comments that need no answer, newest first, with counts per officer (scoped like the cases)."""
    user = current_user()
    unit, officer = scope(user, request.args.get("unit"))
    page = compliments.compliment_page(engine(), unit, officer, requested_page())
    return render_template("central/compliments.html", result=page, unit=request.args.get("unit") or "",
                           per_officer=compliments.per_officer(engine(), unit, officer))


def _leak_messages(codes):
    names = {"phone": gettext("the citizen's phone number"), "name": gettext("the citizen's name"),
             "officer": gettext("the name of the officer concerned"),
             "dossier": gettext("the dossier code"), "phone_like": gettext("a number that looks like a phone number")}
    return [gettext("The text still contains %(what)s. Remove it before publishing.", what=names[c]) for c in codes]


@bp.route("/cases/<int(max=2147483647):case_id>/publish", methods=["GET", "POST"])
@login_required
def publish(case_id):
    """Publish a closed case as an anonymised question and answer (supervisors and admins)."""
    user, case = visible_case(case_id)
    if user["role"] == "officer":
        abort(403)
    form, errors, status = PublishForm(), [], 200
    if case["status"] != "closed":
        errors, status = [gettext("Only a closed case can be published.")], 409
    elif form.validate_on_submit():
        errors = _leak_messages(publishing.leaks(form.question.data + "\n" + form.answer.data, case))
        if not errors:
            published.publish(engine(), case_id, user["name"], now_utc(), form.question.data.strip(),
                              form.answer.data.strip(), publishing.month_of(case))
            return redirect(url_for("central_cases.case_detail", case_id=case_id))
        status = 400
    elif request.method == "POST":
        status = 400
    elif not form.is_submitted():
        shown = published.get(engine(), case_id)
        held = pakn.details(engine(), case_id)["pakn"] or {}  # a PAKN's text is in its own row
        form.question.data = shown["question"] if shown else case["comment"] or held.get("content") or ""
        form.answer.data = shown["answer"] if shown else case["answer"] or ""
    return render_template("central/publish.html", case=case, form=form, errors=errors), status


@bp.post("/cases/<int(max=2147483647):case_id>/unpublish")
@login_required
def unpublish(case_id):
    user, _case = visible_case(case_id)
    if user["role"] == "officer":
        abort(403)
    published.unpublish(engine(), case_id, user["name"], now_utc())
    return redirect(url_for("central_cases.case_detail", case_id=case_id))


def _public_args():
    unit = nfc(request.args.get("unit") or "").strip() or None
    month = request.args.get("month") or None
    if unit and not (len(unit) <= 64 and storable(unit, one_line=True)):
        abort(400, description=gettext("Unknown unit."))
    if month:
        try:
            if len(month) != 7:
                raise ValueError(month)
            date.fromisoformat(month + "-01")
        except ValueError:
            abort(400, description=gettext("Give a month like 2026-01."))
    return unit, month


@bp.get("/cong-khai")
def public_outcomes():
    """The public page (no login): published questions and answers, per unit and month."""
    unit, month = _public_args()
    units, months = published.choices(engine())
    return render_template("central/public.html", items=published.public_list(engine(), unit, month),
                           units=units, months=months, unit=unit or "", month=month or "")
