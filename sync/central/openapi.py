"""The OpenAPI 3 description of central's HTTP API, served at /api/v1/openapi.json.

The batch's components (Batch, Response, Private, Install) are generated from the
one batch schema that validates batches (``sync.schema``), so the two agree on
lengths, integer ranges, patterns and item counts (tests/test_wire.py checks them
field by field); ``document(max_batch)`` is what central serves.
"""

import copy
from functools import lru_cache

from sync import schema

from .kioskconfig import TEXT_BOUNDS, WHOLE_BOUNDS

ERROR = {"$ref": "#/components/schemas/Error"}


def _errors(*codes):
    text = {400: "Bad input; nothing was written", 401: "Not authenticated",
            403: "Not allowed", 404: "Not found", 413: "Too large", 415: "Unsupported encoding"}
    return {str(c): {"description": text[c], "content": {"application/json": {"schema": ERROR}}}
            for c in codes}


NULLABLE_TEXT = {"type": ["string", "null"]}
#: A health report's bounded fields, as sync.central.kioskconfig checks them (times are described apart).
_HEALTH_TEXT = {name: longest for name, longest in TEXT_BOUNDS.items() if not name.endswith("_utc")}
KIOSK_ID = {"type": "string", "pattern": schema.KIOSK_ID_PATTERN}

#: The headers of a request a kiosk signs (a batch, a configuration request): see ``sync.wire``.
SIGNED_BY_KIOSK = [
    {"name": "X-Kiosk-Id", "in": "header", "required": True, "schema": KIOSK_ID},
    {"name": "X-Kiosk-Timestamp", "in": "header", "required": True,
     "schema": {"type": "string"}, "description": "Unix seconds"},
    {"name": "X-Kiosk-Signature", "in": "header", "required": True,
     "schema": {"type": "string"}, "description": "hex HMAC-SHA256"},
]


def _signed_answer(description: str, over: str, result: str) -> dict:
    """A 200 answer signed by central (``X-Central-Signature`` over `over` + '.' + body) holding `result`."""
    return {"description": description, "headers": {
        "X-Central-Signature": {"description": f"hex HMAC-SHA256 over {over} + '.' + this body",
                                "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}},
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{result}"}}}}
ROSTER_ID = {"type": "string", "pattern": schema.ROSTER_ID_PATTERN}

#: The routes and the answers' schemas; the batch's components are added by ``document``.
_HAND_WRITTEN = {
    "openapi": "3.1.0",
    "info": {"title": "SIPAS kiosk central API", "version": "1"},
    "paths": {
        "/healthz": {"get": {
            "summary": "Liveness and counts",
            "responses": {"200": {"description": "Up", "content": {"application/json": {"schema": {
                "type": "object", "required": ["ok", "database", "kiosks", "last_batch_utc"],
                "properties": {"ok": {"const": True}, "database": {"type": "string"},
                               "kiosks": {"type": "integer"},
                               "last_batch_utc": {"type": ["string", "null"]}}}}}}}}},
        "/api/v1/openapi.json": {"get": {
            "summary": "This document",
            "responses": {"200": {"description": "OpenAPI 3 document",
                                  "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        "/api/v1/batches": {"post": {
            "summary": "Upload a kiosk's batch of responses",
            "description": "Signed with HMAC-SHA256 over `timestamp + '.' + body` (the body exactly as "
                           "sent, gzip or not) with the kiosk's secret. Each response gets a verdict: "
                           "accepted, duplicate, or rejected with a reason (kept in quarantine). Every answer "
                           "to an authenticated kiosk carries `X-Central-Signature`: hex HMAC-SHA256 over "
                           "`batch_id + '.' + answer body` with the kiosk's secret (batch_id as sent; '' if "
                           "the body could not be read); the uploader believes no answer without it. A 401 "
                           "with `code: clock_skew` means the kiosk's clock is off: retry once it is fixed. A 413 "
                           "for too many responses gives central's limit as `max_responses`; the uploader answers "
                           "any 413 by sending smaller batches (that many, or half as many).",
            "parameters": SIGNED_BY_KIOSK,
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Batch"}}}},
            "responses": {"200": _signed_answer("A verdict for every response", "batch_id", "BatchResult"),
                **_errors(400, 401, 403, 413, 415)}}},
        "/api/v1/kiosk-config": {"post": {
            "summary": "A kiosk's configuration, fetched with its health report",
            "description": "Signed like a batch (X-Kiosk-Id, X-Kiosk-Timestamp, X-Kiosk-Signature over "
                           "`timestamp + '.' + body`). Central keeps the health report as the kiosk's latest and "
                           "answers the kiosk's unit, the unit's active counters and officers, the questionnaire "
                           "to use (null: keep the kiosk's own) and central's setting overrides. The answer "
                           "carries `X-Central-Signature`: hex HMAC-SHA256 over `nonce + '.' + answer body` with "
                           "the kiosk's secret (nonce as sent; '' if the body had none).",
            "parameters": SIGNED_BY_KIOSK,
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/KioskConfigRequest"}}}},
            "responses": {"200": _signed_answer("The kiosk's configuration", "nonce", "KioskConfig"),
                **_errors(400, 401, 403, 413)}}},
        "/api/v1/summary": {"get": {
            "summary": "A day's figures (Asia/Ho_Chi_Minh)",
            "security": [{"bearer": []}],
            "parameters": [
                {"name": "date", "in": "query", "required": True, "schema": {"type": "string", "format": "date"}},
                {"name": "unit", "in": "query", "required": False, "schema": {"type": "string"}},
                {"name": "kiosk", "in": "query", "required": False, "schema": KIOSK_ID},
                {"name": "officer", "in": "query", "required": False, "description": "an officer's roster id: "
                 "the responses given while they were on duty", "schema": ROSTER_ID},
                {"name": "include_flagged", "in": "query", "required": False,
                 "schema": {"enum": ["true", "false"]}},
            ],
            "responses": {"200": {"description": "Counts, distributions and satisfaction per question",
                                  "content": {"application/json": {"schema": {
                                      "$ref": "#/components/schemas/Summary"}}}},
                          **_errors(400, 401)}}},
        "/api/v1/integrity": {"get": {
            "summary": "A kiosk's integrity events: gaps, broken links, altered or conflicting responses, clock skew",
            "security": [{"bearer": []}],
            "parameters": [{"name": "kiosk", "in": "query", "required": True, "schema": KIOSK_ID}],
            "responses": {"200": {"description": "The kiosk's events", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Integrity"}}}}, **_errors(400, 401, 404)}}},
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {"type": "object", "required": ["ok", "error", "errors", "status"], "properties": {
                "ok": {"const": False}, "error": {"type": "string"},
                "errors": {"type": "array", "items": {"type": "string"}}, "status": {"type": "integer"},
                "details": {"type": "array", "description": "a refused batch's problems, one per field: "
                            "index of the response (null for the batch's own fields), the field, the sentence",
                            "items": {"$ref": "#/components/schemas/FieldError"}},
                "code": {"type": "string", "description": "for programs, e.g. clock_skew"},
                "max_responses": {"type": "integer", "minimum": 1, "description": "with a 413 for too many "
                                  "responses in one batch: the most central takes (CENTRAL_MAX_BATCH); a kiosk "
                                  "sends batches of at most this many"}}},
            "FieldError": {"type": "object", "required": ["index", "field", "message"], "properties": {
                "index": {"type": ["integer", "null"], "minimum": 0}, "field": {"type": "string"},
                "message": {"type": "string"}}},
            "Verdict": {"type": "object", "required": ["uuid", "seq", "status"], "properties": {
                "uuid": {"type": "string"}, "seq": {"type": "integer"},
                "status": {"enum": ["accepted", "duplicate", "rejected"]}, "reason": {"type": "string"}}},
            "BatchResult": {"type": "object",
                            "required": ["ok", "batch_id", "accepted", "duplicate", "rejected", "results",
                                         "erased"],
                            "properties": {
                                "ok": {"const": True}, "batch_id": {"type": "string"},
                                "accepted": {"type": "integer"}, "duplicate": {"type": "integer"},
                                "rejected": {"type": "integer"},
                                "results": {"type": "array", "items": {"$ref": "#/components/schemas/Verdict"}},
                                "erased": {"type": "array", "items": {"type": "string", "pattern": schema.UUID.pattern},
                                           "description": "responses of this kiosk whose phone number central "
                                                          "erased: the kiosk erases its copy too"}}},
            "KioskConfigRequest": {"type": "object", "required": ["nonce"], "properties": {
                "nonce": {"type": "string", "pattern": schema.UUID.pattern},
                "health": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Health"}]}}},
            "Health": {"type": "object", "description": "every field optional; unknown fields ignored",
                       "properties": {
                           **{name: {"type": ["string", "null"], "maxLength": longest}
                              for name, longest in _HEALTH_TEXT.items()},
                           **{name: {"type": ["integer", "null"], "minimum": 0, "maximum": highest}
                              for name, highest in WHOLE_BOUNDS.items()},
                           "clock_utc": {"type": ["string", "null"], "format": "date-time", "maxLength": 32},
                           "last_error_utc": {"type": ["string", "null"], "format": "date-time",
                                              "maxLength": 32}}},
            "Named": {"type": "object", "required": ["id", "name"], "properties": {
                "id": {"type": "string"}, "name": {"type": "string"}}},
            "KioskConfig": {"type": "object", "required": ["nonce", "config_version", "unit", "counters", "officers",
                                                           "questionnaire", "settings"], "properties": {
                "nonce": {"type": "string"},
                "config_version": {"type": "string", "pattern": "^[0-9a-f]{64}$",
                                   "description": "hex SHA-256 of the canonical JSON of the fields after it"},
                "unit": {"type": "object", "required": ["code", "name"], "properties": {
                    "code": {"type": "string"}, "name": {"type": "string"}}},
                "counters": {"type": "array", "items": {"$ref": "#/components/schemas/Named"}},
                "officers": {"type": "array", "items": {"$ref": "#/components/schemas/Named"}},
                "questionnaire": {"oneOf": [{"type": "null"}, {
                    "type": "object", "required": ["version", "source"], "properties": {
                        "version": {"type": "string"}, "source": {"type": "string", "description": "TOML"}}}]},
                "settings": {"type": "object", "description": "central's overrides of kiosk settings",
                             "additionalProperties": {"type": ["integer", "boolean"]}}}},
            "QuestionFigures": {"type": "object", "required": ["answered", "distribution", "mean", "satisfied_pct"],
                                "properties": {
                                    "answered": {"type": "integer"},
                                    "distribution": {"type": "object", "required": ["1", "2", "3", "4", "5"],
                                                     "additionalProperties": {"type": "integer"}},
                                    "mean": {"type": ["number", "null"]},
                                    "satisfied_pct": {"type": ["number", "null"]}}},
            "Summary": {"type": "object", "required": [
                "ok", "date", "responses", "flagged", "flags", "flagged_included", "without_overall",
                "questions", "choices", "elements", "sipas_index", "extra_request_pct", "repeat_visits_pct",
                "top_reasons", "dossiers"], "properties": {
                "ok": {"const": True}, "date": {"type": "string", "format": "date"},
                "unit": NULLABLE_TEXT, "kiosk": NULLABLE_TEXT, "officer": NULLABLE_TEXT,
                "responses": {"type": "integer", "description": "responses that count: with an overall "
                                                                "rating, flagged ones left out unless included"},
                "flagged": {"type": "integer"}, "flagged_included": {"type": "boolean"},
                "flags": {"type": "object", "additionalProperties": {"type": "integer"}},
                "without_overall": {"type": "integer"},
                "questions": {"type": "object", "additionalProperties": {
                    "$ref": "#/components/schemas/QuestionFigures"}},
                "choices": {"type": "object", "additionalProperties": {
                    "type": "object", "additionalProperties": {"type": "integer"}}},
                "not_applicable": {"type": "object", "description": "per question, answers of "
                                   "'not applicable' (e.g. no result yet): in no rating figure",
                                   "additionalProperties": {"type": "integer"}},
                "elements": {"type": "object", "description": "SIPAS-style index per element (1-5), in %",
                             "additionalProperties": {"type": "number"}},
                "sipas_index": {"type": ["number", "null"], "description": "SIPAS-style: mean of the elements"},
                "extra_request_pct": {"type": ["number", "null"]},
                "repeat_visits_pct": {"type": ["number", "null"]},
                "top_reasons": {"type": "array", "items": {"type": "object", "required": ["reason", "count"],
                                                           "properties": {"reason": {"type": "string"},
                                                                          "count": {"type": "integer"}}}},
                "dossiers": {"type": "object", "required": ["rated", "satisfaction_pct"], "properties": {
                    "rated": {"type": "integer"}, "satisfaction_pct": {"type": ["number", "null"]}}}}},
            "Integrity": {"type": "object", "required": ["ok", "kiosk", "responses", "highest_seq",
                                                         "quarantined", "events"], "properties": {
                "ok": {"const": True}, "kiosk": {"type": "string"}, "responses": {"type": "integer"},
                "highest_seq": {"type": ["integer", "null"]}, "quarantined": {"type": "integer"},
                "installs": {"type": "array", "items": {"type": "object", "properties": {
                    "install_id": {"type": "string", "description": "'' for the legacy store"},
                    "parent_id": {"type": ["string", "null"]}, "from_seq": {"type": "integer"},
                    "first_seen_utc": {"type": "string"}, "last_batch_utc": {"type": "string"},
                    "responses": {"type": "integer"}, "concurrent_with": {"type": ["string", "null"]}}}},
                "events": {"type": "array", "items": {"type": "object", "required": ["kind", "detail"],
                                                      "properties": {
                    "kind": {"enum": ["gap", "broken_link", "altered", "conflict", "clock_skew", "clock_back",
                                      "clock_behind", "reinstalled", "copied", "two_installs"]},
                    "install_id": {"type": ["string", "null"]},
                    "seq_from": {"type": ["integer", "null"]}, "seq_to": {"type": ["integer", "null"]},
                    "detail": {"type": "string"}, "recorded_utc": {"type": "string"}}}}}},
        },
    },
}


def document(max_batch: int) -> dict:
    """The OpenAPI document as central serves it: its batch components for `max_batch` responses a batch."""
    return copy.deepcopy(_document(max_batch))


@lru_cache(maxsize=4)
def _document(max_batch):
    result = copy.deepcopy(_HAND_WRITTEN)
    result["components"]["schemas"].update(schema.openapi_components(max_batch))
    return result


#: The document for the default batch limit (``schema.DEFAULT_MAX_RESPONSES``).
OPENAPI = document(schema.DEFAULT_MAX_RESPONSES)
