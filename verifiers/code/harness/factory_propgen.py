"""Property tests, reference side, INSIDE the sandbox: draw inputs with hypothesis, run the
reference on them, report inputs and outputs. Runs the REFERENCE only, never the candidate.
"""

import json

import factory_common as fc


def main() -> None:
    plan = fc.load_plan()
    report = fc.Reporter(plan["nonce"])
    import hypothesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st

    env = {"st": st, "hypothesis": hypothesis, "__builtins__": fc.snapshot_builtins()}
    try:
        if plan.get("setup"):
            exec(compile(plan["setup"], "<strategies setup>", "exec"), env)
        spec = plan["strategies"]
        if isinstance(spec, dict):
            strategies = {k: eval(v, env) for k, v in spec.items()}
        else:
            strategies = {f"arg{i}": eval(v, env) for i, v in enumerate(spec)}
    except BaseException as exc:
        report.emit("strategy_error", **fc.describe_exception(exc))
        fc.hard_exit(0)

    drawn = []
    seen = set()

    @hypothesis.seed(plan["seed"])
    @settings(
        max_examples=plan["max_examples"],
        database=None,
        deadline=None,
        derandomize=False,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(**strategies)
    def collect(**kw):
        values = [kw[k] for k in strategies]
        if isinstance(spec, dict):
            item = {"args": fc.encode([]), "kwargs": {k: fc.encode(kw[k]) for k in strategies}}
        else:
            item = {"args": fc.encode(values), "kwargs": {}}
        key = json.dumps(item, sort_keys=True)
        if key not in seen:
            seen.add(key)
            drawn.append(item)

    try:
        collect()
    except BaseException as exc:
        report.emit("strategy_error", **fc.describe_exception(exc))
        fc.hard_exit(0)
    report.emit("inputs", inputs=drawn)

    fn = fc.import_entry_point(report, plan["entry_point"])
    fc.call_each(report, fn, drawn)
    report.emit("done", count=fc._len(drawn))
    fc.hard_exit(0)


if __name__ == "__main__":
    main()
