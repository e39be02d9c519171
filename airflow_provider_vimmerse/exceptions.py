"""
Errors raised by the Vimmerse provider.

One small hierarchy under :class:`VimmerseError`. HTTP answers are translated once, in
:func:`airflow_provider_vimmerse.api.responses.error_from_response`; transport failures in the hook.
No message, ``repr`` or attribute of these errors ever holds the API key.

Each error declares what it carries as keyword-only dataclass fields (``repr`` and equality stay the
exception's own); the message is the exception's single argument.

This module imports nothing from Airflow so the pure API modules can use it.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field


@dataclass(eq=False, repr=False)
class VimmerseError(Exception):
    """
    Base class of every error this provider raises.

    :param message: what went wrong, for a person
    :param method: HTTP method of the request, when there was one
    :param path: API path of the request, when there was one
    :param status: HTTP status of the answer, when there was one
    :param code: the server's error code (``"MEDIA_NOT_FOUND"``, ...), when it sent one
    :param server_message: the server's own message, when it sent one
    """

    message: str
    _: KW_ONLY
    method: str | None = None
    path: str | None = None
    status: int | None = None
    code: str | None = None
    server_message: str | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __reduce__(self):  # type: ignore[no-untyped-def]
        # Keep keyword-only attributes when the error crosses a process boundary (pickle).
        return (_rebuild, (type(self), self.message, dict(self.__dict__)))


def _rebuild(cls: type[VimmerseError], message: str, state: dict) -> VimmerseError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class VimmerseInputError(VimmerseError, ValueError):
    """Bad input caught before any request was sent; names the field and the allowed values."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"Invalid {field!r}: {message}")
        self.field = field


@dataclass(eq=False, repr=False, kw_only=True)
class VimmerseConnectionError(VimmerseError):
    """
    The request did not get a complete answer (network error, dropped connection, timeout).

    ``sent`` is False only when the request provably never reached the server (connection refused,
    DNS failure, connect timeout); then resending it cannot create a second job.
    """

    sent: bool


class VimmerseTimeoutError(VimmerseConnectionError):
    """The server did not answer in time."""


class VimmerseAPIError(VimmerseError):
    """The API answered with an HTTP error status."""


class VimmerseAuthError(VimmerseAPIError):
    """401/403: the API key was rejected."""


class VimmerseInsufficientCreditError(VimmerseAPIError):
    """402: the account is out of credits. Never retried."""


class VimmerseNotFoundError(VimmerseAPIError):
    """404: the job or route does not exist."""


@dataclass(eq=False, repr=False, kw_only=True)
class VimmerseValidationError(VimmerseAPIError):
    """400/422: the server refused the input; ``fields`` names the offending fields."""

    fields: list[str] = field(default_factory=list)


@dataclass(eq=False, repr=False, kw_only=True)
class VimmerseRateLimitError(VimmerseAPIError):
    """429: rate or concurrency limit, after the retries were spent; ``retry_after`` is the server's wait, if any."""

    retry_after: float | None = None


@dataclass(eq=False, repr=False, kw_only=True)
class VimmerseServerError(VimmerseAPIError):
    """5xx from the API; ``retry_after`` is the server's wait, if any."""

    retry_after: float | None = None


class VimmerseResponseError(VimmerseError):
    """The answer was not what the API documents (not JSON, missing fields, wrong shape)."""


class VimmerseJobMayExistError(VimmerseError):
    """
    A request that spends credits failed after it was sent, so the job may exist anyway.

    It is deliberately not retried: resending could pay twice. The message says how to check.
    """


@dataclass(eq=False, repr=False, kw_only=True)
class VimmerseJobError(VimmerseError):
    """A job ended without success (failed, cancelled) or was not finished in time: its kind, id and outcome."""

    kind: str
    job_id: str
    outcome: str
