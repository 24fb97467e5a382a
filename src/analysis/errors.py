"""The one exception type for expected user errors (bad file, unknown site, ...).

It carries a German message for the user and the exit status the command line returns;
anything else that goes wrong is a bug and keeps its traceback.
"""

from __future__ import annotations


class FhError(Exception):
    """An expected error with a German message meant for the user."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message
