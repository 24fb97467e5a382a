"""The indicators: the catalogue of definitions and one pure function per indicator.

``catalogue`` defines every published figure (numerator, denominator, kind, rule);
``reach``, ``access_routes`` and ``costs`` compute them, ``stats`` holds the shared methods
and ``summary`` assembles the ``kennzahlen`` of one site and year.
"""

from __future__ import annotations

from typing import Any

# Before the move, ``analysis.indicators`` was the catalogue module itself.
_CATALOGUE_NAMES = ("CATALOGUE", "Indicator", "TARGET_GROUPS", "label")


def __getattr__(name: str) -> Any:
    if name in _CATALOGUE_NAMES:
        from analysis import _compat
        from analysis.indicators import catalogue

        _compat.moved_warning(f"indicators.{name}", f"indicators.catalogue.{name}")
        return getattr(catalogue, name)
    raise AttributeError(f"module 'analysis.indicators' has no attribute {name!r}")
