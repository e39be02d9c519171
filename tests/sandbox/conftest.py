"""Fixtures of the sandbox tests: one real sandbox server over HTTP, reset before every test."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from airflow_provider_vimmerse.sandbox import DEFAULT_API_KEY, SandboxClient, SandboxServer, SandboxSettings
from tests.sandbox.http_api import Api, wait_until

JOB_SECONDS = 1.0
# Shorter than the defaults (2 s and 3 s) to keep the suite quick; tests of those windows set their own.
STALE_SECONDS = 0.3
COMPOSE_SECONDS = 0.3


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
