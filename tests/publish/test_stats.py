"""`factory stats` on a run whose truth is known (the scripted solver), and diversity units."""

from __future__ import annotations

import json

import pytest

from factory.publish.diversity import distinct_n, near_duplicate_clusters, openings
from tests.run.scripted_llm import gsm_answers, is_right


def test_stats_json_matches_the_scripted_truth(gsm_run, cli):
    result = cli("stats", gsm_run, "--json")
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    right = sum(is_right(s) for s in list(gsm_answers())[:20])
    assert stats["problems"] == {"total": 20, "done": 20, "dropped": 0, "open": 0}
    assert stats["funnel"] == {
        "problems": {"generated": 20, "done": 20, "kept": right, "published": right},
        # 4 identical answers per problem: one published row per problem (exact duplicates)
        "samples": {"answered": 80, "checked": 80, "passed": 4 * right, "kept": 4 * right,
                    "published": right},
    }  # fmt: skip
    assert stats["duplicate_rows"] == 3 * right
    assert stats["rejections"] == {"verify": {"wrong_answer": 80 - 4 * right}}
    # The scripted solver is all-right or all-wrong per problem.
    assert stats["pass_rates"]["pass@1"] == stats["pass_rates"]["pass@n"] == right / 20
    assert stats["pass_rates"]["distribution"] == {"0/4": 20 - right, "4/4": right}
    assert stats["by_topic"] == {"word problems": {"problems": 20, "rows": right}}
    cost = stats["cost"]
    assert cost["llm_calls"] == 80 and cost["by_role"]["solver"]["calls"] == 80
    # The scripted server listens on 127.0.0.1: nobody was paid, whatever the price table says.
    assert cost["paid_calls"] == 0 and cost["cost_usd"] == 0 and cost["usd_per_kept_row"] == 0
    assert cost["by_role"]["solver"]["providers"] == ["anthropic-compatible (local server)"]
    assert cost["by_provider"]["anthropic-compatible (local server)"]["paid"] is False
    assert stats["diversity"]["texts"] == right
    assert stats["diversity"]["near_duplicate_clusters"] == []


def test_stats_text_report(gsm_run, cli):
    result = cli("stats", gsm_run)
    assert result.exit_code == 0, result.output
    for needle in ("funnel of problems:", "funnel of samples:", "pass@1", "word problems",
                   "per kept row", "distinct-2", "openings"):  # fmt: skip
        assert needle in result.output


@pytest.mark.docker
def test_stats_of_the_replayed_quickstart_say_who_answered_and_what_was_paid(quickstart_run, cli):
    """The quickstart's answers are scripted and replayed: no model, no cost."""
    result = cli("stats", quickstart_run, "--json")
    assert result.exit_code == 0, result.output
    cost = json.loads(result.output)["cost"]
    name = "scripted (replay of quickstart.jsonl)"
    assert cost["llm_calls"] == 24 and cost["paid_calls"] == 0 and cost["cost_usd"] == 0
    assert cost["by_role"]["solver"]["providers"] == [name]
    assert cost["by_provider"][name]["kind"] == "scripted"
    text = cli("stats", quickstart_run).output
    assert f"solver     claude-haiku-4-5 via {name}: 24 calls" in text and "not paid" in text
    assert "$0.0240" not in text and "$0.0000 paid for 0 of 24 LLM calls" in text


@pytest.mark.docker
def test_plots_show_two_funnels_and_the_rejection_reasons(quickstart_run, tmp_path, cli):
    from factory.publish.plots import chart_data
    from factory.publish.run_reader import read_run
    from factory.publish.stats import compute_stats

    result = cli("stats", quickstart_run, "--plots", tmp_path / "plots")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert names == ["funnel.png", "lengths.png", "pass_rates.png", "rejections.png"]
    run = read_run(quickstart_run)
    data = chart_data(run, compute_stats(run))
    # each funnel only narrows, and problems and samples are never in one chart
    for funnel in ("problems", "samples"):
        counts = list(data[funnel].values())
        assert counts == sorted(counts, reverse=True), (funnel, counts)
    assert data["problems"]["generated"] == 12 and data["samples"]["answered"] == 24
    assert data["rejections"] == {
        "verify: no_answer": 6, "verify: parse_error": 2, "verify: tests_failed": 1,
        "verify: wrong_answer": 2,
    }  # fmt: skip


def test_distinct_n_and_openings():
    texts = ["a b c d", "a b c e"]
    assert distinct_n(texts, 1) == 5 / 8
    assert distinct_n(texts, 3) == 3 / 4
    assert distinct_n([], 2) == 0.0
    o = openings(["What is x?", "What is y?", "Find z."])
    assert (o.distinct, o.total, o.top[0]) == (3, 3, ("find z", 1))
    o = openings(["What is the x", "What is the y", "Find z"])
    assert o.top[0] == ("what is the", 2)


def test_near_duplicate_clusters_are_exact_and_deterministic():
    base = "Tom has 12 apples and gives 5 of them to his sister Anna. How many apples does he keep?"
    texts = [
        base,
        base.replace("How many", "how many"),  # normalisation: identical shingles
        base.replace("sister Anna", "brother Ben"),  # Jaccard well below 0.8
        "A train leaves the station at noon travelling at sixty miles per hour toward the city.",
        "A train leaves the station at noon travelling at sixty miles per hour toward the city!",
    ]
    ids = ["p0", "p1", "p2", "p3", "p4"]
    clusters = near_duplicate_clusters(ids, texts, threshold=0.8)
    assert clusters == [["p0", "p1"], ["p3", "p4"]]
    assert near_duplicate_clusters(ids[::-1], texts[::-1], threshold=0.8) == clusters
    assert near_duplicate_clusters(ids, texts, threshold=0.5)[0] == ["p0", "p1", "p2"]


def test_plots_without_matplotlib_is_a_clear_error_or_writes_pngs(gsm_run, tmp_path, cli):
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        result = cli("stats", gsm_run, "--plots", tmp_path / "plots")
        assert result.exit_code == 2 and "pip install" in result.output
        return
    result = cli("stats", gsm_run, "--plots", tmp_path / "plots")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert names == ["funnel.png", "lengths.png", "pass_rates.png", "rejections.png"]
    assert all((tmp_path / "plots" / n).read_bytes()[:4] == b"\x89PNG" for n in names)
