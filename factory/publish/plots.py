"""PNG charts of a run: the two funnels, rejection reasons, pass rates and lengths.

matplotlib is optional (the ``plots`` extra); without it, asking for plots is a
clear PublishError, not an ImportError traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from factory.publish.dedup import publishable_rows
from factory.publish.diversity import words
from factory.publish.errors import PublishError
from factory.publish.run_reader import RunData
from factory.publish.stats import RunStats, unique_problems


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise PublishError(
            "--plots needs matplotlib: pip install 'factory[plots]' (or pip install matplotlib)"
        ) from None
    # Agg: no display needed, and the same bytes on every machine for the same data.
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def chart_data(run: RunData, stats: RunStats) -> dict[str, dict[str, int]]:
    """What each count chart shows, by chart: problems funnel, samples funnel, rejection
    reasons (``stage: reason``) and problems per number of passing samples."""
    return {
        "problems": dict(stats.funnel["problems"]),
        "samples": dict(stats.funnel["samples"]),
        "rejections": {
            f"{stage}: {reason}": n
            for stage, reasons in stats.rejections.items()
            for reason, n in reasons.items()
        },
        "pass_rates": dict(stats.pass_rates["distribution"]),
    }


def _integer_axis(axis: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    # Counts are whole numbers: no 2.5-problem ticks.
    axis.set_major_locator(MaxNLocator(integer=True))


def _bars(ax: Any, data: dict[str, int], color: str, title: str, xlabel: str) -> None:
    labels = list(data)[::-1]  # first stage on top
    ax.barh(labels, [data[k] for k in labels], color=color)
    for y, label in enumerate(labels):
        ax.annotate(str(data[label]), (data[label], y), xytext=(3, 0),
                    textcoords="offset points", va="center")  # fmt: skip
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    _integer_axis(ax.xaxis)


def write_plots(run: RunData, stats: RunStats, out: Path) -> list[Path]:
    """funnel.png (problems and samples, side by side), rejections.png, pass_rates.png and
    lengths.png in ``out``; returns their paths."""
    plt = _pyplot()
    out.mkdir(parents=True, exist_ok=True)
    data = chart_data(run, stats)
    paths = []

    fig, (problems, samples) = plt.subplots(1, 2, figsize=(11, 4))
    _bars(problems, data["problems"], "#4c72b0", "problems", "problems")
    _bars(samples, data["samples"], "#55a868", "solver samples", "samples")
    fig.suptitle(f"{stats.spec_name}: funnels")
    paths.append(_save(plt, fig, out / "funnel.png"))

    fig, ax = plt.subplots(figsize=(7, 4))
    if data["rejections"]:
        _bars(ax, data["rejections"], "#c44e52", "why samples were rejected", "samples")
    else:
        ax.set_title("why samples were rejected: nothing was rejected")
        ax.set_axis_off()
    paths.append(_save(plt, fig, out / "rejections.png"))

    fig, ax = plt.subplots(figsize=(7, 4))
    dist = data["pass_rates"]
    ax.bar(list(dist), list(dist.values()), color="#55a868")
    ax.set_title(
        f"passing samples per problem (pass@1 {stats.pass_rates['pass@1']}, "
        f"pass@n {stats.pass_rates['pass@n']})"
    )
    ax.set_xlabel("passed / samples")
    ax.set_ylabel("problems")
    _integer_axis(ax.yaxis)
    paths.append(_save(plt, fig, out / "pass_rates.png"))

    published, _ = publishable_rows(run)
    _, statements = unique_problems(published)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.hist([len(words(s)) for s in statements] or [0], bins=20, color="#8172b2")
    left.set_title("problem length (words)")
    left.set_ylabel("problems")
    right.hist(
        [len(words(str(r.get("solution", "")))) for r in published] or [0],
        bins=20,
        color="#c44e52",
    )
    right.set_title("solution length (words)")
    right.set_ylabel("rows")
    for ax in (left, right):
        _integer_axis(ax.yaxis)
    paths.append(_save(plt, fig, out / "lengths.png"))
    return paths


def _save(plt: Any, fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
