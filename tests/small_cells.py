"""A small municipality built to have small cells in every table the reports publish.

Four sites, 2013 and 2014, every count written down here. Mindestfallzahl 3: a count of 1
or 2 must be hidden, 3 may be shown. What is small where (2014):

- ``nord`` (30 first contacts): routes Kinderarzt 1, Bekannte 1, Keine Angabe 1, Kita 2,
  Jugendamt 3 (exactly the minimum); phase Schwangerschaft 1, 2–3 Jahre 2; Alleinerziehend ja
  2; Mütter unter 20 1; Weitervermittlung (Gesundheitswesen) 2 of 19 documented; Reaktionszeit
  10 referrals, 2 of them later than 3 working days (the complement n − Anzahl is small);
  Kurs 2 visits by 1 family.
- ``sued`` (12): one tiny route (Jobcenter 1, the only contact of its group Jugendhilfe und
  Soziales) – the site total minus the other routes reveals it unless a second cell goes;
  Schwangerschaft exactly 3; Migrationshintergrund ja 1; one referral with a referral date
  (n = 1); welcome visits 2; Eltern-Kind-Gruppe 1 visit, Beratung exactly 3.
- ``west`` (2 first contacts, below the minimum): every count and share of the site is small;
  all sites (47) minus nord, sued and ost reveals it – a second site total must go too.
- ``ost`` (exactly 3): shown; Hausbesuch 2 families.

2013 (the year before, shown in the trends): nord 20, sued 5, west 1, ost 4.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

YEAR = 2014
SITES = ["nord", "ost", "sued", "west"]

# (site, route, count, life phase) blocks for 2014; the order fixes the fall_id numbering.
_BLOCKS_2014: list[tuple[str, str, int, str]] = [
    ("nord", "hebamme", 10, "m0_6"),
    ("nord", "geburtsklinik", 8, "m0_6"),
    ("nord", "kinderarzt", 1, "schwangerschaft"),
    ("nord", "jugendamt", 3, "m6_12"),
    ("nord", "kita_familienzentrum", 2, "j2_3"),
    ("nord", "eigeninitiative", 4, "m6_12"),
    ("nord", "bekannte", 1, "j1_2"),
    ("nord", "unbekannt", 1, "unbekannt"),
    ("sued", "hebamme", 4, "m0_6"),
    ("sued", "jobcenter", 1, "m6_12"),
    ("sued", "eigeninitiative", 4, "m0_6"),
    ("sued", "willkommensbesuch", 3, "schwangerschaft"),
    ("west", "geburtsklinik", 1, "m0_6"),
    ("west", "bekannte", 1, "m0_6"),
    ("ost", "hebamme", 3, "m0_6"),
]
_COUNTS_2013 = {"nord": 20, "sued": 5, "west": 1, "ost": 4}

# Contacts 2014 on working days in March; referral dates for nord's Hebamme contacts:
# Mon 03.03.2014, contacts 0..4 working days later (two of ten later than 3 working days).
_NORD_DELAYS = ["2014-03-03"] * 4 + ["2014-03-04", "2014-03-05", "2014-03-06", "2014-03-06"]
_NORD_LATE = ["2014-03-07", "2014-03-10"]


def _contacts() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for site, route, count, phase in _BLOCKS_2014:
        for _ in range(count):
            i = seen.get(site, 0)
            seen[site] = i + 1
            row = {
                "fall_id": f"{site}-14-{i:02d}",
                "standort_id": site,
                "datum_erstkontakt": f"2014-04-{1 + i % 20:02d}",
                "datum_meldung": "",
                "zugangsweg": route,
                "zugangsgrund": "information",
                "lebensphase_kind": phase,
                "altersgruppe_mutter": "a25_29",
                "alleinerziehend": "nein",
                "sgb2_bezug": "nein",
                "migrationshintergrund": "nein",
                "weitervermittlung": "keine",
            }
            rows.append(row)
    by_site: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_site.setdefault(row["standort_id"], []).append(row)
    nord, sued = by_site["nord"], by_site["sued"]
    # nord: the ten Hebamme contacts were referred on Mon 03.03.2014.
    for row, day in zip(nord[:10], [*_NORD_DELAYS, *_NORD_LATE], strict=True):
        row["datum_meldung"] = "2014-03-03"
        row["datum_erstkontakt"] = day
    nord[0]["alleinerziehend"] = nord[1]["alleinerziehend"] = "ja"
    for row in nord[-3:]:
        row["alleinerziehend"] = "unbekannt"
    nord[5]["altersgruppe_mutter"] = "a18_19"
    for row in nord[:3]:
        row["sgb2_bezug"] = "ja"
    # Referred on: two Geburtsklinik contacts (Gesundheitswesen); Kinderarzt and two Jugendamt
    # contacts without documentation.
    nord[10]["weitervermittlung"] = nord[11]["weitervermittlung"] = "familienhebamme"
    for row in nord[18:21]:
        row["weitervermittlung"] = ""
    # sued: the Jobcenter contact came with a referral on Tue 01.04.2014, contact Wed 02.04.
    sued[4]["datum_meldung"], sued[4]["datum_erstkontakt"] = "2014-04-01", "2014-04-02"
    sued[4]["weitervermittlung"] = "jugendamt"
    sued[0]["migrationshintergrund"] = "ja"
    sued[1]["alleinerziehend"] = "unbekannt"
    # west: one mother under 18, one single parent.
    west = by_site["west"]
    west[0]["altersgruppe_mutter"] = "unter_18"
    west[1]["alleinerziehend"] = "ja"
    for site, count in _COUNTS_2013.items():
        for i in range(count):
            rows.append(
                {
                    "fall_id": f"{site}-13-{i:02d}",
                    "standort_id": site,
                    "datum_erstkontakt": f"2013-06-{3 + i % 20:02d}",
                    "datum_meldung": "",
                    "zugangsweg": "hebamme" if i % 2 else "eigeninitiative",
                    "zugangsgrund": "alltag",
                    "lebensphase_kind": "m0_6",
                    "altersgruppe_mutter": "a30_34",
                    "alleinerziehend": "nein",
                    "sgb2_bezug": "nein",
                    "migrationshintergrund": "nein",
                    "weitervermittlung": "keine",
                }
            )
    return rows


def raw_tables() -> dict[str, pd.DataFrame]:
    """The raw tables as a municipality would export them (one frame per file)."""
    sites = pd.DataFrame(
        {
            "standort_id": SITES,
            "name": ["Familienbüro Nord", "Familienbüro Ost", "Familienbüro Süd", "Eltern West"],
            "region": ["Region I", "Region I", "Region II", "Region II"],
            "eroeffnet": ["2011-01-01"] * 4,
        }
    )
    population = pd.DataFrame(
        [
            {"jahr": y, "gebiet": g, "geburten": b, "kinder_u3": 3 * b}
            for y in (2013, 2014)
            for g, b in (("nord", 300), ("sued", 150), ("west", 80), ("ost", 70), ("gesamt", 600))
        ]
    )
    welcome = pd.DataFrame(
        [
            {"jahr": y, "gebiet": g, "besuche": v}
            for y, visits in ((2013, (30, 1, 0, 4, 50)), (2014, (40, 2, 0, 3, 60)))
            for g, v in zip(("nord", "sued", "west", "ost", "gesamt"), visits, strict=True)
        ]
    )
    offers = pd.DataFrame(
        [
            {
                "standort_id": s,
                "jahr": y,
                "angebot": a,
                "termine": t,
                "besuche": b,
                "teilnehmende": p,
            }
            for y in (2013, 2014)
            for s, a, t, b, p in (
                ("nord", "offener_treff", 40, 200, 30),
                ("nord", "kurs", 8, 2, 1),
                ("sued", "beratung", 5, 3, 3),
                ("sued", "gruppe", 2, 1, 1),
                ("ost", "hausbesuch", 6, 4, 2),
            )
        ]
    )
    hze = pd.DataFrame(
        [
            {
                "jahr": 2013,
                "hilfeart": "gesamt",
                "ausgaben_eur": 1_000_000.0,
                "fallzahl_mittel": 2.0,
            },
            {
                "jahr": 2014,
                "hilfeart": "gesamt",
                "ausgaben_eur": 1_100_000.0,
                "fallzahl_mittel": 1.5,
            },
        ]
    )
    funding = pd.DataFrame(
        [
            {"jahr": 2014, "gebiet": "nord", "quelle": "kommune", "betrag_eur": 30_000.0},
            {"jahr": 2014, "gebiet": "sued", "quelle": "bundesstiftung", "betrag_eur": 8_000.0},
            {"jahr": 2014, "gebiet": "west", "quelle": "kommune", "betrag_eur": 1_000.0},
            {"jahr": 2014, "gebiet": "gesamt", "quelle": "land", "betrag_eur": 5_000.0},
        ]
    )
    return {
        "standorte": sites,
        "erstkontakte": pd.DataFrame(_contacts()),
        "bevoelkerung": population,
        "willkommensbesuche": welcome,
        "angebote": offers,
        "kosten_hze": hze,
        "finanzierung": funding,
    }


def write_raw(folder: Path) -> Path:
    """Write the raw tables as German-office CSV files (``;``, UTF-8) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in raw_tables().items():
        table.to_csv(folder / f"{name}.csv", sep=";", index=False, encoding="utf-8")
    return folder
