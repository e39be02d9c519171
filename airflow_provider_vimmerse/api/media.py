"""
The media routes' rows: ``POST /media``, ``PUT /media/{id}/edit`` and ``POST /media/{id}/process``, their
documented fields and allowed values, and the rules across fields checked before anything is sent.

Values come from ``shared/reference/vimmerse-api/media.txt``. ``audio_option`` and ``media_items``
are accepted as Python objects and sent as the JSON strings the API wants.

Pure module: no Airflow imports.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from airflow_provider_vimmerse.api import fields
from airflow_provider_vimmerse.api.fields import FieldType, RouteField
from airflow_provider_vimmerse.api.routes import Route, Send
from airflow_provider_vimmerse.exceptions import VimmerseInputError

#: ``motion_type`` of ``POST /media``: the AI model that animates the video.
MOTION_TYPES = (
    "Auto", "AutoT3", "KlingAI", "KlingT4", "LumaAI", "LumaRay2", "VeoFast", "Veo", "RunwayML", "MinimaxHailuo",
    "Seedance", "SeedanceFast", "Hunyuan", "Pixverse", "PixverseT3", "PicoMotion", "StaticMotion", "Wan", "Sora",
    "SoraPro", "TryOnVideo",
)  # fmt: skip
#: ``camera_control`` of ``POST /media``: the camera path.
CAMERA_CONTROLS = (
    "", "Static", "Crane up", "Crane down", "Tilt up", "Tilt down", "Pan right", "Pan left", "Roll right",
    "Roll left", "Orbit right", "Orbit left", "Rotate 360", "Dolly zoom", "Zoom in", "Zoom out", "Aerial",
)  # fmt: skip
ASPECT_RATIOS = ("16:9", "4:3", "1:1", "3:4", "9:16")
VISIBILITY_STATUSES = ("0", "1", "2")
TRY_ON_MODELS = ("SeedreamTryOn", "NanoBananaProTryOn", "FashnTryOn", "ViduTryOn", "KlingTryOn")
NARRATORS = (
    "Rachel", "Aria", "Roger", "Sarah", "Laura", "Charlie", "George", "Callum", "River", "Liam", "Charlotte",
    "Alice", "Matilda", "Will", "Jessica", "Eric", "Chris", "Brian", "Daniel", "Lily", "Bill",
)  # fmt: skip
AUDIO_OPTION_KEYS = ("narrator", "narration", "narration_url", "bg_music_prompt", "bg_music_url")
MEDIA_ITEM_TYPES = ("image", "video", "audio")
MEDIA_ITEM_POSITIONS = ("First", "Last")


def check_audio_option(value: Any) -> None:
    """Validate ``audio_option``: a dict (or its JSON string) with the documented keys and voices."""
    if value is None or fields.is_templated(value):
        return
    option = fields.json_object("audio_option", value, AUDIO_OPTION_KEYS, enums={"narrator": NARRATORS})
    if option.get("narration") and not option.get("narrator") and not option.get("narration_url"):
        raise VimmerseInputError("audio_option", "'narration' needs a 'narrator' voice (or use 'narration_url')")


def check_media_items(value: Any) -> None:
    """Validate ``media_items``: a list of ``{"type", "url", "position"}`` dicts (or its JSON string)."""
    if value is None or fields.is_templated(value):
        return
    items = fields.json_value("media_items", value, list)
    if not items:
        raise VimmerseInputError("media_items", "must not be empty when given")
    for index, item in enumerate(items):
        field = f"media_items[{index}]"
        if not isinstance(item, Mapping):
            raise VimmerseInputError(field, f"must be a dict with 'type', 'url' and 'position', got {item!r}")
        fields.check_enum(f"{field}.type", item.get("type"), MEDIA_ITEM_TYPES)
        if not isinstance(item.get("url"), str) or not item["url"].startswith(("http://", "https://")):
            raise VimmerseInputError(f"{field}.url", f"must be a public http(s) URL, got {item.get('url')!r}")
        fields.check_enum(f"{field}.position", item.get("position"), MEDIA_ITEM_POSITIONS)


def check_json_fields(values: Mapping[str, Any]) -> None:
    """Validate the JSON fields of a media route: ``audio_option`` and ``media_items``."""
    check_audio_option(values.get("audio_option"))
    check_media_items(values.get("media_items"))


def check_create(values: Mapping[str, Any]) -> None:
    """
    Validate ``POST /media`` across fields: the JSON fields, and at least one input to generate from.

    :param values: every field given, ``image_files`` included
    """
    check_json_fields(values)
    if any(values.get(name) for name in ("prompt", "image_files", "image_urls", "media_items")):
        return
    raise VimmerseInputError(
        "prompt", "give at least one of: prompt, image_files, image_urls, media_items (nothing to generate from)"
    )


def encode_media_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """Return the fields as the API wants them: JSON strings for ``audio_option`` and ``media_items``."""
    encoded = dict(values)
    for name in ("audio_option", "media_items"):
        if encoded.get(name) is not None and not isinstance(encoded[name], str):
            encoded[name] = json.dumps(encoded[name])
    return encoded


T = FieldType
#: Fields ``POST /media`` and ``PUT /media/{id}/edit`` share, as media.txt documents them.
PROMPT = RouteField("prompt")
MOTION_TYPE = RouteField("motion_type", allowed=MOTION_TYPES)
CAMERA_CONTROL = RouteField("camera_control", allowed=CAMERA_CONTROLS)
QUANTITY = RouteField("quantity", T.INT, low=1, high=4)
DURATION = RouteField("duration", T.INT, low=1, high=10)
LOOP = RouteField("loop", T.INT, low=1, high=6)
ASPECT_RATIO = RouteField("aspect_ratio", allowed=ASPECT_RATIOS)
AUDIO_OPTION = RouteField("audio_option", T.JSON)
MEDIA_ITEMS = RouteField("media_items", T.JSON)
MODEL = RouteField("model", allowed=TRY_ON_MODELS)
VISIBILITY_STATUS = RouteField("visibility_status", allowed=VISIBILITY_STATUSES)
TITLE = RouteField("title")
DESCRIPTION = RouteField("description")
WEBHOOK_URL = RouteField("webhook_url", T.URL)

#: ``POST /media``: generate a video from a prompt, images or media items (multipart with image files).
CREATE = Route(
    "POST",
    "/media",
    "media",
    fields=(
        PROMPT, RouteField("image_files", T.FILES), RouteField("image_urls", T.URLS), MEDIA_ITEMS, MOTION_TYPE,
        CAMERA_CONTROL, QUANTITY, DURATION, LOOP, ASPECT_RATIO, AUDIO_OPTION, RouteField("character_animate", T.BOOL),
        MODEL, VISIBILITY_STATUS, TITLE, DESCRIPTION, WEBHOOK_URL,
    ),
    rules=check_create,
    encode=encode_media_fields,
)  # fmt: skip

#: ``PUT /media/{id}/edit``: metadata changes at once (free); a regenerating field generates the video again.
EDIT = Route(
    "PUT",
    "/media/{job_id}/edit",
    "media",
    Send.EDIT,
    fields=(
        TITLE, DESCRIPTION, RouteField("rating", T.INT, low=1, high=5), VISIBILITY_STATUS, WEBHOOK_URL, PROMPT,
        MOTION_TYPE, QUANTITY, DURATION, LOOP, CAMERA_CONTROL, ASPECT_RATIO, AUDIO_OPTION, MEDIA_ITEMS, MODEL,
    ),
    target="media_id",
    rules=check_json_fields,
    encode=encode_media_fields,
    regenerating=(
        "prompt", "motion_type", "quantity", "duration", "loop", "camera_control", "aspect_ratio", "audio_option",
        "media_items", "model",
    ),
    regenerates="the video",
    action="regeneration",
    fills_webhook_url=False,
)  # fmt: skip

#: ``POST /media/{id}/process``: generate an existing media again with its stored parameters (spends credits).
PROCESS = Route(
    "POST",
    "/media/{job_id}/process",
    "media",
    Send.RERUN,
    body="json",
    target="media_id",
    action="process",
    doing="resubmitting for generation",
    fills_webhook_url=False,
)
