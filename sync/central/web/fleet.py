"""The fleet page (issue 13, item 6): every kiosk with its latest health report and its state in words and
colour, worst first (``sync.central.fleet``). Admins see every unit (or one, ``?unit=``), supervisors
their own; officers have no fleet page."""

from flask import Blueprint, abort, render_template, request
from flask_babel import get_locale, gettext, ngettext

from kiosk.clock import now_utc, parse_utc

from .. import fleet
from ..store import fleet as fleet_store
from .auth import current_user, engine, login_required, scope
from . import numbers
from .numbers import DASH

bp = Blueprint("central_fleet", __name__)


def state_words():
    """What each state is called on the page, and what it asks of IT staff."""
    return {
        "silent": (gettext("Silent"), gettext("nothing received for over a day")),
        "failing": (gettext("Failing"), gettext("an error in the last hour")),
        "clock_off": (gettext("Clock off"), gettext("more than 2 minutes from central's clock")),
        "disk_low": (gettext("Disk low"), gettext("less than 500 MB free")),
        "outdated": (gettext("Outdated"), gettext("older software or questionnaire than the newest")),
        "ok": (gettext("OK"), gettext("reporting, nothing to do")),
    }


def column_labels():
    """The table's column names, translated once per page (they label each cell on a phone too)."""
    return {"kiosk": gettext("Kiosk"), "state": gettext("State"), "last_sync": gettext("Last sync"),
            "software": gettext("Software"), "questionnaire": gettext("Questionnaire"),
            "pending": gettext("Waiting to send"), "clock": gettext("Clock"), "disk": gettext("Free disk"),
            "error": gettext("Last error"), "never": gettext("never"), "ago": gettext("%(span)s ago"),
            "oldest": gettext("oldest %(span)s")}


class Spans:
    """Spans of time, clock offsets and disk sizes in the page's language. The formats are translated once
    per page (a gettext call per kiosk and column would be most of a 200-kiosk page's time)."""

    def __init__(self):
        # Literal calls, one per string: the catalogue's extraction finds only those.
        self.formats = {"s": gettext("%(n)d s"), "min": gettext("%(m)d min"), "h": gettext("%(h)d h %(m)02d min"),
                        "on_time": gettext("on time"), "ahead": gettext("%(span)s ahead"),
                        "behind": gettext("%(span)s behind"), "gb": gettext("%(n)s GB"), "mb": gettext("%(n)s MB")}
        self.days = ngettext("%(num)d day", "%(num)d days", 2)
        self.locale = get_locale()

    def number(self, value, pattern="#,##0") -> str:
        """``numbers.number`` (or another pattern) with the page's locale looked up once."""
        return DASH if value is None else numbers.pattern(pattern).apply(value, self.locale)

    def duration(self, seconds) -> str:
        """A span of time in words, to the minute: '2 h 05 min', '45 s'; '–' for None."""
        if seconds is None:
            return DASH
        seconds, f = abs(int(seconds)), self.formats
        if seconds < 60:
            return f["s"] % {"n": seconds}
        if seconds < 3600:
            return f["min"] % {"m": seconds // 60}
        if seconds < 86400 * 2:
            return f["h"] % {"h": seconds // 3600, "m": seconds % 3600 // 60}
        return self.days % {"num": seconds // 86400}

    def offset(self, seconds) -> str:
        """The kiosk's clock against central's: '5 min ahead', '40 s behind', 'on time'; '–' for None."""
        if seconds is None:
            return DASH
        if seconds == 0:
            return self.formats["on_time"]
        return self.formats["ahead" if seconds > 0 else "behind"] % {"span": self.duration(seconds)}

    def disk(self, size) -> str:
        """Free disk in GB (one decimal) or MB: '8,0 GB', '350 MB'; '–' for None."""
        if size is None:
            return DASH
        if size >= 1_000_000_000:
            return self.formats["gb"] % {"n": self.number(size / 1_000_000_000, "#,##0.0")}
        return self.formats["mb"] % {"n": self.number(size // 1_000_000)}


@bp.get("/fleet")
@login_required
def fleet_page():
    """Every kiosk the user may see with its state, worst first; a count of kiosks per state on top."""
    user = current_user()
    if user["role"] not in ("admin", "supervisor"):
        abort(403)
    unit, _officer = scope(user, request.args.get("unit"))
    now = now_utc()
    rows = fleet.ranked(fleet_store.fleet_rows(engine(), unit), now, fleet_store.newest_versions(engine()))
    words = state_words()
    for row in rows:
        row["why"] = "; ".join(words[state][1] for state in row["states"])
        row["since_s"] = (now - parse_utc(row["last_contact"])).total_seconds() if row["last_contact"] else None
    counts = {state: sum(row["states"][0] == state for row in rows) for state in fleet.STATES}
    return render_template("central/fleet.html", rows=rows, unit=unit, counts=counts, words=words, spans=Spans(),
                           labels=column_labels())
