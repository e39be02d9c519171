"""
Media inputs: the documented fields of ``POST /media`` and ``PUT /media/{id}/edit``, their allowed
values, validation before anything is sent, and the request builders.

Values come from ``shared/reference/vimmerse-api/media.txt``. ``audio_option`` and ``media_items``
are accepted as Python objects and sent as the JSON strings the API wants.

Pure module: no Airflow imports.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from airflow_provider_vimmerse.api import fields
from airflow_provider_vimmerse.api.endpoints import ApiRequest, FilePart, form_fields
from airflow_provider_vimmerse.api.urls import job_path
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

#: Integer fields and their documented ranges.
RANGES: Mapping[str, tuple[int, int]] = {"quantity": (1, 4), "duration": (1, 10), "loop": (1, 6)}
ENUMS: Mapping[str, Sequence[str]] = {
    "motion_type": MOTION_TYPES,
    "camera_control": CAMERA_CONTROLS,
    "aspect_ratio": ASPECT_RATIOS,
    "visibility_status": VISIBILITY_STATUSES,
    "model": TRY_ON_MODELS,
}
#: ``PUT /media/{id}/edit`` fields that regenerate the video and spend credits.
REGENERATING_FIELDS = (
    "prompt", "motion_type", "quantity", "duration", "loop", "camera_control", "aspect_ratio", "audio_option",
    "media_items", "model",
)  # fmt: skip
#: ``PUT /media/{id}/edit`` fields that only change metadata (free).
METADATA_FIELDS = ("title", "description", "rating", "visibility_status", "webhook_url")
EDIT_FIELDS = REGENERATING_FIELDS + METADATA_FIELDS


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


def check_media_fields(values: Mapping[str, Any]) -> None:
    """
    Validate the media fields that are set (enums, ranges, JSON fields, URLs).

    Unrendered template values are skipped; call again after rendering.

    :raises VimmerseInputError: naming the field and the allowed values
    """
    for field, allowed in ENUMS.items():
        value = values.get(field)
        if field == "visibility_status" and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        fields.check_enum(field, value, allowed)
    for field, (low, high) in RANGES.items():
        fields.check_range(field, values.get(field), low, high)
    check_audio_option(values.get("audio_option"))
    check_media_items(values.get("media_items"))
    fields.check_urls("image_urls", values.get("image_urls"))
    fields.check_urls("webhook_url", values.get("webhook_url"))
    if values.get("rating") is not None and not fields.is_templated(values["rating"]):
        fields.check_range("rating", values["rating"], 1, 5)


def check_has_input(values: Mapping[str, Any], *, has_files: bool) -> None:
    """Raise unless at least one of prompt, image files, image URLs or media items is given."""
    if has_files or any(values.get(name) for name in ("prompt", "image_urls", "media_items")):
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


def create_media(values: Mapping[str, Any], files: Sequence[FilePart] = ()) -> ApiRequest:
    """Build ``POST /media`` (multipart when there are image files, urlencoded otherwise)."""
    return ApiRequest(
        "POST", "/media", form=form_fields(encode_media_fields(values)), files=tuple(files), spends_credits=True
    )


def process_media(media_id: str) -> ApiRequest:
    """Build ``POST /media/{id}/process`` (resubmits with the stored parameters; spends credits)."""
    return ApiRequest("POST", job_path("/media/{job_id}/process", media_id), json={}, spends_credits=True)


#: ``PUT /media/{id}/edit``: its fields, which of them regenerate the video, the check and the request.
EDIT = fields.EditRoute(
    "/media/{job_id}/edit", REGENERATING_FIELDS, METADATA_FIELDS, check_media_fields, encode_media_fields
)


def edit_media(media_id: str, values: Mapping[str, Any]) -> ApiRequest:
    """Build ``PUT /media/{id}/edit``; it spends credits when a regenerating field is set."""
    return EDIT.request(media_id, values)
