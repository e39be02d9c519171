"""The one trigger that waits on any Vimmerse job (media, batch, story, asset, workflow, finetune) in the triggerer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_vimmerse.api.jobs import get_job_kind
from airflow_provider_vimmerse.api.waiting import HINT_CHECK_INTERVAL, JobWatch, Rerun, WaitEvent
from airflow_provider_vimmerse.api.webhooks import HINT_KEY, Hint
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
    :param output_grace: with ``need_output``, the most seconds to wait for that output once the job
        reads ``success`` (a batch's ``compose_timeout``); None: until the deadline
    :param webhook: set when the job calls this Airflow's webhook receiver (``docs/waiting.md``):
        ``{"dag_id", "run_id", "task_id", "map_index", "check_interval"}`` of the waiting task. The
        trigger then reads the hint the receiver records (an XCom of that task instance) every
        ``check_interval`` seconds, checks the job's status once when a new hint names its job, and
        polls only as a slow safety net otherwise.
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
        webhook: dict[str, Any] | None = None,
        output_grace: float | None = None,
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
        self.output_grace = None if output_grace is None else float(output_grace)
        self.webhook = dict(webhook) if isinstance(webhook, dict) else None

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
                "webhook": self.webhook,
                "output_grace": self.output_grace,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until the job ends or the deadline passes; yield exactly one event."""
        from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook

        watch = JobWatch(
            self.kind,
            self.job_id,
            self.deadline,
            self.poll_interval,
            rerun=self.rerun,
            need_output=self.need_output,
            output_grace=self.output_grace,
            safety_net=self._hints_usable(),
        )
        try:
            event = await self._wait(VimmerseHook(vimmerse_conn_id=self.conn_id), watch)
        except Exception as error:  # the connection is missing or unusable: nothing to poll with
            self.log.error("%s %s: cannot poll: %s", self.kind, self.job_id, error)
            event = watch.error_event(f"cannot poll {self.kind} {self.job_id}: {error}")
        yield TriggerEvent(event.to_payload())

    async def _wait(self, hook: VimmerseHook, watch: JobWatch) -> WaitEvent:
        if watch.safety_net:
            return await self._wait_hinted(hook, watch)
        async with hook.async_session():
            while not watch.expired():
                event, error = await self._poll(hook, watch)
                if event is not None:
                    return event
                await asyncio.sleep(watch.next_delay(error))
        self.log.warning("%s %s: deadline reached", self.kind, self.job_id)
        return watch.timeout_event()

    async def _poll(self, hook: VimmerseHook, watch: JobWatch) -> tuple[WaitEvent | None, VimmerseError | None]:
        """Read the status once; return the final event if the wait is over, and the error of a failed read."""
        try:
            snapshot = await hook.aget_job_snapshot(
                self.kind, self.job_id, retries=0, full_object=watch.wants_full_object
            )
        except VimmerseError as failure:
            line, event = watch.observe_error(failure)
            if event is None:
                self.log.warning(line)
            else:
                self.log.error(line)
            return event, failure
        lines, event = watch.observe(snapshot)
        for line in lines:
            self.log.info(line)
        return event, None

    async def _wait_hinted(self, hook: VimmerseHook, watch: JobWatch) -> WaitEvent:
        """
        Wait woken by webhook hints: read the hint every ``check_interval`` s, poll when it names this job.

        The operator read the status just before deferring, and a delivery meanwhile is recorded, so
        the first status poll waits for a hint or the safety net. The absolute deadline holds.
        """
        next_poll = time.time() + watch.next_delay()
        next_hint, last_hint = 0.0, None
        async with hook.async_session():
            while not watch.expired():
                if watch.safety_net and time.time() >= next_hint:
                    check_now, last_hint = await self._check_hint(watch, last_hint)
                    next_hint = time.time() + self._check_interval()
                    if check_now:
                        next_poll = 0.0
                if time.time() >= next_poll:
                    event, error = await self._poll(hook, watch)
                    if event is not None:
                        return event
                    next_poll = time.time() + watch.next_delay(error)
                wake = min(next_poll, next_hint) if watch.safety_net else next_poll
                await asyncio.sleep(max(0.0, min(wake, watch.deadline) - time.time()))
        self.log.warning("%s %s: deadline reached", self.kind, self.job_id)
        return watch.timeout_event()

    # ------------------------------------------------------------------ webhook hints

    def _check_interval(self) -> float:
        value = (self.webhook or {}).get("check_interval")
        return float(value) if isinstance(value, (int, float)) and value > 0 else HINT_CHECK_INTERVAL

    def _hints_usable(self) -> bool:
        """Return True when this wait can read webhook hints; log once why not when it was asked to."""
        if self.webhook is None:
            return False
        reason = self.hints_unavailable()
        if reason is None:
            self.log.info(
                "%s %s: woken by webhooks; the hint is read every %g s, status polls only as a safety net",
                self.kind,
                self.job_id,
                self._check_interval(),
            )
            return True
        self.log.warning("%s %s: webhooks are on but %s; polling instead", self.kind, self.job_id, reason)
        return False

    def hints_unavailable(self) -> str | None:
        """Return why this process cannot read the hints (None when it can): it needs Airflow 3.3's triggerer."""
        try:
            from airflow.sdk.execution_time import task_runner
            from airflow.sdk.execution_time.xcom import XCom  # the configured XCom backend
        except ImportError:
            return "this Airflow has no Task SDK (webhook hints need Airflow 3.3)"
        if not hasattr(XCom, "aget_one"):
            return "this Airflow's triggers cannot read XComs (webhook hints need Airflow 3.3)"
        if getattr(task_runner, "SUPERVISOR_COMMS", None) is None:
            return "this process has no channel to Airflow's API (not a triggerer)"
        return None

    async def read_hint(self) -> Any:
        """Return the hint the receiver recorded for this task instance (an XCom), or None."""
        from airflow.sdk.execution_time.xcom import XCom

        target = self.webhook or {}
        return await XCom.aget_one(
            key=HINT_KEY,
            dag_id=target["dag_id"],
            run_id=target["run_id"],
            task_id=target["task_id"],
            map_index=int(target.get("map_index", -1)),
        )

    async def _check_hint(self, watch: JobWatch, last: Hint | None) -> tuple[bool, Hint | None]:
        """
        Read the hint once; return whether to check the job's status now, and the hint seen.

        A hint only says "check now": a new hint for this job costs one status request, whatever it
        claims. A hint for another job, or one already seen, costs nothing. When the hint cannot be
        read, the wait goes back to normal polling.
        """
        try:
            hint = Hint.from_value(await self.read_hint())
        except Exception as error:
            self.log.warning("%s %s: cannot read the webhook hint (%s); polling instead", self.kind, self.job_id, error)
            watch.safety_net = False
            return True, last
        if hint is None or hint == last:
            return False, last
        if hint.job_id != self.job_id:
            self.log.warning(
                "%s %s: ignoring a webhook for another job (%r %r)", self.kind, self.job_id, hint.job_id, hint.status
            )
            return False, hint
        self.log.info("%s %s: webhook says %r; checking the status now", self.kind, self.job_id, hint.status)
        return True, hint
