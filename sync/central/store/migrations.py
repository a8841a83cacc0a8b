"""Central's numbered migrations, applied in order by `central init`."""

import json
import secrets

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, inspect, select, text

from kiosk import indices
from kiosk.clock import now_utc, utc_iso
from kiosk.text import nfc

from ..cases import case_rows
from .database import write
from .schema import (api_tokens, case_log, cases, day_tallies, integrity_events, kiosks, login_attempts, metadata,
                     quarantine, response_private, responses, schema_migrations, settings, unit_day_tallies, users)
from .tallies import TALLIED, add_tallies, decoded


def _create_v1(conn):
    metadata.create_all(conn, tables=[kiosks, responses, response_private, quarantine,
                                      integrity_events, api_tokens])


def _accounts(conn):
    metadata.create_all(conn, tables=[users, login_attempts, settings])
    conn.execute(settings.insert().values(key="secret_key", value=secrets.token_hex(32)))


def _cases(conn):
    """Cases for complaints: every response with a comment, a rating of 1 or 2, or extra demands."""
    metadata.create_all(conn, tables=[cases, case_log])
    rows = conn.execute(select(responses.c.id, responses.c.local_day, responses.c.unit, responses.c.kiosk_id,
                               responses.c.officer, responses.c.answers, responses.c.comment_hash,
                               responses.c.created_utc, responses.c.received_utc)).mappings()
    made = case_rows([{**row, "answers": json.loads(row["answers"])} for row in rows])
    if made:
        conn.execute(cases.insert(), made)


#: Responses read at a time while building tallies for a store that has them.
BACKFILL_CHUNK = 20_000


def _day_tallies(conn):
    """Day tallies, at both grains, from every stored response."""
    metadata.create_all(conn, tables=[day_tallies, unit_day_tallies])
    last = 0
    while True:
        rows = conn.execute(select(responses.c.id, *TALLIED).where(responses.c.id > last)
                            .order_by(responses.c.id).limit(BACKFILL_CHUNK)).mappings().all()
        if not rows:
            return
        add_tallies(conn, [decoded(row) for row in rows])
        last = rows[-1]["id"]


def _case_days(conn):
    """Each case carries its response's day, so a day's cases are found without reading its responses."""
    if "local_day" not in {column["name"] for column in inspect(conn).get_columns("cases")}:
        conn.execute(text("ALTER TABLE cases ADD COLUMN local_day VARCHAR(10)"))  # made by 0003 on newer stores
    conn.execute(cases.update().where(cases.c.local_day.is_(None)).values(local_day=select(
        responses.c.local_day).where(responses.c.id == cases.c.response_id).scalar_subquery()))
    for index in cases.indexes:
        if index.name in ("cases_day_unit", "cases_day"):
            index.create(conn, checkfirst=True)


#: Name columns stored in NFC from 0007 on: (table, columns).
NAME_COLUMNS = (("kiosks", ("unit",)), ("users", ("name", "display_name", "unit")),
                ("responses", ("unit", "counter", "officer")), ("cases", ("unit", "officer", "assignee")),
                ("case_log", ("user_name",)), ("api_tokens", ("name",)))


def _quarantine_erasure(conn):
    """Quarantined phones can be erased; central's erasures wait for their kiosk; every name in NFC."""
    if "erased_utc" not in {column["name"] for column in inspect(conn).get_columns("quarantine")}:
        conn.execute(text("ALTER TABLE quarantine ADD COLUMN erased_utc VARCHAR(24)"))
    Table("erasure_notices", MetaData(),
          Column("id", Integer, primary_key=True, autoincrement=True),
          Column("kiosk_id", String(64), nullable=False), Column("uuid", String(36), nullable=False),
          Column("erased_utc", String(24), nullable=False), Column("times_sent", Integer, nullable=False),
          Index("erasure_notices_kiosk", "kiosk_id", "times_sent")).create(conn)
    for table, columns in NAME_COLUMNS:
        for column in columns:
            for old in _not_nfc(conn, table, column):
                conn.execute(text(f"UPDATE {table} SET {column} = :new WHERE {column} = :old"),
                             {"new": nfc(old), "old": old})
    for table, keys, names in (
            ("day_tallies", ("local_day", "unit", "kiosk_id", "counter", "officer", "flagged"),
             ("unit", "counter", "officer")),
            ("unit_day_tallies", ("local_day", "unit", "flagged"), ("unit",))):
        _merge_tallies_to_nfc(conn, table, keys, names)


def _not_nfc(conn, table, column):
    return [v for v in conn.execute(text(f"SELECT DISTINCT {column} FROM {table}")).scalars()
            if v is not None and nfc(v) != v]


def _merge_tallies_to_nfc(conn, table, keys, names):
    """Re-key tallies stored under a non-NFC name; two that now share a key are added into one."""
    for name in names:
        for old in _not_nfc(conn, table, name):
            rows = conn.execute(text(f"SELECT id, tally, {', '.join(keys)} FROM {table} WHERE {name} = :old"),
                                {"old": old}).mappings().all()
            for row in rows:
                key = {k: nfc(row[k]) if k in names else row[k] for k in keys}
                same = conn.execute(text(f"SELECT id, tally FROM {table} WHERE "
                                         + " AND ".join(f"{k} = :{k}" for k in keys)), key).first()
                if same is None:
                    conn.execute(text(f"UPDATE {table} SET {', '.join(f'{n} = :{n}' for n in names)} "
                                      "WHERE id = :id"), {**{n: key[n] for n in names}, "id": row["id"]})
                    continue
                facts = indices.tally_from_json(same.tally)
                facts.update(indices.tally_from_json(row["tally"]))
                conn.execute(text(f"UPDATE {table} SET tally = :tally WHERE id = :id"),
                             {"tally": indices.tally_json(facts), "id": same.id})
                conn.execute(text(f"DELETE FROM {table} WHERE id = :id"), {"id": row["id"]})


def _sessions_lockout(conn):
    """Sessions that can be ended (a version per user, a disabled mark) and login counts per sync.central.logins."""
    # 0002 makes these tables from today's definitions, so a fresh store already has the columns.
    for table, column, ddl in (("users", "session_version", "INTEGER NOT NULL DEFAULT 1"),
                               ("users", "disabled_utc", "VARCHAR(24)"),
                               ("login_attempts", "last_failure_utc", "VARCHAR(24)")):
        if column not in {c["name"] for c in inspect(conn).get_columns(table)}:
            conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}"))
    conn.execute(text("DELETE FROM login_attempts"))  # counts under the old keys (user:, ip:) mean nothing now


_RESPONSES_WITH_INSTALL = """
CREATE TABLE responses (
    id INTEGER NOT NULL, uuid VARCHAR(36) NOT NULL, kiosk_id VARCHAR(64) NOT NULL,
    unit VARCHAR(64) NOT NULL, seq INTEGER NOT NULL, local_day VARCHAR(10) NOT NULL,
    started_utc VARCHAR(24) NOT NULL, created_utc VARCHAR(24) NOT NULL,
    utc_offset_minutes INTEGER NOT NULL, received_utc VARCHAR(24) NOT NULL,
    questionnaire_version VARCHAR(64) NOT NULL, counter VARCHAR(20), officer VARCHAR(80),
    dossier_code VARCHAR(64), answers TEXT NOT NULL, reasons TEXT NOT NULL, complete SMALLINT NOT NULL,
    flags TEXT NOT NULL, comment_hash VARCHAR(64), contact_hash VARCHAR(64), prev_hash VARCHAR(64) NOT NULL,
    hash VARCHAR(64) NOT NULL, batch_id VARCHAR(36) NOT NULL, install_id VARCHAR(36) DEFAULT '' NOT NULL,
    PRIMARY KEY (id), CONSTRAINT responses_chain_seq UNIQUE (kiosk_id, install_id, seq), UNIQUE (uuid),
    FOREIGN KEY(kiosk_id) REFERENCES kiosks (kiosk_id))"""


def _installs(conn):
    """Chains per (kiosk, install): a sequence number is unique within its install, not its kiosk."""
    def columns(table):
        return {column["name"] for column in inspect(conn).get_columns(table)}

    if "install_id" not in columns("responses"):  # stores made before install ids
        if conn.dialect.name == "sqlite":
            # SQLite cannot drop a constraint: rebuild the table, keeping every row and id.
            # Foreign keys (cases, response_private) are checked at commit, after the rows are back.
            names = ", ".join(sorted(columns("responses")))
            conn.execute(text("PRAGMA defer_foreign_keys = ON"))
            conn.execute(text("CREATE TEMP TABLE responses_before_installs AS SELECT * FROM responses"))
            conn.execute(text("DROP TABLE responses"))
            conn.execute(text(_RESPONSES_WITH_INSTALL))
            conn.execute(text(f"INSERT INTO responses ({names}) SELECT {names} FROM responses_before_installs"))
            conn.execute(text("DROP TABLE responses_before_installs"))
            conn.execute(text("CREATE INDEX responses_day_unit ON responses (local_day, unit)"))
        else:
            conn.execute(text("ALTER TABLE responses ADD COLUMN install_id VARCHAR(36) DEFAULT '' NOT NULL"))
            conn.execute(text("ALTER TABLE responses DROP CONSTRAINT responses_kiosk_seq"))
            conn.execute(text("ALTER TABLE responses ADD CONSTRAINT responses_chain_seq "
                              "UNIQUE (kiosk_id, install_id, seq)"))
    for table in ("quarantine", "integrity_events"):
        if "install_id" not in columns(table):
            conn.execute(text(f"ALTER TABLE {table} ADD COLUMN install_id VARCHAR(36)"))
    conn.execute(text("""
        CREATE TABLE installs (
            kiosk_id VARCHAR(64) NOT NULL, install_id VARCHAR(36) NOT NULL, parent_id VARCHAR(36),
            from_seq INTEGER NOT NULL, first_seen_utc VARCHAR(24) NOT NULL,
            last_batch_utc VARCHAR(24) NOT NULL, head_seq INTEGER, concurrent_with VARCHAR(36),
            PRIMARY KEY (kiosk_id, install_id))"""))
    conn.execute(text("INSERT INTO installs (kiosk_id, install_id, from_seq, first_seen_utc, last_batch_utc) "
                      "SELECT kiosk_id, '', 1, min(received_utc), max(received_utc) FROM responses "
                      "GROUP BY kiosk_id"))


_CASES_EVERY_CHANNEL = """
CREATE TABLE cases (
    id INTEGER NOT NULL, response_id INTEGER, local_day VARCHAR(10), unit VARCHAR(64) NOT NULL,
    kiosk_id VARCHAR(64) NOT NULL, officer VARCHAR(80), why VARCHAR(64) NOT NULL, status VARCHAR(16) NOT NULL,
    assignee VARCHAR(64), answer TEXT, opened_utc VARCHAR(24) NOT NULL, updated_utc VARCHAR(24) NOT NULL,
    closed_utc VARCHAR(24), channel VARCHAR(16) DEFAULT 'kiosk' NOT NULL, started_utc VARCHAR(24),
    category VARCHAR(32),
    PRIMARY KEY (id), UNIQUE (response_id), FOREIGN KEY(response_id) REFERENCES responses (id))"""

_CASE_COLUMNS_BEFORE_CHANNELS = ("id, response_id, local_day, unit, kiosk_id, officer, why, status, assignee, answer, "
                                 "opened_utc, updated_utc, closed_utc")


def _case_channels(conn):
    """Cases from every channel: a case may have no kiosk response (hotline, email, box, portal, in person),
    says its channel, when the citizen spoke (``started_utc``: the rating's time, or the receipt of other
    channels, which starts the overdue clock) and its category. Fixed DDL, no application code."""
    if conn.dialect.name == "sqlite":
        # SQLite cannot drop NOT NULL: rebuild the table, keeping every row and id (case_log refers to them).
        conn.execute(text("PRAGMA defer_foreign_keys = ON"))
        conn.execute(text("CREATE TEMP TABLE cases_before_channels AS SELECT * FROM cases"))
        conn.execute(text("DROP TABLE cases"))
        conn.execute(text(_CASES_EVERY_CHANNEL))
        conn.execute(text(f"INSERT INTO cases ({_CASE_COLUMNS_BEFORE_CHANNELS}) "
                          f"SELECT {_CASE_COLUMNS_BEFORE_CHANNELS} FROM cases_before_channels"))
        conn.execute(text("DROP TABLE cases_before_channels"))
        for ddl in ("CREATE INDEX cases_unit_status ON cases (unit, status)",
                    "CREATE INDEX cases_day_unit ON cases (local_day, unit)",
                    "CREATE INDEX cases_day ON cases (local_day, id)"):
            conn.execute(text(ddl))
    else:
        conn.execute(text("ALTER TABLE cases ALTER COLUMN response_id DROP NOT NULL"))
        present = {column["name"] for column in inspect(conn).get_columns("cases")}  # 0003 used live tables
        for column, ddl in (("channel", "VARCHAR(16) DEFAULT 'kiosk' NOT NULL"), ("started_utc", "VARCHAR(24)"),
                            ("category", "VARCHAR(32)")):
            if column not in present:
                conn.execute(text(f"ALTER TABLE cases ADD COLUMN {column} {ddl}"))
    conn.execute(text("UPDATE cases SET started_utc = (SELECT created_utc FROM responses "
                      "WHERE responses.id = cases.response_id) WHERE response_id IS NOT NULL"))
    conn.execute(text("CREATE INDEX IF NOT EXISTS cases_unit_channel ON cases (unit, channel)"))


def _summary_alerts(conn):
    """Per-unit targets for the summary, alert episodes, an email address for staff, and indexes for the
    summary's case counts (issue 12). Fixed DDL, no application code."""
    serial = "INTEGER PRIMARY KEY" if conn.dialect.name == "sqlite" else "SERIAL PRIMARY KEY"
    # Until 0002 is fixed DDL it makes `users` from today's definition, email included: hence the check.
    if "email" not in {column["name"] for column in inspect(conn).get_columns("users")}:
        conn.execute(text("ALTER TABLE users ADD COLUMN email VARCHAR(254)"))
    conn.execute(text("CREATE TABLE unit_targets (unit VARCHAR(64) NOT NULL, target_pct SMALLINT NOT NULL, "
                      "set_by VARCHAR(64) NOT NULL, set_utc VARCHAR(24) NOT NULL, PRIMARY KEY (unit))"))
    conn.execute(text(f"CREATE TABLE alerts (id {serial}, unit VARCHAR(64) NOT NULL, cause VARCHAR(32) NOT NULL, "
                      "detail TEXT NOT NULL, opened_utc VARCHAR(24) NOT NULL, emailed_utc VARCHAR(24), "
                      "ack_user VARCHAR(64), ack_utc VARCHAR(24), ack_comment TEXT)"))
    conn.execute(text("CREATE INDEX alerts_unit_open ON alerts (unit, ack_utc)"))
    # The summary's open, overdue and due-today counts (sync.central.store.workload); 0003 makes them
    # on a new PostgreSQL store from today's definitions (SQLite's 0009 rebuilds the table without them).
    conn.execute(text("CREATE INDEX IF NOT EXISTS cases_status_started ON cases (status, started_utc)"))
    conn.execute(text("CREATE INDEX IF NOT EXISTS cases_unit_status_started "
                      "ON cases (unit, status, started_utc, officer)"))


#: Applied in order, each in its own transaction with its record in
#: schema_migrations. Add new steps at the end; never edit an applied one.
MIGRATIONS = [("0001_initial", _create_v1), ("0002_accounts", _accounts), ("0003_cases", _cases),
              ("0004_day_tallies", _day_tallies), ("0005_case_days", _case_days),
              ("0006_installs", _installs),
              ("0007_quarantine_erasure", _quarantine_erasure),
              ("0008_sessions_lockout", _sessions_lockout),
              ("0009_case_channels", _case_channels),
              ("0010_summary_alerts", _summary_alerts)]


def migrate(engine) -> list:
    """Apply pending migrations; returns their names."""
    with write(engine) as conn:
        schema_migrations.create(conn, checkfirst=True)
        done = set(conn.execute(select(schema_migrations.c.name)).scalars())
    applied = []
    for name, step in MIGRATIONS:
        if name in done:
            continue
        with write(engine) as conn:
            step(conn)
            conn.execute(schema_migrations.insert().values(name=name, applied_utc=utc_iso(now_utc())))
        applied.append(name)
    return applied


def pending_migrations(engine) -> list:
    with engine.connect() as conn:
        if not engine.dialect.has_table(conn, "schema_migrations"):
            return [name for name, _ in MIGRATIONS]
        done = set(conn.execute(select(schema_migrations.c.name)).scalars())
    return [name for name, _ in MIGRATIONS if name not in done]
