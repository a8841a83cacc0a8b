"""The kiosk store's tables: sqlite-utils migrations, applied in order by ``kiosk.store.init``.

Append new steps at the end, named after the branch that adds them; never edit one
that has shipped. Each step states its own literal SQL and calls no application code
(not even ``kiosk.text``), so what it does never changes when the application does.
"""

import unicodedata

from sqlite_utils import Migrations

migrations = Migrations("kiosk")


@migrations()
def m001_initial(db):
    db.execute("""
        CREATE TABLE responses (
            seq INTEGER PRIMARY KEY,          -- 1, 2, 3 ... without gaps
            uuid TEXT NOT NULL UNIQUE,
            kiosk_id TEXT NOT NULL,
            started_utc TEXT NOT NULL,        -- first tap, kiosk clock
            created_utc TEXT NOT NULL,        -- committed, kiosk clock
            utc_offset_minutes INTEGER NOT NULL,
            questionnaire_version TEXT NOT NULL,
            counter TEXT, officer TEXT, dossier_code TEXT,
            answers TEXT NOT NULL, reasons TEXT NOT NULL,
            complete INTEGER NOT NULL, flags TEXT NOT NULL,
            comment_hash TEXT, contact_hash TEXT,
            prev_hash TEXT NOT NULL, hash TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX responses_created ON responses(created_utc)")
    db.execute("CREATE INDEX responses_dossier ON responses(dossier_code)")
    for action in ("UPDATE", "DELETE"):
        db.execute(f"""
            CREATE TRIGGER responses_no_{action.lower()} BEFORE {action} ON responses
            BEGIN SELECT RAISE(ABORT, 'responses are append-only'); END""")
    # Erasable free text, apart from the chained record (which holds only hashes).
    db.execute("""
        CREATE TABLE response_private (
            seq INTEGER PRIMARY KEY REFERENCES responses(seq),
            comment TEXT, comment_salt TEXT,
            phone TEXT, phone_salt TEXT, consent_utc TEXT,
            erased_utc TEXT
        )""")
    db.execute("""
        CREATE TRIGGER response_private_no_delete BEFORE DELETE ON response_private
        BEGIN SELECT RAISE(ABORT, 'erase the text, do not delete the row'); END""")
    # Answers given so far in a survey not yet finished; moved into
    # responses (complete or not) when it ends, never dropped.
    db.execute("""
        CREATE TABLE drafts (
            id TEXT PRIMARY KEY, started_utc TEXT NOT NULL, updated_utc TEXT NOT NULL,
            questionnaire_version TEXT NOT NULL,
            counter TEXT, officer TEXT, dossier_code TEXT, answers TEXT NOT NULL
        )""")
    db.execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


@migrations()
def m002_sync_acks(db):
    # Central's verdict on each response it has answered for; a response without
    # a row here is pending. Rejected ones stay here with the reason, never resent.
    db.execute("""
        CREATE TABLE sync_acks (
            seq INTEGER PRIMARY KEY REFERENCES responses(seq),
            status TEXT NOT NULL CHECK (status IN ('accepted', 'duplicate', 'rejected')),
            reason TEXT, batch_id TEXT, acked_utc TEXT NOT NULL
        )""")


@migrations()
def i10b_pin_attempts(db):
    # Wrong PINs counted per key (see kiosk.limits and kiosk.staff), replacing one global counter.
    db.execute("""
        CREATE TABLE pin_attempts (
            key TEXT PRIMARY KEY, failures INTEGER NOT NULL,
            last_failure_utc TEXT, locked_until TEXT
        )""")
    db.execute("DELETE FROM settings WHERE key IN ('pin_failures', 'pin_locked_until')")


@migrations()
def i8a_surveys(db):
    # What the citizen entered on the last screen, kept with the draft until it ends
    # (JSON {"reasons": [...], "comment": ..., "phone": ...}).
    db.execute("ALTER TABLE drafts ADD COLUMN feedback TEXT")
    # Every survey that has ended, by the id its forms carry: a second send of the
    # same survey (browser Back, a double post) stores nothing more.
    db.execute("""
        CREATE TABLE finished_surveys (
            id TEXT PRIMARY KEY, seq INTEGER NOT NULL REFERENCES responses(seq),
            sent INTEGER NOT NULL, finished_utc TEXT NOT NULL
        )""")


@migrations()
def i9b_nfc_duty_names(db):
    # The counter and officer on duty, as staff mode keeps them, in one spelling (NFC).
    # Frozen: the standard library's NFC, not the application's text helpers.
    for key in ("counter", "officer"):
        row = db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
        if row and unicodedata.normalize("NFC", row[0]) != row[0]:
            db.execute("UPDATE settings SET value = ? WHERE key = ?", [unicodedata.normalize("NFC", row[0]), key])


@migrations()
def i9a_response_marks(db):
    # Notes kept with a response at commit, outside its chained record, never
    # changed: e.g. 'clock_back' when the clock was behind the previous response's.
    db.execute("""
        CREATE TABLE response_marks (
            seq INTEGER NOT NULL REFERENCES responses(seq),
            mark TEXT NOT NULL, detail TEXT NOT NULL,
            PRIMARY KEY (seq, mark)
        )""")
    for action in ("UPDATE", "DELETE"):
        db.execute(f"""
            CREATE TRIGGER response_marks_no_{action.lower()} BEFORE {action} ON response_marks
            BEGIN SELECT RAISE(ABORT, 'response marks are append-only'); END""")


@migrations()
def i13_central_config(db):
    # The roster's stable ids of the counter and officer on duty, kept with each survey and
    # response beside the display names as they were (null for responses made before).
    for table in ("drafts", "responses"):
        db.execute(f"ALTER TABLE {table} ADD COLUMN counter_id TEXT")
        db.execute(f"ALTER TABLE {table} ADD COLUMN officer_id TEXT")
    # The last good configuration central sent (one row, replaced whole in one transaction):
    # its version (central's sha256) and the checked content as canonical JSON.
    db.execute("""
        CREATE TABLE central_config (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            version TEXT NOT NULL, content TEXT NOT NULL,
            received_utc TEXT NOT NULL, checked_utc TEXT NOT NULL
        )""")
    # Every questionnaire central sent, by version, so a survey begun on one is finished on it.
    db.execute("""
        CREATE TABLE received_questionnaires (
            version TEXT PRIMARY KEY, source TEXT NOT NULL, received_utc TEXT NOT NULL
        )""")
