"""Pure ASGI middleware of the sandbox: API key check, fault injection and the request ledger.

It is plain ASGI (not ``BaseHTTPMiddleware``) so that a ``drop`` fault can cut a response in the middle and
streamed downloads pass through untouched.

Only API requests go through it: every path except ``/health`` and ``/_sandbox/...``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from airflow_provider_vimmerse.sandbox.faults import STATUS_MESSAGES, FaultRule, format_retry_after
from airflow_provider_vimmerse.sandbox.state import SandboxState

# Routes write what they did here (job id, created, credits) for the ledger; see ``routes.note``.
INFO_SCOPE_KEY = "vimmerse_sandbox.info"

MALFORMED_BODY = b'{"data": {"id": "sandbox-malformed", "processing_status": '
DROP_DECLARED_LENGTH = 4096
DROP_PARTIAL_BODY = b'{"data": {"id": '


def is_api_path(path: str) -> bool:
    """Tell whether a path is an API route (checked, faulted and recorded) rather than a sandbox helper.

    :param path: the URL path.
    """
    return path != "/health" and not path.startswith("/_sandbox")


class SandboxMiddleware:
    """Check ``X-Api-Key``, apply fault rules and write one ledger entry per API request.

    :param app: the wrapped ASGI application.
    :param state: the sandbox state.
    """

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_api_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        authorized = self.state.is_authorized(headers.get("x-api-key"))
        info: dict[str, Any] = {"job_id": None, "created": False, "credits": 0}
        scope[INFO_SCOPE_KEY] = info
        rule = self.state.take_fault(scope["method"], scope["path"])
        recorded = False

        def record(status: int | None) -> None:
            nonlocal recorded
            if recorded:
                return
            recorded = True
            self.state.record_request(
                {
                    "method": scope["method"],
                    "path": scope["path"],
                    "query": scope.get("query_string", b"").decode("latin-1"),
                    "status": status,
                    "fault": rule.fault if rule else None,
                    "authorized": authorized,
                    "user_agent": headers.get("user-agent", ""),
                    **info,
                }
            )

        started: list[int] = []

        async def send_recorded(message: Message) -> None:
            # The entry is written before the last byte leaves: a client that has read the whole answer
            # (a test about to reset the sandbox, or to read the ledger) always finds it there.
            if message["type"] == "http.response.start":
                started.append(message["status"])
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                record(started[0] if started else None)
            await send(message)

        status: int | None = 500
        try:
            status = await self._respond(scope, receive, send_recorded, authorized, rule)
        finally:
            record(status)  # an answer cut short (a drop fault, an error) is recorded here

    async def _respond(
        self, scope: Scope, receive: Receive, send: Send, authorized: bool, rule: FaultRule | None
    ) -> int | None:
        if rule is None:
            return await self._process(scope, receive, send, authorized)
        if rule.phase == "before":
            if rule.fault == "slow":
                await asyncio.sleep(rule.delay)
                return await self._process(scope, receive, send, authorized)
            return await send_fault(rule, send)
        buffered: list[Message] = []

        async def keep(message: Message) -> None:
            buffered.append(message)

        status = await self._process(scope, receive, keep, authorized)
        if rule.fault != "slow":
            return await send_fault(rule, send)
        await asyncio.sleep(rule.delay)
        for message in buffered:
            await send(message)
        return status

    async def _process(self, scope: Scope, receive: Receive, send: Send, authorized: bool) -> int | None:
        if not authorized:
            await send_json(send, 401, {"message": "UNAUTHORIZED"})
            return 401
        statuses: list[int] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])
            await send(message)

        await self.app(scope, receive, watch)
        return statuses[0] if statuses else None


async def send_fault(rule: FaultRule, send: Send) -> int | None:
    """Send the answer of a fault; return the HTTP status sent, or None when the connection is cut.

    :param rule: the fault rule being applied.
    :param send: the ASGI send callable.
    """
    if rule.fault == "status" and rule.status is not None:
        extra = []
        if rule.retry_after is not None:
            extra.append((b"retry-after", format_retry_after(rule.retry_after).encode()))
        await send_json(send, rule.status, {"message": STATUS_MESSAGES[rule.status]}, extra)
        return rule.status
    if rule.fault == "malformed":
        await send_bytes(send, 200, MALFORMED_BODY, b"application/json")
        return 200
    # "drop": promise a body, send part of it and return without finishing; the server then closes the
    # connection, so the client sees a broken response rather than any HTTP status.
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(DROP_DECLARED_LENGTH).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": DROP_PARTIAL_BODY, "more_body": True})
    return None


async def send_json(
    send: Send, status: int, payload: dict[str, Any], extra_headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Send a complete JSON response.

    :param send: the ASGI send callable.
    :param status: the HTTP status.
    :param payload: the JSON body.
    :param extra_headers: more headers, as ASGI byte pairs.
    """
    await send_bytes(send, status, json.dumps(payload).encode(), b"application/json", extra_headers)


async def send_bytes(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Send a complete response with a body.

    :param send: the ASGI send callable.
    :param status: the HTTP status.
    :param body: the body bytes.
    :param content_type: the ``Content-Type`` value.
    :param extra_headers: more headers, as ASGI byte pairs.
    """
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + (extra_headers or [])})
    await send({"type": "http.response.body", "body": body, "more_body": False})
