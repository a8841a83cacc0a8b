"""The one batch schema: pydantic v2 types that drive central's validation, its OpenAPI document and the
structured per-row errors.

- **Validation.** ``decode_batch(body, max_responses)`` validates a batch's JSON bytes straight into
  dicts (compiled: pydantic-core parses and checks types, lengths, ranges and patterns in one pass, and
  one pass over the batch adds what a JSON Schema cannot say). A body it refuses is then read again by
  ``sync.problems.batch_errors``, which walks the same types field by field to name *every* problem in the sentences
  users see (unchanged): only bad batches pay for that second look. Why pydantic rather than msgspec:
  measured, see ``bench/batch_validation.py`` and the README.
- **OpenAPI.** ``openapi_components(max_responses)`` is the JSON Schema of the same types; each field's
  ``description`` is the very "must be ..." text of its error sentence.
- **Errors.** ``sync.problems`` names every problem as ``Problem(index, field, message)`` and raises
  them as ``BatchTooLarge`` (HTTP 413) or ``BatchInvalid`` (HTTP 400): typed, so nobody matches words.

The bounds are what both stores hold (PostgreSQL INTEGER, the VARCHAR lengths of central's columns) and
what the kiosk's forms let in (``kiosk.text``).
"""

import operator
from datetime import date
from functools import lru_cache
from typing import Annotated, Optional, Union

import pydantic
from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema
from typing_extensions import NotRequired, TypedDict

from kiosk.chain import UUID
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
DEFAULT_MAX_RESPONSES = 5000

KIOSK_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
#: A roster id (an officer's or a counter's, issue 13): stable forever, given or generated at central.
ROSTER_ID_PATTERN = r"^[A-Za-z0-9._-]{1,36}$"
HEX64_PATTERN, HEX32_PATTERN = r"^[0-9a-f]{64}$", r"^[0-9a-f]{32}$"
#: A UTC time as kiosks write it (``kiosk.clock.utc_iso``), in the years of YEARS; that the day exists
#: (no 30 February) is checked beside the pattern.
TIME_PATTERN = (r"^2[0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
                r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\.[0-9]{3}Z$")
assert YEARS == (2000, 2999), "TIME_PATTERN's first digit stands for YEARS"
#: Text without control characters, as the kiosk's forms let it in: one line, or with tab and line breaks.
ONE_LINE = "^[^" + ANY_CONTROL.pattern[1:-1] + "]*$"
LINES = "^[^" + CONTROL.pattern[1:-1] + "]*$"

_TEXT = "text of 1 to {} characters, without control characters"
_TIME = f"a UTC time like 2026-01-31T08:15:00.000Z, years {YEARS[0]} to {YEARS[1]}"
#: Every type is strict (no "1" for 1, no 1.0 or true for 1) and no object takes a field it does not name.
STRICT = ConfigDict(extra="forbid", strict=True)


def text(longest, pattern=ONE_LINE):
    return Annotated[str, StringConstraints(min_length=1, max_length=longest, pattern=pattern)]


def _must_be(annotation, must_be: str):
    """`annotation` whose description (in the OpenAPI document) is the "must be ..." of its error."""
    return Annotated[annotation, Field(description=must_be)]


def whole(low, high):
    return Annotated[int, Field(ge=low, le=high)]


Seq = whole(1, SEQ_MAX)
Uuid = Annotated[str, StringConstraints(pattern=UUID.pattern)]
KioskId = Annotated[str, StringConstraints(pattern=KIOSK_ID_PATTERN)]
RosterId = Annotated[str, StringConstraints(pattern=ROSTER_ID_PATTERN)]
Time = Annotated[str, StringConstraints(pattern=TIME_PATTERN)]
Hash = Annotated[str, StringConstraints(pattern=HEX64_PATTERN)]
Salt = Annotated[str, StringConstraints(pattern=HEX32_PATTERN)]
Codes = Annotated[list[text(CODE_MAX)], Field(max_length=CODES_MAX)]


def _nullable_text(name, one_line):
    return _must_be(Optional[text(TEXT_MAX[name], ONE_LINE if one_line else LINES)],
                    "null or " + _TEXT.format(TEXT_MAX[name]))


#: A response's fields in the order its errors are listed: name -> type (its description: what it must be).
RESPONSE_FIELDS = {
    "seq": _must_be(Seq, f"a whole number from 1 to {SEQ_MAX}"),
    "uuid": _must_be(Uuid, "a UUID in lower-case canonical form"),
    "kiosk_id": _must_be(KioskId, "a kiosk id"),
    "started_utc": _must_be(Time, _TIME),
    "created_utc": _must_be(Time, _TIME),
    "utc_offset_minutes": _must_be(whole(-840, 840), "minutes from -840 to 840"),
    "questionnaire_version": _must_be(text(TEXT_MAX["questionnaire_version"]),
                                      _TEXT.format(TEXT_MAX["questionnaire_version"])),
    # counter and officer as the kiosk's duty form lets them in (tab and line breaks are not refused there)
    "counter": _nullable_text("counter", one_line=False),
    "officer": _nullable_text("officer", one_line=False),
    "dossier_code": _nullable_text("dossier_code", one_line=True),
    "answers": _must_be(
        Annotated[dict[text(ANSWER_KEY_MAX), Union[whole(1, 5), text(ANSWER_TEXT_MAX)]],
                  Field(max_length=ANSWERS_MAX)],
        f"an object of at most {ANSWERS_MAX} answers (keys of 1 to {ANSWER_KEY_MAX} characters): 1 to 5, "
        f"or a code of 1 to {ANSWER_TEXT_MAX} characters"),
    "reasons": _must_be(Codes, f"a list of at most {CODES_MAX} reason codes of 1 to {CODE_MAX} characters"),
    "complete": _must_be(whole(0, 1), "0 or 1"),
    "flags": _must_be(Codes, f"a list of at most {CODES_MAX} flag codes of 1 to {CODE_MAX} characters"),
    "comment_hash": _must_be(Optional[Hash], "null or 64 hex digits"),
    "contact_hash": _must_be(Optional[Hash], "null or 64 hex digits"),
    "prev_hash": _must_be(Hash, "64 hex digits"),
    "hash": _must_be(Hash, "64 hex digits"),
}

#: A response's optional fields (issue 13): absent for kiosks before the roster; the roster's ids of the
#: officer on duty and the counter, beside ``officer`` and ``counter`` (the display names as they were).
OPTIONAL_RESPONSE_FIELDS = {
    name: _must_be(Optional[RosterId], "null or a roster id (1 to 36 letters, digits, '.', '_' or '-')")
    for name in ("officer_id", "counter_id")}

MUST_BE = {name: annotation.__metadata__[-1].description
           for name, annotation in {**RESPONSE_FIELDS, **OPTIONAL_RESPONSE_FIELDS}.items()}


# --- what a JSON Schema cannot say: checked once per response, beside its types ---------------------------

def fits(text, longest) -> bool:
    """A text its type lets in still fits both stores: no lone surrogate, at most `longest` once in NFC
    (it may grow in NFC, which central stores)."""
    return text.isascii() or (SURROGATE.search(text) is None and nfc_length(text) <= longest)


@lru_cache(maxsize=4096)
def _real_day(day: str) -> bool:
    try:
        return date.fromisoformat(day) is not None
    except ValueError:
        return False


def real_time(value) -> bool:
    """A time its pattern lets in is on a day that exists (the pattern rules out the rest)."""
    return _real_day(value[:10])


def _answers_fit(answers) -> bool:
    codes = [v for v in answers.values() if type(v) is str]
    if "".join(answers).isascii() and "".join(codes).isascii():
        return True
    return all(fits(k, ANSWER_KEY_MAX) for k in answers) and all(fits(v, ANSWER_TEXT_MAX) for v in codes)


def _codes_fit(codes) -> bool:
    return "".join(codes).isascii() or all(fits(c, CODE_MAX) for c in codes)


#: field -> the check beyond its type (for a value of the right type, not None).
BEYOND_TYPE = {
    "started_utc": real_time, "created_utc": real_time,
    **{name: (lambda v, n=TEXT_MAX[name]: fits(v, n))
       for name in ("questionnaire_version", "counter", "officer", "dossier_code")},
    "answers": _answers_fit, "reasons": _codes_fit, "flags": _codes_fit,
}


def _private_pair_problems(private) -> list:
    """The texts of a typed ``private`` that break its rule (each with its salt, or neither) or do not fit."""
    return [name for name in ("comment", "phone")
            if (private.get(name), private.get(f"{name}_salt")) != (None, None)
            and (private.get(name) is None or private.get(f"{name}_salt") is None
                 or not fits(private[name], TEXT_MAX[name]))]


def _private_rule(private):
    if private is not None and (_private_pair_problems(private) or (
            private.get("consent_utc") is not None and not real_time(private["consent_utc"]))):
        raise ValueError("private: each text with its salt, or neither")
    return private


def _all_fit(texts, longest) -> bool:
    """``fits`` for a collection of texts, each distinct non-ASCII one checked once."""
    return "".join(texts).isascii() or all(fits(t, longest) for t in set(texts) if not t.isascii())


def _responses_rule(responses):
    """The checks of ``BEYOND_TYPE`` for every response of a batch in one pass: what a JSON
    Schema cannot say, each distinct text and day checked once (a batch repeats its
    counters, officers, answer keys, codes and days). Raises ValueError naming nothing: the batch is
    then named problem by problem by ``sync.problems``.
    """
    days, keys, codes, answer_codes = set(), [], [], []
    for response in responses:
        days.add(response["started_utc"][:10])
        days.add(response["created_utc"][:10])
        answers = response["answers"]
        keys += answers
        answer_codes += [v for v in answers.values() if type(v) is str]
        codes += response["reasons"]
        codes += response["flags"]
    named = [(name, [r[name] for r in responses if r[name] is not None])
             for name in ("questionnaire_version", "counter", "officer", "dossier_code")]
    if not (all(map(_real_day, days)) and all(_all_fit(texts, TEXT_MAX[name]) for name, texts in named)
            and _all_fit(keys, ANSWER_KEY_MAX) and _all_fit(answer_codes, ANSWER_TEXT_MAX)
            and _all_fit(codes, CODE_MAX)):
        raise ValueError("a response breaks a rule beyond its type")
    return responses


class Private(TypedDict):
    """A response's erasable part: each text with its salt, or neither."""

    __pydantic_config__ = STRICT
    comment: NotRequired[Optional[text(TEXT_MAX["comment"], LINES)]]
    comment_salt: NotRequired[Optional[Salt]]
    phone: NotRequired[Optional[text(TEXT_MAX["phone"])]]
    phone_salt: NotRequired[Optional[Salt]]
    consent_utc: NotRequired[Optional[Time]]


Response = TypedDict("Response", {
    **RESPONSE_FIELDS, **{name: NotRequired[annotation] for name, annotation in OPTIONAL_RESPONSE_FIELDS.items()},
    "private": NotRequired[Annotated[Optional[Private], AfterValidator(_private_rule)]]})
Response.__doc__ = "A kiosk's chained record (``kiosk.chain.CHAINED_FIELDS``), its hash and its erasable part."
Response.__pydantic_config__ = STRICT


class Install(TypedDict):
    """The kiosk store the responses were made in; absent for a legacy kiosk."""

    __pydantic_config__ = STRICT
    id: Uuid
    from_seq: Seq
    head_seq: Annotated[whole(0, SEQ_MAX), Field(description="the store's newest seq when the batch was read")]
    parent: NotRequired[Annotated[Optional[Uuid], Field(description="the store this one was copied from")]]


def _in_order(responses):
    seqs = [response["seq"] for response in responses]
    if not all(map(operator.lt, seqs, seqs[1:])):
        raise ValueError("responses: each seq must be greater than the one before it")
    return responses


@lru_cache(maxsize=8)
def batch_adapter(max_responses: int) -> TypeAdapter:
    """The Batch type with at most `max_responses` responses (central's ``CENTRAL_MAX_BATCH``)."""
    batch = TypedDict("Batch", {
        "kiosk_id": KioskId, "batch_id": Uuid,
        "responses": Annotated[list[Response], Field(min_length=1, max_length=max_responses),
                               AfterValidator(_in_order), AfterValidator(_responses_rule)],
        "install": NotRequired[Optional[Install]]})
    batch.__doc__ = "A kiosk's batch of responses, in sequence order (see ``sync.wire``)."
    batch.__pydantic_config__ = STRICT
    return TypeAdapter(batch)


def decode_batch(body: bytes, max_responses: int):
    """A batch's JSON bytes as a dict (responses as dicts), or None if anything about it is wrong: then
    ``sync.problems.batch_errors`` on the body as read by ``json`` names every problem."""
    try:
        return batch_adapter(max_responses).validate_json(body)
    except (pydantic.ValidationError, ValueError):
        return None


class _OpenApiSchema(GenerateJsonSchema):
    """JSON Schema as OpenAPI 3.1 wants it: a dict's key pattern as ``propertyNames`` (pydantic writes
    ``patternProperties``, which lets keys outside the pattern through), no titles."""

    def dict_schema(self, schema):
        result = super().dict_schema(schema)
        patterns = result.pop("patternProperties", None)
        if patterns:
            (pattern, values), = patterns.items()
            result["propertyNames"] = {**result.get("propertyNames", {}), "pattern": pattern}
            result["additionalProperties"] = values
        return result

    def field_title_should_be_set(self, schema) -> bool:
        return False


def openapi_components(max_responses: int) -> dict:
    """The OpenAPI (JSON Schema 2020-12) components of a batch: ``{"Batch", "Response", "Private",
    "Install"}``, references as ``#/components/schemas/NAME``."""
    batch = batch_adapter(max_responses).json_schema(
        ref_template="#/components/schemas/{model}", schema_generator=_OpenApiSchema)
    components = batch.pop("$defs")
    return {**components, "Batch": batch}
