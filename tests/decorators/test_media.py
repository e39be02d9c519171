"""
``@task.vimmerse_media`` in a real Airflow (``dag.test()``) against the sandbox API over real HTTP.

The function returns the prompt or a dict of fields; the task generates and returns the operator's result,
waits in the triggerer without calling the function again, refuses bad fields before any request, and a
retry re-attaches to the job an earlier try paid for.
"""

from __future__ import annotations

import json

import pytest
from airflow.providers.common.compat.sdk import task

from airflow_provider_vimmerse.decorators.media import VimmerseMediaDecoratedOperator
from tests.dag_runs import new_dag, run_dag
from tests.decorators.conftest import Calls
from tests.operators.conftest import FAST, NEEDS_STATE_STORE, assert_failed_early, logged

pytestmark = pytest.mark.usefixtures("quick_jobs")


def expect_media(sandbox, value: dict) -> dict:
    """Check ``value`` is the result of the sandbox's one finished media, paid once; return its generation."""
    [post] = sandbox.client.ledger(path="/media", method="POST")
    assert (value["kind"], value["id"], value["status"]) == ("media", post["job_id"], "success")
    assert value["video_urls"] and all(post["job_id"] in url for url in value["video_urls"])
    assert value["web_url"] == f"{sandbox.url}/app/media/{post['job_id']}"
    return sandbox.state.media[post["job_id"]].generation


def test_a_returned_prompt_is_generated_and_the_result_returned(vimmerse_sandbox, airflow_db, tmp_path):
    dag = new_dag("taskflow_media_str", tmp_path, **FAST)
    with dag:

        @task.vimmerse_media(deferrable=False, aspect_ratio="9:16")
        def video(subject: str) -> str:
            return f"A paper boat on {subject} at dawn"

        video("a calm lake")
    result = run_dag(dag, tmp_path, ["video"])

    assert result.states == {"video": "success"}, result.errors
    generation = expect_media(vimmerse_sandbox, result.xcom("video"))
    assert generation["prompt"] == "A paper boat on a calm lake at dawn"
    assert generation["aspect_ratio"] == "9:16", "a field given to the decorator is a default"
    assert isinstance(dag.get_task("video"), VimmerseMediaDecoratedOperator)


def test_a_returned_dict_sets_the_fields_and_overrides_the_decorators(vimmerse_sandbox, airflow_db, tmp_path):
    dag = new_dag("taskflow_media_dict", tmp_path, **FAST)
    with dag:

        @task.vimmerse_media(deferrable=False, aspect_ratio="9:16", title="default title")
        def video(**context) -> dict:
            return {
                "prompt": f"A lighthouse for {context['dag'].dag_id}",
                "aspect_ratio": "1:1",
                "duration": 6,
                "audio_option": {"narrator": "Rachel", "narration": "Hello."},
            }

        video()
    result = run_dag(dag, tmp_path, ["video"])

    assert result.states == {"video": "success"}, result.errors
    value = result.xcom("video")
    generation = expect_media(vimmerse_sandbox, value)
    assert generation["prompt"] == "A lighthouse for taskflow_media_dict", "the function reads the context"
    assert (generation["aspect_ratio"], generation["duration"]) == ("1:1", 6), "the function's fields win"
    assert json.loads(generation["audio_option"])["narrator"] == "Rachel", "sent as the API wants it (JSON)"
    assert value["title"] == "default title", "a decorator field the function does not set still applies"


def test_a_deferred_task_resumes_without_calling_the_function_again(
    vimmerse_sandbox, airflow_db, tmp_path, capsys, caplog
):
    calls = Calls(tmp_path)
    dag = new_dag("taskflow_media_deferred", tmp_path, **FAST)
    with dag:

        @task.vimmerse_media(deferrable=True)
        def video() -> str:
            calls.record("video")
            return "A red kite over the dunes"

        video()
    result = run_dag(dag, tmp_path, ["video"])

    assert result.states == {"video": "success"}, result.errors
    expect_media(vimmerse_sandbox, result.xcom("video"))
    assert "in the triggerer" in logged(capsys, caplog), "the task deferred"
    assert calls.count() == 1, "the resumed task finished in execute_complete, not by calling the function"


@pytest.mark.parametrize(
    ("returned", "texts"),
    [
        ({"prompt": "a kite", "motion_type": "KlingAI3"}, ("'motion_type'", "'KlingAI'")),
        ({"prompt": "a kite", "aspect_ratio": "2:1"}, ("'aspect_ratio'", "'16:9', '4:3', '1:1', '3:4', '9:16'")),
        ({"prompt": "a kite", "quantity": 9}, ("'quantity'", "from 1 to 4")),
        ({"promt": "a kite"}, ("'promt'", "not a field of @task.vimmerse_media", "'prompt', 'image_files'")),
        ({"title": "no input"}, ("'prompt'", "nothing to generate from")),
        (None, ("@task.vimmerse_media", "the prompt (a str) or a dict of fields, got NoneType")),
    ],
    ids=["bad-value", "bad-aspect-ratio", "out-of-range", "unknown-key", "no-input", "not-a-prompt"],
)
def test_a_bad_returned_field_fails_the_task_before_any_request(
    vimmerse_sandbox, airflow_db, tmp_path, returned, texts
):
    dag = new_dag("taskflow_media_refused", tmp_path, retries=1, **FAST)
    with dag:

        @task.vimmerse_media(deferrable=True)
        def video():
            return returned

        video()
    result = run_dag(dag, tmp_path)

    assert_failed_early(vimmerse_sandbox, result, {"video": texts})


@NEEDS_STATE_STORE
def test_a_retry_after_a_crash_reattaches_to_the_paid_job(vimmerse_sandbox, killed_then_retried, tmp_path):
    vimmerse_sandbox.client.configure(job_seconds=3)
    calls = Calls(tmp_path)

    def make(**kwargs):
        @task.vimmerse_media(**kwargs)
        def video() -> str:
            calls.record("video")
            return "A calm sea"

        return video()

    _, submit = killed_then_retried("taskflow_media_reattach", make, "/media")
    assert vimmerse_sandbox.state.media[submit["job_id"]].generation["prompt"] == "A calm sea"
    assert calls.count() == 2, "each try calls the function; only the first one paid"
