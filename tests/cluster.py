"""
A real Airflow 3 deployment for crash tests and benchmarks: each component is its own process.

:class:`AirflowCluster` (a context manager) makes a temporary ``AIRFLOW_HOME``, configures Airflow
through ``AIRFLOW__SECTION__KEY`` environment variables only (LocalExecutor, a few worker slots, fast
heartbeats, no examples), migrates the metadata database (SQLite in the home, or a PostgreSQL URL),
and starts ``api-server``, ``scheduler``, ``dag-processor`` and ``triggerer`` as separate
subprocesses, each in its own session with its output in ``<home>/component-logs/<name>.log``.

A test can then trigger a DAG run and wait for it through the REST API, read task instances (state,
try number, pid, the triggerer holding their trigger), previous tries and the event log (Airflow 3
writes one ``running``/``deferred``/``success``... event per state change reported by a worker), add
a second triggerer, kill a component with SIGKILL and start it again. Leaving the ``with`` block kills
every process of every component, including task processes that moved to their own process group.

:class:`PostgresServer` runs a throwaway PostgreSQL cluster (``initdb`` + ``pg_ctl``) on a free port.

Only Airflow 3 is supported (it needs the api-server's execution API); :func:`airflow_major` lets a
test skip on Airflow 2 with a reason.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import requests

COMPONENT_COMMANDS: dict[str, list[str]] = {
    "api-server": ["api-server", "--host", "127.0.0.1", "--workers", "1"],
    "scheduler": ["scheduler", "--skip-serve-logs"],
    "dag-processor": ["dag-processor"],
    "triggerer": ["triggerer", "--skip-serve-logs"],
}
TERMINAL_RUN_STATES = ("success", "failed")


def airflow_major() -> int:
    """Return the major version of the installed Airflow."""
    from importlib.metadata import version

    return int(version("apache-airflow").split(".")[0])


def free_port() -> int:
    """Return a free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def parse_time(value: str | None) -> dt.datetime | None:
    """Return an aware datetime from the API's ISO text, or None."""
    return dt.datetime.fromisoformat(value) if value else None


def wait_until(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.5) -> Any:
    """
    Call ``condition`` until it returns something truthy and return that; raise TimeoutError after ``timeout``.

    :param condition: no-argument callable
    :param timeout: seconds
    :param what: what is awaited, for the error message
    :param interval: seconds between calls
    """
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


@dataclass
class TaskInstanceInfo:
    """One task instance as the REST API reports it (its latest try)."""

    id: str
    task_id: str
    map_index: int
    state: str | None
    try_number: int
    start_date: dt.datetime | None
    end_date: dt.datetime | None
    pid: int | None
    hostname: str | None
    triggerer_job_id: int | None

    @property
    def key(self) -> str:
        """Return ``task_id`` or ``task_id[map_index]`` for a mapped task."""
        return self.task_id if self.map_index < 0 else f"{self.task_id}[{self.map_index}]"

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> TaskInstanceInfo:
        """Build from one item of ``GET .../taskInstances``."""
        trigger = data.get("trigger") or {}
        return cls(
            id=data["id"],
            task_id=data["task_id"],
            map_index=data["map_index"],
            state=data["state"],
            try_number=data["try_number"],
            start_date=parse_time(data["start_date"]),
            end_date=parse_time(data["end_date"]),
            pid=data.get("pid"),
            hostname=data.get("hostname"),
            triggerer_job_id=trigger.get("triggerer_id"),
        )


@dataclass
class TaskEvent:
    """One entry of the event log: a state a task instance try reported, and when."""

    when: dt.datetime
    event: str
    task_id: str
    map_index: int
    try_number: int | None

    @property
    def key(self) -> str:
        """Return ``task_id`` or ``task_id[map_index]`` for a mapped task."""
        return self.task_id if self.map_index is None or self.map_index < 0 else f"{self.task_id}[{self.map_index}]"


@dataclass
class Component:
    """One running Airflow component process (and everything it started)."""

    name: str
    kind: str
    process: subprocess.Popen
    log_path: Path
    job_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        """Return the pid of the component's main process (also its session id)."""
        return self.process.pid

    def alive(self) -> bool:
        """Return True while the main process runs."""
        return self.process.poll() is None

    def session_pids(self) -> list[int]:
        """Return every live process of this component's session (its children, task processes included)."""
        return processes_in_session(self.pid)

    def log_tail(self, lines: int = 40) -> str:
        """Return the last lines of the component's output."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def processes_in_session(session_id: int) -> list[int]:
    """Return the pids of the live processes whose session id is ``session_id`` (Linux ``/proc``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            # fields[0] is the state, fields[3] the session id; zombies are already dead.
            if int(fields[3]) == session_id and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def parent_pid(pid: int) -> int | None:
    """Return the parent pid of ``pid``, or None when the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def cluster_test_marks(*, reason: str, timeout: float) -> list[Any]:
    """
    Return the ``pytestmark`` of a test module that runs an :class:`AirflowCluster`: slow, Airflow 3 only.

    :param reason: why the module is skipped on Airflow 2
    :param timeout: seconds each test may take (starting the deployment counts against the first)
    """
    import pytest

    return [
        pytest.mark.airflow_run,
        pytest.mark.skipif(airflow_major() < 3, reason=reason),
        pytest.mark.timeout(timeout),
    ]


_S = TypeVar("_S", bound="Service")


class Service:
    """Processes that ``start()`` starts and ``stop()`` kills; a ``with`` block stops them even if starting fails."""

    def start(self) -> None:
        """Start the processes; return when they serve."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop whatever ``start()`` started, even half of it."""
        raise NotImplementedError

    def __enter__(self: _S) -> _S:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class AirflowCluster(Service):
    """
    Airflow 3 with each component in its own process, in a temporary ``AIRFLOW_HOME``.

    :param dags_folder: the folder the dag-processor parses
    :param database_url: SQLAlchemy URL of the metadata database; default a SQLite file in the home.
        For PostgreSQL give a ``postgresql+psycopg://`` URL (used for the async engine too).
    :param parallelism: LocalExecutor worker slots
    :param triggerer_capacity: ``[triggerer] default_capacity``
    :param env: more environment variables for every component (e.g. ``AIRFLOW_CONN_...``)
    :param config: more Airflow options, ``{("section", "key"): value}``
    :param task_heartbeat_timeout: ``[scheduler] task_instance_heartbeat_timeout``: seconds without a
        task heartbeat before the scheduler fails the try
    :param triggerer_health_threshold: ``[triggerer] triggerer_health_check_threshold``: seconds without a
        triggerer heartbeat before another triggerer takes over its triggers
    :param keep_home: leave the home (logs, SQLite file) on disk after exit
    """

    def __init__(
        self,
        dags_folder: Path,
        *,
        database_url: str | None = None,
        parallelism: int = 2,
        triggerer_capacity: int = 1000,
        env: dict[str, str] | None = None,
        config: dict[tuple[str, str], Any] | None = None,
        task_heartbeat_timeout: int = 300,
        triggerer_health_threshold: int = 30,
        keep_home: bool = False,
    ) -> None:
        self.dags_folder = Path(dags_folder)
        self.home = Path(tempfile.mkdtemp(prefix="vimmerse-cluster-"))
        self.database_url = database_url or f"sqlite:///{self.home}/airflow.db"
        self.parallelism = parallelism
        self.api_port = free_port()
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.keep_home = keep_home or bool(os.environ.get("VIMMERSE_KEEP_CLUSTER"))
        self.components: list[Component] = []
        self._counts: dict[str, int] = {}
        self._token: str | None = None
        self._http = requests.Session()
        self.env = self._environment(
            parallelism=parallelism,
            triggerer_capacity=triggerer_capacity,
            task_heartbeat_timeout=task_heartbeat_timeout,
            triggerer_health_threshold=triggerer_health_threshold,
            config=config or {},
            extra=env or {},
        )

    # ------------------------------------------------------------------ configuration

    def _environment(
        self,
        *,
        parallelism: int,
        triggerer_capacity: int,
        task_heartbeat_timeout: int,
        triggerer_health_threshold: int,
        config: dict[tuple[str, str], Any],
        extra: dict[str, str],
    ) -> dict[str, str]:
        from cryptography.fernet import Fernet

        options: dict[tuple[str, str], Any] = {
            ("core", "executor"): "LocalExecutor",
            ("core", "parallelism"): parallelism,
            ("core", "dags_folder"): self.dags_folder,
            ("core", "load_examples"): False,
            ("core", "unit_test_mode"): False,
            ("core", "dags_are_paused_at_creation"): False,
            ("core", "max_active_tasks_per_dag"): 1000,
            ("core", "fernet_key"): Fernet.generate_key().decode(),
            ("core", "execution_api_server_url"): f"{self.api_url}/execution/",
            ("core", "simple_auth_manager_all_admins"): True,
            ("database", "sql_alchemy_conn"): self.database_url,
            ("api", "port"): self.api_port,
            ("api", "secret_key"): secrets.token_hex(16),
            ("api_auth", "jwt_secret"): secrets.token_hex(32),
            ("logging", "base_log_folder"): self.home / "logs",
            ("logging", "colored_console_log"): False,
            ("scheduler", "scheduler_heartbeat_sec"): 1,
            ("scheduler", "job_heartbeat_sec"): 1,
            ("scheduler", "scheduler_idle_sleep_time"): 0.5,
            ("scheduler", "task_instance_heartbeat_timeout"): task_heartbeat_timeout,
            ("scheduler", "task_instance_heartbeat_timeout_detection_interval"): 2,
            ("scheduler", "trigger_timeout_check_interval"): 5,
            ("workers", "min_heartbeat_interval"): max(1, min(5, task_heartbeat_timeout // 4)),
            ("triggerer", "job_heartbeat_sec"): 1,
            ("triggerer", "default_capacity"): triggerer_capacity,
            ("triggerer", "triggerer_health_check_threshold"): triggerer_health_threshold,
            ("dag_processor", "refresh_interval"): 5,
            ("dag_processor", "parsing_processes"): 1,
        }
        if self.database_url.startswith("postgresql+psycopg"):
            # Airflow would derive postgresql+asyncpg for its async engine; psycopg 3 serves both.
            options[("database", "sql_alchemy_conn_async")] = self.database_url
        options.update(config)
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_")) and name != "AIRFLOW_HOME"
        }
        env["AIRFLOW_HOME"] = str(self.home)
        env["PYTHONUNBUFFERED"] = "1"
        for (section, key), value in options.items():
            env[f"AIRFLOW__{section.upper()}__{key.upper()}"] = str(value)
        env.update(extra)
        return env

    # ------------------------------------------------------------------ life cycle

    def start(self, timeout: float = 120) -> None:
        """Migrate the database, then start the api-server, scheduler, dag-processor and one triggerer."""
        (self.home / "component-logs").mkdir(parents=True, exist_ok=True)
        result = self.airflow("db", "migrate", timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        self.start_component("api-server", wait=False)
        self.start_component("scheduler", wait=False)
        self.start_component("dag-processor", wait=False)
        self.start_component("triggerer", wait=False)
        self.wait_for_api(timeout)
        for component in self.components:
            self.wait_for_job(component, timeout)

    def stop(self) -> None:
        """Kill every process of every component (SIGKILL: nothing here needs a clean shutdown)."""
        for component in self.components:
            self._kill_session(component)
        for component in self.components:
            with contextlib.suppress(subprocess.TimeoutExpired):
                component.process.wait(timeout=10)
        self._http.close()
        if not self.keep_home:
            shutil.rmtree(self.home, ignore_errors=True)

    def start_component(
        self, kind: str, *, args: tuple[str, ...] = (), wait: bool = True, timeout: float = 90
    ) -> Component:
        """
        Start one more process of ``kind`` (``api-server``, ``scheduler``, ``dag-processor``, ``triggerer``).

        :param kind: the ``airflow`` sub-command
        :param args: more command-line arguments (``--capacity 4`` for a triggerer)
        :param wait: wait until it is up (its job heartbeats, or the API answers)
        :param timeout: seconds to wait
        """
        self._counts[kind] = self._counts.get(kind, 0) + 1
        name = f"{kind}-{self._counts[kind]}"
        log_path = self.home / "component-logs" / f"{name}.log"
        known_jobs = {job["id"] for job in self.jobs()} if kind != "api-server" and self._token_ready() else set()
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [str(self._airflow_executable()), *COMPONENT_COMMANDS[kind], *args],
                env=self.env,
                cwd=self.home,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        component = Component(name=name, kind=kind, process=process, log_path=log_path)
        component.extra["known_jobs"] = known_jobs
        self.components.append(component)
        if wait:
            if kind == "api-server":
                self.wait_for_api(timeout)
            else:
                self.wait_for_job(component, timeout)
        return component

    def add_triggerer(self, timeout: float = 90) -> Component:
        """Start another triggerer and wait until its job heartbeats."""
        return self.start_component("triggerer", timeout=timeout)

    def add_api_server(self, timeout: float = 90) -> tuple[Component, str]:
        """
        Start another api-server on its own port over the same database, as a second replica behind a load
        balancer would be; return it and its base URL. Workers keep using the first one's execution API.
        """
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        component = self.start_component("api-server", args=("--port", str(port)), wait=False)

        def answers() -> bool:
            if not component.alive():
                raise RuntimeError(f"the api-server on {url} exited:\n{component.log_tail()}")
            with contextlib.suppress(requests.RequestException):
                return self._http.get(f"{url}/api/v2/monitor/health", timeout=5).status_code == 200
            return False

        wait_until(answers, timeout, f"the api-server on {url}")
        return component, url

    def kill(self, component: Component, sig: int = signal.SIGKILL) -> None:
        """
        Send ``sig`` (default SIGKILL) to every process of ``component``, as when its machine dies.

        :param component: a component of this cluster
        :param sig: the signal
        """
        self._kill_session(component, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            component.process.wait(timeout=10)

    def restart(self, component: Component, *, wait: bool = True) -> Component:
        """Kill ``component`` if it still runs and start a new process of the same kind."""
        if component.alive() or component.session_pids():
            self.kill(component)
        return self.start_component(component.kind, wait=wait)

    def by_kind(self, kind: str) -> list[Component]:
        """Return the live components of ``kind``, oldest first."""
        return [c for c in self.components if c.kind == kind and c.alive()]

    def _kill_session(self, component: Component, sig: int = signal.SIGKILL) -> None:
        for _ in range(3):  # a dying parent may still fork once; sweep again
            pids = component.session_pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            time.sleep(0.2)

    # ------------------------------------------------------------------ readiness

    def wait_for_api(self, timeout: float = 90) -> None:
        """Wait until the api-server answers and a token is issued."""

        def ready() -> bool:
            self._check_alive("api-server")
            with contextlib.suppress(requests.RequestException):
                response = self._http.get(f"{self.api_url}/auth/token", timeout=5)
                if response.status_code in (200, 201):
                    self._token = response.json()["access_token"]
                    return True
            return False

        wait_until(ready, timeout, f"the api-server on {self.api_url}")

    def wait_for_job(self, component: Component, timeout: float = 90) -> int:
        """Wait until ``component`` (scheduler, triggerer, dag-processor) has a running, heartbeating job."""
        job_type = {"scheduler": "SchedulerJob", "triggerer": "TriggererJob", "dag-processor": "DagProcessorJob"}
        if component.kind not in job_type:
            return 0
        known = component.extra.get("known_jobs", set())

        def new_job() -> int | None:
            if not component.alive():
                raise RuntimeError(f"{component.name} exited:\n{component.log_tail()}")
            for job in self.jobs(job_type[component.kind]):
                if job["id"] not in known and job["state"] == "running" and job["latest_heartbeat"]:
                    taken = {c.job_id for c in self.components if c is not component}
                    if job["id"] not in taken:
                        return job["id"]
            return None

        component.job_id = wait_until(new_job, timeout, f"the job of {component.name}")
        return component.job_id

    def _check_alive(self, kind: str) -> None:
        for component in self.components:
            if component.kind == kind and not component.alive() and component.process.returncode not in (None, -9):
                raise RuntimeError(f"{component.name} exited ({component.process.returncode}):\n{component.log_tail()}")

    def _token_ready(self) -> bool:
        return self._token is not None

    # ------------------------------------------------------------------ CLI and REST

    def _airflow_executable(self) -> Path:
        return Path(sys.executable).with_name("airflow")

    def airflow(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """Run an ``airflow`` CLI command against this cluster and return the finished process."""
        return subprocess.run(
            [str(self._airflow_executable()), *args],
            env=self.env,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """
        Call the REST API (``/api/v2`` + ``path``) with a token and return the JSON answer.

        :raises requests.HTTPError: on an error status
        """
        if self._token is None:
            self.wait_for_api()
        response = self._http.request(
            method,
            f"{self.api_url}/api/v2{path}",
            headers={"Authorization": f"Bearer {self._token}"},
            timeout=30,
            **kwargs,
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def _pages(self, path: str, items: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while True:
            page = self.api("GET", path, params={**(params or {}), "limit": 100, "offset": len(found)})
            batch = list(page[items])
            found += batch
            if not batch or len(found) >= (page.get("total_entries") or 0):
                return found

    def jobs(self, job_type: str | None = None) -> list[dict[str, Any]]:
        """Return the scheduler/triggerer/dag-processor jobs (newest first), optionally of one type."""
        params: dict[str, Any] = {"order_by": "-id"}
        if job_type:
            params["job_type"] = job_type
        return self._pages("/jobs", "jobs", params)

    # ------------------------------------------------------------------ DAG runs

    def wait_for_dag(self, dag_id: str, timeout: float = 120) -> None:
        """Wait until the dag-processor has parsed ``dag_id`` (the API knows it) and it has no import error."""

        def parsed() -> bool:
            errors = self.api("GET", "/importErrors")["import_errors"]
            if errors:
                raise RuntimeError(f"DAG import errors: {errors}")
            try:
                self.api("GET", f"/dags/{dag_id}")
            except requests.HTTPError as error:
                if error.response is not None and error.response.status_code == 404:
                    return False
                raise
            return True

        wait_until(parsed, timeout, f"the DAG {dag_id} to be parsed", interval=1)

    def trigger(
        self,
        dag_id: str,
        conf: dict[str, Any] | None = None,
        run_id: str | None = None,
        logical_date: dt.datetime | None = None,
    ) -> str:
        """
        Start a run of ``dag_id`` through the REST API and return its run id.

        :param dag_id: the DAG
        :param conf: the run's conf
        :param run_id: the run id; default Airflow's
        :param logical_date: the run's logical date (an aware datetime); default none, and then
            templates that use it (``{{ ds }}``...) fail to render
        """
        self.wait_for_dag(dag_id)
        body: dict[str, Any] = {"logical_date": logical_date.isoformat() if logical_date else None, "conf": conf or {}}
        if run_id:
            body["dag_run_id"] = run_id
        return self.api("POST", f"/dags/{dag_id}/dagRuns", json=body)["dag_run_id"]

    def run_state(self, dag_id: str, run_id: str) -> str:
        """Return the state of one DAG run (queued, running, success, failed)."""
        return self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"]

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float) -> str:
        """
        Wait until the run ends and return its state; on timeout raise with the task states and component logs.

        :param dag_id: the DAG
        :param run_id: the run
        :param timeout: seconds
        """
        try:
            return wait_until(
                lambda: (state := self.run_state(dag_id, run_id)) in TERMINAL_RUN_STATES and state,
                timeout,
                f"run {run_id} of {dag_id}",
                interval=1,
            )
        except TimeoutError as error:
            states = {ti.key: ti.state for ti in self.task_instances(dag_id, run_id)}
            raise TimeoutError(f"{error}; task states {states}\n{self.diagnostics()}") from None

    def wait_for_executor_report(
        self, dag_id: str, run_id: str, task_id: str, try_number: int, timeout: float = 60
    ) -> None:
        """
        Wait until a scheduler has taken the executor's report that a workload of this try ended.

        A task that parks (``awaiting_input``) or defers ends its workload, and the executor reports that
        as ``success``. Airflow 3.3 fails the task as "killed externally" when that report is taken after
        an answer already re-queued the same try (see ``docs/operators/story-review.md``). People answer
        seconds later; a test answers within a second, so it waits for this first. Read from the
        scheduler's log: the REST API does not show executor reports.
        """
        key = f"TaskInstanceKey(dag_id='{dag_id}', task_id='{task_id}', run_id='{run_id}', try_number={try_number},"

        def reported() -> bool:
            logs = (c.log_path.read_text(errors="replace") for c in self.components if c.kind == "scheduler")
            return any("Received executor event" in line and key in line for log in logs for line in log.splitlines())

        wait_until(reported, timeout, f"the executor's report on {task_id} try {try_number} of {run_id}", interval=0.5)

    def task_instances(self, dag_id: str, run_id: str) -> list[TaskInstanceInfo]:
        """Return every task instance of a run (mapped ones one by one), with its latest try."""
        items = self._pages(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", "task_instances")
        return [TaskInstanceInfo.from_api(item) for item in items]

    def tries(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> list[dict[str, Any]]:
        """Return every try of one task instance (oldest first) as the API reports them."""
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}"
        path += f"/{map_index}/tries" if map_index >= 0 else "/tries"
        return sorted(self.api("GET", path)["task_instances"], key=lambda t: t["try_number"])

    def xcom(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1, key: str = "return_value") -> Any:
        """Return one XCom value of a task instance as the API stores it (JSON)."""
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}"
        return self.api("GET", path, params={"map_index": map_index})["value"]

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int, map_index: int = -1) -> str:
        """Return one try's task log, one entry per line (structured entries as JSON, exception details included)."""
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}"
        answer = self.api("GET", path, params={"full_content": "true", "map_index": map_index})
        return "\n".join(item if isinstance(item, str) else json.dumps(item) for item in answer["content"])

    def events(self, dag_id: str, run_id: str) -> list[TaskEvent]:
        """
        Return the run's task state events in order: ``running`` when a worker starts a try (again after
        a deferral), ``deferred``, ``success``, ``failed``, ``up_for_retry``, ``heartbeat timeout``...
        """
        items = self._pages("/eventLogs", "event_logs", {"dag_id": dag_id, "run_id": run_id, "order_by": "id"})
        return [
            TaskEvent(
                when=parse_time(item["when"]),  # type: ignore[arg-type]
                event=item["event"],
                task_id=item["task_id"],
                map_index=item["map_index"] if item["map_index"] is not None else -1,
                try_number=item["try_number"],
            )
            for item in items
            if item.get("task_id")
        ]

    def deferred_tasks(self, dag_id: str, run_id: str) -> set[str]:
        """Return the keys of the task instances that deferred at least once in this run."""
        return {event.key for event in self.events(dag_id, run_id) if event.event == "deferred"}

    # ------------------------------------------------------------------ diagnostics

    def run_report(self, dag_id: str, run_id: str, lines: int = 40) -> str:
        """
        Return a run's task states, the last log lines of each failed task's latest try and its events,
        for an assertion message: a run that ended ``failed`` in CI then says why.
        """
        instances = self.task_instances(dag_id, run_id)
        parts = [f"task states { ({ti.key: ti.state for ti in instances}) }"]
        for ti in instances:
            if ti.state == "failed" and ti.try_number:
                log = self.task_log(dag_id, run_id, ti.task_id, ti.try_number, ti.map_index).splitlines()
                parts.append(f"--- log of {ti.key}, try {ti.try_number}\n" + "\n".join(log[-lines:]))
        events = [f"{e.when:%H:%M:%S.%f} {e.key} {e.event}" for e in self.events(dag_id, run_id)]
        parts.append("--- events\n" + "\n".join(events))
        return "\n".join(parts)

    def diagnostics(self, lines: int = 30) -> str:
        """Return the last lines of every component's output."""
        parts = [f"--- {c.name} (pid {c.pid}, alive {c.alive()})\n{c.log_tail(lines)}" for c in self.components]
        return "\n".join(parts)


# ---------------------------------------------------------------------- PostgreSQL


def apt_install(package: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """
    Install one Debian package with apt-get, without a terminal, and return the last apt-get run.

    A fresh machine may have no package lists yet: when the first try fails, refresh them once and try
    again. The caller checks the outcome (the returned process, or whether what it needs is now there).

    :param package: the Debian package
    :param timeout: seconds for each apt-get run; :class:`subprocess.TimeoutExpired` past it
    """
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # With the recommended packages (Chromium's bring the fonts the screenshots are drawn with).
    install = ["apt-get", "install", "-y", "-q", package]

    def run(command: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, check=False
        )

    result = run(install)
    if result.returncode != 0:
        update = run(["apt-get", "update", "-q"])
        result = run(install)
        result.stderr = update.stderr[-1000:] + result.stderr
    return result


class PostgresUnavailable(RuntimeError):
    """Raised when no PostgreSQL server binaries can be found or installed."""


def postgres_bin_dir() -> Path:
    """
    Return the folder holding ``initdb`` and ``pg_ctl``.

    When they are missing, install the ``postgresql`` package with apt-get, but only as root on CI
    (``CI`` set); otherwise raise :class:`PostgresUnavailable` saying why.
    """
    found = _find_postgres_bin()
    if found:
        return found
    if os.geteuid() != 0 or not os.environ.get("CI"):
        raise PostgresUnavailable(
            "PostgreSQL server binaries (initdb, pg_ctl) not found; install the 'postgresql' package "
            "(they are installed automatically only when running as root with CI set)"
        )
    result = apt_install("postgresql")
    found = _find_postgres_bin()
    if not found:
        raise PostgresUnavailable(f"apt-get install postgresql failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return found


def _find_postgres_bin() -> Path | None:
    on_path = shutil.which("initdb")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    versions = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if p.parent.name.isdigit()]
    candidates += sorted(versions, key=lambda p: -int(p.parent.name))
    for folder in candidates:
        if all((folder / tool).exists() for tool in ("initdb", "pg_ctl", "createdb")):
            return folder
    return None


class PostgresServer(Service):
    """
    A throwaway PostgreSQL cluster in a temporary folder, on a free port of 127.0.0.1 (trust auth).

    As root it runs as the ``postgres`` user (PostgreSQL refuses to run as root).
    ``url`` is a ``postgresql+psycopg://`` URL of the database ``airflow``.
    """

    def __init__(self) -> None:
        self.bin_dir = postgres_bin_dir()
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="vimmerse-pg-"))
        self.data = self.root / "data"
        self.user = "airflow"
        self.url = f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/airflow"
        self._run_as: list[str] = []
        if os.geteuid() == 0:
            owner = "postgres" if _user_exists("postgres") else "nobody"
            shutil.chown(self.root, user=owner)
            self.root.chmod(0o700)
            self._run_as = ["runuser", "-u", owner, "--"]

    def _run(self, tool: str, *args: str) -> None:
        result = subprocess.run(
            [*self._run_as, str(self.bin_dir / tool), *args], capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{tool} failed: {result.stdout[-2000:]}{result.stderr[-2000:]}")

    def start(self) -> None:
        """Create the cluster, start the server and create the ``airflow`` database."""
        self._run("initdb", "-D", str(self.data), "-U", self.user, "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "server.log"), "-w", "start")
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "airflow")

    def stop(self) -> None:
        """Stop the server at once and delete its folder."""
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@contextlib.contextmanager
def sandbox_in_thread(job_seconds: float, credits: int = 10_000_000) -> Iterator[Any]:
    """Run the Vimmerse sandbox in this process (a uvicorn thread); yield the server."""
    from airflow_provider_vimmerse.sandbox.server import SandboxServer
    from airflow_provider_vimmerse.sandbox.state import SandboxSettings

    with SandboxServer(SandboxSettings(job_seconds=job_seconds, credits=credits)) as server:
        yield server
