"""A real GRPOTrainer run: the README's snippet, two steps, a tiny model built locally.

The run (``tests/rewards/grpo_run.py``) happens in its own process with the Hub
switched off; nothing is downloaded. Its report holds every completion the trainer
generated with the rewards and verdict reasons it logged; here each completion is
verified again, one by one, with the public verifiers, and the trainer's logged
rewards must be exactly those verdicts (``None`` where a reward does not apply).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

from tests.rewards.tiny_lm import REPO
from verifiers.code import check_solution, extract_code
from verifiers.math import check_answer
from verifiers.math.extract import extract_answer

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = tmp_path_factory.mktemp("grpo") / "report.json"
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    result = subprocess.run(
        [sys.executable, "-m", "tests.rewards.grpo_run", str(path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(path.read_text())


def expected_rewards(row: dict, text: str) -> dict[str, float | None]:
    math_reward = code_reward = format_reward = None
    if row["answer"] is not None:
        math_reward = 1.0 if check_answer(text, row["answer"]).passed else 0.0
        found = extract_answer(text, last_number_fallback=False)
        format_reward = 1.0 if found is not None else 0.0
    if row["tests"] is not None:
        program = extract_code(text) if "```" in text else text
        if not program or not program.strip():
            code_reward = 0.0
        else:
            verdict = check_solution(program, row["tests"], entry_point=row["entry_point"])
            code_reward = 1.0 if verdict.passed else 0.0
    return {"math_answer": math_reward, "code_tests": code_reward, "math_format": format_reward}


def test_two_training_steps_ran(report):
    assert report["global_step"] == 2
    assert len(report["completions"]) == 16  # 2 steps x 2 prompts x 4 generations


def test_the_logged_rewards_are_the_verifiers_verdicts(report):
    rows = {row["question"]: row for row in report["rows"]}
    seen: set[float] = set()
    for logged in report["completions"]:
        row = rows[logged["prompt"][-1]["content"]]
        text = logged["completion"][0]["content"]
        assert logged["rewards"] == expected_rewards(row, text), text
        seen.update(r for r in logged["rewards"].values() if r is not None)
    assert seen == {0.0, 1.0}  # the run judged completions both ways


def test_the_logged_reasons_are_the_verdict_reasons(report):
    rows = {row["question"]: row for row in report["rows"]}
    for logged in report["completions"]:
        row = rows[logged["prompt"][-1]["content"]]
        text = logged["completion"][0]["content"]
        reason = logged["reasons"]["math_answer_reason"]
        if row["answer"] is None:
            assert reason is None
        else:
            assert reason == check_answer(text, row["answer"]).reason.value


def test_the_trainers_per_step_means_follow_the_rewards(report):
    history = [h for h in report["log_history"] if "reward" in h]
    assert len(history) == 2
    for step, logs in enumerate(history, start=1):
        for name in ("math_answer", "code_tests", "math_format"):
            values = [
                c["rewards"][name]
                for c in report["completions"]
                if c["step"] == step and c["rewards"][name] is not None
            ]
            mean = logs.get(f"rewards/{name}/mean")
            if values:
                assert math.isclose(mean, sum(values) / len(values), abs_tol=1e-6)
            else:
                assert mean is None or math.isnan(mean)
