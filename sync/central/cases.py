"""Complaints and comments as cases: opened at ingest, handled by staff, every change logged.

A response opens a case when it has a comment, a rating of 1 or 2, or says it
was asked for extra documents or fees. A case goes new -> assigned ->
answered -> closed; it is overdue after CENTRAL_CASE_DAYS working days
(in Asia/Ho_Chi_Minh; see ``sync.central.workdays``: Monday to Friday less Vietnam's
public holidays, with the department's decreed swaps) unless closed. A closed
case is read-only until it is reopened, which is logged as its own action.
"""

from datetime import timedelta

from kiosk.clock import local_today, parse_utc

from .workdays import WorkCalendar

STATUSES = ("new", "assigned", "answered", "closed")

#: Channels a case comes in by: the kiosks, and PAKN staff register (sync.central.web.pakn).
CHANNELS = ("kiosk", "hotline", "email", "box", "portal", "in_person")
OTHER_CHANNELS = CHANNELS[1:]

#: PAKN categories, each the SIPAS element it concerns (QĐ 1001/QĐ-BNV; see shared/domain.md), and the
#: default working days to handle it. Default source *(unconfirmed)*: NĐ 20/2008/NĐ-CP on receiving and
#: handling PAKN about administrative regulations, as amended by NĐ 92/2017/NĐ-CP, gives 10 working days
#: from receipt (longer for complex cases); the department sets its own per category with CENTRAL_PAKN_DAYS.
CATEGORIES = {"access": 1, "procedures": 2, "officers": 3, "results": 4, "feedback": 5}
PAKN_DEFAULT_DAYS = 10
PAKN_DAYS_SETTING = "CENTRAL_PAKN_DAYS"


def pakn_days_from(text: str) -> tuple:
    """CENTRAL_PAKN_DAYS ``"officers=5, procedures=15"`` as ((category, days), ...).

    Categories not named keep PAKN_DEFAULT_DAYS. Raises ``ValueError`` with one sentence naming the bad
    entry (an unknown category, days not a whole number from 1 to 60, a category named twice).
    """
    days = {}
    for part in (p.strip() for p in (text or "").split(",")):
        if not part:
            continue
        key, _, value = (s.strip() for s in part.partition("="))
        if key not in CATEGORIES:
            raise ValueError(f"{PAKN_DAYS_SETTING}: unknown category {key!r}; use {', '.join(CATEGORIES)}.")
        if not value.isdigit() or not 1 <= int(value) <= 60:
            raise ValueError(f"{PAKN_DAYS_SETTING}: days for {key} must be a whole number from 1 to 60, "
                             f"not {value!r}.")
        if key in days:
            raise ValueError(f"{PAKN_DAYS_SETTING}: {key} is named twice.")
        days[key] = int(value)
    return tuple(sorted(days.items()))


def due_working_days(channel: str, category, config) -> int:
    """Working days a case has before it is overdue, counted from the day the citizen spoke.

    Kiosk cases: ``config.case_days`` (CENTRAL_CASE_DAYS). PAKN of other channels: the days set for their
    `category` in ``config.pakn_days`` (CENTRAL_PAKN_DAYS), else PAKN_DEFAULT_DAYS (see CATEGORIES for the
    source). `config` is a ``CentralConfig``.
    """
    if channel == "kiosk":
        return config.case_days
    return dict(getattr(config, "pakn_days", ())).get(category, PAKN_DEFAULT_DAYS)


def due_day(start_day, days: int, calendar=None):
    """The last day on time: the `days`-th working day after `start_day` (a date, Asia/Ho_Chi_Minh).

    A case still open after this day is overdue, as ``is_overdue`` counts it.
    """
    calendar = calendar or PUBLIC_HOLIDAYS_ONLY
    day, left = start_day, days
    while left > 0:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            left -= 1
    return day


def why(answers: dict, has_comment: bool) -> list:
    reasons = []
    if has_comment:
        reasons.append("comment")
    if any(type(v) is int and v in (1, 2) for v in answers.values()):
        reasons.append("low_rating")
    if answers.get("extra_request") == "yes":
        reasons.append("extra_request")
    return reasons


def case_rows(responses) -> list:
    """Case rows for stored responses (dicts with id, local_day, unit, kiosk_id, officer, answers, comment_hash,
    created_utc and received_utc); the case starts when the citizen rated (created_utc)."""
    rows = []
    for r in responses:
        reasons = why(r["answers"], r["comment_hash"] is not None)
        if reasons:
            rows.append({"response_id": r["id"], "local_day": r["local_day"], "unit": r["unit"],
                         "kiosk_id": r["kiosk_id"], "officer": r["officer"], "why": ",".join(reasons),
                         "status": "new", "opened_utc": r["received_utc"], "updated_utc": r["received_utc"],
                         "channel": "kiosk", "started_utc": r["created_utc"]})
    return rows


#: Vietnam's public holidays without department swaps, for callers that give no calendar.
PUBLIC_HOLIDAYS_ONLY = WorkCalendar()


def is_overdue(case, now, limit_days: int, calendar: WorkCalendar | None = None) -> bool:
    """True if an open case has waited more than `limit_days` working days since the day it was opened.

    `case` needs ``status`` and ``opened_utc``; `now` is an aware datetime; days are counted in
    Asia/Ho_Chi_Minh by `calendar` (default: Vietnam's public holidays, no department swaps).
    """
    if case["status"] == "closed":
        return False
    opened = local_today(parse_utc(case["opened_utc"]))
    calendar = calendar or PUBLIC_HOLIDAYS_ONLY
    return calendar.working_days_between(opened, local_today(now), stop_after=limit_days) > limit_days
