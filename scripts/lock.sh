#!/usr/bin/env bash
# Resolve each supported Airflow with this package's extras and write constraints/airflow-<version>.txt.
set -euo pipefail
uv=$(realpath "$1"); shift
cd "$(dirname "$0")/.."
for version in "$@"; do
  env_dir=$(mktemp -d)
  "$uv" venv -q -p "${PYTHON:-python3}" "$env_dir"
  VIRTUAL_ENV="$env_dir" "$uv" pip install -q "apache-airflow==$version" -e ".[sandbox,test,docs]"
  {
    echo "# Pinned environment for the tests on apache-airflow $version (make lock)."
    VIRTUAL_ENV="$env_dir" "$uv" pip freeze --exclude-editable
  } > "constraints/airflow-$version.txt"
  rm -rf "$env_dir"
  echo "wrote constraints/airflow-$version.txt"
done
