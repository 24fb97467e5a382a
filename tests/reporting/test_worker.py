"""The worker processes' entry (``python -m analysis.reporting.worker``): a short start."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
import analysis.reporting.worker
import nbformat
from nbformat.validator import ValidationError

# jsonschema was imported (nbformat checks notebooks with it) without the slow module ...
assert "jsonschema" in sys.modules
assert sys.modules.get("rfc3987_syntax") is None, "rfc3987_syntax geladen"
# ... and neither pandas nor the report cells: the worker renders, the kernel computes.
# Also not as a long-lived worker (``--dauerhaft``), whose loop runs here on empty input.
import io
from analysis.reporting.export import serve
answers = io.StringIO()
assert serve(io.StringIO(""), answers) == 0 and answers.getvalue() == ""
assert "pandas" not in sys.modules, "pandas geladen"
assert "analysis.reporting.cells" not in sys.modules
assert "analysis.reporting.batch" not in sys.modules
# ... and still checks notebooks: a good one passes, a broken one is refused.
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
nbformat.validate(nb)
nb.cells[0]["cell_type"] = "kaputt"
try:
    nbformat.validate(nb)
except ValidationError:
    print("abgelehnt")
"""


def test_the_worker_starts_without_the_iri_grammars_or_pandas_and_still_validates() -> None:
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "abgelehnt"


def test_an_import_elsewhere_keeps_every_format_check() -> None:
    """Only the worker process leaves the module out, not a session that imports the
    package (JupyterLab, the CLI)."""
    code = "import analysis.reporting.export, analysis.reporting.batch, nbformat, sys; "
    code += "print('rfc3987_syntax' in sys.modules and "
    code += "sys.modules['rfc3987_syntax'] is not None)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "True"
