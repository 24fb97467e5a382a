"""Tests of the report machinery with tiny fixture notebooks (independent of the analyses)."""

from __future__ import annotations

import dataclasses
import errno
import fcntl
import json
import re
import shutil
import zipfile
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from analysis.config import load_config
from analysis.errors import FhError
from analysis.reporting import batch as reports
from analysis.reporting import export
from analysis.reporting.catalogue import Report
from analysis.reporting.cells import TABLE_MIME, table_payload
from analysis.reporting.export import execute_with_retries, render_html, report_tables, write_excel

FIXTURES = Path(__file__).parents[1] / "fixtures" / "notebooks"
CATALOGUE = {
    "reichweite": Report(
        "reichweite", "Reichweite", "standort", notebook="trivial.ipynb", tables=("erstkontakte",)
    ),
    "gesamtbericht": Report(
        "gesamtbericht", "Gesamtbericht", "jahr", notebook="trivial.ipynb", tables=("erstkontakte",)
    ),
    "datenqualitaet": Report(
        "datenqualitaet",
        "Datenqualität",
        "einmalig",
        notebook="trivial.ipynb",
        tables=("erstkontakte",),
        manifest=True,
    ),
}
# rheindorf open 2013-2014, 007 only 2014.
SITE_YEARS = [("rheindorf", 2013), ("rheindorf", 2014), ("007", 2014)]
OUTSIDE = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


# --- planning ---------------------------------------------------------------------------


def test_plan_expands_only_open_years_plus_alle_and_cross_site_reports() -> None:
    jobs = reports.plan_jobs(SITE_YEARS, CATALOGUE)
    keys = [j.key for j in jobs]
    # 2013: reichweite for alle + rheindorf, gesamtbericht alle = 3
    # 2014: reichweite for alle + 007 + rheindorf, gesamtbericht alle = 4
    # once: datenqualitaet = 1 → 8
    assert len(keys) == 8
    assert "2013/007/reichweite" not in keys  # 007 opened in 2014
    assert "2014/007/reichweite" in keys
    assert "2013/alle/gesamtbericht" in keys
    assert "alle-jahre/alle/datenqualitaet" in keys
    assert not any(k.endswith("rheindorf/gesamtbericht") for k in keys)


def test_plan_selection_by_year_site_and_analysis() -> None:
    jobs = reports.plan_jobs(
        SITE_YEARS, CATALOGUE, years=[2014], sites=["007"], analyses=["reichweite"]
    )
    assert [j.key for j in jobs] == ["2014/007/reichweite"]
    assert jobs[0].parameters == {"standort": "007", "jahr": "2014"}  # strings: 007 stays 007


def test_plan_year_selection_keeps_the_once_report() -> None:
    keys = [j.key for j in reports.plan_jobs(SITE_YEARS, CATALOGUE, years=[2013])]
    assert keys == [
        "alle-jahre/alle/datenqualitaet",
        "2013/alle/gesamtbericht",
        "2013/alle/reichweite",
        "2013/rheindorf/reichweite",
    ]


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"sites": ["nirgendwo"]}, ["Unbekannter Standort", "nirgendwo", "rheindorf", "007"]),
        ({"years": [1999]}, ["1999", "2013–2014"]),
        ({"analyses": ["horoskop"]}, ["Unbekannte Analyse", "horoskop", "reichweite"]),
        ({"sites": ["007"], "years": [2013]}, ["keinen Bericht"]),
    ],
)
def test_plan_rejects_unknown_selection_in_german(kwargs: dict, words: list[str]) -> None:
    with pytest.raises(FhError) as info:
        reports.plan_jobs(SITE_YEARS, CATALOGUE, **kwargs)
    for word in words:
        assert word in info.value.message


# --- fingerprints -----------------------------------------------------------------------


def _write_contacts(folder: Path, sites: list[str], codes: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame({"standort_id": pd.array(sites, dtype="string"), "zugangsweg": codes})
    frame.to_parquet(folder / "erstkontakte.parquet", index=False)


def test_data_hash_changes_only_for_the_touched_site_and_alle(tmp_path: Path) -> None:
    _write_contacts(tmp_path, ["a", "a", "b"], ["hebamme", "jugendamt", "kinderarzt"])
    before = reports.DataHasher(tmp_path)
    old = {s: before.table_hash("erstkontakte", s) for s in ("a", "b", "alle")}
    _write_contacts(tmp_path, ["a", "a", "b"], ["hebamme", "bekannte", "kinderarzt"])  # touch a
    after = reports.DataHasher(tmp_path)
    assert after.table_hash("erstkontakte", "a") != old["a"]
    assert after.table_hash("erstkontakte", "alle") != old["alle"]
    assert after.table_hash("erstkontakte", "b") == old["b"]
    assert after.table_hash("kosten_hze", "a") == "fehlt"
    # A new row of site a ahead of b's rows moves b's row numbers, not b's data.
    _write_contacts(tmp_path, ["a", "a", "a", "b"], ["weg", "hebamme", "bekannte", "kinderarzt"])
    assert reports.DataHasher(tmp_path).table_hash("erstkontakte", "b") == old["b"]


def test_data_hash_of_each_table_and_year_is_its_own_slice(tmp_path: Path) -> None:
    # One hasher serves the whole plan: the slice of 2013 must not stand in for 2014, nor
    # one table's for another's.
    frame = pd.DataFrame(
        {
            "standort_id": pd.array(["a", "a"], dtype="string"),
            "datum_erstkontakt": pd.to_datetime(["2013-05-02", "2014-03-04"]),
            "jahr": [2013, 2014],
        }
    )
    frame.drop(columns="jahr").to_parquet(tmp_path / "erstkontakte.parquet", index=False)
    frame.drop(columns="datum_erstkontakt").to_parquet(tmp_path / "angebote.parquet", index=False)
    hasher = reports.DataHasher(tmp_path)
    first = {
        (t, y): hasher.table_hash(t, "a", y)
        for t in ("erstkontakte", "angebote")
        for y in (2013, 2014)
    }
    fresh = {
        (t, y): reports.DataHasher(tmp_path).table_hash(t, "a", y)
        for t in ("erstkontakte", "angebote")
        for y in (2013, 2014)
    }
    assert first == fresh
    assert first["erstkontakte", 2013] != first["erstkontakte", 2014]
    assert first["erstkontakte", 2014] != first["angebote", 2014]


def _write_partners(folder: Path, areas: list[str], names: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame({"gebiet": pd.array(areas, dtype="string"), "bezeichnung": names})
    frame.to_parquet(folder / "netzwerkpartner.parquet", index=False)


def test_city_wide_rows_of_an_area_table_count_for_every_site(tmp_path: Path) -> None:
    """A site's qualitaet report reads the city-wide partners too: a changed ``gesamt`` row
    changes every site's fingerprint, another site's row does not."""
    _write_partners(tmp_path, ["a", "b", "gesamt"], ["Praxis A", "Praxis B", "Klinik"])
    old = {s: reports.DataHasher(tmp_path).table_hash("netzwerkpartner", s) for s in "ab"}
    _write_partners(tmp_path, ["a", "b", "gesamt"], ["Praxis A", "Praxis B", "Klinikum"])
    new = {s: reports.DataHasher(tmp_path).table_hash("netzwerkpartner", s) for s in "ab"}
    assert new["a"] != old["a"] and new["b"] != old["b"]
    _write_partners(tmp_path, ["a", "b", "gesamt"], ["Praxis A", "Praxis C", "Klinikum"])
    assert reports.DataHasher(tmp_path).table_hash("netzwerkpartner", "a") == new["a"]


def test_manifest_hash_ignores_creation_time(tmp_path: Path) -> None:
    manifest = {"erstellt": "2026-01-01T00:00:00", "tabellen": {"erstkontakte": {"gelesen": 3}}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    first = reports.DataHasher(tmp_path).manifest_hash()
    manifest["erstellt"] = "2026-02-02T00:00:00"
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert reports.DataHasher(tmp_path).manifest_hash() == first
    manifest["tabellen"]["erstkontakte"]["gelesen"] = 4
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert reports.DataHasher(tmp_path).manifest_hash() != first


def test_manifest_hash_is_the_content_not_the_key_order_and_covers_the_rejects(tmp_path):
    # Another version of aufbereiten may write the same manifest in another key order: the
    # data are the same, nothing is rebuilt. A changed rejects file is a change.
    manifest = {"stichtag": "2026-01-01", "tabellen": {"a": {"gelesen": 3, "abgelehnt": 1}}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (tmp_path / "abgelehnt").mkdir()
    (tmp_path / "abgelehnt" / "a.csv").write_text("zeile;grund\n2;leer\n", encoding="utf-8")
    first = reports.DataHasher(tmp_path).manifest_hash()
    reordered = {"tabellen": {"a": {"abgelehnt": 1, "gelesen": 3}}, "stichtag": "2026-01-01"}
    (tmp_path / "manifest.json").write_text(json.dumps(reordered), encoding="utf-8")
    assert reports.DataHasher(tmp_path).manifest_hash() == first
    (tmp_path / "abgelehnt" / "a.csv").write_text("zeile;grund\n3;leer\n", encoding="utf-8")
    assert reports.DataHasher(tmp_path).manifest_hash() != first
    assert reports.DataHasher(tmp_path / "fehlt").manifest_hash() != first


def test_fingerprint_follows_notebook_and_parameters(tmp_path: Path) -> None:
    _write_contacts(tmp_path / "daten", ["a"], ["hebamme"])
    config = load_config(processed_dir=tmp_path / "daten", reports_dir=tmp_path / "berichte")
    template = tmp_path / "t.ipynb"
    shutil.copy(FIXTURES / "trivial.ipynb", template)
    hasher = reports.DataHasher(tmp_path / "daten")
    job_a = reports.Job(CATALOGUE["reichweite"], "a", 2014)
    first = reports.fingerprint(job_a, template, config, hasher)
    assert first == reports.fingerprint(job_a, template, config, hasher)
    assert first != reports.fingerprint(
        reports.Job(CATALOGUE["reichweite"], "a", 2013), template, config, hasher
    )
    template.write_text(template.read_text() + "\n")
    assert first != reports.fingerprint(job_a, template, config, hasher)


def test_fingerprint_of_a_year_ignores_later_data_and_follows_the_program_code(
    tmp_path: Path, monkeypatch
) -> None:
    folder = tmp_path / "daten"
    folder.mkdir()

    def write(dates: list[str]) -> None:
        frame = pd.DataFrame(
            {
                "standort_id": pd.array(["a"] * len(dates), dtype="string"),
                "datum_erstkontakt": pd.to_datetime(dates),
            }
        )
        frame.to_parquet(folder / "erstkontakte.parquet", index=False)

    config = load_config(processed_dir=folder, reports_dir=tmp_path / "berichte")
    template = tmp_path / "t.ipynb"
    shutil.copy(FIXTURES / "trivial.ipynb", template)
    job = reports.Job(CATALOGUE["reichweite"], "a", 2014)
    later = reports.Job(CATALOGUE["reichweite"], "a", 2015)
    write(["2014-03-01", "2014-12-31"])
    before = reports.fingerprint(job, template, config, reports.DataHasher(folder))
    later_before = reports.fingerprint(later, template, config, reports.DataHasher(folder))
    write(["2014-03-01", "2014-12-31", "2015-01-01"])  # a new year arrives
    assert reports.fingerprint(job, template, config, reports.DataHasher(folder)) == before
    assert reports.fingerprint(later, template, config, reports.DataHasher(folder)) != (
        later_before
    )
    write(["2014-03-01"])  # a row of the year itself (on its last day) goes
    assert reports.fingerprint(job, template, config, reports.DataHasher(folder)) != before
    write(["2014-03-01", "2014-12-31"])
    assert reports.fingerprint(job, template, config, reports.DataHasher(folder)) == before
    # Unreleased edits of the code change every report, not only a new version number.
    monkeypatch.setattr(reports, "package_source_sha256", lambda: "anderer Code")
    assert reports.fingerprint(job, template, config, reports.DataHasher(folder)) != before


def test_a_config_change_changes_the_fingerprint(tmp_path: Path) -> None:
    _write_contacts(tmp_path / "daten", ["a"], ["hebamme"])
    template = tmp_path / "t.ipynb"
    shutil.copy(FIXTURES / "trivial.ipynb", template)
    job = reports.Job(CATALOGUE["reichweite"], "a", 2014)
    hasher = reports.DataHasher(tmp_path / "daten")
    config = load_config(processed_dir=tmp_path / "daten", reports_dir=tmp_path / "berichte")
    stricter = dataclasses.replace(config, min_count=config.min_count + 1)
    assert reports.fingerprint(job, template, config, hasher) != reports.fingerprint(
        job, template, stricter, hasher
    )


# --- sharding ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["3", "0/2", "3/2", "a/b", "1/0", ""])
def test_an_invalid_part_is_a_german_error(text: str) -> None:
    with pytest.raises(FhError, match="--teil"):
        reports.Shard.parse(text)


def test_parts_split_the_plan_completely_and_without_overlap() -> None:
    jobs = reports.plan_jobs(
        [(s, y) for s in ("a", "b", "c") for y in (2013, 2014)],
        CATALOGUE,
    )
    for count in (1, 2, 3, 7, len(jobs) + 2):
        parts = [reports.Shard(k, count).select(jobs) for k in range(1, count + 1)]
        keys = [j.key for part in parts for j in part]
        assert sorted(keys) == sorted(j.key for j in jobs) and len(set(keys)) == len(keys)
        sizes = [len(p) for p in parts]
        assert max(sizes) - min(sizes) <= 1  # balanced
    assert reports.Shard.parse(" 2/3 ") == reports.Shard(2, 3)
    assert reports.Shard(2, 3).select(jobs) == reports.Shard(2, 3).select(jobs)


def test_merged_parts_list_their_reports_in_the_order_of_the_plan() -> None:
    # The merged run record must read like one run's: plan_jobs' order, whatever part a
    # report came from (year, all sites first, site, report; the all-years report first).
    jobs = reports.plan_jobs([(s, y) for s in ("b", "a") for y in (2014, 2013)], CATALOGUE)
    results = [
        reports.ReportResult(j.key, j.analysis.name, j.site, j.year, j.title, "erzeugt", "x")
        for j in jobs
    ]
    parts = [reports.Shard(k, 3).select(results) for k in (3, 1, 2)]
    merged = sorted((r for part in parts for r in part), key=reports._plan_order)
    assert [r.key for r in merged] == [j.key for j in jobs]
    assert merged[0].jahr is None  # the data-quality report over all years
    assert [(r.jahr, r.standort, r.analyse) for r in merged[1:4]] == [
        (2013, "alle", "gesamtbericht"),
        (2013, "alle", "reichweite"),
        (2013, "a", "reichweite"),
    ]


def test_merge_refuses_while_a_part_is_missing(tmp_path: Path) -> None:
    config = load_config(processed_dir=tmp_path / "daten", reports_dir=tmp_path / "berichte")
    with pytest.raises(FhError, match="keine Teilläufe"):
        reports.merge_shards(config)
    folder = tmp_path / "berichte" / reports.SHARD_FOLDER
    folder.mkdir(parents=True)
    record = {"teil": "1/3", "berichte": [], "gestartet": "2026-01-01T10:00:00+01:00"}
    (folder / "lauf-1-von-3.json").write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(FhError) as missing:
        reports.merge_shards(config)
    assert missing.value.message == (
        "Es fehlen Teilläufe: 2/3, 3/3. Erst zusammenführen, wenn alle Teile fertig sind."
    )
    record["teil"] = "2/2"
    (folder / "lauf-2-von-2.json").write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(FhError, match="verschiedenen Aufteilungen"):
        reports.merge_shards(config)


def test_parts_share_the_lock_and_exclude_a_whole_run(tmp_path: Path) -> None:
    with reports._BatchLock(tmp_path, shared=True), reports._BatchLock(tmp_path, shared=True):
        with pytest.raises(FhError) as info:
            reports._BatchLock(tmp_path).__enter__()
        assert info.value.exit_code == 3
    with reports._BatchLock(tmp_path), pytest.raises(FhError):
        reports._BatchLock(tmp_path, shared=True).__enter__()


# --- execution helpers ------------------------------------------------------------------


def test_kernel_start_failures_are_retried() -> None:
    calls = []

    def flaky() -> None:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("Kernel died before replying to kernel_info")

    assert execute_with_retries(flaky, retries=2, wait_seconds=0) == 3
    calls.clear()
    with pytest.raises(RuntimeError):
        execute_with_retries(flaky, retries=1, wait_seconds=0)
    assert len(calls) == 2


def test_cell_errors_are_not_retried() -> None:
    from papermill.exceptions import PapermillExecutionError

    calls = []

    def broken() -> None:
        calls.append(1)
        raise PapermillExecutionError(2, 3, "raise x", "FhError", "kaputt", [])

    with pytest.raises(PapermillExecutionError):
        execute_with_retries(broken, retries=5, wait_seconds=0)
    assert len(calls) == 1


def test_html_has_no_code_and_no_outside_request_even_with_formulas() -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Überschrift\n\nEine Formel $q = k / n$ und $$x^2$$."),
        nbformat.v4.new_code_cell("geheimer_code = 1", outputs=[]),
        nbformat.v4.new_code_cell(
            "print('x')",
            outputs=[nbformat.v4.new_output("stream", name="stdout", text="Ausgabe\n")],
        ),
    ]
    html = render_html(nb, "Test")
    assert '<html lang="de">' in html
    assert "geheimer_code" not in html and "print(" not in html
    assert "Ausgabe" in html and "Überschrift" in html
    assert not OUTSIDE.findall(html)
    assert "<script" not in html


def test_the_shared_html_exporter_carries_nothing_from_one_report_to_the_next() -> None:
    """The worker keeps one exporter for all its reports: a report rendered after another
    gives the same page as with a new exporter (title, text, image, nothing of the first)."""
    from analysis.reporting import export

    def notebook(heading: str, text: str, png: str) -> nbformat.NotebookNode:
        nb = nbformat.v4.new_notebook()
        image = nbformat.v4.new_output("display_data", data={"image/png": png, "text/plain": "b"})
        image.metadata = {"image/png": {"alt": f"Alternativtext {heading}"}}
        nb.cells = [
            nbformat.v4.new_markdown_cell(f"# {heading}"),
            nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output(
                "stream", name="stdout", text=text)]),
            nbformat.v4.new_code_cell("y", outputs=[image]),
        ]  # fmt: skip
        return nb

    first = notebook("Erster Bericht", "nur im ersten\n", "iVBORw0KGgoAAAAN")
    second = notebook("Zweiter Bericht", "nur im zweiten\n", "R0lGODlhAQABAAAA")
    export._html_exporter.cache_clear()
    render_html(first, "Titel eins")
    after = render_html(second, "Titel zwei")
    assert export._html_exporter.cache_info().misses == 1  # really one exporter for both
    export._html_exporter.cache_clear()
    alone = render_html(second, "Titel zwei")
    assert after == alone
    assert "<title>Titel zwei</title>" in after and "nur im zweiten" in after
    assert "Titel eins" not in after and "nur im ersten" not in after
    assert "Erster" not in after and "iVBORw0KGgoAAAAN" not in after


def test_excel_appendix_keeps_numbers_and_suppression_marks(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    frame = pd.DataFrame(
        {"Zugangsweg": ["Hebamme", "Klinik"], "Anzahl": [12, "•"], "Anteil": [0.25, "•"]}
    )
    payload = table_payload(
        frame, "Zugangswege 2014", formats={"Anzahl": "anzahl", "Anteil": "anteil"}, index=False
    )
    target = tmp_path / "anhang.xlsx"
    write_excel([payload], {"titel": "Test", "Standort": "007"}, target)
    wb = load_workbook(target)
    assert wb.sheetnames == ["Datengrundlage", "Zugangswege 2014"]
    ws = wb["Zugangswege 2014"]
    assert [c.value for c in ws[2]] == ["Zugangsweg", "Anzahl", "Anteil"]
    assert [c.value for c in ws[3]] == ["Hebamme", 12, 0.25]
    assert ws["C3"].number_format == "0.0%"
    assert [c.value for c in ws[4]] == ["Klinik", "•", "•"]
    assert wb["Datengrundlage"]["B2"].value == "007"


# --- the batch on fixture notebooks -----------------------------------------------------


def _config(tmp_path: Path):
    _write_contacts(tmp_path / "daten", ["rheindorf", "007"], ["hebamme", "jugendamt"])
    (tmp_path / "daten" / "manifest.json").write_text(json.dumps({"erstellt": "x", "tabellen": {}}))
    return load_config(processed_dir=tmp_path / "daten", reports_dir=tmp_path / "berichte")


def test_batch_runs_skips_and_keeps_last_good_report(tmp_path: Path, capsys) -> None:
    config = _config(tmp_path)
    templates = tmp_path / "vorlagen"
    templates.mkdir()
    shutil.copy(FIXTURES / "trivial.ipynb", templates / "trivial.ipynb")
    shutil.copy(FIXTURES / "kaputt.ipynb", templates / "kaputt.ipynb")
    catalogue = {
        "reichweite": CATALOGUE["reichweite"],
        "kaputt": Report(
            "kaputt", "Kaputt", "jahr", notebook="kaputt.ipynb", tables=("erstkontakte",)
        ),
    }
    jobs = reports.plan_jobs([("007", 2014)], catalogue)
    keys = {j.key for j in jobs}
    assert keys == {"2014/alle/reichweite", "2014/007/reichweite", "2014/alle/kaputt"}

    first = reports.build_reports(config, jobs, templates=templates, parallel=2, progress=False)
    status = {r.key: r.status for r in first.reports}
    assert status == {
        "2014/alle/reichweite": "erzeugt",
        "2014/007/reichweite": "erzeugt",
        "2014/alle/kaputt": "fehlgeschlagen",
    }
    assert first.exit_code == 1
    broken = next(r for r in first.reports if r.status == "fehlgeschlagen")
    assert "Absichtlich kaputt für alle" in broken.fehler
    # The operator's summary: counts on standard output, each failure on standard error.
    printed = capsys.readouterr()
    assert re.search(
        r"^3 Berichte: 2 erzeugt, 0 unverändert, 1 fehlgeschlagen \(\d+ s\)\. Übersicht: .*"
        r"index\.html$",
        printed.out,
        re.MULTILINE,
    )
    assert f"  FEHLER 2014/alle/kaputt: {broken.fehler}\n" in printed.err
    assert "FEHLER 2014/007" not in printed.err

    out = tmp_path / "berichte"
    site_html = out / "2014" / "007" / "reichweite.html"
    for ext in ("html", "pdf", "xlsx", "ipynb"):
        assert (out / "2014" / "007" / f"reichweite.{ext}").is_file()
    page = site_html.read_text(encoding="utf-8")
    assert "Standort '007' im Jahr '2014'." in page  # strings reached the notebook
    assert "show_table(" not in page and not OUTSIDE.findall(page)
    assert (out / "2014" / "alle" / "kaputt.fehler.ipynb").is_file()
    assert not (out / "2014" / "alle" / "kaputt.html").exists()

    index = (out / "index.html").read_text(encoding="utf-8")
    assert "href='2014/007/reichweite.html'" in index
    assert "fehlgeschlagen" in index and "Absichtlich kaputt" in index
    run = json.loads((out / "lauf.json").read_text(encoding="utf-8"))
    assert run["anzahl"] == {"geplant": 3, "erzeugt": 2, "unveraendert": 0, "fehlgeschlagen": 1}
    assert run["exit_code"] == 1 and run["version"]

    # Dry run: lists, writes nothing.
    dry = reports.build_reports(config, jobs, templates=templates, dry_run=True, progress=False)
    assert {r.key: r.status for r in dry.reports}["2014/007/reichweite"] == "unveraendert"
    assert {r.key: r.status for r in dry.reports}["2014/alle/kaputt"] == "geplant"
    assert json.loads((out / "lauf.json").read_text(encoding="utf-8")) == run

    # A broken new version of the site template: the report fails, the last good one stays.
    shutil.copy(FIXTURES / "kaputt.ipynb", templates / "trivial.ipynb")
    site_jobs = [j for j in jobs if j.analysis.name == "reichweite"]
    again = reports.build_reports(config, site_jobs, templates=templates, progress=False)
    assert {r.status for r in again.reports} == {"fehlgeschlagen"}
    assert site_html.read_text(encoding="utf-8") == page

    # Repaired: unchanged data and template → skipped on the next run after one rebuild.
    shutil.copy(FIXTURES / "trivial.ipynb", templates / "trivial.ipynb")
    capsys.readouterr()
    third = reports.build_reports(config, site_jobs, templates=templates, progress=False)
    assert {r.status for r in third.reports} == {"unveraendert"}
    printed = capsys.readouterr()
    assert printed.out.startswith("2 Berichte: 0 erzeugt, 2 unverändert, 0 fehlgeschlagen (")
    assert "FEHLER" not in printed.err
    alle_html = out / "2014" / "alle" / "reichweite.html"
    before = alle_html.read_text(encoding="utf-8")
    forced = reports.build_reports(
        config, site_jobs[:1], templates=templates, force=True, progress=False
    )
    assert [r.key for r in forced.reports] == ["2014/alle/reichweite"]
    assert [r.status for r in forced.reports] == ["erzeugt"]
    # Reproducible: a second run on the same data gives the same page (figure included).
    assert alle_html.read_text(encoding="utf-8") == before


def test_executed_notebook_publishes_tables_for_the_appendix(tmp_path: Path) -> None:
    config = _config(tmp_path)
    jobs = reports.plan_jobs(
        [("007", 2014)], {"reichweite": CATALOGUE["reichweite"]}, sites=["007"]
    )
    reports.build_reports(config, jobs, templates=FIXTURES, progress=False, formats=("html",))
    nb = nbformat.read(tmp_path / "berichte" / "2014" / "007" / "reichweite.ipynb", as_version=4)
    tables = report_tables(nb)
    assert [t["titel"] for t in tables] == ["Beispieltabelle"]
    assert tables[0]["zeilen"] == [["Hebamme", 12], ["Klinik", "•"]]
    assert any(TABLE_MIME in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    assert not (tmp_path / "berichte" / "2014" / "007" / "reichweite.pdf").exists()


def test_a_notebook_over_its_time_limit_fails_with_a_german_message(tmp_path: Path) -> None:
    from dataclasses import replace

    config = replace(_config(tmp_path), timeout_seconds=3, kernel_retries=0)
    catalogue = {
        "langsam": Report("langsam", "Langsam", "jahr", notebook="langsam.ipynb", tables=())
    }
    jobs = reports.plan_jobs([("007", 2014)], catalogue)
    result = reports.build_reports(config, jobs, templates=FIXTURES, progress=False)
    assert result.exit_code == 1
    assert "Zeitlimit" in result.reports[0].fehler


def test_without_a_kept_kernel_each_report_runs_and_is_built_in_a_process_of_its_own(
    tmp_path: Path, monkeypatch
) -> None:
    # [berichte] kernel_behalten = false: a new process and kernel per report (_run_worker),
    # no pool of kept workers, and the worker learns the data folder from its environment.
    config = dataclasses.replace(_config(tmp_path), keep_kernel=False)
    calls: list[tuple[str, str | None]] = []
    real = reports._run_worker

    def spy(order: dict, timeout: int, env: dict) -> dict:
        calls.append((order["title"], env.get("FH_ANALYTIK_DATEN")))
        return real(order, timeout, env)

    monkeypatch.setattr(reports, "_run_worker", spy)
    monkeypatch.setattr(reports, "WorkerPool", None)  # using the pool would fail
    jobs = reports.plan_jobs([("007", 2014)], {"reichweite": CATALOGUE["reichweite"]})
    result = reports.build_reports(
        config, jobs, templates=FIXTURES, progress=False, formats=("html",)
    )
    assert {r.key: r.status for r in result.reports} == {
        "2014/alle/reichweite": "erzeugt",
        "2014/007/reichweite": "erzeugt",
    }
    assert all(r.versuche == 1 and r.dateien for r in result.reports)
    assert len(calls) == 2
    assert {Path(data).resolve() for _, data in calls} == {(tmp_path / "daten").resolve()}
    page = (tmp_path / "berichte" / "2014" / "007" / "reichweite.html").read_text(encoding="utf-8")
    assert "Standort '007' im Jahr '2014'." in page


def _order(tmp_path: Path, notebook: str, **parameters: str) -> dict:
    """A worker's order for one of the fixture notebooks (HTML only)."""
    return {
        "template": str(FIXTURES / notebook),
        "out_dir": str(tmp_path),
        "name": Path(notebook).stem,
        "parameters": parameters,
        "title": Path(notebook).stem.capitalize(),
        "timeout_seconds": 600,
        "kernel_retries": 0,
        "formats": ["html"],
    }


def _gone(pid: int, wait: float = 10.0) -> bool:
    """The process has ended (a zombie nobody reaps counts as ended)."""
    import time

    status = Path(f"/proc/{pid}/status")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            if "\nState:\tZ" in status.read_text(encoding="utf-8"):
                return True
        except OSError:
            return True
        time.sleep(0.1)
    return False


def test_a_report_process_that_crashes_or_overruns_is_a_failure_with_a_german_reason(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    import os
    import signal
    import subprocess
    import time

    env = dict(os.environ)
    # An order the worker cannot read: it dies with a traceback and writes no result. The
    # index gets the exit status only; the traceback goes to the operator's log.
    crashed = reports._run_worker({"title": "Kaputter Auftrag"}, 120, env)
    assert crashed["status"] == "fehlgeschlagen"
    assert crashed["error"] == (
        "Arbeitsprozess unerwartet beendet (Status 1); Einzelheiten im Protokoll des Laufs."
    )
    log = capsys.readouterr().err
    assert log.startswith("Arbeitsprozess für Kaputter Auftrag beendet:\n")
    assert "TypeError" in log and "Traceback" not in crashed["error"]
    # A notebook that sleeps 120 s, limit 3 s: the worker is killed at the limit.
    started: list[subprocess.Popen] = []

    class Recorded(subprocess.Popen):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(subprocess, "Popen", Recorded)
    begin = time.monotonic()
    overrun = reports._run_worker(_order(tmp_path, "langsam.ipynb"), 3, env)
    assert time.monotonic() - begin < 60
    assert overrun["status"] == "fehlgeschlagen"
    assert overrun["error"] == "Zeitlimit von 3 Sekunden überschritten; abgebrochen."
    assert 3 <= overrun["seconds"] < 60 and 0 <= crashed["seconds"] < 120  # into dauer_s
    assert [p.returncode for p in started] == [-signal.SIGKILL]
    assert not (tmp_path / "langsam.ipynb").exists()
    assert capsys.readouterr().err == ""  # an overrun is the report's fault, not the worker's


def test_a_kept_worker_that_crashes_or_overruns_is_killed_and_logs_its_last_words(
    tmp_path: Path, capsys
) -> None:
    import os
    import signal

    env = dict(os.environ)
    # The kept worker cannot read the order: it dies; its last output reaches the log.
    worker = reports.KeptWorker(env)
    crashed = worker.run({"title": "Kaputter Auftrag"}, 120)
    assert crashed["status"] == "fehlgeschlagen"
    assert crashed["error"] == (
        "Arbeitsprozess unerwartet beendet (Status 1); Einzelheiten im Protokoll des Laufs."
    )
    assert not worker.alive and not Path(worker.tmp.name).exists()
    log = capsys.readouterr().err
    assert log.startswith("Arbeitsprozess für Kaputter Auftrag beendet:\n") and "TypeError" in log
    # A report that works starts the kept kernel (in a session of its own); the next one
    # overruns its limit: worker and kernel are both killed, the report fails with the reason.
    # The kernel would also end by itself about a second after its worker (ipykernel's
    # parent poller); killed, it is gone at once.
    worker = reports.KeptWorker(env)
    try:
        done = worker.run(_order(tmp_path, "trivial.ipynb", standort="007", jahr="2014"), 300)
        assert done["status"] == "erzeugt", done
        kernel = int(worker.pid_file.read_text(encoding="utf-8"))
        assert not _gone(kernel, wait=0.5)
        overrun = worker.run(_order(tmp_path, "langsam.ipynb"), 3)
        assert _gone(kernel, wait=0.5)
        assert overrun["status"] == "fehlgeschlagen"
        assert overrun["error"] == "Zeitlimit von 3 Sekunden überschritten; abgebrochen."
        assert 3 <= overrun["seconds"] < 60
        assert worker.proc.returncode == -signal.SIGKILL
        assert not Path(worker.tmp.name).exists()
    finally:
        if worker.alive:
            worker.kill()


def test_run_batch_gives_the_overview_the_names_of_the_sites(tmp_path: Path, monkeypatch) -> None:
    from helpers import contact, site, write_processed

    daten = write_processed(
        tmp_path / "daten",
        {
            "standorte": [site("rheindorf"), site("007")],
            "erstkontakte": [contact("1", "rheindorf", "2014-03-01")],
        },
    )
    config = load_config(processed_dir=daten, reports_dir=tmp_path / "berichte")
    seen: dict = {}
    monkeypatch.setattr(
        reports, "build_reports", lambda _config, jobs, **kw: seen.update(kw, jobs=jobs)
    )
    reports.run_batch(config, progress=False, templates=FIXTURES, catalogue=CATALOGUE)
    assert seen["site_names"] == {"rheindorf": "Standort rheindorf", "007": "Standort 007"}
    # The run record (lauf.json) keeps what was asked for, German keys, lists not tuples.
    reports.run_batch(
        config,
        years=(2014,),
        sites=("007",),
        analyses=("reichweite",),
        parallel=0,
        force=True,
        progress=False,
        templates=FIXTURES,
        catalogue=CATALOGUE,
    )
    assert seen["parameters"] == {
        "jahre": [2014],
        "standorte": ["007"],
        "analysen": ["reichweite"],
        "parallel": 2,  # 0 asks for the configured number (fh-analytik.toml: 2)
        "neu": True,
    }
    assert config.parallel == 2
    assert {(j.site, j.year, j.analysis.name) for j in seen["jobs"]} == {
        ("007", 2014, "reichweite")
    }


def test_index_names_sites_and_keeps_their_id():
    known = {
        "2014/rheindorf/reichweite": {
            "analyse": "reichweite",
            "standort": "rheindorf",
            "jahr": 2014,
            "titel": "Reichweite",
            "dateien": ["2014/rheindorf/reichweite.html"],
        }
    }
    manifest = {"beendet": "2026-11-23T10:00:00+01:00"}
    page = reports.render_index(known, [], manifest, {"rheindorf": "Rheindorfer Laden & Co"})
    assert "Rheindorfer Laden &amp; Co<br><span class='meta'>rheindorf</span>" in page
    assert "href='2014/rheindorf/reichweite.html'" in page
    # Without names the id stands alone.
    assert "<th scope='row'>rheindorf</th>" in reports.render_index(known, [], manifest)


def test_a_year_index_stays_visible_even_as_range_index():
    from analysis.reporting.cells import table_payload

    # pandas stores consecutive years as a RangeIndex; the years must still be shown.
    years = pd.DataFrame({"Erstkontakte": [131, 259]}, index=pd.RangeIndex(2011, 2013, name="Jahr"))
    payload = table_payload(years, "Verlauf")
    assert payload["spalten"] == ["Jahr", "Erstkontakte"]
    assert payload["zeilen"] == [[2011, 131], [2012, 259]]
    # An unnamed default index is not a column.
    plain = table_payload(pd.DataFrame({"a": [1]}), "ohne Index")
    assert plain["spalten"] == ["a"]


# --- the batch's promises: exactly the affected reports run again (issue #13) -----------
# Planned with a dry run only (fingerprints and the files on disk; no notebook is executed).

PROMISE_CATALOGUE = {
    "reichweite": Report(
        "reichweite", "Reichweite", "standort", notebook="r.ipynb", tables=("erstkontakte",)
    ),
    "gesamtbericht": Report(
        "gesamtbericht", "Gesamtbericht", "jahr", notebook="g.ipynb", tables=("erstkontakte",)
    ),
    "datenqualitaet": Report(
        "datenqualitaet",
        "Datenqualität",
        "einmalig",
        notebook="d.ipynb",
        tables=("erstkontakte",),
        manifest=True,
        rows=False,
    ),
}
EVERY_REPORT = {
    "alle-jahre/alle/datenqualitaet",
    "2014/alle/gesamtbericht",
    "2014/alle/reichweite",
    "2014/a/reichweite",
    "2014/b/reichweite",
}


class _Promises:
    """A data folder with sites a and b, one template per report, and a state file that
    records every report as built with the current fingerprint and its HTML on disk."""

    def __init__(self, tmp_path: Path) -> None:
        self.data = tmp_path / "daten"
        _write_contacts(self.data, ["a", "a", "b"], ["hebamme", "jugendamt", "kinderarzt"])
        (self.data / "manifest.json").write_text(json.dumps({"erstellt": "x", "tabellen": {}}))
        (self.data / "abgelehnt").mkdir()
        (self.data / "abgelehnt" / "erstkontakte.csv").write_text("datei;zeile;gruende\n")
        self.config = load_config(processed_dir=self.data, reports_dir=tmp_path / "berichte")
        self.templates = tmp_path / "vorlagen"
        self.templates.mkdir()
        for name in ("r", "g", "d"):
            shutil.copy(FIXTURES / "trivial.ipynb", self.templates / f"{name}.ipynb")
        self.jobs = reports.plan_jobs([("a", 2014), ("b", 2014)], PROMISE_CATALOGUE)
        assert {j.key for j in self.jobs} == EVERY_REPORT
        self.protection = {2014: {"a": "muster-a", "b": "muster-b", "alle": "muster-alle"}}
        out = self.config.reports_dir
        state = {"berichte": {}}
        for r in self.plan(self.config).reports:
            state["berichte"][r.key] = {"fingerabdruck": r.fingerabdruck, "dateien": []}
            html = out / f"{r.key}.html"
            html.parent.mkdir(parents=True, exist_ok=True)
            html.write_text("<html></html>")
        out.mkdir(parents=True, exist_ok=True)
        (out / reports.STATE_FILE).write_text(json.dumps(state))

    def plan(self, config=None, protection=None) -> reports.BatchResult:
        return reports.build_reports(
            config or self.config,
            self.jobs,
            templates=self.templates,
            dry_run=True,
            progress=False,
            protection=protection or self.protection,
        )

    def rerun(self, config=None, protection=None) -> set[str]:
        """The reports the next run would build."""
        return {r.key for r in self.plan(config, protection).reports if r.status == "geplant"}


@pytest.fixture
def promises(tmp_path: Path) -> _Promises:
    return _Promises(tmp_path)


def test_an_unchanged_run_touches_no_report(promises: _Promises) -> None:
    assert promises.rerun() == set()
    # Re-running ``aufbereiten`` rewrites the files with the same rows and a new time.
    _write_contacts(promises.data, ["a", "a", "b"], ["hebamme", "jugendamt", "kinderarzt"])
    (promises.data / "manifest.json").write_text(json.dumps({"erstellt": "y", "tabellen": {}}))
    assert promises.rerun() == set()


def test_a_changed_configuration_rebuilds_every_report(promises: _Promises) -> None:
    from dataclasses import replace

    changed = replace(promises.config, min_count=4)
    assert changed.sha256 != promises.config.sha256
    assert promises.rerun(changed) == EVERY_REPORT


def test_a_new_package_version_rebuilds_every_report(
    promises: _Promises, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reports, "__version__", "99.0.0")
    assert promises.rerun() == EVERY_REPORT


def test_a_changed_template_rebuilds_only_its_reports(promises: _Promises) -> None:
    r = promises.templates / "r.ipynb"
    r.write_text(r.read_text() + "\n")
    assert promises.rerun() == {"2014/alle/reichweite", "2014/a/reichweite", "2014/b/reichweite"}


def test_a_changed_row_of_one_site_rebuilds_that_site_and_the_cross_site_reports(
    promises: _Promises,
) -> None:
    # A row of site a changes: a's report, the all-sites reports; not b's, and not the
    # quality report, which reads the manifest, not the rows.
    _write_contacts(promises.data, ["a", "a", "b"], ["hebamme", "bekannte", "kinderarzt"])
    assert promises.rerun() == {
        "2014/a/reichweite",
        "2014/alle/reichweite",
        "2014/alle/gesamtbericht",
    }


def test_changed_rejects_rebuild_the_report_of_the_manifest(promises: _Promises) -> None:
    rejects = promises.data / "abgelehnt" / "erstkontakte.csv"
    rejects.write_text("datei;zeile;gruende\nerstkontakte.csv;7;kaputt\n")
    assert promises.rerun() == {"alle-jahre/alle/datenqualitaet"}


def test_a_deleted_report_file_is_built_again_alone(promises: _Promises) -> None:
    (promises.config.reports_dir / "2014" / "b" / "reichweite.html").unlink()
    assert promises.rerun() == {"2014/b/reichweite"}


def test_a_changed_hiding_pattern_rebuilds_the_reports_that_show_it(promises: _Promises) -> None:
    # Another cell of site b is hidden (which also changes the all-sites pattern).
    protection = {2014: {"a": "muster-a", "b": "muster-b2", "alle": "muster-alle2"}}
    assert promises.rerun(protection=protection) == {
        "2014/b/reichweite",
        "2014/alle/reichweite",
        "2014/alle/gesamtbericht",
    }


def test_fingerprint_follows_configuration_and_package_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    _write_contacts(tmp_path / "daten", ["a"], ["hebamme"])
    config = load_config(processed_dir=tmp_path / "daten", reports_dir=tmp_path / "berichte")
    template = tmp_path / "t.ipynb"
    shutil.copy(FIXTURES / "trivial.ipynb", template)
    hasher = reports.DataHasher(tmp_path / "daten")
    job = reports.Job(CATALOGUE["reichweite"], "a", 2014)
    first = reports.fingerprint(job, template, config, hasher)
    assert reports.fingerprint(job, template, replace(config, land="BY"), hasher) != first
    assert reports.fingerprint(job, template, replace(config, min_count=5), hasher) != first
    monkeypatch.setattr(reports, "__version__", "0.0.0-anders")
    assert reports.fingerprint(job, template, config, hasher) != first


def test_manifest_hash_follows_the_rejects(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps({"tabellen": {}}))
    first = reports.DataHasher(tmp_path).manifest_hash()
    rejects = tmp_path / "abgelehnt"
    rejects.mkdir()
    (rejects / "erstkontakte.csv").write_text("datei;zeile;gruende\n")
    second = reports.DataHasher(tmp_path).manifest_hash()
    assert second != first  # a rejects file appeared
    (rejects / "erstkontakte.csv").write_text("datei;zeile;gruende\nx.csv;3;kaputt\n")
    assert reports.DataHasher(tmp_path).manifest_hash() not in {first, second}


# --- hostile input and broken disks (issue 9) ----------------------------------------------


def test_a_site_id_that_would_leave_the_report_folder_is_refused_before_anything_runs(
    tmp_path: Path,
) -> None:
    for bad in ("../../esc", "{}", "x" * 300, "Rheindorf", "gesamt"):
        with pytest.raises(FhError, match="als Ordnername nicht zulässig") as err:
            reports.plan_jobs([(bad, 2014), ("007", 2014)], CATALOGUE)
        assert err.value.exit_code == 2
        with pytest.raises(FhError):
            _ = reports.Job(CATALOGUE["reichweite"], bad, 2014).folder
    # Processed data that did not come from `aufbereiten` (an older version, a hand edit).
    from helpers import contact, site, write_processed

    daten = write_processed(
        tmp_path / "daten",
        {
            "standorte": [site("../../esc")],
            "erstkontakte": [contact("1", "../../esc", "2014-03-01")],
        },
    )
    config = load_config(processed_dir=daten, reports_dir=tmp_path / "berichte")
    with pytest.raises(FhError, match=r"Standortkennung „\.\./\.\./esc“"):
        reports.run_batch(config, years=[2014], analyses=["reichweite"], progress=False)
    assert not (tmp_path / "berichte").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["daten"]


def _hold_lock(out: Path):
    out.mkdir(parents=True, exist_ok=True)
    handle = (out / reports.LOCK_FILE).open("w")
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return handle


def test_the_lock_is_taken_before_the_state_is_read(tmp_path: Path, monkeypatch) -> None:
    config = _config(tmp_path)
    out = tmp_path / "berichte"
    seen = []
    real_load = reports._load_state

    def load_and_check(folder: Path):
        probe = (folder / reports.LOCK_FILE).open("w")
        try:
            with pytest.raises(BlockingIOError):  # held by the run that reads the state
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            probe.close()
        seen.append(folder)
        return real_load(folder)

    monkeypatch.setattr(reports, "_load_state", load_and_check)
    reports.build_reports(config, [], templates=FIXTURES, progress=False)
    assert seen == [out]


def test_a_second_run_exits_3_without_reading_or_writing_the_state(
    tmp_path: Path, monkeypatch
) -> None:
    config = _config(tmp_path)
    out = tmp_path / "berichte"
    out.mkdir()
    (out / reports.STATE_FILE).write_text('{"berichte": {"2014/007/x": {}}}', encoding="utf-8")
    before = (out / reports.STATE_FILE).read_bytes()
    monkeypatch.setattr(reports, "_load_state", lambda folder: pytest.fail("state read"))
    holder = _hold_lock(out)
    try:
        with pytest.raises(FhError) as err:
            reports.build_reports(config, [], templates=FIXTURES, progress=False)
    finally:
        holder.close()
    assert err.value.exit_code == 3
    assert err.value.message == (
        f"Ein anderer Berichtslauf schreibt gerade nach {out}; bitte warten, bis er fertig ist."
    )
    assert (out / reports.STATE_FILE).read_bytes() == before


def test_leftovers_of_a_killed_run_are_removed_under_the_lock(tmp_path: Path) -> None:
    config = _config(tmp_path)
    out = tmp_path / "berichte"
    (out / "2014" / "007").mkdir(parents=True)
    leftovers = [
        out / ".index.html.tmp",
        out / ".berichtsstand.json.tmp",
        out / "2014" / "007" / ".reichweite.html.4242.tmp",
    ]
    for path in leftovers:
        path.write_text("halb", encoding="utf-8")
    (out / "2014" / "007" / "reichweite.html").write_text("gut", encoding="utf-8")
    reports.build_reports(config, [], templates=FIXTURES, progress=False)
    assert not any(p.exists() for p in leftovers)
    assert (out / "2014" / "007" / "reichweite.html").read_text(encoding="utf-8") == "gut"


def test_a_full_disk_while_writing_the_state_is_a_german_error(tmp_path: Path, monkeypatch) -> None:
    config = _config(tmp_path)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "berichte"))

    monkeypatch.setattr(reports.os, "replace", full)
    with pytest.raises(FhError) as err:
        reports.build_reports(config, [], templates=FIXTURES, progress=False)
    assert err.value.message.startswith(
        "Berichtsstand nicht geschrieben: kein Speicherplatz mehr auf dem Datenträger"
    )
    assert list((tmp_path / "berichte").glob(".*.tmp")) == []


def test_a_report_folder_that_cannot_be_created_is_a_german_error(tmp_path: Path) -> None:
    config = _config(tmp_path)
    (tmp_path / "datei").write_text("kein Ordner", encoding="utf-8")
    from dataclasses import replace

    config = replace(config, reports_dir=tmp_path / "datei" / "berichte")
    with pytest.raises(FhError, match=r"Berichtsordner .* ist nicht beschreibbar: "):
        reports.build_reports(config, [], templates=FIXTURES, progress=False)


def test_excel_appendix_writes_formula_like_text_as_text(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    frame = pd.DataFrame(
        {
            "Standort": ['=HYPERLINK("http://x","Klick")', "@Laden", "Rheindorf"],
            "Veränderung": [-3, 2, 0],
            "Notiz": ["-3", "+1+2", "–"],
        }
    )
    payload = table_payload(frame, "=Tabelle", index=False)
    target = tmp_path / "anhang.xlsx"
    write_excel([payload], {"titel": "=1+2", "Standort": "-Standort"}, target)
    with zipfile.ZipFile(target) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert "<f>" not in archive.read(name).decode(), name
    wb = load_workbook(target)
    ws = wb[wb.sheetnames[1]]
    assert [c.value for c in ws["A"][2:5]] == [
        '=HYPERLINK("http://x","Klick")',
        "@Laden",
        "Rheindorf",
    ]
    assert [(c.value, c.data_type) for c in ws["B"][2:5]] == [(-3, "n"), (2, "n"), (0, "n")]
    assert [c.data_type for row in wb.worksheets for r in row.iter_rows() for c in r].count(
        "f"
    ) == 0
    assert wb["Datengrundlage"]["A1"].value == "=1+2"


def test_a_full_disk_during_a_report_leaves_no_truncated_notebook(tmp_path: Path) -> None:
    out = tmp_path / "berichte" / "2014" / "007"

    def runs_out_of_space(template, output, **kwargs):
        Path(output).write_text('{"cells": [', encoding="utf-8")  # cut off mid-write
        raise OSError(errno.ENOSPC, "No space left on device", output)

    order = export.Order(
        template=str(FIXTURES / "trivial.ipynb"),
        out_dir=str(out),
        name="reichweite",
        parameters={"standort": "007", "jahr": "2014"},
        title="Reichweite",
        timeout_seconds=30,
        kernel_retries=0,
    )
    outcome = export.produce(order, execute=runs_out_of_space)
    assert outcome.status == "fehlgeschlagen"
    assert outcome.error.startswith(
        "Bericht nicht geschrieben: kein Speicherplatz mehr auf dem Datenträger"
    )
    assert outcome.files == [] and list(out.iterdir()) == []
    # A folder that cannot be made: the same kind of message, no traceback.
    (tmp_path / "datei").write_text("x", encoding="utf-8")
    blocked = export.produce(
        export.Order(**{**order.__dict__, "out_dir": str(tmp_path / "datei" / "007")}),
        execute=runs_out_of_space,
    )
    assert blocked.error.startswith("Berichtsordner nicht beschreibbar: ")


def test_an_unexpected_worker_error_keeps_its_traceback_out_of_the_index(
    tmp_path: Path, monkeypatch
) -> None:
    def bug(order, execute=None):
        raise RuntimeError("Programmfehler")

    monkeypatch.setattr(export, "produce", bug)
    order = {
        "template": "t.ipynb",
        "out_dir": str(tmp_path),
        "name": "x",
        "parameters": {},
        "title": "X",
        "timeout_seconds": 1,
        "kernel_retries": 0,
    }
    (tmp_path / "auftrag.json").write_text(json.dumps(order), encoding="utf-8")
    export.main([str(tmp_path / "auftrag.json"), str(tmp_path / "ergebnis.json")])
    result = json.loads((tmp_path / "ergebnis.json").read_text(encoding="utf-8"))
    assert result["error"] == "RuntimeError: Programmfehler"
    assert "Traceback" in result["details"]


def test_a_full_disk_while_rendering_leaves_the_last_good_report_and_no_temporary_file(
    tmp_path: Path, monkeypatch
) -> None:
    out = tmp_path / "berichte" / "2014" / "007"
    out.mkdir(parents=True)
    (out / "reichweite.html").write_text("letzter guter Bericht", encoding="utf-8")

    def executed(template, output, **kwargs):
        nbformat.write(nbformat.v4.new_notebook(), output)

    def pdf_cut_short(html, target):
        Path(target).write_bytes(b"%PDF-1.7 halb")
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    monkeypatch.setattr(export, "render_pdf", pdf_cut_short)
    order = export.Order(
        template=str(FIXTURES / "trivial.ipynb"),
        out_dir=str(out),
        name="reichweite",
        parameters={"standort": "007", "jahr": "2014"},
        title="Reichweite",
        timeout_seconds=30,
        kernel_retries=0,
    )
    outcome = export.produce(order, execute=executed)
    assert outcome.status == "fehlgeschlagen"
    assert outcome.error.startswith(
        "Bericht nicht geschrieben: kein Speicherplatz mehr auf dem Datenträger"
    )
    assert sorted(p.name for p in out.iterdir()) == ["reichweite.html"]
    assert (out / "reichweite.html").read_text(encoding="utf-8") == "letzter guter Bericht"


def test_merging_the_parts_keeps_every_reports_state_and_cleans_up(tmp_path: Path) -> None:
    # The merged state must know every part's reports (or the next run rebuilds them all),
    # the index must list them, and the parts' records and a killed run's leftovers go.
    config = load_config(processed_dir=tmp_path / "daten", reports_dir=tmp_path / "berichte")
    out = tmp_path / "berichte"
    folder = out / reports.SHARD_FOLDER
    folder.mkdir(parents=True)
    jobs = reports.plan_jobs([("a", 2014)], CATALOGUE)[:2]
    entries: dict[str, dict] = {}
    for k, job in enumerate(jobs, start=1):
        result = reports.ReportResult(
            job.key, job.analysis.name, job.site, job.year, job.title, "erzeugt", f"f{k}"
        )
        record = {
            "teil": f"{k}/2",
            "berichte": [dataclasses.asdict(result)],
            "gestartet": f"2026-01-01T10:0{k}:00+01:00",
            "beendet": f"2026-01-01T10:1{k}:00+01:00",
            "parameter": {"jahre": [2014]},
        }
        (folder / f"lauf-{k}-von-2.json").write_text(json.dumps(record), encoding="utf-8")
        entry = {
            "analyse": job.analysis.name,
            "standort": job.site,
            "jahr": job.year,
            "titel": job.title,
            "fingerabdruck": f"f{k}",
            "erzeugt": "2026-01-01T10:10:00+01:00",
            "dateien": [f"{job.folder}/{job.analysis.name}.html"],
        }
        entries[job.key] = entry
        state = {"berichte": {job.key: entry}}
        (folder / f"stand-{k}-von-2.json").write_text(json.dumps(state), encoding="utf-8")
    # A report from an earlier whole run, in no part: the merged state keeps it.
    earlier = {
        "analyse": "reichweite",
        "standort": "b",
        "jahr": 2013,
        "titel": "Reichweite b",
        "fingerabdruck": "alt",
        "erzeugt": "2025-12-01T10:00:00+01:00",
        "dateien": ["2013/b/reichweite.html"],
    }
    (out / reports.STATE_FILE).write_text(
        json.dumps({"berichte": {"2013/b/reichweite": earlier}}), encoding="utf-8"
    )
    (out / "2014").mkdir()
    leftover = out / "2014" / ".reichweite.html.4711.tmp"
    leftover.write_text("halb", encoding="utf-8")
    batch = reports.merge_shards(config, {"a": "Standort A"})
    assert [r.key for r in batch.reports] == [j.key for j in jobs]
    merged = json.loads((out / reports.STATE_FILE).read_text(encoding="utf-8"))
    assert merged["berichte"] == {"2013/b/reichweite": earlier, **entries} and len(entries) == 2
    run = json.loads((out / reports.RUN_MANIFEST).read_text(encoding="utf-8"))
    assert run["parameter"] == {"jahre": [2014], "teile": 2}
    assert run["dauer_s"] == 660.0  # 10:01 to 10:12
    index = (out / reports.INDEX).read_text(encoding="utf-8")
    links = [e["dateien"][0] for e in entries.values()]
    shown = [index, (out / reports.INTERNAL_FOLDER / reports.INDEX).read_text(encoding="utf-8")]
    assert all(any(f.split("/", 1)[-1] in page for page in shown) for f in links), links
    assert "2013/b/reichweite.html" in index  # the index lists what is known, not only this run
    assert not folder.exists() and not leftover.exists()


def test_run_batch_plans_only_the_sites_years_and_reports_asked_for(tmp_path: Path) -> None:
    from helpers import contact, site, write_processed

    daten = write_processed(
        tmp_path / "daten",
        {
            "standorte": [site("rheindorf"), site("007")],
            "erstkontakte": [
                contact("1", "rheindorf", "2014-03-01"),
                contact("2", "007", "2014-03-01"),
                contact("3", "007", "2015-03-01"),
            ],
        },
    )
    config = load_config(processed_dir=daten, reports_dir=tmp_path / "berichte")

    def planned(**selection) -> set[tuple[str, int | None, str]]:
        result = reports.run_batch(
            config,
            dry_run=True,
            progress=False,
            templates=FIXTURES,
            catalogue=CATALOGUE,
            **selection,
        )
        return {(r.standort, r.jahr, r.analyse) for r in result.reports}

    everything = planned()
    assert {s for s, _, _ in everything} == {"alle", "rheindorf", "007"}
    only = planned(sites=["007"])
    assert only and {s for s, _, a in only if a == "reichweite"} == {"007"}
    assert only < everything
    assert {a for _, _, a in planned(analyses=["reichweite"])} == {"reichweite"}
    assert {y for _, y, _ in planned(years=[2015])} <= {2015, None}
    assert 2015 in {y for _, y, _ in planned(years=[2015])}


def test_the_data_hash_follows_a_renamed_column(tmp_path: Path) -> None:
    # Same values and types under another column name is other data for the reports.
    _write_contacts(tmp_path, ["a", "b"], ["hebamme", "jugendamt"])
    before = reports.DataHasher(tmp_path).table_hash("erstkontakte", "alle")
    frame = pd.read_parquet(tmp_path / "erstkontakte.parquet")
    frame.rename(columns={"zugangsweg": "zugangsgrund"}).to_parquet(
        tmp_path / "erstkontakte.parquet", index=False
    )
    assert reports.DataHasher(tmp_path).table_hash("erstkontakte", "alle") != before


def test_a_dry_run_prints_what_it_would_build_and_the_run_record_names_the_data(
    tmp_path: Path, capsys
) -> None:
    config = _config(tmp_path)
    jobs = reports.plan_jobs([("rheindorf", 2014)], CATALOGUE, analyses=["reichweite"])
    reports.build_reports(config, jobs, templates=FIXTURES, dry_run=True, progress=False)
    out = capsys.readouterr().out
    assert "Probelauf: 2 Berichte ausgewählt, 2 würden erzeugt, 0 sind unverändert." in out
    assert all(f"  erzeugen   {j.key}" in out for j in jobs) and len(jobs) == 2
    result = reports.BatchResult([], False, 1.0, config.reports_dir)
    record = reports.run_manifest(result, config, "2026-01-01T10:00:00+01:00", {})
    assert record["daten"]["ordner"] == str(config.processed_dir)
