"""Zeilen gegen den Datenvertrag prüfen: Typen, Kategorien, Bereiche, Schlüssel.

Vectorised pandas (not pandera/frictionless: we need every German reason of a row with its
source line); accepted rows in the processed dtypes, rejects with file, line and reasons.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from analysis import formatting
from analysis.config import Config
from analysis.contract.safety import canonical_site_id, site_id_problem
from analysis.contract.schema import (
    CATEGORIES,
    DATE_FLOOR,
    GESAMT,
    JN_ALIASES,
    JN_CODES,
    Column,
    Table,
    fold_value,
)
from analysis.ingest.read import ENCODING_COL, ENCODING_KIND, FILE_COL, LINE_COL

_GERMAN_NUMBER = r"[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?"
_PLAIN_NUMBER = r"[+-]?\d+(?:\.\d+)?"
_DMY = r"\d{1,2}\.\d{1,2}\.\d{4}"
_ISO = r"\d{4}-\d{2}-\d{2}"

# --------------------------------------------------------------------------- parsing values


def _factorize(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Row codes and distinct values: parsers run on the few distinct values only."""
    codes, uniques = pd.factorize(values.fillna(""))
    return codes, pd.Series(np.asarray(uniques, dtype=object), dtype="str")


def parse_numbers(text: pd.Series) -> pd.Series:
    """German (``12.190.000,00``) or plain (``12190000.00``) numbers, optional ``€``."""
    t = text.str.replace(r"[\s\u00a0\u202f]", "", regex=True).str.removesuffix("€")
    german = t.str.fullmatch(_GERMAN_NUMBER) & (
        t.str.contains(",", regex=False) | t.str.contains(r"\d\.\d{3}(?:\.|$)", regex=True)
    )
    plain = t.str.fullmatch(_PLAIN_NUMBER) & ~german
    g = t.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    normal = g.where(german, t.where(plain))
    values = pd.to_numeric(normal, errors="coerce").astype("float64")
    return values.where(np.isfinite(values))  # 400 nines are not a number anyone meant


def _parse_dates_us(text: pd.Series) -> pd.Series:
    """Dates at microsecond resolution, which holds every four-digit year (ns ends in 2262)."""
    dmy = pd.to_datetime(text.where(text.str.fullmatch(_DMY)), format="%d.%m.%Y", errors="coerce")
    iso = pd.to_datetime(text.where(text.str.fullmatch(_ISO)), format="%Y-%m-%d", errors="coerce")
    return dmy.fillna(iso).astype("datetime64[us]")


def parse_dates(text: pd.Series) -> pd.Series:
    """``TT.MM.JJJJ`` or ISO ``JJJJ-MM-TT``; anything else (or 31.02., or a year the
    processed format cannot hold, such as 1677 or 2999) is NaT."""
    values = _parse_dates_us(text)
    representable = values.between(pd.Timestamp.min, pd.Timestamp.max)
    return values.where(representable).astype("datetime64[ns]")


def _category_lookup(column: Column, config: Config | None) -> dict[str, str]:
    """Folded spelling -> code: codes, German labels, jn aliases and the installation's mapping."""
    if column.type == "jn":
        category = CATEGORIES["jn"]
        lookup = {fold_value(k): v for k, v in JN_ALIASES.items()}
    else:
        assert column.category is not None
        category = CATEGORIES[column.category]
        lookup = {}
    for code, label in category.labels.items():
        lookup.setdefault(fold_value(label), code)
        lookup[fold_value(code)] = code
    if config is not None:
        for key in dict.fromkeys((column.name, category.name)):
            lookup.update(config.label_mappings.get(key, {}))
    return lookup


# --------------------------------------------------------------------------- validation


#: A value quoted in a reason is cut to this length (the rejects file keeps it whole).
_SHOWN_CHARS = 100


class _Reasons:
    """Collects, per check, which rows fail and a German reason (with the value) for each.

    Reason texts are built only for the failing rows, so a clean million-row table costs
    one boolean mask per check and nothing more.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.bad = np.zeros(n, dtype=bool)
        self.parts: list[pd.Series] = []
        self.counts: Counter[str] = Counter()

    def add(
        self,
        mask: pd.Series | np.ndarray,
        kind: str,
        prefix: str,
        value: pd.Series | np.ndarray | None = None,
        suffix: str = "",
        quote: bool = True,
    ) -> None:
        m = np.asarray(mask, dtype=bool)
        hits = int(m.sum())
        if not hits:
            return
        self.bad |= m
        self.counts[kind] += hits
        idx = np.flatnonzero(m)
        if value is None:
            part = pd.Series(prefix, index=idx, dtype=object)
        else:
            # Only the failing rows become Python objects, not the whole column (a million
            # text cells cost 0.07 s and a hundred MB each time a check finds a row).
            picked = value.iloc[idx] if isinstance(value, pd.Series) else np.asarray(value)[idx]
            shown = pd.Series(np.asarray(picked, dtype=object), index=idx, dtype=object)
            shown = shown.fillna("").astype(str)
            if quote:  # a raw value (our own texts come unquoted): cut a blob short
                long = shown.str.len() > _SHOWN_CHARS
                if long.any():
                    shown = shown.where(~long, shown.str.slice(0, _SHOWN_CHARS - 1) + "…")
                shown = "„" + shown + "“"
            part = prefix + shown + suffix
        self.parts.append(part)

    def joined(self) -> pd.Series:
        if not self.parts:
            return pd.Series([], dtype=object)
        allparts = pd.concat(self.parts)
        return allparts.groupby(level=0, sort=True).agg("; ".join)


def _validate_column(
    col: Column,
    raw: pd.Series,
    reasons: _Reasons,
    config: Config | None,
    today: date,
) -> pd.Series:
    """Parse one column to its processed dtype and record every row that breaks a rule."""
    codes, uniq = _factorize(raw)
    empty = (uniq == "").to_numpy()[codes]
    must = col.required or col.not_null
    if must:
        reasons.add(empty, f"{col.name}: Pflichtangabe fehlt", f"{col.name}: Pflichtangabe fehlt")
    if col.type == "str" and col.site_id:
        # The id becomes a folder and URL part: stored in its canonical form, or rejected.
        problems = [site_id_problem(v) if v else None for v in uniq.tolist()]
        broken = np.array([p is not None for p in problems], dtype=bool)[codes]
        reasons.add(
            broken,
            f"{col.name}: keine gültige Standortkennung",
            f"{col.name}: ",
            np.array([p or "" for p in problems], dtype=object)[codes],
            quote=False,
        )
        canon = np.array([canonical_site_id(v) if v else None for v in uniq.tolist()], object)
        return pd.Series(canon[codes], index=raw.index, dtype=pd.StringDtype()).mask(empty)
    if col.type == "str":
        return raw.astype(pd.StringDtype()).mask(empty)
    if col.type in ("int", "float"):
        values = pd.Series(parse_numbers(uniq).to_numpy()[codes], index=raw.index)
        invalid = values.isna().to_numpy() & ~empty
        if col.type == "int":
            frac = (values % 1 != 0).to_numpy() & ~invalid & ~empty
            huge = (values.abs() > 2**53).to_numpy() & ~empty
            invalid |= frac | huge
            reasons.add(
                invalid,
                f"{col.name}: keine ganze Zahl",
                f"{col.name}: ",
                raw,
                " ist keine ganze Zahl",
            )
        else:
            reasons.add(invalid, f"{col.name}: keine Zahl", f"{col.name}: ", raw, " ist keine Zahl")
        lower = col.lower
        upper = float(today.year) if col.max_is_current_year else col.max
        out_low = (values < lower).to_numpy() if lower is not None else np.zeros(len(raw), bool)
        out_high = (values > upper).to_numpy() if upper is not None else np.zeros(len(raw), bool)
        out = (out_low | out_high) & ~invalid
        span = (
            f"{formatting.bound(lower)} bis {formatting.bound(upper)}"
            if upper is not None
            else f"mindestens {formatting.bound(lower)}"
        )
        reasons.add(
            out,
            f"{col.name}: außerhalb des zulässigen Bereichs",
            f"{col.name}: ",
            raw,
            f" liegt außerhalb des zulässigen Bereichs ({span})",
        )
        values = values.mask(invalid | out)
        if col.type == "int":
            return values.round().astype("Int64")
        return values.astype("float64")
    if col.type == "date":
        values = pd.Series(_parse_dates_us(uniq).to_numpy()[codes], index=raw.index)
        invalid = values.isna().to_numpy() & ~empty
        reasons.add(
            invalid,
            f"{col.name}: kein gültiges Datum",
            f"{col.name}: ",
            raw,
            " ist kein gültiges Datum (TT.MM.JJJJ oder JJJJ-MM-TT)",
        )
        # Every date lies between the plausible floor and today: a typo such as 01.01.1900
        # would otherwise stretch the report plan back by a century, 2999 is no date at all.
        floor = config.date_floor if config is not None else DATE_FLOOR
        future = (values > pd.Timestamp(today)).to_numpy()
        early = (values < pd.Timestamp(floor)).to_numpy()
        reasons.add(
            future,
            f"{col.name}: Datum liegt in der Zukunft",
            f"{col.name}: ",
            raw,
            " liegt in der Zukunft",
        )
        reasons.add(
            early,
            f"{col.name}: Datum vor dem {formatting.day(floor)}",
            f"{col.name}: ",
            raw,
            f" liegt vor dem {formatting.day(floor)} (frühestes plausibles Datum, "
            "einstellbar in fh-analytik.toml: [aufbereitung] fruehestes_datum)",
        )
        return values.mask(future | early).astype("datetime64[ns]")
    # cat / jn: map the distinct spellings to category positions, then spread them
    lookup = _category_lookup(col, config)
    names = tuple(JN_CODES) if col.type == "jn" else CATEGORIES[col.category or ""].codes
    position = {code: i for i, code in enumerate(names)}
    uniq_pos = np.array(
        [position.get(lookup.get(fold_value(v), ""), -1) for v in uniq.tolist()], dtype=np.int64
    )
    row_pos = uniq_pos[codes] if len(codes) else np.zeros(0, dtype=np.int64)
    invalid = (row_pos < 0) & ~empty
    reasons.add(
        invalid,
        f"{col.name}: unbekannter Wert",
        f"{col.name}: ",
        raw,
        " ist kein bekannter Wert (Code oder Bezeichnung der Liste)",
    )
    filler = position["unbekannt"] if "unbekannt" in position and not must else -1
    row_pos = np.where(empty, filler, row_pos)
    dtype = pd.CategoricalDtype(list(names))
    return pd.Series(pd.Categorical.from_codes(row_pos, dtype=dtype), index=raw.index)


def _site_lookup(sites: pd.Series) -> dict[str, str]:
    """Spelling in another table -> accepted ``standort_id`` (folded as the id rule folds)."""
    return {canonical_site_id(site): site for site in sites.dropna().astype(str)}


@dataclass
class _Checked:
    accepted: pd.DataFrame  # processed dtypes, schema order
    rejects: pd.DataFrame  # datei, zeile, gruende, raw values
    reason_counts: Counter[str]


def validate(
    table: Table,
    raw: pd.DataFrame,
    *,
    sites: pd.Series | None,
    config: Config | None,
    today: date,
) -> _Checked:
    """Validate well-formed rows (all text) of one table; vectorised over the whole table."""
    n = len(raw)
    raw = raw.reset_index(drop=True)
    reasons = _Reasons(n)
    typed: dict[str, pd.Series] = {}
    if ENCODING_COL in raw.columns:  # set by `read` for lines not valid in their file's encoding
        reasons.add(
            raw[ENCODING_COL].to_numpy() != "", ENCODING_KIND, "", raw[ENCODING_COL], quote=False
        )
    for col in table.columns:
        typed[col.name] = _validate_column(col, raw[col.name], reasons, config, today)

    site_map = _site_lookup(sites) if sites is not None else {}
    references = []
    if table.site_column and sites is not None:
        references.append((table.site_column, site_map, False))
    if table.area_column and sites is not None:
        references.append((table.area_column, {**site_map, GESAMT: GESAMT}, True))
    for c, known, area in references:
        codes, uniq = _factorize(raw[c])
        canon_u = [known.get(canonical_site_id(v)) if v else "" for v in uniq.tolist()]
        unknown = np.array([v is None for v in canon_u], dtype=bool)[codes]
        if area:
            kind, text = (
                f"{c}: weder Standort noch gesamt",
                " ist weder ein Standort aus standorte noch „gesamt“",
            )
        else:
            kind, text = (
                f"{c}: Standort unbekannt",
                " gibt es in der Tabelle standorte nicht (oder die Zeile wurde dort abgelehnt)",
            )
        prefix = f"{c}: " if area else f"{c}: Standort unbekannt – "
        reasons.add(unknown, kind, prefix, raw[c], text)
        if any(v is not None and v != u for v, u in zip(canon_u, uniq.tolist(), strict=True)):
            # e.g. `Gesamt` -> `gesamt`, `Rheindorf` -> `rheindorf`: store the canonical id
            canon = np.array([v if v else None for v in canon_u], dtype=object)[codes]
            typed[c] = pd.Series(canon, index=raw.index, dtype=pd.StringDtype())

    for rule in table.row_rules:
        left, right = typed[rule.left], typed[rule.right]
        broken = (left > right).fillna(False).to_numpy(dtype=bool)
        reasons.add(broken, rule.reason, rule.reason)

    if table.key:
        keys = pd.DataFrame({k: typed[k] for k in table.key})
        usable = keys.notna().all(axis=1).to_numpy()
        sub = keys[usable]
        dup_sub = sub.duplicated(keep="first").to_numpy()
        if dup_sub.any():
            pos = pd.Series(np.flatnonzero(usable), index=sub.index)
            first = pos.groupby([sub[k] for k in table.key], sort=False, observed=True).transform(
                "first"
            )
            dup = np.zeros(n, dtype=bool)
            dup[np.flatnonzero(usable)[dup_sub]] = True
            first_pos = np.zeros(n, dtype=np.int64)
            first_pos[np.flatnonzero(usable)] = first.to_numpy()
            where = np.full(n, "", dtype=object)
            hit = np.flatnonzero(dup)
            files = raw[FILE_COL].to_numpy(dtype=object)
            lines = raw[LINE_COL].to_numpy()
            where[hit] = [
                f"zuerst in {files[i]}, Zeile {lines[i]}" for i in first_pos[hit]
            ]  # only the (few) duplicate rows
            label = ", ".join(table.key)
            reasons.add(
                dup,
                f"Doppelter Schlüssel ({label})",
                f"Doppelter Schlüssel ({label}) – ",
                where,
                quote=False,
            )

    if table.total_column:
        c = table.total_column
        group = [k for k in table.key if k != c]
        frame = pd.DataFrame({k: typed[k] for k in [*group, c]})
        usable = frame.notna().all(axis=1).to_numpy()
        sub = frame[usable]
        is_total = sub[c].astype(object) == GESAMT
        by = [sub[k] for k in group]
        both_sub = (is_total.groupby(by, observed=True).transform("any")) & (
            (~is_total).groupby(by, observed=True).transform("any")
        )
        both = np.zeros(n, dtype=bool)
        both[np.flatnonzero(usable)] = both_sub.to_numpy(dtype=bool)
        label = " und ".join(group)
        reasons.add(
            both,
            f"{label} sowohl als {GESAMT} als auch nach {c} angegeben",
            f"{label} ",
            frame[group[0]].astype(object),
            f" ist sowohl als „{GESAMT}“ als auch nach {c} aufgeteilt angegeben – alle Zeilen "
            "dieser Gruppe abgelehnt, sonst würde doppelt gezählt",
            quote=False,
        )

    bad = reasons.bad
    if bad.any():
        accepted = pd.DataFrame({name: s[~bad] for name, s in typed.items()})
        accepted = accepted.reset_index(drop=True)
    else:  # the usual case: no copy of a million rows just to drop none
        accepted = pd.DataFrame(typed).reset_index(drop=True)
    rejected_raw = raw.loc[bad]
    rejects = pd.DataFrame(
        {
            "datei": rejected_raw[FILE_COL].astype(str),
            "zeile": rejected_raw[LINE_COL].astype("int64"),
            "gruende": reasons.joined().reindex(rejected_raw.index),
        }
    )
    # The original values of the contract's columns only: a column outside the contract (a
    # free-text remark, say) is never copied anywhere, the rejects file included.
    rejects = pd.concat([rejects, rejected_raw[list(table.column_names)]], axis=1)
    if "_ordnung" in raw.columns:
        rejects["_ordnung"] = rejected_raw["_ordnung"]
    return _Checked(accepted, rejects, reasons.counts)
