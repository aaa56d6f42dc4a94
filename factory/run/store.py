"""The state store of a run: SQLite, one transaction per decision, safe across kill -9.

The store is the single source of truth. Kept rows are committed in the same
transaction that marks their problem done, so a kill at any moment leaves
either the whole decision or none of it; the JSONL shards are rebuilt from here.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS problems (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    data TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'done', 'dropped')),
    note TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS candidates (
    problem_id TEXT NOT NULL,
    sample_index INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (problem_id, sample_index)
);
CREATE TABLE IF NOT EXISTS rows (
    row_id TEXT PRIMARY KEY,
    problem_seq INTEGER NOT NULL,
    sample_index INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rejections (
    problem_id TEXT NOT NULL,
    sample_index INTEGER NOT NULL,
    stage TEXT NOT NULL,
    reason TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (problem_id, sample_index, stage)
);
CREATE TABLE IF NOT EXISTS spend (
    request_key TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    model TEXT NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cost_usd REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS generation (
    request_index INTEGER PRIMARY KEY,
    state TEXT NOT NULL,
    problems INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class Spend:
    """What the run has spent on LLM calls so far (each call counted once, ever)."""

    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class StateStore:
    """SQLite state of one run. Use from one thread (the run's event loop)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed decision survives a power cut as well as a kill -9.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    # -- meta -------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- problems ---------------------------------------------------------------------
    def add_problem(self, problem_id: str, data: dict[str, Any]) -> bool:
        """Record a new open problem; False when it is already known (a duplicate)."""
        seq = self._db.execute("SELECT COALESCE(MAX(seq), -1) + 1 FROM problems").fetchone()[0]
        cur = self._db.execute(
            "INSERT OR IGNORE INTO problems(id, seq, data, state) VALUES (?, ?, ?, 'open')",
            (problem_id, seq, json.dumps(data, sort_keys=True)),
        )
        return cur.rowcount == 1

    def problem_count(self, state: str | None = None) -> int:
        if state is None:
            return self._db.execute("SELECT COUNT(*) FROM problems").fetchone()[0]
        return self._db.execute(
            "SELECT COUNT(*) FROM problems WHERE state = ?", (state,)
        ).fetchone()[0]

    def problems(self, state: str | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
        """(seq, data) of problems, in the order they were added."""
        sql = "SELECT seq, data FROM problems"
        args: tuple = ()
        if state is not None:
            sql += " WHERE state = ?"
            args = (state,)
        for seq, data in self._db.execute(sql + " ORDER BY seq", args).fetchall():
            yield seq, json.loads(data)

    def problem_state(self, problem_id: str) -> str | None:
        """'open', 'done' or 'dropped'; None for a problem the run never added."""
        row = self._db.execute("SELECT state FROM problems WHERE id = ?", (problem_id,)).fetchone()
        return row[0] if row else None

    def problem_data(self, problem_id: str) -> dict[str, Any] | None:
        """The stored problem (as added); None when the run never added it."""
        row = self._db.execute("SELECT data FROM problems WHERE id = ?", (problem_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def problem_note(self, problem_id: str) -> str | None:
        """Why a problem was dropped (its note), '' for others; None when unknown."""
        row = self._db.execute("SELECT note FROM problems WHERE id = ?", (problem_id,)).fetchone()
        return row[0] if row else None

    def problem_seq(self, problem_id: str) -> int:
        row = self._db.execute("SELECT seq FROM problems WHERE id = ?", (problem_id,)).fetchone()
        return row[0]

    # -- candidates -------------------------------------------------------------------
    def save_candidate(self, problem_id: str, sample_index: int, data: dict[str, Any]) -> None:
        """Remember a solved-and-verified candidate so a resumed run need not redo it."""
        self._db.execute(
            "INSERT OR REPLACE INTO candidates(problem_id, sample_index, data) VALUES (?, ?, ?)",
            (problem_id, sample_index, json.dumps(data, sort_keys=True)),
        )

    def candidates(self, problem_id: str) -> dict[int, dict[str, Any]]:
        rows = self._db.execute(
            "SELECT sample_index, data FROM candidates WHERE problem_id = ?", (problem_id,)
        ).fetchall()
        return {i: json.loads(d) for i, d in rows}

    # -- the decision for one problem, atomically --------------------------------------
    def decide(
        self,
        problem_id: str,
        *,
        state: str,
        rows: Iterable[tuple[str, int, dict[str, Any]]],
        rejections: Iterable[tuple[int, str, str, dict[str, Any]]],
        note: str = "",
    ) -> None:
        """Close a problem: its kept rows, its rejections and its state in one transaction.

        ``rows`` are (row_id, sample_index, row); ``rejections`` are
        (sample_index, stage, reason, record). Re-deciding is idempotent.
        """
        seq = self.problem_seq(problem_id)
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for row_id, sample_index, row in rows:
                self._db.execute(
                    "INSERT OR REPLACE INTO rows(row_id, problem_seq, sample_index, data) "
                    "VALUES (?, ?, ?, ?)",
                    (row_id, seq, sample_index, json.dumps(row, sort_keys=True)),
                )
            for sample_index, stage, reason, record in rejections:
                self._db.execute(
                    "INSERT OR REPLACE INTO rejections"
                    "(problem_id, sample_index, stage, reason, data) VALUES (?, ?, ?, ?, ?)",
                    (problem_id, sample_index, stage, reason, json.dumps(record, sort_keys=True)),
                )
            self._db.execute(
                "UPDATE problems SET state = ?, note = ? WHERE id = ?", (state, note, problem_id)
            )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def reject_problem(self, problem_id: str, stage: str, reason: str, record: dict) -> None:
        """Drop a problem with one rejection record (sample_index -1)."""
        self.decide(
            problem_id,
            state="dropped",
            rows=(),
            rejections=[(-1, stage, reason, record)],
            note=reason,
        )

    def record_rejection(self, key: str, stage: str, reason: str, record: dict) -> None:
        """A rejection not tied to a known problem (e.g. a malformed generator answer)."""
        self._db.execute(
            "INSERT OR REPLACE INTO rejections(problem_id, sample_index, stage, reason, data) "
            "VALUES (?, -1, ?, ?, ?)",
            (key, stage, reason, json.dumps(record, sort_keys=True)),
        )

    def kept_rows(self) -> Iterator[dict[str, Any]]:
        """Kept rows in a deterministic order: problem order, then sample index."""
        for (data,) in self._db.execute(
            "SELECT data FROM rows ORDER BY problem_seq, sample_index, row_id"
        ):
            yield json.loads(data)

    def row_count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM rows").fetchone()[0]

    def rejections(self) -> Iterator[dict[str, Any]]:
        """Rejection records, deterministic order."""
        for (data,) in self._db.execute(
            "SELECT data FROM rejections ORDER BY problem_id, sample_index, stage"
        ):
            yield json.loads(data)

    def rejection_counts(self) -> dict[str, int]:
        rows = self._db.execute(
            "SELECT reason, COUNT(*) FROM rejections GROUP BY reason ORDER BY reason"
        ).fetchall()
        return dict(rows)

    # -- spend ------------------------------------------------------------------------
    def record_spend(
        self,
        request_key: str,
        *,
        role: str,
        model: str,
        input_tokens: int,
        output_tokens: int,
        cost_usd: float,
    ) -> None:
        """Count an LLM call's cost once; a call answered again from cache is not re-counted."""
        self._db.execute(
            "INSERT OR IGNORE INTO spend(request_key, role, model, input_tokens, output_tokens,"
            " cost_usd) VALUES (?, ?, ?, ?, ?, ?)",
            (request_key, role, model, input_tokens, output_tokens, cost_usd),
        )

    def spend(self) -> Spend:
        calls, inp, out, usd = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0),"
            " COALESCE(SUM(cost_usd), 0) FROM spend"
        ).fetchone()
        return Spend(calls=calls, input_tokens=inp, output_tokens=out, cost_usd=usd)

    # -- LLM problem generation progress -----------------------------------------------
    def generation_done(self, request_index: int) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM generation WHERE request_index = ?", (request_index,)
        ).fetchone()
        return row is not None

    def generation_added(self, request_index: int) -> int | None:
        """How many problems a finished generation step added; None when it has not finished."""
        row = self._db.execute(
            "SELECT problems FROM generation WHERE request_index = ?", (request_index,)
        ).fetchone()
        return row[0] if row else None

    def mark_generation(self, request_index: int, problems: int, state: str = "done") -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO generation(request_index, state, problems) VALUES (?, ?, ?)",
            (request_index, state, problems),
        )
