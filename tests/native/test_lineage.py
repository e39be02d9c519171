"""
What a real Airflow 3 deployment with OpenLineage reports for the content-production run.

The deployment writes every OpenLineage event as a file (the provider's file transport,
``Deployment.lineage_dir``); this module reads the COMPLETE events of the run the assets tests read
(the package fixture ``content_production``): the generation tasks report the image they uploaded, the
video they made and their job; the downloads report the URL they fetched and the file they wrote,
never the ``.part`` file it was written as first.
"""

from __future__ import annotations

import importlib.util
import json
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.cluster import cluster_test_marks
from tests.native.conftest import Deployment, ProductionRun

pytestmark = [
    *cluster_test_marks(
        reason="tests/cluster.py runs Airflow 3 only (and OpenLineage is in its venv only)", timeout=1200
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("airflow.providers.openlineage") is None,
        reason="OpenLineage is installed with the package's lineage extra (the Airflow 3.3 venv)",
    ),
]

PRODUCER = "vimmerse_content_production"


def task_events(deployment: Deployment, run: ProductionRun, event_type: str) -> dict[str, list[dict[str, Any]]]:
    """Return the producer run's task events of one type (``START``, ``COMPLETE``), by task id."""
    assert run.state == "success"
    found: dict[str, list[dict[str, Any]]] = {}
    for event in deployment.lineage_events():
        airflow = event["run"]["facets"].get("airflow", {})
        run_id = airflow.get("dagRun", {}).get("run_id")
        if (
            event["eventType"] == event_type
            and event["job"]["name"].startswith(f"{PRODUCER}.")
            and run_id == run.run_id
        ):
            found.setdefault(event["job"]["name"].removeprefix(f"{PRODUCER}."), []).append(event)
    return found


@pytest.fixture(scope="module")
def complete(deployment: Deployment, content_production: ProductionRun) -> dict[str, list[dict[str, Any]]]:
    """Return the producer run's COMPLETE task events, by task id."""
    return task_events(deployment, content_production, "COMPLETE")


def datasets(event: dict[str, Any], side: str) -> list[tuple[str, str]]:
    return [(item["namespace"], item["name"]) for item in event[side]]


def test_a_product_video_reports_the_image_it_uploaded_the_video_it_made_and_its_job(
    deployment, content_production, complete
):
    [event] = complete["product_video"]
    [(namespace, image)] = datasets(event, "inputs")
    assert namespace == "file" and image.endswith(".png") and "/assets/" in image, "the product's image file"
    result = deployment.cluster.xcom(PRODUCER, content_production.run_id, "product_video", map_index=0)
    outputs = datasets(event, "outputs")
    assert outputs and all(name in url for (_, name), url in zip(outputs, result["video_urls"], strict=True))
    job = event["run"]["facets"]["vimmerse_job"]
    assert (job["kind"], job["id"], job["status"]) == ("media", result["id"], "success")


def test_a_product_video_reports_its_image_as_it_starts(deployment, content_production, complete):
    starts = task_events(deployment, content_production, "START")["product_video"]
    [finished] = complete["product_video"]
    assert starts and all(datasets(event, "inputs") == datasets(finished, "inputs") for event in starts)
    assert all(not event["outputs"] for event in starts), "nothing made yet"


def test_a_story_reports_its_credits(complete):
    stories = [event["run"]["facets"]["vimmerse_job"] for event in complete["daily_story"]]
    assert [job["kind"] for job in stories] == ["story"] and stories[0]["used_credits"] > 0


def test_the_download_reports_the_urls_it_fetched_and_the_final_files(deployment, content_production, complete):
    [event] = complete["download"]
    cluster, run_id = deployment.cluster, content_production.run_id
    jobs, written = cluster.xcom(PRODUCER, run_id, "list_jobs"), cluster.xcom(PRODUCER, run_id, "download")
    assert datasets(event, "outputs") == [("file", path) for path in written], "each file, by its final name"
    fetched = [urlsplit(url) for job in jobs for url in job["video_urls"]]
    assert datasets(event, "inputs") == [(f"{url.scheme}://{url.netloc}", url.path) for url in fetched]
    facet = event["run"]["facets"]["vimmerse_job"]
    assert [(job["kind"], job["id"]) for job in facet["jobs"]] == [(job["kind"], job["id"]) for job in jobs]
    assert ".part" not in json.dumps(event)


def test_no_event_carries_the_api_key(deployment, content_production, complete):
    texts = [path.read_text() for path in deployment.lineage_dir.glob("*.json")]
    assert texts and not [text for text in texts if deployment.api_key in text]
