#!/usr/bin/env bash
# Resolve each supported Airflow with this package's extras and write constraints/airflow-<version>.txt.
# Arguments: the uv binary, then one <version>[:<extras>] per Airflow (extras default: sandbox,test,docs;
# the Makefile's `lock` passes each venv's own, so the newest also pins OpenLineage's `lineage` extra).
set -euo pipefail
uv=$(realpath "$1"); shift
cd "$(dirname "$0")/.."
for spec in "$@"; do
  version=${spec%%:*}
  extras=sandbox,test,docs
  [[ $spec == *:* ]] && extras=${spec#*:}
  env_dir=$(mktemp -d)
  "$uv" venv -q -p "${PYTHON:-python3}" "$env_dir"
  VIRTUAL_ENV="$env_dir" "$uv" pip install -q "apache-airflow==$version" -e ".[$extras]"
  {
    echo "# Pinned environment for the tests on apache-airflow $version (make lock)."
    VIRTUAL_ENV="$env_dir" "$uv" pip freeze --exclude-editable
  } > "constraints/airflow-$version.txt"
  rm -rf "$env_dir"
  echo "wrote constraints/airflow-$version.txt (extras: $extras)"
done
