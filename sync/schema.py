"""The one batch schema: msgspec types that drive central's validation, its OpenAPI document and the
structured per-row errors.

- **Validation.** ``decode_batch(body, max_responses)`` decodes a batch's JSON bytes straight into these
  types (compiled: msgspec checks types, lengths, ranges and patterns while it parses, and each
  response's ``__post_init__`` adds what a JSON Schema cannot say, in the same pass). A body it refuses
  is then read again by ``batch_errors``, which walks the same types field by field to name *every*
  problem (the sentences users see, unchanged): only bad batches pay for that second look.
- **OpenAPI.** ``openapi_components(max_responses)`` is ``msgspec.json.schema_components`` of the same
  types; each field's ``description`` is the very "must be ..." text of its error sentence.
- **Errors.** ``batch_errors`` returns ``Problem(index, field, message)`` items (``index`` None for the
  batch's own fields); ``check_batch`` raises them as ``BatchTooLarge`` (HTTP 413) or ``BatchInvalid``
  (HTTP 400): typed, so nobody matches a message's words.

The bounds are what both stores hold (PostgreSQL INTEGER, the VARCHAR lengths of central's columns) and
what the kiosk's forms let in (``kiosk.text``).
"""

import typing
from functools import lru_cache
from typing import Annotated, Literal, NamedTuple, Optional, Union

import msgspec
from msgspec import Meta

from kiosk.chain import PRIVATE_FIELDS, UUID
from kiosk.clock import parse_utc
from kiosk.text import ANY_CONTROL, CONTROL, SURROGATE, nfc_length

#: The largest sequence number: PostgreSQL's INTEGER.
SEQ_MAX = 2**31 - 1
#: Longest texts, in characters (code points, as both stores count them).
TEXT_MAX = {"questionnaire_version": 64, "counter": 20, "officer": 80, "dossier_code": 64,
            "comment": 1000, "phone": 16}
ANSWERS_MAX, ANSWER_KEY_MAX, ANSWER_TEXT_MAX = 50, 32, 16
CODES_MAX, CODE_MAX = 50, 32
#: Earliest and latest year of a time: its day in Asia/Ho_Chi_Minh must exist.
YEARS = (2000, 2999)
#: The most responses one batch may carry unless central is configured otherwise (``CENTRAL_MAX_BATCH``).
DEFAULT_MAX_RESPONSES = 1000

KIOSK_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
HEX64_PATTERN, HEX32_PATTERN = r"^[0-9a-f]{64}$", r"^[0-9a-f]{32}$"
#: A UTC time as kiosks write it, in the years of YEARS (the day itself is checked after the pattern).
TIME_PATTERN = r"^2[0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$"
assert YEARS == (2000, 2999), "TIME_PATTERN's first digit stands for YEARS"
#: Text without control characters, as the kiosk's forms let it in: one line, or with tab and line breaks.
ONE_LINE = "^[^" + ANY_CONTROL.pattern[1:-1] + "]*$"
LINES = "^[^" + CONTROL.pattern[1:-1] + "]*$"

_TEXT = "text of 1 to {} characters, without control characters"
_TIME = f"a UTC time like 2026-01-31T08:15:00.000Z, years {YEARS[0]} to {YEARS[1]}"


def _text(longest, pattern=ONE_LINE):
    return Annotated[str, Meta(min_length=1, max_length=longest, pattern=pattern)]


def _must_be(annotation, must_be: str):
    """`annotation` whose description (in the OpenAPI document) is the "must be ..." of its error."""
    return Annotated[annotation, Meta(description=must_be)]


Seq = Annotated[int, Meta(ge=1, le=SEQ_MAX)]
Uuid = Annotated[str, Meta(pattern=UUID.pattern)]
KioskId = Annotated[str, Meta(pattern=KIOSK_ID_PATTERN)]
Time = Annotated[str, Meta(pattern=TIME_PATTERN, description="UTC, e.g. 2026-01-31T08:15:00.000Z")]
Hash = Annotated[str, Meta(pattern=HEX64_PATTERN)]
Salt = Annotated[str, Meta(pattern=HEX32_PATTERN)]
Code = _text(CODE_MAX)
Answer = Union[Annotated[int, Meta(ge=1, le=5)], _text(ANSWER_TEXT_MAX)]
Answers = Annotated[dict[_text(ANSWER_KEY_MAX), Answer], Meta(max_length=ANSWERS_MAX)]
Codes = Annotated[list[Code], Meta(max_length=CODES_MAX)]


def _nullable_text(name, one_line):
    return _must_be(Optional[_text(TEXT_MAX[name], ONE_LINE if one_line else LINES)],
                    "null or " + _TEXT.format(TEXT_MAX[name]))


#: A response's fields in the order its errors are listed: name -> type (its description: what it must be).
RESPONSE_FIELDS = {
    "seq": _must_be(Seq, f"a whole number from 1 to {SEQ_MAX}"),
    "uuid": _must_be(Uuid, "a UUID in lower-case canonical form"),
    "kiosk_id": _must_be(KioskId, "a kiosk id"),
    "started_utc": _must_be(Time, _TIME),
    "created_utc": _must_be(Time, _TIME),
    "utc_offset_minutes": _must_be(Annotated[int, Meta(ge=-840, le=840)], "minutes from -840 to 840"),
    "questionnaire_version": _must_be(_text(TEXT_MAX["questionnaire_version"]),
                                      _TEXT.format(TEXT_MAX["questionnaire_version"])),
    # counter and officer as the kiosk's duty form lets them in (tab and line breaks are not refused there)
    "counter": _nullable_text("counter", one_line=False),
    "officer": _nullable_text("officer", one_line=False),
    "dossier_code": _nullable_text("dossier_code", one_line=True),
    "answers": _must_be(Answers, f"an object of at most {ANSWERS_MAX} answers (keys of 1 to {ANSWER_KEY_MAX} "
                                 f"characters): 1 to 5, or a code of 1 to {ANSWER_TEXT_MAX} characters"),
    "reasons": _must_be(Codes, f"a list of at most {CODES_MAX} reason codes of 1 to {CODE_MAX} characters"),
    "complete": _must_be(Literal[0, 1], "0 or 1"),
    "flags": _must_be(Codes, f"a list of at most {CODES_MAX} flag codes of 1 to {CODE_MAX} characters"),
    "comment_hash": _must_be(Optional[Hash], "null or 64 hex digits"),
    "contact_hash": _must_be(Optional[Hash], "null or 64 hex digits"),
    "prev_hash": _must_be(Hash, "64 hex digits"),
    "hash": _must_be(Hash, "64 hex digits"),
}

MUST_BE = {name: typing.get_args(annotation)[-1].description for name, annotation in RESPONSE_FIELDS.items()}


# --- what a JSON Schema cannot say: checked in each struct's __post_init__ (the same pass) ---------------

def _fits(text, longest, one_line=True) -> bool:
    """A text the types let in still fits both stores: no lone surrogate, at most `longest` once in NFC,
    and (`one_line`) no line feed at its end, which a pattern's ``$`` lets through in Python."""
    if one_line and text.endswith("\n"):
        return False
    return text.isascii() or (SURROGATE.search(text) is None and nfc_length(text) <= longest)


def _real_time(value) -> bool:
    try:
        return YEARS[0] <= parse_utc(value).year <= YEARS[1]
    except (TypeError, ValueError):
        return False


def _answers_fit(answers) -> bool:
    return all(_fits(k, ANSWER_KEY_MAX) and (type(v) is int or _fits(v, ANSWER_TEXT_MAX))
               for k, v in answers.items())


#: field -> the check beyond its type (only for a value of the right type).
BEYOND_TYPE = {
    "started_utc": _real_time, "created_utc": _real_time,
    **{name: (lambda v, n=TEXT_MAX[name], one=one_line: _fits(v, n, one))
       for name, one_line in (("questionnaire_version", True), ("counter", False), ("officer", False),
                              ("dossier_code", True))},
    "answers": _answers_fit,
    "reasons": lambda v: all(_fits(c, CODE_MAX) for c in v),
    "flags": lambda v: all(_fits(c, CODE_MAX) for c in v),
}
_BEYOND = tuple(BEYOND_TYPE.items())


class Private(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=False):
    """A response's erasable part: each text with its salt, or neither."""

    comment: Optional[_text(TEXT_MAX["comment"], LINES)] = None
    comment_salt: Optional[Salt] = None
    phone: Optional[_text(TEXT_MAX["phone"])] = None
    phone_salt: Optional[Salt] = None
    consent_utc: Optional[Time] = None

    def __post_init__(self):
        if _private_pair_problems(self.comment, self.comment_salt, self.phone, self.phone_salt) or (
                self.consent_utc is not None and not _real_time(self.consent_utc)):
            raise ValueError("private")


def _private_pair_problems(comment, comment_salt, phone, phone_salt):
    """The texts of ``private`` that break its pairing rule or do not fit: ``["comment", "phone"]`` at most."""
    return [name for name, value, salt in (("comment", comment, comment_salt), ("phone", phone, phone_salt))
            if not (value is None and salt is None) and (
                value is None or salt is None or not _fits(value, TEXT_MAX[name], name == "phone"))]


Response = msgspec.defstruct(
    "Response", [*RESPONSE_FIELDS.items(), ("private", Optional[Private], None)],
    forbid_unknown_fields=True, module=__name__)


def _response_post_init(self):
    for name, check in _BEYOND:
        value = getattr(self, name)
        if value is not None and not check(value):
            raise ValueError(name)


Response.__post_init__ = _response_post_init


class Install(msgspec.Struct, forbid_unknown_fields=True):
    """The kiosk store the responses were made in; absent for a legacy kiosk."""

    id: Uuid
    from_seq: Seq
    head_seq: Annotated[int, Meta(ge=0, le=SEQ_MAX, description="the store's newest seq when the batch was read")]
    parent: Annotated[Optional[Uuid], Meta(description="the store this one was copied from")] = None


@lru_cache(maxsize=8)
def batch_type(max_responses: int):
    """The Batch type with at most `max_responses` responses (central's ``CENTRAL_MAX_BATCH``)."""

    def post_init(self):
        previous = 0
        for response in self.responses:
            if response.seq <= previous:
                raise ValueError("responses: sequence order")
            previous = response.seq

    batch = msgspec.defstruct("Batch", [
        ("kiosk_id", KioskId), ("batch_id", Uuid),
        ("responses", Annotated[list[Response], Meta(min_length=1, max_length=max_responses)]),
        ("install", Optional[Install], None)], forbid_unknown_fields=True, module=__name__)
    batch.__post_init__ = post_init
    return batch


def decode_batch(body: bytes, max_responses: int):
    """A batch's JSON bytes as a dict of builtins (responses as dicts), or None if anything about it is
    wrong: then ``batch_errors`` on the body as read by ``json`` names every problem."""
    try:
        return msgspec.to_builtins(msgspec.json.decode(body, type=batch_type(max_responses)))
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None


def openapi_components(max_responses: int) -> dict:
    """The OpenAPI (JSON Schema 2020-12) components of a batch: ``{"Batch", "Response", "Private",
    "Install"}``, references as ``#/components/schemas/NAME``."""
    _refs, components = msgspec.json.schema_components(
        [batch_type(max_responses)], ref_template="#/components/schemas/{name}")
    return components


# --- every problem of a batch, each naming its place --------------------------------------------------

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
    """More responses than central takes in one batch: HTTP 413."""

    status = 413


class _TooMany(Problem):
    """The one problem that makes a batch too large (413)."""


def _is(annotation, value) -> bool:
    try:
        msgspec.convert(value, annotation)
    except (msgspec.ValidationError, TypeError, ValueError, OverflowError):
        return False
    return True


_MISSING = object()
_RESPONSE_CHECKS = tuple((name, annotation, MUST_BE[name], BEYOND_TYPE.get(name))
                         for name, annotation in RESPONSE_FIELDS.items())
_KNOWN = frozenset(RESPONSE_FIELDS) | {"private"}
BATCH_FIELDS = ("kiosk_id", "batch_id", "responses", "install")
INSTALL_FIELDS = ("id", "from_seq", "parent", "head_seq")


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
    for text, salt, pattern in (("comment", "comment_salt", LINES), ("phone", "phone_salt", ONE_LINE)):
        if fields[text] is None and fields[salt] is None:
            continue
        if not (_is(_text(TEXT_MAX[text], pattern), fields[text]) and _is(Salt, fields[salt])
                and _fits(fields[text], TEXT_MAX[text], pattern == ONE_LINE)):
            problems.append(Problem(i, f"private.{text}", f"{where}.{text} must be text of 1 to {TEXT_MAX[text]} "
                                    f"characters without control characters, with a 32-hex-digit {salt}"))
    if fields["consent_utc"] is not None and not (_is(Time, fields["consent_utc"])
                                                  and _real_time(fields["consent_utc"])):
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
        if not _is(Annotated[int, Meta(ge=low, le=SEQ_MAX)], install.get(field)):
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
        raise BatchTooLarge(problems)
    if problems:
        raise BatchInvalid(problems)
