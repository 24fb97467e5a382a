"""`kennzahlen`: JSON shape and order, null handling, confidentiality, CLI, generated docs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import contact, make_dataset, site, write_processed

from analysis import cli
from analysis.config import load_config
from analysis.contract.schema import CATEGORIES
from analysis.errors import FhError
from analysis.indicators import summary as kennzahlen

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "fh-analytik.toml"
    path.write_text(
        '[geheimhaltung]\nmindestfallzahl = 3\nrunden_auf_5 = false\n[kalender]\nbundesland = "NW"\n',
        encoding="utf-8",
    )
    return load_config(path)


def _tables():
    contacts = [
        contact(
            str(i),
            "a",
            f"2014-03-{i + 1:02d}",
            zugangsweg="geburtsklinik",
            lebensphase_kind="m0_6",
            alleinerziehend="ja" if i < 3 else "nein",
        )
        for i in range(8)
    ]
    # two contacts at site 007: small counts
    contacts += [
        contact("1", "007", "2014-06-02", zugangsweg="hebamme", lebensphase_kind="schwangerschaft"),
        contact("2", "007", "2014-06-03", zugangsweg="hebamme", lebensphase_kind="schwangerschaft"),
    ]
    return {
        "standorte": [site("a", "2011-04-01"), site("007", "2011-04-01")],
        "erstkontakte": contacts,
        "bevoelkerung": [
            {"jahr": 2014, "gebiet": "gesamt", "geburten": 100},
            {"jahr": 2014, "gebiet": "a", "geburten": 60},
            {"jahr": 2014, "gebiet": "007", "geburten": 40},
        ],
        "kosten_hze": [
            {
                "jahr": 2013,
                "hilfeart": "gesamt",
                "ausgaben_eur": 13_120_000.0,
                "fallzahl_mittel": 737.0,
            },
            {
                "jahr": 2014,
                "hilfeart": "gesamt",
                "ausgaben_eur": 13_612_000.0,
                "fallzahl_mittel": 805.0,
            },
        ],
        "finanzierung": [
            {"jahr": 2014, "gebiet": "gesamt", "quelle": "bundesstiftung", "betrag_eur": 1000.0},
            {"jahr": 2014, "gebiet": "a", "quelle": "kommune", "betrag_eur": 500.0},
        ],
    }


@pytest.fixture
def dataset():
    return make_dataset(_tables())


def test_unknown_site_is_exit_2_naming_known_sites(dataset, config):
    with pytest.raises(FhError) as err:
        kennzahlen.key_indicators(dataset, year=2014, site="7", config=config)
    assert err.value.exit_code == 2
    assert "a, 007" in err.value.message


def test_json_shape_and_order(dataset, config):
    values = kennzahlen.key_indicators(
        dataset, year=2014, site="alle", config=config, confidential=False
    )
    assert list(values) == [
        "jahr",
        "standort",
        "reichweite",
        "zugangswege",
        "kosten",
        "qualitaet",
        "geheimgehalten",
    ]
    # Without the optional tables the quality blocks are null, not zeros.
    assert values["qualitaet"] == {"rueckmeldungen": None, "netzwerk": None}
    assert values["jahr"] == 2014 and values["standort"] == "alle"
    assert list(values["zugangswege"]) == ["anzahl", "anteile", "gruppen", "reaktionszeit"]
    assert list(values["kosten"]) == [
        "hze_ausgaben_eur",
        "hze_fallzahl",
        "ausgaben_veraenderung_pct",
        "fallzahl_veraenderung_pct",
        "kosten_je_fall_eur",
        "fh_budget_eur",
        "fh_budget_je_erstkontakt_eur",
    ]
    assert list(values["zugangswege"]["anzahl"]) == list(CATEGORIES["zugangsweg"].codes)
    r = values["reichweite"]
    assert r["erstkontakte"] == 10 and type(r["erstkontakte"]) is int
    assert r["geburten"] == 100
    assert r["erreichungsquote"] == pytest.approx(0.1)  # 10 / 100
    # ja 3, nein 5 at site a; unbekannt at 007 -> 3 / 8
    assert r["zielgruppen"]["alleinerziehend"] == {"anteil": 0.375, "n_bekannt": 8}
    assert values["zugangswege"]["anzahl"]["hebamme"] == 2
    assert values["kosten"]["fh_budget_eur"] == pytest.approx(1500.0)  # every row of 2014
    assert values["geheimgehalten"] == []
    json.dumps(values, allow_nan=False)  # plain JSON types only, no NaN


def test_confidentiality_hides_and_lists_paths(dataset, config):
    values = kennzahlen.key_indicators(dataset, year=2014, site="007", config=config)
    r = values["reichweite"]
    # 2 contacts at 007 -> the count and every share resting on it are hidden
    assert r["erstkontakte"] is None and r["erreichungsquote"] is None
    assert r["geburten"] == 40
    assert values["zugangswege"]["anzahl"]["hebamme"] is None
    assert "reichweite.erstkontakte" in values["geheimgehalten"]
    assert "zugangswege.anzahl.hebamme" in values["geheimgehalten"]
    exact = kennzahlen.key_indicators(
        dataset, year=2014, site="007", config=config, confidential=False
    )
    assert exact["reichweite"]["erstkontakte"] == 2 and exact["geheimgehalten"] == []


def test_year_without_data_gives_zero_counts_and_null_rates(dataset, config):
    # A plausible year (1990 to today) without data; a year no data can have is an error.
    values = kennzahlen.key_indicators(dataset, year=1995, site="alle", config=config)
    r = values["reichweite"]
    assert r["erstkontakte"] == 0
    assert r["geburten"] is None and r["erreichungsquote"] is None
    assert all(v == 0 for v in r["lebensphase"].values())
    assert all(v is None for v in values["zugangswege"]["anteile"].values())
    assert values["kosten"]["hze_ausgaben_eur"] is None
    assert values["kosten"]["fh_budget_je_erstkontakt_eur"] is None


@pytest.mark.parametrize("year", [1850, 1989, 2999])
def test_a_year_outside_the_plausible_range_is_an_error(dataset, config, year):
    with pytest.raises(
        FhError, match=f"Jahr {year} liegt außerhalb des plausiblen Bereichs"
    ) as err:
        kennzahlen.key_indicators(dataset, year=year, site="alle", config=config)
    assert err.value.exit_code == 2


def test_missing_optional_tables_give_null(config):
    ds = make_dataset({"standorte": [site("a")], "erstkontakte": [contact("1", "a", "2014-01-01")]})
    values = kennzahlen.key_indicators(ds, year=2014, site="a", config=config, confidential=False)
    assert values["reichweite"]["geburten"] is None and values["reichweite"]["besuche"] is None
    assert (
        values["kosten"]["hze_ausgaben_eur"] is None and values["kosten"]["fh_budget_eur"] is None
    )


def test_cli_kennzahlen_prints_json(tmp_path, capsys, config):
    folder = write_processed(tmp_path / "processed", _tables())
    code = cli.main(
        ["--konfig", str(config.source), "kennzahlen", "--jahr", "2014", "--daten", str(folder)]
    )
    out = capsys.readouterr().out
    assert code == 0
    values = json.loads(out)
    assert values["reichweite"]["erstkontakte"] == 10
    assert values["reichweite"]["geburten"] == 100
    assert values["standort"] == "alle"
    # site 007 with --ohne-geheimhaltung: exact small counts
    code = cli.main(
        [
            "--konfig",
            str(config.source),
            "kennzahlen",
            "--jahr",
            "2014",
            "--standort",
            "007",
            "--daten",
            str(folder),
            "--ohne-geheimhaltung",
        ]
    )
    values = json.loads(capsys.readouterr().out)
    assert code == 0 and values["reichweite"]["erstkontakte"] == 2 and values["standort"] == "007"


def test_cli_kennzahlen_unknown_site(tmp_path, capsys, config):
    folder = write_processed(tmp_path / "processed", _tables())
    code = cli.main(
        [
            "--konfig",
            str(config.source),
            "kennzahlen",
            "--jahr",
            "2014",
            "--standort",
            "nirgendwo",
            "--daten",
            str(folder),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "Unbekannter Standort „nirgendwo“" in err and "a, 007" in err


def test_docs_kennzahlen_in_sync_with_catalogue():
    committed = (ROOT / "docs" / "kennzahlen.md").read_text(encoding="utf-8")
    assert committed == kennzahlen.catalogue_markdown(), (
        "docs/kennzahlen.md ist veraltet: `.venv/bin/python tools/write_kennzahlen_doc.py` ausführen"
    )


def test_catalogue_markdown_lists_every_indicator():
    text = kennzahlen.catalogue_markdown()
    from analysis.indicators.catalogue import CATALOGUE

    for key, ind in CATALOGUE.items():
        assert f"`{key}`" in text
        assert f"`analysis.{ind.function}`" in text


def test_a_catalogue_text_stays_on_its_line_and_shows_a_pipe_as_a_pipe():
    from analysis.indicators.summary import _cell

    # A "|" would start a table column in Markdown; a line break would end the list item.
    assert _cell("Anteil | Quote\nje Jahr") == "Anteil \\| Quote je Jahr"
    assert _cell("") == "–" and _cell("ohne") == "ohne"
