"""Old flat module names keep working for one release, with a German warning."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from analysis import _compat


@pytest.mark.parametrize("old", sorted(_compat.MOVED))
def test_old_name_is_the_new_module_and_warns(old):
    code = (
        "import warnings, importlib\n"
        "warnings.simplefilter('error', FutureWarning)\n"
        f"try:\n    importlib.import_module('analysis.{old}')\n"
        "except FutureWarning as w:\n    print(w)\n"
    )
    # A fresh interpreter: the alias warns on first import only.
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert f"analysis.{old} ist veraltet" in out.stdout
    assert f"analysis.{_compat.MOVED[old]}" in out.stdout


def test_old_and_new_name_share_one_module_object(monkeypatch):
    import analysis

    # Forget an earlier import of the alias in this process, so it is resolved afresh.
    monkeypatch.delitem(sys.modules, "analysis.report_sections", raising=False)
    monkeypatch.delattr(analysis, "report_sections", raising=False)
    with pytest.warns(FutureWarning, match="analysis.report_sections ist veraltet"):
        from analysis import report_sections
    assert report_sections is importlib.import_module("analysis.reporting.sections")


def test_old_catalogue_names_on_the_indicators_package():
    from analysis.indicators import catalogue

    with pytest.warns(FutureWarning, match="indicators.catalogue.CATALOGUE"):
        from analysis.indicators import CATALOGUE
    assert CATALOGUE is catalogue.CATALOGUE


def test_unknown_names_are_still_unknown():
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("analysis.gibt_es_nicht")
