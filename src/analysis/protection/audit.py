"""Disclosure audit and secondary suppression for a publication of counts, by linear programming.

Why this exists: the per-table rule "no line with exactly one hidden cell" is necessary but not
sufficient. Combining rows, columns and linked tables, a reader can still solve for a hidden
small count (or narrow it down to a small range). The only reliable test is the one an attacker
would run: for every hidden cell, the smallest and largest value it can take given everything
that is published. That is a pair of linear programs per hidden cell.

Model: a publication is a set of cells with true values and linear equations between them
(``total - part_1 - part_2 = 0``). Several tables are linked by the caller by giving the same
quantity the same cell id in every table, so the engine only ever sees one linear system.
Published cells are either exact or, when rounded, known to lie in an interval.

- :func:`audit` computes the feasible interval of every hidden cell and decides for every
  sensitive cell whether it is protected.
- :func:`protect` chooses secondary suppressions (Fischetti–Salazar style: one small MILP per
  sensitive cell and direction) so that :func:`audit` passes.

Protection rule, for a sensitive cell with true value ``x``, protection level ``p`` and a-priori
bounds ``[lb, ub]`` (default ``[0, inf)``): the attacker's interval ``[lower, upper]`` must reach
``upper >= min(ub, x + p)`` and ``lower <= max(lb, x - p)`` (with tolerance :data:`TOL`), and it
must not be degenerate. The reader can then neither pin the value down nor tell that it is small.

Everything here is pure: no I/O, no printing, no global state; the same input gives the same
output (cells are ordered internally by ``repr`` and the solvers are deterministic).
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Collection, Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

#: Absolute tolerance for "reaches the required bound" and "exactly determined". The values are
#: counts, so anything closer than this is numerical noise of the solver, not a real margin.
TOL = 1e-6

#: Relative tolerance when checking that the true values satisfy the equations.
_EQUATION_TOL = 1e-9

#: How often :func:`protect` re-runs its pass over the sensitive cells before giving up. One pass
#: is enough in exact arithmetic; the extra passes only absorb solver tolerances.
_MAX_ROUNDS = 3

#: Equation hops around a sensitive cell for the first, smallest suppression MILP. Two hops cover
#: the whole table of the cell (row and column, then every column of that row); the neighbourhood
#: doubles until it is the full connected component.
_FIRST_HOPS = 2

#: When more new cells than this of one equation (the sum of one quantity over many sites)
#: could join a neighbourhood, only this many do, see :class:`_Thinning`. The widest equation
#: of one site has 16 cells (first contacts = the 15 access routes), and a sum over sites has
#: one cell per site plus the total, so a municipality with up to 23 sites is never thinned.
_WIDE_EQUATION = 24

#: Components of unknowns up to this size are solved as one LP per bound; larger ones (rounded
#: publications) around each target, see ``_System._local_optimum``.
_LOCAL_ABOVE = 150

#: Start of ``_System._local_optimum``: unknowns within this many equation hops of the target
#: (two hops: the target's whole table), and how often the neighbourhood may grow before the
#: whole component is solved instead.
_LOCAL_HOPS = 2
_LOCAL_ROUNDS = 25

#: A reduced cost below this is zero: solver noise, not an improving direction.
_REDUCED_COST_TOL = 1e-7

Protection = float | Callable[[Hashable, float], float]


class ProtectionError(Exception):
    """A sensitive cell cannot be protected under the given constraints (message in German).

    Raised by :func:`protect` when no choice of further suppressions works, typically because the
    cells that could hide it are ``forbidden``. The caller shows the message to the user.
    """

    def __init__(self, cell: Hashable, message: str) -> None:
        super().__init__(message)
        self.cell = cell


@dataclass(frozen=True)
class LinearPublication:
    """A publication of counts as one linear system (see the module docstring).

    ``values``: true value of every cell. ``equations``: each mapping ``{cell: coefficient}``
    means ``sum(coefficient * value) == 0``. ``bounds``: what a reader knows a priori about a
    cell (default ``(0, inf)``: counts are non-negative). ``published_bounds``: a published cell
    that is only known within an interval, e.g. rounded to 5 (``(r - 2, r + 2)`` around the
    rounded figure ``r``); published cells not listed are exact. Hidden cells ignore their
    ``published_bounds`` (a hidden cell is not published at all).
    """

    values: Mapping[Hashable, float]
    equations: Sequence[Mapping[Hashable, float]]
    bounds: Mapping[Hashable, tuple[float, float]] = field(default_factory=dict)
    published_bounds: Mapping[Hashable, tuple[float, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class CellFinding:
    """What a reader can infer about one hidden (or sensitive) cell.

    ``required_lower``/``required_upper`` are ``None`` for non-sensitive cells (secondary
    suppressions): they carry no requirement, so ``protected`` is ``True`` for them; their
    interval is still reported because a reader might find it interesting.
    """

    cell: Hashable
    value: float
    lower: float
    upper: float
    required_lower: float | None
    required_upper: float | None
    sensitive: bool
    protected: bool
    exactly_determined: bool


@dataclass(frozen=True)
class AuditResult:
    """Findings per cell (hidden cells and sensitive cells), in a deterministic order."""

    findings: Mapping[Hashable, CellFinding]

    @property
    def ok(self) -> bool:
        """All sensitive cells are protected."""
        return not self.failures

    @property
    def failures(self) -> list[CellFinding]:
        """Sensitive cells a reader can pin down or narrow to a small range."""
        return [f for f in self.findings.values() if f.sensitive and not f.protected]


def additive(total: Hashable, parts: Iterable[Hashable]) -> dict[Hashable, float]:
    """The equation ``total = sum(parts)`` as ``{total: 1, part: -1, ...}``.

    A part listed twice counts twice (coefficient -2); coefficients that cancel are dropped, so
    the result can be handed to :class:`LinearPublication` unchanged.
    """
    equation: dict[Hashable, float] = {total: 1.0}
    for part in parts:
        equation[part] = equation.get(part, 0.0) - 1.0
    return {cell: coef for cell, coef in equation.items() if coef != 0}


def audit(
    pub: LinearPublication,
    hidden: Collection[Hashable],
    sensitive: Collection[Hashable],
    protection: Protection,
    *,
    sensitive_only: bool = False,
) -> AuditResult:
    """Feasible interval of every hidden cell and the verdict for every sensitive cell.

    ``sensitive_only``: intervals of the sensitive cells only (the verdict depends on them
    alone; the secondary suppressions' intervals are for curiosity and cost most LPs).

    ``protection`` is the protection level ``p``: a number for all cells, or a function
    ``(cell, value) -> p``. A sensitive cell that is not hidden is reported with the interval a
    reader has for it (its exact value, or what rounding and the equations leave), so it fails
    unless rounding alone protects it.
    """
    system = _System(pub)
    hidden_mask = system.mask(hidden, "hidden")
    sensitive_mask = system.mask(sensitive, "sensitive")
    levels = _levels(system, np.flatnonzero(sensitive_mask), protection)
    return _audit(system, hidden_mask, sensitive_mask, levels, sensitive_only=sensitive_only)


def protect(
    pub: LinearPublication,
    sensitive: Collection[Hashable],
    protection: Protection,
    *,
    weights: Mapping[Hashable, float] | None = None,
    forbidden: Collection[Hashable] = (),
    already_hidden: Collection[Hashable] = (),
) -> set[Hashable]:
    """The full hidden set (sensitive, already hidden and secondary cells) that passes the audit.

    For each sensitive cell (in ``repr`` order) and each direction (up to ``x + p``, down to
    ``max(lb, x - p)``) an LP checks whether the current hidden set already leaves the reader
    that much room. If not, a MILP finds the cheapest set of further cells whose suppression
    allows a perturbation of the published values that moves the cell by the required amount
    while keeping every equation and bound; those cells are hidden and later cells profit from
    them. ``weights`` is the cost of hiding a cell (default ``1 + value``: small cells are
    preferred, totals are expensive). ``forbidden`` cells are never hidden.

    Raises :class:`ProtectionError` (German message) when a sensitive cell cannot be protected.
    """
    system = _System(pub)
    sensitive_mask = system.mask(sensitive, "sensitive")
    hidden = sensitive_mask | system.mask(already_hidden, "already_hidden")
    forbidden_mask = system.mask(forbidden, "forbidden")
    for i in np.flatnonzero(hidden & forbidden_mask):
        cell = system.cells[i]
        reason = "ist klein" if sensitive_mask[i] else "ist bereits als verborgen angegeben"
        raise ProtectionError(
            cell,
            f"Die Zelle {cell!s} {reason}, muss aber laut Vorgabe veröffentlicht werden; "
            "die Geheimhaltung lässt sich so nicht einhalten.",
        )
    cost = _weights(system, weights)
    sensitive_idx: list[int] = np.flatnonzero(sensitive_mask).tolist()
    levels = _levels(system, sensitive_idx, protection)

    # Points the reader could not exclude stay possible when more cells are hidden, so one
    # collection serves the whole run and spares many LPs.
    points = _Points(system.x)
    todo = sensitive_idx
    for _ in range(_MAX_ROUNDS):
        for c in todo:
            _protect_cell(system, c, levels[c], hidden, forbidden_mask, cost, points)
        result = _audit(system, hidden, sensitive_mask, levels, sensitive_only=True, points=points)
        if result.ok:
            return {system.cells[i] for i in np.flatnonzero(hidden)}
        todo = [system.index[f.cell] for f in result.failures]
    names = ", ".join(str(f.cell) for f in result.failures)
    raise ProtectionError(
        result.failures[0].cell,
        f"Die Geheimhaltung ließ sich für folgende Zellen nicht sicherstellen: {names}.",
    )


def _protect_cell(
    system: _System,
    c: int,
    level: float,
    hidden: np.ndarray,
    forbidden: np.ndarray,
    cost: np.ndarray,
    points: _Points,
) -> None:
    """Hide further cells (in place) until the reader's interval of ``c`` is wide enough.

    Each direction is checked against the current hidden set right before it is repaired, so
    cells hidden for the upper side count for the lower side too. A direction is already fine
    if some point the reader cannot exclude reaches the target; only otherwise an LP decides.
    """
    x = system.x[c]
    up = min(system.ub[c], x + level)
    down = max(system.lb[c], x - level)
    if up <= x + TOL and down >= x - TOL:
        raise ProtectionError(
            system.cells[c],
            f"Die Zelle {system.cells[c]!s} ist durch ihre bekannten Grenzen bereits "
            "festgelegt und lässt sich nicht schützen.",
        )
    for target, sense in ((up, -1.0), (down, 1.0)):
        if abs(target - x) <= TOL or points.reaches(c, target, sense):
            continue
        reached = system.bound(c, hidden, sense, points)
        if (reached >= target - TOL) if sense < 0 else (reached <= target + TOL):
            continue
        chosen, cells, move = _cover(system, c, target - x, hidden, forbidden, cost)
        hidden[chosen] = True
        points.add(cells, system.x[cells] + move)


# --- internals ---------------------------------------------------------------------------------
class _Points:
    """Per cell, the smallest and largest value seen in points the reader cannot exclude.

    Every LP or MILP solution is such a point (cells outside it at their true values). Why:
    a point that reaches a bound proves the reader's interval reaches it too, without an LP.
    Only valid while the hidden set does not shrink, which holds within one call.
    """

    def __init__(self, x: np.ndarray) -> None:
        self.low = x.copy()
        self.high = x.copy()

    def add(self, cells: np.ndarray, point: np.ndarray) -> None:
        self.low[cells] = np.minimum(self.low[cells], point)
        self.high[cells] = np.maximum(self.high[cells], point)

    def reaches(self, c: int, target: float, sense: float) -> bool:
        """Some point has cell ``c`` at or beyond ``target`` (below for ``sense=1``)."""
        if sense > 0:
            return bool(self.low[c] <= target + TOL)
        return bool(self.high[c] >= target - TOL)


@dataclass
class _Thinning:
    """Which cells of a wide equation join a suppression neighbourhood.

    A sum over hundreds of sites puts every site's cell into the two-hop neighbourhood of
    each of them, and the MILP over most of the publication took seconds per cell (issue
    #11). When more than ``limit`` new cells of one equation could be stepped onto, only
    ``limit`` are: the ``free`` ones (already hidden: they move at no cost) first, then the cheapest
    by ``cost``, ties by position. Every other cell keeps its value, so a solution on the
    thinned neighbourhood is valid for the whole publication. ``used`` tells whether any
    equation was thinned (if not, the full neighbourhood is the same).
    """

    limit: int
    free: np.ndarray
    cost: np.ndarray
    used: bool = False

    def select(self, reach: list[int]) -> list[int]:
        if len(reach) <= self.limit:
            return reach
        self.used = True
        order = sorted(
            reach, key=lambda i: (not self.free[i], 0.0 if self.free[i] else self.cost[i], i)
        )
        return sorted(order[: self.limit])


class _System:
    """The publication as arrays: values, bounds, sparse equation matrix and adjacency lists.

    Cells are indexed in ``repr`` order so that results do not depend on dict insertion order
    or on hash randomisation of the caller's sets.
    """

    def __init__(self, pub: LinearPublication) -> None:
        self.cells: list[Hashable] = sorted(pub.values, key=repr)
        self.index: dict[Hashable, int] = {cell: i for i, cell in enumerate(self.cells)}
        n = len(self.cells)
        self.x = np.array([float(pub.values[cell]) for cell in self.cells], dtype=float)
        if not np.all(np.isfinite(self.x)):
            raise ValueError("every cell value must be a finite number")

        self.lb = np.zeros(n)
        self.ub = np.full(n, np.inf)
        for cell, (lo, hi) in pub.bounds.items():
            i = self._position(cell, "bounds")
            self.lb[i], self.ub[i] = float(lo), float(hi)
        bad = (self.x < self.lb - TOL) | (self.x > self.ub + TOL)
        if bad.any():
            raise ValueError(f"value outside its a-priori bounds: {self.cells[np.argmax(bad)]!r}")

        # What a reader knows about a published cell: exact unless published as an interval.
        self.vis_lo = self.x.copy()
        self.vis_hi = self.x.copy()
        for cell, (lo, hi) in pub.published_bounds.items():
            i = self._position(cell, "published_bounds")
            if not lo - TOL <= self.x[i] <= hi + TOL:
                raise ValueError(f"value outside its published interval: {cell!r}")
            self.vis_lo[i] = max(float(lo), self.lb[i])
            self.vis_hi[i] = min(float(hi), self.ub[i])
        self.inexact = self.vis_hi - self.vis_lo > TOL  # published only as an interval

        rows: list[int] = []
        cols: list[int] = []
        data: list[float] = []
        for k, equation in enumerate(pub.equations):
            for cell, coef in equation.items():
                j = self._position(cell, f"equation {k}")
                if coef != 0:
                    rows.append(k)
                    cols.append(j)
                    data.append(float(coef))
        m = len(pub.equations)
        self.a = sparse.csr_array((data, (rows, cols)), shape=(m, n), dtype=float)
        self.a.sum_duplicates()
        self.a.eliminate_zeros()
        self._check_consistent(pub)
        a_csc = self.a.tocsc()
        self.eq_cells: list[list[int]] = [
            self.a.indices[self.a.indptr[k] : self.a.indptr[k + 1]].tolist() for k in range(m)
        ]
        self.cell_eqs: list[list[int]] = [
            a_csc.indices[a_csc.indptr[j] : a_csc.indptr[j + 1]].tolist() for j in range(n)
        ]

    def _position(self, cell: Hashable, where: str) -> int:
        """Index of ``cell``; a cell without a value is a bug in the caller's model."""
        try:
            return self.index[cell]
        except KeyError:
            raise ValueError(f"unknown cell {cell!r} in {where} (not in values)") from None

    def _check_consistent(self, pub: LinearPublication) -> None:
        """The true values must satisfy every equation; otherwise the caller built them wrong."""
        residual = self.a @ self.x
        scale = abs(self.a) @ np.abs(self.x)
        bad = np.abs(residual) > _EQUATION_TOL * np.maximum(1.0, scale) + TOL
        if bad.any():
            k = int(np.argmax(bad))
            raise ValueError(
                f"equation {k} is violated by the values (residual {residual[k]:g}): "
                f"{dict(pub.equations[k])!r}"
            )

    def mask(self, cells: Collection[Hashable], what: str) -> np.ndarray:
        """Boolean mask over the internal cell order (``what`` names the argument in errors)."""
        out = np.zeros(len(self.cells), dtype=bool)
        for cell in cells:
            out[self._position(cell, what)] = True
        return out

    def component(
        self,
        start: Iterable[int],
        movable: np.ndarray,
        max_hops: int | None = None,
        *,
        thinning: _Thinning | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Cells reachable from ``start`` through equations, stepping only onto movable cells.

        Returns the cells (sorted) and every equation touching one of them; in those equations
        all other cells are immovable, i.e. constants. ``max_hops`` limits the search to that
        many equation steps (a neighbourhood instead of the whole component). ``thinning``
        steps only onto a few cells of a wide equation (see :class:`_Thinning`).
        """
        seen = set(start)
        frontier = sorted(seen)
        done_eqs: set[int] = set()
        hops = 0
        while frontier and (max_hops is None or hops < max_hops):
            hops += 1
            nxt: list[int] = []
            for j in frontier:
                for k in self.cell_eqs[j]:
                    if k in done_eqs:
                        continue
                    done_eqs.add(k)
                    reach = [i for i in self.eq_cells[k] if i not in seen and movable[i]]
                    if thinning is not None:
                        reach = thinning.select(reach)
                    for i in reach:
                        seen.add(i)
                        nxt.append(i)
            frontier = nxt
        cells = np.array(sorted(seen), dtype=np.intp)
        return cells, self.equations_of(cells)

    def box(self, hidden: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """What a reader knows about each cell alone: a-priori bounds if hidden, else published."""
        return (
            np.where(hidden, self.lb, self.vis_lo),
            np.where(hidden, self.ub, self.vis_hi),
        )

    def intervals(
        self, hidden: np.ndarray, targets: Sequence[int], points: _Points | None = None
    ) -> dict[int, tuple[float, float]]:
        """The reader's interval ``[lower, upper]`` of every target cell.

        Unknowns are the hidden cells and the rounded published cells; exact published cells
        are constants, so the system falls apart into connected components of unknowns that are
        solved separately (min and max per target). A small component is one LP matrix for all
        its targets. A large one (typical when every published cell is rounded) is solved
        around each target instead, see :meth:`_local_optimum`.

        Feasible points found along the way are remembered (``points``): once some feasible
        point reaches a cell's a-priori bound, that bound is its optimum and its LP is skipped
        (the true values are the first such point, e.g. for a hidden 0). A cell that is the only
        unknown in one of its equations is pinned to its value without an LP.
        """
        variable = hidden | self.inexact
        lo, hi = self.box(hidden)
        if points is None:
            points = _Points(self.x)
        wanted = set(targets)
        out: dict[int, tuple[float, float]] = {}
        for t in targets:
            if t in out:
                continue
            if not variable[t]:
                out[t] = (float(self.x[t]), float(self.x[t]))
                continue
            cells, eqs = self.component([t], variable)
            shared = None
            if len(cells) <= _LOCAL_ABOVE and len(eqs) > 0:
                shared = self._restricted(cells, eqs)
            for u in (int(u) for u in cells if u in wanted):
                if self.pinned(u, variable):
                    out[u] = (float(self.x[u]), float(self.x[u]))
                    continue
                bounds: list[float] = []
                for sense in (1.0, -1.0):
                    bound = lo[u] if sense > 0 else hi[u]
                    if len(eqs) == 0 or (math.isfinite(bound) and points.reaches(u, bound, sense)):
                        bounds.append(float(bound))
                        continue
                    if shared is None:
                        value, where, point = self._local_optimum(u, sense, variable, lo, hi)
                    else:
                        where = cells
                        k = int(np.searchsorted(cells, u))
                        value, point, _ = _optimise(*shared, lo[cells], hi[cells], k, sense)
                    if point is not None:
                        points.add(where, point)
                    bounds.append(value)
                out[u] = (bounds[0], bounds[1])
        return out

    def bound(self, c: int, hidden: np.ndarray, sense: float, points: _Points) -> float:
        """The reader's minimum (``sense=1``) or maximum (``sense=-1``) of one cell."""
        variable = hidden | self.inexact
        if not variable[c] or self.pinned(c, variable):
            return float(self.x[c])
        lo, hi = self.box(hidden)
        box_bound = lo[c] if sense > 0 else hi[c]
        cells, eqs = self.component([c], variable)
        if len(eqs) == 0 or (math.isfinite(box_bound) and points.reaches(c, box_bound, sense)):
            return float(box_bound)
        if len(cells) > _LOCAL_ABOVE:
            value, where, point = self._local_optimum(c, sense, variable, lo, hi)
        else:
            where = cells
            k = int(np.searchsorted(cells, c))
            value, point, _ = _optimise(
                *self._restricted(cells, eqs), lo[cells], hi[cells], k, sense
            )
        if point is not None:
            points.add(where, point)
        return value

    def pinned(self, c: int, variable: np.ndarray) -> bool:
        """Cell ``c`` is the only unknown of one of its equations, hence known exactly."""
        return any(
            all(j == c or not variable[j] for j in self.eq_cells[k]) for k in self.cell_eqs[c]
        )

    def equations_of(self, cells: np.ndarray) -> np.ndarray:
        """Every equation touching one of ``cells`` (sorted)."""
        return np.array(sorted({k for j in cells.tolist() for k in self.cell_eqs[j]}), np.intp)

    def _restricted(
        self, cells: np.ndarray, eqs: np.ndarray
    ) -> tuple[sparse.csc_array, np.ndarray]:
        """Equations ``eqs`` in the unknowns ``cells``; every other cell stays at its value."""
        rows = self.a[eqs]
        a_eq = rows[:, cells]
        return a_eq.tocsc(), a_eq @ self.x[cells] - rows @ self.x

    def _local_optimum(
        self, t: int, sense: float, variable: np.ndarray, lo: np.ndarray, hi: np.ndarray
    ) -> tuple[float, np.ndarray, np.ndarray | None]:
        """Exact min/max of cell ``t`` in a large component, from small LPs around ``t``.

        Why: with rounding, every published cell is an unknown and the component is the whole
        publication; one LP per target over all of it is slow. Instead the unknowns are
        restricted to a neighbourhood of ``t`` (all others fixed at their true values, so every
        point found is feasible for the full system). The restricted optimum is the full one
        if the LP's equation duals leave no unknown just outside the neighbourhood an improving
        direction (its reduced cost, with the bound it sits at, satisfies the optimality
        conditions); otherwise exactly those cells are added and the LP is solved again. A
        restricted problem that is unbounded proves the full one unbounded. Errors can only
        narrow the interval, never widen it, so they cannot make an exposed cell look safe.

        Returns the optimum, the cells of the final neighbourhood and the point found there.
        """
        # A sum over many sites would put all of them into the first neighbourhood: start
        # with a few of its cells (the largest values, which have the most room to move);
        # the reduced costs below add whichever others can still improve the optimum.
        thinning = _Thinning(_WIDE_EQUATION, np.zeros(len(self.x), dtype=bool), -self.x)
        cells = self.component([t], variable, max_hops=_LOCAL_HOPS, thinning=thinning)[0]
        for _ in range(_LOCAL_ROUNDS):
            eqs = self.equations_of(cells)
            a_eq, b_eq = self._restricted(cells, eqs)
            k = int(np.searchsorted(cells, t))
            value, point, duals = _optimise(a_eq, b_eq, lo[cells], hi[cells], k, sense)
            if point is None or duals is None:
                return value, cells, point
            rows = self.a[eqs]
            border = np.setdiff1d(np.unique(rows.indices), cells)
            border = border[hi[border] - lo[border] > TOL]
            reduced = -(rows[:, border].T @ duals)
            at = self.x[border]
            improving = ((reduced > _REDUCED_COST_TOL) & (at > lo[border] + TOL)) | (
                (reduced < -_REDUCED_COST_TOL) & (at < hi[border] - TOL)
            )
            if not improving.any():
                return value, cells, point
            cells = np.union1d(cells, border[improving])
        cells, eqs = self.component([t], variable)
        k = int(np.searchsorted(cells, t))
        value, point, _ = _optimise(*self._restricted(cells, eqs), lo[cells], hi[cells], k, sense)
        return value, cells, point


def _optimise(
    a_eq: sparse.csc_array,
    b_eq: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    k: int,
    sense: float,
) -> tuple[float, np.ndarray | None, np.ndarray | None]:
    """Minimise (``sense=1``) or maximise (``sense=-1``) variable ``k``; ±inf if unbounded.

    Returns the optimum, the optimal point and the equation duals (``None`` when unbounded).
    The system is always feasible (the true values solve it), so "unbounded or infeasible" from
    the presolver means unbounded; it is re-solved without presolve to be sure.
    """
    objective = np.zeros(a_eq.shape[1])
    objective[k] = sense
    bounds = np.column_stack([lo, hi])
    res = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
    if res.status == 4:
        res = linprog(
            objective,
            A_eq=a_eq,
            b_eq=b_eq,
            bounds=bounds,
            method="highs",
            options={"presolve": False},
        )
    if res.status == 0:
        value = float(np.clip(res.x[k], lo[k], hi[k]))
        return value, res.x, res.eqlin.marginals
    if res.status == 3:
        return (-math.inf if sense > 0 else math.inf), None, None
    raise RuntimeError(f"LP for an audit interval failed: {res.message}")


def _levels(system: _System, sensitive: Iterable[int], protection: Protection) -> dict[int, float]:
    """Protection level per sensitive cell; it must be a positive finite number."""
    out: dict[int, float] = {}
    for i in sensitive:
        cell = system.cells[i]
        p = protection(cell, system.x[i]) if callable(protection) else protection
        p = float(p)
        if not (math.isfinite(p) and p > 0):
            raise ValueError(f"protection level for {cell!r} must be positive and finite, got {p}")
        out[int(i)] = p
    return out


def _weights(system: _System, weights: Mapping[Hashable, float] | None) -> np.ndarray:
    """Cost of hiding each cell: default ``1 + |value|``, so totals are expensive."""
    cost = 1.0 + np.abs(system.x)
    for cell, w in (weights or {}).items():
        w = float(w)
        if not (math.isfinite(w) and w >= 0):
            raise ValueError(f"weight for {cell!r} must be non-negative and finite, got {w}")
        cost[system._position(cell, "weights")] = w
    return cost


def _audit(
    system: _System,
    hidden: np.ndarray,
    sensitive: np.ndarray,
    levels: Mapping[int, float],
    *,
    sensitive_only: bool = False,
    points: _Points | None = None,
) -> AuditResult:
    """Findings for hidden and sensitive cells; ``sensitive_only`` skips the secondary cells.

    :func:`protect` only needs the verdict, which depends on the sensitive cells alone, so it
    saves the LPs of the (usually more numerous) secondary suppressions.
    """
    targets = np.flatnonzero(sensitive if sensitive_only else hidden | sensitive).tolist()
    found = system.intervals(hidden, targets, points)
    findings: dict[Hashable, CellFinding] = {}
    for i in targets:
        lower, upper = (float(v) for v in found[i])
        x = float(system.x[i])
        determined = upper - lower < TOL
        req_lower: float | None = None
        req_upper: float | None = None
        protected = True
        if sensitive[i]:
            req_lower = max(float(system.lb[i]), x - levels[i])
            req_upper = min(float(system.ub[i]), x + levels[i])
            protected = not determined and upper >= req_upper - TOL and lower <= req_lower + TOL
        cell = system.cells[i]
        findings[cell] = CellFinding(
            cell=cell,
            value=x,
            lower=lower,
            upper=upper,
            required_lower=req_lower,
            required_upper=req_upper,
            sensitive=bool(sensitive[i]),
            protected=protected,
            exactly_determined=determined,
        )
    return AuditResult(findings=MappingProxyType(findings))


def _cover(
    system: _System,
    c: int,
    shift: float,
    hidden: np.ndarray,
    forbidden: np.ndarray,
    cost: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cheapest further cells to hide so that cell ``c`` can move by ``shift`` (a MILP).

    Unknowns: a perturbation ``d`` of the true values with ``A d = 0``, ``d_c = shift`` and
    ``x + d`` within the a-priori bounds; a published cell ``j`` may move only within its
    published interval unless its binary ``z_j`` is 1 (it gets hidden). Minimise the cost of
    the ``z``. If such ``d`` exists, the reader's LP can reach ``x_c + shift`` after hiding those
    cells, so this is exactly the missing protection.

    The MILP is kept small by restricting ``d`` to a neighbourhood of ``c`` in the equation
    graph (every equation touching it is kept, cells outside it stay fixed, so any solution is
    valid for the whole publication); the neighbourhood grows until a solution exists or it is
    the whole component.

    Returns the chosen cells, the neighbourhood and the perturbation ``d`` on it.
    """
    capacity = (system.ub > system.vis_hi + TOL) | (system.lb < system.vis_lo - TOL)
    candidate = ~hidden & ~forbidden & capacity
    movable = hidden | system.inexact | candidate
    # First on thinned neighbourhoods (wide sums contribute only a few cells), then, if no
    # thinned one has a solution and some equation was thinned, on the full ones.
    thinning = _Thinning(_WIDE_EQUATION, hidden, cost)
    for stage in (thinning, None):
        hops: int | None = _FIRST_HOPS
        previous = -1
        while True:
            cells, eqs = system.component([c], movable, hops, thinning=stage)
            # For additive tables (coefficients ±1) no cell ever has to move by more than
            # |shift| (split a perturbation into cycles through c); other coefficients in the
            # neighbourhood's equations scale that. A big-M from the whole publication (the
            # grade weights 1-5 of the survey) made every MILP's relaxation five times weaker.
            coef = np.abs(system.a[eqs].data)
            big_m = abs(shift) * (float(coef.max() / coef.min()) if coef.size else 1.0)
            found = _cover_milp(system, c, shift, cells, eqs, hidden, candidate, cost, big_m)
            if found is None:
                # The tight big-M may be too small for unusual coefficients: find any
                # perturbation with unlimited room for candidates, and use its size as big-M.
                needed = _largest_move(system, c, shift, cells, eqs, hidden, candidate)
                if needed is not None:
                    found = _cover_milp(
                        system, c, shift, cells, eqs, hidden, candidate, cost, max(big_m, needed)
                    )
            if found is not None:
                return found[0], cells, found[1]
            if hops is None or len(cells) == previous:
                break
            previous = len(cells)
            if stage is not None and stage.used and hops < 4:
                hops += 1  # thinned neighbourhoods still grow fast: one hop at a time first
            else:
                hops = hops * 2 if hops < 64 else None
        if not thinning.used:
            break
    cell = system.cells[c]
    raise ProtectionError(
        cell,
        f"Die Zelle {cell!s} lässt sich nicht schützen: Auch mit weiteren verborgenen "
        "Zellen ließe sich ihr Wert zu genau eingrenzen (die dafür nötigen Zellen "
        "müssen laut Vorgabe veröffentlicht werden).",
    )


def _perturbation_bounds(
    system: _System,
    c: int,
    shift: float,
    cells: np.ndarray,
    hidden: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Range of ``d`` for each cell without further suppression (hidden: a-priori bounds)."""
    x = system.x[cells]
    is_hidden = hidden[cells]
    lo = np.where(is_hidden, system.lb[cells], system.vis_lo[cells]) - x
    hi = np.where(is_hidden, system.ub[cells], system.vis_hi[cells]) - x
    k = int(np.searchsorted(cells, c))
    lo[k] = hi[k] = shift
    return lo, hi


@contextmanager
def _solver_output_to_stderr() -> Iterator[None]:
    """HiGHS' MIP solver prints some diagnostics straight to file descriptor 1, past Python:
    they would end up in the JSON of ``fh-analytik kennzahlen`` on stdout. Send them to
    stderr while it runs."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # pragma: no cover - no file descriptor 1 (embedded interpreters)
        yield
        return
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _cover_milp(
    system: _System,
    c: int,
    shift: float,
    cells: np.ndarray,
    eqs: np.ndarray,
    hidden: np.ndarray,
    candidate: np.ndarray,
    cost: np.ndarray,
    big_m: float,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Solve the suppression MILP on a neighbourhood: chosen cells and ``d``, or ``None``."""
    n = len(cells)
    lo, hi = _perturbation_bounds(system, c, shift, cells, hidden)
    cand = np.flatnonzero(candidate[cells])  # positions within ``cells``
    cand_cells = cells[cand]
    k = len(cand)
    up_cap = np.minimum(system.ub[cand_cells] - system.vis_hi[cand_cells], big_m)
    down_cap = np.minimum(system.vis_lo[cand_cells] - system.lb[cand_cells], big_m)
    d_lo = lo.copy()
    d_hi = hi.copy()
    d_lo[cand] -= down_cap
    d_hi[cand] += up_cap

    # d_j - up_cap_j z_j <= hi_j   and   -d_j - down_cap_j z_j <= -lo_j   (candidates only)
    rows = np.arange(2 * k)
    link = sparse.csr_array(
        (
            np.concatenate([np.ones(k), -np.ones(k), -up_cap, -down_cap]),
            (
                np.concatenate([rows, rows]),
                np.concatenate([cand, cand, n + np.arange(k), n + np.arange(k)]),
            ),
        ),
        shape=(2 * k, n + k),
    )
    link_ub = np.concatenate([hi[cand], -lo[cand]])
    a_eq = sparse.hstack([system.a[eqs][:, cells], sparse.csr_array((len(eqs), k))], format="csr")
    constraints = [LinearConstraint(a_eq, 0.0, 0.0)]
    if k:
        constraints.append(LinearConstraint(link, -np.inf, link_ub))
    objective = np.concatenate([np.zeros(n), cost[cand_cells]])
    integrality = np.concatenate([np.zeros(n), np.ones(k)])
    bounds = Bounds(np.concatenate([d_lo, np.zeros(k)]), np.concatenate([d_hi, np.ones(k)]))
    with _solver_output_to_stderr():
        res = milp(objective, integrality=integrality, bounds=bounds, constraints=constraints)
    if res.x is None:
        if res.status == 2:
            return None
        raise RuntimeError(f"suppression MILP failed: {res.message}")
    d = res.x[:n]
    z = res.x[n:]
    # Only cells that really leave their published interval need hiding (a zero-cost z may
    # be switched on for nothing).
    outside = (d[cand] > hi[cand] + TOL) | (d[cand] < lo[cand] - TOL)
    return cand_cells[(z > 0.5) & outside], d


def _largest_move(
    system: _System,
    c: int,
    shift: float,
    cells: np.ndarray,
    eqs: np.ndarray,
    hidden: np.ndarray,
    candidate: np.ndarray,
) -> float | None:
    """Some feasible perturbation with every candidate hidden: the largest |d| it needs.

    ``None`` if even hiding every candidate in the neighbourhood does not allow the shift.
    """
    lo, hi = _perturbation_bounds(system, c, shift, cells, hidden)
    cand = candidate[cells]
    lo[cand] = system.lb[cells[cand]] - system.x[cells[cand]]
    hi[cand] = system.ub[cells[cand]] - system.x[cells[cand]]
    a_eq = system.a[eqs][:, cells]
    # Any feasible point will do: it proves that a big-M of its largest move is enough.
    res = linprog(
        np.zeros(len(cells)),
        A_eq=a_eq,
        b_eq=np.zeros(len(eqs)),
        bounds=np.column_stack([lo, hi]),
        method="highs",
    )
    if res.status != 0:
        return None
    return float(np.max(np.abs(res.x[cand]), initial=0.0)) * (1 + 1e-6) + TOL
