"""Fixtures of the sandbox tests: one real sandbox server over HTTP, reset before every test."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from airflow_provider_vimmerse.sandbox import DEFAULT_API_KEY, SandboxClient, SandboxServer, SandboxSettings

JOB_SECONDS = 1.0
# Shorter than the defaults (2 s and 3 s) to keep the suite quick; tests of those windows set their own.
STALE_SECONDS = 0.3
COMPOSE_SECONDS = 0.3


class Api:
    """A ``requests`` session that talks to the sandbox API with the sandbox key."""

    def __init__(self, url: str, api_key: str) -> None:
        self.url = url
        self.session = requests.Session()
        self.session.headers["X-Api-Key"] = api_key

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, f"{self.url}{path}", timeout=10, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def media_status(self, media_id: str) -> dict[str, Any]:
        response = self.get(f"/media/{media_id}/processing-status")
        assert response.status_code == 200
        return response.json()["data"]

    def media(self, media_id: str) -> dict[str, Any]:
        """GET /media/{id}, unwrapped: the default answer is {"data": {"data": media}}."""
        response = self.get(f"/media/{media_id}")
        assert response.status_code == 200
        return response.json()["data"]["data"]

    def finished_media(self, media_id: str, timeout: float = 5.0) -> dict[str, Any]:
        def finished() -> dict[str, Any] | None:
            media = self.media(media_id)
            return media if media["processing_status"] in ("success", "fail", "cancel") else None

        return wait_until(finished, timeout)

    def finished_group(self, path: str, timeout: float = 8.0) -> dict[str, Any]:
        """Wait until a batch or story failed, or succeeded and has its composed video_url."""

        def finished() -> dict[str, Any] | None:
            group = self.get(path).json()["data"]
            done = group["status"] == "fail" or (group["status"] == "success" and group["video_url"])
            return group if done else None

        return wait_until(finished, timeout)

    def finished_asset(self, asset_id: str, timeout: float = 5.0) -> dict[str, Any]:
        def finished() -> dict[str, Any] | None:
            asset = self.get(f"/asset/{asset_id}").json()
            return asset if asset["status"] != "processing" else None

        return wait_until(finished, timeout)


class WebhookReceiver:
    """A tiny HTTP server that records the JSON bodies POSTed to it."""

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                receiver.payloads.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait_until(predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.05) -> Any:
    """Call ``predicate`` until it returns something truthy, and return that; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


@pytest.fixture(name="wait_until")
def wait_until_fixture() -> Callable[..., Any]:
    return wait_until


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    settings = SandboxSettings(
        job_seconds=JOB_SECONDS, stale_success_seconds=STALE_SECONDS, compose_seconds=COMPOSE_SECONDS
    )
    with SandboxServer(settings) as server:
        yield server


@pytest.fixture
def sandbox_client(sandbox_server: SandboxServer) -> Iterator[SandboxClient]:
    with SandboxClient(sandbox_server.url) as client:
        client.reset()
        yield client


@pytest.fixture
def api(sandbox_server: SandboxServer, sandbox_client: SandboxClient) -> Iterator[Api]:
    client = Api(sandbox_server.url, DEFAULT_API_KEY)
    yield client
    client.session.close()


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()
