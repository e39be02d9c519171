"""Credits: what each request costs, and which edits regenerate (and so cost) anything.

No document gives a price (openapi.json and media.txt only say which requests spend credits), so every number
here is the sandbox's own (docs/sandbox.md, "Credits"):

- ``POST /media``, ``PUT /media/{id}[/edit]`` with a regenerating field, ``POST /media/{id}/process``:
  ``quantity * duration``.
- ``POST /batch`` and ``PUT /batch/{id}/edit`` with a regenerating field: ``images * quantity * duration``.
- Story: ``POST /story`` 1, ``/elements`` 2, ``/scenes`` 2, ``/videos`` ``scenes * duration``;
  ``POST /story/idea-2-video`` and ``/story/url-2-video`` the sum of the four (``1 + 2 + 2 + scene_count *
  scene_duration``); ``/story/images-2-video`` no elements step (``1 + 2 + images * scene_duration``).
- ``POST /batch/{id}/concat`` and ``POST /story/{id}/concat``: 1.
- v2 video tools (:data:`V2_TOOLS`) and legacy image and audio tools (:data:`LEGACY_TOOLS`): the tool's unit
  price ``* quantity *`` the number of started 5-second blocks of ``duration`` (one block without a duration).
  ``POST /v2/video/estimate-credits`` uses the same rule. ``text/prompt`` and the uploads are free.
- ``POST /workflow``: :data:`WORKFLOW_CREDITS` per image; ``POST /finetune``: :data:`FINETUNE_CREDITS` (both
  document a 402). ``PUT``/``DELETE /workflow/{id}``, ``DELETE /story/{id}`` and ``GET /finetune/...`` are free.

A request the balance cannot pay answers 402 and creates or changes nothing. :data:`PRICES` is the one table
the routes charge from (:meth:`~airflow_provider_vimmerse.sandbox.routing.Call.pay`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from airflow_provider_vimmerse.sandbox.bodies import Body
from airflow_provider_vimmerse.sandbox.storyboards import chosen_storyboard, scene_count

STORY_CREATE_CREDITS = 1
STORY_ELEMENTS_CREDITS = 2
STORY_SCENES_CREDITS = 2
CONCAT_CREDITS = 1
WORKFLOW_CREDITS = 10
FINETUNE_CREDITS = 20
#: Seconds of a billing block of the tools' ``duration``.
BLOCK_SECONDS = 5

#: The fields whose change regenerates a media (media.txt "Update Media": "If provided, triggers regeneration").
MEDIA_REGEN_FIELDS = (
    *("prompt", "motion_type", "quantity", "duration", "loop"),
    *("camera_control", "aspect_ratio", "audio_option", "media_items", "model"),
)
#: batch.txt "Update Batch": "resubmit again if you update any of prompt, motion_type, quantity, duration, loop,
#: aspect_ratio and sound_effects".
BATCH_REGEN_FIELDS = ("prompt", "motion_type", "quantity", "duration", "loop", "aspect_ratio", "sound_effects")

# v2 tool route -> (app_name on the asset, unit credits); app names from video-v2.txt "Estimate Credits".
V2_TOOLS: dict[str, tuple[str, int]] = {
    "crop-to-aspect-ratio": ("crop-to-aspect-ratio", 1),
    "reframe": ("reframe", 5),
    "enhance": ("enhance", 5),
    "sound-effect": ("sound-effect", 2),
    "avatars/lip-sync": ("avatar-lip-sync", 5),
    "lip-sync": ("lip-sync", 5),
    "video-effects": ("video-effects", 5),
    "replace-background": ("replace-background-video", 3),
    "reference-to-video": ("reference-to-video", 10),
    "video-to-video": ("video-to-video", 10),
    "audio": ("audio", 1),
}
UPLOAD_APP_NAME = "upload-video"
#: Unit credits of every ``app_name`` ``POST /v2/video/estimate-credits`` documents.
APP_UNIT_CREDITS = {
    **dict(V2_TOOLS.values()),
    **{"edit-video": 5, "text-image-to-video": 10, "try-on": 5, UPLOAD_APP_NAME: 0},
}
#: MIME type of the outputs of the legacy tools of each folder. The asset's mime_type is spelled as
#: platform-api-v1-legacy.txt shows it ("audio/mp3"); openapi.json shows only "MIMETYPE".
LEGACY_OUTPUT_TYPES = {"image": "image/png", "audio": "audio/mp3"}
#: Unit credits of every legacy image and audio tool.
LEGACY_TOOL_CREDITS = 1
# Legacy tool route -> (app_name on the asset, unit credits, MIME type of the outputs). The app_name is the route's
# last segment.
LEGACY_TOOLS: dict[str, tuple[str, int, str]] = {
    f"/{folder}/{name}": (name, LEGACY_TOOL_CREDITS, LEGACY_OUTPUT_TYPES[folder])
    for folder, names in (
        ("image", ("text-2-image", "image-2-image", "reimagine", "edit-image")),
        # openapi.json: each answers the generic {"data": asset} example ("Modified image url.", "New Image URLs").
        ("image", ("replace-background", "try-on", "face-swap", "restyle", "elements")),
        ("audio", ("text-2-speech", "text-2-sound-effect")),
        # openapi.json: "Returns a WAV audio file (30 seconds)"; the sandbox has one sample sound, an MP3, and
        # serves it.
        ("audio", ("text-2-music",)),
    )
    for name in names
}
# Upload route -> (app_name on the asset, MIME type of the hosted file).
LEGACY_UPLOADS: dict[str, tuple[str, str]] = {
    "/image": ("upload-image", "image/png"),
    "/audio": ("upload-audio", "audio/mp3"),
}


def media_cost(quantity: int, duration: int) -> int:
    """Return the credits of one media generation.

    :param quantity: number of video variations.
    :param duration: video length in seconds.
    """
    return quantity * duration


def tool_credits(unit: int, quantity: int = 1, duration: float | None = None) -> tuple[int, dict[str, Any]]:
    """Return the credits of a tool request and the breakdown behind the number.

    :param unit: unit credits of the tool.
    :param quantity: number of outputs.
    :param duration: requested length in seconds, billed in started 5-second blocks.
    """
    blocks = max(1, math.ceil(duration / BLOCK_SECONDS)) if duration else 1
    total = unit * quantity * blocks
    return total, {"unit_credits": unit, "quantity": quantity, "duration_blocks": blocks}


def regenerating(changes: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """Return the changes of an edit that regenerate the job.

    :param changes: the fields the edit carries.
    :param fields: :data:`MEDIA_REGEN_FIELDS` or :data:`BATCH_REGEN_FIELDS`.
    """
    return {name: value for name, value in changes.items() if name in fields}


def tool_quantity(body: Body) -> int:
    """Return the number of outputs a tool request asks for (1 when the tool has no ``quantity``).

    :param body: the request body.
    """
    return int(body.values.get("quantity") or 1)


def estimate(body: Body) -> tuple[int, dict[str, Any]]:
    """Return what ``POST /v2/video/estimate-credits`` answers: the total and its breakdown.

    :param body: the request body (its ``app_name`` is one of :data:`APP_UNIT_CREDITS`, the documented values).
    """
    total, breakdown = tool_credits(
        APP_UNIT_CREDITS[body["app_name"]], body["quantity"], body["duration"] or body["video_duration"]
    )
    return total, {"app_name": body["app_name"], "option": body["option"], **breakdown}


# The price of each route: (method, path template) -> (body, job) -> credits.

Price = Callable[[Body, Any], int]


def _media_edit(body: Body, job: Any) -> int:
    regen = regenerating(body.changes(), MEDIA_REGEN_FIELDS)
    merged = {**job.generation, **regen}
    return media_cost(merged["quantity"], merged["duration"]) if regen else 0


def _batch_edit(body: Body, job: Any) -> int:
    regen = regenerating(body.changes(), BATCH_REGEN_FIELDS)
    merged = {**job.generation, **regen}
    return len(job.items) * media_cost(merged["quantity"], merged["duration"]) if regen else 0


def _batch(body: Body, job: Any) -> int:
    images = body["image_files"] or body["image_urls"]
    return len(images) * media_cost(body["quantity"], body["duration"])


def _story_videos(body: Body, job: Any) -> int:
    return scene_count(chosen_storyboard(body["storyboard"], job)) * body["duration"]


def _idea_to_video(body: Body, job: Any) -> int:
    steps = STORY_CREATE_CREDITS + STORY_ELEMENTS_CREDITS + STORY_SCENES_CREDITS
    return steps + body["scene_count"] * body["scene_duration"]


def _images_to_video(body: Body, job: Any) -> int:
    steps = STORY_CREATE_CREDITS + STORY_SCENES_CREDITS
    return steps + len(body["image_urls"]) * body["scene_duration"]


def _tool(unit: int) -> Price:
    def price(body: Body, job: Any) -> int:
        duration = body.values.get("duration") or body.values.get("video_duration")
        return tool_credits(unit, tool_quantity(body), duration)[0]

    return price


def _fixed(credits: int) -> Price:
    return lambda body, job: credits


PRICES: dict[tuple[str, str], Price] = {
    ("POST", "/media"): lambda body, job: media_cost(body["quantity"], body["duration"]),
    ("PUT", "/media/{media_id}"): _media_edit,
    ("PUT", "/media/{media_id}/edit"): _media_edit,
    ("POST", "/media/{media_id}/process"): lambda body, job: media_cost(
        job.generation["quantity"], job.generation["duration"]
    ),
    ("POST", "/batch"): _batch,
    ("PUT", "/batch/{batch_id}/edit"): _batch_edit,
    ("POST", "/batch/{batch_id}/concat"): _fixed(CONCAT_CREDITS),
    ("POST", "/story/idea-2-video"): _idea_to_video,
    ("POST", "/story/url-2-video"): _idea_to_video,
    ("POST", "/story/images-2-video"): _images_to_video,
    ("POST", "/story"): _fixed(STORY_CREATE_CREDITS),
    ("POST", "/story/{story_id}/elements"): _fixed(STORY_ELEMENTS_CREDITS),
    ("POST", "/story/{story_id}/scenes"): _fixed(STORY_SCENES_CREDITS),
    ("POST", "/story/{story_id}/videos"): _story_videos,
    ("POST", "/story/{story_id}/concat"): _fixed(CONCAT_CREDITS),
    ("POST", "/workflow"): lambda body, job: WORKFLOW_CREDITS * max(1, len(body["image_files"] or body["image_urls"])),
    ("POST", "/finetune"): _fixed(FINETUNE_CREDITS),
    **{("POST", f"/v2/video/{tool}"): _tool(unit) for tool, (_, unit) in V2_TOOLS.items()},
    **{("POST", path): _tool(unit) for path, (_, unit, _) in LEGACY_TOOLS.items()},
}


def price(method: str, path: str, body: Body, job: Any) -> int:
    """Return the credits a request costs; 0 for a route that is free.

    :param method: the route's method.
    :param path: the route's path template.
    :param body: the validated request body.
    :param job: the job the request works on, or None.
    """
    rule = PRICES.get((method, path))
    return rule(body, job) if rule is not None else 0
