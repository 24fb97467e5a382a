"""Schreibt docs/kennzahlen.md neu aus dem Kennzahlenkatalog (analysis.indicators.catalogue)."""

from __future__ import annotations

from pathlib import Path

from analysis.indicators.summary import catalogue_markdown

TARGET = Path(__file__).resolve().parents[1] / "docs" / "kennzahlen.md"

if __name__ == "__main__":
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(catalogue_markdown(), encoding="utf-8")
    print(f"{TARGET} geschrieben.")
