"""Operators for media jobs: create, edit (maybe regenerating) and reprocess a media."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airflow_provider_vimmerse.api import media
from airflow_provider_vimmerse.api.endpoints import FilePart
from airflow_provider_vimmerse.api.responses import expect_object
from airflow_provider_vimmerse.api.results import JobResult
from airflow_provider_vimmerse.exceptions import VimmerseInputError, VimmerseJobMayExistError
from airflow_provider_vimmerse.operators.base import Submission, VimmerseJobOperator, as_list, fail_fast

_TEXT_FIELDS = (
    "prompt",
    "title",
    "description",
    "webhook_url",
    "motion_type",
    "aspect_ratio",
    "camera_control",
    "model",
)


class VimmerseCreateMediaOperator(VimmerseJobOperator):
    """
    Generate a video with ``POST /media`` from a prompt, images or media items, and wait for it.

    Every documented input is a parameter. Inputs are checked before anything is sent: literal
    values when the DAG is parsed, templated ones when the task runs.

    :param prompt: text description of the video (templated)
    :param image_files: local paths or ``ObjectStoragePath``\\ s of images to upload; one image animates
        it, two make a transition (templated)
    :param image_urls: public image URLs (templated)
    :param media_items: list of ``{"type", "url", "position"}`` dicts (sent as JSON; templated)
    :param motion_type: AI model, one of :data:`~airflow_provider_vimmerse.api.media.MOTION_TYPES`
    :param camera_control: camera path, one of :data:`~airflow_provider_vimmerse.api.media.CAMERA_CONTROLS`
    :param quantity: number of variations, 1-4
    :param duration: seconds, 1-10
    :param loop: motion repeats, 1-6
    :param aspect_ratio: ``16:9``, ``4:3``, ``1:1``, ``3:4`` or ``9:16``
    :param audio_option: dict with ``narrator``, ``narration``, ``narration_url``, ``bg_music_prompt``,
        ``bg_music_url`` (sent as JSON; templated)
    :param character_animate: character animation mode
    :param model: try-on model
    :param visibility_status: ``"0"`` private, ``"1"`` unlisted, ``"2"`` public
    :param title: media title (templated)
    :param description: media description (templated)
    :param webhook_url: URL the API calls on completion (templated)
    :param extra_params: more form fields passed through as they are, for fields the API adds later
    """

    job_kind = "media"
    template_fields: Sequence[str] = (
        *_TEXT_FIELDS, "image_files", "image_urls", "media_items", "audio_option", "extra_params",
        "quantity", "duration", "loop", "character_animate", "visibility_status",
    )  # fmt: skip

    def __init__(
        self,
        *,
        prompt: str | None = None,
        image_files: Sequence[Any] | str | None = None,
        image_urls: Sequence[str] | str | None = None,
        media_items: list[dict[str, Any]] | str | None = None,
        motion_type: str | None = None,
        camera_control: str | None = None,
        quantity: int | None = None,
        duration: int | None = None,
        loop: int | None = None,
        aspect_ratio: str | None = None,
        audio_option: dict[str, Any] | str | None = None,
        character_animate: bool | None = None,
        model: str | None = None,
        visibility_status: str | None = None,
        title: str | None = None,
        description: str | None = None,
        webhook_url: str | None = None,
        extra_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.prompt = prompt
        self.image_files = image_files
        self.image_urls = image_urls
        self.media_items = media_items
        self.motion_type = motion_type
        self.camera_control = camera_control
        self.quantity = quantity
        self.duration = duration
        self.loop = loop
        self.aspect_ratio = aspect_ratio
        self.audio_option = audio_option
        self.character_animate = character_animate
        self.model = model
        self.visibility_status = visibility_status
        self.title = title
        self.description = description
        self.webhook_url = webhook_url
        self.extra_params = extra_params
        media.check_media_fields(self.fields())  # literal values now; templated ones at execute
        media.check_has_input(self.fields(), has_files=bool(as_list(image_files)))

    def fields(self) -> dict[str, Any]:
        """Return the API fields that are set, as the API names them (images excluded)."""
        values = {
            "prompt": self.prompt,
            "image_urls": as_list(self.image_urls) or None,
            "media_items": self.media_items,
            "motion_type": self.motion_type,
            "camera_control": self.camera_control,
            "quantity": self.quantity,
            "duration": self.duration,
            "loop": self.loop,
            "aspect_ratio": self.aspect_ratio,
            "audio_option": self.audio_option,
            "character_animate": self.character_animate,
            "model": self.model,
            "visibility_status": self.visibility_status,
            "title": self.title,
            "description": self.description,
            "webhook_url": self.webhook_url,
        }
        values.update(self.extra_params or {})
        return {name: value for name, value in values.items() if value is not None}

    def check_inputs(self) -> None:
        """Validate the rendered fields (no request is sent)."""
        values = self.fields()
        media.check_media_fields(values)
        media.check_has_input(values, has_files=bool(as_list(self.image_files)))

    def submit(self, context: Any) -> str:
        """Read the image files (a missing one fails here, before sending), send ``POST /media``, return the id."""
        req = media.create_media(self.fields(), read_images(self.image_files))
        return new_job_id(self.hook.request(req), req.describe())


class VimmerseUpdateMediaOperator(VimmerseJobOperator):
    """
    Edit a media with ``PUT /media/{id}/edit``.

    Metadata fields (``title``, ``description``, ``rating``, ``visibility_status``, ``webhook_url``)
    change at once, free, and the task returns without waiting. Setting a field that regenerates the
    video (``prompt``, ``motion_type``, ``quantity``, ``duration``, ``loop``, ``camera_control``,
    ``aspect_ratio``, ``audio_option``, ``media_items``, ``model``) spends credits; the task logs it
    and then waits like the create operator.

    :param media_id: the media to edit (templated)
    :param changes: the fields to change, with the API's names (templated); the same fields may also be
        given as keyword arguments (``title="..."``)
    """

    job_kind = "media"
    template_fields: Sequence[str] = ("media_id", "changes")

    def __init__(self, *, media_id: str, changes: dict[str, Any] | None = None, **kwargs: Any) -> None:
        job_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in media.REGENERATING_FIELDS + media.METADATA_FIELDS}
        super().__init__(**kwargs)
        self.media_id = media_id
        self.changes = {**(changes or {}), **job_kwargs}
        media.check_media_fields(self.changes)

    def check_inputs(self) -> None:
        """Validate the rendered changes (no request is sent)."""
        if not self.media_id:
            raise VimmerseInputError("media_id", "is required")
        unknown = sorted(set(self.changes) - set(media.REGENERATING_FIELDS + media.METADATA_FIELDS))
        if unknown:
            allowed = ", ".join(media.REGENERATING_FIELDS + media.METADATA_FIELDS)
            raise VimmerseInputError("changes", f"unknown fields {unknown}; allowed fields: {allowed}")
        if not self.changes:
            raise VimmerseInputError("changes", "nothing to change: give at least one field")
        media.check_media_fields(self.changes)

    def spends_credits(self) -> bool:
        """Return True when a regenerating field is set."""
        return bool(media.regenerating_fields(self.changes))

    def execute(self, context: Any) -> JobResult | dict[str, Any]:
        """Apply metadata-only changes at once; regenerate-and-wait otherwise."""
        if self.spends_credits():
            return super().execute(context)
        with fail_fast():
            self.check_inputs()
        return self.edit_at_once(self.media_id, media.edit_media(self.media_id, self.changes), self.changes)

    def submit(self, context: Any) -> Submission:
        """Send the regenerating edit; the wait then takes only the new video's ``success``."""
        regen = media.regenerating_fields(self.changes)
        self.log.info("media %s: %s regenerate the video and spend credits", self.media_id, ", ".join(regen))
        return self.rerun(str(self.media_id), media.edit_media(self.media_id, self.changes), "regeneration")


class VimmerseProcessMediaOperator(VimmerseJobOperator):
    """
    Resubmit an existing media for generation with ``POST /media/{id}/process`` (spends credits), then wait.

    :param media_id: the media to process again (templated)
    """

    job_kind = "media"
    template_fields: Sequence[str] = ("media_id",)

    def __init__(self, *, media_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.media_id = media_id

    def check_inputs(self) -> None:
        """Require a media id."""
        if not self.media_id:
            raise VimmerseInputError("media_id", "is required")

    def submit(self, context: Any) -> Submission:
        """Send the resubmission (its documented answer is ``{"data": {}}``); the wait takes only the new run."""
        self.log.info("media %s: resubmitting for generation (spends credits)", self.media_id)
        return self.rerun(str(self.media_id), media.process_media(self.media_id), "process")


def read_images(paths: Any) -> list[FilePart]:
    """
    Read image files (local paths or ``ObjectStoragePath``\\ s) for upload.

    :raises VimmerseInputError: naming ``image_files`` when a file is missing or unreadable
    """
    parts = []
    for index, item in enumerate(as_list(paths)):
        path = _as_path(item)
        try:
            content = path.read_bytes()
        except (OSError, ValueError) as error:
            raise VimmerseInputError(f"image_files[{index}]", f"cannot read {str(item)!r}: {error}") from None
        name = getattr(path, "name", None) or f"image{index}"
        parts.append(FilePart("image_files", name, content, media.image_content_type(name)))
    return parts


def _as_path(item: Any) -> Any:
    if hasattr(item, "read_bytes"):
        return item
    if isinstance(item, str) and "://" in item and not item.startswith("file://"):
        from airflow.providers.common.compat.sdk import ObjectStoragePath

        return ObjectStoragePath(item)
    if isinstance(item, str) and item.startswith("file://"):
        item = item[len("file://") :]
    if not isinstance(item, (str, Path)):
        raise VimmerseInputError("image_files", f"must be paths or ObjectStoragePath, got {type(item).__name__}")
    return Path(item)


def new_job_id(body: Any, what: str) -> str:
    """Return the ``id`` of the object a submit answered with."""
    obj = expect_object(body, method=what.split(" ")[0], path=what.split(" ", 1)[-1])
    job_id = obj.get("id")
    if not isinstance(job_id, str) or not job_id:
        raise VimmerseJobMayExistError(
            f"{what} succeeded but its answer has no job id ({str(obj)[:200]!r}); the job may have been created "
            "and charged, so it is not submitted again. Check your recent jobs in the Vimmerse web app."
        )
    return job_id
