"""ROUGE-L near-duplicate filter: our RougeIndex vs the naive all-pairs rouge-score filter.

    python benchmarks/dedup/run.py [--sizes 1000,10000,50000] [--queries 200]
                                   [--naive-queries 100,30,12] [--quick] [--json OUT]

The stream: deterministic math and code problem statements. Each is zero to two context
sentences, one of 24 problem templates and zero to two closing remarks, with choices of
wording, names, numbers, objects and words of a 4000-word made-up lexicon drawn with
Zipf's law. A fifth of the items are small edits of an earlier item (swapped, inserted,
deleted or repeated words, changed numbers, reordered sentences).

The pool grows as Self-Instruct grows it, through our index: a stream item is added
unless a member has ROUGE-L F > 0.7 with it. When the pool reaches each size N, the next
``--queries`` stream items are decided against that same pool (they are not added) by

1. ours: ``RougeIndex.nearest_duplicate`` (the decision and the best match);
2. naive: rouge-score against every member, as Alpaca's Self-Instruct code does it:
   members tokenized once with ``RougeScorer(["rougeL"])``'s tokenizer, then
   ``rouge_scorer._score_lcs(member, query)`` for each, keeping the highest F.

The naive filter needs seconds per query on big pools, so it decides only the first
``--naive-queries`` of the sample at each size (ours decides all of them); decisions
and best matches are compared on those. Times are wall time per query. An insertion
with our index is a query plus, when kept, an add (timed as the mean of the last 1000
adds while the pool grew); the naive filter's add is appending a token list. The
speed-up is naive query time / our query + add time.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import re
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from rouge_score import rouge_scorer

from factory.filters.rouge_index import NearDuplicate, RougeIndex

THRESHOLD = 0.7
SEED = 20261123

# ------------------------------------------------------------------ the synthetic stream


def _words(text: str) -> list[str]:
    return text.split()


_SYLLABLES = _words(
    """ba be bi bo da de di do fa fe ka ke ki ko la le li lo ma me mi mo na ne ni no ra re ri
ro sa se si so ta te ti to va ve vi zo"""
)
_OBJECTS = _words(
    """apples marbles pencils stickers books coins tickets cookies cards shells stamps beads
candles bottles boxes crayons erasers flowers oranges lemons cupcakes bricks tiles seeds
eggs kites balloons blocks buttons ribbons rings cups plates spoons bowls notebooks
folders magnets puzzles robots drones lamps chairs tables shirts socks hats gloves
scarves batteries bolts nails screws planks ropes buckets tomatoes carrots potatoes
muffins pies melons peaches plums cherries grapes pears walnuts almonds"""
)
_PLACES = _words(
    """market library garden bakery school harbor museum stadium station farm workshop pharmacy
theater hospital warehouse cafe bookstore gym park zoo"""
)
_ADJECTIVES = _words(
    """red blue green wooden plastic metal tiny huge heavy light old new shiny striped square
round golden silver broken rare fragile sturdy colorful"""
)
_SPORTS = _words("soccer chess tennis basketball volleyball hockey cricket baseball rugby golf")
_PROPERTIES = _words(
    """prime even odd palindromic triangular square cube fibonacci perfect abundant deficient
happy lucky harshad automorphic"""
)
_STRUCTURES = _words("list array tuple deque sequence stream vector collection")
_ELEMENTS = _words(
    """integers strings words floats intervals points dates names tokens pairs records
timestamps"""
)
_METRICS = _words("sum product maximum minimum median mode average count variance range")
_VERBS = _words(
    """sort reverse rotate flatten deduplicate merge partition compress encode decode shuffle
filter group rank normalize validate"""
)
_NOUNS = _words(
    """matrix grid path tree graph heap queue stack window interval string number digits prefix
suffix substring subarray cycle island"""
)
_UNITS = _words("meters kilometers liters grams kilograms minutes hours dollars euros seconds")
_ORDINALS = _words("second third fourth fifth sixth seventh")

# "[a|b|c]" is a choice, "{slot}" a filler: instances of one template differ in both.
_TEMPLATES = [
    "{name} [has|owns|collected|starts with] {n1} {obj}. {name2} [gives|hands|lends] {name} "
    "{n2} [more|extra] {obj} and then {name} [sells|trades|loses] {n3} of them at the {place}. "
    "How many {obj} [does {name} have left|remain|are still with {name}]?",
    "A {adj} [box|crate|basket|bag] [contains|holds] {n1} {obj} and {n2} {obj2}. If {n3} {obj} "
    "are [taken out|removed|eaten|sold], what [fraction|percentage|share] of the [remaining "
    "items|rest|contents] are {obj2}?",
    "[Find|Compute|Determine|Calculate] the [sum|product|number|count] of all {prop} numbers "
    "[between|from] {n1} [and|to] {n2} [that are not divisible by {n4}|whose last digit is "
    "{n4}|inclusive|].",
    "What is the remainder when {n1} [raised to the power|to the] {n2} is divided by {n3}? "
    "[Use modular arithmetic.|Avoid computing the power directly.|]",
    "A [train|cyclist|truck|boat|runner] [travels|covers|moves] {n1} {unit} in {n2} [hours|"
    "minutes]. At the same [speed|pace|rate], how [far|long a distance] [does it|will it] "
    "[travel|go] in {n3} [hours|minutes]?",
    "The perimeter of a [rectangle|rectangular {place}|garden bed] is {n1} {unit} and its "
    "[width|shorter side] is {n2} {unit}. [Find|What is] its [area|diagonal].",
    "How many {n4}-digit {prop} numbers have digits that [add up|sum] to {n2}[ and start "
    "with {n5}| and end in an odd digit|]?",
    "Solve for {var}: {n1}{var} + {n2} = {n3}{var} - {n4}[, and check the solution| over the "
    "rationals|].",
    "{name} reads {n1} pages of a {adj} [novel|textbook|comic] every [day|evening|weekday]. The "
    "[book|novel] has {n2} pages. After how many days will {name} finish it if {name} [skips|"
    "misses|rests on] every {ordinal} day?",
    "In a [class|club|school] of {n1} [students|members|children], {n2} play {sport} and {n3} "
    "play {sport2}. If {n4} play both, how many play [neither|exactly one] [game|sport]?",
    "A {place} sells {obj} at {n1} {unit2} each and {obj2} at {n2} {unit2} each. {name} "
    "[spends|pays] {n3} {unit2} on [exactly|precisely] {n4} items. How many {obj} did {name} "
    "[buy|get|choose]?",
    "The {ordinal} term of an [arithmetic|geometric] [sequence|progression] is {n1} and the "
    "common [difference|ratio] is {n2}. What is the {n3}th term[ and the sum of the first {n4} "
    "terms|]?",
    "A {adj} tank [holds|stores] {n1} {unit}. It leaks {n2} {unit} every {n4} minutes while a "
    "pump [adds|refills] {n3} {unit} every hour. [When|After how long] is the tank empty?",
    "How many ways can {n4} {adj} {obj} be [arranged|placed|lined up] in a [row|circle] if "
    "[two particular ones must not be adjacent|the {ordinal} one stays fixed|no two {adj2} ones "
    "touch]?",
    "Write a [Python|] function {fname} that [takes|accepts|receives] a {ds} of {elem} and "
    "returns the {metric} of the {prop} [ones|entries|values][ in O(n) time|].",
    "Given a {ds} of {elem}, {verb} it in place so that every {prop} [value|entry] comes "
    "[before|after] the others, using [O(1)|constant] extra memory.",
    "Implement a class {cname} that supports {verb}, {verb2} and [lookup|deletion|insertion] on "
    "a {noun} in [logarithmic|constant amortized] time per operation.",
    "Write a [program|script|command line tool] that reads {n1} lines from [standard input|a "
    "file], each holding one of the {elem}, and prints the {metric} of them[ sorted|].",
    "Return the length of the [longest|shortest] {prop} {noun} in the given {ds} of {elem}"
    "[, or minus one if there is none|].",
    "Given two {ds}s {var} and {var2} of length at most {n1}, count the pairs i, j such that "
    "{var}[i] [+|*|-] {var2}[j] is divisible by {n2}.",
    "Write a function {fname} that checks whether a {noun} of {n1} cells can be [split|cut|"
    "divided] into {n4} parts with equal {metric}.",
    "Design an algorithm to {verb} a {noun} with {n1} nodes so that the {metric} of every "
    "{noun2} is at most {n2}[, and prove it is optimal|].",
    "Given a {noun} where each cell holds one of {n4} colors, find the {metric} size of a "
    "[connected|contiguous] {noun2} of one color.",
    "Write {fname}(text) that returns the {elem} in text sorted by their {metric}, [breaking "
    "ties alphabetically|keeping the input order for ties].",
]
# Context sentences: "{w}" is a word of a 4000-word made-up lexicon drawn with Zipf's law
# (a few words are common, most are rare), as in real text.
_SCENES = [
    "{name} [runs|manages|visits] a {w} {w} [shop|stall|lab|farm] in {town}.",
    "Every {w} the {w} [team|club|crew] of {town} [orders|builds|paints] {n1} {w} {obj}.",
    "[Last|Next] {w}, {name} [found|bought|noticed] {n2} {w} {obj} [near|behind|under] the {w}.",
    "{name} and {name2} [are preparing|train] for a {w} {sport} [tournament|festival] in {town}.",
    "The {w} [module|service|job] of a {w} [app|website|pipeline] [stores|logs|receives] {elem} "
    "about {w} {w}.",
    "A {w} [company|startup|library] in {town} [keeps|tracks] {w} [records|statistics] of its {w}.",
    "This is a [warm-up|final|bonus] problem from the {w} {w} [contest|olympiad|camp].",
    "[In|At] the {w} {place} of {town}, {name} [counts|sorts|weighs] {w} {obj}.",
]
_EXTRAS = [
    "Explain your reasoning step by step.",
    "Give the answer as a fraction in lowest terms.",
    "Assume the input has at most {n5} elements.",
    "Round the result to the nearest whole number.",
    "Include tests for the empty input.",
    "The solution should run in linear time.",
    "Show that your answer is correct.",
    "Express the answer in {unit}.",
    "Do not use any library function for {metric}.",
    "Hint: think about the {prop} case first.",
]
_CHOICE = re.compile(r"\[([^\[\]]*)\]")
_WORD_SLOT = re.compile(r"\{w\}")


def _names(rng: random.Random, count: int) -> list[str]:
    names: set[str] = set()
    while len(names) < count:
        names.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))).title())
    return sorted(names)


class Stream:
    """Deterministic problem statements: ``Stream(seed).take(n)`` is the same on every run."""

    def __init__(
        self, seed: int = SEED, lexicon: int = 4000, near_duplicate_fraction: float = 0.2
    ) -> None:
        self._rng = random.Random(seed)
        self._names = _names(random.Random(seed + 1), 600)
        self._fnames = [f"{v}_{n}" for v in _VERBS for n in _NOUNS]
        self._cnames = [f"{n.title()}{v.title()}er" for v in _VERBS for n in _NOUNS]
        self._lexicon = [w.lower() for w in _names(random.Random(seed + 2), lexicon)]
        random.Random(seed + 3).shuffle(self._lexicon)
        self._zipf = list(itertools.accumulate(1 / rank for rank in range(1, lexicon + 1)))
        self._fraction = near_duplicate_fraction
        self._history: list[str] = []

    def _fresh(self) -> str:
        rng = self._rng
        slots = {
            "name": rng.choice(self._names),
            "name2": rng.choice(self._names),
            "obj": rng.choice(_OBJECTS),
            "obj2": rng.choice(_OBJECTS),
            "place": rng.choice(_PLACES),
            "adj": rng.choice(_ADJECTIVES),
            "adj2": rng.choice(_ADJECTIVES),
            "town": rng.choice(self._names),
            "var": rng.choice("abcdefghmnpqrstuvwxyz"),
            "var2": rng.choice("abcdefghmnpqrstuvwxyz"),
            "sport": rng.choice(_SPORTS),
            "sport2": rng.choice(_SPORTS),
            "prop": rng.choice(_PROPERTIES),
            "ds": rng.choice(_STRUCTURES),
            "elem": rng.choice(_ELEMENTS),
            "metric": rng.choice(_METRICS),
            "verb": rng.choice(_VERBS),
            "verb2": rng.choice(_VERBS),
            "noun": rng.choice(_NOUNS),
            "noun2": rng.choice(_NOUNS),
            "unit": rng.choice(_UNITS),
            "unit2": rng.choice(["dollars", "euros", "cents", "coins"]),
            "ordinal": rng.choice(_ORDINALS),
            "fname": rng.choice(self._fnames),
            "cname": rng.choice(self._cnames),
            "n1": rng.randint(2, 999),
            "n2": rng.randint(2, 999),
            "n3": rng.randint(2, 999),
            "n4": rng.randint(2, 12),
            "n5": rng.choice([100, 1000, 10**5, 10**6]),
        }
        parts = rng.sample(_SCENES, rng.choice([0, 1, 1, 2]))
        parts.append(rng.choice(_TEMPLATES))
        parts += rng.sample(_EXTRAS, rng.choice([0, 0, 1, 1, 2]))
        text = _CHOICE.sub(lambda m: rng.choice(m.group(1).split("|")), " ".join(parts))
        text = _WORD_SLOT.sub(lambda m: self._word(), text)
        return " ".join(text.format(**slots).split())

    def _word(self) -> str:
        return self._rng.choices(self._lexicon, cum_weights=self._zipf)[0]

    def _edit(self, text: str) -> str:
        rng = self._rng
        words = text.split()
        for _ in range(rng.randint(1, 6)):
            kind = rng.randrange(6)
            i = rng.randrange(len(words))
            if kind == 0 and len(words) > 1:  # swap neighbours
                j = min(i + 1, len(words) - 1)
                words[i], words[j] = words[j], words[i]
            elif kind == 1:  # insert a word
                words.insert(i, rng.choice(_OBJECTS + _ADJECTIVES + _NOUNS + ["really", "all"]))
            elif kind == 2 and len(words) > 3:  # delete a word
                del words[i]
            elif kind == 3:  # repeat a word
                words.insert(i, words[i])
            elif kind == 4:  # change a number (or a word)
                words[i] = str(rng.randint(2, 999)) if rng.random() < 0.7 else rng.choice(_NOUNS)
            else:  # reorder sentences
                sentences = " ".join(words).split(". ")
                rng.shuffle(sentences)
                words = ". ".join(sentences).split()
        return " ".join(words)

    def __iter__(self) -> Iterator[str]:
        while True:
            if self._history and self._rng.random() < self._fraction:
                text = self._edit(self._rng.choice(self._history))
            else:
                text = self._fresh()
            self._history.append(text)
            yield text


# ------------------------------------------------------------------ the two filters


class Naive:
    """Self-Instruct's filter as Alpaca wrote it: every member, rouge-score's own LCS."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self._tokenize = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)._tokenizer.tokenize
        self._members: list[tuple[str, list[str]]] = []

    def add(self, doc_id: str, text: str) -> None:
        self._members.append((doc_id, self._tokenize(text)))

    def nearest_duplicate(self, text: str) -> NearDuplicate | None:
        query = self._tokenize(text)
        best: NearDuplicate | None = None
        for doc_id, tokens in self._members:
            f = rouge_scorer._score_lcs(tokens, query).fmeasure
            if f > self.threshold and (
                best is None or f > best.score or (f == best.score and doc_id < best.doc_id)
            ):
                best = NearDuplicate(doc_id, f)
        return best


# ------------------------------------------------------------------ the measurement


class Pool:
    """Both filters over the same members, grown from the stream as Self-Instruct grows it."""

    def __init__(self, stream: Iterator[str]) -> None:
        self.stream = stream
        self.index = RougeIndex(THRESHOLD)
        self.naive = Naive(THRESHOLD)
        self.texts: dict[str, str] = {}
        self.stream_items = 0
        self.build_s = 0.0
        self._add_times: list[float] = []
        self.last_sample: list[str] = []

    def grow(self, size: int) -> None:
        start = time.perf_counter()
        while len(self.index) < size:
            text = next(self.stream)
            self.stream_items += 1
            if self.index.nearest_duplicate(text) is not None:
                continue
            doc_id = f"p{len(self.index):06d}"
            t = time.perf_counter()
            self.index.add(doc_id, text)
            self._add_times.append(time.perf_counter() - t)
            self.naive.add(doc_id, text)
            self.texts[doc_id] = text
        self.build_s += time.perf_counter() - start

    def add_ms(self) -> float:
        return statistics.mean(self._add_times[-1000:]) * 1000


def measure(pool: Pool, size: int, queries: int, naive_queries: int) -> dict[str, Any]:
    pool.grow(size)
    sample = [next(pool.stream) for _ in range(queries)]
    pool.last_sample = sample
    index, stats = pool.index, pool.index.stats
    before = stats.candidates, stats.lcs_computed

    t = time.perf_counter()
    ours = [index.nearest_duplicate(text) for text in sample]
    ours_ms = (time.perf_counter() - t) / queries * 1000
    candidates = (stats.candidates - before[0]) / queries
    lcs = (stats.lcs_computed - before[1]) / queries

    t = time.perf_counter()
    theirs = [pool.naive.nearest_duplicate(text) for text in sample[:naive_queries]]
    naive_ms = (time.perf_counter() - t) / naive_queries * 1000

    compared = list(zip(ours, theirs, strict=False))
    insertion_ms = ours_ms + pool.add_ms()
    return {
        "pool": size,
        "stream_items": pool.stream_items,
        "build_s": pool.build_s,
        "queries": queries,
        "naive_queries": naive_queries,
        "duplicates": sum(o is not None for o in ours),
        "naive_duplicates": sum(n is not None for n in theirs),
        "decisions_differ": sum((o is None) != (n is None) for o, n in compared),
        "best_match_differs": sum(o != n for o, n in compared),
        "ours_query_ms": ours_ms,
        "ours_add_ms": pool.add_ms(),
        "ours_insertion_ms": insertion_ms,
        "naive_query_ms": naive_ms,
        "speedup": naive_ms / insertion_ms,
        "candidates_per_query": candidates,
        "lcs_per_query": lcs,
    }


def measure_persistence(pool: Pool, sample: list[str]) -> dict[str, Any]:
    """Write the pool to an index log, then time reopening it: snapshot, then log alone."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rouge_index.log"
        t = time.perf_counter()
        with RougeIndex.open(path, THRESHOLD) as index:
            for doc_id, text in pool.texts.items():
                index.add(doc_id, text)
        write_s = time.perf_counter() - t
        snapshot = path.with_name(path.name + ".snapshot")
        sizes = path.stat().st_size / 2**20, snapshot.stat().st_size / 2**20
        t = time.perf_counter()
        reopened = RougeIndex.open(path, THRESHOLD)
        open_s = time.perf_counter() - t
        tokenized, replayed = reopened.stats.tokenized, reopened.stats.replayed
        same = all(
            reopened.nearest_duplicate(text) == pool.index.nearest_duplicate(text)
            for text in sample
        )
        reopened.close()
        snapshot.unlink()  # as if the snapshot were lost: the log alone
        t = time.perf_counter()
        RougeIndex.open(path, THRESHOLD).close()
        replay_s = time.perf_counter() - t
        return {
            "members": len(pool.texts),
            "log_mb": sizes[0],
            "snapshot_mb": sizes[1],
            "logged_add_ms": write_s / len(pool.texts) * 1000,
            "open_s": open_s,
            "tokenized_on_open": tokenized,
            "replayed_on_open": replayed,
            "open_from_log_alone_s": replay_s,
            "same_decisions": same,
        }


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=_ints, default=[1000, 10000, 50000])
    parser.add_argument("--queries", type=int, default=200, help="sample decided by ours")
    parser.add_argument(
        "--naive-queries",
        type=_ints,
        default=[100, 30, 12],
        help="how many of the sample the naive filter decides, per pool size",
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--quick", action="store_true", help="smoke run: pools of 300 and 1500")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.queries, args.naive_queries = [300, 1500], 50, [20, 10]
    sizes = sorted(args.sizes)
    naive_counts = args.naive_queries + [args.naive_queries[-1]] * len(sizes)

    print(
        f"ROUGE-L near-duplicate filter, threshold {THRESHOLD}: RougeIndex vs naive all-pairs "
        f"rouge-score ({os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, seed {args.seed})"
    )
    pool = Pool(iter(Stream(args.seed)))
    rows = []
    for size, naive_queries in zip(sizes, naive_counts, strict=False):
        row = measure(pool, size, args.queries, min(naive_queries, args.queries))
        rows.append(row)
        print(
            f"  pool {size}: grown in {row['build_s']:.1f}s in all from {row['stream_items']} "
            f"stream items; naive decided {row['naive_queries']} of {row['queries']} queries",
            flush=True,
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    persisted = measure_persistence(pool, pool.last_sample)

    header = (
        "| pool | dup. (ours / naive) | differ | ours query ms | ours add ms | naive query ms "
        "| speed-up | candidates/query | exact LCS/query |"
    )
    print()
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    for r in rows:
        print(
            f"| {r['pool']} | {r['duplicates']}/{r['queries']} / "
            f"{r['naive_duplicates']}/{r['naive_queries']} | "
            f"{r['decisions_differ']} / {r['best_match_differs']} | {r['ours_query_ms']:.3f} | "
            f"{r['ours_add_ms']:.3f} | {r['naive_query_ms']:.1f} | {r['speedup']:.0f}x | "
            f"{r['candidates_per_query']:.1f} | {r['lcs_per_query']:.2f} |"
        )
    print()
    print(
        "differ: decisions / best matches that differ from the naive filter, over the queries "
        "both decided (the naive filter decides only the first few of each sample)."
    )
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        ours = last["ours_insertion_ms"] / first["ours_insertion_ms"]
        naive = last["naive_query_ms"] / first["naive_query_ms"]
        print(
            f"growth: pool x{last['pool'] / first['pool']:.0f} -> our time per insertion "
            f"x{ours:.1f}, naive x{naive:.1f}"
        )
    print(f"peak memory of this process (both filters and the texts): {peak_mb:.0f} MB")
    print(
        f"persistence, {persisted['members']} members: log {persisted['log_mb']:.1f} MB + "
        f"snapshot {persisted['snapshot_mb']:.1f} MB; add with logging "
        f"{persisted['logged_add_ms']:.3f} ms; reopen {persisted['open_s']:.2f} s "
        f"({persisted['tokenized_on_open']} texts tokenized, {persisted['replayed_on_open']} "
        f"records replayed), from the log alone {persisted['open_from_log_alone_s']:.2f} s; "
        f"same decisions after reopening: {persisted['same_decisions']}"
    )
    if args.json:
        report = {"rows": rows, "peak_mb": peak_mb, "persistence": persisted}
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    failed = any(r["decisions_differ"] or r["best_match_differs"] for r in rows)
    return 1 if failed or not persisted["same_decisions"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
