"""Central's numbered migrations, applied in order by ``central init``: one module a step, frozen once applied.

Each step is a module of this package named like its record in ``schema_migrations`` (``0003_cases.py``)
holding ``upgrade(conn)``. The runner calls it inside one write transaction, together with the row that
records it, so a step is applied whole or not at all, once. A store at any step continues from there.

A step states its own DDL, as literal SQL valid on SQLite and PostgreSQL, and never reads today's table
definitions (``store/schema.py``) or calls application code: what it does cannot change when the
application does. A data back-fill is done by SQL or by helpers copied into the step's own module, or
into a helper module here that steps share (``ddl``, ``tally_form``): those are frozen too, never
changed in a way that changes what an applied step does.

Steps written before this rule (0001..0009) were rewritten to the DDL each one made on the day it was
added; they tolerate a store whose earlier steps made more (columns or indexes already there).

Why literal SQL rather than Alembic's ``Operations``: the text is fixed by construction, whereas DDL that
a library generates may change with its version; it is what SQLAlchemy made for the existing stores, so
old and new stores reflect alike; and it reads the same on both databases but for ``{serial}``. A step
that must rebuild a SQLite table (SQLite cannot drop a constraint) does so in SQL, as 0006 and 0009 do.

Adding a step (the only way to change central's tables):

1. Create ``NNNN_what.py`` here, NNNN one more than the last step, with::

       \"\"\"What the step is for.\"\"\"

       from sqlalchemy import text


       def upgrade(conn):
           conn.execute(text("ALTER TABLE kiosks ADD COLUMN place VARCHAR(80)"))
           conn.execute(text("CREATE INDEX kiosks_place ON kiosks (place)"))

   Use VARCHAR(n), INTEGER, SMALLINT and TEXT. A new table with an autoincrement id is written with
   ``ddl.run(conn, "CREATE TABLE t (id {serial} NOT NULL, ..., PRIMARY KEY (id))")`` (``{serial}`` is
   INTEGER on SQLite, SERIAL on PostgreSQL, as SQLAlchemy makes them).
2. Append its name to ``STEPS`` below. Never edit, rename or reorder a step that has been applied.
3. Make ``store/schema.py`` say the same; ``tests/test_migrations.py`` fails until both agree
   (columns, types, nullability, defaults, indexes, unique constraints, foreign keys). Its history test
   then also builds a store at the new step; if rows valid from that step on need the new columns, or
   the step derives data, extend ``fill_as_stored_at`` there.
"""

from importlib import import_module

from sqlalchemy import text

from kiosk.clock import now_utc, utc_iso

from ..database import write

#: The steps in the order they are applied; each is the module of that name in this package.
STEPS = ("0001_initial", "0002_accounts", "0003_cases", "0004_day_tallies", "0005_case_days", "0006_installs",
         "0007_quarantine_erasure", "0008_sessions_lockout", "0009_case_channels", "0010_pakn_channels",
         "0011_case_queue", "0012_unit_day_facts", "0013_summary_alerts", "0014_roster", "0015_fleet",
         "0016_case_reasons", "0017_day_facts")

#: (name, upgrade function) in order; applied in order by ``migrate``.
MIGRATIONS = [(name, import_module(f"{__name__}.{name}").upgrade) for name in STEPS]

#: The record of applied steps, as 0001 has always made it.
_SCHEMA_MIGRATIONS = ("CREATE TABLE IF NOT EXISTS schema_migrations (name VARCHAR(64) NOT NULL, "
                      "applied_utc VARCHAR(24) NOT NULL, PRIMARY KEY (name))")


def migrate(engine, upto: str | None = None) -> list:
    """Apply the pending steps in order, each in its own transaction; returns their names.

    With ``upto`` (a step's name), stop after that step (a store as that step left it: for tests).
    A step that raises is rolled back whole and stops the run; the steps before it stay applied.
    """
    with write(engine) as conn:
        conn.execute(text(_SCHEMA_MIGRATIONS))
        done = _applied(conn)
    applied = []
    for name, upgrade in MIGRATIONS:
        if name not in done:
            with write(engine) as conn:
                upgrade(conn)
                conn.execute(text("INSERT INTO schema_migrations (name, applied_utc) VALUES (:name, :at)"),
                             {"name": name, "at": utc_iso(now_utc())})
            applied.append(name)
        if name == upto:
            break
    return applied


def pending_migrations(engine) -> list:
    """Names of the steps not yet applied to the store at `engine`, in order (all of them for an empty store)."""
    with engine.connect() as conn:
        if not engine.dialect.has_table(conn, "schema_migrations"):
            return [name for name, _ in MIGRATIONS]
        done = _applied(conn)
    return [name for name, _ in MIGRATIONS if name not in done]


def _applied(conn) -> set:
    return set(conn.execute(text("SELECT name FROM schema_migrations")).scalars())
