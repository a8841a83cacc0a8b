"""The case queue (issue 12): the reasons column and the indexes its filters and order use, the
compliments table (comments that open no case, see sync.central.cases) and published outcomes."""

from . import ddl

QUEUE_DDL = (
    "CREATE TABLE compliments (id {serial} NOT NULL PRIMARY KEY, "
    "response_id INTEGER NOT NULL UNIQUE REFERENCES responses (id), "
    "unit VARCHAR(64) NOT NULL, kiosk_id VARCHAR(64) NOT NULL, officer VARCHAR(80), local_day VARCHAR(10) NOT NULL, "
    "started_utc VARCHAR(24) NOT NULL)",
    "CREATE INDEX compliments_unit_started ON compliments (unit, started_utc)",
    "CREATE INDEX compliments_officer_started ON compliments (officer, started_utc)",
    "CREATE INDEX compliments_started ON compliments (started_utc)",
    "CREATE TABLE published_cases (id {serial} NOT NULL PRIMARY KEY, "
    "case_id INTEGER NOT NULL UNIQUE REFERENCES cases (id), "
    "unit VARCHAR(64) NOT NULL, month VARCHAR(7) NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL, "
    "published_utc VARCHAR(24) NOT NULL, published_by VARCHAR(64) NOT NULL)",
    "CREATE INDEX published_unit_month ON published_cases (unit, month)",
    "CREATE INDEX published_month ON published_cases (month)",
    # The queue's indexes: each covers its filter's counts and the page's order (see store.queue).
    "CREATE INDEX IF NOT EXISTS cases_queue ON cases (status, local_day, started_utc, id, why, reasons)",
    "CREATE INDEX IF NOT EXISTS cases_unit_queue ON cases (unit, status, local_day, started_utc, id, why, reasons)",
    "CREATE INDEX IF NOT EXISTS cases_officer_queue ON cases "
    "(officer, unit, status, local_day, started_utc, id, why, reasons)",
    "CREATE INDEX IF NOT EXISTS cases_channel_queue ON cases (channel, status, local_day, category, started_utc, id)",
    "CREATE INDEX IF NOT EXISTS cases_category_queue ON cases (category, status, local_day, started_utc, id)",
    # The response's reason chips, from its canonical JSON list (["a","b"] -> a,b), for the queue's filter.
    "UPDATE cases SET reasons = NULLIF(REPLACE(REPLACE(REPLACE((SELECT responses.reasons FROM responses "
    "WHERE responses.id = cases.response_id), '[', ''), ']', ''), '\"', ''), '') WHERE response_id IS NOT NULL",
)


def upgrade(conn):
    ddl.add_column(conn, "cases", "reasons", "VARCHAR(200)")
    ddl.run(conn, *QUEUE_DDL)
