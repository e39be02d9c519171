"""Pytest plugin: a session-wide sandbox server and a ``vimmerse_sandbox`` fixture that resets it per test.

Registered with the ``pytest11`` entry point ``vimmerse_sandbox``. Override the session-scoped
``vimmerse_sandbox_settings`` fixture in a ``conftest.py`` to start the sandbox with other settings.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_vimmerse.sandbox.client import SandboxClient
from airflow_provider_vimmerse.sandbox.state import SandboxSettings, SandboxState

if TYPE_CHECKING:
    from airflow_provider_vimmerse.sandbox.server import SandboxServer

CONN_ENV_VAR = "AIRFLOW_CONN_VIMMERSE_DEFAULT"
TEST_JOB_SECONDS = 1.0


def sandbox_conn_uri(url: str, key: str, **extra: Any) -> str:
    """Return an Airflow connection (JSON form) that points the Vimmerse hook at a sandbox.

    :param url: the sandbox base URL.
    :param key: the API key to send.
    :param extra: connection extras added to (or replacing) timeout, retries and web_url.
    """
    extras = {"timeout": 10, "retries": 3, "web_url": f"{url}/app", **extra}
    return json.dumps({"conn_type": "vimmerse", "host": url, "password": key, "extra": extras})


@dataclass
class SandboxHandle:
    """What the ``vimmerse_sandbox`` fixture gives a test."""

    url: str
    api_key: str
    client: SandboxClient
    state: SandboxState
    server: SandboxServer


@pytest.fixture(scope="session")
def vimmerse_sandbox_settings() -> SandboxSettings:
    """Return the settings of the session's sandbox (jobs take one second); override to change them."""
    return SandboxSettings(job_seconds=TEST_JOB_SECONDS)


@pytest.fixture(scope="session")
def vimmerse_sandbox_server(vimmerse_sandbox_settings: SandboxSettings) -> Iterator[SandboxServer]:
    """Run one sandbox server for the whole test session (needs the ``sandbox`` extra)."""
    from airflow_provider_vimmerse.sandbox.server import SandboxServer

    with SandboxServer(vimmerse_sandbox_settings) as server:
        yield server


@pytest.fixture
def vimmerse_sandbox(
    vimmerse_sandbox_server: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SandboxHandle]:
    """Give a test a freshly reset sandbox and point ``vimmerse_default`` at it."""
    server = vimmerse_sandbox_server
    server.state.reset()
    api_key = server.state.settings.api_keys[0]
    monkeypatch.setenv(CONN_ENV_VAR, sandbox_conn_uri(server.url, api_key))
    client = SandboxClient(server.url)
    try:
        yield SandboxHandle(url=server.url, api_key=api_key, client=client, state=server.state, server=server)
    finally:
        client.close()
