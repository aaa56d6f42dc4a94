#!/usr/bin/env bash
# Install what factory needs on this machine, idempotently:
#   - a virtualenv in .venv with factory and its dev tools (re-installed when pyproject.toml changes)
#   - with --docker: the Docker engine running and the sandbox image built (offline-capable)
# Usage: bash scripts/bootstrap.sh [--docker]
set -euo pipefail
cd "$(dirname "$0")/.."

want_docker=0
for arg in "$@"; do
  case "$arg" in
    --docker) want_docker=1 ;;
    *) echo "bootstrap.sh: unknown option $arg (known: --docker)" >&2; exit 2 ;;
  esac
done

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "==> creating virtualenv .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.factory-installed
want=$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "==> installing factory and its dev tools into .venv"
  .venv/bin/python -m pip install --disable-pip-version-check -q --upgrade pip
  # The CPU build of torch first, so the `rl` extra's torch requirement is already met.
  .venv/bin/python -m pip install --disable-pip-version-check -q 'torch==2.13.0'
  .venv/bin/python -m pip install --disable-pip-version-check -q -e '.[dev,rl]'
  echo "$want" > "$stamp"
fi

if [ "$want_docker" = 1 ]; then
  bash scripts/ensure_docker.sh
  echo "==> building the sandbox image (skipped when the current digest exists)"
  .venv/bin/factory sandbox build
fi
