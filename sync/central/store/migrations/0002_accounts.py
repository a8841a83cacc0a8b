"""Staff accounts, login counts and central's own settings (the session key, made here).

The DDL of commit d499f8a (2026-11-28), frozen; 0008 adds the session and lockout columns.
"""

import secrets

from sqlalchemy import text

from . import ddl


def upgrade(conn):
    ddl.run(conn, """
        CREATE TABLE users (
            id {serial} NOT NULL, name VARCHAR(64) NOT NULL, display_name VARCHAR(80) NOT NULL,
            role VARCHAR(16) NOT NULL, unit VARCHAR(64), password_hash VARCHAR(200) NOT NULL,
            created_utc VARCHAR(24) NOT NULL,
            PRIMARY KEY (id), UNIQUE (name))""", """
        CREATE TABLE login_attempts (
            key VARCHAR(120) NOT NULL, failures INTEGER NOT NULL, locked_until VARCHAR(24),
            PRIMARY KEY (key))""", """
        CREATE TABLE settings (
            key VARCHAR(64) NOT NULL, value TEXT NOT NULL,
            PRIMARY KEY (key))""")
    conn.execute(text("INSERT INTO settings (key, value) VALUES ('secret_key', :value)"),
                 {"value": secrets.token_hex(32)})
