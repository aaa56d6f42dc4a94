"""Runs pytest-style tests INSIDE the sandbox as the JUDGE, with a plugin reporting on fd 3.

The solution runs in a second process (``factory_remote``), forked before anything of the
job is read. pytest collects the test file BEFORE the solution starts (no conftest, no
plugin autoloading, no cache, importlib import mode), the test file is deleted before the
solution starts, and the tests import a stand-in ``solution`` module whose functions and
classes are calls into the solution's process. The solution never shares a process with
pytest, the test code, the nonce or fd 3, so it cannot rewrite the tests, patch pytest or
forge a report.
"""

import contextlib
import os

import factory_common as fc
import factory_remote as remote


def main() -> None:
    link = remote.start()  # first: the solution's process must never see what follows
    plan = fc.load_plan()
    remote.private_path(".")
    channel = fc.Reporter(plan["nonce"])
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    import sys

    import pytest

    sys.modules["solution"] = remote.solution_module(
        link, plan["solution_names"], plan["solution_imports"]
    )
    test_file = os.path.abspath(plan["test_file"])

    class Plugin:
        def pytest_collectreport(self, report):
            if report.failed:
                channel.emit("collect_error", nodeid=report.nodeid, message=_longrepr(report))

        def pytest_collection_finish(self, session):
            channel.emit("collected", ids=[item.nodeid for item in session.items])
            # Collected: the tests are in memory. Only now may the solution start.
            with contextlib.suppress(OSError):
                os.remove(test_file)
            channel.emit("import_start")
            try:
                started = link.go()
            except remote.CandidateGone:
                fc.hard_exit(0)
            if not started.get("ok"):
                fields = {k: str(started.get(k, ""))[:500] for k in ("type", "message")}
                channel.emit("import_error", syntax=bool(started.get("syntax")), **fields)
                link.stop()
                fc.hard_exit(0)
            channel.emit("import_ok")

        def pytest_runtest_logreport(self, report):
            outcome = report.outcome
            if getattr(report, "wasxfail", None) is not None:
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

    args = [
        "-q", "-p", "no:cacheprovider", "--noconftest", "--import-mode=importlib",
        "-o", "addopts=", "--rootdir=.", "-p", "no:warnings", "--tb=short", test_file,
    ]  # fmt: skip
    try:
        pytest.main(args, plugins=[Plugin()])
    except BaseException as exc:
        channel.emit("crash", **fc.describe_exception(exc))
    link.stop()
    fc.hard_exit(0)


def _longrepr(rep) -> str:
    try:
        return str(rep.longreprtext)[-1500:]
    except BaseException:
        return "<unprintable failure>"


if __name__ == "__main__":
    main()
