"""PNG charts of a run: the funnel, pass rates and length distributions.

matplotlib is optional (the ``plots`` extra); without it, asking for plots is a
clear PublishError, not an ImportError traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def write_plots(run: RunData, stats: RunStats, out: Path) -> list[Path]:
    """funnel.png, pass_rates.png and lengths.png in ``out``; returns their paths."""
    plt = _pyplot()
    out.mkdir(parents=True, exist_ok=True)
    paths = []

    fig, ax = plt.subplots(figsize=(7, 4))
    stages = list(stats.funnel)
    ax.barh(stages[::-1], [stats.funnel[s] for s in stages][::-1], color="#4c72b0")
    ax.set_title(f"{stats.spec_name}: funnel (problems, then samples)")
    ax.set_xlabel("count")
    paths.append(_save(plt, fig, out / "funnel.png"))

    fig, ax = plt.subplots(figsize=(7, 4))
    dist = stats.pass_rates["distribution"]
    ax.bar(list(dist), list(dist.values()), color="#55a868")
    ax.set_title(
        f"verified samples per problem (pass@1 {stats.pass_rates['pass@1']}, "
        f"pass@n {stats.pass_rates['pass@n']})"
    )
    ax.set_xlabel("verified / samples")
    ax.set_ylabel("problems")
    paths.append(_save(plt, fig, out / "pass_rates.png"))

    published = run.published_rows()
    _, statements = unique_problems(published)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.hist([len(words(s)) for s in statements] or [0], bins=20, color="#8172b2")
    left.set_title("problem length (words)")
    right.hist(
        [len(words(str(r.get("solution", "")))) for r in published] or [0],
        bins=20,
        color="#c44e52",
    )
    right.set_title("solution length (words)")
    paths.append(_save(plt, fig, out / "lengths.png"))
    return paths


def _save(plt: Any, fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
