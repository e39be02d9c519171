"""
The base of every Vimmerse operator and sensor, and the helpers every task shares.

:class:`VimmerseBaseOperator` holds the connection id (templated), the hook (made on first use, no I/O
before) and what the task reports once it ends (its asset events' extra, OpenLineage). Operators that
start or work on a job derive from :class:`~airflow_provider_vimmerse.operators.job.VimmerseJobOperator`,
which derives from it; the download, delete and statistics operators and the sensor derive from it directly.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException, BaseOperator, conf

from airflow_provider_vimmerse.api.config import DEFAULT_CONN_ID
from airflow_provider_vimmerse.exceptions import (
    VimmerseAuthError,
    VimmerseInputError,
    VimmerseInsufficientCreditError,
    VimmerseJobError,
    VimmerseJobMayExistError,
)
from airflow_provider_vimmerse.operators.outlets import Made

if TYPE_CHECKING:
    from airflow_provider_vimmerse.api.results import JobResult
    from airflow_provider_vimmerse.api.waiting import WaitEvent
    from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook

#: How long a job operator waits for its job before failing (the job may go on remotely).
DEFAULT_TIMEOUT = timedelta(hours=2)
#: XCom keys every story operator pushes besides its return value.
STORY_ID_KEY = "story_id"
STORYBOARD_KEY = "storyboard"
#: Errors a task retry cannot fix, or where a retry could pay twice: fail at once, no task retry.
_FINAL_ERRORS = (VimmerseInputError, VimmerseAuthError, VimmerseInsufficientCreditError, VimmerseJobMayExistError)


class VimmerseBaseOperator(BaseOperator):
    """
    Base of every Vimmerse operator: the connection, the hook, and what a finished task reports.

    :param vimmerse_conn_id: Vimmerse connection id (templated)
    """

    template_fields: tuple[str, ...] = ("vimmerse_conn_id",)
    ui_color = "#e8dcff"

    def __init__(self, *, vimmerse_conn_id: str = DEFAULT_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.vimmerse_conn_id = vimmerse_conn_id

    @cached_property
    def hook(self) -> VimmerseHook:
        """Return the hook (no I/O until first use)."""
        from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook

        return VimmerseHook(vimmerse_conn_id=self.vimmerse_conn_id)

    def fetch_result(self, kind: str, job_id: str) -> JobResult:
        """Read a job once and return its result."""
        return self.hook.result_of(kind, job_id, self.hook.get_job(kind, job_id))

    #: The jobs this run made, waited on or downloaded (set by :meth:`record`), for OpenLineage.
    vimmerse_made: tuple[Made, ...] = ()

    def record(self, context: Any, *made: Made) -> None:
        """
        Keep what the task made, and put it in the ``extra`` of its ``outlets``' asset events.

        Called where a result is returned (twice for one result changes nothing); see
        :mod:`~airflow_provider_vimmerse.operators.outlets`.
        """
        from airflow_provider_vimmerse.operators.outlets import annotate_outlets

        self.vimmerse_made = made
        annotate_outlets(self, context, made)

    def get_openlineage_facets_on_start(self) -> Any:
        """Return the task's OpenLineage inputs as it starts (called by OpenLineage only, when installed)."""
        from airflow_provider_vimmerse.operators.lineage import operator_lineage

        return operator_lineage(self, ())

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Return the task's OpenLineage inputs, outputs and job facet (called by OpenLineage only, when installed)."""
        from airflow_provider_vimmerse.operators.lineage import operator_lineage

        return operator_lineage(self, self.vimmerse_made)

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> Any:
        """Return the failed task's OpenLineage inputs (it made nothing to report)."""
        from airflow_provider_vimmerse.operators.lineage import operator_lineage

        return operator_lineage(self, ())


@contextlib.contextmanager
def fail_fast() -> Iterator[None]:
    """Turn errors that a task retry cannot fix, or that could pay twice, into ``AirflowFailException``."""
    try:
        yield
    except _FINAL_ERRORS as error:
        raise AirflowFailException(str(error)) from error


def seconds(value: float | timedelta | None) -> float | None:
    """Return a duration given as seconds or a ``timedelta`` as seconds (None stays None)."""
    return value.total_seconds() if isinstance(value, timedelta) else value


def checked_kind(kind: str) -> str:
    """
    Return ``kind`` once it names a job kind (a key of :data:`~airflow_provider_vimmerse.api.jobs.JOB_KINDS`).

    :raises VimmerseInputError: for any other name, listing the allowed ones
    """
    from airflow_provider_vimmerse.api.jobs import get_job_kind

    get_job_kind(kind)
    return kind


def default_deferrable() -> bool:
    """
    Return ``[vimmerse] deferrable``: whether a task that sets no ``deferrable`` waits in the triggerer.

    :raises VimmerseInputError: when the setting is not a yes/no word
    """
    from airflow_provider_vimmerse import settings

    return bool(settings.get("deferrable"))


def default_poll_interval() -> float | None:
    """
    Return the deployment's ``[vimmerse] poll_interval`` (seconds between status checks), or None when unset.

    :raises VimmerseInputError: when the setting is not a positive number
    """
    from airflow_provider_vimmerse import settings

    try:
        value = settings.get("poll_interval")
    except ValueError:
        value = -1.0
    if value is not None and not 0 < value < float("inf"):
        raw = conf.get(settings.SECTION, "poll_interval", fallback="")
        raise VimmerseInputError("[vimmerse] poll_interval", f"must be a positive number of seconds, got {raw!r}")
    return value


def push_story_xcoms(operator: BaseOperator, context: Any, result: JobResult) -> None:
    """Push the story id and storyboard of a step's result under their own XCom keys."""
    if not operator.do_xcom_push:
        return
    context["ti"].xcom_push(key=STORY_ID_KEY, value=result["id"])
    context["ti"].xcom_push(key=STORYBOARD_KEY, value=result.get("storyboard", {}))


def job_error(outcome: WaitEvent) -> VimmerseJobError:
    """Return the error that ends a task whose job did not succeed."""
    from airflow_provider_vimmerse.api.status import JobStatus

    what = f"{outcome.kind} {outcome.job_id}"
    messages = {
        JobStatus.FAILED: f"{what} failed on the Vimmerse side: {outcome.message or 'no reason given'}",
        JobStatus.CANCELLED: f"{what} was cancelled: {outcome.message or 'no reason given'}",
        JobStatus.TIMEOUT: outcome.message or f"{what} was not finished in time; it may still be running remotely",
        JobStatus.ERROR: f"Could not follow {what}: {outcome.message}",
    }
    return VimmerseJobError(
        messages[outcome.status], kind=outcome.kind, job_id=outcome.job_id, outcome=outcome.status.value
    )
