"""Central's staff pages: login, logout, the language, who is logged in, and what they may see.

An admin sees every unit, a supervisor their unit, an officer only the
responses given while they were on duty: those carrying the roster id their login is linked to
(``users.officer_id``), never matched by display name; and the PAKN of other channels assigned to them
(``web.cases.may_see``). An officer login not linked to a roster entry sees nothing of the kiosks',
and every page tells them what the admin must do.
"""

import math
from functools import wraps

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from kiosk import web, websafety
from kiosk.clock import now_utc
from kiosk.forms import no_control_characters
from kiosk.passwords import secret_matches
from kiosk.text import nfc, storable

from .. import logins
from ..store import accounts, reads
from ..store.tallies import facts_between, tallies_between

bp = Blueprint("central_auth", __name__)


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
            return redirect(url_for("central_auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return wrapped


def form_expired(_error):
    """A form whose token is missing, invalid or expired: shown again with what was typed (never the
    password) and a message, status 400; nothing is saved. Other posts (or a session that has ended)
    get the error page, which still shows the texts that were typed so they can be copied."""
    message = websafety.csrf_message()
    if request.endpoint == "central_auth.login":
        return render_template("central/login.html", form=LoginForm(), error=message), 400
    if request.endpoint == "central_cases.case_detail" and current_user() is not None:
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
    user = current_user()
    return {
        "lang": session.get("lang", "vi"), "user": user, "form_message": g.get("form_message"),
        "unlinked_officer": user is not None and user["role"] == "officer" and not user["officer_id"],
        "status_names": {"new": gettext("new"), "assigned": gettext("assigned"),
                         "answered": gettext("answered"), "closed": gettext("closed")},
        "why_names": {"comment": gettext("comment"), "low_rating": gettext("rating of 1 or 2"),
                      "extra_request": gettext("extra documents or fees"),
                      "pakn": gettext("feedback received by another channel")},
        "action_names": {"assign": gettext("assigned to"), "answer": gettext("answered"),
                         "close": gettext("closed"), "reopen": gettext("reopened"),
                         "register": gettext("registered, received by"),
                         "told": gettext("recorded how the citizen was told"),
                         "letter": gettext("issued reply letter no."),

                         "publish": gettext("published on the public page"),
                         "unpublish": gettext("taken off the public page")},
        "channel_names": {"kiosk": gettext("kiosk"), "hotline": gettext("hotline"), "email": gettext("email"),
                          "box": gettext("suggestion box"), "portal": gettext("public-service portal"),
                          "in_person": gettext("in person")},
    }


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in, within the limits of ``sync.central.logins`` (the attempt is counted before the password is checked)."""
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
            logins.succeeded(engine(), keys, now)
            lang = session.get("lang", "vi")
            session.clear()
            session.update(user_id=user["id"], session_version=user["session_version"], lang=lang)
            return redirect(websafety.safe_next(request.args.get("next"), url_for("central_summary.summary")))
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
    return redirect(url_for("central_auth.login"))


@bp.get("/lang/<code>")
def switch_language(code):
    return web.switch_language(code, url_for("central_summary.summary"))


def scope(user, requested_unit):
    """(unit, officer_id) the user may see; an admin may pick any unit or all. Units compare in NFC.

    officer_id is None but for an officer login: its roster id, or '' (which keeps nothing) for a login
    not linked to one."""
    requested_unit = nfc(requested_unit)
    if requested_unit and not (len(requested_unit) <= 64 and storable(requested_unit, one_line=True)):
        abort(400, description=gettext("Unknown unit."))
    if user["role"] == "admin":
        return requested_unit or None, None
    if requested_unit and requested_unit != user["unit"]:
        abort(403)
    return user["unit"], (user["officer_id"] or "") if user["role"] == "officer" else None


def scoped_rows(start, end):
    """The responses of these days that the user may see."""
    unit, officer = scope(current_user(), request.args.get("unit"))
    return unit, reads.range_responses(engine(), start.isoformat(), end.isoformat(), unit=unit, officer_id=officer)


def scoped_tallies(start, end, detail=False):
    """The day tallies of these days that the user may see."""
    unit, officer = scope(current_user(), request.args.get("unit"))
    return unit, tallies_between(engine(), start.isoformat(), end.isoformat(), unit=unit, officer_id=officer,
                                    detail=detail and unit is not None)


def scoped_counts(start, end):
    """(unit, tallies) of these days that the user may see, counts only (no dossier codes): an officer's from
    their day tallies, a unit's or every unit's added up by the database (``facts_between``)."""
    unit, officer = scope(current_user(), request.args.get("unit"))
    if officer is not None:
        return unit, tallies_between(engine(), start.isoformat(), end.isoformat(), unit=unit, officer_id=officer,
                                        counts_only=True)
    return unit, facts_between(engine(), start.isoformat(), end.isoformat(), unit=unit)
