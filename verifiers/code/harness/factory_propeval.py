"""Property tests, candidate side, INSIDE the sandbox: the JUDGE calls the entry point on the
given inputs and reports each value.

The solution runs in its own process (``factory_remote``), forked before the plan is read:
it gets each call's arguments and nothing else (never the nonce, fd 3 or the other inputs'
records). The reference's outputs never enter the sandbox; the parent compares.
"""

import factory_common as fc
import factory_remote as remote


def main() -> None:
    link = remote.start()  # first: the solution's process must never see what follows
    plan = fc.load_plan()
    remote.private_path(".")
    report = fc.Reporter(plan["nonce"])
    report.emit("import_start")
    try:
        started = link.go()
    except remote.CandidateGone:
        fc.hard_exit(0)
    if not started.get("ok"):
        fields = {k: str(started.get(k, ""))[:500] for k in ("type", "message")}
        report.emit("import_error", syntax=bool(started.get("syntax")), **fields)
        link.stop()
        fc.hard_exit(0)
    report.emit("import_ok")
    entry = plan["entry_point"]
    try:
        callable_entry = link.ask({"op": "probe", "n": entry}) is True
    except BaseException:
        callable_entry = False
    if not callable_entry:
        report.emit("entry_missing", name=entry)
        link.stop()
        fc.hard_exit(0)
    fn = remote.by_name(link, entry)
    for i, item in enumerate(plan["inputs"]):
        report.emit("start", i=i)
        try:
            args = fc.decode(item["args"])
            kwargs = {k: fc.decode(x) for k, x in item["kwargs"].items()}
            value = fc.encode(fn(*args, **kwargs))
        except remote.CandidateGone:
            break  # no end record: "the program ended during" this call
        except BaseException as exc:
            described = fc.describe_exception(exc)
            described["type"] = getattr(exc, "remote_type", described["type"])
            report.emit("end", i=i, ok=False, **described)
        else:
            report.emit("end", i=i, ok=True, value=value)
    report.emit("done", count=len(plan["inputs"]))
    link.stop()
    fc.hard_exit(0)


if __name__ == "__main__":
    main()
