"""Batch validation speed: the candidates for central's one batch schema, side by side, in rows per second.

Each candidate turns the same JSON bytes of a batch (default 1000 responses, a third with a comment and a
phone in Vietnamese, as kiosks send them) into checked dicts, with the same bounds (``sync.schema``):

- pydantic v2: ``sync.schema.decode_batch``, a strict ``TypeAdapter`` over TypedDicts, ``validate_json``,
  with one ``AfterValidator`` per response for what a JSON Schema cannot say (what central runs);
- msgspec: typed decoding into Structs with the same constraints, whose ``__post_init__`` runs the same
  checks beyond the types, then ``msgspec.to_builtins`` to hand ingest dicts;
- orjson + walker / json + walker: a decoder, then ``sync.problems.batch_errors``, the field-by-field
  walk that names every problem (central's path for a batch msgspec refused).

    .venv/bin/python bench/batch_validation.py [--rows 1000] [--rounds 20]
"""

import argparse
import json
import time
import uuid
from typing import Annotated, Literal, Optional, Union

import pydantic

from kiosk import chain
from sync import problems, schema, wire

try:  # the candidates not chosen are not dependencies: pip install msgspec orjson
    import msgspec
    import orjson
    from msgspec import Meta
except ImportError:
    msgspec = None


def rows(count):
    """`count` chained responses; every third with a comment and a phone (salted, hashed)."""
    out, prev = [], chain.GENESIS_HASH
    for seq in range(1, count + 1):
        moment = f"2026-01-{1 + seq % 28:02d}T08:{seq % 60:02d}:00.000Z"
        private = None
        record = {"seq": seq, "uuid": str(uuid.uuid4()), "kiosk_id": "bench-kiosk", "started_utc": moment,
                  "created_utc": moment, "utc_offset_minutes": 420, "questionnaire_version": "2025.1",
                  "counter": "Quầy 3", "officer": "Nguyễn Văn An", "dossier_code": "HS-2026-000123",
                  "answers": {"overall": 4, "guidance": 5, "attitude": 4, "fairness": 3, "timeliness": 2,
                              "extra_request": "no", "visits": "1"},
                  "reasons": ["slow"], "complete": 1, "flags": [], "comment_hash": None, "contact_hash": None,
                  "prev_hash": prev}
        if seq % 3 == 0:
            private = {"comment": "Cán bộ hướng dẫn tận tình, nhưng phải chờ lâu.", "comment_salt": chain.new_salt(),
                       "phone": "0912345678", "phone_salt": chain.new_salt(), "consent_utc": moment}
            record["comment_hash"] = chain.private_hash(private["comment_salt"], private["comment"])
            record["contact_hash"] = chain.private_hash(private["phone_salt"], private["phone"])
        record["hash"] = prev = chain.record_hash(record)
        out.append({**record, "private": private})
    return out


def msgspec_type(max_responses):
    """The batch schema written for msgspec, from the same constants and checks as ``sync.schema``:
    Structs (strict, no unknown fields) whose ``__post_init__`` runs the same checks beyond the types."""
    def text(longest, pattern=schema.ONE_LINE):
        return Annotated[str, Meta(min_length=1, max_length=longest, pattern=pattern)]

    uuid_, time_ = Annotated[str, Meta(pattern=schema.UUID.pattern)], Annotated[str, Meta(pattern=schema.TIME_PATTERN)]
    hash_, salt = Annotated[str, Meta(pattern=schema.HEX64_PATTERN)], Annotated[str, Meta(pattern=schema.HEX32_PATTERN)]
    seq = Annotated[int, Meta(ge=1, le=schema.SEQ_MAX)]
    codes = Annotated[list[text(schema.CODE_MAX)], Meta(max_length=schema.CODES_MAX)]
    answer = Union[Annotated[int, Meta(ge=1, le=5)], text(schema.ANSWER_TEXT_MAX)]

    class Private(msgspec.Struct, forbid_unknown_fields=True):
        comment: Optional[text(schema.TEXT_MAX["comment"], schema.LINES)] = None
        comment_salt: Optional[salt] = None
        phone: Optional[text(schema.TEXT_MAX["phone"])] = None
        phone_salt: Optional[salt] = None
        consent_utc: Optional[time_] = None

        def __post_init__(self):
            schema._private_rule(msgspec.structs.asdict(self))

    def response_rule(self):
        for name, check in schema.BEYOND_TYPE.items():
            value = getattr(self, name)
            if value is not None and not check(value):
                raise ValueError(name)

    fields = [
        ("seq", seq), ("uuid", uuid_), ("kiosk_id", Annotated[str, Meta(pattern=schema.KIOSK_ID_PATTERN)]),
        ("started_utc", time_), ("created_utc", time_),
        ("utc_offset_minutes", Annotated[int, Meta(ge=-840, le=840)]),
        ("questionnaire_version", text(schema.TEXT_MAX["questionnaire_version"])),
        ("counter", Optional[text(schema.TEXT_MAX["counter"], schema.LINES)]),
        ("officer", Optional[text(schema.TEXT_MAX["officer"], schema.LINES)]),
        ("dossier_code", Optional[text(schema.TEXT_MAX["dossier_code"])]),
        ("answers", Annotated[dict[text(schema.ANSWER_KEY_MAX), answer], Meta(max_length=schema.ANSWERS_MAX)]),
        ("reasons", codes), ("complete", Literal[0, 1]), ("flags", codes),
        ("comment_hash", Optional[hash_]), ("contact_hash", Optional[hash_]), ("prev_hash", hash_),
        ("hash", hash_), ("private", Optional[Private], None)]
    response = msgspec.defstruct("Response", fields, forbid_unknown_fields=True,
                                 namespace={"__post_init__": response_rule})

    class Install(msgspec.Struct, forbid_unknown_fields=True):
        id: uuid_
        from_seq: seq
        head_seq: Annotated[int, Meta(ge=0, le=schema.SEQ_MAX)]
        parent: Optional[uuid_] = None

    class Batch(msgspec.Struct, forbid_unknown_fields=True):
        kiosk_id: Annotated[str, Meta(pattern=schema.KIOSK_ID_PATTERN)]
        batch_id: uuid_
        responses: Annotated[list[response], Meta(min_length=1, max_length=max_responses)]
        install: Optional[Install] = None

        def __post_init__(self):
            schema._in_order([{"seq": r.seq} for r in self.responses])

    return Batch


def candidates(max_responses):
    found = {f"pydantic {pydantic.VERSION}: TypeAdapter.validate_json (central's sync.schema)":
             lambda body: schema.decode_batch(body, max_responses)}
    if msgspec is not None:
        batch = msgspec_type(max_responses)
        found[f"msgspec {msgspec.__version__}: typed decode, __post_init__, to_builtins"] = \
            lambda body: msgspec.to_builtins(msgspec.json.decode(body, type=batch))
        found["orjson + field-by-field walker"] = lambda body: _walked(orjson.loads(body), max_responses)
    found["json + field-by-field walker (central's path for a refused batch)"] = \
        lambda body: _walked(json.loads(body), max_responses)
    return found


def _walked(payload, max_responses):
    if problems.batch_errors(payload, max_responses):
        raise ValueError("refused")
    return payload


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    batch = wire.batch("bench-kiosk", rows(args.rows))
    body = json.dumps(batch, ensure_ascii=False, separators=(",", ":")).encode()
    bad = json.loads(body)
    bad["responses"][1]["counter"] = "Q\x1b"
    bad_body = json.dumps(bad, ensure_ascii=False).encode()
    print(f"Batch validation, {args.rows} responses a batch ({len(body):,} bytes), best of {args.rounds} "
          f"rounds (the candidates take turns, so a busy machine slows them alike):")
    found = candidates(max(1000, args.rows))
    for name, validate in found.items():
        assert validate(body) is not None, name
        try:
            refused = validate(bad_body) is None
        except ValueError:  # pydantic's ValidationError is one too
            refused = True
        assert refused, f"{name} let a control character in"
    best = dict.fromkeys(found, float("inf"))
    for _ in range(args.rounds):
        for name, validate in found.items():
            started = time.perf_counter()
            validate(body)
            best[name] = min(best[name], time.perf_counter() - started)
    print("| candidate | rows/s | ms per batch |\n|---|---|---|")
    for name, seconds in best.items():
        print(f"| {name} | {args.rows / seconds:,.0f} | {seconds * 1000:.1f} |")


if __name__ == "__main__":
    main()
