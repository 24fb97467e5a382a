"""Qualität: Noten, Intervalle, Weiterempfehlung, Netzwerkpartner und Checkliste, von Hand gerechnet."""

from __future__ import annotations

import pytest
from helpers import frame

from analysis.indicators import quality


def _surveys(grades, item="erreichbarkeit", recommend=None):
    recommend = recommend or ["ja"] * len(grades)
    return frame(
        "nutzerbefragung",
        [
            {
                "bogen_id": f"b{i}",
                "standort_id": "a",
                "datum": "2014-10-01",
                item: g,
                "weiterempfehlung": r,
            }
            for i, (g, r) in enumerate(zip(grades, recommend, strict=True))
        ],
    )


def test_distribution_mean_and_blank_answers():
    s = quality.item_summary(_surveys([1, 1, 2, 3, 5, None]), "erreichbarkeit")
    assert s.counts == {1: 2, 2: 1, 3: 1, 4: 0, 5: 1}
    assert s.n == 5 and s.no_answer == 1
    # 1 + 1 + 2 + 3 + 5 = 12; 12 / 5 = 2.4
    assert s.total == 12 and s.mean == pytest.approx(2.4)


def test_interval_uses_the_largest_spread_the_mean_allows():
    # 13 x 2 and 13 x 3: mean 2.5; spread bound (5 - 2.5)(2.5 - 1) = 3.75;
    # half width t(0.975; 25) * sqrt(3.75 / 25) = 2.059539 * 0.387298 = 0.797656
    s = quality.item_summary(_surveys([2] * 13 + [3] * 13), "erreichbarkeit")
    assert s.mean == pytest.approx(2.5)
    assert s.lower == pytest.approx(1.702344, abs=1e-6)
    assert s.upper == pytest.approx(3.297656, abs=1e-6)
    # The usual t interval (sd 0.5099) would be narrower: the bound is conservative.
    assert s.upper - s.lower > 2 * 2.059539 * 0.5099 / 26**0.5


def test_interval_edges_and_small_n():
    # Everyone gave a 1: no spread possible, the interval is the point.
    assert quality.mean_interval(4, 4) == (1.0, 1.0, 1.0)
    # One answer: a mean but no interval; no answer: nothing.
    assert quality.mean_interval(1, 3) == (3.0, None, None)
    assert quality.mean_interval(0, 0) == (None, None, None)
    # [1, 1, 3, 3]: mean 2, half 3.182446 * sqrt(3 * 1 / 3) > 1: cut to the scale 1 to 5.
    assert quality.mean_interval(4, 8) == (2.0, 1.0, 5.0)


def test_recommendation_share_among_known_answers():
    surveys = _surveys([1] * 6, recommend=["ja", "ja", "ja", "nein", "unbekannt", "unbekannt"])
    p = quality.recommendation(surveys)
    # 3 ja of 4 known (2 unbekannt left out): 0.75
    assert (p.count, p.n, p.share) == (3, 4, 0.75)
    block = quality.feedback_block(surveys)
    assert block["frageboegen"] == 6
    assert block["weiterempfehlung"] == {"anteil": 0.75, "n_bekannt": 4}
    assert block["bewertungen"]["erreichbarkeit"]["n"] == 6
    assert block["bewertungen"]["raeume"] == {
        "n": 0,
        "ohne_angabe": 6,
        "mittelwert": None,
        "untergrenze": None,
        "obergrenze": None,
    }
    assert quality.feedback_block(None) is None


def test_item_table_rows_and_columns():
    table = quality.item_table(_surveys([1, 2, 2, None]))
    assert list(table.index) == ["Erreichbarkeit", "Räume", "Angebote", "Beratung"]
    row = table.loc["Erreichbarkeit"]
    assert (row["1 (sehr gut)"], row["2"], row["Keine Angabe"], row["Antworten (n)"]) == (
        1,
        2,
        1,
        3,
    )
    assert row["Mittelwert"] == pytest.approx(5 / 3)


# --- Netzwerkpartner --------------------------------------------------------------------------


def _partners():
    rows = [
        # id, sector, bereich, gebiet, agreement since, left
        ("p1", "gesundheit", "Geburtsklinik", "gesamt", "2012-03-01", None),
        ("p2", "gesundheit", "Kinderärzte", "a", None, None),
        ("p3", "gesundheit", "KINDERARZT ", "a", "2014-06-01", None),
        (
            "p4",
            "psychosoziale_beratung",
            "Schwangerschaftsberatung",
            "b",
            "2013-01-01",
            "2014-05-31",
        ),
        ("p5", "weitere", "Jobcenter", "gesamt", "2015-01-10", None),
        ("p6", "kinder_jugendhilfe", "Kita", "b", None, None),
        ("p7", "gesundheit", "Hebammen", "b", "2011-01-01", "2013-12-31"),
    ]
    return frame(
        "netzwerkpartner",
        [
            {
                "partner_id": i,
                "bezeichnung": f"Einrichtung {i}",
                "sektor": sector,
                "bereich": area,
                "gebiet": where,
                "vereinbarung_seit": since,
                "ausgeschieden": left,
            }
            for i, sector, area, where, since, left in rows
        ],
    )


def test_core_type_folds_case_umlauts_and_spaces():
    assert quality.core_type("KINDERÄRZTE ") == "kinderaerzte"
    assert quality.core_type("Kinder- und Jugendpsychiatrie") == "kinder_jugendpsychiatrie"
    assert quality.core_type("Kita") is None
    assert quality.core_type(None) is None


def test_partners_agreements_entries_and_exits_per_year():
    p = _partners()
    # End of 2014: p7 left 2013, p4 left in May 2014 -> p1, p2, p3, p5, p6 = 5 partners.
    assert quality.partner_count(p, 2014) == 5
    # With an agreement by 31.12.2014: p1 (2012), p3 (June 2014); p5 only from 2015.
    share = quality.agreement_share(p, 2014)
    assert (share.count, share.n, share.share) == (2, 5, 0.4)
    # Agreements signed in 2014: p3; exits in 2014: p4. In 2013: p4 signed, p7 left.
    assert quality.new_agreements(p, 2014) == 1 and quality.exits(p, 2014) == 1
    assert quality.new_agreements(p, 2013) == 1 and quality.exits(p, 2013) == 1
    # End of 2013: all but p7 (left 31.12.2013) = 6; a later exit does not count earlier.
    assert quality.partner_count(p, 2013) == 6


def test_checklist_per_area_counts_city_wide_partners():
    p = _partners()
    a = quality.core_status(p, 2014, "a")
    # Area a: birth clinic city-wide with agreement, paediatricians p2/p3 (p3 agreed 2014),
    # Jobcenter city-wide but its agreement only from 2015, no midwives.
    assert a["geburtsklinik"] == quality.AGREED
    assert a["kinderaerzte"] == quality.AGREED
    assert a["jobcenter"] == quality.NO_AGREEMENT
    assert a["hebammen"] == quality.MISSING
    b = quality.core_status(p, 2014, "b")
    # Area b: pregnancy counselling left in May 2014, midwives left 2013: both missing now,
    # but in 2013 pregnancy counselling was there with its agreement.
    assert b["schwangerschaftsberatung"] == quality.MISSING
    assert quality.core_status(p, 2013, "b")["schwangerschaftsberatung"] == quality.AGREED
    assert quality.core_status(p, 2012, "b")["hebammen"] == quality.AGREED
    assert "kinderaerzte" in quality.core_missing(p, 2014, "b")
    assert "kinderaerzte" not in quality.core_missing(p, 2014, "a")


def test_sector_table_by_area_and_network_block():
    p = _partners()
    table = quality.sector_table(p, 2014, ["a", "b"])
    assert list(table.index) == ["a", "b", "gesamt", "Insgesamt"]
    # a: p2, p3 (Gesundheitswesen), one agreement -> 50 %; b: p6 only; gesamt: p1, p5.
    assert table.loc["a", "Gesundheitswesen"] == 2
    assert table.loc["a", "Anteil mit Vereinbarung"] == pytest.approx(0.5)
    assert table.loc["b", "Insgesamt"] == 1 and table.loc["b", "Mit Vereinbarung"] == 0
    assert table.loc["Insgesamt", "Insgesamt"] == 5
    assert table.loc["Insgesamt", "Mit Vereinbarung"] == 2
    block = quality.network_block(p, 2014, "a", ["a"])
    # Area a: its own p2, p3 and the city-wide p1, p5 = 4; agreements p1, p3 = 2 of 4.
    assert block["partner"] == 4
    assert block["nach_sektor"] == {
        "kinder_jugendhilfe": 0,
        "gesundheit": 3,
        "psychosoziale_beratung": 0,
        "weitere": 1,
    }
    assert block["anteil_mit_vereinbarung"] == 0.5
    assert block["neue_vereinbarungen"] == 1 and block["ausgeschieden"] == 0
    assert "hebammen" in block["kernpartner_fehlend"]["a"]
    whole = quality.network_block(p, 2014, "alle", ["a", "b"])
    assert whole["partner"] == 5 and whole["ausgeschieden"] == 1
    assert set(whole["kernpartner_fehlend"]) == {"a", "b"}
    assert quality.network_block(None, 2014, "alle", []) is None


def test_network_trend_per_year():
    trend = quality.network_trend(_partners(), [2012, 2013, 2014])
    # 2012: all 7 in; agreements p1 (2012), p7 (2011) = 2; signed in 2012: p1.
    assert trend.loc[2012, "Partner am Jahresende"] == 7
    assert trend.loc[2012, "Mit Vereinbarung"] == 2
    assert trend.loc[2012, "Neue Vereinbarungen"] == 1
    # 2013: p7 left -> 6; agreements p1, p4 = 2 (2 / 6).
    assert trend.loc[2013, "Partner am Jahresende"] == 6
    assert trend.loc[2013, "Anteil mit Vereinbarung"] == pytest.approx(2 / 6)
    assert trend.loc[2014, "Ausgeschieden"] == 1
    # By sector at the end of 2014: p1, p2, p3 Gesundheitswesen, p5 Weitere, p6 Jugendhilfe.
    assert trend.loc[2014, "Gesundheitswesen"] == 3 and trend.loc[2014, "Weitere"] == 1
    assert trend.loc[2014, "Kinder- und Jugendhilfe"] == 1
    assert trend.loc[2014, "Psychosoziale Beratung"] == 0
