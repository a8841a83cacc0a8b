"""Central's view of kiosk stores ("installs") and of time along each store's chain.

Each kiosk store has an install id (see ``kiosk.store.ensure_install``), and a
sequence number is unique within its (kiosk, install) chain. A batch without an
install belongs to the kiosk's legacy install ''. This module runs inside
ingest's transaction and returns integrity events as rows for
``integrity_events`` (without ``recorded_utc``, which ingest adds):

- ``reinstalled``: a new store of a known kiosk starting from seq 1;
- ``copied``: a new store continuing another one's chain (its database was copied or moved,
  or restored from a backup: see ``kiosk.backup``);
- ``two_installs``: two stores of one kiosk sending at the same time, naming both;
- ``clock_back``: a response stamped earlier than the one before it in its chain
  (or than its own first tap);
- ``clock_behind``: a response made after the previous batch reached central but
  stamped well before that batch arrived (the kiosk's clock was behind).

Figures keep the kiosk's time; these events only say where it is doubtful.
"""

import operator
from datetime import timedelta

from sqlalchemy import func, select

from kiosk.clock import parse_utc, utc_iso

from sync.wire import SEQ_MAX

from .store import schema

#: A fresh response stamped this long before central received the previous batch is an event.
FRESH_TOLERANCE = timedelta(minutes=5)


def label(install_id: str) -> str:
    """How staff read an install id: the id itself, or 'the legacy store' for ''."""
    return f"store {install_id}" if install_id else "the legacy store (made before install ids)"


def _event(kiosk_id, install_id, kind, seq, detail):
    return {"kiosk_id": kiosk_id, "install_id": install_id, "kind": kind, "seq": seq, "detail": detail}


def arrive(conn, kiosk_id: str, install, seqs: list, received: str):
    """Record a batch from ``install`` (the batch's dict or None) holding sequence numbers ``seqs``.

    Returns (the install's row as it was before this batch or None, list of event dicts).
    """
    install = install or {}
    install_id = install.get("id", "")
    installs, responses = schema.installs, schema.responses
    # One index lookup per store (a kiosk has a few), never a scan of its responses; one statement in all.
    top = select(func.max(responses.c.seq)).where(responses.c.kiosk_id == installs.c.kiosk_id,
                                                  responses.c.install_id == installs.c.install_id).scalar_subquery()
    rows, highest = {}, {}
    query = select(installs, top.label("highest_seq")).where(installs.c.kiosk_id == kiosk_id)
    for row in conn.execute(query).mappings():
        row = dict(row)
        highest[row["install_id"]] = row.pop("highest_seq")
        rows[row["install_id"]] = row
    before, events = rows.get(install_id), []
    head = install.get("head_seq")
    if before is None:
        row = {"kiosk_id": kiosk_id, "install_id": install_id, "parent_id": install.get("parent"),
               "from_seq": install.get("from_seq", 1), "first_seen_utc": received, "last_batch_utc": received,
               "head_seq": head, "concurrent_with": None}
        conn.execute(schema.installs.insert().values(**row))
        events += _new_install_events(kiosk_id, row, rows, highest)
        rows[install_id] = row
    else:
        conn.execute(schema.installs.update().where(schema.installs.c.kiosk_id == kiosk_id,
                                                schema.installs.c.install_id == install_id)
                     .values(last_batch_utc=received, head_seq=head))
    events += _concurrent_events(conn, kiosk_id, rows[install_id], rows, highest, seqs)
    return before, events


def _new_install_events(kiosk_id, row, known, highest):
    others = [other for other in known.values() if highest.get(other["install_id"]) or other["install_id"]]
    if not others:
        return []  # the kiosk's first store: nothing to say
    new = label(row["install_id"])
    if row["from_seq"] == 1:
        previous = "; ".join(f"{label(o['install_id'])} ended at #{highest.get(o['install_id']) or 0}"
                             for o in others)
        return [_event(kiosk_id, row["install_id"], "reinstalled", 1,
                       f"Kiosk {kiosk_id} reinstalled: new store from seq 1 ({new}; {previous}). "
                       f"Both stores' responses are kept and counted.")]
    parent = label(row["parent_id"] or "")
    ahead = highest.get(row["parent_id"] or "") or 0
    held = (f" Central already holds #{row['from_seq']}–#{ahead} of {parent}, made after the copy was taken "
            f"(as when a kiosk is restored from a backup); both stores' responses are kept and counted."
            if ahead >= row["from_seq"] else "")
    return [_event(kiosk_id, row["install_id"], "copied", row["from_seq"],
                   f"Kiosk {kiosk_id}: {new} is a copy of {parent}, continuing its chain from "
                   f"#{row['from_seq']} (its database was copied or moved, or restored from a backup).{held}")]


def _concurrent_events(conn, kiosk_id, row, known, highest, seqs):
    """Two stores of one kiosk alive at once: an older one still sending, or a parent past the fork."""
    events = []
    for other in known.values():
        if other["install_id"] == row["install_id"]:
            continue
        if other["first_seen_utc"] > row["first_seen_utc"]:
            older, newer = row, other  # this store was replaced or copied, yet it still sends
        elif (row["parent_id"] or "") == other["install_id"] and row["from_seq"] > 1 \
                and (highest.get(other["install_id"]) or 0) >= row["from_seq"] \
                and other["last_batch_utc"] >= row["first_seen_utc"]:
            # The store this one was copied from went on past the copy and still sent after this one
            # appeared. One that fell silent before is a store restored from a backup: the copied event says so.
            older, newer = other, row
        else:
            continue
        if older["concurrent_with"] == newer["install_id"]:
            continue  # already said
        conn.execute(schema.installs.update().where(schema.installs.c.kiosk_id == kiosk_id,
                                                schema.installs.c.install_id == older["install_id"])
                     .values(concurrent_with=newer["install_id"]))
        older["concurrent_with"] = newer["install_id"]
        events.append(_event(
            kiosk_id, row["install_id"], "two_installs", min(seqs),
            f"Two stores of kiosk {kiosk_id} are sending at once: {label(older['install_id'])} "
            f"and {label(newer['install_id'])} (from #{newer['from_seq']}); this batch came from "
            f"{label(row['install_id'])} with #{min(seqs)}–#{max(seqs)}. Both stores' responses are "
            f"kept, counted and marked with their store: make sure only one tablet runs as {kiosk_id}."))
    return events


def time_events(conn, kiosk_id, install_id, before, accepted: list, received_at):
    """Clock events for the responses just accepted (wire dicts, in sequence order) of one chain."""
    if not accepted:
        return []
    parent = (before or {}).get("parent_id")
    in_batch = {r["seq"]: r["created_utc"] for r in accepted}
    # Neighbours within what a sequence column holds (a seq of SEQ_MAX has no next one).
    around = {n for r in accepted for n in (r["seq"] - 1, r["seq"] + 1) if 1 <= n <= SEQ_MAX} - set(in_batch)
    stored = {}
    for chain_id in filter(lambda c: c is not None and around, (parent, install_id)):
        stored.update(conn.execute(select(schema.responses.c.seq, schema.responses.c.created_utc).where(
            schema.responses.c.kiosk_id == kiosk_id, schema.responses.c.install_id == chain_id,
            schema.responses.c.seq.between(min(around), max(around)),
            schema.responses.c.seq.in_(sorted(around)))).all())
    stamps = {**stored, **in_batch}
    events = []
    head, last = (before or {}).get("head_seq"), (before or {}).get("last_batch_utc")
    # Stamped before this text is behind the previous batch (texts of ``utc_iso`` sort as times): parsed once.
    behind = last and utc_iso(parse_utc(last) - FRESH_TOLERANCE)
    for response in _worth_a_look(accepted, stored, behind if head is not None else None):
        seq, created = response["seq"], response["created_utc"]
        for earlier, later in ((seq - 1, seq), (seq, seq + 1)):
            if earlier == seq and later in in_batch:
                continue  # checked as that response's own predecessor
            if earlier in stamps and later in stamps and stamps[later] < stamps[earlier]:
                events.append(_event(kiosk_id, install_id, "clock_back", later,
                                     f"Response #{later} of kiosk {kiosk_id} ({label(install_id)}) is stamped "
                                     f"{stamps[later]}, earlier than response #{earlier} ({stamps[earlier]}): "
                                     f"the kiosk's clock went back. It is filed under the kiosk's day."))
        if created < response["started_utc"] and not any(e["seq"] == seq for e in events):
            events.append(_event(kiosk_id, install_id, "clock_back", seq,
                                 f"Response #{seq} of kiosk {kiosk_id} ({label(install_id)}) is stamped "
                                 f"{created}, earlier than its own first tap ({response['started_utc']}): the "
                                 f"kiosk's clock went back during the survey. It is filed under the kiosk's day."))
        if head is not None and behind and seq > head and created < behind and \
                not any(e["seq"] == seq and e["kind"] == "clock_back" for e in events):
            events.append(_event(kiosk_id, install_id, "clock_behind", seq,
                                 f"Response #{seq} of kiosk {kiosk_id} ({label(install_id)}) was made after "
                                 f"central received the store's previous batch ({last}) but is stamped "
                                 f"{created}: the kiosk's clock was behind. It is filed under the kiosk's day."))
    return events


def _worth_a_look(accepted: list, stored: dict, behind) -> list:
    """The accepted responses (in sequence order) that can have a clock event: all of them, unless the
    batch's stamps rise with its sequence numbers, none is stamped before its first tap and none before
    `behind` (then only those beside a stored neighbour can). The same events, without a loop per response
    in the usual batch."""
    created = [r["created_utc"] for r in accepted]
    if all(map(operator.le, created, created[1:])) and \
            not any(map(operator.lt, created, [r["started_utc"] for r in accepted])) and \
            not (behind and min(created) < behind):
        return [r for r in accepted if r["seq"] - 1 in stored or r["seq"] + 1 in stored]
    return accepted
