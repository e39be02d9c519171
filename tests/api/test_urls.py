"""Tests of paths and URLs: absolute URLs, origins, and which redirect is followed with or without the key."""

from __future__ import annotations

import pytest

from airflow_provider_vimmerse.api.urls import (
    REDIRECT_STATUSES,
    absolute_url,
    follow_redirect,
    is_http_url,
    path_of,
)

API = "https://api.vimmerse.net"


def test_a_path_goes_below_the_base_url_whatever_its_trailing_slash() -> None:
    assert absolute_url(API, "/media/m1") == "https://api.vimmerse.net/media/m1"
    assert absolute_url(API + "/", "/media/m1") == "https://api.vimmerse.net/media/m1"


@pytest.mark.parametrize(("value", "expected"), [("https://x/a.png", True), ("http://x", True), ("s3://b/k", False)])
def test_only_http_and_https_strings_are_urls(value: str, expected: bool) -> None:
    assert is_http_url(value) is expected
    assert not is_http_url(None)


def test_a_url_path_drops_host_and_query() -> None:
    assert path_of("https://cdn.example/out/v.mp4?sig=1") == "/out/v.mp4"


@pytest.mark.parametrize("status", sorted(REDIRECT_STATUSES))
def test_a_redirected_get_is_followed_and_keeps_the_key_on_the_api_origin(status: int) -> None:
    hop = follow_redirect("GET", API + "/media/m1/download", status, "/files/m1.mp4", api_url=API)
    assert hop is not None
    assert hop.url == "https://api.vimmerse.net/files/m1.mp4"
    assert hop.send_key


@pytest.mark.parametrize(
    "location", ["https://cdn.vimmerse.net/m1.mp4", "http://api.vimmerse.net/m1.mp4", "https://api.vimmerse.net:8443/x"]
)
def test_a_redirect_to_another_origin_is_followed_without_the_key(location: str) -> None:
    hop = follow_redirect("GET", API + "/media/m1/download", 302, location, api_url=API)
    assert hop is not None and hop.url == location
    assert not hop.send_key


@pytest.mark.parametrize(("method", "status"), [("POST", 302), ("PUT", 307), ("GET", 200), ("GET", 304), ("GET", 404)])
def test_a_write_or_an_answer_that_is_not_a_redirect_is_kept(method: str, status: int) -> None:
    assert follow_redirect(method, API + "/media", status, "https://elsewhere/", api_url=API) is None
