"""
The story operators in a real Airflow (``dag.test()``) against the sandbox API over real HTTP.

Inputs checked before any request, idea-, url- and images-to-video in one step, publishing a story
(``PUT /story/{id}``), and the advanced flow one task per step with a Python task editing the
storyboard in between: the edit must reach the API.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from airflow_provider_vimmerse.api import story
from airflow_provider_vimmerse.api.responses import unwrap
from airflow_provider_vimmerse.api.routes import Send
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.operators.story import (
    VimmerseConcatStoryOperator,
    VimmerseCreateStoryboardOperator,
    VimmerseCreateStoryElementsOperator,
    VimmerseCreateStoryScenesOperator,
    VimmerseCreateStoryVideosOperator,
    VimmerseIdeaToVideoOperator,
    VimmerseImagesToVideoOperator,
    VimmerseUpdateStoryOperator,
    VimmerseUrlToVideoOperator,
    story_task_group,
)
from airflow_provider_vimmerse.sandbox.pytest_plugin import CONN_ENV_VAR, sandbox_conn_uri
from tests.cluster import wait_until
from tests.dag_runs import DagRunResult, new_dag, python_task, run_dag
from tests.operators.conftest import FAST, NEEDS_STATE_STORE, assert_failed_early, assert_refused, logged, sample_images

IDEA = "A paper boat crosses a lake at dawn"
PAGE = "https://shop.example.com/products/paper-boat"
PHOTOS = ["https://shop.example.com/boat-1.png", "https://shop.example.com/boat-2.png"]
BOARD = {"characters": [], "environments": [], "objects": [], "scenes": [{"description": "a lake"}]}
pytestmark = pytest.mark.usefixtures("quick_jobs")


def make_story(sandbox, tmp_path, dag_id: str, operator, **options) -> tuple[DagRunResult, Any, dict]:
    """
    Make a two-scene story in one step with ``operator``: one task, ``story``, waiting in the triggerer.

    Check the task returned the sandbox's one story with its video; return the run, the story and the result.
    """
    dag = new_dag(dag_id, tmp_path, **FAST)
    with dag:
        operator(task_id="story", scene_count=2, deferrable=True, **options)
    result = run_dag(dag, tmp_path, ["story"], keys=["return_value", "story_id", "storyboard"])

    assert result.states == {"story": "success"}, result.errors
    group = the_story(sandbox)
    value = result.xcom("story")
    assert (value["kind"], value["id"], value["status"]) == ("story", group.id, "success")
    assert value["video_urls"] == [f"{sandbox.url}/_sandbox/files/{group.id}-v1.mp4"]
    assert result.xcom("story", "story_id") == group.id
    return result, group, value


def the_story(sandbox):
    """Return the sandbox's only story."""
    [group] = [g for g in sandbox.state.groups.values() if g.kind == "story"]
    return group


def photo_urls() -> list[str]:
    """The upstream task that lists a product's photos."""
    return PHOTOS


def add_sunset(storyboard: dict) -> dict:
    """The edit a person or a Python task makes between two steps: reword one scene, add another."""
    storyboard["scenes"][0]["description"] = "EDITED: the boat glows at sunset"
    storyboard["scenes"].append({"title": "Coda", "description": "EDITED: the lake at night", "narrator": "The end."})
    return storyboard


# ---------------------------------------------------------------------- inputs checked before any request


@pytest.mark.parametrize(
    ("operator", "kwargs", "field", "allowed"),
    [
        (VimmerseIdeaToVideoOperator, {"idea": "  "}, "'idea'", "is required"),
        (VimmerseIdeaToVideoOperator, {"idea": IDEA, "scene_count": 0}, "'scene_count'", "at least 1"),
        (
            VimmerseIdeaToVideoOperator,
            {"idea": IDEA, "seed": 4669},
            "'seed'",
            "not a field of POST /story/idea-2-video",
        ),
        (VimmerseIdeaToVideoOperator, {"idea": IDEA, "video_tool": "Sora"}, "'video_tool'", "'KlingAI', 'Seedance'"),
        (VimmerseIdeaToVideoOperator, {"idea": IDEA, "image_tool": "Dalle"}, "'image_tool'", "'Seedream'"),
        (VimmerseIdeaToVideoOperator, {"idea": IDEA, "scene_duration": 7}, "'scene_duration'", "5, 10"),
        (VimmerseIdeaToVideoOperator, {"idea": IDEA, "language": "Klingon"}, "'language'", "'English'"),
        (VimmerseIdeaToVideoOperator, {"idea": IDEA, "aspect_ratio": "21:9"}, "'aspect_ratio'", "'9:16'"),
        (
            VimmerseIdeaToVideoOperator,
            {"idea": IDEA, "audio_option": {"narrator": "HAL"}},
            "'audio_option.narrator'",
            "'Rachel'",
        ),
        (VimmerseCreateStoryboardOperator, {"idea": IDEA, "scene_count": -1}, "'scene_count'", "at least 1"),
        (VimmerseCreateStoryboardOperator, {"idea": IDEA, "aspect_ratio": "21:9"}, "'aspect_ratio'", "'9:16'"),
        (VimmerseCreateStoryboardOperator, {"idea": IDEA, "elements": {"props": []}}, "'elements'", "'characters'"),
        (
            VimmerseCreateStoryElementsOperator,
            {"story_id": "s1", "option": "Midjourney"},
            "'option'",
            "'FluxKontextPro'",
        ),
        (
            VimmerseCreateStoryScenesOperator,
            {"story_id": "s1", "storyboard": {"scenes": []}},
            "'storyboard.scenes'",
            "non-empty",
        ),
        (
            VimmerseCreateStoryScenesOperator,
            {"story_id": "s1", "storyboard": "{not json"},
            "'storyboard'",
            "not valid JSON",
        ),
        (
            VimmerseCreateStoryVideosOperator,
            {"story_id": "s1", "motion_type": "TryOnVideo"},
            "'motion_type'",
            "'KlingAI'",
        ),
        (VimmerseCreateStoryVideosOperator, {"story_id": "s1", "duration": 11}, "'duration'", "from 1 to 10"),
        (VimmerseConcatStoryOperator, {"story_id": "s1", "audio_urls": ["file:///a.mp3"]}, "'audio_urls[0]'", "http"),
        (VimmerseUrlToVideoOperator, {"idea": IDEA}, "'idea'", "must hold the URL of the web page"),
        (VimmerseUrlToVideoOperator, {"idea": f"{PAGE} an ad", "seed": 1}, "'seed'", "POST /story/url-2-video"),
        (VimmerseUrlToVideoOperator, {"idea": f"{PAGE} an ad", "video_tool": "Sora"}, "'video_tool'", "'VeoFast'"),
        (VimmerseImagesToVideoOperator, {"image_urls": []}, "'image_urls'", "at least one public image URL"),
        (VimmerseImagesToVideoOperator, {"image_urls": ["boat.png"]}, "'image_urls[0]'", "http"),
        (VimmerseImagesToVideoOperator, {"image_urls": PHOTOS, "idea": " "}, "'idea'", "non-empty"),
        (VimmerseImagesToVideoOperator, {"image_urls": PHOTOS, "scene_count": 3}, "'scene_count'", "one scene per"),
        (VimmerseImagesToVideoOperator, {"image_urls": PHOTOS, "image_tool": "Seedream"}, "'image_tool'", "nothing"),
        (VimmerseImagesToVideoOperator, {"image_urls": PHOTOS, "elements": {"objects": []}}, "'elements'", "Images2"),
        (VimmerseImagesToVideoOperator, {"image_urls": PHOTOS, "seed": 4669}, "'seed'", "images-2-video"),
        (
            VimmerseImagesToVideoOperator,
            {"image_urls": PHOTOS, "extra_params": {"scene_count": 3}},
            "'scene_count'",
            "one scene per image",
        ),
        (VimmerseImagesToVideoOperator, {"image_urls": PHOTOS, "scene_duration": 7}, "'scene_duration'", "5, 10"),
        (VimmerseUpdateStoryOperator, {"story_id": "s1"}, "'changes'", "at least one field"),
        (VimmerseUpdateStoryOperator, {"story_id": "s1", "visibility_status": "public"}, "'visibility_status'", "'2'"),
        (VimmerseUpdateStoryOperator, {"story_id": "s1", "changes": {"idea": "x"}}, "'changes'", "visibility_status"),
        (
            VimmerseUpdateStoryOperator,
            {"story_id": "s1", "additional_videos": ["clip.mp4"]},
            "'additional_videos[0]'",
            "http",
        ),
    ],
)
def test_a_literal_bad_input_is_refused_when_the_dag_is_parsed(vimmerse_sandbox, operator, kwargs, field, allowed):
    assert_refused(vimmerse_sandbox, operator, {"task_id": "step", **kwargs}, field, allowed)


def test_templated_bad_inputs_fail_the_task_before_any_request(vimmerse_sandbox, airflow_db, tmp_path):
    dag = new_dag("story_templated_bad_inputs", tmp_path, retries=1)
    with dag:
        VimmerseIdeaToVideoOperator(task_id="no_scenes", idea=IDEA, scene_count="{{ params.n }}", params={"n": 0})
        VimmerseCreateStoryboardOperator(task_id="missing_image", idea=IDEA, image_files=[str(tmp_path / "gone.png")])
        VimmerseCreateStoryScenesOperator(
            task_id="board_without_scenes", story_id="s1", storyboard="{{ params.board }}", params={"board": "{}"}
        )
        VimmerseCreateStoryVideosOperator(task_id="no_story", story_id="{{ params.none }}", params={"none": ""})
    result = run_dag(dag, tmp_path)

    errors = {
        "no_scenes": ("'scene_count'", "at least 1"),
        "missing_image": ("'image_files[0]'", "gone.png"),
        "board_without_scenes": ("'storyboard.scenes'",),
        "no_story": ("'story_id'",),
    }
    assert_failed_early(vimmerse_sandbox, result, errors)


# ---------------------------------------------------------------------- the requests as the API documents them


def test_idea_to_video_is_a_json_body_and_the_steps_send_json_strings_in_form_fields():
    one_step = story.IDEA_TO_VIDEO.request({"idea": IDEA, "scene_count": 3, "elements": json.dumps({"objects": []})})
    assert (one_step.method, one_step.path, one_step.form) == ("POST", "/story/idea-2-video", None)
    assert one_step.json == {"idea": IDEA, "scene_count": 3, "elements": {"objects": []}}

    step_result = {"kind": "story", "id": "s1", "storyboard": BOARD}
    scenes = story.SCENES.request({"storyboard": step_result, "option": "Seedream", "seed": 4669}, job_id="s1")
    assert scenes.path == "/story/s1/scenes" and scenes.spends_credits
    form = dict(scenes.form)
    assert json.loads(form["storyboard"]) == BOARD, "the storyboard goes as a JSON string"
    assert (form["option"], form["seed"]) == ("Seedream", "4669")
    concat = story.CONCAT.request({"audio_urls": ["https://a.test/1.mp3", "https://a.test/2.mp3"]}, job_id="s1")
    assert [v for k, v in concat.form if k == "audio_urls"] == ["https://a.test/1.mp3", "https://a.test/2.mp3"]


def test_url_and_images_to_video_are_json_bodies_and_an_update_is_a_free_form():
    page = story.URL_TO_VIDEO.request({"idea": f"{PAGE} an ad", "scene_count": "3"})
    assert (page.method, page.path, page.form, page.spends_credits) == ("POST", "/story/url-2-video", None, True)
    assert page.json == {"idea": f"{PAGE} an ad", "scene_count": 3}
    photos = story.IMAGES_TO_VIDEO.request({"image_urls": PHOTOS, "audio_option": '{"native_audio": true}'})
    assert photos.path == "/story/images-2-video"
    assert photos.json == {"image_urls": PHOTOS, "audio_option": {"native_audio": True}}, "no idea: the API's default"
    update = story.UPDATE.request({"title": "T", "visibility_status": 2, "additional_videos": PHOTOS[:1]}, job_id="s1")
    assert (update.method, update.path, update.json, update.spends_credits) == ("PUT", "/story/s1", None, False)
    assert dict(update.form) == {"title": "T", "visibility_status": "2", "additional_videos": json.dumps(PHOTOS[:1])}


# ---------------------------------------------------------------------- end to end


def test_idea_to_video_waits_for_the_story_video(vimmerse_sandbox, airflow_db, tmp_path, capsys, caplog):
    idea = {
        "idea": IDEA + " on {{ dag.dag_id }}",
        "title": "Boat",
        "aspect_ratio": "9:16",
        "video_tool": "KlingAI",
        "scene_duration": 10,
        "is_transition": True,
        "audio_option": {"narrator": "Aria", "has_bg_music": True},
    }
    result, group, value = make_story(
        vimmerse_sandbox, tmp_path, "story_idea_to_video", VimmerseIdeaToVideoOperator, **idea
    )

    assert group.idea == IDEA + " on story_idea_to_video" and group.title == "Boat"
    gen = group.generation
    assert (gen["motion_type"], gen["duration"], gen["aspect_ratio"], gen["is_transition"]) == (
        "KlingAI", 10, "9:16", True
    )  # fmt: skip
    assert len(value["storyboard"]["scenes"]) == 2 and len(value["medias"]) == 2
    assert value["used_credits"] == group.used_credits > 0
    assert result.xcom("story", "storyboard") == value["storyboard"]
    assert re.search(rf"story {group.id}: \d+% \w+ \(\d/2 finished, 0 failed\)", logged(capsys, caplog))


def test_url_to_video_reads_the_page_and_waits_in_the_triggerer_for_the_story_video(
    vimmerse_sandbox, airflow_db, tmp_path, capsys, caplog
):
    page = {
        "idea": PAGE + " A bright ad for {{ dag.dag_id }}",
        "title": "Boat page",
        "image_tool": "NanoBanana",
        "language": "Spanish",
        "elements": {"objects": [{"name": "logo", "description": "the shop's logo", "image_url": PHOTOS[0]}]},
    }
    _, group, value = make_story(vimmerse_sandbox, tmp_path, "story_url_to_video", VimmerseUrlToVideoOperator, **page)

    [post] = vimmerse_sandbox.client.ledger(method="POST")
    assert (post["path"], post["job_id"], post["created"]) == ("/story/url-2-video", group.id, True)
    assert group.idea == PAGE + " A bright ad for story_url_to_video" and group.title == "Boat page"
    assert len(value["storyboard"]["scenes"]) == 2 and value["used_credits"] == group.used_credits > 0
    logs = logged(capsys, caplog)
    assert "Sending POST /story/url-2-video (spends credits)" in logs
    assert "in the triggerer" in logs


def test_images_to_video_makes_one_scene_per_image(vimmerse_sandbox, airflow_db, tmp_path):
    sandbox = vimmerse_sandbox
    dag = new_dag("story_images_to_video", tmp_path, **FAST)
    with dag:
        photos = python_task("photo_urls", photo_urls)
        VimmerseImagesToVideoOperator(
            task_id="photos",
            image_urls=photos.output,
            title="Boat photos",
            aspect_ratio="1:1",
            video_tool="Seedance",
            scene_duration=10,
            audio_option={"narrator": "Charlie", "has_narration": True, "native_audio": False},
            deferrable=False,
        )
    result = run_dag(dag, tmp_path, ["photos"])

    assert result.states == {"photo_urls": "success", "photos": "success"}, result.errors
    group = the_story(sandbox)
    [post] = sandbox.client.ledger(method="POST")
    assert post["path"] == "/story/images-2-video" and post["credits"] == group.used_credits
    assert [scene["image_url"] for scene in group.storyboard["scenes"]] == PHOTOS, "each scene is its image"
    assert len(group.media_ids) == len(PHOTOS), "one scene video per image"
    assert group.idea.startswith("Create a stunning video"), "no idea sent: the schema's default applies"
    gen = group.generation
    assert (gen["motion_type"], gen["duration"], gen["aspect_ratio"]) == ("Seedance", 10, "1:1")
    value = result.xcom("photos")
    assert value["video_urls"] == [f"{sandbox.url}/_sandbox/files/{group.id}-v1.mp4"]
    assert value["finished_count"] == len(PHOTOS)


def test_publishing_a_story_is_free_and_returns_the_updated_story_at_once(
    vimmerse_sandbox, airflow_db, tmp_path, capsys, caplog
):
    sandbox = vimmerse_sandbox
    story_id = unwrap(VimmerseHook().request(story.IDEA_TO_VIDEO.request({"idea": IDEA, "scene_count": 1})))["id"]
    credits = sandbox.client.state()["credits"]
    extra = ["https://cdn.example.com/teaser.mp4", "https://cdn.example.com/behind-the-scenes.mp4"]
    dag = new_dag("story_publish", tmp_path)
    with dag:
        VimmerseUpdateStoryOperator(
            task_id="publish",
            story_id={"kind": "story", "id": story_id},
            title="Boat, {{ ds }}",
            visibility_status=2,
            changes={"description": "A paper boat", "additional_videos": extra},
        )
    result = run_dag(dag, tmp_path, ["publish"])

    assert result.states == {"publish": "success"}, result.errors
    [update] = sandbox.client.ledger(method="PUT")
    assert (update["path"], update["created"], update["credits"]) == (f"/story/{story_id}", False, 0)
    assert sandbox.client.state()["credits"] == credits, "nothing was paid"
    group = sandbox.state.groups[story_id]
    assert (group.title.startswith("Boat, "), group.description, group.visibility_status) == (True, "A paper boat", "2")
    assert group.additional_videos == extra, "the internal additional_videos field was kept"
    value = result.xcom("publish")
    assert (value["kind"], value["id"], value["title"]) == ("story", story_id, group.title)
    assert "metadata updated" in logged(capsys, caplog)


def test_the_advanced_flow_carries_an_edited_storyboard_to_the_api(
    vimmerse_sandbox, airflow_db, tmp_path, capsys, caplog
):
    sandbox = vimmerse_sandbox
    [image] = sample_images(tmp_path, "boat.png")
    dag = new_dag("story_advanced_flow", tmp_path, **FAST)
    with dag:
        board = VimmerseCreateStoryboardOperator(
            task_id="storyboard",
            idea=IDEA,
            title="Boat",
            scene_count=2,
            language="French",
            audio_option={"narrator": "Rachel", "has_narration": True},
            image_files=[image],
        )
        edit = python_task("edit", add_sunset, op_args=[board.output["storyboard"]])
        elements = VimmerseCreateStoryElementsOperator(
            task_id="elements", story_id=board.output["story_id"], storyboard=edit.output, option="FluxKontextPro"
        )
        scenes = VimmerseCreateStoryScenesOperator(
            task_id="scenes", story_id=board.output, storyboard=elements.output, seed=4669
        )
        videos = VimmerseCreateStoryVideosOperator(
            task_id="videos",
            story_id=scenes.output["story_id"],
            storyboard=scenes.output["storyboard"],
            title="Boat, final",
            motion_type="Seedance",
            duration=3,
            deferrable=False,
        )
        concat = VimmerseConcatStoryOperator(
            task_id="concat", story_id=videos.output, audio_urls=["https://audio.test/theme.mp3"], deferrable=True
        )
        edit >> elements >> scenes >> videos >> concat
    tasks = ["storyboard", "elements", "scenes", "videos", "concat"]
    result = run_dag(dag, tmp_path, tasks)

    assert set(result.states.values()) == {"success"}, result.errors
    group = the_story(sandbox)
    posts = [(e["method"], e["path"]) for e in sandbox.client.ledger(method="POST")]
    assert posts == [
        ("POST", "/story"),
        ("POST", f"/story/{group.id}/elements"),
        ("POST", f"/story/{group.id}/scenes"),
        ("POST", f"/story/{group.id}/videos"),
        ("POST", f"/story/{group.id}/concat"),
    ], "one request per step, each once, on the same story"

    # The edit reached the API: the story's storyboard has it, and the scene videos were made from it.
    scenes_sent = group.storyboard["scenes"]
    assert [s["description"] for s in scenes_sent][-2:] == ["Scene 2 of 2: " + IDEA, "EDITED: the lake at night"]
    assert scenes_sent[0]["description"] == "EDITED: the boat glows at sunset"
    prompts = [sandbox.state.media[m].generation["prompt"] for m in group.media_ids]
    assert prompts == [s["description"] for s in scenes_sent], "one scene video per edited scene"
    assert (group.title, group.generation["motion_type"], group.generation["duration"]) == (
        "Boat, final",
        "Seedance",
        3,
    )

    # Each step returned the story with its storyboard, as the API left it after that step.
    after_elements = result.xcom("elements")["storyboard"]
    assert all(e.get("image_url") for e in after_elements["characters"]), "element images were drawn"
    after_scenes = result.xcom("scenes")["storyboard"]
    assert len(after_scenes["scenes"]) == 3 and all(s.get("image_url") for s in after_scenes["scenes"])
    assert result.xcom("storyboard")["status"] == "new" and not result.xcom("storyboard")["video_urls"]
    final = result.xcom("videos")
    assert final["video_urls"] == [f"{sandbox.url}/_sandbox/files/{group.id}-v1.mp4"]
    assert [m["id"] for m in final["medias"]] == group.media_ids and final["finished_count"] == 3
    assert result.xcom("concat")["video_urls"] == [f"{sandbox.url}/_sandbox/files/{group.id}-concat1.mp4"]
    logs = logged(capsys, caplog)
    assert f"story {group.id}: scenes done" in logs and "storyboard has 3 scene(s)" in logs


def test_the_task_group_chains_the_steps_with_an_edit(vimmerse_sandbox, airflow_db, tmp_path):
    sandbox = vimmerse_sandbox
    dag = new_dag("story_task_group", tmp_path, **FAST)
    with dag:
        story_task_group(
            "launch",
            idea=IDEA,
            scene_count=2,
            aspect_ratio="16:9",
            image_option="Seedream",
            edit_storyboard=add_sunset,
            motion_type="KlingAI",
            deferrable=True,
        )
    result = run_dag(dag, tmp_path, ["launch.videos"])

    assert result.states == {
        "launch.storyboard": "success",
        "launch.edit_storyboard": "success",
        "launch.elements": "success",
        "launch.scenes": "success",
        "launch.videos": "success",
    }, result.errors
    group = the_story(sandbox)
    assert group.storyboard["scenes"][0]["description"] == "EDITED: the boat glows at sunset"
    assert len(group.media_ids) == 3, "the edited storyboard's three scenes were animated"
    assert result.xcom("launch.videos")["video_urls"] == [f"{sandbox.url}/_sandbox/files/{group.id}-v1.mp4"]


# ---------------------------------------------------------------------- never pay twice across task retries


@NEEDS_STATE_STORE
@pytest.mark.parametrize("step", ["storyboard", "elements", "scenes"])
def test_a_retried_step_whose_paid_answer_came_reads_the_story_back_and_sends_nothing(
    vimmerse_sandbox, airflow_db, tmp_path, monkeypatch, capsys, caplog, step
):
    sandbox = vimmerse_sandbox
    story_id = None
    if step != "storyboard":  # the story the step works on, made before the DAG runs
        story_id = unwrap(VimmerseHook().request(story.STORYBOARD.request({"idea": IDEA, "scene_count": 2})))["id"]
    # The crash: the step is answered (and paid), then the task's read of the story fails (no hook retries on
    # this connection), so the first try ends between its paid request and the end of the task.
    monkeypatch.setenv(CONN_ENV_VAR, sandbox_conn_uri(sandbox.url, sandbox.api_key, retries=0))
    sandbox.client.add_fault(fault="status", status=500, method="GET", path="^/story/[^/]+$")
    dag = new_dag(f"story_{step}_retry", tmp_path, retries=1)
    with dag:
        if step == "storyboard":
            VimmerseCreateStoryboardOperator(task_id="step", idea=IDEA, scene_count=2)
        elif step == "elements":
            VimmerseCreateStoryElementsOperator(task_id="step", story_id=story_id, option="Seedream")
        else:
            VimmerseCreateStoryScenesOperator(task_id="step", story_id=story_id, seed=4669)
    result = run_dag(dag, tmp_path, ["step"], keys=["return_value", "story_id"])

    assert result.states == {"step": "success"}
    [first_try] = result.errors_of("step")
    assert "500" in first_try, "the first try failed after its paid answer"
    group = the_story(sandbox)
    route = "/story" if step == "storyboard" else f"/story/{group.id}/{step}"
    assert len(sandbox.client.ledger(path=route, method="POST")) == 1, f"POST {route} was paid once, not again"
    value = result.xcom("step")
    assert (value["kind"], value["id"]) == ("story", group.id)
    assert value["storyboard"] == group.storyboard and story.step_done(step, {"storyboard": value["storyboard"]})
    assert result.xcom("step", "story_id") == group.id
    assert f"story {group.id}: an earlier try of this task already sent the {step} step" in logged(capsys, caplog)


@NEEDS_STATE_STORE
@pytest.mark.parametrize(
    ("operator", "kwargs", "route"),
    [
        (VimmerseUrlToVideoOperator, {"idea": PAGE + " an ad", "scene_count": 1}, "/story/url-2-video"),
        (VimmerseImagesToVideoOperator, {"image_urls": PHOTOS}, "/story/images-2-video"),
    ],
    ids=["url-2-video", "images-2-video"],
)
def test_a_retry_after_a_crash_reattaches_to_the_one_step_story(
    vimmerse_sandbox, killed_then_retried, operator, kwargs, route
):
    sandbox = vimmerse_sandbox
    # The story's scenes take 2 s and its composition 1 s more: still running when the retry starts.
    sandbox.client.configure(job_seconds=2, compose_seconds=1)
    value, post = killed_then_retried(f"story_reattach_{route.rsplit('/', 1)[-1]}", operator, route, **kwargs)
    group = the_story(sandbox)
    assert post["job_id"] == group.id, "one story, paid once"
    assert value["video_urls"] == [f"{sandbox.url}/_sandbox/files/{group.id}-v1.mp4"]


# ---------------------------------------------------------------------- a slow paid step is not a failure


def test_a_step_whose_answer_is_late_is_waited_for_in_the_triggerer_and_never_sent_twice(
    vimmerse_sandbox, airflow_db, tmp_path, monkeypatch, capsys, caplog
):
    # openapi.json /story/{story_id}/scenes: "This step may take several minutes". The sandbox does each step,
    # then answers 3 s late; the task stops listening after 1 s (the elements step by the connection's
    # slow_step_timeout extra, the scenes step by its own answer_timeout).
    sandbox = vimmerse_sandbox
    story_id = unwrap(VimmerseHook().request(story.STORYBOARD.request({"idea": IDEA, "scene_count": 2})))["id"]
    conn = sandbox_conn_uri(sandbox.url, sandbox.api_key, slow_step_timeout=1, timeout=1, retries=0)
    monkeypatch.setenv(CONN_ENV_VAR, conn)
    for step in ("elements", "scenes", "videos", "concat"):
        sandbox.client.add_fault(fault="slow", delay=3, method="POST", path=f"^/story/{story_id}/{step}$")
    # the story's first read after the lost answer fails once, so the elements wait goes on in the triggerer
    sandbox.client.add_fault(fault="status", status=503, method="GET", path=f"^/story/{story_id}$", phase="before")
    dag = new_dag("story_late_answers", tmp_path, **FAST)
    with dag:
        elements = VimmerseCreateStoryElementsOperator(task_id="elements", story_id=story_id, deferrable=True)
        scenes = VimmerseCreateStoryScenesOperator(
            task_id="scenes", story_id=elements.output, answer_timeout=1, deferrable=False
        )
        # videos and concat answer at once by design (the connection's timeout, 1 s here): late, they time out too
        videos = VimmerseCreateStoryVideosOperator(task_id="videos", story_id=scenes.output, deferrable=True)
        concat = VimmerseConcatStoryOperator(task_id="concat", story_id=videos.output, deferrable=True)
        elements >> scenes >> videos >> concat
    result = run_dag(dag, tmp_path, ["elements", "scenes", "videos", "concat"])
    logs = logged(capsys, caplog)

    assert set(result.states.values()) == {"success"}, result.errors
    assert result.xcom("videos")["video_urls"] == [f"{sandbox.url}/_sandbox/files/{story_id}-v1.mp4"]
    assert result.xcom("concat")["video_urls"] == [f"{sandbox.url}/_sandbox/files/{story_id}-concat1.mp4"]
    for step in ("videos", "concat"):
        route = f"/story/{story_id}/{step}"
        posts = wait_until(lambda route=route: sandbox.client.ledger(path=route, method="POST"), 10, route)
        assert len(posts) == 1, f"POST {route} was paid once"
        assert f"POST {route} got no answer in time" in logs
    for step in ("elements", "scenes"):
        route = f"/story/{story_id}/{step}"
        # the late answer is written to the ledger when its 3 s are over, after the task stopped listening
        posts = wait_until(lambda route=route: sandbox.client.ledger(path=route, method="POST"), 10, route)
        assert len(posts) == 1, f"POST {route} was paid once"
        assert f"POST {route} got no answer in time" in logs and "it is not sent again" in logs
        assert story.step_done(step, {"storyboard": result.xcom(step)["storyboard"]})
    assert f"Waiting for story_elements {story_id} in the triggerer" in logs, "the late step waited in the triggerer"


def test_a_story_step_waits_ten_minutes_for_its_answer_unless_told_otherwise(vimmerse_sandbox):
    scenes = VimmerseCreateStoryScenesOperator(task_id="scenes", story_id="s1")
    assert scenes.answer_seconds() == 600, "the connection's default slow_step_timeout"
    assert VimmerseCreateStoryScenesOperator(task_id="own", story_id="s1", answer_timeout=900).answer_seconds() == 900
    req = story.SCENES.request({}, job_id="s1", read_timeout=scenes.answer_seconds())
    assert req.read_timeout == 600
    # videos answer at once: not a step answered when done, so the operator gives its request no read timeout
    assert story.VIDEOS.send is not Send.STEP and story.SCENES.send is Send.STEP
    assert story.VIDEOS.request({}, job_id="s1").read_timeout is None, "videos answer at once"
    assert_refused(
        vimmerse_sandbox,
        VimmerseCreateStoryScenesOperator,
        {"task_id": "x", "story_id": "s1", "answer_timeout": 0},
        "'answer_timeout'",
    )


@pytest.mark.parametrize("key", ["image_url", "URL"])
def test_elements_count_as_done_with_their_image_under_either_documented_key(key):
    # story.txt: an element's image is "URL" beside its name; openapi.json /elements example answers "URL"
    board = {"characters": [{"name": "Bunny", key: "https://example.com/bunny.png"}], "scenes": [{"name": "a"}]}
    assert story.step_done("elements", {"storyboard": board})
    assert not story.step_done("elements", {"storyboard": {"characters": [{"name": "Bunny"}]}})
