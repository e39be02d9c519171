"""
Download: one big output streamed to disk by ``VimmerseHook.download``, against ``curl`` on the same URL.

Reports memory growth during the download (peak RSS minus RSS before) and throughput, both for a file
served by the sandbox (over HTTPS with ``--https``), and the ratio to curl.

    python -m benchmarks.download --size-mb 1024 --https
"""

from __future__ import annotations

import argparse
import os
import shutil
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


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description="stream a big output to disk, against curl")
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--https", action="store_true")
    parser.add_argument("--save", action="store_true")
    args = parser.parse_args(argv)
    if args.https:
        trusted_certificate()
    size = args.size_mb * 1024 * 1024
    with sandbox_process(5, https=args.https) as base, tempfile.TemporaryDirectory() as folder:
        use_sandbox_connection(base)
        url = f"{base}/_sandbox/files/big.bin?size={size}"
        hook_seconds, growth, path = measure_hook(url, Path(folder) / "hook")
        written = path.stat().st_size
        path.unlink()
        curl_seconds = measure_curl(url, Path(folder) / "curl.bin") if shutil.which("curl") else float("nan")
    figures = {
        "size_mib": args.size_mb,
        "transport": "https" if args.https else "http",
        "bytes_written": written,
        "memory_growth_mib": growth / 1024 / 1024,
        "hook_mib_per_second": args.size_mb / hook_seconds,
        "curl_mib_per_second": args.size_mb / curl_seconds,
        "throughput_ratio_hook_to_curl": curl_seconds / hook_seconds,
    }
    report("download", figures, save=args.save)
    return figures


if __name__ == "__main__":
    main()
