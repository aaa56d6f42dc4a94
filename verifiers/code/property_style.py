"""Style 4: property-based differential tests against a reference solution.

Two sandbox jobs, compared HERE:

1. the REFERENCE job draws inputs with hypothesis (the spec's strategies, a fixed
   seed, no example database) and computes the reference's outputs on them;
2. the CANDIDATE job gets only those inputs (never the reference or its outputs)
   and reports its outputs.

The parent decodes both (strict tagged JSON, no eval) and compares: equal values
(floats within ``float_tol`` when set), or, when the reference raised, an
exception of the same type name. The reference job's result is cached per
(reference, spec), so many candidates for one problem draw inputs once.

Spec (dict or JSON string)::

    {"strategies": {"xs": "st.lists(st.integers())", "k": "st.integers(0, 5)"},
     "entry_point": "f", "max_examples": 100, "seed": 0, "float_tol": null,
     "setup": "optional code run before the strategies are evaluated",
     "reference_solution": "optional; else the problem's reference"}

``strategies`` may also be a list (positional arguments).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from verifiers.code import harness
from verifiers.code.asserts import BrokenTestsError
from verifiers.code.run import (
    PYTHON,
    Options,
    Records,
    clean_end,
    common_failure,
    make_job,
    new_nonce,
    result_details,
    run_jobs,
)
from verifiers.code.values import DecodeError, decode_value, short_repr, values_equal
from verifiers.verdict import Reason, Verdict

MAX_EXAMPLES = 1000


@dataclass(frozen=True)
class PropertySpec:
    strategies: dict[str, str] | list[str]
    entry_point: str
    max_examples: int
    seed: int
    float_tol: float | None
    setup: str
    reference: str | None


def is_property_spec(tests: Any) -> bool:
    return isinstance(tests, Mapping) and "strategies" in tests


def parse_spec(tests: Any, entry_point: str | None, reference: str | None) -> PropertySpec:
    if isinstance(tests, str):
        try:
            tests = json.loads(tests)
        except ValueError as exc:
            raise BrokenTestsError(f"the property spec is not valid JSON: {exc}") from exc
    if not is_property_spec(tests):
        raise BrokenTestsError("a property spec needs 'strategies'")
    strategies = tests["strategies"]
    if isinstance(strategies, Mapping):
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in strategies.items()):
            raise BrokenTestsError("'strategies' must map argument names to strategy expressions")
        strategies = dict(strategies)
    elif isinstance(strategies, list) and all(isinstance(v, str) for v in strategies):
        strategies = list(strategies)
    else:
        raise BrokenTestsError("'strategies' must be a dict or list of strategy expressions")
    entry = tests.get("entry_point") or entry_point
    if not isinstance(entry, str) or not entry.isidentifier():
        raise BrokenTestsError("a property spec needs an 'entry_point' function name")
    try:
        max_examples = int(tests.get("max_examples", 100))
        seed = int(tests.get("seed", 0))
        tol = tests.get("float_tol")
        float_tol = None if tol is None else float(tol)
    except (TypeError, ValueError) as exc:
        raise BrokenTestsError(f"bad property spec setting: {exc}") from exc
    if not 1 <= max_examples <= MAX_EXAMPLES:
        raise BrokenTestsError(f"max_examples must be in 1..{MAX_EXAMPLES}")
    ref = tests.get("reference_solution") or reference
    setup = tests.get("setup") or ""
    if not isinstance(setup, str):
        raise BrokenTestsError("'setup' must be code text")
    return PropertySpec(strategies, entry, max_examples, seed, float_tol, setup, ref)


@dataclass(frozen=True)
class _Expected:
    inputs: list[Any]
    outcomes: list[tuple[bool, Any]]  # (ok, decoded value) or (False, exception type name)
    image: str


class _ReferenceFailure(Exception):
    pass


_cache: OrderedDict[str, _Expected] = OrderedDict()
_cache_lock = threading.Lock()
_CACHE_SIZE = 256


def _reference_outputs(spec: PropertySpec, opts: Options) -> _Expected:
    assert spec.reference is not None
    key_src = json.dumps(
        [
            spec.reference,
            spec.strategies,
            spec.entry_point,
            spec.max_examples,
            spec.seed,
            spec.setup,
        ]
    )
    key = hashlib.sha256(key_src.encode("utf-8", "surrogatepass")).hexdigest()
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    nonce = new_nonce()
    plan = {
        "nonce": nonce,
        "strategies": spec.strategies,
        "entry_point": spec.entry_point,
        "max_examples": spec.max_examples,
        "seed": spec.seed,
        "setup": spec.setup,
    }
    files = {
        **harness.harness_files(harness.PROPGEN),
        "solution.py": spec.reference,
        "plan.json": json.dumps(plan),
    }
    ref_opts = Options(
        timeout_s=max(opts.timeout_s, 30.0), memory_mb=max(opts.memory_mb, 1024), pool=opts.pool
    )
    (result,) = run_jobs([make_job(files, [*PYTHON, harness.PROPGEN], ref_opts)], ref_opts)
    expected = _read_reference(result, nonce)
    with _cache_lock:
        _cache[key] = expected
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return expected


def _read_reference(result: Any, nonce: str) -> _Expected:
    recs = Records.read(result, nonce)
    if result.timed_out:
        raise _ReferenceFailure("the reference job timed out")
    if recs.forged:
        raise _ReferenceFailure("the reference wrote unauthenticated records")
    err = recs.first("strategy_error")
    if err is not None:
        raise _ReferenceFailure(f"the strategies failed: {err.get('type')}: {err.get('message')}")
    imp = recs.first("import_error")
    if imp is not None:
        raise _ReferenceFailure(
            f"the reference raised at import: {imp.get('type')}: {imp.get('message')}"
        )
    if recs.first("entry_missing") is not None:
        raise _ReferenceFailure("the reference does not define the entry point")
    inputs_rec = recs.first("inputs")
    problem = clean_end(result, recs)
    if inputs_rec is None or problem is not None:
        raise _ReferenceFailure(f"the reference job did not finish: {problem or 'no inputs drawn'}")
    inputs = inputs_rec.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise _ReferenceFailure("the strategies drew no inputs")
    if '"opaque"' in json.dumps(inputs):
        raise _ReferenceFailure("the strategies draw values that are not plain data")
    ends, dupes = recs.by_key("end", "i")
    if dupes or len(ends) != len(inputs):
        raise _ReferenceFailure("the reference did not report one output per input")
    outcomes: list[tuple[bool, Any]] = []
    for i in range(len(inputs)):
        rec = ends.get(i)
        if rec is None:
            raise _ReferenceFailure(f"no reference output for input {i}")
        if rec.get("ok"):
            try:
                outcomes.append((True, decode_value(rec.get("value"))))
            except DecodeError as exc:
                raise _ReferenceFailure(f"reference output {i} is malformed: {exc}") from exc
        else:
            outcomes.append((False, str(rec.get("type"))))
    if any(
        ok and '"opaque"' in json.dumps(ends[i].get("value")) for i, (ok, _) in enumerate(outcomes)
    ):
        raise _ReferenceFailure("the reference returns values that are not plain data")
    return _Expected(inputs, outcomes, result.image)


def check_property(
    solution: str, tests: Any, entry_point: str | None, reference: str | None, opts: Options
) -> Verdict:
    try:
        spec = parse_spec(tests, entry_point, reference)
    except BrokenTestsError as exc:
        return Verdict.fail(Reason.REFERENCE_ERROR, str(exc))
    if not spec.reference:
        return Verdict.fail(Reason.REFERENCE_ERROR, "property tests need a reference solution")
    try:
        expected = _reference_outputs(spec, opts)
    except _ReferenceFailure as exc:
        return Verdict.fail(Reason.REFERENCE_ERROR, f"property tests unusable: {exc}")
    nonce = new_nonce()
    plan = {
        "nonce": nonce,
        "entry_point": spec.entry_point,
        "inputs": expected.inputs,
    }
    files = {
        **harness.harness_files(harness.PROPEVAL),
        "solution.py": solution,
        "plan.json": json.dumps(plan),
    }
    (result,) = run_jobs([make_job(files, [*PYTHON, harness.PROPEVAL], opts)], opts)
    return _judge(spec, expected, result, nonce)


def _describe_input(item: Mapping[str, Any]) -> str:
    try:
        args = decode_value(item.get("args"))
        kwargs = {k: decode_value(v) for k, v in item.get("kwargs", {}).items()}
    except DecodeError:
        return "?"
    parts = [short_repr(a, 100) for a in args] + [
        f"{k}={short_repr(v, 100)}" for k, v in kwargs.items()
    ]
    return ", ".join(parts)


def _judge(spec: PropertySpec, expected: _Expected, result: Any, nonce: str) -> Verdict:
    recs = Records.read(result, nonce)
    details: dict[str, Any] = {"style": "property", **result_details(result)}
    n = len(expected.inputs)
    details["total_tests"] = n
    starts, _ = recs.by_key("start", "i")
    ends, dupes = recs.by_key("end", "i")
    running = next((i for i in starts if i not in ends), None)
    where = (
        f"{spec.entry_point}({_describe_input(expected.inputs[running])})"
        if isinstance(running, int) and 0 <= running < n
        else None
    )
    fail = common_failure(result, recs, details, running=where)
    if fail is not None:
        return fail
    if dupes:
        return Verdict.fail(
            Reason.TESTS_FAILED, "duplicate result records (forged reports)", details=details
        )
    for i in range(n):
        call = f"{spec.entry_point}({_describe_input(expected.inputs[i])})"
        rec = ends.get(i)
        if rec is None:
            details["passed_tests"] = i
            return Verdict.fail(
                Reason.RUNTIME_ERROR, f"the program ended during {call}", details=details
            )
        ref_ok, ref_value = expected.outcomes[i]
        message = _compare(rec, ref_ok, ref_value, spec.float_tol)
        if message is not None:
            details["passed_tests"] = i
            details["first_failure"] = f"{call}: {message}"
            return Verdict.fail(Reason.TESTS_FAILED, f"{call}: {message}"[:1000], details=details)
    problem = clean_end(result, recs)
    if problem is not None:
        return Verdict.fail(Reason.RUNTIME_ERROR, problem, details=details)
    details["passed_tests"] = n
    return Verdict.ok(f"agrees with the reference on all {n} inputs", details=details)


def _compare(rec: Mapping[str, Any], ref_ok: bool, ref_value: Any, tol: float | None) -> str | None:
    if not ref_ok:
        if rec.get("ok"):
            return f"expected {ref_value} to be raised, got a value"
        if rec.get("type") != ref_value:
            return f"expected {ref_value} to be raised, got {rec.get('type')}"
        return None
    if not rec.get("ok"):
        return f"raised {rec.get('type')}: {rec.get('message')}"
    try:
        got = decode_value(rec.get("value"))
    except DecodeError as exc:
        return f"malformed value: {exc}"
    if not values_equal(got, ref_value, float_tol=tol):
        return f"got {short_repr(got)}, expected {short_repr(ref_value)}"
    return None
