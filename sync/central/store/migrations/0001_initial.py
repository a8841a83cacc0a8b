"""Kiosks, their responses (with the erasable private part), quarantine, integrity events, API tokens.

The DDL SQLAlchemy made for these tables on 2026-11-28 (commit 5dc58ed), frozen.
"""

from . import ddl


def upgrade(conn):
    ddl.run(conn, """
        CREATE TABLE kiosks (
            kiosk_id VARCHAR(64) NOT NULL, unit VARCHAR(64) NOT NULL, secret VARCHAR(64) NOT NULL,
            created_utc VARCHAR(24) NOT NULL, last_batch_utc VARCHAR(24),
            PRIMARY KEY (kiosk_id))""", """
        CREATE TABLE responses (
            id {serial} NOT NULL, uuid VARCHAR(36) NOT NULL, kiosk_id VARCHAR(64) NOT NULL,
            unit VARCHAR(64) NOT NULL, seq INTEGER NOT NULL, local_day VARCHAR(10) NOT NULL,
            started_utc VARCHAR(24) NOT NULL, created_utc VARCHAR(24) NOT NULL,
            utc_offset_minutes INTEGER NOT NULL, received_utc VARCHAR(24) NOT NULL,
            questionnaire_version VARCHAR(64) NOT NULL, counter VARCHAR(20), officer VARCHAR(80),
            dossier_code VARCHAR(64), answers TEXT NOT NULL, reasons TEXT NOT NULL, complete SMALLINT NOT NULL,
            flags TEXT NOT NULL, comment_hash VARCHAR(64), contact_hash VARCHAR(64),
            prev_hash VARCHAR(64) NOT NULL, hash VARCHAR(64) NOT NULL, batch_id VARCHAR(36) NOT NULL,
            PRIMARY KEY (id), CONSTRAINT responses_kiosk_seq UNIQUE (kiosk_id, seq), UNIQUE (uuid),
            FOREIGN KEY(kiosk_id) REFERENCES kiosks (kiosk_id))""",
            "CREATE INDEX responses_day_unit ON responses (local_day, unit)", """
        CREATE TABLE response_private (
            response_id INTEGER NOT NULL, comment TEXT, comment_salt VARCHAR(32),
            phone VARCHAR(16), phone_salt VARCHAR(32), consent_utc VARCHAR(24), erased_utc VARCHAR(24),
            PRIMARY KEY (response_id), FOREIGN KEY(response_id) REFERENCES responses (id))""", """
        CREATE TABLE quarantine (
            id {serial} NOT NULL, kiosk_id VARCHAR(64) NOT NULL, batch_id VARCHAR(36) NOT NULL,
            seq INTEGER, uuid VARCHAR(36), reason TEXT NOT NULL, payload TEXT NOT NULL,
            received_utc VARCHAR(24) NOT NULL,
            PRIMARY KEY (id))""", """
        CREATE TABLE integrity_events (
            id {serial} NOT NULL, kiosk_id VARCHAR(64) NOT NULL, kind VARCHAR(32) NOT NULL, seq INTEGER,
            detail TEXT NOT NULL, recorded_utc VARCHAR(24) NOT NULL,
            PRIMARY KEY (id))""",
            "CREATE INDEX integrity_kiosk ON integrity_events (kiosk_id)", """
        CREATE TABLE api_tokens (
            id {serial} NOT NULL, name VARCHAR(64) NOT NULL, token_hash VARCHAR(64) NOT NULL,
            created_utc VARCHAR(24) NOT NULL,
            PRIMARY KEY (id), UNIQUE (name), UNIQUE (token_hash))""")
