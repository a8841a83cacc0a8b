"""What is still to do: open, overdue and due-today case counts for the summary's "Cần xử lý"."""

from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from kiosk.clock import LOCAL_TZ, utc_iso
from kiosk.text import nfc

from .schema import cases

#: The statuses of a case not yet closed (``sync.central.cases.STATUSES``).
OPEN = ("new", "assigned", "answered")


def last_day_with(today, working_days: int, calendar):
    """The latest day D with at least `working_days` working days after D up to and including `today`
    (``WorkCalendar.working_days_between(D, today) >= working_days``)."""
    day, counted = today, 0
    while counted < working_days:
        counted += calendar.is_working_day(day)
        day -= timedelta(days=1)
    return day


def _started_before(day) -> str:
    """UTC text of the local midnight after `day`: a clock started before it started on `day` or earlier."""
    return utc_iso(datetime.combine(day + timedelta(days=1), time(0), LOCAL_TZ))


def workload(engine, today, limit_days: int, calendar, unit=None, officer=None) -> dict:
    """{"open", "overdue", "due_today"}: cases not closed; of those, the ones past `limit_days` working days
    (``sync.central.cases.is_overdue``); and the ones whose last working day is `today` (local date).

    Counted in the store by the day each case's overdue clock started (Asia/Ho_Chi_Minh): when the citizen
    spoke, ``cases.started_utc`` (set for every case since migration 0009; a case without it is open but
    never counted overdue). Range counts on the index (unit, status, started_utc, officer) or (status, started_utc).
    """
    overdue_to = _started_before(last_day_with(today, limit_days + 1, calendar))
    due_to = _started_before(last_day_with(today, limit_days, calendar))

    def count(*where):
        query = select(func.count()).select_from(cases).where(cases.c.status.in_(OPEN), *where)
        for column, value in ((cases.c.unit, nfc(unit)), (cases.c.officer, nfc(officer))):
            if value:
                query = query.where(column == value)
        return conn.execute(query).scalar()

    with engine.connect() as conn:  # most open cases are old: count them once, and the few recent ones
        total = count()
        recent = count(cases.c.started_utc >= overdue_to)
        unknown = count(cases.c.started_utc.is_(None))
        due = count(cases.c.started_utc >= overdue_to, cases.c.started_utc < due_to)
    return {"open": total, "overdue": total - recent - unknown, "due_today": due}
