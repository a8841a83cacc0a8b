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
import re
import uuid

from kiosk.clock import parse_utc

KIOSK_HEADER = "X-Kiosk-Id"
TIMESTAMP_HEADER = "X-Kiosk-Timestamp"
SIGNATURE_HEADER = "X-Kiosk-Signature"
CENTRAL_SIGNATURE_HEADER = "X-Central-Signature"

HEX64 = re.compile(r"^[0-9a-f]{64}$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
KIOSK_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
PRIVATE_FIELDS = ("comment", "comment_salt", "phone", "phone_salt", "consent_utc")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_matches(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature or "")


def sign_answer(secret: str, batch_id: str, body: bytes) -> str:
    """Central's signature of its answer: hex HMAC-SHA256 over ``batch_id + "." + body`` (the answer's bytes)."""
    return sign(secret, batch_id, body)


def answer_signature_matches(secret: str, batch_id: str, body: bytes, signature) -> bool:
    """True only if ``signature`` (the X-Central-Signature header, str or None) signs this answer."""
    if not isinstance(signature, str) or not signature.isascii():
        return False
    return hmac.compare_digest(sign_answer(secret, batch_id, body), signature)


def batch(kiosk_id: str, responses: list, install=None) -> dict:
    """A batch ready to encode; ``install`` (a dict, see the module doc) is left out when None."""
    payload = {"kiosk_id": kiosk_id, "batch_id": str(uuid.uuid4()), "responses": responses}
    if install is not None:
        payload["install"] = install
    return payload


# --- validation: every problem of a batch, each naming its place ---------------

def _is_int(value, low=None, high=None):
    return isinstance(value, int) and not isinstance(value, bool) and \
        (low is None or value >= low) and (high is None or value <= high)


def _is_text(value, longest, nullable=False):
    return (nullable and value is None) or (isinstance(value, str) and 0 < len(value) <= longest)


def _is_time(value):
    try:
        parse_utc(value)
        return True
    except (TypeError, ValueError):
        return False


UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _is_uuid(value):
    return isinstance(value, str) and UUID.match(value) is not None


def _is_answers(value):
    if not isinstance(value, dict) or len(value) > 50:
        return False
    for key, answer in value.items():
        if not isinstance(key, str) or len(key) > 32:
            return False
        if type(answer) is int:
            if not 1 <= answer <= 5:
                return False
        elif not (type(answer) is str and 0 < len(answer) <= 16):
            return False
    return True


def _is_codes(value):
    return isinstance(value, list) and len(value) <= 50 and all(_is_text(v, 32) for v in value)


def _is_hash(value, nullable=False):
    return (nullable and value is None) or (isinstance(value, str) and bool(HEX64.match(value)))


_MISSING = object()

#: field -> (check, what it must be)
FIELD_RULES = {
    "seq": (lambda v: _is_int(v, 1), "a whole number from 1"),
    "uuid": (_is_uuid, "a UUID in lower-case canonical form"),
    "kiosk_id": (lambda v: isinstance(v, str) and bool(KIOSK_ID.match(v)), "a kiosk id"),
    "started_utc": (_is_time, "a UTC time like 2026-01-31T08:15:00.000Z"),
    "created_utc": (_is_time, "a UTC time like 2026-01-31T08:15:00.000Z"),
    "utc_offset_minutes": (lambda v: _is_int(v, -840, 840), "minutes from -840 to 840"),
    "questionnaire_version": (lambda v: _is_text(v, 64), "text of 1 to 64 characters"),
    "counter": (lambda v: _is_text(v, 20, nullable=True), "null or text of 1 to 20 characters"),
    "officer": (lambda v: _is_text(v, 80, nullable=True), "null or text of 1 to 80 characters"),
    "dossier_code": (lambda v: _is_text(v, 64, nullable=True), "null or text of 1 to 64 characters"),
    "answers": (_is_answers, "an object of answers: 1 to 5, or a short code"),
    "reasons": (_is_codes, "a list of reason codes"),
    "complete": (lambda v: v in (0, 1) and not isinstance(v, bool), "0 or 1"),
    "flags": (_is_codes, "a list of flag codes"),
    "comment_hash": (lambda v: _is_hash(v, nullable=True), "null or 64 hex digits"),
    "contact_hash": (lambda v: _is_hash(v, nullable=True), "null or 64 hex digits"),
    "prev_hash": (_is_hash, "64 hex digits"),
    "hash": (_is_hash, "64 hex digits"),
}


def _private_problems(private, where):
    if private is None:
        return []
    if not isinstance(private, dict):
        return [f"{where}.private must be null or an object"]
    problems = [f"{where}.private.{k} is not a known field" for k in private if k not in PRIVATE_FIELDS]
    for text, salt, longest in (("comment", "comment_salt", 1000), ("phone", "phone_salt", 16)):
        value, salt_value = private.get(text), private.get(salt)
        if value is None and salt_value is None:
            continue
        if not _is_text(value, longest) or not (isinstance(salt_value, str) and HEX32.match(salt_value)):
            problems.append(f"{where}.private.{text} must be text of at most {longest} characters "
                            f"with a 32-hex-digit {salt}")
    if private.get("consent_utc") is not None and not _is_time(private["consent_utc"]):
        problems.append(f"{where}.private.consent_utc must be a UTC time")
    return problems


BATCH_FIELDS = ("kiosk_id", "batch_id", "responses", "install")
INSTALL_FIELDS = ("id", "from_seq", "parent", "head_seq")
MAX_SEQ = 2**31 - 1  # what both central stores can hold in a sequence column


def install_problems(install):
    """Problems of a batch's ``install`` object (None: a legacy kiosk, no problem)."""
    if install is None:
        return []
    if not isinstance(install, dict):
        return ["install must be an object"]
    problems = [f"install.{k} is not a known field" for k in install if k not in INSTALL_FIELDS]
    if not _is_uuid(install.get("id")):
        problems.append("install.id must be a UUID in lower-case canonical form")
    if install.get("parent") is not None and not _is_uuid(install["parent"]):
        problems.append("install.parent must be null or a UUID in lower-case canonical form")
    for field in ("from_seq", "head_seq"):
        if not _is_int(install.get(field), 1 if field == "from_seq" else 0, MAX_SEQ):
            problems.append(f"install.{field} must be a whole number from "
                            f"{1 if field == 'from_seq' else 0} to {MAX_SEQ}")
    return problems


def batch_problems(payload, max_responses: int):
    """Every structural problem of a batch, as sentences naming the place."""
    if not isinstance(payload, dict):
        return ["The body must be a JSON object."]
    problems = [f"{k} is not a known field" for k in payload if k not in BATCH_FIELDS]
    problems += install_problems(payload.get("install"))
    if not (isinstance(payload.get("kiosk_id"), str) and KIOSK_ID.match(payload["kiosk_id"])):
        problems.append("kiosk_id must be a kiosk id")
    if not _is_uuid(payload.get("batch_id")):
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
            problems += [f"responses[{i}].{k} is not a known field" for k in response if k not in known]
        if response.get("private") is not None:
            problems += _private_problems(response["private"], f"responses[{i}]")
        seq = response.get("seq")
        if _is_int(seq, 1):
            if seq <= previous_seq:
                problems.append(f"responses[{i}].seq must be greater than the one before it (sequence order)")
            previous_seq = seq
    return problems
