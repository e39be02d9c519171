"""The operator for the Video API v2 tools (enhance, crop, lip-sync, ...), one operator over the route table."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_vimmerse.exceptions import (
    VimmerseJobMayExistError,
    VimmerseNotFoundError,
    VimmerseValidationError,
)
from airflow_provider_vimmerse.operators.base import VimmerseAssetJobOperator, job_error
from airflow_provider_vimmerse.operators.files import read_file

if TYPE_CHECKING:
    from airflow_provider_vimmerse.api.endpoints import ApiRequest
    from airflow_provider_vimmerse.api.fields import LocalInput, Tool

#: Seconds an upload that answers with an unfinished asset may take before the task fails.
UPLOAD_TIMEOUT = 600.0


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
        submitting and uploading nothing, when the estimate is over this number. Only where the documents
        price the request without a guess (``reference-to-video``, ``video-effects``, ``lip-sync`` with
        ``audio_duration``/``video_duration`` for its media); refused for the others when the DAG is parsed
    :param extra_params: more JSON fields sent as they are, for fields the API adds later (templated)
    """

    @classmethod
    def tool_table(cls) -> Mapping[str, Tool]:
        """Return :data:`~airflow_provider_vimmerse.api.video.VIDEO_TOOLS`."""
        from airflow_provider_vimmerse.api.video import VIDEO_TOOLS

        return VIDEO_TOOLS

    def build_request(self, row: Tool, values: dict[str, Any]) -> ApiRequest:
        """Read local files, check the credit guard, upload the files, then build the JSON request."""
        from airflow_provider_vimmerse.api.fields import local_inputs, replace_inputs, tool_request

        files = [(item, read_file(item.label, item.source)) for item in local_inputs(row, values)]
        self.check_credits(row, values)
        files += self.fetch_keyed_inputs(row, values)
        hosted = {(item.field, item.index): self.upload(item, *content) for item, content in files}
        return tool_request(row, {**replace_inputs(values, hosted), **self.extra_params})

    def fetch_keyed_inputs(self, row: Tool, values: Mapping[str, Any]) -> list[tuple[LocalInput, tuple[str, bytes]]]:
        """
        Fetch the inputs that only the API itself serves with the key, so they can be uploaded like files.

        A media's video is served by ``GET /media/{id}/download`` (its ``result`` is empty, as the API
        documents it), which needs the API key: a tool given that URL could not read it. The file is
        fetched with the key (sent to the API's origin only) and uploaded (``POST /v2/video``).
        """
        from airflow_provider_vimmerse.api.fields import media_inputs
        from airflow_provider_vimmerse.api.jobs import is_download_route

        config = self.hook.config
        keyed = media_inputs(
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
        from airflow_provider_vimmerse.api.video import estimate_request, parse_estimate

        req = estimate_request(row, values)
        try:
            estimate = parse_estimate(self.hook.request(req))
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

    def upload(self, item: LocalInput, filename: str, content: bytes) -> str:
        """Upload one local file and return its hosted URL (waiting for the upload when it is not finished)."""
        from airflow_provider_vimmerse.api.responses import unwrap
        from airflow_provider_vimmerse.api.status import JobStatus
        from airflow_provider_vimmerse.api.tools import is_job_answer
        from airflow_provider_vimmerse.api.video import hosted_url, upload_request
        from airflow_provider_vimmerse.api.waiting import JobWatch

        req = upload_request(item.media, filename, content)
        body = self.hook.request(req)
        url = hosted_url(body)
        obj = unwrap(body)
        if url is None and is_job_answer(obj):
            watch = JobWatch(self.job_kind, str(obj["id"]), time.time() + UPLOAD_TIMEOUT, self.wait_interval())
            event = self._wait_here(watch)
            if event.status is not JobStatus.SUCCESS:
                raise job_error(event)
            url = hosted_url(self.hook.get_job(self.job_kind, watch.job_id))
        if url is None:
            raise VimmerseJobMayExistError(f"{req.describe()} answered without a hosted URL: {str(obj)[:200]!r}")
        self.log.info("Uploaded %s (%s, %d bytes) for %s: %s", filename, item.media, len(content), item.label, url)
        return url
