"""Diversity of a set of problem statements: distinct n-grams, openings, near-duplicates.

Everything here is deterministic: hashes are blake2b (not Python's salted
``hash``), MinHash permutations come from a fixed seed, and clusters are sorted.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

_WORD = re.compile(r"\w+", re.UNICODE)
_MERSENNE = (1 << 61) - 1
_MAX_HASH = (1 << 32) - 1


def words(text: str) -> list[str]:
    """Lower-cased word tokens; punctuation and whitespace only separate them."""
    return _WORD.findall(text.lower())


def ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    """Contiguous n-grams of ``tokens`` (none when there are fewer than n)."""
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def stable_hash(text: str) -> int:
    """A 64-bit hash that is the same in every process (Python's ``hash`` is salted)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def distinct_n(texts: Sequence[str], n: int) -> float:
    """Distinct-n: unique n-grams / all n-grams over the corpus (0.0 for an empty one)."""
    total, unique = 0, set()
    for text in texts:
        grams = ngrams(words(text), n)
        total += len(grams)
        unique.update(grams)
    return len(unique) / total if total else 0.0


@dataclass(frozen=True)
class Openings:
    """How varied the first words are: distinct openings and the most common ones."""

    distinct: int
    total: int
    ratio: float
    top: list[tuple[str, int]]


def openings(texts: Sequence[str], n_words: int = 3, top: int = 5) -> Openings:
    """Distinct openings (first ``n_words`` words) and the ``top`` most common."""
    counts = Counter(" ".join(words(t)[:n_words]) for t in texts)
    # Ties broken by text, so the report is the same whatever order the texts came in.
    common = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    total = sum(counts.values())
    return Openings(
        distinct=len(counts),
        total=total,
        ratio=len(counts) / total if total else 0.0,
        top=common,
    )


def shingles(text: str, size: int = 3) -> set[int]:
    """Hashed word shingles; a text shorter than ``size`` words is one shingle of all of it."""
    tokens = words(text)
    grams = ngrams(tokens, size) or ([tuple(tokens)] if tokens else [])
    return {stable_hash(" ".join(g)) for g in grams}


def jaccard(a: set[int], b: set[int]) -> float:
    """|a ∩ b| / |a ∪ b| (1.0 for two empty sets)."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def _minhash(shingle_sets: Sequence[set[int]], num_perm: int, seed: int) -> np.ndarray:
    """MinHash signatures, one row per set, by universal hashing (a*x + b) mod p."""
    rng = np.random.default_rng(seed)
    a = rng.integers(1, _MERSENNE, size=num_perm, dtype=np.uint64)
    b = rng.integers(0, _MERSENNE, size=num_perm, dtype=np.uint64)
    out = np.full((len(shingle_sets), num_perm), _MAX_HASH, dtype=np.uint64)
    for i, shingle_set in enumerate(shingle_sets):
        if not shingle_set:
            continue
        # x < 2**29 and a < 2**32 keep a*x + b below 2**63, so uint64 arithmetic
        # never wraps and the modulus stays exact.
        x = np.fromiter((s & 0x1FFFFFFF for s in shingle_set), dtype=np.uint64)
        prod = (x[:, None] * (a & np.uint64(_MAX_HASH))[None, :] + b[None, :]) % np.uint64(
            _MERSENNE
        )
        out[i] = (prod & np.uint64(_MAX_HASH)).min(axis=0)
    return out


def near_duplicate_clusters(
    ids: Sequence[str],
    texts: Sequence[str],
    *,
    threshold: float = 0.8,
    shingle_size: int = 3,
    num_perm: int = 64,
    bands: int = 16,
    seed: int = 0,
) -> list[list[str]]:
    """Groups of ids whose texts have shingled Jaccard ≥ ``threshold`` (transitively).

    MinHash with LSH banding proposes candidate pairs in near-linear time; every
    candidate pair is then confirmed with the exact Jaccard of its shingle sets,
    so no pair below the threshold is ever reported. Clusters of size ≥ 2 only,
    each sorted, sorted by (-size, first id).
    """
    if len(ids) != len(texts):
        raise ValueError("ids and texts must have the same length")
    sets = [shingles(t, shingle_size) for t in texts]
    if len(sets) < 2:
        return []
    signatures = _minhash(sets, num_perm, seed)
    rows = num_perm // bands
    parent = list(range(len(sets)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    checked: set[tuple[int, int]] = set()
    for band in range(bands):
        buckets: dict[bytes, list[int]] = {}
        for i in range(len(sets)):
            key = signatures[i, band * rows : (band + 1) * rows].tobytes()
            buckets.setdefault(key, []).append(i)
        for members in buckets.values():
            for x, i in enumerate(members):
                for j in members[x + 1 :]:
                    if (i, j) in checked:
                        continue
                    checked.add((i, j))
                    if jaccard(sets[i], sets[j]) >= threshold:
                        parent[find(j)] = find(i)
    groups: dict[int, list[str]] = {}
    for i, pid in enumerate(ids):
        groups.setdefault(find(i), []).append(pid)
    clusters = [sorted(g) for g in groups.values() if len(g) > 1]
    return sorted(clusters, key=lambda c: (-len(c), c[0]))


@dataclass(frozen=True)
class Diversity:
    """The diversity measures reported by `factory stats` and the dataset card."""

    texts: int
    distinct_1: float
    distinct_2: float
    distinct_3: float
    openings: Openings
    near_duplicate_threshold: float
    near_duplicate_clusters: list[list[str]]

    @property
    def near_duplicates(self) -> int:
        """Problems that have at least one near-duplicate."""
        return sum(len(c) for c in self.near_duplicate_clusters)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["openings"]["top"] = [list(t) for t in self.openings.top]
        data["near_duplicates"] = self.near_duplicates
        return data


def measure(ids: Sequence[str], texts: Sequence[str], *, threshold: float = 0.8) -> Diversity:
    """All diversity measures over ``texts`` (one per problem)."""
    return Diversity(
        texts=len(texts),
        distinct_1=round(distinct_n(texts, 1), 4),
        distinct_2=round(distinct_n(texts, 2), 4),
        distinct_3=round(distinct_n(texts, 3), 4),
        openings=openings(texts),
        near_duplicate_threshold=threshold,
        near_duplicate_clusters=near_duplicate_clusters(ids, texts, threshold=threshold),
    )
