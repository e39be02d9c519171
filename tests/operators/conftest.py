"""
What the operator tests share: fast polling and quick sandbox jobs, the Airflow-version gate of retry tests, the
task logs, sample images on disk, the checks that a bad input is refused (when the DAG is parsed, or when the task
runs) before any request, and the "a killed try is retried and reattaches" run.

The helpers are plain functions (import them from here); what needs pytest's own fixtures is a fixture. A test
module that wants ``quick_jobs`` for every test says ``pytestmark = pytest.mark.usefixtures("quick_jobs")``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from airflow import __version__ as airflow_version
from packaging.version import Version

from airflow_provider_vimmerse.exceptions import VimmerseInputError
from airflow_provider_vimmerse.sandbox.views import SAMPLE_PNG
from tests.dag_runs import DagRunResult, new_dag, run_dag

#: Default arguments that make a task poll the sandbox every 0.2 s.
FAST = {"poll_interval": 0.2}
NEEDS_STATE_STORE = pytest.mark.skipif(
    Version(airflow_version).release < (3, 3),
    reason="Airflow < 3.3 has no per-task state store: a retry cannot know the job of the try before it",
)


@pytest.fixture
def quick_jobs(vimmerse_sandbox):
    """Let sandbox jobs take a second: running at the first check, done a few polls later."""
    vimmerse_sandbox.client.configure(job_seconds=1)


def logged(capsys, caplog) -> str:
    """Return what the tasks logged: structlog prints it on Airflow 3, stdlib logging carries it on Airflow 2."""
    return capsys.readouterr().out + caplog.text


def sample_images(folder: Path, *names: str) -> list[Path]:
    """Write a real PNG file under each of ``names`` in ``folder`` and return their paths, in order."""
    paths = [folder / name for name in names]
    for path in paths:
        shutil.copy(SAMPLE_PNG, path)
    return paths


def assert_refused(
    sandbox, operator: Callable[..., Any], kwargs: dict[str, Any], *expected: str, error=VimmerseInputError
) -> None:
    """
    Check that building ``operator(**kwargs)`` (a DAG file being parsed) is refused before any request.

    :param sandbox: the ``vimmerse_sandbox`` fixture, whose ledger must stay empty
    :param operator: the operator class
    :param kwargs: its literal arguments
    :param expected: texts the message must contain (the field named, what is allowed)
    :param error: the exception class the refusal raises
    """
    with pytest.raises(error) as refused:
        operator(**kwargs)
    for text in expected:
        assert text in str(refused.value), f"the message says {text}"
    assert sandbox.client.ledger() == [], "nothing was sent, nothing was paid"


def assert_failed_early(sandbox, result: DagRunResult, errors: dict[str, tuple[str, ...]]) -> None:
    """
    Check that each task of a run failed at its one try, on a bad input rendered at run time, and nothing was sent.

    :param sandbox: the ``vimmerse_sandbox`` fixture, whose ledger must be empty
    :param result: the run
    :param errors: for each task id, texts its error must contain (the field named, the bad value, ...)
    """
    assert result.states == dict.fromkeys(errors, "failed")
    assert sandbox.client.ledger() == [], "nothing was sent, nothing was paid"
    for task_id, texts in errors.items():
        [error] = result.errors_of(task_id)  # one try: a bad input is final, a retry could not fix it
        for text in texts:
            assert text in error, f"the error of {task_id} says {text}"


@pytest.fixture
def killed_then_retried(vimmerse_sandbox, airflow_db, tmp_path, capsys, caplog):
    """
    Return ``run(dag_id, operator, route, **kwargs)``: one task whose first try Airflow kills, then its retry.

    The crash is Airflow's own: ``execution_timeout`` (2 s) kills the first try mid-wait (waiting here, not
    deferred), after the job was submitted and paid; nothing in the operator or hook is patched. Configure the
    sandbox so the job is still running when the retry starts and done well before the retry's own timeout.
    ``run`` checks that the retry reattached to the one job ``POST route`` paid for, and returns the task's
    result and that POST's ledger entry.
    """

    def run(dag_id: str, operator: Callable[..., Any], route: str, **kwargs: Any) -> tuple[dict, dict]:
        dag = new_dag(dag_id, tmp_path, retries=1, execution_timeout=timedelta(seconds=2), **FAST)
        with dag:
            operator(task_id="task", deferrable=False, **kwargs)
        result = run_dag(dag, tmp_path, ["task"])

        assert result.states == {"task": "success"}, result.errors_of("task")
        assert len(result.errors_of("task")) == 1, "the first try was killed"
        [submit] = vimmerse_sandbox.client.ledger(path=route, method="POST")
        value = result.xcom("task")
        assert (value["id"], value["status"]) == (submit["job_id"], "success"), "the retry finished the paid job"
        assert "from an earlier try" in logged(capsys, caplog), "the retry said it reattached"
        return value, submit

    return run
