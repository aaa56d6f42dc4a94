"""Doctor and errors: what is missing, in one readable line naming the fix."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from factory.commands.sandbox import app
from sandbox import build, doctor
from sandbox.errors import SandboxUnavailable
from sandbox.job import Job
from sandbox.pool import SandboxPool

pytestmark = pytest.mark.docker


def _one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and "fix:" in text, text
    return text


def test_dead_docker_host_is_unavailable_with_the_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/dead.sock")
    with pytest.raises(SandboxUnavailable) as err:
        SandboxPool(1, preflight=False)
    text = _one_line(err.value)
    assert "not running" in text and "dead.sock" in text and "DOCKER_HOST" in text


def test_socket_that_does_not_answer(monkeypatch, tmp_path):
    sock = tmp_path / "silent.sock"
    sock.write_text("")  # exists, but no daemon behind it
    monkeypatch.setenv("DOCKER_HOST", f"unix://{sock}")
    problems = doctor.problems()
    assert len(problems) == 1 and "does not answer" in problems[0] and "fix:" in problems[0]


def test_missing_docker_binary(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SandboxUnavailable) as err:
        doctor.check(preflight=False)
    text = _one_line(err.value)
    assert "docker command is not installed" in text and "ensure_docker.sh" in text


def test_absent_image(monkeypatch):
    monkeypatch.setattr(build, "REPOSITORY", "factory-sandbox-absent")
    with pytest.raises(SandboxUnavailable) as err:
        build.resolve_image()
    assert "factory sandbox build" in _one_line(err.value)


def test_cli_doctor_runs_the_preflight():
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    assert "preflight proved" in result.output


def test_cli_doctor_reports_the_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/dead.sock")
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 1 and "fix:" in result.output


def test_build_is_cached_and_tags_the_digest():
    tag = build.build_image("auto")
    assert tag in build.expected_tags()
    assert build.resolve_image() == tag


def test_job_rejects_paths_outside_the_work_dir():
    for bad in ["/etc/passwd", "../x", "a/../../x", ""]:
        with pytest.raises(ValueError):
            Job(files={bad: ""}, argv=["true"])


def test_ensure_docker_is_idempotent_when_docker_runs():
    script = Path(__file__).resolve().parents[2] / "scripts" / "ensure_docker.sh"
    proc = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "docker is ready" in proc.stderr


def test_dockerfile_build_without_registry_names_the_offline_fix():
    if build.registry_reachable():
        assert build.build_image("dockerfile") in build.expected_tags()
        return
    with pytest.raises(SandboxUnavailable) as err:
        build.build_image("dockerfile")
    assert "factory sandbox build --offline" in _one_line(err.value)
