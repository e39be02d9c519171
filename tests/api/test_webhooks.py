"""Signed webhook URLs and delivery bodies (pure code): what the receiver accepts and refuses."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qsl, urlsplit

import pytest

from airflow_provider_vimmerse.api.webhooks import (
    MAX_BODY_BYTES,
    MIN_SECRET_BYTES,
    RECEIVER_PATH,
    SIGNATURE_PARAM,
    Hint,
    WebhookError,
    WebhookExpired,
    WebhookTarget,
    check_secret,
    parse_delivery,
)

SECRET = "s3cret-for-tests-" + "k" * 32
#: An hour from when the tests run: the wait's deadline the URL carries.
EXPIRES_AT = int(time.time()) + 3600
TARGET = WebhookTarget(
    "media", "my_dag", "manual__2026-01-01T00:00:00+00:00", "make_video", 3, try_number=2, expires_at=EXPIRES_AT
)


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def test_the_url_names_the_try_and_its_expiry_and_round_trips_through_the_check():
    url = TARGET.url("https://airflow.example.com/", SECRET)
    assert url.startswith(f"https://airflow.example.com{RECEIVER_PATH}?")
    assert SECRET not in url, "the URL carries a signature, never the secret"
    params = query_of(url)
    assert (params["try"], params["exp"]) == ("2", str(EXPIRES_AT))
    assert list(params)[-1] == SIGNATURE_PARAM == "token", "a name Airflow's access log masks (token=***)"
    assert WebhookTarget.from_query(params, SECRET) == TARGET


@pytest.mark.parametrize(
    ("part", "value"),
    [
        ("kind", "batch"),
        ("dag_id", "other_dag"),
        ("run_id", "manual__2026-01-02T00:00:00+00:00"),
        ("task_id", "other_task"),
        ("map_index", "4"),
        ("map_index", "03"),
        ("try", "3"),  # replayed into a later try
        ("try", "1"),
        ("try", "02"),
        ("exp", str(EXPIRES_AT + 86400 * 365)),  # an expiry pushed out
        ("exp", f"{EXPIRES_AT}.0"),
        (SIGNATURE_PARAM, "0" * 64),
    ],
)
def test_tampering_with_any_part_of_the_url_is_refused(part, value):
    params = query_of(TARGET.url("https://airflow.example.com", SECRET))
    params[part] = value
    with pytest.raises(WebhookError) as refused:
        WebhookTarget.from_query(params, SECRET)
    assert not isinstance(refused.value, WebhookExpired)


def test_a_url_signed_with_another_secret_or_without_signature_is_refused():
    params = query_of(TARGET.url("https://airflow.example.com", "another secret, just as long as ours"))
    with pytest.raises(WebhookError, match="bad signature"):
        WebhookTarget.from_query(params, SECRET)
    del params[SIGNATURE_PARAM]
    with pytest.raises(WebhookError, match=f"missing {SIGNATURE_PARAM}"):
        WebhookTarget.from_query(params, SECRET)


def test_a_url_of_the_first_version_is_refused():
    """URLs made before the expiry and the try were signed (v1, ``sig=``) no longer work."""
    params = query_of(TARGET.url("https://airflow.example.com", SECRET))
    params["sig"] = params.pop(SIGNATURE_PARAM)
    for key in ("try", "exp"):
        del params[key]
    with pytest.raises(WebhookError, match="missing try, exp, token"):
        WebhookTarget.from_query(params, SECRET)


def test_a_genuine_url_past_its_expiry_is_refused_as_expired():
    expired = WebhookTarget("media", "d", "r", "t", try_number=1, expires_at=int(time.time()) - 1)
    params = query_of(expired.url("https://airflow.example.com", SECRET))
    with pytest.raises(WebhookExpired, match="expired"):
        WebhookTarget.from_query(params, SECRET)
    params = query_of(TARGET.url("https://airflow.example.com", SECRET))
    assert WebhookTarget.from_query(params, SECRET, now=EXPIRES_AT - 1) == TARGET
    with pytest.raises(WebhookExpired):
        WebhookTarget.from_query(params, SECRET, now=EXPIRES_AT)


@pytest.mark.parametrize(
    "secret",
    [None, "", "   ", "\t\n", "x", "s3cret", "a" * 31, " " * 40, "a" * 31 + " " * 8, "é" * 15],
    ids=["unset", "empty", "spaces", "whitespace", "x", "short", "31 bytes", "40 spaces", "31 padded", "30 utf8"],
)
def test_a_weak_secret_is_refused_naming_the_minimum_and_how_to_make_one(secret):
    problem = check_secret(secret)
    assert problem is not None
    assert f"at least {MIN_SECRET_BYTES} bytes" in problem and MIN_SECRET_BYTES == 32
    assert 'python -c "import secrets; print(secrets.token_urlsafe(32))"' in problem
    if secret:
        with pytest.raises(WebhookError, match=r"\[vimmerse\] webhook_secret"):
            TARGET.url("https://airflow.example.com", secret)
        with pytest.raises(WebhookError):
            WebhookTarget.from_query(query_of(TARGET.url("https://airflow.example.com", SECRET)), secret)


@pytest.mark.parametrize("secret", ["a" * 32, "é" * 16, "  " + "a" * 32, SECRET])
def test_a_secret_of_32_bytes_or_more_signs(secret):
    assert check_secret(secret) is None
    params = query_of(TARGET.url("https://airflow.example.com", secret))
    assert WebhookTarget.from_query(params, secret) == TARGET


def test_bad_base_urls_and_targets_are_refused():
    with pytest.raises(WebhookError):
        TARGET.url("ftp://airflow.example.com", SECRET)
    with pytest.raises(WebhookError):
        WebhookTarget("asset", "d", "r", "t", try_number=1, expires_at=EXPIRES_AT)
    with pytest.raises(WebhookError):
        WebhookTarget("media", "d", "r", "t", try_number=1, expires_at=0)


@pytest.mark.parametrize(
    ("kind", "body", "job_id"),
    [
        ("media", {"customer_id": "c", "media_id": "m-1", "status": "success"}, "m-1"),
        ("batch", {"customer_id": "c", "batch_id": "b-1", "status": "fail"}, "b-1"),
        ("story", {"customer_id": "c", "batch_id": "s-1", "status": "success"}, "s-1"),
    ],
)
def test_documented_payloads_are_read(kind, body, job_id):
    delivery = parse_delivery(kind, json.dumps(body).encode())
    assert (delivery.job_id, delivery.status) == (job_id, body["status"])
    hint = Hint.from_value(delivery.hint(12.5))
    assert hint == Hint(job_id, body["status"], 12.5)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        json.dumps({"batch_id": "b-1", "status": "success"}).encode(),  # a media URL needs media_id
        json.dumps({"media_id": "m-1"}).encode(),
        json.dumps({"media_id": "m-1", "status": "x" * 500}).encode(),
        json.dumps({"media_id": "m-1", "status": "success", "pad": "x" * MAX_BODY_BYTES}).encode(),
    ],
)
def test_bodies_that_are_not_the_documented_payload_are_refused(body):
    with pytest.raises(WebhookError):
        parse_delivery("media", body)


def test_a_value_that_is_not_a_hint_reads_as_none():
    assert Hint.from_value(None) is None
    assert Hint.from_value({"job_id": "m-1"}) is None
    assert Hint.from_value("m-1") is None
