"""The `factory` command line, run as a user runs it."""

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from factory import __version__
from factory.cli import app

runner = CliRunner()


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"factory {__version__}"


def test_help_lists_the_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("check-answer", "verify-file", "verifiers"):
        assert command in result.stdout


def test_check_answer_correct_exits_zero():
    result = runner.invoke(app, ["check-answer", r"so \boxed{\frac{1}{2}}", "0.5"])
    assert result.exit_code == 0, result.stdout
    assert result.stdout.startswith("correct")


def test_check_answer_wrong_exits_one_with_the_reason():
    result = runner.invoke(app, ["check-answer", r"\boxed{\pm 2}", "2"])
    assert result.exit_code == 1
    assert result.stdout.startswith("wrong_answer")


def test_check_answer_json_is_a_verdict():
    result = runner.invoke(app, ["check-answer", "--json", "#### 18", "18"])
    data = json.loads(result.stdout)
    assert data["passed"] is True and data["reason"] == "correct"
    assert data["verifier"] == "math" and data["verifier_version"]


def test_unparseable_reference_is_its_own_reason():
    result = runner.invoke(app, ["check-answer", "--json", r"\boxed{7}", r"\frac{1}{"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["reason"] == "reference_error"


def test_verify_file_bad_line_names_file_line_and_field(tmp_path):
    bad = tmp_path / "answers.jsonl"
    bad.write_text('{"id": "a", "candidate": "1", "reference": "1"}\n{"id": "b"}\n')
    result = runner.invoke(app, ["verify-file", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:2: field 'candidate'" in result.stderr


def test_verify_file_missing_file_is_one_line(tmp_path):
    result = runner.invoke(app, ["verify-file", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "factory"
    out = subprocess.run([str(script), "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and __version__ in out.stdout


def test_module_entry_runs():
    out = subprocess.run(
        [sys.executable, "-m", "factory.cli", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0 and __version__ in out.stdout
