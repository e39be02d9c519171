"""
The hook's HTTP sessions: a ``requests`` session per hook, and the aiohttp sessions every wait shares.

:data:`SESSIONS` keeps one aiohttp session per event loop and connection: every wait leases it for
as long as it waits, the first lease opens it (reading the connection once), the last one closes it.
With it goes the loop's :class:`~airflow_provider_vimmerse.api.waiting.PollBudget`, which a poll
leases a turn of before it is sent (:meth:`SharedSession.wait_poll_turn`). A streamed download on the
async path gets a session of its own instead (:func:`download_session`). :class:`Slots` caps the requests
a server process has in flight without queueing the next one (the Vimmerse page's routes use it).

``requests``, ``aiohttp`` and the waiting rules are imported only when a session is made.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_vimmerse import __version__
from airflow_provider_vimmerse.api.config import ApiConfig, user_agent

if TYPE_CHECKING:
    import aiohttp
    import requests

    from airflow_provider_vimmerse.api.endpoints import ApiRequest
    from airflow_provider_vimmerse.api.waiting import PollBudget

#: Connections of one shared aiohttp session, and so the most polls in flight on it at once.
POOL_SIZE = 100


def requests_session() -> requests.Session:
    """Return a new ``requests`` session sending this provider's User-Agent."""
    import requests

    session = requests.Session()
    session.headers.update(_headers())
    return session


def _headers() -> dict[str, str]:
    from airflow import __version__ as airflow_version

    return {"User-Agent": user_agent(__version__, airflow_version), "Accept": "application/json"}


def _new_poll_budget() -> PollBudget:
    from airflow_provider_vimmerse.api.waiting import PollBudget  # the waiting rules load only with a wait

    return PollBudget()


@dataclass
class SharedSession:
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
    in_flight: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(POOL_SIZE))
    warned_late: bool = False

    async def wait_poll_turn(self, log: Any) -> None:
        """
        Wait for a poll's turn in the event loop's budget; say so once when polls run late.

        :param log: the logger to warn on (the hook's)
        """
        delay = self.budget.reserve(self.loop.time())
        if not delay:
            return
        if delay > 1 and not self.warned_late:
            self.warned_late = True
            log.warning(
                "More Vimmerse polls are due than this event loop's budget of %g per second: each poll now "
                "waits its turn (%.1f s for this one). Poll less often, or spread the waits over more triggerers.",
                self.budget.rate,
                delay,
            )
        await asyncio.sleep(delay)


class SessionPool:
    """
    The async sessions of this process: one per (event loop, connection id).

    Thousands of waits on a triggerer share one connection pool, one connection lookup and one
    poll budget.
    """

    def __init__(self) -> None:
        self._entries: dict[tuple[int, str], SharedSession] = {}

    def __len__(self) -> int:
        return len(self._entries)

    @contextlib.asynccontextmanager
    async def lease(
        self, conn_id: str, load_config: Callable[[], Awaitable[ApiConfig]]
    ) -> AsyncIterator[SharedSession]:
        """
        Hold the shared session of this event loop and ``conn_id`` for the block.

        :param conn_id: the connection id
        :param load_config: reads the connection; awaited by the first lease only
        """
        loop = asyncio.get_running_loop()
        key = (id(loop), conn_id)
        entry = self._entries.get(key)
        if entry is None or entry.loop is not loop:
            entry = SharedSession(loop=loop, opened=loop.create_future())
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


#: The async sessions of this process.
SESSIONS = SessionPool()


class Slots:
    """
    At most ``limit`` requests in flight at a time; the next caller is told at once that there is no room.

    A non-blocking check, for a server route that would rather answer "busy" than queue: each request
    still waiting on the API holds a socket and a little memory, however cheap its wait otherwise is.

    :param limit: how many may hold a slot at once
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._taken = 0
        self._lock = threading.Lock()

    @property
    def taken(self) -> int:
        """Return how many slots are held now."""
        return self._taken

    @contextlib.contextmanager
    def hold(self) -> Iterator[bool]:
        """
        Hold a slot for the block when one is free; yield whether one was.

        The slot is given back when the block ends, however it ends (an error, a cancelled request).
        """
        with self._lock:
            held = self._taken < self.limit
            if held:
                self._taken += 1
        try:
            yield held
        finally:
            if held:
                with self._lock:
                    self._taken -= 1


def _open_aiohttp_session(config: ApiConfig) -> aiohttp.ClientSession:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=POOL_SIZE, ttl_dns_cache=300, enable_cleanup_closed=True)
    return aiohttp.ClientSession(
        timeout=client_timeout(config, config.timeout),
        connector=connector,
        headers=_headers(),
        raise_for_status=False,
    )


def download_session(*, connect_timeout: float, read_timeout: float) -> aiohttp.ClientSession:
    """
    Return a new aiohttp session for one download, sending this provider's User-Agent; the caller closes it.

    Its answers are passed on as sent (no decompression), its connections are its own (a long stream does
    not sit on the polls' shared pool), and every read waits ``read_timeout`` seconds at most.

    :param connect_timeout: seconds to open a connection (TCP and TLS)
    :param read_timeout: seconds to wait for each read from the server, the answer's headers and body alike
    """
    import aiohttp

    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout, sock_read=read_timeout),
        headers=_headers(),
        auto_decompress=False,
        raise_for_status=False,
    )


def client_timeout(config: ApiConfig, read_timeout: float) -> aiohttp.ClientTimeout:
    """
    Return aiohttp's timeouts: ``connect_timeout`` for reaching the API, ``read_timeout`` for each read.

    The connect timeout is ``sock_connect`` (opening a connection: TCP and TLS), not ``connect``, which
    would also count the wait for a free connection of the shared pool: thousands of waits queued on
    a busy pool are not an unreachable API.
    """
    import aiohttp

    return aiohttp.ClientTimeout(total=None, sock_connect=config.connect_timeout, sock_read=read_timeout)


def request_timeout(req: ApiRequest, config: ApiConfig) -> dict[str, Any]:
    """Return aiohttp's ``timeout`` argument for a request with its own read timeout (else none: the session's)."""
    if req.read_timeout is None:
        return {}  # aiohttp reads timeout=None as "no timeout at all"
    return {"timeout": client_timeout(config, req.read_timeout)}
