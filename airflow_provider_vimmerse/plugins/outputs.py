"""
Play the outputs that only the Vimmerse API serves: the page's streaming proxy (Airflow 3 api-server).

A finished media's video is served by the API's download route (``GET {api}/media/{id}/download?...``),
which needs the ``X-Api-Key`` header: a browser cannot play it, and must never see the key. The page
points its ``<video>`` at :data:`~airflow_provider_vimmerse.plugins.jobs.OUTPUT_ROUTE` instead, and there
the api-server fetches the output with :class:`~airflow_provider_vimmerse.hooks.vimmerse.VimmerseHook`
and streams the bytes back, passing ``Range`` on and ``Content-Type``, ``Content-Length``,
``Content-Range`` and ``Accept-Ranges`` back, so the browser can seek.

What is fetched, with which key: an output URL comes from an XCom, which DAG authors and anyone who
may write XComs control, so it is never fetched as written.
:func:`~airflow_provider_vimmerse.plugins.jobs.output_source` finds the job that owns the output and
its documented download settings, and the proxy fetches that job's download route from the API base
URL of the connection the task used (the result's ``conn_id``) with that connection's key. There is no
other candidate: a refusal (401, 403, 404) is the answer, never a reason to try another account's key.
A result that names no connection (results written before they did), or a connection that is missing
or not of type ``vimmerse``, is not proxied.

Nothing here holds a worker thread or a database session while it waits on the API: the route reads
the task's result with a short session of its own (:mod:`~airflow_provider_vimmerse.plugins.app`),
:class:`ProxiedOutput` reads the connection in a worker thread and then waits on aiohttp
(:meth:`~airflow_provider_vimmerse.hooks.vimmerse.VimmerseHook.aopen_download`). The answer's headers
must come within :data:`HEADERS_TIMEOUT` seconds, every redirect included; each chunk of the body
within :data:`CHUNK_TIMEOUT` seconds, and the browser must take each chunk within as long. At most
:data:`MAX_STREAMS` outputs stream at once per api-server process; past that the answer is 503 with
``Retry-After``, at once.

The key never leaves the api-server: not in the page, the route, a response header, an error or a log.
Neither does the query of the URL fetched.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from fastapi.responses import PlainTextResponse, Response, StreamingResponse

from airflow_provider_vimmerse.api.config import ApiConfig
from airflow_provider_vimmerse.api.urls import origin
from airflow_provider_vimmerse.exceptions import VimmerseError
from airflow_provider_vimmerse.hooks.sessions import Slots
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.plugins.jobs import Origin, OutputSource

if TYPE_CHECKING:
    import aiohttp
    from sqlalchemy.orm import Session
    from starlette.types import Message, Receive, Scope, Send

log = logging.getLogger(__name__)

#: Outputs one api-server process streams at once. A browser opens at most six connections to one
#: server (HTTP/1.1), so this lets two or three pages load their videos together; past it the answer is 503.
MAX_STREAMS = 16
#: The proxy's streams in flight in this process.
STREAMS = Slots(MAX_STREAMS)
#: Seconds the browser is told to wait before asking again when every stream is taken.
RETRY_AFTER = 5
#: Seconds from the first request to the API until the final answer's headers, every redirect included.
HEADERS_TIMEOUT = 10.0
#: Seconds to open one connection to the API (within :data:`HEADERS_TIMEOUT`).
CONNECT_TIMEOUT = 5.0
#: Seconds to wait for each chunk from the API, and for the browser to take each chunk.
CHUNK_TIMEOUT = 30.0
#: Bytes read from the API at a time.
CHUNK_SIZE = 1 << 16
#: Statuses whose media file is passed on to the browser (a whole file, or the range asked for).
_PASSED_STATUSES = frozenset({200, 206})
#: Response headers passed on to the browser (the rest, cookies included, stay on the api-server).
_PASSED_HEADERS = ("Content-Length", "Content-Range", "Accept-Ranges", "Last-Modified", "ETag")
#: Content types the proxy serves: media files, or bytes of no stated type (object stores answer those).
#: Anything else (the API's JSON, a page) is refused, so the route never hands out what the key reads.
_MEDIA_TYPES = ("video/", "audio/", "image/")
_UNTYPED = frozenset({"", "application/octet-stream", "binary/octet-stream"})
#: Headers of every answer: nothing cached, nothing sniffed, nothing the bytes could run.
_HEADERS = {
    "Cache-Control": "private, no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


class ApiOrigins:
    """
    The API origins of the connections a page's rows name, for their ``play_urls``: each connection read once.

    Read only where reading makes no network call: Airflow's ``AIRFLOW_CONN_*`` environment variables,
    then its database (with the page's session), as Airflow looks them up after any other secrets
    backend. A connection only another secrets backend holds is not asked for while the page renders:
    its outputs play from their URLs. Only the API base URL is read, never the key.

    :param session: a session on Airflow's metadata database
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self._read: dict[str, Origin | None] = {}

    def __call__(self, conn_id: str) -> Origin | None:
        """Return the API origin of a ``vimmerse`` connection; None when it is unknown here, not one, or unusable."""
        if conn_id not in self._read:
            self._read[conn_id] = self._origin(conn_id)
        return self._read[conn_id]

    def _origin(self, conn_id: str) -> Origin | None:
        from airflow.secrets.environment_variables import EnvironmentVariablesBackend
        from airflow.secrets.metastore import MetastoreBackend

        conn = EnvironmentVariablesBackend().get_connection(conn_id) or MetastoreBackend().get_connection(
            conn_id, session=self._session
        )
        if conn is None or conn.conn_type != VimmerseHook.conn_type:
            return None
        try:
            config = ApiConfig.from_connection_fields(
                host=conn.host, password=None, schema=conn.schema, port=conn.port, extra=conn.extra_dejson
            )
        except VimmerseError as error:
            log.warning("The Vimmerse page ignores connection %s: %s", conn_id, error)
            return None
        return origin(config.base_url)


def proxy_hook(conn_id: str) -> VimmerseHook | None:
    """
    Return a hook on the connection a task used, its settings read; None when it is missing, not one or unusable.

    Blocking (the connection may come from the database or a secrets backend): call it in a worker thread.

    :param conn_id: the result's ``conn_id``
    """
    from airflow.exceptions import AirflowNotFoundException
    from airflow.models.connection import Connection

    try:
        conn = Connection.get_connection_from_secrets(conn_id)
        if conn.conn_type != VimmerseHook.conn_type:
            log.warning("The Vimmerse output proxy does not use connection %s: its type is not vimmerse", conn_id)
            return None
        hook = VimmerseHook(vimmerse_conn_id=conn_id)
        _ = hook.config  # read here, in the worker thread, not later on the event loop
    except AirflowNotFoundException:
        return None
    except VimmerseError as error:
        log.warning("The Vimmerse output proxy cannot use connection %s: %s", conn_id, type(error).__name__)
        return None
    return hook


class ProxiedOutput(Response):
    """
    The answer that streams one output from the Vimmerse API, fetched when the answer is sent.

    It takes one of :data:`STREAMS` (503 with ``Retry-After`` when none is free), reads the connection
    in a worker thread, GETs the output's download route on that connection's API and streams the
    answer. Statuses 200 and 206 (a range) are passed on when the answer is a media file (video, audio,
    image; or bytes of no stated type), and 416 (a range past the end) without its body. 404 when the
    connection is not usable here or the API has no such output; an answer that is not a media file
    (the API's JSON), any other refusal, or an API out of reach or too slow, is 502. The answer's text
    never holds the key or the URL's query. Everything it opened is closed when it ends, however it ends.

    :param source: what to fetch (:func:`~airflow_provider_vimmerse.plugins.jobs.output_source`)
    :param byte_range: the browser's ``Range`` header, passed on
    """

    def __init__(self, source: OutputSource, *, byte_range: str | None = None) -> None:
        super().__init__(headers=_HEADERS)
        self.source = source
        self.byte_range = byte_range

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Take a stream slot, fetch the output and send it (or say why not)."""
        import aiohttp

        with STREAMS.hold() as held:
            if not held:
                busy = f"More Vimmerse outputs are streaming than this server allows ({STREAMS.limit}): try again soon."
                await _failure(503, busy, {"Retry-After": str(RETRY_AFTER)})(scope, receive, send)
                return
            async with contextlib.AsyncExitStack() as opened:
                answer = await self._answer(opened)
                answer.background = self.background
                try:
                    await answer(scope, receive, _taken_in_time(send))
                except (aiohttp.ClientError, asyncio.TimeoutError) as error:  # the API or the browser too slow
                    log.warning(
                        "A Vimmerse output stream through %s stopped: %s", self.source.conn_id, type(error).__name__
                    )

    async def _answer(self, opened: contextlib.AsyncExitStack) -> Response:
        """Return the answer to send: the API's media file streaming (opened on ``opened``), or a failure."""
        from starlette.concurrency import run_in_threadpool

        conn_id = self.source.conn_id
        hook = await run_in_threadpool(proxy_hook, conn_id)
        if hook is None:
            return _failure(404, "The Vimmerse connection this task used is not configured on this Airflow.")
        headers = {"Accept-Encoding": "identity", "Accept": "*/*"}  # the bytes as stored (no gzip)
        if self.byte_range:
            headers["Range"] = self.byte_range
        download = hook.aopen_download(
            self.source.url(hook.config.base_url),
            headers=headers,
            connect_timeout=CONNECT_TIMEOUT,
            headers_timeout=HEADERS_TIMEOUT,
            read_timeout=CHUNK_TIMEOUT,
        )
        try:
            response = await opened.enter_async_context(download)
        except VimmerseError as error:
            log.warning("Cannot stream a Vimmerse output through %s: %s", conn_id, type(error).__name__)
            message = f"The Vimmerse API could not be reached, or did not answer within {HEADERS_TIMEOUT:g} s."
            return _failure(502, message)
        status = response.status
        if status == 416:  # the range starts past the end: say where the end is, without the API's body
            content_range = {name: response.headers[name] for name in ("Content-Range",) if name in response.headers}
            return Response(status_code=416, headers={**_HEADERS, **content_range})
        if status in _PASSED_STATUSES:
            media_type = _media_type(response.headers.get("Content-Type", ""))
            if media_type is not None:
                return _streamed(response, media_type)
            return _failure(502, "The Vimmerse API did not answer a media file for this output.")
        log.warning("The Vimmerse API answered HTTP %d for an output through connection %s", status, conn_id)
        if status == 404:
            return _failure(404, "The Vimmerse API has no such output.")
        return _failure(502, f"The Vimmerse API answered HTTP {status} for this output.")


def _media_type(content_type: str) -> str | None:
    """Return the type to serve an answer of ``content_type`` as, or None when it is not a media file."""
    essence = content_type.split(";")[0].strip().lower()
    if essence in _UNTYPED:
        return "application/octet-stream"
    if essence.startswith(_MEDIA_TYPES) and "svg" not in essence:  # an SVG is a document that can run script
        return content_type
    return None


def _streamed(response: aiohttp.ClientResponse, media_type: str) -> StreamingResponse:
    """Return a streaming answer with the API's status and media headers."""
    headers = {name: response.headers[name] for name in _PASSED_HEADERS if name in response.headers}
    if response.headers.get("Content-Encoding", "identity").lower() != "identity":
        headers["Content-Encoding"] = response.headers["Content-Encoding"]  # passed as sent, not decoded
    return StreamingResponse(
        _chunks(response), status_code=response.status, media_type=media_type, headers={**_HEADERS, **headers}
    )


async def _chunks(response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    """Yield the API's body as it comes (each read waits :data:`CHUNK_TIMEOUT` at most: the session's read timeout)."""
    async for chunk in response.content.iter_chunked(CHUNK_SIZE):
        yield chunk


def _taken_in_time(send: Send) -> Send:
    """Return ``send`` bounded by :data:`CHUNK_TIMEOUT`: a browser that stops reading frees its stream."""

    async def send_in_time(message: Message) -> None:
        await asyncio.wait_for(send(message), CHUNK_TIMEOUT)

    return send_in_time


def _failure(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return PlainTextResponse(message, status_code=status, headers={**_HEADERS, **(headers or {})})
