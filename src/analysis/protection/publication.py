"""Die Veröffentlichung eines Jahres: alle Fallzahlen, ihre Beziehungen und ein Geheimhaltungsmuster.

A publication is everything published for one year: every report of every site and of all
sites, the Excel appendices and ``kennzahlen``. This module lays out its counts as one
linked system of cells (per site and for all sites: first contacts, life phases, routes,
route groups, target groups, onward referrals, response time, offers, births, welcome
visits, questionnaires with their grades, sums of grades and recommendations) with the
equations a reader can use (parts add up to totals, sites add up to all sites, a mean
times n is the sum of grades), decides which cells are hidden once for the whole year (primary: a count
below the minimum, zeros excepted, published or not; secondary: chosen by
``protection.audit.protect`` until every small count's feasible interval is wide enough)
and audits the result. Every report table and ``kennzahlen`` read their hidden cells from it.

Cell ids are tuples ``(site, quantity, *keys)`` with ``site`` a ``standort_id`` or ``alle``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from analysis.contract.schema import ALL_SITES, CATEGORIES, MANIFEST, PATTERN_FOLDER
from analysis.data import Dataset
from analysis.errors import FhError
from analysis.protection.rules import DEFAULT_MIN_COUNT, is_small, round_to_five
from analysis.stores import load_json, store_json

if TYPE_CHECKING:  # the LP engine (scipy.optimize) is loaded only when a pattern is computed:
    # a run that reads every pattern from the cache starts without it
    from analysis.protection import audit as lp

Cell = tuple[Hashable, ...]

EK = "erstkontakte"
BIRTHS = "geburten"
WELCOME = "willkommensbesuche"
PHASE = "lebensphase"
PHASE_KNOWN = "lebensphase_bekannt"
CHILDREN_U3 = "kinder_u3"
ROUTE = "zugangsweg"
ROUTE_KNOWN = "zugangsweg_bekannt"
GROUP = "zugangsgruppe"
TARGET = "zielgruppe"
REFERRAL = "weitervermittlung"
RESPONSE = "reaktionszeit"
OFFER = "angebot"
OFFER_TOTAL = "angebote"
REFERRAL_TOTAL = "insgesamt"
OFFER_MEASURES = ("termine", "besuche", "teilnehmende")
SURVEY = "nutzerbefragung"
RATING = "bewertung"
RECOMMEND = "weiterempfehlung"
#: The grade counts of a rated item and the sum of grades a published mean reveals (mean x
#: n): linear in the counts, so the audit sees it. The interval rests on mean and n alone.
GRADE_KEYS = ("1", "2", "3", "4", "5")
RATING_SUM = "summe"


@dataclass(frozen=True)
class Publication:
    """The counts of one year's publication as a linear system (true values, unprotected)."""

    year: int
    values: dict[Cell, float]
    equations: list[dict[Cell, float]]
    published: frozenset[Cell]
    sites: tuple[str, ...]

    def linear(self, round_to_5: bool = False) -> lp.LinearPublication:
        """The system as a reader sees it; with rounding to 5, a published count is only
        known to lie within ±2 of its rounded value."""
        bounds: dict[Cell, tuple[float, float]] = {}
        if round_to_5:
            for cell in self.published:
                shown = round_to_five(self.values[cell])
                bounds[cell] = (max(0.0, shown - 2.0), shown + 2.0)
        from analysis.protection import audit as lp

        return lp.LinearPublication(
            values=self.values, equations=self.equations, published_bounds=bounds
        )


@dataclass(frozen=True)
class ProtectedPublication:
    """The protected result of one year: every cell's value, which are hidden, and why.

    Built by :func:`protect_publication`; stored beside the processed data so a report's
    trend reads earlier years' patterns without recomputing them (:func:`protected_year`).
    """

    year: int
    values: dict[Cell, float]
    published: frozenset[Cell]
    hidden: frozenset[Cell]
    primary: frozenset[Cell]
    min_count: int
    protection_level: float
    #: Summary of the audit: hidden cells checked, the narrowest interval found, seconds.
    audit: dict[str, Any] = field(default_factory=dict)

    def knows(self, cell: Cell) -> bool:
        return cell in self.values

    def is_hidden(self, cell: Cell) -> bool:
        return cell in self.hidden

    def value(self, cell: Cell) -> float | None:
        """The published value of a cell; ``None`` when hidden or not part of the system."""
        if cell in self.hidden:
            return None
        return self.values.get(cell)

    @property
    def published_hidden(self) -> frozenset[Cell]:
        """Hidden cells that a report or ``kennzahlen`` would otherwise show."""
        return frozenset(self.hidden & self.published)

    def to_json(self) -> dict[str, Any]:
        """The pattern as stored in ``geheimhaltung/<jahr>.json``.

        Every cell once, in the order of ``values``, grouped in runs of one site:
        ``[site, [[*keys, value, flags], ...]]`` with the flags 1 published, 2 hidden and
        4 primary. Listing published, hidden and primary cells separately repeated every
        cell id up to four times: at 300 sites the file was 4.1 MB and took 0.12 s to read,
        now 1.5 MB and 0.04 s (issue #11, P3: ``kennzahlen`` reads it on every call).
        """
        loose = (self.published | self.hidden | self.primary) - self.values.keys()
        if loose:
            raise ValueError(
                f"{len(loose)} Zellen des Musters ohne Wert, etwa {sorted(map(str, loose))[0]}"
            )
        runs: list[list[Any]] = []
        for cell, value in self.values.items():
            flags = (
                _PUBLISHED * (cell in self.published)
                | _HIDDEN * (cell in self.hidden)
                | _PRIMARY * (cell in self.primary)
            )
            if not runs or runs[-1][0] != cell[0]:
                runs.append([cell[0], []])
            runs[-1][1].append([*cell[1:], value, flags])
        return {
            "jahr": self.year,
            "mindestfallzahl": self.min_count,
            "schutzbereich": self.protection_level,
            "zellen": runs,
            "pruefung": self.audit,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProtectedPublication:
        values: dict[Cell, float] = {}
        published: list[Cell] = []
        hidden: list[Cell] = []
        primary: list[Cell] = []
        for site, rows in data["zellen"]:
            for *keys, value, flags in rows:
                cell = (site, *keys)
                values[cell] = value
                if flags & _PUBLISHED:
                    published.append(cell)
                if flags & _HIDDEN:
                    hidden.append(cell)
                if flags & _PRIMARY:
                    primary.append(cell)
        return cls(
            year=int(data["jahr"]),
            values=values,
            published=frozenset(published),
            hidden=frozenset(hidden),
            primary=frozenset(primary),
            min_count=int(data["mindestfallzahl"]),
            protection_level=float(data["schutzbereich"]),
            audit=dict(data.get("pruefung") or {}),
        )


#: The flags of a cell in the stored pattern (:meth:`ProtectedPublication.to_json`).
_PUBLISHED, _HIDDEN, _PRIMARY = 1, 2, 4


# --- building the system ---------------------------------------------------------------


def _site_cells(dataset: Dataset, site: str, year: int, land: str) -> dict[Cell, float]:
    """Every count of one site (or ``alle``) and year, computed by the indicator functions."""
    from analysis import data
    from analysis.indicators import access_routes, reach
    from analysis.indicators.catalogue import TARGET_GROUPS

    contacts = data.contacts_for(dataset, site, year)
    cells: dict[Cell, float] = {}
    n = reach.first_contacts(contacts)
    cells[(site, EK)] = n
    phases = reach.life_phase_counts(contacts)
    for code, count in phases.items():
        cells[(site, PHASE, code)] = count
    cells[(site, PHASE_KNOWN)] = n - phases["unbekannt"]
    routes = access_routes.route_counts(contacts)
    for code, count in routes.items():
        cells[(site, ROUTE, str(code))] = int(count)
    cells[(site, ROUTE_KNOWN)] = n - int(routes.get("unbekannt", 0))
    for group, count in access_routes.group_counts(contacts).items():
        cells[(site, GROUP, str(group))] = int(count)
    for group in TARGET_GROUPS:
        p = reach.target_group_share(contacts, group)
        cells[(site, TARGET, group, "ja")] = p.count
        cells[(site, TARGET, group, "bekannt")] = p.n
        cells[(site, TARGET, group, "nein")] = p.n - p.count
        cells[(site, TARGET, group, "unbekannt")] = n - p.n
    referrals = access_routes.onward_referral_rates(contacts)
    for group, row in referrals.iterrows():
        key = REFERRAL_TOTAL if group == "Insgesamt" else str(group)
        documented, referred = int(row["dokumentiert"]), int(row["weitervermittelt"])
        cells[(site, REFERRAL, key, "dokumentiert")] = documented
        cells[(site, REFERRAL, key, "ja")] = referred
        cells[(site, REFERRAL, key, "keine")] = documented - referred
        if key != REFERRAL_TOTAL:
            cells[(site, REFERRAL, key, "ohne_angabe")] = cells[(site, GROUP, key)] - documented
    rt = access_routes.response_time(contacts, land)
    within = rt.within_standard
    cells[(site, RESPONSE, "n")] = rt.n
    cells[(site, RESPONSE, "binnen_3")] = within
    cells[(site, RESPONSE, "spaeter")] = rt.n - within
    cells[(site, RESPONSE, "ohne_meldung")] = n - rt.n
    births = reach.births(dataset.table("bevoelkerung"), site, year)
    if births is not None:
        cells[(site, BIRTHS)] = births
    u3 = reach.children_under_3(dataset.table("bevoelkerung"), site, year)
    if u3 is not None:
        cells[(site, CHILDREN_U3)] = u3
    visits = reach.welcome_visits(dataset.table("willkommensbesuche"), site, year)
    if visits is not None:
        cells[(site, WELCOME)] = visits
    offers = reach.offer_table(data.offers_for(dataset, site, year))
    if offers is not None:
        for label, row in offers.iterrows():
            code = OFFER_TOTAL if label == reach.TOTAL_LABEL else _offer_code(str(label))
            for column, measure in zip(offers.columns, OFFER_MEASURES, strict=True):
                value = row[column]
                if pd.isna(value):
                    continue
                cell = (
                    (site, OFFER_TOTAL, measure)
                    if code == OFFER_TOTAL
                    else (site, OFFER, code, measure)
                )
                cells[cell] = int(value)
    cells.update(_survey_cells(dataset, site, year))
    return cells


def _survey_cells(dataset: Dataset, site: str, year: int) -> dict[Cell, float]:
    """Questionnaires, answers per grade and item, the sum of grades behind each mean, and
    the recommendation answers of one site (or ``alle``) and year."""
    from analysis import data
    from analysis.indicators import quality

    surveys = data.surveys_for(dataset, site, year)
    if surveys is None:
        return {}
    cells: dict[Cell, float] = {(site, SURVEY): quality.questionnaires(surveys)}
    for item in quality.ITEMS:
        s = quality.item_summary(surveys, item)
        for grade, count in s.counts.items():
            cells[(site, RATING, item, str(grade))] = count
        cells[(site, RATING, item, "ohne_angabe")] = s.no_answer
        cells[(site, RATING, item, "n")] = s.n
        cells[(site, RATING, item, RATING_SUM)] = s.total
    rec = quality.recommendation(surveys)
    cells[(site, RECOMMEND, "ja")] = rec.count
    cells[(site, RECOMMEND, "bekannt")] = rec.n
    cells[(site, RECOMMEND, "nein")] = rec.n - rec.count
    cells[(site, RECOMMEND, "unbekannt")] = cells[(site, SURVEY)] - rec.n
    return cells


def _survey_equations(site: str, values: Mapping[Cell, float]) -> list[dict[Cell, float] | None]:
    """What a reader of the survey tables knows: answers + no answer = questionnaires, the
    grades add up to the answers, and the sum of grades is their grade-weighted sum."""
    from analysis.indicators import quality

    eqs: list[dict[Cell, float] | None] = []
    for item in quality.ITEMS:
        r = (site, RATING, item)
        grades = [(*r, g) for g in GRADE_KEYS]
        eqs.append(_additive((site, SURVEY), [(*r, "n"), (*r, "ohne_angabe")], values))
        eqs.append(_additive((*r, "n"), grades, values))
        if all(c in values for c in [*grades, (*r, RATING_SUM)]):
            eqs.append({(*r, RATING_SUM): 1.0, **{c: -float(c[-1]) for c in grades}})
    w = (site, RECOMMEND)
    eqs.append(_additive((*w, "bekannt"), [(*w, "ja"), (*w, "nein")], values))
    eqs.append(_additive((site, SURVEY), [(*w, "bekannt"), (*w, "unbekannt")], values))
    return eqs


def _offer_code(label: str) -> str:
    category = CATEGORIES["angebot"]
    for code, text in category.labels.items():
        if text == label:
            return code
    return label


def _additive(
    total: Cell, parts: Iterable[Cell], values: Mapping[Cell, float]
) -> dict[Cell, float] | None:
    parts = [p for p in parts if p in values]
    if total not in values or not parts:
        return None
    from analysis.protection import audit as lp

    return lp.additive(total, parts)


def _site_equations(site: str, values: Mapping[Cell, float]) -> list[dict[Cell, float]]:
    """Parts add up to totals within one site: what a reader of one report can use."""
    from analysis.indicators.catalogue import TARGET_GROUPS

    ek = (site, EK)
    route = CATEGORIES["zugangsweg"]
    eqs: list[dict[Cell, float] | None] = [
        _additive(ek, [(site, PHASE, c) for c in CATEGORIES["lebensphase_kind"].codes], values),
        _additive(
            (site, PHASE_KNOWN),
            [(site, PHASE, c) for c in CATEGORIES["lebensphase_kind"].codes if c != "unbekannt"],
            values,
        ),
        _additive(ek, [(site, ROUTE, c) for c in route.codes], values),
        _additive(
            (site, ROUTE_KNOWN), [(site, ROUTE, c) for c in route.codes if c != "unbekannt"], values
        ),
        _additive(ek, [(site, GROUP, g) for g in route.group_names], values),
        _additive(ek, [(site, RESPONSE, "n"), (site, RESPONSE, "ohne_meldung")], values),
        _additive(
            (site, RESPONSE, "n"),
            [(site, RESPONSE, "binnen_3"), (site, RESPONSE, "spaeter")],
            values,
        ),
    ]
    for group in route.group_names:
        eqs.append(
            _additive(
                (site, GROUP, group),
                [(site, ROUTE, c) for c, g in route.groups.items() if g == group],
                values,
            )
        )
        eqs.append(
            _additive(
                (site, GROUP, group),
                [(site, REFERRAL, group, "dokumentiert"), (site, REFERRAL, group, "ohne_angabe")],
                values,
            )
        )
    for key in [*route.group_names, REFERRAL_TOTAL]:
        eqs.append(
            _additive(
                (site, REFERRAL, key, "dokumentiert"),
                [(site, REFERRAL, key, "ja"), (site, REFERRAL, key, "keine")],
                values,
            )
        )
    for part in ("dokumentiert", "ja"):
        eqs.append(
            _additive(
                (site, REFERRAL, REFERRAL_TOTAL, part),
                [(site, REFERRAL, g, part) for g in route.group_names],
                values,
            )
        )
    for group in TARGET_GROUPS:
        t = (site, TARGET, group)
        eqs.append(_additive((*t, "bekannt"), [(*t, "ja"), (*t, "nein")], values))
        eqs.append(_additive(ek, [(*t, "bekannt"), (*t, "unbekannt")], values))
    for measure in OFFER_MEASURES:
        eqs.append(
            _additive(
                (site, OFFER_TOTAL, measure),
                [(site, OFFER, c, measure) for c in CATEGORIES["angebot"].codes],
                values,
            )
        )
    eqs.extend(_survey_equations(site, values))
    return [e for e in eqs if e]


# Quantities that add up over the sites to the all-sites value (first-contact and offer
# counts; births and welcome visits of ``alle`` are the municipality row, not a sum).
_NOT_ADDITIVE = {BIRTHS, WELCOME, CHILDREN_U3}


def build_publication(dataset: Dataset, year: int, *, land: str = "NW") -> Publication:
    """Every count published for ``year``, for each site with data or a report and for all
    sites, with the additive equations within a site and across sites."""
    from analysis import data

    contacts = data.contacts_for(dataset, ALL_SITES, year)
    # The sites open in the year (and any with data in it): a site opened later is no part
    # of this year's publication, so the pattern does not change when later data arrive.
    sites = {s for s, y in data.site_years(dataset) if y == year}
    sites.update(str(s) for s in contacts["standort_id"].dropna().unique())
    offers = data.offers_for(dataset, ALL_SITES, year)
    if offers is not None:
        sites.update(str(s) for s in offers["standort_id"].dropna().unique())
    surveys = data.surveys_for(dataset, ALL_SITES, year)
    if surveys is not None:
        sites.update(str(s) for s in surveys["standort_id"].dropna().unique())
    ordered = tuple(sorted(sites))
    values: dict[Cell, float] = {}
    for site in (*ordered, ALL_SITES):
        values.update(_site_cells(dataset, site, year, land))
    equations: list[dict[Cell, float]] = []
    for site in (*ordered, ALL_SITES):
        equations.extend(_site_equations(site, values))
    for cell in [c for c in values if c[0] == ALL_SITES and c[1] not in _NOT_ADDITIVE]:
        parts = [(s, *cell[1:]) for s in ordered]
        eq = _additive(cell, parts, values)
        if eq is not None:
            equations.append(eq)
    # Hidden-from-the-start quantities: the complements no table shows directly.
    unpublished = {"nein", "unbekannt", "keine", "ohne_angabe", "spaeter", "ohne_meldung"}
    published = frozenset(
        c
        for c in values
        if not (c[1] in (TARGET, REFERRAL, RESPONSE) and c[-1] in unpublished)
        and not (c[1] == RECOMMEND and c[-1] == "nein")
    )
    return Publication(year, values, equations, published, ordered)


#: Published sums of published cells that are no cell of their own (a new cell would change the
#: pattern without protecting anything): shown only when every part is shown.
DERIVED_SUMS: dict[str, tuple[str, ...]] = {
    "reichweite.kind_unter_1_je_geburt": (
        "reichweite.lebensphase.m0_6",
        "reichweite.lebensphase.m6_12",
    ),
}


def derived_cells(site: str) -> dict[str, list[Cell]]:
    """Report rows that show a sum of phases: the cells they rest on (hidden if any is)."""
    return {"kind_unter_1": [(site, PHASE, "m0_6"), (site, PHASE, "m6_12")]}


def indicator_cells(site: str) -> dict[str, Cell]:
    """``kennzahlen`` path -> the publication cell it shows (a share: the count it reveals,
    share x published denominator)."""
    from analysis.indicators.catalogue import TARGET_GROUPS

    route = CATEGORIES["zugangsweg"]
    out: dict[str, Cell] = {
        "reichweite.erstkontakte": (site, EK),
        "reichweite.geburten": (site, BIRTHS),
        "reichweite.besuche": (site, OFFER_TOTAL, "besuche"),
        "reichweite.termine": (site, OFFER_TOTAL, "termine"),
        "reichweite.willkommensbesuche": (site, WELCOME),
        "reichweite.kinder_u3": (site, CHILDREN_U3),
        "reichweite.schwangerschaft.n_bekannt": (site, PHASE_KNOWN),
        "zugangswege.reaktionszeit.n": (site, RESPONSE, "n"),
        "zugangswege.reaktionszeit.quote_binnen_3_werktagen": (site, RESPONSE, "binnen_3"),
    }
    for group in TARGET_GROUPS:
        out[f"reichweite.zielgruppen.{group}.n_bekannt"] = (site, TARGET, group, "bekannt")
        out[f"reichweite.zielgruppen.{group}.anteil"] = (site, TARGET, group, "ja")
    for code in CATEGORIES["lebensphase_kind"].codes:
        out[f"reichweite.lebensphase.{code}"] = (site, PHASE, code)
    for code in route.codes:
        out[f"zugangswege.anzahl.{code}"] = (site, ROUTE, code)
        out[f"zugangswege.anteile.{code}"] = (site, ROUTE, code)
    for group in route.group_names:
        out[f"zugangswege.gruppen.{group}"] = (site, GROUP, group)
    from analysis.indicators import quality

    feedback = "qualitaet.rueckmeldungen"
    out[f"{feedback}.frageboegen"] = (site, SURVEY)
    for item in quality.ITEMS:
        r = (site, RATING, item)
        path = f"{feedback}.bewertungen.{item}"
        out[f"{path}.n"] = (*r, "n")
        out[f"{path}.ohne_angabe"] = (*r, "ohne_angabe")
        # A mean times its published n is the sum of grades; its interval follows from both.
        for key in ("mittelwert", "untergrenze", "obergrenze"):
            out[f"{path}.{key}"] = (*r, RATING_SUM)
    out[f"{feedback}.weiterempfehlung.n_bekannt"] = (site, RECOMMEND, "bekannt")
    out[f"{feedback}.weiterempfehlung.anteil"] = (site, RECOMMEND, "ja")
    return out


# --- protecting it ---------------------------------------------------------------------


def _weight(cell: Cell, value: float) -> float:
    # The information lost by hiding a cell grows with its value (tau-ARGUS' default cost);
    # first contacts and all-sites cells carry the headline figures and cost more.
    weight = 1.0 + value
    if cell[1] == EK:
        weight *= 4
    # A mean needs its n and its sum of grades: kept before the number of questionnaires,
    # which is kept before single grade counts and answers left blank.
    if cell[1] == RATING and cell[-1] in ("n", RATING_SUM):
        weight *= 8
    if cell[1] == SURVEY:
        weight *= 2
    if cell[0] == ALL_SITES:
        weight *= 2
    return weight


def _small_means(values: Mapping[Cell, float], min_count: int) -> frozenset[Cell]:
    """The sum of grades behind a mean from fewer answers than the minimum: primary, like
    the answers themselves (a mean of fewer than the minimum is not shown)."""
    return frozenset(
        c
        for c in values
        if c[1] == RATING
        and c[-1] == RATING_SUM
        and is_small(values.get((*c[:-1], "n")), min_count)
    )


def protect_publication(
    pub: Publication,
    min_count: int = DEFAULT_MIN_COUNT,
    protection_level: float | None = None,
    round_to_5: bool = False,
) -> ProtectedPublication:
    """Hide every small count of the year (published or not) and enough other cells that
    none of them can be narrowed down to less than ``protection_level`` either side."""
    level = float(min_count if protection_level is None else protection_level)
    # Sessions held (Termine) count no persons: never primary (like money).
    primary = frozenset(
        c for c, v in pub.values.items() if is_small(v, min_count) and c[-1] != "termine"
    ) | _small_means(pub.values, min_count)
    from analysis.protection import audit as lp

    unpublished = frozenset(pub.values) - pub.published
    linear = pub.linear(round_to_5)
    weights = {c: _weight(c, v) for c, v in pub.values.items()}
    try:
        hidden = lp.protect(linear, primary, level, weights=weights, already_hidden=unpublished)
    except lp.ProtectionError as exc:
        raise FhError(
            f"Geheimhaltung {pub.year}: kein sicheres Muster gefunden – {exc}. "
            "Das Jahr wird nicht veröffentlicht."
        ) from exc
    started = time.perf_counter()
    result = lp.audit(linear, hidden, primary, level, sensitive_only=True)
    seconds = time.perf_counter() - started
    if not result.ok:
        first = result.failures[0]
        raise FhError(
            f"Geheimhaltung {pub.year}: Prüfung fehlgeschlagen für {describe(first.cell)} "
            f"(vereinbar sind Werte von {first.lower:g} bis {first.upper:g}, verlangt "
            f"{first.required_lower:g} bis {first.required_upper:g}). "
            "Das Jahr wird nicht veröffentlicht."
        )
    widths = [f.upper - f.lower for f in result.findings.values() if f.sensitive]
    return ProtectedPublication(
        year=pub.year,
        values=dict(pub.values),
        published=pub.published,
        hidden=frozenset(hidden),
        primary=primary,
        min_count=min_count,
        protection_level=level,
        audit={
            "geprueft": len(result.findings),
            "kleine_zahlen": len(primary),
            "engstes_intervall": min(widths) if widths else None,
            "sekunden": round(seconds, 3),
        },
    )


def describe(cell: Cell) -> str:
    """A cell in German words for messages: ``Standort rheindorf, zugangsweg jobcenter``."""
    site, *rest = cell
    where = "alle Standorte" if site == ALL_SITES else f"Standort {site}"
    return f"{where}, {' '.join(str(r) for r in rest)}"


_CACHE: dict[tuple[Any, ...], ProtectedPublication] = {}
#: Folder beside the processed data where each year's protected pattern is kept.
CACHE_FOLDER = PATTERN_FOLDER


#: Content hash per processed file, by path, inode, size, modification and change time:
#: hashing stays cheap when many reports of one process ask for the patterns of many years.
#: The change time cannot be set back (``touch -r`` and ``cp -p`` set only the modification
#: time); a file changed within the last 2 s is hashed again (coarse file system clocks).
_FILE_HASHES: dict[tuple[str, int, int, int, int], str] = {}


def _data_state(folder: Path) -> list[list[str]]:
    """Name and SHA-256 of every Parquet file of the processed data.

    The content, not the modification time: ``make berichte`` runs ``aufbereiten`` again,
    which rewrites the same bytes (the Parquet output is deterministic), and the patterns of
    every year must stay valid then. A hand edit of a Parquet file still changes the key.
    """
    from analysis.checksums import sha256_file

    state = []
    for path in sorted(p for p in folder.glob("*.parquet") if p.is_file()):
        stat = path.stat()
        memo = (str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
        if memo not in _FILE_HASHES or time.time_ns() - stat.st_ctime_ns < 2 * 10**9:
            _FILE_HASHES[memo] = sha256_file(path)
        state.append([path.name, _FILE_HASHES[memo]])
    return state


#: Manifest entries that change with a run of ``aufbereiten`` without changing a number: the
#: time stamp, the raw-data path and the reference day (rows it rejects show in the files).
_NOT_IN_KEY = ("erstellt", "rohdaten", "stichtag")


def _cache_key(dataset: Dataset, config: Any) -> dict[str, Any]:
    from analysis.checksums import package_source_sha256

    manifest = {k: v for k, v in dataset.manifest.items() if k not in _NOT_IN_KEY}
    return {
        "manifest": manifest,
        "dateien": _data_state(dataset.folder),
        "mindestfallzahl": config.min_count,
        "schutzbereich": config.protection_level,
        "bundesland": config.land,
        "runden_auf_5": config.round_to_5,
        "programm_sha256": package_source_sha256(),
    }


def protected_year(dataset: Dataset, year: int, config: Any) -> ProtectedPublication:
    """The protected publication of ``year`` for this dataset and configuration.

    Decided once: kept in memory for the process and as ``geheimhaltung/<jahr>.json`` beside
    the processed data (valid for the same data, configuration and program code), so every
    report, every trend and ``kennzahlen`` read the same pattern without recomputing it.
    """
    key = _cache_key(dataset, config)
    memo = (str(dataset.folder), id(dataset), year, json.dumps(key, sort_keys=True))
    if memo in _CACHE:
        return _CACHE[memo]
    path = dataset.folder / CACHE_FOLDER / f"{year}.json"
    # Only a real processed folder (with its manifest) keeps patterns; a dataset built in
    # memory (tests, exploration) must not leave files in the working directory.
    on_disk = (dataset.folder / MANIFEST).is_file()
    result = None
    stored = load_json(path) if on_disk else None
    try:
        if isinstance(stored, dict) and stored.get("schluessel") == key:
            result = ProtectedPublication.from_json(stored["muster"])
    except (ValueError, KeyError, TypeError, AttributeError):  # a pattern not of ours
        result = None
    if result is None:
        pub = build_publication(dataset, year, land=config.land)
        result = protect_publication(
            pub, config.min_count, config.protection_level, config.round_to_5
        )
        if on_disk:
            store_json(path, {"schluessel": key, "muster": result.to_json()})
    _CACHE[memo] = result
    return result
