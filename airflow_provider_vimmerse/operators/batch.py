"""
Operators for batches: one media per image with shared settings, composed into one video.

Create a batch, edit it (maybe regenerating every media), compose it again. Each waits on the batch
status (job kind ``batch``); the progress lines count finished and failed media. A batch where some
media failed still ends ``success`` on the API side: ``fail_on_partial_failure`` decides what the task does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_provider_vimmerse.api import batch
from airflow_provider_vimmerse.operators.job import VimmerseJobOperator


class VimmerseCreateBatchOperator(VimmerseJobOperator):
    """
    Make one video per image with ``POST /batch`` (shared settings), composed into one video, and wait.

    Give the images as ``image_files`` (uploaded multipart, like media) or as ``image_urls``, not both.
    Inputs are checked before anything is sent: literal values when the DAG is parsed, templated ones
    when the task runs.

    The result lists every media of the batch (``medias``: id, status, output URLs when the batch
    object gives them), ``finished_count``, ``failed_count``, ``failed_media``, the composed video in
    ``video_urls`` and the credits the batch used (``used_credits``) when the API reports them.

    :param image_files: local paths or ``ObjectStoragePath``\\ s of the images, one media each (templated)
    :param prompt: text guiding the motion of every media (templated)
    :param motion_type: AI model, one of :data:`~airflow_provider_vimmerse.api.media.MOTION_TYPES` (templated)
    :param aspect_ratio: ``16:9``, ``4:3``, ``1:1``, ``3:4`` or ``9:16`` (templated)
    :param sound_effects: add sound effects: ``"Yes"``/``"No"`` (or True/False) (templated)
    :param quantity: variations per image, 1-4 (templated)
    :param duration: seconds per video, 1-10 (templated)
    :param loop: motion repeats, 1-6 (templated)
    :param title: batch title (templated)
    :param description: batch description (templated)
    :param visibility_status: ``"0"`` private, ``"1"`` unlisted, ``"2"`` public (templated)
    :param webhook_url: URL the API calls when the batch is done (templated)
    :param image_urls: public image URLs, one media each (templated)
    :param is_transition: refused: ``POST /batch`` documents no such field (kept only to say so clearly)
    :param extra_params: more fields sent as they are, for fields the API adds later (templated)
    """

    route = batch.CREATE
    template_fields: tuple[str, ...] = (
        "image_files", "prompt", "motion_type", "aspect_ratio", "sound_effects", "quantity", "duration", "loop",
        "title", "description", "visibility_status", "webhook_url", "image_urls", "extra_params",
        *VimmerseJobOperator.template_fields,
    )  # fmt: skip

    def __init__(
        self,
        *,
        image_files: Sequence[Any] | str | None = None,
        prompt: str | None = None,
        motion_type: str | None = None,
        aspect_ratio: str | None = None,
        sound_effects: str | bool | None = None,
        quantity: int | None = None,
        duration: int | None = None,
        loop: int | None = None,
        title: str | None = None,
        description: str | None = None,
        visibility_status: str | None = None,
        webhook_url: str | None = None,
        image_urls: Sequence[str] | str | None = None,
        is_transition: bool | None = None,
        extra_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.image_files = image_files
        self.prompt = prompt
        self.motion_type = motion_type
        self.aspect_ratio = aspect_ratio
        self.sound_effects = sound_effects
        self.quantity = quantity
        self.duration = duration
        self.loop = loop
        self.title = title
        self.description = description
        self.visibility_status = visibility_status
        self.webhook_url = webhook_url
        self.image_urls = image_urls
        self.is_transition = is_transition
        self.extra_params = extra_params
        self.check_values()  # literal values now, when the DAG is parsed; templated ones when the task runs


class VimmerseUpdateBatchOperator(VimmerseJobOperator):
    """
    Edit a batch with ``PUT /batch/{id}/edit``.

    Metadata fields (``title``, ``description``, ``rating``, ``visibility_status``, ``webhook_url``)
    change at once, free, and the task returns without waiting. Setting a field that regenerates the
    batch (``prompt``, ``motion_type``, ``quantity``, ``duration``, ``loop``, ``aspect_ratio``,
    ``sound_effects``) processes every media again and spends credits; the task logs it and then waits
    like the create operator.

    Give the fields to change as keyword arguments (``title="..."``) or in ``changes``, or both.

    :param batch_id: the batch to edit, or the result of the task that made it (templated)
    :param changes: the fields to change, with the API's names, as a dict (templated)
    :param prompt: new text guiding the motion (regenerates) (templated)
    :param motion_type: AI model, one of :data:`~airflow_provider_vimmerse.api.media.MOTION_TYPES`
        (regenerates) (templated)
    :param quantity: variations per image, 1-4 (regenerates) (templated)
    :param duration: seconds per video, 1-10 (regenerates) (templated)
    :param loop: motion repeats, 1-6 (regenerates) (templated)
    :param aspect_ratio: ``16:9``, ``4:3``, ``1:1``, ``3:4`` or ``9:16`` (regenerates) (templated)
    :param sound_effects: ``"Yes"``/``"No"`` (or True/False) (regenerates) (templated)
    :param title: new title (free) (templated)
    :param description: new description (free) (templated)
    :param rating: rating, 1-5 (free) (templated)
    :param visibility_status: ``"0"`` private, ``"1"`` unlisted, ``"2"`` public (free) (templated)
    :param webhook_url: URL the API calls when the batch is done (free) (templated)
    """

    route = batch.EDIT
    template_fields: tuple[str, ...] = (
        "batch_id", "changes", "prompt", "motion_type", "quantity", "duration", "loop", "aspect_ratio",
        "sound_effects", "title", "description", "rating", "visibility_status", "webhook_url",
        *VimmerseJobOperator.template_fields,
    )  # fmt: skip

    def __init__(
        self,
        *,
        batch_id: str | dict[str, Any],
        changes: dict[str, Any] | None = None,
        prompt: str | None = None,
        motion_type: str | None = None,
        quantity: int | None = None,
        duration: int | None = None,
        loop: int | None = None,
        aspect_ratio: str | None = None,
        sound_effects: str | bool | None = None,
        title: str | None = None,
        description: str | None = None,
        rating: int | None = None,
        visibility_status: str | None = None,
        webhook_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.batch_id = batch_id
        self.changes = changes
        self.prompt = prompt
        self.motion_type = motion_type
        self.quantity = quantity
        self.duration = duration
        self.loop = loop
        self.aspect_ratio = aspect_ratio
        self.sound_effects = sound_effects
        self.title = title
        self.description = description
        self.rating = rating
        self.visibility_status = visibility_status
        self.webhook_url = webhook_url
        self.check_values()  # literal values now, when the DAG is parsed; templated ones when the task runs


class VimmerseConcatBatchOperator(VimmerseJobOperator):
    """
    Compose a finished batch's videos again with ``POST /batch/{id}/concat`` (spends credits), then wait
    for the new composed ``video_url``.

    :param batch_id: the batch to compose, or the result of the task that made it (templated)
    """

    route = batch.CONCAT
    template_fields: tuple[str, ...] = ("batch_id", *VimmerseJobOperator.template_fields)

    def __init__(
        self,
        *,
        batch_id: str | dict[str, Any],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.batch_id = batch_id
        self.check_values()
