"""Surveys in progress (drafts) and how one becomes a response in the kiosk's store.

A draft holds the taps of one survey, by the id its forms carry; ``finish_draft``
appends it to the hash chain as a response and records the survey as ended, in
one transaction, so a survey is stored once.
"""

import json
import uuid
from datetime import datetime

from sqlite_utils import Database

from . import chain
from .clock import local_offset_minutes, parse_utc, utc_iso
from .flags import flags_for
from .store import JSON_COLUMNS, StoreError, dumps, get_setting, set_setting, write


#: A draft's last-screen entries before the citizen typed anything.
NO_FEEDBACK = {"reasons": [], "comment": None, "phone": None}


def get_draft(db: Database, draft_id):
    """The draft as a dict (``answers`` and ``feedback`` decoded), or None."""
    draft = next(db["drafts"].rows_where("id = ?", [draft_id]), None) if draft_id else None
    if draft is not None:
        draft["answers"] = json.loads(draft["answers"])
        draft["feedback"] = json.loads(draft["feedback"]) if draft.get("feedback") else dict(NO_FEEDBACK)
    return draft


def survey_ended(db: Database, survey_id) -> bool:
    """True if the survey with this id has already become a response."""
    return survey_id is not None and db.execute(
        "SELECT 1 FROM finished_surveys WHERE id = ?", [survey_id]).fetchone() is not None


def _insert_draft(db: Database, draft_id: str, questionnaire_version: str, now: datetime) -> None:
    # Inside a write transaction: binds the counter, officer (names and roster ids) and any dossier staff set.
    dossier = get_setting(db, "pending_dossier")
    db.execute("DELETE FROM settings WHERE key = 'pending_dossier'")
    db["drafts"].insert({
        "id": draft_id, "started_utc": utc_iso(now), "updated_utc": utc_iso(now),
        "questionnaire_version": questionnaire_version,
        "counter": get_setting(db, "counter"), "officer": get_setting(db, "officer"),
        "counter_id": get_setting(db, "counter_id"), "officer_id": get_setting(db, "officer_id"),
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


# --- ending a survey: the draft becomes a response --------------------------

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
        head = db.execute("SELECT seq, hash, created_utc FROM responses ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev_hash = (head[0] + 1, head[1]) if head else (1, chain.GENESIS_HASH)
        private = _private_fields(comment, phone, now)
        record = {
            "seq": seq, "uuid": str(uuid.uuid4()), "kiosk_id": get_setting(db, "kiosk_id"),
            "started_utc": draft["started_utc"], "created_utc": utc_iso(now),
            "utc_offset_minutes": local_offset_minutes(),
            "questionnaire_version": draft["questionnaire_version"],
            "counter": draft["counter"], "officer": draft["officer"],
            "dossier_code": draft["dossier_code"],
            "answers": draft["answers"], "reasons": sorted(reasons or ()),
            "complete": int(complete),
            "flags": flags_for(db, policy, complete=complete, now=now,
                               started=parse_utc(draft["started_utc"]),
                               dossier_code=draft["dossier_code"], answers=draft["answers"]),
            "comment_hash": chain.private_hash(private["comment_salt"], comment) if comment else None,
            "contact_hash": chain.private_hash(private["phone_salt"], phone) if phone else None,
            "prev_hash": prev_hash,
        }
        record.update({name: draft[name] for name in chain.OPTIONAL_CHAINED_FIELDS if draft[name] is not None})
        record["hash"] = chain.record_hash(record)
        db["responses"].insert({k: dumps(v) if k in JSON_COLUMNS else v for k, v in record.items()})
        if private:
            db["response_private"].insert({"seq": seq, **private})
        _mark_clock_back(db, seq, now, head, draft["started_utc"])
        db.execute("DELETE FROM drafts WHERE id = ?", [draft_id])
        db.execute("INSERT INTO finished_surveys (id, seq, sent, finished_utc) VALUES (?, ?, ?, ?)",
                   [draft_id, seq, int(complete), utc_iso(now)])
        set_setting(db, "chain_head", f"{seq} {record['hash']}")
    return seq


def _private_fields(comment, phone, now: datetime) -> dict:
    """The erasable row for a response: each given text with a fresh salt ({} if neither)."""
    private = {}
    if comment:
        private["comment_salt"] = chain.new_salt()
        private["comment"] = comment
    if phone:
        private["phone_salt"] = chain.new_salt()
        private["phone"] = phone
        private["consent_utc"] = utc_iso(now)
    return private


def _mark_clock_back(db: Database, seq: int, now: datetime, head, started_utc: str) -> None:
    """Inside finish_draft's transaction: note 'clock_back' if the commit time is before
    the previous response's (``head``: its seq, hash, created_utc, or None) or the survey's first tap."""
    if head and utc_iso(now) < head[2]:
        db["response_marks"].insert({"seq": seq, "mark": "clock_back", "detail": (
            f"committed at {utc_iso(now)} by the kiosk's clock, earlier than response #{head[0]} "
            f"({head[2]}): the clock went back")})
    elif utc_iso(now) < started_utc:
        db["response_marks"].insert({"seq": seq, "mark": "clock_back", "detail": (
            f"committed at {utc_iso(now)} by the kiosk's clock, earlier than its own first tap "
            f"({started_utc}): the clock went back during the survey")})


def finish_stale_drafts(db: Database, *, idle_before: datetime, now: datetime, policy) -> int:
    """Keep abandoned surveys as incomplete responses; returns how many."""
    stale = [row[0] for row in db.execute(
        "SELECT id FROM drafts WHERE updated_utc < ? ORDER BY started_utc", [utc_iso(idle_before)])]
    return sum(1 for draft_id in stale
               if finish_draft(db, draft_id, complete=False, now=now, policy=policy))
