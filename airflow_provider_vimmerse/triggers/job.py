"""The one trigger that waits on any Vimmerse job (media, batch, story, asset, workflow, finetune) in the triggerer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_vimmerse.api.jobs import get_job_kind
from airflow_provider_vimmerse.api.waiting import JobWatch, Rerun, WaitEvent
from airflow_provider_vimmerse.exceptions import VimmerseError

if TYPE_CHECKING:
    from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook


class VimmerseJobTrigger(BaseTrigger):
    """
    Poll a job's status on the triggerer's event loop and fire one event when it ends.

    Serializes only plain values (no key, no response): the connection id, the kind, the job id,
    the poll interval and an absolute deadline, so a triggerer restart resumes the same wait with the
    same deadline. All triggers of one connection share one aiohttp session and one poll budget
    (:data:`~airflow_provider_vimmerse.api.waiting.MAX_POLLS_PER_SECOND` on the triggerer's event
    loop): when more polls are due than that, each waits its turn instead of overloading the loop.

    Events (``event.payload``): ``status`` is one of ``success``, ``failed``, ``cancelled``,
    ``timeout``, ``error`` (:data:`~airflow_provider_vimmerse.api.status.WAIT_OUTCOMES`); plus ``kind``,
    ``job_id``, ``raw_status``, ``progress``, ``message``.

    :param conn_id: Vimmerse connection id
    :param kind: job kind (``media``, ``batch``, ``story``, ``asset``, ``workflow``, ``finetune``)
    :param job_id: the job's id
    :param deadline: when to give up, in seconds since the epoch
    :param poll_interval: fixed seconds between polls; None adapts (quick first, then slower)
    :param rerun: for a wait that follows a request re-running a finished job (regeneration,
        process, concat): :meth:`.Rerun.to_payload`, so the old ``success`` does not end the wait
    :param need_output: a ``success`` without an output (a story still composing) keeps waiting
    """

    def __init__(
        self,
        *,
        conn_id: str,
        kind: str,
        job_id: str,
        deadline: float,
        poll_interval: float | None = None,
        rerun: dict[str, Any] | None = None,
        need_output: bool = False,
    ) -> None:
        super().__init__()
        get_job_kind(kind)  # fail fast on a bad kind
        self.conn_id = conn_id
        self.kind = kind
        self.job_id = job_id
        self.deadline = float(deadline)
        self.poll_interval = None if poll_interval is None else float(poll_interval)
        self.rerun = Rerun.from_payload(rerun)
        self.need_output = bool(need_output)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Return the import path and the plain keyword arguments of this trigger."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "conn_id": self.conn_id,
                "kind": self.kind,
                "job_id": self.job_id,
                "deadline": self.deadline,
                "poll_interval": self.poll_interval,
                "rerun": self.rerun.to_payload() if self.rerun else None,
                "need_output": self.need_output,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until the job ends or the deadline passes; yield exactly one event."""
        from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook

        watch = JobWatch(
            self.kind, self.job_id, self.deadline, self.poll_interval, rerun=self.rerun, need_output=self.need_output
        )
        try:
            event = await self._wait(VimmerseHook(vimmerse_conn_id=self.conn_id), watch)
        except Exception as error:  # the connection is missing or unusable: nothing to poll with
            self.log.error("%s %s: cannot poll: %s", self.kind, self.job_id, error)
            event = watch.error_event(f"cannot poll {self.kind} {self.job_id}: {error}")
        yield TriggerEvent(event.to_payload())

    async def _wait(self, hook: VimmerseHook, watch: JobWatch) -> WaitEvent:
        async with hook.async_session():
            while not watch.expired():
                error: VimmerseError | None = None
                try:
                    snapshot = await hook.aget_job_snapshot(
                        self.kind, self.job_id, retries=0, full_object=watch.wants_full_object
                    )
                except VimmerseError as failure:
                    error = failure
                    line, event = watch.observe_error(failure)
                    if event is None:
                        self.log.warning(line)
                    else:
                        self.log.error(line)
                else:
                    lines, event = watch.observe(snapshot)
                    for line in lines:
                        self.log.info(line)
                if event is not None:
                    return event
                await asyncio.sleep(watch.next_delay(error))
        self.log.warning("%s %s: deadline reached", self.kind, self.job_id)
        return watch.timeout_event()
