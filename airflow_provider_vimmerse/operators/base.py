"""
The bases of every Vimmerse operator that sends a request: validate -> submit once -> follow the answer.

* :class:`VimmerseOperator`: the hook, and parameters declared once (:mod:`~airflow_provider_vimmerse.operators.params`)
  and checked when the operator is made.
* :class:`VimmerseSubmitOperator`: the checks, the submit, and never paying twice.
* :class:`VimmerseJobOperator`: the answer is a job to wait on (in the triggerer, or here).
* :class:`VimmerseRerunOperator`: the job exists and runs again (reprocess, compose again); the wait takes its new run.
* :class:`VimmerseConcatOperator`: a batch's or story's videos composed again.
* :class:`VimmerseEditOperator`: the edit of a media or a batch: free metadata at once, or a paid regeneration.
* :class:`VimmerseGroupJobOperator`: the job is a batch or a story: each media is reported, and partial failures.
* :class:`VimmerseStoryJobOperator`: a story job: its storyboard and id are pushed to XCom too.
* :class:`VimmerseAssetJobOperator`: a tool table's request, answered with an asset (or its output).
* :class:`VimmerseStoryStepOperator`: a story step the API answers when its work is done.
* :class:`VimmerseOnStoryOperator`: a step on an existing story, named by ``story_id``.

Never pay twice: what a submit started is written to Airflow's per-task state store (Airflow 3.3+) as
soon as the answer is in. A later try of the same task instance reads it first: a job still running is
reattached, a finished one returns its result, a failed or cancelled one is submitted fresh; a story
step already answered reads the story back. On Airflow below 3.3 there is no such store: a try that
ends before it defers (worker killed between submit and defer) resubmits on retry; once deferred, the
wait itself survives triggerer restarts.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.common.compat.sdk import AirflowFailException, BaseOperator, conf

from airflow_provider_vimmerse.api.config import DEFAULT_CONN_ID
from airflow_provider_vimmerse.exceptions import (
    VimmerseAuthError,
    VimmerseError,
    VimmerseInputError,
    VimmerseInsufficientCreditError,
    VimmerseJobError,
    VimmerseJobMayExistError,
    VimmerseNotFoundError,
)
from airflow_provider_vimmerse.links.vimmerse import VimmerseJobLink, persist_job_link
from airflow_provider_vimmerse.operators.outlets import Made
from airflow_provider_vimmerse.operators.params import (
    EXTRA,
    KEPT,
    Param,
    api_fields,
    declared,
    table_of,
    wire,
)

if TYPE_CHECKING:
    from airflow_provider_vimmerse.api.endpoints import ApiRequest
    from airflow_provider_vimmerse.api.fields import EditRoute, Tool
    from airflow_provider_vimmerse.api.responses import JobSnapshot
    from airflow_provider_vimmerse.api.results import JobResult
    from airflow_provider_vimmerse.api.submissions import Submission
    from airflow_provider_vimmerse.api.waiting import JobWatch, WaitEvent
    from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook

#: Key of the job reference in the per-task state store.
STATE_KEY = "vimmerse_job"
DEFAULT_TIMEOUT = timedelta(hours=2)
#: How long a batch that reads finished is given to show its composed video: "Composition typically takes
#: 1-3 minutes" (openapi.json, POST /story/{story_id}/concat); docs/api-contract.md says why a batch may have none.
DEFAULT_COMPOSE_TIMEOUT = 180.0
#: Failed media whose reason is looked up (one ``GET /media/{id}`` each) for the log and the error.
MAX_REASONS = 10
#: XCom keys every story operator pushes besides its return value.
STORY_ID_KEY = "story_id"
STORYBOARD_KEY = "storyboard"
#: Errors a task retry cannot fix, or where a retry could pay twice: fail at once, no task retry.
_FINAL_ERRORS = (VimmerseInputError, VimmerseAuthError, VimmerseInsufficientCreditError, VimmerseJobMayExistError)


@contextlib.contextmanager
def fail_fast() -> Iterator[None]:
    """Turn errors that a task retry cannot fix, or that could pay twice, into ``AirflowFailException``."""
    try:
        yield
    except _FINAL_ERRORS as error:
        raise AirflowFailException(str(error)) from error


def _check_values(operator: VimmerseOperator) -> None:
    operator.check_values()


def _seconds(value: float | timedelta | None) -> float | None:
    return value.total_seconds() if isinstance(value, timedelta) else value


class VimmerseHookMixin:
    """Give an operator or sensor its hook, made on first use from ``vimmerse_conn_id`` (no I/O before)."""

    vimmerse_conn_id: str

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


def checked_kind(kind: str) -> str:
    """
    Return ``kind`` once it names a job kind (a key of :data:`~airflow_provider_vimmerse.api.jobs.JOB_KINDS`).

    :raises VimmerseInputError: for any other name, listing the allowed ones
    """
    from airflow_provider_vimmerse.api.jobs import get_job_kind

    get_job_kind(kind)
    return kind


class VimmerseOperator(VimmerseHookMixin, BaseOperator):
    """
    Base of every Vimmerse operator whose parameters are declared as :class:`~.params.Param`\\ s in its class body.

    The declarations make its keyword arguments, ``template_fields`` and ``:param:`` lines; once they are
    set, :meth:`check_values` checks them (literal values when the DAG is parsed).

    :param vimmerse_conn_id: Vimmerse connection id
    """

    #: Every parameter the class declares, its bases' included (set from the :class:`~.params.Param`\ s).
    param_table: ClassVar[Mapping[str, Param]] = {}
    ui_color = "#e8dcff"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.param_table = table_of(cls)
        if cls.param_table:
            wire(cls, declared(cls), _check_values)

    def __init__(self, *, vimmerse_conn_id: str = DEFAULT_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.vimmerse_conn_id = vimmerse_conn_id

    def check_values(self) -> None:
        """
        Check the values that are set; raise :class:`.VimmerseInputError` naming the parameter. No I/O.

        Runs when the operator is made (literal values; unrendered templates are skipped) and again
        when the task runs, on the rendered values.
        """


class VimmerseSubmitOperator(VimmerseOperator):
    """
    Base of the operators that send a request which may spend credits, once: validate -> submit -> result.

    Subclasses set ``job_kind``, declare their API fields as :class:`~.params.Param`\\ s in the class body,
    implement :meth:`submit`, and check the values in :meth:`check_values` (execute-time checks, such
    as a path id, in :meth:`check_inputs`). Every try reads the task state store first
    (:meth:`resume`), so a retry takes back what an earlier try submitted instead of paying again.

    :param vimmerse_conn_id: Vimmerse connection id
    """

    job_kind: ClassVar[str] = ""
    operator_extra_links = (VimmerseJobLink(),)

    # ------------------------------------------------------------------ subclass API

    def api_fields(self) -> dict[str, Any]:
        """Return the API fields that are set, as the API names them, from the class's parameters."""
        return api_fields(self, self.param_table)

    def check_inputs(self) -> None:
        """Validate the rendered inputs before anything is sent: the id of the job worked on, the field values."""
        self.target_id()
        self.check_values()

    def target_id(self) -> str | None:
        """Return the rendered id of the existing job the request works on (checked), or None for a new job."""
        return None

    def submit(self, context: Any) -> Submission:
        """Send the request (:meth:`send`, or :meth:`~VimmerseJobOperator.rerun`) and return what its answer says."""
        raise NotImplementedError

    def send(
        self, req: ApiRequest, *, job_id: str | None = None, done: bool = False, tool: Tool | None = None
    ) -> Submission:
        """
        Send ``req`` and read its answer (:func:`~airflow_provider_vimmerse.api.submissions.parse_submission`).

        :param req: the request
        :param job_id: the job the request names in its path, for answers without an id
        :param done: the request answers when its work is done (the result is read without waiting)
        :param tool: the tool row, for the answers of the tool tables
        """
        from airflow_provider_vimmerse.api.submissions import parse_submission

        return parse_submission(self.hook.request(req), req.describe(), job_id=job_id, done=done, tool=tool)

    def finish(self, context: Any, job_id: str, obj: Mapping[str, Any] | None = None) -> JobResult:
        """
        Return the result of a finished job: from ``obj`` when the answer was the finished job, else fetched once.

        :param context: the task's context
        :param job_id: the job
        :param obj: the finished job's object as the answer showed it, if it did
        """
        if obj is not None:
            result = self.hook.result_of(self.job_kind, job_id, obj)
            self.log.info("%s %s was finished in the answer: %s", self.job_kind, job_id, result["video_urls"])
            return result
        result = self.fetch_result(self.job_kind, job_id)
        self.log.info(
            "%s %s finished: %d output(s) %s", self.job_kind, job_id, len(result["video_urls"]), result["video_urls"]
        )
        return result

    def wait(self, context: Any, submission: Submission) -> JobResult:
        """Wait for a job that the answer shows unfinished (:class:`VimmerseJobOperator` does)."""
        raise NotImplementedError(f"{type(self).__name__} cannot wait for {self.job_kind} {submission.job_id}")

    # ------------------------------------------------------------------ flow

    def execute(self, context: Any) -> JobResult:
        """Validate, submit (or take back what an earlier try submitted), then follow the answer."""
        with fail_fast():
            self.check_inputs()
            submission = self._reattach(context)
            if submission is None:
                submission = self.sent(self.submit(context))
                self._remember(context, submission)
            result = self.follow(context, submission)
        self.record(context, Made(result))
        return result

    def sent(self, submission: Submission) -> Submission:
        """Return ``submission`` with what this try's request asked for besides the job (nothing here)."""
        return submission

    def follow(self, context: Any, submission: Submission) -> JobResult:
        """Return the output the answer carries, or the finished job's result, or wait for the job."""
        if submission.output is not None:
            self.log.info("The answer is the output itself; there is no job to wait for")
            return submission.output
        persist_job_link(context, self.hook.web_url(self.job_kind, submission.job_id))
        if not submission.done:
            return self.wait(context, submission)
        result = self.finish(context, submission.job_id, submission.finished)
        self._forget(context)
        return result

    # ------------------------------------------------------------------ never pay twice

    def resume(self, context: Any, job_id: str, saved: Mapping[str, Any]) -> Submission | None:
        """
        Return the job an earlier try of this task submitted, when it is running or done; None submits anew.

        A job that an earlier try re-ran (regeneration, process, concat) is always waited on again
        with the same rerun check: its reading now may still be the one from before the request.

        :param context: the task's context
        :param job_id: the job the earlier try saved
        :param saved: everything it saved (:meth:`saved_state`)
        """
        from airflow_provider_vimmerse.api.status import JobStatus
        from airflow_provider_vimmerse.api.submissions import Submission
        from airflow_provider_vimmerse.api.waiting import Rerun

        rerun = Rerun.from_payload(saved.get("rerun"))
        if rerun is not None:
            self.log.info(
                "%s %s: an earlier try already sent the %s; waiting for it, nothing is sent again",
                self.job_kind,
                job_id,
                rerun.action,
            )
            return Submission(job_id, rerun=rerun)
        try:
            snapshot = self.hook.get_job_snapshot(self.job_kind, job_id)
        except VimmerseNotFoundError:
            self.log.warning("%s %s from an earlier try no longer exists; submitting a new job", self.job_kind, job_id)
            return None
        state = snapshot.effective_state
        if state.is_failure:
            self.log.warning(
                "%s %s from an earlier try ended %s (%s); submitting a new job",
                self.job_kind,
                job_id,
                snapshot.raw_status,
                snapshot.message or "no message",
            )
            return None
        verb = "already finished" if state is JobStatus.SUCCESS else "is still running"
        self.log.info("%s %s from an earlier try %s: reattaching, nothing is submitted", self.job_kind, job_id, verb)
        return Submission(job_id, status=snapshot)

    def saved_state(self, submission: Submission) -> dict[str, Any]:
        """Return what a later try of this task needs to take ``submission`` back (kept in the task state store)."""
        saved: dict[str, Any] = {"kind": self.job_kind, "id": submission.job_id}
        if submission.rerun is not None:
            saved["rerun"] = submission.rerun.to_payload()
        return saved

    def _reattach(self, context: Any) -> Submission | None:
        store = context.get("task_state_store")
        if store is None:
            return None
        saved = store.get(STATE_KEY)
        if not isinstance(saved, dict) or saved.get("kind") != self.job_kind or not saved.get("id"):
            return None
        return self.resume(context, str(saved["id"]), saved)

    def _forget(self, context: Any) -> None:
        """Drop the saved job once the task succeeds, so clearing the task later makes a new video."""
        store = context.get("task_state_store")
        if store is not None:
            store.delete(STATE_KEY)

    def _remember(self, context: Any, submission: Submission) -> None:
        if not submission.job_id:
            return  # the answer was the output itself: nothing to take back
        store = context.get("task_state_store")
        job_id = submission.job_id
        if store is None:
            self.log.info(
                "%s %s submitted. This Airflow has no per-task state store (3.3+), so a retry of this task "
                "%s would submit again.",
                self.job_kind,
                job_id,
                "before it ends" if submission.done else "before it defers",
            )
            return
        store.set(STATE_KEY, self.saved_state(submission))
        self.log.info("%s %s submitted; id saved so a retry reattaches instead of paying twice", self.job_kind, job_id)


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
        seconds = settings.get("poll_interval")
    except ValueError:
        seconds = -1.0
    if seconds is not None and not 0 < seconds < float("inf"):
        raw = conf.get(settings.SECTION, "poll_interval", fallback="")
        raise VimmerseInputError("[vimmerse] poll_interval", f"must be a positive number of seconds, got {raw!r}")
    return seconds


class VimmerseJobOperator(VimmerseSubmitOperator):
    """
    Base of the operators that start a Vimmerse job and wait for it.

    Subclasses set ``job_kind``, declare their fields and implement :meth:`submit`.

    :param vimmerse_conn_id: Vimmerse connection id
    :param wait_for_completion: wait until the job ends (default); False returns the id at once
    :param deferrable: wait in the triggerer, holding no worker slot; None (default) takes the deployment's
        ``[vimmerse] deferrable`` (True unless configured). False waits on the worker, holding its slot
    :param poll_interval: fixed seconds between status checks; None (default) takes the deployment's
        ``[vimmerse] poll_interval`` when set (read when the task runs), else adapts: quick first checks,
        then slower up to a minute
    :param timeout: how long to wait for the job before failing (the job may go on remotely)
    """

    #: A ``success`` without an output keeps the wait going (a story reads ``success`` before its
    #: composed video is there).
    need_output: ClassVar[bool] = False
    #: With ``need_output``, the most time a ``success`` without an output keeps the wait going (None: until
    #: ``timeout``); only the batch operators set it (``compose_timeout``).
    compose_timeout: float | timedelta | None = None
    #: With webhooks on, the provider fills ``webhook_url`` of the job this operator starts (not of a re-run).
    fills_webhook_url: ClassVar[bool] = True
    #: This try's :class:`~airflow_provider_vimmerse.operators.webhooks.WebhookPlan` (None: the wait polls), for
    #: :meth:`api_fields`, which has no context to plan from.
    _webhook_plan: Any = None

    def __init__(
        self,
        *,
        wait_for_completion: bool = True,
        deferrable: bool | None = None,
        poll_interval: float | None = None,
        timeout: float | timedelta = DEFAULT_TIMEOUT,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.wait_for_completion = wait_for_completion
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.poll_interval = poll_interval
        self.timeout = timeout
        if poll_interval is not None and poll_interval <= 0:
            raise VimmerseInputError("poll_interval", f"must be a positive number of seconds, got {poll_interval!r}")
        if (_seconds(timeout) or 0) <= 0:
            raise VimmerseInputError("timeout", f"must be positive, got {timeout!r}")

    def check_inputs(self) -> None:
        """Validate as the base does, and the deployment's ``[vimmerse] poll_interval`` before anything is paid for."""
        super().check_inputs()
        if self.poll_interval is None:
            default_poll_interval()

    def wait_interval(self) -> float | None:
        """Return the seconds between status checks: the task's, else the deployment's, else None (adaptive)."""
        return self.poll_interval if self.poll_interval is not None else default_poll_interval()

    @property
    def rerun_grace(self) -> float | None:
        """
        Return the seconds a re-run job may show no sign of its new run before the task fails (None: until
        ``timeout``); see :meth:`rerun`.

        :data:`~airflow_provider_vimmerse.api.waiting.DEFAULT_RERUN_GRACE` unless the class sets ``rerun_grace``.
        """
        from airflow_provider_vimmerse.api.waiting import DEFAULT_RERUN_GRACE

        return DEFAULT_RERUN_GRACE

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
        from airflow_provider_vimmerse.api.waiting import Rerun

        baseline = self.hook.run_fingerprint(self.job_kind, job_id)
        requested_at = time.time()
        submission = self.send_on_known_job(req, job_id)
        return replace(submission, job_id=job_id, rerun=Rerun(action, baseline, requested_at, self.rerun_grace))

    def send_on_known_job(self, req: ApiRequest, job_id: str, *, wait_kind: str = "", done: bool = False) -> Submission:
        """
        Send a request that works on an existing job; when its answer is lost, wait for the job instead.

        A paid request whose answer does not come (a read timeout, a dropped connection after sending:
        :class:`~airflow_provider_vimmerse.exceptions.VimmerseJobMayExistError`) may be running: the job
        is known, so the task reads it back and waits for it (in the triggerer when deferrable), and never
        sends the request a second time.

        :param req: the request (it names ``job_id`` in its path)
        :param job_id: the job it works on
        :param wait_kind: the kind to wait on when it is not the operator's own (a story step)
        :param done: the request answers when its work is done (as for :meth:`send`)
        """
        from airflow_provider_vimmerse.api.submissions import Submission

        try:
            return self.send(req, job_id=job_id, done=done)
        except VimmerseJobMayExistError as error:
            self.log.warning(
                "%s %s: %s got no answer in time (%s). It may be running, so it is not sent again: "
                "reading the %s back and waiting for it",
                self.job_kind,
                job_id,
                req.describe(),
                type(error.__cause__ or error).__name__,
                self.job_kind,
            )
            return Submission(job_id, wait_kind=wait_kind)

    def execute(self, context: Any) -> JobResult:
        """Decide this try's webhook (``docs/waiting.md``; off by default), then validate, submit and follow."""
        from airflow_provider_vimmerse.operators.webhooks import plan_webhook

        self._webhook_plan = plan_webhook(self, context)
        return super().execute(context)

    def api_fields(self) -> dict[str, Any]:
        """Return the API fields, with the signed ``webhook_url`` when this try asks for a webhook."""
        fields = super().api_fields()
        if self._webhook_plan is not None:
            fields["webhook_url"] = self._webhook_plan.url
        return fields

    def sent(self, submission: Submission) -> Submission:
        """Return ``submission`` with the trigger's hint settings when this try's request sent a ``webhook_url``."""
        if self._webhook_plan is None:
            return submission
        return replace(submission, webhook=self._webhook_plan.trigger_kwargs)

    def follow(self, context: Any, submission: Submission) -> JobResult:
        """Return at once what needs no wait (or when not waiting), else wait for the job."""
        if submission.output is None and not submission.done and not self.wait_for_completion:
            persist_job_link(context, self.hook.web_url(self.job_kind, submission.job_id))
            self.log.info("%s %s submitted; not waiting (wait_for_completion=False)", self.job_kind, submission.job_id)
            self._forget(context)
            return self.submitted_result(submission.job_id)
        return super().follow(context, submission)

    def wait(self, context: Any, submission: Submission) -> JobResult:
        """Wait for the job in the triggerer (``deferrable``) or here, with the same rules."""
        from airflow_provider_vimmerse.api.waiting import JobWatch

        job_id, rerun = submission.job_id, submission.rerun
        kind = submission.wait_kind or self.job_kind
        deadline = time.time() + (_seconds(self.timeout) or 0)
        poll_interval = self.wait_interval()
        grace = _seconds(self.compose_timeout)
        watch = JobWatch(
            kind,
            job_id,
            deadline,
            poll_interval,
            rerun=rerun,
            need_output=self.need_output,
            output_grace=grace,
        )
        if submission.status is None:
            event, _ = self._poll_once(watch)
        else:  # the answer, or the earlier try's reattach, already read it
            event = self._observe(watch, submission.status)
        if event is None and self.deferrable:
            self.log.info("Waiting for %s %s in the triggerer (no worker slot held)", kind, job_id)
            from airflow_provider_vimmerse.triggers.job import VimmerseJobTrigger  # only needed to defer

            self.defer(
                trigger=VimmerseJobTrigger(
                    conn_id=self.vimmerse_conn_id,
                    kind=kind,
                    job_id=job_id,
                    deadline=deadline,
                    poll_interval=poll_interval,
                    rerun=rerun.to_payload() if rerun else None,
                    need_output=self.need_output,
                    webhook=submission.webhook,
                    output_grace=grace,
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
                watch.kind, watch.job_id, retries=retries, full_object=watch.wants_full_object
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
        from airflow_provider_vimmerse.api.status import JobStatus
        from airflow_provider_vimmerse.api.waiting import WaitEvent

        try:
            outcome = WaitEvent.from_payload(event)
        except ValueError as error:
            raise AirflowFailException(f"Unexpected event from the Vimmerse trigger: {error}") from None
        if outcome.status is not JobStatus.SUCCESS:
            raise job_error(outcome)
        with fail_fast():
            result = self.finish(context, outcome.job_id)
        self._forget(context)
        self.record(context, Made(result))
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
            "conn_id": self.vimmerse_conn_id,
        }


class VimmerseGroupJobOperator(VimmerseJobOperator):
    """
    Base of the operators that wait on a batch or a story: reports each media and partial failures.

    :param fail_on_partial_failure: when some media of the batch or story failed (the rest succeeded),
        fail the task naming them (True), or succeed with the failures listed in the result's
        ``medias``, ``failed_media`` and ``failed_count`` (False). The log names them either way.
        Default: ``partial_failure_fails`` of the class (True but for the concat operators)
    """

    #: A batch or story "is finished" when its composed video is there: its ``video_url`` is set after
    #: the status reads ``success`` (batch.txt "if Batch is finished, you can get composed video from
    #: video_url"; story.txt "wait for videos are composed internally"), so the wait needs the output.
    need_output = True
    #: What ``fail_on_partial_failure`` is when not given.
    partial_failure_fails: ClassVar[bool] = True

    #: What ``compose_timeout`` is when not given; None for the operators that pay for the composed
    #: video itself (concat) or whose documents say it is always composed (stories): they wait until ``timeout``.
    default_compose_timeout: ClassVar[float | None] = None

    def __init__(
        self,
        *,
        fail_on_partial_failure: bool | None = None,
        compose_timeout: float | timedelta | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.fail_on_partial_failure = (
            self.partial_failure_fails if fail_on_partial_failure is None else fail_on_partial_failure
        )
        if compose_timeout is not None and self.default_compose_timeout is None:
            raise VimmerseInputError(
                "compose_timeout",
                f"{type(self).__name__} waits for its composed video until timeout (it is what the task is for); "
                "compose_timeout is for VimmerseCreateBatchOperator and VimmerseUpdateBatchOperator",
            )
        self.compose_timeout = self.default_compose_timeout if compose_timeout is None else compose_timeout
        if self.compose_timeout is not None and (_seconds(self.compose_timeout) or 0) < 0:
            raise VimmerseInputError("compose_timeout", f"must be 0 or more seconds, got {compose_timeout!r}")

    def finish(self, context: Any, job_id: str, obj: Mapping[str, Any] | None = None) -> JobResult:
        """
        Fetch the finished job once and check its media.

        Operators that need the composed video (``need_output``) waited for it in the trigger or
        the wait, so it is there; but a batch's wait ends after ``compose_timeout`` without one, and
        the result then says ``composed: False`` and keeps the outputs of its media.
        """
        result = self.hook.result_of(self.job_kind, job_id, obj or self.hook.get_job(self.job_kind, job_id))
        total = len(result.get("medias", []))
        self.log.info(
            "%s %s finished: %d of %d media succeeded, %d failed; video %s",
            self.job_kind,
            job_id,
            result.get("finished_count", 0),
            total,
            result.get("failed_count", 0),
            result["video_urls"] or "(none)",
        )
        self.check_failures(result)
        if self.need_output and self.compose_timeout is not None:
            result["composed"] = bool(result["video_urls"])
            if not result["composed"]:
                self.log.warning(
                    "%s %s finished without a composed video (none within compose_timeout, %g s): the task succeeds "
                    "with the outputs of its %d media (result 'medias'); compose one with the concat operator",
                    self.job_kind,
                    job_id,
                    _seconds(self.compose_timeout),
                    total,
                )
        elif self.need_output and not result["video_urls"]:
            raise AirflowFailException(
                f"{self.job_kind} {job_id} finished but has no composed video_url; see {result['web_url']}"
            )
        return result

    def check_failures(self, result: JobResult) -> None:
        """Log the media that failed, with their reasons; fail the task when ``fail_on_partial_failure``."""
        failed = result.get("failed_media") or []
        if not failed:
            return
        self._add_reasons(result)
        reasons = {m["id"]: m.get("message") for m in result.get("medias", [])}
        named = "; ".join(f"{media_id} ({reasons.get(media_id) or 'no reason given'})" for media_id in failed)
        total = len(result.get("medias", [])) or len(failed)
        message = f"{result['kind']} {result['id']}: {len(failed)} of {total} media failed: {named}"
        self.log.warning(message)
        if self.fail_on_partial_failure:
            raise AirflowFailException(
                f"{message}. Set fail_on_partial_failure=False to succeed with the failures listed in the result."
            )

    def _add_reasons(self, result: JobResult) -> None:
        """Look up why failed media failed, when the group object does not say (a few requests at most)."""
        from airflow_provider_vimmerse.api.responses import failure_message
        from airflow_provider_vimmerse.api.results import media_status
        from airflow_provider_vimmerse.api.status import JobStatus

        medias = result.get("medias", [])
        missing = [m for m in medias if media_status(m) is JobStatus.FAILED and not m.get("message")]
        for media in missing[:MAX_REASONS]:
            with contextlib.suppress(VimmerseError):
                reason = failure_message(self.hook.get_job("media", media["id"]))
                if reason:
                    media["message"] = reason


class VimmerseRerunOperator(VimmerseJobOperator):
    """
    Base of the operators that run an existing job again: reprocess, compose again, a regenerating edit.

    The request spends credits; the wait takes the job's new run only (:meth:`~VimmerseJobOperator.rerun`).
    Subclasses set ``job_kind``, ``id_param`` (the parameter naming the job; or override
    :meth:`target_id`), ``rerun_action`` and ``rerun_doing``, declare the id, and build the request in
    :meth:`rerun_request`.
    """

    #: The parameter that names the job (``media_id``, ``batch_id``).
    id_param: ClassVar[str] = ""
    #: What the request is, for messages and the saved state (``process``, ``concat``, ``regeneration``).
    rerun_action: ClassVar[str] = ""
    #: What the task logs it is doing when it sends the request.
    rerun_doing: ClassVar[str] = ""
    fills_webhook_url = False

    def target_id(self) -> str:
        """
        Return the rendered id of the job to run again.

        :raises VimmerseInputError: when it is empty
        """
        value = getattr(self, self.id_param)
        if not value:
            raise VimmerseInputError(self.id_param, "is required")
        return str(value)

    def rerun_request(self, job_id: str) -> ApiRequest:
        """Return the request that runs ``job_id`` again."""
        raise NotImplementedError

    def submit(self, context: Any) -> Submission:
        """Send the request that runs the job again; the wait takes only its new run."""
        job_id = self.target_id()
        self.log.info("%s %s: %s (spends credits)", self.job_kind, job_id, self.rerun_doing)
        return self.rerun(job_id, self.rerun_request(job_id), self.rerun_action)


class VimmerseConcatOperator(VimmerseRerunOperator, VimmerseGroupJobOperator):
    """
    Base of the operators that compose a finished batch's or story's videos again (spends credits),
    then wait for the new composed ``video_url``.

    ``fail_on_partial_failure`` is False by default here: composing uses the media that succeeded,
    and the task that made them already reported the failures.
    """

    rerun_action = "concat"
    rerun_doing = "composing its videos again"
    partial_failure_fails = False
    #: Composition "typically takes 1-3 minutes" (openapi.json, POST /story/{story_id}/concat) and the
    #: status may read ``success`` all along: wait for the new video_url until ``timeout``.
    rerun_grace = None


class VimmerseEditOperator(VimmerseRerunOperator):
    """
    Base of the operators that edit a job (``PUT /media/{id}/edit``, ``PUT /batch/{id}/edit``).

    Metadata fields change at once, free, and the task returns without waiting. Setting a field that
    regenerates the job spends credits: the task logs it, then waits for the new run only. The route
    (:meth:`edit_route`) says which fields it takes and which of them regenerate.

    Subclasses set ``job_kind``, ``id_param`` and ``regenerated``, declare the id and the fields
    (``changes`` is declared here), and return their route from :meth:`edit_route`.
    """

    rerun_action = "regeneration"
    #: What a regeneration makes again, for the log (``the video``, ``every media``).
    regenerated: ClassVar[str] = ""

    changes = Param("the fields to change, with the API's names, as a dict", EXTRA)

    @classmethod
    def edit_route(cls) -> EditRoute:
        """Return the edit route of the job kind (imported on first use, not when the DAG file is parsed)."""
        raise NotImplementedError

    def check_values(self) -> None:
        """Check the changes: known fields only, at least one, valid values (no request is sent)."""
        self.edit_route().check(self.api_fields())

    def regenerates(self) -> list[str]:
        """Return the changed fields that regenerate the job (and spend credits)."""
        return self.edit_route().regenerating_fields(self.api_fields())

    def rerun_request(self, job_id: str) -> ApiRequest:
        """Return the edit of ``job_id`` with the changes."""
        return self.edit_route().request(job_id, self.api_fields())

    def submit(self, context: Any) -> Submission:
        """Send the edit: a regenerating one is waited on (its new run only); a metadata one is done at once."""
        job_id, changes = self.target_id(), self.api_fields()
        req = self.rerun_request(job_id)
        regen = self.regenerates()
        if regen:
            self.log.info(
                "%s %s: %s regenerate %s and spend credits", self.job_kind, job_id, ", ".join(regen), self.regenerated
            )
            return self.rerun(job_id, req, self.rerun_action)
        submission = self.send(req, job_id=job_id, done=True)
        self.log.info("%s %s: metadata updated (%s); nothing regenerated", self.job_kind, job_id, ", ".join(changes))
        return submission


class VimmerseAssetJobOperator(VimmerseJobOperator):
    """
    Base of the operators over a tool table: each tool's request answers with an *asset*.

    Tool fields are keyword arguments (``video_url=...``) or the ``inputs`` dict (use ``inputs`` to map
    over them with ``.expand(inputs=[...])``); the table declares each tool's fields once
    (:class:`~airflow_provider_vimmerse.api.fields.ToolField`). Literal values are checked when the
    DAG is parsed, templated ones when the task runs, before any request. An answer that is already
    finished (``async_mode: false``, or a route that answers synchronously) is returned without
    waiting or deferring; an unfinished asset is waited on like any job.

    The credit guard ``max_credits`` is checked when the operator is made: a number, at least 0, for a
    tool whose credits the API can estimate (``POST /v2/video/estimate-credits``); the operators that
    can estimate ask before sending (:class:`~airflow_provider_vimmerse.operators.video.VimmerseVideoOperator`).

    :param tool: the tool's name, a key of the operator's table
    :param inputs: tool fields, with the API's names (templated)
    :param extra_params: more fields sent as they are, for fields the API adds later (templated)
    :param max_credits: the most credits the request may cost; refused for a tool the API cannot estimate
    """

    job_kind = "asset"
    template_fields = ("inputs", "extra_params")

    @classmethod
    def tool_table(cls) -> Mapping[str, Tool]:
        """Return the operator's table of tools (imported on first use, not when the DAG file is parsed)."""
        raise NotImplementedError

    def __init__(
        self,
        *,
        tool: str,
        inputs: Mapping[str, Any] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        max_credits: float | None = None,
        **kwargs: Any,
    ) -> None:
        from airflow_provider_vimmerse.api import fields

        table = self.tool_table()
        known = {name for row in table.values() for name in row.field_names}
        tool_kwargs = {name: kwargs.pop(name) for name in list(kwargs) if name in known}
        super().__init__(**kwargs)
        self.tool = tool
        self.inputs = {**(inputs or {}), **tool_kwargs}
        self.extra_params = dict(extra_params or {})
        base = fields.get_tool(table, tool)
        if not (base.option_routes and fields.is_templated(self.inputs.get(base.option_field))):
            fields.prepare_values(self.row, self.inputs)  # literal values now; templated ones at execute
        if max_credits is not None:
            self.check_max_credits(max_credits)
        self.max_credits = max_credits

    def check_max_credits(self, max_credits: Any) -> None:
        """
        Check the credit guard: a number, at least 0, for a request whose credits the API can estimate without a guess.

        :raises VimmerseInputError: naming ``max_credits``
        """
        from airflow_provider_vimmerse.api.video import estimate_problem

        if isinstance(max_credits, bool) or not isinstance(max_credits, (int, float)) or max_credits < 0:
            raise VimmerseInputError("max_credits", f"must be a number of credits, at least 0, got {max_credits!r}")
        problem = estimate_problem(self.row, self.inputs)  # a templated value counts as given
        if problem is not None:
            raise VimmerseInputError("max_credits", problem)

    @property
    def row(self) -> Tool:
        """Return the row serving the inputs: the tool's, or the one its ``option`` is routed to."""
        from airflow_provider_vimmerse.api.fields import resolve_tool

        return resolve_tool(self.tool_table(), self.tool, self.inputs)

    def check_values(self) -> None:
        """Validate the rendered inputs against the tool's row (no request is sent)."""
        from airflow_provider_vimmerse.api.fields import prepare_values

        prepare_values(self.row, self.inputs)

    def submit(self, context: Any) -> Submission:
        """Send the tool's request; its answer is the asset (maybe finished already) or the output itself."""
        from airflow_provider_vimmerse.api.fields import prepare_values

        row = self.row
        return self.send(self.build_request(row, prepare_values(row, self.inputs)), tool=row)

    def build_request(self, row: Tool, values: dict[str, Any]) -> ApiRequest:
        """Return the tool's request for prepared values (subclasses handle local files)."""
        raise NotImplementedError


class VimmerseStoryStepOperator(VimmerseJobOperator):
    """
    Base of the story's advanced-flow steps that the API answers when their work is done (storyboard,
    elements, scenes).

    Subclasses set ``step``, declare their fields and implement :meth:`build_request`. The task reads
    the story once the step is answered and returns its result, with its ``storyboard``, and pushes the
    story id and storyboard under the XCom keys ``story_id`` and ``storyboard``.

    These requests generate images and "may take several minutes" (openapi.json, ``POST
    /story/{story_id}/scenes``): the answer is awaited ``answer_timeout`` seconds, else the connection's
    ``slow_step_timeout`` extra (default 600 s), whatever its ``timeout``. When the answer of a step on an
    existing story (elements, scenes) does not come in time, the task reads the story back and waits for
    the step's images (in the triggerer when deferrable, until ``timeout``): the step is never sent twice.

    Never pay twice (Airflow 3.3+): once the step is sent, the story and the step are saved in the
    task state store; a retry of the task reads the story back and returns it (or waits for the step),
    sending nothing.

    :param answer_timeout: seconds (or a ``timedelta``) to wait for the step's answer; default: the
        connection's ``slow_step_timeout`` extra (600 s unless set)
    """

    job_kind = "story"
    #: What the step makes: ``storyboard``, ``elements`` or ``scenes``.
    step: ClassVar[str] = ""
    fills_webhook_url = False

    # No Param here (each step declares its own, extra_params too): a class with Params gets a generated
    # __init__, which would replace this one.
    def __init__(self, *, answer_timeout: float | timedelta | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if answer_timeout is not None and (_seconds(answer_timeout) or 0) <= 0:
            raise VimmerseInputError("answer_timeout", f"must be a positive number of seconds, got {answer_timeout!r}")
        self.answer_timeout = answer_timeout

    def answer_seconds(self) -> float:
        """Return the seconds to wait for the step's answer: ``answer_timeout``, else ``slow_step_timeout``."""
        return _seconds(self.answer_timeout) or self.hook.config.slow_step_timeout

    @property
    def step_kind(self) -> str:
        """Return the job kind that waits for this step on a known story (``story_scenes``), or empty."""
        from airflow_provider_vimmerse.api.jobs import JOB_KINDS

        return f"story_{self.step}" if f"story_{self.step}" in JOB_KINDS else ""

    def build_request(self) -> ApiRequest:
        """Return the request of this step (local files are read here)."""
        raise NotImplementedError

    def submit(self, context: Any) -> Submission:
        """Send the step; its answer says the step is done (a lost answer on a known story: wait for it)."""
        story_id = self.target_id()
        if story_id and self.step_kind:
            return self.send_on_known_job(self.build_request(), story_id, wait_kind=self.step_kind, done=True)
        return self.send(self.build_request(), job_id=story_id, done=True)

    def saved_state(self, submission: Submission) -> dict[str, Any]:
        """Save the step too: a retry of this task takes back this step only."""
        return {**super().saved_state(submission), "step": self.step}

    def resume(self, context: Any, job_id: str, saved: Mapping[str, Any]) -> Submission | None:
        """Take back the story whose step an earlier try of this task sent: nothing is sent again."""
        from airflow_provider_vimmerse.api import story
        from airflow_provider_vimmerse.api.submissions import Submission

        if saved.get("step") != self.step:
            return None
        self.log.info(
            "story %s: an earlier try of this task already sent the %s step; reading the story, nothing is sent again",
            job_id,
            self.step,
        )
        if self.step_kind and not story.step_done(self.step, self.hook.get_job("story", job_id)):
            return Submission(job_id, wait_kind=self.step_kind)
        return Submission(job_id, done=True)

    def finish(self, context: Any, job_id: str, obj: Mapping[str, Any] | None = None) -> JobResult:
        """
        Read the story and return it with its storyboard (read, not taken from the answer: story.txt's
        elements answer is ``{"title": ""}``, and a retry has no answer).

        A story that does not show the step done (:func:`~airflow_provider_vimmerse.api.story.step_done`)
        is returned as it is, with a warning: the step was answered, so it is not sent again.
        """
        from airflow_provider_vimmerse.api import story

        obj = self.hook.get_job("story", job_id)
        result = self.hook.result_of("story", job_id, obj)
        result.setdefault("storyboard", story.storyboard_of(obj))
        scenes = result["storyboard"].get("scenes")
        self.log.info(
            "story %s: %s done (status %s); storyboard has %d scene(s)",
            job_id,
            self.step,
            result["status"] or "(none)",
            len(scenes) if isinstance(scenes, list) else 0,
        )
        if not story.step_done(self.step, obj):
            self.log.warning(
                "story %s does not show its %s done yet (see %s); the step was answered, so it is not sent again",
                job_id,
                self.step,
                result["web_url"],
            )
        push_story_xcoms(self, context, result)
        return result


class VimmerseStoryJobOperator(VimmerseGroupJobOperator):
    """
    Base of the story operators that start an asynchronous job and wait for the story video.

    The finished story's result holds its ``storyboard``; its id and storyboard are also pushed under
    the XCom keys ``story_id`` and ``storyboard``, like every story step.
    """

    job_kind = "story"

    def finish(self, context: Any, job_id: str, obj: Mapping[str, Any] | None = None) -> JobResult:
        """Return the finished story's result (with its storyboard) and push its id and storyboard."""
        result = super().finish(context, job_id, obj)
        push_story_xcoms(self, context, result)
        return result


class VimmerseOnStoryOperator(VimmerseSubmitOperator):
    """
    Base of the story operators that work on an existing story (every step after the storyboard).

    Combine it with the base of what the step does (:class:`VimmerseStoryStepOperator`,
    :class:`VimmerseStoryJobOperator`). ``story_id`` takes the story's id or the result of the previous
    step; it is checked, with the fields, before anything is sent.
    """

    job_kind = "story"

    story_id = Param("the story, or the result of the previous step", "str | dict[str, Any]", send=KEPT, required=True)

    def target_id(self) -> str:
        """Return the story's id (:func:`~airflow_provider_vimmerse.api.story.story_id_from` checks it)."""
        from airflow_provider_vimmerse.api.story import story_id_from

        return story_id_from(self.story_id)

    def check_values(self) -> None:
        """Validate the fields (no request is sent)."""
        from airflow_provider_vimmerse.api.story import check_story_fields

        check_story_fields(self.api_fields())


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
