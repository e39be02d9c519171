"""
The Video API v2 operator in a real Airflow (``dag.test()``) against the sandbox API over real HTTP.

Every tool row as the API receives it, inputs checked before any request, answers that are already
finished (no wait, no deferral) and unfinished ones (waited on, in the triggerer or here), local files
uploaded first, the credit guard, an account out of credits, and what mypy says of typed inputs in a DAG file.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
from airflow.providers.common.compat.sdk import ObjectStoragePath

from airflow_provider_vimmerse.api.fields import prepare_values
from airflow_provider_vimmerse.api.video import VIDEO_TOOLS, estimate_request, upload_request
from airflow_provider_vimmerse.exceptions import VimmerseInputError
from airflow_provider_vimmerse.operators.video import VimmerseVideoOperator
from airflow_provider_vimmerse.sandbox.views import SAMPLE_MP4, SAMPLE_PNG
from tests.conftest import REPO
from tests.dag_runs import new_dag, run_dag
from tests.operators.conftest import FAST, assert_refused, logged

CLIP = "https://cdn.test/clip.mp4"
FACE = "https://cdn.test/face.png"
VOICE = "https://cdn.test/voice.mp3"
pytestmark = pytest.mark.usefixtures("quick_jobs")

#: One call per tool: the fields given, and what the sandbox must have received.
TOOL_CALLS = {
    "crop-to-aspect-ratio": {"video_url": CLIP, "aspect_ratio": "9:16", "offset_x": "12"},
    "reframe": {"video_url": CLIP, "aspect_ratio": "1:1", "prompt": "keep the boat centred", "x_start": 0},
    "enhance": {"video_url": CLIP, "enhance_mode": "2X&DeepClean", "compression_scale": 0.3},
    "sound-effect": {"video_url": CLIP, "prompt": "waves and gulls"},
    "avatars/lip-sync": {"avatar_id": "av1", "voice_id": "vo1", "prompt": "Hello!", "show_caption": "Off"},
    "lip-sync": {"image_url": FACE, "audio_url": VOICE, "option": "SyncLipSync", "video_duration": 7.5},
    "video-effects": {"image_url": FACE, "option": "PikaEffects", "effect": "Melt", "quantity": 2},
    "replace-background": {"video_url": CLIP, "bg_image_url": FACE, "alignment": "left", "crop_to_content": False},
    "reference-to-video": {"image_urls": [FACE], "prompt": "a dance", "option": "AutoR", "duration": 12},
    "video-to-video": {"video_url": CLIP, "prompt": "make it snow", "option": "LumaModify"},
    "audio": {"video_url": CLIP, "audio_url": VOICE, "attach_mode": "PadAudio"},
}
#: Values converted on the way: templated numbers arrive as numbers, number-strings as strings.
SENT_AS = {("crop-to-aspect-ratio", "offset_x"): 12, ("enhance", "compression_scale"): "0.3"}


def task_id(tool: str) -> str:
    return tool.replace("/", "_").replace("-", "_")


def posts(sandbox, path: str) -> list[dict]:
    return sandbox.client.ledger(path=path, method="POST")


def test_the_table_covers_every_documented_v2_route():
    assert sorted(VIDEO_TOOLS) == sorted(TOOL_CALLS)


# ---------------------------------------------------------------------- inputs checked before any request


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"tool": "upscale", "video_url": CLIP}, ["'tool'", "'upscale'", "'enhance'", "'crop-to-aspect-ratio'"]),
        ({"tool": "enhance"}, ["'video_url'", "is required by tool 'enhance'"]),
        ({"tool": "enhance", "video_url": CLIP, "enhance_mode": "8X"}, ["'enhance_mode'", "'8X'", "'2X&DeepClean'"]),
        ({"tool": "enhance", "video_url": CLIP, "compression_scale": 2}, ["'compression_scale'", "from 0 to 1"]),
        ({"tool": "enhance", "video_url": CLIP, "prompt": "x"}, ["'prompt'", "not a field of tool 'enhance'"]),
        ({"tool": "crop-to-aspect-ratio", "video_url": CLIP, "aspect_ratio": "9x16"}, ["'aspect_ratio'", "W:H"]),
        ({"tool": "reference-to-video", "image_urls": [FACE], "quantity": 5}, ["'quantity'", "from 1 to 4"]),
        ({"tool": "reference-to-video", "image_urls": [FACE], "duration": 31}, ["'duration'", "from 1 to 30"]),
        ({"tool": "reference-to-video", "image_urls": []}, ["'image_urls'", "at least one URL"]),
        ({"tool": "lip-sync", "audio_url": VOICE}, ["'image_url'", "at least one of: image_url, video_url"]),
        ({"tool": "lip-sync", "image_url": FACE}, ["'audio_url'", "at least one of: audio_url, prompt"]),
        ({"tool": "lip-sync", "image_url": FACE, "prompt": "hi", "option": "Wav2Lip"}, ["'option'", "'AutoLipSync'"]),
        (
            {"tool": "avatars/lip-sync", "avatar_id": "a", "voice_id": "v", "prompt": "hi", "aspect_ratio": "4:3"},
            ["'1:1', '16:9', '9:16'"],
        ),
        (
            {"tool": "audio", "video_url": CLIP, "audio_url": VOICE, "attach_mode": "Loop"},
            ["'attach_mode'", "'PadAudio'"],
        ),
        ({"tool": "enhance", "video_url": CLIP, "webhook_url": "hooks/done"}, ["'webhook_url'", "http(s) URL"]),
        ({"tool": "enhance", "video_url": CLIP, "async_mode": "maybe"}, ["'async_mode'", "true or false"]),
        ({"tool": "enhance", "video_url": 42}, ["'video_url'", "local video file"]),
        ({"tool": "enhance", "video_url": CLIP, "max_credits": -1}, ["'max_credits'"]),
    ],
)
def test_a_literal_bad_input_is_refused_when_the_dag_is_parsed(vimmerse_sandbox, kwargs, expected):
    assert_refused(vimmerse_sandbox, VimmerseVideoOperator, {"task_id": "tool", **kwargs}, *expected)


@pytest.mark.parametrize(
    ("tool", "fields", "body"),
    [
        (
            "video-effects",
            {"image_url": FACE, "option": "PikaEffects", "quantity": 2},
            {"app_name": "video-effects", "option": "PikaEffects", "quantity": 2},
        ),
        (  # quantity left out: the route's documented default, 1, is priced (never less than the job)
            "video-effects",
            {"image_url": FACE, "prompt": "sparkles"},
            {"app_name": "video-effects", "option": "HiggsfieldEffects", "quantity": 1, "prompt": "sparkles"},
        ),
        (
            "reference-to-video",
            {"image_urls": [FACE], "option": "VeoReference", "quantity": "2", "duration": 12, "prompt": "a dance"},
            {
                "app_name": "reference-to-video",
                "option": "VeoReference",
                "quantity": 2,
                "duration": 12,
                "prompt": "a dance",
            },
        ),
        (  # duration left out: its documented default, 5 s, not the estimate's own (undocumented) one
            "reference-to-video",
            {"image_urls": [FACE]},
            {"app_name": "reference-to-video", "option": "KlingO", "quantity": 1, "duration": 5},
        ),
        (
            "lip-sync",
            {"video_url": CLIP, "prompt": "hi", "video_duration": 9.5},
            {"app_name": "lip-sync", "option": "AutoLipSync", "prompt": "hi", "video_duration": 9.5},
        ),
        (  # video-v2.txt l.526: lip-sync's own audio duration is priced, as the estimate's length (l.146)
            "lip-sync",
            {"image_url": FACE, "audio_url": VOICE, "audio_duration": 90},
            {"app_name": "lip-sync", "option": "AutoLipSync", "video_duration": 90},
        ),
    ],
)
def test_the_estimate_names_the_app_and_option_the_route_is_priced_by(tool, fields, body):
    row = VIDEO_TOOLS[tool]
    req = estimate_request(row, prepare_values(row, fields))
    assert (req.method, req.path, req.json, req.spends_credits) == ("POST", "/v2/video/estimate-credits", body, False)


@pytest.mark.parametrize(
    ("tool", "inputs", "expected"),
    [
        ("lip-sync", {"image_url": FACE, "audio_url": VOICE}, "give audio_duration (seconds) with max_credits"),
        ("lip-sync", {"video_url": CLIP, "prompt": "hi"}, "give video_duration (seconds) with max_credits"),
        ("video-to-video", {"video_url": CLIP}, "the route has no duration field"),
        ("avatars/lip-sync", {"avatar_id": "a", "voice_id": "v", "prompt": "hi"}, "'AvatarLipSync', which no"),
    ],
)
def test_the_credit_guard_is_refused_where_the_estimate_would_have_to_guess_the_price(
    vimmerse_sandbox, tool, inputs, expected
):
    with pytest.raises(VimmerseInputError) as error:
        VimmerseVideoOperator(task_id="guarded", tool=tool, max_credits=100, **inputs)
    assert "'max_credits'" in str(error.value) and expected in str(error.value)
    with pytest.raises(VimmerseInputError, match=re.escape(expected)):
        estimate_request(VIDEO_TOOLS[tool], inputs)
    assert vimmerse_sandbox.client.ledger() == [], "nothing was asked, nothing was paid"


#: A priced tool per case, with every field its handler prices set (and one left to its default).
PRICED = {
    "reference-to-video": {"image_urls": [FACE], "prompt": "a dance", "quantity": 2, "option": "VeoReference"},
    "video-effects": {"image_url": FACE, "prompt": "sparkles", "option": "PikaEffects"},
    "lip-sync": {"image_url": FACE, "audio_url": VOICE, "audio_duration": 90, "prompt": "hello", "video_duration": 4},
}


@pytest.mark.parametrize("tool", sorted(PRICED))
def test_the_estimate_carries_the_pricing_fields_of_the_job_it_guards(vimmerse_sandbox, airflow_db, tmp_path, tool):
    dag = new_dag(f"guard_{tool.replace('-', '_')}", tmp_path, **FAST)
    with dag:
        VimmerseVideoOperator(task_id="guarded", tool=tool, max_credits=1000, deferrable=False, **PRICED[tool])
    result = run_dag(dag, tmp_path, ["guarded"])

    assert result.states == {"guarded": "success"}, result.errors
    [priced] = vimmerse_sandbox.state.estimates  # the fields the estimate carried
    charged = vimmerse_sandbox.state.assets[result.xcom("guarded")["id"]].args  # the job, documented defaults filled
    row = VIDEO_TOOLS[tool]
    assert (priced["app_name"], priced["option"]) == (row.app_name, charged["option"])
    for name in row.prices:
        assert priced.get(name) == charged[name], f"{name}: the job is charged for {charged[name]!r}"
    lengths = [charged[name] for name in row.lengths.values() if charged.get(name) is not None]
    if lengths:
        assert priced["video_duration"] == max(lengths), "the estimate prices the longest length the job states"


@pytest.mark.parametrize(
    "tool", ["crop-to-aspect-ratio", "reframe", "enhance", "sound-effect", "replace-background", "audio"]
)
def test_the_credit_guard_is_refused_where_the_documents_give_no_app_name_or_option(vimmerse_sandbox, tool):
    """video-v2.txt (Estimate Credits) names no app_name for these routes (no option for replace-background)."""
    inputs = {"video_url": CLIP, "audio_url": VOICE} if tool == "audio" else {"video_url": CLIP}
    with pytest.raises(VimmerseInputError) as error:
        VimmerseVideoOperator(task_id="guarded", tool=tool, max_credits=100, **inputs)
    assert "'max_credits'" in str(error.value) and "no credit guard" in str(error.value)
    with pytest.raises(VimmerseInputError):
        estimate_request(VIDEO_TOOLS[tool], inputs)
    assert vimmerse_sandbox.client.ledger() == [], "nothing was asked, nothing was paid"


# ---------------------------------------------------------------------- every row, answered at once


def test_every_tool_sends_its_documented_json_and_a_finished_answer_is_not_waited_on(
    vimmerse_sandbox, airflow_db, tmp_path
):
    dag = new_dag("video_every_tool_sync", tmp_path, deferrable=True, **FAST)
    with dag:
        for tool, fields in TOOL_CALLS.items():
            VimmerseVideoOperator(task_id=task_id(tool), tool=tool, async_mode=False, **fields)
        VimmerseVideoOperator(
            task_id="templated",
            tool="enhance",
            inputs={"video_url": "{{ params.clip }}", "enhance_mode": "{{ params.mode }}"},
            params={"clip": CLIP, "mode": "DeepClean"},
            async_mode=False,
        )
        VimmerseVideoOperator.partial(task_id="mapped", tool="crop-to-aspect-ratio").expand(
            inputs=[{"video_url": CLIP, "aspect_ratio": ratio, "async_mode": False} for ratio in ("1:1", "4:5")]
        )
        VimmerseVideoOperator(
            task_id="not_waiting", tool="enhance", video_url=CLIP, async_mode=False, wait_for_completion=False
        )
    ids = [task_id(tool) for tool in TOOL_CALLS]
    result = run_dag(dag, tmp_path, [*ids, "templated", "mapped", "not_waiting"])

    assert set(result.states.values()) == {"success"}, result.states
    assets = vimmerse_sandbox.state.assets
    for tool, fields in TOOL_CALLS.items():
        value = result.xcom(task_id(tool))
        asset = assets[value["id"]]
        assert value["status"] == "success" and value["kind"] == "asset"
        assert value["urls"] and value["urls"] == value["video_urls"], tool
        assert all(url.endswith(".mp4") for url in value["urls"])
        assert value["mime_type"] == "video/mp4"
        assert value["web_url"] == f"{vimmerse_sandbox.url}/app/asset/{value['id']}"
        for name, sent in fields.items():
            assert asset.args[name] == SENT_AS.get((tool, name), sent), (tool, name)
        assert asset.args["async_mode"] is False
    assert len(result.xcom("video_effects")["urls"]) == 2, "quantity 2 gives two videos"
    assert assets[result.xcom("templated")["id"]].args["enhance_mode"] == "DeepClean"
    assert sorted(assets[value["id"]].args["aspect_ratio"] for value in result.xcom("mapped")) == ["1:1", "4:5"]
    finished = result.xcom("not_waiting")
    assert finished["status"] == "success" and finished["urls"], "an answer already finished is returned as such"
    ledger = vimmerse_sandbox.client.ledger()
    assert {entry["method"] for entry in ledger} == {"POST"}, "a finished answer is neither polled nor deferred"
    assert len(ledger) == len(TOOL_CALLS) + 4, "one request per task"


# ---------------------------------------------------------------------- unfinished answers are waited on


def test_an_unfinished_asset_is_waited_on_in_the_triggerer_or_here(
    vimmerse_sandbox, airflow_db, tmp_path, capsys, caplog
):
    dag = new_dag("video_async_waits", tmp_path, **FAST)
    with dag:
        VimmerseVideoOperator(
            task_id="deferred", tool="reference-to-video", image_urls=[FACE], deferrable=True, max_credits=10
        )
        VimmerseVideoOperator(task_id="here", tool="sound-effect", video_url=CLIP, prompt="rain", deferrable=False)
        VimmerseVideoOperator(task_id="fails", tool="sound-effect", video_url=CLIP, prompt="[sandbox:fail]")
        VimmerseVideoOperator(task_id="no_wait", tool="enhance", video_url=CLIP, wait_for_completion=False)
    result = run_dag(dag, tmp_path, ["deferred", "here", "no_wait"])
    logs = logged(capsys, caplog)

    assert result.states == {"deferred": "success", "here": "success", "fails": "failed", "no_wait": "success"}
    for name in ("deferred", "here"):
        value = result.xcom(name)
        # A documented asset has no progress_percentage: the result says so with None rather than a made-up 100.
        assert value["status"] == "success" and value["progress"] is None
        assert value["urls"] == [f"{vimmerse_sandbox.url}/_sandbox/files/{value['id']}-1.mp4"]
        polls = vimmerse_sandbox.client.ledger(path=f"/asset/{value['id']}", method="GET")
        assert polls, "the asset was polled until it finished"
    assert f"Waiting for asset {result.xcom('deferred')['id']} in the triggerer" in logs
    here_id = result.xcom("here")["id"]
    assert f"Waiting for asset {here_id} in the triggerer" not in logs
    [error] = result.errors_of("fails")
    [failed_job] = [job for job in posts(vimmerse_sandbox, "/v2/video/sound-effect") if job["job_id"] != here_id]
    # A failed asset carries no reason in any API document: the task fails naming the asset and says so.
    assert f"asset {failed_job['job_id']} failed on the Vimmerse side: no reason given" in error
    assert result.xcom("no_wait")["status"] == "submitted"
    assert len(posts(vimmerse_sandbox, "/v2/video/sound-effect")) == 2, "a failed job is not resubmitted"
    [estimate] = posts(vimmerse_sandbox, "/v2/video/estimate-credits")
    assert estimate["credits"] == 0 and not estimate["created"], "the estimate is free and creates nothing"


# ---------------------------------------------------------------------- local files


def test_local_files_are_uploaded_first_and_their_hosted_urls_sent(vimmerse_sandbox, airflow_db, tmp_path):
    clip, face, voice = tmp_path / "clip.mp4", tmp_path / "face.png", tmp_path / "voice.mp3"
    shutil.copy(SAMPLE_MP4, clip)
    shutil.copy(SAMPLE_PNG, face)
    voice.write_bytes(b"ID3 not really an mp3")
    dag = new_dag("video_local_files", tmp_path, **FAST)
    with dag:
        VimmerseVideoOperator(task_id="audio", tool="audio", video_url=str(clip), audio_url=voice, async_mode=False)
        VimmerseVideoOperator(
            task_id="reference",
            tool="reference-to-video",
            image_urls=[FACE, ObjectStoragePath(f"file://{face}")],
            prompt="a dance",
        )
    result = run_dag(dag, tmp_path, ["audio", "reference"])

    assert result.states == {"audio": "success", "reference": "success"}
    hosted = f"{vimmerse_sandbox.url}/_sandbox/files/"
    audio = vimmerse_sandbox.state.assets[result.xcom("audio")["id"]]
    assert audio.args["video_url"].startswith(hosted) and audio.args["video_url"].endswith(".mp4")
    assert audio.args["audio_url"].startswith(hosted) and audio.args["audio_url"].endswith(".mp3")
    reference = vimmerse_sandbox.state.assets[result.xcom("reference")["id"]]
    assert reference.args["image_urls"][0] == FACE, "a URL is sent as it is"
    assert reference.args["image_urls"][1].startswith(hosted), "the local image was replaced by its hosted URL"
    paths = [(e["path"], e["credits"]) for e in vimmerse_sandbox.client.ledger(method="POST")]
    assert ("/v2/video", 0) in paths and ("/audio", 0) in paths and ("/image", 0) in paths, "uploads are free"
    uploads = {a.args.get(f) for a in vimmerse_sandbox.state.assets.values() for f in ("video_file", "image_file")}
    assert {"clip.mp4", "face.png"} <= uploads, "the files themselves were sent, under their own names"
    assert paths.index(("/v2/video/audio", 1)) > paths.index(("/audio", 0)), "uploads come before the tool"


# ---------------------------------------------------------------------- failures that must cost nothing


def test_bad_inputs_the_credit_guard_and_spent_credits_fail_at_once_without_paying(
    vimmerse_sandbox, airflow_db, tmp_path
):
    face = tmp_path / "face.png"
    shutil.copy(SAMPLE_PNG, face)
    vimmerse_sandbox.client.configure(credits=3)
    dag = new_dag("video_failures", tmp_path, retries=1, **FAST)
    with dag:
        VimmerseVideoOperator(
            task_id="bad_template",
            tool="enhance",
            video_url=CLIP,
            enhance_mode="{{ params.mode }}",
            params={"mode": "16X"},
        )
        VimmerseVideoOperator(task_id="missing_file", tool="enhance", video_url=str(tmp_path / "nope.mp4"))
        VimmerseVideoOperator(
            task_id="over_limit",
            tool="reference-to-video",
            image_urls=[face],
            quantity=2,
            duration=12,
            max_credits=50,
        )
        VimmerseVideoOperator(task_id="out_of_credits", tool="enhance", video_url=CLIP)
    result = run_dag(dag, tmp_path)

    assert set(result.states.values()) == {"failed"}, result.states
    # One failed try each: a retry could not fix any of these.
    [template] = result.errors_of("bad_template")
    assert "'enhance_mode'" in template and "'16X'" in template
    [missing] = result.errors_of("missing_file")
    assert "'video_url'" in missing and "nope.mp4" in missing
    [guard] = result.errors_of("over_limit")
    assert "estimated at 60 credits" in guard and "max_credits=50" in guard and "nothing was submitted" in guard
    [spent] = result.errors_of("out_of_credits")
    assert "out of credits" in spent and "402" in spent
    ledger = vimmerse_sandbox.client.ledger()
    assert [(e["path"], e["status"]) for e in ledger if e["path"] != "/v2/video/enhance"] == [
        ("/v2/video/estimate-credits", 200)
    ], "the guard asked for an estimate and sent nothing else: no upload, no submit"
    assert [e["status"] for e in posts(vimmerse_sandbox, "/v2/video/enhance")] == [402]
    assert all(not e["created"] and not e["credits"] for e in ledger), "nothing was created or charged"
    assert vimmerse_sandbox.client.state()["credits"] == 3


def test_a_video_upload_waits_the_documented_300_seconds_for_its_answer():
    # video-v2.txt "Upload Video": requests.post(..., files={"video_file": ...}, timeout=300)
    assert upload_request("video", "clip.mp4", b"...").read_timeout == 300
    assert upload_request("image", "face.png", b"...").read_timeout is None, "the connection's timeout"


# ---------------------------------------------------------------------- typed inputs, as mypy reads a DAG file


def test_mypy_flags_a_value_a_tool_does_not_allow_in_its_typed_inputs(tmp_path):
    """The TypedDicts of ``api/tool_inputs.py`` are checked where they are built; plain dicts stay accepted."""
    lines = [
        "from airflow_provider_vimmerse.api.tool_inputs import EnhanceVideoInputs as Enhance, ImageRestyleInputs",
        "from airflow_provider_vimmerse.operators.tools import VimmerseToolOperator as Tool",
        "from airflow_provider_vimmerse.operators.video import VimmerseVideoOperator as Video",
        'Video(task_id="a", tool="enhance", inputs=Enhance(video_url="x", enhance_mode="8X"))',
        'Tool(task_id="b", tool="image/restyle", inputs=ImageRestyleInputs(image_url="x", style="pop"))',
        'Video(task_id="c", tool="enhance", inputs=Enhance(enhance_mode="2X"))',
        'Video(task_id="d", tool="enhance", inputs=Enhance(video_url="x", prompt="p"))',
        'made = Video(task_id="e", tool="enhance", video_url="x", enhance_mode="2X").output',
        'Video(task_id="f", tool="enhance", inputs=Enhance(video_url=made, enhance_mode="2X"))',
        'Video(task_id="g", tool="enhance", inputs={"video_url": "x", "enhance_mode": "{{ params.m }}"})',
    ]
    (tmp_path / "dag.py").write_text("\n".join(lines) + "\n")
    # Airflow's own types are followed, as in a DAG author's mypy; errors inside the packages are not shown.
    (tmp_path / "mypy.ini").write_text("[mypy]\nfollow_imports = silent\n")
    args = ["--config-file", str(tmp_path / "mypy.ini"), "--cache-dir", str(tmp_path / "cache"), "--no-pretty"]
    command = [sys.executable, "-m", "mypy", *args, str(tmp_path / "dag.py")]
    env = {**os.environ, "MYPYPATH": str(REPO)}  # this source tree, whatever the venv has installed
    run = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode in (0, 1), run.stdout + run.stderr
    errors: dict[int, list[str]] = {}
    for found in re.finditer(r"^.*dag\.py:(\d+): error: (.*)$", run.stdout, re.MULTILINE):
        errors.setdefault(int(found[1]), []).append(found[2])
    expected = {
        4: ["\"Literal['8X']\"", 'TypedDict item "enhance_mode"', "'2X&DeepClean'"],
        5: ["\"Literal['pop']\"", 'TypedDict item "style"', "'anime_style'"],
        6: ['Missing key "video_url" for TypedDict "EnhanceVideoInputs"'],
        7: ['Extra key "prompt" for TypedDict "EnhanceVideoInputs"'],
    }
    for line, words in expected.items():
        [said] = errors.get(line, [""])
        assert all(word in said for word in words), (line, said, run.stdout)
    assert set(errors) == set(expected), f"another task's output and a templated plain dict pass: {run.stdout}"
