"""Day tallies at two grains (per kiosk, counter and officer; per unit), built from every stored response.

The DDL of commit 9d8777a (2026-11-28), frozen. The tally of a response and its stored form are copied
here from ``kiosk.indices.tally`` as it was when this step was frozen, and stored in the frozen form of
``tally_form``, so what this step writes never follows later changes of the application; a change of
the stored form needs a step of its own.
"""

import json
from collections import Counter

from sqlalchemy import text

from . import ddl, tally_form

#: Responses read at a time.
BACKFILL_CHUNK = 20_000

#: Each grain: its table and the columns that key a tally.
GRAINS = (("day_tallies", ("local_day", "unit", "kiosk_id", "counter", "officer", "flagged")),
          ("unit_day_tallies", ("local_day", "unit", "flagged")))


def upgrade(conn):
    ddl.run(conn, """
        CREATE TABLE day_tallies (
            id {serial} NOT NULL, local_day VARCHAR(10) NOT NULL, unit VARCHAR(64) NOT NULL,
            kiosk_id VARCHAR(64) NOT NULL, counter VARCHAR(20) NOT NULL, officer VARCHAR(80) NOT NULL,
            flagged SMALLINT NOT NULL, tally TEXT NOT NULL,
            PRIMARY KEY (id),
            CONSTRAINT day_tallies_key UNIQUE (local_day, unit, kiosk_id, counter, officer, flagged))""",
            "CREATE INDEX day_tallies_day_unit ON day_tallies (local_day, unit)", """
        CREATE TABLE unit_day_tallies (
            id {serial} NOT NULL, local_day VARCHAR(10) NOT NULL, unit VARCHAR(64) NOT NULL,
            flagged SMALLINT NOT NULL, tally TEXT NOT NULL,
            PRIMARY KEY (id), CONSTRAINT unit_day_tallies_key UNIQUE (local_day, unit, flagged))""")
    last = 0
    while True:
        rows = conn.execute(text(
            "SELECT id, local_day, unit, kiosk_id, counter, officer, dossier_code, answers, reasons, flags, "
            "comment_hash FROM responses WHERE id > :last ORDER BY id LIMIT :chunk"),
            {"last": last, "chunk": BACKFILL_CHUNK}).mappings().all()
        if not rows:
            return
        counted = [(row, _tally(row)) for row in rows]
        for table, keys in GRAINS:
            added = {}
            for row, facts in counted:
                key = tuple(int(bool(json.loads(row["flags"]))) if name == "flagged" else row[name] or ""
                            for name in keys)
                added.setdefault(key, Counter()).update(facts)
            _add(conn, table, keys, added)
        last = rows[-1]["id"]


def _add(conn, table, keys, added):
    """Add each key's facts to its stored tally, or store a new one (the stored ones read in one query)."""
    days = sorted({key[0] for key in added})
    stored = {tuple(row[1:-1]): row for row in conn.execute(text(
        f"SELECT id, {', '.join(keys)}, tally FROM {table} WHERE local_day BETWEEN :first AND :last"),
        {"first": days[0], "last": days[-1]})}
    changed, new = [], []
    for key, facts in added.items():
        row = stored.get(key)
        if row is None:
            new.append({**dict(zip(keys, key, strict=True)), "tally": tally_form.to_json(facts)})
        else:
            changed.append({"id": row.id, "tally": tally_form.to_json(facts + tally_form.from_json(row.tally))})
    if changed:
        conn.execute(text(f"UPDATE {table} SET tally = :tally WHERE id = :id"), changed)
    if new:
        conn.execute(text(f"INSERT INTO {table} ({', '.join(keys)}, tally) "
                          f"VALUES ({', '.join(':' + name for name in keys)}, :tally)"), new)


def _rating(value):
    return type(value) is int and value in (1, 2, 3, 4, 5)


def _tally(row) -> Counter:
    """The countable facts of one stored response, each (kind, item, value) with a count."""
    answers, reasons, flags = json.loads(row["answers"]), json.loads(row["reasons"]), json.loads(row["flags"])
    facts = Counter()
    if flags:
        facts["flagged", "", ""] += 1
        facts.update(("flag", name, "") for name in flags)
    if not _rating(answers.get("overall")):
        facts["without_overall", "", ""] += 1
        return facts
    facts["responses", "", ""] += 1
    for key, value in answers.items():
        if _rating(value):
            facts["rating", key, value] += 1
        elif value == "na":
            facts["not_applicable", key, ""] += 1
        elif isinstance(value, str):
            facts["choice", key, value] += 1
    facts.update(("reason", code, "") for code in reasons or [])
    if row["dossier_code"]:
        facts["dossier", row["dossier_code"], ""] += 1
        if any(_rating(v) and v in (1, 2) for v in answers.values()) or reasons or row["comment_hash"] is not None:
            facts["dossier_unhappy", row["dossier_code"], ""] += 1
    return facts

