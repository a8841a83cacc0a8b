"""Day tallies: a unit's, a kiosk's, a counter's and an officer's facts per day, kept at ingest."""

import json
from collections import Counter
from operator import itemgetter

from sqlalchemy import bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from kiosk import indices
from kiosk.text import nfc

from .schema import day_facts, day_tallies, responses, unit_day_facts, unit_day_tallies


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


def count_tallies(new_responses) -> dict:
    """The facts of responses (decoded, with local_day and unit) counted per key of the finest grain
    (``day_tallies``: its key columns, "" for a missing value, flagged 0 or 1): ``{key tuple: Counter}``.

    Each answer pattern's facts are listed once (``indices.count_facts``)."""
    (_fine, fine_columns), *_coarser_grains = GRAINS
    names = itemgetter(*fine_columns[:-1])  # then "flagged" (see schema._tally_table)
    grouped = {}
    for response in new_responses:
        grouped.setdefault((*names(response), int(bool(response["flags"]))), []).append(response)
    by_key = {}
    for key, group in grouped.items():
        if None in key:
            key = tuple("" if value is None else value for value in key)
        by_key.setdefault(key, Counter()).update(indices.count_facts(group))
    return by_key


def add_tallies(conn, new_responses, with_facts=True, with_day_facts=True, counted=None) -> None:
    """Add responses (decoded, with local_day and unit) to their day tallies, and (`with_facts`) to
    ``unit_day_facts`` and (`with_day_facts`, for tests of stores before step 0017) ``day_facts``, in the
    caller's transaction.

    The responses' facts are counted per key of the finest grain (``count_tallies``; `counted`: that count,
    when made already, e.g. in the checking worker); the coarser grain and the facts tables add up those counts.
    A tally is read, added to and written back: safe because a unit's batches are stored one after
    another (see ``lock_unit``).
    """
    (fine, fine_columns), *coarser = GRAINS
    by_key = dict(counted) if counted is not None else count_tallies(new_responses)  # (_add_to empties it)
    if not by_key:
        return
    per_unit_day = _coarser(by_key, fine_columns, ("local_day", "unit", "flagged")) if with_facts else None
    added = [(table, key_columns, _coarser(by_key, fine_columns, key_columns)) for table, key_columns in coarser]
    _add_to(conn, fine, fine_columns, by_key)  # (_add_to uses its counts up: the coarser ones are made first)
    for table, key_columns, counts in added:
        _add_to(conn, table, key_columns, counts)
    if with_facts:
        _add_facts(conn, per_unit_day, with_day_facts)


def _coarser(by_key: dict, fine_columns: tuple, key_columns: tuple) -> dict:
    """Counts per key of `key_columns` (a subset of `fine_columns`), added up from counts per fine key;
    keys in the order they first appear."""
    pick = itemgetter(*[fine_columns.index(name) for name in key_columns])
    added = {}
    for key, facts in by_key.items():
        coarse = pick(key)
        if coarse in added:
            added[coarse].update(facts)
        else:
            added[coarse] = Counter(facts)
    return added


#: The key of a unit_day_facts row, in its primary key's order.
FACT_KEY = ("local_day", "flagged", "kind", "item", "value", "unit")


def _add_facts(conn, by_unit_day, every_unit_too=True):
    """Add the facts but the dossier ones to unit_day_facts (one row per day, flagged, fact, unit) and to
    day_facts (the same over every unit); `by_unit_day`: {(local_day, unit, flagged): Counter of facts as
    ``indices.facts`` lists them}."""
    rows = sorted((day, flagged, kind, item, str(value), unit, n)
                  for (day, unit, flagged), facts in by_unit_day.items()
                  for (kind, item, value), n in facts.items() if kind not in indices.DOSSIER_KINDS)
    if not rows:
        return
    tables = [(unit_day_facts, FACT_KEY, rows)]
    if every_unit_too:
        every_unit = Counter()
        for *key, _unit, n in rows:
            every_unit[tuple(key)] += n
        tables.append((day_facts, FACT_KEY[:-1], [(*key, n) for key, n in sorted(every_unit.items())]))
    for table, key, found in tables:
        insert = (postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table)
        conn.execute(insert.on_conflict_do_update(index_elements=list(key), set_={"n": table.c.n + insert.excluded.n}),
                     [{**dict(zip(key, row[:-1], strict=True)), "n": row[-1]} for row in found])


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


#: The counts of a stored tally record without its dossier codes, read by the database itself: the codes
#: are most of a record's bytes (a day's every dossier, so a dossier rated twice counts once) and are not
#: needed for figures per day without the per-dossier rate (the trends).
COUNTS_ONLY = {"sqlite": "json_extract(tally, '$.counts')", "postgresql": "(CAST(tally AS json) -> 'counts')::text"}


def tallies_between(engine, start: str, end: str, unit=None, kiosk=None, officer_id=None, detail=False,
                    counts_only=False) -> list:
    """Day tallies from day `start` to day `end` inclusive (Asia/Ho_Chi_Minh), with their keys:
    dicts of the key columns, ``flagged`` (bool) and ``tally`` (a record, see ``kiosk.indices``).

    Per unit unless a kiosk, an officer (`officer_id`, a roster id; '' keeps none), or ``detail`` (counters
    and officers) is asked for. With
    `counts_only` each record's dossier maps are empty (the database reads only its counts): the figures
    from them are exact but for ``dossiers`` (the per-dossier rate), which they cannot give.
    """
    table = day_tallies if detail or kiosk or officer_id is not None else unit_day_tallies
    tally = literal_column(COUNTS_ONLY[engine.dialect.name]).label("tally") if counts_only else table.c.tally
    query = (select(*[column for column in table.columns if column.name != "tally"], tally)
             .where(table.c.local_day >= start, table.c.local_day <= end))
    for name, value in (("unit", nfc(unit)), ("kiosk_id", kiosk)):
        if value:
            query = query.where(table.c[name] == value)
    if officer_id is not None:
        query = query.where(table.c.officer_id == officer_id)
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    if counts_only:
        return [{**row, "flagged": bool(row["flagged"]), "tally": {"counts": json.loads(row["tally"]),
                                                                  "dossier": {}, "dossier_unhappy": {}}}
                for row in rows]
    return [{**row, "flagged": bool(row["flagged"]), "tally": json.loads(row["tally"])} for row in rows]


def facts_between(engine, start: str, end: str, unit=None) -> list:
    """Every unit's (or `unit`'s) counts per day and flagged-or-not, from day `start` to day `end` inclusive,
    added up by the database from ``unit_day_facts`` (a unit's) or ``day_facts`` (every unit's): dicts of
    ``local_day``, ``flagged`` (bool) and ``tally``, a record without dossier codes (as
    ``tallies_between(..., counts_only=True)`` gives).
    """
    f = (unit_day_facts if unit else day_facts).c  # every unit's: one row per day and fact (0017)
    query = (select(f.local_day, f.flagged, f.kind, f.item, f.value, func.sum(f.n))
             .where(f.local_day >= start, f.local_day <= end)
             .group_by(f.local_day, f.flagged, f.kind, f.item, f.value))
    if unit:
        query = query.where(f.unit == nfc(unit))
    records = {}
    with engine.connect() as conn:
        for day, flagged, kind, item, value, n in conn.execute(query):
            counts = records.setdefault((day, bool(flagged)), [])
            counts.append([kind, item, int(value) if kind == "rating" else value, int(n)])
    return [{"local_day": day, "flagged": flagged, "tally": {"counts": counts, "dossier": {}, "dossier_unhappy": {}}}
            for (day, flagged), counts in records.items()]


def recount_day_tallies(conn, unit: str, days) -> None:
    """Count again the per-kiosk, counter and officer tallies (``day_tallies``) of `unit` on `days` from its
    stored responses, in the caller's transaction (which holds the unit's lock: ``database.lock_unit``).

    For when responses' roster ids were filled in after they were tallied (``store.roster_match``); the
    unit's own tallies and facts do not depend on them and are left as they are.
    """
    table, key_columns = GRAINS[0]
    columns = [responses.c[name] for name in ("local_day", "unit", "kiosk_id", "counter", "counter_id", "officer",
                                              "officer_id", "dossier_code", "answers", "reasons", "flags",
                                              "comment_hash")]
    names = itemgetter(*key_columns[:-1])
    for day in sorted(set(days)):
        conn.execute(table.delete().where(table.c.unit == unit, table.c.local_day == day))
        by_key = {}
        for row in conn.execute(select(*columns).where(responses.c.unit == unit, responses.c.local_day == day)
                                .execution_options(yield_per=5000)).mappings():
            response = decoded(row)
            key = tuple("" if value is None else value for value in (*names(response), int(bool(response["flags"]))))
            by_key.setdefault(key, Counter()).update(indices.facts(response))
        if by_key:
            _add_to(conn, table, key_columns, by_key)
