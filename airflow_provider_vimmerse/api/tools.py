"""
The legacy image, audio and text tools as data: one row per route, with the same field engine
(:mod:`airflow_provider_vimmerse.api.fields`) as the v2 video table (:mod:`airflow_provider_vimmerse.api.video`).

Values come from the request body schemas of ``openapi.json`` (field names, types, enums) and, for
``image/reimagine`` (absent from ``openapi.json``), from ``platform-api-v1-legacy.txt``. Where the legacy
text names more values than the schema's enum (``Flux1``, ``Flux1.1Pro`` and ``Flux1.1ProUltra`` for
``text-2-image``; ``Restyle``, ``ReplaceWith`` and ``RecolorTo`` for ``image-2-image``), the schema wins:
the server validates against it and refuses the others with a 422. The background options
(``RemoveBackground``, ``ReplaceBackground``, ``RestyleBackground``) belong to ``POST /image/replace-background``;
given to ``image/edit-image`` (as the legacy text shows them) they are sent there.

These routes take form fields. A local file given for an image, mask or video field is sent as the
documented file part (``image_file``, ``image2_file``, ``mask_file``, ``video_file``), an http(s) URL as
the matching ``*_url`` field. ``image/reimagine`` is documented with file parts only, so it takes local
files only.

Answers: image and audio routes answer ``{"data": asset}`` (finished unless ``async_mode`` is set, then
polled as an asset); the audio routes' descriptions also show ``{"data": [{"URL": ...}]}``, read as a
finished result; ``text/prompt`` answers ``{"data": "the prompt"}``.

No route here can be priced in advance: ``POST /v2/video/estimate-credits`` covers video apps only.

Pure module: no Airflow imports.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_vimmerse.api.fields import FieldType, Tool, ToolField, is_local_file
from airflow_provider_vimmerse.api.media import NARRATORS
from airflow_provider_vimmerse.api.responses import unwrap
from airflow_provider_vimmerse.api.results import JobResult

#: ``option`` of ``POST /image/text-2-image`` (openapi.json, its enum).
TEXT_TO_IMAGE_OPTIONS = (
    "Seedream", "FluxPro", "FluxTurbo", "NanoBananaPro", "NanoBanana", "FluxKontextPro", "FluxFinetuned", "QwenImage",
    "StableDiffusion3.5", "LeonardoImage", "GPTImage", "Auto",
)  # fmt: skip
#: ``option`` of ``POST /image/image-2-image`` (openapi.json, its enum).
IMAGE_TO_IMAGE_OPTIONS = (
    "Seedream", "FluxPro", "FluxTurbo", "ImageUtilsDepth", "NanoBananaPro", "NanoBanana", "FluxKontextPro",
    "QwenImage", "FluxKontextFinetuned", "Remake", "StableDiffusion3.5", "LeonardoImage", "Sketch", "Restructure",
    "Review", "GPTImage", "Auto",
)  # fmt: skip
#: ``option`` of ``POST /image/reimagine`` (platform-api-v1-legacy.txt, its examples).
REIMAGINE_OPTIONS = ("Remake", "TryOn")
#: ``option`` of ``POST /image/edit-image`` (openapi.json, the option's description).
EDIT_IMAGE_OPTIONS = ("RemoveText", "Upscale", "LumaReframe", "Inpaint", "ExpandToAspectRatio")
#: ``option`` of ``POST /image/replace-background`` (openapi.json, the option's description).
BACKGROUND_OPTIONS = ("RemoveBackground", "ReplaceBackground", "RestyleBackground")
EXPAND_METHODS = ("Outpaint", "Pad")
EXPAND_DIRECTIONS = ("center", "top/left", "bottom/right")
PROMPT_OPTIONS = ("InspireMe", "Image2Prompt", "SuggestPrompt", "RefinePrompt")
SPEECH_OPTIONS = ("ElevenLabsTTS", "ChirpTTS")
VOICES = NARRATORS

T = FieldType


def _file(name: str, part: str, media: str = "image", required: bool = False) -> ToolField:
    return ToolField(name, T.URL, required=required, media=media, file_field=part)


_ASYNC = (ToolField("async_mode", T.BOOL), ToolField("webhook_url", T.URL))
_IMAGE = _file("image_url", "image_file", required=True)
_IMAGE2 = _file("image2_url", "image2_file")
_PROMPT = ToolField("prompt", required=True)
_QUANTITY = ToolField("quantity", T.INT, low=1, high=4)
_CREATIVITY = ToolField("creativity_strength", T.INT, low=1, high=10)
_RATIO = ToolField("aspect_ratio", T.RATIO)
_ENHANCE = ToolField("enhance_image", T.BOOL)


def _legacy(name: str, fields: tuple[ToolField, ...], **kwargs: Any) -> Tool:
    """Return the row of ``POST /{name}``: a form route that makes what its family is called (image, audio, text)."""
    return Tool(name=name, path=f"/{name}", fields=fields, body="form", output=name.split("/")[0], **kwargs)


LEGACY_TOOLS: Mapping[str, Tool] = {
    tool.name: tool
    for tool in (
        _legacy(
            "image/text-2-image",
            (
                _PROMPT,
                _QUANTITY,
                ToolField("option", allowed=TEXT_TO_IMAGE_OPTIONS, default="Auto"),
                _RATIO,
                _CREATIVITY,
                _ENHANCE,
                *_ASYNC,
            ),
        ),
        _legacy(
            "image/image-2-image",
            (
                _IMAGE,
                _PROMPT,
                ToolField("option", allowed=IMAGE_TO_IMAGE_OPTIONS, default="FluxKontextPro"),
                _CREATIVITY,
                _RATIO,
                _QUANTITY,
                _ENHANCE,
                *_ASYNC,
            ),
        ),
        _legacy(
            "image/reimagine",
            (
                ToolField("image_url", T.URL, required=True, media="image", file_field="image_file", file_only=True),
                ToolField("image2_url", T.URL, media="image", file_field="image2_file", file_only=True),
                ToolField("option", allowed=REIMAGINE_OPTIONS, default="Remake"),
                ToolField("prompt"),
                _RATIO,
                _CREATIVITY,
            ),
            needs={"TryOn": (("image2_url",),)},
        ),
        _legacy(
            "image/edit-image",
            (
                _IMAGE,
                ToolField("option", required=True, allowed=EDIT_IMAGE_OPTIONS + BACKGROUND_OPTIONS),
                _file("mask_url", "mask_file"),
                ToolField("prompt"),
                _RATIO,
                ToolField("expand_method", allowed=EXPAND_METHODS),
                ToolField("expand_direction", allowed=EXPAND_DIRECTIONS),
                ToolField("reframe_parameters", T.JSON),
                _QUANTITY,
                *_ASYNC,
            ),
            needs={"Inpaint": (("mask_url",), ("prompt",)), "ExpandToAspectRatio": (("aspect_ratio",),)},
            option_routes=dict.fromkeys(BACKGROUND_OPTIONS, "image/replace-background"),
        ),
        _legacy(
            "image/replace-background",
            (_IMAGE, _IMAGE2, ToolField("option", allowed=BACKGROUND_OPTIONS, default="RemoveBackground"), *_ASYNC),
            needs={"ReplaceBackground": (("image2_url",),), "RestyleBackground": (("image2_url",),)},
        ),
        _legacy(
            "text/prompt",
            (
                ToolField("option", allowed=PROMPT_OPTIONS, default="InspireMe"),
                ToolField("prompt"),
                ToolField("mode"),
                _file("image_url", "image_file"),
                _IMAGE2,
                _file("video_url", "video_file", media="video"),
            ),
            needs={"Image2Prompt": (("image_url",),), "RefinePrompt": (("prompt",),)},
            spends_credits=False,  # the route documents no 402
        ),
        _legacy(
            "audio/text-2-speech",
            (
                _PROMPT,
                ToolField("voice", allowed=VOICES),
                ToolField("option", allowed=SPEECH_OPTIONS),
                ToolField("language"),
            ),
        ),
        _legacy("audio/text-2-sound-effect", (_PROMPT, ToolField("duration", T.INT, low=1, high=30))),
    )
}


def split_files(tool: Tool, values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, tuple[str, Any]]]:
    """
    Split prepared values into form fields and local files.

    :return: the form values (URLs stay in their ``*_url`` field), and file part name -> (field, source)
        for every local file
    """
    form: dict[str, Any] = {}
    files: dict[str, tuple[str, Any]] = {}
    for name, value in values.items():
        spec = tool.field(name)
        if spec is not None and spec.file_field and is_local_file(value):
            files[spec.file_field] = (name, value)
        else:
            form[name] = value
    return form, files


def is_job_answer(obj: Any) -> bool:
    """Return True when an answer is an asset with an id (to wait on, or already finished)."""
    return isinstance(obj, Mapping) and isinstance(obj.get("id"), str) and bool(obj["id"])


def immediate_result(tool: Tool, body: Any) -> JobResult | None:
    """
    Return the result of an answer that carries its output without a job to follow, or None.

    ``{"data": "text"}`` (``text/prompt``) gives ``text``; ``{"data": [{"URL": ...}]}`` and an object
    with ``results`` but no ``id`` give ``urls``.

    :param tool: the tool that answered
    :param body: the decoded answer
    """
    obj = unwrap(body)
    if isinstance(obj, Mapping) and isinstance(obj.get("data"), str):
        obj = obj["data"]
    if tool.output == "text":
        if isinstance(obj, Mapping) and not is_job_answer(obj):
            obj = obj.get("text") or obj.get("prompt")
        if isinstance(obj, list) and obj and all(isinstance(item, str) for item in obj):
            obj = obj[0]
        return {**_finished("text"), "text": obj} if isinstance(obj, str) else None
    items = obj.get("results") if isinstance(obj, Mapping) and not is_job_answer(obj) else obj
    if not isinstance(items, list):
        return None
    urls = []
    for item in items:
        if isinstance(item, Mapping):
            item = item.get("URL") or item.get("url")
        if isinstance(item, str) and item:
            urls.append(item)
    if not urls:
        return None
    return {**_finished("asset"), "urls": urls, "video_urls": list(urls)}


def _finished(kind: str) -> JobResult:
    return {"kind": kind, "id": "", "status": "success", "progress": 100, "video_urls": [], "web_url": ""}
