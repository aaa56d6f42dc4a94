#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what it needs, then lints and tests.
# Usage: bash scripts/test.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --docker
echo "==> ruff"
.venv/bin/ruff check .
echo "==> import boundaries (import-linter)"
.venv/bin/lint-imports
echo "==> pytest"
.venv/bin/python -m pytest -p no:cacheprovider "$@"
