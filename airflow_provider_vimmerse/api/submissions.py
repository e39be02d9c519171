"""
What the API answered to a request that starts a job, runs one again, or does its work at once.

:func:`parse_submission` reads every such answer into one :class:`Submission`: the job to follow, and,
when the answer already says so, its status, that it is finished, or the output itself. The
operators branch on that value: wait for the job, return the finished job without waiting, or return
the output.

Pure module: no Airflow imports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_vimmerse.api.jobs import JOB_KINDS
from airflow_provider_vimmerse.api.responses import JobSnapshot, parse_snapshot, unwrap
from airflow_provider_vimmerse.api.status import JobStatus
from airflow_provider_vimmerse.exceptions import VimmerseJobMayExistError

if TYPE_CHECKING:
    from airflow_provider_vimmerse.api.results import JobResult
    from airflow_provider_vimmerse.api.routes import Tool
    from airflow_provider_vimmerse.api.waiting import Rerun


@dataclass(frozen=True)
class Submission:
    """
    What a request answered: the job to follow, and what the answer already says about it.

    :param job_id: the job's id; empty when the answer is the output itself and there is no job
    :param rerun: set when the request ran a finished job again: the wait must see a new run before it
        believes ``success`` (see :class:`~airflow_provider_vimmerse.api.waiting.Rerun`)
    :param status: the job's status as the answer showed it; None when the answer has none (poll for it)
    :param done: the job's work is finished: its result is read without waiting
    :param finished: the finished job's object, when the answer is that object (no need to fetch it)
    :param output: the output itself, when the answer carries it and no job (``text/prompt``)
    :param webhook: the trigger's hint settings when the request asked the API to call a webhook
        (``docs/waiting.md``); None when it did not, or when an earlier try's job was taken back
    :param wait_kind: the job kind to wait on when it is not the operator's own (a story step whose
        answer did not come in time is waited on as ``story_scenes``...); empty: the operator's
    """

    job_id: str
    rerun: Rerun | None = None
    status: JobSnapshot | None = None
    done: bool = False
    finished: Mapping[str, Any] | None = None
    output: JobResult | None = None
    webhook: dict[str, Any] | None = None
    wait_kind: str = ""


def parse_submission(
    body: Any,
    what: str,
    *,
    job_id: str | None = None,
    done: bool = False,
    tool: Tool | None = None,
) -> Submission:
    """
    Read the answer of a request that spends credits into a :class:`Submission`.

    The job's id is the answer's ``id``, else the id the request named (``job_id``). A tool's answer is
    the asset itself: its status is the first reading, and a finished asset is returned as it is; a
    tool's answer without an asset id may carry the output itself
    (:func:`~airflow_provider_vimmerse.api.tools.immediate_result`). Other answers' status is left to
    the wait, which reads it from the job's status route.

    :param body: the decoded answer
    :param what: the request, ``METHOD /path``, for messages
    :param job_id: the job the request named in its path (an edit, a story step), if any
    :param done: the request answers when its work is done (a metadata edit; the story's storyboard,
        elements and scenes steps): the answer's object, if any, is the finished job
    :param tool: the tool row, for the answers of the tool tables
    :raises VimmerseJobMayExistError: for an answer with no job id (and no output): the request was
        taken and may have been charged, so it must not be sent again
    """
    obj = unwrap(body)
    found = obj.get("id") if isinstance(obj, Mapping) else None
    if isinstance(found, str) and found:
        new_id = found
    elif tool is not None:
        from airflow_provider_vimmerse.api.tools import immediate_result

        output = immediate_result(tool, body)
        if output is not None:
            return Submission("", output=output)
        raise VimmerseJobMayExistError(
            f"{what} succeeded but its answer has neither an asset id nor an output ({str(obj)[:200]!r}); it "
            "may have been charged, so it is not sent again. Check your recent assets in the Vimmerse web app."
        )
    elif job_id:
        new_id = job_id
    else:
        raise VimmerseJobMayExistError(
            f"{what} succeeded but its answer has no job id ({str(obj)[:200]!r}); the job may have been created "
            "and charged, so it is not submitted again. Check your recent jobs in the Vimmerse web app."
        )
    if done:
        return Submission(new_id, done=True, finished=dict(obj) if isinstance(obj, Mapping) and obj else None)
    asset = JOB_KINDS["asset"]
    raw = obj.get(asset.status_field) if tool is not None and isinstance(obj, Mapping) else None
    if not isinstance(raw, str):
        return Submission(new_id)
    status = parse_snapshot(asset, new_id, obj, method="POST")
    finished = dict(obj) if status.state is JobStatus.SUCCESS else None
    return Submission(new_id, status=status, done=finished is not None, finished=finished)
