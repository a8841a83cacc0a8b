"""Sessions that can be ended (a version per user, a disabled mark) and login counts per
sync.central.logins; counts under the old keys (user:, ip:) mean nothing now and are dropped.

Frozen DDL of commit 8fdcd27 (2026-11-29); the columns may already be there in a store whose 0002 made
its tables from the definitions of its day.
"""

from sqlalchemy import text

from . import ddl


def upgrade(conn):
    ddl.add_column(conn, "users", "session_version", "INTEGER NOT NULL DEFAULT 1")
    ddl.add_column(conn, "users", "disabled_utc", "VARCHAR(24)")
    ddl.add_column(conn, "login_attempts", "last_failure_utc", "VARCHAR(24)")
    conn.execute(text("DELETE FROM login_attempts"))
