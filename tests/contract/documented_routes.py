"""
The routes the provider calls that ``openapi.json`` does not describe, written down from the text documents.

Each row is a :class:`~tests.contract.wire.Route` whose schema lists exactly the fields the documents
name, their types, allowed values and ranges; ``source`` says where (file and section). Where a
document gives a field only in an example, the example's value type is used and the row says so.

* ``/v2/video/*``: ``video-v2.txt`` (each route's "Request Body schema: application/json").
* ``/batch``, ``/batch/{id}/edit``, ``/batch/{id}/concat``: ``batch.txt`` (it has no field table).
* ``/image/reimagine``: ``platform-api-v1-legacy.txt`` (its two examples; file parts only).

:data:`TEXT_ADDITIONS` adds to ``openapi.json`` routes the fields a text document sends in its own
examples but the schema lacks (the documents contradict each other there; the provider follows the text).
"""

from __future__ import annotations

from typing import Any

from tests.contract.wire import JSON, MULTIPART, URLENCODED, Route, openapi_routes

V2 = "video-v2.txt"
BATCH = "batch.txt"
LEGACY = "platform-api-v1-legacy.txt"


def _s(**extra: Any) -> dict[str, Any]:
    return {"type": "string", **extra}


def _int(low: int | None = None, high: int | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer"}
    if low is not None:
        schema["minimum"] = low
    if high is not None:
        schema["maximum"] = high
    return schema


def _enum(*values: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


_BOOL = {"type": "boolean"}
_NUMBER = {"type": "number"}
_RATIO = _s(pattern=r"^(\d+):(\d+)$")
_FILE = {"type": "string", "format": "binary"}
_FILES = {"type": "array", "items": _FILE}
_STRINGS = {"type": "array", "items": {"type": "string"}}
#: Every v2 JSON route: "async_mode boolean, Default: true" and "Webhook URL (string) or Webhook URL (null)".
_V2_COMMON = {"async_mode": _BOOL, "webhook_url": _nullable(_s())}


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
                "quantity": _int(1, 4),
                "prompt": _s(),
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
        prompt=_s(),
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
        enhance_mode=_enum("4X", "2X", "4X&DeepClean", "2X&DeepClean", "DeepClean"),
        compression_scale=_s(),
    ),
    _v2("/v2/video/sound-effect", "Add Sound Effect", ("video_url",), video_url=_s(), prompt=_s()),
    _v2(
        "/v2/video/avatars/lip-sync",
        "Avatar Lip-Sync Video",
        (),
        avatar_id=_s(),
        voice_id=_s(),
        prompt=_s(),
        bg_image_url=_s(),
        audio_url=_s(),
        aspect_ratio=_enum("1:1", "16:9", "9:16"),
        show_caption=_enum("On", "Off"),
    ),
    _v2(
        "/v2/video/lip-sync",
        "Lip-Sync Video",
        (),
        image_url=_s(),
        video_url=_s(),
        audio_url=_s(),
        prompt=_s(),
        option=_enum(
            "AutoLipSync", "SyncLipSync", "HummingBird", "NewportLipSync", "KlingAvatar", "PVideo", "NewportDreamAvatar"
        ),
        voice=_s(),
        video_duration=_nullable(_NUMBER),
        audio_duration=_nullable(_NUMBER),
    ),
    _v2(
        "/v2/video/video-effects",
        "Video Effects",
        ("image_url",),
        image_url=_s(),
        ref_image_url=_s(),
        option=_enum(
            "PikaEffects", "KlingEffects", "WanEffects", "ViduEffects", "PixverseEffects", "HiggsfieldEffects"
        ),
        effect=_s(),
        prompt=_s(),
        aspect_ratio=_nullable(_s()),
        quantity=_int(1, 4),
    ),
    _v2(
        "/v2/video/replace-background",
        "Replace Background",
        ("video_url",),
        video_url=_s(),
        bg_image_url=_s(),
        bg_video_url=_s(),
        chroma_key_color=_s(),
        chroma_tolerance=_s(),
        prompt=_s(),
        overlay_scale=_s(),
        alignment=_enum("center", "left", "right"),
        start_time=_s(),
        crop_to_content=_BOOL,
        x_offset=_int(),
        y_offset=_int(),
        use_rembg_lib=_BOOL,
    ),
    _v2(
        "/v2/video/reference-to-video",
        "Reference to Video",
        ("image_urls",),
        image_urls={**_STRINGS, "minItems": 1},
        elements=_STRINGS,
        aspect_ratio=_RATIO,
        prompt=_s(),
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
        ),
        quantity=_int(1, 4),
        duration=_int(1, 30),
    ),
    _v2(
        "/v2/video/video-to-video",
        "Video to Video",
        ("video_url",),
        video_url=_s(),
        image_url=_s(),
        prompt=_s(),
        option=_enum("KlingO", "HappyHorse", "Grok", "SeedanceFast", "LumaModify"),
    ),
    _v2(
        "/v2/video/audio",
        "Attach Audio",
        ("video_url", "audio_url"),
        video_url=_s(),
        audio_url=_s(),
        attach_mode=_enum("MatchVideo", "PadAudio", "MatchAudio", "SpeedAdjust", "Strict"),
        video_duration=_nullable(_NUMBER),
        audio_duration=_nullable(_NUMBER),
    ),
)

#: Batch settings: batch.txt names them in its examples (title, sound_effects, motion_type,
#: aspect_ratio, image_files, image_urls; description, rating, visibility_status, duration on edit),
#: in "resubmit again if you update any of prompt, motion_type, quantity, duration, loop, aspect_ratio
#: and sound_effects", and in "You can set webhook URL by giving webhook_url". It gives no enum for
#: motion_type or aspect_ratio; sound_effects is "Yes"/"No" (its examples; the legacy reference, Create
#: Batch: 'Values are: "Yes", "No"').
_BATCH_SETTINGS: dict[str, Any] = {
    "title": _s(),
    "description": _s(),
    "visibility_status": _s(),
    "prompt": _s(),
    "motion_type": _s(),
    "aspect_ratio": _s(),
    "sound_effects": _enum("Yes", "No"),
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


#: Allowed values that openapi.json gives in a field's prose rather than as an enum: (path, field) ->
#: (values, where). A field missing here has only examples in the documents (``text/prompt`` option,
#: ``text-2-speech`` voice and option); the provider must then accept at least those.
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
}
#: Values the documents show as examples of a free-text field: (path, field) -> (values, where).
EXAMPLE_VALUES: dict[tuple[str, str], tuple[tuple[str, ...], str]] = {
    ("/text/prompt", "option"): (
        ("InspireMe", "Image2Prompt", "RefinePrompt", "SuggestPrompt"),
        "openapi.json /text/prompt description (its three examples) and the option's default",
    ),
    ("/audio/text-2-speech", "voice"): (("Rachel",), "openapi.json Body_generate_text_2_speech... voice examples"),
    ("/audio/text-2-speech", "option"): (
        ("ElevenLabsTTS", "ChirpTTS"),
        "openapi.json Body_generate_text_2_speech... option examples",
    ),
}
