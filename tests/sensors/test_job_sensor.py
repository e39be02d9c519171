"""VimmerseJobSensor in a real Airflow (``dag.test()``), waiting on jobs another task started in the sandbox."""

from __future__ import annotations

import pytest

from airflow_provider_vimmerse.api.endpoints import ApiRequest, form_fields
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.links.vimmerse import XCOM_KEY
from airflow_provider_vimmerse.sensors.job import VimmerseJobSensor
from tests.dag_runs import new_dag, python_task, run_dag

#: Poke from a worker, or wait in the triggerer: every behaviour is checked both ways.
MODES = pytest.mark.parametrize("deferrable", [False, True], ids=["poke", "deferrable"])


@pytest.fixture(autouse=True)
def quick_jobs(vimmerse_sandbox):
    """Jobs run a second: still running at the sensor's first check, done a few checks later."""
    vimmerse_sandbox.client.configure(job_seconds=1)


def start_media(prompt: str) -> str:
    """Start a media straight through the API, as another system would, and return its id."""
    req = ApiRequest("POST", "/media", form=form_fields({"prompt": prompt}), spends_credits=True)
    return VimmerseHook().request(req)["data"]["id"]


def sense(tmp_path, capsys, caplog, name: str, prompt: str, deferrable: bool, **kwargs):
    """Run ``start >> wait``: a plain task starts a media, the sensor waits on it. Return the run's result."""
    dag = new_dag(f"sensor_{name}_{'deferrable' if deferrable else 'poke'}", tmp_path)
    with dag:
        start = python_task("start", start_media, op_args=[prompt])
        wait = VimmerseJobSensor(
            task_id="wait",
            kind="media",
            job_id="{{ ti.xcom_pull(task_ids='start') }}",
            poke_interval=0.2,
            deferrable=deferrable,
            **kwargs,
        )
        start >> wait
    result = run_dag(dag, tmp_path, ["start", "wait"], keys=["return_value", XCOM_KEY])
    logs = capsys.readouterr().out + caplog.text
    assert ("VimmerseJobTrigger" in logs) == deferrable, "the deferrable sensor waited in the trigger, poke did not"
    return result


@MODES
def test_the_sensor_returns_the_result_of_a_job_started_elsewhere(
    vimmerse_sandbox, airflow_db, tmp_path, capsys, caplog, deferrable
):
    result = sense(tmp_path, capsys, caplog, "success", "a heron taking off", deferrable)

    assert result.states == {"start": "success", "wait": "success"}
    media_id, value = result.xcom("start"), result.xcom("wait")
    assert (value["kind"], value["id"], value["status"], value["progress"]) == ("media", media_id, "success", 100)
    # A media's video comes only from its download route (its "result" is []): one URL per media.
    assert value["video_urls"] == [f"{vimmerse_sandbox.url}/media/{media_id}/download?object_type=bullet_video_mp4"]
    assert value["web_url"] == result.xcom("wait", XCOM_KEY) == f"{vimmerse_sandbox.url}/app/media/{media_id}"
    assert "pose_preset" not in value and "file_map" not in value, "a small result, not the raw object"


@MODES
def test_a_failed_job_fails_the_sensor_even_with_soft_fail(
    vimmerse_sandbox, airflow_db, tmp_path, capsys, caplog, deferrable
):
    result = sense(tmp_path, capsys, caplog, "job_fails", "a heron [sandbox:fail]", deferrable, soft_fail=True)

    assert result.states["wait"] == "failed", "soft_fail is for the sensor's own timeout, not for a failed job"
    [error] = result.errors_of("wait")
    # A failed media carries no reason in any API document: the sensor fails naming the job and says so.
    assert f"media {result.xcom('start')} failed on the Vimmerse side: no reason given" in error


@MODES
def test_skip_on_job_failure_skips_the_sensor(vimmerse_sandbox, airflow_db, tmp_path, capsys, caplog, deferrable):
    result = sense(
        tmp_path, capsys, caplog, "job_skips", "a heron [sandbox:cancel]", deferrable, skip_on_job_failure=True
    )

    assert result.states["wait"] == "skipped"
    assert result.errors_of("wait") == []


@MODES
def test_a_sensor_timeout_with_soft_fail_skips(vimmerse_sandbox, airflow_db, tmp_path, capsys, caplog, deferrable):
    result = sense(
        tmp_path, capsys, caplog, "timeout", "a heron [sandbox:never]", deferrable, timeout=1, soft_fail=True
    )

    assert result.states["wait"] == "skipped"
