"""The indicator catalogue: every key indicator defined once.

Each entry names its numerator, denominator, missing-data rule and unit (as US home-visiting
benchmark reporting defines each measure) and the function that computes it. ``kennzahlen``,
report tables and ``docs/kennzahlen.md`` all take labels and definitions from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from analysis.contract.schema import CATEGORIES

Unit = Literal[
    "anzahl",
    "anteil",
    "euro",
    "prozent",
    "werktage",
    "verhaeltnis",
    "je_1000",
    "monate",
    "note",
    "liste",
]
#: What kind of number it is, for the reader (docs/kennzahlen.md): a proportion is a share of
#: its denominator (the numerator is part of it; Wilson interval); a rate or ratio is a count
#: per unit of another quantity (the numerator is not part of the denominator; Poisson).
Measure = Literal[
    "anzahl",
    "anteil",
    "rate",
    "verhaeltnis",
    "betrag",
    "veraenderung",
    "median",
    "mittelwert",
    "liste",
]
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
    measure: Measure | None = None  # default from the unit, see ``kind``
    interval: str = ""  # German: interval method ("" = the default for the measure)
    caveat: str = ""  # German: what the number cannot say

    @property
    def kind(self) -> Measure:
        """Proportion, rate, ratio, count, amount, change or median (default from the unit)."""
        if self.measure is not None:
            return self.measure
        return {
            "anzahl": "anzahl",
            "anteil": "anteil",
            "euro": "betrag",
            "prozent": "veraenderung",
            "werktage": "median",
            "verhaeltnis": "verhaeltnis",
            "je_1000": "rate",
            "monate": "anzahl",
            "note": "mittelwert",
            "liste": "liste",
        }[self.unit]


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
        measure="verhaeltnis",
        interval="Keins: ein Verhältnis, kein Anteil der Geburten (Berichte zeigen die Rate "
        "je 1.000 Geburten mit Poisson-Intervall).",
        caveat="Erstkontakte zählen Familien (auch Schwangere und Kinder über 3 Jahre und "
        "Familien aus anderen Gebieten), Geburten zählen Kinder des Jahres; deshalb kann der "
        "Wert über 1 liegen. Im Eröffnungsjahr eines Standorts nicht auf die Monate der "
        "Öffnung umgerechnet. Bedeutung unverändert seit Version 0.1 (Schnittstelle).",
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
        interval="Wilson, 95 % (unter reichweite.willkommensbesuch_quote_intervall).",
        caveat="Näherungsweise ein Anteil der Neugeborenen: Besuche im Jahr J können Kinder "
        "betreffen, die im Dezember des Vorjahres geboren wurden; Zweitbesuche zählen mit, wenn "
        "die Kommune Besuche statt Familien zählt.",
    ),
)

_RATE_PARTS = {
    "wert": "",
    "untergrenze": " – untere Grenze des 95-%-Intervalls",
    "obergrenze": " – obere Grenze des 95-%-Intervalls",
}
_add(
    Indicator(
        "reichweite.monate_geoeffnet",
        "Monate geöffnet",
        "monate",
        "Monate des Jahres, in denen der Standort geöffnet war (Eröffnungs- und "
        "Schließungsmonat zählen ganz); für alle: Monate, in denen mindestens ein Standort "
        "geöffnet war.",
        missing="Leer für einen Standort, der nicht in der Tabelle standorte steht; ohne "
        "Eröffnungsdatum 12.",
        function="indicators.reach.months_open",
        protection="keine",
        caveat="Für alle wird das Eröffnungsjahr eines einzelnen Standorts nicht anteilig "
        "berücksichtigt, sobald ein anderer Standort das ganze Jahr geöffnet war.",
    ),
    Indicator(
        "reichweite.kinder_u3",
        "Kinder unter 3 Jahren",
        "anzahl",
        "Kinder unter 3 Jahren laut Tabelle bevoelkerung für Jahr und Gebiet; für alle die "
        "Zeile gesamt, sonst die Summe über die Standorte.",
        missing="Leer, wenn die Spalte kinder_u3 für Jahr und Gebiet fehlt.",
        function="indicators.reach.children_under_3",
    ),
)
for _part, _suffix in _RATE_PARTS.items():
    _add(
        Indicator(
            f"reichweite.erstkontakte_je_1000_geburten.{_part}",
            f"Erstkontakte je 1.000 Geburten{_suffix}",
            "je_1000",
            "Erstkontakte im Jahr je 1.000 Geburten desselben Gebiets, die Geburten anteilig "
            "für die Monate, in denen der Standort geöffnet war (Geburten × Monate / 12).",
            numerator="Erstkontakte",
            denominator="Geburten × Monate geöffnet / 12, geteilt durch 1.000",
            missing="Leer, wenn keine Geburtenzahl vorliegt oder sie 0 ist.",
            function="indicators.reach.contacts_per_1000_births",
            protection="anteil",
            numerator_key="reichweite.erstkontakte",
            denominator_key="reichweite.geburten",
            interval="Poisson, exakt nach Garwood, 95 %.",
            caveat="Eine Rate, kein Anteil: Erstkontakte zählen Familien mit Schwangeren und "
            "Kindern bis über 3 Jahre, auch aus anderen Gebieten; Werte über 1.000 sind "
            "möglich. Die Umrechnung auf Monate unterstellt gleich viele Geburten in jedem "
            "Monat und erklärt nicht die Anlaufzeit eines neuen Standorts.",
        ),
        Indicator(
            f"reichweite.erstkontakte_je_1000_kinder_u3.{_part}",
            f"Erstkontakte je 1.000 Kinder unter 3 Jahren{_suffix}",
            "je_1000",
            "Erstkontakte im Jahr je 1.000 Kinder unter 3 Jahren desselben Gebiets, anteilig "
            "für die Monate der Öffnung.",
            numerator="Erstkontakte",
            denominator="Kinder unter 3 × Monate geöffnet / 12, geteilt durch 1.000",
            missing="Leer, wenn keine Zahl der Kinder unter 3 vorliegt oder sie 0 ist.",
            function="indicators.reach.contacts_per_1000_under_3",
            protection="anteil",
            numerator_key="reichweite.erstkontakte",
            denominator_key="reichweite.kinder_u3",
            interval="Poisson, exakt nach Garwood, 95 %.",
            caveat="Eine Rate, kein Anteil; die Erstkontakte mit Schwangeren haben kein Kind "
            "unter 3 im Nenner.",
        ),
    )
for _part in ("untergrenze", "obergrenze"):
    _add(
        Indicator(
            f"reichweite.willkommensbesuch_quote_intervall.{_part}",
            f"Willkommensbesuche je Geburt{_RATE_PARTS[_part]}",
            "anteil",
            "Wilson-Intervall der Willkommensbesuche je Geburt (reichweite.willkommensbesuch_quote).",
            numerator="Willkommensbesuche",
            denominator="Geburten",
            missing="Leer wie die Quote, und wenn es mehr Besuche als Geburten gab.",
            function="indicators.reach.welcome_visit_rate",
            protection="anteil",
            numerator_key="reichweite.willkommensbesuche",
            denominator_key="reichweite.geburten",
            interval="Wilson, 95 %.",
        )
    )
_add(
    Indicator(
        "reichweite.schwangerschaft.n_bekannt",
        "Erstkontakte mit bekannter Lebensphase",
        "anzahl",
        "Erstkontakte im Jahr, deren Lebensphase des Kindes bekannt ist (nicht Keine Angabe).",
        function="indicators.reach.pregnancy_share",
    )
)
for _part, _suffix in {
    "anteil": "",
    **{k: v for k, v in _RATE_PARTS.items() if k != "wert"},
}.items():
    _add(
        Indicator(
            f"reichweite.schwangerschaft.{_part}",
            f"In der Schwangerschaft erreicht{_suffix}",
            "anteil",
            "Anteil der Erstkontakte in der Lebensphase Schwangerschaft an den Erstkontakten mit "
            "bekannter Lebensphase.",
            numerator="Erstkontakte in der Schwangerschaft",
            denominator="Erstkontakte mit bekannter Lebensphase",
            missing="Leer, wenn keine Lebensphase bekannt ist.",
            function="indicators.reach.pregnancy_share",
            protection="anteil",
            numerator_key="reichweite.lebensphase.schwangerschaft",
            denominator_key="reichweite.schwangerschaft.n_bekannt",
            interval="Wilson, 95 %.",
            caveat="Ein Anteil der Erstkontakte, nicht der Schwangeren im Gebiet.",
        )
    )
_add(
    Indicator(
        "reichweite.kind_unter_1_je_geburt.erstkontakte",
        "Erstkontakte mit Kind unter 1 Jahr",
        "anzahl",
        "Erstkontakte im Jahr in den Lebensphasen 0–6 und 6–12 Monate.",
        function="indicators.reach.under_one_contacts",
    )
)
for _part, _suffix in {
    "anteil": "",
    **{k: v for k, v in _RATE_PARTS.items() if k != "wert"},
}.items():
    _add(
        Indicator(
            f"reichweite.kind_unter_1_je_geburt.{_part}",
            f"Erstkontakte mit Kind unter 1 Jahr je Geburt{_suffix}",
            "anteil",
            "Kohortennahe Variante der Erreichung: Erstkontakte mit einem Kind unter 1 Jahr "
            "geteilt durch die Geburten des Jahres (anteilig für die Monate der Öffnung).",
            numerator="Erstkontakte mit Kind unter 1 Jahr",
            denominator="Geburten × Monate geöffnet / 12",
            missing="Leer ohne Geburtenzahl; Intervall leer, wenn der Wert über 1 liegt.",
            function="indicators.reach.under_one_share",
            protection="anteil",
            numerator_key="reichweite.kind_unter_1_je_geburt.erstkontakte",
            denominator_key="reichweite.geburten",
            interval="Wilson, 95 %.",
            caveat="Näherungsweise ein Anteil: Ein Kind von 8 Monaten kann im Vorjahr geboren "
            "sein, und Familien aus anderen Gebieten zählen im Zähler mit.",
        )
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
        caveat="Nur Meldungen, aus denen ein Erstkontakt wurde: Familien, die nach einer "
        "Meldung nie erreicht wurden, fehlen (Überlebensverzerrung); die Reaktionszeit "
        "erscheint dadurch kürzer und die Quote höher, als sie für alle Meldungen wäre.",
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
        caveat="Nur Meldungen, aus denen ein Erstkontakt wurde: Familien, die nach einer "
        "Meldung nie erreicht wurden, fehlen (Überlebensverzerrung); die Reaktionszeit "
        "erscheint dadurch kürzer und die Quote höher, als sie für alle Meldungen wäre.",
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

# --- Qualität: Rückmeldungen der Familien und Netzwerkpartner (issue 12) ----------------------
_FEEDBACK = "qualitaet.rueckmeldungen"
_add(
    Indicator(
        f"{_FEEDBACK}.frageboegen",
        "Fragebögen der Nutzerbefragung",
        "anzahl",
        "Angenommene Fragebögen mit Datum im Berichtsjahr am Standort (alle: an allen Standorten).",
        missing="Leer ohne Tabelle nutzerbefragung; 0 in einem Jahr ohne Befragung.",
        function="indicators.quality.questionnaires",
        caveat="Wie viele Fragebögen ausgegeben wurden, sieht der Datenvertrag nicht vor: eine "
        "Rücklaufquote lässt sich nicht berechnen, nur die fehlenden Antworten je Frage.",
    )
)
_ITEMS = {
    "erreichbarkeit": "Erreichbarkeit",
    "raeume": "Räume",
    "angebote": "Angebote",
    "beratung": "Beratung",
}
for _item, _lab in _ITEMS.items():
    _base = f"{_FEEDBACK}.bewertungen.{_item}"
    _add(
        Indicator(
            f"{_base}.n",
            f"{_lab}: Antworten",
            "anzahl",
            f"Fragebögen des Jahres mit einer Note 1–5 bei {_lab}.",
            missing="Leer ohne Tabelle nutzerbefragung.",
            function="indicators.quality.item_summary",
        ),
        Indicator(
            f"{_base}.ohne_angabe",
            f"{_lab}: ohne Angabe",
            "anzahl",
            f"Fragebögen des Jahres ohne Note bei {_lab} (fehlende Antwort).",
            missing="Leer ohne Tabelle nutzerbefragung.",
            function="indicators.quality.item_summary",
        ),
        Indicator(
            f"{_base}.mittelwert",
            f"{_lab}: mittlere Note",
            "note",
            f"Mittelwert der Noten bei {_lab} (1 = sehr gut bis 5 = schlecht) über die "
            "Fragebögen mit Antwort.",
            numerator="Summe der Noten",
            denominator="Antworten",
            missing="Leer ohne Antworten.",
            function="indicators.quality.item_summary",
            protection="mittelwert",
            cases_key=f"{_base}.n",
            caveat="Wer antwortet, ist nicht zufällig ausgewählt; zufriedene Familien "
            "antworten oft eher. Noten sind eine Rangskala, der Mittelwert eine Vereinfachung "
            "(die Verteilung steht im Bericht).",
        ),
    )
    for _bound, _word in (("untergrenze", "Untergrenze"), ("obergrenze", "Obergrenze")):
        _add(
            Indicator(
                f"{_base}.{_bound}",
                f"{_lab}: {_word} des 95-%-Intervalls der mittleren Note",
                "note",
                f"{_word} des vorsichtigen t-Intervalls (95 %) um die mittlere Note: "
                "Streuung höchstens (5 − Mittelwert) × (Mittelwert − 1) (Bhatia-Davis), "
                "auf 1 bis 5 begrenzt.",
                missing="Leer bei weniger als zwei Antworten.",
                function="indicators.quality.mean_interval",
                protection="mittelwert",
                cases_key=f"{_base}.n",
                interval="t-Verteilung mit n − 1 Freiheitsgraden, 95 %, mit der größten "
                "bei diesem Mittelwert möglichen Streuung (vorsichtig breit).",
                caveat="Breiter als das übliche t-Intervall, dafür aus Mittelwert und n "
                "allein berechnet: Es verrät nichts über die Verteilung der Noten "
                "(docs/annahmen.md Q2).",
            )
        )
_add(
    Indicator(
        f"{_FEEDBACK}.weiterempfehlung.n_bekannt",
        "Weiterempfehlung: Fragebögen mit Angabe",
        "anzahl",
        "Fragebögen des Jahres mit weiterempfehlung = ja oder nein.",
        missing="Leer ohne Tabelle nutzerbefragung.",
        function="indicators.quality.recommendation",
    ),
    Indicator(
        f"{_FEEDBACK}.weiterempfehlung.anteil",
        "Anteil, der den Standort weiterempfehlen würde",
        "anteil",
        "Fragebögen mit weiterempfehlung = ja geteilt durch die Fragebögen mit Angabe.",
        numerator="Fragebögen mit weiterempfehlung = ja",
        denominator="Fragebögen mit Angabe (ja oder nein)",
        missing="Leer, wenn kein Fragebogen eine Angabe hat.",
        function="indicators.quality.recommendation",
        protection="anteil",
        denominator_key=f"{_FEEDBACK}.weiterempfehlung.n_bekannt",
        interval="Wilson, 95 %.",
    ),
)
_NETWORK = "qualitaet.netzwerk"
_PARTNER_CAVEAT = (
    "Zählt Einrichtungen, keine Personen (keine Geheimhaltung, docs/annahmen.md Q6). Der "
    "Datenvertrag kennt kein Eintrittsdatum: Ein Partner zählt bis zu seinem Ausscheiden in "
    "jedem Jahr."
)
_add(
    Indicator(
        f"{_NETWORK}.partner",
        "Netzwerkpartner am Jahresende",
        "anzahl",
        "Netzwerkpartner, die am 31.12. des Jahres nicht ausgeschieden waren; für einen "
        "Standort seine eigenen und die gesamtstädtischen Partner, für alle jeder Partner.",
        missing="Leer ohne Tabelle netzwerkpartner.",
        function="indicators.quality.partner_count",
        protection="keine",
        caveat=_PARTNER_CAVEAT,
    )
)
for _code in CATEGORIES["sektor"].codes:
    _add(
        Indicator(
            f"{_NETWORK}.nach_sektor.{_code}",
            f"Netzwerkpartner im Sektor {CATEGORIES['sektor'].label(_code)}",
            "anzahl",
            "Netzwerkpartner am Jahresende in diesem NZFH-Kernbereich (Seed 001, Abschnitt 2).",
            missing="Leer ohne Tabelle netzwerkpartner.",
            function="indicators.quality.network_block",
            protection="keine",
            caveat=_PARTNER_CAVEAT,
        )
    )
_add(
    Indicator(
        f"{_NETWORK}.mit_vereinbarung",
        "Netzwerkpartner mit Kooperationsvereinbarung",
        "anzahl",
        "Netzwerkpartner am Jahresende mit vereinbarung_seit bis zum 31.12. des Jahres.",
        missing="Leer ohne Tabelle netzwerkpartner.",
        function="indicators.quality.agreement_share",
        protection="keine",
        caveat=_PARTNER_CAVEAT,
    ),
    Indicator(
        f"{_NETWORK}.anteil_mit_vereinbarung",
        "Anteil der Netzwerkpartner mit Kooperationsvereinbarung",
        "anteil",
        "Netzwerkpartner mit Kooperationsvereinbarung geteilt durch die Netzwerkpartner am Jahresende.",
        numerator="Netzwerkpartner mit Kooperationsvereinbarung",
        denominator="Netzwerkpartner am Jahresende",
        missing="Leer ohne Netzwerkpartner.",
        function="indicators.quality.agreement_share",
        protection="keine",
        caveat=_PARTNER_CAVEAT,
    ),
    Indicator(
        f"{_NETWORK}.neue_vereinbarungen",
        "Neue Kooperationsvereinbarungen im Jahr",
        "anzahl",
        "Netzwerkpartner, deren Kooperationsvereinbarung im Jahr unterzeichnet wurde (Zugänge).",
        missing="Leer ohne Tabelle netzwerkpartner.",
        function="indicators.quality.new_agreements",
        protection="keine",
        caveat=_PARTNER_CAVEAT,
    ),
    Indicator(
        f"{_NETWORK}.ausgeschieden",
        "Im Jahr ausgeschiedene Netzwerkpartner",
        "anzahl",
        "Netzwerkpartner mit Datum ausgeschieden im Jahr (Abgänge).",
        missing="Leer ohne Tabelle netzwerkpartner.",
        function="indicators.quality.exits",
        protection="keine",
        caveat=_PARTNER_CAVEAT,
    ),
    Indicator(
        f"{_NETWORK}.kernpartner_fehlend",
        "Fehlende Kernpartner je Gebiet",
        "liste",
        "Je Gebiet (Standort; für alle jeder im Jahr geöffnete Standort) die Typen der "
        "Checkliste (Geburtsklinik, Kinder- und Frauenarztpraxen, Hebammen, "
        "Schwangerschaftsberatung, Jugendamt, Erziehungsberatung, Frühförderung, Kinder- und "
        "Jugendpsychiatrie, Jobcenter), für die am Jahresende weder ein Partner des Gebiets "
        "noch ein gesamtstädtischer Partner im Netzwerk ist (Codes wie in "
        "indicators.quality.CORE_TYPES).",
        missing="Leer ohne Tabelle netzwerkpartner.",
        function="indicators.quality.core_missing",
        protection="keine",
        caveat="Der Typ wird aus der Freitextspalte bereich erkannt (docs/annahmen.md Q5); "
        "ein anders benannter Bereich zählt nicht.",
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
