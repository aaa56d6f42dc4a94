"""Fixtures of the publishing tests: one real run of the grade-school spec, copied per test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import datasets
import pytest
import typer
from typer.testing import CliRunner

from factory.commands.preferences import register as register_preferences
from factory.commands.publish import register
from factory.testing.anthropic_server import AnthropicTestServer
from tests.publish.quickstart import make_quickstart_run
from tests.run.scripted_llm import GSM_SPEC, gsm_responder

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def gsm_run_master(tmp_path_factory) -> Path:
    """A real `factory generate` run: 20 grade-school problems, 4 samples, scripted answers."""
    out = tmp_path_factory.mktemp("runs") / "gsm"
    with AnthropicTestServer(responder=gsm_responder) as server:
        result = subprocess.run(
            [sys.executable, "-m", "factory.cli", "generate", str(GSM_SPEC), "--n", "20",
             "--out", str(out), "--llm", f"anthropic:{server.base_url}", "--quiet"],
            capture_output=True, text=True, timeout=300, cwd=REPO,
            env={**os.environ, "ANTHROPIC_API_KEY": "test-key"},
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture
def gsm_run(gsm_run_master, tmp_path) -> Path:
    """A private copy of the run (tests write contamination.json, excluded.json)."""
    copy = tmp_path / "run"
    shutil.copytree(gsm_run_master, copy)
    return copy


@pytest.fixture
def cli():
    """Invoke the publishing commands (and `preferences`) through typer, as factory/cli.py
    does."""
    app = typer.Typer()
    register(app)
    register_preferences(app)

    @app.callback()
    def main() -> None:
        """Test app (a callback keeps typer in multi-command mode)."""

    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, [str(a) for a in args])

    return invoke


@pytest.fixture
def load_published(tmp_path):
    """datasets.load_dataset with a cache of this test's own: with the shared cache, a
    freshly published directory was once answered with another test's cached rows."""

    def load(path: Path, config: str | None = None):
        return datasets.load_dataset(str(path), config, cache_dir=str(tmp_path / "hf-cache"))

    return load


@pytest.fixture(scope="session")
def quickstart_run_master(tmp_path_factory) -> Path:
    """The README's quickstart run (see tests/publish/quickstart.py)."""
    return make_quickstart_run(tmp_path_factory.mktemp("runs") / "quickstart")


@pytest.fixture
def quickstart_run(quickstart_run_master, tmp_path) -> Path:
    """A private copy of the quickstart run."""
    copy = tmp_path / "quickstart"
    shutil.copytree(quickstart_run_master, copy)
    return copy
