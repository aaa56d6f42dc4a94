"""RougeIndex decides exactly as the naive Self-Instruct filter: rouge-score against every member.

The oracle compares a text with every member through rouge-score's public API and keeps
the highest F above the threshold (ties: the smallest id). Streams are random texts and
adversarial ones: texts made by small edits of earlier texts, so many pairs sit near the
threshold, over a small vocabulary with repeated words.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rouge_score import rouge_scorer

from factory.filters.rouge_index import NearDuplicate, RougeIndex
from factory.filters.rouge_store import RougeIndexFileError

SCORER = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
THRESHOLDS = [0.7, 0.5, 0.3, 0.9, 0.1, 0.05, 0.95, 0.999, 0.001]
ROOT = Path(__file__).resolve().parents[2]

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def naive(pool: dict[str, str], text: str, threshold: float) -> NearDuplicate | None:
    """Self-Instruct's filter: the best member by rouge-score's F, if above the threshold."""
    best = None
    for doc_id in sorted(pool):  # strict > keeps the smallest id among equal scores
        f = SCORER.score(pool[doc_id], text)["rougeL"].fmeasure
        if f > threshold and (best is None or f > best.score):
            best = NearDuplicate(doc_id, f)
    return best


# ---------------------------------------------------------------- streams of texts

words = st.sampled_from(["a", "b", "c", "d", "the", "of", "x1", "42"])
separators = st.sampled_from([" ", " ", " ", ", ", ". ", " - ", "\n", "! "])


@st.composite
def render(draw, tokens: list[str]) -> str:
    """A text whose rouge tokens are ``tokens``: random case and punctuation between them."""
    parts = [draw(st.sampled_from([t, t.upper(), t.title()])) for t in tokens]
    out = draw(st.sampled_from(["", "  ", "(", "¿"]))
    for part in parts:
        out += part + draw(separators)
    return out


@st.composite
def fresh_tokens(draw) -> list[str]:
    return draw(st.lists(words, max_size=draw(st.sampled_from([2, 6, 12, 25]))))


@st.composite
def edited(draw, tokens: list[str]) -> list[str]:
    """A small edit of ``tokens``: swaps, insertions, deletions, repeats, replacements, moves."""
    out = list(tokens)
    for kind, i, word in draw(
        st.lists(
            st.tuples(st.integers(0, 5), st.integers(0, 1000), words),
            max_size=4,
        )
    ):
        if not out:
            out.append(word)
            continue
        i %= len(out)
        if kind == 0:  # swap neighbours
            j = (i + 1) % len(out)
            out[i], out[j] = out[j], out[i]
        elif kind == 1:
            out.insert(i, word)
        elif kind == 2:
            del out[i]
        elif kind == 3:  # repeat a word
            out.insert(i, out[i])
        elif kind == 4:
            out[i] = word
        else:  # move the head to the end (reordering sentences)
            out = out[i:] + out[:i]
    return out


@st.composite
def random_stream(draw) -> list[str]:
    return [draw(render(draw(fresh_tokens()))) for _ in range(draw(st.integers(1, 20)))]


@st.composite
def near_duplicate_stream(draw) -> list[str]:
    token_lists: list[list[str]] = []
    for _ in range(draw(st.integers(1, 24))):
        if token_lists and draw(st.integers(0, 3)):
            tokens = draw(edited(draw(st.sampled_from(token_lists))))
        else:
            tokens = draw(fresh_tokens())
        token_lists.append(tokens)
    return [draw(render(tokens)) for tokens in token_lists]


def assert_stream_decided_like_naive(stream: list[str], threshold: float) -> None:
    """Every text is decided against the texts before it; all are added (as ids t000...)."""
    index, pool = RougeIndex(threshold), {}
    for i, text in enumerate(stream):
        assert index.nearest_duplicate(text) == naive(pool, text, threshold), (i, text)
        doc_id = f"t{i:03d}"
        index.add(doc_id, text)
        pool[doc_id] = text


# ---------------------------------------------------------------- decisions


@PROPERTY
@given(random_stream(), st.sampled_from(THRESHOLDS) | st.floats(0.01, 0.99))
def test_random_stream_decisions_and_best_matches_equal_naive(stream, threshold):
    assert_stream_decided_like_naive(stream, threshold)


@PROPERTY
@given(near_duplicate_stream(), st.sampled_from(THRESHOLDS) | st.floats(0.01, 0.99))
def test_near_duplicate_stream_decisions_and_best_matches_equal_naive(stream, threshold):
    assert_stream_decided_like_naive(stream, threshold)


@PROPERTY
@given(near_duplicate_stream(), st.data())
def test_threshold_equal_to_a_score_in_the_stream_is_not_a_duplicate_of_that_pair(stream, data):
    """The threshold is set to a score two stream texts really reach: strict > must hold."""
    i = data.draw(st.integers(0, len(stream) - 1))
    j = data.draw(st.integers(0, len(stream) - 1))
    score = SCORER.score(stream[i], stream[j])["rougeL"].fmeasure
    if not 0 < score < 1:
        score = 0.7
    assert_stream_decided_like_naive(stream, score)


def test_a_larger_pool_where_probing_reads_only_part_of_the_index():
    """Hundreds of members over a skewed vocabulary, so the probe skips the common words
    and the pruning steps fire; the decisions still equal the naive filter's."""
    rng = random.Random(7)
    vocabulary = [f"w{i}" for i in range(300)]
    weights = [1 / (rank + 1) for rank in range(300)]
    texts: list[str] = []
    for _ in range(480):
        if texts and rng.random() < 0.4:
            tokens = rng.choice(texts).split()
            for _ in range(rng.randint(1, 5)):
                i = rng.randrange(len(tokens))
                if rng.random() < 0.5:
                    tokens[i] = rng.choices(vocabulary, weights)[0]
                else:
                    tokens.insert(i, tokens[i])
        else:
            tokens = rng.choices(vocabulary, weights, k=rng.randint(4, 40))
        texts.append(" ".join(tokens))
    index, pool = RougeIndex(0.7), {}
    for i, text in enumerate(texts[:440]):
        index.add(f"t{i:03d}", text)
        pool[f"t{i:03d}"] = text
    for text in texts[440:]:
        assert index.nearest_duplicate(text) == naive(pool, text, 0.7)
    stats = index.stats
    assert stats.duplicates > 0
    assert stats.overlap_pruned > 0 and stats.score_pruned > 0
    everything = sum(len(t.split()) for t in pool.values()) * stats.queries
    assert stats.postings_scanned < everything / 10


def test_score_of_exactly_the_threshold_is_not_a_duplicate():
    index = RougeIndex(0.7)
    index.add("m", "a b c d e f g x y z")
    assert SCORER.score("a b c d e f g x y z", "a b c d e f g u v w")["rougeL"].fmeasure == 0.7
    assert index.nearest_duplicate("a b c d e f g u v w") is None


def test_float_rounding_above_the_threshold_counts_as_rouge_score_counts_it():
    """2·7/(7+13) is 0.7 exactly, but rouge-score's float is 0.7000000000000001 > 0.7."""
    index = RougeIndex(0.7)
    index.add("m", "a b c d e f g")
    found = index.nearest_duplicate("a b c d e f g u v w x y z")
    assert found == NearDuplicate("m", 0.7000000000000001)


def test_best_match_is_the_highest_score_then_the_smallest_id():
    index = RougeIndex(0.5)
    index.add("b", "find the sum of two numbers")
    index.add("a", "find the sum of two numbers")
    index.add("c", "find the sum of two large numbers")
    assert index.nearest_duplicate("Find the sum of two numbers.") == NearDuplicate("a", 1.0)


def test_empty_and_punctuation_only_texts_duplicate_nothing():
    index = RougeIndex(0.001)
    index.add("empty", "")
    index.add("dots", "... !!! ???")
    assert index.nearest_duplicate("") is None
    assert index.nearest_duplicate("?!") is None
    assert index.nearest_duplicate("word") is None
    index.add("word", "word")
    assert index.nearest_duplicate("Word!") == NearDuplicate("word", 1.0)


def test_repeated_tokens_count_once_per_occurrence():
    index = RougeIndex(0.7)
    index.add("m", "a a a a b")
    assert index.nearest_duplicate("a b b b b") is None  # LCS 2 of 5 and 5
    assert index.nearest_duplicate("a a a a a") == naive({"m": "a a a a b"}, "a a a a a", 0.7)
    assert index.nearest_duplicate("a a a a a").score == pytest.approx(0.8)  # LCS 4 of 5, 5


@pytest.mark.parametrize("threshold", [0, 1, -0.5, 1.5, float("nan")])
def test_threshold_must_lie_strictly_between_zero_and_one(threshold):
    with pytest.raises(ValueError, match="threshold"):
        RougeIndex(threshold)


def test_ids_must_be_strings():
    with pytest.raises(TypeError, match="doc_id"):
        RougeIndex().add(7, "text")  # type: ignore[arg-type]


# ---------------------------------------------------------------- membership and removal


def test_membership_len_and_ids():
    index = RougeIndex()
    assert len(index) == 0 and "a" not in index and index.ids() == set()
    index.add("a", "one two")
    index.add("b", "three")
    index.add("a", "four five")  # replaces
    assert len(index) == 2 and "a" in index and index.ids() == {"a", "b"}
    index.remove("a")
    index.remove("missing")  # no-op
    assert index.ids() == {"b"}


def test_readding_an_id_replaces_its_text():
    index = RougeIndex(0.7)
    index.add("m", "solve for x in two x plus three equals seven")
    index.add("m", "write a function that reverses a linked list")
    assert index.nearest_duplicate("solve for x in two x plus three equals seven") is None
    assert index.nearest_duplicate("write a function that reverses a linked list").doc_id == "m"


operations = st.lists(
    st.tuples(st.sampled_from(["add", "add", "add", "remove"]), st.integers(0, 7)),
    min_size=1,
    max_size=30,
)


@PROPERTY
@given(near_duplicate_stream(), operations, st.sampled_from(THRESHOLDS))
def test_adds_replacements_and_removals_keep_decisions_equal_to_naive(stream, ops, threshold):
    """Ids are drawn from a few, so adds often replace; every text is probed after each op."""
    index, pool = RougeIndex(threshold), {}
    for step, (op, k) in enumerate(ops):
        doc_id = f"d{k}"
        if op == "add":
            text = stream[step % len(stream)]
            index.add(doc_id, text)
            pool[doc_id] = text
        else:
            index.remove(doc_id)
            pool.pop(doc_id, None)
        assert index.ids() == set(pool)
    for text in stream:
        assert index.nearest_duplicate(text) == naive(pool, text, threshold)


def test_query_then_add_tokenizes_once():
    index = RougeIndex()
    assert index.nearest_duplicate("a new problem") is None
    index.add("p1", "a new problem")
    assert index.stats.tokenized == 1


# ---------------------------------------------------------------- persistence


def build(ops: list[tuple[str, str, str]], index: RougeIndex) -> None:
    for op, doc_id, text in ops:
        if op == "add":
            index.add(doc_id, text)
        else:
            index.remove(doc_id)


SAMPLE_OPS = [
    ("add", "p1", "Find the sum of all prime numbers below 100."),
    ("add", "p2", "Write a function that returns the longest palindromic substring."),
    ("add", "p3", "How many ways can 5 books be arranged on a shelf?"),
    ("remove", "p2", ""),
    ("add", "p4", "Write a function that returns the shortest palindromic substring."),
    ("add", "p1", "Find the sum of all even numbers below 100."),
    ("add", "p5", ""),
]
PROBES = [
    "Find the sum of all odd numbers below 100.",
    "Write a function returning the longest palindromic substring.",
    "How many ways can 6 books be arranged on a shelf?",
    "Find the sum of all prime numbers below 100.",
    "",
]


def decisions(index: RougeIndex) -> list[NearDuplicate | None]:
    return [index.nearest_duplicate(text) for text in PROBES]


def test_reopened_index_decides_like_the_one_that_wrote_it(tmp_path):
    path = tmp_path / "run" / "rouge_index.log"
    memory = RougeIndex(0.6)
    build(SAMPLE_OPS, memory)
    with RougeIndex.open(path, threshold=0.6) as written:
        build(SAMPLE_OPS, written)
        assert decisions(written) == decisions(memory)
    reopened = RougeIndex.open(path, threshold=0.6)
    assert reopened.ids() == memory.ids() == {"p1", "p3", "p4", "p5"}
    assert decisions(reopened) == decisions(memory)
    reopened.close()


def snapshot_of(path: Path) -> Path:
    return path.with_name(path.name + ".snapshot")


def test_reopening_restores_the_snapshot_without_tokenizing_or_replaying(tmp_path):
    path = tmp_path / "index.log"
    with RougeIndex.open(path) as index:
        build(SAMPLE_OPS, index)
    reopened = RougeIndex.open(path)
    assert (reopened.stats.loaded, reopened.stats.replayed, reopened.stats.tokenized) == (4, 0, 0)
    reopened.close()


def test_records_after_the_snapshot_are_replayed_without_tokenizing(tmp_path):
    """As after a kill: the snapshot is older than the log's last records."""
    path = tmp_path / "index.log"
    with RougeIndex.open(path, threshold=0.6) as index:
        build(SAMPLE_OPS[:4], index)
    older = snapshot_of(path).read_bytes()
    with RougeIndex.open(path, threshold=0.6) as index:
        build(SAMPLE_OPS[4:], index)
    snapshot_of(path).write_bytes(older)
    memory = RougeIndex(0.6)
    build(SAMPLE_OPS, memory)
    with RougeIndex.open(path, threshold=0.6) as index:
        assert (index.stats.loaded, index.stats.replayed, index.stats.tokenized) == (4, 3, 0)
        assert index.ids() == memory.ids()
        assert decisions(index) == decisions(memory)


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw[:-10],  # cut short
        lambda raw: raw[:20] + bytes([raw[20] ^ 1]) + raw[21:],  # a flipped bit
        lambda raw: b"",
    ],
)
def test_a_damaged_snapshot_is_not_used_and_the_log_gives_the_same_index(tmp_path, damage):
    path = tmp_path / "index.log"
    with RougeIndex.open(path, threshold=0.6) as index:
        build(SAMPLE_OPS, index)
        expected = decisions(index)
    snapshot_of(path).write_bytes(damage(snapshot_of(path).read_bytes()))
    with RougeIndex.open(path, threshold=0.6) as index:
        assert index.stats.replayed == len(SAMPLE_OPS)
        assert decisions(index) == expected


def test_a_resumed_run_extends_the_index_and_may_change_the_threshold(tmp_path):
    path = tmp_path / "index.log"
    with RougeIndex.open(path, threshold=0.7) as index:
        build(SAMPLE_OPS[:3], index)
    with RougeIndex.open(path, threshold=0.4) as index:
        build(SAMPLE_OPS[3:], index)
    memory = RougeIndex(0.4)
    build(SAMPLE_OPS, memory)
    with RougeIndex.open(path, threshold=0.4) as index:
        assert decisions(index) == decisions(memory)


@settings(max_examples=40, deadline=None)
@given(
    near_duplicate_stream(),
    st.lists(
        st.tuples(st.sampled_from(["add", "add", "remove", "reopen"]), st.integers(0, 5)),
        max_size=25,
    ),
)
def test_any_sequence_of_adds_removals_and_reopens_equals_the_in_memory_index(stream, ops):
    memory = RougeIndex(0.5)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "index.log"
        index = RougeIndex.open(path, threshold=0.5)
        for step, (op, k) in enumerate(ops):
            if op == "reopen":
                index.close()
                index = RougeIndex.open(path, threshold=0.5)
            elif op == "add":
                text = stream[step % len(stream)]
                index.add(f"d{k}", text)
                memory.add(f"d{k}", text)
            else:
                index.remove(f"d{k}")
                memory.remove(f"d{k}")
        index.close()
        final = RougeIndex.open(path, threshold=0.5)
        assert final.ids() == memory.ids()
        for text in stream:
            assert final.nearest_duplicate(text) == memory.nearest_duplicate(text)
        final.close()


def test_a_torn_last_record_is_dropped_and_later_records_are_kept(tmp_path):
    path = tmp_path / "index.log"
    with RougeIndex.open(path) as index:
        build(SAMPLE_OPS, index)
    whole = path.read_bytes()
    path.write_bytes(whole[:-7])  # killed in the middle of writing the last add (p5)
    with RougeIndex.open(path) as index:
        assert index.ids() == {"p1", "p3", "p4"}
        index.add("p6", "A brand new problem about triangles.")
    with RougeIndex.open(path) as index:
        assert index.ids() == {"p1", "p3", "p4", "p6"}


def test_a_garbled_last_line_is_dropped(tmp_path):
    path = tmp_path / "index.log"
    with RougeIndex.open(path) as index:
        build(SAMPLE_OPS, index)
    with path.open("ab") as fh:
        fh.write(b"\0\0\0\0\0\0\n")  # what a crash can leave in the page cache
    with RougeIndex.open(path) as index:
        assert index.ids() == {"p1", "p3", "p4", "p5"}


def test_a_corrupt_record_before_good_ones_is_an_error_naming_the_line(tmp_path):
    path = tmp_path / "index.log"
    with RougeIndex.open(path) as index:
        build(SAMPLE_OPS, index)
    snapshot_of(path).unlink()  # else the snapshot covers the damaged line
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b"longest", b"longezt")  # checksum no longer matches
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(RougeIndexFileError, match="line 3"):
        RougeIndex.open(path)


def test_a_file_that_is_not_an_index_log_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    with pytest.raises(RougeIndexFileError, match="not a ROUGE index log"):
        RougeIndex.open(path)


def test_a_directory_is_refused_with_a_file_name_to_use(tmp_path):
    with pytest.raises(RougeIndexFileError, match=r"rouge_index\.log"):
        RougeIndex.open(tmp_path)


def test_only_one_open_index_per_log(tmp_path):
    path = tmp_path / "index.log"
    with RougeIndex.open(path), pytest.raises(RougeIndexFileError, match="another process"):
        RougeIndex.open(path)
    RougeIndex.open(path).close()  # the lock is released by close


def test_a_log_mostly_of_dead_records_is_compacted_on_open(tmp_path):
    path = tmp_path / "index.log"
    with RougeIndex.open(path, sync=True) as index:
        for i in range(1200):
            index.add(f"p{i % 10}", f"problem number {i} about {i % 13} apples")
        index.remove("p0")
    before = path.stat().st_size
    memory = RougeIndex()
    for i in range(1190, 1200):
        memory.add(f"p{i % 10}", f"problem number {i} about {i % 13} apples")
    memory.remove("p0")
    with RougeIndex.open(path) as index:
        assert index.ids() == memory.ids()
    assert path.stat().st_size < before / 50
    with RougeIndex.open(path) as index:
        assert index.ids() == memory.ids()
        assert index.nearest_duplicate("problem number 1195 about 12 apples") == NearDuplicate(
            "p5", 1.0
        )


def test_kill_9_loses_no_add_that_returned(tmp_path):
    path = tmp_path / "index.log"
    writer = textwrap.dedent(
        f"""
        import itertools, sys
        sys.path.insert(0, {str(ROOT)!r})
        from factory.filters.rouge_index import RougeIndex
        index = RougeIndex.open({str(path)!r})
        for i in itertools.count():
            index.add(f"d{{i:06d}}", f"problem {{i}} with {{i % 7}} words and {{i * 3}} more")
            print(i, flush=True)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    returned = -1
    for line in proc.stdout:
        returned = int(line)
        if returned >= 300:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with RougeIndex.open(path) as index:
        ids = sorted(index.ids())
        assert index.stats.tokenized == 0
    assert ids[: returned + 1] == [f"d{i:06d}" for i in range(returned + 1)]
    assert ids == [f"d{i:06d}" for i in range(len(ids))]  # a prefix of the adds, no holes
