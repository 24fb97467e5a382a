"""Der Datenvertrag in Code: Tabellen, Spalten, Typen, Kategorien und Regeln.

Everything that knows the shape of the raw tables reads it from here: ingestion validates
against it, the documentation is generated from it and reports take category labels from it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

ColumnType = Literal["str", "int", "float", "date", "cat", "jn"]

#: `jn` values and the raw spellings accepted for them (empty = unbekannt).
JN_CODES: tuple[str, ...] = ("ja", "nein", "unbekannt")
JN_ALIASES: dict[str, str] = {
    "ja": "ja",
    "j": "ja",
    "1": "ja",
    "x": "ja",
    "nein": "nein",
    "n": "nein",
    "0": "nein",
    "unbekannt": "unbekannt",
    "": "unbekannt",
}

#: Personal data in a header: a file with such a column is refused as a whole. Headers are
#: compared after ``contract.safety.header_forms`` (NFKC, case, umlauts, look-alike letters,
#: soft hyphens, spaces and punctuation removed). A stem counts wherever it occurs in the
#: compacted header (``Geburtsdatum Kind``, ``mutter_email``, ``Handynummer``).
PERSONAL_DATA_STEMS: tuple[str, ...] = (
    # names (``name`` itself: see PERSONAL_NAME_STEM)
    "initialen", "initials", "ansprechp", "kontaktperson", "kontaktdaten",
    # birth
    "geburtsdatum", "geburtsdat", "geburtstag", "geburtsort", "geburtsjahr", "gebdatum",
    "gebdat", "geboren", "birth",
    # address
    "adress", "anschrift", "strasse", "street", "wohnort", "wohnhaft", "hausnummer", "hausnr",
    "postleitzahl", "plz", "zipcode", "postcode", "postalcode",
    # phone, e-mail
    "telefon", "telephone", "phone", "handy", "mobilnummer", "mobiltelefon", "mobilfunk",
    "rufnummer", "festnetz", "faxnummer", "mail",
    # insurance, tax, account and identity numbers
    "versicherten", "versicherungsn", "sozialversicherung", "socialsecurity", "steuerid",
    "steueridentifikation", "steuernummer", "taxid", "iban", "kontonummer", "kontonr",
    "accountnumber", "bankverbindung", "bankleitzahl", "kontoinhaber", "ausweis", "reisepass",
    "passnummer", "passport",
)  # fmt: skip
#: Abbreviations that count only as a whole word of the header (``Tel.``, ``Str.``, ``geb. am``);
#: inside a word they would hit harmless headers (``Mittel``, ``Struktur``, ``Gebiet``).
PERSONAL_DATA_ABBREVIATIONS: tuple[str, ...] = (
    "tel", "telnr", "fon", "fax", "mobil", "mobile", "mob", "str", "hnr", "adr", "zip", "geb",
    "dob", "ssn", "svnr", "svn", "kvnr", "vsnr", "versnr", "bic", "blz", "kto", "ktonr",
)  # fmt: skip
#: ``name`` anywhere in a header is a person's name (``Vorname``, ``Mutter Name``, ``Kind Name``,
#: ``surname``) unless it directly follows (``Standortname``) or is followed by ``der``/``des``
#: and (``Name des Standorts``) one of these words for an institution, place or thing.
PERSONAL_NAME_STEM = "name"
INSTITUTION_WORDS: tuple[str, ...] = (
    "standort", "angebot", "einrichtung", "traeger", "trager", "institution", "organisation",
    "organization", "gebiet", "region", "stadtteil", "sozialraum", "bezirk", "ort", "stadt",
    "kommune", "netzwerk", "kurs", "projekt", "programm", "veranstaltung", "kategorie",
    "datei", "tabelle", "blatt", "site", "location", "facility", "provider", "file", "sheet",
)  # fmt: skip


def fold_name(text: str) -> str:
    """Fold a column header: case, umlauts, spaces and hyphens do not matter.

    >>> fold_name("Datum-Erstkontakt")
    'datum_erstkontakt'
    >>> fold_name(" Träger ")
    'traeger'
    """
    t = text.strip().lower()
    for src, dst in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        t = t.replace(src, dst)
    t = unicodedata.normalize("NFKD", t)
    t = "".join(ch for ch in t if not unicodedata.combining(ch))
    t = re.sub(r"[\s\-./]+", "_", t)
    return re.sub(r"_+", "_", t).strip("_")


def fold_value(text: str) -> str:
    """Fold a category value for matching: case- and whitespace-insensitive."""
    return re.sub(r"\s+", " ", text.strip()).casefold()


#: The header is the first row among this many non-empty rows that holds the required columns.
HEADER_WINDOW = 10
#: A record longer than this is a row error: no export has such rows, and carrying one
#: through validation and into the rejects file would only copy a blob around.
MAX_LINE_CHARS = 100_000
# XLSX is a zip archive: a few hundred kilobytes can unpack to gigabytes ("zip bomb").
# Checked on the archive's directory before openpyxl reads anything; real exports of the
# contract's tables stay far below both.
XLSX_MAX_UNPACKED = 200 * 1024 * 1024  # bytes of all members together
XLSX_MAX_RATIO = 100  # unpacked : packed, for members above XLSX_RATIO_FROM
XLSX_RATIO_FROM = 1024 * 1024
#: Cells (rows x used columns) read from one sheet at most; a guard behind the zip check.
XLSX_MAX_CELLS = 20_000_000
#: The processed folder: one Parquet file per table, this manifest, rejects in this folder.
MANIFEST = "manifest.json"
REJECTS_FOLDER = "abgelehnt"
#: Each year's confidentiality pattern, kept beside the processed data it was decided on (its
#: key is the data's content, so a new ``aufbereiten`` of the same data keeps it valid).
PATTERN_FOLDER = "geheimhaltung"


@dataclass(frozen=True)
class Category:
    """A list of codes with their German labels (and report groups where there are any)."""

    name: str
    labels: dict[str, str]
    groups: dict[str, str] = field(default_factory=dict)  # code -> group label

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self.labels)

    def label(self, code: str) -> str:
        return self.labels.get(code, code)

    @property
    def group_names(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for code in self.codes:
            if code in self.groups:
                seen[self.groups[code]] = None
        return tuple(seen)


def _cat(name: str, spec: str, groups: dict[str, list[str]] | None = None) -> Category:
    """Build a Category from ``code: Label · code: Label`` as the data contract writes it."""
    labels: dict[str, str] = {}
    for part in spec.split("·"):
        code, _, label = part.partition(":")
        labels[code.strip()] = label.strip()
    code_groups: dict[str, str] = {}
    for group, codes in (groups or {}).items():
        for code in codes:
            if code not in labels:
                raise ValueError(f"{name}: group {group} names unknown code {code}")
            code_groups[code] = group
    return Category(name, labels, code_groups)


CATEGORIES: dict[str, Category] = {
    c.name: c
    for c in (
        _cat(
            "zugangsweg",
            "geburtsklinik: Geburtsklinik · hebamme: Hebamme / Familienhebamme · "
            "kinderarzt: Kinder- und Jugendarztpraxis · frauenarzt: Frauenarztpraxis · "
            "jugendamt: Jugendamt / ASD · schwangerschaftsberatung: Schwangerschaftsberatung · "
            "beratungsstelle: Erziehungs- und Familienberatung · "
            "kita_familienzentrum: Kita / Familienzentrum · jobcenter: Jobcenter / Sozialamt · "
            "willkommensbesuch: Willkommensbesuch · eigeninitiative: Eigeninitiative · "
            "bekannte: Bekannte / Familie · "
            "oeffentlichkeitsarbeit: Flyer, Presse, Internet, Veranstaltung · "
            "sonstige: Sonstige · unbekannt: Keine Angabe",
            {
                "Gesundheitswesen": ["geburtsklinik", "hebamme", "kinderarzt", "frauenarzt"],
                "Jugendhilfe und Soziales": [
                    "jugendamt",
                    "schwangerschaftsberatung",
                    "beratungsstelle",
                    "kita_familienzentrum",
                    "jobcenter",
                ],
                "Aufsuchend": ["willkommensbesuch"],
                "Eigener Zugang": ["eigeninitiative", "bekannte", "oeffentlichkeitsarbeit"],
                "Sonstige": ["sonstige", "unbekannt"],
            },
        ),
        _cat(
            "zugangsgrund",
            "information: Information und Orientierung · "
            "alltag: Alltagspraktische Unterstützung · "
            "erziehung: Erziehungs- und Entwicklungsfragen · "
            "gesundheit_kind: Gesundheit und Versorgung des Kindes · "
            "belastung_eltern: Psychische Belastung / Überforderung · "
            "finanzen_wohnen: Finanzen, Wohnen, Behörden · "
            "partnerschaft: Partnerschaft / Trennung · "
            "kontakt_eltern: Kontakt zu anderen Eltern · sonstige: Sonstige · "
            "unbekannt: Keine Angabe",
        ),
        _cat(
            "lebensphase_kind",
            "schwangerschaft: Schwangerschaft · m0_6: 0–6 Monate · m6_12: 6–12 Monate · "
            "j1_2: 1–2 Jahre · j2_3: 2–3 Jahre · ueber_3: über 3 Jahre · unbekannt: Keine Angabe",
        ),
        _cat(
            "altersgruppe_mutter",
            "unter_18: unter 18 · a18_19: 18–19 · a20_24: 20–24 · a25_29: 25–29 · "
            "a30_34: 30–34 · a35_39: 35–39 · a40_plus: 40 und älter · unbekannt: Keine Angabe",
        ),
        _cat(
            "weitervermittlung",
            "keine: Keine · familienhebamme: Familienhebamme / FGKiKP · "
            "erziehungsberatung: Erziehungsberatung · jugendamt: Jugendamt / ASD · "
            "schwangerschaftsberatung: Schwangerschaftsberatung · "
            "fruehfoerderung: Frühförderung · kindertagesbetreuung: Kita / Kindertagespflege · "
            "familienbildung: Familienbildung · gesundheitswesen: Gesundheitswesen · "
            "ehrenamt: Familienpaten / Ehrenamt · sonstige: Sonstige",
        ),
        _cat(
            "angebot",
            "offener_treff: Offener Treff / Elterncafé · beratung: Einzelberatung · "
            "hausbesuch: Hausbesuch / aufsuchende Arbeit · "
            "kurs: Kurs (z. B. Babymassage, Elternstartkurs) · gruppe: Eltern-Kind-Gruppe · "
            "familienhebamme: Sprechstunde Familienhebamme · "
            "veranstaltung: Veranstaltung / Familienfreizeit · sonstige: Sonstige",
        ),
        _cat(
            "hilfeart",
            "gesamt: Hilfen zur Erziehung insgesamt · p27_2: § 27 Abs. 2 flexible Hilfen · "
            "p28: § 28 Erziehungsberatung · p29: § 29 Soziale Gruppenarbeit · "
            "p30: § 30 Erziehungsbeistand · p31: § 31 Sozialpädagogische Familienhilfe · "
            "p32: § 32 Tagesgruppe · p33: § 33 Vollzeitpflege · p34: § 34 Heimerziehung · "
            "p35: § 35 Intensive sozialpädagogische Einzelbetreuung · "
            "p35a: § 35a Eingliederungshilfe · p41: § 41 Hilfe für junge Volljährige",
        ),
        _cat(
            "quelle",
            "bundesstiftung: Bundesinitiative / Bundesstiftung Frühe Hilfen · "
            "kommune: Kommunale Haushaltsmittel · land: Landesmittel · "
            "drittmittel: Drittmittel / Spenden · traeger: Eigenmittel der Träger",
        ),
        _cat(
            "kostenart",
            "personal: Personal · sachkosten: Sachkosten · miete: Miete · "
            "honorare: Honorare · sonstige: Sonstige",
        ),
        _cat(
            "sektor",
            "kinder_jugendhilfe: Kinder- und Jugendhilfe · gesundheit: Gesundheitswesen · "
            "psychosoziale_beratung: Psychosoziale Beratung · weitere: Weitere",
        ),
        _cat("jn", "ja: ja · nein: nein · unbekannt: unbekannt"),
    )
}

GESAMT = "gesamt"  # the `gebiet` value for the whole municipality
#: Every site together (as opposed to ``gesamt``, the municipality area row).
ALL_SITES = "alle"
#: The report folder of reports that cover every year (data quality).
ALL_YEARS_FOLDER = "alle-jahre"
#: A `standort_id` becomes a folder name and a URL part of the reports: it must match this
#: after trimming, lower-casing and folding umlauts (``ü`` -> ``ue``) ...
SITE_ID_PATTERN = r"[a-z0-9][a-z0-9_-]{0,39}"
SITE_ID_MAX_LENGTH = 40
#: ... and must not be one of these words, which name selections and folders of their own.
RESERVED_SITE_IDS: tuple[str, ...] = (ALL_SITES, GESAMT, ALL_YEARS_FOLDER, "index")

#: Dates before this (default; ``[aufbereitung] fruehestes_datum``) or after today are
#: implausible: row errors, so that one typo cannot stretch the report plan back by decades.
DATE_FLOOR = date(1990, 1, 1)
#: A table that loses more than this share of its rows against the previous processed state
#: (default; ``[aufbereitung] hoechster_rueckgang``), or all of them, is refused unless the
#: run confirms it (``aufbereiten --rueckgang-erlauben``).
MAX_SHRINK = 0.5


@dataclass(frozen=True)
class Column:
    """One column of a raw table and the row rules that apply to its values."""

    name: str
    type: ColumnType
    required: bool = False
    label: str = ""  # German description for documentation and reports
    category: str | None = None  # for type "cat": key into CATEGORIES
    min: float | None = None  # inclusive lower bound (int/float); ints default to 0
    max: float | None = None  # inclusive upper bound
    max_is_current_year: bool = False  # `jahr`: not after the current year
    not_null: bool = False  # value must be present (required columns always are)
    site_id: bool = False  # defines site ids: the site-id rule applies (standorte.standort_id)

    @property
    def lower(self) -> float | None:
        if self.min is not None:
            return self.min
        return 0 if self.type in ("int", "float") else None


@dataclass(frozen=True)
class RowRule:
    """A rule between columns of one row, e.g. referral date not after contact date.

    ``kind`` is one of ``le`` (left <= right, where both are present).
    """

    left: str
    right: str
    kind: Literal["le"]
    reason: str  # German reason written into the rejects file


@dataclass(frozen=True)
class Table:
    name: str
    label: str
    columns: tuple[Column, ...]
    required_table: bool = False
    key: tuple[str, ...] = ()  # unique key; later duplicates are rejected
    site_column: str | None = None  # must name a site in `standorte`
    area_column: str | None = None  # a site or `gesamt`
    row_rules: tuple[RowRule, ...] = ()
    # A `gesamt` value in this column excludes rows per kind for the same other key values
    # (they would be counted twice); such a group is rejected as a whole.
    total_column: str | None = None
    description: str = ""

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _jahr() -> Column:
    return Column("jahr", "int", True, "Berichtsjahr", min=2000, max_is_current_year=True)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "standorte",
            "Standorte",
            (
                Column(
                    "standort_id", "str", True, "Kennung des Standorts (Kurzname)", site_id=True
                ),
                Column("name", "str", True, "Name des Standorts"),
                Column("region", "str", label="Region / Sozialraum"),
                Column("traeger", "str", label="Träger"),
                Column("eroeffnet", "date", label="Eröffnet am"),
                Column("geschlossen", "date", label="Geschlossen am"),
            ),
            required_table=True,
            key=("standort_id",),
            row_rules=(
                RowRule(
                    "eroeffnet",
                    "geschlossen",
                    "le",
                    "Schließungsdatum liegt vor dem Eröffnungsdatum",
                ),
            ),
            description="Eine Zeile je Standort; die Kennung verbindet alle anderen Tabellen.",
        ),
        Table(
            "erstkontakte",
            "Erstkontakte",
            (
                Column("fall_id", "str", True, "Pseudonymisierte Fallnummer"),
                Column("standort_id", "str", True, "Standort"),
                Column("datum_erstkontakt", "date", True, "Datum des Erstkontakts"),
                Column("datum_meldung", "date", label="Datum der Meldung / Anfrage"),
                Column("zugangsweg", "cat", True, "Zugangsweg", category="zugangsweg"),
                Column("zugangsgrund", "cat", label="Hauptanliegen", category="zugangsgrund"),
                Column(
                    "lebensphase_kind",
                    "cat",
                    label="Lebensphase des Kindes",
                    category="lebensphase_kind",
                ),
                Column(
                    "altersgruppe_mutter",
                    "cat",
                    label="Altersgruppe der Mutter",
                    category="altersgruppe_mutter",
                ),
                Column("alleinerziehend", "jn", label="Alleinerziehend"),
                Column("sgb2_bezug", "jn", label="Bezug von SGB-II-Leistungen"),
                Column("migrationshintergrund", "jn", label="Migrationshintergrund"),
                Column(
                    "weitervermittlung",
                    "cat",
                    label="Vereinbarte Weitervermittlung",
                    category="weitervermittlung",
                ),
            ),
            required_table=True,
            key=("standort_id", "fall_id"),
            site_column="standort_id",
            row_rules=(
                RowRule(
                    "datum_meldung",
                    "datum_erstkontakt",
                    "le",
                    "Meldedatum liegt nach dem Datum des Erstkontakts",
                ),
            ),
            description="Eine Zeile je Familie und Erstkontakt (Dokumentationsbogen Erstkontakt).",
        ),
        Table(
            "angebote",
            "Angebotsstatistik",
            (
                Column("standort_id", "str", True, "Standort"),
                _jahr(),
                Column("monat", "int", label="Monat", min=1, max=12),
                Column("angebot", "cat", True, "Angebotsart", category="angebot"),
                Column("angebot_name", "str", label="Bezeichnung des Angebots"),
                Column("termine", "int", label="Termine"),
                Column("besuche", "int", True, "Besuche / Teilnahmen"),
                Column("teilnehmende", "int", label="Teilnehmende Familien"),
            ),
            site_column="standort_id",
            row_rules=(RowRule("teilnehmende", "besuche", "le", "Mehr Teilnehmende als Besuche"),),
            description="Jahresstatistik der Angebote je Standort (optional je Monat).",
        ),
        Table(
            "willkommensbesuche",
            "Willkommensbesuche",
            (
                _jahr(),
                Column("gebiet", "str", True, "Standort oder gesamt"),
                Column("angeschrieben", "int", label="Angeschriebene Familien"),
                Column("besuche", "int", True, "Durchgeführte Besuche"),
                Column("vermittlungen", "int", label="Weitervermittlungen"),
                Column(
                    "anmeldungen_schwangerschaft", "int", label="Anmeldungen in der Schwangerschaft"
                ),
            ),
            key=("jahr", "gebiet"),
            area_column="gebiet",
            description="Willkommensbesuche je Jahr und Gebiet.",
        ),
        Table(
            "bevoelkerung",
            "Bevölkerung",
            (
                _jahr(),
                Column("gebiet", "str", True, "Standort (Einzugsgebiet) oder gesamt"),
                Column("geburten", "int", True, "Geburten"),
                Column("kinder_u3", "int", label="Kinder unter 3 Jahren"),
                Column("kinder_u3_sgb2", "int", label="Kinder unter 3 Jahren im SGB-II-Bezug"),
            ),
            key=("jahr", "gebiet"),
            area_column="gebiet",
            row_rules=(
                RowRule(
                    "kinder_u3_sgb2",
                    "kinder_u3",
                    "le",
                    "Mehr Kinder im SGB-II-Bezug als Kinder unter 3",
                ),
            ),
            description="Bevölkerungsbezug: Geburten und Kinder unter 3 je Jahr und Gebiet.",
        ),
        Table(
            "kosten_hze",
            "Kosten der Hilfen zur Erziehung",
            (
                _jahr(),
                Column("hilfeart", "cat", True, "Hilfeart", category="hilfeart"),
                Column("ausgaben_eur", "float", True, "Ausgaben in Euro"),
                Column("fallzahl_mittel", "float", True, "Mittlere Fallzahl im Jahr"),
            ),
            key=("jahr", "hilfeart"),
            total_column="hilfeart",
            description="Ausgaben und mittlere Fallzahlen der HzE, gesamtstädtisch.",
        ),
        Table(
            "finanzierung",
            "Finanzierung Frühe Hilfen",
            (
                _jahr(),
                Column("gebiet", "str", True, "Standort oder gesamt"),
                Column("quelle", "cat", True, "Finanzierungsquelle", category="quelle"),
                Column("kostenart", "cat", label="Kostenart", category="kostenart"),
                Column("betrag_eur", "float", True, "Betrag in Euro"),
            ),
            area_column="gebiet",
            description="Budget der Frühen Hilfen nach Quelle, Kostenart und Gebiet.",
        ),
        Table(
            "nutzerbefragung",
            "Nutzerbefragung",
            (
                Column("bogen_id", "str", True, "Fragebogennummer"),
                Column("standort_id", "str", True, "Standort"),
                Column("datum", "date", True, "Datum"),
                Column("erreichbarkeit", "int", label="Erreichbarkeit (1–5)", min=1, max=5),
                Column("raeume", "int", label="Räume (1–5)", min=1, max=5),
                Column("angebote", "int", label="Angebote (1–5)", min=1, max=5),
                Column("beratung", "int", label="Beratung (1–5)", min=1, max=5),
                Column("weiterempfehlung", "jn", label="Weiterempfehlung"),
            ),
            key=("bogen_id",),
            site_column="standort_id",
            description="Ein Fragebogen je Zeile; Noten 1 (sehr gut) bis 5 (schlecht).",
        ),
        Table(
            "netzwerkpartner",
            "Netzwerkpartner",
            (
                Column("partner_id", "str", True, "Partnerkennung"),
                Column("bezeichnung", "str", True, "Einrichtung"),
                Column("sektor", "cat", True, "Sektor", category="sektor"),
                Column("bereich", "str", label="Bereich"),
                Column("gebiet", "str", label="Standort oder gesamt"),
                Column(
                    "vereinbarung_seit",
                    "date",
                    label="Kooperationsvereinbarung seit",
                ),
                Column("ausgeschieden", "date", label="Ausgeschieden am"),
            ),
            key=("partner_id",),
            area_column="gebiet",
            description="Partner des Netzwerks nach Sektor (NZFH-Qualitätsrahmen, Abschnitt 2).",
        ),
    )
}

#: Order in which tables are prepared: `standorte` first, because others refer to it.
TABLE_ORDER: tuple[str, ...] = tuple(TABLES)


def category_for(table: str, column: str) -> Category:
    """The category list of a ``cat`` or ``jn`` column."""
    col = TABLES[table].column(column)
    if col.type == "jn":
        return CATEGORIES["jn"]
    if col.category is None:
        raise KeyError(f"{table}.{column} is not a category column")
    return CATEGORIES[col.category]


def label(category: str, code: str) -> str:
    """German label of a category code (the code itself when unknown)."""
    return CATEGORIES[category].label(code)
