"""Statistical helpers shared by the analyses: intervals, tests and models.

Thin, documented wrappers around statsmodels/scipy so every report computes an interval or
a test the same way, with ``None`` instead of an error where the data do not allow it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency
from statsmodels.stats.contingency_tables import Table
from statsmodels.stats.proportion import proportion_confint

from analysis import formatting as fmt


@dataclass(frozen=True)
class Proportion:
    """A share with its Wilson 95 % interval; all ``None`` when the denominator is 0."""

    count: int
    n: int
    share: float | None
    lower: float | None
    upper: float | None


def wilson_interval(count: int, n: int, level: float = 0.95) -> Proportion:
    """Share ``count / n`` with the Wilson score interval (good for small n and shares near 0/1).

    >>> p = wilson_interval(5, 20)
    >>> round(p.share, 3), round(p.lower, 4), round(p.upper, 4)
    (0.25, 0.1119, 0.4687)
    """
    count, n = int(count), int(n)
    if n <= 0:
        return Proportion(count, n, None, None, None)
    if not 0 <= count <= n:
        raise ValueError(f"count {count} outside 0..{n}")
    lower, upper = proportion_confint(count, n, alpha=1 - level, method="wilson")
    return Proportion(count, n, count / n, float(lower), float(upper))


# --- Gemeinsame Textbausteine ---------------------------------------------------------------


def format_p(p: float | None) -> str:
    """p-Wert deutsch: ``p < 0,001`` oder ``p = 0,034``."""
    if p is None or not np.isfinite(p):
        return "p nicht berechenbar"
    if p < 0.001:
        return "p < 0,001"
    return f"p = {fmt.number(p, 3)}"


def _as_float_array(values: Sequence[float] | pd.Series) -> np.ndarray:
    return np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype=float)


# --- Kontingenztafeln -----------------------------------------------------------------------


@dataclass(frozen=True)
class ChiSquareResult:
    """Chi-Quadrat-Unabhängigkeitstest einer Kreuztabelle mit standardisierten Residuen.

    ``residuals`` sind die angepassten (adjusted) standardisierten Residuen nach Haberman:
    Werte über +2 oder unter −2 zeigen Zellen, die deutlich vom Erwarteten abweichen.
    ``reliable`` ist False, wenn die erwarteten Häufigkeiten zu klein sind (Cochran-Regel);
    ``note`` sagt das in einem deutschen Satz.
    """

    observed: pd.DataFrame
    expected: pd.DataFrame
    residuals: pd.DataFrame
    statistic: float
    dof: int
    p_value: float
    n: int
    share_expected_below_5: float
    min_expected: float
    reliable: bool
    note: str


def expected_counts_ok(expected: np.ndarray) -> tuple[bool, float, float]:
    """Cochran-Regel: höchstens 20 % der erwarteten Häufigkeiten unter 5 und keine unter 1.

    Gibt (Regel erfüllt, Anteil der Zellen unter 5, kleinste erwartete Häufigkeit) zurück.
    """
    exp = np.asarray(expected, dtype=float)
    if exp.size == 0:
        return False, 1.0, 0.0
    share_below_5 = float((exp < 5).mean())
    min_expected = float(exp.min())
    return (share_below_5 <= 0.2 and min_expected >= 1), share_below_5, min_expected


def chi_square_independence(table: pd.DataFrame) -> ChiSquareResult | None:
    """Chi-Quadrat-Test auf Unabhängigkeit von Zeilen und Spalten einer Häufigkeitstabelle.

    Leere Zeilen und Spalten werden vorher entfernt (sie tragen nichts bei und machen
    erwartete Häufigkeiten 0). ``None``, wenn danach keine 2×2-Tafel übrig bleibt.
    Ohne Stetigkeitskorrektur, damit Teststatistik und Residuen zusammenpassen.
    """
    obs = table.astype(float)
    obs = obs.loc[obs.sum(axis=1) > 0, obs.sum(axis=0) > 0]
    if obs.shape[0] < 2 or obs.shape[1] < 2:
        return None
    res = chi2_contingency(obs.to_numpy(), correction=False)
    expected = pd.DataFrame(res.expected_freq, index=obs.index, columns=obs.columns)
    residuals = pd.DataFrame(
        Table(obs.to_numpy().copy(), shift_zeros=False).standardized_resids,
        index=obs.index,
        columns=obs.columns,
    )
    ok, share5, min_exp = expected_counts_ok(res.expected_freq)
    n = int(obs.to_numpy().sum())
    if ok:
        note = (
            f"Die erwarteten Häufigkeiten reichen für den Chi-Quadrat-Test aus (n = "
            f"{fmt.number(n)}; χ² = {fmt.number(res.statistic, 2)}, df = {int(res.dof)}, "
            f"{format_p(float(res.pvalue))}). Zellen mit standardisierten Residuen über +2 "
            "oder unter −2 weichen deutlich von der Verteilung ab, die ohne Unterschiede "
            "zu erwarten wäre."
        )
    else:
        note = (
            "Vorsicht: Der Chi-Quadrat-Test ist hier nicht verlässlich, weil die erwarteten "
            f"Häufigkeiten zu klein sind ({fmt.percent(share5, 0)} der Zellen unter 5, "
            f"kleinste {fmt.number(min_exp, 1)}; verlangt sind höchstens 20 % unter 5 und "
            "keine unter 1). Kategorien zusammenfassen oder mehrere Jahre gemeinsam auswerten."
        )
    return ChiSquareResult(
        observed=obs.round().astype(int),
        expected=expected,
        residuals=residuals,
        statistic=float(res.statistic),
        dof=int(res.dof),
        p_value=float(res.pvalue),
        n=n,
        share_expected_below_5=share5,
        min_expected=min_exp,
        reliable=ok,
        note=note,
    )


# --- Trend eines Anteils über die Jahre --------------------------------------------------------


@dataclass(frozen=True)
class TrendResult:
    """Trend eines Anteils über die Jahre, mit einem deutschen Satz zum Ergebnis.

    ``method`` ist ``logistisch`` (Binomial-GLM), ``linear-by-linear`` (Test auf linearen
    Trend, Cochran-Armitage-Typ, bei wenigen Fällen) oder ``keine`` (nicht berechenbar).
    ``odds_ratio_per_year`` gibt es nur bei der logistischen Regression.
    """

    method: str
    n: int
    years: int
    odds_ratio_per_year: float | None
    ci_lower: float | None
    ci_upper: float | None
    p_value: float | None
    note: str


def share_trend(
    years: Sequence[int],
    successes: Sequence[int],
    totals: Sequence[int],
    *,
    min_events: int = 10,
    level: float = 0.95,
) -> TrendResult:
    """Verändert sich ein Anteil (``successes / totals``) linear über die Jahre?

    Mit genug Ereignissen und Nicht-Ereignissen (je mindestens ``min_events``) eine
    logistische Regression des Anteils auf das Jahr (Odds Ratio je Jahr mit Konfidenz-
    intervall); sonst der Linear-by-linear-Test auf Trend, der mit weniger Fällen auskommt
    und keine Effektgröße schätzt.
    """
    frame = pd.DataFrame(
        {
            "jahr": _as_float_array(years),
            "k": _as_float_array(successes),
            "n": _as_float_array(totals),
        }
    ).dropna()
    frame = frame[frame["n"] > 0].sort_values("jahr")
    n = int(frame["n"].sum())
    k = int(frame["k"].sum())
    n_years = len(frame)
    if n_years < 2 or n == 0:
        return TrendResult(
            "keine",
            n,
            n_years,
            None,
            None,
            None,
            None,
            "Ein Trend lässt sich nicht prüfen: Es braucht mindestens zwei Jahre mit Fällen.",
        )
    if k == 0 or k == n:
        return TrendResult(
            "keine",
            n,
            n_years,
            None,
            None,
            None,
            None,
            "Ein Trend lässt sich nicht prüfen: Der Anteil ist in allen Jahren "
            + ("0 %." if k == 0 else "100 %."),
        )
    if min(k, n - k) >= min_events:
        import statsmodels.api as sm  # deferred: importing it costs seconds on every CLI call

        x = sm.add_constant(frame["jahr"].to_numpy() - frame["jahr"].min())
        endog = np.column_stack([frame["k"], frame["n"] - frame["k"]])
        fit = sm.GLM(endog, x, family=sm.families.Binomial()).fit()
        beta = float(fit.params[1])
        lo, hi = (float(v) for v in fit.conf_int(alpha=1 - level)[1])
        p = float(fit.pvalues[1])
        odds = float(np.exp(beta))
        direction = "steigt" if odds > 1 else "sinkt"
        verdict = (
            "Der Trend ist statistisch gesichert (5-%-Niveau)."
            if p < 0.05
            else "Der Trend ist statistisch nicht gesichert; die Schwankung kann Zufall sein."
        )
        note = (
            f"Der Anteil {direction} im Mittel je Jahr (Odds Ratio {fmt.number(odds, 2)} je Jahr, "
            f"{fmt.number(level * 100)}-%-Konfidenzintervall {fmt.number(np.exp(lo), 2)} bis "
            f"{fmt.number(np.exp(hi), 2)}; {format_p(p)}; logistische Regression über "
            f"{n_years} Jahre mit {fmt.number(n)} Fällen). {verdict}"
        )
        return TrendResult(
            "logistisch", n, n_years, odds, float(np.exp(lo)), float(np.exp(hi)), p, note
        )
    table = np.column_stack([frame["k"], frame["n"] - frame["k"]])
    res = Table(table, shift_zeros=False).test_ordinal_association(
        row_scores=frame["jahr"].to_numpy(), col_scores=np.array([1.0, 0.0])
    )
    p = float(res.pvalue)
    verdict = (
        "Ein linearer Trend ist statistisch gesichert (5-%-Niveau)."
        if p < 0.05
        else "Ein linearer Trend ist statistisch nicht gesichert."
    )
    note = (
        f"Wenige Fälle ({fmt.number(k)} von {fmt.number(n)}): statt einer logistischen "
        f"Regression wurde der Linear-by-linear-Test auf Trend verwendet ({format_p(p)}). "
        f"{verdict} Auch dieser Test ist bei sehr kleinen Zahlen nur ein grober Hinweis."
    )
    return TrendResult("linear-by-linear", n, n_years, None, None, None, p, note)


# --- Unterbrochene Zeitreihe (segmentierte Regression) ---------------------------------------


@dataclass(frozen=True)
class SegmentedRegression:
    """Segmentierte Regression einer Jahresreihe um ein Startjahr (unterbrochene Zeitreihe).

    Modell: Wert = Niveau + Trend·t + Niveauänderung·D + Trendänderung·(t − t₀)·D mit
    t = Jahre seit dem ersten Jahr, D = 1 ab dem Startjahr. ``estimable`` ist False, wenn
    zu wenige Jahre vor oder nach dem Start vorliegen; dann sind die Schätzwerte ``None``.
    ``caveat`` sagt immer in deutschen Sätzen, was der Test leisten kann und was nicht.
    """

    start_year: int
    n: int
    n_before: int
    n_after: int
    estimable: bool
    level: float | None = None
    trend: float | None = None
    level_change: float | None = None
    trend_change: float | None = None
    p_level_change: float | None = None
    p_trend_change: float | None = None
    coefficients: pd.DataFrame | None = None
    fitted: pd.DataFrame | None = None
    caveat: str = ""


_ITS_TERMS = {
    "const": "Niveau im ersten Jahr",
    "t": "Trend je Jahr vor dem Start",
    "d": "Niveauänderung ab Start",
    "td": "Trendänderung je Jahr ab Start",
}


def _its_caveat(n: int, n_before: int, n_after: int, start_year: int) -> str:
    text = (
        f"Unterbrochene Zeitreihe mit {n} Jahreswerten ({n_before} vor, {n_after} ab "
        f"{start_year}). Der Test vergleicht den Verlauf nach dem Start mit der Fortschreibung "
        "des Verlaufs davor; er kann keine Ursache belegen: Alles, was sich zur gleichen Zeit "
        "änderte (Gesetze, Fallzahlen, Entgelte, Bevölkerung), wirkt mit. Ein nicht "
        "signifikantes Ergebnis heißt nicht, dass es keine Wirkung gab."
    )
    if n < 12:
        text += (
            f" Mit nur {n} Jahreswerten ist die Aussagekraft sehr gering: Die Konfidenz"
            "intervalle sind breit, Autokorrelation lässt sich nicht prüfen und ein einzelnes "
            "ungewöhnliches Jahr verschiebt das Ergebnis stark."
        )
    return text


def segmented_regression(
    years: Sequence[int],
    values: Sequence[float],
    start_year: int,
    *,
    min_before: int = 3,
    min_after: int = 3,
    level: float = 0.95,
) -> SegmentedRegression:
    """Hat sich Niveau oder Trend einer Jahresreihe ab ``start_year`` verändert? (OLS)

    Braucht mindestens ``min_before`` Jahre vor und ``min_after`` Jahre ab dem Start
    (je Abschnitt ein Trend mit Restfreiheitsgrad); sonst ein Ergebnis ohne Schätzwerte.
    """
    frame = pd.DataFrame({"jahr": _as_float_array(years), "wert": _as_float_array(values)})
    frame = frame.dropna().sort_values("jahr").reset_index(drop=True)
    after = frame["jahr"] >= start_year
    n, n_after = len(frame), int(after.sum())
    n_before = n - n_after
    caveat = _its_caveat(n, n_before, n_after, start_year)
    if n_before < min_before or n_after < min_after:
        return SegmentedRegression(
            start_year,
            n,
            n_before,
            n_after,
            False,
            caveat=(
                f"Nicht berechenbar: Für die unterbrochene Zeitreihe braucht es mindestens "
                f"{min_before} Jahre vor und {min_after} Jahre ab {start_year}; vorhanden sind "
                f"{n_before} und {n_after}. "
            )
            + caveat,
        )
    import statsmodels.api as sm  # deferred: see share_trend

    t = frame["jahr"] - frame["jahr"].min()
    t0 = start_year - frame["jahr"].min()
    d = after.astype(float)
    x = pd.DataFrame({"const": 1.0, "t": t, "d": d, "td": (t - t0) * d})
    fit = sm.OLS(frame["wert"], x).fit()
    ci = fit.conf_int(alpha=1 - level)
    coefficients = pd.DataFrame(
        {
            "koeffizient": [_ITS_TERMS[c] for c in x.columns],
            "schaetzung": fit.params.to_numpy(),
            "untere_grenze": ci[0].to_numpy(),
            "obere_grenze": ci[1].to_numpy(),
            "p_wert": fit.pvalues.to_numpy(),
        },
        index=list(x.columns),
    )
    counterfactual = fit.params["const"] + fit.params["t"] * t
    fitted = pd.DataFrame(
        {
            "jahr": frame["jahr"].astype(int),
            "wert": frame["wert"],
            "angepasst": fit.fittedvalues,
            "ohne_unterbrechung": counterfactual.where(after),
        }
    )
    return SegmentedRegression(
        start_year=start_year,
        n=n,
        n_before=n_before,
        n_after=n_after,
        estimable=True,
        level=float(fit.params["const"]),
        trend=float(fit.params["t"]),
        level_change=float(fit.params["d"]),
        trend_change=float(fit.params["td"]),
        p_level_change=float(fit.pvalues["d"]),
        p_trend_change=float(fit.pvalues["td"]),
        coefficients=coefficients,
        fitted=fitted,
        caveat=caveat,
    )


# --- Kurze Prognose ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Forecast:
    """Beobachtete Jahre und Prognosejahre mit Vorhersageintervall.

    ``table`` hat die Spalten jahr, wert (beobachtet, sonst leer), prognose, untergrenze,
    obergrenze und art (``beobachtet`` / ``prognose``). Ohne genug Jahre enthält sie nur
    die beobachteten Zeilen, und ``caveat`` sagt warum.
    """

    table: pd.DataFrame
    method: str
    level: float
    caveat: str


def linear_trend_forecast(
    years: Sequence[int],
    values: Sequence[float],
    horizon: int = 3,
    *,
    level: float = 0.95,
    min_points: int = 4,
) -> Forecast:
    """Fortschreibung des linearen Trends (OLS) um ``horizon`` Jahre mit Vorhersageintervall.

    Bewusst einfach: Bei wenigen Jahreswerten sind Verfahren mit mehr Parametern (Holt,
    ARIMA) nicht stabil schätzbar. Das Vorhersageintervall enthält die Streuung der Jahre
    um den Trend und die Unsicherheit des Trends selbst, nicht aber Strukturbrüche.
    """
    frame = pd.DataFrame({"jahr": _as_float_array(years), "wert": _as_float_array(values)})
    frame = frame.dropna().sort_values("jahr").reset_index(drop=True)
    observed = pd.DataFrame(
        {
            "jahr": frame["jahr"].astype(int),
            "wert": frame["wert"],
            "prognose": np.nan,
            "untergrenze": np.nan,
            "obergrenze": np.nan,
            "art": "beobachtet",
        }
    )
    method = "Linearer Trend (Kleinste Quadrate)"
    if len(frame) < min_points or horizon < 1:
        return Forecast(
            observed,
            method,
            level,
            f"Keine Prognose: Es braucht mindestens {min_points} Jahreswerte, vorhanden "
            f"sind {len(frame)}.",
        )
    import statsmodels.api as sm  # deferred: see share_trend

    origin = frame["jahr"].min()
    fit = sm.OLS(frame["wert"], sm.add_constant(frame["jahr"] - origin)).fit()
    last = int(frame["jahr"].max())
    future = np.arange(last + 1, last + 1 + horizon)
    x_new = sm.add_constant(pd.Series(future - origin, name="jahr"), has_constant="add")
    pred = fit.get_prediction(x_new).summary_frame(alpha=1 - level)
    forecast = pd.DataFrame(
        {
            "jahr": future,
            "wert": np.nan,
            "prognose": pred["mean"].to_numpy(),
            "untergrenze": pred["obs_ci_lower"].to_numpy(),
            "obergrenze": pred["obs_ci_upper"].to_numpy(),
            "art": "prognose",
        }
    )
    caveat = (
        f"Fortschreibung des linearen Trends aus {len(frame)} Jahreswerten mit "
        f"{fmt.number(level * 100)}-%-Vorhersageintervall. Sie unterstellt, dass der bisherige "
        "Verlauf anhält; Gesetzesänderungen, neue Hilfearten oder Entgeltsteigerungen sind "
        "nicht enthalten. Je weiter ein Jahr in der Zukunft liegt, desto unsicherer ist es."
    )
    return Forecast(pd.concat([observed, forecast], ignore_index=True), method, level, caveat)


# --- Wachstum --------------------------------------------------------------------------------


def compound_growth(first: float | None, last: float | None, periods: int) -> float | None:
    """Durchschnittliche jährliche Wachstumsrate: (last / first)^(1 / periods) − 1.

    ``None``, wenn ein Wert fehlt, der Anfangswert nicht positiv ist oder periods < 1.
    """
    if first is None or last is None or periods < 1:
        return None
    if not (np.isfinite(first) and np.isfinite(last)) or first <= 0 or last < 0:
        return None
    return float((last / first) ** (1 / periods) - 1)


def share_table(counts: pd.Series, index_name: str, total_label: str) -> pd.DataFrame:
    """Counts per category as a table of count, share and Wilson 95 % interval, with a total row.

    The denominator is the sum of all counts; the total row carries the sum and share 1
    (``None`` when the sum is 0). Used for access routes and route groups alike.
    """
    total = int(counts.sum())
    rows = []
    for label, n in counts.items():
        p = wilson_interval(int(n), total)
        rows.append((label, int(n), p.share, p.lower, p.upper))
    rows.append((total_label, total, 1.0 if total else None, None, None))
    frame = pd.DataFrame(
        rows, columns=[index_name, "Anzahl", "Anteil", "Untergrenze", "Obergrenze"]
    )
    return frame.set_index(index_name).astype(
        {
            "Anzahl": pd.Int64Dtype(),
            "Anteil": "float64",
            "Untergrenze": "float64",
            "Obergrenze": "float64",
        }
    )
