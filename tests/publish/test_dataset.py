"""`factory publish` to a local directory: round trip through datasets, configs, splits."""

from __future__ import annotations

import json

import pytest
from huggingface_hub import DatasetCard
from hypothesis import given, settings
from hypothesis import strategies as st

from factory.errors import FactoryError
from factory.publish.dataset import build_dataset, plan_configs, split_of
from factory.publish.run_reader import read_run, write_excluded


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
    # The scripted solver answers a problem the same way 4 times: one row per problem.
    expected = list({r["provenance"]["problem_id"]: r for r in reversed(_rows(gsm_run))}.values())
    expected.reverse()
    got = loaded["train"]
    assert sorted(got["id"]) == sorted(r["id"] for r in expected)
    by_id = {r["id"]: r for r in expected}
    spec = read_run(gsm_run).spec["roles"]["solver"]
    context = [{"role": "system", "content": spec["system"]}]
    for shot in spec["few_shot"]:
        context += [
            {"role": "user", "content": shot["user"]},
            {"role": "assistant", "content": shot["assistant"]},
        ]
    assert got["messages"] == [context + by_id[i]["messages"] for i in got["id"]]
    assert got[0]["provenance"]["spec_name"] == "gsm8k_distill"
    assert got[0]["verdict"]["passed"] is True
    # the default config is also what load_dataset(DIR) gives
    assert load_published(out)["train"]["id"] == got["id"]


def test_exact_duplicates_are_removed_and_counted_unless_kept(
    gsm_run, tmp_path, cli, load_published

):
    rows = _rows(gsm_run)
    distinct = {json.dumps(r["messages"], sort_keys=True) for r in rows}
    assert len(rows) == 4 * len(distinct)  # the deterministic solver: 4 copies of each answer
    out = tmp_path / "ds"
    result = cli("publish", gsm_run, "--out", out)
    assert result.exit_code == 0, result.output
    assert f"removed {len(rows) - len(distinct)} exact duplicate rows" in result.output
    train = load_published(out)["train"]
    assert len(train) == len(distinct)
    assert len({json.dumps(m, sort_keys=True) for m in train["messages"]}) == len(train)
    card = DatasetCard((out / "README.md").read_text())
    removed = len(rows) - len(distinct)
    assert f"{removed} rows repeating an earlier row's (prompt, response) were removed" in card.text
    kept = tmp_path / "kept"
    result = cli("publish", gsm_run, "--out", kept, "--keep-duplicates")
    assert result.exit_code == 0, result.output
    assert len(load_published(kept)["train"]) == len(rows)
    assert "exact duplicates were kept" in DatasetCard((kept / "README.md").read_text()).text


def test_test_split_keeps_problems_whole(gsm_run, tmp_path, cli, load_published):
    out = tmp_path / "ds"
    args = ("publish", gsm_run, "--out", out, "--test-fraction", "0.3", "--seed", "1")
    result = cli(*args)
    assert result.exit_code == 0, result.output
    loaded = load_published(out)
    assert set(loaded) == {"train", "test"}
    pids = {s: {p["problem_id"] for p in loaded[s]["provenance"]} for s in loaded}
    assert pids["train"].isdisjoint(pids["test"]) and pids["test"]
    assert len(loaded["train"]) + len(loaded["test"]) == len(_rows(gsm_run)) // 4
    # Publishing again gives byte-identical files, card included.
    first = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert cli(*args).exit_code == 0
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == first


@pytest.mark.docker
def test_every_config_of_a_small_mixed_run_has_a_train_split(
    quickstart_run, tmp_path, cli, load_published

):
    """0.9 of 12 problems: the old split put whole domains into test (no train at all)."""
    out = tmp_path / "ds"
    result = cli("publish", quickstart_run, "--out", out, "--test-fraction", "0.9")
    assert result.exit_code == 0, result.output
    card = DatasetCard((out / "README.md").read_text())
    names = [c["config_name"] for c in card.data.to_dict()["configs"]]
    assert names == ["all", "code", "math"]
    for domain in ("code", "math"):
        ds = load_published(out, domain)
        assert len(ds["train"]) > 0 and set(ds["train"]["domain"]) == {domain}
        train = {p["problem_id"] for p in ds["train"]["provenance"]}
        test = {p["problem_id"] for p in ds["test"]["provenance"]} if "test" in ds else set()
        assert train.isdisjoint(test)
    everything = load_published(out, "all")
    assert set(everything["train"]["domain"]) == {"code", "math"}  # stratified per domain
    # the card's table holds the counts per config and split that load_dataset gives
    for config in names:
        ds = load_published(out, config)
        for split in ds:
            assert f"| {config} | {split} | {len(ds[split])} |" in card.text


@pytest.mark.docker
def test_an_empty_test_split_is_warned_about(quickstart_run, tmp_path, cli):
    result = cli("publish", quickstart_run, "--out", tmp_path / "ds", "--test-fraction", "0.01")
    assert result.exit_code == 0, result.output
    assert "warning: config code: no test split" in result.output
    assert "config code: no test split" in (tmp_path / "ds" / "README.md").read_text()


@pytest.mark.docker
def test_config_names_come_from_the_spec_not_from_what_survived(
    quickstart_run, tmp_path, cli, load_published

):
    run = read_run(quickstart_run)
    code = {r["provenance"]["problem_id"] for r in run.rows if r["domain"] == "code"}
    write_excluded(quickstart_run, {pid: {"reason": "test"} for pid in code})
    out = tmp_path / "ds"
    result = cli("publish", quickstart_run, "--out", out)
    assert result.exit_code == 0, result.output
    assert "no config code: the spec's domain 'code' has no published rows" in result.output
    names = [c["config_name"] for c in DatasetCard((out / "README.md").read_text()).data.configs]
    assert names == ["all", "math"]  # not "default": the math config keeps its name
    with pytest.raises(ValueError, match="code"):
        load_published(out, "code")
    math = load_published(out, "math")["train"]
    assert len(math) > 0 and load_published(out, "all")["train"]["id"] == math["id"]


def test_published_chats_can_leave_out_the_system_prompt(gsm_run, tmp_path, cli, load_published):
    out = tmp_path / "ds"
    assert cli("publish", gsm_run, "--out", out, "--exclude-system").exit_code == 0
    chats = load_published(out)["train"]["messages"]
    assert {tuple(m["role"] for m in chat) for chat in chats} == {("user", "assistant")}
    assert "left out (published with `--exclude-system`)" in (out / "README.md").read_text()


@pytest.mark.docker
def test_difficulty_is_text_and_no_column_repeats_another(quickstart_run, tmp_path, load_published):
    out = tmp_path / "ds"
    build_dataset(read_run(quickstart_run), out)
    train = load_published(out, "all")["train"]
    assert train.features["difficulty"].dtype == "string"
    assert {d for d in train["difficulty"]} >= {"1", "easy"}  # procedural and file problems
    for repeated in ("statement", "model", "verifier", "trust", "spec_hash", "prompt_version"):
        assert repeated not in train.column_names
    assert train[0]["provenance"]["model"] and train[0]["provenance"]["verifier"]


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
    for split, split_rows in plan.configs["default"].items():
        for row in split_rows:
            where.setdefault(row["provenance"]["problem_id"], set()).add(split)
    assert all(len(s) == 1 for s in where.values())
    # a problem's split depends on its id alone (not on what else is in the dataset), except
    # that a config with data always keeps a train split
    moved = [pid for pid in where if where[pid] != {split_of(pid, fraction, seed)}]
    assert len(moved) <= 1
    assert plan.configs["default"]["train"]
    if moved:
        assert all(split_of(pid, fraction, seed) == "test" for pid in set(ids))
    assert plan == plan_configs(list(reversed(rows))[::-1], test_fraction=fraction, seed=seed)


@settings(max_examples=60, deadline=None)
@given(
    problems=st.lists(
        st.tuples(st.text("0123456789abcdef", min_size=8, max_size=8), st.sampled_from("abc")),
        min_size=1, max_size=40, unique_by=lambda t: t[0],
    ),
    fraction=st.floats(0.01, 0.99),
    seed=st.integers(0, 3),
)  # fmt: skip
def test_every_domain_with_data_has_train_and_test_never_moves_to_train(problems, fraction, seed):
    rows = [{"id": p, "domain": d, "provenance": {"problem_id": p}} for p, d in problems]
    plan = plan_configs(rows, test_fraction=fraction, seed=seed, domains=["a", "b", "c"])
    assert list(plan.configs) == sorted({d for _, d in problems})
    assert list(plan.counts()) == ["all", *plan.configs]
    # stratified: a domain's split does not depend on the other domains' problems
    for domain in plan.configs:
        alone = plan_configs([r for r in rows if r["domain"] == domain], test_fraction=fraction,
                             seed=seed, domains=["a", "b", "c"])  # fmt: skip
        assert alone.configs[domain] == plan.configs[domain]
    for domain, splits in plan.configs.items():
        assert splits["train"]
        # growing the dataset never turns a test problem into a train one
        test_now = {r["id"] for r in splits.get("test", [])}
        grown = plan_configs(
            [*rows, {"id": "f" * 9, "domain": domain, "provenance": {"problem_id": "f" * 9}}],
            test_fraction=fraction, seed=seed, domains=["a", "b", "c"],
        )  # fmt: skip
        assert test_now <= {r["id"] for r in grown.configs[domain].get("test", [])}


def test_split_fraction_is_roughly_honoured():
    ids = [f"{i:016x}" for i in range(4000)]
    share = sum(split_of(p, 0.1, 0) == "test" for p in ids) / len(ids)
    assert 0.08 < share < 0.12


@pytest.mark.docker
def test_several_domains_give_a_config_each_and_an_all_default(
    quickstart_run, tmp_path, load_published
):
    run = read_run(quickstart_run)
    out = tmp_path / "ds"
    result = build_dataset(run, out)
    assert set(result.configs) == {"code", "math"}
    math = load_published(out, "math")["train"]
    code_ds = load_published(out, "code")["train"]
    assert set(math["domain"]) == {"math"} and set(code_ds["domain"]) == {"code"}
    everything = load_published(out)["train"]  # "all" is the default config
    assert sorted(everything["id"]) == sorted([*math["id"], *code_ds["id"]])


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
