"""Erasing what a citizen may have erased: comments and phone numbers in the kiosk's store.

The chained record keeps only salted hashes of these texts, so erasing a text and
its salt leaves the chain intact (see ``kiosk.chain``).
"""

from datetime import datetime, timedelta

from sqlite_utils import Database

from .clock import utc_iso
from .store import write


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
