"""What ``aufbereiten`` records: per file, per table and per run (the manifest's shape).

``manifest.json`` beside the processed data is built from these records; the reports'
data basis and the batch's fingerprints read it back.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.contract.schema import REJECTS_FOLDER


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
    encoding_error_lines: list[int] = field(default_factory=list)  # rejected: not in `encoding`


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
    notes: list[str] = field(default_factory=list)  # German notes for the summary


def table_entry(r: TableReport) -> dict[str, Any]:
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
                "zeilen_mit_kodierungsfehler": f.encoding_error_lines,
            }
            for f in r.files
        ],
        "unbekannte_spalten": sorted({c for f in r.files for c in f.unknown_columns}),
        "uebersprungene_zeilen": sum(len(f.skipped_rows) for f in r.files),
        "ablehnungsgruende": dict(r.reason_counts.most_common()),
        "abgelehnt_datei": r.rejects_file,
        "parquet_sha256": r.parquet_sha256,
    }
