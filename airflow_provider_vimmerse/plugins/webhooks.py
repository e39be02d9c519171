"""
The webhook receiver: ``POST /vimmerse/webhooks/hint``, where the Vimmerse API reports that a job ended.

The URL is the one the operator sent as ``webhook_url``
(:meth:`~airflow_provider_vimmerse.api.webhooks.WebhookTarget.url`): its query names the waiting task
instance, its try, the job kind and the URL's expiry (the wait's deadline), and carries an HMAC-SHA256
signature of all of them under ``[vimmerse] webhook_secret``. The route takes no Airflow login (the API
cannot send one) and can do exactly one thing: record a hint ``{"job_id", "status", "received_at"}`` as
the XCom ``vimmerse_webhook`` of that task instance, while that try is waiting (queued, running or
deferred). The waiting trigger reads it and checks the job's status itself; the hint changes nothing else.

Answers (fast: one database write, no outbound call):

* 200 ``{"recorded": true}``; or ``{"recorded": false, "reason": ...}`` when the task no longer waits,
  or waits in another try than the URL's (a late delivery, or one for a run since deleted: answered 2xx
  so the API does not retry it);
* 400 for a body that is not the documented payload, 413 for a body over
  :data:`~airflow_provider_vimmerse.api.webhooks.MAX_BODY_BYTES`, 408 for a body not received within
  :data:`BODY_TIMEOUT_SECONDS`;
* 403 for a missing or wrong signature, or an expired URL;
* 404 when webhooks are off, or ``webhook_secret`` is too weak to trust (logged once as an error).

A client that disconnects before its body is complete is one info line in the log.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.requests import ClientDisconnect

from airflow_provider_vimmerse.api.webhooks import (
    HINT_KEY,
    MAX_BODY_BYTES,
    RECEIVER_PATH,
    SECRET_OPTION,
    Delivery,
    WebhookError,
    WebhookExpired,
    WebhookTarget,
    check_secret,
    parse_delivery,
)
from airflow_provider_vimmerse.plugins.urls import URL_PREFIX

#: Task instance states in which a hint may still wake something.
WAITING_STATES = frozenset({"scheduled", "queued", "running", "deferred", "up_for_reschedule"})
#: Seconds a delivery has to send its whole body (the API sends under 200 bytes at once); then 408.
BODY_TIMEOUT_SECONDS = 10.0
NOT_CONFIGURED = "webhooks are not configured on this Airflow"

log = logging.getLogger(__name__)
router = APIRouter()
#: The secret problems this process has logged: one error line each, not one per delivery.
_logged_problems: set[str] = set()


def _answer(status: int, *, close: bool = False, **body: Any) -> JSONResponse:
    headers = {"Cache-Control": "no-store", **({"Connection": "close"} if close else {})}
    return JSONResponse(body, status_code=status, headers=headers)


@router.post(RECEIVER_PATH.removeprefix(URL_PREFIX), include_in_schema=False)
async def receive(request: Request) -> JSONResponse:
    """Check one delivery and record its hint on the waiting task instance."""
    from starlette.concurrency import run_in_threadpool

    from airflow_provider_vimmerse import settings

    secret = settings.get("webhook_secret")
    if not secret:
        return _answer(404, detail=NOT_CONFIGURED)
    problem = check_secret(secret)
    if problem is not None:  # answered as "not configured": a caller learns nothing about the secret
        _log_once(problem)
        return _answer(404, detail=NOT_CONFIGURED)
    try:
        target = WebhookTarget.from_query(request.query_params, secret)
    except WebhookExpired as error:
        return _answer(403, detail=str(error))
    except WebhookError as error:
        return _answer(403, detail=f"not a webhook URL of this Airflow ({error})")
    try:
        body = await asyncio.wait_for(_read_body(request), BODY_TIMEOUT_SECONDS)
    except asyncio.TimeoutError:
        return _answer(408, close=True, detail=f"the body did not arrive within {BODY_TIMEOUT_SECONDS:g} s")
    except ClientDisconnect:
        log.info(
            "Webhook delivery for %r %r %r: the client disconnected before its body was complete; nothing recorded",
            target.dag_id,
            target.run_id,
            target.task_id,
        )
        return _answer(400, detail="the client disconnected before its body was complete")
    if body is None:
        return _answer(413, detail=f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        delivery = parse_delivery(target.kind, body)
    except WebhookError as error:
        return _answer(400, detail=str(error))
    recorded, reason = await run_in_threadpool(record_hint, target, delivery)
    why: dict[str, Any] = {"reason": reason} if reason else {}
    return _answer(200, recorded=recorded, **why)


def _log_once(problem: str) -> None:
    """Log, once per process, that the receiver refuses every delivery because of the secret."""
    if problem not in _logged_problems:
        _logged_problems.add(problem)
        log.error(
            "The Vimmerse webhook receiver refuses every delivery (answers 404): %s is %s", SECRET_OPTION, problem
        )


async def _read_body(request: Request) -> bytes | None:
    """Return the body, or None as soon as it is longer than :data:`MAX_BODY_BYTES`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return None
    return body


def record_hint(target: WebhookTarget, delivery: Delivery) -> tuple[bool, str | None]:
    """
    Record the hint as the XCom ``vimmerse_webhook`` of the task instance, if the URL's try still waits.

    :return: whether it was recorded, and why not
    """
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel  # type: ignore[attr-defined,unused-ignore]  # Airflow 3
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        row = session.execute(
            select(TaskInstance.state, TaskInstance.try_number).where(
                TaskInstance.dag_id == target.dag_id,
                TaskInstance.run_id == target.run_id,
                TaskInstance.task_id == target.task_id,
                TaskInstance.map_index == target.map_index,
            )
        ).first()
        if row is None:
            return False, "no such task instance"
        if row.try_number != target.try_number:
            return False, f"the URL belongs to try {target.try_number}, the task is on try {row.try_number}"
        state = getattr(row.state, "value", row.state)
        if state not in WAITING_STATES:
            return False, f"the task is not waiting (state {state})"
        XComModel.set(
            HINT_KEY,
            delivery.hint(time.time()),
            dag_id=target.dag_id,
            run_id=target.run_id,
            task_id=target.task_id,
            map_index=target.map_index,
            serialize=False,  # stored as JSON, as Airflow's own XCom routes store a value
            session=session,
        )
    return True, None
