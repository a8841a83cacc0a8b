"""The kiosk's settings, read from the environment and checked in one place.

Every missing or wrong setting raises ``SettingError`` with one sentence that
names the variable, so the CLI can stop with exactly that sentence.
"""

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .clients import ClientsError
from .clients import parse as parse_clients
from .paths import PACKAGE_DIR

KIOSK_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
DEFAULT_QUESTIONNAIRE = PACKAGE_DIR / "questionnaire.toml"


class SettingError(Exception):
    """A setting is missing or wrong; the message names the variable."""


@dataclass(frozen=True)
class IntSetting:
    name: str
    default: int
    low: int
    high: int
    help: str


#: Tunables with defaults; each can be changed by an environment variable.
TUNABLES = (
    IntSetting("KIOSK_IDLE_SECONDS", 30, 3, 3600,
               "seconds without a tap before the survey returns to the welcome screen"),
    IntSetting("KIOSK_SETTLE_MS", 800, 0, 5000,
               "milliseconds a new screen ignores taps, so a double tap never answers a screen unseen"),
    IntSetting("KIOSK_MIN_SECONDS", 2, 0, 120,
               "a complete response faster than this is flagged too_fast"),
    IntSetting("KIOSK_BURST_LIMIT", 5, 1, 1000,
               "more identical responses than this within KIOSK_BURST_WINDOW are flagged burst"),
    IntSetting("KIOSK_BURST_WINDOW", 120, 1, 86400,
               "the burst window, in seconds"),
    IntSetting("KIOSK_CONTACT_DAYS", 90, 1, 3650,
               "days after which a phone number is erased on the kiosk (`kiosk run` checks hourly)"),
)

SETTINGS_HELP = """\
Settings (environment variables):

\b
  KIOSK_DB             path of the kiosk's SQLite file (required)
  KIOSK_ID             this kiosk's id, e.g. mc-quay-01 (required)
  KIOSK_QUESTIONNAIRE  questionnaire TOML file (default: the packaged one)
  KIOSK_ALLOWED_CLIENTS  comma-separated addresses or networks whose browsers may use
                       the survey and staff mode (default 127.0.0.1,::1: this machine only)
""" + "\n".join(
    f"  {s.name:<20} {s.help} (default {s.default})" for s in TUNABLES
)


@dataclass(frozen=True)
class KioskConfig:
    db_path: Path
    kiosk_id: str
    questionnaire_path: Path
    idle_seconds: int
    min_seconds: int
    burst_limit: int
    burst_window: int
    contact_days: int = 90
    settle_ms: int = 800
    allowed_clients: tuple = parse_clients("")  # ip_network objects; see kiosk.clients


def _required(environ, name, example):
    value = environ.get(name, "").strip()
    if not value:
        raise SettingError(f"{name} is not set: {example}.")
    return value


def int_setting(environ, setting: IntSetting) -> int:
    raw = environ.get(setting.name, "").strip()
    if not raw:
        return setting.default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not setting.low <= value <= setting.high:
        raise SettingError(
            f"{setting.name} must be a whole number from {setting.low} to "
            f"{setting.high} ({setting.help}), not {raw!r}."
        )
    return value


def db_path_from(environ=os.environ) -> Path:
    return Path(_required(
        environ, "KIOSK_DB",
        "give the path of the kiosk's SQLite file, e.g. KIOSK_DB=/var/lib/kiosk/kiosk.db",
    ))


def kiosk_id_from(environ=os.environ) -> str:
    kiosk_id = _required(environ, "KIOSK_ID", "give this kiosk's id, e.g. KIOSK_ID=mc-quay-01")
    if not KIOSK_ID_PATTERN.match(kiosk_id):
        raise SettingError(
            f"KIOSK_ID must be 1 to 64 letters, digits, '.', '_' or '-', "
            f"starting with a letter or digit, not {kiosk_id!r}."
        )
    return kiosk_id


def allowed_clients_from(environ=os.environ) -> tuple:
    """KIOSK_ALLOWED_CLIENTS as IP networks (default: this machine only); SettingError naming a bad entry."""
    try:
        return parse_clients(environ.get("KIOSK_ALLOWED_CLIENTS", ""))
    except ClientsError as error:
        raise SettingError(str(error)) from None


def load(environ=os.environ) -> KioskConfig:
    """Read and check every kiosk setting."""
    questionnaire = environ.get("KIOSK_QUESTIONNAIRE", "").strip()
    values = {s.name: int_setting(environ, s) for s in TUNABLES}
    return KioskConfig(
        db_path=db_path_from(environ),
        kiosk_id=kiosk_id_from(environ),
        questionnaire_path=Path(questionnaire) if questionnaire else DEFAULT_QUESTIONNAIRE,
        idle_seconds=values["KIOSK_IDLE_SECONDS"],
        min_seconds=values["KIOSK_MIN_SECONDS"],
        burst_limit=values["KIOSK_BURST_LIMIT"],
        burst_window=values["KIOSK_BURST_WINDOW"],
        contact_days=values["KIOSK_CONTACT_DAYS"],
        settle_ms=values["KIOSK_SETTLE_MS"],
        allowed_clients=allowed_clients_from(environ),
    )
