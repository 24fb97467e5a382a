"""Kostenentwicklung: Hilfen zur Erziehung (HzE) und Budget der Frühen Hilfen.

Ausgaben und mittlere Fallzahlen je Jahr und Hilfeart, Veränderung zum Vorjahr, Kosten je
Fall, durchschnittliches Wachstum, reale Werte (Verbraucherpreisindex), Budget der Frühen
Hilfen je Erstkontakt und je Geburt, unterbrochene Zeitreihe und eine kurze Prognose.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from io import StringIO
from typing import Any

import numpy as np
import pandas as pd

from analysis import formatting as fmt
from analysis.contract.schema import ALL_SITES, CATEGORIES, GESAMT
from analysis.errors import FhError
from analysis.indicators import stats
from analysis.memo import shared

KINDS = CATEGORIES["hilfeart"]
MEASURES = {"ausgaben_eur": "Ausgaben", "fallzahl_mittel": "Mittlere Fallzahl"}
#: Standard-Startjahr der Frühen Hilfen für die unterbrochene Zeitreihe (Demo: Standorte ab 2011).
DEFAULT_START_YEAR = 2011
#: Basisjahr des mitgelieferten Verbraucherpreisindex (Destatis 61111-0001, 2020 = 100).
CPI_BASE_YEAR = 2020


def _none_if_nan(value: float | None) -> float | None:
    if value is None or not np.isfinite(value):
        return None
    return float(value)


def _empty_totals() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ausgaben_eur": pd.Series(dtype="float64"),
            "fallzahl_mittel": pd.Series(dtype="float64"),
            "grundlage": pd.Series(dtype="string"),
        },
        index=pd.Index([], dtype="int64", name="jahr"),
    )


# --- HzE: Summen, Veränderungen, Kosten je Fall ------------------------------------------------


def hze_totals(kosten_hze: pd.DataFrame | None) -> pd.DataFrame:
    """HzE-Ausgaben und mittlere Fallzahl je Jahr (gesamtstädtisch).

    Je Jahr gilt die Zeile ``gesamt``; fehlt sie, die Summe der Hilfearten. ``grundlage``
    sagt, welches von beiden. Jahre ohne Zeilen fehlen (keine 0). Index: jahr.
    """
    if kosten_hze is None or kosten_hze.empty:
        return _empty_totals()
    frame = kosten_hze.assign(
        jahr=kosten_hze["jahr"].astype("int64"),
        hilfeart=kosten_hze["hilfeart"].astype("string"),
    )
    is_total = frame["hilfeart"] == GESAMT
    totals = frame[is_total].groupby("jahr")[["ausgaben_eur", "fallzahl_mittel"]].sum(min_count=1)
    totals["grundlage"] = "gesamt"
    kinds = frame[~is_total & ~frame["jahr"].isin(totals.index)]
    summed = kinds.groupby("jahr")[["ausgaben_eur", "fallzahl_mittel"]].sum(min_count=1)
    summed["grundlage"] = "hilfearten"
    out = pd.concat([totals, summed]).sort_index()
    out["grundlage"] = out["grundlage"].astype("string")
    return out.astype({"ausgaben_eur": "float64", "fallzahl_mittel": "float64"}).rename_axis("jahr")


def hze_by_kind(kosten_hze: pd.DataFrame | None) -> pd.DataFrame:
    """Ausgaben, Fallzahl, Kosten je Fall und Vorjahresveränderung je Jahr und Hilfeart.

    Nur Jahre, die nach Hilfearten geliefert wurden; lange Tabelle mit deutschem Label.
    """
    columns = [
        "jahr",
        "hilfeart",
        "hilfeart_label",
        "ausgaben_eur",
        "fallzahl_mittel",
        "kosten_je_fall_eur",
        "ausgaben_veraenderung_pct",
    ]
    if kosten_hze is None or kosten_hze.empty:
        return pd.DataFrame(columns=columns)
    frame = kosten_hze[kosten_hze["hilfeart"].astype("string") != GESAMT]
    rows = []
    for kind, part in frame.groupby(frame["hilfeart"].astype("string"), sort=False):
        series = part.set_index(part["jahr"].astype("int64")).sort_index()
        change = year_on_year_change(series["ausgaben_eur"])
        for jahr, row in series.iterrows():
            rows.append(
                {
                    "jahr": int(jahr),
                    "hilfeart": kind,
                    "hilfeart_label": KINDS.label(str(kind)),
                    "ausgaben_eur": float(row["ausgaben_eur"]),
                    "fallzahl_mittel": float(row["fallzahl_mittel"]),
                    "kosten_je_fall_eur": _per(row["ausgaben_eur"], row["fallzahl_mittel"]),
                    "ausgaben_veraenderung_pct": float(change[jahr]),
                }
            )
    order = {code: i for i, code in enumerate(KINDS.codes)}
    out = pd.DataFrame(rows, columns=columns)
    return out.sort_values(
        ["jahr", "hilfeart"], key=lambda s: s.map(order) if s.name == "hilfeart" else s
    ).reset_index(drop=True)


def _per(numerator: Any, denominator: Any) -> float:
    if pd.isna(numerator) or pd.isna(denominator) or denominator == 0:
        return float("nan")
    return float(numerator) / float(denominator)


def year_on_year_change(values: pd.Series) -> pd.Series:
    """Veränderung zum Vorjahr in Prozent: (X_J / X_{J−1} − 1) × 100, ungerundet.

    ``values`` ist nach Jahr indiziert. NaN, wenn das unmittelbare Vorjahr fehlt oder 0 ist
    (eine Lücke wird nicht überbrückt: 2015 gegen 2013 wäre keine Vorjahresveränderung).
    """
    values = values.astype("float64")
    previous = values.reindex(values.index.astype("int64") - 1).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        change = (values.to_numpy() / previous - 1) * 100
    change[~np.isfinite(change)] = np.nan
    return pd.Series(change, index=values.index, name=f"{values.name}_veraenderung_pct")


def cost_per_case(totals: pd.DataFrame) -> pd.Series:
    """HzE-Ausgaben je Fall: Ausgaben / mittlere Fallzahl; NaN, wenn die Fallzahl 0 ist."""
    cases = totals["fallzahl_mittel"].astype("float64").replace(0, np.nan)
    return (totals["ausgaben_eur"].astype("float64") / cases).rename("kosten_je_fall_eur")


def hze_development(kosten_hze: pd.DataFrame | None) -> pd.DataFrame:
    """Die Tabelle „Fallkosten- und Fallzahlentwicklung“ (wie Konzept Leverkusen, Abschnitt 4.2).

    Je Jahr: Ausgaben, Veränderung zum Vorjahr, mittlere Fallzahl, deren Veränderung, Kosten
    je Fall und deren Veränderung. Prozentwerte ungerundet (gerundet wird erst beim Anzeigen).
    """
    totals = hze_totals(kosten_hze)
    per_case = cost_per_case(totals)
    return pd.DataFrame(
        {
            "ausgaben_eur": totals["ausgaben_eur"],
            "ausgaben_veraenderung_pct": year_on_year_change(totals["ausgaben_eur"]),
            "fallzahl_mittel": totals["fallzahl_mittel"],
            "fallzahl_veraenderung_pct": year_on_year_change(totals["fallzahl_mittel"]),
            "kosten_je_fall_eur": per_case,
            "kosten_je_fall_veraenderung_pct": year_on_year_change(per_case),
        },
        index=totals.index,
    )


def compound_growth_rate(
    values: pd.Series, first_year: int | None = None, last_year: int | None = None
) -> float | None:
    """Durchschnittliche jährliche Wachstumsrate zwischen zwei Jahren (als Bruch, 0.037 = 3,7 %).

    (X_last / X_first)^(1 / (last − first)) − 1; ohne Angabe erstes und letztes Jahr der Reihe.
    ``None``, wenn eines der Jahre fehlt oder der Anfangswert nicht positiv ist.
    """
    values = values.dropna()
    if values.empty:
        return None
    first = int(values.index.min()) if first_year is None else int(first_year)
    last = int(values.index.max()) if last_year is None else int(last_year)
    if first not in values.index or last not in values.index:
        return None
    return stats.compound_growth(float(values[first]), float(values[last]), last - first)


# --- Reale Werte (Verbraucherpreisindex) -------------------------------------------------------


@cache
def _cpi() -> pd.Series:
    text = files("analysis").joinpath("resources", "vpi.csv").read_text(encoding="utf-8")
    table = pd.read_csv(StringIO(text), sep=";", comment="#")
    return table.set_index("jahr")["vpi"].astype("float64").rename("vpi")


def cpi_table() -> pd.Series:
    """Verbraucherpreisindex für Deutschland, Jahresdurchschnitt, 2020 = 100 (Destatis 61111-0001).

    Mitgelieferte Tabelle ``resources/vpi.csv``; Herkunft und Stand in docs/datenlog.md.
    """
    return _cpi().copy()


def real_terms(
    values: pd.Series, base_year: int = CPI_BASE_YEAR, cpi: pd.Series | None = None
) -> pd.Series:
    """Nominale Eurobeträge je Jahr in Preisen des Basisjahres: X_J × VPI_Basis / VPI_J.

    NaN für Jahre, für die der Index (noch) fehlt; ein fehlender Basisjahr-Index ist ein
    Bedienfehler und wird mit deutscher Meldung abgewiesen.
    """
    cpi = cpi_table() if cpi is None else cpi
    if base_year not in cpi.index:
        raise FhError(
            f"Für das Basisjahr {base_year} liegt kein Verbraucherpreisindex vor "
            f"(vorhanden: {int(cpi.index.min())}–{int(cpi.index.max())})."
        )
    index = cpi.reindex(values.index.astype("int64")).to_numpy()
    real = values.astype("float64").to_numpy() * float(cpi[base_year]) / index
    return pd.Series(real, index=values.index, name=f"{values.name}_real_{base_year}")


def hze_real(kosten_hze: pd.DataFrame | None, base_year: int = CPI_BASE_YEAR) -> pd.DataFrame:
    """HzE-Ausgaben nominal und real (Preise von ``base_year``) mit Veränderung zum Vorjahr."""
    totals = hze_totals(kosten_hze)
    nominal = totals["ausgaben_eur"]
    real = real_terms(nominal, base_year)
    return pd.DataFrame(
        {
            "ausgaben_eur": nominal,
            "vpi": cpi_table().reindex(totals.index).to_numpy(),
            "ausgaben_real_eur": real,
            "ausgaben_veraenderung_pct": year_on_year_change(nominal),
            "ausgaben_real_veraenderung_pct": year_on_year_change(real),
        },
        index=totals.index,
    )


# --- Budget der Frühen Hilfen --------------------------------------------------------------------


@dataclass(frozen=True)
class FhBudget:
    """Budget der Frühen Hilfen für ein Jahr und einen Standort (``alle`` = jede Zeile des Jahres).

    ``total`` ist ``None``, wenn es keine Zeile gibt (nicht 0). Die Aufteilungen enthalten
    jede Quelle und Kostenart des Datenvertrags (auch 0); ``ohne_angabe`` für fehlende Kostenart.
    """

    year: int
    site: str
    total: float | None
    by_source: pd.Series
    by_cost_type: pd.Series
    by_area: pd.Series


def _budget_rows(finanzierung: pd.DataFrame | None, site: str, year: int) -> pd.DataFrame:
    if finanzierung is None or finanzierung.empty:
        return pd.DataFrame(columns=["jahr", "gebiet", "quelle", "kostenart", "betrag_eur"])
    rows = finanzierung[finanzierung["jahr"].astype("int64") == int(year)]
    if site != ALL_SITES:
        rows = rows[rows["gebiet"].astype("string") == site]
    return rows


def fh_budget(finanzierung: pd.DataFrame | None, site: str, year: int) -> FhBudget:
    """Budget der Frühen Hilfen nach Quelle, Kostenart und Gebiet.

    Standort ``alle``: jede Zeile des Jahres (auch gesamtstädtische Posten wie die
    Netzwerkkoordination); ein Standort: die Zeilen mit gebiet = Standort.
    """
    rows = _budget_rows(finanzierung, site, year)
    amount = rows["betrag_eur"].astype("float64")
    sources = rows["quelle"].astype("string")
    cost_types = (
        rows["kostenart"].astype("string").fillna("ohne_angabe")
        if "kostenart" in rows
        else pd.Series("ohne_angabe", index=rows.index)
    )
    by_source = (
        amount.groupby(sources).sum().reindex(list(CATEGORIES["quelle"].codes), fill_value=0.0)
    )
    cost_codes = [*CATEGORIES["kostenart"].codes, "ohne_angabe"]
    by_cost = amount.groupby(cost_types).sum().reindex(cost_codes, fill_value=0.0)
    if by_cost["ohne_angabe"] == 0:
        by_cost = by_cost.drop("ohne_angabe")
    by_area = amount.groupby(rows["gebiet"].astype("string")).sum().sort_index()
    total = float(amount.sum()) if len(rows) else None
    return FhBudget(
        year=int(year),
        site=site,
        total=total,
        by_source=by_source.astype("float64").rename("betrag_eur").rename_axis("quelle"),
        by_cost_type=by_cost.astype("float64").rename("betrag_eur").rename_axis("kostenart"),
        by_area=by_area.astype("float64").rename("betrag_eur").rename_axis("gebiet"),
    )


def fh_budget_by_year(finanzierung: pd.DataFrame | None, site: str = ALL_SITES) -> pd.DataFrame:
    """Budget je Jahr (Zeilen) und Quelle (Spalten) mit Summe, für Verlaufstabellen und Grafiken."""
    if finanzierung is None or finanzierung.empty:
        return pd.DataFrame(columns=[*CATEGORIES["quelle"].codes, "summe"])
    rows = (
        finanzierung
        if site == ALL_SITES
        else finanzierung[finanzierung["gebiet"].astype("string") == site]
    )
    table = (
        pd.crosstab(
            rows["jahr"].astype("int64"),
            rows["quelle"].astype("string"),
            values=rows["betrag_eur"].astype("float64"),
            aggfunc="sum",
        )
        .reindex(columns=list(CATEGORIES["quelle"].codes))
        .fillna(0.0)
    )
    table["summe"] = table.sum(axis=1)
    return table.rename_axis(index="jahr", columns="quelle")


def fh_budget_per_contact(budget: float | None, first_contacts: int | None) -> float | None:
    """Budget je Erstkontakt: Budget / Erstkontakte; ``None`` ohne Budget oder ohne Erstkontakte."""
    if budget is None or not first_contacts:
        return None
    return _none_if_nan(float(budget) / int(first_contacts))


def fh_budget_per_birth(budget: float | None, births: int | None) -> float | None:
    """Budget je Geburt (Geburten laut Tabelle bevoelkerung für dasselbe Gebiet und Jahr).

    ``None`` ohne Budget oder ohne Geburtenzahl (oder 0 Geburten).
    """
    if budget is None or births is None or pd.isna(births) or int(births) == 0:
        return None
    return _none_if_nan(float(budget) / int(births))


# --- Unterbrochene Zeitreihe und Prognose ------------------------------------------------------


def _series(kosten_hze: pd.DataFrame | None, measure: str, real: bool) -> pd.Series:
    if measure not in MEASURES:
        raise FhError(f"Unbekannte Größe „{measure}“. Möglich sind: {', '.join(MEASURES)}.")
    totals = hze_totals(kosten_hze)
    values = totals[measure]
    if real:
        if measure != "ausgaben_eur":
            raise FhError("Reale Werte gibt es nur für Ausgaben, nicht für Fallzahlen.")
        values = real_terms(values).dropna()
    return values


def fh_start_year(standorte: pd.DataFrame | None) -> int | None:
    """Startjahr der Frühen Hilfen aus den Daten: das Jahr, in dem der erste Standort öffnete.

    Vorschlag für ``start_year`` der unterbrochenen Zeitreihe; ``None`` ohne Eröffnungsdaten.
    """
    if standorte is None or "eroeffnet" not in standorte or standorte["eroeffnet"].isna().all():
        return None
    return int(pd.to_datetime(standorte["eroeffnet"]).min().year)


@shared
def hze_interrupted_time_series(
    kosten_hze: pd.DataFrame | None,
    start_year: int = DEFAULT_START_YEAR,
    *,
    measure: str = "ausgaben_eur",
    real: bool = False,
    min_before: int = stats.MIN_SEGMENT,
    min_after: int = stats.MIN_SEGMENT,
    until: int | None = None,
) -> stats.SegmentedRegression:
    """Hat sich Niveau oder Trend der HzE-Ausgaben (oder Fallzahlen) ab ``start_year`` geändert?

    Segmentierte Regression auf die Jahreswerte (bis ``until`` einschließlich: ein Bericht
    für das Jahr J rechnet nur mit Jahren bis J), mit OLS und AR(1)-Fehlern, Durbin-Watson
    und Breusch-Godfrey (``stats.segmented_regression``); mit zu wenigen Jahren vor oder
    nach dem Start ein Ergebnis ohne Schätzwerte und mit Begründung statt eines Fehlers.
    """
    values = _series(kosten_hze, measure, real)
    if until is not None:
        values = values.loc[values.index <= int(until)]
    return stats.segmented_regression(
        list(values.index),
        list(values.to_numpy()),
        int(start_year),
        min_before=min_before,
        min_after=min_after,
    )


def describe_its(
    result: stats.SegmentedRegression, unit: str = "euro", *, caveat: bool = True
) -> str:
    """Deutsche Sätze zum Ergebnis der unterbrochenen Zeitreihe (für den Berichtstext).

    Die p-Werte sind die vorsichtigeren aus OLS und AR(1)-Modell; ist die Reihe zu kurz
    (``supports_claim``), sagt der Text das, statt ein Ergebnis als gesichert auszugeben.
    ``caveat=False`` lässt die Vorbehalte weg (der Alternativtext der Grafik nennt nur das
    Ergebnis; die Vorbehalte stehen im Satz darunter).
    """
    if not result.estimable:
        return result.caveat

    def amount(value: float | None) -> str:
        if value is None:
            return fmt.MISSING
        text = fmt.euro(abs(value)) if unit == "euro" else fmt.number(abs(value), 1)
        return ("+" if value >= 0 else "−") + text

    p_trend = result.p_trend_change_robust
    p_level = result.p_level_change_robust
    if not result.supports_claim:
        verdict = "Ob sich der Trend geändert hat, lässt sich mit dieser Reihe nicht sagen."
    elif p_trend is not None and p_trend < 0.05:
        direction = "flacher" if (result.trend_change or 0) < 0 else "steiler"
        verdict = (
            f"Der Anstieg verläuft seit {result.start_year} statistisch gesichert {direction} "
            "als zuvor (5-%-Niveau, autokorrelationsbereinigt)."
        )
    else:
        verdict = (
            "Eine Änderung des Trends ist statistisch nicht gesichert (5-%-Niveau, "
            "autokorrelationsbereinigt)."
        )
    return (
        f"Ab {result.start_year} änderte sich das Niveau um {amount(result.level_change)} "
        f"({stats.format_p(p_level)}) und der jährliche Trend um "
        f"{amount(result.trend_change)} je Jahr ({stats.format_p(p_trend)}); "
        f"vorher betrug der Trend {amount(result.trend)} je Jahr. {verdict}"
        + (f" {result.caveat}" if caveat else "")
    )


@shared
def hze_forecast(
    kosten_hze: pd.DataFrame | None,
    *,
    measure: str = "ausgaben_eur",
    horizon: int = 3,
    level: float = 0.95,
    real: bool = False,
    until: int | None = None,
) -> stats.Forecast:
    """Kurze Prognose der HzE-Ausgaben oder Fallzahlen aus den Jahren bis ``until``.

    Modellwahl (linearer oder gedämpfter Trend) nach einem rollierenden Rückblick, dessen
    Trefferquote neben dem Intervall steht (``stats.forecast``).
    """
    values = _series(kosten_hze, measure, real)
    if until is not None:
        values = values.loc[values.index <= int(until)]
    return stats.forecast(list(values.index), list(values.to_numpy()), horizon, level=level)


# --- Kennzahlen ----------------------------------------------------------------------------------


def key_indicators(
    kosten_hze: pd.DataFrame | None,
    finanzierung: pd.DataFrame | None,
    *,
    site: str,
    year: int,
    first_contacts: int,
) -> dict[str, Any]:
    """Der Block ``kosten`` der Kennzahlen für Jahr und Standort.

    HzE-Werte sind gesamtstädtisch und für jeden Standort gleich; das Budget gilt für den
    Standort (``alle``: jede Zeile des Jahres). Nicht Berechenbares ist ``None``, nie 0.
    """
    year = int(year)
    development = hze_development(kosten_hze)
    row = development.loc[year] if year in development.index else None

    def value(column: str) -> float | None:
        return None if row is None else _none_if_nan(float(row[column]))

    budget = fh_budget(finanzierung, site, year).total
    return {
        "hze_ausgaben_eur": value("ausgaben_eur"),
        "hze_fallzahl": value("fallzahl_mittel"),
        "ausgaben_veraenderung_pct": value("ausgaben_veraenderung_pct"),
        "fallzahl_veraenderung_pct": value("fallzahl_veraenderung_pct"),
        "kosten_je_fall_eur": value("kosten_je_fall_eur"),
        "fh_budget_eur": budget,
        "fh_budget_je_erstkontakt_eur": fh_budget_per_contact(budget, first_contacts),
    }
