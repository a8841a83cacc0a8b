"""Per-unit targets for the summary, alert episodes and an email address for staff (issue 12)."""

from . import ddl


def upgrade(conn):
    ddl.add_column(conn, "users", "email", "VARCHAR(254)")
    ddl.run(conn,
            "CREATE TABLE unit_targets (unit VARCHAR(64) NOT NULL, target_pct SMALLINT NOT NULL, "
            "set_by VARCHAR(64) NOT NULL, set_utc VARCHAR(24) NOT NULL, PRIMARY KEY (unit))",
            "CREATE TABLE alerts (id {serial} NOT NULL, unit VARCHAR(64) NOT NULL, cause VARCHAR(32) NOT NULL, "
            "detail TEXT NOT NULL, opened_utc VARCHAR(24) NOT NULL, emailed_utc VARCHAR(24), "
            "ack_user VARCHAR(64), ack_utc VARCHAR(24), ack_comment TEXT, PRIMARY KEY (id))",
            "CREATE INDEX alerts_unit_open ON alerts (unit, ack_utc)")
