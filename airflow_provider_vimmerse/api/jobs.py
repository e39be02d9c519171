"""
The job kinds of the Vimmerse API, as data.

Every long-running thing the API makes (a media, a batch, a story, an asset, a workflow, a finetune)
is a *job*: it has an id,
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
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit

from airflow_provider_vimmerse.api.envelope import unwrap
from airflow_provider_vimmerse.api.status import JobStatus
from airflow_provider_vimmerse.api.storyboard import step_done
from airflow_provider_vimmerse.api.urls import absolute_url, job_path
from airflow_provider_vimmerse.exceptions import VimmerseInputError


@dataclass(frozen=True)
class JobKind:
    """
    One kind of job and where the API keeps its state.

    :param name: the kind's name (``media``, ``batch``, ``story``, ``asset``, ``workflow``, ``finetune``)
    :param status_path: path polled while waiting; ``{job_id}`` is replaced
    :param detail_path: path of the full object, fetched once at the end
    :param status_field: field of the status answer holding the raw status
    :param progress_field: field holding the progress percentage
    :param running: raw values meaning "keep waiting"
    :param succeeded: raw values meaning "done, outputs ready"
    :param failed: raw values meaning "failed"
    :param cancelled: raw values meaning "cancelled"
    :param output_field: field of the full object holding the outputs
    :param web_path: path of the job's page in the Vimmerse web app; empty when no document names one
    :param members_field: for a group of media (batch, story): field listing its media
        (``[{"media_id", "item"}]``); empty for other kinds
    :param finished_field: field listing the ids of the group's media that succeeded
    :param failed_field: field listing the ids of the group's media that failed
    :param download_path: API path that serves the job's output when ``output_field`` is empty
        (``{job_id}`` is replaced); empty when the kind has no such route
    :param run_markers: fields of the full object that change only when a new run of the job
        finishes (a generation's version and history, a composed video): how a wait that follows
        a regeneration, a reprocess or a concat tells a new ``success`` from the one before it
    :param delete_path: API path that deletes the job (``{job_id}`` is replaced); empty when the API has none
    :param status_from_outputs: the status route documents no status field, only outputs that appear
        when the job is done (a finetune's sample images): the answer is read with :func:`job_object`
    :param step: a story step (``elements``, ``scenes``) whose end shows in the story object, not in a
        status: a wait on it reads the story until the step's images are there
        (:func:`~airflow_provider_vimmerse.api.storyboard.step_done`), as :func:`job_object` says
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
    delete_path: str = ""
    status_from_outputs: bool = False
    step: str = ""

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


def _row(
    name: str,
    *,
    status_field: str,
    running: frozenset[str],
    failed: frozenset[str],
    cancelled: frozenset[str],
    output_field: str,
    succeeded: frozenset[str] = frozenset({"success"}),
    web_page: bool = True,
    **more: Any,
) -> JobKind:
    """
    Return the row of a kind in the shape the kinds share: the job's object at ``/{name}/{job_id}`` (polled
    for its status and read for its details), its progress in ``progress_percentage``, ``success`` meaning done.

    :param name: the kind's name
    :param web_page: the job's web-app page is ``/{name}/{job_id}``; False when no document names one
    :param more: the row's other fields (see :class:`JobKind`), a ``status_path`` of its own among them
    """
    path = f"/{name}/{{job_id}}"
    row = JobKind(
        name=name,
        status_path=path,
        detail_path=path,
        status_field=status_field,
        progress_field="progress_percentage",
        running=running,
        succeeded=succeeded,
        failed=failed,
        cancelled=cancelled,
        output_field=output_field,
        web_path=path if web_page else "",
    )
    return replace(row, **more)


def _group(name: str) -> JobKind:
    """Return the row of a group of media (``batch``, ``story``): both keep their state the same way."""
    return _row(
        name,
        status_field="status",
        running=_values("new", "processing"),
        failed=_values("fail"),
        cancelled=_values("cancel"),
        output_field="video_url",
        # openapi.json DELETE /story/{story_id}; batch.txt documents no delete
        delete_path="/story/{job_id}" if name == "story" else "",
        members_field="medias",
        finished_field="finished_medias",
        failed_field="failed_medias",
        # openapi.json POST /story/{story_id}/concat: "The video_url field will be populated when
        # composition completes"; batch.txt concat: "You can get composed video from video_url"
        run_markers=("video_url",),
    )


#: The asset polling path when the connection does not name one. The documents do not name it.
DEFAULT_ASSET_STATUS_PATH = "/asset/{job_id}"
#: The status a finetune reads as, made from its sample outputs (no document names a status field):
#: samples listed -> done; none yet -> still training.
SAMPLES_READY = "success"
SAMPLES_PENDING = "training"
#: The status a story step reads as, made from the story object (a step has no status of its own).
STEP_STATUS_FIELD = "step_status"
STEP_DONE = "done"
STEP_PENDING = "drawing"

JOB_KINDS: Mapping[str, JobKind] = {
    "media": _row(
        "media",
        status_field="processing_status",
        running=_values("new", "queue_bullet", "processing_bullet"),
        failed=_values("fail"),
        cancelled=_values("cancel"),
        output_field="result",
        status_path="/media/{job_id}/processing-status",
        # openapi.json GET /media/{media_id}: "result": [] in the example, and its own sample code
        # fetches the video from /media/{id}/download instead (media.txt "Download video")
        download_path="/media/{job_id}/download?object_type=bullet_video_mp4",
        # openapi.json GET /media/{media_id} response fields: bullet_version "Version number of the
        # generated video", video_history "Processing history with details of each generation"
        run_markers=("bullet_version", "video_history", "result"),
    ),
    "batch": _group("batch"),
    "story": _group("story"),
    # No document names the asset path: the one the other kinds have (DEFAULT_ASSET_STATUS_PATH), unless the
    # connection names another (JobKind.with_status_path).
    "asset": _row(
        "asset",
        status_field="status",
        running=_values("new", "queue", "queued", "pending", "processing", "running"),
        failed=_values("fail", "failed", "error"),
        cancelled=_values("cancel", "cancelled"),
        output_field="results",
    ),
    # openapi.json tag "Workflow", "Quick Start Example": polls GET /workflow/{id}, reads processing_status
    # and progress_percentage; "success" -> outputs in result [{content_type, url}], "fail" -> failed. No
    # other value is documented (the running ones count as running, logged once). No web-app page is
    # documented for a workflow, so it has no link.
    "workflow": _row(
        "workflow",
        status_field="processing_status",
        running=_values(),
        failed=_values("fail"),
        cancelled=_values(),
        output_field="result",
        web_page=False,
        delete_path="/workflow/{job_id}",
    ),
    # openapi.json GET /finetune/{trigger_word}: "will report the status of training LoRA models ... If
    # completed, it will also return sample outputs", example {"data": [{"URL": ...}]}. No status field,
    # progress or failure value is documented: the samples are the only signal (job_object), and a failed
    # training is not told apart from a running one (the wait's timeout ends it). The id is the trigger word.
    "finetune": _row(
        "finetune",
        status_field="status",
        running=_values(SAMPLES_PENDING),
        succeeded=_values(SAMPLES_READY),
        failed=_values(),
        cancelled=_values(),
        output_field="samples",
        web_page=False,
        status_from_outputs=True,
    ),
    # A story step the API answers only when done ("This step may take several minutes": openapi.json
    # POST /story/{story_id}/scenes), waited on only when its answer did not come in time: the story is
    # read until the step's images are there (story.txt: the steps "craft images"); a failed story fails it.
    **{
        f"story_{step}": replace(
            _group("story"),
            name=f"story_{step}",
            status_field=STEP_STATUS_FIELD,
            running=_values(STEP_PENDING),
            succeeded=_values(STEP_DONE),
            members_field="",
            finished_field="",
            failed_field="",
            run_markers=(),
            delete_path="",
            step=step,
        )
        for step in ("elements", "scenes")
    },
}


def get_job_kind(name: str) -> JobKind:
    """
    Return the row of the table for a kind name.

    :param name: a key of :data:`JOB_KINDS` (``media``, ``batch``, ``story``, ``asset``, ``workflow``, ``finetune``)
    :raises VimmerseInputError: for any other name, listing the allowed ones
    """
    try:
        return JOB_KINDS[name]
    except (KeyError, TypeError):
        raise VimmerseInputError("kind", f"got {name!r}; allowed values: {', '.join(JOB_KINDS)}") from None


def job_object(kind: JobKind, body: Any) -> Any:
    """
    Return a status or detail answer as the kind's object; the answer itself for every kind but those
    whose status is only their outputs (:attr:`JobKind.status_from_outputs`).

    For those (a finetune: ``{"data": [{"URL": ...}]}``), the answer's list becomes
    ``{status_field: "success" | "training", output_field: [url, ...]}``: a non-empty list of samples
    means done. An answer that is not such a list is returned as it is (the reader then names it).

    :param kind: the job's kind
    :param body: the decoded answer
    """
    if kind.step:
        return _step_object(kind, body)
    if not kind.status_from_outputs:
        return body
    items = body.get("data") if isinstance(body, Mapping) and set(body) <= {"data", "message"} else body
    if not isinstance(items, list):
        return body
    urls = _urls(items, "URL", "url")
    return {kind.status_field: SAMPLES_READY if urls else SAMPLES_PENDING, kind.output_field: urls}


def _step_object(kind: JobKind, body: Any) -> Any:
    """Return a story answer with the status of ``kind.step`` added: done, still drawing, or the story's failure."""
    obj = unwrap(body)
    if not isinstance(obj, Mapping):
        return body
    own = obj.get("status")
    if own in kind.failed or own in kind.cancelled:
        status = own
    else:
        status = STEP_DONE if step_done(kind.step, obj) else STEP_PENDING
    return {**obj, kind.status_field: status}


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
    urls = _urls(items, "url", "video_url")
    if urls or not (api_url and kind.download_path):
        return urls
    job_id = obj.get("id")
    if kind.state_of(obj.get(kind.status_field)) is not JobStatus.SUCCESS or not isinstance(job_id, str):
        return urls
    try:
        route = absolute_url(api_url, job_path(kind.download_path, job_id))
    except VimmerseInputError:  # no usable id: no route to name
        return urls
    variations = media_variations(obj)
    if len(variations) < 2:
        return [route]
    # one URL per paid video (docs/api-contract.md, "A media's variations")
    return [f"{route}&{urlencode({'motion_type': motion_type})}" for motion_type in variations]


def media_variations(obj: Mapping[str, Any]) -> list[str]:
    """
    Return the ``motion_type`` download values of a media's variations, when it made more than one.

    A media made with ``quantity`` N (2 to 4) is charged for N videos. The documents download a video
    of a media by ``motion_type``: platform-api-v1-legacy.txt (l.213, 280, 474) asks for ``Auto1`` after a
    ``Quantity=2`` request, media.txt (l.1480) for ``Auto``. So variation i of a motion type M is read as
    ``M<i>`` (docs/api-contract.md, "A media's variations"). The motion type and the quantity are read
    from ``pose_preset`` (``{"MotionType", "Params": "...|Quantity=N|..."}``, openapi.json ``GET /media``;
    a list of them in the legacy examples). Empty when the object shows one video or does not say.

    :param obj: the unwrapped media object
    """
    presets = obj.get("pose_preset")
    values: list[str] = []
    for preset in presets if isinstance(presets, list) else [presets]:
        if not isinstance(preset, Mapping):
            continue
        motion_type, params = preset.get("MotionType"), preset.get("Params")
        quantity = _param(params, "Quantity") if isinstance(params, str) else None
        if isinstance(motion_type, str) and motion_type.strip() and quantity and quantity.isdigit():
            values += [f"{motion_type.strip()}{n}" for n in range(1, min(int(quantity), 4) + 1)]
    values = list(dict.fromkeys(values))
    return values if len(values) > 1 else []


def download_variation(url: str) -> str | None:
    """Return the ``motion_type`` a download-route URL asks for (one variation of a media), or None."""
    if not is_download_route(url):
        return None
    values = parse_qs(urlsplit(url).query).get("motion_type")
    return values[-1] if values else None


def without_variation(url: str) -> str:
    """Return a download-route URL without its ``motion_type`` (the media's video as such)."""
    parts = urlsplit(url)
    query = [(name, value) for name, value in parse_qsl(parts.query) if name != "motion_type"]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _param(params: str, name: str) -> str | None:
    """Return one ``Name=value`` of a ``pose_preset`` ``Params`` text (``Prompt=|Quantity=2|...``)."""
    for part in params.split("|"):
        key, _, value = part.partition("=")
        if key.strip() == name:
            return value.strip()
    return None


def _urls(items: list[Any], *keys: str) -> list[str]:
    """Return the URLs of a list of outputs: each a URL, or an object holding it under the first of ``keys`` set."""
    urls: list[str] = []
    for item in items:
        if isinstance(item, Mapping):
            item = next((item[key] for key in keys if item.get(key)), None)
        if isinstance(item, str) and item:
            urls.append(item)
    return urls


#: ``object_type`` values of ``GET /media/{id}/download`` the documents name: only ``bullet_video_mp4``
#: (openapi.json's description and media.txt "Download File"). Its 200 answer is described as "bullet
#: video, gif or source files", but no document names the object_type of a gif or of the source files.
DOWNLOAD_OBJECT_TYPES = ("bullet_video_mp4",)


def download_query(
    object_type: Any = None, motion_type: Any = None, width: Any = None, file_size: Any = None
) -> dict[str, str]:
    """
    Return the query of ``GET /media/{id}/download`` for the given settings, checked; empty when none is set.

    The route declares no parameters: these four come from the documents' example URLs
    (``object_type=bullet_video_mp4&motion_type=Auto&width=1080&file_size=4``). ``object_type`` is
    ``bullet_video_mp4`` when another setting is given without it.

    :param object_type: one of :data:`DOWNLOAD_OBJECT_TYPES`
    :param motion_type: the motion type of the video to download (examples: ``Auto``)
    :param width: width in pixels, a positive integer (example: 1080)
    :param file_size: file size, a positive number (example: 4; the unit is not documented)
    :raises VimmerseInputError: naming the setting and what is allowed
    """
    if object_type is None and motion_type is None and width is None and file_size is None:
        return {}
    object_type = DOWNLOAD_OBJECT_TYPES[0] if object_type is None else object_type
    if object_type not in DOWNLOAD_OBJECT_TYPES:
        allowed = ", ".join(repr(value) for value in DOWNLOAD_OBJECT_TYPES)
        raise VimmerseInputError(
            "object_type",
            f"got {object_type!r}; allowed values: {allowed} (the only one the documents name; the gif and source "
            "files they mention have no documented object_type)",
        )
    query = {"object_type": object_type}
    if motion_type is not None:
        if not isinstance(motion_type, str) or not motion_type.strip():
            raise VimmerseInputError("motion_type", f"must be text such as 'Auto', got {motion_type!r}")
        query["motion_type"] = motion_type.strip()
    for name, value, integer in (("width", width, True), ("file_size", file_size, False)):
        if value is None:
            continue
        numeric = isinstance(value, int) if integer else isinstance(value, (int, float))
        if isinstance(value, bool) or not numeric or value <= 0:
            what = "a positive integer" if integer else "a positive number"
            raise VimmerseInputError(name, f"must be {what}, got {value!r}")
        query[name] = str(value)
    return query


def download_route_url(kind: JobKind, job_id: str, api_url: str, query: Mapping[str, str]) -> str:
    """
    Return the URL of a kind's download route for a job, with ``query`` instead of the row's default query.

    :raises VimmerseInputError: naming ``object_type`` when the kind has no download route
    """
    path = job_path(downloadable_kind(kind.name).download_path.split("?", 1)[0], job_id)
    return absolute_url(api_url, path) + (f"?{urlencode(dict(query))}" if query else "")


def downloadable_kind(name: str) -> JobKind:
    """
    Return the row of a job kind that has a download route (the one :func:`download_query` is for).

    :raises VimmerseInputError: naming ``object_type`` when the kind has none
    """
    row = JOB_KINDS.get(name)
    if row is None or not row.download_path:
        having = ", ".join(kind for kind, other in JOB_KINDS.items() if other.download_path)
        raise VimmerseInputError(
            "object_type",
            f"a {name} has no download route: object_type, motion_type, width and file_size select the file of "
            f"GET /media/{{id}}/download, for: {having}",
        )
    return row


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
