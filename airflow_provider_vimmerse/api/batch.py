"""
Batch inputs: the documented fields of ``POST /batch`` and ``PUT /batch/{id}/edit``, their allowed
values, validation before anything is sent, and the request builders (create, edit, concat).

A batch makes one media per image with shared settings and composes them into one video
(``video_url``). Fields come from ``shared/reference/vimmerse-api/batch.txt`` (it has no field table:
its examples, the list of fields that resubmit a batch and the webhook note name them); the motion
types, aspect ratios and ranges are the media ones (:mod:`airflow_provider_vimmerse.api.media`).
``is_transition`` is not a field of ``POST /batch`` (only of the legacy ``/batch/upload``), so it is refused.

Pure module: no Airflow imports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_provider_vimmerse.api.endpoints import ApiRequest, FilePart, form_fields
from airflow_provider_vimmerse.api.fields import EditRoute, check_enum, check_images, check_range, check_urls
from airflow_provider_vimmerse.api.media import (
    ASPECT_RATIOS,
    MOTION_TYPES,
    RANGES,
    VISIBILITY_STATUSES,
)
from airflow_provider_vimmerse.api.urls import job_path
from airflow_provider_vimmerse.exceptions import VimmerseInputError

SOUND_EFFECTS = ("Yes", "No")
ENUMS: Mapping[str, Sequence[str]] = {
    "motion_type": MOTION_TYPES,
    "aspect_ratio": ASPECT_RATIOS,
    "sound_effects": SOUND_EFFECTS,
    "visibility_status": VISIBILITY_STATUSES,
}
#: Inputs the provider once took that ``POST /batch`` does not document, and why they are refused.
REFUSED_FIELDS: Mapping[str, str] = {
    "is_transition": (
        "is not a field of POST /batch (batch.txt names none; only the legacy POST /batch/upload took it, "
        "inside its 'data' JSON). Remove it: to make a transition between two images use "
        "VimmerseCreateMediaOperator with both images"
    ),
}
#: ``PUT /batch/{id}/edit`` fields that regenerate every media of the batch and spend credits.
REGENERATING_FIELDS = ("prompt", "motion_type", "quantity", "duration", "loop", "aspect_ratio", "sound_effects")
#: ``PUT /batch/{id}/edit`` fields that only change metadata (free).
METADATA_FIELDS = ("title", "description", "rating", "visibility_status", "webhook_url")
EDIT_FIELDS = REGENERATING_FIELDS + METADATA_FIELDS


def check_batch_fields(values: Mapping[str, Any]) -> None:
    """
    Validate the batch fields that are set (enums, ranges, URLs).

    Unrendered template values are skipped; call again after rendering.

    :raises VimmerseInputError: naming the field and the allowed values
    """
    check_refused(values)
    for field, allowed in ENUMS.items():
        value = values.get(field)
        if field == "visibility_status" and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if field == "sound_effects" and isinstance(value, bool):
            continue
        check_enum(field, value, allowed)
    for field, (low, high) in RANGES.items():
        check_range(field, values.get(field), low, high)
    check_urls("image_urls", values.get("image_urls"))
    check_urls("webhook_url", values.get("webhook_url"))
    if values.get("rating") is not None:
        check_range("rating", values["rating"], 1, 5)


def check_refused(values: Mapping[str, Any]) -> None:
    """Raise :class:`.VimmerseInputError` for a set input that the batch routes do not document."""
    for field, why in REFUSED_FIELDS.items():
        if values.get(field) is not None:
            raise VimmerseInputError(field, why)


def check_batch_images(image_files: Sequence[Any], image_urls: Sequence[Any]) -> None:
    """
    Require the images of a batch: image files or image URLs (not both), at least one.

    :param image_files: the image files (paths) to upload
    :param image_urls: the public image URLs
    :raises VimmerseInputError: naming ``image_files`` / ``image_urls``
    """
    check_images(image_files, image_urls, "a batch needs at least one image")


def encode_batch_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """Return the fields as the API wants them: ``sound_effects`` as ``"Yes"``/``"No"``, None dropped."""
    encoded = {name: value for name, value in values.items() if value is not None}
    if isinstance(encoded.get("sound_effects"), bool):
        encoded["sound_effects"] = "Yes" if encoded["sound_effects"] else "No"
    return encoded


def create_batch(values: Mapping[str, Any], files: Sequence[FilePart] = ()) -> ApiRequest:
    """
    Build ``POST /batch``: multipart with one ``image_files`` part per image, or a form with repeated ``image_urls``.

    :param values: the shared settings and ``image_urls``, with the API's names
    :param files: the images to upload (field ``image_files``)
    """
    return ApiRequest(
        "POST", "/batch", form=form_fields(encode_batch_fields(values)), files=tuple(files), spends_credits=True
    )


def concat_batch(batch_id: str) -> ApiRequest:
    """Build ``POST /batch/{id}/concat`` (empty body): compose the batch's videos again (spends credits)."""
    return ApiRequest("POST", job_path("/batch/{job_id}/concat", batch_id), spends_credits=True)


#: ``PUT /batch/{id}/edit``: its fields, which of them regenerate the batch, the check and the request.
EDIT = EditRoute("/batch/{job_id}/edit", REGENERATING_FIELDS, METADATA_FIELDS, check_batch_fields, encode_batch_fields)


def edit_batch(batch_id: str, values: Mapping[str, Any]) -> ApiRequest:
    """Build ``PUT /batch/{id}/edit``; it spends credits when a regenerating field is set."""
    return EDIT.request(batch_id, values)
