"""
The batch routes' rows: ``POST /batch``, ``PUT /batch/{id}/edit`` and ``POST /batch/{id}/concat``, their
documented fields and allowed values, and the rules across fields checked before anything is sent.

A batch makes one media per image with shared settings and composes them into one video
(``video_url``). Fields come from ``shared/reference/vimmerse-api/batch.txt`` (it has no field table:
its examples, the list of fields that resubmit a batch and the webhook note name them); the motion
types, aspect ratios and ranges are the media ones (:mod:`airflow_provider_vimmerse.api.media`).
``is_transition`` is not a field of ``POST /batch`` (only of the legacy ``/batch/upload``), so it is refused.

Pure module: no Airflow imports.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_vimmerse.api import fields
from airflow_provider_vimmerse.api.fields import FieldType, RouteField
from airflow_provider_vimmerse.api.media import (
    ASPECT_RATIO,
    DESCRIPTION,
    DURATION,
    LOOP,
    MOTION_TYPE,
    PROMPT,
    QUANTITY,
    TITLE,
    VISIBILITY_STATUS,
    WEBHOOK_URL,
)
from airflow_provider_vimmerse.api.routes import Route, Send, as_list

#: ``sound_effects`` as the API takes it (the operators also take True/False).
SOUND_EFFECTS = ("Yes", "No")
#: How long a batch that reads finished is given to show its composed video: "Composition typically takes
#: 1-3 minutes" (openapi.json, POST /story/{story_id}/concat); docs/api-contract.md says why a batch may have none.
DEFAULT_COMPOSE_TIMEOUT = 180.0


def check_sound_effects(values: Mapping[str, Any]) -> None:
    """
    Validate ``sound_effects``: ``"Yes"``/``"No"``, or True/False (sent as ``"Yes"``/``"No"``).

    A rule, not the field's ``allowed``: a bool is a valid value here, and the per-field check refuses a bool
    for a field with allowed values.
    """
    value = values.get("sound_effects")
    if not isinstance(value, bool):
        fields.check_enum("sound_effects", value, SOUND_EFFECTS)


def check_create(values: Mapping[str, Any]) -> None:
    """
    Validate ``POST /batch`` across fields: ``sound_effects``, and the images as files or URLs (not both,
    at least one).

    :param values: every field given, ``image_files`` included
    :raises VimmerseInputError: naming ``sound_effects``, ``image_files`` or ``image_urls``
    """
    check_sound_effects(values)
    fields.check_images(
        as_list(values.get("image_files")), as_list(values.get("image_urls")), "a batch needs at least one image"
    )


def encode_batch_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """Return the fields as the API wants them: ``sound_effects`` as ``"Yes"``/``"No"``, None dropped."""
    encoded = {name: value for name, value in values.items() if value is not None}
    if isinstance(encoded.get("sound_effects"), bool):
        encoded["sound_effects"] = "Yes" if encoded["sound_effects"] else "No"
    return encoded


T = FieldType
#: ``sound_effects``: its values are checked by :func:`check_sound_effects` (a bool is one).
SOUND_EFFECTS_FIELD = RouteField("sound_effects")

#: ``POST /batch``: one media per image (uploaded multipart, or public URLs sent as repeated fields), composed
#: into one video; the task waits for the composed video at most ``compose_timeout`` once the batch is finished.
CREATE = Route(
    "POST",
    "/batch",
    "batch",
    fields=(
        RouteField("image_files", T.FILES), PROMPT, MOTION_TYPE, ASPECT_RATIO, SOUND_EFFECTS_FIELD, QUANTITY, DURATION,
        LOOP, TITLE, DESCRIPTION, VISIBILITY_STATUS, WEBHOOK_URL, RouteField("image_urls", T.URLS),
    ),
    refused={
        "is_transition": (
            "is not a field of POST /batch (batch.txt names none; only the legacy POST /batch/upload took it, "
            "inside its 'data' JSON). Remove it: to make a transition between two images use "
            "VimmerseCreateMediaOperator with both images"
        ),
    },
    rules=check_create,
    encode=encode_batch_fields,
    needs_output=True,
    group=True,
    compose_timeout=DEFAULT_COMPOSE_TIMEOUT,
)  # fmt: skip

#: ``PUT /batch/{id}/edit``: metadata changes at once (free); a regenerating field processes every media again
#: (batch.txt: "resubmit again if you update any of prompt, motion_type, quantity, duration, loop, aspect_ratio
#: and sound_effects").
EDIT = Route(
    "PUT",
    "/batch/{job_id}/edit",
    "batch",
    Send.EDIT,
    fields=(
        PROMPT, MOTION_TYPE, QUANTITY, DURATION, LOOP, ASPECT_RATIO, SOUND_EFFECTS_FIELD, TITLE, DESCRIPTION,
        RouteField("rating", T.INT, low=1, high=5), VISIBILITY_STATUS, WEBHOOK_URL,
    ),
    target="batch_id",
    rules=check_sound_effects,
    encode=encode_batch_fields,
    regenerating=("prompt", "motion_type", "quantity", "duration", "loop", "aspect_ratio", "sound_effects"),
    regenerates="every media",
    action="regeneration",
    needs_output=True,
    group=True,
    compose_timeout=DEFAULT_COMPOSE_TIMEOUT,
    fills_webhook_url=False,
)  # fmt: skip

#: ``POST /batch/{id}/concat`` (empty body; its documented answer is ``{}``): compose a finished batch's videos
#: again (spends credits). Composition "typically takes 1-3 minutes" (openapi.json, POST /story/{story_id}/concat)
#: and the status may read ``success`` all along, so the wait takes only a new ``video_url``, until ``timeout``.
#: Composing uses the media that succeeded, and the batch's own task already reported the failures: a partial
#: failure does not fail this task unless asked.
CONCAT = Route(
    "POST",
    "/batch/{job_id}/concat",
    "batch",
    Send.RERUN,
    body="none",
    target="batch_id",
    action="concat",
    doing="composing its videos again",
    needs_output=True,
    group=True,
    partial_failure_fails=False,
    rerun_grace=False,
    fills_webhook_url=False,
)
