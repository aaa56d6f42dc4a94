"""`python3 SCRIPT` jobs fork from a clean zygote instead of starting python3: the job sees what
a fresh interpreter gives it, and attacks on the zygote cost the next job nothing."""

from __future__ import annotations

import json
import signal

from sandbox.job import Job
from tests.sandbox.conftest import assert_healthy, py

IDENTITY = """
import os
print(os.getppid(), b"--zygote" in open(f"/proc/{os.getppid()}/cmdline", "rb").read())
"""


def _zygote_of(pool) -> int:
    out = pool.run(py(IDENTITY)).stdout.split()
    assert out[1] == "True", out  # the parent of a python3 job is a zygote
    return int(out[0])


def test_a_python_job_sees_a_fresh_interpreter(pool):
    code = """
import atexit, json, os, sys, threading, time
def later():
    time.sleep(0.2)
    print("thread done", flush=True)
threading.Thread(target=later).start()  # not a daemon: the interpreter waits for it
atexit.register(lambda: print("atexit ran"))
report = open(int(os.environ["FACTORY_REPORT_FD"]), "w")  # buffered, flushed at exit
report.write(json.dumps({
    "name": __name__, "argv": sys.argv, "path0": sys.path[0], "cwd": os.getcwd(),
    "stdin": sys.stdin.read(), "host_env": sorted(k for k in os.environ if k.startswith("HOST")),
    "main": sys.modules["__main__"].__file__,
}) + "\\n")
sys.exit(3)
"""
    job = Job(files={"main.py": code}, argv=["python3", "main.py", "a", "b"], stdin="in\n")
    result = pool.run(job)
    assert result.exit_code == 3, result.stderr
    assert result.stdout == "thread done\natexit ran\n"
    (record,) = result.records
    assert record["name"] == "__main__" and record["argv"] == ["main.py", "a", "b"]
    assert record["path0"] == record["cwd"] == "/work/job"
    assert record["main"] == "/work/job/main.py"
    assert record["stdin"] == "in\n" and record["host_env"] == []


def test_errors_and_interrupts_end_the_job_as_python3_would(pool):
    error = pool.run(py("def f():\n    raise ValueError('boom')\nf()\n"))
    assert error.exit_code == 1
    assert "ValueError: boom" in error.stderr and 'File "/work/job/main.py", line 2' in error.stderr
    assert "runner.py" not in error.stderr  # reported from the script's frames only
    syntax = pool.run(py("def broken(:\n"))
    assert syntax.exit_code == 1 and "SyntaxError" in syntax.stderr
    interrupted = pool.run(py("raise KeyboardInterrupt\n"))
    assert interrupted.signal == signal.SIGINT and "KeyboardInterrupt" in interrupted.stderr
    missing = pool.run(Job(files={"main.py": ""}, argv=["python3", "nowhere.py"]))
    assert missing.exit_code == 2 and "can't open file" in missing.stderr
    assert_healthy(pool)


def test_the_zygote_cannot_be_traced_or_read(pool):
    code = """
import ctypes, json, os
zygote = os.getppid()
libc = ctypes.CDLL(None, use_errno=True)
attach = libc.ptrace(16, zygote, None, None)  # PTRACE_ATTACH
out = {"ptrace": attach, "errno": ctypes.get_errno()}
for what in ("mem", "environ", "fd"):
    try:
        (os.listdir if what == "fd" else open)(f"/proc/{zygote}/{what}")
        out[what] = "opened"
    except OSError as exc:
        out[what] = type(exc).__name__
print(json.dumps(out))
"""
    out = json.loads(pool.run(py(code)).stdout)
    assert out["ptrace"] == -1
    assert out["mem"] == out["environ"] == out["fd"] == "PermissionError", out


def test_a_job_that_kills_its_zygote_still_gets_its_verdict_and_the_next_a_fresh_one(pool):
    killer = py("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nprint('still here')\n")
    for result in pool.run_many([killer] * pool.size):
        assert result.exit_code == 0 and result.stdout == "still here\n", result
    assert_healthy(pool)
    _zygote_of(pool)  # python3 jobs fork from a (new) zygote again


def test_a_job_that_stops_its_zygote_does_not_stall_the_next(pool):
    stopper = py("import os, signal\nos.kill(os.getppid(), signal.SIGSTOP)\nprint('done')\n")
    for result in pool.run_many([stopper] * pool.size):
        assert result.exit_code == 0 and result.stdout == "done\n", result
        assert result.elapsed_s < 2
    assert_healthy(pool)
    _zygote_of(pool)


def test_other_argv_still_exec(pool):
    result = pool.run(Job(files={"m.py": "import sys; print(sys.flags.isolated)"},
                          argv=["python3", "-I", "m.py"]))  # fmt: skip
    assert result.exit_code == 0 and result.stdout == "1\n"
    plain = pool.run(py("import os; print(open(f'/proc/{os.getppid()}/cmdline').read())"))
    assert "--zygote" in plain.stdout
