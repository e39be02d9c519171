"""Tests of the retry policy: what is sent again, what never is (it could pay twice), and how long to wait."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from airflow_provider_vimmerse.api.responses import error_from_response
from airflow_provider_vimmerse.api.retry import (
    BACKOFF_MAX_SECONDS,
    RETRY_AFTER_MAX_SECONDS,
    is_transient,
    provably_not_taken,
    retry_delay,
    should_retry,
)
from airflow_provider_vimmerse.exceptions import (
    VimmerseConnectionError,
    VimmerseError,
    VimmerseInputError,
    VimmerseJobError,
    VimmerseJobMayExistError,
    VimmerseResponseError,
    VimmerseTimeoutError,
)


def http_error(status: int, retry_after: str | None = None) -> VimmerseError:
    return error_from_response(
        method="POST", path="/media", status=status, body=b'{"message": "x"}', retry_after=retry_after
    )


def never_connected() -> VimmerseError:
    return VimmerseConnectionError("connection refused", sent=False, method="POST", path="/media")


def connect_timeout() -> VimmerseError:
    return VimmerseTimeoutError("connect timed out", sent=False, method="POST", path="/media")


def read_timeout() -> VimmerseError:
    return VimmerseTimeoutError("read timed out", sent=True, method="POST", path="/media")


def dropped_connection() -> VimmerseError:
    return VimmerseConnectionError("connection reset by peer", sent=True, method="POST", path="/media")


def garbled_body() -> VimmerseError:
    return VimmerseResponseError("POST /media answered 200 with a body that is not JSON", status=200)


@pytest.mark.parametrize("spends_credits", [True, False])
def test_a_402_is_never_retried(spends_credits: bool) -> None:
    assert not should_retry(http_error(402), spends_credits=spends_credits)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 409, 413, 422])
@pytest.mark.parametrize("spends_credits", [True, False])
def test_client_errors_other_than_429_are_never_retried(status: int, spends_credits: bool) -> None:
    assert not should_retry(http_error(status), spends_credits=spends_credits)


# Failures the hook can end a request with, by name.
FAILURES: dict[str, Callable[[], VimmerseError]] = {
    "500": lambda: http_error(500),
    "502": lambda: http_error(502),
    "503": lambda: http_error(503),
    "504": lambda: http_error(504),
    "429": lambda: http_error(429),
    "refused": never_connected,
    "connect-timeout": connect_timeout,
    "read-timeout": read_timeout,
    "dropped": dropped_connection,
    "garbled": garbled_body,
}
NOT_TAKEN = ["503", "429", "refused", "connect-timeout"]
MAYBE_TAKEN = ["500", "502", "504", "read-timeout", "dropped", "garbled"]


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_a_read_that_spends_nothing_is_retried_after_any_transient_failure(failure: str) -> None:
    assert should_retry(FAILURES[failure](), spends_credits=False)


@pytest.mark.parametrize("failure", NOT_TAKEN)
def test_a_post_that_creates_a_job_is_retried_when_the_server_provably_did_not_take_it(failure: str) -> None:
    error = FAILURES[failure]()
    assert provably_not_taken(error)
    assert should_retry(error, spends_credits=True)


@pytest.mark.parametrize("failure", MAYBE_TAKEN)
def test_a_post_that_creates_a_job_is_not_retried_once_the_server_may_have_taken_it(failure: str) -> None:
    error = FAILURES[failure]()
    assert not provably_not_taken(error)
    assert not should_retry(error, spends_credits=True)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bug in our code"),
        KeyError("status"),
        TimeoutError("stdlib timeout, not translated"),
        VimmerseInputError("motion_type", "unknown value"),
        VimmerseJobMayExistError("POST /media may have created a job"),
        VimmerseJobError("media m1 failed", kind="media", job_id="m1", outcome="failed"),
    ],
    ids=lambda error: type(error).__name__,
)
@pytest.mark.parametrize("spends_credits", [True, False])
def test_errors_that_will_not_go_away_are_never_retried(error: BaseException, spends_credits: bool) -> None:
    assert not should_retry(error, spends_credits=spends_credits)


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_network_server_rate_limit_and_garbled_answers_are_transient(failure: str) -> None:
    assert is_transient(FAILURES[failure]())


@pytest.mark.parametrize("status", [400, 402, 404, 422])
def test_client_errors_are_not_transient(status: int) -> None:
    assert not is_transient(http_error(status))
    assert not provably_not_taken(http_error(status))


def test_a_job_that_may_exist_is_neither_transient_nor_provably_not_taken() -> None:
    error = VimmerseJobMayExistError("POST /media failed after the request reached the server")
    assert not is_transient(error)
    assert not provably_not_taken(error)


# ---------------------------------------------------------------------- retry_delay


@pytest.mark.parametrize("status", [429, 503])
def test_the_server_retry_after_is_honoured(status: int) -> None:
    assert retry_delay(1, http_error(status, retry_after="7")) == 7.0
    assert retry_delay(4, http_error(status, retry_after="0")) == 0.0


def test_a_very_long_retry_after_is_capped() -> None:
    assert retry_delay(1, http_error(429, retry_after="86400")) == RETRY_AFTER_MAX_SECONDS


@pytest.mark.parametrize(
    ("attempt", "low", "high"),
    [(1, 0.5, 1.0), (2, 1.0, 2.0), (3, 2.0, 4.0), (6, 16.0, 32.0), (7, 30.0, 60.0), (50, 30.0, 60.0)],
)
def test_backoff_doubles_per_attempt_with_jitter_and_stops_growing_at_the_cap(
    attempt: int, low: float, high: float
) -> None:
    rng = random.Random(1234)
    for _ in range(50):
        assert low <= retry_delay(attempt, read_timeout(), rng=rng) <= high


@pytest.mark.parametrize("attempt", [0, -3])
def test_an_attempt_number_below_one_waits_like_the_first_retry(attempt: int) -> None:
    assert 0.5 <= retry_delay(attempt, rng=random.Random(1)) <= 1.0


def test_a_429_without_retry_after_falls_back_to_backoff() -> None:
    delay = retry_delay(3, http_error(429), rng=random.Random(7))
    assert 2.0 <= delay <= 4.0


def test_jitter_spreads_retries_of_many_tasks() -> None:
    rng = random.Random(99)
    delays = {retry_delay(5, dropped_connection(), rng=rng) for _ in range(20)}
    assert len(delays) > 10


def test_the_same_random_source_gives_the_same_wait() -> None:
    assert retry_delay(4, rng=random.Random(5)) == retry_delay(4, rng=random.Random(5))


@pytest.mark.parametrize("attempt", [1025, 5000])
def test_a_connection_with_very_many_retries_still_waits_at_most_the_cap(attempt: int) -> None:
    # extra.retries has no upper bound, so tenacity can ask for any attempt number.
    delay = retry_delay(attempt, http_error(502), rng=random.Random(0))
    assert BACKOFF_MAX_SECONDS / 2 <= delay <= BACKOFF_MAX_SECONDS
