"""Zeilen gegen den Datenvertrag prüfen: Typen, Kategorien, Bereiche, Schlüssel.

Vectorised (not pandera/frictionless: we need every German reason of a row with its source
line). Each file is checked on its own as soon as it is read (``check_file``): a column is
dictionary-encoded in Arrow, its few distinct texts are parsed and checked (and so every
row's values, row rules included), and kept are the distinct texts, their processed values
and each row's position in them. What needs all files of a table (duplicate keys, total
groups) runs once on the whole columns (``validate``), which returns the accepted rows in
the processed dtypes and the rejects with file, line, reasons and the original values.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis import formatting
from analysis.config import Config
from analysis.contract.safety import canonical_site_id, site_id_problem
from analysis.contract.schema import (
    CATEGORIES,
    DATE_FLOOR,
    GESAMT,
    JN_ALIASES,
    JN_CODES,
    Column,
    Table,
    fold_value,
)
from analysis.ingest.read import ENCODING_KIND, LINE_COL, Sheet, free_text, one_array


def parse_numbers(text: pd.Series) -> pd.Series:
    """German (``12.190.000,00``) or plain (``12190000.00``) numbers, optional ``€``.

    Each text is parsed once per process (``_number``): a column holds a few hundred
    different numbers, and pandas' text methods took milliseconds a column for what they
    set up. Anything that is not a text is no number.
    """
    values = [
        (_number(t) if len(t) <= _CACHED_CHARS else _number.__wrapped__(t))
        if isinstance(t, str)
        else np.nan
        for t in text.tolist()
    ]
    return pd.Series(np.array(values, dtype=np.float64), index=text.index)


# The rules pandas applied to these texts before (Python's regular expressions): blanks of
# every script are removed. A digit of another script (Arabic-Indic, full-width) matched
# ``\d`` there, but pandas' conversion reads ASCII digits only, so such a text was no number:
# here it matches no pattern.
_SPACES = re.compile(r"[\s\u00a0\u202f]")
_GERMAN = re.compile(r"[+-]?(?:[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+)(?:,[0-9]+)?")
_GROUPED = re.compile(r"[0-9]\.[0-9]{3}(?:\.|\Z)")
_PLAIN = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
#: Longer texts are parsed but not kept: a column of long texts would stay in memory.
_CACHED_CHARS = 40


@functools.lru_cache(maxsize=1 << 16)
def _number(text: str) -> float:
    """One text as a number: blanks (also no-break spaces) and a trailing ``€`` removed,
    then German (a decimal comma, or dots grouping thousands) or plain (a decimal point);
    anything else, and a number too large for a float (400 nines), is NaN."""
    t = _SPACES.sub("", text).removesuffix("€")
    if _GERMAN.fullmatch(t) and ("," in t or _GROUPED.search(t)):
        t = t.replace(".", "").replace(",", ".")
    elif not _PLAIN.fullmatch(t):
        return np.nan
    value = float(t)
    return value if math.isfinite(value) else np.nan


def _parse_dates_us(text: pd.Series) -> pd.Series:
    """Dates at microsecond resolution, which holds every four-digit year (ns ends in 2262).

    Each text of ASCII characters is parsed once per process (``_date``): a column holds a
    few hundred different dates, and the same ones come again in the next file and column;
    pandas took a few milliseconds a column for what it sets up. Other texts (digits of
    other scripts, say) are left to pandas, whose rules for them are its own.
    """
    texts = text.tolist()
    # no date is longer than ten characters: a longer text is not kept in the cache
    values = np.array(
        [_date(t) if isinstance(t, str) and len(t) <= 10 else _NAT for t in texts],
        dtype="datetime64[us]",
    )
    other = np.array([isinstance(t, str) and not t.isascii() for t in texts], dtype=bool)
    if other.any():
        values[other] = _dates_by_pandas(text[other]).to_numpy()
    return pd.Series(values, index=text.index)


def _dates_by_pandas(text: pd.Series) -> pd.Series:
    dmy = pd.to_datetime(text.where(text.str.fullmatch(_DMY)), format="%d.%m.%Y", errors="coerce")
    iso = pd.to_datetime(text.where(text.str.fullmatch(_ISO)), format="%Y-%m-%d", errors="coerce")
    return dmy.fillna(iso).astype("datetime64[us]")


_DMY = r"\d{1,2}\.\d{1,2}\.\d{4}"
_ISO = r"\d{4}-\d{2}-\d{2}"
_DATE = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})|[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NAT = np.datetime64("NaT", "us")


@functools.lru_cache(maxsize=1 << 16)
def _date(text: object) -> np.datetime64:
    """An ASCII ``TT.MM.JJJJ`` (day and month with one or two digits) or ``JJJJ-MM-TT`` as
    pandas reads it: a day the calendar does not have (31.02.) is NaT, and so is the year 0
    except in an ISO date (NumPy's reading, which has a year 0). Anything else is NaT."""
    match = _DATE.fullmatch(text) if isinstance(text, str) and text.isascii() else None
    if match is None:
        return _NAT
    d, m, y = match.group(1, 2, 3)
    try:
        if y is not None:
            return np.datetime64(date(int(y), int(m), int(d)), "us")
        return np.datetime64(text, "us")
    except ValueError:
        return _NAT


def parse_dates(text: pd.Series) -> pd.Series:
    """``TT.MM.JJJJ`` or ISO ``JJJJ-MM-TT``; anything else (or 31.02., or a year the
    processed format cannot hold, such as 1677 or 2999) is NaT."""
    values = _parse_dates_us(text)
    representable = values.between(pd.Timestamp.min, pd.Timestamp.max)
    return values.where(representable).astype("datetime64[ns]")


def _category_lookup(column: Column, config: Config | None) -> dict[str, str]:
    """Folded spelling -> code: codes, German labels, jn aliases and the installation's mapping."""
    if column.type == "jn":
        category = CATEGORIES["jn"]
        lookup = {fold_value(k): v for k, v in JN_ALIASES.items()}
    else:
        assert column.category is not None
        category = CATEGORIES[column.category]
        lookup = {}
    for code, label in category.labels.items():
        lookup.setdefault(fold_value(label), code)
        lookup[fold_value(code)] = code
    if config is not None:
        for key in dict.fromkeys((column.name, category.name)):
            lookup.update(config.label_mappings.get(key, {}))
    return lookup


# --------------------------------------------------------------------------- raw text


class RawText:
    """One column of one file as read, trimmed: its distinct texts and each row's position
    in them, or (for free text such as ``fall_id``, nearly all distinct) the texts whole.

    Parsers run on the distinct texts only, and a reject shows its row's original value.
    """

    __slots__ = ("codes", "texts")

    def __init__(self, texts: pa.Array, codes: np.ndarray | None = None) -> None:
        self.texts = texts  # pa.string(), trimmed
        self.codes = codes  # row -> position in texts (None: one text per row)

    @classmethod
    def encoded(cls, column: pa.Array) -> RawText:
        dictionary = column if pa.types.is_dictionary(column.type) else pc.dictionary_encode(column)
        texts = pc.utf8_trim_whitespace(dictionary.dictionary)
        codes = dictionary.indices.to_numpy(zero_copy_only=False)
        if len(texts) < 2**15:  # positions in two bytes a row instead of four
            codes = codes.astype(np.int16)
        return cls(texts, codes)

    @classmethod
    def whole(cls, column: pa.Array) -> RawText:
        if pa.types.is_dictionary(column.type):
            column = column.cast(pa.string())
        return cls(pc.utf8_trim_whitespace(column))

    @classmethod
    def blank(cls, n: int) -> RawText:
        """A contract column the file does not have: empty in every row."""
        return cls(pa.array([""], pa.string()), np.zeros(n, dtype=np.int8))

    def distinct(self) -> tuple[np.ndarray, pd.Series]:
        """Row positions and the distinct texts (for a whole column: one per row).

        The positions as NumPy's own index type: a column's checks pick with them several
        times, and picking with two-byte positions took twice as long."""
        whole = self.codes is None
        codes = np.arange(len(self.texts)) if whole else self.codes.astype(np.intp)
        return codes, self.texts.to_pandas(types_mapper=_STR.get)

    def empty(self) -> np.ndarray:
        blank = pc.equal(self.texts, "").to_numpy(zero_copy_only=False)
        return blank if self.codes is None else blank[self.codes]

    def pick(self, rows: np.ndarray) -> np.ndarray:
        """The texts of some rows, as Python strings."""
        where = rows if self.codes is None else self.codes[rows]
        return self.texts.take(pa.array(where, pa.int64())).to_numpy(zero_copy_only=False)


_STR = {pa.string(): pd.StringDtype("pyarrow", na_value=np.nan)}


# --------------------------------------------------------------------------- reasons


#: A value quoted in a reason is cut to this length (the rejects file keeps it whole).
_SHOWN_CHARS = 100


class _Reasons:
    """Collects, per check, which rows fail and a German reason (with the value) for each.

    Reason texts are built only for the failing rows, so a clean million-row table costs
    one boolean mask per check and nothing more. Rows are numbered from ``offset`` (the
    file's first row in its table) in the texts, from 0 in ``bad``.
    """

    def __init__(self, n: int) -> None:
        self.offset = 0  # set when the file's place in its table is known
        self.bad = np.zeros(n, dtype=bool)
        self.parts: list[pd.Series] = []
        self.counts: Counter[str] = Counter()
        self.checks: list[str] = []  # every kind in the order checked, found or not

    def add(
        self,
        mask: pd.Series | np.ndarray,
        kind: str,
        prefix: str,
        value: pd.Series | np.ndarray | RawText | None = None,
        suffix: str = "",
        quote: bool = True,
        *,
        codes: np.ndarray | None = None,
    ) -> None:
        """Record the rows ``mask`` marks. With ``codes``, ``mask`` (and a ``value`` given as
        an array) are per distinct text and reach the rows only when some text fails: most
        checks find nothing, and then cost no mask as long as the file."""
        self.checks.append(kind)
        if codes is not None:
            if not np.any(mask):
                return
            mask = np.asarray(mask, dtype=bool)[codes]
            if isinstance(value, np.ndarray):
                value = value[codes]
        m = np.asarray(mask, dtype=bool)
        hits = int(m.sum())
        if not hits:
            return
        self.bad |= m
        self.counts[kind] += hits
        idx = np.flatnonzero(m)
        where = idx + self.offset
        if value is None:
            part = pd.Series(prefix, index=where, dtype=object)
        else:
            # Only the failing rows become Python objects, not the whole column.
            if isinstance(value, RawText):
                picked = value.pick(idx)
            elif isinstance(value, pd.Series):
                picked = value.iloc[idx]
            else:
                picked = np.asarray(value)[idx]
            shown = pd.Series(np.asarray(picked, dtype=object), index=where, dtype=object)
            shown = shown.fillna("").astype(str)
            if quote:  # a raw value (our own texts come unquoted): cut a blob short
                long = shown.str.len() > _SHOWN_CHARS
                if long.any():
                    shown = shown.where(~long, shown.str.slice(0, _SHOWN_CHARS - 1) + "…")
                shown = "„" + shown + "“"
            part = prefix + shown + suffix
        self.parts.append(part)

    def moved(self, offset: int) -> None:
        """Number the rows from ``offset``: the file's first row in its table."""
        self.parts = [p.set_axis(p.index + (offset - self.offset)) for p in self.parts]
        self.offset = offset

    def joined(self, *earlier: _Reasons) -> pd.Series:
        """Every failing row's reasons joined with "; " (those of ``earlier`` first)."""
        parts = [p for r in (*earlier, self) for p in r.parts]
        if not parts:
            return pd.Series([], dtype=object)
        return pd.concat(parts).groupby(level=0, sort=True).agg("; ".join)


# --------------------------------------------------------------------------- one file


@dataclass
class Part:
    """One file of a table after the checks that need only its own rows.

    No value is kept per row: a row's processed value is the value of its distinct text
    (``values``, spread by ``_rows`` once the table is finished), except for free text,
    which is kept whole.
    """

    sheet: Sheet  # report, unsplittable rows; its text frame is dropped once checked
    lines: np.ndarray  # line of each row in the file
    raw: dict[str, RawText]  # the original (trimmed) text of each contract column
    values: dict[str, _Distinct]  # per contract column, see _validate_column
    reasons: _Reasons

    def __len__(self) -> int:
        return len(self.lines)


#: What a column's distinct texts become: NumPy values (numbers as float64 with NaN, dates
#: as datetime64[ns] with NaT, categories as positions with -1), texts (None: missing), or
#: for free text the column itself (an Arrow string array with nulls).
_Distinct = np.ndarray | list[str | None] | pa.Array


def _validate_column(
    col: Column,
    raw: RawText,
    reasons: _Reasons,
    config: Config | None,
    today: date,
) -> _Distinct:
    """Parse one column's distinct texts to their processed values and record every row
    that breaks a rule (with its value)."""
    must = col.required or col.not_null
    if col.type == "str" and raw.codes is None:
        empty = raw.empty()
        if must:
            reasons.add(
                empty, f"{col.name}: Pflichtangabe fehlt", f"{col.name}: Pflichtangabe fehlt"
            )
        if not empty.any():
            return raw.texts
        return pc.if_else(pa.array(empty), pa.scalar(None, pa.string()), raw.texts)
    codes, uniq = raw.distinct()
    uniq_empty = (uniq == "").to_numpy()
    if must:
        reasons.add(
            uniq_empty,
            f"{col.name}: Pflichtangabe fehlt",
            f"{col.name}: Pflichtangabe fehlt",
            codes=codes,
        )
    if col.type == "str" and col.site_id:
        # The id becomes a folder and URL part: stored in its canonical form, or rejected.
        problems = [site_id_problem(v) if v else None for v in uniq.tolist()]
        reasons.add(
            np.array([p is not None for p in problems], dtype=bool),
            f"{col.name}: keine gültige Standortkennung",
            f"{col.name}: ",
            np.array([p or "" for p in problems], dtype=object),
            quote=False,
            codes=codes,
        )
        return [canonical_site_id(v) if v else None for v in uniq.tolist()]
    if col.type == "str":  # a site reference: replaced by the site once the sites are known
        return [None if e else v for v, e in zip(uniq.tolist(), uniq_empty, strict=True)]
    if col.type in ("int", "float"):
        values = parse_numbers(uniq)
        invalid = values.isna().to_numpy() & ~uniq_empty
        if col.type == "int":
            frac = (values % 1 != 0).to_numpy() & ~invalid & ~uniq_empty
            huge = (values.abs() > 2**53).to_numpy() & ~uniq_empty
            invalid |= frac | huge
            reasons.add(
                invalid,
                f"{col.name}: keine ganze Zahl",
                f"{col.name}: ",
                raw,
                " ist keine ganze Zahl",
                codes=codes,
            )
        else:
            reasons.add(
                invalid,
                f"{col.name}: keine Zahl",
                f"{col.name}: ",
                raw,
                " ist keine Zahl",
                codes=codes,
            )
        lower = col.lower
        upper = float(today.year) if col.max_is_current_year else col.max
        n = len(values)
        out_low = (values < lower).to_numpy() if lower is not None else np.zeros(n, bool)
        out_high = (values > upper).to_numpy() if upper is not None else np.zeros(n, bool)
        out = (out_low | out_high) & ~invalid
        span = (
            f"{formatting.bound(lower)} bis {formatting.bound(upper)}"
            if upper is not None
            else f"mindestens {formatting.bound(lower)}"
        )
        reasons.add(
            out,
            f"{col.name}: außerhalb des zulässigen Bereichs",
            f"{col.name}: ",
            raw,
            f" liegt außerhalb des zulässigen Bereichs ({span})",
            codes=codes,
        )
        return values.mask(invalid | out).to_numpy(dtype="float64")
    if col.type == "date":
        values = _parse_dates_us(uniq)
        invalid = values.isna().to_numpy() & ~uniq_empty
        reasons.add(
            invalid,
            f"{col.name}: kein gültiges Datum",
            f"{col.name}: ",
            raw,
            " ist kein gültiges Datum (TT.MM.JJJJ oder JJJJ-MM-TT)",
            codes=codes,
        )
        # Every date lies between the plausible floor and today: a typo such as 01.01.1900
        # would otherwise stretch the report plan back by a century, 2999 is no date at all.
        floor = config.date_floor if config is not None else DATE_FLOOR
        future = (values > pd.Timestamp(today)).to_numpy()
        early = (values < pd.Timestamp(floor)).to_numpy()
        reasons.add(
            future,
            f"{col.name}: Datum liegt in der Zukunft",
            f"{col.name}: ",
            raw,
            " liegt in der Zukunft",
            codes=codes,
        )
        reasons.add(
            early,
            f"{col.name}: Datum vor dem {formatting.day(floor)}",
            f"{col.name}: ",
            raw,
            f" liegt vor dem {formatting.day(floor)} (frühestes plausibles Datum, "
            "einstellbar in fh-analytik.toml: [aufbereitung] fruehestes_datum)",
            codes=codes,
        )
        return values.mask(future | early).to_numpy(dtype="datetime64[ns]")
    # cat / jn: map the distinct spellings to category positions
    lookup = _category_lookup(col, config)
    names = _category_names(col)
    position = {code: i for i, code in enumerate(names)}
    uniq_pos = np.array(
        [position.get(lookup.get(fold_value(v), ""), -1) for v in uniq.tolist()], dtype=np.int16
    )
    invalid = (uniq_pos < 0) & ~uniq_empty
    reasons.add(
        invalid,
        f"{col.name}: unbekannter Wert",
        f"{col.name}: ",
        raw,
        " ist kein bekannter Wert (Code oder Bezeichnung der Liste)",
        codes=codes,
    )
    filler = position["unbekannt"] if "unbekannt" in position and not must else -1
    return np.where(uniq_empty, filler, uniq_pos).astype(np.int16)


def _rows(raw: RawText, values: _Distinct) -> np.ndarray | pa.Array:
    """Each row's processed value: the value of its distinct text."""
    if raw.codes is None:
        return values
    if isinstance(values, list):
        return _spread(raw.codes, values)
    return values[raw.codes]


def _spread(codes: np.ndarray, texts: list[str | None]) -> pa.DictionaryArray:
    """Each row's text, kept as positions into the distinct texts until the rows are chosen."""
    missing = np.array([t is None for t in texts], dtype=bool)
    indices = pa.array(
        codes.astype(np.int32, copy=False), mask=missing[codes] if len(texts) else None
    )
    # a missing text is a missing row (a null in the dictionary could not be unified later)
    return pa.DictionaryArray.from_arrays(indices, pa.array([t or "" for t in texts], pa.string()))


def _category_names(col: Column) -> tuple[str, ...]:
    return tuple(JN_CODES) if col.type == "jn" else CATEGORIES[col.category or ""].codes


def _site_lookup(sites: pd.Series) -> dict[str, str]:
    """Spelling in another table -> accepted ``standort_id`` (folded as the id rule folds)."""
    return {canonical_site_id(site): site for site in sites.dropna().astype(str)}


def check_file(
    table: Table,
    sheet: Sheet,
    *,
    sites: pd.Series | None,
    config: Config | None,
    today: date,
) -> Part:
    """The checks of one file's rows that need no other file (and no other file's rows)."""
    frame = sheet.frame
    n = frame.num_rows
    reasons = _Reasons(n)
    if sheet.encoding_rows is not None:  # lines not valid in their file's encoding
        reasons.add(sheet.encoding_rows, ENCODING_KIND, sheet.encoding_reason)
    whole = free_text(table)
    present = set(frame.column_names)
    raw: dict[str, RawText] = {}
    values: dict[str, _Distinct] = {}
    for col in table.columns:
        if col.name not in present:
            raw[col.name] = RawText.blank(n)
        else:
            column = one_array(frame.column(col.name))
            raw[col.name] = RawText.whole(column) if col.name in whole else RawText.encoded(column)
        values[col.name] = _validate_column(col, raw[col.name], reasons, config, today)

    site_map = _site_lookup(sites) if sites is not None else {}
    references = []
    if table.site_column and sites is not None:
        references.append((table.site_column, site_map, False))
    if table.area_column and sites is not None:
        references.append((table.area_column, {**site_map, GESAMT: GESAMT}, True))
    for c, known, area in references:
        codes, uniq = raw[c].distinct()
        canon_u = [known.get(canonical_site_id(v)) if v else "" for v in uniq.tolist()]
        unknown = np.array([v is None for v in canon_u], dtype=bool)
        if area:
            kind, text = (
                f"{c}: weder Standort noch gesamt",
                " ist weder ein Standort aus standorte noch „gesamt“",
            )
        else:
            kind, text = (
                f"{c}: Standort unbekannt",
                " gibt es in der Tabelle standorte nicht (oder die Zeile wurde dort abgelehnt)",
            )
        prefix = f"{c}: " if area else f"{c}: Standort unbekannt – "
        reasons.add(unknown, kind, prefix, raw[c], text, codes=codes)
        # e.g. `Gesamt` -> `gesamt`, `Rheindorf` -> `rheindorf`: store the canonical id
        values[c] = [v if v else None for v in canon_u]

    for rule in table.row_rules:
        # NaN and NaT compare as False: a missing date breaks no rule
        left = _rows(raw[rule.left], values[rule.left])
        right = _rows(raw[rule.right], values[rule.right])
        reasons.add(left > right, rule.reason, rule.reason)
    lines = frame.column(LINE_COL).to_numpy()
    sheet.frame = frame.select([])  # the text is no longer needed: keep the memory free
    return Part(sheet, lines, raw, values, reasons)


# --------------------------------------------------------------------------- whole table

#: A column of all files: text as Arrow, every other type as NumPy (see _validate_column).
_Values = np.ndarray | pa.ChunkedArray


def _concat(col: Column, pieces: list[np.ndarray | pa.Array]) -> _Values:
    if col.type == "str":  # each file's texts (as positions into its distinct texts, or whole)
        kind = pieces[0].type if pieces else pa.string()
        if any(p.type != kind for p in pieces):
            pieces = [p.cast(pa.string()) for p in pieces]
            kind = pa.string()
        return pa.chunked_array(pieces, kind)
    if not pieces:
        kind = {"cat": np.int16, "jn": np.int16, "date": "datetime64[ns]"}.get(col.type, np.float64)
        return np.zeros(0, dtype=kind)
    return np.concatenate(pieces)


def _column_series(col: Column, values: _Values, keep: np.ndarray | None = None) -> pd.Series:
    """A column in its processed dtype, of the rows ``keep`` chooses (None: all)."""
    if col.type == "str":
        text = values if keep is None else pc.filter(values, pa.array(keep))
        if pa.types.is_dictionary(text.type):
            text = text.cast(pa.string())
        return pd.Series(pd.array(text, dtype=pd.StringDtype()))
    if keep is not None:
        values = values[keep]
    if col.type in ("cat", "jn"):
        dtype = pd.CategoricalDtype(list(_category_names(col)))
        return pd.Series(pd.Categorical.from_codes(values, dtype=dtype))
    if col.type == "int":
        return pd.Series(values).round().astype("Int64")
    return pd.Series(values)


def _key_codes(values: _Values) -> np.ndarray:
    """The same integer for the same value, -1 for a missing one."""
    if isinstance(values, pa.ChunkedArray):
        if pa.types.is_dictionary(values.type):
            # Each file's few texts numbered across all files. A file's dictionary can hold
            # a text twice (` a` and `A` both become the site `a`), so number the texts, not
            # the dictionary entries.
            number: dict[str, int] = {}
            pieces = [np.zeros(0, dtype=np.int64)]
            for chunk in values.chunks:
                texts = chunk.dictionary.to_pylist()
                local = np.array([number.setdefault(t, len(number)) for t in texts], np.int64)
                rows = pc.fill_null(chunk.indices, -1).to_numpy().astype(np.int64)
                if len(local):
                    rows = np.where(rows >= 0, local[np.maximum(rows, 0)], -1)
                pieces.append(rows)
            return np.concatenate(pieces)
        encoded = pc.dictionary_encode(values.combine_chunks())
        return pc.fill_null(encoded.indices, -1).to_numpy()
    if values.dtype.kind == "i":  # category positions
        return values.astype(np.int64)
    return pd.factorize(values)[0]


def _one_code(codes: list[np.ndarray]) -> np.ndarray:
    """One integer per combination of the key columns' codes (all >= 0)."""
    key = codes[0].astype(np.int64)
    for c in codes[1:]:
        width = int(c.max()) + 1 if len(c) else 1
        if len(key) and int(key.max()) >= (2**62) // width:  # would overflow: number the pairs
            key = pd.factorize(pd.MultiIndex.from_arrays([key, c]))[0]
            continue
        key = key * width + c
    return key


@dataclass
class _Checked:
    accepted: pd.DataFrame  # processed dtypes, schema order
    rejects: pd.DataFrame  # datei, zeile, gruende, raw values, _ordnung
    reason_counts: Counter[str]


def validate(table: Table, parts: list[Part], files: list[str]) -> _Checked:
    """Finish a table: concatenate its files' checked rows and run the checks across files.

    ``parts`` are the files in order (``check_file``), ``files`` their names.
    """
    sizes = [len(p) for p in parts]
    n = sum(sizes)
    for p, start in zip(parts, np.cumsum([0, *sizes[:-1]]).tolist(), strict=True):
        p.reasons.moved(start)
    order = np.repeat(np.arange(len(parts), dtype=np.int32), sizes)
    lines = np.concatenate([p.lines for p in parts]) if parts else np.zeros(0, np.int64)
    # Column by column, each file's values given up as soon as they are in the whole column.
    typed = {
        c.name: _concat(c, [_rows(p.raw[c.name], p.values.pop(c.name)) for p in parts])
        for c in table.columns
    }
    columns = {col.name: col for col in table.columns}
    reasons = _Reasons(n)
    reasons.bad = np.concatenate([p.reasons.bad for p in parts]) if parts else reasons.bad

    if table.key:
        _check_key(table, typed, reasons, order, lines, files)

    if table.total_column:
        c = table.total_column
        group = [k for k in table.key if k != c]
        frame = pd.DataFrame({k: _column_series(columns[k], typed[k]) for k in [*group, c]})
        usable = frame.notna().all(axis=1).to_numpy()
        sub = frame[usable]
        is_total = sub[c].astype(object) == GESAMT
        by = [sub[k] for k in group]
        both_sub = (is_total.groupby(by, observed=True).transform("any")) & (
            (~is_total).groupby(by, observed=True).transform("any")
        )
        both = np.zeros(n, dtype=bool)
        both[np.flatnonzero(usable)] = both_sub.to_numpy(dtype=bool)
        label = " und ".join(group)
        reasons.add(
            both,
            f"{label} sowohl als {GESAMT} als auch nach {c} angegeben",
            f"{label} ",
            frame[group[0]].astype(object),
            f" ist sowohl als „{GESAMT}“ als auch nach {c} aufgeteilt angegeben – alle Zeilen "
            "dieser Gruppe abgelehnt, sonst würde doppelt gezählt",
            quote=False,
        )

    # Counted in the order of the checks, as one pass over the whole table would: the
    # summary names equally frequent reasons in that order.
    every = [*(p.reasons for p in parts), reasons]
    counts: Counter[str] = Counter()
    for kind in dict.fromkeys(k for r in every for k in r.checks):
        total = sum(r.counts[kind] for r in every)
        if total:
            counts[kind] = total
    keep = ~reasons.bad if reasons.bad.any() else None
    accepted = pd.DataFrame(
        {name: _column_series(columns[name], typed.pop(name), keep) for name in list(typed)}
    )
    return _Checked(accepted, _rejects(table, parts, reasons, order, lines, files), counts)


def _check_key(
    table: Table,
    typed: dict[str, _Values],
    reasons: _Reasons,
    order: np.ndarray,
    lines: np.ndarray,
    files: list[str],
) -> None:
    """Reject every later row of a key that an earlier row (file name order) already has."""
    n = len(order)
    codes = [_key_codes(typed[k]) for k in table.key]
    usable = np.ones(n, dtype=bool)
    for c in codes:
        usable &= c >= 0
    rows = np.flatnonzero(usable)
    key = _one_code([c[usable] for c in codes])
    if len(key) and int(key.max()) < _counting_table(len(key)):
        # Small numbers (sites times case numbers per site): counted in a table, only the
        # rows whose key comes more than once are looked at further, in their order.
        twice = np.bincount(key)[key] > 1
        rows, key = rows[twice], key[twice]
    # One pass over the keys: a number for each distinct key, in order of first appearance.
    number, distinct = pd.factorize(key)
    if len(distinct) == len(rows):  # the usual case: every key once
        return
    first_of = np.full(len(distinct), len(rows), dtype=np.int64)
    np.minimum.at(first_of, number, np.arange(len(rows)))
    first_sub = first_of[number]  # the first row (among usable rows) of each row's key
    later = first_sub != np.arange(len(rows))
    dup = np.zeros(n, dtype=bool)
    dup[rows[later]] = True
    first_pos = np.zeros(n, dtype=np.int64)
    first_pos[rows] = rows[first_sub]
    where = np.full(n, "", dtype=object)
    hit = np.flatnonzero(dup)
    where[hit] = [
        f"zuerst in {files[order[i]]}, Zeile {lines[i]}" for i in first_pos[hit]
    ]  # only the (few) duplicate rows
    label = ", ".join(table.key)
    reasons.add(
        dup,
        f"Doppelter Schlüssel ({label})",
        f"Doppelter Schlüssel ({label}) – ",
        where,
        quote=False,
    )


def _counting_table(n: int) -> int:
    """Keys below this are counted in a table of that many places (``_check_key``)."""
    return max(4 * n, 1 << 16)


def _rejects(
    table: Table,
    parts: list[Part],
    reasons: _Reasons,
    order: np.ndarray,
    lines: np.ndarray,
    files: list[str],
) -> pd.DataFrame:
    """File, line, reasons and the original values of the contract's columns of every
    rejected row; a column outside the contract (a free-text remark, say) is never copied
    anywhere, the rejects file included."""
    rows = np.flatnonzero(reasons.bad)
    names = pd.Categorical.from_codes(order[rows], categories=files) if files else []
    frame = pd.DataFrame(
        {
            "datei": pd.Series(np.asarray(names, dtype=object), dtype=object).astype(str),
            "zeile": lines[rows].astype("int64"),
            "gruende": reasons.joined(*(p.reasons for p in parts)).reindex(rows).to_numpy(),
        }
    )
    start = 0
    values: dict[str, list[np.ndarray]] = {c: [] for c in table.column_names}
    for p in parts:
        local = rows[(rows >= start) & (rows < start + len(p))] - start
        for c in table.column_names:
            values[c].append(p.raw[c].pick(local))
        start += len(p)
    for c in table.column_names:
        frame[c] = np.concatenate(values[c]) if values[c] else np.zeros(0, dtype=object)
    frame["_ordnung"] = order[rows]
    return frame
