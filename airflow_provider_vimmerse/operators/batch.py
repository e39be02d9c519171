"""
Operators for batches: one media per image with shared settings, composed into one video.

Create a batch, edit it (maybe regenerating every media), compose it again. Each waits on the batch
status (job kind ``batch``); the progress lines count finished and failed media. A batch where some
media failed still ends ``success`` on the API side: ``fail_on_partial_failure`` decides what the task does.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_vimmerse.api import batch
from airflow_provider_vimmerse.api.responses import failure_message
from airflow_provider_vimmerse.api.results import JobResult
from airflow_provider_vimmerse.exceptions import VimmerseError, VimmerseInputError
from airflow_provider_vimmerse.operators.base import Submission, VimmerseJobOperator, as_list, fail_fast
from airflow_provider_vimmerse.operators.media import new_job_id, read_images

#: Failed media whose reason is looked up (one ``GET /media/{id}`` each) for the log and the error.
MAX_REASONS = 10

#: Inputs that may be Jinja templates (numbers render as digit strings, which are accepted and sent as they are).
_TEMPLATED = (
    "prompt", "title", "description", "webhook_url", "motion_type", "aspect_ratio", "sound_effects", "quantity",
    "duration", "loop", "visibility_status",
)  # fmt: skip


class VimmerseGroupJobOperator(VimmerseJobOperator):
    """
    Base of the operators that wait on a batch or a story: reports each media and partial failures.

    :param fail_on_partial_failure: when some media of the batch or story failed (the rest succeeded),
        fail the task naming them (True), or succeed with the failures listed in the result's
        ``medias``, ``failed_media`` and ``failed_count`` (False). The log names them either way.
    """

    #: A batch or story "is finished" when its composed video is there: its ``video_url`` is set after
    #: the status reads ``success`` (batch.txt "if Batch is finished, you can get composed video from
    #: video_url"; story.txt "wait for videos are composed internally"), so the wait needs the output.
    need_output = True

    def __init__(self, *, fail_on_partial_failure: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fail_on_partial_failure = fail_on_partial_failure

    def finish(self, context: Any, job_id: str) -> JobResult:
        """
        Fetch the finished job once and check its media.

        Operators that need the composed video (``need_output``) waited for it in the trigger or
        the wait, so it is there.
        """
        result = self.hook.result_of(self.job_kind, job_id, self.hook.get_job(self.job_kind, job_id))
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
        if self.need_output and not result["video_urls"]:
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
        missing = [m for m in result.get("medias", []) if m["status"] == "fail" and not m.get("message")]
        for media in missing[:MAX_REASONS]:
            with contextlib.suppress(VimmerseError):
                reason = failure_message(self.hook.get_job("media", media["id"]))
                if reason:
                    media["message"] = reason


class VimmerseCreateBatchOperator(VimmerseGroupJobOperator):
    """
    Make one video per image with ``POST /batch`` (shared settings), composed into one video, and wait.

    Give the images as ``image_files`` (uploaded multipart, like media) or as ``image_urls``, not both.
    Inputs are checked before anything is sent: literal values when the DAG is parsed, templated ones
    when the task runs.

    The result lists every media of the batch (``medias``: id, status, output URLs when the batch
    object gives them), ``finished_count``, ``failed_count``, ``failed_media``, the composed video in
    ``video_urls`` and the credits the batch used (``used_credits``) when the API reports them.

    :param image_files: local paths or ``ObjectStoragePath``\\ s of the images, one media each (templated)
    :param image_urls: public image URLs, one media each (templated)
    :param prompt: text guiding the motion of every media (templated)
    :param motion_type: AI model, one of :data:`~airflow_provider_vimmerse.api.media.MOTION_TYPES`
    :param aspect_ratio: ``16:9``, ``4:3``, ``1:1``, ``3:4`` or ``9:16``
    :param sound_effects: add sound effects: ``"Yes"``/``"No"`` (or True/False)
    :param is_transition: refused: ``POST /batch`` documents no such field (kept only to say so clearly)
    :param quantity: variations per image, 1-4
    :param duration: seconds per video, 1-10
    :param loop: motion repeats, 1-6
    :param title: batch title (templated)
    :param description: batch description (templated)
    :param visibility_status: ``"0"`` private, ``"1"`` unlisted, ``"2"`` public
    :param webhook_url: URL the API calls when the batch is done (templated)
    :param fail_on_partial_failure: fail the task when some media failed (default), or succeed and list them
    :param extra_params: more form fields passed through as they are, for fields the API adds later
    """

    job_kind = "batch"
    template_fields: Sequence[str] = (*_TEMPLATED, "image_files", "image_urls", "extra_params")

    def __init__(
        self,
        *,
        image_files: Sequence[Any] | str | None = None,
        image_urls: Sequence[str] | str | None = None,
        prompt: str | None = None,
        motion_type: str | None = None,
        aspect_ratio: str | None = None,
        sound_effects: str | bool | None = None,
        is_transition: bool | None = None,
        quantity: int | None = None,
        duration: int | None = None,
        loop: int | None = None,
        title: str | None = None,
        description: str | None = None,
        visibility_status: str | None = None,
        webhook_url: str | None = None,
        fail_on_partial_failure: bool = True,
        extra_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(fail_on_partial_failure=fail_on_partial_failure, **kwargs)
        self.image_files = image_files
        self.image_urls = image_urls
        self.prompt = prompt
        self.motion_type = motion_type
        self.aspect_ratio = aspect_ratio
        self.sound_effects = sound_effects
        self.is_transition = is_transition
        self.quantity = quantity
        self.duration = duration
        self.loop = loop
        self.title = title
        self.description = description
        self.visibility_status = visibility_status
        self.webhook_url = webhook_url
        self.extra_params = extra_params
        self.check_inputs()  # literal values now; templated ones at execute

    def fields(self) -> dict[str, Any]:
        """Return the API fields that are set, as the API names them (image files excluded)."""
        values = {name: getattr(self, name) for name in batch.CREATE_FIELDS}
        values["image_urls"] = as_list(self.image_urls) or None
        values.update(self.extra_params or {})
        return {name: value for name, value in values.items() if value is not None}

    def check_inputs(self) -> None:
        """Validate the fields and require images (no request is sent)."""
        batch.check_refused({"is_transition": self.is_transition})
        batch.check_batch_fields(self.fields())
        batch.check_batch_images(as_list(self.image_files), as_list(self.image_urls))

    def submit(self, context: Any) -> str:
        """Read the images (a missing file fails here, before sending), send ``POST /batch``, return the id."""
        files = read_images(self.image_files)
        req = batch.create_batch(self.fields(), files)
        source = f"{len(files)} uploaded image(s)" if files else f"{len(as_list(self.image_urls))} image URL(s)"
        self.log.info("Creating a batch from %s (one media each; spends credits)", source)
        return new_job_id(self.hook.request(req), req.describe())


class VimmerseUpdateBatchOperator(VimmerseGroupJobOperator):
    """
    Edit a batch with ``PUT /batch/{id}/edit``.

    Metadata fields (``title``, ``description``, ``rating``, ``visibility_status``, ``webhook_url``)
    change at once, free, and the task returns without waiting. Setting a field that regenerates the
    batch (``prompt``, ``motion_type``, ``quantity``, ``duration``, ``loop``, ``aspect_ratio``,
    ``sound_effects``) processes every media again and spends credits; the task logs it and then waits
    like the create operator.

    :param batch_id: the batch to edit (templated)
    :param changes: the fields to change, with the API's names (templated); the same fields may also be
        given as keyword arguments (``title="..."``)
    :param fail_on_partial_failure: after a regeneration, fail the task when some media failed (default)
    """

    job_kind = "batch"
    template_fields: Sequence[str] = ("batch_id", "changes")

    def __init__(self, *, batch_id: str, changes: dict[str, Any] | None = None, **kwargs: Any) -> None:
        job_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in batch.EDIT_FIELDS}
        super().__init__(**kwargs)
        self.batch_id = batch_id
        self.changes = {**(changes or {}), **job_kwargs}
        batch.check_edit_fields(self.changes)

    def check_inputs(self) -> None:
        """Validate the rendered changes (no request is sent)."""
        if not self.batch_id:
            raise VimmerseInputError("batch_id", "is required")
        batch.check_edit_fields(self.changes)

    def spends_credits(self) -> bool:
        """Return True when a regenerating field is set."""
        return bool(batch.regenerating_fields(self.changes))

    def execute(self, context: Any) -> JobResult | dict[str, Any]:
        """Apply metadata-only changes at once; regenerate-and-wait otherwise."""
        if self.spends_credits():
            return super().execute(context)
        with fail_fast():
            self.check_inputs()
        return self.edit_at_once(self.batch_id, batch.edit_batch(self.batch_id, self.changes), self.changes)

    def submit(self, context: Any) -> Submission:
        """Send the regenerating edit; the wait then takes only the new run's ``success``."""
        regen = batch.regenerating_fields(self.changes)
        self.log.info("batch %s: %s regenerate every media and spend credits", self.batch_id, ", ".join(regen))
        return self.rerun(str(self.batch_id), batch.edit_batch(self.batch_id, self.changes), "regeneration")


class VimmerseConcatBatchOperator(VimmerseGroupJobOperator):
    """
    Compose a finished batch's videos again with ``POST /batch/{id}/concat`` (spends credits), then wait
    for the new composed ``video_url``.

    :param batch_id: the batch to compose (templated)
    :param fail_on_partial_failure: fail when the batch has failed media (default False here: composing
        uses the media that succeeded, and the batch's own task already reported the failures)
    """

    job_kind = "batch"
    #: Composition "typically takes 1-3 minutes" (openapi.json, POST /story/{story_id}/concat) and the
    #: status may read ``success`` all along: wait for the new video_url until ``timeout``.
    rerun_grace = None
    template_fields: Sequence[str] = ("batch_id",)

    def __init__(self, *, batch_id: str, fail_on_partial_failure: bool = False, **kwargs: Any) -> None:
        super().__init__(fail_on_partial_failure=fail_on_partial_failure, **kwargs)
        self.batch_id = batch_id

    def check_inputs(self) -> None:
        """Require a batch id."""
        if not self.batch_id:
            raise VimmerseInputError("batch_id", "is required")

    def submit(self, context: Any) -> Submission:
        """Ask for the composition (its documented answer is ``{}``); the wait takes only a new video_url."""
        self.log.info("batch %s: composing its videos again (spends credits)", self.batch_id)
        return self.rerun(str(self.batch_id), batch.concat_batch(self.batch_id), "concat")
