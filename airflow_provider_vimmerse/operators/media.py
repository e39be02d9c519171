"""Operators for media jobs: create, edit (maybe regenerating) and reprocess a media."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_provider_vimmerse.api import media
from airflow_provider_vimmerse.operators.job import VimmerseJobOperator


class VimmerseCreateMediaOperator(VimmerseJobOperator):
    """
    Generate a video with ``POST /media`` from a prompt, images or media items, and wait for it.

    Every documented input is an argument. Inputs are checked before anything is sent: literal
    values when the DAG is parsed, templated ones when the task runs.

    :param prompt: text description of the video (templated)
    :param image_files: local paths or ``ObjectStoragePath``\\ s of images to upload; one image animates it,
        two make a transition (templated)
    :param image_urls: public image URLs (templated)
    :param media_items: list of ``{"type", "url", "position"}`` dicts, sent as JSON (templated)
    :param motion_type: AI model, one of :data:`~airflow_provider_vimmerse.api.media.MOTION_TYPES` (templated)
    :param camera_control: camera path, one of :data:`~airflow_provider_vimmerse.api.media.CAMERA_CONTROLS`
        (templated)
    :param quantity: number of variations, 1-4 (templated)
    :param duration: seconds, 1-10 (templated)
    :param loop: motion repeats, 1-6 (templated)
    :param aspect_ratio: ``16:9``, ``4:3``, ``1:1``, ``3:4`` or ``9:16`` (templated)
    :param audio_option: dict with ``narrator``, ``narration``, ``narration_url``, ``bg_music_prompt``,
        ``bg_music_url``, sent as JSON (templated)
    :param character_animate: character animation mode (templated)
    :param model: try-on model, one of :data:`~airflow_provider_vimmerse.api.media.TRY_ON_MODELS` (templated)
    :param visibility_status: ``"0"`` private, ``"1"`` unlisted, ``"2"`` public (templated)
    :param title: media title (templated)
    :param description: media description (templated)
    :param webhook_url: URL the API calls on completion (templated)
    :param extra_params: more fields sent as they are, for fields the API adds later (templated)
    """

    route = media.CREATE
    template_fields: tuple[str, ...] = (
        "prompt", "image_files", "image_urls", "media_items", "motion_type", "camera_control", "quantity",
        "duration", "loop", "aspect_ratio", "audio_option", "character_animate", "model", "visibility_status",
        "title", "description", "webhook_url", "extra_params", *VimmerseJobOperator.template_fields,
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
        self.check_values()  # literal values now, when the DAG is parsed; templated ones when the task runs


class VimmerseUpdateMediaOperator(VimmerseJobOperator):
    """
    Edit a media with ``PUT /media/{id}/edit``.

    Metadata fields (``title``, ``description``, ``rating``, ``visibility_status``, ``webhook_url``)
    change at once, free, and the task returns without waiting. Setting a field that regenerates the
    video (``prompt``, ``motion_type``, ``quantity``, ``duration``, ``loop``, ``camera_control``,
    ``aspect_ratio``, ``audio_option``, ``media_items``, ``model``) spends credits; the task logs it
    and then waits like the create operator.

    Give the fields to change as keyword arguments (``title="..."``) or in ``changes``, or both.

    :param media_id: the media to edit, or the result of the task that made it (templated)
    :param changes: the fields to change, with the API's names, as a dict (templated)
    :param title: new title (free) (templated)
    :param description: new description (free) (templated)
    :param rating: rating, 1-5 (free) (templated)
    :param visibility_status: ``"0"`` private, ``"1"`` unlisted, ``"2"`` public (free) (templated)
    :param webhook_url: URL the API calls on completion (free) (templated)
    :param prompt: new text description (regenerates) (templated)
    :param motion_type: AI model, one of :data:`~airflow_provider_vimmerse.api.media.MOTION_TYPES`
        (regenerates) (templated)
    :param quantity: number of variations, 1-4 (regenerates) (templated)
    :param duration: seconds, 1-10 (regenerates) (templated)
    :param loop: motion repeats, 1-6 (regenerates) (templated)
    :param camera_control: camera path, one of :data:`~airflow_provider_vimmerse.api.media.CAMERA_CONTROLS`
        (regenerates) (templated)
    :param aspect_ratio: ``16:9``, ``4:3``, ``1:1``, ``3:4`` or ``9:16`` (regenerates) (templated)
    :param audio_option: audio options, as for the create operator (regenerates) (templated)
    :param media_items: list of ``{"type", "url", "position"}`` dicts (regenerates) (templated)
    :param model: try-on model, one of :data:`~airflow_provider_vimmerse.api.media.TRY_ON_MODELS`
        (regenerates) (templated)
    """

    route = media.EDIT
    template_fields: tuple[str, ...] = (
        "media_id", "changes", "title", "description", "rating", "visibility_status", "webhook_url", "prompt",
        "motion_type", "quantity", "duration", "loop", "camera_control", "aspect_ratio", "audio_option",
        "media_items", "model", *VimmerseJobOperator.template_fields,
    )  # fmt: skip

    def __init__(
        self,
        *,
        media_id: str | dict[str, Any],
        changes: dict[str, Any] | None = None,
        title: str | None = None,
        description: str | None = None,
        rating: int | None = None,
        visibility_status: str | None = None,
        webhook_url: str | None = None,
        prompt: str | None = None,
        motion_type: str | None = None,
        quantity: int | None = None,
        duration: int | None = None,
        loop: int | None = None,
        camera_control: str | None = None,
        aspect_ratio: str | None = None,
        audio_option: dict[str, Any] | str | None = None,
        media_items: list[dict[str, Any]] | str | None = None,
        model: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.media_id = media_id
        self.changes = changes
        self.title = title
        self.description = description
        self.rating = rating
        self.visibility_status = visibility_status
        self.webhook_url = webhook_url
        self.prompt = prompt
        self.motion_type = motion_type
        self.quantity = quantity
        self.duration = duration
        self.loop = loop
        self.camera_control = camera_control
        self.aspect_ratio = aspect_ratio
        self.audio_option = audio_option
        self.media_items = media_items
        self.model = model
        self.check_values()  # literal values now, when the DAG is parsed; templated ones when the task runs


class VimmerseProcessMediaOperator(VimmerseJobOperator):
    """
    Resubmit an existing media for generation with ``POST /media/{id}/process`` (spends credits), then wait.

    :param media_id: the media to process again, or the result of the task that made it (templated)
    """

    route = media.PROCESS
    template_fields: tuple[str, ...] = ("media_id", *VimmerseJobOperator.template_fields)

    def __init__(
        self,
        *,
        media_id: str | dict[str, Any],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.media_id = media_id
        self.check_values()
