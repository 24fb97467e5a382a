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
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
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
from analysis.ingest.xlsx_rules import (
    BUILTIN_FORMATS,
    MAC_EPOCH,
    WINDOWS_EPOCH,
    cast_number,
    coordinate_to_tuple,
    from_excel,
    from_ISO8601,
    is_date_format,
    is_timedelta_format,
)

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
# Spreadsheet formats that clearly belong to a table but cannot be read: refused, not ignored.
REFUSED_SUFFIXES = (".xls", ".ods", ".numbers")
#: Delimiters tried in this order; the first one that yields a header wins.
DELIMITERS = (";", "\t", ",")
# Files in a target folder that are not ours but belong there (kept across replacements).
_KEEP_IN_TARGET = ("README.md", ".gitkeep", ".gitignore")
LINE_COL = "_zeile"
#: The kind of reject of a row whose line is not valid in its file's encoding.
ENCODING_KIND = "Zeichenkodierung"


# --------------------------------------------------------------------------- reading


class BadRow(NamedTuple):
    """A row that could not be split into the header's columns."""

    line: int  # its (first) line in the file
    kinds: tuple[str, ...]  # the kinds of reason (for the summary's counts)
    reason: str  # German, as the rejects file gives it


@dataclass
class Sheet:
    """A file reduced to text cells: the data rows with their line numbers."""

    report: FileReport  # what the summary and the manifest say of the file
    frame: pa.Table  # well-formed rows: a string column per (folded) header column + _zeile
    bad_rows: list[BadRow]  # rows not split into the columns, in line order
    encoding_rows: np.ndarray | None = None  # rows with a line not valid in the encoding
    encoding_reason: str = ""  # German reason for those rows


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
    lines = _physical_lines_text(text)
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


def read_csv_file(path: Path, table: Table) -> Sheet:
    """Read one CSV export into text cells; raises only ``FhError`` for unusable files."""
    name = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FhError(f"{name}: Datei ist nicht lesbar ({exc.strerror}).") from exc
    report = FileReport(name=name, sha256=hashlib.sha256(data).hexdigest())
    body = _read_utf8(name, table, data)
    if body is not None:
        decoded = Decoded("", "UTF-8 mit BOM" if data.startswith(_BOM) else "UTF-8")
    else:
        body, decoded = _read_decoded(name, table, data)
    del data
    report.encoding = decoded.encoding
    frame, bad, header, folded, unknown, enc_records = body
    report.delimiter = {"\t": "Tab"}.get(header.delimiter, header.delimiter)
    report.header_line = header.line
    report.skipped_rows = header.skipped
    report.unknown_columns = unknown
    report.rows = frame.num_rows + len(bad)
    frame = frame.rename_columns([*folded, LINE_COL])
    rows = [
        BadRow(line, (ENCODING_KIND, kind), f"{decoded.bad_reason}; {why}")
        if line in enc_records
        else BadRow(line, (kind,), why)
        for line, kind, why in bad
    ]
    sheet = Sheet(report, frame, rows)
    if enc_records:
        lines = frame.column(LINE_COL).to_numpy()
        hit = np.isin(lines, np.fromiter(enc_records, dtype=np.int64))
        sheet.encoding_rows, sheet.encoding_reason = hit, decoded.bad_reason
        report.encoding_error_lines = sorted(
            set(lines[hit].tolist()) | {b[0] for b in bad} & enc_records
        )
    return sheet


_BOM = b"\xef\xbb\xbf"


def _read_utf8(name: str, table: Table, data: bytes) -> _Body | None:
    """The usual file, read without turning it into a Python string: UTF-8 without quotes.

    The whole file is checked to be UTF-8 (without a copy, so pyarrow need not check each
    column again) and only the head, where the header is, is decoded. Returns None for any
    other file, and for one pyarrow cannot read, so that ``_read_decoded`` decides (and
    names the problem).
    """
    if b'"' in data or b"\x00" in data or data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    payload = memoryview(data)[3:] if data.startswith(_BOM) else memoryview(data)
    if not _is_utf8(payload):
        return None  # the lines decide the encoding there
    text = bytes(_head_bytes(payload)).decode("utf-8")
    if not text or text.isspace():
        return None  # an empty file or one of blank lines (or not only blank): decided there
    try:
        return _read_plain(name, table, payload, _head_lines(text), set(), refuse=False)
    except (pa.ArrowException, ValueError):
        return None


def _is_utf8(payload: memoryview) -> bool:
    """Whether the bytes are valid UTF-8: Arrow checks them as one value, without a copy."""
    offsets = pa.py_buffer(np.array([0, len(payload)], dtype=np.int64))
    whole = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(payload)])
    try:
        whole.cast(pa.large_string())
    except pa.ArrowInvalid:
        return False
    return True


def _head_bytes(payload: memoryview) -> memoryview:
    """The first lines of a file (as many as ``_head_lines`` keeps), whole."""
    size = 1 << 16
    while True:
        head = payload[:size]
        breaks = bytes(head).count(b"\n") + bytes(head).count(b"\r")
        if size >= len(payload) or breaks > 2 * HEADER_WINDOW * 20:
            break
        size *= 4
    if size < len(payload):  # cut after the last line break (not inside a character)
        cut = max(bytes(head).rfind(b"\n"), bytes(head).rfind(b"\r"))
        head = head[: cut + 1]
    return head


def _read_decoded(name: str, table: Table, data: bytes) -> tuple[_Body, Decoded]:
    """Any other file: decoded in Python (UTF-8 with lines in another encoding,
    Windows-1252), quotes read by the general reader."""
    decoded = decode(data, name)
    text = decoded.text
    if not text or text.isspace():
        raise FhError(f"{name}: Datei ist leer – keine Kopfzeile, keine Daten.")
    if decoded.encoding == "UTF-8" and not decoded.bad_lines:
        payload = memoryview(data)
    elif decoded.encoding == "UTF-8 mit BOM" and not decoded.bad_lines:
        payload = memoryview(data)[3:]
    else:
        payload = memoryview(text.encode("utf-8"))
    bad_lines = set(decoded.bad_lines)
    body: _Body | None = None
    if '"' not in text:
        # No quoting, so a record is a physical line and pyarrow splits the lines into the
        # header's columns; Python only sees the header and broken rows.
        body = _read_plain(name, table, payload, _head_lines(text), bad_lines)
    if body is None:
        body = _read_quoted(name, table, text, bad_lines)
    return body, decoded


# frame, bad rows (start line, kind, reason), header, folded names, unknown columns, and the
# start lines of records that contain a line not valid in the file's encoding
_Body = tuple[pa.Table, list[tuple[int, str, str]], _Header, list[str], list[str], set[int]]


def _head_lines(text: str) -> list[str]:
    """The first physical lines of a file, where its header must be."""
    count = HEADER_WINDOW * 20
    cut = 0
    for _ in range(count):
        nl = text.find("\n", cut)
        cr = text.find("\r", cut, nl if nl >= 0 else len(text))
        if cr >= 0:
            cut = cr + 2 if text.startswith("\n", cr + 1) else cr + 1
        elif nl >= 0:
            cut = nl + 1
        else:
            cut = len(text)
            break
    return _physical_lines_text(text[:cut])[:count]


def _physical_lines_text(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def free_text(table: Table) -> set[str]:
    """Contract columns of free text (``fall_id``): nearly every value differs, so they are
    kept as text; every other column is read as its distinct texts and their positions."""
    return {
        c.name
        for c in table.columns
        if c.type == "str"
        and not c.site_id
        and c.name not in (table.site_column, table.area_column)
    }


_DICTIONARY = pa.dictionary(pa.int32(), pa.string())


def _arrow_options(
    cols: list[str],
    delimiter: str,
    block_size: int = 1 << 24,
    handler: Any = None,
    whole: set[str] | None = None,
) -> dict[str, Any]:
    return {
        "read_options": pacsv.ReadOptions(
            column_names=cols, block_size=block_size, use_threads=handler is None
        ),
        "parse_options": pacsv.ParseOptions(
            delimiter=delimiter,
            quote_char=False,
            escape_char=False,
            ignore_empty_lines=False,
            newlines_in_values=False,
            invalid_row_handler=handler,
        ),
        "convert_options": pacsv.ConvertOptions(
            column_types={
                c: pa.string() if whole is None or c in whole else _DICTIONARY for c in cols
            },
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
            # Every input is valid UTF-8 already (checked whole, or encoded by Python), and
            # a delimiter or line break never falls inside a character.
            check_utf8=False,
        ),
    }


def _arrow_read(
    name: str,
    payload: bytes | pa.Buffer,
    cols: list[str],
    delimiter: str,
    handler: Any = None,
    whole: set[str] | None = None,
    refuse: bool = True,
) -> pa.Table:
    """pyarrow's CSV reader; a line longer than its block is read again as one block.

    Columns in ``whole`` (all when None) are text, the others dictionary-encoded. A file
    it cannot read is refused (``FhError``), or with ``refuse=False`` its error raised.
    """
    try:
        return pacsv.read_csv(
            pa.BufferReader(payload),
            **_arrow_options(cols, delimiter, handler=handler, whole=whole),
        )
    except (pa.ArrowException, ValueError) as exc:
        if len(payload) < 1 << 24:
            if not refuse:
                raise
            raise FhError(f"{name}: Datei ist nicht lesbar ({exc}).") from exc
    try:  # "straddling object straddles two block boundaries": one line > 16 MB
        block = min(len(payload) + 1, 2**31 - 1)
        return pacsv.read_csv(
            pa.BufferReader(payload),
            **_arrow_options(cols, delimiter, block, handler=handler, whole=whole),
        )
    except (pa.ArrowException, ValueError) as exc:
        if not refuse:
            raise
        raise FhError(f"{name}: Datei ist nicht lesbar ({exc}).") from exc


class _Misfits:
    """pyarrow's handler of rows that do not have the header's number of fields."""

    def __init__(self) -> None:
        self.rows: list[tuple[int | None, str, int]] = []

    def __call__(self, row: Any) -> str:
        self.rows.append((row.number, row.text, row.actual_columns))
        return "skip"


def _read_plain(
    name: str,
    table: Table,
    payload: memoryview,
    head: list[str],
    bad_lines: set[int],
    *,
    refuse: bool = True,
) -> _Body | None:
    """Unquoted CSV: every physical line is one record, split by pyarrow's CSV reader.

    Returns None where this reader cannot number the lines (the general reader then reads
    the file). A file pyarrow cannot read is refused (``FhError``), or with ``refuse=False``
    its error is raised as is.
    """
    header = _detect_header(name, table, head, list(range(1, len(head) + 1)))
    folded, unknown = _check_header(name, table, header.names, header.names)
    delim, width = header.delimiter, len(header.names)
    # The data start after the header line (its bytes: the lines before it, each with its
    # line break; the breaks of the head are known from the text).
    start = _line_offset(payload, header.record + 1)
    if bytes(payload[start : start + 3]) == _BOM:
        return None  # pyarrow would drop a byte order mark that starts its input
    cols = [f"c{j}" for j in range(width + (1 if header.trailing else 0))]
    # Free text as text, every other column (codes, dates, numbers, columns outside the
    # contract) as its distinct texts: pyarrow then keeps each distinct text once.
    texts = free_text(table)
    whole = {c for c, f in zip(cols, folded, strict=False) if f in texts}
    misfits = _Misfits()
    if start < len(payload):
        parsed = _arrow_read(
            name, pa.py_buffer(payload).slice(start), cols, delim, misfits, whole, refuse
        )
    else:  # the header is the last line
        parsed = _text_table([], [], cols).drop_columns([LINE_COL])
    del payload
    if any(number is None for number, _, _ in misfits.rows):
        return None
    first = header.line + 1  # line of the first data line
    total = parsed.num_rows + len(misfits.rows)
    misfit_lines = np.array([first - 1 + number for number, _, _ in misfits.rows], np.int64)
    every = np.arange(first, first + total, dtype=np.int64)
    line_no = every[~np.isin(every, misfit_lines)] if len(misfit_lines) else every
    columns = [one_array(parsed.column(c)) for c in cols]
    del parsed
    blank_chars = " \t" + delim
    length = _line_lengths(columns, width - 1 + (1 if header.trailing else 0))
    blank = _blank_rows(columns)
    ok = ~blank & (length <= MAX_LINE_CHARS)
    bad: list[tuple[int, str, str]] = [
        (line, *_length_reason(n))
        for line, n in zip(
            line_no[~blank & ~ok].tolist(), length[~blank & ~ok].tolist(), strict=True
        )
    ]
    extra_lines: list[int] = []
    extra_rows: list[list[str]] = []
    if header.trailing:
        # The extra last field must be empty; a line without the trailing delimiter (one
        # field fewer) is as good.
        rest = pc.equal(columns[-1], "").to_numpy(zero_copy_only=False)
        misplaced = ok & ~rest
        bad += [(line, *_width_reason(width + 1, width)) for line in line_no[misplaced].tolist()]
        ok &= rest
        columns = columns[:-1]
    for number, text, fields in misfits.rows:
        line = first - 1 + number
        if not text.strip(blank_chars):
            continue
        if len(text) > MAX_LINE_CHARS:
            bad.append((line, *_length_reason(len(text))))
        elif header.trailing and fields == width:
            extra_lines.append(line)
            extra_rows.append(text.split(delim))
        else:
            bad.append((line, *_width_reason(fields, width)))
    if not ok.all():
        keep = pa.array(ok)
        columns = [pc.filter(c, keep) for c in columns]
    frame = pa.table(
        {f"c{j}": c for j, c in enumerate(columns)} | {LINE_COL: pa.array(line_no[ok])}
    )
    if extra_rows:
        more = pa.table(
            {
                f"c{j}": pa.array([r[j] for r in extra_rows], pa.string()).cast(c.type)
                for j, c in enumerate(columns)
            }
            | {LINE_COL: pa.array(extra_lines, pa.int64())}
        )
        frame = pa.concat_tables([frame, more])
        frame = frame.take(pc.sort_indices(frame.column(LINE_COL)))
    bad.sort()
    return frame, bad, header, folded, unknown, bad_lines


def one_array(column: pa.ChunkedArray) -> pa.Array:
    """A column as one array (the chunks of a dictionary column share one dictionary)."""
    if column.num_chunks == 1:
        return column.chunk(0)
    if pa.types.is_dictionary(column.type) and column.num_chunks > 1:
        column = column.unify_dictionaries()
    return column.combine_chunks()


def _parts(column: pa.Array) -> tuple[pa.Array, np.ndarray | None]:
    """A text column's distinct texts and each row's position in them (None: one per row)."""
    if pa.types.is_dictionary(column.type):
        return column.dictionary, column.indices.to_numpy(zero_copy_only=False)
    return column, None


def _line_lengths(columns: list[pa.Array], delimiters: int) -> np.ndarray:
    """Characters of each line: its fields and the delimiters between them.

    A character takes at least one byte, so the bytes (from the offsets, without reading the
    text) tell which lines can be too long; only those are counted in characters.
    """
    size = np.full(len(columns[0]), delimiters, dtype=np.int64)
    if not len(size):
        return size
    counted: list[tuple[np.ndarray, np.ndarray | None, pa.Array]] = []
    for column in columns:
        texts, codes = _parts(column)
        offsets = np.frombuffer(texts.buffers()[1], dtype=np.int32)
        sizes = np.diff(offsets[texts.offset : texts.offset + len(texts) + 1])
        size += sizes if codes is None else sizes[codes]
        counted.append((sizes, codes, texts))
    maybe = np.flatnonzero(size > MAX_LINE_CHARS)
    if len(maybe):
        chars = np.full(len(maybe), delimiters, dtype=np.int64)
        for _, codes, texts in counted:
            where = maybe if codes is None else codes[maybe]
            chars += pc.utf8_length(texts.take(pa.array(where))).to_numpy(zero_copy_only=False)
        size[maybe] = chars
    return size


def _blank_rows(columns: list[pa.Array]) -> np.ndarray:
    """Rows whose every field is empty or spaces and tabs (a line of only delimiters)."""

    def blank(column: pa.Array) -> np.ndarray:
        texts, codes = _parts(column)
        empty = pc.equal(pc.utf8_trim(texts, characters=" \t"), "").to_numpy(zero_copy_only=False)
        return empty if codes is None else empty[codes]

    rows = blank(columns[0])
    candidates = np.flatnonzero(rows)
    if len(candidates) == 0 or len(columns) == 1:
        return rows
    where = pa.array(candidates)
    still = np.ones(len(candidates), dtype=bool)
    for column in columns[1:]:
        still &= blank(column.take(where))
    rows[candidates] = still
    return rows


def _line_offset(payload: memoryview, lines: int) -> int:
    """Byte position after the first ``lines`` physical lines (\r\n, \n or \r end one)."""
    size = 1 << 16
    while True:
        prefix = bytes(payload[:size])
        whole = size >= len(payload)
        pos = 0
        for _ in range(lines):
            nl = prefix.find(b"\n", pos)
            cr = prefix.find(b"\r", pos, nl if nl >= 0 else len(prefix))
            if cr >= 0 and (cr + 1 < len(prefix) or whole):
                pos = cr + 2 if prefix.startswith(b"\n", cr + 1) else cr + 1
            elif nl >= 0 and cr < 0:
                pos = nl + 1
            elif whole:
                return len(payload)
            else:
                break  # the lines go on past the prefix: look further
        else:
            return pos
        size *= 4


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
    frames: list[pa.Table] = []
    if plain_rows:
        split = _arrow_split(plain_rows, cols, delim, name)
        frames.append(split.append_column(LINE_COL, pa.array(plain_lines, pa.int64())))
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
            frames.append(_text_table(good, good_lines, cols))
    bad.sort()
    return _combine(frames, cols), bad, header, folded, unknown, enc_records


def _arrow_split(rows: list[str], cols: list[str], delim: str, name: str) -> pa.Table:
    """Split unquoted rows with pyarrow's CSV reader (fast); every row has len(cols) fields."""
    # pyarrow drops a byte order mark that starts its input: an empty line first keeps it.
    lead = bool(rows) and rows[0].startswith("\ufeff")
    payload = (("\n" if lead else "") + "\n".join(rows)).encode("utf-8")
    table = _arrow_read(name, payload, cols, delim)
    if lead:
        table = table.slice(1)
    if table.num_rows != len(rows):
        raise FhError(f"{name}: Datei ist nicht lesbar (Zeilen ließen sich nicht trennen).")
    return table


def _text_table(rows: list[list[str]], lines: list[int], cols: list[str]) -> pa.Table:
    """Rows of text cells (each with len(cols) cells) and their lines as an Arrow table."""
    return pa.table(
        {c: pa.array([r[j] for r in rows], pa.string()) for j, c in enumerate(cols)}
        | {LINE_COL: pa.array(lines, pa.int64())}
    )


def _combine(frames: list[pa.Table], cols: list[str]) -> pa.Table:
    if not frames:
        return _text_table([], [], cols)
    if len(frames) == 1:
        return frames[0]
    frame = pa.concat_tables(frames)
    return frame.take(pc.sort_indices(frame.column(LINE_COL)))


def _cell_text(value: Any) -> str:
    """The text a CSV export would hold for a cell's value; text and dates, most cells,
    are recognised first, before the chain of ``isinstance``."""
    if value is None:
        return ""
    kind = type(value)
    if kind is str:
        return value.strip()
    if kind is datetime:
        return value.date().isoformat()
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


class _Workbook:
    """An XLSX file as openpyxl reads it in read-only mode: shared strings, the date styles,
    the epoch and the worksheets in order, but no worksheet parsed yet.

    openpyxl's read-only worksheet parses a sheet once just to learn its size when the file
    states none (files written in openpyxl's write-only mode, like the demo's, do not), and
    builds a cell object for every cell. ``rows`` parses a sheet once, with openpyxl's own
    rules for each cell's value.

    The workbook's parts are read by openpyxl's rules (``ExcelReader`` as ``load_workbook``
    with ``read_only=True, data_only=True`` uses it) but without openpyxl, whose import
    alone costs more CPU than reading a small sheet: the package's content types name the
    workbook and shared strings parts, the workbook names its sheets and whether it counts
    from 1904, its relationships where each sheet is, the styles which cells are dates.
    Only what a value depends on is read; openpyxl also checks parts it then ignores
    (document properties, views, fonts) and refuses some malformed ones we read.
    Every part is parsed by ElementTree after the entity pass (``_refuse_entities``).
    """

    def __init__(self, path: Path) -> None:
        self.archive = zipfile.ZipFile(path)
        try:
            self._read_package()
        except BaseException:
            self.archive.close()
            raise

    def _read_package(self) -> None:
        archive = self.archive
        types = _parse_part(archive, "[Content_Types].xml")
        # (part name, content type) of each Override, and the Default types (by extension)
        overrides = [
            (el.get("PartName"), el.get("ContentType"))
            for el in types
            if _local(el.tag) == "Override"
        ]
        defaults = {el.get("ContentType") for el in types if _local(el.tag) == "Default"}
        strings = _first_part(overrides, _SHARED_STRINGS)
        self.strings = [] if strings is None else _read_strings(archive, strings[1:])
        # the workbook part (openpyxl's _find_workbook_part): the first of these types,
        # else the usual name if some writer made it a default type
        found = next(filter(None, (_first_part(overrides, t) for t in _WORKBOOK_TYPES)), None)
        if found is None:
            if not defaults & set(_WORKBOOK_TYPES):
                raise OSError("File contains no valid workbook part")
            found = "/xl/workbook.xml"
        workbook_part = found[1:]
        workbook = _parse_part(archive, workbook_part)
        properties: Any = None
        sheets: list[Any] = []
        for el in workbook:  # openpyxl takes the last of each, by local name
            tag = _local(el.tag)
            if tag == "workbookPr":
                properties = el
            elif tag == "sheets":
                sheets = list(el)
        date1904 = None if properties is None else properties.get("date1904")
        # openpyxl's Bool: false, f, 0 and the empty text are false, any other text true
        self.epoch = (
            MAC_EPOCH
            if date1904 is not None and date1904 not in ("false", "f", "0", "")
            else WINDOWS_EPOCH
        )
        names = set(archive.namelist())
        self.dates, self.spans = _date_styles(archive, names)
        # (title, part) of every worksheet, as openpyxl lists them (WorkbookParser.
        # find_sheets): a sheet without relationship id is left out; chart sheets and
        # sheets whose part is missing are no worksheets
        rels: dict[str | None, tuple[str, str]] | None = None
        self.sheets: list[tuple[str, str]] = []
        for sheet in sheets:
            # openpyxl's ChildSheet.from_tree: r:id, else a plain id (other namespaces are
            # dropped); a sheet without a name is refused as its descriptor refuses it
            rel_id = sheet.get(_REL_ID, sheet.get("id"))
            if not rel_id:
                continue
            title = sheet.get("name")
            if title is None:
                raise TypeError(
                    "<class 'openpyxl.packaging.workbook.ChildSheet'>.name should be "
                    "<class 'str'> but value is <class 'NoneType'>"
                )
            if rels is None:
                rels = _relationships(archive, workbook_part)
            kind, target = rels[rel_id]
            if target in names and "chartsheet" not in kind:
                self.sheets.append((title, target))

    def close(self) -> None:
        self.archive.close()

    def rows(self, part: str) -> Iterator[tuple[Any, ...]]:
        """Each row of the sheet from row 1 on as openpyxl's ``iter_rows(values_only=True)``
        gives it once the stated dimension is reset: a missing row is empty, a row is as
        long as its last cell.

        A cell's column comes from its coordinate's letters, each read once per sheet by
        openpyxl's ``coordinate_to_tuple`` (almost half a microsecond per call, asked per
        cell; our copy of it); a coordinate that is not plain letters followed by digits is
        always left to it, to be read or refused in its own way."""
        from xml.etree.ElementTree import iterparse

        with self.archive.open(part) as source:
            _refuse_entities(source)
        value_of = self._value
        # "AB" -> 28, for coordinates like AB12; only letters openpyxl reads as a column
        # (at most three), so a few thousand at most
        columns: dict[str, int] = {}
        counter = 1
        row_number = 0
        with self.archive.open(part) as source:
            for _, element in iterparse(source):
                if element.tag != _ROW:
                    continue
                row_number = _row_number(element.get("r"), row_number)
                # a cell's value at its column, the last one written there winning; the row
                # ends at its last cell's column, even if an earlier cell stood further right
                values: list[Any] = []
                column = 0
                for cell in element:
                    coordinate = cell.get("r")
                    if coordinate:
                        letters = coordinate.rstrip(_DIGITS)
                        column = columns.get(letters, 0) if letters != coordinate else 0
                        if not column:
                            column = coordinate_to_tuple(coordinate)[1]
                            if letters != coordinate and letters.isalpha():
                                columns[letters] = column
                    else:
                        column += 1
                    if column == len(values) + 1:
                        values.append(value_of(cell))
                    elif column > len(values):
                        values += [None] * (column - 1 - len(values))
                        values.append(value_of(cell))
                    else:
                        values[column - 1] = value_of(cell)
                element.clear()
                while counter < row_number:  # rows the file leaves out
                    counter += 1
                    yield ()
                if counter > row_number:  # a row number again or backwards: openpyxl skips it
                    continue
                counter += 1
                del values[column:]
                yield tuple(values)

    def _value(self, cell: Any) -> Any:
        """A cell's value by openpyxl's rules (``WorkSheetParser.parse_cell``, data only)."""
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            child = cell.find(_INLINE)
            if child is None:
                return None
            return _text_content(child)
        value = cell.findtext(_VALUE, None) or None
        if value is None:
            return None
        if kind == "n":
            number = cast_number(value)
            style = int(cell.get("s", 0) or 0)
            if style in self.dates:
                try:
                    return from_excel(number, self.epoch, timedelta=style in self.spans)
                except (OverflowError, ValueError):
                    return "#VALUE!"
            return number
        if kind == "s":
            return self.strings[int(value)]
        if kind == "b":
            return bool(int(value))
        if kind == "d":
            return from_ISO8601(value)
        return value  # str (a formula's text result), e (an error such as #N/A)


def _text_content(node: Any) -> str:
    """A rich text's characters (an inline string, a shared string) as openpyxl's
    ``Text.from_tree(node).content`` gives them: its last t, then the last t of each run
    (r); phonetic runs (rPh) are left out. Children count by their local name, as in
    ``Serialisable.from_tree``."""
    if len(node) == 1 and node[0].tag == _TEXT:  # plain text, as writers give it
        return node[0].text or ""
    plain = None
    runs: list[str] = []
    for child in node:
        tag = _local(child.tag)
        if tag == "t":
            plain = child.text
        elif tag == "r":
            run = None
            for part in child:
                if _local(part.tag) == "t":
                    run = part.text
            if run is not None:
                runs.append(run)
    return "".join(runs if plain is None else [plain, *runs])


def _refuse_entities(source: Any) -> None:
    """Parse a part's prolog with expat, refusing entity declarations and external
    entities as defusedxml does (``EntitiesForbidden``, ``ExternalReferenceForbidden``).

    The part is then parsed by ElementTree's C parser (a third of the time of defusedxml's
    Python-level one, which openpyxl used): the same
    expat reads the same bytes, so it finds no entity to expand or fetch. Declarations
    (entities, an external DTD) can only stand in the DOCTYPE, before the root element; an
    entity reference without a declaration is an error, not a fetch. So this pass stops
    where the root element starts (within the first chunk) instead of reading the sheet.
    A part that is no well-formed XML is left to that second parser, which names the error
    as before (``ParseError``; an encoding expat does not know fails in both passes alike);
    an error before the root element ends this pass as well, and a declaration comes before
    it. (Should the file be rewritten between the two passes, ElementTree still fetches
    nothing, and expat limits what an entity may expand to.)
    """
    from pyexpat import ExpatError, ParserCreate

    parser = ParserCreate()
    parser.EntityDeclHandler = _entity_declared
    parser.UnparsedEntityDeclHandler = _unparsed_entity_declared
    parser.ExternalEntityRefHandler = _external_entity
    parser.StartElementHandler = _root_started
    try:
        while chunk := source.read(1 << 16):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except (ExpatError, _RootStarted):
        return


class _RootStarted(Exception):
    """Raised by expat's handler for the first element: the prolog is over."""


def _root_started(name: str, attributes: dict[str, str]) -> None:
    raise _RootStarted


# defusedxml's own handlers (DefusedXMLParser), with expat's arguments


def _entity_declared(
    name: str,
    is_parameter_entity: bool,
    value: str | None,
    base: str | None,
    sysid: str | None,
    pubid: str | None,
    notation_name: str | None,
) -> None:
    from defusedxml.common import EntitiesForbidden

    raise EntitiesForbidden(name, value, base, sysid, pubid, notation_name)


def _unparsed_entity_declared(
    name: str, base: str | None, sysid: str | None, pubid: str | None, notation_name: str | None
) -> None:
    from defusedxml.common import EntitiesForbidden

    raise EntitiesForbidden(name, None, base, sysid, pubid, notation_name)


def _external_entity(context: str, base: str | None, sysid: str | None, pubid: str | None) -> None:
    from defusedxml.common import ExternalReferenceForbidden

    raise ExternalReferenceForbidden(context, base, sysid, pubid)


def _row_number(r: str | None, previous: int) -> int:
    """A row's number as openpyxl reads it: its ``r``, else the one after the previous."""
    if r is None:
        return previous + 1
    try:
        return int(r)
    except ValueError:
        number = float(r)
        if not number.is_integer():
            raise ValueError(f"{r} is not a valid row number") from None
        return int(number)


_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _VALUE, _INLINE = f"{_MAIN_NS}row", f"{_MAIN_NS}v", f"{_MAIN_NS}is"
_TEXT = f"{_MAIN_NS}t"
_SHARED_STRING = f"{_MAIN_NS}si"
_DIGITS = "0123456789"


# --------------------------------------------------------------------------- workbook parts

_SPREADSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_SHARED_STRINGS = f"{_SPREADSHEET}.sharedStrings+xml"
#: Content types of a workbook part, in the order openpyxl looks for them (XLTM, XLTX,
#: XLSM, XLSX)
_WORKBOOK_TYPES = (
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
    f"{_SPREADSHEET}.template.main+xml",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    f"{_SPREADSHEET}.sheet.main+xml",
)
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_REL_ID = f"{{{_REL_NS}}}id"


def _parse_part(archive: zipfile.ZipFile, name: str) -> Any:
    """A whole (small) part as an element tree, refused as defusedxml (which openpyxl
    parses these parts with) refuses it: entity declarations, external entities."""
    from xml.etree.ElementTree import fromstring

    data = archive.read(name)
    _refuse_entities(io.BytesIO(data))
    return fromstring(data)


def _local(tag: str) -> str:
    """An element's name without its namespace: openpyxl's ``Serialisable.from_tree`` finds
    child elements by this name alone."""
    return tag.rpartition("}")[2]


def _first_part(overrides: list[tuple[Any, Any]], content_type: str) -> Any:
    """The name of the first part of the content type (``Manifest.find``), else None."""
    return next((name for name, kind in overrides if kind == content_type), None)


def _read_strings(archive: zipfile.ZipFile, part: str) -> list[str]:
    """The shared strings as openpyxl's ``read_string_table`` reads them: each si's text
    (``_text_content``), then "x005F_" removed (Excel's escape for a literal "_x")."""
    from xml.etree.ElementTree import iterparse

    with archive.open(part) as source:
        _refuse_entities(source)
    strings: list[str] = []
    with archive.open(part) as source:
        for _, node in iterparse(source):
            if node.tag != _SHARED_STRING:
                continue
            text = _text_content(node)
            node.clear()
            strings.append(text.replace("x005F_", ""))
    return strings


def _date_styles(archive: zipfile.ZipFile, names: set[str]) -> tuple[set[int], set[int]]:
    """The cell styles (indexes into cellXfs) whose number format shows a date, and those
    among them showing a duration (openpyxl's ``apply_stylesheet`` and
    ``Stylesheet._normalise_numbers``). The styles part is always xl/styles.xml; without
    it, or without any cell style, no cell is a date."""
    if "xl/styles.xml" not in names:
        return set(), set()
    formats: Any = None
    cell_styles: Any = None
    for el in _parse_part(archive, "xl/styles.xml"):  # the last of each counts
        tag = _local(el.tag)
        if tag == "numFmts":
            formats = el
        elif tag == "cellXfs":
            cell_styles = el
    custom: dict[int, str | None] = {}
    for el in formats if formats is not None else ():
        if _local(el.tag) == "numFmt":
            custom[int(el.get("numFmtId"))] = el.get("formatCode")
    dates: set[int] = set()
    spans: set[int] = set()
    xfs = [el for el in (cell_styles if cell_styles is not None else ()) if _local(el.tag) == "xf"]
    for index, xf in enumerate(xfs):
        number_format = int(xf.get("numFmtId", 0))
        fmt = (
            custom[number_format] if number_format in custom else BUILTIN_FORMATS.get(number_format)
        )
        if is_date_format(fmt):
            dates.add(index)
        if is_timedelta_format(fmt):
            spans.add(index)
    return dates, spans


def _relationships(archive: zipfile.ZipFile, part: str) -> dict[str | None, tuple[str, str]]:
    """A part's relationships by id: (type, target) with the target as a name in the archive
    (``packaging/relationship.py``, get_rels_path and get_dependents): a target starting
    with / is from the archive's root, any other is relative to the part's folder; an
    external target is left as it is. A relationship without type or target makes openpyxl
    drop them all (its list then refuses to be built)."""
    import posixpath

    folder, name = posixpath.split(part)
    rels_path = posixpath.join(folder, "_rels", f"{name}.rels")
    parent = posixpath.split(posixpath.dirname(rels_path))[0]
    rels: dict[str | None, tuple[str, str]] = {}
    for el in _parse_part(archive, rels_path):
        # a lower-case ``type`` is openpyxl's shorthand in the relationships' namespace and
        # wins over ``Type`` (``Relationship.__init__``)
        short = el.get("type")
        kind = el.get("Type") if short is None else f"{_REL_NS}/{short}"
        target = el.get("Target")
        if kind is None or target is None:
            return {}
        if el.get("TargetMode") != "External":
            if target.startswith("/"):
                target = target[1:]
            else:
                target = posixpath.normpath(posixpath.join(parent, target))
        rels[el.get("Id")] = (kind, target)
    return rels


def read_xlsx_file(path: Path, table: Table) -> Sheet:
    """Read the sheet named like the table (else the first sheet) of an XLSX file."""
    name = path.name
    report = FileReport(name=name, sha256=sha256_file(path), encoding="XLSX")
    _check_archive(path, name)
    try:
        wb = _Workbook(path)
    except Exception as exc:  # a broken file fails in many ways (KeyError, ParseError...)
        raise FhError(
            f"{name}: Excel-Datei ist nicht lesbar ({type(exc).__name__}: {exc})."
        ) from exc
    nonblank: list[tuple[int, list[str]]] = []  # (sheet row, cells without trailing blanks)
    try:
        sheets = {fold_name(title): (title, part) for title, part in wb.sheets}
        report.sheet, part = sheets.get(table.name) or wb.sheets[0]
        # A stated dimension (A1:XFD1048576 in a crafted file) is not read: a row is as long
        # as its last cell, not padded to 16,384 cells.
        cells_read = 0
        for number, values in enumerate(wb.rows(part), start=1):
            cells_read += len(values)
            if cells_read > XLSX_MAX_CELLS:
                raise FhError(
                    f"{name} (Blatt {report.sheet}): mehr als "
                    f"{formatting.number(XLSX_MAX_CELLS)} Zellen – zu groß für den Excel-Weg. "
                    "Bitte die Tabelle als CSV exportieren."
                )
            cells = list(map(_cell_text, values))
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
    frame = _text_table(good, lines, cols).rename_columns([*folded, LINE_COL])
    report.rows = len(frame) + len(bad)
    return Sheet(report, frame, [BadRow(*row) for row in bad])


def read_file(path: Path, table: Table) -> Sheet:
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
