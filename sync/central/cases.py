"""Complaints and comments as cases: opened at ingest, handled by staff, every change logged.

**Which responses open a case** (the one place for this rule; ``why`` and ``case_rows``): a response
opens a case when it has a rating of 1 or 2, says it was asked for extra documents or fees
(``extra_request`` = "yes"), or has a comment together with a reason chip. A response whose only
feature is a comment (no rating of 1-2, no reason, no extra-demand "yes") is a **compliment**
(issue 12, item 3): it opens no case and needs no answer; it is listed on the compliments page
(``compliment_rows`` feed the ``compliments`` table) and counted per officer.

A case goes new -> assigned -> answered -> closed. Its clock starts when the citizen spoke
(``started_utc``, ``local_day``: the rating's time for kiosk cases), not when central received it.
It is due ``due_working_days`` working days after its start day (in Asia/Ho_Chi_Minh; see
``sync.central.workdays``: Monday to Friday less Vietnam's public holidays, with the department's
decreed swaps) and overdue after that unless closed. A closed case is read-only until it is reopened,
which is logged as its own action.
"""

from datetime import date, timedelta

from kiosk.clock import local_today, parse_utc

from .workdays import WorkCalendar

STATUSES = ("new", "assigned", "answered", "closed")
#: Why a case was opened, as stored in ``cases.why``.
WHY_CODES = ("comment", "low_rating", "extra_request")

#: Channels a case comes in by: the kiosks, and PAKN staff register (sync.central.web.pakn).
CHANNELS = ("kiosk", "hotline", "email", "box", "portal", "in_person")
OTHER_CHANNELS = CHANNELS[1:]

#: PAKN categories, each the SIPAS element it concerns (QĐ 1001/QĐ-BNV; see shared/domain.md), and the
#: default working days to handle it. Default source *(unconfirmed)*: NĐ 20/2008/NĐ-CP on receiving and
#: handling PAKN about administrative regulations, as amended by NĐ 92/2017/NĐ-CP, gives 10 working days
#: from receipt (longer for complex cases); the department sets its own per category with CENTRAL_PAKN_DAYS.
CATEGORIES = {"access": 1, "procedures": 2, "officers": 3, "results": 4, "feedback": 5}
PAKN_DEFAULT_DAYS = 10


def due_working_days(channel: str, category, config) -> int:
    """Working days a case has before it is overdue, counted from the day the citizen spoke.

    Kiosk cases: ``config.case_days`` (CENTRAL_CASE_DAYS). PAKN of other channels: the days set for their
    `category` in ``config.pakn_days`` (CENTRAL_PAKN_DAYS), else PAKN_DEFAULT_DAYS (see CATEGORIES for the
    source). `config` is a ``CentralConfig``.
    """
    if channel == "kiosk":
        return config.case_days
    return dict(getattr(config, "pakn_days", ())).get(category, PAKN_DEFAULT_DAYS)


def due_day(start_day, days: int, calendar=None):
    """The last day on time: the `days`-th working day after `start_day` (a date, Asia/Ho_Chi_Minh).

    A case still open after this day is overdue, as ``is_overdue`` counts it.
    """
    calendar = calendar or PUBLIC_HOLIDAYS_ONLY
    day, left = start_day, days
    while left > 0:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            left -= 1
    return day


def why(answers: dict, has_comment: bool, reasons=()) -> list:
    """Why a response opens a case, as a list of WHY_CODES; [] when it opens none.

    `answers` maps question keys to answers (ratings are ints 1-5), `reasons` are the reason chips
    chosen. A comment alone (no rating of 1-2, no reason, no extra-demand "yes") is a compliment:
    [] (see ``is_compliment``).
    """
    found = []
    if any(type(v) is int and v in (1, 2) for v in answers.values()):
        found.append("low_rating")
    if answers.get("extra_request") == "yes":
        found.append("extra_request")
    if not found and not reasons:
        return []
    return (["comment"] if has_comment else []) + found


def is_compliment(answers: dict, has_comment: bool, reasons=()) -> bool:
    """True for a response with a comment that opens no case (see the module's docstring)."""
    return has_comment and not why(answers, has_comment, reasons)


def case_rows(responses) -> list:
    """Case rows (``case_row``) for stored responses (dicts with id, local_day, unit, kiosk_id, officer, answers,
    reasons, comment_hash, created_utc and received_utc; officer_id and counter_id if known) that open a case."""
    return [case_row(responses[index], reasons) for index, reasons in opening(responses).items()]


def case_row(r, why: list) -> dict:
    """The case a stored response (as for ``case_rows``) opens, for the reasons `why` (WHY_CODES); the case
    starts when the citizen rated (created_utc)."""
    return {"response_id": r["id"], "local_day": r["local_day"], "unit": r["unit"],
            "kiosk_id": r["kiosk_id"], "officer": r["officer"], "why": ",".join(why),
            "status": "new", "opened_utc": r["received_utc"], "updated_utc": r["received_utc"],
            "channel": "kiosk", "started_utc": r["created_utc"],
            "reasons": ",".join(r.get("reasons") or ())[:200] or None,
            "officer_id": r.get("officer_id"), "counter_id": r.get("counter_id")}


def opening(responses) -> dict:
    """``{index: why}`` (see ``why``) of the responses (dicts with answers, comment_hash, reasons) that open a
    case, in order."""
    return {index: reasons for index, r in enumerate(responses)
            if (reasons := why(r["answers"], r["comment_hash"] is not None, r.get("reasons") or ()))}


def reason_keys(why: str, reasons: str | None) -> list:
    """The keys the case queue's reason filter finds a case by (``case_reasons`` rows), from its stored
    ``why`` (comma-separated WHY_CODES, or 'pakn' for a PAKN, which is left out) and ``reasons`` (its
    reason chips, comma-separated, or None): each key once, why codes first. A chip's key is never a
    why code's (the questionnaire's chips are the kiosk's reason keys)."""
    keys = []
    for key in (why or "").split(",") + (reasons or "").split(","):
        if key and key != "pakn" and key not in keys:
            keys.append(key)
    return keys


def compliment_rows(responses) -> list:
    """Rows of the ``compliments`` table (``compliment_row``) for the stored responses (as for ``case_rows``)
    that are compliments."""
    return [compliment_row(responses[index]) for index in compliments_among(responses, opening(responses))]


def compliments_among(responses, whys: dict) -> list:
    """The indexes of the responses (dicts with comment_hash) that are compliments: a comment, and no case
    (`whys`: those that open one, as ``opening`` gives them)."""
    return [index for index, r in enumerate(responses) if r["comment_hash"] is not None and index not in whys]


def compliment_row(r) -> dict:
    """The ``compliments`` row of a stored response (as for ``case_rows``) that is a compliment."""
    return {"response_id": r["id"], "local_day": r["local_day"], "unit": r["unit"], "kiosk_id": r["kiosk_id"],
            "officer": r["officer"], "started_utc": r["created_utc"],
            "officer_id": r.get("officer_id"), "counter_id": r.get("counter_id")}


#: Vietnam's public holidays without department swaps, for callers that give no calendar.
PUBLIC_HOLIDAYS_ONLY = WorkCalendar()


def start_day(case) -> date:
    """The day (Asia/Ho_Chi_Minh) a case's clock started: its ``local_day``, else its ``started_utc`` or
    ``opened_utc`` day."""
    if case.get("local_day"):
        return date.fromisoformat(case["local_day"])
    return local_today(parse_utc(case.get("started_utc") or case["opened_utc"]))


def is_overdue(case, now, limit_days: int, calendar: WorkCalendar | None = None) -> bool:
    """True if an open case has waited more than `limit_days` working days since the day the citizen spoke.

    `case` needs ``status`` and ``local_day`` (or ``started_utc``/``opened_utc``); `now` is an aware
    datetime; days are counted in Asia/Ho_Chi_Minh by `calendar` (default: Vietnam's public holidays,
    no department swaps).
    """
    if case["status"] == "closed":
        return False
    calendar = calendar or PUBLIC_HOLIDAYS_ONLY
    return calendar.working_days_between(start_day(case), local_today(now), stop_after=limit_days) > limit_days


def overdue_before(today: date, limit_days: int, calendar: WorkCalendar) -> date:
    """The latest start day whose open cases are overdue on `today`: a case started on day d is
    overdue exactly when d <= this day (working days counted as in ``is_overdue``)."""
    day, count = today, 0
    while count <= limit_days:  # walk back until more than limit_days working days lie after `day`
        if calendar.is_working_day(day):
            count += 1
        day -= timedelta(days=1)
    return day


def due_today_after(today: date, limit_days: int, calendar: WorkCalendar):
    """(first, last) start days whose open cases fall due on `today` (their last allowed working day),
    or None when `today` is not a working day: those started in [first, last]."""
    if not calendar.is_working_day(today):
        return None
    first = overdue_before(today, limit_days, calendar) + timedelta(days=1)
    day, count = today, 0
    while count < limit_days:  # the start days with exactly limit_days working days up to today
        if calendar.is_working_day(day):
            count += 1
        day -= timedelta(days=1)
    return first, day


def deadlines(today: date, config, calendar: WorkCalendar, pairs=()) -> tuple:
    """(overdue groups, due-today groups) for ``store.queue.Deadlines`` on `today`: the kiosk's cases, and
    each (channel, category) in `pairs` (open cases of other channels), by ``due_working_days``. When
    every group has the kiosk's number of days, one group ('*', '*') covers all cases."""
    groups = [("kiosk", "*")] + [tuple(pair) for pair in pairs]
    days = {group: due_working_days(group[0], None if group[0] == "kiosk" else group[1], config)
            for group in groups}
    if len(set(days.values())) == 1:
        days = {("*", "*"): days[("kiosk", "*")]}
    overdue, due = [], []
    for (channel, category), limit in days.items():
        overdue.append((channel, category, overdue_before(today, limit, calendar).isoformat()))
        span = due_today_after(today, limit, calendar)
        if span:
            due.append((channel, category, span[0].isoformat(), span[1].isoformat()))
    return tuple(overdue), tuple(due)
