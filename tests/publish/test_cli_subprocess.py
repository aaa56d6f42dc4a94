"""The commands through `python -m factory.cli`, as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_stats_publish_and_check_through_the_real_cli(gsm_run, tmp_path):
    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "factory.cli", *map(str, args)],
            capture_output=True, text=True, cwd=REPO, timeout=120,
        )  # fmt: skip

    stats = run("stats", gsm_run, "--json")
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["funnel"]["problems"]["generated"] == 20
    bench = tmp_path / "b.jsonl"
    bench.write_text(json.dumps({"question": "nothing like the run"}) + "\n")
    checked = run("check-contamination", gsm_run, "--against", bench)
    assert checked.returncode == 0, checked.stderr
    published = run("publish", gsm_run, "--out", tmp_path / "ds")
    assert published.returncode == 0, published.stderr
    assert (tmp_path / "ds" / "README.md").is_file()
    bad = run("stats", tmp_path / "nowhere")
    assert (
        bad.returncode == 2 and bad.stderr.startswith("error: ") and "Traceback" not in bad.stderr
    )
