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


def database_url_from(environ=os.environ) -> str:
    """DATABASE_URL when set, else ``sqlite:///`` and CENTRAL_DB's absolute path; ``SettingError`` when
    neither is set or DATABASE_URL is not a postgresql:// URL."""
    url = settings.get("DATABASE_URL").read(environ)
    if url:
        return url
    return f"sqlite:///{settings.get('CENTRAL_DB').read(environ, required=True).resolve()}"


def load(environ=os.environ) -> CentralConfig:
    """Read and check every central setting; ``SettingError`` naming the first missing or wrong one (a wrong
    line of the CENTRAL_WORKDAY_SWAPS file is named with its file and line)."""
    swaps = settings.get(workdays.SWAPS_SETTING).read(environ)
    return CentralConfig(database_url=database_url_from(environ),
                         workday_swaps=workdays.read_swaps(swaps) if swaps else (),
                         **settings.values(settings.CENTRAL, environ))
