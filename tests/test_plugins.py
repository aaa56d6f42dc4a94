"""A third-party package plugs in a verifier through the `factory.verifiers` entry points.

The fixture installs tests/fixtures/plugin_pkg into this very environment with
pip (as a user would), and removes it afterwards. Discovery is checked in fresh
interpreters so nothing is cached from this process.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

PLUGIN_DIR = Path(__file__).parent / "fixtures" / "plugin_pkg"


def _pip(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args],
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def installed_plugin(tmp_path_factory):
    # Build from a copy: setuptools writes build/ and *.egg-info next to the sources.
    src = tmp_path_factory.mktemp("plugin") / "plugin_pkg"
    subprocess.run(["cp", "-r", str(PLUGIN_DIR), str(src)], check=True)
    _pip("install", "--no-deps", str(src))
    yield
    _pip("uninstall", "-y", "factory-plugin-demo")


def _py(code: str, **env: str) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )


def test_installed_plugin_is_found_and_used(installed_plugin):
    out = _py(
        "import json; from verifiers import get_verifier, available_verifiers\n"
        "v = get_verifier('exact_match', case_sensitive=False)\n"
        "print(json.dumps({'names': available_verifiers(),"
        " 'pass': v.verify({'reference': 'Paris'}, 'PARIS').passed,"
        " 'fail': v.verify({'reference': 'Paris'}, 'Lyon').reason}))"
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert "exact_match" in result["names"] and "math" in result["names"]
    assert result["pass"] is True and result["fail"] == "wrong_answer"


def test_plugin_passes_the_conformance_kit(installed_plugin):
    out = _py(
        "from verifiers import get_verifier; from verifiers.testing import run_conformance\n"
        "r = run_conformance(get_verifier('exact_match'))\n"
        "print(r.golden_cases, r.adversarial_candidates)"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0] == "3"


def test_broken_plugin_fails_with_its_name_and_package(installed_plugin):
    out = _py(
        "from verifiers import get_verifier\n"
        "try:\n    get_verifier('broken_demo')\nexcept Exception as e:\n"
        "    print(type(e).__name__, e)"
    )
    assert "PluginError" in out.stdout
    assert "'broken_demo'" in out.stdout and "factory-plugin-demo" in out.stdout


def test_plugins_can_be_switched_off(installed_plugin):
    out = _py(
        "from verifiers import available_verifiers; print(available_verifiers())",
        FACTORY_DISABLE_PLUGIN_AUTOLOAD="1",
    )
    assert "exact_match" not in out.stdout and "math" in out.stdout


def test_cli_lists_the_plugin(installed_plugin):
    out = subprocess.run(
        [sys.executable, "-m", "factory.cli", "verifiers"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "exact_match" in out.stdout.split()
