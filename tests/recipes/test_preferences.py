"""Verified preference pairs (factory.recipes.preferences) from real runs.

The runs are made by the real `factory generate` CLI against factory's local
Anthropic-compatible server; the scripted solver answers each prompt differently
per call (right on some samples, wrong in several ways on others), and the real
math verifier and the real Docker sandbox judge the answers. Every check below
reads the truth back from the run's own state store.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import datasets
import pytest
import typer
from huggingface_hub import DatasetCard
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from typer.testing import CliRunner

from factory.commands.preferences import register
from factory.errors import FactoryError, RunDirError
from factory.publish.card import factory_identity, read_card_metadata
from factory.publish.dataset import build_dataset
from factory.publish.hub import push_dataset
from factory.publish.run_reader import read_run
from factory.recipes.preferences import (
    REAL_FAILURES,
    JudgedSample,
    LengthControl,
    PreferenceOptions,
    _Prompt,
    balance_lengths,
    build_preference_pairs,
    missed_tests_share,
    ordered_combos,
    pair_prompt,
    publish_preferences,
    take_pairs,
    within_ratio,
)
from factory.testing.anthropic_server import AnthropicTestServer, last_user_text
from tests.publish.fake_hub import TOKEN, FakeHub
from tests.publish.quickstart import make_quickstart_run
from tests.run.scripted_llm import (
    GSM_DATA,
    GSM_SPEC,
    REPO,
    gsm_answers,
    gsm_responder,
    run_cli,
    sum_problems,
)
from verifiers import Reason, Verdict

BAD_REFERENCE = "How many marbles are in a jar that holds the broken reference?"


# -- scripted solvers that answer each prompt differently per call ----------------------
class CallCounter:
    """How many times each prompt was answered so far (the k-th call gets k)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: Counter[str] = Counter()

    def next(self, key: str) -> int:
        with self._lock:
            k = self._seen[key]
            self._seen[key] += 1
            return k


def _bucket(statement: str) -> int:
    return int(hashlib.sha256(statement.encode()).hexdigest(), 16) % 6


PADDING = "First I restate what is given and what is asked, and check the units. " * 5


def gsm_texts(statement: str, answer: str) -> list[str]:
    """The four answers of one problem, by bucket of its statement.

    bucket 0: all right (no failing candidate); 1: all wrong (no passing candidate);
    2-3: long right, far wrong, short right, off-by-one wrong (the hard negative);
    4-5: two long right answers, an off-by-one wrong one and one without any number.
    """
    v = Decimal(answer)
    right_long = f"Let me work this out.\n{PADDING}\nStep by step we get {v}.\n\n\\boxed{{{v}}}"
    right_short = f"Step by step we get {v}.\n\n\\boxed{{{v}}}"
    close = f"Step by step we get {v + 1}.\n\n\\boxed{{{v + 1}}}"
    far = f"Roughly {v * 10 + 7}.\n\n\\boxed{{{v * 10 + 7}}}"
    bucket = _bucket(statement)
    if bucket == 0:
        return [right_long, right_short, right_long + " ", right_short + " "]
    if bucket == 1:
        return [close, far, "I am not sure how to finish this one.", far + " "]
    if bucket in (2, 3):
        return [right_long, far, right_short, close]
    return [right_long, right_long + "\nDone.", close, "I am not sure how to finish this one."]


def gsm_mixed_responder(answers: dict[str, str]):
    counter = CallCounter()

    def respond(body: dict) -> str:
        text = last_user_text(body)
        if BAD_REFERENCE in text:
            return "It holds \\boxed{12} marbles."
        for statement, answer in answers.items():
            if statement in text:
                return gsm_texts(statement, answer)[counter.next(statement) % 4]
        return "I do not know."

    return respond


CODE_ANSWERS = {
    # entry point: (partial: passes some tests, wrong: passes none)
    "running_max": "def running_max(nums):\n    return list(nums)\n",
    "is_palindrome": "def is_palindrome(text):\n    return text == text[::-1]\n",
    "merge_intervals": "def merge_intervals(intervals):\n    return sorted(intervals)\n",
    "word_frequencies": (
        "def word_frequencies(text):\n    counts = {}\n    for w in text.split():\n"
        "        counts[w] = counts.get(w, 0) + 1\n    return counts\n"
    ),
}


def code_mixed_responder():
    """Per problem: the reference solution, a partial one, one returning None, no code."""
    problems = [json.loads(line) for line in (GSM_DATA.parent / "python_functions.jsonl").open()]
    counter = CallCounter()

    def respond(body: dict) -> str:
        text = last_user_text(body)
        for p in problems:
            name = p["entry_point"]
            if f"`{name}(" in text:
                k = counter.next(name) % 4
                if k == 0:
                    return f"Here it is.\n\n```python\n{p['solution']}```"
                if k == 1:
                    return f"Here it is.\n\n```python\n{CODE_ANSWERS[name]}```"
                if k == 2:
                    return f"Here it is.\n\n```python\ndef {name}(*args):\n    return None\n```"
                return "I would rather explain the idea than write the code."
        return "no idea"

    return respond


def consensus_responder():
    """Generator: 'What is a + b?' problems, every third with a wrong reference.
    Solver: on a wrong-reference problem, two of four samples agree with that reference
    (so the problem is dropped for lack of consensus although it has passing and failing
    candidates); on the others three of four give the true sum (consensus reached)."""
    counter = CallCounter()
    made = iter(range(10_000))

    def respond(body: dict) -> str:
        text = last_user_text(body)
        m = re.search(r"Write (\d+) new", text)
        if m:
            return sum_problems(int(m.group(1)), made)
        m = re.search(r"What is \$(\d+) \+ (\d+)\$", text)
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            i = (a - 100) // 7
            k = counter.next(m.group(0)) % 4
            reference = a + b + (1 if i % 3 == 0 else 0)  # as the generator wrote it
            agreeing = 2 if i % 3 == 0 else 3  # samples that agree with the reference
            value = reference if k < agreeing else reference - 1
            return f"Adding, \\boxed{{{value}}}"
        return "no idea"

    return respond


# -- real runs (made once per session, copied when a test writes into them) ---------------
def _generate(server: AnthropicTestServer, spec: Path, out: Path, n: int) -> Path:
    result = run_cli(
        "generate", str(spec), "--n", str(n), "--out", str(out),
        "--llm", f"anthropic:{server.base_url}", "--quiet",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="session")
def gsm_run(tmp_path_factory) -> Path:
    """The grade-school spec on its 20 problems plus one whose reference cannot be parsed
    (every candidate gets reference_error: no verdict), 4 samples each."""
    base = tmp_path_factory.mktemp("gsm-mixed")
    (base / "data").mkdir()
    bad = {"id": "gsm-bad", "question": BAD_REFERENCE, "answer": "#### \\frac{"}
    (base / "data" / GSM_DATA.name).write_text(GSM_DATA.read_text() + json.dumps(bad) + "\n")
    spec = base / "gsm.yaml"
    spec.write_text(GSM_SPEC.read_text())
    with AnthropicTestServer(responder=gsm_mixed_responder(gsm_answers())) as server:
        return _generate(server, spec, base / "run", n=21)


@pytest.fixture(scope="session")
def code_run(tmp_path_factory) -> Path:
    """The four hand-written function problems, 4 samples each, judged in the Docker sandbox."""
    base = tmp_path_factory.mktemp("code")
    spec = base / "functions.yaml"
    spec.write_text(
        f"""name: function_pairs
version: 1
description: The four hand-written Python function problems of the quickstart.
seed: 1
domain: code
verifier:
  name: unit_tests
source:
  kind: file
  options:
    path: {GSM_DATA.parent / "python_functions.jsonl"}
roles:
  solver:
    model: claude-haiku-4-5
    max_tokens: 1024
    system: You are an expert Python programmer.
    prompt: |
      {{statement}}

      {{format}}
    output_format: code
samples_per_problem: 4
output:
  fields: [id, statement, solution]
"""
    )
    with AnthropicTestServer(responder=code_mixed_responder()) as server:
        return _generate(server, spec, base / "run", n=4)


@pytest.fixture(scope="session")
def consensus_run(tmp_path_factory) -> Path:
    spec = REPO / "problem_specs" / "algebra_number_theory.yaml"
    with AnthropicTestServer(responder=consensus_responder()) as server:
        return _generate(server, spec, tmp_path_factory.mktemp("consensus") / "run", n=10)


@pytest.fixture(scope="session")
def all_or_nothing_run(tmp_path_factory) -> Path:
    """The plain grade-school run: every problem's samples are all right or all wrong."""
    with AnthropicTestServer(responder=gsm_responder) as server:
        return _generate(server, GSM_SPEC, tmp_path_factory.mktemp("plain") / "run", n=20)


@pytest.fixture
def load(tmp_path):
    def load_dir(path: Path, config: str | None = None):
        return datasets.load_dataset(str(path), config, cache_dir=str(tmp_path / "hf-cache"))

    return load_dir


@pytest.fixture
def cli():
    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:
        """Test app (a callback keeps typer in multi-command mode)."""

    runner = CliRunner()
    return lambda *args: runner.invoke(app, [str(a) for a in args])


def candidates_of(run_dir: Path) -> dict[tuple[str, int], dict]:
    """(problem id, sample index) -> the candidate record, straight from state.sqlite."""
    with sqlite3.connect(run_dir / "state.sqlite") as db:
        rows = db.execute("SELECT problem_id, sample_index, data FROM candidates").fetchall()
    return {(pid, i): json.loads(d) for pid, i, d in rows}


def problem_states(run_dir: Path) -> dict[str, tuple[str, str]]:
    with sqlite3.connect(run_dir / "state.sqlite") as db:
        return {pid: (s, n) for pid, s, n in db.execute("SELECT id, state, note FROM problems")}


def by_problem(rows: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        out[row["problem_id"]].append(row)
    return out


def sides(run_dir: Path) -> dict[str, tuple[list[dict], list[dict]]]:
    """Problem id -> (passing candidates, really failing candidates) from the store."""
    out: dict[str, tuple[list[dict], list[dict]]] = defaultdict(lambda: ([], []))
    for (pid, _), cand in candidates_of(run_dir).items():
        v = cand["verdict"]
        if v["passed"]:
            out[pid][0].append(cand)
        elif v["reason"] in REAL_FAILURES:
            out[pid][1].append(cand)
    return out


# -- what a pair is ---------------------------------------------------------------------
def test_every_pair_is_verified_against_a_real_failure_and_loads(gsm_run, tmp_path, load):
    prefs = build_preference_pairs(gsm_run)
    out = tmp_path / "prefs"
    publish_preferences(prefs, out)
    ds = load(out)["train"]
    assert len(ds) == len(prefs.pairs) > 0
    cands = candidates_of(gsm_run)
    spec_system = "You solve grade-school math word problems step by step."
    for row in ds:
        chosen = cands[(row["problem_id"], row["chosen_sample_index"])]
        rejected = cands[(row["problem_id"], row["rejected_sample_index"])]
        assert chosen["verdict"]["passed"] is True
        assert rejected["verdict"]["passed"] is False
        assert rejected["verdict"]["reason"] in REAL_FAILURES
        assert row["rejected_reason"] == rejected["verdict"]["reason"]
        assert row["chosen"] == [{"role": "assistant", "content": chosen["response"]["text"]}]
        assert row["rejected"] == [{"role": "assistant", "content": rejected["response"]["text"]}]
        assert row["chosen"] != row["rejected"]
        # the conversation the solver answered: system, the spec's few-shot turn, the prompt
        assert [m["role"] for m in row["prompt"]] == ["system", "user", "assistant", "user"]
        assert row["prompt"][0]["content"] == spec_system
        assert row["prompt"][-1]["content"] == chosen["request"]["prompt"]
        assert row["verifier"] == "math" and row["verifier_version"]
        assert row["chosen_model"] == "claude-haiku-4-5"
        assert row["spec_name"] == "gsm8k_distill" and row["spec_hash"] == prefs.run.spec_hash
        assert row["reference_trust"] == "ground_truth"
    # problems without a pair are counted with why; the broken reference is no verdict at all
    buckets = Counter(_bucket(s) for s in gsm_answers())
    assert prefs.skipped == {
        "no_failing_candidate": buckets[0],
        "no_passing_candidate": buckets[1] + 1,
    }
    assert prefs.unverifiable == 4
    assert prefs.prompts == 20 - buckets[0] - buckets[1]
    assert prefs.to_dict()["rejected_reasons"] == dict(Counter(ds["rejected_reason"]))


def test_max_pairs_per_prompt_and_the_reuse_policy(gsm_run):
    truth = sides(gsm_run)
    for k in (1, 2, 3, 4, 10):
        prefs = build_preference_pairs(gsm_run, PreferenceOptions(max_pairs_per_prompt=k))
        for pid, rows in by_problem(prefs.rows()).items():
            passing, failing = truth[pid]
            distinct = {
                (c["sample_index"], r["sample_index"])
                for c in passing
                for r in failing
                if c["response"]["text"] != r["response"]["text"]
            }
            combos = [(r["chosen_sample_index"], r["rejected_sample_index"]) for r in rows]
            assert len(combos) == len(set(combos)) == min(k, len(distinct))
            assert set(combos) <= distinct
            if k <= min(len(passing), len(failing)):
                assert len({c for c, _ in combos}) == len({r for _, r in combos}) == k


def test_hard_negatives_pick_the_closest_wrong_answer(gsm_run):
    answers = gsm_answers()
    prefs = build_preference_pairs(gsm_run)  # hard negatives are the default
    for pid, rows in by_problem(prefs.rows()).items():
        (row,) = rows
        value = Decimal(answers[row["problem"]])
        # the off-by-one boxed answer beats the far one and the one without a number
        assert row["rejected"][0]["content"].endswith(f"\\boxed{{{value + 1}}}"), pid
    two = build_preference_pairs(gsm_run, PreferenceOptions(max_pairs_per_prompt=2)).rows()
    for rows in by_problem(two).values():
        value = Decimal(answers[rows[0]["problem"]])
        assert [r["pair_rank"] for r in rows] == [0, 1]
        # the hardest pair first; the second uses another chosen and another rejected
        assert rows[0]["rejected"][0]["content"].endswith(f"\\boxed{{{value + 1}}}")
        assert rows[0]["chosen_sample_index"] != rows[1]["chosen_sample_index"]
        assert rows[0]["rejected_sample_index"] != rows[1]["rejected_sample_index"]


def test_random_choice_is_seeded_and_differs_from_hard_negatives(gsm_run):
    def picks(seed):
        options = PreferenceOptions(hard_negatives=False, seed=seed)
        return [
            (r["problem_id"], r["chosen_sample_index"], r["rejected_sample_index"])
            for r in build_preference_pairs(gsm_run, options).rows()
        ]

    assert picks(0) == picks(0)
    by_seed = {seed: picks(seed) for seed in range(6)}
    assert len({tuple(p) for p in by_seed.values()}) > 1
    rows = build_preference_pairs(gsm_run, PreferenceOptions(hard_negatives=False)).rows()
    assert {r["selection"] for r in rows} == {"random"}
    assert {r["rejected_reason"] for r in rows} <= set(REAL_FAILURES)


@pytest.mark.docker
def test_code_hard_negatives_are_the_programs_passing_most_tests(code_run, tmp_path, load):
    cands = candidates_of(code_run)
    prefs = build_preference_pairs(code_run, PreferenceOptions(max_pairs_per_prompt=3))
    assert prefs.skipped == {} and prefs.prompts == 4
    for pid, rows in by_problem(prefs.rows()).items():
        assert len(rows) == 3 and len({r["chosen_sample_index"] for r in rows}) == 1
        missed = [
            missed_share_of(cands[(pid, r["rejected_sample_index"])]["verdict"]) for r in rows
        ]
        assert missed == sorted(missed) and missed[0] < 1.0, (pid, missed)
        entry_point = re.search(r"`(\w+)\(", rows[0]["problem"]).group(1)
        assert rows[0]["rejected"][0]["content"].endswith(CODE_ANSWERS[entry_point] + "```")
        assert rows[-1]["rejected_reason"] == "no_answer"
        assert {r["verifier"] for r in rows} == {"unit_tests"}
    out = tmp_path / "code-prefs"
    publish_preferences(prefs, out)
    assert len(load(out)["train"]) == 12
    card = (out / "README.md").read_text()
    assert "passed the largest share of the problem's tests" in card


def missed_share_of(verdict: dict) -> float:
    return missed_tests_share(_sample(0, "x", Verdict.model_validate(verdict)))


# -- length control ---------------------------------------------------------------------
def test_ratio_length_control_holds_its_bound(gsm_run, tmp_path):
    options = PreferenceOptions(
        max_pairs_per_prompt=4, length_control=LengthControl.RATIO, max_length_ratio=1.5
    )
    prefs = build_preference_pairs(gsm_run, options)
    assert prefs.pairs
    for row in prefs.rows():
        a, b = row["chosen_chars"], row["rejected_chars"]
        assert max(a, b) <= 1.5 * max(1, min(a, b))
        assert (a, b) == (len(row["chosen"][0]["content"]), len(row["rejected"][0]["content"]))
    assert prefs.after.pairs < prefs.before.pairs
    publish_preferences(prefs, tmp_path / "ds")
    card = (tmp_path / "ds" / "README.md").read_text()
    assert "at most 1.5 times the shorter one" in card
    assert f"| before length control | {prefs.before.pairs} |" in card


def test_balance_length_control_leaves_at_most_half_with_the_longer_chosen(gsm_run, tmp_path):
    plain = build_preference_pairs(gsm_run, PreferenceOptions(max_pairs_per_prompt=4))
    assert plain.after.chosen_longer > 0.5  # the scripted right answers are the long ones
    options = PreferenceOptions(max_pairs_per_prompt=4, length_control=LengthControl.BALANCE)
    prefs = build_preference_pairs(gsm_run, options)
    rows = prefs.rows()
    longer = sum(r["chosen_chars"] > r["rejected_chars"] for r in rows)
    assert rows and 2 * longer <= len(rows)
    assert prefs.after.chosen_longer <= 0.5
    assert prefs.before == plain.after  # "before" is what the same options give unbalanced
    publish_preferences(prefs, tmp_path / "ds")
    card = (tmp_path / "ds" / "README.md").read_text()
    assert f"{plain.after.chosen_longer:.1%}" in card and f"{prefs.after.chosen_longer:.1%}" in card


# -- determinism, trust, errors ---------------------------------------------------------
def test_same_run_same_options_same_bytes(gsm_run, tmp_path):
    options = PreferenceOptions(
        max_pairs_per_prompt=2, hard_negatives=False, seed=7, length_control="balance"
    )
    copy = tmp_path / "copy"
    shutil.copytree(gsm_run, copy)
    outs = []
    for i, run_dir in enumerate((gsm_run, copy, gsm_run)):
        out = tmp_path / f"ds{i}"
        publish_preferences(build_preference_pairs(run_dir, options), out, test_fraction=0.3)
        outs.append({p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*.*")})
    assert outs[0] == outs[1] == outs[2]
    assert any(name.startswith("data/test-") for name in outs[0])


def test_untrusted_problems_give_no_pairs(consensus_run):
    states = problem_states(consensus_run)
    dropped = {pid for pid, (state, _) in states.items() if state == "dropped"}
    assert dropped and {note for s, note in states.values() if s == "dropped"} == {"no_consensus"}
    truth = sides(consensus_run)
    # a dropped problem had passing and failing candidates, and still gives nothing
    assert any(truth[pid][0] and truth[pid][1] for pid in dropped)
    prefs = build_preference_pairs(consensus_run, PreferenceOptions(max_pairs_per_prompt=3))
    paired = {p.problem.id for p in prefs.pairs}
    assert paired and paired.isdisjoint(dropped)
    assert prefs.skipped["not_trusted:dropped:no_consensus"] == len(dropped)
    assert {r["reference_trust"] for r in prefs.rows()} == {"consensus"}
    assert {r["rejected_reason"] for r in prefs.rows()} == {"wrong_answer"}


def test_open_and_excluded_problems_give_no_pairs(gsm_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(gsm_run, copy)
    full = build_preference_pairs(copy)
    first, second = sorted({p.problem.id for p in full.pairs})[:2]
    (copy / "excluded.json").write_text(json.dumps({"problems": {first: {"why": "test"}}}))
    with sqlite3.connect(copy / "state.sqlite") as db:
        db.execute("UPDATE problems SET state = 'open' WHERE id = ?", (second,))
    prefs = build_preference_pairs(copy)
    assert {p.problem.id for p in prefs.pairs} == {p.problem.id for p in full.pairs} - {
        first,
        second,
    }
    assert prefs.skipped["excluded"] == 1 and prefs.skipped["not_trusted:open"] == 1


def test_bad_run_dir_and_an_empty_result_are_one_line_exit_2(cli, all_or_nothing_run, tmp_path):
    missing = cli("preferences", tmp_path / "nowhere", "--out", tmp_path / "o")
    assert missing.exit_code == 2
    assert missing.output.strip().splitlines() == [
        f"error: {tmp_path / 'nowhere'}: no such run directory"
    ]
    empty = cli("preferences", all_or_nothing_run, "--out", tmp_path / "o")
    assert empty.exit_code == 2
    (line,) = empty.output.strip().splitlines()
    assert line.startswith("error: ") and "no preference pairs to publish (20 problems: " in line
    assert "no_failing_candidate" in line and "no_passing_candidate" in line
    assert not (tmp_path / "o").exists()
    with pytest.raises(RunDirError, match="not a run directory"):
        build_preference_pairs(tmp_path)
    bad = cli("preferences", all_or_nothing_run, "--out", tmp_path / "o", "--max-length-ratio", "3")
    assert bad.exit_code == 2
    assert bad.output.strip().splitlines() == [
        "error: bad options: max_length_ratio applies to length_control='ratio' only "
        "(length_control is 'none')"
    ]


def test_options_are_validated_at_the_edge():
    with pytest.raises(ValidationError):
        PreferenceOptions(max_pairs_per_prompt=0)
    with pytest.raises(ValidationError):
        PreferenceOptions(length_control="shortest")
    with pytest.raises(ValidationError):
        PreferenceOptions(length_control="ratio", max_length_ratio=0.5)
    with pytest.raises(ValidationError):
        PreferenceOptions(max_pairs=2)
    assert PreferenceOptions(length_control="ratio").ratio == 2.0


# -- the card, the Hub, the CLI -----------------------------------------------------------
def test_card_says_how_pairs_were_formed(gsm_run, tmp_path):
    options = PreferenceOptions(max_pairs_per_prompt=2, length_control="balance")
    prefs = build_preference_pairs(gsm_run, options)
    publish_preferences(prefs, tmp_path / "ds")
    card = (tmp_path / "ds" / "README.md").read_text()
    meta = read_card_metadata(card)
    assert factory_identity(meta)["dataset"] == "preferences"
    assert factory_identity(meta)["spec_name"] == "gsm8k_distill"
    assert "dpo" in meta["tags"]
    assert meta["configs"] == [
        {
            "config_name": "default",
            "data_files": [{"split": "train", "path": "data/train-*.parquet"}],
        }
    ]
    assert "options: at most 2 per prompt, hard negatives first, length control balance" in card
    assert "the same extraction rule as the chosen one's" in card
    for reason, n in prefs.rejected_reasons().items():
        assert f"| {reason} | {n} |" in card
    for why, n in prefs.skipped.items():
        assert f"| no pair: {why} | {n} |" in card
    assert "(no verdict; 4 in this run) are on neither side" in card
    from huggingface_hub import DatasetCard

    assert DatasetCard(card).data.to_dict()["license"] == "other"


def test_an_out_directory_never_mixes_kept_rows_and_preference_pairs(gsm_run, tmp_path):
    sft, prefs_dir = tmp_path / "sft", tmp_path / "prefs"
    build_dataset(read_run(gsm_run), sft)
    prefs = build_preference_pairs(gsm_run)
    publish_preferences(prefs, prefs_dir)
    publish_preferences(prefs, prefs_dir)  # a preference dataset is replaced by a new one
    before = {p: p.read_bytes() for p in sft.rglob("*.*")}
    with pytest.raises(FactoryError, match="holds a sft dataset written by factory"):
        publish_preferences(prefs, sft)
    assert {p: p.read_bytes() for p in sft.rglob("*.*")} == before
    with pytest.raises(FactoryError, match="holds a preferences dataset written by factory"):
        build_dataset(read_run(gsm_run), prefs_dir)


def test_a_push_never_mixes_kept_rows_and_preference_pairs(gsm_run, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    sft, prefs_dir = tmp_path / "sft", tmp_path / "prefs"
    build_dataset(read_run(gsm_run), sft)
    publish_preferences(build_preference_pairs(gsm_run), prefs_dir)
    with FakeHub() as hub:

        def push(folder, repo, kind, **kw):
            return push_dataset(
                folder, repo, spec_name="gsm8k_distill", message="m", endpoint=hub.url,
                kind=kind, **kw,
            )  # fmt: skip

        push(sft, "alice/gsm", "sft")
        with pytest.raises(FactoryError, match=r"holds a sft dataset .* not a preferences one"):
            push(prefs_dir, "alice/gsm", "preferences")
        push(prefs_dir, "alice/gsm-dpo", "preferences")
        with pytest.raises(FactoryError, match="holds a preferences dataset"):
            push(sft, "alice/gsm-dpo", "sft")
        push(prefs_dir, "alice/gsm", "preferences", force=True)
        assert len(hub.repos["alice/gsm"].commits) == 2


def test_cli_pushes_through_the_hub_code(cli, gsm_run, tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setenv("HF_TOKEN", TOKEN)
    with FakeHub() as hub:
        monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", hub.url)
        result = cli("preferences", gsm_run, "--out", tmp_path / "ds", "--repo-id", "alice/dpo")
        assert result.exit_code == 0, result.output
        assert "created and pushed alice/dpo@main" in result.output
        _, commit = hub.repos["alice/dpo"].commits[0]
        assert commit.message.startswith("factory preferences: gsm8k_distill (spec hash ")
        assert sorted(commit.added) == ["README.md", "data/train-00000-of-00001.parquet"]


def test_end_to_end_through_the_real_cli(gsm_run, tmp_path, load):
    out = tmp_path / "ds"
    result = subprocess.run(
        [sys.executable, "-m", "factory.cli", "preferences", str(gsm_run), "--out", str(out),
         "--max-pairs-per-prompt", "2", "--length-control", "balance", "--test-fraction", "0.25"],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert " pairs from " in lines[0] and "length control balance" in lines[0]
    assert any(line.startswith("length before control: chosen ") for line in lines)
    assert lines[-1].startswith(f"wrote {out} (")
    loaded = load(out)
    total = sum(len(loaded[s]) for s in loaded)
    assert (
        total
        == build_preference_pairs(
            gsm_run, PreferenceOptions(max_pairs_per_prompt=2, length_control="balance")
        ).after.pairs
    )
    as_json = subprocess.run(
        [sys.executable, "-m", "factory.cli", "preferences", str(gsm_run), "--out", str(out),
         "--json"],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )  # fmt: skip
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["options"]["max_pairs_per_prompt"] == 1
    bad = subprocess.run(
        [sys.executable, "-m", "factory.cli", "preferences", str(tmp_path / "none"), "--out",
         str(tmp_path / "x")],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


# -- properties of the pairing over random verdict patterns ---------------------------------
def _sample(index: int, text: str, verdict: Verdict, prompt: str = "p") -> JudgedSample:
    return JudgedSample(index=index, prompt=prompt, text=text, verdict=verdict, model="m")


REASONS = list(Reason)


@st.composite
def judged_samples(draw, domain="math"):
    n = draw(st.integers(1, 8))
    out = []
    for i in range(n):
        reason = draw(st.sampled_from(REASONS))
        details = {}
        if domain == "code" and draw(st.booleans()):
            total = draw(st.integers(1, 6))
            details = {"total_tests": total, "passed_tests": draw(st.integers(0, total))}
        if domain == "math" and draw(st.booleans()):
            details = {
                "extracted": draw(st.sampled_from(["1", "2", "10", "x+1", "1/2"])),
                "rule": draw(st.sampled_from(["boxed", "answer_is", "last_number"])),
            }
        if reason is Reason.CORRECT:
            verdict = Verdict.ok(details=details)
        else:
            verdict = Verdict.fail(reason, "m", details=details)
        text = draw(st.sampled_from(["a", "bb", "ccc" * 5, "same", "x" * 40, ""])) + str(
            draw(st.integers(0, 2))
        )
        out.append(_sample(i, text, verdict))
    return out


@settings(max_examples=300, deadline=None)
@given(
    samples=judged_samples(),
    k=st.integers(1, 12),
    hard=st.booleans(),
    seed=st.integers(0, 3),
    ratio=st.sampled_from([None, 1.0, 1.5, 3.0]),
)
def test_pairing_invariants_over_random_verdicts(samples, k, hard, seed, ratio):
    options = PreferenceOptions(
        max_pairs_per_prompt=k,
        hard_negatives=hard,
        seed=seed,
        length_control="ratio" if ratio else "none",
        max_length_ratio=ratio,
    )
    pairs, why = pair_prompt("pid", "math", samples, options)
    passing = [s for s in samples if s.passed]
    failing = [s for s in samples if s.verdict.reason.value in REAL_FAILURES]
    possible = [
        (c.index, r.index)
        for c in passing
        for r in failing
        if c.text != r.text and (ratio is None or within_ratio((c, r), ratio))
    ]
    assert (why is None) == bool(pairs)
    if not passing:
        assert why == "no_passing_candidate"
    elif not failing:
        assert why == "no_failing_candidate"
    keys = [(c.index, r.index) for c, r in pairs]
    assert len(keys) == len(set(keys)) == min(k, len(possible))
    assert set(keys) <= set(possible)
    for c, r in pairs:
        assert c.verdict.passed and not r.verdict.passed and c.text != r.text
        assert r.verdict.reason not in (Reason.INFRA_ERROR, Reason.REFERENCE_ERROR)
    # a response is used an m-th time only when every pair not taken would reuse one
    # already used m - 1 times (so with k <= min(passing, failing) nobody is used twice)
    uses = Counter(i for key in keys for i in key)
    if uses:
        most = max(uses.values())
        left = [(c, r) for c, r in possible if (c, r) not in set(keys)]
        assert all(max(uses[c], uses[r]) >= most - 1 for c, r in left)
    assert pair_prompt("pid", "math", samples, options) == (pairs, why)


def _combos(samples):
    passing = [s for s in samples if s.passed]
    failing = [s for s in samples if s.verdict.reason.value in REAL_FAILURES]
    return [(c, r) for c in passing for r in failing if c.text != r.text]


@settings(max_examples=200, deadline=None)
@given(samples=judged_samples(domain="code"))
def test_code_hard_negative_passes_the_most_tests(samples):
    pairs, why = pair_prompt("pid", "code", samples, PreferenceOptions())
    if why is not None:
        return
    ((_, rejected),) = pairs

    def share_passed(s):
        d = s.verdict.details
        return d["passed_tests"] / d["total_tests"] if "total_tests" in d else -1

    assert share_passed(rejected) == max(share_passed(r) for _, r in _combos(samples))


@settings(max_examples=200, deadline=None)
@given(samples=judged_samples(domain="math"))
def test_math_hard_negative_has_the_closest_answer_form(samples):
    pairs, why = pair_prompt("pid", "math", samples, PreferenceOptions())
    if why is not None:
        return
    ((chosen, rejected),) = pairs

    def form(c, r):
        if "extracted" not in r.verdict.details:
            return 2
        return 0 if r.verdict.details["rule"] == c.verdict.details.get("rule") else 1

    assert form(chosen, rejected) == min(form(c, r) for c, r in _combos(samples))


@settings(max_examples=200, deadline=None)
@given(groups=st.lists(judged_samples(), min_size=1, max_size=6), k=st.integers(1, 5))
def test_balance_bounds_the_longer_chosen_share(groups, k):
    options = PreferenceOptions(max_pairs_per_prompt=k)
    prompts = []
    for i, samples in enumerate(groups):
        ordered = ordered_combos(f"p{i}", "math", samples, options)
        if ordered:
            taken, limit = take_pairs(ordered, k)
            prompts.append(_Prompt(f"p{i}", ordered, list(taken), limit))
    before = {p.key: list(p.taken) for p in prompts}
    balance_lengths(prompts)
    after = [combo for p in prompts for combo in p.taken]
    assert 2 * sum(c.length > r.length for c, r in after) <= len(after)
    for p in prompts:
        keys = [(c.index, r.index) for c, r in p.taken]
        assert len(keys) == len(set(keys)) and len(keys) <= len(before[p.key])
        assert all(combo in p.ordered for combo in p.taken)
        uses = Counter(i for key in keys for i in key)
        assert not uses or max(uses.values()) <= p.limit


def test_the_cli_offers_every_length_control():
    from factory.commands.preferences import LengthChoice

    assert [c.value for c in LengthChoice] == [c.value for c in LengthControl]


# -- the quickstart run (replayed scripted answers, math and code) ------------------------
@pytest.fixture(scope="session")
def quickstart_run(tmp_path_factory) -> Path:
    """The README's quickstart run (read only by these tests)."""
    return make_quickstart_run(tmp_path_factory.mktemp("runs") / "quickstart")


@pytest.mark.docker
def test_truncated_rejected_responses_are_a_column_and_can_be_left_out(
    quickstart_run, tmp_path, load
):
    """4 of the quickstart's 7 pairs reject a response that stopped at max_tokens."""
    run = read_run(quickstart_run)
    truncated = {
        (pid, c["sample_index"])
        for pid, cands in run.candidates.items()
        for c in cands
        if c["response"]["stop_reason"] == "max_tokens"
    }
    out = tmp_path / "dpo"
    publish_preferences(build_preference_pairs(run), out)
    pairs = load(out, "all")["train"]
    assert len(pairs) == 7
    marked = [
        (p, i) in truncated
        for p, i in zip(pairs["problem_id"], pairs["rejected_sample_index"], strict=True)
    ]
    assert pairs["rejected_truncated"] == marked and sum(marked) == 4
    card = DatasetCard((out / "README.md").read_text()).text
    assert "4 of 7 pairs have a rejected response that stopped at max_tokens" in card

    kept = tmp_path / "dpo-kept"
    prefs = build_preference_pairs(run, PreferenceOptions(exclude_truncated=True))
    publish_preferences(prefs, kept)
    pairs = load(kept, "all")["train"]
    assert len(pairs) == 3 and not any(pairs["rejected_truncated"])
    assert prefs.skipped.get("only_truncated_failing") == 4
    assert "(such pairs were excluded: `--exclude-truncated`)" in (kept / "README.md").read_text()


@pytest.mark.docker
@pytest.mark.parametrize("system", ["--include-system", "--exclude-system"])
def test_sft_rows_and_preference_prompts_have_one_shape(quickstart_run, tmp_path, load, system):
    from factory.commands.publish import register as register_publish

    app = typer.Typer()
    register(app)
    register_publish(app)
    runner = CliRunner()
    for command, out in (("publish", "sft"), ("preferences", "dpo")):
        result = runner.invoke(app, [command, str(quickstart_run), "--out", str(tmp_path / out),
                                     system])  # fmt: skip
        assert result.exit_code == 0, result.output
    sft = load(tmp_path / "sft", "all")["train"]
    dpo = load(tmp_path / "dpo", "all")["train"]
    prompt_of = {
        row["provenance"]["problem_id"]: row["messages"][:-1] for row in sft
    }  # the chat minus the response
    for row in dpo:
        if row["problem_id"] in prompt_of:
            assert row["prompt"] == prompt_of[row["problem_id"]]
    assert set(dpo["problem_id"]) & set(prompt_of)
    roles = {tuple(m["role"] for m in p) for p in dpo["prompt"]}
    assert roles == ({("system", "user")} if system == "--include-system" else {("user",)})


@pytest.mark.docker
def test_config_names_stay_when_length_control_leaves_one_domain(quickstart_run, tmp_path, load):
    out = tmp_path / "dpo"
    options = PreferenceOptions(length_control=LengthControl.RATIO)
    result = publish_preferences(build_preference_pairs(quickstart_run, options), out)
    assert set(load(out, "math")["train"]["domain"]) == {"math"}  # not "default"
    assert list(result.counts()) == ["all", "math"]
    assert any("no config code" in w for w in result.warnings)
