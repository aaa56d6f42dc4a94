"""README.md stays true: its commands run as written and give what it says."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
FACTORY = [sys.executable, "-m", "factory.cli"]


def _bash_lines() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", README, flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_the_two_commands_are_there_and_ci_runs_the_test_one():
    lines = _bash_lines()
    assert any(line.startswith("bash scripts/quickstart.sh") for line in lines)
    assert any(line.startswith("bash scripts/test.sh") for line in lines)
    assert "scripts/test.sh" in (REPO / ".ci" / "run").read_text()


def test_every_script_and_path_the_readme_names_exists():
    for path in re.findall(r"\b((?:scripts|problem_specs|benchmarks|tests)/[\w./-]+\w)", README):
        assert (REPO / path).exists(), path


@pytest.mark.parametrize(
    "line",
    [line for line in _bash_lines() if line.startswith(".venv/bin/factory check-answer")],
)
def test_check_answer_examples_exit_as_documented(line):
    command, _, comment = line.partition("#")
    expected = int(re.search(r"exit (\d)", comment).group(1))
    args = subprocess.run(
        ["bash", "-c", f"printf '%s\\n' {command.split(' ', 1)[1]}"], capture_output=True, text=True
    ).stdout.splitlines()
    result = subprocess.run([*FACTORY, *args], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == expected, result.stdout + result.stderr


def test_library_example_runs():
    block = re.search(r"```python\n(from verifiers.math import check_answer.*?)```", README, re.S)
    result = subprocess.run(
        [sys.executable, "-c", block.group(1)], capture_output=True, text=True, cwd=REPO
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("wrong_answer")


def test_dry_run_example_needs_no_key_and_spends_nothing(tmp_path):
    line = next(line for line in _bash_lines() if "--dry-run" in line)
    args = line.split("#")[0].split()[1:]
    args[args.index("--out") + 1] = str(tmp_path / "gsm")
    result = subprocess.run([*FACTORY, *args], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert "nothing was sent" in result.stdout
    assert not (tmp_path / "gsm").exists()


def test_the_quickstart_job_runs_offline_and_keeps_what_it_says(tmp_path):
    """The generate command inside scripts/quickstart.sh, as written, on a fresh out dir."""
    script = (REPO / "scripts" / "quickstart.sh").read_text()
    command = re.search(r"\.venv/bin/factory (generate .*?)\n(?!\s)", script, re.S).group(1)
    args = command.replace("\\\n", " ").replace('"$out"', str(tmp_path / "qs")).split()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}  # no API key, nothing inherited
    result = subprocess.run(
        [*FACTORY, *args, "--json-logs"], capture_output=True, text=True, cwd=REPO, env=env
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["problems"] == {"total": 12, "done": 12, "dropped": 0, "open": 0}
    assert summary["kept_rows"] == 13
    assert summary["rejections"] == {
        "no_answer": 6,
        "parse_error": 2,
        "tests_failed": 1,
        "wrong_answer": 2,
    }
    rows = (tmp_path / "qs" / "rows" / "shard-00000.jsonl").read_text().splitlines()
    domains = {json.loads(r)["domain"] for r in rows}
    assert domains == {"math", "code"}
