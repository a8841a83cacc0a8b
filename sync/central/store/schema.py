"""Central's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL, and the store's error.

These are today's definitions; the steps in ``migrations/`` make them (and ``tests/test_migrations.py``
fails when the two differ). Change a table only by adding a step, then say the same here.
"""

from sqlalchemy import (BigInteger, Column, ForeignKey, Index, Integer, MetaData, SmallInteger, String, Table,
                        Text, UniqueConstraint, text)

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
    # The roster's ids of the officer on duty and the counter (0014); null when the kiosk sent none.
    Column("officer_id", String(36)),
    Column("counter_id", String(36)),
    UniqueConstraint("kiosk_id", "install_id", "seq", name="responses_chain_seq"),
    Index("responses_day_unit", "local_day", "unit"),
    Index("responses_officer_id", "officer_id", "local_day"),
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
# next sync answers (``"erased": [uuid, ...]``), a few times over (see sync.central.erasure).
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
    Column("session_version", Integer, nullable=False, server_default=text("1")),  # bumped to end every session
    Column("disabled_utc", String(24)),  # set by `central disable-user`: no login, no session
    Column("email", String(254)),  # where alerts reach a supervisor (`central add-user --email`); optional
    Column("officer_id", String(36)),  # an officer login's roster entry (officers.id); see store.roster
)

login_attempts = Table(
    "login_attempts", metadata,
    Column("key", String(120), primary_key=True),  # see sync.central.logins: pair:, addr:, name:
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
    # The kiosk response it came from; null for PAKN received by other channels (see `channel`).
    Column("response_id", Integer, ForeignKey("responses.id"), unique=True),
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
    # kiosk, hotline, email, box (suggestion box), portal, in_person (0009)
    Column("channel", String(16), nullable=False, server_default="kiosk"),
    Column("started_utc", String(24)),  # when the citizen spoke (rating time, or receipt): the overdue clock
    Column("category", String(32)),  # for PAKN of other channels: the SIPAS element it concerns
    Column("reasons", String(200)),  # the response's reason chips, comma-separated (case queue step)
    # How and when the citizen was told the outcome (letter, phone, email, in_person), whether they said they
    # were satisfied (yes, no, unsaid) and complained again (0/1): the QĐ 766 PAKN ratios (0010)
    Column("told_how", String(16)), Column("told_utc", String(24)), Column("satisfied", String(8)),
    Column("complained_again", SmallInteger, nullable=False, server_default=text("0")),
    Column("officer_id", String(36)), Column("counter_id", String(36)),  # the response's (0014)
    Index("cases_unit_status", "unit", "status"),
    Index("cases_day_unit", "local_day", "unit"),
    Index("cases_day", "local_day", "id"),  # a day's newest cases, without walking every later case
    Index("cases_unit_channel", "unit", "channel"),
    # The queue's: each covers its filter's counts and the page's order (see store.queue; case queue step).
    Index("cases_queue", "status", "local_day", "started_utc", "id", "why", "reasons"),
    Index("cases_unit_queue", "unit", "status", "local_day", "started_utc", "id", "why", "reasons"),
    Index("cases_officer_queue", "officer", "unit", "status", "local_day", "started_utc", "id", "why", "reasons"),
    Index("cases_channel_queue", "channel", "status", "local_day", "category", "started_utc", "id"),
    Index("cases_category_queue", "category", "status", "local_day", "started_utc", "id"),
    Index("cases_officer_id_queue", "officer_id", "status", "local_day", "started_utc", "id", "why", "reasons"),
)

# The case queue's reason filter as a range: one row per case and each of its why codes (but 'pakn') and reason
# chips, as the case's `why` and `reasons` list them (``sync.central.cases.reason_keys``; case reasons step).
case_reasons = Table(
    "case_reasons", metadata,
    Column("reason", String(64), primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id"), primary_key=True, autoincrement=False),
    Index("case_reasons_case", "case_id"),
    sqlite_with_rowid=False,
)

# Compliments (issue 12, item 3): responses whose only feature is a comment open no case; see sync.central.cases.
compliments = Table(
    "compliments", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("response_id", Integer, ForeignKey("responses.id"), nullable=False, unique=True),
    Column("unit", String(64), nullable=False),
    Column("kiosk_id", String(64), nullable=False),
    Column("officer", String(80)),
    Column("local_day", String(10), nullable=False),
    Column("started_utc", String(24), nullable=False),
    Column("officer_id", String(36)), Column("counter_id", String(36)),  # the response's (0014)
    Index("compliments_unit_started", "unit", "started_utc"),
    Index("compliments_officer_started", "officer", "started_utc"),
    Index("compliments_started", "started_utc"),
    Index("compliments_officer_id_started", "officer_id", "started_utc"),
)

# Typical outcomes published (issue 12, item 7): a closed case as an anonymised question and answer.
# Unpublishing deletes the row; both are logged in case_log.
published_cases = Table(
    "published_cases", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False, unique=True),
    Column("unit", String(64), nullable=False),
    Column("month", String(7), nullable=False),  # YYYY-MM of the case's start day
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("published_utc", String(24), nullable=False),
    Column("published_by", String(64), nullable=False),
    Index("published_unit_month", "unit", "month"),
    Index("published_month", "month"),
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
    Column("counter_id", String(36), nullable=False, server_default=""),  # the roster's id, '' when none (0014)
    Column("officer", String(80), nullable=False),
    Column("officer_id", String(36), nullable=False, server_default=""),  # the roster's id, '' when none (0014)
    indexes=[Index("day_tallies_day_unit", "local_day", "unit")])
unit_day_tallies = _tally_table(
    "unit_day_tallies", Column("local_day", String(10), nullable=False), Column("unit", String(64), nullable=False))

def _facts_table(name, *key_columns):
    """Counts one fact a row: n responses on `local_day` (flagged or not) had the fact (kind, item, value),
    ``value`` as text (a rating's number: kind "rating"), per `key_columns` too. The rows are the key
    (no rowid on SQLite): a day's range is read from the key alone."""
    return Table(name, metadata, Column("local_day", String(10), primary_key=True),
                 Column("flagged", SmallInteger, primary_key=True, autoincrement=False),
                 Column("kind", String(20), primary_key=True), Column("item", String(64), primary_key=True),
                 Column("value", String(64), primary_key=True), *key_columns,
                 Column("n", Integer, nullable=False), sqlite_with_rowid=False)


# The counts of unit_day_tallies (dossier codes aside) one fact a row, so that the trends over many days add
# them up in the database; and the same over every unit, so the 90-day trends of every unit read some 5,000
# rows instead of 90,000 (migration 0017). Both kept at ingest beside the tallies.
unit_day_facts = _facts_table("unit_day_facts", Column("unit", String(64), primary_key=True))
day_facts = _facts_table("day_facts")

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

# A PAKN received by another channel than a kiosk (0010): its text, and the citizen's name and contact,
# kept only with their consent and erasable (erased_utc); transferred when outside the department's competence.
pakn = Table(
    "pakn", metadata,
    Column("case_id", Integer, ForeignKey("cases.id"), primary_key=True, autoincrement=False),
    Column("content", Text, nullable=False),
    Column("citizen_name", String(120)), Column("contact", String(120)),
    Column("consent_utc", String(24)), Column("erased_utc", String(24)),
    Column("within_competence", SmallInteger, nullable=False, server_default=text("1")),
    Column("transferred_to", String(200)), Column("transferred_utc", String(24)),
    Column("registered_by", String(64), nullable=False),
)

# Reply letters telling a citizen the outcome, numbered 1, 2, ... within each year (0010).
reply_letters = Table(
    "reply_letters", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False),
    Column("year", Integer, nullable=False), Column("number", Integer, nullable=False),
    Column("issued_utc", String(24), nullable=False), Column("issued_by", String(64), nullable=False),
    Column("signer", String(120), nullable=False),
    UniqueConstraint("year", "number", name="reply_letters_number"),
    Index("reply_letters_case", "case_id"),
)

# Each unit's target share of citizens satisfied overall (the summary's headline colour);
# a unit without a row has the default (see sync.central.targets).
unit_targets = Table(
    "unit_targets", metadata,
    Column("unit", String(64), primary_key=True),
    Column("target_pct", SmallInteger, nullable=False),  # 1..100, percent satisfied overall
    Column("set_by", String(64), nullable=False),
    Column("set_utc", String(24), nullable=False),
)

# Alert episodes (see sync.central.alerts): one row per unit and cause while it is open;
# acknowledged by a supervisor with a comment (who, when, what: the log of the episode).
alerts = Table(
    "alerts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("unit", String(64), nullable=False),
    Column("cause", String(32), nullable=False),  # low_ratings, harassment, extra_demands
    Column("detail", Text, nullable=False),  # JSON: the figures that raised it
    Column("opened_utc", String(24), nullable=False),
    Column("emailed_utc", String(24)),  # when the email went out (null: not sent, or no SMTP host)
    Column("ack_user", String(64)),
    Column("ack_utc", String(24)),
    Column("ack_comment", Text),
    Index("alerts_unit_open", "unit", "ack_utc"),
)

# The roster (issue 13): units, their counters and their officers, each with a stable id; a rename
# changes the row only, never a stored response (which keeps the names as they were). Retired rows stay
# (active 0, retired_utc) so old responses still name them. See store.roster.
units = Table(
    "units", metadata,
    Column("code", String(64), primary_key=True),  # as kiosks.unit holds it
    Column("name", String(120), nullable=False),
    Column("created_utc", String(24), nullable=False),
    Column("retired_utc", String(24)),  # a retired unit keeps its rows; its kiosks get no roster
)

counters = Table(
    "counters", metadata,
    Column("id", String(36), primary_key=True),  # given by the admin, unique within central
    Column("unit", String(64), nullable=False),
    Column("name", String(80), nullable=False),
    Column("active", SmallInteger, nullable=False, server_default=text("1")),
    Column("created_utc", String(24), nullable=False),
    Column("retired_utc", String(24)),
    Index("counters_unit", "unit", "active"),
)

officers = Table(
    "officers", metadata,
    Column("id", String(36), primary_key=True),  # generated (cb-xxxxxxxx) or given by the admin; never reused
    Column("unit", String(64), nullable=False),
    Column("display_name", String(80), nullable=False),
    Column("active", SmallInteger, nullable=False, server_default=text("1")),
    Column("created_utc", String(24), nullable=False),
    Column("retired_utc", String(24)),
    Index("officers_unit", "unit", "active"),
)

# Questionnaires published from central (0015): every version kept; unit null = for every unit. The newest
# for a kiosk's unit (else the newest for every unit) goes in its configuration (sync.central.kioskconfig).
questionnaires = Table(
    "questionnaires", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version", String(64), nullable=False),
    Column("unit", String(64)),
    Column("source", Text, nullable=False),  # the TOML text as published
    Column("sha256", String(64), nullable=False),  # of the source's UTF-8 bytes
    Column("published_utc", String(24), nullable=False),
    Column("published_by", String(64), nullable=False),
    Index("questionnaires_unit", "unit", "id"),
)

# Central's overrides of kiosk settings marked ``central=True`` in kiosk.settings (0015): the value as text,
# checked by the setting's kind; unit '' = every unit (a unit's own override beats it).
kiosk_setting_overrides = Table(
    "kiosk_setting_overrides", metadata,
    Column("name", String(64), primary_key=True),
    Column("unit", String(64), primary_key=True),
    Column("value", String(200), nullable=False),
    Column("set_by", String(64), nullable=False),
    Column("set_utc", String(24), nullable=False),
)

# Each kiosk's latest health report (0015), sent with its configuration request: what it runs, what waits,
# its clock (offset = kiosk clock - central's receipt time, seconds), its free disk and last error.
kiosk_health = Table(
    "kiosk_health", metadata,
    Column("kiosk_id", String(64), primary_key=True),
    Column("install_id", String(36)),
    Column("received_utc", String(24), nullable=False),
    Column("software_version", String(40)),
    Column("questionnaire_version", String(64)),
    Column("config_version", String(64)),
    Column("pending", Integer),
    Column("oldest_pending_age_s", Integer),
    Column("clock_utc", String(32)),
    Column("clock_offset_s", Integer),
    Column("free_disk_bytes", BigInteger),
    Column("last_error", String(500)),
    Column("last_error_utc", String(32)),
)

ROLES = ("admin", "supervisor", "officer")


class CentralStoreError(Exception):
    """A store problem worth one sentence to the operator."""
