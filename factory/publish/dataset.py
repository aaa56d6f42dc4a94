"""Write rows as a Hugging Face dataset: Parquet per config and split + a dataset card.

`build_dataset` publishes a run's kept rows (SFT data); `write_dataset` is the shared
writer under it, which other datasets made from a run (e.g. the preference pairs of
``factory.recipes.preferences``) use with their own leading columns and card.

Layout of the output directory (what `datasets.load_dataset(DIR, CONFIG)` reads
through the card's ``configs`` metadata):

    DIR/README.md                                  the dataset card
    DIR/data/train-00000-of-00001.parquet          a one-domain spec: the ``default`` config
    DIR/data/<domain>/<split>-0000i-of-0000n.parquet   a spec with several domains: one config
                                                   each, plus ``all`` (the default) over all

Config names come from the spec and splits are per config (``factory.publish.splits``).
What is published of a kept row (``public_row``): the chat the solver answered (with or
without the spec's system prompt and few-shot turns, the same choice as for preference
pairs), no column that repeats another, the provider by its public name (no local paths
or URLs), ``difficulty`` as text.
"""

from __future__ import annotations

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
from factory.publish.dedup import publishable_rows
from factory.publish.errors import PublishError
from factory.publish.prompts import solver_context
from factory.publish.providers import RunProviders
from factory.publish.run_reader import RunData
from factory.publish.splits import (
    SplitPlan,
    data_dir_of,
    plan_configs,
    spec_domains,
    split_of,
)
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
# Columns a spec's ``output.fields`` may add that repeat a core column, the verdict or the
# provenance: published once, where the card documents them.
REPEATED_COLUMNS = (
    "statement", "model", "verifier", "verifier_version", "prompt_version", "spec_name",
    "spec_version", "spec_hash", "trust", "problem_id", "sample_index", "reason",
)  # fmt: skip


@dataclass
class PublishedDataset:
    """What `build_dataset` wrote: per config, per split, the rows (and the card)."""

    out: Path
    plan: SplitPlan
    files: list[Path] = field(default_factory=list)
    stats: RunStats | None = None

    @property
    def configs(self) -> dict[str, dict[str, list[dict[str, Any]]]]:
        return self.plan.configs

    @property
    def warnings(self) -> list[str]:
        return self.plan.warnings

    def counts(self) -> dict[str, dict[str, int]]:
        """Rows per config and split (``all`` first when there are several configs)."""
        return self.plan.counts()


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
    card: Callable[[SplitPlan], str],
    test_fraction: float = 0.0,
    seed: int = 0,
    leading: Sequence[str] = LEADING_COLUMNS,
    kind: str = SFT_KIND,
    domains: list[str] | None = None,
) -> PublishedDataset:
    """Write ``rows`` (each with a ``domain`` and a problem id) as Parquet configs and splits.

    ``card(plan)`` renders the README.md from the split plan. Columns in ``leading`` come
    first, the rest sorted by name. ``domains`` (the spec's) name the configs; splits are by
    problem, per config (``factory.publish.splits``). ``kind`` is what the card's factory
    block names; a previous dataset of another kind in ``out`` is not overwritten.
    """
    if not 0 <= test_fraction < 1:
        raise PublishError(f"--test-fraction must be in [0, 1), got {test_fraction}")
    if not rows:
        raise PublishError(f"--out {out}: no rows to write")
    plan = plan_configs(rows, test_fraction=test_fraction, seed=seed, domains=domains)
    schema = dataset_schema([_arrow_ready(r, leading) for r in rows])
    out = Path(out)
    _prepare_out(out, kind)
    result = PublishedDataset(out=out, plan=plan)
    for config, splits in plan.configs.items():
        for split, split_rows in splits.items():
            result.files.extend(_write_split(out, config, split, split_rows, schema, leading))
    (out / "README.md").write_text(card(plan), encoding="utf-8")
    result.files.append(out / "README.md")
    return result


@dataclass(frozen=True)
class RowOptions:
    """What of the kept rows is published (the same choices apply to preference pairs)."""

    # The spec's solver system prompt and few-shot turns lead every published chat.
    include_system: bool = True
    # Rows repeating an earlier row's (prompt, response) are published too.
    keep_duplicates: bool = False


def public_row(
    row: dict[str, Any], context: list[dict[str, str]], providers: RunProviders
) -> dict[str, Any]:
    """A kept row as published: ``context`` + the run's user/assistant chat, no repeated
    columns, the provider's public name, ``difficulty`` as text."""
    out = {k: v for k, v in row.items() if k not in REPEATED_COLUMNS}
    out["messages"] = [*context, *row["messages"]]
    if out.get("difficulty") is not None:
        out["difficulty"] = str(out["difficulty"])
    provenance = dict(row.get("provenance") or {})
    provider = providers.of(provenance.get("provider"))
    provenance["provider"] = provider.name
    provenance["provider_kind"] = provider.kind
    out["provenance"] = provenance
    return out


def build_dataset(
    run: RunData,
    out: Path,
    *,
    test_fraction: float = 0.0,
    seed: int = 0,
    options: CardOptions | None = None,
    row_options: RowOptions | None = None,
    stats: RunStats | None = None,
) -> PublishedDataset:
    """Write the run's published rows (kept minus excluded, minus exact duplicates unless
    kept) and its card into ``out``."""
    if not 0 <= test_fraction < 1:
        raise PublishError(f"--test-fraction must be in [0, 1), got {test_fraction}")
    row_options = row_options or RowOptions()
    published, _ = publishable_rows(run, keep_duplicates=row_options.keep_duplicates)
    if not published:
        why = "all kept rows are excluded" if run.rows else "the run kept no rows"
        raise PublishError(f"{run.root}: nothing to publish ({why})")
    stats = stats or compute_stats(run, keep_duplicates=row_options.keep_duplicates)
    context = solver_context(run.spec) if row_options.include_system else []
    providers = RunProviders(run)
    public = [public_row(r, context, providers) for r in published]

    def card(plan: SplitPlan) -> str:
        return render_card(
            run,
            stats,
            plan=plan,
            rows=public,
            providers=providers.responses(published),
            options=options or CardOptions(),
            row_options=row_options,
            test_fraction=test_fraction,
            seed=seed,
        )

    result = write_dataset(
        public,
        out,
        card=card,
        test_fraction=test_fraction,
        seed=seed,
        domains=spec_domains(run.spec),
    )
    result.stats = stats
    return result


__all__ = [
    "LEADING_COLUMNS", "PublishedDataset", "RowOptions", "build_dataset", "data_dir_of",
    "dataset_schema", "plan_configs", "public_row", "split_of", "write_dataset",
]  # fmt: skip
