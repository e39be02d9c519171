"""
Paths and URLs: a job id put into a path, absolute URLs, origins, and which redirect to follow.

Every place that builds a job's path or link, or decides where the API key may go, calls these;
both HTTP paths of the hook follow redirects by :func:`follow_redirect`.

Pure module: no Airflow imports, no HTTP client imports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from airflow_provider_vimmerse.exceptions import VimmerseInputError, VimmerseResponseError

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


#: (scheme, host, port) of a URL: what a client connects to, the scheme's default port filled in
#: (an IPv6 host without its brackets, as HTTP clients give it).
Origin = tuple[str, str, int]

_DEFAULT_PORTS = {"http": 80, "https": 443}
#: A host name as every HTTP client reads it alike: ASCII letters, digits, ``-`` and ``_`` in dot-separated labels.
_HOST_NAME = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*\.?")
#: An IPv6 literal, without a zone (``%25eth0``), which clients read differently.
_IPV6 = re.compile(r"\[[0-9a-f:.]+\]")
_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*)://", re.IGNORECASE)


def url_problem(url: Any) -> str | None:
    """
    Return why ``url`` is not a plain absolute http(s) URL that every HTTP client reads alike, or None when it is.

    Refused: another scheme, a backslash anywhere (``requests`` and ``yarl`` read ``http://a\\@b/`` as two
    different hosts), white space or control characters, user info (``user:password@``), a host that is
    not plain ASCII (IDNA, full-width, percent-encoded), an IPv6 zone, and a port that is not 1 to 65535
    written in digits. The reason never repeats the URL, which may hold a password.

    :param url: anything (a URL from an XCom, an API answer or a redirect is untrusted input)
    """
    if not isinstance(url, str):
        return f"is not text ({type(url).__name__})"
    if "\\" in url:
        return "contains a backslash"
    if any(ord(char) < 0x21 or char.isspace() or ord(char) == 0x7F for char in url):
        return "contains white space or a control character"
    match = _SCHEME.match(url)
    if match is None or match.group(1).lower() not in _DEFAULT_PORTS:
        return "is not an absolute http:// or https:// URL"
    authority = re.split(r"[/?#]", url[match.end() :], maxsplit=1)[0]
    if "@" in authority:
        return "has user info (user:password@ before the host)"
    host, port = _split_authority(authority.lower())
    if not (_HOST_NAME.fullmatch(host) or _IPV6.fullmatch(host)):
        return "has no host, or a host that is not plain ASCII letters, digits, dots and hyphens"
    if port is not None and not (port.isascii() and port.isdigit() and len(port) <= 5 and 0 < int(port) < 65536):
        return "has an invalid port (must be 1 to 65535 in digits)"
    return None


def origin(url: Any) -> Origin | None:
    """
    Return (scheme, host, port) of a URL, lower case, the scheme's default port filled in.

    :return: None when :func:`url_problem` refuses the URL (so an invalid port is never the default one)
    """
    if url_problem(url) is not None:
        return None
    scheme, rest = str(url).split("://", 1)
    host, port = _split_authority(re.split(r"[/?#]", rest, maxsplit=1)[0].lower())
    scheme = scheme.lower()
    return scheme, host.strip("[]"), int(port) if port else _DEFAULT_PORTS[scheme]


def _split_authority(authority: str) -> tuple[str, str | None]:
    """Split ``host[:port]`` (the host may be an IPv6 literal in brackets); the port is None when not written."""
    if authority.startswith("["):
        host, bracket, rest = authority.partition("]")
        if not bracket:
            return "", None  # no closing bracket: no host
        return host + "]", (rest[1:] if rest.startswith(":") else (rest or None))
    host, colon, port = authority.partition(":")
    return host, (port if colon else None)


def check_url(url: Any, field: str) -> Origin:
    """
    Return the origin of ``url``, or refuse it before any request is made.

    :param url: the URL to fetch
    :param field: what the URL is, for the error (``url``, ``video_urls[0]``...)
    :raises VimmerseInputError: naming ``field`` and what is wrong (:func:`url_problem`)
    """
    problem = url_problem(url)
    if problem is not None:
        raise VimmerseInputError(field, f"must be a plain absolute http(s) URL; this one {problem}")
    found = origin(url)
    assert found is not None
    return found


def same_origin(url: str, other: str) -> bool:
    """Return True when two URLs are both usable (:func:`url_problem`) and have the same scheme, host and port."""
    mine = origin(url)
    return mine is not None and mine == origin(other)


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
    along only to ``api_url``'s origin, so an output served from a CDN never gets it. A ``Location``
    that :func:`url_problem` refuses (``//evil\\@api/``, user info, a bad port) is not followed at all.
    The HTTP client that sends the next request checks the origin again as it parses it.

    :param method: HTTP method of the request that got the answer
    :param url: the URL that answered
    :param status: the answer's HTTP status
    :param location: the answer's ``Location`` header
    :param api_url: the API base URL
    :return: the next request, or None when the answer is the one to read
    :raises VimmerseResponseError: for a redirect to a URL that is refused
    """
    if method != "GET" or status not in REDIRECT_STATUSES:
        return None
    location = location or ""
    problem = "contains a backslash" if "\\" in location else None
    target = urljoin(url, location)
    problem = problem or url_problem(target)
    if problem is not None:
        raise VimmerseResponseError(
            f"GET {path_of(url)} redirected to a URL that is not followed: it {problem}",
            method="GET",
            path=path_of(url),
        )
    return Redirect(url=target, send_key=same_origin(target, api_url))
