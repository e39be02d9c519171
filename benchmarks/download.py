"""
Download: one big output streamed to disk by ``VimmerseHook.download``, against ``curl`` on the same URL.

Both clients fetch the same URL from the same sandbox process (over HTTPS with ``--https``: same TLS
1.3 cipher, HTTP/1.1) and write the file to the same folder. Writing 1 GiB into the page cache costs
more than the download itself, and on a virtual machine its speed depends on what the memory did just
before (pages freed a moment ago by the same process are quick to reuse; pages freed by another process
or seconds ago may have to be faulted in again by the host), so a client measured first, or right after
the other, pays for it. Each client therefore runs in its own block: one untimed download, then
``--rounds`` timed ones back to back, each after ``sync`` with the previous file deleted. Reports the
median throughput of each, every run (the noise), their ratio, and the hook's memory growth (peak RSS
minus RSS before, worst run).

    python -m benchmarks.download --size-mb 1024 --https
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="vimmerse-bench-"))

from benchmarks.common import report, rss_bytes, sandbox_process, trusted_certificate, use_sandbox_connection


def measure_hook(url: str, folder: Path) -> tuple[float, int, Path]:
    """Return (seconds, peak RSS growth in bytes, written path) for one ``VimmerseHook.download``."""
    from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook

    hook = VimmerseHook()
    assert hook.config.api_key  # read the connection before measuring
    before, peak, running = rss_bytes(), [0], [True]

    def sample() -> None:
        while running[0]:
            peak[0] = max(peak[0], rss_bytes())
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    path = hook.download(url, folder, fallback_name="big.bin")
    seconds = time.perf_counter() - started
    running[0] = False
    sampler.join()
    return seconds, max(0, peak[0] - before), Path(path)


def measure_curl(url: str, target: Path) -> float:
    """Return the seconds ``curl`` takes to write the same URL to ``target``."""
    command = ["curl", "--silent", "--fail", "--output", str(target), url]
    if url.startswith("https"):
        command[1:1] = ["--cacert", os.environ["SSL_CERT_FILE"]]
    started = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - started


def run_once(client: str, url: str, folder: Path, size: int) -> tuple[float, int]:
    """Download ``url`` once with ``client`` (``hook`` or ``curl``) into ``folder``; return (seconds, RSS growth)."""
    os.sync()  # start with no dirty pages of the previous run in flight
    if client == "hook":
        seconds, growth, path = measure_hook(url, folder / "hook")
    else:
        path, growth = folder / "curl.bin", 0
        seconds = measure_curl(url, path)
    written = path.stat().st_size
    path.unlink()
    if written != size:
        raise RuntimeError(f"{client} wrote {written} bytes of {size}")
    return seconds, growth


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description="stream a big output to disk, against curl")
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3, help="timed runs of each client, after one untimed")
    parser.add_argument("--https", action="store_true")
    parser.add_argument("--save", action="store_true", help="write docs/benchmarks/download.json")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.https:
        trusted_certificate()
    size = args.size_mb * 1024 * 1024
    clients = ["hook", "curl"] if shutil.which("curl") else ["hook"]
    seconds: dict[str, list[float]] = {client: [] for client in clients}
    growths: list[int] = []
    with sandbox_process(5, https=args.https) as base, tempfile.TemporaryDirectory() as folder:
        use_sandbox_connection(base)
        url = f"{base}/_sandbox/files/big.bin?size={size}"
        for client in clients:
            run_once(client, url, Path(folder), size)  # warm-up, untimed
            for _ in range(args.rounds):
                taken, growth = run_once(client, url, Path(folder), size)
                seconds[client].append(taken)
                if client == "hook":
                    growths.append(growth)
    runs = {client: [args.size_mb / s for s in taken] for client, taken in seconds.items()}
    hook_speed = statistics.median(runs["hook"])
    curl_speed = statistics.median(runs["curl"]) if "curl" in runs else float("nan")
    figures = {
        "size_mib": args.size_mb,
        "transport": "https" if args.https else "http",
        "rounds": args.rounds,
        "bytes_written": size,
        "memory_growth_mib": max(growths) / 1024 / 1024,
        "hook_mib_per_second": hook_speed,
        "curl_mib_per_second": curl_speed,
        "throughput_ratio_hook_to_curl": hook_speed / curl_speed,
        "hook_runs_mib_per_second": runs["hook"],
        "curl_runs_mib_per_second": runs.get("curl", []),
    }
    report("download", figures, save=args.save)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
