"""
The base of every operator that sends a route's request and follows the job: validate -> submit once -> wait.

:class:`VimmerseJobOperator` runs the :class:`~airflow_provider_vimmerse.api.routes.Route` row its
subclass names in ``route``; what it does is chosen by that row's values, not by overrides:

* the row's ``send`` says what the request does: start a job (``NEW``), a story step answered when done
  (``STEP``), an edit that may regenerate (``EDIT``), a re-run of a finished job (``RERUN``);
* its ``target`` names the argument holding the job worked on; its ``fields`` and ``refused`` are checked
  (:meth:`~airflow_provider_vimmerse.api.routes.Route.check`) before anything is sent;
* its ``needs_output``, ``group``, ``compose_timeout`` and ``rerun_grace`` say how the wait ends, and its
  ``kind`` what is waited on.

A subclass writes its arguments out in a keyword-only ``__init__`` (``self.<field> = <field>``), lists its
``template_fields`` and calls :meth:`check_values` at the end of its ``__init__``: literal values are checked
when the DAG is parsed (a bad value fails the DAG's import, naming the field, before any task runs) and
again, rendered, when the task runs.

Never pay twice: what a submit started is written to Airflow's per-task state store (Airflow 3.3+) as
soon as the answer is in. A later try of the same task instance reads it first: a job still running is
reattached, a finished one returns its result, a failed or cancelled one is submitted fresh; a story
step already answered reads the story back. On Airflow below 3.3 there is no such store: a try that
ends before it defers (worker killed between submit and defer) resubmits on retry; once deferred, the
wait itself survives triggerer restarts.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_vimmerse.api.routes import Send
from airflow_provider_vimmerse.exceptions import VimmerseError, VimmerseInputError, VimmerseJobMayExistError
from airflow_provider_vimmerse.links.vimmerse import VimmerseJobLink, persist_job_link
from airflow_provider_vimmerse.operators import groups, resume
from airflow_provider_vimmerse.operators.base import (
    DEFAULT_TIMEOUT,
    VimmerseBaseOperator,
    default_deferrable,
    default_poll_interval,
    fail_fast,
    job_error,
    push_story_xcoms,
    seconds,
)
from airflow_provider_vimmerse.operators.outlets import Made

if TYPE_CHECKING:
    from airflow_provider_vimmerse.api.endpoints import ApiRequest, FilePart
    from airflow_provider_vimmerse.api.responses import JobSnapshot
    from airflow_provider_vimmerse.api.results import JobResult
    from airflow_provider_vimmerse.api.routes import Route, Tool
    from airflow_provider_vimmerse.api.submissions import Submission
    from airflow_provider_vimmerse.api.waiting import JobWatch, WaitEvent
    from airflow_provider_vimmerse.operators.webhooks import WebhookPlan


class VimmerseJobOperator(VimmerseBaseOperator):
    """
    Base of the operators that send a documented route's request and wait for its job.

    :param vimmerse_conn_id: Vimmerse connection id (templated)
    :param wait_for_completion: wait until the job ends (default); False returns the id at once
    :param deferrable: wait in the triggerer, holding no worker slot; None (default) takes the deployment's
        ``[vimmerse] deferrable`` (True unless configured). False waits on the worker, holding its slot
    :param poll_interval: fixed seconds between status checks; None (default) takes the deployment's
        ``[vimmerse] poll_interval`` when set (read when the task runs), else adapts: quick first checks,
        then slower up to a minute
    :param timeout: how long to wait for the job before failing (the job may go on remotely)
    :param fail_on_partial_failure: a batch or a story: when some of its media failed, fail the task naming
        them (True), or succeed with the failures listed in the result (False); default: the route's
    :param compose_timeout: a batch: once it reads finished, how long to wait for its composed video
        before succeeding without it (``composed: False``); default: the route's
    :param answer_timeout: a story step answered when its work is done: seconds to wait for the answer;
        default: the connection's ``slow_step_timeout`` extra (600 s unless set)
    """

    #: The route this operator runs (set by each subclass).
    route: ClassVar[Route]
    template_fields: tuple[str, ...] = VimmerseBaseOperator.template_fields
    operator_extra_links = (VimmerseJobLink(),)
    #: More fields sent as they are (a subclass that takes ``extra_params`` sets it).
    extra_params: Mapping[str, Any] | None = None
    #: An edit's fields given as a dict (a subclass that takes ``changes`` sets it).
    changes: Mapping[str, Any] | None = None

    def __init__(
        self,
        *,
        wait_for_completion: bool = True,
        deferrable: bool | None = None,
        poll_interval: float | None = None,
        timeout: float | timedelta = DEFAULT_TIMEOUT,
        fail_on_partial_failure: bool | None = None,
        compose_timeout: float | timedelta | None = None,
        answer_timeout: float | timedelta | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        route = self.route
        self.wait_for_completion = wait_for_completion
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.poll_interval = poll_interval
        self.timeout = timeout
        if poll_interval is not None and poll_interval <= 0:
            raise VimmerseInputError("poll_interval", f"must be a positive number of seconds, got {poll_interval!r}")
        if (seconds(timeout) or 0) <= 0:
            raise VimmerseInputError("timeout", f"must be positive, got {timeout!r}")
        if fail_on_partial_failure is not None and not route.group:
            raise VimmerseInputError(
                "fail_on_partial_failure", f"{type(self).__name__} waits on one job, not a batch or a story"
            )
        self.fail_on_partial_failure = (
            route.partial_failure_fails if fail_on_partial_failure is None else fail_on_partial_failure
        )
        if compose_timeout is not None and route.compose_timeout is None:
            raise VimmerseInputError(
                "compose_timeout",
                f"{type(self).__name__} waits for its composed video until timeout (it is what the task is for); "
                "compose_timeout is for VimmerseCreateBatchOperator and VimmerseUpdateBatchOperator",
            )
        self.compose_timeout = route.compose_timeout if compose_timeout is None else compose_timeout
        if self.compose_timeout is not None and (seconds(self.compose_timeout) or 0) < 0:
            raise VimmerseInputError("compose_timeout", f"must be 0 or more seconds, got {compose_timeout!r}")
        if answer_timeout is not None and route.send is not Send.STEP:
            raise VimmerseInputError(
                "answer_timeout", f"{type(self).__name__} is answered at once; answer_timeout is for the story steps"
            )
        if answer_timeout is not None and (seconds(answer_timeout) or 0) <= 0:
            raise VimmerseInputError("answer_timeout", f"must be a positive number of seconds, got {answer_timeout!r}")
        self.answer_timeout = answer_timeout

    # ------------------------------------------------------------------ the values

    @property
    def job_kind(self) -> str:
        """Return the job kind the route starts or works on."""
        return self.route.kind

    def given_values(self) -> dict[str, Any]:
        """Return every field the route declares or refuses, as the operator holds it, ``changes`` merged in."""
        route = self.route
        given = {name: getattr(self, name, None) for name in (*route.field_names, *route.refused)}
        if route.send is Send.EDIT:
            given.update({name: value for name, value in (self.changes or {}).items() if value is not None})
        return given

    def api_fields(self) -> dict[str, Any]:
        """Return the API fields that are set, as the API names them (the same before and after ``execute``)."""
        return self.route.api_values(self.given_values(), self.extra_params)

    def check_values(self) -> None:
        """
        Check the values against the route's row; raise :class:`.VimmerseInputError` naming the field. No I/O.

        Called at the end of each operator's ``__init__`` (literal values, when the DAG is parsed; unrendered
        templates are skipped) and again when the task runs, on the rendered values. A field set in
        ``extra_params`` is checked as sent (it overrides the argument): one the route refuses is refused.
        """
        route = self.route
        if route.send is Send.EDIT:
            self._check_changes()
        extra = self.extra_params if isinstance(self.extra_params, Mapping) else {}
        route.check({**self.given_values(), **{name: value for name, value in extra.items() if value is not None}})

    def _check_changes(self) -> None:
        changes = dict(self.changes or {})
        unknown = sorted(set(changes) - set(self.route.field_names))
        if unknown:
            allowed = ", ".join(self.route.field_names)
            raise VimmerseInputError("changes", f"unknown fields {unknown}; allowed fields: {allowed}")
        if not self.api_fields():
            allowed = ", ".join(self.route.field_names)
            raise VimmerseInputError("changes", f"nothing to change: give at least one field of: {allowed}")

    def target_id(self) -> str | None:
        """
        Return the rendered id of the job the route works on (its ``target`` argument), or None for a new job.

        The argument takes an id or the result of the task that made the job.

        :raises VimmerseInputError: naming the argument when it is needed and empty, or a result of another kind
        """
        from airflow_provider_vimmerse.api.results import job_id_from

        name = self.route.target
        value = getattr(self, name, None) if name else None
        if not name or (not value and not self.route.target_required):
            return None
        return job_id_from(name, value, self.route.kind)

    def check_inputs(self) -> None:
        """Validate the rendered inputs before anything is sent: the job worked on, the fields, the deployment."""
        self.target_id()
        self.check_values()
        if self.poll_interval is None:
            default_poll_interval()

    def wait_interval(self) -> float | None:
        """Return the seconds between status checks: the task's, else the deployment's, else None (adaptive)."""
        return self.poll_interval if self.poll_interval is not None else default_poll_interval()

    def answer_seconds(self) -> float:
        """Return the seconds to wait for a step's answer: ``answer_timeout``, else ``slow_step_timeout``."""
        return seconds(self.answer_timeout) or self.hook.config.slow_step_timeout

    # ------------------------------------------------------------------ the flow

    def execute(self, context: Any) -> JobResult:
        """Validate, submit (or take back what an earlier try submitted), then follow the answer."""
        from airflow_provider_vimmerse.operators.webhooks import plan_webhook

        with fail_fast():
            self.check_inputs()
            submission = resume.reattach(self, context)
            if submission is None:
                plan = plan_webhook(self, context) if self.route.fills_webhook_url else None
                submission = self.submit(context, plan)
                if plan is not None:
                    submission = replace(submission, webhook=plan.trigger_kwargs)
                resume.remember(self, context, submission)
            result = self.follow(context, submission)
        self.record(context, Made(result))
        return result

    def read_files(self) -> list[FilePart]:
        """Read the local files of the route's file fields (a missing one fails here, before sending)."""
        from airflow_provider_vimmerse.operators.files import read_images

        return [part for name in self.route.file_fields for part in read_images(getattr(self, name, None))]

    def submit(self, context: Any, webhook: WebhookPlan | None = None) -> Submission:
        """
        Send the route's request, as its row's ``send`` says, and return what its answer says.

        :param context: the task's context
        :param webhook: this try's webhook, whose signed URL is sent as ``webhook_url`` (None: the wait polls)
        """
        route, job_id = self.route, self.target_id()
        values = self.api_fields()
        if webhook is not None:
            values["webhook_url"] = webhook.url
        if route.send is Send.EDIT:
            req = route.request(values, job_id=job_id)
            regenerating = route.regenerating_fields(values)
            if regenerating:
                what = ", ".join(regenerating)
                self.log.info("%s %s: %s regenerate %s and spend credits", route.kind, job_id, what, route.regenerates)
                return self.rerun(str(job_id), req)
            submission = self.send(req, job_id=job_id, done=True)
            self.log.info("%s %s: metadata updated (%s); nothing regenerated", route.kind, job_id, ", ".join(values))
            return submission
        if route.send is Send.RERUN:
            self.log.info("%s %s: %s (spends credits)", route.kind, job_id, route.doing)
            return self.rerun(str(job_id), route.request(values, job_id=job_id))
        files = self.read_files()
        if route.send is Send.STEP:
            req = route.request(values, files, job_id=job_id, read_timeout=self.answer_seconds())
            if job_id and route.step != "storyboard":
                return self.send_on_known_job(req, job_id, wait_kind=f"story_{route.step}", done=True)
            return self.send(req, job_id=job_id, done=True)
        req = route.request(values, files, job_id=job_id)
        spends = " (spends credits)" if req.spends_credits else ""
        self.log.info("Sending %s%s%s", req.describe(), f" with {len(files)} file(s)" if files else "", spends)
        if job_id:
            return self.send_on_known_job(req, job_id)
        return self.send(req)

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

    def send_on_known_job(self, req: ApiRequest, job_id: str, *, wait_kind: str = "", done: bool = False) -> Submission:
        """
        Send a request that works on an existing job; when its answer is lost, wait for the job instead.

        A paid request whose answer does not come (a read timeout, a dropped connection after sending:
        :class:`~airflow_provider_vimmerse.exceptions.VimmerseJobMayExistError`) may be running: the job
        is known, so the task reads it back and waits for it (in the triggerer when deferrable), and never
        sends the request a second time.

        :param req: the request (it names ``job_id`` in its path)
        :param job_id: the job it works on
        :param wait_kind: the kind to wait on when it is not the route's own (a story step)
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

    def rerun(self, job_id: str, req: ApiRequest) -> Submission:
        """
        Send a request that runs a finished job again (regeneration, process, concat), and say so.

        The job's run fingerprint is read first (which also fails before paying when the job does not
        exist), so the wait can tell the new run's ``success`` from the old one: the documents do not
        say the status leaves ``success`` at once, and a concat's answer is ``{}``.

        :param job_id: the job that runs again
        :param req: the request that re-runs it
        """
        from airflow_provider_vimmerse.api.waiting import DEFAULT_RERUN_GRACE, Rerun

        baseline = self.hook.run_fingerprint(self.job_kind, job_id)
        requested_at = time.time()
        submission = self.send_on_known_job(req, job_id)
        grace = DEFAULT_RERUN_GRACE if self.route.rerun_grace else None
        action = self.route.action or "regeneration"
        return replace(submission, job_id=job_id, rerun=Rerun(action, baseline, requested_at, grace))

    def follow(self, context: Any, submission: Submission) -> JobResult:
        """Return the output the answer carries, or the finished job's result, or wait for the job."""
        if submission.output is not None:
            self.log.info("The answer is the output itself; there is no job to wait for")
            return submission.output
        persist_job_link(context, self.hook.web_url(self.job_kind, submission.job_id))
        if not submission.done and not self.wait_for_completion:
            self.log.info("%s %s submitted; not waiting (wait_for_completion=False)", self.job_kind, submission.job_id)
            resume.forget(context)
            return self.submitted_result(submission.job_id)
        if not submission.done:
            return self.wait(context, submission)
        result = self.finish(context, submission.job_id, submission.finished)
        resume.forget(context)
        return result

    def finish(self, context: Any, job_id: str, obj: Mapping[str, Any] | None = None) -> JobResult:
        """
        Return the result of a finished job, as its route's row says: a group's media checked, a story's XComs.

        :param context: the task's context
        :param job_id: the job
        :param obj: the finished job's object as the answer showed it, if it did (not read again)
        """
        route = self.route
        if route.send is Send.STEP:
            return groups.finish_step(self, context, job_id)
        if route.group:
            result = groups.finish_group(self, job_id, obj)
        elif obj is not None:
            result = self.hook.result_of(self.job_kind, job_id, obj)
            self.log.info("%s %s was finished in the answer: %s", self.job_kind, job_id, result["video_urls"])
        else:
            result = self.fetch_result(self.job_kind, job_id)
            outputs = result["video_urls"]
            self.log.info("%s %s finished: %d output(s) %s", self.job_kind, job_id, len(outputs), outputs)
        if route.kind == "story" and route.send is not Send.EDIT:  # a story made or changed: its id and storyboard
            push_story_xcoms(self, context, result)
        return result

    # ------------------------------------------------------------------ the wait

    def wait(self, context: Any, submission: Submission) -> JobResult:
        """Wait for the job in the triggerer (``deferrable``) or here, with the same rules."""
        from airflow_provider_vimmerse.api.waiting import JobWatch

        job_id, rerun = submission.job_id, submission.rerun
        kind = submission.wait_kind or self.job_kind
        deadline = time.time() + (seconds(self.timeout) or 0)
        poll_interval = self.wait_interval()
        grace = seconds(self.compose_timeout)
        needs_output = self.route.needs_output
        watch = JobWatch(
            kind, job_id, deadline, poll_interval, rerun=rerun, need_output=needs_output, output_grace=grace
        )
        if submission.status is None:
            event, _ = self.poll_once(watch)
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
                    need_output=needs_output,
                    webhook=submission.webhook,
                    output_grace=grace,
                ),
                method_name="execute_complete",
            )
        if event is None:
            event = self.wait_here(watch)
        return self.execute_complete(context, event.to_payload())

    def wait_here(self, watch: JobWatch) -> WaitEvent:
        """Poll synchronously with the same rules as the trigger."""
        error: VimmerseError | None = None
        while True:
            time.sleep(watch.next_delay(error))
            if watch.expired():
                return watch.timeout_event()
            event, error = self.poll_once(watch, retries=0)
            if event is not None:
                return event

    def poll_once(self, watch: JobWatch, retries: int | None = None) -> tuple[WaitEvent | None, VimmerseError | None]:
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
        resume.forget(context)
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
