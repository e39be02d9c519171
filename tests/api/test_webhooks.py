"""Signed webhook URLs and delivery bodies (pure code): what the receiver accepts and refuses."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import pytest

from airflow_provider_vimmerse.api.webhooks import (
    MAX_BODY_BYTES,
    RECEIVER_PATH,
    Hint,
    WebhookError,
    WebhookTarget,
    parse_delivery,
)

SECRET = "s3cret-for-tests"
TARGET = WebhookTarget("media", "my_dag", "manual__2026-01-01T00:00:00+00:00", "make_video", 3)


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def test_the_url_names_the_task_and_round_trips_through_the_check():
    url = TARGET.url("https://airflow.example.com/", SECRET)
    assert url.startswith(f"https://airflow.example.com{RECEIVER_PATH}?")
    assert SECRET not in url, "the URL carries a signature, never the secret"
    assert WebhookTarget.from_query(query_of(url), SECRET) == TARGET


@pytest.mark.parametrize(
    ("part", "value"),
    [
        ("kind", "batch"),
        ("dag_id", "other_dag"),
        ("run_id", "manual__2026-01-02T00:00:00+00:00"),
        ("task_id", "other_task"),
        ("map_index", "4"),
        ("map_index", "03"),
        ("sig", "0" * 64),
    ],
)
def test_tampering_with_any_part_of_the_url_is_refused(part, value):
    params = query_of(TARGET.url("https://airflow.example.com", SECRET))
    params[part] = value
    with pytest.raises(WebhookError):
        WebhookTarget.from_query(params, SECRET)


def test_a_url_signed_with_another_secret_or_without_signature_is_refused():
    params = query_of(TARGET.url("https://airflow.example.com", "another secret"))
    with pytest.raises(WebhookError, match="bad signature"):
        WebhookTarget.from_query(params, SECRET)
    del params["sig"]
    with pytest.raises(WebhookError, match="missing sig"):
        WebhookTarget.from_query(params, SECRET)


def test_no_secret_signs_nothing_and_bad_base_urls_are_refused():
    with pytest.raises(WebhookError):
        TARGET.url("https://airflow.example.com", "")
    with pytest.raises(WebhookError):
        TARGET.url("ftp://airflow.example.com", SECRET)
    with pytest.raises(WebhookError):
        WebhookTarget("asset", "d", "r", "t")


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
