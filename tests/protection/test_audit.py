"""Publication-level disclosure audit and secondary suppression (analysis.protection.audit)."""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable, Sequence
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from analysis.protection import audit as audit_module
from analysis.protection.audit import (
    AuditResult,
    LinearPublication,
    ProtectionError,
    additive,
    audit,
    protect,
)

T = "T"  # label of the total row / column


# --- helpers -----------------------------------------------------------------------------------
def two_way(table: Sequence[Sequence[int]], name: str | None = None) -> LinearPublication:
    """A rows x columns table with row totals (i, T), column totals (T, j) and grand total (T, T).

    With ``name`` the cell ids are prefixed, so several tables can be linked by shared ids.
    """
    n_rows, n_cols = len(table), len(table[0])
    cid = (lambda r, c: (r, c)) if name is None else (lambda r, c: (name, r, c))
    values: dict[Hashable, float] = {}
    for i in range(n_rows):
        for j in range(n_cols):
            values[cid(i, j)] = table[i][j]
        values[cid(i, T)] = sum(table[i])
    for j in range(n_cols):
        values[cid(T, j)] = sum(row[j] for row in table)
    values[cid(T, T)] = sum(map(sum, table))
    rows = [*range(n_rows), T]
    cols = [*range(n_cols), T]
    equations = [additive(cid(i, T), [cid(i, j) for j in range(n_cols)]) for i in rows]
    equations += [additive(cid(T, j), [cid(i, j) for i in range(n_rows)]) for j in cols]
    return LinearPublication(values, equations)


def two_per_line(hidden: Collection[Hashable], n_rows: int, n_cols: int) -> bool:
    """The old per-table rule: no row or column (totals included) has exactly one hidden cell."""
    lines = [[(i, j) for j in [*range(n_cols), T]] for i in [*range(n_rows), T]]
    lines += [[(i, j) for i in [*range(n_rows), T]] for j in [*range(n_cols), T]]
    return all(sum(cell in hidden for cell in line) != 1 for line in lines)


def naive_intervals(
    pub: LinearPublication, hidden: Collection[Hashable]
) -> dict[Hashable, tuple[float, float]]:
    """Reference: one LP over *all* cells of the publication (no components, no shortcuts)."""
    cells = list(pub.values)
    pos = {cell: k for k, cell in enumerate(cells)}
    a_eq = np.zeros((len(pub.equations), len(cells)))
    for r, equation in enumerate(pub.equations):
        for cell, coef in equation.items():
            a_eq[r, pos[cell]] += coef
    bounds = []
    for cell in cells:
        if cell in hidden:
            bounds.append(pub.bounds.get(cell, (0, None)))
        elif cell in pub.published_bounds:
            low, high = pub.published_bounds[cell]
            bounds.append((max(low, 0), high))  # counts: a rounded 0 is known as [0, 2]
        else:
            bounds.append((pub.values[cell], pub.values[cell]))
    out = {}
    for cell in hidden:
        ends = []
        for sense in (1, -1):
            objective = np.zeros(len(cells))
            objective[pos[cell]] = sense
            res = linprog(objective, A_eq=a_eq, b_eq=np.zeros(len(a_eq)), bounds=bounds)
            ends.append(res.x[pos[cell]] if res.status == 0 else sense * -math.inf)
        out[cell] = (ends[0], ends[1])
    return out


def brute_force_intervals(
    pub: LinearPublication, hidden: Sequence[Hashable], limit: int
) -> dict[Hashable, tuple[int, int]]:
    """Reference: enumerate every integer completion 0..limit of the hidden cells."""
    grids = np.meshgrid(*[np.arange(limit + 1)] * len(hidden), indexing="ij")
    value = {cell: grid.ravel() for cell, grid in zip(hidden, grids, strict=True)}
    feasible = np.ones(grids[0].size, dtype=bool)
    for equation in pub.equations:
        total = sum(coef * value.get(cell, pub.values[cell]) for cell, coef in equation.items())
        feasible &= np.asarray(total) == 0
    return {
        cell: (int(value[cell][feasible].min()), int(value[cell][feasible].max()))
        for cell in hidden
    }


def interval(result: AuditResult, cell: Hashable) -> tuple[float, float]:
    finding = result.findings[cell]
    return (finding.lower, finding.upper)


def one_dimensional() -> LinearPublication:
    # total 10 = a 1 + b 4 + c 5
    return LinearPublication({"T": 10, "a": 1, "b": 4, "c": 5}, [additive("T", ["a", "b", "c"])])


# --- model helpers -----------------------------------------------------------------------------
def test_additive_builds_and_merges_coefficients():
    assert additive("T", ["a", "b"]) == {"T": 1, "a": -1, "b": -1}
    assert additive("T", ["a", "b", "a"]) == {"T": 1, "a": -2, "b": -1}
    assert additive("T", ["T", "a"]) == {"a": -1}  # T - T - a = 0: the total cancels


def test_equations_violated_by_the_values_are_a_programming_error():
    pub = LinearPublication({"T": 10, "a": 1, "b": 4}, [additive("T", ["a", "b"])])
    with pytest.raises(ValueError, match="equation 0 is violated"):
        audit(pub, {"a"}, {"a"}, 3)


def test_unknown_cells_and_bad_levels_are_rejected():
    pub = one_dimensional()
    with pytest.raises(ValueError, match="unknown cell 'x'"):
        audit(pub, {"x"}, set(), 3)
    with pytest.raises(ValueError, match="unknown cell 'x'"):
        audit(LinearPublication({"a": 1}, [{"a": 1, "x": -1}]), set(), set(), 3)
    with pytest.raises(ValueError, match="positive"):
        audit(pub, {"a"}, {"a"}, 0)
    with pytest.raises(ValueError, match="published interval"):
        audit(LinearPublication({"a": 1}, [], published_bounds={"a": (3, 7)}), set(), set(), 3)


# --- audit: hand-built cases -------------------------------------------------------------------
def test_single_hidden_part_is_recomputed_from_the_total():
    # a = 10 - 4 - 5 = 1: exactly determined
    result = audit(one_dimensional(), {"a"}, {"a"}, 3)
    finding = result.findings["a"]
    assert interval(result, "a") == (1, 1)
    assert finding.exactly_determined and not finding.protected
    assert not result.ok
    assert result.failures == [finding]


def test_two_hidden_parts_protect_the_small_one():
    # a + b = 10 - 5 = 5, both >= 0  ->  a in [0, 5]
    # p = 3: required upper 1 + 3 = 4 <= 5, required lower max(0, 1 - 3) = 0 >= 0  ->  protected
    result = audit(one_dimensional(), {"a", "b"}, {"a"}, 3)
    a, b = result.findings["a"], result.findings["b"]
    assert interval(result, "a") == (0, 5)
    assert (a.required_lower, a.required_upper) == (0, 4)
    assert a.protected and not a.exactly_determined
    assert result.ok and result.failures == []
    # b is a secondary suppression: interval reported, no requirement
    assert interval(result, "b") == (0, 5)
    assert (b.sensitive, b.required_lower, b.required_upper, b.protected) == (
        False,
        None,
        None,
        True,
    )
    # a stricter level fails: p = 5 needs upper >= 6 > 5
    assert not audit(one_dimensional(), {"a", "b"}, {"a"}, 5).ok


def test_unbounded_upper_end_is_infinite():
    # hidden a and total: a = T - 9 with T free  ->  a in [0, inf), T in [9, inf)
    result = audit(one_dimensional(), {"a", "T"}, {"a"}, 3)
    assert interval(result, "a") == (0, math.inf)
    assert interval(result, "T") == (9, math.inf)
    assert result.ok
    # a cell in no equation is only bounded a priori
    lonely = LinearPublication({"x": 1}, [])
    assert interval(audit(lonely, {"x"}, {"x"}, 3), "x") == (0, math.inf)


def test_two_by_two_interior_hidden_gives_the_classic_interval():
    #        x  y | T
    #   r0   1  5 | 6
    #   r1   4  2 | 6
    #   T    5  7 | 12
    # all four interior cells hidden: one free parameter, (0,0) = a, (0,1) = 6 - a,
    # (1,0) = 5 - a, (1,1) = 1 + a  ->  a in [max(0, 6 + 5 - 12), min(6, 5)] = [0, 5]
    pub = two_way([[1, 5], [4, 2]])
    hidden = {(0, 0), (0, 1), (1, 0), (1, 1)}
    result = audit(pub, hidden, {(0, 0), (1, 1)}, 3)
    assert interval(result, (0, 0)) == (0, 5)
    # (1,1) = 1 + a in [1, 6]: required lower max(0, 2 - 3) = 0 is not reached -> the reader
    # knows (1,1) >= 1, i.e. that it is not 0; the audit reports it
    assert interval(result, (1, 1)) == (1, 6)
    assert result.findings[(0, 0)].protected
    assert not result.findings[(1, 1)].protected
    assert [f.cell for f in result.failures] == [(1, 1)]


def test_non_negativity_narrows_the_interval():
    #        x  y | T
    #   r0   1  0 | 1
    #   r1   3  4 | 7
    # the cycle +d on (0,0),(1,1), -d on (0,1),(1,0): (0,1) = 0 - d >= 0  ->  d <= 0, and
    # (0,0) = 1 + d >= 0  ->  d >= -1. So (0,0) in [0, 1]: no line has a single hidden cell,
    # yet the reader knows the value is at most 1.
    pub = two_way([[1, 0], [3, 4]])
    result = audit(pub, {(0, 0), (0, 1), (1, 0), (1, 1)}, {(0, 0)}, 3)
    assert interval(result, (0, 0)) == (0, 1)
    assert not result.ok


def test_two_hidden_cells_per_line_is_not_enough():
    # 3x3 table with margins. Hidden: the rectangle (0,0),(0,1),(1,0),(1,1), the rectangle
    # (2,2),(2,T),(T,2),(T,T) and the small (0,2) that joins them. Every row and column,
    # totals included, has at least two hidden cells, so the old rule is satisfied. But in the
    # row/column graph (0,2) is a bridge between two cycles, i.e. on no cycle, so no change of
    # the hidden cells that keeps all sums can move it. By hand: adding the equations of
    # columns 0 and 1 and subtracting row 1 gives
    #   x00 + x01 = C0 + C1 - x20 - x21 - (R1 - x12) = 18 + 15 - 8 - 3 - (16 - 3) = 9,
    # all published, so x02 = R0 - 9 = 10 - 9 = 1.
    # (With interior cells only this cannot happen in a 3x3 table: two disjoint cycles need
    # four rows and four columns, so the margins have to take part.)
    table = [[4, 5, 1], [6, 7, 3], [8, 3, 9]]
    pub = two_way(table)
    hidden = {(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, T), (T, 2), (T, T), (0, 2)}
    assert two_per_line(hidden, 3, 3)
    result = audit(pub, hidden, {(0, 2)}, 3)
    finding = result.findings[(0, 2)]
    assert interval(result, (0, 2)) == (1, 1)
    assert finding.exactly_determined and not finding.protected
    # the cells on the cycles are not determined
    assert not result.findings[(0, 0)].exactly_determined
    assert interval(result, (T, T)) == (46 - 9, math.inf)  # (2,2) = 9 can drop to 0
    # secondary suppression repairs it, keeping what was already hidden
    repaired = protect(pub, {(0, 2)}, 3, already_hidden=hidden)
    assert repaired > hidden
    assert audit(pub, repaired, {(0, 2)}, 3).ok


def test_linked_tables_reveal_what_each_table_hides():
    # Table A (sites x {0, 1}) alone: the cycle (0,0) +d, (0,T) +d, (1,T) -d, (1,0) -d keeps
    # every sum of A; (0,0) = 1 + d >= 0 and (1,0) = 5 - d >= 0 give (0,0) in [0, 6], so the
    # small (0,0) = 1 is protected. Table B shows the same site totals (same cell ids) with all
    # its cells published: (0,T) = 3 + 4 = 7 is known, so (0,0) = (0,T) - (0,1) = 7 - 6 = 1.
    a = two_way([[1, 6], [5, 9]], name="A")
    b = two_way([[3, 4], [10, 4]], name="B")
    site_totals = {("A", i, T): ("site", i) for i in (0, 1, T)}
    site_totals |= {("B", i, T): ("site", i) for i in (0, 1, T)}

    def relabel(pub: LinearPublication) -> LinearPublication:
        values = {site_totals.get(c, c): v for c, v in pub.values.items()}
        equations = [{site_totals.get(c, c): k for c, k in eq.items()} for eq in pub.equations]
        return LinearPublication(values, equations)

    a, b = relabel(a), relabel(b)
    hidden = {("A", 0, 0), ("site", 0), ("site", 1), ("A", 1, 0)}
    alone = audit(a, hidden, {("A", 0, 0)}, 3)
    assert alone.ok and interval(alone, ("A", 0, 0)) == (0, 6)
    linked = LinearPublication({**a.values, **b.values}, [*a.equations, *b.equations])
    together = audit(linked, hidden, {("A", 0, 0)}, 3)
    assert interval(together, ("A", 0, 0)) == (1, 1)
    assert not together.ok
    assert audit(linked, protect(linked, {("A", 0, 0)}, 3), {("A", 0, 0)}, 3).ok


def test_published_bounds_widen_the_interval():
    # exact: a = 10 - 4 - 5 = 1. Total rounded to 10, known as [8, 12]: a = T - 9 in [0, 3]
    # (a >= 0 cuts -1), still not protected for p = 3 (needs 4).
    rounded_total = LinearPublication(
        one_dimensional().values, one_dimensional().equations, published_bounds={"T": (8, 12)}
    )
    result = audit(rounded_total, {"a"}, {"a"}, 3)
    assert interval(result, "a") == (0, 3)
    assert not result.findings["a"].exactly_determined and not result.ok
    # everything rounded to 5: T in [8, 12], b = 4 -> 5 -> [3, 7], c = 5 -> [3, 7]
    # a = T - b - c in [8 - 14, 12 - 6] = [-6, 6], with a >= 0: [0, 6] -> protected
    all_rounded = LinearPublication(
        one_dimensional().values,
        one_dimensional().equations,
        published_bounds={"T": (8, 12), "b": (3, 7), "c": (3, 7)},
    )
    result = audit(all_rounded, {"a"}, {"a"}, 3)
    assert interval(result, "a") == (0, 6)
    assert result.ok
    # rounding alone is enough, so protect hides nothing else
    assert protect(all_rounded, {"a"}, 3) == {"a"}


def test_visible_sensitive_cells_are_failures():
    # a sensitive cell that is published exactly: [1, 1]
    result = audit(one_dimensional(), set(), {"a"}, 3)
    assert interval(result, "a") == (1, 1) and not result.ok
    # published as a rounded 0, known as [0, 2]: a = T - b - c, with T, b, c exact, pins it to 1
    pub = LinearPublication(
        one_dimensional().values, one_dimensional().equations, published_bounds={"a": (0, 2)}
    )
    assert interval(audit(pub, set(), {"a"}, 3), "a") == (1, 1)


def test_a_priori_bounds_and_callable_protection_levels():
    # a known a priori to be at most 2: a in [0, 2] from a + b = 5; the requirement is capped
    # at the a-priori bounds ([0, 2] instead of [0, 4]), so it is met
    pub = LinearPublication(
        one_dimensional().values, one_dimensional().equations, bounds={"a": (0, 2)}
    )
    result = audit(pub, {"a", "b"}, {"a"}, 3)
    assert interval(result, "a") == (0, 2)
    assert result.findings["a"].required_upper == 2
    assert result.ok
    # a level depending on the cell: p(a) = 5 needs upper 6 > 5
    levels = {"a": 5, "b": 1}
    result = audit(one_dimensional(), {"a", "b"}, {"a", "b"}, lambda cell, value: levels[cell])
    assert [f.cell for f in result.failures] == ["a"]


# --- protect -----------------------------------------------------------------------------------
def test_protect_chooses_the_cheapest_partner():
    # a = 1 must move up by 3 (some partner down by 3) and down by 1. b = 4 (cost 5) beats
    # c = 5 (cost 6) and the total (cost 11).
    pub = one_dimensional()
    assert protect(pub, {"a"}, 3) == {"a", "b"}
    assert protect(pub, {"a"}, 3, weights={"c": 0.5}) == {"a", "c"}
    assert protect(pub, {"a"}, 3, forbidden={"b"}) == {"a", "c"}
    # only the total is left: a + b + c = T with T hidden, so a in [0, inf)
    assert protect(pub, {"a"}, 3, forbidden={"b", "c"}) == {"a", "T"}
    assert protect(pub, {"a"}, 3, already_hidden={"c"}) == {"a", "c"}


def test_two_small_cells_do_not_protect_each_other():
    # 10 = a 1 + b 2 + c 7: hiding a and b leaves a + b = 3, so a in [0, 3] < 1 + 3.
    # c must be hidden too.
    pub = LinearPublication({"T": 10, "a": 1, "b": 2, "c": 7}, [additive("T", ["a", "b", "c"])])
    assert not audit(pub, {"a", "b"}, {"a", "b"}, 3).ok
    hidden = protect(pub, {"a", "b"}, 3)
    assert hidden == {"a", "b", "c"}
    assert audit(pub, hidden, {"a", "b"}, 3).ok


def test_non_unit_coefficients_get_a_big_enough_big_m():
    # b = 2c and a = 2b: moving c = 1 up by 3 moves b by 6 and a by 12. The first big-M
    # (3 times the coefficient ratio 2 = 6) is too small for a; the fallback LP finds 12.
    pub = LinearPublication({"a": 4, "b": 2, "c": 1}, [{"b": 1, "c": -2}, {"a": 1, "b": -2}])
    hidden = protect(pub, {"c"}, 3)
    assert hidden == {"a", "b", "c"}
    assert interval(audit(pub, hidden, {"c"}, 3), "c") == (0, math.inf)


def test_protect_names_the_argument_with_an_unknown_cell_and_refuses_bad_weights():
    pub = one_dimensional()
    for kwargs, where in [
        ({}, "sensitive"),
        ({"already_hidden": {"y"}}, "already_hidden"),
        ({"forbidden": {"y"}}, "forbidden"),
        ({"weights": {"y": 1.0}}, "weights"),
    ]:
        sensitive = {"x"} if where == "sensitive" else {"a"}
        with pytest.raises(ValueError, match=f"unknown cell '[xy]' in {where} "):
            protect(pub, sensitive, 3, **kwargs)
    for weight in (-1.0, math.inf, math.nan):
        with pytest.raises(ValueError, match="must be non-negative and finite"):
            protect(pub, {"a"}, 3, weights={"b": weight})
    assert protect(pub, {"a"}, 3, weights={"b": 0.0}) == {"a", "b"}  # free to hide: chosen


def test_protect_gives_up_after_its_rounds_naming_every_cell_left_open(monkeypatch):
    # Should the rounds of protecting and auditing never agree, the year is refused with
    # every cell the last audit found open, not with a Python error.
    from types import SimpleNamespace

    open_cells = [SimpleNamespace(cell="a"), SimpleNamespace(cell="b")]
    monkeypatch.setattr(
        audit_module,
        "_audit",
        lambda *args, **kwargs: SimpleNamespace(ok=False, failures=open_cells),
    )
    with pytest.raises(ProtectionError) as info:
        protect(one_dimensional(), {"a", "b"}, 3)
    assert info.value.cell == "a"
    assert str(info.value).endswith(
        "Die Geheimhaltung ließ sich für folgende Zellen nicht sicherstellen: a, b."
    )


def test_protect_raises_in_german_when_impossible():
    pub = one_dimensional()
    with pytest.raises(ProtectionError, match="Zelle a lässt sich nicht schützen") as info:
        protect(pub, {"a"}, 3, forbidden={"b", "c", "T"})
    assert info.value.cell == "a"
    with pytest.raises(ProtectionError, match="Die Zelle a ist klein, muss aber"):
        protect(pub, {"a"}, 3, forbidden={"a"})
    fixed = LinearPublication(pub.values, pub.equations, bounds={"a": (1, 1)})
    with pytest.raises(ProtectionError, match="festgelegt"):
        protect(fixed, {"a"}, 3)


def test_protect_is_deterministic_and_independent_of_input_order():
    pub = two_way([[1, 7, 2, 9], [8, 1, 6, 5], [4, 3, 12, 2]])
    sensitive = {cell for cell, v in pub.values.items() if 0 < v < 3}
    first = protect(pub, sensitive, 3)
    shuffled = LinearPublication(
        dict(reversed(list(pub.values.items()))), list(reversed(pub.equations))
    )
    assert protect(shuffled, list(reversed(sorted(sensitive, key=repr))), 3) == first
    assert protect(pub, sensitive, 3) == first
    assert audit(pub, first, sensitive, 3).ok


def test_thinning_steps_onto_hidden_cells_first_then_the_cheapest():
    free = np.array([False, True, False, False, True, False])
    cost = np.array([5.0, 9.0, 1.0, 1.0, 7.0, 3.0])
    thinning = audit_module._Thinning(3, free, cost)
    # Three new cells or fewer are not thinned.
    assert thinning.select([0, 2, 5]) == [0, 2, 5] and not thinning.used
    # Of 6: the two hidden cells (1, 4), then the cheapest other, 2 before 3 (same cost).
    assert thinning.select([0, 1, 2, 3, 4, 5]) == [1, 2, 4]
    assert thinning.used


def test_a_sum_over_many_sites_is_protected_on_a_thinned_neighbourhood():
    # 60 "sites" x 3 quantities with a total row and column: every site's cell is two hops
    # from every other. With the limit at 8, no suppression MILP may see the whole table,
    # and the pattern must still pass the full audit.
    rng = np.random.default_rng(7)
    table = [[int(v) for v in rng.integers(4, 40, size=3)] for _ in range(60)]
    table[5][1], table[17][0], table[42][2] = 1, 2, 1
    pub = two_way(table)
    sensitive = {(5, 1), (17, 0), (42, 2)}
    sizes: list[int] = []
    real = audit_module._cover_milp

    def spy(system, c, shift, cells, *args, **kwargs):
        sizes.append(len(cells))
        return real(system, c, shift, cells, *args, **kwargs)

    with (
        mock.patch.object(audit_module, "_WIDE_EQUATION", 8),
        mock.patch.object(audit_module, "_cover_milp", spy),
    ):
        hidden = protect(pub, sensitive, 3)
    assert sizes and max(sizes) < len(pub.values) // 4
    assert audit(pub, hidden, sensitive, 3).ok
    # Each small cell needs only a partner in its row and in its column (4 cells a corner):
    # thinning keeps the pattern small.
    assert len(hidden) <= 4 * len(sensitive)


def test_the_thinned_search_follows_a_chain_far_enough_for_the_cheapest_pattern():
    # c (1) sits in a wide sum (S = c + 30 cells of 5: thinning is used) and at the start of
    # a chain T_k = p_(k-1) + p_k with p_0 = c, every p 10. T1-T4 must stay published, so
    # p1-p4 must be hidden; then either T5 (cost 100) or p5 and T6 (cost 1 each). The
    # cheapest pattern: p1-p5, T6 and one partner in the wide sum, cost 7 - not 105 with
    # T5, which a neighbourhood grown too slowly ends at.
    values = {"c": 1.0, "S": 151.0, **{f"q{i}": 5.0 for i in range(1, 31)}}
    equations = [additive("S", ["c", *(f"q{i}" for i in range(1, 31))])]
    previous = "c"
    for k in range(1, 9):
        values[f"p{k}"] = 10.0
        values[f"T{k}"] = values[previous] + 10.0
        equations.append(additive(f"T{k}", [previous, f"p{k}"]))
        previous = f"p{k}"
    weights = {cell: 1.0 for cell in values} | {"T5": 100.0}
    hidden = protect(
        LinearPublication(values, equations),
        {"c"},
        3,
        weights=weights,
        forbidden={"T1", "T2", "T3", "T4"},
    )
    assert {"p1", "p2", "p3", "p4", "p5", "T6"} <= hidden and "T5" not in hidden
    assert sum(weights[cell] for cell in hidden - {"c"}) == 7
    assert audit(LinearPublication(values, equations), hidden, {"c"}, 3).ok


def test_when_no_thinned_neighbourhood_has_a_solution_the_full_one_is_tried():
    # Thinning that keeps nothing of a wide equation leaves each small cell only its own
    # row, where it cannot move (every column sum is fixed): the full neighbourhood must
    # follow, and find the partners in other rows.
    rng = np.random.default_rng(11)
    table = [[int(v) for v in rng.integers(4, 40, size=3)] for _ in range(30)]
    table[3][1] = 1
    pub = two_way(table)

    def nothing_of_wide(self, reach):
        if len(reach) <= self.limit:
            return reach
        self.used = True
        return []

    with (
        mock.patch.object(audit_module, "_WIDE_EQUATION", 8),
        mock.patch.object(audit_module._Thinning, "select", nothing_of_wide),
    ):
        hidden = protect(pub, {(3, 1)}, 3)
    assert audit(pub, hidden, {(3, 1)}, 3).ok
    assert any(row != 3 for row, _ in hidden)  # a partner in another row


# --- properties --------------------------------------------------------------------------------
_VALUE = st.one_of(st.sampled_from([0, 0, 1, 2]), st.integers(3, 30), st.integers(30, 500))


@st.composite
def tables(draw: st.DrawFn) -> list[list[int]]:
    n_rows = draw(st.integers(2, 6))
    n_cols = draw(st.integers(2, 8))
    return [[draw(_VALUE) for _ in range(n_cols)] for _ in range(n_rows)]


@given(tables(), st.booleans())
@settings(max_examples=60, deadline=None)
def test_protect_then_audit_passes(table, forbid_grand_total):
    pub = two_way(table)
    sensitive = {cell for cell, v in pub.values.items() if 0 < v < 3}
    forbidden = {(T, T)} if forbid_grand_total else set()
    try:
        hidden = protect(pub, sensitive, 3, forbidden=forbidden)
    except ProtectionError:
        # without the grand total a table of tiny values may have no partner that can give 3
        assert forbid_grand_total
        return
    assert hidden >= sensitive
    assert not hidden & forbidden
    result = audit(pub, hidden, sensitive, 3)
    assert result.ok
    for cell in sensitive:
        finding = result.findings[cell]
        assert finding.upper >= finding.value + 3 - 1e-6
        assert finding.lower <= max(0, finding.value - 3) + 1e-6
        assert not finding.exactly_determined


@given(tables())
@settings(max_examples=40, deadline=None)
def test_protect_on_thinned_neighbourhoods_passes_the_audit(table):
    # The thinned neighbourhoods (here every line of more than 3 cells) are only a first try;
    # whatever they choose must pass the audit of the whole table.
    pub = two_way(table)
    sensitive = {cell for cell, v in pub.values.items() if 0 < v < 3}
    with mock.patch.object(audit_module, "_WIDE_EQUATION", 3):
        hidden = protect(pub, sensitive, 3)
    assert audit(pub, hidden, sensitive, 3).ok


@st.composite
def tiny_cases(draw: st.DrawFn) -> tuple[list[list[int]], list[Hashable]]:
    n_cols = draw(st.integers(2, 3))
    high = 6 if n_cols == 2 else 4  # grand total <= 24, so at most 25**4 completions
    table = [[draw(st.integers(0, high)) for _ in range(n_cols)] for _ in range(2)]
    cells = [cell for cell in two_way(table).values if cell != (T, T)]
    hidden = draw(st.lists(st.sampled_from(cells), min_size=1, max_size=4, unique=True))
    return table, hidden


@given(tiny_cases())
@settings(max_examples=60, deadline=None)
def test_lp_intervals_equal_integer_enumeration(case):
    # Independent check: enumerate all integer completions of the hidden cells (each between 0
    # and the published grand total, which bounds every cell). Two-way tables with margins have
    # a totally unimodular matrix, so the LP interval equals the integer one exactly; the
    # protection verdict must then agree with the brute force too.
    table, hidden = case
    pub = two_way(table)
    sensitive = {cell for cell in hidden if 0 < pub.values[cell] < 3}
    result = audit(pub, hidden, sensitive, 3)
    expected = brute_force_intervals(pub, hidden, int(pub.values[(T, T)]))
    for cell in hidden:
        low, high = expected[cell]
        assert interval(result, cell) == pytest.approx((low, high), abs=1e-6)
        if cell in sensitive:
            x = pub.values[cell]
            safe = high >= x + 3 and low <= max(0, x - 3) and high > low
            assert result.findings[cell].protected == safe


@given(tables(), st.data(), st.booleans())
@settings(max_examples=30, deadline=None)
def test_audit_equals_one_lp_over_the_whole_publication(table, data, local):
    # Rounded publications: every visible cell is only known within [r - 2, r + 2]. Compared
    # with one plain LP over all cells; ``local`` forces the neighbourhood-with-certificate
    # path that large components use.
    pub = two_way(table)
    cells = sorted(pub.values, key=repr)
    hidden = set(data.draw(st.lists(st.sampled_from(cells), min_size=1, max_size=8)))
    rounded = {
        cell: (5 * math.floor(v / 5 + 0.5) - 2, 5 * math.floor(v / 5 + 0.5) + 2)
        for cell, v in pub.values.items()
        if cell not in hidden
    }
    pub = LinearPublication(pub.values, pub.equations, published_bounds=rounded)
    with (
        mock.patch.object(audit_module, "_LOCAL_ABOVE", 0 if local else 10**9),
        mock.patch.object(audit_module, "_LOCAL_HOPS", 1),  # row and column only: must grow
        # and lines of more than 3 cells enter thinned (a sum over many sites): must grow too
        mock.patch.object(audit_module, "_WIDE_EQUATION", 3 if local else 10**9),
    ):
        result = audit(pub, hidden, set(), 3)
    expected = naive_intervals(pub, hidden)
    for cell in hidden:
        assert interval(result, cell) == pytest.approx(expected[cell], abs=1e-6)


def test_solver_diagnostics_go_to_stderr_not_stdout(capfd):
    """HiGHS prints some MIP diagnostics to file descriptor 1 directly; `kennzahlen` writes
    its JSON to stdout, so they are sent to stderr while the solver runs."""
    import os

    from analysis.protection.audit import _solver_output_to_stderr

    with _solver_output_to_stderr():
        os.write(1, b"HighsMipSolverData diagnostics\n")
    os.write(1, b"JSON\n")
    out, err = capfd.readouterr()
    assert out == "JSON\n"
    assert "HighsMipSolverData" in err
