"""Cases in the store: listed and read by scope, changed by staff with every change logged."""

import json

from sqlalchemy import func, select

from kiosk.clock import utc_iso
from kiosk.text import nfc

from ..cases import reason_keys
from .database import bulk_insert, write
from .schema import case_log, case_reasons, cases, pakn, response_private, responses


def add_reasons(conn, opened) -> None:
    """Add the ``case_reasons`` rows of new cases (dicts with ``id``, ``why`` and ``reasons`` as stored),
    in the caller's transaction: what the queue's reason filter reads (see ``sync.central.cases.reason_keys``)."""
    found = [{"reason": key, "case_id": case["id"]} for case in opened
             for key in reason_keys(case["why"], case.get("reasons"))]
    if found:  # the keys are the kiosk's reason keys and why codes, never free text: COPY may carry them
        bulk_insert(conn, case_reasons, found)


def _cases_where(query, unit, officer_id, status, day):
    """Keep the cases of a unit, an officer (by roster id: '' keeps none), a status, or a day (when their
    response was given)."""
    for column, value in ((cases.c.unit, nfc(unit)), (cases.c.status, status), (cases.c.local_day, day)):
        if value:
            query = query.where(column == value)
    if officer_id is not None:
        query = query.where(cases.c.officer_id == officer_id)
    return query


def list_cases(engine, unit=None, officer_id=None, status=None, day=None, limit=500):
    """Cases, newest first; `day` keeps those whose response was given that day (Asia/Ho_Chi_Minh)."""
    query = _cases_where(
        select(cases, responses.c.counter, responses.c.created_utc, responses.c.answers, response_private.c.comment)
        .join(responses, responses.c.id == cases.c.response_id, isouter=True)
        .join(response_private, response_private.c.response_id == cases.c.response_id, isouter=True)
        .order_by(cases.c.id.desc()).limit(limit), unit, officer_id, status, day)
    with engine.connect() as conn:
        return conn.execute(query).mappings().all()


def count_cases(engine, unit=None, officer_id=None, status=None, day=None) -> int:
    query = _cases_where(select(func.count()).select_from(cases), unit, officer_id, status, day)
    with engine.connect() as conn:
        return conn.execute(query).scalar()


def get_case(engine, case_id: int):
    """A case with its response and erasable text (a PAKN's citizen_name, citizen_contact and
    within_competence too: None for a kiosk case), and its history; None if unknown."""
    query = (select(*[c for c in cases.c if c.name != "reasons"], responses.c.answers, responses.c.reasons,
                    responses.c.counter,
                    responses.c.dossier_code, responses.c.created_utc, responses.c.uuid,
                    response_private.c.comment, response_private.c.phone, response_private.c.erased_utc,
                    pakn.c.citizen_name, pakn.c.contact.label("citizen_contact"), pakn.c.within_competence)
             .join(responses, responses.c.id == cases.c.response_id, isouter=True)
             .join(response_private, response_private.c.response_id == cases.c.response_id, isouter=True)
             .join(pakn, pakn.c.case_id == cases.c.id, isouter=True)
             .where(cases.c.id == case_id))
    with engine.connect() as conn:
        case = conn.execute(query).mappings().first()
        if case is None:
            return None
        history = conn.execute(select(case_log).where(case_log.c.case_id == case_id)
                               .order_by(case_log.c.id)).mappings().all()
    return {**case, "answers": json.loads(case["answers"] or "{}"), "reasons": json.loads(case["reasons"] or "[]"),
            "history": history}


class CaseClosed(Exception):
    """The case is closed: it is read-only until someone reopens it."""


def update(engine, case_id: int, user_name: str, now, *, status=None, assignee=None, answer=None) -> None:
    """Change a case and log who changed what, in one transaction.

    Raises ``CaseClosed`` (and changes nothing) if the case is closed: what was
    answered to the citizen stays as it was; ``reopen`` first.
    """
    with write(engine) as conn:
        case = conn.execute(select(cases).where(cases.c.id == case_id)).mappings().one()
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
        changed = conn.execute(cases.update().where(  # re-checked under the row lock on PostgreSQL
            cases.c.id == case_id, cases.c.status != "closed").values(**values))
        if changed.rowcount != 1:
            raise CaseClosed(case_id)  # closed meanwhile: the transaction rolls back
        conn.execute(case_log.insert(), [{"case_id": case_id, "user_name": user_name, "at_utc": utc_iso(now),
                                             "action": action, "detail": detail} for action, detail in log])


def reopen(engine, case_id: int, user_name: str, now) -> bool:
    """Reopen a closed case, logged as its own action; False (nothing changed) if it was not closed.

    It goes back to answered, assigned or new, by what it holds; the answer already
    given stays and is shown until someone changes it.
    """
    with write(engine) as conn:
        case = conn.execute(select(cases).where(cases.c.id == case_id)).mappings().one()
        if case["status"] != "closed":
            return False
        status = "answered" if case["answer"] else "assigned" if case["assignee"] else "new"
        changed = conn.execute(cases.update().where(cases.c.id == case_id, cases.c.status == "closed")
                               .values(status=status, closed_utc=None, updated_utc=utc_iso(now)))
        if changed.rowcount != 1:
            return False  # reopened meanwhile
        conn.execute(case_log.insert().values(case_id=case_id, user_name=user_name, at_utc=utc_iso(now),
                                                 action="reopen", detail=None))
        return True
