"""Working days at the department: Monday to Friday, less Vietnam's public holidays, with the department's
decreed day swaps on top.

The public holidays (Tết, Hùng Kings, 30/4, 1/5, National Day, their observed days) come from the
``holidays`` package's Vietnam calendar, which is maintained upstream; keep the package current. Each
year the government and the province also decree swaps (an extra day off around Tết, a Saturday worked
to make up for it). Those go in the department's own file, named by the setting ``CENTRAL_WORKDAY_SWAPS``,
one day a line::

    # Decreed day swaps (comments start with #)
    2026-01-02 off   Nghỉ bù Tết Dương lịch
    2026-08-22 work  Làm bù cho ngày 31/8

``off`` makes a day a day off, ``work`` makes a day (usually a Saturday) a working day.
"""

from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import holidays

from kiosk.config import SettingError

SWAPS_SETTING = "CENTRAL_WORKDAY_SWAPS"
_WORDS = {"off": False, "work": True}


def read_swaps(path) -> tuple:
    """The swaps in the department's file as ((day, is_working), ...), sorted by day.

    Raises ``SettingError`` naming the file and line when the file is missing or a line is not
    ``YYYY-MM-DD off|work [note]``, or names one day twice.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise SettingError(f"{SWAPS_SETTING} names {path}, which cannot be read ({error}).") from None
    swaps = {}
    for number, line in enumerate(lines, 1):
        words = line.split("#", 1)[0].split(maxsplit=2)
        if not words:
            continue
        try:
            day = date.fromisoformat(words[0]) if len(words[0]) == 10 else None
        except ValueError:
            day = None
        if day is None or len(words) < 2 or words[1].lower() not in _WORDS:
            raise SettingError(f"{path}, line {number}: write a day swap as 'YYYY-MM-DD off' or "
                               f"'YYYY-MM-DD work' (a note may follow), not {line.strip()!r}.")
        if day in swaps:
            raise SettingError(f"{path}, line {number}: {day} is named twice.")
        swaps[day] = _WORDS[words[1].lower()]
    return tuple(sorted(swaps.items()))


class WorkCalendar:
    """Which days are working days: Mon-Fri, less Vietnam's public holidays, with `swaps` on top."""

    def __init__(self, swaps=()):
        self.swaps = dict(swaps)
        self.public = holidays.country_holidays("VN")  # fills in each year when first asked
        self.is_working_day = lru_cache(maxsize=4096)(self._is_working_day)

    def _is_working_day(self, day: date) -> bool:
        if day in self.swaps:
            return self.swaps[day]
        return day.weekday() < 5 and day not in self.public

    def working_days_between(self, start: date, end: date, stop_after=None) -> int:
        """Working days after `start` up to and including `end` (0 if `end` is not after `start`).

        With `stop_after`, counting stops once the count exceeds it (enough to tell "more than").
        """
        days, day = 0, start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                days += 1
                if stop_after is not None and days > stop_after:
                    break
        return days
