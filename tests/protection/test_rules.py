"""Confidentiality rule (analysis.protection.rules): primary and secondary suppression, rounding."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.contract.schema import CATEGORIES
from analysis.protection import rules as conf
from analysis.protection.rules import Share, protect_indicators, protect_table


@pytest.mark.parametrize(
    ("value", "small"), [(0, False), (1, True), (2, True), (3, False), (None, False)]
)
def test_is_small(value, small):
    assert conf.is_small(value, 3) is small


@pytest.mark.parametrize(
    ("value", "rounded"), [(0, 0), (2, 0), (3, 5), (12, 10), (13, 15), (1602, 1600)]
)
def test_round_to_five(value, rounded):
    assert conf.round_to_five(value) == rounded


# --- indicator values ------------------------------------------------------------------------
def _reach(**over):
    phases = dict.fromkeys(CATEGORIES["lebensphase_kind"].codes, 0)
    phases.update({"schwangerschaft": 20, "m0_6": 15, "j1_2": 5})
    block = {
        "erstkontakte": 40,
        "geburten": 400,
        "erreichungsquote": 0.1,
        "besuche": 900,
        "termine": 2,
        "willkommensbesuche": 100,
        "willkommensbesuch_quote": 0.25,
        "zielgruppen": {
            "alleinerziehend": {"anteil": 0.25, "n_bekannt": 40},
            "sgb2_bezug": {"anteil": 0.05, "n_bekannt": 40},  # 0.05 * 40 = 2 -> numerator small
            "migrationshintergrund": {"anteil": 0.5, "n_bekannt": 2},  # denominator small
            "mutter_unter_20": {"anteil": None, "n_bekannt": 0},
        },
        "lebensphase": phases,
    }
    block.update(over)
    return {"jahr": 2014, "standort": "alle", "reichweite": block}


def test_protect_indicators_without_small_values_changes_nothing():
    values = _reach(
        zielgruppen={g: {"anteil": 0.5, "n_bekannt": 40} for g in ("alleinerziehend", "sgb2_bezug")}
    )
    out, hidden = protect_indicators(values, 3)
    assert hidden == []
    assert out == values


def test_protect_indicators_primary_shares_and_secondary():
    values = _reach()
    values["reichweite"]["lebensphase"].update({"m0_6": 13, "m6_12": 2})  # 20 + 13 + 2 + 5 = 40
    out, hidden = protect_indicators(values, 3)
    r = out["reichweite"]
    # termine has protection "keine": a 2 stays
    assert r["termine"] == 2
    # sgb2 share: 0.05 * 40 = 2 contacts -> hidden; migration: n_bekannt 2 -> count and share hidden
    assert r["zielgruppen"]["sgb2_bezug"] == {"anteil": None, "n_bekannt": 40}
    assert r["zielgruppen"]["migrationshintergrund"] == {"anteil": None, "n_bekannt": None}
    # lebensphase: m6_12 = 2 hidden; the total 40 would reveal it -> the next-smallest
    # non-zero phase j1_2 = 5 is hidden too
    assert r["lebensphase"]["m6_12"] is None
    assert r["lebensphase"]["j1_2"] is None
    assert r["lebensphase"]["m0_6"] == 13 and r["lebensphase"]["m6_12"] is None
    assert r["lebensphase"]["j2_3"] == 0  # zeros are published
    assert hidden == [
        "reichweite.zielgruppen.sgb2_bezug.anteil",
        "reichweite.zielgruppen.migrationshintergrund.n_bekannt",
        "reichweite.zielgruppen.migrationshintergrund.anteil",
        "reichweite.lebensphase.m6_12",
        "reichweite.lebensphase.j1_2",
    ]
    # mutter_unter_20 anteil was already null: not "hidden"
    assert "reichweite.zielgruppen.mutter_unter_20.anteil" not in hidden
    # the input is not changed
    assert values["reichweite"]["lebensphase"]["m6_12"] == 2


def test_protect_indicators_small_denominator_hides_rates():
    values = _reach(
        erstkontakte=2,
        geburten=2,
        erreichungsquote=1.0,
        willkommensbesuche=1,
        willkommensbesuch_quote=0.5,
    )
    values["reichweite"]["lebensphase"] = dict.fromkeys(CATEGORIES["lebensphase_kind"].codes, 0)
    values["reichweite"]["lebensphase"]["m0_6"] = 2
    out, hidden = protect_indicators(values, 3)
    r = out["reichweite"]
    assert r["erstkontakte"] is None and r["geburten"] is None and r["erreichungsquote"] is None
    assert r["willkommensbesuche"] is None and r["willkommensbesuch_quote"] is None
    assert r["lebensphase"]["m0_6"] is None
    assert "reichweite.erreichungsquote" in hidden


def test_protect_indicators_means_and_zugangswege_groups():
    counts = dict.fromkeys(CATEGORIES["zugangsweg"].codes, 0)
    counts.update({"geburtsklinik": 30, "hebamme": 1, "jugendamt": 9})  # total 40
    values = {
        "reichweite": {"erstkontakte": 40},
        "zugangswege": {
            "anzahl": counts,
            "anteile": {c: n / 40 for c, n in counts.items()},
            "gruppen": {"Gesundheitswesen": 31 / 40, "Jugendhilfe und Soziales": 9 / 40},
            "reaktionszeit": {"n": 2, "median_werktage": 1.0, "quote_binnen_3_werktagen": 1.0},
        },
    }
    out, hidden = protect_indicators(values, 3)
    z = out["zugangswege"]
    # hebamme 1 hidden; secondary: next-smallest non-zero jugendamt 9 hidden
    assert z["anzahl"]["hebamme"] is None and z["anzahl"]["jugendamt"] is None
    assert z["anzahl"]["geburtsklinik"] == 30
    assert z["anteile"]["hebamme"] is None and z["anteile"]["jugendamt"] is None
    # a group containing a hidden count would reveal it -> hidden
    assert z["gruppen"]["Gesundheitswesen"] is None
    assert z["gruppen"]["Jugendhilfe und Soziales"] is None
    # median from 2 cases < 3 -> hidden, as the count n = 2 itself
    assert z["reaktionszeit"] == {
        "n": None,
        "median_werktage": None,
        "quote_binnen_3_werktagen": None,
    }
    assert "zugangswege.reaktionszeit.median_werktage" in hidden


def test_protect_indicators_rounding_to_five():
    values = _reach(zielgruppen={}, geburten=1602, erstkontakte=412, besuche=9003)
    values["reichweite"]["lebensphase"] = {"schwangerschaft": 412}
    out, hidden = protect_indicators(values, 3, round_to_5=True)
    r = out["reichweite"]
    assert (r["erstkontakte"], r["geburten"], r["besuche"]) == (410, 1600, 9005)
    assert r["termine"] == 2  # not a count of persons: protection "keine", not rounded
    # Shares beside rounded counts come from the rounded counts (the exact share times the
    # published n would give the exact count back): 410 / 1600 = 0.25625, not the 0.1 given.
    assert r["erreichungsquote"] == pytest.approx(410 / 1600)
    assert hidden == []


def test_rounded_shares_do_not_give_back_exact_counts():
    # 13 of 47 known: rounded 15 of 45; the share published is 15 / 45, and 15/45 * 45 = 15,
    # never the exact 13.
    values = _reach(zielgruppen={}, erstkontakte=47, geburten=100)
    values["reichweite"]["zielgruppen"] = {"alleinerziehend": {"anteil": 13 / 47, "n_bekannt": 47}}
    out, _ = protect_indicators(values, 3, round_to_5=True)
    group = out["reichweite"]["zielgruppen"]["alleinerziehend"]
    assert group["n_bekannt"] == 45
    assert group["anteil"] == pytest.approx(15 / 45)
    assert round(group["anteil"] * group["n_bekannt"]) != 13


# --- tables ----------------------------------------------------------------------------------
def _cross():
    # rows: sites, columns: access routes, with totals
    return pd.DataFrame(
        {
            "Klinik": [10, 2, 12],
            "Hebamme": [5, 7, 12],
            "Jugendamt": [4, 6, 10],
            "Summe": [19, 15, 34],
        },
        index=pd.Index(["a", "b", "Insgesamt"], name="Standort"),
    ).astype("Int64")


def test_protect_table_primary_and_secondary_rows_and_columns():
    pt = protect_table(
        _cross(),
        3,
        count_columns=["Klinik", "Hebamme", "Jugendamt", "Summe"],
        total_row="Insgesamt",
        total_column="Summe",
    )
    hidden = {(r, c) for r in pt.hidden.index for c in pt.hidden.columns if pt.hidden.at[r, c]}
    # b/Klinik = 2 is primary. Row b: next-smallest non-zero is Jugendamt 6.
    # Column Klinik: next-smallest among a/Klinik 10 -> hidden. Column Jugendamt: a/Jugendamt 4.
    # Row a then has Klinik and Jugendamt hidden (2) -> stable.
    assert hidden == {("b", "Klinik"), ("b", "Jugendamt"), ("a", "Klinik"), ("a", "Jugendamt")}
    assert pd.isna(pt.values.at["b", "Klinik"])
    assert pt.values.at["Insgesamt", "Summe"] == 34
    assert pt.any_hidden
    assert "Geheimhaltung" in pt.footnote and "unter 3" in pt.footnote


def test_protect_table_hides_total_when_no_other_cell():
    df = pd.DataFrame({"n": [2, 0, 2]}, index=["x", "y", "Insgesamt"]).astype("Int64")
    pt = protect_table(df, 3, count_columns=["n"], total_row="Insgesamt")
    assert pt.hidden["n"].tolist() == [True, False, True]


def test_protect_table_without_totals_only_primary():
    df = pd.DataFrame({"n": [2, 7, 9]}, index=["x", "y", "z"]).astype("Int64")
    pt = protect_table(df, 3, count_columns=["n"])
    assert pt.hidden["n"].tolist() == [True, False, False]


def test_protect_table_shares_and_means_follow_their_counts():
    df = pd.DataFrame(
        {
            "Erstkontakte": [2, 8, 10],
            "Anteil": [0.2, 0.8, 1.0],
            "Median Werktage": [1.0, 2.5, 2.0],
            "Fälle mit Meldung": [2, 8, 10],
        },
        index=["a", "b", "Insgesamt"],
    ).astype({"Erstkontakte": "Int64", "Fälle mit Meldung": "Int64"})
    pt = protect_table(
        df,
        3,
        count_columns=["Erstkontakte"],
        total_row="Insgesamt",
        share_columns={"Anteil": Share("Erstkontakte", denominator_row="Insgesamt")},
        mean_columns={"Median Werktage": "Fälle mit Meldung"},
    )
    # a = 2 primary, b = 8 secondary (column total 10); their shares go with them
    assert pt.hidden["Erstkontakte"].tolist() == [True, True, False]
    assert pt.hidden["Anteil"].tolist() == [True, True, False]
    # median of a rests on 2 cases -> hidden; b on 8 -> shown
    assert pt.hidden["Median Werktage"].tolist() == [True, False, False]


def test_protect_table_rounding_and_formatting():
    df = pd.DataFrame(
        {"Erstkontakte": [1234, 0, 1234], "Anteil": [1.0, 0.0, 1.0]}, index=["a", "b", "Insgesamt"]
    ).astype({"Erstkontakte": "Int64"})
    pt = protect_table(
        df,
        3,
        count_columns=["Erstkontakte"],
        total_row="Insgesamt",
        share_columns={"Anteil": Share("Erstkontakte", denominator_row="Insgesamt")},
        round_to_5=True,
    )
    assert pt.values["Erstkontakte"].tolist() == [1235, 0, 1235]
    shown = pt.formatted()
    assert shown.at["a", "Erstkontakte"] == "1.235"
    assert shown.at["a", "Anteil"] == "100,0 %"
    assert "Vielfaches von 5" in pt.footnote


def test_formatted_marks_hidden_and_missing_cells():
    df = pd.DataFrame(
        {"Erstkontakte": [2, 5], "Quote": [0.123, None], "Name": ["x", None]}, index=["a", "b"]
    ).astype({"Erstkontakte": "Int64"})
    pt = protect_table(
        df, 3, count_columns=["Erstkontakte"], share_columns={"Quote": Share("Erstkontakte")}
    )
    shown = pt.formatted()
    assert shown.loc["a"].tolist() == ["•", "•", "x"]
    assert shown.loc["b"].tolist() == ["5", "–", "–"]
    text = pt.to_string()
    assert "•" in text and text.endswith(pt.footnote)
    html = pt.to_html(caption="Erstkontakte <2014>")
    assert "<caption>Erstkontakte &lt;2014&gt;</caption>" in html and "fussnote" in html
    assert pt.formatted({"Quote": "zahl2"}).at["b", "Quote"] == "–"


def test_protect_table_unknown_column_is_an_error():
    with pytest.raises(KeyError):
        protect_table(_cross(), 3, count_columns=["Fehlt"])


def test_with_marks_keeps_raw_values_and_marks_hidden():
    df = pd.DataFrame({"n": [2, 5], "x": [1.5, None]}, index=["a", "b"]).astype({"n": "Int64"})
    marked = protect_table(df, 3, count_columns=["n"]).with_marks()
    assert marked["n"].tolist() == ["•", 5]
    assert marked["x"].tolist() == [1.5, None]


@given(
    st.lists(st.lists(st.integers(0, 12), min_size=3, max_size=3), min_size=2, max_size=5),
    st.integers(2, 5),
)
@settings(max_examples=60, deadline=None)
def test_no_line_with_a_total_keeps_exactly_one_hidden_cell(cells, min_count):
    # Property: after secondary suppression no row or column (with its total) has exactly
    # one hidden cell, so no hidden cell can be recomputed by subtraction.
    df = pd.DataFrame(cells, columns=["x", "y", "z"], index=[f"r{i}" for i in range(len(cells))])
    df["Summe"] = df.sum(axis=1)
    df.loc["Insgesamt"] = df.sum()
    pt = protect_table(
        df.astype("Int64"),
        min_count,
        count_columns=["x", "y", "z", "Summe"],
        total_row="Insgesamt",
        total_column="Summe",
    )
    mask = pt.hidden
    for r in mask.index:
        assert mask.loc[r].sum() != 1
    for c in mask.columns:
        assert mask[c].sum() != 1
    # every primary cell is hidden
    small = (df > 0) & (df < min_count)
    assert not (small & ~mask).to_numpy().any()


def _wilson(k: int, n: int) -> tuple[float, float]:
    """Wilson 95 % interval from its textbook formula (z = 1.959963984540054)."""
    z, p = 1.959963984540054, k / n
    centre, spread = p + z * z / (2 * n), z * (p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5
    return (centre - spread) / (1 + z * z / n), (centre + spread) / (1 + z * z / n)


def test_rounded_table_shares_and_intervals_come_from_the_rounded_counts():
    # a 12, b 31, c 0 of 43 -> published 10, 30, 0 of 45 (43 rounds up to 45). Shares are
    # 10/45 and 30/45 (not 12/43, 31/43, which times the published 45 would give 12 and 31
    # back), bounds are the Wilson interval of 10 of 45 and 30 of 45; 0 stays 0 %.
    exact = [12 / 43, 31 / 43, 0.0, 1.0]
    df = pd.DataFrame(
        {"Anzahl": [12, 31, 0, 43], "Anteil": exact, "Untergrenze": exact, "Obergrenze": exact},
        index=["a", "b", "c", "Insgesamt"],
    ).astype({"Anzahl": "Int64"})
    share = Share("Anzahl", denominator_row="Insgesamt")
    pt = protect_table(
        df,
        3,
        count_columns=["Anzahl"],
        total_row="Insgesamt",
        share_columns={"Anteil": share, "Untergrenze": share, "Obergrenze": share},
        round_to_5=True,
    )
    assert pt.values["Anzahl"].tolist() == [10, 30, 0, 45]
    assert pt.values["Anteil"].tolist() == pytest.approx([10 / 45, 30 / 45, 0.0, 1.0])
    for row, k in (("a", 10), ("b", 30), ("c", 0), ("Insgesamt", 45)):
        lower, upper = _wilson(k, 45)
        assert pt.values.at[row, "Untergrenze"] == pytest.approx(lower, abs=1e-12)
        assert pt.values.at[row, "Obergrenze"] == pytest.approx(upper)
    assert not pt.hidden.to_numpy().any()


def test_rounded_share_of_a_row_denominator():
    # x: 13 of 47 known -> 15 of 45 = 1/3; y: 7 of 20 -> 5 of 20 = 0.25; z: 2 of 9 is small
    # (hidden with its share), 9 -> 10.
    df = pd.DataFrame(
        {"Bekannt": [47, 20, 9], "Davon": [13, 7, 2], "Anteil": [13 / 47, 7 / 20, 2 / 9]},
        index=["x", "y", "z"],
    ).astype({"Bekannt": "Int64", "Davon": "Int64"})
    pt = protect_table(
        df,
        3,
        count_columns=["Bekannt", "Davon"],
        share_columns={"Anteil": Share("Davon", denominator="Bekannt")},
        round_to_5=True,
    )
    assert pt.values.loc[["x", "y"], "Anteil"].tolist() == pytest.approx([15 / 45, 5 / 20])
    assert pt.values.at["z", "Bekannt"] == 10
    assert pt.hidden.loc["z"].tolist() == [False, True, True]


def test_rounding_leaves_out_rates_per_1000_and_interval_bounds_in_kennzahlen():
    # Beside rounded counts a rate per 1,000 (prorated denominator) and an interval bound
    # cannot be recomputed: they are left out; the share itself comes from the rounded
    # counts: 100 welcome visits of 1,602 births -> 100 / 1,600.
    values = _reach(zielgruppen={}, geburten=1602, erstkontakte=412)
    values["reichweite"]["willkommensbesuch_quote"] = 100 / 1602
    values["reichweite"]["erstkontakte_je_1000_geburten"] = {
        "wert": 257.2,
        "untergrenze": 233.0,
        "obergrenze": 283.0,
    }
    values["reichweite"]["willkommensbesuch_quote_intervall"] = {
        "untergrenze": 0.05,
        "obergrenze": 0.07,
    }
    out, _ = protect_indicators(values, 3, round_to_5=True)
    r = out["reichweite"]
    assert r["erstkontakte_je_1000_geburten"] == dict.fromkeys(
        ("wert", "untergrenze", "obergrenze")
    )
    assert r["willkommensbesuch_quote_intervall"] == {"untergrenze": None, "obergrenze": None}
    assert r["willkommensbesuch_quote"] == pytest.approx(100 / 1600)
    exact, _ = protect_indicators(values, 3)
    assert exact["reichweite"]["willkommensbesuch_quote_intervall"]["obergrenze"] == 0.07


def test_rounding_goes_on_past_hidden_rows_empty_bounds_and_shares_without_a_numerator():
    # Rows in this order: "klein" 2 (small, hidden), "x" 3 (hidden second, the smallest other
    # part of the total), "leer" 10 whose bound is missing in the input, "a" 12, "b" 20, of
    # 47. Published: leer 10, a 10, b 20 of 45. The column "Quote" has no numerator and comes
    # first. Every row after the hidden ones, and every column after "Quote", is recomputed
    # from the rounded counts; the missing bound stays missing.
    index = ["klein", "x", "leer", "a", "b", "Insgesamt"]
    counts = [2, 3, 10, 12, 20, 47]
    exact = [c / 47 for c in counts]
    df = pd.DataFrame(
        {
            "Anzahl": counts,
            "Quote": [0.5] * 6,
            "Anteil": exact,
            "Untergrenze": [*exact[:2], None, *exact[3:]],
        },
        index=index,
    ).astype({"Anzahl": "Int64"})
    share = Share("Anzahl", denominator_row="Insgesamt")
    pt = protect_table(
        df,
        3,
        count_columns=["Anzahl"],
        total_row="Insgesamt",
        share_columns={
            "Quote": Share(denominator="Anzahl"),
            "Anteil": share,
            "Untergrenze": share,
        },
        round_to_5=True,
    )
    assert pt.hidden["Anzahl"].tolist() == [True, True, False, False, False, False]
    assert pt.values["Anzahl"].tolist()[2:] == [10, 10, 20, 45]
    assert pt.values["Anteil"].tolist()[2:] == pytest.approx([10 / 45, 10 / 45, 20 / 45, 1.0])
    assert pt.values["Quote"].tolist()[2:] == [0.5] * 4
    assert pd.isna(pt.values.at["leer", "Untergrenze"])
    assert pt.values.at["a", "Untergrenze"] == pytest.approx(_wilson(10, 45)[0], abs=1e-12)
    assert pt.values.at["b", "Untergrenze"] == pytest.approx(_wilson(20, 45)[0], abs=1e-12)


def test_a_share_with_a_numerator_but_no_denominator_stays_as_given_under_rounding():
    # "Kennziffer" names its numerator but no denominator (neither column nor row): nothing
    # to recompute it from, so rounding leaves it as it is instead of failing.
    df = pd.DataFrame(
        {"Anzahl": [12, 20, 32], "Kennziffer": [0.7, 0.9, 0.8]}, index=["a", "b", "Insgesamt"]
    ).astype({"Anzahl": "Int64"})
    pt = protect_table(
        df,
        3,
        count_columns=["Anzahl"],
        total_row="Insgesamt",
        share_columns={"Kennziffer": Share("Anzahl")},
        round_to_5=True,
    )
    assert pt.values["Anzahl"].tolist() == [10, 20, 30]
    assert pt.values["Kennziffer"].tolist() == [0.7, 0.9, 0.8]


def test_rounding_recomputes_an_amount_per_first_contact_from_the_rounded_count():
    # 100,000 EUR budget and 412 first contacts: 412 is published as 410, so the amount per
    # first contact is shown as 100,000 / 410 = 243.90 (not 242.72, which times 410 would
    # give the exact 412 back).
    values = _reach(zielgruppen={}, erstkontakte=412)
    values["kosten"] = {"fh_budget_eur": 100_000.0, "fh_budget_je_erstkontakt_eur": 100_000 / 412}
    out, _ = protect_indicators(values, 3, round_to_5=True)
    assert out["reichweite"]["erstkontakte"] == 410
    assert out["kosten"]["fh_budget_je_erstkontakt_eur"] == pytest.approx(100_000 / 410)
    exact, _ = protect_indicators(values, 3)
    assert exact["kosten"]["fh_budget_je_erstkontakt_eur"] == pytest.approx(100_000 / 412)


def test_text_and_html_use_the_formats_given_and_a_table_without_hidden_cells_has_no_note():
    df = pd.DataFrame({"Anzahl": [12, 30], "Quote": [0.25, 0.5]}, index=["a", "b"]).astype(
        {"Anzahl": "Int64"}
    )
    df.index.name = "Standort"
    pt = protect_table(df, 3, count_columns=["Anzahl"])
    assert not pt.footnote
    text = pt.to_string({"Quote": "anteil"})
    assert "25,0 %" in text and "0,25" in pt.to_string() and "%" not in pt.to_string()
    assert not text.endswith("\n")
    html_text = pt.to_html({"Quote": "anteil"}, caption="Tabelle")
    assert "25,0 %" in html_text
    assert html_text.count("<caption>") == 1 and html_text.count("Tabelle") == 1
    assert pt.formatted().index.name == "Standort"


def _named_table():
    df = pd.DataFrame(
        {"Erstkontakte": [2, 5], "Quote": [0.123, 0.5], "Name": ["<b>x</b>", None]},
        index=["a", "b"],
    ).astype({"Erstkontakte": "Int64"})
    return protect_table(
        df, 3, count_columns=["Erstkontakte"], share_columns={"Quote": Share("Erstkontakte")}
    )


def test_to_string_shows_the_formatted_cells_and_the_footnote():
    pt = _named_table()
    lines = pt.to_string().splitlines()
    assert lines[:3] == [
        "  Erstkontakte   Quote      Name",
        "a            •       •  <b>x</b>",
        "b            5  50,0 %         –",
    ]
    assert lines[3] == pt.footnote and len(lines) == 4


def test_to_html_escapes_cells_and_keeps_the_house_table_class():
    html = _named_table().to_html()
    assert html.startswith('<table class="dataframe fh-tabelle">\n')  # border=0: no attribute
    assert "<td>&lt;b&gt;x&lt;/b&gt;</td>" in html and "<b>x</b>" not in html
    assert "<td>•</td>" in html and "<td>50,0 %</td>" in html and "<td>–</td>" in html
    assert html.endswith(f'</table>\n<p class="fussnote">{_named_table().footnote}</p>')


def test_a_callable_format_renders_shown_cells_only():
    shown = _named_table().formatted({"Quote": lambda v: f"<{v:.2f}>"})
    assert shown["Quote"].tolist() == ["•", "<0.50>"]
    assert shown["Erstkontakte"].tolist() == ["•", "5"]


def test_a_share_on_a_hidden_base_is_hidden_even_when_the_base_is_not_small():
    # n_bekannt = 40 hidden by the publication (secondary, not small): its share 25 % would
    # give the 40 back with the 10 "ja" that follow from it.
    values = _reach(zielgruppen={"alleinerziehend": {"anteil": 0.25, "n_bekannt": 40}})
    out, hidden = protect_indicators(
        values, 3, decided={"reichweite.zielgruppen.alleinerziehend.n_bekannt": True}
    )
    group = out["reichweite"]["zielgruppen"]["alleinerziehend"]
    assert group == {"anteil": None, "n_bekannt": None}
    assert "reichweite.zielgruppen.alleinerziehend.anteil" in hidden
