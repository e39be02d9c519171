"""
Operators for batches: one media per image with shared settings, composed into one video.

Create a batch, edit it (maybe regenerating every media), compose it again. Each waits on the batch
status (job kind ``batch``); the progress lines count finished and failed media. A batch where some
media failed still ends ``success`` on the API side: ``fail_on_partial_failure`` decides what the task does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_vimmerse.exceptions import VimmerseInputError
from airflow_provider_vimmerse.operators.base import VimmerseGroupJobOperator
from airflow_provider_vimmerse.operators.params import (
    BOOL,
    EXTRA_PARAMS,
    FILES,
    INT,
    KEPT,
    LISTED,
    MERGED,
    URLS,
    Param,
    as_list,
)

if TYPE_CHECKING:
    from airflow_provider_vimmerse.api.submissions import Submission

_MEDIA = "~airflow_provider_vimmerse.api.media"


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
    """

    job_kind = "batch"

    image_files = Param("local paths or ``ObjectStoragePath``\\ s of the images, one media each", FILES, send=KEPT)
    prompt = Param("text guiding the motion of every media")
    motion_type = Param(f"AI model, one of :data:`{_MEDIA}.MOTION_TYPES`")
    aspect_ratio = Param("``16:9``, ``4:3``, ``1:1``, ``3:4`` or ``9:16``")
    sound_effects = Param('add sound effects: ``"Yes"``/``"No"`` (or True/False)', "str | bool | None")
    quantity = Param("variations per image, 1-4", INT)
    duration = Param("seconds per video, 1-10", INT)
    loop = Param("motion repeats, 1-6", INT)
    title = Param("batch title")
    description = Param("batch description")
    visibility_status = Param('``"0"`` private, ``"1"`` unlisted, ``"2"`` public')
    webhook_url = Param("URL the API calls when the batch is done")
    image_urls = Param("public image URLs, one media each", URLS, send=LISTED)
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
        from airflow_provider_vimmerse.operators.files import read_images

        files = read_images(self.image_files)
        req = batch.create_batch(self.api_fields(), files)
        source = f"{len(files)} uploaded image(s)" if files else f"{len(as_list(self.image_urls))} image URL(s)"
        self.log.info("Creating a batch from %s (one media each; spends credits)", source)
        return self.send(req)


class VimmerseUpdateBatchOperator(VimmerseGroupJobOperator):
    """
    Edit a batch with ``PUT /batch/{id}/edit``.

    Metadata fields (``title``, ``description``, ``rating``, ``visibility_status``, ``webhook_url``)
    change at once, free, and the task returns without waiting. Setting a field that regenerates the
    batch (``prompt``, ``motion_type``, ``quantity``, ``duration``, ``loop``, ``aspect_ratio``,
    ``sound_effects``) processes every media again and spends credits; the task logs it and then waits
    like the create operator.

    Give the fields to change as keyword arguments (``title="..."``) or in ``changes``, or both.

    :param fail_on_partial_failure: after a regeneration, fail the task when some media failed (default)
    """

    job_kind = "batch"

    batch_id = Param("the batch to edit", "str", send=KEPT, required=True)
    prompt = Param("new text guiding the motion (regenerates)")
    motion_type = Param(f"AI model, one of :data:`{_MEDIA}.MOTION_TYPES` (regenerates)")
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
    changes = Param("the fields to change, with the API's names, as a dict", "dict[str, Any] | None", send=MERGED)

    def check_values(self) -> None:
        """Check the changes: known fields only, at least one, valid values (no request is sent)."""
        from airflow_provider_vimmerse.api.batch import check_edit_fields

        check_edit_fields(self.api_fields())

    def check_inputs(self) -> None:
        """Require a batch id and check the rendered changes."""
        if not self.batch_id:
            raise VimmerseInputError("batch_id", "is required")
        super().check_inputs()

    def regenerates(self) -> list[str]:
        """Return the changed fields that regenerate every media of the batch (and spend credits)."""
        from airflow_provider_vimmerse.api.batch import regenerating_fields

        return regenerating_fields(self.api_fields())

    def submit(self, context: Any) -> Submission:
        """Send the edit: a regenerating one is waited on (its new run only); a metadata one is done at once."""
        from airflow_provider_vimmerse.api.batch import edit_batch

        batch_id, changes = str(self.batch_id), self.api_fields()
        regen = self.regenerates()
        if regen:
            self.log.info("batch %s: %s regenerate every media and spend credits", batch_id, ", ".join(regen))
            return self.rerun(batch_id, edit_batch(batch_id, changes), "regeneration")
        submission = self.send(edit_batch(batch_id, changes), job_id=batch_id, done=True)
        self.log.info("batch %s: metadata updated (%s); nothing regenerated", batch_id, ", ".join(changes))
        return submission


class VimmerseConcatBatchOperator(VimmerseGroupJobOperator):
    """
    Compose a finished batch's videos again with ``POST /batch/{id}/concat`` (spends credits), then wait
    for the new composed ``video_url``.

    :param fail_on_partial_failure: fail when the batch has failed media (default False here: composing
        uses the media that succeeded, and the batch's own task already reported the failures)
    """

    job_kind = "batch"
    partial_failure_fails = False
    #: Composition "typically takes 1-3 minutes" (openapi.json, POST /story/{story_id}/concat) and the
    #: status may read ``success`` all along: wait for the new video_url until ``timeout``.
    rerun_grace = None

    batch_id = Param("the batch to compose", "str", send=KEPT, required=True)

    def check_inputs(self) -> None:
        """Require a batch id."""
        if not self.batch_id:
            raise VimmerseInputError("batch_id", "is required")

    def submit(self, context: Any) -> Submission:
        """Ask for the composition (its documented answer is ``{}``); the wait takes only a new video_url."""
        from airflow_provider_vimmerse.api.batch import concat_batch

        self.log.info("batch %s: composing its videos again (spends credits)", self.batch_id)
        return self.rerun(str(self.batch_id), concat_batch(self.batch_id), "concat")
