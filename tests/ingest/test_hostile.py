"""Hostile and broken raw data (issue 9): one test per case, each with its own tiny fixture.

Every case ends in exactly one of two outcomes the data contract allows: a row error with a
German reason in the rejects file, or a German message with exit status 2 and the previous
processed state untouched. Never a traceback, never a silent loss.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import zipfile
from datetime import date, datetime, time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from ingest_helpers import (
    TODAY,
    accepted,
    assert_reconciles,
    make_config,
    raw_folder,
    reasons_by_line,
    rejects,
    snapshot,
)

from analysis import cli, ingest
from analysis.config import load_config
from analysis.contract.schema import TABLES
from analysis.errors import FhError
from analysis.ingest import write as ingest_write

HEADER = "fall_id;standort_id;datum_erstkontakt;zugangsweg"


def _contacts(raw: Path, *rows: str, header: str = HEADER, name: str = "erstkontakte.csv") -> None:
    (raw / name).write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")


def _prepare(tmp_path: Path, raw: Path, **kwargs) -> ingest.IngestResult:
    return ingest.prepare(raw, tmp_path / "out", make_config(tmp_path), today=TODAY, **kwargs)


def _refused(tmp_path: Path, raw: Path) -> pytest.ExceptionInfo[FhError]:
    """`aufbereiten` refuses the raw folder as a whole: its German error."""
    with pytest.raises(FhError) as err:
        _prepare(tmp_path, raw)
    return err


# --- personal data ------------------------------------------------------------------------------

# Accepted with exit 0 before issue 9.
GOT_THROUGH = [
    "Geb.-Datum",
    "Geburtstag",
    "geb. am",
    "Mailadresse",
    "Tel.",
    "Handynummer",
    "Str.",
    "PLZ",
    "Wohnort",
    "Mutter Name",
    "Kind Name",
    "Sozialversicherungsnr",
    "Versicherten-Nr",
    "IBAN",
    "V\u043ename",  # Cyrillic о
    "Vor\u00adname",  # soft hyphen
]


@pytest.mark.parametrize("column", GOT_THROUGH)
def test_personal_data_column_refuses_the_file(tmp_path, column):
    raw = raw_folder(tmp_path)
    _contacts(raw, "F1;rheindorf;01.03.2014;hebamme;x", header=f"{HEADER};{column}")
    err = _refused(tmp_path, raw)
    assert err.value.exit_code == 2
    assert err.value.message.startswith(
        "erstkontakte.csv: Spalte(n) mit personenbezogenen Daten gefunden: "
    )
    assert "Die Datei wurde nicht verarbeitet." in err.value.message
    assert not (tmp_path / "out").exists()


def test_personal_data_message_shows_invisible_characters(tmp_path):
    raw = raw_folder(tmp_path)
    _contacts(raw, "F1;rheindorf;01.03.2014;hebamme;x", header=f"{HEADER};Vor\u00adname")
    with pytest.raises(FhError, match="gefunden: Vor<U\\+00AD>name\\."):
        _prepare(tmp_path, raw)


def test_site_name_in_standorte_is_no_personal_data_but_a_persons_name_is(tmp_path):
    raw = raw_folder(tmp_path, standorte=False)
    (raw / "standorte.csv").write_text(
        "standort_id;Name;Standortname\nrheindorf;Rheindorfer Laden;Laden\n", encoding="utf-8"
    )
    _contacts(raw, "F1;rheindorf;01.03.2014;hebamme")
    result = _prepare(tmp_path, raw)
    assert result.tables["standorte"].files[0].unknown_columns == ["Standortname"]
    (raw / "standorte.csv").write_text(
        "standort_id;name;Name Leitung\nrheindorf;Rheindorfer Laden;Frau M.\n", encoding="utf-8"
    )
    with pytest.raises(FhError, match="personenbezogenen Daten gefunden: Name Leitung"):
        _prepare(tmp_path, raw)


def test_columns_outside_the_contract_reach_neither_data_nor_rejects(tmp_path):
    raw = raw_folder(tmp_path)
    _contacts(
        raw,
        "F1;rheindorf;01.03.2014;hebamme;Familie Müller, Tel 0171-1234",  # line 2: accepted
        "F2;rheindorf;01.03.2014;zauberei;Familie Müller, Tel 0171-1234",  # line 3: rejected
        "F3;rheindorf;01.03.2014;hebamme;Familie Müller; Tel 0171-1234",  # line 4: 6 fields
        header=f"{HEADER};Bemerkung",
    )
    result = _prepare(tmp_path, raw)
    assert result.tables["erstkontakte"].files[0].unknown_columns == ["Bemerkung"]
    assert reasons_by_line(tmp_path, "erstkontakte") == {
        3: "zugangsweg: „zauberei“ ist kein bekannter Wert (Code oder Bezeichnung der Liste)",
        4: "Zeile hat 6 Felder, die Kopfzeile 5 – Werte lassen sich keiner Spalte zuordnen "
        "und werden nicht übernommen",
    }
    frame = rejects(tmp_path, "erstkontakte")
    assert list(frame.columns) == [
        "datei",
        "zeile",
        "gruende",
        *TABLES["erstkontakte"].column_names,
    ]
    for path in (tmp_path / "out").rglob("*.*"):
        if path.suffix == ".parquet":
            text = pd.read_parquet(path).astype(str).to_csv()
        else:
            text = path.read_text(encoding="utf-8")
        assert "Müller" not in text and "0171-1234" not in text, path
    assert_reconciles(result)


# --- site ids -----------------------------------------------------------------------------------


def test_site_id_rule_and_reserved_words_are_row_errors_in_standorte(tmp_path):
    raw = raw_folder(tmp_path, standorte=False)
    long_id = "x" * 300
    (raw / "standorte.csv").write_text(
        "standort_id;name\n"
        "rheindorf;Rheindorfer Laden\n"  # 2
        "../../esc;Ausbruch\n"  # 3
        "=1+2;Formel\n"  # 4
        "{};Klammern\n"  # 5
        "Alle;Alle\n"  # 6
        "gesamt;Gesamt\n"  # 7
        "index;Übersicht\n"  # 8
        f"{long_id};Lang\n"  # 9
        " Steinbüchel ;Treffpunkt\n",  # 10: accepted as steinbuechel
        encoding="utf-8",
    )
    _contacts(
        raw,
        "F1;../../esc;01.03.2014;hebamme",  # 2
        "F2;alle;01.03.2014;hebamme",  # 3
        "F3;Steinbüchel;01.03.2014;hebamme",  # 4: same site in its own spelling
        "F4;rheindorf;01.03.2014;hebamme",  # 5
    )
    result = _prepare(tmp_path, raw)
    rule = (
        "Kleinbuchstaben a–z, Ziffern, _ und -, am Anfang ein Buchstabe oder eine Ziffer, "
        "höchstens 40 Zeichen"
    )
    reserved = "reserviertes Wort (alle, gesamt, alle-jahre, index) und keine Standortkennung"
    assert reasons_by_line(tmp_path, "standorte") == {
        3: f"standort_id: „../../esc“ ist keine gültige Standortkennung ({rule})",
        4: f"standort_id: „=1+2“ ist keine gültige Standortkennung ({rule})",
        5: f"standort_id: „{{}}“ ist keine gültige Standortkennung ({rule})",
        6: f"standort_id: „Alle“ ist ein {reserved}",
        7: f"standort_id: „gesamt“ ist ein {reserved}",
        8: f"standort_id: „index“ ist ein {reserved}",
        9: f"standort_id: „{'x' * 59}…“ ist mit 300 Zeichen als Standortkennung zu lang "
        "(höchstens 40)",
    }
    assert accepted(tmp_path, "standorte")["standort_id"].tolist() == ["rheindorf", "steinbuechel"]
    unknown = "gibt es in der Tabelle standorte nicht (oder die Zeile wurde dort abgelehnt)"
    assert reasons_by_line(tmp_path, "erstkontakte") == {
        2: f"standort_id: Standort unbekannt – „../../esc“ {unknown}",
        3: f"standort_id: Standort unbekannt – „alle“ {unknown}",
    }
    assert accepted(tmp_path, "erstkontakte")["standort_id"].tolist() == [
        "steinbuechel",
        "rheindorf",
    ]
    assert_reconciles(result)


# --- formulas in the rejects file ---------------------------------------------------------------


def test_formulas_in_rejected_values_are_defused_and_numbers_kept(tmp_path):
    raw = raw_folder(tmp_path)
    _contacts(
        raw,
        '=HYPERLINK("http://x";"Klick");rheindorf;01.03.2014;=1+2',  # 2 (6 fields: wide)
        "@SUMME;rheindorf;01.03.2014;+zauberei",  # 3
    )
    (raw / "angebote.csv").write_text(
        "standort_id;jahr;angebot;besuche;termine\nrheindorf;2014;kurs;10;-1\n", encoding="utf-8"
    )
    _prepare(tmp_path, raw)
    text = (tmp_path / "out" / "abgelehnt" / "erstkontakte.csv").read_text(encoding="utf-8")
    assert "'@SUMME;" in text and "'+zauberei" in text
    for line in text.splitlines()[1:]:
        for cell in line.split(";")[3:]:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), line
    offers = rejects(tmp_path, "angebote")
    assert offers["termine"].tolist() == ["-1"]  # a negative number stays a number


# --- dates --------------------------------------------------------------------------------------


def test_dates_outside_the_plausible_range_are_row_errors(tmp_path):
    raw = raw_folder(tmp_path, standorte=False)
    (raw / "standorte.csv").write_text(
        "standort_id;name;eroeffnet\nrheindorf;Laden;01.04.2011\nalt;Alt;01.01.1900\n",
        encoding="utf-8",
    )
    _contacts(
        raw,
        "F1;rheindorf;01.01.2999;hebamme",  # 2: beyond the processed format
        "F2;rheindorf;01.01.1677;hebamme",  # 3
        "F3;rheindorf;31.12.1989;hebamme",  # 4: one day before the floor
        "F4;rheindorf;01.01.1990;hebamme",  # 5: the floor itself
        "F5;rheindorf;2999-01-01;hebamme",  # 6
    )
    result = _prepare(tmp_path, raw)
    floor = (
        " liegt vor dem 01.01.1990 (frühestes plausibles Datum, einstellbar in "
        "fh-analytik.toml: [aufbereitung] fruehestes_datum)"
    )
    assert reasons_by_line(tmp_path, "erstkontakte") == {
        2: "datum_erstkontakt: „01.01.2999“ liegt in der Zukunft",
        3: f"datum_erstkontakt: „01.01.1677“{floor}",
        4: f"datum_erstkontakt: „31.12.1989“{floor}",
        6: "datum_erstkontakt: „2999-01-01“ liegt in der Zukunft",
    }
    assert reasons_by_line(tmp_path, "standorte") == {3: f"eroeffnet: „01.01.1900“{floor}"}
    assert accepted(tmp_path, "erstkontakte")["datum_erstkontakt"].tolist() == [
        pd.Timestamp("1990-01-01")
    ]
    assert_reconciles(result)


def test_the_date_floor_is_configurable(tmp_path):
    raw = raw_folder(tmp_path)
    _contacts(raw, "F1;rheindorf;01.06.2005;hebamme", "F2;rheindorf;01.06.2011;hebamme")
    toml = tmp_path / "fh-analytik.toml"
    toml.write_text("[aufbereitung]\nfruehestes_datum = 2010-01-01\n", encoding="utf-8")
    ingest.prepare(raw, tmp_path / "out", load_config(toml), today=TODAY)
    assert list(reasons_by_line(tmp_path, "erstkontakte")) == [2]
    assert "liegt vor dem 01.01.2010" in reasons_by_line(tmp_path, "erstkontakte")[2]


# --- encodings ----------------------------------------------------------------------------------


def _utf8_then_one_cp1252_line(prefix: str, utf8_rows: int) -> bytes:
    """Header and ``utf8_rows`` rows in UTF-8, then one more row in Windows-1252 (its line
    number is ``utf8_rows + 2``); every row has an umlaut."""
    rows = [
        f"{prefix}{i};rheindorf;01.03.2014;hebamme;Frühförderung" for i in range(1, 2 + utf8_rows)
    ]
    data = ("\n".join([HEADER + ";weitervermittlung", *rows[:-1]]) + "\n").encode("utf-8")
    return data + (rows[-1] + "\n").encode("cp1252")


def test_one_cp1252_line_in_a_utf8_file_rejects_that_line_only(tmp_path):
    raw = raw_folder(tmp_path)
    (raw / "erstkontakte.csv").write_bytes(_utf8_then_one_cp1252_line("F", 8))  # line 10
    result = _prepare(tmp_path, raw)
    report = result.tables["erstkontakte"]
    assert (report.read, report.accepted, report.rejected) == (9, 8, 1)
    assert report.files[0].encoding == "UTF-8"
    assert report.files[0].encoding_error_lines == [10]
    assert reasons_by_line(tmp_path, "erstkontakte") == {
        10: "Zeichenkodierung: Zeile ist kein gültiges UTF-8 wie der Rest der Datei "
        "(vermutlich Windows-1252) – Zeichen nicht lesbar; weitervermittlung: "
        "„Fr\ufffdhf\ufffdrderung“ ist kein bekannter Wert (Code oder Bezeichnung der Liste)"
    }
    assert set(accepted(tmp_path, "erstkontakte")["weitervermittlung"]) == {"fruehfoerderung"}
    summary = ingest.format_summary(result)
    assert (
        "erstkontakte.csv: als UTF-8 gelesen; 1 Zeile in anderer Zeichenkodierung abgelehnt "
        "(Zeile 10)" in summary
    )
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest["tabellen"]["erstkontakte"]
    assert entry["dateien"][0]["zeilen_mit_kodierungsfehler"] == [10]
    assert entry["ablehnungsgruende"]["Zeichenkodierung"] == 1


def test_column_names_in_messages_show_hidden_characters_and_are_cut_at_60(tmp_path):
    raw = raw_folder(tmp_path)
    at_limit, over = "b" * 60, "c" * 61
    _contacts(raw, "F1;rheindorf;01.03.2014;hebamme;x;y", header=f"{HEADER};{at_limit};{over}")
    result = _prepare(tmp_path, raw)
    assert result.tables["erstkontakte"].files[0].unknown_columns == [at_limit, "c" * 59 + "…"]
    _contacts(raw, "F1;rheindorf;01.03.2014;hebamme;x", header=f"{HEADER};Vor\u00adname")
    err = _refused(tmp_path, raw)
    assert "personenbezogenen Daten gefunden: Vor<U+00AD>name." in err.value.message


@pytest.mark.parametrize("over", [False, True])
def test_the_zip_bomb_limits_hold_at_their_edge(tmp_path, monkeypatch, over):
    # The limits moved onto a small honest workbook: at the limit it is read, one above not.
    import zipfile

    from analysis.ingest import read

    raw = raw_folder(tmp_path)
    header = _row(*HEADER.split(";"))
    _xlsx(
        raw / "erstkontakte.xlsx",
        f"{_SHEET_HEAD}<sheetData>{header}{_row('F1', 'rheindorf', '01.03.2014', 'hebamme')}"
        "</sheetData></worksheet>",
    )
    with zipfile.ZipFile(raw / "erstkontakte.xlsx") as archive:
        members = archive.infolist()
    total = sum(m.file_size for m in members)
    biggest = max(members, key=lambda m: m.file_size)
    monkeypatch.setattr(read, "XLSX_MAX_UNPACKED", total - over)
    monkeypatch.setattr(read, "XLSX_RATIO_FROM", biggest.file_size - 1)  # only the biggest
    monkeypatch.setattr(read, "XLSX_MAX_RATIO", 1000)
    if over:
        with pytest.raises(FhError, match="Zip-Bombe"):
            _prepare(tmp_path, raw)
    else:
        assert _prepare(tmp_path, raw).tables["erstkontakte"].accepted == 1
    # The ratio: the biggest member's unpacked by packed size, for members above the floor.
    ratio = biggest.file_size / biggest.compress_size
    monkeypatch.setattr(read, "XLSX_MAX_UNPACKED", total)
    monkeypatch.setattr(read, "XLSX_MAX_RATIO", ratio - over * 0.01)
    if over:
        with pytest.raises(FhError, match="Zip-Bombe"):
            _prepare(tmp_path, raw)
    else:
        assert _prepare(tmp_path, raw).tables["erstkontakte"].accepted == 1
    monkeypatch.setattr(read, "XLSX_RATIO_FROM", biggest.file_size)  # no member above: no ratio
    assert _prepare(tmp_path, raw).tables["erstkontakte"].accepted == 1


def test_a_bad_line_in_one_file_does_not_taint_the_rows_of_the_other_files(tmp_path):
    # Only the 2014 file has a line in another encoding; the rows of the 2013 file (read
    # first) must not be taken for such lines when the two are put together.
    raw = raw_folder(tmp_path)
    clean = [HEADER] + [f"A{i};rheindorf;01.03.2013;hebamme" for i in range(1, 4)]
    (raw / "erstkontakte_2013.csv").write_text("\n".join(clean) + "\n", encoding="utf-8")
    (raw / "erstkontakte_2014.csv").write_bytes(_utf8_then_one_cp1252_line("B", 3))  # line 5
    result = _prepare(tmp_path, raw)
    report = result.tables["erstkontakte"]
    assert (report.read, report.accepted, report.rejected) == (7, 6, 1)
    assert [f.encoding_error_lines for f in report.files] == [[], [5]]
    frame = rejects(tmp_path, "erstkontakte")
    assert frame[["datei", "zeile"]].values.tolist() == [["erstkontakte_2014.csv", "5"]]
    assert sorted(accepted(tmp_path, "erstkontakte")["fall_id"]) == [
        "A1",
        "A2",
        "A3",
        "B1",
        "B2",
        "B3",
    ]


def test_rows_set_aside_are_listed_by_file_and_line_with_their_file(tmp_path):
    # A line with too many fields (found while splitting) in the first file and a row that
    # fails a rule in the second: the rejects name the file of each, in file order.
    raw = raw_folder(tmp_path)
    first = [HEADER, "A1;rheindorf;01.03.2013;hebamme", "A2;rheindorf;01.03.2013;hebamme;x;y"]
    (raw / "erstkontakte_2013.csv").write_text("\n".join(first) + "\n", encoding="utf-8")
    second = [HEADER, "B1;rheindorf;01.03.2014;kein_weg", "B2;rheindorf;01.03.2014;hebamme"]
    (raw / "erstkontakte_2014.csv").write_text("\n".join(second) + "\n", encoding="utf-8")
    _prepare(tmp_path, raw)
    frame = rejects(tmp_path, "erstkontakte")
    assert frame[["datei", "zeile"]].values.tolist() == [
        ["erstkontakte_2013.csv", "3"],
        ["erstkontakte_2014.csv", "2"],
    ]
    assert frame["gruende"].iloc[0].startswith("Zeile hat 6 Felder, die Kopfzeile 4")


def test_one_utf8_line_in_a_cp1252_file_rejects_that_line_only(tmp_path):
    raw = raw_folder(tmp_path)
    body = [f"F{i};rheindorf;01.03.2014;hebamme;Frühförderung" for i in range(1, 6)]
    data = ("\n".join([HEADER + ";weitervermittlung", *body]) + "\n").encode("cp1252")
    data += "F6;rheindorf;01.03.2014;hebamme;Frühförderung\n".encode()  # line 7
    (raw / "erstkontakte.csv").write_bytes(data)
    result = _prepare(tmp_path, raw)
    assert result.tables["erstkontakte"].files[0].encoding == "Windows-1252"
    assert list(reasons_by_line(tmp_path, "erstkontakte")) == [7]
    assert reasons_by_line(tmp_path, "erstkontakte")[7].startswith(
        "Zeichenkodierung: Zeile ist UTF-8-kodiert, der Rest der Datei Windows-1252"
    )
    assert result.tables["erstkontakte"].accepted == 5


def test_a_cp1252_file_without_utf8_lines_is_read_whole(tmp_path):
    raw = raw_folder(tmp_path)
    rows = [f"F{i};rheindorf;01.03.2014;hebamme;Frühförderung" for i in range(1, 4)]
    (raw / "erstkontakte.csv").write_bytes(
        ("\n".join([HEADER + ";weitervermittlung", *rows]) + "\n").encode("cp1252")
    )
    result = _prepare(tmp_path, raw)
    assert (result.tables["erstkontakte"].accepted, result.tables["erstkontakte"].rejected) == (
        3,
        0,
    )


# --- long lines ---------------------------------------------------------------------------------


@pytest.mark.parametrize("quoted", [False, True])
def test_a_very_long_line_is_one_rejected_row(tmp_path, quoted):
    raw = raw_folder(tmp_path)
    blob = "x" * 200_000
    last = '"F3";rheindorf;01.03.2014;hebamme' if quoted else "F3;rheindorf;01.03.2014;hebamme"
    _contacts(raw, "F1;rheindorf;01.03.2014;hebamme", f"F2;rheindorf;01.03.2014;{blob}", last)
    result = _prepare(tmp_path, raw)
    assert reasons_by_line(tmp_path, "erstkontakte") == {
        3: "Zeile ist mit 200.024 Zeichen zu lang (höchstens 100.000) – Werte werden nicht "
        "übernommen"
    }
    assert accepted(tmp_path, "erstkontakte")["fall_id"].tolist() == ["F1", "F3"]
    assert (tmp_path / "out" / "abgelehnt" / "erstkontakte.csv").stat().st_size < 1000
    assert_reconciles(result)


@pytest.mark.parametrize("quoted", [False, True])
def test_a_line_of_exactly_the_longest_length_is_still_read(tmp_path, quoted):
    raw = raw_folder(tmp_path)
    first = '"F1"' if quoted else "F1"
    start = first + ";rheindorf;01.03.2014;hebamme;"
    header = HEADER + ";bemerkung"
    at_limit = start + "x" * (100_000 - len(start))  # 100,000 characters: allowed
    over = at_limit.replace("F1", "F2", 1) + "x"  # 100,001: too long
    _contacts(raw, at_limit, over, header=header)
    _prepare(tmp_path, raw)
    assert reasons_by_line(tmp_path, "erstkontakte") == {
        3: "Zeile ist mit 100.001 Zeichen zu lang (höchstens 100.000) – Werte werden nicht "
        "übernommen"
    }
    assert accepted(tmp_path, "erstkontakte")["fall_id"].tolist() == ["F1"]


@pytest.mark.parametrize("quoted", [False, True], ids=["pyarrow", "csv_modul"])
def test_a_file_with_a_delimiter_at_every_line_end(tmp_path, quoted):
    # Both readers alike: the trailing empty field is no column, a line of bare delimiters
    # (quoted or not) no row, one field too many a width error (6 fields counted with the
    # trailing one), rows after a skipped or rejected one still read. Without quotes the
    # file takes pyarrow's path, with them the csv module's.
    q = '"' if quoted else ""
    raw = raw_folder(tmp_path)
    _contacts(
        raw,
        f'{q}F1{q};{q}rheindorf{q};"01.03.2014";"hebamme";'.replace('"', q),  # 2
        "F2;rheindorf;02.03.2014;hebamme;",  # 3: plain
        ";;;;",  # 4: no row
        f"{q}{q};;{q}{q};;",  # 5: no row either
        f"{q}F3{q};rheindorf;03.03.2014;hebamme;x;",  # 6: one field too many
        "F4;rheindorf;03.03.2014;hebamme;x;",  # 7: one field too many (plain)
        f"{q}F5{q};rheindorf;04.03.2014;hebamme;",  # 8: read after the rejected row
        "X;;;;",  # 9: a row, whatever its letters
        f"{q}F6{q};rheindorf;05.03.2014;hebamme;x",  # 10: one more field, no trailing one
        "F7;rheindorf;05.03.2014;hebamme;x",  # 11: the same, never quoted
        header=HEADER + ";",
    )
    result = _prepare(tmp_path, raw)
    assert accepted(tmp_path, "erstkontakte")["fall_id"].tolist() == ["F1", "F2", "F5"]
    reason = "Zeile hat {} Felder, die Kopfzeile 4 – Werte lassen sich keiner Spalte zuordnen "
    reason += "und werden nicht übernommen"
    reasons = reasons_by_line(tmp_path, "erstkontakte")
    assert (reasons[6], reasons[7], reasons[10], reasons[11]) == (
        reason.format(6),
        reason.format(6),
        reason.format(5),
        reason.format(5),
    )
    assert sorted(reasons) == [6, 7, 9, 10, 11]
    assert reasons[9].startswith("standort_id: Pflichtangabe fehlt")
    assert result.tables["erstkontakte"].read == 8
    counts = result.tables["erstkontakte"].reason_counts
    assert counts["Anzahl der Felder passt nicht zur Kopfzeile"] == 4


def test_a_record_broken_by_a_stray_quote_is_one_rejected_row_at_its_first_line(tmp_path):
    # The odd quote in line 3 opens a field the csv module never sees closed until line 4:
    # the two lines form one record that splits into two rows, so it has no usable fields.
    raw = raw_folder(tmp_path)
    _contacts(
        raw,
        '"F1";rheindorf;01.03.2014;hebamme',  # 2
        'F2;rhein"dorf;01.03.2014;hebamme',  # 3: a stray quote ...
        'F3;rheindorf;01.03.2014;hebamme"',  # 4: ... closed here
        "F4;rheindorf;01.03.2014;hebamme",  # 5
    )
    result = _prepare(tmp_path, raw)
    assert reasons_by_line(tmp_path, "erstkontakte") == {
        3: "Zeile hat 0 Felder, die Kopfzeile 4 – Werte lassen sich keiner Spalte zuordnen "
        "und werden nicht übernommen"
    }
    assert accepted(tmp_path, "erstkontakte")["fall_id"].tolist() == ["F1", "F4"]
    assert result.tables["erstkontakte"].read == 3


def test_a_quoted_file_names_itself_when_its_header_is_refused(tmp_path):
    raw = raw_folder(tmp_path)
    _contacts(raw, '"F1";rheindorf;01.03.2014;hebamme;x', header=HEADER + ";Vorname")
    err = _refused(tmp_path, raw)
    assert err.value.message.startswith(
        "erstkontakte.csv: Spalte(n) mit personenbezogenen Daten gefunden: Vorname."
    )
    _contacts(raw, '"1";"2"', header="Nr;Ort")
    err = _refused(tmp_path, raw)
    assert err.value.message.startswith("erstkontakte.csv: keine Kopfzeile gefunden")


def test_a_line_in_another_encoding_inside_a_record_of_several_lines(tmp_path):
    # A quoted field spans lines 2-3; the bad line 5 lies in the record that starts at 4.
    raw = raw_folder(tmp_path)
    data = (
        (
            HEADER + ";bemerkung\n"
            'F1;rheindorf;01.03.2014;hebamme;"zwei\nZeilen"\n'  # 2-3
            'F2;rheindorf;01.03.2014;hebamme;"und noch\n'  # 4
        ).encode()
        + 'Grüße"\n'.encode("cp1252")
        + (  # 5, ends the record of line 4
            "F3;rheindorf;01.03.2014;hebamme;Grüße\n"  # 6
        ).encode()
    )
    (raw / "erstkontakte.csv").write_bytes(data)
    result = _prepare(tmp_path, raw)
    assert list(reasons_by_line(tmp_path, "erstkontakte")) == [4]
    assert result.tables["erstkontakte"].files[0].encoding_error_lines == [4]
    assert accepted(tmp_path, "erstkontakte")["fall_id"].tolist() == ["F1", "F3"]


def test_a_line_longer_than_the_readers_block_is_read(tmp_path):
    # pyarrow reads 16 MB blocks; a line over two blocks (pyarrow 26 copes with one block
    # more by itself) made the whole file unreadable, so the reader retries with one block.
    raw = raw_folder(tmp_path)
    _contacts(raw, "F1;rheindorf;01.03.2014;hebamme", "F2;" + "y" * (33 << 20))
    result = _prepare(tmp_path, raw)
    assert list(reasons_by_line(tmp_path, "erstkontakte")) == [3]
    assert result.tables["erstkontakte"].accepted == 1


# --- xlsx ---------------------------------------------------------------------------------------

_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def _xlsx(path: Path, sheet_xml: str) -> None:
    """A minimal workbook around one sheet's XML (what openpyxl needs to open it)."""
    ns = "http://schemas.openxmlformats.org"
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="'
        + ns
        + '/package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
        '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
        '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="'
        + ns
        + '/package/2006/relationships"><Relationship Id="rId1" Type="'
        + ns
        + '/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>",
        "xl/workbook.xml": '<?xml version="1.0"?><workbook xmlns="'
        + ns
        + '/spreadsheetml/2006/main" xmlns:r="'
        + ns
        + '/officeDocument/2006/relationships"><sheets><sheet name="erstkontakte" sheetId="1" '
        'r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0"?><Relationships xmlns="'
        + ns
        + '/package/2006/relationships"><Relationship Id="rId1" Type="'
        + ns
        + '/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        "</Relationships>",
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)


def _row(*values: str, r: int | None = None) -> str:
    cells = "".join(f'<c t="inlineStr"><is><t>{v}</t></is></c>' for v in values)
    return f'<row r="{r}">{cells}</row>' if r else f"<row>{cells}</row>"


def test_xlsx_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    raw = raw_folder(tmp_path)
    header = _row(*HEADER.split(";"))
    body = _row("F", "rheindorf", "01.03.2014", "hebamme") * 20_000  # ~2.4 MB, packs ~250:1
    _xlsx(
        raw / "erstkontakte.xlsx", f"{_SHEET_HEAD}<sheetData>{header}{body}</sheetData></worksheet>"
    )
    assert (raw / "erstkontakte.xlsx").stat().st_size < 40_000
    err = _refused(tmp_path, raw)
    assert err.value.message.startswith("erstkontakte.xlsx: Excel-Datei wird nicht gelesen")
    assert "„Zip-Bombe“" in err.value.message and "höchstens 100-fach" in err.value.message
    assert not (tmp_path / "out").exists()
    # The sizes as the archive's directory declares them, in German numbers.
    import zipfile

    from analysis.formatting import number

    with zipfile.ZipFile(raw / "erstkontakte.xlsx") as archive:
        members = archive.infolist()
    total = sum(m.file_size for m in members)
    ratio = max(m.file_size / m.compress_size for m in members if m.file_size > 1024 * 1024)
    assert f"sie entpackt sich auf {number(total / 1024**2)} MB (höchstens 200 MB)" in (
        err.value.message
    )
    assert f"auf das {number(ratio)}-Fache seiner Größe" in err.value.message


def test_megabytes_in_messages_are_mebibytes_rounded_to_whole_numbers():
    from analysis.ingest.read import _megabytes

    assert _megabytes(200 * 1024 * 1024) == "200"
    assert _megabytes(1024 * 1024 * 3 // 2 + 1) == "2"  # just above 1.5 MiB
    assert _megabytes(1024 * 1024 * 3 // 2 - 1) == "1"  # just below
    assert _megabytes(1_500_000_000) == "1.431"


def test_xlsx_with_a_huge_stated_dimension_reads_only_its_cells(tmp_path):
    # A sheet that claims A1:XFD1048576 used to be padded to 16,384 cells per row.
    raw = raw_folder(tmp_path)
    sheet = (
        f'{_SHEET_HEAD}<dimension ref="A1:XFD1048576"/><sheetData>'
        f"{_row(*HEADER.split(';'), r=1)}{_row('F1', 'rheindorf', '01.03.2014', 'hebamme', r=2)}"
        '<row r="5000"><c r="XFD5000" t="inlineStr"><is><t> </t></is></c></row>'
        "</sheetData></worksheet>"
    )
    _xlsx(raw / "erstkontakte.xlsx", sheet)
    result = _prepare(tmp_path, raw)
    assert (result.tables["erstkontakte"].read, result.tables["erstkontakte"].accepted) == (1, 1)


# --- writing: full disk, read-only, missing folders, killed runs --------------------------------


def _fail_with(code: int):
    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code), "/daten/out")

    return fail


@pytest.mark.parametrize(
    ("where", "code", "words"),
    [
        ("parquet", errno.ENOSPC, "kein Speicherplatz mehr auf dem Datenträger (/daten/out)"),
        ("mkdtemp", errno.EROFS, "Datenträger ist schreibgeschützt (/daten/out)"),
        ("mkdtemp", errno.EACCES, "keine Berechtigung (/daten/out)"),
    ],
)
def test_a_failed_write_keeps_the_previous_state_and_leaves_nothing(
    tmp_path, monkeypatch, where, code, words
):
    raw = raw_folder(tmp_path)
    _contacts(raw, "F1;rheindorf;01.03.2014;hebamme")
    _prepare(tmp_path, raw)
    before = snapshot(tmp_path / "out")
    _contacts(raw, "F1;rheindorf;01.03.2014;hebamme", "F2;rheindorf;01.03.2014;hebamme")
    if where == "parquet":
        real = pd.DataFrame.to_parquet

        def half_then_full(self, path, *args, **kwargs):
            Path(path).write_bytes(b"PAR1")  # a partly written file, then the disk is full
            _fail_with(code)()

        monkeypatch.setattr(pd.DataFrame, "to_parquet", half_then_full)
        assert real is not half_then_full
    else:
        monkeypatch.setattr(ingest_write.tempfile, "mkdtemp", _fail_with(code))
    err = _refused(tmp_path, raw)
    assert err.value.exit_code == 2
    assert err.value.message == (
        f"Die aufbereiteten Daten konnten nicht nach {tmp_path / 'out'} geschrieben werden: "
        f"{words}. Die bisherigen Daten bleiben unverändert."
    )
    assert snapshot(tmp_path / "out") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fh-analytik.toml", "out", "raw"]


def test_a_target_below_a_file_is_a_german_error(tmp_path):
    raw = raw_folder(tmp_path)
    _contacts(raw, "F1;rheindorf;01.03.2014;hebamme")
    (tmp_path / "datei").write_text("kein Ordner", encoding="utf-8")
    with pytest.raises(FhError, match="gibt es schon, aber nicht als Ordner"):
        ingest.prepare(raw, tmp_path / "datei" / "out", None, today=TODAY)


def test_build_folders_of_a_killed_run_are_removed_on_the_next_run(tmp_path):
    raw = raw_folder(tmp_path)
    _contacts(raw, "F1;rheindorf;01.03.2014;hebamme")
    host = "".join(c for c in socket.gethostname() if c.isalnum())[:20]
    stale = [".out.neu-k2j3h4_x", f".out.neu-{host}-999999999-ab12", f".out.alt-{host}-999999999-q"]
    live = f".out.neu-{host}-{os.getppid()}-cd34"  # a running preparation: left alone
    other_host = ".out.neu-anderermrechner-1-ef56"
    for name in [*stale, live, other_host]:
        (tmp_path / name).mkdir()
        (tmp_path / name / "halb.parquet").write_bytes(b"PAR1")
    _prepare(tmp_path, raw)
    left = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out"))
    assert left == sorted([live, other_host])


def test_a_previous_state_parked_by_a_killed_swap_is_put_back(tmp_path):
    raw = raw_folder(tmp_path)
    _contacts(raw, "F1;rheindorf;01.03.2014;hebamme")
    _prepare(tmp_path, raw)
    before = snapshot(tmp_path / "out")
    parked = tmp_path / ".out.alt-k2j3h4_x"  # killed between the two renames of the fallback
    parked.mkdir()
    (tmp_path / "out").rename(parked / "out")
    assert ingest_write.clean_stale(tmp_path / "out") == [".out.alt-k2j3h4_x"]
    assert snapshot(tmp_path / "out") == before


# --- a table that shrinks -----------------------------------------------------------------------


def test_a_header_only_export_does_not_replace_the_previous_table(tmp_path, capsys):
    raw = raw_folder(tmp_path)
    _contacts(raw, *(f"F{i};rheindorf;01.03.2014;hebamme" for i in range(1, 5)))
    (raw / "angebote.csv").write_text(
        "standort_id;jahr;angebot;besuche\nrheindorf;2014;kurs;10\n", encoding="utf-8"
    )
    _prepare(tmp_path, raw)
    before = snapshot(tmp_path / "out")
    _contacts(raw)  # the header only
    err = _refused(tmp_path, raw)
    assert err.value.exit_code == 2
    assert err.value.message.startswith(
        "Aufbereitung abgebrochen – Tabellen würden gegenüber dem bisherigen Stand leer oder um "
        "mehr als 50 % kleiner: erstkontakte: 0 statt bisher 4 angenommene Zeilen (0 gelesen "
        "aus erstkontakte.csv)."
    )
    assert "fh-analytik aufbereiten --rueckgang-erlauben" in err.value.message
    assert snapshot(tmp_path / "out") == before
    # Confirmed on the command line: done, and the summary says so.
    argv = ["--konfig", str(tmp_path / "fh-analytik.toml"), "aufbereiten"]
    argv += ["--rohdaten", str(raw), "--ziel", str(tmp_path / "out"), "--rueckgang-erlauben"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "Rückgang bestätigt (--rueckgang-erlauben): erstkontakte: 0 statt bisher 4" in out
    assert len(accepted(tmp_path, "erstkontakte")) == 0


def test_shrinking_by_more_than_the_configured_share_is_refused(tmp_path):
    raw = raw_folder(tmp_path)
    _contacts(raw, *(f"F{i};rheindorf;01.03.2014;hebamme" for i in range(1, 11)))
    _prepare(tmp_path, raw)
    _contacts(raw, *(f"F{i};rheindorf;01.03.2014;hebamme" for i in range(1, 6)))  # 10 -> 5
    _prepare(tmp_path, raw)  # 50 % is the default limit: allowed
    _contacts(raw, *(f"F{i};rheindorf;01.03.2014;hebamme" for i in range(1, 4)))  # 5 -> 3
    toml = tmp_path / "streng.toml"
    toml.write_text("[aufbereitung]\nhoechster_rueckgang = 0.2\n", encoding="utf-8")
    with pytest.raises(FhError, match="um mehr als 20 % kleiner: erstkontakte: 3 statt bisher 5"):
        ingest.prepare(raw, tmp_path / "out", load_config(toml), today=TODAY)


def test_the_refusal_of_a_shrink_names_every_table_and_file(tmp_path):
    # Two tables emptied at once, one of them with a single row before (the rule starts at
    # one row) and one read from two files; a table that was already empty stays empty.
    raw = raw_folder(tmp_path)
    _contacts(raw, *(f"F{i};rheindorf;01.03.2014;hebamme" for i in range(1, 5)))
    (raw / "erstkontakte_b.csv").write_text(HEADER + "\n", encoding="utf-8")
    offers = "standort_id;jahr;angebot;besuche\n"
    (raw / "angebote.csv").write_text(offers + "rheindorf;2014;kurs;10\n", encoding="utf-8")
    (raw / "willkommensbesuche.csv").write_text("jahr;gebiet;besuche\n", encoding="utf-8")
    _prepare(tmp_path, raw)
    _contacts(raw)
    (raw / "angebote.csv").write_text(offers, encoding="utf-8")
    err = _refused(tmp_path, raw)
    assert err.value.message == (
        "Aufbereitung abgebrochen – Tabellen würden gegenüber dem bisherigen Stand leer oder um "
        "mehr als 50 % kleiner: erstkontakte: 0 statt bisher 4 angenommene Zeilen (0 gelesen "
        "aus erstkontakte.csv, erstkontakte_b.csv); angebote: 0 statt bisher 1 angenommene "
        "Zeilen (0 gelesen aus angebote.csv). Vermutlich ein Export nur mit Kopfzeile oder "
        f"mit falschen Spalten. Die bisherigen Daten in {tmp_path / 'out'} bleiben unverändert. "
        "Ist der Rückgang gewollt, bitte mit `fh-analytik aufbereiten --rueckgang-erlauben` "
        "bestätigen (Grenze: [aufbereitung] hoechster_rueckgang in fh-analytik.toml)."
    )


def test_every_table_whose_files_are_gone_is_named_with_its_rows(tmp_path):
    raw = raw_folder(tmp_path)
    _contacts(raw, "F1;rheindorf;01.03.2014;hebamme")
    (raw / "angebote.csv").write_text(
        "standort_id;jahr;angebot;besuche\nrheindorf;2014;kurs;10\nrheindorf;2015;kurs;5\n",
        encoding="utf-8",
    )
    (raw / "willkommensbesuche.csv").write_text(
        "jahr;gebiet;besuche\n2014;rheindorf;3\n", encoding="utf-8"
    )
    _prepare(tmp_path, raw)
    (raw / "angebote.csv").unlink()
    (raw / "willkommensbesuche.csv").unlink()
    lines = ingest.format_summary(_prepare(tmp_path, raw)).split("\n")
    assert [line for line in lines if line.startswith("Tabelle ") and ":" in line] == [
        "Tabelle angebote: keine Datei mehr im Rohdatenordner – bisher 2 Zeilen; sie entfällt "
        "in den aufbereiteten Daten.",
        "Tabelle willkommensbesuche: keine Datei mehr im Rohdatenordner – bisher 1 Zeile; sie "
        "entfällt in den aufbereiteten Daten.",
    ]


def test_a_table_whose_files_are_gone_is_named_in_the_summary(tmp_path):
    raw = raw_folder(tmp_path)
    _contacts(raw, "F1;rheindorf;01.03.2014;hebamme")
    (raw / "angebote.csv").write_text(
        "standort_id;jahr;angebot;besuche\nrheindorf;2014;kurs;10\n", encoding="utf-8"
    )
    _prepare(tmp_path, raw)
    (raw / "angebote.csv").unlink()
    result = _prepare(tmp_path, raw)
    assert (
        "Tabelle angebote: keine Datei mehr im Rohdatenordner – bisher 1 Zeile; sie entfällt "
        "in den aufbereiteten Daten." in ingest.format_summary(result)
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (True, "ja"),
        (False, "nein"),
        (7, "7"),
        (3.0, "3"),
        (-2.0, "-2"),
        (2.5, "2,5"),
        (999_999_999_999_999.0, "999999999999999"),
        (1e15, "1000000000000000,0"),  # from 10^15 on, floats keep their decimal part
        (datetime(2014, 3, 1, 10, 30), "2014-03-01"),
        (date(2014, 3, 1), "2014-03-01"),
        (time(10, 30), "10:30:00"),
        pytest.param("  Opladen ", "Opladen", id="text_mit_leerzeichen"),
    ],
)
def test_an_excel_cell_becomes_the_text_a_csv_file_would_hold(value, text):
    from analysis.ingest.read import _cell_text

    assert _cell_text(value) == text


@pytest.mark.parametrize(("bom", "codec"), [(b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")])
def test_a_utf16_file_without_zero_bytes_is_still_refused(tmp_path, bom, codec):
    # Chinese text in UTF-16 has no zero byte; the byte-order mark alone tells the format.
    raw = raw_folder(tmp_path)
    (raw / "erstkontakte.csv").write_bytes(bom + "漢字漢字".encode(codec))
    err = _refused(tmp_path, raw)
    assert err.value.message.startswith("erstkontakte.csv: Datei ist keine Textdatei in UTF-8")
    assert b"\x00" not in (raw / "erstkontakte.csv").read_bytes()


def test_a_file_holding_every_marker_character_is_read_on_the_slow_path(tmp_path):
    # The fast reader needs one control character that the file does not contain; with all
    # six present (in a column outside the contract) the csv module reads it instead.
    raw = raw_folder(tmp_path)
    junk = "\x1f\x1e\x1d\x1c\x01\x02"
    _contacts(
        raw,
        f"F1;rheindorf;01.03.2014;hebamme;{junk}, Komma",
        "F2;rheindorf;02.03.2014;kinderarzt;x",
        header=HEADER + ";bemerkung",
    )
    result = _prepare(tmp_path, raw)
    assert (result.tables["erstkontakte"].read, result.tables["erstkontakte"].accepted) == (2, 2)
    assert accepted(tmp_path, "erstkontakte")["zugangsweg"].astype(str).tolist() == [
        "hebamme",
        "kinderarzt",
    ]


def test_a_utf8_bom_file_that_is_not_utf8_names_the_bad_byte_counted_from_the_file_start(
    tmp_path,
):
    # The position is the file's, BOM included, counted from 1: the 3-byte BOM and "a;b\nx;"
    # (6 bytes) come first, so the bad byte 0xE4 ("ä" in Windows-1252) is the 10th. The BOM
    # promises UTF-8, and no line is valid UTF-8 with umlauts: refused, not read as cp1252.
    raw = raw_folder(tmp_path)
    data = b"\xef\xbb\xbf" + b"a;b\nx;\xe4\n"
    assert data.index(b"\xe4") + 1 == 10
    (raw / "erstkontakte.csv").write_bytes(data)
    err = _refused(tmp_path, raw)
    assert err.value.message == (
        "erstkontakte.csv: Datei beginnt mit einer UTF-8-Kennung (BOM), ist aber kein gültiges "
        "UTF-8 (ungültiges Byte an Stelle 10 der Datei, ab 1 gezählt). Bitte erneut als UTF-8 "
        "exportieren."
    )


def test_an_xlsx_header_with_personal_data_is_refused_naming_the_file(tmp_path):
    import openpyxl

    raw = raw_folder(tmp_path)
    wb = openpyxl.Workbook()
    wb.active.append([*HEADER.split(";"), "Vorname"])
    wb.active.append(["F1", "rheindorf", "01.03.2014", "hebamme", "Erika"])
    wb.save(raw / "erstkontakte-2014.xlsx")
    err = _refused(tmp_path, raw)
    assert err.value.message == (
        "erstkontakte-2014.xlsx (Blatt Sheet): Spalte(n) mit personenbezogenen Daten gefunden: "
        "Vorname. Solche Spalten dürfen nicht eingelesen werden – bitte vor dem Export "
        "entfernen. Die Datei wurde nicht verarbeitet."
    )


# --- found in review of the per-file reader (issue 11) -----------------------------------------


def test_a_key_spelled_twice_differently_in_one_file_is_a_duplicate(tmp_path):
    # ` rheindorf` and `Rheindorf` are the same site once trimmed and folded: in a table of one
    # file too, the later row is a duplicate (each file's texts are numbered across files,
    # not the entries of its dictionary, which may hold a site twice).
    raw = raw_folder(tmp_path)
    (raw / "standorte.csv").write_text(
        "standort_id;name\nrheindorf;A\nRheindorf;B\nwiesdorf ;C\nwiesdorf;D\n", encoding="utf-8"
    )
    _contacts(raw, "F1;rheindorf;01.03.2014;hebamme", "F1;RHEINDORF;02.03.2014;hebamme")
    (raw / "willkommensbesuche.csv").write_text(
        "jahr;gebiet;besuche\n2014;gesamt;5\n2014;Gesamt;5\n2014;Wiesdorf;3\n", encoding="utf-8"
    )
    result = _prepare(tmp_path, raw)
    assert_reconciles(result)
    assert accepted(tmp_path, "standorte")["standort_id"].tolist() == ["rheindorf", "wiesdorf"]
    assert reasons_by_line(tmp_path, "standorte") == {
        3: "Doppelter Schlüssel (standort_id) – zuerst in standorte.csv, Zeile 2",
        5: "Doppelter Schlüssel (standort_id) – zuerst in standorte.csv, Zeile 4",
    }
    assert reasons_by_line(tmp_path, "erstkontakte") == {
        3: "Doppelter Schlüssel (standort_id, fall_id) – zuerst in erstkontakte.csv, Zeile 2"
    }
    assert reasons_by_line(tmp_path, "willkommensbesuche") == {
        3: "Doppelter Schlüssel (jahr, gebiet) – zuerst in willkommensbesuche.csv, Zeile 2"
    }
    assert accepted(tmp_path, "willkommensbesuche")["gebiet"].tolist() == ["gesamt", "wiesdorf"]


def test_a_row_with_an_unknown_site_is_not_also_a_duplicate(tmp_path):
    # A site that standorte does not have makes the key unusable, whatever other rows of the
    # table spell: the row is rejected for the site alone. (Before the per-file reader the
    # duplicate was also named, but only when no other row spelled a site differently.)
    raw = raw_folder(tmp_path)
    _contacts(
        raw,
        "F1;wiesdorf;01.03.2014;hebamme",
        "F1;wiesdorf;02.03.2014;hebamme",
        "F2;Rheindorf;02.03.2014;hebamme",
    )
    _prepare(tmp_path, raw)
    unknown = (
        "standort_id: Standort unbekannt – „wiesdorf“ gibt es in der Tabelle standorte nicht "
        "(oder die Zeile wurde dort abgelehnt)"
    )
    assert reasons_by_line(tmp_path, "erstkontakte") == {2: unknown, 3: unknown}


def test_a_byte_order_mark_starting_the_first_data_line_is_kept(tmp_path):
    # pyarrow drops a byte order mark that starts its input; after the header it is data
    # (a file pasted together from exports): the general reader keeps it, as before.
    raw = raw_folder(tmp_path)
    (raw / "erstkontakte.csv").write_bytes(
        (HEADER + "\n").encode() + b"\xef\xbb\xbfF1;rheindorf;01.03.2014;hebamme\n"
        b"\xef\xbb\xbf;;;\nF2;rheindorf;02.03.2014;hebamme\n"
    )
    result = _prepare(tmp_path, raw)
    assert_reconciles(result)
    assert accepted(tmp_path, "erstkontakte")["fall_id"].tolist() == ["\ufeffF1", "F2"]
    report = result.tables["erstkontakte"]
    assert (report.read, report.rejected) == (3, 1)  # the line of a mark and delimiters


def test_a_utf8_head_does_not_decide_a_file_with_windows_1252_further_down(tmp_path, capsys):
    # The whole file decides its encoding (more lines in Windows-1252 than UTF-8 umlauts: it
    # is Windows-1252), not its first 64 KB; and no traceback reaches the terminal.
    raw = raw_folder(tmp_path)
    rows = [f"F{i};rheindorf;01.03.2014;hebamme;x" for i in range(3000)]
    tail = ["F9001;rheindorf;01.03.2014;hebamme;Gärten", "F9002;rheindorf;01.03.2014;hebamme;Höfe"]
    data = (HEADER + ";Straße\n" + "\n".join(rows) + "\n").encode("utf-8") + (
        "\n".join(tail) + "\n"
    ).encode("cp1252")
    (raw / "erstkontakte.csv").write_bytes(data)
    result = _prepare(tmp_path, raw)  # the header, read as Windows-1252, names no address
    report = result.tables["erstkontakte"]
    assert report.files[0].encoding == "Windows-1252"
    assert (report.read, report.accepted) == (3002, 3002)
    assert report.files[0].unknown_columns == ["StraÃŸe"]
    assert "Traceback" not in capsys.readouterr().err


def test_an_xlsx_with_broken_parts_the_values_do_not_need_is_read(tmp_path):
    # Broken document properties and a broken second sheet say nothing about the values of
    # the sheet read: it is read (openpyxl's workbook loader refused the whole file).
    raw = raw_folder(tmp_path)
    written = tmp_path / "w.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Erstkontakte"
    wb.active.append(HEADER.split(";"))
    wb.active.append(["F1", "rheindorf", "01.03.2014", "hebamme"])
    wb.create_sheet("Hinweis").append(["nur ein Hinweis"])
    wb.save(written)
    with (
        zipfile.ZipFile(written) as source,
        zipfile.ZipFile(raw / "erstkontakte.xlsx", "w") as target,
    ):
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename in ("docProps/core.xml", "xl/worksheets/sheet2.xml"):
                data = b"<<< kaputt"
            target.writestr(item, data)
    result = _prepare(tmp_path, raw)
    assert result.tables["erstkontakte"].accepted == 1
    assert accepted(tmp_path, "erstkontakte")["fall_id"].tolist() == ["F1"]
