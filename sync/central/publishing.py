"""Typical outcomes published (issue 12, item 7): a closed case as an anonymised question and answer.

The text is the staff's edited version, never the citizen's own record: ``leaks`` refuses a text that
still holds the case's phone number, the citizen's name or the dossier code, or any phone-like number
(Vietnamese numbers have 10 digits, 0xx xxx xxxx or +84 xx xxx xxxx; any run of 8 or more digits,
spaces, dots or dashes between them allowed, is treated as one).
"""

import re
import unicodedata

#: A run of at least 8 digits, possibly split by spaces, dots, dashes or brackets, or a +84 prefix.
PHONE_LIKE = re.compile(r"(?:\+\s*84|\d)(?:[\s.\-()]*\d){7,}")


def _folded(text: str) -> str:
    return unicodedata.normalize("NFC", text or "").casefold()


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text or "")


def leaks(text: str, case) -> list:
    """What in `text` could identify the citizen of `case` (a mapping with optional phone, dossier_code,
    citizen_name): a list of codes among "phone", "name", "dossier", "phone_like"; [] when none."""
    found = []
    phone = _digits(case.get("phone"))
    if phone and len(phone) >= 6 and (phone in _digits(text) or phone.lstrip("0") in _digits(text)):
        found.append("phone")
    name = _folded(case.get("citizen_name"))
    if name and name in _folded(text):
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
