"""`factory publish` to a local directory: round trip through datasets, configs, splits."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from factory.errors import FactoryError
from factory.publish.dataset import build_dataset, plan_configs, split_of
from factory.publish.run_reader import read_run


def _rows(run_dir):
    rows = []
    for shard in sorted((run_dir / "rows").glob("shard-*.jsonl")):
        rows += [json.loads(line) for line in shard.read_text().splitlines()]
    return rows


def test_round_trip_through_load_dataset(gsm_run, tmp_path, cli, load_published):
    out = tmp_path / "ds"
    result = cli("publish", gsm_run, "--out", out)
    assert result.exit_code == 0, result.output
    loaded = load_published(out, "default")
    assert list(loaded) == ["train"]
    expected = _rows(gsm_run)
    got = loaded["train"]
    assert got["id"] == [r["id"] for r in expected]
    assert got["messages"] == [r["messages"] for r in expected]
    assert got[0]["provenance"]["spec_name"] == "gsm8k_distill"
    assert got[0]["verdict"]["passed"] is True
    # the default config is also what load_dataset(DIR) gives
    assert load_published(out)["train"]["id"] == got["id"]


def test_test_split_keeps_problems_whole(gsm_run, tmp_path, cli, load_published):
    out = tmp_path / "ds"
    result = cli("publish", gsm_run, "--out", out, "--test-fraction", "0.3", "--seed", "1")
    assert result.exit_code == 0, result.output
    loaded = load_published(out)
    assert set(loaded) == {"train", "test"}
    pids = {s: {p["problem_id"] for p in loaded[s]["provenance"]} for s in loaded}
    assert pids["train"].isdisjoint(pids["test"]) and pids["test"]
    assert len(loaded["train"]) + len(loaded["test"]) == len(_rows(gsm_run))
    # Publishing again gives byte-identical Parquet files.
    first = {p.name: p.read_bytes() for p in (out / "data").glob("*.parquet")}
    assert (
        cli("publish", gsm_run, "--out", out, "--test-fraction", "0.3", "--seed", "1").exit_code
        == 0
    )
    assert {p.name: p.read_bytes() for p in (out / "data").glob("*.parquet")} == first


@settings(max_examples=60, deadline=None)
@given(
    ids=st.lists(st.text("0123456789abcdef", min_size=16, max_size=16), min_size=1, max_size=60),
    samples=st.integers(1, 4),
    fraction=st.floats(0.01, 0.9),
    seed=st.integers(0, 3),
)
def test_split_is_deterministic_and_never_splits_a_problem(ids, samples, fraction, seed):
    rows = [
        {"id": f"{pid}-{i}", "domain": "math", "provenance": {"problem_id": pid}}
        for pid in ids
        for i in range(samples)
    ]
    plan = plan_configs(rows, test_fraction=fraction, seed=seed)
    where: dict[str, set[str]] = {}
    for split, split_rows in plan["default"].items():
        for row in split_rows:
            where.setdefault(row["provenance"]["problem_id"], set()).add(split)
    assert all(len(s) == 1 for s in where.values())
    # a problem's split depends on its id alone, not on what else is in the dataset
    assert all(where[pid] == {split_of(pid, fraction, seed)} for pid in ids)
    assert plan == plan_configs(list(reversed(rows))[::-1], test_fraction=fraction, seed=seed)


def test_split_fraction_is_roughly_honoured():
    ids = [f"{i:016x}" for i in range(4000)]
    share = sum(split_of(p, 0.1, 0) == "test" for p in ids) / len(ids)
    assert 0.08 < share < 0.12


def test_several_domains_give_a_config_each_and_an_all_default(gsm_run, tmp_path, load_published):
    run = read_run(gsm_run)
    # Relabel half the problems as code: the dataset layer only looks at the rows.
    pids = sorted({r["provenance"]["problem_id"] for r in run.rows})
    code = set(pids[: len(pids) // 2])
    for row in run.rows:
        if row["provenance"]["problem_id"] in code:
            row["domain"] = "code"
    out = tmp_path / "ds"
    result = build_dataset(run, out)
    assert set(result.configs) == {"code", "math"}
    math = load_published(out, "math")["train"]
    code_ds = load_published(out, "code")["train"]
    assert set(math["domain"]) == {"math"} and set(code_ds["domain"]) == {"code"}
    everything = load_published(out)["train"]  # "all" is the default config
    assert sorted(everything["id"]) == sorted(r["id"] for r in run.rows)


def test_refuses_to_write_into_an_unrelated_directory(gsm_run, tmp_path, load_published):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("precious")
    with pytest.raises(FactoryError, match="not a dataset written by factory publish"):
        build_dataset(read_run(gsm_run), out)
    assert (out / "notes.txt").read_text() == "precious"


def test_republishing_replaces_stale_shards(gsm_run, tmp_path, load_published):
    out = tmp_path / "ds"
    build_dataset(read_run(gsm_run), out, test_fraction=0.5)
    build_dataset(read_run(gsm_run), out)
    assert sorted(p.name for p in (out / "data").iterdir()) == ["train-00000-of-00001.parquet"]
