"""Die Kennzahlen eines Jahres als JSON-fähiges dict (``fh-analytik kennzahlen``).

Puts together the blocks of reach, access routes and costs in the order of the
specification and applies the confidentiality rule; also renders ``docs/kennzahlen.md``
from the indicator catalogue so the documentation cannot drift from the code.
"""

from __future__ import annotations

from typing import Any

from analysis import data
from analysis.config import Config
from analysis.data import Dataset
from analysis.indicators import reach
from analysis.indicators.catalogue import CATALOGUE, Indicator
from analysis.protection import rules as confidentiality

_PROTECTION_TEXT = {
    "anzahl": "Fallzahl: unter der Mindestfallzahl (außer 0) nicht ausgewiesen (null); "
    "sekundär geheimgehalten nach dem Muster der ganzen Veröffentlichung des Jahres (alle "
    "Berichte und Kennzahlen), wenn sie sonst eine kleine Zahl zurückrechenbar machte; bei "
    "Rundung auf ein Vielfaches von 5 gerundet.",
    "anteil": "Anteil/Quote: nicht ausgewiesen, wenn Zähler oder Nenner eine geheimzuhaltende "
    "Fallzahl ist; bei Rundung aus den gerundeten Fallzahlen berechnet.",
    "mittelwert": "Mittelwert/Median: nicht ausgewiesen, wenn er auf weniger Fällen als der "
    "Mindestfallzahl beruht.",
    "keine": "Keine Geheimhaltung (kein Personenbezug oder gesamtstädtischer Betrag).",
}
_UNIT_TEXT = {
    "anzahl": "Anzahl",
    "anteil": "Anteil (0 bis 1)",
    "euro": "Euro",
    "prozent": "Prozent",
    "werktage": "Werktage",
    "verhaeltnis": "Verhältnis",
    "je_1000": "je 1.000",
    "monate": "Monate",
    "note": "Note (1 = sehr gut bis 5 = schlecht)",
    "liste": "Liste von Codes je Gebiet",
}
_KIND_TEXT = {
    "anzahl": "Anzahl (Zählung, weder Anteil noch Rate)",
    "anteil": "Anteil (Proportion: der Zähler ist Teil des Nenners)",
    "rate": "Rate (Zähler je 1.000 einer Bezugsgröße; der Zähler ist nicht Teil des Nenners)",
    "verhaeltnis": "Verhältnis (kein Anteil: der Zähler ist nicht Teil des Nenners)",
    "betrag": "Geldbetrag",
    "veraenderung": "Veränderung in Prozent",
    "median": "Median",
    "mittelwert": "Mittelwert",
    "liste": "Liste (keine Zahl)",
}
_DEFAULT_INTERVAL = {
    "anzahl": "Keins (Vollzählung der gelieferten Daten).",
    "anteil": "Wilson, 95 % (in den Berichten).",
    "rate": "Poisson, exakt nach Garwood, 95 %.",
    "verhaeltnis": "Keins.",
    "betrag": "Keins (Rechnungsbeträge).",
    "veraenderung": "Keins (Rechnungsbeträge und Fallzahlen, keine Stichprobe).",
    "median": "Keins.",
    "mittelwert": "Vorsichtiges t-Intervall, 95 % (untergrenze/obergrenze).",
    "liste": "Keins.",
}
_DEFAULT_CAVEAT = {
    "anzahl": "Zählt nur, was dokumentiert und angenommen wurde (abgelehnte Zeilen: "
    "Datenqualitätsbericht).",
    "anteil": "Fehlende Angaben verkleinern den Nenner oder bleiben im Nenner, wie in der "
    "Definition gesagt; kleine Nenner geben breite Intervalle.",
    "rate": "",
    "verhaeltnis": "",
    "betrag": "Nominal, nicht um Preissteigerung bereinigt (reale Werte im Kostenbericht).",
    "veraenderung": "Eine Veränderung zum Vorjahr sagt nichts über einen Trend.",
    "median": "",
    "mittelwert": "",
    "liste": "",
}


def key_indicators(
    dataset: Dataset,
    *,
    year: int | str,
    site: str = data.ALL_SITES,
    config: Config,
    confidential: bool = True,
) -> dict[str, Any]:
    """The key indicators of one year and site (``alle`` = every site) as the spec's JSON.

    Counts are ``int``, shares fractions, ``None`` where a value cannot be computed. With
    ``confidential`` the confidentiality rule of ``config`` is applied and the hidden paths
    are listed under ``geheimgehalten``; without it the exact values and an empty list.
    """
    site, year = data.check_selection(dataset, site, year, plausible_from=config.date_floor)
    dataset = dataset.up_to(year)  # as the year's report: nothing after the year
    # Imported here so that `kennzahlen` (and its docs renderer) loads even while the
    # access/cost modules are being changed; they are needed only for the values.
    from analysis.indicators import access_routes, costs

    contacts = data.contacts_for(dataset, site, year)
    reichweite = reach.reach_block(dataset, site=site, year=year)
    values: dict[str, Any] = {
        "jahr": year,
        "standort": site,
        "reichweite": reichweite,
        "zugangswege": access_routes.key_indicators(contacts, config.land),
        "kosten": costs.key_indicators(
            dataset.table("kosten_hze"),
            dataset.table("finanzierung"),
            site=site,
            year=year,
            first_contacts=reichweite["erstkontakte"],
        ),
        "qualitaet": quality_block(dataset, site=site, year=year),
    }
    hidden: list[str] = []
    if confidential:
        from analysis.protection.publication import indicator_cells, protected_year

        protected = protected_year(dataset, year, config)
        decided = {
            path: protected.is_hidden(cell)
            for path, cell in indicator_cells(site).items()
            if protected.knows(cell)
        }
        values, hidden = confidentiality.protect_indicators(
            values, config.min_count, round_to_5=config.round_to_5, decided=decided
        )
        values, hidden = _hide_derived_sums(values, hidden)
        values, hidden = _hide_bounds_of_hidden_means(values, hidden)
    values["geheimgehalten"] = hidden
    return values


def quality_block(dataset: Dataset, *, site: str, year: int) -> dict[str, Any]:
    """``qualitaet``: the families' feedback and the network partners of the year."""
    from analysis.indicators import quality

    if site == data.ALL_SITES:
        areas = [s for s, y in data.site_years(dataset) if y == year]
    else:
        areas = [site]
    return {
        "rueckmeldungen": quality.feedback_block(data.surveys_for(dataset, site, year)),
        "netzwerk": quality.network_block(dataset.table("netzwerkpartner"), year, site, areas),
    }


def _hide_bounds_of_hidden_means(
    values: dict[str, Any], hidden: list[str]
) -> tuple[dict[str, Any], list[str]]:
    """An interval around a hidden mean would show the mean (its middle): hidden with it."""
    now = set(hidden)
    items = ((values.get("qualitaet") or {}).get("rueckmeldungen") or {}).get("bewertungen") or {}
    for item, entry in items.items():
        if f"qualitaet.rueckmeldungen.bewertungen.{item}.mittelwert" not in now:
            continue
        for bound in ("untergrenze", "obergrenze"):
            if entry.get(bound) is not None:
                entry[bound] = None
                now.add(f"qualitaet.rueckmeldungen.bewertungen.{item}.{bound}")
    return values, [k for k in CATALOGUE if k in now]


def _hide_derived_sums(
    values: dict[str, Any], hidden: list[str]
) -> tuple[dict[str, Any], list[str]]:
    """A sum of published counts is hidden with every value built on it when a part is hidden."""
    from analysis.protection.publication import DERIVED_SUMS

    now = set(hidden)
    for block, parts in DERIVED_SUMS.items():
        if not any(p in now for p in parts):
            continue
        section, name = block.split(".", 1)
        node = values.get(section, {}).get(name)
        if not isinstance(node, dict):
            continue
        for key, value in list(node.items()):
            if value is not None:
                now.add(f"{block}.{key}")
            node[key] = None
    return values, [k for k in CATALOGUE if k in now]


# --- documentation ----------------------------------------------------------------------------
def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") if text else "–"


def _entry(ind: Indicator) -> list[str]:
    lines = [
        f"### {ind.label}",
        "",
        f"- **Pfad im JSON:** `{ind.key}`",
        f"- **Definition:** {_cell(ind.definition)}",
    ]
    if ind.numerator:
        lines.append(f"- **Zähler:** {_cell(ind.numerator)}")
    if ind.denominator:
        lines.append(f"- **Nenner:** {_cell(ind.denominator)}")
    lines += [
        f"- **Fehlende Werte:** {_cell(ind.missing)}",
        f"- **Einheit:** {_UNIT_TEXT.get(ind.unit, ind.unit)}",
        f"- **Art:** {_KIND_TEXT[ind.kind]}",
        f"- **Intervall:** {_cell(ind.interval or _DEFAULT_INTERVAL[ind.kind])}",
        f"- **Vorbehalte:** {_cell(ind.caveat or _DEFAULT_CAVEAT[ind.kind])}",
        f"- **Berechnet in:** `analysis.{ind.function}`"
        if ind.function
        else "- **Berechnet in:** –",
        f"- **Geheimhaltung:** {_PROTECTION_TEXT.get(ind.protection, ind.protection)}",
        "",
    ]
    return lines


_SECTIONS = {
    "reichweite": "Reichweite",
    "zugangswege": "Zugangswege",
    "kosten": "Kosten",
    "qualitaet": "Qualität (Rückmeldungen und Netzwerk)",
}


def catalogue_markdown() -> str:
    """``docs/kennzahlen.md``: every indicator of the catalogue, generated, in German."""
    lines = [
        "# Kennzahlen",
        "",
        "<!-- Erzeugt aus src/analysis/indicators/catalogue.py – nicht von Hand ändern; neu erzeugen mit",
        "     `.venv/bin/python tools/write_kennzahlen_doc.py`. -->",
        "",
        "Jede Kennzahl ist genau einmal im Katalog `analysis.indicators.catalogue.CATALOGUE` definiert: "
        "Zähler, Nenner, Regel für fehlende Werte, Einheit, die berechnende Funktion und die "
        "Behandlung durch die Geheimhaltung. `fh-analytik kennzahlen` gibt die Werte unter "
        "dem jeweiligen Pfad aus; Anteile sind Bruchteile zwischen 0 und 1, ein nicht "
        "berechenbarer Wert ist `null`.",
        "",
        "Geheimhaltung: Fallzahlen unter der Mindestfallzahl (Standard 3, außer 0) und darauf "
        "beruhende Anteile und Mittelwerte werden nicht veröffentlicht (•); welche Werte "
        "zusätzlich verborgen werden, damit sich keine kleine Zahl zurückrechnen lässt, "
        "entscheidet ein Muster für die ganze Veröffentlichung des Jahres, das auch die "
        "Berichte verwenden (docs/annahmen.md, G1–G5). Die verborgenen Pfade stehen in "
        "`geheimgehalten`.",
        "",
    ]
    current = None
    for ind in CATALOGUE.values():
        section = ind.key.split(".", 1)[0]
        if section != current:
            current = section
            lines += [f"## {_SECTIONS.get(section, section.capitalize())}", ""]
        lines += _entry(ind)
    return "\n".join(lines).rstrip() + "\n"
