"""Numbers on the staff pages in the page's language (Flask-Babel): Vietnamese comma decimals and dot
thousands, one decimal place for percentages and means, a sign on every change."""

from flask_babel import format_decimal, format_percent

DASH = "–"


def pct(value) -> str:
    """75.12 -> '75,1%' (vi) / '75.1%' (en); '–' for None."""
    return DASH if value is None else format_percent(value / 100, "#,##0.0%")


def number(value) -> str:
    """3511 -> '3.511' (vi) / '3,511' (en)."""
    return DASH if value is None else format_decimal(value, "#,##0")


def one_decimal(value) -> str:
    """A mean or a change in points: 3.511 -> '3,5'."""
    return DASH if value is None else format_decimal(value, "#,##0.0")


def signed(value, decimals=1) -> str:
    """A change with its sign: +1,8 / -26,7 / +45; '–' for None."""
    if value is None:
        return DASH
    pattern = "+#,##0.0;-#,##0.0" if decimals else "+#,##0;-#,##0"
    return format_decimal(value, pattern)


FILTERS = {"pct": pct, "number": number, "one_decimal": one_decimal, "signed": signed}


def register(app) -> None:
    for name, function in FILTERS.items():
        app.add_template_filter(function, name)
