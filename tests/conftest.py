"""
Test setup shared by every test.

Airflow runs for real here, in a temporary ``AIRFLOW_HOME`` with its own SQLite database, so tests
never touch a developer's Airflow. The ``vimmerse_sandbox`` fixture (the package's pytest plugin)
serves the local Vimmerse API over real HTTP and points ``vimmerse_default`` at it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

# Must happen before anything imports airflow.
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="vimmerse-airflow-home-"))
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(Path(__file__).resolve().parents[1] / "example_dags")
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_AIRFLOW_HOME}/airflow.db"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ.pop("AIRFLOW_CONN_VIMMERSE_DEFAULT", None)
os.environ.pop("VIMMERSE_API_KEY", None)

REPO = Path(__file__).resolve().parents[1]
#: The package's pytest plugin (the ``vimmerse_sandbox`` fixture) is opt-in: loaded here as a user's tests load it.
pytest_plugins = ["airflow_provider_vimmerse.sandbox.pytest_plugin"]


def airflow_env(**extra: str) -> dict[str, str]:
    """Return the environment for an ``airflow`` subprocess that shares this test run's AIRFLOW_HOME."""
    env = dict(os.environ)
    env.update(extra)
    return env


def run_airflow(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the ``airflow`` CLI of this interpreter's environment and return the finished process."""
    airflow = Path(sys.executable).with_name("airflow")
    return subprocess.run(
        [str(airflow), *args], env=env or airflow_env(), capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Create the metadata database of the temporary AIRFLOW_HOME once per test run."""
    result = run_airflow("db", "migrate")
    assert result.returncode == 0, result.stdout + result.stderr
    with contextlib.suppress(ImportError):
        # Airflow 2 only: the user table that dag_run_note points at lives in the FAB models; without
        # them an in-process dag.test() cannot map its tables.
        import airflow.providers.fab.auth_manager.models  # noqa: F401
    return _AIRFLOW_HOME
