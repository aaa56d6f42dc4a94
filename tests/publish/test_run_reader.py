"""Bad run directories give one clear line (exit 2), never a traceback."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest


def _assert_clean_error(result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize("command", ["publish", "stats", "check-contamination"])
def test_missing_and_empty_dirs(command, tmp_path, cli):
    extra = {"publish": ["--out", tmp_path / "o"], "stats": [],
             "check-contamination": ["--against", tmp_path / "b.jsonl"]}[command]  # fmt: skip
    _assert_clean_error(cli(command, tmp_path / "nope", *extra), "no such run directory")
    (tmp_path / "empty").mkdir()
    _assert_clean_error(cli(command, tmp_path / "empty", *extra), "no run.json")


def test_manifest_only(tmp_path, cli):
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"format_version": 1, "spec_name": "x"}))
    _assert_clean_error(cli("stats", run), "half-written", "no state.sqlite")


def test_garbled_and_newer_manifest(gsm_run, cli):
    manifest = gsm_run / "run.json"
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**data, "format_version": 99}))
    _assert_clean_error(cli("stats", gsm_run), "newer factory")
    manifest.write_text('{"format_version": 1, "spe')
    _assert_clean_error(cli("stats", gsm_run), "unreadable")


def test_truncated_shard_line(gsm_run, tmp_path, cli):
    shard = gsm_run / "rows" / "shard-00000.jsonl"
    text = shard.read_text()
    shard.write_text(text[: len(text) - 40])
    _assert_clean_error(cli("publish", gsm_run, "--out", tmp_path / "o"), "line", "truncated")


def test_rows_in_store_but_no_shards(gsm_run, tmp_path, cli):
    shutil.rmtree(gsm_run / "rows")
    _assert_clean_error(cli("publish", gsm_run, "--out", tmp_path / "o"), "factory resume")


def test_garbled_state_store(gsm_run, cli):
    (gsm_run / "state.sqlite").write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        (gsm_run / f"state.sqlite{suffix}").unlink(missing_ok=True)
    _assert_clean_error(cli("stats", gsm_run), "state store")


def test_run_that_kept_nothing(gsm_run, tmp_path, cli):
    with sqlite3.connect(gsm_run / "state.sqlite") as db:
        db.execute("DELETE FROM rows")
    for shard in (gsm_run / "rows").glob("*.jsonl"):
        shard.unlink()
    assert cli("stats", gsm_run).exit_code == 0  # stats of an empty run still report the funnel
    _assert_clean_error(cli("publish", gsm_run, "--out", tmp_path / "o"), "nothing to publish")
