"""Test support for kill -9 tests: start the real CLI, and kill it at a chosen moment of its run.

The moment is a SQL question asked of the run's state store (read-only, as another process
would), so a kill lands at a point the test names ("round 2 has a verified problem", "12 calls
recorded") rather than after a guessed sleep.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.run.scripted_llm import REPO


def start_cli(*args: str, env_extra: dict | None = None) -> subprocess.Popen:
    """Start `factory ARGS` in the background, as a user would."""
    env = {**os.environ, "ANTHROPIC_API_KEY": "test-key", **(env_extra or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "factory.cli", *args],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def ask(run_dir: Path, sql: str) -> int:
    """The integer ``sql`` answers on the run's state store; 0 while it cannot be read yet."""
    state = run_dir / "state.sqlite"
    if not state.exists():
        return 0
    try:
        db = sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=1)
        try:
            row = db.execute(sql).fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return 0
    return int(row[0] or 0) if row else 0


def kill_when(proc: subprocess.Popen, run_dir: Path, sql: str, at_least: int = 1,
              timeout: float = 180) -> int:  # fmt: skip
    """SIGKILL ``proc`` as soon as ``sql`` answers ``at_least``; returns the answer then.

    Fails the test when the process ends first (the kill point was never reached).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = ask(run_dir, sql)
        if value >= at_least:
            os.kill(proc.pid, signal.SIGKILL)
            proc.communicate()
            return value
        if proc.poll() is not None:
            _, err = proc.communicate()
            raise AssertionError(
                f"the run ended (exit {proc.returncode}) before {sql!r} reached {at_least}:\n"
                f"{err[-2000:]}"
            )
        time.sleep(0.02)
    proc.kill()
    proc.communicate()
    raise AssertionError(f"{sql!r} did not reach {at_least} within {timeout}s")
