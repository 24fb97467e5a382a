"""The engine ``fh-analytik`` as Papermill's entry point (group ``papermill.engine``).

Papermill loads its entry points while it is itself being imported. A module that imports
papermill at its top (as ``analysis.reporting.engine`` must, to subclass its engine) would
be loaded half-way and break every ``import papermill``. This class imports nothing at
load time and hands each call on to the real engine.
"""

from __future__ import annotations

from typing import Any


class KeptKernelEngine:
    """Stand-in registered by the entry point; Papermill calls only ``execute_notebook``."""

    @classmethod
    def execute_notebook(cls, *args: Any, **kwargs: Any) -> Any:
        from analysis.reporting.engine import KeptKernelEngine as engine

        return engine.execute_notebook(*args, **kwargs)
