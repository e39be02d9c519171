"""
The batch operators in a real Airflow (``dag.test()``) against the sandbox API over real HTTP.

Inputs checked before any request, the payload as the API receives it, both ways of waiting with
per-media progress, partial failure both ways, a failed batch, edit (free or regenerating) and concat.
"""

from __future__ import annotations

import re

import pytest

from airflow_provider_vimmerse.api import batch
from airflow_provider_vimmerse.api.endpoints import FilePart
from airflow_provider_vimmerse.api.jobs import get_job_kind
from airflow_provider_vimmerse.api.responses import parse_snapshot
from airflow_provider_vimmerse.api.results import build_result
from airflow_provider_vimmerse.operators.batch import (
    VimmerseConcatBatchOperator,
    VimmerseCreateBatchOperator,
    VimmerseUpdateBatchOperator,
)
from tests.dag_runs import new_dag, run_dag
from tests.operators.conftest import FAST, assert_failed_early, assert_refused, logged, sample_images

URLS = ["https://img.test/a.png", "https://img.test/b.jpg", "https://img.test/c.webp"]
pytestmark = pytest.mark.usefixtures("quick_jobs")


@pytest.fixture
def images(tmp_path):
    """Two real PNG files on disk."""
    return sample_images(tmp_path, "front.png", "back.png")


def batch_posts(sandbox) -> list[dict]:
    return sandbox.client.ledger(path="/batch", method="POST")


# ---------------------------------------------------------------------- inputs checked before any request


@pytest.mark.parametrize(
    ("kwargs", "field", "allowed"),
    [
        ({}, "'image_files'", "at least one image"),
        ({"image_files": [], "image_urls": []}, "'image_files'", "at least one image"),
        ({"image_files": ["a.png"], "image_urls": URLS}, "'image_urls'", "not both"),
        ({"image_urls": ["ftp://x/a.png"]}, "'image_urls[0]'", "http(s) URL"),
        ({"image_urls": URLS, "motion_type": "KlingAI3"}, "'motion_type'", "'KlingAI'"),
        ({"image_urls": URLS, "aspect_ratio": "2:1"}, "'aspect_ratio'", "'16:9', '4:3', '1:1', '3:4', '9:16'"),
        ({"image_urls": URLS, "sound_effects": "Loud"}, "'sound_effects'", "'Yes', 'No'"),
        ({"image_urls": URLS, "quantity": 5}, "'quantity'", "from 1 to 4"),
        ({"image_urls": URLS, "duration": 0}, "'duration'", "from 1 to 10"),
        ({"image_urls": URLS, "loop": 7}, "'loop'", "from 1 to 6"),
        ({"image_urls": URLS, "is_transition": True}, "'is_transition'", "is not a field of POST /batch"),
        ({"image_urls": URLS, "compose_timeout": -1}, "'compose_timeout'", "0 or more seconds"),
    ],
)
def test_a_literal_bad_input_is_refused_when_the_dag_is_parsed(vimmerse_sandbox, kwargs, field, allowed):
    create = {"task_id": "batch", "prompt": "slow orbit", **kwargs}
    assert_refused(vimmerse_sandbox, VimmerseCreateBatchOperator, create, field, allowed)


@pytest.mark.parametrize(
    ("kwargs", "field", "allowed"),
    [
        ({"changes": {"colour": "red"}}, "'changes'", "allowed fields: prompt"),
        ({"changes": {}}, "'changes'", "at least one field"),
        ({"motion_type": "Veo5"}, "'motion_type'", "'Veo'"),
        ({"visibility_status": "9"}, "'visibility_status'", "'0', '1', '2'"),
    ],
)
def test_a_bad_edit_is_refused_when_the_dag_is_parsed(vimmerse_sandbox, kwargs, field, allowed):
    edit = {"task_id": "edit", "batch_id": "b1", **kwargs}
    assert_refused(vimmerse_sandbox, VimmerseUpdateBatchOperator, edit, field, allowed)


def test_concat_keeps_waiting_for_the_composed_video_it_pays_for(vimmerse_sandbox):
    concat = {"task_id": "concat", "batch_id": "b1", "compose_timeout": 60}
    assert_refused(vimmerse_sandbox, VimmerseConcatBatchOperator, concat, "'compose_timeout'", "waits for its composed")


def test_templated_bad_inputs_fail_the_task_before_any_request(vimmerse_sandbox, airflow_db, tmp_path):
    dag = new_dag("batch_templated_bad_inputs", tmp_path, retries=1)
    with dag:
        VimmerseCreateBatchOperator(
            task_id="bad_motion", image_urls=URLS, motion_type="{{ params.mt }}", params={"mt": "KlingAI3"}
        )
        VimmerseCreateBatchOperator(task_id="missing_image", image_files=[str(tmp_path / "gone.png")])
        VimmerseConcatBatchOperator(task_id="no_batch_id", batch_id="{{ params.none }}", params={"none": ""})
    result = run_dag(dag, tmp_path)

    errors = {
        "bad_motion": ("'motion_type'", "'KlingAI3'", "'KlingAI'"),
        "missing_image": ("'image_files[0]'", "gone.png"),
        "no_batch_id": ("'batch_id'",),
    }
    assert_failed_early(vimmerse_sandbox, result, errors)


# ---------------------------------------------------------------------- the request as the API documents it


def test_files_go_as_multipart_parts_and_urls_as_repeated_fields(images):
    parts = [FilePart("image_files", p.name, p.read_bytes(), "image/png") for p in images]
    upload = batch.CREATE.request({"prompt": "orbit", "sound_effects": True}, parts)
    assert (upload.method, upload.path, upload.spends_credits) == ("POST", "/batch", True)
    assert [(f.field, f.filename) for f in upload.files] == [("image_files", "front.png"), ("image_files", "back.png")]
    assert dict(upload.form) == {"prompt": "orbit", "sound_effects": "Yes"}

    by_url = batch.CREATE.request({"image_urls": URLS, "title": "t"})
    assert [v for k, v in by_url.form if k == "image_urls"] == URLS, "one field per URL"
    assert not by_url.files

    assert batch.EDIT.request({"title": "x"}, job_id="b1").spends_credits is False
    assert batch.EDIT.request({"duration": 4}, job_id="b1").spends_credits is True
    concat = batch.CONCAT.request({}, job_id="b1")
    assert (concat.method, concat.path, concat.form, concat.json) == ("POST", "/batch/b1/concat", None, None)
    assert concat.spends_credits is True


def test_a_batch_object_as_the_api_documents_it_gives_counts_and_each_medias_outputs():
    kind = get_job_kind("batch")
    medias = [{"media_id": f"m{i}", "item": f"decd-000000{i}", "source": f"{i}.jpg"} for i in range(1, 9)]
    running = {"data": {"id": "1f2e", "status": "processing", "progress_percentage": "40", "medias": medias}}
    running["data"].update(finished_medias=["m1", "m2", "m3"], failed_medias=["m4"])
    assert parse_snapshot(kind, "1f2e", running).describe() == "batch 1f2e: 40% processing (3/8 finished, 1 failed)"

    # The legacy batch object also carries each media's full object (``all_medias``), with its outputs.
    done = {
        "id": "1f2e",
        "status": "success",
        "video_url": "https://media.test/1f2e.mp4",
        "medias": medias[:2],
        "finished_medias": ["m1"],
        "failed_medias": ["m2"],
        "all_medias": [
            {"id": "m1", "processing_status": "success", "result": [{"url": "https://media.test/m1.mp4"}]},
            {"id": "m2", "processing_status": "fail", "error_message": "NSFW input", "result": []},
        ],
        "used_credits": 10,
    }
    result = build_result(kind, "1f2e", done, web_url="https://app.test/batch/1f2e")
    assert result["video_urls"] == ["https://media.test/1f2e.mp4"], "the composed video"
    assert result["medias"] == [
        {"id": "m1", "status": "success", "item": "decd-0000001", "video_urls": ["https://media.test/m1.mp4"]},
        {"id": "m2", "status": "fail", "item": "decd-0000002", "message": "NSFW input"},
    ]
    assert (result["finished_count"], result["failed_count"], result["failed_media"]) == (1, 1, ["m2"])
    assert result["used_credits"] == 10


# ---------------------------------------------------------------------- end to end


def test_batches_wait_with_per_media_progress_and_list_each_media(
    vimmerse_sandbox, airflow_db, tmp_path, images, capsys, caplog
):
    sandbox = vimmerse_sandbox
    dag = new_dag("batch_end_to_end", tmp_path, **FAST)
    with dag:
        VimmerseCreateBatchOperator(
            task_id="from_files",
            image_files=images,
            prompt="slow orbit around the product",
            motion_type="KlingAI",
            aspect_ratio="1:1",
            sound_effects=True,
            quantity=2,
            duration=3,
            loop=2,
            title="Launch of {{ dag.dag_id }}",
            description="two angles",
            visibility_status="2",
            deferrable=True,
        )
        VimmerseCreateBatchOperator(task_id="from_urls", image_urls=URLS, deferrable=False)
    result = run_dag(dag, tmp_path, ["from_files", "from_urls"])

    assert result.states == {"from_files": "success", "from_urls": "success"}
    assert len(batch_posts(sandbox)) == 2, "each batch submitted once"
    uploaded = sandbox.state.groups[result.xcom("from_files")["id"]]
    assert uploaded.items == ["front.png", "back.png"], "each image arrived as a multipart file part"
    gen = uploaded.generation
    assert (gen["prompt"], gen["motion_type"], gen["aspect_ratio"]) == (
        "slow orbit around the product",
        "KlingAI",
        "1:1",
    )
    assert (gen["sound_effects"], gen["quantity"], gen["duration"], gen["loop"]) == ("Yes", 2, 3, 2)
    assert (uploaded.title, uploaded.description, uploaded.visibility_status) == (
        "Launch of batch_end_to_end",
        "two angles",
        "2",
    )
    by_url = sandbox.state.groups[result.xcom("from_urls")["id"]]
    assert by_url.items == URLS and not by_url.generation["is_transition"], "batch.txt documents no is_transition"

    for task_id, group in (("from_files", uploaded), ("from_urls", by_url)):
        value = result.xcom(task_id)
        assert (value["kind"], value["id"], value["status"]) == ("batch", group.id, "success")
        assert value["video_urls"] == [f"{sandbox.url}/_sandbox/files/{group.id}-v1.mp4"], "the composed video"
        assert [m["id"] for m in value["medias"]] == group.media_ids, "every media of the batch, in order"
        assert {m["status"] for m in value["medias"]} == {"success"}
        assert (value["finished_count"], value["failed_count"], value["failed_media"]) == (len(group.items), 0, [])
        assert value["used_credits"] == group.used_credits > 0
        assert value["web_url"] == f"{sandbox.url}/app/batch/{group.id}"
    assert [m["item"] for m in result.xcom("from_urls")["medias"]] == URLS

    logs = logged(capsys, caplog)
    counts = re.findall(rf"batch {by_url.id}: \d+% \w+ \((\d)/3 finished, (\d) failed\)", logs)
    assert counts, "the progress lines count finished and failed media"
    assert counts[-1] == ("3", "0")
    deferred_lines = set(re.findall(rf"batch {uploaded.id}: \d+% \w+ \(\d/2 finished, 0 failed\)", logs))
    assert len(deferred_lines) >= 2, "the trigger logs the counts too (the task logs only the first line)"


def test_a_partly_failed_batch_fails_the_task_or_lists_the_failures(
    vimmerse_sandbox, airflow_db, tmp_path, capsys, caplog
):
    sandbox = vimmerse_sandbox
    dag = new_dag("batch_partial", tmp_path, retries=1, **FAST)
    with dag:
        VimmerseCreateBatchOperator(task_id="strict", image_urls=URLS, title="strict [sandbox:partial]")
        VimmerseCreateBatchOperator(
            task_id="lenient", image_urls=URLS, title="lenient [sandbox:partial]", fail_on_partial_failure=False
        )
        VimmerseCreateBatchOperator(task_id="all_bad", image_urls=URLS[:2], title="all_bad [sandbox:fail]")
    result = run_dag(dag, tmp_path, ["lenient"])

    assert result.states == {"strict": "failed", "lenient": "success", "all_bad": "failed"}
    groups = {group.title.split()[0]: group for group in sandbox.state.groups.values()}
    reason = "no reason given"  # a failed media carries no failure reason in any API document

    strict_bad = groups["strict"].media_ids[0]
    [error] = result.errors_of("strict")  # a partial failure is not retried: a retry would pay for every media again
    assert f"batch {groups['strict'].id}: 1 of 3 media failed: {strict_bad} ({reason})" in error
    assert "fail_on_partial_failure=False" in error

    value = result.xcom("lenient")
    lenient_bad = groups["lenient"].media_ids[0]
    assert value["status"] == "success" and value["video_urls"]
    assert value["failed_media"] == [lenient_bad] and value["failed_count"] == 1 and value["finished_count"] == 2
    # No reason known, so none is made up: the failed media is listed without a "message".
    assert value["medias"][0] == {"id": lenient_bad, "status": "fail", "item": URLS[0]}
    assert [m["status"] for m in value["medias"][1:]] == ["success", "success"]

    logs = logged(capsys, caplog)
    for group in (groups["strict"], groups["lenient"]):
        assert f"batch {group.id}: 1 of 3 media failed: {group.media_ids[0]}" in logs, "logged either way"
    assert re.search(rf"batch {groups['lenient'].id}: 100% success \(2/3 finished, 1 failed\)", logs)

    errors = result.errors_of("all_bad")
    failed_ids = [
        g.id for g in sorted(sandbox.state.groups.values(), key=lambda g: g.created_at) if "all_bad" in g.title
    ]
    assert len(errors) == len(failed_ids) == 2, "a batch that failed outright is retried like any failed job"
    for error, failed_id in zip(errors, failed_ids, strict=True):
        assert f"batch {failed_id} failed on the Vimmerse side: sandbox: generation failed" in error


def test_edit_and_concat_an_existing_batch(vimmerse_sandbox, airflow_db, tmp_path, capsys, caplog):
    sandbox = vimmerse_sandbox
    batch_id = "{{ ti.xcom_pull(task_ids='create')['id'] }}"
    dag = new_dag("batch_edit_concat", tmp_path, **FAST)
    with dag:
        create = VimmerseCreateBatchOperator(task_id="create", image_urls=URLS[:2], duration=2)
        rename = VimmerseUpdateBatchOperator(task_id="rename", batch_id=batch_id, title="Renamed", rating=5)
        regenerate = VimmerseUpdateBatchOperator(task_id="regenerate", batch_id=batch_id, changes={"duration": 4})
        concat = VimmerseConcatBatchOperator(task_id="concat", batch_id=batch_id, deferrable=True)
        create >> rename >> regenerate >> concat
    result = run_dag(dag, tmp_path, ["create", "rename", "regenerate", "concat"])

    assert set(result.states.values()) == {"success"}, result.errors
    group_id = result.xcom("create")["id"]
    group = sandbox.state.groups[group_id]
    edits = sandbox.client.ledger(path=f"/batch/{group_id}/edit")
    assert [(e["created"], e["credits"]) for e in edits] == [(False, 0), (True, 2 * 4)], "metadata free, regen paid"
    between = [e for e in sandbox.client.ledger() if edits[0]["seq"] < e["seq"] < edits[1]["seq"]]
    # The metadata edit returns at once, without waiting: the only request before the regenerating edit is
    # that task's one read of the batch's run fingerprint, sent just before it (docs/waiting.md).
    assert [(e["seq"], e["method"], e["path"]) for e in between] == [
        (edits[1]["seq"] - 1, "GET", f"/batch/{group_id}")
    ], "a metadata edit returns at once, without waiting"
    assert result.xcom("rename")["title"] == "Renamed" and group.title == "Renamed"
    assert group.generation["duration"] == 4
    assert result.xcom("regenerate")["status"] == "success"

    [compose] = sandbox.client.ledger(path=f"/batch/{group_id}/concat")
    assert compose["created"] and compose["credits"] == 1
    [before_concat] = [e for e in sandbox.client.ledger() if e["seq"] == compose["seq"] - 1]
    assert (before_concat["method"], before_concat["path"]) == ("GET", f"/batch/{group_id}"), "fingerprint read"
    assert result.xcom("concat")["video_urls"] == [f"{sandbox.url}/_sandbox/files/{group_id}-concat1.mp4"]
    logs = logged(capsys, caplog)
    assert "duration regenerate every media and spend credits" in logs
    assert "composing its videos again" in logs
