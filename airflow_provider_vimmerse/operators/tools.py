"""Operator for the legacy image, audio and text tools (text-2-image, edit-image, text-2-speech, prompts, ...)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_vimmerse.api import tools
from airflow_provider_vimmerse.operators import assets
from airflow_provider_vimmerse.operators.job import VimmerseJobOperator

if TYPE_CHECKING:
    from airflow_provider_vimmerse.api.routes import Tool
    from airflow_provider_vimmerse.api.submissions import Submission
    from airflow_provider_vimmerse.api.tool_inputs import LegacyToolInputs
    from airflow_provider_vimmerse.operators.webhooks import WebhookPlan


class VimmerseToolOperator(VimmerseJobOperator):
    """
    Run a legacy image, audio or text tool and return its output URLs (or text).

    Tools and their fields: :data:`~airflow_provider_vimmerse.api.tools.LEGACY_TOOLS`:
    ``image/text-2-image``, ``image/image-2-image``, ``image/reimagine`` (local files only),
    ``image/edit-image`` (with ``option``: ``RemoveText``, ``Upscale``, ``LumaReframe``, ``Inpaint``,
    ``ExpandToAspectRatio``; the background options ``RemoveBackground``, ``ReplaceBackground`` and
    ``RestyleBackground`` are sent to ``POST /image/replace-background``), ``image/replace-background``,
    ``image/try-on``, ``image/face-swap``, ``image/restyle``, ``image/elements``, ``text/prompt``
    (``Image2Prompt``, ``RefinePrompt``, ``SuggestPrompt``, ``InspireMe``), ``audio/text-2-speech``,
    ``audio/text-2-sound-effect`` and ``audio/text-2-music``. Give the fields as keyword arguments with
    the API's names, or as ``inputs``: a plain dict, or the tool's ``TypedDict`` of
    :mod:`~airflow_provider_vimmerse.api.tool_inputs` (``ImageText2ImageInputs(...)``), which an IDE
    completes and mypy checks.

    An image, mask or video field (``image_url``, ``image2_url``, ``human_image_url``, ``mask_url``,
    ``video_url``) takes an http(s) URL, another task's result, or a local file (a path or
    ``ObjectStoragePath``), which is sent as the documented file part (``image_file``...). The list
    field ``image_urls`` (``image/face-swap``, ``image/elements``) takes a list of them: each local file
    is sent as one ``image_files`` part, in order, and the URLs as ``image_urls``. ``image/elements``
    takes at most 4 to 10 images depending on its ``option``; ``image/face-swap`` at least 2 (the
    target, then the faces). The documents do not say how the API orders files and URLs sent together,
    and the first image is the main one: give all the images of one list the same way to keep the order.

    The result's ``urls`` hold the output images or audio; ``text/prompt`` returns ``text``. Image
    routes answer at once unless ``async_mode=True``; then the asset is waited on (in the triggerer
    when deferrable). The API cannot estimate these tools' credits in advance
    (``POST /v2/video/estimate-credits`` prices video tools only), so ``max_credits`` is refused here.

    Example::

        VimmerseToolOperator(task_id="poster", tool="image/text-2-image", prompt="a red kite", quantity=2)

    :param tool: the tool, a key of :data:`~airflow_provider_vimmerse.api.tools.LEGACY_TOOLS`
    :param inputs: the tool's fields as a dict (templated); the same fields may be keyword arguments
    :param extra_params: more form fields sent as they are, for fields the API adds later (templated)
    :param max_credits: refused: the API cannot estimate these tools' credits
    """

    route = tools.LEGACY
    #: The tools this operator runs, by ``tool``.
    tool_table: ClassVar[Mapping[str, Tool]] = tools.LEGACY_TOOLS
    template_fields: tuple[str, ...] = ("inputs", "extra_params", *VimmerseJobOperator.template_fields)

    def __init__(
        self,
        *,
        tool: str,
        inputs: LegacyToolInputs | Mapping[str, Any] | None = None,
        extra_params: Mapping[str, Any] | None = None,
        max_credits: float | None = None,
        **kwargs: Any,
    ) -> None:
        given = assets.tool_fields(self.tool_table, kwargs)  # prompt=... : the tool's fields, into inputs
        inputs = {**(inputs or {}), **given}
        super().__init__(**kwargs)
        self.tool = tool
        self.inputs = inputs
        self.extra_params = extra_params
        self.max_credits = max_credits
        self.check_values()  # literal values now, when the DAG is parsed; templated ones when the task runs

    def check_values(self) -> None:
        """Check the tool, its inputs against its row, and ``max_credits`` (refused); no request is sent."""
        assets.check_tool_values(self.tool_table, self.tool, self.inputs, self.max_credits)

    def submit(self, context: Any, webhook: WebhookPlan | None = None) -> Submission:
        """Read the local files into their file parts, then send the tool's form request."""
        from airflow_provider_vimmerse.api.endpoints import FilePart
        from airflow_provider_vimmerse.api.fields import content_type, prepare_values
        from airflow_provider_vimmerse.api.routes import resolve_tool, tool_request
        from airflow_provider_vimmerse.operators.files import read_file

        row = resolve_tool(self.tool_table, self.tool, self.inputs)
        form, local = tools.split_files(row, prepare_values(row, self.inputs))
        parts = []
        for item in local:
            filename, content = read_file(item.label, item.source)
            parts.append(FilePart(item.part, filename, content, content_type(filename)))
        return self.send(tool_request(row, {**form, **(self.extra_params or {})}, parts), tool=row)
