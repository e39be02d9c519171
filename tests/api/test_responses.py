"""Tests of response parsing: JSON, the ``data`` wrapper, progress, Retry-After, error translation and job snapshots."""

from __future__ import annotations

import json
import pickle
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from airflow_provider_vimmerse.api.jobs import get_job_kind
from airflow_provider_vimmerse.api.responses import (
    JobSnapshot,
    error_from_response,
    expect_object,
    failure_message,
    parse_json,
    parse_progress,
    parse_retry_after,
    parse_snapshot,
    unwrap,
)
from airflow_provider_vimmerse.api.results import build_result, media_status, status_of
from airflow_provider_vimmerse.api.status import JobStatus
from airflow_provider_vimmerse.exceptions import (
    VimmerseAPIError,
    VimmerseAuthError,
    VimmerseError,
    VimmerseInsufficientCreditError,
    VimmerseJobError,
    VimmerseNotFoundError,
    VimmerseRateLimitError,
    VimmerseResponseError,
    VimmerseServerError,
    VimmerseValidationError,
)

MEDIA = get_job_kind("media")
ASSET = get_job_kind("asset")

# ---------------------------------------------------------------------- parse_json


@pytest.mark.parametrize("body", [b'{"data": {"id": "m1"}}', '{"data": {"id": "m1"}}'])
def test_json_bodies_decode_from_bytes_or_text(body: str | bytes) -> None:
    assert parse_json(body, method="GET", path="/media/m1", status=200) == {"data": {"id": "m1"}}


@pytest.mark.parametrize("body", [b"<html>502 Bad Gateway</html>", b"", b"\xff\xfe\xfa", "{'single': 'quotes'}"])
def test_a_body_that_is_not_json_is_a_response_error_naming_the_request(body: str | bytes) -> None:
    with pytest.raises(VimmerseResponseError) as caught:
        parse_json(body, method="GET", path="/media/m1", status=200)
    error = caught.value
    assert (error.method, error.path, error.status) == ("GET", "/media/m1", 200)
    assert "GET /media/m1 answered 200" in str(error)


def test_a_huge_non_json_body_is_cut_short_in_the_message() -> None:
    with pytest.raises(VimmerseResponseError) as caught:
        parse_json("<p>" + "x" * 100_000, method="GET", path="/media/m1", status=200)
    assert "<p>xxx" in str(caught.value)
    assert len(str(caught.value)) < 1_000


def test_a_pathologically_nested_body_is_a_response_error_not_a_crash() -> None:
    # A broken proxy or server can send anything; the caller must still get a VimmerseError.
    body = "[" * 100_000 + "]" * 100_000
    with pytest.raises(VimmerseResponseError):
        parse_json(body, method="GET", path="/media/m1", status=200)


# ---------------------------------------------------------------------- unwrap / expect_object


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"data": {"id": "m1"}}, {"id": "m1"}),
        ({"data": {"data": {"id": "m1"}}}, {"id": "m1"}),
        ({"data": {"id": "m1"}, "message": "OK", "success": True, "status_code": 200}, {"id": "m1"}),
        ({"data": [{"day": "2024-01-01"}]}, [{"day": "2024-01-01"}]),
        ({"id": "a1", "status": "success"}, {"id": "a1", "status": "success"}),
        # An object that merely has a field called "data" is not a wrapper.
        ({"id": "a1", "data": {"x": 1}}, {"id": "a1", "data": {"x": 1}}),
        # A wrapper around a scalar is kept whole, so the message stays visible.
        ({"data": None, "message": "MEDIA_NOT_READY"}, {"data": None, "message": "MEDIA_NOT_READY"}),
    ],
)
def test_legacy_wrappers_are_removed_and_bare_v2_objects_are_kept(body: object, expected: object) -> None:
    assert unwrap(body) == expected


def test_expect_object_returns_the_wrapped_object() -> None:
    assert expect_object({"data": {"id": "m1"}}, method="GET", path="/media/m1") == {"id": "m1"}


@pytest.mark.parametrize("body", [[{"id": "m1"}], {"data": []}, "ok", 3, None])
def test_an_answer_that_is_not_an_object_is_a_response_error_naming_the_request(body: object) -> None:
    with pytest.raises(VimmerseResponseError) as caught:
        expect_object(body, method="GET", path="/media/m1")
    assert caught.value.path == "/media/m1"
    assert "GET /media/m1" in str(caught.value)
    assert "object was expected" in str(caught.value)


# ---------------------------------------------------------------------- parse_progress


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (40, 40),
        ("40", 40),
        ("40%", 40),
        (" 40 % ", 40),
        (40.9, 40),
        ("99.5", 99),
        (0, 0),
        (100, 100),
        (150, 100),
        ("-5", 0),
        (None, None),
        (True, None),
        ("", None),
        ("soon", None),
        ("nan", None),
        ([40], None),
        ({"value": 40}, None),
    ],
)
def test_progress_arrives_as_int_or_string_and_is_clamped_to_a_percentage(value: object, expected: int | None) -> None:
    assert parse_progress(value) == expected


@pytest.mark.parametrize(
    "value",
    [float("inf"), float("-inf"), "inf", "Infinity", "-inf", "1e999", 10**400],
    ids=["inf", "-inf", "str-inf", "str-Infinity", "str-minus-inf", "str-1e999", "int-10**400"],
)
def test_an_infinite_or_huge_progress_value_does_not_crash_the_wait(value: object) -> None:
    # json.loads turns 1e400 and Infinity into float('inf'); the poll must survive it.
    progress = parse_progress(value)
    assert progress is None or 0 <= progress <= 100


# ---------------------------------------------------------------------- parse_retry_after


@pytest.mark.parametrize(
    ("header", "expected"),
    [("120", 120.0), (" 5 ", 5.0), ("0", 0.0), ("1.5", 1.5), ("-3", 0.0), (None, None), ("", None), ("soon", None)],
)
def test_retry_after_in_seconds(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


def test_retry_after_as_an_http_date_is_the_seconds_until_then() -> None:
    header = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    seconds = parse_retry_after(header)
    assert seconds is not None
    assert 25 <= seconds <= 31


def test_retry_after_as_a_past_http_date_means_no_wait() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


@pytest.mark.parametrize(
    "header",
    ["Mon, 01 Jan 99999999999999999999 00:00:00 GMT", "Mon, 01 Jan 10000 00:00:00 GMT", "Mon, 45 Foo 2024 99:99:99"],
)
def test_a_garbled_retry_after_date_is_ignored_rather_than_crashing(header: str) -> None:
    seconds = parse_retry_after(header)
    assert seconds is None or seconds >= 0


# ---------------------------------------------------------------------- error_from_response


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, VimmerseValidationError),
        (401, VimmerseAuthError),
        (402, VimmerseInsufficientCreditError),
        (403, VimmerseAuthError),
        (404, VimmerseNotFoundError),
        (422, VimmerseValidationError),
        (429, VimmerseRateLimitError),
        (500, VimmerseServerError),
        (502, VimmerseServerError),
        (503, VimmerseServerError),
        (504, VimmerseServerError),
        (599, VimmerseServerError),
        (405, VimmerseAPIError),
        (409, VimmerseAPIError),
        (418, VimmerseAPIError),
    ],
)
def test_each_http_status_becomes_its_own_error_type(status: int, error_type: type[VimmerseAPIError]) -> None:
    error = error_from_response(method="GET", path="/media/m1", status=status, body=b'{"message": "nope"}')
    assert type(error) is error_type
    assert error.status == status
    assert error.server_message == "nope"
    assert f"GET /media/m1 answered {status}" in str(error)
    assert "nope" in str(error)


def test_out_of_credit_names_the_server_code_and_says_it_is_not_retried() -> None:
    error = error_from_response(method="POST", path="/media", status=402, body=b'{"message": "INSUFFICIENT_CREDIT"}')
    assert isinstance(error, VimmerseInsufficientCreditError)
    assert error.server_message == "INSUFFICIENT_CREDIT"
    assert "INSUFFICIENT_CREDIT" in str(error)
    assert "credits" in str(error)
    assert "not retried" in str(error)


def test_a_rejected_key_points_at_the_connection_password_field() -> None:
    error = error_from_response(method="GET", path="/media/m1", status=401, body=b'{"message": "INVALID_API_KEY"}')
    assert "password" in str(error)
    assert "INVALID_API_KEY" in str(error)


def test_not_found_carries_the_server_code() -> None:
    body = b'{"message": "Media not found", "code": "MEDIA_NOT_FOUND"}'
    error = error_from_response(method="GET", path="/media/m1", status=404, body=body)
    assert isinstance(error, VimmerseNotFoundError)
    assert error.code == "MEDIA_NOT_FOUND"
    assert error.server_message == "Media not found"


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        # README.md's error body: a message and a code; a 400 pairs a sentence with the code
        (b'{"message": "Media not found", "code": "MEDIA_NOT_FOUND"}', "(Media not found [MEDIA_NOT_FOUND])"),
        (b'{"message": "MEDIA_NOT_FOUND", "code": "BAD_REQUEST"}', ": MEDIA_NOT_FOUND [BAD_REQUEST]"),
        # the same text twice (the sandbox's code-field variant of openapi.json's bodies) is shown once
        (b'{"message": "NOT_FOUND", "code": "NOT_FOUND"}', "(NOT_FOUND)"),
        # openapi.json's bodies: a message only
        (b'{"message": "NOT_FOUND"}', "(NOT_FOUND)"),
    ],
)
def test_the_message_names_the_servers_message_and_its_code(body: bytes, shown: str) -> None:
    status = 400 if b"BAD_REQUEST" in body else 404
    error = error_from_response(method="GET", path="/media/m1", status=status, body=body)
    assert str(error).endswith(shown)


def test_a_code_without_a_message_is_still_shown() -> None:
    error = error_from_response(method="GET", path="/media/m1", status=404, body=b'{"code": "MEDIA_NOT_FOUND"}')
    assert "MEDIA_NOT_FOUND" in str(error)


def test_fastapi_422_names_the_field_motion_type() -> None:
    body = json.dumps(
        {
            "detail": [
                {
                    "loc": ["body", "motion_type"],
                    "msg": "value is not a valid enumeration member",
                    "type": "type_error.enum",
                }
            ]
        }
    )
    error = error_from_response(method="POST", path="/media", status=422, body=body)
    assert isinstance(error, VimmerseValidationError)
    assert error.fields == ["motion_type"]
    assert "motion_type" in str(error)
    assert "value is not a valid enumeration member" in str(error)


def test_422_names_nested_fields_and_every_offending_field() -> None:
    body = json.dumps(
        {
            "detail": [
                {"loc": ["body", "camera_control", "pan"], "msg": "must be between -1 and 1", "type": "value_error"},
                {"loc": ["body", "image_urls", 0], "msg": "invalid url", "type": "value_error.url"},
                {"loc": ["query", "quantity"], "msg": "too large", "type": "value_error"},
            ]
        }
    )
    error = error_from_response(method="POST", path="/media", status=422, body=body)
    assert error.fields == ["camera_control.pan", "image_urls.0", "quantity"]  # type: ignore[attr-defined]
    assert "must be between -1 and 1" in str(error)


def test_422_with_a_plain_string_loc_names_that_field_not_its_letters() -> None:
    body = json.dumps({"detail": [{"loc": "motion_type", "msg": "field required", "type": "value_error.missing"}]})
    error = error_from_response(method="POST", path="/media", status=422, body=body)
    assert error.fields == ["motion_type"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("loc", [5, True, 1.5])
def test_422_with_an_odd_loc_still_becomes_a_validation_error(loc: object) -> None:
    body = json.dumps({"detail": [{"loc": loc, "msg": "bad input"}]})
    error = error_from_response(method="POST", path="/media", status=422, body=body)
    assert isinstance(error, VimmerseValidationError)
    assert "bad input" in str(error)


def test_a_string_detail_is_the_server_message() -> None:
    error = error_from_response(method="GET", path="/nope", status=404, body=b'{"detail": "Not Found"}')
    assert error.server_message == "Not Found"


def test_an_html_error_page_from_a_proxy_is_quoted_briefly() -> None:
    page = "<html><body>" + "Bad Gateway " * 500 + "</body></html>"
    error = error_from_response(method="GET", path="/media/m1", status=502, body=page.encode())
    assert isinstance(error, VimmerseServerError)
    assert error.server_message is None
    assert "Bad Gateway" in str(error)
    assert len(str(error)) < 1_000


def test_an_empty_error_body_says_there_was_no_message() -> None:
    assert "no message" in str(error_from_response(method="GET", path="/media/m1", status=500, body=b""))


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_carried_on_rate_limit_and_server_errors(status: int) -> None:
    error = error_from_response(method="GET", path="/media/m1", status=status, body=b"", retry_after="7")
    assert error.retry_after == 7.0  # type: ignore[attr-defined]
    without = error_from_response(method="GET", path="/media/m1", status=status, body=b"")
    assert without.retry_after is None  # type: ignore[attr-defined]


def test_a_garbled_retry_after_date_does_not_hide_the_rate_limit() -> None:
    error = error_from_response(
        method="POST", path="/media", status=429, body=b"", retry_after="Mon, 01 Jan 99999999999999999999 00:00:00 GMT"
    )
    assert isinstance(error, VimmerseRateLimitError)


def test_a_translated_error_survives_pickling_with_its_details() -> None:
    # Errors cross process boundaries (executor, triggerer); the details must come along.
    body = json.dumps({"detail": [{"loc": ["body", "motion_type"], "msg": "bad", "type": "x"}], "code": "INVALID"})
    error = error_from_response(method="POST", path="/media", status=422, body=body)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is VimmerseValidationError
    assert str(copy) == str(error)
    assert (copy.method, copy.path, copy.status, copy.code) == ("POST", "/media", 422, "INVALID")
    assert copy.fields == ["motion_type"]


def test_a_rate_limit_error_keeps_its_retry_after_through_pickling() -> None:
    error = error_from_response(method="GET", path="/media/m1", status=429, body=b"", retry_after="12")
    assert pickle.loads(pickle.dumps(error)).retry_after == 12.0


def test_a_job_error_keeps_kind_id_and_outcome_through_pickling() -> None:
    error = VimmerseJobError("media m1 failed: NSFW", kind="media", job_id="m1", outcome="failed")
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, VimmerseError)
    assert (copy.kind, copy.job_id, copy.outcome, str(copy)) == ("media", "m1", "failed", "media m1 failed: NSFW")


# ---------------------------------------------------------------------- parse_snapshot


def test_a_wrapped_media_status_with_string_progress_is_read() -> None:
    body = {"data": {"processing_status": "processing_bullet", "progress_percentage": "40"}}
    snapshot = parse_snapshot(MEDIA, "1f2e", body)
    assert snapshot == JobSnapshot(
        kind="media", job_id="1f2e", raw_status="processing_bullet", state=JobStatus.RUNNING, progress=40
    )
    assert snapshot.describe() == "media 1f2e: 40% processing_bullet"


def test_a_bare_v2_asset_is_read() -> None:
    snapshot = parse_snapshot(ASSET, "a1", {"id": "a1", "status": "success", "results": ["https://x/1.png"]})
    assert snapshot.state is JobStatus.SUCCESS
    assert snapshot.effective_state.is_success
    assert snapshot.progress is None
    assert snapshot.describe() == "asset a1: success"


def test_an_unknown_status_counts_as_running() -> None:
    snapshot = parse_snapshot(MEDIA, "m1", {"processing_status": "rendering_v3", "progress_percentage": 10})
    assert snapshot.state is None
    assert snapshot.effective_state is JobStatus.RUNNING
    assert not snapshot.effective_state.is_terminal
    assert snapshot.raw_status == "rendering_v3"


@pytest.mark.parametrize(("raw", "state"), [("fail", JobStatus.FAILED), ("cancel", JobStatus.CANCELLED)])
def test_a_failed_or_cancelled_job_carries_the_server_reason(raw: str, state: JobStatus) -> None:
    body = {"data": {"processing_status": raw, "error_message": "  Image rejected by safety filter  "}}
    snapshot = parse_snapshot(MEDIA, "m1", body)
    assert snapshot.state is state
    assert snapshot.message == "Image rejected by safety filter"


def test_a_running_or_successful_job_has_no_failure_message() -> None:
    body = {"processing_status": "success", "message": "Media processed"}
    assert parse_snapshot(MEDIA, "m1", body).message is None


@pytest.mark.parametrize(
    "body",
    [
        {"data": {"status": "success"}},  # media keeps its status in processing_status
        {"processing_status": None},
        {"processing_status": 3},
        {"data": {"processing_status": {"value": "success"}}},
        [{"processing_status": "success"}],
        "success",
    ],
)
def test_a_status_answer_without_a_status_string_is_a_response_error(body: object) -> None:
    with pytest.raises(VimmerseResponseError) as caught:
        parse_snapshot(MEDIA, "m1", body, path="/media/m1/processing-status")
    assert caught.value.path == "/media/m1/processing-status"
    assert "/media/m1/processing-status" in str(caught.value)


def test_an_infinite_progress_from_json_does_not_crash_the_poll() -> None:
    body = parse_json(
        b'{"processing_status": "processing_bullet", "progress_percentage": 1e400}', method="GET", path="/", status=200
    )
    snapshot = parse_snapshot(MEDIA, "m1", body)
    assert snapshot.effective_state is JobStatus.RUNNING
    assert snapshot.progress is None or 0 <= snapshot.progress <= 100


# ---------------------------------------------------------------------- failure_message


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"error_message": "NSFW", "message": "generic"}, "NSFW"),
        ({"error_message": "   ", "fail_reason": "timeout in renderer"}, "timeout in renderer"),
        ({"error": {"code": 1}, "reason": "quota"}, "quota"),
        ({"note": " see support "}, "see support"),
        ({"status": "fail"}, None),
        ({"message": None, "error": 5}, None),
    ],
)
def test_the_failure_reason_is_the_first_non_blank_text_field(obj: dict, expected: str | None) -> None:
    assert failure_message(obj) == expected


# ---------------------------------------------------------------------- result statuses as members


def test_a_results_raw_status_is_read_as_a_member_of_its_kind() -> None:
    done = build_result(MEDIA, "m1", {"id": "m1", "processing_status": "success"}, web_url="https://w/m1")
    failed = build_result(ASSET, "a1", {"id": "a1", "status": "error"}, web_url="https://w/a1")
    odd = build_result(MEDIA, "m2", {"id": "m2", "processing_status": "rendering"}, web_url="https://w/m2")
    assert done["status"] == "success", "the result keeps the API's raw value"
    assert status_of(done) is JobStatus.SUCCESS
    assert status_of(failed) is JobStatus.FAILED
    assert status_of(odd) is None


def test_each_media_of_a_batch_is_read_as_a_member() -> None:
    obj = {"id": "b1", "status": "success", "medias": ["m1", "m2", "m3"], "finished_medias": ["m1"]}
    obj["failed_medias"] = ["m2"]
    medias = build_result(get_job_kind("batch"), "b1", obj, web_url="https://w/b1")["medias"]
    assert [media_status(m) for m in medias] == [JobStatus.SUCCESS, JobStatus.FAILED, None]
