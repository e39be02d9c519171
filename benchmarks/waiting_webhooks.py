"""
Webhook-driven waits against polling, side by side in one run: requests per job and wake-up delay.

N media jobs wait by polling (``VimmerseJobTrigger`` with the default adaptive schedule) and N more,
submitted with a signed ``webhook_url``, wait woken by webhooks, all on one event loop against the
sandbox in another process (over HTTPS with ``--https``). The sandbox delivers each webhook to a receiver
in this process that checks the signature and records the hint in memory, in place of the XCom that the
provider's receiver writes in Airflow; the webhook trigger reads it every ``--check-interval`` seconds
(the default of ``[vimmerse] webhook_check_interval``) and counts its reads: the cost on Airflow's side.

Figures per variant: requests per job (counted per job id in the sandbox's ledger), delay from the job's
end (and, for webhooks, from the delivery) to the event, and for webhooks the hint reads per wait per
minute.

    python -m benchmarks.waiting_webhooks --jobs 50 --job-seconds 300 --https
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="vimmerse-bench-"))

from benchmarks.common import (
    free_port,
    percentile,
    quiet_output,
    report,
    sandbox_process,
    trusted_certificate,
    use_sandbox_connection,
)

SECRET = secrets.token_urlsafe(32)


class Receiver:
    """The webhook receiver in this process: signature checked, hint kept in memory (Airflow keeps it in an XCom)."""

    def __init__(self) -> None:
        self.hints: dict[str, dict[str, Any]] = {}
        self.delivered_at: dict[str, float] = {}
        self.refused = 0
        self.hint_reads = 0

    async def handle(self, request: Any) -> Any:
        from aiohttp import web

        from airflow_provider_vimmerse.api.webhooks import WebhookError, WebhookTarget, parse_delivery

        try:
            target = WebhookTarget.from_query(request.query, SECRET)
            delivery = parse_delivery(target.kind, await request.read())
        except WebhookError:
            self.refused += 1
            return web.json_response({"recorded": False}, status=403)
        now = time.time()
        self.hints[target.task_id] = delivery.hint(now)
        self.delivered_at.setdefault(delivery.job_id, now)
        return web.json_response({"recorded": True})


def hinted_trigger(receiver: Receiver, job_id: str, task_id: str, check_interval: float) -> Any:
    """Return a webhook-woken trigger whose hint comes from ``receiver`` instead of Airflow's XCom."""
    from airflow_provider_vimmerse.triggers.job import VimmerseJobTrigger

    class BenchTrigger(VimmerseJobTrigger):
        def hints_unavailable(self) -> str | None:
            return None

        async def read_hint(self) -> Any:
            receiver.hint_reads += 1
            return receiver.hints.get(task_id)

    target = {"dag_id": "bench", "run_id": "run", "task_id": task_id, "map_index": -1}
    return BenchTrigger(
        conn_id="vimmerse_default", kind="media", job_id=job_id, deadline=time.time() + 7200,
        webhook={**target, "check_interval": check_interval},
    )  # fmt: skip


async def submit_jobs(count: int, webhook_base: str | None) -> dict[str, tuple[str, float]]:
    """Create ``count`` media (with signed webhook URLs when ``webhook_base`` is set); return id -> (task, time)."""
    from airflow_provider_vimmerse.api.endpoints import ApiRequest, form_fields
    from airflow_provider_vimmerse.api.webhooks import WebhookTarget
    from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook

    hook, submitted = VimmerseHook(), {}

    async def submit(n: int) -> None:
        fields: dict[str, Any] = {"prompt": f"bench {n}"}
        task_id = f"wait_{n}"
        if webhook_base:
            target = WebhookTarget("media", "bench", "run", task_id, try_number=1, expires_at=int(time.time()) + 7200)
            fields["webhook_url"] = target.url(webhook_base, SECRET)
        req = ApiRequest("POST", "/media", form=form_fields(fields), spends_credits=True)
        submitted[(await hook.arequest(req))["data"]["id"]] = (task_id, time.time())

    async with hook.async_session():
        await asyncio.gather(*(submit(n) for n in range(count)))
    return submitted


async def measure(jobs: int, job_seconds: float, check_interval: float) -> dict[str, Any]:
    """Run ``jobs`` polling waits and ``jobs`` webhook waits together; return the figures of each."""
    from aiohttp import web

    from airflow_provider_vimmerse.api.webhooks import RECEIVER_PATH
    from airflow_provider_vimmerse.triggers.job import VimmerseJobTrigger

    receiver = Receiver()
    app = web.Application()
    app.router.add_post(RECEIVER_PATH, receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    polled = await submit_jobs(jobs, None)
    hinted = await submit_jobs(jobs, f"http://127.0.0.1:{port}")
    ended: dict[str, float] = {}
    events: dict[str, Counter[str]] = {"polling": Counter(), "webhooks": Counter()}

    async def wait(variant: str, trigger: Any, job_id: str) -> None:
        if variant == "webhooks":
            # a task defers at any moment relative to its job's end: without this offset every wait
            # would read its hint in step with the jobs (all submitted together) and flatter the delay
            await asyncio.sleep(random.uniform(0, check_interval))
        async for event in trigger.run():
            ended[job_id] = time.time()
            events[variant][event.payload["status"]] += 1
            return

    started = time.time()
    waits = [
        wait("polling", VimmerseJobTrigger(conn_id="vimmerse_default", kind="media", job_id=job_id,
                                           deadline=time.time() + 7200), job_id)
        for job_id in polled
    ] + [
        wait("webhooks", hinted_trigger(receiver, job_id, task_id, check_interval), job_id)
        for job_id, (task_id, _) in hinted.items()
    ]  # fmt: skip
    await asyncio.wait_for(asyncio.gather(*waits), timeout=job_seconds * 3 + 900)
    wall = time.time() - started
    await runner.cleanup()

    def after_end(group: dict[str, tuple[str, float]]) -> list[float]:
        return [ended[job_id] - (submitted + job_seconds) for job_id, (_, submitted) in group.items()]

    after_delivery = [
        ended[job_id] - receiver.delivered_at[job_id] for job_id in hinted if job_id in receiver.delivered_at
    ]
    wait_minutes = sum(ended[job_id] - started for job_id in hinted) / 60
    return {
        "polled": polled,
        "hinted": hinted,
        "events": {variant: dict(counter) for variant, counter in events.items()},
        "wall_seconds": wall,
        "delay_after_job_end": {"polling": after_end(polled), "webhooks": after_end(hinted)},
        "delay_after_delivery": after_delivery,
        "deliveries": len(receiver.delivered_at),
        "refused_deliveries": receiver.refused,
        "hint_reads_per_wait_per_minute": receiver.hint_reads / max(1e-9, wait_minutes),
    }


def requests_by_job(ledger: list[dict[str, Any]]) -> Counter[str]:
    """Count the status reads of each media in the ledger."""
    counts: Counter[str] = Counter()
    for entry in ledger:
        path = entry.get("path", "")
        if path.startswith("/media/") and path.endswith("/processing-status"):
            counts[path.split("/")[2]] += 1
    return counts


def summarize(raw: dict[str, Any], reads: Counter[str], args: argparse.Namespace) -> dict[str, Any]:
    """Turn the raw measures into the saved figures."""
    polls = {variant: [reads[job_id] for job_id in raw[group]] for variant, group in
             (("polling", "polled"), ("webhooks", "hinted"))}  # fmt: skip
    end_delays = raw["delay_after_job_end"]
    figures: dict[str, Any] = {
        "jobs_per_variant": args.jobs,
        "job_seconds": args.job_seconds,
        "transport": "https" if args.https else "http",
        "hint_check_interval_s": args.check_interval,
        "wall_seconds": raw["wall_seconds"],
    }
    for variant in ("polling", "webhooks"):
        per_job = sum(polls[variant]) / max(1, len(polls[variant]))
        # polling: submit + polls (the trigger's first poll stands for the operator's read) + the final fetch;
        # webhooks: submit + the operator's read before deferring + polls + the final fetch
        requests = 1 + per_job + 1 + (1 if variant == "webhooks" else 0)
        figures[variant] = {
            "events": raw["events"][variant],
            "status_polls_per_job": per_job,
            "requests_per_job": requests,
            "delay_after_job_end_p50_s": percentile(end_delays[variant], 0.5),
            "delay_after_job_end_p99_s": percentile(end_delays[variant], 0.99),
            "delay_after_job_end_max_s": max(end_delays[variant], default=float("nan")),
        }
    figures["webhooks"].update(
        {
            "deliveries": raw["deliveries"],
            "refused_deliveries": raw["refused_deliveries"],
            "delay_after_delivery_p50_s": percentile(raw["delay_after_delivery"], 0.5),
            "delay_after_delivery_p99_s": percentile(raw["delay_after_delivery"], 0.99),
            "delay_after_delivery_max_s": max(raw["delay_after_delivery"], default=float("nan")),
            "hint_reads_per_wait_per_minute": raw["hint_reads_per_wait_per_minute"],
        }
    )
    return figures


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description="webhook-driven waits against polling, in one run")
    parser.add_argument("--jobs", type=int, default=50, help="jobs per variant")
    parser.add_argument("--job-seconds", type=float, default=300.0)
    parser.add_argument("--check-interval", type=float, default=None, help="hint reads; default as deployed")
    parser.add_argument("--https", action="store_true", help="serve the sandbox over TLS (as the real API)")
    parser.add_argument("--save", action="store_true", help="write docs/benchmarks/<name>.json")
    parser.add_argument("--name", default="waiting_webhooks")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.check_interval is None:
        from airflow_provider_vimmerse.api.waiting import HINT_CHECK_INTERVAL

        args.check_interval = HINT_CHECK_INTERVAL
    if args.https:
        trusted_certificate()  # before aiohttp is imported: it reads the trusted certificates once
    from airflow_provider_vimmerse.sandbox.client import SandboxClient

    with sandbox_process(args.job_seconds, https=args.https) as url, quiet_output():
        use_sandbox_connection(url)
        raw = asyncio.run(measure(args.jobs, args.job_seconds, args.check_interval))
        ledger = SandboxClient(url, verify=os.environ.get("SSL_CERT_FILE", True)).ledger()
    figures = summarize(raw, requests_by_job(ledger), args)
    report(args.name, figures, save=args.save)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
