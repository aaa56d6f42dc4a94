"""The sandbox runner: the container's PID 1. Standard library only; copied into the image.

Protocol (JSON lines): on start the runner writes {"ready": true, ...} to stdout. Then for
each request line on stdin, {"op": "run", "job": {...}}, it writes exactly one reply line
{"ok": true, "result": {...}} (or {"ok": false, "error": "..."} for a request it cannot parse).
EOF on stdin ends the runner, and with it the container.

Per job: write the files into a fresh /work/job, fork a child in a new session under rlimits
with stdin/stdout/stderr pipes and the report pipe on fd 3, read the pipes with caps, SIGKILL
every process of the job at the deadline, then kill whatever it left (kill(-1, SIGKILL)),
reap the zombies and wipe /work, /tmp, /dev/shm, /dev/mqueue and SysV IPC objects.

Why PID 1 and no handlers: the kernel drops every signal sent to a namespace's init from inside
that namespace unless init installed a handler for it, so the child (same uid) cannot kill or
stop the runner. PR_SET_DUMPABLE=0 keeps it from ptracing the runner or opening /proc/1/fd.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import resource
import selectors
import signal
import socket
import sys
import time
import traceback

PROTOCOL = 1
WORK_ROOT = "/work"
JOB_DIR = "/work/job"
SCRATCH_DIRS = ("/work", "/tmp", "/dev/shm", "/dev/mqueue")
REPORT_FD = 3
MAX_RECORDS = 10_000
MAX_RECORD_BYTES = 4_000_000
FSIZE_LIMIT = 64 * 1024 * 1024
CHUNK = 65536
REAP_GRACE_S = 5.0
CHILD_PATH = "/usr/local/bin:/usr/bin:/bin"
PR_SET_DUMPABLE = 4
OOM_CONTROL = "/sys/fs/cgroup/memory/memory.oom_control"

_libc = ctypes.CDLL(None, use_errno=True)


def _send(out, message: dict) -> None:
    out.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
    out.flush()


def _oom_kills() -> int:
    try:
        with open(OOM_CONTROL) as f:
            for line in f:
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
    except (OSError, ValueError):
        pass
    return -1


def _child_env(job: dict, workdir: str) -> dict[str, str]:
    env = {
        "PATH": CHILD_PATH,
        "HOME": workdir,
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        # Thread pools cannot start threads under a pids limit; keep them at one.
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "NUMEXPR_NUM_THREADS": "1",
        "FACTORY_REPORT_FD": str(REPORT_FD),
    }
    env.update(job.get("env") or {})
    return env


class _JobRejected(Exception):
    """The job itself cannot be set up (e.g. its files overflow /work); not a runner fault."""


def _write_files(files: dict[str, str], workdir: str) -> None:
    os.mkdir(workdir, 0o700)
    for rel, text in files.items():
        parts = rel.split("/")
        if rel.startswith("/") or ".." in parts or "" in parts:
            raise ValueError(f"bad job file path {rel!r}")
        path = os.path.join(workdir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogatepass") as f:
            f.write(text)


def _exec_child(job: dict, workdir: str, fds: tuple[int, int, int, int]) -> None:
    """In the forked child: set up fds, session, rlimits, then exec. Never returns."""
    try:
        os.setsid()
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 16) for fd in fds]  # no clash with 0..3
        for target, fd in enumerate(high):
            os.dup2(fd, target)
        os.closerange(REPORT_FD + 1, 65536)
        os.chdir(workdir)
        for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        mem = int(job["memory_mb"]) * 1024 * 1024
        cpu = int(job["timeout_s"]) + 2
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FSIZE_LIMIT, FSIZE_LIMIT))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        try:
            # Make the OOM killer pick the job, never the runner.
            with open("/proc/self/oom_score_adj", "w") as f:
                f.write("1000")
        except OSError:
            pass
        os.umask(0o077)
        argv = [str(a) for a in job["argv"]]
        os.execvpe(argv[0], argv, _child_env(job, workdir))
    except BaseException as exc:
        try:
            os.write(2, f"sandbox: cannot start {job.get('argv')!r}: {exc}\n".encode())
        finally:
            os._exit(127)


def _kill_all() -> None:
    """SIGKILL every process but ourselves (kill(-1) skips init and the caller)."""
    for _ in range(1000):
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            return
        except PermissionError:
            return


def _reap_all(deadline: float) -> bool:
    """Reap every child until none is left; False if some survive past the deadline."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return True
        if pid == 0:
            if time.monotonic() > deadline:
                return False
            _kill_all()
            time.sleep(0.002)


def _reap_orphans(main_pid: int) -> int | None:
    """Reap exited processes without blocking; the main child's wait status if it was one."""
    status = None
    while True:
        try:
            pid, st = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return status
        if pid == 0:
            return status
        if pid == main_pid:
            status = st


def _other_processes() -> list[int]:
    me = os.getpid()
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != me]


def _wipe(directory: str) -> None:
    """Delete everything under `directory` (not itself), fixing permissions on the way down.
    Iterative, so deep nesting cannot exhaust the runner's stack."""
    stack = [(directory, False)]
    while stack:
        path, visited = stack.pop()
        if visited:
            if path != directory:
                os.rmdir(path)
            continue
        if path != directory:
            os.chmod(path, 0o700)
        stack.append((path, True))
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, False))
                else:
                    os.unlink(entry.path)


def _remove_sysv_ipc() -> None:
    """Remove shared memory segments, semaphores and message queues the job created."""
    for name, column, remove in (
        ("shm", 1, lambda i: _libc.shmctl(i, 0, None)),
        ("sem", 1, lambda i: _libc.semctl(i, 0, 0)),
        ("msg", 1, lambda i: _libc.msgctl(i, 0, None)),
    ):
        try:
            with open(f"/proc/sysvipc/{name}") as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > column:
                remove(int(fields[column]))


def _leftovers() -> list[str]:
    left = []
    for directory in SCRATCH_DIRS:
        with contextlib.suppress(FileNotFoundError):
            left += [os.path.join(directory, n) for n in os.listdir(directory)]
    return left


def _cleanup() -> str | None:
    """Kill every process of the job, reap them, wipe scratch space. Returns a doubt or None."""
    _kill_all()
    if not _reap_all(time.monotonic() + REAP_GRACE_S):
        return f"processes survive the kill: {_other_processes()}"
    try:
        for directory, mode in _SCRATCH_MODES.items():
            if os.stat(directory).st_mode & 0o7777 != mode:
                os.chmod(directory, mode)  # the job may have locked its own dirs
            _wipe(directory)
        _remove_sysv_ipc()
    except OSError as exc:
        return f"cleanup failed: {exc}"

    if _other_processes():
        return f"processes survive the kill: {_other_processes()}"
    left = _leftovers()
    if left:
        return f"files survive the wipe: {left[:5]}"
    return None


class _Capture:
    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.data = bytearray()
        self.truncated = False

    def add(self, chunk: bytes) -> None:
        room = self.cap - len(self.data)
        if len(chunk) > room:
            self.truncated = True
            chunk = chunk[: max(room, 0)]
        self.data += chunk


def _parse_records(raw: bytes, truncated: bool) -> tuple[list[dict], bool]:
    records: list[dict] = []
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for line in lines:
        if not line.strip():
            continue
        if len(records) >= MAX_RECORDS:
            return records, True
        text = line.decode("utf-8", "replace")
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        records.append(value if isinstance(value, dict) else {"_malformed": text[:1000]})
    return records, truncated


def run_job(job: dict) -> dict:
    started = time.monotonic()
    timeout = float(job["timeout_s"])
    cap = int(job["max_output_bytes"])
    oom_before = _oom_kills()
    doubt = None
    try:
        _write_files(job.get("files") or {}, JOB_DIR)
    except (OSError, ValueError) as exc:
        raise _JobRejected(f"cannot write the job files: {exc}") from exc

    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    rep_r, rep_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        _exec_child(job, JOB_DIR, (in_r, out_w, err_w, rep_w))
    for fd in (in_r, out_w, err_w, rep_w):
        os.close(fd)

    deadline = started + timeout
    sel = selectors.DefaultSelector()
    captures = {out_r: _Capture(cap), err_r: _Capture(cap), rep_r: _Capture(MAX_RECORD_BYTES)}
    for fd in captures:
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ)
    stdin_data = memoryview(job.get("stdin", "").encode())
    os.set_blocking(in_w, False)
    if stdin_data:
        sel.register(in_w, selectors.EVENT_WRITE)
    else:
        os.close(in_w)
    pidfd = os.pidfd_open(pid)
    sel.register(pidfd, selectors.EVENT_READ)

    status = None
    timed_out = False
    while status is None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            break
        events = sel.select(min(remaining, 0.25))
        status = _reap_orphans(pid)  # daemonized grandchildren must not pile up as zombies
        for key, _ in events:
            fd = key.fd
            if fd == pidfd:
                if status is None:
                    _, status = os.waitpid(pid, 0)
            elif fd == in_w:
                try:
                    n = os.write(in_w, stdin_data[:CHUNK])
                    stdin_data = stdin_data[n:]
                except (BrokenPipeError, BlockingIOError) as exc:
                    if isinstance(exc, BrokenPipeError):
                        stdin_data = stdin_data[:0]
                if not stdin_data:
                    sel.unregister(in_w)
                    os.close(in_w)
            else:
                _read_into(sel, fd, captures[fd])
    elapsed = time.monotonic() - started

    # The main process is gone (or overdue): kill the whole tree and everything it left.
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)
    _kill_all()
    if status is None:
        _, status = os.waitpid(pid, 0)
    if not _reap_all(time.monotonic() + REAP_GRACE_S):
        doubt = f"processes survive the kill: {_other_processes()}"
    # Every writer is dead now: drain what is buffered until EOF.
    for key in list(sel.get_map().values()):
        fd = key.fd
        if fd in captures:
            while _read_into(sel, fd, captures[fd]):
                pass
    for key in list(sel.get_map().values()):
        sel.unregister(key.fd)
        os.close(key.fd)
    sel.close()

    doubt = _cleanup() or doubt
    exit_code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    stderr = captures[err_r].data.decode("utf-8", "replace")
    oom_after = _oom_kills()
    memory_exceeded = (oom_before >= 0 and oom_after > oom_before) or (
        exit_code not in (0, None) and "MemoryError" in stderr[-4000:]
    )
    if sig == signal.SIGKILL and not timed_out and oom_before < 0:
        memory_exceeded = True  # no cgroup counter to ask; a SIGKILL nobody sent is the OOM killer
    records, records_truncated = _parse_records(captures[rep_r].data, captures[rep_r].truncated)
    return {
        "exit_code": exit_code,
        "signal": sig,
        "timed_out": timed_out,
        "memory_exceeded": memory_exceeded,
        "output_truncated": captures[out_r].truncated or captures[err_r].truncated,
        "records_truncated": records_truncated,
        "stdout": captures[out_r].data.decode("utf-8", "replace"),
        "stderr": stderr,
        "records": records,
        "elapsed_s": round(elapsed, 6),
        "doubt": doubt,
    }


def _read_into(sel, fd: int, capture: _Capture) -> bool:
    """Read one chunk; on EOF unregister and close. True while more may come."""
    try:
        chunk = os.read(fd, CHUNK)
    except BlockingIOError:
        return False
    except OSError as exc:
        if exc.errno != errno.EIO:
            raise
        chunk = b""
    if not chunk:
        sel.unregister(fd)
        os.close(fd)
        return False
    capture.add(chunk)
    return True


_SCRATCH_MODES: dict[str, int] = {}


def main() -> int:
    # No handler for any signal: as PID 1 that makes us unkillable from inside the namespace.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    for directory in SCRATCH_DIRS:
        with contextlib.suppress(OSError):
            _SCRATCH_MODES[directory] = os.stat(directory).st_mode & 0o7777
    inp = os.fdopen(0, "rb", buffering=0)
    out = os.fdopen(1, "wb")
    _send(
        out,
        {
            "ready": True,
            "protocol": PROTOCOL,
            "container": socket.gethostname(),
            "pid": os.getpid(),
            "uid": os.getuid(),
            "python": sys.version.split()[0],
        },
    )
    reader = _LineReader(inp)
    once = "--once" in sys.argv
    while True:
        line = reader.readline()
        if line is None:
            return 0
        try:
            request = json.loads(line)
            op = request["op"]
        except (ValueError, KeyError, TypeError) as exc:
            _send(out, {"ok": False, "error": f"bad request: {exc}"})
            continue
        if op == "ping":
            _send(out, {"ok": True, "pong": True})
        elif op == "run":
            try:
                _send(out, {"ok": True, "result": run_job(request["job"])})
            except _JobRejected as exc:
                _send(out, {"ok": False, "job_error": str(exc)})
                _cleanup()
            except Exception as exc:
                tb = traceback.format_exc(limit=-3).replace("\n", " | ")
                error = f"runner failed: {type(exc).__name__}: {exc}: {tb}"
                _send(out, {"ok": False, "error": error})
                _cleanup()
            if once:
                return 0
        else:
            _send(out, {"ok": False, "error": f"unknown op {op!r}"})


class _LineReader:
    """Unbuffered line reader on fd 0 (a buffered reader would be fine too; this is explicit)."""

    def __init__(self, raw) -> None:
        self.raw = raw
        self.buf = bytearray()

    def readline(self) -> bytes | None:
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[: i + 1]
                return line
            chunk = self.raw.read(1 << 20)
            if not chunk:
                return None
            self.buf += chunk


if __name__ == "__main__":
    sys.exit(main())
