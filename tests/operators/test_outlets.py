"""
The asset (Airflow 2: dataset) event a Vimmerse task emits: its ``extra`` names the job, its outputs, credits
and, for a download, the files written; a DAG scheduled on the asset reads it with no XCom.

The builder is checked on the documents' own answers; the producer side runs for real with ``dag.test()`` on
both Airflow versions, and the publish example's reading code is fed the event rows that run wrote. The
scheduled consumer run itself needs a scheduler: ``tests/native/test_assets.py`` (Airflow 3).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_vimmerse.api.jobs import JOB_KINDS, job_object
from airflow_provider_vimmerse.api.responses import expect_object
from airflow_provider_vimmerse.api.results import asset_extra, build_result, downloads_extra
from airflow_provider_vimmerse.operators.delete import VimmerseDeleteJobOperator
from airflow_provider_vimmerse.operators.download import VimmerseDownloadOperator
from airflow_provider_vimmerse.operators.media import VimmerseCreateMediaOperator
from airflow_provider_vimmerse.operators.workflow import VimmerseCreateWorkflowOperator
from airflow_provider_vimmerse.sensors.job import VimmerseJobSensor
from tests.cluster import airflow_major
from tests.conftest import REPO
from tests.contract.examples import openapi_example
from tests.dag_runs import new_dag, run_dag
from tests.operators.conftest import FAST

API = "https://api.vimmerse.net"
#: The keys every job's extra has, whatever the kind.
JOB_KEYS = {"kind", "id", "status", "title", "web_url", "urls", "used_credits"}


def documented_result(kind: str, method: str, path: str) -> dict[str, Any]:
    """Return the result the provider builds from a documented answer of ``method path``."""
    example = openapi_example(method, path)
    obj = expect_object(job_object(JOB_KINDS[kind], example.body), method=method, path=path)
    return dict(build_result(JOB_KINDS[kind], "JOB_ID", obj, web_url="https://app.example/job", api_url=API))


def example_module(name: str) -> Any:
    """Import ``example_dags/<name>.py`` (its folder on the import path, as Airflow puts the DAGs folder)."""
    folder = str(REPO / "example_dags")
    if folder not in sys.path:
        sys.path.append(folder)
    spec = importlib.util.spec_from_file_location(f"example_module_{name}", REPO / "example_dags" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------- the builder, on documented answers


def test_a_documented_media_gives_its_download_url_and_no_credits():
    """media.txt's media reports no ``used_credits``: the extra says None, not 0, and keeps the same keys."""
    extra = asset_extra(documented_result("media", "GET", "/media/{media_id}"))
    assert extra.keys() == JOB_KEYS
    assert (extra["kind"], extra["status"], extra["used_credits"]) == ("media", "success", None)
    assert len(extra["urls"]) == 1 and extra["urls"][0].startswith(f"{API}/media/")
    assert json.loads(json.dumps(extra)) == extra, "plain JSON, as Airflow stores an event's extra"


def test_a_documented_story_reports_its_credits_and_media():
    result = documented_result("story", "GET", "/story/{story_id}")
    extra = asset_extra(result)
    assert extra["used_credits"] == result["used_credits"] and isinstance(extra["used_credits"], (int, float))
    assert extra["status"] == "processing" and extra["urls"] == []
    assert [m["id"] for m in extra.get("media", [])] == [m["id"] for m in result.get("medias", [])]


@pytest.mark.parametrize(
    "result",
    [
        {},
        {"kind": "media", "id": "m1", "status": "", "video_urls": None, "used_credits": True},
        {"kind": "asset", "id": "", "video_urls": ["", None, "https://cdn.example/a.png"], "web_url": ""},
    ],
    ids=["empty", "no-credits-no-urls", "blank-values"],
)
def test_awkward_results_give_the_same_keys_with_none_for_what_is_unknown(result):
    extra = asset_extra(result)
    assert extra.keys() == JOB_KEYS
    assert extra["used_credits"] is None, "a missing (or boolean) credits value is unknown, not a number"
    assert all(extra[key] is None or extra[key] for key in ("kind", "id", "status", "web_url")), "no empty strings"
    assert all(isinstance(url, str) and url for url in extra["urls"])
    assert json.loads(json.dumps(extra)) == extra


def test_a_download_adds_its_paths_and_several_jobs_are_listed():
    one = downloads_extra([({"kind": "media", "id": "m1", "video_urls": ["https://x/a.mp4"]}, ["/v/a.mp4"])])
    assert one["paths"] == ["/v/a.mp4"] and one["id"] == "m1"
    two = downloads_extra(
        [({"kind": "media", "id": "m1"}, ["/v/a.mp4"]), ({"kind": "batch", "id": "b1"}, ["/v/b.mp4"])]
    )
    assert [job["id"] for job in two["jobs"]] == ["m1", "b1"]
    assert two["paths"] == ["/v/a.mp4", "/v/b.mp4"]


# ---------------------------------------------------------------------- a real run writes the events


def asset_events(dag_id: str) -> list[Any]:
    """Return the asset (dataset) events the DAG's tasks emitted, as the metadata database holds them."""
    if airflow_major() >= 3:
        from airflow.models.asset import AssetEvent as Event
    else:
        from airflow.models.dataset import DatasetEvent as Event
    from airflow.utils.session import create_session

    with create_session() as session:
        events = session.query(Event).filter(Event.source_dag_id == dag_id).order_by(Event.id).all()
        session.expunge_all()
    return events


def register_assets(dag: Any) -> None:
    """
    Airflow 2: write the DAG and its datasets to the database, as its scheduler would after parsing the file.

    Airflow 2 records an event only for a dataset it knows; ``dag.test()`` there does not write the DAG
    (on Airflow 3 :func:`tests.dag_runs.run_dag` does, assets included).
    """
    if airflow_major() < 3:
        dag.sync_to_db()


def test_a_run_writes_each_task_s_job_into_its_asset_event_and_the_publish_example_reads_it(
    vimmerse_sandbox, airflow_db, tmp_path
):
    vimmerse_sandbox.client.configure(job_seconds=1)
    videos = example_module("vimmerse_assets").VIDEOS
    publish = example_module("vimmerse_publish")
    from airflow.providers.common.compat.sdk import Asset

    made = Asset("vimmerse://test/made")
    dag = new_dag("vimmerse_outlets_producer", tmp_path, deferrable=True, **FAST)
    create = VimmerseCreateMediaOperator(
        task_id="create", prompt="a paper boat", image_urls=["https://cdn.example/boat.png"], outlets=[made], dag=dag
    )
    watch = VimmerseJobSensor(
        task_id="watch", kind="media", job_id="{{ ti.xcom_pull('create')['id'] }}", outlets=[made], dag=dag
    )
    download = VimmerseDownloadOperator(
        task_id="download", job=create.output, destination=str(tmp_path / "videos"), outlets=[videos], dag=dag
    )
    create >> watch >> download
    register_assets(dag)
    run = run_dag(dag, tmp_path, xcom_tasks=["create", "download"])
    assert set(run.states.values()) == {"success"}, run.states

    events = {event.source_task_id: event for event in asset_events("vimmerse_outlets_producer")}
    assert events.keys() == {"create", "watch", "download"}
    result, paths = run.xcom("create"), run.xcom("download")
    for task_id in ("create", "watch"):
        extra = events[task_id].extra
        assert (extra["kind"], extra["id"], extra["status"]) == ("media", result["id"], "success"), task_id
        assert extra["urls"] == result["video_urls"] and extra["used_credits"] is None
        assert extra["web_url"] == result["web_url"]
    download_extra = events["download"].extra
    assert download_extra["id"] == result["id"] and download_extra["paths"] == paths
    assert all(Path(path).is_file() and not path.endswith(".part") for path in paths)
    assert vimmerse_sandbox.api_key not in json.dumps([event.extra for event in events.values()])

    # The publish example, fed the events this run wrote, publishes each file and says which job made it.
    published = publish.videos_of([events["download"]])
    assert [video["path"] for video in published] == paths
    assert published[0]["job"]["id"] == result["id"] and published[0]["output_url"] == result["video_urls"][0]
    assert published[0]["made_by"].startswith("vimmerse_outlets_producer/")
    manifest = json.loads(Path(publish.write_manifest(str(tmp_path / "videos"), published, "test-run")).read_text())
    assert list(manifest["videos"]) == paths and manifest["credits_reported"] == 0


def test_a_task_without_outlets_emits_no_event(vimmerse_sandbox, airflow_db, tmp_path):
    vimmerse_sandbox.client.configure(job_seconds=0.5)
    dag = new_dag("vimmerse_outlets_none", tmp_path, **FAST)
    VimmerseCreateMediaOperator(task_id="create", prompt="a kite", dag=dag)
    register_assets(dag)
    assert run_dag(dag, tmp_path).states == {"create": "success"}
    assert asset_events("vimmerse_outlets_none") == []


def test_a_delete_says_which_job_is_gone_in_its_event(vimmerse_sandbox, airflow_db, tmp_path):
    vimmerse_sandbox.client.configure(job_seconds=0.5)
    from airflow.providers.common.compat.sdk import Asset

    gone = Asset("vimmerse://test/deleted")
    dag = new_dag("vimmerse_outlets_delete", tmp_path, **FAST)
    create = VimmerseCreateWorkflowOperator(task_id="create", image_urls=["https://img.test/shoe.png"], dag=dag)
    VimmerseDeleteJobOperator(task_id="delete", kind="workflow", job_id=create.output, outlets=[gone], dag=dag)
    register_assets(dag)
    run = run_dag(dag, tmp_path, xcom_tasks=["create"])
    assert run.states == {"create": "success", "delete": "success"}

    (event,) = asset_events("vimmerse_outlets_delete")
    job_id = run.xcom("create")["id"]
    assert job_id not in vimmerse_sandbox.state.workflows
    assert event.source_task_id == "delete"
    assert {key: event.extra[key] for key in ("kind", "id", "status", "urls")} == {
        "kind": "workflow", "id": job_id, "status": "deleted", "urls": []
    }  # fmt: skip
    assert event.extra.keys() >= JOB_KEYS
