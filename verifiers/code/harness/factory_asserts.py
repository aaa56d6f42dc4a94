"""Runs assert-style tests INSIDE the sandbox as the JUDGE, one step at a time, reporting on fd 3.

The solution runs in a second process (``factory_remote``), forked before the plan is read.
Every test statement runs HERE, with the judge's own builtins and standard library; the
names the tests take from the solution are Remote objects, so only call arguments cross to
the solution's process and only plain values come back. The expected values, the test code,
the nonce and fd 3 never exist in the solution's process.
"""

import factory_common as fc
import factory_remote as remote


def _namespace(plan: dict, link: remote.Link) -> dict:
    import builtins
    import importlib
    import sys

    ns: dict = {"__builtins__": dict(builtins.__dict__), "__name__": "__factory_tests__"}
    imports = {alias: (mod, attr) for alias, mod, attr in plan["solution_imports"]}
    for name in plan["free_names"]:
        if name in builtins.__dict__:
            continue  # the judge's builtin, whatever the solution calls its own
        if name in imports or name in sys.stdlib_module_names:
            mod, attr = imports.get(name, (name, None))
            try:
                value = importlib.import_module(mod)
                ns[name] = getattr(value, attr) if attr else value
                continue
            except BaseException:
                if name in sys.stdlib_module_names:
                    continue
        ns[name] = remote.by_name(link, name)
    entry = plan.get("entry_point")
    if entry:
        ns.setdefault(entry, remote.by_name(link, entry))
    sys.modules["solution"] = remote.solution_module(
        link,
        sorted(set(plan["solution_names"]) | ({entry} if entry else set())),
        plan["solution_imports"],
    )
    return ns


def main() -> None:
    link = remote.start()  # first: the solution's process must never see what follows
    plan = fc.load_plan()
    remote.private_path(".")
    report = fc.Reporter(plan["nonce"])
    steps = []
    for step in plan["steps"]:
        code = compile(step["code"], f"<test line {step['line']}>", "exec")
        steps.append((step["id"], step["scope"], code))
    ns = _namespace(plan, link)
    entry = plan.get("entry_point")
    remote.let_the_solution_start(link, report)

    check_ns = None
    for step_id, scope, code in steps:
        if scope == "check" and check_ns is None:
            remote.require_function(link, report, entry)
            check_ns = dict(ns)
            check_ns[plan["check_param"]] = remote.Remote(
                link, {"name": entry}, plan["check_param"]
            )
        space = check_ns if scope == "check" else ns
        report.emit("start", step=step_id)
        link.log = []
        try:
            exec(code, space)
        except remote.CandidateGone as exc:
            report.emit("end", step=step_id, ok=False, crashed=exc.died, type="CandidateGone",
                        message=str(exc), calls=link.describe_calls())  # fmt: skip
            break
        except BaseException as exc:
            report.emit("end", step=step_id, ok=False, assertion=fc.is_assertion(exc),
                        calls=link.describe_calls(), **fc.describe_exception(exc))  # fmt: skip
        else:
            report.emit("end", step=step_id, ok=True)
    report.emit("done", steps=len(steps))
    link.stop()
    fc.hard_exit(0)


if __name__ == "__main__":
    main()
