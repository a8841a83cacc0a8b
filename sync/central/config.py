"""Central's settings, read from the environment and checked in one place."""

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from kiosk.config import DEFAULT_QUESTIONNAIRE, IntSetting, SettingError, int_setting

from . import cases, workdays

TUNABLES = (
    IntSetting("CENTRAL_MAX_BODY_BYTES", 5_000_000, 1_000, 100_000_000,
               "largest request body accepted, in bytes (413 beyond)"),
    IntSetting("CENTRAL_MAX_BATCH", 1000, 1, 100_000, "most responses accepted in one batch"),
    IntSetting("CENTRAL_REPLAY_SECONDS", 300, 10, 86_400,
               "a signed request whose timestamp is further off than this is refused as a replay"),
    IntSetting("CENTRAL_CASE_DAYS", 5, 1, 60, "working days before an open case is overdue"),
    IntSetting("CENTRAL_CONTACT_DAYS", 90, 1, 3650,
               "days after a case closes, or a response is quarantined, before `central erase-contact "
               "--expired` erases its phone number"),
)

SETTINGS_HELP = """\
Settings (environment variables):

\b
  CENTRAL_DB           path of central's SQLite file (the default store)
  DATABASE_URL         postgresql://user@host:port/db to use PostgreSQL instead
  CENTRAL_QUESTIONNAIRE  the questionnaire whose SIPAS mapping the figures use
                       (default: the packaged one)
  CENTRAL_HTTPS        true when served over HTTPS: Secure cookies and HSTS (default false)
  CENTRAL_TRUSTED_PROXIES  comma-separated addresses or networks of the reverse
                       proxies whose X-Forwarded-For names the client, e.g.
                       127.0.0.1 (default: none, the peer address is the client)
  CENTRAL_WORKDAY_SWAPS  the department's file of decreed day swaps, one
                       'YYYY-MM-DD off|work [note]' a line (default: none;
                       Vietnam's public holidays are always counted)
  CENTRAL_PAKN_DAYS    working days to handle a PAKN per category, e.g.
                       'officers=5,procedures=15' (categories: access,
                       procedures, officers, results, feedback; default 10 each,
                       after NĐ 20/2008/NĐ-CP as amended, unconfirmed)
""" + "\n".join(f"  {s.name:<22} {s.help} (default {s.default})" for s in TUNABLES)


@dataclass(frozen=True)
class CentralConfig:
    database_url: str
    questionnaire_path: Path
    https: bool  # behind HTTPS: Secure session cookies and HSTS
    max_body_bytes: int
    max_batch: int
    replay_seconds: int
    case_days: int
    contact_days: int
    trusted_proxies: tuple = ()  # ip_network objects: peers whose X-Forwarded-For is believed
    workday_swaps: tuple = ()  # ((date, is_working), ...) from CENTRAL_WORKDAY_SWAPS; see sync.central.workdays
    pakn_days: tuple = ()  # ((category, working days), ...) from CENTRAL_PAKN_DAYS; see sync.central.cases


def database_url_from(environ=os.environ) -> str:
    url = environ.get("DATABASE_URL", "").strip()
    if url:
        if not url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
            raise SettingError("DATABASE_URL must start with postgresql://, e.g. "
                               "DATABASE_URL=postgresql://postgres@127.0.0.1:5432/sipas.")
        return url
    path = environ.get("CENTRAL_DB", "").strip()
    if not path:
        raise SettingError("CENTRAL_DB is not set: give the path of central's SQLite file, e.g. "
                           "CENTRAL_DB=/var/lib/sipas/central.db, or set DATABASE_URL for PostgreSQL.")
    return f"sqlite:///{Path(path).resolve()}"


def https_from(environ) -> bool:
    value = environ.get("CENTRAL_HTTPS", "").strip().lower()
    if value not in ("", "true", "false"):
        raise SettingError(f"CENTRAL_HTTPS must be true or false, not {value!r}.")
    return value == "true"


def trusted_proxies_from(environ) -> tuple:
    """CENTRAL_TRUSTED_PROXIES (``"127.0.0.1, 10.0.0.0/8"``) as IP networks; SettingError naming a bad entry."""
    networks = []
    for part in (p.strip() for p in environ.get("CENTRAL_TRUSTED_PROXIES", "").split(",")):
        if part:
            try:
                networks.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise SettingError(f"CENTRAL_TRUSTED_PROXIES must be comma-separated IP addresses or networks "
                                   f"(e.g. 127.0.0.1,10.0.0.0/8), not {part!r}.") from None
    return tuple(networks)


def pakn_days_from(environ) -> tuple:
    """CENTRAL_PAKN_DAYS as ((category, days), ...); SettingError naming the bad entry."""
    try:
        return cases.pakn_days_from(environ.get(cases.PAKN_DAYS_SETTING, ""))
    except ValueError as error:
        raise SettingError(str(error)) from None


def load(environ=os.environ) -> CentralConfig:
    values = {s.name: int_setting(environ, s) for s in TUNABLES}
    questionnaire = environ.get("CENTRAL_QUESTIONNAIRE", "").strip()
    return CentralConfig(
        database_url=database_url_from(environ),
        questionnaire_path=Path(questionnaire) if questionnaire else DEFAULT_QUESTIONNAIRE,
        https=https_from(environ),
        max_body_bytes=values["CENTRAL_MAX_BODY_BYTES"],
        max_batch=values["CENTRAL_MAX_BATCH"],
        replay_seconds=values["CENTRAL_REPLAY_SECONDS"],
        case_days=values["CENTRAL_CASE_DAYS"],
        contact_days=values["CENTRAL_CONTACT_DAYS"],
        trusted_proxies=trusted_proxies_from(environ),
        pakn_days=pakn_days_from(environ),
        workday_swaps=workdays.read_swaps(swaps) if (swaps := environ.get(workdays.SWAPS_SETTING, "").strip()) else (),
    )
