"""The XLSX reader without openpyxl reads every workbook part exactly as openpyxl does.

openpyxl (installed for the tests) is the reference: the workbook's sheets, shared strings,
date styles and epoch and every sheet's rows are compared with what
``load_workbook(read_only=True, data_only=True)`` gives, for hand-made packages covering
each rule, for workbooks openpyxl writes, and for the demo's files; the small value rules
(date formats, serial dates, ISO dates, numbers, coordinates) are compared directly.
"""

from __future__ import annotations

import datetime
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles import numbers as openpyxl_numbers
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils import cell as openpyxl_cell
from openpyxl.utils import datetime as openpyxl_datetime
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._reader import _cast_number

from analysis.ingest import xlsx_rules
from analysis.ingest.read import _Workbook

_NS = "http://schemas.openxmlformats.org"
_MAIN = f"{_NS}/spreadsheetml/2006/main"
_REL = f"{_NS}/officeDocument/2006/relationships"
_SPREADSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def _openpyxl_view(path: Path) -> dict:
    """What openpyxl makes of a workbook: sheets (title, part), strings, date styles, epoch
    and each sheet's rows (a left-out row as (), the stated size not trusted).

    The steps of ``load_workbook(read_only=True, data_only=True)`` up to its worksheets,
    which are read-only worksheets on the same parts (its chart sheet reader, which the
    values never need, fails on a chart sheet without relationships)."""
    reader = ExcelReader(path, read_only=True, data_only=True, keep_links=False)
    try:
        reader.read_manifest()
        reader.read_strings()
        reader.read_workbook()
        apply_stylesheet(reader.archive, reader.wb)
        wb = reader.wb
        sheets = [
            (sheet.name, rel.target)
            for sheet, rel in reader.parser.find_sheets()
            if rel.target in reader.valid_files and "chartsheet" not in rel.Type
        ]
        rows = {}
        for title, part in sheets:
            ws = ReadOnlyWorksheet(wb, title, part, reader.shared_strings)
            ws.reset_dimensions()
            rows[title] = [tuple(r) for r in ws.iter_rows(min_row=1, values_only=True)]
        return {
            "sheets": sheets,
            "strings": list(reader.shared_strings),
            "dates": set(wb._date_formats),
            "spans": set(wb._timedelta_formats),
            "epoch": wb.epoch,
            "rows": rows,
        }
    finally:
        reader.archive.close()


def _our_view(path: Path) -> dict:
    wb = _Workbook(path)
    try:
        return {
            "sheets": list(wb.sheets),
            "strings": list(wb.strings),
            "dates": set(wb.dates),
            "spans": set(wb.spans),
            "epoch": wb.epoch,
            "rows": {title: list(wb.rows(part)) for title, part in wb.sheets},
        }
    finally:
        wb.close()


def _sheet(rows: str) -> str:
    return (
        f'<?xml version="1.0"?><worksheet xmlns="{_MAIN}"><sheetData>{rows}</sheetData></worksheet>'
    )


def _styles(formats: dict[int, str], xf_ids: list[int | None]) -> str:
    """A styles part: custom number formats and cell styles by number format id (None: a
    style without numFmtId)."""
    fmts = "".join(
        f'<numFmt numFmtId="{i}" formatCode="{code.replace(chr(34), "&quot;")}"/>'
        for i, code in formats.items()
    )
    xfs = "".join("<xf/>" if i is None else f'<xf numFmtId="{i}"/>' for i in xf_ids)
    return (
        f'<?xml version="1.0"?><styleSheet xmlns="{_MAIN}"><numFmts count="{len(formats)}">'
        f'{fmts}</numFmts><cellXfs count="{len(xf_ids)}">{xfs}</cellXfs></styleSheet>'
    )


def _base_parts() -> dict[str, str]:
    """A package of two sheets (relative and absolute targets), shared strings and styles."""
    return {
        "[Content_Types].xml": f'<?xml version="1.0"?><Types xmlns="{_NS}/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.'
        'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
        f'"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="{_SPREADSHEET}'
        '.sheet.main+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="'
        f'{_SPREADSHEET}.sharedStrings+xml"/></Types>',
        "_rels/.rels": f'<?xml version="1.0"?><Relationships xmlns="{_NS}/package/2006/'
        f'relationships"><Relationship Id="rId1" Type="{_REL}/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0"?><workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
        '<sheets><sheet name="Daten" sheetId="1" r:id="rId1"/>'
        '<sheet name="Zweites" sheetId="2" r:id="rId2"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0"?><Relationships xmlns="{_NS}/'
        f'package/2006/relationships"><Relationship Id="rId1" Type="{_REL}/worksheet" '
        f'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{_REL}/worksheet" '
        'Target="/xl/worksheets/sheet2.xml"/></Relationships>',
        "xl/sharedStrings.xml": f'<?xml version="1.0"?><sst xmlns="{_MAIN}"><si><t>a</t></si>'
        "</sst>",
        "xl/styles.xml": _styles({}, [0, 14]),
        "xl/worksheets/sheet1.xml": _sheet(
            '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" s="1"><v>45000</v></c></row>'
        ),
        "xl/worksheets/sheet2.xml": _sheet('<row r="1"><c r="A1"><v>2</v></c></row>'),
    }


def _package(path: Path, parts: dict[str, str | bytes | None]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            if data is not None:
                archive.writestr(name, data)
    return path


def _with(**changes: str | None) -> dict[str, str | bytes | None]:
    """The base package with parts replaced (by their name, "/" and "." as "_"), None
    removing one."""
    parts: dict[str, str | bytes | None] = dict(_base_parts())
    names = {re.sub(r"\W", "_", name).strip("_"): name for name in parts}
    for key, data in changes.items():
        parts[names.get(key, key)] = data
    return parts


# date styles: built-in ids around the date ones, custom formats by their rules
_FORMATS = {
    164: "dd.mm.yyyy",
    165: "[h]:mm",
    166: "[Red]0.00",
    167: '"Tag "0',
    168: "General",
    169: "0.00;[Red]dd.mm",  # a date only in the second section
    170: "[$-407]d. mmmm yyyy",
    171: "0_d",  # escaped by _: no date
    172: '\\d0"h"',
    173: "[mm]:ss",
    174: "[ss].00",
    175: "hh:mm:ss.000",
    176: "[RED][h]:mm:ss",
    177: "[Blue]#,##0.00 €",
    178: "[H]:MM:SS",  # durations in capitals
    179: "[MM]:SS",
    14: "0.00",  # a custom format taking a built-in's id wins over it
}
_XF_IDS = [None, *range(50), *_FORMATS]
_DATE_ROWS = "".join(
    f'<row r="{row}">'
    + "".join(
        f'<c r="{column}{row}" s="{style}"><v>{value}</v></c>'
        for column, value in zip(
            "ABCDEFGH",
            ["0.5", "1", "59", "60", "61", "45000.25", "-1", "0.9999999999"],  # the last: a day
            strict=True,
        )
    )
    + "</row>"
    for row, style in enumerate(range(len(_XF_IDS)), start=1)
)

_STRINGS = (
    f'<?xml version="1.0"?><sst xmlns="{_MAIN}">'
    "<si><t>plain</t></si>"
    '<si><r><rPr><b/></rPr><t>Fam</t></r><r><t xml:space="preserve">ilie </t></r></si>'
    '<si><t>Ka</t><rPh sb="0" eb="1"><t>ka</t></rPh><phoneticPr fontId="1"/></si>'
    "<si><t>a_x005F_x000D_b</t></si>"
    "<si><t>x005F_x005F_</t></si>"
    "<si><t/></si>"
    "<si></si>"
    "<si><t>first</t><t>last</t><r><t>r1</t><t>r2</t></r><r><rPr/></r></si>"
    f'<si><x:t xmlns:x="urn:other">other namespace</x:t></si>'
    "<si><r><t/></r><r><t>after empty</t></r></si>"
    "</sst>"
)

_CASES = {
    "base": _with(),
    "shared strings: runs, phonetic runs, x005F_, empty, several t": _with(
        xl_sharedStrings_xml=_STRINGS,
        xl_worksheets_sheet1_xml=_sheet(
            '<row r="1">'
            + "".join(f'<c r="{c}1" t="s"><v>{i}</v></c>' for i, c in enumerate("ABCDEFGHIJ"))
            + "</row>"
        ),
    ),
    "date styles, 1900": _with(
        xl_styles_xml=_styles(_FORMATS, _XF_IDS),
        xl_worksheets_sheet1_xml=_sheet(_DATE_ROWS),
    ),
    **{
        f"date styles, date1904={flag}": _with(
            xl_styles_xml=_styles(_FORMATS, _XF_IDS),
            xl_worksheets_sheet1_xml=_sheet(_DATE_ROWS),
            xl_workbook_xml=_base_parts()["xl/workbook.xml"].replace(
                "<sheets>", f'<workbookPr date1904="{flag}"/><sheets>'
            ),
        )
        for flag in ("1", "true", "false", "f", "0", "", "False")
    },
    "a sheet linked by a plain id, the other by r:id": _with(
        xl_workbook_xml=_base_parts()["xl/workbook.xml"].replace('r:id="rId1"', 'id="rId1"')
    ),
    "a sheet with both ids: r:id counts": _with(
        xl_workbook_xml=_base_parts()["xl/workbook.xml"].replace(
            'r:id="rId1"', 'id="rId2" r:id="rId1"'
        )
    ),
    "a sheet linked by an id of another namespace only": _with(
        xl_workbook_xml=_base_parts()["xl/workbook.xml"].replace(
            'r:id="rId1"', 'x:id="rId1" xmlns:x="urn:x"'
        )
    ),
    "relationship type as openpyxl's shorthand": _with(
        xl__rels_workbook_xml_rels=_base_parts()["xl/_rels/workbook.xml.rels"].replace(
            f'Type="{_REL}/worksheet" Target="worksheets', 'type="worksheet" Target="worksheets'
        )
    ),
    "the shorthand wins over Type (a chart sheet)": _with(
        xl__rels_workbook_xml_rels=_base_parts()["xl/_rels/workbook.xml.rels"].replace(
            'Target="worksheets', 'type="chartsheet" Target="worksheets'
        )
    ),
    "no styles part": _with(xl_styles_xml=None),
    "styles without cell styles": _with(
        xl_styles_xml=f'<?xml version="1.0"?><styleSheet xmlns="{_MAIN}"/>'
    ),
    "values: numbers, booleans, inline strings, errors, ISO dates": _with(
        xl_worksheets_sheet1_xml=_sheet(
            '<row r="1"><c r="A1"><v>1</v></c><c r="B1"><v>1.0</v></c><c r="C1"><v>1E3</v></c>'
            '<c r="D1"><v>-0</v></c><c r="E1"><v>007</v></c><c r="F1"><v>1e-3</v></c>'
            '<c r="G1"><v>12345678901234567890</v></c></row>'
            '<row r="2"><c r="A2" t="b"><v>1</v></c><c r="B2" t="b"><v>0</v></c>'
            '<c r="C2" t="inlineStr"><is><t>inline</t></is></c><c r="D2" t="e"><v>#DIV/0!</v>'
            '</c><c r="E2" t="str"><f>A1</f><v>text</v></c></row>'
            '<row r="3"><c r="A3" t="d"><v>2014-03-01</v></c>'
            '<c r="B3" t="d"><v>2014-03-01T12:30:15.250</v></c><c r="C3" t="d"><v>12:30</v></c>'
            '<c r="D3" t="d"><v>PT1H30M</v></c><c r="E3" t="d"><v>2014-03-01T08:00:00Z</v></c>'
            "</row>"
        )
    ),
    "a chart sheet, a missing part, a sheet without id": _with(
        xl_workbook_xml=f'<?xml version="1.0"?><workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
        '<sheets><sheet name="Diagramm" sheetId="3" r:id="rId3"/>'
        '<sheet name="Fehlt" sheetId="4" r:id="rId4"/><sheet name="Ohne" sheetId="5"/>'
        '<sheet name="Daten" sheetId="1" r:id="rId1"/>'
        '<sheet name="Erstkontakte" sheetId="2" r:id="rId2"/></sheets></workbook>',
        xl__rels_workbook_xml_rels=f'<?xml version="1.0"?><Relationships xmlns="{_NS}/'
        f'package/2006/relationships"><Relationship Id="rId1" Type="{_REL}/worksheet" '
        f'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{_REL}/worksheet" '
        f'Target="../xl/./worksheets/sheet2.xml"/><Relationship Id="rId3" Type="{_REL}/'
        'chartsheet" Target="chartsheets/sheet1.xml"/><Relationship Id="rId4" '
        f'Type="{_REL}/worksheet" Target="worksheets/sheet9.xml"/><Relationship Id="rId5" '
        f'Type="{_REL}/hyperlink" Target="http://example.invalid/" TargetMode="External"/>'
        "</Relationships>",
        **{
            "xl/chartsheets/sheet1.xml": f'<?xml version="1.0"?><chartsheet xmlns="{_MAIN}">'
            '<sheetViews><sheetView workbookViewId="0"/></sheetViews></chartsheet>'
        },
    ),
    "strings not in the content types: none read": _with(
        Content_Types__xml=_base_parts()["[Content_Types].xml"].replace(
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_SPREADSHEET}'
            '.sharedStrings+xml"/>',
            "",
        ),
        xl_worksheets_sheet1_xml=_sheet('<row r="1"><c r="A1"><v>1</v></c></row>'),
    ),
    # LibreOffice-like: a workbook and strings part named otherwise, the workbook's type a
    # default for .xml, relationships with absolute targets
    "workbook found by its default type": _with(
        Content_Types__xml=f'<?xml version="1.0"?><Types xmlns="{_NS}/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.'
        'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
        f'"{_SPREADSHEET}.sheet.main+xml"/><Override PartName="/xl/sharedStrings.xml" '
        f'ContentType="{_SPREADSHEET}.sharedStrings+xml"/></Types>',
    ),
    "parts named otherwise": {
        **{
            k: v
            for k, v in _with(
                Content_Types__xml=_base_parts()["[Content_Types].xml"]
                .replace("/xl/workbook.xml", "/content/book.xml")
                .replace("/xl/sharedStrings.xml", "/content/strings.xml"),
            ).items()
            if k not in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/sharedStrings.xml")
        },
        "content/book.xml": _base_parts()["xl/workbook.xml"],
        "content/_rels/book.xml.rels": _base_parts()["xl/_rels/workbook.xml.rels"].replace(
            "worksheets/sheet1.xml", "../xl/worksheets/sheet1.xml"
        ),
        "content/strings.xml": _base_parts()["xl/sharedStrings.xml"],
    },
    # openpyxl looks for a template first: its workbook (naming another sheet) is read
    "a template workbook type first": _with(
        Content_Types__xml=_base_parts()["[Content_Types].xml"].replace(
            "<Override",
            '<Override PartName="/xl/vorlage.xml" ContentType="'
            f'{_SPREADSHEET}.template.main+xml"/><Override',
            1,
        ),
        **{
            "xl/vorlage.xml": _base_parts()["xl/workbook.xml"].replace("Daten", "Vorlage"),
            "xl/_rels/vorlage.xml.rels": _base_parts()["xl/_rels/workbook.xml.rels"],
        },
    ),
    "a macro workbook type first": _with(
        Content_Types__xml=_base_parts()["[Content_Types].xml"].replace(
            "<Override",
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.'
            'ms-excel.sheet.macroEnabled.main+xml"/><Override',
            1,
        ),
    ),
}


@pytest.mark.parametrize("parts", _CASES.values(), ids=list(_CASES))
def test_a_hand_made_workbook_reads_as_openpyxl_reads_it(tmp_path, parts):
    path = _package(tmp_path / "t.xlsx", parts)
    ours = _our_view(path)
    assert ours == _openpyxl_view(path)
    assert ours["sheets"]  # every case has a sheet to read


def test_the_date_cases_hold_dates_durations_and_numbers(tmp_path):
    # The comparison above is only as good as its cases: the date styles give all kinds.
    path = _package(tmp_path / "t.xlsx", _CASES["date styles, 1900"])
    values = {type(v) for row in _our_view(path)["rows"]["Daten"] for v in row}
    assert {datetime.datetime, datetime.time, datetime.timedelta, int, float} <= values


@pytest.mark.parametrize(
    "parts",
    [
        _with(Content_Types__xml=None),  # no content types
        _with(xl_workbook_xml=None),  # no workbook part
        _with(xl__rels_workbook_xml_rels=None),  # no relationships
        # a sheet whose relationship is not there
        _with(xl_workbook_xml=_base_parts()["xl/workbook.xml"].replace('"rId2"', '"rId7"')),
        # no workbook content type at all
        _with(Content_Types__xml=_base_parts()["[Content_Types].xml"].replace("sheet.main", "x")),
        # a relationship without a target: openpyxl drops them all
        _with(
            xl__rels_workbook_xml_rels=_base_parts()["xl/_rels/workbook.xml.rels"].replace(
                ' Target="/xl/worksheets/sheet2.xml"', ""
            )
        ),
        _with(xl_sharedStrings_xml="<sst"),  # broken XML
        # a sheet without a name
        _with(xl_workbook_xml=_base_parts()["xl/workbook.xml"].replace('name="Zweites" ', "")),
    ],
)
def test_a_broken_package_is_refused_as_openpyxl_refuses_it(tmp_path, parts):
    path = _package(tmp_path / "t.xlsx", parts)
    with pytest.raises(Exception) as theirs:
        _openpyxl_view(path)
    with pytest.raises(Exception) as ours:
        _our_view(path)
    assert (type(ours.value), str(ours.value)) == (type(theirs.value), str(theirs.value))


@pytest.mark.parametrize(
    "part",
    [
        "[Content_Types].xml",
        "xl/workbook.xml",
        "xl/styles.xml",
        "xl/_rels/workbook.xml.rels",
        "xl/sharedStrings.xml",
    ],
)
def test_every_part_declaring_an_entity_is_refused(tmp_path, part):
    from defusedxml.common import EntitiesForbidden

    parts = _with()
    head, rest = parts[part].split("?>", 1)
    parts[part] = f'{head}?><!DOCTYPE x [<!ENTITY a "b">]>{rest}'
    path = _package(tmp_path / "t.xlsx", parts)
    with pytest.raises(EntitiesForbidden):
        _our_view(path)


@pytest.mark.parametrize("write_only", [False, True])
def test_a_workbook_openpyxl_writes_reads_as_openpyxl_reads_it(tmp_path, write_only):
    wb = openpyxl.Workbook(write_only=write_only)
    ws = wb.create_sheet("Erstkontakte") if write_only else wb.active
    rows = [
        ["Fall", "Datum", "Dauer", "Zahl", "ja?"],
        [
            "x005F_ und _x000D_",
            datetime.datetime(2014, 3, 1, 8, 30),
            datetime.timedelta(hours=30),
            1.5,
            True,
        ],
        ["Müller", datetime.date(1900, 2, 28), datetime.time(12, 0), 10**12, False],
        [None, datetime.datetime(1900, 3, 1), None, -0.25, None],
    ]
    for row in rows:
        ws.append(row)
    wb.create_sheet("Hinweis").append(["nur ein Hinweis"])
    wb.save(tmp_path / "t.xlsx")
    assert _our_view(tmp_path / "t.xlsx") == _openpyxl_view(tmp_path / "t.xlsx")


def test_the_demo_files_read_as_openpyxl_reads_them(tmp_path):
    from analysis.contract import demo

    demo.write_demo(tmp_path, seed=2014, scale=1.0)
    paths = sorted(tmp_path.glob("*.xlsx"))
    assert paths  # the demo municipality has spreadsheets
    for path in paths:
        assert _our_view(path) == _openpyxl_view(path), path.name


def test_reading_an_xlsx_does_not_import_openpyxl(tmp_path):
    path = _package(tmp_path / "erstkontakte.xlsx", _CASES["date styles, 1900"])
    code = (
        "import sys; from pathlib import Path; from analysis.ingest.read import _Workbook\n"
        f"wb = _Workbook(Path({str(path)!r}))\n"
        "rows = [list(wb.rows(p)) for _, p in wb.sheets]; wb.close()\n"
        "assert rows[0], rows\n"
        "print('openpyxl' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


# --- the value rules, one by one --------------------------------------------------------------

_FORMAT_TEXT = st.text(alphabet=list('dmyhsDMYHS0#.,;:"[]_\\ -/@EeRr$AP'), max_size=14)


@settings(max_examples=400, deadline=None)
@given(st.one_of(_FORMAT_TEXT, st.sampled_from([*openpyxl_numbers.BUILTIN_FORMATS.values()])))
def test_date_formats_are_recognised_as_openpyxl_does(fmt):
    assert xlsx_rules.is_date_format(fmt) == openpyxl_numbers.is_date_format(fmt)
    assert xlsx_rules.is_timedelta_format(fmt) == openpyxl_numbers.is_timedelta_format(fmt)


def test_the_builtin_formats_are_openpyxls():
    assert xlsx_rules.BUILTIN_FORMATS == openpyxl_numbers.BUILTIN_FORMATS


def _outcome(function, *args):
    try:
        return ("value", function(*args))
    except Exception as exc:
        return ("error", type(exc), str(exc))


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.floats(-1e6, 3e6, allow_nan=False),
        st.integers(-(10**6), 3 * 10**6),
        st.sampled_from([0, 0.5, 0.99999999, 1, 59, 59.5, 60, 60.5, 61, 2958465.9999999]),
    ),
    st.sampled_from([xlsx_rules.WINDOWS_EPOCH, xlsx_rules.MAC_EPOCH]),
    st.booleans(),
)
@example(0.9999999999, xlsx_rules.WINDOWS_EPOCH, False)  # rounds to a whole day: no time
@example(60, xlsx_rules.WINDOWS_EPOCH, False)  # 29 February 1900, which never was
def test_serial_dates_are_read_as_openpyxl_reads_them(value, epoch, timedelta):
    assert epoch in (openpyxl_datetime.WINDOWS_EPOCH, openpyxl_datetime.MAC_EPOCH)
    assert _outcome(xlsx_rules.from_excel, value, epoch, timedelta) == _outcome(
        openpyxl_datetime.from_excel, value, epoch, timedelta
    )


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.text(alphabet=list("0123456789-:TZP.HMS"), max_size=25),
        st.datetimes().map(lambda d: d.isoformat(timespec="milliseconds")),
        st.sampled_from(["", "2014-02-30", "PT", "T", "PT1.5S", "24:00", "2014-03-01T"]),
    )
)
def test_iso_dates_are_read_as_openpyxl_reads_them(text):
    assert _outcome(xlsx_rules.from_ISO8601, text) == _outcome(openpyxl_datetime.from_ISO8601, text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=list("0123456789.eE+-_ x"), min_size=1, max_size=12))
def test_numbers_are_read_as_openpyxl_reads_them(text):
    ours, theirs = _outcome(xlsx_rules.cast_number, text), _outcome(_cast_number, text)
    assert ours == theirs
    if ours[0] == "value":
        assert type(ours[1]) is type(theirs[1])


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.text(alphabet=list("AZazß$0129_ "), min_size=1, max_size=6),
        st.sampled_from(["XFD1048576", "ZZZ1", "AAAA1", "A0", "a1", "ß1", "A", "1"]),
    )
)
def test_coordinates_are_read_as_openpyxl_reads_them(coordinate):
    assert _outcome(xlsx_rules.coordinate_to_tuple, coordinate) == _outcome(
        openpyxl_cell.coordinate_to_tuple, coordinate
    )
