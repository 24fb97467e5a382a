"""Geschwindigkeitsmessung der Berichtsreihe (Ziele P2 und P2b aus Issue 11).

P2 – one sample of reports (every report of one year: all kinds, every site), measured in
the same run three ways, in three rounds (each a project run, then a third of the naive
loop and of the floor), so that a drift of the machine's speed reaches every side:

- ``fh-analytik berichte`` as configured (kept kernels, HTML, PDF and Excel);
- the naive loop a user would script: per report the ``papermill`` CLI, then
  ``jupyter nbconvert --to html --no-input`` (one after the other, HTML only);
- the start-up floor: per report the ``papermill`` CLI on a notebook that holds only the
  report's import cell (what every report of the naive loop pays before any work).

P2b – incremental: reports for the last three years are built with the last year's data
missing; then that year's data arrive. Counts which reports the next run rebuilds (only
the new year's and the multi-year ones may be), and times a run with nothing changed.

Writes its entries (``P2``, ``P2b``) into ``benchmarks/results.json``, beside those of the
other measurements.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from run import RESULTS, write_results  # noqa: E402  (one results file, one writer)

BIN = Path(sys.executable).parent
#: P2: the project per report at least this many times faster than the naive loop.
P2_GOAL = 7.5
#: P2: runs of the project, each followed by its share of the naive loop and of the floor.
P2_ROUNDS = 3
#: P2b: a run with nothing changed takes at most this many seconds.
P2B_GOAL_S = 2.0


def _run(cmd: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"Befehl fehlgeschlagen: {' '.join(cmd)}\n{done.stderr[-3000:]}")
    return time.perf_counter() - started


def _cli(*args: str) -> float:
    return _run([str(BIN / "fh-analytik"), *args])


def _statuses(out: Path) -> dict[str, str]:
    run = json.loads((out / "lauf.json").read_text(encoding="utf-8"))
    return {r["key"]: r["status"] for r in run["berichte"]}


def measure_p2(work: Path, processed: Path, year: int, rounds: int = P2_ROUNDS) -> dict:
    """P2 in ``rounds`` rounds: each round one ``berichte --neu`` run of the whole sample,
    then its share of the naive loop and of the floor. The machine's speed drifts over the
    minutes a measurement takes (other processes, a shared host); spread like this, every
    side sees the same drift. The project's figure is the median of its runs."""
    from analysis.reporting.batch import templates_dir

    env = {**os.environ, "FH_ANALYTIK_DATEN": str(processed)}
    naive = work / "p2-naiv"
    naive.mkdir()
    floor = work / "p2-boden"
    floor.mkdir()
    runs: list[float] = []
    plan: list[dict] = []
    naive_s = floor_s = 0.0
    for round_no in range(rounds):
        out = work / f"p2-projekt-{round_no}"
        args = ["--jahr", str(year), "--daten", str(processed), "--ziel", str(out)]
        runs.append(_cli("berichte", *args, "--ohne-fortschritt", "--neu"))
        if not plan:
            plan = json.loads((out / "lauf.json").read_text(encoding="utf-8"))["berichte"]
        for i, r in list(enumerate(plan))[round_no::rounds]:
            template = templates_dir() / f"{r['analyse']}.ipynb"
            target = naive / f"{i}.ipynb"
            params = ["-p", "standort", r["standort"], "-p", "jahr", str(r["jahr"] or "alle")]
            naive_s += _run(
                [str(BIN / "papermill"), str(template), str(target), *params, "--cwd",
                 str(templates_dir())],
                env,
            )  # fmt: skip
            naive_s += _run(
                [str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(target)],
                env,
            )
            # The floor: the same report's parameters and import cell, nothing else.
            nb = nbformat.read(template, as_version=4)
            code = [c for c in nb.cells if c.cell_type == "code"]
            nb.cells = code[:2]  # the parameters cell and the import cell
            imports = floor / f"nur-import-{i}.ipynb"
            nbformat.write(nb, imports)
            floor_s += _run(
                [str(BIN / "papermill"), str(imports), str(floor / f"{i}.out.ipynb"), *params,
                 "--cwd", str(templates_dir())],
                env,
            )  # fmt: skip
    reports = len(plan)
    batch_s = statistics.median(runs)
    per_report = batch_s / reports
    ratio = (naive_s / reports) / per_report
    return {
        "ziel": "P2",
        "beschreibung": f"Berichtsreihe: alle {reports} Berichte des Jahres {year}, je Bericht",
        "berichte": reports,
        "gemessen_s": round(per_report, 3),
        "naive_schleife_s": round(naive_s / reports, 3),
        "startboden_s": round(floor_s / reports, 3),
        "gesamt_s": round(batch_s, 2),
        "laeufe_s": [round(r, 2) for r in runs],
        "verhaeltnis": round(ratio, 2),
        "grenze": P2_GOAL,
        "erfuellt": ratio >= P2_GOAL,
        "hinweis": "verhaeltnis = naive Schleife / fh-analytik berichte (höher ist besser); "
        f"fh-analytik: Median aus {rounds} Läufen, jeder vor einem Drittel der naiven "
        "Schleife und des Bodens",
    }


def measure_p2b(work: Path, processed: Path, years: list[int]) -> dict:
    from analysis.data import bound_to_year

    data = work / "p2b-daten"
    shutil.copytree(processed, data)
    shutil.rmtree(data / "geheimhaltung", ignore_errors=True)
    for path in data.glob("*.parquet"):  # the last year's data are not there yet
        import pandas as pd

        bound_to_year(path.stem, pd.read_parquet(path), years[-2]).to_parquet(path, index=False)
    out = work / "p2b-berichte"
    select = [a for y in years[:-1] for a in ("--jahr", str(y))]
    common = ["--daten", str(data), "--ziel", str(out), "--ohne-fortschritt"]
    _cli("berichte", *select, *common)
    shutil.rmtree(data)
    shutil.copytree(processed, data)  # the new year arrives
    select = [a for y in years for a in ("--jahr", str(y))]
    _cli("berichte", *select, *common)
    statuses = _statuses(out)
    rebuilt = sorted(k for k, s in statuses.items() if s == "erzeugt")
    allowed = [k for k in statuses if k.startswith(f"{years[-1]}/") or "/alle-jahre/" in k
               or k.startswith("alle-jahre/")]  # fmt: skip
    unchanged_s = _cli("berichte", *select, *common)
    untouched = all(s == "unveraendert" for s in _statuses(out).values())
    return {
        "ziel": "P2b",
        "beschreibung": f"Neues Datenjahr {years[-1]}: neu erzeugt wird nur, was es betrifft",
        "berichte": len(statuses),
        "neu_erzeugt": len(rebuilt),
        "neu_erzeugt_erlaubt": len(allowed),
        "unnoetig_neu": sorted(set(rebuilt) - set(allowed)),
        "unveraendert_lauf_s": round(unchanged_s, 2),
        "grenze_s": P2B_GOAL_S,
        "erfuellt": set(rebuilt) <= set(allowed) and untouched and unchanged_s <= P2B_GOAL_S,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Geschwindigkeit der Berichtsreihe messen.")
    parser.add_argument("--jahr", type=int, default=2014, help="Jahr der Stichprobe für P2")
    parser.add_argument("--behalten", action="store_true", help="temporären Ordner behalten")
    args = parser.parse_args(argv)

    from analysis import formatting
    from analysis.data import load_dataset

    n = formatting.number
    work = Path(tempfile.mkdtemp(prefix="fh-bench-berichte-"))
    try:
        raw, processed = work / "roh", work / "daten"
        _cli("beispieldaten", "--ziel", str(raw))
        _cli("aufbereiten", "--rohdaten", str(raw), "--ziel", str(processed))
        # Decide every year's confidentiality pattern once, as `aufbereiten` + the first
        # run would; all three ways below then read the same patterns.
        _cli("berichte", "--daten", str(processed), "--ziel", str(work / "x"), "--probelauf")
        p2 = measure_p2(work, processed, args.jahr)
        years = list(load_dataset(processed).site_data_years[-3:])
        p2b = measure_p2b(work, processed, years)
    finally:
        if args.behalten:
            print(f"Ordner behalten: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    write_results({"P2": p2, "P2b": p2b})
    ok = {True: "erfüllt", False: "NICHT erfüllt"}
    print("fh-analytik berichte – Messung (Verhältnisse im selben Lauf)")
    print(
        f"  P2  je Bericht ({p2['berichte']} Berichte {args.jahr}, HTML + PDF + Excel): "
        f"{n(p2['gemessen_s'], 2)} s; naive Schleife (papermill + nbconvert, nur HTML) "
        f"{n(p2['naive_schleife_s'], 2)} s; Startboden (nur Import-Zelle) "
        f"{n(p2['startboden_s'], 2)} s"
    )
    print(
        f"      {n(p2['verhaeltnis'], 1)}-mal schneller als die naive Schleife "
        f"(Ziel ≥ {n(P2_GOAL, 1)}): {ok[p2['erfuellt']]}"
    )
    print(
        f"  P2b neues Jahr {years[-1]}: {p2b['neu_erzeugt']} von {p2b['berichte']} Berichten neu "
        f"erzeugt (erlaubt {p2b['neu_erzeugt_erlaubt']}, unnötig: "
        f"{', '.join(p2b['unnoetig_neu']) or 'keine'}); Lauf ohne Änderung "
        f"{n(p2b['unveraendert_lauf_s'], 2)} s (Ziel ≤ {n(P2B_GOAL_S, 0)} s): "
        f"{ok[p2b['erfuellt']]}"
    )
    print(f"  Ergebnisse: {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
