"""PAKN from other channels (their text, the citizen's name and contact only with consent, competence or
transfer), numbered reply letters, and how each case's outcome was told: the QĐ 766 PAKN ratios read these
(see sync.central.store.pakn)."""

from . import ddl

PAKN_TABLE = """
CREATE TABLE pakn (
    case_id INTEGER NOT NULL, content TEXT NOT NULL, citizen_name VARCHAR(120), contact VARCHAR(120),
    consent_utc VARCHAR(24), erased_utc VARCHAR(24), within_competence SMALLINT DEFAULT 1 NOT NULL,
    transferred_to VARCHAR(200), transferred_utc VARCHAR(24), registered_by VARCHAR(64) NOT NULL,
    PRIMARY KEY (case_id), FOREIGN KEY(case_id) REFERENCES cases (id))"""

REPLY_LETTERS = """
CREATE TABLE reply_letters (
    id {serial} NOT NULL, case_id INTEGER NOT NULL, year INTEGER NOT NULL, number INTEGER NOT NULL,
    issued_utc VARCHAR(24) NOT NULL, issued_by VARCHAR(64) NOT NULL, signer VARCHAR(120) NOT NULL,
    PRIMARY KEY (id), CONSTRAINT reply_letters_number UNIQUE (year, number),
    FOREIGN KEY(case_id) REFERENCES cases (id))"""


def upgrade(conn):
    ddl.run(conn, PAKN_TABLE, REPLY_LETTERS, "CREATE INDEX reply_letters_case ON reply_letters (case_id)")
    for column, type_ in (("told_how", "VARCHAR(16)"), ("told_utc", "VARCHAR(24)"), ("satisfied", "VARCHAR(8)"),
                          ("complained_again", "SMALLINT DEFAULT 0 NOT NULL")):
        ddl.add_column(conn, "cases", column, type_)
