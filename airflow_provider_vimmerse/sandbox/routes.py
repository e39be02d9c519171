"""The fake Vimmerse API routes: media, batch, story, v2 video tools, legacy image/audio/text tools, uploads, assets,
statistics and health.

Routes read and validate the request, charge credits, call :class:`~.state.SandboxState` and render the
answer with :mod:`~.views`. The API key, faults and the ledger are handled by :mod:`~.middleware`.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar, cast

import pydantic
from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response

from airflow_provider_vimmerse.sandbox import schemas
from airflow_provider_vimmerse.sandbox.middleware import INFO_SCOPE_KEY
from airflow_provider_vimmerse.sandbox.state import (
    BATCH_REGEN_FIELDS,
    CONCAT_CREDITS,
    LEGACY_TOOLS,
    LEGACY_UPLOADS,
    MEDIA_REGEN_FIELDS,
    MEDIA_TERMINAL,
    STORY_CREATE_CREDITS,
    STORY_ELEMENTS_CREDITS,
    STORY_SCENES_CREDITS,
    SUCCESS,
    UPLOAD_APP_NAME,
    V2_TOOLS,
    GroupJob,
    SandboxState,
    app_unit_credits,
    batch_cost,
    idea_to_video_cost,
    make_storyboard,
    media_cost,
    story_videos_cost,
    tool_credits,
)
from airflow_provider_vimmerse.sandbox.views import (
    LEGACY_ASSET_KEYS,
    SAMPLE_MP4,
    add_image_urls,
    asset_view,
    batch_view,
    media_status_view,
    media_view,
    story_view,
)

router = APIRouter()

ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
STORY_ELEMENT_SECTIONS = ("characters", "environments", "objects")
METADATA_FIELDS = ("title", "description", "visibility_status", "webhook_url")
GroupView = Callable[[SandboxState, GroupJob, str], dict[str, Any]]


# Helpers shared by the routes (and the admin routes)


def get_state(request: Request) -> SandboxState:
    """Return the sandbox state of the app serving a request.

    :param request: the incoming request.
    """
    return cast(SandboxState, request.app.state.sandbox)


def base_url(request: Request) -> str:
    """Return the sandbox URL as the client sees it, without a trailing slash.

    :param request: the incoming request.
    """
    return str(request.base_url).rstrip("/")


def note(request: Request, job_id: str | None, created: bool = False, credits: int = 0) -> None:
    """Tell the ledger which job a request touched, whether it created or restarted it, and what it cost.

    :param request: the incoming request.
    :param job_id: the job created or touched.
    :param created: whether the request created or restarted the job.
    :param credits: the credits charged.
    """
    info = request.scope.get(INFO_SCOPE_KEY)
    if info is not None:
        info.update({"job_id": job_id, "created": created, "credits": credits})


def api_error(request: Request, status: int, message: str, code: str | None = None) -> JSONResponse:
    """Return an API error body ``{"message": ...}`` (openapi.json error examples, ``FailureResponseModel``).

    With ``settings.error_code_field`` the body also has ``code`` (README.md's
    ``{"message": "...", "code": "MEDIA_NOT_FOUND"}``; no API document shows it).

    :param request: the incoming request.
    :param status: the HTTP status.
    :param message: the error message.
    :param code: the machine-readable code; default the message.
    """
    body = {"message": message}
    if get_state(request).settings.error_code_field:
        body["code"] = code or message
    return JSONResponse(body, status_code=status)


def bad_request(request: Request, message: str) -> JSONResponse:
    """Return a 400 answer; ``FailureResponseModel`` allows any message, so it says what is wrong.

    :param request: the incoming request.
    :param message: what is wrong with the request.
    """
    return api_error(request, 400, message, "BAD_REQUEST")


def not_found(request: Request, message: str = "NOT_FOUND") -> JSONResponse:
    """Return a 404 answer: ``{"message": "NOT_FOUND"}`` (openapi.json 404 examples).

    :param request: the incoming request.
    :param message: ``NOT_FOUND``, or ``MEDIA_NOT_FOUND`` for ``GET /media/{id}`` (``MediaNotFoundModel``).
    """
    return api_error(request, 404, message)


def insufficient_credit(request: Request) -> JSONResponse:
    """Return the 402 answer of a request the credit balance cannot pay (openapi.json 402 examples).

    :param request: the incoming request.
    """
    return api_error(request, 402, "INSUFFICIENT_CREDIT")


def wrapped(obj: Any, times: int = 1) -> JSONResponse:
    """Return a legacy answer, which wraps the object as ``{"data": {...}}`` (or twice, ``{"data": {"data": ...}}``).

    :param obj: the object.
    :param times: how many ``data`` wrappers.
    """
    for _ in range(times):
        obj = {"data": obj}
    return JSONResponse(obj)


async def read_body(
    request: Request,
    lists: tuple[str, ...] = (),
    files: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Read a JSON object when the request says ``application/json``, else a form.

    Used where the documents disagree on the request form (story.txt sends forms where openapi.json and
    platform-api-v1-legacy.txt send JSON): the sandbox accepts both.

    :param request: the incoming request.
    :param lists: form fields that may repeat (see :func:`read_form`).
    :param files: file fields (see :func:`read_form`).
    """
    if request.headers.get("content-type", "").startswith("application/json"):
        data = await read_json(request)
        # A JSON body may carry nested objects where a form carries JSON text.
        return {key: json.dumps(value) if isinstance(value, dict) else value for key, value in data.items()}
    return await read_form(request, lists=lists, files=files)


async def read_form(
    request: Request,
    lists: tuple[str, ...] = (),
    files: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Read a multipart or urlencoded form into a dict; empty values count as not given.

    :param request: the incoming request.
    :param lists: fields that may repeat (or hold a JSON list) and are returned as lists of strings.
    :param files: file fields, returned as lists of file names (the content is not kept).
    """
    data: dict[str, Any] = {}
    async with request.form() as form:
        for key in dict.fromkeys(form.keys()):
            values = form.getlist(key)
            if key in files:
                data[key] = [v.filename or "upload" for v in values if not isinstance(v, str)]
            elif key in lists:
                data[key] = _expand_list([v for v in values if isinstance(v, str) and v])
            elif isinstance(values[-1], str) and values[-1] != "":
                data[key] = values[-1]
    return data


async def read_json(request: Request) -> dict[str, Any]:
    """Read a JSON object body; an empty body is an empty object.

    :param request: the incoming request.
    :raises RequestValidationError: when the body is not a JSON object (answered with 422).
    """
    body = await request.body()
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except ValueError as exc:
        position = getattr(exc, "pos", 0)
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ["body", position], "msg": "JSON decode error"}]
        ) from None
    if not isinstance(data, dict):
        raise RequestValidationError(
            [
                {
                    "type": "model_attributes_type",
                    "loc": ["body"],
                    "msg": "Input should be a valid dictionary or object to extract fields from",
                }
            ]
        )
    return data


def parse(model: type[ModelT], data: dict[str, Any]) -> ModelT:
    """Validate request data with a model.

    :param model: the body model.
    :param data: the form or JSON data.
    :raises RequestValidationError: with FastAPI's ``loc``/``msg``/``type`` items (answered with 422).
    """
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        errors = [
            {"loc": ["body", *error["loc"]], "msg": error["msg"], "type": error["type"]}
            for error in exc.errors(include_url=False)
        ]
        raise RequestValidationError(errors) from None


def _expand_list(values: list[str]) -> list[str]:
    # A list may come as repeated fields or as one JSON list string.
    if len(values) == 1 and values[0].lstrip().startswith("["):
        try:
            parsed = json.loads(values[0])
        except ValueError:
            return values
        if isinstance(parsed, list):
            return [str(item) for item in parsed]
    return values


def _find_group(state: SandboxState, kind: str, group_id: str) -> GroupJob | None:
    job = state.groups.get(group_id)
    return job if job is not None and job.kind == kind else None


# Health


@router.get("/health")
async def health() -> Response:
    """Answer that the sandbox is up (no API key needed)."""
    return JSONResponse({"status": "ok"})


# Media


@router.post("/media")
async def create_media(request: Request) -> Response:
    """Create a media and start generating its video."""
    state = get_state(request)
    form = parse(schemas.MediaCreate, await read_form(request, lists=("image_urls",), files=("image_files",)))
    if not (form.prompt or form.image_files or form.image_urls or form.media_items):
        return bad_request(request, "Either prompt, image_files, image_urls or media_items must be provided.")
    cost = media_cost(form.quantity, form.duration)
    if not state.try_charge(cost):
        return insufficient_credit(request)
    generation = form.model_dump()
    metadata = {name: generation.pop(name) for name in METADATA_FIELDS}
    job = state.create_media(generation, metadata)
    note(request, job.id, created=True, credits=cost)
    return wrapped(media_view(state, job, base_url(request)))  # openapi.json POST /media 200 example: one wrapper


@router.get("/media/{media_id}")
async def get_media(request: Request, media_id: str) -> Response:
    """Return a media object, wrapped twice like the openapi.json ``GET /media/{media_id}`` 200 example.

    ``settings.media_get_wrapping = "once"`` wraps it once, as media.txt's "Get Media" example code reads it.
    """
    state = get_state(request)
    job = state.media.get(media_id)
    if job is None:
        return not_found(request, "MEDIA_NOT_FOUND")  # openapi.json 404: MediaNotFoundModel
    note(request, job.id)
    times = 2 if state.settings.media_get_wrapping == "twice" else 1
    return wrapped(media_view(state, job, base_url(request)), times)


@router.get("/media/{media_id}/processing-status")
async def get_media_status(request: Request, media_id: str) -> Response:
    """Return the processing status and progress of a media (openapi.json example: ``{"data": {...}}``)."""
    state = get_state(request)
    job = state.media.get(media_id)
    if job is None:
        return not_found(request)
    note(request, job.id)
    return wrapped(media_status_view(state, job))


@router.get("/media/{media_id}/done")
async def get_media_done(request: Request, media_id: str) -> Response:
    """Sandbox only: answer 404 while a media runs and 200 once it ended.

    The generic ``HttpSensor`` trigger of the http provider waits exactly while its endpoint answers 404;
    the benchmarks point it here to compare it with the provider's own trigger on the same jobs.
    """
    state = get_state(request)
    job = state.media.get(media_id)
    if job is None:
        return not_found(request)
    note(request, job.id)
    status, progress = state.media_status(job)
    if status in ("success", "fail", "cancel"):
        return wrapped({"processing_status": status, "progress_percentage": progress})
    return api_error(request, 404, "NOT_DONE")


@router.put("/media/{media_id}")
@router.put("/media/{media_id}/edit")
async def edit_media(request: Request, media_id: str) -> Response:
    """Update a media; regeneration fields restart the job (after the stale window) and cost credits.

    The answer is ``{"data": media}`` (openapi.json ``PUT /media/{media_id}/edit`` 200 example): the media as
    it reads right after the request, so a regeneration still shows the previous run (the stale window).
    """
    state = get_state(request)
    job = state.media.get(media_id)
    if job is None:
        return not_found(request)
    changes = parse(schemas.MediaEdit, await read_form(request)).model_dump(exclude_none=True)
    regen = {name: value for name, value in changes.items() if name in MEDIA_REGEN_FIELDS}
    metadata = {name: value for name, value in changes.items() if name not in regen}
    cost = 0
    if regen:
        merged = {**job.generation, **regen}
        cost = media_cost(merged["quantity"], merged["duration"])
        if not state.try_charge(cost):
            return insufficient_credit(request)
    state.update_metadata(job, metadata)
    if regen:
        state.restart_media(job, regen)
    note(request, job.id, created=bool(regen), credits=cost)
    return wrapped(media_view(state, job, base_url(request)))


@router.post("/media/{media_id}/process")
async def process_media(request: Request, media_id: str) -> Response:
    """Submit a media again with its current parameters (costs credits again); answers ``{"data": {}}``.

    openapi.json ``POST /media/{media_id}/process``: 200 example ``{"data": {}}``; 400 "Media not found or
    invalid state", so a media that is still queued or processing is refused with 400.
    """
    state = get_state(request)
    job = state.media.get(media_id)
    if job is None:
        return not_found(request)
    status, _ = state.media_status(job)
    if status not in MEDIA_TERMINAL:
        return bad_request(request, f"Media is still running (processing_status={status}).")
    cost = media_cost(job.generation["quantity"], job.generation["duration"])
    if not state.try_charge(cost):
        return insufficient_credit(request)
    state.restart_media(job)
    note(request, job.id, created=True, credits=cost)
    return wrapped({})


#: ``object_type`` values the documents name (media.txt "Download video", openapi.json
#: ``GET /media/{media_id}/download``): only ``bullet_video_mp4``. The 200 description says "Return bullet video,
#: gif or source files", but no document names the object_type of a gif or of the source files.
DOWNLOAD_OBJECT_TYPES = {"bullet_video_mp4": ("video/mp4", "mp4")}


@router.api_route("/media/{media_id}/download", methods=["GET", "HEAD"])
async def download_media(
    request: Request,
    media_id: str,
    object_type: str = "bullet_video_mp4",
    motion_type: str | None = None,
    width: int | None = None,
    file_size: float | None = None,
) -> Response:
    """Stream the media's video (the sandbox sample MP4) once the media succeeded.

    Query parameters as media.txt "Download video" shows them: ``object_type``, ``motion_type``, ``width``,
    ``file_size`` (the last three are accepted and ignored). Errors are 400 ``{"message": ...}``: the route
    documents only 400 (``FailureResponseModel``) and 422, so an unknown media is a 400 too.
    """
    state = get_state(request)
    job = state.media.get(media_id)
    if job is None:
        return bad_request(request, "MEDIA_NOT_FOUND")
    note(request, job.id)
    if object_type not in DOWNLOAD_OBJECT_TYPES:
        known = ", ".join(DOWNLOAD_OBJECT_TYPES)
        return bad_request(request, f"Unknown object_type {object_type!r}; the sandbox serves {known}.")
    seen = state.media_state(job)
    if seen.status != SUCCESS:
        return bad_request(request, f"Media is not ready to download (processing_status={seen.status}).")
    media_type, extension = DOWNLOAD_OBJECT_TYPES[object_type]
    filename = f"{job.id}-v{len(seen.history)}.{extension}"
    return FileResponse(SAMPLE_MP4, media_type=media_type, filename=filename)


# Batch


@router.post("/batch")
async def create_batch(request: Request) -> Response:
    """Create a batch: one media per image, composed into one video."""
    state = get_state(request)
    form = parse(schemas.BatchCreate, await read_form(request, lists=("image_urls",), files=("image_files",)))
    items = form.image_files or form.image_urls
    if not items:
        return bad_request(request, "At least one image is required: image_files or image_urls.")
    cost = batch_cost(len(items), form.quantity, form.duration)
    if not state.try_charge(cost):
        return insufficient_credit(request)
    generation = form.model_dump(exclude=set(METADATA_FIELDS))
    generation.update({"camera_control": "", "image_files": [], "image_urls": []})
    metadata = form.model_dump(include=set(METADATA_FIELDS))
    job = state.create_group("batch", generation, metadata, items, used_credits=cost)
    state.start_group(job)
    note(request, job.id, created=True, credits=cost)
    return wrapped(batch_view(state, job, base_url(request)))


@router.get("/batch/{batch_id}")
async def get_batch(request: Request, batch_id: str) -> Response:
    """Return a batch object."""
    state = get_state(request)
    job = _find_group(state, "batch", batch_id)
    if job is None:
        return not_found(request)
    note(request, job.id)
    return wrapped(batch_view(state, job, base_url(request)))


@router.put("/batch/{batch_id}/edit")
async def edit_batch(request: Request, batch_id: str) -> Response:
    """Update a batch; regeneration fields restart every media of the batch and cost credits."""
    state = get_state(request)
    job = _find_group(state, "batch", batch_id)
    if job is None:
        return not_found(request)
    changes = parse(schemas.BatchEdit, await read_form(request)).model_dump(exclude_none=True)
    regen = {name: value for name, value in changes.items() if name in BATCH_REGEN_FIELDS}
    metadata = {name: value for name, value in changes.items() if name not in regen}
    cost = 0
    if regen:
        merged = {**job.generation, **regen}
        cost = batch_cost(len(job.items), merged["quantity"], merged["duration"])
        if not state.try_charge(cost):
            return insufficient_credit(request)
    state.update_metadata(job, metadata)
    if regen:
        job.used_credits += cost
        state.start_group(job, regen)
    note(request, job.id, created=bool(regen), credits=cost)
    return wrapped(batch_view(state, job, base_url(request)))


@router.post("/batch/{batch_id}/concat")
async def concat_batch(request: Request, batch_id: str) -> Response:
    """Compose the batch's videos again; ``video_url`` changes when done."""
    state = get_state(request)
    job = _find_group(state, "batch", batch_id)
    if job is None:
        return not_found(request)
    return _concat(request, state, job, batch_view)


def _concat(request: Request, state: SandboxState, job: GroupJob, view: GroupView) -> Response:
    status, _ = state.group_status(job)
    if status != SUCCESS:
        return bad_request(request, f"Only a finished {job.kind} can be composed (status={status}).")
    if not state.try_charge(CONCAT_CREDITS):
        return insufficient_credit(request)
    job.used_credits += CONCAT_CREDITS
    state.start_concat(job)
    note(request, job.id, created=True, credits=CONCAT_CREDITS)
    # batch.txt "Concat" and openapi.json POST /story/{story_id}/concat: "{ }" (settings.concat_answer).
    answer = state.settings.concat_answer
    if answer == "empty":
        return JSONResponse({})
    obj = view(state, job, base_url(request))
    # platform-api-v1-legacy.txt concat: the bare object; openapi.json concat example code: result["data"].
    return JSONResponse(obj) if answer == "bare" else wrapped(obj)


def _story_answer(request: Request, state: SandboxState, job: GroupJob) -> Response:
    # story.txt and openapi.json wrap a story once; platform-api-v1-legacy.txt wraps GET /story/{id},
    # POST /story/{id}/videos and /story/idea-2-video twice (settings.story_wrapping).
    times = 2 if state.settings.story_wrapping == "twice" else 1
    return wrapped(story_view(state, job, base_url(request)), times)


# Story


@router.post("/story/idea-2-video")
async def idea_to_video(request: Request) -> Response:
    """Create a story from an idea and generate its video in one step."""
    state = get_state(request)
    # openapi.json Idea2VideoRequest is JSON; story.txt's examples send a form (data=payload): accept both.
    form = parse(schemas.IdeaToVideo, await read_body(request))
    cost = idea_to_video_cost(form.scene_count, form.scene_duration)
    if not state.try_charge(cost):
        return insufficient_credit(request)
    generation = {
        "prompt": "",
        "motion_type": form.video_tool,
        "quantity": 1,
        "duration": form.scene_duration,
        "loop": 1,
        "aspect_ratio": form.aspect_ratio,
        "is_transition": form.is_transition,
        "camera_control": "",
    }
    metadata = {"title": form.title, "webhook_url": form.webhook_url}
    job = state.create_group("story", generation, metadata, [], idea=form.idea, used_credits=cost)
    storyboard = make_storyboard(form.idea, form.title, form.scene_count)
    add_image_urls(storyboard, (*STORY_ELEMENT_SECTIONS, "scenes"), base_url(request), job.id)
    state.set_storyboard(job, storyboard, step="videos")
    state.start_group(job)
    note(request, job.id, created=True, credits=cost)
    return _story_answer(request, state, job)


@router.post("/story")
async def create_story(request: Request) -> Response:
    """Create a story and its storyboard from an idea (advanced flow, step 1)."""
    state = get_state(request)
    # openapi.json and story.txt send a form; platform-api-v1-legacy.txt sends JSON: accept both.
    form = parse(schemas.StoryCreate, await read_body(request, lists=("image_urls",), files=("image_files",)))
    job = None
    if form.story_id:
        job = _find_group(state, "story", form.story_id)
        if job is None:
            return not_found(request)
    if not state.try_charge(STORY_CREATE_CREDITS):
        return insufficient_credit(request)
    storyboard = make_storyboard(form.idea, form.title, form.scene_count)
    if form.elements:
        storyboard.update(json.loads(form.elements))
    if job is None:
        generation = {
            "prompt": "",
            "motion_type": "Auto",
            "quantity": 1,
            "duration": 5,
            "loop": 1,
            "aspect_ratio": form.aspect_ratio or "16:9",
            "is_transition": False,
            "camera_control": "",
        }
        job = state.create_group("story", generation, {"title": form.title}, [], idea=form.idea)
    else:
        state.update_metadata(job, {"idea": form.idea})
    job.used_credits += STORY_CREATE_CREDITS
    state.set_storyboard(job, storyboard, step="storyboard")
    note(request, job.id, created=True, credits=STORY_CREATE_CREDITS)
    return wrapped(story_view(state, job, base_url(request)))


@router.post("/story/{story_id}/elements")
async def create_story_elements(request: Request, story_id: str) -> Response:
    """Make images of the storyboard's characters, environments and objects (step 1.5)."""
    state = get_state(request)
    job = _find_group(state, "story", story_id)
    if job is None:
        return not_found(request)
    form = parse(schemas.StoryElements, await read_body(request))
    return _story_step(request, state, job, form.storyboard, "elements", STORY_ELEMENTS_CREDITS)


@router.post("/story/{story_id}/scenes")
async def create_story_scenes(request: Request, story_id: str) -> Response:
    """Make the scene images and narrations of the storyboard (step 2)."""
    state = get_state(request)
    job = _find_group(state, "story", story_id)
    if job is None:
        return not_found(request)
    form = parse(schemas.StoryScenes, await read_body(request))
    return _story_step(request, state, job, form.storyboard, "scenes", STORY_SCENES_CREDITS)


def _story_step(
    request: Request, state: SandboxState, job: GroupJob, storyboard_text: str | None, step: str, cost: int
) -> Response:
    if not state.try_charge(cost):
        return insufficient_credit(request)
    storyboard = json.loads(storyboard_text) if storyboard_text else copy.deepcopy(job.storyboard)
    sections = STORY_ELEMENT_SECTIONS if step == "elements" else ("scenes",)
    add_image_urls(storyboard, sections, base_url(request), job.id)
    job.used_credits += cost
    state.set_storyboard(job, storyboard, step=step)
    note(request, job.id, created=True, credits=cost)
    return wrapped(story_view(state, job, base_url(request)))


@router.post("/story/{story_id}/videos")
async def create_story_videos(request: Request, story_id: str) -> Response:
    """Generate one video per storyboard scene and compose the story video (step 3)."""
    state = get_state(request)
    job = _find_group(state, "story", story_id)
    if job is None:
        return not_found(request)
    form = parse(schemas.StoryVideos, await read_body(request))
    storyboard = json.loads(form.storyboard) if form.storyboard else job.storyboard
    scenes = storyboard.get("scenes")
    if not isinstance(scenes, list) or not scenes:
        return bad_request(request, "The storyboard has no scenes.")
    cost = story_videos_cost(len(scenes), form.duration)
    if not state.try_charge(cost):
        return insufficient_credit(request)
    metadata = {"title": form.title, "webhook_url": form.webhook_url}
    state.update_metadata(job, {name: value for name, value in metadata.items() if value is not None})
    state.set_storyboard(job, storyboard, step="videos")
    job.used_credits += cost
    changes = {
        "motion_type": form.motion_type,
        "duration": form.duration,
        "loop": form.loop,
        "is_transition": form.is_transition,
    }
    state.start_group(job, changes)
    note(request, job.id, created=True, credits=cost)
    return _story_answer(request, state, job)


@router.get("/story/{story_id}")
async def get_story(request: Request, story_id: str) -> Response:
    """Return a story object (wrapping: see ``settings.story_wrapping``)."""
    state = get_state(request)
    job = _find_group(state, "story", story_id)
    if job is None:
        return not_found(request)
    note(request, job.id)
    return _story_answer(request, state, job)


@router.put("/story/{story_id}")
async def update_story(request: Request, story_id: str) -> Response:
    """Update a story's title, description or visibility (no credits)."""
    state = get_state(request)
    job = _find_group(state, "story", story_id)
    if job is None:
        return not_found(request)
    changes = parse(schemas.StoryUpdate, await read_form(request)).model_dump(exclude_none=True)
    changes.pop("additional_videos", None)
    state.update_metadata(job, changes)
    note(request, job.id)
    return wrapped(story_view(state, job, base_url(request)))


@router.post("/story/{story_id}/concat")
async def concat_story(request: Request, story_id: str) -> Response:
    """Compose the story's videos again; ``video_url`` changes when done."""
    state = get_state(request)
    job = _find_group(state, "story", story_id)
    if job is None:
        return not_found(request)
    parse(schemas.StoryConcat, await read_body(request, lists=("concat_video_urls", "audio_urls")))
    return _concat(request, state, job, story_view)


# Video API v2 and assets


@router.post("/v2/video")
async def upload_video(request: Request, video_url: str = "") -> Response:
    """Upload a video (multipart ``video_file``); the answer is a finished asset (free)."""
    state = get_state(request)
    data = await read_form(request, files=("video_file",))
    names = data.get("video_file") or []
    if not names and not video_url:
        missing = {"loc": ["body", "video_file"], "msg": "Field required", "type": "missing"}
        raise RequestValidationError([missing])
    args = {"video_file": names[0] if names else "", "video_url": video_url}
    job = state.create_asset(UPLOAD_APP_NAME, args, finished=True)
    note(request, job.id, created=True)
    return JSONResponse(asset_view(state, job, base_url(request)))


@router.post("/v2/video/estimate-credits")
async def estimate_credits(request: Request) -> Response:
    """Estimate the credits of a v2 video request without creating anything."""
    body = parse(schemas.EstimateCredits, await read_json(request))
    unit = app_unit_credits(body.app_name)
    if unit is None:
        return bad_request(request, f"Unknown app_name {body.app_name!r}.")
    total, breakdown = tool_credits(unit, body.quantity, body.duration or body.video_duration)
    note(request, None)
    return JSONResponse(
        {"total_credits": total, "breakdown": {"app_name": body.app_name, "option": body.option, **breakdown}}
    )


@router.post("/v2/video/{tool:path}")
async def run_video_tool(request: Request, tool: str) -> Response:
    """Run a v2 video tool (crop, reframe, lip-sync, ...): the answer is an asset."""
    state = get_state(request)
    model = schemas.V2_TOOL_BODIES.get(tool)
    if model is None:
        return JSONResponse({"detail": "Not Found"}, status_code=404)
    body = parse(model, await read_json(request))
    if isinstance(body, schemas.LipSync):
        if not (body.image_url or body.video_url):
            return bad_request(request, "Provide image_url or video_url.")
        if not (body.audio_url or body.prompt):
            return bad_request(request, "Provide audio_url, or prompt and voice for text to speech.")
    app_name, unit = V2_TOOLS[tool]
    quantity = int(getattr(body, "quantity", 1))
    duration = getattr(body, "duration", None) or getattr(body, "video_duration", None)
    cost, _ = tool_credits(unit, quantity, duration)
    if not state.try_charge(cost):
        return insufficient_credit(request)
    job = state.create_asset(
        app_name,
        body.model_dump(),
        finished=not body.async_mode,
        result_count=quantity,
        webhook_url=body.webhook_url or "",
    )
    note(request, job.id, created=True, credits=cost)
    return JSONResponse(asset_view(state, job, base_url(request)))


@router.get("/asset/{asset_id}")
async def get_asset(request: Request, asset_id: str) -> Response:
    """Return an asset object: bare like the v2 routes (video-v2.txt), or ``{"data": asset}`` with
    ``settings.asset_get_wrapping = "once"``; openapi.json documents the route without an example.

    Its only documented error is 422; an unknown id answers 404 ``{"message": "NOT_FOUND"}`` like the other routes.
    """
    state = get_state(request)
    job = state.assets.get(asset_id)
    if job is None:
        return not_found(request)
    note(request, job.id)
    view = asset_view(state, job, base_url(request))
    return wrapped(view) if state.settings.asset_get_wrapping == "once" else JSONResponse(view)


# Legacy image, audio and text tools, and the image and audio uploads

LEGACY_FILE_FIELDS = ("image_file", "image2_file", "mask_file", "video_file")
# What a legacy route, or an option of it, cannot run without (groups: at least one of).
LEGACY_NEEDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "/image/image-2-image": (("image_url",), ("prompt",)),
    "/image/reimagine": (("image_url",),),
    "/image/edit-image": (("image_url",),),
    "/audio/text-2-speech": (("prompt",),),
    "/audio/text-2-sound-effect": (("prompt",),),
}
LEGACY_OPTION_NEEDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "TryOn": (("image2_url",),),
    "Inpaint": (("mask_url",), ("prompt",)),
    "ReplaceBackground": (("image2_url",),),
    "RestyleBackground": (("image2_url",),),
    "Image2Prompt": (("image_url", "video_url"),),
    "RefinePrompt": (("prompt",),),
}
SUGGESTED_PROMPT = "A paper boat sails across a calm lake at sunrise, soft golden light, gentle ripples."


@router.post("/image")
@router.post("/audio")
async def upload_legacy(request: Request) -> Response:
    """Upload an image (``image_file``) or audio (``audio_file`` or ``audio_url``); the answer is a finished asset."""
    state = get_state(request)
    kind = request.url.path.strip("/")
    data = await read_form(request, files=(f"{kind}_file",))
    names = data.get(f"{kind}_file") or []
    url = data.get(f"{kind}_url", "") if kind == "audio" else ""
    if not names and not url:
        missing = {"loc": ["body", f"{kind}_file"], "msg": "Field required", "type": "missing"}
        raise RequestValidationError([missing])
    app_name, mime_type = LEGACY_UPLOADS[request.url.path]
    args = {f"{kind}_file": names[0] if names else "", f"{kind}_url": url}
    job = state.create_asset(app_name, args, finished=True, mime_type=mime_type)
    note(request, job.id, created=True)
    return wrapped(asset_view(state, job, base_url(request)))


@router.post("/image/text-2-image")
@router.post("/image/image-2-image")
@router.post("/image/reimagine")
@router.post("/image/edit-image")
@router.post("/text/prompt")
@router.post("/audio/text-2-speech")
@router.post("/audio/text-2-sound-effect")
async def run_legacy_tool(request: Request) -> Response:
    """Run a legacy tool: image routes answer ``{"data": asset}`` (openapi.json examples; finished unless
    ``async_mode``), ``text/prompt`` ``{"data": text}`` (openapi.json and platform-api-v1-legacy.txt examples).

    The audio routes answer as ``settings.audio_answer`` says: ``asset`` ``{"data": asset}`` (openapi.json 200
    examples), ``url_list`` ``{"data": [{"URL", "thumbnail_url"}]}`` (openapi.json descriptions of both routes)
    or ``legacy`` ``{"data": asset}`` with only the keys platform-api-v1-legacy.txt shows (no ``results``).
    """
    state = get_state(request)
    path = request.url.path
    if request.headers.get("content-type", "").startswith("application/json"):
        data = await read_json(request)
    else:
        data = await read_form(request, files=LEGACY_FILE_FIELDS)
    body = parse(schemas.LEGACY_TOOL_BODIES[path], data)
    problem = _legacy_problem(path, body.model_dump())
    if problem:
        return bad_request(request, problem)
    if isinstance(body, schemas.TextPrompt):
        note(request, None)
        return JSONResponse({"data": _prompt_text(body)})
    app_name, unit, mime_type = LEGACY_TOOLS[path]
    quantity = int(getattr(body, "quantity", 1))
    cost, _ = tool_credits(unit, quantity, getattr(body, "duration", None))
    if not state.try_charge(cost):
        return insufficient_credit(request)
    job = state.create_asset(
        app_name,
        body.model_dump(),
        finished=not getattr(body, "async_mode", False),
        result_count=quantity,
        webhook_url=getattr(body, "webhook_url", None) or "",
        mime_type=mime_type,
    )
    note(request, job.id, created=True, credits=cost)
    view = asset_view(state, job, base_url(request))
    if path.startswith("/audio/"):
        answer = state.settings.audio_answer
        if answer == "url_list":
            return wrapped([{"URL": url, "thumbnail_url": ""} for url in view["results"]])
        if answer == "legacy":
            return wrapped({key: view[key] for key in LEGACY_ASSET_KEYS})
    return wrapped(view)


def _legacy_problem(path: str, fields: dict[str, Any]) -> str | None:
    def given(name: str) -> bool:
        return bool(fields.get(name) or fields.get(name.replace("_url", "_file")))

    needs = list(LEGACY_NEEDS.get(path, ()))
    option = str(fields.get("option"))
    option_needs = LEGACY_OPTION_NEEDS.get(option, ())
    for group in [*needs, *option_needs]:
        if not any(given(name) for name in group):
            names = " or ".join(f"{name[:-4]}_file or {name}" if name.endswith("_url") else name for name in group)
            return f"Provide {names}" + (f" for option {option}." if group in option_needs else ".")
    return None


def _prompt_text(body: schemas.TextPrompt) -> str:
    source = (body.image_file or body.video_file or [""])[0] or body.image_url or body.video_url
    if body.option == "Image2Prompt":
        return f"A detailed, evenly lit photo of {source}."
    if body.option == "RefinePrompt" or (body.option == "InspireMe" and body.prompt):
        return f"{body.prompt.rstrip('.')}, cinematic lighting, rich detail, shallow depth of field."
    return SUGGESTED_PROMPT


# Statistics


@router.get("/customer-statistics/{start_time}/{end_time}")
async def customer_statistics(request: Request, start_time: str, end_time: str) -> Response:
    """Return usage per day between two ``YYYY-MM-DD`` dates: today's numbers, zeros for other days."""
    days: dict[str, date] = {}
    errors = []
    for name, text in (("start_time", start_time), ("end_time", end_time)):
        day = _parse_day(text)
        if day is None:
            msg = "Input should be a valid date in the format YYYY-MM-DD"
            errors.append({"loc": ["path", name], "msg": msg, "type": "date_from_datetime_parsing"})
        else:
            days[name] = day
    if errors:
        raise RequestValidationError(errors)
    if days["start_time"] > days["end_time"]:
        return bad_request(request, "start_time must not be after end_time.")
    note(request, None)
    return JSONResponse({"data": get_state(request).daily_statistics(days["start_time"], days["end_time"])})


def _parse_day(text: str) -> date | None:
    if not DATE_PATTERN.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
