"""The kept-kernel Papermill engine: one kernel for many reports, nothing carried over.

Runs small notebooks through ``papermill.execute_notebook`` with the engine, as the batch's
workers do. Each test proves the kernel really was reused (same process id), so a check of
isolation cannot pass just because every notebook got a fresh kernel.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import papermill
import pytest
from papermill.exceptions import PapermillExecutionError

from analysis.reporting import engine

LEAVE_TRACES = """
import os, sys, warnings
import matplotlib, matplotlib.pyplot as plt, pandas as pd
import analysis.formatting
geheim = 42
analysis.formatting._fh_spur = "A"
matplotlib.rcParams["lines.linewidth"] = 9.5
pd.set_option("display.max_rows", 3)
os.environ["FH_SPUR"] = "A"
sys.path.append("/spur")
warnings.simplefilter("error")
plt.figure()
os.chdir("/")
"""

CHECK_CLEAN = """
import os, sys, warnings
import matplotlib, matplotlib.pyplot as plt, pandas as pd
import analysis.formatting
befund = {
    "namensraum": "geheim" in globals(),
    "modul": hasattr(analysis.formatting, "_fh_spur"),
    "linienbreite": matplotlib.rcParams["lines.linewidth"],
    "pandas": pd.get_option("display.max_rows"),
    "umgebung": "FH_SPUR" in os.environ,
    "pfad": "/spur" in sys.path,
    "grafiken": plt.get_fignums(),
    "ordner": os.getcwd(),
    "warnungen_als_fehler": any(f[0] == "error" and f[2] is Warning for f in warnings.filters),
}
"""

PID = "import os\nprint('PID', os.getpid())"


def _notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


def _run(
    template: Path, output: Path, execution_timeout: int | None = None
) -> nbformat.NotebookNode:
    engine.register()
    papermill.execute_notebook(
        str(template),
        str(output),
        kernel_name="python3",
        progress_bar=False,
        engine_name=engine.ENGINE_NAME,
        cwd=str(template.parent),
        execution_timeout=execution_timeout,
    )
    return nbformat.read(output, as_version=4)


def _pid(nb: nbformat.NotebookNode) -> int:
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    return int(text.split("PID", 1)[1].split()[0])


def _findings(nb: nbformat.NotebookNode) -> dict:
    """What the notebook's last cell printed as JSON."""
    return json.loads(nb.cells[-1].outputs[0]["text"])


@pytest.fixture
def kept(tmp_path: Path):
    yield tmp_path
    engine.shutdown_kept_kernel()


def test_nothing_of_one_report_reaches_the_next_in_the_kept_kernel(kept: Path) -> None:
    dirty = _notebook(kept / "a.ipynb", PID, LEAVE_TRACES)
    clean = _notebook(kept / "b.ipynb", PID, CHECK_CLEAN, "import json\nprint(json.dumps(befund))")
    fresh = _run(clean, kept / "b0.out.ipynb")  # the state a report finds in a new kernel
    new_clients = []
    km = engine._KERNEL.km
    real_client, real_blocking = km.client, km.blocking_client
    km.client = lambda *a, **k: new_clients.append(1) or real_client(*a, **k)
    km.blocking_client = lambda *a, **k: new_clients.append(2) or real_blocking(*a, **k)
    first = _run(dirty, kept / "a.out.ipynb")
    second = _run(clean, kept / "b.out.ipynb")
    assert _pid(first) == _pid(second) == _pid(fresh)  # really one kernel
    assert new_clients == []  # ... and its one client: no new handshake per report
    found = _findings(second)
    assert found == _findings(fresh)
    assert found["namensraum"] is False and found["modul"] is False
    assert found["linienbreite"] != 9.5 and found["pandas"] == 60
    assert found["grafiken"] == [] and found["ordner"] == str(kept)
    assert not found["umgebung"] and not found["pfad"] and not found["warnungen_als_fehler"]
    # Cell numbers start at 1, as in a fresh kernel.
    assert [c.execution_count for c in second.cells] == [1, 2, 3]


def test_a_failed_report_leaves_no_kernel_for_the_next(kept: Path) -> None:
    ok = _notebook(kept / "ok.ipynb", PID)
    broken = _notebook(kept / "kaputt.ipynb", PID, "raise RuntimeError('absichtlich')")
    before = _pid(_run(ok, kept / "1.ipynb"))
    with pytest.raises(PapermillExecutionError):
        _run(broken, kept / "2.ipynb")
    failed = nbformat.read(kept / "2.ipynb", as_version=4)
    assert _pid(failed) == before  # it ran in the kept kernel ...
    # ... the saved notebook shows the error (written at the end, whatever the throttle) ...
    errors = [o for c in failed.cells for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert [e["evalue"] for e in errors] == ["absichtlich"]
    assert _pid(_run(ok, kept / "3.ipynb")) != before  # ... and the kernel was replaced


@pytest.mark.parametrize(("every", "writes"), [(3600.0, 2), (0.0, 2 + 2 * 4)])
def test_the_output_notebook_is_written_at_start_and_end_and_at_most_every_few_seconds(
    kept: Path, monkeypatch, every: float, writes: int
) -> None:
    """Papermill writes the notebook before and after each cell; the engine only when
    :data:`engine.SAVE_EVERY_S` have passed, and always at the start and at the end."""
    import papermill.engines

    written: list[int] = []
    real = papermill.engines.write_ipynb

    def counting(nb, path):
        written.append(sum(1 for c in nb.cells if c.get("outputs")))
        real(nb, path)

    monkeypatch.setattr(papermill.engines, "write_ipynb", counting)
    monkeypatch.setattr(engine, "SAVE_EVERY_S", every)
    cells = [PID, "print(1)", "print(2)", "print(3)"]
    out = _run(_notebook(kept / "vier.ipynb", *cells), kept / "vier.out.ipynb")
    assert len(written) == writes
    assert written[0] == 0 and written[-1] == 4  # empty at the start, complete at the end
    assert [c.outputs[0]["text"] for c in out.cells[1:]] == ["1\n", "2\n", "3\n"]


def test_a_kernel_whose_warm_up_fails_is_stopped_not_left_running(monkeypatch) -> None:
    import os
    import time

    pids = []
    real_run = engine.KeptKernel._run

    def remember(self, code):
        pids.append(self.pid)  # the kernel process, while it is there
        return real_run(self, code)

    monkeypatch.setattr(engine.KeptKernel, "_run", remember)
    monkeypatch.setattr(engine, "WARM_UP", "raise RuntimeError('Vorladen kaputt')")
    with pytest.raises(RuntimeError, match="Vorladen kaputt"):
        engine.KeptKernel("python3", None, 60)
    pid = pids[0]
    assert pid is not None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"Kernel {pid} läuft nach dem gescheiterten Vorladen weiter")


def test_the_kernel_is_replaced_after_its_quota(kept: Path, monkeypatch) -> None:
    monkeypatch.setattr(engine, "MAX_REPORTS", 2)
    ok = _notebook(kept / "ok.ipynb", PID)
    pids = [_pid(_run(ok, kept / f"{i}.ipynb")) for i in range(2)]
    old_client = engine._KERNEL.kc
    pids.append(_pid(_run(ok, kept / "2.ipynb")))
    assert pids[0] == pids[1] != pids[2]
    assert not old_client.channels_running  # the replaced kernel's client is closed too


def test_a_timed_out_report_keeps_its_outputs_so_far_and_the_kernel_is_replaced(
    kept: Path, monkeypatch
) -> None:
    """A cell that overruns: the notebook written at the end shows the cells before it
    (whatever the save throttle), and the next report does not wait behind the old one."""
    import time

    monkeypatch.setattr(engine, "SAVE_EVERY_S", 3600.0)
    slow = _notebook(kept / "langsam.ipynb", PID, "print('vor')", "import time\ntime.sleep(60)")
    from nbclient.exceptions import CellTimeoutError

    with pytest.raises(CellTimeoutError):
        _run(slow, kept / "langsam.out.ipynb", execution_timeout=2)
    kept_nb = nbformat.read(kept / "langsam.out.ipynb", as_version=4)
    assert kept_nb.cells[1].outputs[0]["text"] == "vor\n"
    before = _pid(kept_nb)
    started = time.monotonic()
    after = _pid(_run(_notebook(kept / "ok.ipynb", PID), kept / "ok.out.ipynb"))
    assert after != before
    assert time.monotonic() - started < 45  # not behind the 60 s sleep


def test_a_report_asking_for_input_fails_at_once_instead_of_waiting(kept: Path) -> None:
    asking = _notebook(kept / "eingabe.ipynb", PID, "input('Name? ')")
    with pytest.raises(PapermillExecutionError) as error:  # a wait would end in a timeout
        _run(asking, kept / "eingabe.out.ipynb", execution_timeout=20)
    assert error.value.ename == "StdinNotImplementedError"


def test_the_modules_of_the_warm_up_are_collected_after_the_first_reset(kept: Path) -> None:
    """Only the libraries are frozen out of the garbage collector: this package's modules,
    which every reset drops, must not stay in memory for the kernel's life."""
    kernel = engine.KeptKernel("python3", str(kept), 60)
    try:
        found = kept / "befund.txt"
        kernel._run(
            "import builtins, sys, weakref\n"
            "builtins._fh_refs = [weakref.ref(m) for n, m in sys.modules.items()\n"
            "                     if n == 'analysis' or n.startswith('analysis.')]"
        )
        kernel.reset(str(kept))
        kernel._run(
            "import builtins, gc\n"
            "gc.collect()\n"
            "refs = builtins._fh_refs\n"
            f"open({str(found)!r}, 'w').write(f'{{len(refs)}} {{sum(r() is not None for r in refs)}}')"
        )
        total, alive = map(int, found.read_text().split())
        assert total > 10 and alive == 0, (total, alive)
    finally:
        kernel.shutdown()


def test_a_kernel_that_cannot_be_reset_is_not_used_again(kept: Path, monkeypatch) -> None:
    ok = _notebook(kept / "ok.ipynb", PID)
    before = _pid(_run(ok, kept / "1.ipynb"))
    monkeypatch.setattr(engine, "RESET", "raise RuntimeError('Zurücksetzen kaputt') # %r")
    with pytest.raises(RuntimeError, match="Zurücksetzen kaputt"):
        _run(ok, kept / "2.ipynb")
    monkeypatch.undo()
    assert _pid(_run(ok, kept / "3.ipynb")) != before


def test_the_installed_entry_point_does_not_break_importing_papermill() -> None:
    """Papermill loads its entry points while it is being imported: whichever is imported
    first, papermill or the engine, both must load, and the name must reach the engine."""
    import subprocess
    import sys
    from importlib.metadata import entry_points

    names = {e.name: e.value for e in entry_points(group="papermill.engine")}
    assert names.get(engine.ENGINE_NAME) == "analysis.reporting.papermill_entry:KeptKernelEngine"
    for first in ("papermill", "analysis.reporting.engine"):
        code = (
            f"import {first}\n"
            "from papermill.engines import papermill_engines\n"
            "import analysis.reporting.engine as e\n"
            "found = papermill_engines.get_engine('fh-analytik')\n"
            "assert found.execute_notebook.__func__.__qualname__.endswith('execute_notebook')\n"
            "print('geladen')\n"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert done.returncode == 0 and "geladen" in done.stdout, (first, done.stderr[-2000:])
