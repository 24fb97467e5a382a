"""Rohdaten einlesen, gegen den Datenvertrag prüfen und als typisierte Parquet-Dateien ablegen.

Reads CSV dialects and XLSX, checks every row against ``schema.TABLES`` with vectorised pandas
(not pandera/frictionless: we need all German reasons of a row with its source line) and
writes Parquet, the rejected rows and a manifest, replacing the target folder atomically.
"""

from __future__ import annotations

import csv
import ctypes
import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from analysis import __version__, formatting
from analysis.config import Config
from analysis.errors import FhError
from analysis.schema import (
    CATEGORIES,
    GESAMT,
    JN_ALIASES,
    JN_CODES,
    PERSONAL_DATA_COLUMNS,
    PERSONAL_NAME_COLUMN,
    TABLE_ORDER,
    TABLES,
    Column,
    Table,
    fold_name,
    fold_value,
)

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
# Spreadsheet formats that clearly belong to a table but cannot be read: refused, not ignored.
REFUSED_SUFFIXES = (".xls", ".ods", ".numbers")
#: Delimiters tried in this order; the first one that yields a header wins.
DELIMITERS = (";", "\t", ",")
HEADER_WINDOW = 10
REJECTS_FOLDER = "abgelehnt"
MANIFEST = "manifest.json"
# Files in a target folder that are not ours but belong there (kept across replacements).
_KEEP_IN_TARGET = ("README.md", ".gitkeep", ".gitignore")
_LINE_COL = "_zeile"
_FILE_COL = "_datei"

_GERMAN_NUMBER = r"[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?"
_PLAIN_NUMBER = r"[+-]?\d+(?:\.\d+)?"
_DMY = r"\d{1,2}\.\d{1,2}\.\d{4}"
_ISO = r"\d{4}-\d{2}-\d{2}"


# --------------------------------------------------------------------------- results


@dataclass
class FileReport:
    """What was read from one raw file."""

    name: str
    sha256: str
    rows: int = 0  # data rows read (blank lines are not rows)
    header_line: int = 1
    skipped_rows: list[str] = field(default_factory=list)  # title rows above the header
    unknown_columns: list[str] = field(default_factory=list)
    encoding: str = ""
    delimiter: str = ""
    sheet: str = ""


@dataclass
class TableReport:
    """Reconciliation of one table: read = accepted + rejected."""

    name: str
    present: bool
    files: list[FileReport] = field(default_factory=list)
    read: int = 0
    accepted: int = 0
    rejected: int = 0
    reason_counts: Counter[str] = field(default_factory=Counter)
    parquet_sha256: str | None = None

    @property
    def rejects_file(self) -> str | None:
        return f"{REJECTS_FOLDER}/{self.name}.csv" if self.present else None


@dataclass
class IngestResult:
    """What one `aufbereiten` run read, accepted and rejected (printed by format_summary)."""

    raw_dir: Path
    processed_dir: Path
    created: str
    config_sha256: str
    tables: dict[str, TableReport]
    unassigned_files: list[str] = field(default_factory=list)
    config_file: str | None = None
    label_mappings: int = 0  # the installation's own label -> code mappings in force


# --------------------------------------------------------------------------- reading


@dataclass
class _Sheet:
    """A file reduced to text cells: the header and the data rows with their line numbers."""

    report: FileReport
    header: list[str]  # folded names, one per column of the frame
    header_original: list[str]  # as written in the file
    frame: pd.DataFrame  # well-formed rows: one str column per header column + _zeile
    bad_width: pd.DataFrame  # rows with more/fewer fields: _zeile, _felder, originalzeile


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def decode(data: bytes, name: str) -> tuple[str, str]:
    """Strict UTF-8 (with or without BOM), else Windows-1252; no guessing libraries."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "UTF-8 mit BOM"
        except UnicodeDecodeError as exc:
            raise FhError(
                f"{name}: Datei beginnt mit einer UTF-8-Kennung (BOM), ist aber kein gültiges "
                f"UTF-8 (Byte {exc.start}). Bitte erneut als UTF-8 exportieren."
            ) from exc
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data:
        raise FhError(
            f"{name}: Datei ist keine Textdatei in UTF-8 oder Windows-1252 (sie enthält "
            "Nullbytes, z. B. UTF-16 oder ein Binärformat). Bitte als CSV (UTF-8) speichern."
        )
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError as exc:
        raise FhError(
            f"{name}: Zeichenkodierung ist weder UTF-8 noch Windows-1252 "
            f"(ungültiges Byte an Stelle {exc.start}). Bitte als CSV (UTF-8) speichern."
        ) from exc


def _split_records(text: str) -> tuple[list[str], list[int]]:
    """Physical lines grouped into records (a quoted field may span lines), with start lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if '"' not in text:
        return lines, list(range(1, len(lines) + 1))
    records: list[str] = []
    starts: list[int] = []
    buf: list[str] = []
    open_quote = False
    for number, line in enumerate(lines, start=1):
        if not buf:
            starts.append(number)
        buf.append(line)
        # An odd number of quotes toggles "inside a quoted field"; doubled quotes cancel out.
        open_quote ^= bool(line.count('"') & 1)
        if not open_quote:
            records.append("\n".join(buf))
            buf = []
    if buf:  # unbalanced quote at the end: keep what is there, the row check will judge it
        records.append("\n".join(buf))
    return records, starts


def _parse_record(record: str, delimiter: str) -> list[list[str]]:
    """Rows the csv module sees in one record; more than one means broken quoting."""
    try:
        return list(csv.reader(io.StringIO(record), delimiter=delimiter, strict=False))
    except csv.Error:  # e.g. a field longer than the csv module's limit
        return [[record]]


def _parse_small(records: list[str], delimiter: str) -> list[list[str]]:
    return [(_parse_record(r, delimiter) or [[]])[0] for r in records]


def _is_blank_cells(cells: list[str]) -> bool:
    return all(not c.strip() for c in cells)


def _find_header(
    rows: list[tuple[int, list[str]]], table: Table
) -> tuple[int | None, int, list[str]]:
    """Index (into rows) of the header, plus the best candidate's matches for messages."""
    known = set(table.column_names)
    required = set(table.required_columns)
    best_count, best_cells = -1, rows[0][1] if rows else []
    for i, (_, cells) in enumerate(rows[:HEADER_WINDOW]):
        folded = {fold_name(c) for c in cells}
        if required <= folded:
            return i, len(required), cells
        hits = len(folded & known)
        if hits > best_count:
            best_count, best_cells = hits, cells
    return None, best_count, best_cells


def _check_header(
    name: str, table: Table, header: list[str], found: list[str]
) -> tuple[list[str], list[str]]:
    """Refuse duplicate or personal-data columns; return (folded names, unknown columns)."""
    folded = [fold_name(c) for c in header]
    known = set(table.column_names)
    personal: list[str] = []
    for original, f in zip(header, folded, strict=True):
        if not f or f in known:
            continue
        parts = f.split("_")
        names = set(PERSONAL_DATA_COLUMNS)
        if not table.allows_name_column:
            names.add(PERSONAL_NAME_COLUMN)
        # `vorname_mutter`, `telefon_mutter`, `mutter_email` and `name_kind` are personal;
        # `standort_name` (a site's name) is not, so `name` counts only as the first word.
        words = {parts[0], parts[-1]} if len(parts) > 1 else {f}
        if f in names or words & (names - {PERSONAL_NAME_COLUMN}) or parts[0] in names:
            personal.append(original)
    if personal:
        raise FhError(
            f"{name}: Spalte(n) mit personenbezogenen Daten gefunden: "
            f"{', '.join(personal)}. Solche Spalten dürfen nicht eingelesen werden – bitte "
            "vor dem Export entfernen. Die Datei wurde nicht verarbeitet."
        )
    counts = Counter(f for f in folded if f)
    doubled = [f for f, n in counts.items() if n > 1 and f in known]
    if doubled:
        raise FhError(
            f"{name}: Spalte(n) {', '.join(doubled)} kommen mehrfach vor. "
            f"Vorhandene Spalten: {', '.join(found)}."
        )
    unknown = [
        (orig.strip() or f"Spalte {i + 1} (ohne Namen)")
        for i, (orig, f) in enumerate(zip(header, folded, strict=True))
        if f not in known
    ]
    return folded, unknown


def _no_header_error(name: str, table: Table, best_count: int, cells: list[str]) -> FhError:
    shown = ", ".join(c for c in cells if c.strip()) or "(keine)"
    if best_count > 0:
        folded = {fold_name(c) for c in cells}
        missing = [c for c in table.required_columns if c not in folded]
        return FhError(
            f"{name}: Pflichtspalte(n) fehlen: {', '.join(missing)}. "
            f"Die Datei hat die Spalten: {shown}."
        )
    return FhError(
        f"{name}: keine Kopfzeile gefunden – keine der ersten {HEADER_WINDOW} nicht leeren "
        f"Zeilen enthält die Pflichtspalten {', '.join(table.required_columns)} der Tabelle "
        f"{table.name}. Erste Zeile: {shown}."
    )


@dataclass
class _Header:
    delimiter: str
    record: int  # index of the header record
    line: int  # its physical line
    names: list[str]  # header cells (a trailing empty cell removed)
    trailing: bool  # every line ends with a delimiter
    skipped: list[str]  # title rows above the header


def _detect_header(name: str, table: Table, head: list[str], starts: list[int]) -> _Header:
    """Find delimiter and header among the first records of a CSV file.

    The delimiter is the one under which a header appears; a comma in decimal numbers
    cannot fool this the way counting characters can.
    """
    head_idx = [i for i, r in enumerate(head) if r.strip()]
    best: tuple[int, list[str]] = (-1, [])
    for delim in DELIMITERS:
        parsed = _parse_small([head[i] for i in head_idx], delim)
        cand = [
            (i, cells)
            for i, cells in zip(head_idx, parsed, strict=True)
            if not _is_blank_cells(cells)
        ][:HEADER_WINDOW]
        pos, count, cells = _find_header(cand, table)
        if pos is not None:
            names = [c.strip() for c in cand[pos][1]]
            # A delimiter at the end of every line (header included) adds no column.
            trailing = len(names) > 1 and names[-1] == ""
            return _Header(
                delimiter=delim,
                record=cand[pos][0],
                line=starts[cand[pos][0]],
                names=names[:-1] if trailing else names,
                trailing=trailing,
                skipped=[" ".join(c.strip() for c in row if c.strip()) for _, row in cand[:pos]],
            )
        if count > best[0]:
            best = (count, cells)
    raise _no_header_error(name, table, best[0], best[1])


def read_csv_file(path: Path, table: Table) -> _Sheet:
    """Read one CSV export into text cells; raises only ``FhError`` for unusable files."""
    name = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FhError(f"{name}: Datei ist nicht lesbar ({exc.strerror}).") from exc
    report = FileReport(name=name, sha256=hashlib.sha256(data).hexdigest())
    text, report.encoding = decode(data, name)
    if not text.strip():
        raise FhError(f"{name}: Datei ist leer – keine Kopfzeile, keine Daten.")
    if report.encoding == "UTF-8":
        payload = data
    elif report.encoding == "UTF-8 mit BOM":
        payload = data[3:]
    else:
        payload = text.encode("utf-8")
    del data
    marker = next((c for c in "\x1f\x1e\x1d\x1c\x01\x02" if c not in text), None)
    if '"' not in text and marker is not None:
        # Fast path: no quoting, so a record is a physical line; pyarrow splits and
        # classifies all lines in C++ and Python only sees the header and broken rows.
        del text
        frame, bad, header, folded, unknown = _read_plain(name, table, payload, marker)
    else:
        del payload
        frame, bad, header, folded, unknown = _read_quoted(name, table, text)
    report.delimiter = {"\t": "Tab"}.get(header.delimiter, header.delimiter)
    report.header_line = header.line
    report.skipped_rows = header.skipped
    report.unknown_columns = unknown
    report.rows = len(frame) + len(bad)
    bad_frame = pd.DataFrame(bad, columns=[_LINE_COL, "_felder", "originalzeile"])
    bad_frame["_breite"] = len(header.names)
    frame.columns = [*folded, _LINE_COL]
    return _Sheet(report, folded, header.names, frame, bad_frame)


_Body = tuple[pd.DataFrame, list[tuple[int, int, str]], _Header, list[str], list[str]]


def _arrow_options(cols: list[str], delimiter: str, longest: int = 0) -> dict[str, Any]:
    return {
        "read_options": pacsv.ReadOptions(
            column_names=cols, block_size=max(1 << 24, 4 * longest + 1024)
        ),
        "parse_options": pacsv.ParseOptions(
            delimiter=delimiter,
            quote_char=False,
            escape_char=False,
            ignore_empty_lines=False,
            newlines_in_values=False,
        ),
        "convert_options": pacsv.ConvertOptions(
            column_types=dict.fromkeys(cols, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    }


def _to_frame(columns: dict[str, pa.Array]) -> pd.DataFrame:
    table = pa.table({c: pc.utf8_trim_whitespace(a) for c, a in columns.items()})
    return table.to_pandas(
        types_mapper={pa.string(): pd.StringDtype("pyarrow", na_value=np.nan)}.get
    )


def _read_plain(name: str, table: Table, payload: bytes, marker: str) -> _Body:
    """Unquoted CSV: every physical line is one record (line number = position + 1)."""
    try:
        lines = (
            pacsv.read_csv(io.BytesIO(payload), **_arrow_options(["z"], marker))
            .column("z")
            .combine_chunks()
        )
    except (pa.ArrowException, ValueError) as exc:
        raise FhError(f"{name}: Datei ist nicht lesbar ({exc}).") from exc
    del payload
    head = lines.slice(0, HEADER_WINDOW * 20).to_pylist()
    header = _detect_header(name, table, head, list(range(1, len(head) + 1)))
    folded, unknown = _check_header(name, table, header.names, header.names)
    delim, width = header.delimiter, len(header.names)
    body = lines.slice(header.record + 1)
    line_no = np.arange(header.record + 2, header.record + 2 + len(body))
    nonblank = pc.not_equal(pc.utf8_trim(body, characters=" \t" + delim), "")
    nonblank = nonblank.to_numpy(zero_copy_only=False)
    fields = pc.add(pc.count_substring(body, delim), 1).to_numpy(zero_copy_only=False)
    ok = fields == width
    if header.trailing:
        ok |= (fields == width + 1) & pc.ends_with(body, delim).to_numpy(zero_copy_only=False)
    bad_mask = nonblank & ~ok
    ok &= nonblank
    bad = list(
        zip(
            line_no[bad_mask].tolist(),
            fields[bad_mask].tolist(),
            pc.filter(body, pa.array(bad_mask)).to_pylist(),
            strict=True,
        )
    )
    parts = pc.split_pattern(pc.filter(body, pa.array(ok)), delim)
    starts = parts.offsets.to_numpy()[:-1]
    values = parts.values
    frame = _to_frame({f"c{j}": pc.take(values, pa.array(starts + j)) for j in range(width)})
    frame[_LINE_COL] = line_no[ok]
    return frame, bad, header, folded, unknown


def _read_quoted(name: str, table: Table, text: str) -> _Body:
    """CSV with quotes: records may span lines, so group lines by quote parity first."""
    records, starts = _split_records(text)
    del text
    header = _detect_header(name, table, records[: HEADER_WINDOW * 20], starts)
    folded, unknown = _check_header(name, table, header.names, header.names)
    delim, width, trailing = header.delimiter, len(header.names), header.trailing
    body = records[header.record + 1 :]
    body_lines = starts[header.record + 1 : header.record + 1 + len(body)]
    blank_chars = " \t" + delim
    plain_rows: list[str] = []
    plain_lines: list[int] = []
    quoted_rows: list[str] = []
    quoted_lines: list[int] = []
    bad: list[tuple[int, int, str]] = []
    for rec, line in zip(body, body_lines, strict=True):
        if not rec.strip(blank_chars):
            continue
        if '"' in rec:
            quoted_rows.append(rec)
            quoted_lines.append(line)
            continue
        n = rec.count(delim) + 1
        if n == width:
            plain_rows.append(rec)
        elif trailing and n == width + 1 and rec.endswith(delim):
            plain_rows.append(rec[: -len(delim)])
        else:
            bad.append((line, n, rec))
            continue
        plain_lines.append(line)
    del body, records, starts

    cols = [f"c{i}" for i in range(width)]
    frames: list[pd.DataFrame] = []
    if plain_rows:
        frames.append(
            _arrow_split(plain_rows, cols, delim, name).assign(**{_LINE_COL: plain_lines})
        )
    del plain_rows
    if quoted_rows:
        good: list[list[str]] = []
        good_lines: list[int] = []
        for rec, line in zip(quoted_rows, quoted_lines, strict=True):
            parsed = _parse_record(rec, delim)
            cells = parsed[0] if len(parsed) == 1 else [rec]
            if trailing and len(cells) == width + 1 and cells[-1] == "":
                cells = cells[:-1]
            if _is_blank_cells(cells):
                continue
            if len(cells) != width or len(parsed) != 1:
                bad.append((line, len(cells) if len(parsed) == 1 else 0, rec))
                continue
            good.append([c.strip() for c in cells])
            good_lines.append(line)
        if good:
            q = pd.DataFrame(good, columns=cols, dtype="str")
            frames.append(q.assign(**{_LINE_COL: good_lines}))
    return _combine(frames, cols), bad, header, folded, unknown


def _arrow_split(rows: list[str], cols: list[str], delim: str, name: str) -> pd.DataFrame:
    """Split unquoted rows with pyarrow's CSV reader (fast); every row has len(cols) fields."""
    payload = "\n".join(rows).encode("utf-8")
    longest = max(len(r) for r in rows)
    try:
        table = pacsv.read_csv(io.BytesIO(payload), **_arrow_options(cols, delim, longest))
    except (pa.ArrowException, ValueError) as exc:
        raise FhError(f"{name}: Datei ist nicht lesbar ({exc}).") from exc
    if table.num_rows != len(rows):
        raise FhError(f"{name}: Datei ist nicht lesbar (Zeilen ließen sich nicht trennen).")
    return _to_frame({c: table[c].combine_chunks() for c in cols})


def _combine(frames: list[pd.DataFrame], cols: list[str]) -> pd.DataFrame:
    if not frames:
        empty = {c: pd.Series([], dtype="str") for c in cols}
        return pd.DataFrame({**empty, _LINE_COL: pd.Series([], dtype="int64")})
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    if len(frames) > 1:
        frame = frame.sort_values(_LINE_COL, kind="stable", ignore_index=True)
    return frame


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value).replace(".", ",")
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    return str(value).strip()


def read_xlsx_file(path: Path, table: Table) -> _Sheet:
    """Read the sheet named like the table (else the first sheet) of an XLSX file."""
    import openpyxl

    name = path.name
    report = FileReport(name=name, sha256=sha256_file(path), encoding="XLSX")
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise FhError(
            f"{name}: Excel-Datei ist nicht lesbar ({type(exc).__name__}: {exc})."
        ) from exc
    try:
        sheets = {fold_name(ws.title): ws for ws in wb.worksheets}
        ws = sheets.get(table.name) or wb.worksheets[0]
        report.sheet = ws.title
        rows = [
            (number, [_cell_text(v) for v in values])
            for number, values in enumerate(ws.iter_rows(min_row=1, values_only=True), start=1)
        ]
    except FhError:
        raise
    except Exception as exc:
        raise FhError(
            f"{name}: Excel-Datei ist nicht lesbar ({type(exc).__name__}: {exc})."
        ) from exc
    finally:
        wb.close()
    nonblank = [(n, cells) for n, cells in rows if not _is_blank_cells(cells)]
    pos, count, cells = _find_header(nonblank[:HEADER_WINDOW], table)
    if pos is None:
        raise _no_header_error(f"{name} (Blatt {report.sheet})", table, count, cells)
    report.header_line = nonblank[pos][0]
    report.skipped_rows = [" ".join(c for c in cells if c) for _, cells in nonblank[:pos]]
    header = list(nonblank[pos][1])
    while header and not header[-1].strip():
        header.pop()
    folded, report.unknown_columns = _check_header(name, table, header, header)
    width = len(header)
    good: list[list[str]] = []
    lines: list[int] = []
    bad: list[tuple[int, int, str]] = []
    for number, row in nonblank[pos + 1 :]:
        used = max((i + 1 for i, c in enumerate(row) if c), default=0)
        if used > width:
            bad.append((number, used, ";".join(row[:used])))
            continue
        good.append(row[:width] + [""] * (width - len(row[:width])))
        lines.append(number)
    cols = [f"c{i}" for i in range(width)]
    frame = _combine(
        [pd.DataFrame(good, columns=cols, dtype="str").assign(**{_LINE_COL: lines})]
        if good
        else [],
        cols,
    )
    frame.columns = [*folded, _LINE_COL]
    report.rows = len(frame) + len(bad)
    bad_frame = pd.DataFrame(bad, columns=[_LINE_COL, "_felder", "originalzeile"])
    bad_frame["_breite"] = width
    return _Sheet(report, folded, header, frame, bad_frame)


def read_file(path: Path, table: Table) -> _Sheet:
    suffix = path.suffix.lower()
    if suffix in XLSX_SUFFIXES:
        return read_xlsx_file(path, table)
    if suffix in CSV_SUFFIXES:
        return read_csv_file(path, table)
    raise FhError(
        f"{path.name}: Dateiformat {path.suffix or '(ohne Endung)'} wird nicht unterstützt. "
        "Bitte als CSV oder XLSX speichern."
    )


def discover(raw_dir: Path) -> tuple[dict[str, list[Path]], list[str]]:
    """Files per table (every file whose name starts with the table name), in name order."""
    if not raw_dir.is_dir():
        raise FhError(f"Rohdatenordner {raw_dir} gibt es nicht.")
    by_table: dict[str, list[Path]] = {t: [] for t in TABLE_ORDER}
    unassigned: list[str] = []
    # Longest name first so a table name that prefixes another cannot steal its files.
    names = sorted(TABLE_ORDER, key=len, reverse=True)
    for path in sorted(raw_dir.iterdir(), key=lambda p: p.name):
        if not path.is_file() or path.name.startswith((".", "~$")) or path.name == "README.md":
            continue
        stem = fold_name(path.name)
        owner = next((t for t in names if stem.startswith(t)), None)
        data_file = path.suffix.lower() in (*CSV_SUFFIXES, *XLSX_SUFFIXES, *REFUSED_SUFFIXES)
        if owner is None or not data_file:
            unassigned.append(path.name)
        else:
            by_table[owner].append(path)
    return by_table, unassigned


# --------------------------------------------------------------------------- parsing values


def _factorize(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Row codes and distinct values: parsers run on the few distinct values only."""
    codes, uniques = pd.factorize(values.fillna(""))
    return codes, pd.Series(np.asarray(uniques, dtype=object), dtype="str")


def parse_numbers(text: pd.Series) -> pd.Series:
    """German (``12.190.000,00``) or plain (``12190000.00``) numbers, optional ``€``."""
    t = text.str.replace(r"[\s\u00a0\u202f]", "", regex=True).str.removesuffix("€")
    german = t.str.fullmatch(_GERMAN_NUMBER) & (
        t.str.contains(",", regex=False) | t.str.contains(r"\d\.\d{3}(?:\.|$)", regex=True)
    )
    plain = t.str.fullmatch(_PLAIN_NUMBER) & ~german
    g = t.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    normal = g.where(german, t.where(plain))
    values = pd.to_numeric(normal, errors="coerce").astype("float64")
    return values.where(np.isfinite(values))  # 400 nines are not a number anyone meant


def parse_dates(text: pd.Series) -> pd.Series:
    """``TT.MM.JJJJ`` or ISO ``JJJJ-MM-TT``; anything else (or 31.02.) is NaT."""
    dmy = pd.to_datetime(text.where(text.str.fullmatch(_DMY)), format="%d.%m.%Y", errors="coerce")
    iso = pd.to_datetime(text.where(text.str.fullmatch(_ISO)), format="%Y-%m-%d", errors="coerce")
    return dmy.fillna(iso).astype("datetime64[ns]")


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


# --------------------------------------------------------------------------- validation


class _Reasons:
    """Collects, per check, which rows fail and a German reason (with the value) for each.

    Reason texts are built only for the failing rows, so a clean million-row table costs
    one boolean mask per check and nothing more.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.bad = np.zeros(n, dtype=bool)
        self.parts: list[pd.Series] = []
        self.counts: Counter[str] = Counter()

    def add(
        self,
        mask: pd.Series | np.ndarray,
        kind: str,
        prefix: str,
        value: pd.Series | np.ndarray | None = None,
        suffix: str = "",
        quote: bool = True,
    ) -> None:
        m = np.asarray(mask, dtype=bool)
        hits = int(m.sum())
        if not hits:
            return
        self.bad |= m
        self.counts[kind] += hits
        idx = np.flatnonzero(m)
        if value is None:
            part = pd.Series(prefix, index=idx, dtype=object)
        else:
            shown = pd.Series(np.asarray(value, dtype=object)[idx], index=idx, dtype=object)
            shown = shown.fillna("").astype(str)
            if quote:
                shown = "„" + shown + "“"
            part = prefix + shown + suffix
        self.parts.append(part)

    def joined(self) -> pd.Series:
        if not self.parts:
            return pd.Series([], dtype=object)
        allparts = pd.concat(self.parts)
        return allparts.groupby(level=0, sort=True).agg("; ".join)


def _fmt(value: float | None) -> str:
    if value is None:
        return "…"
    # Bounds are years, months and grades: plain digits read better than 2.000 here.
    return str(int(value)) if float(value).is_integer() else formatting.number(value, 2)


def _validate_column(
    col: Column,
    raw: pd.Series,
    reasons: _Reasons,
    config: Config | None,
    today: date,
) -> pd.Series:
    """Parse one column to its processed dtype and record every row that breaks a rule."""
    codes, uniq = _factorize(raw)
    empty = (uniq == "").to_numpy()[codes]
    must = col.required or col.not_null
    if must:
        reasons.add(empty, f"{col.name}: Pflichtangabe fehlt", f"{col.name}: Pflichtangabe fehlt")
    if col.type == "str":
        return raw.astype(pd.StringDtype()).mask(empty)
    if col.type in ("int", "float"):
        values = pd.Series(parse_numbers(uniq).to_numpy()[codes], index=raw.index)
        invalid = values.isna().to_numpy() & ~empty
        if col.type == "int":
            frac = (values % 1 != 0).to_numpy() & ~invalid & ~empty
            huge = (values.abs() > 2**53).to_numpy() & ~empty
            invalid |= frac | huge
            reasons.add(
                invalid,
                f"{col.name}: keine ganze Zahl",
                f"{col.name}: ",
                raw,
                " ist keine ganze Zahl",
            )
        else:
            reasons.add(invalid, f"{col.name}: keine Zahl", f"{col.name}: ", raw, " ist keine Zahl")
        lower = col.lower
        upper = float(today.year) if col.max_is_current_year else col.max
        out_low = (values < lower).to_numpy() if lower is not None else np.zeros(len(raw), bool)
        out_high = (values > upper).to_numpy() if upper is not None else np.zeros(len(raw), bool)
        out = (out_low | out_high) & ~invalid
        span = (
            f"{_fmt(lower)} bis {_fmt(upper)}" if upper is not None else f"mindestens {_fmt(lower)}"
        )
        reasons.add(
            out,
            f"{col.name}: außerhalb des zulässigen Bereichs",
            f"{col.name}: ",
            raw,
            f" liegt außerhalb des zulässigen Bereichs ({span})",
        )
        values = values.mask(invalid | out)
        if col.type == "int":
            return values.round().astype("Int64")
        return values.astype("float64")
    if col.type == "date":
        values = pd.Series(parse_dates(uniq).to_numpy()[codes], index=raw.index)
        invalid = values.isna().to_numpy() & ~empty
        reasons.add(
            invalid,
            f"{col.name}: kein gültiges Datum",
            f"{col.name}: ",
            raw,
            " ist kein gültiges Datum (TT.MM.JJJJ oder JJJJ-MM-TT)",
        )
        if col.not_in_future:
            future = (values > pd.Timestamp(today)).to_numpy()
            reasons.add(
                future,
                f"{col.name}: Datum liegt in der Zukunft",
                f"{col.name}: ",
                raw,
                " liegt in der Zukunft",
            )
            values = values.mask(future)
        return values.astype("datetime64[ns]")
    # cat / jn: map the distinct spellings to category positions, then spread them
    lookup = _category_lookup(col, config)
    names = tuple(JN_CODES) if col.type == "jn" else CATEGORIES[col.category or ""].codes
    position = {code: i for i, code in enumerate(names)}
    uniq_pos = np.array(
        [position.get(lookup.get(fold_value(v), ""), -1) for v in uniq.tolist()], dtype=np.int64
    )
    row_pos = uniq_pos[codes] if len(codes) else np.zeros(0, dtype=np.int64)
    invalid = (row_pos < 0) & ~empty
    reasons.add(
        invalid,
        f"{col.name}: unbekannter Wert",
        f"{col.name}: ",
        raw,
        " ist kein bekannter Wert (Code oder Bezeichnung der Liste)",
    )
    filler = position["unbekannt"] if "unbekannt" in position and not must else -1
    row_pos = np.where(empty, filler, row_pos)
    dtype = pd.CategoricalDtype(list(names))
    return pd.Series(pd.Categorical.from_codes(row_pos, dtype=dtype), index=raw.index)


def _site_lookup(sites: pd.Series) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for site in sites.dropna().astype(str):
        lookup.setdefault(fold_value(site), site)
    return lookup


@dataclass
class _Checked:
    accepted: pd.DataFrame  # processed dtypes, schema order
    rejects: pd.DataFrame  # datei, zeile, gruende, raw values
    reason_counts: Counter[str]


def validate(
    table: Table,
    raw: pd.DataFrame,
    *,
    sites: pd.Series | None,
    config: Config | None,
    today: date,
) -> _Checked:
    """Validate well-formed rows (all text) of one table; vectorised over the whole table."""
    n = len(raw)
    raw = raw.reset_index(drop=True)
    reasons = _Reasons(n)
    typed: dict[str, pd.Series] = {}
    for col in table.columns:
        typed[col.name] = _validate_column(col, raw[col.name], reasons, config, today)

    site_map = _site_lookup(sites) if sites is not None else {}
    references = []
    if table.site_column and sites is not None:
        references.append((table.site_column, site_map, False))
    if table.area_column and sites is not None:
        references.append((table.area_column, {**site_map, fold_value(GESAMT): GESAMT}, True))
    for c, known, area in references:
        codes, uniq = _factorize(raw[c])
        canon_u = [known.get(fold_value(v)) if v else "" for v in uniq.tolist()]
        unknown = np.array([v is None for v in canon_u], dtype=bool)[codes]
        if area:
            kind, text = (
                f"{c}: weder Standort noch gesamt",
                " ist weder ein Standort aus standorte noch „gesamt“",
            )
        else:
            kind, text = (
                f"{c}: Standort fehlt in standorte",
                " gibt es in der Tabelle standorte nicht",
            )
        prefix = f"{c}: " if area else f"{c}: Standort "
        reasons.add(unknown, kind, prefix, raw[c], text)
        if any(v is not None and v != u for v, u in zip(canon_u, uniq.tolist(), strict=True)):
            # e.g. `Gesamt` -> `gesamt`, `Rheindorf` -> `rheindorf`: store the canonical id
            canon = np.array([v if v else None for v in canon_u], dtype=object)[codes]
            typed[c] = pd.Series(canon, index=raw.index, dtype=pd.StringDtype())

    for rule in table.row_rules:
        left, right = typed[rule.left], typed[rule.right]
        broken = (left > right).fillna(False).to_numpy(dtype=bool)
        reasons.add(broken, rule.reason, rule.reason)

    if table.key:
        keys = pd.DataFrame({k: typed[k] for k in table.key})
        usable = keys.notna().all(axis=1).to_numpy()
        sub = keys[usable]
        dup_sub = sub.duplicated(keep="first").to_numpy()
        if dup_sub.any():
            pos = pd.Series(np.flatnonzero(usable), index=sub.index)
            first = pos.groupby([sub[k] for k in table.key], sort=False, observed=True).transform(
                "first"
            )
            dup = np.zeros(n, dtype=bool)
            dup[np.flatnonzero(usable)[dup_sub]] = True
            first_pos = np.zeros(n, dtype=np.int64)
            first_pos[np.flatnonzero(usable)] = first.to_numpy()
            where = np.full(n, "", dtype=object)
            hit = np.flatnonzero(dup)
            files = raw[_FILE_COL].to_numpy(dtype=object)
            lines = raw[_LINE_COL].to_numpy()
            where[hit] = [
                f"zuerst in {files[i]}, Zeile {lines[i]}" for i in first_pos[hit]
            ]  # only the (few) duplicate rows
            label = ", ".join(table.key)
            reasons.add(
                dup,
                f"Doppelter Schlüssel ({label})",
                f"Doppelter Schlüssel ({label}) – ",
                where,
                quote=False,
            )

    if table.total_column:
        c = table.total_column
        group = [k for k in table.key if k != c]
        frame = pd.DataFrame({k: typed[k] for k in [*group, c]})
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

    bad = reasons.bad
    if bad.any():
        accepted = pd.DataFrame({name: s[~bad] for name, s in typed.items()})
        accepted = accepted.reset_index(drop=True)
    else:  # the usual case: no copy of a million rows just to drop none
        accepted = pd.DataFrame(typed).reset_index(drop=True)
    rejected_raw = raw.loc[bad]
    rejects = pd.DataFrame(
        {
            "datei": rejected_raw[_FILE_COL].astype(str),
            "zeile": rejected_raw[_LINE_COL].astype("int64"),
            "gruende": reasons.joined().reindex(rejected_raw.index),
        }
    )
    extra = [c for c in raw.columns if c not in table.column_names]
    value_cols = [
        *table.column_names,
        *(c for c in extra if c not in (_FILE_COL, _LINE_COL, "_ordnung")),
    ]
    rejects = pd.concat([rejects, rejected_raw[value_cols]], axis=1)
    if "_ordnung" in raw.columns:
        rejects["_ordnung"] = rejected_raw["_ordnung"]
    return _Checked(accepted, rejects, reasons.counts)


# --------------------------------------------------------------------------- one table


def _prepare_table(
    table: Table, paths: list[Path], sites: pd.Series | None, config: Config | None, today: date
) -> tuple[TableReport, pd.DataFrame, pd.DataFrame]:
    report = TableReport(name=table.name, present=True)
    frames: list[pd.DataFrame] = []
    bad_frames: list[pd.DataFrame] = []
    for order, path in enumerate(paths):
        sheet = read_file(path, table)
        report.files.append(sheet.report)
        f = sheet.frame
        f = f.loc[:, ~pd.Index(f.columns).duplicated()]  # unnamed columns repeat the empty name
        f = f.drop(columns=[c for c in f.columns if c == ""], errors="ignore")
        for c in table.column_names:
            if c not in f.columns:
                f[c] = pd.Series("", index=f.index, dtype="str")
        f[_FILE_COL] = sheet.report.name
        f["_ordnung"] = order
        frames.append(f)
        if len(sheet.bad_width):
            b = sheet.bad_width.copy()
            b[_FILE_COL] = sheet.report.name
            b["_ordnung"] = order
            bad_frames.append(b)
    raw = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    for c in raw.columns:
        # Only columns some file lacked hold NaN; rewriting all would copy a million rows.
        if c not in (_LINE_COL, "_ordnung") and (raw[c].dtype != "str" or raw[c].hasnans):
            raw[c] = raw[c].fillna("").astype("str")
    checked = validate(table, raw, sites=sites, config=config, today=today)

    rejects = checked.rejects
    report.reason_counts = checked.reason_counts
    if bad_frames:
        bad = pd.concat(bad_frames, ignore_index=True)
        kind = "Anzahl der Felder passt nicht zur Kopfzeile"
        report.reason_counts[kind] += len(bad)
        extra = pd.DataFrame(
            {
                "datei": bad[_FILE_COL].astype(str),
                "zeile": bad[_LINE_COL].astype("int64"),
                "gruende": "Zeile hat "
                + bad["_felder"].astype(str)
                + " Felder, die Kopfzeile "
                + bad["_breite"].astype(str)
                + " – Werte lassen sich keiner Spalte zuordnen",
                "originalzeile": bad["originalzeile"].astype(str),
                "_ordnung": bad["_ordnung"],
            }
        )
        rejects = pd.concat([rejects, extra], ignore_index=True)
    rejects = rejects.sort_values(["_ordnung", "zeile"], kind="stable").drop(columns="_ordnung")
    report.read = sum(f.rows for f in report.files)
    report.accepted = len(checked.accepted)
    report.rejected = len(rejects)
    if report.read != report.accepted + report.rejected:  # the reconciliation must hold
        raise AssertionError(
            f"{table.name}: {report.read} != {report.accepted} + {report.rejected}"
        )
    return report, checked.accepted, rejects


# --------------------------------------------------------------------------- writing


def _check_target(raw_dir: Path, target: Path) -> None:
    raw_r, tgt_r = raw_dir.resolve(), target.resolve()
    if tgt_r == raw_r or raw_r.is_relative_to(tgt_r) or tgt_r.is_relative_to(raw_r):
        raise FhError(
            f"Zielordner {target} und Rohdatenordner {raw_dir} dürfen nicht ineinander liegen "
            "(die Rohdaten würden sonst ersetzt)."
        )
    if target.exists() and not target.is_dir():
        raise FhError(f"Zielordner {target} ist eine Datei, kein Ordner.")
    if target.is_dir() and not (target / MANIFEST).exists():
        foreign = [p.name for p in target.iterdir() if p.name not in _KEEP_IN_TARGET]
        if foreign:
            raise FhError(
                f"Zielordner {target} enthält Dateien, die nicht von fh-analytik stammen "
                f"({', '.join(sorted(foreign)[:5])}). Er wird nicht ersetzt – bitte einen leeren "
                "oder einen früheren Zielordner angeben."
            )


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one atomic step (Linux ``renameat2``); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return rc == 0


def _swap_in(build: Path, target: Path) -> None:
    """Replace ``target`` by ``build``; readers see either the old or the new folder."""
    if not target.exists():
        os.rename(build, target)
        return
    for keep in _KEEP_IN_TARGET:
        if (target / keep).is_file():
            shutil.copy2(target / keep, build / keep)
    if _exchange(build, target):
        shutil.rmtree(build, ignore_errors=True)  # now holds the previous state
        return
    # Fallback: two renames; between them the old state sits intact in a sibling folder.
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.alt-", dir=target.parent))
    os.rename(target, old / target.name)
    try:
        os.rename(build, target)
    except OSError:
        os.rename(old / target.name, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _write(
    target: Path,
    reports: dict[str, TableReport],
    accepted: dict[str, pd.DataFrame],
    rejects: dict[str, pd.DataFrame],
    manifest_head: dict[str, Any],
) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=f".{target.name}.neu-", dir=target.parent))
    try:
        (build / REJECTS_FOLDER).mkdir()
        for name, frame in accepted.items():
            path = build / f"{name}.parquet"
            frame.to_parquet(path, index=False)
            reports[name].parquet_sha256 = sha256_file(path)
            rejects[name].to_csv(
                build / REJECTS_FOLDER / f"{name}.csv", sep=";", index=False, encoding="utf-8"
            )
        manifest = {
            **manifest_head,
            "tabellen": {n: _manifest_table(r) for n, r in reports.items()},
        }
        (build / MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        _swap_in(build, target)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise


def _manifest_table(r: TableReport) -> dict[str, Any]:
    return {
        "vorhanden": r.present,
        "gelesen": r.read,
        "angenommen": r.accepted,
        "abgelehnt": r.rejected,
        "dateien": [
            {
                "datei": f.name,
                "sha256": f.sha256,
                "zeilen": f.rows,
                "kodierung": f.encoding,
                "trennzeichen": f.delimiter or None,
                "blatt": f.sheet or None,
                "kopfzeile": f.header_line,
                "uebersprungene_zeilen": f.skipped_rows,
                "unbekannte_spalten": f.unknown_columns,
            }
            for f in r.files
        ],
        "unbekannte_spalten": sorted({c for f in r.files for c in f.unknown_columns}),
        "uebersprungene_zeilen": sum(len(f.skipped_rows) for f in r.files),
        "ablehnungsgruende": dict(r.reason_counts.most_common()),
        "abgelehnt_datei": r.rejects_file,
        "parquet_sha256": r.parquet_sha256,
    }


# --------------------------------------------------------------------------- entry point


def prepare(
    raw_dir: Path | str,
    processed_dir: Path | str,
    config: Config | None = None,
    *,
    today: date | None = None,
) -> IngestResult:
    """Read, validate and convert ``raw_dir`` into ``processed_dir`` (replaced atomically).

    Raises ``FhError`` (exit 2) before anything is written when a file is unusable as a whole.
    """
    raw_dir, processed_dir = Path(raw_dir), Path(processed_dir)
    today = today or date.today()
    by_table, unassigned = discover(raw_dir)
    missing = [t for t in TABLE_ORDER if TABLES[t].required_table and not by_table[t]]
    if missing:
        raise FhError(
            f"Im Rohdatenordner {raw_dir} fehlt die Pflichttabelle "
            f"{' und '.join(missing)} (Dateiname beginnt mit dem Tabellennamen, z. B. "
            f"{missing[0]}.csv). Gefundene Dateien: "
            f"{', '.join(p.name for ps in by_table.values() for p in ps) or 'keine'}."
        )
    _check_target(raw_dir, processed_dir)

    reports: dict[str, TableReport] = {}
    accepted: dict[str, pd.DataFrame] = {}
    rejects: dict[str, pd.DataFrame] = {}
    sites: pd.Series | None = None
    for name in TABLE_ORDER:  # standorte first: the others check their sites against it
        table = TABLES[name]
        if not by_table[name]:
            reports[name] = TableReport(name=name, present=False)
            continue
        report, ok, bad = _prepare_table(table, by_table[name], sites, config, today)
        reports[name], accepted[name], rejects[name] = report, ok, bad
        if name == "standorte":
            sites = ok["standort_id"]

    created = datetime.now().astimezone().isoformat(timespec="seconds")
    config_sha = config.sha256 if config is not None else ""
    head = {
        "erstellt": created,
        "version": __version__,
        "konfiguration_sha256": config_sha,
        "konfiguration": config.as_dict() if config is not None else None,
        "rohdaten": str(raw_dir.resolve()),
        "stichtag": today.isoformat(),
        "nicht_zugeordnete_dateien": unassigned,
    }
    _write(processed_dir, reports, accepted, rejects, head)
    return IngestResult(
        raw_dir,
        processed_dir,
        created,
        config_sha,
        reports,
        unassigned,
        config_file=str(config.source) if config is not None and config.source else None,
        label_mappings=sum(len(m) for m in config.label_mappings.values()) if config else 0,
    )


# --------------------------------------------------------------------------- summary


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_summary(result: IngestResult, top: int = 3) -> str:
    """The reconciliation per table in German, readable at a glance."""
    num = formatting.number
    lines = [
        f"Aufbereitung: {result.raw_dir} → {result.processed_dir}",
        "",
        f"{'Tabelle':<20}{'gelesen':>12}{'angenommen':>13}{'abgelehnt':>12}",
    ]
    absent: list[str] = []
    for r in result.tables.values():
        if not r.present:
            absent.append(r.name)
            continue
        lines.append(f"{r.name:<20}{num(r.read):>12}{num(r.accepted):>13}{num(r.rejected):>12}")
    total = [r for r in result.tables.values() if r.present]
    lines.append(
        f"{'Summe':<20}{num(sum(r.read for r in total)):>12}"
        f"{num(sum(r.accepted for r in total)):>13}{num(sum(r.rejected for r in total)):>12}"
    )
    if absent:
        lines += [
            "",
            "Nicht vorhanden (optional; Kennzahlen daraus bleiben leer): " + ", ".join(absent),
        ]
    notes: list[str] = []
    for r in total:
        for f in r.files:
            if f.skipped_rows:
                n = len(f.skipped_rows)
                shown = " | ".join(_short(s) for s in f.skipped_rows[:2])
                notes.append(
                    f"  {f.name}: {num(n)} Zeile{'n' if n != 1 else ''} über der Kopfzeile "
                    f"übersprungen ({shown})"
                )
        # Files of one table usually share their extra columns: one line per column set.
        by_columns: dict[tuple[str, ...], list[str]] = {}
        for f in r.files:
            if f.unknown_columns:
                by_columns.setdefault(tuple(f.unknown_columns), []).append(f.name)
        for cols, files in by_columns.items():
            where = files[0] if len(files) == 1 else f"{files[0]} und {num(len(files) - 1)} weitere"
            notes.append(f"  {where}: unbekannte Spalten nicht übernommen: {', '.join(cols)}")
    if notes:
        lines += ["", "Hinweise zu den Dateien:", *notes]
    if result.unassigned_files:
        lines += [
            "",
            "Keiner Tabelle zugeordnet (ignoriert): " + ", ".join(result.unassigned_files),
        ]
    rejected = [r for r in total if r.rejected]
    if rejected:
        lines += ["", "Häufigste Ablehnungsgründe:"]
        for r in rejected:
            reasons = "; ".join(f"{k} ({num(v)}×)" for k, v in r.reason_counts.most_common(top))
            lines.append(f"  {r.name} ({num(r.rejected)} → {r.rejects_file}): {reasons}")
        lines.append(
            f"Abgelehnte Zeilen mit Datei, Zeilennummer und Gründen: {result.processed_dir / REJECTS_FOLDER}/"
        )
    else:
        lines += ["", "Keine Zeile abgelehnt."]
    source = result.config_file or "Standardwerte"
    lines.append(
        f"Konfiguration: {source} (SHA-256 {result.config_sha256[:12]}…, "
        f"{num(result.label_mappings)} eigene Zuordnungen von Bezeichnungen)"
    )
    lines.append(f"Manifest: {result.processed_dir / MANIFEST}")

    return "\n".join(lines)


# --------------------------------------------------------------------------- documentation

_TYPE_DE = {
    "str": "Text",
    "int": "ganze Zahl",
    "float": "Zahl",
    "date": "Datum",
    "cat": "Kategorie",
    "jn": "ja/nein",
}
CONTRACT_DOC = Path("docs") / "datenvertrag.md"


def _column_rules(table: Table, col: Column) -> str:
    rules: list[str] = []
    if col.type in ("int", "float"):
        upper = (
            "aktuelles Jahr"
            if col.max_is_current_year
            else (_fmt(col.max) if col.max is not None else None)
        )
        lower = _fmt(col.lower) if col.lower is not None else None
        if upper is not None:
            rules.append(f"{lower} bis {upper}")
        elif lower is not None:
            rules.append(f"mindestens {lower}")
    if col.type == "cat":
        rules.append(f"Liste [{col.category}](#liste-{col.category})")
    if col.type == "jn":
        aliases = ", ".join(f"`{k}`" for k in JN_ALIASES if k and k not in JN_CODES)
        rules.append(f"`ja`, `nein`, `unbekannt`; auch {aliases}; leer = `unbekannt`")
    if col.type == "date":
        rules.append("`TT.MM.JJJJ` oder `JJJJ-MM-TT`")
        if col.not_in_future:
            rules.append("nicht nach heute")
    if col.name == table.site_column:
        rules.append("muss in `standorte` vorkommen")
    if col.name == table.area_column:
        rules.append(f"eine `standort_id` oder `{GESAMT}`")
    if (
        col.type == "cat"
        and not col.required
        and "unbekannt" in CATEGORIES[col.category or ""].codes
    ):
        rules.append("leer = `unbekannt`")
    return "; ".join(rules)


def contract_markdown() -> str:
    """The user-facing data contract (German), generated from ``schema.py``."""
    out: list[str] = [
        "# Datenvertrag: welche Rohdaten fh-analytik erwartet",
        "",
        "<!-- Erzeugt aus src/analysis/schema.py durch analysis.ingest.contract_markdown(); "
        "nicht von Hand ändern. Neu erzeugen: .venv/bin/python -m analysis.ingest -->",
        "",
        "Dieses Dokument beschreibt, was eine Kommune in den Rohdatenordner (`data/raw/`) legt, "
        "was `fh-analytik aufbereiten` daraus macht und was mit fehlerhaften Angaben geschieht. "
        "Es wird aus dem Schema im Code erzeugt und ist deshalb immer auf dem Stand der Prüfungen.",
        "",
        "## Dateien",
        "",
        "- Ein Ordner, standardmäßig `data/raw/`. Eine Tabelle darf aus mehreren Dateien bestehen: "
        "jede Datei, deren Name mit dem Tabellennamen beginnt (`erstkontakte_2013.csv`, "
        "`erstkontakte-2014.xlsx`), gehört dazu; die Dateien werden in der Reihenfolge ihrer "
        "Namen aneinandergehängt. Andere Dateien werden ignoriert und in der Zusammenfassung genannt.",
        "- CSV wie aus Tabellenkalkulation oder Fachverfahren exportiert: Trennzeichen `;`, `,` oder "
        "Tabulator (erkannt an der Kopfzeile); Zeichenkodierung UTF-8 (mit oder ohne BOM), sonst "
        "Windows-1252 – ohne Raten: was kein gültiges UTF-8 ist, wird als Windows-1252 gelesen.",
        "- Zahlen mit Dezimalkomma und Tausenderpunkt (`12.190.000,00`) oder schlicht "
        "(`12190000.00`), wahlweise mit `€` am Ende. Ein Punkt gefolgt von genau drei Ziffern "
        "(`1.200`) ist ein Tausenderpunkt. Datumsangaben als `TT.MM.JJJJ` oder `JJJJ-MM-TT`.",
        "- XLSX: das Tabellenblatt, das wie die Tabelle heißt, sonst das erste Blatt. Die "
        "Zeilennummer in den Ablehnungen ist die Zeilennummer im Blatt. Alte Formate "
        "(`.xls`, `.ods`) bitte als XLSX oder CSV speichern.",
        f"- Die Kopfzeile ist die erste der ersten {HEADER_WINDOW} nicht leeren Zeilen, die alle "
        "Pflichtspalten der Tabelle enthält; Zeilen darüber (Exporttitel, Datumszeile) werden "
        "übersprungen und in der Zusammenfassung genannt. Leerzeilen sind keine Datenzeilen. "
        "Ein Trennzeichen am Ende jeder Zeile (auch der Kopfzeile) ergibt keine zusätzliche Spalte.",
        "- Spaltennamen: Groß-/Kleinschreibung, Leerzeichen, Bindestriche und Umlaute spielen "
        "keine Rolle (`Datum Erstkontakt` = `datum_erstkontakt` = `Datum-Erstkontakt`). "
        "Unbekannte Spalten werden nicht übernommen und in der Zusammenfassung genannt.",
        "- Kategorien als Code (`geburtsklinik`) oder als deutsche Bezeichnung (`Geburtsklinik`), "
        "unabhängig von Groß-/Kleinschreibung und Leerzeichen. Eigene Formularbezeichnungen "
        "ordnet die Konfigurationsdatei `fh-analytik.toml` im Abschnitt `[zuordnungen.<spalte>]` "
        'einem Code zu (z. B. `"Klinikum Schlebusch" = "geburtsklinik"`).',
        "",
        "## Tabellen",
        "",
        "Pflichttabellen sind "
        + " und ".join(f"`{t.name}`" for t in TABLES.values() if t.required_table)
        + "; alle anderen sind freiwillig. Fehlt eine freiwillige Tabelle, bleiben die "
        "Kennzahlen, die sie brauchen, leer (`null`), und die Berichte sagen, welche Tabelle fehlt.",
        "",
        "Typen: " + ", ".join(f"`{k}` = {v}" for k, v in _TYPE_DE.items()) + ". Ganze Zahlen und "
        "Zahlen sind mindestens 0, wenn nicht anders angegeben. **Pflicht** heißt: die Spalte "
        "muss vorhanden und in jeder Zeile ausgefüllt sein; eine fehlende freiwillige Spalte "
        "gilt als durchgehend leer.",
    ]
    for table in TABLES.values():
        kind = "Pflichttabelle" if table.required_table else "freiwillig"
        out += ["", f"### `{table.name}` – {table.label} ({kind})", "", table.description, ""]
        out += ["| Spalte | Typ | Pflicht | Bedeutung | Regeln |", "|---|---|---|---|---|"]
        for col in table.columns:
            out.append(
                f"| `{col.name}` | {_TYPE_DE[col.type]} | {'**ja**' if col.required else ''} | "
                f"{col.label} | {_column_rules(table, col)} |"
            )
        extra: list[str] = []
        if table.key:
            extra.append(
                "Schlüssel: " + ", ".join(f"`{k}`" for k in table.key) + " – bei Wiederholung "
                "gilt das erste Vorkommen (nach Dateiname, dann Zeile); jedes spätere wird abgelehnt."
            )
        extra += [
            f"Zeilenregel `{r.left}` ≤ `{r.right}`, sonst abgelehnt: „{r.reason}“."
            for r in table.row_rules
        ]
        if table.total_column:
            group = ", ".join(f"`{k}`" for k in table.key if k != table.total_column)
            extra.append(
                f"Je {group} entweder eine Zeile `{table.total_column}` = `{GESAMT}` oder Zeilen "
                "je Art, nie beides (sonst würde doppelt gezählt): eine solche Gruppe wird als "
                "Ganzes abgelehnt."
            )
        if table.allows_name_column:
            extra.append("Die Spalte `name` bezeichnet hier eine Einrichtung und ist erlaubt.")
        if extra:
            out += ["", *(f"- {e}" for e in extra)]
    out += ["", "## Kategorien", ""]
    for cat in CATEGORIES.values():
        if cat.name == "jn":
            continue
        out += [f"### Liste `{cat.name}`" + f' <a id="liste-{cat.name}"></a>', ""]
        if cat.groups:
            out += ["| Code | Bezeichnung | Gruppe im Bericht |", "|---|---|---|"]
            out += [f"| `{c}` | {lab} | {cat.groups.get(c, '')} |" for c, lab in cat.labels.items()]
        else:
            out += ["| Code | Bezeichnung |", "|---|---|"]
            out += [f"| `{c}` | {lab} |" for c, lab in cat.labels.items()]
        out.append("")
    personal = sorted(PERSONAL_DATA_COLUMNS | {PERSONAL_NAME_COLUMN})
    out += [
        "## Was mit fehlerhaften Angaben geschieht",
        "",
        "Nichts geht verloren, nichts geschieht stillschweigend.",
        "",
        "- **Eine Datei, die als Ganzes unbrauchbar ist**, hält die Aufbereitung an, bevor "
        "etwas geschrieben wird (Exit-Status 2, deutsche Meldung mit Dateiname, Problem und dem, "
        "was gefunden wurde). Die bisherigen aufbereiteten Daten bleiben unverändert. Gründe: "
        "nicht lesbar (Kodierung, Binärdatei), keine Kopfzeile, eine Pflichtspalte fehlt, eine "
        "Pflichttabelle fehlt, eine Spalte mit personenbezogenen Daten. Als personenbezogen "
        "gelten Spalten, die so heißen oder so beginnen oder enden: "
        + ", ".join(f"`{p}`" for p in personal)
        + " (`name` nur als ganzer Name oder erstes Wort, etwa `name_mutter`, und nicht in "
        "`standorte`, wo er die Einrichtung bezeichnet; `standort_name` ist erlaubt).",
        "- **Eine Zeile, die eine Regel verletzt**, wird mit Datei, Zeilennummer in dieser "
        "Datei (wie im Editor bzw. im Tabellenblatt), den Originalwerten und allen Gründen nach "
        f"`{REJECTS_FOLDER}/<tabelle>.csv` gelegt (UTF-8, `;`); die anderen Zeilen werden "
        "weiter verarbeitet. Regeln: richtiger Typ, bekannte Kategorie, Wertebereich, "
        "Pflichtangabe vorhanden, Datum nicht in der Zukunft, Standort vorhanden, die "
        "Zeilenregeln oben, eindeutiger Schlüssel, so viele Felder wie die Kopfzeile.",
        "- **Abgleich**: Für jede Tabelle gilt gelesen = angenommen + abgelehnt; die Zahlen "
        f"stehen in der Zusammenfassung und in `{MANIFEST}` neben den Daten, zusammen mit der "
        "SHA-256-Prüfsumme jeder Rohdatei, der Konfiguration und ihrem Hash.",
        "- Die aufbereiteten Daten werden als Ganzes ausgetauscht: Der neue Stand wird in einem "
        "Nachbarordner gebaut und erst am Ende an die Stelle des alten gesetzt.",
        "",
        "## Warum keine Validierungsbibliothek",
        "",
        "Die Zeilenprüfung ist eigener, vektorisierter pandas-Code statt pandera oder "
        "frictionless: Wir brauchen für jede abgelehnte Zeile die Quelldatei, die Zeilennummer "
        "im Editor und *alle* Gründe auf Deutsch gesammelt; beides liefern diese Bibliotheken "
        "nicht ohne Nacharbeit je Zeile. Alle Regeln kommen aus einer Stelle, `schema.py`.",
        "",
    ]
    return "\n".join(out)


def write_contract_markdown(path: Path | None = None) -> Path:
    """Write ``docs/datenvertrag.md`` (relative to the repository root)."""
    from analysis.config import project_root

    target = path or project_root() / CONTRACT_DOC
    target.write_text(contract_markdown(), encoding="utf-8")
    return target


if __name__ == "__main__":  # pragma: no cover
    print(write_contract_markdown())
