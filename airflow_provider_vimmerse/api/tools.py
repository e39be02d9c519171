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
documented file part (``image_file``, ``image2_file``, ``human_image_file``, ``mask_file``,
``video_file``), an http(s) URL as the matching ``*_url`` field. The list fields of ``image/face-swap``
and ``image/elements`` (``image_urls``) take URLs and local files: each local file is one repeated
``image_files`` part, the URLs stay ``image_urls``. ``image/reimagine`` is documented with file parts
only, so it takes local files only.

Answers: image and audio routes answer ``{"data": asset}`` (finished unless ``async_mode`` is set, then
polled as an asset); the audio routes' descriptions also show ``{"data": [{"URL": ...}]}``, read as a
finished result, and platform-api-v1-legacy.txt an asset without ``results``, polled as an asset.
``audio/text-2-music``'s "Returns a WAV audio file" is read as the output's format: its 200 answer is
documented as JSON only. ``text/prompt`` answers ``{"data": "the prompt"}``.

No route here can be priced in advance: ``POST /v2/video/estimate-credits`` covers video apps only.

The rows' fields are also written out as one ``TypedDict`` per tool in
:mod:`airflow_provider_vimmerse.api.tool_inputs`, for IDEs and mypy: after changing a row, run
``python scripts/generate_tool_inputs.py``.

Pure module: no Airflow imports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_vimmerse.api.fields import FieldType, RouteField, is_local_file
from airflow_provider_vimmerse.api.media import NARRATORS
from airflow_provider_vimmerse.api.responses import unwrap
from airflow_provider_vimmerse.api.results import JobResult
from airflow_provider_vimmerse.api.routes import Route, Tool

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
#: ``option`` of ``POST /image/try-on`` (openapi.json, the option's description; not the try-on *video*
#: models of ``POST /media``, which list ``ViduTryOn`` instead of ``KontextTryOn``).
TRY_ON_OPTIONS = ("SeedreamTryOn", "NanoBananaProTryOn", "KlingTryOn", "FashnTryOn", "KontextTryOn")
#: ``option`` of ``POST /image/face-swap`` (openapi.json, the option's description).
FACE_SWAP_OPTIONS = ("EaselFaceSwap", "SegmindFaceSwap", "MagicFaceSwap")
#: ``style`` of ``POST /image/restyle`` (openapi.json, the style's description and its ``examples``).
RESTYLE_STYLES = (
    "3d", "realistic_style", "angel", "anime_style", "japanese_comics", "princess_style", "dreamy", "ink_style",
    "new_monet_garden", "monets_garden", "exquisite_comic", "cyber_machinery", "chinese_style", "romantic",
    "ugly_clay", "cute_doll", "3d_gaming", "animated_movie", "doll",
)  # fmt: skip
#: ``option`` of ``POST /image/elements`` (openapi.json, the option's description).
ELEMENTS_OPTIONS = ("FluxPro", "Seedream", "NanoBananaPro", "FluxKontextPro", "NanoBanana", "GPTImage")
#: The most images ``POST /image/elements`` takes per ``option`` (openapi.json, ``image_files``: "Max 4 files are
#: supported from FluxKontextPro, 6 files for Seedream, 8 files for FluxPro, and 10 files ... GPTImage, NanoBanana
#: and NanoBananaPro").
ELEMENTS_MAX_IMAGES = {
    "FluxKontextPro": 4, "Seedream": 6, "FluxPro": 8, "GPTImage": 10, "NanoBanana": 10, "NanoBananaPro": 10,
}  # fmt: skip
EXPAND_METHODS = ("Outpaint", "Pad")
EXPAND_DIRECTIONS = ("center", "top/left", "bottom/right")
PROMPT_OPTIONS = ("InspireMe", "Image2Prompt", "SuggestPrompt", "RefinePrompt")
SPEECH_OPTIONS = ("ElevenLabsTTS", "ChirpTTS")
VOICES = NARRATORS

T = FieldType


def _file(name: str, part: str, media: str = "image", required: bool = False) -> RouteField:
    return RouteField(name, T.URL, required=required, media=media, file_field=part)


_ASYNC = (RouteField("async_mode", T.BOOL), RouteField("webhook_url", T.URL))
_IMAGE = _file("image_url", "image_file", required=True)
_IMAGE2 = _file("image2_url", "image2_file")
_PROMPT = RouteField("prompt", required=True)
_QUANTITY = RouteField("quantity", T.INT, low=1, high=4)
_CREATIVITY = RouteField("creativity_strength", T.INT, low=1, high=10)
_RATIO = RouteField("aspect_ratio", T.RATIO)
_ENHANCE = RouteField("enhance_image", T.BOOL)


def _images(min_items: int = 0) -> RouteField:
    # A list of images: URLs stay image_urls, local files become repeated image_files parts.
    return RouteField("image_urls", T.URLS, required=True, media="image", file_field="image_files", min_items=min_items)


def _legacy(name: str, fields: tuple[RouteField, ...], **kwargs: Any) -> Tool:
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
                RouteField("option", allowed=TEXT_TO_IMAGE_OPTIONS, default="Auto"),
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
                RouteField("option", allowed=IMAGE_TO_IMAGE_OPTIONS, default="FluxKontextPro"),
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
                RouteField("image_url", T.URL, required=True, media="image", file_field="image_file", file_only=True),
                RouteField("image2_url", T.URL, media="image", file_field="image2_file", file_only=True),
                RouteField("option", allowed=REIMAGINE_OPTIONS, default="Remake"),
                RouteField("prompt"),
                _RATIO,
                _CREATIVITY,
            ),
            needs={"TryOn": (("image2_url",),)},
        ),
        _legacy(
            "image/edit-image",
            (
                _IMAGE,
                RouteField("option", required=True, allowed=EDIT_IMAGE_OPTIONS + BACKGROUND_OPTIONS),
                _file("mask_url", "mask_file"),
                RouteField("prompt"),
                _RATIO,
                RouteField("expand_method", allowed=EXPAND_METHODS),
                RouteField("expand_direction", allowed=EXPAND_DIRECTIONS),
                RouteField("reframe_parameters", T.JSON),
                _QUANTITY,
                *_ASYNC,
            ),
            needs={"Inpaint": (("mask_url",), ("prompt",)), "ExpandToAspectRatio": (("aspect_ratio",),)},
            option_routes=dict.fromkeys(BACKGROUND_OPTIONS, "image/replace-background"),
        ),
        _legacy(
            "image/replace-background",
            (_IMAGE, _IMAGE2, RouteField("option", allowed=BACKGROUND_OPTIONS, default="RemoveBackground"), *_ASYNC),
            needs={"ReplaceBackground": (("image2_url",),), "RestyleBackground": (("image2_url",),)},
        ),
        _legacy(
            "image/try-on",
            (
                _file("human_image_url", "human_image_file", required=True),
                _file("clothes_image_url", "clothes_image_file", required=True),
                # The description says 'default: "Auto"'; the schema's default (and values) win.
                RouteField("option", allowed=TRY_ON_OPTIONS, default="KlingTryOn"),
                *_ASYNC,
            ),
        ),
        _legacy(
            "image/face-swap",
            (
                # "The first image is the main target image and rest of them are human / face images": two at least.
                # The description's main_image_url and human_image_url are deprecated and not in the schema.
                _images(min_items=2),
                RouteField("option", allowed=FACE_SWAP_OPTIONS, default="MagicFaceSwap"),
                RouteField("face_only_mode", T.BOOL),
                RouteField("multi_face_mode", T.BOOL),
                RouteField("order_indices", T.INTS, low=0),
                *_ASYNC,
            ),
        ),
        _legacy(
            "image/restyle",
            (_IMAGE, RouteField("style", allowed=RESTYLE_STYLES, default="anime_style"), _ENHANCE, *_ASYNC),
        ),
        _legacy(
            "image/elements",
            (
                _images(),
                _RATIO,
                _QUANTITY,
                RouteField("option", allowed=ELEMENTS_OPTIONS, default="FluxPro"),
                RouteField("prompt"),
                _ENHANCE,
                RouteField("swap_faces", T.BOOL),
                *_ASYNC,
            ),
            max_items=ELEMENTS_MAX_IMAGES,
        ),
        _legacy(
            "text/prompt",
            (
                RouteField("option", allowed=PROMPT_OPTIONS, default="InspireMe"),
                RouteField("prompt"),
                RouteField("mode"),
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
                RouteField("voice", allowed=VOICES),
                RouteField("option", allowed=SPEECH_OPTIONS),
                RouteField("language"),
            ),
        ),
        _legacy("audio/text-2-sound-effect", (_PROMPT, RouteField("duration", T.INT, low=1, high=30))),
        # openapi.json documents only prompt ("Required: Yes"): no async_mode, no webhook_url, no duration (30 s).
        _legacy("audio/text-2-music", (_PROMPT,)),
    )
}

#: The route of :class:`~airflow_provider_vimmerse.operators.tools.VimmerseToolOperator`: ``POST /{tool}``, answered
#: with an asset or the output itself. Its fields are those of the tool's row in :data:`LEGACY_TOOLS` (the operator's
#: ``tool`` and ``inputs``), so it declares none. The provider never fills a tool's ``webhook_url``.
LEGACY = Route("POST", "/{tool}", "asset", fills_webhook_url=False)


@dataclass(frozen=True)
class FileInput:
    """
    A local file to send as a multipart file part.

    :param part: the file part's name (``image_file``, ``image_files``)
    :param label: the field it was given for, for messages (``image_urls[1]``)
    :param source: the path or ``ObjectStoragePath`` as given
    """

    part: str
    label: str
    source: Any


def split_files(tool: Tool, values: Mapping[str, Any]) -> tuple[dict[str, Any], list[FileInput]]:
    """
    Split prepared values into form fields and local files.

    A local file given for a single field (``image_url``) becomes its file part (``image_file``); each
    local item of a list field (``image_urls``) becomes one repeated part (``image_files``), in order,
    while its URL items stay in the list field.

    :return: the form values (URLs stay in their ``*_url``/``*_urls`` field), and every local file
    """
    form: dict[str, Any] = {}
    files: list[FileInput] = []
    for name, value in values.items():
        spec = tool.field(name)
        if spec is None or not spec.file_field:
            form[name] = value
        elif spec.type is FieldType.URLS and isinstance(value, list):
            urls = [item for item in value if not is_local_file(item)]
            files.extend(
                FileInput(spec.file_field, f"{name}[{index}]", item)
                for index, item in enumerate(value)
                if is_local_file(item)
            )
            if urls:
                form[name] = urls
        elif is_local_file(value):
            files.append(FileInput(spec.file_field, name, value))
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
