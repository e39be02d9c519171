"""
Property tests: whatever the API (or a proxy in front of it) answers, and whatever a user types into the
connection form, the pure API modules end in a result or in one of the provider's own errors.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from airflow_provider_vimmerse.api.config import EXTRA_FIELDS, ApiConfig
from airflow_provider_vimmerse.api.jobs import JOB_KINDS, JobKind
from airflow_provider_vimmerse.api.responses import (
    JobSnapshot,
    error_from_response,
    expect_object,
    parse_json,
    parse_progress,
    parse_retry_after,
    parse_snapshot,
)
from airflow_provider_vimmerse.api.retry import (
    BACKOFF_MAX_SECONDS,
    RETRY_AFTER_MAX_SECONDS,
    provably_not_taken,
    retry_delay,
    should_retry,
)
from airflow_provider_vimmerse.api.status import JobStatus
from airflow_provider_vimmerse.api.urls import job_path, same_origin
from airflow_provider_vimmerse.exceptions import (
    VimmerseAPIError,
    VimmerseConnectionError,
    VimmerseError,
    VimmerseInputError,
    VimmerseJobError,
    VimmerseJobMayExistError,
    VimmerseRateLimitError,
    VimmerseResponseError,
    VimmerseServerError,
    VimmerseTimeoutError,
)

# Deterministic and without an example database, so runs are repeatable and write nothing to the checkout.
PROPERTY = settings(
    max_examples=150, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)

# ---------------------------------------------------------------------- strategies

# Field names the parsers look at, so generated objects hit the interesting branches often.
API_KEYS = sorted(
    {"data", "message", "code", "success", "status_code", "detail", "loc", "msg", "type", "error_message", "error"}
    | {kind.status_field for kind in JOB_KINDS.values()}
    | {kind.progress_field for kind in JOB_KINDS.values()}
)
STATUS_VALUES = sorted(set().union(*(k.running | k.succeeded | k.failed | k.cancelled for k in JOB_KINDS.values())))

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from([*STATUS_VALUES, "40", "40%", "inf", "nan", "1e999", "-Infinity", " 12.5 % "]),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(API_KEYS), st.text(max_size=8)), children, max_size=5),
    ),
    max_leaves=25,
)


@st.composite
def status_bodies(draw: st.DrawFn, kind: JobKind) -> Any:
    """Return a status answer that looks like the real thing, with arbitrary values where it matters."""
    obj = draw(
        st.fixed_dictionaries(
            {kind.status_field: st.one_of(st.sampled_from(STATUS_VALUES), json_values)},
            optional={
                kind.progress_field: st.one_of(scalars, json_values),
                "error_message": json_values,
                "message": json_values,
                "data": json_values,
            },
        )
    )
    if draw(st.booleans()):
        obj = {"data": obj}
    return obj


any_body = st.one_of(json_values, st.binary(max_size=60), st.text(max_size=60))
kinds = st.sampled_from(sorted(JOB_KINDS)).map(JOB_KINDS.__getitem__)


@st.composite
def error_bodies(draw: st.DrawFn) -> str | bytes:
    """Return an error body: FastAPI-like, message/code-like, or anything at all, as text or bytes."""
    shaped = st.fixed_dictionaries(
        {},
        optional={
            "detail": st.one_of(
                st.lists(
                    st.fixed_dictionaries({}, optional={"loc": json_values, "msg": json_values, "type": json_values}),
                    max_size=3,
                ),
                json_values,
            ),
            "message": json_values,
            "code": json_values,
        },
    )
    value = draw(st.one_of(shaped, json_values))
    text = json.dumps(value)
    choice = draw(st.sampled_from(["text", "bytes", "raw-bytes", "raw-text"]))
    if choice == "bytes":
        return text.encode()
    if choice == "raw-bytes":
        return draw(st.binary(max_size=60))
    if choice == "raw-text":
        return draw(st.text(max_size=60))
    return text


@st.composite
def http_dates(draw: st.DrawFn) -> str:
    """Return an HTTP-date-like Retry-After value, valid or not, with any year."""
    day = draw(st.sampled_from(["Mon", "Sun", "Xyz"]))
    month = draw(st.sampled_from(["Jan", "Dec", "Foo"]))
    year = draw(st.one_of(st.integers(min_value=0, max_value=10_000), st.integers(min_value=0)))
    numbers = draw(st.lists(st.integers(min_value=0, max_value=99), min_size=4, max_size=4))
    zone = draw(st.sampled_from(["GMT", "UTC", "+0000", "-2359", "+9999", "EST", ""]))
    return f"{day}, {numbers[0]:02d} {month} {year} {numbers[1]:02d}:{numbers[2]:02d}:{numbers[3]:02d} {zone}"


retry_after_headers = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers().map(str),
    http_dates(),
)


def outcome(function: Any, *args: Any, **kwargs: Any) -> Any:
    """Return the function's result or the VimmerseError it raised; any other exception fails the test."""
    try:
        return function(*args, **kwargs)
    except VimmerseError as error:
        return error


# ---------------------------------------------------------------------- any answer ends in a result or our error


@st.composite
def snapshot_cases(draw: st.DrawFn) -> tuple[JobKind, Any]:
    """Return a job kind and a status answer for it: realistic-looking or anything at all."""
    kind = draw(kinds)
    return kind, draw(st.one_of(json_values, status_bodies(kind)))


@PROPERTY
@given(case=snapshot_cases(), job_id=st.text(max_size=10))
@example(case=(JOB_KINDS["media"], {"processing_status": "new", "progress_percentage": math.inf}), job_id="m1")
@example(case=(JOB_KINDS["asset"], {"data": {"status": "processing", "progress_percentage": "inf"}}), job_id="a1")
def test_parse_snapshot_ends_in_a_snapshot_or_a_response_error(case: tuple[JobKind, Any], job_id: str) -> None:
    kind, body = case
    result = outcome(parse_snapshot, kind, job_id, body, path="/x")
    if isinstance(result, VimmerseError):
        assert isinstance(result, VimmerseResponseError)
        return
    assert isinstance(result, JobSnapshot)
    assert result.progress is None or 0 <= result.progress <= 100
    assert isinstance(result.effective_state, JobStatus)
    assert result.kind == kind.name
    assert result.job_id == job_id
    assert isinstance(result.describe(), str)


@PROPERTY
@given(body=any_body)
def test_expect_object_ends_in_a_dict_or_a_response_error(body: Any) -> None:
    result = outcome(expect_object, body, method="GET", path="/x")
    assert isinstance(result, (dict, VimmerseResponseError))


@PROPERTY
@given(
    text=st.one_of(
        st.binary(max_size=80),
        st.text(max_size=80),
        json_values.map(json.dumps),
        json_values.map(lambda value: json.dumps(value).encode("utf-16")),
    )
)
def test_parse_json_ends_in_a_value_or_a_response_error(text: str | bytes) -> None:
    result = outcome(parse_json, text, method="GET", path="/x", status=200)
    if isinstance(result, VimmerseError):
        assert isinstance(result, VimmerseResponseError)
        assert result.status == 200


@PROPERTY
@given(
    status=st.integers(min_value=400, max_value=599),
    body=error_bodies(),
    retry_after=retry_after_headers,
    method=st.sampled_from(["GET", "POST", "PUT"]),
)
@example(status=422, body=b'{"detail": [{"loc": 5, "msg": "x"}]}', retry_after=None, method="POST")
@example(status=429, body=b"", retry_after="Mon, 01 Jan 99999999999999999999 00:00:00 GMT", method="POST")
def test_error_from_response_always_returns_an_api_error_naming_the_request(
    status: int, body: str | bytes, retry_after: str | None, method: str
) -> None:
    error = error_from_response(method=method, path="/media", status=status, body=body, retry_after=retry_after)
    assert isinstance(error, VimmerseAPIError)
    assert error.status == status
    assert f"{method} /media answered {status}" in str(error)
    retry = getattr(error, "retry_after", None)
    assert retry is None or (retry >= 0 and not math.isnan(retry))


# ---------------------------------------------------------------------- connection fields

extra_values = st.one_of(
    json_values,
    st.sampled_from(
        ["nan", "inf", "-inf", "1e999", "0", "-1", "3", "2.5", "/asset/{job_id}", "/a/{job_id}/{x}", "/a/{"]
    ),
)
extras = st.one_of(
    st.none(),
    st.dictionaries(
        st.one_of(st.sampled_from([*EXTRA_FIELDS, "connect_timeout"]), st.text(max_size=5)), extra_values, max_size=5
    ),
)
hosts = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.builds(
        str.__add__,
        st.sampled_from(["", "https://", "http://", "ftp://", "https://[", "http://user@"]),
        st.text(alphabet="abc.:[]/@%?#-09 ", max_size=20),
    ),
)


@PROPERTY
@given(
    host=hosts,
    password=st.one_of(st.none(), st.text(max_size=30)),
    schema=st.one_of(st.none(), st.sampled_from(["http", "https", "ftp", ""]), st.text(max_size=5)),
    port=st.one_of(st.none(), st.integers(min_value=-10, max_value=70_000)),
    extra=extras,
)
@example(host="https://[::1", password="k", schema=None, port=None, extra=None)
@example(host="api.vimmerse.net", password="k", schema=None, port=None, extra={"retries": "nan"})
@example(host="api.vimmerse.net", password="k", schema=None, port=None, extra={"timeout": 10**400})
def test_connection_fields_end_in_a_config_or_an_input_error(
    host: str | None, password: str | None, schema: str | None, port: int | None, extra: dict | None
) -> None:
    result = outcome(
        ApiConfig.from_connection_fields, host=host, password=password, schema=schema, port=port, extra=extra
    )
    assert isinstance(result, (ApiConfig, VimmerseInputError))


@PROPERTY
@given(host=hosts, extra=extras)
@example(host=None, extra={"timeout": "nan"})
@example(host=None, extra={"asset_status_path": "/a/{job_id}/{x}"})
def test_an_accepted_connection_is_usable(host: str | None, extra: dict | None) -> None:
    try:
        config = ApiConfig.from_connection_fields(host=host, password="k", extra=extra)
    except VimmerseError:
        return
    assert config.base_url.startswith(("http://", "https://"))
    assert math.isfinite(config.timeout)
    assert config.timeout > 0
    assert math.isfinite(config.connect_timeout)
    assert config.connect_timeout > 0
    assert isinstance(config.retries, int)
    assert config.retries >= 0
    assert "a1" in job_path(config.asset_status_path, "a1")
    assert config.same_origin(config.url("/media/a1"))


@PROPERTY
@given(host=hosts, suffix=st.text(alphabet="/@:.?#%[]abc019-", max_size=20))
def test_the_api_origin_check_agrees_with_comparing_parsed_origins(host: str | None, suffix: str) -> None:
    # ApiConfig.same_origin answers URLs below the base URL without parsing them: never differently.
    try:
        config = ApiConfig.from_connection_fields(host=host, password="k")
    except VimmerseError:
        return
    for url in (config.base_url + suffix, config.base_url + "/" + suffix, "https://other.example/" + suffix):
        try:
            parsed = same_origin(url, config.base_url)
        except ValueError:  # a URL urlsplit refuses (a broken IPv6 host): no origin to compare
            continue
        assert config.same_origin(url) is parsed


api_keys = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789_-", min_size=16, max_size=40)


@PROPERTY
@given(key=api_keys, host=hosts, extra=extras, schema=st.one_of(st.none(), st.text(max_size=5)))
def test_the_api_key_never_shows_in_the_config_repr_or_in_connection_errors(
    key: str, host: str | None, extra: dict | None, schema: str | None
) -> None:
    # A key the user also typed into another field may show up through that field; that is not a leak.
    assume(key not in f"{host!r}{extra!r}{schema!r}")
    try:
        config = ApiConfig.from_connection_fields(host=host, password=f" {key} ", schema=schema, extra=extra)
    except VimmerseError as error:
        assert key not in str(error)
        assert key not in repr(error)
        assert all(key not in repr(value) for value in vars(error).values())
        return
    assert config.api_key == key
    # A key that is a piece of the repr's own text (a field name, the URL) shows up there without leaking.
    assume(key not in repr(replace(config, api_key="")))
    assert key not in repr(config)
    assert key not in str(config)


# ---------------------------------------------------------------------- progress and retries


@PROPERTY
@given(value=json_values)
@example(value=math.inf)
@example(value="-inf")
@example(value=10**400)
def test_progress_is_none_or_a_percentage(value: Any) -> None:
    progress = parse_progress(value)
    assert progress is None or (isinstance(progress, int) and 0 <= progress <= 100)


@PROPERTY
@given(header=retry_after_headers)
def test_retry_after_is_none_or_a_non_negative_number_of_seconds(header: str | None) -> None:
    seconds = parse_retry_after(header)
    assert seconds is None or (seconds >= 0 and not math.isnan(seconds))


@st.composite
def failures(draw: st.DrawFn) -> BaseException:
    """Return any error a request can end with, built the way the hook builds it."""
    which = draw(st.sampled_from(["http", "connection", "timeout", "response", "may-exist", "job", "input", "other"]))
    if which == "http":
        # Retry-After values in the range parse_retry_after returns (None, or seconds >= 0, possibly infinite).
        retry_after = draw(st.one_of(st.none(), st.floats(min_value=0, allow_infinity=True)))
        status = draw(st.integers(min_value=400, max_value=599))
        error = error_from_response(method="POST", path="/media", status=status, body=b"")
        if isinstance(error, (VimmerseRateLimitError, VimmerseServerError)):
            error.retry_after = retry_after
        return error
    if which == "connection":
        return VimmerseConnectionError("connection failed", sent=draw(st.booleans()))
    if which == "timeout":
        return VimmerseTimeoutError("timed out", sent=draw(st.booleans()))
    if which == "response":
        return VimmerseResponseError("not JSON", status=200)
    if which == "may-exist":
        return VimmerseJobMayExistError("may exist")
    if which == "job":
        return VimmerseJobError("failed", kind="media", job_id="m1", outcome="failed")
    if which == "input":
        return VimmerseInputError("prompt", "empty")
    return draw(st.sampled_from([ValueError("x"), KeyError("x"), TimeoutError("x"), RuntimeError("x")]))


@PROPERTY
@given(attempt=st.integers(min_value=-5, max_value=100_000), error=st.one_of(st.none(), failures()))
@example(attempt=1025, error=None)
def test_retry_delay_is_never_negative_and_never_above_the_caps(attempt: int, error: BaseException | None) -> None:
    delay = retry_delay(attempt, error)
    cap = RETRY_AFTER_MAX_SECONDS if isinstance(getattr(error, "retry_after", None), float) else BACKOFF_MAX_SECONDS
    assert 0 <= delay <= cap


@PROPERTY
@given(error=failures())
def test_a_credit_spending_request_is_only_retried_when_provably_not_taken(error: BaseException) -> None:
    if should_retry(error, spends_credits=True):
        assert provably_not_taken(error)
        # ... and anything retried for a credit-spending call is also retried for a plain read.
        assert should_retry(error, spends_credits=False)
    status = getattr(error, "status", None)
    if isinstance(status, int) and 400 <= status < 500 and status != 429:
        assert not should_retry(error, spends_credits=False)
