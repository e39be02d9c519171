"""
Play the outputs that only the Vimmerse API serves: the page's streaming proxy (Airflow 3 api-server).

A finished media's video is served by the API's download route (``GET {api}/media/{id}/download?...``),
which needs the ``X-Api-Key`` header: a browser cannot play it, and must never see the key. Such an
output is any URL on an *API origin*: the scheme, host and port of a ``vimmerse`` connection's API base
URL. The page points its ``<video>`` at
:data:`~airflow_provider_vimmerse.plugins.jobs.OUTPUT_ROUTE` instead, and there the api-server GETs
the URL with :class:`~airflow_provider_vimmerse.hooks.vimmerse.VimmerseHook` (which sends the key to
the API's own origin only, redirects included) and streams the bytes back, passing ``Range`` on and
``Content-Type``, ``Content-Length``, ``Content-Range`` and ``Accept-Ranges`` back, so the browser can
seek. Outputs on any other origin (public CDN URLs) are played from their URL, not through here.

Which connection: a task's result does not name the connection that made it. The candidates are
``vimmerse_default`` (from any secrets backend), every connection of type ``vimmerse`` in Airflow's
database, and every ``AIRFLOW_CONN_*`` environment variable of that type; those whose API base URL has
the output's origin are tried, ``vimmerse_default`` first and then by connection id, and the first one
the API does not refuse (401, 403 or 404: the output may belong to another account's key) streams.
A connection only a secrets backend other than the environment knows, and not named
``vimmerse_default``, cannot be listed, so it is not a candidate.

The key never leaves the api-server: not in the page, the route, a response header, an error or a log.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi.responses import PlainTextResponse, Response, StreamingResponse

from airflow_provider_vimmerse.api.config import ApiConfig
from airflow_provider_vimmerse.api.urls import origin
from airflow_provider_vimmerse.exceptions import VimmerseError
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.plugins.jobs import Origin

if TYPE_CHECKING:
    import requests
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

#: Prefix of the environment variables that hold Airflow connections.
ENV_PREFIX = "AIRFLOW_CONN_"
#: Bytes read from the API at a time.
CHUNK_SIZE = 1 << 16
#: What the API may answer when a connection's key is not the one that owns the output: try the next one.
_OTHER_KEY_STATUSES = frozenset({401, 403, 404})
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


@dataclass(frozen=True)
class ApiConnection:
    """A ``vimmerse`` connection as the proxy sees it: its id and its API's origin (never its key)."""

    conn_id: str
    origin: Origin


def find_api_connections(session: Session) -> list[ApiConnection]:
    """
    Return the ``vimmerse`` connections Airflow can list, ``vimmerse_default`` first, then by id.

    :param session: a session on Airflow's metadata database
    """
    from airflow.models.connection import Connection
    from sqlalchemy import select

    default = VimmerseHook.default_conn_name
    stored = session.scalars(select(Connection.conn_id).where(Connection.conn_type == VimmerseHook.conn_type))
    from_env = (name[len(ENV_PREFIX) :].lower() for name in os.environ if name.startswith(ENV_PREFIX))
    found = []
    for conn_id in sorted({default, *stored, *from_env}, key=lambda conn_id: (conn_id != default, conn_id)):
        api = _api_connection(conn_id)
        if api is not None:
            found.append(api)
    return found


def _api_connection(conn_id: str) -> ApiConnection | None:
    """Return a connection's id and API origin; None when it is missing, of another type, or unusable."""
    from airflow.exceptions import AirflowNotFoundException
    from airflow.models.connection import Connection

    try:
        conn = Connection.get_connection_from_secrets(conn_id)
    except AirflowNotFoundException:
        return None
    if conn.conn_type != VimmerseHook.conn_type:
        return None
    try:
        config = ApiConfig.from_connection_fields(
            host=conn.host, password=None, schema=conn.schema, port=conn.port, extra=conn.extra_dejson
        )
    except VimmerseError as error:
        log.warning("The Vimmerse page ignores connection %s: %s", conn_id, error)
        return None
    return ApiConnection(conn_id, origin(config.base_url))


def api_origins(connections: Collection[ApiConnection]) -> set[Origin]:
    """
    Return the origins of the connections' APIs: the outputs there play through the proxy.

    :param connections: from :func:`find_api_connections`
    """
    return {api.origin for api in connections}


def connections_for(url: str, connections: Sequence[ApiConnection]) -> list[str]:
    """
    Return the ids of the connections whose API has ``url``'s origin, in the order to try them.

    :param url: an output's URL
    :param connections: from :func:`find_api_connections` (already in order)
    """
    wanted = origin(url)
    return [api.conn_id for api in connections if api.origin == wanted]


def stream_output(url: str, conn_ids: Sequence[str], *, byte_range: str | None = None) -> Response:
    """
    Return the answer that streams one output from the Vimmerse API through the first connection it accepts.

    Statuses 200 and 206 (a range) are passed on when the answer is a media file (video, audio, image;
    or bytes of no stated type), and 416 (a range past the end) without its body. An output no
    connection's key may read is 404; an answer that is not a media file (the API's JSON), any other
    refusal, or an API out of reach, is 502. The answer's text never holds the key or the URL's query.

    :param url: the output's URL, on the API origin of every connection in ``conn_ids``
    :param conn_ids: the connections to try, in order (:func:`connections_for`)
    :param byte_range: the browser's ``Range`` header, passed on
    """
    import requests

    status = 404
    for conn_id in conn_ids:
        hook = VimmerseHook(vimmerse_conn_id=conn_id)
        # The hook's own session, for this request only: Range on, and the bytes as stored (no gzip).
        hook.session.headers["Accept-Encoding"] = "identity"
        hook.session.headers["Accept"] = "*/*"
        if byte_range:
            hook.session.headers["Range"] = byte_range
        try:
            response = hook.open_download(url)
        except (requests.exceptions.RequestException, VimmerseError) as error:
            log.warning("Cannot stream a Vimmerse output through %s: %s", conn_id, type(error).__name__)
            return _failure(502, "The Vimmerse API could not be reached for this output.")
        status = response.status_code
        if status == 416:  # the range starts past the end: say where the end is, without the API's body
            response.close()
            headers = {name: response.headers[name] for name in ("Content-Range",) if name in response.headers}
            return Response(status_code=416, headers={**_HEADERS, **headers})
        if status in _PASSED_STATUSES:
            media_type = _media_type(response.headers.get("Content-Type", ""))
            if media_type is not None:
                return _streamed(response, media_type)
            response.close()
            return _failure(502, "The Vimmerse API did not answer a media file for this output.")
        response.close()
        log.warning("The Vimmerse API answered HTTP %d for an output through connection %s", status, conn_id)
        if status not in _OTHER_KEY_STATUSES:
            break
    if status == 404:
        return _failure(404, "The Vimmerse API has no such output for any Vimmerse connection.")
    return _failure(502, f"The Vimmerse API answered HTTP {status} for this output.")


def _media_type(content_type: str) -> str | None:
    """Return the type to serve an answer of ``content_type`` as, or None when it is not a media file."""
    essence = content_type.split(";")[0].strip().lower()
    if essence in _UNTYPED:
        return "application/octet-stream"
    if essence.startswith(_MEDIA_TYPES) and "svg" not in essence:  # an SVG is a document that can run script
        return content_type
    return None


def _streamed(response: requests.Response, media_type: str) -> StreamingResponse:
    """Return a streaming answer with the API's status and media headers; the API's response closes at the end."""
    headers = {name: response.headers[name] for name in _PASSED_HEADERS if name in response.headers}
    if response.headers.get("Content-Encoding", "identity").lower() != "identity":
        headers["Content-Encoding"] = response.headers["Content-Encoding"]  # passed as sent, not decoded
    return StreamingResponse(
        _chunks(response), status_code=response.status_code, media_type=media_type, headers={**_HEADERS, **headers}
    )


def _chunks(response: requests.Response) -> Iterator[bytes]:
    try:
        yield from response.raw.stream(CHUNK_SIZE, decode_content=False)
    finally:
        response.close()


def _failure(status: int, message: str) -> Response:
    return PlainTextResponse(message, status_code=status, headers=_HEADERS)
