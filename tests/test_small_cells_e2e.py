"""Confidentiality exercised end to end on data full of small cells (issue 13, item 4).

The demo municipality has almost no small counts, so a scan of its publication could not
fail. ``tests/small_cells.py`` is a municipality built to have them in every table kind
(routes, groups, life phases, target groups, referrals, reaction time, welcome visits,
offers, site totals) with the complement attacks a reader would try. Its raw files go
through the installed command: ``aufbereiten``, then ``berichte`` for 2014 at the smallest
scope that still makes every report kind (all sites: Reichweite, Zugangswege,
Kostenentwicklung, Gesamtbericht – the Gesamtbericht compares every site, the all-sites
tables hold sued's tiny route as the only Jobcenter contact), then ``kennzahlen`` for every
site. The reports of single sites go through the same section functions in
``tests/protection/test_attacker.py`` (fast, without Papermill). Everything published is scanned: the independent attacker
reads the Excel appendices and kennzahlen; a direct scan looks for a visible count 1 or 2
in the tables, kennzahlen and the text of the HTML pages, and for a share whose count or
base is not shown or is below the minimum.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nbformat
import pytest
import small_cells
from attacker import Seen, read_excel_tables, truth_from

from analysis.config import load_config
from analysis.data import load_dataset
from analysis.formatting import SUPPRESSED
from analysis.protection.publication import build_publication
from analysis.reporting.export import report_tables

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[1]
COMMAND = Path(sys.executable).with_name("fh-analytik")
YEAR = str(small_cells.YEAR)
SCOPE = ["alle"]  # 4 reports: 2 1/2 to 3 minutes on 2 heavily loaded cores
KINDS = ["reichweite", "zugangswege", "kostenentwicklung", "gesamtbericht"]
REPORTS = sorted(
    [f"{YEAR}/{s}/{k}" for s in SCOPE for k in KINDS[:3]] + [f"{YEAR}/alle/gesamtbericht"]
)
# Per table: (count column, column of its base or None when the base is the "Insgesamt" row).
SHARES = {
    "Zugangswege": ("Anzahl", None),
    "Zugangswege nach Gruppen": ("Anzahl", None),
    "Zeitpunkt des Erstkontakts": ("Erstkontakte", None),
    "Zielgruppen": ("Davon Zielgruppe", "Angabe bekannt"),
    "Weitervermittlung nach Zugangsgruppe": ("Weitervermittelt", "Dokumentiert"),
    "Reaktionszeit nach Meldung": ("Anzahl", "Bezugsgröße (n)"),
    "Anteile:": ("Anzahl", "Bezugsgröße (n)"),
    "Willkommensbesuche über die Jahre": ("Willkommensbesuche", "Geburten"),
    "Standorte im Vergleich": ("Erstkontakte", "Geburten"),
}
SHARE_NAMES = {"Anteil", "Untergrenze", "Obergrenze", "Erreichungsquote"}
# Words after a number in a sentence that make it a count of persons or contacts.
COUNT_WORDS = r"(?:Erstkontakt|Famili|Kontakt|Willkommensbesuch|Besuch|Müttern?|Fäll|Meldung)"


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(COMMAND), "--konfig", str(REPO / "fh-analytik.toml"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("kleine_zahlen")
    raw, processed, out = base / "roh", base / "daten", base / "berichte"
    small_cells.write_raw(raw)
    prepared = _run("aufbereiten", "--rohdaten", str(raw), "--ziel", str(processed), cwd=base)
    assert prepared.returncode == 0, prepared.stdout + prepared.stderr
    assert "Keine Zeile abgelehnt." in prepared.stdout
    run = _run(
        "berichte",
        *("--jahr", YEAR, "--daten", str(processed), "--ziel", str(out), "--parallel", "2"),
        *(a for s in SCOPE for a in ("--standort", s)),
        *(a for k in KINDS for a in ("--analyse", k)),
        "--ohne-fortschritt",
        cwd=base,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    kennzahlen = {}
    for site in ["alle", *small_cells.SITES]:
        k = _run(
            "kennzahlen", "--jahr", YEAR, "--standort", site, "--daten", str(processed), cwd=base
        )
        assert k.returncode == 0, k.stderr
        kennzahlen[site] = json.loads(k.stdout)
    config = load_config(REPO / "fh-analytik.toml", processed_dir=processed)
    dataset = load_dataset(processed)
    values = build_publication(dataset, int(YEAR), land=config.land).values
    return {
        "out": out,
        "config": config,
        "dataset": dataset,
        "kennzahlen": kennzahlen,
        "truth": truth_from(values),
    }


def test_every_report_kind_was_published(built):
    out = built["out"]
    run = json.loads((out / "lauf.json").read_text(encoding="utf-8"))
    keys = sorted(r["key"] for r in run["berichte"] if not r["key"].startswith("intern/"))
    assert keys == REPORTS
    for key in REPORTS:
        for ext in ("html", "xlsx", "ipynb"):
            assert (out / f"{key}.{ext}").stat().st_size > 0, f"{key}.{ext}"


def test_the_data_has_small_cells_in_every_table_kind(built):
    """The municipality does what it is for: small true counts of every kind, and the
    complement attacks are there (west is small, all sites minus the others reveals it)."""
    truth, minimum = built["truth"], built["config"].min_count
    small = {c for c, v in truth.items() if 0 < v < minimum and c[1] != "angebot"}
    kinds = {c[1] for c in small} | {
        c[1] for c, v in truth.items() if c[1] == "angebot" and c[-1] != "termine" and 0 < v < 3
    }
    assert {"ek", "weg", "gruppe", "phase", "ziel", "wv", "rz", "wb", "angebot"} <= kinds
    assert truth[("west", "ek")] == 2 and truth[("sued", "weg", "jobcenter")] == 1
    assert truth[("sued", "gruppe", "Jugendhilfe und Soziales")] == 1
    assert truth[("ost", "ek")] == minimum  # exactly at the minimum: shown
    assert sum(truth[(s, "ek")] for s in small_cells.SITES) == truth[("alle", "ek")] == 47
    assert truth[("nord", "rz", "spaeter")] == 2 and truth[("sued", "rz", "n")] == 1


def _excel(out: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted((out / YEAR).rglob("*.xlsx")):
        for table in read_excel_tables(path):
            yield path.parent.name, table


def test_the_attacker_learns_nothing_small(built):
    dataset = built["dataset"]
    seen = Seen(site_names={dataset.site_name(s): s for s in dataset.sites})
    for site, table in _excel(built["out"]):
        seen.add_payload(site, table, int(YEAR))
    for site, k in built["kennzahlen"].items():
        seen.add_kennzahlen(site, k)
    config = built["config"]
    attack = seen.attack(built["truth"], config.min_count, config.protection_level)
    attack.assert_safe()
    assert attack.seen > 80 and attack.hidden > 300  # it read (and met) hidden cells
    assert ("ost", "ek") in seen.values and ("west", "ek") not in seen.values


def _tables(out: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    for key in REPORTS:
        for table in report_tables(nbformat.read(out / f"{key}.ipynb", as_version=4)):
            yield key, table


def _shown(value: Any) -> bool:
    return value is not None and value != SUPPRESSED


def small_shown(tables: Iterator[tuple[str, dict[str, Any]]], minimum: int) -> list[tuple]:
    """Visible counts 0 < x < minimum, and visible shares whose count or base is hidden or
    whose base is below the minimum: (report, table, row, why)."""
    found = []
    for key, table in tables:
        title, columns = table["titel"], table["spalten"]
        counts = [c for c, f in zip(columns, table["formate"], strict=True) if f == "anzahl"]
        # A share by its format or its name (a table could lose the format with its
        # protection); a reference value (Vergleichswert) is a share from outside the data.
        shares = [
            c
            for c, f in zip(columns, table["formate"], strict=True)
            if (f == "anteil" or c in SHARE_NAMES) and c != "Vergleichswert"
        ]
        rule = next((v for k, v in SHARES.items() if title.startswith(k)), None)
        rows = [dict(zip(columns, r, strict=True)) for r in table["zeilen"]]
        total = next((r for r in rows if r[columns[0]] == "Insgesamt"), None)
        for r in rows:
            for c in counts:
                if isinstance(r[c], int | float) and 0 < r[c] < minimum:
                    found.append((key, title, r[columns[0]], f"{c} = {r[c]}"))
            if rule is None or not any(_shown(r[c]) for c in shares):
                continue
            count, base_column = rule
            base = total[count] if base_column is None and total else r.get(base_column)
            if not _shown(r[count]) or not _shown(base):
                found.append((key, title, r[columns[0]], "Anteil zu verborgener Zahl"))
            elif 0 < base < minimum:
                found.append((key, title, r[columns[0]], f"Anteil aus {base} Fällen"))
    return found


def test_small_shown_finds_each_kind_of_leak():
    minimum = 3
    table = {
        "titel": "Zugangswege",
        "spalten": ["Zugangsweg", "Anzahl", "Anteil"],
        "formate": [None, "anzahl", "anteil"],
        "zeilen": [
            ["A", 2, "•"],
            ["B", "•", 0.25],
            ["C", 0, 0.0],
            ["D", 3, 0.5],
            ["Insgesamt", 8, 1.0],
        ],
    }
    based = {
        "titel": "Zielgruppen",
        "spalten": ["Zielgruppe", "Angabe bekannt", "Davon Zielgruppe", "Anteil"],
        "formate": [None, "anzahl", "anzahl", "anteil"],
        "zeilen": [["X", 2, 0, 0.0], ["Y", "•", 3, 0.5], ["Z", 9, 3, 1 / 3]],
    }
    assert small_shown(iter([("r", table), ("r", based)]), minimum) == [
        ("r", "Zugangswege", "A", "Anzahl = 2"),
        ("r", "Zugangswege", "B", "Anteil zu verborgener Zahl"),
        ("r", "Zielgruppen", "X", "Angabe bekannt = 2"),
        ("r", "Zielgruppen", "X", "Anteil aus 2 Fällen"),
        ("r", "Zielgruppen", "Y", "Anteil zu verborgener Zahl"),
    ]
    # The same table with the share of B hidden and its Insgesamt hidden: C's 0 % and D's
    # 50 % would give the hidden total away (a share of a hidden base).
    table["zeilen"][1][2] = "•"
    table["zeilen"][4][1] = "•"
    assert [f[2] for f in small_shown(iter([("r", table)]), minimum)] == [
        "A",
        "C",
        "D",
        "Insgesamt",
    ]


def test_no_small_count_and_no_share_of_few_in_any_report_table(built):
    found = small_shown(_tables(built["out"]), built["config"].min_count)
    assert not found, found[:10]


def _walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _walk(inner, f"{path}.{key}" if path else key)
    else:
        yield path, value


def test_no_small_count_and_no_share_of_few_in_kennzahlen(built):
    """Every integer of kennzahlen that counts persons, and every share: its true base
    (first contacts, known answers, referrals with a date) is at least the minimum."""
    minimum, truth = built["config"].min_count, built["truth"]
    for site, k in built["kennzahlen"].items():
        for path, value in _walk(k):
            if path.endswith(("termine", "jahr", "monate_geoeffnet")) or isinstance(value, bool):
                continue
            if isinstance(value, int):
                assert not 0 < value < minimum, (site, path, value)
        r, z = k["reichweite"], k["zugangswege"]
        ek = truth[(site, "ek")]
        base_of = {
            "erreichungsquote": truth[(site, "geburten")] if ek >= minimum else 0,
            **{f"zugangswege.anteile.{c}": ek for c in z["anteile"]},
            **{f"zugangswege.gruppen.{g}": ek for g in z["gruppen"]},
            **{f"zielgruppen.{g}": truth[(site, "ziel", g, "bekannt")] for g in r["zielgruppen"]},
            "reaktionszeit": truth[(site, "rz", "n")],
            "schwangerschaft": truth[(site, "phase_bekannt")],
        }
        shares = {
            "erreichungsquote": r["erreichungsquote"],
            **{f"zugangswege.anteile.{c}": v for c, v in z["anteile"].items()},
            **{f"zugangswege.gruppen.{g}": v for g, v in z["gruppen"].items()},
            **{f"zielgruppen.{g}": v["anteil"] for g, v in r["zielgruppen"].items()},
            "reaktionszeit": z["reaktionszeit"]["quote_binnen_3_werktagen"],
            "schwangerschaft": r["schwangerschaft"]["anteil"],
        }
        for name, share in shares.items():
            if share is not None:
                assert base_of[name] >= minimum, (site, name, share, base_of[name])
    west = built["kennzahlen"]["west"]
    assert west["reichweite"]["erstkontakte"] is None
    assert set(west["zugangswege"]["anteile"].values()) == {None}
    assert built["kennzahlen"]["ost"]["reichweite"]["erstkontakte"] == minimum


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._skip += tag in ("style", "script", "table")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("style", "script", "table")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def test_no_small_count_in_the_text_of_any_page(built):
    """Sentences and notes (tables are scanned above): no "2 Erstkontakte", "1 Familie"."""
    minimum = built["config"].min_count
    small = "|".join(str(n) for n in range(1, minimum))
    pattern = re.compile(rf"(?<![\d.,])(?:{small})\s+{COUNT_WORDS}")
    scanned = 0
    for key in REPORTS:
        parser = _Text()
        parser.feed((built["out"] / f"{key}.html").read_text(encoding="utf-8"))
        text = " ".join(" ".join(parser.parts).split())
        scanned += len(text)
        assert not pattern.findall(text), (key, pattern.findall(text))
    assert scanned > 5000
