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
"""

import hashlib
import hmac
import json
import re
import uuid

import orjson

from kiosk import chain
from kiosk.chain import PRIVATE_FIELDS, UUID
from kiosk.clock import parse_utc
from kiosk.text import nfc_length, storable

KIOSK_HEADER = "X-Kiosk-Id"
TIMESTAMP_HEADER = "X-Kiosk-Timestamp"
SIGNATURE_HEADER = "X-Kiosk-Signature"
CENTRAL_SIGNATURE_HEADER = "X-Central-Signature"

HEX64 = re.compile(r"^[0-9a-f]{64}$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
KIOSK_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


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


def batch(kiosk_id: str, responses: list, install=None) -> dict:
    """A batch ready to encode; ``install`` (a dict, see the module doc) is left out when None."""
    payload = {"kiosk_id": kiosk_id, "batch_id": str(uuid.uuid4()), "responses": responses}
    if install is not None:
        payload["install"] = install
    return payload


# --- validation: every problem of a batch, each naming its place ---------------
# The bounds below are what both stores hold (PostgreSQL INTEGER, the VARCHAR
# lengths of central's columns) and what the kiosk's forms let in; sync/openapi.py
# builds the batch schema from the same constants.

#: The largest sequence number: PostgreSQL's INTEGER.
SEQ_MAX = 2**31 - 1
#: Longest texts, in characters (code points, as both stores count them).
TEXT_MAX = {"questionnaire_version": 64, "counter": 20, "officer": 80, "dossier_code": 64,
            "comment": 1000, "phone": 16}
ANSWERS_MAX, ANSWER_KEY_MAX, ANSWER_TEXT_MAX = 50, 32, 16
CODES_MAX, CODE_MAX = 50, 32
#: Earliest and latest year of a time: its day in Asia/Ho_Chi_Minh must exist.
YEARS = (2000, 2999)


def _is_int(value, low=None, high=None):
    return isinstance(value, int) and not isinstance(value, bool) and \
        (low is None or value >= low) and (high is None or value <= high)


def _is_text(value, longest, nullable=False, one_line=True):
    """Text both stores hold within `longest` characters, also once in NFC (which central stores)."""
    return (nullable and value is None) or (
        isinstance(value, str) and 0 < len(value) <= longest and storable(value, one_line)
        and nfc_length(value) <= longest)


def _is_time(value):
    try:
        return YEARS[0] <= parse_utc(value).year <= YEARS[1]
    except (TypeError, ValueError):
        return False


def is_uuid(value) -> bool:
    """True for a UUID as text in lower-case canonical form (what kiosks send)."""
    return isinstance(value, str) and UUID.match(value) is not None


def _is_answers(value):
    if not isinstance(value, dict) or len(value) > ANSWERS_MAX:
        return False
    for key, answer in value.items():
        if not _is_text(key, ANSWER_KEY_MAX):
            return False
        if type(answer) is int:
            if not 1 <= answer <= 5:
                return False
        elif not _is_text(answer, ANSWER_TEXT_MAX):
            return False
    return True


def _is_codes(value):
    return isinstance(value, list) and len(value) <= CODES_MAX and all(_is_text(v, CODE_MAX) for v in value)


def _is_hash(value, nullable=False):
    return (nullable and value is None) or (isinstance(value, str) and bool(HEX64.match(value)))


_MISSING = object()
_TEXT = "text of 1 to {} characters, without control characters"

#: field -> (check, what it must be)
FIELD_RULES = {
    "seq": (lambda v: _is_int(v, 1, SEQ_MAX), f"a whole number from 1 to {SEQ_MAX}"),
    "uuid": (is_uuid, "a UUID in lower-case canonical form"),
    "kiosk_id": (lambda v: isinstance(v, str) and bool(KIOSK_ID.match(v)), "a kiosk id"),
    "started_utc": (_is_time, f"a UTC time like 2026-01-31T08:15:00.000Z, years {YEARS[0]} to {YEARS[1]}"),
    "created_utc": (_is_time, f"a UTC time like 2026-01-31T08:15:00.000Z, years {YEARS[0]} to {YEARS[1]}"),
    "utc_offset_minutes": (lambda v: _is_int(v, -840, 840), "minutes from -840 to 840"),
    # counter and officer as the kiosk's duty form lets them in (tab and line breaks are not refused there)
    **{name: ((lambda v, n=TEXT_MAX[name], null=nullable, one=one_line: _is_text(v, n, null, one)),
              ("null or " if nullable else "") + _TEXT.format(TEXT_MAX[name]))
       for name, nullable, one_line in (("questionnaire_version", False, True), ("counter", True, False),
                                        ("officer", True, False), ("dossier_code", True, True))},
    "answers": (_is_answers, f"an object of at most {ANSWERS_MAX} answers (keys of 1 to {ANSWER_KEY_MAX} "
                             f"characters): 1 to 5, or a code of 1 to {ANSWER_TEXT_MAX} characters"),
    "reasons": (_is_codes, f"a list of at most {CODES_MAX} reason codes of 1 to {CODE_MAX} characters"),
    "complete": (lambda v: type(v) is int and v in (0, 1), "0 or 1"),
    "flags": (_is_codes, f"a list of at most {CODES_MAX} flag codes of 1 to {CODE_MAX} characters"),
    "comment_hash": (lambda v: _is_hash(v, nullable=True), "null or 64 hex digits"),
    "contact_hash": (lambda v: _is_hash(v, nullable=True), "null or 64 hex digits"),
    "prev_hash": (_is_hash, "64 hex digits"),
    "hash": (_is_hash, "64 hex digits"),
}


def _key(name: str) -> str:
    """An unknown field's name as an error message may quote it: short, control characters escaped."""
    return name if KIOSK_ID.match(name) and len(name) <= 32 else ascii(name[:32])


def _private_problems(private, where):
    if private is None:
        return []
    if not isinstance(private, dict):
        return [f"{where}.private must be null or an object"]
    problems = [f"{where}.private.{_key(k)} is not a known field" for k in private if k not in PRIVATE_FIELDS]
    for text, salt, one_line in (("comment", "comment_salt", False), ("phone", "phone_salt", True)):
        value, salt_value, longest = private.get(text), private.get(salt), TEXT_MAX[text]
        if value is None and salt_value is None:
            continue
        if not _is_text(value, longest, one_line=one_line) or \
                not (isinstance(salt_value, str) and HEX32.match(salt_value)):
            problems.append(f"{where}.private.{text} must be text of 1 to {longest} characters without "
                            f"control characters, with a 32-hex-digit {salt}")
    if private.get("consent_utc") is not None and not _is_time(private["consent_utc"]):
        problems.append(f"{where}.private.consent_utc must be a UTC time")
    return problems


BATCH_FIELDS = ("kiosk_id", "batch_id", "responses", "install")
INSTALL_FIELDS = ("id", "from_seq", "parent", "head_seq")


def install_problems(install):
    """Problems of a batch's ``install`` object (None: a legacy kiosk, no problem)."""
    if install is None:
        return []
    if not isinstance(install, dict):
        return ["install must be an object"]
    problems = [f"install.{k} is not a known field" for k in install if k not in INSTALL_FIELDS]
    if not is_uuid(install.get("id")):
        problems.append("install.id must be a UUID in lower-case canonical form")
    if install.get("parent") is not None and not is_uuid(install["parent"]):
        problems.append("install.parent must be null or a UUID in lower-case canonical form")
    for field in ("from_seq", "head_seq"):
        if not _is_int(install.get(field), 1 if field == "from_seq" else 0, SEQ_MAX):
            problems.append(f"install.{field} must be a whole number from "
                            f"{1 if field == 'from_seq' else 0} to {SEQ_MAX}")
    return problems


def batch_problems(payload, max_responses: int):
    """Every structural problem of a batch, as sentences naming the place."""
    if not isinstance(payload, dict):
        return ["The body must be a JSON object."]
    problems = [f"{_key(k)} is not a known field" for k in payload if k not in BATCH_FIELDS]
    problems += install_problems(payload.get("install"))
    if not (isinstance(payload.get("kiosk_id"), str) and KIOSK_ID.match(payload["kiosk_id"])):
        problems.append("kiosk_id must be a kiosk id")
    if not is_uuid(payload.get("batch_id")):
        problems.append("batch_id must be a UUID in lower-case canonical form")
    responses = payload.get("responses")
    if not isinstance(responses, list) or not responses:
        return problems + ["responses must be a non-empty list"]
    if len(responses) > max_responses:
        return problems + [f"responses has {len(responses)} items; at most {max_responses} per batch"]
    previous_seq, rules, known = 0, tuple(FIELD_RULES.items()), set(FIELD_RULES) | {"private"}
    for i, response in enumerate(responses):
        if not isinstance(response, dict):
            problems.append(f"responses[{i}] must be an object")
            continue
        for field, (check, must_be) in rules:
            value = response.get(field, _MISSING)
            if value is _MISSING:
                problems.append(f"responses[{i}].{field} is missing")
            elif not check(value):
                problems.append(f"responses[{i}].{field} must be {must_be}")
        if not known.issuperset(response):
            problems += [f"responses[{i}].{_key(k)} is not a known field" for k in response if k not in known]
        if response.get("private") is not None:
            problems += _private_problems(response["private"], f"responses[{i}]")
        seq = response.get("seq")
        if _is_int(seq, 1, SEQ_MAX):
            if seq <= previous_seq:
                problems.append(f"responses[{i}].seq must be greater than the one before it (sequence order)")
            previous_seq = seq
    return problems


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
