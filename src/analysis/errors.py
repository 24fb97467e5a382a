"""The one exception type for expected user errors (bad file, unknown site, ...).

It carries a German message for the user and the exit status the command line returns;
anything else that goes wrong is a bug and keeps its traceback. ``os_error_text`` says in
German what a full disk, a read-only or a missing folder is, for the messages built on it.
"""

from __future__ import annotations

import errno


class FhError(Exception):
    """An expected error with a German message meant for the user."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


#: What a full disk, a read-only or a missing folder raise (not: timeouts and broken
#: connections, which Python also files under OSError).
STORAGE_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EROFS,
        errno.EACCES,
        errno.EPERM,
        errno.ENOENT,
        errno.ENOTDIR,
        errno.EISDIR,
        errno.EEXIST,
        errno.ENAMETOOLONG,
        errno.EIO,
        errno.EFBIG,
    }
)


def is_storage_error(exc: BaseException) -> bool:
    """Did writing or reading a file fail (rather than a kernel, a timeout, a bug)?"""
    return isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS


def os_error_text(exc: OSError) -> str:
    """``[Errno 28] No space left on device: '/x'`` in German words, with the path."""
    reason = {
        errno.ENOSPC: "kein Speicherplatz mehr auf dem Datenträger",
        errno.EDQUOT: "Speicherkontingent erschöpft",
        errno.EROFS: "Datenträger ist schreibgeschützt",
        errno.EACCES: "keine Berechtigung",
        errno.EPERM: "keine Berechtigung",
        errno.ENOENT: "Ordner oder Datei gibt es nicht",
        errno.ENOTDIR: "ein Teil des Pfads ist kein Ordner",
        errno.EEXIST: "gibt es schon, aber nicht als Ordner",
        errno.ENAMETOOLONG: "Dateiname zu lang",
    }.get(exc.errno or 0, exc.strerror or type(exc).__name__)
    where = exc.filename if exc.filename is not None else None
    return f"{reason} ({where})" if where else reason
