"""Exports and reports for staff: CSV (UTF-8 with BOM, for Excel), XLSX, trends. Phone numbers never leave
the case page: no export carries them."""

import csv
import io
import re
from datetime import date, datetime, timedelta

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from kiosk import indices
from kiosk.clock import LOCAL_TZ, parse_utc

from sync.wire import YEARS

MAX_DAYS = 366


#: The days staff pages take: the years a response can carry (``sync.wire.YEARS``), so no
#: day before or after one (a week earlier, the next month) falls outside what dates hold.
FIRST_DAY, LAST_DAY = date(YEARS[0], 1, 1), date(YEARS[1], 12, 31)


def parse_day(text: str) -> date:
    """A day from 'YYYY-MM-DD' between FIRST_DAY and LAST_DAY; raises ValueError otherwise."""
    day = date.fromisoformat(text)
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{text} is outside {FIRST_DAY}..{LAST_DAY}")
    return day


def parse_range(start_text, end_text, today):
    """(start, end) days from query text; default the last 30 days; at most a year."""
    end = parse_day(end_text) if end_text else today
    start = parse_day(start_text) if start_text else end - timedelta(days=29)
    if start > end or (end - start).days >= MAX_DAYS:
        raise ValueError("range")
    return start, end


def by_day(tallies, start, end, elements, dossiers=True):
    """[(day, figures)] from `start` to `end` from day tallies, days without responses included.

    Without `dossiers` (tallies read with ``counts_only``) the figures leave out ``dossiers``, the
    per-dossier rate, which needs every dossier code of the day.
    """
    grouped = {}
    for row in tallies:
        grouped.setdefault(row["local_day"], []).append(row)
    days, day = [], start
    while day <= end:
        figures = indices.summarize_tallies(grouped.get(day.isoformat(), []), elements)
        if not dossiers:
            del figures["dossiers"]
        days.append((day, figures))
        day += timedelta(days=1)
    return days


#: Characters a spreadsheet may read as the start of a formula (or of a quote mark that hides one).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "'", "\uff1d", "\uff0b", "\uff0d", "\uff20")
#: Control characters XML 1.0 (and so XLSX) cannot hold; tab, LF and CR are allowed.
ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
#: A code (counter, dossier) that Excel would turn into a number or a date: 01 -> 1, 000123 -> 123.
NUMBER_LIKE = re.compile(r"[\d\s.,:/-]+")
GUARD = "'"
#: Invisible marks (BOM, zero widths) a spreadsheet skips, as it skips white space, before a formula.
INVISIBLE = re.compile(r"^[\s\ufeff\u200b\u200c\u200d\u2060]+")


def spreadsheet_text(value, code=False) -> str:
    """`value` as text that a spreadsheet shows as written and never runs.

    Characters XLSX cannot hold become U+FFFD. Text that starts like a formula,
    blanks aside (= + - @, tab, CR, LF, their full-width forms, or an apostrophe), and a
    `code` that looks like a number or a date, gets one leading apostrophe
    (``GUARD``): Excel's mark for "this is text". Removing exactly one leading
    apostrophe from a guarded cell gives the text back. None becomes ''.
    """
    text = ILLEGAL_XML.sub("\ufffd", "" if value is None else str(value))
    if text.startswith(FORMULA_START) or INVISIBLE.sub("", text).startswith(FORMULA_START) \
            or (code and NUMBER_LIKE.fullmatch(text)):
        return GUARD + text
    return text


class Text(str):
    """A text cell: guarded by ``spreadsheet_text`` in every export (`code` for counters and dossiers)."""

    def __new__(cls, value, code=False):
        return super().__new__(cls, spreadsheet_text(value, code))


def _choice_text(question, value, lang):
    option = next((o for o in question.options if o.value == value), None)
    return option.text[lang] if option else ("" if value is None else str(value))


def raw_header(questionnaire, labels):
    """The raw sheet's header: people's columns in `labels["lang"]`, then the raw keys machines read."""
    questions = questionnaire.questions
    choices = [q for q in questions if q.kind == "choice"]
    return [labels["day"], labels["time"], labels["kiosk"], labels["unit"], labels["counter"], labels["officer"],
            labels["dossier"], *[q.short[labels["lang"]] for q in questions], labels["reasons"],
            labels["complete"], labels["flags"], labels["comment"],
            *[q.key for q in choices], "reasons", "complete", "flags"]


def raw_line(row, questionnaire, labels) -> list:
    """One response as cell values: a date, a local datetime, numbers for ratings, text for the rest."""
    lang, answers = labels["lang"], row["answers"]
    reasons = {r.key: r.text[lang] for r in questionnaire.reasons}
    choices = [q for q in questionnaire.questions if q.kind == "choice"]
    created = parse_utc(row["created_utc"]).astimezone(LOCAL_TZ).replace(tzinfo=None)
    return [date.fromisoformat(row["local_day"]), created.replace(microsecond=0),
            Text(row["kiosk_id"]), Text(row["unit"]), Text(row["counter"], code=True), Text(row["officer"], code=True),
            Text(row["dossier_code"], code=True),
            *[answers.get(q.key) if q.kind == "rating" else Text(_choice_text(q, answers.get(q.key), lang))
              for q in questionnaire.questions],
            Text("; ".join(reasons.get(key, key) for key in row["reasons"])),
            Text(labels["yes"] if row["complete"] else labels["no"]),
            Text("; ".join(labels["flag_names"].get(flag, flag) for flag in row["flags"])), Text(row["comment"]),
            *[Text(answers.get(q.key)) for q in choices], Text(",".join(row["reasons"])), row["complete"],
            Text(",".join(row["flags"]))]


def summary_header(questions, labels):
    return [labels["day"], labels["responses"], labels["flagged"], labels["sipas"],
            *[q.short[labels["lang"]] for q in questions], labels["dossiers"]]


def summary_line(day, figures, questions):
    return [day, figures["responses"], figures["flagged"], figures["sipas_index"],
            *[figures["questions"].get(q.key, {}).get("satisfied_pct") for q in questions],
            figures["dossiers"]["satisfaction_pct"]]


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%H:%M %d/%m/%Y")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and not isinstance(value, Text):
        return spreadsheet_text(value)  # headers too: a label never becomes a formula
    return value


def csv_bytes(rows, questionnaire, labels) -> bytes:
    """The responses as CSV (UTF-8 with a BOM so Excel reads it); every text passes ``spreadsheet_text``."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(map(_csv_cell, raw_header(questionnaire, labels)))
    writer.writerows(map(_csv_cell, raw_line(row, questionnaire, labels)) for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM makes Excel read UTF-8


def _append(sheet, values):
    """A row whose texts are string cells (never formulas), dates shown as dates."""
    cells = []
    for value in values:
        if isinstance(value, str):
            text = value if isinstance(value, Text) else spreadsheet_text(value)
            cell = WriteOnlyCell(sheet, value=None)
            text = text.replace("\r\n", "\n").replace("\r", "\n")  # XML reads every CR as LF anyway
            cell.value, guarded = (text[1:], True) if text.startswith(GUARD) else (text, False)
            cell.data_type = "s"  # a string, even when it starts with '='
            cell.quotePrefix = guarded
        else:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, datetime):
                cell.number_format = "dd/mm/yyyy hh:mm"
            elif isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
        cells.append(cell)
    sheet.append(cells)


def xlsx_bytes(rows, days, questionnaire, labels) -> bytes:
    """A workbook with a summary sheet (one line per day) and the raw responses; header rows frozen."""
    book = Workbook(write_only=True)
    summary = book.create_sheet(labels["summary_sheet"])
    raw = book.create_sheet(labels["raw_sheet"])
    ratings = [q for q in questionnaire.questions if q.kind == "rating"]
    for sheet in (summary, raw):
        sheet.freeze_panes = "A2"
    _append(summary, summary_header(ratings, labels))
    for day, figures in days:
        _append(summary, summary_line(day, figures, ratings))
    _append(raw, raw_header(questionnaire, labels))
    for row in rows:
        _append(raw, raw_line(row, questionnaire, labels))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


#: The five SIPAS elements (QĐ 1001/QĐ-BNV; see shared/domain.md), by number.
ELEMENT_KEYS = {"1": "access", "2": "procedures", "3": "officers", "4": "results", "5": "feedback"}


def month_bounds(first: date):
    """(first day, last day) of the month starting on `first`."""
    return first, (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def previous_month(first: date) -> date:
    """The first day of the month before the one starting on `first`."""
    return (first - timedelta(days=1)).replace(day=1)


def element_sources(questionnaire) -> dict:
    """Which questions feed each SIPAS element, from the questionnaire's mapping:
    ``{"1": {"ratings": [Question...], "choices": [Question...]}, ... "5": ...}``.

    Ratings make the element's figure (the mean of their shares of 4 or 5, ``kiosk.indices``); choices
    mapped to it (extra documents or fees, visits) are shown as their own shares. The overall rating maps
    to every element and is left out: an element with no rating of its own has no figure.
    """
    sources = {number: {"ratings": [], "choices": []} for number in ELEMENT_KEYS}
    for question in questionnaire.questions:
        if question.key == indices.OVERALL:
            continue
        for number in question.elements:
            sources[str(number)]["ratings" if question.kind == "rating" else "choices"].append(question)
    return sources
