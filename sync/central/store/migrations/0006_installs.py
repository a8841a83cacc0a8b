"""Chains per (kiosk, install): a sequence number is unique within its install, not its kiosk.

Frozen DDL of commit ee646d5 (2026-11-29). On SQLite, which cannot drop a constraint, ``responses`` is
rebuilt keeping every row and id.
"""

from . import ddl

#: ``responses`` as this step leaves it on SQLite.
RESPONSES_WITH_INSTALL = """
CREATE TABLE responses (
    id INTEGER NOT NULL, uuid VARCHAR(36) NOT NULL, kiosk_id VARCHAR(64) NOT NULL,
    unit VARCHAR(64) NOT NULL, seq INTEGER NOT NULL, local_day VARCHAR(10) NOT NULL,
    started_utc VARCHAR(24) NOT NULL, created_utc VARCHAR(24) NOT NULL,
    utc_offset_minutes INTEGER NOT NULL, received_utc VARCHAR(24) NOT NULL,
    questionnaire_version VARCHAR(64) NOT NULL, counter VARCHAR(20), officer VARCHAR(80),
    dossier_code VARCHAR(64), answers TEXT NOT NULL, reasons TEXT NOT NULL, complete SMALLINT NOT NULL,
    flags TEXT NOT NULL, comment_hash VARCHAR(64), contact_hash VARCHAR(64), prev_hash VARCHAR(64) NOT NULL,
    hash VARCHAR(64) NOT NULL, batch_id VARCHAR(36) NOT NULL, install_id VARCHAR(36) DEFAULT '' NOT NULL,
    PRIMARY KEY (id), CONSTRAINT responses_chain_seq UNIQUE (kiosk_id, install_id, seq), UNIQUE (uuid),
    FOREIGN KEY(kiosk_id) REFERENCES kiosks (kiosk_id))"""


def upgrade(conn):
    if "install_id" not in ddl.column_names(conn, "responses"):  # stores made before install ids
        if conn.dialect.name == "sqlite":
            _rebuild_responses_on_sqlite(conn)
        else:
            ddl.run(conn, "ALTER TABLE responses ADD COLUMN install_id VARCHAR(36) DEFAULT '' NOT NULL",
                    "ALTER TABLE responses DROP CONSTRAINT responses_kiosk_seq",
                    "ALTER TABLE responses ADD CONSTRAINT responses_chain_seq UNIQUE (kiosk_id, install_id, seq)")
    for table in ("quarantine", "integrity_events"):
        ddl.add_column(conn, table, "install_id", "VARCHAR(36)")
    ddl.run(conn, """
        CREATE TABLE installs (
            kiosk_id VARCHAR(64) NOT NULL, install_id VARCHAR(36) NOT NULL, parent_id VARCHAR(36),
            from_seq INTEGER NOT NULL, first_seen_utc VARCHAR(24) NOT NULL,
            last_batch_utc VARCHAR(24) NOT NULL, head_seq INTEGER, concurrent_with VARCHAR(36),
            PRIMARY KEY (kiosk_id, install_id))""",
            "INSERT INTO installs (kiosk_id, install_id, from_seq, first_seen_utc, last_batch_utc) "
            "SELECT kiosk_id, '', 1, min(received_utc), max(received_utc) FROM responses GROUP BY kiosk_id")


def _rebuild_responses_on_sqlite(conn):
    """Foreign keys (cases, response_private) are checked at commit, after the rows are back."""
    names = ", ".join(sorted(ddl.column_names(conn, "responses")))
    ddl.run(conn, "PRAGMA defer_foreign_keys = ON",
            "CREATE TEMP TABLE responses_before_installs AS SELECT * FROM responses",
            "DROP TABLE responses", RESPONSES_WITH_INSTALL,
            f"INSERT INTO responses ({names}) SELECT {names} FROM responses_before_installs",
            "DROP TABLE responses_before_installs",
            "CREATE INDEX responses_day_unit ON responses (local_day, unit)")
