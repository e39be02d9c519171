"""
The small result every operator returns (and pushes to XCom): never the whole raw object.

Pure module: no Airflow imports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from airflow_provider_vimmerse.api.jobs import (
    JOB_KINDS,
    GroupMembers,
    JobKind,
    get_job_kind,
    group_members,
    output_urls,
)
from airflow_provider_vimmerse.api.responses import failure_message, parse_progress
from airflow_provider_vimmerse.api.status import JobStatus
from airflow_provider_vimmerse.exceptions import VimmerseInputError

#: Fields copied from the API object when present, because a downstream task may want them.
_PASS_THROUGH = ("title", "description", "batch_id", "aspect_ratio", "duration_time", "created_at", "updated_at")
#: Field of a batch object (legacy API) holding the full objects of its media, with their outputs.
_FULL_MEDIA_FIELD = "all_medias"


class MediaOutcome(TypedDict, total=False):
    """
    One media of a batch or story, as the group's object reports it.

    ``id`` and ``status`` (``success``, ``fail``, or the media's own status; ``unknown`` when the
    object does not say; read it with :func:`media_status`) are always present; ``video_urls`` only
    when the group object carries them, ``message`` (why it failed) when known.
    """

    id: str
    status: str
    item: str
    video_urls: list[str]
    message: str


class JobResult(TypedDict, total=False):
    """
    What a Vimmerse operator returns.

    ``kind``, ``id``, ``status``, ``progress``, ``video_urls`` and ``web_url`` are always present
    (``status`` is the API's raw value: read it with :func:`status_of`); ``conn_id`` (the Airflow
    connection that ran the job) is added by the hook.
    Batches and stories add ``medias`` (one :class:`MediaOutcome` each), ``finished_count``,
    ``failed_count`` and ``failed_media``; ``used_credits`` and ``storyboard`` appear when the API
    object carries them. Assets (v2 video tools, image and audio tools) add ``urls`` (every output:
    video, image or audio; ``video_urls`` holds the same list so downloads work alike), and
    ``mime_type`` and ``app_name`` when the asset names them; text tools give ``text``.
    """

    kind: str
    id: str
    status: str
    progress: int | None
    video_urls: list[str]
    web_url: str
    conn_id: str
    composed: bool
    message: str | None
    title: str
    description: str
    batch_id: str
    aspect_ratio: str
    duration_time: str
    created_at: str
    updated_at: str
    paths: list[str]
    medias: list[MediaOutcome]
    finished_count: int
    failed_count: int
    failed_media: list[str]
    used_credits: int | float
    storyboard: dict[str, Any]
    urls: list[str]
    mime_type: str
    app_name: str
    text: str


def build_result(
    kind: JobKind, job_id: str, obj: Mapping[str, Any], *, web_url: str, api_url: str | None = None
) -> JobResult:
    """
    Build the result of a job from its full API object.

    :param kind: the job's kind
    :param job_id: the job's id (used when the object lacks one)
    :param obj: the unwrapped API object
    :param web_url: link to the job in the Vimmerse web app
    :param api_url: the API base URL: outputs that only the API's download route serves (a media
        whose ``result`` is empty) are given as that route's URL
    """
    status = obj.get(kind.status_field)
    result: JobResult = {
        "kind": kind.name,
        "id": str(obj.get("id") or job_id),
        "status": status if isinstance(status, str) else "",
        "progress": parse_progress(obj.get(kind.progress_field)),
        "video_urls": output_urls(kind, {**obj, "id": str(obj.get("id") or job_id)}, api_url=api_url),
        "web_url": web_url,
    }
    message = failure_message(obj)
    if message:
        result["message"] = message
    for name in _PASS_THROUGH:
        value = obj.get(name)
        if isinstance(value, str) and value:
            result[name] = value  # type: ignore[literal-required]
    credits = obj.get("used_credits")
    if isinstance(credits, (int, float)) and not isinstance(credits, bool):
        result["used_credits"] = credits
    storyboard = obj.get("storyboard")
    if isinstance(storyboard, dict) and storyboard:
        result["storyboard"] = storyboard
    members = group_members(kind, obj)
    if members is not None:
        result.update(_member_fields(members, obj, api_url))
    if kind.name == "asset":
        result.update(_asset_fields(result, obj))
    return result


def job_id_from(field: str, value: Any, kind: str) -> str:
    """
    Return a job id given as text or as the result of the task that made the job (its ``id``).

    :param field: the argument or field, for messages
    :param value: the id, or a result dict with ``kind`` and ``id``
    :param kind: the kind the job must be
    :raises VimmerseInputError: naming ``field`` for an empty id or a result of another kind
    """
    if isinstance(value, Mapping):
        if value.get("kind") not in (None, kind):
            raise VimmerseInputError(field, f"is the result of a {value.get('kind')}, not of a {kind}")
        value = value.get("id")
    if not isinstance(value, str) or not value.strip():
        raise VimmerseInputError(field, f"must be a {kind} id or the result of the task that made it, got {value!r}")
    return value.strip()


def status_of(result: JobResult) -> JobStatus | None:
    """
    Return what a result's raw ``status`` means, for comparing members instead of strings.

    None when the result's kind does not know the value.
    """
    return get_job_kind(result["kind"]).state_of(result.get("status"))


def media_status(outcome: MediaOutcome) -> JobStatus | None:
    """
    Return what a group member's raw ``status`` means (``success``, ``fail`` or the media's own status).

    None for ``unknown`` (the group object does not say) and values media do not have.
    """
    return JOB_KINDS["media"].state_of(outcome.get("status"))


def _asset_fields(result: JobResult, obj: Mapping[str, Any]) -> JobResult:
    """Return the asset part of a result: every output URL, and what kind of file and tool made it."""
    fields: JobResult = {"urls": list(result["video_urls"])}
    for name in ("mime_type", "app_name"):
        value = obj.get(name)
        if isinstance(value, str) and value:
            fields[name] = value  # type: ignore[literal-required]
    return fields


def _member_fields(members: GroupMembers, obj: Mapping[str, Any], api_url: str | None) -> JobResult:
    """Return the per-media part of a group result: each media's status and outputs, and the counts."""
    full = {
        str(media.get("id")): media
        for media in obj.get(_FULL_MEDIA_FIELD) or []
        if isinstance(media, Mapping) and media.get("id")
    }
    finished, failed = set(members.finished), set(members.failed)
    medias: list[MediaOutcome] = []
    for media_id in dict.fromkeys((*members.ids, *members.finished, *members.failed)):
        media = full.get(media_id, {})
        own_status = media.get(JOB_KINDS["media"].status_field)
        status = "success" if media_id in finished else "fail" if media_id in failed else own_status or "unknown"
        outcome: MediaOutcome = {"id": media_id, "status": str(status)}
        if media_id in members.items:
            outcome["item"] = members.items[media_id]
        # A finished media the group object does not detail is served by its download route (a paid
        # output is never dropped: docs/api-contract.md, "A finished batch without a composed video").
        media_row = JOB_KINDS["media"]
        known = media or ({"id": media_id, media_row.status_field: "success"} if media_id in finished else {})
        urls = output_urls(media_row, known, api_url=api_url) if known else []
        if urls:
            outcome["video_urls"] = urls
        reason = failure_message(media) if media_id in failed and media else None
        if reason:
            outcome["message"] = reason
        medias.append(outcome)
    return {
        "medias": medias,
        "finished_count": len(members.finished),
        "failed_count": len(members.failed),
        "failed_media": list(members.failed),
    }


def asset_extra(result: Mapping[str, Any], paths: Sequence[Any] | None = None) -> dict[str, Any]:
    """
    Return what an asset event says about one job: plain JSON, the same keys for every kind.

    ``kind``, ``id``, ``status`` (the API's raw value), ``title`` and ``web_url`` are strings or None
    when the result does not say; ``urls`` lists every output (video, image or audio) and is empty
    when there is none; ``used_credits`` is None when the API does not report it (single media do
    not). A batch's or story's result adds ``media``: each media's ``id``, ``status`` and ``urls``.
    A download adds ``paths``: the files it wrote, by their final names.

    :param result: a job result (:class:`JobResult`, or the same dict read back from XCom)
    :param paths: the files written from its outputs, for a download
    """
    extra: dict[str, Any] = {name: _text(result.get(name)) for name in ("kind", "id", "status", "title", "web_url")}
    extra["urls"] = _texts(result.get("video_urls") or result.get("urls"))
    credits = result.get("used_credits")
    extra["used_credits"] = credits if isinstance(credits, (int, float)) and not isinstance(credits, bool) else None
    medias = result.get("medias")
    if isinstance(medias, list) and medias:
        extra["media"] = [
            {
                "id": _text(media.get("id")),
                "status": _text(media.get("status")),
                "urls": _texts(media.get("video_urls")),
            }
            for media in medias
            if isinstance(media, Mapping)
        ]
    if paths is not None:
        extra["paths"] = [str(path) for path in paths]
    return extra


def downloads_extra(downloads: Sequence[tuple[Mapping[str, Any], Sequence[Any]]]) -> dict[str, Any]:
    """
    Return what a download's asset event says: the job and its ``paths`` when it downloaded one job.

    Several jobs (a list of results) give ``{"jobs": [...], "paths": [...]}``: each job as
    :func:`asset_extra` says it, with its own paths, and every path written, in order.

    :param downloads: each job's result and the paths written from its outputs
    """
    jobs = [asset_extra(result, paths) for result, paths in downloads]
    if len(jobs) == 1:
        return jobs[0]
    return {"jobs": jobs, "paths": [path for job in jobs for path in job["paths"]]}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _texts(value: Any) -> list[str]:
    items = value if isinstance(value, (list, tuple)) else [value]
    return [item for item in items if isinstance(item, str) and item]
