"""Runs assert-style tests INSIDE the sandbox, one step at a time, reporting each on fd 3.

The plan (plan.json, written by the parent and deleted here before the solution is
imported) lists steps. ``setup`` and ``exec`` steps run as-is; ``eval`` steps only
evaluate the candidate-side expressions ("holes") and report their encoded values:
the expected values never enter this process and the comparison is made by the parent.
"""

import factory_common as fc

_exec = exec
_eval = eval
_compile = compile
_dict = dict
_BaseException = BaseException
_SyntaxError = SyntaxError
_callable = callable
_len = len


def main() -> None:
    plan = fc.load_plan()
    report = fc.Reporter(plan["nonce"])
    steps = plan["steps"]
    if plan.get("numpy"):
        fc.prepare_numpy()
    # Compile everything before the candidate runs: its code cannot change ours.
    compiled = []
    for step in steps:
        if step["kind"] == "eval":
            code = [_compile(h, f"<test line {step['line']}>", "eval") for h in step["holes"]]
        else:
            code = _compile(step["code"], f"<test line {step['line']}>", "exec")
        compiled.append((step["id"], step["scope"], step["kind"], code))
    builtins_copy = fc.snapshot_builtins()

    report.emit("import_start")
    try:
        module = fc.import_solution()
    except _BaseException as exc:
        report.emit(
            "import_error", syntax=fc._isinstance(exc, _SyntaxError), **fc.describe_exception(exc)
        )
        fc.hard_exit(0)
    report.emit("import_ok")

    ns = {
        k: v
        for k, v in _dict.items(module.__dict__)
        if not (fc._type(k) is fc._str and k[:2] == "__")
    }
    ns["__builtins__"] = builtins_copy
    ns["__name__"] = "__factory_tests__"
    check_ns = None
    for step_id, scope, kind, code in compiled:
        if scope == "check" and check_ns is None:
            check_ns = _dict(ns)
            entry = plan.get("entry_point")
            if entry not in ns or not _callable(ns[entry]):
                report.emit("entry_missing", name=entry)
                fc.hard_exit(0)
            check_ns[plan["check_param"]] = ns[entry]
        space = check_ns if scope == "check" else ns
        report.emit("start", step=step_id)
        try:
            if kind == "eval":
                values = [fc.encode(_eval(c, space)) for c in code]
                report.emit("end", step=step_id, ok=True, values=values)
            else:
                _exec(code, space)
                report.emit("end", step=step_id, ok=True)
        except _BaseException as exc:
            report.emit(
                "end",
                step=step_id,
                ok=False,
                assertion=fc.is_assertion(exc),
                **fc.describe_exception(exc),
            )
    report.emit("done", steps=_len(compiled))
    fc.hard_exit(0)


if __name__ == "__main__":
    main()
