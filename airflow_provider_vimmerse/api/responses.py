"""
Response parsing shared by the sync and the async path.

Everything the API answers goes through here: JSON decoding, the ``{"data": ...}`` wrapper
(:func:`~airflow_provider_vimmerse.api.envelope.unwrap`), progress
values that arrive as ints or strings, ``Retry-After``, and the one translation of HTTP error
statuses into :mod:`airflow_provider_vimmerse.exceptions`.

Pure module: no Airflow imports, no HTTP client imports.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from airflow_provider_vimmerse.api.envelope import unwrap
from airflow_provider_vimmerse.api.jobs import JobKind, group_members, output_urls, run_fingerprint
from airflow_provider_vimmerse.api.status import JobStatus
from airflow_provider_vimmerse.exceptions import (
    VimmerseAPIError,
    VimmerseAuthError,
    VimmerseInsufficientCreditError,
    VimmerseNotFoundError,
    VimmerseRateLimitError,
    VimmerseResponseError,
    VimmerseServerError,
    VimmerseValidationError,
)

#: Fields where the API puts a human-readable failure reason on a job object.
_MESSAGE_FIELDS = ("error_message", "error", "message", "fail_reason", "reason", "note")
_MAX_BODY_IN_MESSAGE = 300


def parse_json(text: str | bytes, *, method: str, path: str, status: int) -> Any:
    """
    Decode a JSON answer.

    :raises VimmerseResponseError: when the body is not JSON
    """
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError):
        snippet = _snippet(text)
        raise VimmerseResponseError(
            f"{method} {path} answered {status} with a body that is not JSON: {snippet!r}",
            method=method,
            path=path,
            status=status,
        ) from None


def expect_object(body: Any, *, method: str, path: str) -> dict[str, Any]:
    """
    Return the unwrapped answer when it is a JSON object.

    :raises VimmerseResponseError: for any other shape
    """
    obj = unwrap(body)
    if not isinstance(obj, dict):
        raise VimmerseResponseError(
            f"{method} {path} answered {type(obj).__name__} where an object was expected: {_snippet(obj)!r}",
            method=method,
            path=path,
        )
    return obj


def parse_progress(value: Any) -> int | None:
    """Return a progress percentage 0-100 from an int, float or string such as ``"40"`` or ``"40%"``."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        value = value.strip().rstrip("%").strip()
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if not math.isfinite(number):
        return None
    return max(0, min(100, int(number)))


def parse_retry_after(value: str | None) -> float | None:
    """Return the seconds a ``Retry-After`` header asks to wait (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
            if when.tzinfo is None:
                when = when.replace(tzinfo=timezone.utc)
            seconds = (when - datetime.now(timezone.utc)).total_seconds()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def error_from_response(
    *, method: str, path: str, status: int, body: str | bytes, retry_after: str | None = None
) -> VimmerseAPIError:
    """
    Translate an HTTP error answer into the matching :class:`.VimmerseAPIError` subclass.

    The message names the method, path, status and the server's message and code (when it differs).

    :param method: HTTP method of the request
    :param path: API path of the request (no host, no query)
    :param status: HTTP status code (>= 400)
    :param body: raw answer body
    :param retry_after: the ``Retry-After`` header, if any
    """
    server_message, code, fields = _error_details(body)
    # README.md's error bodies pair a message with a code: name both when they differ.
    both = f"{server_message} [{code}]" if server_message and code and code != server_message else None
    shown = both or server_message or code or _snippet(body) or "no message"
    where = f"{method} {path} answered {status}"
    common: dict[str, Any] = {
        "method": method,
        "path": path,
        "status": status,
        "code": code,
        "server_message": server_message,
    }
    if status in (401, 403):
        return VimmerseAuthError(
            f"{where}: the API key was rejected ({shown}). Check the password field of the Vimmerse connection.",
            **common,
        )
    if status == 402:
        return VimmerseInsufficientCreditError(
            f"{where}: the Vimmerse account is out of credits ({shown}). Add credits; this is not retried.",
            **common,
        )
    if status == 404:
        return VimmerseNotFoundError(f"{where}: not found ({shown})", **common)
    if status in (400, 422):
        named = f" (fields: {', '.join(fields)})" if fields else ""
        return VimmerseValidationError(
            f"{where}: the server refused the input{named}: {shown}", fields=fields, **common
        )
    if status == 429:
        return VimmerseRateLimitError(
            f"{where}: rate or concurrency limit reached ({shown})",
            retry_after=parse_retry_after(retry_after),
            **common,
        )
    if status >= 500:
        return VimmerseServerError(
            f"{where}: server error ({shown})", retry_after=parse_retry_after(retry_after), **common
        )
    return VimmerseAPIError(f"{where}: {shown}", **common)


@dataclass(frozen=True)
class JobSnapshot:
    """
    One reading of a job's status.

    :param kind: the job kind's name
    :param job_id: the job's id
    :param raw_status: the status value exactly as the API sent it
    :param state: what it means; None when the value is unknown (treated as running)
    :param progress: progress percentage, when the API sent one
    :param message: the server's failure reason, when it sent one
    :param finished: for a batch or story: how many of its media succeeded so far
    :param failed: for a batch or story: how many of its media failed so far
    :param total: for a batch or story: how many media it has, when the object lists them
    :param fingerprint: what identifies the job's latest finished run
        (:func:`~airflow_provider_vimmerse.api.jobs.run_fingerprint`), when the reading included the
        full object; None when it did not (a media's status route)
    :param has_output: whether the full object lists an output, when the reading included it
    """

    kind: str
    job_id: str
    raw_status: str
    state: JobStatus | None
    progress: int | None
    message: str | None = None
    finished: int | None = None
    failed: int | None = None
    total: int | None = None
    fingerprint: Mapping[str, Any] | None = None
    has_output: bool | None = None

    @property
    def effective_state(self) -> JobStatus:
        """Return the state to act on: unknown values count as running."""
        return self.state or JobStatus.RUNNING

    def describe(self) -> str:
        """
        Return a short progress line such as ``media 1f2e: 40% processing_bullet``.

        Batches and stories with media add the counts: ``batch 1f2e: 40% processing (3/8 finished, 1 failed)``.
        """
        progress = f"{self.progress}% " if self.progress is not None else ""
        line = f"{self.kind} {self.job_id}: {progress}{self.raw_status or '(no status)'}"
        if self.finished is None or not (self.total or self.finished or self.failed):
            return line
        of_total = f"/{self.total}" if self.total else ""
        return f"{line} ({self.finished}{of_total} finished, {self.failed or 0} failed)"


def parse_snapshot(kind: JobKind, job_id: str, body: Any, *, method: str = "GET", path: str = "") -> JobSnapshot:
    """
    Read a job's status answer (wrapped or bare) into a :class:`JobSnapshot`.

    :raises VimmerseResponseError: when the answer is not an object or has no status field
    """
    obj = expect_object(body, method=method, path=path)
    raw = obj.get(kind.status_field)
    if not isinstance(raw, str):
        raise VimmerseResponseError(
            f"{method} {path} answered without a {kind.status_field!r} string: {_snippet(obj)!r}",
            method=method,
            path=path,
        )
    state = kind.state_of(raw)
    members = group_members(kind, obj)
    whole = kind.status_path == kind.detail_path  # the status route answers the full object
    return JobSnapshot(
        kind=kind.name,
        job_id=job_id,
        raw_status=raw,
        state=state,
        progress=parse_progress(obj.get(kind.progress_field)),
        message=_failure_reason(state, obj),
        finished=len(members.finished) if members else None,
        failed=len(members.failed) if members else None,
        total=members.total if members else None,
        fingerprint=run_fingerprint(kind, obj) if whole and kind.run_markers else None,
        has_output=bool(output_urls(kind, obj)) if whole else None,
    )


def with_full_object(snapshot: JobSnapshot, kind: JobKind, obj: Mapping[str, Any], *, api_url: str) -> JobSnapshot:
    """
    Return a status reading completed from the job's full object: its run fingerprint and outputs.

    :param snapshot: the reading of the status route
    :param kind: the job's kind
    :param obj: the unwrapped full object
    :param api_url: the API base URL (outputs served by the download route count)
    """
    return replace(
        snapshot,
        fingerprint=run_fingerprint(kind, obj),
        has_output=bool(output_urls(kind, {**obj, "id": obj.get("id") or snapshot.job_id}, api_url=api_url)),
        message=snapshot.message or _failure_reason(snapshot.state, obj),
    )


def failure_message(obj: Mapping[str, Any]) -> str | None:
    """Return the server's reason for a failed job, when the object carries one."""
    for field in _MESSAGE_FIELDS:
        value = obj.get(field)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _failure_reason(state: JobStatus | None, obj: Mapping[str, Any]) -> str | None:
    """Return the server's reason when ``state`` says the job failed or was cancelled."""
    return failure_message(obj) if state is not None and state.is_failure else None


def _error_details(body: str | bytes) -> tuple[str | None, str | None, list[str]]:
    """Return (server message, code, field names) from an error body."""
    try:
        data = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None, None, []
    if not isinstance(data, dict):
        return None, None, []
    message = data.get("message") if isinstance(data.get("message"), str) else None
    code = data.get("code") if isinstance(data.get("code"), str) else None
    fields: list[str] = []
    detail = data.get("detail")
    if isinstance(detail, list):
        messages = []
        for item in detail:
            if not isinstance(item, dict):
                continue
            raw_loc = item.get("loc")
            parts = raw_loc if isinstance(raw_loc, list) else [raw_loc] if isinstance(raw_loc, str) else []
            loc = [str(part) for part in parts if part not in ("body", "query", "path", "header")]
            field = ".".join(loc)
            if field:
                fields.append(field)
            messages.append(f"{field or '?'}: {item.get('msg', '')}".strip())
        message = message or "; ".join(messages) or None
    elif isinstance(detail, str):
        message = message or detail
    return message, code, fields


def _snippet(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    text = value if isinstance(value, str) else repr(value)
    text = text.strip()
    return text if len(text) <= _MAX_BODY_IN_MESSAGE else text[:_MAX_BODY_IN_MESSAGE] + "..."
