"""The roster (issue 13): units, their counters and officers with stable ids; a login's roster entry;
the officer and counter ids on responses, cases and compliments (null for rows stored before); the
officer's and counter's ids in the key of the day tallies ('' where none), so an officer's figures are
theirs by id, never by a display name two officers may share.

Old rows are given an officer id where their officer's name (NFC) is the display name of exactly one
active officer of the same unit. A store upgraded here has no roster yet, so this finds nothing then
(and the tallies keep '' ids); ``central officer match --apply`` does the same once the roster is filled,
and moves those responses' figures to their officer's tallies (see ``store.roster_match``).
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


#: ``day_tallies`` as this step leaves it on SQLite (which cannot change a constraint: the table is rebuilt).
DAY_TALLIES_WITH_IDS = """
CREATE TABLE day_tallies (
    id INTEGER NOT NULL, local_day VARCHAR(10) NOT NULL, unit VARCHAR(64) NOT NULL,
    kiosk_id VARCHAR(64) NOT NULL, counter VARCHAR(20) NOT NULL, counter_id VARCHAR(36) DEFAULT '' NOT NULL,
    officer VARCHAR(80) NOT NULL, officer_id VARCHAR(36) DEFAULT '' NOT NULL, flagged SMALLINT NOT NULL,
    tally TEXT NOT NULL, PRIMARY KEY (id),
    CONSTRAINT day_tallies_key UNIQUE (local_day, unit, kiosk_id, counter, counter_id, officer, officer_id, flagged))"""

#: The same on PostgreSQL, which changes the constraint in place.
DAY_TALLIES_IDS_POSTGRESQL = (
    "ALTER TABLE day_tallies ADD COLUMN counter_id VARCHAR(36) DEFAULT '' NOT NULL",
    "ALTER TABLE day_tallies ADD COLUMN officer_id VARCHAR(36) DEFAULT '' NOT NULL",
    "ALTER TABLE day_tallies DROP CONSTRAINT day_tallies_key",
    "ALTER TABLE day_tallies ADD CONSTRAINT day_tallies_key "
    "UNIQUE (local_day, unit, kiosk_id, counter, counter_id, officer, officer_id, flagged)",
)


def upgrade(conn):
    ddl.run(conn, *ROSTER_DDL)
    add_ids_to_day_tallies(conn)
    ddl.add_column(conn, "users", "officer_id", "VARCHAR(36)")
    for table, index in ID_COLUMNS:
        ddl.add_column(conn, table, "officer_id", "VARCHAR(36)")
        ddl.add_column(conn, table, "counter_id", "VARCHAR(36)")
        conn.execute(text(index))
        conn.execute(text(MATCH.format(table=table)))


def add_ids_to_day_tallies(conn):
    """The day tallies' key gains counter_id and officer_id ('' for the tallies stored before)."""
    if conn.dialect.name == "sqlite":
        ddl.run(conn, "CREATE TEMP TABLE day_tallies_before_ids AS SELECT * FROM day_tallies",
                "DROP TABLE day_tallies", DAY_TALLIES_WITH_IDS,
                "INSERT INTO day_tallies (id, local_day, unit, kiosk_id, counter, officer, flagged, tally) "
                "SELECT id, local_day, unit, kiosk_id, counter, officer, flagged, tally FROM day_tallies_before_ids",
                "DROP TABLE day_tallies_before_ids",
                "CREATE INDEX day_tallies_day_unit ON day_tallies (local_day, unit)")
    else:
        ddl.run(conn, *DAY_TALLIES_IDS_POSTGRESQL)
