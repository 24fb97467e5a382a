"""End to end on the hostile-input corpus (issue 9): the installed command, then a small report batch.

``tests/fixtures/feindlich/roh/`` is raw data as a careless or malicious user would deliver
it: site ids that leave the folder, reserved words, formulas and markup in names, personal
free text in an extra column, impossible dates, one line in another encoding. It must be
prepared with row errors only; ``verweigert/`` holds files that must each stop the
preparation. Asserted: exit codes, no traceback, counts reconcile, nothing written outside
the target folders, no formula cell in any ``.xlsx``, no personal text anywhere.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from analysis.contract.safety import is_formula_like

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).parent / "fixtures" / "feindlich"
COMMAND = Path(sys.executable).with_name("fh-analytik")
# Rows read, accepted, rejected per table, worked out line by line in the corpus README.
COUNTS = {
    "standorte": (9, 2, 7),  # klick, steinbuechel; 6 ids against the rule, 1 date before 1990
    "erstkontakte": (59, 48, 11),  # 48 valid; formula, wide row, 3 dates, 4 sites, 1 encoding
    "angebote": (4, 2, 2),  # negative termine, site gesamt
    "bevoelkerung": (4, 3, 1),  # gebiet Alle
}
REPORTS = ["2014/alle/gesamtbericht", "2014/alle/reichweite", "2014/klick/reichweite"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(COMMAND), "--konfig", str(REPO / "fh-analytik.toml"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def _tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, object]:
    if not COMMAND.exists():
        pytest.fail(f"fh-analytik ist nicht installiert neben {sys.executable}")
    base = tmp_path_factory.mktemp("feindlich")
    raw, processed, out = base / "roh", base / "daten", base / "berichte"
    shutil.copytree(CORPUS / "roh", raw)
    prepared = run("aufbereiten", "--rohdaten", str(raw), "--ziel", str(processed), cwd=base)
    built = run(
        "berichte",
        *("--daten", str(processed), "--ziel", str(out), "--jahr", "2014", "--ohne-fortschritt"),
        *("--analyse", "gesamtbericht", "--analyse", "reichweite"),
        *("--standort", "alle", "--standort", "klick"),
        cwd=base,
    )
    return {"base": base, "prepared": prepared, "built": built}


def test_preparation_ends_with_row_errors_only_and_reconciles(corpus):
    prepared = corpus["prepared"]
    processed = corpus["base"] / "daten"
    assert prepared.returncode == 0, prepared.stderr
    assert prepared.stderr == ""
    manifest = json.loads((processed / "manifest.json").read_text(encoding="utf-8"))
    for table, (read, ok, rejected) in COUNTS.items():
        entry = manifest["tabellen"][table]
        assert (entry["gelesen"], entry["angenommen"], entry["abgelehnt"]) == (read, ok, rejected)
        assert len(pd.read_parquet(processed / f"{table}.parquet")) == ok
        rows = pd.read_csv(processed / "abgelehnt" / f"{table}.csv", sep=";", dtype=str)
        assert len(rows) == rejected
    assert pd.read_parquet(processed / "standorte.parquet")["standort_id"].tolist() == [
        "klick",
        "steinbuechel",
    ]
    assert "1 Zeile in anderer Zeichenkodierung abgelehnt (Zeile 60)" in prepared.stdout


def test_reports_only_for_valid_sites_without_traceback(corpus):
    built = corpus["built"]
    out = corpus["base"] / "berichte"
    assert built.returncode == 0, built.stderr
    assert "Traceback" not in built.stderr and "Error" not in built.stderr
    run_manifest = json.loads((out / "lauf.json").read_text(encoding="utf-8"))
    assert sorted(r["key"] for r in run_manifest["berichte"]) == REPORTS
    assert {r["status"] for r in run_manifest["berichte"]} == {"erzeugt"}
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "../" not in index and "href='/" not in index and "Ausbruch" not in index
    for page in [out / "index.html", *out.rglob("*.html")]:
        text = page.read_text(encoding="utf-8")
        assert "<b>fett" not in text  # the site name's markup is shown, not rendered
    assert "&lt;b&gt;fett" in (out / "2014" / "klick" / "reichweite.html").read_text("utf-8")


def test_nothing_is_written_outside_the_target_folders(corpus):
    base = corpus["base"]
    assert sorted(p.name for p in base.iterdir()) == ["berichte", "daten", "roh"]
    assert _tree(base / "roh") == _tree(CORPUS / "roh")  # raw data is never changed
    for path in base.rglob("*"):
        inside = path.is_relative_to(base / "berichte") or path.is_relative_to(base / "daten")
        assert inside or path.is_relative_to(base / "roh"), path
    reports = {
        p.relative_to(base / "berichte").as_posix() for p in (base / "berichte").rglob("*.*")
    }
    for key in REPORTS:
        assert {f"{key}.{ext}" for ext in ("html", "pdf", "xlsx", "ipynb")} <= reports
    assert not list((base / "berichte").rglob("*.tmp"))


def test_no_formula_cell_in_any_workbook_and_no_formula_in_the_rejects(corpus):
    base = corpus["base"]
    workbooks = sorted((base / "berichte").rglob("*.xlsx"))
    assert len(workbooks) == 3
    seen_name = False
    for workbook in workbooks:
        with zipfile.ZipFile(workbook) as archive:
            for name in archive.namelist():
                if name.startswith("xl/worksheets/"):
                    assert "<f>" not in archive.read(name).decode("utf-8"), (workbook, name)
        for sheet in load_workbook(workbook).worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (workbook, cell.coordinate)
                    if isinstance(cell.value, str) and cell.value.startswith("=HYPERLINK"):
                        seen_name = True
                        assert cell.quotePrefix
    assert seen_name  # the site named =HYPERLINK(…) is in a table, as text
    for rejects in (base / "daten" / "abgelehnt").glob("*.csv"):
        frame = pd.read_csv(rejects, sep=";", dtype=str, keep_default_na=False)
        for column in frame.columns:
            for value in frame[column]:
                assert not is_formula_like(value), (rejects.name, column, value)


def _texts(path: Path) -> list[str]:
    """What a file says as text: zip members of a workbook unpacked; PDF (compressed
    streams) is made from the HTML beside it; Parquet is checked as frames below."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as archive:
            return [archive.read(n).decode("utf-8", "replace") for n in archive.namelist()]
    if path.suffix in (".pdf", ".parquet"):
        return []
    return [path.read_bytes().decode("utf-8", "replace")]


def test_personal_free_text_reaches_no_file(corpus):
    base = corpus["base"]
    for folder in (base / "daten", base / "berichte"):
        for path in folder.rglob("*"):
            if path.is_file():
                for text in _texts(path):
                    assert "Müller" not in text and "0171-2345678" not in text, path
    for table in COUNTS:
        frame = pd.read_parquet(base / "daten" / f"{table}.parquet")
        assert not frame.astype(str).apply(lambda c: c.str.contains("Müller")).any().any()


@pytest.mark.parametrize("refused", sorted(p.name for p in (CORPUS / "verweigert").iterdir()))
def test_a_refused_file_stops_the_preparation_and_changes_nothing(corpus, tmp_path, refused):
    raw = tmp_path / "roh"
    shutil.copytree(CORPUS / "roh", raw)
    shutil.copy(CORPUS / "verweigert" / refused, raw / refused)
    processed = tmp_path / "daten"
    shutil.copytree(corpus["base"] / "daten", processed)
    before = _tree(processed)
    result = run("aufbereiten", "--rohdaten", str(raw), "--ziel", str(processed), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"Fehler: {refused}: ")
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert _tree(processed) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["daten", "roh"]


def test_a_header_only_export_needs_confirmation(corpus, tmp_path):
    raw = tmp_path / "roh"
    shutil.copytree(CORPUS / "roh", raw)
    header = (raw / "erstkontakte.csv").read_bytes().split(b"\n", 1)[0] + b"\n"
    (raw / "erstkontakte.csv").write_bytes(header)
    processed = tmp_path / "daten"
    shutil.copytree(corpus["base"] / "daten", processed)
    before = _tree(processed)
    refused = run("aufbereiten", "--rohdaten", str(raw), "--ziel", str(processed), cwd=tmp_path)
    assert refused.returncode == 2
    assert "erstkontakte: 0 statt bisher 48 angenommene Zeilen" in refused.stderr
    assert _tree(processed) == before
    confirmed = run(
        "aufbereiten",
        *("--rohdaten", str(raw), "--ziel", str(processed), "--rueckgang-erlauben"),
        cwd=tmp_path,
    )
    assert confirmed.returncode == 0, confirmed.stderr
    assert "Rückgang bestätigt" in confirmed.stdout


def test_a_second_report_run_exits_3_and_leaves_the_state(corpus):
    out = corpus["base"] / "berichte"
    state = (out / ".berichtsstand.json").read_bytes()
    with (out / ".berichte.lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        second = run(
            "berichte",
            *("--daten", str(corpus["base"] / "daten"), "--ziel", str(out), "--jahr", "2014"),
            *("--analyse", "reichweite", "--ohne-fortschritt"),
            cwd=corpus["base"],
        )
    assert second.returncode == 3
    assert second.stderr.startswith("Fehler: Ein anderer Berichtslauf schreibt gerade")
    assert (out / ".berichtsstand.json").read_bytes() == state
