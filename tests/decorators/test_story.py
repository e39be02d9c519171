"""
``@task.vimmerse_story`` in a real Airflow (``dag.test()``) against the sandbox API over real HTTP.

The function returns the idea or a dict of fields; the task makes the story video in one step
(``POST /story/idea-2-video``) and returns the operator's result with the storyboard, waits in the
triggerer without calling the function again, refuses bad fields before any request, and a retry
re-attaches to the story an earlier try paid for.
"""

from __future__ import annotations

import pytest
from airflow.providers.common.compat.sdk import task

from tests.dag_runs import new_dag, run_dag
from tests.decorators.conftest import Calls
from tests.operators.conftest import FAST, NEEDS_STATE_STORE, assert_failed_early, logged

pytestmark = pytest.mark.usefixtures("quick_jobs")
ROUTE = "/story/idea-2-video"


def the_story(sandbox):
    """Return the sandbox's only story, paid once."""
    [post] = sandbox.client.ledger(path=ROUTE, method="POST")
    [group] = [g for g in sandbox.state.groups.values() if g.kind == "story"]
    assert post["job_id"] == group.id
    return group


def test_a_returned_idea_makes_the_story_video(vimmerse_sandbox, airflow_db, tmp_path):
    dag = new_dag("taskflow_story_str", tmp_path, **FAST)
    with dag:

        @task.vimmerse_story(deferrable=False, scene_count=2)
        def story(product: str) -> str:
            return f"A short ad: {product} crosses a lake at dawn"

        story("a paper boat")
    result = run_dag(dag, tmp_path, ["story"], keys=["return_value", "story_id", "storyboard"])

    assert result.states == {"story": "success"}, result.errors
    group = the_story(vimmerse_sandbox)
    assert group.idea == "A short ad: a paper boat crosses a lake at dawn"
    value = result.xcom("story")
    assert (value["kind"], value["id"], value["status"]) == ("story", group.id, "success")
    assert value["video_urls"] == [f"{vimmerse_sandbox.url}/_sandbox/files/{group.id}-v1.mp4"]
    assert len(value["storyboard"]["scenes"]) == 2, "the decorator's scene_count applied"
    assert result.xcom("story", "story_id") == group.id, "the story XComs are pushed like the operator's"
    assert result.xcom("story", "storyboard") == value["storyboard"]


def test_a_returned_dict_sets_the_story_fields_and_it_resumes_without_calling_the_function_again(
    vimmerse_sandbox, airflow_db, tmp_path, capsys, caplog
):
    calls = Calls(tmp_path)
    dag = new_dag("taskflow_story_dict", tmp_path, **FAST)
    with dag:

        @task.vimmerse_story(deferrable=True)
        def story(**context) -> dict:
            calls.record("story")
            return {
                "idea": f"A lighthouse keeper's day, for {context['dag'].dag_id}",
                "title": "Keeper",
                "scene_count": 3,
                "aspect_ratio": "9:16",
                "video_tool": "KlingAI",
                "audio_option": {"narrator": "Aria", "has_bg_music": True},
            }

        story()
    result = run_dag(dag, tmp_path, ["story"])

    assert result.states == {"story": "success"}, result.errors
    group = the_story(vimmerse_sandbox)
    assert (group.idea, group.title) == ("A lighthouse keeper's day, for taskflow_story_dict", "Keeper")
    assert (group.generation["aspect_ratio"], group.generation["motion_type"]) == ("9:16", "KlingAI")
    value = result.xcom("story")
    assert value["id"] == group.id and len(value["storyboard"]["scenes"]) == 3
    assert value["used_credits"] == group.used_credits > 0
    assert "in the triggerer" in logged(capsys, caplog), "the task deferred"
    assert calls.count() == 1, "the resumed task finished in execute_complete, not by calling the function"


@pytest.mark.parametrize(
    ("returned", "texts"),
    [
        ({"idea": "a boat", "scene_count": 0}, ("'scene_count'", "at least 1")),
        ({"idea": "a boat", "scene_duration": 7}, ("'scene_duration'", "5", "10")),
        ({"idea": "a boat", "seed": 3}, ("'seed'",)),
        ({"idea": "a boat", "scenes": 2}, ("'scenes'", "not a field of @task.vimmerse_story", "'scene_count'")),
        ({"title": "no idea"}, ("'idea'", "is required")),
        (["a boat"], ("the idea (a str) or a dict of fields, got list",)),
    ],
    ids=["bad-count", "bad-duration", "refused-field", "unknown-key", "no-idea", "not-an-idea"],
)
def test_a_bad_returned_field_fails_the_task_before_any_request(
    vimmerse_sandbox, airflow_db, tmp_path, returned, texts
):
    dag = new_dag("taskflow_story_refused", tmp_path, retries=1, **FAST)
    with dag:

        @task.vimmerse_story(deferrable=True)
        def story():
            return returned

        story()
    result = run_dag(dag, tmp_path)

    assert_failed_early(vimmerse_sandbox, result, {"story": texts})


@NEEDS_STATE_STORE
def test_a_retry_after_a_crash_reattaches_to_the_paid_story(vimmerse_sandbox, killed_then_retried):
    # The story's scenes take 2 s and its composition 1 s more: still running when the retry starts.
    vimmerse_sandbox.client.configure(job_seconds=2, compose_seconds=1)

    def make(**kwargs):
        @task.vimmerse_story(**kwargs)
        def story() -> dict:
            return {"idea": "A calm sea at night", "scene_count": 1}

        return story()

    value, post = killed_then_retried("taskflow_story_reattach", make, ROUTE)
    group = the_story(vimmerse_sandbox)
    assert post["job_id"] == group.id and group.idea == "A calm sea at night", "one story, paid once"
    assert value["video_urls"] == [f"{vimmerse_sandbox.url}/_sandbox/files/{group.id}-v1.mp4"]
