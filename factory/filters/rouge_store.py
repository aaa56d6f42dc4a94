"""On-disk state of a persistent ``RougeIndex``: an append-only log and a snapshot of the index.

The log (the file the user names) is the source of truth. Its first line is a header
(format, version, and a random *generation* id, new whenever the log is rewritten);
every other line is one record, ``<crc32 hex> <json>``::

    ["a", doc_id, "tokens in text order", "their,elements,order 2"]
    ["d", doc_id]

Each record is written with one ``write`` on an ``O_APPEND`` descriptor before the
index changes in memory: a process killed at any moment leaves every completed record
on disk, and at most a torn last line, which the next open drops (and cuts off, so later
records do not glue onto it). A bad line *followed by good ones* is corruption, not a
torn write, and is reported. ``sync=True`` also fsyncs each record (power loss too).

The snapshot (``<log>.snapshot``) is the index's own in-memory structure (members and
posting lists, marshalled, with a checksum) as of a byte offset in the log of one
generation. Opening loads it and applies only the records after that offset: nothing is
tokenized (records carry tokens and elements) and only those records are indexed. It is
rewritten (to a temporary file, then renamed) when the index is closed and when the
tail reaches half the pool (at least 1000 records), so a killed run replays at most
that much. A snapshot that is missing, damaged, of another generation or Python, or
ahead of the log is not used: the whole log is applied instead, giving the same index.

One process at a time: the log is locked with ``flock`` while it is open. When more
than half of the records are dead (replaced or removed members), opening rewrites the
log with the live members only (a new generation; temporary file, fsynced, renamed).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import marshal
import os
import sys
import uuid
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from factory.errors import RunDirError

FORMAT = "factory.rouge-index"
FORMAT_VERSION = 2
_SNAPSHOT_FORMAT = "factory.rouge-index.snapshot"
_COMPACT_MIN_RECORDS = 1000
_SNAPSHOT_MIN_TAIL = 1000

# A record as applied to the index: ("a", doc_id, tokens, elements) or ("d", doc_id).
Record = tuple[Any, ...]


class RougeIndexFileError(RunDirError):
    """A ROUGE index log is corrupt, from another format version, or in use."""


@dataclass
class Opened:
    """What opening found: the snapshot's state (or None) and the records to apply after it."""

    state: Any
    tail: list[Record]


def _line(payload: object) -> bytes:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return b"%08x %s\n" % (zlib.crc32(body), body)


def _add_line(doc_id: str, tokens: Iterable[str], elements: Iterable[str]) -> bytes:
    return _line(["a", doc_id, " ".join(tokens), ",".join(elements)])


def _parse(line: bytes) -> object:
    """The payload of one complete line, or raise ValueError when it does not check out."""
    crc, sep, body = line.partition(b" ")
    if not sep or len(crc) != 8 or int(crc, 16) != zlib.crc32(body):
        raise ValueError("checksum mismatch")
    return json.loads(body)


def _record(payload: Any) -> Record:
    if not isinstance(payload, list):
        raise ValueError("not a record")
    op = payload[0]
    if op == "a":
        tokens = tuple(payload[2].split(" ")) if payload[2] else ()
        elements = tuple(payload[3].split(",")) if payload[3] else ()
        return ("a", str(payload[1]), tokens, elements)
    if op == "d":
        return ("d", str(payload[1]))
    raise ValueError(f"unknown record {op!r}")


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
    """An open, locked index log and its snapshot. ``close`` releases the lock."""

    def __init__(self, path: Path, fd: int, generation: str, *, sync: bool) -> None:
        self.path = path
        self.snapshot_path = path.with_name(path.name + ".snapshot")
        self._fd: int | None = fd
        self._generation = generation
        self._sync = sync
        self.records = 0  # records in the log
        self.tail = 0  # records after the snapshot's offset

    @classmethod
    def open(cls, path: Path, *, sync: bool = False) -> tuple[RougeStore, Opened]:
        """Open (or create) the log at ``path``; return it and what to restore from it."""
        path = Path(path)
        fd = _open_locked(path)
        try:
            data = os.pread(fd, os.fstat(fd).st_size, 0)
            start, generation = _read_header(path, data)
            store = cls(path, fd, generation, sync=sync)
            meta, state = store._load_snapshot()
            if meta is not None and _snapshot_fits(meta, generation, data):
                start, before = meta["offset"], meta["records"]
            else:
                state, before = None, 0
            tail, good_length = _read_records(path, data, start)
            if good_length < len(data):  # a torn last record: drop it before appending
                os.ftruncate(fd, good_length)
            store.records, store.tail = before + len(tail), len(tail)
        except BaseException:
            os.close(fd)
            raise
        return store, Opened(state, tail)

    def append_add(self, doc_id: str, tokens: Iterable[str], elements: Iterable[str]) -> None:
        self._append(_add_line(doc_id, tokens, elements))

    def append_remove(self, doc_id: str) -> None:
        self._append(_line(["d", doc_id]))

    def compaction_due(self, live: int) -> bool:
        return self.records >= _COMPACT_MIN_RECORDS and self.records > 2 * live

    def snapshot_due(self, live: int) -> bool:
        return self.tail >= max(_SNAPSHOT_MIN_TAIL, live // 2)

    def save_snapshot(self, state: Any) -> None:
        """Record ``state`` as the index after every record written so far."""
        fd = self._require_open()
        meta = {
            "format": _SNAPSHOT_FORMAT,
            "python": list(sys.version_info[:2]),
            "generation": self._generation,
            "offset": os.fstat(fd).st_size,
            "records": self.records,
        }
        body = marshal.dumps((meta, state))
        tmp = self.snapshot_path.with_name(self.snapshot_path.name + ".tmp")
        tmp.write_bytes(b"%08x" % zlib.crc32(body) + body)
        os.replace(tmp, self.snapshot_path)
        self.tail = 0

    def rewrite(self, members: Iterable[tuple[str, Iterable[str], Iterable[str]]]) -> None:
        """Replace the log by one add per member (a new generation, locked before visible)."""
        self._require_open()
        generation = uuid.uuid4().hex
        tmp = self.path.with_name(self.path.name + ".compact")
        fd = os.open(tmp, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            lines = [_header(generation)]
            lines += (_add_line(doc_id, tokens, elements) for doc_id, tokens, elements in members)
            _write_all(fd, b"".join(lines))
            os.fsync(fd)
            os.replace(tmp, self.path)
            _fsync_dir(self.path)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise
        self.close()
        self._fd, self._generation = fd, generation
        self.records = self.tail = len(lines) - 1

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # also releases the flock
            self._fd = None

    def _require_open(self) -> int:
        if self._fd is None:
            raise ValueError(f"the ROUGE index log {self.path} is closed")
        return self._fd

    def _append(self, line: bytes) -> None:
        fd = self._require_open()
        _write_all(fd, line)
        if self._sync:
            os.fsync(fd)
        self.records += 1
        self.tail += 1

    def _load_snapshot(self) -> tuple[dict[str, Any] | None, Any]:
        try:
            raw = self.snapshot_path.read_bytes()
        except FileNotFoundError:
            return None, None
        body = raw[8:]
        try:
            if int(raw[:8], 16) != zlib.crc32(body):
                return None, None
            meta, state = marshal.loads(body)
        except (ValueError, TypeError, EOFError):
            return None, None
        if not isinstance(meta, dict) or meta.get("format") != _SNAPSHOT_FORMAT:
            return None, None
        return meta, state


def _header(generation: str) -> bytes:
    return _line({"format": FORMAT, "version": FORMAT_VERSION, "generation": generation})


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
        _write_all(fd, _header(uuid.uuid4().hex))
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


def _read_header(path: Path, data: bytes) -> tuple[int, str]:
    """Where the records start, and the log's generation."""
    end = data.find(b"\n")
    try:
        header = _parse(data[:end]) if end >= 0 else None
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise RougeIndexFileError(f"{path}: not a ROUGE index log (bad header line)")
    if header.get("version") != FORMAT_VERSION:
        raise RougeIndexFileError(
            f"{path}: ROUGE index log format {header.get('version')}, this factory reads "
            f"{FORMAT_VERSION}; delete the file to rebuild the index"
        )
    return end + 1, str(header.get("generation"))


def _snapshot_fits(meta: dict[str, Any], generation: str, data: bytes) -> bool:
    """Whether the snapshot saw a prefix of this very log (and this Python wrote it)."""
    offset = meta.get("offset")
    return (
        meta.get("generation") == generation
        and meta.get("python") == list(sys.version_info[:2])
        and isinstance(offset, int)
        and isinstance(meta.get("records"), int)
        and 0 < offset <= len(data)
        and data[offset - 1 : offset] == b"\n"
    )


def _read_records(path: Path, data: bytes, start: int) -> tuple[list[Record], int]:
    """The records from byte ``start`` on, and the length of the intact part of the log."""
    lines = data[start:].split(b"\n")
    torn = lines.pop()  # bytes after the last newline: empty, or a torn record
    first = data.count(b"\n", 0, start) + 1  # line number of the first record read
    records: list[Record] = []
    offset = start
    for number, line in enumerate(lines, start=first):
        try:
            records.append(_record(_parse(line)))
        except (ValueError, IndexError, KeyError, TypeError, AttributeError) as exc:
            if number == first + len(lines) - 1 and not torn:  # the last line: a torn write
                break
            raise RougeIndexFileError(f"{path}, line {number}: corrupt record ({exc})") from None
        offset += len(line) + 1
    return records, offset
