"""What a report notebook calls to open its data and show results (no analysis here).

``open_report`` is the one call of a notebook's third cell: it reads the parameters as
strings, loads and checks the processed data and shows the report head. ``show_table``
shows an already protected table and publishes it, machine-readable, for the Excel
appendix; ``data_basis`` states what a report was computed from, so it can be reproduced.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from analysis import __version__, formatting
from analysis.checksums import sha256_file_or_none
from analysis.config import Config, load_config
from analysis.data import Dataset, check_selection, load_dataset
from analysis.errors import FhError
from analysis.protection.publication import ProtectedPublication, protected_year
from analysis.protection.rules import ProtectedTable
from analysis.reporting import TABLE_MIME  # a shown table's payload, for the Excel appendix
from analysis.reporting.catalogue import REPORTS

#: Column formats understood by ``show_table`` (German display, Excel number format).
Format = str  # "anzahl" | "anteil" | "euro" | "euro2" | "prozent" | "zahl1" | "zahl2" | "text"
TIMEZONE = ZoneInfo("Europe/Berlin")
ALL_YEARS = "alle"


@dataclass(frozen=True)
class Report:
    """The checked selection of one report and the data it is computed from."""

    dataset: Dataset
    config: Config
    site: str
    year: int | None
    site_name: str
    #: The report's name in the catalogue (``None`` for exploration outside the batch).
    analysis: str | None = None
    started: datetime = field(default_factory=lambda: datetime.now(TIMEZONE))

    @property
    def publication(self) -> ProtectedPublication | None:
        """The protected publication of the report's year (``None`` for all-years reports)."""
        if self.year is None:
            return None
        return protected_year(self.dataset, self.year, self.config)

    def publication_of(self, year: int) -> ProtectedPublication:
        """Another year's protected publication (for trends: hidden there, hidden here)."""
        return protected_year(self.dataset, year, self.config)

    @property
    def scope_text(self) -> str:
        year = "alle Jahre" if self.year is None else str(self.year)
        return f"{self.site_name}, {year}"


def _display(bundle: dict[str, Any], metadata: dict[str, Any] | None = None) -> None:
    from IPython.display import display

    display(bundle, raw=True, metadata=metadata or {})


def open_report(
    standort: str, jahr: str, daten: str = "", *, analyse: str | None = None, show: bool = True
) -> Report:
    """Load the processed data and check site and year before any work is done.

    Parameters arrive as strings (a site code ``007`` stays ``007``); ``daten = ""`` means
    the configured folder. An unknown site or a year without data is a German error.
    ``analyse`` names the report's entry in the catalogue (its tables for the data basis).
    """
    if analyse is not None and analyse not in REPORTS:
        raise FhError(f"Unbekannter Bericht „{analyse}“. Möglich sind: {', '.join(REPORTS)}.")
    config = load_config(processed_dir=daten or None)
    dataset = load_dataset(config.processed_dir)
    if str(jahr).strip().casefold() == ALL_YEARS:
        site, _ = check_selection(dataset, standort, dataset.years[0] if dataset.years else 0)
        year = None
    else:
        site, year = check_selection(dataset, standort, jahr)
        if year not in dataset.years:
            known = dataset.years
            span = f"{known[0]}–{known[-1]}" if known else "keine"
            raise FhError(f"Für das Jahr {year} liegen keine Daten vor (Jahre mit Daten: {span}).")
        # A report of year J shows nothing after J (and stays the same when later data come).
        dataset = dataset.up_to(year)
    report = Report(dataset, config, site, year, dataset.site_name(site), analyse)
    if show:
        synthetic = "synthetisch" in config.municipality.casefold()
        parts = [f"<p class='fh-kopf'><b>{html.escape(config.municipality)}</b> · "]
        parts.append(f"{html.escape(report.scope_text)}</p>")
        if analyse is not None and not REPORTS[analyse].public:
            parts.append(
                "<p class='fh-hinweis'>Interner Bericht – nicht zur Veröffentlichung. Er zeigt "
                "Zeilenzahlen der Datenverarbeitung ohne Geheimhaltung und gehört nicht in den "
                "öffentlichen Berichtsordner.</p>"
            )
        if synthetic:
            parts.append(
                "<p class='fh-hinweis'>Beispieldaten: Alle Zahlen dieses Berichts stammen aus "
                "einer erfundenen Beispielkommune und beschreiben keine reale Kommune.</p>"
            )
        _display({"text/html": "".join(parts), "text/plain": report.scope_text})
    return report


# --- tables ------------------------------------------------------------------------------


def _cell_value(value: Any) -> Any:
    """JSON value of a cell: numbers stay numbers, missing becomes None, the rest text."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return None if isinstance(value, float) and math.isnan(value) else value
    if hasattr(value, "item"):  # numpy scalars
        return _cell_value(value.item())
    return str(value)


def _cell_text(value: Any, fmt: Format | None) -> str:
    if value is None:
        return formatting.MISSING
    if isinstance(value, str):
        return value
    text = formatting.as_kind(value, fmt)
    if text is not None:
        return text
    if isinstance(value, int | float):
        return formatting.number(value, 0 if float(value).is_integer() else 1)
    return str(value)


def table_payload(
    frame: pd.DataFrame | ProtectedTable,
    title: str,
    *,
    formats: dict[str, Format] | None = None,
    notes: Sequence[str] = (),
    source: str = "",
    index: bool = True,
    internal: bool = False,
) -> dict[str, Any]:
    """A protected table as plain JSON: title, column names, rows, formats, footnotes.

    A ``ProtectedTable`` gives its formats and footnote; its hidden cells become ``•``.
    ``internal`` marks tables that are not published statistics (e.g. rows rejected).
    """
    if isinstance(frame, ProtectedTable):
        formats = {**frame.kinds, **(formats or {})}
        if frame.footnote:
            notes = [*notes, frame.footnote]
        values = frame.values.astype(object).mask(frame.hidden, formatting.SUPPRESSED)
        values.index.name = frame.values.index.name
        frame = values
    # Only an unnamed default index is meaningless; pandas also turns consecutive years
    # (a named "Jahr" index) into a RangeIndex, and those must stay visible.
    default_index = isinstance(frame.index, pd.RangeIndex) and frame.index.name is None
    shown = frame.reset_index() if index and not default_index else frame
    columns = [str(c) for c in shown.columns]
    # A year is a label, not a quantity: 2014, never 2.014.
    fmts = [(formats or {}).get(c) or ("jahr" if c == "Jahr" else None) for c in columns]
    rows = [[_cell_value(v) for v in row] for row in shown.itertuples(index=False, name=None)]
    return {
        "titel": title,
        "spalten": columns,
        "zeilen": rows,
        "formate": fmts,
        "fussnoten": list(dict.fromkeys(notes)),
        "quelle": source,
        "intern": internal,
    }


#: Column formats of a row label (the first column then heads its row for screen readers).
_LABEL_FORMATS = (None, "text", "jahr")
#: What a screen reader says for a hidden cell, instead of "Aufzählungszeichen".
SUPPRESSED_TITLE = "aus Gründen der Geheimhaltung nicht ausgewiesen"


def _cell_html(value: Any, fmt: Format | None) -> str:
    text = html.escape(_cell_text(value, fmt))
    if value == formatting.SUPPRESSED:
        return f"<abbr title='{SUPPRESSED_TITLE}'>{text}</abbr>"
    return text


def payload_html(payload: dict[str, Any]) -> str:
    """The table as HTML, numbers right-aligned in German format, hidden cells as ``•``.

    Column heads carry ``scope='col'``; a first column of labels (text or years) heads its
    row (``<th scope='row'>``), so a screen reader names row and column with each number.
    """
    fmts = payload["formate"]
    head = "".join(
        f"<th scope='col' class='{'zahl' if fmts[i] and fmts[i] != 'text' else 'text'}'>"
        f"{html.escape(c)}</th>"
        for i, c in enumerate(payload["spalten"])
    )
    row_heads = bool(fmts) and fmts[0] in _LABEL_FORMATS
    body = []
    for row in payload["zeilen"]:
        cells = []
        for i, value in enumerate(row):
            numeric = isinstance(value, int | float) or value in (formatting.SUPPRESSED,)
            klass = "zahl" if numeric or (fmts[i] and fmts[i] != "text") else "text"
            if i == 0 and row_heads:
                cells.append(f"<th scope='row' class='{klass}'>{_cell_html(value, fmts[i])}</th>")
            else:
                cells.append(f"<td class='{klass}'>{_cell_html(value, fmts[i])}</td>")
        first = str(row[0]) if row else ""
        tr = " class='summe'" if first.startswith(("Summe", "Insgesamt", "Gesamt")) else ""
        body.append(f"<tr{tr}>{''.join(cells)}</tr>")
    notes = "".join(f"<p class='fh-fussnote'>{html.escape(n)}</p>" for n in payload["fussnoten"])
    if payload["quelle"]:
        notes += f"<p class='fh-quelle'>Quelle: {html.escape(payload['quelle'])}</p>"
    return (
        f"<table><caption>{html.escape(payload['titel'])}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{notes}"
    )


def show_table(
    frame: pd.DataFrame | ProtectedTable,
    title: str,
    *,
    formats: dict[str, Format] | None = None,
    notes: Sequence[str] = (),
    source: str = "",
    index: bool = True,
    internal: bool = False,
) -> dict[str, Any]:
    """Show a table that the confidentiality rule has already been applied to.

    The same content is published as JSON (``TABLE_MIME``) so the batch can write the
    Excel appendix from exactly what the report shows.
    """
    payload = table_payload(
        frame, title, formats=formats, notes=notes, source=source, index=index, internal=internal
    )
    hidden = any(v == formatting.SUPPRESSED for row in payload["zeilen"] for v in row)
    if hidden and not any(formatting.SUPPRESSED in n for n in payload["fussnoten"]):
        payload["fussnoten"].append("• = aus Gründen der Geheimhaltung nicht ausgewiesen.")
    _display(
        {
            "text/html": payload_html(payload),
            TABLE_MIME: payload,
            "text/plain": f"Tabelle: {title}",
        }
    )
    return payload


def show_figure(figure: Any, alt: str) -> None:
    """Show a figure as PNG with its German text alternative (``alt``) and close it.

    The one way a figure reaches a report: the text alternative states the figure's main
    finding for readers who cannot see it (screen readers, ``<img alt>`` in the HTML) and is
    required, so no figure is published without one.
    """
    import base64
    import io

    import matplotlib.pyplot as plt

    if not alt or not alt.strip():
        raise ValueError("Grafik ohne Textalternative: jede Grafik braucht einen Alternativtext.")
    buffer = io.BytesIO()
    # As the inline backend draws it: screen resolution, cut to what is drawn.
    figure.savefig(buffer, format="png", dpi=figure.dpi, bbox_inches="tight")
    plt.close(figure)
    _display(
        {"image/png": base64.b64encode(buffer.getvalue()).decode("ascii"), "text/plain": alt},
        {"image/png": {"alt": alt}},
    )


def show_text(text: str, kind: str = "satz") -> None:
    """A generated sentence (``satz``), a caveat (``hinweis``) or a missing-table note (``fehlt``)."""
    _display({"text/html": f"<p class='fh-{kind}'>{html.escape(text)}</p>", "text/plain": text})


# --- data basis ----------------------------------------------------------------------------


def data_basis(report: Report, tables: Sequence[str] | None = None) -> dict[str, Any]:
    """What the report was computed from: manifest hash, raw files, version, time.

    ``tables`` defaults to the tables the report's catalogue entry reads. A published
    report names files, checksums and dates, not per-file row counts: a file of two rows
    would be a count of two. Internal reports (and exploration) keep the row counts.
    """
    internal = report.analysis is None or not REPORTS[report.analysis].public
    if tables is None:
        if report.analysis is None:
            raise FhError(
                "Für die Datengrundlage fehlt der Name des Berichts (open_report(..., analyse=...))."
            )
        tables = REPORTS[report.analysis].tables
    folder = report.dataset.folder
    manifest = report.dataset.manifest
    files = []
    for name in tables:
        entry = (manifest.get("tabellen") or {}).get(name) or {}
        for f in entry.get("dateien") or []:
            files.append(
                {
                    "tabelle": name,
                    "datei": f.get("datei"),
                    "sha256": f.get("sha256"),
                    **({"zeilen": f.get("zeilen")} if internal else {}),
                }
            )
        if not entry.get("dateien") and not report.dataset.has(name):
            files.append({"tabelle": name, "datei": "(nicht geliefert)", "sha256": None})
    return {
        "version": __version__,
        "erzeugt": datetime.now(TIMEZONE).isoformat(timespec="seconds"),
        "daten_erstellt": manifest.get("erstellt"),
        "manifest_sha256": sha256_file_or_none(folder / "manifest.json"),
        "konfiguration_sha256": report.config.sha256,
        "mindestfallzahl": report.config.min_count,
        "dateien": files,
    }


def show_data_basis(report: Report, tables: Sequence[str] | None = None) -> dict[str, Any]:
    """The report's closing section: a reader can reproduce the report from these facts."""
    basis = data_basis(report, tables)
    created = formatting.timestamp(datetime.fromisoformat(basis["erzeugt"]))
    with_rows = any("zeilen" in f for f in basis["dateien"])
    rows = "".join(
        "<tr><th scope='row'>{}</th><td>{}</td>{}<td><code>{}</code></td></tr>".format(
            html.escape(str(f["tabelle"])),
            html.escape(str(f["datei"])),
            (
                "<td class='zahl'>{}</td>".format(
                    formatting.number(f["zeilen"])
                    if f.get("zeilen") is not None
                    else formatting.MISSING
                )
                if with_rows
                else ""
            ),
            html.escape((f["sha256"] or "")[:16]),
        )
        for f in basis["dateien"]
    )
    rows_head = "<th scope='col' class='zahl'>Zeilen</th>" if with_rows else ""
    text = (
        "<div class='fh-grundlage'><h2>Datengrundlage</h2>"
        f"<p>Erzeugt am {html.escape(created)} mit fh-analytik {html.escape(basis['version'])}. "
        f"Aufbereitete Daten vom {html.escape(str(basis['daten_erstellt'] or '–'))}; "
        f"Manifest-SHA-256 <code>{html.escape(basis['manifest_sha256'] or '–')}</code>; "
        f"Konfiguration-SHA-256 <code>{html.escape(basis['konfiguration_sha256'][:16])}</code>; "
        f"Mindestfallzahl {basis['mindestfallzahl']}.</p>"
        "<table><caption>Rohdateien, aus denen der Bericht berechnet wurde</caption>"
        f"<thead><tr><th scope='col'>Tabelle</th><th scope='col'>Rohdatei</th>{rows_head}"
        f"<th scope='col'>SHA-256 (Anfang)</th></tr></thead><tbody>{rows}</tbody></table>"
        "<p>Nachrechnen: <code>fh-analytik berichte</code> mit denselben Rohdateien, derselben "
        "Konfiguration und derselben Programmversion ergibt denselben Bericht.</p></div>"
    )
    _display({"text/html": text, "text/plain": json.dumps(basis, ensure_ascii=False)})
    return basis
