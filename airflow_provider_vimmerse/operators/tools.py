"""Operator for the legacy image, audio and text tools (text-2-image, edit-image, text-2-speech, prompts, ...)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_vimmerse.operators.base import VimmerseAssetJobOperator
from airflow_provider_vimmerse.operators.files import read_file

if TYPE_CHECKING:
    from airflow_provider_vimmerse.api.endpoints import ApiRequest
    from airflow_provider_vimmerse.api.fields import Tool


class VimmerseToolOperator(VimmerseAssetJobOperator):
    """
    Run a legacy image, audio or text tool and return its output URLs (or text).

    Tools and their fields: :data:`~airflow_provider_vimmerse.api.tools.LEGACY_TOOLS`:
    ``image/text-2-image``, ``image/image-2-image``, ``image/reimagine`` (local files only),
    ``image/edit-image`` (with ``option``: ``RemoveText``, ``Upscale``, ``LumaReframe``, ``Inpaint``,
    ``ExpandToAspectRatio``; the background options ``RemoveBackground``, ``ReplaceBackground`` and
    ``RestyleBackground`` are sent to ``POST /image/replace-background``), ``image/replace-background``,
    ``image/try-on``, ``image/face-swap``, ``image/restyle``, ``image/elements``, ``text/prompt``
    (``Image2Prompt``, ``RefinePrompt``, ``SuggestPrompt``, ``InspireMe``), ``audio/text-2-speech``,
    ``audio/text-2-sound-effect`` and ``audio/text-2-music``.

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

    @classmethod
    def tool_table(cls) -> Mapping[str, Tool]:
        """Return :data:`~airflow_provider_vimmerse.api.tools.LEGACY_TOOLS`."""
        from airflow_provider_vimmerse.api.tools import LEGACY_TOOLS

        return LEGACY_TOOLS

    def build_request(self, row: Tool, values: dict[str, Any]) -> ApiRequest:
        """Read local files into their file parts, then build the form request."""
        from airflow_provider_vimmerse.api.endpoints import FilePart
        from airflow_provider_vimmerse.api.fields import content_type, tool_request
        from airflow_provider_vimmerse.api.tools import split_files

        form, local = split_files(row, values)
        parts = []
        for item in local:
            filename, content = read_file(item.label, item.source)
            parts.append(FilePart(item.part, filename, content, content_type(filename)))
        return tool_request(row, {**form, **self.extra_params}, parts)
