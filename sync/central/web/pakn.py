"""Central's PAKN pages: register feedback received by another channel, and answer every case in writing
(a numbered, print-ready reply letter; how and when the citizen was told; whether they were satisfied).

Who: supervisors and admins register PAKN, issue letters and record outcomes. Officers do not: the office
that receives the hotline, email, box and portal registers them; an officer sees the cases given while they
were on duty and the PAKN assigned to them (see ``web.auth``).
"""

from datetime import datetime, timedelta

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from kiosk.clock import LOCAL_TZ, local_time, now_utc, parse_utc
from kiosk.forms import no_control_characters
from kiosk.text import nfc

from .. import cases as case_rules
from .. import reports
from ..store import pakn as pakn_store
from ..store import reads
from .auth import current_user, engine, login_required
from .cases import render_case, visible_case

bp = Blueprint("central_pakn", __name__)
LOCAL_FORMAT = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]  # what datetime-local inputs send


def channel_names():
    return {"kiosk": gettext("kiosk"), "hotline": gettext("hotline"), "email": gettext("email"),
            "box": gettext("suggestion box"), "portal": gettext("public-service portal"),
            "in_person": gettext("in person")}


def category_names():
    """Each category with the SIPAS element it concerns."""
    return {"access": gettext("Element 1: access to the service"),
            "procedures": gettext("Element 2: administrative procedures"),
            "officers": gettext("Element 3: the officers who handle the dossier"),
            "results": gettext("Element 4: results of the service"),
            "feedback": gettext("Element 5: receiving and handling feedback")}


def told_names():
    return {"letter": gettext("by letter"), "phone": gettext("by phone"), "email": gettext("by email"),
            "in_person": gettext("in person"), "not_reachable": gettext("could not be reached")}


def satisfied_names():
    return {"yes": gettext("said they were satisfied"), "no": gettext("said they were not satisfied"),
            "unsaid": gettext("did not say")}


class PaknForm(FlaskForm):
    unit = SelectField(validate_choice=True, choices=[])
    channel = SelectField(choices=case_rules.OTHER_CHANNELS, validators=[InputRequired()])
    received = DateTimeLocalField(format=LOCAL_FORMAT, validators=[DataRequired()])
    category = SelectField(choices=list(case_rules.CATEGORIES), validators=[InputRequired()])
    content = TextAreaField(filters=[nfc], validators=[DataRequired(), Length(max=4000), no_control_characters])
    consent = BooleanField()
    citizen_name = StringField(filters=[nfc], validators=[Optional(), Length(max=120), no_control_characters])
    contact = StringField(filters=[nfc], validators=[Optional(), Length(max=120), no_control_characters])
    transferred = BooleanField()
    transferred_to = StringField(filters=[nfc], validators=[Optional(), Length(max=200), no_control_characters])
    transferred_on = DateTimeLocalField(format=LOCAL_FORMAT, validators=[Optional()])


class OutcomeForm(FlaskForm):
    told_how = RadioField(choices=pakn_store.TOLD_HOW, validators=[Optional()])
    told_at = DateTimeLocalField(format=LOCAL_FORMAT, validators=[Optional()])
    satisfied = RadioField(choices=pakn_store.SATISFIED, default="unsaid", validators=[InputRequired()])
    complained_again = BooleanField()


class LetterForm(FlaskForm):
    signer = StringField(filters=[nfc], validators=[DataRequired(), Length(max=120), no_control_characters])


def local_moment(value: datetime):
    """A datetime-local value (no zone) as an aware time in Asia/Ho_Chi_Minh."""
    return value.replace(tzinfo=LOCAL_TZ) if value else None


def staff_only():
    user = current_user()
    if user["role"] == "officer":
        abort(403)
    return user


def check_pakn(form, now) -> bool:
    """Rules beyond each field's own: not in the future, contact only with consent, a transfer names whom."""
    received = local_moment(form.received.data)
    if received and received > now + timedelta(minutes=5):  # a clock a little ahead is not an error
        form.received.errors.append(gettext("The time received cannot be in the future."))
    elif received and received.date() < reports.FIRST_DAY:
        form.received.errors.append(gettext("The time received is too far in the past."))
    if (form.citizen_name.data or form.contact.data) and not form.consent.data:
        form.contact.errors.append(gettext(
            "The citizen's name and contact are kept only with their consent. Tick that they agreed, "
            "or leave both empty."))
    if form.transferred.data and not form.transferred_to.data:
        form.transferred_to.errors.append(gettext("Say to whom it was transferred."))
    moved = local_moment(form.transferred_on.data)
    if form.transferred.data and moved and received and not received <= moved <= now + timedelta(minutes=5):
        form.transferred_on.errors.append(gettext("The transfer date must be between receipt and now."))
    return not (form.received.errors or form.contact.errors or form.transferred_to.errors
                or form.transferred_on.errors)


@bp.route("/pakn/new", methods=["GET", "POST"])
@login_required
def register():
    """Register a PAKN received by hotline, email, suggestion box, the portal or in person."""
    user = staff_only()
    form = PaknForm()
    units = reads.units(engine()) if user["role"] == "admin" else [user["unit"]]
    form.unit.choices = units
    now, status = now_utc(), 200
    if request.method == "GET":
        form.unit.data = units[0] if units else None
        form.received.data = now.astimezone(LOCAL_TZ).replace(tzinfo=None, second=0, microsecond=0)
    elif form.validate_on_submit() and check_pakn(form, now):
        case_id = pakn_store.register(
            engine(), unit=form.unit.data, channel=form.channel.data, received=local_moment(form.received.data),
            category=form.category.data, content=form.content.data.strip(), user_name=user["name"], now=now,
            citizen_name=(form.citizen_name.data or "").strip() or None,
            contact=(form.contact.data or "").strip() or None, consent=form.consent.data,
            within_competence=not form.transferred.data, transferred_to=(form.transferred_to.data or "").strip(),
            transferred_utc=local_moment(form.transferred_on.data))
        return redirect(url_for("central_cases.case_detail", case_id=case_id))
    else:
        status = 400
    return render_template("central/pakn_new.html", form=form, channels=channel_names(),
                           categories=category_names()), status


def written_answer(case) -> dict:
    """What the case page shows about the PAKN and its written answer (see _written_answer.html)."""
    config = current_app.config["CENTRAL"]
    days = case_rules.due_working_days(case["channel"], case["category"], config)
    start = case["local_day"]
    due = case_rules.due_day(datetime.strptime(start, "%Y-%m-%d").date(), days, current_app.config["WORKDAYS"]) \
        if start else None
    outcome = g.get("refused_outcome") or OutcomeForm(
        formdata=None, told_how=case["told_how"], satisfied=case["satisfied"] or "unsaid",
        complained_again=bool(case["complained_again"]),
        told_at=_local_naive(case["told_utc"]))
    return {**pakn_store.details(engine(), case["id"]), "due": due, "days": days, "outcome": outcome,
            "letter_form": LetterForm(formdata=None, signer=current_user()["display_name"]),
            "channels": channel_names(), "categories": category_names(), "told": told_names(),
            "satisfied": satisfied_names(), "outcome_error": g.get("outcome_error")}


def _local_naive(utc_text):
    return parse_utc(utc_text).astimezone(LOCAL_TZ).replace(tzinfo=None) if utc_text else None


def history_detail(entry) -> str:
    """A history entry's detail in words: the channel of a registration, how the citizen was told."""
    detail = entry["detail"] or ""
    if entry["action"] == "register":
        return channel_names().get(detail, detail)
    if entry["action"] == "letter" and "/" in detail:  # stored as number/year; the letter says No. n/TB-PAKN
        number, year = detail.split("/", 1)
        return gettext("%(number)s/TB-PAKN (%(year)s)", number=number, year=year)
    if entry["action"] == "told":
        words = dict(part.split("=", 1) for part in detail.split() if "=" in part)
        how = detail.split()[0] if detail else "-"
        told = told_names().get(how, "")
        when = next((part for part in detail.split() if part.endswith("Z")), None)
        parts = [f"{told} {local_time(when)}".strip()] if told else []
        parts.append(satisfied_names().get(words.get("satisfied"), ""))
        if words.get("complained_again") == "1":
            parts.append(gettext("complained again"))
        return "; ".join(p for p in parts if p)
    return detail


@bp.app_context_processor
def pakn_context():
    return {"written_answer": written_answer, "history_detail": history_detail}


@bp.post("/cases/<int(max=2147483647):case_id>/outcome")
@login_required
def outcome(case_id):
    """Record how and when the citizen was told and whether they were satisfied (closed cases too)."""
    staff_only()
    user, case = visible_case(case_id)
    form = OutcomeForm()
    valid = form.validate_on_submit()
    told_at = local_moment(form.told_at.data) if valid else None
    late_clock = now_utc() + timedelta(minutes=5)
    spoke = parse_utc(case["started_utc"] or case["opened_utc"]).replace(second=0, microsecond=0)
    if not valid or bool(form.told_how.data) != bool(told_at) or (told_at and not spoke <= told_at <= late_clock):
        # The case page again, with what was entered and the reason; nothing is recorded.
        g.refused_outcome, g.outcome_error = form, gettext(
            "Say how the citizen was told and when: after the feedback was received, not in the future.")
        return render_case(user, case, 400)
    pakn_store.record_outcome(engine(), case_id, user["name"], now_utc(), told_how=form.told_how.data or None,
                              told_utc=told_at, satisfied=form.satisfied.data,
                              complained_again=form.complained_again.data)
    return redirect(url_for("central_cases.case_detail", case_id=case_id) + "#written")


@bp.post("/cases/<int(max=2147483647):case_id>/letters")
@login_required
def issue_letter(case_id):
    """Number a reply letter for a case that has an answer; then show it to print."""
    staff_only()
    user, case = visible_case(case_id)
    form = LetterForm()
    if not form.validate_on_submit():
        abort(400, description=gettext("Give the name of the person who signs the letter."))
    if not case["answer"]:
        abort(409, description=gettext("Write the answer to the citizen first; the letter carries it."))
    letter = pakn_store.issue_letter(engine(), case_id, user["name"], form.signer.data.strip(), now_utc())
    return redirect(url_for("central_pakn.letter", case_id=case_id, year=letter["year"], number=letter["number"]))


@bp.get("/cases/<int(max=2147483647):case_id>/letters/<int(max=9999):year>/<int(max=2147483647):number>")
@login_required
def letter(case_id, year, number):
    """The reply letter, print-ready (A4): header, number, date, the citizen's name if given, content, answer,
    signer. The answer is the case's current one."""
    _user, case = visible_case(case_id)
    held = pakn_store.details(engine(), case_id)
    found = next((item for item in held["letters"] if item["year"] == year and item["number"] == number), None)
    if found is None:
        abort(404)
    info = held["pakn"] or {}
    return render_template("central/letter.html", case=case, letter=found, pakn=info,
                           content=info.get("content") or case.get("comment"),
                           name=None if info.get("erased_utc") else info.get("citizen_name"),
                           issued=parse_utc(found["issued_utc"]).astimezone(LOCAL_TZ), channels=channel_names())

