"""Reach indicators and tables (analysis.indicators.reach), with hand-computed expected values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import contact, frame, make_dataset, site

from analysis.config import Baseline
from analysis.indicators import reach


def _contacts(rows):
    return frame("erstkontakte", rows)


@pytest.fixture
def dataset():
    return make_dataset(
        {
            "standorte": [site("a", "2012-01-01"), site("b", "2014-01-01")],
            "erstkontakte": [
                contact(
                    "1",
                    "a",
                    "2014-01-10",
                    lebensphase_kind="schwangerschaft",
                    alleinerziehend="ja",
                    sgb2_bezug="ja",
                    altersgruppe_mutter="unter_18",
                ),
                contact(
                    "2",
                    "a",
                    "2014-02-10",
                    lebensphase_kind="m0_6",
                    alleinerziehend="nein",
                    sgb2_bezug="unbekannt",
                    altersgruppe_mutter="a25_29",
                ),
                contact(
                    "3",
                    "a",
                    "2014-03-10",
                    lebensphase_kind="m0_6",
                    alleinerziehend="nein",
                    altersgruppe_mutter="a18_19",
                    migrationshintergrund="ja",
                ),
                contact(
                    "4",
                    "b",
                    "2014-04-10",
                    lebensphase_kind="schwangerschaft",
                    alleinerziehend="ja",
                    sgb2_bezug="nein",
                    migrationshintergrund="nein",
                ),
                contact("5", "b", "2013-12-31", lebensphase_kind="j1_2"),  # other year
            ],
            "bevoelkerung": [
                {
                    "jahr": 2014,
                    "gebiet": "gesamt",
                    "geburten": 40,
                    "kinder_u3": 120,
                    "kinder_u3_sgb2": 18,
                },
                {"jahr": 2014, "gebiet": "a", "geburten": 10},
                {"jahr": 2014, "gebiet": "b", "geburten": 0},
            ],
            "willkommensbesuche": [
                {"jahr": 2014, "gebiet": "a", "besuche": 6},
                {"jahr": 2014, "gebiet": "b", "besuche": 4},
            ],
            "angebote": [
                {
                    "standort_id": "a",
                    "jahr": 2014,
                    "angebot": "kurs",
                    "termine": 10,
                    "besuche": 80,
                    "teilnehmende": 12,
                },
                {
                    "standort_id": "a",
                    "jahr": 2014,
                    "angebot": "offener_treff",
                    "termine": None,
                    "besuche": 50,
                },
                {
                    "standort_id": "b",
                    "jahr": 2014,
                    "angebot": "kurs",
                    "termine": 5,
                    "besuche": 30,
                    "teilnehmende": 8,
                },
                {"standort_id": "a", "jahr": 2013, "angebot": "kurs", "termine": 9, "besuche": 70},
            ],
        }
    )


# --- single indicators --------------------------------------------------------------------------
def test_first_contacts_counts_rows():
    assert (
        reach.first_contacts(
            _contacts([contact("1", "a", "2014-01-01"), contact("2", "a", "2014-01-02")])
        )
        == 2
    )
    assert reach.first_contacts(_contacts([])) == 0


def test_births_by_area(dataset):
    bev = dataset.table("bevoelkerung")
    assert reach.births(bev, "alle", 2014) == 40  # gesamt row, not 10 + 0
    assert reach.births(bev, "a", 2014) == 10
    assert reach.births(bev, "b", 2014) == 0
    assert reach.births(bev, "a", 2015) is None
    assert reach.births(None, "a", 2014) is None


def test_reach_rate_with_wilson_interval():
    p = reach.reach_rate(5, 20)
    # 5 / 20 = 0.25; Wilson 95 %: 0.1119 .. 0.4687 (see stats.wilson_interval)
    assert p.share == 0.25
    assert round(p.lower, 4) == 0.1119 and round(p.upper, 4) == 0.4687


@pytest.mark.parametrize("births", [None, 0])
def test_reach_rate_null_without_births(births):
    p = reach.reach_rate(7, births)
    assert p.share is None and p.lower is None and p.upper is None


def test_reach_rate_above_one_is_a_ratio_without_interval():
    p = reach.reach_rate(12, 10)  # 12 / 10 = 1.2 — more contacts than births
    assert p.share == pytest.approx(1.2)
    assert p.lower is None and p.upper is None


def test_offer_totals(dataset):
    offers = dataset.table("angebote")
    a_2014 = offers[(offers["standort_id"] == "a") & (offers["jahr"] == 2014)]
    # besuche 80 + 50 = 130; termine 10 (the missing one does not count); teilnehmende 12
    assert reach.offer_totals(a_2014) == {"besuche": 130, "termine": 10, "teilnehmende": 12}
    assert reach.offer_totals(a_2014.iloc[0:0]) == {"besuche": 0, "termine": 0, "teilnehmende": 0}
    assert reach.offer_totals(None) == {"besuche": None, "termine": None, "teilnehmende": None}
    only_missing = a_2014[a_2014["angebot"] == "offener_treff"]
    assert reach.offer_totals(only_missing) == {
        "besuche": 50,
        "termine": None,
        "teilnehmende": None,
    }


def test_welcome_visits_and_rate(dataset):
    wb = dataset.table("willkommensbesuche")
    assert reach.welcome_visits(wb, "alle", 2014) == 10  # no gesamt row: 6 + 4
    assert reach.welcome_visits(wb, "a", 2014) == 6
    assert reach.welcome_visits(wb, "a", 2013) is None
    assert reach.welcome_visits(None, "a", 2014) is None
    assert reach.welcome_visit_rate(6, 10).share == pytest.approx(0.6)  # 6 / 10
    assert reach.welcome_visit_rate(4, 0).share is None  # births 0
    assert reach.welcome_visit_rate(None, 10).share is None  # no visits known
    assert (reach.welcome_visit_rate(None, 10).n, reach.welcome_visit_rate(None, None).n) == (10, 0)


def test_target_group_share_among_known(dataset):
    c = reach.figures(dataset, "alle", 2014)
    # 2014: contacts 1-4. alleinerziehend ja: 1, 4; nein: 2, 3 -> 2 / 4 = 0.5
    assert (c.target_groups["alleinerziehend"].count, c.target_groups["alleinerziehend"].n) == (
        2,
        4,
    )
    # sgb2: ja 1, nein 4, unbekannt 2 and (missing ->) 3 -> 1 / 2
    assert c.target_groups["sgb2_bezug"].share == 0.5 and c.target_groups["sgb2_bezug"].n == 2
    # migration: ja 3, nein 4 -> 1 / 2
    assert c.target_groups["migrationshintergrund"].share == 0.5
    # mother under 20: unter_18 (1), a18_19 (3) of known ages 1, 2, 3 (4 unbekannt) -> 2 / 3
    assert c.target_groups["mutter_unter_20"].share == pytest.approx(2 / 3)
    assert c.target_groups["mutter_unter_20"].n == 3


def test_target_group_share_null_without_known_values():
    p = reach.target_group_share(_contacts([contact("1", "a", "2014-01-01")]), "sgb2_bezug")
    assert p.n == 0 and p.share is None
    with pytest.raises(KeyError):
        reach.target_group_share(_contacts([]), "rentner")


def test_life_phase_counts_every_code_with_zeros(dataset):
    counts = reach.life_phase_counts(reach.data.contacts_for(dataset, "alle", 2014))
    assert counts == {
        "schwangerschaft": 2,
        "m0_6": 2,
        "m6_12": 0,
        "j1_2": 0,
        "j2_3": 0,
        "ueber_3": 0,
        "unbekannt": 0,
    }
    assert list(reach.life_phase_counts(_contacts([])).values()) == [0] * 7


def test_pregnancy_share_among_known_phases():
    contacts = _contacts(
        [
            contact("1", "a", "2014-01-01", lebensphase_kind="schwangerschaft"),
            contact("2", "a", "2014-01-02", lebensphase_kind="j2_3"),
            contact("3", "a", "2014-01-03"),  # unbekannt, not in the denominator
        ]
    )
    p = reach.pregnancy_share(contacts)
    assert (p.count, p.n, p.share) == (1, 2, 0.5)  # 1 of 2 known


# --- baselines -----------------------------------------------------------------------------------
def test_local_baseline_wins_over_configured(dataset):
    configured = {
        "sgb2_bezug": Baseline(0.103, "KiD 0–3", 0.093, 0.114),
        "alleinerziehend": Baseline(0.053, "KiD 0–3"),
    }
    merged = reach.baselines_for(configured, dataset.table("bevoelkerung"), "alle", 2014)
    assert merged["sgb2_bezug"].anteil == pytest.approx(0.15)  # 18 / 120
    assert "bevoelkerung" in merged["sgb2_bezug"].quelle
    assert merged["alleinerziehend"].anteil == 0.053
    # site a has no kinder_u3 -> the national figure stays
    assert (
        reach.baselines_for(configured, dataset.table("bevoelkerung"), "a", 2014)[
            "sgb2_bezug"
        ].anteil
        == 0.103
    )


def test_representation_ratio():
    assert reach.representation_ratio(0.206, Baseline(0.103, "x")) == pytest.approx(2.0)
    assert reach.representation_ratio(None, Baseline(0.103, "x")) is None
    assert reach.representation_ratio(0.2, None) is None


# --- the kennzahlen block --------------------------------------------------------------------------
def test_reach_block_exact_shape_and_values(dataset):
    block = reach.reach_block(dataset, site="alle", year=2014)
    assert list(block) == [
        "erstkontakte",
        "geburten",
        "erreichungsquote",
        "besuche",
        "termine",
        "willkommensbesuche",
        "willkommensbesuch_quote",
        "zielgruppen",
        "lebensphase",
        # issue 10: new keys after the specified ones, none of which changed its meaning
        "monate_geoeffnet",
        "kinder_u3",
        "erstkontakte_je_1000_geburten",
        "erstkontakte_je_1000_kinder_u3",
        "willkommensbesuch_quote_intervall",
        "schwangerschaft",
        "kind_unter_1_je_geburt",
    ]
    assert block["erstkontakte"] == 4
    assert block["geburten"] == 40
    assert block["erreichungsquote"] == pytest.approx(0.1)  # 4 / 40
    assert block["besuche"] == 160  # 80 + 50 + 30
    assert block["termine"] == 15  # 10 + 5
    assert block["willkommensbesuche"] == 10
    assert block["willkommensbesuch_quote"] == pytest.approx(0.25)  # 10 / 40
    # Wilson 95 % for 10 of 40 (statsmodels' proportion_confint): 0.1419 to 0.4019
    interval = block["willkommensbesuch_quote_intervall"]
    assert list(interval) == ["untergrenze", "obergrenze"]
    assert interval["untergrenze"] == pytest.approx(0.14190, abs=1e-4)
    assert interval["obergrenze"] == pytest.approx(0.40190, abs=1e-4)
    assert list(block["zielgruppen"]) == [
        "alleinerziehend",
        "sgb2_bezug",
        "migrationshintergrund",
        "mutter_unter_20",
    ]
    assert block["zielgruppen"]["alleinerziehend"] == {"anteil": 0.5, "n_bekannt": 4}
    assert block["lebensphase"]["schwangerschaft"] == 2
    assert all(type(v) is int for v in block["lebensphase"].values())
    # Under one year: the two contacts at 0-6 months, per birth 2 / 40 = 0.05. Wilson 95 %
    # by hand (z² = 3.8415): centre (0.05 + 0.04802) / 1.09604 = 0.08943, half width
    # 1.96 * sqrt(0.05 * 0.95 / 40 + 3.8415 / 6400) / 1.09604 = 0.07561: 0.01382 to 0.16504.
    under_one = block["kind_unter_1_je_geburt"]
    assert list(under_one) == ["erstkontakte", "anteil", "untergrenze", "obergrenze"]
    assert (under_one["erstkontakte"], under_one["anteil"]) == (2, pytest.approx(0.05))
    assert under_one["untergrenze"] == pytest.approx(0.01382, abs=1e-5)
    assert under_one["obergrenze"] == pytest.approx(0.16504, abs=1e-5)
    # In pregnancy: 2 of 4 with a known life phase, Wilson 0.1500 to 0.8500.
    pregnancy = block["schwangerschaft"]
    assert list(pregnancy) == ["anteil", "untergrenze", "obergrenze", "n_bekannt"]
    assert (pregnancy["anteil"], pregnancy["n_bekannt"]) == (0.5, 4)
    assert pregnancy["untergrenze"] == pytest.approx(0.15004, abs=1e-5)
    assert pregnancy["obergrenze"] == pytest.approx(0.84996, abs=1e-5)


def test_reach_block_site_with_zero_births(dataset):
    block = reach.reach_block(dataset, site="b", year=2014)
    assert block["erstkontakte"] == 1 and block["geburten"] == 0
    assert block["erreichungsquote"] is None  # never 0 or a division error
    assert block["willkommensbesuch_quote"] is None


def test_reach_block_year_without_data(dataset):
    block = reach.reach_block(dataset, site="alle", year=2030)
    assert block["erstkontakte"] == 0
    assert block["besuche"] == 0 and block["termine"] == 0
    assert block["geburten"] is None and block["erreichungsquote"] is None
    assert block["willkommensbesuche"] is None
    assert block["zielgruppen"]["sgb2_bezug"] == {"anteil": None, "n_bekannt": 0}
    assert sum(block["lebensphase"].values()) == 0


def test_reach_block_without_optional_tables():
    ds = make_dataset({"standorte": [site("a")], "erstkontakte": [contact("1", "a", "2014-01-01")]})
    block = reach.reach_block(ds, site="a", year=2014)
    assert block["erstkontakte"] == 1
    assert block["geburten"] is None and block["besuche"] is None and block["termine"] is None
    assert block["willkommensbesuche"] is None and block["willkommensbesuch_quote"] is None


# --- tables ------------------------------------------------------------------------------------
def test_offer_table(dataset):
    table = reach.offer_table(reach.data.offers_for(dataset, "alle", 2014))
    assert list(table.index) == [
        "Offener Treff / Elterncafé",
        "Kurs (z. B. Babymassage, Elternstartkurs)",
        "Insgesamt",
    ]
    assert table.loc["Insgesamt", "Besuche"] == 160
    assert table.loc["Kurs (z. B. Babymassage, Elternstartkurs)", "Termine"] == 15  # 10 + 5
    assert (
        table.loc["Kurs (z. B. Babymassage, Elternstartkurs)", "Teilnehmende Familien"] == 20
    )  # 12 + 8
    assert reach.offer_table(None) is None


def test_timing_table(dataset):
    table = reach.timing_table(reach.data.contacts_for(dataset, "a", 2014))
    assert table.loc["Schwangerschaft", "Erstkontakte"] == 1
    assert table.loc["0–6 Monate", "Anteil"] == pytest.approx(2 / 3)
    assert table.loc["Insgesamt", "Erstkontakte"] == 3
    assert math.isnan(reach.timing_table(_contacts([])).loc["Insgesamt", "Anteil"])


def test_target_group_table_with_baseline(dataset):
    contacts = reach.data.contacts_for(dataset, "alle", 2014)
    table = reach.target_group_table(contacts, {"alleinerziehend": Baseline(0.25, "Test")})
    row = table.loc["Alleinerziehende"]
    assert row["Anteil"] == 0.5 and row["Angabe bekannt"] == 4 and row["Davon Zielgruppe"] == 2
    assert row["Repräsentation"] == pytest.approx(2.0)  # 0.5 / 0.25
    assert row["Untergrenze"] < 0.5 < row["Obergrenze"]
    assert math.isnan(table.loc["Familien im SGB-II-Bezug", "Repräsentation"])  # no baseline


def test_trend_and_sites_tables(dataset):
    trend = reach.trend_table(dataset, "a")
    # site a opened 2012, data years 2013..2014 -> 2013, 2014
    assert list(trend.index) == [2013, 2014]
    assert trend.loc[2014, "Erstkontakte"] == 3
    assert trend.loc[2014, "Erreichungsquote"] == pytest.approx(0.3)  # 3 / 10
    assert trend.loc[2013, "Erstkontakte"] == 0
    sites = reach.sites_table(dataset, 2014)
    assert list(sites.index) == ["Standort a", "Standort b", "Alle Standorte"]
    assert sites.loc["Alle Standorte", "Erstkontakte"] == 4
    assert math.isnan(sites.loc["Standort b", "Erreichungsquote"])  # births 0
    # Offers: a 2014 Kurs 10 sessions / 80 visits + offener Treff ? / 50; b Kurs 5 / 30;
    # a 2013 Kurs 9 / 70. Sessions without a number count as none.
    assert trend[["Besuche", "Termine"]].to_dict("index") == {
        2013: {"Besuche": 70, "Termine": 9},
        2014: {"Besuche": 130, "Termine": 10},
    }
    assert sites[["Besuche", "Termine"]].to_dict("list") == {
        "Besuche": [130, 30, 160],
        "Termine": [10, 5, 15],
    }
    assert (
        list(sites.columns)
        == list(trend.columns)
        == [
            "Erstkontakte",
            "Geburten",
            "Erreichungsquote",
            "Untergrenze",
            "Obergrenze",
            "Willkommensbesuche",
            "Willkommensbesuch-Quote",
            "Besuche",
            "Termine",
            "Erreicht in der Schwangerschaft",
            "Lebensphase bekannt",
            "Anteil Schwangerschaft",
        ]
    )
    assert str(sites["Termine"].dtype) == "Int64"  # a count, not a float


def test_birth_definition(dataset):
    text = reach.birth_definition(dataset, "alle", 2014)
    assert "gesamten Kommune" in text and "bevoelkerung.csv" in text
    assert "Standort a" in reach.birth_definition(dataset, "a", 2014)
    assert reach.birth_definition(dataset, "a", 2015) is None


def test_target_group_trend(dataset):
    trend = reach.target_group_trend(dataset, "alle")
    # years with data: 2013, 2014; four groups each
    assert len(trend) == 8
    row = trend.loc[(2014, "Alleinerziehende")]
    assert (row["Davon Zielgruppe"], row["Angabe bekannt"], row["Anteil"]) == (2, 4, 0.5)
    assert math.isnan(trend.loc[(2013, "Alleinerziehende"), "Anteil"])  # contact 5: unbekannt


def test_one_line_calls(dataset):
    assert reach.offers(dataset, "a", 2014).loc["Insgesamt", "Besuche"] == 130
    assert reach.timing(dataset, "b", 2014).loc["Schwangerschaft", "Erstkontakte"] == 1
    table = reach.target_groups(dataset, "alle", 2014, {"sgb2_bezug": Baseline(0.103, "KiD")})
    # local 18 / 120 = 0.15 wins; share 1 / 2 = 0.5 -> ratio 0.5 / 0.15
    assert table.loc["Familien im SGB-II-Bezug", "Vergleichswert"] == pytest.approx(0.15)
    assert table.loc["Familien im SGB-II-Bezug", "Repräsentation"] == pytest.approx(0.5 / 0.15)


def test_target_groups_count_only_the_contacts_of_the_year():
    # a: 2013 one single parent (known), 2014 one not single, one unknown; b: 2014 one single
    # parent. a's 2014 table knows 1 answer, none of them single; 2013's contact belongs to
    # 2013 only, b's to b and to all sites.
    ds = make_dataset(
        {
            "standorte": [site("a", "2012-01-01"), site("b", "2012-01-01")],
            "erstkontakte": [
                contact("1", "a", "2013-05-01", alleinerziehend="ja"),
                contact("2", "a", "2014-05-01", alleinerziehend="nein"),
                contact("3", "a", "2014-06-01"),
                contact("4", "b", "2014-06-01", alleinerziehend="ja"),
            ],
        }
    )

    def single_parents(site_id: str, year: int) -> tuple:
        row = reach.target_groups(ds, site_id, year).loc["Alleinerziehende"]
        return row["Angabe bekannt"], row["Davon Zielgruppe"], row["Anteil"]

    assert single_parents("a", 2014) == (1, 0, 0.0)
    assert single_parents("a", 2013) == (1, 1, 1.0)
    assert single_parents("b", 2014) == (1, 1, 1.0)
    assert single_parents("alle", 2014) == (2, 1, 0.5)


def test_protect_knows_the_tables(dataset):
    timing = reach.protect(reach.timing(dataset, "a", 2014), 3)
    # a: schwangerschaft 1 and m0_6 2 are both primary; two hidden cells cannot be told
    # apart from the total 3, so the total stays visible
    assert timing.hidden.loc["Schwangerschaft", "Erstkontakte"]
    assert timing.hidden.loc["0–6 Monate", "Anteil"]
    assert not timing.hidden.loc["Insgesamt", "Erstkontakte"]
    groups = reach.protect(reach.target_groups(dataset, "alle", 2014), 3)
    # alleinerziehend 2 of 4 -> numerator small: share, bounds and ratio hidden
    assert groups.hidden.loc[
        "Alleinerziehende",
        ["Davon Zielgruppe", "Anteil", "Untergrenze", "Obergrenze", "Repräsentation"],
    ].all()
    assert not groups.hidden.loc["Alleinerziehende", "Angabe bekannt"]
    sites = reach.protect(reach.sites_table(dataset, 2014), 3)
    # site b: 1 contact -> count and reach rate hidden
    assert (
        sites.hidden.loc["Standort b", "Erstkontakte"]
        and sites.hidden.loc["Standort b", "Untergrenze"]
    )
    offers = reach.protect(reach.offers(dataset, "alle", 2014), 3)
    assert not offers.any_hidden  # 50, 110, 160 and families 20 are no small counts


def test_a_share_of_zero_from_a_small_known_base_is_hidden():
    # Two known answers, both "nein": no single parent at all. 0 is no small count (zeros are
    # shown), but the base of 2 known answers is, and with it the share and its interval,
    # which would give the 2 away.
    contacts = frame(
        "erstkontakte",
        [
            contact(f"F{i}", "a", "2014-03-01", alleinerziehend=v)
            for i, v in enumerate(["nein", "nein", "unbekannt", "unbekannt", "unbekannt"])
        ],
    )
    table = reach.target_group_table(contacts)
    assert table.loc["Alleinerziehende", ["Davon Zielgruppe", "Angabe bekannt"]].tolist() == [0, 2]
    groups = reach.protect(table, 3)
    assert not groups.hidden.loc["Alleinerziehende", "Davon Zielgruppe"]
    assert groups.hidden.loc["Alleinerziehende", ["Angabe bekannt", "Anteil"]].all()
    assert groups.hidden.loc["Alleinerziehende", ["Untergrenze", "Obergrenze"]].all()


def test_baseline_notes_name_definition_differences(dataset):
    kid = Baseline(0.015, "NZFH, KiD 0–3: Mütter 21 Jahre oder jünger")
    assert "Altersgrenze" in reach.baseline_note("mutter_unter_20", kid)
    assert (
        reach.baseline_note("mutter_unter_20", Baseline(0.02, "Statistik: Mütter unter 20")) is None
    )
    local = reach.local_baselines(dataset.table("bevoelkerung"), "alle", 2014)["sgb2_bezug"]
    assert "Kinder" in reach.baseline_note("sgb2_bezug", local)
    table = reach.target_groups(dataset, "alle", 2014, {"mutter_unter_20": kid})
    assert "Altersgrenze" in table.loc["Mütter unter 20 Jahren", "Hinweis"]
    assert reach.baseline_note("alleinerziehend", None) is None


# --- issue 10: rates, opening years, cohort-like share, baselines with intervals -------------------
def test_months_open_counts_opening_and_closing_months():
    standorte = frame(
        "standorte",
        [
            {"standort_id": "a", "name": "A", "eroeffnet": "2016-03-01"},
            {
                "standort_id": "b",
                "name": "B",
                "eroeffnet": "2011-04-01",
                "geschlossen": "2018-06-30",
            },
            {"standort_id": "c", "name": "C"},
        ],
    )
    assert reach.months_open(standorte, "a", 2016) == 10  # March to December
    assert reach.months_open(standorte, "a", 2017) == 12
    assert reach.months_open(standorte, "a", 2015) == 0
    assert reach.months_open(standorte, "b", 2018) == 6  # January to June
    assert reach.months_open(standorte, "c", 2014) == 12  # no opening date: whole year
    assert reach.months_open(standorte, "x", 2014) is None
    only_new = standorte.iloc[[0]]
    assert reach.months_open(only_new, "alle", 2016) == 10
    assert reach.months_open(standorte.iloc[[0, 1]], "alle", 2016) == 12  # b open all year


def test_contacts_per_1000_births_prorates_the_opening_year_with_garwood_interval():
    from statsmodels.stats.rates import confint_poisson

    # A site that opened in April: 131 first contacts, 402 births, 9 months open.
    # Births x 9 / 12 = 301.5; 131 / 301.5 * 1000 = 434.5 (unprorated 131 / 402 = 325.9).
    rate = reach.contacts_per_1000_births(131, 402, 9)
    assert rate.exposure == pytest.approx(301.5)
    assert rate.rate == pytest.approx(434.494, abs=1e-3)
    lo, hi = confint_poisson(131, 301.5, method="exact-c")
    assert (rate.lower, rate.upper) == (pytest.approx(lo * 1000), pytest.approx(hi * 1000))
    assert reach.contacts_per_1000_births(5, None, 12).rate is None
    assert reach.contacts_per_1000_under_3(50, 1000).rate == pytest.approx(50.0)


def test_under_one_share_is_a_wilson_proportion_of_prorated_births():
    from statsmodels.stats.proportion import proportion_confint

    rows = [contact(str(i), "a", "2014-03-03", lebensphase_kind="m0_6") for i in range(6)]
    rows += [contact(f"b{i}", "a", "2014-03-03", lebensphase_kind="m6_12") for i in range(3)]
    rows += [contact(f"c{i}", "a", "2014-03-03", lebensphase_kind="j1_2") for i in range(4)]
    contacts = frame("erstkontakte", rows)
    assert reach.under_one_contacts(contacts) == 9  # 6 + 3
    # 30 births, open 6 months: 15 births-equivalent; 9 / 15 = 0.6
    p = reach.under_one_share(contacts, 30, 6)
    assert (p.count, p.n, p.share) == (9, 15, pytest.approx(0.6))
    lo, hi = proportion_confint(9, 15, method="wilson")
    assert (p.lower, p.upper) == (pytest.approx(lo), pytest.approx(hi))


def test_baseline_precedence_local_then_official_then_survey(dataset):
    configured = {
        "sgb2_bezug": Baseline(0.103, "KiD 0–3", 0.093, 0.114, art="studie"),
        "sgb2_bezug_ba": Baseline(0.165, "BA", art="amtlich", gruppe="sgb2_bezug"),
    }
    # site a has no kinder_u3: the official value wins over the survey
    chosen = reach.baselines_for(configured, dataset.table("bevoelkerung"), "a", 2014)
    assert chosen["sgb2_bezug"].quelle == "BA"
    # for alle the local count wins over both
    chosen = reach.baselines_for(configured, dataset.table("bevoelkerung"), "alle", 2014)
    assert chosen["sgb2_bezug"].art == "lokal"


def test_representation_interval_carries_the_baselines_interval():
    from statsmodels.stats.proportion import proportion_confint

    p = stats_wilson = reach.wilson_interval(40, 200)  # 20 %
    base = Baseline(0.103, "KiD", 0.093, 0.114)
    lo, hi = reach.representation_interval(p, base)
    # By hand on the log scale: se_p = log(u/l) / (2 z) from the Wilson bounds, se_b likewise.
    z = 1.959964
    wl, wu = proportion_confint(40, 200, method="wilson")
    se = ((np.log(wu / wl) / (2 * z)) ** 2 + (np.log(0.114 / 0.093) / (2 * z)) ** 2) ** 0.5
    centre = np.log(0.2 / 0.103)
    assert lo == pytest.approx(np.exp(centre - z * se), rel=1e-5)
    assert hi == pytest.approx(np.exp(centre + z * se), rel=1e-5)
    # Without a baseline interval only the share's uncertainty remains (narrower).
    lo0, hi0 = reach.representation_interval(stats_wilson, Baseline(0.103, "x"))
    assert lo < lo0 < hi0 < hi


def test_representation_interval_at_its_edges():
    from analysis.indicators.stats import Proportion

    p = reach.wilson_interval(40, 200)
    z = 1.959964
    se_p = np.log(p.upper / p.lower) / (2 * z)
    exact = reach.representation_interval(p, Baseline(0.1, "x"))
    # A baseline without interval counts as exact: 0.2 / 0.1 = 2 times exp(± z·se_p).
    assert exact == (pytest.approx(2 * np.exp(-z * se_p)), pytest.approx(2 * np.exp(z * se_p)))
    # A lower bound of 0 cannot be a log interval: treated like no interval.
    assert reach.representation_interval(p, Baseline(0.1, "x", 0.0, 0.2)) == exact
    # A 90 % interval from the share's 90 % interval is narrower (z = 1.644854).
    p90 = reach.wilson_interval(40, 200, 0.9)
    lo90, hi90 = reach.representation_interval(p90, Baseline(0.1, "x"), level=0.9)
    se90 = np.log(p90.upper / p90.lower) / (2 * 1.644854)
    assert lo90 == pytest.approx(2 * np.exp(-1.644854 * se90), rel=1e-5)
    assert exact[0] < lo90 < hi90 < exact[1]
    # Nothing to compare: no share, a share of 0 (no log), no or a zero baseline.
    none = (None, None)
    assert (
        reach.representation_interval(Proportion(0, 0, None, None, None), Baseline(0.1, "x"))
        == none
    )
    assert reach.representation_interval(reach.wilson_interval(0, 50), Baseline(0.1, "x")) == none
    assert reach.representation_interval(p, None) == none
    assert reach.representation_interval(p, Baseline(0.0, "x")) == none
    # An interval with a missing or zero end has no log width: no ratio interval.
    for lower, upper in ((None, 0.4), (0.05, None), (0.0, 0.4)):
        assert (
            reach.representation_interval(Proportion(2, 10, 0.2, lower, upper), Baseline(0.1, "x"))
            == none
        )
    assert (
        reach.representation_interval(Proportion(2, 10, None, 0.05, 0.4), Baseline(0.1, "x"))
        == none
    )
    # A baseline with only one end of its interval counts as exact.
    assert reach.representation_interval(p, Baseline(0.1, "x", 0.08, None)) == exact
    assert reach.representation_interval(p, Baseline(0.1, "x", None, 0.12)) == exact


def test_site_rates_pooled_rate_and_regions():
    ds = make_dataset(
        {
            "standorte": [
                {"standort_id": "a", "name": "A", "region": "Nord", "eroeffnet": "2011-01-01"},
                {"standort_id": "b", "name": "B", "region": "Nord", "eroeffnet": "2014-07-01"},
                {"standort_id": "c", "name": "C", "region": "Süd", "eroeffnet": "2011-01-01"},
            ],
            "erstkontakte": [contact(f"a{i}", "a", "2014-03-03") for i in range(30)]
            + [contact(f"b{i}", "b", "2014-08-03") for i in range(6)]
            + [contact(f"c{i}", "c", "2014-03-03") for i in range(20)],
            "bevoelkerung": [
                {"jahr": 2014, "gebiet": "a", "geburten": 100},
                {"jahr": 2014, "gebiet": "b", "geburten": 40},
                {"jahr": 2014, "gebiet": "c", "geburten": 50},
            ],
        }
    )
    sites = reach.site_rates_table(ds, 2014)
    assert {"je 1.000 Geburten", "Untergrenze", "Obergrenze"} <= set(sites.columns)
    assert sites.loc["b", "Untergrenze"] < 300.0 < sites.loc["b", "Obergrenze"]
    # b opened in July: 6 months, 40 x 6 / 12 = 20 births-equivalent, 6 / 20 = 300 per 1,000
    assert sites.loc["b", "Monate geöffnet"] == 6
    assert sites.loc["b", "je 1.000 Geburten"] == pytest.approx(300.0)
    # pooled: (30 + 6 + 20) / (100 + 20 + 50) x 1000 = 56 / 170 x 1000 = 329.4
    assert reach.pooled_rate(sites) == pytest.approx(56 / 170 * 1000)
    regions = reach.region_table(ds, 2014)
    assert list(regions.index) == ["Nord", "Süd"]
    # Nord = a + b: 36 contacts over 120 births-equivalent = 300 per 1,000
    assert regions.loc["Nord", "Erstkontakte"] == 36
    assert regions.loc["Nord", "je 1.000 Geburten"] == pytest.approx(300.0)
    assert regions.loc["Nord", "Standorte"] == "a, b"
