"""
Paths and URLs: a job id put into a path, absolute URLs, origins, and which redirect to follow.

Every place that builds a job's path or link, or decides where the API key may go, calls these;
both HTTP paths of the hook follow redirects by :func:`follow_redirect`.

Pure module: no Airflow imports, no HTTP client imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from airflow_provider_vimmerse.exceptions import VimmerseInputError

#: Prefixes of the URLs the API accepts as inputs and serves outputs from.
HTTP_PREFIXES = ("http://", "https://")
#: Answers that send a request elsewhere.
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: Redirects followed at most for one request.
MAX_REDIRECTS = 5


def job_path(template: str, job_id: str) -> str:
    """
    Fill ``{job_id}`` in a path template, escaping the id so it stays one path segment.

    :raises VimmerseInputError: for an empty id or one that would climb the path (``.``, ``..``)
    """
    text = str(job_id).strip()
    if text in ("", ".", ".."):
        raise VimmerseInputError("job_id", f"must be a job id, got {job_id!r}")
    return template.format(job_id=quote(text, safe=""))


def absolute_url(base_url: str, path: str) -> str:
    """Return ``path`` (starting with ``/``) below ``base_url`` (the API's or the web app's)."""
    return base_url.rstrip("/") + path


def is_http_url(value: Any) -> bool:
    """Return True for a string that is an ``http://`` or ``https://`` URL."""
    return isinstance(value, str) and value.startswith(HTTP_PREFIXES)


def path_of(url: str) -> str:
    """Return the path of a URL (no scheme, host or query), for messages."""
    return urlsplit(url).path


def origin(url: str) -> tuple[str, str, int | None]:
    """Return (scheme, host, port) of a URL, with the scheme's default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    port = port or {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def same_origin(url: str, other: str) -> bool:
    """Return True when two URLs have the same scheme, host and port."""
    return origin(url) == origin(other)


@dataclass(frozen=True)
class Redirect:
    """
    Where a redirect sends a request next.

    :param url: the absolute URL to request
    :param send_key: whether the API key goes along (only to the API's own scheme, host and port)
    """

    url: str
    send_key: bool


def follow_redirect(method: str, url: str, status: int, location: str | None, *, api_url: str) -> Redirect | None:
    """
    Decide whether an answer is a redirect to follow, and where to.

    Only ``GET`` is followed (a redirected write is reported, not sent again); the API key goes
    along only to ``api_url``'s origin, so an output served from a CDN never gets it.

    :param method: HTTP method of the request that got the answer
    :param url: the URL that answered
    :param status: the answer's HTTP status
    :param location: the answer's ``Location`` header
    :param api_url: the API base URL
    :return: the next request, or None when the answer is the one to read
    """
    if method != "GET" or status not in REDIRECT_STATUSES:
        return None
    target = urljoin(url, location or "")
    return Redirect(url=target, send_key=same_origin(target, api_url))
