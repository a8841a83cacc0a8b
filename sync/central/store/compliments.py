"""Compliments in the store (comments that open no case; the rule is in ``sync.central.cases``): listed by
scope and page, counted per officer, and the one-off tidy-up of stores made before the rule."""

import json

from sqlalchemy import func, select

from kiosk.text import nfc

from ..cases import compliment_rows
from .database import write
from .schema import case_log, case_reasons, cases, compliments, officers, response_private, responses, settings

PAGE_SIZE = 50
#: Set in ``settings`` once responses stored before the rule have been looked through.
SETTLED_KEY = "compliments_settled"


def _scoped(query, unit, officer_id):
    """Keep a unit's compliments, or an officer's (by roster id: '' keeps none)."""
    if unit:
        query = query.where(compliments.c.unit == nfc(unit))
    if officer_id is not None:
        query = query.where(compliments.c.officer_id == officer_id)
    return query


def compliment_page(engine, unit=None, officer_id=None, page=1, size=PAGE_SIZE) -> dict:
    """{"rows": [id, unit, officer, local_day, started_utc, counter, comment], "total", "pages", "page"},
    newest first."""
    query = _scoped(select(compliments.c.id, compliments.c.unit, compliments.c.officer, compliments.c.local_day,
                           compliments.c.started_utc, responses.c.counter, response_private.c.comment)
                    .join(responses, responses.c.id == compliments.c.response_id)
                    .join(response_private, response_private.c.response_id == compliments.c.response_id,
                          isouter=True), unit, officer_id)
    with engine.connect() as conn:
        total = conn.execute(_scoped(select(func.count()).select_from(compliments), unit, officer_id)).scalar()
        rows = conn.execute(query.order_by(compliments.c.started_utc.desc(), compliments.c.id.desc())
                            .offset((max(1, page) - 1) * size).limit(size)).mappings().all()
    return {"rows": rows, "total": total, "pages": max(1, -(-total // size)), "page": max(1, page)}


def per_officer(engine, unit=None, officer_id=None) -> list:
    """[(officer's name or None, count)], most compliments first: by roster id where the response has one
    (named as the roster names them now), else by the name the kiosk sent."""
    query = _scoped(select(compliments.c.officer_id, compliments.c.officer, officers.c.display_name,
                           func.count().label("n"))
                    .join(officers, officers.c.id == compliments.c.officer_id, isouter=True)
                    .group_by(compliments.c.officer_id, compliments.c.officer, officers.c.display_name),
                    unit, officer_id)
    counts = {}
    with engine.connect() as conn:
        for row in conn.execute(query):
            key = ("id", row.officer_id) if row.officer_id else ("name", row.officer)
            name, n = counts.get(key, (row.display_name or row.officer, 0))
            counts[key] = (name, n + row.n)
    return sorted(counts.values(), key=lambda item: (-item[1], item[0] or ""))


def _response_rows(conn, where):
    rows = conn.execute(select(responses.c.id, responses.c.local_day, responses.c.unit, responses.c.kiosk_id,
                               responses.c.officer, responses.c.answers, responses.c.reasons,
                               responses.c.comment_hash, responses.c.created_utc,
                               responses.c.officer_id, responses.c.counter_id).where(where)).mappings()
    return [{**r, "answers": json.loads(r["answers"]), "reasons": json.loads(r["reasons"])} for r in rows]


def settle(engine) -> dict:
    """Bring a store made before the compliment rule up to it; idempotent, run by `central init`.

    Cases that are compliments and untouched (new, no assignee, no answer, nothing in their history) are
    moved to ``compliments`` (the case row is deleted: nobody saw it as work yet). A case someone touched
    stays a case. Once per store, responses with a comment that have neither a case nor a compliment
    row (stores migrated after the rule) get their compliment row. Returns {"moved": n, "added": n}.
    """
    with write(engine) as conn:
        untouched = (select(cases.c.response_id).where(
            cases.c.status == "new", cases.c.assignee.is_(None), cases.c.answer.is_(None),
            cases.c.channel == "kiosk", cases.c.response_id.is_not(None), cases.c.why == "comment",
            ~select(case_log.c.id).where(case_log.c.case_id == cases.c.id).exists()))
        found = compliment_rows(_response_rows(conn, responses.c.id.in_(untouched)))
        if found:
            ids = [row["response_id"] for row in found]
            gone = select(cases.c.id).where(cases.c.response_id.in_(ids), cases.c.status == "new",
                                            cases.c.assignee.is_(None), cases.c.answer.is_(None))
            conn.execute(case_reasons.delete().where(case_reasons.c.case_id.in_(gone)))
            conn.execute(cases.delete().where(cases.c.id.in_(gone)))
            conn.execute(compliments.insert(), found)
        added = []
        if conn.execute(select(settings.c.value).where(settings.c.key == SETTLED_KEY)).first() is None:
            lonely = (responses.c.comment_hash.is_not(None)
                      & ~select(cases.c.id).where(cases.c.response_id == responses.c.id).exists()
                      & ~select(compliments.c.id).where(compliments.c.response_id == responses.c.id).exists())
            added = compliment_rows(_response_rows(conn, lonely))
            if added:
                conn.execute(compliments.insert(), added)
            conn.execute(settings.insert().values(key=SETTLED_KEY, value="1"))
    return {"moved": len(found), "added": len(added)}
