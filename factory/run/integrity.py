"""Damaged run state is refused, never silently started over.

The state store is the run's memory: if ``state.sqlite`` is lost, truncated, or lost
its write-ahead log, opening it gives an empty (or older) store, and a resume would
start the run again over rows and paid calls it no longer knows. So each store gets
an id, recorded in ``run.json`` too, and what a run leaves outside the store (the
LLM cache, rows shards, the last summary) is compared with what the store holds. A
mismatch is a :class:`~factory.errors.RunDirError` that says what is wrong and what
to do.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path

from factory.errors import RunDirError
from factory.run.layout import RunLayout
from factory.run.store import StateStore

STATE_ID_META = "state_id"


def _what_to_do(layout: RunLayout) -> str:
    return (
        f"restore {layout.state.name} (with {layout.state.name}-wal beside it) from a backup "
        f"to continue; or start over in a new directory, copying {layout.llm_cache.name} "
        f"(and {layout.llm_cache.name}-wal, if present) into it first, so that no call "
        "already paid for is paid again"
    )


def _cached_responses(layout: RunLayout) -> int:
    if not layout.llm_cache.is_file():
        return 0
    try:
        db = sqlite3.connect(f"{layout.llm_cache.resolve().as_uri()}?mode=ro", uri=True)
        try:
            return int(db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def _count_lines(path: Path) -> int:
    if not path.is_file():
        return 0
    with path.open("rb") as fh:
        return sum(1 for line in fh if line.strip())


def _rows_on_disk(layout: RunLayout) -> int:
    """Kept rows the directory shows, at least: the shards, or this session's live file.

    Not their sum: a kill between the final rebuild of the shards and the removal of the
    live file leaves both holding the session's rows.
    """
    shards = sum(_count_lines(p) for p in layout.rows_dir.glob("shard-*.jsonl"))
    return max(shards, _count_lines(layout.rows_dir / "live.jsonl"))


def _last_summary(layout: RunLayout) -> dict:
    try:
        data = json.loads(layout.summary.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def progress_evidence(layout: RunLayout, manifest: dict) -> list[str]:
    """What outside the state store shows the run had made progress (empty: none)."""
    evidence = []
    if manifest.get(STATE_ID_META):
        evidence.append(f"run.json names state {manifest[STATE_ID_META]}")
    cached = _cached_responses(layout)
    if cached:
        evidence.append(f"{cached} paid LLM responses in {layout.llm_cache.name}")
    rows = _rows_on_disk(layout)
    if rows:
        evidence.append(f"{rows} kept rows in rows/")
    if layout.summary.is_file():
        evidence.append(f"{layout.summary.name} from an earlier session")
    return evidence


def check_fresh_store(layout: RunLayout, manifest: dict) -> None:
    """Refuse to start a run over in a directory that shows progress the store lacks."""
    evidence = progress_evidence(layout, manifest)
    if evidence:
        lost = "is missing" if not layout.state.exists() else "is empty"
        raise RunDirError(
            f"{layout.state}: the state store {lost} (deleted, truncated, or its -wal file "
            f"lost), but the run had progress: {'; '.join(evidence)}. factory will not start "
            f"it over silently: {_what_to_do(layout)}"
        )


def check_known_store(layout: RunLayout, manifest: dict, store: StateStore) -> None:
    """Refuse a store that is not this run's, or holds less than the run has shown."""
    state_id = store.get_meta(STATE_ID_META)
    recorded = manifest.get(STATE_ID_META)
    if state_id and recorded and state_id != recorded:
        raise RunDirError(
            f"{layout.state}: the state store is another run's (state {state_id}; run.json "
            f"names {recorded}). {_what_to_do(layout)}"
        )
    spend, rows = store.spend(), store.row_count()
    summary = _last_summary(layout)
    shown = {
        "LLM calls": (int(summary.get("llm_calls") or 0), spend.calls),
        "kept rows": (max(int(summary.get("kept_rows") or 0), _rows_on_disk(layout)), rows),
    }
    for what, (seen, held) in shown.items():
        if seen > held:
            raise RunDirError(
                f"{layout.state}: the state store lost committed progress ({seen} {what} were "
                f"recorded, it holds {held}; was {layout.state.name}-wal deleted?). "
                f"{_what_to_do(layout)}"
            )


def adopt_store(layout: RunLayout, store: StateStore) -> str:
    """Give a store its id (once) and record it in run.json; returns the id."""
    state_id = store.get_meta(STATE_ID_META)
    if state_id is None:
        state_id = uuid.uuid4().hex[:16]
        store.set_meta(STATE_ID_META, state_id)
    # The store first, run.json second: a kill between them leaves a store run.json adopts
    # on the next open, never a run.json naming a store that does not exist.
    layout.update_manifest(**{STATE_ID_META: state_id})
    return state_id


def open_store(layout: RunLayout, manifest: dict, *, new_run: bool) -> StateStore:
    """Open the run's state store, refusing a damaged one (see the module docstring).

    ``new_run``: run.json was written just now, so nothing in the directory is progress this
    run lost (a response cache copied in beforehand is there to be reused).
    """
    if not layout.state.exists() and not new_run:
        check_fresh_store(layout, manifest)  # before creating an empty store in its place
    try:
        store = StateStore(layout.state)
        try:
            # Runs older than store ids have a start time only.
            known = store.get_meta(STATE_ID_META) or store.get_meta("run_started_at")
            if not known and not new_run:
                check_fresh_store(layout, manifest)
            elif known:
                check_known_store(layout, manifest, store)
            adopt_store(layout, store)
        except BaseException:
            store.close()
            raise
    except sqlite3.DatabaseError as exc:
        raise RunDirError(
            f"{layout.state}: the state store is damaged ({exc}). {_what_to_do(layout)}"
        ) from None
    return store
