"""Write the report templates in notebooks/berichte/ (and the exploration notebook).

The notebooks are thin and share one cell structure; writing them from this script keeps
them uniform. Run `python tools/write_notebooks.py` after changing a section list, then
review the diff. Stored without outputs.
"""

from __future__ import annotations

from pathlib import Path

import nbformat as nbf

ROOT = Path(__file__).resolve().parents[1]
SETUP = (
    "from analysis import report_sections as abschnitte\n"
    "from analysis import style\n"
    "from analysis.report_cells import open_report, show_data_basis\n"
    "\n"
    "style.apply_style()\n"
    "bericht = open_report(standort, jahr, daten)"
)

REPORTS = {
    "reichweite": (
        "Reichweite der Frühen Hilfen",
        "Wie viele Familien erreichen die Frühen Hilfen an einem Standort (oder an allen "
        "Standorten zusammen) in einem Jahr – wann und aus welchen Zielgruppen?",
        [
            (
                "Überblick",
                "Erstkontakte im Verhältnis zu den Geburten im Gebiet, Willkommensbesuche "
                "und der Anteil der schon in der Schwangerschaft erreichten Familien, jeweils mit "
                "der Bezugsgröße n und einem 95-%-Intervall.",
                "reach_overview",
            ),
            (
                "Zeitpunkt des Erstkontakts",
                "In welcher Lebensphase des Kindes kamen die Familien? "
                "Frühe Hilfen wollen Familien möglichst früh erreichen.",
                "reach_life_phase",
            ),
            (
                "Zielgruppen",
                "Erreichen wir belastete Familien? Verglichen wird der Anteil unter den "
                "Erstkontakten mit einem Vergleichswert für die Bevölkerung.",
                "reach_target_groups",
            ),
            (
                "Angebote",
                "Termine, Besuche und teilnehmende Familien nach Angebotsart laut "
                "Jahresstatistik des Standorts.",
                "reach_offers",
            ),
            (
                "Verlauf",
                "Die Erreichungsquote über alle Jahre, in denen der Standort geöffnet war.",
                "reach_trend",
            ),
        ],
        ["standorte", "erstkontakte", "angebote", "willkommensbesuche", "bevoelkerung"],
    ),
    "zugangswege": (
        "Zugangswege zu den Frühen Hilfen",
        "Über welche Wege finden Familien zu den Frühen Hilfen, wie schnell wird nach einer "
        "Meldung Kontakt aufgenommen und wohin werden sie weitervermittelt?",
        [
            (
                "Zugangswege",
                "Jeder Zugangsweg des Erstkontaktbogens mit Anzahl und Anteil.",
                "routes_table",
            ),
            (
                "Gruppen von Zugangswegen",
                "Die Zugangswege zusammengefasst wie im Datenvertrag "
                "(Gesundheitswesen, Jugendhilfe und Soziales, aufsuchend, eigener Zugang, sonstige).",
                "route_groups",
            ),
            (
                "Reaktionszeit",
                "Werktage zwischen einer Meldung (z. B. durch die Geburtsklinik) und "
                "dem Erstkontakt.",
                "response_time",
            ),
            (
                "Weitervermittlung",
                "Für wie viele Familien wurde eine Weitervermittlung in andere "
                "Hilfen vereinbart (Lotsenfunktion)?",
                "onward_referrals",
            ),
        ],
        ["standorte", "erstkontakte"],
    ),
    "kostenentwicklung": (
        "Kostenentwicklung",
        "Wie entwickeln sich die Ausgaben für Hilfen zur Erziehung, und was kosten die Frühen "
        "Hilfen je erreichter Familie?",
        [
            (
                "Hilfen zur Erziehung",
                "Ausgaben und mittlere Fallzahlen der Hilfen zur Erziehung "
                "(gesamtstädtisch) bis zum Berichtsjahr, mit Veränderung zum Vorjahr.",
                "hze_development",
            ),
            (
                "Budget der Frühen Hilfen",
                "Finanzierung nach Quelle für den Standort (bei allen "
                "Standorten: jede Zeile des Jahres, auch die gesamtstädtische Koordination).",
                "fh_budget",
            ),
        ],
        ["standorte", "erstkontakte", "kosten_hze", "finanzierung"],
    ),
    "gesamtbericht": (
        "Gesamtbericht Frühe Hilfen",
        "Wie stehen die Standorte in einem Jahr nebeneinander – Reichweite, Zugangswege und "
        "Kosten der ganzen Kommune auf einen Blick?",
        [
            (
                "Standorte im Vergleich",
                "Erstkontakte, Geburten und Erreichungsquote je Standort "
                "und für alle Standorte zusammen.",
                "sites_overview",
            ),
            (
                "Reichweite aller Standorte",
                "Die Kennzahlen der Reichweite für die ganze Kommune.",
                "reach_overview",
            ),
            (
                "Zugangswege je Standort",
                "Unterscheiden sich die Standorte darin, wie Familien zu "
                "ihnen finden? Geprüft mit dem Chi-Quadrat-Test.",
                "site_route_comparison",
            ),
            (
                "Zugangswege aller Standorte",
                "Die Gruppen von Zugangswegen für die ganze Kommune.",
                "route_groups",
            ),
            (
                "Reaktionszeit",
                "Werktage zwischen Meldung und Erstkontakt, alle Standorte.",
                "response_time",
            ),
            (
                "Hilfen zur Erziehung",
                "Ausgaben und Fallzahlen der Hilfen zur Erziehung.",
                "hze_development",
            ),
            (
                "Budget der Frühen Hilfen",
                "Finanzierung aller Standorte und der Koordination.",
                "fh_budget",
            ),
        ],
        [
            "standorte",
            "erstkontakte",
            "angebote",
            "willkommensbesuche",
            "bevoelkerung",
            "kosten_hze",
            "finanzierung",
        ],
    ),
    "datenqualitaet": (
        "Datenqualität",
        "Welche Daten wurden geliefert, wie viele Zeilen wurden angenommen oder abgelehnt und "
        "warum? (Nur für den internen Gebrauch.)",
        [
            (
                "Abgleich",
                "Für jede Tabelle: gelesene, angenommene und abgelehnte Zeilen und die Rohdateien.",
                "reconciliation",
            ),
            (
                "Gründe der Ablehnung",
                "Warum Zeilen beiseitegelegt wurden; die Zeilen selbst stehen "
                "mit Datei und Zeilennummer im Ordner abgelehnt/.",
                "rejection_reasons",
            ),
            (
                "Fehlende Tabellen",
                "Optionale Tabellen, die nicht geliefert wurden.",
                "missing_tables",
            ),
        ],
        [
            "standorte",
            "erstkontakte",
            "angebote",
            "willkommensbesuche",
            "bevoelkerung",
            "kosten_hze",
            "finanzierung",
            "nutzerbefragung",
            "netzwerkpartner",
        ],
    ),
}


def _notebook(cells: list) -> nbf.NotebookNode:
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (fh-analytik)",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = cells
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"zelle-{i:02d}"
    return nb


def _parameters(jahr: str) -> nbf.NotebookNode:
    cell = nbf.v4.new_code_cell(
        f"# Parameter (als Text; die Berichtsreihe setzt sie je Bericht)\n"
        f'standort = "alle"  # standort_id oder "alle"\njahr = "{jahr}"\n'
        f'daten = ""  # leer: der konfigurierte Datenordner'
    )
    cell.metadata["tags"] = ["parameters"]
    return cell


def report(name: str) -> nbf.NotebookNode:
    title, question, sections, tables = REPORTS[name]
    cells = [
        nbf.v4.new_markdown_cell(f"# {title}\n\n{question}"),
        _parameters("alle" if name == "datenqualitaet" else "2014"),
        nbf.v4.new_code_cell(SETUP),
    ]
    for heading, text, function in sections:
        cells.append(nbf.v4.new_markdown_cell(f"## {heading}\n\n{text}"))
        cells.append(nbf.v4.new_code_cell(f"abschnitte.show(abschnitte.{function}(bericht))"))
    cells.append(nbf.v4.new_code_cell(f"show_data_basis(bericht, {tables!r})"))
    return _notebook(cells)


def exploration() -> nbf.NotebookNode:
    md, code = nbf.v4.new_markdown_cell, nbf.v4.new_code_cell
    return _notebook(
        [
            md(
                "# Daten erkunden\n\nWie Sie die aufbereiteten Daten mit denselben Funktionen "
                "befragen, mit denen die Berichte rechnen. Ändern Sie die Werte in der nächsten "
                "Zelle und führen Sie das Notebook von oben aus (Menü *Run → Run All Cells*)."
            ),
            _parameters("2014"),
            code(
                "import pandas as pd\n\nfrom analysis import access_routes, costs, data, reach, style\n"
                "from analysis import report_sections as abschnitte\n"
                "from analysis.report_cells import open_report\n\nstyle.apply_style()\n"
                "bericht = open_report(standort, jahr, daten)\ndatensatz = bericht.dataset"
            ),
            md(
                "## Welche Standorte und Jahre gibt es?\n\n`data.site_years` liefert die Jahre, in "
                "denen ein Standort geöffnet war – genau die, für die Berichte entstehen."
            ),
            code(
                'pd.DataFrame(data.site_years(datensatz), columns=["Standort", "Jahr"])'
                '.groupby("Standort")["Jahr"].agg(["min", "max"])'
            ),
            md(
                "## Erstkontakte eines Standorts und Jahres\n\n`data.contacts_for(datensatz, standort, "
                "jahr)` wählt die Erstkontakte aus; `jahr=None` liefert alle Jahre. Die Tabelle ist "
                "**nicht** geheimgehalten – nur für die Arbeit im Haus."
            ),
            code(
                "kontakte = data.contacts_for(datensatz, bericht.site, bericht.year)\nkontakte.head()"
            ),
            md("## Kennzahlen mit denselben Funktionen wie im Bericht"),
            code("reach.figures(datensatz, bericht.site, bericht.year)"),
            code("access_routes.route_counts(kontakte)"),
            code("access_routes.response_time(kontakte, bericht.config.land)"),
            md(
                "## Ein eigener Schnitt: Zugangsgruppen nach Lebensphase\n\nJede Auswahl von Zeilen "
                "lässt sich an die Analysefunktionen geben, z. B. nur Familien im SGB-II-Bezug:"
            ),
            code(
                'sgb2 = kontakte[kontakte["sgb2_bezug"] == "ja"]\naccess_routes.group_shares(sgb2)'
            ),
            md(
                "## Ein Berichtsabschnitt, geheimgehalten wie im Bericht\n\nFür Veröffentlichungen "
                "immer die Abschnitte (mit Geheimhaltung) verwenden:"
            ),
            code("abschnitte.show(abschnitte.route_groups(bericht))"),
            md("## Kosten\n\n`costs.hze_development` liefert die Tabelle der HzE-Entwicklung."),
            code('costs.hze_development(datensatz.table("kosten_hze"))'),
        ]
    )


def main() -> None:
    target = ROOT / "notebooks" / "berichte"
    target.mkdir(parents=True, exist_ok=True)
    for name in REPORTS:
        nbf.write(report(name), target / f"{name}.ipynb")
    explore = ROOT / "notebooks" / "erkunden"
    explore.mkdir(parents=True, exist_ok=True)
    nbf.write(exploration(), explore / "daten_erkunden.ipynb")


if __name__ == "__main__":
    main()
