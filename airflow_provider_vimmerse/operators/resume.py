"""
Never pay twice: what a submit started, kept in Airflow's per-task state store (Airflow 3.3+) for a later try.

A later try of the same task instance reads it first (:func:`reattach`): a job still running is
reattached, a finished one returns its result, a failed or cancelled one is submitted fresh, a re-run
is waited on again with the same re-run check, and a story step already answered reads the story back.
Nothing here sends a paid request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_vimmerse.exceptions import VimmerseNotFoundError

if TYPE_CHECKING:
    from airflow_provider_vimmerse.api.submissions import Submission
    from airflow_provider_vimmerse.operators.job import VimmerseJobOperator

#: Key of the job reference in the per-task state store.
STATE_KEY = "vimmerse_job"


def reattach(operator: VimmerseJobOperator, context: Any) -> Submission | None:
    """Return the job an earlier try of this task submitted, when it should be followed; None submits anew."""
    store = context.get("task_state_store")
    if store is None:
        return None
    saved = store.get(STATE_KEY)
    if not isinstance(saved, dict) or saved.get("kind") != operator.job_kind or not saved.get("id"):
        return None
    if operator.route.step:
        return _step_taken_back(operator, str(saved["id"]), saved)
    return _job_taken_back(operator, str(saved["id"]), saved)


def remember(operator: VimmerseJobOperator, context: Any, submission: Submission) -> None:
    """Save what ``submission`` started, so a later try of the task takes it back instead of paying again."""
    if not submission.job_id:
        return  # the answer was the output itself: nothing to take back
    store = context.get("task_state_store")
    kind, job_id = operator.job_kind, submission.job_id
    if store is None:
        operator.log.info(
            "%s %s submitted. This Airflow has no per-task state store (3.3+), so a retry of this task "
            "%s would submit again.",
            kind,
            job_id,
            "before it ends" if submission.done else "before it defers",
        )
        return
    saved: dict[str, Any] = {"kind": kind, "id": job_id}
    if submission.rerun is not None:
        saved["rerun"] = submission.rerun.to_payload()
    if operator.route.step:
        saved["step"] = operator.route.step
    store.set(STATE_KEY, saved)
    operator.log.info("%s %s submitted; id saved so a retry reattaches instead of paying twice", kind, job_id)


def forget(context: Any) -> None:
    """Drop the saved job once the task succeeds, so clearing the task later makes a new video."""
    store = context.get("task_state_store")
    if store is not None:
        store.delete(STATE_KEY)


def _job_taken_back(operator: VimmerseJobOperator, job_id: str, saved: Mapping[str, Any]) -> Submission | None:
    """
    Return the earlier try's job when it is running or done; None when it failed or is gone.

    A job that an earlier try re-ran (regeneration, process, concat) is always waited on again with the
    same re-run check: its reading now may still be the one from before the request.
    """
    from airflow_provider_vimmerse.api.status import JobStatus
    from airflow_provider_vimmerse.api.submissions import Submission
    from airflow_provider_vimmerse.api.waiting import Rerun

    kind, log = operator.job_kind, operator.log
    rerun = Rerun.from_payload(saved.get("rerun"))
    if rerun is not None:
        log.info("%s %s: an earlier try already sent the %s; waiting for it, nothing is sent again", kind, job_id,
                 rerun.action)  # fmt: skip
        return Submission(job_id, rerun=rerun)
    try:
        snapshot = operator.hook.get_job_snapshot(kind, job_id)
    except VimmerseNotFoundError:
        log.warning("%s %s from an earlier try no longer exists; submitting a new job", kind, job_id)
        return None
    state = snapshot.effective_state
    if state.is_failure:
        log.warning(
            "%s %s from an earlier try ended %s (%s); submitting a new job",
            kind,
            job_id,
            snapshot.raw_status,
            snapshot.message or "no message",
        )
        return None
    verb = "already finished" if state is JobStatus.SUCCESS else "is still running"
    log.info("%s %s from an earlier try %s: reattaching, nothing is submitted", kind, job_id, verb)
    return Submission(job_id, status=snapshot)


def _step_taken_back(operator: VimmerseJobOperator, job_id: str, saved: Mapping[str, Any]) -> Submission | None:
    """Take back the story whose step an earlier try of this task sent: nothing is sent again."""
    from airflow_provider_vimmerse.api import story
    from airflow_provider_vimmerse.api.submissions import Submission

    step = operator.route.step
    if saved.get("step") != step:
        return None
    operator.log.info(
        "story %s: an earlier try of this task already sent the %s step; reading the story, nothing is sent again",
        job_id,
        step,
    )
    if step != "storyboard" and not story.step_done(step, operator.hook.get_job("story", job_id)):
        return Submission(job_id, wait_kind=f"story_{step}")
    return Submission(job_id, done=True)
