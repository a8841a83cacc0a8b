"""Erasing a citizen's phone number everywhere central keeps it, and telling the kiosk.

PAKN registered by staff keep the citizen's name and contact (given with consent) in ``pakn``; the
retention rule erases them too, 90 days (``CENTRAL_CONTACT_DAYS``) after the case closes.
Central keeps a phone in ``response_private`` and, for a response it could not
accept, inside the quarantined payload. Both are erased by ``central
erase-contact UUID`` and by the retention rule (``--expired``). Each erasure
is also queued for the kiosk that sent the response: central's next sync
answers to that kiosk carry ``"erased": [uuid, ...]``, and the uploader erases
its copy. An answer can be lost on the way and the kiosk confirms nothing, so a
notice rides in every answer to its kiosk until ``CENTRAL_CONTACT_DAYS`` after
the erasure: by then the kiosk's own retention (``KIOSK_CONTACT_DAYS``, the same
default, counted from the earlier day the phone was given) has erased it anyway.
Figures and the hash chain are untouched: the chain holds only a salted hash.
"""

import json
from datetime import timedelta

from sqlalchemy import or_, select

from kiosk.clock import utc_iso

from .store.database import write
from .store.schema import (CentralStoreError, cases, compliments, erasure_notices, pakn, quarantine, response_private,
                           responses)

#: The most erasures one answer carries; the least sent go first, the rest follow in the next ones.
PER_ANSWER = 500


def erase_contact(engine, response_uuid: str, now) -> bool:
    """Erase one response's phone number at central (stored and quarantined copies).

    Returns True if a phone number was erased, False if none was kept. The
    kiosk is told either way. Raises CentralStoreError if central has never
    received the response.
    """
    erased_at = utc_iso(now)
    with write(engine) as conn:
        stored = conn.execute(select(responses.c.id, responses.c.kiosk_id).where(
            responses.c.uuid == response_uuid)).first()
        held = conn.execute(select(quarantine.c.id, quarantine.c.kiosk_id, quarantine.c.payload).where(
            quarantine.c.uuid == response_uuid)).all()
        if stored is None and not held:
            raise CentralStoreError(f"No response {response_uuid!r} is stored or quarantined.")
        erased = 0
        if stored is not None:
            erased += conn.execute(response_private.update().where(
                response_private.c.response_id == stored.id, response_private.c.phone.is_not(None))
                .values(phone=None, phone_salt=None, erased_utc=erased_at)).rowcount
        erased += _scrub_quarantined(conn, held, erased_at)
        kiosks = {stored.kiosk_id} if stored is not None else {row.kiosk_id for row in held}
        _notify(conn, [(kiosk_id, response_uuid) for kiosk_id in kiosks], erased_at)
    return erased > 0


def erase_expired_contacts(engine, now, days: int) -> int:
    """The retention rule: erase the phone numbers of cases closed more than `days` ago, of compliments
    (which need no answer) given more than `days` ago, and those held in quarantine for more than `days`;
    returns how many were erased."""
    cutoff, erased_at = utc_iso(now - timedelta(days=days)), utc_iso(now)
    with write(engine) as conn:
        closed = select(cases.c.response_id).where(cases.c.status == "closed", cases.c.closed_utc < cutoff).union(
            select(compliments.c.response_id).where(compliments.c.started_utc < cutoff))
        due = conn.execute(select(responses.c.id, responses.c.kiosk_id, responses.c.uuid)
                           .join(response_private, response_private.c.response_id == responses.c.id)
                           .where(responses.c.id.in_(closed), response_private.c.phone.is_not(None))).all()
        if due:
            conn.execute(response_private.update().where(
                response_private.c.response_id.in_([row.id for row in due]),
                response_private.c.phone.is_not(None)).values(phone=None, phone_salt=None, erased_utc=erased_at))
        held = conn.execute(select(quarantine.c.id, quarantine.c.kiosk_id, quarantine.c.uuid,
                                   quarantine.c.payload).where(
            quarantine.c.received_utc < cutoff, quarantine.c.erased_utc.is_(None))).all()
        scrubbed = _scrub_quarantined(conn, held, erased_at)
        scrubbed += _erase_pakn_contacts(conn, cutoff, erased_at)
        _notify(conn, [(row.kiosk_id, row.uuid) for row in due]
                + [(row.kiosk_id, row.uuid) for row in held if row.uuid], erased_at)
    return len(due) + scrubbed


def _erase_pakn_contacts(conn, cutoff, erased_at) -> int:
    """The name and contact of PAKN registered by staff, for cases closed before `cutoff`; how many."""
    closed = select(cases.c.id).where(cases.c.status == "closed", cases.c.closed_utc < cutoff)
    return conn.execute(pakn.update().where(
        pakn.c.case_id.in_(closed), or_(pakn.c.citizen_name.is_not(None), pakn.c.contact.is_not(None)))
        .values(citizen_name=None, contact=None, erased_utc=erased_at)).rowcount


def _scrub_quarantined(conn, held, erased_at) -> int:
    """Erase the phone inside quarantined payloads; returns how many held one."""
    erased = 0
    for row in held:
        try:
            payload = json.loads(row.payload)
        except ValueError:
            payload = None
        private = payload.get("private") if isinstance(payload, dict) else None
        had_phone = isinstance(private, dict) and private.get("phone") is not None
        values = {"erased_utc": erased_at}
        if had_phone:
            private.update(phone=None, phone_salt=None)
            values["payload"] = json.dumps(payload)  # escaped: whatever the payload held, it fits
            erased += 1
        conn.execute(quarantine.update().where(quarantine.c.id == row.id).values(**values))
    return erased


def _notify(conn, pairs, erased_at) -> None:
    """Queue (kiosk_id, uuid) erasures for the kiosks' next sync answers (once each while queued)."""
    pairs = sorted(set(pairs))
    if not pairs:
        return
    queued = set(conn.execute(select(erasure_notices.c.kiosk_id, erasure_notices.c.uuid).where(
        erasure_notices.c.uuid.in_([uuid for _k, uuid in pairs]),
        erasure_notices.c.times_sent == 0)).all())
    fresh = [{"kiosk_id": k, "uuid": u, "erased_utc": erased_at, "times_sent": 0}
             for k, u in pairs if (k, u) not in queued]
    if fresh:
        conn.execute(erasure_notices.insert(), fresh)


def erasures_for(engine, kiosk_id: str, now, keep_days: int) -> list:
    """The UUIDs whose phone the kiosk must erase, for one sync answer: every notice for the kiosk
    younger than `keep_days` (erasing twice on the kiosk is harmless), at most PER_ANSWER of them,
    least sent first. Older notices are dropped."""
    notices = erasure_notices
    due = (select(notices.c.id, notices.c.uuid).where(notices.c.kiosk_id == kiosk_id)
           .order_by(notices.c.times_sent, notices.c.id).limit(PER_ANSWER))
    with engine.connect() as conn:  # most answers carry none: no write lock for them
        if conn.execute(due).first() is None:
            return []
    with write(engine) as conn:
        conn.execute(notices.delete().where(notices.c.kiosk_id == kiosk_id,
                                            notices.c.erased_utc < utc_iso(now - timedelta(days=keep_days))))
        rows = conn.execute(due).all()
        if rows:
            conn.execute(notices.update().where(notices.c.id.in_([row.id for row in rows]))
                         .values(times_sent=notices.c.times_sent + 1))
    return list(dict.fromkeys(row.uuid for row in rows))
