"""
Story inputs: the documented fields of the Story API, their allowed values, validation before
anything is sent, the storyboard, and the request builders.

Two ways to make a story video (``shared/reference/vimmerse-api/story.txt`` and ``openapi.json``):

* one step, then wait until the story's ``video_url`` is ready: ``POST /story/idea-2-video`` (an idea),
  ``POST /story/url-2-video`` (a web page's URL and an idea: the same fields) or ``POST /story/images-2-video``
  (image URLs, one scene each, and an optional idea); all three take a JSON body (``openapi.json`` only:
  ``story.txt`` has neither of the last two);
* the advanced flow, one request per step: ``POST /story`` (storyboard from an idea),
  ``/story/{id}/elements`` (element images, optional), ``/story/{id}/scenes`` (scene images and
  narration), ``/story/{id}/videos`` (one video per scene, composed), ``/story/{id}/concat`` (compose again).
  The first three answer with the updated story at once (the story stays ``new``); videos and concat
  run asynchronously until the story is ``success``. Every step may send an edited storyboard.

The storyboard, ``elements`` and ``audio_option`` are accepted as Python objects (or their JSON strings)
and sent as the JSON strings the form routes want.

A story's metadata (title, description, visibility, additional videos) changes with ``PUT /story/{id}``
(:data:`UPDATE`): a form, free, answered with the updated story.

Pure module: no Airflow imports.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from airflow_provider_vimmerse.api.endpoints import ApiRequest, FilePart, form_fields
from airflow_provider_vimmerse.api.fields import (
    EditRoute,
    check_enum,
    check_range,
    check_urls,
    is_templated,
    json_object,
    json_value,
)
from airflow_provider_vimmerse.api.media import (
    ASPECT_RATIOS,
    MOTION_TYPES,
    NARRATORS,
    RANGES,
    VISIBILITY_STATUSES,
)
from airflow_provider_vimmerse.api.urls import job_path
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
STORY_MOTION_TYPES = tuple(m for m in MOTION_TYPES if m != "TryOnVideo")
#: ``language`` of ``POST /story/idea-2-video`` (openapi.json ``Idea2VideoRequest``: an enum). On
#: ``POST /story`` the language is free text (its schema: a string, default ``English``).
LANGUAGES = ("Arabic", "Chinese", "English", "French", "German", "Hindi", "Japanese", "Korean", "Spanish", "Turkish")
#: ``scene_count``: at least 1; the schema sets no maximum ("varies by subscription plan").
SCENE_COUNT_MIN = 1
SEED_RANGE = (0, 2**32 - 1)
#: Keys of a story's ``audio_option``.
AUDIO_OPTION_KEYS = ("narrator", "has_narration", "has_bg_music", "native_audio")
#: Storyboard sections listing elements (each ``{"name", "description"}``, optionally ``image_url``).
ELEMENT_SECTIONS = ("characters", "environments", "objects")

IDEA_TO_VIDEO = "/story/idea-2-video"
#: openapi.json ``Url2VideoRequest``: the fields of ``Idea2VideoRequest``, the page's URL inside ``idea``.
URL_TO_VIDEO = "/story/url-2-video"
#: openapi.json ``Images2VideoRequest``: ``image_urls`` (one scene each), no scene count, image model or elements.
IMAGES_TO_VIDEO = "/story/images-2-video"
#: The routes that make a story video in one step, each a JSON body built by :func:`idea_to_video`.
ONE_STEP_ROUTES = (IDEA_TO_VIDEO, URL_TO_VIDEO, IMAGES_TO_VIDEO)
CREATE_STORY = "/story"
#: Enums that hold wherever the field is sent (each field belongs to one kind of route).
ENUMS: Mapping[str, Sequence[Any]] = {"image_tool": IMAGE_TOOLS, "video_tool": VIDEO_TOOLS, "option": IMAGE_OPTIONS}
#: Enums that only some routes set (openapi.json): ``aspect_ratio`` is free text on the image steps,
#: ``language`` free text on ``POST /story``.
ROUTE_ENUMS: Mapping[str, Mapping[str, Sequence[Any]]] = {
    **{route: {"aspect_ratio": ASPECT_RATIOS, "language": LANGUAGES} for route in ONE_STEP_ROUTES},
    CREATE_STORY: {"aspect_ratio": ASPECT_RATIOS},
}


def _no_seed(route: str, schema: str) -> str:
    return (
        f"is not a field of POST {route} (openapi.json {schema} has none); remove it, "
        "or use the advanced flow, whose image steps take a seed (story.txt examples)"
    )


def _one_scene_per_image(why: str) -> str:
    return (
        f"is not a field of POST {IMAGES_TO_VIDEO} (openapi.json Images2VideoRequest has none): {why}; remove it, "
        f"or use POST {CREATE_STORY} with image_urls and the advanced flow"
    )


#: Inputs a route does not document, and why they are refused.
ROUTE_REFUSED: Mapping[str, Mapping[str, str]] = {
    IDEA_TO_VIDEO: {"seed": _no_seed(IDEA_TO_VIDEO, "Idea2VideoRequest")},
    URL_TO_VIDEO: {"seed": _no_seed(URL_TO_VIDEO, "Url2VideoRequest")},
    IMAGES_TO_VIDEO: {
        "scene_count": _one_scene_per_image("the story has one scene per image"),
        "image_tool": _one_scene_per_image("the scenes are the given images, nothing is drawn"),
        "elements": _one_scene_per_image("the images are the story's look"),
        "seed": _one_scene_per_image("nothing is drawn"),
    },
}
#: ``PUT /story/{id}`` fields (openapi.json ``Body_update_story_story__story_id__put``); all metadata, all free.
UPDATE_FIELDS = ("title", "description", "visibility_status", "additional_videos")


# ---------------------------------------------------------------------- validation


#: The story steps the API answers only when done: their read timeout is the caller's (the connection's
#: ``slow_step_timeout``, 600 s unless set: "This step may take several minutes", openapi.json /scenes).
SLOW_STEPS = ("storyboard", "elements", "scenes")


def check_story_fields(
    values: Mapping[str, Any], *, route: str = "", motion_types: Sequence[str] = STORY_MOTION_TYPES
) -> None:
    """
    Validate the story fields that are set (enums, ranges, JSON fields, URLs).

    Unrendered template values are skipped; call again after rendering.

    :param values: fields with the API's names
    :param route: the route they are sent to, when it restricts more (:data:`ROUTE_ENUMS`, :data:`ROUTE_REFUSED`)
    :param motion_types: the motion types allowed for ``motion_type``
    :raises VimmerseInputError: naming the field and the allowed values
    """
    for field, why in ROUTE_REFUSED.get(route, {}).items():
        if values.get(field) is not None:
            raise VimmerseInputError(field, why)
    for field, allowed in {**ENUMS, **ROUTE_ENUMS.get(route, {})}.items():
        check_enum(field, values.get(field), allowed)
    check_enum("motion_type", values.get("motion_type"), motion_types)
    check_range("scene_count", values.get("scene_count"), SCENE_COUNT_MIN)
    check_range("seed", values.get("seed"), *SEED_RANGE)
    for field in ("duration", "loop"):
        check_range(field, values.get(field), *RANGES[field])
    duration = values.get("scene_duration")
    if duration is not None and not is_templated(duration):
        number = int(duration) if isinstance(duration, str) and duration.strip().isdigit() else duration
        if isinstance(number, bool) or number not in SCENE_DURATIONS:
            raise VimmerseInputError("scene_duration", f"got {duration!r}; allowed values: 5, 10")
    for field in ("is_transition", "enhance_image"):
        value = values.get(field)
        if value is not None and not is_templated(value) and not isinstance(value, bool):
            raise VimmerseInputError(field, f"got {value!r}; allowed values: True, False")
    check_audio_option(values.get("audio_option"))
    check_elements(values.get("elements"))
    if values.get("storyboard") is not None and not is_templated(values["storyboard"]):
        check_storyboard(values["storyboard"])
    for field in ("image_urls", "webhook_url", "concat_video_urls", "audio_urls"):
        check_urls(field, values.get(field))


def check_idea(values: Mapping[str, Any]) -> None:
    """Require a non-empty ``idea``."""
    idea = values.get("idea")
    if is_templated(idea):
        return
    if not isinstance(idea, str) or not idea.strip():
        raise VimmerseInputError("idea", "is required: describe the story to make (a non-empty text)")


def check_one_step(values: Mapping[str, Any], route: str) -> None:
    """
    Validate the fields of a one-step story route (:data:`ONE_STEP_ROUTES`) before anything is sent.

    ``idea-2-video`` needs an idea; ``url-2-video`` an idea holding the web page's http(s) URL
    (openapi.json ``Url2VideoRequest.idea``: "URL of the webpage to scrape"; its table: "Text description
    including the website URL"); ``images-2-video`` at least one image URL, and an idea only if given
    (``Images2VideoRequest`` marks it optional with a default; its parameter table says required: the
    schema is followed, so an unset idea is not sent and the API's default applies).

    :param values: fields with the API's names
    :param route: one of :data:`ONE_STEP_ROUTES`
    :raises VimmerseInputError: naming the field and what is allowed
    """
    if route == IMAGES_TO_VIDEO:
        check_image_urls(values.get("image_urls"))
        if values.get("idea") is not None:
            check_idea(values)
    else:
        check_idea(values)
    if route == URL_TO_VIDEO:
        check_page_url(values.get("idea"))
    check_story_fields(values, route=route)


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
    option = json_object("audio_option", value, AUDIO_OPTION_KEYS, enums={"narrator": NARRATORS})
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


def story_id_from(value: Any) -> str:
    """
    Return a story id given as text or as the result of an earlier story step (its ``id``).

    :raises VimmerseInputError: naming ``story_id`` when there is none
    """
    if isinstance(value, Mapping):
        value = value.get("id")
    if not isinstance(value, str) or not value.strip():
        raise VimmerseInputError("story_id", f"must be a story id or a story step's result, got {value!r}")
    return value.strip()


def storyboard_of(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Return the storyboard of a story object (empty when it has none yet)."""
    board = obj.get("storyboard")
    if isinstance(board, str):
        try:
            board = json.loads(board)
        except ValueError:
            return {}
    return board if isinstance(board, dict) else {}


def step_done(step: str, obj: Mapping[str, Any]) -> bool:
    """
    Return True when a story object shows an advanced step done.

    ``storyboard``: the storyboard has scenes; ``elements``: every character, environment and object
    has its image, under ``image_url`` or ``URL`` (openapi.json ``POST /story/{story_id}/elements``: its
    sample code prints ``element['URL']`` and its example has ``"URL"``); ``scenes``: every scene has its
    ``image_url`` (story.txt: the steps "craft images" of the elements and of the scenes).

    :param step: ``storyboard``, ``elements`` or ``scenes``
    :param obj: the unwrapped story object
    """
    board = storyboard_of(obj)
    scenes = board.get("scenes")
    if step == "elements":
        items = [item for section in ELEMENT_SECTIONS for item in board.get(section) or []]
        return all(isinstance(item, Mapping) and (item.get("image_url") or item.get("URL")) for item in items)
    if not isinstance(scenes, list) or not scenes:
        return False
    return step == "storyboard" or all(isinstance(scene, Mapping) and scene.get("image_url") for scene in scenes)


# ---------------------------------------------------------------------- requests


def encode_story_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """Return the set fields as a form wants them: ``storyboard``, ``elements``, ``audio_option`` as JSON strings."""
    encoded = {name: value for name, value in values.items() if value is not None}
    if "storyboard" in encoded:
        encoded["storyboard"] = storyboard_from(encoded["storyboard"])
    for name in ("storyboard", "elements", "audio_option"):
        if name in encoded and not isinstance(encoded[name], str):
            encoded[name] = json.dumps(encoded[name])
    return encoded


def idea_to_video(values: Mapping[str, Any], path: str = IDEA_TO_VIDEO) -> ApiRequest:
    """
    Build a one-step story: ``POST /story/idea-2-video`` (default), ``/story/url-2-video`` or
    ``/story/images-2-video``, each a JSON body (as ``openapi.json`` documents them).

    ``elements`` and ``audio_option`` go as JSON objects (given as JSON strings they are decoded first),
    numbers as numbers (a rendered template's digit string is converted), ``image_urls`` as a list.

    :param values: the fields, with the API's names
    :param path: one of :data:`ONE_STEP_ROUTES`
    """
    if path not in ONE_STEP_ROUTES:
        raise VimmerseInputError("path", f"got {path!r}; allowed values: {', '.join(ONE_STEP_ROUTES)}")
    body = {name: value for name, value in values.items() if value is not None}
    for name in ("scene_count", "scene_duration", "seed"):  # a rendered template is a digit string
        if isinstance(body.get(name), str) and body[name].strip().isdigit():
            body[name] = int(body[name])
    for name in ("elements", "audio_option"):
        if isinstance(body.get(name), str):
            body[name] = json_value(name, body[name], dict)
    return ApiRequest("POST", path, json=body, spends_credits=True)


def create_storyboard(
    values: Mapping[str, Any], files: Sequence[FilePart] = (), *, read_timeout: float | None = None
) -> ApiRequest:
    """
    Build ``POST /story`` (step 1): multipart when image files are sent, a form otherwise.

    :param read_timeout: seconds to wait for the answer (the step answers when done)
    """
    return ApiRequest(
        "POST",
        CREATE_STORY,
        form=form_fields(encode_story_fields(values)),
        files=tuple(files),
        spends_credits=True,
        read_timeout=read_timeout,
    )


def story_step(story_id: str, step: str, values: Mapping[str, Any], *, read_timeout: float | None = None) -> ApiRequest:
    """
    Build ``POST /story/{id}/<step>`` for ``elements``, ``scenes``, ``videos`` or ``concat`` (all spend credits).

    :param story_id: the story
    :param step: the step's path segment
    :param values: the step's fields, with the API's names (lists become repeated fields)
    :param read_timeout: seconds to wait for the answer of a step answered only when done (:data:`SLOW_STEPS`);
        None: the connection's ``timeout``
    """
    if step not in ("elements", "scenes", "videos", "concat"):
        raise VimmerseInputError("step", f"got {step!r}; allowed values: 'elements', 'scenes', 'videos', 'concat'")
    path = job_path("/story/{job_id}/" + step, story_id)
    timeout = read_timeout if step in SLOW_STEPS else None
    form = form_fields(encode_story_fields(values))
    return ApiRequest("POST", path, form=form, spends_credits=True, read_timeout=timeout)


# ---------------------------------------------------------------------- PUT /story/{id}


def check_update_fields(values: Mapping[str, Any]) -> None:
    """
    Validate the fields of ``PUT /story/{id}``: ``visibility_status`` ``"0"``/``"1"``/``"2"`` (an int is
    taken), ``additional_videos`` a list of http(s) URLs (or its JSON text).

    :raises VimmerseInputError: naming the field and the allowed values
    """
    status = values.get("visibility_status")
    if isinstance(status, int) and not isinstance(status, bool):
        status = str(status)
    check_enum("visibility_status", status, VISIBILITY_STATUSES)
    videos = values.get("additional_videos")
    if videos is not None and not is_templated(videos):
        videos = list(videos) if isinstance(videos, tuple) else videos
        check_urls("additional_videos", json_value("additional_videos", videos, list))


def encode_update_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """Return the set fields as the form wants them: ``additional_videos`` as JSON array text, numbers as text."""
    encoded = {name: value for name, value in values.items() if value is not None}
    if isinstance(encoded.get("visibility_status"), int):
        encoded["visibility_status"] = str(encoded["visibility_status"])
    if "additional_videos" in encoded and not isinstance(encoded["additional_videos"], str):
        encoded["additional_videos"] = json.dumps(list(encoded["additional_videos"]))
    return encoded


#: ``PUT /story/{id}``: metadata only (openapi.json documents no 402 for it: nothing is regenerated or paid).
UPDATE = EditRoute("/story/{job_id}", (), UPDATE_FIELDS, check_update_fields, encode_update_fields)
