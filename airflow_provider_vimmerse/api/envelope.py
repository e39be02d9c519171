"""
The ``{"data": ...}`` wrapper some routes put around an answer, and taking it off.

Legacy routes answer ``{"data": {...}, "message": ..., "code": ...}``, sometimes one wrapper inside
another; newer ones answer the object itself. Every reader of an answer takes the wrapper off first
with :func:`unwrap` (:mod:`~airflow_provider_vimmerse.api.responses`, and the job kinds'
:func:`~airflow_provider_vimmerse.api.jobs.job_object`).

Pure module: no Airflow imports.
"""

from __future__ import annotations

from typing import Any

#: Keys that may sit beside ``data`` in a wrapper object.
_WRAPPER_KEYS = frozenset({"data", "message", "code", "success", "status_code"})


def unwrap(body: Any) -> Any:
    """Return the object inside ``{"data": ...}`` wrappers (legacy routes, sometimes nested), or the body."""
    while isinstance(body, dict) and "data" in body and body.keys() <= _WRAPPER_KEYS:
        inner = body["data"]
        if not isinstance(inner, (dict, list)):
            break
        body = inner
    return body
