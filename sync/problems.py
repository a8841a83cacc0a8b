"""Every problem of a batch, each naming its place, from the one batch schema (``sync.schema``).

Central reads a batch with ``sync.schema.decode_batch`` (compiled, one pass); only a batch it refuses
comes here, read by ``json``, to be walked field by field against the same types and checks, so that
*every* problem is named, in the sentences users have always seen (README, "HTTP API"), and raised as
a typed error: ``BatchTooLarge`` (HTTP 413) or ``BatchInvalid`` (HTTP 400).
"""

from functools import lru_cache
from typing import NamedTuple, Optional

import pydantic
from pydantic import ConfigDict, TypeAdapter

from kiosk.chain import PRIVATE_FIELDS

from .schema import (BEYOND_TYPE, LINES, MUST_BE, OPTIONAL_RESPONSE_FIELDS, RESPONSE_FIELDS, SEQ_MAX, TEXT_MAX,
                     KioskId, Salt, Seq, Time, Uuid, fits, real_time, text, whole)


class Problem(NamedTuple):
    """One problem of a batch: ``index`` of the response (None: the batch's own field), ``field`` within
    it (e.g. ``counter``, ``private.comment``, ``install.id``; ``""`` for the whole response or body), and
    the full sentence users see."""

    index: Optional[int]
    field: str
    message: str

    def as_json(self) -> dict:
        return {"index": self.index, "field": self.field, "message": self.message}


class BatchProblems(Exception):
    """A batch refused, with every ``Problem`` (``problems``); ``status`` is its HTTP status."""

    status = 400

    def __init__(self, problems):
        super().__init__("; ".join(p.message for p in problems))
        self.problems = list(problems)


class BatchInvalid(BatchProblems):
    """Fields that are malformed: HTTP 400."""


class BatchTooLarge(BatchProblems):
    """More responses than central takes in one batch: HTTP 413; ``max_responses`` is central's limit
    (answered as a field of its own, so a kiosk can send smaller batches without reading the prose)."""

    status = 413

    def __init__(self, problems, max_responses: int):
        super().__init__(problems)
        self.max_responses = max_responses


class _TooMany(Problem):
    """The one problem that makes a batch too large (413)."""


@lru_cache(maxsize=None)
def _adapter(annotation) -> TypeAdapter:
    return TypeAdapter(annotation, config=ConfigDict(strict=True))


def _is(annotation, value) -> bool:
    """True if `value` (as ``json.loads`` reads it) is of the schema's type `annotation`."""
    try:
        _adapter(annotation).validate_python(value)
    except (pydantic.ValidationError, ValueError):
        return False
    return True


_MISSING = object()
_TEXTS = {"comment": text(TEXT_MAX["comment"], LINES), "phone": text(TEXT_MAX["phone"])}
_RESPONSE_CHECKS = tuple((name, annotation, MUST_BE[name], BEYOND_TYPE.get(name))
                         for name, annotation in RESPONSE_FIELDS.items())
_OPTIONAL_CHECKS = tuple((name, annotation, MUST_BE[name]) for name, annotation in OPTIONAL_RESPONSE_FIELDS.items())
_KNOWN = frozenset(RESPONSE_FIELDS) | frozenset(OPTIONAL_RESPONSE_FIELDS) | {"private"}
BATCH_FIELDS = ("kiosk_id", "batch_id", "responses", "install")
INSTALL_FIELDS = ("id", "from_seq", "parent", "head_seq")
_WHOLE = {1: Seq, 0: whole(0, SEQ_MAX)}


def _key(name: str) -> str:
    """An unknown field's name as an error message may quote it: short, control characters escaped."""
    return name if _is(KioskId, name) and len(name) <= 32 else ascii(name[:32])


def response_problems(response, i: int) -> list:
    """Every problem of response number `i` (any JSON value), as ``Problem`` items."""
    where = f"responses[{i}]"
    if not isinstance(response, dict):
        return [Problem(i, "", f"{where} must be an object")]
    problems = []
    for field, annotation, must_be, beyond in _RESPONSE_CHECKS:
        value = response.get(field, _MISSING)
        if value is _MISSING:
            problems.append(Problem(i, field, f"{where}.{field} is missing"))
        elif not _is(annotation, value) or (beyond is not None and value is not None and not beyond(value)):
            problems.append(Problem(i, field, f"{where}.{field} must be {must_be}"))
    for field, annotation, must_be in _OPTIONAL_CHECKS:
        if field in response and not _is(annotation, response[field]):
            problems.append(Problem(i, field, f"{where}.{field} must be {must_be}"))
    problems += [Problem(i, str(k), f"{where}.{_key(k)} is not a known field") for k in response if k not in _KNOWN]
    if response.get("private") is not None:
        problems += _private_problems(response["private"], i)
    return problems


def _private_problems(private, i):
    where = f"responses[{i}].private"
    if not isinstance(private, dict):
        return [Problem(i, "private", f"{where} must be null or an object")]
    problems = [Problem(i, f"private.{k}", f"{where}.{_key(k)} is not a known field")
                for k in private if k not in PRIVATE_FIELDS]
    fields = {name: private.get(name) for name in PRIVATE_FIELDS}
    for name, salt in (("comment", "comment_salt"), ("phone", "phone_salt")):
        if fields[name] is None and fields[salt] is None:
            continue
        if not (_is(_TEXTS[name], fields[name]) and _is(Salt, fields[salt]) and fits(fields[name], TEXT_MAX[name])):
            problems.append(Problem(i, f"private.{name}", f"{where}.{name} must be text of 1 to {TEXT_MAX[name]} "
                                    f"characters without control characters, with a 32-hex-digit {salt}"))
    if fields["consent_utc"] is not None and not (_is(Time, fields["consent_utc"])
                                                  and real_time(fields["consent_utc"])):
        problems.append(Problem(i, "private.consent_utc", f"{where}.consent_utc must be a UTC time"))
    return problems


def install_problems(install) -> list:
    """Problems of a batch's ``install`` object (None: a legacy kiosk, no problem), as ``Problem`` items."""
    if install is None:
        return []
    if not isinstance(install, dict):
        return [Problem(None, "install", "install must be an object")]
    problems = [Problem(None, f"install.{k}", f"install.{k} is not a known field")
                for k in install if k not in INSTALL_FIELDS]
    if not _is(Uuid, install.get("id")):
        problems.append(Problem(None, "install.id", "install.id must be a UUID in lower-case canonical form"))
    if install.get("parent") is not None and not _is(Uuid, install["parent"]):
        problems.append(Problem(None, "install.parent",
                                "install.parent must be null or a UUID in lower-case canonical form"))
    for field, low in (("from_seq", 1), ("head_seq", 0)):
        if not _is(_WHOLE[low], install.get(field)):
            problems.append(Problem(None, f"install.{field}",
                                    f"install.{field} must be a whole number from {low} to {SEQ_MAX}"))
    return problems


def batch_errors(payload, max_responses: int) -> list:
    """Every problem of a batch (any JSON value, as ``json.loads`` reads it), as ``Problem`` items in the
    order users read them; [] when the batch is well-formed."""
    if not isinstance(payload, dict):
        return [Problem(None, "", "The body must be a JSON object.")]
    problems = [Problem(None, str(k), f"{_key(k)} is not a known field") for k in payload if k not in BATCH_FIELDS]
    problems += install_problems(payload.get("install"))
    if not _is(KioskId, payload.get("kiosk_id")):
        problems.append(Problem(None, "kiosk_id", "kiosk_id must be a kiosk id"))
    if not _is(Uuid, payload.get("batch_id")):
        problems.append(Problem(None, "batch_id", "batch_id must be a UUID in lower-case canonical form"))
    responses = payload.get("responses")
    if not isinstance(responses, list) or not responses:
        return problems + [Problem(None, "responses", "responses must be a non-empty list")]
    if len(responses) > max_responses:
        return problems + [_TooMany(None, "responses", f"responses has {len(responses)} items; "
                                                       f"at most {max_responses} per batch")]
    previous_seq = 0
    for i, response in enumerate(responses):
        problems += response_problems(response, i)
        seq = response.get("seq") if isinstance(response, dict) else None
        if _is(Seq, seq):
            if seq <= previous_seq:
                problems.append(Problem(i, "seq", f"responses[{i}].seq must be greater than the one before it "
                                                  f"(sequence order)"))
            previous_seq = seq
    return problems


def check_batch(payload, max_responses: int) -> None:
    """Raise ``BatchTooLarge`` or ``BatchInvalid`` (with every problem) unless `payload` is a good batch."""
    problems = batch_errors(payload, max_responses)
    if any(isinstance(p, _TooMany) for p in problems):
        raise BatchTooLarge(problems, max_responses)
    if problems:
        raise BatchInvalid(problems)
