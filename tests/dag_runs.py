"""
Run a real DAG in-process with ``dag.test()`` and read back what a user would look at.

Works on Airflow 2.11 and 3.3. ``dag.test()`` runs every task in this process and runs a deferred
task's trigger inline, so ``deferrable=True`` works without a triggerer. Failed tries are retried
too (:func:`new_dag` sets ``retry_delay`` to zero).

What comes back, the same way on both versions (:class:`DagRunResult`):

* ``states``: each task instance's final state, by ``"task_id"`` (``"task_id[0]"`` when mapped);
* XComs of chosen tasks, as a downstream task saw them: a collector task with
  ``trigger_rule="all_done"`` pulls them and writes them to JSON, so they are plain JSON here;
* ``errors``: the exception text of every failed try, recorded by the failure and retry callbacks.

Use the ``airflow_db`` fixture in the test, and a dag id no other test uses.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum

from tests.conftest import REPO

try:
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG

COLLECTOR_TASK_ID = "collect_xcoms"
RETURN_VALUE = "return_value"


@dataclass
class DagRunResult:
    """What one ``dag.test()`` run ended with."""

    states: dict[str, str]
    xcoms: dict[str, dict[str, Any]]
    errors: list[dict[str, Any]]
    run: Any

    def xcom(self, task_id: str, key: str = RETURN_VALUE) -> Any:
        """Return an XCom of a task read by :func:`run_dag` (a list for a mapped task), None if there is none."""
        return self.xcoms[task_id].get(key)

    def errors_of(self, task_id: str) -> list[str]:
        """Return the exception texts of the failed tries of ``task_id``, oldest first."""
        return [error["error"] for error in self.errors if error["task_id"] == task_id]


def new_dag(dag_id: str, out_dir: Path, **default_args: Any) -> DAG:
    """
    Return a DAG whose tasks record their failed tries in ``out_dir`` and retry without delay.

    :param dag_id: unique per test (a run of a dag id replaces the previous one)
    :param out_dir: a folder of the test (``tmp_path``), also given to :func:`run_dag`
    :param default_args: more default arguments of every task
    """
    errors_file = out_dir / "errors.jsonl"

    def record(context: Any) -> None:
        ti = context["ti"]
        entry = {"task_id": ti.task_id, "map_index": ti.map_index, "error": str(context.get("exception"))}
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


def load_example_dag(name: str, poll_interval: float | None = None) -> DAG:
    """
    Import ``example_dags/<name>.py`` the way Airflow parses a DAG file and return its ``dag``.

    The module is registered in ``sys.modules`` only while it runs, so each call parses the file afresh
    and tests may change the DAG they get.

    :param name: the file name without ``.py``
    :param poll_interval: when given, every task that polls the API polls this often (seconds)
    """
    spec = importlib.util.spec_from_file_location(f"example_{name}", REPO / "example_dags" / f"{name}.py")
    assert spec is not None and spec.loader is not None, f"no example DAG file named {name}"
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    folder = str(REPO / "example_dags")  # on the import path, as Airflow puts the DAGs folder (shared modules)
    added = folder not in sys.path
    if added:
        sys.path.append(folder)
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
        if added:
            sys.path.remove(folder)
    if poll_interval is not None:
        for task in module.dag.tasks:
            if hasattr(task, "poll_interval"):
                task.poll_interval = poll_interval
    return module.dag


def run_dag(
    dag: DAG, out_dir: Path, xcom_tasks: Iterable[str] = (), keys: Iterable[str] = (RETURN_VALUE,)
) -> DagRunResult:
    """
    Run ``dag`` once with ``dag.test()``; return the task states, the chosen XComs and the errors.

    :param dag: a DAG made with :func:`new_dag`
    :param out_dir: the folder given to :func:`new_dag`
    :param xcom_tasks: task ids whose XComs to read
    :param keys: XCom keys to read for each of them (default: the return value)
    """
    xcom_tasks, keys = list(xcom_tasks), list(keys)
    xcom_file = out_dir / "xcoms.json"

    def collect(ti: Any) -> None:
        values = {
            task_id: {key: _plain(ti.xcom_pull(task_ids=task_id, key=key)) for key in keys} for task_id in xcom_tasks
        }
        xcom_file.write_text(json.dumps(values))

    if xcom_tasks:
        collector = python_task(COLLECTOR_TASK_ID, collect, dag=dag, trigger_rule="all_done", retries=0)
        for task_id in xcom_tasks:
            dag.get_task(task_id) >> collector
    _register(dag)
    run = dag.test()
    states = {
        (ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"): str(getattr(ti.state, "value", ti.state))
        for ti in run.get_task_instances()
        if ti.task_id != COLLECTOR_TASK_ID
    }
    errors_file = out_dir / "errors.jsonl"
    errors = [json.loads(line) for line in errors_file.read_text().splitlines()] if errors_file.exists() else []
    xcoms = json.loads(xcom_file.read_text()) if xcom_tasks else {}
    return DagRunResult(states=states, xcoms=xcoms, errors=errors, run=run)


def _plain(value: Any) -> Any:
    """Return an XCom value as JSON-able data (a mapped task's lazy sequence becomes a list)."""
    if value is None or isinstance(value, (dict, list, str, int, float, bool)):
        return value
    return list(value)


def python_task(task_id: str, python_callable: Any, **kwargs: Any) -> Any:
    """Return a ``PythonOperator`` (from the standard provider on Airflow 3, from Airflow itself on 2)."""
    try:
        from airflow.providers.standard.operators.python import PythonOperator
    except ImportError:  # Airflow 2
        from airflow.operators.python import PythonOperator
    return PythonOperator(task_id=task_id, python_callable=python_callable, **kwargs)


def _register(dag: DAG) -> None:
    """Write a DAG defined in a test to the metadata database, where Airflow 3's ``dag.test()`` looks for it."""
    try:
        from airflow.dag_processing.bundles.manager import DagBundlesManager
        from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
    except ImportError:  # Airflow 2: dag.test() works from the DAG object alone
        return
    DagBundlesManager().sync_bundles_to_db()
    bag = DagBag(collect_dags=False)
    bag.bag_dag(dag)
    sync_bag_to_db(bag, "dags-folder", None)
