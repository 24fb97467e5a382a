"""The report batch behind ``fh-analytik berichte``: plan, skip what is unchanged, run, index.

Expands site × year × analysis (only years a site was open), fingerprints each report
(notebook, package version, configuration, the processed rows it reads), runs the changed
ones in parallel worker processes (``analysis.reporting.export``) with a time limit each, and
writes ``index.html`` and the run manifest ``lauf.json``. A failed report is listed with its
error; the batch goes on and ends with exit status 1.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from analysis import __version__
from analysis.checksums import sha256_file_or_none
from analysis.config import Config, project_root
from analysis.contract.safety import site_folder
from analysis.contract.schema import ALL_SITES, ALL_YEARS_FOLDER, GESAMT, TABLES
from analysis.errors import FhError, os_error_text
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
    jobs.sort(
        key=lambda j: (
            j.year if j.year is not None else 0,
            j.site != ALL_SITES,
            j.site,
            j.analysis.name,
        )
    )
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
    """Hashes of the processed rows a report reads, cached per table and site for one batch.

    Rows are hashed by content (not the Parquet bytes), so re-running ``aufbereiten`` on the
    same raw files changes nothing, and touching one site changes only that site's hash.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._frames: dict[str, pd.DataFrame | None] = {}
        self._hashes: dict[tuple[str, str], str] = {}

    def _frame(self, table: str) -> pd.DataFrame | None:
        if table not in self._frames:
            path = self.folder / f"{table}.parquet"
            self._frames[table] = pd.read_parquet(path) if path.is_file() else None
        return self._frames[table]

    def table_hash(self, table: str, site: str) -> str:
        key = (table, site)
        if key not in self._hashes:
            frame = self._frame(table)
            if frame is None:
                self._hashes[key] = "fehlt"
            else:
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
    """Changes exactly when the report's content could: notebook, version, config, its data."""
    parts: dict[str, Any] = {
        "notebook": sha256_file_or_none(template),
        "version": __version__,
        "konfiguration": config.sha256,
        "parameter": job.parameters,
        "daten": {t: hasher.table_hash(t, job.site) for t in job.analysis.tables}
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
    """One report in its own process group, killed as a whole when it overruns."""
    with tempfile.TemporaryDirectory(prefix="fh-bericht-") as tmp:
        order_path, result_path = Path(tmp) / "auftrag.json", Path(tmp) / "ergebnis.json"
        order_path.write_text(json.dumps(order, ensure_ascii=False), encoding="utf-8")
        cmd = [sys.executable, "-m", "analysis.reporting.export", str(order_path), str(result_path)]
        started = time.perf_counter()
        proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
        )
        try:
            _, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return {
                "status": "fehlgeschlagen",
                "error": f"Zeitlimit von {timeout} Sekunden überschritten; abgebrochen.",
                "seconds": time.perf_counter() - started,
            }
        if result_path.is_file():
            return json.loads(result_path.read_text(encoding="utf-8"))
        tail = stderr.decode("utf-8", "replace").strip().splitlines()[-5:]
        return {
            "status": "fehlgeschlagen",
            "error": f"Arbeitsprozess beendet mit Status {proc.returncode}: " + " | ".join(tail),
            "seconds": time.perf_counter() - started,
        }


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
    """Two batches on the same report folder would overwrite each other's state."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / LOCK_FILE
        self.fh: Any = None

    def __enter__(self) -> _BatchLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.fh = self.path.open("w")
        except OSError as exc:
            raise FhError(
                f"Berichtsordner {self.path.parent} ist nicht beschreibbar: {os_error_text(exc)}."
            ) from exc
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
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
        with _BatchLock(config.reports_dir):
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
) -> BatchResult:
    """Run the planned jobs whose fingerprint changed; write index and run manifest."""
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
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {
                pool.submit(_run_worker, order_for(job), config.timeout_seconds + 30, env): (
                    job,
                    res,
                )
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
        bar.close()
    seconds = time.perf_counter() - started
    batch = BatchResult(results, False, seconds, out_dir)
    _write_json(out_dir / STATE_FILE, state)
    manifest = run_manifest(batch, config, started_at, parameters or {})
    _write_json(out_dir / RUN_MANIFEST, manifest)
    _write_text(out_dir / INDEX, render_index(known, results, manifest, site_names))
    if any(not r.public for r in REPORTS.values() if r.name in {x.analyse for x in results}):
        (out_dir / INTERNAL_FOLDER).mkdir(exist_ok=True)
        _write_text(
            out_dir / INTERNAL_FOLDER / INDEX,
            render_index(known, results, manifest, site_names, internal=True),
        )
    _print_summary(batch)
    return batch


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


def _print_summary(batch: BatchResult) -> None:
    print(
        f"{len(batch.reports)} Berichte: {batch.count('erzeugt')} erzeugt, "
        f"{batch.count('unveraendert')} unverändert, {batch.count('fehlgeschlagen')} "
        f"fehlgeschlagen ({batch.seconds:.0f} s). Übersicht: {batch.out_dir / INDEX}"
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
) -> BatchResult:
    """``fh-analytik berichte``: plan from the data, then build what changed."""
    from analysis.data import load_dataset, site_years

    dataset = load_dataset(config.processed_dir)
    jobs = plan_jobs(
        site_years(dataset),
        catalogue or REPORTS,
        years=years,
        sites=[str(s) for s in sites] if sites else None,
        analyses=analyses,
    )
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
    )
