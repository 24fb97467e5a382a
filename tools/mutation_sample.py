"""Eine Zufallsstichprobe der Mutanten: eine Punktzahl für alle Module in Stunden statt Tagen.

Ein vollständiger Lauf von ``make mutation`` über alle genannten Module braucht auf 2 Kernen
Tage: Die Tests einer Mutante von ``indicators.reach`` oder ``protection.audit`` laufen
bis zu anderthalb Minuten, und es sind über 12.000 Mutanten. Eine Stichprobe schätzt die Punktzahl
jedes Moduls mit einem Intervall (``tools/mutation_report.py``), und jede überlebende Mutante
der Stichprobe lässt sich ansehen.

Geschichtet: aus jedem Modul derselbe Anteil, mindestens eine Mutante. Zufällig mit festem
Startwert je Modul, also wiederholbar: Derselbe Code und derselbe Startwert geben dieselbe
Stichprobe (ändert sich ein Modul, ändern sich seine Mutanten und damit seine Auswahl).

Liest die Namen aus ``mutants/**/*.py.meta``, die ``mutmut run`` beim Erzeugen schreibt,
druckt die ausgewählten Namen, einen je Zeile, und hält sie in ``mutants/stichprobe.txt``
fest: ``tools/mutation_report.py`` gibt das Intervall eines Moduls nur an, wenn sein Teil
der Stichprobe vollständig geprüft ist (ein abgebrochener Lauf prüft die schnellen Mutanten
zuerst und ist keine Zufallsstichprobe mehr).

    python tools/mutation_sample.py --anteil 0,03 [--startwert 2026] [MUSTER ...]
    python tools/mutation_sample.py --anteil 0,03 --pruefen   # nur Anteil und Startwert prüfen
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "mutants"
#: The names of the last sample, for the report (only a fully checked sample is random).
SAMPLE_FILE = "stichprobe.txt"


def parse_share(text: str) -> float:
    """``0,03``, ``0.03`` or ``3 %`` -> 0.03; a German message for anything else."""
    raw = text.strip().replace(",", ".")
    percent = raw.endswith("%")
    try:
        value = float(raw.removesuffix("%").strip()) / (100 if percent else 1)
    except ValueError:
        raise ValueError(f"Anteil „{text}“ ist keine Zahl (etwa 0,03 oder 3 %)") from None
    if not 0 < value <= 1:
        raise ValueError(f"Anteil „{text}“ liegt nicht zwischen 0 und 1")
    return value


def parse_seed(text: str) -> int:
    """``2027`` -> 2027; a German message for anything that is not a whole number."""
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f"Startwert „{text}“ ist keine ganze Zahl") from None


def mutant_names(folder: Path = MUTANTS) -> dict[str, list[str]]:
    """Module -> the names of all its mutants, sorted."""
    by_module: dict[str, list[str]] = defaultdict(list)
    for meta in sorted(folder.glob("src/**/*.py.meta")):
        module = ".".join(meta.relative_to(folder / "src").with_suffix("").with_suffix("").parts)
        names = json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {})
        by_module[module].extend(names)
    return {module: sorted(names) for module, names in by_module.items() if names}


def sample(
    by_module: dict[str, list[str]], share: float, seed: int, patterns: list[str] | None = None
) -> list[str]:
    """The same ``share`` of every module's mutants (at least one), drawn with ``seed``."""
    if not 0 < share <= 1:
        raise ValueError(f"Anteil {share} liegt nicht zwischen 0 und 1")
    chosen: list[str] = []
    for module, names in sorted(by_module.items()):
        if patterns:
            names = [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in patterns)]
        if not names:
            continue
        k = max(1, round(share * len(names)))
        chosen += sorted(random.Random(f"{seed}:{module}").sample(names, k))
    return chosen


def main(argv: list[str] | None = None, folder: Path = MUTANTS) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--anteil", required=True, help="z. B. 0,03 oder 3 %%")
    parser.add_argument("--startwert", default="2026", help="Startwert des Zufalls (ganze Zahl)")
    parser.add_argument(
        "--pruefen", action="store_true", help="nur Anteil und Startwert prüfen, nichts ziehen"
    )
    parser.add_argument("muster", nargs="*", help="nur Mutanten mit diesen Namen (fnmatch)")
    args = parser.parse_args(argv)
    try:
        share = parse_share(args.anteil)
        seed = parse_seed(args.startwert)
    except ValueError as exc:
        print(f"Fehler: {exc}.", file=sys.stderr)
        return 2
    if args.pruefen:
        return 0
    by_module = mutant_names(folder)
    if not by_module:
        print(
            "Fehler: keine Mutanten in mutants/ – mutmut hat sie nicht erzeugt "
            "(siehe mutants/erzeugen.log).",
            file=sys.stderr,
        )
        return 2
    chosen = sample(by_module, share, seed, args.muster)
    if not chosen:
        print(
            f"Fehler: kein Mutantenname passt zu {' '.join(args.muster)} – nichts zu prüfen.",
            file=sys.stderr,
        )
        return 2
    (folder / SAMPLE_FILE).write_text("\n".join(chosen) + "\n", encoding="utf-8")
    print("\n".join(chosen))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
