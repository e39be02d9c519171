"""
The job kinds of the Vimmerse API, as data.

Every long-running thing the API makes (a media, a batch, a story, an asset) is a *job*: it has an id,
a status endpoint, a status field whose values mean running / succeeded / failed / cancelled, a
progress field, and outputs in a known place. One row per kind below; the trigger, the sensor and the
synchronous wait all read this table, so adding a kind is adding a row.

Status values come from the reference documents (``shared/reference/vimmerse-api``). A value the
table does not know counts as running (the API may add states), and callers log it once.

Pure module: no Airflow imports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_vimmerse.api.status import JobStatus
from airflow_provider_vimmerse.api.urls import absolute_url, job_path
from airflow_provider_vimmerse.exceptions import VimmerseInputError


@dataclass(frozen=True)
class JobKind:
    """
    One kind of job and where the API keeps its state.

    :param name: the kind's name (``media``, ``batch``, ``story``, ``asset``)
    :param status_path: path polled while waiting; ``{job_id}`` is replaced
    :param detail_path: path of the full object, fetched once at the end
    :param status_field: field of the status answer holding the raw status
    :param progress_field: field holding the progress percentage
    :param running: raw values meaning "keep waiting"
    :param succeeded: raw values meaning "done, outputs ready"
    :param failed: raw values meaning "failed"
    :param cancelled: raw values meaning "cancelled"
    :param output_field: field of the full object holding the outputs
    :param web_path: path of the job's page in the Vimmerse web app
    :param members_field: for a group of media (batch, story): field listing its media
        (``[{"media_id", "item"}]``); empty for other kinds
    :param finished_field: field listing the ids of the group's media that succeeded
    :param failed_field: field listing the ids of the group's media that failed
    :param download_path: API path that serves the job's output when ``output_field`` is empty
        (``{job_id}`` is replaced); empty when the kind has no such route
    :param run_markers: fields of the full object that change only when a new run of the job
        finishes (a generation's version and history, a composed video): how a wait that follows
        a regeneration, a reprocess or a concat tells a new ``success`` from the one before it
    """

    name: str
    status_path: str
    detail_path: str
    status_field: str
    progress_field: str
    running: frozenset[str]
    succeeded: frozenset[str]
    failed: frozenset[str]
    cancelled: frozenset[str]
    output_field: str
    web_path: str
    members_field: str = ""
    finished_field: str = ""
    failed_field: str = ""
    download_path: str = ""
    run_markers: tuple[str, ...] = ()

    def state_of(self, raw_status: Any) -> JobStatus | None:
        """
        Return what a raw status value of this kind means, or None when this kind does not know it.

        Read every raw status through this (a status answer, ``JobResult["status"]``,
        ``MediaOutcome["status"]``) and compare the members, never the strings.
        """
        value = raw_status.strip() if isinstance(raw_status, str) else ""
        for state, values in (
            (JobStatus.SUCCESS, self.succeeded),
            (JobStatus.FAILED, self.failed),
            (JobStatus.CANCELLED, self.cancelled),
            (JobStatus.RUNNING, self.running),
        ):
            if value in values:
                return state
        return None

    def with_status_path(self, status_path: str | None) -> JobKind:
        """Return this kind polling another path (used for the configurable asset path)."""
        if not status_path:
            return self
        return replace(self, status_path=status_path, detail_path=status_path)


def _values(*names: str) -> frozenset[str]:
    return frozenset(names)


def _group(name: str) -> JobKind:
    """Return the row of a group of media (``batch``, ``story``): both keep their state the same way."""
    return JobKind(
        name=name,
        status_path=f"/{name}/{{job_id}}",
        detail_path=f"/{name}/{{job_id}}",
        status_field="status",
        progress_field="progress_percentage",
        running=_values("new", "processing"),
        succeeded=_values("success"),
        failed=_values("fail"),
        cancelled=_values("cancel"),
        output_field="video_url",
        web_path=f"/{name}/{{job_id}}",
        members_field="medias",
        finished_field="finished_medias",
        failed_field="failed_medias",
        # openapi.json POST /story/{story_id}/concat: "The video_url field will be populated when
        # composition completes"; batch.txt concat: "You can get composed video from video_url"
        run_markers=("video_url",),
    )


#: The asset polling path when the connection does not name one. The documents do not name it.
DEFAULT_ASSET_STATUS_PATH = "/asset/{job_id}"

JOB_KINDS: Mapping[str, JobKind] = {
    "media": JobKind(
        name="media",
        status_path="/media/{job_id}/processing-status",
        detail_path="/media/{job_id}",
        status_field="processing_status",
        progress_field="progress_percentage",
        running=_values("new", "queue_bullet", "processing_bullet"),
        succeeded=_values("success"),
        failed=_values("fail"),
        cancelled=_values("cancel"),
        output_field="result",
        web_path="/media/{job_id}",
        # openapi.json GET /media/{media_id}: "result": [] in the example, and its own sample code
        # fetches the video from /media/{id}/download instead (media.txt "Download video")
        download_path="/media/{job_id}/download?object_type=bullet_video_mp4",
        # openapi.json GET /media/{media_id} response fields: bullet_version "Version number of the
        # generated video", video_history "Processing history with details of each generation"
        run_markers=("bullet_version", "video_history", "result"),
    ),
    "batch": _group("batch"),
    "story": _group("story"),
    "asset": JobKind(
        name="asset",
        status_path=DEFAULT_ASSET_STATUS_PATH,
        detail_path=DEFAULT_ASSET_STATUS_PATH,
        status_field="status",
        progress_field="progress_percentage",
        running=_values("new", "queue", "queued", "pending", "processing", "running"),
        succeeded=_values("success"),
        failed=_values("fail", "failed", "error"),
        cancelled=_values("cancel", "cancelled"),
        output_field="results",
        web_path="/asset/{job_id}",
    ),
}


def get_job_kind(name: str) -> JobKind:
    """
    Return the row of the table for a kind name.

    :param name: ``media``, ``batch``, ``story`` or ``asset``
    :raises VimmerseInputError: for any other name, listing the allowed ones
    """
    try:
        return JOB_KINDS[name]
    except (KeyError, TypeError):
        raise VimmerseInputError("kind", f"got {name!r}; allowed values: {', '.join(JOB_KINDS)}") from None


def output_urls(kind: JobKind, obj: Mapping[str, Any], *, api_url: str | None = None) -> list[str]:
    """
    Return the output URLs of a finished job, in the order the API lists them.

    Media keep a ``result`` list of objects with ``url``; batches and stories one ``video_url``;
    assets a ``results`` list of URLs (or objects with ``url``). A finished media whose ``result``
    is empty (as the API documents it) is served by the download route: given ``api_url``, that
    route's URL is returned (it needs the API key, which the hook sends to the API's origin only).

    :param kind: the job's kind
    :param obj: the unwrapped API object
    :param api_url: the API base URL, to build the download route's URL
    """
    value = obj.get(kind.output_field)
    items = value if isinstance(value, list) else [value]
    urls: list[str] = []
    for item in items:
        if isinstance(item, Mapping):
            item = item.get("url") or item.get("video_url")
        if isinstance(item, str) and item:
            urls.append(item)
    if urls or not (api_url and kind.download_path):
        return urls
    job_id = obj.get("id")
    if kind.state_of(obj.get(kind.status_field)) is not JobStatus.SUCCESS or not isinstance(job_id, str):
        return urls
    try:
        return [absolute_url(api_url, job_path(kind.download_path, job_id))]
    except VimmerseInputError:  # no usable id: no route to name
        return urls


def is_download_route(url: str) -> bool:
    """Return True when ``url``'s path is a job kind's download route (served only with the API key)."""
    path = urlsplit(url).path
    for kind in JOB_KINDS.values():
        template = kind.download_path.split("?", 1)[0]
        if template:
            prefix, _, suffix = template.partition("{job_id}")
            middle = path[len(prefix) : len(path) - len(suffix)] if suffix else ""
            if path.startswith(prefix) and path.endswith(suffix) and middle and "/" not in middle:
                return True
    return False


def run_fingerprint(kind: JobKind, obj: Mapping[str, Any]) -> dict[str, Any]:
    """
    Return what identifies the job's latest finished run: its ``run_markers`` fields, as plain JSON.

    Lists count by their length (a history grows by one entry per run), other values by their
    text; a missing or empty field is ``None``.
    """
    markers: dict[str, Any] = {}
    for name in kind.run_markers:
        value = obj.get(name)
        if isinstance(value, list):
            markers[name] = len(value) or None
        elif value is None or value == "" or isinstance(value, Mapping):
            markers[name] = None
        else:
            markers[name] = str(value)
    return markers


@dataclass(frozen=True)
class GroupMembers:
    """
    The media of a batch or story, as its object lists them.

    :param ids: every media id of the group, in the API's order (empty when the object does not list them)
    :param finished: ids of the media that succeeded
    :param failed: ids of the media that failed
    :param items: media id -> the item it was made from (an image key or file name), when given
    """

    ids: tuple[str, ...]
    finished: tuple[str, ...]
    failed: tuple[str, ...]
    items: Mapping[str, str]

    @property
    def total(self) -> int | None:
        """Return how many media the group has, or None when the object does not list them."""
        return len(self.ids) or None


def group_members(kind: JobKind, obj: Mapping[str, Any]) -> GroupMembers | None:
    """
    Return the media of a group job (batch, story), or None for other kinds.

    Lists of ids and lists of objects (``{"media_id": ...}`` or ``{"id": ...}``) are both read.
    """
    if not kind.members_field:
        return None
    ids: list[str] = []
    items: dict[str, str] = {}
    for entry in _as_items(obj.get(kind.members_field)):
        media_id = _media_id(entry)
        if media_id and media_id not in ids:
            ids.append(media_id)
            item = (entry.get("item") or entry.get("source")) if isinstance(entry, Mapping) else None
            if isinstance(item, str) and item:
                items[media_id] = item
    finished = [i for i in map(_media_id, _as_items(obj.get(kind.finished_field))) if i]
    failed = [i for i in map(_media_id, _as_items(obj.get(kind.failed_field))) if i]
    return GroupMembers(ids=tuple(ids), finished=tuple(finished), failed=tuple(failed), items=items)


def _as_items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _media_id(entry: Any) -> str | None:
    if isinstance(entry, Mapping):
        entry = entry.get("media_id") or entry.get("id")
    return entry if isinstance(entry, str) and entry else None
