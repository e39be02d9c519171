"""Webhook delivery: one background task POSTs the documented payload when a job reaches a terminal status.

Payloads: ``{"customer_id", "media_id", "status"}`` for media, ``{"customer_id", "batch_id", "status"}``
for batches and stories (``batch_id`` holds the story id), ``{"customer_id", "asset_id", "status"}`` for
assets. One attempt per run of a job; every delivery is recorded for ``GET /_sandbox/webhooks``.
"""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp

from airflow_provider_vimmerse.sandbox.state import SandboxState, WebhookCall

CHECK_INTERVAL = 0.2
RECEIVER_TIMEOUT = 10.0


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
                for call in state.due_webhooks():
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
    state.record_webhook(call, status, error)
