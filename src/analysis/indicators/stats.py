"""Statistical helpers shared by the analyses: intervals, tests and models.

Thin, documented wrappers around statsmodels/scipy so every report computes an interval or
a test the same way, with ``None`` instead of an error where the data do not allow it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import gammaincinv, ndtri, stdtrit

from analysis import formatting as fmt

# scipy.stats and statsmodels are imported inside the functions that use them: importing
# them costs about a second, and `fh-analytik kennzahlen` needs neither (issue #11, P3).
# scipy.special (0.1 to 0.25 s) is imported here: every interval needs it, and the
# `fh-analytik` command loads it before the garbage collection resumes (cli.run).


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
    # statsmodels' proportion_confint(method="wilson"), step by step in the same float64
    # operations (the same digits), without importing statsmodels and scipy.stats.
    # The level's alpha as a caller of statsmodels writes it (0.05, not 1 - 0.95 =
    # 0.050000000000000044, whose critical value differs in the last digit).
    alpha = round(1.0 - level, 12)
    crit = -ndtri(alpha / 2.0)  # scipy.stats.norm.isf(alpha / 2)
    crit2 = crit**2
    nobs = np.float64(n)
    q = np.float64(count) / nobs
    denom = 1 + crit2 / nobs
    center = (q + crit2 / (2 * nobs)) / denom
    dist = crit * np.sqrt(q * (1.0 - q) / nobs + crit2 / (4.0 * nobs**2)) / denom
    # At the edges the bound is the share itself (centre and half width are equal there);
    # float64 can leave 1e-17 above 0 or below 1: a lower bound above a share of 0 %.
    # Between the edges both bounds lie strictly inside (0, 1).
    lower = 0.0 if count == 0 else float(center - dist)
    upper = 1.0 if count == n else float(center + dist)
    return Proportion(count, n, count / n, lower, upper)


@dataclass(frozen=True)
class Rate:
    """A count per ``per`` units of exposure with the exact Poisson (Garwood) interval.

    For ratios that are not shares of their denominator (first contacts per 1,000 births:
    the contacts include pregnancies and children over one year, the births count one
    year's newborns). ``None`` throughout when the exposure is missing or 0.
    """

    count: int
    exposure: float | None
    per: float
    rate: float | None
    lower: float | None
    upper: float | None


def poisson_rate(
    count: int, exposure: float | None, *, per: float = 1000.0, level: float = 0.95
) -> Rate:
    """``count / exposure × per`` with Garwood's exact Poisson interval.

    Lower bound χ²(α/2; 2k)/2, upper bound χ²(1−α/2; 2k+2)/2, each divided by the exposure
    (Garwood 1936; statsmodels ``confint_poisson(method="exact-c")``).

    >>> r = poisson_rate(10, 1000)
    >>> round(r.rate, 1), round(r.lower, 3), round(r.upper, 3)
    (10.0, 4.795, 18.39)
    """
    count = int(count)
    if exposure is None or not np.isfinite(exposure) or exposure <= 0:
        return Rate(count, exposure, per, None, None, None)
    if count < 0:
        raise ValueError(f"count {count} below 0")
    alpha = 1 - level
    lower = 0.0 if count == 0 else _chi2_ppf(alpha / 2, 2 * count) / 2
    upper = _chi2_ppf(1 - alpha / 2, 2 * count + 2) / 2
    scale = per / float(exposure)
    return Rate(count, float(exposure), per, count * scale, lower * scale, upper * scale)


def _chi2_ppf(p: float, df: int) -> float:
    """``scipy.stats.chi2.ppf(p, df)`` for 0 < p < 1 and df > 0, in scipy's own formula.

    scipy.special loads in a fraction of the time scipy.stats takes (issue #11, P3).
    """
    return float(2 * gammaincinv(df / 2, p))


def t_ppf(p: float, df: float) -> float:
    """``scipy.stats.t.ppf(p, df)`` (Student's t quantile), in scipy's own formula.

    As :func:`_chi2_ppf`: scipy.special instead of scipy.stats, which alone took 0.4 s of
    every ``kennzahlen`` call (issue #11, P3).
    """
    return float(stdtrit(df, p))


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment of p-values (family-wise error rate), in input order."""
    p = np.asarray(list(p_values), dtype=float)
    m = len(p)
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return [float(v) for v in adjusted]


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
    from scipy.stats import chi2_contingency
    from statsmodels.stats.contingency_tables import Table

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
            f"{format_p(float(res.pvalue))})."
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

    ``method`` ist ``quasi-binomial`` (logistische Regression mit geschätzter Streuung, wenn
    die Jahreswerte mehr streuen, als ein Binomialmodell erlaubt), ``logistisch`` (ohne
    solche Überdispersion: das Binomialmodell),
    ``linear-by-linear`` (Test auf linearen Trend, Cochran-Armitage-Typ, bei wenigen Fällen)
    oder ``keine`` (nicht berechenbar). ``odds_ratio_per_year`` gibt es nur bei der
    Regression. ``dispersion`` ist Pearson-χ²/df der binomialen Anpassung (1 = so viel
    Streuung, wie ein Binomialmodell erwartet; darüber: Überdispersion); die Standardfehler
    sind mit max(1, dispersion) skaliert. ``sites``: Zahl der Standorte, wenn das Modell den
    Standort als Faktor enthält (Vergleich innerhalb der Standorte), sonst ``None``.
    ``p_value_binomial``: der p-Wert, den ein reines Binomialmodell angäbe (zum Vergleich).
    """

    method: str
    n: int
    years: int
    odds_ratio_per_year: float | None
    ci_lower: float | None
    ci_upper: float | None
    p_value: float | None
    note: str
    dispersion: float | None = None
    sites: int | None = None
    p_value_binomial: float | None = None


def _no_trend(n: int, years: int, note: str) -> TrendResult:
    return TrendResult("keine", n, years, None, None, None, None, note)


def share_trend(
    years: Sequence[int],
    successes: Sequence[int],
    totals: Sequence[int],
    *,
    sites: Sequence[str] | None = None,
    min_events: int = 10,
    level: float = 0.95,
) -> TrendResult:
    """Verändert sich ein Anteil (``successes / totals``) linear über die Jahre?

    Mit genug Ereignissen und Nicht-Ereignissen (je mindestens ``min_events``) eine
    logistische Regression des Anteils auf das Jahr, quasi-binomial: Die Streuung φ =
    Pearson-χ²/df wird geschätzt; ist φ > 1, werden die Standardfehler mit √φ vergrößert und
    die Tests nutzen die t-Verteilung mit den Restfreiheitsgraden (wie ``quasibinomial`` in R).
    Jahresanteile schwanken fast immer mehr, als ein Binomialmodell erlaubt; ohne diese
    Korrektur wären die p-Werte viel zu klein. Mit ``sites`` (je Zeile der Standort) ist
    der Standort ein Faktor: Der Trend wird innerhalb der Standorte geschätzt, eine
    Standorteröffnung verschiebt ihn nicht. Sonst der Linear-by-linear-Test auf Trend.
    """
    frame = pd.DataFrame(
        {
            "jahr": _as_float_array(years),
            "k": _as_float_array(successes),
            "n": _as_float_array(totals),
            "standort": list(sites) if sites is not None else "",
        }
    ).dropna()
    frame = frame[frame["n"] > 0].sort_values(["standort", "jahr"])
    n = int(frame["n"].sum())
    k = int(frame["k"].sum())
    n_years = int(frame["jahr"].nunique())
    n_sites = int(frame["standort"].nunique()) if sites is not None else None
    if n_years < 2 or n == 0:
        return _no_trend(
            n,
            n_years,
            "Ein Trend lässt sich nicht prüfen: Es braucht mindestens zwei Jahre mit Fällen.",
        )
    if k == 0 or k == n:
        return _no_trend(
            n,
            n_years,
            "Ein Trend lässt sich nicht prüfen: Der Anteil ist in allen Jahren "
            + ("0 %." if k == 0 else "100 %."),
        )
    if min(k, n - k) >= min_events:
        import statsmodels.api as sm  # deferred: importing it costs seconds on every CLI call

        x = pd.DataFrame({"const": 1.0, "jahr": frame["jahr"] - frame["jahr"].min()})
        if n_sites is not None and n_sites > 1:
            dummies = pd.get_dummies(frame["standort"], prefix="s", drop_first=True, dtype=float)
            x = pd.concat([x, dummies], axis=1)
        endog = np.column_stack([frame["k"], frame["n"] - frame["k"]])
        model = sm.GLM(endog, x.to_numpy(), family=sm.families.Binomial())
        binomial = model.fit()
        df_resid = float(binomial.df_resid)
        dispersion = float(binomial.pearson_chi2 / df_resid) if df_resid > 0 else None
        overdispersed = dispersion is not None and dispersion > 1
        # Without overdispersion the binomial model stands as it is (z tests); a t reference
        # with one or two residual degrees of freedom would throw away a clear trend.
        fit = model.fit(scale=dispersion, use_t=True) if overdispersed else binomial
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
        within = (
            f", innerhalb von {n_sites} Standorten (Standort als Faktor)"
            if n_sites is not None and n_sites > 1
            else ""
        )
        spread = (
            f" Die Jahreswerte streuen {fmt.number(dispersion, 1)}-mal so stark, wie ein "
            "reines Zufallsmodell (binomial) erwartet; Intervall und p-Wert berücksichtigen das."
            if dispersion is not None and dispersion > 1
            else ""
        )
        note = (
            f"Der Anteil {direction} im Mittel je Jahr (Odds Ratio {fmt.number(odds, 2)} je Jahr, "
            f"{fmt.number(level * 100)}-%-Konfidenzintervall {fmt.number(np.exp(lo), 2)} bis "
            f"{fmt.number(np.exp(hi), 2)}; {format_p(p)}; "
            f"{'quasi-binomiale ' if overdispersed else ''}logistische "
            f"Regression über {n_years} Jahre mit {fmt.number(n)} Fällen{within}).{spread} "
            f"{verdict}"
        )
        return TrendResult(
            "quasi-binomial" if overdispersed else "logistisch",
            n,
            n_years,
            odds,
            float(np.exp(lo)),
            float(np.exp(hi)),
            p,
            note,
            dispersion=dispersion,
            sites=n_sites,
            p_value_binomial=float(binomial.pvalues[1]),
        )
    from statsmodels.stats.contingency_tables import Table

    by_year = frame.groupby("jahr")[["k", "n"]].sum().reset_index()
    table = np.column_stack([by_year["k"], by_year["n"] - by_year["k"]])
    res = Table(table, shift_zeros=False).test_ordinal_association(
        row_scores=by_year["jahr"].to_numpy(), col_scores=np.array([1.0, 0.0])
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
        f"{verdict} Auch dieser Test ist bei sehr kleinen Zahlen nur ein grober Hinweis; "
        "Schwankungen über das Zufallsmaß hinaus kann er nicht berücksichtigen."
    )
    return TrendResult("linear-by-linear", n, n_years, None, None, None, p, note, sites=n_sites)


# --- Unterbrochene Zeitreihe (segmentierte Regression) ---------------------------------------

#: Fewest years per segment to estimate the model at all (level and trend per segment plus an
#: AR(1) coefficient need more than the bare 2 points a line needs).
MIN_SEGMENT = 4
#: Fewest years per segment before a test result may be stated as a finding. Simulations
#: (docs/annahmen.md, K8) show that with fewer annual values even autocorrelation-adjusted
#: tests reject far too often when the errors are autocorrelated.
MIN_SEGMENT_CLAIM = 8


@dataclass(frozen=True)
class SegmentedRegression:
    """Segmentierte Regression einer Jahresreihe um ein Startjahr (unterbrochene Zeitreihe).

    Modell: Wert = Niveau + Trend·t + Niveauänderung·D + Trendänderung·(t − t₀)·D mit
    t = Jahre seit dem ersten Jahr, D = 1 ab dem Startjahr. Geschätzt mit OLS und, weil
    Jahreswerte fast immer autokorreliert sind, mit AR(1)-Fehlern (GLSAR, iteriertes
    Cochrane-Orcutt). ``p_level_change``/``p_trend_change`` sind die OLS-p-Werte,
    ``p_*_ar1`` die mit AR(1)-Fehlern; ``p_*_robust`` der vorsichtigere (größere) von
    beiden, den die Sätze verwenden. ``durbin_watson`` und ``p_breusch_godfrey`` (Lag 1)
    prüfen die OLS-Residuen auf Autokorrelation. ``supports_claim`` ist False, wenn die
    Reihe für eine Aussage zu kurz ist (weniger als ``MIN_SEGMENT_CLAIM`` Jahre in einem
    Abschnitt); ``estimable`` ist False, wenn sie nicht einmal zum Schätzen reicht.
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
    durbin_watson: float | None = None
    p_breusch_godfrey: float | None = None
    rho: float | None = None
    p_level_change_ar1: float | None = None
    p_trend_change_ar1: float | None = None
    trend_change_ar1: float | None = None
    supports_claim: bool = False
    min_segment_claim: int = MIN_SEGMENT_CLAIM

    @property
    def p_level_change_robust(self) -> float | None:
        return _cautious(self.p_level_change, self.p_level_change_ar1)

    @property
    def p_trend_change_robust(self) -> float | None:
        return _cautious(self.p_trend_change, self.p_trend_change_ar1)


def _cautious(*p_values: float | None) -> float | None:
    known = [p for p in p_values if p is not None and np.isfinite(p)]
    return max(known) if known else None


_ITS_TERMS = {
    "const": "Niveau im ersten Jahr",
    "t": "Trend je Jahr vor dem Start",
    "d": "Niveauänderung ab Start",
    "td": "Trendänderung je Jahr ab Start",
}


def _its_caveat(n: int, n_before: int, n_after: int, start_year: int) -> str:
    return (
        f"Unterbrochene Zeitreihe mit {n} Jahreswerten ({n_before} vor, {n_after} ab "
        f"{start_year}). Der Test vergleicht den Verlauf nach dem Start mit der Fortschreibung "
        "des Verlaufs davor; er kann keine Ursache belegen: Alles, was sich zur gleichen Zeit "
        "änderte (Gesetze, Fallzahlen, Entgelte, Bevölkerung), wirkt mit. Ein nicht "
        "signifikantes Ergebnis heißt nicht, dass es keine Wirkung gab."
    )


def _autocorrelation_text(dw: float | None, p_bg: float | None) -> str:
    if dw is None:
        return ""
    found = p_bg is not None and p_bg < 0.05
    return (
        f" Die Abweichungen vom Modell sind {'deutlich ' if found else ''}"
        f"{'autokorreliert' if found else 'nicht nachweisbar autokorreliert'} "
        f"(Durbin-Watson {fmt.number(dw, 2)}, Breusch-Godfrey {format_p(p_bg)}); "
        "die p-Werte berücksichtigen Autokorrelation erster Ordnung (AR(1)), es gilt der "
        "vorsichtigere Wert."
    )


def segmented_regression(
    years: Sequence[int],
    values: Sequence[float],
    start_year: int,
    *,
    min_before: int = MIN_SEGMENT,
    min_after: int = MIN_SEGMENT,
    min_segment_claim: int = MIN_SEGMENT_CLAIM,
    level: float = 0.95,
) -> SegmentedRegression:
    """Hat sich Niveau oder Trend einer Jahresreihe ab ``start_year`` verändert?

    OLS und GLSAR mit AR(1)-Fehlern; Durbin-Watson und Breusch-Godfrey (Lag 1) auf den
    OLS-Residuen. Braucht mindestens ``min_before`` Jahre vor und ``min_after`` Jahre ab
    dem Start; sonst ein Ergebnis ohne Schätzwerte. Als Befund (``supports_claim``) gilt
    ein Ergebnis erst mit ``min_segment_claim`` Jahren in jedem Abschnitt.
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
            min_segment_claim=min_segment_claim,
        )
    import statsmodels.api as sm  # deferred: see share_trend
    from statsmodels.stats.diagnostic import acorr_breusch_godfrey
    from statsmodels.stats.stattools import durbin_watson

    t = frame["jahr"] - frame["jahr"].min()
    t0 = start_year - frame["jahr"].min()
    d = after.astype(float)
    x = pd.DataFrame({"const": 1.0, "t": t, "d": d, "td": (t - t0) * d})
    fit = sm.OLS(frame["wert"], x).fit()
    dw = float(durbin_watson(fit.resid))
    p_bg = float(acorr_breusch_godfrey(fit, nlags=1, result_object=False)[1])
    ar1 = sm.GLSAR(frame["wert"], x, rho=1).iterative_fit(maxiter=50)
    rho = float(np.atleast_1d(ar1.model.rho)[0])
    ci = fit.conf_int(alpha=1 - level)
    coefficients = pd.DataFrame(
        {
            "koeffizient": [_ITS_TERMS[c] for c in x.columns],
            "schaetzung": fit.params.to_numpy(),
            "untere_grenze": ci[0].to_numpy(),
            "obere_grenze": ci[1].to_numpy(),
            "p_wert": fit.pvalues.to_numpy(),
            "p_wert_ar1": ar1.pvalues.to_numpy(),
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
    supports = n_before >= min_segment_claim and n_after >= min_segment_claim
    text = caveat + _autocorrelation_text(dw, p_bg)
    if not supports:
        text += (
            f" Die Reihe ist zu kurz, um eine Änderung zu belegen: Mit weniger als "
            f"{min_segment_claim} Jahreswerten in einem Abschnitt (hier {n_before} vor und "
            f"{n_after} ab {start_year}) lehnen auch autokorrelationsbereinigte Tests viel zu "
            "oft ab; die Zahlen sind nur beschreibend."
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
        caveat=text,
        durbin_watson=dw,
        p_breusch_godfrey=p_bg,
        rho=rho,
        p_level_change_ar1=float(ar1.pvalues["d"]),
        p_trend_change_ar1=float(ar1.pvalues["td"]),
        trend_change_ar1=float(ar1.params["td"]),
        supports_claim=supports,
        min_segment_claim=min_segment_claim,
    )


# --- Kurze Prognose ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Forecast:
    """Beobachtete Jahre und Prognosejahre mit Vorhersageintervall.

    ``table`` hat die Spalten jahr, wert (beobachtet, sonst leer), prognose, untergrenze,
    obergrenze und art (``beobachtet`` / ``prognose``). Ohne genug Jahre enthält sie nur
    die beobachteten Zeilen, und ``caveat`` sagt warum. ``backtest``: je Modell die
    Ein-Jahres-Vorhersagen eines rollierenden Ursprungs (jahr, modell, prognose,
    untergrenze, obergrenze, wert, getroffen); ``coverage``: Anteil der Jahre, deren Wert im
    Vorhersageintervall des gewählten Modells lag; ``mae``: mittlerer absoluter Fehler je Modell.
    """

    table: pd.DataFrame
    method: str
    level: float
    caveat: str
    backtest: pd.DataFrame | None = None
    coverage: float | None = None
    mae: dict[str, float] = field(default_factory=dict)


def _observed(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "jahr": frame["jahr"].astype(int),
            "wert": frame["wert"],
            "prognose": np.nan,
            "untergrenze": np.nan,
            "obergrenze": np.nan,
            "art": "beobachtet",
        }
    )


def _clean_series(years: Sequence[int], values: Sequence[float]) -> pd.DataFrame:
    frame = pd.DataFrame({"jahr": _as_float_array(years), "wert": _as_float_array(values)})
    return frame.dropna().sort_values("jahr").reset_index(drop=True)


LINEAR = "Linearer Trend (Kleinste Quadrate)"
DAMPED = "Gedämpfter Trend (Holt, exponentielle Glättung)"


def _linear_predict(
    values: np.ndarray, horizon: int, level: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import statsmodels.api as sm

    t = np.arange(len(values), dtype=float)
    fit = sm.OLS(values, sm.add_constant(t)).fit()
    future = np.arange(len(values), len(values) + horizon, dtype=float)
    pred = fit.get_prediction(sm.add_constant(future, has_constant="add")).summary_frame(
        alpha=1 - level
    )
    return (
        pred["mean"].to_numpy(),
        pred["obs_ci_lower"].to_numpy(),
        pred["obs_ci_upper"].to_numpy(),
    )


def _damped_predict(
    values: np.ndarray, horizon: int, level: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import warnings

    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    with warnings.catch_warnings():
        # Short annual series: the optimiser often warns about convergence; the backtest
        # judges the result instead.
        warnings.simplefilter("ignore")
        model = ETSModel(
            pd.Series(values, dtype=float), error="add", trend="add", damped_trend=True
        )
        fit = model.fit(disp=False)
        pred = fit.get_prediction(start=len(values), end=len(values) + horizon - 1)
        frame = pred.summary_frame(alpha=1 - level)
    return (
        frame["mean"].to_numpy(),
        frame["pi_lower"].to_numpy(),
        frame["pi_upper"].to_numpy(),
    )


_MODELS = {LINEAR: _linear_predict, DAMPED: _damped_predict}


def rolling_origin_backtest(
    years: Sequence[int],
    values: Sequence[float],
    *,
    min_train: int = 6,
    level: float = 0.95,
    models: Sequence[str] = (LINEAR, DAMPED),
) -> pd.DataFrame:
    """One-year-ahead forecasts from every origin with at least ``min_train`` years before it.

    For each origin year the model is fitted to the years before it only and predicts that
    year; ``getroffen`` says whether the observed value lay within the prediction interval.
    """
    frame = _clean_series(years, values)
    rows = []
    for i in range(min_train, len(frame)):
        train = frame["wert"].to_numpy()[:i]
        actual = float(frame["wert"].iloc[i])
        for name in models:
            try:
                mean, lo, hi = _MODELS[name](train, 1, level)
            except (ValueError, np.linalg.LinAlgError):  # pragma: no cover - degenerate fits
                continue
            rows.append(
                {
                    "jahr": int(frame["jahr"].iloc[i]),
                    "modell": name,
                    "prognose": float(mean[0]),
                    "untergrenze": float(lo[0]),
                    "obergrenze": float(hi[0]),
                    "wert": actual,
                    "getroffen": bool(lo[0] <= actual <= hi[0]),
                }
            )
    return pd.DataFrame(
        rows,
        columns=["jahr", "modell", "prognose", "untergrenze", "obergrenze", "wert", "getroffen"],
    )


def _future(last: int, horizon: int, mean: Any, lo: Any, hi: Any) -> pd.DataFrame:
    """The forecast rows after the last observed year."""
    return pd.DataFrame(
        {
            "jahr": np.arange(last + 1, last + 1 + horizon),
            "wert": np.nan,
            "prognose": mean,
            "untergrenze": lo,
            "obergrenze": hi,
            "art": "prognose",
        }
    )


def _no_forecast(observed: pd.DataFrame, level: float, min_points: int, n: int) -> Forecast:
    """The forecast that says why there is none (too few years)."""
    return Forecast(
        observed,
        LINEAR,
        level,
        f"Keine Prognose: Es braucht mindestens {min_points} Jahreswerte, vorhanden sind {n}.",
    )


def forecast(
    years: Sequence[int],
    values: Sequence[float],
    horizon: int = 3,
    *,
    level: float = 0.95,
    min_points: int = 8,
    min_train: int = 6,
) -> Forecast:
    """Kurze Prognose mit dem Modell, das im rollierenden Rückblick am besten vorhersagte.

    Kandidaten: linearer Trend (OLS) und gedämpfter Trend (Holt/ETS, additiv). Für jedes Jahr
    ab dem ``min_train``-ten wird jedes Modell nur auf die Jahre davor angepasst und sagt
    das Jahr voraus; gewählt wird das Modell mit dem kleineren mittleren absoluten Fehler.
    Der Anteil der Jahre, die im Vorhersageintervall lagen (``coverage``), gehört neben
    das Intervall: Liegt er deutlich unter dem Nennniveau, ist das Intervall zu schmal.
    """
    frame = _clean_series(years, values)
    observed = _observed(frame)
    if len(frame) < min_points or horizon < 1:
        return _no_forecast(observed, level, min_points, len(frame))
    backtest = rolling_origin_backtest(
        frame["jahr"], frame["wert"], min_train=min_train, level=level
    )
    errors = (backtest["prognose"] - backtest["wert"]).abs().groupby(backtest["modell"]).mean()
    mae = {str(k): float(v) for k, v in errors.items()}
    method = min(mae, key=lambda m: mae[m]) if mae else LINEAR
    chosen = backtest[backtest["modell"] == method]
    coverage = float(chosen["getroffen"].mean()) if len(chosen) else None
    mean, lo, hi = _MODELS[method](frame["wert"].to_numpy(), horizon, level)
    future = _future(int(frame["jahr"].max()), horizon, mean, lo, hi)
    hit = (
        f" Im Rückblick ({len(chosen)} Jahre, jeweils nur mit den Jahren davor vorhergesagt) "
        f"lagen {fmt.percent(coverage, 0)} der Werte im {fmt.number(level * 100)}-%-"
        "Vorhersageintervall"
        + (
            "; das Intervall ist also eher zu schmal."
            if coverage is not None and coverage < level - 0.1
            else "."
        )
        if coverage is not None
        else ""
    )
    caveat = (
        f"Prognose mit dem Modell „{method}“ aus {len(frame)} Jahreswerten, gewählt nach dem "
        f"kleineren mittleren Fehler der Ein-Jahres-Vorhersagen im Rückblick.{hit} Sie "
        "unterstellt, dass der bisherige Verlauf anhält; Gesetzesänderungen, neue Hilfearten "
        "oder Entgeltsteigerungen sind nicht enthalten. Je weiter ein Jahr in der Zukunft "
        "liegt, desto unsicherer ist es."
    )
    return Forecast(
        pd.concat([observed, future], ignore_index=True),
        method,
        level,
        caveat,
        backtest=backtest,
        coverage=coverage,
        mae=mae,
    )


def linear_trend_forecast(
    years: Sequence[int],
    values: Sequence[float],
    horizon: int = 3,
    *,
    level: float = 0.95,
    min_points: int = 4,
) -> Forecast:
    """Fortschreibung des linearen Trends (OLS) um ``horizon`` Jahre mit Vorhersageintervall.

    Ohne Modellwahl und Rückblick; für Berichte :func:`forecast` verwenden. Das Intervall
    unterstellt unabhängige Abweichungen vom Trend und ist bei autokorrelierten
    Jahreswerten zu schmal.
    """
    frame = _clean_series(years, values)
    observed = _observed(frame)
    if len(frame) < min_points or horizon < 1:
        return _no_forecast(observed, level, min_points, len(frame))
    mean, lo, hi = _linear_predict(frame["wert"].to_numpy(), horizon, level)
    future = _future(int(frame["jahr"].max()), horizon, mean, lo, hi)
    caveat = (
        f"Fortschreibung des linearen Trends aus {len(frame)} Jahreswerten mit "
        f"{fmt.number(level * 100)}-%-Vorhersageintervall. Sie unterstellt, dass der bisherige "
        "Verlauf anhält; Gesetzesänderungen, neue Hilfearten oder Entgeltsteigerungen sind "
        "nicht enthalten. Je weiter ein Jahr in der Zukunft liegt, desto unsicherer ist es."
    )
    return Forecast(pd.concat([observed, future], ignore_index=True), LINEAR, level, caveat)


# --- Trichterdiagramm (Funnel plot) -------------------------------------------------------------


def poisson_control_limit(target_rate: float, exposure: float, p: float) -> float:
    """Control limit of a Poisson rate at probability ``p`` for an exposure (Spiegelhalter 2005).

    The ``p``-quantile r of Poisson(θ = rate × exposure), interpolated between r − 1 and r
    so the limits are smooth in the exposure, divided by the exposure.
    """
    from scipy.stats import poisson

    theta = target_rate * exposure
    if exposure <= 0:
        return float("nan")
    r = float(poisson.ppf(p, theta))
    below = float(poisson.cdf(r - 1, theta)) if r > 0 else 0.0
    at = float(poisson.cdf(r, theta))
    alpha = (at - p) / (at - below) if at > below else 0.0
    return max(0.0, r - alpha) / exposure


def funnel_limits(
    target_rate: float, exposures: Sequence[float], levels: Sequence[float] = (0.95, 0.998)
) -> pd.DataFrame:
    """Lower and upper control limits around ``target_rate`` for each exposure and level.

    Columns ``exposition``, and per level ``unten_95``/``oben_95`` (``unten_99_8``, …).
    """
    exposures = [float(e) for e in exposures]
    out = pd.DataFrame({"exposition": exposures})
    for level in levels:
        tag = fmt.number(level * 100, 1 if level * 100 % 1 else 0).replace(",", "_")
        lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
        out[f"unten_{tag}"] = [poisson_control_limit(target_rate, e, lo) for e in exposures]
        out[f"oben_{tag}"] = [poisson_control_limit(target_rate, e, hi) for e in exposures]
    return out


def normal_two_sided_p(z: float) -> float:
    """Two-sided p-value of a standard normal statistic (for adjusted residuals)."""
    from scipy.stats import norm

    return float(2 * norm.sf(abs(z)))


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
