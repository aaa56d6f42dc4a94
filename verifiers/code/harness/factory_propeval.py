"""Property tests, candidate side, INSIDE the sandbox: call the entry point on given inputs.

Only values are reported; the reference outputs never enter this process and the
parent compares.
"""

import factory_common as fc


def main() -> None:
    plan = fc.load_plan()
    report = fc.Reporter(plan["nonce"])
    if plan.get("numpy"):
        fc.prepare_numpy()
    fn = fc.import_entry_point(report, plan["entry_point"])
    fc.call_each(report, fn, plan["inputs"])
    report.emit("done", count=fc._len(plan["inputs"]))
    fc.hard_exit(0)


if __name__ == "__main__":
    main()
