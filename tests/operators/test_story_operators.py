"""
The story operators in a real Airflow (``dag.test()``) against the sandbox API over real HTTP.

Inputs checked before any request, idea-to-video in one step, and the advanced flow one task per
step with a Python task editing the storyboard in between: the edit must reach the API.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest
from airflow import __version__ as airflow_version
from packaging.version import Version

from airflow_provider_vimmerse.api import story
from airflow_provider_vimmerse.api.responses import unwrap
from airflow_provider_vimmerse.exceptions import VimmerseInputError
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.operators.story import (
    VimmerseConcatStoryOperator,
    VimmerseCreateStoryboardOperator,
    VimmerseCreateStoryElementsOperator,
    VimmerseCreateStoryScenesOperator,
    VimmerseCreateStoryVideosOperator,
    VimmerseIdeaToVideoOperator,
    story_task_group,
)
from airflow_provider_vimmerse.sandbox.pytest_plugin import CONN_ENV_VAR, sandbox_conn_uri
from airflow_provider_vimmerse.sandbox.views import SAMPLE_PNG
from tests.dag_runs import new_dag, python_task, run_dag

FAST = {"poll_interval": 0.2}
NEEDS_STATE_STORE = pytest.mark.skipif(
    Version(airflow_version).release < (3, 3),
    reason="Airflow < 3.3 has no per-task state store: a retry cannot know what the try before it sent",
)
IDEA = "A paper boat crosses a lake at dawn"
BOARD = {"characters": [], "environments": [], "objects": [], "scenes": [{"description": "a lake"}]}


@pytest.fixture(autouse=True)
def quick_jobs(vimmerse_sandbox):
    """Let sandbox jobs take a second: running at the first check, done a few polls later."""
    vimmerse_sandbox.client.configure(job_seconds=1)


def logged(capsys, caplog) -> str:
    """Return what the tasks logged: structlog prints it on Airflow 3, stdlib logging carries it on Airflow 2."""
    return capsys.readouterr().out + caplog.text


def the_story(sandbox):
    """Return the sandbox's only story."""
    [group] = [g for g in sandbox.state.groups.values() if g.kind == "story"]
    return group


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
    ],
)
def test_a_literal_bad_input_is_refused_when_the_dag_is_parsed(vimmerse_sandbox, operator, kwargs, field, allowed):
    with pytest.raises(VimmerseInputError) as error:
        operator(task_id="step", **kwargs)
    assert field in str(error.value), "the message names the field"
    assert allowed in str(error.value), "the message says what is allowed"
    assert vimmerse_sandbox.client.ledger() == []


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

    assert set(result.states.values()) == {"failed"}
    assert vimmerse_sandbox.client.ledger() == [], "nothing was sent, nothing was paid"
    [scenes] = result.errors_of("no_scenes")  # one try: a bad input is final
    assert "'scene_count'" in scenes and "at least 1" in scenes
    [image] = result.errors_of("missing_image")
    assert "'image_files[0]'" in image and "gone.png" in image
    assert "'storyboard.scenes'" in result.errors_of("board_without_scenes")[0]
    assert "'story_id'" in result.errors_of("no_story")[0]


# ---------------------------------------------------------------------- the requests as the API documents them


def test_idea_to_video_is_a_json_body_and_the_steps_send_json_strings_in_form_fields():
    one_step = story.idea_to_video({"idea": IDEA, "scene_count": 3, "elements": json.dumps({"objects": []})})
    assert (one_step.method, one_step.path, one_step.form) == ("POST", "/story/idea-2-video", None)
    assert one_step.json == {"idea": IDEA, "scene_count": 3, "elements": {"objects": []}}

    step_result = {"kind": "story", "id": "s1", "storyboard": BOARD}
    scenes = story.story_step("s1", "scenes", {"storyboard": step_result, "option": "Seedream", "seed": 4669})
    assert scenes.path == "/story/s1/scenes" and scenes.spends_credits
    form = dict(scenes.form)
    assert json.loads(form["storyboard"]) == BOARD, "the storyboard goes as a JSON string"
    assert (form["option"], form["seed"]) == ("Seedream", "4669")
    concat = story.story_step("s1", "concat", {"audio_urls": ["https://a.test/1.mp3", "https://a.test/2.mp3"]})
    assert [v for k, v in concat.form if k == "audio_urls"] == ["https://a.test/1.mp3", "https://a.test/2.mp3"]


# ---------------------------------------------------------------------- end to end


def test_idea_to_video_waits_for_the_story_video(vimmerse_sandbox, airflow_db, tmp_path, capsys, caplog):
    sandbox = vimmerse_sandbox
    dag = new_dag("story_idea_to_video", tmp_path, **FAST)
    with dag:
        VimmerseIdeaToVideoOperator(
            task_id="story",
            idea=IDEA + " on {{ dag.dag_id }}",
            title="Boat",
            scene_count=2,
            aspect_ratio="9:16",
            video_tool="KlingAI",
            scene_duration=10,
            is_transition=True,
            audio_option={"narrator": "Aria", "has_bg_music": True},
            deferrable=True,
        )
    result = run_dag(dag, tmp_path, ["story"], keys=["return_value", "story_id", "storyboard"])

    assert result.states == {"story": "success"}
    group = the_story(sandbox)
    assert group.idea == IDEA + " on story_idea_to_video" and group.title == "Boat"
    gen = group.generation
    assert (gen["motion_type"], gen["duration"], gen["aspect_ratio"], gen["is_transition"]) == (
        "KlingAI", 10, "9:16", True
    )  # fmt: skip
    value = result.xcom("story")
    assert (value["kind"], value["id"], value["status"]) == ("story", group.id, "success")
    assert value["video_urls"] == [f"{sandbox.url}/_sandbox/files/{group.id}-v1.mp4"]
    assert len(value["storyboard"]["scenes"]) == 2 and len(value["medias"]) == 2
    assert value["used_credits"] == group.used_credits > 0
    assert result.xcom("story", "story_id") == group.id
    assert result.xcom("story", "storyboard") == value["storyboard"]
    assert re.search(rf"story {group.id}: \d+% \w+ \(\d/2 finished, 0 failed\)", logged(capsys, caplog))


def test_the_advanced_flow_carries_an_edited_storyboard_to_the_api(
    vimmerse_sandbox, airflow_db, tmp_path, capsys, caplog
):
    sandbox = vimmerse_sandbox
    image = tmp_path / "boat.png"
    shutil.copy(SAMPLE_PNG, image)
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
        story_id = unwrap(VimmerseHook().request(story.create_storyboard({"idea": IDEA, "scene_count": 2})))["id"]
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
