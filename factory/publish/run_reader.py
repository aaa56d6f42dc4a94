"""Read a finished (or stopped) run directory, read-only, into plain records.

The state store (``state.sqlite``) is the source of truth: kept rows, candidates,
rejections and spend are read from it with plain read-only SQL. The JSONL shards
under ``rows/`` are a rebuilt copy; they are checked against the store so that a
half-written run is reported instead of published.

``RUN/excluded.json`` lists problems a later step (``factory check-contamination
--drop``) removed from publication; the store itself is never modified.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from factory.errors import RunDirError
from factory.run.layout import RunLayout

EXCLUDED_FILE = "excluded.json"
CONTAMINATION_FILE = "contamination.json"


@dataclass(frozen=True)
class ProblemRecord:
    """One problem of the run with its final state (open, done or dropped)."""

    id: str
    seq: int
    state: str
    note: str
    data: dict[str, Any]

    @property
    def statement(self) -> str:
        return str(self.data.get("statement", ""))

    @property
    def domain(self) -> str:
        return str(self.data.get("domain", ""))


@dataclass(frozen=True)
class SpendRecord:
    """One paid LLM call (each counted once, ever)."""

    role: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    request_key: str = ""


@dataclass
class RunData:
    """Everything publishing needs from one run directory."""

    root: Path
    manifest: dict[str, Any]
    spec: dict[str, Any]
    invocation: dict[str, Any]
    meta: dict[str, str]
    problems: list[ProblemRecord]
    candidates: dict[str, list[dict[str, Any]]]
    rows: list[dict[str, Any]]
    rejections: list[dict[str, Any]]
    spend: list[SpendRecord]
    summary: dict[str, Any]
    excluded: dict[str, dict[str, Any]] = field(default_factory=dict)
    contamination: dict[str, Any] | None = None

    @property
    def spec_name(self) -> str:
        return str(self.manifest.get("spec_name", ""))

    @property
    def spec_hash(self) -> str:
        return str(self.manifest.get("spec_hash", ""))

    @property
    def started_from(self) -> tuple[Path, ...]:
        """Where the run may have been started from (relative paths it recorded, such as a
        replay file, are relative to one of them): the current directory and the spec's
        directory and its parents."""
        places = [Path.cwd()]
        spec_path = self.invocation.get("spec_path")
        if spec_path:
            places += list(Path(spec_path).parents)[:3]
        return tuple(places)

    def provider_of_request(self) -> dict[str, str]:
        """Request key -> the provider string the run recorded for that call's response."""
        out: dict[str, str] = {}
        for cands in self.candidates.values():
            for c in cands:
                key = (c.get("request") or {}).get("key")
                provider = (c.get("response") or {}).get("provider")
                if key and provider:
                    out[str(key)] = str(provider)
        return out

    def published_rows(self) -> list[dict[str, Any]]:
        """Kept rows minus those of excluded problems, in store order."""
        if not self.excluded:
            return list(self.rows)
        return [r for r in self.rows if problem_id_of(r) not in self.excluded]


def problem_id_of(row: dict[str, Any]) -> str:
    """The problem a kept row answers (rows carry it in their provenance)."""
    return str(row.get("provenance", {}).get("problem_id") or row.get("problem_id") or "")


def read_run(root: Path) -> RunData:
    """Read a run directory; a missing, empty, half-written or newer one is a RunDirError."""
    layout = RunLayout(Path(root))
    manifest = layout.read_manifest()
    if not layout.state.is_file():
        raise RunDirError(
            f"{layout.root}: half-written run (run.json but no state.sqlite); "
            "the run never got going, start it again with `factory generate`"
        )
    spec = _read_spec(layout)
    tables = _read_state(layout.state)
    rows = tables.pop("rows")
    _check_shards(layout, rows)
    return RunData(
        root=layout.root,
        manifest=manifest,
        spec=spec,
        invocation=_read_json(layout.root / "invocation.json", default={}),
        summary=_read_json(layout.summary, default={}),
        excluded=read_excluded(layout.root),
        contamination=_read_json(layout.root / CONTAMINATION_FILE, default=None),
        rows=rows,
        **tables,
    )


def _read_json(path: Path, *, default: Any) -> Any:
    if not path.is_file():
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RunDirError(f"{path}: unreadable JSON ({exc}); the run directory is damaged") from exc


def _read_spec(layout: RunLayout) -> dict[str, Any]:
    if not layout.spec.is_file():
        raise RunDirError(f"{layout.root}: half-written run (no spec.yaml)")
    try:
        data = yaml.safe_load(layout.spec.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RunDirError(f"{layout.spec}: unreadable YAML; the run directory is damaged") from exc
    if not isinstance(data, dict):
        raise RunDirError(f"{layout.spec}: not a spec mapping; the run directory is damaged")
    return data


def _read_state(path: Path) -> dict[str, Any]:
    """All tables publishing needs, read through a read-only connection."""
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise RunDirError(f"{path}: cannot open the state store ({exc})") from exc
    try:
        problems = [
            ProblemRecord(id=pid, seq=seq, state=state, note=note, data=json.loads(data))
            for pid, seq, data, state, note in db.execute(
                "SELECT id, seq, data, state, note FROM problems ORDER BY seq"
            )
        ]
        candidates: dict[str, list[dict[str, Any]]] = {}
        for pid, data in db.execute(
            "SELECT problem_id, data FROM candidates ORDER BY problem_id, sample_index"
        ):
            candidates.setdefault(pid, []).append(json.loads(data))
        rows = [
            json.loads(d)
            for (d,) in db.execute(
                "SELECT data FROM rows ORDER BY problem_seq, sample_index, row_id"
            )
        ]
        rejections = [
            json.loads(d)
            for (d,) in db.execute(
                "SELECT data FROM rejections ORDER BY problem_id, sample_index, stage"
            )
        ]
        spend = [
            SpendRecord(role, model, int(i), int(o), float(c), key)
            for key, role, model, i, o, c in db.execute(
                "SELECT request_key, role, model, input_tokens, output_tokens, cost_usd "
                "FROM spend ORDER BY request_key"
            )
        ]
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.Error as exc:
        raise RunDirError(
            f"{path}: unreadable state store ({exc}); the run is damaged or half-written"
        ) from exc
    except json.JSONDecodeError as exc:
        raise RunDirError(f"{path}: a record in the state store is not JSON ({exc})") from exc
    finally:
        db.close()
    return {
        "problems": problems,
        "candidates": candidates,
        "rows": rows,
        "rejections": rejections,
        "spend": spend,
        "meta": meta,
    }


def _check_shards(layout: RunLayout, rows: list[dict[str, Any]]) -> None:
    """Shards must parse and hold exactly the store's rows; otherwise the run is half-written."""
    shards = sorted(layout.rows_dir.glob("shard-*.jsonl")) if layout.rows_dir.is_dir() else []
    if not shards:
        if rows:
            raise RunDirError(
                f"{layout.root}: half-written run (kept rows in state.sqlite but no rows/ shards); "
                f"run `factory resume {layout.root}` to finish it and rebuild the shards"
            )
        return
    ids: list[str] = []
    for shard in shards:
        for number, line in enumerate(_lines(shard), start=1):
            try:
                ids.append(json.loads(line)["id"])
            except (json.JSONDecodeError, KeyError, TypeError):
                raise RunDirError(
                    f"{shard}: line {number} is truncated or garbled; the run was interrupted "
                    f"while writing rows. Run `factory resume {layout.root}` to rebuild them"
                ) from None
    if sorted(ids) != sorted(str(r.get("id")) for r in rows):
        raise RunDirError(
            f"{layout.root}: rows/ shards ({len(ids)} rows) disagree with state.sqlite "
            f"({len(rows)} rows); run `factory resume {layout.root}` to rebuild them"
        )


def _lines(path: Path) -> Iterable[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RunDirError(f"{path}: not UTF-8 text; the run directory is damaged") from exc
    return [line for line in text.splitlines() if line.strip()]


def read_excluded(root: Path) -> dict[str, dict[str, Any]]:
    """Problem id -> why it is excluded from publication (empty when nothing is)."""
    data = _read_json(Path(root) / EXCLUDED_FILE, default=None)
    if data is None:
        return {}
    problems = data.get("problems") if isinstance(data, dict) else None
    if not isinstance(problems, dict):
        raise RunDirError(f"{Path(root) / EXCLUDED_FILE}: no 'problems' mapping; fix or delete it")
    return problems


def write_excluded(root: Path, problems: dict[str, dict[str, Any]]) -> Path:
    """Write RUN/excluded.json atomically (sorted, so equal inputs give equal bytes)."""
    path = Path(root) / EXCLUDED_FILE
    payload = {
        "format_version": 1,
        "about": "problems left out of publication; the state store keeps them",
        "problems": dict(sorted(problems.items())),
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
