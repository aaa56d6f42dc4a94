"""Where recipes read problems from: a problem file (seeds) or a finished run's verified problems.

A file is read by the ``file`` source (JSONL, Parquet or a dataset; the same columns and
the same row-level errors), so a bad seed names its file, line and field. A run directory
gives the problems it finished as ``done``: their references are trusted (ground truth,
consensus, or a generated code reference that passed its checks).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import yaml

from factory.errors import FactoryError
from factory.problem import Problem, Reference, StdioCase
from factory.run.layout import RunLayout
from factory.sources.base import SourceContext
from factory.sources.file import FileSource, FileSourceOptions
from factory.spec import Spec, load_spec, parse_spec

MAX_INPUT_PROBLEMS = 10_000_000


def read_problem_file(path: Path, domain: str) -> list[Problem]:
    """Every problem of a JSONL/Parquet file or dataset directory, in file order."""
    # The file source's errors (SpecError, InputFileError) already name the file and the row.
    source = FileSource(
        FileSourceOptions(path=str(path)), SourceContext(domain=domain, base_dir=Path("."))
    )
    problems = list(source.problems(MAX_INPUT_PROBLEMS, seed=0))
    if not problems:
        raise FactoryError(f"{path}: holds no problems")
    return problems


def read_run_problems(run_dir: Path) -> list[Problem]:
    """The verified (``done``) problems of a run, in the order the run added them."""
    layout = RunLayout(run_dir)
    layout.read_manifest()
    # Read-only: the run may belong to a process that is still writing it.
    db = sqlite3.connect(f"file:{layout.state}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT data FROM problems WHERE state = 'done' ORDER BY seq"
        ).fetchall()
    except sqlite3.Error as exc:
        raise FactoryError(f"{layout.state}: cannot read the run's state ({exc})") from None
    finally:
        db.close()
    problems = [Problem.model_validate_json(data) for (data,) in rows]
    if not problems:
        raise FactoryError(f"{run_dir}: the run has no verified problems yet")
    return problems


def read_problems(path: Path, domain: str) -> list[Problem]:
    """Problems from a run directory (its verified ones) or from a problem file."""
    if path.is_dir() and RunLayout(path).manifest.exists():
        return read_run_problems(path)
    if not path.exists():
        raise FactoryError(f"{path}: no such file or run directory")
    return read_problem_file(path, domain)


def shipped_seeds(spec: Spec) -> Path:
    """Where a spec's own seed problems live: ``seeds/<spec name>.jsonl`` beside the spec."""
    return spec.base_dir / "seeds" / f"{spec.name}.jsonl"


def spec_seed_problems(spec: Spec) -> list[Problem]:
    """The spec's own ``examples`` as seed problems (ground truth, written by a person)."""
    problems = []
    for example in spec.examples:
        stdio = [StdioCase(**case) for case in example.stdio] if example.stdio else None
        reference = Reference(
            answer=example.answer,
            solution=example.solution,
            tests=example.tests,
            entry_point=example.entry_point,
            stdio=stdio,
        )
        problems.append(
            Problem(
                statement=example.statement,
                domain=spec.domain,
                reference=reference,
                trust="ground_truth",
                topic=example.topic,
                difficulty=example.difficulty,
                source="seed",
            )
        )
    return problems


def read_run_spec(run_dir: Path) -> Spec:
    """The spec a run was made with: its original file when unchanged, else the snapshot."""
    layout = RunLayout(run_dir)
    manifest = layout.read_manifest()
    invocation = run_dir / "invocation.json"
    if invocation.is_file():
        original = Path(json.loads(invocation.read_text()).get("spec_path", ""))
        if original.is_file():
            spec = load_spec(original)
            if spec.spec_hash() == manifest.get("spec_hash"):
                return spec
    if not layout.spec.is_file():
        raise FactoryError(f"{run_dir}: no spec.yaml snapshot; pass --spec")
    data = yaml.safe_load(layout.spec.read_text(encoding="utf-8"))
    return parse_spec(data, layout.spec).with_base_dir(run_dir, layout.spec)
