"""PAKN (phản ánh, kiến nghị) from every channel in the store: registered by staff, answered in writing, and
the QĐ 766 ratios per unit and period.

A PAKN received by hotline, email, suggestion box, the portal or in person becomes a case (channel, no kiosk
response, ``kiosk_id`` '', ``local_day`` the day it was received) with its text and the citizen's details in
``pakn``; from then on it has the kiosk cases' workflow and audit log (``store.cases``).
"""

from datetime import date, timedelta

from sqlalchemy import case, func, or_, select
from sqlalchemy.exc import IntegrityError

from kiosk.clock import local_today, now_utc, utc_iso

from .. import cases as case_rules
from .cases import add_reasons
from .database import write
from .schema import case_log, cases, pakn, reply_letters

#: How the citizen was told the outcome; "not_reachable": staff tried (at the time recorded) and could not reach
#: them, which also lets a PAKN within competence be closed (see ``web.cases``).
TOLD_HOW = ("letter", "phone", "email", "in_person", "not_reachable")
SATISFIED = ("yes", "no", "unsaid")


def register(engine, *, unit: str, channel: str, received, category: str, content: str, user_name: str, now,
             citizen_name=None, contact=None, consent=False, within_competence=True, transferred_to=None,
             transferred_utc=None) -> int:
    """Store a PAKN as a new case and its ``pakn`` row, with a "register" entry in the case's history; its id.

    `received` and `now` are aware datetimes (UTC or any zone); the case's day is `received`'s day in
    Asia/Ho_Chi_Minh. The name and contact are kept only with `consent` (stored as consent_utc = now).
    Raises ``ValueError`` (nothing stored) for a channel not in OTHER_CHANNELS, a category not in
    CATEGORIES, a contact without consent, or a transfer without a recipient. Checking what staff typed
    (lengths, times in the future) is the form's job.
    """
    if channel not in case_rules.OTHER_CHANNELS or category not in case_rules.CATEGORIES:
        raise ValueError("channel or category")
    if (citizen_name or contact) and not consent:
        raise ValueError("contact without consent")
    if not within_competence and not transferred_to:
        raise ValueError("transfer without a recipient")
    stamp = utc_iso(now)
    with write(engine) as conn:
        case_id = conn.execute(cases.insert().values(
            response_id=None, local_day=local_today(received).isoformat(), unit=unit, kiosk_id="", officer=None,
            why="pakn", status="new", opened_utc=stamp, updated_utc=stamp, channel=channel,
            started_utc=utc_iso(received), category=category)).inserted_primary_key[0]
        add_reasons(conn, [{"id": case_id, "why": "pakn", "reasons": None}])  # none today: a PAKN has no chips
        conn.execute(pakn.insert().values(
            case_id=case_id, content=content, citizen_name=citizen_name if consent else None,
            contact=contact if consent else None, consent_utc=stamp if consent and (citizen_name or contact) else None,
            within_competence=1 if within_competence else 0,
            transferred_to=None if within_competence else transferred_to,
            transferred_utc=None if within_competence else utc_iso(transferred_utc or now), registered_by=user_name))
        conn.execute(case_log.insert().values(case_id=case_id, user_name=user_name, at_utc=stamp,
                                              action="register", detail=channel))
    return case_id


def details(engine, case_id: int):
    """The case's ``pakn`` row as a dict (None for a kiosk case) and its reply letters, newest first:
    ``{"pakn": dict | None, "letters": [dict with year, number, issued_utc, signer, ...]}``."""
    with engine.connect() as conn:
        row = conn.execute(select(pakn).where(pakn.c.case_id == case_id)).mappings().first()
        letters = conn.execute(select(reply_letters).where(reply_letters.c.case_id == case_id)
                               .order_by(reply_letters.c.id.desc())).mappings().all()
    return {"pakn": dict(row) if row else None, "letters": [dict(letter) for letter in letters]}


def record_outcome(engine, case_id: int, user_name: str, now, *, told_how, told_utc, satisfied,
                   complained_again: bool) -> bool:
    """Record how and when the citizen was told, whether they said they were satisfied and whether they
    complained again; logged as "told" in the case's history. False (nothing changed) if nothing differs.

    `told_how` in TOLD_HOW, `satisfied` in SATISFIED, `told_utc` an aware datetime (or None with no
    `told_how`). Raises ``ValueError`` for other values. Allowed on a closed case too: a citizen may say
    later that they were not satisfied, or complain again, and the ratios must see it.
    """
    if (told_how is not None and told_how not in TOLD_HOW) or satisfied not in SATISFIED:
        raise ValueError("told_how or satisfied")
    values = {"told_how": told_how, "told_utc": utc_iso(told_utc) if told_how and told_utc else None,
              "satisfied": satisfied, "complained_again": 1 if complained_again else 0}
    with write(engine) as conn:
        case = conn.execute(select(cases).where(cases.c.id == case_id)).mappings().one()
        if all(case[key] == value for key, value in values.items()):
            return False
        conn.execute(cases.update().where(cases.c.id == case_id).values(**values, updated_utc=utc_iso(now)))
        detail = f"{told_how or '-'} {values['told_utc'] or ''} satisfied={satisfied} " \
                 f"complained_again={values['complained_again']}"
        conn.execute(case_log.insert().values(case_id=case_id, user_name=user_name, at_utc=utc_iso(now),
                                              action="told", detail=" ".join(detail.split())))
    return True


def issue_letter(engine, case_id: int, user_name: str, signer: str, now) -> dict:
    """Give the case a reply letter with the next number of `now`'s year (Asia/Ho_Chi_Minh), logged as "letter".

    Returns the stored letter (year, number, issued_utc, signer...). Numbers are unique per year (a unique
    constraint); two issued at once on PostgreSQL: the second raises IntegrityError and is retried once.
    """
    year = local_today(now).year
    for attempt in (1, 2):
        try:
            with write(engine) as conn:
                number = (conn.execute(select(func.max(reply_letters.c.number))
                                       .where(reply_letters.c.year == year)).scalar() or 0) + 1
                values = {"case_id": case_id, "year": year, "number": number, "issued_utc": utc_iso(now),
                          "issued_by": user_name, "signer": signer}
                conn.execute(reply_letters.insert().values(**values))
                conn.execute(case_log.insert().values(case_id=case_id, user_name=user_name, at_utc=utc_iso(now),
                                                      action="letter", detail=f"{number}/{year}"))
                return values
        except IntegrityError:  # the number was taken meanwhile
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def is_pakn_clause():
    """Which cases count as PAKN: every case of another channel, and kiosk cases with a rating of 1-2 or a
    demand for extra documents or fees. A kiosk comment alone (praise, a suggestion) is not a PAKN."""
    return or_(cases.c.channel != "kiosk", cases.c.why.like("%low_rating%"), cases.c.why.like("%extra_request%"))


def _pct(part, whole):
    return None if not whole else round(100.0 * part / whole, 1)


def pakn_ratios(engine, unit, first_day: date, last_day: date, config=None, calendar=None, now=None) -> dict:
    """The QĐ 766/QĐ-TTg PAKN ratios of `unit` (None: every unit) for PAKN received from `first_day` to
    `last_day` (local days, inclusive).

    Each PAKN is due ``due_working_days(channel, category, config)`` working days after its day (by
    `calendar`, default public holidays only; `config` None: CENTRAL_CASE_DAYS 5 and the PAKN default). It
    is *on time* when closed on or before that day, *late* when closed after it or still open after it
    (as of `now`, an aware datetime, default the current time), *pending* when open and not yet due.

    Returns ``{"pakn": all PAKN, "within_competence": n, "transferred": n, "on_time": n, "late": n,
    "pending": n, "on_time_pct": on_time ÷ (on_time + late) of those within competence, in % with one
    decimal (None when none is settled), "dissatisfied": n said not satisfied, "complained_again": n,
    "satisfied_pct": (all − those dissatisfied, complained about again or late) ÷ all, in % (None
    when no PAKN), "by_channel": {channel: n}}``. Transferred PAKN count in "pakn" and the satisfied share
    but are never late: handling them is another body's task.
    """
    today = local_today(now or now_utc())
    counts = dict.fromkeys(("pakn", "within_competence", "transferred", "on_time", "late", "pending",
                            "dissatisfied", "complained_again", "not_satisfied"), 0)
    by_channel, due_days = {}, {}
    settings = config or _DefaultDays()
    with engine.connect() as conn:
        groups = conn.execute(_grouped_query(unit, first_day, last_day)).all()
    for day, channel, category, within, closed, closed_day, after_17, satisfied, again, n in groups:
        counts["pakn"] += n
        by_channel[channel] = by_channel.get(channel, 0) + n
        late = False
        if within == 0:
            counts["transferred"] += n
        else:
            counts["within_competence"] += n
            key = (day, channel, category)
            due = due_days.get(key)
            if due is None:
                days = case_rules.due_working_days(channel, category, settings)
                due = due_days[key] = case_rules.due_day(date.fromisoformat(day), days, calendar)
            ended = None
            if closed and closed_day:  # UTC+7 all year: 17:00 UTC and later is the next local day
                ended = date.fromisoformat(closed_day) + timedelta(days=after_17)
            late = (ended or today) > due
            counts["late" if late else "on_time" if ended else "pending"] += n
        if satisfied == "no":
            counts["dissatisfied"] += n
        if again:
            counts["complained_again"] += n
        if late or satisfied == "no" or again:
            counts["not_satisfied"] += n
    return {"pakn": counts["pakn"], "within_competence": counts["within_competence"],
            "transferred": counts["transferred"], "on_time": counts["on_time"], "late": counts["late"],
            "pending": counts["pending"],
            "on_time_pct": _pct(counts["on_time"], counts["on_time"] + counts["late"]),
            "dissatisfied": counts["dissatisfied"], "complained_again": counts["complained_again"],
            "satisfied_pct": _pct(counts["pakn"] - counts["not_satisfied"], counts["pakn"]),
            "by_channel": dict(sorted(by_channel.items()))}


def _grouped_query(unit, first_day, last_day):
    """The period's PAKN counted per everything the ratios look at, so a month is a few thousand rows at most:
    the day and hour a case closed are cut from its UTC text (portable between SQLite and PostgreSQL)."""
    closed = case((cases.c.status == "closed", 1), else_=0)
    closed_day = func.substr(cases.c.closed_utc, 1, 10)
    after_17 = case((func.substr(cases.c.closed_utc, 12, 2) >= "17", 1), else_=0)
    keys = [cases.c.local_day, cases.c.channel, cases.c.category, pakn.c.within_competence, closed, closed_day,
            after_17, cases.c.satisfied, cases.c.complained_again]
    query = (select(cases.c.local_day, cases.c.channel, cases.c.category, pakn.c.within_competence,
                    closed.label("closed"), closed_day.label("closed_day"), after_17.label("after_17"),
                    cases.c.satisfied, cases.c.complained_again, func.count().label("n"))
             .join(pakn, pakn.c.case_id == cases.c.id, isouter=True)
             .where(cases.c.local_day >= first_day.isoformat(), cases.c.local_day <= last_day.isoformat(),
                    is_pakn_clause())
             .group_by(*keys))
    return query.where(cases.c.unit == unit) if unit else query


class _DefaultDays:
    """Stands for a CentralConfig with the default days."""
    case_days = 5
    pakn_days = ()

