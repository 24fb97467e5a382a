"""One test per row rule and per whole-file refusal of the data contract (fixtures in German dialect)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
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
    snapshot,
)

from analysis import ingest
from analysis.contract.schema import TABLES
from analysis.errors import FhError

# --- row rules: erstkontakte_fehler.csv has one broken row per rule (line = line in the file)

ERSTKONTAKTE_EXPECTED = {
    3: "datum_erstkontakt: „31.02.2014“ ist kein gültiges Datum",
    4: "zugangsweg: „zauberei“ ist kein bekannter Wert",
    5: "datum_erstkontakt: „03.03.2099“ liegt in der Zukunft",
    6: "standort_id: Standort unbekannt – „atlantis“ gibt es in der Tabelle standorte nicht",
    7: "Meldedatum liegt nach dem Datum des Erstkontakts",
    8: "datum_erstkontakt: Pflichtangabe fehlt; zugangsweg: Pflichtangabe fehlt",
    9: "Doppelter Schlüssel (standort_id, fall_id) – zuerst in erstkontakte_fehler.csv, Zeile 2",
    10: "Zeile hat 13 Felder, die Kopfzeile 12",
    11: "Zeile hat 3 Felder, die Kopfzeile 12",
    12: "alleinerziehend: „vielleicht“ ist kein bekannter Wert",
}


@pytest.fixture
def erstkontakte_fehler(tmp_path):
    result = run(tmp_path, "erstkontakte_fehler.csv")
    return tmp_path, result


@pytest.mark.parametrize(("line", "reason"), sorted(ERSTKONTAKTE_EXPECTED.items()))
def test_erstkontakte_row_rule(erstkontakte_fehler, line, reason):
    tmp_path, _ = erstkontakte_fehler
    assert reason in reasons_by_line(tmp_path, "erstkontakte")[line]


def test_erstkontakte_only_the_valid_row_is_accepted(erstkontakte_fehler):
    tmp_path, result = erstkontakte_fehler
    report = result.tables["erstkontakte"]
    # 11 data rows, 1 valid (line 2), 10 broken (lines 3-12)
    assert (report.read, report.accepted, report.rejected) == (11, 1, 10)
    assert set(reasons_by_line(tmp_path, "erstkontakte")) == set(range(3, 13))
    assert accepted(tmp_path, "erstkontakte")["fall_id"].tolist() == ["E1"]
    assert_reconciles(result)


def test_rejects_keep_original_values_and_source(erstkontakte_fehler):
    tmp_path, _ = erstkontakte_fehler
    frame = pd.read_csv(
        tmp_path / "out" / "abgelehnt" / "erstkontakte.csv",
        sep=";",
        dtype=str,
        keep_default_na=False,
    )
    row = frame[frame["zeile"] == "3"].iloc[0]
    assert row["datei"] == "erstkontakte_fehler.csv"
    assert row["datum_erstkontakt"] == "31.02.2014"
    assert row["fall_id"] == "E2"
    # A row with too many fields: its values cannot be told apart from text outside the
    # contract ("zu viel"), so only file, line and reason are kept.
    wide = frame[frame["zeile"] == "10"].iloc[0]
    assert wide["gruende"] == (
        "Zeile hat 13 Felder, die Kopfzeile 12 – Werte lassen sich keiner Spalte zuordnen "
        "und werden nicht übernommen"
    )
    assert (wide[list(TABLES["erstkontakte"].column_names)] == "").all()
    assert list(frame.columns) == [
        "datei",
        "zeile",
        "gruende",
        *TABLES["erstkontakte"].column_names,
    ]
    assert "zu viel" not in (tmp_path / "out" / "abgelehnt" / "erstkontakte.csv").read_text("utf-8")


def test_duplicate_key_across_files_keeps_first_in_file_name_order(tmp_path):
    # erstkontakte_gueltig.csv sorts before erstkontakte_unbekannte_spalte.csv; both have
    # (rheindorf, F1): the later file's row is rejected.
    result = run(tmp_path, "erstkontakte_gueltig.csv", "erstkontakte_unbekannte_spalte.csv")
    reasons = reasons_by_line(tmp_path, "erstkontakte")
    assert reasons == {
        2: "Doppelter Schlüssel (standort_id, fall_id) – zuerst in erstkontakte_gueltig.csv, Zeile 2"
    }
    assert result.tables["erstkontakte"].accepted == 5
    assert_reconciles(result)


ANGEBOTE_EXPECTED = {
    3: "Mehr Teilnehmende als Besuche",
    4: "monat: „13“ liegt außerhalb des zulässigen Bereichs (1 bis 12)",
    5: "jahr: „1999“ liegt außerhalb des zulässigen Bereichs (2000 bis 2026)",
    6: "jahr: „2099“ liegt außerhalb des zulässigen Bereichs (2000 bis 2026)",
    7: "termine: „-1“ liegt außerhalb des zulässigen Bereichs (mindestens 0)",
    8: "termine: „2,5“ ist keine ganze Zahl",
}


def test_angebote_row_rules(tmp_path):
    result = run(tmp_path, "erstkontakte_gueltig.csv", "angebote_fehler.csv")
    assert reasons_by_line(tmp_path, "angebote") == ANGEBOTE_EXPECTED
    ok = accepted(tmp_path, "angebote")
    # line 2: besuche "1.200" is German thousands notation = 1200
    assert ok["besuche"].tolist() == [1200]
    assert ok["monat"].isna().all()
    assert (result.tables["angebote"].accepted, result.tables["angebote"].rejected) == (1, 6)
    assert_reconciles(result)


def test_kosten_hze_year_given_as_total_and_per_kind_is_rejected_whole(tmp_path):
    result = run(tmp_path, "erstkontakte_gueltig.csv", "kosten_hze.csv")
    reasons = reasons_by_line(tmp_path, "kosten_hze")
    assert set(reasons) == {5, 6, 9}
    for line in (5, 6):
        assert reasons[line].startswith("jahr 2013 ist sowohl als „gesamt“ als auch nach hilfeart")
    assert reasons[9].startswith(
        "Doppelter Schlüssel (jahr, hilfeart) – zuerst in kosten_hze.csv, Zeile 7"
    )
    ok = accepted(tmp_path, "kosten_hze")
    # 12.190.000,00 € and 13045000.00 (label "Hilfen zur Erziehung insgesamt" = gesamt)
    assert ok["jahr"].tolist() == [2011, 2012, 2014, 2014]
    assert ok["hilfeart"].astype(str).tolist() == ["gesamt", "gesamt", "p31", "p33"]
    assert ok["ausgaben_eur"].tolist() == [12_190_000.0, 13_045_000.0, 4_100_000.0, 3_000_000.0]
    assert result.tables["kosten_hze"].files[0].skipped_rows == ["Kosten der Hilfen zur Erziehung"]
    assert_reconciles(result)


def test_area_column_accepts_site_or_gesamt(tmp_path):
    result = run(tmp_path, "erstkontakte_gueltig.csv", "willkommensbesuche.csv")
    assert reasons_by_line(tmp_path, "willkommensbesuche") == {
        4: "gebiet: „Mond“ ist weder ein Standort aus standorte noch „gesamt“"
    }
    assert accepted(tmp_path, "willkommensbesuche")["gebiet"].tolist() == ["gesamt", "rheindorf"]
    assert_reconciles(result)


def test_nutzerbefragung_collects_every_reason_of_a_row(tmp_path):
    result = run(tmp_path, "erstkontakte_gueltig.csv", "nutzerbefragung.csv")
    assert reasons_by_line(tmp_path, "nutzerbefragung") == {
        3: "erreichbarkeit: „6“ liegt außerhalb des zulässigen Bereichs (1 bis 5); "
        "raeume: „0“ liegt außerhalb des zulässigen Bereichs (1 bis 5)",
        4: "Doppelter Schlüssel (bogen_id) – zuerst in nutzerbefragung.csv, Zeile 2",
    }
    ok = accepted(tmp_path, "nutzerbefragung")
    assert ok["angebote"].isna().tolist() == [True]  # empty grade = no answer
    assert ok["beratung"].tolist() == [5]
    assert_reconciles(result)


def test_standorte_rules(tmp_path):
    raw = raw_folder(tmp_path, "erstkontakte_gueltig.csv", standorte=False)
    shutil.copy(FIXTURES / "standorte_fehler.csv", raw / "standorte.csv")
    result = ingest.prepare(raw, tmp_path / "out", make_config(tmp_path), today=TODAY)
    assert reasons_by_line(tmp_path, "standorte") == {
        3: "Doppelter Schlüssel (standort_id) – zuerst in standorte.csv, Zeile 2",
        4: "Schließungsdatum liegt vor dem Eröffnungsdatum",
        5: "name: Pflichtangabe fehlt",
    }
    # site `007` is not in this standorte file: erstkontakte F4 is rejected for it
    assert reasons_by_line(tmp_path, "erstkontakte") == {
        6: "standort_id: Standort unbekannt – „007“ gibt es in der Tabelle standorte nicht "
        "(oder die Zeile wurde dort abgelehnt)"
    }
    assert_reconciles(result)


def test_broken_site_ids_are_each_rejected_with_their_own_problem(tmp_path):
    # Several distinct broken ids among good ones, each more than once: every row is named
    # with the problem of its own id (checked per distinct text, reported per row).
    raw = raw_folder(tmp_path, "erstkontakte_gueltig.csv", standorte=False)
    rows = ["rheindorf", "../x", "rheindorf2", "Alle", "x" * 41, "../x", "steinbuechel", "Alle"]
    (raw / "standorte.csv").write_text(
        "standort_id;name;region;traeger;eroeffnet;geschlossen\n"
        + "".join(f"{site};Laden {i};Region I;;01.04.2011;\n" for i, site in enumerate(rows)),
        encoding="utf-8",
    )
    result = ingest.prepare(raw, tmp_path / "out", make_config(tmp_path), today=TODAY)
    reasons = reasons_by_line(tmp_path, "standorte")
    assert sorted(reasons) == [3, 5, 6, 7, 9]
    for line in (3, 7):
        assert reasons[line].startswith("standort_id: „../x“") and "keine gültige" in reasons[line]
    for line in (5, 9):
        assert "reserviertes Wort" in reasons[line], reasons[line]
    assert "mit 41 Zeichen als Standortkennung zu lang" in reasons[6]
    assert accepted(tmp_path, "standorte")["standort_id"].tolist() == [
        "rheindorf",
        "rheindorf2",
        "steinbuechel",
    ]
    assert_reconciles(result)


# --- whole-file refusals: exit 2, message names the file, nothing written -------------------

REFUSALS = {
    "erstkontakte_ohne_kopf.csv": "keine Kopfzeile gefunden",
    "erstkontakte_pflichtspalte_fehlt.csv": "Pflichtspalte(n) fehlen: zugangsweg. Die Datei hat die "
    "Spalten: fall_id, standort_id, datum_erstkontakt, zugangsgrund",
    "erstkontakte_personendaten.csv": "personenbezogenen Daten gefunden: Vorname, Telefon Mutter",
    "erstkontakte_name.csv": "personenbezogenen Daten gefunden: Name",
    "erstkontakte_utf16.csv": "Nullbytes",
    # 0x81 (no character in Windows-1252) is the file's 21st byte.
    "erstkontakte_kaputt.csv": "weder UTF-8 noch Windows-1252 (ungültiges Byte an Stelle 21 der "
    "Datei, ab 1 gezählt)",
}


@pytest.mark.parametrize(
    ("column", "refused"),
    [
        ("Vorname", True),
        ("name_mutter", True),
        ("Telefon Mutter", True),
        ("mutter_email", True),
        ("Geburtsdatum Kind", True),
        ("standort_name", False),  # a site's name, not a person's
        ("Formularversion", False),
    ],
)
def test_personal_data_column_detection(tmp_path, column, refused):
    raw = raw_folder(tmp_path)
    (raw / "erstkontakte.csv").write_text(
        f"fall_id;standort_id;datum_erstkontakt;zugangsweg;{column}\nF1;rheindorf;01.03.2014;hebamme;x\n",
        encoding="utf-8",
    )
    if refused:
        with pytest.raises(FhError, match="personenbezogenen Daten"):
            ingest.prepare(raw, tmp_path / "out", None, today=TODAY)
    else:
        result = ingest.prepare(raw, tmp_path / "out", None, today=TODAY)
        assert result.tables["erstkontakte"].files[0].unknown_columns == [column]


@pytest.mark.parametrize(("fixture", "problem"), sorted(REFUSALS.items()))
def test_whole_file_refusal(tmp_path, fixture, problem):
    raw = raw_folder(tmp_path, "erstkontakte_gueltig.csv", fixture)
    with pytest.raises(FhError) as err:
        ingest.prepare(raw, tmp_path / "out", make_config(tmp_path), today=TODAY)
    assert err.value.exit_code == 2
    assert fixture in err.value.message
    assert problem in err.value.message
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # One required column found: the header is taken as such, the others are missing.
        (
            "fall_id;Datum;Weg\nF1;01.03.2014;hebamme\n",
            "erstkontakte.csv: Pflichtspalte(n) fehlen: standort_id, datum_erstkontakt, "
            "zugangsweg. Die Datei hat die Spalten: fall_id, Datum, Weg.",
        ),
        # No required column anywhere: no header; the first line is shown, blank cells left out.
        (
            "Nr;;Ort\n1;;Opladen\n",
            "erstkontakte.csv: keine Kopfzeile gefunden – keine der ersten 10 nicht leeren "
            "Zeilen enthält die Pflichtspalten fall_id, standort_id, datum_erstkontakt, "
            "zugangsweg der Tabelle erstkontakte. Erste Zeile: Nr, Ort.",
        ),
    ],
)
def test_the_refusal_without_a_header_names_what_is_missing(tmp_path, text, message):
    raw = raw_folder(tmp_path)
    (raw / "erstkontakte.csv").write_text(text, encoding="utf-8")
    with pytest.raises(FhError) as err:
        ingest.prepare(raw, tmp_path / "out", make_config(tmp_path), today=TODAY)
    assert err.value.message == message


def test_refusal_for_an_empty_file(tmp_path):
    raw = raw_folder(tmp_path, "erstkontakte_gueltig.csv")
    (raw / "angebote.csv").write_bytes(b"\r\n  \n")
    with pytest.raises(FhError, match=r"angebote\.csv: Datei ist leer"):
        ingest.prepare(raw, tmp_path / "out", make_config(tmp_path), today=TODAY)


def test_refusal_for_a_broken_xlsx(tmp_path):
    raw = raw_folder(tmp_path, "erstkontakte_gueltig.csv")
    (raw / "erstkontakte_2015.xlsx").write_bytes(b"PK\x03\x04 kein echtes Excel")
    with pytest.raises(FhError, match=r"erstkontakte_2015\.xlsx: Excel-Datei ist nicht lesbar"):
        ingest.prepare(raw, tmp_path / "out", make_config(tmp_path), today=TODAY)


def test_refusal_for_an_old_excel_format(tmp_path):
    raw = raw_folder(tmp_path, "erstkontakte_gueltig.csv")
    (raw / "erstkontakte_alt.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(
        FhError, match=r"erstkontakte_alt.xls: Dateiformat .xls wird nicht unterstützt"
    ):
        ingest.prepare(raw, tmp_path / "out", make_config(tmp_path), today=TODAY)


@pytest.mark.parametrize("missing", ["standorte", "erstkontakte"])
def test_required_table_missing_is_refused(tmp_path, missing):
    files = [] if missing == "erstkontakte" else ["erstkontakte_gueltig.csv"]
    raw = raw_folder(tmp_path, *files, standorte=missing != "standorte")
    with pytest.raises(FhError) as err:
        ingest.prepare(raw, tmp_path / "out", make_config(tmp_path), today=TODAY)
    assert err.value.exit_code == 2
    assert f"fehlt die Pflichttabelle {missing}" in err.value.message


def test_the_refusal_for_missing_required_tables_names_them_and_the_files_found(tmp_path):
    raw = raw_folder(tmp_path, standorte=False)
    with pytest.raises(FhError) as err:
        ingest.prepare(raw, tmp_path / "out", make_config(tmp_path), today=TODAY)
    assert err.value.message == (
        f"Im Rohdatenordner {raw} fehlt die Pflichttabelle standorte und erstkontakte "
        "(Dateiname beginnt mit dem Tabellennamen, z. B. standorte.csv). Gefundene Dateien: "
        "keine."
    )
    shutil.copy(FIXTURES / "kosten_hze.csv", raw / "kosten_hze.csv")
    shutil.copy(FIXTURES / "kosten_hze.csv", raw / "kosten_hze_2015.csv")
    with pytest.raises(FhError) as err:
        ingest.prepare(raw, tmp_path / "out", make_config(tmp_path), today=TODAY)
    assert err.value.message.endswith("Gefundene Dateien: kosten_hze.csv, kosten_hze_2015.csv.")


@pytest.mark.parametrize(("name", "shown"), [("erstkontakte.ods", ".ods"), ("erstkontakte", "")])
def test_an_unsupported_file_format_is_named(tmp_path, name, shown):
    from analysis.ingest.read import read_file

    path = tmp_path / name
    path.write_text("x", encoding="utf-8")
    with pytest.raises(FhError) as err:
        read_file(path, TABLES["erstkontakte"])
    assert err.value.message == (
        f"{name}: Dateiformat {shown or '(ohne Endung)'} wird nicht unterstützt. "
        "Bitte als CSV oder XLSX speichern."
    )


def test_the_manifest_of_a_run_without_configuration(tmp_path):
    from analysis import __version__

    raw = raw_folder(tmp_path, "erstkontakte_gueltig.csv")
    result = ingest.prepare(raw, tmp_path / "out", None, today=TODAY)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["version"], manifest["konfiguration_sha256"]) == (__version__, "")
    assert (manifest["konfiguration"], result.config_sha256) == (None, "")


def test_the_manifest_and_the_result_of_a_run_with_configuration(tmp_path, monkeypatch):
    from datetime import datetime
    from pathlib import Path

    raw = raw_folder(tmp_path, "erstkontakte_gueltig.csv")
    (raw / "notizen.txt").write_text("keine Tabelle", encoding="utf-8")
    config = make_config(tmp_path)
    monkeypatch.chdir(tmp_path)  # folders as a user types them: relative
    result = ingest.prepare(Path("raw"), Path("out"), config, today=TODAY)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["rohdaten"] == str(raw.resolve())  # the manifest holds the full path
    assert manifest["nicht_zugeordnete_dateien"] == ["notizen.txt"]
    assert manifest["stichtag"] == TODAY.isoformat()
    assert manifest["konfiguration_sha256"] == config.sha256 == result.config_sha256
    created = datetime.fromisoformat(manifest["erstellt"])
    assert created.tzinfo is not None and result.created == manifest["erstellt"]
    assert (result.raw_dir, result.processed_dir) == (Path("raw"), Path("out"))
    assert result.config_file == str(tmp_path / "fh-analytik.toml")
    assert result.label_mappings == sum(len(m) for m in config.label_mappings.values()) > 0
    assert result.unassigned_files == ["notizen.txt"]


def test_refused_run_leaves_previous_processed_data_byte_for_byte(tmp_path):
    raw = raw_folder(tmp_path, "erstkontakte_gueltig.csv", "kosten_hze.csv")
    out = tmp_path / "out"
    ingest.prepare(raw, out, make_config(tmp_path), today=TODAY)
    before = snapshot(out)
    assert "manifest.json" in before and "erstkontakte.parquet" in before
    shutil.copy(FIXTURES / "erstkontakte_personendaten.csv", raw / "erstkontakte_personendaten.csv")
    with pytest.raises(FhError):
        ingest.prepare(raw, out, make_config(tmp_path), today=TODAY)
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fh-analytik.toml", "out", "raw"]


def test_target_with_foreign_files_is_not_replaced(tmp_path):
    raw = raw_folder(tmp_path, "erstkontakte_gueltig.csv")
    target = tmp_path / "dokumente"
    target.mkdir()
    (target / "brief.docx").write_bytes(b"wichtig")
    with pytest.raises(FhError, match="nicht von fh-analytik"):
        ingest.prepare(raw, target, make_config(tmp_path), today=TODAY)
    assert (target / "brief.docx").read_bytes() == b"wichtig"


@pytest.mark.parametrize("where", ["gleich", "darin", "darueber"])
def test_target_and_raw_folder_inside_each_other_are_refused(tmp_path, where):
    # The same folder, the target inside the raw data (raw/aufbereitet) or the raw data
    # inside the target: the swap would replace the raw files. Nothing is written.
    raw = raw_folder(tmp_path, "erstkontakte_gueltig.csv")
    target = {"gleich": raw, "darin": raw / "aufbereitet", "darueber": tmp_path}[where]
    config = make_config(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    with pytest.raises(FhError) as refused:
        ingest.prepare(raw, target, config, today=TODAY)
    assert refused.value.message == (
        f"Zielordner {target} und Rohdatenordner {raw} dürfen nicht ineinander liegen "
        "(die Rohdaten würden sonst ersetzt)."
    )
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_a_target_that_is_a_file_is_refused_and_a_missing_parent_is_created(tmp_path):
    raw = raw_folder(tmp_path, "erstkontakte_gueltig.csv")
    (tmp_path / "datei").write_text("kein Ordner", encoding="utf-8")
    with pytest.raises(FhError) as refused:
        ingest.prepare(raw, tmp_path / "datei", make_config(tmp_path), today=TODAY)
    assert refused.value.message == f"Zielordner {tmp_path / 'datei'} ist eine Datei, kein Ordner."
    deep = tmp_path / "neu" / "tief" / "aufbereitet"
    ingest.prepare(raw, deep, make_config(tmp_path), today=TODAY)
    assert (deep / "erstkontakte.parquet").is_file()
    assert sorted(p.name for p in deep.parent.iterdir()) == ["aufbereitet"]  # no build left


def test_the_foreign_files_of_a_target_are_named_at_most_five(tmp_path):
    raw = raw_folder(tmp_path, "erstkontakte_gueltig.csv")
    target = tmp_path / "dokumente"
    target.mkdir()
    for name in "abcdefg":
        (target / f"{name}.txt").write_text(name, encoding="utf-8")
    with pytest.raises(FhError) as info:
        ingest.prepare(raw, target, make_config(tmp_path), today=TODAY)
    assert info.value.message == (
        f"Zielordner {target} enthält Dateien, die nicht von fh-analytik stammen "
        "(a.txt, b.txt, c.txt, d.txt, e.txt). Er wird nicht ersetzt – bitte einen leeren "
        "oder einen früheren Zielordner angeben."
    )


def test_a_target_folder_that_cannot_be_read_is_refused_in_german(tmp_path, monkeypatch):
    # As root every folder is readable; the listing is made to fail as it would for a user
    # without read permission.
    from pathlib import Path

    raw = raw_folder(tmp_path, "erstkontakte_gueltig.csv")
    target = tmp_path / "gesperrt"
    target.mkdir()
    real_iterdir = Path.iterdir

    def iterdir(self):
        if self == target:
            raise PermissionError(13, "Permission denied")
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    with pytest.raises(FhError) as refused:
        ingest.prepare(raw, target, make_config(tmp_path), today=TODAY)
    assert refused.value.message == f"Zielordner {target} ist nicht lesbar: keine Berechtigung."


# --- the future-date rule at its edge (issue #13) ------------------------------------------


def _checked_contacts(rows: list[tuple[str, str, str]]):
    """Raw text rows (fall_id, datum_erstkontakt, datum_meldung) of one file, checked."""
    import pyarrow as pa

    from analysis.contract.schema import TABLES
    from analysis.ingest.manifest import FileReport
    from analysis.ingest.read import LINE_COL, Sheet
    from analysis.ingest.validate import check_file, validate

    table = TABLES["erstkontakte"]
    cells = {c: [""] * len(rows) for c in table.column_names}
    cells["fall_id"] = [r[0] for r in rows]
    cells["standort_id"] = ["a"] * len(rows)
    cells["datum_erstkontakt"] = [r[1] for r in rows]
    cells["datum_meldung"] = [r[2] for r in rows]
    cells["zugangsweg"] = ["hebamme"] * len(rows)
    frame = pa.table(cells | {LINE_COL: list(range(2, len(rows) + 2))})
    sheet = Sheet(FileReport("erstkontakte.csv", "0" * 64), frame, [])
    part = check_file(table, sheet, sites=None, config=None, today=TODAY)
    return validate(table, [part], ["erstkontakte.csv"])


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", " A", "b "]), st.sampled_from(["F1", "F2", "f1", ""])),
        max_size=12,
    ),
    st.integers(1, 3),
)
def test_duplicate_keys_counted_in_a_table_as_when_numbered_whole(rows, files):
    # _check_key counts small keys in a table and looks further only at keys that come
    # more than once; large keys are numbered whole. Both give the same rejects, the first
    # row of a key (file order, then line) kept.
    import importlib

    import pyarrow as pa

    from analysis.contract.schema import TABLES

    checks = importlib.import_module("analysis.ingest.validate")
    from analysis.ingest.manifest import FileReport
    from analysis.ingest.read import LINE_COL, Sheet
    from analysis.ingest.validate import check_file, validate

    table = TABLES["erstkontakte"]
    sites = pd.Series(["a", "b"])
    names = [f"erstkontakte_{i}.csv" for i in range(files)]

    def outcome():
        parts = []
        for i in range(files):
            mine = rows[i::files]
            cells = {c: [""] * len(mine) for c in table.column_names}
            cells["standort_id"] = [r[0] for r in mine]
            cells["fall_id"] = [r[1] for r in mine]
            cells["datum_erstkontakt"] = ["01.03.2014"] * len(mine)
            cells["zugangsweg"] = ["hebamme"] * len(mine)
            columns = {c: pa.array(v, pa.string()) for c, v in cells.items()}
            frame = pa.table(columns | {LINE_COL: pa.array(range(2, len(mine) + 2), pa.int64())})
            sheet = Sheet(FileReport(names[i], "0" * 64), frame, [])
            parts.append(check_file(table, sheet, sites=sites, config=None, today=TODAY))
        checked = validate(table, parts, names)
        return checked.accepted.to_dict("list"), checked.rejects.to_dict("list")

    counted = outcome()
    original = checks._counting_table
    checks._counting_table = lambda n: 0  # every key numbered whole
    try:
        whole = outcome()
    finally:
        checks._counting_table = original
    assert counted == whole
    assert len(counted[0]["fall_id"]) == len({(s.strip().lower(), f) for s, f in rows if f})


_DATE_PART = st.text(alphabet=st.sampled_from([*"0123456789", "٣", "３", "x", " "]), max_size=5)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.builds(lambda d, m, y: f"{d}.{m}.{y}", _DATE_PART, _DATE_PART, _DATE_PART),
            st.builds(lambda y, m, d: f"{y}-{m}-{d}", _DATE_PART, _DATE_PART, _DATE_PART),
            st.builds(
                lambda d, m, y, iso: f"{y:04d}-{m:02d}-{d:02d}" if iso else f"{d}.{m}.{y:04d}",
                st.integers(0, 32),
                st.integers(0, 13),
                st.integers(0, 9999),
                st.booleans(),
            ),
            st.text(alphabet=st.sampled_from(list("0129.-+ ä")), max_size=12),
        ),
        max_size=8,
    )
)
def test_dates_are_read_as_pandas_reads_them(texts):
    # Day and month with one or two digits, four-digit years from 0001 to 9999, ISO dates,
    # 31.02. and year 0000 (no day), digits of other scripts (not dates).
    from analysis.ingest.validate import _dates_by_pandas, _parse_dates_us

    text = pd.Series(texts, dtype=pd.StringDtype("pyarrow", na_value=np.nan))
    ours = _parse_dates_us(text)
    assert ours.dtype == "datetime64[us]"
    pd.testing.assert_series_equal(ours, _dates_by_pandas(text), check_names=False)


def test_dates_at_the_edges_are_read_as_pandas_reads_them():
    from analysis.ingest.validate import _dates_by_pandas, _parse_dates_us

    texts = [
        "0000-01-01",  # NumPy's ISO reading has a year 0 ...
        "0000-02-29",
        "01.01.0000",  # ... strptime has not
        "29.02.0000",
        "٢٠١٤-01-01",  # digits of other scripts: read by strptime
        "1.1.٢٠١٤",
        "１.１.２０１４",  # (but not these)
        "٠٠٠٠-01-01",
        "31.02.2014",
        "2014-02-29",
        "2016-02-29",
        "9999-12-31",
        "1.1.1",
        "",
    ]
    text = pd.Series(texts, dtype=pd.StringDtype("pyarrow", na_value=np.nan))
    ours = _parse_dates_us(text)
    pd.testing.assert_series_equal(ours, _dates_by_pandas(text), check_names=False)
    assert ours.isna().tolist() == [
        False, False, True, True, False, False, True, True, True, True, False, False, True, True
    ]  # fmt: skip


def test_a_long_text_in_a_date_column_is_no_date_and_not_kept():
    from analysis.ingest.validate import _date, _parse_dates_us

    long = "01.03.2014" + " x" * 50_000
    before = _date.cache_info().currsize
    text = pd.Series([long, "01.03.2014"], dtype=pd.StringDtype("pyarrow", na_value=np.nan))
    values = _parse_dates_us(text)
    assert values.isna().tolist() == [True, False]
    assert _date.cache_info().currsize <= before + 1  # only the date itself


def _numbers_by_pandas(text: pd.Series) -> pd.Series:
    """The rule as pandas applied it before ``_number`` (issue #11): pandas' text methods
    on the pyarrow-backed texts a column's distinct values are."""
    t = text.str.replace(r"[\s\u00a0\u202f]", "", regex=True).str.removesuffix("€")
    german = t.str.fullmatch(r"[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?") & (
        t.str.contains(",", regex=False) | t.str.contains(r"\d\.\d{3}(?:\.|$)", regex=True)
    )
    plain = t.str.fullmatch(r"[+-]?\d+(?:\.\d+)?") & ~german
    g = t.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    normal = g.where(german, t.where(plain))
    values = pd.to_numeric(normal, errors="coerce").astype("float64")
    return values.where(np.isfinite(values))


_NUMBER_CHARS = [*"0123456789.,+-€ ", "\u00a0", "\u202f", "\t", "\n", "\v", "\x1c", "\u2003"]
_NUMBER_CHARS += ["٣", "３", "e", "E"]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet=st.sampled_from(_NUMBER_CHARS), max_size=16),
            st.builds(
                lambda n, sep, dec: f"{n:,}".replace(",", sep) + dec,
                st.integers(-(10**12), 10**12),
                st.sampled_from([".", ",", " ", ""]),
                st.sampled_from(["", ",5", ".25", ",00 €", " €", "€"]),
            ),
            st.floats(allow_nan=False, allow_infinity=False).map(repr),
        ),
        max_size=8,
    )
)
def test_numbers_are_read_as_pandas_read_them(texts):
    # German and plain numbers, thousands groups, blanks of every script, digits of other
    # scripts, exponents, signs, the euro sign.
    from analysis.ingest.validate import parse_numbers

    text = pd.Series(texts, dtype=pd.StringDtype("pyarrow", na_value=np.nan))
    _assert_same_numbers(parse_numbers(text), _numbers_by_pandas(text))


def _assert_same_numbers(ours: pd.Series, theirs: pd.Series) -> None:
    """The same numbers, the same NaN; a number may lie one unit in the last place away:
    pandas rounded a text with a leading + and 16 or more digits that far off (depending
    on the other texts of the column), ``float`` rounds it correctly."""
    assert ours.index.equals(theirs.index) and ours.dtype == theirs.dtype == np.float64
    assert ours.isna().tolist() == theirs.isna().tolist()
    valid = ours.notna().to_numpy()
    np.testing.assert_array_max_ulp(ours.to_numpy()[valid], theirs.to_numpy()[valid], maxulp=1)


def test_a_long_number_with_a_sign_is_rounded_correctly():
    # The one deliberate difference from the pandas rule: correctly rounded (pandas was a
    # unit in the last place off here), with or without the sign.
    from analysis.ingest.validate import parse_numbers

    texts = ["+920,2373370239837", "920,2373370239837", "+7975913251525376759", "x"]
    text = pd.Series(texts, dtype=pd.StringDtype("pyarrow", na_value=np.nan))
    got = parse_numbers(text).tolist()
    assert got[:3] == [920.2373370239837, 920.2373370239837, 7975913251525376759.0]
    assert np.isnan(got[3])


def test_numbers_at_the_edges_are_read_as_pandas_read_them():
    from analysis.ingest.validate import _number, parse_numbers

    texts = [
        "1.234",  # a thousands group: German
        "1.23",  # a decimal point: plain
        "1.234.5",
        "12.345.678,9 €",
        "1.234\n",  # blanks of every script go first
        "1\v2\u2003 34",
        "-0",
        "+7",
        "007",
        "9" * 400,  # no float holds it
        "9" * 60,  # parsed, not kept
        "1e5",
        "٣",
        "",
        " ",
    ]
    text = pd.Series(texts, dtype=pd.StringDtype("pyarrow", na_value=np.nan))
    _number.cache_clear()
    ours = parse_numbers(text)
    pd.testing.assert_series_equal(ours, _numbers_by_pandas(text))
    assert ours.isna().tolist() == [
        False, False, True, False, False, False, False, False, False, True, False, True, True,
        True, True,
    ]  # fmt: skip
    assert _number.cache_info().currsize == len(texts) - 2  # not the two long ones


def test_a_date_today_is_accepted_and_tomorrow_is_in_the_future():
    # TODAY is 23.11.2026: contact today -> accepted; contact tomorrow (24.11.) -> rejected;
    # a referral tomorrow with a contact today is rejected for the referral date alone
    # (and for referral after contact).
    checked = _checked_contacts(
        [
            ("heute", "23.11.2026", "23.11.2026"),
            ("gestern", "22.11.2026", ""),
            ("morgen", "24.11.2026", ""),
            ("meldung_morgen", "23.11.2026", "24.11.2026"),
        ]
    )
    assert checked.accepted["fall_id"].tolist() == ["heute", "gestern"]
    reasons = dict(zip(checked.rejects["zeile"], checked.rejects["gruende"], strict=True))
    assert set(reasons) == {4, 5}
    assert "datum_erstkontakt: „24.11.2026“ liegt in der Zukunft" in reasons[4]
    assert "datum_meldung: „24.11.2026“ liegt in der Zukunft" in reasons[5]


def test_the_reason_counts_name_each_check_by_column(tmp_path):
    # The manifest and the summary count rejects per check; each check is named by its
    # column ("zugangsweg: unbekannter Wert"), not by the value that failed it.
    result = run(tmp_path, "erstkontakte_fehler.csv")
    counts = result.tables["erstkontakte"].reason_counts
    assert counts["zugangsweg: unbekannter Wert"] == 1  # line 4: zauberei
    assert counts["alleinerziehend: unbekannter Wert"] == 1  # line 12: vielleicht
    assert not any("zauberei" in kind or "vielleicht" in kind for kind in counts)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["tabellen"]["erstkontakte"]["ablehnungsgruende"] == dict(counts.most_common())


def test_the_manifest_entry_of_a_table_lists_every_file_as_read():
    from collections import Counter

    from analysis.ingest.manifest import FileReport, TableReport, table_entry

    report = TableReport(
        "erstkontakte",
        True,
        files=[
            FileReport(
                "a.xlsx",
                "1" * 64,
                rows=3,
                header_line=2,
                skipped_rows=["Titel"],
                unknown_columns=["Notiz"],
                encoding="XLSX",
                sheet="Erstkontakte",
            ),
            FileReport(
                "b.csv",
                "2" * 64,
                rows=5,
                encoding="UTF-8",
                delimiter=";",
                unknown_columns=["Bemerkung", "Notiz"],
                encoding_error_lines=[4],
            ),
        ],
        read=8,
        accepted=6,
        rejected=2,
        reason_counts=Counter({"x": 1, "y": 2}),
        parquet_sha256="3" * 64,
    )
    assert table_entry(report) == {
        "vorhanden": True,
        "gelesen": 8,
        "angenommen": 6,
        "abgelehnt": 2,
        "dateien": [
            {
                "datei": "a.xlsx",
                "sha256": "1" * 64,
                "zeilen": 3,
                "kodierung": "XLSX",
                "trennzeichen": None,
                "blatt": "Erstkontakte",
                "kopfzeile": 2,
                "uebersprungene_zeilen": ["Titel"],
                "unbekannte_spalten": ["Notiz"],
                "zeilen_mit_kodierungsfehler": [],
            },
            {
                "datei": "b.csv",
                "sha256": "2" * 64,
                "zeilen": 5,
                "kodierung": "UTF-8",
                "trennzeichen": ";",
                "blatt": None,
                "kopfzeile": 1,
                "uebersprungene_zeilen": [],
                "unbekannte_spalten": ["Bemerkung", "Notiz"],
                "zeilen_mit_kodierungsfehler": [4],
            },
        ],
        "unbekannte_spalten": ["Bemerkung", "Notiz"],
        "uebersprungene_zeilen": 1,
        "ablehnungsgruende": {"y": 2, "x": 1},
        "abgelehnt_datei": "abgelehnt/erstkontakte.csv",
        "parquet_sha256": "3" * 64,
    }
    assert list(table_entry(report)["ablehnungsgruende"]) == ["y", "x"]  # most frequent first


def test_a_raw_value_in_a_reason_is_shown_up_to_100_characters_then_cut():
    from analysis.ingest.validate import _SHOWN_CHARS, _Reasons

    assert _SHOWN_CHARS == 100
    reasons = _Reasons(4)
    values = pd.Series(["x" * 100, "y" * 101, "kurz", None])
    reasons.add(np.array([True, True, False, True]), "art", "wert: ", values, " ist falsch")
    assert reasons.joined().to_dict() == {
        0: "wert: „" + "x" * 100 + "“ ist falsch",  # exactly the limit: whole
        1: "wert: „" + "y" * 99 + "…“ ist falsch",  # one more: 99 characters and "…"
        3: "wert: „“ ist falsch",
    }
    assert reasons.bad.tolist() == [True, True, False, True] and reasons.counts == {"art": 3}
