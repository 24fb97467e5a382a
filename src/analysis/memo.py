"""Results of pure computations, shared by the reports of one batch run.

Several reports of a year compute the same thing: every site's cost report shows the
municipality's HzE forecast and trend tests (the HzE costs are the youth office's, not a
site's), each a series of model fits. The batch gives its workers a folder of its own for
one run (:data:`ENV`); a function marked :func:`shared` keeps its result there, under its
name, the program code and its arguments (tables by content). The next report with the
same arguments reads the result instead of computing it again – the same value, because the
function is pure.

Without the variable – in JupyterLab, under the ``papermill`` CLI, in the tests – nothing is
kept: every call computes. Only functions whose result depends on nothing but their
arguments may be marked.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

#: The batch run's folder for shared results (unset: nothing is kept).
ENV = "FH_ANALYTIK_ZWISCHENSPEICHER"

F = TypeVar("F", bound=Callable[..., Any])


def _feed(digest: Any, value: Any) -> None:
    """Add ``value`` to the key; raise ``TypeError`` for what has no reliable content hash."""
    if isinstance(value, pd.DataFrame):
        digest.update(b"frame")
        digest.update(json.dumps([(str(c), str(t)) for c, t in value.dtypes.items()]).encode())
        digest.update(pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes())
    elif value is None or isinstance(value, bool | int | float | str):
        digest.update(f"{type(value).__name__}:{value!r}".encode())
    else:
        raise TypeError(type(value).__name__)


def key_of(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    from analysis.checksums import package_source_sha256

    digest = hashlib.sha256(f"{func.__module__}.{func.__qualname__}".encode())
    digest.update(package_source_sha256().encode())
    for value in args:
        _feed(digest, value)
    for name in sorted(kwargs):
        digest.update(name.encode())
        _feed(digest, kwargs[name])
    return digest.hexdigest()


def shared(func: F) -> F:
    """Keep ``func``'s results for the other reports of the batch run (see module text)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        folder = os.environ.get(ENV)
        if not folder:
            return func(*args, **kwargs)
        try:
            key = key_of(func, args, kwargs)
        except TypeError:  # an argument without content hash: compute, keep nothing
            return func(*args, **kwargs)
        path = Path(folder) / f"{func.__qualname__}-{key}.pickle"
        try:
            with path.open("rb") as fh:
                return pickle.load(fh)  # the batch run's own private folder
        except (OSError, EOFError, pickle.UnpicklingError):
            pass
        result = func(*args, **kwargs)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with tmp.open("wb") as fh:
                pickle.dump(result, fh)
            os.replace(tmp, path)
        except (OSError, pickle.PicklingError, TypeError, AttributeError):
            tmp.unlink(missing_ok=True)  # not kept: the next report computes it again
        return result

    return wrapper  # type: ignore[return-value]
