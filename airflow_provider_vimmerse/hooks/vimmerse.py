"""
The Vimmerse hook: owns the connection, the API key and both HTTP paths.

* Sync path (operators, sensors in poke mode): one ``requests.Session`` per hook, ``tenacity`` retries.
* Async path (triggers): ``aiohttp``, one ``ClientSession`` per event loop and connection, shared by
  every wait on the triggerer and closed when the last user is done.

Both call the same request builders (:mod:`~airflow_provider_vimmerse.api.endpoints`), the same
parsers (:mod:`~airflow_provider_vimmerse.api.responses`), the same retry policy
(:mod:`~airflow_provider_vimmerse.api.retry`) and the same redirect rule
(:func:`~airflow_provider_vimmerse.api.urls.follow_redirect`). The sessions themselves are made and
shared by :mod:`~airflow_provider_vimmerse.hooks.sessions`; one request goes on the wire, for either
client, in :mod:`~airflow_provider_vimmerse.hooks.transport`; a downloaded file is written by
:mod:`~airflow_provider_vimmerse.hooks.downloads`. ``requests``, ``aiohttp`` and ``tenacity`` are imported
only when a request is made, so importing this module at DAG-parse time stays cheap.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from datetime import date, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseHook

from airflow_provider_vimmerse.api import endpoints
from airflow_provider_vimmerse.api.config import (
    API_KEY_HEADER,
    DEFAULT_CONN_ID,
    EXTRA_FIELDS,
    FORM_BEHAVIOUR,
    NO_API_KEY,
    ApiConfig,
)
from airflow_provider_vimmerse.api.endpoints import ApiRequest
from airflow_provider_vimmerse.api.jobs import JobKind, get_job_kind, job_object, run_fingerprint
from airflow_provider_vimmerse.api.responses import (
    JobSnapshot,
    expect_object,
    parse_snapshot,
    unwrap,
    with_full_object,
)
from airflow_provider_vimmerse.api.results import JobResult, build_result
from airflow_provider_vimmerse.api.retry import is_transient, provably_not_taken, retry_delay, should_retry
from airflow_provider_vimmerse.api.urls import absolute_url, check_url, job_path
from airflow_provider_vimmerse.exceptions import (
    VimmerseAuthError,
    VimmerseConnectionError,
    VimmerseError,
    VimmerseInputError,
    VimmerseJobMayExistError,
    VimmerseResponseError,
)
from airflow_provider_vimmerse.hooks.downloads import as_folder, save_into
from airflow_provider_vimmerse.hooks.sessions import SESSIONS, download_session, requests_session
from airflow_provider_vimmerse.hooks.transport import (
    _aiohttp_origin,  # noqa: F401 -- where the key may go: still importable from here
    _requests_origin,  # noqa: F401
    aopen_following,
    asend,
    download_error,
    key_goes_to,  # noqa: F401
    open_following,
    send,
)

if TYPE_CHECKING:
    import aiohttp
    import requests


class VimmerseHook(BaseHook):
    """
    Talk to the Vimmerse Platform API.

    The connection's password is the API key; its host is the API base URL (default
    ``https://api.vimmerse.net``). Extras: ``timeout``, ``connect_timeout``, ``retries``, ``web_url``,
    ``asset_status_path``. Creating the hook does no I/O; the connection is read on first use.

    :param vimmerse_conn_id: Airflow connection id of type ``vimmerse``
    """

    conn_name_attr = "vimmerse_conn_id"
    default_conn_name = DEFAULT_CONN_ID
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

    def resolve_kind(self, name: str, config: ApiConfig | None = None) -> JobKind:
        """
        Return the job-kind row for ``name`` as this connection polls it (its asset status path).

        :param name: a job kind (``media``, ``batch``, ``story``, ``asset``, ``workflow``, ``finetune``)
        :param config: the settings to read (default: this hook's connection)
        """
        kind = get_job_kind(name)
        if kind.name == "asset":
            kind = kind.with_status_path((config or self.config).asset_status_path)
        return kind

    def web_url(self, kind: str, job_id: str) -> str:
        """Return the link to a job in the Vimmerse web app; empty for a kind with no documented page."""
        web_path = get_job_kind(kind).web_path
        return absolute_url(self.config.web_url, job_path(web_path, job_id)) if web_path else ""

    # ------------------------------------------------------------------ sync path

    @cached_property
    def session(self) -> requests.Session:
        """Return this hook's ``requests`` session (created on first use)."""
        return requests_session()

    def request(self, req: ApiRequest, *, retries: int | None = None) -> Any:
        """
        Send one API request with the retry policy and return the decoded JSON answer.

        :param req: what to send
        :param retries: override the connection's retry count
        :raises VimmerseError: a subclass naming what failed
        """
        config = self.config
        self._require_key(config)
        try:
            if (config.retries if retries is None else retries) == 0:
                return send(self.session, req, config)
            import tenacity

            retrying = tenacity.Retrying(**self._retry_kwargs(req, config, retries))
            return retrying(send, self.session, req, config)
        except VimmerseError as error:
            raise self._final_error(req, config, error) from error

    # ------------------------------------------------------------------ async path

    @contextlib.asynccontextmanager
    async def async_session(self) -> AsyncIterator[tuple[aiohttp.ClientSession, ApiConfig]]:
        """
        Lease the shared aiohttp session of this event loop and connection.

        Hold it for as long as a wait lasts; the session is closed when the last lease ends.
        """
        async with SESSIONS.lease(self.vimmerse_conn_id, self._aload_config) as entry:
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
        self._require_key(config)
        try:
            if (config.retries if retries is None else retries) == 0:
                return await asend(session, req, config)  # the polling path: no retry machinery
            import tenacity

            retrying = tenacity.AsyncRetrying(**self._retry_kwargs(req, config, retries))
            return await retrying(asend, session, req, config)
        except VimmerseError as error:
            raise self._final_error(req, config, error) from error

    def _require_key(self, config: ApiConfig) -> None:
        """Refuse an API request before it is sent when the connection has no API key (it could only be refused)."""
        if not config.api_key:
            raise VimmerseInputError(f"{self.vimmerse_conn_id}.password", NO_API_KEY)

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
        row = self.resolve_kind(kind)
        req = endpoints.job_status(row, job_id)
        snapshot = parse_snapshot(row, job_id, job_object(row, self.request(req, retries=retries)), path=req.path)
        if (detail := _full_object_read(row, job_id, snapshot, full_object)) is not None:
            with contextlib.suppress(VimmerseError):  # the reading stands without it
                body = self.request(detail, retries=retries)
                snapshot = with_full_object(snapshot, row, unwrap(body), api_url=self.config.base_url)
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
        async with SESSIONS.lease(self.vimmerse_conn_id, self._aload_config) as entry:
            session, config = entry.session, entry.config
            assert session is not None and config is not None
            await entry.wait_poll_turn(self.log)
            row = self.resolve_kind(kind, config)
            req = endpoints.job_status(row, job_id)
            async with entry.in_flight:
                body = await self._arequest_on(session, config, req, retries)
            snapshot = parse_snapshot(row, job_id, job_object(row, body), path=req.path)
            if (detail := _full_object_read(row, job_id, snapshot, full_object)) is not None:
                with contextlib.suppress(VimmerseError):  # the reading stands without it
                    body = await self._arequest_on(session, config, detail, retries)
                    snapshot = with_full_object(snapshot, row, unwrap(body), api_url=config.base_url)
            return snapshot

    def get_job(self, kind: str, job_id: str) -> dict[str, Any]:
        """Return a job's full object (unwrapped)."""
        row = self.resolve_kind(kind)
        req = endpoints.job_detail(row, job_id)
        return expect_object(job_object(row, self.request(req)), method=req.method, path=req.path)

    def result_of(self, kind: str, job_id: str, obj: Mapping[str, Any]) -> JobResult:
        """
        Return the small result of a job from its full object.

        Outputs that only the API's download route serves are given as that route's URL. ``conn_id``
        names this hook's connection: the Vimmerse page plays such outputs through that connection only.
        """
        result = build_result(
            self.resolve_kind(kind), job_id, obj, web_url=self.web_url(kind, job_id), api_url=self.config.base_url
        )
        result["conn_id"] = self.vimmerse_conn_id
        return result

    def run_fingerprint(self, kind: str, job_id: str) -> dict[str, Any]:
        """Read what identifies a job's latest finished run (before a request that runs it again)."""
        return run_fingerprint(self.resolve_kind(kind), self.get_job(kind, job_id))

    def get_customer_statistics(self, start: date | str, end: date | str) -> list[dict[str, Any]]:
        """
        Return the daily usage statistics of the account for a date range (both ends included).

        :param start: first day (a date or ``YYYY-MM-DD``)
        :param end: last day (a date or ``YYYY-MM-DD``)
        """
        req = endpoints.customer_statistics(_day(start), _day(end))
        return _statistics_rows(req, unwrap(self.request(req)))

    async def aget_customer_statistics(
        self, start: date | str, end: date | str, *, retries: int | None = None
    ) -> list[dict[str, Any]]:
        """
        Return the daily usage statistics of the account (:meth:`get_customer_statistics` on the async path).

        A connection already read on this hook (its ``config`` set or read before) is used as it is, so a
        caller may read it in a thread first and bound its timeouts; otherwise it is read asynchronously.

        :param start: first day (a date or ``YYYY-MM-DD``)
        :param end: last day (a date or ``YYYY-MM-DD``)
        :param retries: override the connection's retry count
        """
        req = endpoints.customer_statistics(_day(start), _day(end))
        async with SESSIONS.lease(self.vimmerse_conn_id, self._aconfig) as entry:
            assert entry.session is not None and entry.config is not None
            body = await self._arequest_on(entry.session, entry.config, req, retries)
        return _statistics_rows(req, unwrap(body))

    def open_download(self, url: str) -> requests.Response:
        """
        Send a GET for an output file and return the answer unread (streamed); the caller closes it.

        Redirects are followed; the API key goes only to the API's own origin.

        :param url: the file's URL (an output URL, or an API download path made absolute)
        :raises VimmerseInputError: before any request, for a URL that
            :func:`~airflow_provider_vimmerse.api.urls.url_problem` refuses (a backslash, user info, a bad port...)
        """
        check_url(url, "url")
        return open_following(self.session, "GET", url, self.config, stream=True)

    @contextlib.asynccontextmanager
    async def aopen_download(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        connect_timeout: float | None = None,
        headers_timeout: float | None = None,
        read_timeout: float | None = None,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """
        Send a GET for an output file on aiohttp and yield the answer unread; it is closed when the block ends.

        The async twin of :meth:`open_download`: redirects are followed by the rule of every request
        (:func:`~airflow_provider_vimmerse.api.urls.follow_redirect`), and the API key goes only where
        :func:`~airflow_provider_vimmerse.hooks.transport.key_goes_to` allows, as aiohttp reads the URL.
        The request runs on a session of its own
        (:func:`~airflow_provider_vimmerse.hooks.sessions.download_session`), closed with the block: the
        answer's bytes come as sent (no decompression), and a long stream holds none of the shared pool.

        :param url: the file's URL (an output URL, or an API download path made absolute)
        :param headers: more request headers (``Range``, ``Accept-Encoding``...); the hook adds the key itself
        :param connect_timeout: seconds to open each connection (default: the connection's ``connect_timeout``)
        :param headers_timeout: seconds from the first request to the final answer's headers, every
            redirect included (default: no bound but the per-read one)
        :param read_timeout: seconds to wait for each read from the server, headers and body (default:
            the connection's ``timeout``)
        :raises VimmerseInputError: before any request, for a URL that
            :func:`~airflow_provider_vimmerse.api.urls.url_problem` refuses
        :raises VimmerseTimeoutError: when an answer's headers do not arrive in time
        :raises VimmerseConnectionError: when the server cannot be reached
        :raises VimmerseResponseError: for a redirect that is not followed, or too many of them
        """
        import aiohttp

        check_url(url, "url")
        config = await self._aconfig()
        sent_headers = {
            name: value for name, value in (headers or {}).items() if name.lower() != API_KEY_HEADER.lower()
        }
        session = download_session(
            connect_timeout=connect_timeout or config.connect_timeout, read_timeout=read_timeout or config.timeout
        )
        async with session:
            try:
                response = await asyncio.wait_for(aopen_following(session, url, config, sent_headers), headers_timeout)
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                raise download_error(url, error) from None
            try:
                yield response
            finally:
                response.close()

    async def _aconfig(self) -> ApiConfig:
        """Return the client settings: as already read (or set) on this hook, else read asynchronously once."""
        if "config" not in self.__dict__:  # functools.cached_property keeps its value there
            self.config = await self._aload_config()  # type: ignore[misc]
        return self.config

    def download(
        self,
        url: str,
        destination: Any,
        *,
        fallback_name: str,
        chunk_size: int = 1 << 20,
        taken: set[str] | None = None,
    ) -> str:
        """
        Stream one output file into a folder and return the written path.

        Memory stays flat whatever the file size. The file is written under a temporary name and
        renamed only when complete and its size matches ``Content-Length``; on any failure the
        partial file is removed. The API key is sent only when ``url`` is on the API's own origin.

        :param url: the file's URL (an output URL, or an API download path made absolute)
        :param destination: a local folder, or an ``ObjectStoragePath`` folder (``s3://...``)
        :param fallback_name: file name when the server proposes none (sanitized anyway)
        :param chunk_size: bytes read at a time
        :param taken: file names already written by this task: a name the server proposes again (two
            variations of one media may share one) gets ``-2``, ``-3``... so no output overwrites another
        """
        check_url(url, "url")
        folder = as_folder(destination)
        folder.mkdir(parents=True, exist_ok=True)
        saved = save_into(
            folder,
            url,
            lambda: self.open_download(url),
            fallback_name=fallback_name,
            chunk_size=chunk_size,
            taken=taken,
        )
        self.log.info("Downloaded %s (%d bytes) to %s", saved.name, saved.size, saved.path)
        return str(saved.path)

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
            return False, NO_API_KEY
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


def _full_object_read(kind: JobKind, job_id: str, snapshot: JobSnapshot, asked: bool) -> ApiRequest | None:
    """
    Return the read of the job's full object that completes a finished reading, or None when none is needed.

    One is needed when the status route does not answer the full object (media) and either the
    caller asked (a wait that checks for a new run, or needs the output) or the job failed without a
    reason in the reading (the full object may carry it).
    """
    state = snapshot.state
    if kind.status_path == kind.detail_path or state is None or not state.is_terminal:
        return None
    if asked or (not state.is_success and not snapshot.message):
        return endpoints.job_detail(kind, job_id)
    return None


def _mask(secret: str) -> None:
    from airflow.providers.common.compat.sdk import mask_secret

    mask_secret(secret)


def _day(value: date | str) -> str:
    return value.isoformat()[:10] if isinstance(value, date) else str(value)


def _statistics_rows(req: ApiRequest, body: Any) -> list[dict[str, Any]]:
    """Return the daily rows of a statistics answer (a list, or an object listing them)."""
    if isinstance(body, dict):
        body = body.get("statistics", body.get("items", [body]))
    if not isinstance(body, list):
        raise VimmerseResponseError(f"{req.describe()} answered {type(body).__name__}, expected a list")
    return [row for row in body if isinstance(row, dict)]
