"""Scripted models for the recipe tests, served by factory's local Anthropic-compatible server.

Every answer is a pure function of the request (a hash of its prompt), so a resumed run
asks the same questions and gets the same answers as an uninterrupted one. What each
answer holds is chosen so each filter and trust rule of the recipes is exercised:
good problems, wrong references, near-duplicates, banned keywords, too-short and
malformed items, copies of the prompt, evolutions that add nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from factory.testing.anthropic_server import last_user_text

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
MATH_SPEC = REPO / "problem_specs" / "algebra_number_theory.yaml"

SUM = re.compile(r"What is \$(\d+(?: \+ \d+)+)\$")


def _digest(text: str) -> int:
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest(), 16)


def solve(text: str) -> str:
    """The solver: the true sum of the first `What is $a + b + ...$` in the prompt."""
    m = SUM.search(text)
    if m is None:
        return "I cannot solve this."
    total = sum(int(x) for x in m.group(1).split(" + "))
    return f"Adding the terms gives {total}.\n\n\\boxed{{{total}}}"


def write_seeds(path: Path, n: int = 8) -> Path:
    """A seed file of n distinct sum problems (ground truth), as a person would write them."""
    subjects = ["apples", "marbles", "coins", "stamps", "books", "shells", "cards", "beads"]
    lines = []
    for i in range(n):
        a, b = 11 * (i + 1), 5 + 3 * i
        statement = (
            f"What is ${a} + {b}$? A box holds {a} {subjects[i % len(subjects)]} and "
            f"{b} more are added."
        )
        lines.append(json.dumps({"statement": statement, "answer": str(a + b)}))
    path.write_text("\n".join(lines) + "\n")
    return path


_NOUNS = (
    "baker", "pilot", "farmer", "tailor", "sailor", "miner", "painter", "singer",
    "lanterns", "pebbles", "feathers", "acorns", "ribbons", "buttons", "candles", "kites",
    "harbour", "orchard", "library", "market",
)  # fmt: skip


def self_instruct_responder(body: dict) -> str:
    """Generator: a mix of problem kinds per request; solver: the true sum."""
    text = last_user_text(body)
    m = re.search(r"Write (\d+) new", text)
    if m is None:
        return solve(text)
    h = _digest(text)
    examples = re.findall(r'^\{"statement": "(.*?)"', text, flags=re.MULTILINE)
    items: list[dict] = []
    for i in range(int(m.group(1))):
        k = (h >> (12 * i)) % 4000
        a, b = 200 + k, 3 + (k % 89)
        kind = (h >> (3 * i)) % 7
        who, what, where = (_NOUNS[(k >> s) % len(_NOUNS)] for s in (0, 4, 8))
        good = {
            "statement": f"What is ${a} + {b}$? The {who} counted {what} at the {where}.",
            "answer": str(a + b),
        }
        if kind in (0, 1, 2):
            items.append(good)
        elif kind == 3:  # a wrong reference: the solves will not agree with it
            items.append({**good, "answer": str(a + b + 1)})
        elif kind == 4 and examples:  # a near-duplicate of a problem shown as an example
            items.append({"statement": examples[i % len(examples)] + " Quickly.", "answer": "1"})
        elif kind == 5:
            banned = f"Draw a graph of $y = {a}x$ and read off $y$ at $x = 1$."
            items.append({"statement": banned, "answer": str(a)})
        else:
            # Too short (two words), or malformed (no answer).
            items.append({"statement": f"Sum ${a}+{b}$", "answer": str(a + b)} if i % 2
                         else {"statement": f"Add {a} and {b}, then halve it."})  # fmt: skip
    return "```json\n" + json.dumps(items) + "\n```"


OPERATION = re.compile(r"^Operation: (.*)$", re.MULTILINE)


def evolve_responder(body: dict) -> str:
    """Evolver: adds a term to the sum (mostly); some evolutions are worthless on purpose."""
    text = last_user_text(body)
    if "#Original problem#" not in text:
        return solve(text)
    original = json.loads(text.split("#Original problem#", 1)[1].strip().split("\n\n")[0])
    statement = original["statement"]
    m = SUM.search(statement)
    h = _digest(text) % 10
    if m is None or h == 0:
        return "I would rather not."  # not JSON: invalid_format
    terms = [int(x) for x in m.group(1).split(" + ")]
    if h == 1:  # copies the prompt
        return json.dumps([{"statement": "#Rewritten problem# " + statement, "answer": "1"}])
    if h == 2:  # adds nothing: the same words
        return json.dumps([{"statement": statement, "answer": str(sum(terms))}])
    extra = 1 + len(terms) + (_digest(text) >> 8) % 50
    terms.append(extra)
    new = SUM.sub("What is $" + " + ".join(str(t) for t in terms) + "$", statement, count=1)
    answer = sum(terms) + (1 if h == 3 else 0)  # h == 3: a wrong new reference
    return json.dumps([{"statement": new, "answer": str(answer)}])


CODE_SPEC = REPO / "problem_specs" / "python_functions.yaml"
ADD_K = re.compile(r"`add_(\d+)\(x\)`")


def code_self_instruct_responder(body: dict) -> str:
    """Generator: `add_K(x)` exercises; some with weak tests or a reference that fails them.
    Solver: the right function for the `add_K` named in the prompt."""
    text = last_user_text(body)
    m = re.search(r"Write (\d+) new", text)
    if m is None:
        found = ADD_K.search(text)
        if found is None:
            return "no idea"
        k = found.group(1)
        return f"```python\ndef add_{k}(x):\n    return x + {k}\n```"
    h = _digest(text)
    items = []
    for i in range(int(m.group(1))):
        k = 2 + (h >> (10 * i)) % 900
        name = f"add_{k}"
        kind = (h >> (2 * i)) % 4
        solution = f"def {name}(x):\n    return x + {k}\n"
        tests = f"assert {name}(1) == {k + 1}\nassert {name}(-{k}) == 0\n"
        if kind == 1:  # weak: a program returning None passes
            tests = f"assert {name}(1) is None or {name}(1) == {k + 1}\n"
        elif kind == 2:  # the reference fails its own tests
            solution = f"def {name}(x):\n    return x - {k}\n"
        story = " ".join(_NOUNS[(h >> (10 * i + 3 * j)) % len(_NOUNS)] for j in range(6))
        items.append({
            "statement": f"Write a function `{name}(x)` returning x plus {k}: {story}.",
            "entry_point": name,
            "reference_solution": solution,
            "tests": tests,
        })  # fmt: skip
    return json.dumps(items)
