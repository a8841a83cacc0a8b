"""The configuration exchange, central's side (issue 13; contract in the README's "Kiosk configuration").

A kiosk's uploader posts ``{"nonce": "<uuid4>", "health": {...}}`` to ``/api/v1/kiosk-config``, signed like
a batch; central keeps the health report (``sync.central.store.fleet``) and answers the kiosk's
configuration, signed over the nonce::

    {"nonce", "config_version", "unit": {"code", "name"}, "counters": [{"id", "name"}...],
     "officers": [{"id", "name"}...], "questionnaire": {"version", "source"} | null, "settings": {NAME: value}}

``config_version`` is the hex SHA-256 of the canonical JSON (``wire.canonical_json``) of the fields after it,
so a kiosk (and the fleet page) can tell two configurations apart by it alone.
"""

import hashlib
from datetime import datetime, timezone

from kiosk import settings as registry
from kiosk.clock import utc_iso

from sync import wire

from .store import fleet, roster

#: Bounds of a health report's text fields (characters); a longer one is refused, naming the field.
TEXT_BOUNDS = {"software_version": 40, "questionnaire_version": 64, "config_version": 64, "last_error": 500,
               "clock_utc": 32, "last_error_utc": 32, "install_id": 36}
#: Whole-number fields: 0 .. the bound (free disk in bytes, ages in seconds).
WHOLE_BOUNDS = {"pending": 2**31 - 1, "oldest_pending_age_s": 2**31 - 1, "free_disk_bytes": 2**62}
#: Largest clock offset stored (seconds, either way): ten years; a clock further off is stored as this.
OFFSET_BOUND = 10 * 366 * 86400


class RequestInvalid(ValueError):
    """A configuration request central cannot read; ``errors`` are sentences naming each field."""

    def __init__(self, errors: list):
        super().__init__("; ".join(errors))
        self.errors = errors


def read_request(payload, received: datetime) -> tuple:
    """``(nonce, health row)`` of a decoded request body; the health row holds ``fleet.HEALTH_FIELDS``
    present in the report, and ``clock_offset_s`` (kiosk clock − ``received``, whole seconds) when the
    report has ``clock_utc``. Unknown fields are ignored; every health field is optional.

    Raises ``RequestInvalid`` naming every wrong field (nothing is stored then).
    """
    if not isinstance(payload, dict):
        raise RequestInvalid(["The body must be a JSON object {\"nonce\", \"health\"}."])
    errors = []
    nonce = payload.get("nonce")
    if not wire.is_uuid(nonce):
        errors.append("nonce must be a UUID in lower-case canonical form (e.g. from uuid.uuid4()).")
    health = payload.get("health")
    if health is None:
        health = {}
    elif not isinstance(health, dict):
        errors.append("health must be an object (or absent).")
        health = {}
    row = _health_row(health, errors)
    if errors:
        raise RequestInvalid(errors)
    if row.get("clock_utc"):
        offset = round((datetime.fromisoformat(row["clock_utc"]) - received).total_seconds())
        row["clock_offset_s"] = max(-OFFSET_BOUND, min(OFFSET_BOUND, offset))
    return nonce, row


def _health_row(health: dict, errors: list) -> dict:
    row = {}
    for field, longest in TEXT_BOUNDS.items():
        value = health.get(field)
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > longest:
            errors.append(f"health.{field} must be text of at most {longest} characters (or null).")
        elif field in ("clock_utc", "last_error_utc"):
            moment = _utc(value)
            if moment is None:
                errors.append(f"health.{field} must be a UTC time like 2026-01-31T08:15:00.000Z, not {value!r}.")
            else:
                row[field] = utc_iso(moment)
        else:
            row[field] = value
    for field, highest in WHOLE_BOUNDS.items():
        value = health.get(field)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= highest:
            errors.append(f"health.{field} must be a whole number from 0 to {highest} (or null).")
        else:
            row[field] = value
    return row


def _utc(text: str):
    """The moment an ISO 8601 time with its zone names (``Z`` or ``+07:00``), or None."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None or not 2000 <= moment.astimezone(timezone.utc).year <= 2200:
        return None
    return moment


def configuration(engine, kiosk: dict) -> dict:
    """The configuration of ``kiosk`` (its row from ``accounts.get_kiosk``), without the nonce: ``{unit,
    counters, officers, questionnaire, settings, config_version}`` (see the module doc)."""
    unit = kiosk["unit"]
    people, unit_name = _roster(engine, unit)
    with engine.connect() as conn:
        published = fleet.newest_questionnaire(conn, unit)
        overrides = fleet.overrides_for(conn, unit)
    body = {
        "unit": {"code": unit, "name": unit_name},
        "counters": [{"id": c["id"], "name": c["name"]} for c in people["counters"]],
        "officers": [{"id": o["id"], "name": o["name"]} for o in people["officers"]],
        "questionnaire": {"version": published["version"], "source": published["source"]} if published else None,
        "settings": setting_values(overrides),
    }
    return {"config_version": config_version(body), **body}


def _roster(engine, unit):
    """(the unit's active counters and officers, the unit's name: the roster's, else its code)."""
    with engine.connect() as conn:
        row = roster.get_unit(conn, unit)
    return roster.kiosk_roster(engine, unit), row["name"] if row is not None else unit


def config_version(body: dict) -> str:
    """Hex SHA-256 of the canonical JSON of a configuration's fields (without nonce and config_version)."""
    return hashlib.sha256(wire.canonical_json(body).encode("utf-8")).hexdigest()


def setting_values(overrides: dict) -> dict:
    """``{name: value}`` as the kiosk applies them: each override (text) read by its setting's kind (a whole
    number as an int, a flag as a bool), in registry order; a name no longer centrally settable, or a value
    its kind now refuses, is left out (the kiosk keeps its own)."""
    values = {}
    for setting in registry.centrally_settable():
        if setting.name in overrides:
            try:
                values[setting.name] = setting.kind.parse(overrides[setting.name])
            except registry.Invalid:
                continue
    return values


def check_override(name: str, value: str) -> str:
    """The value (text, trimmed) central may send for kiosk setting ``name``.

    Raises ``registry.SettingError`` with one sentence: the name is not a centrally settable setting
    (naming those that are), or the value is not what the setting's kind takes (the registry's sentence).
    """
    settable = {s.name: s for s in registry.centrally_settable()}
    if name not in settable:
        raise registry.SettingError(f"{name} is not a kiosk setting central may set; these are: "
                                    f"{', '.join(settable)}.")
    setting, value = settable[name], value.strip()
    try:
        setting.kind.parse(value)
    except registry.Invalid as bad:
        raise registry.SettingError(setting.invalid(bad.shown)) from None
    return value
