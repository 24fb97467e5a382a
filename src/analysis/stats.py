"""Statistical helpers shared by the analyses: intervals, tests and models.

Thin, documented wrappers around statsmodels/scipy so every report computes an interval or
a test the same way, with ``None`` instead of an error where the data do not allow it.
"""

from __future__ import annotations

from dataclasses import dataclass

from statsmodels.stats.proportion import proportion_confint


@dataclass(frozen=True)
class Proportion:
    """A share with its Wilson 95 % interval; all ``None`` when the denominator is 0."""

    count: int
    n: int
    share: float | None
    lower: float | None
    upper: float | None


def wilson_interval(count: int, n: int, level: float = 0.95) -> Proportion:
    """Share ``count / n`` with the Wilson score interval (good for small n and shares near 0/1).

    >>> p = wilson_interval(5, 20)
    >>> round(p.share, 3), round(p.lower, 4), round(p.upper, 4)
    (0.25, 0.1119, 0.4687)
    """
    count, n = int(count), int(n)
    if n <= 0:
        return Proportion(count, n, None, None, None)
    if not 0 <= count <= n:
        raise ValueError(f"count {count} outside 0..{n}")
    lower, upper = proportion_confint(count, n, alpha=1 - level, method="wilson")
    return Proportion(count, n, count / n, float(lower), float(upper))
