"""End to end: the installed command writes the demo and prepares it (beispieldaten -> aufbereiten)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis.contract import demo
from analysis.contract.schema import TABLES

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[1]
COMMAND = Path(sys.executable).with_name("fh-analytik")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(COMMAND), "--konfig", str(REPO / "fh-analytik.toml"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> tuple[Path, Path, str, str]:
    if not COMMAND.exists():
        pytest.fail(f"fh-analytik ist nicht installiert neben {sys.executable}")
    tmp = tmp_path_factory.mktemp("e2e")
    raw, processed = tmp / "raw", tmp / "processed"
    written = run("beispieldaten", "--ziel", str(raw), "--seed", "2014", cwd=tmp)
    assert written.returncode == 0, written.stderr
    done = run("aufbereiten", "--rohdaten", str(raw), "--ziel", str(processed), cwd=tmp)
    assert done.returncode == 0, done.stderr
    return raw, processed, written.stdout, done.stdout


def test_demo_command_prints_german_summary(prepared):
    _, _, out, _ = prepared
    assert out.startswith(demo.SYNTHETIC_NOTE)
    assert "erstkontakte" in out


def test_every_table_present_and_balanced(prepared):
    _, processed, _, out = prepared
    manifest = json.loads((processed / "manifest.json").read_text(encoding="utf-8"))
    expected = demo.expected_rejects()
    for table in TABLES:
        entry = manifest["tabellen"][table]
        assert entry["vorhanden"], table
        assert (processed / f"{table}.parquet").is_file(), table
        assert entry["gelesen"] == entry["angenommen"] + entry["abgelehnt"], table
        assert entry["abgelehnt"] == expected[table], table
    assert manifest["tabellen"]["erstkontakte"]["angenommen"] >= 17_000
    assert "Summe" in out


def test_exactly_the_deliberate_flaws_are_rejected_for_their_reasons(prepared, tmp_path):
    _, processed, _, _ = prepared
    # The same seed in-process gives the same files, so its summary says where the flaws are.
    summary = demo.write_demo(tmp_path, seed=2014)
    where = {(f.file, f.line): f for f in summary.flaws}
    found = {}
    for table in TABLES:
        rejects = pd.read_csv(
            processed / "abgelehnt" / f"{table}.csv", sep=";", dtype=str, keep_default_na=False
        )
        for _, row in rejects.iterrows():
            found[(row["datei"], int(row["zeile"]))] = (table, row["gruende"])
    assert set(found) == set(where)
    for key, flaw_row in where.items():
        table, reasons = found[key]
        flaw = demo.FLAWS_BY_KEY[flaw_row.key]
        assert table == flaw.table
        assert flaw.reason_hint.casefold() in reasons.casefold(), (flaw.key, reasons)


def test_seed_004_cost_table_survives_preparation(prepared):
    _, processed, _, _ = prepared
    hze = pd.read_parquet(processed / "kosten_hze.parquet")
    first = hze[hze["jahr"].between(2011, 2014)].sort_values("jahr")
    assert first["hilfeart"].astype(str).tolist() == ["gesamt"] * 4
    assert first["ausgaben_eur"].tolist() == [
        12_190_000.0,
        13_045_000.0,
        13_120_000.0,
        13_612_000.0,
    ]
    assert first["fallzahl_mittel"].tolist() == [606.0, 689.0, 737.0, 805.0]
    contacts = pd.read_parquet(processed / "erstkontakte.parquet")
    # "Klinikum Schlebusch" (config mapping) became geburtsklinik; no row fell to unbekannt.
    assert (contacts["zugangsweg"] == "geburtsklinik").sum() > 100
    assert set(contacts["standort_id"].unique()) == {
        "rheindorf",
        "steinbuechel",
        "manfort",
        "opladen",
    }
