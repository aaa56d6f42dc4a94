"""The on-disk log of a persistent ``RougeIndex``: one line per add or remove, safe across kill -9.

The file is append-only. Its first line is a header (the format and its version); every
other line is one record, ``<crc32 hex> <json>``::

    ["a", doc_id, "tokens in text order", "their,elements,order 2"]
    ["d", doc_id]

An add stores the member's tokens and its set elements (token occurrences, see
``rouge_index.elements``), so opening the log rebuilds the index without tokenizing or
deriving anything: it only fills the posting lists. Each
record is written with one ``write`` on an ``O_APPEND`` descriptor as soon as the index
changes: a process killed at any moment leaves every completed record on disk, and at
most a torn last line, which the next open drops (and cuts off, so later records do not
glue onto it). A bad line *followed by good ones* is corruption, not a torn write, and is
reported. ``sync=True`` also fsyncs each record, which protects against power loss too.

One process at a time: the log is locked with ``flock`` while it is open. When more
than half of the records are dead (replaced or removed members), opening rewrites the
log with the live members only (into a temporary file, fsynced, renamed over the old).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from factory.errors import RunDirError

FORMAT = "factory.rouge-index"
FORMAT_VERSION = 1
_COMPACT_MIN_RECORDS = 1000


class RougeIndexFileError(RunDirError):
    """A ROUGE index log is corrupt, from another format version, or in use."""


@dataclass(frozen=True)
class StoredMember:
    """One live member as the log holds it: its tokens and its set elements."""

    doc_id: str
    tokens: tuple[str, ...]
    elements: tuple[str, ...]


def _line(payload: object) -> bytes:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return b"%08x %s\n" % (zlib.crc32(body), body)


def _parse(line: bytes) -> object:
    """The payload of one complete line, or raise ValueError when it does not check out."""
    crc, sep, body = line.partition(b" ")
    if not sep or len(crc) != 8 or int(crc, 16) != zlib.crc32(body):
        raise ValueError("checksum mismatch")
    return json.loads(body)


def _split(text: str, sep: str) -> tuple[str, ...]:
    return tuple(text.split(sep)) if text else ()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class RougeStore:
    """An open, locked index log. Use ``RougeStore.open``; ``close`` releases the lock."""

    def __init__(self, path: Path, fd: int, *, sync: bool) -> None:
        self.path = path
        self._fd: int | None = fd
        self._sync = sync

    @classmethod
    def open(cls, path: Path, *, sync: bool = False) -> tuple[RougeStore, dict[str, StoredMember]]:
        """Open (or create) the log at ``path``; return it and the live members it holds."""
        path = Path(path)
        fd = _open_locked(path)
        try:
            members, records, good_length, size = _replay(path, fd)
            if good_length < size:  # a torn last record: drop it before appending
                os.ftruncate(fd, good_length)
            store = cls(path, fd, sync=sync)
            if records >= _COMPACT_MIN_RECORDS and records > 2 * len(members):
                store._compact(members.values())
        except BaseException:
            os.close(fd)
            raise
        return store, members

    def append_add(self, doc_id: str, tokens: Iterable[str], elements: Iterable[str]) -> None:
        self._append(_line(["a", doc_id, " ".join(tokens), ",".join(elements)]))

    def append_remove(self, doc_id: str) -> None:
        self._append(_line(["d", doc_id]))

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # also releases the flock
            self._fd = None

    def _append(self, line: bytes) -> None:
        if self._fd is None:
            raise ValueError(f"the ROUGE index log {self.path} is closed")
        _write_all(self._fd, line)
        if self._sync:
            os.fsync(self._fd)

    def _compact(self, members: Iterable[StoredMember]) -> None:
        """Rewrite the log with only ``members``; the new file is locked before it is visible."""
        tmp = self.path.with_name(self.path.name + ".compact")
        fd = os.open(tmp, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            chunks = [_header()]
            chunks += (
                _line(["a", m.doc_id, " ".join(m.tokens), ",".join(m.elements)]) for m in members
            )
            _write_all(fd, b"".join(chunks))
            os.fsync(fd)
            os.replace(tmp, self.path)
            _fsync_dir(self.path)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise
        self.close()
        self._fd = fd


def _header() -> bytes:
    return _line({"format": FORMAT, "version": FORMAT_VERSION})


def _open_locked(path: Path) -> int:
    """A descriptor of the log at ``path`` (created when missing), exclusively locked."""
    if path.is_dir():
        raise RougeIndexFileError(
            f"{path} is a directory; give the index a file, e.g. {path / 'rouge_index.log'}"
        )
    for _ in range(5):
        if not path.exists():
            _create(path)
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RougeIndexFileError(
                f"{path}: the ROUGE index is open in another process; close it first"
            ) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # replaced (compacted or recreated) between open and lock: retry
    raise RougeIndexFileError(f"{path}: the ROUGE index file keeps being replaced; is it shared?")


def _create(path: Path) -> None:
    """Create the log with its header atomically, so a log on disk always has one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.new-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        _write_all(fd, _header())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # fails when another process created it first: keep theirs
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    _fsync_dir(path)


def _replay(path: Path, fd: int) -> tuple[dict[str, StoredMember], int, int, int]:
    """Live members, record count, length of the intact part, and file size."""
    size = os.fstat(fd).st_size
    data = os.pread(fd, size, 0)
    lines = data.split(b"\n")
    tail = lines.pop()  # bytes after the last newline: empty, or a torn record
    try:
        header = _parse(lines[0]) if lines else None
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise RougeIndexFileError(f"{path}: not a ROUGE index log (bad header line)")
    if header.get("version") != FORMAT_VERSION:
        raise RougeIndexFileError(
            f"{path}: ROUGE index log format {header.get('version')}, this factory reads "
            f"{FORMAT_VERSION}; delete the file to rebuild the index"
        )
    members: dict[str, StoredMember] = {}
    good_length = len(lines[0]) + 1
    for number, line in enumerate(lines[1:], start=2):
        try:
            record = _parse(line)
            op, doc_id = record[0], record[1]
            if op == "a":
                members[doc_id] = StoredMember(
                    doc_id, _split(record[2], " "), _split(record[3], ",")
                )
            elif op == "d":
                members.pop(doc_id, None)
            else:
                raise ValueError(f"unknown record {op!r}")
        except (ValueError, IndexError, KeyError, TypeError) as exc:
            if number == len(lines) and not tail:  # the last line: a torn write, drop it
                break
            raise RougeIndexFileError(f"{path}, line {number}: corrupt record ({exc})") from None
        good_length += len(line) + 1
    return members, len(lines) - 1, good_length, size
