"""Operators for media jobs: create, edit (maybe regenerating) and reprocess a media."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_vimmerse.operators.base import VimmerseEditOperator, VimmerseJobOperator, VimmerseRerunOperator
from airflow_provider_vimmerse.operators.params import (
    BOOL,
    EXTRA_PARAMS,
    FILES,
    INT,
    JSON,
    JSON_LIST,
    KEPT,
    URLS,
    Param,
    as_list,
)

if TYPE_CHECKING:
    from airflow_provider_vimmerse.api.endpoints import ApiRequest
    from airflow_provider_vimmerse.api.fields import EditRoute
    from airflow_provider_vimmerse.api.submissions import Submission

_MEDIA = "~airflow_provider_vimmerse.api.media"


class VimmerseCreateMediaOperator(VimmerseJobOperator):
    """
    Generate a video with ``POST /media`` from a prompt, images or media items, and wait for it.

    Every documented input is a parameter. Inputs are checked before anything is sent: literal
    values when the DAG is parsed, templated ones when the task runs.
    """

    job_kind = "media"

    prompt = Param("text description of the video")
    image_files = Param(
        "local paths or ``ObjectStoragePath``\\ s of images to upload; one image animates it, two make a transition",
        FILES,
    )
    image_urls = Param("public image URLs", URLS)
    media_items = Param('list of ``{"type", "url", "position"}`` dicts (sent as JSON)', JSON_LIST)
    motion_type = Param(f"AI model, one of :data:`{_MEDIA}.MOTION_TYPES`")
    camera_control = Param(f"camera path, one of :data:`{_MEDIA}.CAMERA_CONTROLS`")
    quantity = Param("number of variations, 1-4", INT)
    duration = Param("seconds, 1-10", INT)
    loop = Param("motion repeats, 1-6", INT)
    aspect_ratio = Param("``16:9``, ``4:3``, ``1:1``, ``3:4`` or ``9:16``")
    audio_option = Param(
        "dict with ``narrator``, ``narration``, ``narration_url``, ``bg_music_prompt``, ``bg_music_url`` "
        "(sent as JSON)",
        JSON,
    )
    character_animate = Param("character animation mode", BOOL)
    model = Param(f"try-on model, one of :data:`{_MEDIA}.TRY_ON_MODELS`")
    visibility_status = Param('``"0"`` private, ``"1"`` unlisted, ``"2"`` public')
    title = Param("media title")
    description = Param("media description")
    webhook_url = Param("URL the API calls on completion")
    extra_params = EXTRA_PARAMS

    def check_values(self) -> None:
        """Check the fields and that there is something to generate from (no request is sent)."""
        from airflow_provider_vimmerse.api import media

        values = self.api_fields()
        media.check_media_fields(values)
        media.check_has_input(values, has_files=bool(as_list(self.image_files)))

    def submit(self, context: Any) -> Submission:
        """Read the image files (a missing one fails here, before sending) and send ``POST /media``."""
        from airflow_provider_vimmerse.api import media
        from airflow_provider_vimmerse.operators.files import read_images

        return self.send(media.create_media(self.api_fields(), read_images(self.image_files)))


class VimmerseUpdateMediaOperator(VimmerseEditOperator):
    """
    Edit a media with ``PUT /media/{id}/edit``.

    Metadata fields (``title``, ``description``, ``rating``, ``visibility_status``, ``webhook_url``)
    change at once, free, and the task returns without waiting. Setting a field that regenerates the
    video (``prompt``, ``motion_type``, ``quantity``, ``duration``, ``loop``, ``camera_control``,
    ``aspect_ratio``, ``audio_option``, ``media_items``, ``model``) spends credits; the task logs it
    and then waits like the create operator.

    Give the fields to change as keyword arguments (``title="..."``) or in ``changes``, or both.
    """

    job_kind = "media"
    id_param = "media_id"
    regenerated = "the video"

    media_id = Param("the media to edit", "str", send=KEPT, required=True)
    title = Param("new title (free)")
    description = Param("new description (free)")
    rating = Param("rating, 1-5 (free)", INT)
    visibility_status = Param('``"0"`` private, ``"1"`` unlisted, ``"2"`` public (free)')
    webhook_url = Param("URL the API calls on completion (free)")
    prompt = Param("new text description (regenerates)")
    motion_type = Param(f"AI model, one of :data:`{_MEDIA}.MOTION_TYPES` (regenerates)")
    quantity = Param("number of variations, 1-4 (regenerates)", INT)
    duration = Param("seconds, 1-10 (regenerates)", INT)
    loop = Param("motion repeats, 1-6 (regenerates)", INT)
    camera_control = Param(f"camera path, one of :data:`{_MEDIA}.CAMERA_CONTROLS` (regenerates)")
    aspect_ratio = Param("``16:9``, ``4:3``, ``1:1``, ``3:4`` or ``9:16`` (regenerates)")
    audio_option = Param("audio options, as for the create operator (regenerates)", JSON)
    media_items = Param('list of ``{"type", "url", "position"}`` dicts (regenerates)', JSON_LIST)
    model = Param(f"try-on model, one of :data:`{_MEDIA}.TRY_ON_MODELS` (regenerates)")

    @classmethod
    def edit_route(cls) -> EditRoute:
        """Return :data:`~airflow_provider_vimmerse.api.media.EDIT`."""
        from airflow_provider_vimmerse.api.media import EDIT

        return EDIT


class VimmerseProcessMediaOperator(VimmerseRerunOperator):
    """Resubmit an existing media for generation with ``POST /media/{id}/process`` (spends credits), then wait."""

    job_kind = "media"
    id_param = "media_id"
    rerun_action = "process"
    rerun_doing = "resubmitting for generation"

    media_id = Param("the media to process again", "str", send=KEPT, required=True)

    def rerun_request(self, job_id: str) -> ApiRequest:
        """Build the resubmission (its documented answer is ``{"data": {}}``)."""
        from airflow_provider_vimmerse.api.media import process_media

        return process_media(job_id)
