"""The hash chain that makes a kiosk's responses tamper-evident.

Each response's hash is SHA-256 over a canonical JSON encoding of its chained
fields, which include the previous response's hash. Free text and contact
details are not chained themselves: only a salted hash of each is, so erasing
the text and its salt leaves the chain intact and nothing to brute-force.
Central (sync issue) recomputes the same hashes with this module.
"""

import hashlib
import json
import re
import secrets

GENESIS_HASH = "0" * 64

#: A response's erasable fields, kept apart from the chained record (table ``response_private``).
PRIVATE_FIELDS = ("comment", "comment_salt", "phone", "phone_salt", "consent_utc")

#: A response id on the wire and in the stores: a UUID in lower-case canonical form.
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

#: The fields a response's hash commits to, in the order they are documented.
CHAINED_FIELDS = (
    "seq", "uuid", "kiosk_id", "started_utc", "created_utc", "utc_offset_minutes",
    "questionnaire_version", "counter", "officer", "dossier_code", "answers", "reasons",
    "complete", "flags", "comment_hash", "contact_hash", "prev_hash",
)

#: Fields chained only when a record has them non-null (issue 13: the roster's stable ids), so every
#: response stored before them (or made without a roster) keeps its hash.
OPTIONAL_CHAINED_FIELDS = ("officer_id", "counter_id")


#: Sorted keys, no spaces, non-ASCII kept: the one JSON encoding of stored and hashed values.
CANONICAL_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chained(record: dict) -> dict:
    """The part of a record its hash commits to: the ``CHAINED_FIELDS``, and each of the
    ``OPTIONAL_CHAINED_FIELDS`` the record holds with a value other than None."""
    part = {name: record[name] for name in CHAINED_FIELDS}
    part.update({name: record[name] for name in OPTIONAL_CHAINED_FIELDS if record.get(name) is not None})
    return part


def canonical(record: dict) -> bytes:
    """The exact bytes hashed: canonical JSON of the chained fields, UTF-8 (texts are NFC already)."""
    return CANONICAL_JSON.encode(chained(record)).encode("utf-8")


def record_hash(record: dict) -> str:
    return hashlib.sha256(canonical(record)).hexdigest()


def new_salt() -> str:
    return secrets.token_hex(16)


def private_hash(salt: str, text: str) -> str:
    """Commitment to an erasable text: SHA-256 over the salt bytes then the UTF-8 text."""
    return hashlib.sha256(bytes.fromhex(salt) + text.encode("utf-8")).hexdigest()
