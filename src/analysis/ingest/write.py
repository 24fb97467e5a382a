"""Aufbereitete Daten schreiben: Parquet, abgelehnte Zeilen und Manifest, atomar ersetzt.

The target folder is built beside the old one and swapped in one step, so a crash or a
refused file leaves the last good state in place.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.checksums import sha256_file
from analysis.contract.safety import csv_cell
from analysis.contract.schema import MANIFEST, PATTERN_FOLDER, REJECTS_FOLDER
from analysis.errors import FhError, os_error_text
from analysis.ingest.manifest import TableReport, table_entry

_KEEP_IN_TARGET = ("README.md", ".gitkeep", ".gitignore")
#: Rows per Parquet row group. The contacts arrive year after year, so a group holds about
#: one year at scale 60 and a question for one year reads only the groups whose statistics
#: admit it (``data._LazyTables.select``); pyarrow's default of about a million rows put
#: fifteen years into one group.
ROW_GROUP_ROWS = 65_536
#: Tables written at the same time: the others need not wait behind the largest
#: (erstkontakte, a quarter of a second at scale 60); pyarrow writes without Python's lock.
WRITERS = 2

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
        try:
            foreign = [p.name for p in target.iterdir() if p.name not in _KEEP_IN_TARGET]
        except OSError as exc:
            raise FhError(f"Zielordner {target} ist nicht lesbar: {os_error_text(exc)}.") from exc
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


def _work_prefix(target: Path, kind: str) -> str:
    """Prefix of this process's build (``neu``) and fallback (``alt``) folders beside target.

    Host and process id in the name let the next run tell a folder of a killed run (remove
    it) from one a running preparation is building right now (leave it).
    """
    return f".{target.name}.{kind}-{_host()}-{os.getpid()}-"


def _host() -> str:
    """This machine's name as it appears in build folder names: letters and digits, at most
    20 (``clean_stale`` must read back exactly what ``_work_prefix`` wrote)."""
    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:20] or "host"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def clean_stale(target: Path) -> list[str]:
    """Remove build folders a killed ``aufbereiten`` left beside ``target``.

    A previous state parked in an ``alt`` folder (killed between the two renames of the
    fallback swap) is put back first when ``target`` itself is missing. Returns the names
    removed. Folders of other hosts and of live processes are left alone, and so is a
    symbolic link (this program never makes one); folders of earlier versions (no process id
    in the name) count as stale. A folder that cannot be removed is not named.
    """
    parent = target.parent
    if not parent.is_dir():
        return []
    host = _host()
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(neu|alt)-(?:([A-Za-z0-9]+)-(\d+)-)?")
    removed: list[str] = []
    for folder in sorted(parent.iterdir()):
        match = pattern.match(folder.name)
        if not match or folder.is_symlink() or not folder.is_dir():
            continue
        kind, owner, pid = match.groups()
        if pid is not None and (owner != host or _pid_alive(int(pid))):
            continue
        if kind == "alt" and not target.exists() and (folder / target.name / MANIFEST).is_file():
            os.rename(folder / target.name, target)
        shutil.rmtree(folder, ignore_errors=True)  # a leftover must not stop this run
        if not folder.exists():
            removed.append(folder.name)
    return removed


def _swap_in(build: Path, target: Path) -> None:
    """Replace ``target`` by ``build``; readers see either the old or the new folder."""
    if not target.exists():
        os.rename(build, target)
        return
    for keep in _KEEP_IN_TARGET:
        if (target / keep).is_file():
            shutil.copy2(target / keep, build / keep)
    # The stored patterns stay: each is keyed by the content of the data, so one that no
    # longer fits is recomputed, and the same data keep theirs (make berichte runs
    # aufbereiten before every batch).
    if (target / PATTERN_FOLDER).is_dir():
        shutil.copytree(target / PATTERN_FOLDER, build / PATTERN_FOLDER)
    if _exchange(build, target):
        shutil.rmtree(build, ignore_errors=True)  # now holds the previous state
        return
    # Fallback: two renames; between them the old state sits intact in a sibling folder.
    old = Path(tempfile.mkdtemp(prefix=_work_prefix(target, "alt"), dir=target.parent))
    os.rename(target, old / target.name)
    try:
        os.rename(build, target)
    except OSError:
        os.rename(old / target.name, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


class Build:
    """The new processed folder, built beside ``target`` and swapped in by ``finish``.

    Each table is written as soon as it is checked (``table``), in writer threads while the
    next table is checked, so its rows need not wait in memory for the others.
    A full disk, a read-only or vanished folder ends in a German ``FhError`` with the
    previous state in place and no build folder left behind; so does any other failure
    before the swap (``discard``).
    """

    def __init__(self, target: Path) -> None:
        self.target = target
        self.folder: Path | None = None
        self._writer = ThreadPoolExecutor(max_workers=WRITERS, thread_name_prefix="schreiben")
        self._written: list[Future[None]] = []
        with self._errors():
            target.parent.mkdir(parents=True, exist_ok=True)
            clean_stale(target)
            self.folder = Path(
                tempfile.mkdtemp(prefix=_work_prefix(target, "neu"), dir=target.parent)
            )
            (self.folder / REJECTS_FOLDER).mkdir()

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            self.discard()
            raise FhError(
                f"Die aufbereiteten Daten konnten nicht nach {self.target} geschrieben werden: "
                f"{os_error_text(exc)}. Die bisherigen Daten bleiben unverändert."
            ) from exc
        except BaseException:
            self.discard()
            raise

    def table(self, report: TableReport, accepted: pd.DataFrame, rejects: pd.DataFrame) -> None:
        """Write one table's Parquet file and rejects (in a writer thread)."""
        assert self.folder is not None
        self._written.append(
            self._writer.submit(self._write, self.folder, report, accepted, rejects)
        )

    @staticmethod
    def _write(
        folder: Path, report: TableReport, accepted: pd.DataFrame, rejects: pd.DataFrame
    ) -> None:
        path = folder / f"{report.name}.parquet"
        accepted.to_parquet(
            path,
            index=False,
            row_group_size=ROW_GROUP_ROWS,
            write_statistics=_with_statistics(accepted),
        )
        report.parquet_sha256 = sha256_file(path)
        write_rejects(rejects, folder / REJECTS_FOLDER / f"{report.name}.csv")

    def finish(self, reports: dict[str, TableReport], manifest_head: dict[str, Any]) -> None:
        """Wait for the tables, write the manifest and swap the folder in."""
        assert self.folder is not None
        with self._errors():
            for written in self._written:
                written.result()
            self._writer.shutdown()
            manifest = {
                **manifest_head,
                "tabellen": {n: table_entry(r) for n, r in reports.items()},
            }
            (self.folder / MANIFEST).write_text(
                json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
            )
            _swap_in(self.folder, self.target)
            self.folder = None

    def discard(self) -> None:
        self._writer.shutdown(cancel_futures=True)  # waits for a table being written
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


def _with_statistics(frame: pd.DataFrame) -> list[str]:
    """The columns whose row groups get their smallest and largest value: dates and numbers,
    by which a question for one year chooses its row groups (``data._row_groups_of_year``).
    Text and category columns get none: computing them took a third of writing
    erstkontakte, and nothing chooses row groups by them."""
    return [
        name
        for name, dtype in frame.dtypes.items()
        if pd.api.types.is_datetime64_any_dtype(dtype)
        or (pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype))
    ]


def write_rejects(frame: pd.DataFrame, path: Path) -> None:
    """The rejects of one table as CSV (UTF-8, ``;``); no cell can start a formula."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(csv_cell, na_action="ignore")
    safe.to_csv(path, sep=";", index=False, encoding="utf-8")
