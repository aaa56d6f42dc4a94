"""Runs pytest-style tests INSIDE the sandbox with a plugin reporting each test on fd 3.

This style is only as strong as in-process reporting: pytest and the candidate
share a process, so a hostile solution could tamper with pytest itself. The parent
requires a record for every collected test, each passed, and the expected test names.
"""

import factory_common as fc

_str = str
_getattr = getattr
_BaseException = BaseException


def main() -> None:
    plan = fc.load_plan()
    report = fc.Reporter(plan["nonce"])
    if plan.get("numpy"):
        fc.prepare_numpy()
    import pytest

    class Plugin:
        def pytest_collectreport(self, report_):
            if report_.failed:
                report.emit("collect_error", nodeid=report_.nodeid, message=_longrepr(report_))

        def pytest_collection_finish(self, session):
            report.emit("collected", ids=[item.nodeid for item in session.items])

        def pytest_runtest_logreport(self, report_):
            outcome = report_.outcome
            if _getattr(report_, "wasxfail", None) is not None:
                outcome = "xfail"
            if report_.when == "call" or outcome != "passed":
                report.emit(
                    "test",
                    nodeid=report_.nodeid,
                    when=report_.when,
                    outcome=outcome,
                    message="" if outcome == "passed" else _longrepr(report_),
                )

        def pytest_sessionfinish(self, session, exitstatus):
            report.emit("done", exitstatus=int(exitstatus))

    report.emit("import_start")
    try:
        fc.import_solution()
    except _BaseException as exc:
        report.emit(
            "import_error", syntax=fc._isinstance(exc, SyntaxError), **fc.describe_exception(exc)
        )
        fc.hard_exit(0)
    report.emit("import_ok")
    args = ["-q", "-p", "no:cacheprovider", "-o", "addopts=", "--rootdir=.", plan["test_file"]]
    try:
        pytest.main(args, plugins=[Plugin()])
    except _BaseException as exc:
        report.emit("crash", **fc.describe_exception(exc))
    fc.hard_exit(0)


def _longrepr(rep) -> str:
    try:
        return _str(rep.longreprtext)[-1500:]
    except _BaseException:
        return "<unprintable failure>"


if __name__ == "__main__":
    main()
