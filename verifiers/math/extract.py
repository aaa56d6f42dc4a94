"""Find the final answer in an LLM response.

Markers (every occurrence is found; the one that starts *last* in the text wins,
so "... \\boxed{5} ... Final answer: 7" answers 7):

- ``boxed``: ``\\boxed{...}`` / ``\\fbox{...}`` (balanced-brace scan, so
  ``\\boxed{\\frac{1}{2}}`` is whole) or ``\\boxed 5``. Boxes separated only by
  commas, "and"/"or", ``\\quad`` or ``\\text{and}`` are one answer: ``\\boxed{2}, \\boxed{3}``.
- ``final_answer``: "Final answer: ...", "The final answer is ...".
- ``answer_is``: "the answer is ...", "Answer: ...".
- ``gsm8k``: ``#### 42``.

A marker that is negated or hedged is no answer: a box after "not"/"never" or
before "is wrong", a box after "could be"/"maybe" or followed by "or 7", an
"answer is" followed by "not"/"probably"/"or so". Such a marker is skipped, and
then only an earlier marker can answer (no fallback rule below runs).

When no marker answers (fallbacks, in order):

- ``trailing_math``: the text ends with a ``$...$`` / ``$$...$$`` / ``\\[...\\]`` /
  ``\\(...\\)`` block, possibly followed by a few words without digits
  ("... is $\\frac{9\\pi}{4}$ square units.");
- ``last_number`` (only when ``last_number_fallback``): the last number -- or
  ``last_math``, the whole ``$...$`` block that number sits in when the block is more
  than a number (the ``2`` of ``$\\frac{x+1}{2}$`` is no answer).

Chat-template tokens (``<|im_end|>``, ``<|im_start|>``, ``</s>``...) end the response:
what follows them (often a new prompt) is not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from verifiers.math.lexer import read_braced

__all__ = ["Extraction", "answer_is_withheld", "extract_answer", "find_boxed"]


@dataclass(frozen=True)
class Extraction:
    """The answer text found and the rule that found it."""

    text: str
    rule: str


_BOX_START = re.compile(r"\\boxed|\\fbox")
_BOX_TOKEN = re.compile(r"[^\s$]+")  # \boxed 5: one token up to whitespace or $
_FINAL_RE = re.compile(r"final\s+answer\s*(?:is|:|=)?\s*[:=]?", re.IGNORECASE)
_ANSWER_IS_RE = re.compile(
    r"(?:\bthe\s+(?:correct\s+|final\s+)?answer\s+is\s*[:=]?|^\s*\**answer\**\s*[:=])",
    re.IGNORECASE | re.MULTILINE,
)
_GSM8K_RE = re.compile(r"####\s*([^\n]+)")
_NUMBER_RE = re.compile(
    r"-?(?:\d+[ \t]+\d+\s*/\s*\d+"  # a mixed number, 5 1/3
    r"|(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s*/\s*\d+)?)"
)
_JOIN_WORD = r"(?:and|or|as\s+well\s+as)"
_JOIN_GAP = re.compile(
    r"^(?:[\s,;$&~]|\\[,;: ]|\\q?quad\b|\\text\s*\{\s*"
    + _JOIN_WORD
    + r"?\s*,?\s*\}|"
    + _JOIN_WORD
    + r"\b)*$",
    re.IGNORECASE,
)
# Chat-template special tokens: the response ends at the first one after some content.
_CHAT_TOKEN = re.compile(r"<\|[A-Za-z_]+\|>|</s>|<s>|\[/?INST\]")
# A clause ends at a sentence stop (not a decimal point), a semicolon or a line break.
_CLAUSE_END = re.compile(r"[.!?](?:\s|\$|$)|[;:\n]")
_NEGATED_BEFORE = re.compile(
    r"(?:\bnot|n't|\bnever|\bno\s+longer|\binstead\s+of|\brather\s+than|\bother\s+than)"
    r"(?:\s+[\w']+){0,2}\s*$",
    re.IGNORECASE,
)
_HEDGED_BEFORE = re.compile(
    r"\b(?:could|might|may)\s+(?:also\s+)?be\b|\bmaybe\b|\bperhaps\b|\bpossibly\b"
    r"|\bprobably\b|\bguess\b|\bif\s*$",
    re.IGNORECASE,
)
_AFTER_BOX_BLOCKS = re.compile(
    r"^\s*\$*\s*(?:\.|,)?\s*(?:is|was|would\s+be)\s+(?:wrong|incorrect|not\b|a\s+mistake)"
    r"|^\s*\$*\s*(?:or|,\s*or)\s+(?!\$*\s*\\boxed)"
    r"|^\s*\$*\s*(?:\.\.\.|\\[lc]?dots)?\s*(?:,\s*)?(?:maybe|perhaps|or\s+so|\?)"
    r"|^\s*\$*\s*,?\s*(?:if|unless|when|provided|assuming)\b[^.\n]{0,80}\botherwise\b",
    re.IGNORECASE,
)
_TAIL_BLOCKS = re.compile(
    r"^(?:not\b|n't\b|never\b|probably\b|maybe\b|perhaps\b|possibly\b|likely\b|unclear\b"
    r"|unknown\b|either\b)",
    re.IGNORECASE,
)
# "The answer is wrong": withdraws every earlier answer.
_TAIL_RETRACTS = re.compile(r"^(?:wrong|incorrect|false|a\s+mistake)\b", re.IGNORECASE)
_TAIL_HEDGE_ANYWHERE = re.compile(r"\bor\s+so\b|\bor\s+(?:maybe|perhaps)\b|\?", re.IGNORECASE)
# Words before a number that make it a bound or an estimate, not the answer.
_QUALIFIED = re.compile(
    r"\b(?:at\s+(?:least|most)|more\s+than|less\s+than|fewer\s+than|greater\s+than|over|under"
    r"|up\s+to|about|around|approximately|roughly|nearly|almost|not|maybe|perhaps)\s*[~$]*\s*$",
    re.IGNORECASE,
)
_HEDGED_AFTER = re.compile(
    r"^[^.\n]{0,60}?(?:\b(?:might|may|could)\s+be\s+(?:wrong|incorrect|off)|\bnot\s+sure\b"
    r"|\bunsure\b|\bapprox(?:imately|\.)?|\broughly\b|\bI\s+(?:think|guess)\b)",
    re.IGNORECASE,
)
# A marker followed by one of these words comments on an answer given elsewhere.
_NOT_ANSWER_WORDS = frozenset(
    {
        "correct", "incorrect", "right", "wrong", "above", "below", "as", "therefore", "thus",
        "consistent", "valid", "invalid", "confirmed", "verified", "clear", "obvious", "given",
        "shown", "boxed", "following", "same", "that", "this", "indeed", "then", "so",
    }
)  # fmt: skip
_TAIL_APPROX = re.compile(r"^(?:approximately|approx\.?|about|around|roughly|nearly)\s+", re.I)


def find_boxed(text: str) -> list[tuple[str, int, int]]:
    """Every ``\\boxed``/``\\fbox`` in ``text``: (content, start, end), in order."""
    found: list[tuple[str, int, int]] = []
    i = 0
    while True:
        # one regex scan, not a str.find per command: that was quadratic without \fbox
        hit = _BOX_START.search(text, i)
        if hit is None:
            return found
        pos, j = hit.start(), hit.end()
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
            m = _BOX_TOKEN.match(text, k)
            if m:
                found.append((m.group(0), pos, m.end()))
                i = m.end()
            else:
                i = k
        else:
            i = j


@dataclass(frozen=True)
class _Marker:
    start: int
    rule: str
    text: str | None  # None: the marker's tail is prose, not an answer (skip it)
    blocked: bool = False  # negated or hedged: no answer, and no fallback
    retracts: bool = False  # "the answer is wrong": no earlier marker answers either


def cut_chat_junk(text: str) -> str:
    """``text`` up to the first chat-template token that follows some content."""
    pos = 0
    for m in _CHAT_TOKEN.finditer(text):
        before = text[pos : m.start()].strip()
        if before and before.lower() not in {"assistant", "user", "system"}:
            return text[: m.start()]
        pos = m.end()
    return text[pos:] if pos else text


def _clause_before(text: str, pos: int) -> str:
    window = text[max(0, pos - 200) : pos]
    ends = list(_CLAUSE_END.finditer(window))
    clause = window[ends[-1].end() :] if ends else window
    return clause.replace("$", " ").rstrip()


def _box_groups(text: str) -> list[_Marker]:
    """Boxes as markers, runs of joined boxes merged into one answer."""
    boxes = find_boxed(text)
    markers: list[_Marker] = []
    k = 0
    while k < len(boxes):
        group = [boxes[k]]
        while k + 1 < len(boxes) and _JOIN_GAP.match(text[group[-1][2] : boxes[k + 1][1]]):
            k += 1
            group.append(boxes[k])
        k += 1
        answer = ", ".join(b[0].strip() for b in group)
        before = _clause_before(text, group[0][1])
        after = text[group[-1][2] : group[-1][2] + 80]
        blocked = bool(
            _NEGATED_BEFORE.search(before)
            or _HEDGED_BEFORE.search(before)
            or _AFTER_BOX_BLOCKS.match(after)
            or _HEDGED_AFTER.match(after)
        )
        markers.append(_Marker(group[0][1], "boxed", answer.strip() or None, blocked))
    return markers


_SENTENCE_END = re.compile(
    r"\.(?:\s|$)|\s+(?:I hope|since|because|which|as)\b"
    r"|,\s+(?:which|so|since|because|as|but|and\s+(?:so|thus|therefore|this))\b"
)
_INLINE_MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]")
_QUOTES = re.compile(r'\\?"|[“”]')
_PROSE_START = re.compile(r"^[A-Za-z][a-z]+\s+[a-z]")
_LAST_VERB = re.compile(r".*\b(?:is|are|equals|was|be|gives|get)\b\s*", re.IGNORECASE | re.DOTALL)


def _retracts(tail: str) -> bool:
    return bool(_TAIL_RETRACTS.match(tail.strip().lstrip("*:= \t").strip()))


def _clean_tail(tail: str) -> tuple[str | None, bool]:
    """The answer in the text after a marker like 'the answer is', and whether it is blocked.

    None when the tail is prose without any math or digit ("the answer is correct").
    """
    tail = _QUOTES.sub("", tail.strip().lstrip("*:= \t").strip())
    line = tail.split("\n", 1)[0].strip()
    if _TAIL_BLOCKS.match(line):
        return None, True
    approx = _TAIL_APPROX.match(line)
    if approx:
        line = "\\approx " + line[approx.end() :]
    boxes = _box_groups(line)
    if boxes:
        last = boxes[-1]
        return last.text, last.blocked
    m = _SENTENCE_END.search(line)
    sentence = line[: m.start()] if m else line
    if _TAIL_HEDGE_ANYWHERE.search(line):
        return None, True
    if _PROSE_START.match(sentence) and not sentence.startswith("\\"):
        # "The largest $n$ is 34": the answer follows the sentence's last verb
        verb = _LAST_VERB.match(sentence)
        if verb is None:
            return None, False
        sentence = sentence[verb.end() :]
    blocks = list(_INLINE_MATH.finditer(sentence.strip()))
    if blocks and blocks[0].start() == 0:
        # "$12$ and $13$": several math blocks joined only by separators are one answer
        joined = [blocks[0]]
        for prev, nxt in pairwise(blocks):
            if not _JOIN_GAP.match(sentence.strip()[prev.end() : nxt.start()]):
                break
            joined.append(nxt)
        parts = [next(g for g in b.groups() if g is not None).strip() for b in joined]
        return ", ".join(parts), False
    answer = sentence.strip().strip("*").strip().rstrip(".,;:").strip()
    words_only = not re.search(r"[\d\\$^=+\-*/()]", answer)
    if not answer or (
        words_only and (len(answer.split()) > 2 or answer.split()[0].lower() in _NOT_ANSWER_WORDS)
    ):
        return None, False  # "the answer is correct": a comment, not an answer statement
    return answer, False


def _markers(text: str) -> list[_Marker]:
    found = _box_groups(text)
    for rule, pattern in (("final_answer", _FINAL_RE), ("answer_is", _ANSWER_IS_RE)):
        for m in pattern.finditer(text):
            tail = text[m.end() :]
            if _retracts(tail):
                found.append(_Marker(m.start(), rule, None, True, retracts=True))
                continue
            answer, blocked = _clean_tail(tail)
            found.append(_Marker(m.start(), rule, answer, blocked))
    for m in _GSM8K_RE.finditer(text):
        answer = m.group(1).strip().rstrip(".")
        found.append(_Marker(m.start(), "gsm8k", answer or None))
    return found


def _boxed(text: str) -> str | None:
    """The last (joined) box's content, or None."""
    boxes = _box_groups(text)
    return boxes[-1].text if boxes else None


_TRAILING_MATH = re.compile(
    r"(?:\$\$(?P<a>[^$]+)\$\$|\$(?P<b>[^$]+)\$|\\\[(?P<c>.+?)\\\]|\\\((?P<d>.+?)\\\))"
    r"(?P<rest>[^$\d\\]{0,40})$",
    re.DOTALL,
)


def _from_markers(text: str) -> tuple[Extraction | None, bool]:
    """The answer of the last usable marker, and whether a negated/hedged one was skipped."""
    markers = sorted(_markers(text), key=lambda m: m.start, reverse=True)
    skipped = False
    # A marker inside an earlier marker's tail ("The final answer is $\boxed{5}$")
    # starts later and so is tried first: it gives the same answer.
    for marker in markers:
        if marker.retracts:
            return None, True
        if marker.blocked:
            skipped = True
            continue
        if marker.text is not None and marker.text.strip():
            return Extraction(marker.text.strip(), marker.rule), skipped
    return None, skipped


def answer_is_withheld(text: str) -> bool:
    """True when the response's answer markers are all negated or hedged
    ("It is not $\\boxed{5}$.", "The answer could be $\\boxed{5}$ or 7."): no answer."""
    if not text or not text.strip():
        return False
    found, skipped = _from_markers(cut_chat_junk(text))
    return found is None and skipped


def extract_answer(text: str, *, last_number_fallback: bool = True) -> Extraction | None:
    """The final answer in ``text`` and the rule that found it, or None."""
    if not text or not text.strip():
        return None
    text = cut_chat_junk(text)
    found, skipped = _from_markers(text)
    if found is not None:
        return found
    if skipped:
        return None
    tail = text.rstrip()[-2_000:]
    m = _TRAILING_MATH.search(tail)
    if m and re.fullmatch(r"[\s.!,;:]*(?:[A-Za-z]+[\s.!,;:]*){0,5}", m.group("rest")):
        inner = next(g for g in m.group("a", "b", "c", "d") if g is not None).strip()
        if inner:
            return Extraction(inner, "trailing_math")
    if last_number_fallback:
        last = None
        for last in _NUMBER_RE.finditer(text):  # noqa: B007 - we want the last match
            pass
        if last is not None and not _QUALIFIED.search(
            text[max(0, last.start() - 40) : last.start()]
        ):
            block = _math_block_around(text, last.start())
            if block is not None:  # the 2 of $\frac{x+1}{2}$ is not an answer: the block is
                return Extraction(block, "last_math")
            return Extraction(re.sub(r"\s+", " ", last.group(0)), "last_number")
    return None


def _math_block_around(text: str, pos: int) -> str | None:
    """The content of the ``$...$`` block holding ``pos`` when it is more than a number."""
    window_start = max(0, pos - 2_000)
    for m in _INLINE_MATH.finditer(text, window_start, min(len(text), pos + 2_000)):
        if m.start() <= pos < m.end():
            inner = next(g for g in m.groups() if g is not None).strip()
            return None if _NUMBER_RE.fullmatch(inner.rstrip(".,")) else inner
    return None
