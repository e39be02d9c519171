"""
Webhook-driven waits in a real Airflow 3.3: the sandbox calls the receiver, the deferred task wakes.

The package's deployment (``conftest.py``) configures ``webhook_base_url`` and ``webhook_secret`` and a
connection ``vimmerse_webhooks`` whose extra turns webhooks on (the deployment default stays off, so no
other test changes). The DAGs below, written into the deployment's DAG folder, wait on that connection.
The sandbox's ledger counts the status requests; its webhook log shows each delivery and the answer.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import time
from collections import Counter
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

from airflow_provider_vimmerse.api.webhooks import HINT_KEY, RECEIVER_PATH, SIGNATURE_PARAM, WebhookTarget
from tests.cluster import cluster_test_marks, wait_until
from tests.native.conftest import JOB_SECONDS, WEBHOOK_CHECK_INTERVAL, WEBHOOK_CONN_ID, WEBHOOK_SECRET

pytestmark = cluster_test_marks(reason="the webhook receiver and hint-reading triggers need Airflow 3.3", timeout=900)

#: The waits of the two-triggerer test, and how many each of its two triggerers may hold (so both hold some).
FANOUT_TASKS = 8
PER_TRIGGERER = FANOUT_TASKS // 2

DAG_FILE = f'''
import pendulum
from airflow.sdk import DAG
from airflow_provider_vimmerse.operators.media import VimmerseCreateMediaOperator
from airflow_provider_vimmerse.operators.story import VimmerseIdeaToVideoOperator

start = pendulum.datetime(2026, 1, 1, tz="UTC")
with DAG("vimmerse_webhook_waits", schedule=None, start_date=start, catchup=False):
    VimmerseCreateMediaOperator(
        task_id="media", prompt="{{{{ dag_run.conf.get('prompt', 'a lighthouse') }}}}",
        vimmerse_conn_id="{WEBHOOK_CONN_ID}", deferrable=True, timeout=600,
    )
    VimmerseIdeaToVideoOperator(
        task_id="story", idea="a lighthouse keeper's day", scene_count=2,
        vimmerse_conn_id="{WEBHOOK_CONN_ID}", deferrable=True, timeout=600,
    )
with DAG("vimmerse_webhook_lost", schedule=None, start_date=start, catchup=False):
    # webhooks on, but the sandbox drops the delivery: the safety-net poll (every 15 s here) ends the wait
    VimmerseCreateMediaOperator(
        task_id="media", prompt="a lighthouse", vimmerse_conn_id="{WEBHOOK_CONN_ID}", deferrable=True,
        poll_interval=15, timeout=600,
    )
with DAG("vimmerse_webhook_fanout", schedule=None, start_date=start, catchup=False):
    # eight waits, shared by two triggerers; their deliveries reach a second api-server
    for number in range({FANOUT_TASKS}):
        VimmerseCreateMediaOperator(
            task_id=f"media_{{number}}", prompt=f"lighthouse number {{number}}", vimmerse_conn_id="{WEBHOOK_CONN_ID}",
            deferrable=True, timeout=600,
        )
with DAG("vimmerse_webhook_restart", schedule=None, start_date=start, catchup=False):
    # its triggerer is killed and started again while the job runs
    VimmerseCreateMediaOperator(
        task_id="media", prompt="a lighthouse in a storm", vimmerse_conn_id="{WEBHOOK_CONN_ID}", deferrable=True,
        timeout=600,
    )
'''


def install_dags(deployment) -> None:
    path = deployment.cluster.dags_folder / "vimmerse_webhook_test_dags.py"
    if not path.exists():
        path.write_text(DAG_FILE)


def job_of(deployment, dag_id: str, run_id: str, task_id: str) -> dict:
    return deployment.cluster.xcom(dag_id, run_id, task_id)


def trigger_log(
    cluster, run_id: str, task_id: str, dag_id: str = "vimmerse_webhook_waits"
) -> list[tuple[str, dt.datetime]]:
    """Return ``("started" | "fired", when)`` of the task's trigger, in order, from the triggerers' logs of the task."""
    folder = cluster.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
    found = []
    for path in sorted(folder.glob("attempt=1.log.trigger.*.log")):  # one file per triggerer that ran it
        for line in path.read_text().splitlines():
            entry = json.loads(line) if line.startswith("{") else {}
            event = str(entry.get("event", ""))
            if event.startswith("trigger ") and event.endswith(" starting"):
                found.append(("started", dt.datetime.fromisoformat(entry["timestamp"])))
            if event == "Trigger fired event":
                found.append(("fired", dt.datetime.fromisoformat(entry["timestamp"])))
    return sorted(found, key=lambda item: item[1])


def trigger_times(cluster, run_id: str, task_id: str) -> tuple[dt.datetime, dt.datetime]:
    """Return when the task's trigger started and when it fired its event, from the triggerer's log of the task."""
    times: dict[str, dt.datetime] = {}
    for what, when in trigger_log(cluster, run_id, task_id):
        times[what] = times.get(what, when) if what == "started" else when
    assert set(times) == {"started", "fired"}, f"trigger start and event not logged for {task_id} in {run_id}"
    return times["started"], times["fired"]


def status_reads(deployment, path: str) -> int:
    return len(deployment.sandbox.ledger(path=path))


def deliveries(deployment, job_id: str) -> list[dict]:
    return [entry for entry in deployment.sandbox.webhooks() if entry["job_id"] == job_id]


def test_the_sandbox_delivery_wakes_the_deferred_tasks_with_few_requests(deployment):
    install_dags(deployment)
    deployment.sandbox.configure(job_seconds=40)  # the jobs end while their tasks are deferred
    try:
        run_id, state = deployment.run("vimmerse_webhook_waits", timeout=300)
    finally:
        deployment.sandbox.configure(job_seconds=JOB_SECONDS)
    assert state == "success", deployment.cluster.diagnostics()
    cluster = deployment.cluster
    assert {"media", "story"} <= cluster.deferred_tasks("vimmerse_webhook_waits", run_id)
    tis = {ti.task_id: ti for ti in cluster.task_instances("vimmerse_webhook_waits", run_id)}
    for task_id, kind, status_path in (
        ("media", "media", "/media/{}/processing-status"),
        ("story", "story", "/story/{}"),
    ):
        job_id = job_of(deployment, "vimmerse_webhook_waits", run_id, task_id)["id"]
        sent = deliveries(deployment, job_id)
        assert len(sent) == 1 and sent[0]["status"] == 200, sent
        assert sent[0]["url"].startswith(f"{cluster.api_url}{RECEIVER_PATH}?kind={kind}&dag_id=vimmerse_webhook_waits")
        query = dict(parse_qsl(urlsplit(sent[0]["url"]).query))
        # the URL belongs to try 1 and expires with the wait (timeout=600, counted from the plan)
        assert query["try"] == "1" and tis[task_id].try_number == 1
        assert 600 + 300 <= int(query["exp"]) - tis[task_id].start_date.timestamp() <= 600 + 300 + 60
        hint = cluster.xcom("vimmerse_webhook_waits", run_id, task_id, key=HINT_KEY)
        assert hint["job_id"] == job_id, "the receiver recorded the hint on the waiting task instance"
        delivered = dt.datetime.fromisoformat(sent[0]["time"])
        started, fired_at = trigger_times(cluster, run_id, task_id)
        assert delivered > started, "the delivery came while the task was deferred"
        fired = (fired_at - delivered).total_seconds()
        ended = (tis[task_id].end_date - delivered).total_seconds()
        reads = status_reads(deployment, status_path.format(job_id))
        print(f"{task_id}: event {fired:.1f} s, task end {ended:.1f} s after the delivery; {reads} status reads")
        if task_id == "media":
            # one read on the worker before deferring, one to confirm the hint: no polling in between
            assert reads == 2
            assert fired < WEBHOOK_CHECK_INTERVAL + 3, "the trigger's event within seconds of the delivery"
    log = cluster.task_log("vimmerse_webhook_waits", run_id, "media", try_number=1)
    assert "woken by webhooks" in log and "webhook says 'success'; checking the status now" in log
    assert WEBHOOK_SECRET not in log and deployment.api_key not in log


def test_forged_and_foreign_deliveries_change_nothing(deployment):
    install_dags(deployment)
    cluster, sandbox = deployment.cluster, deployment.sandbox
    sandbox.configure(job_seconds=30)
    try:
        deployment.unpause("vimmerse_webhook_waits")
        run_id = cluster.trigger("vimmerse_webhook_waits")
        wait_until(
            lambda: "media" in cluster.deferred_tasks("vimmerse_webhook_waits", run_id), 120, "the media task to defer"
        )
        target = WebhookTarget(
            "media", "vimmerse_webhook_waits", run_id, "media", try_number=1, expires_at=int(time.time()) + 600
        )
        url = target.url(cluster.api_url, WEBHOOK_SECRET)
        signature = dict(parse_qsl(urlsplit(url).query))[SIGNATURE_PARAM]
        # a bad signature: 403, nothing recorded
        sig = f"{SIGNATURE_PARAM}="
        forged = requests.post(url.replace(sig, f"{sig}0"), json={"media_id": "x", "status": "success"}, timeout=10)
        assert forged.status_code == 403
        unsigned = requests.post(url.split(f"&{sig}")[0], json={"media_id": "x", "status": "success"}, timeout=10)
        assert unsigned.status_code == 403
        # a genuine URL past its expiry, or of another try: refused, nothing recorded
        expired = WebhookTarget(
            "media", "vimmerse_webhook_waits", run_id, "media", try_number=1, expires_at=int(time.time()) - 1
        ).url(cluster.api_url, WEBHOOK_SECRET)
        late = requests.post(expired, json={"media_id": "x", "status": "success"}, timeout=10)
        assert late.status_code == 403 and "expired" in late.json()["detail"]
        next_try = WebhookTarget(
            "media", "vimmerse_webhook_waits", run_id, "media", try_number=2, expires_at=int(time.time()) + 600
        ).url(cluster.api_url, WEBHOOK_SECRET)
        other_try = requests.post(next_try, json={"media_id": "x", "status": "success"}, timeout=10)
        assert other_try.json() == {"recorded": False, "reason": "the URL belongs to try 2, the task is on try 1"}
        assert hint_of(cluster, run_id) is None, "only the empty hint the operator records before its submit"
        # a valid URL with another job's id: recorded (the URL is genuine), ignored by the trigger
        foreign = requests.post(
            url, json={"customer_id": "c", "media_id": "not-this-job", "status": "success"}, timeout=10
        )
        assert foreign.status_code == 200 and foreign.json() == {"recorded": True}
        time.sleep(WEBHOOK_CHECK_INTERVAL * 2 + 1)
        states = {ti.task_id: ti.state for ti in cluster.task_instances("vimmerse_webhook_waits", run_id)}
        assert states["media"] == "deferred", "a hint for another job does not end the wait"
        state = cluster.wait_for_run("vimmerse_webhook_waits", run_id, 300)
    finally:
        sandbox.configure(job_seconds=JOB_SECONDS)
    assert state == "success"
    job_id = job_of(deployment, "vimmerse_webhook_waits", run_id, "media")["id"]
    # the worker's read, and the real delivery's confirmation; the foreign hint cost nothing
    assert status_reads(deployment, f"/media/{job_id}/processing-status") == 2
    log = cluster.task_log("vimmerse_webhook_waits", run_id, "media", try_number=1)
    assert "ignoring a webhook for another job ('not-this-job'" in log
    # the api-server's access log shows each delivery with its signature masked
    access = "".join(component.log_path.read_text(errors="replace") for component in cluster.by_kind("api-server"))
    assert f"{SIGNATURE_PARAM}=%2A%2A%2A" in access and signature not in access
    # a late delivery (the task is done): answered 2xx so the API does not retry, nothing recorded
    late = requests.post(url, json={"media_id": job_id, "status": "success"}, timeout=10)
    assert late.status_code == 200 and late.json()["recorded"] is False


def hint_of(cluster, run_id: str) -> Any:
    """Return the hint recorded for the run's media task (None: the empty one the operator records first)."""
    return cluster.xcom("vimmerse_webhook_waits", run_id, "media", key="vimmerse_webhook")


def test_a_lost_delivery_costs_latency_only(deployment):
    install_dags(deployment)
    sandbox = deployment.sandbox
    sandbox.configure(deliver_webhooks=False)
    try:
        run_id, state = deployment.run("vimmerse_webhook_lost", timeout=300)
    finally:
        sandbox.configure(deliver_webhooks=True)
    assert state == "success"
    job_id = job_of(deployment, "vimmerse_webhook_lost", run_id, "media")["id"]
    assert deliveries(deployment, job_id)[0]["error"] == "not sent: deliver_webhooks is off"
    # the worker's read and the safety-net poll(s) every 15 s: no fast polling
    assert status_reads(deployment, f"/media/{job_id}/processing-status") <= 3
    print(json.dumps({"lost_delivery_status_reads": status_reads(deployment, f"/media/{job_id}/processing-status")}))


RESTART_DAG = "vimmerse_webhook_restart"
#: Long enough for the new triggerer to take the trigger over before the job ends: a killed triggerer's
#: triggers move once it has missed ``[triggerer] triggerer_health_check_threshold`` (30 s) of heartbeats.
RESTART_JOB_SECONDS = 60


def test_a_webhook_wait_survives_a_triggerer_restart(deployment):
    install_dags(deployment)
    cluster, sandbox = deployment.cluster, deployment.sandbox
    submits_before = len(sandbox.ledger(path="/media", method="POST"))
    sandbox.configure(job_seconds=RESTART_JOB_SECONDS)
    try:
        deployment.unpause(RESTART_DAG)
        run_id = cluster.trigger(RESTART_DAG)

        def held_by_a_triggerer() -> int | None:
            (ti,) = cluster.task_instances(RESTART_DAG, run_id)
            return ti.triggerer_job_id if ti.state == "deferred" else None

        old_holder = wait_until(held_by_a_triggerer, 120, "the media task's trigger to be given to the triggerer")
        folder = cluster.home / "logs" / f"dag_id={RESTART_DAG}" / f"run_id={run_id}" / "task_id=media"
        old_log = folder / f"attempt=1.log.trigger.{old_holder}.log"
        wait_until(
            lambda: old_log.exists() and "woken by webhooks" in old_log.read_text(), 60, "the trigger to start there"
        )
        (submit,) = sandbox.ledger(path="/media", method="POST")[submits_before:]
        job_id = submit["job_id"]
        triggerers = cluster.by_kind("triggerer")
        assert old_holder in {t.job_id for t in triggerers}
        for triggerer in triggerers:
            cluster.kill(triggerer)
        killed_at = dt.datetime.now(dt.timezone.utc)
        time.sleep(2)
        new = cluster.start_component("triggerer")
        restarted_at = dt.datetime.now(dt.timezone.utc)
        new_holder = wait_until(lambda: held_by_a_triggerer() == new.job_id, 90, "the new triggerer to take the wait")
        took_over_at = dt.datetime.now(dt.timezone.utc)
        assert not deliveries(deployment, job_id), "the job ended before the new triggerer took the wait over"
        state = cluster.wait_for_run(RESTART_DAG, run_id, 300)
    finally:
        sandbox.configure(job_seconds=JOB_SECONDS)
        if not cluster.by_kind("triggerer"):  # the next modules need one
            cluster.start_component("triggerer")
    assert new_holder and state == "success", cluster.diagnostics()
    assert job_of(deployment, RESTART_DAG, run_id, "media")["id"] == job_id
    assert len(sandbox.ledger(path="/media", method="POST")) == submits_before + 1, "submitted once"
    (ti,) = cluster.task_instances(RESTART_DAG, run_id)
    assert ti.try_number == 1, "no retry: the wait went on in the new triggerer"

    (sent,) = deliveries(deployment, job_id)
    assert sent["status"] == 200, sent
    delivered = dt.datetime.fromisoformat(sent["time"])
    assert killed_at < restarted_at <= took_over_at < delivered, "the job ended after the restart"
    hint = cluster.xcom(RESTART_DAG, run_id, "media", key=HINT_KEY)
    assert (hint["job_id"], hint["status"]) == (job_id, "success")
    log = trigger_log(cluster, run_id, "media", dag_id=RESTART_DAG)
    starts = [when for what, when in log if what == "started"]
    (fired_at,) = [when for what, when in log if what == "fired"]
    assert len(starts) == 2 and starts[0] < killed_at < restarted_at < starts[1] < fired_at, "started again"
    fired = (fired_at - delivered).total_seconds()
    reads = status_reads(deployment, f"/media/{job_id}/processing-status")
    print(
        json.dumps(
            {
                "restart_delivery_to_event_seconds": round(fired, 2),
                "restart_status_reads": reads,
                "restart_takeover_seconds": round((took_over_at - killed_at).total_seconds(), 1),
            }
        )
    )
    assert 0 <= fired < WEBHOOK_CHECK_INTERVAL + 3, f"the event came {fired:.1f} s after the delivery"
    # the worker's read before deferring and the one that confirmed the hint: no polling, before or after the restart
    assert reads == 2
    # each triggerer's log of the trigger: both waited on hints; the new one was woken by the delivery
    old_text, new_text = old_log.read_text(), (folder / f"attempt=1.log.trigger.{new.job_id}.log").read_text()
    assert "woken by webhooks" in old_text and "checking the status now" not in old_text
    assert "woken by webhooks" in new_text and "webhook says 'success'; checking the status now" in new_text
    for text in (old_text, new_text, cluster.task_log(RESTART_DAG, run_id, "media", try_number=1)):
        assert WEBHOOK_SECRET not in text and deployment.api_key not in text


FANOUT_DAG = "vimmerse_webhook_fanout"


def test_two_triggerers_wake_their_waits_from_deliveries_to_a_second_api_server(deployment):
    """
    The hint is in the database, not in one process: two triggerers (each may hold half the waits, so both
    hold some) wake every wait from deliveries that reach another api-server than the one the workers use.
    """
    install_dags(deployment)
    cluster, sandbox = deployment.cluster, deployment.sandbox
    for triggerer in cluster.by_kind("triggerer"):
        cluster.kill(triggerer, signal.SIGTERM)
    pair = [cluster.start_component("triggerer", args=("--capacity", str(PER_TRIGGERER))) for _ in range(2)]
    other_api_server, other_url = cluster.add_api_server()
    sent_before = len(sandbox.webhooks())
    sandbox.configure(job_seconds=30, deliver_webhooks=False)  # the test delivers each one, to the other api-server
    try:
        deployment.unpause(FANOUT_DAG)
        run_id = cluster.trigger(FANOUT_DAG)

        def holders() -> dict[str, int] | None:
            tis = cluster.task_instances(FANOUT_DAG, run_id)
            held = {ti.task_id: ti.triggerer_job_id for ti in tis if ti.state == "deferred" and ti.triggerer_job_id}
            return held if len(held) == FANOUT_TASKS else None

        held = wait_until(holders, 120, "every wait to be held by a triggerer")

        def due() -> list[dict] | None:
            entries = sandbox.webhooks()[sent_before:]
            return entries if len(entries) == FANOUT_TASKS else None

        posted: dict[str, tuple[dt.datetime, requests.Response]] = {}
        for entry in wait_until(due, 120, "every job to end"):
            parts = urlsplit(entry["url"])
            assert f"{parts.scheme}://{parts.netloc}" == cluster.api_url, "the URL names the deployment's base URL"
            when = dt.datetime.now(dt.timezone.utc)
            answer = requests.post(f"{other_url}{parts.path}?{parts.query}", json=entry["payload"], timeout=10)
            posted[entry["job_id"]] = (when, answer)
        state = cluster.wait_for_run(FANOUT_DAG, run_id, 300)
    finally:
        sandbox.configure(job_seconds=JOB_SECONDS, deliver_webhooks=True)
        for component in (other_api_server, *pair):
            cluster.kill(component, signal.SIGTERM)
        cluster.start_component("triggerer")  # as the package's deployment had
    assert state == "success", cluster.run_report(FANOUT_DAG, run_id)
    assert sorted(Counter(held.values()).values()) == [PER_TRIGGERER, PER_TRIGGERER], held
    assert set(held.values()) == {triggerer.job_id for triggerer in pair}, "both triggerers held waits"
    assert all(answer.status_code == 200 and answer.json() == {"recorded": True} for _, answer in posted.values())

    delays = []
    for number in range(FANOUT_TASKS):
        task_id = f"media_{number}"
        job_id = job_of(deployment, FANOUT_DAG, run_id, task_id)["id"]
        assert cluster.xcom(FANOUT_DAG, run_id, task_id, key=HINT_KEY)["job_id"] == job_id
        (fired_at,) = [
            when for what, when in trigger_log(cluster, run_id, task_id, dag_id=FANOUT_DAG) if what == "fired"
        ]
        delays.append((fired_at - posted[job_id][0]).total_seconds())
        assert status_reads(deployment, f"/media/{job_id}/processing-status") == 2, "before deferring, then the hint"
    print(json.dumps({"two_triggerers_delivery_to_event_seconds": sorted(round(d, 2) for d in delays)}))
    assert max(delays) < WEBHOOK_CHECK_INTERVAL + 5, "each event within seconds of its delivery"
