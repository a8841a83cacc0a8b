"""Kiosk staff mode, behind a PIN: who is on duty, which dossier is rated next."""

from datetime import timedelta
from functools import wraps

from flask import Blueprint, redirect, render_template, session, url_for
from flask_babel import gettext
from flask_wtf import FlaskForm

from sync import outbox

from . import indices, store
from .clock import local_today, now_utc, parse_utc, utc_iso
from .forms import DossierForm, DutyForm, PinForm
from .passwords import hash_secret, secret_matches
from .survey import end_session
from .web import config, get_db, questionnaire

bp = Blueprint("staff", __name__, url_prefix="/staff")

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=5)


def set_pin(db, pin: str) -> None:
    with store.write(db):
        store.set_setting(db, "pin_hash", hash_secret(pin))
        store.set_setting(db, "pin_failures", 0)
        db.execute("DELETE FROM settings WHERE key = 'pin_locked_until'")


def locked_until(db, now):
    until = store.get_setting(db, "pin_locked_until")
    return parse_utc(until) if until and parse_utc(until) > now else None


def check_pin(db, pin: str, now) -> bool:
    """True if right; five wrong PINs in a row lock staff mode for five minutes."""
    with store.write(db):
        stored = store.get_setting(db, "pin_hash")
        if stored and secret_matches(pin, stored):
            store.set_setting(db, "pin_failures", 0)
            return True
        failures = int(store.get_setting(db, "pin_failures", 0)) + 1
        if failures >= MAX_FAILURES:
            store.set_setting(db, "pin_locked_until", utc_iso(now + LOCK_FOR))
            failures = 0
        store.set_setting(db, "pin_failures", failures)
        return False


def staff_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not session.get("staff"):
            return redirect(url_for("staff.login"))
        return view(*args, **kwargs)
    return wrapped


@bp.route("/", methods=["GET", "POST"])
def login():
    db, now = get_db(), now_utc()
    form, status, error = PinForm(), 200, None
    until = locked_until(db, now)
    if store.get_setting(db, "pin_hash") is None:
        error = gettext("No PIN is set yet: run “kiosk set-pin” on this machine.")
    elif until:
        minutes = max(1, round((until - now).total_seconds() / 60))
        error = gettext("Too many wrong PINs. Staff mode is locked for %(minutes)d more minute(s).",
                        minutes=minutes)
        status = 403 if form.is_submitted() else 200
    elif form.validate_on_submit():
        if check_pin(db, form.pin.data, now):
            session["staff"] = True
            return redirect(url_for("staff.home"))
        error, status = gettext("Wrong PIN."), 403
    elif form.is_submitted():
        status = 400
    return render_template("kiosk/staff_login.html", form=form, error=error), status


def render_home(duty=None, dossier=None, status=200):
    db, today = get_db(), local_today(now_utc())
    duty = duty or DutyForm(counter=store.get_setting(db, "counter"),
                            officer=store.get_setting(db, "officer"))
    todays = store.responses_for_day(db, today)
    return render_template(
        "kiosk/staff.html", duty=duty, dossier=dossier or DossierForm(),
        kiosk_id=config().kiosk_id,
        pending_dossier=store.get_setting(db, "pending_dossier"),
        cancel=FlaskForm(),
        today=today,
        today_count=len(todays),
        figures=indices.summarize(todays, {q.key: q.elements for q in questionnaire().questions}),
        questions=questionnaire().questions,
        sync=outbox.status(db),
    ), status


@bp.get("/home")
@staff_required
def home():
    return render_home()


@bp.post("/duty")
@staff_required
def duty():
    form = DutyForm()
    if not form.validate_on_submit():
        return render_home(duty=form, status=400)
    db = get_db()
    with store.write(db):
        store.set_setting(db, "counter", form.counter.data)
        store.set_setting(db, "officer", form.officer.data)
    return redirect(url_for("staff.home"))


@bp.post("/dossier")
@staff_required
def dossier():
    """Bind the next survey to a dossier code, then hand the tablet to the citizen."""
    form = DossierForm()
    if not form.validate_on_submit():
        return render_home(dossier=form, status=400)
    end_session()  # a survey left open is kept, as incomplete
    db = get_db()
    with store.write(db):
        store.set_setting(db, "pending_dossier", form.dossier_code.data)
    return redirect(url_for("survey.welcome"))


@bp.post("/dossier/cancel")
@staff_required
def cancel_dossier():
    """Forget the dossier waiting for a rating (the citizen left without rating)."""
    db = get_db()
    with store.write(db):
        db.execute("DELETE FROM settings WHERE key = 'pending_dossier'")
    return redirect(url_for("staff.home"))
