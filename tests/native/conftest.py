"""
One real Airflow 3 deployment shared by the tests of how the provider's results flow into Airflow.

The package-scoped :func:`deployment` starts :class:`tests.cluster.AirflowCluster` (api-server,
scheduler, dag-processor, triggerer, each its own process) over a copy of ``example_dags/`` as
shipped, with one sandbox API in this process. DAGs are paused at creation here, so nothing runs
until a test asks: :meth:`Deployment.run` unpauses the DAGs it names (a DAG scheduled on an asset
must be unpaused before the producer's event, or the scheduler queues no run for it), triggers the
first one and waits for it.

OpenLineage, when installed, writes every event as its own JSON file under
``Deployment.lineage_dir`` (the file transport), for the lineage tests to read.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_vimmerse.sandbox.client import SandboxClient
from airflow_provider_vimmerse.sandbox.pytest_plugin import CONN_ENV_VAR, sandbox_conn_uri
from tests.cluster import AirflowCluster, sandbox_in_thread

REPO = Path(__file__).resolve().parents[2]
#: Seconds each sandbox job runs: long enough for every generation to defer, short for the suite.
JOB_SECONDS = 6
#: The pool the content-production example runs its jobs in (created as its docstring says).
POOL = ("vimmerse_jobs", "3", "Vimmerse jobs in flight")
#: Webhooks (tests/native/test_webhooks.py): the deployment's ``[vimmerse] webhooks`` stays off, so no other
#: test's wait changes; only tasks on this connection (extra ``webhooks: true``) ask for them.
WEBHOOK_CONN_ID = "vimmerse_webhooks"
WEBHOOK_SECRET = "native-tests-webhook-secret-of-at-least-32-bytes"
WEBHOOK_CHECK_INTERVAL = 2


@dataclass
class Deployment:
    """The package's Airflow, its sandbox, and where DAG outputs and lineage events go."""

    cluster: AirflowCluster
    sandbox: SandboxClient
    sandbox_url: str
    api_key: str
    output_dir: Path
    lineage_dir: Path

    def unpause(self, dag_id: str) -> None:
        """Unpause one DAG (after it is parsed)."""
        self.cluster.wait_for_dag(dag_id)
        self.cluster.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def run(
        self,
        dag_id: str,
        *,
        also_unpause: tuple[str, ...] = (),
        conf: dict[str, Any] | None = None,
        timeout: float = 600,
        logical_date: dt.datetime | None = None,
    ) -> tuple[str, str]:
        """
        Unpause ``dag_id`` (and ``also_unpause``), trigger one run of it and wait for the run to end.

        :param logical_date: the run's logical date, for a DAG whose templates use it (``{{ ds }}``)
        :return: the run id and its final state
        """
        for other in also_unpause:
            self.unpause(other)
        self.unpause(dag_id)
        run_id = self.cluster.trigger(dag_id, conf=conf, logical_date=logical_date)
        return run_id, self.cluster.wait_for_run(dag_id, run_id, timeout)

    def lineage_events(self) -> list[dict[str, Any]]:
        """Return every OpenLineage event written so far (empty when OpenLineage is not installed)."""
        return [json.loads(path.read_text()) for path in sorted(self.lineage_dir.glob("*.json"))]


@pytest.fixture(scope="package")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """Start the package's Airflow 3 and sandbox once."""
    dags = tmp_path_factory.mktemp("native-dags") / "dags"
    shutil.copytree(REPO / "example_dags", dags, ignore=shutil.ignore_patterns("__pycache__"))
    output_dir = tmp_path_factory.mktemp("native-output")
    lineage_dir = tmp_path_factory.mktemp("native-lineage")
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(sandbox_in_thread(job_seconds=JOB_SECONDS))
        api_key = server.state.settings.api_keys[0]
        env = {
            CONN_ENV_VAR: sandbox_conn_uri(server.url, api_key),
            "VIMMERSE_OUTPUT_DIR": str(output_dir),
            "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
                {"type": "file", "log_file_path": str(lineage_dir / "event"), "append": False}
            ),
            "AIRFLOW__OPENLINEAGE__NAMESPACE": "vimmerse-test",
            f"AIRFLOW_CONN_{WEBHOOK_CONN_ID.upper()}": sandbox_conn_uri(server.url, api_key, webhooks=True),
            "AIRFLOW__VIMMERSE__WEBHOOK_SECRET": WEBHOOK_SECRET,
            "AIRFLOW__VIMMERSE__WEBHOOK_CHECK_INTERVAL": str(WEBHOOK_CHECK_INTERVAL),
        }
        cluster = AirflowCluster(dags, env=env, config={("core", "dags_are_paused_at_creation"): True})
        cluster.env["AIRFLOW__VIMMERSE__WEBHOOK_BASE_URL"] = cluster.api_url  # the sandbox reaches the receiver here
        stack.enter_context(cluster)
        result = cluster.airflow("pools", "set", *POOL, "--include-deferred")
        assert result.returncode == 0, result.stdout + result.stderr
        sandbox = stack.enter_context(SandboxClient(server.url))
        yield Deployment(cluster, sandbox, server.url, api_key, output_dir, lineage_dir)


@dataclass
class ProductionRun:
    """The one run of ``vimmerse_content_production`` the assets and lineage tests read."""

    run_id: str
    state: str
    #: Where its downloads went: ``VIMMERSE_OUTPUT_DIR/<ds>``.
    folder: Path


#: How many products the content-production run makes (the DAG's ``products`` parameter).
PRODUCTION_PRODUCTS = 1


@pytest.fixture(scope="package")
def content_production(deployment: Deployment) -> ProductionRun:
    """
    Run ``vimmerse_content_production`` once (one product), with ``vimmerse_publish`` unpaused to take its videos.

    The DAG is scheduled daily: unpaused, the scheduler would start its own run of the whole product list
    too. The run is triggered, while the DAG is still paused, for the very day that scheduled run would
    have, so the scheduler finds it there and makes none.
    """
    producer, cluster = "vimmerse_content_production", deployment.cluster
    deployment.unpause("vimmerse_publish")
    cluster.wait_for_dag(producer)
    due = cluster.api("GET", f"/dags/{producer}")["next_dagrun_logical_date"]
    day = dt.datetime.fromisoformat(due) if due else dt.datetime(2026, 3, 6, tzinfo=dt.timezone.utc)
    run_id = cluster.trigger(producer, conf={"products": PRODUCTION_PRODUCTS}, logical_date=day)
    deployment.unpause(producer)
    state = cluster.wait_for_run(producer, run_id, 900)
    return ProductionRun(run_id, state, deployment.output_dir / day.date().isoformat())
