"""Re-make quickstart.jsonl: scripted solver answers recorded through the real client stack.

The answers are written by this script (the factory team's scripted stand-in for a
model), served by factory's local Anthropic-compatible test server, and recorded
by ``factory generate --record``. They are NOT outputs of a real model; the file's
header says so. The mix is deliberate: right answers, wrong answers, an answer with
no \\boxed{}, code with no code block, wrong code, and a truncated response, so the
quickstart shows every kind of rejection.

    python problem_specs/recorded/make_quickstart_recording.py
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import sympy

from factory.spec import load_spec
from factory.testing.anthropic_server import AnthropicTestServer, last_user_text

HERE = Path(__file__).resolve().parent
SPEC = HERE.parent / "quickstart.yaml"
OUT = HERE / "quickstart.jsonl"
N = 12
NOTE = (
    "SCRIPTED responses, not outputs of a real model: written by "
    "problem_specs/recorded/make_quickstart_recording.py (right and wrong answers on purpose), "
    "served by factory's local Anthropic-compatible test server and recorded with "
    "`factory generate --record`. Replayed by the offline quickstart."
)


def _variant(statement: str, call: int) -> str:
    """Which kind of answer the ``call``-th sample of a problem gets (deterministic)."""
    pattern = int(hashlib.sha256(statement.encode()).hexdigest(), 16) % 4
    plans = [("right", "right"), ("right", "wrong"), ("wrong", "malformed"), ("right", "truncated")]
    return plans[pattern][min(call, 1)]


def _math_answer(problem, kind: str) -> str:
    ref = problem.reference
    if kind == "malformed":
        return "Let me think about this carefully. I believe it works out, as shown above."
    if kind == "truncated":
        return "Let me expand every term one by one. " + "We keep expanding. " * 400
    if ref.check and ref.check.get("kind") == "antiderivative":
        x = sympy.Symbol(ref.check.get("variable", "x"))
        integrand = sympy.sympify(ref.check["integrand"], locals={str(x): x})
        good = sympy.integrate(integrand, x)
        expr = good if kind == "right" else sympy.diff(integrand, x)
        latex = sympy.latex(expr)
        return f"Integrating term by term, $F(x) = {latex} + C$.\n\n\\boxed{{{latex}}}"
    answer = ref.answer or "0"
    if kind == "wrong":
        return f"Carrying the computation through, the result is \\boxed{{{answer} + 1}}."
    return f"Working step by step, we find the value below.\n\nFinal answer: \\boxed{{{answer}}}"


def _code_answer(problem, kind: str) -> str:
    ref = problem.reference
    if kind == "malformed":
        return f"Iterate once over the input, tracking the state `{ref.entry_point}` needs."
    if kind == "truncated":
        return "```python\n" + "# thinking about edge cases\n" * 400
    if kind == "wrong":
        return (
            f"```python\ndef {ref.entry_point}(*args):\n    return args[0] if args else None\n```"
        )
    return f"Here is a solution:\n\n```python\n{ref.solution.rstrip()}\n```\n"


def main() -> None:
    spec = load_spec(SPEC)
    problems = list(spec.build_source().problems(N, spec.seed))
    calls: Counter[str] = Counter()

    def responder(body: dict) -> str:
        text = last_user_text(body)
        for p in problems:
            if p.statement in text:
                kind = _variant(p.statement, calls[p.id])
                calls[p.id] += 1
                return _code_answer(p, kind) if p.domain == "code" else _math_answer(p, kind)
        return "I cannot tell which problem this is."

    with tempfile.TemporaryDirectory() as tmp, AnthropicTestServer(responder=responder) as srv:
        rec = Path(tmp) / "rec.jsonl"
        env = {**os.environ, "ANTHROPIC_API_KEY": "scripted"}
        cmd = [
            sys.executable,
            "-m",
            "factory.cli",
            "generate",
            str(SPEC),
            "--n",
            str(N),
            "--out",
            str(Path(tmp) / "run"),
            "--llm",
            f"anthropic:{srv.base_url}",
            "--record",
            str(rec),
            "--quiet",
        ]
        subprocess.run(cmd, env=env, check=True)
        lines = rec.read_text().splitlines()
    header = json.loads(lines[0])
    header["note"] = NOTE
    # The structured mark a publisher reads (factory.publish.providers): no model wrote these.
    header["responses"] = "scripted"
    OUT.write_text("\n".join([json.dumps(header, sort_keys=True), *lines[1:]]) + "\n")
    print(f"wrote {OUT} ({len(lines) - 1} responses)")


if __name__ == "__main__":
    main()
