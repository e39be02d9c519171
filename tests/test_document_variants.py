"""
Every documented variant of an answer, end to end: real DAG runs against the sandbox serving that variant.

Where the API's documents disagree, the sandbox serves each side through a setting (docs/sandbox.md,
"Where the documents disagree"); the provider must handle all of them. One test per operator family,
parametrized over the non-default values of the settings that family reads (the defaults are what every
other test runs against). One DAG run per variant carries every operator the variant touches.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_vimmerse.operators.batch import VimmerseConcatBatchOperator, VimmerseCreateBatchOperator
from airflow_provider_vimmerse.operators.download import VimmerseDownloadOperator
from airflow_provider_vimmerse.operators.media import (
    VimmerseCreateMediaOperator,
    VimmerseProcessMediaOperator,
    VimmerseUpdateMediaOperator,
)
from airflow_provider_vimmerse.operators.story import (
    VimmerseConcatStoryOperator,
    VimmerseIdeaToVideoOperator,
    story_task_group,
)
from airflow_provider_vimmerse.operators.tools import VimmerseToolOperator
from airflow_provider_vimmerse.operators.video import VimmerseVideoOperator
from airflow_provider_vimmerse.sensors.job import VimmerseJobSensor
from tests.dag_runs import new_dag, run_dag

FAST = {"poll_interval": 0.2}
IDEA = "A paper boat crosses a lake at dawn"
CLIP = "https://cdn.test/clip.mp4"
IMAGES = ["https://cdn.test/a.png", "https://cdn.test/b.png"]


def variants(**values: list[object]) -> list[object]:
    """Return a pytest parameter per sandbox setting and non-default value given, named ``setting=value``."""
    return [pytest.param({setting: value}, id=f"{setting}={value}") for setting in values for value in values[setting]]


@pytest.fixture
def sandbox(vimmerse_sandbox, airflow_db, settings):
    """
    Return the sandbox serving the test's variant (its ``settings`` parameter), checked to have taken it.

    Its jobs, stale windows and composition are short enough for a DAG run of a few seconds.
    """
    vimmerse_sandbox.client.configure(job_seconds=0.5, stale_success_seconds=0.3, compose_seconds=0.3)
    vimmerse_sandbox.client.configure(**settings)
    served = vimmerse_sandbox.client.state()["settings"]
    assert {name: served[name] for name in settings} == settings
    return vimmerse_sandbox


def is_mp4(path: str) -> bool:
    """Return True for an ISO media file (an ``ftyp`` box first), the format of every output."""
    with open(path, "rb") as handle:
        return handle.read(8)[4:8] == b"ftyp"


def files_of(sandbox, name: str) -> str:
    """Return the URL at which the sandbox hosts one of its output files."""
    return f"{sandbox.url}/_sandbox/files/{name}"


# ---------------------------------------------------------------------- media: create, sense, edit, process, download


@pytest.mark.parametrize(
    "settings",
    variants(
        media_outputs=["result"],
        status_progress=["integer", "mixed"],
        media_get_wrapping=["once"],
        variation_downloads=["unnumbered"],
    ),
)
def test_media_operators_handle_every_documented_media_answer(sandbox, tmp_path, settings):
    out = tmp_path / "videos"
    dag = new_dag("variants_media", tmp_path, **FAST)
    with dag:
        deferred = VimmerseCreateMediaOperator(task_id="deferred", prompt="a red kite", quantity=2, deferrable=True)
        here = VimmerseCreateMediaOperator(task_id="here", prompt="a calm sea", deferrable=False)
        started = VimmerseCreateMediaOperator(task_id="started", prompt="a fox", wait_for_completion=False)
        sensor = VimmerseJobSensor(
            task_id="sensor", kind="media", job_id="{{ ti.xcom_pull(task_ids='started')['id'] }}", poke_interval=0.2
        )
        started >> sensor
        media_id = "{{ ti.xcom_pull(task_ids='here')['id'] }}"
        edit = VimmerseUpdateMediaOperator(task_id="edit", media_id=media_id, duration=3, deferrable=True)
        process = VimmerseProcessMediaOperator(task_id="process", media_id=media_id, deferrable=False)
        download = VimmerseDownloadOperator(task_id="download", job=[deferred.output, process.output], destination=out)
        here >> edit >> process >> download
    tasks = ["deferred", "here", "started", "sensor", "edit", "process", "download"]
    result = run_dag(dag, tmp_path, tasks)

    assert set(result.states.values()) == {"success"}, result.errors
    by_result = settings.get("media_outputs") == "result"
    # (task, its media, how many generations it has seen, how many variations each made)
    runs = [("deferred", result.xcom("deferred")["id"], 1, 2), ("here", result.xcom("here")["id"], 1, 1)]
    runs += [("sensor", result.xcom("started")["id"], 1, 1), ("edit", runs[1][1], 2, 1), ("process", runs[1][1], 3, 1)]
    for task, media_id, version, quantity in runs:
        value = result.xcom(task)
        assert (value["kind"], value["id"], value["status"], value["progress"]) == ("media", media_id, "success", 100)
        if by_result:  # media.txt "Get Media" code: result[i]["url"], one per variation of the latest run
            expected = [files_of(sandbox, f"{media_id}-v{version}-{n}.mp4") for n in range(1, quantity + 1)]
        elif quantity == 1:  # every example: "result": [], the video is at the download route
            expected = [f"{sandbox.url}/media/{media_id}/download?object_type=bullet_video_mp4"]
        else:  # one per paid variation, by motion_type (platform-api-v1-legacy.txt l.213: Auto1 after Quantity=2)
            route = f"{sandbox.url}/media/{media_id}/download?object_type=bullet_video_mp4&motion_type=Auto"
            expected = [f"{route}{n}" for n in range(1, quantity + 1)]
        assert value["video_urls"] == expected, f"{task} returns the outputs of its own run"
    assert sandbox.state.media[runs[1][1]].generation["duration"] == 3, "the edit reached the API"

    paths = result.xcom("download")
    first, rerun = runs[0][1], runs[1][1]
    if by_result:  # the hosted files, named by their URL
        names = [f"{first}-v1-1.mp4", f"{first}-v1-2.mp4", f"{rerun}-v3-1.mp4"]
    elif settings.get("variation_downloads") == "unnumbered":  # Auto1, Auto2 are 404: the media's video as such
        names = [f"{first}-v1.mp4", f"{rerun}-v3.mp4"]
    else:  # the download route's file name: <id>-v<bullet_version>[-<variation>].mp4
        names = [f"{first}-v1-1.mp4", f"{first}-v1-2.mp4", f"{rerun}-v3.mp4"]
    assert [Path(path).name for path in paths] == names, "every output, the reprocessed media's newest video"
    assert all(is_mp4(path) for path in paths), "real videos were written"
    assert {Path(path).parent for path in paths} == {out}


# ---------------------------------------------------------------------- story: one step and step by step


@pytest.mark.parametrize(
    "settings", variants(story_wrapping=["twice"], story_step_status=["processing"], group_is_transition=["boolean"])
)
def test_story_operators_handle_every_documented_story_answer(sandbox, tmp_path, settings):
    dag = new_dag("variants_story", tmp_path, **FAST)
    with dag:
        VimmerseIdeaToVideoOperator(task_id="idea", idea=IDEA, scene_count=2, is_transition=True, deferrable=True)
        # the advanced flow, one task per step: storyboard -> elements -> scenes -> videos (not deferred)
        story_task_group("steps", idea=IDEA, scene_count=2, is_transition=True, deferrable=False)
        videos = dag.get_task("steps.videos")
        VimmerseConcatStoryOperator(task_id="concat", story_id=videos.output, deferrable=True)
    tasks = ["idea", "steps.storyboard", "steps.elements", "steps.scenes", "steps.videos", "concat"]
    result = run_dag(dag, tmp_path, tasks)

    assert set(result.states.values()) == {"success"}, result.errors
    idea, steps = result.xcom("idea"), [result.xcom(task) for task in tasks[1:]]
    assert (idea["kind"], idea["status"]) == ("story", "success")
    assert idea["video_urls"] == [files_of(sandbox, f"{idea['id']}-v1.mp4")]
    assert len(idea["medias"]) == 2 and idea["finished_count"] == 2
    story_id = steps[0]["id"]
    assert {step["id"] for step in steps} == {story_id}, "every step worked on the same story"
    assert [len(step["storyboard"]["scenes"]) for step in steps[:3]] == [2, 2, 2]
    assert all(scene.get("image_url") for scene in steps[2]["storyboard"]["scenes"]), "the scenes were drawn"
    step_status = settings.get("story_step_status", "new")
    assert [step["status"] for step in steps[:3]] == ["new", step_status, step_status]
    assert steps[3]["video_urls"] == [files_of(sandbox, f"{story_id}-v1.mp4")]
    assert steps[3]["finished_count"] == 2
    assert steps[4]["video_urls"] == [files_of(sandbox, f"{story_id}-concat1.mp4")]
    transitions = [sandbox.state.groups[job_id].generation["is_transition"] for job_id in (idea["id"], story_id)]
    assert transitions == [True, True], "both stories were made with transitions"


# ---------------------------------------------------------------------- concat of a batch and of a story


@pytest.mark.parametrize("settings", variants(concat_answer=["bare", "wrapped"], group_is_transition=["boolean"]))
def test_concat_operators_handle_every_documented_concat_answer(sandbox, tmp_path, settings):
    out = tmp_path / "videos"
    dag = new_dag("variants_concat", tmp_path, **FAST)
    with dag:
        batch = VimmerseCreateBatchOperator(task_id="batch", image_urls=IMAGES, duration=2, deferrable=True)
        batch_concat = VimmerseConcatBatchOperator(
            task_id="batch_concat", batch_id="{{ ti.xcom_pull(task_ids='batch')['id'] }}"
        )
        batch >> batch_concat
        story = VimmerseIdeaToVideoOperator(task_id="story", idea=IDEA, scene_count=2, deferrable=False)
        story_concat = VimmerseConcatStoryOperator(task_id="story_concat", story_id=story.output, deferrable=True)
        VimmerseDownloadOperator(task_id="download", job=[batch_concat.output, story_concat.output], destination=out)
    tasks = ["batch", "batch_concat", "story", "story_concat", "download"]
    result = run_dag(dag, tmp_path, tasks)

    assert set(result.states.values()) == {"success"}, result.errors
    for made, composed, kind in (("batch", "batch_concat", "batch"), ("story", "story_concat", "story")):
        job_id = result.xcom(made)["id"]
        assert result.xcom(made)["video_urls"] == [files_of(sandbox, f"{job_id}-v1.mp4")]
        value = result.xcom(composed)
        assert (value["kind"], value["id"], value["status"]) == (kind, job_id, "success")
        assert value["video_urls"] == [files_of(sandbox, f"{job_id}-concat1.mp4")], "the new video, not the old"
        assert len(sandbox.client.ledger(path=f"/{kind}/{job_id}/concat", method="POST")) == 1, "composed once"
    paths = result.xcom("download")
    names = [f"{result.xcom(made)['id']}-concat1.mp4" for made in ("batch", "story")]
    assert [Path(path).name for path in paths] == names
    assert all(is_mp4(path) for path in paths), "real videos were written"


# ---------------------------------------------------------------------- a finished batch without a composed video


@pytest.mark.parametrize("settings", variants(batch_video_url=["never"]))
def test_a_batch_that_never_shows_a_composed_video_ends_with_its_media_and_concat_still_composes(
    sandbox, tmp_path, settings
):
    # platform-api-v1-legacy.txt "Get Batch": success, 100 %, no video_url. The wait must not run to its 2-hour
    # timeout after every media was paid for; concat, which pays for the composed video, still waits for it.
    dag = new_dag("variants_batch_video_url", tmp_path, **FAST)
    with dag:
        deferred = VimmerseCreateBatchOperator(
            task_id="deferred", image_urls=IMAGES, duration=2, compose_timeout=1.5, deferrable=True
        )
        VimmerseCreateBatchOperator(task_id="here", image_urls=IMAGES, duration=2, compose_timeout=0, deferrable=False)
        concat = VimmerseConcatBatchOperator(task_id="concat", batch_id="{{ ti.xcom_pull(task_ids='deferred')['id'] }}")
        download = VimmerseDownloadOperator(task_id="download", job=deferred.output, destination=tmp_path / "videos")
        deferred >> [concat, download]
    result = run_dag(dag, tmp_path, ["deferred", "here", "concat", "download"])

    assert set(result.states.values()) == {"success"}, result.errors
    for task in ("deferred", "here"):
        value = result.xcom(task)
        assert (value["status"], value["composed"], value["video_urls"]) == ("success", False, [])
        assert [media["status"] for media in value["medias"]] == ["success", "success"]
        for media in value["medias"]:  # every media paid for is there, with its output
            assert media["video_urls"] == [f"{sandbox.url}/media/{media['id']}/download?object_type=bullet_video_mp4"]
    batch_id = result.xcom("deferred")["id"]
    assert result.xcom("concat")["video_urls"] == [files_of(sandbox, f"{batch_id}-concat1.mp4")]
    assert len(sandbox.client.ledger(path="/batch", method="POST")) == 2, "each batch was paid for once"
    paths = result.xcom("download")
    assert len(paths) == 2 and all(is_mp4(path) for path in paths), "without a composed video, each media's video"


# ---------------------------------------------------------------------- audio tools


@pytest.mark.parametrize("settings", variants(audio_answer=["url_list", "legacy"]))
def test_audio_tools_return_the_audio_in_every_documented_answer(sandbox, tmp_path, settings):
    dag = new_dag("variants_audio", tmp_path, **FAST)
    with dag:
        VimmerseToolOperator(task_id="speech", tool="audio/text-2-speech", prompt="Welcome!", voice="Aria")
        VimmerseToolOperator(task_id="effect", tool="audio/text-2-sound-effect", prompt="rain on a roof", duration=8)
    result = run_dag(dag, tmp_path, ["speech", "effect"])

    assert result.states == {"speech": "success", "effect": "success"}, result.errors
    for task, path in (("speech", "/audio/text-2-speech"), ("effect", "/audio/text-2-sound-effect")):
        [sent] = sandbox.client.ledger(path=path, method="POST")
        value = result.xcom(task)
        assert value["status"] == "success"
        assert value["urls"] == value["video_urls"] == [files_of(sandbox, f"{sent['job_id']}-1.mp3")]
        polls = sandbox.client.ledger(path=f"/asset/{sent['job_id']}", method="GET")
        if settings["audio_answer"] == "legacy":  # an asset without results or status: read it to get them
            assert value["id"] == sent["job_id"] and polls
        else:  # a list of URLs: the output itself, no asset to follow
            assert value["id"] == "" and not polls


# ---------------------------------------------------------------------- assets read through GET /asset/{id}


@pytest.mark.parametrize("settings", variants(asset_get_wrapping=["once"]))
def test_asset_waits_read_every_documented_asset_answer(sandbox, tmp_path, settings):
    dag = new_dag("variants_asset", tmp_path, **FAST)
    with dag:
        VimmerseVideoOperator(task_id="deferred", tool="enhance", video_url=CLIP, deferrable=True)
        VimmerseVideoOperator(task_id="here", tool="sound-effect", video_url=CLIP, prompt="rain", deferrable=False)
        VimmerseVideoOperator(task_id="fails", tool="sound-effect", video_url=CLIP, prompt="[sandbox:fail]")
        VimmerseToolOperator(task_id="image", tool="image/text-2-image", prompt="a kite", async_mode=True)
    result = run_dag(dag, tmp_path, ["deferred", "here", "image"])

    assert result.states == {"deferred": "success", "here": "success", "fails": "failed", "image": "success"}
    for task, extension in (("deferred", "mp4"), ("here", "mp4"), ("image", "png")):
        value = result.xcom(task)
        assert value["status"] == "success"
        assert value["urls"] == [files_of(sandbox, f"{value['id']}-1.{extension}")]
        assert sandbox.client.ledger(path=f"/asset/{value['id']}", method="GET"), "waited on through GET /asset"
    [error] = result.errors_of("fails")
    [failed_id] = set(sandbox.state.assets) - {result.xcom(task)["id"] for task in ("deferred", "here", "image")}
    assert f"asset {failed_id} failed on the Vimmerse side" in error


# ---------------------------------------------------------------------- error bodies with a code


@pytest.mark.parametrize("settings", variants(error_code_field=[True]))
def test_errors_name_the_servers_message_and_code(sandbox, tmp_path, settings):
    sandbox.client.configure(credits=0)
    missing_video = f"{sandbox.url}/media/no-such-media/download?object_type=bullet_video_mp4"
    dag = new_dag("variants_errors", tmp_path, **FAST)
    with dag:
        VimmerseProcessMediaOperator(task_id="process", media_id="no-such-media")
        VimmerseConcatStoryOperator(task_id="concat", story_id="no-such-story")
        VimmerseDownloadOperator(
            task_id="download",
            job={"kind": "media", "id": "no-such-media", "video_urls": [missing_video]},
            destination=tmp_path / "videos",
        )
        VimmerseCreateMediaOperator(task_id="create", prompt="a red kite")
    result = run_dag(dag, tmp_path)

    assert set(result.states.values()) == {"failed"}
    expected = {
        "process": "GET /media/no-such-media answered 404: not found (MEDIA_NOT_FOUND)",
        "concat": "GET /story/no-such-story answered 404: not found (NOT_FOUND)",
        # a sentence or a code as the message, and a code beside it: both are named
        "download": "GET /media/no-such-media/download answered 400: the server refused the input: "
        "MEDIA_NOT_FOUND [BAD_REQUEST]",
        "create": "POST /media answered 402: the Vimmerse account is out of credits (INSUFFICIENT_CREDIT). "
        "Add credits; this is not retried.",
    }
    for task, message in expected.items():
        [error] = result.errors_of(task)
        assert message in error, task
