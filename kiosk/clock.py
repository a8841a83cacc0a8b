"""Time as the product keeps it: stored in UTC, days counted in Asia/Ho_Chi_Minh."""

import os
import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


#: For tests only: a file holding seconds (e.g. -172800) added to the machine's clock,
#: read again at every call, so a running kiosk or uploader can be set wrong and fixed.
TEST_OFFSET_VARIABLE = "KIOSK_TEST_CLOCK_OFFSET_FILE"


def now_utc() -> datetime:
    """The kiosk's clock, in UTC (shifted by the test hook ``KIOSK_TEST_CLOCK_OFFSET_FILE`` if set)."""
    moment = datetime.now(timezone.utc)
    offset_file = os.environ.get(TEST_OFFSET_VARIABLE)
    if offset_file:
        try:
            with open(offset_file) as text:
                moment += timedelta(seconds=float(text.read().strip() or 0))
        except (OSError, ValueError):
            pass
    return moment


def utc_iso(moment: datetime) -> str:
    """UTC with milliseconds and a Z, so text order is time order."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


UTC_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def parse_utc(text: str) -> datetime:
    """The inverse of ``utc_iso``; anything else raises ValueError."""
    if not isinstance(text, str) or not UTC_TEXT.match(text):
        raise ValueError(f"not a UTC time like 2026-01-31T08:15:00.000Z: {text!r}")
    return datetime.fromisoformat(text[:-1] + "+00:00")


def local_offset_minutes() -> int:
    """The kiosk machine's own UTC offset, recorded beside each response."""
    offset = datetime.now().astimezone().utcoffset() or timedelta(0)
    return int(offset.total_seconds() // 60)


def local_today(now: datetime) -> date:
    return now.astimezone(LOCAL_TZ).date()


def day_bounds_utc(day: date):
    """The UTC interval [start, end) of a calendar day in Asia/Ho_Chi_Minh, as stored text."""
    start = datetime.combine(day, time(0), LOCAL_TZ)
    return utc_iso(start), utc_iso(start + timedelta(days=1))


def local_time(utc_text) -> str:
    """'2026-01-31T01:15:00.000Z' shown as '08:15 31/01/2026' (Asia/Ho_Chi_Minh); '' for none."""
    if not utc_text:
        return ""
    return parse_utc(utc_text).astimezone(LOCAL_TZ).strftime("%H:%M %d/%m/%Y")
