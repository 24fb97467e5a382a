"""The questionnaires in the year's publication: cells, equations, and a small survey hidden
everywhere it appears (report tables and ``kennzahlen`` of the site and of all sites)."""

from __future__ import annotations

import pytest
from helpers import contact, make_dataset, site

from analysis.config import load_config
from analysis.indicators.summary import key_indicators
from analysis.protection import publication as pub
from analysis.reporting import sections
from analysis.reporting.cells import Report

YEAR = 2014


def _questionnaire(i: int, site_id: str, grade: int, recommend: str = "ja") -> dict:
    return {
        "bogen_id": f"{site_id}{i}",
        "standort_id": site_id,
        "datum": f"{YEAR}-10-0{1 + i % 9}",
        "erreichbarkeit": grade,
        "raeume": grade,
        "angebote": grade,
        "beratung": grade,
        "weiterempfehlung": recommend,
    }


@pytest.fixture(scope="module")
def dataset():
    # Site a: 10 questionnaires, grades 1 x 5, 2 x 5, all recommend.
    # Site b: 2 questionnaires (grades 1 and 3): a small survey.
    rows = [_questionnaire(i, "a", 1 if i < 5 else 2) for i in range(10)]
    rows += [_questionnaire(0, "b", 1), _questionnaire(1, "b", 3, "nein")]
    return make_dataset(
        {
            "standorte": [site("a", "2011-01-01"), site("b", "2011-01-01")],
            "erstkontakte": [contact(f"k{i}", s, f"{YEAR}-03-03") for i, s in enumerate("aaabbb")],
            "nutzerbefragung": rows,
        }
    )


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture(scope="module")
def config():
    return load_config()


def test_survey_cells_and_equations(dataset):
    p = pub.build_publication(dataset, YEAR)
    v = p.values
    assert (
        v[("a", pub.SURVEY)] == 10 and v[("b", pub.SURVEY)] == 2 and v[("alle", pub.SURVEY)] == 12
    )
    # a, Erreichbarkeit: 5 x 1 + 5 x 2 = 15; b: 1 + 3 = 4; all sites 19.
    assert v[("a", pub.RATING, "erreichbarkeit", pub.RATING_SUM)] == 15
    assert v[("b", pub.RATING, "erreichbarkeit", pub.RATING_SUM)] == 4
    assert v[("alle", pub.RATING, "erreichbarkeit", pub.RATING_SUM)] == 19
    assert v[("b", pub.RECOMMEND, "nein")] == 1 and v[("alle", pub.RECOMMEND, "ja")] == 11
    # The sum of grades is the grade-weighted sum of the counts, and sites add up.
    weighted = {
        ("a", pub.RATING, "erreichbarkeit", pub.RATING_SUM): 1.0,
        **{("a", pub.RATING, "erreichbarkeit", g): -float(g) for g in pub.GRADE_KEYS},
    }
    assert weighted in p.equations
    across = {("alle", pub.SURVEY): 1.0, ("a", pub.SURVEY): -1.0, ("b", pub.SURVEY): -1.0}
    assert across in p.equations
    # "nein" of the recommendation is no table's number; the answers left blank are.
    assert ("a", pub.RECOMMEND, "nein") not in p.published
    assert ("a", pub.RECOMMEND, "unbekannt") in p.published


def test_mean_of_fewer_than_the_minimum_is_primary(dataset, config):
    protected = pub.protected_year(dataset, YEAR, config)
    b_sum = ("b", pub.RATING, "erreichbarkeit", pub.RATING_SUM)
    # n = 2 < 3: the sum of grades (value 4, not itself small) is primary with the counts.
    assert b_sum in protected.primary and ("b", pub.SURVEY) in protected.primary
    assert protected.is_hidden(b_sum) and protected.is_hidden(("b", pub.SURVEY))
    # All sites minus a would give b: a or all sites is hidden too (secondary).
    assert protected.is_hidden(("a", pub.SURVEY)) or protected.is_hidden(("alle", pub.SURVEY))
    assert protected.audit["kleine_zahlen"] >= 2


def test_small_survey_hidden_in_every_report_and_in_kennzahlen(dataset, config):
    report = Report(dataset, config, "b", YEAR, "Standort b", "qualitaet")
    items = sections.feedback_items(report).table
    assert items.hidden["Mittelwert"].all() and items.hidden["Antworten (n)"].all()
    rec = sections.feedback_recommendation(report).table
    assert rec.hidden.loc["Würden den Standort weiterempfehlen", "Anteil"]
    k = key_indicators(dataset, year=YEAR, site="b", config=config)
    feedback = k["qualitaet"]["rueckmeldungen"]
    assert feedback["frageboegen"] is None
    erreichbarkeit = feedback["bewertungen"]["erreichbarkeit"]
    for key in ("n", "mittelwert", "untergrenze", "obergrenze"):
        assert erreichbarkeit[key] is None, key
    assert feedback["weiterempfehlung"] == {"anteil": None, "n_bekannt": None}
    assert "qualitaet.rueckmeldungen.bewertungen.erreichbarkeit.mittelwert" in k["geheimgehalten"]
    # Without protection the exact values: mean (1 + 3) / 2 = 2.
    exact = key_indicators(dataset, year=YEAR, site="b", config=config, confidential=False)
    assert exact["qualitaet"]["rueckmeldungen"]["bewertungen"]["erreichbarkeit"]["mittelwert"] == 2
    # The all-sites report shows no number from which b's two questionnaires follow.
    whole = Report(dataset, config, "alle", YEAR, "Alle Standorte", "qualitaet")
    sites = sections.feedback_sites(whole).table
    shown_n = [sites.hidden.loc[f"Standort {s}", "Fragebögen"] for s in ("a", "b")]
    shown_n.append(sites.hidden.loc["Alle Standorte", "Fragebögen"])
    assert sum(not h for h in shown_n) <= 1
