"""
The small result every operator returns (and pushes to XCom): never the whole raw object.

Pure module: no Airflow imports.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

from airflow_provider_vimmerse.api.jobs import JobKind, output_urls
from airflow_provider_vimmerse.api.responses import failure_message, parse_progress

#: Fields copied from the API object when present, because a downstream task may want them.
_PASS_THROUGH = ("title", "description", "batch_id", "aspect_ratio", "duration_time", "created_at", "updated_at")


class JobResult(TypedDict, total=False):
    """
    What a Vimmerse operator returns.

    ``kind``, ``id``, ``status``, ``progress``, ``video_urls`` and ``web_url`` are always present.
    """

    kind: str
    id: str
    status: str
    progress: int | None
    video_urls: list[str]
    web_url: str
    message: str | None
    title: str
    description: str
    batch_id: str
    aspect_ratio: str
    duration_time: str
    created_at: str
    updated_at: str
    paths: list[str]


def build_result(kind: JobKind, job_id: str, obj: Mapping[str, Any], *, web_url: str) -> JobResult:
    """
    Build the result of a job from its full API object.

    :param kind: the job's kind
    :param job_id: the job's id (used when the object lacks one)
    :param obj: the unwrapped API object
    :param web_url: link to the job in the Vimmerse web app
    """
    status = obj.get(kind.status_field)
    result: JobResult = {
        "kind": kind.name,
        "id": str(obj.get("id") or job_id),
        "status": status if isinstance(status, str) else "",
        "progress": parse_progress(obj.get(kind.progress_field)),
        "video_urls": output_urls(kind, obj),
        "web_url": web_url,
    }
    message = failure_message(obj)
    if message:
        result["message"] = message
    for name in _PASS_THROUGH:
        value = obj.get(name)
        if isinstance(value, str) and value:
            result[name] = value  # type: ignore[literal-required]
    return result
