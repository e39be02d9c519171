"""A local fake of the Vimmerse Platform API, to develop and test the provider without a key or internet.

Start it in a test with :class:`SandboxServer`, from a shell with ``vimmerse-sandbox``, or through the pytest
fixture ``vimmerse_sandbox``. Control it with :class:`SandboxClient`. The provider never imports this package.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name -> module. Imported on first use, so the pytest plugin and the client work without the
#: ``sandbox`` extra (FastAPI, uvicorn) until a server is actually started.
_EXPORTS = {
    "DEFAULT_API_KEY": "state",
    "SAMPLE_MP4": "files",
    "SAMPLE_PNG": "files",
    "SandboxClient": "client",
    "SandboxServer": "server",
    "SandboxSettings": "state",
    "SandboxState": "state",
    "create_app": "app",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)


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
