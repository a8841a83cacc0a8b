"""Typical outcomes published (issue 12, item 7): a closed case as an anonymised question and answer.

The text is the staff's edited version, never the citizen's own record: ``leaks`` refuses a text that
still holds the case's phone number, the citizen's name or the dossier code, or any phone-like number
(Vietnamese phone numbers: a 0 or +84 then 8 to 10 more digits, spaces, dots or dashes allowed between
them, not part of a longer word or number), or any dossier-like code (a PAKN's dossier code is only in
its text: a run of letters, digits and . - / with at least 8 digits, such as 000.00.12.H59-261105-0042,
that is not a date or a grouped amount like 15.000.000).
"""

import re
import unicodedata

#: 0 or +84, then 8 to 10 digits, possibly split by spaces, dots or dashes; not inside a longer code.
PHONE_LIKE = re.compile(r"(?<![\w.\-/])(?:\+\s?84|0)(?:[\s.\-]?\d){8,10}(?![\w/])")


#: A code-like run of letters, digits, dots, dashes and slashes (checked further by ``_dossier_like``).
CODE_RUN = re.compile(r"[0-9A-Za-z][0-9A-Za-z.\-/]*[0-9A-Za-z]")
_DATE = re.compile(r"\d{1,2}[./\-]\d{1,2}[./\-]\d{4}|\d{4}-\d{2}-\d{2}")
_AMOUNT = re.compile(r"\d{1,3}(?:[.,]\d{3})+")


def _dossier_like(text: str) -> bool:
    """True if `text` holds a run with 8 or more digits and a letter or separator that is not a date or
    an amount (a phone number alone is PHONE_LIKE's)."""
    for run in CODE_RUN.findall(text or ""):
        if sum(ch.isdigit() for ch in run) >= 8 and not run.isdigit() and not _DATE.fullmatch(run) \
                and not _AMOUNT.fullmatch(run) and not PHONE_LIKE.fullmatch(run):
            return True
    return False


def _folded(text: str) -> str:
    return unicodedata.normalize("NFC", text or "").casefold()


def _alnum(text: str) -> str:
    """`text` folded, letters and digits only: "HS-00001" and "hs 00001" both read "hs00001"."""
    return re.sub(r"[\W_]", "", _folded(text))


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text or "")


def leaks(text: str, case) -> list:
    """What in `text` could identify the citizen of `case` or the officer concerned (a mapping with optional
    phone, dossier_code, citizen_name, citizen_contact — a PAKN's phone or email —, officer): a list of codes
    among "phone", "name", "officer", "dossier", "phone_like"; [] when none. The case's dossier code is found
    however it is spaced or punctuated ("HS 00001" for HS-00001); any other dossier-like code is "dossier" too."""
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
    officer = _folded(case.get("officer"))  # a whole name, as a word: "An" is too short to tell apart
    if len(officer) >= 4 and re.search(rf"(?<!\w){re.escape(officer)}(?!\w)", _folded(text)):
        found.append("officer")
    dossier = _alnum(case.get("dossier_code"))
    if (len(dossier) >= 4 and dossier in _alnum(text)) or _dossier_like(text):
        found.append("dossier")
    if PHONE_LIKE.search(text or "") and "phone" not in found:
        found.append("phone_like")
    return found


def month_of(case) -> str:
    """YYYY-MM of the day the citizen spoke (the case's local_day), which the public page groups by."""
    return (case.get("local_day") or case["opened_utc"][:10])[:7]
