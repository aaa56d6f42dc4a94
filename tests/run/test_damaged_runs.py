"""Run directories in trouble, through the real CLI: damaged state is refused (never silently
started over), a full disk stops in one line with the resume command, and the paths a user
gets wrong are named."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from factory.testing.anthropic_server import AnthropicTestServer
from tests.run.killing import kill_when, start_cli
from tests.run.scripted_llm import (
    GSM_SPEC,
    REPO,
    code_responder,
    gsm_responder,
    rows_of,
    run_cli,
)

DONE = "SELECT COUNT(*) FROM problems WHERE state = 'done'"


def _args(server, out, *extra, spec=GSM_SPEC, n=20):
    return [
        "generate", str(spec), "--n", str(n), "--out", str(out),
        "--llm", f"anthropic:{server.base_url}", "--json-logs", "--concurrency", "3", *extra,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def killed_run(tmp_path_factory):
    """A run killed -9 mid-way (its state partly in the WAL), and an uninterrupted one."""
    root = tmp_path_factory.mktemp("killed")
    with AnthropicTestServer(responder=gsm_responder, delay_s=0.1) as server:
        whole = run_cli(*_args(server, root / "whole"))
        assert whole.returncode == 0, whole.stderr
        kill_when(start_cli(*_args(server, root / "killed")), root / "killed", DONE, 6)
    assert (root / "killed" / "state.sqlite-wal").is_file()
    return root / "killed", root / "whole"


def _rows(run_dir: Path) -> list[dict]:
    """Kept rows, without the LLM server's address (each test starts its own server)."""
    rows = rows_of(run_dir)
    for row in rows:
        row["provenance"].pop("provider")
    return rows


def _damage(killed_run, tmp_path, how) -> Path:
    run = tmp_path / "run"
    shutil.copytree(killed_run[0], run)
    state = run / "state.sqlite"
    if how == "lost":
        for path in run.glob("state.sqlite*"):
            path.unlink()
    elif how == "zeroed":
        state.write_bytes(b"")
        for path in run.glob("state.sqlite-*"):
            path.unlink()
    elif how == "wal_lost":
        for path in run.glob("state.sqlite-*"):
            path.unlink()
    elif how == "malformed":  # (with its WAL, a good page 1 there would mask a bad one)
        for path in run.glob("state.sqlite-*"):
            path.unlink()
        with state.open("r+b") as fh:
            fh.write(b"this is no sqlite database" * 4)
    return run


@pytest.mark.parametrize("how", ["lost", "zeroed", "wal_lost", "malformed"])
def test_damaged_state_is_refused_with_what_to_do_and_nothing_is_sent(killed_run, tmp_path, how):
    run = _damage(killed_run, tmp_path, how)
    with AnthropicTestServer(responder=gsm_responder) as server:
        result = run_cli("resume", str(run), "--llm", f"anthropic:{server.base_url}")
        assert server.requests == []
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "state.sqlite" in lines[0] and "llm_cache.sqlite" in lines[0]
    assert "restore" in lines[0] and "Traceback" not in result.stderr
    assert not (run / "summary.json").exists() or json.loads((run / "summary.json").read_text())
    if how == "lost":
        assert not (run / "state.sqlite").exists(), "nothing is created in the lost store's place"


def test_the_same_run_resumes_when_its_state_is_intact(killed_run, tmp_path):
    run = _damage(killed_run, tmp_path, "intact")
    with AnthropicTestServer(responder=gsm_responder) as server:
        result = run_cli("resume", str(run), "--llm", f"anthropic:{server.base_url}", "--quiet")
    assert result.returncode == 0, result.stderr
    assert _rows(run) == _rows(killed_run[1])


def test_a_new_run_can_reuse_the_paid_responses_of_a_damaged_one(killed_run, tmp_path):
    # What the refusal suggests: a new directory with the damaged run's cache pays nothing twice.
    damaged = _damage(killed_run, tmp_path, "lost")
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    for path in damaged.glob("llm_cache.sqlite*"):
        shutil.copy(path, fresh / path.name)
    with AnthropicTestServer(responder=gsm_responder) as server:
        result = run_cli(*_args(server, fresh))
        paid = len(server.requests_to("/v1/messages"))
    assert result.returncode == 0, result.stderr
    cached = json.loads(result.stdout.splitlines()[-1])["candidates"]["cache_hits_this_session"]
    assert cached > 0 and paid == 80 - cached
    assert _rows(fresh) == _rows(killed_run[1])


@pytest.fixture
def small_disk(tmp_path):
    """A directory on a tmpfs of the given size (the tests run as root, as CI does)."""
    mounts: list[Path] = []

    def make(size_kb: int) -> Path:
        where = tmp_path / f"disk{len(mounts)}"
        where.mkdir()
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(where)], check=True
        )
        mounts.append(where)
        return where

    yield make
    for where in mounts:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _size_kb(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) // 1024


def test_a_full_disk_stops_in_one_line_with_the_resume_command(killed_run, tmp_path, small_disk):
    whole = killed_run[1]
    disk = small_disk(max(64, _size_kb(whole) // 3))
    run = disk / "run"
    with AnthropicTestServer(responder=gsm_responder) as server:
        full = run_cli(*_args(server, run))
        assert full.returncode == 2, full.stdout + full.stderr
        lines = full.stderr.strip().splitlines()
        assert len(lines) == 1, full.stderr
        assert lines[0].startswith("error: the disk is full")
        assert lines[0].endswith(f"factory resume {run}")
        # Nothing was lost: the run resumed where there is room ends as an uninterrupted one.
        moved = tmp_path / "moved"
        shutil.copytree(run, moved)
        resumed = run_cli("resume", str(moved), "--llm", f"anthropic:{server.base_url}",
                          "--quiet")  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert _rows(moved) == _rows(whole)


def test_a_read_only_run_directory_is_named_as_such(killed_run, tmp_path):
    run = _damage(killed_run, tmp_path, "intact")
    ro = tmp_path / "ro"
    ro.mkdir()
    subprocess.run(["mount", "--bind", str(run), str(ro)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(ro)], check=True)
        result = run_cli("resume", str(ro), "--llm", "anthropic:http://127.0.0.1:9")
    finally:
        subprocess.run(["umount", str(ro)], check=False)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "read-only" in lines[0]


def test_out_naming_a_file_is_one_line(llm_server, tmp_path):
    taken = tmp_path / "notes.txt"
    taken.write_text("mine\n")
    result = run_cli(*_args(llm_server, taken))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {taken} is a file, not a run directory; choose another --out"
    ]
    assert taken.read_text() == "mine\n" and llm_server.requests == []


def test_another_spec_s_run_directory_is_named_without_suggesting_resume(llm_server, tmp_path):
    out = tmp_path / "run"
    assert run_cli(*_args(llm_server, out, n=2)).returncode == 0
    other = REPO / "problem_specs" / "algebra_number_theory.yaml"
    for extra in ((), ("--resume",)):
        result = run_cli(*_args(llm_server, out, *extra, spec=other, n=2))
        assert result.returncode == 2
        assert "holds a run of another spec ('gsm8k_distill'" in result.stderr
        assert "--resume" not in result.stderr and f"factory resume {out}" in result.stderr


@pytest.mark.docker
def test_a_run_killed_during_the_sandbox_preflight_resumes(tmp_path):
    spec = REPO / "problem_specs" / "python_functions.yaml"
    out = tmp_path / "run"
    with AnthropicTestServer(responder=code_responder()) as server:
        proc = start_cli(*_args(server, out, spec=spec, n=4))
        # Killed once the run is remembered but before its first step (run.json) is written.
        deadline = time.monotonic() + 60
        while not (out / "invocation.json").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
        assert not (out / "run.json").exists(), "the kill must land before the run's first step"
        resumed = run_cli("resume", str(out), "--json-logs")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout.splitlines()[-1])["kept_rows"] == 8
