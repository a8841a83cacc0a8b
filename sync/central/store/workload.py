"""What is still to do: open, overdue and due-today case counts for the summary's "Cần xử lý"."""

from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from kiosk.clock import LOCAL_TZ, utc_iso
from kiosk.text import nfc

from .schema import cases


def last_day_with(today, working_days: int, calendar):
    """The latest day D with at least `working_days` working days after D up to and including `today`
    (``WorkCalendar.working_days_between(D, today) >= working_days``)."""
    day, counted = today, 0
    while counted < working_days:
        counted += calendar.is_working_day(day)
        day -= timedelta(days=1)
    return day


def _opened_before(day) -> str:
    """UTC text of the local midnight after `day`: a case opened before it was opened on `day` or earlier."""
    return utc_iso(datetime.combine(day + timedelta(days=1), time(0), LOCAL_TZ))


def workload(engine, today, limit_days: int, calendar, unit=None, officer=None) -> dict:
    """{"open", "overdue", "due_today"}: cases not closed; of those, the ones past `limit_days` working days
    (``sync.central.cases.is_overdue``); and the ones whose last working day is `today` (local date).

    Counted in the store, by the day the overdue clock of each case started (Asia/Ho_Chi_Minh): when the
    citizen spoke (``cases.started_utc``), or for a case without it, when central opened it (``opened_utc``).
    """
    overdue_to = _opened_before(last_day_with(today, limit_days + 1, calendar))
    due_to = _opened_before(last_day_with(today, limit_days, calendar))
    started = func.coalesce(cases.c.started_utc, cases.c.opened_utc)
    query = select(func.count(), func.sum(func.cast(started < overdue_to, cases.c.id.type)),
                   func.sum(func.cast((started >= overdue_to) & (started < due_to), cases.c.id.type))
                   ).where(cases.c.status != "closed")
    for column, value in ((cases.c.unit, nfc(unit)), (cases.c.officer, nfc(officer))):
        if value:
            query = query.where(column == value)
    with engine.connect() as conn:
        total, overdue, due = conn.execute(query).one()
    return {"open": total or 0, "overdue": overdue or 0, "due_today": due or 0}
