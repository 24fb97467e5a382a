"""Preparation (``fh-analytik aufbereiten``): raw exports in, typed Parquet and rejects out.

``read`` turns CSV dialects and XLSX into text cells, ``validate`` checks them against the
contract, ``write`` replaces the processed folder atomically, ``manifest`` is what a run
records; ``prepare`` runs them table by table. The names below are the stage's public API.
"""

from analysis.ingest.manifest import FileReport, IngestResult, TableReport
from analysis.ingest.prepare import format_summary, give_back_memory, prepare
from analysis.ingest.read import discover, read_csv_file, read_file, read_xlsx_file
from analysis.ingest.validate import parse_dates, parse_numbers, validate

__all__ = [
    "FileReport",
    "IngestResult",
    "TableReport",
    "discover",
    "format_summary",
    "give_back_memory",
    "parse_dates",
    "parse_numbers",
    "prepare",
    "read_csv_file",
    "read_file",
    "read_xlsx_file",
    "validate",
]
