"""
Read the account's daily usage statistics for the cost view (Airflow 3 api-server).

``GET /customer-statistics/{start}/{end}`` through the hook's
:meth:`~airflow_provider_vimmerse.hooks.vimmerse.VimmerseHook.get_customer_statistics`
with the ``vimmerse_default`` connection, once per page view, bounded: :data:`CONNECT_TIMEOUT` and
:data:`READ_TIMEOUT` seconds (or the connection's own, when shorter) and no retry, so a slow or
unreachable API delays the page by seconds at most. Any failure becomes a note on the page
(:attr:`~airflow_provider_vimmerse.plugins.costs.AccountUsage.note`) built from what failed, never
from the API's text: no key, URL or server message reaches the page.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from airflow_provider_vimmerse.api.config import DEFAULT_CONN_ID
from airflow_provider_vimmerse.exceptions import VimmerseAuthError, VimmerseConnectionError, VimmerseError
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.plugins.costs import AccountUsage, CostRange, account_usage

log = logging.getLogger(__name__)

#: Seconds to wait for a connection to the API.
CONNECT_TIMEOUT = 3.0
#: Seconds to wait for the API's answer.
READ_TIMEOUT = 8.0


def read_account_usage(span: CostRange, conn_id: str = DEFAULT_CONN_ID) -> AccountUsage:
    """
    Return the account's credits per day over ``span``, or a note saying why they are not shown.

    :param span: the days to read
    :param conn_id: the ``vimmerse`` connection whose account is read
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
        if not config.api_key:
            return AccountUsage(note=f"The connection {conn_id!r} has no API key.")
        hook.config = replace(  # type: ignore[misc]  # this hook only: one bounded request, no retry
            config,
            connect_timeout=min(config.connect_timeout, CONNECT_TIMEOUT),
            timeout=min(config.timeout, READ_TIMEOUT),
            retries=0,
        )
        days = hook.get_customer_statistics(span.start, span.end)
    except VimmerseAuthError as error:
        log.warning("The Vimmerse usage statistics were refused (HTTP %s)", error.status)
        return AccountUsage(note=f"The Vimmerse API refused the usage statistics (HTTP {error.status}): check the key.")
    except VimmerseConnectionError as error:
        log.warning("The Vimmerse usage statistics could not be read: %s", type(error).__name__)
        return AccountUsage(note=f"The Vimmerse API could not be reached or did not answer within {READ_TIMEOUT:g} s.")
    except VimmerseError as error:
        log.warning("The Vimmerse usage statistics could not be read: %s (HTTP %s)", type(error).__name__, error.status)
        status = f" (HTTP {error.status})" if error.status else ""
        return AccountUsage(note=f"The Vimmerse API could not give the usage statistics{status}.")
    return account_usage(days)
