"""Small helpers for migration steps: literal DDL on SQLite and PostgreSQL, and what a store already has.

Only steps use these; they take SQL text and names, never today's table definitions.
"""

from sqlalchemy import inspect, text

#: ``{serial}`` in a step's DDL: an autoincrement integer id, as SQLAlchemy makes it on each database.
SERIAL = {"sqlite": "INTEGER", "postgresql": "SERIAL"}


def run(conn, *statements: str) -> None:
    """Execute each DDL statement in order, ``{serial}`` made the database's autoincrement integer type."""
    for statement in statements:
        conn.execute(text(statement.replace("{serial}", SERIAL[conn.dialect.name])))


def column_names(conn, table: str) -> set:
    """The names of `table`'s columns as the store has them now."""
    return {column["name"] for column in inspect(conn).get_columns(table)}


def add_column(conn, table: str, column: str, definition: str) -> None:
    """``ALTER TABLE table ADD COLUMN column definition``, unless a step before made it already.

    Before steps stated their own DDL, early steps created tables from the definitions of the day, so a
    store may hold a column that a later step adds.
    """
    if column not in column_names(conn, table):
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {definition}"))
