"""
Crash tests in a real Airflow 3: processes die with SIGKILL while Vimmerse jobs run, and nothing is paid twice.

One deployment serves the module (:class:`tests.cluster.AirflowCluster`: api-server, scheduler with a
LocalExecutor, dag-processor and triggerer, each its own process), on a throwaway PostgreSQL when its
server binaries are there (else SQLite; the two-triggerer test then skips and says why), with the
sandbox API in this process. ``VIMMERSE_CLUSTER_DB=sqlite`` forces SQLite.

* a triggerer killed while 50 jobs wait in it: a new triggerer resumes every wait, each job was
  submitted once, and a job's timeout counts from its submit, not from the restart;
* a worker killed right after a submit: the retry finds the job id in the task state store and
  reattaches instead of submitting again (Airflow 3.3);
* the same for every other kind of credit-spending task, all in one DAG run: the story steps that
  answer at once (storyboard, elements, scenes), a batch, a story made from an idea in one step, and a
  v2 video tool whose wait was deferred; each worker is killed after the paid answer and before the
  task ends, and each paid route is POSTed once across both tries;
* two triggerers on one PostgreSQL database, one killed: the other takes over its triggers;
* the worker-time benchmark, small, so it keeps working.

Every test reads what a user would check: task states and tries from the REST API, and the sandbox's
ledger of API requests (each ``POST /media`` is one paid generation).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import re
import signal
import textwrap
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from airflow_provider_vimmerse.sandbox.client import SandboxClient
from airflow_provider_vimmerse.sandbox.pytest_plugin import CONN_ENV_VAR, sandbox_conn_uri
from tests.cluster import (
    AirflowCluster,
    PostgresServer,
    PostgresUnavailable,
    TaskInstanceInfo,
    cluster_test_marks,
    parent_pid,
    sandbox_in_thread,
    wait_until,
)

pytestmark = cluster_test_marks(
    reason="the crash harness drives Airflow 3 components (api-server with the execution API, "
    "dag-processor); Airflow 2 is not supported by tests/cluster.py",
    timeout=900,
)

WORKER_SLOTS = 2
POLL_SECONDS = 2
TASK_HEARTBEAT_TIMEOUT = 10
TRIGGERER_HEALTH_THRESHOLD = 5

TRIGGERER_DAG = "crash_triggerer"
TRIGGERER_JOBS = 50
TRIGGERER_JOB_SECONDS = 50
NEVER_TIMEOUT = 60
WORKER_DAG = "crash_worker"
WORKER_JOB_SECONDS = 25
HA_DAG = "crash_two_triggerers"
HA_JOBS = 12
HA_JOB_SECONDS = 25
PAID_DAG = "crash_every_paid_step"
PAID_JOB_SECONDS = 12
#: Seconds the sandbox holds the request a story step sends after its paid answer, and every asset read.
HOLD_SECONDS = 3

_HEADER = """\
from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG

from airflow_provider_vimmerse.operators.media import VimmerseCreateMediaOperator

START = pendulum.datetime(2026, 1, 1, tz="UTC")
"""

DAG_FILES = {
    TRIGGERER_DAG: f"""
        with DAG({TRIGGERER_DAG!r}, schedule=None, start_date=START, catchup=False, max_active_tasks=1000):
            VimmerseCreateMediaOperator(
                task_id="never_finishes", prompt="a job that never ends [sandbox:never]", deferrable=True,
                poll_interval={POLL_SECONDS}, timeout={NEVER_TIMEOUT}, priority_weight=1000,
            )
            VimmerseCreateMediaOperator.partial(task_id="media", deferrable=True, poll_interval={POLL_SECONDS}).expand(
                prompt=[f"triggerer crash job {{n}}" for n in range({TRIGGERER_JOBS})]
            )
    """,
    WORKER_DAG: f"""
        with DAG({WORKER_DAG!r}, schedule=None, start_date=START, catchup=False):
            VimmerseCreateMediaOperator(
                task_id="media", prompt="worker crash job", deferrable=False, poll_interval=1, retries=1,
                retry_delay=timedelta(seconds=1),
            )
    """,
    HA_DAG: f"""
        with DAG({HA_DAG!r}, schedule=None, start_date=START, catchup=False, max_active_tasks=1000):
            VimmerseCreateMediaOperator.partial(task_id="media", deferrable=True, poll_interval={POLL_SECONDS}).expand(
                prompt=[f"two triggerers job {{n}}" for n in range({HA_JOBS})]
            )
    """,
    PAID_DAG: f"""
        from airflow_provider_vimmerse.operators.batch import VimmerseCreateBatchOperator
        from airflow_provider_vimmerse.operators.story import (
            VimmerseCreateStoryboardOperator,
            VimmerseCreateStoryElementsOperator,
            VimmerseCreateStoryScenesOperator,
            VimmerseIdeaToVideoOperator,
        )
        from airflow_provider_vimmerse.operators.video import VimmerseVideoOperator

        RETRY = {{"retries": 1, "retry_delay": timedelta(seconds=1)}}
        WAIT = {{"poll_interval": 1, **RETRY}}

        with DAG({PAID_DAG!r}, schedule=None, start_date=START, catchup=False):
            board = VimmerseCreateStoryboardOperator(task_id="storyboard", idea="a lighthouse", scene_count=2, **RETRY)
            VimmerseCreateStoryElementsOperator(task_id="elements", story_id=board.output, **RETRY)
            VimmerseCreateStoryScenesOperator(task_id="scenes", story_id=board.output, **RETRY)
            VimmerseCreateBatchOperator(
                task_id="batch", image_urls=["https://cdn.test/a.png", "https://cdn.test/b.png"], duration=2,
                deferrable=False, **WAIT,
            )
            VimmerseIdeaToVideoOperator(
                task_id="idea_to_video", idea="a harbour wakes up", scene_count=2, deferrable=False, **WAIT
            )
            VimmerseVideoOperator(
                task_id="enhance", tool="enhance", video_url="https://cdn.test/clip.mp4", deferrable=True, **WAIT
            )
    """,
}


@dataclass
class Deployment:
    """The module's Airflow and sandbox."""

    cluster: AirflowCluster
    sandbox: SandboxClient
    sandbox_url: str
    api_key: str
    postgres_skip_reason: str | None


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    dags = tmp_path_factory.mktemp("crash-dags")
    for dag_id, body in DAG_FILES.items():
        (dags / f"{dag_id}.py").write_text(_HEADER + textwrap.dedent(body))
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(sandbox_in_thread(job_seconds=30))
        postgres, skip_reason = _postgres(stack)
        api_key = server.state.settings.api_keys[0]
        cluster = stack.enter_context(
            AirflowCluster(
                dags,
                database_url=postgres.url if postgres else None,
                parallelism=WORKER_SLOTS,
                env={CONN_ENV_VAR: sandbox_conn_uri(server.url, api_key)},
                task_heartbeat_timeout=TASK_HEARTBEAT_TIMEOUT,
                triggerer_health_threshold=TRIGGERER_HEALTH_THRESHOLD,
                config={("workers", "min_heartbeat_interval"): 1},
            )
        )
        sandbox = stack.enter_context(SandboxClient(server.url))
        yield Deployment(cluster, sandbox, server.url, api_key, skip_reason)


def _postgres(stack: contextlib.ExitStack) -> tuple[PostgresServer | None, str | None]:
    if os.environ.get("VIMMERSE_CLUSTER_DB", "").lower() == "sqlite":
        return None, "VIMMERSE_CLUSTER_DB=sqlite: the deployment runs on SQLite, which cannot be shared by triggerers"
    try:
        server = PostgresServer()
    except PostgresUnavailable as error:
        return None, f"no PostgreSQL for a shared metadata database: {error}"
    return stack.enter_context(server), None


@pytest.fixture
def sandbox(deployment: Deployment) -> SandboxClient:
    """Give the test an empty ledger."""
    deployment.sandbox.reset()
    return deployment.sandbox


# ---------------------------------------------------------------------- helpers


def when(entry: dict[str, Any]) -> dt.datetime:
    """Return the time of a sandbox ledger entry."""
    return dt.datetime.fromisoformat(entry["time"])


def utcnow() -> dt.datetime:
    """Return the current time (aware, UTC)."""
    return dt.datetime.now(dt.timezone.utc)


def status_polls(sandbox: SandboxClient, job_id: str) -> list[dict[str, Any]]:
    """Return the ledger's status checks of one media."""
    return sandbox.ledger(path=f"/media/{job_id}/processing-status", method="GET")


def poll_times(sandbox: SandboxClient) -> dict[str, list[dt.datetime]]:
    """Return the times of every media's status checks, by job id (one read of the ledger)."""
    times: dict[str, list[dt.datetime]] = defaultdict(list)
    for entry in sandbox.ledger(method="GET"):
        if entry["path"].endswith("/processing-status") and entry.get("job_id"):
            times[entry["job_id"]].append(when(entry))
    return times


def all_waiting(cluster: AirflowCluster, dag_id: str, run_id: str, count: int) -> list[TaskInstanceInfo] | None:
    """Return the task instances once all ``count`` are deferred with their trigger taken by a triggerer."""
    tis = cluster.task_instances(dag_id, run_id)
    failed = [ti.key for ti in tis if ti.state in ("failed", "upstream_failed", "up_for_retry")]
    assert not failed, f"tasks failed before the crash: {failed}\n{cluster.diagnostics()}"
    if len(tis) == count and all(ti.state == "deferred" and ti.triggerer_job_id for ti in tis):
        return tis
    return None


def job_id_of(cluster: AirflowCluster, dag_id: str, run_id: str, ti: TaskInstanceInfo) -> str:
    """Return the Vimmerse job id a task instance returned."""
    return cluster.xcom(dag_id, run_id, ti.task_id, ti.map_index)["id"]


def kill_worker(cluster: AirflowCluster, ti: TaskInstanceInfo) -> bool:
    """
    SIGKILL the whole worker of a running task: its supervisor first (so it reports nothing), then the task.

    Return False, killing nothing, when ``ti.pid`` is not (or no longer) a task process of a LocalExecutor
    worker, e.g. a pid the REST API still shows for a stint that ended.
    """
    supervisor = parent_pid(ti.pid) if ti.pid else None
    if supervisor is None or supervisor not in cluster.by_kind("scheduler")[0].session_pids():
        return False
    os.kill(supervisor, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.kill(ti.pid, signal.SIGKILL)  # type: ignore[arg-type]
    return True


@dataclass(frozen=True)
class PaidStep:
    """
    One credit-spending task of the ``PAID_DAG`` run, and when its worker is killed.

    ``catch`` is when: ``held``, a step that answers at once, once the task state store holds the
    story of its answer (the task then reads the story back, a read the sandbox holds ``HOLD_SECONDS``,
    so the kill comes before the task ends); ``status``, a wait here, after its first status check;
    ``resumed``, a deferred wait, while the try resumed from the triggerer reads the finished job.
    """

    task_id: str
    route: str
    catch: str
    status_path: str = ""

    def paid(self, ledger: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Return the ledger's paid requests of this step (``POST`` on its route)."""
        return [e for e in ledger if e["method"] == "POST" and re.fullmatch(self.route, e["path"])]


PAID_STEPS = [
    PaidStep("storyboard", "/story", "held"),
    PaidStep("elements", "/story/[^/]+/elements", "held"),
    PaidStep("scenes", "/story/[^/]+/scenes", "held"),
    PaidStep("batch", "/batch", "status", "/batch/{}"),
    PaidStep("idea_to_video", "/story/idea-2-video", "status", "/story/{}"),
    PaidStep("enhance", "/v2/video/enhance", "resumed", "/asset/{}"),
]
#: Whatever a story step sends after its paid answer (reading or updating the story) waits HOLD_SECONDS.
STORY_HOLD = {"fault": "slow", "delay": HOLD_SECONDS, "path": "^/story/(?!idea-2-video$)[^/]+$", "times": 10_000}
#: Every asset read waits HOLD_SECONDS, so a resumed try is caught reading its finished asset.
ASSET_HOLD = {"fault": "slow", "delay": HOLD_SECONDS, "method": "GET", "path": "^/asset/", "times": 10_000}


@dataclass
class Crash:
    """What happened to one step's first try."""

    step: PaidStep
    killed_at: dt.datetime | None = None
    missed: str = "not killed"
    answered: str = ""
    saved_seen: bool = False
    deferred: bool = False

    def due(
        self,
        ti: TaskInstanceInfo,
        ledger: list[dict[str, Any]],
        asset_reads_in_flight: int,
        saved: Callable[[str], str],
    ) -> bool:
        """
        Tell whether the worker of try 1 is now between the paid answer and the end of the task.

        :param ti: the task instance as the REST API shows it now
        :param ledger: the sandbox's ledger now
        :param asset_reads_in_flight: asset reads the sandbox is holding now
        :param saved: returns what a task keeps in its task state store, by task id
        """
        if ti.state == "deferred":
            self.deferred = True
        paid = self.step.paid(ledger)
        if not paid or ti.state != "running" or not ti.pid:
            return False
        if self.step.catch == "held":
            self.answered = paid[0]["job_id"]
            self.saved_seen = self.answered in saved(ti.task_id)
            return self.saved_seen
        if self.step.catch == "status":
            path = self.step.status_path.format(paid[0]["job_id"])
            return any(e["method"] == "GET" and e["path"] == path and e["seq"] > paid[0]["seq"] for e in ledger)
        return self.deferred and asset_reads_in_flight > 0


def task_state(cluster: AirflowCluster, run_id: str, task_id: str) -> str:
    """Return what a task instance keeps in its task state store (Airflow 3.3), as JSON text."""
    path = f"/dags/{PAID_DAG}/dagRuns/{run_id}/taskInstances/{task_id}/state-store"
    return json.dumps([entry["value"] for entry in cluster.api("GET", path)["task_state_store"]])


def kill_each_paid_step(
    cluster: AirflowCluster, sandbox: SandboxClient, run_id: str, asset_hold: int
) -> dict[str, Crash]:
    """Kill the worker of each step of the run once, at its ``catch``; return the crashes by task id."""
    crashes = {step.task_id: Crash(step) for step in PAID_STEPS}
    saved = functools.partial(task_state, cluster, run_id)
    waiting = set(crashes)
    deadline = time.monotonic() + 240
    while waiting and time.monotonic() < deadline:
        ledger = sandbox.ledger()
        (rule,) = [f for f in sandbox.faults() if f["id"] == asset_hold]
        held_reads = [e for e in ledger if e["path"].startswith("/asset/") and e["fault"] == "slow"]
        in_flight = rule["applied"] - len(held_reads)  # the triggerer reads no more once the task resumed
        for ti in cluster.task_instances(PAID_DAG, run_id):
            crash = crashes[ti.task_id]
            if ti.task_id not in waiting:
                continue
            if ti.try_number > 1 or ti.state in ("success", "failed", "up_for_retry", "upstream_failed", "skipped"):
                crash.missed = f"try 1 ended ({ti.state}) before its worker could be killed"
                if crash.saved_seen:
                    crash.missed += f": nothing held it after it saved story {crash.answered} in its task state store"
                elif crash.answered:
                    crash.missed += f": its task state store never showed story {crash.answered} while it ran"
                waiting.discard(ti.task_id)
            elif crash.due(ti, ledger, in_flight, saved) and kill_worker(cluster, ti):
                crash.killed_at, crash.missed = utcnow(), ""
                waiting.discard(ti.task_id)
        time.sleep(0.1)
    for task_id in waiting:
        crashes[task_id].missed = "its first try never reached the point where its worker is killed"
    return crashes


@dataclass
class PaidTaskOutcome:
    """One step of the run, read after it ended."""

    crash: Crash
    state: str | None
    try_number: int
    tries: list[str | None]
    events: list[str]
    paid: list[dict[str, Any]]
    result: dict[str, Any] | None
    retry_log: str


# ---------------------------------------------------------------------- tests


def test_triggerer_killed_while_50_jobs_wait_resumes_every_wait_once_and_keeps_the_deadline(deployment, sandbox):
    cluster = deployment.cluster
    sandbox.configure(job_seconds=TRIGGERER_JOB_SECONDS)
    run_id = cluster.trigger(TRIGGERER_DAG)
    count = TRIGGERER_JOBS + 1
    waiting = wait_until(lambda: all_waiting(cluster, TRIGGERER_DAG, run_id, count), 240, "every job to defer", 1)

    # Every job is submitted, none has finished, every wait sits in the triggerer we are about to kill.
    assert len(sandbox.ledger(path="/media", method="POST")) == count
    assert not [job for job in sandbox.jobs() if job["status"] == "success"], "a job ended before the crash"
    triggerers = cluster.by_kind("triggerer")
    assert {ti.triggerer_job_id for ti in waiting} <= {t.job_id for t in triggerers}
    killed_at = utcnow()
    for triggerer in triggerers:
        cluster.kill(triggerer)
    cluster.add_triggerer()
    restarted_at = utcnow()

    final = cluster.wait_for_run(TRIGGERER_DAG, run_id, timeout=TRIGGERER_JOB_SECONDS + NEVER_TIMEOUT + 120)
    assert final == "failed", "the job that never ends fails its task, and so the run"
    tis = {ti.key: ti for ti in cluster.task_instances(TRIGGERER_DAG, run_id)}
    media = [ti for key, ti in tis.items() if ti.task_id == "media"]
    assert len(media) == TRIGGERER_JOBS
    assert {ti.key: ti.state for ti in media if ti.state != "success"} == {}
    assert [ti.key for ti in media if ti.try_number != 1] == [], "no task needed a retry"
    assert cluster.deferred_tasks(TRIGGERER_DAG, run_id) >= {ti.key for ti in media}

    # Each job was paid for exactly once, and every wait was resumed by the new triggerer.
    submits = sandbox.ledger(path="/media", method="POST")
    assert len(submits) == count
    assert all(entry["created"] and entry["status"] == 200 for entry in submits)
    job_ids = {job_id_of(cluster, TRIGGERER_DAG, run_id, ti) for ti in media}
    jobs = {job["id"]: job for job in sandbox.jobs()}
    (never_id,) = [job_id for job_id, job in jobs.items() if job["outcome"] == "never"]
    assert job_ids | {never_id} == {entry["job_id"] for entry in submits}
    polls = poll_times(sandbox)
    not_resumed = [job_id for job_id in job_ids if not any(p > restarted_at for p in polls[job_id])]
    assert not_resumed == []

    # The job that never ends timed out NEVER_TIMEOUT after its submit, although its wait was restarted midway.
    (never_submit,) = [entry for entry in submits if entry["job_id"] == never_id]
    submitted = when(never_submit)
    deadline = submitted + dt.timedelta(seconds=NEVER_TIMEOUT)
    assert submitted < killed_at < restarted_at < deadline
    never = tis["never_finishes"]
    assert never.state == "failed"
    assert never.end_date is not None
    assert f"{never_id} was not finished by the deadline" in cluster.task_log(
        TRIGGERER_DAG, run_id, "never_finishes", 1
    )
    assert any(p > restarted_at for p in polls[never_id]), "the new triggerer resumed the wait"
    assert max(polls[never_id]) <= deadline + dt.timedelta(seconds=5), "no status check after the original deadline"
    assert deadline <= never.end_date <= deadline + dt.timedelta(seconds=30), (
        f"timed out {(never.end_date - submitted).total_seconds():.0f} s after submit, expected {NEVER_TIMEOUT} s"
    )


def test_worker_killed_right_after_submit_retry_reattaches_instead_of_paying_twice(deployment, sandbox):
    cluster = deployment.cluster
    sandbox.configure(job_seconds=WORKER_JOB_SECONDS)
    run_id = cluster.trigger(WORKER_DAG)
    # The first status check comes after the id was saved in the task state store.
    (submit,) = wait_until(lambda: sandbox.ledger(path="/media", method="POST"), 120, "the submit", 0.2)
    job_id = submit["job_id"]
    wait_until(lambda: status_polls(sandbox, job_id), 30, "the first status check", 0.2)
    (ti,) = cluster.task_instances(WORKER_DAG, run_id)
    assert ti.state == "running"
    assert ti.pid
    supervisor = parent_pid(ti.pid)
    assert supervisor in cluster.by_kind("scheduler")[0].session_pids(), "the task runs under the LocalExecutor"

    # The whole worker dies: the supervisor first (so it cannot report anything), then the task process.
    killed_at = utcnow()
    os.kill(supervisor, signal.SIGKILL)
    os.kill(ti.pid, signal.SIGKILL)

    assert cluster.wait_for_run(WORKER_DAG, run_id, timeout=WORKER_JOB_SECONDS + 120) == "success"
    (ti,) = cluster.task_instances(WORKER_DAG, run_id)
    assert (ti.state, ti.try_number) == ("success", 2)
    tries = cluster.tries(WORKER_DAG, run_id, "media")
    assert [t["state"] for t in tries] == ["failed", "success"]
    assert any(e.event == "heartbeat timeout" for e in cluster.events(WORKER_DAG, run_id))
    assert f"{job_id} from an earlier try is still running: reattaching" in cluster.task_log(
        WORKER_DAG, run_id, "media", 2
    )
    # One paid generation; the retry followed the same job to its end.
    assert len(sandbox.ledger(path="/media", method="POST")) == 1
    assert cluster.xcom(WORKER_DAG, run_id, "media")["id"] == job_id
    assert any(when(p) > killed_at for p in status_polls(sandbox, job_id))


@pytest.fixture(scope="module")
def paid_run(deployment: Deployment) -> dict[str, PaidTaskOutcome]:
    """
    Run ``PAID_DAG`` once, killing each step's worker between its paid answer and the end of its task.

    Both holds stay on for the whole run: they also slow idea-to-video's status checks, the triggerer's
    asset reads and the retries' reads by ``HOLD_SECONDS``, and change nothing else.
    """
    from importlib.metadata import version

    if tuple(int(part) for part in version("apache-airflow").split(".")[:2]) < (3, 3):
        pytest.skip("a retry takes back what an earlier try paid for through the task state store, Airflow 3.3+")
    cluster, sandbox = deployment.cluster, deployment.sandbox
    sandbox.reset()
    sandbox.configure(job_seconds=PAID_JOB_SECONDS)
    sandbox.add_fault(**STORY_HOLD)
    asset_hold = sandbox.add_fault(**ASSET_HOLD)["id"]
    try:
        run_id = cluster.trigger(PAID_DAG)
        crashes = kill_each_paid_step(cluster, sandbox, run_id, asset_hold)
        cluster.wait_for_run(PAID_DAG, run_id, timeout=240)
        ledger = sandbox.ledger()
    finally:
        sandbox.clear_faults()
    tis = {ti.task_id: ti for ti in cluster.task_instances(PAID_DAG, run_id)}
    events = cluster.events(PAID_DAG, run_id)
    outcomes = {}
    for step in PAID_STEPS:
        ti = tis[step.task_id]
        result = cluster.xcom(PAID_DAG, run_id, step.task_id) if ti.state == "success" else None
        outcomes[step.task_id] = PaidTaskOutcome(
            crash=crashes[step.task_id],
            state=ti.state,
            try_number=ti.try_number,
            tries=[t["state"] for t in cluster.tries(PAID_DAG, run_id, step.task_id)],
            events=[e.event for e in events if e.task_id == step.task_id],
            paid=step.paid(ledger),
            result=result,
            retry_log=cluster.task_log(PAID_DAG, run_id, step.task_id, 2) if ti.try_number > 1 else "",
        )
    return outcomes


@pytest.mark.parametrize("step", PAID_STEPS, ids=lambda step: step.task_id)
def test_worker_killed_between_a_paid_answer_and_the_task_end_retry_pays_nothing_more(paid_run, step):
    outcome = paid_run[step.task_id]
    crash = outcome.crash
    assert crash.killed_at, crash.missed
    if step.catch == "resumed":
        assert crash.deferred, "the worker was killed after the wait came back from the triggerer"
    assert (outcome.state, outcome.try_number) == ("success", 2)
    assert outcome.tries == ["failed", "success"]
    assert "heartbeat timeout" in outcome.events

    # One paid request across both tries, answered before the kill; the retry returns that same job.
    seen = [(e["seq"], e["time"], e["path"], e["job_id"]) for e in outcome.paid]
    assert len(outcome.paid) == 1, f"POST {step.route} was sent {len(outcome.paid)} times: {seen}"
    (paid,) = outcome.paid
    assert (paid["status"], paid["created"]) == (200, True)
    assert when(paid) < crash.killed_at
    assert outcome.result is not None
    assert outcome.result["id"] == paid["job_id"]
    if step.catch != "held":  # the job operators' own words; the story steps say it their way
        assert f"{paid['job_id']} from an earlier try" in outcome.retry_log
        assert "reattaching, nothing is submitted" in outcome.retry_log


def test_two_triggerers_on_postgres_one_killed_the_other_takes_over_its_triggers(deployment, sandbox):
    if deployment.postgres_skip_reason:
        pytest.skip(deployment.postgres_skip_reason)
    cluster = deployment.cluster
    sandbox.configure(job_seconds=HA_JOB_SECONDS)
    while len(cluster.by_kind("triggerer")) < 2:
        cluster.add_triggerer()
    run_id = cluster.trigger(HA_DAG)
    waiting = wait_until(lambda: all_waiting(cluster, HA_DAG, run_id, HA_JOBS), 180, "every job to defer", 1)

    held = Counter(ti.triggerer_job_id for ti in waiting)
    victim_job, _ = held.most_common(1)[0]
    (victim,) = [t for t in cluster.by_kind("triggerer") if t.job_id == victim_job]
    survivors = [t for t in cluster.by_kind("triggerer") if t is not victim]
    assert survivors
    assert not [job for job in sandbox.jobs() if job["status"] == "success"], "a job ended before the crash"
    orphaned = [ti for ti in waiting if ti.triggerer_job_id == victim_job]
    killed_at = utcnow()
    cluster.kill(victim)

    assert cluster.wait_for_run(HA_DAG, run_id, timeout=HA_JOB_SECONDS + 120) == "success", dict(held)
    tis = cluster.task_instances(HA_DAG, run_id)
    assert {ti.key: (ti.state, ti.try_number) for ti in tis} == {ti.key: ("success", 1) for ti in waiting}
    submits = sandbox.ledger(path="/media", method="POST")
    assert len(submits) == HA_JOBS
    assert len({entry["job_id"] for entry in submits}) == HA_JOBS
    # The orphaned waits went on in a surviving triggerer: polled after the kill, with no triggerer restarted.
    takeover = killed_at + dt.timedelta(seconds=TRIGGERER_HEALTH_THRESHOLD)
    polls = poll_times(sandbox)
    for ti in orphaned:
        job_id = job_id_of(cluster, HA_DAG, run_id, ti)
        assert any(p >= takeover for p in polls[job_id]), (ti.key, job_id)
    assert all(t.alive() for t in survivors)
    assert {t.name for t in cluster.by_kind("triggerer")} == {t.name for t in survivors}


def test_worker_time_benchmark_small_run_shows_deferral_frees_the_worker(deployment, sandbox):
    from benchmarks import worker_time

    jobs, job_seconds = 4, 5
    results = worker_time.run_benchmark(
        deployment.cluster, deployment.sandbox_url, jobs=jobs, job_seconds=job_seconds, poll_interval=1,
        variants=list(worker_time.VARIANTS), prefix="smoke_worker_time", api_key=deployment.api_key,
    )  # fmt: skip
    for variant, figures in results.items():
        assert figures["run_state"] == "success", (variant, figures)
        assert figures["task_states"] == {"success": jobs}, (variant, figures)
        assert figures["submits"] == jobs, (variant, figures)
    deferrable, sync, loop = results["deferrable"], results["sync"], results["loop"]
    assert deferrable["deferrals"] == jobs
    assert deferrable["stints_per_job"] == 2
    assert deferrable["worker_seconds_per_job"] < 3, deferrable
    for waiting_on_worker in (sync, loop):
        assert waiting_on_worker["deferrals"] == 0
        assert waiting_on_worker["worker_seconds_per_job"] >= job_seconds * 0.9, waiting_on_worker
    assert deferrable["slot_seconds"] is not None
    assert deferrable["slot_seconds"] >= deferrable["worker_seconds"]
