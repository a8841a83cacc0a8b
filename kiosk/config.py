"""The kiosk's settings, read from the environment and checked in one place.

Every setting is an entry of the registry in ``kiosk.settings`` (name, kind, default, help, programs); a
missing or wrong one raises ``SettingError`` with one sentence that names the variable, so the CLI can stop
with exactly that sentence.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from . import settings
from .settings import DEFAULT_QUESTIONNAIRE as DEFAULT_QUESTIONNAIRE  # re-exported: kiosk.config's names stay
from .settings import KIOSK_ID_PATTERN as KIOSK_ID_PATTERN
from .settings import SettingError as SettingError

#: The "Settings" part of `kiosk --help`.
SETTINGS_HELP = settings.help_text(settings.KIOSK)


@dataclass(frozen=True)
class KioskConfig:
    """The kiosk's settings; each field is filled by the registry entry naming it (``kiosk.settings``)."""

    db_path: Path
    kiosk_id: str
    questionnaire_path: Path
    idle_seconds: int
    min_seconds: int
    burst_limit: int
    burst_window: int
    contact_days: int = 90
    settle_ms: int = 800
    allowed_clients: tuple = settings.get("KIOSK_ALLOWED_CLIENTS").default  # ip_network objects; kiosk.clients


def db_path_from(environ=os.environ) -> Path:
    """KIOSK_DB as a Path; ``SettingError`` when it is not set."""
    return settings.get("KIOSK_DB").read(environ)


def kiosk_id_from(environ=os.environ) -> str:
    """KIOSK_ID; ``SettingError`` when it is not set or not 1 to 64 letters, digits, '.', '_' or '-'."""
    return settings.get("KIOSK_ID").read(environ)


def allowed_clients_from(environ=os.environ) -> tuple:
    """KIOSK_ALLOWED_CLIENTS as IP networks (default: this machine only); SettingError naming a bad entry."""
    return settings.get("KIOSK_ALLOWED_CLIENTS").read(environ)


def load(environ=os.environ) -> KioskConfig:
    """Read and check every kiosk setting; ``SettingError`` naming the first missing or wrong one."""
    return KioskConfig(**settings.values(settings.KIOSK, environ))
