"""Tests of the request builders: paths, escaping of ids, form encoding, and which calls spend credits."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from airflow_provider_vimmerse.api.endpoints import (
    ApiRequest,
    FilePart,
    customer_statistics,
    form_fields,
    job_detail,
    job_status,
)
from airflow_provider_vimmerse.api.jobs import JOB_KINDS, get_job_kind
from airflow_provider_vimmerse.api.urls import job_path
from airflow_provider_vimmerse.exceptions import VimmerseInputError


@pytest.mark.parametrize(
    ("kind", "status_path", "detail_path"),
    [
        ("media", "/media/1f2e/processing-status", "/media/1f2e"),
        ("batch", "/batch/1f2e", "/batch/1f2e"),
        ("story", "/story/1f2e", "/story/1f2e"),
        ("asset", "/asset/1f2e", "/asset/1f2e"),
    ],
)
def test_status_polls_and_detail_fetches_are_plain_gets_that_spend_nothing(
    kind: str, status_path: str, detail_path: str
) -> None:
    status = job_status(get_job_kind(kind), "1f2e")
    detail = job_detail(get_job_kind(kind), "1f2e")
    assert (status.method, status.path, status.spends_credits) == ("GET", status_path, False)
    assert (detail.method, detail.path, detail.spends_credits) == ("GET", detail_path, False)
    assert status.form is None
    assert status.json is None
    assert not status.files


def test_a_moved_asset_path_is_polled() -> None:
    kind = get_job_kind("asset").with_status_path("/v2/asset/{job_id}")
    assert job_status(kind, "a1").path == "/v2/asset/a1"


@pytest.mark.parametrize("job_id", ["a/b", "a?b=1", "a#frag", "a b", "a%2Fb", "ü/x", "../../customer-statistics"])
@pytest.mark.parametrize("kind", sorted(JOB_KINDS))
def test_a_job_id_always_stays_one_path_segment(kind: str, job_id: str) -> None:
    path = job_status(get_job_kind(kind), job_id).path
    template = get_job_kind(kind).status_path
    prefix, _, suffix = template.partition("{job_id}")
    assert path.startswith(prefix)
    assert path.endswith(suffix)
    segment = path[len(prefix) : len(path) - len(suffix)]
    assert "/" not in segment
    assert "?" not in segment
    assert "#" not in segment
    assert unquote(segment) == job_id


@pytest.mark.parametrize("job_id", ["..", ".", ""])
def test_a_dot_job_id_cannot_walk_to_another_route(job_id: str) -> None:
    # HTTP clients (requests, aiohttp) resolve "/media/../processing-status" to "/processing-status".
    with pytest.raises(VimmerseInputError, match="job_id"):
        job_path("/media/{job_id}/processing-status", job_id)


def test_a_numeric_job_id_is_accepted() -> None:
    assert job_path("/batch/{job_id}", 42) == "/batch/42"  # type: ignore[arg-type]


def test_customer_statistics_asks_for_a_day_range() -> None:
    req = customer_statistics("2024-01-01", "2024-01-31")
    assert (req.method, req.path, req.spends_credits) == ("GET", "/customer-statistics/2024-01-01/2024-01-31", False)
    assert req.describe() == "GET /customer-statistics/2024-01-01/2024-01-31"


def test_customer_statistics_escapes_odd_dates() -> None:
    assert customer_statistics("2024/01/01", "x?y").path == "/customer-statistics/2024%2F01%2F01/x%3Fy"


def test_a_request_spends_no_credits_unless_it_says_so() -> None:
    req = ApiRequest("POST", "/media", form=[("prompt", "a cat")])
    assert req.spends_credits is False
    assert ApiRequest("POST", "/media", spends_credits=True).spends_credits is True
    assert req.describe() == "POST /media"


def test_a_file_part_repr_does_not_dump_the_file_into_logs() -> None:
    part = FilePart("image_files", "cat.png", b"\x89PNG" + b"\x00" * 10_000, "image/png")
    text = repr(part)
    assert text == "FilePart('image_files', 'cat.png', 10004 bytes)"
    assert "PNG" not in text
    assert "10004 bytes" in repr(ApiRequest("POST", "/media", files=[part]))


# ---------------------------------------------------------------------- form_fields


def test_form_fields_drop_none_repeat_lists_and_spell_booleans_the_api_way() -> None:
    fields = form_fields(
        {
            "prompt": "a cat surfing",
            "motion_type": None,
            "image_urls": ["https://x/1.png", "https://x/2.png"],
            "loop": True,
            "quantity": 2,
            "duration": 5.0,
            "native_audio": False,
            "tags": ("a", "b"),
        }
    )
    assert fields == [
        ("prompt", "a cat surfing"),
        ("image_urls", "https://x/1.png"),
        ("image_urls", "https://x/2.png"),
        ("loop", "true"),
        ("quantity", "2"),
        ("duration", "5.0"),
        ("native_audio", "false"),
        ("tags", "a"),
        ("tags", "b"),
    ]


def test_booleans_inside_lists_are_spelled_the_api_way() -> None:
    assert form_fields({"flags": [True, False]}) == [("flags", "true"), ("flags", "false")]


def test_an_empty_list_sends_no_field() -> None:
    assert form_fields({"image_urls": [], "prompt": ""}) == [("prompt", "")]


def test_a_none_inside_a_list_is_dropped_not_sent_as_the_text_none() -> None:
    # Sending "None" as an image URL would make the API fetch a URL called "None".
    assert form_fields({"image_urls": ["https://x/1.png", None]}) == [("image_urls", "https://x/1.png")]
