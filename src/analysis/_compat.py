"""Old flat module names (``analysis.reach``, ``analysis.report_sections``, …) for one release.

Notebooks outside the repository import the package by its old flat names; they keep
working, with a German ``FutureWarning`` naming the new place. Remove in version 0.3.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import warnings
from types import ModuleType

#: old module name (below ``analysis.``) -> new module name (below ``analysis.``)
MOVED: dict[str, str] = {
    "schema": "contract.schema",
    "demo": "contract.demo",
    "reach": "indicators.reach",
    "access_routes": "indicators.access_routes",
    "costs": "indicators.costs",
    "stats": "indicators.stats",
    "kennzahlen": "indicators.summary",
    "confidentiality": "protection.rules",
    "report_sections": "reporting.sections",
    "report_cells": "reporting.cells",
    "report_export": "reporting.export",
    "reports": "reporting.batch",
    "style": "reporting.style",
}


def moved_warning(old: str, new: str) -> None:
    warnings.warn(
        f"analysis.{old} ist veraltet und entfällt mit Version 0.3; bitte "
        f"analysis.{new} verwenden (gleicher Inhalt).",
        FutureWarning,
        stacklevel=3,
    )


class _MovedLoader:
    """A loader (``create_module``, ``exec_module``); not derived from ``importlib.abc``,
    whose import takes about 0,02 s at the start of every command."""

    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        moved_warning(self.old, self.new)
        return importlib.import_module(f"analysis.{self.new}")

    def exec_module(self, module: ModuleType) -> None:
        # The module is the new one, already executed: the old name is only an alias.
        return None


class _MovedFinder:
    """A meta path finder (``find_spec``)."""

    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        prefix, _, name = fullname.partition(".")
        if prefix != "analysis" or name not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, _MovedLoader(name, MOVED[name]))


def install() -> None:
    if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
        sys.meta_path.append(_MovedFinder())
