"""The roster (issue 13): units, their counters and officers with stable ids; a login's roster entry;
the officer and counter ids on responses, cases and compliments (null for rows stored before).

Old rows are given an officer id where their officer's name (NFC) is the display name of exactly one
active officer of the same unit. A store upgraded here has no roster yet, so this finds nothing then;
``central officer match --apply`` does the same once the roster is filled (see ``store.roster``).
"""

from sqlalchemy import text

from . import ddl

ROSTER_DDL = (
    "CREATE TABLE units (code VARCHAR(64) NOT NULL, name VARCHAR(120) NOT NULL, "
    "created_utc VARCHAR(24) NOT NULL, retired_utc VARCHAR(24), PRIMARY KEY (code))",
    "CREATE TABLE counters (id VARCHAR(36) NOT NULL, unit VARCHAR(64) NOT NULL, name VARCHAR(80) NOT NULL, "
    "active SMALLINT DEFAULT 1 NOT NULL, created_utc VARCHAR(24) NOT NULL, retired_utc VARCHAR(24), "
    "PRIMARY KEY (id))",
    "CREATE INDEX counters_unit ON counters (unit, active)",
    "CREATE TABLE officers (id VARCHAR(36) NOT NULL, unit VARCHAR(64) NOT NULL, "
    "display_name VARCHAR(80) NOT NULL, active SMALLINT DEFAULT 1 NOT NULL, created_utc VARCHAR(24) NOT NULL, "
    "retired_utc VARCHAR(24), PRIMARY KEY (id))",
    "CREATE INDEX officers_unit ON officers (unit, active)",
)

#: Each table given the ids, and the index its officer's scoped reads use.
ID_COLUMNS = (("responses", "CREATE INDEX responses_officer_id ON responses (officer_id, local_day)"),
              ("cases", "CREATE INDEX cases_officer_id_queue ON cases "
                        "(officer_id, status, local_day, started_utc, id, why, reasons)"),
              ("compliments", "CREATE INDEX compliments_officer_id_started ON compliments (officer_id, started_utc)"))

#: An old row's officer id: the one active officer of its unit whose display name is its officer's name.
MATCH = ("UPDATE {table} SET officer_id = (SELECT min(o.id) FROM officers AS o WHERE o.unit = {table}.unit "
         "AND o.display_name = {table}.officer AND o.active = 1) "
         "WHERE officer_id IS NULL AND officer IS NOT NULL AND 1 = (SELECT count(*) FROM officers AS o "
         "WHERE o.unit = {table}.unit AND o.display_name = {table}.officer AND o.active = 1)")


def upgrade(conn):
    ddl.run(conn, *ROSTER_DDL)
    ddl.add_column(conn, "users", "officer_id", "VARCHAR(36)")
    for table, index in ID_COLUMNS:
        ddl.add_column(conn, table, "officer_id", "VARCHAR(36)")
        ddl.add_column(conn, table, "counter_id", "VARCHAR(36)")
        conn.execute(text(index))
        conn.execute(text(MATCH.format(table=table)))
