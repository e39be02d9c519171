"""
The media operators in a real Airflow (``dag.test()``) against the sandbox API over real HTTP.

Input checks before any request, the payload as the API receives it, both ways of waiting, failures
and timeouts, dynamic mapping, a flaky status route, never paying twice, edit and reprocess.
"""

from __future__ import annotations

import http.server
import itertools
import json
import threading
import time
from datetime import datetime, timedelta

import pytest
from airflow.providers.common.compat.sdk import ObjectStoragePath

from airflow_provider_vimmerse.api import waiting
from airflow_provider_vimmerse.api.endpoints import ApiRequest, form_fields
from airflow_provider_vimmerse.exceptions import VimmerseInputError
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.links.vimmerse import XCOM_KEY, VimmerseJobLink
from airflow_provider_vimmerse.operators.media import (
    VimmerseCreateMediaOperator,
    VimmerseProcessMediaOperator,
    VimmerseUpdateMediaOperator,
)
from airflow_provider_vimmerse.sandbox.pytest_plugin import sandbox_conn_uri
from airflow_provider_vimmerse.sandbox.views import SAMPLE_PNG
from tests.dag_runs import new_dag, run_dag
from tests.operators.conftest import FAST, NEEDS_STATE_STORE, assert_failed_early, assert_refused, logged, sample_images

#: The keys a result may have (JobResult); anything else would be the raw API object leaking into XCom.
RESULT_KEYS = {
    "kind", "id", "status", "progress", "video_urls", "web_url", "message", "title", "description", "batch_id",
    "aspect_ratio", "duration_time", "created_at", "updated_at", "paths", "conn_id",
}  # fmt: skip


@pytest.fixture(autouse=True)
def quick_jobs(vimmerse_sandbox):
    """Let sandbox jobs take half a second: still running at the first check, done a few polls later."""
    vimmerse_sandbox.client.configure(job_seconds=0.5)


def posts(sandbox, path: str = "/media") -> list[dict]:
    """Return the ledger's POST requests to ``path``."""
    return sandbox.client.ledger(path=path, method="POST")


def start_media(prompt: str = "a lighthouse at dusk") -> str:
    """Create a media directly through the API (a job started elsewhere) and return its id."""
    req = ApiRequest("POST", "/media", form=form_fields({"prompt": prompt}), spends_credits=True)
    return VimmerseHook().request(req)["data"]["id"]


def expect_success(result: dict, sandbox, job_id: str | None = None) -> None:
    """Check the result of a finished media job as a downstream task sees it."""
    job_id = job_id or result["id"]
    assert result["kind"] == "media"
    assert result["id"] == job_id
    assert result["status"] == "success"
    assert result["progress"] == 100
    assert result["video_urls"] and all(job_id in url for url in result["video_urls"])
    assert result["web_url"] == f"{sandbox.url}/app/media/{job_id}"


# ---------------------------------------------------------------------- inputs checked before any request


@pytest.mark.parametrize(
    ("kwargs", "field", "allowed"),
    [
        ({"motion_type": "KlingAI3"}, "'motion_type'", "'KlingAI'"),
        ({"aspect_ratio": "2:1"}, "'aspect_ratio'", "'16:9', '4:3', '1:1', '3:4', '9:16'"),
        ({"camera_control": "Spin"}, "'camera_control'", "'Orbit right'"),
        ({"visibility_status": "3"}, "'visibility_status'", "'0', '1', '2'"),
        ({"quantity": 0}, "'quantity'", "from 1 to 4"),
        ({"quantity": 5}, "'quantity'", "from 1 to 4"),
        ({"duration": 11}, "'duration'", "from 1 to 10"),
        ({"loop": 7}, "'loop'", "from 1 to 6"),
        ({"audio_option": {"narrator": "HAL"}}, "'audio_option.narrator'", "'Rachel'"),
        ({"audio_option": {"voice": "Rachel"}}, "'audio_option'", "'narrator', 'narration', 'narration_url'"),
        (
            {"media_items": [{"type": "gif", "url": "https://x.test/a.gif", "position": "First"}]},
            "'media_items[0].type'",
            "'image', 'video', 'audio'",
        ),
        (
            {"media_items": [{"type": "image", "url": "https://x.test/a.png", "position": "Middle"}]},
            "'media_items[0].position'",
            "'First', 'Last'",
        ),
        ({"media_items": {"type": "image"}}, "'media_items'", "must be a list"),
    ],
)
def test_a_literal_bad_input_is_refused_when_the_dag_is_parsed(vimmerse_sandbox, kwargs, field, allowed):
    create = {"task_id": "create", "prompt": "a fox in the snow", **kwargs}
    assert_refused(vimmerse_sandbox, VimmerseCreateMediaOperator, create, field, allowed)


def test_an_operator_with_nothing_to_generate_from_is_refused_when_the_dag_is_parsed(vimmerse_sandbox):
    # No prompt, no images, no media items: nothing can ever render into an input, so this is knowable at parse time.
    with pytest.raises(VimmerseInputError) as error:
        VimmerseCreateMediaOperator(task_id="create", title="a title is not an input")
    assert "prompt" in str(error.value) and "image_files" in str(error.value) and "media_items" in str(error.value)


def test_templated_bad_inputs_fail_the_task_before_any_request(vimmerse_sandbox, airflow_db, tmp_path):
    dag = new_dag("media_templated_bad_inputs", tmp_path, retries=1)
    with dag:
        VimmerseCreateMediaOperator(
            task_id="bad_motion", prompt="a fox", motion_type="{{ params.mt }}", params={"mt": "KlingAI3"}
        )
        VimmerseCreateMediaOperator(
            task_id="bad_voice",
            prompt="a fox",
            audio_option={"narrator": "{{ params.voice }}"},
            params={"voice": "HAL"},
        )
        VimmerseCreateMediaOperator(task_id="missing_image", image_files=[str(tmp_path / "no-such-image.png")])
    result = run_dag(dag, tmp_path)

    errors = {
        "bad_motion": ("'motion_type'", "'KlingAI3'", "'KlingAI'"),
        "bad_voice": ("'audio_option.narrator'", "'HAL'", "'Rachel'"),
        "missing_image": ("'image_files[0]'", "no-such-image.png"),
    }
    assert_failed_early(vimmerse_sandbox, result, errors)


def test_a_templated_bad_quantity_fails_the_task_before_any_request(vimmerse_sandbox, airflow_db, tmp_path):
    dag = new_dag("media_templated_quantity", tmp_path)
    with dag:
        VimmerseCreateMediaOperator(task_id="create", prompt="a fox", quantity="{{ params.q }}", params={"q": 9})
    result = run_dag(dag, tmp_path)

    assert result.states == {"create": "failed"}
    assert vimmerse_sandbox.client.ledger() == [], "a bad quantity must be caught before anything is sent"
    assert "'quantity'" in result.errors_of("create")[0]


# ---------------------------------------------------------------------- the payload as the API receives it


def test_the_api_receives_every_field_in_the_documented_shape(vimmerse_sandbox, airflow_db, tmp_path):
    front, back = sample_images(tmp_path, "front.png", "back.png")

    audio = {"narrator": "Rachel", "narration": "Every journey starts small.", "bg_music_prompt": "calm guitar"}
    items = [
        {"type": "image", "url": "https://img.test/first.png", "position": "First"},
        {"type": "image", "url": "https://img.test/last.png", "position": "Last"},
    ]
    urls = ["https://img.test/a.png", "https://img.test/b.jpg"]
    dag = new_dag("media_payload_shapes", tmp_path, wait_for_completion=False)
    with dag:
        VimmerseCreateMediaOperator(
            task_id="text",
            prompt="a paper boat on a lake",
            title="Boat",
            audio_option=audio,
            media_items=items,
            motion_type="KlingAI",
            camera_control="Orbit right",
            quantity=2,
            duration=6,
            loop=2,
            aspect_ratio="9:16",
            visibility_status="2",
            extra_params={"description": "sent through extra_params"},
        )
        VimmerseCreateMediaOperator(task_id="files", image_files=[front, ObjectStoragePath(f"file://{back}")])
        VimmerseCreateMediaOperator(task_id="urls", image_urls=urls)
    result = run_dag(dag, tmp_path, xcom_tasks=["text", "files", "urls"])
    media = vimmerse_sandbox.state.media

    text = media[result.xcom("text")["id"]]
    assert json.loads(text.generation["audio_option"]) == audio, "audio_option is sent as a JSON string"
    assert json.loads(text.generation["media_items"]) == items, "media_items is sent as a JSON string"
    assert text.generation["prompt"] == "a paper boat on a lake"
    assert (text.generation["motion_type"], text.generation["camera_control"]) == ("KlingAI", "Orbit right")
    assert (text.generation["quantity"], text.generation["duration"], text.generation["loop"]) == (2, 6, 2)
    assert text.generation["aspect_ratio"] == "9:16"
    assert (text.title, text.visibility_status) == ("Boat", "2")
    assert text.description == "sent through extra_params"
    # The sandbox only sees file names of real multipart file parts.
    assert media[result.xcom("files")["id"]].generation["image_files"] == ["front.png", "back.png"]
    assert media[result.xcom("urls")["id"]].generation["image_urls"] == urls
    assert [e["status"] for e in vimmerse_sandbox.client.ledger()] == [200, 200, 200], "only the three submits"


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Answer every POST like the API does for a new media, and keep what was sent."""

    seen: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append((self.headers["Content-Type"], body))
        answer = json.dumps({"data": {"id": f"wire-{len(self.seen)}"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def recording_api(monkeypatch):
    """A fake API on localhost that records raw request bodies; the connection ``vimmerse_wire`` points at it."""
    _Recorder.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("AIRFLOW_CONN_VIMMERSE_WIRE", sandbox_conn_uri(url, "wire-key"))
    yield _Recorder.seen
    server.shutdown()
    server.server_close()


def test_image_urls_are_repeated_fields_and_image_files_are_multipart_parts(recording_api, airflow_db, tmp_path):
    # The sandbox accepts a list as repeated fields or as one JSON string alike, so look at the raw bodies.
    [image] = sample_images(tmp_path, "cat.png")
    urls = ["https://img.test/a.png", "https://img.test/b.png"]
    dag = new_dag("media_wire_format", tmp_path, wait_for_completion=False, vimmerse_conn_id="vimmerse_wire")
    with dag:
        VimmerseCreateMediaOperator(task_id="urls", image_urls=urls, audio_option={"narrator": "Aria"})
        VimmerseCreateMediaOperator(task_id="files", image_files=[image], image_urls=urls)
    result = run_dag(dag, tmp_path, xcom_tasks=["urls", "files"])

    assert result.states == {"urls": "success", "files": "success"}
    (form_type, form), (multipart_type, multipart) = sorted(recording_api, key=lambda seen: seen[0])
    assert form_type == "application/x-www-form-urlencoded"
    assert form.count(b"image_urls=") == 2, "one field per URL"
    assert b"audio_option=%7B%22narrator%22%3A+%22Aria%22%7D" in form, "audio_option as a JSON string"
    assert multipart_type.startswith("multipart/form-data")
    assert multipart.count(b'name="image_urls"') == 2
    assert b'name="image_files"; filename="cat.png"' in multipart
    assert b"Content-Type: image/png" in multipart
    assert SAMPLE_PNG.read_bytes() in multipart, "the image's bytes are uploaded"


# ---------------------------------------------------------------------- end to end


def test_deferrable_and_synchronous_waits_give_the_same_small_result(vimmerse_sandbox, airflow_db, tmp_path):
    dag = new_dag("media_both_waits", tmp_path, **FAST)
    with dag:
        VimmerseCreateMediaOperator(task_id="deferred", prompt="a red kite", title="Kite", deferrable=True)
        VimmerseCreateMediaOperator(task_id="here", prompt="a red kite", title="Kite", deferrable=False)
    link_key = getattr(VimmerseJobLink(), "xcom_key", None)  # Airflow 3 stores each link's URL as an XCom
    result = run_dag(dag, tmp_path, ["deferred", "here"], keys=["return_value", XCOM_KEY, link_key or XCOM_KEY])

    assert result.states == {"deferred": "success", "here": "success"}
    deferred, here = result.xcom("deferred"), result.xcom("here")
    expect_success(deferred, vimmerse_sandbox)
    expect_success(here, vimmerse_sandbox)
    assert deferred["title"] == here["title"] == "Kite"
    per_job = {"id", "video_urls", "web_url", "created_at", "updated_at"}
    assert {k: v for k, v in deferred.items() if k not in per_job} == {
        k: v for k, v in here.items() if k not in per_job
    }
    for value in (deferred, here):
        assert not {"pose_preset", "file_map", "video_history", "submit_params", "result"} & set(value)
        assert set(value) <= RESULT_KEYS, "only the documented result fields, never the raw API object"
        assert len(json.dumps(value)) < 2000
    # The "Vimmerse" button of each task leads to its job.
    for task_id, value in (("deferred", deferred), ("here", here)):
        assert result.xcom(task_id, XCOM_KEY) == value["web_url"]
        if link_key:
            assert result.xcom(task_id, link_key) == value["web_url"]
        else:
            ti = next(ti for ti in result.run.get_task_instances() if ti.task_id == task_id)
            assert VimmerseJobLink().get_link(dag.get_task(task_id), ti_key=ti.key) == value["web_url"]


def test_without_waiting_the_task_returns_the_job_id_at_once(vimmerse_sandbox, airflow_db, tmp_path):
    dag = new_dag("media_no_wait", tmp_path)
    with dag:
        VimmerseCreateMediaOperator(task_id="create", prompt="a red kite", wait_for_completion=False)
    result = run_dag(dag, tmp_path, ["create"])

    value = result.xcom("create")
    [submit] = vimmerse_sandbox.client.ledger()
    assert (submit["method"], submit["path"]) == ("POST", "/media"), "no status check at all"
    assert value == {
        "kind": "media",
        "id": submit["job_id"],
        "status": "submitted",
        "progress": None,
        "video_urls": [],
        "web_url": f"{vimmerse_sandbox.url}/app/media/{submit['job_id']}",
        "conn_id": "vimmerse_default",
    }


@pytest.mark.parametrize(
    ("ending", "wait", "says"),
    [
        # A failed media carries no reason in any API document: the failure is reported as such, not made up.
        ("fail", {}, "media {job_id} failed on the Vimmerse side: no reason given"),
        ("never", {"timeout": 2}, "may still be running"),
    ],
    ids=["failed-job", "timeout"],
)
def test_a_job_that_fails_or_never_finishes_fails_the_task_naming_the_job(
    vimmerse_sandbox, airflow_db, tmp_path, ending, wait, says
):
    dag = new_dag(f"media_job_{ending}", tmp_path, **wait, **FAST)
    with dag:
        VimmerseCreateMediaOperator(task_id="deferred", prompt=f"a storm [sandbox:{ending}]", deferrable=True)
        VimmerseCreateMediaOperator(task_id="here", prompt=f"a storm [sandbox:{ending}]", deferrable=False)
    result = run_dag(dag, tmp_path)

    assert result.states == {"deferred": "failed", "here": "failed"}
    job_ids = {job["job_id"] for job in posts(vimmerse_sandbox)}
    for task_id in ("deferred", "here"):
        [error] = result.errors_of(task_id)
        [job_id] = [job_id for job_id in job_ids if job_id in error]  # the error names the job
        assert says.format(job_id=job_id) in error


def test_a_mapped_task_creates_one_media_per_prompt(vimmerse_sandbox, airflow_db, tmp_path):
    prompts = ["a fox at dawn", "a fox at noon", "a fox at dusk"]
    dag = new_dag("media_mapped", tmp_path)
    with dag:
        VimmerseCreateMediaOperator.partial(task_id="create", deferrable=True, **FAST).expand(prompt=prompts)
    result = run_dag(dag, tmp_path, ["create"])

    assert result.states == {"create[0]": "success", "create[1]": "success", "create[2]": "success"}
    assert len(posts(vimmerse_sandbox)) == 3
    values = result.xcom("create")
    assert len({value["id"] for value in values}) == 3
    for value in values:
        expect_success(value, vimmerse_sandbox)
    assert sorted(vimmerse_sandbox.state.media[v["id"]].generation["prompt"] for v in values) == sorted(prompts)


# ---------------------------------------------------------------------- a flaky API


@pytest.mark.parametrize("deferrable", [True, False], ids=["deferred", "here"])
@pytest.mark.parametrize(
    ("faults", "expected"),
    [
        ([{"fault": "status", "status": s} for s in (500, 502, 504)], ["status"] * 3),
        ([{"fault": "status", "status": 429, "retry_after": 1}], ["status"]),
        ([{"fault": "drop", "times": 2}], ["drop"] * 2),
    ],
    ids=["5xx-burst", "429-retry-after", "dropped-connections"],
)
def test_a_flaky_status_route_while_waiting_is_ridden_out(
    vimmerse_sandbox, airflow_db, tmp_path, faults, expected, deferrable
):
    sandbox = vimmerse_sandbox
    # Let the first status check through, so the faults land on the wait itself (trigger, or the loop here).
    sandbox.client.add_fault(fault="slow", delay=0, method="GET", path="/processing-status$")
    for fault in faults:
        sandbox.client.add_fault(method="GET", path="/processing-status$", **fault)
    dag = new_dag(f"media_flaky_{expected[0]}_{len(faults)}_{deferrable}", tmp_path, deferrable=deferrable, **FAST)
    with dag:
        VimmerseCreateMediaOperator(task_id="create", prompt="a calm sea")
    result = run_dag(dag, tmp_path, ["create"])

    assert result.states == {"create": "success"}
    expect_success(result.xcom("create"), sandbox)
    assert len(posts(sandbox)) == 1, "paid once"
    polls = [e for e in sandbox.client.ledger(method="GET") if e["path"].endswith("/processing-status")]
    assert [e["fault"] for e in polls if e["fault"] not in (None, "slow")] == expected, "the faults did happen"
    for before, after in itertools.pairwise(polls):
        if before["status"] == 429:
            gap = _seconds(after["time"]) - _seconds(before["time"])
            assert gap >= 1.0, f"Retry-After: 1 was not honoured (next poll after {gap:.2f} s)"


def _seconds(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp()


def test_a_5xx_burst_right_after_the_submit_is_ridden_out(vimmerse_sandbox, airflow_db, tmp_path):
    # The first status check comes right after the (paid) submit. A short outage of the status route there
    # must not end the task any more than one during the rest of the wait does (api/waiting.py: "A transient
    # error while polling ... never ends the wait"). Retry-After: 0 only keeps the hook's retries quick.
    sandbox = vimmerse_sandbox
    sandbox.client.add_fault(
        fault="status", status=502, retry_after=0, method="GET", path="/processing-status$", times=5
    )
    dag = new_dag("media_burst_after_submit", tmp_path, deferrable=True, **FAST)
    with dag:
        VimmerseCreateMediaOperator(task_id="create", prompt="a calm sea")
    result = run_dag(dag, tmp_path, ["create"])

    assert len(posts(sandbox)) == 1
    assert result.states == {"create": "success"}, result.errors_of("create")


def test_a_submit_that_may_have_been_taken_is_never_sent_again(vimmerse_sandbox, airflow_db, tmp_path):
    sandbox = vimmerse_sandbox
    # The server creates and charges the job, then the answer is lost behind a 500.
    sandbox.client.add_fault(fault="status", status=500, phase="after", method="POST", path="^/media$")
    dag = new_dag("media_submit_maybe_taken", tmp_path, retries=2)
    with dag:
        VimmerseCreateMediaOperator(task_id="create", prompt="a calm sea")
    result = run_dag(dag, tmp_path)

    assert result.states == {"create": "failed"}
    assert len(posts(sandbox)) == 1, "neither the hook nor an Airflow retry sent it again"
    assert len(sandbox.state.media) == 1
    [error] = result.errors_of("create")
    assert "may have been created" in error and "not sent again" in error


# ---------------------------------------------------------------------- never pay twice across task retries


@NEEDS_STATE_STORE
def test_a_retry_after_a_crash_reattaches_to_the_running_job(vimmerse_sandbox, killed_then_retried):
    vimmerse_sandbox.client.configure(job_seconds=3)
    value, submit = killed_then_retried(
        "media_crash_reattach", VimmerseCreateMediaOperator, "/media", prompt="a calm sea"
    )
    expect_success(value, vimmerse_sandbox, submit["job_id"])


@NEEDS_STATE_STORE
def test_a_retry_after_the_job_finished_returns_it_without_paying_again(
    vimmerse_sandbox, airflow_db, tmp_path, monkeypatch
):
    sandbox = vimmerse_sandbox
    # The crash: the job succeeds, then the fetch of its outputs fails (no hook retries on this connection),
    # so the first try fails after the job was paid and done.
    monkeypatch.setenv("AIRFLOW_CONN_VIMMERSE_DEFAULT", sandbox_conn_uri(sandbox.url, sandbox.api_key, retries=0))
    sandbox.client.add_fault(fault="status", status=500, method="GET", path="^/media/[^/]+$")
    dag = new_dag("media_done_reattach", tmp_path, retries=1, **FAST)
    with dag:
        VimmerseCreateMediaOperator(task_id="create", prompt="a calm sea", deferrable=True)
    result = run_dag(dag, tmp_path, ["create"])

    assert result.states == {"create": "success"}
    assert "500" in result.errors_of("create")[0]
    [submit] = posts(sandbox)
    expect_success(result.xcom("create"), sandbox, submit["job_id"])


def test_a_retry_after_the_job_failed_submits_a_fresh_job(vimmerse_sandbox, airflow_db, tmp_path):
    sandbox = vimmerse_sandbox
    prompt = "a calm sea{{ ' [sandbox:fail]' if ti.try_number == 1 else '' }}"  # only the first job fails
    dag = new_dag("media_failed_resubmit", tmp_path, retries=1, **FAST)
    with dag:
        VimmerseCreateMediaOperator(task_id="create", prompt=prompt, deferrable=True)
    result = run_dag(dag, tmp_path, ["create"])

    assert result.states == {"create": "success"}
    first, second = posts(sandbox)
    assert first["job_id"] in result.errors_of("create")[0]
    expect_success(result.xcom("create"), sandbox, second["job_id"])


# ---------------------------------------------------------------------- edit and reprocess


def test_a_metadata_edit_is_free_and_returns_at_once(vimmerse_sandbox, airflow_db, tmp_path, capsys, caplog):
    sandbox = vimmerse_sandbox
    media_id = start_media()
    credits = sandbox.client.state()["credits"]
    dag = new_dag("media_edit_metadata", tmp_path)
    with dag:
        VimmerseUpdateMediaOperator(task_id="edit", media_id=media_id, title="Renamed", visibility_status="2")
    result = run_dag(dag, tmp_path, ["edit"])

    assert result.states == {"edit": "success"}
    requests_after_create = sandbox.client.ledger()[1:]
    assert [(e["method"], e["path"], e["created"], e["credits"]) for e in requests_after_create] == [
        ("PUT", f"/media/{media_id}/edit", False, 0)
    ], "one free edit, no waiting"
    assert sandbox.client.state()["credits"] == credits
    value = result.xcom("edit")
    assert (value["id"], value["title"]) == (media_id, "Renamed")
    assert sandbox.state.media[media_id].visibility_status == "2"
    logs = logged(capsys, caplog)
    assert "metadata updated" in logs and "nothing regenerated" in logs
    assert "spend credits" not in logs


def finished_media(sandbox, media_id: str) -> None:
    """Wait (here, in the test) until a media started elsewhere has finished its first run."""
    hook = VimmerseHook()
    for _ in range(100):
        if hook.get_job_snapshot("media", media_id).raw_status == "success":
            return
        time.sleep(0.1)
    raise AssertionError(f"media {media_id} did not finish")


@pytest.mark.parametrize("deferrable", [True, False])
def test_a_regenerating_edit_takes_only_the_new_run_not_the_old_success(
    vimmerse_sandbox, airflow_db, tmp_path, capsys, caplog, deferrable
):
    sandbox = vimmerse_sandbox
    media_id = start_media()
    finished_media(sandbox, media_id)
    sandbox.client.configure(stale_success_seconds=1.5)  # the old success is read for several polls
    dag = new_dag(f"media_edit_regenerate_{deferrable}", tmp_path, **FAST)
    with dag:
        VimmerseUpdateMediaOperator(task_id="edit", media_id=media_id, duration=6, deferrable=deferrable)
    result = run_dag(dag, tmp_path, ["edit"])

    assert result.states == {"edit": "success"}
    [edit] = sandbox.client.ledger(path=f"/media/{media_id}/edit")
    assert edit["created"] and edit["credits"] > 0
    paid = [e for e in sandbox.client.ledger() if e["credits"] and e["job_id"] == media_id]
    assert len(paid) == 2, "the create and the one regenerating edit: nothing else paid"
    edited_at = datetime.fromisoformat(edit["time"])
    stale_reads = [
        e
        for e in sandbox.client.ledger(path=f"/media/{media_id}/processing-status")
        if datetime.fromisoformat(e["time"]) < edited_at + timedelta(seconds=1.5)
        and datetime.fromisoformat(e["time"]) > edited_at
    ]
    assert len(stale_reads) >= 3, "several polls still read the old success"
    value = result.xcom("edit")
    expect_success(value, sandbox, media_id)
    assert datetime.fromisoformat(value["updated_at"]) > edited_at + timedelta(seconds=1.5), "the new run's object"
    assert sandbox.state.media[media_id].generation["duration"] == 6
    logs = logged(capsys, caplog)
    assert "duration regenerate the video and spend credits" in logs
    assert "still shows the run from before the regeneration" in logs


def test_process_resubmits_the_media_and_waits_for_the_new_run(vimmerse_sandbox, airflow_db, tmp_path):
    sandbox = vimmerse_sandbox
    media_id = start_media()
    finished_media(sandbox, media_id)
    sandbox.client.configure(stale_success_seconds=1.5)
    dag = new_dag("media_process", tmp_path, **FAST)
    with dag:
        VimmerseProcessMediaOperator(task_id="process", media_id=media_id, deferrable=False)
    result = run_dag(dag, tmp_path, ["process"])

    assert result.states == {"process": "success"}
    [process] = posts(sandbox, f"/media/{media_id}/process")
    assert process["created"] and process["credits"] > 0
    expect_success(result.xcom("process"), sandbox, media_id)
    processed_at = datetime.fromisoformat(process["time"])
    assert datetime.fromisoformat(result.xcom("process")["updated_at"]) > processed_at + timedelta(seconds=1.5)
    assert sandbox.state.media[media_id].run == 2


def test_a_rerun_that_never_starts_fails_clearly_and_never_returns_the_old_video(
    vimmerse_sandbox, airflow_db, tmp_path, monkeypatch
):
    sandbox = vimmerse_sandbox
    media_id = start_media()
    finished_media(sandbox, media_id)
    sandbox.client.configure(stale_success_seconds=600)  # the new run never shows within the grace period
    monkeypatch.setattr(waiting, "DEFAULT_RERUN_GRACE", 1.0)  # the row says the default grace applies
    dag = new_dag("media_process_stuck", tmp_path, **FAST)
    with dag:
        VimmerseProcessMediaOperator(task_id="process", media_id=media_id, deferrable=True)
    result = run_dag(dag, tmp_path, ["process"])

    assert result.states == {"process": "failed"}
    [error] = result.errors_of("process")
    assert "still shows the run from before the process" in error and "earlier result is not taken" in error


def test_a_connection_without_an_api_key_fails_before_the_first_request(
    vimmerse_sandbox, airflow_db, tmp_path, monkeypatch
):
    # The API would only refuse a request without a key; the task says what the Test button says, sends nothing.
    monkeypatch.setenv("AIRFLOW_CONN_VIMMERSE_NOKEY", sandbox_conn_uri(vimmerse_sandbox.url, ""))
    dag = new_dag("media_without_a_key", tmp_path)
    with dag:
        VimmerseCreateMediaOperator(
            task_id="sync", prompt="a kite", vimmerse_conn_id="vimmerse_nokey", deferrable=False
        )
        VimmerseCreateMediaOperator(task_id="deferred", prompt="a kite", vimmerse_conn_id="vimmerse_nokey")
    result = run_dag(dag, tmp_path, ["sync", "deferred"])
    no_key = "No API key: put your Vimmerse API key in the connection's API Key (password) field."
    assert_failed_early(vimmerse_sandbox, result, {"sync": ("vimmerse_nokey.password", no_key), "deferred": (no_key,)})
