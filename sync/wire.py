"""The batch format and its signature, shared by the uploader and central.

A batch is ``{"kiosk_id", "batch_id", "responses": [...]}``; each response is
the kiosk's chained record (``kiosk.chain.CHAINED_FIELDS`` plus ``hash``) and
``private``: its erasable comment and phone with their salts, or null.

The request is signed with HMAC-SHA256 over ``timestamp + "." + body``, the
body exactly as sent (gzip-compressed or not), with the kiosk's secret.
Central's answer is signed the same way over ``batch_id + "." + answer body``
(header ``X-Central-Signature``), so the uploader believes nothing unsigned.

A batch from a kiosk store made since install ids exist also carries
``install``: ``{"id", "from_seq", "parent", "head_seq"}`` (see ``kiosk.store``);
without it the batch belongs to the kiosk's legacy install.

Every field's type and bounds: the one batch schema, ``sync.schema``. Central's
answer to a refused batch (400, 413) names each problem in ``details`` as
``{"index", "field", "message"}`` (``sync.problems.Problem``), which the uploader
reads to set those responses aside.
"""

import hashlib
import hmac
import json
import re
import uuid

import orjson

from kiosk import chain
from kiosk.chain import UUID

KIOSK_HEADER = "X-Kiosk-Id"
TIMESTAMP_HEADER = "X-Kiosk-Timestamp"
SIGNATURE_HEADER = "X-Kiosk-Signature"
CENTRAL_SIGNATURE_HEADER = "X-Central-Signature"

#: The batch schema's bounds, re-exported here where the kiosk side and central have always found them. They are
#: read from ``sync.schema`` when first asked for: the uploader, which never validates a batch, starts without
#: loading pydantic (a tenth of a second at each ``kiosk-sync`` start).
_FROM_SCHEMA = ("ANSWER_KEY_MAX", "ANSWER_TEXT_MAX", "ANSWERS_MAX", "CODE_MAX", "CODES_MAX", "SEQ_MAX", "TEXT_MAX",
                "YEARS")


def __getattr__(name):
    """``KIOSK_ID`` (a kiosk id's pattern, compiled) and the schema's bounds (``_FROM_SCHEMA``), on first use."""
    if name != "KIOSK_ID" and name not in _FROM_SCHEMA:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import schema
    globals()[name] = re.compile(schema.KIOSK_ID_PATTERN) if name == "KIOSK_ID" else getattr(schema, name)
    return globals()[name]


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_matches(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """True if `signature` (hex) signs `timestamp` and `body`; any other text, non-ASCII too, is False."""
    if not isinstance(signature, str) or not signature.isascii():
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def sign_answer(secret: str, batch_id: str, body: bytes) -> str:
    """Central's signature of its answer: hex HMAC-SHA256 over ``batch_id + "." + body`` (the answer's bytes)."""
    return sign(secret, batch_id, body)


def answer_signature_matches(secret: str, batch_id: str, body: bytes, signature) -> bool:
    """True only if ``signature`` (the X-Central-Signature header, str or None) signs this answer."""
    return signature_matches(secret, batch_id, body, signature)


def is_uuid(value) -> bool:
    """True for a UUID as text in lower-case canonical form (what kiosks send)."""
    return isinstance(value, str) and UUID.match(value) is not None


def batch(kiosk_id: str, responses: list, install=None) -> dict:
    """A batch ready to encode; ``install`` (a dict, see the module doc) is left out when None."""
    payload = {"kiosk_id": kiosk_id, "batch_id": str(uuid.uuid4()), "responses": responses}
    if install is not None:
        payload["install"] = install
    return payload


# --- validation: the one batch schema lives in sync/schema.py ------------------------------------------

def batch_problems(payload, max_responses: int) -> list:
    """Every structural problem of a batch, as sentences naming the place (see ``problems.batch_errors``
    for the same as ``Problem(index, field, message)`` items)."""
    from . import problems
    return [problem.message for problem in problems.batch_errors(payload, max_responses)]


# --- the wire's JSON: compiled (orjson) where it can, the standard library where it cannot ---------
# For every value a batch holds (texts, whole numbers, null, lists, objects: no floats, which orjson
# writes differently, e.g. 1e-07 as 1e-7) orjson writes what ``json`` writes with ``ensure_ascii=False``
# and compact separators (and, with sorted keys, ``chain.CANONICAL_JSON``'s bytes); it refuses what it
# cannot hold exactly (an integer past 64 bits, a lone surrogate), and then the standard library does the
# work as before. tests/test_wire_codec.py holds them to that.

#: The most digits a whole number in a body is read with (a sequence number has at most 10);
#: a longer one is kept as a ``_Huge`` marker, which every field refuses, naming its place.
MAX_DIGITS = 20


class Unreadable(ValueError):
    """A request body that is no JSON document central can read; the message is the 400's sentence."""


class _Huge:
    """A whole number of more than MAX_DIGITS digits (never converted: 5,000 digits would be slow)."""

    def __init__(self, digits: str):
        self.digits = len(digits.lstrip("-"))

    def __repr__(self):
        return f"<a number of {self.digits} digits>"


def _bounded_int(digits: str):
    return int(digits) if len(digits) <= MAX_DIGITS else _Huge(digits)


def _no_constant(name: str):
    raise Unreadable(f"The body holds {name}, which is not JSON.")


def decode(body: bytes):
    """The JSON value of a request body (UTF-8 bytes, already inflated): dicts, lists, str, int, float, None.

    Raises ``Unreadable`` naming the problem (not UTF-8, not JSON and where, NaN or Infinity,
    nested too deeply). A whole number orjson cannot hold (past 64 bits) comes back as a float
    or, from the standard library's path, as a marker; the batch's fields refuse either.
    """
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass  # the standard library reads it again and names the problem as it always has
    try:
        return json.loads(body.decode("utf-8"), parse_int=_bounded_int, parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise Unreadable("The body is not UTF-8.") from None
    except json.JSONDecodeError as error:
        raise Unreadable(f"The body is not valid JSON ({error.msg} at line {error.lineno}).") from None
    except RecursionError:
        raise Unreadable("The body is nested too deeply; a batch is at most 4 levels deep.") from None


def encode(value) -> bytes:
    """``value`` as compact UTF-8 JSON with non-ASCII kept: the uploader's batch body, before gzip."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def canonical_json(value) -> str:
    """``chain.CANONICAL_JSON.encode(value)`` (sorted keys, compact, non-ASCII kept), compiled."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode("utf-8")
    except orjson.JSONEncodeError:
        return chain.CANONICAL_JSON.encode(value)


def record_hash(record: dict) -> str:
    """``chain.record_hash(record)``: hex SHA-256 of the chained fields' canonical JSON, compiled.

    ``record`` holds the ``chain.CHAINED_FIELDS`` and nothing else (``chain.chained``).
    A caller that finds a mismatch confirms it with ``chain.record_hash`` (the reference).
    """
    try:
        data = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        data = chain.canonical(record)
    return hashlib.sha256(data).hexdigest()
