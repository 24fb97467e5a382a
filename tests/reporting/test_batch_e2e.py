"""End to end: `fh-analytik berichte` for one year on the demo municipality.

Builds demo data and reports once (module fixture), then checks the set, the index, the
HTML, incremental skipping, a touched site, a broken notebook and the confidentiality of
every published table.
"""

from __future__ import annotations

import json
import os
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


def _check_accessibility(built: dict[str, Path]) -> None:
    """Every page of the build – both indexes and every report of every kind in the
    catalogue – passes every accessibility rule (the rules: test_accessibility.py)."""
    from analysis.reporting.accessibility import check_file
    from analysis.reporting.catalogue import REPORTS

    pages = sorted(built["out"].rglob("*.html"))
    assert {p.stem for p in pages} >= {*REPORTS, "index"}, "eine Berichtsart fehlt im Lauf"
    findings = {str(p.relative_to(built["out"])): check_file(p) for p in pages}
    assert {k: [str(f) for f in v] for k, v in findings.items() if v} == {}
    # The figures reached the page with their text alternative, not nbconvert's placeholder.
    page = (built["out"] / YEAR / "alle" / "reichweite.html").read_text(encoding="utf-8")
    assert 'alt="Liniengrafik der Erstkontakte je 1.000 Geburten' in page


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
    _check_accessibility(built)
    _check_confidentiality(built)
    _check_publication(built)
    _check_kept_kernel_is_a_fresh_kernel(built)
    _check_later_years_leave_the_year_alone(built)
    _check_parts_merge_to_one_run(built)
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


TIMESTAMPS = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:[+-]\d{2}:\d{2})?|\d{2}\.\d{2}\.\d{4},? \d{2}:\d{2}"
)


def _outputs(nb: nbformat.NotebookNode) -> list[str]:
    """What a report shows, cell by cell, without the times of its making."""
    shown = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream" and o.get("name") == "stderr":
                continue
            text = json.dumps(o.get("data", o.get("text")), sort_keys=True)
            shown.append(f"{cell.execution_count}:{TIMESTAMPS.sub('ZEIT', text)}")
    return shown


def _check_kept_kernel_is_a_fresh_kernel(built: dict[str, Path]) -> None:
    """Reports the batch ran one after another in kept kernels are the notebooks a fresh
    kernel gives (the ``papermill`` CLI an evaluator uses), figure bytes included."""
    base, processed, out = built["base"], built["processed"], built["out"]
    run = json.loads((out / "lauf.json").read_text(encoding="utf-8"))
    assert run["konfiguration"]["berichte"]["kernel_behalten"] is True
    env = {**os.environ, "FH_ANALYTIK_DATEN": str(processed), "PYTHONHASHSEED": "0"}
    env["SOURCE_DATE_EPOCH"] = "946684800"
    papermill = Path(sys.executable).parent / "papermill"
    for key in (f"{YEAR}/rheindorf/kostenentwicklung", f"{YEAR}/steinbuechel/zugangswege"):
        site, name = key.split("/")[1:]
        fresh = base / f"frisch-{site}-{name}.ipynb"
        done = subprocess.run(
            [
                str(papermill),
                str(reports.templates_dir() / f"{name}.ipynb"),
                str(fresh),
                *("-p", "standort", site, "-p", "jahr", YEAR),
                *("--cwd", str(reports.templates_dir())),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        kept = _outputs(nbformat.read(out / f"{key}.ipynb", as_version=4))
        assert kept == _outputs(nbformat.read(fresh, as_version=4)), key
        assert any("image/png" in o for o in kept)  # figures were compared too


def _check_later_years_leave_the_year_alone(built: dict[str, Path]) -> None:
    """A report of year J reads nothing after J: with the later years' data removed and put
    back, no report of the year is rebuilt, its files stay byte for byte, and a forced
    rebuild shows the same numbers."""
    from analysis.data import bound_to_year

    base, processed, out = built["base"], built["processed"], built["out"]
    args = ["berichte", "--jahr", YEAR, "--daten", str(processed), "--ziel", str(out)]
    args.append("--ohne-fortschritt")
    kept = base / "alle-jahre"
    shutil.copytree(processed, kept)
    files = {p: p.read_bytes() for p in (out / YEAR).rglob("*") if p.is_file()}
    one = (f"{YEAR}/manfort/zugangswege", ["--analyse", "zugangswege", "--standort", "manfort"])

    def tables() -> list[dict]:
        forced = _cli(*args, *one[1], "--neu", cwd=base)
        assert forced.returncode == 0, forced.stderr
        return report_tables(nbformat.read(out / f"{one[0]}.ipynb", as_version=4))

    with_later = tables()
    for path in processed.glob("*.parquet"):
        frame = pd.read_parquet(path)
        bound_to_year(path.stem, frame, int(YEAR)).to_parquet(path, index=False)
    assert pd.read_parquet(processed / "erstkontakte.parquet")["datum_erstkontakt"].max().year == (
        int(YEAR)
    )
    for data in ("ohne spätere Jahre", "mit späteren Jahren"):
        again = _cli(*args, cwd=base)
        assert again.returncode == 0, again.stderr
        statuses = _statuses(out)
        assert {s for k, s in statuses.items() if k.startswith(YEAR)} == {"unveraendert"}, data
        if data == "ohne spätere Jahre":
            assert tables() == with_later
            shutil.rmtree(processed)
            shutil.copytree(kept, processed)
            files[out / f"{one[0]}.html"] = (out / f"{one[0]}.html").read_bytes()
    for path, content in files.items():
        if path.suffix != ".ipynb" and one[0] not in str(path):
            assert path.read_bytes() == content, path


def _check_parts_merge_to_one_run(built: dict[str, Path]) -> None:
    """Three parts in parallel processes, then the merge: the same reports and the same
    index as one run over the same plan."""
    base, processed = built["base"], built["processed"]
    select = ["--jahr", YEAR, "--analyse", "zugangswege", "--daten", str(processed)]
    select.append("--ohne-fortschritt")
    whole, parts = base / "ein-lauf", base / "in-teilen"
    single = _cli("berichte", *select, "--ziel", str(whole), "--parallel", "1", cwd=base)
    assert single.returncode == 0, single.stderr
    command = Path(sys.executable).parent / "fh-analytik"
    running = [
        subprocess.Popen(
            [
                str(command),
                "berichte",
                *select,
                "--ziel",
                str(parts),
                "--parallel",
                "1",
                "--teil",
                f"{k}/3",
            ],
            cwd=base,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in (1, 2, 3)
    ]
    for proc in running:
        stdout, stderr = proc.communicate(timeout=900)
        assert proc.returncode == 0, stderr
        assert "zusammenführen" in stdout
    assert not (parts / "index.html").exists()  # no part writes the index
    merged = _cli(
        "berichte", "--zusammenfuehren", "--daten", str(processed), "--ziel", str(parts), cwd=base
    )
    assert merged.returncode == 0, merged.stderr
    assert _statuses(parts) == _statuses(whole)
    assert not (parts / reports.SHARD_FOLDER).exists()

    def listing(folder: Path) -> list[str]:
        return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())

    assert listing(parts) == listing(whole)
    for ipynb in (whole / YEAR).rglob("*.ipynb"):
        twin = parts / ipynb.relative_to(whole)
        assert _outputs(nbformat.read(twin, as_version=4)) == _outputs(
            nbformat.read(ipynb, as_version=4)
        )
    index = {
        f: TIMESTAMPS.sub("ZEIT", (f / "index.html").read_text(encoding="utf-8"))
        for f in (whole, parts)
    }
    assert index[parts] == index[whole]
    again = _cli("berichte", *select, "--ziel", str(parts), cwd=base)
    assert set(_statuses(parts).values()) == {"unveraendert"}, again.stdout
