"""An index of problem statements that finds every ROUGE-L near-duplicate of a new one, exactly.

Self-Instruct drops a new problem when its ROUGE-L F against any pool member is above a
threshold (0.7). ``RougeIndex.nearest_duplicate`` returns the same decision and the same
best match as comparing against every member, but computes the exact LCS for a few
candidates only. Why no duplicate is missed (m = query tokens, n = member tokens):

1. *Overlap bound.* Count each token occurrence as an element (``tok``, ``tok 2`` for
   its second occurrence, ...), so a token sequence becomes a set. A common subsequence
   matches each element at most once: ``LCS <= O = |Q ∩ D| <= min(m, n)``, so
   ``F = 2·LCS/(m+n) <= 2·O/(m+n)``. rouge-score's float F is within a few ulps of that
   real value, so ``F > t`` implies ``2·O/(m+n) > t_lo`` for ``t_lo = P/Q`` a rational
   just below ``t`` (by 2⁻³⁰, far more than any rounding). Every pruning test below is
   integer arithmetic on P and Q, so no rounding can prune a true duplicate.
2. *Needed overlap.* A duplicate has ``O >= need(m, n) = ⌊P(m+n)/2Q⌋ + 1``, which grows
   with n, and ``min(m, n) >= need(m, n)``, which bounds n to ``[n_min, n_max]``.
3. *Length classes.* Members are grouped by length (exact below 8, then four classes
   per doubling), each class with its own inverted index: element -> members holding
   it. Within a class every member needs at least ``need`` of its shortest length.
4. *Probing* (the prefix and count filters of AllPairs / PPJoin, with the probe chosen
   per query). A duplicate misses at most ``spare = present - need`` of the query's
   elements that occur in the class, so among any ``k`` of them it holds at least
   ``k - spare``. The query reads the posting lists of its ``spare + 1`` rarest
   elements (rarest in the pool as it is now: nothing depends on a fixed token order)
   and of a few more while they are cheap, counts the hits per member in C
   (``collections.Counter``), and keeps the members with at least ``k - spare``.
5. *Verification.* A kept member needs ``hits + unprobed >= need(m, n)`` for its own
   length, then an exact overlap (hits plus its share of the unprobed elements) of at
   least ``need(m, n)``. The survivors are ranked by ``2·O/(m+n)``; the exact LCS is
   computed from the highest bound down, stopping once the bound is below the best F
   found (with a 1e-9 margin, so equal scores are still examined: ties go to the
   smallest id).
"""

from __future__ import annotations

import math
import sys
from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from factory.filters.rouge import f_from_lcs, lcs_length_masks, match_masks, rouge_tokens
from factory.filters.rouge_store import RougeStore

# t_lo = t - ~2^-30: far above float rounding (~1e-16); a wider margin would only prune less
_MARGIN_BITS = 30
_TIE_MARGIN = 1e-9
_CLASS_BITS = 3  # lengths below 2^3 have a class each, then 2^(3-1) = 4 classes per octave


def _length_class(n: int) -> int:
    """The first length of n's length class: exact below 8, then four classes per octave."""
    if n < (1 << _CLASS_BITS):
        return n
    shift = n.bit_length() - _CLASS_BITS
    return (n >> shift) << shift


def _length_class_end(start: int) -> int:
    """The last length of the class that begins at ``start``."""
    if start < (1 << _CLASS_BITS):
        return start
    return start + (1 << (start.bit_length() - _CLASS_BITS)) - 1


def elements(tokens: Sequence[str]) -> list[str]:
    """The token occurrences as set elements: ``a b a`` -> ``a``, ``b``, ``a 2``."""
    seen: dict[str, int] = {}
    out = []
    for token in tokens:
        k = seen.get(token, 0) + 1
        seen[token] = k
        out.append(token if k == 1 else f"{token} {k}")
    return out


@dataclass(frozen=True)
class NearDuplicate:
    """The member a text duplicates: the highest ROUGE-L F (ties: the smallest id)."""

    doc_id: str
    score: float


@dataclass
class RougeIndexStats:
    """Counters since the index was created or opened (for benchmarks and tests)."""

    queries: int = 0  # nearest_duplicate calls
    tokenized: int = 0  # texts run through the tokenizer (a query then add of one text: once)
    loaded: int = 0  # members restored by open(): none is tokenized again
    replayed: int = 0  # log records open() applied after the snapshot (all, without one)
    postings_scanned: int = 0  # posting entries counted while probing
    candidates: int = 0  # members with enough hits among the probed elements
    length_pruned: int = 0  # candidates ruled out by their length and hit count
    overlap_pruned: int = 0  # candidates whose exact multiset overlap is too small
    score_pruned: int = 0  # candidates whose bound is below the best F already found
    lcs_computed: int = 0  # exact LCS computations
    duplicates: int = 0  # queries answered with a near-duplicate


@dataclass(frozen=True)
class _Member:
    doc_id: str
    tokens: tuple[str, ...]
    elements: tuple[str, ...]


class RougeIndex:
    """Members (id → text) and the ROUGE-L near-duplicate query, equal to all-pairs search.

    ``RougeIndex(threshold)`` lives in memory; ``RougeIndex.open(path)`` also keeps a log on
    disk, written on every add and remove, from which the next ``open`` restores it.
    Not thread-safe: one thread uses an index at a time.
    """

    def __init__(self, threshold: float = 0.7) -> None:
        if not 0 < threshold < 1:
            raise ValueError(f"threshold must be strictly between 0 and 1, got {threshold!r}")
        self.threshold = float(threshold)
        # t_lo = P / Q, just below the threshold (P = 0 for absurdly small thresholds:
        # then nothing is pruned by length, which is still exact).
        self._q = 1 << _MARGIN_BITS
        self._p = max(math.floor(self.threshold * self._q) - 1, 0)
        self._ids: dict[str, int] = {}  # doc id -> internal number, fresh for every add
        self._members: dict[int, _Member] = {}
        # length class -> element -> members of that class holding it
        # (ascending member numbers: a list costs a fifth of a set's memory)
        self._by_length: dict[int, dict[str, list[int]]] = {}
        self._next = 0
        self._store: RougeStore | None = None
        self._memo: tuple[str, tuple[str, ...], tuple[str, ...]] | None = None
        self.stats = RougeIndexStats()

    @classmethod
    def open(cls, path: Path, threshold: float = 0.7, *, sync: bool = False) -> RougeIndex:
        """Open the index logged at ``path`` (a file; created when missing).

        Every later add and remove is appended to the log before it takes effect.
        ``sync=True`` fsyncs each record (survives power loss, not only a kill).
        The threshold may differ from the previous run's: the log holds no threshold.
        """
        index = cls(threshold)
        store, opened = RougeStore.open(Path(path), sync=sync)
        if opened.state is not None:
            index._restore(opened.state)
        for record in opened.tail:
            if record[0] == "a":
                index._insert(record[1], record[2], record[3])
            elif record[1] in index._ids:
                index._drop(record[1])
        index.stats.loaded = len(index)
        index.stats.replayed = len(opened.tail)
        index._store = store
        if store.compaction_due(len(index)):
            store.rewrite((m.doc_id, m.tokens, m.elements) for m in index._members.values())
            store.save_snapshot(index._state())
        return index

    def close(self) -> None:
        """Save a snapshot and close the log (no-op in memory); the index stays usable."""
        if self._store is not None:
            if self._store.tail:
                self._store.save_snapshot(self._state())
            self._store.close()
            self._store = None

    def __enter__(self) -> RougeIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._ids

    def ids(self) -> set[str]:
        return set(self._ids)

    def add(self, doc_id: str, text: str) -> None:
        """Add ``text`` as member ``doc_id``, replacing the member of that id if any."""
        if not isinstance(doc_id, str):
            raise TypeError(f"doc_id must be a str, got {type(doc_id).__name__}")
        tokens, elems = self._prepare(text)
        if self._store is not None:
            self._store.append_add(doc_id, tokens, elems)
        self._insert(doc_id, tokens, elems)
        self._maybe_snapshot()

    def remove(self, doc_id: str) -> None:
        """Remove member ``doc_id``; nothing happens when there is none."""
        if doc_id not in self._ids:
            return
        if self._store is not None:
            self._store.append_remove(doc_id)
        self._drop(doc_id)
        self._maybe_snapshot()

    def nearest_duplicate(self, text: str) -> NearDuplicate | None:
        """The member with the highest ROUGE-L F against ``text`` if that F > threshold."""
        stats = self.stats
        stats.queries += 1
        tokens, elems = self._prepare(text)
        m = len(tokens)
        if m == 0 or not self._members:
            return None  # rouge-score gives F = 0 against an empty text
        p, q2 = self._p, 2 * self._q
        # Feasible member lengths: min(m, n) >= need(m, n).
        n_min = (p * m) // (q2 - p) + 1
        n_max = ((q2 - p) * m - 1) // p if p else sys.maxsize
        ranked: list[tuple[float, str, _Member]] = []
        for lo, postings in self._by_length.items():
            hi = _length_class_end(lo)
            if hi < n_min or lo > n_max:
                continue
            self._probe(tokens, elems, postings, max(lo, n_min), ranked)
        if not ranked:
            return None
        ranked.sort(key=lambda item: item[0], reverse=True)
        return self._best(tokens, ranked)

    def _probe(
        self,
        tokens: tuple[str, ...],
        elems: tuple[str, ...],
        postings: dict[str, list[int]],
        n_least: int,
        ranked: list[tuple[float, str, _Member]],
    ) -> None:
        """Add to ``ranked`` the members of one length class that may be duplicates."""
        stats = self.stats
        m = len(tokens)
        p, q2 = self._p, 2 * self._q
        need_least = (p * (m + n_least)) // q2 + 1  # the class's shortest member needs least
        if need_least > m:
            return
        get = postings.get
        sized = sorted([(len(ids), e, ids) for e in elems if (ids := get(e)) is not None])
        # A duplicate misses at most m - need elements of the query, among them every
        # element no member of the class holds: of the present ones it misses at most
        # ``spare``. So it holds at least one of the spare + 1 rarest, and one more for
        # each further element probed. Probe those, then more while they cost no more in
        # all than the first did (plus a little): each one raises the hits needed by one.
        spare = len(sized) - need_least
        if spare < 0:
            return  # even sharing every present element is not enough
        k = spare + 1
        cost = sum(item[0] for item in sized[:k])
        budget = 2 * cost + 4 * m
        while k < len(sized) and cost + sized[k][0] <= budget:
            cost += sized[k][0]
            k += 1
        stats.postings_scanned += cost
        hits = Counter(chain.from_iterable(item[2] for item in sized[:k]))
        least = k - spare
        found = [item for item in hits.items() if item[1] >= least]
        stats.candidates += len(found)

        slack = len(sized) - k  # present elements not probed: each may still be shared
        unprobed = frozenset(item[1] for item in sized[k:])
        members = self._members
        for iid, hit in found:
            member = members[iid]
            n = len(member.tokens)
            need = (p * (m + n)) // q2 + 1  # least overlap with 2·O/(m+n) > t_lo
            if (m if m < n else n) < need or hit + slack < need:
                stats.length_pruned += 1
                continue
            overlap = hit + len(unprobed.intersection(member.elements)) if slack else hit
            if overlap < need:
                stats.overlap_pruned += 1
                continue
            ranked.append((2 * overlap / (m + n), member.doc_id, member))

    def _best(
        self, tokens: tuple[str, ...], ranked: list[tuple[float, str, _Member]]
    ) -> NearDuplicate | None:
        """The highest exact F above the threshold among ``ranked`` (sorted by bound)."""
        stats = self.stats
        m = len(tokens)
        masks = match_masks(tokens)
        best_score, best_id = 0.0, None
        for position, (bound, doc_id, member) in enumerate(ranked):
            if best_id is not None and bound + _TIE_MARGIN < best_score:
                stats.score_pruned += len(ranked) - position
                break
            stats.lcs_computed += 1
            lcs = lcs_length_masks(masks, m, member.tokens)
            score = f_from_lcs(lcs, len(member.tokens), m)
            if score > self.threshold and (
                best_id is None or score > best_score or (score == best_score and doc_id < best_id)
            ):
                best_score, best_id = score, doc_id
        if best_id is None:
            return None
        stats.duplicates += 1
        return NearDuplicate(best_id, best_score)

    def _prepare(self, text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Tokens and elements of ``text`` (the last text is remembered: query, then add)."""
        memo = self._memo
        if memo is not None and memo[0] == text:
            return memo[1], memo[2]
        self.stats.tokenized += 1
        tokens = tuple(rouge_tokens(text))
        elems = tuple(elements(tokens))
        self._memo = (text, tokens, elems)
        return tokens, elems

    def _maybe_snapshot(self) -> None:
        """Snapshot when the log's tail reaches half the pool, so reopening stays cheap."""
        if self._store is not None and self._store.snapshot_due(len(self)):
            self._store.save_snapshot(self._state())

    def _state(self) -> tuple:
        """The in-memory index as plain data (for the snapshot)."""
        members = [(iid, m.doc_id, m.tokens, m.elements) for iid, m in self._members.items()]
        return (self._next, members, self._by_length)

    def _restore(self, state: tuple) -> None:
        self._next, members, self._by_length = state
        for iid, doc_id, tokens, elems in members:
            self._ids[doc_id] = iid
            self._members[iid] = _Member(doc_id, tokens, elems)

    def _insert(self, doc_id: str, tokens: Sequence[str], elems: Sequence[str]) -> None:
        if doc_id in self._ids:
            self._drop(doc_id)
        iid = self._next
        self._next += 1
        intern = sys.intern  # one string object per distinct token across the pool
        member = _Member(doc_id, tuple(map(intern, tokens)), tuple(map(intern, elems)))
        self._ids[doc_id] = iid
        self._members[iid] = member
        if not member.tokens:
            return  # F = 0 against everything: in no length class
        postings = self._by_length.setdefault(_length_class(len(member.tokens)), {})
        for element in member.elements:
            holders = postings.get(element)
            if holders is None:
                postings[element] = [iid]
            else:
                holders.append(iid)  # numbers only grow: the list stays sorted

    def _drop(self, doc_id: str) -> None:
        iid = self._ids.pop(doc_id)
        member = self._members.pop(iid)
        if not member.tokens:
            return
        length_class = _length_class(len(member.tokens))
        postings = self._by_length[length_class]
        for element in member.elements:
            holders = postings[element]
            del holders[bisect_left(holders, iid)]
            if not holders:
                del postings[element]
        if not postings:
            del self._by_length[length_class]
