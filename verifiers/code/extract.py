"""Find the program in an LLM response: the last fenced Python block."""

from __future__ import annotations

import re

# An opening fence of 3+ backticks or tildes, an optional info string, a body, and a
# closing fence of the same character at least as long (CommonMark-like).
_FENCE = re.compile(
    r"^[ \t]{0,3}(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)\n(?P<body>.*?)\n?"
    r"^[ \t]{0,3}(?P=fence)[`~]*[ \t]*$",
    re.DOTALL | re.MULTILINE,
)
_PYTHON_TAGS = {"python", "py", "python3", "py3"}


def extract_code(llm_response: str) -> str | None:
    """The last ```python fenced block of ``llm_response`` (or None when there is none).

    Blocks tagged python/py/python3 win; when no block is tagged, the last untagged
    block is taken. Blocks tagged with another language are ignored. The returned
    code has its trailing whitespace removed; an empty block counts as no code.
    """
    if not isinstance(llm_response, str):
        return None
    if "```" not in llm_response and "~~~" not in llm_response:
        return None
    tagged: list[str] = []
    untagged: list[str] = []
    for m in _FENCE.finditer(llm_response):
        info = m.group("info").strip().split()
        lang = info[0].lower() if info else ""
        body = m.group("body").rstrip()
        if lang in _PYTHON_TAGS:
            tagged.append(body)
        elif lang == "":
            untagged.append(body)
    pick = tagged or untagged
    if not pick or not pick[-1].strip():
        return None
    return pick[-1]


def has_fence(text: str) -> bool:
    """True when ``text`` looks like a response holding fenced code, not bare code."""
    return isinstance(text, str) and bool(re.search(r"^[ \t]{0,3}(```|~~~)", text, re.MULTILINE))
