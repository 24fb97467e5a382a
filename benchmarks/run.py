"""Geschwindigkeitsmessung von `fh-analytik aufbereiten` auf großen Beispieldaten.

Writes the demo municipality at a large scale into a temporary folder, then times in child
processes (a) `aufbereiten` and (b) a baseline measured in the same run: plain
``pandas.read_csv`` of the same raw CSV files, nothing validated or written. Reports rows,
seconds, rows per second, the ratio to the baseline and each child's peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BASELINE = """
import sys
from pathlib import Path
import pandas as pd
rows = 0
for path in sorted(Path(sys.argv[1]).glob("*.csv")):
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            frame = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False,
                                encoding=encoding, on_bad_lines="skip", engine="c")
            break
        except UnicodeDecodeError:
            continue
    rows += len(frame)
print(rows)
"""


def _timed(cmd: list[str]) -> tuple[float, float, str]:
    """Run a child; return (seconds, peak memory in MiB of that child, stdout)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # wait4 gives the resource usage of exactly this child (not of all children so far).
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    out = proc.stdout.read() if proc.stdout else ""
    err = proc.stderr.read() if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"Befehl fehlgeschlagen ({proc.returncode}): {' '.join(cmd)}\n{err}")
    return seconds, usage.ru_maxrss / 1024, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Geschwindigkeit von aufbereiten messen.")
    parser.add_argument(
        "--skalierung", type=float, default=60.0, help="Skalierung der Beispieldaten (Standard: 60)"
    )
    parser.add_argument("--seed", type=int, default=2014)
    parser.add_argument(
        "--rohdaten", type=Path, help="vorhandene Rohdaten statt neu erzeugter verwenden"
    )
    parser.add_argument("--json", type=Path, help="Ergebnis zusätzlich als JSON hierhin schreiben")
    parser.add_argument("--behalten", action="store_true", help="temporären Ordner nicht löschen")
    args = parser.parse_args(argv)

    from analysis import formatting

    work = Path(tempfile.mkdtemp(prefix="fh-bench-"))
    try:
        raw = args.rohdaten
        demo_seconds = None
        if raw is None:
            raw = work / "raw"
            demo_seconds, _, _ = _timed(
                [
                    sys.executable,
                    "-m",
                    "analysis.cli",
                    "beispieldaten",
                    "--ziel",
                    str(raw),
                    "--seed",
                    str(args.seed),
                    "--skalierung",
                    str(args.skalierung),
                ]
            )
        base_s, base_mem, base_out = _timed([sys.executable, "-c", BASELINE, str(raw)])
        out = work / "processed"
        prep_s, prep_mem, _ = _timed(
            [
                sys.executable,
                "-m",
                "analysis.cli",
                "aufbereiten",
                "--rohdaten",
                str(raw),
                "--ziel",
                str(out),
            ]
        )
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        tables = manifest["tabellen"]
        rows = sum(t["gelesen"] for t in tables.values())
        contacts = tables["erstkontakte"]["gelesen"]
        csv_rows = int(base_out.strip() or 0)
        result = {
            "skalierung": args.skalierung if args.rohdaten is None else None,
            "beispieldaten_sekunden": demo_seconds,
            "zeilen_gesamt": rows,
            "erstkontakte": contacts,
            "aufbereiten_sekunden": prep_s,
            "aufbereiten_zeilen_je_sekunde": rows / prep_s,
            "aufbereiten_spitzenspeicher_mib": prep_mem,
            "basis_read_csv_zeilen": csv_rows,
            "basis_read_csv_sekunden": base_s,
            "basis_spitzenspeicher_mib": base_mem,
            "verhaeltnis_zur_basis": prep_s / base_s,
        }
        n = formatting.number
        print("fh-analytik aufbereiten – Messung")
        if demo_seconds is not None:
            print(
                f"  Beispieldaten (Skalierung {n(args.skalierung, 0)}) geschrieben in {n(demo_seconds, 1)} s"
            )
        print(f"  Zeilen gelesen:       {n(rows)} (davon Erstkontakte {n(contacts)})")
        print(
            f"  aufbereiten:          {n(prep_s, 2)} s, {n(rows / prep_s)} Zeilen/s, "
            f"Spitzenspeicher {n(prep_mem)} MiB"
        )
        print(
            f"  Basis pandas.read_csv: {n(base_s, 2)} s für {n(csv_rows)} CSV-Zeilen, "
            f"Spitzenspeicher {n(base_mem)} MiB"
        )
        print(f"  Verhältnis aufbereiten / Basis: {n(prep_s / base_s, 2)}")
        if args.json:
            args.json.write_text(
                json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
            )
    finally:
        if args.behalten:
            print(f"  Ordner behalten: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
