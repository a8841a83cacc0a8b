"""The uploader: sends the kiosk's pending responses to central, exactly once in effect.

At-least-once on the wire: a batch may be sent again after a timeout or a cut
connection, which is safe because central answers a response it already has
as a duplicate. A response is marked done only when central's answer names it
and is signed with this kiosk's secret (``wire.answer_signature_matches``).

Each batch carries the install (see ``kiosk.store.ensure_install``) its
responses were made in; a batch never mixes installs.

A 413 (central takes fewer responses, or fewer bytes, in one batch: an older
central, or one configured smaller) does not stop the uploader: the same
responses go again at once in smaller batches (central's ``max_responses``
when its answer gives a smaller one, otherwise half as many), and that size
stays for the rest of the Uploader's life. Only a batch of one response
refused with 413 stops it.

``kiosk-sync --once`` exit codes: 0 everything answered and none refused;
1 the upload failed for now (central unreachable, busy, clock refused, an
unsigned answer), nothing lost; 3 delivered, but central refused some
responses (kept in its quarantine, in no figure); 4 stopped: a person must
fix a setting (unknown kiosk, wrong secret). Forever mode exits 4 only for the
latter and keeps retrying everything else.
"""

import gzip
import logging
import random
import sqlite3
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import orjson
import requests

from kiosk import outbox, store
from kiosk.clock import now_utc

from . import configuration, wire

log = logging.getLogger("kiosk-sync")

#: Statuses after which retrying cannot help: the operator must act.
FATAL_STATUSES = {401: "central refused the kiosk's credentials",
                  403: "central refused this kiosk's batch",
                  413: "central refused the batch as too large"}
RETRY_STATUSES = {429} | set(range(500, 600))
STATUSES = ("accepted", "duplicate", "rejected")
EXIT_FAILED, EXIT_REJECTED, EXIT_FATAL = 1, 3, 4
#: Seconds between configuration exchanges in forever mode (each `kiosk-sync --once` runs one):
#: a round every 2 s would make a province's kiosks ask central hundreds of times a second.
CONFIG_EVERY = 60.0


class SyncError(Exception):
    """One sentence for the operator; ``fatal`` means stop instead of retrying."""

    def __init__(self, message: str, *, fatal=False, retry_after=None):
        super().__init__(message)
        self.fatal, self.retry_after = fatal, retry_after


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff, capped, with jitter (each wait is between half and all of
    its step, so kiosks coming back together spread out); Retry-After wins when larger."""

    base: float = 1.0
    cap: float = 300.0
    retry_after_cap: float = 3600.0

    def delay(self, attempt: int, retry_after=None, rng=random.random) -> float:
        ceiling = min(self.cap, self.base * 2 ** max(0, attempt - 1))
        wait = ceiling / 2 + rng() * ceiling / 2
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.retry_after_cap))
        return wait


def parse_retry_after(value):
    """Seconds from a Retry-After header (seconds or an HTTP date); None if absent or bad."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - now_utc()).total_seconds())
    except (TypeError, ValueError):
        return None


#: Batches sent before the oldest is answered: central (one batch at a time, ``sync.central.api``) starts the
#: next one as soon as it has answered one, instead of waiting for this kiosk to read the answer and send.
IN_FLIGHT = 2
#: The most responses in the first batch of a round: central starts on it sooner, and meanwhile this kiosk
#: reads the next (full-size) batch, instead of both waiting on a first batch of 5,000.
FIRST_BATCH = 1000


class Uploader:
    def __init__(self, db_path, kiosk_id, secret, central_url, batch_size=5000,
                 timeout=(3.05, 60), session=None):
        self.db_path, self.kiosk_id, self.secret = db_path, kiosk_id, secret
        self.central_url = central_url.rstrip("/")
        self.url = self.central_url + "/api/v1/batches"
        self.batch_size, self.timeout = batch_size, timeout
        self.session = session or requests.Session()

    def send_pending(self) -> Counter:
        """Send every pending response, batch by batch; returns central's verdicts counted by status
        (``accepted``, ``duplicate``, ``rejected``; a Counter, empty when nothing was pending).

        Two batches are on the wire at once (``IN_FLIGHT``): central takes the next one while this kiosk
        reads and records its answer to the one before (a crash in between only sends a batch again,
        which central answers as duplicates).
        Raises ``SyncError`` (``fatal`` when a person must act); nothing unanswered is marked.
        """
        answered = Counter()
        with store.connect(self.db_path) as db, ThreadPoolExecutor(max_workers=IN_FLIGHT) as wire_threads:
            try:
                self._send_all(db, wire_threads, answered)
            except SyncError as error:
                outbox.record_error(db, str(error))
                raise
            except sqlite3.Error as error:  # e.g. the kiosk's database busy for too long
                outbox.record_error(db, f"the kiosk's database: {error}")
                raise SyncError(f"cannot read or write the kiosk's database ({error})") from None
            if answered:
                outbox.record_success(db)
        return answered

    def _send_all(self, db, wire_threads, answered: Counter):
        """Keep up to ``IN_FLIGHT`` batches of one kiosk store on the wire, oldest answered first: central takes
        the next one while this kiosk reads and records the answer to the one before."""
        window, after = [], 0  # window: (prepared batch, its request's future), oldest first
        upcoming = self._prepare(db, after, FIRST_BATCH)
        while upcoming or window:
            while upcoming and len(window) < IN_FLIGHT and not (window and _other_install(window[-1][0], upcoming)):
                window.append((upcoming, wire_threads.submit(self._post, upcoming[2])))
                upcoming = self._prepare(db, upcoming[0][-1]["seq"])
            (responses, payload, _body), in_flight = window.pop(0)
            try:
                reply = in_flight.result()
                if self._smaller_after_413(len(responses), reply):  # none of it marked: the same ones, fewer a batch
                    self._take_answers(db, window, answered)  # those sent at the old size (a 413 is skipped)
                    window, upcoming = [], self._prepare(db, after)
                    continue
                verdicts = self._answer(db, responses, payload, reply, answered)
            except SyncError:
                self._take_answers(db, window, answered)  # a later batch's answer is not thrown away
                raise
            if len(verdicts) == len(responses):
                after = responses[-1]["seq"]
            else:  # some of this batch are still pending: take the answers on the wire, then read them again
                self._take_answers(db, window, answered)
                window, upcoming = [], self._prepare(db, after)

    def _take_answers(self, db, window, answered: Counter):
        """Record the answers to the batches still on the wire that central answered; the others stay pending."""
        for (responses, payload, _body), in_flight in window:
            try:
                self._answer(db, responses, payload, in_flight.result(), answered)
            except SyncError:
                continue

    def _answer(self, db, responses, payload, reply, answered: Counter) -> dict:
        """Read and record central's `reply` to a batch; returns its verdicts ``{seq: (status, reason)}``."""
        verdicts, erased = self._read_answer(responses, payload, reply)
        self._record(db, payload, verdicts, erased)
        answered.update(status for status, _reason in verdicts.values())
        return verdicts

    def _prepare(self, db, after, most=None):
        """The next batch after seq `after`, of at most ``batch_size`` (and `most`) responses: ``(responses,
        payload, gzip'd body)``, or None when nothing is pending."""
        limit = min(self.batch_size, most or self.batch_size)
        responses = outbox.pending(db, limit, after, json_value=orjson.Fragment)
        if not responses:
            return None
        history = store.installs(db)
        install = None
        if history:
            made_in, following = store.install_of(history, responses[0]["seq"])
            if following:
                responses = [r for r in responses if r["seq"] < following]
            if made_in["id"]:
                head = db.execute("SELECT max(seq) FROM responses").fetchone()[0]
                install = {"id": made_in["id"], "from_seq": made_in["from_seq"], "parent": made_in["parent"] or None,
                           "head_seq": min(head, following - 1) if following else head}
        payload = wire.batch(self.kiosk_id, responses, install)
        try:  # the stored JSON columns embedded as they are (no decoding and encoding again)
            body = orjson.dumps(payload)
        except orjson.JSONEncodeError:  # a text orjson refuses (see wire.encode): decoded, then encoded
            decoded = {r["seq"]: r for r in outbox.pending(db, limit, after)}
            responses = [decoded[r["seq"]] for r in responses]
            payload = {**payload, "responses": responses}
            body = wire.encode(payload)
        body = gzip.compress(body, compresslevel=1)
        return responses, payload, body

    def _post(self, body):
        timestamp = str(int(now_utc().timestamp()))
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip",
                   wire.KIOSK_HEADER: self.kiosk_id, wire.TIMESTAMP_HEADER: timestamp,
                   wire.SIGNATURE_HEADER: wire.sign(self.secret, timestamp, body)}
        try:
            return self.session.post(self.url, data=body, headers=headers, timeout=self.timeout)
        except requests.Timeout:
            raise SyncError(f"central at {self.url} did not answer in time") from None
        except requests.ConnectionError as error:
            raise SyncError(f"cannot reach central at {self.url} ({_root_cause(error)})") from None
        except requests.RequestException as error:
            raise SyncError(f"the request to central at {self.url} failed ({_root_cause(error)})") from None

    def _smaller_after_413(self, sent: int, reply) -> bool:
        """After a 413 for a batch of `sent` responses (sent > 1): send fewer from now on, True. Central's
        ``max_responses`` when its answer gives a whole number below `sent`, otherwise half of `sent`
        (rounded down). Any other answer, or a 413 for one response (``_read_answer`` stops): False."""
        if reply.status_code != 413 or sent <= 1:
            return False
        limit = _json(reply).get("max_responses")
        if type(limit) is int and 1 <= limit < sent:
            self.batch_size = limit
            log.warning("central took at most %d responses per batch; sending batches of %d", limit, limit)
        else:
            self.batch_size = sent // 2
            log.warning("central refused a batch of %d responses as too large (HTTP 413: %s); sending batches "
                        "of %d", sent, _message(reply), self.batch_size)
        return True

    def _check_signed(self, payload, reply):
        """Believe an answer only if central signed it with this kiosk's secret."""
        if not wire.answer_signature_matches(self.secret, payload["batch_id"], reply.content,
                                             reply.headers.get(wire.CENTRAL_SIGNATURE_HEADER)):
            raise SyncError(f"the answer from {self.url} (HTTP {reply.status_code}) is not signed with this "
                            f"kiosk's secret, so nothing was marked done: check that CENTRAL_URL is the "
                            f"department's central server")

    def _read_answer(self, responses, payload, reply):
        """Central's verdicts, nothing recorded yet: ``({seq: (status, reason)}, erased UUIDs or None)``."""
        message = _message(reply) if reply.status_code != 200 else ""
        if reply.status_code == 401 and _json(reply).get("code") == "clock_skew":
            raise SyncError(f"central refused the batch because of the kiosk's clock (HTTP 401): {message}")
        if reply.status_code in FATAL_STATUSES:
            raise SyncError(f"{FATAL_STATUSES[reply.status_code]} (HTTP {reply.status_code}): {message}",
                            fatal=True)
        if reply.status_code in RETRY_STATUSES:
            raise SyncError(f"central is busy or failing (HTTP {reply.status_code}): {message}",
                            retry_after=parse_retry_after(reply.headers.get("Retry-After")))
        if reply.status_code == 400:
            return self._set_aside_malformed(payload, reply, message), None
        if reply.status_code != 200:
            raise SyncError(f"unexpected answer from central (HTTP {reply.status_code}): {message}",
                            fatal=True)
        self._check_signed(payload, reply)
        by_uuid = {r["uuid"]: r["seq"] for r in responses}
        verdicts = {}
        for result in _json(reply).get("results", []):
            seq = isinstance(result, dict) and by_uuid.get(result.get("uuid"))
            if seq and result.get("status") in ("accepted", "duplicate", "rejected"):
                verdicts[seq] = (result["status"], result.get("reason"))
        if not verdicts:
            raise SyncError("central's answer named none of the responses sent", fatal=True)
        return verdicts, _json(reply).get("erased")

    def _record(self, db, payload, verdicts, erased):
        """Mark central's verdicts and follow its erasures, in this kiosk's file."""
        outbox.record_verdicts(db, payload["batch_id"], verdicts)
        erased = outbox.apply_erasures(db, erased)
        if erased:
            log.info("erased %d phone number(s) central erased", erased)

    def _set_aside_malformed(self, payload, reply, message) -> dict:
        """Central named responses it cannot even read (its answer's ``details``: ``{index, field, message}``
        items, see ``sync.schema.Problem``): keep them here as rejected, each with its first message, and
        send the rest. A 400 that names no response stops the uploader (a person must look)."""
        bad, responses = {}, payload["responses"]
        details = _json(reply).get("details")
        for item in details if isinstance(details, list) else []:
            index = item.get("index") if isinstance(item, dict) else None
            if type(index) is int and 0 <= index < len(responses):
                bad.setdefault(responses[index]["seq"], ("rejected", str(item.get("message"))))
        if not bad:
            raise SyncError(f"central refused the batch (HTTP 400): {message}", fatal=True)
        self._check_signed(payload, reply)
        log.warning("kept %d malformed response(s) back: %s", len(bad), message)
        return bad


def _other_install(sent, upcoming) -> bool:
    """True if prepared batch `upcoming` comes from another kiosk store (install) than `sent`: it is sent only
    once every batch before it is answered, so central sees the stores' batches in the order they were made
    (a restored store's first batch after the last of the store it was copied from: otherwise central could
    take the two stores for two tablets sending at once)."""
    return (sent[1].get("install") or {}).get("id") != (upcoming[1].get("install") or {}).get("id")


def _json(reply) -> dict:
    """The reply's JSON object, or {} when it is not one (read once per reply: an answer names 5,000 responses)."""
    if not hasattr(reply, "sipas_json"):
        try:
            body = wire.decode(reply.content)
        except wire.Unreadable:
            body = {}
        reply.sipas_json = body if isinstance(body, dict) else {}
    return reply.sipas_json


def _message(reply) -> str:
    return _json(reply).get("error") or (reply.text or reply.reason or "").strip()[:200]


def _root_cause(error) -> str:
    text = str(error)
    for marker in ("Connection refused", "Name or service not known", "timed out",
                   "Connection reset", "Remote end closed connection", "Connection aborted"):
        if marker in text:
            return marker.lower()
    return text[:120]


def run_once(uploader: Uploader, attempts=3, backoff=Backoff(base=0.5, cap=5), sleep=time.sleep) -> Counter:
    """Deliver everything pending, retrying transient failures a few times; returns the verdicts counted.

    Then, once the upload went through, the configuration exchange: health out, configuration in
    (``sync.configuration``; its failures are logged, never raised). A failed upload skips it: central
    is away or refuses this kiosk, and the one-line reason stays the whole story.
    """
    for attempt in range(1, attempts + 1):
        try:
            verdicts = uploader.send_pending()
            break
        except SyncError as error:
            if error.fatal or attempt == attempts:
                raise
            sleep(backoff.delay(attempt, error.retry_after))
    _exchange_config(uploader)
    return verdicts


def _exchange_config(uploader):
    try:
        return configuration.exchange(uploader)
    except Exception:  # never let the configuration stop the responses
        log.exception("the configuration exchange failed unexpectedly")
        return None


def describe(verdicts: Counter) -> str:
    """One truthful line about central's verdicts, e.g. for ``kiosk-sync --once``'s last line."""
    answered = sum(verdicts[s] for s in STATUSES)
    counts = ", ".join(f"{verdicts[s]} {s}" for s in STATUSES)
    if verdicts["rejected"]:
        return (f"Refused: central rejected {verdicts['rejected']} of {answered} response(s) answered for "
                f"({counts}); the rejected ones are kept, but in no figure: their reasons are in kiosk "
                f"staff mode and /healthz. Nothing is pending.")
    return f"Delivered: {answered} response(s) answered for by central ({counts}); nothing pending."


def run_forever(uploader: Uploader, interval=2.0, backoff=Backoff(), sleep=time.sleep,
                config_every=CONFIG_EVERY, clock=time.monotonic):
    """Send soon after each new response; back off (capped) through every recoverable error.

    Every ``config_every`` seconds at most (and at the start) the round also runs the configuration
    exchange (``sync.configuration``), before its batches. Returns only by raising a fatal
    ``SyncError`` (a setting a person must fix).
    """
    failures, config_due = 0, clock()
    while True:
        if clock() >= config_due:
            config_due = clock() + config_every
            _exchange_config(uploader)
        try:
            verdicts = uploader.send_pending()
            if verdicts:
                (log.warning if verdicts["rejected"] else log.info)("%s", describe(verdicts))
            failures = 0
            sleep(interval)
        except SyncError as error:
            if error.fatal:
                raise
            failures += 1
            wait = backoff.delay(failures, error.retry_after)
            log.warning("%s; retrying in %.0f s", error, wait)
            sleep(wait)
        except Exception as error:  # anything else unforeseen: keep the kiosk's queue moving
            failures += 1
            wait = backoff.delay(failures)
            log.exception("unexpected error (%s); retrying in %.0f s", error, wait)
            sleep(wait)
