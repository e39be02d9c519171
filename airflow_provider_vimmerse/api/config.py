"""
Client settings read from an Airflow connection, as plain data.

The hook builds an :class:`ApiConfig` from the connection once; both HTTP paths read it. The
``repr`` never shows the API key.

Pure module: no Airflow imports.
"""

from __future__ import annotations

import math
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from airflow_provider_vimmerse.api.jobs import DEFAULT_ASSET_STATUS_PATH
from airflow_provider_vimmerse.api.urls import Origin, absolute_url, origin, same_origin, url_problem
from airflow_provider_vimmerse.exceptions import VimmerseInputError

#: The connection the hook and the operators use unless told otherwise.
DEFAULT_CONN_ID = "vimmerse_default"
DEFAULT_BASE_URL = "https://api.vimmerse.net"
DEFAULT_WEB_URL = "https://www.vimmerse.net"
DEFAULT_TIMEOUT = 60.0
#: Seconds to wait for the answer of a story step the API answers only when done: "This step may take
#: several minutes" (openapi.json, POST /story/{story_id}/scenes); docs/api-contract.md.
DEFAULT_SLOW_STEP_TIMEOUT = 600.0
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_RETRIES = 5
MAX_RETRIES = 20
API_KEY_HEADER = "X-Api-Key"
#: What the connection's Test button says, and what an API request says before it is sent, without a key.
NO_API_KEY = "No API key: put your Vimmerse API key in the connection's API Key (password) field."

#: Connection extra fields: name -> (label, description). The UI form and the docs read this.
EXTRA_FIELDS: Mapping[str, tuple[str, str]] = {
    "timeout": ("Request timeout (s)", f"Read timeout of one request, in seconds. Default {DEFAULT_TIMEOUT:g}."),
    "slow_step_timeout": (
        "Slow step answer timeout (s)",
        "Read timeout of the story steps the API answers only when done (storyboard, elements, scenes). "
        f"Default {DEFAULT_SLOW_STEP_TIMEOUT:g}.",
    ),
    "connect_timeout": (
        "Connect timeout (s)",
        f"Seconds to wait for a connection to the API. Default {DEFAULT_CONNECT_TIMEOUT:g}.",
    ),
    "retries": (
        "Retries",
        f"How many times a failed request is retried (see the retry rules). Default {DEFAULT_RETRIES}.",
    ),
    "web_url": (
        "Web app URL",
        f"Base URL of the Vimmerse web app, for links in the Airflow UI. Default {DEFAULT_WEB_URL}.",
    ),
    "asset_status_path": (
        "Asset status path",
        f"Path polled for v2 assets; {{job_id}} is replaced. Default {DEFAULT_ASSET_STATUS_PATH}.",
    ),
    "webhooks": (
        "Webhooks",
        "true or false: let the API wake this connection's waits by webhook (Airflow 3.3+). "
        "Empty: the deployment's [vimmerse] webhooks setting.",
    ),
}
#: The words a yes/no setting accepts (any case), and what each means.
FLAG_WORDS: Mapping[str, bool] = {
    **dict.fromkeys(("true", "1", "yes", "on"), True),
    **dict.fromkeys(("false", "0", "no", "off"), False),
}

#: The standard connection fields in the UI form: which are hidden, their labels and placeholders.
FORM_BEHAVIOUR: Mapping[str, Any] = {
    "hidden_fields": ["schema", "login", "port", "extra"],
    "relabeling": {"host": "API base URL", "password": "API Key"},
    "placeholders": {"host": DEFAULT_BASE_URL, "password": "your Vimmerse API key"},
}


@dataclass(frozen=True)
class ApiConfig:
    """
    Everything a client needs to talk to the API.

    :param base_url: API base URL without trailing slash
    :param api_key: the API key (never printed)
    :param timeout: read timeout in seconds
    :param slow_step_timeout: read timeout of the story steps answered only when done, in seconds
    :param connect_timeout: connect timeout in seconds
    :param retries: how many times a failed request may be retried
    :param web_url: web app base URL for links
    :param asset_status_path: path template polled for assets
    :param webhooks: the connection's choice for webhook-driven waits; None when it leaves it to the
        deployment's ``[vimmerse] webhooks``
    """

    base_url: str = DEFAULT_BASE_URL
    api_key: str = field(default="", repr=False)
    timeout: float = DEFAULT_TIMEOUT
    slow_step_timeout: float = DEFAULT_SLOW_STEP_TIMEOUT
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    web_url: str = DEFAULT_WEB_URL
    asset_status_path: str = DEFAULT_ASSET_STATUS_PATH
    webhooks: bool | None = None

    @classmethod
    def from_connection_fields(
        cls,
        *,
        host: str | None,
        password: str | None,
        schema: str | None = None,
        port: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> ApiConfig:
        """
        Build the settings from a connection's fields.

        :param host: ``https://api.vimmerse.net`` or a bare host name; empty means the default
        :param password: the API key
        :param schema: URL scheme when ``host`` has none
        :param port: port when ``host`` has none
        :param extra: the connection's extra fields
        :raises VimmerseInputError: when a field has an unusable value
        """
        extra = dict(extra or {})
        return cls(
            base_url=_base_url(host, schema, port),
            api_key=(password or "").strip(),
            timeout=_number(extra, "timeout", DEFAULT_TIMEOUT, minimum=0.1, maximum=3600),
            slow_step_timeout=_number(
                extra, "slow_step_timeout", DEFAULT_SLOW_STEP_TIMEOUT, minimum=0.1, maximum=3 * 3600
            ),
            connect_timeout=_number(extra, "connect_timeout", DEFAULT_CONNECT_TIMEOUT, minimum=0.1, maximum=600),
            retries=int(_number(extra, "retries", DEFAULT_RETRIES, minimum=0, maximum=MAX_RETRIES)),
            web_url=str(extra.get("web_url") or DEFAULT_WEB_URL).rstrip("/"),
            asset_status_path=_asset_path(extra.get("asset_status_path")),
            webhooks=None if extra.get("webhooks") in (None, "") else parse_flag(extra["webhooks"], "extra.webhooks"),
        )

    def url(self, path: str) -> str:
        """Return the absolute URL of an API path."""
        return absolute_url(self.base_url, path)

    @cached_property
    def api_origin(self) -> Origin | None:
        """Return the API's (scheme, host, port), read once: every request compares its URL with it."""
        return origin(self.base_url)

    def same_origin(self, url: str) -> bool:
        """
        Return True when ``url`` has the API's scheme, host and port as written (where the key may go).

        A URL that :func:`~airflow_provider_vimmerse.api.urls.url_problem` refuses never matches; the
        hook also checks the origin as its HTTP client parses the URL before it sends the key.
        """
        # A URL below the base URL (every poll's) shares its scheme, host and port as written: every client
        # ends the host at that "/", so no parsing is needed on the polling path.
        return url.startswith(self.base_url + "/") or same_origin(url, self.base_url)


def user_agent(package_version: str, airflow_version: str) -> str:
    """Return the User-Agent naming this package, Airflow and Python."""
    return (
        f"airflow-provider-vimmerse/{package_version} (apache-airflow/{airflow_version}; "
        f"Python/{platform.python_version()})"
    )


def parse_flag(value: Any, name: str) -> bool:
    """
    Return a yes/no setting as a bool: a bool as is, else one of :data:`FLAG_WORDS`.

    :param value: the setting as configured
    :param name: the setting's name, for the error
    :raises VimmerseInputError: for any other value (a typo must not quietly mean "no")
    """
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word not in FLAG_WORDS:
        raise VimmerseInputError(name, f"must be one of {', '.join(FLAG_WORDS)}, got {value!r}")
    return FLAG_WORDS[word]


def _base_url(host: str | None, schema: str | None, port: int | None) -> str:
    host = (host or "").strip()
    if not host:
        return DEFAULT_BASE_URL
    if "://" not in host:
        host = f"{schema or 'https'}://{host}"
        if port:
            host = f"{host}:{port}"
    problem = url_problem(host)
    if problem is not None:
        raise VimmerseInputError("host", f"must be an http(s) URL such as {DEFAULT_BASE_URL}; this one {problem}")
    return host.rstrip("/")


def _number(extra: Mapping[str, Any], name: str, default: float, minimum: float, maximum: float) -> float:
    value = extra.get(name)
    if value is None or value == "":
        return float(default)
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise VimmerseInputError(f"extra.{name}", f"must be a number, got {value!r}") from None
    if not math.isfinite(number) or not minimum <= number <= maximum:
        raise VimmerseInputError(f"extra.{name}", f"must be a number from {minimum:g} to {maximum:g}, got {value!r}")
    return number


def _asset_path(value: Any) -> str:
    if not value:
        return DEFAULT_ASSET_STATUS_PATH
    path = str(value)
    try:
        fillable = path.format(job_id="x") != path
    except (KeyError, IndexError, ValueError):
        fillable = False
    if not path.startswith("/") or not fillable:
        raise VimmerseInputError(
            "extra.asset_status_path", f"must start with '/' and contain '{{job_id}}', got {path!r}"
        )
    return path
