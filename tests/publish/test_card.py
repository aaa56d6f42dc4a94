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


def test_licence_options_reach_the_metadata_and_a_licence_section(gsm_run, tmp_path, cli):
    from huggingface_hub import DatasetCard

    own = tmp_path / "own"
    result = cli("publish", gsm_run, "--out", own, "--license", "other", "--license-name",
                 "my-license-1.0", "--license-link", "https://example.org/license")  # fmt: skip
    assert result.exit_code == 0, result.output
    card = DatasetCard((own / "README.md").read_text())
    meta = card.data.to_dict()
    assert (meta["license"], meta["license_name"], meta["license_link"]) == (
        "other", "my-license-1.0", "https://example.org/license",
    )  # fmt: skip
    assert "## Licence" in card.text
    assert "Licence: `my-license-1.0` (https://example.org/license)" in card.text

    cc = tmp_path / "cc"
    assert cli("publish", gsm_run, "--out", cc, "--license", "cc-by-4.0").exit_code == 0
    card = DatasetCard((cc / "README.md").read_text())
    assert card.data.to_dict()["license"] == "cc-by-4.0"
    assert "license_name" not in card.data.to_dict()
    assert "Licence: `cc-by-4.0`, chosen by the publisher." in card.text

    assert "no licence chosen" not in result.output
    default = tmp_path / "default"
    result = cli("publish", gsm_run, "--out", default)
    assert result.exit_code == 0 and "warning: no licence chosen" in result.output
    text = DatasetCard((default / "README.md").read_text()).text
    assert "Licence: none chosen (`license: other`, no licence name or link)" in text
    # the responses came from a server on this machine, not from the Anthropic API
    assert "whatever model (if any) served them" in text and "anthropic.com" not in text


def test_licence_options_that_do_not_fit_are_refused(gsm_run, tmp_path, cli):
    out = tmp_path / "ds"
    result = cli("publish", gsm_run, "--out", out, "--license", "mit", "--license-name", "x")
    assert result.exit_code == 2 and "go with --license other" in result.output
    result = cli("publish", gsm_run, "--out", out, "--license-name", "My Licence")
    assert result.exit_code == 2 and "lowercase id" in result.output
    assert not out.exists()
