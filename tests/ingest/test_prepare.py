"""Reading the dialects, typed output, manifest, atomic replacement and the CLI of `aufbereiten`."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_helpers import (
    FIXTURES,
    TODAY,
    accepted,
    assert_reconciles,
    make_config,
    raw_folder,
    reasons_by_line,
    run,
)

from analysis import cli, ingest
from analysis.contract.schema import MANIFEST, TABLES
from analysis.data import column_dtype
from analysis.errors import FhError
from analysis.ingest import write as ingest_write

# --- values -----------------------------------------------------------------------------------


def test_parse_numbers_german_and_plain():
    text = pd.Series(
        [
            "12.190.000,00",
            "12190000.00",
            "1.200",
            "12,5 €",
            "1,234,567",
            "abc",
            "12.19",
            "-3",
            "7",
            "9" * 400,
        ],
        dtype="str",
    )
    got = ingest.parse_numbers(text).tolist()
    expected = [12_190_000.0, 12_190_000.0, 1200.0, 12.5, np.nan, np.nan, 12.19, -3.0, 7.0, np.nan]
    np.testing.assert_array_equal(got, expected)


def test_parse_dates_german_and_iso_only():
    text = pd.Series(
        ["01.03.2014", "1.3.2014", "2014-03-01", "31.02.2014", "2014/03/01", "01.03.14"],
        dtype="str",
    )
    got = ingest.parse_dates(text)
    assert got.dtype == "datetime64[ns]"
    march = pd.Timestamp("2014-03-01")
    assert got.iloc[:3].tolist() == [march, march, march]
    assert got.iloc[3:].isna().all()


# --- dialects -----------------------------------------------------------------------------------


def test_valid_file_codes_labels_mapping_and_jn_aliases(tmp_path):
    result = run(tmp_path, "erstkontakte_gueltig.csv")
    assert result.tables["erstkontakte"].rejected == 0
    ok = accepted(tmp_path, "erstkontakte").set_index(["standort_id", "fall_id"])
    # code, German label, and the mapping "Klinikum Schlebusch" (odd spacing and case)
    assert ok.loc[("rheindorf", "F1"), "zugangsweg"] == "geburtsklinik"
    assert ok.loc[("rheindorf", "F2"), "zugangsweg"] == "geburtsklinik"
    assert ok.loc[("steinbuechel", "F3"), "zugangsweg"] == "geburtsklinik"
    assert ok.loc[("steinbuechel", "F1"), "zugangsweg"] == "unbekannt"  # label "Keine Angabe"
    assert ok.loc[("rheindorf", "F2"), "weitervermittlung"] == "fruehfoerderung"
    assert ok.loc[("rheindorf", "F2"), "lebensphase_kind"] == "m0_6"  # "0–6 Monate"
    # jn: j/n, x/0/1, Nein, empty = unbekannt
    assert ok.loc[("rheindorf", "F2"), ["alleinerziehend", "sgb2_bezug"]].tolist() == ["ja", "nein"]
    row = ok.loc[("steinbuechel", "F3")]
    assert [row["alleinerziehend"], row["sgb2_bezug"], row["migrationshintergrund"]] == [
        "ja",
        "nein",
        "ja",
    ]
    assert ok.loc[("rheindorf", "F2"), "migrationshintergrund"] == "unbekannt"
    # empty optional category: unbekannt where the list has it, else missing
    assert row["zugangsgrund"] == "unbekannt"
    assert pd.isna(row["weitervermittlung"])
    # a site code stays a string
    assert ("007", "F4") in ok.index
    assert_reconciles(result)


def test_without_mapping_the_form_label_is_rejected(tmp_path):
    raw = raw_folder(tmp_path, "erstkontakte_gueltig.csv")
    ingest.prepare(raw, tmp_path / "out", None, today=TODAY)
    assert reasons_by_line(tmp_path, "erstkontakte") == {
        4: "zugangsweg: „klinikum   SCHLEBUSCH“ ist kein bekannter Wert (Code oder Bezeichnung der Liste)"
    }


def test_cp1252_and_utf8_bom_read_the_same(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = run(tmp_path / "a", "erstkontakte_cp1252.csv")
    b = run(tmp_path / "b", "erstkontakte_utf8bom.csv")
    assert a.tables["erstkontakte"].files[0].encoding == "Windows-1252"
    assert b.tables["erstkontakte"].files[0].encoding == "UTF-8 mit BOM"
    fa = pd.read_parquet(tmp_path / "a" / "out" / "erstkontakte.parquet").drop(columns="fall_id")
    fb = pd.read_parquet(tmp_path / "b" / "out" / "erstkontakte.parquet").drop(columns="fall_id")
    pd.testing.assert_frame_equal(fa, fb)
    assert fa.iloc[0]["zugangsweg"] == "kinderarzt"
    assert fa.iloc[0]["zugangsgrund"] == "belastung_eltern"  # "Überforderung" decoded right
    assert fa.iloc[0]["weitervermittlung"] == "fruehfoerderung"  # "Frühförderung"


def test_comma_delimiter_with_quotes_and_line_break_in_a_field(tmp_path):
    result = run(tmp_path, "erstkontakte_komma.csv")
    assert result.tables["erstkontakte"].files[0].delimiter == ","
    ok = accepted(tmp_path, "erstkontakte")
    assert ok["zugangsweg"].astype(str).tolist() == [
        "oeffentlichkeitsarbeit",
        "sonstige",
        "eigeninitiative",
    ]
    assert ok["zugangsgrund"].iloc[0] == "finanzen_wohnen"
    assert ok["weitervermittlung"].iloc[1] == "ehrenamt"  # "Familienpaten /<Zeilenumbruch>Ehrenamt"


def test_line_numbers_count_physical_lines_after_a_multiline_field(tmp_path):
    raw = raw_folder(tmp_path)
    (raw / "erstkontakte.csv").write_text(
        "fall_id;standort_id;datum_erstkontakt;zugangsweg;weitervermittlung\n"
        'A;rheindorf;01.03.2014;hebamme;"Familienpaten /\nEhrenamt"\n'  # lines 2-3
        "\n"  # line 4 blank
        "B;rheindorf;01.03.2014;besenstiel;\n",  # line 5
        encoding="utf-8",
    )
    result = ingest.prepare(raw, tmp_path / "out", None, today=TODAY)
    assert reasons_by_line(tmp_path, "erstkontakte") == {
        5: "zugangsweg: „besenstiel“ ist kein bekannter Wert (Code oder Bezeichnung der Liste)"
    }
    assert result.tables["erstkontakte"].read == 2


def test_tab_delimiter(tmp_path):
    result = run(tmp_path, "erstkontakte_tab.csv")
    assert result.tables["erstkontakte"].files[0].delimiter == "Tab"
    assert accepted(tmp_path, "erstkontakte")["zugangsweg"].tolist() == ["bekannte"]


def test_title_rows_blank_lines_and_trailing_delimiter(tmp_path):
    result = run(tmp_path, "erstkontakte_titelzeilen.csv")
    f = result.tables["erstkontakte"].files[0]
    assert f.header_line == 4
    assert f.skipped_rows == ["Export Erstkontakte Musterstadt", "Stand: 02.01.2015"]
    assert f.unknown_columns == []
    # two data rows; the blank line and the line of bare delimiters are not rows
    assert (f.rows, result.tables["erstkontakte"].accepted) == (2, 2)
    assert accepted(tmp_path, "erstkontakte")["fall_id"].tolist() == ["F10", "F11"]
    summary = ingest.format_summary(result)
    assert "erstkontakte_titelzeilen.csv: 2 Zeilen über der Kopfzeile übersprungen" in summary


def test_unknown_columns_are_dropped_and_reported(tmp_path):
    result = run(tmp_path, "erstkontakte_unbekannte_spalte.csv")
    assert result.tables["erstkontakte"].files[0].unknown_columns == ["Bemerkung"]
    assert list(accepted(tmp_path, "erstkontakte").columns) == list(
        TABLES["erstkontakte"].column_names
    )
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["tabellen"]["erstkontakte"]["unbekannte_spalten"] == ["Bemerkung"]
    assert "unbekannte Spalten nicht übernommen: Bemerkung" in ingest.format_summary(result)


def test_xlsx_sheet_named_like_the_table_with_sheet_row_numbers(tmp_path):
    raw = raw_folder(tmp_path)
    wb = openpyxl.Workbook()
    wb.active.title = "Deckblatt"
    wb.active["A1"] = "Nur ein Deckblatt"
    ws = wb.create_sheet("Erstkontakte")
    ws["A1"] = "Export aus dem Fachverfahren"  # title row 1, blank row 2
    ws.append([])
    ws.append(["Fall-ID", "Standort ID", "Datum Erstkontakt", "Zugangsweg", "Alleinerziehend"])  # 3
    ws.append(["X1", "rheindorf", datetime(2014, 3, 1), "Hebamme / Familienhebamme", True])  # 4
    ws.append(["X2", "steinbuechel", "02.03.2014", "kinderarzt", 0])  # 5
    ws.append(["X3", "rheindorf", datetime(2014, 3, 3), "hebamme", None, "zu viel"])  # 6
    ws.append([7, "rheindorf", "kein Datum", "hebamme"])  # 7: numeric id, bad date
    wb.save(raw / "erstkontakte-2014.xlsx")
    result = ingest.prepare(raw, tmp_path / "out", None, today=TODAY)
    f = result.tables["erstkontakte"].files[0]
    assert (f.sheet, f.header_line, f.skipped_rows) == (
        "Erstkontakte",
        3,
        ["Export aus dem Fachverfahren"],
    )
    ok = accepted(tmp_path, "erstkontakte")
    assert ok["fall_id"].tolist() == ["X1", "X2"]
    assert ok["datum_erstkontakt"].tolist() == [
        pd.Timestamp("2014-03-01"),
        pd.Timestamp("2014-03-02"),
    ]
    assert ok["alleinerziehend"].astype(str).tolist() == ["ja", "nein"]
    reasons = reasons_by_line(tmp_path, "erstkontakte")
    assert reasons[6].startswith("Zeile hat 6 Felder, die Kopfzeile 5")
    assert reasons[7].startswith("datum_erstkontakt: „kein Datum“ ist kein gültiges Datum")
    assert_reconciles(result)


def _workbook(path: Path, rows: list[list], title: str = "Tabelle1", second: bool = False) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = title
    for row in rows:
        wb.active.append(row)
    if second:
        wb.create_sheet("Tabelle2").append(["nur", "ein", "zweites", "Blatt"])
    wb.save(path)


_XLSX_HEADER = ["fall_id", "standort_id", "datum_erstkontakt", "zugangsweg", "alleinerziehend"]


def test_xlsx_rows_are_counted_and_every_rejected_row_named(tmp_path):
    # The first sheet when none is named like the table; title rows (cells joined by one
    # space) and the header are not data; a row shorter than the header has empty cells.
    raw = raw_folder(tmp_path)
    path = raw / "erstkontakte.xlsx"
    _workbook(
        path,
        [
            ["Export", None, "2014"],  # 1: title
            _XLSX_HEADER,  # 2
            ["X1", "rheindorf", "01.03.2014", "hebamme"],  # 3: alleinerziehend empty
            ["X2", "rheindorf", "kein Datum", "hebamme", "ja"],  # 4: rejected
            ["X3", "rheindorf", "03.03.2014", "hebamme", "ja", "zu viel"],  # 5: too wide
        ],
        second=True,
    )
    result = ingest.prepare(raw, tmp_path / "out", None, today=TODAY)
    report = result.tables["erstkontakte"]
    assert (report.read, report.accepted, report.rejected) == (3, 1, 2)
    f = report.files[0]
    assert (f.sheet, f.header_line, f.skipped_rows, f.encoding) == (
        "Tabelle1",
        2,
        ["Export 2014"],
        "XLSX",
    )
    assert f.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert sorted(reasons_by_line(tmp_path, "erstkontakte")) == [4, 5]
    ok = accepted(tmp_path, "erstkontakte")
    assert ok["fall_id"].tolist() == ["X1"]
    assert ok["alleinerziehend"].astype(str).tolist() == ["unbekannt"]


# --- the sheet reader gives exactly what openpyxl gives ------------------------------------------

_XLSX_VALUE = st.one_of(
    st.none(),
    st.text(alphabet=st.sampled_from(list("ab ;,.-äÜ€1")), max_size=6),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.datetimes(min_value=datetime(1901, 1, 1), max_value=datetime(2100, 1, 1)),
    st.dates(min_value=datetime(1901, 1, 1).date(), max_value=datetime(2100, 1, 1).date()),
)


def _openpyxl_rows(path: Path) -> dict[str, list[tuple]]:
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = {}
        for ws in wb.worksheets:
            ws.reset_dimensions()
            # a row the file leaves out comes as [], an empty row element as ()
            rows[ws.title] = [tuple(r) for r in ws.iter_rows(min_row=1, values_only=True)]
        return rows
    finally:
        wb.close()


def _our_rows(path: Path) -> dict[str, list[tuple]]:
    from analysis.ingest.read import _Workbook

    wb = _Workbook(path)
    try:
        return {title: list(wb.rows(part)) for title, part in wb.sheets}
    finally:
        wb.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.integers(1, 3), st.integers(1, 4), _XLSX_VALUE), max_size=14),
    st.booleans(),
)
def test_the_xlsx_reader_reads_every_cell_as_openpyxl_does(cells, write_only):
    # Shared strings (normal mode) and inline strings (write-only mode, like the demo),
    # rows left out, cells left out, dates by their number format, booleans, numbers.
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.xlsx"
        wb = openpyxl.Workbook(write_only=write_only)
        ws = wb.create_sheet("Daten") if write_only else wb.active
        if write_only:
            grid: dict[int, dict[int, object]] = {}
            for row, column, value in cells:
                grid.setdefault(row * 2, {})[column] = value  # every other row left out
            for row in range(1, max(grid, default=0) + 1):
                values = grid.get(row, {})
                ws.append([values.get(c) for c in range(1, max(values, default=0) + 1)])
        else:
            for row, column, value in cells:
                ws.cell(row=row * 2, column=column * 2, value=value)
        wb.create_sheet("Zweites").append(["x", 1])
        wb.save(path)
        assert _our_rows(path) == _openpyxl_rows(path)


_SHEET_XML = (
    '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main"><sheetData>{rows}</sheetData></worksheet>'
)


@pytest.mark.parametrize(
    "rows",
    [
        # no r on rows or cells: counted on
        '<row><c t="inlineStr"><is><t>a</t></is></c><c><v>2</v></c></row><row><c><v>1.5</v></c></row>',
        # a formula's text result, an error, an ISO date, a boolean, an empty value
        '<row r="1"><c r="A1" t="str"><f>A2</f><v>x</v></c><c r="B1" t="e"><v>#N/A</v></c>'
        '<c r="C1" t="d"><v>2014-03-01T00:00:00</v></c><c r="D1" t="b"><v>0</v></c>'
        '<c r="E1"><v></v></c></row>',
        # rich inline text (runs), phonetic text left out; a row number written as 3.0
        '<row r="3.0"><c r="B3" t="inlineStr"><is><r><t>Fam</t></r><r><t>ilie</t></r>'
        '<rPh sb="0" eb="1"><t>x</t></rPh></is></c></row>',
        # a row number again and backwards: skipped as openpyxl skips them
        '<row r="2"><c r="A2"><v>1</v></c></row><row r="2"><c r="A2"><v>2</v></c></row>'
        '<row r="1"><c r="A1"><v>3</v></c></row><row r="4"/>',
        # cells out of order, a cell past the row's last cell
        '<row r="1"><c r="C1"><v>3</v></c><c r="A1"><v>1</v></c></row>',
        # a value's text is what stands before its first child; the first v counts;
        # character references and CDATA are text
        '<row r="1"><c r="A1"><v>1<x/>2</v><v>9</v></c><c r="B1" t="str"><v>&#52;&amp;'
        '<![CDATA[<b>]]></v></c><c r="C1" t="str"><x><v>7</v></x></c></row>',
        # inline text: its t, then each run's t (the last t of each counts); a run
        # without t adds nothing
        '<row r="2"><c r="A2" t="inlineStr"><is><t>a</t><t>b</t><r><x>y</x></r>'
        "<r><t>c</t><t>d</t></r></is><is><t>z</t></is></c>"
        '<c r="B2" t="inlineStr"><is><r><t/></r></is></c><c r="C2" t="inlineStr"/></row>',
        # inline text of one t: empty, or with a child element (the text before it
        # counts); of one run
        '<row r="1"><c r="A1" t="inlineStr"><is><t/></is></c>'
        '<c r="B1" t="inlineStr"><is><t>a<x>b</x>c</t></is></c>'
        '<c r="C1" t="inlineStr"><is><r><t>x</t></r></is></c></row>',
        # a cell written twice, a cell left of the last one, then one further right again,
        # a cell without r after one further left
        '<row r="1"><c r="A1"><v>1</v></c><c r="A1"><v>2</v></c></row>'
        '<row r="2"><c r="C2"><v>3</v></c><c r="A2"><v>1</v></c><c r="D2"><v>4</v></c></row>'
        '<row r="3"><c r="C3"><v>3</v></c><c r="A3"><v>1</v></c><c><v>2</v></c></row>',
        # column letters in lower case, beyond Z, after a space; row numbers in coordinates
        # do not count (the row's own does)
        '<row r="1"><c r="b1"><v>2</v></c><c r="AA1"><v>27</v></c></row>'
        '<row r="2"><c r="B9"><v>2</v></c><c r="c2 "><v>3</v></c><c r="aa2"><v>27</v></c></row>',
        # t and r of another namespace count by their local name, as in openpyxl; a
        # phonetic run does not count
        '<row r="1"><c r="A1" t="inlineStr"><is><x:t xmlns:x="urn:x">a</x:t><t>b</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>c</t><x:r xmlns:x="urn:x"><x:t>d</x:t></x:r></is></c>'
        '<c r="C1" t="inlineStr"><is><t>e</t><rPh sb="0" eb="1"><t>f</t></rPh></is></c></row>',
    ],
)
def test_the_xlsx_reader_reads_hand_written_sheets_as_openpyxl_does(tmp_path, rows):
    path = _hand_written(tmp_path / "t.xlsx", _SHEET_XML.format(rows=rows))
    assert _our_rows(path) == _openpyxl_rows(path)


@pytest.mark.parametrize("coordinate", ["A", "$A$2", "A2B2", "2", "AAAA2"])
def test_an_xlsx_cell_coordinate_openpyxl_refuses_is_refused(tmp_path, coordinate):
    # Also when the same letters stood in a valid coordinate before.
    rows = (
        f'<row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r="{coordinate}"><v>2</v></c></row>'
    )
    path = _hand_written(tmp_path / "t.xlsx", _SHEET_XML.format(rows=rows))
    with pytest.raises(ValueError):
        _openpyxl_rows(path)
    with pytest.raises(ValueError):
        _our_rows(path)


def _hand_written(path: Path, sheet: str | bytes) -> Path:
    """A workbook whose one sheet (Daten) is the given XML (text as UTF-8)."""
    import zipfile

    written = path.with_name("w.xlsx")
    wb = openpyxl.Workbook()
    wb.active.title = "Daten"
    wb.active["A1"] = "x"
    wb.save(written)
    with zipfile.ZipFile(written) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = sheet.encode() if isinstance(sheet, str) else sheet
            target.writestr(item, data)
    written.unlink()
    return path


@pytest.mark.parametrize(
    "declaration",
    [
        # "billion laughs": each entity ten times the one before
        '<!ENTITY a "hahahahaha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">',
        '<!ENTITY b SYSTEM "file:///etc/passwd">',  # an external entity: a file of this host
        '<!ENTITY % p SYSTEM "http://example.invalid/x.dtd"> %p;',  # an external DTD part
        '<!ENTITY b SYSTEM "x" NDATA gif>',  # an unparsed entity
    ],
)
def test_an_xlsx_sheet_declaring_entities_is_refused(tmp_path, declaration):
    # The sheet is parsed by expat directly (not through defusedxml): it must refuse what
    # defusedxml refuses, before any entity is expanded or fetched.
    raw = raw_folder(tmp_path)
    sheet = _SHEET_XML.format(rows='<row r="1"><c r="A1" t="str"><v>&b;</v></c></row>')
    head, rest = sheet.split("<worksheet", 1)
    _hand_written(
        raw / "erstkontakte.xlsx", f"{head}<!DOCTYPE worksheet [{declaration}]><worksheet{rest}"
    )
    with pytest.raises(FhError) as err:
        ingest.prepare(raw, tmp_path / "out", None, today=TODAY)
    assert err.value.message.startswith(
        "erstkontakte.xlsx: Excel-Datei ist nicht lesbar (EntitiesForbidden: "
    )
    assert not (tmp_path / "out").exists()
    if "/etc/passwd" in declaration:  # named as defusedxml names it
        assert err.value.message.endswith(
            "EntitiesForbidden(name='b', system_id='file:///etc/passwd', public_id=None))."
        )


@pytest.mark.parametrize(
    "sheet",
    [
        "",  # empty
        _SHEET_XML.format(rows='<row r="1"><c r="A1"><v>1</v></c></row>')[:-20],  # cut off
        _SHEET_XML.format(rows='<row r="1"><c r="A1" t="str"><v>&foo;</v></c></row>'),
    ],
)
def test_an_xlsx_sheet_that_is_no_xml_is_refused_naming_the_parse_error(tmp_path, sheet):
    # The entity pass leaves a broken sheet to ElementTree, which names it as before.
    raw = raw_folder(tmp_path)
    _hand_written(raw / "erstkontakte.xlsx", sheet)
    with pytest.raises(FhError) as err:
        ingest.prepare(raw, tmp_path / "out", None, today=TODAY)
    assert err.value.message.startswith(
        "erstkontakte.xlsx: Excel-Datei ist nicht lesbar (ParseError: "
    ), err.value.message


def test_an_xlsx_sheet_with_a_doctype_but_no_entities_is_read(tmp_path):
    path = _hand_written(
        tmp_path / "t.xlsx",
        _SHEET_XML.format(rows='<row r="1"><c r="A1" t="str"><v>a&amp;b</v></c></row>').replace(
            "<worksheet", "<!DOCTYPE worksheet><worksheet", 1
        ),
    )
    assert _our_rows(path) == _openpyxl_rows(path) == {"Daten": [("a&b",)]}


def _with_prolog(prolog: str, rows: str, encoding: str = "utf-8") -> bytes:
    """A sheet whose XML has the given text between the XML declaration and the root."""
    head, rest = _SHEET_XML.format(rows=rows).split("<worksheet", 1)
    head = head.replace("UTF-8", encoding.upper())
    return f"{head}{prolog}<worksheet{rest}".encode(encoding)


_ENTITY_DOCTYPE = '<!DOCTYPE worksheet [<!ENTITY b "x">]>'


@pytest.mark.parametrize(
    "sheet",
    [
        # a long comment first: the declaration stands beyond the first chunk read
        _with_prolog(f"<!-- {'x' * 200_000} -->{_ENTITY_DOCTYPE}", '<row r="1"/>'),
        _with_prolog(_ENTITY_DOCTYPE, '<row r="1"/>', "utf-16"),  # another encoding
    ],
)
def test_an_xlsx_sheet_declaring_entities_anywhere_before_its_root_is_refused(tmp_path, sheet):
    # The entity pass reads the prolog up to the root element, however long it is.
    from defusedxml.common import EntitiesForbidden

    path = _hand_written(tmp_path / "t.xlsx", sheet)
    with pytest.raises(EntitiesForbidden):
        _our_rows(path)


def test_an_xlsx_cell_that_reads_like_a_declaration_is_text(tmp_path):
    # After the root element starts, a declaration can only be a cell's text.
    rows = (
        '<row r="1"><c r="A1" t="str"><v>&lt;!DOCTYPE x [&lt;!ENTITY a "b"&gt;]&gt;</v></c>'
        '<c r="B1" t="str"><v><![CDATA[<!DOCTYPE x [<!ENTITY a "b">]>&a;]]></v></c></row>'
    )
    path = _hand_written(tmp_path / "t.xlsx", _with_prolog("<!DOCTYPE worksheet>", rows))
    expected = ('<!DOCTYPE x [<!ENTITY a "b">]>', '<!DOCTYPE x [<!ENTITY a "b">]>&a;')
    assert _our_rows(path) == _openpyxl_rows(path) == {"Daten": [expected]}


@pytest.mark.parametrize(
    "rows",
    [
        '<row r="1"/><!DOCTYPE x [<!ENTITY a "b">]>',  # a declaration after the root starts
        '<row r="1"/>' * 20_000 + "<row>",  # broken far beyond the first chunk
        '<row r="1"><c r="A1" t="str"><v>&b;</v></c></row>',  # an entity never declared
    ],
)
def test_an_xlsx_sheet_broken_after_its_root_starts_is_a_parse_error(tmp_path, rows):
    # The entity pass stops where the root element starts; ElementTree names the error.
    from xml.etree.ElementTree import ParseError

    path = _hand_written(tmp_path / "t.xlsx", _with_prolog("<!DOCTYPE worksheet>", rows))
    with pytest.raises(ParseError):
        _our_rows(path)


def test_an_xlsx_formula_is_read_as_its_value_never_as_the_formula(tmp_path):
    # openpyxl stores no computed value for a formula it writes: the cell reads as empty, so
    # the row is rejected for the missing id; the formula's text reaches no output.
    raw = raw_folder(tmp_path)
    _workbook(
        raw / "erstkontakte.xlsx",
        [_XLSX_HEADER, ['=HYPERLINK("http://x","X9")', "rheindorf", "01.03.2014", "hebamme"]],
    )
    ingest.prepare(raw, tmp_path / "out", None, today=TODAY)
    assert reasons_by_line(tmp_path, "erstkontakte") == {2: "fall_id: Pflichtangabe fehlt"}
    assert "HYPERLINK" not in (tmp_path / "out" / "abgelehnt" / "erstkontakte.csv").read_text(
        encoding="utf-8"
    )


@pytest.mark.parametrize(("limit", "refused"), [(15, False), (14, True)])
def test_an_xlsx_with_more_cells_than_the_limit_is_refused(tmp_path, monkeypatch, limit, refused):
    from analysis.ingest import read

    monkeypatch.setattr(read, "XLSX_MAX_CELLS", limit)
    raw = raw_folder(tmp_path)
    rows = [_XLSX_HEADER, ["X1", "rheindorf", "01.03.2014", "hebamme", "ja"]]
    rows.append(["X2", "rheindorf", "02.03.2014", "hebamme", "ja"])  # 3 rows x 5 = 15 cells
    _workbook(raw / "erstkontakte.xlsx", rows)
    if not refused:
        ingest.prepare(raw, tmp_path / "out", None, today=TODAY)
        return
    with pytest.raises(FhError) as err:
        ingest.prepare(raw, tmp_path / "out", None, today=TODAY)
    assert err.value.message == (
        "erstkontakte.xlsx (Blatt Tabelle1): mehr als 14 Zellen – zu groß für den Excel-Weg. "
        "Bitte die Tabelle als CSV exportieren."
    )


def test_an_xlsx_that_is_a_zip_but_no_workbook_is_refused_with_the_reason(tmp_path):
    import zipfile

    raw = raw_folder(tmp_path)
    with zipfile.ZipFile(raw / "erstkontakte.xlsx", "w") as archive:
        archive.writestr("hallo.txt", "hallo")
    with pytest.raises(FhError) as err:
        ingest.prepare(raw, tmp_path / "out", None, today=TODAY)
    # The German sentence and the kind of error; the library's own words follow it.
    assert err.value.message.startswith(
        "erstkontakte.xlsx: Excel-Datei ist nicht lesbar (KeyError: "
    )
    assert err.value.message.endswith(").")


def test_an_xlsx_without_a_header_names_its_sheet(tmp_path):
    raw = raw_folder(tmp_path)
    _workbook(raw / "erstkontakte.xlsx", [["Nr", "Ort"], [1, "Opladen"]], title="Daten")
    with pytest.raises(FhError) as err:
        ingest.prepare(raw, tmp_path / "out", None, today=TODAY)
    assert err.value.message == (
        "erstkontakte.xlsx (Blatt Daten): keine Kopfzeile gefunden – keine der ersten 10 nicht "
        "leeren Zeilen enthält die Pflichtspalten fall_id, standort_id, datum_erstkontakt, "
        "zugangsweg der Tabelle erstkontakte. Erste Zeile: Nr, Ort."
    )


def test_files_of_one_table_are_concatenated_in_name_order(tmp_path):
    raw = raw_folder(tmp_path, ("erstkontakte_tab.csv", "erstkontakte_2014.csv"))
    (raw / "erstkontakte_2013.csv").write_text(
        "fall_id;standort_id;datum_erstkontakt;zugangsweg\nF40;rheindorf;01.02.2013;hebamme\n",
        encoding="utf-8",
    )
    (raw / "notizen.txt").write_text("nicht zuordenbar", encoding="utf-8")
    result = ingest.prepare(raw, tmp_path / "out", None, today=TODAY)
    names = [f.name for f in result.tables["erstkontakte"].files]
    assert names == ["erstkontakte_2013.csv", "erstkontakte_2014.csv"]
    assert result.unassigned_files == ["notizen.txt"]
    # (rheindorf, F40) twice: the 2013 file comes first in name order and wins
    assert reasons_by_line(tmp_path, "erstkontakte") == {
        2: "Doppelter Schlüssel (standort_id, fall_id) – zuerst in erstkontakte_2013.csv, Zeile 2"
    }


# --- output format ----------------------------------------------------------------------------


def test_parquet_has_exactly_the_processed_dtypes(tmp_path):
    run(
        tmp_path,
        "erstkontakte_gueltig.csv",
        "angebote_fehler.csv",
        "kosten_hze.csv",
        "willkommensbesuche.csv",
        "nutzerbefragung.csv",
    )
    for table in (
        "standorte",
        "erstkontakte",
        "angebote",
        "kosten_hze",
        "willkommensbesuche",
        "nutzerbefragung",
    ):
        frame = accepted(tmp_path, table)
        assert list(frame.columns) == list(TABLES[table].column_names), table
        for column in frame.columns:
            assert frame[column].dtype == column_dtype(table, column), (table, column)


def test_parquet_is_written_in_row_groups_of_fixed_size(tmp_path, monkeypatch):
    """A question for one year reads only the row groups that can hold it; that needs
    groups smaller than the table (pyarrow's default put fifteen years into one)."""
    import pyarrow.parquet as pq

    from analysis.ingest import write

    monkeypatch.setattr(write, "ROW_GROUP_ROWS", 2)
    run(tmp_path, "erstkontakte_gueltig.csv")
    meta = pq.ParquetFile(tmp_path / "out" / "erstkontakte.parquet").metadata
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert sum(sizes) == len(accepted(tmp_path, "erstkontakte")) > 2
    assert set(sizes[:-1]) == {2} and 1 <= sizes[-1] <= 2
    stats = meta.row_group(0).column(2).statistics  # datum_erstkontakt: min and max kept
    assert meta.schema.column(2).name == "datum_erstkontakt" and stats.has_min_max
    # dates and numbers have them (rows are chosen by them), text and categories not
    with_stats = {
        meta.schema.column(i).name
        for i in range(meta.num_columns)
        if meta.row_group(0).column(i).statistics is not None
    }
    assert with_stats == {"datum_erstkontakt", "datum_meldung"}
    run(tmp_path, "kosten_hze.csv")
    meta = pq.ParquetFile(tmp_path / "out" / "kosten_hze.parquet").metadata
    with_stats = {
        meta.schema.column(i).name
        for i in range(meta.num_columns)
        if meta.row_group(0).column(i).statistics is not None
    }
    assert with_stats == {"jahr", "ausgaben_eur", "fallzahl_mittel"}


def test_manifest_reconciles_and_records_hashes(tmp_path):
    result = run(tmp_path, "erstkontakte_fehler.csv", "kosten_hze.csv")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["konfiguration_sha256"] == make_config(tmp_path).sha256
    assert manifest["konfiguration"]["zuordnungen"] == {
        "zugangsweg": {"klinikum schlebusch": "geburtsklinik"}
    }
    tables = manifest["tabellen"]
    assert set(tables) == set(TABLES)
    assert tables["nutzerbefragung"]["vorhanden"] is False
    for entry in tables.values():
        assert entry["gelesen"] == entry["angenommen"] + entry["abgelehnt"]
    e = tables["erstkontakte"]
    assert (e["gelesen"], e["angenommen"], e["abgelehnt"]) == (11, 1, 10)
    raw_bytes = (FIXTURES / "erstkontakte_fehler.csv").read_bytes()
    assert e["dateien"] == [
        e["dateien"][0]
        | {
            "datei": "erstkontakte_fehler.csv",
            "sha256": hashlib.sha256(raw_bytes).hexdigest(),
            "zeilen": 11,
        }
    ]
    parquet = (tmp_path / "out" / "erstkontakte.parquet").read_bytes()
    assert e["parquet_sha256"] == hashlib.sha256(parquet).hexdigest()
    assert not (tmp_path / "out" / "nutzerbefragung.parquet").exists()
    assert_reconciles(result)


@pytest.mark.parametrize("exchange_supported", [True, False])
def test_rerun_replaces_the_folder_and_keeps_readme(tmp_path, monkeypatch, exchange_supported):
    if not exchange_supported:  # the two-rename fallback for systems without renameat2
        monkeypatch.setattr(ingest_write, "_exchange", lambda a, b: False)
    raw = raw_folder(tmp_path, "erstkontakte_gueltig.csv", "kosten_hze.csv")
    out = tmp_path / "out"
    out.mkdir()
    (out / "README.md").write_text("Aufbereitete Daten", encoding="utf-8")
    ingest.prepare(raw, out, None, today=TODAY)
    assert (out / "kosten_hze.parquet").exists()
    (raw / "kosten_hze.csv").unlink()
    ingest.prepare(raw, out, None, today=TODAY)
    assert not (out / "kosten_hze.parquet").exists()  # no stale table from the previous run
    assert (out / "README.md").read_text(encoding="utf-8") == "Aufbereitete Daten"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "raw"]


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="renameat2 gibt es nur unter Linux"
)
def test_the_atomic_swap_exchanges_two_folders_in_one_step(tmp_path, monkeypatch):
    # The fallback (two renames) gives the same end state, so the rerun test above cannot
    # tell whether the atomic swap works at all: checked here directly, with relative paths
    # as `--ziel data/processed` gives them (they resolve against the working directory).
    monkeypatch.chdir(tmp_path)
    a, b = Path("a"), Path("b")
    a.mkdir()
    b.mkdir()
    (a / "alt.txt").write_text("alt", encoding="utf-8")
    (b / "neu.txt").write_text("neu", encoding="utf-8")
    assert ingest_write._exchange(a, b) is True
    assert [p.name for p in a.iterdir()] == ["neu.txt"]
    assert [p.name for p in b.iterdir()] == ["alt.txt"]
    # A folder that does not exist cannot be swapped: no success reported.
    assert ingest_write._exchange(a, Path("fehlt")) is False


@pytest.mark.parametrize(
    ("hostname", "in_name"),
    [
        ("jugendamt-server.stadt.example.de", "jugendamtserverstadt"),  # 20 letters and digits
        ("Rathaus_02", "Rathaus02"),
        ("---", "host"),
    ],
)
def test_clean_stale_reads_back_the_build_folders_this_host_writes(
    tmp_path, monkeypatch, hostname, in_name
):
    monkeypatch.setattr(ingest_write.socket, "gethostname", lambda: hostname)
    target = tmp_path / "processed"
    prefix = ingest_write._work_prefix(target, "neu")
    assert prefix == f".processed.neu-{in_name}-{os.getpid()}-"
    live = tmp_path / f"{prefix}a1"  # this process is building it right now: stays
    dead = tmp_path / f".processed.neu-{in_name}-999999999-b2"  # no such process: removed
    other = tmp_path / ".processed.neu-andererRechner-1-c3"  # another host's: stays
    unrelated = tmp_path / ".processed-kopie"  # sorts first, is none of ours: stays
    for folder in (live, dead, other, unrelated):
        folder.mkdir()
    assert ingest_write.clean_stale(target) == [dead.name]
    assert live.is_dir() and other.is_dir() and unrelated.is_dir() and not dead.exists()


def test_clean_stale_leaves_a_link_alone_and_names_only_what_it_removed(tmp_path, monkeypatch):
    # A symbolic link named like a build folder is not ours (this program makes none): it
    # stays, and so does what it points to. A folder that cannot be removed is not named as
    # removed, and it does not stop the run.
    target = tmp_path / "processed"
    elsewhere = tmp_path / "woanders"
    elsewhere.mkdir()
    (elsewhere / "wichtig.txt").write_text("bleibt", encoding="utf-8")
    link = tmp_path / ".processed.neu-x"
    link.symlink_to(elsewhere, target_is_directory=True)
    stuck = tmp_path / ".processed.neu-y"
    stuck.mkdir()
    monkeypatch.setattr(ingest_write.shutil, "rmtree", lambda path, ignore_errors: None)
    assert ingest_write.clean_stale(target) == []
    assert link.is_symlink() and (elsewhere / "wichtig.txt").is_file() and stuck.is_dir()
    monkeypatch.undo()
    assert ingest_write.clean_stale(target) == [stuck.name]
    assert link.is_symlink() and (elsewhere / "wichtig.txt").is_file() and not stuck.exists()
    # A link named like a parked old state never puts what it points to in the target's place.
    (elsewhere / "processed").mkdir()
    (elsewhere / "processed" / MANIFEST).write_text("fremd", encoding="utf-8")
    parked = tmp_path / ".processed.alt-z"
    parked.symlink_to(elsewhere, target_is_directory=True)
    assert ingest_write.clean_stale(target) == []
    assert not target.exists() and (elsewhere / "processed" / MANIFEST).is_file()


def test_an_interrupt_after_the_swap_is_passed_on_and_the_new_state_stays(tmp_path, monkeypatch):
    # Ctrl-C right after the new state took the target's place: the build folder is gone
    # (it is the target now); the run ends with the interrupt, not with a file error.
    raw = raw_folder(tmp_path, "erstkontakte_gueltig.csv")
    target = tmp_path / "out"
    real_swap = ingest_write._swap_in

    def swap_then_interrupt(build, target):
        real_swap(build, target)
        raise KeyboardInterrupt

    monkeypatch.setattr(ingest_write, "_swap_in", swap_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        ingest.prepare(raw, target, None, today=TODAY)
    assert (target / MANIFEST).is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")] == []


def _fallback_swap(tmp_path, monkeypatch, fail_second_rename):
    """Old and new state of a processed folder, swapped by the two-rename fallback whose
    second rename (build -> target) fails with ``fail_second_rename``."""
    target, build = tmp_path / "processed", tmp_path / "build"
    for folder, text in ((target, "alt"), (build, "neu")):
        folder.mkdir()
        (folder / MANIFEST).write_text(text, encoding="utf-8")
    monkeypatch.setattr(ingest_write, "_exchange", lambda a, b: False)
    real_rename = os.rename

    def rename(src, dst):
        if Path(src) == build:
            raise fail_second_rename
        real_rename(src, dst)

    monkeypatch.setattr(ingest_write.os, "rename", rename)
    return target, build, real_rename


def test_a_failed_second_rename_puts_the_old_state_back(tmp_path, monkeypatch):
    target, build, _ = _fallback_swap(tmp_path, monkeypatch, OSError("Platte voll"))
    with pytest.raises(OSError, match="Platte voll"):
        ingest_write._swap_in(build, target)
    assert (target / MANIFEST).read_text(encoding="utf-8") == "alt"


def test_a_run_killed_between_the_two_renames_is_repaired_by_the_next(tmp_path, monkeypatch):
    # Killed after parking the old state: the target is missing, the old state lies in an
    # "alt" folder of this host and a dead process beside it. The next run puts it back.
    target, build, real_rename = _fallback_swap(tmp_path, monkeypatch, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        ingest_write._swap_in(build, target)
    assert not target.exists()
    parked = [p for p in tmp_path.iterdir() if p.name.startswith(".processed.alt-")]
    assert len(parked) == 1
    monkeypatch.setattr(ingest_write.os, "rename", real_rename)
    dead = parked[0].name.replace(f"-{os.getpid()}-", "-999999999-")
    parked[0].rename(tmp_path / dead)  # the killed run's process id, no longer alive
    assert ingest_write.clean_stale(target) == [dead]
    assert (target / MANIFEST).read_text(encoding="utf-8") == "alt"


def test_the_processed_files_hold_the_contract_columns_only_and_a_readable_manifest(tmp_path):
    # Parquet: the contract's columns and nothing else, not even pandas' row index (no
    # "__index_level_0__", no stored range). The manifest is read by people: indented by
    # two, umlauts as they are, one line break at the end.
    import pyarrow.parquet as pq

    raw = raw_folder(tmp_path, "erstkontakte_gueltig.csv").rename(tmp_path / "Rohdaten März")
    target = tmp_path / "out"
    ingest.prepare(raw, target, make_config(tmp_path), today=TODAY)
    schema = pq.read_schema(target / "erstkontakte.parquet")
    assert schema.names == [c.name for c in TABLES["erstkontakte"].columns]
    assert schema.pandas_metadata["index_columns"] == []
    text = (target / MANIFEST).read_text(encoding="utf-8")
    assert text.startswith('{\n  "erstellt": ') and text.endswith("}\n")
    assert f'"rohdaten": "{raw}"' in text  # "März" as it is, not "M\\u00e4rz"


def test_a_failing_cleanup_never_hides_the_reason_a_run_stopped(tmp_path, monkeypatch):
    # Deleting a build folder can fail (a file held open, a network drive). The run then
    # still ends with the German reason it stopped for, and a stale folder it cannot remove
    # does not stop the next run.
    raw = raw_folder(tmp_path, "erstkontakte_gueltig.csv")
    target = tmp_path / "out"

    def rmtree(path, ignore_errors=False):
        if not ignore_errors:
            raise OSError(16, "Gerät oder Ressource belegt")

    monkeypatch.setattr(ingest_write.shutil, "rmtree", rmtree)
    stale = tmp_path / ".out.neu-x"
    stale.mkdir()
    ingest.prepare(raw, target, make_config(tmp_path), today=TODAY)  # the leftover stays
    assert stale.is_dir() and (target / "erstkontakte.parquet").is_file()

    def full_disk(self, path, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full_disk)
    with pytest.raises(FhError) as refused:
        ingest.prepare(raw, target, make_config(tmp_path), today=TODAY)
    assert refused.value.message.startswith(
        f"Die aufbereiteten Daten konnten nicht nach {target} geschrieben werden: "
    )
    real_swap = ingest_write._swap_in

    def swap_then_interrupt(build, target):
        real_swap(build, target)
        raise KeyboardInterrupt

    monkeypatch.undo()
    monkeypatch.setattr(ingest_write.shutil, "rmtree", rmtree)
    monkeypatch.setattr(ingest_write, "_swap_in", swap_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        ingest.prepare(raw, target, make_config(tmp_path), today=TODAY)


def test_the_new_state_is_built_beside_the_target_under_a_name_the_next_run_knows(
    tmp_path, monkeypatch
):
    # If aufbereiten is killed while building, the next run must recognise the half-built
    # folder (clean_stale) and it must lie on the same file system as the target (rename).
    raw = raw_folder(tmp_path, "erstkontakte_gueltig.csv")
    target = tmp_path / "out"
    seen: list[Path] = []

    def interrupted(build, target):
        seen.append(build)
        raise KeyboardInterrupt

    monkeypatch.setattr(ingest_write, "_swap_in", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ingest.prepare(raw, target, None, today=TODAY)
    (build,) = seen
    assert build.parent == tmp_path
    assert build.name.startswith(ingest_write._work_prefix(target, "neu"))
    assert not build.exists()  # an interrupted run removes its own build folder


def test_a_build_folder_of_a_live_process_counts_as_alive(monkeypatch):
    assert ingest_write._pid_alive(os.getpid())

    def not_ours(pid, signal):
        raise PermissionError  # a process of another user: alive, not ours to judge

    monkeypatch.setattr(ingest_write.os, "kill", not_ours)
    assert ingest_write._pid_alive(1)

    def gone(pid, signal):
        raise ProcessLookupError

    monkeypatch.setattr(ingest_write.os, "kill", gone)
    assert not ingest_write._pid_alive(1)


def test_summary_is_german_with_german_numbers(tmp_path):
    result = run(tmp_path, "erstkontakte_fehler.csv")
    result.tables["erstkontakte"].read = 1234567  # only to see the number format
    text = ingest.format_summary(result)
    assert "1.234.567" in text
    assert "Häufigste Ablehnungsgründe" in text
    assert "abgelehnt" in text and str(tmp_path / "out" / "abgelehnt") in text
    assert "Nicht vorhanden (optional" in text


# --- robustness: the CSV reader raises nothing but FhError --------------------------------------

_HEADER = b"fall_id;standort_id;datum_erstkontakt;zugangsweg\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400), st.booleans())
def test_csv_reader_raises_only_fherror_on_arbitrary_bytes(data, with_header):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "erstkontakte.csv"
        path.write_bytes((_HEADER if with_header else b"") + data)
        try:
            sheet = ingest.read_csv_file(path, TABLES["erstkontakte"])
        except FhError as exc:
            assert exc.exit_code == 2 and "erstkontakte.csv" in exc.message
        else:
            assert sheet.report.rows == len(sheet.frame) + len(sheet.bad_rows)


_CELL = st.text(alphabet=st.sampled_from([*list('ab1;,"\n\r\t .-äÜ€'), "\x81"]), max_size=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_CELL, max_size=6), max_size=8), st.sampled_from(["utf-8", "cp1252"]))
def test_csv_reader_on_csv_like_text(rows, encoding):
    text = "fall_id;standort_id;datum_erstkontakt;zugangsweg\n" + "\n".join(
        ";".join(r) for r in rows
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "erstkontakte.csv"
        path.write_bytes(text.encode(encoding, errors="replace"))
        try:
            sheet = ingest.read_csv_file(path, TABLES["erstkontakte"])
        except FhError:
            return
        assert sheet.report.rows == len(sheet.frame) + len(sheet.bad_rows)
        assert sheet.frame.column("_zeile").to_pandas().is_monotonic_increasing


_PLAIN_CELL = st.text(alphabet=st.sampled_from(list("ab1;, \t\r\näÜ")), max_size=7)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.lists(_PLAIN_CELL, max_size=6), max_size=8),
    st.booleans(),
    st.sampled_from(["", "Export\n", "\n;\nTitel;;\n"]),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.sampled_from([1 << 24, 64]),
)
def test_the_fast_csv_reader_splits_lines_as_the_general_one(rows, trailing, title, newline, block):
    # Files without quotes are split by pyarrow (lines of the wrong width reported with
    # their number); the general reader groups lines into records in Python. Both must
    # give the same cells, lines, rejected lines and reasons, also for blank lines, lines of
    # only delimiters, line breaks inside cells and lines that are too long (limit 12 here).
    # Blocks of 64 bytes make pyarrow return a column in pieces, each with its own
    # dictionary (and read a line longer than a block again as one block).
    from analysis.ingest import read

    header = "fall_id;standort_id;datum_erstkontakt;zugangsweg" + (";" if trailing else "")
    text = title.replace("\n", newline) + header + newline + newline.join(";".join(r) for r in rows)
    table = TABLES["erstkontakte"]
    original, defaults = read.MAX_LINE_CHARS, read._arrow_options.__defaults__
    read.MAX_LINE_CHARS = 12
    read._arrow_options.__defaults__ = (block, *defaults[1:])
    try:
        head = read._head_lines(text)
        fast = read._read_plain("t.csv", table, text.encode("utf-8"), head, set())
        general = read._read_quoted("t.csv", table, text, set())
    finally:
        read.MAX_LINE_CHARS, read._arrow_options.__defaults__ = original, defaults
    assert fast is not None
    assert fast[0].to_pylist() == general[0].to_pylist()
    assert fast[1:] == general[1:]


_ANY_CELL = st.text(
    alphabet=st.sampled_from([*list('ab1;,"\n\r\t .äÜ€'), "\x81", "\x00"]), max_size=6
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.lists(_ANY_CELL, max_size=5), max_size=6),
    st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "mixed"]),
)
def test_reading_utf8_without_decoding_gives_what_decoding_gives(rows, encoding):
    # The usual file (UTF-8, no quotes) is split by pyarrow without decoding it in Python;
    # anything else (another encoding, a line in another encoding, quotes, NUL bytes) goes
    # the decoding way. Both ways must read every file alike: same cells, lines, rejects,
    # encoding and refusals.
    from analysis.ingest import read

    lines = ["fall_id;standort_id;datum_erstkontakt;zugangsweg", *(";".join(r) for r in rows)]
    if encoding == "mixed":  # one line in Windows-1252 in a UTF-8 file
        data = b"\n".join(
            line.encode("cp1252", errors="replace") if i == 1 else line.encode("utf-8")
            for i, line in enumerate(lines)
        )
    else:
        data = "\n".join(lines).encode(encoding, errors="replace")

    def outcome():
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "erstkontakte.csv"
            path.write_bytes(data)
            try:
                sheet = read.read_csv_file(path, TABLES["erstkontakte"])
            except FhError as exc:
                return exc.message
            return (
                sheet.frame.to_pylist(),
                sheet.bad_rows,
                None if sheet.encoding_rows is None else sheet.encoding_rows.tolist(),
                sheet.report,
            )

    fast = outcome()
    original = read._read_utf8
    read._read_utf8 = lambda name, table, data: None
    try:
        decoded = outcome()
    finally:
        read._read_utf8 = original
    assert fast == decoded


def test_a_header_after_long_title_lines_is_found_without_decoding(tmp_path, monkeypatch):
    # Nine title lines of 10,000 characters put the header past the first 64 KB the fast
    # reader looks at first: it looks further, as the decoding reader does.
    from analysis.ingest import read

    path = tmp_path / "erstkontakte.csv"
    titles = "".join(f"Titel {i} " + "x" * 10_000 + "\r\n" for i in range(9))
    path.write_bytes(
        (
            titles
            + "fall_id;standort_id;datum_erstkontakt;zugangsweg\r\nF1;a;01.03.2014;hebamme\r\n"
        ).encode()
    )
    called = []
    original = read._read_decoded
    monkeypatch.setattr(read, "_read_decoded", lambda *a: called.append(1) or original(*a))
    sheet = read.read_csv_file(path, TABLES["erstkontakte"])
    assert not called  # the fast reader read it
    assert (sheet.report.header_line, len(sheet.report.skipped_rows)) == (10, 9)
    assert sheet.frame.column("_zeile").to_pylist() == [11]
    assert sheet.frame.column("fall_id").to_pylist() == ["F1"]


# --- command line -------------------------------------------------------------------------------


def _toml(tmp_path: Path) -> Path:
    make_config(tmp_path)
    return tmp_path / "fh-analytik.toml"


def test_cli_aufbereiten_exit_0_with_rejects(tmp_path, capsys, monkeypatch):
    calls = []
    monkeypatch.setattr(ingest, "give_back_memory", lambda: calls.append(1))
    raw = raw_folder(tmp_path, "erstkontakte_fehler.csv")
    code = cli.main(
        [
            "--konfig",
            str(_toml(tmp_path)),
            "aufbereiten",
            "--rohdaten",
            str(raw),
            "--ziel",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "erstkontakte" in out and "Häufigste Ablehnungsgründe" in out
    assert (tmp_path / "out" / "manifest.json").exists()
    assert calls == [1]  # the command gives freed memory back at once


def test_aufbereiten_tunes_only_a_process_of_its_own(tmp_path, monkeypatch):
    # python -m analysis.cli / the console script (run) tune the process for aufbereiten;
    # main(), as tests and notebooks call it, leaves the caller's process as it is.
    before = sys.getswitchinterval()
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    raw = raw_folder(tmp_path, "erstkontakte_gueltig.csv")
    argv = ["aufbereiten", "--rohdaten", str(raw), "--ziel", str(tmp_path / "out")]
    assert cli.main(argv) == 0
    assert sys.getswitchinterval() == before
    assert "ARROW_DEFAULT_MEMORY_POOL" not in os.environ
    code = (
        "import os, sys\n"
        "from analysis import cli\n"
        f"sys.argv = ['fh-analytik', *{argv!r}]\n"
        "cli.main = lambda: 0\n"  # only what run() itself sets
        "cli.run()\n"
        "cli._run(cli.build_parser().parse_args(sys.argv[1:]))\n"
        "print(sys.getswitchinterval(), os.environ.get('OPENBLAS_NUM_THREADS'),\n"
        "      os.environ.get('ARROW_DEFAULT_MEMORY_POOL'))\n"
    )
    tuned = ("OPENBLAS_NUM_THREADS", "ARROW_DEFAULT_MEMORY_POOL")
    env = {k: v for k, v in os.environ.items() if k not in tuned}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    interval, blas, pool = done.stdout.split()[-3:]
    assert float(interval) == pytest.approx(0.05) and blas == "1" and pool == "system"


def test_tuning_gives_all_of_arrow_the_system_allocator():
    # Arrow reads its default pool once, when pyarrow first asks for it: the command line
    # loads no pyarrow before aufbereiten is tuned, so Arrow's own default (not only the
    # pool pyarrow passes, which give_back_memory switches) is the system allocator.
    code = (
        "import sys\n"
        "from analysis import cli\n"
        "loaded = 'pyarrow' in sys.modules\n"
        "cli._tune_for_preparation()\n"
        "import pyarrow as pa\n"
        "print(loaded, pa.default_memory_pool().backend_name)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert done.stdout.split() == ["False", "system"]
    # and a choice of the caller's is kept
    env["ARROW_DEFAULT_MEMORY_POOL"] = "jemalloc"
    done = subprocess.run(
        [sys.executable, "-c", code + "import os; print(os.environ['ARROW_DEFAULT_MEMORY_POOL'])"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    assert done.stdout.split()[-1] == "jemalloc"


def test_give_back_memory_switches_arrow_and_glibc_in_its_process():
    # In a process of its own: the setting holds for the whole process.
    code = (
        "import pyarrow as pa\n"
        "from analysis.ingest import give_back_memory\n"
        "before = pa.default_memory_pool().backend_name\n"
        "print(give_back_memory(), before, pa.default_memory_pool().backend_name)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    glibc = sys.platform.startswith("linux") and os.confstr("CS_GNU_LIBC_VERSION") is not None
    took, before, after = done.stdout.split()
    assert after == "system", before
    assert took == str(glibc)


def test_cli_aufbereiten_exit_2_for_an_unusable_file(tmp_path, capsys):
    raw = raw_folder(tmp_path, "erstkontakte_gueltig.csv", "erstkontakte_pflichtspalte_fehlt.csv")
    code = cli.main(
        [
            "--konfig",
            str(_toml(tmp_path)),
            "aufbereiten",
            "--rohdaten",
            str(raw),
            "--ziel",
            str(tmp_path / "out"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "Fehler: erstkontakte_pflichtspalte_fehlt.csv: Pflichtspalte(n) fehlen: zugangsweg"
    )
    assert not (tmp_path / "out").exists()


def test_cli_missing_raw_folder_exit_2(tmp_path, capsys):
    code = cli.main(
        [
            "--konfig",
            str(_toml(tmp_path)),
            "aufbereiten",
            "--rohdaten",
            str(tmp_path / "nix"),
            "--ziel",
            str(tmp_path / "out"),
        ]
    )
    assert code == 2
    assert "Rohdatenordner" in capsys.readouterr().err


@pytest.mark.parametrize(
    "quoted", [False, True], ids=["ohne_anfuehrungszeichen", "mit_anfuehrungszeichen"]
)
def test_crlf_and_lone_cr_line_endings_keep_editor_line_numbers(tmp_path, quoted):
    # With a quote the file takes the csv-module path, which splits the lines itself.
    first = b'"A"' if quoted else b"A"
    raw = raw_folder(tmp_path)
    (raw / "erstkontakte.csv").write_bytes(
        b"fall_id;standort_id;datum_erstkontakt;zugangsweg\r\n"
        + first
        + b";rheindorf;01.03.2014;hebamme\r\n"  # line 2
        b"\r\n"  # line 3 blank
        b"B;rheindorf;01.03.2014;besenstiel\r"  # line 4, old Mac line end
        b"C;rheindorf;01.03.2014;kinderarzt\r\n"  # line 5
    )
    result = ingest.prepare(raw, tmp_path / "out", None, today=TODAY)
    assert list(reasons_by_line(tmp_path, "erstkontakte")) == [4]
    assert accepted(tmp_path, "erstkontakte")["fall_id"].tolist() == ["A", "C"]
    assert result.tables["erstkontakte"].read == 3


@pytest.mark.parametrize(
    "quoted", [False, True], ids=["ohne_anfuehrungszeichen", "mit_anfuehrungszeichen"]
)
@pytest.mark.parametrize("ending", [b"\r\n", b"\r"], ids=["CRLF", "CR"])
def test_a_line_in_another_encoding_is_found_by_its_editor_line_number(tmp_path, quoted, ending):
    # The encoding check counts physical lines itself; CRLF is one line end, a lone CR too.
    first = b'"A"' if quoted else b"A"
    lines = [
        b"fall_id;standort_id;datum_erstkontakt;zugangsweg;weitervermittlung",
        first + "X;rheindorf;01.03.2014;hebamme;Frühförderung".encode(),  # 2
        b"",  # 3
        "B;rheindorf;01.03.2014;hebamme;Frühförderung".encode(),  # 4
        "C;rheindorf;01.03.2014;hebamme;Frühförderung".encode("cp1252"),  # 5
        "D;rheindorf;01.03.2014;hebamme;Frühförderung".encode(),  # 6
    ]
    raw = raw_folder(tmp_path)
    (raw / "erstkontakte.csv").write_bytes(ending.join(lines) + ending)
    result = ingest.prepare(raw, tmp_path / "out", None, today=TODAY)
    report = result.tables["erstkontakte"]
    assert report.files[0].encoding_error_lines == [5]
    assert list(reasons_by_line(tmp_path, "erstkontakte")) == [5]
    assert (report.read, report.accepted) == (4, 3)


def test_quoted_and_unquoted_files_give_the_same_outcome(tmp_path):
    # A quote anywhere sends a file through the csv-module path instead of pyarrow's fast
    # path; both must report the same lines and reasons.
    text = (FIXTURES / "erstkontakte_fehler.csv").read_text(encoding="utf-8")
    quoted = text.replace(
        "E1;rheindorf;03.03.2014;;geburtsklinik", 'E1;rheindorf;03.03.2014;;"geburtsklinik"', 1
    )
    assert quoted != text
    outcomes = []
    for name, content in (("plain", text), ("quoted", quoted)):
        folder = tmp_path / name
        folder.mkdir()
        raw = raw_folder(folder)
        (raw / "erstkontakte.csv").write_text(content, encoding="utf-8")
        result = ingest.prepare(raw, folder / "out", None, today=TODAY)
        outcomes.append(
            (reasons_by_line(folder, "erstkontakte"), result.tables["erstkontakte"].accepted)
        )
    assert outcomes[0] == outcomes[1]
    assert len(outcomes[0][0]) == 10


def _summary_result(*, rejected: bool) -> ingest.IngestResult:
    from collections import Counter

    from analysis.ingest.manifest import FileReport, IngestResult, TableReport

    long_title = "Auswertung " + "x" * 90  # 101 characters: cut to 80
    files = [
        FileReport(
            "erstkontakte_2013.csv",
            "0" * 64,
            skipped_rows=[long_title, "Stand: 31.12.2013", "dritte Zeile"],
            unknown_columns=["Bemerkung"],
            encoding="cp1252",
            encoding_error_lines=[12, 1204, 3, 4, 5, 6],
        ),
        FileReport(
            "erstkontakte_2014.csv",
            "1" * 64,
            skipped_rows=["Titel"],
            unknown_columns=["Bemerkung"],
            encoding="utf-8",
            encoding_error_lines=[7],
        ),
        FileReport(
            "erstkontakte_2015.csv",
            "2" * 64,
            skipped_rows=["y" * 80],  # exactly 80 characters: shown whole
            unknown_columns=["Notiz", "Name"],
            encoding="utf-8",
            encoding_error_lines=[1, 2, 3, 4, 5],  # exactly five: no "…"
        ),
    ]
    contacts = TableReport(
        "erstkontakte",
        True,
        files=files,
        read=12345,
        accepted=12340 if rejected else 12345,
        rejected=5 if rejected else 0,
        reason_counts=Counter({"a": 3, "b": 1, "c": 1, "d": 1} if rejected else {}),
    )
    sites = TableReport("standorte", True, read=4, accepted=4)
    return IngestResult(
        raw_dir=Path("roh"),
        processed_dir=Path("daten"),
        created="2026-12-01T12:00:00",
        config_sha256="abcdef0123456789" * 4,
        tables={
            "standorte": sites,
            "erstkontakte": contacts,
            "kosten_hze": TableReport("kosten_hze", False),
            "finanzierung": TableReport("finanzierung", False),
        },
        unassigned_files=["notizen.txt", "alt.csv"],
        config_file=None,
        label_mappings=1234,
        notes=["Hinweis eins"],
    )


def test_the_summary_of_aufbereiten_reads_exactly_so():
    # Every part of the printed reconciliation, with German numbers, singular and plural,
    # cut titles (80 characters), at most two skipped rows and five lines shown, one line per
    # set of unknown columns, the three most frequent reasons.
    text = ingest.format_summary(_summary_result(rejected=True))
    title = "Auswertung " + "x" * 68 + "…"
    assert text.split("\n") == [
        "Aufbereitung: roh → daten",
        "",
        "Tabelle                  gelesen   angenommen   abgelehnt",
        "standorte                      4            4           0",
        "erstkontakte              12.345       12.340           5",
        "Summe                     12.349       12.344           5",
        "",
        "Nicht vorhanden (optional; Kennzahlen daraus bleiben leer): kosten_hze, finanzierung",
        "",
        "Hinweise zu den Dateien:",
        f"  erstkontakte_2013.csv: 3 Zeilen über der Kopfzeile übersprungen ({title} | "
        "Stand: 31.12.2013)",
        "  erstkontakte_2014.csv: 1 Zeile über der Kopfzeile übersprungen (Titel)",
        f"  erstkontakte_2015.csv: 1 Zeile über der Kopfzeile übersprungen ({'y' * 80})",
        "  erstkontakte_2013.csv: als cp1252 gelesen; 6 Zeilen in anderer Zeichenkodierung "
        "abgelehnt (Zeile 12, 1.204, 3, 4, 5 …)",
        "  erstkontakte_2014.csv: als utf-8 gelesen; 1 Zeile in anderer Zeichenkodierung "
        "abgelehnt (Zeile 7)",
        "  erstkontakte_2015.csv: als utf-8 gelesen; 5 Zeilen in anderer Zeichenkodierung "
        "abgelehnt (Zeile 1, 2, 3, 4, 5)",
        "  erstkontakte_2013.csv und 1 weitere: unbekannte Spalten nicht übernommen: Bemerkung",
        "  erstkontakte_2015.csv: unbekannte Spalten nicht übernommen: Notiz, Name",
        "",
        "Hinweis eins",
        "",
        "Keiner Tabelle zugeordnet (ignoriert): notizen.txt, alt.csv",
        "",
        "Häufigste Ablehnungsgründe:",
        "  erstkontakte (5 → abgelehnt/erstkontakte.csv): a (3×); b (1×); c (1×)",
        "Abgelehnte Zeilen mit Datei, Zeilennummer und Gründen: daten/abgelehnt/",
        "Konfiguration: Standardwerte (SHA-256 abcdef012345…, 1.234 eigene Zuordnungen von "
        "Bezeichnungen)",
        "Manifest: daten/manifest.json",
    ]


def test_the_summary_says_when_nothing_was_rejected():
    result = _summary_result(rejected=False)
    result.config_file = "fh-analytik.toml"
    lines = ingest.format_summary(result).split("\n")
    assert lines[-4:] == [
        "",
        "Keine Zeile abgelehnt.",
        "Konfiguration: fh-analytik.toml (SHA-256 abcdef012345…, 1.234 eigene Zuordnungen von "
        "Bezeichnungen)",
        "Manifest: daten/manifest.json",
    ]
    assert "Häufigste Ablehnungsgründe:" not in lines
