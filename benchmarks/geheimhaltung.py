"""Geschwindigkeitsmessung der Geheimhaltung: Muster und Prüfung einer ganzen Veröffentlichung.

For every year of the demo municipality, times (a) building the year's linked system of
counts, choosing the secondary suppressions and auditing them (what the report batch does
once per year before any report runs) against (b) a baseline measured in the same run: the
unprotected key indicators of every site and of all sites for that year (the indicator
work the publication consists of). Prints seconds, cells, hidden cells and the ratio.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Geschwindigkeit der Geheimhaltung messen.")
    parser.add_argument("--seed", type=int, default=2014)
    parser.add_argument("--json", type=Path, help="Ergebnis zusätzlich als JSON hierhin schreiben")
    args = parser.parse_args(argv)

    from analysis import formatting
    from analysis.config import load_config
    from analysis.data import load_dataset, site_years
    from analysis.indicators.summary import key_indicators
    from analysis.protection import publication

    n = formatting.number
    work = Path(tempfile.mkdtemp(prefix="fh-bench-geheim-"))
    try:
        raw, processed = work / "raw", work / "processed"
        cli = [sys.executable, "-m", "analysis.cli"]
        subprocess.run(
            [*cli, "beispieldaten", "--ziel", str(raw), "--seed", str(args.seed)],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [*cli, "aufbereiten", "--rohdaten", str(raw), "--ziel", str(processed)],
            check=True,
            capture_output=True,
        )
        config = load_config(processed_dir=processed)
        dataset = load_dataset(processed)
        years = sorted({y for _, y in site_years(dataset)})
        rows = []
        print("Geheimhaltung je Veröffentlichung (Jahr) – Messung")
        print("  Jahr  Zellen  verborgen (veröff.)  Muster+Prüfung  Basis Kennzahlen  Verhältnis")
        for year in years:
            sites = ["alle", *[s for s, y in site_years(dataset) if y == year]]
            start = time.perf_counter()
            for site in sites:
                key_indicators(dataset, year=year, site=site, config=config, confidential=False)
            base = time.perf_counter() - start
            start = time.perf_counter()
            pub = publication.build_publication(dataset, year, land=config.land)
            protected = publication.protect_publication(
                pub, config.min_count, config.protection_level, config.round_to_5
            )
            seconds = time.perf_counter() - start
            rows.append(
                {
                    "jahr": year,
                    "zellen": len(pub.values),
                    "gleichungen": len(pub.equations),
                    "kleine_zahlen": len(protected.primary),
                    "verborgen_veroeffentlicht": len(protected.published_hidden),
                    "sekunden": seconds,
                    "basis_kennzahlen_sekunden": base,
                    "verhaeltnis": seconds / base,
                }
            )
            print(
                f"  {year}  {len(pub.values):6d}  {len(protected.published_hidden):9d}"
                f"            {n(seconds, 2):>8} s      {n(base, 2):>8} s      {n(seconds / base, 1):>6}"
            )
        total = sum(r["sekunden"] for r in rows)
        print(f"  Alle {len(rows)} Jahre zusammen: {n(total, 1)} s (einmal je Lauf und Datenstand)")
        if args.json:
            args.json.write_text(
                json.dumps({"jahre": rows, "summe_sekunden": total}, indent=2, ensure_ascii=False)
                + "\n",
                encoding="utf-8",
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
