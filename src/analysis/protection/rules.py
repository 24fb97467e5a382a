"""Geheimhaltung: kleine Fallzahlen und daraus rückrechenbare Werte nicht veröffentlichen.

Primary suppression (a count below the configured minimum, zeros excepted), shares and
means that rest on such counts, secondary suppression so a hidden cell cannot be recomputed
from a total, and optional rounding to multiples of 5. One rule for ``kennzahlen``
(:func:`protect_indicators`) and for every report table (:func:`protect_table`).

How to use it for a report table::

    pt = protect_table(table, config.min_count, count_columns=["Erstkontakte"],
                       total_row="Insgesamt", share_columns={"Anteil": Share("Erstkontakte",
                       denominator_row="Insgesamt")}, round_to_5=config.round_to_5)
    pt.formatted()      # German strings, "•" for hidden cells (HTML/Excel/PDF)
    pt.with_marks()     # raw values, "•" in hidden cells (for writers that format themselves)
    pt.to_html()        # table plus footnote
    pt.footnote         # German footnote text ("" when nothing was hidden or rounded)
"""

from __future__ import annotations

import copy
import html
import math
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analysis import formatting
from analysis.contract.schema import CATEGORIES
from analysis.formatting import SUPPRESSED
from analysis.indicators.catalogue import CATALOGUE, Indicator

DEFAULT_MIN_COUNT = 3

#: Rendering kinds for :meth:`ProtectedTable.formatted`.
Formatter = str | Callable[[Any], str]


def is_small(value: Any, min_count: int) -> bool:
    """A count that must not be published: above 0 and below ``min_count``."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return False
    return 0 < value < min_count


def round_to_five(value: int | float) -> int:
    """Nearest multiple of 5 (halves up): 2 → 0, 3 → 5, 12 → 10, 13 → 15."""
    return int(5 * math.floor(value / 5 + 0.5))


def footnote_text(min_count: int, *, hidden: bool, rounded: bool) -> str:
    """The German footnote for a protected table or value list."""
    parts = []
    if hidden:
        parts.append(
            f"{SUPPRESSED} Aus Gründen der Geheimhaltung nicht ausgewiesen: Fallzahl unter "
            f"{min_count} (außer 0), ein darauf beruhender Anteil oder Mittelwert oder ein Wert, "
            "aus dem sich ein solcher über die Summe zurückrechnen ließe."
        )
    if rounded:
        parts.append(
            "Fallzahlen auf ein Vielfaches von 5 gerundet; Anteile und Intervalle aus den "
            "gerundeten Fallzahlen berechnet. Summen können daher von der Summe der "
            "Einzelwerte abweichen."
        )
    return " ".join(parts)


def _secondary(
    lines: Iterable[tuple[Sequence[Hashable], Hashable]],
    value: Callable[[Hashable], Any],
    hidden: set[Hashable],
) -> None:
    """Hide further cells until no line (parts + total) has exactly one hidden cell.

    Within such a line the next-smallest visible non-zero part is hidden, else the total.
    """
    lines = list(lines)
    changed = True
    while changed:
        changed = False
        for parts, total in lines:
            members = [*parts, total]
            if sum(m in hidden for m in members) != 1:
                continue
            candidates = []
            for m in (*parts, total):
                v = value(m)
                if m in hidden or v is None or pd.isna(v) or v == 0:
                    continue
                candidates.append((m == total, v, m))
            if not candidates:
                continue
            # Prefer a part over the total, then the smallest value.
            candidates.sort(key=lambda c: (c[0], c[1]))
            hidden.add(candidates[0][2])
            changed = True


# --- indicator values (kennzahlen) -------------------------------------------------------------
_MISSING = object()


def _get(values: Mapping[str, Any], path: str) -> Any:
    node: Any = values
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _set(values: dict[str, Any], path: str, new: Any) -> None:
    *parents, last = path.split(".")
    node = values
    for part in parents:
        node = node[part]
    node[last] = new


def _additive_lines() -> list[tuple[list[str], str]]:
    """Indicator counts that add up to a published total (for secondary suppression)."""
    total = "reichweite.erstkontakte"
    return [
        ([f"reichweite.lebensphase.{c}" for c in CATEGORIES["lebensphase_kind"].codes], total),
        ([f"zugangswege.anzahl.{c}" for c in CATEGORIES["zugangsweg"].codes], total),
    ]


def _group_members() -> dict[str, list[str]]:
    """Access-route group shares and the counts they add up (a group share reveals their sum)."""
    category = CATEGORIES["zugangsweg"]
    out: dict[str, list[str]] = {}
    for code, group in category.groups.items():
        out.setdefault(f"zugangswege.gruppen.{group}", []).append(f"zugangswege.anzahl.{code}")
    return out


def _share_hidden(
    ind: Indicator, flat: Mapping[str, Any], hidden: set[str], min_count: int
) -> bool:
    share = flat[ind.key]
    denominator = flat.get(ind.denominator_key) if ind.denominator_key else None
    if ind.denominator_key and (ind.denominator_key in hidden or is_small(denominator, min_count)):
        return True
    if ind.numerator_key:
        numerator = flat.get(ind.numerator_key)
        if ind.numerator_key in hidden or is_small(numerator, min_count):
            return True
    elif (
        ind.unit == "anteil"
        and denominator not in (None, _MISSING)
        and share is not None
        # The numerator is not published but follows from share x denominator.
        and is_small(round(share * denominator), min_count)
    ):
        return True
    return any(m in hidden for m in _group_members().get(ind.key, []))


def _rounded_share(ind: Indicator, flat: Mapping[str, Any]) -> float | None:
    """A share (or amount per count) recomputed from the rounded counts it rests on."""
    if ind.unit == "je_1000" or ind.key.rsplit(".", 1)[-1] in ("untergrenze", "obergrenze"):
        # Rates per 1,000 (their denominator is prorated by months) and interval bounds
        # cannot be recomputed from rounded counts alone: not shown beside rounded counts.
        return None
    den = flat.get(ind.denominator_key) if ind.denominator_key else None
    if den in (None, _MISSING) or den <= 0:
        return None  # nothing published to recompute it from: not shown beside rounded counts
    den5 = round_to_five(den)
    if den5 <= 0:
        return None
    if ind.unit == "euro":  # an amount per first contact: the amount over the rounded count
        return flat[ind.key] * den / den5
    num = flat.get(ind.numerator_key) if ind.numerator_key else round(flat[ind.key] * den)
    return round_to_five(num) / den5


def protect_indicators(
    values: Mapping[str, Any],
    min_count: int = DEFAULT_MIN_COUNT,
    round_to_5: bool = False,
    decided: Mapping[str, bool] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """Apply the confidentiality rule to nested indicator values (the ``kennzahlen`` JSON).

    Driven by ``indicators.CATALOGUE``: counts (``anzahl``) below ``min_count`` except 0,
    shares whose numerator or denominator is such a count (or is hidden), means/medians
    based on fewer than ``min_count`` cases; lebensphase and zugangsweg counts get secondary
    suppression against ``reichweite.erstkontakte``. Returns a copy with hidden values set
    to ``None`` and the hidden paths in catalogue order. Values already ``None`` are not listed.

    ``decided``: path -> hidden? as the year's publication decided it (counts, and for a
    share the count it reveals); those paths follow the publication, which was audited
    as a whole, instead of the per-value rule and the secondary suppression here.
    """
    decided = dict(decided or {})
    flat = {k: v for k in CATALOGUE if (v := _get(values, k)) is not _MISSING}
    hidden: set[str] = set()
    for key, value in flat.items():
        if decided.get(key) or (
            key not in decided
            and CATALOGUE[key].protection == "anzahl"
            and is_small(value, min_count)
        ):
            hidden.add(key)
    lines = [([p for p in parts if p in flat], t) for parts, t in _additive_lines() if t in flat]
    lines = [(ps, tot) for ps, tot in lines if any(k not in decided for k in (*ps, tot))]
    _secondary(lines, lambda k: flat.get(k), hidden)
    for key, value in flat.items():
        ind = CATALOGUE[key]
        if value is None or key in hidden:
            continue
        if ind.protection == "anteil" and _share_hidden(ind, flat, hidden, min_count):
            hidden.add(key)
        elif ind.protection == "mittelwert" and ind.cases_key:
            cases = flat.get(ind.cases_key)
            if ind.cases_key in hidden or (cases is not None and cases < min_count):
                hidden.add(key)
    out = copy.deepcopy(dict(values))
    for key in flat:
        ind = CATALOGUE[key]
        if key in hidden:
            _set(out, key, None)
        elif round_to_5 and ind.protection == "anzahl" and flat[key] is not None:
            _set(out, key, round_to_five(flat[key]))
        elif round_to_5 and ind.protection == "anteil" and flat[key] is not None:
            _set(out, key, _rounded_share(ind, flat))
    listed = [k for k in CATALOGUE if k in hidden and flat[k] is not None]
    return out, listed


# --- tables ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Share:
    """Where a share (or interval bound) column takes its numerator and denominator from.

    ``numerator`` / ``denominator`` name count columns of the same row; ``denominator_row``
    instead takes the denominator from that row (e.g. the total row) of the numerator column.
    """

    numerator: str | None = None
    denominator: str | None = None
    denominator_row: Hashable | None = None


@dataclass(frozen=True, eq=False)
class ProtectedTable:
    """A table after the confidentiality rule.

    ``values``: the table with hidden cells set to missing (safe to export); ``hidden``: a
    boolean frame of the same shape; ``footnote``: German text for under the table.
    ``kinds``: how each column is rendered (``anzahl``, ``anteil``, ``zahl1``, ``zahl2``,
    ``euro``, ``euro2``, ``prozent`` (a change in percent, with sign), ``text``).
    """

    values: pd.DataFrame
    hidden: pd.DataFrame
    footnote: str
    min_count: int
    rounded: bool
    kinds: dict[str, str] = field(default_factory=dict)

    @property
    def any_hidden(self) -> bool:
        return bool(self.hidden.to_numpy().any())

    def formatted(self, formats: Mapping[str, Formatter] | None = None) -> pd.DataFrame:
        """The table as German-formatted strings; hidden cells read ``•``, missing ``–``.

        ``formats`` overrides a column's kind (see class doc) or gives a callable.
        """
        kinds: dict[str, Formatter] = {**self.kinds, **(formats or {})}
        out = {}
        for col in self.values.columns:
            fmt = kinds.get(col, "text")
            cells = []
            for value, hide in zip(self.values[col], self.hidden[col], strict=True):
                cells.append(SUPPRESSED if hide else _render(value, fmt))
            out[col] = cells
        frame = pd.DataFrame(out, index=[str(i) for i in self.values.index], dtype=object)
        frame.index.name = self.values.index.name
        return frame

    def with_marks(self) -> pd.DataFrame:
        """The values as objects with ``•`` in hidden cells, for table writers that format
        numbers themselves (e.g. ``report_cells.show_table``)."""
        out = self.values.astype(object).where(~self.hidden, SUPPRESSED)
        return out.where(out.notna(), None)

    def to_string(self, formats: Mapping[str, Formatter] | None = None) -> str:
        """Plain-text table (right-aligned) with the footnote below."""
        text = self.formatted(formats).to_string()
        return f"{text}\n{self.footnote}" if self.footnote else text

    def to_html(
        self, formats: Mapping[str, Formatter] | None = None, *, caption: str | None = None
    ) -> str:
        """HTML table (escaped) with caption and footnote, for reports."""
        table = self.formatted(formats).to_html(escape=True, border=0, classes="fh-tabelle")
        if caption:
            table = table.replace(">", f"><caption>{html.escape(caption)}</caption>", 1)
        if self.footnote:
            table += f'\n<p class="fussnote">{html.escape(self.footnote)}</p>'
        return table


def _render(value: Any, fmt: Formatter) -> str:
    if callable(fmt):
        return fmt(value)
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return formatting.MISSING
    text = formatting.as_kind(value, fmt)
    return str(value) if text is None else text


def _default_kinds(
    df: pd.DataFrame,
    count_columns: Sequence[str],
    shares: Mapping[str, Share],
    means: Mapping[str, str],
) -> dict[str, str]:
    kinds: dict[str, str] = {}
    for col in df.columns:
        if col in count_columns:
            kinds[col] = "anzahl"
        elif col in shares:
            kinds[col] = "anteil"
        elif col in means:
            kinds[col] = "zahl1"
        elif pd.api.types.is_integer_dtype(df[col].dtype):
            kinds[col] = "anzahl"
        elif pd.api.types.is_float_dtype(df[col].dtype):
            kinds[col] = "zahl2"
        else:
            kinds[col] = "text"
    return kinds


def _shares_from_rounded(
    df: pd.DataFrame, values: pd.DataFrame, mask: pd.DataFrame, shares: Mapping[str, Share]
) -> None:
    """With rounding to 5, a share next to rounded counts is computed from them: the exact
    share times the published n would give the exact count back. Interval bounds are the
    Wilson interval of the rounded counts; other derived columns scale with the share."""
    from analysis.indicators.stats import wilson_interval

    for col, src in shares.items():
        if src.numerator is None:
            continue
        for r in df.index:
            if bool(mask.at[r, col]) or pd.isna(values.at[r, col]):
                continue
            num = df.at[r, src.numerator]
            den = (
                df.at[src.denominator_row, src.numerator]
                if src.denominator_row is not None
                else df.at[r, src.denominator]
                if src.denominator
                else None
            )
            if den is None or pd.isna(num) or pd.isna(den) or den <= 0:
                continue
            num5, den5 = round_to_five(num), round_to_five(den)
            if den5 <= 0:
                values.at[r, col] = None
                mask.at[r, col] = True
                continue
            if col in ("Untergrenze", "Obergrenze"):
                if num5 > den5:
                    continue
                p = wilson_interval(int(num5), int(den5))
                values.at[r, col] = p.lower if col == "Untergrenze" else p.upper
            elif num > 0:
                values.at[r, col] = float(values.at[r, col]) * (num5 / den5) / (num / den)


def protect_table(
    df: pd.DataFrame,
    min_count: int = DEFAULT_MIN_COUNT,
    *,
    count_columns: Sequence[str],
    total_row: Hashable | None = None,
    total_column: str | None = None,
    share_columns: Mapping[str, Share] | None = None,
    mean_columns: Mapping[str, str] | None = None,
    round_to_5: bool = False,
    decided: Callable[[Hashable, str], bool | None] | None = None,
) -> ProtectedTable:
    """Apply the confidentiality rule to a report table.

    - ``count_columns``: columns of published case counts; a cell 0 < x < ``min_count`` is hidden.
    - ``total_row`` (index label) / ``total_column``: totals of the count cells; every row and
      every count column with a total gets secondary suppression (iterated until stable).
    - ``share_columns``: share / interval columns and their :class:`Share` source; hidden when
      the numerator or denominator cell is hidden or small.
    - ``mean_columns``: mean/median column → column with its number of cases; hidden when the
      cases are fewer than ``min_count``.
    - ``round_to_5``: visible counts rounded to multiples of 5 (shares stay exact).
    - ``decided``: ``(row, column) -> hidden?`` for count cells whose fate the publication
      decided (``protection.publication``: the same value is hidden everywhere it appears,
      and the year's audit covers every line between them); ``None`` for a cell the
      publication does not know, which gets the table rule above.
    """
    shares = dict(share_columns or {})
    means = dict(mean_columns or {})
    for col in [*count_columns, *shares, *means.values()]:
        if col not in df.columns:
            raise KeyError(f"column {col!r} not in table")
    if total_row is not None and total_row not in df.index:
        raise KeyError(f"total row {total_row!r} not in table")
    if total_column is not None and total_column not in count_columns:
        raise KeyError(f"total column {total_column!r} must be a count column")

    rows = list(df.index)
    cells = {(r, c): df.at[r, c] for r in rows for c in count_columns}
    fate = {cell: decided(*cell) for cell in cells} if decided else {}
    hidden: set[Hashable] = {
        cell
        for cell, v in cells.items()
        if fate.get(cell) or (fate.get(cell) is None and is_small(v, min_count))
    }
    lines: list[tuple[list[Hashable], Hashable]] = []
    if total_column is not None:
        parts_cols = [c for c in count_columns if c != total_column]
        lines += [([(r, c) for c in parts_cols], (r, total_column)) for r in rows]
    if total_row is not None:
        part_rows = [r for r in rows if r != total_row]
        lines += [([(r, c) for r in part_rows], (total_row, c)) for c in count_columns]
    # Lines whose every cell the publication decided were audited with the whole year.
    lines = [(ps, tot) for ps, tot in lines if any(fate.get(c) is None for c in (*ps, tot))]
    _secondary(lines, lambda cell: cells.get(cell), hidden)

    mask = pd.DataFrame(False, index=df.index, columns=df.columns)
    for r, c in hidden:
        mask.at[r, c] = True
    for col, src in shares.items():
        for r in rows:
            num = (r, src.numerator) if src.numerator else None
            if src.denominator_row is not None and src.numerator:
                den = (src.denominator_row, src.numerator)
            else:
                den = (r, src.denominator) if src.denominator else None
            if any(
                cell is not None
                and (
                    cell in hidden
                    or (fate.get(cell) is None and is_small(cells.get(cell), min_count))
                )
                for cell in (num, den)
            ):
                mask.at[r, col] = True
    for col, cases_col in means.items():
        for r in rows:
            cases = df.at[r, cases_col]
            if (r, cases_col) in hidden or (not pd.isna(cases) and cases < min_count):
                mask.at[r, col] = True

    values = df.mask(mask)
    if round_to_5:
        values = values.copy()
        for col in count_columns:
            values[col] = (
                values[col]
                .map(lambda v: v if pd.isna(v) else round_to_five(v))
                .astype(df[col].dtype)
            )
        _shares_from_rounded(df, values, mask, shares)
    any_hidden = bool(mask.to_numpy().any())
    return ProtectedTable(
        values=values,
        hidden=mask,
        footnote=footnote_text(min_count, hidden=any_hidden, rounded=round_to_5),
        min_count=min_count,
        rounded=round_to_5,
        kinds=_default_kinds(df, count_columns, shares, means),
    )
