"""Back tests of what readers see: every number of the tables of each report kind.

A small municipality made by hand (two sites, 2013-2014) whose every figure is worked out
in the comments below; each test runs the section functions as the report notebooks do and
compares every cell of ``table_payload`` (exactly what the HTML and the Excel appendix show)
with the expected table. Wilson intervals are recomputed from their textbook formula.
"""

from __future__ import annotations

import math

import pytest
from helpers import contact, make_dataset, site

from analysis.config import load_config
from analysis.formatting import SUPPRESSED as X
from analysis.reporting import sections
from analysis.reporting.cells import Report, table_payload

Z = 1.959963984540054  # 97.5 % quantile of the normal distribution


def wilson(k: int, n: int) -> tuple[float, float]:
    """Wilson 95 % interval: (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)."""
    p = k / n
    centre = p + Z * Z / (2 * n)
    spread = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return (centre - spread) / (1 + Z * Z / n), (centre + spread) / (1 + Z * Z / n)


# --- the municipality -----------------------------------------------------------------------
# Site a (opened 01.01.2013), 13 first contacts in 2014:
#   hebamme 6, all referred Mon 03.03.2014, contacts 03.03. (0 working days), 05.03. (2),
#     06.03. (3), 07.03. (4), 10.03. (5), 11.03. (6); life phase m0_6; alleinerziehend:
#     ja, ja, ja, nein, nein, nein
#   geburtsklinik 4 (no referral date), life phase m6_12, alleinerziehend nein ×3, unknown ×1
#   jugendamt 3 (no referral date), life phase schwangerschaft, alleinerziehend unknown
# Site b (opened 31.12.2013), 3 first contacts in 2014: eigeninitiative, life phase m0_6.
# One contact of a in 2013 (not counted in 2014).
# Births 2014: a 52, b 28, gesamt 80. Welcome visits 2014: a 26, gesamt 40.
# HzE: 2013 1,000,000 € / 80 cases; 2014 1,100,000 € / 100 cases.
# Budget 2014: a kommune 3,000 €, a bundesstiftung 1,000 €; b kommune 600 €.

REFERRAL_DAYS = ["2014-03-03", "2014-03-05", "2014-03-06", "2014-03-07", "2014-03-10", "2014-03-11"]


def _rows() -> list[dict]:
    rows = []
    for i, day in enumerate(REFERRAL_DAYS):
        rows.append(
            contact(
                f"h{i}",
                "a",
                day,
                zugangsweg="hebamme",
                datum_meldung="2014-03-03",
                lebensphase_kind="m0_6",
                alleinerziehend="ja" if i < 3 else "nein",
            )
        )
    for i in range(4):
        rows.append(
            contact(
                f"g{i}",
                "a",
                f"2014-05-0{i + 1}",
                zugangsweg="geburtsklinik",
                lebensphase_kind="m6_12",
                alleinerziehend="nein" if i < 3 else None,
            )
        )
    for i in range(3):
        rows.append(
            contact(
                f"j{i}",
                "a",
                "2014-06-02",
                zugangsweg="jugendamt",
                lebensphase_kind="schwangerschaft",
            )
        )
    for i in range(3):
        rows.append(
            contact(
                f"b{i}", "b", "2014-02-03", zugangsweg="eigeninitiative", lebensphase_kind="m0_6"
            )
        )
    rows.append(contact("alt", "a", "2013-04-01"))
    return rows


@pytest.fixture(scope="module")
def dataset():
    return make_dataset(
        {
            "standorte": [site("a", "2013-01-01"), site("b", "2013-12-31")],
            "erstkontakte": _rows(),
            "bevoelkerung": [
                {"jahr": 2014, "gebiet": g, "geburten": n}
                for g, n in (("a", 52), ("b", 28), ("gesamt", 80))
            ],
            "willkommensbesuche": [
                {"jahr": 2014, "gebiet": "a", "besuche": 26},
                {"jahr": 2014, "gebiet": "gesamt", "besuche": 40},
            ],
            "kosten_hze": [
                {"jahr": 2013, "hilfeart": "gesamt", "ausgaben_eur": 1e6, "fallzahl_mittel": 80.0},
                {
                    "jahr": 2014,
                    "hilfeart": "gesamt",
                    "ausgaben_eur": 1.1e6,
                    "fallzahl_mittel": 100.0,
                },
            ],
            "finanzierung": [
                {"jahr": 2014, "gebiet": "a", "quelle": "kommune", "betrag_eur": 3000.0},
                {"jahr": 2014, "gebiet": "a", "quelle": "bundesstiftung", "betrag_eur": 1000.0},
                {"jahr": 2014, "gebiet": "b", "quelle": "kommune", "betrag_eur": 600.0},
            ],
        }
    )


@pytest.fixture(scope="module")
def config():
    return load_config()  # minimum count 3, no rounding


def shown(dataset, config, section: str, site_id: str) -> list[list]:
    report = Report(dataset, config, site_id, 2014, dataset.site_name(site_id))
    result = getattr(sections, section)(report)
    payload = table_payload(result.table, result.title)
    return [payload["spalten"], *payload["zeilen"]]


def assert_table(actual: list[list], expected: list[list]) -> None:
    assert actual[0] == expected[0]
    assert len(actual) == len(expected)
    for got, want in zip(actual[1:], expected[1:], strict=True):
        assert got == pytest.approx(want, abs=1e-12), (got, want)


def rate(label: str, k: int, n: int) -> list:
    return [label, k, n, k / n, *wilson(k, n)]


def share_rows(labels: list[str], counts: dict[str, int], n: int) -> list[list]:
    """One row per category (zeros included) with count, share and Wilson interval, + total."""
    rows = [
        [label, counts.get(label, 0), counts.get(label, 0) / n, *wilson(counts.get(label, 0), n)]
        for label in labels
    ]
    return [*rows, ["Insgesamt", n, 1.0, None, None]]


ROUTES = [
    "Geburtsklinik", "Hebamme / Familienhebamme", "Kinder- und Jugendarztpraxis",
    "Frauenarztpraxis", "Jugendamt / ASD", "Schwangerschaftsberatung",
    "Erziehungs- und Familienberatung", "Kita / Familienzentrum", "Jobcenter / Sozialamt",
    "Willkommensbesuch", "Eigeninitiative", "Bekannte / Familie",
    "Flyer, Presse, Internet, Veranstaltung", "Sonstige", "Keine Angabe",
]  # fmt: skip
GROUPS = [
    "Gesundheitswesen",
    "Jugendhilfe und Soziales",
    "Aufsuchend",
    "Eigener Zugang",
    "Sonstige",
]
PHASES = ["Schwangerschaft", "0–6 Monate", "6–12 Monate", "1–2 Jahre", "2–3 Jahre", "über 3 Jahre",
          "Keine Angabe"]  # fmt: skip
RATE_HEAD = ["Kennzahl", "Anzahl", "Bezugsgröße (n)", "Anteil", "Untergrenze", "Obergrenze"]


# --- reach ----------------------------------------------------------------------------------


def garwood(k: int, n: int) -> list[float]:
    """Exact Poisson (Garwood) 95 % interval of k events per 1,000 of n, from the chi-square
    quantiles directly: lower chi2(0.025; 2k)/2, upper chi2(0.975; 2k + 2)/2."""
    from scipy.stats import chi2

    lower = chi2.ppf(0.025, 2 * k) / 2 if k else 0.0
    return [1000 * lower / n, 1000 * chi2.ppf(0.975, 2 * k + 2) / 2 / n]


PER_1000_HEAD = [
    "Kennzahl", "Erstkontakte", "Bezugsgröße", "Monate geöffnet", "je 1.000", "Untergrenze",
    "Obergrenze",
]  # fmt: skip
PER_BIRTHS = "Erstkontakte je 1.000 Geburten"
PER_U3 = "Erstkontakte je 1.000 Kinder unter 3 Jahren"


@pytest.mark.parametrize(
    ("site_id", "k", "n"),
    [
        ("a", 13, 52),  # 13 / 52 births x 1,000 = 250
        ("b", 3, 28),  # exactly the minimum, shown: 3 / 28 x 1,000 = 107.14...; open 31.12.2013
        ("alle", 16, 80),  # the gesamt row: 16 / 80 x 1,000 = 200
    ],
)
def test_reach_overview_every_number(dataset, config, site_id, k, n):
    # Both sites are open all twelve months of 2014; no children under 3 in the data.
    expected = [
        PER_1000_HEAD,
        [PER_BIRTHS, k, n, 12, 1000 * k / n, *garwood(k, n)],
        [PER_U3, k, None, 12, None, None, None],
    ]
    assert_table(shown(dataset, config, "reach_overview", site_id), expected)


@pytest.mark.parametrize(
    ("site_id", "counts", "n"),
    [
        ("a", {"Schwangerschaft": 3, "0–6 Monate": 6, "6–12 Monate": 4}, 13),  # 3 + 6 + 4
        ("b", {"0–6 Monate": 3}, 3),
        ("alle", {"Schwangerschaft": 3, "0–6 Monate": 9, "6–12 Monate": 4}, 16),  # 6 + 3 = 9
    ],
)
def test_reach_life_phase_every_number(dataset, config, site_id, counts, n):
    expected = [["Lebensphase", "Erstkontakte", "Anteil"]]
    expected += [[p, counts.get(p, 0), counts.get(p, 0) / n] for p in PHASES]
    expected += [["Insgesamt", n, 1.0]]
    assert_table(shown(dataset, config, "reach_life_phase", site_id), expected)


def test_reach_target_groups_every_number(dataset, config):
    # Alleinerziehend known for 6 (hebamme) + 3 (geburtsklinik) = 9, "ja" 3: 3 / 9 = 1/3;
    # representation against the comparison value 5.3 %: (1/3) / 0.053 = 6.289...
    head = ["Zielgruppe", "Angabe bekannt", "Davon Zielgruppe", "Anteil", "Untergrenze",
            "Obergrenze", "Vergleichswert", "Repräsentation"]  # fmt: skip
    empty = [0, 0, None, None, None]
    others = [
        ["Familien im SGB-II-Bezug", *empty, 0.103, None],
        ["Familien mit Migrationshintergrund", *empty, None, None],
        ["Mütter unter 20 Jahren", *empty, 0.015, None],
    ]
    single = ["Alleinerziehende", 9, 3, 1 / 3, *wilson(3, 9), 0.053, (1 / 3) / 0.053]
    for site_id in ("a", "alle"):  # b has no known value: alle equals a
        assert_table(
            shown(dataset, config, "reach_target_groups", site_id), [head, single, *others]
        )
    b = shown(dataset, config, "reach_target_groups", "b")
    assert_table(b, [head, ["Alleinerziehende", *empty, 0.053, None], *others])


# --- access routes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("site_id", "counts", "n"),
    [
        # a: 4 + 6 + 3 = 13; Jugendamt exactly the minimum 3: shown
        ("a", {"Geburtsklinik": 4, "Hebamme / Familienhebamme": 6, "Jugendamt / ASD": 3}, 13),
        ("b", {"Eigeninitiative": 3}, 3),
        (
            "alle",
            {
                "Geburtsklinik": 4,
                "Hebamme / Familienhebamme": 6,
                "Jugendamt / ASD": 3,
                "Eigeninitiative": 3,
            },
            16,
        ),
    ],
)
def test_routes_table_every_number(dataset, config, site_id, counts, n):
    expected = [["Zugangsweg", "Anzahl", "Anteil", "Untergrenze", "Obergrenze"]]
    assert_table(
        shown(dataset, config, "routes_table", site_id), expected + share_rows(ROUTES, counts, n)
    )


@pytest.mark.parametrize(
    ("site_id", "counts", "n"),
    [
        # Gesundheitswesen = Geburtsklinik 4 + Hebamme 6 = 10; Jugendamt -> Jugendhilfe 3
        ("a", {"Gesundheitswesen": 10, "Jugendhilfe und Soziales": 3}, 13),
        ("b", {"Eigener Zugang": 3}, 3),
        ("alle", {"Gesundheitswesen": 10, "Jugendhilfe und Soziales": 3, "Eigener Zugang": 3}, 16),
    ],
)
def test_route_groups_every_number(dataset, config, site_id, counts, n):
    expected = [["Gruppe", "Anzahl", "Anteil", "Untergrenze", "Obergrenze"]]
    assert_table(
        shown(dataset, config, "route_groups", site_id), expected + share_rows(GROUPS, counts, n)
    )


def test_response_time_every_number(dataset, config):
    # Working days after Mon 03.03.2014: 0, 2, 3, 4, 5, 6 -> within 3: 0, 2, 3 = 3 of 6;
    # median (3 + 4) / 2 = 3.5. Not within: 3 (>= the minimum, so nothing is hidden).
    head = [*RATE_HEAD, "Median Werktage"]
    row = [*rate("Kontakt binnen 3 Werktagen", 3, 6), 3.5]
    for site_id in ("a", "alle"):
        assert_table(shown(dataset, config, "response_time", site_id), [head, row])
    # b: no referral date at all: n = 0, no share; the median of 0 cases is hidden
    assert_table(
        shown(dataset, config, "response_time", "b"),
        [head, ["Kontakt binnen 3 Werktagen", 0, 0, None, None, None, X]],
    )


# --- costs ----------------------------------------------------------------------------------


def test_hze_development_every_number(dataset, config):
    # 2014: 1,100,000 / 1,000,000 - 1 = +10 %; cases 100 / 80 - 1 = +25 %;
    # cost per case 1,000,000 / 80 = 12,500 -> 1,100,000 / 100 = 11,000: 11,000 / 12,500 - 1
    # = -12 %. The first year has no previous year: empty changes. The same for every site.
    head = ["Jahr", "Ausgaben (€)", "zum Vorjahr", "Fallzahl (Mittel)", "Fallzahl zum Vorjahr",
            "Kosten je Fall (€)", "je Fall zum Vorjahr"]  # fmt: skip
    expected = [
        head,
        [2013, 1_000_000.0, None, 80.0, None, 12_500.0, None],
        [2014, 1_100_000.0, 10.0, 100.0, 25.0, 11_000.0, -12.0],
    ]
    for site_id in ("a", "alle"):
        assert_table(shown(dataset, config, "hze_development", site_id), expected)


@pytest.mark.parametrize(
    ("site_id", "amounts"),
    [
        ("a", {"Bundesinitiative / Bundesstiftung Frühe Hilfen": 1000.0,
               "Kommunale Haushaltsmittel": 3000.0}),  # 4,000 in all: 25 % and 75 %
        ("b", {"Kommunale Haushaltsmittel": 600.0}),
        ("alle", {"Bundesinitiative / Bundesstiftung Frühe Hilfen": 1000.0,
                  "Kommunale Haushaltsmittel": 3600.0}),  # 3,000 + 600; 4,600 in all
    ],
)  # fmt: skip
def test_fh_budget_every_number(dataset, config, site_id, amounts):
    sources = ["Bundesinitiative / Bundesstiftung Frühe Hilfen", "Kommunale Haushaltsmittel",
               "Landesmittel", "Drittmittel / Spenden", "Eigenmittel der Träger"]  # fmt: skip
    total = sum(amounts.values())
    expected = [["Quelle", "Betrag (€)", "Anteil"]]
    expected += [[s, amounts.get(s, 0.0), amounts.get(s, 0.0) / total] for s in sources]
    expected += [["Insgesamt", total, 1.0]]
    assert_table(shown(dataset, config, "fh_budget", site_id), expected)


# --- overview -------------------------------------------------------------------------------


def test_sites_overview_every_number(dataset, config):
    # a: 13 / 52 = 25 %, 26 welcome visits; b: 3 / 28 = 10.7 %, none recorded;
    # alle: 16 / 80 = 20 % (births and welcome visits from the gesamt row: 80, 40).
    expected = [
        ["Standort", "Erstkontakte", "Geburten", "Erreichungsquote", "Willkommensbesuche",
         "Besuche"],
        ["Standort a", 13, 52, 13 / 52, 26, None],
        ["Standort b", 3, 28, 3 / 28, None, None],
        ["Alle Standorte", 16, 80, 16 / 80, 40, None],
    ]  # fmt: skip
    assert_table(shown(dataset, config, "sites_overview", "alle"), expected)
