"""Property tests, candidate side, INSIDE the sandbox: call the entry point on given inputs.

Only values are reported; the reference outputs never enter this process and the
parent compares.
"""

import factory_common as fc

_callable = callable


def main() -> None:
    plan = fc.load_plan()
    report = fc.Reporter(plan["nonce"])
    if plan.get("numpy"):
        fc.prepare_numpy()
    report.emit("import_start")
    try:
        module = fc.import_solution()
    except BaseException as exc:
        report.emit(
            "import_error", syntax=fc._isinstance(exc, SyntaxError), **fc.describe_exception(exc)
        )
        fc.hard_exit(0)
    report.emit("import_ok")
    fn = fc._getattr(module, plan["entry_point"], None)
    if not _callable(fn):
        report.emit("entry_missing", name=plan["entry_point"])
        fc.hard_exit(0)
    fc.call_each(report, fn, plan["inputs"])
    report.emit("done", count=fc._len(plan["inputs"]))
    fc.hard_exit(0)


if __name__ == "__main__":
    main()
