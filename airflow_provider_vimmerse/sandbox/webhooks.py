"""Webhooks: which are due when a job's visible status becomes terminal, and the background task that sends them.

Payloads: ``{"customer_id", "media_id", "status"}`` for media, ``{"customer_id", "batch_id", "status"}``
for batches and stories (``batch_id`` holds the story id), ``{"customer_id", "asset_id", "status"}`` for
assets. One attempt per run of a job; every delivery is recorded for ``GET /_sandbox/webhooks``. A batch or
story notifies when its status says so, before ``video_url`` is set (docs/sandbox.md, "Where the documents
are silent").
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

import aiohttp

from airflow_provider_vimmerse.sandbox.state import FAIL, MEDIA_TERMINAL, SUCCESS, SandboxState, iso_time
from airflow_provider_vimmerse.sandbox.timing import group_state, media_state, run_state

CHECK_INTERVAL = 0.2
RECEIVER_TIMEOUT = 10.0


@dataclass
class WebhookCall:
    """A webhook that is due: where to POST which payload."""

    kind: str
    job_id: str
    url: str
    payload: dict[str, Any]


def due_webhooks(state: SandboxState, now: float | None = None) -> list[WebhookCall]:
    """Return the webhooks of jobs that reached a terminal status since the last call, marking them sent.

    :param state: the sandbox state.
    :param now: the time to look at; default now.
    """
    now = state.clock() if now is None else now
    customer = state.settings.customer_id
    calls = []
    with state.lock:
        for media in state.media.values():
            if media.webhook_url and media.notified_run < media.run:
                seen = media_state(state, media, now)
                if seen.run.number == media.run and seen.status in MEDIA_TERMINAL:
                    media.notified_run = media.run
                    payload = {"customer_id": customer, "media_id": media.id, "status": seen.status}
                    calls.append(WebhookCall("media", media.id, media.webhook_url, payload))
        for group in state.groups.values():
            if group.webhook_url and group.run > 0 and group.notified_run < group.run:
                shown = group.runs[-1].shown_at <= now
                status = group_state(state, group, now).status
                if shown and status in (SUCCESS, FAIL):
                    group.notified_run = group.run
                    payload = {"customer_id": customer, "batch_id": group.id, "status": status}
                    calls.append(WebhookCall(group.kind, group.id, group.webhook_url, payload))
        for asset in state.assets.values():
            if asset.webhook_url and asset.notified_run < asset.run:
                status = run_state(state, asset, now).status
                if status in (SUCCESS, FAIL):
                    asset.notified_run = asset.run
                    payload = {"customer_id": customer, "asset_id": asset.id, "status": status}
                    calls.append(WebhookCall("asset", asset.id, asset.webhook_url, payload))
    return calls


def record_webhook(state: SandboxState, call: WebhookCall, status: int | None, error: str | None) -> None:
    """Remember one webhook delivery.

    :param state: the sandbox state.
    :param call: the webhook that was sent.
    :param status: the HTTP status the receiver answered, or None.
    :param error: why the delivery failed, or None.
    """
    entry = {"kind": call.kind, "job_id": call.job_id, "url": call.url, "payload": call.payload}
    with state.lock:
        state.webhooks.append({"time": iso_time(state.clock()), **entry, "status": status, "error": error})


async def deliver_webhooks_forever(state: SandboxState, interval: float = CHECK_INTERVAL) -> None:
    """Check for due webhooks every ``interval`` seconds and send each one in its own task, until cancelled.

    :param state: the sandbox state.
    :param interval: seconds between two checks.
    """
    sending: set[asyncio.Task[None]] = set()
    timeout = aiohttp.ClientTimeout(total=RECEIVER_TIMEOUT)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        try:
            while True:
                for call in due_webhooks(state):
                    if not state.settings.deliver_webhooks:  # a lost delivery, for tests of the fallback
                        record_webhook(state, call, None, "not sent: deliver_webhooks is off")
                        continue
                    task = asyncio.create_task(deliver(session, state, call))
                    sending.add(task)
                    task.add_done_callback(sending.discard)
                await asyncio.sleep(interval)
        finally:
            for task in list(sending):
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*sending, return_exceptions=True)


async def deliver(session: aiohttp.ClientSession, state: SandboxState, call: WebhookCall) -> None:
    """POST one webhook and record the receiver's answer or the error.

    :param session: the HTTP session used for webhooks.
    :param state: the sandbox state.
    :param call: the webhook to send.
    """
    status: int | None = None
    error: str | None = None
    try:
        async with session.post(call.url, json=call.payload) as response:
            status = response.status
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    record_webhook(state, call, status, error)
