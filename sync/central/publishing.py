"""Typical outcomes published (issue 12, item 7): a closed case as an anonymised question and answer.

The text is the staff's edited version, never the citizen's own record: ``leaks`` refuses a text that
still holds the case's phone number, the citizen's name or the dossier code, or any phone-like number
(Vietnamese phone numbers: a 0 or +84 then 8 to 10 more digits, spaces, dots or dashes allowed between
them, not part of a longer word or number).
"""

import re
import unicodedata

#: 0 or +84, then 8 to 10 digits, possibly split by spaces, dots or dashes; not inside a longer code.
PHONE_LIKE = re.compile(r"(?<![\w.\-/])(?:\+\s?84|0)(?:[\s.\-]?\d){8,10}(?![\w/])")


def _folded(text: str) -> str:
    return unicodedata.normalize("NFC", text or "").casefold()


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text or "")


def leaks(text: str, case) -> list:
    """What in `text` could identify the citizen of `case` (a mapping with optional phone, dossier_code,
    citizen_name, citizen_contact — a PAKN's phone or email): a list of codes among "phone", "name",
    "dossier", "phone_like"; [] when none."""
    found = []
    contact = case.get("citizen_contact") or ""
    for phone in (_digits(case.get("phone")), "" if "@" in contact else _digits(contact)):
        if phone and len(phone) >= 6 and (phone in _digits(text) or phone.lstrip("0") in _digits(text)):
            found.append("phone")
            break
    if "@" in contact and _folded(contact) in _folded(text):
        found.append("name")
    name = _folded(case.get("citizen_name"))
    if name and name in _folded(text) and "name" not in found:
        found.append("name")
    dossier = _folded(case.get("dossier_code"))
    if dossier and dossier in _folded(text):
        found.append("dossier")
    if PHONE_LIKE.search(text or "") and "phone" not in found:
        found.append("phone_like")
    return found


def month_of(case) -> str:
    """YYYY-MM of the day the citizen spoke (the case's local_day), which the public page groups by."""
    return (case.get("local_day") or case["opened_utc"][:10])[:7]
