"""ROUGE-L exactly as rouge-score computes it: its default tokenizer and its LCS F-measure.

``rouge_tokens`` is rouge-score's ``DefaultTokenizer(use_stemmer=False)``: the text is
lower-cased with ``str.lower`` (so a few non-ASCII letters become ASCII ones, e.g. the
Kelvin sign becomes ``k``), and every maximal run of ``[a-z0-9]`` is a token; anything
else, including all other non-ASCII letters, only separates tokens.

``rouge_l_f`` returns the same float as ``RougeScorer(["rougeL"]).score(a, b)``: the
precision and recall are computed and combined in the same order, so values on the
decision boundary (``F == 0.7``) round the same way. The LCS length itself is computed
with a bit-parallel algorithm (Hyyrö 2004), one big-integer step per token.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

_TOKEN = re.compile(r"[a-z0-9]+")


def rouge_tokens(text: str) -> list[str]:
    """Tokens of ``text`` as rouge-score's default tokenizer (no stemming) yields them."""
    return _TOKEN.findall(text.lower())


def match_masks(tokens: Sequence[str]) -> dict[str, int]:
    """For each distinct token, the bit mask of its positions in ``tokens`` (bit i = index i)."""
    masks: dict[str, int] = {}
    for i, token in enumerate(tokens):
        masks[token] = masks.get(token, 0) | (1 << i)
    return masks


def lcs_length_masks(masks: Mapping[str, int], length: int, other: Sequence[str]) -> int:
    """LCS length of a sequence (given by its ``match_masks`` and length) and ``other``.

    Bit i of ``v`` is 0 where row i of the classic DP table steps up; the steps are
    counted at the end. Bits above ``length`` collect carries and are masked off.
    """
    full = (1 << length) - 1
    v = full
    for token in other:
        u = v & masks.get(token, 0)
        v = (v + u) | (v - u)
    return length - (v & full).bit_count()


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence of two token sequences."""
    if len(a) < len(b):
        a, b = b, a
    return lcs_length_masks(match_masks(b), len(b), a)


def f_from_lcs(lcs: int, target_len: int, prediction_len: int) -> float:
    """rouge-score's F-measure from an LCS length, with its float operations in its order."""
    if target_len == 0 or prediction_len == 0:
        return 0.0
    precision = lcs / prediction_len
    recall = lcs / target_len
    if precision + recall > 0:
        return 2 * precision * recall / (precision + recall)
    return 0.0


def rouge_l_f(a: Sequence[str], b: Sequence[str]) -> float:
    """ROUGE-L F-measure of token sequences ``a`` (target) and ``b`` (prediction).

    Symmetric: swapping the arguments gives the same float. 0.0 when either is empty.
    """
    if not a or not b:
        return 0.0
    return f_from_lcs(lcs_length(a, b), len(a), len(b))
