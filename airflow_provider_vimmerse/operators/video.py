"""Operators for the Video API v2 tools (enhance, crop, lip-sync, ...), one operator over the route table."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_vimmerse.api import video
from airflow_provider_vimmerse.api.endpoints import ApiRequest
from airflow_provider_vimmerse.api.jobs import JobState, is_download_route
from airflow_provider_vimmerse.api.media import is_templated
from airflow_provider_vimmerse.api.responses import JobSnapshot, parse_snapshot, unwrap
from airflow_provider_vimmerse.api.results import JobResult
from airflow_provider_vimmerse.api.tools import immediate_result, is_job_answer
from airflow_provider_vimmerse.api.video import Tool
from airflow_provider_vimmerse.api.waiting import JobWatch, WaitStatus
from airflow_provider_vimmerse.exceptions import (
    VimmerseInputError,
    VimmerseJobMayExistError,
    VimmerseNotFoundError,
    VimmerseValidationError,
)
from airflow_provider_vimmerse.operators.base import VimmerseJobOperator, job_error

#: Seconds an upload that answers with an unfinished asset may take before the task fails.
UPLOAD_TIMEOUT = 600.0


class _AnsweredAtOnce(Exception):
    """The API answered with the output itself and no job to follow (``text/prompt``); carries the result."""

    def __init__(self, result: JobResult) -> None:
        super().__init__("answered at once")
        self.result = result


class VimmerseAssetJobOperator(VimmerseJobOperator):
    """
    Base of the operators over a tool table: each tool's request answers with an *asset*.

    Tool fields are keyword arguments (``video_url=...``) or the ``inputs`` dict (use ``inputs`` to map
    over them with ``.expand(inputs=[...])``). Literal values are checked when the DAG is parsed,
    templated ones when the task runs, before any request. An answer that is already finished
    (``async_mode: false``, or a route that answers synchronously) is returned without waiting or
    deferring; an unfinished asset is waited on like any job.

    :param tool: the tool's name, a key of the operator's table
    :param inputs: tool fields, with the API's names (templated)
    :param extra_params: more fields sent as they are, for fields the API adds later (templated)
    """

    job_kind = "asset"
    tools: ClassVar[Mapping[str, Tool]] = {}
    template_fields: Sequence[str] = ("inputs", "extra_params")

    def __init__(
        self,
        *,
        tool: str,
        inputs: Mapping[str, Any] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        known = {name for row in self.tools.values() for name in row.field_names}
        tool_kwargs = {name: kwargs.pop(name) for name in list(kwargs) if name in known}
        super().__init__(**kwargs)
        self.tool = tool
        self.inputs = {**(inputs or {}), **tool_kwargs}
        self.extra_params = dict(extra_params or {})
        self._answer: dict[str, Any] | None = None
        base = video.get_tool(self.tools, tool)
        if not (base.option_routes and is_templated(self.inputs.get(base.option_field))):
            video.prepare_values(self.row, self.inputs)  # literal values now; templated ones at execute

    @property
    def row(self) -> Tool:
        """Return the row serving the inputs: the tool's, or the one its ``option`` is routed to."""
        return video.resolve_tool(self.tools, self.tool, self.inputs)

    def check_inputs(self) -> None:
        """Validate the rendered inputs (no request is sent)."""
        video.prepare_values(self.row, self.inputs)

    def execute(self, context: Any) -> JobResult | dict[str, Any]:
        """Validate, submit, then return at once (finished answer) or wait for the asset."""
        self._answer = None
        try:
            return super().execute(context)
        except _AnsweredAtOnce as answered:
            self.log.info("%s answered with its output at once; nothing to wait for", self.row.path)
            return answered.result

    def submit(self, context: Any) -> str:
        """Send the tool's request and return the asset id."""
        row = self.row
        values = video.prepare_values(row, self.inputs)
        req = self.build_request(row, values)
        return self.take_answer(row, self.hook.request(req), req)

    def build_request(self, row: Tool, values: dict[str, Any]) -> ApiRequest:
        """Return the tool's request for prepared values (subclasses handle local files)."""
        raise NotImplementedError

    def take_answer(self, row: Tool, body: Any, req: ApiRequest) -> str:
        """Keep the submit answer (it may already be finished) and return its asset id."""
        obj = unwrap(body)
        if is_job_answer(obj):
            self._answer = dict(obj)
            return str(obj["id"])
        result = immediate_result(row, body)
        if result is not None:
            raise _AnsweredAtOnce(result)
        raise VimmerseJobMayExistError(
            f"{req.describe()} succeeded but its answer has neither an asset id nor an output "
            f"({str(obj)[:200]!r}); it may have been charged, so it is not sent again. Check your recent "
            "assets in the Vimmerse web app."
        )

    # The submit answer is the first status reading: a finished asset is used as it is (no poll, no
    # deferral, no second fetch), a failed one fails the task, a running one is waited on as usual.

    def first_reading(self, job_id: str) -> JobSnapshot | None:
        """Return the asset's status from the submit answer, so a finished one is not polled again."""
        answer = self._answer
        if answer is None or answer.get("id") != job_id or not isinstance(answer.get("status"), str):
            return None
        return parse_snapshot(self.hook.job_kind(self.job_kind), job_id, answer, method="POST")

    def finish(self, context: Any, job_id: str) -> JobResult:
        """Return the result from the submit answer when it was already finished, else fetch the asset."""
        answer = self._finished_answer(job_id)
        if answer is None:
            return super().finish(context, job_id)
        result = self._result_of(job_id, answer)
        self.log.info("asset %s was finished in the answer: %s", job_id, result["urls"])
        return result

    def submitted_result(self, job_id: str) -> JobResult:
        """Return the finished result when the answer already was, else the submitted one."""
        answer = self._finished_answer(job_id)
        return super().submitted_result(job_id) if answer is None else self._result_of(job_id, answer)

    def _finished_answer(self, job_id: str) -> dict[str, Any] | None:
        answer = self._answer
        if answer is None or answer.get("id") != job_id:
            return None
        state = self.hook.job_kind(self.job_kind).state_of(answer.get("status"))
        return answer if state is JobState.SUCCEEDED else None

    def _result_of(self, job_id: str, answer: dict[str, Any]) -> JobResult:
        return self.hook.result_of(self.job_kind, job_id, answer)


class VimmerseVideoOperator(VimmerseAssetJobOperator):
    """
    Run a Video API v2 tool (``POST /v2/video/{tool}``) and return its output video(s).

    Tools and their fields: :data:`~airflow_provider_vimmerse.api.video.VIDEO_TOOLS` (``enhance``,
    ``crop-to-aspect-ratio``, ``reframe``, ``sound-effect``, ``avatars/lip-sync``, ``lip-sync``,
    ``video-effects``, ``replace-background``, ``reference-to-video``, ``video-to-video``, ``audio``).

    A URL field (``video_url``, ``image_url``, ``audio_url``, ``image_urls``...) takes an http(s) URL,
    another task's result (``video_url=create.output``: its first output), or a local file (a path or
    ``ObjectStoragePath``). Local files are uploaded first (``POST /v2/video``, ``/image`` or ``/audio``,
    free) and their hosted URL sent.

    ``async_mode`` is left to the API (default ``true``: the asset is waited on, in the triggerer when
    deferrable). With ``async_mode=False`` the API answers with the finished asset and the task returns
    it without waiting.

    Example::

        VimmerseVideoOperator(task_id="enhance", tool="enhance", video_url=create.output, enhance_mode="2X")

    :param tool: the tool, a key of :data:`~airflow_provider_vimmerse.api.video.VIDEO_TOOLS`
    :param inputs: the tool's fields as a dict (templated); the same fields may be keyword arguments
    :param max_credits: credit guard: ask ``POST /v2/video/estimate-credits`` first and fail the task,
        submitting and uploading nothing, when the estimate is over this number. Only for tools the
        documents say how to estimate (``reference-to-video``, ``video-to-video``, ``video-effects``,
        ``lip-sync``, ``avatars/lip-sync``); refused for the others when the DAG is parsed
    :param extra_params: more JSON fields sent as they are, for fields the API adds later (templated)
    """

    tools = video.VIDEO_TOOLS

    def __init__(self, *, tool: str, max_credits: float | None = None, **kwargs: Any) -> None:
        super().__init__(tool=tool, **kwargs)
        if max_credits is not None and (
            isinstance(max_credits, bool) or not isinstance(max_credits, (int, float)) or max_credits < 0
        ):
            raise VimmerseInputError("max_credits", f"must be a number of credits, at least 0, got {max_credits!r}")
        if max_credits is not None and not self.row.can_estimate:
            raise VimmerseInputError("max_credits", video.cannot_estimate(self.row))
        self.max_credits = max_credits

    def build_request(self, row: Tool, values: dict[str, Any]) -> ApiRequest:
        """Read local files, check the credit guard, upload the files, then build the JSON request."""
        files = [(item, read_file(item.label, item.source)) for item in video.local_inputs(row, values)]
        self.check_credits(row, values)
        files += self.fetch_keyed_inputs(row, values)
        hosted = {(item.field, item.index): self.upload(item, *content) for item, content in files}
        return video.tool_request(row, {**video.replace_inputs(values, hosted), **self.extra_params})

    def fetch_keyed_inputs(
        self, row: Tool, values: Mapping[str, Any]
    ) -> list[tuple[video.LocalInput, tuple[str, bytes]]]:
        """
        Fetch the inputs that only the API itself serves with the key, so they can be uploaded like files.

        A media's video is served by ``GET /media/{id}/download`` (its ``result`` is empty, as the API
        documents it), which needs the API key: a tool given that URL could not read it. The file is
        fetched with the key (sent to the API's origin only) and uploaded (``POST /v2/video``).
        """
        config = self.hook.config
        keyed = video.media_inputs(
            row, values, lambda v: isinstance(v, str) and config.same_origin(v) and is_download_route(v)
        )
        fetched = []
        with tempfile.TemporaryDirectory(prefix="vimmerse-") as folder:
            for item in keyed:
                self.log.info("%s is served by the API with the key: fetching it to upload it", item.label)
                extension = {"video": "mp4", "image": "png", "audio": "mp3"}.get(item.media, "bin")
                path = self.hook.download(str(item.source), folder, fallback_name=f"{item.field}.{extension}")
                fetched.append((item, read_file(item.label, path)))
        return fetched

    def check_credits(self, row: Tool, values: Mapping[str, Any]) -> None:
        """
        Ask the API what the request would cost and fail, sending nothing else, when it is over ``max_credits``.

        :raises AirflowFailException: over the limit, or when the API cannot estimate the request
        """
        if self.max_credits is None:
            return
        req = video.estimate_request(row, values)
        try:
            estimate = video.parse_estimate(self.hook.request(req))
        except (VimmerseValidationError, VimmerseNotFoundError) as error:
            raise AirflowFailException(
                f"Credit guard: could not estimate {row.name!r} ({error}); nothing was submitted. "
                "Remove max_credits to run without the guard."
            ) from error
        if estimate > self.max_credits:
            raise AirflowFailException(
                f"Credit guard: {row.name!r} is estimated at {estimate:g} credits, over max_credits="
                f"{self.max_credits:g}; nothing was submitted."
            )
        self.log.info("%s is estimated at %g credits (max_credits=%g)", row.name, estimate, self.max_credits)

    def upload(self, item: video.LocalInput, filename: str, content: bytes) -> str:
        """Upload one local file and return its hosted URL (waiting for the upload when it is not finished)."""
        req = video.upload_request(item.media, filename, content)
        body = self.hook.request(req)
        url = video.hosted_url(body)
        obj = unwrap(body)
        if url is None and is_job_answer(obj):
            watch = JobWatch(self.job_kind, str(obj["id"]), time.time() + UPLOAD_TIMEOUT, self.poll_interval)
            event = self._wait_here(watch)
            if event.status is not WaitStatus.SUCCESS:
                raise job_error(event)
            url = video.hosted_url(self.hook.get_job(self.job_kind, watch.job_id))
        if url is None:
            raise VimmerseJobMayExistError(f"{req.describe()} answered without a hosted URL: {str(obj)[:200]!r}")
        self.log.info("Uploaded %s (%s, %d bytes) for %s: %s", filename, item.media, len(content), item.label, url)
        return url


def read_file(label: str, source: Any) -> tuple[str, bytes]:
    """
    Read a local file (a path, ``file://`` URL, or ``ObjectStoragePath``) for upload.

    :return: the file name and its bytes
    :raises VimmerseInputError: naming the field when the file is missing or unreadable
    """
    path = _as_path(label, source)
    try:
        content = path.read_bytes()
    except (OSError, ValueError) as error:
        raise VimmerseInputError(label, f"cannot read {str(source)!r}: {error}") from None
    return getattr(path, "name", "") or "upload", content


def _as_path(label: str, source: Any) -> Any:
    if hasattr(source, "read_bytes"):
        return source
    if isinstance(source, str) and "://" in source and not source.startswith("file://"):
        from airflow.providers.common.compat.sdk import ObjectStoragePath

        return ObjectStoragePath(source)
    if isinstance(source, str):
        return Path(source.removeprefix("file://"))
    if isinstance(source, os.PathLike):
        return Path(os.fspath(source))
    raise VimmerseInputError(label, f"must be a URL, a path or an ObjectStoragePath, got {type(source).__name__}")
