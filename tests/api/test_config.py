"""Tests of the client settings read from an Airflow connection, and of where the API key may be sent."""

from __future__ import annotations

import math
import platform

import pytest

from airflow_provider_vimmerse.api.config import (
    DEFAULT_BASE_URL,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    DEFAULT_WEB_URL,
    FORM_BEHAVIOUR,
    ApiConfig,
    user_agent,
)
from airflow_provider_vimmerse.api.urls import job_path, origin
from airflow_provider_vimmerse.exceptions import VimmerseInputError

KEY = "vk_live_7Qx2LmP9sTz4"


def build(host: str | None = None, **kwargs: object) -> ApiConfig:
    kwargs.setdefault("password", KEY)
    return ApiConfig.from_connection_fields(host=host, **kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- base URL


@pytest.mark.parametrize("host", [None, "", "   "])
def test_an_empty_host_means_the_public_api(host: str | None) -> None:
    config = build(host)
    assert config.base_url == DEFAULT_BASE_URL == "https://api.vimmerse.net"
    assert config.url("/media/m1") == "https://api.vimmerse.net/media/m1"


@pytest.mark.parametrize(
    ("host", "schema", "port", "base_url"),
    [
        ("https://api.vimmerse.net/", None, None, "https://api.vimmerse.net"),
        ("  https://api.vimmerse.net  ", None, None, "https://api.vimmerse.net"),
        ("http://localhost:8765", None, None, "http://localhost:8765"),
        ("http://localhost:8765", "https", 9999, "http://localhost:8765"),
        ("api.vimmerse.net", None, None, "https://api.vimmerse.net"),
        ("localhost", "http", 8765, "http://localhost:8765"),
        ("staging.example.com", "https", None, "https://staging.example.com"),
    ],
)
def test_the_base_url_comes_from_host_or_from_host_schema_and_port(
    host: str, schema: str | None, port: int | None, base_url: str
) -> None:
    assert build(host, schema=schema, port=port).base_url == base_url


@pytest.mark.parametrize(
    ("host", "schema"),
    [("ftp://files.example.com", None), ("https://", None), ("localhost", "ftp"), ("https:///media", None)],
)
def test_a_host_that_is_not_an_http_url_is_an_input_error_naming_the_field(host: str, schema: str | None) -> None:
    with pytest.raises(VimmerseInputError) as caught:
        build(host, schema=schema)
    assert caught.value.field == "host"
    assert "https://api.vimmerse.net" in str(caught.value)


@pytest.mark.parametrize("host", ["https://[::1", "[", "http://[api.vimmerse.net/", "https://[]"])
def test_a_malformed_host_is_an_input_error_naming_the_field(host: str) -> None:
    with pytest.raises(VimmerseInputError) as caught:
        build(host)
    assert caught.value.field == "host"


# ---------------------------------------------------------------------- key and extras


def test_the_key_is_read_from_the_password_field_without_stray_whitespace() -> None:
    assert build(password=f"  {KEY}\n").api_key == KEY
    assert build(password=None).api_key == ""


def test_defaults_apply_when_extra_is_missing_or_empty() -> None:
    for extra in (None, {}, {"timeout": "", "retries": None, "web_url": "", "asset_status_path": ""}):
        config = build(extra=extra)
        assert config.timeout == DEFAULT_TIMEOUT
        assert config.connect_timeout == DEFAULT_CONNECT_TIMEOUT
        assert config.retries == DEFAULT_RETRIES
        assert config.web_url == DEFAULT_WEB_URL
        assert config.asset_status_path == "/asset/{job_id}"


def test_numbers_in_extra_may_be_strings_as_typed_in_the_ui() -> None:
    config = build(extra={"timeout": "30", "connect_timeout": 2.5, "retries": "3"})
    assert (config.timeout, config.connect_timeout, config.retries) == (30.0, 2.5, 3)


def test_retries_may_be_switched_off() -> None:
    assert build(extra={"retries": 0}).retries == 0


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"timeout": "fast"}, "extra.timeout"),
        ({"timeout": 0}, "extra.timeout"),
        ({"timeout": -1}, "extra.timeout"),
        ({"connect_timeout": [5]}, "extra.connect_timeout"),
        ({"retries": -1}, "extra.retries"),
        ({"retries": "many"}, "extra.retries"),
    ],
)
def test_an_unusable_number_in_extra_is_an_input_error_naming_the_field(extra: dict, field: str) -> None:
    with pytest.raises(VimmerseInputError) as caught:
        build(extra=extra)
    assert caught.value.field == field


@pytest.mark.parametrize(
    "extra",
    [
        {"timeout": "nan"},
        {"timeout": "inf"},
        {"connect_timeout": float("nan")},
        {"retries": "nan"},
        {"retries": "inf"},
        {"timeout": 10**400},
    ],
    ids=["timeout-nan", "timeout-inf", "connect-timeout-nan", "retries-nan", "retries-inf", "timeout-huge-int"],
)
def test_a_non_finite_number_in_extra_is_an_input_error(extra: dict) -> None:
    # NaN or infinite timeouts make every request fail later, far from the connection form.
    with pytest.raises(VimmerseInputError) as caught:
        build(extra=extra)
    assert caught.value.field == f"extra.{next(iter(extra))}"


def test_an_accepted_config_has_finite_timeouts() -> None:
    config = build(extra={"timeout": "1e3", "connect_timeout": "0.5"})
    assert math.isfinite(config.timeout)
    assert config.timeout == 1000.0


def test_the_web_url_loses_its_trailing_slash() -> None:
    assert build(extra={"web_url": "https://app.example.com/"}).web_url == "https://app.example.com"


def test_a_custom_asset_polling_path_is_accepted() -> None:
    assert build(extra={"asset_status_path": "/v2/asset/{job_id}"}).asset_status_path == "/v2/asset/{job_id}"


@pytest.mark.parametrize("path", ["asset/{job_id}", "/asset", "/asset/{id}", "https://x/asset/{job_id}"])
def test_an_asset_path_without_a_leading_slash_or_job_id_is_an_input_error(path: str) -> None:
    with pytest.raises(VimmerseInputError) as caught:
        build(extra={"asset_status_path": path})
    assert caught.value.field == "extra.asset_status_path"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        (True, True),
        (False, False),
        ("true", True),
        ("Yes", True),
        ("1", True),
        (" off ", False),
        ("FALSE", False),
        ("0", False),
    ],
)
def test_the_webhooks_extra_is_read_once_with_the_other_extras(value: object, expected: bool | None) -> None:
    assert build(extra={"webhooks": value}).webhooks is expected, "None leaves it to [vimmerse] webhooks"


@pytest.mark.parametrize("value", ["ture", "enabled", "2", "[]"])
def test_a_webhooks_extra_that_is_not_yes_or_no_is_an_input_error_naming_the_words(value: str) -> None:
    with pytest.raises(VimmerseInputError) as caught:
        build(extra={"webhooks": value})
    assert caught.value.field == "extra.webhooks"
    assert "true, 1, yes, on, false, 0, no, off" in str(caught.value) and repr(value) in str(caught.value)


@pytest.mark.parametrize("path", ["/asset/{job_id}/{version}", "/asset/{job_id}/{", "/asset/{job_id}/{0}"])
def test_an_accepted_asset_path_can_always_be_filled_with_a_job_id(path: str) -> None:
    # Either the connection is refused up front, or polling works: never a KeyError mid-wait.
    try:
        config = build(extra={"asset_status_path": path})
    except VimmerseInputError:
        return
    assert "a1" in job_path(config.asset_status_path, "a1")


# ---------------------------------------------------------------------- secrecy


def test_the_key_never_shows_in_repr_or_str() -> None:
    config = build("https://api.vimmerse.net", extra={"timeout": 30})
    assert config.api_key == KEY
    assert KEY not in repr(config)
    assert KEY not in str(config)
    assert "base_url='https://api.vimmerse.net'" in repr(config)


def test_errors_about_the_connection_do_not_quote_the_key() -> None:
    for kwargs in ({"extra": {"timeout": "fast"}}, {"extra": {"asset_status_path": "nope"}}, {"schema": "ftp"}):
        with pytest.raises(VimmerseInputError) as caught:
            build("localhost", **kwargs)
        assert KEY not in str(caught.value)
        assert KEY not in repr(caught.value)


# ---------------------------------------------------------------------- origin


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.vimmerse.net/media", ("https", "api.vimmerse.net", 443)),
        ("HTTPS://API.Vimmerse.NET:443", ("https", "api.vimmerse.net", 443)),
        ("http://api.vimmerse.net/x", ("http", "api.vimmerse.net", 80)),
        ("http://localhost:8765/x", ("http", "localhost", 8765)),
    ],
)
def test_origin_fills_in_default_ports_and_ignores_case(url: str, expected: tuple) -> None:
    assert origin(url) == expected


@pytest.mark.parametrize(
    ("url", "same"),
    [
        ("https://api.vimmerse.net:443/x", True),
        ("https://API.vimmerse.net/media/m1/download", True),
        ("https://api.vimmerse.net", True),
        ("http://api.vimmerse.net", False),
        ("https://evil.example", False),
        ("https://api.vimmerse.net:8443/x", False),
        ("https://api.vimmerse.net.evil.example/x", False),
        ("https://api.vimmerse.net@evil.example/x", False),
        ("https://cdn.vimmerse.net/video.mp4", False),
        ("/media/m1", False),
    ],
)
def test_the_key_is_not_carried_to_another_origin(url: str, same: bool) -> None:
    assert build().same_origin(url) is same


def test_a_local_api_with_a_port_only_matches_that_port() -> None:
    config = build("http://localhost:8765")
    assert config.same_origin("http://localhost:8765/media/m1")
    assert not config.same_origin("http://localhost/media/m1")
    assert not config.same_origin("https://localhost:8765/media/m1")


# ---------------------------------------------------------------------- user agent and form


def test_the_user_agent_names_the_provider_airflow_and_python() -> None:
    agent = user_agent("1.2.3", "3.0.6")
    assert agent.startswith("airflow-provider-vimmerse/1.2.3 ")
    assert "apache-airflow/3.0.6" in agent
    assert f"Python/{platform.python_version()}" in agent


def test_the_connection_form_shows_host_and_key_and_labels_the_key() -> None:
    hidden = FORM_BEHAVIOUR["hidden_fields"]
    assert "password" not in hidden
    assert "host" not in hidden
    assert FORM_BEHAVIOUR["relabeling"]["password"] == "API Key"
