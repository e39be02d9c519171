"""
Where the API key may go: only where the HTTP client that sends the request will connect, and only to the API.

The provider decides with its own strict reading of a URL (:func:`~airflow_provider_vimmerse.api.urls.url_problem`,
:meth:`~airflow_provider_vimmerse.api.config.ApiConfig.same_origin`); ``requests`` and aiohttp send the
request with theirs. A differential test feeds a corpus of tricky URLs (backslashes, user info, ``#@``,
``%40``, IDNA and full-width hosts, case, trailing dots, ports, IPv6, schemes) through all three readings:
whenever the provider would send the key, both clients reach the API's own host and port. Then the
attack as a security review showed it, over real sockets: a URL or a redirect that reads as the API to
:func:`urllib.parse.urlsplit` but connects elsewhere gets no request at all, let alone the key.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from airflow_provider_vimmerse.api.config import ApiConfig
from airflow_provider_vimmerse.api.endpoints import ApiRequest
from airflow_provider_vimmerse.api.urls import origin, url_problem
from airflow_provider_vimmerse.exceptions import VimmerseInputError, VimmerseResponseError
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook, _aiohttp_origin, _requests_origin, key_goes_to
from airflow_provider_vimmerse.sandbox.pytest_plugin import sandbox_conn_uri
from tests.listeners import Answer, FakeApi, SilentListener

APIS = ("https://api.vimmerse.net", "http://127.0.0.1:8765", "http://[::1]:8765")
EVIL = "evil.example"
FULL_WIDTH_CDN = "".join(chr(ord(c) + 0xFEE0) for c in "cdn")


def tricky_urls(api: str) -> list[str]:
    """Return URLs built around ``api``'s host that parsers are known to read differently."""
    scheme, hostport = api.split("://")
    host = hostport.rsplit(":", 1)[0] if not hostport.endswith("]") and ":" in hostport else hostport
    upper = api.upper()
    fixed = [
        f"{scheme}://{EVIL}\\@{hostport}/media/abc/download",
        f"{scheme}://{EVIL}\\\\@{hostport}/x",
        f"{scheme}://{EVIL}/\\@{hostport}/x",
        f"{scheme}:\\\\{hostport}/x",
        f"{scheme}://{hostport}\\@{EVIL}/x",
        f"{scheme}://user:pw@{hostport}/x",
        f"{scheme}://{hostport}@{EVIL}/x",
        f"{scheme}://{hostport}:@{EVIL}/x",
        f"{scheme}://{EVIL}#@{hostport}/x",
        f"{scheme}://{EVIL}?@{hostport}/x",
        f"{scheme}://{EVIL}%40{hostport}/x",
        f"{scheme}://{hostport}%2f@{EVIL}/x",
        f"{scheme}://{hostport}%00.{EVIL}/x",
        f"{scheme}://{hostport}.{EVIL}/x",
        f"{scheme}://{host}./x",
        f"{scheme}://{host.replace('a', chr(0x430))}/x",  # a Cyrillic a
        f"{scheme}://{host.replace('.', chr(0x3002))}/x",  # an ideographic full stop, which IDNA maps to '.'
        "".join(chr(ord(c) + 0xFEE0) if c.isalnum() and c.isascii() else c for c in f"{scheme}://{hostport}/x"),
        f"{upper}/x",
        f"{scheme}://{host}:0443/x",
        f"{scheme}://{host}:+443/x",
        f"{scheme}://{host}:99999/x",
        f"{scheme}://{host}:443 /x",
        f"{scheme}://{host}:/x",
        f"{scheme}://{host}:8765/x",
        f"{scheme}://{host}:80/x",
        f"{scheme}://{host}:443/x",
        f"{scheme}://[::1]:8765/x",
        f"{scheme}://[::ffff:127.0.0.1]:8765/x",
        f"{scheme}://[::1%25lo]:8765/x",
        f"{scheme}://[::1/x",
        "ftp://" + hostport + "/x",
        "ws://" + hostport + "/x",
        f"{scheme}:/{hostport}/x",
        f"{scheme}:{hostport}/x",
        f"//{hostport}/x",
        f"{scheme}://{host}\t/x",
        f"{scheme}://{host}\n.{EVIL}/x",
        f" {api}/x",
        f"{scheme}://{EVIL}/{api}/x",
        f"{scheme}://2130706433:8765/x",
        f"{scheme}://127.1:8765/x",
        f"{api}/x",
        f"{api}/media/abc/download?object_type=bullet_video_mp4",
        f"{api}?@{EVIL}",
        f"{api}#@{EVIL}",
    ]
    # Every way of joining two hosts with the characters that end or split an authority.
    separators = ["@", "\\@", "\\", "#", "?", "/", ":@", "%40", "%5C@", ";@", "&@", " @"]
    joined = [f"{scheme}://{a}{sep}{b}/x" for a, b in itertools.permutations((hostport, EVIL)) for sep in separators]
    return fixed + joined


def corpus() -> Iterator[tuple[str, str]]:
    for api in APIS:
        for url in tricky_urls(api):
            yield api, url


@pytest.mark.parametrize(("api", "url"), list(corpus()))
def test_the_key_goes_only_where_both_clients_reach_the_api(api: str, url: str) -> None:
    config = ApiConfig(base_url=api, api_key="k")
    api_origin = origin(api)
    for client_origin in (_requests_origin, _aiohttp_origin):
        if key_goes_to(url, config, client_origin):
            assert client_origin(url) == api_origin, f"the key would go to {client_origin(url)}"
    # The provider's own reading must never say "the API" where either client reads another host.
    if config.same_origin(url):
        assert _requests_origin(url) == api_origin, f"requests reads {_requests_origin(url)}"
        assert _aiohttp_origin(url) == api_origin, f"aiohttp reads {_aiohttp_origin(url)}"


@pytest.mark.parametrize("api", APIS)
def test_the_plain_forms_of_the_api_url_still_get_the_key(api: str) -> None:
    config = ApiConfig(base_url=api, api_key="k")
    for url in (f"{api}/x", f"{api.upper()}/media/m1", f"{api}/media/abc/download?object_type=bullet_video_mp4"):
        assert key_goes_to(url, config, _requests_origin) and key_goes_to(url, config, _aiohttp_origin), url


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://127.0.0.1:1\\@127.0.0.1:2/x", "backslash"),
        ("https://user:s3cret@cdn.example.com/a.png", "user info"),
        ("https://cdn.example.com:99999/a.png", "invalid port"),
        ("https://cdn.example.com:+443/a.png", "invalid port"),
        ("https://" + FULL_WIDTH_CDN + ".example.com/a.png", "not plain ASCII"),
        ("https://cdn.example.com%40api/a.png", "not plain ASCII"),
        ("ftp://cdn.example.com/a.png", "http"),
    ],
)
def test_a_url_either_client_could_read_otherwise_is_refused_with_the_reason(url: str, problem: str) -> None:
    reason = url_problem(url)
    assert reason is not None and problem in reason
    assert "s3cret" not in reason
    assert origin(url) is None, "an unusable URL has no origin (an invalid port is not the default one)"


# ---------------------------------------------------------------------- the attack, over real sockets


@pytest.fixture
def listener() -> Iterator[SilentListener]:
    """The attacker's host: it accepts connections and counts them, and never answers."""
    with SilentListener() as found:
        yield found


@pytest.fixture
def hook(vimmerse_sandbox, monkeypatch) -> VimmerseHook:
    monkeypatch.setenv(
        "AIRFLOW_CONN_VIMMERSE_DEFAULT", sandbox_conn_uri(vimmerse_sandbox.url, vimmerse_sandbox.api_key)
    )
    return VimmerseHook()


def test_a_download_url_that_reads_as_the_api_to_urlsplit_is_refused_before_any_request(
    hook, vimmerse_sandbox, listener, tmp_path
):
    api_hostport = vimmerse_sandbox.url.split("://")[1]
    url = f"http://{listener.netloc}\\@{api_hostport}/media/abc/download?object_type=bullet_video_mp4"
    with pytest.raises(VimmerseInputError, match="backslash") as raised:
        hook.download(url, tmp_path, fallback_name="out.mp4")
    assert raised.value.field == "url"
    with pytest.raises(VimmerseInputError, match="backslash"):
        hook.open_download(url)
    assert listener.accepted == 0, "nothing may reach the other host"
    assert vimmerse_sandbox.api_key not in str(raised.value)


@pytest.mark.parametrize("location", ["//127.0.0.1:{port}\\@{api}/x", "http://127.0.0.1:{port}\\@{api}/x"])
def test_a_redirect_to_such_a_url_is_not_followed_on_either_path(hook, vimmerse_sandbox, listener, tmp_path, location):
    api_hostport = vimmerse_sandbox.url.split("://")[1]
    evil = location.format(port=listener.netloc.rsplit(":", 1)[1], api=api_hostport)
    # A host fetched without the key (the same sandbox, by another name) answers the redirect.
    elsewhere = vimmerse_sandbox.url.replace("127.0.0.1", "localhost")
    with pytest.raises(VimmerseResponseError, match="not followed: it contains a backslash"):
        hook.download(f"{elsewhere}/_sandbox/redirect?to={quote(evil, safe='')}", tmp_path, fallback_name="out.mp4")
    # The API itself redirecting there: the sync and the async path refuse alike.
    req = ApiRequest("GET", "/_sandbox/redirect", params={"to": evil})
    with pytest.raises(VimmerseResponseError, match="not followed: it contains a backslash"):
        hook.request(req, retries=0)
    with pytest.raises(VimmerseResponseError, match="not followed: it contains a backslash"):
        asyncio.run(hook.arequest(req, retries=0))
    assert listener.accepted == 0


def test_a_redirect_to_another_host_by_a_clean_url_still_goes_there_without_the_key(hook, tmp_path):
    video = Answer(200, {"Content-Type": "video/mp4"}, b"ok")
    with FakeApi({"/v.mp4": video}) as cdn:
        other_host = cdn.url.replace("127.0.0.1", "localhost")
        path = hook.download(
            f"{hook.config.base_url}/_sandbox/redirect?to={other_host}/v.mp4", tmp_path, fallback_name="out.mp4"
        )
    [seen] = cdn.seen
    assert seen.target == "/v.mp4" and "x-api-key" not in seen.headers
    assert Path(path).read_bytes() == b"ok"
