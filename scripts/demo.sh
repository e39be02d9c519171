#!/usr/bin/env bash
# Run an example DAG (default: the quick start) in a real Airflow (`airflow dags test`, temporary
# AIRFLOW_HOME) and print the MP4 files it wrote under ./output/. Uses the local sandbox API unless
# VIMMERSE_API_KEY is set, in which case it calls the real API (VIMMERSE_API_URL overrides
# https://api.vimmerse.net) and spends real credits.
#   scripts/demo.sh VENV [DAG_ID]
set -euo pipefail
venv=$(realpath "$1")
dag_id=${2:-vimmerse_quickstart}
cd "$(dirname "$0")/.."
repo=$(pwd)
python="$venv/bin/python"

AIRFLOW_HOME=$(mktemp -d -t vimmerse-demo-XXXXXX)
export AIRFLOW_HOME
export AIRFLOW__CORE__DAGS_FOLDER="$repo/example_dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export VIMMERSE_OUTPUT_DIR="$repo/output"
sandbox_pid=""
cleanup() {
  if [ -n "$sandbox_pid" ]; then kill "$sandbox_pid" 2>/dev/null || true; wait "$sandbox_pid" 2>/dev/null || true; fi
  rm -rf "$AIRFLOW_HOME"
}
trap cleanup EXIT

if [ -n "${VIMMERSE_API_KEY:-}" ]; then
  echo "Using the real Vimmerse API (VIMMERSE_API_KEY is set): this spends credits."
  AIRFLOW_CONN_VIMMERSE_DEFAULT=$("$python" -c 'import json, os; print(json.dumps({"conn_type": "vimmerse",
    "host": os.environ.get("VIMMERSE_API_URL", "https://api.vimmerse.net"), "password": os.environ["VIMMERSE_API_KEY"]}))')
else
  port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$venv/bin/vimmerse-sandbox" --port "$port" --api-key sandbox-demo-key --job-seconds 6 \
    > "$AIRFLOW_HOME/sandbox.log" 2>&1 &
  sandbox_pid=$!
  "$python" - "$port" <<'PY'
import sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/health"
for _ in range(100):
    try:
        urllib.request.urlopen(url, timeout=1).read()
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit(f"the sandbox did not start on {url}")
PY
  echo "Sandbox Vimmerse API on http://127.0.0.1:$port (no API key or internet needed)."
  AIRFLOW_CONN_VIMMERSE_DEFAULT=$("$python" -c 'import json, sys; print(json.dumps({"conn_type": "vimmerse",
    "host": f"http://127.0.0.1:{sys.argv[1]}", "password": "sandbox-demo-key",
    "extra": {"web_url": f"http://127.0.0.1:{sys.argv[1]}/app"}}))' "$port")
fi
export AIRFLOW_CONN_VIMMERSE_DEFAULT

"$venv/bin/airflow" db migrate > "$AIRFLOW_HOME/db-migrate.log" 2>&1 || { cat "$AIRFLOW_HOME/db-migrate.log"; exit 1; }
# The pool the content-production DAG caps its jobs with, as its docstring says to create it.
"$venv/bin/airflow" pools set vimmerse_jobs 3 "Vimmerse jobs in flight" --include-deferred > /dev/null
day=$(date -u +%Y-%m-%d)
log="output/demo-$dag_id-$day.log"
echo "Running the DAG $dag_id for $day (log: $log) ..."
mkdir -p output
started=$(date +%s)
if ! "$venv/bin/airflow" dags test "$dag_id" "$day" > "$log" 2>&1; then
  tail -n 60 "$log"
  echo "The DAG run failed; the whole log is $log" >&2
  exit 1
fi
"$python" - "$repo/output/$day" "$log" "$started" <<'PY'
import pathlib, sys
folder, log, started = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), float(sys.argv[3])
if "state=success" not in log.read_text() and "DagRunState.SUCCESS" not in log.read_text():
    sys.exit(f"the DAG run did not succeed; see {log}")
videos = sorted(v for v in folder.glob("*.mp4") if v.stat().st_mtime >= started - 1)
if not videos:
    print(f"The DAG run succeeded; it wrote no video under {folder}. Its log: {log}")
    sys.exit(0)
print("Videos written:")
for video in videos:
    head = video.read_bytes()[4:8]
    print(f"  {video}  ({video.stat().st_size} bytes{', MP4' if head == b'ftyp' else ', NOT an MP4'})")
summary = folder / "summary.json"
if summary.exists() and summary.stat().st_mtime >= started - 1:
    print(f"Summary: {summary}")
PY
