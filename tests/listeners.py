"""
Stand-ins for an API that misbehaves, on real sockets of 127.0.0.1, for the page's proxy and cost view tests.

* :class:`SilentListener` accepts TCP connections and never answers (a hung API, or an attacker's
  listener that must receive nothing): it counts what it accepted.
* :class:`FakeApi` answers each path as a test says (a JSON body where a video should be, a redirect...)
  and records every request with its headers, so a test can see which one carried the API key.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class SilentListener:
    """A TCP server that accepts connections and never answers; every connection stays open until :meth:`close`."""

    def __init__(self) -> None:
        self._server = socket.socket()
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(512)
        self._server.settimeout(0.1)
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="silent-listener", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """Return the listener's base URL (``http://127.0.0.1:<port>``)."""
        return f"http://127.0.0.1:{self._server.getsockname()[1]}"

    @property
    def netloc(self) -> str:
        """Return the listener's host and port."""
        return self.url.removeprefix("http://")

    @property
    def accepted(self) -> int:
        """Return how many connections it accepted so far."""
        with self._lock:
            return len(self._open)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._open.append(conn)

    def close(self) -> None:
        """Stop accepting and close every connection."""
        self._closed.set()
        self._thread.join(timeout=5)
        self._server.close()
        with self._lock:
            for conn in self._open:
                conn.close()

    def __enter__(self) -> SilentListener:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@dataclass
class Answer:
    """What :class:`FakeApi` answers on one path: a status, headers and a body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass
class Seen:
    """One request :class:`FakeApi` received: its path with the query, and its headers (lower-case names)."""

    target: str
    headers: dict[str, str]


class FakeApi:
    """
    An HTTP server that answers each path (without its query) with the :class:`Answer` a test gives it; 404 otherwise.

    :param answers: path -> answer
    """

    def __init__(self, answers: dict[str, Answer] | None = None) -> None:
        self.answers: dict[str, Answer] = dict(answers or {})
        self.seen: list[Seen] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                api.seen.append(Seen(self.path, {name.lower(): value for name, value in self.headers.items()}))
                answer = api.answers.get(self.path.split("?", 1)[0], Answer(404, {"Content-Type": "text/plain"}))
                self.send_response(answer.status)
                for name, value in {**answer.headers, "Content-Length": str(len(answer.body))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-api", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """Return the server's base URL (``http://127.0.0.1:<port>``)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeApi:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
