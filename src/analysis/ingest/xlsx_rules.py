"""openpyxl's rules for an XLSX file's values, without importing openpyxl.

Importing openpyxl costs a tenth of a second of CPU per process (its package loads charts,
drawings, writers and PIL), while reading a sheet's values needs only the few small rules
below: which number formats are dates or durations, an Excel serial number as a date, an
ISO date, a number's text as int or float, a cell coordinate's column. They are copied
from openpyxl 3.1.5 (MIT licence, © 2010-2024 openpyxl), the library the tests compare
the reader with, so that a file reads exactly as it did through openpyxl; each names
where it comes from.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

# --------------------------------------------------------------------------- number formats

#: Excel's built-in number formats by id (``styles/numbers.py``, BUILTIN_FORMATS): a cell
#: style names one of these by id, or a format of the file's own (id 164 on).
BUILTIN_FORMATS = {
    0: "General",
    1: "0",
    2: "0.00",
    3: "#,##0",
    4: "#,##0.00",
    5: '"$"#,##0_);("$"#,##0)',
    6: '"$"#,##0_);[Red]("$"#,##0)',
    7: '"$"#,##0.00_);("$"#,##0.00)',
    8: '"$"#,##0.00_);[Red]("$"#,##0.00)',
    9: "0%",
    10: "0.00%",
    11: "0.00E+00",
    12: "# ?/?",
    13: "# ??/??",
    14: "mm-dd-yy",
    15: "d-mmm-yy",
    16: "d-mmm",
    17: "mmm-yy",
    18: "h:mm AM/PM",
    19: "h:mm:ss AM/PM",
    20: "h:mm",
    21: "h:mm:ss",
    22: "m/d/yy h:mm",
    37: "#,##0_);(#,##0)",
    38: "#,##0_);[Red](#,##0)",
    39: "#,##0.00_);(#,##0.00)",
    40: "#,##0.00_);[Red](#,##0.00)",
    41: r'_(* #,##0_);_(* \(#,##0\);_(* "-"_);_(@_)',
    42: r'_("$"* #,##0_);_("$"* \(#,##0\);_("$"* "-"_);_(@_)',
    43: r'_(* #,##0.00_);_(* \(#,##0.00\);_(* "-"??_);_(@_)',
    44: r'_("$"* #,##0.00_)_("$"* \(#,##0.00\)_("$"* "-"??_)_(@_)',
    45: "mm:ss",
    46: "[h]:mm:ss",
    47: "mmss.0",
    48: "##0.0E+0",
    49: "@",
}

# What a format's first section may hold besides date letters: quoted text and anything in
# square brackets (a colour, a locale) except [h], [mm], [ss] (STRIP_RE, TIMEDELTA_RE).
_STRIP = re.compile(r'".*?"|\[(?!hh?\]|mm?\]|ss?\])[^\]]*\]')
_DATE_LETTER = re.compile(r"(?<![_\\])[dmhysDMHYS]")
_TIMEDELTA = re.compile(r"\[hh?\](:mm(:ss(\.0*)?)?)?|\[mm?\](:ss(\.0*)?)?|\[ss?\](\.0*)?", re.I)


def is_date_format(fmt: str | None) -> bool:
    """A number format shows a date or time: a date letter in its first section, outside
    quotes and brackets, not escaped (``is_date_format``)."""
    if fmt is None:
        return False
    fmt = _STRIP.sub("", fmt.split(";")[0])
    return _DATE_LETTER.search(fmt) is not None


def is_timedelta_format(fmt: str | None) -> bool:
    """A number format shows a duration: [h], [m] or [s] in its first section
    (``is_timedelta_format``)."""
    if fmt is None:
        return False
    return _TIMEDELTA.search(fmt.split(";")[0]) is not None


# --------------------------------------------------------------------------- values

#: The day before serial 1 (Excel counts 29 February 1900, which never was) and 1904's.
WINDOWS_EPOCH = datetime.datetime(1899, 12, 30)
MAC_EPOCH = datetime.datetime(1904, 1, 1)
_SECS_PER_DAY = 86400


def from_excel(
    value: float, epoch: datetime.datetime = WINDOWS_EPOCH, timedelta: bool = False
) -> datetime.datetime | datetime.time | datetime.timedelta:
    """An Excel serial number as a date and time (``utils/datetime.py``, from_excel).

    The fraction of a day is rounded to milliseconds; a serial below 1 is a time of day; a
    duration format gives a timedelta. Serials 1–59 (in 1900's calendar) count one day
    more, because Excel's day 60 is the 29 February 1900 that never was."""
    if timedelta:
        td = datetime.timedelta(days=value)
        if td.microseconds:
            td = datetime.timedelta(
                seconds=td.total_seconds() // 1, microseconds=round(td.microseconds, -3)
            )
        return td
    day, fraction = divmod(value, 1)
    diff = datetime.timedelta(milliseconds=round(fraction * _SECS_PER_DAY * 1000))
    if 0 <= value < 1 and diff.days == 0:
        minutes, seconds = divmod(diff.seconds, 60)
        hours, minutes = divmod(minutes, 60)
        return datetime.time(hours, minutes, seconds, diff.microseconds)
    if 0 < value < 60 and epoch == WINDOWS_EPOCH:
        day += 1
    return epoch + datetime.timedelta(days=day) + diff


_ISO = re.compile(
    r"(?P<date>(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2}))?T?"
    r"(?P<time>(?P<hour>\d{2}):(?P<minute>\d{2})(:(?P<second>\d{2})"
    r"(?P<microsecond>\.\d{1,3})?)?)?Z?"
)
_ISO_DURATION = re.compile(
    r"PT((?P<hours>\d+)H)?((?P<minutes>\d+)M)?((?P<seconds>\d+(\.\d{1,3})?)S)?"
)


def from_ISO8601(text: str) -> Any:
    """A cell of type d: an ISO date, time, date and time, or duration
    (``utils/datetime.py``, from_ISO8601)."""
    if not text:
        return None
    match = _ISO.match(text)
    if match and any(match.groups()):
        parts: dict[str, Any] = match.groupdict(0)
        for key in ["year", "month", "day", "hour", "minute", "second"]:
            if parts[key]:
                parts[key] = int(parts[key])
        if parts["microsecond"]:
            parts["microsecond"] = int(float(parts["microsecond"]) * 1_000_000)
        if not parts["date"]:
            return datetime.time(
                parts["hour"], parts["minute"], parts["second"], parts["microsecond"]
            )
        if not parts["time"]:
            return datetime.date(parts["year"], parts["month"], parts["day"])
        del parts["time"]
        del parts["date"]
        return datetime.datetime(**parts)
    match = _ISO_DURATION.match(text)
    if match and any(match.groups()):
        parts = match.groupdict(0)
        for key, val in parts.items():
            if val:
                parts[key] = float(val)
        return datetime.timedelta(**parts)
    raise ValueError(f"Invalid datetime value {text}")


def cast_number(value: str) -> int | float:
    """A number's text as int, or as float if it has a point or an exponent
    (``worksheet/_reader.py``, _cast_number)."""
    if "." in value or "E" in value or "e" in value:
        return float(value)
    return int(value)


# --------------------------------------------------------------------------- coordinates

_LETTER_VALUES = {letter: pos for pos, letter in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 1)}


def column_index(letters: str) -> int:
    """A column's number from its letters, A to ZZZ in either case
    (``utils/cell.py``, column_index_from_string)."""
    error = f"'{letters}' is not a valid column name. Column names are from A to ZZZ"
    if len(letters) > 3:
        raise ValueError(error)
    index = 0
    # upper() may lengthen a name ("ß" -> "SS"): only its last three letters count
    for letter, power in zip(reversed(letters.upper()), (1, 26, 676), strict=False):
        try:
            index += _LETTER_VALUES[letter] * power
        except KeyError:
            raise ValueError(error) from None
    if not 0 < index < 18279:
        raise ValueError(error)
    return index


def coordinate_to_tuple(coordinate: str) -> tuple[int, int]:
    """(row, column) of a non-empty coordinate like B12: the letters before its first
    digit are the column, the rest the row (``utils/cell.py``, coordinate_to_tuple;
    without a digit, the last character is taken as the row)."""
    for idx, c in enumerate(coordinate):  # noqa: B007 (idx used after the loop)
        if c in "0123456789":
            break
    return int(coordinate[idx:]), column_index(coordinate[:idx])
