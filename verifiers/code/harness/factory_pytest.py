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
    channel = fc.Reporter(plan["nonce"])
    if plan.get("numpy"):
        fc.prepare_numpy()
    import pytest

    class Plugin:
        def pytest_collectreport(self, report):
            if report.failed:
                channel.emit("collect_error", nodeid=report.nodeid, message=_longrepr(report))

        def pytest_collection_finish(self, session):
            channel.emit("collected", ids=[item.nodeid for item in session.items])

        def pytest_runtest_logreport(self, report):
            outcome = report.outcome
            if _getattr(report, "wasxfail", None) is not None:
                outcome = "xfail"
            if report.when == "call" or outcome != "passed":
                channel.emit(
                    "test",
                    nodeid=report.nodeid,
                    when=report.when,
                    outcome=outcome,
                    message="" if outcome == "passed" else _longrepr(report),
                )

        def pytest_sessionfinish(self, session, exitstatus):
            channel.emit("done", exitstatus=int(exitstatus))

    channel.emit("import_start")
    try:
        fc.import_solution()
    except _BaseException as exc:
        channel.emit(
            "import_error", syntax=fc._isinstance(exc, SyntaxError), **fc.describe_exception(exc)
        )
        fc.hard_exit(0)
    channel.emit("import_ok")
    args = ["-q", "-p", "no:cacheprovider", "-o", "addopts=", "--rootdir=.", plan["test_file"]]
    try:
        pytest.main(args, plugins=[Plugin()])
    except _BaseException as exc:
        channel.emit("crash", **fc.describe_exception(exc))
    fc.hard_exit(0)


def _longrepr(rep) -> str:
    try:
        return _str(rep.longreprtext)[-1500:]
    except _BaseException:
        return "<unprintable failure>"


if __name__ == "__main__":
    main()
