"""The run state store: decisions are atomic and idempotent, spend is counted once."""

import json
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from factory.errors import RunDirError
from factory.run.layout import FORMAT_VERSION, RunLayout
from factory.run.store import StateStore


@pytest.fixture
def store(tmp_path):
    s = StateStore(tmp_path / "state.sqlite")
    yield s
    s.close()


def test_problems_are_deduplicated_and_keep_their_order(store):
    assert store.add_problem("b", {"statement": "B"})
    assert store.add_problem("a", {"statement": "A"})
    assert not store.add_problem("b", {"statement": "B again"})
    assert [d["statement"] for _, d in store.problems()] == ["B", "A"]


def test_decide_writes_rows_rejections_and_state_together(store):
    store.add_problem("p", {})
    store.decide(
        "p",
        state="done",
        rows=[("r1", 1, {"id": "r1"}), ("r0", 0, {"id": "r0"})],
        rejections=[(2, "verify", "wrong_answer", {"reason": "wrong_answer"})],
    )
    assert [r["id"] for r in store.kept_rows()] == ["r0", "r1"]
    assert store.rejection_counts() == {"wrong_answer": 1}
    assert store.problem_count("done") == 1 and store.problem_count("open") == 0


def test_deciding_twice_does_not_duplicate(store):
    store.add_problem("p", {})
    for _ in range(2):
        store.decide("p", state="done", rows=[("r", 0, {"id": "r"})], rejections=[])
    assert store.row_count() == 1


def test_spend_is_counted_once_per_request(store):
    for _ in range(3):
        store.record_spend(
            "k1", role="solver", model="m", input_tokens=10, output_tokens=5, cost_usd=0.5
        )
    store.record_spend("k2", role="solver", model="m", input_tokens=1, output_tokens=1, cost_usd=1)
    spend = store.spend()
    assert (spend.calls, spend.tokens, spend.cost_usd) == (2, 17, 1.5)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3)), max_size=30))
def test_kept_rows_order_is_problem_then_sample_whatever_the_write_order(tmp_path_factory, pairs):
    s = StateStore(tmp_path_factory.mktemp("s") / "state.sqlite")
    for p in range(6):
        s.add_problem(f"p{p}", {})
    for p, i in pairs:
        s.decide(f"p{p}", state="done", rows=[(f"p{p}-{i}", i, {"k": [p, i]})], rejections=[])
    got = [tuple(r["k"]) for r in s.kept_rows()]
    assert got == sorted(set(pairs))
    s.close()


def test_a_killed_writer_leaves_whole_decisions_only(tmp_path):
    """SIGKILL in the middle of many decisions: every problem is done with all its rows, or open."""
    db = tmp_path / "state.sqlite"
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from factory.run.store import StateStore
        s = StateStore(Path({str(db)!r}))
        for p in range(200):
            s.add_problem(f"p{{p}}", {{}})
        for p in range(200):
            s.decide(f"p{{p}}", state="done",
                     rows=[(f"p{{p}}-{{i}}", i, {{"p": p}}) for i in range(4)], rejections=[])
            if p == 120:
                os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert proc.returncode == -9
    s = StateStore(db)
    done = s.problem_count("done")
    assert done == 121
    assert s.row_count() == 4 * done
    s.close()


def test_layout_refuses_empty_garbled_and_newer_run_dirs(tmp_path):
    empty = RunLayout(tmp_path / "empty")
    empty.root.mkdir()
    with pytest.raises(RunDirError, match="not a run directory"):
        empty.read_manifest()
    garbled = RunLayout(tmp_path / "garbled")
    garbled.root.mkdir()
    garbled.manifest.write_text("{half")
    with pytest.raises(RunDirError, match="damaged"):
        garbled.read_manifest()
    newer = RunLayout(tmp_path / "newer")
    newer.root.mkdir()
    newer.manifest.write_text(json.dumps({"format_version": FORMAT_VERSION + 1}))
    with pytest.raises(RunDirError, match="newer factory"):
        newer.read_manifest()


def test_layout_refuses_to_mix_two_specs_in_one_dir(tmp_path):
    layout = RunLayout(tmp_path / "run")
    layout.write_manifest(spec_name="a", spec_hash="111")
    layout.write_manifest(spec_name="a", spec_hash="111")
    with pytest.raises(RunDirError, match="holds a run of spec 'a'"):
        layout.write_manifest(spec_name="b", spec_hash="222")
