"""Aufbereitete Daten schreiben: Parquet, abgelehnte Zeilen und Manifest, atomar ersetzt.

The target folder is built beside the old one and swapped in one step, so a crash or a
refused file leaves the last good state in place.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.checksums import sha256_file
from analysis.contract.schema import MANIFEST, REJECTS_FOLDER
from analysis.errors import FhError
from analysis.ingest.manifest import TableReport, table_entry

_KEEP_IN_TARGET = ("README.md", ".gitkeep", ".gitignore")

# --------------------------------------------------------------------------- writing


def check_target(raw_dir: Path, target: Path) -> None:
    raw_r, tgt_r = raw_dir.resolve(), target.resolve()
    if tgt_r == raw_r or raw_r.is_relative_to(tgt_r) or tgt_r.is_relative_to(raw_r):
        raise FhError(
            f"Zielordner {target} und Rohdatenordner {raw_dir} dürfen nicht ineinander liegen "
            "(die Rohdaten würden sonst ersetzt)."
        )
    if target.exists() and not target.is_dir():
        raise FhError(f"Zielordner {target} ist eine Datei, kein Ordner.")
    if target.is_dir() and not (target / MANIFEST).exists():
        foreign = [p.name for p in target.iterdir() if p.name not in _KEEP_IN_TARGET]
        if foreign:
            raise FhError(
                f"Zielordner {target} enthält Dateien, die nicht von fh-analytik stammen "
                f"({', '.join(sorted(foreign)[:5])}). Er wird nicht ersetzt – bitte einen leeren "
                "oder einen früheren Zielordner angeben."
            )


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one atomic step (Linux ``renameat2``); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return rc == 0


def _swap_in(build: Path, target: Path) -> None:
    """Replace ``target`` by ``build``; readers see either the old or the new folder."""
    if not target.exists():
        os.rename(build, target)
        return
    for keep in _KEEP_IN_TARGET:
        if (target / keep).is_file():
            shutil.copy2(target / keep, build / keep)
    if _exchange(build, target):
        shutil.rmtree(build, ignore_errors=True)  # now holds the previous state
        return
    # Fallback: two renames; between them the old state sits intact in a sibling folder.
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.alt-", dir=target.parent))
    os.rename(target, old / target.name)
    try:
        os.rename(build, target)
    except OSError:
        os.rename(old / target.name, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def write(
    target: Path,
    reports: dict[str, TableReport],
    accepted: dict[str, pd.DataFrame],
    rejects: dict[str, pd.DataFrame],
    manifest_head: dict[str, Any],
) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=f".{target.name}.neu-", dir=target.parent))
    try:
        (build / REJECTS_FOLDER).mkdir()
        for name, frame in accepted.items():
            path = build / f"{name}.parquet"
            frame.to_parquet(path, index=False)
            reports[name].parquet_sha256 = sha256_file(path)
            rejects[name].to_csv(
                build / REJECTS_FOLDER / f"{name}.csv", sep=";", index=False, encoding="utf-8"
            )
        manifest = {
            **manifest_head,
            "tabellen": {n: table_entry(r) for n, r in reports.items()},
        }
        (build / MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        _swap_in(build, target)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
