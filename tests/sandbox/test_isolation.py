"""Each isolation rule, proven by a hostile job; after each, the pool runs normal jobs cleanly."""

from __future__ import annotations

import json
import signal

import pytest

from sandbox.job import Job
from tests.sandbox.conftest import assert_healthy, ok, py

pytestmark = pytest.mark.docker


def _record(result) -> dict:
    assert result.records, (result.exit_code, result.stderr[-2000:])
    return result.records[0]


REPORT = "import json, os\nrep = os.fdopen(int(os.environ['FACTORY_REPORT_FD']), 'w')\n"


def test_no_network(pool):
    result = ok(
        pool.run(
            py(
                REPORT
                + """
import socket
tried = {}
for host, port in [("1.1.1.1", 53), ("8.8.8.8", 443), ("deb.debian.org", 80), ("172.17.0.1", 2375)]:
    try:
        socket.create_connection((host, port), timeout=2).close()
        tried[host] = "connected"
    except OSError as exc:
        tried[host] = type(exc).__name__
ifaces = sorted(name for _, name in socket.if_nameindex())
rep.write(json.dumps({"tried": tried, "ifaces": ifaces}) + "\\n")
"""
            )
        )
    )
    rec = _record(result)
    assert "connected" not in rec["tried"].values(), rec
    assert rec["ifaces"] == ["lo"]
    assert_healthy(pool)


def test_read_only_root_and_no_writable_host_mounts(pool):
    result = ok(
        pool.run(
            py(
                REPORT
                + """
written = []
for path in ["/etc/passwd", "/etc/hosts", "/etc/resolv.conf", "/opt/factory-sandbox/runner.py",
             "/usr/lib/x", "/x", "/var/tmp/x", "/home/x", "/proc/1/oom_score_adj"]:
    try:
        with open(path, "a") as f:
            f.write("x")
        written.append(path)
    except OSError:
        pass
rw = []
for line in open("/proc/self/mounts"):
    dev, mnt, fstype, opts = line.split()[:4]
    if "rw" in opts.split(",") and fstype not in ("tmpfs", "proc", "devpts", "mqueue"):
        rw.append((mnt, fstype))
rep.write(json.dumps({"written": written, "rw_mounts": rw}) + "\\n")
"""
            )
        )
    )
    rec = _record(result)
    assert rec == {"written": [], "rw_mounts": []}


def test_work_dir_and_tmp_are_small_writable_tmpfs(pool):
    result = ok(
        pool.run(
            py(
                REPORT
                + """
sizes = {}
for d in ("/work", "/tmp"):
    st = os.statvfs(d)
    sizes[d] = st.f_blocks * st.f_frsize
open("here.txt", "w").write("ok")
open("/tmp/here.txt", "w").write("ok")
rep.write(json.dumps({"sizes": sizes, "cwd": os.getcwd()}) + "\\n")
"""
            )
        )
    )
    rec = _record(result)
    assert rec["cwd"] == "/work/job"
    assert all(size <= 64 * 1024 * 1024 for size in rec["sizes"].values()), rec


def test_non_root_no_capabilities_no_new_privileges(pool):
    result = ok(
        pool.run(
            py(
                REPORT
                + """
lines = open("/proc/self/status").read().splitlines()
status = dict(line.split(":\\t", 1) for line in lines if ":\\t" in line)
keys = ["Uid", "Gid", "CapEff", "CapPrm", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp"]
rep.write(json.dumps({k: status[k].split()[0] for k in keys}) + "\\n")
"""
            )
        )
    )
    rec = _record(result)
    assert rec["Uid"] != "0" and rec["Gid"] != "0"
    assert {rec[k] for k in ("CapEff", "CapPrm", "CapBnd", "CapAmb")} == {"0000000000000000"}
    assert rec["NoNewPrivs"] == "1"
    assert rec["Seccomp"] == "2"  # docker's default seccomp filter


def test_no_host_env_reaches_the_child(pool, monkeypatch):
    monkeypatch.setenv("FACTORY_SECRET_TOKEN", "leak-me")
    result = ok(
        pool.run(
            py("import json, os\nprint(json.dumps(dict(os.environ)))\n", env={"MY_VAR": "mine"})
        )
    )
    env = json.loads(result.stdout)
    assert "leak-me" not in result.stdout
    assert env["MY_VAR"] == "mine"
    allowed = {
        "PATH",
        "HOME",
        "TMPDIR",
        "LANG",
        "LC_ALL",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONUNBUFFERED",
        "OPENBLAS_NUM_THREADS",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "NUMEXPR_NUM_THREADS",
        "FACTORY_REPORT_FD",
        "MY_VAR",
    }
    assert set(env) <= allowed, set(env) - allowed


def test_fork_bomb(pool):
    result = pool.run(
        py(
            """
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
""",
            timeout_s=3,
        )
    )
    assert result.timed_out and result.signal == signal.SIGKILL
    assert result.recycled
    assert_healthy(pool)


def test_memory_bomb_rlimit(pool):
    result = pool.run(
        py(
            """
chunks = []
while True:
    chunks.append(bytearray(16 * 1024 * 1024))
""",
            memory_mb=256,
        )
    )
    assert result.exit_code not in (0, None) and result.memory_exceeded
    assert "MemoryError" in result.stderr
    assert_healthy(pool)


def test_memory_bomb_over_the_container_cap_is_oom_killed(pool):
    # Asks for more than the container's cgroup allows: the OOM killer takes the child only.
    result = pool.run(
        py(
            """
chunks = []
while True:
    chunks.append(b"x" * (32 * 1024 * 1024))
""",
            memory_mb=8192,
            timeout_s=30,
        )
    )
    assert result.signal == signal.SIGKILL and result.memory_exceeded and not result.timed_out
    assert_healthy(pool)


def test_infinite_loop_ignoring_sigterm_is_killed_at_the_deadline(pool):
    result = pool.run(
        py(
            """
import signal, subprocess
signal.signal(signal.SIGTERM, signal.SIG_IGN)
code = "import signal\\nsignal.signal(15, signal.SIG_IGN)\\nwhile 1: pass"
subprocess.Popen(["python3", "-c", code])
while True:
    pass
""",
            timeout_s=1.0,
        )
    )
    assert result.timed_out and result.signal == signal.SIGKILL
    assert 1.0 <= result.elapsed_s < 2.5
    assert_healthy(pool)


def test_cpu_limit_one_core(pool):
    # Two busy processes for 1 s of wall clock get about 1 s of CPU between them (--cpus 1).
    result = ok(
        pool.run(
            py(
                REPORT
                + """
import time, multiprocessing as mp
def spin(t):
    end = time.time() + t
    while time.time() < end:
        pass
ps = [mp.Process(target=spin, args=(1.0,)) for _ in range(2)]
[p.start() for p in ps]; [p.join() for p in ps]
t = os.times()
quota = [open(f"/sys/fs/cgroup/cpu/cpu.cfs_{k}_us").read().strip() for k in ("quota", "period")]
rep.write(json.dumps({"cpu": t.children_user + t.children_system, "quota": quota}) + "\\n")
""",
                timeout_s=20,
            )
        )
    )
    rec = _record(result)
    assert rec["cpu"] < 1.5
    assert int(rec["quota"][0]) == int(rec["quota"][1])  # --cpus 1: quota equals one period


def test_hundred_megabytes_of_output_are_capped(pool):
    result = ok(
        pool.run(
            py(
                """
import sys
block = "y" * (1 << 20)
for _ in range(100):
    sys.stdout.write(block)
    sys.stderr.write(block)
""",
                max_output_bytes=1_000_000,
                timeout_s=30,
            )
        )
    )
    assert result.output_truncated
    assert len(result.stdout) == 1_000_000 and len(result.stderr) == 1_000_000
    assert_healthy(pool)


def test_disk_filling_loop_hits_the_tmpfs_cap(pool):
    result = ok(
        pool.run(
            py(
                REPORT
                + """
import errno
out = {}
for d in (".", "/tmp"):
    n = 0
    try:
        with open(os.path.join(d, "fill"), "wb") as f:
            while True:
                f.write(b"z" * (1 << 20))
                f.flush()
                n += 1
    except OSError as exc:
        out[d] = [n, errno.errorcode.get(exc.errno)]
rep.write(json.dumps(out) + "\\n")
""",
                timeout_s=30,
            )
        )
    )
    rec = _record(result)
    assert all(n <= 64 and err in ("ENOSPC", "EFBIG") for n, err in rec.values()), rec
    assert_healthy(pool)


def test_leftover_processes_and_files_do_not_survive(pool):
    result = ok(
        pool.run(
            py("""
import os, subprocess
subprocess.Popen(["sleep", "1000"], start_new_session=True)
if os.fork() == 0:          # double fork: a daemon reparented to PID 1
    os.setsid()
    if os.fork() == 0:
        open("/tmp/daemon-was-here", "w").write("x")
        os.execvp("sleep", ["sleep", "1000"])
    os._exit(0)
os.wait()
for d in ("/tmp", "/dev/shm", "/work", "."):
    try:
        open(os.path.join(d, "leftover"), "w").write("x")
    except OSError:
        pass
os.makedirs("deep/er", exist_ok=True)
os.chmod("deep", 0)
os.makedirs("/tmp/locked/in", exist_ok=True)
os.chmod("/tmp/locked", 0)
os.chmod("/tmp", 0)
os.chmod("/work", 0)
import ctypes
libc = ctypes.CDLL(None)
libc.shmget(0, 4096, 0o1600)  # IPC_PRIVATE | IPC_CREAT
rt = ctypes.CDLL("librt.so.1")
rt.mq_open(b"/leftover-queue", os.O_CREAT | os.O_RDWR, 0o600, None)  # a POSIX message queue
""")
        )
    )
    assert not result.recycled  # the runner cleaned up by itself, without doubt
    assert_healthy(pool)


def test_child_cannot_kill_or_trace_its_runner(pool):
    before = pool.run(py("print('x')"))
    result = pool.run(
        py(
            REPORT
            + """
import signal
out = {}
for name, sig in [("KILL", signal.SIGKILL), ("TERM", signal.SIGTERM), ("STOP", signal.SIGSTOP),
                  ("INT", signal.SIGINT), ("HUP", signal.SIGHUP)]:
    try:
        os.kill(1, sig)
        out[name] = "sent"
    except OSError as exc:
        out[name] = type(exc).__name__
for path in ["/proc/1/fd/1", "/proc/1/mem", "/proc/1/environ"]:
    try:
        open(path, "rb").read(1)
        out[path] = "read"
    except OSError as exc:
        out[path] = type(exc).__name__
import ctypes
out["ptrace"] = ctypes.CDLL(None, use_errno=True).ptrace(16, 1, 0, 0)  # PTRACE_ATTACH
rep.write(json.dumps(out) + "\\n")
rep.flush()
os.kill(-1, signal.SIGKILL)  # everything it may kill but itself: nothing here
"""
        )
    )
    rec = _record(result)
    assert not result.timed_out, result.stderr
    assert rec["ptrace"] == -1
    assert all(rec[p] != "read" for p in ["/proc/1/fd/1", "/proc/1/mem", "/proc/1/environ"])
    assert_healthy(pool)
    after = [r.container_id for r in pool.run_many([py("print(1)")] * 4)]
    assert before.container_id in after  # the runner survived: same container, no recycle


def test_stdin_exit_code_and_records(pool):
    result = pool.run(
        py(
            """
import json, os, sys
rep = os.fdopen(int(os.environ["FACTORY_REPORT_FD"]), "w")
data = sys.stdin.read()
rep.write(json.dumps({"test": "a", "ok": True}) + "\\n")
rep.write("not json\\n")
rep.write("[1, 2]\\n")
rep.flush()
print(data.upper(), end="")
sys.exit(3)
""",
            stdin="hello " * 50_000,
        )
    )
    assert result.exit_code == 3 and result.signal is None
    assert result.stdout == "HELLO " * 50_000
    assert result.records == [
        {"test": "a", "ok": True},
        {"_malformed": "not json"},
        {"_malformed": "[1, 2]"},
    ]
    assert not result.timed_out and not result.output_truncated


def test_records_are_capped(pool):
    code = REPORT + "for i in range(20000):\n    rep.write('{\"i\": %d}\\n' % i)\n"
    result = ok(pool.run(py(code)))
    assert len(result.records) == 10_000 and result.records_truncated


def test_missing_command_is_exit_127(pool):
    result = pool.run(Job(argv=["no-such-binary"]))
    assert result.exit_code == 127 and "cannot start" in result.stderr


def test_numpy_and_pytest_run(pool):
    result = ok(
        pool.run(
            Job(
                files={
                    "test_x.py": "import numpy as np\n\ndef test_mm():\n    a = np.eye(50)\n"
                    "    assert (a @ a == a).all()\n"
                },
                argv=["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_x.py"],
                timeout_s=60,
            )
        )
    )
    assert "1 passed" in result.stdout


def test_daemonized_zombies_do_not_exhaust_the_pids_limit(pool):
    # Each grandchild is orphaned to PID 1 and exits: the runner reaps it during the job.
    result = ok(
        pool.run(
            py(
                """
import os, time
for i in range(300):
    pid = os.fork()
    if pid == 0:
        if os.fork() == 0:
            os._exit(0)
        os._exit(0)
    os.waitpid(pid, 0)
    time.sleep(0.005)
print("forked 300")
""",
                timeout_s=30,
            )
        )
    )
    assert result.stdout == "forked 300\n"


def test_many_small_files_hit_the_inode_cap(pool):
    result = ok(
        pool.run(
            py(
                REPORT
                + """
n = 0
try:
    while n < 200_000:
        open(f"f{n}", "w").close()
        n += 1
except OSError as exc:
    rep.write(json.dumps({"n": n, "err": exc.errno}) + "\\n")
""",
                timeout_s=60,
            )
        )
    )
    assert _record(result)["n"] < 65536
    assert not result.recycled
    assert_healthy(pool)


def test_a_job_whose_files_overflow_the_work_dir_is_rejected_not_retried(pool):
    from sandbox.errors import SandboxError, SandboxInfraError

    with pytest.raises(SandboxError) as err:
        pool.run(Job(files={"big.txt": "x" * (80 * 1024 * 1024)}, argv=["true"]))
    assert not isinstance(err.value, SandboxInfraError)
    assert "cannot write the job files" in str(err.value)
    assert_healthy(pool)
