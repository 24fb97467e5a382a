"""The sections of the report notebooks: call the analyses, protect, and say it in a sentence.

Each function takes the checked ``Report`` and returns a ``Section`` (a protected table, an
optional figure and a German sentence generated from the protected numbers), so a report
notebook is one call and one ``show`` per section. No indicator is computed here: the
numbers come from ``reach``, ``access_routes``, ``costs`` and ``stats``; this module only
chooses, protects (``confidentiality``) and words them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analysis import data, formatting
from analysis.contract.schema import CATEGORIES, GESAMT
from analysis.indicators import access_routes, costs, quality, reach, stats
from analysis.indicators.catalogue import TARGET_GROUPS
from analysis.indicators.catalogue import label as indicator_label
from analysis.protection import publication as pub
from analysis.protection.publication import ProtectedPublication
from analysis.protection.rules import ProtectedTable, Share, footnote_text, protect_table
from analysis.reporting import style
from analysis.reporting.cells import Report, show_figure, show_table, show_text

TOTAL = reach.TOTAL_LABEL
SOURCE = "Eigene Auswertung, fh-analytik"


@dataclass
class Section:
    title: str
    sentence: str
    table: ProtectedTable | None = None
    figure: Any = None
    notes: list[str] = field(default_factory=list)
    source: str = SOURCE
    internal: bool = False
    #: The figure's text alternative: its main finding in one or two German sentences,
    #: computed from the same numbers as the figure (for screen readers, ``<img alt>``).
    alt: str = ""

    def __post_init__(self) -> None:
        if self.figure is not None and not self.alt.strip():
            raise ValueError(f"Grafik im Abschnitt „{self.title}“ ohne Alternativtext.")


def show(section: Section) -> None:
    """Table, figure and sentence of a section, in that order."""
    if section.table is not None:
        show_table(
            section.table,
            section.title,
            notes=section.notes,
            source=section.source,
            internal=section.internal,
        )
    if section.figure is not None:
        show_figure(section.figure, section.alt)
    show_text(section.sentence, "satz")


CellOf = Callable[[Any, str], pub.Cell | None]


def _protect(
    report: Report,
    frame: pd.DataFrame,
    cells: CellOf | None = None,
    *,
    publication: Callable[[Any], ProtectedPublication | None] | None = None,
    **kwargs: Any,
) -> ProtectedTable:
    """Protect a table with the year's publication-wide pattern.

    ``cells`` maps a (row, column) of the table to its cell of the publication, so the same
    value is hidden here as everywhere else it appears; ``publication`` picks the year's
    publication per row (trends), by default the report's own year.
    """
    decided = None
    if cells is not None:
        pick = publication or (lambda row: report.publication)
        chosen: dict[Any, ProtectedPublication | None] = {}

        def which(row: Any) -> ProtectedPublication | None:
            if row not in chosen:  # one look-up per row, not per cell
                chosen[row] = pick(row)
            return chosen[row]

        def decided(row: Any, column: str) -> bool | None:
            cell = cells(row, column)
            protected = which(row) if cell is not None else None
            if protected is None or not protected.knows(cell):
                return None
            return protected.is_hidden(cell)

    return protect_table(
        frame,
        report.config.min_count,
        round_to_5=report.config.round_to_5,
        decided=decided,
        **kwargs,
    )


def _by_label(category: str) -> dict[str, str]:
    """German label -> code of a category (tables show labels, the publication knows codes)."""
    return {label: code for code, label in CATEGORIES[category].labels.items()}


def _rename_rows(
    table: ProtectedTable, names: dict[Any, str], heading: str | None = None
) -> ProtectedTable:
    """Show rows by name after protecting them by id (two sites may share a name); the row
    heading becomes ``heading`` (a reader sees "Standort", not the code ``standort_id``)."""
    values = table.values.rename(index=names)
    hidden = table.hidden.rename(index=names)
    values.index.name = hidden.index.name = heading or table.values.index.name
    return ProtectedTable(
        values, hidden, table.footnote, table.min_count, table.rounded, dict(table.kinds)
    )


def _value(table: ProtectedTable, row: Any, column: str) -> Any:
    """A cell as published: ``None`` when hidden or missing."""
    if row not in table.values.index or bool(table.hidden.loc[row, column]):
        return None
    value = table.values.loc[row, column]
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _hidden(table: ProtectedTable, row: Any, column: str) -> bool:
    return row in table.hidden.index and bool(table.hidden.loc[row, column])


def _interval(lower: Any, upper: Any) -> str:
    if lower is None or upper is None:
        return ""
    return f" (95-%-Intervall {formatting.percent(lower)} bis {formatting.percent(upper)})"


def _change(pct: Any) -> str:
    if pct is None or (isinstance(pct, float) and math.isnan(pct)):
        return ""
    return f" ({formatting.percent_change(pct)} zum Vorjahr)"


def _years_axis(ax: Any, years: list[int]) -> None:
    """Whole years on the x axis, also when there are only one or two."""
    style.year_axis(ax)
    if years:
        ax.set_xticks(years if len(years) <= 12 else years[:: max(1, len(years) // 8)])
        ax.set_xlim(min(years) - 0.5, max(years) + 0.5)


# --- Text alternatives of figures ----------------------------------------------------------
# A figure's alt text states what a sighted reader takes from it, from the same (protected)
# numbers the figure draws: hidden values are named as such, never as a number.


def _shown(value: Any) -> bool:
    return (
        value is not None
        and value is not pd.NA
        and not (isinstance(value, float) and math.isnan(value))
    )


def series_change(points: list[tuple[int, Any]], text: Callable[[Any], str]) -> str:
    """How a yearly series went: ``von 52,0 (2012) auf 61,0 (2014) gestiegen, am höchsten
    2013 mit 63,0`` – first and last shown year, the peak when it lies between them, and the
    years without a shown value."""
    shown = [(year, value) for year, value in points if _shown(value)]
    missing = [str(year) for year, value in points if not _shown(value)]
    if not shown:
        words = "kein Jahr ausweisbar"
    elif len(shown) == 1:
        words = f"nur {shown[0][0]} ausweisbar, mit {text(shown[0][1])}"
    else:
        (y0, v0), (y1, v1) = shown[0], shown[-1]
        if text(v0) == text(v1):
            words = f"von {y0} bis {y1} gleich bei {text(v0)}"
        else:
            moved = "gestiegen" if v1 > v0 else "gesunken"
            words = f"von {text(v0)} ({y0}) auf {text(v1)} ({y1}) {moved}"
        peak = max(shown, key=lambda p: p[1])
        if peak[0] not in (y0, y1) and text(peak[1]) not in (text(v0), text(v1)):
            words += f", am höchsten {peak[0]} mit {text(peak[1])}"
    if missing and shown:
        words += f"; ohne ausweisbaren Wert: {', '.join(missing)}"
    return words


def series_alt(what: str, points: list[tuple[int, Any]], text: Callable[[Any], str]) -> str:
    """Alt text of a line chart over the years: ``Liniengrafik der …: von … auf … gestiegen.``"""
    return f"Liniengrafik {what}: {series_change(points, text)}."


def bars_alt(what: str, bars: list[tuple[str, Any]], text: Callable[[Any], str]) -> str:
    """Alt text of a bar chart: every bar, largest first, hidden ones named as hidden."""
    shown = sorted(((label, value) for label, value in bars if _shown(value)), key=lambda b: -b[1])
    hidden = [label for label, value in bars if not _shown(value)]
    if shown:
        parts = [f"am größten „{shown[0][0]}“ mit {text(shown[0][1])}"]
        parts += [f"„{label}“ {text(value)}" for label, value in shown[1:]]
        words = ", ".join(parts)
    else:
        words = "kein Balken ausweisbar"
    if hidden:
        words += "; nicht ausweisbar: " + ", ".join(f"„{h}“" for h in hidden)
    return f"Balkengrafik {what}: {words}."


def _subject(report: Report) -> str:
    """``Rheindorfer Laden hatte 2014`` / ``Alle Standorte zusammen hatten 2014``."""
    if report.site == data.ALL_SITES:
        return f"Alle Standorte zusammen hatten {report.year}"
    return f"{report.site_name} hatte {report.year}"


def _rate_row(label: str, p: stats.Proportion) -> dict[str, Any]:
    return {
        "Kennzahl": label,
        "Anzahl": p.count,
        "Bezugsgröße (n)": p.n if p.n else None,
        "Anteil": p.share,
        "Untergrenze": p.lower,
        "Obergrenze": p.upper,
    }


def _rate_table(
    report: Report, rows: list[dict[str, Any]], cells: CellOf | None = None
) -> ProtectedTable:
    frame = pd.DataFrame(rows).set_index("Kennzahl")
    frame = frame.astype(
        {
            "Anzahl": pd.Int64Dtype(),
            "Bezugsgröße (n)": pd.Int64Dtype(),
            "Anteil": "float64",
            "Untergrenze": "float64",
            "Obergrenze": "float64",
        }
    )
    share = Share("Anzahl", "Bezugsgröße (n)")
    return _protect(
        report,
        frame,
        cells,
        count_columns=["Anzahl", "Bezugsgröße (n)"],
        share_columns={"Anteil": share, "Untergrenze": share, "Obergrenze": share},
    )


# --- Reichweite ----------------------------------------------------------------------------


def reach_life_phase(report: Report) -> Section:
    contacts = data.contacts_for(report.dataset, report.site, report.year)
    frame = reach.timing_table(contacts)
    codes = _by_label("lebensphase_kind")
    table = _protect(
        report,
        frame,
        lambda r, c: (report.site, pub.EK) if r == TOTAL else (report.site, pub.PHASE, codes[r]),
        count_columns=["Erstkontakte"],
        total_row=TOTAL,
        share_columns={"Anteil": Share("Erstkontakte", denominator_row=TOTAL)},
    )
    visible = {i: _value(table, i, "Anteil") for i in table.values.index if i != TOTAL}
    # The most frequent shown category: a 0 % category is never "the most frequent".
    visible = {k: v for k, v in visible.items() if v is not None and v > 0}
    if not visible:
        sentence = "Zur Lebensphase des Kindes lassen sich keine Anteile ausweisen."
    else:
        top = max(visible, key=lambda k: visible[k])
        sentence = (
            f"Die meisten Familien wurden in der Lebensphase „{top}“ erreicht "
            f"({formatting.percent(visible[top])} der Erstkontakte)."
        )
    return Section("Zeitpunkt des Erstkontakts (Lebensphase des Kindes)", sentence, table)


def reach_target_groups(report: Report) -> Section:
    contacts = data.contacts_for(report.dataset, report.site, report.year)
    baselines = reach.baselines_for(
        report.config.baselines, report.dataset.table("bevoelkerung"), report.site, report.year
    )
    frame = reach.target_group_table(contacts, baselines)
    sources = [str(q) for q in frame["Quelle des Vergleichswerts"].dropna().unique()]
    # Long caveats break a table's layout (and the PDF's width): they go under the table.
    caveats = [f"{group}: {note}" for group, note in frame["Hinweis"].dropna().items() if note]
    frame = frame.drop(columns=["Quelle des Vergleichswerts", "Hinweis"])
    share = Share("Davon Zielgruppe", "Angabe bekannt")
    groups = {indicator_label(f"reichweite.zielgruppen.{g}.anteil"): g for g in TARGET_GROUPS}
    part = {"Angabe bekannt": "bekannt", "Davon Zielgruppe": "ja"}
    table = _protect(
        report,
        frame,
        lambda r, c: (report.site, pub.TARGET, groups[r], part[c]),
        count_columns=["Angabe bekannt", "Davon Zielgruppe"],
        share_columns={
            "Anteil": share,
            "Untergrenze": share,
            "Obergrenze": share,
            "Repräsentation": share,
        },
    )
    table.kinds.update({"Vergleichswert": "anteil", "Repräsentation": "zahl2"})
    parts = []
    for group in table.values.index:
        ratio = _value(table, group, "Repräsentation")
        if ratio is not None:
            parts.append(f"{group} {formatting.number(ratio, 2)}")
    if parts:
        sentence = (
            "Repräsentationsverhältnis (Anteil unter den Erstkontakten geteilt durch den "
            "Vergleichswert; über 1 = stärker erreicht): " + "; ".join(parts) + "."
        )
    else:
        sentence = "Für die Zielgruppen lässt sich kein Repräsentationsverhältnis ausweisen."
    return Section(
        "Zielgruppen",
        sentence,
        table,
        notes=[
            "Anteile unter den Erstkontakten mit bekannter Angabe; Intervalle: Wilson, 95 %. "
            "Repräsentation = Anteil geteilt durch Vergleichswert (über 1: stärker erreicht).",
            *(f"Vergleichswert: {q}" for q in sources),
            *caveats,
        ],
    )


def reach_offers(report: Report) -> Section:
    offers = data.offers_for(report.dataset, report.site, report.year)
    frame = reach.offer_table(offers)
    if frame is None:
        return Section(
            "Angebote",
            "Die Tabelle angebote wurde nicht geliefert; zu den Angeboten lässt sich nichts sagen.",
        )
    cols = list(frame.columns)
    offer_codes = _by_label("angebot")
    measures = dict(zip(cols, pub.OFFER_MEASURES, strict=True))

    def offer_cell(row: Any, column: str) -> pub.Cell:
        if row == TOTAL:
            return (report.site, pub.OFFER_TOTAL, measures[column])
        return (report.site, pub.OFFER, offer_codes.get(row, row), measures[column])

    # Sessions held (Termine) count no persons: shown, never hidden (docs/annahmen.md G1).
    persons = [c for c in cols if c != "Termine"]
    table = _protect(report, frame, offer_cell, count_columns=persons, total_row=TOTAL)
    if "Termine" in table.kinds:
        table.kinds["Termine"] = "zahl0"
    visits, sessions = _value(table, TOTAL, "Besuche"), _value(table, TOTAL, "Termine")
    if visits is None:
        sentence = "Für diese Auswahl liegen keine ausweisbaren Besuchszahlen vor."
    else:
        sentence = (
            f"In {formatting.number(sessions) if sessions is not None else '–'} Terminen "
            f"wurden {formatting.number(visits)} Besuche gezählt."
        )
    return Section("Angebote", sentence, table)


def reach_trend(report: Report) -> Section:
    years = [int(y) for y in reach.trend_table(report.dataset, report.site).index]
    # A report for year J shows nothing after J: it is what was published for J.
    years = [y for y in years if report.year is None or y <= report.year]
    rows = []
    for year in years:
        f = reach.figures(report.dataset, report.site, year)
        rate = f.per_1000_births
        rows.append(
            {
                "Jahr": year,
                "Erstkontakte": f.first_contacts,
                "Geburten": f.births,
                "Monate geöffnet": f.months_open,
                "je 1.000 Geburten": rate.rate if rate else None,
                "Untergrenze": rate.lower if rate else None,
                "Obergrenze": rate.upper if rate else None,
            }
        )
    columns = [
        "Jahr",
        "Erstkontakte",
        "Geburten",
        "Monate geöffnet",
        "je 1.000 Geburten",
        "Untergrenze",
        "Obergrenze",
    ]
    frame = (
        pd.DataFrame(rows, columns=columns)
        .set_index("Jahr")
        .astype(
            {
                "Erstkontakte": pd.Int64Dtype(),
                "Geburten": pd.Int64Dtype(),
                "Monate geöffnet": pd.Int64Dtype(),
                "je 1.000 Geburten": "float64",
                "Untergrenze": "float64",
                "Obergrenze": "float64",
            }
        )
    )
    share = Share("Erstkontakte", "Geburten")
    trend_cells = {"Erstkontakte": pub.EK, "Geburten": pub.BIRTHS}
    table = _protect(
        report,
        frame,
        lambda r, c: (report.site, trend_cells[c]) if c in trend_cells else None,
        # Each year as its own publication hid it: hidden in 2013, hidden in 2014's trend.
        publication=lambda row: report.publication_of(int(row)),
        count_columns=["Erstkontakte", "Geburten"],
        share_columns={"je 1.000 Geburten": share, "Untergrenze": share, "Obergrenze": share},
    )
    table.kinds.update(
        {
            "je 1.000 Geburten": "zahl1",
            "Untergrenze": "zahl1",
            "Obergrenze": "zahl1",
            "Monate geöffnet": "zahl0",
        }
    )
    _blank_when_rounded(report, table, ["je 1.000 Geburten", "Untergrenze", "Obergrenze"])
    shown = table.values.mask(table.hidden)
    fig, ax = style.new_figure()
    years = [int(y) for y in shown.index]
    colour = style.palette(1)[0]
    rate = pd.to_numeric(shown["je 1.000 Geburten"], errors="coerce").astype(float)
    ax.plot(years, rate, marker="o", color=colour, label="Erstkontakte je 1.000 Geburten")
    lower = pd.to_numeric(shown["Untergrenze"], errors="coerce").astype(float)
    upper = pd.to_numeric(shown["Obergrenze"], errors="coerce").astype(float)
    ax.fill_between(years, lower, upper, alpha=0.2, color=colour, label="95-%-Intervall (Poisson)")
    partial = [y for y in years if 0 < (frame.loc[y, "Monate geöffnet"] or 12) < 12]
    if partial:
        ax.scatter(
            partial,
            rate.loc[partial],
            marker="D",
            s=60,
            facecolors="none",
            edgecolors=style.palette(2)[1],
            zorder=3,
            label="Eröffnungsjahr (anteilig)",
        )
    style.mark_hidden(ax, [y for y, v in zip(years, rate, strict=True) if not _shown(v)])
    ax.set_xlabel("Jahr")
    ax.set_ylabel("Erstkontakte je 1.000 Geburten")
    _years_axis(ax, years)
    style.number_axis(ax, "y")
    ax.legend(loc="best")
    style.source_note(fig, f"Quelle: {SOURCE}; {report.site_name}")
    first, last = (years[0], years[-1]) if years else (None, None)
    if (
        first is not None
        and _value(table, first, "Erstkontakte") is not None
        and _value(table, last, "Erstkontakte") is not None
    ):
        sentence = (
            f"Von {first} bis {last} änderte sich die Zahl der Erstkontakte von "
            f"{formatting.number(_value(table, first, 'Erstkontakte'))} auf "
            f"{formatting.number(_value(table, last, 'Erstkontakte'))}."
        )
        if partial:
            sentence += (
                " In "
                + ", ".join(str(y) for y in partial)
                + (
                    " war noch kein Standort das ganze Jahr geöffnet"
                    if report.site == data.ALL_SITES
                    else " war der Standort nicht das ganze Jahr geöffnet"
                )
                + "; die Rate bezieht dort nur die Monate der Öffnung ein (markiert)."
            )
    else:
        sentence = "Für den Verlauf liegen nicht genug ausweisbare Jahre vor."
    alt = series_alt(
        f"der Erstkontakte je 1.000 Geburten mit 95-%-Intervall, {report.site_name}",
        list(zip(years, rate, strict=True)),
        lambda v: formatting.number(v, 1),
    )
    if partial:
        alt += " Als Eröffnungsjahr (anteilig) markiert: " + ", ".join(map(str, partial)) + "."
    return Section(
        "Verlauf über die Jahre", sentence, table, figure=fig, notes=[RATE_NOTE], alt=alt
    )


# --- Zugangswege ---------------------------------------------------------------------------


def routes_table(report: Report) -> Section:
    contacts = data.contacts_for(report.dataset, report.site, report.year)
    counts = access_routes.route_counts(contacts)
    total = int(counts.sum())
    frame = stats.share_table(
        counts.rename(index=CATEGORIES["zugangsweg"].label), "Zugangsweg", TOTAL
    )
    share = Share("Anzahl", denominator_row=TOTAL)
    codes = _by_label("zugangsweg")
    table = _protect(
        report,
        frame,
        lambda r, c: (report.site, pub.EK) if r == TOTAL else (report.site, pub.ROUTE, codes[r]),
        count_columns=["Anzahl"],
        total_row=TOTAL,
        share_columns={"Anteil": share, "Untergrenze": share, "Obergrenze": share},
    )
    visible = {i: _value(table, i, "Anteil") for i in table.values.index if i != TOTAL}
    # The most frequent shown category: a 0 % category is never "the most frequent".
    visible = {k: v for k, v in visible.items() if v is not None and v > 0}
    if total == 0:
        sentence = "Für diese Auswahl sind keine Erstkontakte erfasst."
    elif visible:
        top = max(visible, key=lambda k: visible[k])
        sentence = (
            f"Der häufigste Zugangsweg war „{top}“ mit {formatting.percent(visible[top])} "
            f"der {formatting.number(_value(table, TOTAL, 'Anzahl') or total)} Erstkontakte"
            f"{_interval(_value(table, top, 'Untergrenze'), _value(table, top, 'Obergrenze'))}."
        )
    else:
        sentence = "Die Zugangswege lassen sich wegen kleiner Fallzahlen nicht einzeln ausweisen."
    return Section(
        "Zugangswege",
        sentence,
        table,
        notes=[
            "Anteil an allen Erstkontakten (auch ohne Angabe zum Zugangsweg); "
            "Intervalle: Wilson, 95 %."
        ],
    )


def route_groups(report: Report) -> Section:
    contacts = data.contacts_for(report.dataset, report.site, report.year)
    counts = access_routes.group_counts(contacts)
    frame = stats.share_table(counts, "Gruppe", TOTAL)
    share = Share("Anzahl", denominator_row=TOTAL)
    table = _protect(
        report,
        frame,
        lambda r, c: (report.site, pub.EK) if r == TOTAL else (report.site, pub.GROUP, str(r)),
        count_columns=["Anzahl"],
        total_row=TOTAL,
        share_columns={"Anteil": share, "Untergrenze": share, "Obergrenze": share},
    )
    shown = table.values.mask(table.hidden).drop(index=TOTAL)
    fig, ax = style.new_figure()
    shares = pd.to_numeric(shown["Anteil"], errors="coerce").astype(float)
    # One colour: the bars are named on the axis, a colour per bar would say nothing, and
    # the palette's light blue and yellow stand out too little from white (< 3:1). Each bar
    # carries its value; a hidden one its "•", so an empty bar does not read as 0 %.
    bars = ax.barh(
        list(shown.index)[::-1], list(shares.fillna(0.0))[::-1], color=style.palette(1)[0]
    )
    ax.bar_label(
        bars,
        labels=[
            formatting.percent(v) if _shown(v) else formatting.SUPPRESSED for v in shares[::-1]
        ],
        padding=3,
        fontsize=style.FONT_SIZE - 1,
    )
    widest = float(shares.max()) if shares.notna().any() else 0.0
    ax.set_xlim(0, (widest or 1.0) * 1.15)  # room for the value beside the longest bar
    ax.set_xlabel("Anteil an den Erstkontakten")
    style.percent_axis(ax, "x")
    style.source_note(fig, f"Quelle: {SOURCE}; {report.scope_text}")
    health = _value(table, "Gesundheitswesen", "Anteil")
    if health is not None:
        sentence = (
            f"Über das Gesundheitswesen kamen {formatting.percent(health)} der Familien"
            f"{_interval(_value(table, 'Gesundheitswesen', 'Untergrenze'), _value(table, 'Gesundheitswesen', 'Obergrenze'))}."
        )
    else:
        sentence = "Der Anteil des Gesundheitswesens lässt sich nicht ausweisen."
    alt = bars_alt(
        f"der Anteile an den Erstkontakten nach Gruppen von Zugangswegen, {report.scope_text}",
        [(str(g), v) for g, v in pd.to_numeric(shown["Anteil"], errors="coerce").items()],
        formatting.percent,
    )
    return Section("Zugangswege nach Gruppen", sentence, table, figure=fig, alt=alt)


def response_time(report: Report) -> Section:
    contacts = data.contacts_for(report.dataset, report.site, report.year)
    rt = access_routes.response_time(contacts, report.config.land)
    within = rt.within_standard
    p = stats.wilson_interval(within, rt.n)
    frame = (
        pd.DataFrame(
            [
                {
                    "Kennzahl": indicator_label(
                        "zugangswege.reaktionszeit.quote_binnen_3_werktagen"
                    ),
                    "Anzahl": within,
                    "Bezugsgröße (n)": rt.n,
                    "Anteil": p.share,
                    "Untergrenze": p.lower,
                    "Obergrenze": p.upper,
                    "Median Werktage": rt.median_werktage,
                }
            ]
        )
        .set_index("Kennzahl")
        .astype(
            {
                "Anzahl": pd.Int64Dtype(),
                "Bezugsgröße (n)": pd.Int64Dtype(),
                "Anteil": "float64",
                "Untergrenze": "float64",
                "Obergrenze": "float64",
                "Median Werktage": "float64",
            }
        )
    )
    share = Share("Anzahl", "Bezugsgröße (n)")
    part = {"Anzahl": "binnen_3", "Bezugsgröße (n)": "n"}
    table = _protect(
        report,
        frame,
        lambda r, c: (report.site, pub.RESPONSE, part[c]),
        count_columns=["Anzahl", "Bezugsgröße (n)"],
        share_columns={"Anteil": share, "Untergrenze": share, "Obergrenze": share},
        mean_columns={"Median Werktage": "Bezugsgröße (n)"},
    )
    row = frame.index[0]
    quota, median = _value(table, row, "Anteil"), _value(table, row, "Median Werktage")
    if rt.n == 0:
        sentence = "Für diese Auswahl ist bei keinem Erstkontakt ein Meldedatum erfasst."
    elif quota is None:
        sentence = "Die Reaktionszeit lässt sich wegen kleiner Fallzahl nicht ausweisen."
    else:
        sentence = (
            f"Nach einer Meldung kam der Erstkontakt im Median nach "
            f"{formatting.number(median, 1)} Werktagen zustande; "
            f"{formatting.percent(quota)} der gemeldeten Familien wurden binnen 3 Werktagen "
            f"erreicht{_interval(_value(table, row, 'Untergrenze'), _value(table, row, 'Obergrenze'))} "
            "(Bergkamener Standard: binnen 3 Werktagen). Familien, die nach einer Meldung "
            "nie erreicht wurden, sind darin nicht enthalten."
        )
    return Section(
        "Reaktionszeit nach Meldung",
        sentence,
        table,
        notes=[
            f"Werktage ohne Samstage, Sonntage und Feiertage ({report.config.land}).",
            "Gezählt sind nur Meldungen, aus denen ein Erstkontakt wurde: Familien, die nach "
            "einer Meldung nie erreicht wurden, fehlen in dieser Zahl (Überlebensverzerrung). "
            "Die Reaktionszeit wirkt dadurch kürzer und die Quote höher, als sie für alle "
            "Meldungen wäre; die Daten erfassen Meldungen ohne Kontakt bisher nicht.",
        ],
    )


def onward_referrals(report: Report) -> Section:
    contacts = data.contacts_for(report.dataset, report.site, report.year)
    frame = access_routes.onward_referral_rates(contacts)
    frame = frame.rename(
        columns={
            "dokumentiert": "Dokumentiert",
            "weitervermittelt": "Weitervermittelt",
            "anteil": "Anteil",
            "untergrenze": "Untergrenze",
            "obergrenze": "Obergrenze",
        }
    )
    frame.index.name = "Zugangsgruppe"
    share = Share("Weitervermittelt", "Dokumentiert")
    part = {"Dokumentiert": "dokumentiert", "Weitervermittelt": "ja"}
    table = _protect(
        report,
        frame,
        lambda r, c: (
            report.site,
            pub.REFERRAL,
            pub.REFERRAL_TOTAL if r == TOTAL else str(r),
            part[c],
        ),
        count_columns=["Dokumentiert", "Weitervermittelt"],
        share_columns={"Anteil": share, "Untergrenze": share, "Obergrenze": share},
    )
    total = _value(table, TOTAL, "Anteil") if TOTAL in table.values.index else None
    sentence = (
        f"Insgesamt wurde für {formatting.percent(total)} der Familien mit dokumentierter "
        "Angabe eine Weitervermittlung vereinbart (Lotsenfunktion)."
        if total is not None
        else "Die Weitervermittlungen lassen sich nicht ausweisen."
    )
    return Section("Weitervermittlung nach Zugangsgruppe", sentence, table)


# --- Kosten ------------------------------------------------------------------------------


def hze_development(report: Report) -> Section:
    frame = costs.hze_development(report.dataset.table("kosten_hze"))
    if frame.empty:
        return Section(
            "Hilfen zur Erziehung",
            "Die Tabelle kosten_hze wurde nicht geliefert "
            "oder enthält keine Jahre; zur HzE-Entwicklung lässt sich nichts sagen.",
        )
    if report.year is not None:
        frame = frame.loc[frame.index <= report.year]
    frame = frame.rename(
        columns={
            "ausgaben_eur": "Ausgaben (€)",
            "ausgaben_veraenderung_pct": "zum Vorjahr",
            "fallzahl_mittel": "Fallzahl (Mittel)",
            "fallzahl_veraenderung_pct": "Fallzahl zum Vorjahr",
            "kosten_je_fall_eur": "Kosten je Fall (€)",
            "kosten_je_fall_veraenderung_pct": "je Fall zum Vorjahr",
        }
    )
    frame.index.name = "Jahr"
    # Municipality-wide money and mean case numbers, not counts of persons: nothing to hide.
    table = _protect(report, frame, count_columns=[])
    table.kinds.update(
        {
            "Ausgaben (€)": "euro",
            "Kosten je Fall (€)": "euro",
            "Fallzahl (Mittel)": "zahl1",
            "zum Vorjahr": "prozent",
            "Fallzahl zum Vorjahr": "prozent",
            "je Fall zum Vorjahr": "prozent",
        }
    )
    fig, ax = style.new_figure()
    ax.plot(list(frame.index), list(frame["Ausgaben (€)"]), marker="o", color=style.palette(1)[0])
    ax.set_xlabel("Jahr")
    ax.set_ylabel("HzE-Ausgaben")
    _years_axis(ax, [int(y) for y in frame.index])
    style.euro_axis(ax, millions=True)
    style.source_note(fig, "Quelle: Tabelle kosten_hze (gesamtstädtisch); eigene Auswertung")
    year = frame.index[-1]
    row = frame.loc[year]
    sentence = (
        f"{year} gab die Kommune {formatting.euro(row['Ausgaben (€)'])} für Hilfen zur "
        f"Erziehung aus{_change(row['zum Vorjahr'])} bei im Mittel {formatting.number(row['Fallzahl (Mittel)'], 1)} Fällen; "
        f"ein Fall kostete {formatting.euro(row['Kosten je Fall (€)'])}."
    )
    growth = costs.compound_growth_rate(frame["Ausgaben (€)"])
    if growth is not None and len(frame) > 1:
        sentence += (
            f" Von {frame.index[0]} bis {year} wuchsen die Ausgaben im Mittel um "
            f"{formatting.percent(growth)} im Jahr."
        )
    return Section(
        "Hilfen zur Erziehung: Ausgaben und Fallzahlen",
        sentence,
        table,
        figure=fig,
        notes=["Gesamtstädtische Werte, für jeden Standort gleich."],
        alt=series_alt(
            "der gesamtstädtischen Ausgaben für Hilfen zur Erziehung",
            [(int(y), v) for y, v in frame["Ausgaben (€)"].items()],
            formatting.euro,
        ),
    )


def fh_budget(report: Report) -> Section:
    budget = costs.fh_budget(report.dataset.table("finanzierung"), report.site, report.year)
    if budget.total is None:
        return Section(
            "Budget der Frühen Hilfen",
            "Für diese Auswahl liegt keine Finanzierung vor "
            "(Tabelle finanzierung fehlt oder hat keine Zeilen).",
        )
    category = CATEGORIES["quelle"]
    frame = pd.DataFrame(
        {
            "Quelle": [category.label(c) for c in budget.by_source.index] + [TOTAL],
            "Betrag (€)": [*list(budget.by_source.astype(float)), float(budget.total)],
        }
    ).set_index("Quelle")
    frame["Anteil"] = frame["Betrag (€)"] / float(budget.total) if budget.total else None
    table = _protect(report, frame, count_columns=[])
    table.kinds.update({"Betrag (€)": "euro", "Anteil": "anteil"})
    contacts = reach.first_contacts(data.contacts_for(report.dataset, report.site, report.year))
    per_contact = costs.fh_budget_per_contact(budget.total, contacts)
    sentence = f"Das Budget der Frühen Hilfen betrug {formatting.euro(budget.total)}"
    protected = report.publication
    contacts_hidden = (
        protected.is_hidden((report.site, pub.EK))
        if protected is not None
        else contacts < report.config.min_count
    )
    # Budget / first contacts with the budget shown would give away a hidden count.
    if per_contact is not None and not contacts_hidden:
        sentence += f", das sind {formatting.euro(per_contact)} je Erstkontakt."
    else:
        sentence += "."
    return Section("Budget der Frühen Hilfen nach Quelle", sentence, table)


# --- Gesamtbericht -----------------------------------------------------------------------


def sites_overview(report: Report) -> Section:
    frame = reach.sites_table(report.dataset, report.year)
    frame = frame[["Erstkontakte", "Geburten", "Erreichungsquote", "Willkommensbesuche", "Besuche"]]
    # The rows of sites_table: the open sites in order, then all sites. Protect by id.
    ids = [s for s, y in data.site_years(report.dataset) if y == report.year] + [data.ALL_SITES]
    names = dict(zip(ids, frame.index, strict=True))
    frame.index = pd.Index(ids, name=frame.index.name)
    quantity = {
        "Erstkontakte": (pub.EK,),
        "Geburten": (pub.BIRTHS,),
        "Willkommensbesuche": (pub.WELCOME,),
        "Besuche": (pub.OFFER_TOTAL, "besuche"),
    }
    table = _protect(
        report,
        frame,
        lambda r, c: (r, *quantity[c]),
        count_columns=["Erstkontakte", "Geburten", "Willkommensbesuche", "Besuche"],
        share_columns={"Erreichungsquote": Share("Erstkontakte", "Geburten")},
    )
    table = _rename_rows(table, names)
    frame.index = pd.Index(list(names.values()), name=frame.index.name)
    all_row = frame.index[-1]
    count = _value(table, all_row, "Erstkontakte")
    n_sites = len(frame) - 1
    where = "an einem Standort" if n_sites == 1 else f"an {n_sites} Standorten"
    sentence = (
        f"An allen Standorten zusammen gab es {report.year} "
        f"{formatting.number(count)} Erstkontakte {where}."
        if count is not None
        else "Die Erstkontakte lassen sich nicht ausweisen."
    )
    return Section(
        "Standorte im Vergleich",
        sentence,
        table,
        notes=[
            "Erreichungsquote: Erstkontakte je Geburt im Gebiet (über 100 %: mehr Erstkontakte als Geburten)."
        ],
    )


def _known_route_cell(site: str, column: str) -> pub.Cell:
    """Cells of the site x route-group table, which leaves out contacts without a route:
    its total is the contacts with a known route, its "Sonstige" the route ``sonstige``."""
    if column == TOTAL:
        return (site, pub.ROUTE_KNOWN)
    if column == CATEGORIES["zugangsweg"].groups["unbekannt"]:
        return (site, pub.ROUTE, "sonstige")
    return (site, pub.GROUP, column)


def site_route_comparison(report: Report) -> Section:
    contacts = data.contacts_for(report.dataset, data.ALL_SITES, report.year)
    # The note names the contacts without a route: not when that count is hidden.
    unknown_hidden = _any_hidden(report, [(report.site, pub.ROUTE, "unbekannt")])
    comparison = access_routes.site_comparison(contacts, count_excluded=not unknown_hidden)
    counts = comparison.counts.copy()
    counts.index = [str(s) for s in counts.index]
    counts.index.name = "Standort"
    counts.columns = [str(c) for c in counts.columns]
    counts[TOTAL] = counts.sum(axis=1)
    table = _protect(
        report,
        counts.astype(pd.Int64Dtype()),
        lambda r, c: _known_route_cell(r, c),
        count_columns=list(counts.columns),
        total_column=TOTAL,
    )
    table = _rename_rows(table, {s: report.dataset.site_name(s) for s in counts.index})
    return Section("Zugangsgruppen je Standort (Chi-Quadrat-Test)", comparison.note, table)


# --- Raten, Anteile, Trichter, Sozialräume (issue 10) -----------------------------------------

RATE_NOTE = (
    "Raten: Erstkontakte je 1.000 der Bezugsgröße, im Eröffnungsjahr eines Standorts nur für "
    "die Monate der Öffnung gezählt (Bezugsgröße × Monate / 12); 95-%-Intervall nach Poisson "
    "(exakt, Garwood). Eine Rate ist kein Anteil: Erstkontakte betreffen auch Schwangere, "
    "Kinder über 3 Jahre und Familien aus anderen Gebieten, Werte über 1.000 sind möglich."
)


def _blank_when_rounded(report: Report, table: ProtectedTable, columns: list[str]) -> None:
    """With rounding to 5 a rate over a prorated denominator cannot be recomputed from the
    rounded counts; it is not shown (rather than shown exactly beside rounded counts)."""
    if not report.config.round_to_5:
        return
    for column in columns:
        if column in table.values.columns:
            table.hidden[column] = True
            table.values[column] = pd.NA


def _hide_cells(table: ProtectedTable, row: Any, columns: list[str]) -> None:
    for column in columns:
        if column in table.values.columns and row in table.values.index:
            table.hidden.loc[row, column] = True
            table.values.loc[row, column] = pd.NA


def _any_hidden(report: Report, cells: list[pub.Cell], year: int | None = None) -> bool:
    protected = report.publication if year is None else report.publication_of(year)
    if protected is None:
        return False
    return any(protected.knows(c) and protected.is_hidden(c) for c in cells)


def reach_overview(report: Report) -> Section:
    f = reach.figures(report.dataset, report.site, report.year)
    per_births = indicator_label("reichweite.erstkontakte_je_1000_geburten.wert")
    per_u3 = indicator_label("reichweite.erstkontakte_je_1000_kinder_u3.wert")
    rows = []
    for label, rate, population in (
        (per_births, f.per_1000_births, f.births),
        (per_u3, f.per_1000_under_3, f.children_under_3),
    ):
        rows.append(
            {
                "Kennzahl": label,
                "Erstkontakte": f.first_contacts,
                "Bezugsgröße": population,
                "Monate geöffnet": f.months_open,
                "je 1.000": rate.rate if rate else None,
                "Untergrenze": rate.lower if rate else None,
                "Obergrenze": rate.upper if rate else None,
            }
        )
    frame = (
        pd.DataFrame(rows)
        .set_index("Kennzahl")
        .astype(
            {
                "Erstkontakte": pd.Int64Dtype(),
                "Bezugsgröße": pd.Int64Dtype(),
                "Monate geöffnet": pd.Int64Dtype(),
                "je 1.000": "float64",
                "Untergrenze": "float64",
                "Obergrenze": "float64",
            }
        )
    )
    s = report.site
    denominators = {per_births: (s, pub.BIRTHS), per_u3: (s, pub.CHILDREN_U3)}
    share = Share("Erstkontakte", "Bezugsgröße")
    table = _protect(
        report,
        frame,
        lambda r, c: (s, pub.EK) if c == "Erstkontakte" else denominators[r],
        count_columns=["Erstkontakte", "Bezugsgröße"],
        share_columns={"je 1.000": share, "Untergrenze": share, "Obergrenze": share},
    )
    table.kinds.update(
        {
            "je 1.000": "zahl1",
            "Untergrenze": "zahl1",
            "Obergrenze": "zahl1",
            "Monate geöffnet": "zahl0",
        }
    )
    _blank_when_rounded(report, table, ["je 1.000", "Untergrenze", "Obergrenze"])
    count = _value(table, per_births, "Erstkontakte")
    births = _value(table, per_births, "Bezugsgröße")
    rate = _value(table, per_births, "je 1.000")
    if f.first_contacts == 0:
        sentence = f"Für {report.scope_text} sind keine Erstkontakte erfasst."
    elif count is None:
        sentence = (
            f"Für {report.scope_text} ist die Zahl der Erstkontakte so klein, dass sie "
            "nicht ausgewiesen wird."
        )
    elif births is None or rate is None:
        sentence = (
            f"{_subject(report)} {formatting.number(count)} Erstkontakte; "
            "eine Rate je 1.000 Geburten lässt sich nicht berechnen, weil keine Geburtenzahl "
            "für dieses Gebiet vorliegt."
        )
    else:
        lower, upper = (
            _value(table, per_births, "Untergrenze"),
            _value(table, per_births, "Obergrenze"),
        )
        interval = (
            f" (95-%-Intervall {formatting.number(lower, 0)} bis {formatting.number(upper, 0)})"
            if lower is not None and upper is not None
            else ""
        )
        sentence = (
            f"{_subject(report)} {formatting.number(count)} Erstkontakte bei "
            f"{formatting.number(births)} Geburten; das sind {formatting.number(rate, 0)} "
            f"Erstkontakte je 1.000 Geburten{interval}."
        )
        months = f.months_open
        if months is not None and 0 < months < 12:
            sentence += (
                f" Der Standort war {report.year} nur {months} Monate geöffnet; die Rate setzt "
                f"die Erstkontakte deshalb ins Verhältnis zu {months}/12 der Geburten."
            )
        if rate > 1000:
            sentence += (
                " Ein Wert über 1.000 bedeutet, dass mehr Familien Kontakt aufnahmen, als im "
                "Gebiet Kinder geboren wurden – etwa, weil Familien aus anderen Gebieten "
                "kommen oder ältere Kinder haben."
            )
    notes = [RATE_NOTE]
    definition = reach.birth_definition(report.dataset, report.site, report.year)
    if definition:
        notes.append(definition)
    return Section("Reichweite im Überblick", sentence, table, notes=notes)


def reach_shares(report: Report) -> Section:
    f = reach.figures(report.dataset, report.site, report.year)
    welcome = indicator_label("reichweite.willkommensbesuch_quote")
    pregnancy = indicator_label("reichweite.schwangerschaft.anteil")
    under_one = indicator_label("reichweite.kind_unter_1_je_geburt.anteil")
    rows = [
        _rate_row(welcome, f.welcome_visit_rate),
        _rate_row(pregnancy, f.pregnancy),
        _rate_row(under_one, f.under_one or stats.Proportion(0, 0, None, None, None)),
    ]
    s = report.site
    cells = {
        (welcome, "Anzahl"): (s, pub.WELCOME),
        (welcome, "Bezugsgröße (n)"): (s, pub.BIRTHS),
        (pregnancy, "Anzahl"): (s, pub.PHASE, "schwangerschaft"),
        (pregnancy, "Bezugsgröße (n)"): (s, pub.PHASE_KNOWN),
        (under_one, "Bezugsgröße (n)"): (s, pub.BIRTHS),
    }
    table = _rate_table(report, rows, lambda r, c: cells.get((r, c)))
    # The under-one count is a sum of two published life phases: hidden when either is.
    if _any_hidden(report, pub.derived_cells(s)["kind_unter_1"]):
        _hide_cells(table, under_one, ["Anzahl", "Anteil", "Untergrenze", "Obergrenze"])
    parts = []
    for row, text in (
        (welcome, "Willkommensbesuche je Geburt"),
        (pregnancy, "in der Schwangerschaft erreicht"),
        (under_one, "Erstkontakte mit Kind unter 1 Jahr je Geburt"),
    ):
        value = _value(table, row, "Anteil")
        if value is not None:
            parts.append(
                f"{text}: {formatting.percent(value)}"
                f"{_interval(_value(table, row, 'Untergrenze'), _value(table, row, 'Obergrenze'))}"
            )
    sentence = (
        "; ".join(parts)[0].upper() + "; ".join(parts)[1:] + "."
        if parts
        else "Für diese Auswahl lassen sich keine Anteile ausweisen."
    )
    notes = [
        "Anteile mit Wilson-Intervall (95 %). Willkommensbesuche je Geburt und Erstkontakte "
        "mit Kind unter 1 Jahr je Geburt sind nur näherungsweise Anteile der Neugeborenen "
        "(Kinder vom Jahresende, Familien aus anderen Gebieten); über 100 % ohne Intervall.",
    ]
    if report.dataset.table("willkommensbesuche") is None:
        notes.append("Die Tabelle willkommensbesuche wurde nicht geliefert.")
    return Section(
        "Anteile: Willkommensbesuche, Schwangerschaft, erstes Lebensjahr",
        sentence,
        table,
        notes=notes,
    )


def welcome_trend(report: Report) -> Section:
    years = [y for y in sorted(report.dataset.years) if report.year is None or y <= report.year]
    rows = []
    for year in years:
        visits = reach.welcome_visits(report.dataset.table("willkommensbesuche"), report.site, year)
        births = reach.births(report.dataset.table("bevoelkerung"), report.site, year)
        if visits is None:
            continue
        p = reach.welcome_visit_rate(visits, births)
        rows.append(
            {
                "Jahr": year,
                "Willkommensbesuche": visits,
                "Geburten": births,
                "Anteil": p.share,
                "Untergrenze": p.lower,
                "Obergrenze": p.upper,
            }
        )
    if not rows:
        return Section(
            "Willkommensbesuche über die Jahre",
            "Für diese Auswahl liegen keine Willkommensbesuche vor.",
        )
    frame = (
        pd.DataFrame(rows)
        .set_index("Jahr")
        .astype(
            {
                "Willkommensbesuche": pd.Int64Dtype(),
                "Geburten": pd.Int64Dtype(),
                "Anteil": "float64",
                "Untergrenze": "float64",
                "Obergrenze": "float64",
            }
        )
    )
    share = Share("Willkommensbesuche", "Geburten")
    quantity = {"Willkommensbesuche": pub.WELCOME, "Geburten": pub.BIRTHS}
    table = _protect(
        report,
        frame,
        lambda r, c: (report.site, quantity[c]),
        publication=lambda row: report.publication_of(int(row)),
        count_columns=["Willkommensbesuche", "Geburten"],
        share_columns={"Anteil": share, "Untergrenze": share, "Obergrenze": share},
    )
    shown = table.values.mask(table.hidden)
    visible = shown.dropna(subset=["Willkommensbesuche", "Geburten"])
    visible = visible[visible["Willkommensbesuche"] <= visible["Geburten"]]
    trend = stats.share_trend(
        [int(y) for y in visible.index],
        [int(v) for v in visible["Willkommensbesuche"]],
        [int(v) for v in visible["Geburten"]],
    )
    fig, ax = style.new_figure()
    years_shown = [int(y) for y in shown.index]
    colour = style.palette(1)[0]
    ax.plot(
        years_shown,
        pd.to_numeric(shown["Anteil"], errors="coerce").astype(float),
        marker="o",
        color=colour,
        label="Willkommensbesuche je Geburt",
    )
    ax.fill_between(
        years_shown,
        pd.to_numeric(shown["Untergrenze"], errors="coerce").astype(float),
        pd.to_numeric(shown["Obergrenze"], errors="coerce").astype(float),
        alpha=0.2,
        color=colour,
        label="95-%-Intervall (Wilson)",
    )
    style.mark_hidden(
        ax,
        [
            y
            for y, v in zip(
                years_shown, pd.to_numeric(shown["Anteil"], errors="coerce"), strict=True
            )
            if not _shown(v)
        ],
    )
    ax.set_xlabel("Jahr")
    ax.set_ylabel("Willkommensbesuche je Geburt")
    _years_axis(ax, years_shown)
    style.percent_axis(ax, "y")
    ax.legend(loc="best")
    style.source_note(
        fig, f"Quelle: Tabellen willkommensbesuche und bevoelkerung; {report.site_name}"
    )
    alt = series_alt(
        f"der Willkommensbesuche je Geburt mit 95-%-Intervall, {report.site_name}",
        list(zip(years_shown, pd.to_numeric(shown["Anteil"], errors="coerce"), strict=True)),
        formatting.percent,
    )
    return Section("Willkommensbesuche über die Jahre", trend.note, table, figure=fig, alt=alt)


def sites_funnel(report: Report) -> Section:
    frame = reach.site_rates_table(report.dataset, report.year)
    if frame.empty:
        return Section("Standorte im Trichterdiagramm", "Im Jahr war kein Standort geöffnet.")
    ids = list(frame.index)
    frame = frame.drop(columns=["Region"])
    share = Share("Erstkontakte", "Geburten")
    quantity = {"Erstkontakte": pub.EK, "Geburten": pub.BIRTHS}
    table = _protect(
        report,
        frame,
        lambda r, c: (r, quantity[c]) if c in quantity else None,
        count_columns=["Erstkontakte", "Geburten"],
        share_columns={
            "Geburten anteilig": share,
            "je 1.000 Geburten": share,
            "Untergrenze": share,
            "Obergrenze": share,
        },
    )
    table.kinds.update(
        {
            "Geburten anteilig": "zahl1",
            "je 1.000 Geburten": "zahl1",
            "Untergrenze": "zahl1",
            "Obergrenze": "zahl1",
            "Monate geöffnet": "zahl0",
        }
    )
    _blank_when_rounded(
        report, table, ["Geburten anteilig", "je 1.000 Geburten", "Untergrenze", "Obergrenze"]
    )
    shown = table.values.mask(table.hidden).dropna(
        subset=["je 1.000 Geburten", "Geburten anteilig"]
    )
    target = reach.pooled_rate(frame)
    # The pooled rate times the published births gives the sum of the first contacts: not
    # shown when the publication hides the all-sites count.
    if _any_hidden(report, [(data.ALL_SITES, pub.EK)]):
        target = None
    fig, ax = style.new_figure()
    colours = style.palette(3)
    outside: list[str] = []
    if target is not None and len(shown):
        top = float(shown["Geburten anteilig"].max()) * 1.15
        grid = [top * i / 200 for i in range(4, 201)]
        limits = stats.funnel_limits(target / 1000, grid)
        for level, dash, colour in (("95", "--", colours[1]), ("99_8", ":", colours[2])):
            text = level.replace("_", ",")
            ax.plot(
                grid,
                limits[f"oben_{level}"] * 1000,
                dash,
                color=colour,
                label=f"{text}-%-Kontrollgrenzen",
            )
            ax.plot(grid, limits[f"unten_{level}"] * 1000, dash, color=colour)
        ax.axhline(target, color="#444444", linewidth=1, label="Alle Standorte zusammen")
        # Outside the 99.8 % limits is said by the marker's shape and the label, not by
        # colour alone: ▲ above, ▼ below, ● inside.
        markers = {"darüber": "^", "darunter": "v", "": "o"}
        # Sites of similar size and rate lie close together: their names are stacked from
        # the highest rate down, each on its own line, with a thin line to its point.
        rank = {s: i for i, s in enumerate(shown["je 1.000 Geburten"].sort_values().index[::-1])}
        column = float(shown["Geburten anteilig"].min()) - 0.03 * top
        for site, row in shown.iterrows():
            name = report.dataset.site_name(str(site))
            point = stats.funnel_limits(target / 1000, [float(row["Geburten anteilig"])])
            rate = float(row["je 1.000 Geburten"]) / 1000
            side = ""
            if rate > point["oben_99_8"].iloc[0]:
                side = "darüber"
            elif rate < point["unten_99_8"].iloc[0]:
                side = "darunter"
            if side:
                outside.append(f"{name} ({side})")
            ax.scatter(
                [row["Geburten anteilig"]],
                [row["je 1.000 Geburten"]],
                marker=markers[side],
                s=70 if side else 40,
                color=colours[0],
                zorder=3,
            )
            ax.annotate(
                f"{name} ({side} 99,8 %)" if side else name,
                (row["Geburten anteilig"], row["je 1.000 Geburten"]),
                fontsize=8,
                # One column of names left of the leftmost point, ordered like the points:
                # the thin lines fan out to the right without crossing.
                xytext=(column, 30 - 13 * rank[site]),
                textcoords=("data", "offset points"),
                ha="right",
                arrowprops={"arrowstyle": "-", "color": "#666666", "linewidth": 0.5},
            )
        ax.legend(loc="best", fontsize=8)
    ax.set_xlabel("Geburten im Einzugsgebiet (anteilig für die Monate der Öffnung)")
    ax.set_ylabel("Erstkontakte je 1.000 Geburten")
    style.number_axis(ax, "x")
    style.number_axis(ax, "y")
    style.source_note(fig, f"Quelle: {SOURCE}; {report.year}")
    table = _rename_rows(table, {s: report.dataset.site_name(s) for s in ids}, "Standort")
    hidden_sites = len(ids) - len(shown)
    if target is None:
        sentence = (
            "Ohne ausweisbare Erstkontakte und Geburtenzahlen der Einzugsgebiete lässt sich "
            "kein Trichter zeichnen."
        )
    else:
        sentence = (
            f"Alle Standorte zusammen erreichten {report.year} {formatting.number(target, 0)} "
            "Erstkontakte je 1.000 Geburten. "
            + (
                "Außerhalb der 99,8-%-Kontrollgrenzen liegen: " + ", ".join(outside) + "; "
                "dort ist der Unterschied größer, als Zufall bei dieser Größe erklärt."
                if outside
                else "Kein Standort liegt außerhalb der 99,8-%-Kontrollgrenzen: Die Unterschiede "
                "sind mit zufälliger Schwankung bei der jeweiligen Größe vereinbar."
            )
        )
        if hidden_sites:
            sentence += f" {hidden_sites} Standort(e) wegen kleiner Zahlen nicht eingezeichnet."
    if target is None:
        alt = "Trichterdiagramm ohne Punkte: keine ausweisbaren Raten der Standorte."
    else:
        points = "; ".join(
            f"{report.dataset.site_name(str(site))} {formatting.number(row['je 1.000 Geburten'], 1)}"
            f" bei {formatting.number(row['Geburten anteilig'], 1)} Geburten"
            for site, row in shown.iterrows()
        )
        alt = (
            f"Trichterdiagramm der Erstkontakte je 1.000 Geburten {report.year} gegen die Zahl "
            f"der Geburten je Standort, mit Kontrollgrenzen um den Wert aller Standorte "
            f"({formatting.number(target, 0)}): {points or 'kein Standort ausweisbar'}. "
            + (
                "Außerhalb der 99,8-%-Kontrollgrenzen: " + ", ".join(outside) + "."
                if outside
                else "Kein Standort liegt außerhalb der 99,8-%-Kontrollgrenzen."
            )
        )
        if hidden_sites:
            alt += f" {hidden_sites} Standort(e) wegen kleiner Zahlen nicht eingezeichnet."
    return Section(
        "Standorte im Trichterdiagramm",
        sentence,
        table,
        figure=fig,
        alt=alt,
        notes=[
            "Statt einer Rangliste: Jeder Standort ist ein Punkt (Rate gegen Größe des "
            "Einzugsgebiets). Die Kontrollgrenzen (Poisson, 95 % und 99,8 %) zeigen, wie weit "
            "ein Standort dieser Größe allein durch Zufall vom Wert aller Standorte abweichen "
            "kann; ein Punkt außerhalb ist ein Anlass nachzufragen, kein Urteil.",
            RATE_NOTE,
        ],
    )


def regions_overview(report: Report) -> Section:
    frame = reach.region_table(report.dataset, report.year)
    if frame is None:
        return Section(
            "Sozialräume",
            "Die Tabelle standorte nennt keine Sozialräume (Spalte region); eine Auswertung je "
            "Sozialraum ist nicht möglich.",
        )
    members = {r: str(m).split(", ") for r, m in frame["Standorte"].items()}
    frame = frame.drop(columns=["Standorte"])
    quantity = {"Erstkontakte": pub.EK, "Geburten": pub.BIRTHS}
    share = Share("Erstkontakte", "Geburten")

    def cell(row: Any, column: str) -> pub.Cell | None:
        sites = members[row]
        return (sites[0], quantity[column]) if len(sites) == 1 and column in quantity else None

    table = _protect(
        report,
        frame,
        cell,
        count_columns=["Erstkontakte", "Geburten"],
        share_columns={"je 1.000 Geburten": share, "Untergrenze": share, "Obergrenze": share},
    )
    # A region of several sites is a sum of site counts: hidden when any of them is.
    for region, sites in members.items():
        for column, q in quantity.items():
            if len(sites) > 1 and _any_hidden(report, [(s, q) for s in sites]):
                _hide_cells(
                    table, region, [column, "je 1.000 Geburten", "Untergrenze", "Obergrenze"]
                )
    table.kinds.update(
        {"je 1.000 Geburten": "zahl1", "Untergrenze": "zahl1", "Obergrenze": "zahl1"}
    )
    _blank_when_rounded(report, table, ["je 1.000 Geburten", "Untergrenze", "Obergrenze"])
    visible = {r: _value(table, r, "je 1.000 Geburten") for r in table.values.index}
    visible = {r: v for r, v in visible.items() if v is not None}
    if len(visible) >= 2:
        high = max(visible, key=lambda r: visible[r])
        low = min(visible, key=lambda r: visible[r])
        sentence = (
            f"Je 1.000 Geburten reichte die Spanne {report.year} von "
            f"{formatting.number(visible[low], 0)} Erstkontakten ({low}) bis "
            f"{formatting.number(visible[high], 0)} ({high}); die Intervalle zeigen, ob der "
            "Abstand über Zufall hinausgeht."
        )
    else:
        sentence = "Für weniger als zwei Sozialräume lässt sich eine Rate ausweisen."
    return Section("Sozialräume", sentence, table, notes=[RATE_NOTE])


# --- Kosten: real, Trendänderung, Prognose (issue 10) -------------------------------------------


def hze_real_terms(report: Report) -> Section:
    frame = costs.hze_real(report.dataset.table("kosten_hze"))
    if report.year is not None:
        frame = frame.loc[frame.index <= report.year]
    if frame.empty:
        return Section(
            "Ausgaben nominal und real",
            "Die Tabelle kosten_hze wurde nicht geliefert oder enthält keine Jahre.",
        )
    frame = frame.rename(
        columns={
            "ausgaben_eur": "Nominal (€)",
            "vpi": "VPI (2020 = 100)",
            "ausgaben_real_eur": "Real, Preise 2020 (€)",
            "ausgaben_veraenderung_pct": "nominal zum Vorjahr",
            "ausgaben_real_veraenderung_pct": "real zum Vorjahr",
        }
    )
    frame.index.name = "Jahr"
    table = _protect(report, frame, count_columns=[])
    table.kinds.update(
        {
            "Nominal (€)": "euro",
            "Real, Preise 2020 (€)": "euro",
            "VPI (2020 = 100)": "zahl1",
            "nominal zum Vorjahr": "prozent",
            "real zum Vorjahr": "prozent",
        }
    )
    years = [int(y) for y in frame.index]
    fig, ax = style.new_figure()
    colours = style.palette(2)
    ax.plot(years, list(frame["Nominal (€)"]), marker="o", color=colours[0], label="nominal")
    ax.plot(
        years,
        list(frame["Real, Preise 2020 (€)"]),
        marker="s",
        color=colours[1],
        label="real (Preise 2020)",
    )
    ax.set_xlabel("Jahr")
    ax.set_ylabel("HzE-Ausgaben")
    _years_axis(ax, years)
    style.euro_axis(ax, millions=True)
    ax.legend(loc="best")
    style.source_note(
        fig, "Quelle: Tabelle kosten_hze; Destatis, VPI 61111-0001; eigene Auswertung"
    )
    nominal = costs.compound_growth_rate(frame["Nominal (€)"])
    real = costs.compound_growth_rate(frame["Real, Preise 2020 (€)"].dropna())
    real_years = frame["Real, Preise 2020 (€)"].dropna().index
    if nominal is not None and real is not None and len(real_years) > 1:
        sentence = (
            f"Von {years[0]} bis {years[-1]} wuchsen die HzE-Ausgaben nominal um "
            f"{formatting.percent(nominal)} im Jahr; in Preisen von 2020 (real) von "
            f"{int(real_years[0])} bis {int(real_years[-1])} um {formatting.percent(real)} im Jahr."
        )
    else:
        sentence = (
            "Für einen Vergleich nominal und real braucht es mindestens zwei Jahre mit Preisindex."
        )
    alt = (
        "Liniengrafik der HzE-Ausgaben nominal und real: nominal "
        + series_change(list(zip(years, frame["Nominal (€)"], strict=True)), formatting.euro)
        + "; real in Preisen von 2020 "
        + series_change(
            list(zip(years, frame["Real, Preise 2020 (€)"], strict=True)), formatting.euro
        )
        + "."
    )
    return Section(
        "Ausgaben nominal und real (Verbraucherpreisindex)",
        sentence,
        table,
        figure=fig,
        alt=alt,
        notes=[
            "Real = nominal × VPI 2020 / VPI des Jahres. Der VPI misst Verbraucherpreise, nicht "
            "die Personalkosten der Jugendhilfe (docs/annahmen.md, K5). Jahre ohne Index bleiben leer."
        ],
    )


def _its_start(report: Report) -> int:
    return costs.fh_start_year(report.dataset.table("standorte")) or costs.DEFAULT_START_YEAR


def hze_trend_change(report: Report) -> Section:
    kosten = report.dataset.table("kosten_hze")
    start = _its_start(report)
    results = {
        "nominal": costs.hze_interrupted_time_series(kosten, start, until=report.year),
        "real (Preise 2020)": costs.hze_interrupted_time_series(
            kosten, start, real=True, until=report.year
        ),
    }
    rows = []
    for name, r in results.items():
        rows.append(
            {
                "Reihe": name,
                "Jahre vor / ab Start": f"{r.n_before} / {r.n_after}",
                "Trend vorher (€/Jahr)": r.trend,
                "Trendänderung (€/Jahr)": r.trend_change,
                "p (OLS)": r.p_trend_change,
                "p (AR(1))": r.p_trend_change_ar1,
                "Durbin-Watson": r.durbin_watson,
                "Aussage möglich": "ja" if r.supports_claim else "nein, Reihe zu kurz",
            }
        )
    frame = pd.DataFrame(rows).set_index("Reihe")
    table = _protect(report, frame, count_columns=[])
    table.kinds.update(
        {
            "Trend vorher (€/Jahr)": "euro",
            "Trendänderung (€/Jahr)": "euro",
            "p (OLS)": "zahl2",
            "p (AR(1))": "zahl2",
            "Durbin-Watson": "zahl2",
            "Jahre vor / ab Start": "text",
            "Aussage möglich": "text",
        }
    )
    real = results["real (Preise 2020)"]
    figure = None
    if real.estimable and real.fitted is not None:
        figure, ax = style.new_figure()
        colours = style.palette(3)
        fitted = real.fitted
        years = [int(y) for y in fitted["jahr"]]
        ax.plot(years, fitted["wert"], "o", color=colours[0], label="real (Preise 2020)")
        ax.plot(years, fitted["angepasst"], "-", color=colours[1], label="segmentierte Regression")
        ax.plot(
            years,
            fitted["ohne_unterbrechung"],
            "--",
            color=colours[2],
            label="Fortschreibung des Trends davor",
        )
        ax.axvline(
            start - 0.5, color="#444444", linewidth=1, label=f"Start der Frühen Hilfen ({start})"
        )
        ax.set_xlabel("Jahr")
        ax.set_ylabel("HzE-Ausgaben, real")
        _years_axis(ax, years)
        style.euro_axis(ax, millions=True)
        ax.legend(loc="best", fontsize=8)
        style.source_note(figure, "Quelle: Tabelle kosten_hze; Destatis, VPI; eigene Auswertung")
    sentence = (
        f"Frage des Konzepts: Flacht der Anstieg der HzE-Ausgaben seit dem Start der Frühen "
        f"Hilfen ({start}) ab? Real gerechnet: {costs.describe_its(real)}"
    )
    alt = ""
    if figure is not None:
        alt = (
            "Punktgrafik der realen HzE-Ausgaben (Preise 2020) mit segmentierter Regression "
            f"und der Fortschreibung des Trends vor dem Start der Frühen Hilfen ({start}), "
            f"{series_change(list(zip(years, real.fitted['wert'], strict=True)), formatting.euro)}. "
            f"{costs.describe_its(real, caveat=False)}"
        )
    return Section(
        "Trendänderung der HzE-Ausgaben seit dem Start (unterbrochene Zeitreihe)",
        sentence,
        table,
        figure=figure,
        alt=alt,
        notes=[
            "p (OLS) unterstellt unabhängige Jahreswerte; p (AR(1)) berücksichtigt, dass ein "
            "Jahr dem vorigen ähnelt (GLSAR). Durbin-Watson nahe 2: keine Autokorrelation, "
            "deutlich darunter: positive Autokorrelation. Die Sätze verwenden den größeren der "
            "beiden p-Werte; eine Aussage gilt erst ab "
            f"{real.min_segment_claim} Jahren je Abschnitt (docs/annahmen.md, K8).",
        ],
    )


def hze_forecast(report: Report) -> Section:
    fc = costs.hze_forecast(report.dataset.table("kosten_hze"), until=report.year)
    future = fc.table[fc.table["art"] == "prognose"]
    if future.empty:
        return Section("Kurze Prognose der HzE-Ausgaben", fc.caveat)
    frame = (
        future[["jahr", "prognose", "untergrenze", "obergrenze"]]
        .rename(
            columns={
                "jahr": "Jahr",
                "prognose": "Prognose (€)",
                "untergrenze": "Untergrenze (€)",
                "obergrenze": "Obergrenze (€)",
            }
        )
        .set_index("Jahr")
    )
    table = _protect(report, frame, count_columns=[])
    table.kinds.update({c: "euro" for c in frame.columns})
    observed = fc.table[fc.table["art"] == "beobachtet"]
    fig, ax = style.new_figure()
    colours = style.palette(2)
    ax.plot(observed["jahr"], observed["wert"], marker="o", color=colours[0], label="beobachtet")
    ax.plot(
        future["jahr"],
        future["prognose"],
        marker="o",
        linestyle="--",
        color=colours[1],
        label="Prognose",
    )
    ax.fill_between(
        future["jahr"],
        future["untergrenze"],
        future["obergrenze"],
        alpha=0.2,
        color=colours[1],
        label="95-%-Vorhersageintervall",
    )
    years = [int(y) for y in fc.table["jahr"]]
    ax.set_xlabel("Jahr")
    ax.set_ylabel("HzE-Ausgaben (nominal)")
    _years_axis(ax, years)
    style.euro_axis(ax, millions=True)
    ax.legend(loc="best", fontsize=8)
    style.source_note(
        fig, f"Quelle: Tabelle kosten_hze bis {int(observed['jahr'].max())}; eigene Auswertung"
    )
    last = observed.iloc[-1]
    first = future.iloc[0]
    sentence = (
        f"Für {int(first['jahr'])} ergibt die Prognose {formatting.euro(first['prognose'])} "
        f"(95-%-Vorhersageintervall {formatting.euro(first['untergrenze'])} bis "
        f"{formatting.euro(first['obergrenze'])}) nach {formatting.euro(last['wert'])} in "
        f"{int(last['jahr'])}. {fc.caveat}"
    )
    notes = []
    if fc.coverage is not None:
        notes.append(
            f"Trefferquote im Rückblick: {formatting.percent(fc.coverage, 0)} der Jahre lagen im "
            f"95-%-Vorhersageintervall des gewählten Modells „{fc.method}“."
        )
    alt = (
        "Liniengrafik der HzE-Ausgaben (nominal) mit Prognose: beobachtet "
        + series_change(
            [(int(y), v) for y, v in zip(observed["jahr"], observed["wert"], strict=True)],
            formatting.euro,
        )
        + f"; Prognose für {int(first['jahr'])} {formatting.euro(first['prognose'])} "
        f"(95-%-Vorhersageintervall {formatting.euro(first['untergrenze'])} bis "
        f"{formatting.euro(first['obergrenze'])})."
    )
    return Section(
        "Kurze Prognose der HzE-Ausgaben", sentence, table, figure=fig, notes=notes, alt=alt
    )


# --- Datenqualität -----------------------------------------------------------------------


def reconciliation(report: Report) -> Section:
    rows = []
    for name, entry in (report.dataset.manifest.get("tabellen") or {}).items():
        rows.append(
            {
                "Tabelle": name,
                "Geliefert": "ja" if entry.get("vorhanden", True) else "nein",
                "Gelesen": entry.get("gelesen"),
                "Angenommen": entry.get("angenommen"),
                "Abgelehnt": entry.get("abgelehnt"),
                "Dateien": ", ".join(str(f.get("datei")) for f in entry.get("dateien") or []),
            }
        )
    frame = pd.DataFrame(rows).set_index("Tabelle")
    table = ProtectedTable(
        frame,
        frame.isna() & False,
        "",
        report.config.min_count,
        False,
        {"Gelesen": "anzahl", "Angenommen": "anzahl", "Abgelehnt": "anzahl"},
    )
    rejected = int(pd.to_numeric(frame["Abgelehnt"], errors="coerce").fillna(0).sum())
    read = int(pd.to_numeric(frame["Gelesen"], errors="coerce").fillna(0).sum())
    sentence = (
        f"Von {formatting.number(read)} gelesenen Zeilen wurden {formatting.number(rejected)} "
        f"abgelehnt ({formatting.percent(rejected / read if read else None)}); gelesen = "
        "angenommen + abgelehnt gilt für jede Tabelle."
    )
    return Section(
        "Abgleich je Tabelle",
        sentence,
        table,
        internal=True,
        notes=[
            "Zeilenzahlen der Datenverarbeitung, keine Fallzahlen über Personen: "
            "nur für den internen Gebrauch."
        ],
    )


def rejection_reasons(report: Report) -> Section:
    folder = report.dataset.folder / "abgelehnt"
    rows = []
    for path in sorted(folder.glob("*.csv")) if folder.is_dir() else []:
        frame = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
        if frame.empty or "gruende" not in frame.columns:
            continue
        for reason in frame["gruende"]:
            for part in str(reason).split(" | "):
                rows.append(
                    {
                        "Tabelle": path.stem,
                        "Grund": part.split(":")[0].strip()
                        if ":" in part and part.index(":") < 40
                        else part.strip(),
                    }
                )
    if not rows:
        return Section("Gründe der Ablehnung", "Es wurde keine Zeile abgelehnt.")
    counted = (
        pd.DataFrame(rows)
        .value_counts()
        .rename("Zeilen")
        .reset_index()
        .sort_values(["Tabelle", "Zeilen"], ascending=[True, False])
    )
    frame = counted.set_index("Tabelle")
    table = ProtectedTable(
        frame, frame.isna() & False, "", report.config.min_count, False, {"Zeilen": "anzahl"}
    )
    sentence = (
        f"{formatting.number(len(rows))} Ablehnungsgründe in {counted['Tabelle'].nunique()} "
        "Tabellen; die Zeilen stehen mit Datei, Zeilennummer und Grund im Ordner "
        "abgelehnt/ der aufbereiteten Daten."
    )
    return Section("Gründe der Ablehnung", sentence, table, internal=True)


def missing_tables(report: Report) -> Section:
    missing = [
        n
        for n, e in (report.dataset.manifest.get("tabellen") or {}).items()
        if not e.get("vorhanden", True)
    ]
    if missing:
        text = (
            "Nicht geliefert wurden: " + ", ".join(missing) + ". Kennzahlen, die diese Tabellen "
            "brauchen, bleiben leer; die Berichte sagen es an der Stelle."
        )
    else:
        text = "Alle Tabellen des Datenvertrags wurden geliefert."
    return Section("Fehlende Tabellen", text)


# --- Qualität: Rückmeldungen der Familien und Netzwerkpartner (issue 12) -----------------------

FEEDBACK_NOTE = (
    "Noten 1 (sehr gut) bis 5 (schlecht); Mittelwert über die Fragebögen mit Antwort. "
    "95-%-Intervall nach der t-Verteilung mit der größten Streuung, die bei diesem Mittelwert "
    "auf der Skala 1 bis 5 möglich ist (vorsichtig breit; es verrät nichts über die "
    "Verteilung hinaus). Wie viele Fragebögen ausgegeben wurden, ist nicht "
    "erfasst: Eine Rücklaufquote lässt sich nicht angeben, nur die fehlenden Antworten."
)
_MEAN_COLUMNS = ("Mittelwert", "Untergrenze", "Obergrenze")


def _surveys(report: Report, site: str | None = None, year: int | None = None) -> Any:
    return data.surveys_for(
        report.dataset, report.site if site is None else site, year or report.year
    )


def _no_survey(title: str) -> Section:
    return Section(
        title,
        "Die Tabelle nutzerbefragung wurde nicht geliefert; zu den Rückmeldungen der Familien "
        "lässt sich nichts sagen.",
    )


def _hide_means(
    report: Report, table: ProtectedTable, row: Any, site: str, item: str, year: int | None = None
) -> None:
    """A mean times its published n is the sum of grades, and its interval follows from
    mean and n: hidden where the year's publication hides that sum."""
    if _any_hidden(report, [(site, pub.RATING, item, pub.RATING_SUM)], year):
        _hide_cells(table, row, [c for c in _MEAN_COLUMNS if c in table.values.columns])


def feedback_items(report: Report) -> Section:
    title = "Bewertungen der Familien"
    surveys = _surveys(report)
    if surveys is None:
        return _no_survey(title)
    frame = quality.item_table(surveys)
    items = {label: code for code, label in quality.ITEMS.items()}
    grade = {quality.GRADE_LABELS[g]: str(g) for g in quality.GRADES}
    grade.update({"Keine Angabe": "ohne_angabe", "Antworten (n)": "n"})
    table = _protect(
        report,
        frame,
        lambda r, c: (report.site, pub.RATING, items[r], grade[c]),
        count_columns=list(grade),
        mean_columns={c: "Antworten (n)" for c in _MEAN_COLUMNS},
    )
    for label, code in items.items():
        _hide_means(report, table, label, report.site, code)
        if frame.loc[label, "Antworten (n)"] == 0:
            # No answer, no mean: "–" (missing), not "•" (hidden).
            table.hidden.loc[label, list(_MEAN_COLUMNS)] = False
    table = dataclasses.replace(
        table,
        footnote=footnote_text(table.min_count, hidden=table.any_hidden, rounded=table.rounded),
    )
    table.kinds.update({c: "zahl2" for c in _MEAN_COLUMNS})
    n = quality.questionnaires(surveys)
    n_shown = not _any_hidden(report, [(report.site, pub.SURVEY)])
    means = {r: _value(table, r, "Mittelwert") for r in table.values.index}
    shown = {r: m for r, m in means.items() if m is not None}
    if n == 0:
        sentence = f"{_subject(report)} keine Fragebögen der Nutzerbefragung."
    elif not shown:
        sentence = (
            "Aus Gründen der Geheimhaltung lassen sich zu dieser Befragung keine mittleren "
            "Noten ausweisen."
        )
    else:
        best = min(shown, key=lambda r: shown[r])
        worst = max(shown, key=lambda r: shown[r])
        missing = [
            f"{r} {formatting.number(v)}"
            for r in table.values.index
            if (v := _value(table, r, "Keine Angabe"))
        ]
        count = (
            f"{_subject(report)} {formatting.number(n)} ausgefüllte Fragebögen. " if n_shown else ""
        )
        if len(shown) == 1:  # one mean only: no "best" and "weakest" of one
            compared = (
                f"Ausweisen lässt sich nur die mittlere Note für {best}: "
                f"{formatting.number(shown[best], 1)}."
            )
        else:
            compared = (
                f"Am besten bewertet wurde {best} (mittlere Note "
                f"{formatting.number(shown[best], 1)}), am schwächsten {worst} "
                f"({formatting.number(shown[worst], 1)})."
            )
        sentence = f"{count}{compared}" + (
            f" Ohne Antwort blieben: {', '.join(missing)}." if missing else ""
        )
    figure = _feedback_figure(report, table)
    alt = bars_alt(
        f"der mittleren Noten je Frage ({report.scope_text}; 1 = sehr gut, als gestapelte "
        "Anteile der Noten gezeichnet)",
        [(r, means[r]) for r in table.values.index],
        lambda v: formatting.number(v, 1),
    ).replace("am größten", "am schlechtesten bewertet")
    return Section(title, sentence, table, figure=figure, notes=[FEEDBACK_NOTE], alt=alt)


def _feedback_figure(report: Report, table: ProtectedTable) -> Any:
    """Distribution of the grades per item as stacked shares of the answers. Hidden grade
    counts form one grey block (answers minus the shown counts: in the table already); an
    item whose number of answers is hidden is not drawn."""
    fig, ax = style.new_figure()
    columns = [quality.GRADE_LABELS[g] for g in quality.GRADES]
    colours = style.palette(len(columns))
    labels = list(table.values.index)
    for y, item in enumerate(labels):
        n = _value(table, item, "Antworten (n)")
        if n is None:
            ax.text(0.01, y, "nicht ausweisbar (Geheimhaltung)", va="center", fontsize=8)
            continue
        if n <= 0:
            continue
        left = 0.0
        for column, colour in zip(columns, colours, strict=True):
            count = _value(table, item, column)
            if count is None:
                continue
            ax.barh(y, count / n, left=left, color=colour, label=column)
            left += count / n
        if left < 1 - 1e-9:
            ax.barh(
                y,
                1 - left,
                left=left,
                color="#bbbbbb",
                hatch="//",
                label="nicht ausgewiesen (•)",
            )
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlabel("Anteil der Antworten")
    ax.set_xlim(0, 1)
    style.percent_axis(ax, "x")
    handles, names = ax.get_legend_handles_labels()
    unique = dict(zip(names, handles, strict=True))
    order = [c for c in [*columns, "nicht ausgewiesen (•)"] if c in unique]
    if order:
        ax.legend(
            [unique[c] for c in order],
            order,
            loc="lower center",
            bbox_to_anchor=(0.5, 1.0),
            ncol=3,
            fontsize=8,
        )
    style.source_note(fig, f"Quelle: Tabelle nutzerbefragung; {report.scope_text}")
    return fig


def feedback_recommendation(report: Report) -> Section:
    title = "Weiterempfehlung"
    surveys = _surveys(report)
    if surveys is None:
        return _no_survey(title)
    p = quality.recommendation(surveys)
    n = quality.questionnaires(surveys)
    rows = [
        _rate_row("Würden den Standort weiterempfehlen", p),
        {
            "Kennzahl": "Ohne Angabe zur Weiterempfehlung",
            "Anzahl": n - p.n,
            "Bezugsgröße (n)": n if n else None,
            "Anteil": (n - p.n) / n if n else None,
            "Untergrenze": None,
            "Obergrenze": None,
        },
    ]
    cell = {
        ("Würden den Standort weiterempfehlen", "Anzahl"): (report.site, pub.RECOMMEND, "ja"),
        ("Würden den Standort weiterempfehlen", "Bezugsgröße (n)"): (
            report.site,
            pub.RECOMMEND,
            "bekannt",
        ),
        ("Ohne Angabe zur Weiterempfehlung", "Anzahl"): (report.site, pub.RECOMMEND, "unbekannt"),
        ("Ohne Angabe zur Weiterempfehlung", "Bezugsgröße (n)"): (report.site, pub.SURVEY),
    }
    table = _rate_table(report, rows, lambda r, c: cell[(r, c)])
    share = _value(table, "Würden den Standort weiterempfehlen", "Anteil")
    if share is None:
        sentence = "Der Anteil der Weiterempfehlungen lässt sich nicht ausweisen."
    else:
        lower = _value(table, "Würden den Standort weiterempfehlen", "Untergrenze")
        upper = _value(table, "Würden den Standort weiterempfehlen", "Obergrenze")
        sentence = (
            f"{formatting.percent(share)} der Familien mit Angabe würden den Standort "
            f"weiterempfehlen{_interval(lower, upper)}."
        )
    return Section(
        title,
        sentence,
        table,
        notes=["Anteil unter den Fragebögen mit Angabe (ja oder nein); Intervall: Wilson, 95 %."],
    )


def feedback_sites(report: Report) -> Section:
    title = "Rückmeldungen der Standorte im Vergleich"
    if report.site != data.ALL_SITES:
        return Section(
            title, "Den Vergleich der Standorte zeigt der Bericht für alle Standorte zusammen."
        )
    surveys = _surveys(report)
    if surveys is None:
        return _no_survey(title)
    ids = [s for s, y in data.site_years(report.dataset) if y == report.year] + [data.ALL_SITES]
    rows = []
    for site in ids:
        mine = _surveys(report, site)
        row: dict[str, Any] = {"Standort": site, "Fragebögen": quality.questionnaires(mine)}
        for code, label in quality.ITEMS.items():
            row[label] = quality.item_summary(mine, code).mean
        rows.append(row)
    frame = pd.DataFrame(rows).set_index("Standort")
    frame = frame.astype({"Fragebögen": pd.Int64Dtype()})
    table = _protect(report, frame, lambda r, c: (r, pub.SURVEY), count_columns=["Fragebögen"])
    for site in ids:
        for code, label in quality.ITEMS.items():
            cells = (site, pub.RATING, code)
            if _any_hidden(report, [(*cells, "n"), (*cells, pub.RATING_SUM)]):
                _hide_cells(table, site, [label])
    table.kinds.update({label: "zahl2" for label in quality.ITEMS.values()})
    figure = _sites_figure(report, ids)
    table = _rename_rows(table, {s: report.dataset.site_name(s) for s in ids})
    shown = table.values.mask(table.hidden)
    alt = (
        "Punktgrafik der mittleren Noten mit Intervall je Standort und Frage, "
        f"{report.year}, in fester Reihenfolge: "
        + "; ".join(
            f"{label}: "
            + ", ".join(
                f"{site} {formatting.number(v, 1) if pd.notna(v) else 'nicht ausweisbar'}"
                for site, v in shown[label].items()
            )
            for label in quality.ITEMS.values()
        )
        + "."
    )
    sentence = (
        "Die Standorte stehen in fester Reihenfolge, nicht als Rangliste: Überlappen sich die "
        "Intervalle zweier Standorte, ist ein Unterschied der mittleren Noten mit Zufall "
        "vereinbar."
    )
    return Section(title, sentence, table, figure=figure, notes=[FEEDBACK_NOTE], alt=alt)


def _sites_figure(report: Report, ids: list[str]) -> Any:
    """Mean grade with its interval per site and item, side by side (no ranking); the line is
    all sites together. Hidden means and intervals are not drawn."""
    fig, axes = style.new_figure(1, len(quality.ITEMS), figsize=(10, 3.6))
    colour = style.palette(1)[0]
    sites = [s for s in ids if s != data.ALL_SITES]
    names = [report.dataset.site_name(s) for s in sites]
    for ax, (code, label) in zip(axes, quality.ITEMS.items(), strict=True):
        for y, site in enumerate(sites):
            s = quality.item_summary(_surveys(report, site), code)
            cells = (site, pub.RATING, code)
            if s.mean is None or _any_hidden(report, [(*cells, "n"), (*cells, pub.RATING_SUM)]):
                continue
            ax.plot([s.mean], [y], "o", color=colour)
            if s.lower is not None:
                ax.plot([s.lower, s.upper], [y, y], "-", color=colour)
        whole = quality.item_summary(_surveys(report, data.ALL_SITES), code)
        cells = (data.ALL_SITES, pub.RATING, code)
        if whole.mean is not None and not _any_hidden(
            report, [(*cells, "n"), (*cells, pub.RATING_SUM)]
        ):
            ax.axvline(whole.mean, color="#444444", linewidth=1, linestyle="--")
        ax.set_title(label, fontsize=10)
        ax.set_xlim(0.8, 5.2)
        ax.set_xticks([1, 2, 3, 4, 5])
        ax.set_xlabel("Mittlere Note")
        ax.set_yticks(range(len(sites)), names if ax is axes[0] else [""] * len(sites))
        ax.invert_yaxis()
    style.source_note(
        fig,
        f"Quelle: Tabelle nutzerbefragung; {report.year}; gestrichelt: alle Standorte zusammen",
    )
    return fig


def feedback_trend(report: Report) -> Section:
    title = "Rückmeldungen über die Jahre"
    if report.dataset.table("nutzerbefragung") is None:
        return _no_survey(title)
    surveys = data.surveys_for(report.dataset, report.site, None)
    years = sorted(
        int(y)
        for y in surveys["datum"].dt.year.dropna().unique()
        if report.year is None or y <= report.year
    )
    if not years:
        return Section(title, "Für diese Auswahl liegen keine Fragebögen vor.")
    rows = []
    for year in years:
        mine = _surveys(report, year=year)
        row: dict[str, Any] = {"Jahr": year, "Fragebögen": quality.questionnaires(mine)}
        for code, label in quality.ITEMS.items():
            row[label] = quality.item_summary(mine, code).mean
        p = quality.recommendation(mine)
        row.update({"Mit Angabe": p.n, "Weiterempfehlung": p.count, "Anteil": p.share})
        rows.append(row)
    frame = pd.DataFrame(rows).set_index("Jahr")
    counts = ["Fragebögen", "Mit Angabe", "Weiterempfehlung"]
    frame = frame.astype({c: pd.Int64Dtype() for c in counts})
    quantity = {
        "Fragebögen": (pub.SURVEY,),
        "Mit Angabe": (pub.RECOMMEND, "bekannt"),
        "Weiterempfehlung": (pub.RECOMMEND, "ja"),
    }
    table = _protect(
        report,
        frame,
        lambda r, c: (report.site, *quantity[c]),
        publication=lambda row: report.publication_of(int(row)),
        count_columns=counts,
        share_columns={"Anteil": Share("Weiterempfehlung", "Mit Angabe")},
    )
    for year in years:
        for code, label in quality.ITEMS.items():
            cells = (report.site, pub.RATING, code)
            if _any_hidden(report, [(*cells, "n"), (*cells, pub.RATING_SUM)], year):
                _hide_cells(table, year, [label])
    table.kinds.update({label: "zahl2" for label in quality.ITEMS.values()})
    shown = table.values.mask(table.hidden)
    fig, ax = style.new_figure()
    for label, colour in zip(
        quality.ITEMS.values(), style.palette(len(quality.ITEMS)), strict=True
    ):
        ax.plot(
            years,
            pd.to_numeric(shown[label], errors="coerce").astype(float),
            marker="o",
            color=colour,
            label=label,
        )
    ax.set_xlabel("Jahr")
    ax.set_ylabel("Mittlere Note (1 = sehr gut)")
    ax.set_ylim(5, 1)
    _years_axis(ax, years)
    ax.legend(loc="best", fontsize=8)
    style.source_note(fig, f"Quelle: Tabelle nutzerbefragung; {report.site_name}")
    first, last = years[0], years[-1]
    n_last = _value(table, last, "Fragebögen")
    sentence = (
        f"Befragungen liegen für {formatting.number(len(years))} Jahr(e) von {first} bis "
        f"{last} vor"
        + (f"; {last} kamen {formatting.number(n_last)} Fragebögen zurück." if n_last else ".")
        + " Jedes Jahr erscheint so, wie es in seinem eigenen Jahr veröffentlicht wurde."
    )
    alt = " ".join(
        series_alt(
            f"der mittleren Note „{label}“ ({report.site_name})",
            [(y, shown.loc[y, label]) for y in years],
            lambda v: formatting.number(v, 1),
        )
        for label in quality.ITEMS.values()
    )
    return Section(title, sentence, table, figure=fig, notes=[FEEDBACK_NOTE], alt=alt)


# Network partners are organisations, not persons: their counts are shown without
# suppression (docs/annahmen.md Q6), but still through ``_protect`` like every table.
NETWORK_NOTE = (
    "Netzwerkpartner sind Einrichtungen, keine Personen; ihre Zahlen werden nicht "
    "geheimgehalten. Gezählt wird, wer am 31.12. nicht ausgeschieden war; der Datenvertrag "
    "kennt kein Eintrittsdatum, Zugänge sind die im Jahr unterzeichneten "
    "Kooperationsvereinbarungen."
)


def _organisations(report: Report, frame: pd.DataFrame) -> ProtectedTable:
    """A table of network partners through the same protection call as every table, with no
    count of persons: its counts are shown as plain numbers (``zahl0``, like sessions held),
    which the scan for small counts of persons does not read as such."""
    table = _protect(report, frame, None, count_columns=[])
    for column in frame.columns:
        if pd.api.types.is_integer_dtype(frame[column].dtype):
            table.kinds[column] = "zahl0"
    if "Anteil mit Vereinbarung" in table.kinds:
        table.kinds["Anteil mit Vereinbarung"] = "anteil"
    return table


def _partners(report: Report) -> Any:
    partners = report.dataset.table("netzwerkpartner")
    if partners is None or report.site == data.ALL_SITES:
        return partners
    return quality.partners_in_area(partners, report.site)


def _no_partners(title: str) -> Section:
    return Section(
        title,
        "Die Tabelle netzwerkpartner wurde nicht geliefert; zum Netzwerk lässt sich nichts sagen.",
    )


def _areas(report: Report) -> list[str]:
    if report.site != data.ALL_SITES:
        return [report.site]
    return [s for s, y in data.site_years(report.dataset) if y == report.year]


def _area_name(report: Report, area: str) -> str:
    if area == GESAMT:
        return "Gesamtstädtisch"
    if area == quality.TOTAL_LABEL:
        return area
    return report.dataset.site_name(area)


def network_sectors(report: Report) -> Section:
    title = "Netzwerkpartner nach Sektor und Gebiet"
    partners = _partners(report)
    if partners is None:
        return _no_partners(title)
    frame = quality.sector_table(partners, report.year, _areas(report))
    table = _organisations(report, frame)
    table = _rename_rows(table, {a: _area_name(report, a) for a in frame.index})
    total = frame.loc[quality.TOTAL_LABEL]
    share = total["Anteil mit Vereinbarung"]
    sentence = (
        f"Am Ende des Jahres {report.year} gehörten {formatting.number(total[quality.TOTAL_LABEL])} "
        "Einrichtungen zum Netzwerk"
        + (
            f"; {formatting.percent(share)} von ihnen mit unterzeichneter Kooperationsvereinbarung."
            if not pd.isna(share)
            else "."
        )
    )
    return Section(title, sentence, table, notes=[NETWORK_NOTE])


def network_trend(report: Report) -> Section:
    title = "Netzwerk über die Jahre"
    partners = _partners(report)
    if partners is None:
        return _no_partners(title)
    first = min(report.dataset.site_data_years or report.dataset.years or (report.year,))
    years = list(range(min(first, report.year), report.year + 1))
    frame = quality.network_trend(partners, years)
    table = _organisations(report, frame)
    fig, ax = style.new_figure()
    colours = style.palette(2)
    ax.plot(
        years,
        frame["Partner am Jahresende"].astype(float),
        marker="o",
        color=colours[0],
        label="Partner am Jahresende",
    )
    ax.plot(
        years,
        frame["Mit Vereinbarung"].astype(float),
        marker="s",
        color=colours[1],
        label="davon mit Kooperationsvereinbarung",
    )
    ax.set_xlabel("Jahr")
    ax.set_ylabel("Netzwerkpartner")
    _years_axis(ax, years)
    style.number_axis(ax, "y")
    ax.legend(loc="best", fontsize=8)
    style.source_note(fig, f"Quelle: Tabelle netzwerkpartner; {report.site_name}")
    row = frame.loc[report.year]
    sentence = (
        f"Im Jahr {report.year} wurden {formatting.number(row['Neue Vereinbarungen'])} "
        f"Kooperationsvereinbarungen unterzeichnet; "
        f"{formatting.number(row['Ausgeschieden'])} Partner schieden aus."
    )
    alt = (
        series_alt(
            f"der Netzwerkpartner am Jahresende ({report.site_name})",
            [(y, frame.loc[y, "Partner am Jahresende"]) for y in years],
            formatting.number,
        )
        + " "
        + series_alt(
            "der Partner mit Kooperationsvereinbarung",
            [(y, frame.loc[y, "Mit Vereinbarung"]) for y in years],
            formatting.number,
        )
    )
    return Section(title, sentence, table, figure=fig, notes=[NETWORK_NOTE], alt=alt)


def network_checklist(report: Report) -> Section:
    title = "Checkliste Kernpartner"
    partners = report.dataset.table("netzwerkpartner")
    if partners is None:
        return _no_partners(title)
    areas = _areas(report)
    names = {a: _area_name(report, a) for a in areas}
    frame = quality.checklist_table(partners, report.year, areas, names)
    table = _organisations(report, frame)
    gaps = []
    for area in areas:
        status = quality.core_status(partners, report.year, area)
        missing = [quality.CORE_TYPES[c][0] for c, s in status.items() if s == quality.MISSING]
        if missing:
            gaps.append(f"{names[area]}: {', '.join(missing)}")
    sentence = (
        "Es fehlen: " + "; ".join(gaps) + "."
        if gaps
        else "In jedem Gebiet ist jeder Typ der Checkliste mit mindestens einem Partner vertreten."
    )
    return Section(
        title,
        sentence,
        table,
        notes=[
            "Kernpartner nach dem NZFH-Qualitätsrahmen (Seed 001, Abschnitt 2). Ein Gebiet "
            "zählt seine eigenen und die gesamtstädtischen Partner. „ohne Vereinbarung“: "
            "Partner vorhanden, aber keiner mit unterzeichneter Kooperationsvereinbarung. Der "
            "Typ wird aus der Spalte bereich erkannt (docs/annahmen.md Q5).",
            NETWORK_NOTE,
        ],
    )
