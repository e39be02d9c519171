"""
Video API v2 tools as data: one row per ``POST /v2/video/{tool}`` route, its fields, their allowed
values and ranges, and the ``app_name``/``option`` that ``POST /v2/video/estimate-credits`` prices it by.

The rows are :class:`~airflow_provider_vimmerse.api.routes.Tool`\\ s of the field engine
(:mod:`airflow_provider_vimmerse.api.fields`), which also serves the legacy image/audio/text table in
:mod:`airflow_provider_vimmerse.api.tools`: a tool is a row, and adding a tool is adding a row.

Values come from ``shared/reference/vimmerse-api/video-v2.txt``. Every v2 route takes JSON and answers
with a bare asset; with ``async_mode`` (the API's default) the asset is polled until ``success``.
Inputs that are local files (a path or an ``ObjectStoragePath`` in a URL field) are uploaded first:
videos with ``POST /v2/video``, images with ``POST /image`` and audio with ``POST /audio``; the
hosted URL is then sent.

Estimates: ``POST /v2/video/estimate-credits`` takes an ``app_name`` from a documented list
(video-v2.txt, Estimate Credits: ``reference-to-video``, ``video-effects``, ``edit-video``, ``lip-sync``,
``replace-background-video``, ``video-to-video``, ``text-image-to-video``, ``try-on``, ``upload-video``)
and a required ``option`` ("model/tool option on the target video endpoint"). A row can be estimated
only when both are documented for it: its ``app_name`` is in that list and its ``option`` is one of
its route's documented option values (or, for the avatar route, the ``AvatarLipSync`` pricing the
estimate section names). Crop, reframe, enhance, sound-effect and audio have no documented
``app_name``, and replace-background has no documented ``option``, so they cannot be estimated: a
credit guard on them is refused rather than priced by a guess that could under-estimate.

The rows' fields are also written out as one ``TypedDict`` per tool in
:mod:`airflow_provider_vimmerse.api.tool_inputs`, for IDEs and mypy: after changing a row, run
``python scripts/generate_tool_inputs.py``.

Pure module: no Airflow imports.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from airflow_provider_vimmerse.api.endpoints import ApiRequest, FilePart
from airflow_provider_vimmerse.api.fields import FieldType, RouteField, content_type
from airflow_provider_vimmerse.api.responses import unwrap
from airflow_provider_vimmerse.api.routes import Route, Tool
from airflow_provider_vimmerse.api.urls import HTTP_PREFIXES
from airflow_provider_vimmerse.exceptions import VimmerseInputError, VimmerseResponseError

ESTIMATE_PATH = "/v2/video/estimate-credits"
#: Seconds to wait for the answer of a video upload: the documented example's ``timeout=300`` (video-v2.txt l.52).
VIDEO_UPLOAD_TIMEOUT = 300.0


# ---------------------------------------------------------------------- the v2 table

ENHANCE_MODES = ("4X", "2X", "4X&DeepClean", "2X&DeepClean", "DeepClean")
AVATAR_ASPECT_RATIOS = ("1:1", "16:9", "9:16")
SHOW_CAPTION = ("On", "Off")
LIP_SYNC_OPTIONS = (
    "AutoLipSync", "SyncLipSync", "HummingBird", "NewportLipSync", "KlingAvatar", "PVideo", "NewportDreamAvatar",
)  # fmt: skip
EFFECT_OPTIONS = ("PikaEffects", "KlingEffects", "WanEffects", "ViduEffects", "PixverseEffects", "HiggsfieldEffects")
ALIGNMENTS = ("center", "left", "right")
REFERENCE_OPTIONS = (
    "AutoR", "KlingO", "HappyHorse", "Grok", "SeedanceFast", "VeoReference", "ViduReference", "HeygenAgent",
    "PikaScenes", "MinimaxReference",
)  # fmt: skip
VIDEO_TO_VIDEO_OPTIONS = ("KlingO", "HappyHorse", "Grok", "SeedanceFast", "LumaModify")
ATTACH_MODES = ("MatchVideo", "PadAudio", "MatchAudio", "SpeedAdjust", "Strict")

T = FieldType
#: The ``app_name`` values ``POST /v2/video/estimate-credits`` documents (video-v2.txt, Estimate Credits).
ESTIMATE_APP_NAMES = (
    "reference-to-video", "video-effects", "edit-video", "lip-sync", "replace-background-video", "video-to-video",
    "text-image-to-video", "try-on", "upload-video",
)  # fmt: skip
#: Fields every v2 route takes.
_V2_COMMON = (RouteField("async_mode", T.BOOL), RouteField("webhook_url", T.URL))


def _video(name: str = "video_url", required: bool = True) -> RouteField:
    return RouteField(name, T.URL, required=required, media="video")


def _image(name: str = "image_url", required: bool = False) -> RouteField:
    return RouteField(name, T.URL, required=required, media="image")


def _int(name: str, low: float | None = None, high: float | None = None, default: str = "") -> RouteField:
    return RouteField(name, T.INT, low=low, high=high, default=default)


def _v2(name: str, *fields: RouteField, **kwargs: Any) -> Tool:
    return Tool(name=name, path=f"/v2/video/{name}", fields=(*fields, *_V2_COMMON), **kwargs)


VIDEO_TOOLS: Mapping[str, Tool] = {
    tool.name: tool
    for tool in (
        _v2(
            "crop-to-aspect-ratio",
            _video(),
            RouteField("aspect_ratio", T.RATIO),
            _int("offset_x"),
            _int("offset_y"),
        ),
        _v2(
            "reframe",
            _video(),
            RouteField("aspect_ratio", T.RATIO),
            RouteField("prompt"),
            *(_int(name) for name in ("grid_position_x", "grid_position_y", "x_start", "x_end", "y_start", "y_end")),
        ),
        _v2(
            "enhance",
            _video(),
            RouteField("enhance_mode", allowed=ENHANCE_MODES),
            RouteField("compression_scale", T.NUMBER_TEXT, low=0, high=1),
            option_field="enhance_mode",
        ),
        _v2(
            "sound-effect",
            _video(),
            RouteField("prompt"),
        ),
        _v2(
            "avatars/lip-sync",
            RouteField("avatar_id", required=True),
            RouteField("voice_id", required=True),
            RouteField("prompt", required=True),
            _image("bg_image_url"),
            RouteField("audio_url", T.URL, media="audio"),
            RouteField("aspect_ratio", allowed=AVATAR_ASPECT_RATIOS),
            RouteField("show_caption", allowed=SHOW_CAPTION),
            app_name="lip-sync",
            default_option="AvatarLipSync",
            estimate_refusal=(
                "it would be priced as app_name 'lip-sync' with option 'AvatarLipSync', which no document lists "
                "as an option of POST /v2/video/lip-sync (video-v2.txt names AvatarLipSync only as a 'style' of "
                "length-based pricing, l.140)"
            ),
        ),
        _v2(
            "lip-sync",
            _image(),
            _video(required=False),
            RouteField("audio_url", T.URL, media="audio"),
            RouteField("prompt"),
            RouteField("option", allowed=LIP_SYNC_OPTIONS, default="AutoLipSync"),
            RouteField("voice"),
            RouteField("video_duration", T.NUMBER, low=0),
            RouteField("audio_duration", T.NUMBER, low=0),
            one_of=(("image_url", "video_url"), ("audio_url", "prompt")),
            app_name="lip-sync",
            # video-v2.txt l.525-526: the route takes both lengths; the estimate is "the same pricing" (l.108)
            prices=("prompt",),
            lengths={"audio_url": "audio_duration", "video_url": "video_duration"},
        ),
        _v2(
            "video-effects",
            _image(required=True),
            _image("ref_image_url"),
            RouteField("option", allowed=EFFECT_OPTIONS, default="HiggsfieldEffects"),
            RouteField("effect"),
            RouteField("prompt"),
            RouteField("aspect_ratio", T.RATIO),
            _int("quantity", 1, 4, default="1"),
            app_name="video-effects",
            prices=("quantity", "prompt"),
        ),
        _v2(
            "replace-background",
            _video(),
            _image("bg_image_url"),
            _video("bg_video_url", required=False),
            RouteField("chroma_key_color"),
            RouteField("chroma_tolerance", T.NUMBER_TEXT, low=0),
            RouteField("prompt"),
            RouteField("overlay_scale", T.NUMBER_TEXT, low=0),
            RouteField("alignment", allowed=ALIGNMENTS),
            RouteField("start_time", T.NUMBER_TEXT, low=0),
            RouteField("crop_to_content", T.BOOL),
            _int("x_offset"),
            _int("y_offset"),
            RouteField("use_rembg_lib", T.BOOL),
        ),
        _v2(
            "reference-to-video",
            RouteField("image_urls", T.URLS, required=True, media="image"),
            RouteField("elements", T.LIST),
            RouteField("aspect_ratio", T.RATIO),
            RouteField("prompt"),
            RouteField("option", allowed=REFERENCE_OPTIONS, default="KlingO"),
            _int("quantity", 1, 4, default="1"),
            _int("duration", 1, 30, default="5"),  # video-v2.txt "Reference to Video": Default 5
            app_name="reference-to-video",
            prices=("quantity", "duration", "prompt"),
        ),
        _v2(
            "video-to-video",
            _video(),
            _image(),
            RouteField("prompt"),
            RouteField("option", allowed=VIDEO_TO_VIDEO_OPTIONS, default="KlingO"),
            app_name="video-to-video",
            estimate_refusal=(
                "its price depends on the length of video_url, and the route has no duration field, so the "
                "estimate would have to guess that length and could price the job lower than it is charged"
            ),
        ),
        _v2(
            "audio",
            _video(),
            RouteField("audio_url", T.URL, required=True, media="audio"),
            RouteField("attach_mode", allowed=ATTACH_MODES),
            RouteField("video_duration", T.NUMBER, low=0),
            RouteField("audio_duration", T.NUMBER, low=0),
            option_field="attach_mode",
        ),
    )
}

#: The route of :class:`~airflow_provider_vimmerse.operators.video.VimmerseVideoOperator`: ``POST /v2/video/{tool}``,
#: answered with an asset. Its fields are those of the tool's row in :data:`VIDEO_TOOLS` (the operator's ``tool`` and
#: ``inputs``), so it declares none. The provider never fills a tool's ``webhook_url``: a task that wants one sets it.
VIDEO = Route("POST", "/v2/video/{tool}", "asset", body="json", fills_webhook_url=False)

#: Where a local file of each media type is uploaded, and the multipart field it goes in.
UPLOAD_ROUTES: Mapping[str, tuple[str, str]] = {
    "video": ("/v2/video", "video_file"),
    "image": ("/image", "image_file"),
    "audio": ("/audio", "audio_file"),
}


# ---------------------------------------------------------------------- request builders and answers


def estimate_request(tool: Tool, values: Mapping[str, Any]) -> ApiRequest:
    """
    Build ``POST /v2/video/estimate-credits`` for what ``values`` would ask of ``tool`` (free, creates nothing).

    "Same pricing as the matching POST /v2/video/ handler" (video-v2.txt l.108): the body carries the
    tool's ``app_name``, its option and every field its handler prices (:attr:`Tool.prices`), as the job
    request sends them, or their documented default when the job leaves them out (so the estimate prices
    what the job will be charged for, never less). A tool whose handler prices the length of its media
    (lip-sync: ``video_duration`` and its own ``audio_duration``, l.525-526) sends the longest stated
    length as the estimate's ``video_duration`` ("alias of duration for video apps", l.146-148), the only
    length field the estimate documents.

    :raises VimmerseInputError: naming ``max_credits`` when the API cannot price this request without a guess
    """
    problem = estimate_problem(tool, values)
    if problem is not None:
        raise VimmerseInputError("max_credits", problem)
    option = values.get(tool.option_field) if tool.option_field else None
    body: dict[str, Any] = {"app_name": tool.app_name, "option": option or tool.default_option}
    for name in tool.prices:
        value = values.get(name)
        row = tool.field(name)
        if (value is None or value == "") and row is not None and row.default:
            value = _number(row.default) if row.type is not FieldType.TEXT else row.default
        if value is not None and value != "":
            body[name] = value
    stated = [values[name] for name in tool.lengths.values() if isinstance(values.get(name), (int, float))]
    if stated:  # the estimate's documented length field (l.146-148) takes the longest: priced no shorter
        body["video_duration"] = max(stated)
    return ApiRequest("POST", ESTIMATE_PATH, json=body)


def estimate_problem(tool: Tool, values: Mapping[str, Any]) -> str | None:
    """
    Return why ``POST /v2/video/estimate-credits`` cannot price this request without a guess, or None.

    :param tool: the tool's row
    :param values: the request's fields
    """
    if not tool.can_estimate:
        return cannot_estimate(tool)
    for medium, length in tool.lengths.items():
        if values.get(medium) not in (None, "") and values.get(length) in (None, ""):
            return (
                f"the handler prices the length of {medium}, which the estimate cannot read from the file: give "
                f"{length} (seconds) with max_credits so the estimate prices the same length (video-v2.txt l.108, "
                "526), or remove max_credits"
            )
    return None


def _number(text: str) -> float | int:
    number = float(text)
    return int(number) if number.is_integer() else number


def cannot_estimate(tool: Tool) -> str:
    """Return why the credits of ``tool`` cannot be estimated, for an error naming ``max_credits``."""
    if tool.app_name and tool.estimate_refusal:
        return (
            f"the API cannot estimate the credits of tool {tool.name!r} without a guess: {tool.estimate_refusal}. "
            "There is no credit guard for this tool; remove max_credits"
        )
    return (
        f"the API cannot estimate the credits of tool {tool.name!r}: POST {ESTIMATE_PATH} documents app_name "
        f"values ({', '.join(ESTIMATE_APP_NAMES)}) with the route's option, and none of them prices "
        f"{tool.path} (video-v2.txt, Estimate Credits). There is no credit guard for this tool; remove max_credits"
    )


def parse_estimate(body: Any) -> float:
    """
    Return ``total_credits`` of an estimate answer.

    :raises VimmerseResponseError: when the answer has no number there
    """
    obj = unwrap(body)
    total = obj.get("total_credits") if isinstance(obj, Mapping) else None
    if isinstance(total, bool) or not isinstance(total, (int, float)) or not math.isfinite(total):
        raise VimmerseResponseError(
            f"POST {ESTIMATE_PATH} answered without a 'total_credits' number: {str(obj)[:200]!r}",
            method="POST",
            path=ESTIMATE_PATH,
        )
    return total


def upload_request(media: str, filename: str, content: bytes) -> ApiRequest:
    """Build the upload of a local file: ``POST /v2/video`` (video), ``POST /image`` or ``POST /audio``."""
    path, part = UPLOAD_ROUTES[media]
    timeout = VIDEO_UPLOAD_TIMEOUT if path == "/v2/video" else None
    return ApiRequest(
        "POST", path, files=(FilePart(part, filename, content, content_type(filename)),), read_timeout=timeout
    )


def hosted_url(body: Any) -> str | None:
    """Return the hosted URL of an upload answer (the first of the asset's ``results``), or None."""
    obj = unwrap(body)
    if not isinstance(obj, Mapping):
        return None
    results = obj.get("results")
    for item in results if isinstance(results, list) else [obj.get("url")]:
        if isinstance(item, Mapping):
            item = item.get("url") or item.get("URL")
        if isinstance(item, str) and item.startswith(HTTP_PREFIXES):
            return item
    return None
