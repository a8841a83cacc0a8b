"""Text as both stores can hold it: one spelling (NFC), no invisible control characters.

The shared home of these rules: the kiosk's forms, central's CLI, forms, query
parameters and batch validator all use them, so a name typed or sent in
decomposed Unicode (NFD) is stored and compared as the composed one.
"""

import re
import unicodedata

#: Characters the kiosk's forms refuse: C0/C1 controls (except tab, line feed and
#: carriage return), zero-width characters and bidirectional overrides.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")

#: Every C0/C1 control character, line breaks and tabs included: refused in one-line names.
ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")

#: A lone UTF-16 surrogate (JSON "\ud800" decodes to one): no UTF-8 encoding, no store can hold it.
SURROGATE = re.compile(r"[\ud800-\udfff]")


def nfc(value):
    """`value` in Unicode NFC if it is a string, else unchanged (None stays None)."""
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


_UNSTORABLE = {True: re.compile(ANY_CONTROL.pattern[:-1] + SURROGATE.pattern[1:]),
               False: re.compile(CONTROL.pattern[:-1] + SURROGATE.pattern[1:])}


def storable(value: str, one_line: bool = False) -> bool:
    """True if both SQLite and PostgreSQL can hold `value` as the kiosk's forms would have let it in.

    No lone surrogate, no NUL or other control character (``one_line``: no
    line break or tab either).
    """
    return _UNSTORABLE[one_line].search(value) is None


def nfc_length(value: str) -> int:
    """The length of `value` once in NFC (what central stores), cheaply when it already is."""
    return len(value) if unicodedata.is_normalized("NFC", value) else len(nfc(value))


def folded(value: str) -> str:
    """`value` for a forgiving search: lower case, without Vietnamese tone and vowel marks
    ("Nguyễn Văn Hùng" -> "nguyen van hung"; đ -> d), so staff may type without diacritics."""
    plain = "".join(c for c in unicodedata.normalize("NFD", value) if not unicodedata.combining(c))
    return plain.replace("đ", "d").replace("Đ", "D").casefold()
