"""The kiosk's local store: one SQLite file where responses are only appended.

Every write goes through ``write(db)``, one ``BEGIN IMMEDIATE`` transaction,
so two requests can never take the same sequence number. ``synchronous=FULL``
with WAL makes a committed response survive power loss.
"""

import hashlib
import json
import os
import secrets
import socket
import sqlite3
import uuid
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlite_utils import Database, Migrations

from . import chain
from .clock import day_bounds_utc, local_offset_minutes, parse_utc, utc_iso
from .flags import flags_for
from .paths import owner_only
from .text import nfc

JSON_COLUMNS = ("answers", "reasons", "flags")


class StoreError(Exception):
    """The database is missing, belongs to another kiosk, or cannot be written."""


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
    for key in ("counter", "officer"):
        row = db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
        if row and nfc(row[0]) != row[0]:
            db.execute("UPDATE settings SET value = ? WHERE key = ?", [nfc(row[0]), key])


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


def dumps(value) -> str:
    return chain.CANONICAL_JSON.encode(value)


def connect(path: Path) -> Database:
    """Open the kiosk's SQLite file; it, its -wal and its -shm are owner-only (0600)."""
    owner_only(path)
    conn = sqlite3.connect(str(path), timeout=15)
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    return Database(conn)


@contextmanager
def write(db: Database):
    """One write transaction, taken at once so concurrent writers queue."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.rollback()
        raise
    db.execute("COMMIT")


def init(path: Path, kiosk_id: str) -> bool:
    """Create or upgrade the database; never drops anything. True if created."""
    path = Path(path)
    created = not path.exists()
    db = connect(path)
    try:
        db.enable_wal()
        migrations.apply(db)
        owner = get_setting(db, "kiosk_id")
        if owner is not None and owner != kiosk_id:
            raise StoreError(
                f"KIOSK_ID is {kiosk_id!r} but the database {path} belongs to kiosk {owner!r}.")
        if owner is None:
            with write(db):
                set_setting(db, "kiosk_id", kiosk_id)
                set_setting(db, "secret_key", secrets.token_hex(32))
        ensure_install(db, path)
    finally:
        db.close()
    return created


def open_existing(path: Path, kiosk_id: str) -> Database:
    """Open a database made by ``kiosk init``, applying any pending migrations."""
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"KIOSK_DB names {path}, which does not exist: run `kiosk init` first.")
    init(path, kiosk_id)
    return connect(path)


# --- install identity: which store (and which machine) a response was made in -----

def install_place(path: Path) -> str:
    """A fingerprint of where this store lives: the machine's id and the file's real path.

    The machine id is /etc/machine-id (or D-Bus's copy), else the host name.
    """
    machine = socket.gethostname()
    for candidate in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            machine = Path(candidate).read_text().strip() or machine
            break
        except OSError:
            continue
    place = f"{machine}\0{os.path.realpath(path)}"
    return hashlib.sha256(place.encode("utf-8")).hexdigest()[:32]


def ensure_install(db: Database, path: Path) -> dict:
    """Give the store its install id, or a new one when it was copied or moved to another place.

    A new store gets a random install id from seq 1. A store made before install
    ids that already holds responses stays the legacy install (id ''). A store
    opened somewhere other than where its install was made (another machine or
    path: a copied or moved database) starts a new install continuing the chain
    from its next seq, with the old one as parent. Returns the current install:
    ``{"id", "from_seq", "parent"}``.
    """
    place = install_place(path)
    with write(db):
        history = installs(db)
        if history and get_setting(db, "install_place") == place:
            return history[-1]
        head = db.execute("SELECT max(seq) FROM responses").fetchone()[0] or 0
        if not history:
            current = {"id": "" if head else str(uuid.uuid4()), "from_seq": 1, "parent": None}
        else:
            current = {"id": str(uuid.uuid4()), "from_seq": head + 1, "parent": history[-1]["id"]}
        set_setting(db, "install_history", dumps(history + [current]))
        set_setting(db, "install_place", place)
    return current


def installs(db: Database) -> list:
    """This store's installs, oldest first: dicts ``{"id", "from_seq", "parent"}`` (id '' is legacy)."""
    return json.loads(get_setting(db, "install_history", "[]"))


def install_of(history: list, seq: int):
    """(the install a response with this seq was made in, the next install's from_seq or None)."""
    current, following = history[0], None
    for install in history[1:]:
        if install["from_seq"] > seq:
            following = install["from_seq"]
            break
        current = install
    return current, following


def get_setting(db: Database, key: str, default=None):
    if not db["settings"].exists():
        return default
    row = db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    return row[0] if row else default


def set_setting(db: Database, key: str, value) -> None:
    db.execute(
        "INSERT INTO settings(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, str(value)])


# --- drafts -----------------------------------------------------------------

#: A draft's last-screen entries before the citizen typed anything.
NO_FEEDBACK = {"reasons": [], "comment": None, "phone": None}


def get_draft(db: Database, draft_id):
    """The draft as a dict (``answers`` and ``feedback`` decoded), or None."""
    draft = next(db["drafts"].rows_where("id = ?", [draft_id]), None) if draft_id else None
    if draft is not None:
        draft["answers"] = json.loads(draft["answers"])
        draft["feedback"] = json.loads(draft["feedback"]) if draft.get("feedback") else dict(NO_FEEDBACK)
    return draft


def forget_pending_dossier(db: Database) -> None:
    """Drop the dossier code staff set for the next survey, if any (its citizen's turn is over)."""
    if get_setting(db, "pending_dossier") is not None:
        with write(db):
            db.execute("DELETE FROM settings WHERE key = 'pending_dossier'")


def survey_ended(db: Database, survey_id) -> bool:
    """True if the survey with this id has already become a response."""
    return survey_id is not None and db.execute(
        "SELECT 1 FROM finished_surveys WHERE id = ?", [survey_id]).fetchone() is not None


def _insert_draft(db: Database, draft_id: str, questionnaire_version: str, now: datetime) -> None:
    # Inside a write transaction: binds the counter, officer and any dossier staff set.
    dossier = get_setting(db, "pending_dossier")
    db.execute("DELETE FROM settings WHERE key = 'pending_dossier'")
    db["drafts"].insert({
        "id": draft_id, "started_utc": utc_iso(now), "updated_utc": utc_iso(now),
        "questionnaire_version": questionnaire_version,
        "counter": get_setting(db, "counter"), "officer": get_setting(db, "officer"),
        "dossier_code": dossier, "answers": "{}",
    })


def start_draft(db: Database, questionnaire_version: str, now: datetime, draft_id=None) -> str:
    """Begin a survey (id ``draft_id`` or a new UUID), binding it to the counter,
    officer and any dossier staff set; returns its id."""
    draft_id = draft_id or str(uuid.uuid4())
    with write(db):
        _insert_draft(db, draft_id, questionnaire_version, now)
    return draft_id


def save_answer(db: Database, draft_id: str, key: str, value, now: datetime) -> None:
    with write(db):
        row = db.execute("SELECT answers FROM drafts WHERE id = ?", [draft_id]).fetchone()
        if row is None:
            raise StoreError("This survey has already ended.")
        answers = json.loads(row[0])
        answers[key] = value
        db.execute("UPDATE drafts SET answers = ?, updated_utc = ? WHERE id = ?",
                   [dumps(answers), utc_iso(now), draft_id])


#: What ``answer`` did with a tap.
SAVED, KEPT_FIRST, ENDED = "saved", "kept_first", "ended"


def answer(db: Database, survey_id: str, questionnaire_version: str, key: str, value,
           seen, now: datetime) -> str:
    """Record one tap of survey ``survey_id`` in one transaction, starting its draft if needed.

    ``seen`` is the answer the screen showed as chosen when it was drawn (None if
    none). If the stored answer differs, the screen was already answered after it
    was drawn (a double post): the first answer is kept. Returns SAVED, KEPT_FIRST,
    or ENDED (the survey is already a response: nothing stored).
    """
    with write(db):
        if survey_ended(db, survey_id):
            return ENDED
        row = db.execute("SELECT answers FROM drafts WHERE id = ?", [survey_id]).fetchone()
        if row is None:
            _insert_draft(db, survey_id, questionnaire_version, now)
            answers = {}
        else:
            answers = json.loads(row[0])
        if answers.get(key) != seen:
            return KEPT_FIRST
        answers[key] = value
        db.execute("UPDATE drafts SET answers = ?, updated_utc = ? WHERE id = ?",
                   [dumps(answers), utc_iso(now), survey_id])
    return SAVED


def save_feedback(db: Database, survey_id: str, questionnaire_version: str, feedback: dict,
                  now: datetime) -> bool:
    """Keep the last screen's entries ({"reasons": [...], "comment", "phone"}) with the draft.

    Starts the draft if needed; False (nothing stored) if the survey already ended.
    """
    with write(db):
        if survey_ended(db, survey_id):
            return False
        if db.execute("SELECT 1 FROM drafts WHERE id = ?", [survey_id]).fetchone() is None:
            _insert_draft(db, survey_id, questionnaire_version, now)
        db.execute("UPDATE drafts SET feedback = ?, updated_utc = ? WHERE id = ?",
                   [dumps({**NO_FEEDBACK, **feedback}), utc_iso(now), survey_id])
    return True


def touch_draft(db: Database, draft_id: str, now: datetime) -> None:
    with write(db):
        db.execute("UPDATE drafts SET updated_utc = ? WHERE id = ?", [utc_iso(now), draft_id])


# --- responses --------------------------------------------------------------

def finish_draft(db: Database, draft_id: str, *, complete: bool, now: datetime, policy,
                 reasons=None, comment=None, phone=None, questionnaire_version=None):
    """Append the draft as a response and remove the draft, in one transaction.

    ``reasons``, ``comment`` and ``phone`` default to what the draft kept from the
    last screen (``save_feedback``); given, they replace it. With
    ``questionnaire_version``, a survey with no draft yet (only text) is started
    here. Returns the new sequence number, or None if the survey had already
    ended (or never began). ``policy`` decides the anti-abuse flags (see
    ``kiosk.flags``). Raises ``sqlite3.Error`` if the write fails; then nothing changed.
    """
    with write(db):
        draft = get_draft(db, draft_id)
        if draft is None and questionnaire_version and not survey_ended(db, draft_id):
            _insert_draft(db, draft_id, questionnaire_version, now)
            draft = get_draft(db, draft_id)
        if draft is None:
            return None
        if reasons is None and comment is None and phone is None:
            kept = draft["feedback"]
            reasons, comment, phone = kept["reasons"], kept["comment"], kept["phone"]
        reasons = reasons or ()
        head = db.execute("SELECT seq, hash, created_utc FROM responses ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev_hash = (head[0] + 1, head[1]) if head else (1, chain.GENESIS_HASH)

        private = {}
        if comment:
            private["comment_salt"] = chain.new_salt()
            private["comment"] = comment
        if phone:
            private["phone_salt"] = chain.new_salt()
            private["phone"] = phone
            private["consent_utc"] = utc_iso(now)
        record = {
            "seq": seq, "uuid": str(uuid.uuid4()), "kiosk_id": get_setting(db, "kiosk_id"),
            "started_utc": draft["started_utc"], "created_utc": utc_iso(now),
            "utc_offset_minutes": local_offset_minutes(),
            "questionnaire_version": draft["questionnaire_version"],
            "counter": draft["counter"], "officer": draft["officer"],
            "dossier_code": draft["dossier_code"],
            "answers": draft["answers"], "reasons": sorted(reasons),
            "complete": int(complete),
            "flags": flags_for(db, policy, complete=complete, now=now,
                               started=parse_utc(draft["started_utc"]),
                               dossier_code=draft["dossier_code"], answers=draft["answers"]),
            "comment_hash": chain.private_hash(private["comment_salt"], comment) if comment else None,
            "contact_hash": chain.private_hash(private["phone_salt"], phone) if phone else None,
            "prev_hash": prev_hash,
        }
        record["hash"] = chain.record_hash(record)
        db["responses"].insert({k: dumps(v) if k in JSON_COLUMNS else v for k, v in record.items()})
        if private:
            db["response_private"].insert({"seq": seq, **private})
        if head and utc_iso(now) < head[2]:
            db["response_marks"].insert({"seq": seq, "mark": "clock_back", "detail": (
                f"committed at {utc_iso(now)} by the kiosk's clock, earlier than response #{head[0]} "
                f"({head[2]}): the clock went back")})
        elif utc_iso(now) < draft["started_utc"]:
            db["response_marks"].insert({"seq": seq, "mark": "clock_back", "detail": (
                f"committed at {utc_iso(now)} by the kiosk's clock, earlier than its own first tap "
                f"({draft['started_utc']}): the clock went back during the survey")})
        db.execute("DELETE FROM drafts WHERE id = ?", [draft_id])
        db.execute("INSERT INTO finished_surveys (id, seq, sent, finished_utc) VALUES (?, ?, ?, ?)",
                   [draft_id, seq, int(complete), utc_iso(now)])
        set_setting(db, "chain_head", f"{seq} {record['hash']}")
    return seq


def check_writable(db: Database, now: datetime) -> None:
    """Prove the database can be written: commit a small probe row (the time of the check).

    A rolled-back write never reaches the disk, so it cannot see a full disk; this
    one does. Raises ``sqlite3.Error`` (e.g. "database or disk is full") if not.
    """
    with write(db):
        set_setting(db, "health_checked_utc", utc_iso(now))


def finish_stale_drafts(db: Database, *, idle_before: datetime, now: datetime, policy) -> int:
    """Keep abandoned surveys as incomplete responses; returns how many."""
    stale = [row[0] for row in db.execute(
        "SELECT id FROM drafts WHERE updated_utc < ? ORDER BY started_utc", [utc_iso(idle_before)])]
    return sum(1 for draft_id in stale
               if finish_draft(db, draft_id, complete=False, now=now, policy=policy))


def record_from_row(row: dict) -> dict:
    return {k: json.loads(v) if k in JSON_COLUMNS else v for k, v in row.items()}


def responses(db: Database):
    """Every response as a record (JSON columns decoded), in sequence order."""
    for row in db["responses"].rows_where(order_by="seq"):
        yield record_from_row(row)


def erase_private(db: Database, seq: int, now: datetime) -> bool:
    """Erase a response's comment and phone (a citizen's right); figures and chain stay."""
    with write(db):
        cursor = db.execute(
            "UPDATE response_private SET comment = NULL, comment_salt = NULL, phone = NULL, "
            "phone_salt = NULL, erased_utc = ? WHERE seq = ? AND erased_utc IS NULL",
            [utc_iso(now), seq])
        return cursor.rowcount == 1


def erase_contact(db: Database, response_uuid: str, now: datetime):
    """Erase one response's phone number (and its salt); the comment, figures and chain stay.

    Returns True if a phone number was erased, False if none was kept, None if
    no response has this UUID.
    """
    with write(db):
        row = db.execute("SELECT seq FROM responses WHERE uuid = ?", [response_uuid]).fetchone()
        if row is None:
            return None
        cursor = db.execute("UPDATE response_private SET phone = NULL, phone_salt = NULL, erased_utc = ? "
                            "WHERE seq = ? AND phone IS NOT NULL", [utc_iso(now), row[0]])
        return cursor.rowcount == 1


def erase_expired_contacts(db: Database, now: datetime, days: int) -> int:
    """The retention rule on the kiosk: erase every phone number given more than `days` ago.

    Central keeps its own copy for call-backs (until `days` after the case is
    closed); the kiosk needs none. Returns how many were erased.
    """
    cutoff = utc_iso(now - timedelta(days=days))
    with write(db):
        cursor = db.execute(
            "UPDATE response_private SET phone = NULL, phone_salt = NULL, erased_utc = ? "
            "WHERE phone IS NOT NULL AND coalesce(consent_utc, "
            "(SELECT created_utc FROM responses r WHERE r.seq = response_private.seq)) < ?",
            [utc_iso(now), cutoff])
        return cursor.rowcount


def responses_for_day(db: Database, day: date) -> list:
    """A day's responses (Asia/Ho_Chi_Minh) as ``kiosk.indices`` takes them."""
    start, end = day_bounds_utc(day)
    rows = db.execute("SELECT answers, reasons, flags, dossier_code, comment_hash FROM responses "
                      "WHERE created_utc >= ? AND created_utc < ?", [start, end]).fetchall()
    return [{"answers": json.loads(a), "reasons": json.loads(r), "flags": json.loads(f),
             "dossier_code": d, "has_comment": c is not None} for a, r, f, d, c in rows]


def marks(db: Database) -> list:
    """Notes kept with responses (e.g. 'clock_back'), in sequence order: dicts ``{seq, mark, detail}``."""
    return list(db["response_marks"].rows_where(order_by="seq, mark"))


def mark_counts(db: Database) -> dict:
    """How many responses carry each mark, e.g. ``{"clock_back": 1}``."""
    return dict(db.execute("SELECT mark, count(*) FROM response_marks GROUP BY mark").fetchall())


def verify(db: Database):
    """Check sequence, chain and erasable-text hashes.

    Returns (number of responses checked, the first problem or None).
    """
    expected_seq, prev_hash, checked = 1, chain.GENESIS_HASH, 0
    private = {row["seq"]: row for row in db["response_private"].rows}
    for record in responses(db):
        seq, label = record["seq"], f"Response #{record['seq']} ({record['uuid']})"
        if seq != expected_seq:
            missing = f"#{expected_seq}" if seq == expected_seq + 1 else f"#{expected_seq}–#{seq - 1}"
            return checked, f"Sequence gap: {missing} missing before response #{seq}."
        if record["prev_hash"] != prev_hash:
            return checked, f"{label}: its previous hash does not match response #{seq - 1}."
        if chain.record_hash(record) != record["hash"]:
            return checked, f"{label}: its content does not match its hash (altered)."
        extra = private.get(seq)
        for field, hash_field in (("comment", "comment_hash"), ("phone", "contact_hash")):
            text = extra and extra[field]
            if text is not None and chain.private_hash(extra[f"{field}_salt"], text) != record[hash_field]:
                return checked, f"{label}: its {field} does not match the hash in the chain (altered)."
        expected_seq, prev_hash, checked = seq + 1, record["hash"], checked + 1
    head = get_setting(db, "chain_head")
    if head and head != (f"{expected_seq - 1} {prev_hash}"):
        head_seq = head.split()[0]
        return checked, (f"The chain ends at #{expected_seq - 1} but response #{head_seq} "
                         f"was written: responses at the end were deleted or altered.")
    return checked, None
