"""``fh-analytik aufbereiten``: eine Tabelle nach der anderen lesen, prüfen und schreiben.

Orchestrates ``read``, ``validate`` and ``write`` per table, checks the reconciliation
(read = accepted + rejected) and formats the German summary.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pandas as pd

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
from analysis.ingest.read import ENCODING_COL, FILE_COL, LINE_COL, discover, read_file
from analysis.ingest.validate import validate
from analysis.ingest.write import check_target, write

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
        for c in table.column_names:
            if c not in f.columns:
                f[c] = pd.Series("", index=f.index, dtype="str")
        # Columns outside the contract go no further than this (the summary names them).
        f = f[[*table.column_names, LINE_COL, *(c for c in (ENCODING_COL,) if c in f.columns)]]
        f["_ordnung"] = order
        frames.append(f)
        if len(sheet.bad_rows):
            b = sheet.bad_rows.copy()
            b[FILE_COL] = sheet.report.name
            b["_ordnung"] = order
            bad_frames.append(b)
    raw = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    for c in raw.columns:
        # Only columns some file lacked hold NaN (ENCODING_COL too, when only some files had
        # lines in the wrong encoding); rewriting all would copy a million rows.
        if c not in (LINE_COL, "_ordnung") and (raw[c].dtype != "str" or raw[c].hasnans):
            raw[c] = raw[c].fillna("").astype("str")
    # The file of each row as a category of the file names (one byte a row, not a string).
    names = [f.name for f in report.files]
    raw[FILE_COL] = pd.Categorical.from_codes(raw["_ordnung"].to_numpy(), categories=names)
    checked = validate(table, raw, sites=sites, config=config, today=today)

    rejects = checked.rejects
    report.reason_counts = checked.reason_counts
    if bad_frames:
        # Rows that could not be split into the header's columns: their values cannot be
        # told apart from text outside the contract, so only file, line and reason are kept.
        bad = pd.concat(bad_frames, ignore_index=True)
        for kinds in bad["arten"]:
            report.reason_counts.update(kinds)
        extra = pd.DataFrame(
            {
                "datei": bad[FILE_COL].astype(str),
                "zeile": bad[LINE_COL].astype("int64"),
                "gruende": bad["gruende"].astype(str),
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

    Raises ``FhError`` (exit 2) before anything is written when a file is unusable as a whole,
    or when a table would lose all its rows or more than the configured share of them
    against the previous processed state and ``allow_shrink`` does not confirm it.
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
    write(processed_dir, reports, accepted, rejects, head)
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
