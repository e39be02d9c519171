"""
Errors raised by the Vimmerse provider.

One small hierarchy under :class:`VimmerseError`. HTTP answers are translated once, in
:func:`airflow_provider_vimmerse.api.responses.error_from_response`; transport failures in the hook.
No message, ``repr`` or attribute of these errors ever holds the API key.

This module imports nothing from Airflow so the pure API modules can use it.
"""

from __future__ import annotations


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

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        code: str | None = None,
        server_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.status = status
        self.code = code
        self.server_message = server_message

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


class VimmerseConnectionError(VimmerseError):
    """
    The request did not get a complete answer (network error, dropped connection, timeout).

    ``sent`` is False only when the request provably never reached the server (connection refused,
    DNS failure, connect timeout); then resending it cannot create a second job.
    """

    def __init__(self, message: str, *, sent: bool, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.sent = sent


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


class VimmerseValidationError(VimmerseAPIError):
    """400/422: the server refused the input; ``fields`` names the offending fields."""

    def __init__(self, message: str, *, fields: list[str] | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.fields = fields or []


class VimmerseRateLimitError(VimmerseAPIError):
    """429: rate or concurrency limit, after the retries were spent."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class VimmerseServerError(VimmerseAPIError):
    """5xx from the API."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class VimmerseResponseError(VimmerseError):
    """The answer was not what the API documents (not JSON, missing fields, wrong shape)."""


class VimmerseJobMayExistError(VimmerseError):
    """
    A request that spends credits failed after it was sent, so the job may exist anyway.

    It is deliberately not retried: resending could pay twice. The message says how to check.
    """


class VimmerseJobError(VimmerseError):
    """A job ended without success (failed, cancelled) or was not finished in time."""

    def __init__(self, message: str, *, kind: str, job_id: str, outcome: str, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.kind = kind
        self.job_id = job_id
        self.outcome = outcome
