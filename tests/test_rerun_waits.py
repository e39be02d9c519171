"""
Re-running finished jobs in a real Airflow 3, against the sandbox answering as the API documents.

The documents do not say a job's status leaves ``success`` at once after a regenerating edit, and a
concat answers ``{}`` while the composed ``video_url`` is "populated when composition completes ...
typically 1-3 minutes" (openapi.json, ``POST /story/{story_id}/concat``). So the sandbox here keeps
showing the old run for several polls after each request, and composes for over three minutes.

* an update with regeneration returns the new run (not the old ``success`` it reads for 12 s), with
  one credit-spending request in the ledger;
* batch and story concat whose ``video_url`` appears after 3 minutes succeed, deferred the whole time
  (no worker slot held), each with one concat request.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import textwrap
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_vimmerse.sandbox.client import SandboxClient
from airflow_provider_vimmerse.sandbox.pytest_plugin import CONN_ENV_VAR, sandbox_conn_uri
from tests.cluster import AirflowCluster, cluster_test_marks, sandbox_in_thread, wait_until

pytestmark = cluster_test_marks(
    reason="drives Airflow 3 components (tests/cluster.py); the same waits run on 2.11 in tests/operators",
    timeout=900,
)

STALE_SECONDS = 12
COMPOSE_SECONDS = 185
POLL_SECONDS = 2

DAGS = """\
from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_vimmerse.operators.batch import VimmerseConcatBatchOperator, VimmerseCreateBatchOperator
from airflow_provider_vimmerse.operators.media import VimmerseCreateMediaOperator, VimmerseUpdateMediaOperator
from airflow_provider_vimmerse.operators.story import VimmerseConcatStoryOperator, VimmerseIdeaToVideoOperator

START = pendulum.datetime(2026, 1, 1, tz="UTC")
WAIT = {{"deferrable": True, "poll_interval": {poll}}}

with DAG("rerun_setup", schedule=None, start_date=START, catchup=False):
    VimmerseCreateMediaOperator(task_id="media", prompt="a paper boat", **WAIT)
    VimmerseCreateBatchOperator(
        task_id="batch", image_urls=["{images}/a.png", "{images}/b.png"], prompt="slow push-in", **WAIT
    )
    VimmerseIdeaToVideoOperator(task_id="story", idea="a shop opens its doors", scene_count=2, **WAIT)

with DAG("rerun_waits", schedule=None, start_date=START, catchup=False):
    VimmerseUpdateMediaOperator(
        task_id="regenerate", media_id="{{{{ dag_run.conf['media_id'] }}}}", duration=6, **WAIT
    )
    VimmerseConcatBatchOperator(task_id="concat_batch", batch_id="{{{{ dag_run.conf['batch_id'] }}}}", **WAIT)
    VimmerseConcatStoryOperator(task_id="concat_story", story_id="{{{{ dag_run.conf['story_id'] }}}}", **WAIT)
"""


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AirflowCluster, SandboxClient]]:
    dags = tmp_path_factory.mktemp("rerun-dags")
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(sandbox_in_thread(job_seconds=3))
        images = f"{server.url}/_sandbox/files"
        (dags / "rerun_dags.py").write_text(textwrap.dedent(DAGS.format(poll=POLL_SECONDS, images=images)))
        api_key = server.state.settings.api_keys[0]
        # 4 slots for 3 tasks: with fewer, the executor reports a deferred try's first stint late, and
        # Airflow 3.3's scheduler then fails the already resumed try ("task state changed externally").
        cluster = stack.enter_context(
            AirflowCluster(dags, parallelism=4, env={CONN_ENV_VAR: sandbox_conn_uri(server.url, api_key)})
        )
        yield cluster, stack.enter_context(SandboxClient(server.url))


def failures(cluster: AirflowCluster, dag_id: str, run_id: str) -> str:
    """Return the logs of the run's failed tasks, for an assertion message."""
    failed = [ti for ti in cluster.task_instances(dag_id, run_id) if ti.state != "success"]
    return "\n".join(
        f"--- {ti.key} {ti.state}\n{cluster.task_log(dag_id, run_id, ti.task_id, ti.try_number)[-3000:]}"
        for ti in failed
    )


def when(entry: dict[str, Any]) -> dt.datetime:
    """Return the time of a sandbox ledger entry."""
    return dt.datetime.fromisoformat(entry["time"])


def test_regeneration_and_concat_take_only_the_new_run_while_deferred(deployment):
    cluster, sandbox = deployment
    sandbox.reset()
    # Jobs of 10 s: a trigger that fires within a second or two of the deferral can race the executor's
    # report of the first stint (see the deployment fixture).
    sandbox.configure(job_seconds=10, stale_success_seconds=1, compose_seconds=2)
    setup = cluster.trigger("rerun_setup")
    assert cluster.wait_for_run("rerun_setup", setup, timeout=240) == "success", failures(cluster, "rerun_setup", setup)
    before = {task: cluster.xcom("rerun_setup", setup, task) for task in ("media", "batch", "story")}
    assert all(before[task]["video_urls"] for task in before)

    sandbox.configure(stale_success_seconds=STALE_SECONDS, compose_seconds=COMPOSE_SECONDS)
    conf = {"media_id": before["media"]["id"], "batch_id": before["batch"]["id"], "story_id": before["story"]["id"]}
    started = time.monotonic()
    run = cluster.trigger("rerun_waits", conf=conf)

    # While the run goes on, sample the tasks' states: the waits sit in the triggerer, not on a worker.
    samples: Counter[tuple[str, str | None]] = Counter()

    def finished() -> bool:
        for ti in cluster.task_instances("rerun_waits", run):
            samples[(ti.task_id, ti.state)] += 1
        return cluster.run_state("rerun_waits", run) in ("success", "failed")

    wait_until(finished, COMPOSE_SECONDS + 240, "the re-run DAG to end", interval=3)
    elapsed = time.monotonic() - started
    assert cluster.run_state("rerun_waits", run) == "success", failures(cluster, "rerun_waits", run)
    assert elapsed >= COMPOSE_SECONDS, "the concat tasks cannot end before the video is composed"

    for task in ("concat_batch", "concat_story"):
        deferred, running = samples[(task, "deferred")], samples[(task, "running")]
        assert deferred >= 40 and running <= 4, f"{task} waited deferred, holding no worker slot: {samples}"
    assert {"concat_batch", "concat_story", "regenerate"} <= cluster.deferred_tasks("rerun_waits", run)

    # Concat: one paid request each; the new composed video, not the one from before.
    for task, kind, group in (("concat_batch", "batch", "batch_id"), ("concat_story", "story", "story_id")):
        [concat] = sandbox.ledger(path=f"/{kind}/{conf[group]}/concat", method="POST")
        assert concat["credits"] > 0
        after = cluster.xcom("rerun_waits", run, task)
        assert after["status"] == "success" and after["video_urls"]
        assert after["video_urls"] != before[task.removeprefix("concat_")]["video_urls"]
        assert "being composed" in cluster.task_log("rerun_waits", run, task, 1)

    # Regeneration: one paid edit; the old success was read for several polls and not taken.
    media_id = conf["media_id"]
    [edit] = sandbox.ledger(path=f"/media/{media_id}/edit", method="PUT")
    assert edit["created"] and edit["credits"] > 0
    paid = [e for e in sandbox.ledger() if e.get("credits") and e["path"].startswith(f"/media/{media_id}")]
    assert paid == [edit], "one credit-spending request for the regeneration"
    edited_at = when(edit)
    stale_polls = [
        e
        for e in sandbox.ledger(path=f"/media/{media_id}/processing-status", method="GET")
        if edited_at < when(e) < edited_at + dt.timedelta(seconds=STALE_SECONDS)
    ]
    assert len(stale_polls) >= 3, "several polls read the old success"
    result = cluster.xcom("rerun_waits", run, "regenerate")
    assert result["status"] == "success"
    assert dt.datetime.fromisoformat(result["updated_at"]) > edited_at + dt.timedelta(seconds=STALE_SECONDS)
    assert result["video_urls"] == [f"{sandbox.url}/media/{media_id}/download?object_type=bullet_video_mp4"]
    log = cluster.task_log("rerun_waits", run, "regenerate", 1)
    assert "still shows the run from before the regeneration" in log
