"""Shared helpers for the ingest tests: copy fixtures into a raw folder and run `prepare`."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd

from analysis import ingest
from analysis.config import Config, load_config

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"
TODAY = date(2026, 11, 23)

CONFIG_TOML = """
[kommune]
name = "Testkommune"

[zuordnungen.zugangsweg]
"Klinikum Schlebusch" = "geburtsklinik"
"""


def make_config(tmp_path: Path) -> Config:
    path = tmp_path / "fh-analytik.toml"
    path.write_text(CONFIG_TOML, encoding="utf-8")
    return load_config(path)


def raw_folder(tmp_path: Path, *files: str | tuple[str, str], standorte: bool = True) -> Path:
    """A raw folder with `standorte.csv` and the named fixtures (`(fixture, new_name)` renames)."""
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    if standorte:
        shutil.copy(FIXTURES / "standorte.csv", raw / "standorte.csv")
    for item in files:
        src, dst = (item, item) if isinstance(item, str) else item
        shutil.copy(FIXTURES / src, raw / dst)
    return raw


def run(
    tmp_path: Path, *files: str | tuple[str, str], standorte: bool = True
) -> ingest.IngestResult:
    raw = raw_folder(tmp_path, *files, standorte=standorte)
    return ingest.prepare(raw, tmp_path / "out", make_config(tmp_path), today=TODAY)


def rejects(tmp_path: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(
        tmp_path / "out" / "abgelehnt" / f"{table}.csv", sep=";", dtype=str, keep_default_na=False
    )


def reasons_by_line(tmp_path: Path, table: str) -> dict[int, str]:
    frame = rejects(tmp_path, table)
    return dict(zip(frame["zeile"].astype(int), frame["gruende"], strict=True))


def accepted(tmp_path: Path, table: str) -> pd.DataFrame:
    return pd.read_parquet(tmp_path / "out" / f"{table}.parquet")


def assert_reconciles(result: ingest.IngestResult) -> None:
    for report in result.tables.values():
        assert report.read == report.accepted + report.rejected, report.name
        assert report.read == sum(f.rows for f in report.files), report.name


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }
