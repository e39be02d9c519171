"""Wait on a Vimmerse job created elsewhere (another DAG, a webhook, the web app)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import (
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    BaseSensorOperator,
    PokeReturnValue,
)

from airflow_provider_vimmerse.api.config import DEFAULT_CONN_ID
from airflow_provider_vimmerse.exceptions import VimmerseError
from airflow_provider_vimmerse.links.vimmerse import VimmerseJobLink, persist_job_link
from airflow_provider_vimmerse.operators.base import (
    VimmerseBaseOperator,
    checked_kind,
    default_deferrable,
    default_poll_interval,
    job_error,
)

if TYPE_CHECKING:
    from airflow_provider_vimmerse.api.waiting import JobWatch, WaitEvent

#: Seconds between checks when neither the task nor ``[vimmerse] poll_interval`` says (Airflow's sensor default).
DEFAULT_POKE_INTERVAL = 60.0


class VimmerseJobSensor(VimmerseBaseOperator, BaseSensorOperator):
    """
    Wait until a job (``media``, ``batch``, ``story``, ``asset``, ``workflow`` or ``finetune``) finishes;
    return its result. A ``finetune``'s id is its trigger word; it is finished when its sample outputs are listed.

    A job that fails or is cancelled fails the task, also with ``soft_fail=True``: ``soft_fail``
    only turns the sensor's own timeout into a skip. Set ``skip_on_job_failure=True`` to skip instead.

    :param kind: job kind
    :param job_id: job id (templated)
    :param vimmerse_conn_id: Vimmerse connection id (templated)
    :param deferrable: wait in the triggerer instead of poking from a worker; None (default) takes the
        deployment's ``[vimmerse] deferrable`` (True unless configured)
    :param skip_on_job_failure: skip the task (instead of failing it) when the job fails or is cancelled
    :param poke_interval: seconds between status checks; None (default) takes the deployment's
        ``[vimmerse] poll_interval`` when set (read when the sensor is created), else 60
    """

    template_fields: tuple[str, ...] = ("job_id", *VimmerseBaseOperator.template_fields)
    operator_extra_links = (VimmerseJobLink(),)
    ui_color = "#e8dcff"

    def __init__(
        self,
        *,
        kind: str,
        job_id: str,
        vimmerse_conn_id: str = DEFAULT_CONN_ID,
        deferrable: bool | None = None,
        skip_on_job_failure: bool = False,
        poke_interval: float | timedelta | None = None,
        **kwargs: Any,
    ) -> None:
        if poke_interval is None:
            poke_interval = default_poll_interval() or DEFAULT_POKE_INTERVAL
        super().__init__(vimmerse_conn_id=vimmerse_conn_id, poke_interval=poke_interval, **kwargs)
        self.kind = checked_kind(kind)  # a literal kind is checked when the DAG is parsed
        self.job_id = job_id
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.skip_on_job_failure = skip_on_job_failure
        self._watch: JobWatch | None = None

    def execute(self, context: Any) -> Any:
        """Poke, or defer to the trigger after one check."""
        persist_job_link(context, self.hook.web_url(self.kind, self.job_id))
        if not self.deferrable:
            return super().execute(context)
        result = self.poke(context)
        if result:
            return result.xcom_value
        timeout = self.timeout.total_seconds() if isinstance(self.timeout, timedelta) else float(self.timeout)
        from airflow_provider_vimmerse.triggers.job import VimmerseJobTrigger  # only needed to defer

        self.defer(
            trigger=VimmerseJobTrigger(
                conn_id=self.vimmerse_conn_id,
                kind=self.kind,
                job_id=self.job_id,
                deadline=time.time() + timeout,
                poll_interval=self.poke_interval,
            ),
            method_name="execute_complete",
        )

    def poke(self, context: Any) -> PokeReturnValue:
        """Check the job once; succeed with its result, keep waiting, or end as the job ended."""
        from airflow_provider_vimmerse.api.waiting import JobWatch

        if self._watch is None:
            self._watch = JobWatch(self.kind, self.job_id, deadline=float("inf"))
        try:
            snapshot = self.hook.get_job_snapshot(self.kind, self.job_id)
        except VimmerseError as error:
            line, event = self._watch.observe_error(error)
            if event is not None:
                raise
            self.log.warning(line)
            return PokeReturnValue(is_done=False)
        lines, event = self._watch.observe(snapshot)
        for line in lines:
            self.log.info(line)
        if event is None:
            return PokeReturnValue(is_done=False)
        return PokeReturnValue(is_done=True, xcom_value=self._finish(context, event))

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        """Read the trigger's event (allow-listed) and end like :meth:`poke`."""
        from airflow_provider_vimmerse.api.status import JobStatus
        from airflow_provider_vimmerse.api.waiting import WaitEvent

        try:
            outcome = WaitEvent.from_payload(event)
        except ValueError as error:
            raise AirflowFailException(f"Unexpected event from the Vimmerse trigger: {error}") from None
        if outcome.status is JobStatus.TIMEOUT:
            raise AirflowSensorTimeout(outcome.message or f"{self.kind} {self.job_id}: timed out")
        return self._finish(context, outcome)

    def _finish(self, context: Any, outcome: WaitEvent) -> Any:
        from airflow_provider_vimmerse.api.status import JobStatus
        from airflow_provider_vimmerse.operators.outlets import Made

        if outcome.status is JobStatus.SUCCESS:
            result = self.fetch_result(self.kind, self.job_id)
            self.record(context, Made(result))
            return result
        error = job_error(outcome)
        if self.skip_on_job_failure and outcome.status.is_failure:
            raise AirflowSkipException(f"{error} (skipped: skip_on_job_failure=True)")
        raise error
