"""Run the README's GRPOTrainer snippet for two steps on a tiny local model; write a report.

    python -m tests.rewards.grpo_run REPORT.json

Runs in its own process (the test starts it) with the Hub switched off
(``HF_HUB_OFFLINE=1``): the tokenizer and model are built here, nothing is
downloaded. The report holds every logged completion with its prompt and the
rewards and verdict reasons the trainer logged for it, plus the trainer's log
history, so the test can re-verify each completion on its own.
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path
from typing import Any

from tests.rewards.tiny_lm import REPO, build_model, build_tokenizer, teach

CHECK_ADD = (
    "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(1, 1) == 2\n"
)
CHECK_MUL = (
    "def check(candidate):\n    assert candidate(2, 3) == 6\n    assert candidate(1, 1) == 1\n"
)
ROWS: list[dict[str, Any]] = [
    {"question": "What is 2 + 2?", "answer": "4", "tests": None, "entry_point": None},
    {"question": "What is 3 + 4?", "answer": "7", "tests": None, "entry_point": None},
    {"question": "Write add(a, b).", "answer": None, "tests": CHECK_ADD, "entry_point": "add"},
    {"question": "Write mul(a, b).", "answer": None, "tests": CHECK_MUL, "entry_point": "mul"},
]
# Right and wrong replies for each prompt, so sampled completions are judged both ways.
REPLIES = {
    "What is 2 + 2?": ["\\boxed{4}", "\\boxed{5}"],
    "What is 3 + 4?": ["\\boxed{7}", "\\boxed{6}"],
    "Write add(a, b).": [
        "```python\ndef add(a, b):\n    return a + b\n```",
        "```python\ndef add(a, b):\n    return a - b\n```",
    ],
    "Write mul(a, b).": [
        "```python\ndef mul(a, b):\n    return a * b\n```",
        "```python\ndef mul(a, b):\n    return a + b\n```",
    ],
}


def readme_snippet() -> str:
    readme = (REPO / "README.md").read_text()
    return re.search(r"```python\n(from trl import GRPOConfig.*?)```", readme, re.S).group(1)


def messages(question: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": question}]


def main(report_path: str) -> None:
    import datasets
    import torch
    from transformers import TrainerCallback

    torch.set_num_threads(1)  # a tiny model: more threads only fight over the shared cores
    torch.manual_seed(0)
    tokenizer = build_tokenizer()
    model = build_model(tokenizer)
    teach(
        model,
        tokenizer,
        [(messages(q), reply) for q, replies in REPLIES.items() for reply in replies],
    )
    dataset = datasets.Dataset.from_list(
        [{"prompt": messages(row["question"]), **row} for row in ROWS]
    )
    snippet = readme_snippet()
    setup, last_line = snippet.rstrip().rsplit("\n", 1)
    assert last_line == "trainer.train()", last_line
    namespace: dict[str, Any] = {
        "model": model,
        "tokenizer": tokenizer,
        "dataset": dataset,
        "output_dir": str(Path(report_path).parent / "grpo-out"),
    }
    exec(setup, namespace)  # the README's code, as written
    trainer = namespace["trainer"]
    logged: list[dict[str, Any]] = []

    class Record(TrainerCallback):
        """Copy what the trainer logged for each step's completions (it keeps one batch)."""

        def on_step_end(self, args, state, control, **kwargs):
            logs = trainer._logs
            for i, completion in enumerate(logs["completion"]):
                logged.append(
                    {
                        "step": state.global_step,
                        "prompt": logs["prompt"][i],
                        "completion": completion,
                        "rewards": {
                            name: (None if math.isnan(v[i]) else v[i])
                            for name, v in logs["rewards"].items()
                        },
                        "reasons": {name: v[i] for name, v in logs["extra"].items()},
                    }
                )

    trainer.add_callback(Record())
    exec(last_line, namespace)
    Path(report_path).write_text(
        json.dumps(
            {
                "global_step": trainer.state.global_step,
                "log_history": trainer.state.log_history,
                "completions": logged,
                "rows": ROWS,
            },
            default=str,
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
