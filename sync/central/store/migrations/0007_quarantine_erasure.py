"""Quarantined phones can be erased; central's erasures wait for their kiosk; every name in NFC.

Frozen DDL of commit 73cc890 (2026-11-29). Names stored in another spelling are rewritten in Unicode
NFC; two day tallies whose keys become the same are added into one (read and written in the frozen
form of ``tally_form``, not through application code).
"""

import unicodedata

from sqlalchemy import text

from . import ddl, tally_form

#: Name columns stored in NFC from here on: (table, columns).
NAME_COLUMNS = (("kiosks", ("unit",)), ("users", ("name", "display_name", "unit")),
                ("responses", ("unit", "counter", "officer")), ("cases", ("unit", "officer", "assignee")),
                ("case_log", ("user_name",)), ("api_tokens", ("name",)))

#: Each tally table: the columns that key a tally, and those that hold names.
TALLY_KEYS = (("day_tallies", ("local_day", "unit", "kiosk_id", "counter", "officer", "flagged"),
               ("unit", "counter", "officer")),
              ("unit_day_tallies", ("local_day", "unit", "flagged"), ("unit",)))


def upgrade(conn):
    ddl.add_column(conn, "quarantine", "erased_utc", "VARCHAR(24)")
    ddl.run(conn, """
        CREATE TABLE erasure_notices (
            id {serial} NOT NULL, kiosk_id VARCHAR(64) NOT NULL, uuid VARCHAR(36) NOT NULL,
            erased_utc VARCHAR(24) NOT NULL, times_sent INTEGER NOT NULL,
            PRIMARY KEY (id))""",
            "CREATE INDEX erasure_notices_kiosk ON erasure_notices (kiosk_id, times_sent)")
    for table, columns in NAME_COLUMNS:
        for column in columns:
            for old in _not_nfc(conn, table, column):
                conn.execute(text(f"UPDATE {table} SET {column} = :new WHERE {column} = :old"),
                             {"new": _nfc(old), "old": old})
    for table, keys, names in TALLY_KEYS:
        for name in names:
            for old in _not_nfc(conn, table, name):
                _rekey(conn, table, keys, names, name, old)


def _nfc(value):
    return unicodedata.normalize("NFC", value)


def _not_nfc(conn, table, column):
    return [v for v in conn.execute(text(f"SELECT DISTINCT {column} FROM {table}")).scalars()
            if v is not None and _nfc(v) != v]


def _rekey(conn, table, keys, names, name, old):
    """Re-key the tallies stored under `old` in column `name`; two that now share a key are added into one."""
    rows = conn.execute(text(f"SELECT id, tally, {', '.join(keys)} FROM {table} WHERE {name} = :old"),
                        {"old": old}).mappings().all()
    for row in rows:
        key = {k: _nfc(row[k]) if k in names else row[k] for k in keys}
        same = conn.execute(text(f"SELECT id, tally FROM {table} WHERE "
                                 + " AND ".join(f"{k} = :{k}" for k in keys)), key).first()
        if same is None:
            conn.execute(text(f"UPDATE {table} SET {', '.join(f'{n} = :{n}' for n in names)} WHERE id = :id"),
                         {**{n: key[n] for n in names}, "id": row["id"]})
            continue
        conn.execute(text(f"UPDATE {table} SET tally = :tally WHERE id = :id"),
                     {"tally": tally_form.to_json(tally_form.from_json(same.tally)
                                                  + tally_form.from_json(row["tally"])), "id": same.id})
        conn.execute(text(f"DELETE FROM {table} WHERE id = :id"), {"id": row["id"]})

