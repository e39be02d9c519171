"""
Read the account's daily usage statistics for the cost view (Airflow 3 api-server).

``GET /customer-statistics/{start}/{end}`` through the hook's async path
(:meth:`~airflow_provider_vimmerse.hooks.vimmerse.VimmerseHook.aget_customer_statistics`) with the
``vimmerse_default`` connection, once per page view, bounded: :data:`CONNECT_TIMEOUT` and
:data:`READ_TIMEOUT` seconds (or the connection's own, when shorter), :data:`CONNECT_TIMEOUT` plus
:data:`READ_TIMEOUT` in all, and no retry, so a slow or unreachable API delays the page by seconds at
most. The connection is read in a worker thread; the wait itself holds neither a thread nor a database
session. At most :data:`MAX_READS` views of one api-server process wait on the API at once; past that
the view says so instead of showing the account's figures.

Any failure becomes a note on the page (:attr:`~airflow_provider_vimmerse.plugins.costs.AccountUsage.note`)
built from what failed, never from the API's text: no key, URL or server message reaches the page.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from airflow_provider_vimmerse.api.config import DEFAULT_CONN_ID
from airflow_provider_vimmerse.exceptions import VimmerseAuthError, VimmerseConnectionError, VimmerseError
from airflow_provider_vimmerse.hooks.sessions import Slots
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.plugins.costs import AccountUsage, CostRange, account_usage

log = logging.getLogger(__name__)

#: Seconds to wait for a connection to the API.
CONNECT_TIMEOUT = 3.0
#: Seconds to wait for the API's answer.
READ_TIMEOUT = 8.0
#: Cost views of one api-server process that wait on the API at once.
MAX_READS = 4
#: The cost views waiting on the API in this process.
READS = Slots(MAX_READS)


async def read_account_usage(span: CostRange, conn_id: str = DEFAULT_CONN_ID) -> AccountUsage:
    """
    Return the account's credits per day over ``span``, or a note saying why they are not shown.

    :param span: the days to read
    :param conn_id: the ``vimmerse`` connection whose account is read
    """
    from starlette.concurrency import run_in_threadpool

    with READS.hold() as held:
        if not held:
            return AccountUsage(
                note="Too many cost views are reading the account's figures right now: reload the page in a moment."
            )
        hook_or_note = await run_in_threadpool(_bounded_hook, conn_id)
        if isinstance(hook_or_note, AccountUsage):
            return hook_or_note
        try:
            days = await asyncio.wait_for(
                hook_or_note.aget_customer_statistics(span.start, span.end, retries=0),
                CONNECT_TIMEOUT + READ_TIMEOUT,
            )
        except asyncio.TimeoutError:
            return _unreachable(asyncio.TimeoutError.__name__)
        except VimmerseAuthError as error:
            log.warning("The Vimmerse usage statistics were refused (HTTP %s)", error.status)
            note = f"The Vimmerse API refused the usage statistics (HTTP {error.status}): check the key."
            return AccountUsage(note=note)
        except VimmerseConnectionError as error:
            return _unreachable(type(error).__name__)
        except VimmerseError as error:
            log.warning(
                "The Vimmerse usage statistics could not be read: %s (HTTP %s)", type(error).__name__, error.status
            )
            status = f" (HTTP {error.status})" if error.status else ""
            return AccountUsage(note=f"The Vimmerse API could not give the usage statistics{status}.")
    return account_usage(days)


def _bounded_hook(conn_id: str) -> VimmerseHook | AccountUsage:
    """
    Return a hook on ``conn_id`` whose settings allow one bounded request and no retry, or the note saying why not.

    Blocking (the connection may come from the database or a secrets backend): call it in a worker thread.
    """
    from airflow.exceptions import AirflowNotFoundException
    from airflow.models.connection import Connection

    try:
        conn = Connection.get_connection_from_secrets(conn_id)
    except AirflowNotFoundException:
        return AccountUsage(
            note=f"No connection {conn_id!r} is configured, so the account's own figures are not shown."
        )
    if conn.conn_type != VimmerseHook.conn_type:
        return AccountUsage(note=f"The connection {conn_id!r} is not of type vimmerse.")
    hook = VimmerseHook(vimmerse_conn_id=conn_id)
    try:
        config = hook.config
    except VimmerseError as error:
        log.warning("The Vimmerse usage statistics could not be read: %s", type(error).__name__)
        return AccountUsage(note=f"The connection {conn_id!r} is not usable.")
    if not config.api_key:
        return AccountUsage(note=f"The connection {conn_id!r} has no API key.")
    hook.config = replace(  # type: ignore[misc]  # this hook only: one bounded request, no retry
        config,
        connect_timeout=min(config.connect_timeout, CONNECT_TIMEOUT),
        timeout=min(config.timeout, READ_TIMEOUT),
        retries=0,
    )
    return hook


def _unreachable(what: str) -> AccountUsage:
    log.warning("The Vimmerse usage statistics could not be read: %s", what)
    return AccountUsage(note=f"The Vimmerse API could not be reached or did not answer within {READ_TIMEOUT:g} s.")
