"""
The story review example in a real Airflow 3: a person answers the storyboard through the REST API.

Each test triggers ``vimmerse_story_review`` with its own idea, waits until the review task is
``awaiting_input``, reads the request a reviewer sees (``GET .../hitlDetails``), answers with
``PATCH .../hitlDetails`` as the Airflow UI does, and checks what reached the sandbox API for that
story: approve makes the scenes and the video, reject sends nothing more, an edit reaches the API
before the scenes are drawn. A copy with a short response timeout, left unanswered, fails and sends nothing more.
"""

from __future__ import annotations

from typing import Any

import requests

from tests.cluster import cluster_test_marks, wait_until
from tests.native.conftest import Deployment

pytestmark = cluster_test_marks(
    reason="human-in-the-loop operators need Airflow 3.1+ (the example defines no DAG before)", timeout=600
)

DAG_ID = "vimmerse_story_review"
REVIEW = "story.review"
SCENE_FIELDS = {"scene_1", "scene_2", "scene_3"}
LATER_STEPS = ("story.edit_storyboard", "story.elements", "story.scenes", "story.videos")


def hitl_path(run_id: str, dag_id: str = DAG_ID) -> str:
    return f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{REVIEW}/-1/hitlDetails"


def states(deployment: Deployment, run_id: str, dag_id: str = DAG_ID) -> dict[str, str | None]:
    return {ti.key: ti.state for ti in deployment.cluster.task_instances(dag_id, run_id)}


def start_review(deployment: Deployment, idea: str) -> tuple[str, dict[str, Any]]:
    """Trigger a run with ``idea``, wait until it asks for a review; return the run id and the request."""
    deployment.unpause(DAG_ID)
    run_id = deployment.cluster.trigger(DAG_ID, conf={"idea": idea})

    def asking() -> str | None:
        review = states(deployment, run_id).get(REVIEW)
        if review in ("failed", "upstream_failed") or deployment.cluster.run_state(DAG_ID, run_id) == "failed":
            raise AssertionError(f"the run failed before the review: {states(deployment, run_id)}")
        return review if review == "awaiting_input" else None

    wait_until(asking, 180, "the review task to await input", interval=1)
    # A person answers seconds after the request appears; an answer within a second of it can meet an
    # Airflow 3.3 scheduler race that fails the task (docs/operators/story-review.md), so wait as a person would.
    deployment.cluster.wait_for_executor_report(DAG_ID, run_id, REVIEW, try_number=1)
    return run_id, deployment.cluster.api("GET", hitl_path(run_id))


def answer(deployment: Deployment, run_id: str, option: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Answer the review as the UI does; return the recorded answer."""
    return deployment.cluster.api("PATCH", hitl_path(run_id), json={"chosen_options": [option], "params_input": fields})


def story_id_of(deployment: Deployment, run_id: str, dag_id: str = DAG_ID) -> str:
    return deployment.cluster.xcom(dag_id, run_id, "story.storyboard", key="story_id")


def story_posts(deployment: Deployment, story_id: str) -> list[str]:
    """Return the paths of the requests that spend credits on this story after the storyboard."""
    return [e["path"] for e in deployment.sandbox.ledger(method="POST") if e["path"].startswith(f"/story/{story_id}/")]


def sandbox_story(deployment: Deployment, story_id: str) -> dict[str, Any]:
    (story,) = [job for job in deployment.sandbox.jobs() if job["kind"] == "story" and job["id"] == story_id]
    return story


def test_the_reviewer_sees_the_storyboard_as_numbered_scenes_and_approves(deployment: Deployment):
    run_id, request = start_review(deployment, "A lighthouse keeper feeds a seagull")

    storyboard = deployment.cluster.xcom(DAG_ID, run_id, "story.storyboard", key="storyboard")
    scenes = storyboard["scenes"]
    assert len(scenes) == 3
    assert request["subject"] == "Storyboard for: A lighthouse keeper feeds a seagull"
    assert request["options"] == ["Approve", "Reject"]
    body = request["body"]
    for number, scene in enumerate(scenes, start=1):
        assert f"{number}. {scene['description']}" in body, "each scene numbered with its description"
        assert f"*Narration:* {scene['narrator']}" in body
    assert "{" not in body, f"Markdown, not a JSON dump: {body}"
    assert "**Sandbox Hero** (character)" in body
    fields = request["params"]
    assert set(fields) == SCENE_FIELDS, "one form field per scene, no DAG param"
    assert [fields[f"scene_{n}"]["value"] for n in (1, 2, 3)] == [s["description"] for s in scenes]
    story_id = story_id_of(deployment, run_id)
    assert story_posts(deployment, story_id) == [], "nothing is spent while the review waits"

    recorded = answer(deployment, run_id, "Approve", {name: fields[name]["value"] for name in fields})
    assert recorded["chosen_options"] == ["Approve"]

    assert deployment.cluster.wait_for_run(DAG_ID, run_id, 300) == "success", deployment.cluster.run_report(
        DAG_ID, run_id
    )
    assert all(states(deployment, run_id)[task] == "success" for task in LATER_STEPS)
    assert story_posts(deployment, story_id) == [
        f"/story/{story_id}/elements",
        f"/story/{story_id}/scenes",
        f"/story/{story_id}/videos",
    ]
    result = deployment.cluster.xcom(DAG_ID, run_id, "story.videos")
    assert result["id"] == story_id and result["status"] == "success"
    (video_url,) = result["video_urls"]
    video = requests.get(video_url, headers={"X-Api-Key": deployment.api_key}, timeout=30)
    assert video.status_code == 200 and video.content[4:8] == b"ftyp", "the story video is a real MP4"
    log = deployment.cluster.task_log(DAG_ID, run_id, "story.edit_storyboard", 1)
    assert "Storyboard approved by" in log and "as written" in log


def test_a_rejected_storyboard_spends_nothing_more(deployment: Deployment):
    run_id, request = start_review(deployment, "A robot learns to paint")
    story_id = story_id_of(deployment, run_id)

    answer(deployment, run_id, "Reject", {name: "" for name in request["params"]})

    assert deployment.cluster.wait_for_run(DAG_ID, run_id, 180) == "success", (
        f"a rejection is a decision, no fault: {deployment.cluster.run_report(DAG_ID, run_id)}"
    )
    final = states(deployment, run_id)
    assert final["story.storyboard"] == "success" and final[REVIEW] == "success"
    assert {task: final[task] for task in LATER_STEPS} == dict.fromkeys(LATER_STEPS, "skipped")
    assert story_posts(deployment, story_id) == [], "no elements, scene or video request reached the API"
    assert sandbox_story(deployment, story_id)["status"] == "new", "the story stays a storyboard"
    shown = deployment.cluster.api("GET", hitl_path(run_id))
    assert shown["chosen_options"] == ["Reject"] and shown["response_received"]


def test_an_edited_scene_reaches_the_api_before_the_scenes_are_drawn(deployment: Deployment):
    run_id, request = start_review(deployment, "A cat naps in a bookshop")
    story_id = story_id_of(deployment, run_id)
    edited = "Close-up of the cat waking up as a customer opens a book about cats."
    fields = {name: field["value"] for name, field in request["params"].items()}
    fields["scene_2"] = edited

    answer(deployment, run_id, "Approve", fields)

    assert deployment.cluster.wait_for_run(DAG_ID, run_id, 300) == "success", deployment.cluster.run_report(
        DAG_ID, run_id
    )
    sent = deployment.cluster.xcom(DAG_ID, run_id, "story.edit_storyboard")
    assert sent["scenes"][1]["description"] == edited, "the edit task returned the edited storyboard"
    assert story_posts(deployment, story_id)[0] == f"/story/{story_id}/elements", "sent with the first image step"
    story = sandbox_story(deployment, story_id)["object"]
    descriptions = [scene["description"] for scene in story["storyboard"]["scenes"]]
    assert descriptions[1] == edited and descriptions[0] == request["params"]["scene_1"]["value"]
    drawn = deployment.cluster.xcom(DAG_ID, run_id, "story.scenes", key="storyboard")
    assert drawn["scenes"][1]["description"] == edited and drawn["scenes"][1]["image_url"], "scene 2 drawn as edited"
    log = deployment.cluster.task_log(DAG_ID, run_id, "story.edit_storyboard", 1)
    assert "with scene(s) 2 edited" in log


#: The example with a 15-second ``response_timeout`` instead of a day, under its own DAG id.
TIMEOUT_DAG_ID = "vimmerse_story_review_timeout"
TIMEOUT_SECONDS = 15


def add_short_timeout_copy(deployment: Deployment) -> None:
    """Write the example into the deployment's DAG folder again, with a short response timeout and its own id."""
    source = (deployment.cluster.dags_folder / f"{DAG_ID}.py").read_text()
    changes = {
        f'dag_id="{DAG_ID}"': f'dag_id="{TIMEOUT_DAG_ID}"',
        "response_timeout=timedelta(days=1)": f"response_timeout=timedelta(seconds={TIMEOUT_SECONDS})",
    }
    for old, new in changes.items():
        assert source.count(old) == 1, f"the example no longer says {old!r} once: update this test"
        source = source.replace(old, new)
    (deployment.cluster.dags_folder / f"{TIMEOUT_DAG_ID}.py").write_text(source)
    deployment.cluster.wait_for_dag(TIMEOUT_DAG_ID)


def test_an_unanswered_review_fails_at_its_timeout_and_spends_nothing_more(deployment: Deployment):
    add_short_timeout_copy(deployment)
    deployment.unpause(TIMEOUT_DAG_ID)
    run_id = deployment.cluster.trigger(TIMEOUT_DAG_ID, conf={"idea": "A lighthouse keeper feeds a seagull"})

    assert deployment.cluster.wait_for_run(TIMEOUT_DAG_ID, run_id, 300) == "failed", (
        "a day unanswered fails the run, so its alerts fire"
    )
    final = states(deployment, run_id, TIMEOUT_DAG_ID)
    assert final["story.storyboard"] == "success" and final[REVIEW] == "failed", final
    assert {task: final[task] for task in LATER_STEPS} == dict.fromkeys(LATER_STEPS, "upstream_failed")
    assert story_posts(deployment, story_id_of(deployment, run_id, TIMEOUT_DAG_ID)) == [], (
        "no elements, scene or video request reached the API"
    )
    log = deployment.cluster.task_log(TIMEOUT_DAG_ID, run_id, REVIEW, 1)
    assert "HITLTimeoutError" in log and "timeout has passed without a response" in log, log[-3000:]
    shown = deployment.cluster.api("GET", hitl_path(run_id, TIMEOUT_DAG_ID))
    assert not shown["response_received"], "nobody answered"
