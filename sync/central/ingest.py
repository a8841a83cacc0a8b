"""Central ingest: one batch, one transaction, a verdict for every response.

A response is accepted (new), a duplicate (same UUID, same content), or
rejected with a reason and kept in quarantine (altered, or in conflict with a
stored one). A rejected response never holds back the ones after it.
Accepted responses are added to the day tallies (see ``kiosk.indices``) and
open their cases in the same transaction.
"""

import json
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.exc import DataError, IntegrityError

from kiosk.clock import parse_utc, utc_iso

from .store import cases as case_store
from .store import database, schema, tallies
from . import installs
from .cases import case_row, compliment_row, compliments_among, opening
from .prepare import ROW_COLUMNS, Prepared

#: A kiosk clock further off than this is recorded as an integrity event.
SKEW_TOLERANCE = timedelta(minutes=2)


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
        self.verdicts, self.accepted, self.accepted_at, self.held, self.events = [], [], [], [], []

    def event(self, kind, seq, detail):
        self.events.append({"kiosk_id": self.kiosk_id, "install_id": self.install_id, "kind": kind, "seq": seq,
                            "detail": detail, "recorded_utc": self.received})

    def reject(self, response, reason):
        seq, uuid = response["seq"], response["uuid"]
        self.held.append({"kiosk_id": self.kiosk_id, "batch_id": self.batch_id, "seq": seq, "uuid": uuid,
                          "reason": reason, "payload": json.dumps(response, ensure_ascii=False),
                          "received_utc": self.received, "install_id": self.install_id})
        self.verdicts.append({"uuid": uuid, "seq": seq, "status": "rejected", "reason": reason})

    def judge(self, items, by_uuid, taken_seqs, prepared=None):
        """Each response's verdict, in order; accepted ones become ``self.accepted`` and their indexes
        ``self.accepted_at``. `prepared`: the batch's ``Prepared`` when made already (``sync.central.checking``);
        otherwise each response is checked and made ready here."""
        if prepared is None or prepared.unit != self.kiosk["unit"]:
            prepared = Prepared({"batch_id": self.batch_id, "install": {"id": self.install_id},
                                 "responses": items}, self.kiosk["unit"])
        self.prepared, self.items = prepared, items
        for index, response in enumerate(items):
            seq, uuid = response["seq"], response["uuid"]
            if (reason := prepared.altered.get(index)):
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
            self.accepted.append(response)
            self.accepted_at.append(index)
            by_uuid[uuid], taken_seqs[seq] = response["hash"], uuid
            self.verdicts.append({"uuid": uuid, "seq": seq, "status": "accepted"})

    def kept(self, ids) -> tuple:
        """What the accepted responses, given `ids` (in order), add beside their rows: ``(counted, whys,
        praised, kept)`` as ``Prepared`` names them, with ``kept`` ``{position: kept response}`` (see
        ``Prepared.kept``) for those that open a case or are compliments, positions in ``self.accepted``."""
        prepared, received = self.prepared, self.received
        if len(self.accepted_at) == len(prepared.rows):  # every one: what the batch counted holds
            kept = {i: prepared.kept(self.items, i, received, ids[i]) for i in (*prepared.whys, *prepared.praised)}
            return prepared.counted, prepared.whys, prepared.praised, kept
        every = [prepared.kept(self.items, index, received, response_id)
                 for index, response_id in zip(self.accepted_at, ids, strict=True)]
        whys = opening(every)
        return tallies.count_tallies(every), whys, compliments_among(every, whys), dict(enumerate(every))


def ingest(engine, kiosk, payload, received_at, kiosk_clock_at, prepared=None, everywhere=False):
    """Store a validated batch; returns the list of verdicts in the batch's order.

    Sequence numbers are unique per (kiosk, install): see ``sync.central.installs``. `prepared`: the batch's
    ``Prepared``, when made already (in the checking worker); otherwise it is made here.
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
        batch.judge(items, *_stored(conn, batch.kiosk_id, batch.install_id, items, everywhere), prepared)
        batch.events += [{**e, "recorded_utc": batch.received} for e in installs.time_events(
            conn, batch.kiosk_id, batch.install_id, before, batch.accepted, received_at)]
        _write(conn, batch)
    return batch.verdicts


def _write(conn, batch):
    """Every row a judged batch adds, one statement per table (ids of new responses given here)."""
    accepted = batch.accepted
    if accepted:
        ids = database.new_ids(conn, schema.responses, len(accepted))
        database.insert_rows(conn, schema.responses, ROW_COLUMNS,
                             [batch.prepared.stored_row(index, batch.received, response_id)
                              for index, response_id in zip(batch.accepted_at, ids, strict=True)])
        counted, whys, praised, kept = batch.kept(ids)
        tallies.add_tallies(conn, None, counted=counted)
        privates = [{"response_id": response_id, **r["private"]}
                    for r, response_id in zip(accepted, ids, strict=True) if r.get("private")]
        if privates:
            conn.execute(schema.response_private.insert(), privates)
        opened = [case_row(kept[position], why) for position, why in whys.items()]
        if opened:
            for case, case_id in zip(opened, database.new_ids(conn, schema.cases, len(opened)), strict=True):
                case["id"] = case_id
            database.bulk_insert(conn, schema.cases, opened)
            case_store.add_reasons(conn, opened)
        praised = [compliment_row(kept[position]) for position in praised]  # a comment alone opens no case
        if praised:
            conn.execute(schema.compliments.insert(), praised)
    if batch.held:
        conn.execute(schema.quarantine.insert(), batch.held)
    if batch.events:
        conn.execute(schema.integrity_events.insert(), batch.events)
    conn.execute(schema.kiosks.update().where(schema.kiosks.c.kiosk_id == batch.kiosk_id)
                 .values(last_batch_utc=batch.received))


def ingest_each_alone(engine, kiosk, payload, received_at, kiosk_clock_at, prepared=None):
    """``ingest``, and should the store refuse the batch, each response alone: those the store still
    refuses are quarantined one by one, so a row that passed validation cannot hold back the others.

    Only a store's refusal of values (DataError, IntegrityError) is handled so;
    any other fault is a real server fault and raises.
    """
    try:
        return ingest(engine, kiosk, payload, received_at, kiosk_clock_at, prepared)
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
