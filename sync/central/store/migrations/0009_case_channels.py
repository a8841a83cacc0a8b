"""Cases from every channel: a case may have no kiosk response (hotline, email, box, portal, in person),
says its channel, when the citizen spoke (``started_utc``: the rating's time, or the receipt of other
channels, which starts the overdue clock) and its category.

Frozen DDL of commit c800041 (2026-11-29). On SQLite, which cannot drop NOT NULL, ``cases`` is rebuilt
keeping every row and id (case_log refers to them).
"""

from sqlalchemy import text

from . import ddl

#: ``cases`` as this step leaves it on SQLite.
CASES_EVERY_CHANNEL = """
CREATE TABLE cases (
    id INTEGER NOT NULL, response_id INTEGER, local_day VARCHAR(10), unit VARCHAR(64) NOT NULL,
    kiosk_id VARCHAR(64) NOT NULL, officer VARCHAR(80), why VARCHAR(64) NOT NULL, status VARCHAR(16) NOT NULL,
    assignee VARCHAR(64), answer TEXT, opened_utc VARCHAR(24) NOT NULL, updated_utc VARCHAR(24) NOT NULL,
    closed_utc VARCHAR(24), channel VARCHAR(16) DEFAULT 'kiosk' NOT NULL, started_utc VARCHAR(24),
    category VARCHAR(32),
    PRIMARY KEY (id), UNIQUE (response_id), FOREIGN KEY(response_id) REFERENCES responses (id))"""

#: The columns ``cases`` had before this step, copied into the rebuilt table.
CASE_COLUMNS_BEFORE_CHANNELS = ("id, response_id, local_day, unit, kiosk_id, officer, why, status, assignee, answer, "
                                "opened_utc, updated_utc, closed_utc")


def upgrade(conn):
    if conn.dialect.name == "sqlite":
        ddl.run(conn, "PRAGMA defer_foreign_keys = ON",
                "CREATE TEMP TABLE cases_before_channels AS SELECT * FROM cases",
                "DROP TABLE cases", CASES_EVERY_CHANNEL,
                f"INSERT INTO cases ({CASE_COLUMNS_BEFORE_CHANNELS}) "
                f"SELECT {CASE_COLUMNS_BEFORE_CHANNELS} FROM cases_before_channels",
                "DROP TABLE cases_before_channels",
                "CREATE INDEX cases_unit_status ON cases (unit, status)",
                "CREATE INDEX cases_day_unit ON cases (local_day, unit)",
                "CREATE INDEX cases_day ON cases (local_day, id)")
    else:
        conn.execute(text("ALTER TABLE cases ALTER COLUMN response_id DROP NOT NULL"))
        ddl.add_column(conn, "cases", "channel", "VARCHAR(16) DEFAULT 'kiosk' NOT NULL")
        ddl.add_column(conn, "cases", "started_utc", "VARCHAR(24)")
        ddl.add_column(conn, "cases", "category", "VARCHAR(32)")
    ddl.run(conn, "UPDATE cases SET started_utc = (SELECT created_utc FROM responses "
                  "WHERE responses.id = cases.response_id) WHERE response_id IS NOT NULL",
            "CREATE INDEX IF NOT EXISTS cases_unit_channel ON cases (unit, channel)")
