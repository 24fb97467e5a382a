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
    assert "steigt" in res.note and "gesichert" in res.note


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
    assert res.fitted is not None and math.isnan(res.fitted["ohne_unterbrechung"].iloc[0])
    assert "Mit nur 10 Jahreswerten" in res.caveat


def test_segmented_regression_too_few_years_is_not_an_error():
    res = stats.segmented_regression([2011, 2012, 2013, 2014], [1, 2, 3, 4], 2012)
    assert not res.estimable
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


def test_linear_trend_forecast_too_few_points():
    fc = stats.linear_trend_forecast([2013, 2014], [1.0, 2.0])
    assert (fc.table["art"] == "beobachtet").all()
    assert "Keine Prognose" in fc.caveat


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
