"""Central's HTTP API as a blueprint: ingest (signed batches), reading (token), health and the OpenAPI document.

Every error is JSON: ``{ok: false, error, errors, status}`` (see ``ApiError``); a refused batch's also has
``details``, each problem as ``{index, field, message}`` (``sync.problems``), and a 413 for too many
responses ``max_responses``, central's limit.
"""

import threading
import zlib
from collections import Counter
from datetime import date, datetime, timezone

import orjson
from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import func, select

from kiosk import indices
from kiosk.clock import now_utc
from kiosk.text import nfc

from sync import problems as batch_problems
from sync import wire

from . import alerts, erasure, kioskconfig
from .ingest import ingest_each_alone
from .openapi import document
from .store import accounts, fleet, schema, tallies
from .store.roster import ROSTER_ID
from .store.integrity import integrity_report

bp = Blueprint("central_api", __name__)


class ApiError(Exception):
    """An error answered as JSON: ``{ok: false, error, errors, status}``, plus ``code`` when given
    (a word a program can act on, e.g. ``clock_skew``)."""

    def __init__(self, status: int, *errors: str, code=None, details=None):
        super().__init__(errors[0])
        self.status, self.errors, self.code, self.details = status, list(errors), code, details


def error_body(status: int, errors: list, code=None, details=None, **fields):
    """The JSON error answer: ``({ok: false, error, errors, status[, code][, details][, fields...]}, status)``;
    ``details`` (a refused batch's problems) is a list of ``{index, field, message}``; `fields` are added as
    they are (e.g. ``max_responses`` on a 413 for too many responses)."""
    extra = {"code": code} if code else {}
    if details is not None:
        extra["details"] = details
    return jsonify(ok=False, error="; ".join(errors), errors=errors, status=status, **extra, **fields), status


@bp.app_errorhandler(ApiError)
def api_error(error):
    """An ``ApiError`` raised anywhere becomes its JSON answer."""
    return error_body(error.status, error.errors, error.code, error.details)


@bp.app_errorhandler(batch_problems.BatchProblems)
def batch_refused(error):
    """A refused batch (``BatchInvalid``: 400, ``BatchTooLarge``: 413) names every problem, in words
    (``errors``) and as ``details`` items ``{index, field, message}`` a program reads; a 413 for too many
    responses also gives central's limit as ``max_responses`` (the uploader sends batches that size)."""
    limit = {"max_responses": error.max_responses} if isinstance(error, batch_problems.BatchTooLarge) else {}
    return error_body(error.status, [p.message for p in error.problems],
                      details=[p.as_json() for p in error.problems], **limit)


@bp.after_app_request
def sign_answer(response):
    """An authenticated kiosk's answer is signed with its secret (see ``wire.sign_answer``)."""
    secret = g.pop("answer_secret", None)
    if secret is not None:
        response.headers[wire.CENTRAL_SIGNATURE_HEADER] = wire.sign_answer(
            secret, g.pop("batch_id", ""), response.get_data())
    return response


def _engine():
    return current_app.extensions["central_engine"]


@bp.get("/healthz")
def healthz():
    engine = _engine()
    # Cheap on any size of store: no count over the responses.
    with engine.connect() as conn:
        kiosks, last_batch = conn.execute(select(func.count(), func.max(schema.kiosks.c.last_batch_utc))).one()
    return jsonify(ok=True, database=engine.dialect.name, kiosks=kiosks, last_batch_utc=last_batch)


@bp.get("/api/v1/openapi.json")
def openapi():
    return jsonify(document(current_app.config["CENTRAL"].max_batch))


@bp.post("/api/v1/batches")
def post_batch():
    """A kiosk's signed batch (its signature stands in for a CSRF token: the app exempts this blueprint):
    read and checked (``sync.central.checking``, in its worker when `central run` serves), then stored
    one at a time in this process (``_ONE_BATCH``)."""
    engine, config = _engine(), current_app.config["CENTRAL"]
    body = request.get_data(cache=False)
    kiosk, signed_at = _authenticate(engine, config, body)
    g.answer_secret = kiosk["secret"]
    body = _inflate(body, config)
    decoded, prepared = current_app.config["BATCH_CHECKER"].submit(body, config.max_batch, kiosk["unit"]).result()
    payload = _read_batch(body, decoded, config)  # (read by json alone: ingest checks and prepares it itself)
    others = {r["kiosk_id"] for r in payload["responses"]} | {payload["kiosk_id"]}
    if others != {kiosk["kiosk_id"]}:
        raise ApiError(403, f"Kiosk {kiosk['kiosk_id']} may post only its own responses.")
    with _ONE_BATCH:
        verdicts = ingest_each_alone(engine, kiosk, payload, now_utc(), signed_at, prepared)
        accepted = {v["uuid"] for v in verdicts if v["status"] == "accepted"}
        if accepted:  # committed: the alert check cannot hold the batch back (see sync.central.alerts)
            alerts.after_batch(engine, config, kiosk["unit"],
                               [r for r in payload["responses"] if r["uuid"] in accepted])
    counts = Counter(v["status"] for v in verdicts)
    answer = {"ok": True, "batch_id": payload["batch_id"],
              **{status: counts[status] for status in ("accepted", "duplicate", "rejected")}, "results": verdicts,
              "erased": erasure.erasures_for(engine, kiosk["kiosk_id"], now_utc(), config.contact_days)}
    return current_app.response_class(orjson.dumps(answer), mimetype="application/json")  # compiled: 5,000 verdicts


#: Batches are stored one at a time in a process: their work is Python's, under one interpreter lock, so two
#: at once each take longer than one after the other. A kiosk keeps its next batch on the wire
#: (``sync.uploader.IN_FLIGHT``): it is read and checked meanwhile, waits here, and is stored as soon as the
#: one before is.
_ONE_BATCH = threading.Lock()


@bp.post("/api/v1/kiosk-config")
def kiosk_config():
    """A kiosk's signed configuration request with its health report (``sync.central.kioskconfig``): the
    report is kept as the kiosk's latest, and the answer (its configuration, the nonce echoed) is signed
    over the nonce. A body central cannot read is a 400 naming the field; nothing is stored then."""
    engine, config = _engine(), current_app.config["CENTRAL"]
    body = request.get_data(cache=False)
    kiosk, _signed_at = _authenticate(engine, config, body)
    g.answer_secret = kiosk["secret"]
    payload = _parse_json(body)
    if isinstance(payload, dict) and wire.is_uuid(payload.get("nonce")):
        g.batch_id = payload["nonce"]  # the answer, an error too, is signed over it (otherwise over "")
    received = now_utc()
    try:
        nonce, health = kioskconfig.read_request(payload, received)
    except kioskconfig.RequestInvalid as error:
        raise ApiError(400, *error.errors) from None
    fleet.save_health(engine, kiosk["kiosk_id"], health, received)
    return jsonify(nonce=nonce, **kioskconfig.configuration(engine, kiosk))


@bp.get("/api/v1/summary")
def summary():
    engine = _engine()
    _require_token(engine)
    day = _day(request.args.get("date"))
    unknown = set(request.args) - {"date", "unit", "kiosk", "officer", "include_flagged"}
    if unknown:
        raise ApiError(400, f"Unknown parameter: {sorted(unknown)[0]}.")
    unit, kiosk = nfc(request.args.get("unit")) or None, request.args.get("kiosk") or None
    if kiosk and not wire.KIOSK_ID.match(kiosk):
        raise ApiError(400, f"kiosk must be a kiosk id, not {kiosk!r}.")
    officer = request.args.get("officer")
    if officer is not None and not ROSTER_ID.match(officer):
        raise ApiError(400, f"officer must be an officer's roster id, not {officer[:40]!r}.")
    if unit and not _plain_text(unit, 64):
        raise ApiError(400, "unit must be printable text of at most 64 characters.")
    include_flagged = request.args.get("include_flagged", "false")
    if include_flagged not in ("true", "false"):
        raise ApiError(400, "include_flagged must be true or false.")
    figures = indices.summarize_tallies(tallies.tallies_between(engine, day, day, unit=unit, kiosk=kiosk,
                                                                officer_id=officer),
                                        elements=current_app.config["ELEMENTS"],
                                        include_flagged=include_flagged == "true")
    return jsonify(ok=True, date=day, unit=unit, kiosk=kiosk, officer=officer, **figures)


@bp.get("/api/v1/integrity")
def integrity():
    engine = _engine()
    _require_token(engine)
    kiosk_id = request.args.get("kiosk", "")
    if not wire.KIOSK_ID.match(kiosk_id):
        raise ApiError(400, f"kiosk must be a kiosk id, not {kiosk_id!r}.")
    with engine.connect() as conn:
        if accounts.get_kiosk(conn, kiosk_id) is None:
            raise ApiError(404, f"No kiosk {kiosk_id!r} is registered.")
    return jsonify(ok=True, **integrity_report(engine, kiosk_id))


def _authenticate(engine, config, body):
    """The signing kiosk and its clock time, or a 401 naming what is wrong."""
    kiosk_id = request.headers.get(wire.KIOSK_HEADER, "")
    timestamp = request.headers.get(wire.TIMESTAMP_HEADER, "")
    with engine.connect() as conn:
        kiosk = accounts.get_kiosk(conn, kiosk_id) if wire.KIOSK_ID.match(kiosk_id) else None
    if kiosk is None:
        raise ApiError(401, f"Unknown kiosk {kiosk_id!r}: register it with `central add-kiosk`.")
    if not wire.signature_matches(kiosk["secret"], timestamp, body,
                                  request.headers.get(wire.SIGNATURE_HEADER, "")):
        raise ApiError(401, "The signature does not match: check KIOSK_SECRET.")
    try:
        if not (timestamp.isascii() and timestamp.isdigit()):
            raise ValueError(timestamp)
        signed_at = datetime.fromtimestamp(int(timestamp), timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise ApiError(401, f"{wire.TIMESTAMP_HEADER} must be Unix seconds.") from None
    off_by = abs((now_utc() - signed_at).total_seconds())
    if off_by > config.replay_seconds:
        raise ApiError(401, f"The timestamp is {off_by:.0f} s away from central's clock (more than "
                            f"{config.replay_seconds} s): refused as a possible replay; check the kiosk's clock.",
                       code="clock_skew")
    return kiosk, signed_at


def _read_batch(body: bytes, payload, config) -> dict:
    """The batch in `body` (JSON bytes): `payload`, what the batch schema decoded from it in one compiled pass
    (``sync.central.checking``), or when that refused it (None), `body` read again by ``json`` to name
    every problem (``BatchInvalid``, ``BatchTooLarge``) or the reason it cannot be read (``ApiError`` 400)."""
    if payload is not None:
        _remember_batch_id(payload)
        return payload
    payload = _parse_json(body)
    _remember_batch_id(payload)
    batch_problems.check_batch(payload, config.max_batch)  # raises, unless pydantic refused what json reads
    return payload


def _remember_batch_id(payload):
    if isinstance(payload, dict) and wire.is_uuid(payload.get("batch_id")):
        g.batch_id = payload["batch_id"]  # the answer is signed over it (any other text: over "")


def _inflate(body, config):
    """The request's body without its Content-Encoding (gzip or none)."""
    encoding = request.headers.get("Content-Encoding", "identity").lower()
    if encoding == "gzip":
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            body = inflater.decompress(body, 4 * config.max_body_bytes)
        except zlib.error:
            raise ApiError(400, "The body is not valid gzip.") from None
        if inflater.unconsumed_tail:
            raise ApiError(413, f"The body inflates to more than {4 * config.max_body_bytes} bytes.")
        if not inflater.eof:  # cut short: its end, and the checksum there, never came
            raise ApiError(400, "The body is not valid gzip.")
    elif encoding != "identity":
        raise ApiError(415, f"Content-Encoding {encoding!r} is not supported; use gzip or none.")
    return body


def _parse_json(body):
    """The JSON value of a body the compiled pass refused, read by ``wire.decode`` (ApiError 400 naming why
    it cannot be read)."""
    try:
        return wire.decode(body)
    except wire.Unreadable as error:
        raise ApiError(400, str(error)) from None


def _require_token(engine):
    header = request.headers.get("Authorization", "")
    token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    if not token or not accounts.token_known(engine, token):
        raise ApiError(401, "A valid API token is needed: Authorization: Bearer TOKEN "
                            "(create one with `central add-token NAME`).")


def _plain_text(value, longest):
    return len(value) <= longest and value.isprintable()


def _day(value):
    try:
        return date.fromisoformat(value or "").isoformat()
    except ValueError:
        raise ApiError(400, f"date must be a day like 2026-01-31, not {value!r}.") from None
