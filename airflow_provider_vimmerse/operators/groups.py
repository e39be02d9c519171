"""
What a finished batch, story or story step returns: each media reported, partial failures, the composed video.

Called by :meth:`~airflow_provider_vimmerse.operators.job.VimmerseJobOperator.finish` when the route's row
says its job is a group (``group``) or a story step answered when done (``STEP``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_vimmerse.exceptions import VimmerseError
from airflow_provider_vimmerse.operators.base import push_story_xcoms, seconds

if TYPE_CHECKING:
    from airflow_provider_vimmerse.api.results import JobResult
    from airflow_provider_vimmerse.operators.job import VimmerseJobOperator

#: Failed media whose reason is looked up (one ``GET /media/{id}`` each) for the log and the error.
MAX_REASONS = 10


def finish_group(operator: VimmerseJobOperator, job_id: str, obj: Mapping[str, Any] | None) -> JobResult:
    """
    Read the finished batch or story once and check its media.

    Routes whose wait needs the composed video (``needs_output``) waited for it in the trigger or the
    wait, so it is there; but a batch's wait ends after ``compose_timeout`` without one, and the result
    then says ``composed: False`` and keeps the outputs of its media.
    """
    kind, hook, log = operator.job_kind, operator.hook, operator.log
    result = hook.result_of(kind, job_id, obj or hook.get_job(kind, job_id))
    total = len(result.get("medias", []))
    log.info(
        "%s %s finished: %d of %d media succeeded, %d failed; video %s",
        kind,
        job_id,
        result.get("finished_count", 0),
        total,
        result.get("failed_count", 0),
        result["video_urls"] or "(none)",
    )
    check_failures(operator, result)
    needs_output = operator.route.needs_output
    if needs_output and operator.compose_timeout is not None:
        result["composed"] = bool(result["video_urls"])
        if not result["composed"]:
            log.warning(
                "%s %s finished without a composed video (none within compose_timeout, %g s): the task succeeds "
                "with the outputs of its %d media (result 'medias'); compose one with the concat operator",
                kind,
                job_id,
                seconds(operator.compose_timeout),
                total,
            )
    elif needs_output and not result["video_urls"]:
        raise AirflowFailException(f"{kind} {job_id} finished but has no composed video_url; see {result['web_url']}")
    return result


def check_failures(operator: VimmerseJobOperator, result: JobResult) -> None:
    """Log the media that failed, with their reasons; fail the task when ``fail_on_partial_failure``."""
    failed = result.get("failed_media") or []
    if not failed:
        return
    _add_reasons(operator, result)
    reasons = {m["id"]: m.get("message") for m in result.get("medias", [])}
    named = "; ".join(f"{media_id} ({reasons.get(media_id) or 'no reason given'})" for media_id in failed)
    total = len(result.get("medias", [])) or len(failed)
    message = f"{result['kind']} {result['id']}: {len(failed)} of {total} media failed: {named}"
    operator.log.warning(message)
    if operator.fail_on_partial_failure:
        raise AirflowFailException(
            f"{message}. Set fail_on_partial_failure=False to succeed with the failures listed in the result."
        )


def _add_reasons(operator: VimmerseJobOperator, result: JobResult) -> None:
    """Look up why failed media failed, when the group object does not say (a few requests at most)."""
    from airflow_provider_vimmerse.api.responses import failure_message
    from airflow_provider_vimmerse.api.results import media_status
    from airflow_provider_vimmerse.api.status import JobStatus

    medias = result.get("medias", [])
    missing = [m for m in medias if media_status(m) is JobStatus.FAILED and not m.get("message")]
    for media in missing[:MAX_REASONS]:
        with contextlib.suppress(VimmerseError):
            reason = failure_message(operator.hook.get_job("media", media["id"]))
            if reason:
                media["message"] = reason


def finish_step(operator: VimmerseJobOperator, context: Any, job_id: str) -> JobResult:
    """
    Read the story once its step is answered and return it with its storyboard; push its id and storyboard.

    The story is read, not taken from the answer: story.txt's elements answer is ``{"title": ""}``, and a
    retry has no answer. A story that does not show the step done
    (:func:`~airflow_provider_vimmerse.api.story.step_done`) is returned as it is, with a warning: the
    step was answered, so it is not sent again.
    """
    from airflow_provider_vimmerse.api import story

    step, log = operator.route.step, operator.log
    obj = operator.hook.get_job("story", job_id)
    result = operator.hook.result_of("story", job_id, obj)
    result.setdefault("storyboard", story.storyboard_of(obj))
    scenes = result["storyboard"].get("scenes")
    log.info(
        "story %s: %s done (status %s); storyboard has %d scene(s)",
        job_id,
        step,
        result["status"] or "(none)",
        len(scenes) if isinstance(scenes, list) else 0,
    )
    if not story.step_done(step, obj):
        log.warning(
            "story %s does not show its %s done yet (see %s); the step was answered, so it is not sent again",
            job_id,
            step,
            result["web_url"],
        )
    push_story_xcoms(operator, context, result)
    return result
