"""Complaints and comments as cases: opened at ingest, handled by staff, every change logged.

A response opens a case when it has a comment, a rating of 1 or 2, or says it
was asked for extra documents or fees. A case goes new -> assigned ->
answered -> closed; it is overdue after CENTRAL_CASE_DAYS working days
(in Asia/Ho_Chi_Minh; see ``sync.central.workdays``: Monday to Friday less Vietnam's
public holidays, with the department's decreed swaps) unless closed. A closed
case is read-only until it is reopened, which is logged as its own action.
"""

from kiosk.clock import local_today, parse_utc

from .workdays import WorkCalendar

STATUSES = ("new", "assigned", "answered", "closed")


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
