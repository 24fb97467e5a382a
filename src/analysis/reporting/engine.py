"""A Papermill engine that keeps its kernel between notebooks (``fh-analytik``).

Starting a kernel and importing pandas, matplotlib, seaborn and statsmodels costs several
seconds, more than most reports' own work. This engine starts one kernel per worker
process, imports those libraries once, and runs report after report in it. Papermill stays
the executor (parameters, the record in the notebook's metadata, error cells); only where the
kernel comes from changes. Evaluators re-run a report with the plain ``papermill`` CLI and get
the same notebook.

Isolation: before each notebook the kernel is put back into the state of a fresh kernel
with the libraries already imported:

- the user namespace, the input/output history and the execution counter are reset
  (``InteractiveShell.reset``), so cell numbers start at 1 as in a fresh kernel;
- every module of this package (``analysis.*``) is removed from ``sys.modules``, so module
  state (caches, memos) of one report cannot reach the next; the notebook imports it anew;
- matplotlib's settings, open figures, the warning filters, pandas' options, the
  environment, ``sys.path`` and the working directory are restored to the snapshot taken
  right after start-up.

Speed: one kernel client (ZeroMQ channels) serves the kernel for its whole life. A new
client first has to see the kernel's reply to ``kernel_info`` and a message on IOPub, which
costs about 0.2 s each time; the reset and the notebook used to pay it twice per report.
After the warm-up, every object the libraries created is moved out of the garbage
collector's reach (``gc.freeze``), so the collection at each reset looks only at what
reports left behind. Papermill writes the output notebook before and after every cell; this
engine writes it at most every :data:`SAVE_EVERY_S` seconds while cells run (and always at
the start, on a failure and at the end, as Papermill does).

A kernel that failed, timed out or died is shut down and replaced before the next report;
after :data:`MAX_REPORTS` reports it is replaced as well, so no slow leak can grow. The
test ``tests/reporting/test_engine.py`` runs reports in a kept kernel and in fresh ones and
compares the notebooks.

Registered under the entry-point group ``papermill.engine`` (``pyproject.toml``), so
``papermill --engine fh-analytik`` works too.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines

ENGINE_NAME = "fh-analytik"
#: A kernel is replaced after this many reports (bounds memory that a library may keep).
MAX_REPORTS = 60
#: While cells run, the output notebook is written at most this often (Papermill: every cell).
SAVE_EVERY_S = 10.0
#: Environment variable that lets the kernel's process id reach the batch (for a hard stop).
PID_ANNOUNCE = "FH_ANALYTIK_KERNEL_PID_DATEI"

#: Run once in a new kernel: the heavy imports every report needs, then the snapshot that
#: each reset restores. Runs silently; leaves only names with the ``_fh_`` prefix behind,
#: in ``sys.modules['__fh_kernel_state__']``, not in the user namespace.
WARM_UP = r"""
def _fh_warm_up():
    import copy, gc, os, sys, types, warnings
    import numpy, pandas, scipy.stats, matplotlib, matplotlib.pyplot, seaborn
    import statsmodels.api, statsmodels.formula.api
    # The libraries' objects are never garbage: out of the collector's reach, so the
    # collection at each reset looks only at what reports left. Not this package's modules:
    # each reset drops them, and they must be collectable then.
    gc.collect()
    gc.freeze()
    import analysis.reporting.cells, analysis.reporting.sections, analysis.reporting.style
    import analysis.indicators.stats, analysis.protection.publication
    state = types.ModuleType("__fh_kernel_state__")
    state.rc = copy.deepcopy(dict(matplotlib.rcParams))
    state.filters = list(warnings.filters)
    state.environ = dict(os.environ)
    state.path = list(sys.path)
    state.cwd = os.getcwd()
    sys.modules["__fh_kernel_state__"] = state
_fh_warm_up()
del _fh_warm_up
"""

#: Run before every notebook (after the first): back to the snapshot of :data:`WARM_UP`.
RESET = r"""
def _fh_reset(cwd):
    import gc, os, sys, warnings
    import matplotlib, matplotlib.pyplot as plt, pandas
    state = sys.modules["__fh_kernel_state__"]
    plt.close("all")
    for name in [m for m in sys.modules if m == "analysis" or m.startswith("analysis.")]:
        del sys.modules[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        matplotlib.rcParams.clear()
        dict.update(matplotlib.rcParams, state.rc)
        pandas.reset_option("all")
    warnings.filters[:] = state.filters
    warnings._filters_mutated()
    warnings.onceregistry.clear()
    os.environ.clear()
    os.environ.update(state.environ)
    sys.path[:] = state.path
    os.chdir(cwd or state.cwd)
    get_ipython().reset(new_session=True)
    gc.collect()
_fh_reset(%r)
"""


class KeptKernel:
    """One started kernel with its manager, reused for many notebooks in this process."""

    def __init__(self, kernel_name: str, cwd: str | None, startup_timeout: int) -> None:
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        self.kernel_name = kernel_name
        self.km = AsyncKernelManager(kernel_name=kernel_name)
        run_sync(self.km.start_kernel)(cwd=cwd)
        self.reports = 0
        self.startup_timeout = startup_timeout
        pid_file = os.environ.get(PID_ANNOUNCE)
        pid = self.pid
        if pid_file and pid:
            with open(pid_file, "w", encoding="utf-8") as fh:
                fh.write(str(pid))
        # One client for the kernel's life: the reset and every notebook share it.
        self.kc = self.km.client()
        try:
            self.kc.start_channels()
            run_sync(self.kc.wait_for_ready)(timeout=startup_timeout)
            self.kc.allow_stdin = False
            self._run(WARM_UP)
        except BaseException:
            self.shutdown()  # a kernel that never became usable is not left running
            raise

    @property
    def pid(self) -> int | None:
        provisioner = getattr(self.km, "provisioner", None)
        process = getattr(provisioner, "process", None)
        return getattr(process, "pid", None)

    def alive(self) -> bool:
        from jupyter_core.utils import run_sync

        return bool(run_sync(self.km.is_alive)())

    def _run(self, code: str) -> None:
        """Execute ``code`` silently (no history, no counter); raise if it fails."""
        from jupyter_core.utils import run_sync

        reply = run_sync(self.kc.execute_interactive)(
            code, silent=True, store_history=False, timeout=self.startup_timeout
        )
        content = reply["content"]
        if content.get("status") != "ok":
            raise RuntimeError(
                f"Kernel nicht vorbereitet: {content.get('ename')}: {content.get('evalue')}"
            )

    def reset(self, cwd: str | None) -> None:
        self._run(RESET % (cwd,))

    def shutdown(self) -> None:
        from jupyter_core.utils import run_sync

        # A kernel that is already gone has nothing left to stop.
        with contextlib.suppress(Exception):
            self.kc.stop_channels()
        with contextlib.suppress(Exception):
            run_sync(self.km.shutdown_kernel)(now=True)


_KERNEL: KeptKernel | None = None


def shutdown_kept_kernel() -> None:
    """Stop this process's kept kernel (the worker calls it on exit)."""
    global _KERNEL
    if _KERNEL is not None:
        _KERNEL.shutdown()
        _KERNEL = None


def _kernel_for(kernel_name: str, cwd: str | None, startup_timeout: int) -> KeptKernel:
    """The kept kernel, reset for the next notebook; a new one when needed."""
    global _KERNEL
    kernel = _KERNEL
    if kernel is not None and (
        kernel.kernel_name != kernel_name or kernel.reports >= MAX_REPORTS or not kernel.alive()
    ):
        shutdown_kept_kernel()
        kernel = None
    if kernel is None:
        kernel = KeptKernel(kernel_name, cwd, startup_timeout)
        _KERNEL = kernel
    try:
        kernel.reset(cwd)
    except BaseException:
        shutdown_kept_kernel()  # a kernel that could not be reset is not used again
        raise
    return kernel


class KeptKernelEngine(NBClientEngine):
    """Papermill's nbclient engine, with the kernel kept between notebooks of a process."""

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man: Any,
        kernel_name: str,
        log_output: bool = False,
        stdout_file: Any = None,
        stderr_file: Any = None,
        start_timeout: int = 60,
        execution_timeout: int | None = None,
        **kwargs: Any,
    ) -> Any:
        global _KERNEL
        cwd = kwargs.pop("cwd", None)
        kwargs.pop("input_path", None)
        kwargs.pop("timeout", None)
        kwargs.pop("startup_timeout", None)
        kernel = _kernel_for(kernel_name, cwd, start_timeout)
        client = PapermillNotebookClient(
            nb_man,
            km=kernel.km,
            timeout=execution_timeout,
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
            **kwargs,
        )
        client.kc = kernel.kc  # the kept client: no new channels, no second handshake
        nb_man.save = _throttled_save(nb_man)
        try:
            client.execute(cleanup_kc=False)
        except BaseException:
            # A timed-out cell may still be running, a dead kernel cannot be reset:
            # the next report gets a new kernel.
            shutdown_kept_kernel()
            raise
        finally:
            del nb_man.save  # Papermill's own again, for its final save
        kernel.reports += 1
        if nb_man.nb.metadata.get("papermill", {}).get("exception"):
            # A cell failed: its state is not worth keeping.
            shutdown_kept_kernel()
        return nb_man.nb


def _throttled_save(nb_man: Any) -> Any:
    """``nb_man.save`` that writes only when :data:`SAVE_EVERY_S` have passed since the last
    write (Papermill writes the whole notebook, images included, twice per cell)."""
    save = nb_man.save

    def throttled(**kwargs: Any) -> None:
        if (nb_man.now() - nb_man.last_save_time).total_seconds() >= SAVE_EVERY_S:
            save(**kwargs)

    return throttled


def register() -> None:
    """Make the engine known to Papermill in this process (the entry point does it for the
    ``papermill`` CLI once the package is installed)."""
    papermill_engines.register(ENGINE_NAME, KeptKernelEngine)
