"""Die synthetische Beispielkommune: erfundene Rohdaten nach dem Vorbild des Leverkusener Konzepts.

``write_demo`` writes all nine raw tables in the dialect of German office software (``;``,
decimal comma, TT.MM.JJJJ, one file in Windows-1252, an export title line, XLSX) with a few
deliberate flaws, so every demo run exercises the real input path and the data-quality report.
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import holidays
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from openpyxl import Workbook

from analysis import formatting
from analysis.contract.schema import CATEGORIES, TABLES

SYNTHETIC_NOTE = "Synthetische Beispielkommune – erfundene Daten"
FIRST_YEAR = 2011
README_NAME = "README.txt"
#: Lists the files of the last demo run, so a re-run removes exactly those and nothing else.
STATE_NAME = ".beispieldaten.json"
LAND = "NW"
#: From this year on the fictional municipality reports HzE per kind of help, not as a total.
HZE_BY_KIND_FROM = 2021
#: Stand-in for a raw line that lacks its last field (see the flaw ``feld_fehlt``).
_DROP_FIELD = "\x00FELD_FEHLT"


@dataclass(frozen=True)
class DemoSite:
    """One of the four model sites; copies for load tests get a suffix (``rheindorf_2``)."""

    site_id: str
    name: str
    region: str
    provider: str
    opened: date
    births_share: float  # share of the municipality's births in the catchment area (region)
    reach: float  # first contacts per birth in the catchment once the site is established
    sgb2_factor: float  # SGB II share of the catchment relative to the municipality

    @property
    def size(self) -> float:
        """Scale of staff, offers and budget relative to an average site."""
        return self.births_share / 0.24


BASE_SITES: tuple[DemoSite, ...] = (
    DemoSite(
        "rheindorf",
        "Rheindorfer Laden",
        "Region I",
        "Stadt Musterstadt, Fachbereich Kinder und Jugend",
        date(2011, 4, 1),
        0.25,
        0.9,
        1.5,
    ),
    DemoSite(
        "steinbuechel",
        "Frühe Hilfen Steinbüchel",
        "Region III",
        "Kooperationsverbund Kath. Jugendagentur, Caritasverband und kath. Erziehungsberatung",
        date(2011, 4, 1),
        0.23,
        0.88,
        1.15,
    ),
    DemoSite(
        "manfort",
        "Manforter Laden",
        "Region IV",
        "Diakonisches Werk mit der ev. Erziehungsberatungsstelle",
        date(2011, 4, 1),
        0.22,
        0.88,
        1.05,
    ),
    DemoSite(
        "opladen",
        "Anlaufstelle Frühe Hilfen Opladen",
        "Region II",
        "Stadt Musterstadt, Fachbereich Soziales, mit Trägern des Stadtteils",
        date(2016, 3, 1),
        0.27,
        0.86,
        0.9,
    ),
)

# Seed 004, section 3.1 and 4.2; seed 003 (federal funding). The births follow the German
# trend (peak 2016, decline from 2022); 2012 is the 1,602 births the Leverkusen report names.
BASE_BIRTHS: dict[int, int] = {
    2009: 1590, 2010: 1575, 2011: 1580, 2012: 1602, 2013: 1590, 2014: 1650, 2015: 1700,
    2016: 1780, 2017: 1760, 2018: 1745, 2019: 1710, 2020: 1690, 2021: 1725, 2022: 1640,
    2023: 1600, 2024: 1590, 2025: 1575,
}  # fmt: skip
WELCOME_VISITS_FIXED: dict[int, int] = {2012: 170, 2013: 290, 2014: 398}
#: Welcome visits per birth after 2014 (2020/21: bags left at the door during the pandemic).
WELCOME_RATE: dict[int, float] = {
    2015: 0.26, 2016: 0.27, 2017: 0.28, 2018: 0.29, 2019: 0.30, 2020: 0.16, 2021: 0.22,
    2022: 0.29, 2023: 0.31, 2024: 0.32, 2025: 0.33,
}  # fmt: skip
#: HzE before the Frühe Hilfen started (2011): steeper growth, the trend council paper
#: 0264/2009 set out to reduce (seed 004, 4.2). Gives the interrupted time series a pre-period.
HZE_BEFORE: dict[int, tuple[float, float]] = {
    2007: (9_310_000.0, 431.0),
    2008: (10_080_000.0, 472.0),
    2009: (10_870_000.0, 519.0),
    2010: (11_590_000.0, 561.0),
}
HZE_SEED: dict[int, tuple[float, float]] = {
    2011: (12_190_000.0, 606.0),
    2012: (13_045_000.0, 689.0),
    2013: (13_120_000.0, 737.0),
    2014: (13_612_000.0, 805.0),
}
FEDERAL_FUNDING: dict[int, float] = {2012: 73_127.0, 2013: 100_405.0, 2014: 110_642.0}
FEDERAL_FUNDING_LATER = 110_642.0
#: Shares of expenditure and of cases per kind of help (typical for a German city).
HZE_KIND_SHARES: dict[str, tuple[float, float]] = {
    "p27_2": (0.04, 0.08), "p28": (0.01, 0.05), "p29": (0.01, 0.02), "p30": (0.04, 0.10),
    "p31": (0.12, 0.24), "p32": (0.04, 0.04), "p33": (0.17, 0.15), "p34": (0.38, 0.14),
    "p35": (0.02, 0.01), "p35a": (0.10, 0.12), "p41": (0.07, 0.05),
}  # fmt: skip


@dataclass(frozen=True)
class Flaw:
    """A deliberately invalid raw row: ingestion must reject it, for this reason."""

    key: str
    table: str
    description: str  # German, as shown in README.txt and the summary
    reason_hint: str  # what the German reject reason names (column or rule), any case


#: Every flaw the demo writes, exactly once per run whatever the scale (only rows of the four
#: model sites are broken). Tests assert that ingestion rejects these rows and only these.
DEMO_FLAWS: tuple[Flaw, ...] = (
    Flaw("zugangsweg_unbekannt", "erstkontakte", "unbekannter Zugangsweg „Hausarztpraxis“", "zugangsweg"),
    Flaw("datum_unmoeglich", "erstkontakte", "unmögliches Datum 31.02.2014", "datum_erstkontakt"),
    Flaw("standort_unbekannt", "erstkontakte", "Standort „wiesdorf“ gibt es nicht", "standort_id"),
    Flaw("meldung_nach_kontakt", "erstkontakte", "Meldedatum nach dem Erstkontakt", "Meldedatum"),
    Flaw("fall_id_doppelt", "erstkontakte", "Fallnummer am selben Standort doppelt", "fall_id"),
    Flaw("feld_fehlt", "erstkontakte", "Zeile mit einem Feld zu wenig", "Felder"),
    Flaw("teilnehmende_ueber_besuche", "angebote", "mehr Teilnehmende als Besuche", "Teilnehmende"),
    Flaw("note_ausserhalb", "nutzerbefragung", "Note 6 außerhalb von 1 bis 5", "raeume"),
    Flaw("bogen_doppelt", "nutzerbefragung", "Fragebogennummer doppelt", "bogen_id"),
    Flaw("sektor_unbekannt", "netzwerkpartner", "unbekannter Sektor „Polizei / Ordnung“", "sektor"),
    Flaw("quelle_unbekannt", "finanzierung", "unbekannte Quelle „Lotterie-Stiftung“", "quelle"),
)  # fmt: skip
FLAWS_BY_KEY: dict[str, Flaw] = {f.key: f for f in DEMO_FLAWS}


def expected_rejects() -> dict[str, int]:
    """Rows ingestion must reject per table (every table listed, zeros included)."""
    counts = dict.fromkeys(TABLES, 0)
    for flaw in DEMO_FLAWS:
        counts[flaw.table] += 1
    return counts


@dataclass(frozen=True)
class FlawRow:
    """Where a flaw was written: file name and line (1-based, as a text editor counts)."""

    key: str
    table: str
    file: str
    line: int


@dataclass(frozen=True)
class DemoSummary:
    target: Path
    seed: int
    scale: float
    sites: tuple[str, ...]
    first_year: int
    last_year: int
    rows: dict[str, int]  # data rows written per table, flawed rows included
    files: dict[str, tuple[str, ...]]  # table -> file names
    flaws: tuple[FlawRow, ...]
    other_files: tuple[str, ...] = ()  # table files in the target that the demo did not write


@dataclass
class _Frame:
    """A raw table file before writing: string cells, flawed rows marked by position."""

    table: str
    file: str
    frame: pd.DataFrame
    flaw_positions: dict[str, int] = field(default_factory=dict)


# --- helpers ----------------------------------------------------------------------------------
def last_complete_year(today: date | None = None) -> int:
    return (today or date.today()).year - 1


def demo_sites(scale: float) -> list[tuple[DemoSite, str, str]]:
    """(model site, standort_id, name) for the scale; fractional scales round sites up."""
    n = max(1, math.ceil(round(len(BASE_SITES) * scale, 6)))
    out = []
    for i in range(n):
        base = BASE_SITES[i % len(BASE_SITES)]
        copy = i // len(BASE_SITES) + 1
        sid = base.site_id if copy == 1 else f"{base.site_id}_{copy}"
        name = base.name if copy == 1 else f"{base.name} {copy}"
        out.append((base, sid, f"{name} (synthetisch)"))
    return out


def _births(year: int) -> int:
    if year in BASE_BIRTHS:
        return BASE_BIRTHS[year]
    # Years after the table (the demo runs in later years too): level off slowly.
    return round(BASE_BIRTHS[max(BASE_BIRTHS)] * 0.995 ** (year - max(BASE_BIRTHS)))


def _ramp(years_open: int) -> float:
    """A new site needs a few years until families know it."""
    return (0.55, 0.75, 0.88, 0.96)[years_open] if years_open < 4 else 1.0


def _pandemic(year: int) -> float:
    return {2020: 0.78, 2021: 0.9}.get(year, 1.0)


def _open_fraction(opened: date, year: int) -> float:
    if year < opened.year:
        return 0.0
    if year > opened.year:
        return 1.0
    return (13 - opened.month) / 12


def _holidays(first: int, last: int) -> np.ndarray:
    days = holidays.country_holidays("DE", subdiv=LAND, years=range(first - 1, last + 2))
    return np.array(sorted(days), dtype="datetime64[D]")


def _pick(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


_GERMAN_DIGITS = str.maketrans({",": ".", ".": ","})


def _de_number(values: np.ndarray | pd.Series, digits: int = 0, euro: bool = False) -> list[str]:
    """``12190000.0`` -> ``12.190.000,00 €`` as office software exports it.

    Plain ``format`` and a character swap: babel (formatting.py) is 100 times slower and the
    raw files need no locale data beyond the two separators.
    """
    suffix = " €" if euro else ""
    return [f"{float(v):,.{digits}f}".translate(_GERMAN_DIGITS) + suffix for v in values]


_DATE_CACHE: dict[tuple[int, int, str], np.ndarray] = {}


def _format_days(days: np.ndarray, fmt: str) -> np.ndarray:
    """datetime64[D] -> strings through a lookup table (fast for a million rows)."""
    lo, hi = date(1990, 1, 1), date(2100, 12, 31)
    key = (lo.toordinal(), hi.toordinal(), fmt)
    if key not in _DATE_CACHE:
        rng = pd.date_range(lo, hi, freq="D")
        _DATE_CACHE[key] = np.asarray(rng.strftime(fmt), dtype=object)
    table = _DATE_CACHE[key]
    out = np.full(days.shape, "", dtype=object)
    ok = ~np.isnat(days)
    idx = (days[ok] - np.datetime64(lo, "D")).astype(np.int64)
    out[ok] = table[idx]
    return out


def _codes(category: str) -> np.ndarray:
    return np.array(CATEGORIES[category].codes, dtype=object)


def _labels(category: str) -> np.ndarray:
    c = CATEGORIES[category]
    return np.array([c.labels[k] for k in c.codes], dtype=object)


def _weights(category: str, spec: dict[str, float]) -> np.ndarray:
    return np.array([spec.get(code, 0.0) for code in CATEGORIES[category].codes])


# --- erstkontakte -----------------------------------------------------------------------------
_ROUTES_START = {
    "geburtsklinik": 14, "hebamme": 10, "kinderarzt": 6, "frauenarzt": 4, "jugendamt": 8,
    "schwangerschaftsberatung": 5, "beratungsstelle": 4, "kita_familienzentrum": 6,
    "jobcenter": 3, "willkommensbesuch": 0, "eigeninitiative": 14, "bekannte": 12,
    "oeffentlichkeitsarbeit": 9, "sonstige": 3, "unbekannt": 2,
}  # fmt: skip
_ROUTES_END = {
    "geburtsklinik": 12, "hebamme": 13, "kinderarzt": 8, "frauenarzt": 5, "jugendamt": 6,
    "schwangerschaftsberatung": 5, "beratungsstelle": 4, "kita_familienzentrum": 6,
    "jobcenter": 3, "willkommensbesuch": 12, "eigeninitiative": 9, "bekannte": 9,
    "oeffentlichkeitsarbeit": 6, "sonstige": 2, "unbekannt": 1,
}  # fmt: skip
#: Routes through an institution, where a referral date is usually documented.
_REFERRAL_ROUTES = (
    "geburtsklinik", "hebamme", "kinderarzt", "frauenarzt", "jugendamt",
    "schwangerschaftsberatung", "beratungsstelle", "kita_familienzentrum", "jobcenter",
    "willkommensbesuch",
)  # fmt: skip
_REASONS = {
    "information": 22, "alltag": 14, "erziehung": 16, "gesundheit_kind": 13,
    "belastung_eltern": 9, "finanzen_wohnen": 9, "partnerschaft": 4, "kontakt_eltern": 9,
    "sonstige": 2, "unbekannt": 2,
}  # fmt: skip
_PHASES = {
    "schwangerschaft": 14, "m0_6": 36, "m6_12": 20, "j1_2": 15, "j2_3": 8, "ueber_3": 4,
    "unbekannt": 3,
}  # fmt: skip
_MOTHER_AGE = {
    "unter_18": 1.5, "a18_19": 3.0, "a20_24": 14, "a25_29": 27, "a30_34": 29, "a35_39": 16,
    "a40_plus": 5, "unbekannt": 4.5,
}  # fmt: skip
_ONWARD = {
    "keine": 55, "familienhebamme": 10, "erziehungsberatung": 6, "jugendamt": 3,
    "schwangerschaftsberatung": 3, "fruehfoerderung": 3, "kindertagesbetreuung": 6,
    "familienbildung": 7, "gesundheitswesen": 3, "ehrenamt": 3, "sonstige": 1,
}  # fmt: skip
_WORKDAYS = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 10])
_WORKDAYS_EARLY = np.array([0.08, 0.22, 0.22, 0.18, 0.11, 0.07, 0.04, 0.04, 0.02, 0.02])
_WORKDAYS_LATER = np.array([0.12, 0.30, 0.25, 0.16, 0.07, 0.04, 0.02, 0.02, 0.01, 0.01])
_OPEN_WEEK = "1111110"  # the sites are open six days a week (seed 004, 3.3)
_WORK_WEEK = "1111100"


def _contacts(
    rng: np.random.Generator,
    sites: list[tuple[DemoSite, str, str]],
    births: dict[tuple[int, str], int],
    last: int,
    hol: np.ndarray,
) -> pd.DataFrame:
    """All first contacts as category indices and dates (vectorised over all sites).

    A site reaches a steady share of the births in its region, so the reach rate stays
    below one even though the network as a whole sees most families.
    """
    years = np.arange(FIRST_YEAR, last + 1)
    site_idx, year_col, counts, caps = [], [], [], []
    for i, (base, sid, _) in enumerate(sites):
        for y in years:
            frac = _open_fraction(base.opened, int(y))
            if frac == 0:
                continue
            mean = (
                base.reach
                * births[(int(y), sid)]
                * _ramp(int(y) - base.opened.year)
                * frac
                * _pandemic(int(y))
            )
            site_idx.append(i)
            year_col.append(int(y))
            counts.append(mean)
            caps.append(int(0.97 * births[(int(y), sid)]))
    # Capped: a site never counts more families than are born in its region in a year.
    n_per = np.minimum(rng.poisson(np.array(counts)), np.array(caps))
    site = np.repeat(np.array(site_idx), n_per)
    year = np.repeat(np.array(year_col), n_per)
    n = len(site)

    opened = np.array([np.datetime64(s[0].opened, "D") for s in sites])
    start = np.maximum((year - 1970).astype("datetime64[Y]").astype("datetime64[D]"), opened[site])
    end = (year + 1 - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    span = (end - start).astype(np.int64)
    day = start + np.floor(rng.random(n) * span).astype(np.int64)
    fwd = np.busday_offset(day, 0, roll="forward", weekmask=_OPEN_WEEK, holidays=hol)
    back = np.busday_offset(day, 0, roll="backward", weekmask=_OPEN_WEEK, holidays=hol)
    day = np.where(fwd < end, fwd, back)

    order = np.lexsort((day, site))
    site, year, day = site[order], year[order], day[order]

    # The access routes shift over the years: welcome visits start in 2012 and grow.
    route_codes = CATEGORIES["zugangsweg"].codes
    start_w, end_w = _weights("zugangsweg", _ROUTES_START), _weights("zugangsweg", _ROUTES_END)
    route = np.empty(n, dtype=np.int64)
    u = rng.random(n)
    for y in years:
        mask = year == y
        t = min(1.0, (int(y) - FIRST_YEAR) / 10)
        w = (1 - t) * start_w + t * end_w
        cum = np.cumsum(w / w.sum())
        route[mask] = np.minimum(np.searchsorted(cum, u[mask], side="right"), len(w) - 1)

    phase = _pick(rng, _weights("lebensphase_kind", _PHASES), n)
    phase_codes = CATEGORIES["lebensphase_kind"].codes
    prenatal = np.isin(
        route, [route_codes.index(c) for c in ("frauenarzt", "schwangerschaftsberatung")]
    )
    newborn = np.isin(route, [route_codes.index(c) for c in ("geburtsklinik", "willkommensbesuch")])
    u = rng.random(n)
    phase = np.where(prenatal & (u < 0.7), phase_codes.index("schwangerschaft"), phase)
    phase = np.where(newborn & (u < 0.8), phase_codes.index("m0_6"), phase)

    sgb2_factor = np.array([s[0].sgb2_factor for s in sites])[site]

    def jn(p_yes: np.ndarray | float, p_unknown: float) -> np.ndarray:
        v = rng.random(n)
        return np.where(v < p_unknown, 2, np.where(v < p_unknown + p_yes * (1 - p_unknown), 0, 1))

    referral = np.isin(route, [route_codes.index(c) for c in _REFERRAL_ROUTES])
    has_date = referral & (rng.random(n) < 0.75)
    k = np.where(
        year <= 2014,
        rng.choice(_WORKDAYS, size=n, p=_WORKDAYS_EARLY),
        rng.choice(_WORKDAYS, size=n, p=_WORKDAYS_LATER),
    )
    meldung = np.busday_offset(day, -k, roll="backward", weekmask=_WORK_WEEK, holidays=hol)
    meldung = np.where(has_date, meldung, np.datetime64("NaT"))

    return pd.DataFrame(
        {
            "site": site,
            "year": year,
            "seq": pd.Series(site).groupby([site, year]).cumcount().to_numpy() + 1,
            "datum_erstkontakt": day,
            "datum_meldung": meldung,
            "zugangsweg": route,
            "zugangsgrund": _pick(rng, _weights("zugangsgrund", _REASONS), n),
            "lebensphase_kind": phase,
            "altersgruppe_mutter": _pick(rng, _weights("altersgruppe_mutter", _MOTHER_AGE), n),
            "alleinerziehend": jn(0.19, 0.08),
            "sgb2_bezug": jn(np.clip(0.2 * sgb2_factor, 0, 0.9), 0.10),
            "migrationshintergrund": jn(0.36, 0.07),
            "weitervermittlung": _pick(rng, _weights("weitervermittlung", _ONWARD), n),
        }
    )


_CONTACT_HEADERS_OLD = {
    "fall_id": "Fall-ID",
    "standort_id": "Standort-ID",
    "datum_erstkontakt": "Datum Erstkontakt",
    "datum_meldung": "Datum Meldung",
    "zugangsweg": "Zugangsweg",
    "zugangsgrund": "Zugangsgrund",
    "lebensphase_kind": "Lebensphase Kind",
    "altersgruppe_mutter": "Altersgruppe Mutter",
    "alleinerziehend": "Alleinerziehend",
    "sgb2_bezug": "SGB2 Bezug",
    "migrationshintergrund": "Migrationshintergrund",
    "weitervermittlung": "Weitervermittlung",
}
_CAT_COLUMNS = ("zugangsweg", "zugangsgrund", "lebensphase_kind", "altersgruppe_mutter", "weitervermittlung")  # fmt: skip
_JN_COLUMNS = ("alleinerziehend", "sgb2_bezug", "migrationshintergrund")


def _contact_files(
    rng: np.random.Generator, contacts: pd.DataFrame, site_ids: list[str], last: int
) -> list[_Frame]:
    """One file per year in the style of the form version of that time.

    Up to 2015 the old export (German headers and labels, an extra column); 2016-2020 codes
    and ``j``/``n``; from 2021 a new case-management system with ISO dates and a BOM.
    """
    ids = np.array(site_ids, dtype=object)
    files = []
    for y in range(FIRST_YEAR, last + 1):
        c = contacts[contacts["year"] == y]
        old, new = y <= 2015, y >= 2021
        date_fmt = "%Y-%m-%d" if new else "%d.%m.%Y"
        seq = c["seq"].to_numpy()
        fall = pd.Series(seq, dtype="int64").astype(str).str.zfill(5)
        cols: dict[str, object] = {
            "fall_id": (f"FH{y}-" + fall).to_numpy(dtype=object),
            "standort_id": ids[c["site"].to_numpy()],
            "datum_erstkontakt": _format_days(
                c["datum_erstkontakt"].to_numpy("datetime64[D]"), date_fmt
            ),
            "datum_meldung": _format_days(c["datum_meldung"].to_numpy("datetime64[D]"), date_fmt),
        }
        for col in _CAT_COLUMNS:
            values = _labels(col) if old else _codes(col)
            cols[col] = values[c[col].to_numpy()]
        for col in _JN_COLUMNS:
            spell = (
                ("ja", "nein", "")
                if old
                else (("j", "n", "") if not new else ("ja", "nein", "unbekannt"))
            )
            cols[col] = np.array(spell, dtype=object)[c[col].to_numpy()]
        frame = pd.DataFrame(cols)[list(TABLES["erstkontakte"].column_names)]
        if old:
            # The municipality's own form labels (mapped in fh-analytik.toml).
            route = frame["zugangsweg"].to_numpy()
            u = rng.random(len(frame))
            clinic = CATEGORIES["zugangsweg"].labels["geburtsklinik"]
            midwife = CATEGORIES["zugangsweg"].labels["hebamme"]
            route = np.where((route == clinic) & (u < 0.5), "Klinikum Schlebusch", route)
            route = np.where((route == midwife) & (u < 0.3), "Familienhebamme", route)
            frame["zugangsweg"] = route
            frame["formularversion"] = "2011-1" if y <= 2012 else "2013-2"
            frame = frame.rename(
                columns={**_CONTACT_HEADERS_OLD, "formularversion": "Formularversion"}
            )
        files.append(_Frame("erstkontakte", f"erstkontakte_{y}.csv", frame))
    return files


def _pos(frame: pd.DataFrame, mask: np.ndarray, rng: np.random.Generator) -> int:
    """A random row where ``mask`` holds; any row when it holds nowhere (tiny scales)."""
    candidates = np.flatnonzero(mask)
    if len(candidates) == 0:
        candidates = np.arange(len(frame))
    return int(candidates[rng.integers(len(candidates))])


def _contact_flaws(rng: np.random.Generator, files: list[_Frame], last: int) -> None:
    """Break a few rows of the model sites (never of copies, so the count does not scale)."""
    by_year = {int(f.file[13:17]): f for f in files}

    def rows(year: int, site: str) -> tuple[_Frame, np.ndarray] | None:
        f = by_year.get(min(year, last))
        if f is None:
            return None
        sid = f.frame.columns[1]
        return f, (f.frame[sid] == site).to_numpy()

    # 2013 and 2014: old form with labels and German headers (columns by position).
    f, m = rows(2013, "rheindorf")
    p = _pos(f.frame, m, rng)
    f.frame.iloc[p, 4] = "Hausarztpraxis"
    f.flaw_positions["zugangsweg_unbekannt"] = p

    f, m = rows(2014, "steinbuechel")
    p = _pos(f.frame, m, rng)
    f.frame.iloc[p, 2] = "31.02.2014"
    f.flaw_positions["datum_unmoeglich"] = p

    f, m = rows(2015, "rheindorf")
    p = _pos(f.frame, m, rng)
    f.frame.iloc[p, 1] = "wiesdorf"
    f.flaw_positions["standort_unbekannt"] = p

    f, m = rows(2017, "manfort")
    p = _pos(f.frame, m & (f.frame["datum_meldung"] != "").to_numpy(), rng)
    contact = datetime.strptime(f.frame.iloc[p, 2], "%d.%m.%Y").date()
    f.frame.iloc[p, 3] = (pd.Timestamp(contact) + pd.Timedelta(days=3)).strftime("%d.%m.%Y")
    f.flaw_positions["meldung_nach_kontakt"] = p

    # A second form for a family already counted, typed in later: same fall_id, same site.
    f, m = rows(2018, "manfort")
    p = _pos(f.frame, m, rng)
    q = _pos(f.frame, m, rng)
    dup = f.frame.iloc[[q]].copy()
    dup.iloc[0, 0] = f.frame.iloc[p, 0]
    f.frame = pd.concat([f.frame, dup], ignore_index=True)
    f.flaw_positions["fall_id_doppelt"] = len(f.frame) - 1

    f, m = rows(2019, "opladen")
    p = _pos(f.frame, m, rng)
    f.frame.iloc[p, -1] = _DROP_FIELD
    f.flaw_positions["feld_fehlt"] = p


# --- area tables ------------------------------------------------------------------------------
def _population(
    rng: np.random.Generator, sites: list[tuple[DemoSite, str, str]], last: int, factor: float
) -> pd.DataFrame:
    rows = []
    for y in range(FIRST_YEAR, last + 1):
        births = round(_births(y) * factor)
        u3 = round(0.985 * (_births(y) + _births(y - 1) + _births(y - 2)) * factor)
        sgb2_share = 0.21 - 0.003 * (y - FIRST_YEAR) + (0.015 if 2016 <= y <= 2019 else 0.0)
        rows.append((y, "gesamt", births, u3, round(u3 * sgb2_share)))
        for base, sid, _ in sites:
            if y < base.opened.year:
                continue
            noise = rng.uniform(0.98, 1.02)
            b = round(_births(y) * base.births_share * noise)
            c_u3 = round(u3 / factor * base.births_share * noise)
            rows.append((y, sid, b, c_u3, min(c_u3, round(c_u3 * sgb2_share * base.sgb2_factor))))
    return pd.DataFrame(rows, columns=["jahr", "gebiet", "geburten", "kinder_u3", "kinder_u3_sgb2"])


def _welcome_visits(
    rng: np.random.Generator,
    sites: list[tuple[DemoSite, str, str]],
    population: pd.DataFrame,
    last: int,
    factor: float,
) -> pd.DataFrame:
    """The welcome visits start in 2012 (seed 004, 3.1); letters to all parents since June 2013."""
    births = population.set_index(["jahr", "gebiet"])["geburten"]
    rows: list[tuple[object, ...]] = []
    for y in range(2012, last + 1):
        total = births[(y, "gesamt")]
        if y in WELCOME_VISITS_FIXED:
            visits = round(WELCOME_VISITS_FIXED[y] * factor)
        else:
            visits = round(total * WELCOME_RATE.get(y, 0.33) * rng.uniform(0.97, 1.03))
        letters = None if y == 2012 else (round(total * 7 / 12) if y == 2013 else int(total))
        referred = round(10 * factor) if y == 2014 else round(visits * rng.uniform(0.02, 0.035))
        pregnant = None if y == 2012 else round(75 * factor) if y == 2014 else round(visits * 0.19)
        rows.append((y, "gesamt", letters, visits, referred, pregnant))
        for base, sid, _ in sites:
            if y < base.opened.year:
                continue
            b = births[(y, sid)]
            v = round(visits * b / total * rng.uniform(0.85, 1.1))
            rows.append((y, sid, b if y >= 2014 else None, v, round(v * 0.03), None))
    return pd.DataFrame(
        rows,
        columns=[
            "jahr",
            "gebiet",
            "angeschrieben",
            "besuche",
            "vermittlungen",
            "anmeldungen_schwangerschaft",
        ],
    )


def _hze(rng: np.random.Generator, last: int) -> pd.DataFrame:
    """2007-2010 before the start, 2011-2014 exactly as seed 004, 4.2; then plausible
    growth, per kind from 2021."""
    rows = [(y, "gesamt", e, c) for y, (e, c) in (HZE_BEFORE | HZE_SEED).items() if y <= last]
    spend, cases = HZE_SEED[2014]
    kinds = list(HZE_KIND_SHARES)
    for y in range(2015, last + 1):
        spend = round(spend * (1 + rng.normal(0.04, 0.015)), -3)
        cases = round(cases * (1 + rng.normal(0.025, 0.015)), 1)
        if y < HZE_BY_KIND_FROM:
            rows.append((y, "gesamt", spend, cases))
            continue
        s_share = np.array([HZE_KIND_SHARES[k][0] for k in kinds]) * rng.uniform(
            0.9, 1.1, len(kinds)
        )
        c_share = np.array([HZE_KIND_SHARES[k][1] for k in kinds]) * rng.uniform(
            0.9, 1.1, len(kinds)
        )
        s_share, c_share = s_share / s_share.sum(), c_share / c_share.sum()
        for kind, s, c in zip(kinds, s_share, c_share, strict=True):
            rows.append((y, kind, round(spend * s, -2), round(cases * c, 1)))
    return pd.DataFrame(rows, columns=["jahr", "hilfeart", "ausgaben_eur", "fallzahl_mittel"])


def _funding(
    rng: np.random.Generator, sites: list[tuple[DemoSite, str, str]], last: int
) -> pd.DataFrame:
    rows: list[tuple[int, str, str, str, float]] = []
    for y in range(FIRST_YEAR, last + 1):
        inflation = 1.025 ** (y - FIRST_YEAR)
        if y >= 2012:
            federal = FEDERAL_FUNDING.get(y, FEDERAL_FUNDING_LATER)
            personal = round(federal * 0.82)
            rows.append((y, "gesamt", "bundesstiftung", "personal", float(personal)))
            rows.append((y, "gesamt", "bundesstiftung", "sachkosten", federal - personal))
            rows.append((y, "gesamt", "kommune", "sachkosten", round(12_000 * inflation, -2)))
            rows.append(
                (y, "gesamt", "drittmittel", "sonstige", round(rng.uniform(1_500, 4_000), -1))
            )
        rows.append((y, "gesamt", "kommune", "personal", round(48_000 * inflation, -2)))
        if y >= 2015:
            land = 60_000 if y >= 2020 else 25_000  # state programme from 2020
            rows.append((y, "gesamt", "land", "personal", float(land)))
        for base, sid, _ in sites:
            frac = _open_fraction(base.opened, y)
            if frac == 0:
                continue
            level = base.size * inflation * frac
            rows.append(
                (y, sid, "kommune", "personal", round(rng.uniform(95_000, 125_000) * level, -2))
            )
            rows.append(
                (y, sid, "kommune", "miete", round(rng.uniform(13_000, 17_000) * level, -2))
            )
            rows.append(
                (y, sid, "kommune", "sachkosten", round(rng.uniform(6_000, 9_000) * level, -2))
            )
            rows.append(
                (y, sid, "kommune", "honorare", round(rng.uniform(3_000, 6_000) * level, -2))
            )
            if base.site_id in ("steinbuechel", "manfort"):
                rows.append(
                    (y, sid, "traeger", "sachkosten", round(rng.uniform(3_000, 5_000) * frac, -2))
                )
            # Opladen: third-party funds of the urban development concept for five years.
            if base.site_id == "opladen" and y < base.opened.year + 5:
                for kind, amount in (
                    ("miete", 15_000),
                    ("personal", 40_000),
                    ("sachkosten", 8_000),
                ):
                    rows.append((y, sid, "drittmittel", kind, round(amount * frac, -2)))
    return pd.DataFrame(rows, columns=["jahr", "gebiet", "quelle", "kostenart", "betrag_eur"])


# --- angebote, nutzerbefragung, netzwerkpartner ------------------------------------------------
#: (code, name, sessions per month, visits per session, families per visit, from year, months)
_OFFERS: tuple[tuple[str, str, float, float, float, int, tuple[int, ...]], ...] = (
    ("offener_treff", "Elterncafé", 18, 9, 0.3, 2011, ()),
    ("beratung", "Einzelberatung", 22, 1, 0.6, 2011, ()),
    ("hausbesuch", "Aufsuchende Beratung", 9, 1, 0.7, 2011, ()),
    ("kurs", "Babymassage", 4, 8, 0.3, 2011, ()),
    ("gruppe", "Krabbelgruppe", 4.5, 10, 0.25, 2012, ()),
    ("familienhebamme", "Sprechstunde Familienhebamme", 6, 3, 0.6, 2012, ()),
    ("veranstaltung", "Familienfest", 1, 60, 0.5, 2011, (6, 12)),
)
_MONTHLY_FROM = 2014  # the annual site reports had no monthly breakdown before


def _offers(
    rng: np.random.Generator, sites: list[tuple[DemoSite, str, str]], last: int
) -> pd.DataFrame:
    grid = []
    for i, (base, _, _) in enumerate(sites):
        for y in range(max(FIRST_YEAR, base.opened.year), last + 1):
            first_month = base.opened.month if y == base.opened.year else 1
            for m in range(first_month, 13):
                grid.append((i, y, m))
    g = np.array(grid)
    n_off = len(_OFFERS)
    site = np.repeat(g[:, 0], n_off)
    year = np.repeat(g[:, 1], n_off)
    month = np.repeat(g[:, 2], n_off)
    offer = np.tile(np.arange(n_off), len(g))
    keep = np.array(
        [
            year[j] >= _OFFERS[offer[j]][5]
            and (not _OFFERS[offer[j]][6] or month[j] in _OFFERS[offer[j]][6])
            for j in range(len(offer))
        ]
    )
    site, year, month, offer = site[keep], year[keep], month[keep], offer[keep]
    opened_year = np.array([s[0].opened.year for s in sites])[site]
    ramp = np.array([_ramp(int(k)) for k in range(6)])[np.minimum(year - opened_year, 5)]
    pandemic = np.where((year == 2020) & (month >= 3) & (month <= 6), 0.3, 1.0) * np.where(
        (year == 2020) & (month > 6) | (year == 2021), 0.8, 1.0
    )
    summer = np.where(month == 8, 0.6, 1.0)
    level = ramp * pandemic * summer * np.array([s[0].size for s in sites])[site]
    sessions = np.array([o[2] for o in _OFFERS])[offer]
    per_session = np.array([o[3] for o in _OFFERS])[offer]
    family_share = np.array([o[4] for o in _OFFERS])[offer]
    termine = np.maximum(1, rng.poisson(sessions * np.sqrt(level)))
    besuche = np.maximum(termine, rng.poisson(termine * per_session * np.sqrt(level)))
    teilnehmende = np.clip(
        np.round(besuche * family_share * rng.uniform(0.8, 1.2, len(besuche))), 1, besuche
    ).astype(np.int64)
    frame = pd.DataFrame(
        {
            "site": site,
            "jahr": year,
            "monat": month,
            "offer": offer,
            "termine": termine,
            "besuche": besuche,
            "teilnehmende": teilnehmende,
        }
    )
    # Before monthly reporting the sites sent one line per offer and year.
    early = frame["jahr"] < _MONTHLY_FROM
    annual = (
        frame[early]
        .groupby(["site", "jahr", "offer"], as_index=False)[["termine", "besuche", "teilnehmende"]]
        .sum()
    )
    # Families come back over the year: distinct families are fewer than the monthly sum.
    annual["teilnehmende"] = np.minimum(
        annual["besuche"], np.round(annual["teilnehmende"] * 0.45).astype(np.int64)
    )
    annual["monat"] = 0
    frame = pd.concat([annual, frame[~early]], ignore_index=True)
    return frame.sort_values(["site", "jahr", "monat", "offer"], kind="stable").reset_index(
        drop=True
    )


def _offer_files(
    rng: np.random.Generator, offers: pd.DataFrame, sites: list[tuple[DemoSite, str, str]]
) -> list[_Frame]:
    """Region II (Opladen) reports in Excel, the other sites as CSV."""
    ids = np.array([s[1] for s in sites], dtype=object)
    # Only the model site itself: copies for load tests stay in the fast CSV path.
    in_excel = np.array([s[1] == "opladen" for s in sites])[offers["site"].to_numpy()]
    names = np.array([o[1] for o in _OFFERS], dtype=object)
    offer_idx = offers["offer"].to_numpy()
    frame = pd.DataFrame(
        {
            "standort_id": ids[offers["site"].to_numpy()],
            "jahr": offers["jahr"].to_numpy(),
            "monat": offers["monat"].to_numpy(),
            "angebot": np.array([o[0] for o in _OFFERS], dtype=object)[offer_idx],
            "angebot_name": names[offer_idx],
            "termine": offers["termine"].to_numpy(),
            "besuche": offers["besuche"].to_numpy(),
            "teilnehmende": offers["teilnehmende"].to_numpy(),
        }
    )
    csv = frame[~in_excel].reset_index(drop=True)
    csv_str = csv.astype(str)
    csv_str["monat"] = np.where(csv["monat"] == 0, "", csv_str["monat"])
    csv_frame = _Frame("angebote", "angebote.csv", csv_str)
    m = (
        (csv["standort_id"] == "manfort") & (csv["jahr"] == 2015) & (csv["angebot"] == "kurs")
    ).to_numpy()
    p = _pos(csv, m, rng)
    csv_frame.frame.loc[p, "teilnehmende"] = str(int(csv.loc[p, "besuche"]) + 5)
    csv_frame.flaw_positions["teilnehmende_ueber_besuche"] = p

    xl = frame[in_excel].reset_index(drop=True)
    labels = CATEGORIES["angebot"].labels
    xl["angebot"] = xl["angebot"].map(labels)
    xl = xl.rename(
        columns={
            "standort_id": "Standort-ID",
            "jahr": "Jahr",
            "monat": "Monat",
            "angebot": "Angebot",
            "angebot_name": "Angebot Name",
            "termine": "Termine",
            "besuche": "Besuche",
            "teilnehmende": "Teilnehmende",
        }
    )
    return [csv_frame, _Frame("angebote", "angebote_region_ii.xlsx", xl)]


def _feedback(
    rng: np.random.Generator, sites: list[tuple[DemoSite, str, str]], last: int, hol: np.ndarray
) -> _Frame:
    """One survey a year in October and November, from the first full year of a site."""
    site_idx, year_col, counts = [], [], []
    for i, (base, _, _) in enumerate(sites):
        for y in range(max(FIRST_YEAR, base.opened.year), last + 1):
            site_idx.append(i)
            year_col.append(y)
            counts.append(45 * _ramp(y - base.opened.year) * _pandemic(y))
    n_per = rng.poisson(np.array(counts))
    site = np.repeat(np.array(site_idx), n_per)
    year = np.repeat(np.array(year_col), n_per)
    n = len(site)
    start = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]") + 273  # ~1 October
    day = np.busday_offset(
        start + rng.integers(0, 58, n), 0, roll="forward", weekmask=_OPEN_WEEK, holidays=hol
    )
    order = np.lexsort((day, site))
    site, year, day = site[order], year[order], day[order]
    seq = pd.Series(site).groupby([site, year]).cumcount().to_numpy() + 1
    ids = np.array([s[1] for s in sites], dtype=object)
    grades = np.array(["1", "2", "3", "4", "5", ""], dtype=object)
    p = np.array([0.44, 0.33, 0.12, 0.04, 0.02, 0.05])
    frame = pd.DataFrame(
        {
            "bogen_id": (
                pd.Series(ids[site], dtype=str) + "-" + pd.Series(year).astype(str) + "-"
                + pd.Series(seq).astype(str).str.zfill(3)
            ).to_numpy(dtype=object),
            "standort_id": ids[site],
            "datum": _format_days(day, "%d.%m.%Y"),
            "erreichbarkeit": grades[rng.choice(6, n, p=p)],
            "raeume": grades[rng.choice(6, n, p=p)],
            "angebote": grades[rng.choice(6, n, p=p)],
            "beratung": grades[rng.choice(6, n, p=p)],
            "weiterempfehlung": np.array(["ja", "nein", ""], dtype=object)[rng.choice(3, n, p=[0.87, 0.05, 0.08])],
        }
    )  # fmt: skip
    # Opladen's opening year: only two questionnaires came back (a small survey whose mean
    # and distribution the confidentiality rule must hide).
    first_year = [(i, b.opened.year) for i, (b, _, _) in enumerate(sites) if b.site_id == "opladen"]
    keep = np.ones(n, dtype=bool)
    for i, y in first_year:
        rows = np.flatnonzero((site == i) & (year == y))
        keep[rows[2:]] = False
    frame = frame.loc[keep].reset_index(drop=True)
    site, year = site[keep], year[keep]
    out = _Frame("nutzerbefragung", "nutzerbefragung.csv", frame)
    base_rows = (frame["standort_id"] == "steinbuechel").to_numpy()
    pos = _pos(frame, base_rows & (year == 2016), rng)
    out.frame.loc[pos, "raeume"] = "6"
    out.flaw_positions["note_ausserhalb"] = pos
    q = _pos(frame, base_rows & (year == 2018), rng)
    r = _pos(frame, base_rows & (year == 2019), rng)
    dup = frame.iloc[[r]].copy()
    dup.iloc[0, 0] = frame.iloc[q, 0]
    out.frame = pd.concat([out.frame, dup], ignore_index=True)
    out.flaw_positions["bogen_doppelt"] = len(out.frame) - 1
    return out


#: (name, sector, area of work); city-wide partners and partners in every site's quarter.
_PARTNERS_CITY = (
    ("Klinikum Musterstadt, Geburtsklinik", "gesundheit", "Geburtsklinik"),
    ("St.-Remigius-Krankenhaus, Kinderklinik", "gesundheit", "Kinderklinik"),
    ("Gesundheitsamt, Kinder- und Jugendgesundheitsdienst", "gesundheit", "Öffentlicher Gesundheitsdienst"),
    ("Jugendamt, Allgemeiner Sozialer Dienst", "kinder_jugendhilfe", "Jugendamt"),
    ("Familienbildungsstätte Musterstadt", "kinder_jugendhilfe", "Familienbildung"),
    ("Kinderschutzbund Ortsverband", "kinder_jugendhilfe", "Kinderschutz"),
    ("Schwangerschaftsberatungsstelle pro familia", "psychosoziale_beratung", "Schwangerschaftsberatung"),
    ("Sozialdienst katholischer Frauen", "psychosoziale_beratung", "Schwangerschaftsberatung"),
    ("Frühförderstelle der Lebenshilfe", "gesundheit", "Frühförderung"),
    ("Jobcenter Musterstadt", "weitere", "Jobcenter"),
    ("Familiengericht beim Amtsgericht", "weitere", "Justiz"),
    ("Sozialpsychiatrischer Dienst", "psychosoziale_beratung", "Psychiatrie"),
    ("LVR-Klinik, Ambulanz Kinder- und Jugendpsychiatrie", "gesundheit", "Kinder- und Jugendpsychiatrie"),
)  # fmt: skip
#: Core partner types a site's quarter does not have yet (the network checklist shows them).
_PARTNERS_MISSING = {"manfort": ("Frauenärzte", "Hebammen")}
_PARTNERS_SITE = (
    ("Kinder- und Jugendarztpraxis am Markt", "gesundheit", "Kinderärzte"),
    ("Kinder- und Jugendarztpraxis Lindenallee", "gesundheit", "Kinderärzte"),
    ("Frauenarztpraxis im Ärztehaus", "gesundheit", "Frauenärzte"),
    ("Hebammenpraxis", "gesundheit", "Hebammen"),
    ("Familienzentrum Kita Regenbogen", "kinder_jugendhilfe", "Kindertagesbetreuung"),
    ("Kita Sonnenschein", "kinder_jugendhilfe", "Kindertagesbetreuung"),
    ("Erziehungs- und Familienberatungsstelle", "psychosoziale_beratung", "Erziehungsberatung"),
    ("Migrationsberatung", "psychosoziale_beratung", "Migrationsberatung"),
    ("Kirchengemeinde", "weitere", "Ehrenamt"),
    ("Stadtteilbüro", "weitere", "Quartiersarbeit"),
)  # fmt: skip


def _partners(
    rng: np.random.Generator, sites: list[tuple[DemoSite, str, str]], last: int
) -> _Frame:
    rows = []
    quarter = {"rheindorf": "Rheindorf", "steinbuechel": "Steinbüchel", "manfort": "Manfort", "opladen": "Opladen"}  # fmt: skip
    for name, sector, area in _PARTNERS_CITY:
        rows.append((name, sector, area, "gesamt", date(2011, 1, 1)))
    for base, sid, _ in sites:
        place = quarter[base.site_id] + sid.removeprefix(base.site_id).replace("_", " ")
        for name, sector, area in _PARTNERS_SITE:
            if area in _PARTNERS_MISSING.get(base.site_id, ()):
                continue
            rows.append((f"{name} {place}", sector, area, sid, base.opened))
    n = len(rows)
    first = np.array([np.datetime64(r[4], "D") for r in rows])
    end = np.datetime64(date(last, 12, 31), "D")
    signed = first + (rng.random(n) * rng.random(n) * (end - first).astype(np.int64)).astype(
        np.int64
    )
    has_agreement = rng.random(n) < 0.7
    left = rng.random(n) < 0.08
    left_day = signed + rng.integers(200, 2500, n)
    sector_labels = CATEGORIES["sektor"].labels
    out = []
    for i, (name, sector, area, gebiet, _) in enumerate(rows):
        leave = (
            pd.Timestamp(left_day[i]).to_pydatetime() if left[i] and left_day[i] <= end else None
        )
        out.append(
            (
                f"NP-{i + 1:04d}",
                name,
                sector_labels[sector],
                area,
                gebiet,
                pd.Timestamp(signed[i]).to_pydatetime() if has_agreement[i] else None,
                leave,
            )
        )
    out.append(
        (
            f"NP-{n + 1:04d}",
            "Polizeiinspektion Musterstadt",
            "Polizei / Ordnung",
            "Polizei",
            "gesamt",
            datetime(2014, 5, 12),
            None,
        )
    )
    frame = pd.DataFrame(
        out,
        columns=["Partner-ID", "Bezeichnung", "Sektor", "Bereich", "Gebiet", "Vereinbarung seit", "Ausgeschieden"],
    )  # fmt: skip
    return _Frame(
        "netzwerkpartner", "netzwerkpartner.xlsx", frame, {"sektor_unbekannt": len(frame) - 1}
    )


# --- building and writing -----------------------------------------------------------------------
@dataclass
class DemoData:
    """Every file of the demo before writing (pure result of ``build_demo``)."""

    sites: list[tuple[DemoSite, str, str]]
    last_year: int
    files: list[_Frame]


def build_demo(seed: int = 2014, scale: float = 1.0, today: date | None = None) -> DemoData:
    """Generate the demo municipality in memory; the same seed gives the same data."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    rng = np.random.default_rng(seed)
    last = last_complete_year(today)
    sites = demo_sites(scale)
    factor = len(sites) / len(BASE_SITES)
    hol = _holidays(FIRST_YEAR, last)
    files: list[_Frame] = []

    standorte = pd.DataFrame(
        {
            "Standort-ID": [s[1] for s in sites],
            "Name": [s[2] for s in sites],
            "Region": [s[0].region for s in sites],
            "Träger": [s[0].provider for s in sites],
            "Eröffnet": [s[0].opened.strftime("%d.%m.%Y") for s in sites],
            "Geschlossen": ["" for _ in sites],
        }
    )
    files.append(_Frame("standorte", "standorte.csv", standorte))

    population = _population(rng, sites, last, factor)
    births = {(int(y), g): int(b) for y, g, b in population[["jahr", "gebiet", "geburten"]].itertuples(index=False)}  # fmt: skip
    contacts = _contacts(rng, sites, births, last, hol)
    contact_files = _contact_files(rng, contacts, [s[1] for s in sites], last)
    _contact_flaws(rng, contact_files, last)
    files.extend(contact_files)

    files.extend(_offer_files(rng, _offers(rng, sites, last), sites))

    welcome = _welcome_visits(rng, sites, population, last, factor)
    pop_str = population.astype(str)
    for col in ("geburten", "kinder_u3", "kinder_u3_sgb2"):
        pop_str[col] = _de_number(population[col])
    files.append(_Frame("bevoelkerung", "bevoelkerung.csv", pop_str))
    files.append(_Frame("willkommensbesuche", "willkommensbesuche.csv", _int_strings(welcome)))

    hze = _hze(rng, last)
    hze_str = hze.astype(str)
    hze_str["ausgaben_eur"] = _de_number(hze["ausgaben_eur"], 2, euro=True)
    hze_str["fallzahl_mittel"] = _de_number(hze["fallzahl_mittel"], 1)
    files.append(_Frame("kosten_hze", "kosten_hze.csv", hze_str))

    funding = _funding(rng, sites, last)
    fund_str = funding.astype(str)
    fund_str["betrag_eur"] = _de_number(funding["betrag_eur"], 2, euro=True)
    fund_str["quelle"] = funding["quelle"].map(CATEGORIES["quelle"].labels)
    fund_str["kostenart"] = funding["kostenart"].map(CATEGORIES["kostenart"].labels)
    flaw_year = min(2019, last)
    fund_str.loc[len(fund_str)] = [
        str(flaw_year),
        "manfort",
        "Lotterie-Stiftung",
        "Sachkosten",
        "2.500,00 €",
    ]
    files.append(
        _Frame(
            "finanzierung", "finanzierung.csv", fund_str, {"quelle_unbekannt": len(fund_str) - 1}
        )
    )

    files.append(_feedback(rng, sites, last, hol))
    files.append(_partners(rng, sites, last))
    return DemoData(sites, last, files)


def _int_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Whole numbers as text; a missing count stays an empty cell."""
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_numeric_dtype(s):
            out[col] = ["" if pd.isna(v) else str(int(v)) for v in s]
        else:
            out[col] = s.astype(str)
    return out


#: How each file is written: encoding, line ending, lines above the header, trailing `;`.
_TITLE_LINES = {
    "bevoelkerung.csv": [
        "Statistikstelle Musterstadt – Bevölkerung nach Gebieten (synthetische Beispieldaten)",
        "Stand: 31.12.{last}",
    ]
}
_CP1252 = {"standorte.csv"}
_TRAILING_DELIMITER = {"willkommensbesuche.csv"}


def _header_lines(item: _Frame, last: int) -> list[str]:
    return [t.format(last=last) for t in _TITLE_LINES.get(item.file, [])]


def _csv_bytes(item: _Frame, last: int) -> bytes:
    newline = "\r\n" if item.file in _CP1252 else "\n"
    lines = [*_header_lines(item, last), ";".join(item.frame.columns)]
    head = "".join(line + newline for line in lines)
    # pyarrow's C++ writer: a million rows in about a second (pandas' to_csv needs ten).
    table = pa.Table.from_pandas(item.frame.astype(str), preserve_index=False)
    buf = io.BytesIO()
    pa_csv.write_csv(
        table,
        buf,
        pa_csv.WriteOptions(
            include_header=False, delimiter=";", quoting_style="none", batch_size=65536
        ),
    )
    body = buf.getvalue()
    if newline != "\n":
        body = body.replace(b"\n", newline.encode())
    text_head = head
    if item.file in _TRAILING_DELIMITER:
        body = body.replace(newline.encode(), (";" + newline).encode())
        text_head = head.replace(newline, ";" + newline)
    if item.file in _CP1252:
        return text_head.encode("cp1252") + body.decode("utf-8").encode("cp1252")
    body = body.replace(b";" + _DROP_FIELD.encode(), b"")
    bom = item.file.startswith("erstkontakte_") and int(item.file[13:17]) >= 2021
    return ("\ufeff" if bom else "").encode() + text_head.encode() + body


_FIXED_TIME = datetime(2000, 1, 1)


def _xlsx_bytes(item: _Frame) -> bytes:
    wb = Workbook(write_only=True)
    wb.properties.creator = "fh-analytik beispieldaten"
    wb.properties.title = SYNTHETIC_NOTE
    wb.properties.created = _FIXED_TIME
    wb.properties.modified = _FIXED_TIME
    ws = wb.create_sheet(item.table)
    ws.append(list(item.frame.columns))
    for row in item.frame.itertuples(index=False, name=None):
        ws.append([_cell(v) for v in row])
    note = wb.create_sheet("Hinweis")
    note.append([SYNTHETIC_NOTE])
    buf = io.BytesIO()
    wb.save(buf)
    return _normalise_zip(buf.getvalue())


def _cell(value: object) -> object:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def _normalise_zip(data: bytes) -> bytes:
    """Fixed zip timestamps and document dates, so the same seed gives the same bytes."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)",
                    rb"\g<1>2000-01-01T00:00:00Z\g<3>",
                    content,
                )
            zi = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(zi, content)
    return out.getvalue()


def _line_of(item: _Frame, position: int, last: int) -> int:
    if item.file.endswith(".xlsx"):
        return position + 2
    return len(_header_lines(item, last)) + position + 2


def _readme(summary: DemoSummary) -> str:
    lines = [
        SYNTHETIC_NOTE,
        "=" * len(SYNTHETIC_NOTE),
        "",
        "Diese Dateien beschreiben eine erfundene Kommune nach dem Vorbild des Leverkusener",
        "Konzepts Frühe Hilfen. Keine Zeile stammt aus echten Daten; Personen gibt es nicht.",
        f"Erzeugt mit „fh-analytik beispieldaten --seed {summary.seed} "
        f"--skalierung {formatting.number(summary.scale, 2)}“.",
        f"Jahre {summary.first_year} bis {summary.last_year}, {len(summary.sites)} Standorte.",
        "",
        "Absichtlich fehlerhafte Zeilen (für den Bericht zur Datenqualität):",
    ]
    for row in summary.flaws:
        flaw = FLAWS_BY_KEY[row.key]
        lines.append(f"  {row.file}, Zeile {row.line}: {flaw.description}")
    lines += ["", "Dateien:"]
    for table, names in summary.files.items():
        lines.append(f"  {table}: {', '.join(names)}")
    return "\n".join(lines) + "\n"


def write_demo(
    target: Path | str, seed: int = 2014, scale: float = 1.0, today: date | None = None
) -> DemoSummary:
    """Write the demo municipality's raw files into ``target`` and describe what was written."""
    target = Path(target)
    data = build_demo(seed, scale, today)
    target.mkdir(parents=True, exist_ok=True)
    state = target / STATE_NAME
    if state.is_file():
        try:
            previous = json.loads(state.read_text(encoding="utf-8")).get("dateien", [])
        except (OSError, ValueError):
            previous = []
        for name in previous:
            path = target / Path(name).name
            if path.is_file():
                path.unlink()

    files: dict[str, list[str]] = {}
    rows: dict[str, int] = dict.fromkeys(TABLES, 0)
    flaws: list[FlawRow] = []
    for item in data.files:
        content = (
            _xlsx_bytes(item) if item.file.endswith(".xlsx") else _csv_bytes(item, data.last_year)
        )
        (target / item.file).write_bytes(content)
        files.setdefault(item.table, []).append(item.file)
        rows[item.table] += len(item.frame)
        for key, pos in item.flaw_positions.items():
            flaws.append(FlawRow(key, item.table, item.file, _line_of(item, pos, data.last_year)))
    order = {f.key: i for i, f in enumerate(DEMO_FLAWS)}
    flaws.sort(key=lambda f: order[f.key])

    written = {n for names in files.values() for n in names}
    others = sorted(
        p.name
        for p in target.iterdir()
        if p.is_file() and p.name not in written and p.name.startswith(tuple(TABLES))
    )
    summary = DemoSummary(
        target=target,
        seed=seed,
        scale=scale,
        sites=tuple(s[1] for s in data.sites),
        first_year=FIRST_YEAR,
        last_year=data.last_year,
        rows=rows,
        files={t: tuple(v) for t, v in files.items()},
        flaws=tuple(flaws),
        other_files=tuple(others),
    )
    (target / README_NAME).write_text(_readme(summary), encoding="utf-8")
    state.write_text(
        json.dumps(
            {"hinweis": SYNTHETIC_NOTE, "dateien": sorted([*written, README_NAME])}, indent=1
        ),
        encoding="utf-8",
    )
    return summary


def format_summary(summary: DemoSummary) -> str:
    """German summary for the command line."""
    lines = [
        f"{SYNTHETIC_NOTE}: geschrieben nach {summary.target}",
        f"Seed {summary.seed}, Skalierung {formatting.number(summary.scale, 2)}: "
        f"{formatting.number(len(summary.sites))} Standorte, Jahre {summary.first_year}–{summary.last_year}",
        "",
        f"{'Tabelle':<20}{'Zeilen':>12}  Dateien",
    ]
    for table in TABLES:
        names = summary.files.get(table, ())
        lines.append(
            f"{table:<20}{formatting.number(summary.rows.get(table, 0)):>12}  {len(names)}"
        )
    lines += [
        "",
        f"Absichtlich fehlerhafte Zeilen für den Bericht zur Datenqualität: {len(summary.flaws)} "
        f"(siehe {README_NAME}).",
    ]
    if summary.other_files:
        lines.append(
            "Achtung: Im Zielordner liegen weitere Rohdateien, die nicht zur Beispielkommune gehören "
            f"und mit aufbereitet würden: {', '.join(summary.other_files)}"
        )
    return "\n".join(lines)
