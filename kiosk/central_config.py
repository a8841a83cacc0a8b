"""The configuration central sends a kiosk (issue 13): checked, stored whole, read back.

The uploader (``sync.uploader``) fetches it on each sync and proves it came from
central (signature, nonce); this module checks its content and keeps it as the
kiosk's *last good configuration*: one row of ``central_config``, replaced in one
transaction only once everything in it is valid. The kiosk app reads it back
(``current``) and uses its questionnaire (from the next survey), its setting
overrides, its unit, counters and officers. Without one, the kiosk works as
before from its own settings and questionnaire file.

The content, as central's answer carries it (see /work/briefs/contract13.md and the README)::

    {"config_version": "<64 hex>", "unit": {"code", "name"},
     "counters": [{"id", "name"}...], "officers": [{"id", "name"}...],
     "questionnaire": {"version", "source": "<TOML>"} | null,
     "settings": {"KIOSK_IDLE_SECONDS": 90, ...}}
"""

import json
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field

from . import settings, store
from .clock import now_utc, utc_iso
from .questionnaire import Questionnaire, QuestionnaireError, parse
from .text import ANY_CONTROL, SURROGATE

#: A roster id (officer or counter): stable forever, made at central.
ROSTER_ID = re.compile(r"^[A-Za-z0-9._-]{1,36}\Z")
VERSION = re.compile(r"^[0-9a-f]{64}\Z")
NAME_MAX, UNIT_CODE_MAX, LIST_MAX, SOURCE_MAX = 80, 64, 2000, 200_000


class ConfigInvalid(ValueError):
    """Central's configuration breaks a rule; the message names the field. Nothing was stored."""


@dataclass(frozen=True)
class Config:
    """A checked configuration. ``counters`` and ``officers`` are tuples of (id, name);
    ``settings`` maps a setting's config field to its value (registry kinds);
    ``ignored`` names settings this kiosk does not take from central (kept out)."""

    version: str
    unit: dict
    counters: tuple
    officers: tuple
    questionnaire: Questionnaire | None
    questionnaire_source: str | None
    settings: dict
    ignored: tuple = field(default=())

    @property
    def has_roster(self) -> bool:
        """True when central sent counters or officers to pick from in staff mode."""
        return bool(self.counters or self.officers)

    def officer_name(self, officer_id):
        return dict(self.officers).get(officer_id)

    def counter_name(self, counter_id):
        return dict(self.counters).get(counter_id)


def _name(value, where: str, longest=NAME_MAX) -> str:
    if not isinstance(value, str):
        raise ConfigInvalid(f"{where} must be text, not {value!r}")
    text = unicodedata.normalize("NFC", value).strip()
    if not 1 <= len(text) <= longest or ANY_CONTROL.search(text) or SURROGATE.search(text):
        raise ConfigInvalid(f"{where} must be 1 to {longest} characters without control characters")
    return text


def _entries(value, where: str) -> tuple:
    """A list of {"id", "name"} objects as ((id, name), ...), ids unique."""
    if not isinstance(value, list) or len(value) > LIST_MAX:
        raise ConfigInvalid(f"{where} must be a list of at most {LIST_MAX} entries")
    entries, seen = [], set()
    for i, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise ConfigInvalid(f"{where}[{i}] must be an object with id and name")
        entry_id = entry.get("id")
        if not isinstance(entry_id, str) or not ROSTER_ID.match(entry_id):
            raise ConfigInvalid(f"{where}[{i}].id must be 1 to 36 letters, digits, '.', '_' or '-', "
                                f"not {entry_id!r}")
        if entry_id in seen:
            raise ConfigInvalid(f"{where}[{i}].id repeats {entry_id!r}")
        seen.add(entry_id)
        entries.append((entry_id, _name(entry.get("name"), f"{where}[{i}].name")))
    return tuple(entries)


def _questionnaire(value):
    """(Questionnaire, its TOML source), or (None, None) for null: keep the kiosk's own file."""
    if value is None:
        return None, None
    if not isinstance(value, dict) or not isinstance(value.get("source"), str) \
            or not isinstance(value.get("version"), str):
        raise ConfigInvalid("questionnaire must be null or an object with version and source texts")
    source = value["source"]
    if len(source) > SOURCE_MAX:
        raise ConfigInvalid(f"questionnaire.source is longer than {SOURCE_MAX} characters")
    try:
        checked = parse(tomllib.loads(source), "central's questionnaire")
    except tomllib.TOMLDecodeError as error:
        raise ConfigInvalid(f"questionnaire.source is not valid TOML ({error})") from None
    except QuestionnaireError as error:
        raise ConfigInvalid(str(error)) from None
    if checked.version != value["version"].strip():
        raise ConfigInvalid(f"questionnaire.version {value['version']!r} is not the file's own "
                            f"version {checked.version!r}")
    return checked, source


def central_settings() -> dict:
    """The kiosk settings central may override: {name: Setting} (registry entries with ``central``)."""
    return {s.name: s for s in settings.centrally_settable() if settings.KIOSK in s.programs and s.field}


def _settings(value) -> tuple:
    """({config field: value}, names ignored): a wrong value for a setting this kiosk takes is refused;
    a name it does not take from central (e.g. a newer central's) is left out."""
    if not isinstance(value, dict):
        raise ConfigInvalid("settings must be an object of setting names and values")
    allowed, found, ignored = central_settings(), {}, []
    for name, raw in value.items():
        setting = allowed.get(name)
        if setting is None:
            ignored.append(str(name)[:64])
            continue
        if isinstance(raw, bool):
            raw = "true" if raw else "false"
        if not isinstance(raw, (str, int)):
            raise ConfigInvalid(f"settings.{name} must be a text or a whole number, not {raw!r}")
        try:
            found[setting.field] = setting.kind.parse(str(raw).strip())
        except settings.Invalid:
            raise ConfigInvalid(f"settings.{name} {setting.kind.rule(setting)}, not {raw!r}") from None
    return found, tuple(ignored)


def check(answer) -> Config:
    """Check central's configuration (a decoded JSON object, see the module doc); the checked ``Config``.

    Raises ``ConfigInvalid`` naming the first wrong field (the questionnaire with
    ``kiosk.questionnaire.parse``'s sentence, ids with ``ROSTER_ID``, settings with the registry's kinds).
    """
    if not isinstance(answer, dict):
        raise ConfigInvalid("the configuration must be a JSON object")
    version = answer.get("config_version")
    if not isinstance(version, str) or not VERSION.match(version):
        raise ConfigInvalid("config_version must be 64 lower-case hex digits")
    unit = answer.get("unit")
    if not isinstance(unit, dict):
        raise ConfigInvalid("unit must be an object with code and name")
    unit = {"code": _name(unit.get("code"), "unit.code", UNIT_CODE_MAX), "name": _name(unit.get("name"), "unit.name",
                                                                                   120)}
    questionnaire, source = _questionnaire(answer.get("questionnaire"))
    found, ignored = _settings(answer.get("settings", {}))
    return Config(version, unit, _entries(answer.get("counters", []), "counters"),
                  _entries(answer.get("officers", []), "officers"), questionnaire, source, found, ignored)


def _content(config: Config) -> dict:
    """What is stored (and read back by ``current``): the answer's fields, as checked."""
    return {"config_version": config.version, "unit": config.unit,
            "counters": [{"id": i, "name": n} for i, n in config.counters],
            "officers": [{"id": i, "name": n} for i, n in config.officers],
            "questionnaire": config.questionnaire and {"version": config.questionnaire.version,
                                                       "source": config.questionnaire_source},
            "settings": {name: _raw(value) for name, value in _by_name(config.settings).items()}}


def _by_name(found: dict) -> dict:
    names = {s.field: s.name for s in central_settings().values()}
    return {names[f]: v for f, v in found.items()}


def _raw(value):
    return ("true" if value else "false") if isinstance(value, bool) else value


def save(db, config: Config, now) -> bool:
    """Keep ``config`` as the last good configuration, in one transaction; True if it changed.

    Also keeps its questionnaire by version (a survey begun on it finishes on it) and the
    display names of the counter and officer on duty as the roster now spells them.
    """
    with store.write(db):
        row = db.execute("SELECT version FROM central_config WHERE id = 1").fetchone()
        if row and row[0] == config.version:
            db.execute("UPDATE central_config SET checked_utc = ? WHERE id = 1", [utc_iso(now)])
            return False
        db.execute("INSERT INTO central_config (id, version, content, received_utc, checked_utc) "
                   "VALUES (1, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET version = excluded.version, "
                   "content = excluded.content, received_utc = excluded.received_utc, "
                   "checked_utc = excluded.checked_utc",
                   [config.version, store.dumps(_content(config)), utc_iso(now), utc_iso(now)])
        if config.questionnaire:
            db.execute("INSERT INTO received_questionnaires (version, source, received_utc) VALUES (?, ?, ?) "
                       "ON CONFLICT(version) DO UPDATE SET source = excluded.source, "
                       "received_utc = excluded.received_utc",
                       [config.questionnaire.version, config.questionnaire_source, utc_iso(now)])
        for kind, names in (("counter", dict(config.counters)), ("officer", dict(config.officers))):
            on_duty = store.get_setting(db, f"{kind}_id")
            if on_duty in names:
                store.set_setting(db, kind, names[on_duty])
    return True


def stored_version(db):
    """The last good configuration's version, or None (a cheap look, for every request)."""
    if not db["central_config"].exists():
        return None
    row = db.execute("SELECT version FROM central_config WHERE id = 1").fetchone()
    return row[0] if row else None


def current(db):
    """The last good configuration as a ``Config``, or None when central never sent one."""
    if not db["central_config"].exists():
        return None
    row = db.execute("SELECT content FROM central_config WHERE id = 1").fetchone()
    return check(json.loads(row[0])) if row else None


def current_version_and_questionnaire(db) -> tuple:
    """(the last good configuration's version, its questionnaire's version), each None when absent."""
    if not db["central_config"].exists():
        return None, None
    row = db.execute("SELECT version, content FROM central_config WHERE id = 1").fetchone()
    if not row:
        return None, None
    sent = json.loads(row[1]).get("questionnaire")
    return row[0], sent and sent.get("version")


def record_problem(db, problem) -> None:
    """Note why the last fetch was not kept (a sentence), or that it was (None): for staff mode."""
    with store.write(db):
        if problem is None:
            db.execute("DELETE FROM settings WHERE key IN ('config_problem', 'config_problem_utc')")
        else:
            store.set_setting(db, "config_problem", problem[:500])
            store.set_setting(db, "config_problem_utc", utc_iso(now_utc()))


def received_questionnaire(db, version: str):
    """A questionnaire central once sent, by version (a survey begun on it), or None."""
    row = db.execute("SELECT source FROM received_questionnaires WHERE version = ?", [version]).fetchone()
    return parse(tomllib.loads(row[0]), "central's questionnaire") if row else None
