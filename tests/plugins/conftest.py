"""Helpers of the plugin tests whose module fixtures run DAGs against the sandbox before they call Airflow's app."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_vimmerse.sandbox.pytest_plugin import CONN_ENV_VAR, sandbox_conn_uri
from tests.dag_runs import new_dag


def fast_dag(tmp_path_factory: pytest.TempPathFactory, dag_id: str) -> tuple[Any, Path]:
    """Return a new DAG whose waits poll every 0.2 s, and its own folder (for :func:`tests.dag_runs.run_dag`)."""
    out = tmp_path_factory.mktemp(dag_id)
    return new_dag(dag_id, out, poll_interval=0.2), out


@contextmanager
def dag_on_the_sandbox(
    server: Any, tmp_path_factory: pytest.TempPathFactory, dag_id: str
) -> Iterator[tuple[Any, Path]]:
    """
    Reset the sandbox, point ``vimmerse_default`` at it while the block runs, and yield :func:`fast_dag`.

    Module fixtures run their DAGs inside the block; the connection goes away after it, so each test
    chooses its own.

    :param server: the session's sandbox server (the ``vimmerse_sandbox_server`` fixture)
    :param tmp_path_factory: pytest's factory of temporary folders
    :param dag_id: the DAG's id, unique among the tests
    """
    server.state.reset()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CONN_ENV_VAR, sandbox_conn_uri(server.url, server.state.settings.api_keys[0]))
        yield fast_dag(tmp_path_factory, dag_id)


@contextmanager
def database_connections_in_use() -> Iterator[Callable[[], int]]:
    """
    Yield a function that says how many connections of Airflow's database engine were checked out since, net.

    Start it while nothing holds one: a route that keeps a session open while it waits shows up here.
    """
    from airflow import settings
    from sqlalchemy import event

    count = [0]

    def checked_out(*_: Any) -> None:
        count[0] += 1

    def checked_in(*_: Any) -> None:
        count[0] -= 1

    event.listen(settings.engine, "checkout", checked_out)
    event.listen(settings.engine, "checkin", checked_in)
    try:
        yield lambda: count[0]
    finally:
        event.remove(settings.engine, "checkout", checked_out)
        event.remove(settings.engine, "checkin", checked_in)
