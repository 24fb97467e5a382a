"""Prüfsummen: the one SHA-256 helper for raw files, manifests and report templates."""

from __future__ import annotations

import hashlib
from functools import lru_cache
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


@lru_cache(maxsize=1)
def package_source_sha256() -> str:
    """SHA-256 over the package's own code and reference files: what a report's content
    can depend on beyond data and configuration (a version number misses unreleased edits)."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".csv", ".css", ".j2", ".json"}:
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(sha256_file(path).encode())
    return digest.hexdigest()
