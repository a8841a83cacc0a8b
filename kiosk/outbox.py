"""The kiosk's side of the wire: what is pending, central's verdicts, sync status.

It reads and writes the kiosk's own SQLite file, beside the kiosk process.
"""

import json

from kiosk import erasure, store
from kiosk.chain import OPTIONAL_CHAINED_FIELDS, PRIVATE_FIELDS, UUID
from kiosk.clock import now_utc, utc_iso

STATUS_KEYS = ("sync_last_success_utc", "sync_last_error", "sync_last_error_utc")


def pending(db, limit: int, after: int = 0, json_value=json.loads) -> list:
    """The next responses central has not answered for, in sequence order, wire-ready.

    ``after``: a sequence number below which nothing is pending any more (the
    uploader passes the last one it sent, so it does not rescan the acknowledged).
    ``json_value``: what a stored JSON column's text (``store.JSON_COLUMNS``) becomes in the record:
    by default its value; the uploader passes ``orjson.Fragment`` to send the stored text as it is.
    """
    rows = db.execute(
        "SELECT r.* FROM responses r LEFT JOIN sync_acks a ON a.seq = r.seq "
        "WHERE a.seq IS NULL AND r.seq > ? ORDER BY r.seq LIMIT ?", [after, limit])
    columns = [c[0] for c in rows.description]
    records = [_wire_record(dict(zip(columns, row, strict=True)), json_value) for row in rows.fetchall()]
    if not records:
        return []
    seqs = [r["seq"] for r in records]
    marks = ",".join("?" * len(seqs))
    private = {row[0]: dict(zip(PRIVATE_FIELDS, row[1:], strict=True)) for row in db.execute(
        f"SELECT seq, {', '.join(PRIVATE_FIELDS)} FROM response_private WHERE seq IN ({marks})", seqs)}
    for record in records:
        record["private"] = private.get(record["seq"])
    return records


def _wire_record(row: dict, json_value) -> dict:
    """A stored row as the wire carries it: its JSON columns through ``json_value``, and the roster ids only
    when set (a central without the roster takes a response without them, as before)."""
    record = row
    for name in store.JSON_COLUMNS:
        record[name] = json_value(record[name])
    for name in OPTIONAL_CHAINED_FIELDS:
        if record.get(name) is None:
            record.pop(name, None)
    return record


def pending_count(db) -> int:
    return db.execute("SELECT count(*) FROM responses r LEFT JOIN sync_acks a ON a.seq = r.seq "
                      "WHERE a.seq IS NULL").fetchone()[0]


def oldest_pending_utc(db):
    """When the oldest response central has not answered for was made (kiosk clock, UTC text), or None."""
    return db.execute("SELECT min(r.created_utc) FROM responses r LEFT JOIN sync_acks a ON a.seq = r.seq "
                      "WHERE a.seq IS NULL").fetchone()[0]


def record_verdicts(db, batch_id: str, verdicts: dict) -> None:
    """Store central's answer: ``{seq: (status, reason)}``, all in one transaction.

    One statement per (status, reason) found, its sequence numbers passed as one JSON list: a batch of
    5,000 is a few statements, not 5,000 rows bound one by one (a fifth of the uploader's time).
    """
    now = utc_iso(now_utc())
    by_verdict = {}
    for seq, (status, reason) in verdicts.items():
        reason = reason if reason is None or isinstance(reason, str) else json.dumps(reason)  # text, whatever came
        by_verdict.setdefault((status, reason), []).append(seq)
    with store.write(db):
        for (status, reason), seqs in by_verdict.items():
            db.conn.execute(
                "INSERT OR IGNORE INTO sync_acks (seq, status, reason, batch_id, acked_utc) "
                "SELECT value, ?, ?, ?, ? FROM json_each(?)", (status, reason, batch_id, now, json.dumps(seqs)))


def apply_erasures(db, uuids) -> int:
    """Erase the phone numbers central erased (its answer's ``"erased"`` list of UUIDs).

    Anything that is not a list of UUIDs is ignored; UUIDs this kiosk does not
    hold are skipped. Returns how many phone numbers were erased here.
    """
    if not isinstance(uuids, list):
        return 0
    now = now_utc()
    return sum(bool(erasure.erase_contact(db, uuid, now)) for uuid in dict.fromkeys(uuids)
               if isinstance(uuid, str) and UUID.match(uuid))


def record_success(db) -> None:
    with store.write(db):
        store.set_setting(db, "sync_last_success_utc", utc_iso(now_utc()))


def record_error(db, message: str) -> None:
    with store.write(db):
        store.set_setting(db, "sync_last_error", message)
        store.set_setting(db, "sync_last_error_utc", utc_iso(now_utc()))


def status(db) -> dict:
    """Pending count, refusals, last success, last error: for staff mode and /healthz.

    ``last_rejected`` is ``{seq, reason}`` of the newest response central refused, or None.
    """
    result = {"pending": pending_count(db),
              "rejected": db.execute("SELECT count(*) FROM sync_acks WHERE status = 'rejected'").fetchone()[0]}
    newest = db.execute("SELECT seq, reason FROM sync_acks WHERE status = 'rejected' "
                        "ORDER BY seq DESC LIMIT 1").fetchone()
    result["last_rejected"] = {"seq": newest[0], "reason": newest[1]} if newest else None
    for key in STATUS_KEYS:
        result[key.removeprefix("sync_")] = store.get_setting(db, key)
    return result
