"""Cost development: HzE totals, year-on-year change (seed 004, section 4.2), cost per case,
growth, real terms, the Frühe Hilfen budget, interrupted time series, forecast, key indicators."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pandas as pd
import pytest
from helpers import frame

from analysis.errors import FhError
from analysis.indicators import costs

# Seed 004, section 4.2 publishes the expenditure rounded to thousands (12.190.000,- €,
# 13.045.000,- €). Its rates 7,02 % and 0,58 % cannot be recomputed from the rounded
# amounts (13,045,000 / 12,190,000 - 1 = 7.0139 % -> 7,01 %); they come from the unrounded
# amounts. These are amounts that round to the published thousands and give the published
# rates; 2013 and 2014 are published to the cent and stay exact.
SEED_004 = {
    2011: (12_189_550.0, 606.0),
    2012: (13_044_800.0, 689.0),
    2013: (13_120_000.0, 737.0),
    2014: (13_612_000.0, 805.0),
}


def hze(rows: dict[int, tuple[float, float]] | list[dict]) -> pd.DataFrame:
    if isinstance(rows, dict):
        rows = [
            {"jahr": j, "hilfeart": "gesamt", "ausgaben_eur": a, "fallzahl_mittel": f}
            for j, (a, f) in rows.items()
        ]
    return frame("kosten_hze", rows)


def test_seed_004_table_to_the_hundredth():
    table = costs.hze_development(hze(SEED_004))
    # 13,044,800 / 12,189,550 = 1.070162 -> +7.02 %; 13,120,000 / 13,044,800 = 1.005765 -> +0.58 %;
    # 13,612,000 / 13,120,000 = 1.0375 -> +3.75 %
    assert [round(v, 2) for v in table["ausgaben_veraenderung_pct"].iloc[1:]] == [7.02, 0.58, 3.75]
    # 689 / 606 = 1.136964 -> +13.70 %; 737 / 689 = 1.069666 -> +6.97 %; 805 / 737 = 1.092266 -> +9.23 %
    assert [round(v, 2) for v in table["fallzahl_veraenderung_pct"].iloc[1:]] == [13.70, 6.97, 9.23]
    assert math.isnan(table.loc[2011, "ausgaben_veraenderung_pct"])  # no previous year
    # 13,612,000 / 805 = 16,909.3168 (the spec's example 16909.32)
    assert table.loc[2014, "kosten_je_fall_eur"] == pytest.approx(16909.3168, abs=1e-4)
    # the published amounts, rounded to thousands, are what the table shows
    assert [round(v, -3) for v in table["ausgaben_eur"]] == [
        12_190_000,
        13_045_000,
        13_120_000,
        13_612_000,
    ]


def test_rounded_seed_amounts_give_7_01_and_0_57():
    # documents why SEED_004 is not the rounded amounts: rounding first shifts two rates
    rounded = {
        2011: (12_190_000.0, 606.0),
        2012: (13_045_000.0, 689.0),
        2013: (13_120_000.0, 737.0),
    }
    change = costs.hze_development(hze(rounded))["ausgaben_veraenderung_pct"]
    assert [round(v, 2) for v in change.iloc[1:]] == [7.01, 0.57]


def test_totals_from_kinds_when_no_gesamt_row():
    rows = [
        {"jahr": 2020, "hilfeart": "gesamt", "ausgaben_eur": 140.0, "fallzahl_mittel": 6.0},
        {"jahr": 2021, "hilfeart": "p31", "ausgaben_eur": 50.0, "fallzahl_mittel": 5.0},
        {"jahr": 2021, "hilfeart": "p34", "ausgaben_eur": 100.0, "fallzahl_mittel": 2.0},
        {"jahr": 2021, "hilfeart": "p35", "ausgaben_eur": 30.0, "fallzahl_mittel": 1.0},
    ]
    totals = costs.hze_totals(hze(rows))
    # 2021: 50 + 100 + 30 = 180 EUR, 5 + 2 + 1 = 8 cases
    assert totals.loc[2021, "ausgaben_eur"] == 180.0
    assert totals.loc[2021, "fallzahl_mittel"] == 8.0
    assert list(totals["grundlage"]) == ["gesamt", "hilfearten"]
    by_kind = costs.hze_by_kind(hze(rows))
    assert list(by_kind["hilfeart"]) == ["p31", "p34", "p35"]
    # p34: 100 / 2 = 50 EUR per case; p35: 30 / 1 = 30 EUR (one case is a case)
    assert by_kind.set_index("hilfeart").loc["p34", "kosten_je_fall_eur"] == 50.0
    assert by_kind.set_index("hilfeart").loc["p35", "kosten_je_fall_eur"] == 30.0
    assert by_kind["hilfeart_label"].iloc[0].startswith("§ 31")


def test_year_on_year_change_does_not_bridge_a_missing_year():
    series = pd.Series([100.0, 110.0, 121.0], index=[2012, 2014, 2015])
    change = costs.year_on_year_change(series)
    assert math.isnan(change[2012]) and math.isnan(change[2014])  # 2013 missing
    assert change[2015] == pytest.approx(10.0)  # 121 / 110 - 1 = 10 %
    zero = costs.year_on_year_change(pd.Series([0.0, 5.0], index=[2013, 2014]))
    assert math.isnan(zero[2014])  # previous year 0 -> not computable


def test_cost_per_case_zero_cases():
    totals = pd.DataFrame(
        {"ausgaben_eur": [100.0, 50.0], "fallzahl_mittel": [4.0, 0.0]}, index=[1, 2]
    )
    per_case = costs.cost_per_case(totals)
    assert per_case[1] == 25.0 and math.isnan(per_case[2])


def test_compound_growth_rate():
    totals = costs.hze_totals(hze(SEED_004))
    # (13,612,000 / 12,189,550)^(1/3) - 1 = 1.116694^(1/3) - 1 = 0.037476
    assert costs.compound_growth_rate(totals["ausgaben_eur"]) == pytest.approx(0.037476, abs=1e-6)
    # cases 2012 -> 2014: (805 / 689)^(1/2) - 1 = 0.080906
    assert costs.compound_growth_rate(totals["fallzahl_mittel"], 2012, 2014) == pytest.approx(
        0.080906, abs=1e-6
    )
    assert costs.compound_growth_rate(totals["ausgaben_eur"], 2010, 2014) is None


def test_cpi_table_is_the_shipped_destatis_series():
    cpi = costs.cpi_table()
    assert cpi[2020] == 100.0
    assert cpi[2015] == 94.5 and cpi[2022] == 110.2
    # Destatis' own series 2020 = 100, not rebased from rounded 2015 = 100 values:
    # 92.2 / 105.8 * 100 = 87.14 would round to 87.1; the published value is 87.2.
    assert cpi[2009] == 87.2
    assert set(range(2010, 2025)) <= set(cpi.index)
    assert cpi.is_monotonic_increasing  # no annual deflation in Germany since 2005


def test_real_terms_by_hand():
    nominal = pd.Series([13_612_000.0, 1000.0], index=[2014, 2099], name="ausgaben_eur")
    real = costs.real_terms(nominal)
    # 13,612,000 * 100 / 94.0 = 14,480,851.06 (prices of 2020)
    assert real[2014] == pytest.approx(14_480_851.06, abs=0.01)
    assert math.isnan(real[2099])  # no index for that year (yet)
    # in prices of 2014 the value of 2014 stays as it is
    assert costs.real_terms(nominal, base_year=2014)[2014] == pytest.approx(13_612_000.0)
    with pytest.raises(FhError, match="Basisjahr"):
        costs.real_terms(nominal, base_year=1900)
    table = costs.hze_real(hze(SEED_004))
    assert table.loc[2014, "vpi"] == 94.0
    assert list(table.columns) == [
        "ausgaben_eur",
        "vpi",
        "ausgaben_real_eur",
        "ausgaben_veraenderung_pct",
        "ausgaben_real_veraenderung_pct",
    ]
    # 2014 against 2013: nominal 13,612,000 / 13,120,000 - 1 = +3.75 %
    assert table.loc[2014, "ausgaben_veraenderung_pct"] == pytest.approx(3.75, abs=0.005)


FINANZIERUNG = [
    {"jahr": 2014, "gebiet": "gesamt", "quelle": "bundesstiftung", "kostenart": "personal", "betrag_eur": 60_000.0},
    {"jahr": 2014, "gebiet": "rheindorf", "quelle": "kommune", "kostenart": "personal", "betrag_eur": 30_000.0},
    {"jahr": 2014, "gebiet": "rheindorf", "quelle": "kommune", "kostenart": "miete", "betrag_eur": 6_000.0},
    {"jahr": 2014, "gebiet": "manfort", "quelle": "drittmittel", "betrag_eur": 4_000.0},
    {"jahr": 2013, "gebiet": "rheindorf", "quelle": "kommune", "kostenart": "personal", "betrag_eur": 1.0},
]  # fmt: skip


def test_fh_budget_all_and_site():
    fin = frame("finanzierung", FINANZIERUNG)
    everything = costs.fh_budget(fin, "alle", 2014)
    # alle = every row of 2014: 60,000 + 30,000 + 6,000 + 4,000 = 100,000
    assert everything.total == 100_000.0
    assert everything.by_source["bundesstiftung"] == 60_000.0
    assert everything.by_source["kommune"] == 36_000.0
    assert everything.by_source["land"] == 0.0
    assert everything.by_cost_type["personal"] == 90_000.0
    assert everything.by_cost_type["ohne_angabe"] == 4_000.0
    assert everything.by_area["gesamt"] == 60_000.0
    site = costs.fh_budget(fin, "rheindorf", 2014)
    assert site.total == 36_000.0  # 30,000 + 6,000, not the gesamt row
    assert "ohne_angabe" not in site.by_cost_type.index
    assert costs.fh_budget(fin, "opladen", 2014).total is None  # no row: null, not 0
    assert costs.fh_budget(None, "alle", 2014).total is None
    by_year = costs.fh_budget_by_year(fin)
    assert by_year.loc[2014, "summe"] == 100_000.0 and by_year.loc[2013, "summe"] == 1.0


def test_budget_per_contact_and_per_birth():
    # 110,642 / 412 = 268.5485 (the spec's example 268.55)
    assert costs.fh_budget_per_contact(110_642.0, 412) == pytest.approx(268.5485, abs=1e-4)
    assert costs.fh_budget_per_contact(110_642.0, 0) is None
    assert costs.fh_budget_per_contact(None, 412) is None
    # 110,642 / 1,602 births = 69.0649
    assert costs.fh_budget_per_birth(110_642.0, 1602) == pytest.approx(69.0649, abs=1e-4)
    assert costs.fh_budget_per_birth(110_642.0, None) is None
    assert costs.fh_budget_per_birth(110_642.0, 0) is None
    assert costs.fh_budget_per_birth(110_642.0, float("nan")) is None  # births not known
    assert costs.fh_budget_per_birth(None, 1602) is None  # no budget recorded
    assert costs.fh_budget_per_birth(0.0, 1602) == 0.0  # a budget of 0 is a value


def test_key_indicators_block():
    fin = frame("finanzierung", FINANZIERUNG)
    block = costs.key_indicators(
        hze(SEED_004), fin, site="rheindorf", year=2014, first_contacts=120
    )
    assert list(block) == [
        "hze_ausgaben_eur",
        "hze_fallzahl",
        "ausgaben_veraenderung_pct",
        "fallzahl_veraenderung_pct",
        "kosten_je_fall_eur",
        "fh_budget_eur",
        "fh_budget_je_erstkontakt_eur",
    ]
    assert block["hze_ausgaben_eur"] == 13_612_000.0 and block["hze_fallzahl"] == 805.0
    assert block["ausgaben_veraenderung_pct"] == pytest.approx(3.75)  # unrounded
    assert block["fallzahl_veraenderung_pct"] == pytest.approx(9.226594, abs=1e-6)
    assert block["fh_budget_eur"] == 36_000.0
    assert block["fh_budget_je_erstkontakt_eur"] == pytest.approx(300.0)  # 36,000 / 120
    # municipality-wide values are the same for every site
    other = costs.key_indicators(hze(SEED_004), fin, site="manfort", year=2014, first_contacts=0)
    assert other["hze_ausgaben_eur"] == block["hze_ausgaben_eur"]
    assert other["fh_budget_je_erstkontakt_eur"] is None  # no first contacts


def test_key_indicators_missing_years_and_tables():
    first = costs.key_indicators(hze(SEED_004), None, site="alle", year=2011, first_contacts=10)
    assert first["hze_ausgaben_eur"] == 12_189_550.0
    assert first["ausgaben_veraenderung_pct"] is None  # no previous year
    assert first["fh_budget_eur"] is None
    gap = {2012: SEED_004[2012], 2014: SEED_004[2014]}  # 2013 missing in kosten_hze
    block = costs.key_indicators(hze(gap), None, site="alle", year=2014, first_contacts=10)
    assert block["hze_ausgaben_eur"] == 13_612_000.0
    assert block["ausgaben_veraenderung_pct"] is None
    assert block["fallzahl_veraenderung_pct"] is None
    nothing = costs.key_indicators(None, None, site="alle", year=2014, first_contacts=0)
    assert all(v is None for v in nothing.values())


def test_interrupted_time_series_and_description():
    # 2005-2010 rising by 500,000 a year, from 2011 a level drop of 1,000,000 and a flatter
    # trend (+200,000 a year); small wiggles keep the residual variance above 0
    years = list(range(2005, 2017))
    wiggle = [0, 10_000, -10_000, 5_000, 0, -5_000, 0, 8_000, -8_000, 0, 4_000, -4_000]
    rows = []
    for i, (y, w) in enumerate(zip(years, wiggle, strict=True)):
        value = 10_000_000 + 500_000 * i
        if y >= 2011:
            value += -1_000_000 - 300_000 * (y - 2011)
        rows.append(
            {"jahr": y, "hilfeart": "gesamt", "ausgaben_eur": value + w, "fallzahl_mittel": 500.0}
        )
    res = costs.hze_interrupted_time_series(hze(rows), 2011)
    assert res.estimable and (res.n_before, res.n_after) == (6, 6)
    assert res.trend == pytest.approx(500_000, rel=0.02)
    assert res.level_change == pytest.approx(-1_000_000, rel=0.05)
    assert res.trend_change == pytest.approx(-300_000, rel=0.05)
    text = costs.describe_its(res)
    assert text.startswith("Ab 2011 änderte sich das Niveau um −") and "Jahreswerten" in text

    def euro(value: float) -> str:  # German thousands separator, whole euros
        return f"{round(abs(value)):,} €".replace(",", ".")

    # The amounts in euros with their sign (about −1.000.000 €, −300.000 € and +500.000 €):
    assert f"Niveau um −{euro(res.level_change)} (" in text
    assert f"Trend um −{euro(res.trend_change)} je Jahr (" in text
    assert f"vorher betrug der Trend +{euro(res.trend)} je Jahr." in text
    # Another unit (case counts): one decimal, no euro sign.
    cases = costs.describe_its(res, unit="faelle", caveat=False)
    level = f"{abs(res.level_change):,.1f}".replace(",", "_").replace(".", ",").replace("_", ".")
    assert f"Niveau um −{level} (" in cases and "€" not in cases
    # No change at all is "+0 €", never "−0 €".
    flat = costs.describe_its(dataclasses.replace(res, level_change=0.0), caveat=False)
    assert "Niveau um +0 € (" in flat
    # each change with its own (robust) p-value
    from analysis.indicators.stats import format_p

    assert f"({format_p(res.p_level_change_robust)}) und der jährliche Trend um " in text
    assert f"je Jahr ({format_p(res.p_trend_change_robust)}); " in text
    # Without the caveat (the figure's alt text): the same result, ending with the verdict.
    short = costs.describe_its(res, caveat=False)
    assert text == f"{short} {res.caveat}" and "Jahreswerten" not in short


def test_interrupted_time_series_too_few_years():
    res = costs.hze_interrupted_time_series(hze(SEED_004), 2012)
    assert not res.estimable and res.level_change is None
    assert "Nicht berechenbar" in costs.describe_its(res)
    with pytest.raises(FhError, match="Größe"):
        costs.hze_interrupted_time_series(hze(SEED_004), 2012, measure="kosten")


def test_fh_start_year_is_the_first_opening():
    sites = frame(
        "standorte",
        [
            {"standort_id": "a", "name": "A", "eroeffnet": "2016-01-01"},
            {"standort_id": "b", "name": "B", "eroeffnet": "2011-04-01"},
            {"standort_id": "c", "name": "C"},
        ],
    )
    assert costs.fh_start_year(sites) == 2011
    assert costs.fh_start_year(sites.iloc[2:]) is None
    assert costs.fh_start_year(None) is None


def test_forecast_of_expenditure():
    # Four years are too few to choose a model by backtest: no forecast, and it says so.
    assert "Keine Prognose" in costs.hze_forecast(hze(SEED_004)).caveat
    rows = {
        y: (10_000_000.0 * 1.04 ** (y - 2010) + (y % 3) * 50_000, 500.0) for y in range(2010, 2022)
    }
    fc = costs.hze_forecast(hze(rows), horizon=2)
    future = fc.table[fc.table["art"] == "prognose"]
    assert list(future["jahr"]) == [2022, 2023]
    assert (future["untergrenze"] < future["prognose"]).all()
    assert fc.coverage is not None
    # A report for 2018 forecasts from the years up to 2018 only.
    until = costs.hze_forecast(hze(rows), horizon=1, until=2018)
    assert list(until.table["jahr"])[-1] == 2019
    real = costs.hze_forecast(hze(rows), real=True)
    assert (real.table["art"] == "prognose").sum() == 3
    with pytest.raises(FhError) as err:
        costs.hze_forecast(hze(SEED_004), measure="fallzahl_mittel", real=True)
    assert err.value.message == "Reale Werte gibt es nur für Ausgaben, nicht für Fallzahlen."


# --- end to end: demo data through beispieldaten -> aufbereiten ------------------------------


@pytest.fixture(scope="module")
def demo_hze(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    from analysis import data, ingest
    from analysis.config import load_config
    from analysis.contract import demo

    base: Path = tmp_path_factory.mktemp("demo")
    demo.write_demo(base / "raw", seed=2014)
    ingest.prepare(base / "raw", base / "processed", load_config())
    table = data.load_dataset(base / "processed").table("kosten_hze")
    assert table is not None
    return costs.hze_development(table)


@pytest.mark.e2e
def test_demo_reproduces_seed_004_cases_and_2014(demo_hze: pd.DataFrame):
    assert [round(v, 2) for v in demo_hze.loc[2012:2014, "fallzahl_veraenderung_pct"]] == [
        13.70,
        6.97,
        9.23,
    ]
    assert round(demo_hze.loc[2014, "ausgaben_veraenderung_pct"], 2) == 3.75
    assert round(demo_hze.loc[2014, "kosten_je_fall_eur"], 2) == 16909.32


@pytest.mark.e2e
def test_demo_expenditure_rates_follow_the_published_amounts(demo_hze: pd.DataFrame):
    # The demo holds the amounts exactly as the spec and seed 004 print them, so the rates
    # are those of the printed amounts (docs/annahmen.md, K3), not the concept's own
    # 7,02 % / 0,58 %, which rest on unrounded amounts the concept does not publish:
    # 13,045,000 / 12,190,000 - 1 = 7.0139 %; 13,120,000 / 13,045,000 - 1 = 0.5749 %;
    # 13,612,000 / 13,120,000 - 1 = 3.7500 %.
    assert [round(v, 2) for v in demo_hze.loc[2012:2014, "ausgaben_veraenderung_pct"]] == [
        7.01,
        0.57,
        3.75,
    ]


def test_hze_totals_without_rows_keep_the_column_kinds_of_a_full_table():
    # A municipality without HzE rows gets an empty table of the same kinds, so the cost
    # report's later arithmetic and the Excel appendix treat it like any other.
    full = costs.hze_totals(hze(SEED_004))
    for empty in (costs.hze_totals(None), costs.hze_totals(hze([]))):
        assert empty.empty and list(empty.columns) == list(full.columns)
        assert empty.dtypes.astype(str).to_dict() == {
            "ausgaben_eur": "float64",
            "fallzahl_mittel": "float64",
            "grundlage": "string",
        }
        assert empty.dtypes.to_dict() == full.dtypes.to_dict()
        assert (empty.index.name, str(empty.index.dtype)) == ("jahr", "int64")


def test_a_year_with_a_total_row_takes_it_and_a_year_without_sums_the_kinds():
    # 2013: the "gesamt" row (100) and two kinds (30 + 50, incomplete): the total row counts.
    # 2014: kinds only, 40 + 60 = 100 and 10 + 15 = 25 cases.
    table = costs.hze_totals(
        hze(
            [
                {
                    "jahr": 2013,
                    "hilfeart": "gesamt",
                    "ausgaben_eur": 100.0,
                    "fallzahl_mittel": 20.0,
                },
                {"jahr": 2013, "hilfeart": "p27_2", "ausgaben_eur": 30.0, "fallzahl_mittel": 5.0},
                {"jahr": 2013, "hilfeart": "p33", "ausgaben_eur": 50.0, "fallzahl_mittel": 8.0},
                {"jahr": 2014, "hilfeart": "p27_2", "ausgaben_eur": 40.0, "fallzahl_mittel": 10.0},
                {"jahr": 2014, "hilfeart": "p33", "ausgaben_eur": 60.0, "fallzahl_mittel": 15.0},
            ]
        )
    )
    assert table.reset_index().to_dict("records") == [
        {"jahr": 2013, "ausgaben_eur": 100.0, "fallzahl_mittel": 20.0, "grundlage": "gesamt"},
        {"jahr": 2014, "ausgaben_eur": 100.0, "fallzahl_mittel": 25.0, "grundlage": "hilfearten"},
    ]
