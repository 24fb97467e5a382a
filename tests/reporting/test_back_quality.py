"""Back test of the ``qualitaet`` report: every number of its tables (what the HTML and the
Excel appendix show) on a small municipality made by hand.

Site a: 4 questionnaires in 2013 (Erreichbarkeit 1 each, nothing else answered, all would
recommend) and 12 in 2014:
  Erreichbarkeit 1×6, 2×3, 3×3         -> n 12, sum 6 + 6 + 9 = 21, mean 1.75
  Räume 1×3, 2×3, 4×3, blank×3         -> n 9, sum 3 + 6 + 12 = 21, mean 2.333…
  Angebote all blank                   -> n 0, no mean
  Beratung 2×12                        -> n 12, mean 2
  Weiterempfehlung ja×9, nein×3        -> 9 of 12 = 75 %
Site b (open, no questionnaires). No count is below 3 (zeros excepted): nothing is hidden.
Network: a Hebammen (agreement 2012), a Kinderärzte (no agreement), city-wide
Geburtsklinik (agreement 2014), b Jobcenter (left 2013).
"""

from __future__ import annotations

import math

import pytest
from helpers import contact, make_dataset, site
from scipy.stats import t

from analysis.config import load_config
from analysis.reporting import sections
from analysis.reporting.cells import Report, table_payload

Z = 1.959963984540054  # 97.5 % quantile of the normal distribution
RATE_HEAD = ["Kennzahl", "Anzahl", "Bezugsgröße (n)", "Anteil", "Untergrenze", "Obergrenze"]


def wilson(k: int, n: int) -> tuple[float, float]:
    """Wilson 95 % interval: (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)."""
    p = k / n
    centre = p + Z * Z / (2 * n)
    spread = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return (centre - spread) / (1 + Z * Z / n), (centre + spread) / (1 + Z * Z / n)


def assert_table(actual: list[list], expected: list[list]) -> None:
    assert actual[0] == expected[0]
    assert len(actual) == len(expected)
    for got, want in zip(actual[1:], expected[1:], strict=True):
        assert got == pytest.approx(want, abs=1e-12), (got, want)


ITEM_HEAD = [
    "Merkmal", "1 (sehr gut)", "2", "3", "4", "5 (schlecht)", "Keine Angabe", "Antworten (n)",
    "Mittelwert", "Untergrenze", "Obergrenze",
]  # fmt: skip


def conservative(mean: float, n: int) -> list[float]:
    """mean ± t(0.975; n-1) · sqrt((5 - mean)(mean - 1) / (n - 1)), cut to 1..5."""
    half = t.ppf(0.975, n - 1) * math.sqrt((5 - mean) * (mean - 1) / (n - 1))
    return [max(1.0, mean - half), min(5.0, mean + half)]


def _questionnaires() -> list[dict]:
    rows = [
        {"erreichbarkeit": 1, "weiterempfehlung": "ja", "datum": "2013-10-01"} for _ in range(4)
    ]
    erreichbarkeit = [1] * 6 + [2] * 3 + [3] * 3
    raeume = [1] * 3 + [2] * 3 + [4] * 3 + [None] * 3
    for i in range(12):
        rows.append(
            {
                "datum": "2014-10-01",
                "erreichbarkeit": erreichbarkeit[i],
                "raeume": raeume[i],
                "beratung": 2,
                "weiterempfehlung": "ja" if i < 9 else "nein",
            }
        )
    return [{"bogen_id": f"q{i}", "standort_id": "a", **r} for i, r in enumerate(rows)]


def _partner(pid, sector, bereich, gebiet, since=None, left=None) -> dict:
    return {
        "partner_id": pid,
        "bezeichnung": f"Einrichtung {pid}",
        "sektor": sector,
        "bereich": bereich,
        "gebiet": gebiet,
        "vereinbarung_seit": since,
        "ausgeschieden": left,
    }


@pytest.fixture(scope="module")
def dataset():
    return make_dataset(
        {
            "standorte": [site("a", "2013-01-01"), site("b", "2013-01-01")],
            "erstkontakte": [contact(f"k{i}", "a", "2014-03-03") for i in range(5)],
            "nutzerbefragung": _questionnaires(),
            "netzwerkpartner": [
                _partner("p1", "gesundheit", "Hebammen", "a", "2012-05-01"),
                _partner("p2", "gesundheit", "Kinderärzte", "a"),
                _partner("p3", "gesundheit", "Geburtsklinik", "gesamt", "2014-02-01"),
                _partner("p4", "weitere", "Jobcenter", "b", "2012-01-01", "2013-06-30"),
            ],
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


def shown(dataset, config, section: str, site_id: str, year: int = 2014) -> list[list]:
    report = Report(dataset, config, site_id, year, dataset.site_name(site_id))
    result = getattr(sections, section)(report)
    payload = table_payload(result.table, result.title)
    return [payload["spalten"], *payload["zeilen"]]


@pytest.mark.parametrize("site_id", ["a", "alle"])
def test_item_table(dataset, config, site_id):
    assert_table(
        shown(dataset, config, "feedback_items", site_id),
        [
            ITEM_HEAD,
            ["Erreichbarkeit", 6, 3, 3, 0, 0, 0, 12, 1.75, *conservative(1.75, 12)],
            ["Räume", 3, 3, 0, 3, 0, 3, 9, 21 / 9, *conservative(21 / 9, 9)],
            ["Angebote", 0, 0, 0, 0, 0, 12, 0, None, None, None],
            # Every answer a 2: mean 2, the interval from the largest spread a mean of 2 allows.
            ["Beratung", 0, 12, 0, 0, 0, 0, 12, 2.0, *conservative(2.0, 12)],
        ],
    )


def test_no_footnote_when_nothing_is_hidden(dataset, config):
    # Angebote has no answer: its mean is missing ("–"), not hidden ("•").
    report = Report(dataset, config, "a", 2014, "Standort a")
    table = sections.feedback_items(report).table
    assert not table.any_hidden and table.footnote == ""
    assert table.formatted().loc["Angebote", "Mittelwert"] == "–"


def test_recommendation(dataset, config):
    assert_table(
        shown(dataset, config, "feedback_recommendation", "a"),
        [
            RATE_HEAD,
            ["Würden den Standort weiterempfehlen", 9, 12, 0.75, *wilson(9, 12)],
            ["Ohne Angabe zur Weiterempfehlung", 0, 12, 0.0, None, None],
        ],
    )


def test_sites_side_by_side(dataset, config):
    assert_table(
        shown(dataset, config, "feedback_sites", "alle"),
        [
            ["Standort", "Fragebögen", "Erreichbarkeit", "Räume", "Angebote", "Beratung"],
            ["Standort a", 12, 1.75, 21 / 9, None, 2.0],
            ["Standort b", 0, None, None, None, None],
            ["Alle Standorte", 12, 1.75, 21 / 9, None, 2.0],
        ],
    )


def test_trend_until_the_report_year(dataset, config):
    head = [
        "Jahr", "Fragebögen", "Erreichbarkeit", "Räume", "Angebote", "Beratung", "Mit Angabe",
        "Weiterempfehlung", "Anteil",
    ]  # fmt: skip
    row_2013 = [2013, 4, 1.0, None, None, None, 4, 4, 1.0]
    assert_table(
        shown(dataset, config, "feedback_trend", "a"),
        [head, row_2013, [2014, 12, 1.75, 21 / 9, None, 2.0, 12, 9, 0.75]],
    )
    # The report for 2013 shows nothing of 2014.
    assert_table(shown(dataset, config, "feedback_trend", "a", 2013), [head, row_2013])


def test_network_tables(dataset, config):
    head = [
        "Gebiet", "Kinder- und Jugendhilfe", "Gesundheitswesen", "Psychosoziale Beratung",
        "Weitere", "Insgesamt", "Mit Vereinbarung", "Anteil mit Vereinbarung",
    ]  # fmt: skip
    # Site a: its p1, p2 and the city-wide p3; agreements p1 and (2014) p3.
    assert_table(
        shown(dataset, config, "network_sectors", "a"),
        [
            head,
            ["Standort a", 0, 2, 0, 0, 2, 1, 0.5],
            ["Gesamtstädtisch", 0, 1, 0, 0, 1, 1, 1.0],
            ["Insgesamt", 0, 3, 0, 0, 3, 2, 2 / 3],
        ],
    )
    trend_head = [
        "Jahr", "Partner am Jahresende", "Kinder- und Jugendhilfe", "Gesundheitswesen",
        "Psychosoziale Beratung", "Weitere", "Mit Vereinbarung", "Anteil mit Vereinbarung",
        "Neue Vereinbarungen", "Ausgeschieden",
    ]  # fmt: skip
    # All sites: 2013 p1..p3 (p4 left 30.06.2013, Weitere), all Gesundheitswesen, agreement
    # p1 only; 2014 p3 signed.
    assert_table(
        shown(dataset, config, "network_trend", "alle"),
        [trend_head, [2013, 3, 0, 3, 0, 0, 1, 1 / 3, 0, 1], [2014, 3, 0, 3, 0, 0, 2, 2 / 3, 1, 0]],
    )
    checklist = shown(dataset, config, "network_checklist", "alle")
    assert checklist[0] == ["Kernpartner", "Standort a", "Standort b"]
    rows = {r[0]: r[1:] for r in checklist[1:]}
    assert rows["Geburtsklinik"] == ["mit Vereinbarung", "mit Vereinbarung"]
    assert rows["Hebammen / Familienhebammen"] == ["mit Vereinbarung", "fehlt"]
    assert rows["Kinder- und Jugendarztpraxen"] == ["ohne Vereinbarung", "fehlt"]
    assert rows["Jobcenter"] == ["fehlt", "fehlt"]


def test_sentences(dataset, config):
    report = Report(dataset, config, "a", 2014, "Standort a")
    items = sections.feedback_items(report)
    assert items.sentence == (
        "Standort a hatte 2014 12 ausgefüllte Fragebögen. Am besten bewertet wurde "
        "Erreichbarkeit (mittlere Note 1,8), am schwächsten Räume (2,3). "
        "Ohne Antwort blieben: Räume 3, Angebote 12."
    )
    rec = sections.feedback_recommendation(report)
    low, _ = wilson(9, 12)
    assert rec.sentence.startswith("75,0 % der Familien mit Angabe würden den Standort")
    assert f"{low * 100:.1f}".replace(".", ",") in rec.sentence
    assert sections.feedback_sites(report).table is None
    checklist = sections.network_checklist(report)
    assert checklist.sentence.startswith("Es fehlen: Standort a: Frauenarztpraxen, ")
    assert "Hebammen" not in checklist.sentence


def test_sentence_when_only_one_mean_can_be_shown(config):
    """One item answered: its mean is named alone, not as the best and the weakest at once."""
    rows = [
        {"bogen_id": f"r{i}", "standort_id": "a", "datum": "2014-05-01", "raeume": grade}
        for i, grade in enumerate([2, 2, 2, 3, 3, 3])
    ]
    only = make_dataset(
        {
            "standorte": [site("a", "2013-01-01")],
            "erstkontakte": [contact("k1", "a", "2014-03-03")],
            "nutzerbefragung": rows,
        }
    )
    items = sections.feedback_items(Report(only, config, "a", 2014, "Standort a"))
    assert items.sentence == (
        "Standort a hatte 2014 6 ausgefüllte Fragebögen. Ausweisen lässt sich nur die "
        "mittlere Note für Räume: 2,5. Ohne Antwort blieben: Erreichbarkeit 6, Angebote 6, "
        "Beratung 6."
    )
