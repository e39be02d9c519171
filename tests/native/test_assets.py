"""
The content-production example's videos asset in a real Airflow 3: its events carry each job, and the
publish example, scheduled on the asset, publishes exactly what they name.

One run of ``vimmerse_content_production`` (the package fixture ``content_production``, one product)
downloads every output with ``outlets=[VIDEOS]``; the scheduler starts ``vimmerse_publish`` runs
(``asset_triggered``) from those events, and nothing passes between the two DAGs but the events' extras.
Everything is read back as a user would: Airflow's REST API and the files on disk.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.cluster import TERMINAL_RUN_STATES, cluster_test_marks, wait_until
from tests.native.conftest import Deployment, ProductionRun

pytestmark = cluster_test_marks(
    reason="Airflow 2 starts a dataset-triggered run only from its scheduler, and tests/cluster.py runs Airflow 3 "
    "only; tests/operators/test_outlets.py checks the events and the publish code on 2.11",
    timeout=1200,
)

PRODUCER, PUBLISH = "vimmerse_content_production", "vimmerse_publish"
VIDEOS_URI = "vimmerse://videos/content-production"
#: Jobs of a one-product run: its video, the showcase batch, the story of the day, its page story, its photo story.
DOWNLOADS = 5


def read_events(deployment: Deployment, path: str, **params: Any) -> list[dict[str, Any]]:
    """
    Return asset events from the REST API, once it can answer.

    Airflow 3.3 answers 500 for an event whose consumer run is still queued (the run has no
    ``start_date`` yet, and the answer's model requires one), so a 500 is asked again.
    """

    def answer() -> list[dict[str, Any]] | None:
        try:
            return deployment.cluster.api("GET", path, params=params)["asset_events"]
        except requests.HTTPError as error:
            if error.response is not None and error.response.status_code == 500:
                return None
            raise

    return wait_until(answer, 60, f"GET {path} to answer")


@pytest.fixture(scope="module")
def produced(deployment: Deployment, content_production: ProductionRun) -> dict[str, Any]:
    """Return the producer run's jobs, downloaded paths and asset events, as the REST API gives them."""
    assert content_production.state == "success", deployment.cluster.diagnostics()
    cluster, run_id = deployment.cluster, content_production.run_id
    events = read_events(deployment, "/assets/events", source_dag_id=PRODUCER, source_run_id=run_id)
    jobs = cluster.xcom(PRODUCER, run_id, "list_jobs")
    return {"events": events, "jobs": jobs, "paths": cluster.xcom(PRODUCER, run_id, "download")}


@pytest.fixture(scope="module")
def publish_runs(deployment: Deployment, produced: dict[str, Any]) -> list[dict[str, Any]]:
    """Wait until ``vimmerse_publish`` runs consumed every event of the producer run and ended; return those runs."""
    cluster = deployment.cluster
    wanted = {event["id"] for event in produced["events"]}

    def consumed_all() -> list[dict[str, Any]] | None:
        runs = cluster.api("GET", f"/dags/{PUBLISH}/dagRuns", params={"limit": 100})["dag_runs"]
        for run in runs:
            upstream = read_events(deployment, f"/dags/{PUBLISH}/dagRuns/{run['dag_run_id']}/upstreamAssetEvents")
            run["events"] = [event for event in upstream if event["id"] in wanted]
        ours = [run for run in runs if run["events"]]
        seen = {event["id"] for run in ours for event in run["events"]}
        done = all(run["state"] in TERMINAL_RUN_STATES for run in ours)
        return ours if seen == wanted and done else None

    try:
        return wait_until(consumed_all, 180, "vimmerse_publish to take every videos event", interval=2)
    except TimeoutError as error:
        runs = cluster.api("GET", f"/dags/{PUBLISH}/dagRuns", params={"limit": 100})["dag_runs"]
        seen = [(run["dag_run_id"], run["run_type"], run["state"]) for run in runs]
        queued = cluster.api("GET", f"/dags/{PUBLISH}/assets/queuedEvents")
        assets = cluster.api("GET", "/assets", params={"uri_pattern": "vimmerse"})
        raise AssertionError(
            f"{error}: runs {seen}; queued {queued}; assets {assets}\n{cluster.diagnostics(60)}"
        ) from None


def test_the_download_s_event_lists_each_job_and_the_files_it_wrote(produced, content_production):
    [event] = produced["events"]
    jobs, paths = produced["jobs"], produced["paths"]
    assert (event["uri"], event["source_task_id"]) == (VIDEOS_URI, "download")
    extra = event["extra"]
    assert len(jobs) == DOWNLOADS and len(extra["jobs"]) == DOWNLOADS
    assert extra["paths"] == paths, "every file, as the task returned them"
    written = iter(paths)
    for entry, job in zip(extra["jobs"], jobs, strict=True):
        assert (entry["kind"], entry["id"], entry["status"]) == (job["kind"], job["id"], job["status"])
        assert entry["urls"] == job["video_urls"] and entry["web_url"] == job["web_url"]
        assert entry["used_credits"] == job.get("used_credits"), "the credits the API reported, or None"
        assert entry["paths"] == [next(written) for _ in job["video_urls"]], "each job's own files"
    for path in paths:
        assert Path(path).parent == content_production.folder and Path(path).is_file()
        assert not path.endswith(".part")
    assert {entry["kind"] for entry in extra["jobs"]} == {"media", "batch", "story"}
    assert any(isinstance(entry["used_credits"], (int, float)) for entry in extra["jobs"]), "groups say"


def test_publish_runs_from_the_events_and_publishes_every_video(deployment, produced, publish_runs, content_production):
    assert publish_runs and {run["run_type"] for run in publish_runs} == {"asset_triggered"}
    assert {run["state"] for run in publish_runs} == {"success"}
    all_paths = sorted(produced["paths"])
    published = [
        video for run in publish_runs for video in deployment.cluster.xcom(PUBLISH, run["dag_run_id"], "publish") or []
    ]
    assert sorted(video["path"] for video in published) == all_paths, "each video published once"

    manifest = json.loads((content_production.folder / "published.json").read_text())
    assert sorted(manifest["videos"]) == all_paths
    by_path = {path: job for job in produced["events"][0]["extra"]["jobs"] for path in job["paths"]}
    for path, entry in manifest["videos"].items():
        job = by_path[path]
        assert (entry["job"]["kind"], entry["job"]["id"]) == (job["kind"], job["id"])
        assert entry["used_credits"] == job.get("used_credits")
        assert entry["published_by"] in {run["dag_run_id"] for run in publish_runs}
        assert entry["made_by"] == f"{PRODUCER}/{content_production.run_id}/download"
    reported = {job["id"]: job["used_credits"] for job in produced["jobs"] if "used_credits" in job}
    assert manifest["credits_reported"] == sum(reported.values()) > 0


def test_the_api_key_is_in_no_event_and_nothing_published(deployment, produced, publish_runs, content_production):
    texts = [
        json.dumps(produced["events"]),
        json.dumps([run["events"] for run in publish_runs]),
        (content_production.folder / "published.json").read_text(),
    ]
    assert not [text for text in texts if deployment.api_key in text]
