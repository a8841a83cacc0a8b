"""The roster page (admins, issue 13): add, rename and retire units, counters and officers, and map old
responses' officer names to roster ids. Each change is one form; a refused one changes nothing and says why."""

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext

from kiosk.text import nfc

from ..store import accounts, roster, roster_match
from .auth import current_user, engine, login_required

bp = Blueprint("central_roster", __name__)


def refusal(error: roster.RosterError) -> str:
    """A refused change in the reader's language."""
    reasons = {
        "bad_id": gettext("An id is 1 to 36 letters (without diacritics), digits, '.', '_' or '-'."),
        "bad_name": gettext("A name is 1 to 80 characters on one line (a unit's name up to 120)."),
        "exists": gettext("That id or code is already in use: ids are never reused."),
        "unknown": gettext("It was not found; it may have been changed meanwhile."),
        "retired": gettext("It is retired, or its unit is."),
        "no_unit": gettext("Add the unit first."),
        "other_unit": gettext("That officer belongs to another unit."),
        "no_responses": gettext("No response without an officer id names this officer."),
    }
    return gettext("Nothing was changed. %(reason)s", reason=reasons[error.kind])


def _field(name) -> str:
    return nfc(request.form.get(name, ""))


def _rename(kind, key, name):
    {"unit": roster.rename_unit, "counter": roster.rename_counter, "officer": roster.rename_officer}[kind](
        engine(), key, name)
    return gettext("Renamed. Stored responses keep the name they were given with.")


def _retire(kind, key, _name):
    {"unit": roster.retire_unit, "counter": roster.retire_counter, "officer": roster.retire_officer}[kind](
        engine(), key)
    return gettext("Retired. Kiosks no longer offer it; its responses stay as they are.")


def _change(action, unit):
    """Do one change from the posted form; returns the sentence that confirms it."""
    if action == "add_unit":
        roster.add_unit(engine(), _field("code"), _field("name"))
        return gettext("Unit added.")
    if action == "add_counter":
        roster.add_counter(engine(), unit, _field("id").strip(), _field("name"))
        return gettext("Counter added.")
    if action == "add_officer":
        officer_id = roster.add_officer(engine(), unit, _field("name"), _field("id").strip() or None)
        return gettext("Officer added with id %(id)s.", id=officer_id)
    if action in ("rename", "retire"):
        kind = request.form.get("kind")
        if kind not in ("unit", "counter", "officer"):
            abort(400)
        return (_rename if action == "rename" else _retire)(kind, _field("key"), _field("name"))
    if action == "resolve":
        count = roster_match.resolve(engine(), unit, _field("name"), _field("officer_id"))
        return gettext("%(n)d response(s) now carry this officer's id.", n=count)
    if action == "match":
        mapped = roster_match.match(engine(), apply=True, unit=unit)["mapped"]
        return gettext("%(n)d name(s) matched exactly one officer and were mapped.", n=len(mapped))
    abort(400)


@bp.route("/roster", methods=["GET", "POST"])
@login_required
def roster_page():
    """Units; the chosen unit's counters and officers (with their logins); the old names left to map."""
    if current_user()["role"] != "admin":
        abort(403)
    units = roster.list_units(engine())
    unit = nfc(request.values.get("unit") or "") or (units[0]["code"] if units else None)
    if unit and unit not in {u["code"] for u in units}:
        unit = None
    message, error, status = None, None, 200
    if request.method == "POST":
        try:
            message = _change(request.form.get("action"), unit)
        except roster.RosterError as refused:
            error, status = refusal(refused), 400
        units = roster.list_units(engine())
    logins = {}
    for user in accounts.unit_users(engine(), unit):
        if user["officer_id"]:
            logins.setdefault(user["officer_id"], []).append(user["name"])
    return render_template(
        "central/roster.html", units=units, unit=unit, message=message, error=error, logins=logins,
        counters=roster.list_counters(engine(), unit) if unit else [],
        officers=roster.list_officers(engine(), unit) if unit else [],
        unresolved=roster_match.unresolved(engine(), unit) if unit else []), status
