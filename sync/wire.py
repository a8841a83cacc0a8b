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
import re
import uuid

from kiosk.chain import UUID

from . import problems, schema
from .schema import (ANSWER_KEY_MAX, ANSWER_TEXT_MAX, ANSWERS_MAX, CODE_MAX, CODES_MAX,  # noqa: F401 (re-exported)
                     SEQ_MAX, TEXT_MAX, YEARS)

KIOSK_HEADER = "X-Kiosk-Id"
TIMESTAMP_HEADER = "X-Kiosk-Timestamp"
SIGNATURE_HEADER = "X-Kiosk-Signature"
CENTRAL_SIGNATURE_HEADER = "X-Central-Signature"

KIOSK_ID = re.compile(schema.KIOSK_ID_PATTERN)


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
# Its bounds are re-exported here, where the kiosk side and central have always found them.

def batch_problems(payload, max_responses: int) -> list:
    """Every structural problem of a batch, as sentences naming the place (see ``problems.batch_errors``
    for the same as ``Problem(index, field, message)`` items)."""
    return [problem.message for problem in problems.batch_errors(payload, max_responses)]
