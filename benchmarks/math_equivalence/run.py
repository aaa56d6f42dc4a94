"""Our math verifier vs Math-Verify on the same labelled cases, side by side.

    python benchmarks/math_equivalence/run.py [--json OUT] [--show-errors] [--baseline-only]
    python benchmarks/math_equivalence/run.py --cases peers.jsonl   # one case file
    python benchmarks/math_equivalence/run.py --all                 # every case file

With ``--all`` (or several ``--cases``) the table is printed per file and, for
``peers.jsonl``, per ``suite`` (the peer verifier whose public tests the case's
category comes from), then for everything together.

Ours: ``verifiers.math.check_answer(candidate, reference)``; a case counts as "equal"
when the Verdict passed. Math-Verify: ``verify(parse(reference), parse(candidate))``
(gold first: ``verify`` is not symmetric), with bare LaTeX put inside ``$...$`` (see
``make_math_verify``). Its exceptions and empty parses count as "not equal". Both
are warmed up before timing so imports and worker start-up are not counted.
Latency is wall time per case (ms).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CASES = HERE / "cases.jsonl"
CASE_FILES = ("cases.jsonl", "heldout.jsonl", "peers.jsonl")


def load_cases(path: Path = CASES) -> list[dict[str, Any]]:
    """The cases of one JSONL file; each gets a ``suite`` (its own, or the file's stem)."""
    with path.open(encoding="utf-8") as fh:
        cases = [json.loads(line) for line in fh if line.strip()]
    for case in cases:
        case.setdefault("suite", path.stem)
        case["file"] = path.stem
    return cases


# ---------------------------------------------------------------- the two verifiers


def _has_math_env(text: str) -> bool:
    """True when the text has ``$`` math (an escaped ``\\$`` is a dollar sign) or a box."""
    return "$" in text.replace("\\$", "") or "\\boxed" in text


def _is_full_response(text: str) -> bool:
    """A model response (sentences, a marker line) rather than a bare answer."""
    lowered = text.lower()
    return "\n" in text or "####" in text or "answer" in lowered or lowered.startswith("the ")


def make_math_verify() -> Callable[[str, str], tuple[bool, str]]:
    """Math-Verify as its README uses it, giving it the most generous reading of our inputs.

    References are bare LaTeX, so they are parsed inside ``$...$``. A candidate that
    is a full response (or already has ``$``/``\\boxed``) is parsed as is; a bare answer
    is parsed inside ``$...$`` first and as is when that finds nothing.
    """
    from math_verify import parse, verify

    def check(candidate: str, reference: str) -> tuple[bool, str]:
        try:
            gold = parse(reference if _has_math_env(reference) else f"${reference}$")
            if _has_math_env(candidate) or _is_full_response(candidate):
                pred = parse(candidate)
            else:
                pred = parse(f"${candidate}$") or parse(candidate)
            if not gold:
                return False, "reference did not parse"
            if not pred:
                return False, "candidate did not parse"
            return bool(verify(gold, pred)), f"gold={gold!r} pred={pred!r}"
        except Exception as exc:  # Math-Verify's errors count as "not equal"
            return False, f"{type(exc).__name__}: {exc}"

    return check


def make_ours() -> Callable[[str, str], tuple[bool, str]]:
    sys.path.insert(0, str(ROOT))
    try:
        from verifiers.math import check_answer
    except ImportError as exc:
        raise SystemExit(
            "verifiers.math.check_answer is not importable yet "
            f"({exc}); run with --baseline-only to measure Math-Verify alone"
        ) from exc

    def check(candidate: str, reference: str) -> tuple[bool, str]:
        try:
            verdict = check_answer(candidate, reference)
        except Exception as exc:  # a verifier must not raise on input: count and show it
            return False, f"RAISED {type(exc).__name__}: {exc}"
        return bool(verdict.passed), f"{verdict.reason}: {verdict.message}"[:300]

    return check


def warm_up(name: str, check: Callable[[str, str], tuple[bool, str]]) -> None:
    if name == "ours":
        try:
            from verifiers.worker import warm_up as warm_pool

            warm_pool()
        except ImportError:
            pass
    for candidate, reference in [
        ("1/2", "\\frac{1}{2}"),
        ("x^2-1", "(x-1)(x+1)"),
        ("\\boxed{(1,2)}", "(1, 2)"),
        ("x > 3", "(3, \\infty)"),
    ]:
        check(candidate, reference)


# ---------------------------------------------------------------- running and scoring


def run_one(
    check: Callable[[str, str], tuple[bool, str]], cases: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    results = []
    for case in cases:
        start = time.perf_counter()
        said, detail = check(case["candidate"], case["reference"])
        elapsed_ms = (time.perf_counter() - start) * 1000
        results.append(
            {
                "id": case["id"],
                "said": said,
                "ok": said == case["expected"],
                "ms": elapsed_ms,
                "detail": detail,
            }
        )
    return results


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[k]


def summarise(cases: list[dict[str, Any]], results: list[dict[str, Any]]) -> dict[str, Any]:
    expected = {c["id"]: c["expected"] for c in cases}
    fp = sum(r["said"] and not expected[r["id"]] for r in results)
    fn = sum(not r["said"] and expected[r["id"]] for r in results)
    ms = [r["ms"] for r in results]
    by_cat: dict[str, list[bool]] = {}
    for case, r in zip(cases, results, strict=True):
        by_cat.setdefault(case["category"], []).append(r["ok"])
    return {
        "n": len(results),
        "accuracy": sum(r["ok"] for r in results) / len(results),
        "false_positives": fp,
        "false_negatives": fn,
        "p50_ms": percentile(ms, 0.50),
        "p95_ms": percentile(ms, 0.95),
        "mean_ms": statistics.fmean(ms),
        "per_category": {k: sum(v) / len(v) for k, v in sorted(by_cat.items())},
    }


def print_suites(cases: list[dict[str, Any]], results: dict[str, list[dict[str, Any]]]) -> None:
    """Accuracy, false positives and false negatives per suite, verifiers side by side."""
    names = list(results)
    groups: dict[str, list[int]] = {}
    for k, case in enumerate(cases):
        groups.setdefault(f"{case['file']}", []).append(k)
        if case["suite"] != case["file"]:
            groups.setdefault(f"{case['file']}:{case['suite']}", []).append(k)
    groups["all"] = list(range(len(cases)))
    head = f"{'suite':<26}{'cases':>6}" + "".join(f"{n + ' acc':>16}{'fp/fn':>8}" for n in names)
    print(f"\n{head}\n{'-' * len(head)}")
    for label, idx in groups.items():
        line = f"{label:<26}{len(idx):>6}"
        for n in names:
            rs = [results[n][k] for k in idx]
            acc = sum(r["ok"] for r in rs) / len(rs)
            fp = sum(r["said"] and not cases[k]["expected"] for k, r in zip(idx, rs, strict=True))
            fn = sum(not r["said"] and cases[k]["expected"] for k, r in zip(idx, rs, strict=True))
            line += f"{acc:>16.3f}{f'{fp}/{fn}':>8}"
        print(line)


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def print_table(summaries: dict[str, dict[str, Any]], cases: list[dict[str, Any]]) -> None:
    names = list(summaries)
    n_true = sum(c["expected"] for c in cases)
    print(f"{len(cases)} cases ({n_true} expected equal, {len(cases) - n_true} expected not)\n")
    header = f"{'metric':<22}" + "".join(f"{n:>14}" for n in names)
    if len(names) == 2:
        header += f"{'ours/MV':>12}"
    print(header)
    print("-" * len(header))
    rows = [
        ("accuracy", "accuracy", lambda v: f"{v:.1%}"),
        ("false positives", "false_positives", str),
        ("false negatives", "false_negatives", str),
        ("p50 latency (ms)", "p50_ms", lambda v: f"{v:.2f}"),
        ("p95 latency (ms)", "p95_ms", lambda v: f"{v:.2f}"),
        ("mean latency (ms)", "mean_ms", lambda v: f"{v:.2f}"),
    ]
    for label, key, fmt in rows:
        line = f"{label:<22}" + "".join(f"{fmt(summaries[n][key]):>14}" for n in names)
        if len(names) == 2:
            a, b = summaries[names[0]][key], summaries[names[1]][key]
            line += f"{ratio(a, b):>12}"
        print(line)
    print(f"\n{'category':<26}" + "".join(f"{n:>14}" for n in names) + f"{'cases':>8}")
    counts: dict[str, int] = {}
    for c in cases:
        counts[c["category"]] = counts.get(c["category"], 0) + 1
    for cat in sorted(counts):
        line = f"{cat:<26}" + "".join(f"{summaries[n]['per_category'][cat]:>14.0%}" for n in names)
        print(line + f"{counts[cat]:>8}")


def print_errors(name: str, cases: list[dict[str, Any]], results: list[dict[str, Any]]) -> None:
    wrong = [(c, r) for c, r in zip(cases, results, strict=True) if not r["ok"]]
    print(f"\n== {name}: {len(wrong)} misclassified ==")
    for case, r in wrong:
        kind = "FP" if r["said"] else "FN"
        print(f"{kind} {case['id']:<28} cand={case['candidate']!r} ref={case['reference']!r}")
        print(f"   note: {case['note']} | {r['detail'][:160]}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--cases", type=Path, action="append", help="a case file (repeatable; default cases.jsonl)"
    )
    ap.add_argument("--all", action="store_true", help="every case file: " + ", ".join(CASE_FILES))
    ap.add_argument("--json", type=Path, metavar="OUT", help="write per-case results here")
    ap.add_argument("--show-errors", action="store_true", help="list misclassified cases")
    ap.add_argument("--baseline-only", action="store_true", help="run Math-Verify alone")
    ap.add_argument("--category", help="only cases of this category")
    args = ap.parse_args(argv)

    paths = [HERE / f for f in CASE_FILES] if args.all else (args.cases or [CASES])
    cases = [c for p in paths for c in load_cases(p if p.exists() else HERE / p)]
    if args.category:
        cases = [c for c in cases if c["category"] == args.category]
    checkers: dict[str, Callable[[str, str], tuple[bool, str]]] = {}
    if not args.baseline_only:
        checkers["ours"] = make_ours()
    checkers["math_verify"] = make_math_verify()

    results: dict[str, list[dict[str, Any]]] = {}
    for name, check in checkers.items():
        warm_up(name, check)
        results[name] = run_one(check, cases)
    summaries = {name: summarise(cases, res) for name, res in results.items()}

    print_table(summaries, cases)
    if len(paths) > 1 or len({c["suite"] for c in cases}) > 1:
        print_suites(cases, results)
    if args.show_errors:
        for name in checkers:
            print_errors(name, cases, results[name])
    if args.json:
        payload = {"summary": summaries, "cases": cases, "results": results}
        args.json.write_text(json.dumps(payload, indent=1, ensure_ascii=False), encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
