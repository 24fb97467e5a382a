"""Zugangswege: Wie finden Familien zu den Frühen Hilfen, wie schnell und wohin geht es weiter?

Zählungen und Anteile je Zugangsweg und Berichtsgruppe, Reaktionszeit in Werktagen (mit den
Feiertagen des Landes), Standortvergleich, Trend über die Jahre, Weitervermittlungen
("Lotsenfunktion") und die Zuordnung zur Bundesstatistik "Anregung der Hilfe".
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cache
from importlib.resources import files
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.contract.schema import CATEGORIES
from analysis.errors import FhError
from analysis.indicators import stats
from analysis.stores import load_json, store_json

ROUTES = CATEGORIES["zugangsweg"]
ONWARD = CATEGORIES["weitervermittlung"]
#: Bergkamener Standard (seed 002): Kontakt binnen 3 Werktagen nach der Meldung.
STANDARD_WORKING_DAYS = 3
UNKNOWN = "unbekannt"


def _none_if_nan(value: Any) -> Any:
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        return value
    return value


def _routes(contacts: pd.DataFrame) -> pd.Series:
    return contacts["zugangsweg"].astype("string")


def _groups(contacts: pd.DataFrame) -> pd.Series:
    return _routes(contacts).map(ROUTES.groups).astype("string")


# --- Anzahl und Anteile ------------------------------------------------------------------------


def route_counts(contacts: pd.DataFrame) -> pd.Series:
    """Erstkontakte je Zugangsweg; jeder Code des Datenvertrags in Schemareihenfolge, auch 0."""
    counts = _routes(contacts).value_counts().reindex(list(ROUTES.codes), fill_value=0)
    return counts.astype("int64").rename("anzahl").rename_axis("zugangsweg")


def route_shares(contacts: pd.DataFrame) -> pd.Series:
    """Anteil je Zugangsweg an allen Erstkontakten (Keine Angabe zählt im Nenner mit).

    Ohne Erstkontakte sind alle Anteile NaN (nicht berechenbar, nicht 0).
    """
    counts = route_counts(contacts)
    total = len(contacts)
    if total == 0:
        return pd.Series(np.nan, index=counts.index, name="anteil", dtype="float64")
    return (counts / total).rename("anteil")


def group_counts(contacts: pd.DataFrame) -> pd.Series:
    """Erstkontakte je Berichtsgruppe der Zugangswege (Datenvertrag), jede Gruppe, auch 0."""
    counts = route_counts(contacts)
    by_group = counts.groupby(counts.index.map(ROUTES.groups), sort=False).sum()
    return (
        by_group.reindex(list(ROUTES.group_names), fill_value=0)
        .astype("int64")
        .rename("anzahl")
        .rename_axis("gruppe")
    )


def group_shares(contacts: pd.DataFrame) -> pd.Series:
    """Anteil je Berichtsgruppe an allen Erstkontakten; NaN ohne Erstkontakte."""
    counts = group_counts(contacts)
    total = len(contacts)
    if total == 0:
        return pd.Series(np.nan, index=counts.index, name="anteil", dtype="float64")
    return (counts / total).rename("anteil")


# --- Werktage und Reaktionszeit ----------------------------------------------------------------


#: Where the holidays of a Land are kept between calls, below the user's cache folder
#: (``$XDG_CACHE_HOME``, else ``~/.cache``): one JSON file per Land, by year.
HOLIDAY_STORE = Path("fh-analytik") / "feiertage"
_LAND_CODE = re.compile(r"[A-Z]{2}")
_ISO_DAY = re.compile(r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])")


@cache
def _holiday_dates(land: str, first_year: int, last_year: int) -> np.ndarray:
    """The Land's holidays as the ``holidays`` package gives them, kept on disk.

    Importing ``holidays`` and its German calendar took 0.12 to 0.2 s of every
    ``kennzahlen`` call (issue #11, P3) for about a dozen dates a year. The package's
    answer is stored by Land, year and package version; another version (an update that
    knows a new holiday) asks the package again.
    """
    years = range(first_year, last_year + 1)
    stored = _stored_holidays(land)
    if stored is not None and all(str(y) in stored["jahre"] for y in years):
        try:
            return np.array(
                sorted(d for y in years for d in stored["jahre"][str(y)]), dtype="datetime64[D]"
            )
        except ValueError:  # a damaged store (a day that does not exist): ask the package
            pass
    import holidays

    try:
        calendar = holidays.Germany(subdiv=land, years=years)
    except NotImplementedError as exc:
        known = ", ".join(s for s in holidays.Germany.subdivisions if len(s) == 2)
        raise FhError(
            f"Unbekanntes Bundesland „{land}“ für die Feiertage. Möglich sind: {known}."
        ) from exc
    dates = np.array(sorted(calendar), dtype="datetime64[D]")
    by_year: dict[str, list[str]] = {str(y): [] for y in years}
    for day in dates.astype(str):
        by_year[day[:4]].append(str(day))
    _store_holidays(land, by_year, stored)
    return dates


def _holiday_file(land: str) -> tuple[Path, str] | None:
    """The store file of ``land`` and the ``holidays`` version it must carry; ``None`` for
    a code that is no Land code (it never names a file) or without the installed package."""
    from importlib.metadata import PackageNotFoundError, version

    if not _LAND_CODE.fullmatch(land):
        return None
    try:
        package = version("holidays")
    except PackageNotFoundError:
        return None
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # unset, empty or relative: the XDG rule says ~/.cache
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home folder known (a service account without one)
            return None
    return Path(base) / HOLIDAY_STORE / f"{land}.json", package


def _stored_holidays(land: str) -> dict[str, Any] | None:
    """The stored holidays of ``land`` when they are of the installed package version."""
    where = _holiday_file(land)
    if where is None:
        return None
    path, package = where
    stored = load_json(path)
    if not isinstance(stored, dict) or stored.get("holidays") != package:
        return None
    if stored.get("land") != land or not isinstance(stored.get("jahre"), dict):
        return None
    for year, days in stored["jahre"].items():  # a damaged file is asked again, not trusted
        if not isinstance(days, list) or not all(
            isinstance(d, str) and _ISO_DAY.fullmatch(d) and d.startswith(f"{year}-") for d in days
        ):
            return None
    return stored


def _store_holidays(
    land: str, by_year: dict[str, list[str]], stored: dict[str, Any] | None
) -> None:
    """Add years to the store (:func:`store_json`: a cache folder that cannot be written
    only costs asking the package again next time)."""
    where = _holiday_file(land)
    if where is None:
        return
    path, package = where
    years = {**(stored["jahre"] if stored else {}), **by_year}
    store_json(path, {"holidays": package, "land": land, "jahre": dict(sorted(years.items()))})


def holiday_dates(land: str, years: Iterable[int]) -> np.ndarray:
    """Gesetzliche Feiertage des Landes (``holidays``-Paket) für die Jahre, als datetime64[D]."""
    years = list(years)
    if not years:
        return np.array([], dtype="datetime64[D]")
    return _holiday_dates(land, min(years), max(years))


def working_days(referral: pd.Series, contact: pd.Series, land: str = "NW") -> pd.Series:
    """Werktage zwischen Meldung und Erstkontakt je Fall.

    Gezählt werden die Tage d mit Meldung < d ≤ Erstkontakt, die weder Samstag, Sonntag noch
    gesetzlicher Feiertag des Landes sind; ein Kontakt am Tag der Meldung hat 0 Werktage.
    Fehlt ein Datum oder liegt die Meldung nach dem Kontakt (die Aufbereitung weist solche
    Zeilen ab), ist der Wert leer (NA).
    """
    ref = pd.to_datetime(pd.Series(referral)).reset_index(drop=True)
    con = pd.to_datetime(pd.Series(contact)).reset_index(drop=True)
    index = contact.index if isinstance(contact, pd.Series) else ref.index
    valid = (ref.notna() & con.notna() & (ref <= con)).to_numpy()
    out = np.full(len(con), np.nan)
    if valid.any():
        begin = ref[valid].to_numpy().astype("datetime64[D]")
        end = con[valid].to_numpy().astype("datetime64[D]")
        years = range(int(ref[valid].dt.year.min()), int(con[valid].dt.year.max()) + 1)
        # busday_count counts [begin, end); shifting both by one day gives (referral, contact].
        one = np.timedelta64(1, "D")
        out[valid] = np.busday_count(
            begin + one, end + one, weekmask="1111100", holidays=holiday_dates(land, years)
        )
    return pd.Series(out, index=index, name="werktage").astype("Int64")


@dataclass(frozen=True)
class ResponseTime:
    """Reaktionszeit von der Meldung bis zum Erstkontakt in Werktagen.

    ``n``: Erstkontakte mit Meldedatum; Median und Quote sind ``None``, wenn n = 0.
    """

    n: int
    median_werktage: float | None
    quote_binnen_3_werktagen: float | None

    @property
    def within_standard(self) -> int:
        """Number of contacts within 3 working days (the quote's numerator)."""
        if self.quote_binnen_3_werktagen is None:
            return 0
        return round(self.quote_binnen_3_werktagen * self.n)


def response_time(contacts: pd.DataFrame, land: str = "NW") -> ResponseTime:
    """Median der Werktage und Anteil der Kontakte binnen 3 Werktagen (Bergkamener Standard)."""
    days = working_days(contacts["datum_meldung"], contacts["datum_erstkontakt"], land).dropna()
    n = len(days)
    if n == 0:
        return ResponseTime(0, None, None)
    values = days.astype("int64")
    return ResponseTime(
        n=n,
        median_werktage=float(values.median()),
        quote_binnen_3_werktagen=float((values <= STANDARD_WORKING_DAYS).mean()),
    )


def response_time_by_group(contacts: pd.DataFrame, land: str = "NW") -> pd.DataFrame:
    """Reaktionszeit je Zugangsgruppe und insgesamt: n, Median der Werktage, Quote binnen 3.

    Zeigt, über welche Wege (z. B. Geburtsklinik, Jugendamt) die Kontaktaufnahme nach einer
    Meldung schneller oder langsamer gelingt. Leere Werte, wo eine Gruppe kein Meldedatum hat.
    """
    groups = _groups(contacts)
    rows = []
    for name in [*ROUTES.group_names, "Insgesamt"]:
        part = contacts if name == "Insgesamt" else contacts[(groups == name).fillna(False)]
        rt = response_time(part, land)
        rows.append(
            {
                "gruppe": name,
                "n": rt.n,
                "median_werktage": rt.median_werktage,
                "quote_binnen_3_werktagen": rt.quote_binnen_3_werktagen,
            }
        )
    return (
        pd.DataFrame(rows)
        .set_index("gruppe")
        .astype({"n": "int64", "median_werktage": "float64", "quote_binnen_3_werktagen": "float64"})
    )


def key_indicators(contacts: pd.DataFrame, land: str) -> dict[str, Any]:
    """Der Block ``zugangswege`` der Kennzahlen für bereits nach Jahr und Standort gewählte
    Erstkontakte: Anzahl und Anteile je Zugangsweg, Gruppenanteile, Reaktionszeit.

    Zahlen sind int, Anteile Brüche zwischen 0 und 1, Nicht-Berechenbares ist ``None``.
    """
    counts = route_counts(contacts)
    shares = route_shares(contacts)
    groups = group_shares(contacts)
    rt = response_time(contacts, land)
    return {
        "anzahl": {code: int(counts[code]) for code in ROUTES.codes},
        "anteile": {code: _none_if_nan(float(shares[code])) for code in ROUTES.codes},
        "gruppen": {g: _none_if_nan(float(groups[g])) for g in ROUTES.group_names},
        "reaktionszeit": {
            "n": int(rt.n),
            "median_werktage": rt.median_werktage,
            "quote_binnen_3_werktagen": rt.quote_binnen_3_werktagen,
        },
    }


# --- Standortvergleich -------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteComparison:
    """Zugangsgruppen je Standort mit Chi-Quadrat-Test.

    ``counts``/``shares``: Standorte × Gruppen (ohne Keine Angabe); ``test`` rechnet auf der
    ggf. zusammengefassten Tafel (``merged`` nennt die zusammengelegten Gruppen); ``note``
    ist der deutsche Hinweis für den Bericht.
    """

    counts: pd.DataFrame
    shares: pd.DataFrame
    test: stats.ChiSquareResult | None
    merged: tuple[str, ...]
    excluded_unknown: int
    note: str


#: Merges that keep a meaning, in the order they are tried when expected counts are too small:
#: welcome visits are run by (or for) the youth office; "other" routes join the families' own
#: ways in; then every route through a professional (health or youth services) is one group.
MERGES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("Jugendhilfe und Soziales", "Aufsuchend"), "Jugendhilfe, Soziales und aufsuchend"),
    (("Eigener Zugang", "Sonstige"), "Eigener Zugang und Sonstige"),
    (
        ("Gesundheitswesen", "Jugendhilfe, Soziales und aufsuchend"),
        "Über Fachkräfte (Gesundheit, Jugendhilfe, aufsuchend)",
    ),
)


def _merge_next(table: pd.DataFrame) -> tuple[pd.DataFrame, str] | None:
    """Apply the next meaningful merge whose parts are present; ``None`` when none is left."""
    for parts, name in MERGES:
        present = [p for p in parts if p in table.columns]
        if len(present) < 2:
            continue
        merged = table.drop(columns=present)
        merged[name] = table[present].sum(axis=1)
        return merged, f"„{' + '.join(present)}“ zu „{name}“"
    return None


def _highlights(test: stats.ChiSquareResult, level: float = 0.05) -> str:
    """Deutscher Satz zu den Zellen, deren angepasstes Residuum nach Holm-Korrektur auffällt."""
    cells = [
        (site, group, float(v))
        for site, row in test.residuals.iterrows()
        for group, v in row.items()
    ]
    adjusted = stats.holm_adjust([stats.normal_two_sided_p(v) for _, _, v in cells])
    parts = []
    for (site, group, value), p in zip(cells, adjusted, strict=True):
        if p < level:
            word = "mehr" if value > 0 else "weniger"
            parts.append(f"{site}: {word} Zugänge über „{group}“ als erwartet")
    method = f"angepasste Residuen, p-Werte nach Holm für {len(cells)} Zellen korrigiert"
    if not parts:
        return f"Keine einzelne Zelle weicht nach Korrektur für mehrfaches Testen deutlich ab ({method})."
    return "Auffällig: " + "; ".join(parts) + f" ({method})."


def site_comparison(
    contacts: pd.DataFrame,
    *,
    by: str = "standort_id",
    collapse: bool = True,
    count_excluded: bool = True,
) -> SiteComparison:
    """Unterscheiden sich die Standorte in den Zugangsgruppen? (Chi-Quadrat, Residuen)

    Erstkontakte ohne Angabe zum Zugangsweg bleiben außen vor. Sind die erwarteten
    Häufigkeiten zu klein, werden mit ``collapse`` Gruppen entlang ihrer Bedeutung
    zusammengelegt (``MERGES``: aufsuchend zu Jugendhilfe, Sonstige zu Eigener Zugang,
    dann alle Wege über Fachkräfte), bis der Test verlässlich ist; der Hinweis nennt jede
    Zusammenlegung. Auffällige Zellen: angepasste Residuen, p-Werte nach Holm korrigiert.
    Ohne ``count_excluded`` nennt der Hinweis die Zahl der ausgelassenen Erstkontakte nicht
    (sie ist in der Veröffentlichung geheim).
    """
    known = contacts[_routes(contacts) != UNKNOWN]
    excluded = len(contacts) - len(known)
    sites = known[by].astype("string")
    counts = pd.crosstab(sites, _groups(known)).reindex(
        columns=list(ROUTES.group_names), fill_value=0
    )
    counts = counts.rename_axis(index=by, columns="gruppe")
    row_totals = counts.sum(axis=1).replace(0, np.nan)
    shares = counts.div(row_totals, axis=0)
    table = counts.loc[:, counts.sum(axis=0) > 0]
    test = stats.chi_square_independence(table)
    merged: list[str] = []
    while collapse and test is not None and not test.reliable and table.shape[1] > 2:
        step = _merge_next(table)
        if step is None:
            break
        table, text = step
        merged.append(text)
        test = stats.chi_square_independence(table)
    if test is None:
        note = (
            "Ein Vergleich der Standorte ist nicht möglich: Es braucht mindestens zwei "
            "Standorte und zwei Zugangsgruppen mit Erstkontakten."
        )
    else:
        note = test.note
        if merged:
            note = "Wegen kleiner Zahlen zusammengefasst: " + "; ".join(merged) + ". " + note
    if test is not None and test.reliable and test.p_value < 0.05:
        note += " " + _highlights(test)
    if excluded:
        count = f"{excluded} " if count_excluded else ""
        note += f" {count}Erstkontakte ohne Angabe zum Zugangsweg sind nicht enthalten."
    return SiteComparison(counts, shares, test, tuple(merged), excluded, note)


# --- Entwicklung über die Jahre ----------------------------------------------------------------


def _years(contacts: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(contacts["datum_erstkontakt"]).dt.year.rename("jahr")


def group_shares_by_year(contacts: pd.DataFrame) -> pd.DataFrame:
    """Anteile der Zugangsgruppen je Jahr (Zeilen: Jahre, Spalten: Gruppen) für Verlaufsgrafiken."""
    counts = pd.crosstab(_years(contacts), _groups(contacts)).reindex(
        columns=list(ROUTES.group_names), fill_value=0
    )
    return counts.div(counts.sum(axis=1), axis=0).rename_axis(columns="gruppe")


def stable_sites(contacts: pd.DataFrame, *, by: str = "standort_id") -> list[str]:
    """Sites with first contacts in the first and in the last year of ``contacts``.

    Comparing like with like: a trend over all sites mixes in openings (a new site changes
    the mix of routes); over these sites it does not.
    """
    years = _years(contacts)
    if years.empty:
        return []
    sites = contacts[by].astype("string")
    first = set(sites[years == years.min()].dropna())
    last = set(sites[years == years.max()].dropna())
    return sorted(first & last)


def group_trend(contacts: pd.DataFrame, group: str, *, min_events: int = 10) -> stats.TrendResult:
    """Verändert sich der Anteil einer Zugangsgruppe über die Jahre?

    Quasi-binomiale logistische Regression des Gruppenanteils auf das Jahr mit dem Standort
    als Faktor, nur über die Standorte, die im ersten und im letzten Jahr Erstkontakte
    hatten (Gleiches mit Gleichem: eine Eröffnung verschiebt den Trend nicht); gibt es
    keinen solchen Standort, über alle Erstkontakte zusammen. Bei wenigen Fällen der
    Linear-by-linear-Test auf Trend. Das Ergebnis enthält einen deutschen Satz.
    """
    if group not in ROUTES.group_names:
        raise FhError(
            f"Unbekannte Zugangsgruppe „{group}“. Möglich sind: {', '.join(ROUTES.group_names)}."
        )
    stable = stable_sites(contacts)
    all_sites = contacts["standort_id"].astype("string").dropna().unique()
    part = contacts
    if stable:
        part = contacts[contacts["standort_id"].astype("string").isin(stable).fillna(False)]
    in_group = (_groups(part) == group).fillna(False).astype(int)
    frame = pd.DataFrame(
        {
            "jahr": _years(part),
            "standort": part["standort_id"].astype("string") if stable else "",
            "k": in_group,
        }
    )
    per = frame.groupby(["standort", "jahr"])["k"].agg(["sum", "count"]).reset_index()
    result = stats.share_trend(
        list(per["jahr"]),
        list(per["sum"]),
        list(per["count"]),
        sites=list(per["standort"]) if stable else None,
        min_events=min_events,
    )
    left_out = sorted(set(map(str, all_sites)) - set(stable)) if stable else []
    if left_out:
        note = (
            f"{result.note} Nur Standorte, die im ganzen Zeitraum geöffnet waren; nicht "
            f"enthalten: {', '.join(left_out)}."
        )
        result = replace(result, note=note)
    return result


# --- Weitervermittlung ("Lotsenfunktion") ------------------------------------------------------


def onward_referrals(contacts: pd.DataFrame) -> pd.DataFrame:
    """Kreuztabelle Weitervermittlung (Zeilen, jeder Code) × Zugangsgruppe (Spalten, jede Gruppe).

    Erstkontakte ohne dokumentierte Weitervermittlung stehen in der Zeile ``nicht_dokumentiert``.
    """
    onward = contacts["weitervermittlung"].astype("string").fillna("nicht_dokumentiert")
    table = pd.crosstab(onward, _groups(contacts))
    rows = [*ONWARD.codes, "nicht_dokumentiert"]
    table = table.reindex(index=rows, columns=list(ROUTES.group_names), fill_value=0)
    if table.loc["nicht_dokumentiert"].sum() == 0:
        table = table.drop(index="nicht_dokumentiert")
    return table.astype("int64").rename_axis(index="weitervermittlung", columns="gruppe")


def onward_referral_rates(contacts: pd.DataFrame) -> pd.DataFrame:
    """Anteil der Erstkontakte mit vereinbarter Weitervermittlung je Zugangsgruppe und insgesamt.

    Nenner: Erstkontakte mit dokumentierter Angabe (auch ``keine``); Zähler: Angabe ist nicht
    ``keine``. Mit Wilson-95-%-Intervall; Anteil leer, wenn nichts dokumentiert ist.
    """
    onward = contacts["weitervermittlung"].astype("string")
    groups = _groups(contacts)
    rows = []
    for name, mask in [
        *((g, groups == g) for g in ROUTES.group_names),
        ("Insgesamt", pd.Series(True, index=contacts.index)),
    ]:
        documented = onward[mask.fillna(False)].dropna()
        referred = int((documented != "keine").sum())
        p = stats.wilson_interval(referred, len(documented))
        rows.append(
            {
                "gruppe": name,
                "dokumentiert": len(documented),
                "weitervermittelt": referred,
                "anteil": p.share,
                "untergrenze": p.lower,
                "obergrenze": p.upper,
            }
        )
    return (
        pd.DataFrame(rows)
        .set_index("gruppe")
        .astype({"anteil": "float64", "untergrenze": "float64", "obergrenze": "float64"})
    )


# --- Zuordnung zur Bundesstatistik -------------------------------------------------------------


def _resource(name: str) -> pd.DataFrame:
    text = files("analysis").joinpath("resources", name).read_text(encoding="utf-8")
    return pd.read_csv(StringIO(text), sep=";", dtype="string", keep_default_na=False)


def federal_crosswalk() -> pd.DataFrame:
    """Zuordnung unserer Zugangswege zu den Kategorien „Anregung der Hilfe“ der Kinder- und
    Jugendhilfestatistik (mitgelieferte Tabelle; Quelle und Grenzen in docs/datenlog.md).

    Spalten: zugangsweg, zugangsweg_label, anregung, anregung_label, zuordnung
    (``genau`` / ``näherungsweise`` / ``keine Entsprechung``), hinweis.
    """
    table = _resource("anregung_der_hilfe.csv")
    unknown = set(table["zugangsweg"]) ^ set(ROUTES.codes)
    if unknown:  # pragma: no cover - guards the shipped table against schema drift
        raise RuntimeError(f"Zuordnungstabelle passt nicht zum Datenvertrag: {sorted(unknown)}")
    table.insert(1, "zugangsweg_label", table["zugangsweg"].map(ROUTES.label))
    table = table.set_index("zugangsweg").reindex(list(ROUTES.codes)).reset_index()
    return table.replace({"anregung": {"": pd.NA}, "anregung_label": {"": pd.NA}})


def federal_categories() -> pd.DataFrame:
    """Kategorien „Anregung der Hilfe“ der Bundesstatistik in ihrer Reihenfolge (Code, Label)."""
    return _resource("anregung_kategorien.csv")


def federal_route_counts(contacts: pd.DataFrame) -> pd.DataFrame:
    """Erstkontakte nach Kategorie „Anregung der Hilfe“ (zum Vergleich mit der Bundesstatistik).

    Jede Kategorie erscheint, auch mit 0; ``naeherungsweise`` zählt, wie viele davon über eine
    nur näherungsweise Zuordnung kommen. Erstkontakte ohne Angabe bleiben außen vor.
    """
    crosswalk = federal_crosswalk().dropna(subset=["anregung"])
    counts = route_counts(contacts)
    merged = crosswalk.assign(anzahl=crosswalk["zugangsweg"].map(counts).astype("int64"))
    merged["naeherungsweise"] = merged["anzahl"].where(merged["zuordnung"] != "genau", 0)
    by_cat = merged.groupby("anregung")[["anzahl", "naeherungsweise"]].sum()
    cats = federal_categories().set_index("anregung")
    out = cats.join(by_cat).fillna({"anzahl": 0, "naeherungsweise": 0})
    return out.astype({"anzahl": "int64", "naeherungsweise": "int64"})
