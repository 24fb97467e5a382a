"""German number, percentage, money and date formats for everything a user reads.

Built on babel's CLDR data for locale ``de_DE``, so thousands separators, decimal commas
and the euro sign follow the official conventions; the confidentiality mark is handled here
too, so every table shows a hidden cell the same way.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, format_percent

LOCALE = "de_DE"
#: What a cell hidden by the confidentiality rule shows (with a footnote in the report).
SUPPRESSED = "•"
#: What a value that cannot be computed shows.
MISSING = "–"


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(math.isnan(value))
    except TypeError:
        return False


def number(value: Any, digits: int = 0) -> str:
    """``12190000`` → ``12.190.000``; ``0.5, digits=1`` → ``0,5``."""
    if _is_missing(value):
        return MISSING
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(value, format=pattern, locale=LOCALE)


def percent(share: Any, digits: int = 1) -> str:
    """A share between 0 and 1 as German percent: ``0.2571`` → ``25,7 %``."""
    if _is_missing(share):
        return MISSING
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "") + " %"
    return format_percent(share, format=pattern, locale=LOCALE)


def percent_change(pct: Any, digits: int = 2) -> str:
    """A change already in percent points, with sign: ``7.0185`` → ``+7,02 %``."""
    if _is_missing(pct):
        return MISSING
    text = format_decimal(abs(pct), format="#,##0." + "0" * digits, locale=LOCALE)
    sign = "+" if pct > 0 else ("−" if pct < 0 else "±")
    return f"{sign}{text} %"


def euro(value: Any, digits: int = 0) -> str:
    """``12190000`` → ``12.190.000 €``."""
    if _is_missing(value):
        return MISSING
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "") + " ¤"
    return format_currency(value, "EUR", format=pattern, locale=LOCALE, currency_digits=False)


def day(value: date | datetime | None) -> str:
    """``2014-03-01`` → ``01.03.2014``."""
    if value is None:
        return MISSING
    return format_date(value, format="dd.MM.yyyy", locale=LOCALE)


def timestamp(value: datetime) -> str:
    """``2026-11-23T10:00`` → ``23.11.2026, 10:00 Uhr``."""
    return format_datetime(value, format="dd.MM.yyyy, HH:mm", locale=LOCALE) + " Uhr"


#: Named display formats shared by every table writer (report HTML, Excel, protected tables).
_KINDS = {
    "anzahl": number,
    # A whole number that counts no persons (e.g. sessions held): shown like a count,
    # but not subject to the minimum count.
    "zahl0": number,
    "anteil": percent,
    "zahl1": lambda v: number(v, 1),
    "zahl2": lambda v: number(v, 2),
    "euro": euro,
    "euro2": lambda v: euro(v, 2),
    "prozent": percent_change,
    "jahr": lambda v: str(int(v)),
}


def as_kind(value: Any, kind: str | None) -> str | None:
    """Format ``value`` by a named display format; ``None`` when ``kind`` names none."""
    render = _KINDS.get(kind) if kind else None
    if render is None:
        return None
    return MISSING if _is_missing(value) else render(value)


def bound(value: float | None) -> str:
    """A rule's bound in a German message: years, months and grades as plain digits."""
    if value is None:
        return "…"
    # Bounds are years, months and grades: plain digits read better than 2.000 here.
    return str(int(value)) if float(value).is_integer() else number(value, 2)
