"""The operator for the Video API v2 tools (enhance, crop, lip-sync, ...), one operator over the route table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_vimmerse.api import video
from airflow_provider_vimmerse.operators import assets
from airflow_provider_vimmerse.operators.job import VimmerseJobOperator

if TYPE_CHECKING:
    from airflow_provider_vimmerse.api.routes import Tool
    from airflow_provider_vimmerse.api.submissions import Submission
    from airflow_provider_vimmerse.api.tool_inputs import VideoToolInputs
    from airflow_provider_vimmerse.operators.webhooks import WebhookPlan


class VimmerseVideoOperator(VimmerseJobOperator):
    """
    Run a Video API v2 tool (``POST /v2/video/{tool}``) and return its output video(s).

    Tools and their fields: :data:`~airflow_provider_vimmerse.api.video.VIDEO_TOOLS` (``enhance``,
    ``crop-to-aspect-ratio``, ``reframe``, ``sound-effect``, ``avatars/lip-sync``, ``lip-sync``,
    ``video-effects``, ``replace-background``, ``reference-to-video``, ``video-to-video``, ``audio``).
    Give the fields as keyword arguments with the API's names (``video_url=...``), or as ``inputs``: a
    plain dict, or the tool's ``TypedDict`` of :mod:`~airflow_provider_vimmerse.api.tool_inputs`
    (``EnhanceVideoInputs(...)``), which an IDE completes and mypy checks. A keyword argument wins over
    the same key in ``inputs``. Literal values are checked when the DAG is parsed, templated ones when the
    task runs, before any request.

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
    :param extra_params: more JSON fields sent as they are, for fields the API adds later (templated)
    :param max_credits: credit guard: ask ``POST /v2/video/estimate-credits`` first and fail the task,
        submitting and uploading nothing, when the estimate is over this number. Only where the documents
        price the request without a guess (``reference-to-video``, ``video-effects``, ``lip-sync`` with
        ``audio_duration``/``video_duration`` for its media); refused for the others when the DAG is parsed
    """

    route = video.VIDEO
    #: The tools this operator runs, by ``tool``.
    tool_table: ClassVar[Mapping[str, Tool]] = video.VIDEO_TOOLS
    template_fields: tuple[str, ...] = ("inputs", "extra_params", *VimmerseJobOperator.template_fields)

    def __init__(
        self,
        *,
        tool: str,
        inputs: VideoToolInputs | Mapping[str, Any] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        max_credits: float | None = None,
        **kwargs: Any,
    ) -> None:
        given = assets.tool_fields(self.tool_table, kwargs)  # video_url=... : the tool's fields, into inputs
        inputs = {**(inputs or {}), **given}
        super().__init__(**kwargs)
        self.tool = tool
        self.inputs = inputs
        self.extra_params = extra_params
        self.max_credits = max_credits
        self.check_values()  # literal values now, when the DAG is parsed; templated ones when the task runs

    def check_values(self) -> None:
        """Check the tool, its inputs against its row, and the credit guard; no request is sent."""
        assets.check_tool_values(self.tool_table, self.tool, self.inputs, self.max_credits)

    def submit(self, context: Any, webhook: WebhookPlan | None = None) -> Submission:
        """
        Read the local files, check the credit guard, upload the files, then send the tool's JSON request.

        A fetched or uploaded file costs nothing; over the credit guard, nothing at all is sent but the estimate.
        """
        from airflow_provider_vimmerse.api.fields import local_inputs, prepare_values, replace_inputs
        from airflow_provider_vimmerse.api.routes import resolve_tool, tool_request
        from airflow_provider_vimmerse.operators.files import read_file

        row = resolve_tool(self.tool_table, self.tool, self.inputs)
        values = prepare_values(row, self.inputs)
        files = [(item, read_file(item.label, item.source)) for item in local_inputs(row, values)]
        if self.max_credits is not None:
            assets.check_credits(self, row, values, self.max_credits)
        files += assets.fetch_keyed_inputs(self, row, values)
        hosted = {(item.field, item.index): assets.upload(self, item, *content) for item, content in files}
        return self.send(tool_request(row, {**replace_inputs(values, hosted), **(self.extra_params or {})}), tool=row)
