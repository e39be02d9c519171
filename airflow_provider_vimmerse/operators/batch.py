"""
Operators for batches: one media per image with shared settings, composed into one video.

Create a batch, edit it (maybe regenerating every media), compose it again. Each waits on the batch
status (job kind ``batch``); the progress lines count finished and failed media. A batch where some
media failed still ends ``success`` on the API side: ``fail_on_partial_failure`` decides what the task does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_vimmerse.operators.base import (
    DEFAULT_COMPOSE_TIMEOUT,
    VimmerseConcatOperator,
    VimmerseEditOperator,
    VimmerseGroupJobOperator,
)
from airflow_provider_vimmerse.operators.params import (
    BOOL,
    EXTRA_PARAMS,
    FILES,
    INT,
    KEPT,
    URLS,
    Param,
    as_list,
)

if TYPE_CHECKING:
    from airflow_provider_vimmerse.api.endpoints import ApiRequest
    from airflow_provider_vimmerse.api.fields import EditRoute
    from airflow_provider_vimmerse.api.submissions import Submission

#: The motion types of a batch are those of a media.
_MOTION_TYPES = ":data:`~airflow_provider_vimmerse.api.media.MOTION_TYPES`"


class VimmerseCreateBatchOperator(VimmerseGroupJobOperator):
    """
    Make one video per image with ``POST /batch`` (shared settings), composed into one video, and wait.

    Give the images as ``image_files`` (uploaded multipart, like media) or as ``image_urls``, not both.
    Inputs are checked before anything is sent: literal values when the DAG is parsed, templated ones
    when the task runs.

    The result lists every media of the batch (``medias``: id, status, output URLs when the batch
    object gives them), ``finished_count``, ``failed_count``, ``failed_media``, the composed video in
    ``video_urls`` and the credits the batch used (``used_credits``) when the API reports them.

    :param fail_on_partial_failure: fail the task when some media failed (default), or succeed and list them
    :param compose_timeout: once the batch reads finished, how long to wait for its composed ``video_url``
        (seconds or a ``timedelta``; default 180: the documents say composing takes 1 to 3 minutes). Then
        the task succeeds without it, with ``composed: False`` and the outputs of each media in ``medias``
    """

    job_kind = "batch"
    default_compose_timeout = DEFAULT_COMPOSE_TIMEOUT

    image_files = Param("local paths or ``ObjectStoragePath``\\ s of the images, one media each", FILES)
    prompt = Param("text guiding the motion of every media")
    motion_type = Param(f"AI model, one of {_MOTION_TYPES}")
    aspect_ratio = Param("``16:9``, ``4:3``, ``1:1``, ``3:4`` or ``9:16``")
    sound_effects = Param('add sound effects: ``"Yes"``/``"No"`` (or True/False)', "str | bool | None")
    quantity = Param("variations per image, 1-4", INT)
    duration = Param("seconds per video, 1-10", INT)
    loop = Param("motion repeats, 1-6", INT)
    title = Param("batch title")
    description = Param("batch description")
    visibility_status = Param('``"0"`` private, ``"1"`` unlisted, ``"2"`` public')
    webhook_url = Param("URL the API calls when the batch is done")
    image_urls = Param("public image URLs, one media each", URLS)
    is_transition = Param(
        "refused: ``POST /batch`` documents no such field (kept only to say so clearly)", BOOL, templated=False
    )
    extra_params = EXTRA_PARAMS

    def check_values(self) -> None:
        """Validate the fields and require images (no request is sent)."""
        from airflow_provider_vimmerse.api import batch

        batch.check_batch_fields(self.api_fields())
        batch.check_batch_images(as_list(self.image_files), as_list(self.image_urls))

    def submit(self, context: Any) -> Submission:
        """Read the images (a missing file fails here, before sending) and send ``POST /batch``."""
        from airflow_provider_vimmerse.api import batch
        from airflow_provider_vimmerse.operators.files import read_image_sources

        files, source = read_image_sources(self.image_files, self.image_urls)
        req = batch.create_batch(self.api_fields(), files)
        self.log.info("Creating a batch from %s (one media each; spends credits)", source)
        return self.send(req)


class VimmerseUpdateBatchOperator(VimmerseEditOperator, VimmerseGroupJobOperator):
    """
    Edit a batch with ``PUT /batch/{id}/edit``.

    Metadata fields (``title``, ``description``, ``rating``, ``visibility_status``, ``webhook_url``)
    change at once, free, and the task returns without waiting. Setting a field that regenerates the
    batch (``prompt``, ``motion_type``, ``quantity``, ``duration``, ``loop``, ``aspect_ratio``,
    ``sound_effects``) processes every media again and spends credits; the task logs it and then waits
    like the create operator.

    Give the fields to change as keyword arguments (``title="..."``) or in ``changes``, or both.

    :param fail_on_partial_failure: after a regeneration, fail the task when some media failed (default)
    :param compose_timeout: after a regeneration, how long to wait for the composed ``video_url`` once the
        batch reads finished (default 180 s), as for :class:`VimmerseCreateBatchOperator`
    """

    job_kind = "batch"
    default_compose_timeout = DEFAULT_COMPOSE_TIMEOUT
    id_param = "batch_id"
    regenerated = "every media"

    batch_id = Param("the batch to edit", "str", send=KEPT, required=True)
    prompt = Param("new text guiding the motion (regenerates)")
    motion_type = Param(f"AI model, one of {_MOTION_TYPES} (regenerates)")
    quantity = Param("variations per image, 1-4 (regenerates)", INT)
    duration = Param("seconds per video, 1-10 (regenerates)", INT)
    loop = Param("motion repeats, 1-6 (regenerates)", INT)
    aspect_ratio = Param("``16:9``, ``4:3``, ``1:1``, ``3:4`` or ``9:16`` (regenerates)")
    sound_effects = Param('``"Yes"``/``"No"`` (or True/False) (regenerates)', "str | bool | None")
    title = Param("new title (free)")
    description = Param("new description (free)")
    rating = Param("rating, 1-5 (free)", INT)
    visibility_status = Param('``"0"`` private, ``"1"`` unlisted, ``"2"`` public (free)')
    webhook_url = Param("URL the API calls when the batch is done (free)")

    @classmethod
    def edit_route(cls) -> EditRoute:
        """Return :data:`~airflow_provider_vimmerse.api.batch.EDIT`."""
        from airflow_provider_vimmerse.api.batch import EDIT

        return EDIT


class VimmerseConcatBatchOperator(VimmerseConcatOperator):
    """
    Compose a finished batch's videos again with ``POST /batch/{id}/concat`` (spends credits), then wait
    for the new composed ``video_url``.

    :param fail_on_partial_failure: fail when the batch has failed media (default False here: composing
        uses the media that succeeded, and the batch's own task already reported the failures)
    """

    job_kind = "batch"
    id_param = "batch_id"

    batch_id = Param("the batch to compose", "str", send=KEPT, required=True)

    def rerun_request(self, job_id: str) -> ApiRequest:
        """Build the composition (its documented answer is ``{}``: the wait takes only a new video_url)."""
        from airflow_provider_vimmerse.api.batch import concat_batch

        return concat_batch(job_id)
