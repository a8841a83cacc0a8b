"""Cases for complaints and their log; every stored response with a comment, a rating of 1 or 2, or extra
demands opens one.

The DDL of commit 90ddaf6 (2026-11-28), frozen (0005 adds the case's day). The rule that opens a case is
copied here as it was (see sync.central.cases.why): this step's result never follows later changes.
"""

import json

from sqlalchemy import text

from . import ddl

#: Responses read at a time.
CHUNK = 20_000


def upgrade(conn):
    ddl.run(conn, """
        CREATE TABLE cases (
            id {serial} NOT NULL, response_id INTEGER NOT NULL, unit VARCHAR(64) NOT NULL,
            kiosk_id VARCHAR(64) NOT NULL, officer VARCHAR(80), why VARCHAR(64) NOT NULL,
            status VARCHAR(16) NOT NULL, assignee VARCHAR(64), answer TEXT,
            opened_utc VARCHAR(24) NOT NULL, updated_utc VARCHAR(24) NOT NULL, closed_utc VARCHAR(24),
            PRIMARY KEY (id), UNIQUE (response_id), FOREIGN KEY(response_id) REFERENCES responses (id))""",
            "CREATE INDEX cases_unit_status ON cases (unit, status)", """
        CREATE TABLE case_log (
            id {serial} NOT NULL, case_id INTEGER NOT NULL, user_name VARCHAR(64) NOT NULL,
            at_utc VARCHAR(24) NOT NULL, action VARCHAR(32) NOT NULL, detail TEXT,
            PRIMARY KEY (id), FOREIGN KEY(case_id) REFERENCES cases (id))""")
    last = 0
    while True:
        rows = conn.execute(text(
            "SELECT id, unit, kiosk_id, officer, answers, comment_hash, received_utc FROM responses "
            "WHERE id > :last ORDER BY id LIMIT :chunk"), {"last": last, "chunk": CHUNK}).mappings().all()
        if not rows:
            return
        opened = [case for case in map(_case, rows) if case]
        if opened:
            conn.execute(text(
                "INSERT INTO cases (response_id, unit, kiosk_id, officer, why, status, opened_utc, updated_utc) "
                "VALUES (:response_id, :unit, :kiosk_id, :officer, :why, 'new', :opened_utc, :opened_utc)"), opened)
        last = rows[-1]["id"]


def _case(row):
    """The case a stored response opens, or None."""
    answers, why = json.loads(row["answers"]), []
    if row["comment_hash"] is not None:
        why.append("comment")
    if any(type(value) is int and value in (1, 2) for value in answers.values()):
        why.append("low_rating")
    if answers.get("extra_request") == "yes":
        why.append("extra_request")
    if not why:
        return None
    return {"response_id": row["id"], "unit": row["unit"], "kiosk_id": row["kiosk_id"], "officer": row["officer"],
            "why": ",".join(why), "opened_utc": row["received_utc"]}
