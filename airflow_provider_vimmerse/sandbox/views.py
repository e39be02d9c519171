"""JSON shapes of sandbox objects (media, batch, story, asset, workflow, finetune), following the API documentation
examples.

Output URLs point at the sandbox itself (``<base_url>/_sandbox/files/...``), so a client can download them.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_vimmerse.sandbox.files import EXTENSIONS, file_url
from airflow_provider_vimmerse.sandbox.files import SAMPLE_MP4 as SAMPLE_MP4  # re-exported: tests and plugins
from airflow_provider_vimmerse.sandbox.files import SAMPLE_PNG as SAMPLE_PNG
from airflow_provider_vimmerse.sandbox.state import (
    AssetJob,
    GroupJob,
    MediaJob,
    SandboxState,
    WorkflowJob,
    format_time,
)
from airflow_provider_vimmerse.sandbox.timing import (
    GroupState,
    MediaRun,
    MediaState,
    finetune_done,
    group_state,
    media_state,
    run_state,
)

#: Output resolution by aspect ratio, for ``video_history[].resolution`` (openapi.json GET /media/{media_id}
#: 200 example shows ``[1280, 704]`` for 16:9; the exact sizes here are the sandbox's own).
RESOLUTIONS = {"16:9": [1280, 720], "9:16": [720, 1280], "4:3": [960, 720], "3:4": [720, 960], "1:1": [960, 960]}
SERVICE_NAME = "SandboxMotion"
SERVICE_VERSION = "sandbox:1"


def media_view(state: SandboxState, job: MediaJob, base_url: str, now: float | None = None) -> dict[str, Any]:
    """Return a media object as ``GET /media/{id}`` shows it (without the ``data`` wrappers).

    Keys, types and order follow the openapi.json ``GET /media/{media_id}`` 200 example.

    :param state: the sandbox state.
    :param job: the media.
    :param base_url: the sandbox URL as the client sees it.
    :param now: the time to look at; default now.
    """
    seen = media_state(state, job, now)
    gen = seen.run.generation
    images = list(gen.get("image_files") or []) + list(gen.get("image_urls") or [])
    view: dict[str, Any] = {
        "id": job.id,
        "title": job.title,
        "description": job.description,
        "rating": job.rating,
        "customer_id": state.settings.customer_id,
        "batch_id": job.batch_id,
        "base_url": f"{base_url}/_sandbox/files",
        # openapi.json example: "No"; two images make a transition (media.txt "Two Images").
        "is_transition": "Yes" if len(images) == 2 else "No",
        # openapi.json examples: "0" while queued (POST /media), "5.0" once a video exists (GET /media/{id}).
        "duration_time": f"{float(seen.history[-1].generation['duration'])}" if seen.history else "0",
        "progress_percentage": seen.progress,  # an integer in every media object example
        "processing_status": seen.status,
        "visibility_status": job.visibility_status,
        "file_map": _file_map(images),
        "submit_params": _submit_params(),
        "pose_preset": _pose_preset(gen),
        "bullet_version": str(len(seen.history)),  # a string in every example ("0", "1")
        "video_history": [_history_entry(run, index + 1, state) for index, run in enumerate(seen.history)],
        "result": _result(state, job, seen, base_url),
        "webhook_url": job.webhook_url,
        "nsfw": "0",
    }
    if seen.history:
        # Only the GET example (a media with a finished video) has these; the POST /media example has not.
        view["service_name"] = SERVICE_NAME
        view["service_version"] = SERVICE_VERSION
    view["created_at"] = format_time(job.created_at)
    view["updated_at"] = format_time(seen.updated_at)
    view["version"] = "2"
    return view


def media_video_name(job: MediaJob, bullet_version: int, index: int = 1) -> str:
    """Return the file name of one generated video of a media (versioned, so a new run gets a new name).

    :param job: the media.
    :param bullet_version: the generation the video belongs to.
    :param index: the variation number, from 1.
    """
    return f"{job.id}-v{bullet_version}-{index}.mp4"


def _result(state: SandboxState, job: MediaJob, seen: MediaState, base_url: str) -> list[dict[str, Any]]:
    # openapi.json and platform-api-v1-legacy.txt examples: "result": [] even on success (the video is at
    # GET /media/{id}/download). media.txt "Get Media" example code reads result[i].get("url") instead.
    if state.settings.media_outputs != "result" or not seen.history:
        return []
    last = seen.history[-1]
    count = int(last.generation.get("quantity") or 1)
    version = len(seen.history)
    return [{"url": file_url(base_url, media_video_name(job, version, n + 1))} for n in range(count)]


def _file_map(images: list[str]) -> list[dict[str, str]]:
    # openapi.json GET /media/{media_id} 200 example: [{"FileType": "Texture", "FileName": ...}].
    return [{"FileType": "Texture", "FileName": name} for name in images]


def _submit_params() -> dict[str, Any]:
    # openapi.json GET /media/{media_id} 200 example.
    return {"native_audio": True, "pipeline_preset": "Fast", "file_size": "", "scale_factor": "1"}


def _pose_preset(gen: dict[str, Any]) -> dict[str, str]:
    # openapi.json GET /media/{media_id} 200 example: one object (the legacy POST example shows a list).
    params = (
        f"Prompt={gen['prompt']}|CameraPath={gen.get('camera_control') or ''}|Quantity={gen['quantity']}"
        f"|MotionAmount=5|MotionLength={gen['duration']}|Loop={gen['loop']}"
        f"|AspectRatio={gen.get('aspect_ratio') or '16:9'}"
    )
    return {"MotionType": gen["motion_type"], "Params": params}


def _history_entry(run: MediaRun, version: int, state: SandboxState) -> dict[str, Any]:
    # openapi.json GET /media/{media_id} 200 example, video_history[0]: the same keys in the same order.
    gen = run.generation
    images = list(gen.get("image_files") or []) + list(gen.get("image_urls") or [])
    return {
        "pose_preset": _pose_preset(gen),
        "file_map": _file_map(images),
        "service_name": SERVICE_NAME,
        "service_seeds": [state.settings.seed + run.number],
        "created_at": format_time(run.ends_at),
        "service_version": SERVICE_VERSION,
        "bullet_version": str(version),
        "resolution": RESOLUTIONS.get(gen.get("aspect_ratio") or "16:9", [1280, 720]),
        "submit_params": _submit_params(),
    }


def media_status_view(state: SandboxState, job: MediaJob, now: float | None = None) -> dict[str, Any]:
    """Return the body of ``GET /media/{id}/processing-status`` (without the ``data`` wrapper).

    openapi.json example: ``{"progress_percentage": "100", "processing_status": "success"}`` (a string);
    its field table says integer. ``settings.status_progress`` picks ``string``, ``integer`` or ``mixed``.

    :param state: the sandbox state.
    :param job: the media.
    :param now: the time to look at; default now.
    """
    seen = media_state(state, job, now)
    mode = state.settings.status_progress
    shown: int | str = seen.progress
    if mode == "string" or (mode == "mixed" and seen.is_success):
        shown = str(seen.progress)
    return {"progress_percentage": shown, "processing_status": seen.status}


def batch_view(state: SandboxState, job: GroupJob, base_url: str, now: float | None = None) -> dict[str, Any]:
    """Return a batch object as ``GET /batch/{id}`` shows it (without the ``data`` wrapper).

    Keys follow the batch.txt "Get Batch" example, plus ``video_url`` (batch.txt: "you can get composed
    video from video_url"), ``image_urls``, ``aspect_ratio``, ``webhook_url`` and ``used_credits`` (openapi.json
    ``Batch`` schema).

    :param state: the sandbox state.
    :param job: the batch.
    :param base_url: the sandbox URL as the client sees it.
    :param now: the time to look at; default now.
    """
    view = _group_view(state, job, base_url, group_state(state, job, now))
    gen = job.generation
    params = (
        f"Prompt={gen['prompt']}|CameraPath=|Quantity={gen['quantity']}|MotionAmount=5"
        f"|MotionLength={gen['duration']}|Loop={gen['loop']}"
    )
    view.update(
        {
            "filenames": [item for item in job.items if not item.startswith(("http://", "https://"))],
            "image_urls": [item for item in job.items if item.startswith(("http://", "https://"))],
            "upload_urls": {},
            "pose_preset": [{"MotionType": gen["motion_type"], "Params": params}],  # batch.txt example
            "submit_params": {
                "scale_factor": "1",
                "pipeline_preset": "Fast",
                "file_size": "",
                "sound_effects": gen["sound_effects"],
            },
            "aspect_ratio": gen.get("aspect_ratio") or "16:9",  # openapi.json Batch schema
        }
    )
    return view


def story_view(state: SandboxState, job: GroupJob, base_url: str, now: float | None = None) -> dict[str, Any]:
    """Return a story object as ``GET /story/{id}`` shows it (without the ``data`` wrapper).

    Keys follow the story.txt "idea-2-video" example, plus ``video_url``, ``used_credits`` and ``webhook_url``
    (openapi.json ``StoryResponse`` example and ``Batch`` schema; ``Batch`` is the 200 schema of
    ``POST /story/{story_id}/concat`` and ``DELETE /story/{story_id}``, and its ``webhook_url`` is titled
    "Webhook URL is called after batch or story is finished"). Each ``medias`` entry carries ``source``, the
    scene it was made from (openapi.json ``POST /story/{story_id}/videos`` 200 example:
    ``{"media_id", "source": {"image_url", "prompt", "narration_url"}, "item"}``).

    :param state: the sandbox state.
    :param job: the story.
    :param base_url: the sandbox URL as the client sees it.
    :param now: the time to look at; default now.
    """
    seen = group_state(state, job, now)
    view = _group_view(state, job, base_url, seen)
    gen = job.generation
    view.update(
        {
            "is_highlights": "",
            "medias": [_story_media(job, base_url, entry) for entry in view["medias"]],
            "story_version": max(0, seen.generation_number - 1),
            "image_urls": [],
            "pose_preset": [  # story.txt idea-2-video example
                {
                    "MotionType": gen["motion_type"],
                    "Params": f"Prompt=|Model=|Quantity=1|MotionLength={gen['duration']}|Loop=1",
                }
            ],
            "submit_params": {
                "scale_factor": "1",
                "pipeline_preset": "Fast",
                "file_size": "",
                "sound_effects": "No",
                "extend_video": "No",
                "aspect_ratio": gen.get("aspect_ratio") or "16:9",
            },
            "show_title": False,
            "narrator": "Rachel",
            "background_music": True,
        }
    )
    return view


def group_view(state: SandboxState, job: GroupJob, base_url: str, now: float | None = None) -> dict[str, Any]:
    """Return a batch or a story object (:func:`batch_view` or :func:`story_view`, by the group's kind).

    :param state: the sandbox state.
    :param job: the batch or story.
    :param base_url: the sandbox URL as the client sees it.
    :param now: the time to look at; default now.
    """
    view = batch_view if job.kind == "batch" else story_view
    return view(state, job, base_url, now)


def _story_media(job: GroupJob, base_url: str, entry: dict[str, Any]) -> dict[str, Any]:
    """Return a story ``medias`` entry with the ``source`` of its scene, in the openapi.json example's key order.

    openapi.json ``POST /story/{story_id}/videos`` 200 example: ``source`` holds the scene's ``image_url``,
    its video ``prompt`` and its ``narration_url``. The sandbox's items are ``scene_<n>``; the prompt is the
    scene's ``motion_description`` and the narration a sandbox MP3.
    """
    item = str(entry["item"])
    number = item.removeprefix("scene_")
    scenes = job.storyboard.get("scenes") if isinstance(job.storyboard, dict) else None
    scene: dict[str, Any] = {}
    if number.isdigit() and isinstance(scenes, list) and 0 < int(number) <= len(scenes):
        found = scenes[int(number) - 1]
        scene = found if isinstance(found, dict) else {}
    source = {
        "image_url": scene.get("image_url") or file_url(base_url, f"{job.id}-scenes-{number}.png"),
        "prompt": str(scene.get("motion_description") or scene.get("video_description") or ""),
        "narration_url": scene.get("narration_url") or file_url(base_url, f"{job.id}-narration-{number}.mp3"),
    }
    return {"media_id": entry["media_id"], "source": source, "item": item}


def asset_view(state: SandboxState, job: AssetJob, base_url: str, now: float | None = None) -> dict[str, Any]:
    """Return an asset object as ``GET /asset/{id}``, the v2 routes and the legacy tools show it (no wrapper).

    Keys and order follow the openapi.json asset example (``POST /image`` 200 and every legacy tool):
    ``id, customer_id, primary_user_id, args, results, thumbnails, status, mime_type, app_name, created_at,
    updated_at, history``; video-v2.txt names ``status`` and ``results``.

    :param state: the sandbox state.
    :param job: the asset.
    :param base_url: the sandbox URL as the client sees it.
    :param now: the time to look at; default now.
    """
    seen = run_state(state, job, now)
    results = []
    if seen.is_success:
        extension = EXTENSIONS.get(job.mime_type, "bin")
        results = [file_url(base_url, f"{job.id}-{index + 1}.{extension}") for index in range(job.result_count)]
    return {
        "id": job.id,
        "customer_id": state.settings.customer_id,
        "primary_user_id": state.settings.customer_id,
        "args": job.args,
        "results": results,
        "thumbnails": [],
        "status": seen.status,
        "mime_type": job.mime_type,
        "app_name": job.app_name,
        "created_at": format_time(job.created_at),
        "updated_at": format_time(seen.updated_at),
        "history": [],
    }


#: The asset keys of the platform-api-v1-legacy.txt tool answers (``/audio/text-2-speech``, ``/video/*``).
LEGACY_ASSET_KEYS = ("id", "customer_id", "primary_user_id", "args", "mime_type", "created_at", "updated_at")


def _group_view(state: SandboxState, job: GroupJob, base_url: str, seen: GroupState) -> dict[str, Any]:
    transition = bool(job.generation.get("is_transition"))
    return {
        "id": job.id,
        "email": "",
        "manager_id": state.settings.customer_id,
        "customer_id": state.settings.customer_id,
        "title": job.title,
        "description": job.description,
        "visibility_status": job.visibility_status,
        "idea": job.idea,
        "storyboard": job.storyboard,
        "scenes": [],
        "message": job.message if seen.is_failure else "",
        "note": "",
        "feedback": "",
        # "No" in batch.txt and story.txt, false in openapi.json story examples: settings.group_is_transition.
        "is_transition": transition
        if state.settings.group_is_transition == "boolean"
        else ("Yes" if transition else "No"),
        "files": [],
        # A story's items follow its storyboard and may change before the next videos run.
        "medias": [{"media_id": m, "item": i} for m, i in zip(seen.media_ids, job.items, strict=False)],
        "finished_medias": seen.finished,
        "failed_medias": seen.failed,
        "progress_percentage": seen.progress,
        "status": seen.status,
        # openapi.json Batch schema: a string, default ""; empty until composition is done (openapi.json
        # POST /story/{story_id}/concat: "video_url field will be populated when composition completes").
        "video_url": file_url(base_url, seen.video_name) if seen.video_name else "",
        "webhook_url": job.webhook_url,
        "used_credits": job.used_credits,
        "generate_type": "GENERATE_VIDEO",
        "version": "2",
        "created_at": format_time(job.created_at),
        "updated_at": format_time(seen.updated_at),
    }


#: The steps of the openapi.json workflow example's ``completions`` (template ``overlay_gray_5443``), with the
#: MIME type of each step's output. The sandbox shows them for every template.
WORKFLOW_FLOWS = (
    ("crop_to_content", "image/png"),
    ("replace_alpha_with_gray", "image/png"),
    ("upscale", "image/png"),
    ("create_media", "video/mp4"),
    ("video_overlay", "video/mp4"),
)


def workflow_view(state: SandboxState, job: WorkflowJob, base_url: str, now: float | None = None) -> dict[str, Any]:
    """Return a workflow object as ``GET /workflow/{id}`` shows it (without the ``data`` wrapper).

    Keys, types and order follow the openapi.json workflow example (the same for POST, GET, PUT and DELETE):
    ``template_id`` is shown as ``model``, ``image_urls`` as ``images``, ``options`` as an object. While it runs,
    ``completions`` grows one step at a time and ``result`` and ``media_result`` are empty.

    :param state: the sandbox state.
    :param job: the workflow.
    :param base_url: the sandbox URL as the client sees it.
    :param now: the time to look at; default now.
    """
    seen = run_state(state, job, now)
    steps = int(seen.fraction * len(WORKFLOW_FLOWS))
    completions = [
        {"result": [{"content_type": mime, "url": file_url(base_url, f"{job.id}-{flow}.{EXTENSIONS[mime]}")}],
         "flow": flow}
        for flow, mime in WORKFLOW_FLOWS[:steps]
    ]  # fmt: skip
    finished_at = job.started_at + job.run_seconds
    result: list[dict[str, Any]] = []
    media_result: list[dict[str, Any]] = []
    if seen.is_success:
        url = file_url(base_url, f"{job.id}.mp4")
        result = [{"content_type": "video/mp4", "url": url}]
        # openapi.json example: {"updated_at": "2025-04-11 18:42:51+00:00", "size": 411634, "url": ...}
        media_result = [{"updated_at": format_time(finished_at), "size": SAMPLE_MP4.stat().st_size, "url": url}]
    view: dict[str, Any] = {
        "id": job.id,
        "title": job.title,
        "description": job.description,
        "visibility_status": job.visibility_status,
        "model": job.template_id,
        "options": job.options,
        "images": job.images,
        "primary_user_id": state.settings.customer_id,
        "customer_id": state.settings.customer_id,
        "processing_status": seen.status,
        "progress_percentage": seen.progress,
        "completions": completions,
        "result": result,
        "media_result": media_result,
        "created_at": format_time(job.created_at),
        "updated_at": format_time(seen.updated_at),
    }
    return view


def finetune_samples(state: SandboxState, job: AssetJob, base_url: str, now: float | None = None) -> list[Any]:
    """Return what ``GET /finetune/{trigger_word}`` lists: no sample until the training is done, then its samples.

    openapi.json example ``{"data": [{"URL": ".../output.png"}]}``; no status field is documented, so none is shown,
    and a failed training keeps an empty list (the documents name no way to tell).

    :param state: the sandbox state.
    :param job: the training.
    :param base_url: the sandbox URL as the client sees it.
    :param now: the time to look at; default now.
    """
    if not finetune_done(state, job, now):
        return []
    return [{"URL": file_url(base_url, f"{job.id}-sample{index + 1}.png")} for index in range(job.result_count)]
