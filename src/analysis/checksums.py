"""Prüfsummen: the one SHA-256 helper for raw files, manifests and report templates."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in chunks (raw files can be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_file_or_none(path: Path) -> str | None:
    """Like :func:`sha256_file`, ``None`` when there is no such file."""
    return sha256_file(path) if path.is_file() else None
