"""Der Berichtskatalog: welche Berichte es gibt, was sie lesen und zeigen, für wen sie sind.

The one list of reports. The batch plans and fingerprints from it, the index groups by it,
the data basis names its tables, and the notebook checks compare each template in
``notebooks/berichte/`` with its entry (one notebook per entry, the same sections in order).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Scope = Literal["standort", "jahr", "einmalig"]
Audience = Literal["oeffentlich", "intern"]


@dataclass(frozen=True)
class Report:
    """One report template and what it reads.

    ``scope``: ``standort`` = one report per site (and ``alle``) and year; ``jahr`` = one
    cross-site report per year; ``einmalig`` = one report over every year. ``tables`` are the
    processed tables the notebook reads (its data basis and, for a site report, only that
    site's rows count for the fingerprint, so the notebook must not read other sites' rows).
    ``sections``: the functions of ``reporting.sections`` the template calls, in order (the
    headings and explanations around them are the notebook's own prose). ``manifest``: it
    also reads ``manifest.json`` and the rejects; ``rows``: it reads the rows of its tables
    (a report of the manifest alone lists the tables' files but reads no rows, so a changed
    row does not change it). ``audience``: ``intern`` reports are not published (not linked
    from the public index).
    """

    name: str
    title: str
    scope: Scope
    tables: tuple[str, ...]
    sections: tuple[str, ...] = ()
    audience: Audience = "oeffentlich"
    manifest: bool = False
    rows: bool = True
    #: File name of the template in ``notebooks/berichte/`` (default: ``<name>.ipynb``).
    notebook: str = ""

    def __post_init__(self) -> None:
        if not self.notebook:
            object.__setattr__(self, "notebook", f"{self.name}.ipynb")

    @property
    def public(self) -> bool:
        return self.audience == "oeffentlich"


REPORTS: dict[str, Report] = {
    r.name: r
    for r in (
        Report(
            name="reichweite",
            title="Reichweite",
            scope="standort",
            tables=("standorte", "erstkontakte", "angebote", "willkommensbesuche", "bevoelkerung"),
            sections=(
                "reach_overview",
                "reach_shares",
                "reach_life_phase",
                "reach_target_groups",
                "reach_offers",
                "reach_trend",
                "welcome_trend",
            ),
            audience="oeffentlich",
            manifest=False,
        ),
        Report(
            name="zugangswege",
            title="Zugangswege",
            scope="standort",
            tables=("standorte", "erstkontakte"),
            sections=(
                "routes_table",
                "route_groups",
                "response_time",
                "onward_referrals",
            ),
            audience="oeffentlich",
            manifest=False,
        ),
        Report(
            name="kostenentwicklung",
            title="Kostenentwicklung",
            scope="standort",
            tables=("standorte", "erstkontakte", "kosten_hze", "finanzierung"),
            sections=(
                "hze_development",
                "hze_real_terms",
                "hze_trend_change",
                "hze_forecast",
                "fh_budget",
            ),
            audience="oeffentlich",
            manifest=False,
        ),
        Report(
            name="gesamtbericht",
            title="Gesamtbericht",
            scope="jahr",
            tables=(
                "standorte",
                "erstkontakte",
                "angebote",
                "willkommensbesuche",
                "bevoelkerung",
                "kosten_hze",
                "finanzierung",
            ),
            sections=(
                "sites_overview",
                "sites_funnel",
                "regions_overview",
                "reach_overview",
                "site_route_comparison",
                "route_groups",
                "response_time",
                "hze_development",
                "fh_budget",
            ),
            audience="oeffentlich",
            manifest=False,
        ),
        Report(
            name="qualitaet",
            title="Qualität: Rückmeldungen und Netzwerk",
            scope="standort",
            tables=("standorte", "nutzerbefragung", "netzwerkpartner"),
            sections=(
                "feedback_items",
                "feedback_recommendation",
                "feedback_sites",
                "feedback_trend",
                "network_sectors",
                "network_trend",
                "network_checklist",
            ),
            audience="oeffentlich",
            manifest=False,
        ),
        Report(
            name="datenqualitaet",
            title="Datenqualität",
            scope="einmalig",
            tables=(
                "standorte",
                "erstkontakte",
                "angebote",
                "willkommensbesuche",
                "bevoelkerung",
                "kosten_hze",
                "finanzierung",
                "nutzerbefragung",
                "netzwerkpartner",
            ),
            sections=(
                "reconciliation",
                "rejection_reasons",
                "missing_tables",
            ),
            audience="intern",
            manifest=True,
            rows=False,
        ),
    )
}
