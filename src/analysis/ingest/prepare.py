"""``fh-analytik aufbereiten``: eine Tabelle nach der anderen lesen, prüfen und schreiben.

Orchestrates ``read``, ``validate`` and ``write``: files are read and checked in two worker
threads, each table is finished and written as soon as its files are, the reconciliation
(read = accepted + rejected) is checked, and the German summary formatted.
"""

from __future__ import annotations

import ctypes
import json
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from analysis import __version__, formatting
from analysis.config import Config
from analysis.contract.schema import (
    MANIFEST,
    MAX_SHRINK,
    REJECTS_FOLDER,
    TABLE_ORDER,
    TABLES,
    Table,
)
from analysis.errors import FhError
from analysis.ingest.manifest import IngestResult, TableReport
from analysis.ingest.read import XLSX_SUFFIXES, discover, read_file
from analysis.ingest.validate import Part, check_file, validate
from analysis.ingest.write import Build, check_target

# --------------------------------------------------------------------------- memory

#: glibc's M_MMAP_THRESHOLD (malloc.h): blocks at least this large get a mapping of their own.
_M_MMAP_THRESHOLD = -3
_MAPPED_FROM = 8 << 20


def give_back_memory() -> bool:
    """Have large freed blocks go back to the system at once (for ``fh-analytik aufbereiten``).

    A process that reads large files one after the other keeps much of what it freed: glibc
    raises its limit for giving a block a mapping of its own to the largest block freed so
    far (up to 32 MB), so later blocks come from heaps it seldom returns, and mimalloc (the
    pool pyarrow takes unless told otherwise) keeps what it freed. Here Arrow takes the
    system allocator, and glibc maps every block of 8 MB or more (a large file's bytes, a
    whole column of a table of a million rows), so that it is given back when freed.
    Smaller blocks (a file's columns, pyarrow's parsing) are reused from glibc's heaps:
    mapped anew each time (the limit of 1 MB this had before), their fresh pages cost
    about 5 % of the run's CPU time at scale 60 and kept 20 MiB less. The command line also
    sets Arrow's own default (``cli._tune_for_preparation``); this reaches only pyarrow's.
    Returns whether glibc took the setting (elsewhere only Arrow's allocator changes).
    Changes the whole process: the command line calls it, a notebook need not.
    """
    pa.set_memory_pool(pa.system_memory_pool())
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _MAPPED_FROM))


# --------------------------------------------------------------------------- one table

#: Files read and checked at the same time. pyarrow splits and encodes a file without
#: Python's lock, so two files use both cores of a small machine; more would only add
#: memory (each file is whole in memory while it is read).
FILE_WORKERS = 2


def _check_one(
    table: Table, path: Path, sites: pd.Series | None, config: Config | None, today: date
) -> Part:
    """Read one file and run the checks that need only its rows (in a worker thread)."""
    return check_file(table, read_file(path, table), sites=sites, config=config, today=today)


def _submit(
    pool: ThreadPoolExecutor,
    names: list[str],
    by_table: dict[str, list[Path]],
    sites: pd.Series | None,
    config: Config | None,
    today: date,
) -> dict[str, list[Future[Part]]]:
    """Read and check every file of these tables in the pool; each table's in file order.

    The first spreadsheet goes first, the others keep their place: reading an XLSX sheet
    is Python and holds the interpreter's lock, splitting a CSV file is pyarrow and does
    not. Read first, a sheet runs beside CSV files instead of beside the main thread
    finishing a table; two sheets at once took turns on one core, and a sheet among the
    files of the first large table would delay that table.
    """
    jobs = [(name, path) for name in names for path in by_table[name]]
    sheets = [job for job in jobs if job[1].suffix.lower() in XLSX_SUFFIXES]
    if sheets:
        jobs.remove(sheets[0])
        jobs.insert(0, sheets[0])
    futures = {
        job: pool.submit(_check_one, TABLES[job[0]], job[1], sites, config, today) for job in jobs
    }
    return {name: [futures[(name, path)] for path in by_table[name]] for name in names}


def _finish_table(
    table: Table, parts: list[Part]
) -> tuple[TableReport, pd.DataFrame, pd.DataFrame]:
    """The checks across the table's files, the rejects in file and line order, and the
    reconciliation read = accepted + rejected."""
    report = TableReport(name=table.name, present=True)
    report.files = [p.sheet.report for p in parts]
    checked = validate(table, parts, [f.name for f in report.files])
    rejects = checked.rejects
    report.reason_counts = checked.reason_counts
    bad_frames = []
    for order, part in enumerate(parts):
        bad = part.sheet.bad_rows
        if not len(bad):
            continue
        # Rows that could not be split into the header's columns: their values cannot be
        # told apart from text outside the contract, so only file, line and reason are kept.
        for row in bad:
            report.reason_counts.update(row.kinds)
        bad_frames.append(
            pd.DataFrame(
                {
                    "datei": part.sheet.report.name,
                    "zeile": np.array([row.line for row in bad], dtype=np.int64),
                    "gruende": [row.reason for row in bad],
                    "_ordnung": order,
                }
            )
        )
    if bad_frames:
        rejects = pd.concat([rejects, *bad_frames], ignore_index=True)
    rejects = rejects.sort_values(["_ordnung", "zeile"], kind="stable").drop(columns="_ordnung")
    report.read = sum(f.rows for f in report.files)
    report.accepted = len(checked.accepted)
    report.rejected = len(rejects)
    if report.read != report.accepted + report.rejected:  # the reconciliation must hold
        raise AssertionError(
            f"{table.name}: {report.read} != {report.accepted} + {report.rejected}"
        )
    return report, checked.accepted, rejects


# --------------------------------------------------------------------------- entry point


def prepare(
    raw_dir: Path | str,
    processed_dir: Path | str,
    config: Config | None = None,
    *,
    today: date | None = None,
    allow_shrink: bool = False,
) -> IngestResult:
    """Read, validate and convert ``raw_dir`` into ``processed_dir`` (replaced atomically).

    Raises ``FhError`` (exit 2), with the previous state unchanged, when a file is unusable
    as a whole, or when a table would lose all its rows or more than the configured share
    of them against the previous processed state and ``allow_shrink`` does not confirm it.
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
    check_target(raw_dir, processed_dir)

    reports: dict[str, TableReport] = {}
    build = Build(processed_dir)
    pool = ThreadPoolExecutor(max_workers=FILE_WORKERS, thread_name_prefix="aufbereiten")
    try:
        # standorte first: the other tables check their sites against it; their files are
        # then all read ahead while each table is finished and written in order.
        sites: pd.Series | None = None
        pending: dict[str, list[Future[Part]]] = {}
        for name in TABLE_ORDER:
            table = TABLES[name]
            if name not in pending:
                pending |= _submit(pool, [name], by_table, sites, config, today)
            if not by_table[name]:
                reports[name] = TableReport(name=name, present=False)
                continue
            parts = [future.result() for future in pending.pop(name)]
            report, ok, bad = _finish_table(table, parts)
            del parts
            build.table(report, ok, bad)
            reports[name] = report
            if name == "standorte":
                sites = ok["standort_id"]
                later = [t for t in TABLE_ORDER if t not in reports]
                pending |= _submit(pool, later, by_table, sites, config, today)
            del ok, bad
        pool.shutdown()
        notes = _check_shrink(processed_dir, reports, config, allow_shrink)
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
        build.finish(reports, head)
    except BaseException:
        pool.shutdown(cancel_futures=True)
        build.discard()
        raise
    return IngestResult(
        raw_dir,
        processed_dir,
        created,
        config_sha,
        reports,
        unassigned,
        config_file=str(config.source) if config is not None and config.source else None,
        label_mappings=sum(len(m) for m in config.label_mappings.values()) if config else 0,
        notes=notes,
    )


def _previous_counts(processed_dir: Path) -> dict[str, int]:
    """Accepted rows per table of the processed state this run would replace."""
    try:
        manifest = json.loads((processed_dir / MANIFEST).read_text(encoding="utf-8"))
        tables = manifest["tabellen"]
        return {
            name: int(entry["angenommen"])
            for name, entry in tables.items()
            if entry.get("vorhanden") and name in TABLES
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}  # no previous state (or none we can read): nothing to compare with


def _check_shrink(
    processed_dir: Path,
    reports: dict[str, TableReport],
    config: Config | None,
    allow_shrink: bool,
) -> list[str]:
    """Refuse a table that shrinks to nothing or by more than the configured share.

    A header-only export would otherwise replace last year's good table with 0 rows and
    exit 0. Returns German notes for the summary (confirmed shrinks, tables gone).
    """
    limit = config.max_shrink if config is not None else MAX_SHRINK
    num = formatting.number
    shrunk: list[str] = []
    notes: list[str] = []
    for name, before in _previous_counts(processed_dir).items():
        report = reports.get(name)
        if report is None or not report.present:
            notes.append(
                f"Tabelle {name}: keine Datei mehr im Rohdatenordner – bisher {num(before)} "
                f"Zeile{'n' if before != 1 else ''}; sie entfällt in den aufbereiteten Daten."
            )
            continue
        after = report.accepted
        if before > 0 and (after == 0 or after < before * (1 - limit)):
            files = ", ".join(f.name for f in report.files)
            shrunk.append(
                f"{name}: {num(after)} statt bisher {num(before)} angenommene Zeilen "
                f"({num(report.read)} gelesen aus {files})"
            )
    if shrunk and not allow_shrink:
        raise FhError(
            "Aufbereitung abgebrochen – Tabellen würden gegenüber dem bisherigen Stand "
            f"leer oder um mehr als {formatting.percent(limit, 0)} kleiner: "
            + "; ".join(shrunk)
            + ". Vermutlich ein Export nur mit Kopfzeile oder mit falschen Spalten. Die "
            f"bisherigen Daten in {processed_dir} bleiben unverändert. Ist der Rückgang "
            "gewollt, bitte mit `fh-analytik aufbereiten --rueckgang-erlauben` bestätigen "
            "(Grenze: [aufbereitung] hoechster_rueckgang in fh-analytik.toml)."
        )
    notes += [f"Rückgang bestätigt (--rueckgang-erlauben): {s}" for s in shrunk]
    return notes


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
        for f in r.files:
            if f.encoding_error_lines:
                n = len(f.encoding_error_lines)
                shown = ", ".join(num(x) for x in f.encoding_error_lines[:5])
                more = " …" if n > 5 else ""
                notes.append(
                    f"  {f.name}: als {f.encoding} gelesen; {num(n)} Zeile{'n' if n != 1 else ''} "
                    f"in anderer Zeichenkodierung abgelehnt (Zeile {shown}{more})"
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
    if result.notes:
        lines += ["", *result.notes]
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
