"""One process at a time on a run directory: an advisory lock on RUN/lock naming its holder.

Two processes on one run would each pay for the calls the other is making. The lock is a
``flock`` on ``RUN/lock``, so the kernel releases it when its holder dies (even by kill -9)
and a stale lock never blocks a resume; the file holds the holder's pid for the message.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

from factory.errors import RunDirError

LOCK_FILE = "lock"


def in_progress_message(root: Path, pid: int | None) -> str:
    """What to tell a user who points a second command at a live run."""
    who = f"pid {pid}" if pid else "another process"
    stop = f" (kill -INT {pid} stops it cleanly)" if pid else ""
    return (
        f"{root}: the run is in progress ({who} holds it); wait for it to finish, or stop "
        f"it{stop} and then `factory resume {root}`"
    )


def _read_pid(fd: int) -> int | None:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 64).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None


def holder(root: Path) -> int | None:
    """The pid of the process running ``root`` (0 when it cannot be told); None when the run
    is not in progress."""
    path = Path(root) / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None  # no lock file: no run was ever started here by this factory
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_pid(fd) or 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


class RunLock:
    """The exclusive lock of one run directory, held while a process works on it."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise RunDirError naming the process that holds it."""
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise RunDirError(
                    f"{self.root}: the run directory is read-only ({exc.strerror}); a run "
                    "needs to write its state there. Make it writable, or copy it elsewhere "
                    "and resume the copy"
                ) from None
            raise
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            os.close(fd)
            raise RunDirError(in_progress_message(self.root, pid)) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        """Let go of the lock (the file stays: removing it would race a new holder)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
