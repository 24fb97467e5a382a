"""Reichweite: Erstkontakte, Geburten, Erreichungsquote, Willkommensbesuche, Angebote,
Zeitpunkt des Erstkontakts und Zielgruppen, je Standort und Jahr und für alle Standorte.

One function per indicator of the catalogue (``indicators.py``, ``function`` fields) plus
the table builders the report notebooks call in one line. Pure: frames in, values out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis import data
from analysis.config import Baseline
from analysis.contract.schema import CATEGORIES, GESAMT
from analysis.data import ALL_SITES, Dataset
from analysis.indicators.catalogue import TARGET_GROUPS
from analysis.indicators.catalogue import label as indicator_label
from analysis.indicators.stats import Proportion, Rate, poisson_rate, wilson_interval
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
#: Life phases of a child under one year (the cohort-like variant of the reach rate).
UNDER_ONE = ("m0_6", "m6_12")
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
    """Erreichungsquote: Erstkontakte je Geburt (Kennzahl ``erreichungsquote``, unverändert).

    Ein Verhältnis, kein Anteil: Erstkontakte eines Jahres betreffen Schwangere und Kinder
    bis über 3 Jahre, zählen Familien statt Kinder und umfassen nicht nur den Geburtsjahrgang.
    Das Wilson-Intervall, das ``Proportion`` mitführt, ist dafür nicht gedacht; Berichte
    zeigen :func:`contacts_per_1000_births` mit Poisson-Intervall (docs/annahmen.md, R2).
    """
    return ratio(first_contacts, births)


def months_open(standorte: pd.DataFrame | None, site: str, year: int) -> int | None:
    """Monate des Jahres, in denen der Standort geöffnet war (``alle``: mindestens einer).

    Der Eröffnungs- und der Schließungsmonat zählen ganz. Ohne Eröffnungsdatum gilt ein
    Standort als das ganze Jahr geöffnet; ``None`` für einen unbekannten Standort.
    """
    if standorte is None:
        return None
    rows = standorte if site == ALL_SITES else standorte[standorte["standort_id"] == site]
    if rows.empty:
        return None
    months: set[int] = set()
    for row in rows.itertuples(index=False):
        first, last = 1, 12
        if not pd.isna(row.eroeffnet):
            if row.eroeffnet.year > year:
                continue
            if row.eroeffnet.year == year:
                first = row.eroeffnet.month
        if not pd.isna(row.geschlossen):
            if row.geschlossen.year < year:
                continue
            if row.geschlossen.year == year:
                last = row.geschlossen.month
        months.update(range(first, last + 1))
    return len(months)


def exposure(population: int | None, months: int | None) -> float | None:
    """Population weighted by the months open: ``population × months / 12`` (``None`` if unknown).

    A site that opened in March was open ten months; its first contacts are set against ten
    twelfths of the year's births, so an opening year is comparable with a full year.
    """
    if population is None or months is None:
        return None
    return float(population) * months / 12


def contacts_per_1000_births(
    first_contacts: int, births: int | None, months: int | None = 12
) -> Rate:
    """Erstkontakte je 1.000 Geburten, auf die Monate der Öffnung umgerechnet (Poisson-Intervall).

    Eine Rate, kein Anteil: Zähler Erstkontakte (Familien, auch Schwangere und ältere Kinder),
    Nenner Geburten × Monate geöffnet / 12. Intervall: exakt nach Garwood.
    """
    return poisson_rate(first_contacts, exposure(births, months))


def contacts_per_1000_under_3(
    first_contacts: int, children_under_3: int | None, months: int | None = 12
) -> Rate:
    """Erstkontakte je 1.000 Kinder unter 3 Jahren (Monate der Öffnung berücksichtigt, Poisson)."""
    return poisson_rate(first_contacts, exposure(children_under_3, months))


def children_under_3(bevoelkerung: pd.DataFrame | None, site: str, year: int) -> int | None:
    """Kinder unter 3 Jahren für Jahr und Gebiet laut ``bevoelkerung`` (``None`` ohne Angabe)."""
    value = data.area_value(bevoelkerung, "kinder_u3", site, year)
    return None if value is None else int(value)


def under_one_contacts(contacts: pd.DataFrame) -> int:
    """Erstkontakte mit einem Kind unter 1 Jahr (Lebensphasen 0–6 und 6–12 Monate)."""
    counts = life_phase_counts(contacts)
    return sum(counts[c] for c in UNDER_ONE)


def under_one_share(
    contacts: pd.DataFrame, births: int | None, months: int | None = 12
) -> Proportion:
    """Kohortennahe Variante: Erstkontakte mit Kind unter 1 Jahr je Geburt (Wilson-Intervall).

    Näher an einem Anteil als die Erreichungsquote, weil Zähler und Nenner Kinder des ersten
    Lebensjahres betreffen; aber ein Kind von 8 Monaten kann im Vorjahr geboren sein, und
    Familien aus anderen Gebieten zählen mit. Über 1 kein Intervall.
    """
    base = exposure(births, months)
    return ratio(under_one_contacts(contacts), None if base is None else round(base))


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

    Only SGB II is there: children under 3 in SGB II receipt / children under 3, a full count
    of the area (no sampling interval).
    """
    u3 = data.area_value(bevoelkerung, "kinder_u3", site, year)
    u3_sgb2 = data.area_value(bevoelkerung, "kinder_u3_sgb2", site, year)
    if not u3 or u3_sgb2 is None:
        return {}
    area = "Kommune" if site == ALL_SITES else f"Gebiet {site}"
    share = float(u3_sgb2) / float(u3)
    return {
        "sgb2_bezug": Baseline(
            anteil=share,
            quelle=f"Tabelle bevoelkerung {year}, {area}: Kinder unter 3 im SGB-II-Bezug "
            "je Kind unter 3 (Kinder, nicht Familien)",
            untergrenze=share,
            obergrenze=share,
            art="lokal",
        )
    }


#: Which baseline wins when several exist: local counts, then official statistics, then surveys.
BASELINE_PRECEDENCE = ("lokal", "amtlich", "studie")


def baselines_for(
    configured: Mapping[str, Baseline], bevoelkerung: pd.DataFrame | None, site: str, year: int
) -> dict[str, Baseline]:
    """The baseline per target group: a local ``bevoelkerung`` value, else an official
    statistic, else a survey (``[vergleichswerte]``, field ``art``; see docs/annahmen.md, R4)."""
    candidates: dict[str, list[Baseline]] = {}
    for key, base in configured.items():
        candidates.setdefault(base.gruppe or key, []).append(base)
    for group, base in local_baselines(bevoelkerung, site, year).items():
        candidates.setdefault(group, []).append(base)

    def rank(base: Baseline) -> int:
        kind = base.art if base.art in BASELINE_PRECEDENCE else "studie"
        return BASELINE_PRECEDENCE.index(kind)

    return {group: min(found, key=rank) for group, found in candidates.items()}


def representation_ratio(share: float | None, baseline: Baseline | None) -> float | None:
    """Anteil in den Erstkontakten / Anteil in der Bevölkerung (> 1: überrepräsentiert)."""
    if share is None or baseline is None or baseline.anteil <= 0:
        return None
    return share / baseline.anteil


def representation_interval(
    p: Proportion, baseline: Baseline | None, level: float = 0.95
) -> tuple[float | None, float | None]:
    """95-%-Intervall des Repräsentationsverhältnisses mit der Unsicherheit beider Anteile.

    Auf der Log-Skala: Var(log r) = Var(log p) + Var(log b); die Varianzen folgen aus der
    halben Breite des Wilson-Intervalls von p und des Intervalls des Vergleichswerts
    (je log(obere/untere Grenze) / (2 z)). Ein Vergleichswert ohne Intervall zählt als
    genau (etwa eine Vollerhebung der Kommune).
    """
    from scipy.stats import norm

    if p.share is None or p.lower is None or p.upper is None or baseline is None:
        return None, None
    if p.share <= 0 or p.lower <= 0 or baseline.anteil <= 0:
        return None, None
    z = float(norm.ppf(1 - (1 - level) / 2))
    var_p = (np.log(p.upper / p.lower) / (2 * z)) ** 2
    var_b = 0.0
    if baseline.untergrenze and baseline.obergrenze and baseline.untergrenze > 0:
        var_b = (np.log(baseline.obergrenze / baseline.untergrenze) / (2 * z)) ** 2
    centre = np.log(p.share / baseline.anteil)
    half = z * np.sqrt(var_p + var_b)
    return float(np.exp(centre - half)), float(np.exp(centre + half))


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
    months_open: int | None = None
    per_1000_births: Rate | None = None
    children_under_3: int | None = None
    per_1000_under_3: Rate | None = None
    under_one: Proportion | None = None


def figures(dataset: Dataset, site: str, year: int) -> ReachFigures:
    """Compute every reach figure for one site (or ``alle``) and year."""
    contacts = data.contacts_for(dataset, site, year)
    n_contacts = first_contacts(contacts)
    n_births = births(dataset.table("bevoelkerung"), site, year)
    visits = welcome_visits(dataset.table("willkommensbesuche"), site, year)
    months = months_open(dataset.table("standorte"), site, year)
    u3 = children_under_3(dataset.table("bevoelkerung"), site, year)
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
        months_open=months,
        per_1000_births=contacts_per_1000_births(n_contacts, n_births, months),
        children_under_3=u3,
        per_1000_under_3=contacts_per_1000_under_3(n_contacts, u3, months),
        under_one=under_one_share(contacts, n_births, months),
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
        # Added by issue 10; every key above keeps its meaning.
        "monate_geoeffnet": f.months_open,
        "kinder_u3": f.children_under_3,
        "erstkontakte_je_1000_geburten": _rate_block(f.per_1000_births),
        "erstkontakte_je_1000_kinder_u3": _rate_block(f.per_1000_under_3),
        "willkommensbesuch_quote_intervall": {
            "untergrenze": f.welcome_visit_rate.lower,
            "obergrenze": f.welcome_visit_rate.upper,
        },
        "schwangerschaft": {
            "anteil": f.pregnancy.share,
            "untergrenze": f.pregnancy.lower,
            "obergrenze": f.pregnancy.upper,
            "n_bekannt": f.pregnancy.n,
        },
        "kind_unter_1_je_geburt": {
            "erstkontakte": f.under_one.count if f.under_one else None,
            "anteil": f.under_one.share if f.under_one else None,
            "untergrenze": f.under_one.lower if f.under_one else None,
            "obergrenze": f.under_one.upper if f.under_one else None,
        },
    }


def _rate_block(rate: Rate | None) -> dict[str, float | None]:
    if rate is None:
        return {"wert": None, "untergrenze": None, "obergrenze": None}
    return {"wert": rate.rate, "untergrenze": rate.lower, "obergrenze": rate.upper}


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


# --- comparing sites and areas (issue 10) -----------------------------------------------------------
def site_rates_table(dataset: Dataset, year: int) -> pd.DataFrame:
    """Erstkontakte je 1.000 Geburten je geöffnetem Standort, mit Exposition (für den Trichter).

    Index: ``standort_id``. Spalten: Region, Erstkontakte, Geburten, Monate geöffnet,
    Geburten anteilig (Geburten × Monate / 12), je 1.000 Geburten, Untergrenze, Obergrenze.
    """
    rows = []
    for site, y in data.site_years(dataset):
        if y != year:
            continue
        f = figures(dataset, site, year)
        rate = f.per_1000_births
        rows.append(
            {
                "standort_id": site,
                "Region": _region(dataset, site),
                "Erstkontakte": f.first_contacts,
                "Geburten": f.births,
                "Monate geöffnet": f.months_open,
                "Geburten anteilig": rate.exposure if rate else None,
                "je 1.000 Geburten": rate.rate if rate else None,
                "Untergrenze": rate.lower if rate else None,
                "Obergrenze": rate.upper if rate else None,
            }
        )
    columns = [
        "Region",
        "Erstkontakte",
        "Geburten",
        "Monate geöffnet",
        "Geburten anteilig",
        "je 1.000 Geburten",
        "Untergrenze",
        "Obergrenze",
    ]
    table = pd.DataFrame(rows, columns=["standort_id", *columns]).set_index("standort_id")
    return table.astype(
        {
            "Erstkontakte": pd.Int64Dtype(),
            "Geburten": pd.Int64Dtype(),
            "Monate geöffnet": pd.Int64Dtype(),
            "Geburten anteilig": "float64",
            "je 1.000 Geburten": "float64",
            "Untergrenze": "float64",
            "Obergrenze": "float64",
        }
    )


def pooled_rate(table: pd.DataFrame) -> float | None:
    """The sites' pooled rate per 1,000: Σ first contacts / Σ prorated births × 1,000."""
    known = table.dropna(subset=["Geburten anteilig"])
    exposure_sum = float(known["Geburten anteilig"].sum())
    if exposure_sum <= 0:
        return None
    return float(known["Erstkontakte"].sum()) / exposure_sum * 1000


def _region(dataset: Dataset, site: str) -> str | None:
    standorte = dataset.table("standorte")
    if standorte is None or "region" not in standorte:
        return None
    hit = standorte.loc[standorte["standort_id"] == site, "region"].dropna()
    return str(hit.iloc[0]) if len(hit) else None


def region_table(dataset: Dataset, year: int) -> pd.DataFrame | None:
    """Erstkontakte je 1.000 Geburten je Sozialraum (Spalte ``region`` der Standorte).

    Summen der geöffneten Standorte einer Region (Erstkontakte, Geburten ihrer
    Einzugsgebiete, anteilige Geburten) mit Poisson-Intervall. ``None``, wenn kein Standort
    eine Region hat. Index: Region; Spalte ``Standorte`` nennt die ids (für die Geheimhaltung).
    """
    sites = site_rates_table(dataset, year)
    sites = sites.dropna(subset=["Region"])
    if sites.empty:
        return None
    rows = []
    for region, part in sites.groupby("Region", sort=True):
        known = part.dropna(subset=["Geburten anteilig"])
        exposure_sum = float(known["Geburten anteilig"].sum()) if len(known) else None
        births_known = part["Geburten"].notna().all()
        rate = poisson_rate(int(part["Erstkontakte"].sum()), exposure_sum if births_known else None)
        rows.append(
            {
                "Region": region,
                "Standorte": ", ".join(part.index),
                "Erstkontakte": int(part["Erstkontakte"].sum()),
                "Geburten": int(part["Geburten"].sum()) if births_known else None,
                "je 1.000 Geburten": rate.rate,
                "Untergrenze": rate.lower,
                "Obergrenze": rate.upper,
            }
        )
    table = pd.DataFrame(rows).set_index("Region")
    return table.astype(
        {
            "Erstkontakte": pd.Int64Dtype(),
            "Geburten": pd.Int64Dtype(),
            "je 1.000 Geburten": "float64",
            "Untergrenze": "float64",
            "Obergrenze": "float64",
        }
    )
