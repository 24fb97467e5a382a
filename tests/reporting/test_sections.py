"""The sentences a reader sees, built from tiny hand-made data (numbers worked out in comments).

Each test builds the processed tables by hand, runs one section function as a report notebook
would, and checks the published table and the German sentence: a rate above 100 %, a hidden
count, a year without a previous year, a municipality with one site only.
"""

from __future__ import annotations

import re

import pytest
from helpers import contact, make_dataset, site

from analysis.config import load_config
from analysis.formatting import SUPPRESSED
from analysis.reporting import sections
from analysis.reporting.cells import Report


@pytest.fixture(scope="module")
def config():
    return load_config()  # the committed configuration: minimum count 3, no rounding


def _report(tables, config, site_id="a", year=2014) -> Report:
    dataset = make_dataset(tables)
    return Report(dataset, config, site_id, year, dataset.site_name(site_id))


def _contacts(n: int, site_id: str = "a", year: int = 2014, **values):
    return [
        contact(f"{site_id}{i}", site_id, f"{year}-03-{i % 28 + 1:02d}", **values) for i in range(n)
    ]


def _cell(section, row, column):
    t = section.table
    return SUPPRESSED if bool(t.hidden.loc[row, column]) else t.values.loc[row, column]


RATE = "Erstkontakte je 1.000 Geburten"  # the catalogue's label


def test_reach_rate_above_1000_is_explained(config):
    # 5 first contacts, 4 births: 5 / 4 x 1000 = 1,250 per 1,000 births.
    report = _report(
        {
            "standorte": [site("a", "2011-01-01")],
            "erstkontakte": _contacts(5),
            "bevoelkerung": [{"jahr": 2014, "gebiet": "a", "geburten": 4}],
        },
        config,
    )
    section = sections.reach_overview(report)
    assert _cell(section, RATE, "Erstkontakte") == 5
    assert _cell(section, RATE, "je 1.000") == pytest.approx(1250.0)
    assert section.sentence.startswith("Standort a hatte 2014 5 Erstkontakte bei 4 Geburten")
    assert "1.250 Erstkontakte je 1.000 Geburten" in section.sentence
    assert "Ein Wert über 1.000 bedeutet" in section.sentence


def test_reach_rate_in_an_opening_year_is_prorated_and_says_so(config):
    # Opened 1 July: 6 months; 30 contacts, 120 births -> 30 / (120 x 6 / 12) x 1000 = 500.
    from statsmodels.stats.rates import confint_poisson

    report = _report(
        {
            "standorte": [site("a", "2014-07-01")],
            "erstkontakte": [contact(f"a{i}", "a", "2014-08-04") for i in range(30)],
            "bevoelkerung": [{"jahr": 2014, "gebiet": "a", "geburten": 120}],
        },
        config,
    )
    section = sections.reach_overview(report)
    assert _cell(section, RATE, "je 1.000") == pytest.approx(500.0)
    lo, hi = confint_poisson(30, 60, method="exact-c")
    assert _cell(section, RATE, "Untergrenze") == pytest.approx(lo * 1000)
    assert _cell(section, RATE, "Obergrenze") == pytest.approx(hi * 1000)
    assert "500 Erstkontakte je 1.000 Geburten" in section.sentence
    assert "nur 6 Monate geöffnet" in section.sentence
    assert "Erreichungsquote" not in section.sentence


def test_a_hidden_count_is_not_named_in_the_sentence(config):
    # 2 first contacts < minimum 3: the count, the rate and its bounds are hidden.
    report = _report(
        {
            "standorte": [site("a", "2011-01-01")],
            "erstkontakte": _contacts(2),
            "bevoelkerung": [{"jahr": 2014, "gebiet": "a", "geburten": 40}],
        },
        config,
    )
    section = sections.reach_overview(report)
    for column in ("Erstkontakte", "je 1.000", "Untergrenze", "Obergrenze"):
        assert _cell(section, RATE, column) == SUPPRESSED
    assert section.sentence == (
        "Für Standort a, 2014 ist die Zahl der Erstkontakte so klein, dass sie nicht "
        "ausgewiesen wird."
    )
    assert "2" not in section.sentence.replace("2014", "")


def test_no_births_gives_no_rate_and_says_why(config):
    report = _report({"standorte": [site("a", "2011-01-01")], "erstkontakte": _contacts(7)}, config)
    section = sections.reach_overview(report)
    assert (
        "7 Erstkontakte; eine Rate je 1.000 Geburten lässt sich nicht berechnen" in section.sentence
    )


def test_no_first_contacts_at_all(config):
    report = _report({"standorte": [site("a", "2011-01-01")], "erstkontakte": []}, config)
    assert sections.reach_overview(report).sentence == (
        "Für Standort a, 2014 sind keine Erstkontakte erfasst."
    )


def test_hze_in_the_first_year_has_no_previous_year(config):
    # One year only: no change to the previous year, no mean growth.
    report = _report(
        {
            "standorte": [site("a", "2011-01-01")],
            "kosten_hze": [
                {
                    "jahr": 2014,
                    "hilfeart": "gesamt",
                    "ausgaben_eur": 1_000_000.0,
                    "fallzahl_mittel": 80.0,
                }
            ],
        },
        config,
    )
    section = sections.hze_development(report)
    # 1,000,000 € / 80 cases = 12,500 € per case.
    assert section.sentence == (
        "2014 gab die Kommune 1.000.000 € für Hilfen zur Erziehung aus bei im Mittel 80,0 "
        "Fällen; ein Fall kostete 12.500 €."
    )


def test_hze_with_a_previous_year_states_change_and_growth(config):
    # 1,000,000 -> 1,100,000: +10 %; mean growth over one step is the same 10 %.
    report = _report(
        {
            "standorte": [site("a", "2011-01-01")],
            "kosten_hze": [
                {
                    "jahr": 2013,
                    "hilfeart": "gesamt",
                    "ausgaben_eur": 1_000_000.0,
                    "fallzahl_mittel": 80.0,
                },
                {
                    "jahr": 2014,
                    "hilfeart": "gesamt",
                    "ausgaben_eur": 1_100_000.0,
                    "fallzahl_mittel": 88.0,
                },
            ],
        },
        config,
    )
    sentence = sections.hze_development(report).sentence
    assert "1.100.000 € für Hilfen zur Erziehung aus (+10,00 % zum Vorjahr)" in sentence
    assert "Von 2013 bis 2014 wuchsen die Ausgaben im Mittel um 10,0 % im Jahr." in sentence


def test_hze_report_year_shows_nothing_after_it(config):
    report = _report(
        {
            "standorte": [site("a", "2011-01-01")],
            "kosten_hze": [
                {
                    "jahr": y,
                    "hilfeart": "gesamt",
                    "ausgaben_eur": 1_000_000.0 + y,
                    "fallzahl_mittel": 80.0,
                }
                for y in (2013, 2014, 2015)
            ],
        },
        config,
    )
    section = sections.hze_development(report)
    assert list(section.table.values.index) == [2013, 2014]


def test_one_site_only(config):
    # One site with 6 first contacts: the all-sites row equals it, and the sentence says
    # "an einem Standort", not "an 1 Standorten".
    report = _report(
        {
            "standorte": [site("a", "2011-01-01")],
            "erstkontakte": _contacts(6),
            "bevoelkerung": [{"jahr": 2014, "gebiet": "a", "geburten": 12}],
        },
        config,
        site_id="alle",
    )
    section = sections.sites_overview(report)
    assert (
        section.sentence
        == "An allen Standorten zusammen gab es 2014 6 Erstkontakte an einem Standort."
    )
    assert list(section.table.values["Erstkontakte"]) == [6, 6]


def test_several_sites_are_counted_in_the_sentence(config):
    report = _report(
        {
            "standorte": [site("a", "2011-01-01"), site("b", "2011-01-01")],
            "erstkontakte": _contacts(6, "a") + _contacts(4, "b"),
        },
        config,
        site_id="alle",
    )
    assert sections.sites_overview(report).sentence == (
        "An allen Standorten zusammen gab es 2014 10 Erstkontakte an 2 Standorten."
    )


def test_most_frequent_route_and_a_hidden_route(config):
    # 6 via Hebamme, 4 via Geburtsklinik, 1 via Jobcenter (hidden): 11 in all.
    # Hebamme: 6 / 11 = 54.5 %.
    rows = (
        _contacts(6, zugangsweg="hebamme")
        + [contact(f"g{i}", "a", "2014-05-02", zugangsweg="geburtsklinik") for i in range(4)]
        + [contact("j0", "a", "2014-06-02", zugangsweg="jobcenter")]
    )
    report = _report({"standorte": [site("a", "2011-01-01")], "erstkontakte": rows}, config)
    section = sections.routes_table(report)
    assert _cell(section, "Jobcenter / Sozialamt", "Anzahl") == SUPPRESSED
    assert _cell(section, "Jobcenter / Sozialamt", "Anteil") == SUPPRESSED
    assert section.sentence.startswith(
        "Der häufigste Zugangsweg war „Hebamme / Familienhebamme“ mit 54,5 % der 11 Erstkontakte"
    )


def test_response_time_without_any_referral_date(config):
    report = _report({"standorte": [site("a", "2011-01-01")], "erstkontakte": _contacts(5)}, config)
    assert sections.response_time(report).sentence == (
        "Für diese Auswahl ist bei keinem Erstkontakt ein Meldedatum erfasst."
    )


def test_response_time_sentence_with_hand_counted_working_days(config):
    # Referral Mon 2014-03-03; contacts Mon (0 WT), Wed (2), Thu (exactly 3), Fri (4),
    # Mon 10th (5), Tue 11th (6): 3 of 6 within 3 working days = 50 %; median 3.5.
    days = ["2014-03-03", "2014-03-05", "2014-03-06", "2014-03-07", "2014-03-10", "2014-03-11"]
    rows = [contact(f"r{i}", "a", d, datum_meldung="2014-03-03") for i, d in enumerate(days)]
    report = _report({"standorte": [site("a", "2011-01-01")], "erstkontakte": rows}, config)
    section = sections.response_time(report)
    assert section.sentence.startswith(
        "Nach einer Meldung kam der Erstkontakt im Median nach 3,5 Werktagen zustande; "
        "50,0 % der gemeldeten Familien wurden binnen 3 Werktagen erreicht"
    )
    row = "Kontakt binnen 3 Werktagen"
    assert (_cell(section, row, "Anzahl"), _cell(section, row, "Bezugsgröße (n)")) == (3, 6)


def test_response_time_hides_a_small_complement(config):
    # 3 of 4 within 3 working days: "not within" = 4 - 3 = 1 family, a count below 3 that
    # n minus the published count would give away; the publication hides one of them.
    days = ["2014-03-03", "2014-03-05", "2014-03-06", "2014-03-07"]
    rows = [contact(f"r{i}", "a", d, datum_meldung="2014-03-03") for i, d in enumerate(days)]
    report = _report({"standorte": [site("a", "2011-01-01")], "erstkontakte": rows}, config)
    section = sections.response_time(report)
    row = "Kontakt binnen 3 Werktagen"
    shown = (_cell(section, row, "Anzahl"), _cell(section, row, "Bezugsgröße (n)"))
    assert SUPPRESSED in shown
    assert _cell(section, row, "Anteil") == SUPPRESSED
    assert (
        section.sentence == "Die Reaktionszeit lässt sich wegen kleiner Fallzahl nicht ausweisen."
    )


def test_budget_per_contact_is_not_given_for_a_small_count(config):
    # 2 first contacts: 1,000 € / 2 would reveal the count; the sentence stops at the budget.
    report = _report(
        {
            "standorte": [site("a", "2011-01-01")],
            "erstkontakte": _contacts(2),
            "finanzierung": [
                {"jahr": 2014, "gebiet": "a", "quelle": "kommune", "betrag_eur": 1000.0}
            ],
        },
        config,
    )
    assert sections.fh_budget(report).sentence == "Das Budget der Frühen Hilfen betrug 1.000 €."


def test_no_category_with_zero_is_called_the_most_frequent(config):
    # 3 Hebamme, 2 Geburtsklinik, 1 Jugendamt (6): the 2 and the 1 are small, and the
    # publication hides enough that no non-zero route share is left to name; the sentence
    # must not call a route with 0 % "the most frequent".
    rows = (
        [contact(f"h{i}", "a", "2014-05-02", zugangsweg="hebamme") for i in range(3)]
        + [contact(f"g{i}", "a", "2014-05-03", zugangsweg="geburtsklinik") for i in range(2)]
        + [contact("j0", "a", "2014-05-04", zugangsweg="jugendamt")]
    )
    report = _report({"standorte": [site("a", "2011-01-01")], "erstkontakte": rows}, config)
    sentence = sections.routes_table(report).sentence
    assert not re.search(r"(?<![\d,])0,0 %", sentence), sentence
    assert "Kinder- und Jugendarztpraxis" not in sentence


def _hze_rows(values: dict[int, float]) -> list[dict]:
    return [
        {"jahr": y, "hilfeart": "gesamt", "ausgaben_eur": v, "fallzahl_mittel": 100.0}
        for y, v in values.items()
    ]


def test_trend_change_says_plainly_when_the_series_is_too_short(config):
    # 2007-2016: 4 years before the start in 2011, too few for a claim (8 per segment).
    values = {y: 1_000_000.0 + 50_000 * (y - 2007) + (y % 3) * 7_000 for y in range(2007, 2017)}
    report = _report(
        {"standorte": [site("a", "2011-04-01")], "kosten_hze": _hze_rows(values)}, config, year=2016
    )
    section = sections.hze_trend_change(report)
    assert "lässt sich mit dieser Reihe nicht sagen" in section.sentence
    assert "zu kurz" in section.sentence
    assert list(section.table.values["Aussage möglich"]) == ["nein, Reihe zu kurz"] * 2


def test_cost_sections_use_no_year_after_the_report_year(config):
    values = {y: 1_000_000.0 * 1.04 ** (y - 2005) + (y % 3) * 9_000 for y in range(2005, 2022)}
    report = _report(
        {"standorte": [site("a", "2011-04-01")], "kosten_hze": _hze_rows(values)}, config, year=2018
    )
    real = sections.hze_real_terms(report)
    assert max(real.table.values.index) == 2018
    forecast = sections.hze_forecast(report)
    assert list(forecast.table.values.index) == [2019, 2020, 2021]
    assert "nach " in forecast.sentence and "in 2018" in forecast.sentence
    assert any("Trefferquote im Rückblick" in n for n in forecast.notes)
    change = sections.hze_trend_change(report)
    assert "2018" not in change.table.values.index  # rows are series, not years
    assert change.table.values.loc["nominal", "Jahre vor / ab Start"] == "6 / 8"


def test_funnel_names_sites_outside_the_limits_and_skips_hidden_ones(config):
    # Sites a, b, c with 100 births each; a has 80 contacts, b 30, c 2 (hidden, < 3).
    # Pooled: 112 / 300 = 373 per 1,000; a (800) lies far above the 99.8 % limit, b (300)
    # within it. c is hidden, and with it one more site (secondary suppression: a + b + c =
    # all sites would give c away).
    rows = (
        [contact(f"a{i}", "a", "2014-03-03") for i in range(80)]
        + [contact(f"b{i}", "b", "2014-03-03") for i in range(30)]
        + [contact(f"c{i}", "c", "2014-03-03") for i in range(2)]
    )
    report = _report(
        {
            "standorte": [
                site("a", "2011-01-01"),
                site("b", "2011-01-01"),
                site("c", "2011-01-01"),
            ],
            "erstkontakte": rows,
            "bevoelkerung": [{"jahr": 2014, "gebiet": g, "geburten": 100} for g in "abc"],
        },
        config,
        site_id="alle",
    )
    section = sections.sites_funnel(report)
    assert "Standort a (darüber)" in section.sentence
    assert "Standort b" not in section.sentence
    assert "2 Standort(e) wegen kleiner Zahlen nicht eingezeichnet" in section.sentence
    assert _cell(section, "Standort c", "je 1.000 Geburten") == SUPPRESSED


def test_response_time_states_the_survivor_bias(config):
    days = ["2014-03-03", "2014-03-05", "2014-03-06", "2014-03-07", "2014-03-10", "2014-03-11"]
    rows = [contact(f"r{i}", "a", d, datum_meldung="2014-03-03") for i, d in enumerate(days)]
    report = _report({"standorte": [site("a", "2011-01-01")], "erstkontakte": rows}, config)
    section = sections.response_time(report)
    assert "nie erreicht wurden" in section.sentence
    assert any("Überlebensverzerrung" in n for n in section.notes)
