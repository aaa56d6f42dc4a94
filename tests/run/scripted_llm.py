"""Test support for the run tests: scripted model answers and running the real CLI.

The model is factory's local Anthropic-compatible server (real HTTP, the real
`anthropic` SDK on our side); what it answers is scripted here from the problems
themselves, right or wrong by a content hash, so every test knows the truth.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from factory.testing.anthropic_server import last_user_text

REPO = Path(__file__).resolve().parents[2]
GSM_SPEC = REPO / "problem_specs" / "gsm8k_distill.yaml"
GSM_DATA = REPO / "problem_specs" / "data" / "grade_school_math.jsonl"


def gsm_answers() -> dict[str, str]:
    """Statement -> reference answer of the shipped grade-school file."""
    out = {}
    for line in GSM_DATA.read_text().splitlines():
        row = json.loads(line)
        out[row["question"].strip()] = row["answer"].split("####")[-1].strip().replace(",", "")
    return out


def is_right(statement: str) -> bool:
    """The scripted solver is right on about two problems in three, fixed by content."""
    return int(hashlib.sha256(statement.encode()).hexdigest(), 16) % 3 != 0


def gsm_responder(body: dict) -> str:
    text = last_user_text(body)
    for statement, answer in gsm_answers().items():
        if statement in text:
            value = answer if is_right(statement) else str(int(answer) + 1)
            return f"Step by step we get {value}.\n\n\\boxed{{{value}}}"
    return "I do not know."


def expected_gsm_rows(n: int, samples: int = 4) -> int:
    statements = list(gsm_answers())[:n]
    return samples * sum(is_right(s) for s in statements)


_counter = itertools.count()


def sum_problems(count: int, numbers: Iterator[int], wrong_reference_every: int = 3) -> str:
    """A generator's answer: ``count`` 'What is a + b?' problems as a JSON fence, the i-th
    (i drawn from ``numbers``) with a wrong reference when i is a multiple of k."""
    items = []
    for _ in range(count):
        i = next(numbers)
        a, b = 100 + 7 * i, 3 + i
        ref = a + b + (1 if i % wrong_reference_every == 0 else 0)
        items.append({"statement": f"What is ${a} + {b}$?", "answer": str(ref)})
    return "```json\n" + json.dumps(items) + "\n```"


def algebra_responder(wrong_reference_every: int = 3):
    """Generator: JSON lists of 'What is a + b?' problems, every k-th with a wrong reference.
    Solver: the true sum."""

    def respond(body: dict) -> str:
        text = last_user_text(body)
        m = re.search(r"Write (\d+) new", text)
        if m:
            return sum_problems(int(m.group(1)), _counter, wrong_reference_every)
        m = re.search(r"What is \$(\d+) \+ (\d+)\$", text)
        if m:
            return f"Adding, \\boxed{{{int(m.group(1)) + int(m.group(2))}}}"
        return "no idea"

    return respond


def settled_count(server, quiet_s: float = 0.5) -> int:
    """Requests the server has recorded, once no new one has arrived for ``quiet_s``."""
    count = len(server.requests_to("/v1/messages"))
    while True:
        time.sleep(quiet_s)
        now = len(server.requests_to("/v1/messages"))
        if now == count:
            return count
        count = now


def run_cli(
    *args: str, timeout: float = 300, env_extra: dict | None = None, **kwargs
) -> subprocess.CompletedProcess:
    """Run `factory ARGS` as a user would, with an API key for the local server."""
    env = {**os.environ, "ANTHROPIC_API_KEY": "test-key", **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "factory.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=REPO,
        **kwargs,
    )


def rows_of(run_dir: Path) -> list[dict]:
    """Kept rows of a run, without the field that differs between two runs of one input."""
    rows = []
    for shard in sorted((run_dir / "rows").glob("shard-*.jsonl")):
        for line in shard.read_text().splitlines():
            row = json.loads(line)
            row["provenance"].pop("run_started_at")
            rows.append(row)
    return rows


def code_responder():
    """Generator: four function problems per request, each built to test one trust rule.
    Solver: the reference solution, so every trusted problem's samples pass."""
    problems = {
        "add_one": (
            "def add_one(x):\n    return x + 1\n",
            "assert add_one(1) == 2\nassert add_one(-1) == 0\n",
        ),  # good
        "double": (
            "def double(x):\n    return x * 2\n",
            "assert double(3) is not None or True\n",
        ),  # weak: accepts a program returning None
        "square": (
            "def square(x):\n    return x * x\n",
            "assert square(3) == 10\n",
        ),  # the reference fails its own tests
        "clamp": (
            "def clamp(x, lo, hi):\n    return max(lo, min(x, hi))\n",
            "assert clamp(5, 0, 3) == 3\nassert clamp(-1, 0, 3) == 0\nassert clamp(2, 0, 3) == 2\n",
        ),  # good
    }

    def respond(body: dict) -> str:
        text = last_user_text(body)
        if re.search(r"Write \d+ new", text):
            items = [
                {
                    "statement": f"Write a function `{name}` as described by its tests.",
                    "entry_point": name,
                    "reference_solution": solution,
                    "tests": tests,
                }
                for name, (solution, tests) in problems.items()
            ]
            return json.dumps(items)
        for name, (solution, _) in problems.items():
            if f"`{name}`" in text:
                return f"```python\n{solution}```"
        return "no idea"

    return respond
