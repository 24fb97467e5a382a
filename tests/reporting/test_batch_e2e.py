"""End to end: `fh-analytik berichte` for one year on the demo municipality.

Builds demo data and reports once (module fixture), then checks the set, the index, the
HTML, incremental skipping, a touched site, a broken notebook and the confidentiality of
every published table.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from analysis.config import load_config
from analysis.reporting import batch as reports
from analysis.reporting.export import report_tables

YEAR = "2014"
# Demo municipality: rheindorf, steinbuechel, manfort open since 2011, opladen from 2016.
SITES_2014 = ["alle", "manfort", "rheindorf", "steinbuechel"]
SITE_ANALYSES = ["reichweite", "zugangswege", "kostenentwicklung", "qualitaet"]
EXPECTED = sorted(
    [f"{YEAR}/{s}/{a}" for s in SITES_2014 for a in SITE_ANALYSES]
    + [f"{YEAR}/alle/gesamtbericht", "intern/alle-jahre/alle/datenqualitaet"]
)
HEADINGS = {
    "reichweite": ["Reichweite der Frühen Hilfen", "Zeitpunkt des Erstkontakts", "Zielgruppen"],
    "zugangswege": ["Zugangswege zu den Frühen Hilfen", "Reaktionszeit", "Weitervermittlung"],
    "kostenentwicklung": ["Kostenentwicklung", "Hilfen zur Erziehung", "Budget der Frühen Hilfen"],
    "gesamtbericht": ["Gesamtbericht Frühe Hilfen", "Standorte im Vergleich"],
    "datenqualitaet": ["Datenqualität", "Gründe der Ablehnung"],
    "qualitaet": [
        "Rückmeldungen der Familien",
        "Bewertungen der Familien",
        "Checkliste Kernpartner",
    ],
}
OUTSIDE = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = Path(sys.executable).parent / "fh-analytik"
    return subprocess.run(
        [str(command), *args], cwd=cwd, capture_output=True, text=True, timeout=1200
    )


def _statuses(out: Path) -> dict[str, str]:
    run = json.loads((out / "lauf.json").read_text(encoding="utf-8"))
    return {r["key"]: r["status"] for r in run["berichte"]}


def _build(base: Path) -> dict[str, Path]:
    raw, processed, out = base / "roh", base / "daten", base / "berichte"
    assert _cli("beispieldaten", "--ziel", str(raw), cwd=base).returncode == 0
    assert (
        _cli("aufbereiten", "--rohdaten", str(raw), "--ziel", str(processed), cwd=base).returncode
        == 0
    )
    dry = _cli(
        "berichte",
        "--jahr",
        YEAR,
        "--daten",
        str(processed),
        "--ziel",
        str(out),
        "--probelauf",
        cwd=base,
    )
    assert dry.returncode == 0, dry.stderr
    assert "18 Berichte ausgewählt, 18 würden erzeugt" in dry.stdout
    assert not (out / "index.html").exists()
    first = _cli(
        "berichte",
        "--jahr",
        YEAR,
        "--parallel",
        "2",
        "--daten",
        str(processed),
        "--ziel",
        str(out),
        "--ohne-fortschritt",
        cwd=base,
    )
    assert first.returncode == 0, first.stdout + first.stderr
    return {"base": base, "processed": processed, "out": out}


def _check_set_and_index(built: dict[str, Path]) -> None:
    out = built["out"]
    assert sorted(_statuses(out)) == EXPECTED
    assert set(_statuses(out).values()) == {"erzeugt"}
    index = (out / "index.html").read_text(encoding="utf-8")
    for key in EXPECTED:
        for ext in ("html", "pdf", "xlsx", "ipynb"):
            assert (out / f"{key}.{ext}").stat().st_size > 0, f"{key}.{ext}"
        assert (out / f"{key}.pdf").read_bytes().startswith(b"%PDF")
        if key.startswith("intern/"):
            # Internal reports: not linked from the public index, listed in their own.
            assert key not in index and "datenqualitaet" not in index
            internal = (out / "intern" / "index.html").read_text(encoding="utf-8")
            assert f"href='{key.removeprefix('intern/')}.html'" in internal
            assert "nicht veröffentlichen" in internal
        else:
            assert f"href='{key}.html'" in index
    assert "opladen" not in index  # opened 2016


def _check_publication(built: dict[str, Path]) -> None:
    """Play the attacker on everything published for the year: every Excel appendix and
    kennzahlen of every site and of all sites; nothing small can be worked out, and the
    kept notebooks and data bases give nothing away either."""
    from attacker import Seen, read_excel_tables, truth_from

    from analysis.data import load_dataset
    from analysis.protection.publication import build_publication

    base, processed, out = built["base"], built["processed"], built["out"]
    config = load_config(processed_dir=processed)
    dataset = load_dataset(processed)
    seen = Seen(site_names={dataset.site_name(s): s for s in dataset.sites})
    for path in sorted((out / YEAR).rglob("*.xlsx")):
        site = path.parent.name
        for table in read_excel_tables(path):
            seen.add_payload(site, table, int(YEAR))
    for site in SITES_2014:
        k = _cli(
            "kennzahlen", "--jahr", YEAR, "--standort", site, "--daten", str(processed), cwd=base
        )
        assert k.returncode == 0, k.stderr
        seen.add_kennzahlen(site, json.loads(k.stdout))
    truth = truth_from(build_publication(dataset, int(YEAR), land=config.land).values)
    attack = seen.attack(truth, config.min_count, config.protection_level)
    attack.assert_safe()
    assert attack.seen > 250  # the reader really read the appendices and kennzahlen (305)
    for path in out.rglob("*.ipynb"):
        text = path.read_text(encoding="utf-8")
        assert str(base) not in text, f"{path}: Serverpfad im abgelegten Notebook"
    page = (out / YEAR / "rheindorf" / "reichweite.html").read_text(encoding="utf-8")
    basis = page[page.index("Datengrundlage") :]
    assert "Rohdatei" in basis and ">Zeilen<" not in basis


def _check_html(built: dict[str, Path]) -> None:
    out = built["out"]
    for key in EXPECTED:
        page = (out / f"{key}.html").read_text(encoding="utf-8")
        assert '<html lang="de">' in page
        assert not OUTSIDE.findall(page), key
        assert "<script" not in page
        for code in ("abschnitte.show", "open_report(", "import ", "show_data_basis("):
            assert code not in page, (key, code)
        for heading in HEADINGS[key.rsplit("/", 1)[1]]:
            assert heading in page, (key, heading)
        assert "Datengrundlage" in page and "Manifest-SHA-256" in page


def small_counts(tables: list[dict], minimum: int) -> tuple[int, list[tuple[str, list]]]:
    """Published counts 0 < x < minimum in report tables: (cells scanned, offending rows)."""
    scanned, found = 0, []
    for table in tables:
        if table.get("intern"):
            continue  # data-quality row counts are not statistics about persons
        for i, fmt in enumerate(table["formate"]):
            if fmt != "anzahl":
                continue
            for row in table["zeilen"]:
                scanned += 1
                if isinstance(row[i], int | float) and 0 < row[i] < minimum:
                    found.append((table["titel"], row))
    return scanned, found


def test_small_count_scan_finds_a_visible_small_count() -> None:
    # 2 is visible and below 3; "•" is hidden; 0 is allowed; internal tables are skipped.
    tables = [
        {"titel": "A", "formate": [None, "anzahl"], "zeilen": [["x", 2], ["y", "•"], ["z", 0]]},
        {"titel": "B", "formate": ["anzahl"], "zeilen": [[1]], "intern": True},
    ]
    assert small_counts(tables, 3) == (3, [("A", ["x", 2])])


def _check_confidentiality(built: dict[str, Path]) -> None:
    """Scan every table of every report for a visible count 0 < x < min_count."""
    minimum = load_config().min_count
    scanned = 0
    for path in sorted(built["out"].rglob("*.ipynb")):
        if path.name.endswith(".fehler.ipynb"):
            continue
        n, found = small_counts(report_tables(nbformat.read(path, as_version=4)), minimum)
        scanned += n
        assert not found, (path, found)
    assert scanned > 100  # the scan really looked at counts


@pytest.mark.e2e
def test_berichte_for_one_year_on_the_demo_data(tmp_path: Path) -> None:
    """One build, then every check in order (the later steps change the data)."""
    built = _build(tmp_path)
    _check_set_and_index(built)
    _check_html(built)
    _check_confidentiality(built)
    _check_publication(built)
    _check_incremental(built)


def _check_incremental(built: dict[str, Path]) -> None:
    base, processed, out = built["base"], built["processed"], built["out"]
    args = [
        "berichte",
        "--jahr",
        YEAR,
        "--daten",
        str(processed),
        "--ziel",
        str(out),
        "--ohne-fortschritt",
    ]

    again = _cli(*args, cwd=base)
    assert again.returncode == 0, again.stderr
    assert set(_statuses(out).values()) == {"unveraendert"}

    # Touch one site's data: one rheindorf first contact changes its access route.
    path = processed / "erstkontakte.parquet"
    contacts = pd.read_parquet(path)
    routes = contacts["zugangsweg"].astype(object).to_numpy(copy=True)
    first = int((contacts["standort_id"] == "rheindorf").to_numpy().nonzero()[0][0])
    routes[first] = "bekannte" if routes[first] != "bekannte" else "hebamme"
    contacts["zugangsweg"] = pd.Categorical(
        routes, categories=contacts["zugangsweg"].cat.categories
    )
    contacts.to_parquet(path, index=False)
    touched = _cli(*args, cwd=base)
    assert touched.returncode == 0, touched.stderr
    rerun = sorted(k for k, s in _statuses(out).items() if s == "erzeugt")
    # qualitaet reads no first contacts; the change leaves the year's hidden cells of
    # rheindorf and of all sites as they were, so it is not run again.
    assert rerun == sorted(
        [
            f"{YEAR}/{s}/{a}"
            for s in ("alle", "rheindorf")
            for a in SITE_ANALYSES
            if a != "qualitaet"
        ]
        + [f"{YEAR}/alle/gesamtbericht"]
    )

    # A deliberately broken template fails alone; its last good reports stay in place.
    templates = base / "vorlagen"
    shutil.copytree(reports.templates_dir(), templates)
    broken = templates / "kostenentwicklung.ipynb"
    nb = nbformat.read(broken, as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell("raise RuntimeError('absichtlich kaputt')"))
    nbformat.write(nb, broken)
    before = (out / YEAR / "manfort" / "kostenentwicklung.html").read_bytes()
    config = load_config(processed_dir=processed, reports_dir=out)
    result = reports.run_batch(config, years=[int(YEAR)], templates=templates, progress=False)
    assert result.exit_code == 1
    failed = sorted(r.key for r in result.reports if r.status == "fehlgeschlagen")
    assert failed == sorted(f"{YEAR}/{s}/kostenentwicklung" for s in SITES_2014)
    assert all(
        "absichtlich kaputt" in r.fehler for r in result.reports if r.status == "fehlgeschlagen"
    )
    assert {r.status for r in result.reports if r.key not in failed} == {"unveraendert"}
    assert (out / YEAR / "manfort" / "kostenentwicklung.html").read_bytes() == before
    assert (out / YEAR / "manfort" / "kostenentwicklung.fehler.ipynb").is_file()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert (
        "absichtlich kaputt" in index and f"href='{YEAR}/manfort/kostenentwicklung.html'" in index
    )
