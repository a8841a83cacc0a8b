"""Numbers on the staff pages in the page's language (Babel, with Flask-Babel's locale): Vietnamese comma
decimals and dot thousands, one decimal place for percentages and means, a sign on every change.

Patterns are parsed once (``babel.numbers.parse_pattern``) and applied in the request's locale: the same
result as ``flask_babel.format_decimal`` at a fraction of its cost on a page of a few hundred numbers.
"""

from functools import lru_cache

from babel.numbers import parse_pattern
from flask_babel import get_locale

DASH = "–"


@lru_cache(maxsize=16)
def pattern(text):
    """Babel's parsed number pattern for `text` (e.g. ``#,##0.0``), parsed once."""
    return parse_pattern(text)


def _format(value, text: str) -> str:
    return pattern(text).apply(value, get_locale())


def pct(value) -> str:
    """75.12 (a percentage) -> '75,1%' (vi) / '75.1%' (en); '–' for None."""
    return DASH if value is None else _format(value / 100, "#,##0.0%")


def number(value) -> str:
    """3511 -> '3.511' (vi) / '3,511' (en); '–' for None."""
    return DASH if value is None else _format(value, "#,##0")


def one_decimal(value) -> str:
    """A mean or a change in points: 3.511 -> '3,5' (vi); '–' for None."""
    return DASH if value is None else _format(value, "#,##0.0")


def signed(value, decimals=1) -> str:
    """A change with its sign: +1,8 / -26,7 / +45; '–' for None."""
    if value is None:
        return DASH
    return _format(value, "+#,##0.0;-#,##0.0" if decimals else "+#,##0;-#,##0")


FILTERS = {"pct": pct, "number": number, "one_decimal": one_decimal, "signed": signed}


def register(app) -> None:
    for name, function in FILTERS.items():
        app.add_template_filter(function, name)
