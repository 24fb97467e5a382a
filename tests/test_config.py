"""The configuration file: defaults, overrides and clear German errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.config import load_config
from analysis.errors import FhError

ROOT = Path(__file__).resolve().parents[1]


def test_committed_configuration_serves_the_demo():
    config = load_config(ROOT / "fh-analytik.toml")
    assert config.min_count == 3
    assert config.land == "NW"
    assert config.raw_dir == ROOT / "data" / "raw"
    assert config.processed_dir == ROOT / "data" / "processed"
    assert config.label_mappings["zugangsweg"]["klinikum schlebusch"] == "geburtsklinik"
    assert config.baselines["sgb2_bezug"].anteil == pytest.approx(0.103)


def test_folders_follow_environment_then_explicit_options(tmp_path, monkeypatch):
    monkeypatch.setenv("FH_ANALYTIK_DATEN", str(tmp_path / "env"))
    assert load_config(ROOT / "fh-analytik.toml").processed_dir == tmp_path / "env"
    explicit = load_config(ROOT / "fh-analytik.toml", processed_dir=tmp_path / "opt")
    assert explicit.processed_dir == tmp_path / "opt"


def test_relative_folders_are_relative_to_the_configuration_file(tmp_path, monkeypatch):
    (tmp_path / "k.toml").write_text('[ordner]\nrohdaten = "eingang"\n', encoding="utf-8")
    monkeypatch.delenv("FH_ANALYTIK_ROHDATEN", raising=False)
    monkeypatch.chdir(ROOT)
    assert load_config(tmp_path / "k.toml").raw_dir == tmp_path / "eingang"


def test_hash_changes_with_a_setting(tmp_path):
    (tmp_path / "a.toml").write_text("[geheimhaltung]\nmindestfallzahl = 3\n", encoding="utf-8")
    (tmp_path / "b.toml").write_text("[geheimhaltung]\nmindestfallzahl = 5\n", encoding="utf-8")
    a, b = load_config(tmp_path / "a.toml"), load_config(tmp_path / "b.toml")
    assert a.sha256 != b.sha256
    assert b.min_count == 5


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[zuordnungen.zugangsweg]\n"Klinik X" = "krankenhaus"\n', "„krankenhaus“ ist kein Code"),
        ('[zuordnungen.farbe]\n"rot" = "r"\n', "unbekannte Spalte „farbe“"),
        ("[geheimhaltung]\nmindestfallzahl = 0\n", "mindestens 1"),
        ("[geheimhaltung\n", "nicht lesbar"),
        # issue 9: a baseline without its share was a KeyError
        (
            '[vergleichswerte.sgb2_bezug]\nquelle = "KiD 0–3"\n',
            "[vergleichswerte.sgb2_bezug]: der Wert anteil fehlt",
        ),
        ('[vergleichswerte.sgb2_bezug]\nanteil = "viel"\n', "anteil = 'viel' ist kein Anteil"),
        ("[vergleichswerte.sgb2_bezug]\nanteil = 1.5\n", "anteil = 1.5 ist kein Anteil"),
        (
            "[vergleichswerte.sgb2_bezug]\nanteil = 0.1\nobergrenze = nan\n",
            "obergrenze = nan ist kein Anteil",
        ),
        ("[vergleichswerte]\nsgb2_bezug = 0.1\n", "muss ein Abschnitt"),
        ('[aufbereitung]\nfruehestes_datum = "gestern"\n', "fruehestes_datum muss ein Datum"),
        ("[aufbereitung]\nfruehestes_datum = 2999-01-01\n", "fruehestes_datum muss ein Datum"),
        ("[aufbereitung]\nhoechster_rueckgang = 2\n", "hoechster_rueckgang muss ein Anteil"),
    ],
)
def test_bad_configuration_is_a_german_error(tmp_path, text, fragment):
    path = tmp_path / "k.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FhError) as err:
        load_config(path)
    assert fragment in err.value.message
    assert str(path) in err.value.message


def test_missing_configuration_named_by_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("FH_ANALYTIK_KONFIG", str(tmp_path / "fehlt.toml"))
    with pytest.raises(FhError, match="nicht gefunden"):
        load_config()


def test_preparation_settings_default_and_from_the_file(tmp_path):
    from datetime import date

    default = load_config(ROOT / "fh-analytik.toml")
    assert (default.date_floor, default.max_shrink) == (date(1990, 1, 1), 0.5)
    (tmp_path / "k.toml").write_text(
        "[aufbereitung]\nfruehestes_datum = 2005-01-01\nhoechster_rueckgang = 0.25\n",
        encoding="utf-8",
    )
    config = load_config(tmp_path / "k.toml")
    assert (config.date_floor, config.max_shrink) == (date(2005, 1, 1), 0.25)
    assert config.as_dict()["aufbereitung"] == {
        "fruehestes_datum": "2005-01-01",
        "hoechster_rueckgang": 0.25,
    }
    assert config.sha256 != default.sha256
