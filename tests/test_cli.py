"""The command line speaks German and turns expected errors into exit codes."""

from __future__ import annotations

import pytest

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
