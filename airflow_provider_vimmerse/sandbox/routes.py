"""The fake Vimmerse API routes: media, batch, story, v2 video tools, legacy image/audio/text tools, uploads, assets,
statistics and health.

Each route is declared with :func:`~.routing.api_route`, which looks its job up (or answers 404), validates its
body against the documents, records the request and wraps the answer; a handler only does what is particular to
its route: charge (:meth:`~.routing.Call.pay`), change the state (:mod:`~.timing`, :mod:`~.storyboards`) and
render the object (:mod:`~.views`).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, Response

from airflow_provider_vimmerse.sandbox import timing
from airflow_provider_vimmerse.sandbox.bodies import EITHER, FORM, JSON, Body, missing, read_form
from airflow_provider_vimmerse.sandbox.files import SAMPLE_MP4
from airflow_provider_vimmerse.sandbox.pricing import (
    BATCH_REGEN_FIELDS,
    LEGACY_TOOLS,
    LEGACY_UPLOADS,
    MEDIA_REGEN_FIELDS,
    UPLOAD_APP_NAME,
    V2_TOOLS,
    estimate,
    regenerating,
    tool_quantity,
)
from airflow_provider_vimmerse.sandbox.routing import Call, api_route, not_found, router
from airflow_provider_vimmerse.sandbox.state import MEDIA_TERMINAL, SUCCESS, MediaJob, SandboxSettings
from airflow_provider_vimmerse.sandbox.statistics import daily_statistics, parse_day
from airflow_provider_vimmerse.sandbox.storyboards import (
    STEP_SECTIONS,
    STORY_ELEMENT_SECTIONS,
    add_image_urls,
    chosen_storyboard,
    make_storyboard,
    scene_count,
    set_scene_images,
    set_storyboard,
)
from airflow_provider_vimmerse.sandbox.views import (
    LEGACY_ASSET_KEYS,
    asset_view,
    batch_view,
    group_view,
    media_status_view,
    media_view,
    story_view,
)

__all__ = ["router"]

METADATA_FIELDS = ("title", "description", "visibility_status", "webhook_url")
SUGGESTED_PROMPT = "A paper boat sails across a calm lake at sunrise, soft golden light, gentle ripples."
#: ``object_type`` values the documents name (media.txt "Download video", openapi.json
#: ``GET /media/{media_id}/download``): only ``bullet_video_mp4``. The 200 description says "Return bullet video,
#: gif or source files", but no document names the object_type of a gif or of the source files.
DOWNLOAD_OBJECT_TYPES = {"bullet_video_mp4": ("video/mp4", "mp4")}


# Wrappers where the documents disagree (docs/sandbox.md, "Where the documents disagree")


def media_get_wrapping(settings: SandboxSettings) -> int:
    """``GET /media/{id}``: twice (openapi.json 200 example) or once (media.txt "Get Media" example code)."""
    return 2 if settings.media_get_wrapping == "twice" else 1


def story_wrapping(settings: SandboxSettings) -> int:
    """Stories: once (story.txt, openapi.json); twice in platform-api-v1-legacy.txt (GET, videos, idea-2-video)."""
    return 2 if settings.story_wrapping == "twice" else 1


def asset_get_wrapping(settings: SandboxSettings) -> int:
    """``GET /asset/{id}``: bare like the v2 routes (video-v2.txt) or once like the legacy tools; no example."""
    return 1 if settings.asset_get_wrapping == "once" else 0


def concat_wrapping(settings: SandboxSettings) -> int:
    """Concat: ``{}`` (batch.txt, openapi.json), the bare object (legacy) or ``{"data": object}`` (openapi code)."""
    return 1 if settings.concat_answer == "wrapped" else 0


# Health


@api_route("GET", "/health", wrap=0)
async def health(call: Call) -> Any:
    """Answer that the sandbox is up (no API key needed, not recorded)."""
    return {"status": "ok"}


# Media


@api_route("POST", "/media", body=FORM)
async def create_media(call: Call) -> Any:
    """Create a media and start generating its video (openapi.json ``POST /media`` 200 example: one wrapper)."""
    if (refused := call.pay()) is not None:
        return refused
    generation = dict(call.body.values)
    metadata = {name: generation.pop(name) for name in METADATA_FIELDS}
    job = timing.create_media(call.state, generation, metadata)
    call.note(job, created=True)
    return media_view(call.state, job, call.url)


def media_not_found(call: Call) -> Response:
    """``GET /media/{id}`` of an unknown id: openapi.json's 404 ``MediaNotFoundModel``."""
    return call.error(404, "MEDIA_NOT_FOUND")


def download_not_found(call: Call) -> Response:
    """``GET /media/{id}/download`` of an unknown id: 400, as the route documents only 400 and 422."""
    return call.bad_request("MEDIA_NOT_FOUND")


@api_route("GET", "/media/{media_id}", kind="media", wrap=media_get_wrapping, missing=media_not_found)
async def get_media(call: Call) -> Any:
    """Return a media object."""
    return media_view(call.state, call.job, call.url)


@api_route("GET", "/media/{media_id}/processing-status", kind="media")
async def get_media_status(call: Call) -> Any:
    """Return the processing status and progress of a media (openapi.json example: ``{"data": {...}}``)."""
    return media_status_view(call.state, call.job)


@api_route("GET", "/media/{media_id}/done", kind="media")
async def get_media_done(call: Call) -> Any:
    """Sandbox only: answer 404 while a media runs and 200 once it ended.

    The generic ``HttpSensor`` trigger of the http provider waits exactly while its endpoint answers 404;
    the benchmarks point it here to compare it with the provider's own trigger on the same jobs.
    """
    seen = timing.media_state(call.state, call.job)
    if seen.status in MEDIA_TERMINAL:
        return {"processing_status": seen.status, "progress_percentage": seen.progress}
    return call.error(404, "NOT_DONE")


@api_route("PUT", "/media/{media_id}", kind="media", body=FORM)
@api_route("PUT", "/media/{media_id}/edit", kind="media", body=FORM)
@api_route("PUT", "/batch/{batch_id}/edit", kind="batch", body=FORM)
async def edit_job(call: Call) -> Any:
    """Update a media or a batch; regeneration fields restart it (after the stale window) and cost credits.

    The answer is ``{"data": object}`` (openapi.json ``PUT /media/{media_id}/edit`` 200 example): the object as
    it reads right after the request, so a regeneration still shows the previous run (the stale window).
    """
    is_media = isinstance(call.job, MediaJob)
    changes = call.body.changes()
    regen = regenerating(changes, MEDIA_REGEN_FIELDS if is_media else BATCH_REGEN_FIELDS)
    if (refused := call.pay()) is not None:
        return refused
    call.state.update_metadata(call.job, {name: value for name, value in changes.items() if name not in regen})
    if regen:
        (timing.restart_media if is_media else timing.start_group)(call.state, call.job, regen)
    call.note(call.job, created=bool(regen))
    return (media_view if is_media else batch_view)(call.state, call.job, call.url)


@api_route("POST", "/media/{media_id}/process", kind="media")
async def process_media(call: Call) -> Any:
    """Submit a media again with its current parameters (costs credits again); answers ``{"data": {}}``.

    openapi.json ``POST /media/{media_id}/process``: 200 example ``{"data": {}}``; 400 "Media not found or
    invalid state", so a media that is still queued or processing is refused with 400.
    """
    status = timing.media_state(call.state, call.job).status
    if status not in MEDIA_TERMINAL:
        return call.bad_request(f"Media is still running (processing_status={status}).")
    if (refused := call.pay()) is not None:
        return refused
    timing.restart_media(call.state, call.job)
    call.note(call.job, created=True)
    return {}


@api_route("GET", "/media/{media_id}/download", kind="media", missing=download_not_found)
@api_route("HEAD", "/media/{media_id}/download", kind="media", missing=download_not_found)
async def download_media(
    call: Call,
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
    if object_type not in DOWNLOAD_OBJECT_TYPES:
        known = ", ".join(DOWNLOAD_OBJECT_TYPES)
        return call.bad_request(f"Unknown object_type {object_type!r}; the sandbox serves {known}.")
    seen = timing.media_state(call.state, call.job)
    if seen.status != SUCCESS:
        return call.bad_request(f"Media is not ready to download (processing_status={seen.status}).")
    variation = _variation(call, seen, motion_type)
    if variation is None:
        return call.error(404, "NOT_FOUND")  # a video this media does not have (openapi.json 404 examples)
    media_type, extension = DOWNLOAD_OBJECT_TYPES[object_type]
    numbered = f"-{variation}" if variation else ""
    filename = f"{call.job.id}-v{len(seen.history)}{numbered}.{extension}"
    return FileResponse(SAMPLE_MP4, media_type=media_type, filename=filename)


def _variation(call: Call, seen: Any, motion_type: str | None) -> int | None:
    """
    Return which variation a download's ``motion_type`` asks for: 0 for the media's video as such (no
    ``motion_type``, or the media's own: media.txt l.1480 ``motion_type=Auto``), 1 to ``quantity`` for a
    numbered one (platform-api-v1-legacy.txt l.213 ``Auto1`` after ``Quantity=2``), None for none it has.
    With ``variation_downloads=unnumbered`` only the first form is served (the documents disagree).
    """
    generation = seen.history[-1].generation if seen.history else {}
    own = str(generation.get("motion_type") or "Auto")
    if motion_type is None or motion_type == own:
        return 0
    count = int(generation.get("quantity") or 1)
    numbered = {f"{own}{n}": n for n in range(1, count + 1)}
    if call.state.settings.variation_downloads == "numbered" and motion_type in numbered:
        return numbered[motion_type]
    return None


# Batch


@api_route("POST", "/batch", body=FORM)
async def create_batch(call: Call) -> Any:
    """Create a batch: one media per image, composed into one video."""
    if (refused := call.pay()) is not None:
        return refused
    body = call.body
    generation = {name: value for name, value in body.values.items() if name not in METADATA_FIELDS}
    # batch.txt shows every batch as "is_transition": "No" and documents no way to ask for one.
    generation.update({"camera_control": "", "image_files": [], "image_urls": [], "is_transition": False})
    metadata = {name: body[name] for name in METADATA_FIELDS}
    items = body["image_files"] or body["image_urls"]
    job = call.state.add_group("batch", generation, metadata, items, used_credits=call.credits)
    timing.start_group(call.state, job)
    call.note(job, created=True)
    return batch_view(call.state, job, call.url)


@api_route("GET", "/batch/{batch_id}", kind="batch")
async def get_batch(call: Call) -> Any:
    """Return a batch object."""
    return batch_view(call.state, call.job, call.url)


@api_route("POST", "/batch/{batch_id}/concat", kind="batch", wrap=concat_wrapping)
@api_route("POST", "/story/{story_id}/concat", kind="story", body=EITHER, wrap=concat_wrapping)
async def concat(call: Call) -> Any:
    """Compose the group's videos again; ``video_url`` changes when done (concat of an unfinished group: 400)."""
    status = timing.group_state(call.state, call.job).status
    if status != SUCCESS:
        return call.bad_request(f"Only a finished {call.job.kind} can be composed (status={status}).")
    if (refused := call.pay()) is not None:
        return refused
    timing.start_concat(call.state, call.job)
    call.note(call.job, created=True)
    if call.state.settings.concat_answer == "empty":
        return {}
    return group_view(call.state, call.job, call.url)


# Story


def _story_generation(motion_type: str, duration: int, aspect_ratio: str, is_transition: bool) -> dict[str, Any]:
    return {
        "prompt": "",
        "motion_type": motion_type,
        "quantity": 1,
        "duration": duration,
        "loop": 1,
        "aspect_ratio": aspect_ratio,
        "is_transition": is_transition,
        "camera_control": "",
    }


@api_route("POST", "/story/idea-2-video", body=EITHER, wrap=story_wrapping)
@api_route("POST", "/story/url-2-video", body=JSON, wrap=story_wrapping)
async def idea_to_video(call: Call) -> Any:
    """Create a story from an idea, or from a web page, and generate its video in one step.

    openapi.json ``Idea2VideoRequest`` is JSON; story.txt's examples send a form (``data=payload``): both are read.
    ``POST /story/url-2-video`` takes the same fields as JSON only (openapi.json ``Url2VideoRequest``, "The API
    accepts JSON body"); its ``idea`` is the "URL of the webpage to scrape", so an idea without an http(s) URL is
    answered 400 (the sandbox's reading: nothing to scrape; the route documents 400 ``BAD_REQUEST``).
    """
    body = call.body
    if call.path == "/story/url-2-video" and not _page_url(body["idea"]):
        return call.bad_request("idea must contain the URL of the web page to scrape (http:// or https://).")
    if (refused := call.pay()) is not None:
        return refused
    storyboard = make_storyboard(body["idea"], body["title"], body["scene_count"])
    return _start_one_step_story(call, storyboard)


@api_route("POST", "/story/images-2-video", body=JSON, wrap=story_wrapping)
async def images_to_video(call: Call) -> Any:
    """Create a story from images, one scene each, and generate its video in one step.

    openapi.json ``Images2VideoRequest`` (JSON): ``image_urls`` required (``minItems: 1``), ``idea`` optional with a
    default; no ``scene_count`` (the description's example reads ``scene_count`` back, else ``len(image_urls)``).
    Each scene is drawn from its image: the scene's ``image_url`` is the given URL (the sandbox does not fetch it).
    """
    if (refused := call.pay()) is not None:
        return refused
    body = call.body
    storyboard = make_storyboard(body["idea"], body["title"], len(body["image_urls"]))
    set_scene_images(storyboard, body["image_urls"])
    return _start_one_step_story(call, storyboard)


def _page_url(idea: str) -> bool:
    return any(word.startswith(("http://", "https://")) for word in idea.split())


def _start_one_step_story(call: Call, storyboard: dict[str, Any]) -> Any:
    """Create the story of a one-step route with its storyboard, start its scene videos, answer the story."""
    body = call.body
    generation = _story_generation(
        body["video_tool"], body["scene_duration"], body["aspect_ratio"], body["is_transition"]
    )
    metadata = {"title": body["title"], "webhook_url": body["webhook_url"]}
    job = call.state.add_group("story", generation, metadata, [], idea=body["idea"], used_credits=call.credits)
    add_image_urls(storyboard, (*STORY_ELEMENT_SECTIONS, "scenes"), call.url, job.id)
    set_storyboard(call.state, job, storyboard, step="videos")
    timing.start_group(call.state, job)
    call.note(job, created=True)
    return story_view(call.state, job, call.url)


@api_route("POST", "/story", body=EITHER)
async def create_story(call: Call) -> Any:
    """Create a story and its storyboard from an idea (advanced flow, step 1), or redo the storyboard of one.

    openapi.json and story.txt send a form; platform-api-v1-legacy.txt sends JSON: both are read.
    """
    body = call.body
    if body["story_id"]:
        call.job = call.state.find("story", body["story_id"])
        if call.job is None:
            return not_found(call)
    if (refused := call.pay()) is not None:
        return refused
    storyboard = make_storyboard(body["idea"], body["title"], body["scene_count"])
    if body["elements"]:
        storyboard.update(json.loads(body["elements"]))
    job = call.job
    if job is None:
        generation = _story_generation("Auto", 5, body["aspect_ratio"] or "16:9", False)
        job = call.state.add_group("story", generation, {"title": body["title"]}, [], body["idea"], call.credits)
    else:
        call.state.update_metadata(job, {"idea": body["idea"]})
    set_storyboard(call.state, job, storyboard, step="storyboard")
    call.note(job, created=True)
    return story_view(call.state, job, call.url)


@api_route("POST", "/story/{story_id}/elements", kind="story", body=EITHER)
@api_route("POST", "/story/{story_id}/scenes", kind="story", body=EITHER)
async def draw_story_step(call: Call) -> Any:
    """Make the images of the storyboard's characters, environments and objects (``/elements``, step 1.5) or
    of its scenes and narrations (``/scenes``, step 2)."""
    if (refused := call.pay()) is not None:
        return refused
    step = call.path.rsplit("/", 1)[-1]
    storyboard = chosen_storyboard(call.body["storyboard"], call.job)
    add_image_urls(storyboard, STEP_SECTIONS[step], call.url, call.job.id)
    set_storyboard(call.state, call.job, storyboard, step=step)
    call.note(call.job, created=True)
    return story_view(call.state, call.job, call.url)


@api_route("POST", "/story/{story_id}/videos", kind="story", body=EITHER, wrap=story_wrapping)
async def create_story_videos(call: Call) -> Any:
    """Generate one video per storyboard scene and compose the story video (step 3)."""
    body, job = call.body, call.job
    storyboard = chosen_storyboard(body["storyboard"], job)
    if not scene_count(storyboard):
        return call.bad_request("The storyboard has no scenes.")
    if (refused := call.pay()) is not None:
        return refused
    call.state.update_metadata(job, {name: body[name] for name in ("title", "webhook_url") if name in body.given})
    set_storyboard(call.state, job, storyboard, step="videos")
    timing.start_group(
        call.state, job, {name: body[name] for name in ("motion_type", "duration", "loop", "is_transition")}
    )
    call.note(job, created=True)
    return story_view(call.state, job, call.url)


@api_route("GET", "/story/{story_id}", kind="story", wrap=story_wrapping)
async def get_story(call: Call) -> Any:
    """Return a story object."""
    return story_view(call.state, call.job, call.url)


@api_route("PUT", "/story/{story_id}", kind="story", body=FORM)
async def update_story(call: Call) -> Any:
    """Update a story's title, description, visibility or additional videos (no credits: no 402 is documented).

    openapi.json ``Body_update_story_story__story_id__put``: a form, no field required; ``additional_videos`` is
    "JSON array of additional video URLs to associate with the story. For internal use only." It is checked as
    JSON array text (``JSON_TEXT_LISTS``) and kept on the story as a list; no document shows it in a story object
    (``StoryResponse`` and the 200 example have no such key), so the answer does not show it either.
    """
    changes = call.body.changes()
    if "additional_videos" in changes:
        changes["additional_videos"] = json.loads(changes["additional_videos"])
    call.state.update_metadata(call.job, changes)
    return story_view(call.state, call.job, call.url)


# Uploads, video API v2, assets and the legacy image, audio and text tools


async def _upload(call: Call, kind: str, app_name: str, mime_type: str, url: str = "") -> Any:
    # An uploaded file (its name is kept) or a URL becomes a finished asset; uploads are free. Audio takes a URL
    # in the form (openapi.json Body_upload_audio_asset_audio_post), a video in the query (the sandbox's own).
    data = await read_form(call.request, files=(f"{kind}_file",))
    names = data.get(f"{kind}_file") or []
    url = url or (data.get("audio_url", "") if kind == "audio" else "")
    if not names and not url:
        raise missing(f"{kind}_file")
    args = {f"{kind}_file": names[0] if names else "", f"{kind}_url": url}
    job = timing.create_asset(call.state, app_name, args, finished=True, mime_type=mime_type)
    call.note(job, created=True)
    return asset_view(call.state, job, call.url)


@api_route("POST", "/v2/video", wrap=0)
async def upload_video(call: Call, video_url: str = "") -> Any:
    """Upload a video (multipart ``video_file``); the answer is a finished, bare asset."""
    return await _upload(call, "video", UPLOAD_APP_NAME, "video/mp4", video_url)


@api_route("POST", "/image")
@api_route("POST", "/audio")
async def upload_legacy(call: Call) -> Any:
    """Upload an image (``image_file``) or audio (``audio_file`` or ``audio_url``); answers ``{"data": asset}``."""
    app_name, mime_type = LEGACY_UPLOADS[call.path]
    return await _upload(call, call.path.strip("/"), app_name, mime_type)


@api_route("POST", "/v2/video/estimate-credits", body=JSON, wrap=0)
async def estimate_credits(call: Call) -> Any:
    """Estimate the credits of a v2 video request without creating anything (its fields are kept for tests)."""
    call.state.estimates.append(call.body.changes())
    total, breakdown = estimate(call.body)
    return {"total_credits": total, "breakdown": breakdown}


async def run_tool(call: Call) -> Any:
    """Run a v2 video tool (bare asset) or a legacy image or audio tool (``{"data": asset}``).

    Finished at once unless ``async_mode`` (v2 default true, legacy default false). The audio routes answer as
    ``settings.audio_answer`` says: ``asset`` ``{"data": asset}`` (openapi.json 200 examples), ``url_list``
    ``{"data": [{"URL", "thumbnail_url"}]}`` (openapi.json descriptions of both routes) or ``legacy``
    ``{"data": asset}`` with only the keys platform-api-v1-legacy.txt shows (no ``results``).
    """
    if (refused := call.pay()) is not None:
        return refused
    body = call.body
    tool = call.path.removeprefix("/v2/video/")
    app_name, mime_type = (V2_TOOLS[tool][0], "video/mp4") if tool in V2_TOOLS else _legacy_tool(call.path)
    job = timing.create_asset(
        call.state,
        app_name,
        body.values,
        finished=not body.values.get("async_mode", False),
        result_count=tool_quantity(body),
        webhook_url=body.values.get("webhook_url") or "",
        mime_type=mime_type,
    )
    call.note(job, created=True)
    view = asset_view(call.state, job, call.url)
    answer = call.state.settings.audio_answer
    if call.path.startswith("/audio/") and answer == "url_list":
        return [{"URL": url, "thumbnail_url": ""} for url in view["results"]]
    if call.path.startswith("/audio/") and answer == "legacy":
        return {key: view[key] for key in LEGACY_ASSET_KEYS}
    return view


def _legacy_tool(path: str) -> tuple[str, str]:
    app_name, _, mime_type = LEGACY_TOOLS[path]
    return app_name, mime_type


for _tool in V2_TOOLS:
    api_route("POST", f"/v2/video/{_tool}", body=JSON, wrap=0)(run_tool)
for _path in LEGACY_TOOLS:
    api_route("POST", _path, body=EITHER)(run_tool)


@api_route("POST", "/text/prompt", body=EITHER)
async def write_prompt(call: Call) -> Any:
    """Answer a prompt text, ``{"data": text}`` (openapi.json and platform-api-v1-legacy.txt examples); free."""
    return _prompt_text(call.body)


def _prompt_text(body: Body) -> str:
    source = (body["image_file"] or body["video_file"] or [""])[0] or body["image_url"] or body["video_url"]
    if body["option"] == "Image2Prompt":
        return f"A detailed, evenly lit photo of {source}."
    if body["option"] == "RefinePrompt" or (body["option"] == "InspireMe" and body["prompt"]):
        return f"{body['prompt'].rstrip('.')}, cinematic lighting, rich detail, shallow depth of field."
    return SUGGESTED_PROMPT


@api_route("GET", "/asset/{asset_id}", kind="asset", wrap=asset_get_wrapping)
async def get_asset(call: Call) -> Any:
    """Return an asset object; its only documented error is 422, an unknown id answers 404 like the other routes."""
    return asset_view(call.state, call.job, call.url)


# Statistics


@api_route("GET", "/customer-statistics/{start_time}/{end_time}")
async def customer_statistics(call: Call, start_time: str, end_time: str) -> Any:
    """Return usage per day between two ``YYYY-MM-DD`` dates: today's numbers, zeros for other days."""
    start, end = parse_day(start_time), parse_day(end_time)
    if start is None or end is None:
        msg = "Input should be a valid date in the format YYYY-MM-DD"
        bad = [name for name, day in (("start_time", start), ("end_time", end)) if day is None]
        raise RequestValidationError(
            [{"loc": ["path", name], "msg": msg, "type": "date_from_datetime_parsing"} for name in bad]
        )
    if start > end:
        return call.bad_request("start_time must not be after end_time.")
    return daily_statistics(call.state, start, end)
