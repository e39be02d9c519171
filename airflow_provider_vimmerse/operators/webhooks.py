"""
What a job operator asks for when webhooks are on: the signed ``webhook_url`` it sends, and the trigger's hint settings.

Webhooks are off unless ``[vimmerse] webhooks`` (or a connection's extra ``webhooks``) turns them on.
Then :func:`plan_webhook` returns a :class:`WebhookPlan` for a deferrable wait on a new media, batch or
story job whose task did not set ``webhook_url`` itself, on Airflow 3.3+ with ``webhook_base_url`` and
``webhook_secret`` configured; otherwise None, with one log line saying why the wait polls. A
``webhook_secret`` too weak to sign (:func:`~airflow_provider_vimmerse.api.webhooks.check_secret`) fails
the task before anything is submitted. The URL belongs to this try and expires at the wait's deadline.
See ``docs/waiting.md``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from airflow_provider_vimmerse.api.webhooks import (
    HINT_KEY,
    ID_FIELDS,
    SECRET_OPTION,
    WebhookError,
    WebhookTarget,
    check_secret,
)
from airflow_provider_vimmerse.exceptions import VimmerseInputError

#: The first Airflow whose triggers can read an XCom (the recorded hint) and whose api-server serves the receiver.
MIN_AIRFLOW = (3, 3)
#: Seconds the URL outlives ``timeout`` counted from the plan: the wait's deadline is counted from the end of
#: the submit (which may retry), a little later.
SUBMIT_ALLOWANCE_SECONDS = 300


@dataclass(frozen=True)
class WebhookPlan:
    """
    The webhook one try asks the API to call.

    :param url: the signed ``webhook_url`` sent with the job (it holds no secret)
    :param trigger_kwargs: the trigger's ``webhook`` argument: the task instance and the hint check interval
    """

    url: str
    trigger_kwargs: dict[str, Any]


def airflow_lacks_hints(version: str | None = None) -> str | None:
    """Return why this Airflow cannot wake waits by webhook (None when it can)."""
    if version is None:
        from airflow import __version__

        version = str(__version__)
    try:
        found = tuple(int(part) for part in version.split(".")[:2])
    except ValueError:
        return None
    if found < MIN_AIRFLOW:
        return (
            f"Airflow {version} cannot wake a wait by webhook (its triggers cannot read the recorded hint; "
            "that needs Airflow 3.3+)"
        )
    return None


def webhooks_enabled(operator: Any) -> bool:
    """Return the connection's extra ``webhooks`` when it has one, else ``[vimmerse] webhooks``."""
    from airflow_provider_vimmerse import settings

    chosen = operator.hook.config.webhooks
    return bool(settings.get("webhooks")) if chosen is None else chosen


def wait_deadline(operator: Any, now: float | None = None) -> int:
    """
    Return when the URL of this try expires (whole seconds since the epoch): the deadline of its wait.

    :param operator: the operator, whose ``timeout`` bounds the wait
    :param now: the time of the plan (default: now)
    """
    from airflow_provider_vimmerse.operators.base import seconds

    started = time.time() if now is None else now
    return math.ceil(started + (seconds(operator.timeout) or 0) + SUBMIT_ALLOWANCE_SECONDS)


def plan_webhook(operator: Any, context: Any) -> WebhookPlan | None:
    """
    Return the webhook this try of ``operator`` should send, or None (the wait polls).

    :param operator: a :class:`~airflow_provider_vimmerse.operators.base.VimmerseJobOperator`
    :param context: the task's context (for the task instance the URL names)
    """
    from airflow_provider_vimmerse import settings

    kind = operator.job_kind
    if not (
        operator.route.fills_webhook_url
        and kind in ID_FIELDS
        and operator.route.field("webhook_url") is not None
        and operator.deferrable
        and operator.wait_for_completion
    ):
        return None
    if not webhooks_enabled(operator):
        return None
    why_not = airflow_lacks_hints()
    if why_not is None and getattr(operator, "webhook_url", None):
        why_not = "this task sets webhook_url itself, so the provider does not fill it"
    base_url, secret = settings.get("webhook_base_url"), settings.get("webhook_secret")
    if why_not is None and not (base_url and secret):
        why_not = "[vimmerse] webhook_base_url and webhook_secret must both be set"
    ti = context["ti"]
    map_index = ti.map_index if ti.map_index is not None else -1
    if why_not is None:
        problem = check_secret(secret)
        if problem is not None:  # a URL signed with it could be forged: fail before anything is spent
            raise VimmerseInputError(SECRET_OPTION, problem)
        try:
            this_try = WebhookTarget(
                kind,
                ti.dag_id,
                ti.run_id,
                ti.task_id,
                map_index,
                try_number=ti.try_number,
                expires_at=wait_deadline(operator),
            )
            url = this_try.url(base_url, secret)
        except WebhookError as error:
            why_not = str(error)
    if why_not is not None:
        operator.log.warning("Webhooks are on, but %s; the wait polls the job's status instead", why_not)
        return None
    # An empty hint before the submit: until a delivery replaces it, the trigger's reads find this value
    # instead of a missing XCom, which Airflow's client would log as an error at every check.
    ti.xcom_push(key=HINT_KEY, value=None)
    target = {"dag_id": ti.dag_id, "run_id": ti.run_id, "task_id": ti.task_id, "map_index": map_index}
    return WebhookPlan(url, {**target, "check_interval": settings.get("webhook_check_interval")})
