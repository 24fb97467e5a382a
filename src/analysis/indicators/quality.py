"""Qualität: Rückmeldungen der Familien (nutzerbefragung) und Netzwerkpartner (netzwerkpartner).

The NZFH quality criteria ask networks to survey families regularly (seed 001, 5.10 and
5.13) and to bring the core sectors into the network (section 2). One function per
indicator of the catalogue plus the table builders the ``qualitaet`` report calls. Pure:
frames in, values out; the year's selection of questionnaires comes from ``data``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.contract.schema import ALL_SITES, CATEGORIES, GESAMT
from analysis.indicators import stats
from analysis.indicators.stats import Proportion, wilson_interval

#: The rated items of the questionnaire (data contract), in questionnaire order.
ITEMS: dict[str, str] = {
    "erreichbarkeit": "Erreichbarkeit",
    "raeume": "Räume",
    "angebote": "Angebote",
    "beratung": "Beratung",
}
#: The grades of the questionnaire: 1 (sehr gut) to 5 (schlecht).
GRADES: tuple[int, ...] = (1, 2, 3, 4, 5)
GRADE_LABELS: dict[int, str] = {1: "1 (sehr gut)", 2: "2", 3: "3", 4: "4", 5: "5 (schlecht)"}
TOTAL_LABEL = "Insgesamt"


# --- Rückmeldungen (nutzerbefragung) ------------------------------------------------------------
@dataclass(frozen=True)
class ItemSummary:
    """Distribution, mean and interval of one rated item.

    ``total`` is the sum of the grades: the mean is ``total / n``, so the protection of the
    publication treats it as the (linear) quantity a published mean reveals; the interval
    rests on the mean and n alone (see :func:`mean_interval`).
    """

    item: str
    counts: dict[int, int]
    no_answer: int
    n: int
    total: int
    mean: float | None
    lower: float | None
    upper: float | None


def questionnaires(surveys: pd.DataFrame) -> int:
    """Zahl der angenommenen Fragebögen in der (nach Standort und Jahr gewählten) Tabelle."""
    return len(surveys)


def grade_counts(surveys: pd.DataFrame, item: str) -> dict[int, int]:
    """Antworten je Note 1–5 für ein Merkmal; jede Note erscheint, auch mit 0."""
    if item not in ITEMS:
        raise KeyError(f"unknown item {item}")
    counts = surveys[item].dropna().astype(int).value_counts()
    return {g: int(counts.get(g, 0)) for g in GRADES}


def mean_interval(
    n: int, total: float, level: float = 0.95
) -> tuple[float | None, float | None, float | None]:
    """Mean grade and a conservative t interval that uses only the mean and n.

    The spread is not estimated from the answers: on a scale from 1 to 5 the sample
    variance is at most ``n / (n - 1) * (5 - mean) * (mean - 1)`` (Bhatia–Davis), so
    ``mean ± t(n-1) * sqrt((5 - mean) * (mean - 1) / (n - 1))`` covers at least as much
    as the usual t interval. It is wider, but publishes nothing beyond mean and n: mean,
    standard deviation and n together would pin down a small count of a grade
    (docs/annahmen.md Q2). ``None`` without answers; no interval below two answers.
    """
    if n <= 0:
        return None, None, None
    mean = total / n
    if n < 2:
        return mean, None, None
    spread = max(0.0, (GRADES[-1] - mean) * (mean - GRADES[0]))
    half = stats.t_ppf(0.5 + level / 2, n - 1) * math.sqrt(spread / (n - 1))
    return mean, max(1.0, mean - half), min(5.0, mean + half)


def item_summary(surveys: pd.DataFrame, item: str) -> ItemSummary:
    """Verteilung, mittlere Note und 95-%-Intervall eines Merkmals; ohne Antwort = keine Angabe."""
    counts = grade_counts(surveys, item)
    n = sum(counts.values())
    total = sum(g * c for g, c in counts.items())
    mean, lower, upper = mean_interval(n, total)
    return ItemSummary(item, counts, questionnaires(surveys) - n, n, total, mean, lower, upper)


def recommendation(surveys: pd.DataFrame) -> Proportion:
    """Anteil „würde weiterempfehlen“ unter den Fragebögen mit Angabe (ja oder nein), Wilson."""
    answers = surveys["weiterempfehlung"].astype(object)
    yes = int((answers == "ja").sum())
    known = yes + int((answers == "nein").sum())
    return wilson_interval(yes, known)


def feedback_block(surveys: pd.DataFrame | None) -> dict[str, Any] | None:
    """The ``qualitaet.rueckmeldungen`` block of ``kennzahlen``; ``None`` without the table."""
    if surveys is None:
        return None
    items: dict[str, Any] = {}
    for item in ITEMS:
        s = item_summary(surveys, item)
        items[item] = {
            "n": s.n,
            "ohne_angabe": s.no_answer,
            "mittelwert": s.mean,
            "untergrenze": s.lower,
            "obergrenze": s.upper,
        }
    rec = recommendation(surveys)
    return {
        "frageboegen": questionnaires(surveys),
        "bewertungen": items,
        "weiterempfehlung": {"anteil": rec.share, "n_bekannt": rec.n},
    }


def item_table(surveys: pd.DataFrame) -> pd.DataFrame:
    """One row per item: answers per grade, no answer, n, mean and interval."""
    rows = []
    for item, label in ITEMS.items():
        s = item_summary(surveys, item)
        row: dict[str, Any] = {"Merkmal": label}
        row.update({GRADE_LABELS[g]: s.counts[g] for g in GRADES})
        row.update(
            {
                "Keine Angabe": s.no_answer,
                "Antworten (n)": s.n,
                "Mittelwert": s.mean,
                "Untergrenze": s.lower,
                "Obergrenze": s.upper,
            }
        )
        rows.append(row)
    frame = pd.DataFrame(rows).set_index("Merkmal")
    counts = [*(GRADE_LABELS[g] for g in GRADES), "Keine Angabe", "Antworten (n)"]
    return frame.astype({c: pd.Int64Dtype() for c in counts}).astype(
        {c: "float64" for c in ("Mittelwert", "Untergrenze", "Obergrenze")}
    )


# --- Netzwerkpartner --------------------------------------------------------------------------
#: Core partner types of the checklist (seed 001, section 2; issue 12): code -> (label, the
#: ``bereich`` names that stand for it, compared after folding case, umlauts and punctuation).
#: ``bereich`` is free text in the data contract, so these names are the vocabulary a
#: network uses for the checklist (docs/annahmen.md Q5).
CORE_TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "geburtsklinik": ("Geburtsklinik", ("Geburtsklinik", "Geburtshilfe", "Klinik für Geburtshilfe")),
    "kinderaerzte": (
        "Kinder- und Jugendarztpraxen",
        ("Kinderärzte", "Kinderarzt", "Kinderarztpraxis", "Kinder- und Jugendärzte"),
    ),
    "frauenaerzte": ("Frauenarztpraxen", ("Frauenärzte", "Frauenarzt", "Frauenarztpraxis", "Gynäkologie")),
    "hebammen": ("Hebammen / Familienhebammen", ("Hebammen", "Hebamme", "Familienhebammen", "Familienhebamme")),
    "schwangerschaftsberatung": ("Schwangerschaftsberatung", ("Schwangerschaftsberatung",)),
    "jugendamt": ("Jugendamt / ASD", ("Jugendamt", "ASD", "Allgemeiner Sozialer Dienst")),
    "erziehungsberatung": (
        "Erziehungs- und Familienberatung",
        ("Erziehungsberatung", "Erziehungs- und Familienberatung"),
    ),
    "fruehfoerderung": ("Frühförderung", ("Frühförderung", "Frühförderstelle")),
    "kinder_jugendpsychiatrie": (
        "Kinder- und Jugendpsychiatrie",
        ("Kinder- und Jugendpsychiatrie", "KJP", "Kinder- und Jugendpsychiatrischer Dienst"),
    ),
    "jobcenter": ("Jobcenter", ("Jobcenter", "Jobcenter / Sozialamt")),
}  # fmt: skip
MISSING = "fehlt"
NO_AGREEMENT = "ohne Vereinbarung"
AGREED = "mit Vereinbarung"


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(a, b)
    return re.sub(r"[^a-z0-9]+", "", text)


_ALIASES = {_fold(alias): code for code, (_, names) in CORE_TYPES.items() for alias in names}


def core_type(bereich: Any) -> str | None:
    """The core partner type a ``bereich`` stands for, ``None`` for any other area of work."""
    if bereich is None or bereich is pd.NA or (isinstance(bereich, float) and math.isnan(bereich)):
        return None
    return _ALIASES.get(_fold(str(bereich)))


def _year_end(year: int) -> pd.Timestamp:
    return pd.Timestamp(year=year, month=12, day=31)


def active_partners(partners: pd.DataFrame, year: int) -> pd.DataFrame:
    """Partners in the network at the end of ``year``: not left on or before 31 December.

    The data contract has no date of joining, so a partner counts from the first year on
    (docs/annahmen.md Q4); a later exit does not count for an earlier year.
    """
    left = partners["ausgeschieden"]
    return partners.loc[(left.isna() | (left > _year_end(year))).to_numpy()]


def has_agreement(partners: pd.DataFrame, year: int) -> pd.Series:
    """Whether each partner had signed a cooperation agreement by the end of ``year``."""
    since = partners["vereinbarung_seit"]
    return (since.notna() & (since <= _year_end(year))).fillna(False).astype(bool)


def partners_in_area(partners: pd.DataFrame, area: str) -> pd.DataFrame:
    """Partners of one area (a ``standort_id``) plus the city-wide ones (``gesamt``);
    ``gesamt`` alone for the city-wide level."""
    gebiet = partners["gebiet"].astype(object).fillna(GESAMT)
    wanted = {area, GESAMT}
    return partners.loc[gebiet.isin(wanted).to_numpy()]


def partner_count(partners: pd.DataFrame, year: int) -> int:
    """Netzwerkpartner am Jahresende (nicht ausgeschieden)."""
    return len(active_partners(partners, year))


def agreement_share(partners: pd.DataFrame, year: int) -> Proportion:
    """Anteil der Netzwerkpartner am Jahresende mit unterzeichneter Kooperationsvereinbarung."""
    active = active_partners(partners, year)
    return wilson_interval(int(has_agreement(active, year).sum()), len(active))


def new_agreements(partners: pd.DataFrame, year: int) -> int:
    """Im Jahr unterzeichnete Kooperationsvereinbarungen (Zugänge mit Vereinbarung)."""
    since = partners["vereinbarung_seit"]
    return int((since.dt.year == year).fillna(False).sum())


def exits(partners: pd.DataFrame, year: int) -> int:
    """Im Jahr ausgeschiedene Netzwerkpartner."""
    return int((partners["ausgeschieden"].dt.year == year).fillna(False).sum())


def network_block(
    partners: pd.DataFrame | None, year: int, site: str, areas: Sequence[str]
) -> dict[str, Any] | None:
    """The ``qualitaet.netzwerk`` block of ``kennzahlen``; ``None`` without the table.

    For a site its own and the city-wide partners (who serve it too), for ``alle`` every
    partner; ``kernpartner_fehlend`` lists the missing core types per area (``areas``).
    """
    if partners is None:
        return None
    if site != ALL_SITES:
        partners = partners_in_area(partners, site)
    active = active_partners(partners, year)
    sectors = active["sektor"].astype(object).value_counts()
    share = agreement_share(partners, year)
    return {
        "partner": len(active),
        "nach_sektor": {c: int(sectors.get(c, 0)) for c in CATEGORIES["sektor"].codes},
        "mit_vereinbarung": share.count,
        "anteil_mit_vereinbarung": share.share,
        "neue_vereinbarungen": new_agreements(partners, year),
        "ausgeschieden": exits(partners, year),
        "kernpartner_fehlend": {a: core_missing(partners, year, a) for a in areas},
    }


def sector_table(partners: pd.DataFrame, year: int, areas: Sequence[str]) -> pd.DataFrame:
    """Partners at the end of ``year`` by area (rows: each area's own partners, then the
    city-wide ones and the total) and NZFH sector, with the share that has an agreement."""
    active = active_partners(partners, year)
    agreed = has_agreement(active, year)
    gebiet = active["gebiet"].astype(object).fillna(GESAMT)
    sector = CATEGORIES["sektor"]
    rows = []
    for area in [*areas, GESAMT, TOTAL_LABEL]:
        mask = pd.Series(True, index=active.index) if area == TOTAL_LABEL else gebiet == area
        part = active.loc[mask.to_numpy()]
        counts = part["sektor"].astype(object).value_counts()
        row: dict[str, Any] = {"Gebiet": area}
        row.update({sector.label(c): int(counts.get(c, 0)) for c in sector.codes})
        share = wilson_interval(int(agreed[mask.to_numpy()].sum()), len(part))
        row.update(
            {
                TOTAL_LABEL: len(part),
                "Mit Vereinbarung": share.count,
                "Anteil mit Vereinbarung": share.share,
            }
        )
        rows.append(row)
    frame = pd.DataFrame(rows).set_index("Gebiet")
    counts = [*(sector.label(c) for c in sector.codes), TOTAL_LABEL, "Mit Vereinbarung"]
    return frame.astype({c: pd.Int64Dtype() for c in counts}).astype(
        {"Anteil mit Vereinbarung": "float64"}
    )


def network_trend(partners: pd.DataFrame, years: Iterable[int]) -> pd.DataFrame:
    """Per year: partners at the year's end (all and per NZFH sector), with agreement, share,
    new agreements, exits."""
    sector = CATEGORIES["sektor"]
    rows = []
    for year in years:
        share = agreement_share(partners, year)
        counts = active_partners(partners, year)["sektor"].astype(object).value_counts()
        rows.append(
            {
                "Jahr": int(year),
                "Partner am Jahresende": share.n,
                **{sector.label(c): int(counts.get(c, 0)) for c in sector.codes},
                "Mit Vereinbarung": share.count,
                "Anteil mit Vereinbarung": share.share,
                "Neue Vereinbarungen": new_agreements(partners, year),
                "Ausgeschieden": exits(partners, year),
            }
        )
    frame = pd.DataFrame(rows).set_index("Jahr")
    counts = [
        "Partner am Jahresende",
        *(sector.label(c) for c in sector.codes),
        "Mit Vereinbarung",
        "Neue Vereinbarungen",
        "Ausgeschieden",
    ]
    return frame.astype({c: pd.Int64Dtype() for c in counts}).astype(
        {"Anteil mit Vereinbarung": "float64"}
    )


def core_status(partners: pd.DataFrame, year: int, area: str) -> dict[str, str]:
    """Checklist of one area at the end of ``year``: every core type ``fehlt``, ``ohne
    Vereinbarung`` (partners, none with an agreement) or ``mit Vereinbarung``.

    An area is served by its own partners and the city-wide ones (``gesamt``).
    """
    active = active_partners(partners_in_area(partners, area), year)
    types = [core_type(b) for b in active["bereich"].astype(object)]
    agreed = has_agreement(active, year).to_numpy()
    out: dict[str, str] = {}
    for code in CORE_TYPES:
        mine = np.array([t == code for t in types], dtype=bool)
        if not mine.any():
            out[code] = MISSING
        elif not agreed[mine].any():
            out[code] = NO_AGREEMENT
        else:
            out[code] = AGREED
    return out


def core_missing(partners: pd.DataFrame, year: int, area: str) -> list[str]:
    """Kernpartner-Typen ohne Partner im Gebiet (einschließlich gesamtstädtischer Partner)."""
    return [c for c, s in core_status(partners, year, area).items() if s == MISSING]


def checklist_table(
    partners: pd.DataFrame, year: int, areas: Sequence[str], names: dict[str, str]
) -> pd.DataFrame:
    """Rows: core partner types; columns: areas (display names); cells: the status."""
    columns = {names.get(a, a): core_status(partners, year, a) for a in areas}
    frame = pd.DataFrame(
        {name: [status[c] for c in CORE_TYPES] for name, status in columns.items()},
        index=pd.Index([label for label, _ in CORE_TYPES.values()], name="Kernpartner"),
    )
    return frame.astype(object)
