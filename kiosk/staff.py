"""Kiosk staff mode, behind a PIN: who is on duty, which dossier is rated next."""

import hashlib
import hmac
import math
import secrets
from datetime import timedelta
from functools import wraps

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_wtf import FlaskForm

from . import indices, limits, outbox, store, survey
from .clock import local_today, now_utc, parse_utc, utc_iso
from .forms import DossierForm, DutyForm, PickForm, PinForm
from .passwords import hash_secret, secret_matches
from .text import folded
from .web import central, config, get_db, questionnaire

bp = Blueprint("kiosk_staff", __name__, url_prefix="/staff")

#: Wrong PINs from one address: five, then that address waits five minutes.
PER_ADDRESS = limits.Rule(free=5, wait=timedelta(minutes=5))
#: A list longer than this gets a search box in staff mode.
SEARCH_FROM = 8

#: Wrong PINs from anywhere: ten, then staff mode waits 15 s, doubling up to 5 minutes.
WHOLE_KIOSK = limits.Rule(free=10, wait=timedelta(seconds=15), grows=True, longest=timedelta(minutes=5))


def set_pin(db, pin: str) -> None:
    """Store a new PIN (hashed) and forget every count of wrong PINs and the staff session."""
    with store.write(db):
        store.set_setting(db, "pin_hash", hash_secret(pin))
        db.execute("DELETE FROM pin_attempts")
        db.execute("DELETE FROM settings WHERE key = 'staff_session'")


def pin_keys(address: str) -> dict:
    """The keys a PIN attempt from client `address` counts against, each with its rule."""
    return {f"addr:{limits.address_key(address)}": PER_ADDRESS, "kiosk": WHOLE_KIOSK}


def _counts(db, keys):
    rows = db.execute(f"SELECT key, failures, last_failure_utc, locked_until FROM pin_attempts "
                      f"WHERE key IN ({', '.join('?' * len(keys))})", list(keys)).fetchall()
    return {key: limits.Count(failures, last and parse_utc(last), until and parse_utc(until))
            for key, failures, last, until in rows}


def _store_count(db, key, count):
    db.execute("INSERT INTO pin_attempts(key, failures, last_failure_utc, locked_until) VALUES (?, ?, ?, ?) "
               "ON CONFLICT(key) DO UPDATE SET failures = excluded.failures, "
               "last_failure_utc = excluded.last_failure_utc, locked_until = excluded.locked_until",
               [key, count.failures, count.last and utc_iso(count.last), count.until and utc_iso(count.until)])


def waiting_until(db, address: str, now):
    """The end of the wait in force for PINs from `address` (an aware datetime), or None."""
    keys = pin_keys(address)
    counts = _counts(db, keys)
    ends = [c.until for key, c in ((k, limits.current(counts[k], keys[k], now)) for k in counts)
            if c.until and c.until > now]
    return max(ends) if ends else None


def check_pin(db, pin: str, address: str, now):
    """Check a PIN typed from client `address`, within the limits (see ``kiosk.limits``).

    Returns ``(True, None)`` if right, ``(False, None)`` if wrong, and
    ``(False, until)`` when staff mode must wait (the PIN was not checked).
    The attempt is counted before the slow hash runs, in one transaction, so
    concurrent attempts cannot run more checks than the limits allow.
    """
    keys = pin_keys(address)
    with store.write(db):
        stored = store.get_setting(db, "pin_hash")
        waiting, counted = limits.reserve(_counts(db, keys), keys, now)
        for key, count in (counted or {}).items():
            _store_count(db, key, count)
    if waiting:
        return False, waiting
    if not (stored and secret_matches(pin, stored)):
        return False, None
    with store.write(db):
        counts = _counts(db, keys)
        for key, rule in keys.items():
            if key.startswith("addr:"):
                db.execute("DELETE FROM pin_attempts WHERE key = ?", [key])
            elif key in counts:
                _store_count(db, key, limits.taken_back(counts[key], rule, now))
    return True, None


def start_staff_session(db) -> str:
    """A new staff session (ending any other): its token, for the browser's session cookie."""
    token = secrets.token_urlsafe(24)
    with store.write(db):
        store.set_setting(db, "staff_session", _digest(token))
    return token


def end_staff_session(db) -> None:
    """Leave staff mode: the session (and any copy of its cookie) no longer opens it."""
    token = session.pop("staff", None)
    if isinstance(token, str) and staff_session_valid(db, token):
        with store.write(db):
            db.execute("DELETE FROM settings WHERE key = 'staff_session'")


def staff_session_valid(db, token) -> bool:
    """Whether `token` (from the browser's session) is the staff session in force on this kiosk."""
    stored = store.get_setting(db, "staff_session")
    return bool(stored) and isinstance(token, str) and hmac.compare_digest(stored, _digest(token))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def staff_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not staff_session_valid(get_db(), session.get("staff")):
            session.pop("staff", None)
            return redirect(url_for("kiosk_staff.login"))
        return view(*args, **kwargs)
    return wrapped


@bp.route("/", methods=["GET", "POST"])
def login():
    db, now = get_db(), now_utc()
    form, status, error = PinForm(), 200, None
    until = waiting_until(db, request.remote_addr, now)
    if store.get_setting(db, "pin_hash") is None:
        error = gettext("No PIN is set yet: run “kiosk set-pin” on this machine.")
    elif form.validate_on_submit():
        right, until = check_pin(db, form.pin.data, request.remote_addr, now)
        if right:
            session["staff"] = start_staff_session(db)
            return redirect(url_for("kiosk_staff.home"))
        error, status = (None, 403) if until else (gettext("Wrong PIN."), 403)
    elif form.is_submitted():
        status = 400
    if until and not error:
        minutes = max(1, math.ceil((until - now).total_seconds() / 60))
        error = gettext("Too many wrong PINs. Staff mode is locked for %(minutes)d more minute(s).",
                        minutes=minutes)
    return render_template("kiosk/staff_login.html", form=form, error=error), status


def render_home(duty=None, dossier=None, pick=None, status=200):
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
        marked=store.mark_counts(db),
        saved=session.pop("duty_saved", None),
        config_problem=store.get_setting(db, "config_problem"),
        **roster_view(db, pick),
    ), status


def roster_view(db, pick=None) -> dict:
    """What staff mode shows of central's roster: the pick form (or None: free text), the search
    (``?q=``, a list longer than SEARCH_FROM), and a counter or officer on duty no longer listed."""
    received = central()
    if received is None or not received.has_roster:
        return {"pick": None, "unit": received and received.unit}
    on_duty = {kind: store.get_setting(db, f"{kind}_id") for kind in ("counter", "officer")}
    pick = pick or PickForm(formdata=None, counter_id=on_duty["counter"], officer_id=on_duty["officer"])
    fill_choices(pick, received)
    query = (request.args.get("q") or "").strip()[:80]
    shown = [(i, n) for i, n in pick.officer_id.choices if not query or folded(query) in folded(n)
             or i == pick.officer_id.data]
    gone = {kind: store.get_setting(db, kind) for kind in on_duty
            if on_duty[kind] and getattr(received, f"{kind}_name")(on_duty[kind]) is None}
    return {"pick": pick, "unit": received.unit, "officers_shown": shown, "query": query,
            "searchable": len(pick.officer_id.choices) > SEARCH_FROM, "gone": gone}


def fill_choices(pick: PickForm, received) -> None:
    pick.counter_id.choices = list(received.counters)
    pick.officer_id.choices = list(received.officers)


@bp.get("/home")
@staff_required
def home():
    return render_home()


@bp.post("/duty")
@staff_required
def duty():
    """Who is on duty, typed: only while no roster came from central (then the names have no id)."""
    received = central()
    if received is not None and received.has_roster:
        abort(400, description=gettext("Choose the counter and the officer from the lists. Nothing was saved."))
    form = DutyForm()
    if not form.validate_on_submit():
        return render_home(duty=form, status=400)
    db = get_db()
    with store.write(db):
        store.set_setting(db, "counter", form.counter.data)
        store.set_setting(db, "officer", form.officer.data)
        db.execute("DELETE FROM settings WHERE key IN ('counter_id', 'officer_id')")
    session["duty_saved"] = True  # the names are in the form itself
    return redirect(url_for("kiosk_staff.home"))


@bp.post("/pick")
@staff_required
def pick():
    """Who is on duty, picked from central's roster: ids and names as the roster spells them now."""
    received = central()
    if received is None or not received.has_roster:
        return redirect(url_for("kiosk_staff.home"))
    form = PickForm()
    fill_choices(form, received)
    if not form.validate_on_submit():
        return render_home(pick=form, status=400)
    db, saved = get_db(), []
    with store.write(db):
        for kind, field in (("counter", form.counter_id), ("officer", form.officer_id)):
            if field.choices:
                name = dict(field.choices)[field.data]
                store.set_setting(db, f"{kind}_id", field.data)
                store.set_setting(db, kind, name)
                saved.append(name)
    session["duty_saved"] = " · ".join(saved)
    return redirect(url_for("kiosk_staff.home"))


@bp.post("/dossier")
@staff_required
def dossier():
    """Bind the next survey to a dossier code, then hand the tablet to the citizen."""
    form = DossierForm()
    if not form.validate_on_submit():
        return render_home(dossier=form, status=400)
    survey.end_session()  # a survey left open is kept, as incomplete; staff mode ends
    db = get_db()
    with store.write(db):
        store.set_setting(db, "pending_dossier", form.dossier_code.data)
    return redirect(url_for("survey.welcome"))


@bp.post("/dossier/cancel")
@staff_required
def cancel_dossier():
    """Forget the dossier waiting for a rating (the citizen left without rating)."""
    store.forget_pending_dossier(get_db())
    return redirect(url_for("kiosk_staff.home"))
