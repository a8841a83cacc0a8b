"""Trend charts drawn on the server as SVG geometry (no script: the pages' CSP allows none inline).

A chart shows, per day, the share satisfied of one rating question as a line
that breaks where a day has no answers (a gap stays a gap), its 7-day moving
average (satisfied ÷ answered over the day and the six before it, so busy days
weigh more; drawn on days with answers only, so it breaks at the same gaps),
the unit's target as
a dashed line, and the day's number of answers as bars under the line. Each
Monday gets a date label. Two sizes are drawn: ``WIDE`` for desktops and
``NARROW`` for phones, whose font size keeps labels at 12 px or more on a
390 px wide screen (the page shows one of them by CSS).
"""

from dataclasses import dataclass
from datetime import timedelta

from markupsafe import Markup, escape

MA_DAYS = 7


@dataclass(frozen=True)
class Frame:
    """A chart's size in SVG units: the plot's width, the line's and the bars' heights, the font."""
    width: int
    line_height: int
    bar_height: int
    font: int
    left: int  # room for the y labels
    bottom: int  # room for the date labels
    vertical_dates: bool


WIDE = Frame(width=820, line_height=220, bar_height=60, font=14, left=48, bottom=30, vertical_dates=False)
NARROW = Frame(width=300, line_height=200, bar_height=60, font=15, left=46, bottom=54, vertical_dates=True)
GAP = 14  # between the line's area and the bars


def daily(series, key) -> list:
    """[(day, satisfied, answered)] of question `key` from ``reports.by_day`` output."""
    rows = []
    for day, figures in series:
        stats = figures["questions"].get(key)
        if stats and stats["answered"]:
            dist = stats["distribution"]
            rows.append((day, dist["4"] + dist["5"], stats["answered"]))
        else:
            rows.append((day, 0, 0))
    return rows


def moving_average(rows, days=MA_DAYS) -> list:
    """Per row, 100 × satisfied ÷ answered over it and the `days` - 1 rows before it; None without answers."""
    out = []
    for i in range(len(rows)):
        window = rows[max(0, i - days + 1):i + 1]
        answered = sum(r[2] for r in window)
        out.append(100 * sum(r[1] for r in window) / answered if answered else None)
    return out


def _runs(points):
    """Consecutive (x, y) runs of points that are not None: the pieces of a line with gaps."""
    runs, run = [], []
    for point in points:
        if point is None:
            if run:
                runs.append(run)
            run = []
        else:
            run.append(point)
    if run:
        runs.append(run)
    return runs


def chart(rows, shown_from, target, frame: Frame) -> dict:
    """The geometry of one chart for the days from `shown_from` on (earlier rows feed the average only).

    `rows` is ``daily`` output (oldest first); `target` a percent. Returns the viewBox, line pieces
    (``lines``: [[(x, y), …]]; a single point is a dot), ``average`` pieces, ``bars``, ``target_y``,
    ``dates`` (x, text) and the y labels; every number in SVG units.
    """
    average = moving_average(rows)
    shown = [(row, avg) for row, avg in zip(rows, average, strict=True) if row[0] >= shown_from]
    n = len(shown)
    step = frame.width / max(1, n)
    top_bars = frame.line_height + GAP
    most = max((row[2] for row, _ in shown), default=0) or 1

    def x(i):
        return round(frame.left + step * (i + 0.5), 1)

    def y(pct):
        return round(frame.line_height * (1 - pct / 100), 1)

    days = [row for row, _ in shown]
    line = [(x(i), y(100 * s / a)) if a else None for i, (_d, s, a) in enumerate(days)]
    avg = [(x(i), y(v)) if v is not None and row[2] else None for i, (row, v) in enumerate(shown)]
    bars = [{"x": round(x(i) - step * 0.35, 1), "w": round(step * 0.7, 1),
             "y": round(top_bars + frame.bar_height * (1 - a / most), 1),
             "h": round(frame.bar_height * a / most, 1), "count": a, "day": d}
            for i, (d, _s, a) in enumerate(days) if a]
    dates = [(x(i), d) for i, (d, _s, _a) in enumerate(days) if d.weekday() == 0]
    height = top_bars + frame.bar_height + frame.bottom
    return {"frame": frame, "view_box": f"0 -{frame.font} {frame.left + frame.width + 8} {height + frame.font}",
            "lines": _runs(line), "average": _runs(avg), "bars": bars, "target_y": y(target),
            "target": target, "dates": dates, "most": most, "bars_top": top_bars,
            "bars_bottom": top_bars + frame.bar_height, "right": frame.left + frame.width,
            "y_labels": [(y(v), v) for v in (0, 50, 100)]}


def charts_for(series, questions, target, shown_from) -> list:
    """[(question, wide chart, narrow chart, total)] for each rating question; total is
    {"satisfied", "answered", "pct"} over the days shown."""
    out = []
    for question in questions:
        rows = daily(series, question.key)
        shown = [r for r in rows if r[0] >= shown_from]
        satisfied, answered = sum(r[1] for r in shown), sum(r[2] for r in shown)
        total = {"satisfied": satisfied, "answered": answered,
                 "pct": round(100 * satisfied / answered, 2) if answered else None}
        out.append((question, chart(rows, shown_from, target, WIDE), chart(rows, shown_from, target, NARROW), total))
    return out


def svg(c: dict, label: str, number, answers: str) -> Markup:
    """One chart (``chart`` output) as an inline ``<svg>`` element: the y labels and grid, a date label per
    Monday, the bars (each titled with its day and `answers`, a text with ``%(n)s`` for the count), the
    target, the average and the daily line (dots on each day with answers). `label` names the chart for
    screen readers; `number` formats a count in the page's language. Written with f-strings, not the
    template engine: a 90-day page holds some 2,000 elements and this is most of its time."""
    f, out = c["frame"], []
    add = out.append
    add(f'<svg class="chart {"narrow" if f.vertical_dates else "wide"}" viewBox="{c["view_box"]}" role="img" '
        f'aria-label="{escape(label)}" font-size="{f.font}">')
    for y, v in c["y_labels"]:
        add(f'<line x1="{f.left}" y1="{y}" x2="{c["right"]}" y2="{y}" stroke="{"#8a96a3" if v == 0 else "#dde3e9"}"/>'
            f'<text x="{f.left - 6}" y="{round(y + f.font * 0.35, 1)}" text-anchor="end" fill="#3d4a57">'
            f'{escape(number(v))}%</text>')
    bottom = c["bars_bottom"]
    for x, d in c["dates"]:
        add(f'<line x1="{x}" y1="0" x2="{x}" y2="{bottom}" stroke="#eef1f4"/>')
        if f.vertical_dates:
            add(f'<text transform="translate({round(x + f.font * 0.35, 1)} {bottom + 6}) rotate(-90)" '
                f'text-anchor="end" fill="#1a1a1a">{d:%d/%m}</text>')
        else:
            add(f'<text x="{x}" y="{bottom + f.font + 6}" text-anchor="middle" fill="#1a1a1a">{d:%d/%m}</text>')
    for b in c["bars"]:
        add(f'<rect x="{b["x"]}" y="{b["y"]}" width="{b["w"]}" height="{b["h"]}" fill="#9db8d3"><title>'
            f'{b["day"]:%d/%m}: {escape(answers % {"n": number(b["count"])})}</title></rect>')
    add(f'<line x1="{f.left}" y1="{bottom}" x2="{c["right"]}" y2="{bottom}" stroke="#8a96a3"/>'
        f'<text x="{f.left - 6}" y="{round(c["bars_top"] + f.font * 0.7, 1)}" text-anchor="end" fill="#3d4a57">'
        f'{escape(number(c["most"]))}</text>'
        f'<line class="target" x1="{f.left}" y1="{c["target_y"]}" x2="{c["right"]}" y2="{c["target_y"]}" '
        f'stroke="#1b5e20" stroke-width="2" stroke-dasharray="8 5"/>')
    for run in c["average"]:
        if len(run) > 1:
            add(f'<polyline class="average" points="{_points(run)}" fill="none" stroke="#b45f06" stroke-width="3.5"/>')
    for run in c["lines"]:
        if len(run) > 1:
            add(f'<polyline class="daily" points="{_points(run)}" fill="none" stroke="#0b4f8a" stroke-width="1.5"/>')
        radius = 3 if len(run) > 1 else 4
        out.extend(f'<circle cx="{x}" cy="{y}" r="{radius}" fill="#0b4f8a"/>' for x, y in run)
    add("</svg>")
    return Markup("".join(out))


def _points(run) -> str:
    return " ".join(f"{x},{y}" for x, y in run)


def average_window_start(start):
    """The first day to read so the moving average of `start` has its full window."""
    return start - timedelta(days=MA_DAYS - 1)
