"""``docs/datenvertrag.md`` aus dem Schema erzeugen (Datenvertrag für Menschen).

The contract lives once in ``contract.schema``; this renders it in German so the
documentation cannot drift from the code (a test keeps the file current).
"""

from __future__ import annotations

from pathlib import Path

from analysis.contract.safety import SITE_ID_RULE
from analysis.contract.schema import (
    CATEGORIES,
    DATE_FLOOR,
    GESAMT,
    HEADER_WINDOW,
    INSTITUTION_WORDS,
    JN_ALIASES,
    JN_CODES,
    MANIFEST,
    MAX_LINE_CHARS,
    MAX_SHRINK,
    PERSONAL_DATA_ABBREVIATIONS,
    PERSONAL_DATA_STEMS,
    PERSONAL_NAME_STEM,
    REJECTS_FOLDER,
    RESERVED_SITE_IDS,
    SITE_ID_PATTERN,
    TABLES,
    XLSX_MAX_RATIO,
    XLSX_MAX_UNPACKED,
    Column,
    Table,
)
from analysis.formatting import bound, day, number, percent

# --------------------------------------------------------------------------- documentation

_TYPE_DE = {
    "str": "Text",
    "int": "ganze Zahl",
    "float": "Zahl",
    "date": "Datum",
    "cat": "Kategorie",
    "jn": "ja/nein",
}
CONTRACT_DOC = Path("docs") / "datenvertrag.md"


def _column_rules(table: Table, col: Column) -> str:
    rules: list[str] = []
    if col.type in ("int", "float"):
        upper = (
            "aktuelles Jahr"
            if col.max_is_current_year
            else (bound(col.max) if col.max is not None else None)
        )
        lower = bound(col.lower) if col.lower is not None else None
        if upper is not None:
            rules.append(f"{lower} bis {upper}")
        elif lower is not None:
            rules.append(f"mindestens {lower}")
    if col.type == "cat":
        rules.append(f"Liste [{col.category}](#liste-{col.category})")
    if col.type == "jn":
        aliases = ", ".join(f"`{k}`" for k in JN_ALIASES if k and k not in JN_CODES)
        rules.append(f"`ja`, `nein`, `unbekannt`; auch {aliases}; leer = `unbekannt`")
    if col.type == "date":
        rules.append("`TT.MM.JJJJ` oder `JJJJ-MM-TT`")
        rules.append(f"vom {day(DATE_FLOOR)} (einstellbar) bis heute")
    if col.site_id:
        rules.append("[Regel für Standortkennungen](#standortkennungen)")
    if col.name == table.site_column:
        rules.append("muss in `standorte` vorkommen")
    if col.name == table.area_column:
        rules.append(f"eine `standort_id` oder `{GESAMT}`")
    if (
        col.type == "cat"
        and not col.required
        and "unbekannt" in CATEGORIES[col.category or ""].codes
    ):
        rules.append("leer = `unbekannt`")
    return "; ".join(rules)


def contract_markdown() -> str:
    """The user-facing data contract (German), generated from ``schema.py``."""
    out: list[str] = [
        "# Datenvertrag: welche Rohdaten fh-analytik erwartet",
        "",
        "<!-- Erzeugt aus src/analysis/contract/schema.py durch analysis.contract.docs.contract_markdown(); "
        "nicht von Hand ändern. Neu erzeugen: .venv/bin/python -m analysis.contract.docs -->",
        "",
        "Dieses Dokument beschreibt, was eine Kommune in den Rohdatenordner (`data/raw/`) legt, "
        "was `fh-analytik aufbereiten` daraus macht und was mit fehlerhaften Angaben geschieht. "
        "Es wird aus dem Schema im Code erzeugt und ist deshalb immer auf dem Stand der Prüfungen.",
        "",
        "## Dateien",
        "",
        "- Ein Ordner, standardmäßig `data/raw/`. Eine Tabelle darf aus mehreren Dateien bestehen: "
        "jede Datei, deren Name mit dem Tabellennamen beginnt (`erstkontakte_2013.csv`, "
        "`erstkontakte-2014.xlsx`), gehört dazu; die Dateien werden in der Reihenfolge ihrer "
        "Namen aneinandergehängt. Andere Dateien werden ignoriert und in der Zusammenfassung genannt.",
        "- CSV wie aus Tabellenkalkulation oder Fachverfahren exportiert: Trennzeichen `;`, `,` oder "
        "Tabulator (erkannt an der Kopfzeile); Zeichenkodierung UTF-8 (mit oder ohne BOM) oder "
        "Windows-1252, je Datei nach einer festen Regel statt durch Raten: Gültiges UTF-8 ist "
        "UTF-8. Sonst entscheiden die Zeilen: Gibt es mindestens so viele Zeilen mit gültigen "
        "UTF-8-Umlauten wie Zeilen, die kein UTF-8 sind, ist die Datei UTF-8 und diese wenigen "
        "Zeilen werden mit dem Grund „Zeichenkodierung“ abgelehnt; sonst ist sie Windows-1252, "
        "und abgelehnt werden die Zeilen mit UTF-8-Umlauten. Die Zusammenfassung nennt sie. "
        "Eine einzelne fremde Zeile macht so nie die ganze Datei unlesbar.",
        f"- Eine Zeile mit mehr als {number(MAX_LINE_CHARS)} Zeichen wird abgelehnt (ohne ihre "
        "Werte). Eine XLSX-Datei, die sich auf mehr als "
        f"{number(XLSX_MAX_UNPACKED / 1024 / 1024)} MB entpackt oder deren Teile sich auf mehr "
        f"als das {XLSX_MAX_RATIO}-Fache ihrer Größe entpacken („Zip-Bombe“), wird nicht gelesen; "
        "große Tabellen bitte als CSV liefern.",
        "- Zahlen mit Dezimalkomma und Tausenderpunkt (`12.190.000,00`) oder schlicht "
        "(`12190000.00`), wahlweise mit `€` am Ende. Ein Punkt gefolgt von genau drei Ziffern "
        "(`1.200`) ist ein Tausenderpunkt. Datumsangaben als `TT.MM.JJJJ` oder `JJJJ-MM-TT`.",
        "- XLSX: das Tabellenblatt, das wie die Tabelle heißt, sonst das erste Blatt. Die "
        "Zeilennummer in den Ablehnungen ist die Zeilennummer im Blatt. Alte Formate "
        "(`.xls`, `.ods`) bitte als XLSX oder CSV speichern.",
        f"- Die Kopfzeile ist die erste der ersten {HEADER_WINDOW} nicht leeren Zeilen, die alle "
        "Pflichtspalten der Tabelle enthält; Zeilen darüber (Exporttitel, Datumszeile) werden "
        "übersprungen und in der Zusammenfassung genannt. Leerzeilen sind keine Datenzeilen. "
        "Ein Trennzeichen am Ende jeder Zeile (auch der Kopfzeile) ergibt keine zusätzliche Spalte.",
        "- Spaltennamen: Groß-/Kleinschreibung, Leerzeichen, Bindestriche und Umlaute spielen "
        "keine Rolle (`Datum Erstkontakt` = `datum_erstkontakt` = `Datum-Erstkontakt`). "
        "Unbekannte Spalten werden nicht übernommen und in der Zusammenfassung genannt.",
        "- Kategorien als Code (`geburtsklinik`) oder als deutsche Bezeichnung (`Geburtsklinik`), "
        "unabhängig von Groß-/Kleinschreibung und Leerzeichen. Eigene Formularbezeichnungen "
        "ordnet die Konfigurationsdatei `fh-analytik.toml` im Abschnitt `[zuordnungen.<spalte>]` "
        'einem Code zu (z. B. `"Klinikum Schlebusch" = "geburtsklinik"`).',
        "",
        "## Tabellen",
        "",
        "Pflichttabellen sind "
        + " und ".join(f"`{t.name}`" for t in TABLES.values() if t.required_table)
        + "; alle anderen sind freiwillig. Fehlt eine freiwillige Tabelle, bleiben die "
        "Kennzahlen, die sie brauchen, leer (`null`), und die Berichte sagen, welche Tabelle fehlt.",
        "",
        "Typen: " + ", ".join(f"`{k}` = {v}" for k, v in _TYPE_DE.items()) + ". Ganze Zahlen und "
        "Zahlen sind mindestens 0, wenn nicht anders angegeben. **Pflicht** heißt: die Spalte "
        "muss vorhanden und in jeder Zeile ausgefüllt sein; eine fehlende freiwillige Spalte "
        "gilt als durchgehend leer.",
    ]
    for table in TABLES.values():
        kind = "Pflichttabelle" if table.required_table else "freiwillig"
        out += ["", f"### `{table.name}` – {table.label} ({kind})", "", table.description, ""]
        out += ["| Spalte | Typ | Pflicht | Bedeutung | Regeln |", "|---|---|---|---|---|"]
        for col in table.columns:
            out.append(
                f"| `{col.name}` | {_TYPE_DE[col.type]} | {'**ja**' if col.required else ''} | "
                f"{col.label} | {_column_rules(table, col)} |"
            )
        extra: list[str] = []
        if table.key:
            extra.append(
                "Schlüssel: " + ", ".join(f"`{k}`" for k in table.key) + " – bei Wiederholung "
                "gilt das erste Vorkommen (nach Dateiname, dann Zeile); jedes spätere wird abgelehnt."
            )
        extra += [
            f"Zeilenregel `{r.left}` ≤ `{r.right}`, sonst abgelehnt: „{r.reason}“."
            for r in table.row_rules
        ]
        if table.total_column:
            group = ", ".join(f"`{k}`" for k in table.key if k != table.total_column)
            extra.append(
                f"Je {group} entweder eine Zeile `{table.total_column}` = `{GESAMT}` oder Zeilen "
                "je Art, nie beides (sonst würde doppelt gezählt): eine solche Gruppe wird als "
                "Ganzes abgelehnt."
            )
        if "name" in table.column_names:
            extra.append(
                "Die Spalte `name` ist hier der Name der Einrichtung (eine Spalte des Vertrags, "
                "keine Personendaten); in allen anderen Tabellen gilt `name` als Personendaten."
            )
        if extra:
            out += ["", *(f"- {e}" for e in extra)]
    out += ["", "## Kategorien", ""]
    for cat in CATEGORIES.values():
        if cat.name == "jn":
            continue
        out += [f"### Liste `{cat.name}`" + f' <a id="liste-{cat.name}"></a>', ""]
        if cat.groups:
            out += ["| Code | Bezeichnung | Gruppe im Bericht |", "|---|---|---|"]
            out += [f"| `{c}` | {lab} | {cat.groups.get(c, '')} |" for c, lab in cat.labels.items()]
        else:
            out += ["| Code | Bezeichnung |", "|---|---|"]
            out += [f"| `{c}` | {lab} |" for c, lab in cat.labels.items()]
        out.append("")
    out += [
        "## Standortkennungen",
        "",
        "Eine `standort_id` wird zum Ordnernamen und zum Teil der Adresse der Berichte "
        "(`reports/<jahr>/<standort_id>/…`). Sie wird daher getrimmt, kleingeschrieben und mit "
        "aufgelösten Umlauten (`ü` → `ue`, `ß` → `ss`) gespeichert und muss dann dem Muster "
        f"`{SITE_ID_PATTERN}` folgen ({SITE_ID_RULE}). Nicht erlaubt sind die reservierten "
        "Wörter " + ", ".join(f"`{w}`" for w in RESERVED_SITE_IDS) + ". Eine Zeile in "
        "`standorte`, die das verletzt, wird mit Grund abgelehnt; Zeilen anderer Tabellen, die "
        "auf sie verweisen, werden dann als „Standort unbekannt“ abgelehnt. Andere Tabellen "
        "dürfen einen Standort in derselben Schreibweise nennen (`Steinbüchel` = `steinbuechel`). "
        "Standortnamen (`name`) sind freier Text: Sie werden überall maskiert gezeigt (HTML, "
        "PDF, Grafiken) und in Excel als Text geschrieben, nie als Formel.",
        "",
        "## Was mit fehlerhaften Angaben geschieht",
        "",
        "Nichts geht verloren, nichts geschieht stillschweigend.",
        "",
        "- **Eine Datei, die als Ganzes unbrauchbar ist**, hält die Aufbereitung an, bevor "
        "etwas geschrieben wird (Exit-Status 2, deutsche Meldung mit Dateiname, Problem und dem, "
        "was gefunden wurde). Die bisherigen aufbereiteten Daten bleiben unverändert. Gründe: "
        "nicht lesbar (Kodierung, Binärdatei), keine Kopfzeile, eine Pflichtspalte fehlt, eine "
        "Pflichttabelle fehlt, eine Spalte mit personenbezogenen Daten.",
        "- **Personenbezogene Daten** sind Namen, Geburtsdaten, Anschriften, Telefonnummern, "
        "E-Mail-Adressen, Versicherungs-, Steuer- und Kontonummern von wem auch immer, in jeder "
        "Schreibweise und Abkürzung. Jeder Spaltenkopf außerhalb des Vertrags wird dafür "
        "vereinheitlicht (Unicode NFKC, Groß-/Kleinschreibung, Umlaute, ähnlich aussehende "
        "Buchstaben anderer Schriften wie das kyrillische `о`, weiche Trennstriche, Leerzeichen "
        "und Satzzeichen entfernt) und abgelehnt, wenn er einen dieser Wortteile enthält: "
        + ", ".join(f"`{w}`" for w in PERSONAL_DATA_STEMS)
        + f"; oder `{PERSONAL_NAME_STEM}` (wie in `Vorname`, `Mutter Name`, `surname`), außer "
        "direkt nach einer Einrichtung, einem Ort oder einer Sache ("
        + ", ".join(f"`{w}`" for w in INSTITUTION_WORDS)
        + "; etwa `Standortname`, `Name des Standorts`); oder wenn eines seiner Wörter eine "
        "dieser Abkürzungen ist: "
        + ", ".join(f"`{w}`" for w in PERSONAL_DATA_ABBREVIATIONS)
        + " (etwa `Tel.`, `Str.`, `geb. am`). Abgelehnt werden also z. B. `Name`, `Geb.-Datum`, "
        "`Geburtstag`, `Mailadresse`, `Handynummer`, `PLZ`, `Wohnort`, `Kind Name`, "
        "`Versicherten-Nr`, `IBAN`.",
        "- **Spalten außerhalb des Vertrags** werden nirgendwohin übernommen: nicht in die "
        "aufbereiteten Daten, nicht in die Ablehnungen, nicht in Berichte. Die Zusammenfassung "
        "nennt sie als nicht übernommen.",
        "- **Eine Tabelle, die schrumpft**: Hätte eine Tabelle nach der Aufbereitung keine Zeile "
        f"mehr oder mehr als {percent(MAX_SHRINK, 0)} weniger angenommene Zeilen als der "
        "bisherige Stand (einstellbar: `[aufbereitung] hoechster_rueckgang`), bricht die "
        "Aufbereitung mit Exit-Status 2 ab – ein Export nur mit Kopfzeile ersetzt so nie "
        "unbemerkt die Daten des Vorjahres. Gewollt bestätigt man es mit "
        "`fh-analytik aufbereiten --rueckgang-erlauben`.",
        "- **Eine Zeile, die eine Regel verletzt**, wird mit Datei, Zeilennummer in dieser "
        "Datei (wie im Editor bzw. im Tabellenblatt), den Originalwerten der Vertragsspalten und "
        f"allen Gründen nach `{REJECTS_FOLDER}/<tabelle>.csv` gelegt (UTF-8, `;`); die anderen "
        "Zeilen werden weiter verarbeitet. Regeln: richtiger Typ, bekannte Kategorie, "
        "Wertebereich, Pflichtangabe vorhanden, Datum zwischen dem "
        f"{day(DATE_FLOOR)} (einstellbar: `[aufbereitung] fruehestes_datum`) und heute, gültige "
        "Standortkennung, Standort vorhanden, die Zeilenregeln oben, eindeutiger Schlüssel, so "
        "viele Felder wie die Kopfzeile, gültig in der Zeichenkodierung der Datei, nicht zu "
        "lang. Von einer Zeile mit zu vielen oder zu wenigen Feldern werden keine Werte "
        "übernommen (sie lassen sich keiner Spalte zuordnen) – Datei und Zeilennummer führen "
        "zur Rohdatei. Ein Wert, den eine Tabellenkalkulation als Formel läse (Beginn mit `=`, "
        "`+`, `-`, `@`, Tabulator oder Wagenrücklauf, aber keine Zahl wie `-3`), bekommt in der "
        "Ablehnungsdatei ein vorangestelltes `'`.",
        "- **Abgleich**: Für jede Tabelle gilt gelesen = angenommen + abgelehnt; die Zahlen "
        f"stehen in der Zusammenfassung und in `{MANIFEST}` neben den Daten, zusammen mit der "
        "SHA-256-Prüfsumme jeder Rohdatei, der Konfiguration und ihrem Hash.",
        "- Die aufbereiteten Daten werden als Ganzes ausgetauscht: Der neue Stand wird in einem "
        "Nachbarordner gebaut und erst am Ende an die Stelle des alten gesetzt.",
        "",
        "## Warum keine Validierungsbibliothek",
        "",
        "Die Zeilenprüfung ist eigener, vektorisierter pandas-Code statt pandera oder "
        "frictionless: Wir brauchen für jede abgelehnte Zeile die Quelldatei, die Zeilennummer "
        "im Editor und *alle* Gründe auf Deutsch gesammelt; beides liefern diese Bibliotheken "
        "nicht ohne Nacharbeit je Zeile. Alle Regeln kommen aus einer Stelle, `schema.py`.",
        "",
    ]
    return "\n".join(out)


def write_contract_markdown(path: Path | None = None) -> Path:
    """Write ``docs/datenvertrag.md`` (relative to the repository root)."""
    from analysis.config import project_root

    target = path or project_root() / CONTRACT_DOC
    target.write_text(contract_markdown(), encoding="utf-8")
    return target


if __name__ == "__main__":  # pragma: no cover
    print(write_contract_markdown())
