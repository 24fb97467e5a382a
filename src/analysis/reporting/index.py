"""``index.html``: the overview page of every report on disk, by year and site.

Built from the batch's state and this run's results; sites by name, the id beneath it.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from analysis.contract.schema import ALL_SITES, ALL_YEARS_FOLDER
from analysis.reporting.catalogue import REPORTS

if TYPE_CHECKING:
    from analysis.reporting.batch import ReportResult

RUN_MANIFEST = "lauf.json"
#: Folder of the internal reports below the report folder: serve ``reports/`` without it.
INTERNAL_FOLDER = "intern"

STATUS_DE = {
    "erzeugt": "neu erzeugt",
    "unveraendert": "unverändert",
    "fehlgeschlagen": "fehlgeschlagen",
    "geplant": "wird erzeugt",
}


_INDEX_CSS = """
body{font-family:"DejaVu Sans","Liberation Sans",Arial,sans-serif;color:#1a1a1a;margin:0;line-height:1.45}
main{max-width:70rem;margin:0 auto;padding:1.5rem}
h1{color:#003b5c;border-bottom:3px solid #003b5c;padding-bottom:.3rem}
h2{color:#003b5c;margin-top:2rem}
table{border-collapse:collapse;width:100%;font-size:.95rem}
caption{text-align:left;font-weight:bold;padding:0 0 .3rem}
th,td{border-bottom:1px solid #d0d7de;padding:.35rem .6rem;text-align:left;vertical-align:top}
thead th{background:#f3f6f9;border-bottom:2px solid #003b5c}
.status{font-size:.8rem;padding:.05rem .4rem;border-radius:.3rem;white-space:nowrap}
.erzeugt{background:#e3f4e8;color:#1b5e20}.unveraendert{background:#eef1f4;color:#37474f}
.fehlgeschlagen{background:#fde2e1;color:#8b1a10}
.fehler{color:#8b1a10;font-size:.85rem}
.meta{color:#444;font-size:.85rem}
code{font-size:.8rem;word-break:break-all}
"""


def site_names_of(dataset: Any) -> dict[str, str]:
    """standort_id -> name from the processed `standorte` table."""
    table = dataset.table("standorte")
    if table is None:
        return {}
    return {str(k): str(v) for k, v in zip(table["standort_id"], table["name"], strict=True)}


def render_index(
    known: Mapping[str, Any],
    results: Sequence[ReportResult],
    manifest: Mapping[str, Any],
    site_names: Mapping[str, str] | None = None,
    *,
    internal: bool = False,
) -> str:
    """``index.html``: every report on disk by year and site, with this run's status.

    Sites are shown by name (a planner does not think in ids), the id beneath it. The
    public index lists public reports only; ``internal`` renders ``intern/index.html`` for
    the internal ones (data quality), which live under ``intern/`` and link from there.
    """
    run = {r.key: r for r in results}

    def wanted(analysis: str) -> bool:
        report = REPORTS.get(analysis)
        return (report is not None and not report.public) == internal

    entries: dict[str, dict[str, Any]] = {
        k: dict(v) for k, v in known.items() if wanted(v.get("analyse", ""))
    }
    for r in results:
        if r.status == "fehlgeschlagen" and r.key not in entries and wanted(r.analyse):
            entries[r.key] = {
                "analyse": r.analyse,
                "standort": r.standort,
                "jahr": r.jahr,
                "titel": r.titel,
                "dateien": [],
            }

    def cell(key: str, entry: Mapping[str, Any]) -> str:
        result = run.get(key)
        status = result.status if result else "unveraendert"
        links = []
        order = {"html": 0, "pdf": 1, "xlsx": 2, "ipynb": 3}
        for f in sorted(entry.get("dateien", []), key=lambda f: order.get(f.rsplit(".", 1)[-1], 9)):
            ext = f.rsplit(".", 1)[-1]
            label = {"html": "Bericht", "pdf": "PDF", "xlsx": "Excel", "ipynb": "Notebook"}.get(
                ext, ext
            )
            href = f.removeprefix(f"{INTERNAL_FOLDER}/") if internal else f
            links.append(f"<a href='{html.escape(href)}'>{label}</a>")
        parts = [" · ".join(links) or "<i>noch kein erfolgreicher Bericht</i>"]
        parts.append(f"<span class='status {status}'>{STATUS_DE.get(status, status)}</span>")
        if entry.get("erzeugt"):
            stamp = datetime.fromisoformat(entry["erzeugt"]).strftime("%d.%m.%Y %H:%M")
            parts.append(f"<span class='meta'>Stand {stamp}</span>")
        if result and result.fehler:
            parts.append(f"<div class='fehler'>{html.escape(result.fehler)}</div>")
        return "<br>".join(parts)

    by_year: dict[str, dict[str, dict[str, tuple[str, Mapping[str, Any]]]]] = {}
    for key, entry in entries.items():
        year = ALL_YEARS_FOLDER if entry.get("jahr") is None else str(entry["jahr"])
        by_year.setdefault(year, {}).setdefault(entry["standort"], {})[entry["analyse"]] = (
            key,
            entry,
        )

    analysis_names = [a for a in REPORTS if any(e.get("analyse") == a for e in entries.values())]
    analysis_names += sorted({e["analyse"] for e in entries.values()} - set(analysis_names))
    sections = []
    for year in sorted(
        by_year, key=lambda y: (y != ALL_YEARS_FOLDER, -int(y) if y.isdigit() else 0)
    ):
        sites = by_year[year]
        heading = "Über alle Jahre" if year == ALL_YEARS_FOLDER else f"Berichtsjahr {year}"
        caption = "Berichte über alle Jahre" if year == ALL_YEARS_FOLDER else f"Berichte für {year}"
        cols = [a for a in analysis_names if any(a in s for s in sites.values())]
        head = "".join(
            f"<th scope='col'>{html.escape(REPORTS[a].title if a in REPORTS else a)}</th>"
            for a in cols
        )
        rows = []
        for site in sorted(sites, key=lambda s: (s != ALL_SITES, s)):
            if site == ALL_SITES:
                name = "Alle Standorte"
            elif (site_names or {}).get(site):
                name = (
                    f"{html.escape(site_names[site])}<br>"
                    f"<span class='meta'>{html.escape(site)}</span>"
                )
            else:
                name = html.escape(site)
            tds = "".join(
                f"<td>{cell(*sites[site][a])}</td>" if a in sites[site] else "<td></td>"
                for a in cols
            )
            rows.append(f"<tr><th scope='row'>{name}</th>{tds}</tr>")
        sections.append(
            f"<section><h2 id='jahr-{year}'>{heading}</h2><table>"
            f"<caption>{caption} nach Standort</caption>"
            "<thead><tr><th scope='col'>Standort</th>"
            f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
        )
    counts = manifest.get("anzahl", {})
    data = manifest.get("daten", {})
    stamp = datetime.fromisoformat(manifest["beendet"]).strftime("%d.%m.%Y, %H:%M Uhr")
    status_line = (
        f"Letzter Lauf: {stamp} – {counts.get('erzeugt', 0)} erzeugt, "
        f"{counts.get('unveraendert', 0)} unverändert, {counts.get('fehlgeschlagen', 0)} fehlgeschlagen."
    )
    title = "Interne Berichte Frühe Hilfen" if internal else "Berichte Frühe Hilfen – Übersicht"
    manifest_link = f"../{RUN_MANIFEST}" if internal else RUN_MANIFEST
    notice = (
        "<p class='fehler'>Nur für den internen Gebrauch: nicht veröffentlichen. Diese Berichte "
        "zeigen Zeilenzahlen der Datenverarbeitung ohne Geheimhaltung.</p>"
        if internal
        else ""
    )
    return (
        "<!DOCTYPE html><html lang='de'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{title}</title><style>{_INDEX_CSS}</style></head>"
        f"<body><main><h1>{title}</h1>{notice}"
        f"<p>{html.escape(str(manifest.get('konfiguration', {}).get('kommune', '')))}</p>"
        f"<p class='meta'>{html.escape(status_line)} Programmversion {html.escape(str(manifest.get('version')))}; "
        f"Daten-Manifest <code>{html.escape(str(data.get('manifest_sha256') or '–'))}</code>. "
        f"Maschinenlesbar: <a href='{manifest_link}'>{RUN_MANIFEST}</a>.</p>"
        f"{''.join(sections)}</main></body></html>"
    )
