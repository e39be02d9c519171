"""
The retry policy, one for the sync and the async path.

What is retried:

* connection errors, timeouts, 5xx and 429, with exponential backoff with jitter, honouring a
  ``Retry-After`` header (capped) when the server sends one;
* never 402 or any other 4xx;
* a request that spends credits (creates or regenerates a job) only when the server provably did not
  take it: the connection was never established, or the answer was 429 or 503. A read timeout, a
  dropped connection or a 500/502/504 after the request was sent are not retried for such a
  request, because the job may exist and a second submit would pay twice.

Pure module: no Airflow imports.
"""

from __future__ import annotations

import random

from airflow_provider_vimmerse.exceptions import (
    VimmerseConnectionError,
    VimmerseError,
    VimmerseRateLimitError,
    VimmerseResponseError,
    VimmerseServerError,
)

#: 5xx statuses that say the server did not process the request.
_NOT_TAKEN_STATUSES = frozenset({503})
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 60.0
#: Longest ``Retry-After`` honoured; a longer one is cut to this.
RETRY_AFTER_MAX_SECONDS = 300.0


def provably_not_taken(error: BaseException) -> bool:
    """Return True when the failed request certainly did not reach the server's job logic."""
    if isinstance(error, VimmerseConnectionError):
        return not error.sent
    if isinstance(error, VimmerseRateLimitError):
        return True
    if isinstance(error, VimmerseServerError):
        return error.status in _NOT_TAKEN_STATUSES
    return False


def is_transient(error: BaseException) -> bool:
    """Return True for errors that may go away by themselves (network, timeouts, 5xx, 429, garbled body)."""
    return isinstance(
        error, (VimmerseConnectionError, VimmerseRateLimitError, VimmerseServerError, VimmerseResponseError)
    )


def should_retry(error: BaseException, *, spends_credits: bool) -> bool:
    """
    Decide whether to send a failed request again.

    :param error: the error the attempt ended with
    :param spends_credits: whether the request creates or regenerates a job
    """
    if not isinstance(error, VimmerseError) or not is_transient(error):
        return False
    if spends_credits:
        return provably_not_taken(error)
    return True


def retry_delay(attempt: int, error: BaseException | None = None, *, rng: random.Random | None = None) -> float:
    """
    Return how long to wait before retry number ``attempt`` (1 for the first retry).

    The server's ``Retry-After`` wins when present; otherwise exponential backoff, each wait drawn
    between half and all of its ceiling.
    """
    retry_after = getattr(error, "retry_after", None)
    if isinstance(retry_after, (int, float)):
        return min(float(retry_after), RETRY_AFTER_MAX_SECONDS)
    ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** min(max(0, attempt - 1), 32))
    return (rng or random).uniform(ceiling / 2, ceiling)
