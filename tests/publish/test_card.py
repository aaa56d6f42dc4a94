"""The dataset card: golden file on the fixed fixture run, and Hub-valid metadata."""

from __future__ import annotations

import os
import re
from pathlib import Path

from factory import __version__
from factory.publish.card import factory_identity, read_card_metadata, size_category
from factory.publish.dataset import build_dataset
from factory.publish.run_reader import read_run

GOLDEN = Path(__file__).parent / "golden" / "gsm8k_distill_card.md"


def normalise(card: str) -> str:
    """Blank out what differs between machines and releases (none of it is in the card body
    today except the factory version; kept general so a new volatile field fails loudly)."""
    card = card.replace(f"factory_version: {__version__}", "factory_version: VERSION")
    card = card.replace(f"factory version: {__version__}", "factory version: VERSION")
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "TIMESTAMP", card)


def test_card_matches_golden(gsm_run, tmp_path):
    build_dataset(read_run(gsm_run), tmp_path / "ds", test_fraction=0.25, seed=0)
    card = normalise((tmp_path / "ds" / "README.md").read_text())
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(card)
    assert card == GOLDEN.read_text(), "card changed; rerun with UPDATE_GOLDEN=1 and review"


def test_card_metadata_is_what_the_hub_reads(gsm_run, tmp_path):
    build_dataset(read_run(gsm_run), tmp_path / "ds")
    meta = read_card_metadata((tmp_path / "ds" / "README.md").read_text())
    assert meta is not None
    assert meta["license"] == "other" and "synthetic" in meta["tags"]
    assert meta["task_categories"] == ["text-generation", "question-answering"]
    assert meta["size_categories"] == ["n<1K"]
    assert meta["configs"] == [
        {
            "config_name": "default",
            "data_files": [{"split": "train", "path": "data/train-*.parquet"}],
        }
    ]
    assert factory_identity(meta)["spec_name"] == "gsm8k_distill"
    from huggingface_hub import DatasetCard

    card = DatasetCard((tmp_path / "ds" / "README.md").read_text())
    assert card.data.to_dict()["license"] == "other"


def test_size_categories():
    assert [size_category(n) for n in (0, 999, 1000, 20_000, 2_000_000)] == [
        "n<1K", "n<1K", "1K<n<10K", "10K<n<100K", "1M<n<10M",
    ]  # fmt: skip
