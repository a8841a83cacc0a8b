"""Central's store: SQLite by default, PostgreSQL with DATABASE_URL, through SQLAlchemy Core.

SQLAlchemy Core is the one query layer: the same table definitions and
statements run on both, and its SQLite and psycopg dialects are well kept.
Every write is one transaction (``write``): on SQLite ``BEGIN IMMEDIATE``; on
PostgreSQL a batch also takes its unit's lock (``lock_unit``), so a unit's
batches are stored one after another.
"""

import hashlib
import json
import secrets
from collections import Counter
from contextlib import contextmanager

from sqlalchemy import (Column, ForeignKey, Index, Integer, MetaData, SmallInteger, String, Table,
                        Text, UniqueConstraint, bindparam, create_engine, event, func, inspect, select, text)

from kiosk import indices
from kiosk.clock import now_utc, utc_iso
from kiosk.passwords import hash_secret
from kiosk.paths import owner_only
from kiosk.text import nfc

metadata = MetaData()

kiosks = Table(
    "kiosks", metadata,
    Column("kiosk_id", String(64), primary_key=True),
    Column("unit", String(64), nullable=False),
    Column("secret", String(64), nullable=False),  # needed in clear to check HMAC signatures
    Column("created_utc", String(24), nullable=False),
    Column("last_batch_utc", String(24)),
)

responses = Table(
    "responses", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("kiosk_id", String(64), ForeignKey("kiosks.kiosk_id"), nullable=False),
    Column("unit", String(64), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("local_day", String(10), nullable=False),  # YYYY-MM-DD in Asia/Ho_Chi_Minh
    Column("started_utc", String(24), nullable=False),
    Column("created_utc", String(24), nullable=False),
    Column("utc_offset_minutes", Integer, nullable=False),
    Column("received_utc", String(24), nullable=False),
    Column("questionnaire_version", String(64), nullable=False),
    Column("counter", String(20)),
    Column("officer", String(80)),
    Column("dossier_code", String(64)),
    Column("answers", Text, nullable=False),
    Column("reasons", Text, nullable=False),
    Column("complete", SmallInteger, nullable=False),
    Column("flags", Text, nullable=False),
    Column("comment_hash", String(64)),
    Column("contact_hash", String(64)),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("batch_id", String(36), nullable=False),
    # The kiosk store (install) that sent it: '' for a legacy kiosk without install ids.
    Column("install_id", String(36), nullable=False, server_default=""),
    UniqueConstraint("kiosk_id", "install_id", "seq", name="responses_chain_seq"),
    Index("responses_day_unit", "local_day", "unit"),
)

response_private = Table(
    "response_private", metadata,
    Column("response_id", Integer, ForeignKey("responses.id"), primary_key=True),
    Column("comment", Text), Column("comment_salt", String(32)),
    Column("phone", String(16)), Column("phone_salt", String(32)),
    Column("consent_utc", String(24)), Column("erased_utc", String(24)),
)

quarantine = Table(
    "quarantine", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kiosk_id", String(64), nullable=False),
    Column("batch_id", String(36), nullable=False),
    Column("seq", Integer), Column("uuid", String(36)),
    Column("reason", Text, nullable=False),
    Column("payload", Text, nullable=False),  # the response exactly as received (phone erased: see erasure)
    Column("received_utc", String(24), nullable=False),
    Column("erased_utc", String(24)),  # when its phone number was erased (0007)
    Column("install_id", String(36)),
)

# Erasures central made that a kiosk's copy must follow: sent with the kiosk's
# next sync answers (``"erased": [uuid, ...]``), a few times over (see sync.erasure).
erasure_notices = Table(
    "erasure_notices", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kiosk_id", String(64), nullable=False),
    Column("uuid", String(36), nullable=False),
    Column("erased_utc", String(24), nullable=False),
    Column("times_sent", Integer, nullable=False),
    Index("erasure_notices_kiosk", "kiosk_id", "times_sent"),
)

integrity_events = Table(
    "integrity_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kiosk_id", String(64), nullable=False),
    # altered, conflict, clock_skew, clock_back, reinstalled, copied, two_installs
    Column("kind", String(32), nullable=False),
    Column("seq", Integer),
    Column("detail", Text, nullable=False),
    Column("recorded_utc", String(24), nullable=False),
    Column("install_id", String(36)),
    Index("integrity_kiosk", "kiosk_id"),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_utc", String(24), nullable=False),
)

schema_migrations = Table(
    "schema_migrations", metadata,
    Column("name", String(64), primary_key=True),
    Column("applied_utc", String(24), nullable=False),
)


users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("display_name", String(80), nullable=False),  # as the kiosks show the officer on duty
    Column("role", String(16), nullable=False),  # admin, supervisor, officer
    Column("unit", String(64)),  # null for admins: every unit
    Column("password_hash", String(200), nullable=False),
    Column("created_utc", String(24), nullable=False),
    Column("session_version", Integer, nullable=False, server_default="1"),  # bumped to end every session
    Column("disabled_utc", String(24)),  # set by `central disable-user`: no login, no session
)

login_attempts = Table(
    "login_attempts", metadata,
    Column("key", String(120), primary_key=True),  # see sync.logins: pair:, addr:, name:
    Column("failures", Integer, nullable=False),
    Column("locked_until", String(24)),  # the key waits until then
    Column("last_failure_utc", String(24)),
)

settings = Table(
    "settings", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

cases = Table(
    "cases", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("response_id", Integer, ForeignKey("responses.id"), nullable=False, unique=True),
    Column("local_day", String(10)),  # the response's day (Asia/Ho_Chi_Minh), for the summary's list
    Column("unit", String(64), nullable=False),
    Column("kiosk_id", String(64), nullable=False),
    Column("officer", String(80)),
    Column("why", String(64), nullable=False),  # comment, low_rating, extra_request (comma-separated)
    Column("status", String(16), nullable=False),  # new, assigned, answered, closed
    Column("assignee", String(64)),
    Column("answer", Text),
    Column("opened_utc", String(24), nullable=False),
    Column("updated_utc", String(24), nullable=False),
    Column("closed_utc", String(24)),
    Index("cases_unit_status", "unit", "status"),
    Index("cases_day_unit", "local_day", "unit"),
    Index("cases_day", "local_day", "id"),  # a day's newest cases, without walking every later case
)


def _tally_table(name, *key_columns, indexes=()):
    """Day tallies (see ``kiosk.indices``), one row per key and flagged-or-not."""
    keys = [column.name for column in key_columns] + ["flagged"]
    return Table(name, metadata, Column("id", Integer, primary_key=True, autoincrement=True), *key_columns,
                 Column("flagged", SmallInteger, nullable=False),  # 1: the tally of flagged responses
                 Column("tally", Text, nullable=False),  # JSON: kiosk.indices.tally_json
                 UniqueConstraint(*keys, name=f"{name}_key"), *indexes)


# Two grains: per kiosk, counter and officer, for those cuts; and per unit, so
# a unit's or every unit's day is a few rows.
day_tallies = _tally_table(
    "day_tallies", Column("local_day", String(10), nullable=False), Column("unit", String(64), nullable=False),
    Column("kiosk_id", String(64), nullable=False),
    Column("counter", String(20), nullable=False),  # '' when the kiosk had none set
    Column("officer", String(80), nullable=False),
    indexes=[Index("day_tallies_day_unit", "local_day", "unit")])
unit_day_tallies = _tally_table(
    "unit_day_tallies", Column("local_day", String(10), nullable=False), Column("unit", String(64), nullable=False))

# Each kiosk store ("install", see kiosk.store) is a hash chain of its own: a
# reinstalled kiosk starts again from seq 1, a copied store continues its parent.
installs = Table(
    "installs", metadata,
    Column("kiosk_id", String(64), primary_key=True),
    Column("install_id", String(36), primary_key=True),  # '' for the legacy install
    Column("parent_id", String(36)),  # the install a copied store continues, if any
    Column("from_seq", Integer, nullable=False),  # its first sequence number
    Column("first_seen_utc", String(24), nullable=False),
    Column("last_batch_utc", String(24), nullable=False),
    Column("head_seq", Integer),  # the kiosk's newest seq when its last batch was read
    Column("concurrent_with", String(36)),  # another install seen sending at the same time
)

case_log = Table(
    "case_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False),
    Column("user_name", String(64), nullable=False),
    Column("at_utc", String(24), nullable=False),
    Column("action", String(32), nullable=False),
    Column("detail", Text),
)

ROLES = ("admin", "supervisor", "officer")


class CentralStoreError(Exception):
    """A store problem worth one sentence to the operator."""


def _create_v1(conn):
    metadata.create_all(conn, tables=[kiosks, responses, response_private, quarantine,
                                      integrity_events, api_tokens])


def _accounts(conn):
    metadata.create_all(conn, tables=[users, login_attempts, settings])
    conn.execute(settings.insert().values(key="secret_key", value=secrets.token_hex(32)))


def _cases(conn):
    """Cases for complaints: every response with a comment, a rating of 1 or 2, or extra demands."""
    from .cases import case_rows  # here, not at the top: cases imports this module
    metadata.create_all(conn, tables=[cases, case_log])
    rows = conn.execute(select(responses.c.id, responses.c.local_day, responses.c.unit, responses.c.kiosk_id,
                               responses.c.officer, responses.c.answers, responses.c.comment_hash,
                               responses.c.received_utc)).mappings()
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
    """Sessions that can be ended (a version per user, a disabled mark) and login counts per sync.logins."""
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


#: Applied in order, each in its own transaction with its record in
#: schema_migrations. Add new steps at the end; never edit an applied one.
MIGRATIONS = [("0001_initial", _create_v1), ("0002_accounts", _accounts), ("0003_cases", _cases),
              ("0004_day_tallies", _day_tallies), ("0005_case_days", _case_days),
              ("0006_installs", _installs),
              ("0007_quarantine_erasure", _quarantine_erasure),
              ("0008_sessions_lockout", _sessions_lockout)]


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
    """Insert many rows through the driver's own executemany (a batch's hot path)."""
    columns = list(rows[0])
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql(
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})",
        [tuple(row[c] for c in columns) for row in rows])


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


# --- kiosks and tokens ---------------------------------------------------------

def add_kiosk(engine, kiosk_id: str, unit: str) -> str:
    """Register a kiosk; returns its new secret (shown once). The unit is stored in NFC."""
    secret, unit = secrets.token_hex(32), nfc(unit)
    with write(engine) as conn:
        if conn.execute(select(kiosks.c.kiosk_id).where(kiosks.c.kiosk_id == kiosk_id)).first():
            raise CentralStoreError(f"Kiosk {kiosk_id!r} is already registered.")
        conn.execute(kiosks.insert().values(kiosk_id=kiosk_id, unit=unit, secret=secret,
                                            created_utc=utc_iso(now_utc())))
    return secret


def get_kiosk(conn, kiosk_id: str):
    return conn.execute(select(kiosks).where(kiosks.c.kiosk_id == kiosk_id)).mappings().first()


def token_digest(token: str) -> str:
    """Tokens are stored as their SHA-256: a leaked database does not leak usable tokens."""
    return hashlib.sha256(token.encode()).hexdigest()


def add_token(engine, name: str) -> str:
    token, name = secrets.token_urlsafe(32), nfc(name)
    with write(engine) as conn:
        if conn.execute(select(api_tokens.c.id).where(api_tokens.c.name == name)).first():
            raise CentralStoreError(f"A token named {name!r} already exists.")
        conn.execute(api_tokens.insert().values(name=name, token_hash=token_digest(token),
                                                created_utc=utc_iso(now_utc())))
    return token


def token_known(engine, token: str) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(api_tokens.c.id).where(
            api_tokens.c.token_hash == token_digest(token))).first() is not None


def get_setting(engine, key: str):
    with engine.connect() as conn:
        return conn.execute(select(settings.c.value).where(settings.c.key == key)).scalar()


def add_user(engine, name, role, unit, password, display_name=None) -> None:
    """Create a staff account; names, unit and display name are stored in NFC.

    Raises CentralStoreError for an unknown role, a missing unit or a taken name.
    """
    name, unit, display_name = nfc(name), nfc(unit), nfc(display_name)
    if role not in ROLES:
        raise CentralStoreError(f"--role must be one of {', '.join(ROLES)}, not {role!r}.")
    if role != "admin" and not unit:
        raise CentralStoreError(f"A user with role {role} belongs to a unit: give --unit.")
    with write(engine) as conn:
        if conn.execute(select(users.c.id).where(users.c.name == name)).first():
            raise CentralStoreError(f"A user named {name!r} already exists.")
        conn.execute(users.insert().values(
            name=name, display_name=display_name or name, role=role, unit=unit if role != "admin" else None,
            password_hash=hash_secret(password), created_utc=utc_iso(now_utc())))


def get_user(engine, user_id=None, name=None):
    column, value = (users.c.id, user_id) if user_id is not None else (users.c.name, nfc(name))
    with engine.connect() as conn:
        return conn.execute(select(users).where(column == value)).mappings().first()


def set_password(engine, name: str, password: str) -> None:
    """Give a user a new password; every session they have ends. Raises CentralStoreError if unknown."""
    _change_user(engine, name, password_hash=hash_secret(password))


def set_disabled(engine, name: str, disabled: bool, now) -> None:
    """Disable a user (no login, every session ends) or enable them again. Raises CentralStoreError if unknown."""
    _change_user(engine, name, disabled_utc=utc_iso(now) if disabled else None)


def end_sessions(engine, user_id: int) -> None:
    """End every session of a user (logout): the session version in their cookies no longer matches."""
    with write(engine) as conn:
        conn.execute(users.update().where(users.c.id == user_id)
                     .values(session_version=users.c.session_version + 1))


def _change_user(engine, name, **values):
    with write(engine) as conn:
        done = conn.execute(users.update().where(users.c.name == name)
                            .values(session_version=users.c.session_version + 1, **values))
        if done.rowcount != 1:
            raise CentralStoreError(f"No user named {name!r}.")


# --- day tallies: what the summaries add up ----------------------------------------

#: The response columns a tally needs.
TALLIED = (responses.c.local_day, responses.c.unit, responses.c.kiosk_id, responses.c.counter,
           responses.c.officer, responses.c.dossier_code, responses.c.answers, responses.c.reasons,
           responses.c.flags, responses.c.comment_hash)


def decoded(row) -> dict:
    """A stored response row as ``kiosk.indices`` takes it."""
    return {**row, "answers": json.loads(row["answers"]), "reasons": json.loads(row["reasons"]),
            "flags": json.loads(row["flags"]), "has_comment": row["comment_hash"] is not None}


#: Each grain: its table and the columns that key a tally.
GRAINS = [(table, tuple(c.name for c in table.columns if c.name not in ("id", "tally")))
          for table in (day_tallies, unit_day_tallies)]


def add_tallies(conn, new_responses) -> None:
    """Add responses (decoded, with local_day and unit) to their day tallies, in the caller's transaction.

    A tally is read, added to and written back: safe because a unit's batches
    are stored one after another (see ``lock_unit``).
    """
    counted = [(response, indices.tally(response)) for response in new_responses]
    for table, key_columns in GRAINS:
        added = {}
        for response, facts in counted:
            key = tuple(int(bool(response["flags"])) if name == "flagged" else response[name] or ""
                        for name in key_columns)
            added.setdefault(key, Counter()).update(facts)
        if added:
            _add_to(conn, table, key_columns, added)


def _add_to(conn, table, key_columns, added):
    columns = [table.c[name] for name in key_columns]
    stored = conn.execute(select(table.c.id, table.c.tally, *columns).where(
        *[column.in_({key[i] for key in added}) for i, column in enumerate(columns)])).all()
    changed = []
    for row in stored:
        key = tuple(row[2:])
        if key in added:
            facts = indices.tally_from_json(row.tally)
            facts.update(added.pop(key))
            changed.append({"row_id": row.id, "tally": indices.tally_json(facts)})
    if changed:
        conn.execute(table.update().where(table.c.id == bindparam("row_id")).values(tally=bindparam("tally")),
                     changed)
    if added:
        conn.execute(table.insert(), [{**dict(zip(key_columns, key)), "tally": indices.tally_json(facts)}
                                      for key, facts in added.items()])


def lock_unit(conn, unit: str) -> None:
    """On PostgreSQL, hold the unit's lock until the transaction ends (SQLite has one writer anyway)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:unit))"), {"unit": unit})


def tallies_between(engine, start: str, end: str, unit=None, kiosk=None, officer=None, detail=False) -> list:
    """Day tallies from day `start` to day `end` inclusive (Asia/Ho_Chi_Minh), with their keys.

    Per unit unless a kiosk, an officer, or ``detail`` (counters and officers) is asked for.
    """
    table = day_tallies if detail or kiosk or officer else unit_day_tallies
    query = select(table).where(table.c.local_day >= start, table.c.local_day <= end)
    for name, value in (("unit", nfc(unit)), ("kiosk_id", kiosk), ("officer", nfc(officer))):
        if value:
            query = query.where(table.c[name] == value)
    with engine.connect() as conn:
        return [{**row, "flagged": bool(row["flagged"]), "tally": json.loads(row["tally"])}
                for row in conn.execute(query).mappings()]


# --- reading ---------------------------------------------------------------------

def range_responses(engine, start: str, end: str, unit=None, officer=None):
    """Responses created from day `start` to day `end` inclusive (Asia/Ho_Chi_Minh), oldest first."""
    query = (select(responses.c.local_day, responses.c.created_utc, responses.c.kiosk_id, responses.c.unit,
                    responses.c.counter, responses.c.officer, responses.c.dossier_code,
                    responses.c.questionnaire_version, responses.c.answers, responses.c.reasons,
                    responses.c.complete, responses.c.flags, responses.c.comment_hash,
                    response_private.c.comment)
             .join(response_private, response_private.c.response_id == responses.c.id, isouter=True)
             .where(responses.c.local_day >= start, responses.c.local_day <= end)
             .order_by(responses.c.created_utc))
    if unit:
        query = query.where(responses.c.unit == nfc(unit))
    if officer:
        query = query.where(responses.c.officer == nfc(officer))
    with engine.connect() as conn:
        return [decoded(row) for row in conn.execute(query).mappings()]


def kiosk_list(engine, unit=None, recent=3):
    """Registered kiosks with their last batch time, how many integrity events each has, and the
    ``recent`` newest of them (dicts with kind, seq, detail, recorded_utc, install_id)."""
    query = select(kiosks.c.kiosk_id, kiosks.c.unit, kiosks.c.last_batch_utc).order_by(kiosks.c.kiosk_id)
    if unit:
        query = query.where(kiosks.c.unit == nfc(unit))
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
        events = dict(conn.execute(select(integrity_events.c.kiosk_id, func.count())
                                   .group_by(integrity_events.c.kiosk_id)).all())
        newest = {row["kiosk_id"]: conn.execute(
            select(integrity_events).where(integrity_events.c.kiosk_id == row["kiosk_id"])
            .order_by(integrity_events.c.id.desc()).limit(recent)).mappings().all()
            for row in rows if events.get(row["kiosk_id"])}
    return [{**row, "events": events.get(row["kiosk_id"], 0), "recent": newest.get(row["kiosk_id"], [])}
            for row in rows]


def _cases_where(query, unit, officer, status, day):
    """Keep the cases of a unit, an officer, a status, or a day (when their response was given)."""
    for column, value in ((cases.c.unit, nfc(unit)), (cases.c.officer, nfc(officer)), (cases.c.status, status),
                          (cases.c.local_day, day)):
        if value:
            query = query.where(column == value)
    return query


def list_cases(engine, unit=None, officer=None, status=None, day=None, limit=500):
    """Cases, newest first; `day` keeps those whose response was given that day (Asia/Ho_Chi_Minh)."""
    query = _cases_where(
        select(cases, responses.c.counter, responses.c.created_utc, responses.c.answers, response_private.c.comment)
        .join(responses, responses.c.id == cases.c.response_id)
        .join(response_private, response_private.c.response_id == responses.c.id, isouter=True)
        .order_by(cases.c.id.desc()).limit(limit), unit, officer, status, day)
    with engine.connect() as conn:
        return conn.execute(query).mappings().all()


def count_cases(engine, unit=None, officer=None, status=None, day=None) -> int:
    query = _cases_where(select(func.count()).select_from(cases), unit, officer, status, day)
    with engine.connect() as conn:
        return conn.execute(query).scalar()


def get_case(engine, case_id: int):
    """A case with its response and erasable text, and its history; None if unknown."""
    query = (select(cases, responses.c.answers, responses.c.reasons, responses.c.counter,
                    responses.c.dossier_code, responses.c.created_utc, responses.c.uuid,
                    response_private.c.comment, response_private.c.phone, response_private.c.erased_utc)
             .join(responses, responses.c.id == cases.c.response_id)
             .join(response_private, response_private.c.response_id == responses.c.id, isouter=True)
             .where(cases.c.id == case_id))
    with engine.connect() as conn:
        case = conn.execute(query).mappings().first()
        if case is None:
            return None
        history = conn.execute(select(case_log).where(case_log.c.case_id == case_id)
                               .order_by(case_log.c.id)).mappings().all()
    return {**case, "answers": json.loads(case["answers"]), "reasons": json.loads(case["reasons"]),
            "history": history}


def units(engine):
    with engine.connect() as conn:
        return conn.execute(select(kiosks.c.unit).distinct().order_by(kiosks.c.unit)).scalars().all()


def integrity_report(engine, kiosk_id: str) -> dict:
    """Gaps and broken links, derived per (kiosk, install) chain from what is stored, plus the recorded events.

    Returns ``{kiosk, responses, highest_seq, quarantined, installs: [...], events: [...]}``; each event
    has ``kind``, ``install_id`` ('' for the legacy store, None when not about one), ``seq_from``, ``seq_to``
    and ``detail``.
    """
    chain_of = ("LEFT JOIN installs i ON i.kiosk_id = r.kiosk_id AND i.install_id = r.install_id ")
    with engine.connect() as conn:
        stored = conn.execute(select(func.count(), func.max(responses.c.seq)).where(
            responses.c.kiosk_id == kiosk_id)).one()
        gaps = conn.execute(text(
            "SELECT install_id, prev + 1, seq - 1 FROM (SELECT r.install_id, r.seq, LAG(r.seq, 1, "
            "COALESCE(i.from_seq, 1) - 1) OVER (PARTITION BY r.install_id ORDER BY r.seq) AS prev "
            f"FROM responses r {chain_of}WHERE r.kiosk_id = :k) s WHERE seq - prev > 1 "
            "ORDER BY install_id, seq"), {"k": kiosk_id}).all()
        links = conn.execute(text(
            f"SELECT r.install_id, r.seq FROM responses r {chain_of}"
            "LEFT JOIN responses p ON p.kiosk_id = r.kiosk_id AND p.seq = r.seq - 1 AND p.install_id = "
            "CASE WHEN r.seq = COALESCE(i.from_seq, 1) THEN COALESCE(i.parent_id, '') ELSE r.install_id END "
            "WHERE r.kiosk_id = :k AND ((r.seq = 1 AND r.prev_hash != :genesis) "
            "OR (p.seq IS NOT NULL AND r.prev_hash != p.hash)) ORDER BY r.install_id, r.seq"),
            {"k": kiosk_id, "genesis": "0" * 64}).all()
        events = conn.execute(select(integrity_events).where(
            integrity_events.c.kiosk_id == kiosk_id).order_by(integrity_events.c.id)).mappings().all()
        quarantined = conn.execute(select(func.count()).select_from(quarantine).where(
            quarantine.c.kiosk_id == kiosk_id)).scalar()
        counts = dict(conn.execute(select(responses.c.install_id, func.count()).where(
            responses.c.kiosk_id == kiosk_id).group_by(responses.c.install_id)).all())
        chains = conn.execute(select(installs).where(installs.c.kiosk_id == kiosk_id)
                              .order_by(installs.c.first_seen_utc)).mappings().all()
    derived = [{"kind": "gap", "install_id": i, "seq_from": a, "seq_to": b,
                "detail": f"Responses #{a}–#{b} have not been received." if a != b
                else f"Response #{a} has not been received."} for i, a, b in gaps]
    derived += [{"kind": "broken_link", "install_id": i, "seq_from": seq - 1, "seq_to": seq,
                 "detail": f"Response #{seq} does not chain to response #{seq - 1}."} for i, seq in links]
    recorded = [{"kind": e["kind"], "install_id": e["install_id"], "seq_from": e["seq"], "seq_to": e["seq"],
                 "detail": e["detail"], "recorded_utc": e["recorded_utc"]} for e in events]
    stores = [{"install_id": c["install_id"], "parent_id": c["parent_id"], "from_seq": c["from_seq"],
               "first_seen_utc": c["first_seen_utc"], "last_batch_utc": c["last_batch_utc"],
               "responses": counts.get(c["install_id"], 0), "concurrent_with": c["concurrent_with"]}
              for c in chains]
    return {"kiosk": kiosk_id, "responses": stored[0], "highest_seq": stored[1],
            "quarantined": quarantined, "installs": stores, "events": derived + recorded}
