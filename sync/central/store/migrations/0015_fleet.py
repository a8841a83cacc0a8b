"""Kiosk fleet management (issue 13): published questionnaires (every version kept), central's overrides of
kiosk settings, and each kiosk's latest health report."""

from . import ddl


def upgrade(conn):
    ddl.run(conn,
            "CREATE TABLE questionnaires (id {serial} NOT NULL, version VARCHAR(64) NOT NULL, unit VARCHAR(64), "
            "source TEXT NOT NULL, sha256 VARCHAR(64) NOT NULL, published_utc VARCHAR(24) NOT NULL, "
            "published_by VARCHAR(64) NOT NULL, PRIMARY KEY (id))",
            "CREATE INDEX questionnaires_unit ON questionnaires (unit, id)",
            "CREATE TABLE kiosk_setting_overrides (name VARCHAR(64) NOT NULL, unit VARCHAR(64) NOT NULL, "
            "value VARCHAR(200) NOT NULL, set_by VARCHAR(64) NOT NULL, set_utc VARCHAR(24) NOT NULL, "
            "PRIMARY KEY (name, unit))",
            "CREATE TABLE kiosk_health (kiosk_id VARCHAR(64) NOT NULL, install_id VARCHAR(36), "
            "received_utc VARCHAR(24) NOT NULL, software_version VARCHAR(40), questionnaire_version VARCHAR(64), "
            "config_version VARCHAR(64), pending INTEGER, oldest_pending_age_s INTEGER, clock_utc VARCHAR(32), "
            "clock_offset_s INTEGER, free_disk_bytes BIGINT, last_error VARCHAR(500), last_error_utc VARCHAR(32), "
            "PRIMARY KEY (kiosk_id))")
