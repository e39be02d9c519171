"""
Waiting capacity: N concurrent waits on one event loop, ours against the http provider's trigger.

* ``vimmerse``: ``VimmerseJobTrigger`` polling ``GET /media/{id}/processing-status`` through the shared
  aiohttp session;
* ``http``: the http provider's ``HttpSensorTrigger`` (what a deferrable ``HttpSensor`` runs) polling the
  sandbox route ``GET /media/{id}/done``, which answers 404 while the job runs (its normal waiting path);
* ``floor``: no trigger at all, the least a poll can cost: per wait a loop doing a bare
  ``session.get(status_url, headers=...)`` and ``await resp.read()`` on one shared aiohttp session, on the
  same route as ``vimmerse``, sleeping the trigger's interval with the trigger's +-10 % jitter. CPU per poll
  ours / floor is what the trigger adds to the request itself;
* ``floor-lockstep``: the same loops without the jitter. Waits started together then poll together, and
  polls that fall together cost less CPU each (fewer event-loop wake-ups and system calls), so this floor
  is lower by what the schedule saves, not the code; real waits, started at different times, are spread.

Both wait on the same kind of jobs, with the same poll interval, against the sandbox in another process
(over HTTPS with ``--https``: a self-signed certificate made at run time). Figures: CPU seconds per
1,000 polls, memory per wait, polls per second, event-loop lag p50/p99/max, and the delay from the job
finishing in the sandbox to the event being yielded.

    python -m benchmarks.waiting_capacity --jobs 1000 --job-seconds 30 --poll-interval 1 --https --variant all
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="vimmerse-bench-"))

from benchmarks.common import (
    SANDBOX_KEY,
    percentile,
    quiet_output,
    report,
    rss_bytes,
    sandbox_process,
    trusted_certificate,
    use_sandbox_connection,
)

POLL_ROUTES = {
    "vimmerse": "GET /media/{id}/processing-status",
    "http": "GET /media/{id}/done",
    "floor": "GET /media/{id}/processing-status",
    "floor-lockstep": "GET /media/{id}/processing-status",
}
#: ``--variant`` names one variant, or several measured in the same run (each against a fresh sandbox).
VARIANT_SETS = {
    "both": ["vimmerse", "http"],
    "vimmerse-floor": ["vimmerse", "floor", "floor-lockstep"],
    "all": ["vimmerse", "http", "floor", "floor-lockstep"],
}


class BarePoll:
    """
    The floor: poll a media's status with a bare request on one shared aiohttp session, nothing else.

    Same route, key header and interval as the trigger; no parsing beyond spotting the end in the raw
    bytes, no logging, no budget. The first wait opens the session, the last one closes it.

    :param job_id: the media's id
    :param poll_interval: seconds between polls
    :param jitter: each sleep is ``poll_interval`` times a random factor within +-``jitter``
    """

    session: Any = None
    users = 0

    def __init__(self, job_id: str, poll_interval: float, jitter: float) -> None:
        self.job_id, self.poll_interval, self.jitter = job_id, poll_interval, jitter

    async def run(self) -> AsyncIterator[Any]:
        """Poll until the status reads ``success``; yield one event shaped like a trigger's."""
        import aiohttp

        cls = type(self)
        if cls.session is None:
            cls.session = aiohttp.ClientSession()
        cls.users += 1
        host = json.loads(os.environ["AIRFLOW_CONN_VIMMERSE_DEFAULT"])["host"]
        url, headers = f"{host}/media/{self.job_id}/processing-status", {"X-Api-Key": SANDBOX_KEY}
        try:
            while True:
                async with cls.session.get(url, headers=headers) as resp:
                    body = await resp.read()
                if b'"success"' in body:
                    break
                await asyncio.sleep(self.poll_interval * random.uniform(1 - self.jitter, 1 + self.jitter))
        finally:
            cls.users -= 1
            if not cls.users:
                await cls.session.close()
                cls.session = None
        yield SimpleNamespace(payload={"status": "success"})


def make_trigger(variant: str, job_id: str, poll_interval: float | None) -> Any:
    """Return the trigger of ``variant`` waiting on one media."""
    if variant.startswith("floor"):
        from airflow_provider_vimmerse.api.waiting import POLL_JITTER

        return BarePoll(job_id, poll_interval or 1.0, jitter=0.0 if variant == "floor-lockstep" else POLL_JITTER)
    if variant == "vimmerse":
        from airflow_provider_vimmerse.triggers.job import VimmerseJobTrigger

        return VimmerseJobTrigger(
            conn_id="vimmerse_default", kind="media", job_id=job_id, deadline=time.time() + 3600,
            poll_interval=poll_interval,
        )  # fmt: skip
    from airflow.providers.http.triggers.http import HttpSensorTrigger

    return HttpSensorTrigger(
        endpoint=f"media/{job_id}/done", http_conn_id="http_bench", headers={"X-Api-Key": SANDBOX_KEY},
        poke_interval=poll_interval or 1.0,
    )  # fmt: skip


async def submit_jobs(count: int) -> dict[str, float]:
    """Create ``count`` media in the sandbox; return id -> submit time."""
    from airflow_provider_vimmerse.api.endpoints import ApiRequest, form_fields
    from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook

    hook, submitted = VimmerseHook(), {}

    async def submit(n: int) -> None:
        req = ApiRequest("POST", "/media", form=form_fields({"prompt": f"bench {n}"}), spends_credits=True)
        submitted[(await hook.arequest(req))["data"]["id"]] = time.time()

    async with hook.async_session():
        for start in range(0, count, 200):
            await asyncio.gather(*(submit(n) for n in range(start, min(count, start + 200))))
    return submitted


async def watch_loop(lags: list[float], done: asyncio.Event) -> None:
    """Wake every 10 ms until ``done`` is set; append how late each wake-up was to ``lags``."""
    tick = 0.01
    while not done.is_set():
        before = time.perf_counter()
        await asyncio.sleep(tick)
        lags.append(max(0.0, time.perf_counter() - before - tick))


async def idle_loop_lag(seconds: float) -> list[float]:
    """Return the ticker's lags on this loop with nothing else to do: the machine's own noise."""
    lags: list[float] = []
    done = asyncio.Event()
    asyncio.get_running_loop().call_later(seconds, done.set)
    await watch_loop(lags, done)
    return lags


async def measure(variant: str, jobs: int, job_seconds: float, poll_interval: float | None) -> dict[str, Any]:
    """Run ``jobs`` waits of ``variant`` on this event loop and return the figures."""
    idle_lags = await idle_loop_lag(3.0)
    submitted = await submit_jobs(jobs)
    gc.collect()  # the submits' garbage is not the waits' to collect
    lags: list[float] = []
    delays: list[float] = []
    events: dict[str, int] = {}
    done = asyncio.Event()

    async def wait(job_id: str) -> None:
        async for event in make_trigger(variant, job_id, poll_interval).run():
            delays.append(time.time() - (submitted[job_id] + job_seconds))
            key = str(event.payload.get("status") if isinstance(event.payload, dict) else event.payload)
            events[key] = events.get(key, 0) + 1
            return

    rss_before, rss_peak = rss_bytes(), 0
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    monitor = asyncio.create_task(watch_loop(lags, done))
    waits = [asyncio.create_task(wait(job_id)) for job_id in submitted]
    limit = time.monotonic() + job_seconds * 3 + 60
    while not all(w.done() for w in waits) and time.monotonic() < limit:
        await asyncio.sleep(0.5)
        rss_peak = max(rss_peak, rss_bytes())
    unfinished = sum(not w.done() for w in waits)
    for w in waits:
        w.cancel()
    await asyncio.gather(*waits, return_exceptions=True)
    cpu, wall = time.process_time() - cpu_before, time.perf_counter() - wall_before
    done.set()
    await monitor
    return {
        "variant": variant,
        "jobs": jobs,
        "job_seconds": job_seconds,
        "poll_interval": "adaptive" if poll_interval is None else poll_interval,
        "events": events,
        "unfinished_at_limit": unfinished,
        "wall_seconds": wall,
        "client_cpu_seconds": cpu,
        "loop_lag_p50_ms": percentile(lags, 0.50) * 1000,
        "loop_lag_p99_ms": percentile(lags, 0.99) * 1000,
        "loop_lag_max_ms": max(lags, default=float("nan")) * 1000,
        "idle_loop_lag_p99_ms": percentile(idle_lags, 0.99) * 1000,
        "memory_per_wait_kb": max(0, rss_peak - rss_before) / jobs / 1024,
        "detection_delay_p50_s": percentile(delays, 0.5),
        "detection_delay_p99_s": percentile(delays, 0.99),
        "detection_delay_max_s": max(delays, default=float("nan")),
    }


def run_variant(variant: str, args: argparse.Namespace) -> dict[str, Any]:
    """Measure one variant against a fresh sandbox and add the request counts from its ledger."""
    from airflow_provider_vimmerse.sandbox.client import SandboxClient

    with sandbox_process(args.job_seconds, https=args.https) as url, quiet_output():
        use_sandbox_connection(url)
        figures = asyncio.run(measure(variant, args.jobs, args.job_seconds, args.poll_interval))
        summary = SandboxClient(url, verify=os.environ.get("SSL_CERT_FILE", True)).ledger_summary()
    polls = summary["by_route"].get(POLL_ROUTES[variant], 0)
    figures["transport"] = "https" if args.https else "http"
    figures["polls"] = polls
    figures["polls_per_job"] = polls / args.jobs
    figures["requests_per_job"] = 1 + polls / args.jobs + 1  # submit + polls + the detail fetch when done
    figures["cpu_seconds_per_1000_polls"] = figures["client_cpu_seconds"] / max(1, polls) * 1000
    figures["polls_per_second"] = polls / figures["wall_seconds"]
    # what the waits ask for while their jobs run: one poll per interval each
    figures["polls_asked_per_second"] = args.jobs / args.poll_interval if args.poll_interval else None
    if variant == "vimmerse":
        from airflow_provider_vimmerse.api.waiting import MAX_POLLS_PER_SECOND

        figures["poll_budget_per_second"] = MAX_POLLS_PER_SECOND
    return figures


def main(argv: list[str] | None = None) -> dict[str, dict[str, Any]]:
    parser = argparse.ArgumentParser(description="N concurrent waits on one event loop")
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--job-seconds", type=float, default=30.0)
    parser.add_argument("--poll-interval", type=float, default=1.0)
    parser.add_argument("--adaptive", action="store_true", help="ours only: the default adaptive polling")
    parser.add_argument("--variant", choices=[*POLL_ROUTES, *VARIANT_SETS], default="both")
    parser.add_argument("--https", action="store_true", help="serve the sandbox over TLS (as the real API)")
    parser.add_argument("--save", action="store_true", help="write docs/benchmarks/<name>.json")
    parser.add_argument("--name", default=None, help="name of the saved figures")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.adaptive:
        args.poll_interval, args.variant = None, "vimmerse"
    if args.https:
        trusted_certificate()  # before aiohttp is imported: it reads the trusted certificates once
    variants = VARIANT_SETS.get(args.variant, [args.variant])
    results = {variant: run_variant(variant, args) for variant in variants}
    name = args.name or f"waiting_capacity_{args.jobs}"
    if len(results) > 1:
        ours, comparison = results["vimmerse"], {}
        if theirs := results.get("http"):
            comparison = {
                "cpu_per_poll_ratio_ours_to_http": ours["cpu_seconds_per_1000_polls"]
                / max(1e-9, theirs["cpu_seconds_per_1000_polls"]),
                "memory_per_wait_ratio_ours_to_http": ours["memory_per_wait_kb"]
                / max(1e-9, theirs["memory_per_wait_kb"]),
                "polls_per_second_ours": ours["polls_per_second"],
                "polls_per_second_http": theirs["polls_per_second"],
            }
        for floor in ("floor", "floor-lockstep"):
            if floor in results:
                key = "cpu_per_poll_ratio_ours_to_" + floor.replace("-", "_")
                comparison[key] = ours["cpu_seconds_per_1000_polls"] / max(
                    1e-9, results[floor]["cpu_seconds_per_1000_polls"]
                )
        figures: dict[str, Any] = {**results, "comparison": comparison}
    else:
        figures = results[variants[0]]
    report(name, figures, save=args.save)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return results


if __name__ == "__main__":
    main()
