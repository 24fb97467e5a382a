"""Build small typed frames and processed-data folders for tests (reusable by every test).

    from helpers import frame, make_dataset, write_processed
    contacts = frame("erstkontakte", [{"fall_id": "1", "standort_id": "a",
                                       "datum_erstkontakt": "2014-03-01", "zugangsweg": "hebamme"}])
    ds = make_dataset({"standorte": [...], "erstkontakte": [...]})   # in memory
    folder = write_processed(tmp_path, {"standorte": [...], ...})    # parquet + manifest.json

Rows are dicts with the schema's column names; missing columns become all-missing (`jn` and
categories with that code: `unbekannt`), dtypes are those of the processed format.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.contract.schema import TABLES
from analysis.data import Dataset, conform

Rows = Sequence[Mapping[str, Any]] | pd.DataFrame


def frame(table: str, rows: Rows) -> pd.DataFrame:
    """A typed frame of ``table`` in the processed format from a list of dicts."""
    raw = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    return conform(table, raw.reset_index(drop=True))


def site(
    standort_id: str, eroeffnet: str | None = None, geschlossen: str | None = None
) -> dict[str, Any]:
    """One `standorte` row with a generated name."""
    return {
        "standort_id": standort_id,
        "name": f"Standort {standort_id}",
        "eroeffnet": eroeffnet,
        "geschlossen": geschlossen,
    }


def contact(fall_id: str, standort_id: str, datum: str, **values: Any) -> dict[str, Any]:
    """One `erstkontakte` row; ``zugangsweg`` defaults to ``hebamme``."""
    return {
        "fall_id": fall_id,
        "standort_id": standort_id,
        "datum_erstkontakt": datum,
        "zugangsweg": values.pop("zugangsweg", "hebamme"),
        **values,
    }


def make_dataset(tables: Mapping[str, Rows], folder: Path | str = ".") -> Dataset:
    """An in-memory Dataset; ``standorte`` and ``erstkontakte`` default to empty tables."""
    typed = {name: frame(name, rows) for name, rows in tables.items()}
    for required in ("standorte", "erstkontakte"):
        typed.setdefault(required, frame(required, []))
    return Dataset(folder=Path(folder), manifest=_manifest(typed), tables=typed)


def _manifest(typed: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    return {
        "erstellt": "2026-11-23T10:00:00+01:00",
        "version": "test",
        "konfiguration_sha256": "",
        "rohdaten": "tests",
        "tabellen": {
            name: {
                "vorhanden": name in typed,
                "gelesen": len(typed[name]) if name in typed else 0,
                "angenommen": len(typed[name]) if name in typed else 0,
                "abgelehnt": 0,
                "dateien": [{"datei": f"{name}.csv", "sha256": "", "zeilen": len(typed[name])}]
                if name in typed
                else [],
                "unbekannte_spalten": [],
                "uebersprungene_zeilen": 0,
                "parquet_sha256": "",
            }
            for name in TABLES
        },
    }


def write_processed(folder: Path, tables: Mapping[str, Rows]) -> Path:
    """Write a processed-data folder (one parquet per given table + manifest.json + abgelehnt/)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "abgelehnt").mkdir(exist_ok=True)
    ds = make_dataset(tables, folder)
    for name, df in ds.tables.items():
        df.to_parquet(folder / f"{name}.parquet", index=False)
    (folder / "manifest.json").write_text(
        json.dumps(ds.manifest, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return folder
