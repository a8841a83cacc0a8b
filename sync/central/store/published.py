"""Published outcomes in the store: publish, unpublish (both logged in case_log), the public lists."""

from sqlalchemy import func, select

from kiosk.clock import utc_iso
from kiosk.text import nfc

from .database import write
from .schema import case_log, cases, published_cases


def get(engine, case_id: int):
    """The published question and answer of a case, or None."""
    with engine.connect() as conn:
        return conn.execute(select(published_cases).where(published_cases.c.case_id == case_id)).mappings().first()


def publish(engine, case_id: int, user_name: str, now, question: str, answer: str, month: str) -> bool:
    """Publish (or replace) a closed case's anonymised question and answer, logged as "publish".

    Returns False (nothing changed) when the case is not closed. Texts are stored in NFC.
    """
    at = utc_iso(now)
    with write(engine) as conn:
        case = conn.execute(select(cases.c.unit, cases.c.status).where(cases.c.id == case_id)).mappings().first()
        if case is None or case["status"] != "closed":
            return False
        values = {"unit": case["unit"], "month": month, "question": nfc(question), "answer": nfc(answer),
                  "published_utc": at, "published_by": user_name}
        changed = conn.execute(published_cases.update().where(published_cases.c.case_id == case_id).values(**values))
        if changed.rowcount == 0:
            conn.execute(published_cases.insert().values(case_id=case_id, **values))
        conn.execute(case_log.insert().values(case_id=case_id, user_name=user_name, at_utc=at, action="publish",
                                              detail=None))
    return True


def unpublish(engine, case_id: int, user_name: str, now) -> bool:
    """Take a case's question and answer off the public page, logged as "unpublish"; False if it was not there."""
    with write(engine) as conn:
        gone = conn.execute(published_cases.delete().where(published_cases.c.case_id == case_id)).rowcount
        if gone:
            conn.execute(case_log.insert().values(case_id=case_id, user_name=user_name, at_utc=utc_iso(now),
                                                  action="unpublish", detail=None))
    return bool(gone)


def public_list(engine, unit=None, month=None, limit=200) -> list:
    """Published questions and answers (unit, month, question, answer, published_utc), newest month first."""
    query = select(published_cases.c.unit, published_cases.c.month, published_cases.c.question,
                   published_cases.c.answer, published_cases.c.published_utc)
    if unit:
        query = query.where(published_cases.c.unit == nfc(unit))
    if month:
        query = query.where(published_cases.c.month == month)
    with engine.connect() as conn:
        return conn.execute(query.order_by(published_cases.c.month.desc(), published_cases.c.id.desc())
                            .limit(limit)).mappings().all()


def choices(engine) -> tuple:
    """(units, months) that have something published, for the public page's pickers."""
    with engine.connect() as conn:
        units = conn.execute(select(published_cases.c.unit).distinct().order_by(published_cases.c.unit)).scalars()
        units = units.all()
        months = conn.execute(select(published_cases.c.month, func.count()).group_by(published_cases.c.month)
                              .order_by(published_cases.c.month.desc())).all()
    return units, [m for m, _n in months]
