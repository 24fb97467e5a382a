"""What is safe: site ids as folder names, spreadsheet cells, headers without personal data.

Example-based tests for every case named in issue 9, and hypothesis fuzzing: mutations of the
personal-data stems are still refused, and every site id the rule admits is a harmless
single folder name.
"""

from __future__ import annotations

import unicodedata
from pathlib import PurePosixPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from analysis.contract import safety
from analysis.contract.schema import (
    PERSONAL_DATA_ABBREVIATIONS,
    PERSONAL_DATA_STEMS,
    RESERVED_SITE_IDS,
    TABLES,
)
from analysis.errors import FhError

# --- site ids ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("rheindorf", "rheindorf"),
        (" Rheindorf ", "rheindorf"),
        ("Steinbüchel", "steinbuechel"),
        ("007", "007"),
        ("region_1-nord", "region_1-nord"),
        ("a" * 40, "a" * 40),
    ],
)
def test_site_id_rule_accepts_and_canonicalises(raw, stored):
    assert safety.site_id_problem(raw) is None
    assert safety.canonical_site_id(raw) == stored
    assert safety.site_folder(stored) == stored


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("../../esc", "keine gültige Standortkennung"),
        ("=1+2", "keine gültige Standortkennung"),
        ("{}", "keine gültige Standortkennung"),
        ("a/b", "keine gültige Standortkennung"),
        ("-x", "keine gültige Standortkennung"),
        ("rhein dorf", "keine gültige Standortkennung"),
        (".hidden", "keine gültige Standortkennung"),
        ("x" * 41, "mit 41 Zeichen als Standortkennung zu lang (höchstens 40)"),
        ("x" * 300, "mit 300 Zeichen als Standortkennung zu lang"),
        ("Alle", "reserviertes Wort (alle, gesamt, alle-jahre, index)"),
        ("GESAMT", "reserviertes Wort"),
        ("alle-jahre", "reserviertes Wort"),
        ("index", "reserviertes Wort"),
    ],
)
def test_site_id_rule_refuses(raw, problem):
    assert problem in (safety.site_id_problem(raw) or "")


def test_site_folder_refuses_what_ingestion_would_reject():
    assert safety.site_folder("alle") == "alle"  # the all-sites folder itself
    for bad in ("../../esc", "Rheindorf", "gesamt", "x" * 300, "{}"):
        with pytest.raises(FhError, match="als Ordnername nicht zulässig"):
            safety.site_folder(bad)


_ANY_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("aAzZ09_-./\\ {}$=:~ÄäÖöÜüßéı\u00ad\u200b\x00\n%*?<>|")),
        st.characters(codec="utf-8"),
    ),
    max_size=50,
)


@settings(max_examples=400, deadline=None)
@given(_ANY_TEXT)
def test_fuzz_an_admitted_site_id_is_one_harmless_folder_name(text):
    if safety.site_id_problem(text) is not None:
        with pytest.raises(FhError):
            safety.site_folder(text if text == safety.canonical_site_id(text) else text + "/")
        return
    site = safety.canonical_site_id(text)
    assert safety.site_folder(site) == site
    assert safety.canonical_site_id(site) == site  # stored form is stable
    assert 1 <= len(site) <= 40 and site.isascii()
    assert site not in RESERVED_SITE_IDS
    path = PurePosixPath("reports/2014") / site / "reichweite.html"
    assert path.parts == ("reports", "2014", site, "reichweite.html")
    assert site[0] not in ".-" and not set(site) - set("abcdefghijklmnopqrstuvwxyz0123456789_-")


# --- spreadsheet cells -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "formula"),
    [
        ('=HYPERLINK("http://x","Klick")', True),
        ("=1+2", True),
        ("+49 171 123", True),
        ("-1+2", True),
        ("@SUM(A1)", True),
        ("\t=1", True),
        ("\r=1", True),
        ("＝1+2", True),  # full-width equals sign
        ("-3", False),
        ("-2,5", False),
        ("-1.200,00", False),
        ("+7", False),
        ("Rheindorfer Laden", False),
        ("", False),
        (" =1", False),
    ],
)
def test_formula_like_text(text, formula):
    assert safety.is_formula_like(text) is formula
    assert safety.csv_cell(text) == ("'" + text if formula else text)


def test_csv_cell_keeps_numbers_and_missing_values():
    assert safety.csv_cell(-3) == -3
    assert safety.csv_cell(None) is None


def test_excel_cells_with_formulas_become_text_and_numbers_stay_numbers(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(['=HYPERLINK("http://x","Klick")', "+1+2", -3, "-3", "@x", "Laden"])
    for cell in ws[1]:
        safety.defuse_excel_cell(cell)
    types = [(c.value, c.data_type, bool(c.quotePrefix)) for c in ws[1]]
    assert types == [
        ('=HYPERLINK("http://x","Klick")', "s", True),
        ("+1+2", "s", True),
        (-3, "n", False),
        ("-3", "s", False),
        ("@x", "s", True),
        ("Laden", "s", False),
    ]
    wb.save(tmp_path / "t.xlsx")
    with __import__("zipfile").ZipFile(tmp_path / "t.xlsx") as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()


# --- personal data -------------------------------------------------------------------------------

# Refused before issue 9, and the ones that got through (issue 9, "Personal data gets through").
ISSUE_HEADERS = [
    "Name ",
    "GEBURTSDATUM",
    "e-mail",
    "Telefon-Nr.",
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
CONTRACT_LIST = [
    "name",
    "vorname",
    "nachname",
    "geburtsdatum",
    "adresse",
    "telefon",
    "email",
    "Versichertennummer",
    "Sozialversicherungsnummer",
]
MORE = [
    "Vorname",
    "name_mutter",
    "Telefon Mutter",
    "mutter_email",
    "Geburtsdatum Kind",
    "Straße",
    "Hausnr.",
    "TelNr",
    "T.e.l.",
    "ＥＭＡＩＬ",  # full-width
    "𝐕𝐨𝐫𝐧𝐚𝐦𝐞",  # mathematical bold
    "Ν\u0430me",  # Greek capital Nu, Cyrillic a
    "Nach\u200bname",  # zero-width space
    "first name",
    "Surname",
    "date of birth",
    "Phone",
    "Street address",
    "Kontonummer",
    "Steuer-ID",
    "Ansprechpartnerin",
]


@pytest.mark.parametrize("header", ISSUE_HEADERS + CONTRACT_LIST + MORE)
def test_personal_data_headers_are_refused(header):
    assert safety.is_personal_data(header), header


@pytest.mark.parametrize(
    "header",
    [
        "standort_name",
        "Standortname",
        "Name des Standorts",
        "Name der Einrichtung",
        "Angebotsname",
        "Trägername",
        "Formularversion",
        "Bemerkung",
        "Gebiet",
        "Mittelwert",
        "Fördermittel",
        "Struktur",
        "Termine",
        "Hotel",
        "Kommentar",
        "Sachbearbeitung",
    ],
)
def test_harmless_headers_pass(header):
    assert not safety.is_personal_data(header), safety.personal_data_hit(header)


def test_no_column_of_the_contract_reads_as_personal_data_except_the_site_name():
    # `name` in standorte is the site's name: the reader skips contract columns, so this
    # is the only column of the contract the check would refuse on its own.
    hits = {
        (t.name, c) for t in TABLES.values() for c in t.column_names if safety.is_personal_data(c)
    }
    assert hits == {("standorte", "name")}


# Look-alike letters of other scripts, written out here (not taken from the module under test).
_LOOKALIKE = {
    "a": "аα",
    "c": "с",
    "e": "еε",
    "i": "іι",
    "k": "кκ",
    "o": "оοσ",
    "p": "рρ",
    "s": "ѕ",
    "t": "τ",
    "x": "хχ",
    "y": "у",
    "A": "АΑ",
    "B": "ВΒ",
    "E": "ЕΕ",
    "H": "НΗ",
    "K": "КΚ",
    "M": "МΜ",
    "O": "ОΟ",
    "P": "РΡ",
    "T": "ТΤ",
    "X": "ХΧ",
}
_INVISIBLE = ["\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]
_VISIBLE = [" ", "-", "_", ".", "/", ":", "  "]
_AFFIXES = ["", "Mutter", "Kind", "Vater", "Eltern", "Familie", "Klient", "2", "alt", "neu"]


@st.composite
def _mutated(draw, words, inside):
    word = draw(st.sampled_from(words))
    chars: list[str] = []
    for i, ch in enumerate(word):
        if i and draw(st.integers(0, 4)) == 0:
            chars.append(draw(st.sampled_from(_INVISIBLE + (_VISIBLE if inside else []))))
        kind = draw(st.integers(0, 5))
        if kind == 0:
            ch = ch.upper()
        elif kind == 1 and ch in _LOOKALIKE:
            ch = draw(st.sampled_from(_LOOKALIKE[ch]))
        elif kind == 2 and ch.upper() in _LOOKALIKE and ch.isalpha():
            ch = draw(st.sampled_from(_LOOKALIKE[ch.upper()]))
        elif kind == 3 and ch.isascii() and ch.isalnum():
            ch = chr(ord(ch) + 0xFEE0)  # full width: NFKC folds it back
        chars.append(ch)
    core = "".join(chars)
    if draw(st.booleans()):
        core = unicodedata.normalize("NFD", core)
    prefix, suffix = draw(st.sampled_from(_AFFIXES)), draw(st.sampled_from(_AFFIXES))
    sep = draw(st.sampled_from([" ", "_", "-", ". "]))
    return sep.join(p for p in (prefix, core, suffix) if p)


_STEMS = [s for s in PERSONAL_DATA_STEMS] + ["vorname", "nachname", "name", "familienname"]
# Umlaut spellings of the stems as people write them.
_SPELLED = ["Straße", "Geburtsdatum", "Geb.-Datum", "E-Mail-Adresse", "Telefonnummer"]


@settings(max_examples=500, deadline=None)
@given(_mutated(_STEMS + _SPELLED, inside=True))
def test_fuzz_mutated_personal_data_stems_are_refused(header):
    assert safety.is_personal_data(header), (header, safety.header_forms(header))


@settings(max_examples=300, deadline=None)
@given(_mutated(list(PERSONAL_DATA_ABBREVIATIONS), inside=False))
def test_fuzz_mutated_abbreviations_are_refused(header):
    assert safety.is_personal_data(header), (header, safety.header_forms(header))
