"""The report batch behind ``fh-analytik berichte``: plan, skip what is unchanged, run, index.

Expands site × year × analysis (only years a site was open), fingerprints each report
(notebook, package version, configuration, the processed rows it reads), runs the changed
ones in parallel worker processes (``analysis.reporting.worker``) with a time limit each, and
writes ``index.html`` and the run manifest ``lauf.json``. A failed report is listed with its
error; the batch goes on and ends with exit status 1.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import queue
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from analysis import __version__, memo
from analysis.checksums import package_source_sha256, sha256_file_or_none
from analysis.config import Config, project_root
from analysis.contract.safety import site_folder
from analysis.contract.schema import ALL_SITES, ALL_YEARS_FOLDER, GESAMT, TABLES
from analysis.data import bound_to_year
from analysis.errors import FhError, os_error_text
from analysis.reporting import DONE  # not from export: the batch must not import nbformat
from analysis.reporting.catalogue import REPORTS, Report
from analysis.reporting.index import INTERNAL_FOLDER, RUN_MANIFEST, render_index, site_names_of

TIMEZONE = ZoneInfo("Europe/Berlin")
STATE_FILE = ".berichtsstand.json"
INDEX = "index.html"
LOCK_FILE = ".berichte.lock"


def templates_dir() -> Path:
    return project_root() / "notebooks" / "berichte"


@dataclass(frozen=True)
class Job:
    analysis: Report
    site: str
    year: int | None

    @property
    def folder(self) -> str:
        # The site id is a path part: checked, so that no id can lead out of the folder.
        year = self.year if self.year is not None else ALL_YEARS_FOLDER
        folder = f"{year}/{site_folder(self.site)}"
        # Internal reports live apart, so the public folder can be served without them.
        return folder if self.analysis.public else f"{INTERNAL_FOLDER}/{folder}"

    @property
    def key(self) -> str:
        return f"{self.folder}/{self.analysis.name}"

    @property
    def parameters(self) -> dict[str, str]:
        # Strings on purpose: a site code 007 must reach the notebook as "007".
        return {"standort": self.site, "jahr": "alle" if self.year is None else str(self.year)}

    @property
    def title(self) -> str:
        year = "alle Jahre" if self.year is None else str(self.year)
        site = "alle Standorte" if self.site == ALL_SITES else self.site
        return f"{self.analysis.title} – {site} – {year}"


# --- planning ----------------------------------------------------------------------------


def plan_jobs(
    site_years: Iterable[tuple[str, int]],
    catalogue: Mapping[str, Report],
    *,
    years: Sequence[int] | None = None,
    sites: Sequence[str] | None = None,
    analyses: Sequence[str] | None = None,
) -> list[Job]:
    """Every report the selection asks for, in a stable order.

    Site reports exist for the years a site was open, ``alle`` and the cross-site reports
    for every year any site was open. Unknown names are a German error naming what exists.
    """
    pairs = sorted(set(site_years))
    known_sites = sorted({s for s, _ in pairs})
    for site in known_sites:  # before anything runs: a clear message instead of a path
        site_folder(site)
    known_years = sorted({y for _, y in pairs})
    if analyses:
        unknown = [a for a in analyses if a not in catalogue]
        if unknown:
            raise FhError(
                f"Unbekannte Analyse „{unknown[0]}“. Möglich sind: {', '.join(catalogue)}."
            )
    if sites:
        unknown = [s for s in sites if s != ALL_SITES and s not in known_sites]
        if unknown:
            raise FhError(
                f"Unbekannter Standort „{unknown[0]}“. Bekannte Standorte: "
                f"{', '.join(known_sites) or '(keine)'} (oder {ALL_SITES})."
            )
    if years:
        unknown_years = [y for y in years if y not in known_years]
        if unknown_years:
            span = f"{known_years[0]}–{known_years[-1]}" if known_years else "keine"
            raise FhError(
                f"Für das Jahr {unknown_years[0]} war kein Standort geöffnet bzw. liegen keine "
                f"Daten vor (mögliche Jahre: {span})."
            )
    want_site = (lambda s: True) if not sites else (lambda s: s in sites)
    want_year = (lambda y: True) if not years else (lambda y: y in years)
    chosen = [catalogue[a] for a in (analyses or catalogue)]
    jobs: list[Job] = []
    for analysis in chosen:
        if analysis.scope == "einmalig":
            if want_site(ALL_SITES) and known_years:
                jobs.append(Job(analysis, ALL_SITES, None))
            continue
        for year in known_years:
            if not want_year(year):
                continue
            if want_site(ALL_SITES):
                jobs.append(Job(analysis, ALL_SITES, year))
            if analysis.scope == "standort":
                jobs.extend(
                    Job(analysis, site, year) for site, y in pairs if y == year and want_site(site)
                )
    jobs.sort(key=lambda j: (j.year or 0, j.site != ALL_SITES, j.site, j.analysis.name))
    if not jobs:
        raise FhError(
            "Die Auswahl ergibt keinen Bericht (Standort in diesem Jahr nicht geöffnet?)."
        )
    return jobs


# --- fingerprints ------------------------------------------------------------------------


def _site_column(table: str, frame: pd.DataFrame) -> str | None:
    spec = TABLES.get(table)
    for name in (
        spec.site_column if spec else None,
        spec.area_column if spec else None,
        "standort_id",
    ):
        if name and name in frame.columns:
            return name
    return None


def _area_column(table: str) -> str | None:
    spec = TABLES.get(table)
    return spec.area_column if spec else None


class DataHasher:
    """Hashes of the processed rows a report reads, cached per table, site and year.

    Rows are hashed by content (not the Parquet bytes), so re-running ``aufbereiten`` on the
    same raw files changes nothing, and touching one site changes only that site's hash. A
    report of year J reads the data as they stood at the end of J
    (:func:`analysis.data.bound_to_year`, the same slice ``open_report`` gives it): data of
    later years do not change its hash.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._frames: dict[str, pd.DataFrame | None] = {}
        self._hashes: dict[tuple[str, str, int | None], str] = {}
        self._cut: dict[tuple[str, int], pd.DataFrame] = {}

    def _frame(self, table: str) -> pd.DataFrame | None:
        if table not in self._frames:
            path = self.folder / f"{table}.parquet"
            self._frames[table] = pd.read_parquet(path) if path.is_file() else None
        return self._frames[table]

    def _bounded(self, table: str, frame: pd.DataFrame, year: int) -> pd.DataFrame:
        """The table up to ``year``, cut once for all sites of that year. The plan runs year
        by year, so only the current year's cuts are kept (each is nearly a whole table)."""
        key = (table, year)
        if key not in self._cut:
            self._cut = {k: v for k, v in self._cut.items() if k[1] == year}
            self._cut[key] = bound_to_year(table, frame, year)
        return self._cut[key]

    def table_hash(self, table: str, site: str, year: int | None = None) -> str:
        key = (table, site, year)
        if key not in self._hashes:
            frame = self._frame(table)
            if frame is None:
                self._hashes[key] = "fehlt"
            else:
                if year is not None:
                    frame = self._bounded(table, frame, year)
                column = _site_column(table, frame)
                if site != ALL_SITES and column is not None:
                    # An area table's city-wide rows (``gesamt``) serve every site too (the
                    # network partners of the qualitaet report): they count for each site.
                    wanted = [site, GESAMT] if column == _area_column(table) else [site]
                    frame = frame.loc[frame[column].isin(wanted).fillna(False).astype(bool)]
                digest = hashlib.sha256()
                digest.update(
                    json.dumps([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode()
                )
                digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
                self._hashes[key] = digest.hexdigest()
        return self._hashes[key]

    def manifest_hash(self) -> str:
        """The manifest without its creation time, plus the rejects files."""
        path = self.folder / "manifest.json"
        if not path.is_file():
            return "fehlt"
        manifest = json.loads(path.read_text(encoding="utf-8"))
        manifest.pop("erstellt", None)
        digest = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode())
        rejects = self.folder / "abgelehnt"
        if rejects.is_dir():
            for f in sorted(rejects.glob("*.csv")):
                digest.update(f.name.encode())
                digest.update((sha256_file_or_none(f) or "").encode())
        return digest.hexdigest()


def fingerprint(
    job: Job,
    template: Path,
    config: Config,
    hasher: DataHasher,
    protection: Mapping[int, Mapping[str, str]] | None = None,
) -> str:
    """Changes exactly when the report's content could: notebook, program code (not only its
    version number), configuration, and the data it reads – up to its year, not beyond."""
    parts: dict[str, Any] = {
        "notebook": sha256_file_or_none(template),
        "version": __version__,
        "programm": package_source_sha256(),
        "konfiguration": config.sha256,
        "parameter": job.parameters,
        "daten": {t: hasher.table_hash(t, job.site, job.year) for t in job.analysis.tables}
        if job.analysis.rows
        else {},
    }
    if job.analysis.manifest:
        parts["manifest"] = hasher.manifest_hash()
    if protection and job.year is not None:
        # Which cells are hidden depends on every site of the year (and a trend shows the
        # years before): a change at another site can change what this report may show.
        parts["geheimhaltung"] = {
            y: d.get(job.site if job.analysis.scope == "standort" else ALL_SITES)
            for y, d in protection.items()
            if y <= job.year
        }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


# --- running -----------------------------------------------------------------------------


@dataclass
class ReportResult:
    key: str
    analyse: str
    standort: str
    jahr: int | None
    titel: str
    status: str  # erzeugt | unveraendert | fehlgeschlagen | geplant
    fingerabdruck: str
    fehler: str | None = None
    dauer_s: float = 0.0
    dateien: list[str] = field(default_factory=list)
    erzeugt: str | None = None  # time of the report version that is on disk
    versuche: int = 0
    zeiten: dict[str, float] = field(default_factory=dict)


@dataclass
class BatchResult:
    reports: list[ReportResult]
    dry_run: bool
    seconds: float
    out_dir: Path

    def count(self, status: str) -> int:
        return sum(1 for r in self.reports if r.status == status)

    @property
    def exit_code(self) -> int:
        return 1 if self.count("fehlgeschlagen") else 0


def _now() -> str:
    return datetime.now(TIMEZONE).isoformat(timespec="seconds")


def _run_worker(order: dict[str, Any], timeout: int, env: dict[str, str]) -> dict[str, Any]:
    """One report in a new worker process, killed with its process group when it overruns.

    The kernel Papermill starts runs in a session of its own: it is not in that group and
    ends by itself (ipykernel's parent poller) once the worker is gone. The kept workers
    (:class:`KeptWorker`) learn their kernel's pid and kill it at once.
    """
    with tempfile.TemporaryDirectory(prefix="fh-bericht-") as tmp:
        order_path, result_path = Path(tmp) / "auftrag.json", Path(tmp) / "ergebnis.json"
        order_path.write_text(json.dumps(order, ensure_ascii=False), encoding="utf-8")
        cmd = [sys.executable, "-m", "analysis.reporting.worker", str(order_path), str(result_path)]
        started = time.perf_counter()
        proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
        )
        try:
            _, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return _timed_out(timeout, started)
        if result_path.is_file():
            return json.loads(result_path.read_text(encoding="utf-8"))
        _log_tail(order, stderr.decode("utf-8", "replace"))
        return _crashed(proc.returncode, started)


def _log_tail(order: dict[str, Any], text: str) -> None:
    """The last lines a crashed worker wrote: to the operator's log, never to the index."""
    tail = "\n".join(text.strip().splitlines()[-20:])
    if tail:
        print(f"Arbeitsprozess für {order.get('title', '?')} beendet:\n{tail}", file=sys.stderr)


def _timed_out(timeout: int, started: float) -> dict[str, Any]:
    return {
        "status": "fehlgeschlagen",
        "error": f"Zeitlimit von {timeout} Sekunden überschritten; abgebrochen.",
        "seconds": time.perf_counter() - started,
    }


def _crashed(returncode: int | None, started: float) -> dict[str, Any]:
    # Only the exit status reaches the index: the worker's last output may name server paths.
    return {
        "status": "fehlgeschlagen",
        "error": f"Arbeitsprozess unerwartet beendet (Status {returncode}); Einzelheiten im "
        "Protokoll des Laufs.",
        "seconds": time.perf_counter() - started,
    }


class KeptWorker:
    """A long-lived worker process (``export --dauerhaft``) with one kept kernel.

    Starting a process and a kernel per report costs more than most reports' work; this
    worker pays it once for many reports. A report that overruns its time limit takes the
    worker and its kernel down with it (both process groups are killed); the next report
    gets a new worker.
    """

    def __init__(self, env: dict[str, str]) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="fh-arbeiter-")
        self.pid_file = Path(self.tmp.name) / "kernel.pid"
        self.log = Path(self.tmp.name) / "protokoll.txt"
        env = {**env, "FH_ANALYTIK_KERNEL_PID_DATEI": str(self.pid_file)}
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "analysis.reporting.worker", "--dauerhaft"],
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,  # read only when the worker fails
                start_new_session=True,
                text=True,
                bufsize=1,
            )
        self.count = 0

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def run(self, order: dict[str, Any], timeout: int) -> dict[str, Any]:
        self.count += 1
        folder = Path(self.tmp.name)
        order_path = folder / f"auftrag-{self.count}.json"
        result_path = folder / f"ergebnis-{self.count}.json"
        order_path.write_text(json.dumps(order, ensure_ascii=False), encoding="utf-8")
        started = time.perf_counter()
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(f"{order_path}\t{result_path}\n")
            self.proc.stdin.flush()
        except OSError:
            self.kill(order)
            return _crashed(self.proc.poll(), started)
        deadline = started + timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]:
                self.kill(order)
                return _timed_out(timeout, started)
            line = self.proc.stdout.readline()
            if not line:  # the worker died
                self.kill(order)
                return _crashed(self.proc.poll(), started)
            if line.strip() == DONE:
                break
        outcome = json.loads(result_path.read_text(encoding="utf-8"))
        order_path.unlink(missing_ok=True)
        result_path.unlink(missing_ok=True)
        return outcome

    def kill(self, order: dict[str, Any] | None = None) -> None:
        """Stop worker and kernel at once (the kernel runs in a session of its own)."""
        pids = [self.proc.pid]
        with contextlib.suppress(OSError, ValueError):
            pids.append(int(self.pid_file.read_text(encoding="utf-8")))
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        self.proc.wait()
        if order is not None:
            _log_tail(order, self.log.read_text(encoding="utf-8", errors="replace"))
        self.tmp.cleanup()

    def close(self) -> None:
        """End of the batch: the worker shuts its kernel down and exits."""
        if self.alive:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                pass
        if self.alive:
            self.kill()
        else:
            self.tmp.cleanup()


class WorkerPool:
    """``size`` kept workers, handed to one report at a time (thread-safe)."""

    def __init__(self, size: int, env: dict[str, str]) -> None:
        self.env = env
        self.idle: queue.SimpleQueue[KeptWorker | None] = queue.SimpleQueue()
        for _ in range(size):
            self.idle.put(None)  # started on first use
        self.all: list[KeptWorker] = []
        self.lock = threading.Lock()

    def run(self, order: dict[str, Any], timeout: int) -> dict[str, Any]:
        worker = self.idle.get()
        try:
            if worker is None or not worker.alive:
                worker = KeptWorker(self.env)
                with self.lock:
                    self.all.append(worker)
            return worker.run(order, timeout)
        finally:
            self.idle.put(worker if worker is not None and worker.alive else None)

    def close(self) -> None:
        with self.lock:
            for worker in self.all:
                worker.close()


def _load_state(out_dir: Path) -> dict[str, Any]:
    path = out_dir / STATE_FILE
    if path.is_file():
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            pass
    return {"berichte": {}}


def _write_json(path: Path, value: Any) -> None:
    _write_text(path, json.dumps(value, ensure_ascii=False, indent=2))


def _write_text(path: Path, text: str) -> None:
    """Replace ``path`` in one step; a full disk leaves the old file and no temporary one."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise FhError(
            f"Berichtsstand nicht geschrieben: {os_error_text(exc)}. Erzeugte Berichte liegen "
            "vor; der nächste Lauf schreibt Übersicht und Stand neu."
        ) from exc


def _remove_leftovers(out_dir: Path) -> None:
    """Temporary files a killed run left (``.<name>.tmp`` of the batch, ``.<name>.<pid>.tmp``
    of its workers); called under the lock, so none of them belongs to a live run."""
    for path in out_dir.rglob(".*.tmp"):
        if path.is_file():
            path.unlink(missing_ok=True)


class _BatchLock:
    """Two batches on the same report folder would overwrite each other's state.

    Parts of one sharded run (``--teil K/N``) write disjoint reports and state files of their
    own: they share the lock (``shared``), and exclude a whole run or a merge, and vice versa.
    """

    def __init__(self, out_dir: Path, shared: bool = False) -> None:
        self.path = out_dir / LOCK_FILE
        self.fh: Any = None
        self.mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX

    def __enter__(self) -> _BatchLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.fh = self.path.open("w")
        except OSError as exc:
            raise FhError(
                f"Berichtsordner {self.path.parent} ist nicht beschreibbar: {os_error_text(exc)}."
            ) from exc
        try:
            fcntl.flock(self.fh, self.mode | fcntl.LOCK_NB)
        except BlockingIOError:
            self.fh.close()
            raise FhError(
                f"Ein anderer Berichtslauf schreibt gerade nach {self.path.parent}; "
                "bitte warten, bis er fertig ist.",
                exit_code=3,
            ) from None
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()


def _under_lock(build: Callable[..., BatchResult]) -> Callable[..., BatchResult]:
    """Run a batch under the lock of its report folder, taken before it reads any state.

    A run that read ``.berichtsstand.json`` before waiting for the lock would later write
    back its stale copy and drop the reports the other run made. A dry run writes nothing
    and takes no lock.
    """

    @functools.wraps(build)
    def locked(config: Config, *args: Any, **kwargs: Any) -> BatchResult:
        if kwargs.get("dry_run"):
            return build(config, *args, **kwargs)
        shard = kwargs.get("shard")
        with _BatchLock(config.reports_dir, shared=shard is not None):
            if shard is None:  # a part must not remove what a running part writes
                _remove_leftovers(config.reports_dir)
            return build(config, *args, **kwargs)

    return locked


@_under_lock
def build_reports(
    config: Config,
    jobs: Sequence[Job],
    *,
    templates: Path,
    parallel: int | None = None,
    force: bool = False,
    dry_run: bool = False,
    progress: bool = True,
    formats: Sequence[str] = ("html", "pdf", "xlsx"),
    parameters: Mapping[str, Any] | None = None,
    site_names: Mapping[str, str] | None = None,
    protection: Mapping[int, Mapping[str, str]] | None = None,
    refused: Mapping[int, str] | None = None,
    shard: Shard | None = None,
) -> BatchResult:
    """Run the planned jobs whose fingerprint changed; write index and run manifest.

    A part of a sharded run (``shard``) writes its state and run record under
    ``.teile/`` instead, and no index: :func:`merge_shards` joins the parts."""
    started_at, started = _now(), time.perf_counter()
    out_dir = config.reports_dir
    processed = config.processed_dir
    hasher = DataHasher(processed)
    state = _load_state(out_dir)
    known: dict[str, Any] = state.setdefault("berichte", {})

    results: list[ReportResult] = []
    todo: list[tuple[Job, ReportResult]] = []
    for job in jobs:
        template = templates / job.analysis.notebook
        if not template.is_file():
            raise FhError(f"Berichtsvorlage {template} fehlt.")
        fp = fingerprint(job, template, config, hasher, protection)
        previous = known.get(job.key) or {}
        result = ReportResult(
            job.key,
            job.analysis.name,
            job.site,
            job.year,
            job.title,
            "geplant",
            fp,
            dateien=list(previous.get("dateien", [])),
            erzeugt=previous.get("erzeugt"),
        )
        html_file = out_dir / job.folder / f"{job.analysis.name}.html"
        if job.year is not None and job.year in (refused or {}):
            # The year's publication failed its confidentiality audit: publish nothing new.
            result.status = "fehlgeschlagen"
            result.fehler = (refused or {})[job.year]
        elif not force and previous.get("fingerabdruck") == fp and html_file.is_file():
            result.status = "unveraendert"
        else:
            todo.append((job, result))
        results.append(result)

    if dry_run:
        _print_plan(results)
        return BatchResult(results, True, time.perf_counter() - started, out_dir)

    workers = max(1, parallel or config.parallel)
    env = dict(os.environ)
    env.update(
        {
            "FH_ANALYTIK_DATEN": str(processed),
            "PYTHONHASHSEED": "0",
            "SOURCE_DATE_EPOCH": "946684800",  # matplotlib: no creation date in images
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        }
    )
    if config.source is not None:
        env["FH_ANALYTIK_KONFIG"] = str(config.source)

    def order_for(job: Job) -> dict[str, Any]:
        return {
            "template": str(templates / job.analysis.notebook),
            "out_dir": str(out_dir / job.folder),
            "name": job.analysis.name,
            # The data folder reaches the kernel through FH_ANALYTIK_DATEN (env above), not
            # as a parameter: the executed notebook kept beside the report names no server path.
            "parameters": dict(job.parameters),
            "title": job.title,
            "timeout_seconds": config.timeout_seconds,
            "kernel_retries": config.kernel_retries,
            "formats": list(formats),
            "meta": {
                "Bericht": job.analysis.title,
                "Standort": job.site,
                "Jahr": "alle" if job.year is None else str(job.year),
                "Kommune": config.municipality,
                "Programmversion": __version__,
                "Daten (Manifest-SHA-256)": sha256_file_or_none(processed / "manifest.json") or "–",
                "Konfiguration (SHA-256)": config.sha256,
            },
        }

    if todo:
        from tqdm import tqdm

        bar = tqdm(total=len(todo), desc="Berichte", unit="Bericht", disable=not progress)
        # Results several reports of the run share (analysis.memo), for this run only.
        shared_results = tempfile.TemporaryDirectory(prefix="fh-zwischen-")
        env[memo.ENV] = shared_results.name
        kept = WorkerPool(min(workers, len(todo)), env) if config.keep_kernel else None
        run_one = kept.run if kept is not None else functools.partial(_run_worker, env=env)
        try:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures = {
                    pool.submit(run_one, order_for(job), config.timeout_seconds + 30): (job, res)
                    for job, res in todo
                }
                for future in as_completed(futures):
                    job, res = futures[future]
                    outcome = future.result()
                    res.status = outcome["status"]
                    res.fehler = outcome.get("error")
                    if outcome.get("details"):  # unexpected: for the operator's log only
                        print(f"FEHLER {job.key}:\n{outcome['details']}", file=sys.stderr)
                    res.dauer_s = round(float(outcome.get("seconds", 0.0)), 2)
                    res.versuche = int(outcome.get("attempts", 0))
                    res.zeiten = {k: round(v, 3) for k, v in (outcome.get("timings") or {}).items()}
                    if res.status == "erzeugt":
                        res.erzeugt = _now()
                        res.dateien = [f"{job.folder}/{f}" for f in outcome.get("files", [])]
                        known[job.key] = {
                            "analyse": res.analyse,
                            "standort": res.standort,
                            "jahr": res.jahr,
                            "titel": res.titel,
                            "fingerabdruck": res.fingerabdruck,
                            "erzeugt": res.erzeugt,
                            "dateien": res.dateien,
                        }
                    bar.set_postfix_str(job.key)
                    bar.update()
        finally:
            if kept is not None:
                kept.close()
            shared_results.cleanup()
        bar.close()
    seconds = time.perf_counter() - started
    batch = BatchResult(results, False, seconds, out_dir)
    manifest = run_manifest(batch, config, started_at, parameters or {})
    if shard is not None:
        folder = out_dir / SHARD_FOLDER
        folder.mkdir(exist_ok=True)
        own = {r.key: known[r.key] for r in results if r.key in known}
        _write_json(folder / f"stand-{shard.name}.json", {"berichte": own})
        _write_json(folder / f"lauf-{shard.name}.json", {**manifest, "teil": shard.text})
        _print_summary(batch, shard)
        return batch
    _write_json(out_dir / STATE_FILE, state)
    _write_json(out_dir / RUN_MANIFEST, manifest)
    _write_indexes(out_dir, known, results, manifest, site_names)
    _print_summary(batch)
    return batch


def _write_indexes(
    out_dir: Path,
    known: Mapping[str, Any],
    results: Sequence[ReportResult],
    manifest: Mapping[str, Any],
    site_names: Mapping[str, str] | None,
) -> None:
    _write_text(out_dir / INDEX, render_index(known, results, manifest, site_names))
    if any(not r.public for r in REPORTS.values() if r.name in {x.analyse for x in results}):
        (out_dir / INTERNAL_FOLDER).mkdir(exist_ok=True)
        _write_text(
            out_dir / INTERNAL_FOLDER / INDEX,
            render_index(known, results, manifest, site_names, internal=True),
        )


# --- sharding ----------------------------------------------------------------------------

#: Where the parts of a sharded run leave their state and run records until the merge.
SHARD_FOLDER = ".teile"


@dataclass(frozen=True)
class Shard:
    """Part ``index`` of ``count`` (``--teil K/N``, both from 1)."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        try:
            k, n = (int(x) for x in str(text).strip().split("/"))
        except ValueError:
            raise FhError(
                f"Ungültige Angabe --teil „{text}“: erwartet wird K/N, z. B. 3/8 (Teil 3 von 8)."
            ) from None
        if not 1 <= k <= n:
            raise FhError(f"Ungültige Angabe --teil „{text}“: K muss zwischen 1 und N liegen.")
        return cls(k, n)

    @property
    def text(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def name(self) -> str:
        return f"{self.index}-von-{self.count}"

    def select(self, jobs: Sequence[Job]) -> list[Job]:
        """Every N-th report of the plan, starting at the K-th: deterministic (the plan
        is), and each part gets a mix of report kinds, years and sites."""
        return list(jobs[self.index - 1 :: self.count])


def merge_shards(config: Config, site_names: Mapping[str, str] | None = None) -> BatchResult:
    """``fh-analytik berichte --zusammenfuehren``: join the parts of a sharded run.

    Needs the records of all N parts; writes state, run record and index as one run would
    and removes the parts' records. Refuses (German message) when a part is missing.
    """
    out_dir = config.reports_dir
    with _BatchLock(out_dir):
        folder = out_dir / SHARD_FOLDER
        runs = sorted(folder.glob("lauf-*-von-*.json")) if folder.is_dir() else []
        if not runs:
            raise FhError(
                f"In {out_dir} liegen keine Teilläufe zum Zusammenführen "
                "(fh-analytik berichte --teil K/N)."
            )
        parts = [json.loads(p.read_text(encoding="utf-8")) for p in runs]
        counts = {Shard.parse(p["teil"]).count for p in parts}
        if len(counts) != 1:
            raise FhError(
                "Die Teilläufe gehören zu verschiedenen Aufteilungen "
                f"({', '.join(sorted(p['teil'] for p in parts))}); bitte einheitlich neu starten."
            )
        count = counts.pop()
        present = {Shard.parse(p["teil"]).index for p in parts}
        missing = [str(k) for k in range(1, count + 1) if k not in present]
        if missing:
            raise FhError(
                f"Es fehlen Teilläufe: {', '.join(f'{k}/{count}' for k in missing)}. "
                "Erst zusammenführen, wenn alle Teile fertig sind."
            )
        state = _load_state(out_dir)
        known: dict[str, Any] = state.setdefault("berichte", {})
        for path in sorted(folder.glob("stand-*-von-*.json")):
            known.update(json.loads(path.read_text(encoding="utf-8")).get("berichte", {}))
        results = sorted((ReportResult(**r) for p in parts for r in p["berichte"]), key=_plan_order)
        started_at = min(p["gestartet"] for p in parts)
        seconds = (
            datetime.fromisoformat(max(p["beendet"] for p in parts))
            - datetime.fromisoformat(started_at)
        ).total_seconds()
        batch = BatchResult(results, False, seconds, out_dir)
        parameters = {**parts[0]["parameter"], "teile": count}
        manifest = run_manifest(batch, config, started_at, parameters)
        _write_json(out_dir / STATE_FILE, state)
        _write_json(out_dir / RUN_MANIFEST, manifest)
        _write_indexes(out_dir, known, results, manifest, site_names)
        for path in folder.iterdir():
            path.unlink(missing_ok=True)
        folder.rmdir()
        _remove_leftovers(out_dir)
    _print_summary(batch)
    return batch


def _plan_order(r: ReportResult) -> tuple[Any, ...]:
    """The order of :func:`plan_jobs` (year, ``alle`` first, site, report)."""
    return (r.jahr if r.jahr is not None else 0, r.standort != ALL_SITES, r.standort, r.analyse)


def run_manifest(
    batch: BatchResult, config: Config, started_at: str, parameters: Mapping[str, Any]
) -> dict[str, Any]:
    """The machine-readable record of one run, for monitors and evaluation partners."""
    processed = config.processed_dir
    data_manifest: dict[str, Any] = {}
    if (processed / "manifest.json").is_file():
        data_manifest = json.loads((processed / "manifest.json").read_text(encoding="utf-8"))
    return {
        "programm": "fh-analytik berichte",
        "version": __version__,
        "gestartet": started_at,
        "beendet": _now(),
        "dauer_s": round(batch.seconds, 2),
        "exit_code": batch.exit_code,
        "parameter": dict(parameters),
        "konfiguration_sha256": config.sha256,
        "konfiguration": config.as_dict(),
        "daten": {
            "ordner": str(processed),
            "manifest_sha256": sha256_file_or_none(processed / "manifest.json"),
            "erstellt": data_manifest.get("erstellt"),
        },
        "anzahl": {
            "geplant": len(batch.reports),
            "erzeugt": batch.count("erzeugt"),
            "unveraendert": batch.count("unveraendert"),
            "fehlgeschlagen": batch.count("fehlgeschlagen"),
        },
        "berichte": [asdict(r) for r in batch.reports],
    }


# --- output for people -------------------------------------------------------------------


def _print_plan(results: Sequence[ReportResult]) -> None:
    run = [r for r in results if r.status == "geplant"]
    print(
        f"Probelauf: {len(results)} Berichte ausgewählt, {len(run)} würden erzeugt, "
        f"{len(results) - len(run)} sind unverändert."
    )
    for r in results:
        mark = "erzeugen " if r.status == "geplant" else "unverändert"
        print(f"  {mark}  {r.key}")


def _print_summary(batch: BatchResult, shard: Shard | None = None) -> None:
    where = (
        f"Teil {shard.text}; zusammenführen mit: fh-analytik berichte --zusammenfuehren"
        if shard is not None
        else f"Übersicht: {batch.out_dir / INDEX}"
    )
    print(
        f"{len(batch.reports)} Berichte: {batch.count('erzeugt')} erzeugt, "
        f"{batch.count('unveraendert')} unverändert, {batch.count('fehlgeschlagen')} "
        f"fehlgeschlagen ({batch.seconds:.0f} s). {where}"
    )
    for r in batch.reports:
        if r.status == "fehlgeschlagen":
            print(f"  FEHLER {r.key}: {r.fehler}", file=sys.stderr)


# --- entry point -------------------------------------------------------------------------


def protect_years(
    dataset: Any, config: Config, years: Iterable[int | None]
) -> tuple[dict[int, dict[str, str]], dict[int, str]]:
    """Decide and audit each year's publication once, before any report runs.

    Covers every year with data up to the last planned one (a report's trend shows the
    years before it). Returns per year a digest of the hidden cells of each site and of all
    of them (under ``alle``), for the fingerprints, and for a year whose audit fails the
    German message that refuses its reports.
    """
    from analysis.protection.publication import protected_year

    planned = [y for y in years if y is not None]
    if not planned:
        return {}, {}
    digests: dict[int, dict[str, str]] = {}
    refused: dict[int, str] = {}
    for year in [y for y in dataset.years if y <= max(planned)]:
        try:
            protected = protected_year(dataset, year, config)
        except FhError as exc:
            refused[year] = str(exc)
            continue
        by_site: dict[str, list[str]] = {}
        for cell in protected.hidden:
            text = json.dumps(list(cell), ensure_ascii=False)
            by_site.setdefault(str(cell[0]), []).append(text)
            if cell[0] != ALL_SITES:
                by_site.setdefault(ALL_SITES, []).append(text)
        digests[year] = {
            site: hashlib.sha256("\n".join(sorted(cells)).encode()).hexdigest()
            for site, cells in by_site.items()
        }
    return digests, refused


def run_batch(
    config: Config,
    *,
    years: Sequence[int] | None = None,
    sites: Sequence[str] | None = None,
    analyses: Sequence[str] | None = None,
    parallel: int | None = None,
    force: bool = False,
    dry_run: bool = False,
    progress: bool = True,
    templates: Path | None = None,
    catalogue: Mapping[str, Report] | None = None,
    shard: Shard | None = None,
) -> BatchResult:
    """``fh-analytik berichte``: plan from the data, then build what changed (with
    ``shard``, only that part of the plan)."""
    from analysis.data import load_dataset, site_years

    dataset = load_dataset(config.processed_dir)
    jobs = plan_jobs(
        site_years(dataset),
        catalogue or REPORTS,
        years=years,
        sites=[str(s) for s in sites] if sites else None,
        analyses=analyses,
    )
    if shard is not None:
        jobs = shard.select(jobs)
    protection, refused = protect_years(dataset, config, [j.year for j in jobs])
    return build_reports(
        config,
        jobs,
        templates=templates or templates_dir(),
        parallel=parallel,
        force=force,
        dry_run=dry_run,
        progress=progress,
        parameters={
            "jahre": list(years or []),
            "standorte": list(sites or []),
            "analysen": list(analyses or []),
            "parallel": max(1, parallel or config.parallel),
            "neu": force,
        },
        site_names=site_names_of(dataset),
        protection=protection,
        refused=refused,
        shard=shard,
    )
