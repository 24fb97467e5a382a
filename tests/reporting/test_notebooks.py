"""The report templates are the source: each matches its catalogue entry and runs as stored.

Notebooks in ``notebooks/berichte/`` are edited in JupyterLab, not generated, so these tests
are what keeps them in step with the batch: one notebook per catalogue entry, exactly one
``parameters`` cell with the names the batch passes, the catalogue's sections in order, and
only calls of functions that exist. The exploration notebook runs on the demo data.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from analysis.reporting import sections
from analysis.reporting.batch import Job
from analysis.reporting.catalogue import REPORTS

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "notebooks" / "berichte"
EXPLORE = ROOT / "notebooks" / "erkunden"


def _notebook(name: str) -> nbformat.NotebookNode:
    return nbformat.read(TEMPLATES / name, as_version=4)


def _section_calls(nb: nbformat.NotebookNode) -> list[str]:
    """``abschnitte.show(abschnitte.X(bericht))`` -> ``X``, in cell order."""
    calls = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "abschnitte"
                and node.func.attr != "show"
            ):
                calls.append(node.func.attr)
    return calls


def test_one_notebook_per_catalogue_entry():
    stored = sorted(p.name for p in TEMPLATES.glob("*.ipynb"))
    assert stored == sorted(r.notebook for r in REPORTS.values())


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_parameters_cell_has_the_names_the_batch_passes(name):
    nb = _notebook(REPORTS[name].notebook)
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "genau eine Zelle mit dem Tag parameters"
    assigned = {
        t.id
        for node in ast.parse(tagged[0].source).body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name)
    }
    job = Job(REPORTS[name], "rheindorf", 2014)
    # The batch passes the job's parameters plus the data folder (reporting.batch.order_for).
    assert assigned == {*job.parameters, "daten"}
    # The conventions: title first, parameters second, the one call that opens the data third.
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert nb.cells[1] is tagged[0]
    assert f'analyse="{name}"' in nb.cells[2].source


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_sections_match_the_catalogue_and_exist(name):
    nb = _notebook(REPORTS[name].notebook)
    calls = _section_calls(nb)
    assert calls == list(REPORTS[name].sections)
    for function in calls:
        assert callable(getattr(sections, function, None)), f"sections.{function} fehlt"


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_report_notebooks_hold_no_definitions_or_wrangling(name):
    """No ``def``/``class`` in a report: anything beyond a call belongs in src/ with a test."""
    nb = _notebook(REPORTS[name].notebook)
    for cell in nb.cells:
        if cell.cell_type == "code":
            tree = ast.parse(cell.source)
            assert not any(
                isinstance(n, ast.FunctionDef | ast.ClassDef | ast.Lambda) for n in ast.walk(tree)
            )


def test_a_section_missing_from_the_catalogue_is_caught():
    """The check can fail: a notebook with one section cell removed no longer matches."""
    nb = _notebook(REPORTS["zugangswege"].notebook)
    calls = _section_calls(nb)
    assert calls[:-1] != list(REPORTS["zugangswege"].sections)


@pytest.mark.e2e
def test_exploration_notebook_runs_on_the_demo_data(tmp_path: Path):
    raw, processed = tmp_path / "raw", tmp_path / "processed"
    cli = [sys.executable, "-m", "analysis.cli"]
    subprocess.run([*cli, "beispieldaten", "--ziel", str(raw)], check=True, capture_output=True)
    subprocess.run(
        [*cli, "aufbereiten", "--rohdaten", str(raw), "--ziel", str(processed)],
        check=True,
        capture_output=True,
    )
    import papermill

    for path in sorted(EXPLORE.glob("*.ipynb")):
        out = tmp_path / path.name
        papermill.execute_notebook(
            str(path),
            str(out),
            parameters={"standort": "rheindorf", "jahr": "2014", "daten": str(processed)},
            kernel_name="python3",
            progress_bar=False,
            cwd=str(tmp_path),
        )
        executed = nbformat.read(out, as_version=4)
        errors = [
            o
            for c in executed.cells
            if c.cell_type == "code"
            for o in c.get("outputs", [])
            if o.get("output_type") == "error"
        ]
        assert not errors
        # It really computed something: the exploration shows the site's first contacts.
        text = "".join(
            str(o.get("data", {}).get("text/plain", ""))
            for c in executed.cells
            if c.cell_type == "code"
            for o in c.get("outputs", [])
        )
        assert "rheindorf" in text
