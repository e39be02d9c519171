#!/usr/bin/env bash
# Run the test suite in one pinned environment. tests/conftest.py gives Airflow a temporary home.
set -euo pipefail
venv=$(realpath "$1"); shift
cd "$(dirname "$0")/.."
echo "== pytest on $("$venv/bin/python" -c 'import airflow; print("apache-airflow", airflow.__version__)')"
"$venv/bin/python" -m pytest "$@"
