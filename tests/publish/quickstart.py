"""The README's quickstart run (scripts/quickstart.sh), made for tests: 12 math and code
problems, two replayed scripted answers each, judged by the real math verifier and the real
Docker sandbox."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
QUICKSTART_ARGS = [
    "generate", "problem_specs/quickstart.yaml", "--n", "12",
    "--llm", "replay:problem_specs/recorded/quickstart.jsonl", "--quiet",
]  # fmt: skip


def make_quickstart_run(out: Path) -> Path:
    """Run the quickstart's `factory generate` from the repository root into ``out``."""
    result = subprocess.run(
        [sys.executable, "-m", "factory.cli", *QUICKSTART_ARGS, "--out", str(out)],
        capture_output=True, text=True, timeout=600, cwd=REPO,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out
