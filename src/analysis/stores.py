"""Kept results (the year's protection pattern, the holidays of a Land): written whole or
not at all, and a place that cannot be written only costs computing them again."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any


def store_json(path: Path, value: Any) -> None:
    """Write ``value`` as JSON to ``path`` atomically: into a temporary file beside it, then
    renamed over it, missing folders created. A full disk, a read-only or blocked folder
    raises nothing and leaves no temporary file: the next reader computes the value again."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
