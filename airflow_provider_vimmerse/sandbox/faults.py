"""Fault rules of the sandbox: which request goes wrong, and how.

A rule is matched against the method and path of every API request (not ``/health``, not ``/_sandbox/*``).
The first rule that matches, still has ``times`` left and wins its ``probability`` draw is applied.

Kinds:

- ``status``: answer ``status`` (429, 500, 502, 503 or 504) with a small JSON body, plus ``Retry-After``
  when ``retry_after`` is set.
- ``drop``: send the status line, a ``Content-Length`` and part of the body, then cut the connection.
- ``slow``: wait ``delay`` seconds, then answer normally.
- ``malformed``: answer 200 with a body that is not valid JSON.

Phase ``before`` means the request is not processed (no job, no credits); phase ``after`` means it is
processed first (the job exists and was paid for) and the fault replaces the answer. Default phase: 429 and
503 happen before, everything else after.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

FAULT_KINDS = ("status", "drop", "slow", "malformed")
FAULT_STATUSES = (429, 500, 502, 503, 504)
PHASES = ("before", "after")
STATUS_MESSAGES = {
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}
DEFAULT_SLOW_DELAY = 1.0


@dataclass
class FaultRule:
    """One fault injection rule; see the module docstring for the meaning of each field."""

    fault: str
    status: int | None = None
    retry_after: float | None = None
    delay: float = DEFAULT_SLOW_DELAY
    method: str | None = None
    path: str | None = None
    times: int = 1
    probability: float = 1.0
    phase: str = "after"
    id: int = 0
    applied: int = 0

    @classmethod
    def from_dict(cls, data: dict[str, Any], rule_id: int = 0) -> FaultRule:
        """Build and validate a rule from JSON-like data.

        :param data: the rule fields; unknown fields are an error.
        :param rule_id: the id given to the rule.
        :raises ValueError: when a field is unknown or has an invalid value.
        """
        allowed = {
            "fault",
            "status",
            "retry_after",
            "delay",
            "method",
            "path",
            "times",
            "probability",
            "phase",
        }
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise ValueError(f"unknown fault rule field(s): {', '.join(unknown)}")
        fault = data.get("fault")
        if fault not in FAULT_KINDS:
            raise ValueError(f"fault must be one of {', '.join(FAULT_KINDS)}")
        status = data.get("status")
        if fault == "status" and status not in FAULT_STATUSES:
            choices = ", ".join(map(str, FAULT_STATUSES))
            raise ValueError(f"status must be one of {choices} for a status fault")
        if fault != "status":
            status = None
        retry_after = data.get("retry_after")
        if retry_after is not None and (not _is_number(retry_after) or retry_after < 0):
            raise ValueError("retry_after must be a number of seconds >= 0 or null")
        delay = data.get("delay", DEFAULT_SLOW_DELAY)
        if not _is_number(delay) or delay < 0:
            raise ValueError("delay must be a number of seconds >= 0")
        method = data.get("method")
        if method is not None and not isinstance(method, str):
            raise ValueError("method must be a string or null")
        path = data.get("path")
        if path is not None:
            if not isinstance(path, str):
                raise ValueError("path must be a regular expression or null")
            try:
                re.compile(path)
            except re.error as exc:
                raise ValueError(f"path is not a valid regular expression: {exc}") from None
        times = data.get("times", 1)
        if not isinstance(times, int) or isinstance(times, bool) or times < 1:
            raise ValueError("times must be an integer >= 1")
        probability = data.get("probability", 1.0)
        if not _is_number(probability) or not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be a number between 0 and 1")
        phase = data.get("phase") or default_phase(fault, status)
        if phase not in PHASES:
            raise ValueError("phase must be 'before' or 'after'")
        return cls(
            fault=fault,
            status=status,
            retry_after=retry_after,
            delay=float(delay),
            method=method.upper() if method else None,
            path=path,
            times=times,
            probability=float(probability),
            phase=phase,
            id=rule_id,
        )

    def matches(self, method: str, path: str) -> bool:
        """Tell whether the rule still applies to a request with this method and path.

        :param method: the HTTP method of the request.
        :param path: the URL path of the request.
        """
        if self.applied >= self.times:
            return False
        if self.method is not None and self.method != method.upper():
            return False
        return self.path is None or re.search(self.path, path) is not None

    def to_dict(self) -> dict[str, Any]:
        """Return the rule as JSON-ready data, with how often it was applied."""
        return {
            "id": self.id,
            "fault": self.fault,
            "status": self.status,
            "retry_after": self.retry_after,
            "delay": self.delay,
            "method": self.method,
            "path": self.path,
            "times": self.times,
            "probability": self.probability,
            "phase": self.phase,
            "applied": self.applied,
        }


def default_phase(fault: str, status: int | None) -> str:
    """Return the default phase of a fault: 429 and 503 are refused before processing, the rest after.

    :param fault: the fault kind.
    :param status: the HTTP status of a ``status`` fault.
    """
    if fault == "status" and status in (429, 503):
        return "before"
    return "after"


def format_retry_after(seconds: float) -> str:
    """Format a ``Retry-After`` value: whole seconds without a fraction, others as given.

    :param seconds: the delay in seconds.
    """
    if float(seconds).is_integer():
        return str(int(seconds))
    return format(seconds, "g")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
