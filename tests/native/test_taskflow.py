"""
The TaskFlow example in a real Airflow 3: scheduler, workers and triggerer, each their own process.

``vimmerse_taskflow``'s decorated tasks defer to the triggerer and resume in a new worker process
that parses the DAG file again: the resumed task finishes in the operator's ``execute_complete``, so
each function runs once per try and each video is paid once.
"""

from __future__ import annotations

from pathlib import Path

from tests.cluster import cluster_test_marks
from tests.native.conftest import Deployment

pytestmark = cluster_test_marks(reason="the shared deployment is an Airflow 3 cluster", timeout=600)

DAG_ID = "vimmerse_taskflow"
CONF = {"product": "harbour kite", "audience": "weekend sailors"}
#: What the task logs right after its function returned (once per call).
CALLED = {"teaser": "@task.vimmerse_media: the function set", "story": "@task.vimmerse_story: the function set"}


def test_the_decorated_tasks_defer_resume_and_pay_once(deployment: Deployment):
    run_id, state = deployment.run(DAG_ID, conf=CONF)
    cluster = deployment.cluster
    assert state == "success", cluster.diagnostics()

    assert cluster.deferred_tasks(DAG_ID, run_id) >= {"teaser", "story"}, "both waited in the triggerer"
    for task_id, called in CALLED.items():
        [one_try] = cluster.tries(DAG_ID, run_id, task_id)
        log = cluster.task_log(DAG_ID, run_id, task_id, one_try["try_number"])
        assert log.count(called) == 1, f"{task_id}: the function ran once, before the deferral, not on resume"
        assert deployment.api_key not in log

    teaser = cluster.xcom(DAG_ID, run_id, "teaser")
    story = cluster.xcom(DAG_ID, run_id, "story")
    media_posts = [e for e in deployment.sandbox.ledger(path="/media", method="POST") if e["job_id"] == teaser["id"]]
    story_posts = deployment.sandbox.ledger(path="/story/idea-2-video", method="POST")
    assert len(media_posts) == 1 and [e["job_id"] for e in story_posts].count(story["id"]) == 1, "each paid once"
    assert (teaser["status"], story["status"]) == ("success", "success")

    report = cluster.xcom(DAG_ID, run_id, "report")
    assert report["teaser"] == teaser["web_url"] and report["scenes"] == 2
    assert len(report["files"]) == 2 and all(Path(path).read_bytes()[4:8] == b"ftyp" for path in report["files"])
