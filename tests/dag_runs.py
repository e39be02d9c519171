"""
Run a real DAG in-process with ``dag.test()`` and read back what a user would look at.

Works on Airflow 2.11 and 3.3. ``dag.test()`` runs every task in this process, running a deferred
task's trigger inline, so ``deferrable=True`` works without a triggerer; retries happen too (give
tasks ``retry_delay=timedelta(0)``).

What comes back, the same way on both versions:

* ``states``: each task instance's final state (``"create"``, or ``"create[0]"`` for a mapped one);
* ``xcoms``: the return values of chosen tasks, as a downstream task saw them (pulled by a collector
  task with ``trigger_rule="all_done"`` and written to JSON, so they are plain JSON here);
* ``errors``: the exception text of every try that failed, recorded by failure and retry callbacks.

Use the ``airflow_db`` fixture in the test, and a dag id that no other test uses.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum

try:
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG

COLLECTOR_TASK_ID = "collect_xcoms"


@dataclass
class DagRunResult:
    """What one ``dag.test()`` run ended with."""

    states: dict[str, str]
    xcoms: dict[str, Any]
    errors: list[dict[str, Any]] = field(default_factory=list)

    def errors_of(self, task_id: str) -> list[str]:
        """Return the exception texts of the failed tries of ``task_id``, oldest first."""
        return [error["error"] for error in self.errors if error["task_id"] == task_id]


def new_dag(dag_id: str, out_dir: Path, **default_args: Any) -> DAG:
    """
    Return a DAG whose tasks record their failures in ``out_dir``.

    :param dag_id: unique per test (runs of one dag id replace each other)
    :param out_dir: a folder of the test (``tmp_path``)
    :param default_args: more default arguments of every task
    """
    errors_file = out_dir / "errors.jsonl"

    def record(context: Any) -> None:
        ti = context["ti"]
        entry = {
            "task_id": ti.task_id,
            "map_index": ti.map_index,
            "try_number": ti.try_number,
            "error": str(context.get("exception")),
        }
        with errors_file.open("a") as out:
            out.write(json.dumps(entry) + "\n")

    args = {"retry_delay": timedelta(0), "on_failure_callback": record, "on_retry_callback": record}
    return DAG(
        dag_id=dag_id,
        schedule=None,
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        default_args={**args, **default_args},
    )


def run_dag(dag: DAG, out_dir: Path, xcom_tasks: Iterable[str] = (), **test_kwargs: Any) -> DagRunResult:
    """
    Run ``dag`` once with ``dag.test()`` and return its task states, chosen return values and errors.

    :param dag: a DAG made with :func:`new_dag`
    :param out_dir: the same folder given to :func:`new_dag`
    :param xcom_tasks: task ids whose return value to read (a mapped task gives a list)
    :param test_kwargs: passed to ``dag.test()`` (e.g. ``run_conf``)
    """
    try:
        from airflow.providers.standard.operators.python import PythonOperator
    except ImportError:  # Airflow 2
        from airflow.operators.python import PythonOperator

    xcom_tasks = list(xcom_tasks)
    xcom_file = out_dir / "xcoms.json"

    def collect(ti: Any) -> None:
        values = {}
        for task_id in xcom_tasks:
            value = ti.xcom_pull(task_ids=task_id)
            values[task_id] = value if value is None or isinstance(value, (dict, str, int, float)) else list(value)
        xcom_file.write_text(json.dumps(values))

    if xcom_tasks:
        collector = PythonOperator(
            task_id=COLLECTOR_TASK_ID, python_callable=collect, trigger_rule="all_done", dag=dag, retries=0
        )
        for task_id in xcom_tasks:
            dag.get_task(task_id) >> collector
    _register(dag)
    run = dag.test()
    states = {}
    for ti in run.get_task_instances():
        if ti.task_id == COLLECTOR_TASK_ID:
            continue
        name = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
        states[name] = str(getattr(ti.state, "value", ti.state))
    errors_file = out_dir / "errors.jsonl"
    errors = [json.loads(line) for line in errors_file.read_text().splitlines()] if errors_file.exists() else []
    xcoms = json.loads(xcom_file.read_text()) if xcom_tasks and xcom_file.exists() else {}
    return DagRunResult(states=states, xcoms=xcoms, errors=errors)


def _register(dag: DAG) -> None:
    """Write a DAG defined in a test to the metadata database: Airflow 3's ``dag.test()`` needs it there."""
    try:
        from airflow.dag_processing.bundles.manager import DagBundlesManager
        from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
    except ImportError:  # Airflow 2: dag.test() works with the DAG object alone
        return
    DagBundlesManager().sync_bundles_to_db()
    bag = DagBag(collect_dags=False)
    bag.bag_dag(dag)
    sync_bag_to_db(bag, "dags-folder", None)
