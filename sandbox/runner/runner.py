"""The sandbox runner: the container's PID 1. Standard library only; copied into the image.

Protocol (JSON lines): on start the runner writes {"ready": true, ...} to stdout. Then for
each request line on stdin, {"op": "run", "job": {...}}, it writes exactly one reply line
{"ok": true, "result": {...}} (or {"ok": false, "error": "..."} for a request it cannot parse).
EOF on stdin ends the runner, and with it the container.

Per job: write the files into a fresh /work/job, fork a child in a new session under rlimits
with stdin/stdout/stderr pipes and the report pipe on fd 3, read the pipes with caps, SIGKILL
every process of the job at the deadline, then kill whatever it left (kill(-1, SIGKILL)),
reap the zombies and wipe /work, /tmp, /dev/shm, /dev/mqueue and SysV IPC objects.

A plain `python3 SCRIPT [ARGS]` job is forked from a zygote (see `zygote_main`) instead of
exec'ing python3, which saves the interpreter's start-up, most of a small job's cost.

Why PID 1 and no handlers: the kernel drops every signal sent to a namespace's init from inside
that namespace unless init installed a handler for it, so the child (same uid) cannot kill or
stop the runner. PR_SET_DUMPABLE=0 keeps it from ptracing the runner or opening /proc/1/fd.
"""

from __future__ import annotations

import builtins
import contextlib
import ctypes
import errno
import fcntl
import gc
import importlib
import io
import json
import os
import resource
import selectors
import signal
import socket
import sys
import time
import traceback
import types

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
    }
    if job.get("report_channel", True):
        env["FACTORY_REPORT_FD"] = str(REPORT_FD)
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


def _enter_job(job: dict, workdir: str, fds: tuple[int, int, int, int]) -> None:
    """In a forked child: fds 0-3, a new session, the job dir, rlimits, the OOM score."""
    os.setsid()
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 16) for fd in fds]  # no clash with 0..3
    for target, fd in enumerate(high):
        os.dup2(fd, target)
    os.closerange(REPORT_FD + 1, 65536)
    if not job.get("report_channel", True):
        os.close(REPORT_FD)  # a job without a report channel has no fd 3 at all
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


def _exec_child(job: dict, workdir: str, fds: tuple[int, int, int, int]) -> None:
    """In the forked child: set up the job, then exec its argv. Never returns."""
    try:
        _enter_job(job, workdir, fds)
        argv = [str(a) for a in job["argv"]]
        os.execvpe(argv[0], argv, _child_env(job, workdir))
    except BaseException as exc:
        try:
            os.write(2, f"sandbox: cannot start {job.get('argv')!r}: {exc}\n".encode())
        finally:
            os._exit(127)


def zygote_eligible(job: dict) -> bool:
    """A plain `python3 SCRIPT [ARGS]` job, which the zygote runs without starting python3."""
    argv = [str(a) for a in job.get("argv") or []]
    env = job.get("env") or {}
    return (
        len(argv) >= 2
        and argv[0] == "python3"
        and not argv[1].startswith("-")
        and not any(key.startswith("PYTHON") for key in env)
    )


def _python_child(job: dict, workdir: str, fds: tuple[int, int, int, int]) -> None:
    """In a fork of the zygote: run `python3 SCRIPT ARGS` in this interpreter; exits.

    What a fresh ``python3`` would set up from the job's environment is set up here:
    the script's directory first on sys.path, unbuffered UTF-8 stdio, no bytecode
    writing, Python's own signal dispositions, then exit as the interpreter would.
    """
    try:
        _enter_job(job, workdir, fds)
        argv = [str(a) for a in job["argv"]]
        os.environ.clear()
        os.environ.update(_child_env(job, workdir))
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        sys.dont_write_bytecode = True
        script = os.path.abspath(argv[1])
        sys.argv = argv[1:]
        sys.path.insert(0, os.path.dirname(script))
        sys.stdin = sys.__stdin__ = io.TextIOWrapper(
            io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding="utf-8"
        )
        sys.stdout = sys.__stdout__ = io.TextIOWrapper(
            io.FileIO(1, "w", closefd=False), encoding="utf-8", write_through=True
        )
        sys.stderr = sys.__stderr__ = io.TextIOWrapper(
            io.FileIO(2, "w", closefd=False),
            encoding="utf-8",
            errors="backslashreplace",
            write_through=True,
        )
    except BaseException as exc:
        with contextlib.suppress(BaseException):
            os.write(2, f"sandbox: cannot start {job.get('argv')!r}: {exc}\n".encode())
        os._exit(127)
    # As `python3 SCRIPT` does: the script's code runs as module __main__, and what it
    # raises (SystemExit, an error, KeyboardInterrupt) ends the interpreter the usual way,
    # with the usual shutdown (threads joined, atexit, every open file flushed).
    main = types.ModuleType("__main__")
    main.__file__ = script
    main.__builtins__ = builtins
    sys.modules["__main__"] = main
    try:
        with io.open_code(script) as f:
            source = f.read()
    except OSError as exc:
        print(f"python3: can't open file {script!r}: [Errno {exc.errno}] {exc.strerror}",
              file=sys.stderr)  # fmt: skip
        sys.exit(2)
    try:
        exec(compile(source, script, "exec"), main.__dict__)
    except SystemExit:
        raise
    except BaseException as exc:
        # Reported from the script's own frames, as the interpreter would (not from ours).
        tb = exc.__traceback__.tb_next if exc.__traceback__ else None
        sys.excepthook(type(exc), exc.with_traceback(tb), tb)
        if isinstance(exc, KeyboardInterrupt):  # CPython dies of the SIGINT itself
            sys.stderr.flush()
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)
        sys.exit(1)
    sys.exit(0)


PRELOADED = (
    "collections", "contextlib", "decimal", "fractions", "functools", "itertools",
    "json", "math", "pathlib", "re",
)  # fmt: skip


def zygote_main(sock_fd: int) -> int:
    """The zygote: an interpreter started before any job, forking one child per job.

    It never runs job code itself and never sees a job's files, input or output: only
    argv, env and limits arrive, with the job's four fds. Non-dumpable, so a job (same
    uid) cannot trace it or read its memory; a job can kill or stop it, which costs that
    job nothing (the runner reaps the orphan) and the next job a fresh zygote.
    """
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    # Imported once here instead of in every job: what factory's harnesses (and most
    # solutions) import anyway. A job gets them as a
    # fresh interpreter would, unchanged; what it changes stays in its own fork.
    for name in PRELOADED:
        importlib.import_module(name)
    gc.freeze()  # keep the collector from touching (and so copying) every page in each fork
    sock = socket.socket(fileno=sock_fd)
    sock.send(b'{"ready":true}')
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(sock, 1 << 16, 4)
        except OSError:
            return 0
        if not message:
            return 0
        request = json.loads(message)
        pid = os.fork()
        if pid == 0:
            sock.close()
            _python_child(request["job"], request["workdir"], tuple(fds))
        for fd in fds:
            os.close(fd)
        sock.send(json.dumps({"pid": pid}).encode())
        _, status = os.waitpid(pid, 0)
        sock.send(json.dumps({"status": status}).encode())


class Zygote:
    """The runner's handle on its zygote: start it fresh (exec), hand it jobs, restart it."""

    START_S = 5.0
    REPLY_S = 2.0

    def __init__(self) -> None:
        self.pid: int | None = None
        self.sock: socket.socket | None = None

    def start(self) -> None:
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            try:
                # Nothing of the runner's: not its protocol stream (fds 0-2), no other fd.
                null = os.open(os.devnull, os.O_RDWR)
                for target in (0, 1, 2):
                    os.dup2(null, target)
                if theirs.fileno() != REPORT_FD + 1:
                    os.dup2(theirs.fileno(), REPORT_FD + 1)
                os.set_inheritable(REPORT_FD + 1, True)  # dup2 onto itself keeps CLOEXEC
                os.closerange(REPORT_FD + 2, 65536)
                argv = ["python3", "-I", os.path.abspath(__file__), "--zygote", str(REPORT_FD + 1)]
                os.execvpe(argv[0], argv, {"PATH": CHILD_PATH, "LANG": "C.UTF-8"})
            finally:
                os._exit(127)
        theirs.close()
        mine.settimeout(self.START_S)
        try:
            ready = mine.recv(64)
        except OSError:
            ready = b""
        if ready != b'{"ready":true}':
            mine.close()
            self._kill(pid)
            return
        self.pid, self.sock = pid, mine

    @staticmethod
    def _kill(pid: int) -> None:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)

    def alive(self) -> bool:
        if self.pid is None:
            return False
        try:
            pid, _ = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            pid = self.pid
        if pid == 0 and _state(self.pid) not in ("T", "t", "Z", None):
            return True
        self.stop()
        return False

    def stop(self) -> None:
        if self.sock is not None:
            self.sock.close()
        if self.pid is not None:
            self._kill(self.pid)
        self.pid, self.sock = None, None

    def spawn(self, job: dict, workdir: str, fds: tuple[int, int, int, int]) -> int | None:
        """The pid of the job's child, or None when the zygote cannot (the caller execs)."""
        if not self.alive():
            return None
        assert self.sock is not None
        keys = ("argv", "env", "memory_mb", "timeout_s", "report_channel")
        spec = {k: job[k] for k in keys if k in job}
        try:
            self.sock.settimeout(self.REPLY_S)
            socket.send_fds(
                self.sock, [json.dumps({"job": spec, "workdir": workdir}).encode()], list(fds)
            )
            return int(json.loads(self.sock.recv(256))["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            self.stop()
            return None

    def status(self, timeout: float) -> int | None:
        """The wait status of the last child, if the zygote reports it in time; a zygote
        that is stopped (a job can SIGSTOP it) is killed at once, not waited for."""
        deadline = time.monotonic() + timeout
        while self.sock is not None and time.monotonic() < deadline:
            try:
                self.sock.settimeout(0.02)
                return int(json.loads(self.sock.recv(256))["status"])
            except TimeoutError:
                if self.pid is None or _state(self.pid) in ("T", "t", "Z", None):
                    break
            except (OSError, ValueError, KeyError, TypeError):
                break
        self.stop()
        return None


def _state(pid: int) -> str | None:
    """The process state letter of ``pid`` (R, S, T, Z, ...), None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _kill_all() -> None:
    """SIGKILL every process but ourselves and a healthy zygote (kill(-1) skips init)."""
    spare = ZYGOTE.pid
    if spare is not None and _state(spare) in ("T", "t", "Z", None):
        ZYGOTE.stop()  # stopped by a job (or gone): it cannot reap, so it goes too
        spare = None
    for _ in range(1000):
        try:
            if spare is None:
                os.kill(-1, signal.SIGKILL)
                continue
            victims = [p for p in _other_processes() if _state(p) not in ("Z", None)]
            if not victims:
                return
            for victim in victims:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(victim, signal.SIGKILL)
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
            if not _other_processes():
                return True  # only the zygote is left, and it stays
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
    """Every process but the runner and its zygote (zombies included)."""
    spare = {os.getpid(), ZYGOTE.pid}
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in spare]


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


def _reset_metadata(directory: str) -> None:
    """Remove every extended attribute of a scratch dir (POSIX ACLs are xattrs: a default
    ACL would shape every later job's files) and reset its times, so nothing a job sets on
    the dirs themselves reaches the next job. Dirs we do not own (root's /dev/shm) a job
    cannot set either."""
    if os.stat(directory).st_uid != os.getuid():
        return
    try:
        names = os.listxattr(directory)
    except OSError as exc:
        if exc.errno in (errno.ENOTSUP, errno.EOPNOTSUPP):
            names = []
        else:
            raise
    for name in names:
        with contextlib.suppress(FileNotFoundError):
            os.removexattr(directory, name)
    os.utime(directory, (0, 0))


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
            _reset_metadata(directory)
        _remove_sysv_ipc()
    except OSError as exc:
        return f"cleanup failed: {exc}"
    for directory in _SCRATCH_MODES:
        with contextlib.suppress(OSError):
            if os.listxattr(directory):
                return f"extended attributes survive the reset on {directory}"

    if _other_processes():
        return f"processes survive the kill: {_other_processes()}"
    left = _leftovers()
    if left:
        return f"files survive the wipe: {left[:5]}"
    return None


def _wait_main(pid: int, via_zygote: bool) -> int:
    """The wait status of the job's main process once it has exited (or is being killed).

    A zygote's child is reported by the zygote; if the job killed or stopped its zygote,
    the child was reparented to us (init) and is reaped here instead.
    """
    if not via_zygote:
        return os.waitpid(pid, 0)[1]
    status = ZYGOTE.status(REAP_GRACE_S)
    if status is not None:
        return status
    deadline = time.monotonic() + REAP_GRACE_S
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            reaped, status = os.waitpid(pid, os.WNOHANG)
            if reaped == pid:
                return status
        _kill_all()
        time.sleep(0.002)
    return signal.SIGKILL  # it never came back: reported as killed, and the runner doubts


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


MAX_RECORD_DEPTH = 64


def _too_deep(value: object) -> bool:
    """True when ``value`` nests deeper than MAX_RECORD_DEPTH (checked without recursion)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_RECORD_DEPTH:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


def _parse_records(raw: bytes, truncated: bool) -> tuple[list[dict], bool]:
    """The job's report lines; a line that is not a JSON object (or nests too deeply for us
    to pass on) is kept as {"_malformed": ...}: the job's problem, never the runner's."""
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
        except (ValueError, RecursionError, MemoryError):
            value = None
        if not isinstance(value, dict) or _too_deep(value):
            value = {"_malformed": text[:1000]}
        records.append(value)
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
    fds = (in_r, out_w, err_w, rep_w)
    pid = ZYGOTE.spawn(job, JOB_DIR, fds) if zygote_eligible(job) else None
    via_zygote = pid is not None
    if pid is None:
        pid = os.fork()
        if pid == 0:
            _exec_child(job, JOB_DIR, fds)
    for fd in fds:
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
                    status = _wait_main(pid, via_zygote)
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
        status = _wait_main(pid, via_zygote)
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
ZYGOTE = Zygote()


def main() -> int:
    # No handler for any signal: as PID 1 that makes us unkillable from inside the namespace.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    for directory in SCRATCH_DIRS:
        with contextlib.suppress(OSError):
            _SCRATCH_MODES[directory] = os.stat(directory).st_mode & 0o7777
    once = "--once" in sys.argv
    if not once:  # one job gains nothing from a zygote (it would start python3 once more)
        ZYGOTE.start()
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
            if not ZYGOTE.alive():  # a job killed or stopped it: a fresh one for the next
                ZYGOTE.start()
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
    if sys.argv[1:2] == ["--zygote"]:
        sys.exit(zygote_main(int(sys.argv[2])))
    sys.exit(main())
