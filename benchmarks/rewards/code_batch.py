"""The code batch: HumanEval-style problems (``check(candidate)`` tests) and completions.

Eight small problems written for this benchmark, each with a ``check`` function
like HumanEval's and a handful of model-like completions: right ones, wrong ones,
one that raises, one with a syntax error. ``code_batch(64)`` cycles through them.
"""

from __future__ import annotations

from typing import Any

PROBLEMS: list[dict[str, Any]] = [
    {
        "entry_point": "running_max",
        "right": """\
def running_max(xs):
    out, best = [], None
    for x in xs:
        best = x if best is None or x > best else best
        out.append(best)
    return out
""",
        "wrong": """\
def running_max(xs):
    return sorted(xs)
""",
        "tests": """\
def check(candidate):
    assert candidate([]) == []
    assert candidate([1, 3, 2, 5, 4]) == [1, 3, 3, 5, 5]
    assert candidate([-2, -5, -1]) == [-2, -2, -1]
""",
    },
    {
        "entry_point": "is_palindrome",
        "right": """\
def is_palindrome(s):
    t = ''.join(c.lower() for c in s if c.isalnum())
    return t == t[::-1]
""",
        "wrong": """\
def is_palindrome(s):
    return s == s[::-1]
""",
        "tests": """\
def check(candidate):
    assert candidate('Racecar')
    assert candidate('A man, a plan, a canal: Panama')
    assert not candidate('abc')
""",
    },
    {
        "entry_point": "fib",
        "right": """\
def fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a
""",
        "wrong": """\
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 3)
""",
        "tests": """\
def check(candidate):
    assert candidate(0) == 0
    assert candidate(1) == 1
    assert candidate(10) == 55
    assert candidate(30) == 832040
""",
    },
    {
        "entry_point": "count_vowels",
        "right": """\
def count_vowels(s):
    return sum(c in 'aeiouAEIOU' for c in s)
""",
        "wrong": """\
def count_vowels(s):
    return sum(c in 'aeiou' for c in s)
""",
        "tests": """\
def check(candidate):
    assert candidate('hello') == 2
    assert candidate('AEIOU xyz') == 5
    assert candidate('') == 0
""",
    },
    {
        "entry_point": "flatten",
        "right": """\
def flatten(xs):
    out = []
    for x in xs:
        out.extend(flatten(x) if isinstance(x, list) else [x])
    return out
""",
        "wrong": """\
def flatten(xs):
    return [y for x in xs for y in (x if isinstance(x, list) else [x])]
""",
        "tests": """\
def check(candidate):
    assert candidate([1, [2, [3, 4]], 5]) == [1, 2, 3, 4, 5]
    assert candidate([]) == []
    assert candidate([[[]]]) == []
""",
    },
    {
        "entry_point": "gcd",
        "right": """\
def gcd(a, b):
    while b:
        a, b = b, a % b
    return abs(a)
""",
        "wrong": """\
def gcd(a, b):
    return min(a, b)
""",
        "tests": """\
def check(candidate):
    assert candidate(12, 18) == 6
    assert candidate(7, 5) == 1
    assert candidate(0, 9) == 9
""",
    },
    {
        "entry_point": "word_count",
        "right": """\
def word_count(s):
    counts = {}
    for w in s.lower().split():
        counts[w] = counts.get(w, 0) + 1
    return counts
""",
        "wrong": """\
def word_count(s):
    return {w: 1 for w in s.split()}
""",
        "tests": """\
def check(candidate):
    assert candidate('a b a') == {'a': 2, 'b': 1}
    assert candidate('') == {}
    assert candidate('The the') == {'the': 2}
""",
    },
    {
        "entry_point": "primes_below",
        "right": """\
def primes_below(n):
    sieve = [True] * max(n, 2)
    sieve[0] = sieve[1] = False
    for i in range(2, int(n ** 0.5) + 1):
        if sieve[i]:
            sieve[i * i :: i] = [False] * len(sieve[i * i :: i])
    return [i for i in range(n) if sieve[i]]
""",
        "wrong": """\
def primes_below(n):
    return [i for i in range(2, n) if i % 2]
""",
        "tests": """\
def check(candidate):
    assert candidate(10) == [2, 3, 5, 7]
    assert candidate(2) == []
    assert len(candidate(1000)) == 168
""",
    },
]


def completions_for(problem: dict[str, Any]) -> list[tuple[str, bool]]:
    """Eight model-like replies to one problem and whether each is right."""
    name = problem["entry_point"]

    def fenced(code: str) -> str:
        return f"Here is an implementation of `{name}`:\n\n```python\n{code}```\n"

    return [
        (fenced(problem["right"]), True),
        (fenced(problem["right"]), True),
        (fenced("import math\n\n" + problem["right"]), True),
        (problem["right"], True),  # bare code, no fence
        (fenced(problem["wrong"]), False),
        (fenced(problem["wrong"]), False),
        (fenced(f"def {name}(*args):\n    raise NotImplementedError\n"), False),
        (fenced(f"def {name}(*args)\n    return None\n"), False),  # syntax error
    ]


def code_batch(size: int) -> list[dict[str, Any]]:
    """``size`` rows: completion, tests, entry point, whether the completion is right."""
    rows = []
    per_problem = [(p, completions_for(p)) for p in PROBLEMS]
    i = 0
    while len(rows) < size:
        problem, replies = per_problem[i % len(per_problem)]
        completion, right = replies[(i // len(per_problem)) % len(replies)]
        rows.append(
            {
                "completion": completion,
                "tests": problem["tests"],
                "entry_point": problem["entry_point"],
                "right": right,
            }
        )
        i += 1
    return rows
