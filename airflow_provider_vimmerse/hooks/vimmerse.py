"""
The Vimmerse hook: owns the connection, the API key and both HTTP paths.

* Sync path (operators, sensors in poke mode): one ``requests.Session`` per hook, ``tenacity`` retries.
* Async path (triggers): ``aiohttp``, one ``ClientSession`` per event loop and connection, shared by
  every wait on the triggerer and closed when the last user is done.

Both call the same request builders (:mod:`~airflow_provider_vimmerse.api.endpoints`), the same
parsers (:mod:`~airflow_provider_vimmerse.api.responses`) and the same retry policy
(:mod:`~airflow_provider_vimmerse.api.retry`). ``requests``, ``aiohttp`` and ``tenacity`` are imported
only when a request is made, so importing this module at DAG-parse time stays cheap.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from airflow.providers.common.compat.sdk import BaseHook

from airflow_provider_vimmerse import __version__
from airflow_provider_vimmerse.api import endpoints
from airflow_provider_vimmerse.api.config import API_KEY_HEADER, EXTRA_FIELDS, FORM_BEHAVIOUR, ApiConfig, user_agent
from airflow_provider_vimmerse.api.endpoints import ApiRequest
from airflow_provider_vimmerse.api.jobs import JobKind, get_job_kind, run_fingerprint
from airflow_provider_vimmerse.api.responses import (
    JobSnapshot,
    error_from_response,
    expect_object,
    parse_json,
    parse_snapshot,
    unwrap,
    with_full_object,
)
from airflow_provider_vimmerse.api.results import JobResult, build_result
from airflow_provider_vimmerse.api.retry import is_transient, provably_not_taken, retry_delay, should_retry
from airflow_provider_vimmerse.exceptions import (
    VimmerseAuthError,
    VimmerseConnectionError,
    VimmerseError,
    VimmerseJobMayExistError,
    VimmerseResponseError,
    VimmerseTimeoutError,
)

if TYPE_CHECKING:
    import aiohttp
    import requests

    from airflow_provider_vimmerse.api.waiting import PollBudget

_MAX_REDIRECTS = 5
#: Connections of one shared aiohttp session, and so the most polls in flight on it at once.
_POOL_SIZE = 100
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


def _new_poll_budget() -> PollBudget:
    from airflow_provider_vimmerse.api.waiting import PollBudget  # the waiting rules load only with a wait

    return PollBudget()


@dataclass
class _SharedSession:
    """
    One aiohttp session and what goes with it, shared by the waits of one event loop.

    ``budget`` paces the polls; ``in_flight`` lets at most as many polls be sent at once as the
    pool has connections, so the rest wait before their requests are built (cheaper than queueing
    inside aiohttp, where a long queue also runs into the connect timeout).
    """

    loop: asyncio.AbstractEventLoop
    opened: asyncio.Future[None]
    users: int = 0
    config: ApiConfig | None = None
    session: aiohttp.ClientSession | None = field(default=None, repr=False)
    budget: PollBudget = field(default_factory=_new_poll_budget)
    in_flight: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(_POOL_SIZE))
    warned_late: bool = False


class _SessionPool:
    """
    The async sessions of this process: one per (event loop, connection id).

    Every wait leases the session for as long as it waits; the first lease opens it (reading the
    connection once), the last one closes it. Thousands of waits on a triggerer share one
    connection pool, one connection lookup and one poll budget.
    """

    def __init__(self) -> None:
        self._entries: dict[tuple[int, str], _SharedSession] = {}

    def __len__(self) -> int:
        return len(self._entries)

    @contextlib.asynccontextmanager
    async def lease(
        self, conn_id: str, load_config: Callable[[], Awaitable[ApiConfig]]
    ) -> AsyncIterator[_SharedSession]:
        loop = asyncio.get_running_loop()
        key = (id(loop), conn_id)
        entry = self._entries.get(key)
        if entry is None or entry.loop is not loop:
            entry = _SharedSession(loop=loop, opened=loop.create_future())
            self._entries[key] = entry
            first = True
        else:
            first = False
        entry.users += 1
        try:
            if first:
                try:
                    entry.config = await load_config()
                    entry.session = _open_aiohttp_session(entry.config)
                    entry.opened.set_result(None)
                except BaseException as error:
                    entry.opened.set_exception(error)
                    entry.opened.exception()  # mark retrieved; each waiter re-raises it below
                    raise
            elif entry.opened.done():
                entry.opened.result()  # the opening failed: raise its error here too
            else:
                await asyncio.shield(entry.opened)
            yield entry
        finally:
            entry.users -= 1
            if entry.users == 0:
                if self._entries.get(key) is entry:
                    del self._entries[key]
                if entry.session is not None:
                    await entry.session.close()


_SESSIONS = _SessionPool()


def _open_aiohttp_session(config: ApiConfig) -> aiohttp.ClientSession:
    import aiohttp

    timeout = _client_timeout(config, config.timeout)
    connector = aiohttp.TCPConnector(limit=_POOL_SIZE, ttl_dns_cache=300, enable_cleanup_closed=True)
    return aiohttp.ClientSession(
        timeout=timeout,
        connector=connector,
        headers={"User-Agent": _user_agent(), "Accept": "application/json"},
        raise_for_status=False,
    )


def _client_timeout(config: ApiConfig, read_timeout: float) -> aiohttp.ClientTimeout:
    """
    Return aiohttp's timeouts: ``connect_timeout`` for reaching the API, ``read_timeout`` for each read.

    The connect timeout is ``sock_connect`` (opening a connection: TCP and TLS), not ``connect``, which
    would also count the wait for a free connection of the shared pool: thousands of waits queued on
    a busy pool are not an unreachable API.
    """
    import aiohttp

    return aiohttp.ClientTimeout(total=None, sock_connect=config.connect_timeout, sock_read=read_timeout)


def _request_timeout(req: ApiRequest, config: ApiConfig) -> dict[str, Any]:
    """Return aiohttp's ``timeout`` argument for a request with its own read timeout (else none: the session's)."""
    if req.read_timeout is None:
        return {}  # aiohttp reads timeout=None as "no timeout at all"
    return {"timeout": _client_timeout(config, req.read_timeout)}


def _user_agent() -> str:
    from airflow import __version__ as airflow_version

    return user_agent(__version__, airflow_version)


class VimmerseHook(BaseHook):
    """
    Talk to the Vimmerse Platform API.

    The connection's password is the API key; its host is the API base URL (default
    ``https://api.vimmerse.net``). Extras: ``timeout``, ``connect_timeout``, ``retries``, ``web_url``,
    ``asset_status_path``. Creating the hook does no I/O; the connection is read on first use.

    :param vimmerse_conn_id: Airflow connection id of type ``vimmerse``
    """

    conn_name_attr = "vimmerse_conn_id"
    default_conn_name = "vimmerse_default"
    conn_type = "vimmerse"
    hook_name = "Vimmerse"

    def __init__(self, vimmerse_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.vimmerse_conn_id = vimmerse_conn_id

    # ------------------------------------------------------------------ connection form (Airflow 2.x)

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Return the extra fields of the connection form (Airflow 2; 3.x reads provider info)."""
        from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
        from flask_babel import lazy_gettext
        from wtforms import StringField

        return {
            name: StringField(lazy_gettext(label), widget=BS3TextFieldWidget(), description=description)
            for name, (label, description) in EXTRA_FIELDS.items()
        }

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Return which standard fields the connection form hides, relabels and prefills."""
        return {key: value for key, value in FORM_BEHAVIOUR.items()}

    # ------------------------------------------------------------------ settings

    @cached_property
    def config(self) -> ApiConfig:
        """Return the client settings, reading the connection on first use."""
        conn = self.get_connection(self.vimmerse_conn_id)
        return self._config_from(conn, conn.extra_dejson)

    def _config_from(self, conn: Any, extra: dict[str, Any]) -> ApiConfig:
        config = ApiConfig.from_connection_fields(
            host=conn.host, password=conn.password, schema=conn.schema, port=conn.port, extra=extra
        )
        if config.api_key:
            _mask(config.api_key)
        return config

    async def _aload_config(self) -> ApiConfig:
        from airflow.providers.common.compat.connection import get_async_connection, get_async_extra_dejson

        conn = await get_async_connection(self.vimmerse_conn_id, hook=self)
        return self._config_from(conn, await get_async_extra_dejson(conn))

    def job_kind(self, name: str, config: ApiConfig | None = None) -> JobKind:
        """Return the job-kind row for ``name``, with the asset polling path from the connection."""
        kind = get_job_kind(name)
        if kind.name == "asset":
            kind = kind.with_status_path((config or self.config).asset_status_path)
        return kind

    def web_url(self, kind: str, job_id: str) -> str:
        """Return the link to a job in the Vimmerse web app."""
        return self.config.web_url + endpoints.job_path(get_job_kind(kind).web_path, job_id)

    # ------------------------------------------------------------------ sync path

    @cached_property
    def session(self) -> requests.Session:
        """Return this hook's ``requests`` session (created on first use)."""
        import requests

        session = requests.Session()
        session.headers.update({"User-Agent": _user_agent(), "Accept": "application/json"})
        return session

    def request(self, req: ApiRequest, *, retries: int | None = None) -> Any:
        """
        Send one API request with the retry policy and return the decoded JSON answer.

        :param req: what to send
        :param retries: override the connection's retry count
        :raises VimmerseError: a subclass naming what failed
        """
        config = self.config
        try:
            if (config.retries if retries is None else retries) == 0:
                return self._send(req, config)
            import tenacity

            retrying = tenacity.Retrying(**self._retry_kwargs(req, config, retries))
            return retrying(self._send, req, config)
        except VimmerseError as error:
            raise self._final_error(req, config, error) from error

    def _send(self, req: ApiRequest, config: ApiConfig) -> Any:
        import requests

        files = [(f.field, (f.filename, f.content, f.content_type)) for f in req.files] or None
        try:
            if req.method == "GET":
                response = self._get(config.url(req.path), config, params=req.params)
            else:
                response = self.session.request(
                    req.method,
                    config.url(req.path),
                    params=req.params,
                    data=list(req.form) if req.form is not None else None,
                    files=files,
                    json=req.json,
                    headers={API_KEY_HEADER: config.api_key},
                    timeout=(config.connect_timeout, req.read_timeout or config.timeout),
                    allow_redirects=False,
                )
            body = response.content
        except requests.exceptions.RequestException as error:
            raise _transport_error(req, config, error, sent=not _requests_never_connected(error)) from None
        return _decode(req, response.status_code, body, response.headers.get("Retry-After"))

    def _get(self, url: str, config: ApiConfig, *, params: Any = None, stream: bool = False) -> requests.Response:
        """GET following redirects by hand: the key goes only to the API's own scheme, host and port."""
        for _ in range(_MAX_REDIRECTS + 1):
            headers = {API_KEY_HEADER: config.api_key} if config.same_origin(url) else {}
            response = self.session.get(
                url,
                params=params,
                headers=headers,
                stream=stream,
                timeout=(config.connect_timeout, config.timeout),
                allow_redirects=False,
            )
            if response.status_code not in _REDIRECT_STATUSES:
                return response
            url, params = urljoin(url, response.headers.get("Location", "")), None
            response.close()
        raise VimmerseResponseError(f"GET {urlsplit(url).path}: more than {_MAX_REDIRECTS} redirects")

    # ------------------------------------------------------------------ async path

    @contextlib.asynccontextmanager
    async def async_session(self) -> AsyncIterator[tuple[aiohttp.ClientSession, ApiConfig]]:
        """
        Lease the shared aiohttp session of this event loop and connection.

        Hold it for as long as a wait lasts; the session is closed when the last lease ends.
        """
        async with _SESSIONS.lease(self.vimmerse_conn_id, self._aload_config) as entry:
            assert entry.session is not None and entry.config is not None
            yield entry.session, entry.config

    async def arequest(self, req: ApiRequest, *, retries: int | None = None) -> Any:
        """
        Send one API request on the shared aiohttp session; same rules and errors as :meth:`request`.

        :param req: what to send
        :param retries: override the connection's retry count (triggers pass 0 and back off themselves)
        """
        async with self.async_session() as (session, config):
            return await self._arequest_on(session, config, req, retries)

    async def _arequest_on(
        self, session: aiohttp.ClientSession, config: ApiConfig, req: ApiRequest, retries: int | None
    ) -> Any:
        try:
            if (config.retries if retries is None else retries) == 0:
                return await self._asend(session, req, config)  # the polling path: no retry machinery
            import tenacity

            retrying = tenacity.AsyncRetrying(**self._retry_kwargs(req, config, retries))
            return await retrying(self._asend, session, req, config)
        except VimmerseError as error:
            raise self._final_error(req, config, error) from error

    async def _asend(self, session: aiohttp.ClientSession, req: ApiRequest, config: ApiConfig) -> Any:
        import aiohttp

        url = config.url(req.path)
        data: Any = None
        if req.files:
            form = aiohttp.FormData()
            for name, value in req.form or ():
                form.add_field(name, value)
            for part in req.files:
                form.add_field(part.field, part.content, filename=part.filename, content_type=part.content_type)
            data = form
        elif req.form is not None:
            data = list(req.form)
        method, headers = req.method, {API_KEY_HEADER: config.api_key}
        try:
            for _ in range(_MAX_REDIRECTS + 1):
                async with session.request(
                    method,
                    url,
                    params=req.params,
                    data=data,
                    json=req.json,
                    headers=headers,
                    allow_redirects=False,
                    **_request_timeout(req, config),
                ) as response:
                    if response.status in _REDIRECT_STATUSES and req.method == "GET":
                        url = urljoin(url, response.headers.get("Location", ""))
                        headers = {API_KEY_HEADER: config.api_key} if config.same_origin(url) else {}
                        continue
                    body = await response.read()
                    return _decode(req, response.status, body, response.headers.get("Retry-After"))
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise _transport_error(req, config, error, sent=not _aiohttp_never_connected(error)) from None
        raise VimmerseResponseError(f"{req.describe()}: more than {_MAX_REDIRECTS} redirects", path=req.path)

    # ------------------------------------------------------------------ retries, shared by both paths

    def _retry_kwargs(self, req: ApiRequest, config: ApiConfig, retries: int | None) -> dict[str, Any]:
        import tenacity

        attempts = (config.retries if retries is None else retries) + 1

        def wait(state: tenacity.RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            return retry_delay(state.attempt_number, error)

        def before_sleep(state: tenacity.RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            delay = state.next_action.sleep if state.next_action else 0.0
            self.log.warning(
                "Retrying %s in %.1f s (attempt %d of %d): %s",
                req.describe(),
                delay,
                state.attempt_number + 1,
                attempts,
                error,
            )

        return {
            "retry": tenacity.retry_if_exception(lambda e: should_retry(e, spends_credits=req.spends_credits)),
            "wait": wait,
            "stop": tenacity.stop_after_attempt(attempts),
            "before_sleep": before_sleep,
            "reraise": True,
        }

    @staticmethod
    def _final_error(req: ApiRequest, config: ApiConfig, error: VimmerseError) -> VimmerseError:
        """Return the error to raise once retries are over; a maybe-taken credit-spending call says so."""
        if req.spends_credits and is_transient(error) and not provably_not_taken(error):
            return VimmerseJobMayExistError(
                f"{req.describe()} failed after the request reached the server ({error}). The job may have been "
                f"created and charged, so it was not sent again (that could pay twice). Check your recent jobs in "
                f"the Vimmerse web app ({config.web_url}) before running this task again.",
                method=req.method,
                path=req.path,
                status=error.status,
            )
        return error

    # ------------------------------------------------------------------ API calls

    def get_job_snapshot(
        self, kind: str, job_id: str, *, retries: int | None = None, full_object: bool = False
    ) -> JobSnapshot:
        """
        Read a job's status once.

        :param kind: job kind name
        :param job_id: the job's id
        :param retries: override the connection's retry count
        :param full_object: when the job reads finished and its status route does not answer the
            full object (media), fetch that too, for the run fingerprint and outputs
        """
        job_kind = self.job_kind(kind)
        req = endpoints.job_status(job_kind, job_id)
        snapshot = parse_snapshot(job_kind, job_id, self.request(req, retries=retries), path=req.path)
        if _needs_full_object(job_kind, snapshot, full_object):
            with contextlib.suppress(VimmerseError):
                detail = self.request(endpoints.job_detail(job_kind, job_id), retries=retries)
                snapshot = with_full_object(snapshot, job_kind, unwrap(detail), api_url=self.config.base_url)
        return snapshot

    async def aget_job_snapshot(
        self, kind: str, job_id: str, *, retries: int | None = None, full_object: bool = False
    ) -> JobSnapshot:
        """
        Read a job's status once, on the shared async session, when the event loop's poll budget allows.

        All reads on one event loop and connection share one
        :class:`~airflow_provider_vimmerse.api.waiting.PollBudget` and one connection pool: when more
        polls are due than the budget allows per second, or than the pool has connections, this read
        waits its turn before its request is built.

        :param kind: job kind name
        :param job_id: the job's id
        :param retries: override the connection's retry count (the trigger passes 0 and backs off itself)
        :param full_object: as for :meth:`get_job_snapshot`
        """
        async with _SESSIONS.lease(self.vimmerse_conn_id, self._aload_config) as entry:
            session, config = entry.session, entry.config
            assert session is not None and config is not None
            await self._await_poll_turn(entry)
            job_kind = self.job_kind(kind, config)
            req = endpoints.job_status(job_kind, job_id)
            async with entry.in_flight:
                body = await self._arequest_on(session, config, req, retries)
            snapshot = parse_snapshot(job_kind, job_id, body, path=req.path)
            if _needs_full_object(job_kind, snapshot, full_object):
                with contextlib.suppress(VimmerseError):
                    detail = await self._arequest_on(session, config, endpoints.job_detail(job_kind, job_id), retries)
                    snapshot = with_full_object(snapshot, job_kind, unwrap(detail), api_url=config.base_url)
            return snapshot

    async def _await_poll_turn(self, entry: _SharedSession) -> None:
        """Wait for this poll's turn in the event loop's budget; say so once when polls run late."""
        delay = entry.budget.reserve(entry.loop.time())
        if not delay:
            return
        if delay > 1 and not entry.warned_late:
            entry.warned_late = True
            self.log.warning(
                "More Vimmerse polls are due than this event loop's budget of %g per second: each poll now "
                "waits its turn (%.1f s for this one). Poll less often, or spread the waits over more triggerers.",
                entry.budget.rate,
                delay,
            )
        await asyncio.sleep(delay)

    def get_job(self, kind: str, job_id: str) -> dict[str, Any]:
        """Return a job's full object (unwrapped)."""
        req = endpoints.job_detail(self.job_kind(kind), job_id)
        return expect_object(self.request(req), method=req.method, path=req.path)

    def result_of(self, kind: str, job_id: str, obj: Mapping[str, Any]) -> JobResult:
        """
        Return the small result of a job from its full object.

        Outputs that only the API's download route serves are given as that route's URL.
        """
        return build_result(
            self.job_kind(kind), job_id, obj, web_url=self.web_url(kind, job_id), api_url=self.config.base_url
        )

    def run_fingerprint(self, kind: str, job_id: str) -> dict[str, Any]:
        """Read what identifies a job's latest finished run (before a request that runs it again)."""
        return run_fingerprint(self.job_kind(kind), self.get_job(kind, job_id))

    def get_customer_statistics(self, start: date | str, end: date | str) -> list[dict[str, Any]]:
        """
        Return the daily usage statistics of the account for a date range (both ends included).

        :param start: first day (a date or ``YYYY-MM-DD``)
        :param end: last day (a date or ``YYYY-MM-DD``)
        """
        req = endpoints.customer_statistics(_day(start), _day(end))
        body = unwrap(self.request(req))
        if isinstance(body, dict):
            body = body.get("statistics", body.get("items", [body]))
        if not isinstance(body, list):
            raise VimmerseResponseError(f"{req.describe()} answered {type(body).__name__}, expected a list")
        return [row for row in body if isinstance(row, dict)]

    def download(self, url: str, destination: Any, *, fallback_name: str, chunk_size: int = 1 << 20) -> str:
        """
        Stream one output file into a folder and return the written path.

        Memory stays flat whatever the file size. The file is written under a temporary name and
        renamed only when complete and its size matches ``Content-Length``; on any failure the
        partial file is removed. The API key is sent only when ``url`` is on the API's own origin.

        :param url: the file's URL (an output URL, or an API download path made absolute)
        :param destination: a local folder, or an ``ObjectStoragePath`` folder (``s3://...``)
        :param fallback_name: file name when the server proposes none (sanitized anyway)
        :param chunk_size: bytes read at a time
        """
        import requests
        import urllib3

        from airflow_provider_vimmerse.api.files import filename_from_response

        config = self.config
        folder = _as_folder(destination)
        folder.mkdir(parents=True, exist_ok=True)
        describe = f"GET {urlsplit(url).path}"
        partial = None
        try:
            with self._get(url, config, stream=True) as response:
                if response.status_code >= 400:
                    raise error_from_response(
                        method="GET", path=urlsplit(url).path, status=response.status_code, body=response.content[:2000]
                    )
                name = filename_from_response(response.headers.get("Content-Disposition"), response.url, fallback_name)
                target = folder / name
                partial = folder / f".{name}.part"
                response.raw.decode_content = True  # undo a Content-Encoding, as iter_content would
                with partial.open("wb") as out:
                    # copyfileobj on the raw stream keeps pace with curl; iter_content ran at half of it
                    shutil.copyfileobj(response.raw, out, chunk_size)
                    written = out.tell()
                encoded = response.headers.get("Content-Encoding", "identity").lower() != "identity"
                expected = None if encoded else response.headers.get("Content-Length")
            if expected is not None and expected.isdigit() and int(expected) != written:
                raise VimmerseResponseError(
                    f"{describe}: got {written} bytes of {expected}; the partial file was removed"
                )
        except BaseException as error:
            if partial is not None and partial.exists():
                partial.unlink()
            if isinstance(error, (requests.exceptions.RequestException, urllib3.exceptions.HTTPError)):
                raise VimmerseConnectionError(
                    f"{describe}: download failed ({type(error).__name__})", sent=True
                ) from None
            raise
        if target.exists():
            target.unlink()
        partial.rename(target)
        self.log.info("Downloaded %s (%d bytes) to %s", name, written, target)
        return str(target)

    def test_connection(self) -> tuple[bool, str]:
        """
        Check the connection with one cheap authenticated call (daily statistics, yesterday to today).

        Tells apart: OK, key rejected, host unreachable, and a host that is not the Vimmerse API.
        """
        try:
            config = self.config
        except VimmerseError as error:
            return False, f"The connection is not usable: {error}"
        if not config.api_key:
            return False, "No API key: put your Vimmerse API key in the connection's API Key (password) field."
        today = date.today()
        try:
            rows = self.get_customer_statistics(today - timedelta(days=1), today)
        except VimmerseAuthError as error:
            return False, f"The API key was rejected by {config.base_url} (HTTP {error.status}). Check the key."
        except VimmerseConnectionError as error:
            return False, f"Cannot reach {config.base_url}: {error}"
        except VimmerseError as error:
            return False, f"{config.base_url} answered, but not like the Vimmerse API: {error}"
        return True, f"Connected to the Vimmerse API at {config.base_url}; the API key works ({len(rows)} daily rows)."


# ---------------------------------------------------------------------- helpers


def _needs_full_object(kind: JobKind, snapshot: JobSnapshot, asked: bool) -> bool:
    """
    Return True when a finished reading must be completed from the job's full object.

    That is when the status route does not answer the full object (media) and either the caller
    asked (a wait that checks for a new run) or the job failed without a reason in the reading.
    """
    if kind.status_path == kind.detail_path or snapshot.state is None or not snapshot.state.is_terminal:
        return False
    return asked or (not snapshot.state.is_success and not snapshot.message)


def _as_folder(destination: Any) -> Any:
    """Return a local ``Path`` or an ``ObjectStoragePath`` for a destination folder."""
    from pathlib import Path

    if hasattr(destination, "open") and hasattr(destination, "mkdir"):
        return destination
    text = str(destination)
    if "://" in text and not text.startswith("file://"):
        from airflow.providers.common.compat.sdk import ObjectStoragePath

        return ObjectStoragePath(text)
    return Path(text.removeprefix("file://"))


def _mask(secret: str) -> None:
    from airflow.providers.common.compat.sdk import mask_secret

    mask_secret(secret)


def _day(value: date | str) -> str:
    return value.isoformat()[:10] if isinstance(value, date) else str(value)


def _decode(req: ApiRequest, status: int, body: bytes, retry_after: str | None) -> Any:
    if status >= 400:
        raise error_from_response(method=req.method, path=req.path, status=status, body=body, retry_after=retry_after)
    if status in _REDIRECT_STATUSES:
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
