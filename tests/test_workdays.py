"""Working days from a maintained calendar: Vietnam's public holidays plus the department's decreed swaps."""

import re
from datetime import date, datetime, timezone

import pytest

from conftest import sqlite_only
from kiosk.config import SettingError
from sync.central import cases
from sync.central.config import load
from sync.central.workdays import WorkCalendar, read_swaps


def at_noon(day):
    return datetime(day.year, day.month, day.day, 5, tzinfo=timezone.utc)  # 12:00 in Hanoi


def test_a_case_opened_before_tet_is_not_overdue_during_it():
    case = {"status": "new", "opened_utc": "2026-02-12T02:00:00.000Z"}  # Thursday before Tết Bính Ngọ
    for day in (date(2026, 2, 16), date(2026, 2, 18), date(2026, 2, 20), date(2026, 2, 22), date(2026, 2, 26)):
        assert not cases.is_overdue(case, at_noon(day), 5), day  # Feb 16-20 are Tết: only Feb 13 counts
    assert cases.is_overdue(case, at_noon(date(2026, 2, 27)), 5)  # Feb 13, 23, 24, 25, 26, 27
    calendar = WorkCalendar()
    assert calendar.working_days_between(date(2026, 2, 12), date(2026, 2, 23)) == 2
    assert [calendar.is_working_day(date(2026, 2, d)) for d in range(16, 21)] == [False] * 5


def test_other_public_holidays_are_not_working_days():
    calendar = WorkCalendar()
    for day in (date(2026, 1, 1), date(2026, 4, 27), date(2026, 4, 30), date(2026, 5, 1), date(2026, 9, 1),
                date(2026, 9, 2), date(2027, 2, 8)):
        assert not calendar.is_working_day(day), day
    assert calendar.is_working_day(date(2026, 3, 2)) and not calendar.is_working_day(date(2026, 3, 7))


def test_the_departments_swaps_come_on_top(tmp_path):
    swaps = tmp_path / "swaps.txt"
    swaps.write_text("# Thông báo của UBND tỉnh\n\n2026-08-22 work  Làm bù cho 31/8\n"
                     "2026-02-13 OFF nghỉ thêm dịp Tết # ghi chú\n", encoding="utf-8")
    calendar = WorkCalendar(read_swaps(swaps))
    assert calendar.is_working_day(date(2026, 8, 22))  # a Saturday worked
    assert not calendar.is_working_day(date(2026, 2, 13))  # a Friday off
    case = {"status": "assigned", "opened_utc": "2026-02-12T02:00:00.000Z"}
    assert not cases.is_overdue(case, at_noon(date(2026, 2, 27)), 5, calendar)  # Feb 13 is off now
    config = load({"CENTRAL_DB": str(tmp_path / "c.db"), "CENTRAL_WORKDAY_SWAPS": str(swaps)})
    assert config.workday_swaps == ((date(2026, 2, 13), False), (date(2026, 8, 22), True))


@pytest.mark.parametrize("text, problem", [
    ("2026-02-30 off\n", "line 1: write a day swap as"), ("hôm nay off\n", "line 1"),
    ("# ok\n2026-02-13 nghỉ\n", "line 2"), ("2026-02-13\n", "line 1"), ("20260213 off\n", "line 1"),
    ("2026-02-13 off\n2026-02-13 work\n", "line 2: 2026-02-13 is named twice"),
])
def test_a_broken_swap_file_is_refused_naming_the_line(tmp_path, text, problem):
    swaps = tmp_path / "swaps.txt"
    swaps.write_text(text, encoding="utf-8")
    with pytest.raises(SettingError, match=problem):
        load({"CENTRAL_DB": str(tmp_path / "c.db"), "CENTRAL_WORKDAY_SWAPS": str(swaps)})


def test_a_missing_swap_file_names_the_setting(tmp_path):
    with pytest.raises(SettingError, match="CENTRAL_WORKDAY_SWAPS names .*missing.txt, which cannot be read"):
        load({"CENTRAL_DB": str(tmp_path / "c.db"), "CENTRAL_WORKDAY_SWAPS": str(tmp_path / "missing.txt")})


@sqlite_only
def test_the_case_list_counts_working_days_from_the_calendar(with_complaint, central_engine, monkeypatch):
    from sync.central.store import database, schema
    from sync.central.web import cases as case_pages
    from helpers import log_in
    with database.write(central_engine) as conn:
        conn.execute(schema.cases.update().values(  # the citizens rated on 12/2; central heard later
            local_day="2026-02-12", started_utc="2026-02-12T02:00:00.000Z", opened_utc="2026-02-19T02:00:00.000Z"))
    log_in(with_complaint, "admin")
    monkeypatch.setattr(case_pages, "now_utc", lambda: at_noon(date(2026, 2, 20)))  # the Friday of Tết
    assert 'class="late-mark"' not in with_complaint.get("/cases").get_data(as_text=True)
    monkeypatch.setattr(case_pages, "now_utc", lambda: at_noon(date(2026, 2, 27)))
    page = with_complaint.get("/cases").get_data(as_text=True)
    assert page.count('class="late-mark"') == 2 and "2 phản ánh, trong đó 2 quá hạn." in page
    assert page.count('class="late-mark"') == len(re.findall(r'href="/cases/\d+"', page))
