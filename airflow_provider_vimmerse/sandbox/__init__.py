"""A local fake of the Vimmerse Platform API, to develop and test the provider without a key or internet.

Start it in a test with :class:`SandboxServer`, from a shell with ``vimmerse-sandbox``, or through the pytest
fixture ``vimmerse_sandbox``. Control it with :class:`SandboxClient`. The provider never imports this package.
"""

from __future__ import annotations

from airflow_provider_vimmerse.sandbox.app import create_app
from airflow_provider_vimmerse.sandbox.client import SandboxClient
from airflow_provider_vimmerse.sandbox.server import SandboxServer
from airflow_provider_vimmerse.sandbox.state import DEFAULT_API_KEY, SandboxSettings, SandboxState
from airflow_provider_vimmerse.sandbox.views import SAMPLE_MP4, SAMPLE_PNG

__all__ = [
    "DEFAULT_API_KEY",
    "SAMPLE_MP4",
    "SAMPLE_PNG",
    "SandboxClient",
    "SandboxServer",
    "SandboxSettings",
    "SandboxState",
    "create_app",
]
