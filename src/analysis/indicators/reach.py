"""Reichweite: Erstkontakte, Geburten, Erreichungsquote, Willkommensbesuche, Angebote,
Zeitpunkt des Erstkontakts und Zielgruppen, je Standort und Jahr und für alle Standorte.

One function per indicator of the catalogue (``indicators.py``, ``function`` fields) plus
the table builders the report notebooks call in one line. Pure: frames in, values out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analysis import data
from analysis.config import Baseline
from analysis.contract.schema import CATEGORIES, GESAMT
from analysis.data import ALL_SITES, Dataset
from analysis.indicators.catalogue import TARGET_GROUPS
from analysis.indicators.catalogue import label as indicator_label
from analysis.indicators.stats import Proportion, wilson_interval
from analysis.protection.rules import ProtectedTable, Share, protect_table

#: Age groups that count as "mother under 20" (our cut; KiD 0–3 uses 21 or younger).
MOTHER_UNDER_20 = ("unter_18", "a18_19")
#: The jn column behind each target group (``mutter_unter_20`` is derived from the age group).
TARGET_GROUP_COLUMNS: dict[str, str] = {
    "alleinerziehend": "alleinerziehend",
    "sgb2_bezug": "sgb2_bezug",
    "migrationshintergrund": "migrationshintergrund",
    "mutter_unter_20": "altersgruppe_mutter",
}
PREGNANCY = "schwangerschaft"
TOTAL_LABEL = "Insgesamt"


# --- indicators -------------------------------------------------------------------------------
def ratio(count: int, n: int | None) -> Proportion:
    """``count / n`` with a Wilson 95 % interval; share ``None`` when ``n`` is missing or 0.

    A ratio above 1 (more contacts than births in a small catchment) keeps its value but has
    no interval, because it is not a share of the denominator.
    """
    if n is None or n <= 0:
        return Proportion(int(count), 0 if n is None else int(n), None, None, None)
    if count > n:
        return Proportion(int(count), int(n), count / n, None, None)
    return wilson_interval(int(count), int(n))


def first_contacts(contacts: pd.DataFrame) -> int:
    """Zahl der Erstkontakte in der (bereits nach Standort und Jahr gewählten) Tabelle."""
    return len(contacts)


def births(bevoelkerung: pd.DataFrame | None, site: str, year: int) -> int | None:
    """Geburten für Jahr und Gebiet laut ``bevoelkerung``; ``alle``: Zeile gesamt, sonst Summe
    über die Standorte. ``None`` ohne Tabelle oder ohne passende Zeile."""
    value = data.area_value(bevoelkerung, "geburten", site, year)
    return None if value is None else int(value)


def birth_definition(dataset: Dataset, site: str, year: int) -> str | None:
    """German sentence saying which births a reach rate refers to (``None`` when there are none)."""
    frame = dataset.table("bevoelkerung")
    if births(frame, site, year) is None or frame is None:
        return None
    rows = data.area_rows(frame, site, year)
    if site == ALL_SITES and (rows["gebiet"] == GESAMT).any():
        area = "in der gesamten Kommune (Zeile „gesamt“)"
    elif site == ALL_SITES:
        area = "in den Einzugsgebieten aller Standorte (Summe, keine Zeile „gesamt“)"
    else:
        area = f"im Einzugsgebiet des Standorts {dataset.site_name(site)}"
    files = data.table_files(dataset, "bevoelkerung")
    source = f" (Quelle: {', '.join(files)})" if files else ""
    return f"Geburten des Jahres {year} {area} laut Tabelle bevoelkerung{source}."


def reach_rate(first_contacts: int, births: int | None) -> Proportion:
    """Erreichungsquote: Erstkontakte je Geburt mit Wilson-95-%-Intervall.

    Ein Verhältnis, kein Kohortenanteil: Erstkontakte eines Jahres betreffen Schwangere und
    Kinder bis 3 Jahre, nicht nur den Geburtsjahrgang (siehe docs/annahmen.md).
    """
    return ratio(first_contacts, births)


def offer_totals(offers: pd.DataFrame | None) -> dict[str, int | None]:
    """Summen der Angebotsstatistik: ``besuche``, ``termine``, ``teilnehmende``.

    ``None`` je Wert ohne Tabelle ``angebote``; 0 ohne Zeilen; ``termine``/``teilnehmende``
    sind ``None``, wenn vorhandene Zeilen keine solche Angabe haben.
    """
    if offers is None:
        return {"besuche": None, "termine": None, "teilnehmende": None}
    out: dict[str, int | None] = {"besuche": int(offers["besuche"].sum())}
    for column in ("termine", "teilnehmende"):
        present = offers[column].dropna()
        out[column] = int(present.sum()) if len(present) or offers.empty else None
    return out


def welcome_visits(willkommensbesuche: pd.DataFrame | None, site: str, year: int) -> int | None:
    """Durchgeführte Willkommensbesuche für Jahr und Gebiet (``alle``: Zeile gesamt, sonst
    Summe über die Standorte); ``None`` ohne Tabelle oder ohne Zeile."""
    value = data.area_value(willkommensbesuche, "besuche", site, year)
    return None if value is None else int(value)


def welcome_visit_rate(visits: int | None, births: int | None) -> Proportion:
    """Willkommensbesuche je Geburt desselben Gebiets und Jahres (Wilson-Intervall)."""
    if visits is None:
        return Proportion(0, 0 if births is None else births, None, None, None)
    return ratio(visits, births)


def _known_and_yes(contacts: pd.DataFrame, group: str) -> tuple[int, int]:
    column = TARGET_GROUP_COLUMNS[group]
    values = contacts[column]
    known = (values.notna() & (values != "unbekannt")).fillna(False).astype(bool)
    if group == "mutter_unter_20":
        yes = known & values.isin(MOTHER_UNDER_20)
    else:
        yes = known & (values == "ja")
    return int(yes.sum()), int(known.sum())


def target_group_share(contacts: pd.DataFrame, group: str) -> Proportion:
    """Anteil einer Zielgruppe unter den Erstkontakten mit bekannter Angabe (Wilson-Intervall).

    ``group`` ist ``alleinerziehend``, ``sgb2_bezug``, ``migrationshintergrund`` oder
    ``mutter_unter_20`` (Altersgruppe unter_18 oder a18_19 unter allen nicht unbekannten).
    """
    if group not in TARGET_GROUP_COLUMNS:
        raise KeyError(f"unknown target group {group}")
    yes, known = _known_and_yes(contacts, group)
    return wilson_interval(yes, known)


def life_phase_counts(contacts: pd.DataFrame) -> dict[str, int]:
    """Erstkontakte nach Lebensphase des Kindes; jede Phase erscheint, auch mit 0."""
    phases = contacts["lebensphase_kind"]
    counts = phases.value_counts()
    missing = int(phases.isna().sum())  # cannot happen after ingest; counted as unbekannt
    out = {code: int(counts.get(code, 0)) for code in CATEGORIES["lebensphase_kind"].codes}
    out["unbekannt"] += missing
    return out


def pregnancy_share(contacts: pd.DataFrame) -> Proportion:
    """Anteil der in der Schwangerschaft erreichten Familien unter den Erstkontakten mit
    bekannter Lebensphase (Wilson-Intervall)."""
    counts = life_phase_counts(contacts)
    known = sum(v for k, v in counts.items() if k != "unbekannt")
    return wilson_interval(counts[PREGNANCY], known)


# --- baselines --------------------------------------------------------------------------------
def local_baselines(bevoelkerung: pd.DataFrame | None, site: str, year: int) -> dict[str, Baseline]:
    """Population baselines from the local table ``bevoelkerung`` for area and year.

    Only SGB II is there: children under 3 in SGB II receipt / children under 3.
    """
    u3 = data.area_value(bevoelkerung, "kinder_u3", site, year)
    u3_sgb2 = data.area_value(bevoelkerung, "kinder_u3_sgb2", site, year)
    if not u3 or u3_sgb2 is None:
        return {}
    area = "Kommune" if site == ALL_SITES else f"Gebiet {site}"
    return {
        "sgb2_bezug": Baseline(
            anteil=float(u3_sgb2) / float(u3),
            quelle=f"Tabelle bevoelkerung {year}, {area}: Kinder unter 3 im SGB-II-Bezug "
            "je Kind unter 3 (Kinder, nicht Familien)",
        )
    }


def baselines_for(
    configured: Mapping[str, Baseline], bevoelkerung: pd.DataFrame | None, site: str, year: int
) -> dict[str, Baseline]:
    """The baseline per target group: a local ``bevoelkerung`` value, else the configured one."""
    out = dict(configured)
    out.update(local_baselines(bevoelkerung, site, year))
    return out


def representation_ratio(share: float | None, baseline: Baseline | None) -> float | None:
    """Anteil in den Erstkontakten / Anteil in der Bevölkerung (> 1: überrepräsentiert)."""
    if share is None or baseline is None or baseline.anteil <= 0:
        return None
    return share / baseline.anteil


def baseline_note(group: str, baseline: Baseline | None) -> str | None:
    """German caveat when a baseline is not defined like our target group (else ``None``)."""
    if baseline is None:
        return None
    if group == "mutter_unter_20" and "21" in baseline.quelle:
        return (
            "Andere Altersgrenze: der Vergleichswert zählt Mütter bis 21 Jahre, wir unter 20; "
            "das Verhältnis unterschätzt die Repräsentation eher."
        )
    if group == "sgb2_bezug" and baseline.quelle.startswith("Tabelle bevoelkerung"):
        return (
            "Vergleichswert zählt Kinder unter 3 im SGB-II-Bezug, die Erstkontakte zählen "
            "Familien; Familien mit mehreren kleinen Kindern wiegen im Vergleichswert stärker."
        )
    return None


# --- figures of one site and year ---------------------------------------------------------------
@dataclass(frozen=True)
class ReachFigures:
    """Every reach figure of one site (or ``alle``) and year, with intervals."""

    site: str
    year: int
    first_contacts: int
    births: int | None
    reach_rate: Proportion
    offers: dict[str, int | None]
    welcome_visits: int | None
    welcome_visit_rate: Proportion
    target_groups: dict[str, Proportion]
    life_phases: dict[str, int]
    pregnancy: Proportion


def figures(dataset: Dataset, site: str, year: int) -> ReachFigures:
    """Compute every reach figure for one site (or ``alle``) and year."""
    contacts = data.contacts_for(dataset, site, year)
    n_contacts = first_contacts(contacts)
    n_births = births(dataset.table("bevoelkerung"), site, year)
    visits = welcome_visits(dataset.table("willkommensbesuche"), site, year)
    return ReachFigures(
        site=site,
        year=year,
        first_contacts=n_contacts,
        births=n_births,
        reach_rate=reach_rate(n_contacts, n_births),
        offers=offer_totals(data.offers_for(dataset, site, year)),
        welcome_visits=visits,
        welcome_visit_rate=welcome_visit_rate(visits, n_births),
        target_groups={g: target_group_share(contacts, g) for g in TARGET_GROUPS},
        life_phases=life_phase_counts(contacts),
        pregnancy=pregnancy_share(contacts),
    )


def reach_block(dataset: Dataset, *, site: str, year: int) -> dict[str, Any]:
    """The ``reichweite`` block of ``kennzahlen`` exactly as the specification lays it out."""
    f = figures(dataset, site, year)
    return {
        "erstkontakte": f.first_contacts,
        "geburten": f.births,
        "erreichungsquote": f.reach_rate.share,
        "besuche": f.offers["besuche"],
        "termine": f.offers["termine"],
        "willkommensbesuche": f.welcome_visits,
        "willkommensbesuch_quote": f.welcome_visit_rate.share,
        "zielgruppen": {
            g: {"anteil": p.share, "n_bekannt": p.n} for g, p in f.target_groups.items()
        },
        "lebensphase": dict(f.life_phases),
    }


# --- tables for reports and notebooks -------------------------------------------------------------
def offer_table(offers: pd.DataFrame | None) -> pd.DataFrame | None:
    """Termine, Besuche und teilnehmende Familien je Angebotsart, mit Zeile „Insgesamt“.

    Only offer types that occur are listed. ``None`` without table ``angebote``. Families
    are summed over rows; with monthly rows a family counts once per month.
    """
    if offers is None:
        return None
    category = CATEGORIES["angebot"]
    rows = []
    for code in category.codes:
        part = offers.loc[(offers["angebot"] == code).fillna(False).astype(bool)]
        if part.empty:
            continue
        totals = offer_totals(part)
        rows.append(
            {
                "Angebotsart": category.label(code),
                "Termine": totals["termine"],
                "Besuche": totals["besuche"],
                "Teilnehmende Familien": totals["teilnehmende"],
            }
        )
    totals = offer_totals(offers)
    rows.append(
        {
            "Angebotsart": TOTAL_LABEL,
            "Termine": totals["termine"],
            "Besuche": totals["besuche"],
            "Teilnehmende Familien": totals["teilnehmende"],
        }
    )
    table = pd.DataFrame(rows).set_index("Angebotsart")
    return table.astype(pd.Int64Dtype())


def timing_table(contacts: pd.DataFrame) -> pd.DataFrame:
    """Erstkontakte nach Lebensphase des Kindes (Anzahl, Anteil an allen), mit „Insgesamt“."""
    counts = life_phase_counts(contacts)
    total = sum(counts.values())
    category = CATEGORIES["lebensphase_kind"]
    rows = [
        {
            "Lebensphase": category.label(code),
            "Erstkontakte": n,
            "Anteil": n / total if total else None,
        }
        for code, n in counts.items()
    ]
    rows.append(
        {"Lebensphase": TOTAL_LABEL, "Erstkontakte": total, "Anteil": 1.0 if total else None}
    )
    table = pd.DataFrame(rows).set_index("Lebensphase")
    return table.astype({"Erstkontakte": pd.Int64Dtype(), "Anteil": "float64"})


def target_group_table(
    contacts: pd.DataFrame,
    baselines: Mapping[str, Baseline] | None = None,
) -> pd.DataFrame:
    """Zielgruppenanteile mit Wilson-Intervall, Vergleichswert und Repräsentationsverhältnis.

    ``baselines`` per target group, e.g. ``baselines_for(config.baselines, bevoelkerung, site, year)``.
    """
    rows = []
    for group in TARGET_GROUPS:
        p = target_group_share(contacts, group)
        base = (baselines or {}).get(group)
        rows.append(
            {
                "Zielgruppe": indicator_label(f"reichweite.zielgruppen.{group}.anteil"),
                "Angabe bekannt": p.n,
                "Davon Zielgruppe": p.count,
                "Anteil": p.share,
                "Untergrenze": p.lower,
                "Obergrenze": p.upper,
                "Vergleichswert": base.anteil if base else None,
                "Quelle des Vergleichswerts": base.quelle if base else None,
                "Repräsentation": representation_ratio(p.share, base),
                "Hinweis": baseline_note(group, base),
            }
        )
    table = pd.DataFrame(rows).set_index("Zielgruppe")
    return table.astype(
        {
            "Angabe bekannt": pd.Int64Dtype(),
            "Davon Zielgruppe": pd.Int64Dtype(),
            "Anteil": "float64",
            "Untergrenze": "float64",
            "Obergrenze": "float64",
            "Vergleichswert": "float64",
            "Repräsentation": "float64",
        }
    )


def _figure_row(f: ReachFigures) -> dict[str, Any]:
    return {
        "Erstkontakte": f.first_contacts,
        "Geburten": f.births,
        "Erreichungsquote": f.reach_rate.share,
        "Untergrenze": f.reach_rate.lower,
        "Obergrenze": f.reach_rate.upper,
        "Willkommensbesuche": f.welcome_visits,
        "Willkommensbesuch-Quote": f.welcome_visit_rate.share,
        "Besuche": f.offers["besuche"],
        "Termine": f.offers["termine"],
        "Erreicht in der Schwangerschaft": f.pregnancy.count,
        "Lebensphase bekannt": f.pregnancy.n,
        "Anteil Schwangerschaft": f.pregnancy.share,
    }


_COUNT_COLUMNS = (
    "Erstkontakte",
    "Geburten",
    "Willkommensbesuche",
    "Besuche",
    "Termine",
    "Erreicht in der Schwangerschaft",
    "Lebensphase bekannt",
)


def _typed(rows: list[dict[str, Any]], index: str) -> pd.DataFrame:
    table = pd.DataFrame(rows).set_index(index)
    return table.astype(
        {c: (pd.Int64Dtype() if c in _COUNT_COLUMNS else "float64") for c in table.columns}
    )


def _default_years(dataset: Dataset, site: str) -> list[int]:
    if site == ALL_SITES:
        return list(dataset.site_data_years or dataset.years)
    return [y for _, y in data.site_years(dataset, [site])]


def trend_table(dataset: Dataset, site: str, years: Iterable[int] | None = None) -> pd.DataFrame:
    """Reichweite über die Jahre für einen Standort (oder ``alle``), eine Zeile je Jahr.

    Default years: those the site was open (``data.site_years``); for ``alle`` every year
    with site data (``Dataset.site_data_years``). Target groups over the years: :func:`target_group_trend`.
    """
    if years is None:
        years = _default_years(dataset, site)
    rows = [{"Jahr": y, **_figure_row(figures(dataset, site, y))} for y in years]
    if not rows:
        return _typed([{"Jahr": 0, **_figure_row(figures(dataset, site, 0))}], "Jahr").iloc[0:0]
    return _typed(rows, "Jahr")


def sites_table(dataset: Dataset, year: int) -> pd.DataFrame:
    """Reichweite eines Jahres je geöffnetem Standort und für alle Standorte zusammen."""
    open_sites = [s for s, y in data.site_years(dataset) if y == year]
    rows = [
        {"Standort": dataset.site_name(s), **_figure_row(figures(dataset, s, year))}
        for s in open_sites
    ]
    rows.append(
        {"Standort": dataset.site_name(ALL_SITES), **_figure_row(figures(dataset, ALL_SITES, year))}
    )
    return _typed(rows, "Standort")


def target_group_trend(
    dataset: Dataset, site: str, years: Iterable[int] | None = None
) -> pd.DataFrame:
    """Zielgruppenanteile über die Jahre (Zeilen: Jahr × Zielgruppe) mit Wilson-Intervall."""
    if years is None:
        years = _default_years(dataset, site)
    rows = []
    for year in years:
        contacts = data.contacts_for(dataset, site, year)
        for group in TARGET_GROUPS:
            p = target_group_share(contacts, group)
            rows.append(
                {
                    "Jahr": year,
                    "Zielgruppe": indicator_label(f"reichweite.zielgruppen.{group}.anteil"),
                    "Angabe bekannt": p.n,
                    "Davon Zielgruppe": p.count,
                    "Anteil": p.share,
                    "Untergrenze": p.lower,
                    "Obergrenze": p.upper,
                }
            )
    columns = [
        "Jahr",
        "Zielgruppe",
        "Angabe bekannt",
        "Davon Zielgruppe",
        "Anteil",
        "Untergrenze",
        "Obergrenze",
    ]
    table = pd.DataFrame(rows, columns=columns).set_index(["Jahr", "Zielgruppe"])
    return table.astype(
        {
            "Angabe bekannt": pd.Int64Dtype(),
            "Davon Zielgruppe": pd.Int64Dtype(),
            "Anteil": "float64",
            "Untergrenze": "float64",
            "Obergrenze": "float64",
        }
    )


# --- one-line calls for notebooks -----------------------------------------------------------------
def offers(dataset: Dataset, site: str, year: int) -> pd.DataFrame | None:
    """Angebote je Art für Standort und Jahr (``None`` ohne Tabelle angebote)."""
    return offer_table(data.offers_for(dataset, site, year))


def timing(dataset: Dataset, site: str, year: int) -> pd.DataFrame:
    """Lebensphase des Kindes beim Erstkontakt für Standort und Jahr."""
    return timing_table(data.contacts_for(dataset, site, year))


def target_groups(
    dataset: Dataset, site: str, year: int, configured: Mapping[str, Baseline] | None = None
) -> pd.DataFrame:
    """Zielgruppen für Standort und Jahr, verglichen mit dem lokalen Wert aus bevoelkerung
    oder sonst dem konfigurierten Vergleichswert (``config.baselines``)."""
    baselines = baselines_for(configured or {}, dataset.table("bevoelkerung"), site, year)
    return target_group_table(data.contacts_for(dataset, site, year), baselines)


# --- confidentiality for the tables of this module ---------------------------------------------------
#: Count columns of the tables above that are counts of persons/visits (not Termine: sessions).
PROTECTED_COUNTS = (
    "Erstkontakte",
    "Geburten",
    "Willkommensbesuche",
    "Besuche",
    "Teilnehmende Familien",
    "Erreicht in der Schwangerschaft",
    "Lebensphase bekannt",
    "Angabe bekannt",
    "Davon Zielgruppe",
)
#: Share columns and the counts they rest on.
SHARE_SOURCES: dict[str, Share] = {
    "Erreichungsquote": Share("Erstkontakte", "Geburten"),
    "Willkommensbesuch-Quote": Share("Willkommensbesuche", "Geburten"),
    "Anteil Schwangerschaft": Share("Erreicht in der Schwangerschaft", "Lebensphase bekannt"),
    "Repräsentation": Share("Davon Zielgruppe", "Angabe bekannt"),
}
TOTAL_ROWS = (TOTAL_LABEL, "Alle Standorte")


def protect(table: pd.DataFrame, min_count: int, round_to_5: bool = False) -> ProtectedTable:
    """Apply the confidentiality rule to any table built in this module.

    Knows its count columns, which share (and interval) columns rest on which counts and
    its total row (``Insgesamt`` / ``Alle Standorte``), so a notebook writes
    ``reach.protect(reach.timing(ds, site, year), config.min_count, config.round_to_5)``.
    """
    counts = [c for c in PROTECTED_COUNTS if c in table.columns]
    total_row = next((r for r in TOTAL_ROWS if r in table.index), None)
    shares: dict[str, Share] = {}
    for col, src in SHARE_SOURCES.items():
        if col in table.columns:
            shares[col] = src
    if "Anteil" in table.columns:
        shares["Anteil"] = (
            Share("Davon Zielgruppe", "Angabe bekannt")
            if "Davon Zielgruppe" in table.columns
            else Share("Erstkontakte", denominator_row=total_row)
        )
    for bound in ("Untergrenze", "Obergrenze"):
        if bound in table.columns:
            shares[bound] = shares.get("Anteil") or shares["Erreichungsquote"]
    shares = {
        col: src
        for col, src in shares.items()
        if (src.numerator is None or src.numerator in table.columns)
        and (src.denominator is None or src.denominator in table.columns)
    }
    return protect_table(
        table,
        min_count,
        count_columns=counts,
        total_row=total_row,
        share_columns=shares,
        round_to_5=round_to_5,
    )
