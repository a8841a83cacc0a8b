"""Complaints and comments as cases: opened at ingest, handled by staff, every change logged.

A response opens a case when it has a comment, a rating of 1 or 2, or says it
was asked for extra documents or fees. A case goes new -> assigned ->
answered -> closed; it is overdue after CENTRAL_CASE_DAYS working days
(in Asia/Ho_Chi_Minh; see ``sync.workdays``: Monday to Friday less Vietnam's
public holidays, with the department's decreed swaps) unless closed. A closed
case is read-only until it is reopened, which is logged as its own action.
"""

from sqlalchemy import select

from kiosk.clock import local_today, parse_utc, utc_iso

from . import store as cs
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
    """Case rows for stored responses (dicts with id, local_day, unit, kiosk_id, officer, answers, comment_hash
    and received_utc)."""
    rows = []
    for r in responses:
        reasons = why(r["answers"], r["comment_hash"] is not None)
        if reasons:
            rows.append({"response_id": r["id"], "local_day": r["local_day"], "unit": r["unit"],
                         "kiosk_id": r["kiosk_id"], "officer": r["officer"], "why": ",".join(reasons),
                         "status": "new", "opened_utc": r["received_utc"], "updated_utc": r["received_utc"]})
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


class CaseClosed(Exception):
    """The case is closed: it is read-only until someone reopens it."""


def update(engine, case_id: int, user_name: str, now, *, status=None, assignee=None, answer=None) -> None:
    """Change a case and log who changed what, in one transaction.

    Raises ``CaseClosed`` (and changes nothing) if the case is closed: what was
    answered to the citizen stays as it was; ``reopen`` first.
    """
    with cs.write(engine) as conn:
        case = conn.execute(select(cs.cases).where(cs.cases.c.id == case_id)).mappings().one()
        if case["status"] == "closed":
            raise CaseClosed(case_id)
        values, log = {}, []
        if assignee is not None and assignee != case["assignee"]:
            values["assignee"] = assignee
            log.append(("assign", assignee))
            if case["status"] == "new":
                values["status"] = "assigned"
        if answer is not None and answer != case["answer"]:
            values["answer"] = answer
            log.append(("answer", answer))
            if case["status"] in ("new", "assigned"):
                values["status"] = "answered"
        if status == "closed":
            values.update(status="closed", closed_utc=utc_iso(now))
            log.append(("close", None))
        if not values:
            return
        values["updated_utc"] = utc_iso(now)
        changed = conn.execute(cs.cases.update().where(  # re-checked under the row lock on PostgreSQL
            cs.cases.c.id == case_id, cs.cases.c.status != "closed").values(**values))
        if changed.rowcount != 1:
            raise CaseClosed(case_id)  # closed meanwhile: the transaction rolls back
        conn.execute(cs.case_log.insert(), [{"case_id": case_id, "user_name": user_name, "at_utc": utc_iso(now),
                                             "action": action, "detail": detail} for action, detail in log])


def reopen(engine, case_id: int, user_name: str, now) -> bool:
    """Reopen a closed case, logged as its own action; False (nothing changed) if it was not closed.

    It goes back to answered, assigned or new, by what it holds; the answer already
    given stays and is shown until someone changes it.
    """
    with cs.write(engine) as conn:
        case = conn.execute(select(cs.cases).where(cs.cases.c.id == case_id)).mappings().one()
        if case["status"] != "closed":
            return False
        status = "answered" if case["answer"] else "assigned" if case["assignee"] else "new"
        changed = conn.execute(cs.cases.update().where(cs.cases.c.id == case_id, cs.cases.c.status == "closed")
                               .values(status=status, closed_utc=None, updated_utc=utc_iso(now)))
        if changed.rowcount != 1:
            return False  # reopened meanwhile
        conn.execute(cs.case_log.insert().values(case_id=case_id, user_name=user_name, at_utc=utc_iso(now),
                                                 action="reopen", detail=None))
        return True
