"""Write rows as a Hugging Face dataset: Parquet per config and split + a dataset card.

`build_dataset` publishes a run's kept rows (SFT data); `write_dataset` is the shared
writer under it, which other datasets made from a run (e.g. the preference pairs of
``factory.recipes.preferences``) use with their own leading columns and card.

Layout of the output directory (what `datasets.load_dataset(DIR, CONFIG)` reads
through the card's ``configs`` metadata):

    DIR/README.md                                  the dataset card
    DIR/data/train-00000-of-00001.parquet          one domain: the ``default`` config
    DIR/data/<domain>/<split>-0000i-of-0000n.parquet   several domains: one config each,
                                                   plus ``all`` (the default) over every domain

Splits are decided per problem by a hash of (seed, problem id), so every sample
of one problem lands in the same split, and a problem keeps its split when the
run grows: an updated dataset never moves a test problem into train.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from factory.publish.card import (
    SFT_KIND,
    CardOptions,
    dataset_kind,
    factory_identity,
    read_card_metadata,
    render_card,
)
from factory.publish.errors import PublishError
from factory.publish.run_reader import RunData, problem_id_of
from factory.publish.stats import RunStats, compute_stats

ROWS_PER_PARQUET = 50_000
# Columns first in every table, in this order; the rest follow sorted by name.
LEADING_COLUMNS = (
    "id",
    "messages",
    "problem",
    "solution",
    "answer",
    "domain",
    "topic",
    "difficulty",
)
# Free-form mappings whose keys differ from row to row: stored as JSON text so that
# one Parquet schema fits every row.
JSON_COLUMNS = ("metadata", "check")


def split_of(problem_id: str, test_fraction: float, seed: int = 0) -> str:
    """``"test"`` for about ``test_fraction`` of problems, else ``"train"``; stable per id."""
    if test_fraction <= 0:
        return "train"
    digest = hashlib.sha256(f"{seed}:{problem_id}".encode()).digest()
    return "test" if int.from_bytes(digest[:8], "big") / 2**64 < test_fraction else "train"


@dataclass
class PublishedDataset:
    """What `build_dataset` wrote: per config, per split, the rows (and the card)."""

    out: Path
    configs: dict[str, dict[str, list[dict[str, Any]]]]
    files: list[Path] = field(default_factory=list)
    stats: RunStats | None = None

    def counts(self) -> dict[str, dict[str, int]]:
        return {c: {s: len(r) for s, r in splits.items()} for c, splits in self.configs.items()}


def _arrow_ready(row: dict[str, Any], leading: Sequence[str] = LEADING_COLUMNS) -> dict[str, Any]:
    out = dict(row)
    for name in JSON_COLUMNS:
        if name in out and out[name] is not None:
            out[name] = json.dumps(out[name], sort_keys=True, ensure_ascii=False)
    return {
        **{k: out[k] for k in leading if k in out},
        **{k: out[k] for k in sorted(out) if k not in leading},
    }


def _no_null_types(t: pa.DataType) -> pa.DataType:
    """A column that was None in every row becomes string, so other runs' data can fill it."""
    if pa.types.is_null(t):
        return pa.string()
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, _no_null_types(f.type)) for f in t])
    if pa.types.is_list(t):
        return pa.list_(_no_null_types(t.value_type))
    return t


def dataset_schema(rows: list[dict[str, Any]]) -> pa.Schema:
    """One schema for every config and split of the dataset (so ``all`` can load them together)."""
    inferred = pa.Table.from_pylist(rows).schema
    return pa.schema([pa.field(f.name, _no_null_types(f.type)) for f in inferred])


def plan_configs(
    rows: list[dict[str, Any]], *, test_fraction: float, seed: int
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Config (domain, or ``default`` for one domain) -> split -> rows, in store order."""
    domains = sorted({str(r.get("domain") or "unknown") for r in rows})
    configs: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for row in rows:
        domain = str(row.get("domain") or "unknown")
        config = "default" if len(domains) == 1 else domain
        split = split_of(problem_id_of(row), test_fraction, seed)
        configs.setdefault(config, {}).setdefault(split, []).append(row)
    # train first, then test: the order the card lists them.
    return {
        c: dict(sorted(s.items(), key=lambda kv: kv[0] != "train"))
        for c, s in sorted(configs.items())
    }


def data_dir_of(config: str) -> str:
    return "data" if config == "default" else f"data/{config}"


def _write_split(
    out: Path,
    config: str,
    split: str,
    rows: list[dict[str, Any]],
    schema: pa.Schema,
    leading: Sequence[str],
) -> list[Path]:
    directory = out / data_dir_of(config)
    directory.mkdir(parents=True, exist_ok=True)
    chunks = [rows[i : i + ROWS_PER_PARQUET] for i in range(0, len(rows), ROWS_PER_PARQUET)]
    paths = []
    for i, chunk in enumerate(chunks):
        path = directory / f"{split}-{i:05d}-of-{len(chunks):05d}.parquet"
        table = pa.Table.from_pylist([_arrow_ready(r, leading) for r in chunk], schema=schema)
        pq.write_table(table, path)
        paths.append(path)
    return paths


def _prepare_out(out: Path, kind: str = SFT_KIND) -> None:
    """Clear a previous publish in ``out``; refuse to write into an unrelated directory or
    over another kind of factory dataset (kept rows vs preference pairs)."""
    if not out.exists():
        out.mkdir(parents=True)
        return
    if not out.is_dir():
        raise PublishError(f"--out {out}: exists and is not a directory")
    entries = list(out.iterdir())
    if not entries:
        return
    card = out / "README.md"
    text = card.read_text(encoding="utf-8", errors="replace") if card.is_file() else ""
    identity = factory_identity(read_card_metadata(text))
    if identity is None:
        raise PublishError(
            f"--out {out}: not empty and not a dataset written by factory publish; "
            "choose an empty or new directory"
        )
    if dataset_kind(identity) != kind:
        raise PublishError(
            f"--out {out}: holds a {dataset_kind(identity)} dataset written by factory, not a "
            f"{kind} one; choose another directory"
        )
    # Only what publish writes is removed; anything else a user put there stays.
    shutil.rmtree(out / "data", ignore_errors=True)
    card.unlink()


def write_dataset(
    rows: list[dict[str, Any]],
    out: Path,
    *,
    card: Callable[[dict[str, dict[str, int]]], str],
    test_fraction: float = 0.0,
    seed: int = 0,
    leading: Sequence[str] = LEADING_COLUMNS,
    kind: str = SFT_KIND,
) -> PublishedDataset:
    """Write ``rows`` (each with a ``domain`` and a problem id) as Parquet configs and splits.

    ``card(counts)`` renders the README.md from the rows per config and split. Columns in
    ``leading`` come first, the rest sorted by name. Splits are by problem (`split_of`).
    ``kind`` is what the card's factory block names; a previous dataset of another kind in
    ``out`` is not overwritten.
    """
    if not 0 <= test_fraction < 1:
        raise PublishError(f"--test-fraction must be in [0, 1), got {test_fraction}")
    if not rows:
        raise PublishError(f"--out {out}: no rows to write")
    configs = plan_configs(rows, test_fraction=test_fraction, seed=seed)
    schema = dataset_schema([_arrow_ready(r, leading) for r in rows])
    out = Path(out)
    _prepare_out(out, kind)
    result = PublishedDataset(out=out, configs=configs)
    for config, splits in configs.items():
        for split, split_rows in splits.items():
            result.files.extend(_write_split(out, config, split, split_rows, schema, leading))
    (out / "README.md").write_text(card(result.counts()), encoding="utf-8")
    result.files.append(out / "README.md")
    return result


def build_dataset(
    run: RunData,
    out: Path,
    *,
    test_fraction: float = 0.0,
    seed: int = 0,
    options: CardOptions | None = None,
    stats: RunStats | None = None,
) -> PublishedDataset:
    """Write the run's published rows (kept minus excluded) and its card into ``out``."""
    if not 0 <= test_fraction < 1:
        raise PublishError(f"--test-fraction must be in [0, 1), got {test_fraction}")
    rows = run.published_rows()
    if not rows:
        why = "all kept rows are excluded" if run.rows else "the run kept no rows"
        raise PublishError(f"{run.root}: nothing to publish ({why})")
    stats = stats or compute_stats(run)

    def card(counts: dict[str, dict[str, int]]) -> str:
        return render_card(
            run,
            stats,
            counts=counts,
            options=options or CardOptions(),
            test_fraction=test_fraction,
            seed=seed,
        )

    result = write_dataset(rows, out, card=card, test_fraction=test_fraction, seed=seed)
    result.stats = stats
    return result
