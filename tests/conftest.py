"""Test-wide settings: no test writes into the real user's cache folder."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def _private_cache_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The holidays store (``$XDG_CACHE_HOME/fh-analytik``) of this test session, also for
    the commands and kernels the tests start (they inherit the environment)."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
