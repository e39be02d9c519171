"""The documented requests of the Vimmerse API: one table, read by the sandbox and checked by the contract tests.

* :func:`openapi_routes`: every operation of ``reference/openapi.json`` (the API's OpenAPI document), with
  :data:`TEXT_ADDITIONS`, the fields a text document sends in its own examples that the schema lacks (the
  documents contradict each other there; the provider follows the text).
* :data:`DOCUMENTED_ROUTES`: the routes the provider calls that ``openapi.json`` does not describe, written
  down from the text documents. Each row's schema lists exactly the fields the documents name, their types,
  allowed values, ranges and defaults; ``source`` says where (file and section). Where a document gives a
  field only in an example, the example's value type is used and the row says so.

  * ``/v2/video/*``: ``video-v2.txt`` (each route's "Request Body schema: application/json").
  * ``/batch``, ``/batch/{id}/edit``, ``/batch/{id}/concat``: ``batch.txt`` (it has no field table).
  * ``/image/reimagine``: ``platform-api-v1-legacy.txt`` (its two examples; file parts only).

* :data:`PROSE_ENUMS`, :data:`EXAMPLE_VALUES` and :data:`JSON_TEXT_FIELDS`: what the documents say about a
  field in prose rather than in a schema.

The sandbox validates request bodies against these rows (:mod:`~airflow_provider_vimmerse.sandbox.bodies`);
``tests/contract`` checks the provider's requests against the same rows. Nothing here imports FastAPI.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

#: The API's OpenAPI document, as published (package data).
OPENAPI_PATH = Path(__file__).parent / "reference" / "openapi.json"
MULTIPART = "multipart/form-data"
URLENCODED = "application/x-www-form-urlencoded"
JSON = "application/json"


@dataclass(frozen=True)
class Route:
    """One documented request: method, path template, accepted body types and the body's JSON schema.

    :param method: HTTP method
    :param template: path template, ``{name}`` for a path parameter
    :param content_types: the documented request body media types (empty: no body)
    :param schema: the body's schema, ``$ref``\\ s resolved
    :param source: where it is documented
    """

    method: str
    template: str
    content_types: tuple[str, ...]
    schema: Mapping[str, Any]
    source: str

    def matches(self, method: str, path: str) -> bool:
        """Return True when ``method`` and ``path`` are this route's."""
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(self.template))
        return method == self.method and re.fullmatch(pattern, path) is not None


@cache
def openapi() -> dict[str, Any]:
    """Return the OpenAPI document (the package's copy); do not change it."""
    return json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))


def resolve(node: Any, doc: Mapping[str, Any]) -> Any:
    """Return ``node`` with every ``$ref`` to ``#/components/schemas/...`` inlined."""
    if isinstance(node, Mapping):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            return resolve(doc["components"]["schemas"][name], doc)
        return {key: resolve(value, doc) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(item, doc) for item in node]
    return node


@cache
def openapi_routes() -> tuple[Route, ...]:
    """Return every operation of the OpenAPI document as a :class:`Route`."""
    doc = openapi()
    routes = []
    for template, operations in doc["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            schema: Mapping[str, Any] = next((resolve(c.get("schema", {}), doc) for c in content.values()), {})
            source = f"openapi.json paths[{template!r}].{method}"
            routes.append(Route(method.upper(), template, tuple(content), schema, source))
    # A literal path wins over a template that also matches it (/story/idea-2-video over /story/{id}).
    return tuple(sorted(routes, key=lambda r: r.template.count("{")))


def find_route(routes: Iterable[Route], method: str, path: str) -> Route | None:
    """Return the first route matching ``method`` and ``path``."""
    return next((route for route in routes if route.matches(method, path)), None)


V2 = "video-v2.txt"
BATCH = "batch.txt"
LEGACY = "platform-api-v1-legacy.txt"


def _s(**extra: Any) -> dict[str, Any]:
    return {"type": "string", **extra}


def _int(low: int | None = None, high: int | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer", **extra}
    if low is not None:
        schema["minimum"] = low
    if high is not None:
        schema["maximum"] = high
    return schema


def _enum(*values: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "enum": list(values), **extra}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


_BOOL = {"type": "boolean"}
_NUMBER = {"type": "number"}
_RATIO = _s(pattern=r"^(\d+):(\d+)$", default="16:9")
_EMPTY = _s(default="")
_FILE = {"type": "string", "format": "binary"}
_FILES = {"type": "array", "items": _FILE}
_STRINGS = {"type": "array", "items": {"type": "string"}}
#: Every v2 JSON route: "async_mode boolean, Default: true" and "Webhook URL (string) or Webhook URL (null)".
_V2_COMMON = {"async_mode": {**_BOOL, "default": True}, "webhook_url": _nullable(_s())}


def _v2(path: str, section: str, required: tuple[str, ...], **props: dict[str, Any]) -> Route:
    schema = {"type": "object", "properties": {**_V2_COMMON, **props}, "required": list(required)}
    return Route("POST", path, (JSON,), schema, f"{V2}, section {section!r}")


V2_ROUTES = (
    Route(
        "POST",
        "/v2/video",
        (MULTIPART,),
        {"type": "object", "properties": {"video_file": _FILE}, "required": ["video_file"]},
        f"{V2}, section 'Upload Video' ('multipart/form-data - field video_file only')",
    ),
    Route(
        "POST",
        "/v2/video/estimate-credits",
        (JSON,),
        {
            "type": "object",
            "properties": {
                "app_name": _enum(
                    "reference-to-video",
                    "video-effects",
                    "edit-video",
                    "lip-sync",
                    "replace-background-video",
                    "video-to-video",
                    "text-image-to-video",
                    "try-on",
                    "upload-video",
                ),
                "option": _s(),
                "quantity": _int(1, 4, default=1),
                "prompt": _EMPTY,
                "duration": _nullable(_int()),
                "video_duration": _nullable(_NUMBER),
            },
            "required": ["app_name", "option"],
        },
        f"{V2}, section 'Estimate Credits' (app_name 'Available values: ...')",
    ),
    _v2(
        "/v2/video/crop-to-aspect-ratio",
        "Crop Video",
        ("video_url",),
        video_url=_s(),
        aspect_ratio=_RATIO,
        offset_x=_nullable(_int()),  # "X-Axis Offset"; named offset_x in the section's text
        offset_y=_nullable(_int()),
    ),
    _v2(
        "/v2/video/reframe",
        "Reframe Video",
        ("video_url",),
        video_url=_s(),
        aspect_ratio=_RATIO,
        prompt=_s(default="Make it realistic"),
        **{
            name: _nullable(_int())
            for name in ("grid_position_x", "grid_position_y", "x_start", "x_end", "y_start", "y_end")
        },
    ),
    _v2(
        "/v2/video/enhance",
        "Enhance Video",
        ("video_url",),
        video_url=_s(),
        enhance_mode=_enum("4X", "2X", "4X&DeepClean", "2X&DeepClean", "DeepClean", default="4X&DeepClean"),
        compression_scale=_s(default="0.5"),
    ),
    _v2("/v2/video/sound-effect", "Add Sound Effect", ("video_url",), video_url=_s(), prompt=_EMPTY),
    _v2(
        "/v2/video/avatars/lip-sync",
        "Avatar Lip-Sync Video",
        (),
        avatar_id=_EMPTY,
        voice_id=_EMPTY,
        prompt=_EMPTY,
        bg_image_url=_EMPTY,
        audio_url=_EMPTY,
        aspect_ratio=_enum("1:1", "16:9", "9:16", default="16:9"),
        show_caption=_enum("On", "Off", default="On"),
    ),
    _v2(
        "/v2/video/lip-sync",
        "Lip-Sync Video",
        (),
        image_url=_EMPTY,
        video_url=_EMPTY,
        audio_url=_EMPTY,
        prompt=_EMPTY,
        option=_enum(
            "AutoLipSync",
            "SyncLipSync",
            "HummingBird",
            "NewportLipSync",
            "KlingAvatar",
            "PVideo",
            "NewportDreamAvatar",
            default="AutoLipSync",
        ),
        voice=_s(default="AutoV"),
        video_duration=_nullable(_NUMBER),
        audio_duration=_nullable(_NUMBER),
    ),
    _v2(
        "/v2/video/video-effects",
        "Video Effects",
        ("image_url",),
        image_url=_s(),
        ref_image_url=_EMPTY,
        option=_enum(
            "PikaEffects",
            "KlingEffects",
            "WanEffects",
            "ViduEffects",
            "PixverseEffects",
            "HiggsfieldEffects",
            default="HiggsfieldEffects",
        ),
        effect=_s(default="BulletTime"),
        prompt=_EMPTY,
        aspect_ratio=_nullable(_s()),
        quantity=_int(1, 4, default=1),
    ),
    _v2(
        "/v2/video/replace-background",
        "Replace Background",
        ("video_url",),
        video_url=_s(),
        bg_image_url=_EMPTY,
        bg_video_url=_EMPTY,
        chroma_key_color=_s(default="origin"),
        chroma_tolerance=_s(default="0.1"),
        prompt=_EMPTY,
        overlay_scale=_s(default="0.6666"),
        alignment=_enum("center", "left", "right", default="center"),
        start_time=_s(default="0"),
        crop_to_content={**_BOOL, "default": True},
        x_offset=_int(default=0),
        y_offset=_int(default=0),
        use_rembg_lib={**_BOOL, "default": False},
    ),
    _v2(
        "/v2/video/reference-to-video",
        "Reference to Video",
        ("image_urls",),
        image_urls={**_STRINGS, "minItems": 1},
        elements=_STRINGS,
        aspect_ratio=_RATIO,
        prompt=_EMPTY,
        option=_enum(
            "AutoR",
            "KlingO",
            "HappyHorse",
            "Grok",
            "SeedanceFast",
            "VeoReference",
            "ViduReference",
            "HeygenAgent",
            "PikaScenes",
            "MinimaxReference",
            default="KlingO",
        ),
        quantity=_int(1, 4, default=1),
        duration=_int(1, 30, default=5),
    ),
    _v2(
        "/v2/video/video-to-video",
        "Video to Video",
        ("video_url",),
        video_url=_s(),
        image_url=_EMPTY,
        prompt=_EMPTY,
        option=_enum("KlingO", "HappyHorse", "Grok", "SeedanceFast", "LumaModify", default="KlingO"),
    ),
    _v2(
        "/v2/video/audio",
        "Attach Audio",
        ("video_url", "audio_url"),
        video_url=_s(),
        audio_url=_s(),
        attach_mode=_enum("MatchVideo", "PadAudio", "MatchAudio", "SpeedAdjust", "Strict", default="MatchVideo"),
        video_duration=_nullable(_NUMBER),
        audio_duration=_nullable(_NUMBER),
    ),
)

#: Batch settings: batch.txt names them in its examples (title, sound_effects, motion_type,
#: aspect_ratio, image_files, image_urls; description, rating, visibility_status, duration on edit),
#: in "resubmit again if you update any of prompt, motion_type, quantity, duration, loop, aspect_ratio
#: and sound_effects", and in "You can set webhook URL by giving webhook_url". It gives no enum for
#: motion_type or aspect_ratio; sound_effects is "Yes"/"No" (its examples; the legacy reference, Create
#: Batch: 'Values are: "Yes", "No" (default)').
_BATCH_SETTINGS: dict[str, Any] = {
    "title": _s(),
    "description": _s(),
    "visibility_status": _s(),
    "prompt": _s(),
    "motion_type": _s(),
    "aspect_ratio": _s(),
    "sound_effects": _enum("Yes", "No", default="No"),
    "quantity": _int(),
    "duration": _int(),
    "loop": _int(),
    "webhook_url": _s(),
}

BATCH_ROUTES = (
    Route(
        "POST",
        "/batch",
        (MULTIPART, URLENCODED),
        {"type": "object", "properties": {**_BATCH_SETTINGS, "image_files": _FILES, "image_urls": _STRINGS}},
        f"{BATCH}, 'Create a new Batch with uploading image files' / 'with image URLs' examples (lines 14-52)",
    ),
    Route(
        "GET",
        "/batch/{batch_id}",
        (),
        {},
        f"{BATCH}, 'Get Batch': 'This API retrieves a Batch object.' and its example (lines 103-115)",
    ),
    Route(
        "PUT",
        "/batch/{batch_id}/edit",
        (URLENCODED,),
        {"type": "object", "properties": {**_BATCH_SETTINGS, "rating": _s()}},
        f"{BATCH}, 'Update Batch' (lines 167-203: the resubmitting fields and both examples)",
    ),
    Route(
        "POST",
        "/batch/{batch_id}/concat",
        (),
        {},
        f"{BATCH}, concat: 'Send a POST request with empty body.' (line 257)",
    ),
)

LEGACY_ROUTES = (
    Route(
        "POST",
        "/image/reimagine",
        (MULTIPART,),
        {
            "type": "object",
            "properties": {
                "image_file": _FILE,
                "image2_file": _FILE,
                "prompt": _s(),
                "aspect_ratio": _s(),
                "option": _enum("Remake", "TryOn"),
                "creativity_strength": _int(),
            },
            "required": ["image_file"],
        },
        f"{LEGACY}, reimagine ('You can reimagine uploaded image...': the Remake and TryOn examples)",
    ),
)

DOCUMENTED_ROUTES: tuple[Route, ...] = (*V2_ROUTES, *BATCH_ROUTES, *LEGACY_ROUTES)


#: (method, path template) -> fields the text documents send that the openapi.json schema lacks.
TEXT_ADDITIONS: dict[tuple[str, str], dict[str, tuple[dict[str, Any], str]]] = {
    ("POST", "/story"): {"title": (_s(), "story.txt, POST /story example ('title': 'Example Story', line 183)")},
    ("POST", "/story/{story_id}/elements"): {
        "seed": (_int(), "story.txt, elements example ('seed': 4669, line 288)"),
    },
    ("POST", "/story/{story_id}/scenes"): {
        "seed": (_int(), "story.txt, scenes examples ('seed': '4669', lines 391 and 403)"),
    },
    # The schema is an open object; its description names the fields ("Request body with optional fields: title,
    # description, visibility_status, rating, delivered_at") and their types ("Rating value (string)").
    ("PUT", "/workflow/{workflow_id}"): {
        name: (prop, "openapi.json PUT /workflow/{workflow_id} request body description")
        for name, prop in (
            ("title", _s()),
            ("description", _s()),
            ("visibility_status", _enum("0", "1", "2")),
            ("rating", _s()),
            ("delivered_at", _s()),
        )
    },
}


def _with_additions(route: Route) -> Route:
    extra = TEXT_ADDITIONS.get((route.method, route.template))
    if not extra:
        return route
    schema = dict(route.schema)
    schema["properties"] = {**schema.get("properties", {}), **{name: prop for name, (prop, _) in extra.items()}}
    sources = "; ".join(source for _, source in extra.values())
    return Route(route.method, route.template, route.content_types, schema, f"{route.source} + {sources}")


#: The openapi.json routes, with :data:`TEXT_ADDITIONS`.
OPENAPI_ROUTES: tuple[Route, ...] = tuple(_with_additions(route) for route in openapi_routes())


def _schema_enum(method: str, template: str, name: str) -> tuple[str, ...]:
    """Return the enum openapi.json gives a field of a route's body schema."""
    route = next(r for r in openapi_routes() if (r.method, r.template) == (method, template))
    return tuple(route.schema["properties"][name]["enum"])


_MEDIA_BODIES = {
    "/media": "create_media_api_media_post",
    "/media/{media_id}": "update_media_api_media__media_id__put",
    "/media/{media_id}/edit": "update_media_api_media__media_id__edit_put",
}
_TRY_ON_MODELS = ("SeedreamTryOn", "NanoBananaProTryOn", "FashnTryOn", "ViduTryOn", "KlingTryOn")
_MEDIA_ASPECT_RATIOS = ("16:9", "4:3", "1:1", "3:4", "9:16")

#: Allowed values that openapi.json gives in a field's prose rather than as an enum: (path, field) ->
#: (values, where). A field missing here has only examples in the documents (``text/prompt`` option,
#: ``text-2-speech`` option); the provider must then accept at least those.
PROSE_ENUMS: dict[tuple[str, str], tuple[tuple[str, ...], str]] = {
    ("/image/edit-image", "option"): (
        ("RemoveText", "Upscale", "LumaReframe", "Inpaint", "ExpandToAspectRatio"),
        "openapi.json Body_edit_img_api_image_edit_image_post.option ('Available values are ...')",
    ),
    ("/image/edit-image", "expand_method"): (("Outpaint", "Pad"), "openapi.json /image/edit-image parameter table"),
    ("/image/edit-image", "expand_direction"): (
        ("center", "top/left", "bottom/right"),
        "openapi.json /image/edit-image parameter table",
    ),
    ("/image/replace-background", "option"): (
        ("RemoveBackground", "ReplaceBackground", "RestyleBackground"),
        "openapi.json Body_replace_background_api_image_replace_background_post.option ('Available values ...')",
    ),
    ("/image/try-on", "option"): (
        ("SeedreamTryOn", "NanoBananaProTryOn", "KlingTryOn", "FashnTryOn", "KontextTryOn"),
        "openapi.json Body_virtual_try_on_api_image_try_on_post.option ('Available values are ...')",
    ),
    ("/image/face-swap", "option"): (
        ("EaselFaceSwap", "SegmindFaceSwap", "MagicFaceSwap"),
        "openapi.json Body_face_swap_api_image_face_swap_post.option ('Available values are ...')",
    ),
    ("/image/restyle", "style"): (
        (
            *("3d", "realistic_style", "angel", "anime_style", "japanese_comics", "princess_style", "dreamy"),
            *("ink_style", "new_monet_garden", "monets_garden", "exquisite_comic", "cyber_machinery"),
            *("chinese_style", "romantic", "ugly_clay", "cute_doll", "3d_gaming", "animated_movie", "doll"),
        ),
        "openapi.json Body_restyle_image_from_image_image_restyle_post.style ('Available values are ...')",
    ),
    ("/image/elements", "option"): (
        ("FluxPro", "Seedream", "NanoBananaPro", "FluxKontextPro", "NanoBanana", "GPTImage"),
        "openapi.json Body_elements_api_image_elements_post.option ('Available values are ...')",
    ),
    ("/workflow", "visibility_status"): (
        ("0", "1", "2"),
        "openapi.json Body_create_task_workflow_post.visibility_status (its Value/Status table)",
    ),
    ("/finetune", "option"): (
        ("FluxFinetune", "FluxProFinetune", "FluxKontextFinetune"),
        "openapi.json Body_finetune_flux_finetune_post.option ('Available values are ...')",
    ),
    ("/finetune", "finetune_type"): (
        ("Auto", "Character", "Product", "Style"),
        "openapi.json Body_finetune_flux_finetune_post.finetune_type ('can be `Auto`, `Character`, ...')",
    ),
    ("/audio/text-2-speech", "voice"): (
        (
            *("Rachel", "Aria", "Roger", "Sarah", "Laura", "Charlie", "George", "Callum", "River", "Liam"),
            *("Charlotte", "Alice", "Matilda", "Will", "Jessica", "Eric", "Chris", "Brian", "Daniel", "Lily", "Bill"),
        ),
        "openapi.json Body_generate_text_2_speech_audio_text_2_speech_post.voice ('Available voices are ...')",
    ),
    **{
        (path, name): (values, f"openapi.json Body_{body}.{name} ('Available values: ...')")
        for path, body in _MEDIA_BODIES.items()
        for name, values in (("model", _TRY_ON_MODELS), ("aspect_ratio", _MEDIA_ASPECT_RATIOS))
    },
    **{
        (path, "camera_control"): (
            _schema_enum("POST", "/media", "camera_control"),
            f"openapi.json Body_{_MEDIA_BODIES[path]}.camera_control ('Available values: [{{label, prompt, value}}"
            "...]': the values of POST /media's camera_control enum)",
        )
        for path in ("/media/{media_id}", "/media/{media_id}/edit")
    },
}
#: Values the documents show as examples of a free-text field: (path, field) -> (values, where).
EXAMPLE_VALUES: dict[tuple[str, str], tuple[tuple[str, ...], str]] = {
    ("/text/prompt", "option"): (
        ("InspireMe", "Image2Prompt", "RefinePrompt", "SuggestPrompt"),
        "openapi.json /text/prompt description (its three examples) and the option's default",
    ),
    ("/audio/text-2-speech", "option"): (
        ("ElevenLabsTTS", "ChirpTTS"),
        "openapi.json Body_generate_text_2_speech... option examples",
    ),
}
#: Form fields the documents describe as a string holding JSON, and where they say so.
JSON_TEXT_FIELDS: Mapping[str, str] = {
    "audio_option": "media.txt (POST /media, audio_option: JSON string); openapi.json Body_create_story_api_story_post",
    "media_items": "media.txt (POST /media, media_items: JSON string)",
    "storyboard": "story.txt (scenes example: 'storyboard': json.dumps(...))",
    "elements": "openapi.json Body_create_story_api_story_post.elements (example is a JSON string)",
    "reframe_parameters": "openapi.json /image/edit-image ('JSON string for reframe parameters')",
    "additional_videos": "openapi.json Body_update_story_story__story_id__put ('JSON array of additional video URLs')",
}
#: The JSON text fields that hold a list (media.txt l. 73: media_items is a "JSON array"); the others hold an object.
JSON_TEXT_LISTS = frozenset({"media_items", "additional_videos"})
