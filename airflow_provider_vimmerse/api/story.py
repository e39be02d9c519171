"""
The story routes' rows, their documented fields and allowed values, and the rules checked before anything
is sent.

Two ways to make a story video (``shared/reference/vimmerse-api/story.txt`` and ``openapi.json``):

* one step, then wait until the story's ``video_url`` is ready: :data:`IDEA_TO_VIDEO` (an idea),
  :data:`URL_TO_VIDEO` (a web page's URL and an idea: the same fields) or :data:`IMAGES_TO_VIDEO`
  (image URLs, one scene each, and an optional idea); all three take a JSON body (``openapi.json`` only:
  ``story.txt`` has neither of the last two);
* the advanced flow, one request per step: :data:`STORYBOARD` (``POST /story``, a storyboard from an idea),
  :data:`ELEMENTS` (element images, optional), :data:`SCENES` (scene images and narration), :data:`VIDEOS`
  (one video per scene, composed), :data:`CONCAT` (compose again). The first three answer with the
  updated story when their work is done (the story stays ``new``); videos and concat run asynchronously
  until the story is ``success``. Every step may send an edited storyboard.

The storyboard, ``elements`` and ``audio_option`` are accepted as Python objects (or their JSON strings)
and sent as the JSON strings the form routes want. Reading a story object back (its storyboard, which
step it shows done) is :mod:`~airflow_provider_vimmerse.api.storyboard`'s.

A story's metadata (title, description, visibility, additional videos) changes with ``PUT /story/{id}``
(:data:`UPDATE`): a form, free, answered with the updated story.

Pure module: no Airflow imports.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from airflow_provider_vimmerse.api import media
from airflow_provider_vimmerse.api.fields import (
    FieldType,
    RouteField,
    check_urls,
    is_templated,
    json_object,
    json_value,
)
from airflow_provider_vimmerse.api.results import job_id_from
from airflow_provider_vimmerse.api.routes import Route, Send
from airflow_provider_vimmerse.api.storyboard import ELEMENT_SECTIONS
from airflow_provider_vimmerse.api.storyboard import step_done as step_done  # re-exported: a story read
from airflow_provider_vimmerse.api.storyboard import storyboard_of as storyboard_of
from airflow_provider_vimmerse.exceptions import VimmerseInputError

#: ``image_tool`` of ``POST /story/idea-2-video``.
IMAGE_TOOLS = ("Seedream", "FluxTurbo", "NanoBanana", "QwenImage")
#: ``video_tool`` of ``POST /story/idea-2-video``.
VIDEO_TOOLS = ("Auto", "KlingAI", "Seedance", "Pixverse", "VeoFast")
#: ``scene_duration`` of ``POST /story/idea-2-video``, in seconds.
SCENE_DURATIONS = (5, 10)
#: ``option`` (image model) of ``/story/{id}/elements`` and ``/story/{id}/scenes``.
IMAGE_OPTIONS = (
    "Seedream", "FluxPro", "FluxTurbo", "NanoBananaPro", "NanoBanana", "FluxKontextPro", "FluxFinetuned", "QwenImage",
    "StableDiffusion3.5", "LeonardoImage", "GPTImage", "Auto",
)  # fmt: skip
#: ``motion_type`` of ``/story/{id}/videos``: the media motion types except try-on.
STORY_MOTION_TYPES = tuple(m for m in media.MOTION_TYPES if m != "TryOnVideo")
#: ``language`` of the one-step routes (openapi.json ``Idea2VideoRequest``: an enum). On ``POST /story``
#: the language is free text (its schema: a string, default ``English``).
LANGUAGES = ("Arabic", "Chinese", "English", "French", "German", "Hindi", "Japanese", "Korean", "Spanish", "Turkish")
#: ``scene_count``: at least 1; the schema sets no maximum ("varies by subscription plan").
SCENE_COUNT_MIN = 1
SEED_RANGE = (0, 2**32 - 1)
#: Keys of a story's ``audio_option``.
AUDIO_OPTION_KEYS = ("narrator", "has_narration", "has_bg_music", "native_audio")

# The routes a refusal's reason names (each also the path of its row below).
_IDEA_PATH = "/story/idea-2-video"
_URL_PATH = "/story/url-2-video"
_IMAGES_PATH = "/story/images-2-video"
_STORY_PATH = "/story"


def _no_seed(route: str, schema: str) -> str:
    return (
        f"is not a field of POST {route} (openapi.json {schema} has none); remove it, "
        "or use the advanced flow, whose image steps take a seed (story.txt examples)"
    )


def _one_scene_per_image(why: str) -> str:
    return (
        f"is not a field of POST {_IMAGES_PATH} (openapi.json Images2VideoRequest has none): {why}; remove it, "
        f"or use POST {_STORY_PATH} with image_urls and the advanced flow"
    )


# ---------------------------------------------------------------------- rules


def check_idea(values: Mapping[str, Any]) -> None:
    """Require a non-empty ``idea``."""
    idea = values.get("idea")
    if is_templated(idea):
        return
    if not isinstance(idea, str) or not idea.strip():
        raise VimmerseInputError("idea", "is required: describe the story to make (a non-empty text)")


def check_page_url(idea: Any) -> None:
    """Require the idea of ``url-2-video`` to hold the page's ``http://`` or ``https://`` URL."""
    if not isinstance(idea, str) or is_templated(idea):
        return
    if not any(word.startswith(("http://", "https://")) for word in idea.split()):
        raise VimmerseInputError(
            "idea",
            "must hold the URL of the web page to make the video from (http:// or https://), followed by what "
            f"to make of it, e.g. 'https://shop.example/tote A 20-second ad for this bag'; got {idea!r}",
        )


def check_image_urls(image_urls: Any) -> None:
    """Require at least one image URL (``Images2VideoRequest.image_urls``: ``minItems: 1``)."""
    if is_templated(image_urls):
        return
    if not image_urls:
        raise VimmerseInputError(
            "image_urls", "is required: at least one public image URL (JPEG, PNG or WebP), one scene each"
        )


def check_audio_option(value: Any) -> None:
    """Validate a story ``audio_option``: a dict (or its JSON string) with the documented keys and voices."""
    if value is None or is_templated(value):
        return
    option = json_object("audio_option", value, AUDIO_OPTION_KEYS, enums={"narrator": media.NARRATORS})
    for key in ("has_narration", "has_bg_music", "native_audio"):
        if option.get(key) is not None and not isinstance(option[key], bool):
            raise VimmerseInputError(f"audio_option.{key}", f"got {option[key]!r}; allowed values: true, false")


def check_elements(value: Any) -> None:
    """Validate ``elements``: a dict (or its JSON string) of ``characters``/``environments``/``objects`` lists."""
    if value is None or is_templated(value):
        return
    elements = json_object("elements", value, ELEMENT_SECTIONS, what="sections")
    for section in ELEMENT_SECTIONS:
        _check_element_list(f"elements.{section}", elements.get(section))


def check_storyboard(value: Any, field: str = "storyboard") -> dict[str, Any]:
    """
    Validate a storyboard (a dict, its JSON string, or the result of an earlier story step) and return it.

    It needs a non-empty ``scenes`` list of objects; ``characters``, ``environments`` and ``objects``,
    when present, are lists of objects.

    :raises VimmerseInputError: naming the field and what is wrong
    """
    board = json_value(field, storyboard_from(value), dict)
    scenes = board.get("scenes")
    if not isinstance(scenes, list) or not scenes:
        raise VimmerseInputError(f"{field}.scenes", "must be a non-empty list of scenes (objects)")
    for index, scene in enumerate(scenes):
        if not isinstance(scene, Mapping):
            raise VimmerseInputError(f"{field}.scenes[{index}]", f"must be an object, got {type(scene).__name__}")
    for section in ELEMENT_SECTIONS:
        _check_element_list(f"{field}.{section}", board.get(section))
    return board


def _check_element_list(field: str, items: Any) -> None:
    if items is None:
        return
    if not isinstance(items, list):
        raise VimmerseInputError(field, f"must be a list of objects, got {type(items).__name__}")
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise VimmerseInputError(f"{field}[{index}]", f"must be an object, got {type(item).__name__}")


def check_story_values(values: Mapping[str, Any]) -> None:
    """
    Validate what the rows' per-field checks do not: the booleans, and the JSON fields' structure
    (``audio_option``, ``elements``, ``storyboard``). Every story route's rules call it.

    :param values: the fields given, with the API's names (unrendered values are skipped)
    """
    for field in ("is_transition", "enhance_image"):
        value = values.get(field)
        if value is not None and not is_templated(value) and not isinstance(value, bool):
            raise VimmerseInputError(field, f"got {value!r}; allowed values: True, False")
    check_audio_option(values.get("audio_option"))
    check_elements(values.get("elements"))
    board = values.get("storyboard")
    if board is not None and not is_templated(board):
        check_storyboard(board)


def check_story_from_idea(values: Mapping[str, Any]) -> None:
    """The rules of ``POST /story/idea-2-video`` (and of ``POST /story``): a non-empty idea."""
    check_idea(values)
    check_story_values(values)


def check_url_to_video(values: Mapping[str, Any]) -> None:
    """
    The rules of ``POST /story/url-2-video``: an idea holding the web page's http(s) URL (openapi.json
    ``Url2VideoRequest.idea``: "URL of the webpage to scrape"; its table: "Text description including the
    website URL").
    """
    check_idea(values)
    check_page_url(values.get("idea"))
    check_story_values(values)


def check_images_to_video(values: Mapping[str, Any]) -> None:
    """
    The rules of ``POST /story/images-2-video``: at least one image URL, and an idea only if given
    (``Images2VideoRequest`` marks it optional with a default; its parameter table says required: the
    schema is followed, so an unset idea is not sent and the API's default applies).
    """
    check_image_urls(values.get("image_urls"))
    if values.get("idea") is not None:
        check_idea(values)
    check_story_values(values)


def check_update_fields(values: Mapping[str, Any]) -> None:
    """The rules of ``PUT /story/{id}``: ``additional_videos`` a list of http(s) URLs (or its JSON text)."""
    videos = values.get("additional_videos")
    if videos is not None and not is_templated(videos):
        videos = list(videos) if isinstance(videos, tuple) else videos
        check_urls("additional_videos", json_value("additional_videos", videos, list))


# ---------------------------------------------------------------------- the story and its storyboard


def storyboard_from(value: Any) -> Any:
    """
    Return the storyboard inside a value that may be the result of an earlier story step.

    A step's result (``{"kind": "story", "id": ..., "storyboard": {...}}``) gives its ``storyboard``;
    anything else is returned as it is.
    """
    if isinstance(value, Mapping) and value.get("kind") == "story" and "storyboard" in value:
        return value["storyboard"]
    return value


# ---------------------------------------------------------------------- encoding


def encode_one_step(values: Mapping[str, Any]) -> dict[str, Any]:
    """
    Return the JSON body of a one-step route: ``elements`` and ``audio_option`` as JSON objects (given as
    JSON strings they are decoded first), numbers as numbers (a rendered template's digit string is
    converted), ``image_urls`` as a list.
    """
    body = {name: value for name, value in values.items() if value is not None}
    for name in ("scene_count", "scene_duration", "seed"):  # a rendered template is a digit string
        if isinstance(body.get(name), str) and body[name].strip().isdigit():
            body[name] = int(body[name])
    for name in ("elements", "audio_option"):
        if isinstance(body.get(name), str):
            body[name] = json_value(name, body[name], dict)
    return body


def encode_story_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """
    Return the set fields as a form wants them: ``storyboard`` (a step's result gives its own),
    ``elements``, ``audio_option`` as JSON strings; ``story_id`` (``POST /story``) as the story's id when a
    step's result is given.
    """
    encoded = {name: value for name, value in values.items() if value is not None}
    if isinstance(encoded.get("story_id"), Mapping):
        encoded["story_id"] = job_id_from("story_id", encoded["story_id"], "story")
    if "storyboard" in encoded:
        encoded["storyboard"] = storyboard_from(encoded["storyboard"])
    for name in ("storyboard", "elements", "audio_option"):
        if name in encoded and not isinstance(encoded[name], str):
            encoded[name] = json.dumps(encoded[name])
    return encoded


def encode_update_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """Return the set fields as the form wants them: ``additional_videos`` as JSON array text, numbers as text."""
    encoded = {name: value for name, value in values.items() if value is not None}
    if isinstance(encoded.get("visibility_status"), int):
        encoded["visibility_status"] = str(encoded["visibility_status"])
    if "additional_videos" in encoded and not isinstance(encoded["additional_videos"], str):
        encoded["additional_videos"] = json.dumps(list(encoded["additional_videos"]))
    return encoded


# ---------------------------------------------------------------------- the rows

T = FieldType
#: Fields several story routes share, as openapi.json documents them.
IDEA = RouteField("idea", required=True)
TITLE = media.TITLE
SCENE_COUNT = RouteField("scene_count", T.INT, low=SCENE_COUNT_MIN)
#: ``aspect_ratio`` of the one-step routes and ``POST /story`` (an enum); free text on the image steps.
ASPECT_RATIO = RouteField("aspect_ratio", allowed=media.ASPECT_RATIOS)
IMAGE_TOOL = RouteField("image_tool", allowed=IMAGE_TOOLS)
VIDEO_TOOL = RouteField("video_tool", allowed=VIDEO_TOOLS)
SCENE_DURATION = RouteField("scene_duration", T.INT, allowed=SCENE_DURATIONS)
IS_TRANSITION = RouteField("is_transition", T.BOOL)
ELEMENTS_FIELD = RouteField("elements", T.JSON)
AUDIO_OPTION = RouteField("audio_option", T.JSON)
LANGUAGE = RouteField("language", allowed=LANGUAGES)
WEBHOOK_URL = media.WEBHOOK_URL
IMAGE_URLS = RouteField("image_urls", T.URLS)
SEED = RouteField("seed", T.INT, low=SEED_RANGE[0], high=SEED_RANGE[1])
BOARD = RouteField("storyboard", T.JSON)
OPTION = RouteField("option", allowed=IMAGE_OPTIONS)
ENHANCE_IMAGE = RouteField("enhance_image", T.BOOL)

#: ``POST /story/idea-2-video``: a story video from an idea in one step, then its composed video.
IDEA_TO_VIDEO = Route(
    "POST",
    _IDEA_PATH,
    "story",
    fields=(
        IDEA, TITLE, SCENE_COUNT, ASPECT_RATIO, IMAGE_TOOL, VIDEO_TOOL, SCENE_DURATION, IS_TRANSITION,
        ELEMENTS_FIELD, AUDIO_OPTION, LANGUAGE, WEBHOOK_URL,
    ),
    refused={"seed": _no_seed(_IDEA_PATH, "Idea2VideoRequest")},
    body="json",
    rules=check_story_from_idea,
    encode=encode_one_step,
    needs_output=True,
    group=True,
)  # fmt: skip

#: ``POST /story/url-2-video`` (openapi.json ``Url2VideoRequest``): the fields of idea-2-video, the page's
#: URL inside ``idea``.
URL_TO_VIDEO = Route(
    "POST",
    _URL_PATH,
    "story",
    fields=IDEA_TO_VIDEO.fields,
    refused={"seed": _no_seed(_URL_PATH, "Url2VideoRequest")},
    body="json",
    rules=check_url_to_video,
    encode=encode_one_step,
    needs_output=True,
    group=True,
)

#: ``POST /story/images-2-video`` (openapi.json ``Images2VideoRequest``): ``image_urls`` (one scene each),
#: no scene count, image model or elements; ``idea`` optional.
IMAGES_TO_VIDEO = Route(
    "POST",
    _IMAGES_PATH,
    "story",
    fields=(
        RouteField("image_urls", T.URLS, required=True), RouteField("idea"), TITLE, ASPECT_RATIO, VIDEO_TOOL,
        SCENE_DURATION, IS_TRANSITION, AUDIO_OPTION, LANGUAGE, WEBHOOK_URL,
    ),
    refused={
        "scene_count": _one_scene_per_image("the story has one scene per image"),
        "image_tool": _one_scene_per_image("the scenes are the given images, nothing is drawn"),
        "elements": _one_scene_per_image("the images are the story's look"),
        "seed": _one_scene_per_image("nothing is drawn"),
    },
    body="json",
    rules=check_images_to_video,
    encode=encode_one_step,
    needs_output=True,
    group=True,
)  # fmt: skip

#: ``PUT /story/{id}`` (openapi.json ``Body_update_story_story__story_id__put``): metadata only, free (the
#: documents give it no 402: nothing is regenerated or paid).
UPDATE = Route(
    "PUT",
    "/story/{job_id}",
    "story",
    Send.EDIT,
    fields=(TITLE, media.DESCRIPTION, media.VISIBILITY_STATUS, RouteField("additional_videos", T.JSON)),
    target="story_id",
    rules=check_update_fields,
    encode=encode_update_fields,
    spends_credits=False,
    fills_webhook_url=False,
)

#: ``POST /story``, advanced flow step 1: a storyboard from an idea (or one scene per image), answered when
#: written; with ``story_id``, the storyboard of that story is written again.
STORYBOARD = Route(
    "POST",
    _STORY_PATH,
    "story",
    Send.STEP,
    fields=(
        RouteField("story_id"), IDEA, TITLE, SCENE_COUNT, ASPECT_RATIO, RouteField("language"), AUDIO_OPTION,
        ELEMENTS_FIELD, RouteField("image_files", T.FILES), IMAGE_URLS,
    ),
    target="story_id",
    target_required=False,
    rules=check_story_from_idea,
    encode=encode_story_fields,
    action="storyboard",
    step="storyboard",
    fills_webhook_url=False,
)  # fmt: skip

#: ``POST /story/{id}/elements``, step 1.5 (optional): the element images, answered when drawn.
ELEMENTS = Route(
    "POST",
    "/story/{job_id}/elements",
    "story",
    Send.STEP,
    fields=(BOARD, OPTION, RouteField("aspect_ratio"), SEED, ENHANCE_IMAGE),
    target="story_id",
    rules=check_story_values,
    encode=encode_story_fields,
    action="elements",
    step="elements",
    fills_webhook_url=False,
)

#: ``POST /story/{id}/scenes``, step 2: each scene's image and narration, answered when drawn ("This step
#: may take several minutes", openapi.json).
SCENES = Route(
    "POST",
    "/story/{job_id}/scenes",
    "story",
    Send.STEP,
    fields=(*ELEMENTS.fields, AUDIO_OPTION),
    target="story_id",
    rules=check_story_values,
    encode=encode_story_fields,
    action="scenes",
    step="scenes",
    fills_webhook_url=False,
)

#: ``POST /story/{id}/videos``, step 3: one video per scene, composed; the wait ends with the story's video.
VIDEOS = Route(
    "POST",
    "/story/{job_id}/videos",
    "story",
    fields=(TITLE, BOARD, IS_TRANSITION, RouteField("motion_type", allowed=STORY_MOTION_TYPES), media.DURATION,
            media.LOOP, WEBHOOK_URL),
    target="story_id",
    rules=check_story_values,
    encode=encode_story_fields,
    needs_output=True,
    group=True,
)  # fmt: skip

#: ``POST /story/{id}/concat``: compose a finished story's videos again (its documented answer is ``{}``).
#: Composition "typically takes 1-3 minutes" (openapi.json) and the status may read ``success`` all along:
#: the wait takes a new ``video_url`` only, until ``timeout``. Partial failures do not fail it by default:
#: composing uses the videos that succeeded, and the videos step already reported the failures.
CONCAT = Route(
    "POST",
    "/story/{job_id}/concat",
    "story",
    Send.RERUN,
    fields=(RouteField("concat_video_urls", T.URLS), RouteField("audio_urls", T.URLS)),
    target="story_id",
    encode=encode_story_fields,
    action="concat",
    doing="composing its videos again",
    needs_output=True,
    group=True,
    partial_failure_fails=False,
    rerun_grace=False,
    fills_webhook_url=False,
)
