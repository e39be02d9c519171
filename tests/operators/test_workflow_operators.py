"""
The workflow operators and the delete operator in a real Airflow (``dag.test()``) against the sandbox over real HTTP.

Inputs refused before any request, the form as the API receives it, both ways of waiting (the ``workflow``
job kind), the update (a JSON body), deletes of a story and a workflow (a repeated delete counts as done), and a
retry that reattaches instead of paying twice.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests

from airflow_provider_vimmerse.api import workflow
from airflow_provider_vimmerse.api.jobs import JOB_KINDS
from airflow_provider_vimmerse.exceptions import VimmerseInputError
from airflow_provider_vimmerse.operators.delete import VimmerseDeleteJobOperator
from airflow_provider_vimmerse.operators.workflow import VimmerseCreateWorkflowOperator, VimmerseUpdateWorkflowOperator
from airflow_provider_vimmerse.sensors.job import VimmerseJobSensor
from tests.dag_runs import load_example_dag, new_dag, run_dag
from tests.operators.conftest import FAST, NEEDS_STATE_STORE, assert_failed_early, assert_refused, logged, sample_images

PHOTO = "https://img.test/shoe.png"
BACKGROUNDS = ["https://cdn.test/bg1.mp4", "https://cdn.test/bg2.mp4"]
pytestmark = pytest.mark.usefixtures("quick_jobs")


def posts(sandbox, path: str = "/workflow") -> list[dict]:
    return sandbox.client.ledger(path=path, method="POST")


# ---------------------------------------------------------------------- inputs refused before any request


@pytest.mark.parametrize(
    ("kwargs", "field", "allowed"),
    [
        ({}, "'image_files'", "at least one image"),
        ({"image_files": ["a.png"], "image_urls": [PHOTO]}, "'image_urls'", "not both"),
        ({"image_urls": ["ftp://x/a.png"]}, "'image_urls[0]'", "http(s) URL"),
        ({"image_urls": [PHOTO], "visibility_status": "3"}, "'visibility_status'", "'0', '1', '2'"),
        ({"image_urls": [PHOTO], "template_id": " "}, "'template_id'", "overlay_gray_5443"),
        ({"image_urls": [PHOTO], "options": "{not json"}, "'options'", "not valid JSON"),
        ({"image_urls": [PHOTO], "options": ["a"]}, "'options'", "an object"),
        ({"image_urls": [PHOTO], "options": {"background_urls": ["file:///bg.mp4"]}}, "background_urls", "http(s)"),
        ({"image_urls": [PHOTO], "webhook_url": "https://hooks.test/x"}, "'webhook_url'", "extra_params"),
    ],
)
def test_a_bad_workflow_input_is_refused_when_the_dag_is_parsed(vimmerse_sandbox, kwargs, field, allowed):
    assert_refused(vimmerse_sandbox, VimmerseCreateWorkflowOperator, {"task_id": "workflow", **kwargs}, field, allowed)


@pytest.mark.parametrize(
    ("kwargs", "field", "allowed"),
    [
        ({}, "'changes'", "at least one field"),
        (
            {"changes": {"model": "x"}},
            "'model'",
            "allowed fields: title, description, visibility_status, rating, delivered_at",
        ),
        ({"visibility_status": 7}, "'visibility_status'", "'0', '1', '2'"),
        ({"rating": 4.5}, "'rating'", "text or an integer"),
    ],
)
def test_a_bad_update_is_refused_when_the_dag_is_parsed(kwargs, field, allowed):
    with pytest.raises(VimmerseInputError) as error:
        VimmerseUpdateWorkflowOperator(task_id="update", workflow_id="w-1", **kwargs)
    assert field in str(error.value) and allowed in str(error.value)


def test_a_kind_without_a_delete_route_is_refused():
    with pytest.raises(VimmerseInputError, match=r"'kind'.*allowed values: story, workflow"):
        VimmerseDeleteJobOperator(task_id="delete", kind="media", job_id="m-1")
    with pytest.raises(VimmerseInputError, match=r"'job_id'.*result of a media"):
        VimmerseDeleteJobOperator(task_id="delete", kind="story", job_id={"kind": "media", "id": "m-1"})


def test_templated_bad_inputs_fail_the_task_before_any_request(vimmerse_sandbox, airflow_db, tmp_path):
    dag = new_dag("workflow_templated_bad_inputs", tmp_path, retries=1)
    with dag:
        VimmerseCreateWorkflowOperator(
            task_id="bad_visibility", image_urls=[PHOTO], visibility_status="{{ params.v }}", params={"v": "9"}
        )
        VimmerseCreateWorkflowOperator(task_id="missing_image", image_files=[str(tmp_path / "gone.png")])
        VimmerseDeleteJobOperator(task_id="no_id", kind="workflow", job_id="{{ params.none }}", params={"none": ""})
    result = run_dag(dag, tmp_path)

    errors = {
        "bad_visibility": ("'visibility_status'", "'9'"),
        "missing_image": ("'image_files[0]'", "gone.png"),
        "no_id": ("'job_id'",),
    }
    assert_failed_early(vimmerse_sandbox, result, errors)


# ---------------------------------------------------------------------- the requests as the API documents them


def test_the_create_is_a_form_with_options_as_json_text_and_the_update_is_json():
    req = workflow.CREATE.request(
        {"image_urls": [PHOTO, PHOTO], "template_id": "vim_product_showcase", "visibility_status": 2,
         "options": {"background_urls": BACKGROUNDS, "duration": 5, "last_frame_support": True}}
    )  # fmt: skip
    assert (req.method, req.path, req.spends_credits, req.json) == ("POST", "/workflow", True, None)
    form = list(req.form or [])
    assert [v for k, v in form if k == "image_urls"] == [PHOTO, PHOTO], "one field per URL"
    assert dict(form)["visibility_status"] == "2"
    assert json.loads(dict(form)["options"]) == {
        "background_urls": ",".join(BACKGROUNDS),  # the tag's examples: one comma-separated string
        "duration": 5,
        "last_frame_support": True,
    }

    delivered = datetime(2026, 1, 2, 3, 4, tzinfo=timezone.utc)
    put = workflow.UPDATE.request({"rating": 5, "delivered_at": delivered, "title": "t"}, job_id="w 1")
    assert (put.method, put.path, put.form, put.spends_credits) == ("PUT", "/workflow/w%201", None, False)
    assert put.json == {"rating": "5", "delivered_at": "2026-01-02T03:04:00+00:00", "title": "t"}

    assert workflow.delete_job("story", "s1").describe() == "DELETE /story/s1"
    assert workflow.delete_job("workflow", "w1").describe() == "DELETE /workflow/w1"


def test_the_workflow_kind_reads_processing_status_and_result():
    kind = JOB_KINDS["workflow"]
    assert (kind.status_path, kind.status_field, kind.output_field) == (
        "/workflow/{job_id}",
        "processing_status",
        "result",
    )
    assert kind.state_of("processing") is None, "only success and fail are documented: others count as running"
    assert kind.web_path == "", "no web-app page is documented for a workflow"


# ---------------------------------------------------------------------- end to end


def test_workflows_wait_both_ways_then_update_and_delete(vimmerse_sandbox, airflow_db, tmp_path, capsys, caplog):
    sandbox = vimmerse_sandbox
    dag = new_dag("workflow_end_to_end", tmp_path, **FAST)
    with dag:
        from_file = VimmerseCreateWorkflowOperator(
            task_id="from_file",
            image_files=sample_images(tmp_path, "shoe.png"),
            template_id="vim_product_showcase",
            options={"prompt": "the shoe turns slowly", "background_urls": BACKGROUNDS},
            title="Shoe {{ dag.dag_id }}",
            description="product video",
            visibility_status="0",
            event_id="spring",
            deferrable=True,
        )
        from_url = VimmerseCreateWorkflowOperator(task_id="from_url", image_urls=[PHOTO], deferrable=False)
        watch = VimmerseJobSensor(
            task_id="watch", kind="workflow", job_id="{{ ti.xcom_pull('from_url')['id'] }}", poke_interval=0.2
        )
        update = VimmerseUpdateWorkflowOperator(
            task_id="update", workflow_id=from_file.output, title="Published", visibility_status=2, rating=5
        )
        delete = VimmerseDeleteJobOperator(task_id="delete", kind="workflow", job_id=from_url.output)
        again = VimmerseDeleteJobOperator(task_id="again", kind="workflow", job_id=from_url.output)
        from_file >> update
        from_url >> watch >> delete >> again
    result = run_dag(dag, tmp_path, ["from_file", "from_url", "watch", "update", "delete", "again"])

    assert set(result.states.values()) == {"success"}, result.states
    assert len(posts(sandbox)) == 2, "each workflow created once"
    made = sandbox.state.workflows[result.xcom("from_file")["id"]]
    assert made.images == ["shoe.png"], "the image arrived as a multipart file part"
    assert (made.template_id, made.event_id) == ("vim_product_showcase", "spring")
    assert made.options == {"prompt": "the shoe turns slowly", "background_urls": ",".join(BACKGROUNDS)}
    assert (made.title, made.description) == ("Published", "product video"), "the update changed the title"
    assert (made.visibility_status, made.rating) == ("2", "5")

    for task_id in ("from_file", "from_url", "watch"):
        value = result.xcom(task_id)
        assert (value["kind"], value["status"], value["progress"]) == ("workflow", "success", 100)
        assert value["video_urls"] == [f"{sandbox.url}/_sandbox/files/{value['id']}.mp4"], "the result's url"
        assert value["web_url"] == "", "no web-app page is documented for a workflow"
    assert result.xcom("update")["id"] == made.id and result.xcom("update")["title"] == "Published"
    deleted = result.xcom("from_url")["id"]
    assert deleted not in sandbox.state.workflows
    assert result.xcom("delete") == result.xcom("again") == {
        "kind": "workflow", "id": deleted, "status": "deleted", "progress": None, "video_urls": [], "web_url": ""
    }  # fmt: skip
    assert [e["status"] for e in sandbox.client.ledger(method="DELETE")] == [200, 404]
    assert "counted as deleted" in logged(capsys, caplog), "the repeated delete says why it succeeded"
    put = sandbox.client.ledger(method="PUT")
    assert len(put) == 1 and put[0]["credits"] == 0, "an update is free"


def test_a_failed_workflow_fails_the_task_naming_it(vimmerse_sandbox, airflow_db, tmp_path):
    dag = new_dag("workflow_fails", tmp_path, **FAST)
    with dag:
        VimmerseCreateWorkflowOperator(task_id="create", image_urls=[PHOTO], title="[sandbox:fail]", deferrable=True)
    result = run_dag(dag, tmp_path)

    assert result.states == {"create": "failed"}
    [post] = posts(vimmerse_sandbox)
    [error] = result.errors_of("create")
    # the documented workflow object has no field for a reason, and the sandbox adds none
    assert f"workflow {post['job_id']} failed on the Vimmerse side: no reason given" in error


def test_a_story_is_deleted_and_a_repeated_delete_fails_only_when_asked(vimmerse_sandbox, airflow_db, tmp_path):
    sandbox = vimmerse_sandbox
    story = requests.post(  # a story made outside the DAG (the sandbox's API, over HTTP)
        f"{sandbox.url}/story",
        data={"idea": "a kite festival", "scene_count": 2},
        headers={"X-Api-Key": sandbox.api_key},
        timeout=10,
    ).json()["data"]["id"]
    dag = new_dag("story_delete", tmp_path)
    with dag:
        first = VimmerseDeleteJobOperator(task_id="delete", kind="story", job_id=story)
        strict = VimmerseDeleteJobOperator(task_id="strict", kind="story", job_id=story, missing_ok=False)
        first >> strict
    result = run_dag(dag, tmp_path, ["delete"])

    assert result.states == {"delete": "success", "strict": "failed"}
    assert result.xcom("delete")["status"] == "deleted" and story not in sandbox.state.groups
    assert "404" in result.errors_of("strict")[0] and "NOT_FOUND" in result.errors_of("strict")[0]


# ---------------------------------------------------------------------- never pay twice across task retries


@NEEDS_STATE_STORE
def test_a_retry_after_a_crash_reattaches_to_the_running_workflow(vimmerse_sandbox, killed_then_retried):
    vimmerse_sandbox.client.configure(job_seconds=3)
    _, submit = killed_then_retried(
        "workflow_reattach", VimmerseCreateWorkflowOperator, "/workflow", image_urls=[PHOTO]
    )
    assert vimmerse_sandbox.state.balance == 1000 - submit["credits"], "paid once"


# ---------------------------------------------------------------------- the example DAG


def test_the_workflow_example_dag_runs_end_to_end(vimmerse_sandbox, airflow_db, tmp_path, monkeypatch):
    sandbox = vimmerse_sandbox
    monkeypatch.setenv("VIMMERSE_OUTPUT_DIR", str(tmp_path / "output"))
    dag = load_example_dag("vimmerse_workflow", **FAST)
    result = run_dag(dag, tmp_path, ["showcase", "brand_lora", "download", "publish", "clean_up"])

    assert set(result.states.values()) == {"success"}, result.states
    showcase, lora = result.xcom("showcase"), result.xcom("brand_lora")
    assert (showcase["kind"], showcase["status"]) == ("workflow", "success")
    assert (lora["kind"], lora["status"]) == ("finetune", "success") and lora["id"].startswith("ACMEMUG_")
    [video] = result.xcom("download")
    assert Path(video).read_bytes()[4:8] == b"ftyp", "the workflow's video was downloaded"
    assert result.xcom("publish")["id"] == showcase["id"]
    assert result.xcom("clean_up")["status"] == "deleted" and showcase["id"] not in sandbox.state.workflows
    sent = sorted((e["method"], e["path"]) for e in sandbox.client.ledger() if e["method"] != "GET")
    assert sent == [
        ("DELETE", f"/workflow/{showcase['id']}"),
        ("POST", "/finetune"),
        ("POST", "/workflow"),
        ("PUT", f"/workflow/{showcase['id']}"),
    ], "each request once: nothing paid twice"
