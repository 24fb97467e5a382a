"""Kept results (the year's protection pattern, the holidays of a Land): written whole or
not at all, read only when sound; a place that cannot be used only costs computing again."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def store_json(path: Path, value: Any) -> None:
    """Write ``value`` as JSON to ``path`` atomically: into a new temporary file beside it
    (created exclusively, so nothing placed there beforehand is followed), then renamed over
    it; missing folders are created. A full disk, a read-only or blocked folder, or a value
    that is no valid UTF-8 text raises nothing and leaves no temporary file: the next
    reader computes the value again."""
    try:
        data = json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from some input: not kept
        return
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except OSError:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def load_json(path: Path) -> Any:
    """The JSON value kept at ``path``; ``None`` when there is none or it is not sound: no
    regular file (a pipe would wait for ever), unreadable, not JSON or nested too deeply."""
    try:
        if not path.is_file():
            return None
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
