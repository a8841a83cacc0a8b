"""Central's store: SQLite by default, PostgreSQL with DATABASE_URL, through SQLAlchemy Core.

SQLAlchemy Core is the one query layer: the same table definitions and
statements run on both, and its SQLite and psycopg dialects are well kept.
Every write is one transaction (``write``): on SQLite ``BEGIN IMMEDIATE``; on
PostgreSQL a batch also takes its unit's lock (``lock_unit``), so a unit's
batches are stored one after another.
"""

import json
from contextlib import contextmanager
from operator import itemgetter

from sqlalchemy import create_engine, event, exc, text

from kiosk.chain import UUID
from kiosk.paths import owner_only


def engine_for(url: str):
    """An engine for ``sqlite:///path`` or ``postgresql://…`` (psycopg 3).

    Statement parameters (phone numbers, comments) never appear in a log or an
    error message (``hide_parameters``).
    """
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
    if engine.dialect.name == "sqlite":
        _sqlite_setup(engine)
    return engine


def _sqlite_setup(engine):
    @event.listens_for(engine, "do_connect")
    def before_connect(_dialect, _record, _args, _kwargs):
        if engine.url.database and engine.url.database != ":memory:":
            owner_only(engine.url.database)  # the store holds kiosk secrets and the session key

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn):
        immediate = conn.get_execution_options().get("immediate")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def write(engine):
    """One write transaction, committed on success and rolled back on any error."""
    with engine.connect().execution_options(immediate=True) as conn:
        with conn.begin():
            yield conn


def bulk_insert(conn, table, rows: list) -> None:
    """Insert many rows (dicts with the same keys) in one statement: a batch's hot path.

    PostgreSQL: ``COPY … FROM STDIN`` (psycopg's copy); SQLite: the driver's own executemany.
    A value the store refuses raises SQLAlchemy's ``IntegrityError`` or ``DataError`` either way.
    Not for tables with free text a person wrote: a refused COPY row is quoted in the driver's error.
    """
    columns = list(rows[0])
    insert_rows(conn, table, columns,
                list(map(itemgetter(*columns), rows)) if len(columns) > 1 else [(row[columns[0]],) for row in rows])


def insert_rows(conn, table, columns, values: list) -> None:
    """``bulk_insert`` of rows given as tuples of the `columns`' values, in that order."""
    if conn.dialect.name == "postgresql":
        _copy(conn, f"COPY {table.name} ({', '.join(columns)}) FROM STDIN", values)
        return
    conn.exec_driver_sql(
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join(['?'] * len(columns))})", values)


def _copy(conn, statement, values):
    dbapi = conn.dialect.loaded_dbapi
    try:
        with conn.connection.dbapi_connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in values:
                copy.write_row(row)
    except dbapi.Error as error:  # as SQLAlchemy would have raised it for an INSERT
        raise exc.DBAPIError.instance(statement, None, error, dbapi.Error, hide_parameters=True,
                                      dialect=conn.dialect) from error


def new_ids(conn, table, count: int) -> list:
    """``count`` new values of ``table``'s ``id``, in the order the store would have given them to
    ``count`` inserted rows, for the caller to insert in the same transaction.

    SQLite: after the largest id (what SQLite picks for an INTEGER PRIMARY KEY; ``write`` holds the one
    write lock); PostgreSQL: from the column's sequence.
    """
    if conn.dialect.name == "postgresql":  # one array, not a row per id
        key = f"sequence of {table.name}"  # looked up once per connection: per id it costs 7 µs more
        if key not in conn.info:
            conn.info[key] = conn.exec_driver_sql(f"SELECT pg_get_serial_sequence('{table.name}', 'id')").scalar()
        return sorted(conn.exec_driver_sql(
            f"SELECT array_agg(nextval(%(sequence)s::regclass)) FROM generate_series(1, {int(count)})",
            {"sequence": conn.info[key]}).scalar())
    last = conn.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {table.name}").scalar()
    return list(range(last + 1, last + 1 + count))


def any_of(conn, name: str, values: list) -> tuple:
    """A test of a column against many values (whole numbers, or UUIDs as text) as ONE text parameter
    ``name``, whatever their number: ``(sql tail, {name: text})``, e.g.
    ``("= ANY(CAST(:uuids AS text[]))", {"uuids": "{…,…}"})`` on PostgreSQL,
    ``("IN (SELECT value FROM json_each(:uuids))", {"uuids": "[...]"})`` on SQLite.

    Cheaper to send than an ``IN`` list of one parameter each, or a list the driver converts value by
    value; the column's index is used. Raises ValueError for a text that is not a UUID (it could break
    the array's text).
    """
    values = list(values)
    if conn.dialect.name != "postgresql":
        return f"IN (SELECT value FROM json_each(:{name}))", {name: json.dumps(values)}
    if all(type(value) is int for value in values):
        return f"= ANY(CAST(:{name} AS bigint[]))", {name: "{" + ",".join(map(str, values)) + "}"}
    if not all(type(value) is str and UUID.match(value) for value in values):
        raise ValueError("any_of takes whole numbers or UUIDs")
    return f"= ANY(CAST(:{name} AS text[]))", {name: "{" + ",".join(values) + "}"}


def lock_unit(conn, unit: str) -> None:
    """On PostgreSQL, hold the unit's lock until the transaction ends (SQLite has one writer anyway)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:unit))"), {"unit": unit})
