"""Central's settings, read from the environment and checked in one place."""

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from kiosk.config import DEFAULT_QUESTIONNAIRE, IntSetting, SettingError, int_setting

from . import workdays

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
    IntSetting("CENTRAL_TARGET_PCT", 90, 1, 100,
               "a unit's target share satisfied overall, in percent, unless `central set-target` gave it another"),
    IntSetting("CENTRAL_MIN_RESPONSES", 10, 1, 10_000,
               "an officer or counter with fewer responses on the day is marked 'too few responses'"),
    IntSetting("CENTRAL_ALERT_PCT", 50, 1, 100,
               "alert a unit's supervisors when at least this share of recent overall ratings is 1 or 2"),
    IntSetting("CENTRAL_ALERT_MINUTES", 15, 1, 1440, "the recent window of the low-ratings alert, in minutes"),
    IntSetting("CENTRAL_ALERT_MIN_RATINGS", 4, 1, 10_000,
               "the low-ratings alert needs at least this many overall ratings in the window"),
    IntSetting("CENTRAL_SMTP_PORT", 587, 1, 65535, "the SMTP server's port for alert emails"),
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
  CENTRAL_SMTP_HOST    the SMTP server alert emails go through (default: none,
                       no email is sent; alerts still show on the summary)
  CENTRAL_SMTP_FROM    the alert emails' sender address
  CENTRAL_SMTP_USER, CENTRAL_SMTP_PASSWORD  the SMTP login, if it needs one
  CENTRAL_SMTP_TLS     starttls, ssl or none (default starttls)
""" + "\n".join(f"  {s.name:<22} {s.help} (default {s.default})" for s in TUNABLES)


@dataclass(frozen=True)
class SmtpConfig:
    """Where alert emails go; ``host`` None means no email is sent."""
    host: str | None = None
    port: int = 587
    sender: str = ""
    user: str | None = None
    password: str | None = None
    tls: str = "starttls"  # starttls, ssl or none


@dataclass(frozen=True)
class AlertRule:
    """The low-ratings alert (see sync.central.alerts): `pct`% of at least `min_ratings` overall
    ratings in the last `minutes` are 1 or 2."""
    pct: int = 50
    minutes: int = 15
    min_ratings: int = 4


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
    target_pct: int = 90  # a unit's default target, percent satisfied overall
    min_responses: int = 10  # fewer on a day: "too few responses"
    alert_rule: AlertRule = AlertRule()
    smtp: SmtpConfig = SmtpConfig()


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


def smtp_from(environ, port: int) -> SmtpConfig:
    """CENTRAL_SMTP_*; SettingError for a bad TLS mode or a host without a sender."""
    host = environ.get("CENTRAL_SMTP_HOST", "").strip() or None
    tls = environ.get("CENTRAL_SMTP_TLS", "").strip().lower() or "starttls"
    if tls not in ("starttls", "ssl", "none"):
        raise SettingError(f"CENTRAL_SMTP_TLS must be starttls, ssl or none, not {tls!r}.")
    sender = environ.get("CENTRAL_SMTP_FROM", "").strip()
    if host and "@" not in sender:
        raise SettingError("CENTRAL_SMTP_FROM must be the alert emails' sender address when CENTRAL_SMTP_HOST "
                           "is set, e.g. CENTRAL_SMTP_FROM=sipas@example.gov.vn.")
    return SmtpConfig(host=host, port=port, sender=sender, tls=tls,
                      user=environ.get("CENTRAL_SMTP_USER", "").strip() or None,
                      password=environ.get("CENTRAL_SMTP_PASSWORD") or None)


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
        workday_swaps=workdays.read_swaps(swaps) if (swaps := environ.get(workdays.SWAPS_SETTING, "").strip()) else (),
        target_pct=values["CENTRAL_TARGET_PCT"],
        min_responses=values["CENTRAL_MIN_RESPONSES"],
        alert_rule=AlertRule(values["CENTRAL_ALERT_PCT"], values["CENTRAL_ALERT_MINUTES"],
                             values["CENTRAL_ALERT_MIN_RATINGS"]),
        smtp=smtp_from(environ, values["CENTRAL_SMTP_PORT"]),
    )
