"""The wire's compiled JSON (``sync.wire`` encode, decode, canonical_json, record_hash) against the
standard library's: the same bytes, values, hashes and error sentences, or the standard library's own path."""

import json
import random

import pytest

from kiosk import chain
from sync import wire

#: Characters that test an encoder: quotes, backslashes, every C0 control, DEL and C1, Vietnamese
#: (composed and decomposed), line and paragraph separators, a BOM, private use, astral emoji.
TRICKY = ['"', "\\", "/", *map(chr, range(0x20)), "\x7f", "\x85", "\x9f", "ệ", "e\u0323\u0302", "Đ",
          "\u2028", "\u2029", "\ufeff", "\ue000", "\uffff", "😀", "\U0010ffff", "a", "Z", "0", " "]


def random_text(rng, longest=8):
    return "".join(rng.choice(TRICKY) for _ in range(rng.randint(0, longest)))


def random_value(rng, depth=0, floats=False):
    """A JSON value of the wire's kinds (texts, whole numbers, null, booleans, lists, objects; floats
    only when asked: the batch has none, and orjson writes some differently, e.g. 1e-07 as 1e-7)."""
    kind = rng.randrange(7 if depth < 3 else 4)
    if kind == 0:
        return random_text(rng)
    if kind == 1:
        return rng.choice([0, 1, -1, 5, 2**31 - 1, 2**63 - 1, -(2**63)])
    if kind == 2:
        return rng.choice([None, True, False])
    if kind == 3:
        return rng.choice([0.5, -2.25, 1e-7, 3.0]) if floats else random_text(rng, 2)
    if kind == 4:
        return [random_value(rng, depth + 1, floats) for _ in range(rng.randint(0, 4))]
    return {random_text(rng, 4): random_value(rng, depth + 1, floats) for _ in range(rng.randint(0, 5))}


def random_record(rng):
    record = {name: random_value(rng) for name in chain.CHAINED_FIELDS}
    record["answers"] = {random_text(rng, 5): rng.choice([1, 5, random_text(rng)]) for _ in range(6)}
    return record


def test_encode_writes_what_json_writes_compact_with_non_ascii_kept():
    rng = random.Random(11)
    for _ in range(3000):
        value = random_value(rng)
        assert wire.encode(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def test_canonical_json_and_record_hash_are_the_chains_own():
    rng = random.Random(12)
    for _ in range(3000):
        value = random_value(rng)
        assert wire.canonical_json(value) == chain.CANONICAL_JSON.encode(value)
        record = random_record(rng)
        assert wire.record_hash(chain.chained(record)) == chain.record_hash(record)


@pytest.mark.parametrize("value", [{"seq": 2**70}, [-(2**64)], {"big": 10**30, "x": "y"}],
                         ids=["past 64 bits", "negative past 64 bits", "nested"])
def test_what_orjson_cannot_hold_is_written_by_the_standard_library(value):
    assert wire.encode(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    assert wire.canonical_json(value) == chain.CANONICAL_JSON.encode(value)
    record = {**{name: None for name in chain.CHAINED_FIELDS}, "seq": 2**70, "answers": value}
    assert wire.record_hash(chain.chained(record)) == chain.record_hash(record)


def test_with_floats_the_encoding_may_differ_but_never_the_value():
    rng = random.Random(14)
    for _ in range(3000):
        value = random_value(rng, floats=True)
        assert json.loads(wire.encode(value)) == value
        assert json.loads(wire.canonical_json(value)) == value


def test_decode_reads_what_the_standard_library_reads():
    rng = random.Random(13)
    for _ in range(3000):
        body = json.dumps(random_value(rng, floats=True), ensure_ascii=rng.random() < 0.5).encode("utf-8")
        assert wire.decode(body) == json.loads(body)


def _stdlib_sentence(body: bytes):
    """The sentence central gave before orjson: the standard library's reading of the body."""
    try:
        json.loads(body.decode("utf-8"), parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name)))
    except UnicodeDecodeError:
        return "The body is not UTF-8."
    except json.JSONDecodeError as error:
        return f"The body is not valid JSON ({error.msg} at line {error.lineno})."
    except RecursionError:
        return "The body is nested too deeply; a batch is at most 4 levels deep."
    except ValueError as error:
        return f"The body holds {error}, which is not JSON."
    return None


@pytest.mark.parametrize("body", [
    b'{"kiosk_id": "\xff\xfe"}', b"", b"{", b'{"a": 1,}', b"[1] x", b"01", b'"a\x01b"', b"\xef\xbb\xbf[1]",
    b'{"responses": NaN}', b'{"responses": [-Infinity]}', b"[" * 100_000 + b"]" * 100_000,
    b'{\n"a":\n tru}', b'"\\x"', b"// comment\n1",
], ids=lambda body: repr(body[:24]))
def test_a_body_that_is_not_json_gets_the_same_sentence_as_before(body):
    with pytest.raises(wire.Unreadable) as error:
        wire.decode(body)
    assert str(error.value) == _stdlib_sentence(body)


def test_a_lone_surrogate_escape_is_read_as_before_for_the_fields_to_refuse():
    assert wire.decode(b'{"counter": "Q\\ud800"}') == {"counter": "Q\ud800"}


@pytest.mark.parametrize("digits", ["123456789012345678901", "-9223372036854775809", "9" * 5000])
def test_a_whole_number_past_64_bits_is_never_an_int_a_field_could_take(digits):
    value = wire.decode(f'{{"seq": {digits}}}'.encode())["seq"]
    assert not isinstance(value, int)
