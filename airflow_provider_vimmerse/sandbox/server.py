"""Run the sandbox with uvicorn in a background thread, for tests and local development."""

from __future__ import annotations

import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from types import TracebackType
from typing import Any

import uvicorn

from airflow_provider_vimmerse.sandbox.app import create_app
from airflow_provider_vimmerse.sandbox.state import SandboxSettings, SandboxState

#: The uvicorn options of every sandbox server. The stdlib event loop and h11 behave the same whatever extras
#: are installed (uvloop hangs on shutdown while a TLS client keeps an idle connection open); logging is
#: left as the host process configured it; open connections get one second to finish when stopping.
SERVING_OPTIONS: dict[str, Any] = {"loop": "asyncio", "http": "h11", "log_config": None, "timeout_graceful_shutdown": 1}


class SandboxServer:
    """A sandbox served by uvicorn in a daemon thread; usable as a context manager.

    :param settings: the start settings; default :class:`SandboxSettings()`.
    :param host: the address to listen on.
    :param port: the port to listen on; 0 picks a free one.
    :param ssl_certfile: a certificate file to serve HTTPS.
    :param ssl_keyfile: the key file of the certificate.
    :param log_level: uvicorn's log level.
    :param access_log: whether uvicorn logs every request (method, path, status; never headers).

    The uvicorn options are kept together in ``uvicorn_config`` (a ``uvicorn.Config``).
    """

    def __init__(
        self,
        settings: SandboxSettings | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
        log_level: str = "warning",
        access_log: bool = False,
    ) -> None:
        self.app = create_app(settings)
        self.state: SandboxState = self.app.state.sandbox
        self.host = host
        self.port = port
        self.uvicorn_config = uvicorn.Config(
            self.app,
            log_level=log_level,
            access_log=access_log,
            ssl_certfile=ssl_certfile,
            ssl_keyfile=ssl_keyfile,
            **SERVING_OPTIONS,
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        """Return the base URL of the sandbox, e.g. ``http://127.0.0.1:54321``."""
        scheme = "https" if self.uvicorn_config.ssl_certfile else "http"
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        if host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"{scheme}://{host}:{self.port}"

    def start(self, timeout: float = 10.0) -> SandboxServer:
        """Start serving and block until ``/health`` answers.

        :param timeout: seconds to wait for the server to answer.
        :raises RuntimeError: when the server does not come up in time.
        """
        if self._thread is not None:
            raise RuntimeError("the sandbox server is already running")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on such sockets (else ~40 ms per request).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        self._socket = sock
        self._server = uvicorn.Server(self.uvicorn_config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="vimmerse-sandbox", daemon=True
        )
        self._thread.start()
        self._wait_until_healthy(timeout)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving and wait for the server thread to end.

        Open connections get one second to finish (an HTTPS client that keeps an idle connection makes
        stopping take that second).

        :param timeout: seconds to wait for the thread.
        """
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        self._server = None
        self._thread = None
        self._socket = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"SandboxServer(url={self.url!r})"

    def _wait_until_healthy(self, timeout: float) -> None:
        context = None
        if self.uvicorn_config.ssl_certfile:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._thread is None or not self._thread.is_alive():
                break
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1, context=context) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"the sandbox server did not answer at {self.url}/health within {timeout} s")
