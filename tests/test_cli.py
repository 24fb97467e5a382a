"""The command line speaks German and turns expected errors into exit codes."""

from __future__ import annotations

import os
import sys
from datetime import date

import pytest
from helpers import contact, site, write_processed

from analysis import cli


def test_help_is_german(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("Aufruf: fh-analytik")
    for command in ("beispieldaten", "aufbereiten", "kennzahlen", "berichte"):
        assert command in out
    assert "usage" not in out and "show this help" not in out


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["kennzahlen"], "diese Angaben fehlen: --jahr"),
        (["kennzahlen", "--jahr", "zwanzig"], "ungültiger Wert: 'zwanzig'"),
        (["drucken"], "ungültige Auswahl: 'drucken'"),
        (["beispieldaten", "--skalierung", "0"], "muss größer als 0 sein"),
        (["beispieldaten", "--skalierung", "inf"], "muss größer als 0 sein: 'inf'"),
        (["beispieldaten", "--skalierung", "nan"], "muss größer als 0 sein: 'nan'"),
        (["beispieldaten", "--skalierung", "1e9"], "höchstens 1000"),
        (["beispieldaten", "--seed", "-1"], "muss eine ganze Zahl ab 0 sein: '-1'"),
        (["beispieldaten", "--seed", "1.5"], "keine ganze Zahl: '1.5'"),
    ],
)
def test_usage_errors_are_german(capsys, argv, fragment):
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "Fehler:" in err
    assert fragment in err


def test_expected_error_becomes_message_and_exit_code(tmp_path, capsys):
    # An empty folder has no manifest: a German message, exit 2, no traceback.
    code = cli.main(["kennzahlen", "--jahr", "2014", "--daten", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("Fehler: ")
    assert "Traceback" not in err


@pytest.fixture
def processed(tmp_path):
    return write_processed(
        tmp_path / "daten",
        {
            "standorte": [site("rheindorf")],
            "erstkontakte": [contact("1", "rheindorf", "2014-03-01")],
        },
    )


@pytest.mark.parametrize("year", [1850, 1989, date.today().year + 1])
def test_kennzahlen_refuses_a_year_no_data_can_have(processed, capsys, year):
    # `berichte` refused 1850 while `kennzahlen` answered with zeros and exit 0.
    code = cli.main(["kennzahlen", "--jahr", str(year), "--daten", str(processed)])
    assert code == 2
    assert capsys.readouterr().err == (
        f"Fehler: Jahr {year} liegt außerhalb des plausiblen Bereichs der Daten (1990 bis "
        f"{date.today().year}; Datenvertrag, [aufbereitung] fruehestes_datum).\n"
    )


def test_kennzahlen_for_a_year_without_data_is_no_error(processed, capsys):
    assert cli.main(["kennzahlen", "--jahr", "1995", "--daten", str(processed)]) == 0
    assert '"erstkontakte": 0' in capsys.readouterr().out


def test_output_into_a_closed_pipe_ends_quietly(processed, monkeypatch, capsys):
    # `fh-analytik kennzahlen … | head -c 1`: the reader is gone before we write.
    read_end, write_end = os.pipe()
    os.close(read_end)
    stream = open(write_end, "w", encoding="utf-8")  # noqa: SIM115 - closed below
    monkeypatch.setattr(sys, "stdout", stream)
    try:
        code = cli.main(["kennzahlen", "--jahr", "2014", "--daten", str(processed)])
    finally:
        monkeypatch.undo()
        stream.close()
    assert code == 141
    assert capsys.readouterr().err == ""


def test_a_folder_that_cannot_be_written_is_a_german_error(tmp_path, capsys):
    (tmp_path / "datei").write_text("kein Ordner", encoding="utf-8")
    code = cli.main(["beispieldaten", "--ziel", str(tmp_path / "datei" / "roh")])
    assert code == 2
    assert capsys.readouterr().err == (
        "Fehler: Lesen oder Schreiben fehlgeschlagen: ein Teil des Pfads ist kein Ordner "
        f"({tmp_path / 'datei' / 'roh'}).\n"
    )


# --- garbage collection in the program's own process (issue #11, P3) -------------------------
@pytest.fixture
def collection_held(monkeypatch):
    """The state :func:`cli.run` leaves for :func:`cli.main`: collector off, held."""
    import gc

    monkeypatch.setattr(cli, "_collection_held", True)
    gc.disable()
    yield
    gc.enable()
    gc.unfreeze()  # what the command froze belongs to this test process again


@pytest.mark.parametrize(
    "argv",
    [
        lambda tmp, data: ["beispieldaten", "--ziel", str(tmp / "datei" / "roh")],
        lambda tmp, data: ["aufbereiten", "--rohdaten", str(tmp), "--ziel", str(tmp / "aus")],
        lambda tmp, data: ["kennzahlen", "--jahr", "2014", "--daten", str(data)],
        lambda tmp, data: ["berichte", "--probelauf", "--daten", str(data), "--ziel", str(tmp)],
    ],
    ids=["beispieldaten", "aufbereiten", "kennzahlen", "berichte"],
)
def test_every_command_resumes_the_held_collection_once_it_has_its_modules(
    argv, tmp_path, processed, collection_held, capsys
):
    """No command does its work with the collector off: each resumes it right after its
    imports, even one that then ends with an error (an unwritable target, no raw data)."""
    import gc

    (tmp_path / "datei").write_text("kein Ordner", encoding="utf-8")
    cli.main(argv(tmp_path, processed))
    assert gc.isenabled()
    assert cli._collection_held is False


def test_run_holds_the_collection_for_main_and_main_alone_leaves_it(monkeypatch):
    import gc

    seen = []
    monkeypatch.setattr(
        cli, "main", lambda: seen.append((gc.isenabled(), cli._collection_held)) or 0
    )
    monkeypatch.setattr(cli, "_collection_held", False)
    try:
        assert cli.run() == 0
    finally:
        gc.enable()
    assert seen == [(False, True)]
    cli._modules_loaded()  # what the command would do after its imports
    assert gc.isenabled() and cli._collection_held is False
    gc.unfreeze()
    gc.disable()
    try:
        cli._modules_loaded()  # not held (main called from Python code): nothing changes
        assert not gc.isenabled()
    finally:
        gc.enable()
