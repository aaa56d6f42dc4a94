"""Where things live inside a run directory, and the format version guard.

RUN/
  run.json            format version, spec name/hash, factory version (written first)
  spec.yaml           snapshot of the spec as loaded
  state.sqlite        the state store: problems, candidates, rows, rejections, spend
  llm_cache.sqlite    responses by request hash (a resumed run never pays twice)
  batches.sqlite      Message Batches ids, so a restarted run picks its batches up
  rows/shard-*.jsonl  kept rows, rebuilt from the state store at every checkpoint
  rejections.jsonl    one line per rejected candidate or problem, with its reason
  summary.json        the last summary (funnel, spend, USD per kept row)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from factory import __version__
from factory.errors import RunDirError

FORMAT_VERSION = 1
ROWS_PER_SHARD = 10_000


@dataclass(frozen=True)
class RunLayout:
    """Paths of one run directory."""

    root: Path

    @property
    def manifest(self) -> Path:
        return self.root / "run.json"

    @property
    def spec(self) -> Path:
        return self.root / "spec.yaml"

    @property
    def state(self) -> Path:
        return self.root / "state.sqlite"

    @property
    def llm_cache(self) -> Path:
        return self.root / "llm_cache.sqlite"

    @property
    def batches(self) -> Path:
        return self.root / "batches.sqlite"

    @property
    def rows_dir(self) -> Path:
        return self.root / "rows"

    @property
    def rejections(self) -> Path:
        return self.root / "rejections.jsonl"

    @property
    def summary(self) -> Path:
        return self.root / "summary.json"

    def shard(self, index: int) -> Path:
        """Path of the ``index``-th rows shard."""
        return self.rows_dir / f"shard-{index:05d}.jsonl"

    def write_manifest(self, *, spec_name: str, spec_hash: str) -> None:
        """Write run.json; refuses to reuse a directory that holds another spec's run."""
        if self.manifest.exists():
            current = self.read_manifest()
            if current.get("spec_hash") != spec_hash:
                raise RunDirError(
                    f"{self.root} holds a run of spec {current.get('spec_name')!r} "
                    f"(hash {current.get('spec_hash')}); the spec given has hash {spec_hash}. "
                    "Use another --out directory, or `factory resume` with the original spec."
                )
            return
        self.root.mkdir(parents=True, exist_ok=True)
        data = {
            "format_version": FORMAT_VERSION,
            "spec_name": spec_name,
            "spec_hash": spec_hash,
            "factory_version": __version__,
        }
        tmp = self.manifest.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        tmp.replace(self.manifest)

    def update_manifest(self, **fields: str) -> None:
        """Add ``fields`` to run.json (atomically; unchanged fields are kept)."""
        data = self.read_manifest()
        if all(data.get(k) == v for k, v in fields.items()):
            return
        data.update(fields)
        tmp = self.manifest.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        tmp.replace(self.manifest)

    def check_usable(self) -> None:
        """Refuse a run directory path that is an existing file (before anything is written)."""
        if self.root.exists() and not self.root.is_dir():
            raise RunDirError(
                f"{self.root} is a file, not a run directory; choose another --out"
            )

    def read_manifest(self) -> dict:
        """Read and check run.json: a missing, garbled or newer-format one is a RunDirError."""
        if not self.root.is_dir():
            raise RunDirError(f"{self.root}: no such run directory")
        if not self.manifest.is_file():
            raise RunDirError(
                f"{self.root}: not a run directory (no run.json); it is empty or was never started"
            )
        try:
            data = json.loads(self.manifest.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RunDirError(f"{self.manifest}: unreadable ({exc}); the run is damaged") from exc
        version = data.get("format_version")
        if not isinstance(version, int):
            raise RunDirError(f"{self.manifest}: no format_version; the run is damaged")
        if version > FORMAT_VERSION:
            raise RunDirError(
                f"{self.root} was written by a newer factory (run format {version}, this factory "
                f"reads up to {FORMAT_VERSION}); upgrade factory to read it"
            )
        return data
