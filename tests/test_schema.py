"""The one batch schema (sync/schema.py): its compiled pass and its field-by-field walk agree, central's
errors carry each problem as {index, field, message}, 400 and 413 come from typed errors, and the
OpenAPI document's batch components are the schema's own."""

import copy
import json

import pytest

from conftest import central_env_for
from helpers import commented_rows, post, stored_counts
from sync import problems, schema, wire


@pytest.fixture(scope="module")
def good_batch(tmp_path_factory):
    return wire.batch("test-kiosk", commented_rows(tmp_path_factory.mktemp("kiosk") / "kiosk.db", 3))


def _changed(batch, index, **fields):
    batch = copy.deepcopy(batch)
    batch["responses"][index].update(fields)
    return batch


def _variants(batch):
    """(name, batch) pairs: well-formed ones and ones wrong in every way the walker names."""
    row = batch["responses"][1]
    yield "as sent", batch
    for name, value in [("counter", "Quầy\t3\nB"), ("officer", "Nguyễn" * 13 + "An"), ("officer", None),
                        ("dossier_code", "H" * 64), ("questionnaire_version", "e\u0301" * 32),
                        ("answers", {"k" * 32: "v" * 16}), ("reasons", ["r"] * 50),
                        ("created_utc", "2028-02-29T23:59:59.999Z")]:
        yield f"{name} at a bound", _changed(batch, 1, **{name: value})
    for name, value in [("counter", "Q\x1b"), ("counter", "Q" * 21), ("officer", "An\u200b"),
                        ("dossier_code", "HS\n"), ("dossier_code", ""), ("questionnaire_version", "v\x85"),
                        ("officer", "A" * 79 + "\u0958"),  # U+0958 is two characters in NFC: 81
                        ("answers", {"overall": 6}), ("answers", {"overall": True}), ("answers", {"": 3}),
                        ("answers", {"q\x00": 3}), ("answers", {"visits": "v" * 17}),
                        ("answers", {f"q{i}": 3 for i in range(51)}), ("reasons", ["slow\n"]),
                        ("flags", ["burst"] * 51), ("flags", [1]), ("complete", 1.0), ("complete", True),
                        ("complete", 2), ("seq", 0), ("seq", 2**31), ("seq", "2"), ("seq", 1),
                        ("utc_offset_minutes", 841), ("created_utc", "2026-02-30T08:00:00.000Z"),
                        ("created_utc", "2026-01-31T24:00:00.000Z"), ("created_utc", "1999-12-31T23:59:59.000Z"),
                        ("created_utc", "2026-01-31T08:15:00Z"), ("uuid", row["uuid"].upper()),
                        ("hash", "0" * 63), ("comment_hash", "x" * 64), ("kiosk_id", "-bad"), ("extra", 1)]:
        yield f"{name}={value!r:.30}", _changed(batch, 1, **{name: value})
    for name, value in [("comment", None), ("comment_salt", None), ("phone", "0" * 17), ("phone", "09\n"),
                        ("consent_utc", "2026-13-01T00:00:00.000Z"), ("other", "x")]:
        private = {**batch["responses"][1]["private"], name: value}
        yield f"private.{name}={value!r:.20}", _changed(batch, 1, private=private)
    yield "private text without salts", _changed(batch, 1, private={"comment": "tốt"})
    yield "private null", _changed(batch, 1, private=None)
    for name, value in [("install", {"id": "x", "from_seq": 1, "head_seq": 3}), ("kiosk_id", 3),
                        ("batch_id", None), ("responses", []), ("more", 1)]:
        yield f"batch {name}", {**batch, name: value}
    yield "install", {**batch, "install": {"id": "12345678-1234-4234-8234-123456789abc", "from_seq": 1,
                                           "parent": None, "head_seq": 3}}
    yield "a response not an object", {**batch, "responses": batch["responses"][:2] + ["row"]}


def test_the_compiled_pass_and_the_walker_agree_on_every_variant(good_batch):
    verdicts = []
    for name, batch in _variants(good_batch):
        body = json.dumps(batch, ensure_ascii=False).encode()
        found = problems.batch_errors(json.loads(body), 1000)
        decoded = schema.decode_batch(body, 1000)
        assert (decoded is None) == bool(found), f"{name}: compiled {decoded is not None}, walker {found}"
        if decoded is not None:
            assert decoded == json.loads(body), name  # the same dicts ingest has always had
        verdicts.append(not found)
    assert verdicts.count(True) >= 10 and verdicts.count(False) >= 40


def test_a_400_names_each_problem_as_index_field_and_message(central_client, central_engine, kiosk_secret,
                                                              good_batch):
    batch = _changed(good_batch, 1, counter="Q\x1b", complete=1.0)
    batch["responses"][2]["private"]["comment_salt"] = None
    batch["batch_id"] = "not-a-uuid"
    reply = post(central_client, kiosk_secret, batch)
    body = reply.get_json()
    assert reply.status_code == 400 and body["status"] == 400 and "max_responses" not in body
    assert body["details"] == [
        {"index": None, "field": "batch_id", "message": "batch_id must be a UUID in lower-case canonical form"},
        {"index": 1, "field": "counter", "message": "responses[1].counter must be null or text of 1 to 20 "
                                                   "characters, without control characters"},
        {"index": 1, "field": "complete", "message": "responses[1].complete must be 0 or 1"},
        {"index": 2, "field": "private.comment",
         "message": "responses[2].private.comment must be text of 1 to 1000 characters without control "
                    "characters, with a 32-hex-digit comment_salt"}]
    assert body["errors"] == [d["message"] for d in body["details"]] and body["error"] == "; ".join(body["errors"])
    assert stored_counts(central_engine) == (0, 0, 0, 0)


def test_too_many_responses_is_a_413_from_its_typed_error(central_url, central_engine, kiosk_secret, good_batch):
    from sync.central import app as central
    from sync.central.config import load

    app = central.create_app(load({**central_env_for(central_url), "CENTRAL_MAX_BATCH": "2"}), central_engine)
    reply = post(app.test_client(), kiosk_secret, good_batch)
    body = reply.get_json()
    assert reply.status_code == 413 and body["status"] == 413
    assert body["details"] == [{"index": None, "field": "responses",
                                "message": "responses has 3 items; at most 2 per batch"}]
    assert body["max_responses"] == 2  # central's setting, for a kiosk to send smaller batches
    assert list(body) == ["ok", "error", "errors", "status", "details", "max_responses"]
    with pytest.raises(problems.BatchTooLarge):
        problems.check_batch(good_batch, 2)
    with pytest.raises(problems.BatchInvalid) as refused:
        problems.check_batch(_changed(good_batch, 0, seq=0), 3)
    assert refused.value.problems == [(0, "seq", "responses[0].seq must be a whole number from 1 to 2147483647")]
    assert stored_counts(central_engine) == (0, 0, 0, 0)
    served = app.test_client().get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert served["Batch"]["properties"]["responses"]["maxItems"] == 2


def test_the_served_batch_components_are_the_schemas_own(central_client):
    served = central_client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    generated = schema.openapi_components(schema.DEFAULT_MAX_RESPONSES)
    assert {name: served[name] for name in generated} == generated
    fields = served["Response"]["properties"]
    assert {name: fields[name]["description"]
            for name in {**schema.RESPONSE_FIELDS, **schema.OPTIONAL_RESPONSE_FIELDS}} == schema.MUST_BE
    assert "officer_id" not in served["Response"]["required"]
    assert fields["seq"]["maximum"] == wire.SEQ_MAX == schema.SEQ_MAX
    assert fields["officer"]["anyOf"][0]["maxLength"] == schema.TEXT_MAX["officer"]
    assert fields["answers"]["propertyNames"]["maxLength"] == schema.ANSWER_KEY_MAX
    assert served["Error"]["properties"]["details"]["items"] == {"$ref": "#/components/schemas/FieldError"}
