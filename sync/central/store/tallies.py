"""Day tallies: a unit's, a kiosk's, a counter's and an officer's facts per day, kept at ingest."""

import json
from collections import Counter
from operator import itemgetter

from sqlalchemy import bindparam, select

from kiosk import indices
from kiosk.text import nfc

from .schema import day_tallies, responses, unit_day_tallies


# --- day tallies: what the summaries add up ----------------------------------------

#: The response columns a tally needs.
TALLIED = (responses.c.local_day, responses.c.unit, responses.c.kiosk_id, responses.c.counter,
           responses.c.officer, responses.c.dossier_code, responses.c.answers, responses.c.reasons,
           responses.c.flags, responses.c.comment_hash)


def decoded(row) -> dict:
    """A stored response row as ``kiosk.indices`` takes it."""
    return {**row, "answers": json.loads(row["answers"]), "reasons": json.loads(row["reasons"]),
            "flags": json.loads(row["flags"]), "has_comment": row["comment_hash"] is not None}


#: Each grain: its table and the columns that key a tally.
GRAINS = [(table, tuple(c.name for c in table.columns if c.name not in ("id", "tally")))
          for table in (day_tallies, unit_day_tallies)]
assert all(key_columns[-1] == "flagged" for _table, key_columns in GRAINS)


def add_tallies(conn, new_responses) -> None:
    """Add responses (decoded, with local_day and unit) to their day tallies, in the caller's transaction.

    Each response's facts are listed once and counted per tally key in one pass
    per grain. A tally is read, added to and written back: safe because a unit's
    batches are stored one after another (see ``lock_unit``).
    """
    listed = [(response, indices.facts(response), int(bool(response["flags"]))) for response in new_responses]
    for table, key_columns in GRAINS:
        names = itemgetter(*key_columns[:-1])  # then "flagged" (see schema._tally_table)
        by_key = {}
        for response, facts, flagged in listed:
            key = (*names(response), flagged)
            if None in key:
                key = tuple("" if value is None else value for value in key)
            by_key.setdefault(key, []).extend(facts)
        if by_key:
            _add_to(conn, table, key_columns, {key: Counter(facts) for key, facts in by_key.items()})


def _add_to(conn, table, key_columns, added):
    columns = [table.c[name] for name in key_columns]
    stored = conn.execute(select(table.c.id, table.c.tally, *columns).where(
        *[column.in_({key[i] for key in added}) for i, column in enumerate(columns)])).all()
    changed = []
    for row in stored:
        key = tuple(row[2:])
        if key in added:
            facts = indices.tally_from_json(row.tally)
            facts.update(added.pop(key))
            changed.append({"row_id": row.id, "tally": indices.tally_json(facts)})
    if changed:
        conn.execute(table.update().where(table.c.id == bindparam("row_id")).values(tally=bindparam("tally")),
                     changed)
    if added:
        conn.execute(table.insert(), [{**dict(zip(key_columns, key, strict=True)), "tally": indices.tally_json(facts)}
                                      for key, facts in added.items()])


def tallies_between(engine, start: str, end: str, unit=None, kiosk=None, officer=None, detail=False) -> list:
    """Day tallies from day `start` to day `end` inclusive (Asia/Ho_Chi_Minh), with their keys.

    Per unit unless a kiosk, an officer, or ``detail`` (counters and officers) is asked for.
    """
    table = day_tallies if detail or kiosk or officer else unit_day_tallies
    query = select(table).where(table.c.local_day >= start, table.c.local_day <= end)
    for name, value in (("unit", nfc(unit)), ("kiosk_id", kiosk), ("officer", nfc(officer))):
        if value:
            query = query.where(table.c[name] == value)
    with engine.connect() as conn:
        return [{**row, "flagged": bool(row["flagged"]), "tally": json.loads(row["tally"])}
                for row in conn.execute(query).mappings()]
