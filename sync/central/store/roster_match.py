"""Old responses' officers by id (issue 13): responses stored before the roster name their officer only by
the display name the kiosk sent. A name that is the display name (NFC) of exactly ONE officer of the same
unit is given that officer's id (``match``); the rest are listed (unit, name, how many responses) for an
admin to map one by one (``resolve``), or to leave: a response without an officer id is seen by its unit's
supervisors, never by an officer login.

Each mapping fills ``officer_id`` on the responses, their cases and compliments, and counts that unit's
days' per-officer tallies again (``tallies.recount_day_tallies``), all in one transaction per unit.
"""

from sqlalchemy import func, select, update

from kiosk.text import nfc

from .database import lock_unit, write
from .roster import RosterError, check_id
from .schema import cases, compliments, officers, responses
from .tallies import recount_day_tallies


def unresolved(engine, unit: str | None = None) -> list:
    """Officer names of responses without an officer id: dicts ``unit``, ``name``, ``responses`` (count),
    ``candidates`` (ids of the unit's officers, active or retired, with that display name), by unit then
    most responses first."""
    query = (select(responses.c.unit, responses.c.officer, func.count().label("n"))
             .where(responses.c.officer_id.is_(None), responses.c.officer.is_not(None))
             .group_by(responses.c.unit, responses.c.officer))
    if unit is not None:
        query = query.where(responses.c.unit == nfc(unit))
    with engine.connect() as conn:
        names = conn.execute(query).all()
        roster = {}
        for row in conn.execute(select(officers.c.unit, officers.c.display_name, officers.c.id, officers.c.active)):
            roster.setdefault((row.unit, row.display_name), []).append((row.id, row.active))
    listed = [{"unit": u, "name": name, "responses": n, "candidates": roster.get((u, name), [])}
              for u, name, n in names]
    return sorted(listed, key=lambda row: (row["unit"], -row["responses"], row["name"]))


def match(engine, apply: bool = False, unit: str | None = None) -> dict:
    """Names matching exactly one ACTIVE officer of their unit: ``{"mapped": [...], "unresolved": [...]}``
    (rows as ``unresolved`` gives them, mapped ones with ``officer_id``); with `apply`, their responses
    are given that id (else nothing changes)."""
    mapped, left = [], []
    for row in unresolved(engine, unit):
        active = [officer_id for officer_id, is_active in row["candidates"] if is_active]
        if len(active) == 1:
            mapped.append({**row, "officer_id": active[0]})
        else:
            left.append(row)
    if apply:
        for row in mapped:
            _map(engine, row["unit"], row["name"], row["officer_id"])
    return {"mapped": mapped, "unresolved": left}


def resolve(engine, unit: str, name: str, officer_id: str) -> int:
    """Give the responses of `unit` whose officer was `name` (compared in NFC) and that have no officer id
    yet the id `officer_id` (an officer of that unit, active or retired); returns how many.

    Raises RosterError for an unknown officer, one of another unit, or a name no response has.
    """
    unit, name = nfc(unit), nfc(name)
    check_id(officer_id, "officer id")
    with engine.connect() as conn:
        officer_unit = conn.execute(select(officers.c.unit).where(officers.c.id == officer_id)).scalar()
    if officer_unit is None:
        raise RosterError(f"No officer {officer_id!r}.", "unknown")
    if officer_unit != unit:
        raise RosterError(f"Officer {officer_id!r} belongs to {officer_unit!r}, not {unit!r}.", "other_unit")
    count = _map(engine, unit, name, officer_id)
    if not count:
        raise RosterError(f"No response of {unit!r} without an officer id names {name!r}.", "no_responses")
    return count


def _map(engine, unit, name, officer_id) -> int:
    """Fill `officer_id` on `unit`'s responses (and their cases and compliments) whose officer is `name`."""
    with write(engine) as conn:
        lock_unit(conn, unit)
        which = (responses.c.unit == unit, responses.c.officer == name, responses.c.officer_id.is_(None))
        days = list(conn.execute(select(responses.c.local_day).where(*which).distinct()).scalars())
        ids = select(responses.c.id).where(*which)
        for table in (cases, compliments):
            conn.execute(update(table).where(table.c.response_id.in_(ids), table.c.officer_id.is_(None))
                         .values(officer_id=officer_id))
        count = conn.execute(update(responses).where(*which).values(officer_id=officer_id)).rowcount
        recount_day_tallies(conn, unit, days)
    return count
