"""Central ingest: one batch, one transaction, a verdict for every response.

A response is accepted (new), a duplicate (same UUID, same content), or
rejected with a reason and kept in quarantine (altered, or in conflict with a
stored one). A rejected response never holds back the ones after it.
Accepted responses are added to the day tallies (see ``kiosk.indices``) and
open their cases in the same transaction.
"""

import json
from datetime import timedelta
from functools import lru_cache

from sqlalchemy import text
from sqlalchemy.exc import DataError, IntegrityError

from kiosk import chain
from kiosk.clock import local_today, parse_utc, utc_iso
from kiosk.text import nfc

from sync import wire

from .store import cases as case_store
from .store import database, schema, tallies
from . import installs
from .cases import case_rows, compliment_rows

#: A kiosk clock further off than this is recorded as an integrity event.
SKEW_TOLERANCE = timedelta(minutes=2)


def _private_problem(response):
    private = response.get("private") or {}
    for field, hash_field in (("comment", "comment_hash"), ("phone", "contact_hash")):
        text = private.get(field)
        if text is None:
            continue
        if chain.private_hash(private[f"{field}_salt"], text) != response[hash_field]:
            return f"its {field} does not match the hash in the chain (altered)"
    return None


def altered(response, record):
    """Why a response does not match its own hashes, or None (``record``: its ``chain.chained`` part)."""
    if wire.record_hash(record) != response["hash"] and chain.record_hash(response) != response["hash"]:
        return "its content does not match its hash (altered)"  # confirmed by the reference encoder
    return _private_problem(response)


@lru_cache(maxsize=4096)
def _local_day(utc_hour: str) -> str:
    """The day in Asia/Ho_Chi_Minh of a UTC hour such as '2026-01-31T17' (cached: it is per hour)."""
    return local_today(parse_utc(utc_hour + ":00:00.000Z")).isoformat()


def _row(response, kiosk, batch_id, received, install_id="", record=None):
    """The ``responses`` row of a wire response (without ``id``): JSON columns in canonical JSON.

    ``record``: the response's ``chain.chained`` part when the caller has it already (it becomes the row).
    """
    record = chain.chained(response) if record is None else record
    for name in ("answers", "reasons", "flags"):
        record[name] = "[]" if record[name] == [] else wire.canonical_json(record[name])
    record.update(hash=response["hash"], unit=kiosk["unit"], local_day=_local_day(response["created_utc"][:13]),
                  received_utc=received, batch_id=batch_id, install_id=install_id,
                  officer_id=response.get("officer_id"), counter_id=response.get("counter_id"))
    return record


def _stored(conn, kiosk_id, install_id, items, everywhere=False):
    """What central already holds of a batch, in one statement: ({uuid: hash}, {seq: uuid}) in this chain.

    The batch's own sequence range of its chain, where a resent batch is found: one range of an index. A UUID
    stored anywhere else (a forged or misfiled response; a kiosk never sends one) is looked up only
    `everywhere` (one look-up per UUID, a fifth of a batch's time on PostgreSQL); otherwise the store's unique
    index on ``uuid`` refuses the batch and ``ingest_each_alone`` takes it response by response, everywhere.
    """
    seqs = [r["seq"] for r in items]  # increasing (validated): the range keeps the lookup on the index
    seq_test, same_seqs = database.any_of(conn, "seqs", seqs)
    in_chain = (f"SELECT 1, uuid, hash, seq FROM responses WHERE kiosk_id = :kiosk_id AND install_id = :install_id "
                f"AND seq BETWEEN :first AND :last AND seq {seq_test}")
    parameters = {"kiosk_id": kiosk_id, "install_id": install_id, "first": seqs[0], "last": seqs[-1], **same_seqs}
    if everywhere:
        uuid_test, uuids = database.any_of(conn, "uuids", [r["uuid"] for r in items])
        in_chain = f"SELECT 0, uuid, hash, seq FROM responses WHERE uuid {uuid_test} UNION ALL {in_chain}"
        parameters.update(uuids)
    by_uuid, taken_seqs = {}, {}
    for by_seq, uuid, hash_, seq in conn.execute(text(in_chain), parameters):
        if by_seq:
            taken_seqs[seq] = uuid
        by_uuid[uuid] = hash_
    return by_uuid, taken_seqs


class _Batch:
    """One batch being judged: its verdicts, and the rows each kind of verdict adds."""

    def __init__(self, kiosk, payload, received_at):
        self.kiosk, self.kiosk_id, self.batch_id = kiosk, kiosk["kiosk_id"], payload["batch_id"]
        self.install_id = (payload.get("install") or {}).get("id", "")
        self.received_at, self.received = received_at, utc_iso(received_at)
        # No time at or before this text is ahead of central by SKEW_TOLERANCE (texts sort as times):
        # only later ones are parsed and compared exactly.
        self.skew_floor = utc_iso(received_at + SKEW_TOLERANCE - timedelta(seconds=1))
        self.verdicts, self.accepted, self.held, self.events = [], [], [], []

    def event(self, kind, seq, detail):
        self.events.append({"kiosk_id": self.kiosk_id, "install_id": self.install_id, "kind": kind, "seq": seq,
                            "detail": detail, "recorded_utc": self.received})

    def reject(self, response, reason):
        seq, uuid = response["seq"], response["uuid"]
        self.held.append({"kiosk_id": self.kiosk_id, "batch_id": self.batch_id, "seq": seq, "uuid": uuid,
                          "reason": reason, "payload": json.dumps(response, ensure_ascii=False),
                          "received_utc": self.received, "install_id": self.install_id})
        self.verdicts.append({"uuid": uuid, "seq": seq, "status": "rejected", "reason": reason})

    def judge(self, items, by_uuid, taken_seqs, altered_ones=None):
        """Each response's verdict, in order; accepted ones become ``self.accepted`` (see ``_accept``).
        `altered_ones`: ``{index: reason}`` of those that do not match their hashes, when checked already
        (``sync.central.checking``); otherwise each is checked here."""
        for index, response in enumerate(items):
            seq, uuid = response["seq"], response["uuid"]
            record = chain.chained(response)  # hashed, then stored
            if (reason := altered(response, record) if altered_ones is None else altered_ones.get(index)):
                self.event("altered", seq, f"Response #{seq} ({uuid}): {reason}.")
            elif uuid in by_uuid:
                if by_uuid[uuid] == response["hash"]:
                    self.verdicts.append({"uuid": uuid, "seq": seq, "status": "duplicate"})
                    continue
                reason = "conflict: another response with this UUID is already stored"
                self.event("conflict", seq, f"Response #{seq} ({uuid}): {reason}.")
            elif seq in taken_seqs:
                reason = f"conflict: sequence number #{seq} is already taken by response {taken_seqs[seq]}"
                self.event("conflict", seq, f"Response #{seq} ({uuid}): {reason}.")
            if reason:
                self.reject(response, reason)
                continue
            if response["created_utc"] > self.skew_floor and \
                    parse_utc(response["created_utc"]) - self.received_at > SKEW_TOLERANCE:
                self.event("clock_skew", seq, f"Response #{seq} was created {response['created_utc']}, "
                                              f"after central received it ({self.received}).")
            self._accept(response, record)
            by_uuid[uuid], taken_seqs[seq] = response["hash"], uuid
            self.verdicts.append({"uuid": uuid, "seq": seq, "status": "accepted"})

    def _accept(self, response, record):
        """Keep the response (counter and officer in NFC) with all its rows need: unit, local_day,
        has_comment, received_utc, and its ``responses`` row; ``id`` is given when stored."""
        names = {"counter": nfc(response["counter"]), "officer": nfc(response["officer"]),
                 "officer_id": response.get("officer_id"), "counter_id": response.get("counter_id")}
        response = {**response, **names}
        record.update(counter=names["counter"], officer=names["officer"])
        row = _row(response, self.kiosk, self.batch_id, self.received, self.install_id, record)
        response.update(unit=row["unit"], local_day=row["local_day"], received_utc=self.received,
                        has_comment=response["comment_hash"] is not None, row=row)
        self.accepted.append(response)


def ingest(engine, kiosk, payload, received_at, kiosk_clock_at, altered_ones=None, everywhere=False):
    """Store a validated batch; returns the list of verdicts in the batch's order.

    Sequence numbers are unique per (kiosk, install): see ``sync.central.installs``. `altered_ones`: the
    responses that do not match their hashes, ``{index: reason}``, when checked already (``judge``).
    `everywhere`: look each UUID up in every chain (see ``_stored``; a batch without it that holds a UUID
    stored elsewhere raises IntegrityError).
    """
    batch, items = _Batch(kiosk, payload, received_at), payload["responses"]
    with database.write(engine) as conn:
        database.lock_unit(conn, kiosk["unit"])
        before, chain_events = installs.arrive(conn, batch.kiosk_id, payload.get("install"),
                                               [r["seq"] for r in items], batch.received)
        batch.events += [{**e, "recorded_utc": batch.received} for e in chain_events]
        skew = kiosk_clock_at - received_at
        if abs(skew) > SKEW_TOLERANCE:
            batch.event("clock_skew", None, f"The kiosk's clock is {abs(skew.total_seconds()):.0f} s "
                                            f"{'ahead of' if skew > timedelta(0) else 'behind'} central's.")
        batch.judge(items, *_stored(conn, batch.kiosk_id, batch.install_id, items, everywhere), altered_ones)
        batch.events += [{**e, "recorded_utc": batch.received} for e in installs.time_events(
            conn, batch.kiosk_id, batch.install_id, before, batch.accepted, received_at)]
        _write(conn, batch)
    return batch.verdicts


def _write(conn, batch):
    """Every row a judged batch adds, one statement per table (ids of new responses given here)."""
    accepted = batch.accepted
    if accepted:
        for response, response_id in zip(accepted, database.new_ids(conn, schema.responses, len(accepted)),
                                          strict=True):
            response["id"] = response["row"]["id"] = response_id
        database.bulk_insert(conn, schema.responses, [response["row"] for response in accepted])
        tallies.add_tallies(conn, accepted)
        privates = [{"response_id": r["id"], **r["private"]} for r in accepted if r.get("private")]
        if privates:
            conn.execute(schema.response_private.insert(), privates)
        opened = case_rows(accepted)
        if opened:
            for case, case_id in zip(opened, database.new_ids(conn, schema.cases, len(opened)), strict=True):
                case["id"] = case_id
            database.bulk_insert(conn, schema.cases, opened)
            case_store.add_reasons(conn, opened)
        praised = compliment_rows(accepted)  # a comment alone opens no case (sync.central.cases)
        if praised:
            conn.execute(schema.compliments.insert(), praised)
    if batch.held:
        conn.execute(schema.quarantine.insert(), batch.held)
    if batch.events:
        conn.execute(schema.integrity_events.insert(), batch.events)
    conn.execute(schema.kiosks.update().where(schema.kiosks.c.kiosk_id == batch.kiosk_id)
                 .values(last_batch_utc=batch.received))


def ingest_each_alone(engine, kiosk, payload, received_at, kiosk_clock_at, altered_ones=None):
    """``ingest``, and should the store refuse the batch, each response alone: those the store still
    refuses are quarantined one by one, so a row that passed validation cannot hold back the others.

    Only a store's refusal of values (DataError, IntegrityError) is handled so;
    any other fault is a real server fault and raises.
    """
    try:
        return ingest(engine, kiosk, payload, received_at, kiosk_clock_at, altered_ones)
    except (DataError, IntegrityError):
        pass
    verdicts = []
    for response in payload["responses"]:
        try:
            verdicts += ingest(engine, kiosk, {**payload, "responses": [response]}, received_at, kiosk_clock_at,
                               everywhere=True)
        except (DataError, IntegrityError) as error:
            verdicts.append(_quarantine_refused(engine, kiosk, payload, response, received_at, error))
    return verdicts


def _quarantine_refused(engine, kiosk, payload, response, received_at, error):
    reason = f"central's store refused it ({type(error.orig).__name__})"
    received = utc_iso(received_at)
    install_id = (payload.get("install") or {}).get("id", "")
    with database.write(engine) as conn:
        conn.execute(schema.quarantine.insert().values(
            kiosk_id=kiosk["kiosk_id"], batch_id=payload["batch_id"], seq=response["seq"], uuid=response["uuid"],
            reason=reason, payload=json.dumps(response), received_utc=received,  # escaped: any text fits
            install_id=install_id))
        conn.execute(schema.integrity_events.insert().values(
            kiosk_id=kiosk["kiosk_id"], install_id=install_id, kind="conflict", seq=response["seq"],
            recorded_utc=received,
            detail=f"Response #{response['seq']} ({response['uuid']}): {reason}."))
    return {"uuid": response["uuid"], "seq": response["seq"], "status": "rejected", "reason": reason}
