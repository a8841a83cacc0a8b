"""Acknowledging an alert (supervisors and admins, with a comment) and setting the units' targets (admins)."""

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext

from kiosk import websafety
from kiosk.clock import now_utc
from kiosk.text import nfc, storable

from .. import alerts
from ..store import reads, targets
from .auth import current_user, engine, login_required

bp = Blueprint("central_alerts", __name__)
COMMENT_MAX = 2000


@bp.post("/alerts/<int(signed=False):alert_id>/ack")
@login_required
def acknowledge(alert_id):
    """Close an open alert with a comment (who and when are kept with it); a supervisor only their unit's."""
    user = current_user()
    if user["role"] not in ("admin", "supervisor"):
        abort(403)
    comment = nfc(request.form.get("comment", "")).strip()
    if not comment or len(comment) > COMMENT_MAX or not storable(comment):
        abort(400, description=gettext("Write what was done (at most %(n)d characters) to acknowledge the alert.",
                                       n=COMMENT_MAX))
    unit = None if user["role"] == "admin" else user["unit"]
    if alert_id > 2**31 - 1 or not alerts.acknowledge(engine(), alert_id, user["name"], comment, now_utc(),
                                                       unit=unit):
        abort(404)
    return redirect(websafety.safe_next(request.form.get("next"), url_for("central_summary.summary")))


@bp.route("/targets", methods=["GET", "POST"])
@login_required
def unit_targets():
    """Each unit's target share satisfied overall; an admin may change one (1 to 100 percent)."""
    user = current_user()
    if user["role"] != "admin":
        abort(403)
    default = current_app.config["CENTRAL"].target_pct
    message = None
    if request.method == "POST":
        unit, text = nfc(request.form.get("unit", "")), request.form.get("target", "").strip()
        if unit not in reads.units(engine()) and unit not in targets.targets(engine()):
            abort(400, description=gettext("Unknown unit."))
        if not text.isdigit() or not 1 <= int(text) <= 100:
            abort(400, description=gettext("The target must be a whole percentage from 1 to 100."))
        targets.set_target(engine(), unit, int(text), user["name"], now_utc())
        message = gettext("Target of %(unit)s saved: %(n)s%%.", unit=unit, n=text)
    given = targets.targets(engine())
    units = sorted(set(reads.units(engine())) | set(given))
    return render_template("central/targets.html", rows=[(u, given.get(u, default), u in given) for u in units],
                           default=default, message=message)
