"""The published quickstart datasets train with TRL as loaded: `SFTTrainer` on the kept
rows and `DPOTrainer` on the preference pairs, 2 steps each, on a tiny Llama built here
(no download, Hub offline).

The code run is the README's own block (section "Training on a published dataset with
TRL"), with its placeholder paths pointed at this test's model and datasets; so if a
column's format drifts from what TRL accepts, or the README's lines stop working, this fails.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from factory.publish.dataset import build_dataset
from factory.publish.run_reader import read_run
from factory.recipes.preferences import build_preference_pairs, publish_preferences
from tests.publish.quickstart import make_quickstart_run
from tests.training.tiny_model import save_tiny_model

REPO = Path(__file__).resolve().parents[2]
STEPS = 2
pytestmark = [pytest.mark.docker, pytest.mark.slow]  # the quickstart run, then training


def readme_training_block() -> str:
    """The Python block of the README section on training with TRL."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Training on a published dataset with TRL", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> dict[str, Path]:
    """The quickstart run published both ways, as `factory publish` / `factory preferences`."""
    base = tmp_path_factory.mktemp("trl")
    run = read_run(make_quickstart_run(base / "run"))
    build_dataset(run, base / "sft")
    publish_preferences(build_preference_pairs(run), base / "dpo")
    return {"sft": base / "sft", "dpo": base / "dpo"}


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No Hub access at all, and every cache and output inside the test's directory."""
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf-datasets"))
    monkeypatch.chdir(tmp_path)


def test_the_readme_trains_sft_and_dpo_on_the_published_quickstart(published, tmp_path, offline):
    model = save_tiny_model(tmp_path / "tiny-llama")
    code = readme_training_block()
    for placeholder, real in (
        ('"path/to/a/causal-lm"', repr(str(model))),
        ('"datasets/quickstart"', repr(str(published["sft"]))),
        ('"datasets/quickstart-dpo"', repr(str(published["dpo"]))),
    ):
        assert placeholder in code, placeholder
        code = code.replace(placeholder, real)
    scope: dict = {}
    exec(compile(code, "README.md (training with TRL)", "exec"), scope)

    sft, dpo = scope["sft"], scope["dpo"]
    assert sft[0]["messages"][0]["role"] == "system"  # the solver's system prompt leads
    assert sft[0]["messages"][-1]["role"] == "assistant"
    assert {"prompt", "chosen", "rejected", "rejected_truncated"} <= set(dpo.column_names)
    assert [m["role"] for m in dpo[0]["prompt"]] == [m["role"] for m in sft[0]["messages"][:-1]]
    for name in ("sft_trainer", "dpo_trainer"):
        trainer = scope[name]
        assert trainer.state.global_step == STEPS, name
        losses = trainer.state.log_history[-1]
        assert math.isfinite(losses["train_loss"]), (name, losses)
