"""Each case carries its response's day, so a day's cases are found without reading its responses.

Frozen DDL; the column and indexes may already be there in a store whose 0003 made cases from the
definitions of its day.
"""

from sqlalchemy import text

from . import ddl


def upgrade(conn):
    ddl.add_column(conn, "cases", "local_day", "VARCHAR(10)")
    conn.execute(text("UPDATE cases SET local_day = (SELECT responses.local_day FROM responses "
                      "WHERE responses.id = cases.response_id) WHERE local_day IS NULL"))
    ddl.run(conn, "CREATE INDEX IF NOT EXISTS cases_day_unit ON cases (local_day, unit)",
            "CREATE INDEX IF NOT EXISTS cases_day ON cases (local_day, id)")
