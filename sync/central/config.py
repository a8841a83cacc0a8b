"""Central's settings, read from the environment and checked in one place.

Every setting is an entry of the registry in ``kiosk.settings`` (name, kind, default, help, programs); a
missing or wrong one raises ``SettingError`` with one sentence that names the variable.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from kiosk import settings
from kiosk.settings import SettingError as SettingError  # re-exported

from . import workdays

#: The "Settings" part of `central --help`.
SETTINGS_HELP = settings.help_text(settings.CENTRAL)


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
    """Central's settings; each field but `database_url` and `workday_swaps` is filled by the registry entry
    naming it (``kiosk.settings``)."""

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
    target_pct: int = 90  # a unit's default target, percent satisfied overall
    min_responses: int = 10  # fewer on a day: "too few responses"
    alert_rule: AlertRule = AlertRule()
    smtp: SmtpConfig = SmtpConfig()


def database_url_from(environ=os.environ) -> str:
    """DATABASE_URL when set, else ``sqlite:///`` and CENTRAL_DB's absolute path; ``SettingError`` when
    neither is set or DATABASE_URL is not a postgresql:// URL."""
    url = settings.get("DATABASE_URL").read(environ)
    if url:
        return url
    return f"sqlite:///{settings.get('CENTRAL_DB').read(environ, required=True).resolve()}"


def smtp_from(environ) -> SmtpConfig:
    """CENTRAL_SMTP_* as one SmtpConfig; SettingError for a wrong value, or a host without a sender."""
    def read(name):
        return settings.get(f"CENTRAL_SMTP_{name}").read(environ)
    host, sender = read("HOST"), read("FROM")
    if host and not sender:
        raise SettingError("CENTRAL_SMTP_FROM must be the alert emails' sender address when CENTRAL_SMTP_HOST "
                           "is set, e.g. CENTRAL_SMTP_FROM=sipas@example.gov.vn.")
    return SmtpConfig(host=host, port=read("PORT"), sender=sender or "", user=read("USER"),
                      password=read("PASSWORD"), tls=read("TLS"))


def load(environ=os.environ) -> CentralConfig:
    """Read and check every central setting; ``SettingError`` naming the first missing or wrong one (a wrong
    line of the CENTRAL_WORKDAY_SWAPS file is named with its file and line)."""
    swaps = settings.get(workdays.SWAPS_SETTING).read(environ)
    alert = [settings.get(name).read(environ) for name in ("CENTRAL_ALERT_PCT", "CENTRAL_ALERT_MINUTES",
                                                           "CENTRAL_ALERT_MIN_RATINGS")]
    return CentralConfig(database_url=database_url_from(environ),
                         workday_swaps=workdays.read_swaps(swaps) if swaps else (),
                         alert_rule=AlertRule(*alert), smtp=smtp_from(environ),
                         **settings.values(settings.CENTRAL, environ))
