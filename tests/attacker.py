"""A careful reader with a spreadsheet: what can be worked out from one year's publication?

Written independently of ``analysis.protection.publication``: it reads what was actually
published (the tables of every report – from the Excel appendices or the payloads a report
shows – and ``kennzahlen`` of every site and of all sites), maps each visible number to the
quantity it states, writes down the relations any reader knows (parts add up to their
total, sites add up to all sites, a share times its visible denominator is its count, a
complement such as "known minus yes" is a non-negative count) and asks the LP engine how
far each hidden quantity can be narrowed down.

    seen = Seen()
    seen.add_payload("rheindorf", payload)          # one table as a report shows it
    seen.add_kennzahlen("rheindorf", kennzahlen_json)
    result = seen.attack(truth, min_count=3, level=3)  # truth: cell -> true value
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.contract.schema import CATEGORIES
from analysis.protection import audit as lp

ALL = "alle"
SUPPRESSED = "•"
PHASES = CATEGORIES["lebensphase_kind"]
ROUTES = CATEGORIES["zugangsweg"]
OFFERS = CATEGORIES["angebot"]
TARGETS = {
    "Alleinerziehende": "alleinerziehend",
    "Familien im SGB-II-Bezug": "sgb2_bezug",
    "Familien mit Migrationshintergrund": "migrationshintergrund",
    "Mütter unter 20 Jahren": "mutter_unter_20",
}

#: The publication module's cell names -> the reader's (for the true values only).
_RENAME = {
    "erstkontakte": "ek",
    "geburten": "geburten",
    "willkommensbesuche": "wb",
    "lebensphase": "phase",
    "lebensphase_bekannt": "phase_bekannt",
    "zugangsweg": "weg",
    "zugangsweg_bekannt": "weg_bekannt",
    "zugangsgruppe": "gruppe",
    "zielgruppe": "ziel",
    "weitervermittlung": "wv",
    "reaktionszeit": "rz",
    "angebot": "angebot",
    "kinder_u3": "kinder_u3",
    "nutzerbefragung": "bogen",
    "bewertung": "note",
    "weiterempfehlung": "empf",
}
_PARTS = {
    "dokumentiert": "dok",
    "keine": "nein",
    "ohne_angabe": "undok",
    "binnen_3": "binnen3",
    "ohne_meldung": "ohne",
}
#: The questionnaire's rated items (report label -> data contract column) and grades.
ITEMS = {
    "Erreichbarkeit": "erreichbarkeit",
    "Räume": "raeume",
    "Angebote": "angebote",
    "Beratung": "beratung",
}
GRADES = {"1 (sehr gut)": "1", "2": "2", "3": "3", "4": "4", "5 (schlecht)": "5"}


def truth_from(values: Mapping[tuple[Hashable, ...], float]) -> dict[tuple[Hashable, ...], float]:
    """True values in the reader's names (from ``publication.build_publication(...).values``)."""
    out: dict[tuple[Hashable, ...], float] = {}
    for cell, value in values.items():
        site, quantity, *rest = cell
        if quantity == "angebote":
            out[(site, "angebot", "gesamt", *rest)] = value
            continue
        if quantity == "bewertung":  # grades, blanks and the sum of grades of an item
            rest = ["notensumme" if r == "summe" else r for r in rest]
        else:
            rest = [_PARTS.get(str(r), r) for r in rest]
        out[(site, _RENAME[str(quantity)], *rest)] = value
    return out


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, str | bool):
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return float(value)


@dataclass
class Seen:
    """Every quantity a reader saw, with its value (the same quantity must agree everywhere)."""

    values: dict[tuple[Hashable, ...], float] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)
    sites: set[str] = field(default_factory=set)
    site_names: dict[str, str] = field(default_factory=dict)
    #: Mean grades seen: (site, item) -> mean; a mean times the item's visible n is the sum
    #: of grades (worked out at attack time, when every n seen is known).
    means: dict[tuple[Hashable, ...], float] = field(default_factory=dict)

    def see_mean(self, site: str, item: str, mean: Any, where: str) -> None:
        value = _number(mean)
        if value is None:
            return
        key = (site, item)
        if key in self.means and abs(self.means[key] - value) > 1e-9:
            self.conflicts.append(f"{where}: Mittelwert {key} = {value} und {self.means[key]}")
        self.means[key] = value

    _total: Any = None  # the "Insgesamt" count of the table being read

    def see(self, cell: tuple[Hashable, ...], value: Any, where: str) -> None:
        number = _number(value)
        if number is None:
            return
        if cell in self.values and abs(self.values[cell] - number) > 1e-6:
            self.conflicts.append(f"{where}: {cell} = {number} und {self.values[cell]}")
        self.values[cell] = number
        if cell[0] != ALL:
            self.sites.add(str(cell[0]))

    def see_share(
        self, cell: tuple[Hashable, ...], share: Any, denominator: Any, where: str
    ) -> None:
        """A share with a visible denominator states its count (share x n)."""
        s, n = _number(share), _number(denominator)
        if s is not None and n is not None:
            self.see(cell, round(s * n), where)

    # --- report tables -----------------------------------------------------------------

    def add_payload(self, site: str, table: Mapping[str, Any], year: int | None = None) -> None:
        """One report table (``titel``, ``spalten``, ``zeilen``) of a report for ``site``."""
        title = str(table["titel"])
        columns = list(table["spalten"])
        records = [dict(zip(columns, row, strict=True)) for row in table["zeilen"]]
        # A share of a table with an "Insgesamt" row is a share of that row's count.
        self._total = next((r[columns[1]] for r in records if r[columns[0]] == "Insgesamt"), None)
        for record in records:
            self._row(site, title, record, year)

    def _row(self, site: str, title: str, r: dict[str, Any], year: int | None) -> None:
        where = f"{site}: {title}"
        if title == "Reichweite im Überblick":
            name = r["Kennzahl"]
            self.see((site, "ek"), r["Erstkontakte"], where)
            if name == "Erstkontakte je 1.000 Geburten":
                self.see((site, "geburten"), r["Bezugsgröße"], where)
            else:
                self.see((site, "kinder_u3"), r["Bezugsgröße"], where)
        elif title.startswith("Anteile:"):
            name = r["Kennzahl"]
            count, n = r["Anzahl"], r["Bezugsgröße (n)"]
            if name.startswith("Willkommensbesuche"):
                self.see((site, "wb"), count, where)
                self.see((site, "geburten"), n, where)
                self.see_share((site, "wb"), r["Anteil"], n, where)
            elif name.startswith("In der Schwangerschaft"):
                self.see((site, "phase", "schwangerschaft"), count, where)
                self.see((site, "phase_bekannt"), n, where)
                self.see_share((site, "phase", "schwangerschaft"), r["Anteil"], n, where)
        elif title == "Willkommensbesuche über die Jahre":
            if year is not None and int(r["Jahr"]) == year:
                self.see((site, "wb"), r["Willkommensbesuche"], where)
                self.see((site, "geburten"), r["Geburten"], where)
        elif title == "Standorte im Trichterdiagramm":
            s = self._site_by_name(r["standort_id"] if "standort_id" in r else r[next(iter(r))])
            self.see((s, "ek"), r["Erstkontakte"], where)
            self.see((s, "geburten"), r["Geburten"], where)
        elif title.startswith("Zeitpunkt des Erstkontakts"):
            label = r["Lebensphase"]
            cell = (site, "ek") if label == "Insgesamt" else (site, "phase", _code(PHASES, label))
            self.see(cell, r["Erstkontakte"], where)
            self.see_share(cell, r.get("Anteil"), self._total, where)
        elif title == "Zielgruppen":
            group = TARGETS[r["Zielgruppe"]]
            self.see((site, "ziel", group, "bekannt"), r["Angabe bekannt"], where)
            self.see((site, "ziel", group, "ja"), r["Davon Zielgruppe"], where)
            self.see_share((site, "ziel", group, "ja"), r["Anteil"], r["Angabe bekannt"], where)
        elif title == "Angebote":
            label = r[next(iter(r))]
            code = "gesamt" if label == "Insgesamt" else _code(OFFERS, label)
            for column, measure in zip(
                list(r)[1:], ("termine", "besuche", "teilnehmende"), strict=False
            ):
                self.see((site, "angebot", code, measure), r[column], where)
        elif title == "Verlauf über die Jahre":
            if year is not None and int(r["Jahr"]) == year:
                self.see((site, "ek"), r["Erstkontakte"], where)
                self.see((site, "geburten"), r["Geburten"], where)
        elif title == "Zugangswege":
            label = r["Zugangsweg"]
            cell = (site, "ek") if label == "Insgesamt" else (site, "weg", _code(ROUTES, label))
            self.see(cell, r["Anzahl"], where)
            self.see_share(cell, r.get("Anteil"), self._total, where)
        elif title == "Zugangswege nach Gruppen":
            label = r["Gruppe"]
            cell = (site, "ek") if label == "Insgesamt" else (site, "gruppe", label)
            self.see(cell, r["Anzahl"], where)
            self.see_share(cell, r.get("Anteil"), self._total, where)
        elif title == "Reaktionszeit nach Meldung":
            self.see((site, "rz", "binnen3"), r["Anzahl"], where)
            self.see((site, "rz", "n"), r["Bezugsgröße (n)"], where)
            self.see_share((site, "rz", "binnen3"), r["Anteil"], r["Bezugsgröße (n)"], where)
        elif title == "Weitervermittlung nach Zugangsgruppe":
            group = r["Zugangsgruppe"]
            key = "insgesamt" if group == "Insgesamt" else group
            self.see((site, "wv", key, "dok"), r["Dokumentiert"], where)
            self.see((site, "wv", key, "ja"), r["Weitervermittelt"], where)
            self.see_share((site, "wv", key, "ja"), r["Anteil"], r["Dokumentiert"], where)
        elif title == "Standorte im Vergleich":
            s = self._site_by_name(r["Standort"])
            self.see((s, "ek"), r["Erstkontakte"], where)
            self.see((s, "geburten"), r["Geburten"], where)
            self.see((s, "wb"), r["Willkommensbesuche"], where)
            self.see((s, "angebot", "gesamt", "besuche"), r["Besuche"], where)
        elif title.startswith("Zugangsgruppen je Standort"):
            s = self._site_by_name(r["Standort"])
            for column, value in r.items():
                if column == "Standort":
                    continue
                if column == "Insgesamt":
                    self.see((s, "weg_bekannt"), value, where)
                elif column == "Sonstige":
                    self.see((s, "weg", "sonstige"), value, where)
                else:
                    self.see((s, "gruppe", column), value, where)

        elif title == "Bewertungen der Familien":
            item = ITEMS[r["Merkmal"]]
            for column, grade in GRADES.items():
                self.see((site, "note", item, grade), r[column], where)
            self.see((site, "note", item, "ohne_angabe"), r["Keine Angabe"], where)
            self.see((site, "note", item, "n"), r["Antworten (n)"], where)
            self.see_mean(site, item, r["Mittelwert"], where)
            if _number(r["Mittelwert"]) is None and _number(r["Untergrenze"]) is not None:
                self.conflicts.append(f"{where}: Intervall ohne Mittelwert bei {item}")
        elif title == "Weiterempfehlung":
            if r["Kennzahl"].startswith("Würden"):
                self.see((site, "empf", "ja"), r["Anzahl"], where)
                self.see((site, "empf", "bekannt"), r["Bezugsgröße (n)"], where)
                self.see_share((site, "empf", "ja"), r["Anteil"], r["Bezugsgröße (n)"], where)
            else:
                self.see((site, "empf", "unbekannt"), r["Anzahl"], where)
                self.see((site, "bogen"), r["Bezugsgröße (n)"], where)
                self.see_share(
                    (site, "empf", "unbekannt"), r["Anteil"], r["Bezugsgröße (n)"], where
                )
        elif title == "Rückmeldungen der Standorte im Vergleich":
            s = self._site_by_name(r["Standort"])
            self.see((s, "bogen"), r["Fragebögen"], where)
            for label, item in ITEMS.items():
                self.see_mean(s, item, r[label], where)
        elif (
            title == "Rückmeldungen über die Jahre" and year is not None and int(r["Jahr"]) == year
        ):
            self.see((site, "bogen"), r["Fragebögen"], where)
            self.see((site, "empf", "bekannt"), r["Mit Angabe"], where)
            self.see((site, "empf", "ja"), r["Weiterempfehlung"], where)
            self.see_share((site, "empf", "ja"), r["Anteil"], r["Mit Angabe"], where)
            for label, item in ITEMS.items():
                self.see_mean(site, item, r[label], where)

    def _site_by_name(self, name: str) -> str:
        if name == "Alle Standorte":
            return ALL
        return self.site_names.get(name, name)

    # --- kennzahlen ----------------------------------------------------------------------

    def add_kennzahlen(self, site: str, k: Mapping[str, Any]) -> None:
        where = f"kennzahlen {site}"
        r, z = k["reichweite"], k["zugangswege"]
        self.see((site, "ek"), r["erstkontakte"], where)
        self.see((site, "geburten"), r["geburten"], where)
        self.see((site, "wb"), r["willkommensbesuche"], where)
        self.see((site, "angebot", "gesamt", "besuche"), r["besuche"], where)
        self.see((site, "angebot", "gesamt", "termine"), r["termine"], where)
        for code, value in r["lebensphase"].items():
            self.see((site, "phase", code), value, where)
        for group, entry in r["zielgruppen"].items():
            self.see((site, "ziel", group, "bekannt"), entry["n_bekannt"], where)
            self.see_share((site, "ziel", group, "ja"), entry["anteil"], entry["n_bekannt"], where)
        for code, value in z["anzahl"].items():
            self.see((site, "weg", code), value, where)
        for code, share in z["anteile"].items():
            self.see_share((site, "weg", code), share, r["erstkontakte"], where)
        for group, share in z["gruppen"].items():
            self.see_share((site, "gruppe", group), share, r["erstkontakte"], where)
        rt = z["reaktionszeit"]
        self.see((site, "rz", "n"), rt["n"], where)
        self.see_share((site, "rz", "binnen3"), rt["quote_binnen_3_werktagen"], rt["n"], where)
        feedback = (k.get("qualitaet") or {}).get("rueckmeldungen")
        if feedback:
            self.see((site, "bogen"), feedback["frageboegen"], where)
            for item, entry in feedback["bewertungen"].items():
                self.see((site, "note", item, "n"), entry["n"], where)
                self.see((site, "note", item, "ohne_angabe"), entry["ohne_angabe"], where)
                self.see_mean(site, item, entry["mittelwert"], where)
                if entry["mittelwert"] is None and entry["untergrenze"] is not None:
                    self.conflicts.append(f"{where}: Intervall ohne Mittelwert bei {item}")
            rec = feedback["weiterempfehlung"]
            self.see((site, "empf", "bekannt"), rec["n_bekannt"], where)
            self.see_share((site, "empf", "ja"), rec["anteil"], rec["n_bekannt"], where)

    # --- the reader's algebra ------------------------------------------------------------

    def equations(self, sites: Iterable[str]) -> list[dict[Hashable, float]]:
        """What anyone knows about how the quantities relate (complements as own cells)."""
        eqs: list[dict[Hashable, float]] = []
        everyone = [*sorted(sites), ALL]
        for s in everyone:
            ek = (s, "ek")
            eqs.append(lp.additive(ek, [(s, "phase", c) for c in PHASES.codes]))
            eqs.append(
                lp.additive(
                    (s, "phase_bekannt"),
                    [(s, "phase", c) for c in PHASES.codes if c != "unbekannt"],
                )
            )
            eqs.append(lp.additive(ek, [(s, "weg", c) for c in ROUTES.codes]))
            eqs.append(
                lp.additive(
                    (s, "weg_bekannt"), [(s, "weg", c) for c in ROUTES.codes if c != "unbekannt"]
                )
            )
            for g in ROUTES.group_names:
                members = [(s, "weg", c) for c, grp in ROUTES.groups.items() if grp == g]
                eqs.append(lp.additive((s, "gruppe", g), members))
                # documented + not documented = the group; yes + no = documented
                eqs.append(
                    lp.additive((s, "gruppe", g), [(s, "wv", g, "dok"), (s, "wv", g, "undok")])
                )
            for key in [*ROUTES.group_names, "insgesamt"]:
                eqs.append(
                    lp.additive(
                        (s, "wv", key, "dok"), [(s, "wv", key, "ja"), (s, "wv", key, "nein")]
                    )
                )
            for part in ("dok", "ja"):
                eqs.append(
                    lp.additive(
                        (s, "wv", "insgesamt", part),
                        [(s, "wv", g, part) for g in ROUTES.group_names],
                    )
                )
            for group in TARGETS.values():
                t = (s, "ziel", group)
                eqs.append(lp.additive((*t, "bekannt"), [(*t, "ja"), (*t, "nein")]))
                eqs.append(lp.additive(ek, [(*t, "bekannt"), (*t, "unbekannt")]))
            eqs.append(lp.additive(ek, [(s, "rz", "n"), (s, "rz", "ohne")]))
            eqs.append(lp.additive((s, "rz", "n"), [(s, "rz", "binnen3"), (s, "rz", "spaeter")]))
            for m in ("termine", "besuche", "teilnehmende"):
                eqs.append(
                    lp.additive(
                        (s, "angebot", "gesamt", m), [(s, "angebot", c, m) for c in OFFERS.codes]
                    )
                )
            # Questionnaires: answers + blank = questionnaires; grades add up to the answers;
            # the sum of grades is the grade-weighted sum (a mean times n shows it).
            for item in ITEMS.values():
                q = (s, "note", item)
                grades = [(*q, g) for g in GRADES.values()]
                eqs.append(lp.additive((s, "bogen"), [(*q, "n"), (*q, "ohne_angabe")]))
                eqs.append(lp.additive((*q, "n"), grades))
                eqs.append({(*q, "notensumme"): 1.0, **{c: -float(c[-1]) for c in grades}})
            eqs.append(
                lp.additive((s, "empf", "bekannt"), [(s, "empf", "ja"), (s, "empf", "nein")])
            )
            eqs.append(
                lp.additive((s, "bogen"), [(s, "empf", "bekannt"), (s, "empf", "unbekannt")])
            )
        # Sites add up to all sites for every quantity counted from first contacts or offers.
        quantities = {c[1:] for eq in eqs for c in eq if c[0] == ALL}
        for q in quantities:
            if q[0] in ("geburten", "wb"):
                continue
            eqs.append(lp.additive((ALL, *q), [(s, *q) for s in sorted(sites)]))
        return eqs

    def attack(
        self, truth: Mapping[tuple[Hashable, ...], float], min_count: int, level: float
    ) -> Attack:
        """Everything the reader can work out, against the true values."""
        sites = {str(c[0]) for c in truth if c[0] != ALL} | self.sites
        for (site, item), mean in self.means.items():
            n = self.values.get((site, "note", item, "n"))
            if n is not None:
                self.see((site, "note", item, "notensumme"), round(mean * n), "Mittelwert × n")
        eqs = self.equations(sites)
        cells = {c for eq in eqs for c in eq} | set(self.values)
        values = {c: float(truth.get(c, 0.0)) for c in cells}
        # Quantities the reader's model has but the publication does not hold (a site
        # without offers) are 0 in truth and not seen: they stay free, as for a reader.
        pub = lp.LinearPublication(values=values, equations=eqs)
        wrong = [
            f"{c}: gezeigt {v}, wahr {values[c]}"
            for c, v in self.values.items()
            if abs(v - values[c]) > 1e-6
        ]
        # Sessions held (Termine) count no persons (docs/annahmen.md G1): not sensitive.
        small = {c for c, v in values.items() if 0 < v < min_count and c[-1] != "termine"}
        hidden = cells - set(self.values)
        shown_small = sorted(str(c) for c in small - hidden)
        result = lp.audit(pub, hidden, small & hidden, level, sensitive_only=True)
        return Attack(result, wrong, shown_small, len(self.values), len(hidden), self.conflicts)


def _code(category: Any, label: str) -> str:
    for code, text in category.labels.items():
        if text == label:
            return code
    raise KeyError(label)


@dataclass
class Attack:
    audit: lp.AuditResult
    wrong_values: list[str]
    small_counts_shown: list[str]
    seen: int
    hidden: int
    conflicts: list[str]

    @property
    def failures(self) -> list[str]:
        return [
            f"{f.cell}: {f.value:g} liegt sicher in [{f.lower:g}, {f.upper:g}]"
            for f in self.audit.failures
        ]

    def assert_safe(self) -> None:
        assert not self.conflicts, self.conflicts[:5]
        assert not self.wrong_values, self.wrong_values[:5]
        assert not self.small_counts_shown, self.small_counts_shown[:5]
        assert not self.failures, self.failures[:5]


def read_excel_tables(path: Path) -> list[dict[str, Any]]:
    """The report tables of an Excel appendix as payloads (title, columns, rows)."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    tables = []
    for ws in wb.worksheets:
        if ws.title == "Datengrundlage":
            continue
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        title, columns = rows[0][0], [c for c in rows[1] if c is not None]
        body = []
        for r in rows[2:]:
            r = r[: len(columns)]
            if len(columns) > 1 and all(v is None for v in r[1:]):
                break  # footnotes and source follow the table
            body.append(r)
        tables.append({"titel": title, "spalten": columns, "zeilen": body})
    return tables
