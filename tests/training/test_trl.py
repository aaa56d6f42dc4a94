"""The published quickstart datasets train with TRL as loaded: SFTTrainer on the kept rows,
DPOTrainer on the preference pairs, 2 steps each, on a tiny model built here (no download).

These are the lines the README's publishing section shows; if a column's format drifts
from what TRL accepts, this fails."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from datasets import load_dataset
from transformers import AutoTokenizer
from trl import DPOConfig, DPOTrainer, SFTConfig, SFTTrainer

from factory.publish.dataset import build_dataset
from factory.publish.run_reader import read_run
from factory.recipes.preferences import build_preference_pairs, publish_preferences
from tests.publish.quickstart import make_quickstart_run
from tests.training.tiny_model import save_tiny_model

STEPS = 2


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> dict[str, Path]:
    """The quickstart run published both ways, as `factory publish` / `factory preferences`."""
    base = tmp_path_factory.mktemp("trl")
    run = read_run(make_quickstart_run(base / "run"))
    build_dataset(run, base / "sft")
    publish_preferences(build_preference_pairs(run), base / "dpo")
    return {"sft": base / "sft", "dpo": base / "dpo"}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> str:
    """A tiny local checkpoint (see tests/training/tiny_model.py)."""
    return str(save_tiny_model(tmp_path_factory.mktemp("tiny-llama")))


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No Hub access at all, and nothing written outside the test's directory."""
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("WANDB_DISABLED", "true")


def _common(tmp_path: Path) -> dict:
    return {
        "output_dir": str(tmp_path / "out"),
        "max_steps": STEPS,
        "per_device_train_batch_size": 2,
        "learning_rate": 1e-3,
        "logging_steps": 1,
        "save_strategy": "no",
        "report_to": [],
        "use_cpu": True,
        "max_length": 512,
        "seed": 0,
    }


def _trained(trainer) -> list[float]:
    result = trainer.train()
    assert result.global_step == STEPS
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    assert len(losses) == STEPS and all(math.isfinite(x) for x in losses)
    return losses


def test_sft_trainer_trains_on_the_published_rows_as_loaded(
    published, model_dir, tmp_path, offline
):
    # --- the README's lines
    dataset = load_dataset(str(published["sft"]), "all", split="train",
                           cache_dir=str(tmp_path / "cache"))  # fmt: skip
    trainer = SFTTrainer(
        model=model_dir,
        args=SFTConfig(**_common(tmp_path)),
        train_dataset=dataset,
        processing_class=AutoTokenizer.from_pretrained(model_dir),
    )
    # ---
    assert dataset[0]["messages"][0]["role"] == "system"  # the solver's system prompt leads
    _trained(trainer)


def test_dpo_trainer_trains_on_the_published_pairs_as_loaded(
    published, model_dir, tmp_path, offline
):
    # --- the README's lines
    dataset = load_dataset(str(published["dpo"]), "all", split="train",
                           cache_dir=str(tmp_path / "cache"))  # fmt: skip
    trainer = DPOTrainer(
        model=model_dir,
        args=DPOConfig(**_common(tmp_path), beta=0.1),
        train_dataset=dataset,
        processing_class=AutoTokenizer.from_pretrained(model_dir),
    )
    # ---
    assert {"prompt", "chosen", "rejected", "rejected_truncated"} <= set(dataset.column_names)
    _trained(trainer)
