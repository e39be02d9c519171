"""
One request on the wire, for each HTTP client the hook uses: ``requests`` (sync) and ``aiohttp`` (async).

Side by side for both clients: the redirect loop (which answer is followed is
:func:`~airflow_provider_vimmerse.api.urls.follow_redirect`'s to say), where the API key may go
(:func:`key_goes_to`, as the provider and as the client read the URL), the body, the answer decoded
into JSON or an error, and a failure told apart: before or after the request reached the server,
which decides whether a credit-spending request may be sent again.

The hook (:class:`~airflow_provider_vimmerse.hooks.vimmerse.VimmerseHook`) owns the connection, the
sessions and the retries; it calls these with a session and the connection's settings. ``requests``,
``aiohttp`` and ``yarl`` are imported only when a request is made.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow_provider_vimmerse.api.config import API_KEY_HEADER, ApiConfig
from airflow_provider_vimmerse.api.endpoints import ApiRequest
from airflow_provider_vimmerse.api.responses import error_from_response, parse_json
from airflow_provider_vimmerse.api.urls import MAX_REDIRECTS, REDIRECT_STATUSES, Origin, follow_redirect, path_of
from airflow_provider_vimmerse.exceptions import (
    VimmerseConnectionError,
    VimmerseError,
    VimmerseResponseError,
    VimmerseTimeoutError,
)
from airflow_provider_vimmerse.hooks.sessions import request_timeout

if TYPE_CHECKING:
    import aiohttp
    import requests


# ---------------------------------------------------------------------- sync: requests


def send(session: requests.Session, req: ApiRequest, config: ApiConfig) -> Any:
    """
    Send one API request on ``requests`` and return the decoded JSON answer (no retry).

    :param session: the hook's ``requests`` session
    :param req: what to send
    :param config: the connection's settings
    :raises VimmerseError: a subclass naming what failed
    """
    import requests

    files = [(f.field, (f.filename, f.content, f.content_type)) for f in req.files] or None
    try:
        response = open_following(
            session,
            req.method,
            config.url(req.path),
            config,
            read_timeout=req.read_timeout,
            params=req.params,
            data=list(req.form) if req.form is not None else None,
            files=files,
            json=req.json,
        )
        body = response.content
    except requests.exceptions.RequestException as error:
        raise _transport_error(req, config, error, sent=not _requests_never_connected(error)) from None
    return _decode(req, response.status_code, body, response.headers.get("Retry-After"))


def open_following(
    session: requests.Session,
    method: str,
    url: str,
    config: ApiConfig,
    *,
    read_timeout: float | None = None,
    stream: bool = False,
    **body: Any,
) -> requests.Response:
    """
    Send a request and return the answer, following redirects by hand (the sync path's one redirect loop).

    Which answer is followed is :func:`~airflow_provider_vimmerse.api.urls.follow_redirect`'s to
    say; the key goes only to the API's own scheme, host and port, as written and as ``requests``
    parses the URL (:func:`key_goes_to`). ``body`` (query, form, files, JSON) goes with the first request only.
    """
    send_key = key_goes_to(url, config, _requests_origin)
    for _ in range(MAX_REDIRECTS + 1):
        response = session.request(
            method,
            url,
            headers={API_KEY_HEADER: config.api_key} if send_key else {},
            timeout=(config.connect_timeout, read_timeout or config.timeout),
            stream=stream,
            allow_redirects=False,
            **body,
        )
        hop = follow_redirect(
            method, url, response.status_code, response.headers.get("Location"), api_url=config.base_url
        )
        if hop is None:
            return response
        response.close()
        url, send_key, body = hop.url, key_goes_to(hop.url, config, _requests_origin), {}
    raise VimmerseResponseError(
        f"{method} {path_of(url)}: more than {MAX_REDIRECTS} redirects", method=method, path=path_of(url)
    )


# ---------------------------------------------------------------------- async: aiohttp


async def asend(session: aiohttp.ClientSession, req: ApiRequest, config: ApiConfig) -> Any:
    """Send a request on aiohttp, following redirects as the sync path does (same rule, same key policy)."""
    import aiohttp

    body: dict[str, Any] = {"params": req.params, "data": _aiohttp_data(req), "json": req.json}
    url = config.url(req.path)
    send_key = key_goes_to(url, config, _aiohttp_origin)
    try:
        for _ in range(MAX_REDIRECTS + 1):
            async with session.request(
                req.method,
                url,
                headers={API_KEY_HEADER: config.api_key} if send_key else {},
                allow_redirects=False,
                **body,
                **request_timeout(req, config),
            ) as response:
                hop = follow_redirect(
                    req.method, url, response.status, response.headers.get("Location"), api_url=config.base_url
                )
                if hop is None:
                    answer = await response.read()
                    return _decode(req, response.status, answer, response.headers.get("Retry-After"))
            url, send_key, body = hop.url, key_goes_to(hop.url, config, _aiohttp_origin), {}
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        raise _transport_error(req, config, error, sent=not _aiohttp_never_connected(error)) from None
    raise VimmerseResponseError(f"{req.describe()}: more than {MAX_REDIRECTS} redirects", path=req.path)


async def aopen_following(
    session: aiohttp.ClientSession, url: str, config: ApiConfig, headers: Mapping[str, str]
) -> aiohttp.ClientResponse:
    """Send a GET and follow its redirects as :func:`asend` does; return the final answer, unread."""
    send_key = key_goes_to(url, config, _aiohttp_origin)
    for _ in range(MAX_REDIRECTS + 1):
        key = {API_KEY_HEADER: config.api_key} if send_key else {}
        response = await session.get(url, headers={**headers, **key}, allow_redirects=False)
        try:
            hop = follow_redirect(
                "GET", url, response.status, response.headers.get("Location"), api_url=config.base_url
            )
        except VimmerseError:
            response.close()
            raise
        if hop is None:
            return response
        response.close()
        url, send_key = hop.url, key_goes_to(hop.url, config, _aiohttp_origin)
    raise VimmerseResponseError(
        f"GET {path_of(url)}: more than {MAX_REDIRECTS} redirects", method="GET", path=path_of(url)
    )


def _aiohttp_data(req: ApiRequest) -> Any:
    """Return aiohttp's ``data`` for a request: multipart when it uploads files, else the form fields."""
    if not req.files:
        return list(req.form) if req.form is not None else None
    import aiohttp

    form = aiohttp.FormData()
    for name, value in req.form or ():
        form.add_field(name, value)
    for part in req.files:
        form.add_field(part.field, part.content, filename=part.filename, content_type=part.content_type)
    return form


# ---------------------------------------------------------------------- where the key may go


def key_goes_to(url: str, config: ApiConfig, client_origin: Callable[[str], Origin | None]) -> bool:
    """
    Return True when the API key may go with a request to ``url``.

    Both must hold: ``url`` has the API's scheme, host and port as the provider reads it
    (:meth:`ApiConfig.same_origin`, which refuses every URL that
    :func:`~airflow_provider_vimmerse.api.urls.url_problem` refuses), and as the HTTP client that
    sends the request parses it (``client_origin``). Where the two parsers could disagree, the key stays home.

    :param url: the URL about to be requested
    :param config: the connection's settings (API base URL)
    :param client_origin: :func:`_requests_origin` or :func:`_aiohttp_origin`
    """
    return config.same_origin(url) and client_origin(url) == config.api_origin


def _requests_origin(url: str) -> Origin | None:
    """Return the origin ``requests`` connects to for ``url``: its prepared URL, read as its adapter reads it."""
    from urllib.parse import urlparse

    import requests

    prepared = requests.PreparedRequest()
    try:
        prepared.prepare_url(url, None)
        parts = urlparse(str(prepared.url))  # HTTPAdapter.build_connection_pool_key_attributes reads it so
        port = parts.port
    except (requests.exceptions.RequestException, ValueError):
        return None
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), port or {"http": 80, "https": 443}.get(scheme, 0)


def _aiohttp_origin(url: str) -> Origin | None:
    """Return the origin aiohttp connects to for ``url``: yarl's reading (aiohttp's connector uses ``raw_host``)."""
    import yarl

    try:
        parsed = yarl.URL(url)
        host, port = parsed.raw_host, parsed.port
    except (ValueError, TypeError):
        return None
    return parsed.scheme.lower(), (host or "").lower(), port or 0


# ---------------------------------------------------------------------- answers and failures


def _decode(req: ApiRequest, status: int, body: bytes, retry_after: str | None) -> Any:
    if status >= 400:
        raise error_from_response(method=req.method, path=req.path, status=status, body=body, retry_after=retry_after)
    if status in REDIRECT_STATUSES:
        raise VimmerseResponseError(f"{req.describe()} answered a redirect ({status}) that was not followed")
    if not body:
        return {}
    return parse_json(body, method=req.method, path=req.path, status=status)


def _transport_error(
    req: ApiRequest, config: ApiConfig, error: BaseException, *, sent: bool
) -> VimmerseConnectionError:
    host = urlsplit(config.base_url).netloc
    name = type(error).__name__
    is_timeout = "Timeout" in name or isinstance(error, asyncio.TimeoutError)
    what = "timed out" if is_timeout else "connection failed"
    where = "before the request was sent" if not sent else "after the request was sent"
    cls = VimmerseTimeoutError if is_timeout else VimmerseConnectionError
    return cls(f"{req.describe()} to {host}: {what} {where} ({name})", sent=sent, method=req.method, path=req.path)


def download_error(url: str, error: BaseException) -> VimmerseConnectionError:
    """Return the error of a download that got no answer: what failed and where in the path, never the host or query."""
    name = type(error).__name__
    is_timeout = "Timeout" in name or isinstance(error, asyncio.TimeoutError)
    cls = VimmerseTimeoutError if is_timeout else VimmerseConnectionError
    what = "timed out" if is_timeout else "connection failed"
    path = path_of(url)
    return cls(f"GET {path}: {what} ({name})", sent=not _aiohttp_never_connected(error), method="GET", path=path)


def _requests_never_connected(error: BaseException) -> bool:
    """Return True when a ``requests`` error happened before the request could reach the server."""
    import requests
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

    if isinstance(error, (requests.exceptions.ConnectTimeout, requests.exceptions.SSLError)):
        return True
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (NewConnectionError, ConnectTimeoutError)):
            return True
        nested = getattr(current, "reason", None)
        if not isinstance(nested, BaseException) and current.args and isinstance(current.args[0], BaseException):
            nested = current.args[0]
        current = nested if isinstance(nested, BaseException) else current.__cause__
    return False


def _aiohttp_never_connected(error: BaseException) -> bool:
    """Return True when an ``aiohttp`` error happened before the request could reach the server."""
    import aiohttp

    never = (aiohttp.ClientConnectorError, getattr(aiohttp, "ConnectionTimeoutError", aiohttp.ClientConnectorError))
    return isinstance(error, never)
