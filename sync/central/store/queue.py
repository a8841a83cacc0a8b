"""The case queue: cases filtered, counted and paged, overdue first, fast at 200,000 cases.

Order: overdue open cases (oldest first: the longest late), then the other open cases (oldest first:
the next due), then closed ones (newest first). Each part is one indexed query, so a page never sorts
the whole table. Whether a case is overdue or due today is decided in SQL by comparing its start day
(``local_day``) with cut-off days the caller computed from the working-day calendar (see
``sync.central.cases.overdue_before``), per group of channel and category.
"""

from dataclasses import dataclass

from sqlalchemy import and_, case, false, func, or_, select

from kiosk.text import nfc

from ..cases import CHANNELS, OTHER_CHANNELS, deadlines
from .schema import case_reasons, cases, response_private, responses

#: Rows on a page of the queue.
PAGE_SIZE = 50


@dataclass(frozen=True)
class Deadlines:
    """Cut-off start days, each for a group of cases: ``overdue`` as ((channel, category, last_overdue_day), ...)
    and ``due_today`` as ((channel, category, first_day, last_day), ...); a channel or category of ANY ('*')
    matches every value, a category of None only cases without one.
    Days are YYYY-MM-DD strings (Asia/Ho_Chi_Minh)."""
    overdue: tuple
    due_today: tuple


@dataclass(frozen=True)
class QueueFilter:
    """What the queue keeps: None (or False) keeps everything. `status` is one of the statuses or 'open'
    (not closed); `start`/`end` bound the start day (YYYY-MM-DD); `reason` is a why code (comment,
    low_rating, extra_request) or a reason chip's key. `assigned_to` (a login name) widens `officer_id` to an
    officer's own scope: the cases of their duty, and PAKN of other channels assigned to them."""
    unit: str | None = None
    officer_id: str | None = None  # the roster id of the officer on duty; '' keeps nothing (a login without one)
    assigned_to: str | None = None
    status: str | None = None
    channel: str | None = None
    category: str | None = None
    reason: str | None = None
    start: str | None = None
    end: str | None = None
    overdue: bool = False
    due_today: bool = False


ANY = "*"  # a group's channel or category that matches every value
_OPEN = cases.c.status.in_(("new", "assigned", "answered"))  # an IN, which an index on status can serve


def _group(channel, category):
    conditions = []
    if channel != ANY:
        conditions.append(cases.c.channel == channel)
    if category != ANY:
        conditions.append(cases.c.category.is_(None) if category is None else cases.c.category == category)
    return conditions


def overdue_condition(deadlines: Deadlines):
    """SQL: an open case whose start day is on or before its group's last overdue day."""
    groups = [and_(*_group(ch, cat), cases.c.local_day <= last) for ch, cat, last in deadlines.overdue]
    return and_(_OPEN, or_(*groups)) if groups else false()


def due_today_condition(deadlines: Deadlines):
    groups = [and_(*_group(ch, cat), cases.c.local_day.between(first, last))
              for ch, cat, first, last in deadlines.due_today]
    return and_(_OPEN, or_(*groups)) if groups else false()


def _where(query, f: QueueFilter, deadlines: Deadlines):
    for column, value in ((cases.c.unit, nfc(f.unit)), (cases.c.channel, f.channel),
                          (cases.c.category, nfc(f.category))):
        if value:
            query = query.where(column == value)
    if f.officer_id is not None and f.assigned_to:
        # The officer's few cases by their own two indexes, as a list of ids: as a plain OR, SQLite walks every
        # closed case in the queue's order to find the officer's.
        query = query.where(cases.c.id.in_(select(cases.c.id).where(or_(cases.c.officer_id == f.officer_id, and_(
            cases.c.channel.in_(OTHER_CHANNELS), cases.c.assignee == f.assigned_to)))))
    elif f.officer_id is not None:
        query = query.where(cases.c.officer_id == f.officer_id)
    if f.status == "open":
        query = query.where(_OPEN)
    elif f.status:
        query = query.where(cases.c.status == f.status)
    if f.start:
        query = query.where(cases.c.local_day >= f.start)
    if f.end:
        query = query.where(cases.c.local_day <= f.end)
    if f.reason and f.officer_id is not None:  # an officer's few cases, each looked up in case_reasons
        query = query.where(select(case_reasons.c.case_id).where(
            case_reasons.c.reason == f.reason, case_reasons.c.case_id == cases.c.id).exists())
    elif f.reason:  # a range of case_reasons' key, whatever else is kept
        query = query.where(cases.c.id.in_(select(case_reasons.c.case_id).where(case_reasons.c.reason == f.reason)))
    if f.overdue:
        query = query.where(overdue_condition(deadlines))
    if f.due_today:
        query = query.where(due_today_condition(deadlines))
    return query


def _parts(f: QueueFilter, deadlines: Deadlines):
    """(where, order) of the queue's parts, in the queue's order."""
    late = overdue_condition(deadlines)
    # local_day is the day of started_utc, so (local_day, started_utc) is started_utc's order, which the
    # queue's indexes (status, or unit or officer then status; then local_day, started_utc) hold. Open cases
    # are few: sorting their ids is cheap, and the sort key (local_day || '') keeps SQLite's planner from
    # walking every case in day order to find them (it cannot tell that few are open).
    oldest = ((cases.c.local_day + "").asc(), cases.c.started_utc.asc(), cases.c.id.asc())
    return ((and_(_OPEN, late), oldest), (and_(_OPEN, or_(~late, cases.c.local_day.is_(None))), oldest),
            (cases.c.status == "closed", (cases.c.local_day.desc(), cases.c.started_utc.desc(), cases.c.id.desc())))


def _rows_query():
    return (select(cases, responses.c.counter, response_private.c.comment)
            .join(responses, responses.c.id == cases.c.response_id, isouter=True)
            .join(response_private, response_private.c.response_id == cases.c.response_id, isouter=True))


def queue_page(engine, f: QueueFilter, deadlines: Deadlines, page: int = 1, size: int = PAGE_SIZE) -> dict:
    """One page of the queue: {"rows": [case mappings with counter and comment], "total": int, "pages": int,
    "page": int, "overdue": int (overdue cases among those kept)}. `page` counts from 1; a page past the
    end gives no rows."""
    offset = (max(1, page) - 1) * size
    rows = []
    late = overdue_condition(deadlines)
    with engine.connect() as conn:
        # The total, then the open ones (few, by the status index): the closed part is the difference.
        total = conn.execute(_where(select(func.count()).select_from(cases), f, deadlines)).scalar()
        open_count, late_count = conn.execute(_where(select(
            func.count(), func.coalesce(func.sum(case((late, 1), else_=0)), 0)).select_from(cases).where(_OPEN),
            f, deadlines)).one()
        counts = [int(late_count), open_count - int(late_count), total - open_count]
        ids = []
        for (where, order), count in zip(_parts(f, deadlines), counts, strict=True):
            if len(ids) < size and offset < count:  # ids first, from the indexes alone; then their rows
                ids += conn.execute(_where(select(cases.c.id).where(where), f, deadlines).order_by(*order)
                                    .offset(offset).limit(size - len(ids))).scalars().all()
            offset = max(0, offset - count)
        if ids:
            found = {row["id"]: row for row in conn.execute(_rows_query().where(cases.c.id.in_(ids))).mappings()}
            rows = [found[i] for i in ids]
    return {"rows": rows, "total": total, "pages": max(1, -(-total // size)), "page": max(1, page),
            "overdue": counts[0]}


def count_matching(engine, f: QueueFilter, deadlines: Deadlines) -> int:
    """How many cases the filter keeps (for the summary's links and tests)."""
    with engine.connect() as conn:
        return conn.execute(_where(select(func.count()).select_from(cases), f, deadlines)).scalar()


def group_pairs(engine) -> list:
    """The (channel, category) pairs of open cases from channels other than the kiosk, so that each group's
    deadline can be computed; the kiosk's cases form one group."""
    others = [c for c in CHANNELS if c != "kiosk"]
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(
            select(cases.c.channel, cases.c.category).where(cases.c.channel.in_(others), _OPEN).distinct())]


def deadlines_on(engine, today, config, calendar, pairs=None) -> Deadlines:
    """The cut-off days on `today` (a local date) for every group of open cases (``sync.central.cases.deadlines``,
    `config` a CentralConfig, `calendar` a WorkCalendar); `pairs` as ``group_pairs`` gives them, read if None."""
    overdue, due = deadlines(today, config, calendar, group_pairs(engine) if pairs is None else pairs)
    return Deadlines(overdue=overdue, due_today=due)
