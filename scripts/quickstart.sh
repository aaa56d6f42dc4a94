#!/usr/bin/env bash
# The main job, offline, with no API key, on the shipped default input.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
echo "==> verifying the shipped sample of LLM math answers (problem_specs/samples/math_answers.jsonl)"
.venv/bin/factory verify-file problem_specs/samples/math_answers.jsonl
