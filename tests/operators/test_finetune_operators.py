"""
The finetune operator in a real Airflow (``dag.test()``) against the sandbox over real HTTP.

Inputs refused before any request, the trigger word read from the answer (and a clear failure when the answer's
field is not the one named), the wait until sample outputs are listed (the ``finetune`` job kind, in the
triggerer or here), a sensor on a training started elsewhere, and a retry that reattaches instead of paying twice.
"""

from __future__ import annotations

import pytest

from airflow_provider_vimmerse.api import finetune
from airflow_provider_vimmerse.api.jobs import JOB_KINDS, job_object
from airflow_provider_vimmerse.api.responses import parse_snapshot
from airflow_provider_vimmerse.api.status import JobStatus
from airflow_provider_vimmerse.exceptions import VimmerseJobMayExistError
from airflow_provider_vimmerse.operators.finetune import VimmerseFinetuneOperator
from airflow_provider_vimmerse.sensors.job import VimmerseJobSensor
from tests.dag_runs import new_dag, run_dag
from tests.operators.conftest import FAST, NEEDS_STATE_STORE, assert_refused, sample_images

SHOTS = ["https://img.test/mug-1.png", "https://img.test/mug-2.png"]
#: How the product LoRA is trained: sent as given, found again in the training the sandbox received.
TRAINING = {"option": "FluxProFinetune", "finetune_type": "Product", "num_iterations": 300}


@pytest.fixture(autouse=True)
def quick_jobs(vimmerse_sandbox):
    """A training takes two job_seconds in the sandbox: one second here."""
    vimmerse_sandbox.client.configure(job_seconds=0.5)


def posts(sandbox) -> list[dict]:
    return sandbox.client.ledger(path="/finetune", method="POST")


@pytest.mark.parametrize(
    ("kwargs", "field", "allowed"),
    [
        ({}, "'image_files'", "training images"),
        ({"image_files": ["a.png"], "image_urls": SHOTS}, "'image_urls'", "not both"),
        ({"image_urls": ["ftp://x/a.png"]}, "'image_urls[0]'", "http(s) URL"),
        ({"image_urls": SHOTS, "option": "FluxDev"}, "'option'", "'FluxFinetune', 'FluxProFinetune'"),
        ({"image_urls": SHOTS, "finetune_type": "Face"}, "'finetune_type'", "'Auto', 'Character', 'Product', 'Style'"),
        ({"image_urls": SHOTS, "num_iterations": -1}, "'num_iterations'", "at least 0"),
        ({"image_urls": SHOTS, "option": "FluxKontextFinetune"}, "'prompt'", "is needed"),
        ({"image_urls": SHOTS[:1], "option": "FluxKontextFinetune", "prompt": "red"}, "'image_urls'", "even number"),
        ({"image_urls": SHOTS, "webhook_url": "not-a-url"}, "'webhook_url[0]'", "http(s) URL"),
    ],
)
def test_a_bad_input_is_refused_when_the_dag_is_parsed(vimmerse_sandbox, kwargs, field, allowed):
    assert_refused(vimmerse_sandbox, VimmerseFinetuneOperator, {"task_id": "train", **kwargs}, field, allowed)


def test_the_trigger_word_is_read_from_the_named_field_or_the_keys_are_listed():
    documented = {"data": {"id": "ASSET_ID", "status": "success", "results": ["result_url1"]}}  # the 200 example
    assert finetune.trigger_word_of(documented) == "ASSET_ID", "default: id, the example's only identifying field"
    assert finetune.trigger_word_of({"data": {"trigger_word": "MYLORA_x"}}, "trigger_word") == "MYLORA_x"
    assert finetune.trigger_word_of({"data": "MYLORA_y"}, "trigger_word") == "MYLORA_y"
    with pytest.raises(VimmerseJobMayExistError) as error:
        finetune.trigger_word_of(documented, "trigger_word")
    assert "'trigger_word'" in str(error.value) and "['id', 'results', 'status']" in str(error.value)
    assert "not sent again" in str(error.value)


def test_the_finetune_kind_is_done_when_samples_are_listed():
    kind = JOB_KINDS["finetune"]
    training = parse_snapshot(kind, "MYLORA_x", job_object(kind, {"data": []}))
    done = parse_snapshot(kind, "MYLORA_x", job_object(kind, {"data": [{"URL": "https://cdn.test/s.png"}]}))
    assert (training.raw_status, training.state) == ("training", JobStatus.RUNNING)
    assert (done.raw_status, done.state, done.has_output) == ("success", JobStatus.SUCCESS, True)


def test_a_training_is_followed_until_its_samples_both_ways(vimmerse_sandbox, airflow_db, tmp_path):
    sandbox = vimmerse_sandbox
    files = sample_images(tmp_path, "front.png", "side.png")
    dag = new_dag("finetune_end_to_end", tmp_path, **FAST)
    with dag:
        VimmerseFinetuneOperator(
            task_id="from_files", image_files=files, lora_prefix="MUG", deferrable=True, **TRAINING
        )
        from_urls = VimmerseFinetuneOperator(
            task_id="from_urls",
            image_urls=SHOTS,
            option="FluxKontextFinetune",
            prompt="turn the mug red",
            wait_for_completion=False,
        )
        watch = VimmerseJobSensor(
            task_id="watch", kind="finetune", job_id="{{ ti.xcom_pull('from_urls')['id'] }}", poke_interval=0.2
        )
        from_urls >> watch
    result = run_dag(dag, tmp_path, ["from_files", "from_urls", "watch"], keys=("return_value", "trigger_word"))

    assert result.states == {"from_files": "success", "from_urls": "success", "watch": "success"}
    trained, started = result.xcom("from_files"), result.xcom("from_urls")
    assert sorted(post["job_id"] for post in posts(sandbox)) == sorted([trained["id"], started["id"]]), "one POST each"
    assert trained["id"].startswith("MUG_"), "the trigger word, made from lora_prefix"
    assert result.xcom("from_files", "trigger_word") == trained["id"]
    assert (trained["kind"], trained["status"], trained["web_url"]) == ("finetune", "success", "")
    assert trained["video_urls"] == [f"{sandbox.url}/_sandbox/files/{trained['id']}-sample{n}.png" for n in (1, 2)]
    args = sandbox.state.finetunes[trained["id"]].args
    assert args["image_files"] == ["front.png", "side.png"], "each image arrived as a multipart file part"
    assert {field: args[field] for field in TRAINING} == TRAINING, "the training settings arrived as given"
    assert started["status"] == "submitted" and started["id"].startswith("MYLORA_"), "the API's default prefix"
    assert result.xcom("watch")["status"] == "success" and len(result.xcom("watch")["video_urls"]) == 2
    assert sandbox.state.finetunes[started["id"]].args["image_urls"] == SHOTS


def test_an_answer_without_the_named_field_fails_once_and_is_not_sent_again(vimmerse_sandbox, airflow_db, tmp_path):
    dag = new_dag("finetune_unknown_field", tmp_path, retries=2, **FAST)
    with dag:
        VimmerseFinetuneOperator(task_id="train", image_urls=SHOTS, trigger_word_field="trigger_word")
    result = run_dag(dag, tmp_path)

    assert result.states == {"train": "failed"}
    assert len(posts(vimmerse_sandbox)) == 1, "sent once: the training may have started and been charged"
    [error] = result.errors_of("train")  # final: no retry
    assert "'trigger_word'" in error and "'id'" in error and "trigger_word_field" in error


@NEEDS_STATE_STORE
def test_a_retry_after_a_crash_reattaches_to_the_training(vimmerse_sandbox, killed_then_retried):
    vimmerse_sandbox.client.configure(job_seconds=1.5)  # the training takes 3 s; the first try is killed after 2 s
    _, submit = killed_then_retried("finetune_reattach", VimmerseFinetuneOperator, "/finetune", image_urls=SHOTS)
    assert vimmerse_sandbox.state.balance == 1000 - submit["credits"], "paid once"
