"""
What every Vimmerse operator that starts a job shares: validate -> submit -> persist the id -> wait -> result.

Never pay twice: the job id is written to Airflow's per-task state store (Airflow 3.3+) as soon as the
job exists. A later try of the same task instance reads it first: a job still running is reattached,
a finished one returns its result, a failed or cancelled one is submitted fresh. On Airflow below
3.3 there is no such store: a try that ends before it defers (worker killed between submit and
defer) resubmits on retry; once deferred, the wait itself survives triggerer restarts.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.common.compat.sdk import AirflowFailException, BaseOperator, conf

from airflow_provider_vimmerse.api.endpoints import ApiRequest
from airflow_provider_vimmerse.api.jobs import JobState
from airflow_provider_vimmerse.api.responses import expect_object
from airflow_provider_vimmerse.api.results import JobResult
from airflow_provider_vimmerse.api.waiting import DEFAULT_RERUN_GRACE, JobWatch, Rerun, WaitEvent, WaitStatus
from airflow_provider_vimmerse.exceptions import (
    VimmerseAuthError,
    VimmerseError,
    VimmerseInputError,
    VimmerseInsufficientCreditError,
    VimmerseJobError,
    VimmerseJobMayExistError,
    VimmerseNotFoundError,
)
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.links.vimmerse import VimmerseJobLink, persist_job_link

if TYPE_CHECKING:
    from airflow_provider_vimmerse.api.responses import JobSnapshot

#: Key of the job reference in the per-task state store.
STATE_KEY = "vimmerse_job"
DEFAULT_TIMEOUT = timedelta(hours=2)
#: Errors a task retry cannot fix, or where a retry could pay twice: fail at once, no task retry.
_FINAL_ERRORS = (VimmerseInputError, VimmerseAuthError, VimmerseInsufficientCreditError, VimmerseJobMayExistError)


@contextlib.contextmanager
def fail_fast() -> Iterator[None]:
    """Turn errors that a task retry cannot fix, or that could pay twice, into ``AirflowFailException``."""
    try:
        yield
    except _FINAL_ERRORS as error:
        raise AirflowFailException(str(error)) from error


def _seconds(value: float | timedelta | None) -> float | None:
    return value.total_seconds() if isinstance(value, timedelta) else value


@dataclass(frozen=True)
class Submission:
    """
    What a submit started: the job to wait on, and, when the request re-ran a finished job, what
    the wait must see before it believes ``success`` (see :class:`~airflow_provider_vimmerse.api.waiting.Rerun`).

    :param job_id: the job's id
    :param rerun: set when the request re-ran a job that had finished
    """

    job_id: str
    rerun: Rerun | None = None


class VimmerseJobOperator(BaseOperator):
    """
    Base of the operators that start a Vimmerse job and wait for it.

    Subclasses set ``job_kind`` and implement :meth:`submit` (and :meth:`check_inputs` when they
    take input).

    :param vimmerse_conn_id: Vimmerse connection id
    :param wait_for_completion: wait until the job ends (default); False returns the id at once
    :param deferrable: wait in the triggerer, holding no worker slot (default from
        ``[operators] default_deferrable``)
    :param poll_interval: fixed seconds between status checks; None (default) adapts: quick first
        checks, then slower up to a minute
    :param timeout: how long to wait for the job before failing (the job may go on remotely)
    """

    job_kind: ClassVar[str] = ""
    #: A ``success`` without an output keeps the wait going (a story reads ``success`` before its
    #: composed video is there).
    need_output: ClassVar[bool] = False
    #: Seconds a re-run job may show no sign of its new run before the task fails (None: until
    #: ``timeout``); see :meth:`rerun`.
    rerun_grace: ClassVar[float | None] = DEFAULT_RERUN_GRACE
    ui_color = "#e8dcff"
    operator_extra_links = (VimmerseJobLink(),)

    def __init__(
        self,
        *,
        vimmerse_conn_id: str = VimmerseHook.default_conn_name,
        wait_for_completion: bool = True,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float | None = None,
        timeout: float | timedelta = DEFAULT_TIMEOUT,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.vimmerse_conn_id = vimmerse_conn_id
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.timeout = timeout
        if poll_interval is not None and poll_interval <= 0:
            raise VimmerseInputError("poll_interval", f"must be a positive number of seconds, got {poll_interval!r}")
        if (_seconds(timeout) or 0) <= 0:
            raise VimmerseInputError("timeout", f"must be positive, got {timeout!r}")

    @cached_property
    def hook(self) -> VimmerseHook:
        """Return the hook (no I/O until first use)."""
        return VimmerseHook(vimmerse_conn_id=self.vimmerse_conn_id)

    # ------------------------------------------------------------------ subclass API

    def check_inputs(self) -> None:
        """Validate the rendered inputs; raise :class:`.VimmerseInputError` naming the field. No I/O."""

    def submit(self, context: Any) -> str | Submission:
        """Start the job and return its id (or a :class:`Submission` when it re-ran a finished job)."""
        raise NotImplementedError

    def rerun(self, job_id: str, req: ApiRequest, action: str) -> Submission:
        """
        Send a request that runs a finished job again (regeneration, process, concat), and say so.

        The job's run fingerprint is read first (which also fails before paying when the job does not
        exist), so the wait can tell the new run's ``success`` from the old one: the documents do not
        say the status leaves ``success`` at once, and a concat's answer is ``{}``.

        :param job_id: the job that runs again
        :param req: the request that re-runs it
        :param action: what it is, for messages (``regeneration``, ``process``, ``concat``)
        """
        baseline = self.hook.run_fingerprint(self.job_kind, job_id)
        requested_at = time.time()
        self.hook.request(req)
        return Submission(job_id, Rerun(action, baseline, requested_at, self.rerun_grace))

    def first_reading(self, job_id: str) -> JobSnapshot | None:
        """Return the job's status as the submit answer already showed it, or None to poll for it."""
        return None

    def spends_credits(self) -> bool:
        """Return True when :meth:`submit` starts a paid generation (so a retry must not repeat it)."""
        return True

    # ------------------------------------------------------------------ flow

    def execute(self, context: Any) -> JobResult | dict[str, Any]:
        """Validate, submit (or reattach), then wait in the triggerer or here."""
        with fail_fast():
            self.check_inputs()
            job_id, snapshot, rerun = self._reattach(context)
            if job_id is None:
                submitted = self.submit(context)
                if isinstance(submitted, str):
                    submitted = Submission(submitted)
                job_id, rerun = submitted.job_id, submitted.rerun
                self._remember(context, job_id, rerun)
            persist_job_link(context, self.hook.web_url(self.job_kind, job_id))
            if not self.wait_for_completion:
                self.log.info("%s %s submitted; not waiting (wait_for_completion=False)", self.job_kind, job_id)
                self._forget(context)
                return self.submitted_result(job_id)
            return self._wait(context, job_id, snapshot, rerun)

    def _wait(self, context: Any, job_id: str, snapshot: JobSnapshot | None, rerun: Rerun | None) -> JobResult:
        deadline = time.time() + (_seconds(self.timeout) or 0)
        watch = JobWatch(self.job_kind, job_id, deadline, self.poll_interval, rerun=rerun, need_output=self.need_output)
        if rerun is None:
            snapshot = snapshot or self.first_reading(job_id)
        if snapshot is None:
            event, _ = self._poll_once(watch)
        else:  # already read while deciding to reattach
            event = self._observe(watch, snapshot)
        if event is None and self.deferrable:
            self.log.info("Waiting for %s %s in the triggerer (no worker slot held)", self.job_kind, job_id)
            from airflow_provider_vimmerse.triggers.job import VimmerseJobTrigger  # only needed to defer

            self.defer(
                trigger=VimmerseJobTrigger(
                    conn_id=self.vimmerse_conn_id,
                    kind=self.job_kind,
                    job_id=job_id,
                    deadline=deadline,
                    poll_interval=self.poll_interval,
                    rerun=rerun.to_payload() if rerun else None,
                    need_output=self.need_output,
                ),
                method_name="execute_complete",
            )
        if event is None:
            event = self._wait_here(watch)
        return self.execute_complete(context, event.to_payload())

    def _wait_here(self, watch: JobWatch) -> WaitEvent:
        """Poll synchronously with the same rules as the trigger."""
        error: VimmerseError | None = None
        while True:
            time.sleep(watch.next_delay(error))
            if watch.expired():
                return watch.timeout_event()
            event, error = self._poll_once(watch, retries=0)
            if event is not None:
                return event

    def _poll_once(self, watch: JobWatch, retries: int | None = None) -> tuple[WaitEvent | None, VimmerseError | None]:
        """Read the status once; a transient error is logged and leaves the wait going."""
        try:
            snapshot = self.hook.get_job_snapshot(
                self.job_kind, watch.job_id, retries=retries, full_object=watch.wants_full_object
            )
        except VimmerseError as error:
            line, event = watch.observe_error(error)
            self.log.warning(line)
            return event, error
        return self._observe(watch, snapshot), None

    def _observe(self, watch: JobWatch, snapshot: JobSnapshot) -> WaitEvent | None:
        lines, event = watch.observe(snapshot)
        for line in lines:
            self.log.info(line)
        return event

    def execute_complete(self, context: Any, event: dict[str, Any]) -> JobResult:
        """
        Turn the wait's event into the task's result, or a clear error.

        Only events this provider sends are accepted. Success fetches the job's details once.
        """
        try:
            outcome = WaitEvent.from_payload(event)
        except ValueError as error:
            raise AirflowFailException(f"Unexpected event from the Vimmerse trigger: {error}") from None
        if outcome.status is not WaitStatus.SUCCESS:
            raise job_error(outcome)
        with fail_fast():
            result = self.finish(context, outcome.job_id)
        self._forget(context)
        return result

    def finish(self, context: Any, job_id: str) -> JobResult:
        """Fetch the finished job once and return its small result."""
        result = self.hook.result_of(self.job_kind, job_id, self.hook.get_job(self.job_kind, job_id))
        self.log.info(
            "%s %s finished: %d output(s) %s", self.job_kind, job_id, len(result["video_urls"]), result["video_urls"]
        )
        return result

    def edit_at_once(self, job_id: str, req: ApiRequest, changed: Iterable[str]) -> JobResult:
        """Send an edit that regenerates nothing (no credits, no job) and return the result at once."""
        with fail_fast():
            obj = expect_object(self.hook.request(req), method=req.method, path=req.path)
            result = self.hook.result_of(self.job_kind, job_id, obj)
        self.log.info("%s %s: metadata updated (%s); nothing regenerated", self.job_kind, job_id, ", ".join(changed))
        return result

    def submitted_result(self, job_id: str) -> JobResult:
        """Return the result of a job that was started and not waited for."""
        return {
            "kind": self.job_kind,
            "id": job_id,
            "status": "submitted",
            "progress": None,
            "video_urls": [],
            "web_url": self.hook.web_url(self.job_kind, job_id),
        }

    # ------------------------------------------------------------------ never pay twice

    def _reattach(self, context: Any) -> tuple[str | None, JobSnapshot | None, Rerun | None]:
        """
        Return the job of an earlier try of this task when it is running or done, else Nones.

        A job that an earlier try re-ran (regeneration, process, concat) is always waited on again
        with the same rerun check: its reading now may still be the one from before the request.
        """
        store = context.get("task_state_store")
        if store is None:
            return None, None, None
        saved = store.get(STATE_KEY)
        if not isinstance(saved, dict) or saved.get("kind") != self.job_kind or not saved.get("id"):
            return None, None, None
        job_id = str(saved["id"])
        rerun = Rerun.from_payload(saved.get("rerun"))
        if rerun is not None:
            self.log.info(
                "%s %s: an earlier try already sent the %s; waiting for it, nothing is sent again",
                self.job_kind,
                job_id,
                rerun.action,
            )
            return job_id, None, rerun
        try:
            snapshot = self.hook.get_job_snapshot(self.job_kind, job_id)
        except VimmerseNotFoundError:
            self.log.warning("%s %s from an earlier try no longer exists; submitting a new job", self.job_kind, job_id)
            return None, None, None
        state = snapshot.effective_state
        if state in (JobState.FAILED, JobState.CANCELLED):
            self.log.warning(
                "%s %s from an earlier try ended %s (%s); submitting a new job",
                self.job_kind,
                job_id,
                snapshot.raw_status,
                snapshot.message or "no message",
            )
            return None, None, None
        verb = "already finished" if state is JobState.SUCCEEDED else "is still running"
        self.log.info("%s %s from an earlier try %s: reattaching, nothing is submitted", self.job_kind, job_id, verb)
        return job_id, snapshot, None

    def _forget(self, context: Any) -> None:
        """Drop the saved job once the task succeeds, so clearing the task later makes a new video."""
        store = context.get("task_state_store")
        if store is not None:
            store.delete(STATE_KEY)

    def _remember(self, context: Any, job_id: str, rerun: Rerun | None = None) -> None:
        store = context.get("task_state_store")
        if store is None:
            self.log.info(
                "%s %s submitted. This Airflow has no per-task state store (3.3+), so a retry of this task "
                "before it defers would submit again.",
                self.job_kind,
                job_id,
            )
            return
        saved: dict[str, Any] = {"kind": self.job_kind, "id": job_id}
        if rerun is not None:
            saved["rerun"] = rerun.to_payload()
        store.set(STATE_KEY, saved)
        self.log.info("%s %s submitted; id saved so a retry reattaches instead of paying twice", self.job_kind, job_id)


def job_error(outcome: WaitEvent) -> VimmerseJobError:
    """Return the error that ends a task whose job did not succeed."""
    what = f"{outcome.kind} {outcome.job_id}"
    messages = {
        WaitStatus.FAILED: f"{what} failed on the Vimmerse side: {outcome.message or 'no reason given'}",
        WaitStatus.CANCELLED: f"{what} was cancelled: {outcome.message or 'no reason given'}",
        WaitStatus.TIMEOUT: outcome.message or f"{what} was not finished in time; it may still be running remotely",
        WaitStatus.ERROR: f"Could not follow {what}: {outcome.message}",
    }
    return VimmerseJobError(
        messages[outcome.status], kind=outcome.kind, job_id=outcome.job_id, outcome=outcome.status.value
    )


def as_list(value: Any) -> list[Any]:
    """Return ``value`` as a list (None -> [], a single item -> [item])."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return list(value)
    return [value]
