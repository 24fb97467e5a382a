"""The indicator catalogue: every key indicator defined once.

Each entry names its numerator, denominator, missing-data rule and unit (as US home-visiting
benchmark reporting defines each measure) and the function that computes it. ``kennzahlen``,
report tables and ``docs/kennzahlen.md`` all take labels and definitions from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from analysis.contract.schema import CATEGORIES

Unit = Literal["anzahl", "anteil", "euro", "prozent", "werktage", "verhaeltnis"]
#: How the confidentiality rule treats a value: a published count, a share (hidden when its
#: numerator or denominator is a small count), a mean/median over cases (hidden when computed
#: from fewer cases than the minimum) or money/aggregates that are not about persons.
Protection = Literal["anzahl", "anteil", "mittelwert", "keine"]


@dataclass(frozen=True)
class Indicator:
    key: str  # path in the `kennzahlen` JSON, e.g. "reichweite.erreichungsquote"
    label: str  # German label shown in reports
    unit: Unit
    definition: str  # German: what is counted
    numerator: str = ""
    denominator: str = ""
    missing: str = ""  # German: when the value is null
    function: str = (
        ""  # "package.module.function" below analysis that computes it: one hop from report to code
    )
    protection: Protection = "anzahl"
    numerator_key: str | None = None  # for shares: the count the share is computed from
    denominator_key: str | None = None
    cases_key: str | None = None  # for means/medians: how many cases it rests on


_E: list[Indicator] = []


def _add(*items: Indicator) -> None:
    _E.extend(items)


# --- Reichweite ------------------------------------------------------------------------------
_add(
    Indicator(
        "reichweite.erstkontakte",
        "Erstkontakte",
        "anzahl",
        "Angenommene Erstkontakte mit Datum des Erstkontakts im Berichtsjahr am Standort "
        "(alle: an allen Standorten).",
        missing="Nie leer; ein Jahr ohne Daten hat 0 Erstkontakte.",
        function="indicators.reach.first_contacts",
    ),
    Indicator(
        "reichweite.geburten",
        "Geburten",
        "anzahl",
        "Geburten laut Tabelle bevoelkerung für Jahr und Gebiet; für alle die Zeile gesamt, "
        "sonst die Summe über die Standorte.",
        missing="Leer, wenn für Jahr und Gebiet keine Geburtenzahl vorliegt.",
        function="indicators.reach.births",
    ),
    Indicator(
        "reichweite.erreichungsquote",
        "Erreichungsquote (Erstkontakte je Geburt)",
        "anteil",
        "Erstkontakte im Jahr geteilt durch die Geburten desselben Gebiets und Jahres.",
        numerator="Erstkontakte",
        denominator="Geburten",
        missing="Leer, wenn keine Geburtenzahl vorliegt oder sie 0 ist.",
        function="indicators.reach.reach_rate",
        protection="anteil",
        numerator_key="reichweite.erstkontakte",
        denominator_key="reichweite.geburten",
    ),
    Indicator(
        "reichweite.besuche",
        "Besuche in Angeboten",
        "anzahl",
        "Summe der Besuche/Teilnahmen laut Angebotsstatistik für Jahr und Standort.",
        missing="0, wenn keine Angebotsstatistik für Jahr und Standort vorliegt; leer ohne Tabelle angebote.",
        function="indicators.reach.offer_totals",
    ),
    Indicator(
        "reichweite.termine",
        "Termine",
        "anzahl",
        "Summe der durchgeführten Termine laut Angebotsstatistik für Jahr und Standort.",
        missing="Wie Besuche; fehlende Terminangaben zählen nicht mit, leer, wenn keine Zeile eine hat.",
        function="indicators.reach.offer_totals",
        protection="keine",
    ),
    Indicator(
        "reichweite.willkommensbesuche",
        "Willkommensbesuche",
        "anzahl",
        "Durchgeführte Willkommensbesuche für Jahr und Gebiet; für alle die Zeile gesamt, "
        "sonst die Summe über die Standorte.",
        missing="Leer, wenn die Tabelle willkommensbesuche fehlt oder für das Gebiet keine Zeile hat.",
        function="indicators.reach.welcome_visits",
    ),
    Indicator(
        "reichweite.willkommensbesuch_quote",
        "Willkommensbesuche je Geburt",
        "anteil",
        "Willkommensbesuche geteilt durch die Geburten desselben Gebiets und Jahres.",
        numerator="Willkommensbesuche",
        denominator="Geburten",
        missing="Leer, wenn Besuche oder Geburten fehlen oder die Geburten 0 sind.",
        function="indicators.reach.welcome_visit_rate",
        protection="anteil",
        numerator_key="reichweite.willkommensbesuche",
        denominator_key="reichweite.geburten",
    ),
)

_TARGET_GROUPS = {
    "alleinerziehend": ("Alleinerziehende", "alleinerziehend = ja"),
    "sgb2_bezug": ("Familien im SGB-II-Bezug", "sgb2_bezug = ja"),
    "migrationshintergrund": ("Familien mit Migrationshintergrund", "migrationshintergrund = ja"),
    "mutter_unter_20": (
        "Mütter unter 20 Jahren",
        "altersgruppe_mutter ist unter_18 oder a18_19",
    ),
}
TARGET_GROUPS: tuple[str, ...] = tuple(_TARGET_GROUPS)
for _code, (_label, _num) in _TARGET_GROUPS.items():
    _add(
        Indicator(
            f"reichweite.zielgruppen.{_code}.n_bekannt",
            f"{_label}: Erstkontakte mit bekannter Angabe",
            "anzahl",
            "Erstkontakte, bei denen die Angabe bekannt ist (ja oder nein; beim Alter nicht unbekannt).",
            function="indicators.reach.target_group_share",
        ),
        Indicator(
            f"reichweite.zielgruppen.{_code}.anteil",
            _label,
            "anteil",
            f"Anteil der Erstkontakte mit {_num} an den Erstkontakten mit bekannter Angabe.",
            numerator=f"Erstkontakte mit {_num}",
            denominator="Erstkontakte mit bekannter Angabe",
            missing="Leer, wenn keine Angabe bekannt ist.",
            function="indicators.reach.target_group_share",
            protection="anteil",
            denominator_key=f"reichweite.zielgruppen.{_code}.n_bekannt",
        ),
    )

for _code in CATEGORIES["lebensphase_kind"].codes:
    _add(
        Indicator(
            f"reichweite.lebensphase.{_code}",
            f"Lebensphase bei Erstkontakt: {CATEGORIES['lebensphase_kind'].label(_code)}",
            "anzahl",
            "Erstkontakte im Jahr nach Lebensphase des Kindes beim Erstkontakt (NZFH-Phasen).",
            missing="Nie leer; jede Phase erscheint, auch mit 0.",
            function="indicators.reach.life_phase_counts",
        )
    )

# --- Zugangswege -----------------------------------------------------------------------------
for _code in CATEGORIES["zugangsweg"].codes:
    _lab = CATEGORIES["zugangsweg"].label(_code)
    _add(
        Indicator(
            f"zugangswege.anzahl.{_code}",
            f"Zugangsweg {_lab}",
            "anzahl",
            "Erstkontakte im Jahr mit diesem Zugangsweg.",
            missing="Nie leer; jeder Zugangsweg erscheint, auch mit 0.",
            function="indicators.access_routes.route_counts",
        ),
        Indicator(
            f"zugangswege.anteile.{_code}",
            f"Anteil Zugangsweg {_lab}",
            "anteil",
            "Erstkontakte mit diesem Zugangsweg geteilt durch alle Erstkontakte des Jahres "
            "(Keine Angabe zählt im Nenner mit).",
            numerator=f"Erstkontakte über {_lab}",
            denominator="Erstkontakte",
            missing="Leer, wenn es im Jahr keine Erstkontakte gibt.",
            function="indicators.access_routes.route_shares",
            protection="anteil",
            numerator_key=f"zugangswege.anzahl.{_code}",
            denominator_key="reichweite.erstkontakte",
        ),
    )
for _group in CATEGORIES["zugangsweg"].group_names:
    _add(
        Indicator(
            f"zugangswege.gruppen.{_group}",
            f"Anteil Zugangsgruppe {_group}",
            "anteil",
            "Erstkontakte über einen Zugangsweg dieser Gruppe geteilt durch alle Erstkontakte.",
            numerator=f"Erstkontakte der Gruppe {_group}",
            denominator="Erstkontakte",
            missing="Leer, wenn es im Jahr keine Erstkontakte gibt.",
            function="indicators.access_routes.group_shares",
            protection="anteil",
            denominator_key="reichweite.erstkontakte",
        )
    )
_add(
    Indicator(
        "zugangswege.reaktionszeit.n",
        "Erstkontakte mit Meldedatum",
        "anzahl",
        "Erstkontakte im Jahr, für die ein Meldedatum vorliegt.",
        function="indicators.access_routes.response_time",
    ),
    Indicator(
        "zugangswege.reaktionszeit.median_werktage",
        "Reaktionszeit (Median, Werktage)",
        "werktage",
        "Median der Werktage zwischen Meldung und Erstkontakt: gezählt werden die Tage d mit "
        "Meldung < d ≤ Erstkontakt, die weder Samstag, Sonntag noch Feiertag des Landes sind.",
        missing="Leer, wenn kein Erstkontakt ein Meldedatum hat.",
        function="indicators.access_routes.response_time",
        protection="mittelwert",
        cases_key="zugangswege.reaktionszeit.n",
    ),
    Indicator(
        "zugangswege.reaktionszeit.quote_binnen_3_werktagen",
        "Kontakt binnen 3 Werktagen",
        "anteil",
        "Anteil der Erstkontakte mit Meldedatum, bei denen der Kontakt binnen 3 Werktagen "
        "zustande kam (Bergkamener Standard).",
        numerator="Erstkontakte mit höchstens 3 Werktagen",
        denominator="Erstkontakte mit Meldedatum",
        missing="Leer, wenn kein Erstkontakt ein Meldedatum hat.",
        function="indicators.access_routes.response_time",
        protection="anteil",
        denominator_key="zugangswege.reaktionszeit.n",
    ),
)

# --- Kosten ----------------------------------------------------------------------------------
_add(
    Indicator(
        "kosten.hze_ausgaben_eur",
        "Ausgaben Hilfen zur Erziehung",
        "euro",
        "Ausgaben der HzE im Jahr (gesamtstädtisch): die Zeile gesamt oder die Summe der Hilfearten.",
        missing="Leer ohne Tabelle kosten_hze oder ohne Zeile für das Jahr.",
        function="indicators.costs.hze_totals",
        protection="keine",
    ),
    Indicator(
        "kosten.hze_fallzahl",
        "Mittlere Fallzahl HzE",
        "anzahl",
        "Mittlere Zahl der HzE-Fälle im Jahr (gesamtstädtisch).",
        missing="Wie Ausgaben.",
        function="indicators.costs.hze_totals",
        protection="keine",
    ),
    Indicator(
        "kosten.ausgaben_veraenderung_pct",
        "Veränderung der Ausgaben zum Vorjahr",
        "prozent",
        "(Ausgaben im Jahr / Ausgaben im Vorjahr − 1) × 100, ungerundet.",
        numerator="Ausgaben im Jahr",
        denominator="Ausgaben im Vorjahr",
        missing="Leer, wenn Jahr oder Vorjahr fehlt oder das Vorjahr 0 ist.",
        function="indicators.costs.year_on_year_change",
        protection="keine",
    ),
    Indicator(
        "kosten.fallzahl_veraenderung_pct",
        "Veränderung der Fallzahl zum Vorjahr",
        "prozent",
        "(Fallzahl im Jahr / Fallzahl im Vorjahr − 1) × 100, ungerundet.",
        numerator="Mittlere Fallzahl im Jahr",
        denominator="Mittlere Fallzahl im Vorjahr",
        missing="Leer, wenn Jahr oder Vorjahr fehlt oder das Vorjahr 0 ist.",
        function="indicators.costs.year_on_year_change",
        protection="keine",
    ),
    Indicator(
        "kosten.kosten_je_fall_eur",
        "Ausgaben je Fall",
        "euro",
        "HzE-Ausgaben geteilt durch die mittlere Fallzahl des Jahres.",
        numerator="Ausgaben",
        denominator="Mittlere Fallzahl",
        missing="Leer, wenn Ausgaben oder Fallzahl fehlen oder die Fallzahl 0 ist.",
        function="indicators.costs.cost_per_case",
        protection="keine",
    ),
    Indicator(
        "kosten.fh_budget_eur",
        "Budget Frühe Hilfen",
        "euro",
        "Summe der Finanzierung für Jahr und Gebiet; für alle jede Zeile des Jahres "
        "(auch gesamtstädtische Posten wie Netzwerkkoordination).",
        missing="Leer ohne Tabelle finanzierung oder ohne Zeile für Jahr und Gebiet.",
        function="indicators.costs.fh_budget",
        protection="keine",
    ),
    Indicator(
        "kosten.fh_budget_je_erstkontakt_eur",
        "Budget Frühe Hilfen je Erstkontakt",
        "euro",
        "Budget der Frühen Hilfen geteilt durch die Erstkontakte desselben Gebiets und Jahres.",
        numerator="Budget Frühe Hilfen",
        denominator="Erstkontakte",
        missing="Leer ohne Budget oder ohne Erstkontakte.",
        function="indicators.costs.fh_budget_per_contact",
        protection="anteil",
        denominator_key="reichweite.erstkontakte",
    ),
)

#: The catalogue, keyed by JSON path.
CATALOGUE: dict[str, Indicator] = {i.key: i for i in _E}
if len(CATALOGUE) != len(_E):  # pragma: no cover - guards the "defined once" promise
    raise RuntimeError("Doppelt definierte Kennzahl im Katalog")


def get(key: str) -> Indicator:
    """The catalogue entry for a JSON path (``reichweite.erreichungsquote``)."""
    return CATALOGUE[key]


def label(key: str) -> str:
    """German label of an indicator."""
    return CATALOGUE[key].label
