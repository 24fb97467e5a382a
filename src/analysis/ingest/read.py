"""Rohdateien lesen: CSV-Dialekte und XLSX zu Textzellen mit Zeilennummern.

Finds each table's files, decides encoding and delimiter by a fixed rule, finds the header
row and returns the data rows as text cells; nothing is interpreted here (that is
``validate``).
"""

from __future__ import annotations

import bisect
import csv
import hashlib
import io
import zipfile
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

from analysis import formatting
from analysis.checksums import sha256_file
from analysis.contract.safety import personal_data_hit
from analysis.contract.schema import (
    HEADER_WINDOW,
    MAX_LINE_CHARS,
    TABLE_ORDER,
    XLSX_MAX_CELLS,
    XLSX_MAX_RATIO,
    XLSX_MAX_UNPACKED,
    XLSX_RATIO_FROM,
    Table,
    fold_name,
)
from analysis.errors import FhError, os_error_text
from analysis.ingest.manifest import FileReport

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
# Spreadsheet formats that clearly belong to a table but cannot be read: refused, not ignored.
REFUSED_SUFFIXES = (".xls", ".ods", ".numbers")
#: Delimiters tried in this order; the first one that yields a header wins.
DELIMITERS = (";", "\t", ",")
# Files in a target folder that are not ours but belong there (kept across replacements).
_KEEP_IN_TARGET = ("README.md", ".gitkeep", ".gitignore")
LINE_COL = "_zeile"
FILE_COL = "_datei"
#: Column of the read frame with a German reason for rows whose line is not valid in the
#: file's encoding ("" for the others); validation turns it into a row error.
ENCODING_COL = "_kodierung"
ENCODING_KIND = "Zeichenkodierung"


# --------------------------------------------------------------------------- reading


@dataclass
class _Sheet:
    """A file reduced to text cells: the data rows with their line numbers."""

    report: FileReport  # what the summary and the manifest say of the file
    frame: pd.DataFrame  # well-formed rows: one str column per (folded) header column + _zeile
    bad_rows: pd.DataFrame  # rows not split into the columns: _zeile, arten (kinds), gruende


@dataclass
class Decoded:
    """A CSV file's text, its encoding, and the lines that are not valid in that encoding."""

    text: str
    encoding: str
    bad_lines: list[int] = field(default_factory=list)  # 1-based, as a text editor counts
    bad_reason: str = ""  # German reject reason for those lines


def _physical_lines(data: bytes) -> list[bytes]:
    # The same line breaks as _split_records and pyarrow: \r\n, \n and a lone \r.
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")


def decode(data: bytes, name: str) -> Decoded:
    """UTF-8 (with or without BOM) or Windows-1252, decided per file by a fixed rule.

    Valid UTF-8 is UTF-8. Otherwise the lines decide: if the lines with valid UTF-8
    umlauts are at least as many as the lines that are not UTF-8, the file is UTF-8 and
    those few lines are row errors ("Zeichenkodierung"); else it is Windows-1252 and lines
    that are valid UTF-8 umlauts are the row errors. One stray line never turns the whole
    file into mojibake. No guessing libraries.
    """
    bom = data.startswith(b"\xef\xbb\xbf")
    if bom:
        data = data[3:]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data:
        raise FhError(
            f"{name}: Datei ist keine Textdatei in UTF-8 oder Windows-1252 (sie enthält "
            "Nullbytes, z. B. UTF-16 oder ein Binärformat). Bitte als CSV (UTF-8) speichern."
        )
    utf8 = "UTF-8 mit BOM" if bom else "UTF-8"
    try:
        return Decoded(data.decode("utf-8"), utf8)
    except UnicodeDecodeError as exc:
        first_bad = exc.start  # 0-based, after the BOM if there is one
    not_utf8: list[int] = []
    utf8_umlauts: list[int] = []
    for number, line in enumerate(_physical_lines(data), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            not_utf8.append(number)
        else:
            utf8_umlauts.append(number)
    if (bom or utf8_umlauts) and len(not_utf8) <= len(utf8_umlauts):
        return Decoded(
            data.decode("utf-8", errors="replace"),
            utf8,
            not_utf8,
            f"{ENCODING_KIND}: Zeile ist kein gültiges UTF-8 wie der Rest der Datei "
            "(vermutlich Windows-1252) – Zeichen nicht lesbar",
        )
    if bom:
        raise FhError(
            f"{name}: Datei beginnt mit einer UTF-8-Kennung (BOM), ist aber kein gültiges "
            f"UTF-8 (ungültiges Byte an Stelle {first_bad + 4} der Datei, ab 1 gezählt). Bitte "
            "erneut als UTF-8 exportieren."
        )
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise FhError(
            f"{name}: Zeichenkodierung ist weder UTF-8 noch Windows-1252 "
            f"(ungültiges Byte an Stelle {exc.start + 1} der Datei, ab 1 gezählt). Bitte als CSV "
            "(UTF-8) speichern."
        ) from exc
    return Decoded(
        text,
        "Windows-1252",
        utf8_umlauts,
        f"{ENCODING_KIND}: Zeile ist UTF-8-kodiert, der Rest der Datei Windows-1252 – "
        "Umlaute wären verfälscht",
    )


WIDTH_KIND = "Anzahl der Felder passt nicht zur Kopfzeile"
LENGTH_KIND = "Zeile zu lang"


def _width_reason(fields: int, width: int) -> tuple[str, str]:
    return WIDTH_KIND, (
        f"Zeile hat {fields} Felder, die Kopfzeile {width} – Werte lassen sich keiner Spalte "
        "zuordnen und werden nicht übernommen"
    )


def _length_reason(length: int) -> tuple[str, str]:
    return LENGTH_KIND, (
        f"Zeile ist mit {formatting.number(length)} Zeichen zu lang (höchstens "
        f"{formatting.number(MAX_LINE_CHARS)}) – Werte werden nicht übernommen"
    )


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
    # A column of the contract is what the contract says it is (`name` in standorte names
    # the site); every other header is checked for personal data.
    personal = [
        _shown(original)
        for original, f in zip(header, folded, strict=True)
        if f not in known and personal_data_hit(original)
    ]
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
        (_shown(orig.strip()) or f"Spalte {i + 1} (ohne Namen)")
        for i, (orig, f) in enumerate(zip(header, folded, strict=True))
        if f not in known
    ]
    return folded, unknown


def _shown(text: str, limit: int = 60) -> str:
    """A header as named in messages: invisible characters made visible, long ones cut."""
    visible = "".join(
        f"<U+{ord(c):04X}>" if c in "\u00ad\u200b\u200c\u200d\u2060\ufeff" else c for c in text
    )
    return visible if len(visible) <= limit else visible[: limit - 1] + "…"


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
    decoded = decode(data, name)
    text, report.encoding = decoded.text, decoded.encoding
    if not text.strip():
        raise FhError(f"{name}: Datei ist leer – keine Kopfzeile, keine Daten.")
    if report.encoding == "UTF-8" and not decoded.bad_lines:
        payload = data
    elif report.encoding == "UTF-8 mit BOM" and not decoded.bad_lines:
        payload = data[3:]
    else:
        payload = text.encode("utf-8")
    del data
    bad_lines = set(decoded.bad_lines)
    marker = next((c for c in "\x1f\x1e\x1d\x1c\x01\x02" if c not in text), None)
    if '"' not in text and marker is not None:
        # Fast path: no quoting, so a record is a physical line; pyarrow splits and
        # classifies all lines in C++ and Python only sees the header and broken rows.
        del text
        body = _read_plain(name, table, payload, marker, bad_lines)
    else:
        del payload
        body = _read_quoted(name, table, text, bad_lines)
    frame, bad, header, folded, unknown, enc_records = body
    report.delimiter = {"\t": "Tab"}.get(header.delimiter, header.delimiter)
    report.header_line = header.line
    report.skipped_rows = header.skipped
    report.unknown_columns = unknown
    report.rows = len(frame) + len(bad)
    frame.columns = [*folded, LINE_COL]
    reasons = [
        (line, (ENCODING_KIND, kind), f"{decoded.bad_reason}; {why}")
        if line in enc_records
        else (line, (kind,), why)
        for line, kind, why in bad
    ]
    if enc_records:
        hit = frame[LINE_COL].isin(enc_records)
        frame[ENCODING_COL] = np.where(hit, decoded.bad_reason, "")
        report.encoding_error_lines = sorted(
            set(frame.loc[hit, LINE_COL].tolist()) | {b[0] for b in bad} & enc_records
        )
    return _Sheet(report, frame, _bad_frame(reasons))


def _bad_frame(rows: list[tuple[int, tuple[str, ...], str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[LINE_COL, "arten", "gruende"], dtype=object)
    return frame.astype({LINE_COL: "int64"})


# frame, bad rows (start line, kind, reason), header, folded names, unknown columns, and the
# start lines of records that contain a line not valid in the file's encoding
_Body = tuple[pd.DataFrame, list[tuple[int, str, str]], _Header, list[str], list[str], set[int]]


def _arrow_options(cols: list[str], delimiter: str, block_size: int = 1 << 24) -> dict[str, Any]:
    return {
        "read_options": pacsv.ReadOptions(column_names=cols, block_size=block_size),
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


def _arrow_read(name: str, payload: bytes, cols: list[str], delimiter: str) -> pa.Table:
    """pyarrow's CSV reader; a line longer than its block is read again as one block."""
    try:
        return pacsv.read_csv(io.BytesIO(payload), **_arrow_options(cols, delimiter))
    except (pa.ArrowException, ValueError) as exc:
        if len(payload) < 1 << 24:
            raise FhError(f"{name}: Datei ist nicht lesbar ({exc}).") from exc
    try:  # "straddling object straddles two block boundaries": one line > 16 MB
        block = min(len(payload) + 1, 2**31 - 1)
        return pacsv.read_csv(io.BytesIO(payload), **_arrow_options(cols, delimiter, block))
    except (pa.ArrowException, ValueError) as exc:
        raise FhError(f"{name}: Datei ist nicht lesbar ({exc}).") from exc


def _to_frame(columns: dict[str, pa.Array]) -> pd.DataFrame:
    table = pa.table({c: pc.utf8_trim_whitespace(a) for c, a in columns.items()})
    return table.to_pandas(
        types_mapper={pa.string(): pd.StringDtype("pyarrow", na_value=np.nan)}.get
    )


def _read_plain(name: str, table: Table, payload: bytes, marker: str, bad_lines: set[int]) -> _Body:
    """Unquoted CSV: every physical line is one record (line number = position + 1)."""
    lines = _arrow_read(name, payload, ["z"], marker).column("z").combine_chunks()
    del payload
    head = lines.slice(0, HEADER_WINDOW * 20).to_pylist()
    header = _detect_header(name, table, head, list(range(1, len(head) + 1)))
    folded, unknown = _check_header(name, table, header.names, header.names)
    delim, width = header.delimiter, len(header.names)
    body = lines.slice(header.record + 1)
    line_no = np.arange(header.record + 2, header.record + 2 + len(body))
    nonblank = pc.not_equal(pc.utf8_trim(body, characters=" \t" + delim), "")
    nonblank = nonblank.to_numpy(zero_copy_only=False)
    length = pc.utf8_length(body).to_numpy(zero_copy_only=False)
    long = length > MAX_LINE_CHARS
    # Split once and count the fields from the split instead of searching the delimiters a
    # second time (about 10 % of reading a file). A line that is too long is rejected
    # unsplit (a hostile file of such lines would otherwise have every field materialised).
    split = pc.split_pattern(pc.if_else(pa.array(long), "", body) if long.any() else body, delim)
    fields = pc.list_value_length(split).to_numpy(zero_copy_only=False)
    ok = fields == width
    if header.trailing:
        ok |= (fields == width + 1) & pc.ends_with(body, delim).to_numpy(zero_copy_only=False)
    ok &= ~long
    bad_mask = nonblank & ~ok
    ok &= nonblank
    bad = [
        (line, *(_length_reason(n) if n > MAX_LINE_CHARS else _width_reason(f, width)))
        for line, f, n in zip(
            line_no[bad_mask].tolist(),
            fields[bad_mask].tolist(),
            length[bad_mask].tolist(),
            strict=True,
        )
    ]
    parts = pc.filter(split, pa.array(ok))
    starts = parts.offsets.to_numpy()[:-1]
    values = parts.values
    frame = _to_frame({f"c{j}": pc.take(values, pa.array(starts + j)) for j in range(width)})
    frame[LINE_COL] = line_no[ok]
    return frame, bad, header, folded, unknown, bad_lines


def _read_quoted(name: str, table: Table, text: str, bad_lines: set[int]) -> _Body:
    """CSV with quotes: records may span lines, so group lines by quote parity first."""
    records, starts = _split_records(text)
    del text
    # A line not valid in the file's encoding taints the record it belongs to.
    enc_records = {starts[bisect.bisect_right(starts, line) - 1] for line in bad_lines}
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
    bad: list[tuple[int, str, str]] = []
    for rec, line in zip(body, body_lines, strict=True):
        if not rec.strip(blank_chars):
            continue
        if len(rec) > MAX_LINE_CHARS:
            bad.append((line, *_length_reason(len(rec))))
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
            bad.append((line, *_width_reason(n, width)))
            continue
        plain_lines.append(line)
    del body, records, starts

    cols = [f"c{i}" for i in range(width)]
    frames: list[pd.DataFrame] = []
    if plain_rows:
        frames.append(_arrow_split(plain_rows, cols, delim, name).assign(**{LINE_COL: plain_lines}))
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
                fields = len(cells) if len(parsed) == 1 else 0
                bad.append((line, *_width_reason(fields, width)))
                continue
            good.append([c.strip() for c in cells])
            good_lines.append(line)
        if good:
            q = pd.DataFrame(good, columns=cols, dtype="str")
            frames.append(q.assign(**{LINE_COL: good_lines}))
    bad.sort()
    return _combine(frames, cols), bad, header, folded, unknown, enc_records


def _arrow_split(rows: list[str], cols: list[str], delim: str, name: str) -> pd.DataFrame:
    """Split unquoted rows with pyarrow's CSV reader (fast); every row has len(cols) fields."""
    payload = "\n".join(rows).encode("utf-8")
    table = _arrow_read(name, payload, cols, delim)
    if table.num_rows != len(rows):
        raise FhError(f"{name}: Datei ist nicht lesbar (Zeilen ließen sich nicht trennen).")
    return _to_frame({c: table[c].combine_chunks() for c in cols})


def _combine(frames: list[pd.DataFrame], cols: list[str]) -> pd.DataFrame:
    if not frames:
        empty = {c: pd.Series([], dtype="str") for c in cols}
        return pd.DataFrame({**empty, LINE_COL: pd.Series([], dtype="int64")})
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    if len(frames) > 1:
        frame = frame.sort_values(LINE_COL, kind="stable", ignore_index=True)
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


def _megabytes(size: int) -> str:
    return formatting.number(size / (1024 * 1024))


def _check_archive(path: Path, name: str) -> None:
    """Refuse an XLSX whose members unpack to far more than any export (a zip bomb).

    Reads only the archive's directory; ``zipfile`` (which openpyxl uses) never unpacks a
    member beyond the size declared there, so the declared sizes are what counts.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FhError(
            f"{name}: Excel-Datei ist nicht lesbar (keine gültige XLSX-Datei: {exc})."
        ) from exc
    total = sum(m.file_size for m in members)
    big = [m for m in members if m.file_size > XLSX_RATIO_FROM]
    ratio = max((m.file_size / max(m.compress_size, 1) for m in big), default=0.0)
    if total > XLSX_MAX_UNPACKED or ratio > XLSX_MAX_RATIO:
        raise FhError(
            f"{name}: Excel-Datei wird nicht gelesen – sie entpackt sich auf {_megabytes(total)} MB "
            f"(höchstens {_megabytes(XLSX_MAX_UNPACKED)} MB), ein Teil davon auf das "
            f"{formatting.number(ratio)}-Fache seiner Größe (höchstens {XLSX_MAX_RATIO}-fach). "
            "So sieht keine Exportdatei aus, sondern eine „Zip-Bombe“. Bitte die Datei prüfen "
            "oder die Tabelle als CSV exportieren."
        )


def read_xlsx_file(path: Path, table: Table) -> _Sheet:
    """Read the sheet named like the table (else the first sheet) of an XLSX file."""
    import openpyxl

    name = path.name
    report = FileReport(name=name, sha256=sha256_file(path), encoding="XLSX")
    _check_archive(path, name)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise FhError(
            f"{name}: Excel-Datei ist nicht lesbar ({type(exc).__name__}: {exc})."
        ) from exc
    nonblank: list[tuple[int, list[str]]] = []  # (sheet row, cells without trailing blanks)
    try:
        sheets = {fold_name(ws.title): ws for ws in wb.worksheets}
        ws = sheets.get(table.name) or wb.worksheets[0]
        report.sheet = ws.title
        # The stored dimension (A1:XFD1048576 in a crafted file) would pad every row to
        # 16,384 cells; without it a row is as long as its last cell.
        ws.reset_dimensions()
        cells_read = 0
        for number, values in enumerate(ws.iter_rows(min_row=1, values_only=True), start=1):
            cells_read += len(values)
            if cells_read > XLSX_MAX_CELLS:
                raise FhError(
                    f"{name} (Blatt {report.sheet}): mehr als "
                    f"{formatting.number(XLSX_MAX_CELLS)} Zellen – zu groß für den Excel-Weg. "
                    "Bitte die Tabelle als CSV exportieren."
                )
            cells = [_cell_text(v) for v in values]
            while cells and not cells[-1].strip():
                cells.pop()
            if cells:
                nonblank.append((number, cells))
    except FhError:
        raise
    except Exception as exc:
        raise FhError(
            f"{name}: Excel-Datei ist nicht lesbar ({type(exc).__name__}: {exc})."
        ) from exc
    finally:
        wb.close()
    where = f"{name} (Blatt {report.sheet})"
    pos, count, cells = _find_header(nonblank[:HEADER_WINDOW], table)
    if pos is None:
        raise _no_header_error(where, table, count, cells)
    report.header_line = nonblank[pos][0]
    report.skipped_rows = [" ".join(c for c in cells if c) for _, cells in nonblank[:pos]]
    header = list(nonblank[pos][1])
    folded, report.unknown_columns = _check_header(where, table, header, header)
    width = len(header)
    good: list[list[str]] = []
    lines: list[int] = []
    bad: list[tuple[int, tuple[str, ...], str]] = []
    for number, row in nonblank[pos + 1 :]:
        if len(row) > width:  # trailing blanks are gone: the row uses more columns
            kind, why = _width_reason(len(row), width)
            bad.append((number, (kind,), why))
            continue
        good.append(row + [""] * (width - len(row)))
        lines.append(number)
    del nonblank
    cols = [f"c{i}" for i in range(width)]
    frame = _combine(
        [pd.DataFrame(good, columns=cols, dtype="str").assign(**{LINE_COL: lines})] if good else [],
        cols,
    )
    frame.columns = [*folded, LINE_COL]
    report.rows = len(frame) + len(bad)
    return _Sheet(report, frame, _bad_frame(bad))


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
    try:
        entries = sorted(raw_dir.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        raise FhError(f"Rohdatenordner {raw_dir} ist nicht lesbar: {os_error_text(exc)}.") from exc
    for path in entries:
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
