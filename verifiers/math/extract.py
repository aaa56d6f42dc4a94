"""Find the final answer in an LLM response.

Rules, tried in this order (the first that matches wins; within a rule the
*last* occurrence in the text counts):

1. ``boxed``: ``\\boxed{...}`` / ``\\fbox{...}`` (balanced-brace scan, so
   ``\\boxed{\\frac{1}{2}}`` is whole) or ``\\boxed 5``. Several boxes that end
   the text separated only by commas/"and" are joined: ``\\boxed{2}, \\boxed{3}``.
2. ``final_answer``: "Final answer: ...", "The final answer is ...".
3. ``answer_is``: "the answer is ...", "Answer: ...".
4. ``gsm8k``: ``#### 42``.
5. ``trailing_math``: the text ends with a ``$...$`` / ``$$...$$`` / ``\\[...\\]``
   / ``\\(...\\)`` block.
6. ``last_number`` (only when ``last_number_fallback``): the last number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from verifiers.math.lexer import read_braced

__all__ = ["Extraction", "extract_answer", "find_boxed"]


@dataclass(frozen=True)
class Extraction:
    """The answer text found and the rule that found it."""

    text: str
    rule: str


_BOX_CMDS = ("\\boxed", "\\fbox")
_FINAL_RE = re.compile(r"final\s+answer\s*(?:is|:|=)?\s*[:=]?", re.IGNORECASE)
_ANSWER_IS_RE = re.compile(
    r"(?:\bthe\s+(?:correct\s+)?answer\s+is\s*[:=]?|^\s*\**answer\**\s*[:=])",
    re.IGNORECASE | re.MULTILINE,
)
_GSM8K_RE = re.compile(r"####\s*([^\n]+)")
_NUMBER_RE = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s*/\s*\d+)?")
_JOIN_GAP = re.compile(r"^[\s,;$]*(?:and|or|\\text\{\s*(?:and|or)\s*\}|,)?[\s,;$]*$")


def find_boxed(text: str) -> list[tuple[str, int, int]]:
    """Every ``\\boxed``/``\\fbox`` in ``text``: (content, start, end), in order."""
    found: list[tuple[str, int, int]] = []
    i = 0
    while True:
        hits = [(text.find(cmd, i), cmd) for cmd in _BOX_CMDS]
        hits = [(pos, cmd) for pos, cmd in hits if pos >= 0]
        if not hits:
            return found
        pos, cmd = min(hits)
        j = pos + len(cmd)
        if j < len(text) and text[j].isalpha():  # \boxedfoo is another command
            i = j
            continue
        k = j
        while k < len(text) and text[k] == " ":
            k += 1
        if k < len(text) and text[k] == "{":
            read = read_braced(text, k)
            if read is None:
                return found  # unbalanced: nothing reliable after this point
            content, end = read
            found.append((content, pos, end))
            i = end
        elif k > j:  # \boxed 5: one token up to whitespace or $
            m = re.match(r"[^\s$]+", text[k:])
            if m:
                found.append((m.group(0), pos, k + m.end()))
                i = k + m.end()
            else:
                i = k
        else:
            i = j


def _boxed(text: str) -> str | None:
    boxes = find_boxed(text)
    if not boxes:
        return None
    chosen = [boxes[-1]]
    for prev in reversed(boxes[:-1]):
        gap = text[prev[2] : chosen[0][1]]
        if not _JOIN_GAP.match(gap):
            break
        chosen.insert(0, prev)
    return ", ".join(c[0].strip() for c in chosen)


def _clean_tail(tail: str) -> str:
    """The answer in the text after a marker like 'the answer is'."""
    tail = tail.strip().lstrip("*:= \t").strip()
    line = tail.split("\n", 1)[0].strip()
    boxed = _boxed(line)
    if boxed is not None:
        return boxed
    m = re.match(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", line)
    if m:
        return next(g for g in m.groups() if g is not None).strip()
    # cut at the end of the sentence: a period followed by space/end (not 3.5)
    m = re.search(
        r"\.(?:\s|$)|\s+(?:I hope|since|because|which|as)\b"
        r"|,\s+(?:which|so|since|because|as|but|and\s+(?:so|thus|therefore|this))\b",
        line,
    )
    if m:
        line = line[: m.start()]
    return line.strip().strip("*").strip().rstrip(".,;:").strip()


def _after_last(pattern: re.Pattern[str], text: str) -> str | None:
    last = None
    for last in pattern.finditer(text):  # noqa: B007 - we want the last match
        pass
    if last is None:
        return None
    answer = _clean_tail(text[last.end() :])
    return answer or None


_TRAILING_MATH = re.compile(
    r"(?:\$\$(?P<a>[^$]+)\$\$|\$(?P<b>[^$]+)\$|\\\[(?P<c>.+?)\\\]|\\\((?P<d>.+?)\\\))"
    r"[\s.!]*$",
    re.DOTALL,
)


def extract_answer(text: str, *, last_number_fallback: bool = True) -> Extraction | None:
    """The final answer in ``text`` and the rule that found it, or None."""
    if not text or not text.strip():
        return None
    boxed = _boxed(text)
    if boxed is not None and boxed.strip():
        return Extraction(boxed.strip(), "boxed")
    for rule, pattern in (("final_answer", _FINAL_RE), ("answer_is", _ANSWER_IS_RE)):
        found = _after_last(pattern, text)
        if found is not None:
            return Extraction(found, rule)
    gsm = None
    for gsm in _GSM8K_RE.finditer(text):  # noqa: B007 - we want the last match
        pass
    if gsm is not None and gsm.group(1).strip():
        return Extraction(gsm.group(1).strip().rstrip("."), "gsm8k")
    tail = text.rstrip()[-2_000:]
    m = _TRAILING_MATH.search(tail)
    if m:
        inner = next(g for g in m.groups() if g is not None).strip()
        if inner:
            return Extraction(inner, "trailing_math")
    if last_number_fallback:
        last = None
        for last in _NUMBER_RE.finditer(text):  # noqa: B007 - we want the last match
            pass
        if last is not None:
            return Extraction(re.sub(r"\s+", "", last.group(0)), "last_number")
    return None
