"""
N concurrent ``VimmerseJobTrigger`` waits on one event loop, against the sandbox in another process.

Prints event-loop lag (p50/p99/max), memory per wait, CPU per 1,000 polls, polls per second,
requests per job, and the delay between the sandbox finishing a job and the trigger's event.

    python -m benchmarks.trigger_capacity --jobs 1000 --job-seconds 30 --poll-interval 1
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="vimmerse-bench-"))

from benchmarks.common import (
    percentile,
    quiet_output,
    report,
    rss_bytes,
    sandbox_process,
    use_sandbox_connection,
)


async def measure(jobs: int, job_seconds: float, poll_interval: float | None) -> dict[str, object]:
    from airflow_provider_vimmerse.api.endpoints import ApiRequest, form_fields
    from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
    from airflow_provider_vimmerse.triggers.job import VimmerseJobTrigger

    hook = VimmerseHook()
    submitted: dict[str, float] = {}

    async def submit(n: int) -> None:
        body = await hook.arequest(
            ApiRequest("POST", "/media", form=form_fields({"prompt": f"bench {n}"}), spends_credits=True)
        )
        submitted[body["data"]["id"]] = time.time()

    async with hook.async_session():
        for start in range(0, jobs, 200):
            await asyncio.gather(*(submit(n) for n in range(start, min(jobs, start + 200))))
        lags: list[float] = []
        done = asyncio.Event()

        async def watch_loop() -> None:
            tick = 0.01
            while not done.is_set():
                before = time.perf_counter()
                await asyncio.sleep(tick)
                lags.append(max(0.0, time.perf_counter() - before - tick))

        delays: list[float] = []
        statuses: dict[str, int] = {}

        async def wait(job_id: str) -> None:
            trigger = VimmerseJobTrigger(
                conn_id="vimmerse_default", kind="media", job_id=job_id, deadline=time.time() + 3600,
                poll_interval=poll_interval,
            )  # fmt: skip
            async for event in trigger.run():
                delays.append(time.time() - (submitted[job_id] + job_seconds))
                statuses[event.payload["status"]] = statuses.get(event.payload["status"], 0) + 1

        rss_before = rss_bytes()
        cpu_before, wall_before = time.process_time(), time.perf_counter()
        monitor = asyncio.create_task(watch_loop())
        waits = [asyncio.create_task(wait(job_id)) for job_id in submitted]
        await asyncio.sleep(min(job_seconds / 2, 5))
        rss_during = rss_bytes()
        await asyncio.gather(*waits)
        cpu, wall = time.process_time() - cpu_before, time.perf_counter() - wall_before
        done.set()
        await monitor

    return {
        "jobs": jobs,
        "job_seconds": job_seconds,
        "poll_interval": "adaptive" if poll_interval is None else poll_interval,
        "events": statuses,
        "wall_seconds": wall,
        "loop_lag_p50_ms": percentile(lags, 0.50) * 1000,
        "loop_lag_p99_ms": percentile(lags, 0.99) * 1000,
        "loop_lag_max_ms": max(lags) * 1000 if lags else float("nan"),
        "memory_per_wait_kb": max(0, rss_during - rss_before) / jobs / 1024,
        "client_cpu_seconds": cpu,
        "detection_delay_p50_s": percentile(delays, 0.5),
        "detection_delay_max_s": max(delays) if delays else float("nan"),
    }


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--job-seconds", type=float, default=30.0)
    parser.add_argument("--poll-interval", type=float, default=None, help="fixed seconds; default adaptive")
    parser.add_argument("--save", action="store_true", help="write docs/benchmarks/<name>.json")
    parser.add_argument("--name", default="trigger_capacity", help="name of the saved figures")
    args = parser.parse_args(argv)

    import requests

    with sandbox_process(args.job_seconds) as url, quiet_output():
        use_sandbox_connection(url)
        figures = asyncio.run(measure(args.jobs, args.job_seconds, args.poll_interval))
        ledger = requests.get(f"{url}/_sandbox/ledger", timeout=60).json()
    polls = sum(1 for e in ledger if e["method"] == "GET" and e["path"].endswith("/processing-status"))
    figures["polls_per_job"] = polls / args.jobs
    figures["requests_per_job"] = (polls + args.jobs) / args.jobs + 1  # + submit, + one detail fetch at the end
    figures["cpu_seconds_per_1000_polls"] = float(figures["client_cpu_seconds"]) / max(1, polls) * 1000
    figures["polls_per_second"] = polls / float(figures["wall_seconds"])
    report(args.name, figures, save=args.save)
    return figures


if __name__ == "__main__":
    main()
