#!/usr/bin/env bash
# Lint (ruff), format check (ruff format) and type check (mypy), configured in pyproject.toml.
set -euo pipefail
venv=$(realpath "$1")
cd "$(dirname "$0")/.."
"$venv/bin/ruff" check .
"$venv/bin/ruff" format --check .
"$venv/bin/mypy"
