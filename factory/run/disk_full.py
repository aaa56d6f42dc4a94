"""A full disk stops a run with one line and the command that continues it.

Every write a run makes can meet a full disk: the state store and the LLM cache
(SQLite says "database or disk is full"), rows shards, the ROUGE index log. None of
them loses a committed decision (each is atomic), so the run stops, and once there
is room again (or the run directory is copied somewhere with room) `factory resume`
continues it.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

from factory.errors import RunDirError

_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def is_disk_full(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or an exception it was raised from or during) is a full disk."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
            return True
        if isinstance(exc, sqlite3.OperationalError) and "disk is full" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def disk_full_error(root: Path, exc: BaseException) -> RunDirError:
    """The one-line error for a run that stopped on a full disk."""
    return RunDirError(
        f"the disk is full: {exc} (writing {root}). Every decision committed so far is kept; "
        f"free some space (or copy the run directory somewhere with room), then: "
        f"factory resume {root}"
    )
