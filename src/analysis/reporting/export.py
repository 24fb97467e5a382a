"""One report from template to files: Papermill run, self-contained HTML, PDF and Excel.

The batch (``analysis.reporting.batch``) runs this module in worker processes
(``python -m analysis.reporting.worker``), so a hanging kernel can be killed with
its whole process group and a crash cannot take the batch down. Files are written under
temporary names and moved into place only when everything succeeded: the last good report
survives a failed run.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from analysis.contract.safety import defuse_excel_cell
from analysis.errors import is_storage_error, os_error_text
from analysis.reporting import DONE, TABLE_MIME

TEMPLATE_BASE = Path(__file__).resolve().parent / "templates"
REPORT_TEMPLATE = "bericht"
KERNEL_NAME = "python3"
#: Suffix of the executed notebook kept when a run fails (the last good one stays untouched).
FAILED_SUFFIX = ".fehler.ipynb"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass
class Order:
    """What the worker is asked to produce (written as JSON by the batch)."""

    template: str
    out_dir: str
    name: str
    parameters: dict[str, str]
    title: str
    timeout_seconds: int
    kernel_retries: int
    formats: tuple[str, ...] = ("html", "pdf", "xlsx")
    meta: dict[str, str] = field(default_factory=dict)
    #: Run in this process's kept kernel (``analysis.reporting.engine``) instead of a new one.
    kept_kernel: bool = False


@dataclass
class Outcome:
    """What the worker reports back: status ``erzeugt`` or ``fehlgeschlagen``."""

    status: str
    error: str | None = None
    seconds: float = 0.0
    attempts: int = 1
    files: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    details: str | None = (
        None  # traceback of an unexpected error: the operator's log, not the index
    )


# --- Execution ---------------------------------------------------------------------------


def _is_cell_failure(exc: BaseException) -> bool:
    """A failure of the notebook's own code (not of the kernel machinery): never retried."""
    from nbclient.exceptions import CellTimeoutError
    from papermill.exceptions import PapermillExecutionError, PapermillMissingParameterException

    return isinstance(
        exc,
        PapermillExecutionError
        | CellTimeoutError
        | PapermillMissingParameterException
        | FileNotFoundError,
    )


def execute_with_retries(
    execute: Callable[[], Any], retries: int, wait_seconds: float = 1.0
) -> int:
    """Run ``execute``; when the kernel fails to start or dies, try again up to ``retries`` times.

    Returns the number of attempts. Errors in the notebook's cells are raised at once:
    running the same code again would fail the same way.
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            execute()
            return attempt
        except Exception as exc:
            if _is_cell_failure(exc) or attempt > retries:
                raise
            time.sleep(wait_seconds * attempt)


def error_text(exc: BaseException) -> str:
    """A short, readable error for index and run manifest (German frame, original message)."""
    from nbclient.exceptions import CellTimeoutError
    from papermill.exceptions import PapermillExecutionError

    if is_storage_error(exc):  # full disk, read-only or vanished folder: no traceback
        assert isinstance(exc, OSError)
        return f"Bericht nicht geschrieben: {os_error_text(exc)}"
    if isinstance(exc, PapermillExecutionError):
        evalue = _ANSI.sub("", str(exc.evalue)).strip()
        where = f"Zelle {exc.exec_count}" if exc.exec_count else "einer Zelle"
        if exc.ename == "FhError":
            return f"{evalue} (in {where})"
        return f"{exc.ename} in {where}: {evalue}"
    if isinstance(exc, CellTimeoutError):
        return f"Zeitlimit einer Zelle überschritten: {_ANSI.sub('', str(exc)).strip()[:300]}"
    return f"{type(exc).__name__}: {_ANSI.sub('', str(exc)).strip()[:500]}"


def _keep_failed(tmp_nb: Path, failed_nb: Path, exc: BaseException) -> bool:
    """Keep the failed run's notebook beside the report (for finding the error), unless it
    could not be written in the first place: a truncated notebook helps nobody."""
    if not tmp_nb.exists():
        return False
    if is_storage_error(exc):
        tmp_nb.unlink(missing_ok=True)
        return False
    try:
        os.replace(tmp_nb, failed_nb)
    except OSError:
        tmp_nb.unlink(missing_ok=True)
        return False
    return True


# --- Rendering ---------------------------------------------------------------------------


def _report_view(nb: NotebookNode) -> NotebookNode:
    """The notebook as readers see it: no warnings on stderr, no empty code cells."""
    view = copy.deepcopy(nb)
    for cell in view.cells:
        if cell.cell_type == "code":
            cell.outputs = [
                o
                for o in cell.get("outputs", [])
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            ]
    view.cells = [c for c in view.cells if c.cell_type != "code" or c.get("outputs")]
    return view


def public_record(nb: NotebookNode) -> NotebookNode:
    """The executed notebook as it is kept beside the report: what the report shows and the
    code that made it, nothing more – no warnings (they carry server paths), and papermill's
    record of input and output names its files without their folders."""
    record = copy.deepcopy(nb)
    for cell in record.cells:
        if cell.cell_type == "code":
            cell.outputs = [
                o
                for o in cell.get("outputs", [])
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            ]
    meta = record.metadata.get("papermill") or {}
    for key in ("input_path", "output_path"):
        if meta.get(key):
            meta[key] = Path(str(meta[key])).name
    meta.pop("environment_variables", None)
    return record


def render_html(nb: NotebookNode, title: str) -> str:
    """Self-contained HTML: no code cells, images inline, no script or font from outside."""
    html, _ = _html_exporter().from_notebook_node(
        _report_view(nb), resources={"metadata": {"name": title}}
    )
    return html


@functools.cache
def _html_exporter() -> Any:
    """The configured exporter, one per process: a new one compiles its Jinja templates
    again (about half of each report's HTML time). Everything of a report comes in with
    ``from_notebook_node``; of earlier reports the exporter keeps only their notebook
    metadata (nbconvert's ``_nb_metadata``, by title), which no later page shows (tested).
    Not for use from several threads at once (nbconvert registers its filters per call)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name=REPORT_TEMPLATE, extra_template_basedirs=[str(TEMPLATE_BASE)]
    )
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.exclude_anchor_links = True
    exporter.embed_images = True
    exporter.language_code = "de"
    # Belt and braces: even if a block slipped through, it could not point outside.
    exporter.require_js_url = ""
    exporter.mathjax_url = ""
    exporter.mermaid_js_url = ""
    exporter.mermaid_layout_elk_js_url = ""
    exporter.jupyter_widgets_base_url = ""
    exporter.widget_renderer_url = ""
    return exporter


def render_pdf(html: str, target: Path) -> None:
    """PDF for committee papers with weasyprint (no browser needed; fonts from the system)."""
    from weasyprint import HTML

    HTML(string=html, base_url=str(target.parent)).write_pdf(target)


def report_tables(nb: NotebookNode) -> list[dict[str, Any]]:
    """Every table the report showed, as ``report_cells.show_table`` published it."""
    tables = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            payload = output.get("data", {}).get(TABLE_MIME)
            if payload is not None:
                tables.append(payload if isinstance(payload, dict) else json.loads(payload))
    return tables


def _sheet_name(title: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", " ", title).strip()[:28] or "Tabelle"
    name, n = base, 2
    while name.lower() in used:
        name = f"{base[:25]} ({n})"
        n += 1
    used.add(name.lower())
    return name


_EXCEL_FORMATS = {
    "anzahl": "#,##0",
    "zahl0": "#,##0",
    "anteil": "0.0%",
    "euro": '#,##0 "€"',
    "euro2": '#,##0.00 "€"',
    "prozent": '+0.00" %";-0.00" %";0.00" %"',
    "zahl1": "#,##0.0",
    "zahl2": "#,##0.00",
    "jahr": "0",
}


def write_excel(tables: list[dict[str, Any]], meta: dict[str, str], target: Path) -> None:
    """The planners' working copy: one sheet per report table plus the data basis.

    Cells keep real numbers (with German display formats in Excel); hidden cells read ``•``.
    Text is always text: a site named ``=HYPERLINK(…)`` is shown, never run as a formula.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    info = wb.active
    info.title = "Datengrundlage"
    info.append([meta.get("titel", "Bericht")])
    info["A1"].font = Font(bold=True, size=13)
    for key, value in meta.items():
        if key != "titel":
            info.append([key, value])
    info.append([])
    info.append(
        [
            "Hinweis",
            "• = aus Gründen der Geheimhaltung nicht ausgewiesen (Fallzahl unter der "
            "Mindestfallzahl oder rückrechenbar); – = nicht berechenbar.",
        ]
    )
    info.column_dimensions["A"].width = 28
    info.column_dimensions["B"].width = 90

    used = {"datengrundlage"}
    for table in tables:
        ws = wb.create_sheet(_sheet_name(str(table.get("titel", "Tabelle")), used))
        ws.append([table.get("titel", "")])
        ws["A1"].font = Font(bold=True, size=12)
        columns = list(table.get("spalten", []))
        formats = list(table.get("formate") or [None] * len(columns))
        ws.append(columns)
        for cell in ws[2]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in table.get("zeilen", []):
            ws.append(list(row))
            excel_row = ws.max_row
            for i, value in enumerate(row):
                fmt = formats[i] if i < len(formats) else None
                cell = ws.cell(row=excel_row, column=i + 1)
                if isinstance(value, int | float) and not isinstance(value, bool) and fmt:
                    cell.number_format = _EXCEL_FORMATS.get(fmt, "General")
                elif isinstance(value, str) and value in ("•", "–"):
                    cell.alignment = Alignment(horizontal="right")
        for note in table.get("fussnoten", []) or []:
            ws.append([note])
        if table.get("quelle"):
            ws.append([f"Quelle: {table['quelle']}"])
        ws.freeze_panes = "A3"
        for i, name in enumerate(columns, start=1):
            width = max([len(str(name))] + [len(str(r[i - 1])) for r in table.get("zeilen", [])])
            ws.column_dimensions[get_column_letter(i)].width = min(max(10, width + 2), 60)
    for sheet in wb.worksheets:  # every cell, whatever wrote it
        for row in sheet.iter_rows():
            for cell in row:
                defuse_excel_cell(cell)
    # Fixed document dates: the same report gives the same workbook.
    fixed = datetime(2000, 1, 1)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    wb.save(target)


# --- The worker --------------------------------------------------------------------------


def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def produce(order: Order, execute: Callable[..., Any] | None = None) -> Outcome:
    """Execute the template for the order's parameters and write the report files."""
    import papermill

    started = time.perf_counter()
    out_dir = Path(order.out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return Outcome(
            "fehlgeschlagen",
            error=f"Berichtsordner nicht beschreibbar: {os_error_text(exc)}",
            seconds=time.perf_counter() - started,
            attempts=0,
        )
    final_nb = out_dir / f"{order.name}.ipynb"
    failed_nb = out_dir / f"{order.name}{FAILED_SUFFIX}"
    tmp_nb = _tmp(final_nb)
    run = execute or papermill.execute_notebook
    engine: dict[str, str] = {}
    if order.kept_kernel and execute is None:
        from analysis.reporting.engine import ENGINE_NAME, register

        register()
        engine["engine_name"] = ENGINE_NAME
    timings: dict[str, float] = {}
    attempts = 0

    def once() -> None:
        nonlocal attempts
        attempts += 1
        run(
            order.template,
            str(tmp_nb),
            parameters=order.parameters,
            kernel_name=KERNEL_NAME,
            progress_bar=False,
            execution_timeout=order.timeout_seconds,
            cwd=str(Path(order.template).parent),
            **engine,
        )

    try:
        execute_with_retries(once, order.kernel_retries)
    except Exception as exc:
        kept = _keep_failed(tmp_nb, failed_nb, exc)
        return Outcome(
            "fehlgeschlagen",
            error=error_text(exc),
            seconds=time.perf_counter() - started,
            attempts=attempts,
            files=[failed_nb.name] if kept else [],
        )
    timings["ausfuehren_s"] = time.perf_counter() - started

    pending: list[tuple[Path, Path]] = [(tmp_nb, final_nb)]
    try:
        nb = public_record(nbformat.read(tmp_nb, as_version=4))
        nbformat.write(nb, tmp_nb)
        t = time.perf_counter()
        html = render_html(nb, order.title)
        # Each temporary file is listed before it is written: one cut short by a full disk
        # is removed with the others.
        target = out_dir / f"{order.name}.html"
        pending.append((_tmp(target), target))
        _tmp(target).write_text(html, encoding="utf-8")
        timings["html_s"] = time.perf_counter() - t
        if "xlsx" in order.formats:
            t = time.perf_counter()
            target = out_dir / f"{order.name}.xlsx"
            pending.append((_tmp(target), target))
            write_excel(report_tables(nb), {"titel": order.title, **order.meta}, _tmp(target))
            timings["excel_s"] = time.perf_counter() - t
        if "pdf" in order.formats:
            t = time.perf_counter()
            target = out_dir / f"{order.name}.pdf"
            pending.append((_tmp(target), target))
            render_pdf(html, _tmp(target))
            timings["pdf_s"] = time.perf_counter() - t
    except Exception as exc:
        for tmp, _ in pending:
            tmp.unlink(missing_ok=True)
        return Outcome(
            "fehlgeschlagen",
            error=error_text(exc)
            if is_storage_error(exc)
            else f"Darstellung fehlgeschlagen: {error_text(exc)}",
            seconds=time.perf_counter() - started,
            attempts=attempts,
        )
    try:
        for tmp, target in pending:
            os.replace(tmp, target)
        failed_nb.unlink(missing_ok=True)
    except OSError as exc:
        for tmp, _ in pending:
            tmp.unlink(missing_ok=True)
        return Outcome(
            "fehlgeschlagen",
            error=f"Bericht nicht geschrieben: {os_error_text(exc)}",
            seconds=time.perf_counter() - started,
            attempts=attempts,
        )
    return Outcome(
        "erzeugt",
        seconds=time.perf_counter() - started,
        attempts=attempts,
        files=[target.name for _, target in pending],
        timings=timings,
    )


def _produce_file(order_path: Path, result_path: Path, kept_kernel: bool = False) -> None:
    raw = json.loads(order_path.read_text(encoding="utf-8"))
    raw["formats"] = tuple(raw.get("formats", ()))
    raw["kept_kernel"] = kept_kernel
    order = Order(**raw)
    try:
        outcome = produce(order)
    except Exception as exc:  # a bug in rendering: report it as this report's failure
        outcome = Outcome("fehlgeschlagen", error=error_text(exc), details=traceback.format_exc())
    result_path.write_text(json.dumps(asdict(outcome), ensure_ascii=False), encoding="utf-8")


def serve(orders: Any = None, answers: Any = None) -> int:
    """A long-lived worker: one order per line (``AUFTRAG.json ERGEBNIS.json``), one kept
    kernel for all of them; after each, :data:`DONE` on standard output. Ends at end of input."""
    from analysis.reporting.engine import shutdown_kept_kernel

    orders = orders or sys.stdin
    answers = answers or sys.stdout
    try:
        for line in orders:
            if not line.strip():
                continue
            order_path, result_path = line.rstrip("\n").split("\t")
            _produce_file(Path(order_path), Path(result_path), kept_kernel=True)
            answers.write(f"{DONE}\n")
            answers.flush()
    finally:
        shutdown_kept_kernel()
    return 0


def main(argv: list[str]) -> int:
    """Worker entry (started as ``python -m analysis.reporting.worker``, which keeps the
    start short): ``AUFTRAG.json ERGEBNIS.json`` for one report in a fresh kernel, or
    ``--dauerhaft`` for a long-lived worker fed by the batch (:func:`serve`)."""
    if argv == ["--dauerhaft"]:
        return serve()
    _produce_file(Path(argv[0]), Path(argv[1]))
    return 0


if __name__ == "__main__":  # the former entry still works, only with the longer start
    sys.exit(main(sys.argv[1:]))
