"""
What the tool operators do around a tool's request: its inputs checked against their row, the credit guard,
and local files (or files only the API serves with the key) uploaded as hosted URLs.

The tool operators (:class:`~airflow_provider_vimmerse.operators.video.VimmerseVideoOperator`,
:class:`~airflow_provider_vimmerse.operators.tools.VimmerseToolOperator`) run a row of a tool table
(:class:`~airflow_provider_vimmerse.api.routes.Tool`) chosen by their ``tool`` argument; their answer is an
*asset* (maybe finished already) or the output itself.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_vimmerse.api import fields
from airflow_provider_vimmerse.api.routes import get_tool, resolve_tool
from airflow_provider_vimmerse.exceptions import (
    VimmerseInputError,
    VimmerseJobMayExistError,
    VimmerseNotFoundError,
    VimmerseValidationError,
)
from airflow_provider_vimmerse.operators.base import job_error
from airflow_provider_vimmerse.operators.files import read_file

if TYPE_CHECKING:
    from airflow_provider_vimmerse.api.fields import LocalInput
    from airflow_provider_vimmerse.api.routes import Tool
    from airflow_provider_vimmerse.operators.job import VimmerseJobOperator

#: Seconds an upload that answers with an unfinished asset may take before the task fails.
UPLOAD_TIMEOUT = 600.0


def tool_fields(table: Mapping[str, Tool], kwargs: dict[str, Any]) -> dict[str, Any]:
    """
    Take the tool fields out of an operator's keyword arguments and return them.

    A name is a tool field when any row of ``table`` has it; what is left of ``kwargs`` goes to ``BaseOperator``.

    :param table: the operator's tool table
    :param kwargs: the operator's keyword arguments (changed: the tool fields are removed)
    """
    known = {name for row in table.values() for name in row.field_names}
    return {name: kwargs.pop(name) for name in list(kwargs) if name in known}


def check_tool_values(table: Mapping[str, Tool], tool: str, inputs: Mapping[str, Any], max_credits: Any) -> None:
    """
    Check a tool operator's values against the row serving them; no I/O.

    The tool must be in ``table``; the inputs are checked against the row that serves them (the tool's, or the
    one its ``option`` is routed to; while that ``option`` is unrendered, the inputs wait for it); then the
    credit guard (:func:`check_max_credits`).

    :raises VimmerseInputError: naming the argument or the field
    """
    row = get_tool(table, tool)
    if not (row.option_routes and fields.is_templated(inputs.get(row.option_field))):
        fields.prepare_values(resolve_tool(table, tool, inputs), inputs)  # literal values; templated ones later
    if max_credits is not None:
        check_max_credits(resolve_tool(table, tool, inputs), inputs, max_credits)


def check_max_credits(row: Tool, inputs: Mapping[str, Any], max_credits: Any) -> None:
    """
    Check the credit guard: a number, at least 0, for a request whose credits the API can estimate without a guess.

    :raises VimmerseInputError: naming ``max_credits``
    """
    from airflow_provider_vimmerse.api.video import estimate_problem

    if isinstance(max_credits, bool) or not isinstance(max_credits, (int, float)) or max_credits < 0:
        raise VimmerseInputError("max_credits", f"must be a number of credits, at least 0, got {max_credits!r}")
    problem = estimate_problem(row, inputs)  # a templated value counts as given
    if problem is not None:
        raise VimmerseInputError("max_credits", problem)


def check_credits(operator: VimmerseJobOperator, row: Tool, values: Mapping[str, Any], max_credits: float) -> None:
    """
    Ask the API what the request would cost and fail, sending nothing else, when it is over ``max_credits``.

    :param operator: the task (its hook and log)
    :param row: the tool's row
    :param values: the prepared values the request will send
    :param max_credits: the most the request may cost
    :raises AirflowFailException: over the limit, or when the API cannot estimate the request
    """
    from airflow_provider_vimmerse.api.video import estimate_request, parse_estimate

    req = estimate_request(row, values)
    try:
        estimate = parse_estimate(operator.hook.request(req))
    except (VimmerseValidationError, VimmerseNotFoundError) as error:
        raise AirflowFailException(
            f"Credit guard: could not estimate {row.name!r} ({error}); nothing was submitted. "
            "Remove max_credits to run without the guard."
        ) from error
    if estimate > max_credits:
        raise AirflowFailException(
            f"Credit guard: {row.name!r} is estimated at {estimate:g} credits, over max_credits="
            f"{max_credits:g}; nothing was submitted."
        )
    operator.log.info("%s is estimated at %g credits (max_credits=%g)", row.name, estimate, max_credits)


def fetch_keyed_inputs(
    operator: VimmerseJobOperator, row: Tool, values: Mapping[str, Any]
) -> list[tuple[LocalInput, tuple[str, bytes]]]:
    """
    Fetch the inputs that only the API itself serves with the key, so they can be uploaded like files.

    A media's video is served by ``GET /media/{id}/download`` (its ``result`` is empty, as the API
    documents it), which needs the API key: a tool given that URL could not read it. The file is
    fetched with the key (sent to the API's origin only) and uploaded (``POST /v2/video``).

    :return: each such input, with its file name and bytes
    """
    from airflow_provider_vimmerse.api.jobs import is_download_route

    config = operator.hook.config
    keyed = fields.media_inputs(
        row, values, lambda v: isinstance(v, str) and config.same_origin(v) and is_download_route(v)
    )
    fetched = []
    with tempfile.TemporaryDirectory(prefix="vimmerse-") as folder:
        for item in keyed:
            operator.log.info("%s is served by the API with the key: fetching it to upload it", item.label)
            extension = {"video": "mp4", "image": "png", "audio": "mp3"}.get(item.media, "bin")
            path = operator.hook.download(str(item.source), folder, fallback_name=f"{item.field}.{extension}")
            fetched.append((item, read_file(item.label, path)))
    return fetched


def upload(operator: VimmerseJobOperator, item: LocalInput, filename: str, content: bytes) -> str:
    """
    Upload one local file and return its hosted URL (waiting for the upload when it is not finished).

    :param operator: the task (its hook, log and wait)
    :param item: the input the file was given for
    :param filename: the file's name
    :param content: the file's bytes
    :raises VimmerseJobMayExistError: when the answer names no hosted URL
    """
    from airflow_provider_vimmerse.api.responses import unwrap
    from airflow_provider_vimmerse.api.status import JobStatus
    from airflow_provider_vimmerse.api.tools import is_job_answer
    from airflow_provider_vimmerse.api.video import hosted_url, upload_request
    from airflow_provider_vimmerse.api.waiting import JobWatch

    req = upload_request(item.media, filename, content)
    body = operator.hook.request(req)
    url = hosted_url(body)
    obj = unwrap(body)
    if url is None and is_job_answer(obj):
        kind = operator.job_kind
        watch = JobWatch(kind, str(obj["id"]), time.time() + UPLOAD_TIMEOUT, operator.wait_interval())
        event = operator.wait_here(watch)
        if event.status is not JobStatus.SUCCESS:
            raise job_error(event)
        url = hosted_url(operator.hook.get_job(kind, watch.job_id))
    if url is None:
        raise VimmerseJobMayExistError(f"{req.describe()} answered without a hosted URL: {str(obj)[:200]!r}")
    operator.log.info("Uploaded %s (%s, %d bytes) for %s: %s", filename, item.media, len(content), item.label, url)
    return url
