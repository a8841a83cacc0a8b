"""Exports and reports for staff: CSV (UTF-8 with BOM, for Excel), XLSX, trends. Phone numbers never leave
the case page: no export carries them."""

import csv
import io
from datetime import date, timedelta

from openpyxl import Workbook

from kiosk import indices
from kiosk.clock import local_time

MAX_DAYS = 366


def parse_range(start_text, end_text, today):
    """(start, end) days from query text; default the last 30 days; at most a year."""
    end = date.fromisoformat(end_text) if end_text else today
    start = date.fromisoformat(start_text) if start_text else end - timedelta(days=29)
    if start > end or (end - start).days >= MAX_DAYS:
        raise ValueError("range")
    return start, end


def by_day(tallies, start, end, elements):
    """Figures per day from `start` to `end` from day tallies, days without responses included."""
    grouped = {}
    for row in tallies:
        grouped.setdefault(row["local_day"], []).append(row)
    days, day = [], start
    while day <= end:
        days.append((day, indices.summarize_tallies(grouped.get(day.isoformat(), []), elements)))
        day += timedelta(days=1)
    return days


def raw_header(questions, labels):
    return [labels["day"], labels["time"], labels["kiosk"], labels["unit"], labels["counter"], labels["officer"],
            labels["dossier"], *[q.short[labels["lang"]] for q in questions], labels["extra"], labels["visits"],
            labels["reasons"], labels["complete"], labels["flags"], labels["comment"]]


def raw_line(row, questions):
    answers = row["answers"]
    return [row["local_day"], local_time(row["created_utc"]), row["kiosk_id"], row["unit"], row["counter"] or "",
            row["officer"] or "", row["dossier_code"] or "", *[answers.get(q.key, "") for q in questions],
            answers.get("extra_request", ""), answers.get("visits", ""), ", ".join(row["reasons"]),
            row["complete"], ", ".join(row["flags"]), row["comment"] or ""]


def summary_header(questions, labels):
    return [labels["day"], labels["responses"], labels["flagged"], labels["sipas"],
            *[q.short[labels["lang"]] for q in questions], labels["dossiers"]]


def summary_line(day, figures, questions):
    def pct(value):
        return "" if value is None else value
    return [day.isoformat(), figures["responses"], figures["flagged"], pct(figures["sipas_index"]),
            *[pct(figures["questions"].get(q.key, {}).get("satisfied_pct")) for q in questions],
            pct(figures["dossiers"]["satisfaction_pct"])]


def csv_bytes(rows, questions, labels) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(raw_header(questions, labels))
    writer.writerows(raw_line(row, questions) for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM makes Excel read UTF-8


def xlsx_bytes(rows, days, questions, labels) -> bytes:
    book = Workbook()
    summary = book.active
    summary.title = labels["summary_sheet"]
    summary.append(summary_header(questions, labels))
    for day, figures in days:
        summary.append(summary_line(day, figures, questions))
    raw = book.create_sheet(labels["raw_sheet"])
    raw.append(raw_header(questions, labels))
    for row in rows:
        raw.append(raw_line(row, questions))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def chart_points(values, width, height):
    """(x, y) for percentages spread over `width`, 100% at the top; days without answers skipped."""
    step = width / max(1, len(values) - 1)
    return [(round(i * step, 1), round(height - v * height / 100, 1)) for i, v in enumerate(values) if v is not None]
