"""What the benchmark scripts share: a sandbox in its own process, figures printed and saved."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"
SANDBOX_KEY = "sandbox-bench-key"


def free_port() -> int:
    """Return a free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def sandbox_process(job_seconds: float, credits: int = 10_000_000) -> Iterator[str]:
    """Run the sandbox API in its own process (so it does not share the measured event loop) and yield its URL."""
    port = free_port()
    command = [
        sys.executable, "-m", "airflow_provider_vimmerse.sandbox", "--port", str(port), "--api-key", SANDBOX_KEY,
        "--job-seconds", str(job_seconds), "--credits", str(credits),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{url}/health", timeout=1).read()
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("the sandbox did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def use_sandbox_connection(url: str) -> None:
    """Point the ``vimmerse_default`` connection at the sandbox."""
    os.environ["AIRFLOW_CONN_VIMMERSE_DEFAULT"] = json.dumps(
        {"conn_type": "vimmerse", "host": url, "password": SANDBOX_KEY, "extra": {"timeout": 30, "retries": 3}}
    )


@contextlib.contextmanager
def quiet_output() -> Iterator[None]:
    """Send this process's stdout and stderr (the triggers' progress lines) to /dev/null meanwhile.

    The log lines are still formatted and written, as on a triggerer; only the terminal is spared.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def rss_bytes() -> int:
    """Return this process's resident memory in bytes (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def percentile(values: list[float], fraction: float) -> float:
    """Return the value below which ``fraction`` of ``values`` lie."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(name: str, figures: dict[str, object], save: bool) -> None:
    """Print the figures and, when ``save`` is set, write them to ``docs/benchmarks/<name>.json``."""
    print(f"== {name}")
    for key, value in figures.items():
        shown = f"{value:,.3f}" if isinstance(value, float) else str(value)
        print(f"  {key:<38} {shown}")
    if save:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        (RESULTS_DIR / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n")
