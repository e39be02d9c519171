"""
Request builders: what to send for each API call, independent of the HTTP client.

An :class:`ApiRequest` says method, path, query, body and whether the call spends credits (which
decides the retry rule). The hook turns it into a ``requests`` or an ``aiohttp`` call; both paths
use these same builders. Paths and URLs are made by :mod:`~airflow_provider_vimmerse.api.urls`.

Pure module: no Airflow imports, no HTTP client imports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from airflow_provider_vimmerse.api import urls
from airflow_provider_vimmerse.api.jobs import JobKind

#: A form body: ordered (name, value) pairs, so a field may repeat (``image_urls``).
FormFields = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class FilePart:
    """
    One uploaded file of a multipart body.

    :param field: form field name (``image_files``)
    :param filename: file name sent to the server
    :param content: the file's bytes
    :param content_type: MIME type
    """

    field: str
    filename: str
    content: bytes
    content_type: str = "application/octet-stream"

    def __repr__(self) -> str:
        return f"FilePart({self.field!r}, {self.filename!r}, {len(self.content)} bytes)"


@dataclass(frozen=True)
class ApiRequest:
    """
    One call to the API.

    :param method: HTTP method
    :param path: path below the base URL, starting with ``/``
    :param params: query parameters
    :param form: form fields (urlencoded, or multipart when ``files`` is set)
    :param files: files to upload (makes the body multipart)
    :param json: JSON body (v2 routes)
    :param spends_credits: True when the call creates or regenerates a job; such a call is only
        retried when the server provably did not take it
    :param read_timeout: seconds to wait for the answer, for calls the API answers slowly by design;
        None uses the connection's ``timeout``
    """

    method: str
    path: str
    params: Mapping[str, str] | None = None
    form: FormFields | None = None
    files: Sequence[FilePart] = field(default_factory=tuple)
    json: Any = None
    spends_credits: bool = False
    read_timeout: float | None = None

    def describe(self) -> str:
        """Return ``METHOD /path`` for messages."""
        return f"{self.method} {self.path}"


def job_status(kind: JobKind, job_id: str) -> ApiRequest:
    """Build the status poll of a job."""
    return ApiRequest("GET", urls.job_path(kind.status_path, job_id))


def job_detail(kind: JobKind, job_id: str) -> ApiRequest:
    """Build the fetch of a job's full object."""
    return ApiRequest("GET", urls.job_path(kind.detail_path, job_id))


def customer_statistics(start: str, end: str) -> ApiRequest:
    """
    Build the daily usage statistics request.

    :param start: first day, ``YYYY-MM-DD``
    :param end: last day, ``YYYY-MM-DD``
    """
    return ApiRequest("GET", f"/customer-statistics/{quote(start, safe='')}/{quote(end, safe='')}")


def form_fields(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """
    Turn a mapping into form fields the way the API wants them.

    None values are dropped; lists become repeated fields; booleans become ``true``/``false``;
    everything else is sent as its string form. (JSON-in-a-field values such as ``audio_option``
    are encoded by the caller before they get here.)
    """
    fields: list[tuple[str, str]] = []
    for name, value in values.items():
        if value is None:
            continue
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if item is None:
                continue
            if isinstance(item, bool):
                fields.append((name, "true" if item else "false"))
            else:
                fields.append((name, str(item)))
    return fields
