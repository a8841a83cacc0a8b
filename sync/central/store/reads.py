"""Reading the store: a range of responses, the kiosks and the units."""

from sqlalchemy import func, select

from kiosk.text import nfc

from .schema import integrity_events, kiosks, response_private, responses
from .tallies import decoded


def range_responses(engine, start: str, end: str, unit=None, officer_id=None):
    """Responses created from day `start` to day `end` inclusive (Asia/Ho_Chi_Minh), oldest first; with
    `officer_id`, those given while that roster officer was on duty ('' keeps none)."""
    query = (select(responses.c.local_day, responses.c.created_utc, responses.c.kiosk_id, responses.c.unit,
                    responses.c.counter, responses.c.officer, responses.c.dossier_code,
                    responses.c.questionnaire_version, responses.c.answers, responses.c.reasons,
                    responses.c.complete, responses.c.flags, responses.c.comment_hash,
                    response_private.c.comment)
             .join(response_private, response_private.c.response_id == responses.c.id, isouter=True)
             .where(responses.c.local_day >= start, responses.c.local_day <= end)
             .order_by(responses.c.created_utc))
    if unit:
        query = query.where(responses.c.unit == nfc(unit))
    if officer_id is not None:
        query = query.where(responses.c.officer_id == officer_id)
    with engine.connect() as conn:
        return [decoded(row) for row in conn.execute(query).mappings()]


def kiosk_list(engine, unit=None, recent=3):
    """Registered kiosks with their last batch time, how many integrity events each has, and the
    ``recent`` newest of them (dicts with kind, seq, detail, recorded_utc, install_id)."""
    query = select(kiosks.c.kiosk_id, kiosks.c.unit, kiosks.c.last_batch_utc).order_by(kiosks.c.kiosk_id)
    if unit:
        query = query.where(kiosks.c.unit == nfc(unit))
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
        events = dict(conn.execute(select(integrity_events.c.kiosk_id, func.count())
                                   .group_by(integrity_events.c.kiosk_id)).all())
        newest = {row["kiosk_id"]: conn.execute(
            select(integrity_events).where(integrity_events.c.kiosk_id == row["kiosk_id"])
            .order_by(integrity_events.c.id.desc()).limit(recent)).mappings().all()
            for row in rows if events.get(row["kiosk_id"])}
    return [{**row, "events": events.get(row["kiosk_id"], 0), "recent": newest.get(row["kiosk_id"], [])}
            for row in rows]


def units(engine):
    with engine.connect() as conn:
        return conn.execute(select(kiosks.c.unit).distinct().order_by(kiosks.c.unit)).scalars().all()
