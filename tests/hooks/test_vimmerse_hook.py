"""The hook against the sandbox API over real HTTP: errors, retry rules, redirects, secrets, test_connection."""

from __future__ import annotations

import asyncio
import http.server
import json
import logging
import socket
import struct
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from airflow_provider_vimmerse.api.endpoints import ApiRequest, form_fields
from airflow_provider_vimmerse.exceptions import (
    VimmerseAuthError,
    VimmerseConnectionError,
    VimmerseInsufficientCreditError,
    VimmerseJobMayExistError,
    VimmerseNotFoundError,
    VimmerseRateLimitError,
    VimmerseResponseError,
    VimmerseValidationError,
)
from airflow_provider_vimmerse.hooks.sessions import SESSIONS
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.sandbox.pytest_plugin import sandbox_conn_uri

SECRET = "sbx-TOPSECRET-key-for-leak-checks"


def create_media_request(prompt: str = "a cat surfing") -> ApiRequest:
    return ApiRequest("POST", "/media", form=form_fields({"prompt": prompt}), spends_credits=True)


def posts(sandbox, path: str = "/media", settle: float = 0.0) -> list[dict]:
    """Return the ledger's POSTs to ``path``; ``settle`` waits for slow answers still being sent."""
    deadline = time.monotonic() + settle
    while True:
        entries = [e for e in sandbox.client.ledger() if e["method"] == "POST" and e["path"] == path]
        if entries or time.monotonic() >= deadline:
            return entries
        time.sleep(0.1)


def use_connection(monkeypatch, url: str, key: str, **extra) -> VimmerseHook:
    monkeypatch.setenv("AIRFLOW_CONN_VIMMERSE_DEFAULT", sandbox_conn_uri(url, key, **extra))
    return VimmerseHook()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def fast_hook(vimmerse_sandbox, monkeypatch):
    """A hook on the sandbox with short timeouts and quick backoff, for the retry tests."""
    monkeypatch.setattr("airflow_provider_vimmerse.api.retry.BACKOFF_BASE_SECONDS", 0.05)
    return use_connection(monkeypatch, vimmerse_sandbox.url, vimmerse_sandbox.api_key, timeout=1, retries=3)


# ---------------------------------------------------------------------- answers and errors


def test_create_and_read_status_with_wrapped_and_bare_answers(vimmerse_sandbox):
    hook = VimmerseHook()
    media = hook.request(create_media_request())
    media_id = media["data"]["id"]
    snapshot = hook.get_job_snapshot("media", media_id)
    assert snapshot.kind == "media"
    assert snapshot.raw_status in ("queue_bullet", "processing_bullet", "new")
    assert snapshot.state is not None and not snapshot.state.is_terminal
    assert hook.get_job("media", media_id)["id"] == media_id


@pytest.mark.parametrize(
    ("setup", "request_", "error", "fragment"),
    [
        ("bad_key", ApiRequest("GET", "/media/x"), VimmerseAuthError, "API key was rejected"),
        ("no_credit", create_media_request(), VimmerseInsufficientCreditError, "out of credits"),
        (None, ApiRequest("GET", "/media/does-not-exist"), VimmerseNotFoundError, "MEDIA_NOT_FOUND"),
        (
            None,
            ApiRequest("POST", "/media", form=[("prompt", "x"), ("motion_type", "Warp9")], spends_credits=True),
            VimmerseValidationError,
            "motion_type",
        ),
        (
            None,
            ApiRequest("POST", "/media", form=[("title", "no input")], spends_credits=True),
            VimmerseValidationError,
            "400",
        ),
    ],
)
def test_error_translation_names_method_path_status_and_server_message(
    vimmerse_sandbox, monkeypatch, setup, request_, error, fragment
):
    hook = VimmerseHook()
    if setup == "bad_key":
        hook = use_connection(monkeypatch, vimmerse_sandbox.url, "not-a-valid-key")
    if setup == "no_credit":
        vimmerse_sandbox.client.configure(credits=0)
    with pytest.raises(error) as raised:
        hook.request(request_)
    text = str(raised.value)
    assert request_.method in text and request_.path in text
    assert fragment in text
    if error is VimmerseValidationError and fragment == "motion_type":
        assert raised.value.fields == ["motion_type"]
    if setup == "no_credit":
        assert posts(vimmerse_sandbox) and all(not e["created"] for e in posts(vimmerse_sandbox))
        assert len(posts(vimmerse_sandbox)) == 1, "402 must never be retried"


def test_malformed_json_is_a_response_error_after_retries(vimmerse_sandbox, fast_hook):
    vimmerse_sandbox.client.add_fault(fault="malformed", method="GET", path="^/media/", times=10)
    media_id = fast_hook.request(create_media_request())["data"]["id"]
    with pytest.raises(VimmerseResponseError, match="not JSON"):
        fast_hook.get_job_snapshot("media", media_id)
    gets = [e for e in vimmerse_sandbox.client.ledger() if e["method"] == "GET"]
    assert len(gets) == 4, "a GET with a garbled answer is retried (3 retries)"


# ---------------------------------------------------------------------- retry rules


def test_get_is_retried_through_5xx_and_dropped_connections(vimmerse_sandbox, fast_hook):
    media_id = fast_hook.request(create_media_request())["data"]["id"]
    vimmerse_sandbox.client.add_fault(fault="status", status=502, method="GET", times=1)
    vimmerse_sandbox.client.add_fault(fault="drop", method="GET", times=1)
    snapshot = fast_hook.get_job_snapshot("media", media_id)
    assert snapshot.job_id == media_id
    gets = [e for e in vimmerse_sandbox.client.ledger() if e["method"] == "GET"]
    assert [e["fault"] is not None for e in gets] == [True, True, False]


def test_rate_limit_error_once_retries_are_spent(vimmerse_sandbox, fast_hook):
    vimmerse_sandbox.client.add_fault(fault="status", status=429, method="GET", times=10)
    with pytest.raises(VimmerseRateLimitError, match="429"):
        fast_hook.get_job_snapshot("media", "any")
    assert len([e for e in vimmerse_sandbox.client.ledger() if e["method"] == "GET"]) == 4


def test_retry_after_header_is_honoured(vimmerse_sandbox, fast_hook):
    vimmerse_sandbox.client.add_fault(fault="status", status=429, retry_after=1, method="POST", times=1)
    started = time.monotonic()
    fast_hook.request(create_media_request())
    assert time.monotonic() - started >= 1.0
    entries = posts(vimmerse_sandbox)
    gap = datetime.fromisoformat(entries[1]["time"]) - datetime.fromisoformat(entries[0]["time"])
    assert len(entries) == 2 and gap.total_seconds() >= 0.95
    assert sum(e["created"] for e in entries) == 1


@pytest.mark.parametrize("status", [429, 503])
def test_credit_spending_post_is_retried_when_the_server_did_not_take_it(vimmerse_sandbox, fast_hook, status):
    vimmerse_sandbox.client.add_fault(fault="status", status=status, method="POST", times=2)
    fast_hook.request(create_media_request())
    entries = posts(vimmerse_sandbox)
    assert len(entries) == 3
    assert sum(e["created"] for e in entries) == 1, "exactly one job was created"


@pytest.mark.parametrize(
    ("fault", "why"),
    [
        ({"fault": "slow", "delay": 2.5}, "timed out"),
        ({"fault": "status", "status": 500}, "500"),
        ({"fault": "status", "status": 502}, "502"),
        ({"fault": "status", "status": 504}, "504"),
        ({"fault": "drop"}, "connection failed"),
    ],
)
def test_credit_spending_post_is_not_retried_after_it_reached_the_server(vimmerse_sandbox, fast_hook, fault, why):
    vimmerse_sandbox.client.add_fault(method="POST", times=5, **fault)
    with pytest.raises(VimmerseJobMayExistError) as raised:
        fast_hook.request(create_media_request())
    time.sleep(fault.get("delay", 0))  # let a slow answer finish so the ledger holds it
    entries = posts(vimmerse_sandbox, settle=1)
    assert len(entries) == 1, "sent once, never again"
    assert entries[0]["created"], "the sandbox did take the job: a retry would have paid twice"
    message = str(raised.value)
    assert why in message and "may have been created" in message and "web app" in message


def test_connection_refused_is_retried_even_for_a_credit_spending_post(vimmerse_sandbox, monkeypatch):
    monkeypatch.setattr("airflow_provider_vimmerse.api.retry.BACKOFF_BASE_SECONDS", 0.01)
    hook = use_connection(monkeypatch, f"http://127.0.0.1:{free_port()}", "k", retries=2)
    attempts = []
    # monkeypatch undoes it: on Airflow 2 hook.log is the logger every VimmerseHook shares
    monkeypatch.setattr(hook.log, "warning", lambda *args: attempts.append(args))
    with pytest.raises(VimmerseConnectionError) as raised:
        hook.request(create_media_request())
    assert raised.value.sent is False
    assert len(attempts) == 2, "a request that never reached the server is safe to resend"


# ---------------------------------------------------------------------- redirects and secrets


@pytest.mark.parametrize("same_origin", [True, False])
def test_api_key_is_only_sent_along_same_origin_redirects(vimmerse_sandbox, monkeypatch, same_origin):
    hook = use_connection(monkeypatch, vimmerse_sandbox.url, vimmerse_sandbox.api_key)
    port = vimmerse_sandbox.url.rsplit(":", 1)[1]
    host = "127.0.0.1" if same_origin else "localhost"  # another host name is another origin
    target = f"http://{host}:{port}/_sandbox/echo"
    req = ApiRequest("GET", "/_sandbox/redirect", params={"to": target})
    sync_headers = hook.request(req)["headers"]

    async def via_async():
        return (await hook.arequest(req))["headers"]

    async_headers = asyncio.run(via_async())
    for headers in (sync_headers, async_headers):
        assert ("x-api-key" in headers) is same_origin


def test_api_key_never_appears_in_logs_errors_or_reprs(vimmerse_sandbox, monkeypatch, caplog):
    vimmerse_sandbox.client.configure(api_keys=[SECRET])
    monkeypatch.setattr("airflow_provider_vimmerse.api.retry.BACKOFF_BASE_SECONDS", 0.01)
    hook = use_connection(monkeypatch, vimmerse_sandbox.url, SECRET, timeout=1, retries=1)
    texts = []
    caplog.set_level(logging.DEBUG)
    vimmerse_sandbox.client.add_fault(fault="status", status=500, times=3)
    vimmerse_sandbox.client.add_fault(fault="slow", delay=2, method="POST", times=1)
    for req in (
        ApiRequest("GET", "/media/x/processing-status"),
        create_media_request(),
        ApiRequest("GET", "/media/missing"),
    ):
        try:
            hook.request(req)
        except Exception as error:
            texts += [str(error), repr(error), str(error.__cause__)]
    bad = use_connection(monkeypatch, vimmerse_sandbox.url, SECRET + "-wrong")
    with pytest.raises(VimmerseAuthError) as raised:
        bad.request(ApiRequest("GET", "/media/x"))
    texts += [str(raised.value), repr(hook.config), repr(hook), caplog.text]
    texts += [json.dumps(e) for e in vimmerse_sandbox.client.ledger()]
    assert texts and not [t for t in texts if SECRET in t]


# ---------------------------------------------------------------------- async path


def test_async_path_shares_one_session_per_loop_and_closes_it(vimmerse_sandbox):
    hook = VimmerseHook()
    media_id = hook.request(create_media_request())["data"]["id"]

    async def many_waits():
        sessions = set()

        async def one():
            async with hook.async_session() as (session, _):
                sessions.add(id(session))
                return await VimmerseHook().aget_job_snapshot("media", media_id)

        results = await asyncio.gather(*(one() for _ in range(50)))
        return results, sessions, len(SESSIONS)

    results, sessions, open_after = asyncio.run(many_waits())
    assert {r.job_id for r in results} == {media_id}
    assert len(sessions) == 1, "50 concurrent waits share one aiohttp session"
    assert open_after == 0, "the session is closed when the last user is done"


def test_async_errors_match_the_sync_ones(vimmerse_sandbox):
    hook = VimmerseHook()
    vimmerse_sandbox.client.configure(credits=0)

    async def attempt(req):
        try:
            await hook.arequest(req)
        except Exception as error:
            return error

    errors = asyncio.run(attempt(create_media_request())), asyncio.run(attempt(ApiRequest("GET", "/media/nope")))
    assert isinstance(errors[0], VimmerseInsufficientCreditError)
    assert isinstance(errors[1], VimmerseNotFoundError)


def test_async_post_not_retried_after_read_timeout(vimmerse_sandbox, fast_hook):
    vimmerse_sandbox.client.add_fault(fault="slow", delay=2.5, method="POST", times=3)

    async def attempt():
        await fast_hook.arequest(create_media_request())

    with pytest.raises(VimmerseJobMayExistError):
        asyncio.run(attempt())
    time.sleep(2.5)
    assert len(posts(vimmerse_sandbox, settle=1)) == 1


def test_async_get_is_retried_through_server_errors(vimmerse_sandbox, fast_hook):
    media_id = fast_hook.request(create_media_request())["data"]["id"]
    vimmerse_sandbox.client.add_fault(fault="status", status=503, method="GET", times=2)
    snapshot = asyncio.run(fast_hook.aget_job_snapshot("media", media_id))
    assert snapshot.job_id == media_id
    gets = [e for e in vimmerse_sandbox.client.ledger() if e["method"] == "GET"]
    assert [e["status"] for e in gets] == [503, 503, 200]


def test_reads_beyond_the_poll_budget_wait_their_turn_and_all_succeed(vimmerse_sandbox, monkeypatch):
    monkeypatch.setattr("airflow_provider_vimmerse.api.waiting.MAX_POLLS_PER_SECOND", 40.0)
    media_id = VimmerseHook().request(create_media_request())["data"]["id"]

    async def many_reads():
        started = time.monotonic()
        snapshots = await asyncio.gather(*(VimmerseHook().aget_job_snapshot("media", media_id) for _ in range(40)))
        return snapshots, time.monotonic() - started

    snapshots, seconds = asyncio.run(many_reads())
    assert {s.job_id for s in snapshots} == {media_id}, "every read got its answer"
    assert seconds >= 0.9, f"40 reads at 40 per second were spread over about a second, not {seconds:.2f} s"


def test_reads_queued_for_a_busy_connection_pool_are_not_connect_timeouts(vimmerse_sandbox, monkeypatch):
    # 150 reads share the session's 100 connections; the last 50 wait 2.5 s for one, longer than the 1 s connect timeout
    # (1 s, not less: opening 100 sockets on a loaded 2-core CI machine can take a few hundred ms).
    hook = use_connection(monkeypatch, vimmerse_sandbox.url, vimmerse_sandbox.api_key, connect_timeout=1.0)
    media_id = hook.request(create_media_request())["data"]["id"]
    vimmerse_sandbox.client.add_fault(fault="slow", delay=2.5, method="GET", path="processing-status", times=150)

    async def many_reads():
        return await asyncio.gather(*(hook.aget_job_snapshot("media", media_id, retries=0) for _ in range(150)))

    assert {s.job_id for s in asyncio.run(many_reads())} == {media_id}, "every read got its answer"


# ---------------------------------------------------------------------- download


def serve_once(answer: bytes, *, reset: bool) -> str:
    """Answer one HTTP request with ``answer`` on a local port, then close (with a reset if asked); return the URL."""
    listener = socket.create_server(("127.0.0.1", 0))

    def handle():
        conn, _ = listener.accept()
        with conn, listener:
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(4096)
            conn.sendall(answer)
            if reset:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    threading.Thread(target=handle, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}/out.mp4"


def test_a_download_cut_by_a_reset_is_a_connection_error_and_leaves_no_file(vimmerse_sandbox, tmp_path):
    url = serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n" + b"x" * 300_000, reset=True)
    with pytest.raises(VimmerseConnectionError, match=r"GET /out\.mp4: download failed"):
        VimmerseHook().download(url, tmp_path, fallback_name="media.mp4")
    assert list(tmp_path.iterdir()) == [], "neither the file nor a partial file is left"


def test_a_chunked_download_is_kept_whole(vimmerse_sandbox, tmp_path):
    content = bytes(range(256)) * 5000
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (content[:70_000], content[70_000:]))
    url = serve_once(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n", reset=False)
    path = VimmerseHook().download(url, tmp_path, fallback_name="media.mp4")
    assert Path(path).read_bytes() == content
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]


# ---------------------------------------------------------------------- test_connection


class _NotVimmerse(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<html>hello</html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def other_web_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotVimmerse)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_test_connection_tells_the_outcomes_apart(vimmerse_sandbox, monkeypatch, other_web_server):
    ok, message = VimmerseHook().test_connection()
    assert ok and "API key works" in message

    ok, message = use_connection(monkeypatch, vimmerse_sandbox.url, "wrong").test_connection()
    assert not ok and "rejected" in message

    ok, message = use_connection(monkeypatch, f"http://127.0.0.1:{free_port()}", "k", retries=0).test_connection()
    assert not ok and "Cannot reach" in message

    ok, message = use_connection(monkeypatch, other_web_server, "k", retries=0).test_connection()
    assert not ok and "not like the Vimmerse API" in message

    ok, message = use_connection(monkeypatch, vimmerse_sandbox.url, "").test_connection()
    assert not ok and "No API key" in message


def test_both_paths_send_a_user_agent_naming_package_airflow_and_python(vimmerse_sandbox):
    from airflow import __version__ as airflow_version

    from airflow_provider_vimmerse import __version__

    hook = VimmerseHook()
    with pytest.raises(VimmerseNotFoundError):
        hook.request(ApiRequest("GET", "/media/x"), retries=0)
    with pytest.raises(VimmerseNotFoundError):
        asyncio.run(hook.arequest(ApiRequest("GET", "/media/y"), retries=0))
    agents = {e["user_agent"] for e in vimmerse_sandbox.client.ledger()}
    assert len(agents) == 1
    agent = agents.pop()
    assert f"airflow-provider-vimmerse/{__version__}" in agent
    assert f"apache-airflow/{airflow_version}" in agent and "Python/3." in agent
