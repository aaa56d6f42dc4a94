"""PriceTable: costs from usage, batch discount, aliases, unknown models, config overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from factory.llm import LLMError, PriceTable, Usage

MILLION = 1_000_000


def test_cost_counts_every_token_kind() -> None:
    usage = Usage(
        input_tokens=MILLION,
        output_tokens=MILLION,
        cache_write_tokens=MILLION,
        cache_read_tokens=MILLION,
    )
    # Haiku 4.5: $1 in, $5 out, $1.25 cache write, $0.10 cache read per million.
    assert PriceTable().cost_usd("claude-haiku-4-5", usage) == pytest.approx(7.35)


def test_batch_price_is_half() -> None:
    usage = Usage(input_tokens=1000, output_tokens=500)
    table = PriceTable()
    full = table.cost_usd("claude-opus-4-1", usage)
    assert table.cost_usd("claude-opus-4-1", usage, batch=True) == pytest.approx(full / 2)


def test_dated_and_latest_aliases_use_the_base_price() -> None:
    table = PriceTable()
    assert table.lookup("claude-haiku-4-5-20251001") == table.lookup("claude-haiku-4-5")
    assert table.lookup("claude-3-5-haiku-latest") is not None


def test_an_unknown_newer_model_is_not_priced_as_an_older_one() -> None:
    assert PriceTable().lookup("claude-opus-4-9") is None


def test_unknown_model_costs_zero_unless_strict() -> None:
    usage = Usage(input_tokens=10)
    assert PriceTable().cost_usd("my-model", usage) == 0.0
    with pytest.raises(LLMError, match="no price for model 'my-model'"):
        PriceTable(strict=True).cost_usd("my-model", usage)


def test_free_table_prices_everything_at_zero() -> None:
    table = PriceTable.free()
    assert table.lookup("llama-3-70b") is not None
    assert table.cost_usd("llama-3-70b", Usage(input_tokens=MILLION)) == 0.0


def test_yaml_overrides_merge_with_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text(
        "batch_discount: 0.4\n"
        "models:\n"
        "  claude-haiku-4-5: {input: 2, output: 6, cache_write: 2.5, cache_read: 0.2}\n"
        "  local-llama: {input: 0, output: 0, cache_write: 0, cache_read: 0}\n"
    )
    table = PriceTable.from_yaml(path)
    assert table.batch_discount == 0.4
    assert table.lookup("claude-haiku-4-5").input == 2  # type: ignore[union-attr]
    assert table.lookup("local-llama") is not None
    assert table.lookup("claude-opus-4-1") is not None  # defaults kept
    only = PriceTable.from_yaml(path, merge_defaults=False)
    assert only.lookup("claude-opus-4-1") is None


def test_a_bad_price_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text("models:\n  m: {input: -1, output: 1, cache_write: 1, cache_read: 1}\n")
    with pytest.raises(LLMError, match=r"prices\.yaml.*invalid price table"):
        PriceTable.from_yaml(path)
    with pytest.raises(LLMError, match="cannot read price table"):
        PriceTable.from_yaml(tmp_path / "missing.yaml")
