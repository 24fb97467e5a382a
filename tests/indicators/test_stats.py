"""Shared statistics: chi-square with residuals, trend tests, segmented regression, forecast."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.indicators import stats


def test_wilson_interval_small_sample_and_empty():
    p = stats.wilson_interval(5, 20)
    assert p.share == 0.25
    assert (round(p.lower, 4), round(p.upper, 4)) == (0.1119, 0.4687)
    assert stats.wilson_interval(0, 0).share is None


def test_chi_square_statistic_and_adjusted_residuals_by_hand():
    # 2x2 table [[10, 20], [30, 5]], n = 65; row sums 30/35, column sums 40/25.
    # expected: 30*40/65 = 18.4615, 30*25/65 = 11.5385, 35*40/65 = 21.5385, 35*25/65 = 13.4615
    # every |o-e| = 8.4615, so chi2 = 71.598*(1/18.4615 + 1/11.5385 + 1/21.5385 + 1/13.4615)
    #      = 71.598 * 0.261548 = 18.726
    # adjusted residual (0,0) = -8.4615/sqrt(18.4615*(1-30/65)*(1-40/65)) = -8.4615/1.9554 = -4.3274
    table = pd.DataFrame([[10, 20], [30, 5]], index=["a", "b"], columns=["x", "y"])
    res = stats.chi_square_independence(table)
    assert res is not None
    assert res.statistic == pytest.approx(18.726, abs=1e-3)
    assert res.dof == 1
    assert res.n == 65
    assert res.expected.loc["a", "x"] == pytest.approx(18.4615, abs=1e-4)
    assert res.residuals.loc["a", "x"] == pytest.approx(-4.3274, abs=1e-4)
    assert res.residuals.loc["b", "x"] == pytest.approx(4.3274, abs=1e-4)
    assert res.reliable
    assert "reichen" in res.note and "χ² = 18,73" in res.note


def test_chi_square_flags_small_expected_counts():
    # n = 7: every expected count is below 5 (100 % of cells) -> not reliable
    res = stats.chi_square_independence(pd.DataFrame([[1, 2], [3, 1]]))
    assert res is not None
    assert not res.reliable
    assert res.share_expected_below_5 == 1.0
    assert "nicht verlässlich" in res.note


def test_chi_square_drops_empty_rows_and_needs_two_by_two():
    table = pd.DataFrame([[5, 0], [7, 0]], index=["a", "b"], columns=["x", "y"])
    assert stats.chi_square_independence(table) is None  # column y empty -> 2x1
    with_empty_row = pd.DataFrame([[10, 20], [30, 5], [0, 0]], index=["a", "b", "c"])
    res = stats.chi_square_independence(with_empty_row)
    assert res is not None and list(res.observed.index) == ["a", "b"]


def test_expected_counts_rule_boundaries():
    # 1 of 5 cells below 5 = 20 % -> allowed; one cell below 1 -> not allowed
    assert stats.expected_counts_ok(np.array([4.0, 6, 7, 8, 9]))[0]
    assert not stats.expected_counts_ok(np.array([4.0, 4, 7, 8, 9]))[0]
    assert not stats.expected_counts_ok(np.array([0.5, 6, 7, 8, 9, 10]))[0]


def test_share_trend_logistic_recovers_rising_share():
    # shares 20 %, 30 %, 45 % of 100 each: clearly rising, enough events for the GLM
    res = stats.share_trend([2012, 2013, 2014], [20, 30, 45], [100, 100, 100])
    assert res.method == "logistisch"
    assert res.odds_ratio_per_year is not None and res.odds_ratio_per_year > 1
    assert res.ci_lower is not None and res.ci_lower > 1
    assert res.p_value is not None and res.p_value < 0.05
    assert res.note.startswith("Der Anteil steigt im Mittel je Jahr (Odds Ratio 1,82 je Jahr")
    assert res.note.endswith(
        "logistische Regression über 3 Jahre mit 300 Fällen). Der Trend ist statistisch "
        "gesichert (5-%-Niveau)."
    )
    # The same shares backwards: the odds ratio is the inverse, 1 / 1.82 = 0.55, falling.
    back = stats.share_trend([2012, 2013, 2014], [45, 30, 20], [100, 100, 100])
    assert back.odds_ratio_per_year == pytest.approx(1 / res.odds_ratio_per_year)
    assert back.note.startswith("Der Anteil sinkt im Mittel je Jahr (Odds Ratio 0,55 je Jahr")
    # Nearly flat (30, 31, 33 %): not secured.
    flat = stats.share_trend([2012, 2013, 2014], [30, 31, 33], [100, 100, 100])
    assert flat.p_value is not None and flat.p_value > 0.05
    assert flat.note.endswith(
        "Der Trend ist statistisch nicht gesichert; die Schwankung kann Zufall sein."
    )


def test_share_trend_small_n_uses_linear_by_linear():
    # 7 events in 30 cases: fewer than 10 events -> the simpler trend test
    res = stats.share_trend([2012, 2013, 2014], [1, 2, 4], [10, 10, 10])
    assert res.method == "linear-by-linear"
    assert res.odds_ratio_per_year is None
    assert res.p_value is not None and 0 < res.p_value < 1
    assert "Wenige Fälle" in res.note


def test_share_trend_not_computable():
    assert stats.share_trend([2014], [3], [10]).method == "keine"
    assert stats.share_trend([2013, 2014], [0, 0], [10, 12]).method == "keine"
    assert stats.share_trend([], [], []).p_value is None
    # Without a trend the result still says how many cases and years there were, and why.
    one_year = stats.share_trend([2014], [3], [10])
    assert (one_year.n, one_year.years) == (10, 1)
    assert one_year.note == (
        "Ein Trend lässt sich nicht prüfen: Es braucht mindestens zwei Jahre mit Fällen."
    )
    zeros = stats.share_trend([2013, 2014], [0, 0], [10, 12])
    assert (zeros.n, zeros.years) == (22, 2)
    assert zeros.note == "Ein Trend lässt sich nicht prüfen: Der Anteil ist in allen Jahren 0 %."


def test_segmented_regression_recovers_level_change():
    # y = 10 + 2 t before 2010; from 2010 the level jumps by 5 and the trend stays 2 (+0)
    years = list(range(2005, 2015))
    values = [10 + 2 * t + (5 if y >= 2010 else 0) for t, y in enumerate(years)]
    values[7] += 0.1  # a little noise so the residual variance is not exactly 0
    res = stats.segmented_regression(years, values, 2010)
    assert res.estimable
    assert (res.n, res.n_before, res.n_after) == (10, 5, 5)
    assert res.trend == pytest.approx(2, abs=0.05)
    assert res.level_change == pytest.approx(5, abs=0.2)
    assert res.trend_change == pytest.approx(0, abs=0.1)
    assert res.coefficients is not None and list(res.coefficients.index) == [
        "const",
        "t",
        "d",
        "td",
    ]
    assert list(res.coefficients.columns) == [
        "koeffizient",
        "schaetzung",
        "untere_grenze",
        "obere_grenze",
        "p_wert",
        "p_wert_ar1",
    ]
    assert res.coefficients.loc["d", "schaetzung"] == pytest.approx(res.level_change)
    assert res.fitted is not None and math.isnan(res.fitted["ohne_unterbrechung"].iloc[0])
    assert "zu kurz" in res.caveat and not res.supports_claim


def test_segmented_regression_too_few_years_is_not_an_error():
    res = stats.segmented_regression([2011, 2012, 2013, 2014], [1, 2, 3, 4], 2012)
    assert not res.estimable
    assert (res.start_year, res.n, res.n_before, res.n_after) == (2012, 4, 1, 3)
    assert res.level_change is None and res.coefficients is None
    assert "Nicht berechenbar" in res.caveat and "vorhanden sind 1 und 3" in res.caveat


def test_linear_trend_forecast_on_exact_line():
    # y = 100 + 10 * (year - 2011) with a tiny wiggle: 2015 -> 140, interval around it
    years = [2011, 2012, 2013, 2014]
    values = [100.0, 110.5, 119.5, 130.0]
    fc = stats.linear_trend_forecast(years, values, horizon=2)
    future = fc.table[fc.table["art"] == "prognose"]
    assert list(future["jahr"]) == [2015, 2016]
    # OLS slope = 9.9, intercept 100.15 -> 2015: 100.15 + 4*9.9 = 139.75
    assert future["prognose"].iloc[0] == pytest.approx(139.75)
    assert (future["untergrenze"] < future["prognose"]).all()
    assert (future["obergrenze"] > future["prognose"]).all()
    # the interval widens further out
    widths = future["obergrenze"] - future["untergrenze"]
    assert widths.iloc[1] > widths.iloc[0]
    assert fc.caveat == (
        "Fortschreibung des linearen Trends aus 4 Jahreswerten mit 95-%-Vorhersageintervall. "
        "Sie unterstellt, dass der bisherige Verlauf anhält; Gesetzesänderungen, neue "
        "Hilfearten oder Entgeltsteigerungen sind nicht enthalten. Je weiter ein Jahr in der "
        "Zukunft liegt, desto unsicherer ist es."
    )


def test_the_autocorrelation_note_says_what_the_tests_found():
    tail = (
        "die p-Werte berücksichtigen Autokorrelation erster Ordnung (AR(1)), es gilt der "
        "vorsichtigere Wert."
    )
    assert stats._autocorrelation_text(1.9, 0.4) == (
        " Die Abweichungen vom Modell sind nicht nachweisbar autokorreliert (Durbin-Watson "
        "1,90, Breusch-Godfrey p = 0,400); " + tail
    )
    assert stats._autocorrelation_text(0.8, 0.01) == (
        " Die Abweichungen vom Modell sind deutlich autokorreliert (Durbin-Watson 0,80, "
        "Breusch-Godfrey p = 0,010); " + tail
    )
    assert stats._autocorrelation_text(None, None) == ""


def test_linear_trend_forecast_too_few_points():
    fc = stats.linear_trend_forecast([2013, 2014], [1.0, 2.0])
    assert (fc.table["art"] == "beobachtet").all()
    assert fc.caveat == ("Keine Prognose: Es braucht mindestens 4 Jahreswerte, vorhanden sind 2.")
    assert (fc.method, fc.level) == (stats.LINEAR, 0.95)
    # Four years are enough; a horizon below 1 year gives no forecast either.
    years, values = [2011, 2012, 2013, 2014], [100.0, 110.5, 119.5, 130.0]
    assert "Keine Prognose" in stats.linear_trend_forecast(years, values, horizon=0).caveat
    assert "Keine Prognose" in stats.linear_trend_forecast(years[1:], values[1:]).caveat


def test_linear_trend_forecast_horizon_labels_and_rows():
    years, values = [2011, 2012, 2013, 2014], [100.0, 110.5, 119.5, 130.0]
    default = stats.linear_trend_forecast(years, values)  # three years ahead by default
    assert (default.method, default.level) == (stats.LINEAR, 0.95)
    assert list(default.table["jahr"]) == [2011, 2012, 2013, 2014, 2015, 2016, 2017]
    assert list(default.table.index) == list(range(7))  # one row number per year
    one = stats.linear_trend_forecast(years, values, horizon=1, level=0.8)
    assert list(one.table.loc[one.table["art"] == "prognose", "jahr"]) == [2015]
    assert one.level == 0.8 and "80-%-Vorhersageintervall" in one.caveat


def test_compound_growth():
    # seed 004: 12,190,000 -> 13,612,000 over 3 years: (13612/12190)^(1/3) - 1 = 0.037463
    assert stats.compound_growth(12_190_000, 13_612_000, 3) == pytest.approx(0.037463, abs=1e-6)
    assert stats.compound_growth(0, 10, 3) is None
    assert stats.compound_growth(None, 10, 3) is None
    assert stats.compound_growth(10, 20, 0) is None


def test_format_p():
    assert stats.format_p(0.0001) == "p < 0,001"
    assert stats.format_p(0.0342) == "p = 0,034"
    assert stats.format_p(None) == "p nicht berechenbar"


def test_share_table_counts_shares_intervals_and_total():
    counts = pd.Series({"Klinik": 3, "Hebamme": 1, "Jugendamt": 0})
    table = stats.share_table(counts, "Zugangsweg", "Insgesamt")
    # total 3 + 1 + 0 = 4; shares 3/4 = 0.75, 1/4 = 0.25, 0/4 = 0
    assert list(table.index) == ["Klinik", "Hebamme", "Jugendamt", "Insgesamt"]
    assert table["Anzahl"].tolist() == [3, 1, 0, 4]
    assert table["Anteil"].tolist()[:3] == [0.75, 0.25, 0.0]
    assert table.loc["Insgesamt", "Anteil"] == 1.0
    klinik = stats.wilson_interval(3, 4)
    assert table.loc["Klinik", "Untergrenze"] == pytest.approx(klinik.lower)
    assert pd.isna(table.loc["Insgesamt", "Untergrenze"])
    # No cases: no shares, not 0.
    empty = stats.share_table(pd.Series({"Klinik": 0}), "Zugangsweg", "Insgesamt")
    assert empty["Anteil"].isna().all()


# --- issue 10: honest uncertainty, checked against statsmodels/scipy called directly -------------


def test_poisson_rate_is_garwoods_exact_interval():
    from statsmodels.stats.rates import confint_poisson

    with pytest.raises(ValueError, match="count -1 below 0"):
        stats.poisson_rate(-1, 10.0)

    for count, exposure in [(0, 50.0), (3, 40.0), (10, 1000.0), (412, 1602.0)]:
        r = stats.poisson_rate(count, exposure)
        lo, hi = confint_poisson(count, exposure, method="exact-c")
        assert r.rate == pytest.approx(count / exposure * 1000)
        assert r.lower == pytest.approx(lo * 1000, rel=1e-9, abs=1e-12)
        assert r.upper == pytest.approx(hi * 1000, rel=1e-9)
    # Textbook: 10 events -> 4.795 to 18.39 (e.g. Ulm 1990, Table 1).
    r = stats.poisson_rate(10, 1, per=1)
    assert (round(r.lower, 3), round(r.upper, 2)) == (4.795, 18.39)
    assert stats.poisson_rate(5, 0).rate is None
    assert stats.poisson_rate(5, None).lower is None


def test_holm_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests

    p = [0.01, 0.04, 0.03, 0.005, 0.5]
    assert stats.holm_adjust(p) == pytest.approx(list(multipletests(p, method="holm")[1]))
    assert stats.holm_adjust([]) == []


def _overdispersed():
    # Shares that jump around far more than binomial noise with n = 400 a year allows.
    years = list(range(2011, 2021))
    k = [40, 95, 52, 110, 70, 130, 88, 150, 96, 170]
    return years, k, [400] * len(years)


def test_share_trend_is_quasi_binomial_like_statsmodels():
    import statsmodels.api as sm

    years, k, n = _overdispersed()
    res = stats.share_trend(years, k, n)
    # Independent computation: binomial GLM, dispersion = Pearson chi2 / df, refit with it.
    x = sm.add_constant(np.array(years, dtype=float) - years[0])
    endog = np.column_stack([k, np.array(n) - np.array(k)])
    binomial = sm.GLM(endog, x, family=sm.families.Binomial()).fit()
    phi = binomial.pearson_chi2 / binomial.df_resid
    quasi = sm.GLM(endog, x, family=sm.families.Binomial()).fit(scale=phi, use_t=True)
    assert res.method == "quasi-binomial"
    assert res.dispersion == pytest.approx(phi)
    assert phi > 5  # strongly overdispersed
    assert res.p_value == pytest.approx(quasi.pvalues[1])
    assert res.p_value_binomial == pytest.approx(binomial.pvalues[1])
    assert res.p_value > 100 * res.p_value_binomial  # the naive p-value is far too small
    assert res.odds_ratio_per_year == pytest.approx(np.exp(quasi.params[1]))
    assert "streuen" in res.note


def test_share_trend_never_shrinks_below_binomial():
    import statsmodels.api as sm

    # Underdispersed (smoother than binomial): the binomial model as it is (scale 1, z test).
    res = stats.share_trend([2012, 2013, 2014], [20, 30, 45], [100, 100, 100])
    assert res.dispersion is not None and res.dispersion < 1
    x = sm.add_constant(np.array([0.0, 1.0, 2.0]))
    endog = np.array([[20, 80], [30, 70], [45, 55]])
    fit = sm.GLM(endog, x, family=sm.families.Binomial()).fit()
    assert res.p_value == pytest.approx(fit.pvalues[1])


def test_share_trend_with_site_factor_ignores_a_site_opening():
    # Site a: 20 % every year. Site b opens in 2016 with 60 % every year. Pooled, the share
    # rises because the mix changes; within the sites nothing changes.
    years, k, n, sites = [], [], [], []
    for y in range(2011, 2021):
        years.append(y), k.append(20 + (y % 2)), n.append(100), sites.append("a")
        if y >= 2016:
            years.append(y), k.append(60 - (y % 2)), n.append(100), sites.append("b")
    pooled = stats.share_trend(
        list(pd.Series(years).groupby(years).first().index),
        list(pd.Series(k).groupby(years).sum()),
        list(pd.Series(n).groupby(years).sum()),
    )
    within = stats.share_trend(years, k, n, sites=sites)
    assert pooled.p_value < 0.05 and pooled.odds_ratio_per_year > 1.1
    assert within.sites == 2 and within.p_value > 0.2
    assert within.odds_ratio_per_year == pytest.approx(1.0, abs=0.05)
    assert "innerhalb von 2 Standorten" in within.note


def _ar1_series(seed: int, n: int = 18, phi: float = 0.8) -> tuple[list[int], list[float]]:
    """A straight line (no change at all) plus AR(1) errors with coefficient ``phi``."""
    rng = np.random.default_rng(seed)
    e = np.zeros(n)
    e[0] = rng.normal() / np.sqrt(1 - phi**2)
    for i in range(1, n):
        e[i] = phi * e[i - 1] + rng.normal()
    return list(range(2000, 2000 + n)), list(100 + 2 * np.arange(n) + e)


def test_segmented_regression_diagnostics_match_statsmodels():
    import statsmodels.api as sm
    from statsmodels.stats.diagnostic import acorr_breusch_godfrey
    from statsmodels.stats.stattools import durbin_watson

    years, values = _ar1_series(29)
    res = stats.segmented_regression(years, values, 2008)
    t = np.arange(len(years), dtype=float)
    d = (t >= 8).astype(float)
    x = np.column_stack([np.ones_like(t), t, d, (t - 8) * d])
    ols = sm.OLS(values, x).fit()
    glsar = sm.GLSAR(values, x, rho=1).iterative_fit(maxiter=50)
    assert res.p_trend_change == pytest.approx(ols.pvalues[3])
    assert res.durbin_watson == pytest.approx(durbin_watson(ols.resid))
    assert res.p_breusch_godfrey == pytest.approx(
        acorr_breusch_godfrey(ols, nlags=1, result_object=False)[1]
    )
    assert res.p_trend_change_ar1 == pytest.approx(glsar.pvalues[3])
    assert res.rho == pytest.approx(glsar.model.rho[0])


def test_known_ar1_errors_naive_p_wrong_ours_not():
    # No change at all in the true series; the errors are AR(1) with phi = 0.8.
    years, values = _ar1_series(29)
    res = stats.segmented_regression(years, values, 2008)
    assert res.p_trend_change < 0.001  # naive OLS: a "highly significant" trend change
    assert res.durbin_watson < 1.0 and res.p_breusch_godfrey < 0.05
    assert res.p_trend_change_robust > 0.1  # ours: nothing to see
    from analysis.indicators.costs import describe_its

    text = describe_its(res, unit="zahl")
    assert "statistisch nicht gesichert" in text
    assert "Autokorrelation" in text


def test_ar1_false_alarms_fall_over_many_series():
    # 150 series of 40 years without any change, AR(1) errors phi = 0.7, start after 20 years:
    # OLS "finds" a trend change in far more than 5 % of them; the cautious p-value in far fewer.
    naive = ours = 0
    for seed in range(150):
        years, values = _ar1_series(1000 + seed, n=40, phi=0.7)
        res = stats.segmented_regression(years, values, 2020)
        naive += res.p_trend_change < 0.05
        ours += res.supports_claim and res.p_trend_change_robust < 0.05
    assert naive / 150 > 0.35
    assert ours / 150 < 0.6 * naive / 150


def test_segments_need_four_years_and_claims_eight():
    res = stats.segmented_regression(list(range(2008, 2016)), [1, 2, 3, 5, 5, 6, 8, 8], 2011)
    assert not res.estimable and "mindestens 4 Jahre vor" in res.caveat
    res = stats.segmented_regression(
        list(range(2007, 2019)), [1, 2, 3, 4, 6, 6, 7, 9, 9, 10, 12, 12], 2011
    )
    assert res.estimable and not res.supports_claim
    assert "zu kurz" in res.caveat


def test_backtest_linear_forecast_equals_statsmodels_prediction():
    import statsmodels.api as sm

    years = list(range(2010, 2020))
    values = [10.0, 12.5, 13.9, 16.2, 17.8, 20.5, 21.9, 24.4, 25.6, 28.3]
    backtest = stats.rolling_origin_backtest(years, values, min_train=6)
    assert list(backtest.columns) == [
        "jahr",
        "modell",
        "prognose",
        "untergrenze",
        "obergrenze",
        "wert",
        "getroffen",
    ]
    linear = backtest[backtest["modell"] == stats.LINEAR].set_index("jahr")
    assert list(linear.index) == [2016, 2017, 2018, 2019]
    # Origin 2018: fit on 2010-2017 only, predict 2018.
    t = np.arange(8, dtype=float)
    fit = sm.OLS(values[:8], sm.add_constant(t)).fit()
    pred = fit.get_prediction(np.array([[1.0, 8.0]])).summary_frame(alpha=0.05)
    assert linear.loc[2018, "prognose"] == pytest.approx(pred["mean"].iloc[0])
    assert linear.loc[2018, "obergrenze"] == pytest.approx(pred["obs_ci_upper"].iloc[0])
    assert linear.loc[2018, "getroffen"] == bool(
        pred["obs_ci_lower"].iloc[0] <= values[8] <= pred["obs_ci_upper"].iloc[0]
    )


def test_forecast_picks_the_model_with_the_smaller_backtest_error_and_reports_coverage():
    # A series that levels off: the straight line keeps overshooting, the damped trend not.
    years = list(range(2008, 2022))
    values = [100 * (1 - 0.8**i) + w for i, w in enumerate([0, 1, -1, 0.5, 0, -0.5, 1] * 2)]
    fc = stats.forecast(years, values, horizon=2)
    assert set(fc.mae) == {stats.LINEAR, stats.DAMPED}
    assert fc.method == min(fc.mae, key=fc.mae.get) == stats.DAMPED
    chosen = fc.backtest[fc.backtest["modell"] == fc.method]
    assert fc.coverage == pytest.approx(chosen["getroffen"].mean())
    assert "Im Rückblick" in fc.caveat and "Vorhersageintervall" in fc.caveat
    # "too narrow" only when the coverage falls more than 10 points below the 95 % level:
    # here 3 of 4 years (75 %) lay inside; a steady line has all 4 inside.
    assert fc.coverage == 0.75 and "das Intervall ist also eher zu schmal." in fc.caveat
    steady = stats.forecast(list(range(2010, 2020)), [10.0 + 2 * i for i in range(10)])
    assert steady.coverage == 1.0 and "eher zu schmal" not in steady.caveat
    future = fc.table[fc.table["art"] == "prognose"]
    assert list(future["jahr"]) == [2022, 2023]
    assert (future["untergrenze"] < future["prognose"]).all()
    assert "Keine Prognose" in stats.forecast(years[:5], values[:5]).caveat


def test_funnel_limits_narrow_with_exposure_and_approach_the_normal_limits():
    from scipy.stats import norm

    rate = 0.25
    limits = stats.funnel_limits(rate, [100, 1_000, 1_000_000])
    width = limits["oben_95"] - limits["unten_95"]
    assert width.is_monotonic_decreasing
    assert (limits["unten_99_8"] < limits["unten_95"]).all()
    # Large exposure: Poisson limits ~ rate +- z * sqrt(rate / E).
    z = norm.ppf(0.975)
    assert limits["oben_95"].iloc[2] == pytest.approx(rate + z * (rate / 1e6) ** 0.5, rel=1e-3)
    # Small exposure by hand: theta = 0.25 * 100 = 25; upper 97.5 % quantile r = 35,
    # F(34) = 0.96616, F(35) = 0.97754 -> alpha = (0.97754 - 0.975) / (0.97754 - 0.96616)
    # = 0.2233 -> limit (35 - 0.2233) / 100 = 0.34777.
    assert limits["oben_95"].iloc[0] == pytest.approx(0.34777, abs=2e-5)


@pytest.mark.parametrize(
    ("count", "n"),
    [(0, 1), (1, 1), (0, 3), (0, 7), (7, 7), (16, 16), (1, 2), (5, 20), (3, 1000), (999, 1000)],
)
@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_wilson_interval_has_the_digits_of_statsmodels(count, n, level):
    # Computed without importing statsmodels (#11, P3); the digits must stay the same.
    from statsmodels.stats.proportion import proportion_confint

    lower, upper = proportion_confint(count, n, alpha=round(1 - level, 2), method="wilson")
    # At the edges (0 of n, n of n) our bound is exact; statsmodels' float64 can be a few
    # 1e-17 off there (0 of 7 at 95 %: lower 2.8e-17, 7 of 7: upper 0.9999999999999999).
    if count == 0:
        assert abs(lower) < 1e-15
        lower = 0.0
    if count == n:
        assert abs(upper - 1) < 1e-15
        upper = 1.0
    p = stats.wilson_interval(count, n, level)
    assert (p.lower, p.upper) == (lower, upper)


def test_wilson_interval_by_hand_at_the_edges():
    # n = 1, count = 1, z = 1.959964: center = (1 + z²/2) / (1 + z²), half width
    # z·sqrt(z²/4) / (1 + z²) = (z²/2) / (1 + z²); lower = 1 / (1 + z²) = 0.2065, upper 1.
    p = stats.wilson_interval(1, 1)
    assert p.lower == pytest.approx(1 / (1 + 1.959964**2), abs=1e-6)
    assert p.upper == 1.0
    assert stats.wilson_interval(0, 1).lower == 0.0


@pytest.mark.parametrize("df", [1, 2, 3, 10, 41, 500, 20001])
@pytest.mark.parametrize("p", [0.0005, 0.025, 0.5, 0.975, 0.9995])
def test_chi2_quantile_has_the_digits_of_scipy_stats(df, p):
    from scipy.stats import chi2

    assert stats._chi2_ppf(p, df) == float(chi2.ppf(p, df))


@pytest.mark.parametrize("df", [1, 2, 3, 9, 41, 500])
@pytest.mark.parametrize("p", [0.0005, 0.025, 0.5, 0.975, 0.9995])
def test_t_quantile_has_the_digits_of_scipy_stats(df, p):
    from scipy.stats import t

    assert stats.t_ppf(p, df) == float(t.ppf(p, df))


def test_t_quantile_by_hand():
    # t with 1 degree of freedom is Cauchy: ppf(p) = tan(pi (p - 1/2)); with 2 degrees of
    # freedom ppf(p) = (2p - 1) / sqrt(2 p (1 - p)).
    assert stats.t_ppf(0.975, 1) == pytest.approx(math.tan(math.pi * 0.475), rel=1e-12)
    assert stats.t_ppf(0.975, 2) == pytest.approx(0.95 / math.sqrt(2 * 0.975 * 0.025), rel=1e-12)
    assert stats.t_ppf(0.5, 7) == 0.0


def test_chi2_quantile_by_hand():
    # chi2 with 2 degrees of freedom is exponential with mean 2: ppf(p) = -2 ln(1 - p).
    assert stats._chi2_ppf(0.5, 2) == pytest.approx(2 * math.log(2), rel=1e-12)
    assert stats._chi2_ppf(0.975, 2) == pytest.approx(-2 * math.log(0.025), rel=1e-12)


def test_wilson_bounds_stay_within_0_and_1_even_where_floating_point_overshoots():
    # For 16 of 16 the Wilson formula gives 1 + 2.2e-16 in float64 (centre + half width);
    # a share's bound above 100 % would reach the Excel appendix as 1.0000000000000002.
    assert stats.wilson_interval(16, 16).upper == 1.0
    assert stats.wilson_interval(0, 16).lower == 0.0
    for n in range(1, 120):
        for k in range(n + 1):
            p = stats.wilson_interval(k, n)
            assert 0.0 <= p.lower <= p.share <= p.upper <= 1.0, (k, n)
