#!/usr/bin/env bash
# The main job, offline, with no API key: `factory generate` on the shipped quickstart spec,
# replaying recorded (scripted) LLM responses, verifying with the real math verifier and the
# real Docker sandbox. Installs what it needs first (virtualenv, Docker, sandbox image).
# Usage: bash scripts/quickstart.sh [OUT_DIR]   (default runs/quickstart, replaced each time)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/quickstart}
bash scripts/bootstrap.sh --docker
rm -rf "$out"
echo "==> factory generate problem_specs/quickstart.yaml (recorded responses, no network)"
.venv/bin/factory generate problem_specs/quickstart.yaml --n 12 --out "$out" \
  --llm replay:problem_specs/recorded/quickstart.jsonl
