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

from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError

from kiosk import chain
from kiosk.clock import local_today, parse_utc, utc_iso
from kiosk.text import nfc

from .store import database, schema, tallies
from . import installs
from .cases import case_rows, compliment_rows, is_compliment, why

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


@lru_cache(maxsize=4096)
def _local_day(utc_hour: str) -> str:
    """The day in Asia/Ho_Chi_Minh of a UTC hour such as '2026-01-31T17' (cached: it is per hour)."""
    return local_today(parse_utc(utc_hour + ":00:00.000Z")).isoformat()


def _row(response, kiosk, batch_id, received, install_id=""):
    record = {name: response[name] for name in chain.CHAINED_FIELDS}
    for name in ("answers", "reasons", "flags"):
        record[name] = chain.CANONICAL_JSON.encode(record[name])
    return {**record, "hash": response["hash"], "unit": kiosk["unit"],
            "local_day": _local_day(response["created_utc"][:13]),
            "received_utc": received, "batch_id": batch_id, "install_id": install_id}


def ingest(engine, kiosk, payload, received_at, kiosk_clock_at):
    """Store a validated batch; returns the list of verdicts in the batch's order.

    Sequence numbers are unique per (kiosk, install): see ``sync.central.installs``.
    """
    received = utc_iso(received_at)
    batch_id, items = payload["batch_id"], payload["responses"]
    install_id = (payload.get("install") or {}).get("id", "")
    with database.write(engine) as conn:
        database.lock_unit(conn, kiosk["unit"])
        before, chain_events = installs.arrive(conn, kiosk["kiosk_id"], payload.get("install"),
                                               [r["seq"] for r in items], received)
        by_uuid = dict(conn.execute(select(schema.responses.c.uuid, schema.responses.c.hash).where(
            schema.responses.c.uuid.in_([r["uuid"] for r in items]))).all())
        seqs = [r["seq"] for r in items]  # increasing (validated): the range keeps the lookup on the index
        taken_seqs = dict(conn.execute(select(schema.responses.c.seq, schema.responses.c.uuid).where(
            schema.responses.c.kiosk_id == kiosk["kiosk_id"], schema.responses.c.install_id == install_id,
            schema.responses.c.seq.between(seqs[0], seqs[-1]), schema.responses.c.seq.in_(seqs))).all())

        verdicts, rows, tallied, privates, held, accepted = [], [], [], {}, [], []
        events = [{**e, "recorded_utc": received} for e in chain_events]

        def event(kind, seq, detail):
            events.append({"kiosk_id": kiosk["kiosk_id"], "install_id": install_id, "kind": kind, "seq": seq,
                           "detail": detail, "recorded_utc": received})

        skew = kiosk_clock_at - received_at
        if abs(skew) > SKEW_TOLERANCE:
            event("clock_skew", None, f"The kiosk's clock is {abs(skew.total_seconds()):.0f} s "
                                      f"{'ahead of' if skew > timedelta(0) else 'behind'} central's.")
        for response in items:
            seq, uuid = response["seq"], response["uuid"]
            verdict = {"uuid": uuid, "seq": seq}
            reason = None
            if chain.record_hash(response) != response["hash"]:
                reason = "its content does not match its hash (altered)"
                event("altered", seq, f"Response #{seq} ({uuid}): {reason}.")
            elif (problem := _private_problem(response)):
                reason = problem
                event("altered", seq, f"Response #{seq} ({uuid}): {reason}.")
            elif uuid in by_uuid:
                if by_uuid[uuid] == response["hash"]:
                    verdicts.append({**verdict, "status": "duplicate"})
                    continue
                reason = "conflict: another response with this UUID is already stored"
                event("conflict", seq, f"Response #{seq} ({uuid}): {reason}.")
            elif seq in taken_seqs:
                reason = f"conflict: sequence number #{seq} is already taken by response {taken_seqs[seq]}"
                event("conflict", seq, f"Response #{seq} ({uuid}): {reason}.")
            if reason:
                held.append({"kiosk_id": kiosk["kiosk_id"], "batch_id": batch_id, "seq": seq, "uuid": uuid,
                             "reason": reason, "payload": json.dumps(response, ensure_ascii=False),
                             "received_utc": received, "install_id": install_id})
                verdicts.append({**verdict, "status": "rejected", "reason": reason})
                continue
            if parse_utc(response["created_utc"]) - received_at > SKEW_TOLERANCE:
                event("clock_skew", seq, f"Response #{seq} was created {response['created_utc']}, "
                                         f"after central received it ({received}).")
            response = {**response, "counter": nfc(response["counter"]), "officer": nfc(response["officer"])}
            rows.append(_row(response, kiosk, batch_id, received, install_id))
            accepted.append(response)
            tallied.append({**response, "local_day": rows[-1]["local_day"], "unit": kiosk["unit"],
                            "has_comment": response["comment_hash"] is not None})
            if response.get("private"):
                privates[uuid] = response["private"]
            by_uuid[uuid], taken_seqs[seq] = response["hash"], uuid
            verdicts.append({**verdict, "status": "accepted"})

        events += [{**e, "recorded_utc": received} for e in installs.time_events(
            conn, kiosk["kiosk_id"], install_id, before, accepted, received_at)]
        if rows:
            database.bulk_insert(conn, schema.responses, rows)
            tallies.add_tallies(conn, tallied)
        opening = [response for response in tallied
                   if why(response["answers"], response["has_comment"], response["reasons"])]
        praising = [response for response in tallied
                    if is_compliment(response["answers"], response["has_comment"], response["reasons"])]
        if privates or opening or praising:
            ids = dict(conn.execute(select(schema.responses.c.uuid, schema.responses.c.id).where(
                schema.responses.c.uuid.in_(list(privates) + [row["uuid"] for row in opening + praising]))).all())
        if privates:
            conn.execute(schema.response_private.insert(),
                         [{"response_id": ids[u], **p} for u, p in privates.items()])
        if opening:
            conn.execute(schema.cases.insert(), case_rows(
                [{**response, "id": ids[response["uuid"]], "received_utc": received} for response in opening]))
        if praising:
            conn.execute(schema.compliments.insert(), compliment_rows(
                [{**response, "id": ids[response["uuid"]]} for response in praising]))
        if held:
            conn.execute(schema.quarantine.insert(), held)
        if events:
            conn.execute(schema.integrity_events.insert(), events)
        conn.execute(schema.kiosks.update().where(schema.kiosks.c.kiosk_id == kiosk["kiosk_id"])
                     .values(last_batch_utc=received))
    return verdicts


def ingest_each_alone(engine, kiosk, payload, received_at, kiosk_clock_at):
    """``ingest``, and should the store refuse the batch, each response alone: those the store still
    refuses are quarantined one by one, so a row that passed validation cannot hold back the others.

    Only a store's refusal of values (DataError, IntegrityError) is handled so;
    any other fault is a real server fault and raises.
    """
    try:
        return ingest(engine, kiosk, payload, received_at, kiosk_clock_at)
    except (DataError, IntegrityError):
        pass
    verdicts = []
    for response in payload["responses"]:
        try:
            verdicts += ingest(engine, kiosk, {**payload, "responses": [response]}, received_at, kiosk_clock_at)
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
