"""The configuration exchange (issue 13): the uploader's health report out, central's configuration in.

On each sync the uploader POSTs ``{"nonce", "health"}`` to ``/api/v1/kiosk-config``, signed
exactly like a batch (``wire.sign`` over the body as sent, with the kiosk's secret). Central
answers 200 with the kiosk's configuration, signed over ``nonce + "." + answer body`` (header
``X-Central-Signature``) and echoing the nonce. The answer is believed only when both hold,
then checked (``kiosk.central_config.check``) and only then stored, whole, as the last good
configuration. Anything else (central down, a 404 from an older central, a bad signature, a
wrong nonce, invalid content) keeps the last good one: it is logged, never raised, so the
configuration can never stop responses from being sent.
"""

import logging
import shutil
import sqlite3
import uuid
from dataclasses import dataclass
from importlib import metadata

import requests

from kiosk import central_config, outbox, store
from kiosk.clock import now_utc, parse_utc, utc_iso

from . import wire

log = logging.getLogger("kiosk-sync")

PATH = "/api/v1/kiosk-config"
#: Bounds of what the health report says (central bounds them too).
ERROR_MAX = 500


@dataclass(frozen=True)
class Outcome:
    """What one exchange did: ``applied`` (a new configuration stored), ``unchanged``, ``absent``
    (an older central without the endpoint) or ``refused`` / ``failed`` with the reason."""

    status: str
    detail: str = ""
    version: str | None = None


def software_version() -> str:
    try:
        return metadata.version("sipas-kiosk")
    except metadata.PackageNotFoundError:  # run from a source tree that is not installed
        return "unknown"


def health_report(db, db_path, now=None) -> dict:
    """The kiosk's health as central's fleet page reads it (the contract's fields; one without a value,
    e.g. ``config_version`` before any configuration, is left out).

    ``pending`` and ``oldest_pending_age_s`` (seconds) count what central has not answered for;
    ``free_disk_bytes`` is of the database's folder; ``last_error`` is the uploader's last failure.
    """
    now = now or now_utc()
    oldest = outbox.oldest_pending_utc(db)
    received = central_config.current_version_and_questionnaire(db)
    sync = outbox.status(db)
    try:
        free = shutil.disk_usage(str(db_path.parent if db_path.parent.exists() else ".")).free
    except OSError:
        free = None
    report = {
        "software_version": software_version(),
        "questionnaire_version": received[1] or store.get_setting(db, "local_questionnaire_version"),
        "config_version": received[0],
        "pending": sync["pending"],
        "oldest_pending_age_s": max(0, int((now - parse_utc(oldest)).total_seconds())) if oldest else None,
        "clock_utc": utc_iso(now),
        "free_disk_bytes": free,
        "last_error": sync["last_error"] and sync["last_error"][:ERROR_MAX],
        "last_error_utc": sync["last_error_utc"],
    }
    return {name: value for name, value in report.items() if value is not None}  # every field is optional


def exchange(uploader, timeout=(3.05, 15)) -> Outcome:
    """Send the health report, fetch the configuration, keep it if central signed it and it is valid.

    ``uploader``: a ``sync.uploader.Uploader`` (its database, kiosk id, secret, central URL and
    HTTP session). Never raises for central's or the network's faults; returns an ``Outcome``.
    """
    url = uploader.central_url + PATH
    nonce = str(uuid.uuid4())
    try:
        with store.connect(uploader.db_path) as db:
            body = wire.encode({"nonce": nonce, "health": health_report(db, uploader.db_path)})
        reply = _post(uploader, url, body, timeout)
    except (requests.RequestException, sqlite3.Error) as error:
        return _kept(uploader, Outcome("failed", f"cannot fetch the configuration from {url} ({error})"))
    if reply.status_code == 404:
        log.debug("central at %s has no configuration endpoint; nothing fetched", url)
        return Outcome("absent")
    if reply.status_code != 200:
        return _kept(uploader, Outcome("failed", f"central answered the configuration request with HTTP "
                                                 f"{reply.status_code}"))
    if not wire.signature_matches(uploader.secret, nonce, reply.content,
                                  reply.headers.get(wire.CENTRAL_SIGNATURE_HEADER)):
        return _kept(uploader, Outcome("refused", f"the configuration from {url} is not signed with this "
                                                  f"kiosk's secret"))
    try:
        answer = wire.decode(reply.content)
    except wire.Unreadable as error:
        return _kept(uploader, Outcome("refused", f"the configuration is not JSON ({error})"))
    if not isinstance(answer, dict) or answer.get("nonce") != nonce:
        return _kept(uploader, Outcome("refused", "the configuration answers another request (wrong nonce)"))
    try:
        checked = central_config.check(answer)
    except central_config.ConfigInvalid as error:
        return _kept(uploader, Outcome("refused", f"the configuration from central is invalid: {error}"))
    try:
        with store.connect(uploader.db_path) as db:
            changed = central_config.save(db, checked, now_utc())
            central_config.record_problem(db, None)
    except sqlite3.Error as error:
        return Outcome("failed", f"cannot store the configuration in the kiosk's database ({error})")
    if checked.ignored:
        log.warning("central's configuration names settings this kiosk does not take from it: %s",
                    ", ".join(checked.ignored))
    if changed:
        log.info("new configuration %s from central stored", checked.version[:12])
    return Outcome("applied" if changed else "unchanged", version=checked.version)


def _post(uploader, url, body, timeout):
    timestamp = str(int(now_utc().timestamp()))
    headers = {"Content-Type": "application/json", wire.KIOSK_HEADER: uploader.kiosk_id,
               wire.TIMESTAMP_HEADER: timestamp, wire.SIGNATURE_HEADER: wire.sign(uploader.secret, timestamp, body)}
    return uploader.session.post(url, data=body, headers=headers, timeout=timeout)


def _kept(uploader, outcome: Outcome) -> Outcome:
    """Log why the last good configuration stays, and note it for staff mode; returns ``outcome``."""
    log.warning("%s; the last good configuration stays in force", outcome.detail)
    try:
        with store.connect(uploader.db_path) as db:
            central_config.record_problem(db, outcome.detail)
    except sqlite3.Error:
        pass
    return outcome
