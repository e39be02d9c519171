"""JSON shapes of sandbox objects (media, batch, story, asset), following the API documentation examples.

Output URLs point at the sandbox itself (``<base_url>/_sandbox/files/...``), so a client can download them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow_provider_vimmerse.sandbox.state import (
    FAIL,
    SUCCESS,
    AssetJob,
    GroupJob,
    MediaJob,
    SandboxState,
    format_time,
)

ASSETS_DIR = Path(__file__).parent / "assets"
SAMPLE_MP4 = ASSETS_DIR / "sample.mp4"
SAMPLE_PNG = ASSETS_DIR / "sample.png"
SAMPLE_MP3 = ASSETS_DIR / "sample.mp3"
#: File name extension of an asset's outputs, by MIME type.
EXTENSIONS = {"video/mp4": "mp4", "image/png": "png", "audio/mpeg": "mp3"}


def file_url(base_url: str, name: str) -> str:
    """Return the URL of an output file served by the sandbox.

    :param base_url: the sandbox URL as the client sees it, without a trailing slash.
    :param name: the file name; ``.mp4`` names serve the sample video, ``.png`` names the sample image.
    """
    return f"{base_url}/_sandbox/files/{name}"


def add_image_urls(storyboard: dict[str, Any], sections: tuple[str, ...], base_url: str, prefix: str) -> None:
    """Give every element of some storyboard sections an ``image_url`` (a sandbox PNG) unless it has one.

    :param storyboard: the storyboard to change in place.
    :param sections: the list sections to fill, e.g. ``("characters", "environments", "objects")``.
    :param base_url: the sandbox URL as the client sees it.
    :param prefix: start of the image file names (the story id).
    """
    for section in sections:
        elements = storyboard.get(section)
        if not isinstance(elements, list):
            continue
        for index, element in enumerate(elements):
            if isinstance(element, dict) and not element.get("image_url"):
                element["image_url"] = file_url(base_url, f"{prefix}-{section}-{index + 1}.png")


def media_view(state: SandboxState, job: MediaJob, base_url: str, now: float | None = None) -> dict[str, Any]:
    """Return a media object as ``GET /media/{id}`` shows it (without the ``data`` wrapper).

    :param state: the sandbox state.
    :param job: the media.
    :param base_url: the sandbox URL as the client sees it.
    :param now: the time to look at; default now.
    """
    now = state.clock() if now is None else now
    status, progress = state.media_status(job, now)
    gen = job.generation
    images = list(gen.get("image_files") or []) + list(gen.get("image_urls") or [])
    aspect_ratio = gen.get("aspect_ratio") or "16:9"
    result = []
    if status == SUCCESS:
        for index in range(gen["quantity"]):
            url = file_url(base_url, f"{job.id}-v{job.run}-{index + 1}.mp4")
            result.append({"url": url, "motion_type": gen["motion_type"], "aspect_ratio": aspect_ratio})
    params = (
        f"Prompt={gen['prompt']}|CameraPath={gen.get('camera_control') or ''}|Quantity={gen['quantity']}"
        f"|MotionAmount=5|MotionLength={gen['duration']}|Loop={gen['loop']}|AspectRatio={aspect_ratio}"
    )
    pose_preset = {"MotionType": gen["motion_type"], "Params": params}
    submit_params = {"native_audio": True, "pipeline_preset": "Fast", "file_size": "", "scale_factor": "1"}
    return {
        "id": job.id,
        "title": job.title,
        "description": job.description,
        "rating": job.rating,
        "customer_id": state.settings.customer_id,
        "batch_id": job.batch_id,
        "base_url": f"{base_url}/_sandbox/files",
        "is_transition": "Yes" if len(images) == 2 else "No",
        "duration_time": f"{float(gen['duration'])}" if status == SUCCESS else "0",
        "progress_percentage": progress,
        "processing_status": status,
        "visibility_status": job.visibility_status,
        "file_map": [{"FileType": "Texture", "FileName": name} for name in images],
        "submit_params": submit_params,
        "pose_preset": pose_preset,
        "bullet_version": str(job.run - 1),
        "video_history": [],
        "result": result,
        "webhook_url": job.webhook_url,
        "nsfw": "0",
        "message": job.message if status in (FAIL, "cancel") else "",
        "created_at": format_time(job.created_at),
        "updated_at": format_time(_updated_at(job.updated_at, job.started_at + job.run_seconds, now)),
        "version": "2",
    }


def media_status_view(state: SandboxState, job: MediaJob, now: float | None = None) -> dict[str, Any]:
    """Return the body of ``GET /media/{id}/processing-status``: progress is the string ``"100"`` on success.

    :param state: the sandbox state.
    :param job: the media.
    :param now: the time to look at; default now.
    """
    status, progress = state.media_status(job, now)
    return {"progress_percentage": "100" if status == SUCCESS else progress, "processing_status": status}


def batch_view(state: SandboxState, job: GroupJob, base_url: str, now: float | None = None) -> dict[str, Any]:
    """Return a batch object as ``GET /batch/{id}`` shows it (without the ``data`` wrapper).

    :param state: the sandbox state.
    :param job: the batch.
    :param base_url: the sandbox URL as the client sees it.
    :param now: the time to look at; default now.
    """
    view = _group_view(state, job, base_url, now)
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
            "pose_preset": [{"MotionType": gen["motion_type"], "Params": params}],
            "submit_params": {
                "scale_factor": "1",
                "pipeline_preset": "Fast",
                "file_size": "",
                "sound_effects": gen["sound_effects"],
                "aspect_ratio": gen.get("aspect_ratio") or "16:9",
            },
        }
    )
    return view


def story_view(state: SandboxState, job: GroupJob, base_url: str, now: float | None = None) -> dict[str, Any]:
    """Return a story object as ``GET /story/{id}`` shows it (without the ``data`` wrapper).

    :param state: the sandbox state.
    :param job: the story.
    :param base_url: the sandbox URL as the client sees it.
    :param now: the time to look at; default now.
    """
    view = _group_view(state, job, base_url, now)
    gen = job.generation
    view.update(
        {
            "is_highlights": "",
            "story_version": max(0, job.run - 1),
            "image_urls": [],
            "pose_preset": [
                {
                    "MotionType": gen["motion_type"],
                    "Params": f"Prompt=|Quantity=1|MotionLength={gen['duration']}",
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


def asset_view(state: SandboxState, job: AssetJob, base_url: str, now: float | None = None) -> dict[str, Any]:
    """Return an asset object as ``GET /asset/{id}`` and the v2 routes show it (no wrapper).

    :param state: the sandbox state.
    :param job: the asset.
    :param base_url: the sandbox URL as the client sees it.
    :param now: the time to look at; default now.
    """
    now = state.clock() if now is None else now
    status, progress = state.asset_status(job, now)
    results = []
    if status == SUCCESS:
        extension = EXTENSIONS.get(job.mime_type, "bin")
        results = [file_url(base_url, f"{job.id}-{index + 1}.{extension}") for index in range(job.result_count)]
    message = job.message if status == FAIL else ""
    return {
        "id": job.id,
        "customer_id": state.settings.customer_id,
        "primary_user_id": state.settings.customer_id,
        "status": status,
        "progress_percentage": progress,
        "results": results,
        "thumbnails": [],
        "mime_type": job.mime_type,
        "app_name": job.app_name,
        "args": job.args,
        "message": message,
        "error": message,
        "webhook_url": job.webhook_url,
        "created_at": format_time(job.created_at),
        "updated_at": format_time(_updated_at(job.created_at, job.started_at + job.run_seconds, now)),
        "history": [],
    }


def _group_view(state: SandboxState, job: GroupJob, base_url: str, now: float | None) -> dict[str, Any]:
    now = state.clock() if now is None else now
    status, progress = state.group_status(job, now)
    finished, failed = state.child_lists(job, now)
    video_url = ""
    if status == SUCCESS:
        name = f"{job.id}-concat{job.concat_count}.mp4" if job.concat_count else f"{job.id}-v{job.run}.mp4"
        video_url = file_url(base_url, name)
    return {
        "id": job.id,
        "email": "",
        "manager_id": state.settings.customer_id,
        "customer_id": state.settings.customer_id,
        "title": job.title,
        "description": job.description,
        "rating": job.rating,
        "visibility_status": job.visibility_status,
        "idea": job.idea,
        "storyboard": job.storyboard,
        "scenes": [],
        "message": job.message if status == FAIL else "",
        "note": "",
        "feedback": "",
        "is_transition": "Yes" if job.generation.get("is_transition") else "No",
        "files": [],
        # A story's items follow its storyboard and may change before the next videos run.
        "medias": [{"media_id": m, "item": i} for m, i in zip(job.media_ids, job.items, strict=False)],
        "finished_medias": finished,
        "failed_medias": failed,
        "progress_percentage": progress,
        "status": status,
        "video_url": video_url,
        "webhook_url": job.webhook_url,
        "used_credits": job.used_credits,
        "generate_type": "GENERATE_VIDEO",
        "version": "2",
        "created_at": format_time(job.created_at),
        "updated_at": format_time(job.updated_at),
    }


def _updated_at(stored: float, finishes_at: float, now: float) -> float:
    if finishes_at <= now:
        return max(stored, finishes_at)
    return stored
