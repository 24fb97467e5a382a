"""Ergebnis der Mutationstests (mutmut) auf Deutsch: Punktzahl je Modul und jede überlebende
Mutante mit ihrer Änderung. Liest ``mutants/**/*.meta`` (von ``mutmut run`` geschrieben),
druckt die Übersicht und schreibt sie nach ``mutants/zusammenfassung.md``.

    python tools/mutation_report.py            # alle geprüften Mutanten
    python tools/mutation_report.py --ohne-diff  # nur Namen, ohne die Änderung

Punktzahl = getötet / (getötet + überlebt + Zeitüberschreitung); Mutanten ohne Tests zählen
als überlebt (kein Test sieht sie), nicht geprüfte (Lauf abgebrochen oder Auswahl) gar nicht.
Das 95-%-Intervall (Wilson) steht bei einem Modul nur, wenn seine geprüften Mutanten genau
sein Teil der zuletzt gezogenen Zufallsstichprobe sind (``make mutation STICHPROBE=…``,
``mutants/stichprobe.txt``) und jede davon geprüft ist: Ein abgebrochener Lauf hat die
schnellen Mutanten zuerst geprüft und ist keine Zufallsstichprobe mehr. Bei der Summe nur,
wenn das für jedes Modul gilt und jede Mutante der Stichprobe geprüft ist. Ein ganz
gezogenes Modul ist eine Vollerhebung: Seine Punktzahl ist exakt, ohne Intervall.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "mutants"

#: mutmut's exit codes -> our words (mutmut/stats.py: status_by_exit_code).
STATUS = {
    1: "getötet",
    3: "getötet",
    0: "überlebt",
    5: "ohne Tests",
    33: "ohne Tests",
    34: "übersprungen",
    35: "verdächtig",
    36: "Zeitüberschreitung",
    24: "Zeitüberschreitung",
    -24: "Zeitüberschreitung",
    152: "Zeitüberschreitung",
    255: "Zeitüberschreitung",
    None: "nicht geprüft",
}


def status(code: int | None) -> str:
    return STATUS.get(code, "verdächtig")


def load(folder: Path = MUTANTS) -> dict[str, dict[str, str]]:
    """Module (``analysis.protection.rules``) -> mutant name -> status."""
    out: dict[str, dict[str, str]] = {}
    for meta in sorted(folder.glob("src/**/*.py.meta")):
        codes = json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {})
        module = ".".join(meta.relative_to(folder / "src").with_suffix("").with_suffix("").parts)
        if codes:
            out[module] = {name: status(code) for name, code in codes.items()}
    return out


def score(counts: Counter) -> float | None:
    """Killed share of the checked mutants (no tests and timeouts count as not killed)."""
    checked = sum(n for s, n in counts.items() if s not in ("nicht geprüft", "übersprungen"))
    return counts["getötet"] / checked if checked else None


def _checked(mutants: dict[str, str]) -> set[str]:
    return {n for n, st in mutants.items() if st not in ("nicht geprüft", "übersprungen")}


def sample_complete(mutants: dict[str, str], sample: set[str] | None) -> bool:
    """Whether exactly the sampled mutants of this module were checked, every one of them
    (a module's part of a stratified sample is a random sample of its own)."""
    if not sample:
        return False
    drawn = {n for n in mutants if n in sample}
    # A module sampled whole is a census: its score is exact, an interval would mislead.
    return bool(drawn) and _checked(mutants) == drawn and len(drawn) < len(mutants)


def summary(
    results: dict[str, dict[str, str]], sample: set[str] | None = None
) -> tuple[str, list[str]]:
    """The German table of scores per module and the list of surviving mutants; with the
    Wilson interval of a module's score when its part of ``sample`` was checked completely
    and alone (and of the total when that holds for every module)."""
    lines = [
        "| Modul | geprüft | getötet | überlebt | ohne Tests | Zeit | nicht geprüft | Punktzahl "
        "| 95-%-Intervall |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    survivors: list[str] = []
    total: Counter = Counter()
    every_module_complete = True
    for module, mutants in results.items():
        counts = Counter(mutants.values())
        total.update(counts)
        checked = sum(counts.values()) - counts["nicht geprüft"] - counts["übersprungen"]
        if not checked:
            continue
        complete = sample_complete(mutants, sample)
        # a census (whole module drawn) counts as complete for the total
        every_module_complete &= complete or (
            bool(sample) and _checked(mutants) == set(mutants) and set(mutants) <= sample
        )
        s = score(counts)
        lines.append(
            f"| {module} | {checked} | {counts['getötet']} | {counts['überlebt']} | "
            f"{counts['ohne Tests']} | {counts['Zeitüberschreitung']} | "
            f"{counts['nicht geprüft']} | {_percent(s)} | "
            f"{_interval(counts) if complete else '–'} |"
        )
        survivors += [n for n, st in mutants.items() if st in ("überlebt", "ohne Tests")]
    checked = sum(total.values()) - total["nicht geprüft"] - total["übersprungen"]
    checked_names = {n for mutants in results.values() for n in _checked(mutants)}
    lines.append(
        f"| **zusammen** | {checked} | {total['getötet']} | {total['überlebt']} | "
        f"{total['ohne Tests']} | {total['Zeitüberschreitung']} | {total['nicht geprüft']} | "
        f"{_percent(score(total))} | "
        f"{_interval(total) if sample and every_module_complete and sample <= checked_names else '–'} |"
    )
    return "\n".join(lines), survivors


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %".replace(".", ",")


def _interval(counts: Counter) -> str:
    """Wilson's 95 % interval of the killed share (the project's own, as in the reports)."""
    from analysis.indicators.stats import wilson_interval

    checked = sum(n for s, n in counts.items() if s not in ("nicht geprüft", "übersprungen"))
    p = wilson_interval(counts["getötet"], checked)
    if p.lower is None or p.upper is None:
        return "–"
    return f"{_percent(p.lower)} bis {_percent(p.upper)}"


def _diff(name: str) -> str:
    shown = subprocess.run(
        [str(Path(sys.executable).with_name("mutmut")), "show", name],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return shown.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ohne-diff", action="store_true", help="Änderungen nicht zeigen")
    args = parser.parse_args(argv)
    results = load()
    if not results:
        print("Keine Ergebnisse in mutants/ – zuerst `make mutation` laufen lassen.")
        return 1
    sample_file = MUTANTS / "stichprobe.txt"
    sample = None
    if sample_file.is_file():
        sample = set(sample_file.read_text(encoding="utf-8").split())
    table, survivors = summary(results, sample)
    text = ["# Mutationstests: Ergebnis", "", table, ""]
    if sample is not None:
        done = len(sample & {n for m in results.values() for n in _checked(m)})
        text += [
            f"Stichprobe (mutants/stichprobe.txt): {done} von {len(sample)} Mutanten geprüft. "
            "Ein Intervall steht nur bei Modulen, deren Teil der Stichprobe vollständig und "
            "allein geprüft ist.",
            "",
        ]
    text.append(f"## Überlebende Mutanten ({len(survivors)})")
    text.append("")
    for name in survivors:
        text.append(f"- {name}")
        if not args.ohne_diff:
            text += ["", "```diff", _diff(name), "```", ""]
    report = "\n".join(text) + "\n"
    (MUTANTS / "zusammenfassung.md").write_text(report, encoding="utf-8")
    print(report)
    print("Geschrieben: mutants/zusammenfassung.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
