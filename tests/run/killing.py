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
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from factory.testing.anthropic_server import last_user_text
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


class HoldSecondProblem:
    """A scripted model whose solves of the second problem it is asked to solve wait until
    :meth:`release` (60 s at most): the problems around it are decided while it is not, so a
    round stays cut short with some of its problems decided until the test kills the run."""

    def __init__(self, responder: Callable[[dict], Any], is_solve: Callable[[str], bool]):
        self.responder = responder
        self.is_solve = is_solve
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._seen: list[str] = []

    def __call__(self, body: dict) -> Any:
        text = last_user_text(body)
        if self.is_solve(text):
            with self._lock:
                if text not in self._seen:
                    self._seen.append(text)
                held = len(self._seen) > 1 and text == self._seen[1]
            if held:
                self._released.wait(60)
        return self.responder(body)

    def release(self) -> None:
        """Let the held solves through."""
        self._released.set()


def kill_at_each(
    points: list[tuple[str, int, bool]],
    run_dir: Path,
    *args: str,
    server: Any = None,
    is_solve: Callable[[str], bool] = lambda _: False,
) -> None:
    """Start `factory ARGS`, kill it at the first point, `factory resume` it, kill that at the
    next point, and so on; returns after the last kill (the run is left killed).

    A point is (sql, at least, hold): with hold, ``server`` holds the second problem's solves
    (:class:`HoldSecondProblem`) until that kill, so a point such as "a round has decided
    problems but is not done" is reached whatever the timing.
    """
    base = server.responder if server is not None else None
    for i, (sql, at_least, hold) in enumerate(points):
        gate = HoldSecondProblem(base, is_solve) if hold else None
        if gate is not None:
            server.responder = gate
        proc = start_cli(*args) if i == 0 else start_cli("resume", str(run_dir), "--json-logs")
        try:
            kill_when(proc, run_dir, sql, at_least)
        finally:
            if gate is not None:
                gate.release()
                server.responder = base


def round_half_done(round_: int, rounds_done: int) -> str:
    """A recipe's round ``round_`` has verified problems, but only ``rounds_done`` rounds are
    marked done (the round was cut short with some of its problems decided)."""
    return (
        "SELECT COUNT(*) FROM problems WHERE state = 'done' AND "
        f"json_extract(data, '$.metadata.recipe.round') = {round_} AND "
        f"(SELECT COUNT(*) FROM generation) = {rounds_done}"
    )

