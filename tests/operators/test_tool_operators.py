"""
The legacy image, audio and text tool operator in a real Airflow (``dag.test()``) against the sandbox.

Every row as the API receives it (form fields, local files as multipart parts), answers that carry
their output at once (an asset, a list of URLs, a text) and unfinished assets that are waited on,
inputs checked before any request, an account out of credits, and the typed inputs in step with the rows.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_vimmerse.api.tools import LEGACY_TOOLS
from airflow_provider_vimmerse.exceptions import VimmerseInputError
from airflow_provider_vimmerse.operators.tools import VimmerseToolOperator
from tests.conftest import REPO
from tests.dag_runs import load_example_dag, new_dag, run_dag
from tests.operators.conftest import FAST, NEEDS_STATE_STORE, assert_failed_early, assert_refused, logged, sample_images

SHOE = "https://cdn.test/shoe.png"
MASK = "https://cdn.test/mask.png"
pytestmark = pytest.mark.usefixtures("quick_jobs")


@pytest.fixture
def images(tmp_path):
    return sample_images(tmp_path, "human.png", "clothes.png")


# ---------------------------------------------------------------------- inputs checked before any request


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"tool": "image/upscale", "image_url": SHOE}, ["'tool'", "'image/edit-image'", "'audio/text-2-speech'"]),
        ({"tool": "image/text-2-image"}, ["'prompt'", "is required by tool 'image/text-2-image'"]),
        ({"tool": "image/text-2-image", "prompt": "x", "aspect_ratio": "wide"}, ["'aspect_ratio'", "W:H"]),
        ({"tool": "image/text-2-image", "prompt": "x", "option": "Midjourney"}, ["'option'", "'Seedream'"]),
        ({"tool": "image/text-2-image", "prompt": "x", "option": "Flux1.1Pro"}, ["'option'", "'Seedream'"]),
        (
            {"tool": "image/image-2-image", "image_url": SHOE, "prompt": "x", "option": "RecolorTo"},
            ["'option'", "'Restructure'"],
        ),
        ({"tool": "image/text-2-image", "prompt": "x", "creativity_strength": 11}, ["from 1 to 10"]),
        ({"tool": "image/image-2-image", "prompt": "blue"}, ["'image_url'", "is required"]),
        ({"tool": "image/edit-image", "image_url": SHOE}, ["'option'", "is required"]),
        ({"tool": "image/edit-image", "image_url": SHOE, "option": "Blur"}, ["'option'", "'Inpaint'"]),
        (
            {"tool": "image/edit-image", "image_url": SHOE, "option": "Inpaint", "prompt": "sky"},
            ["'mask_url'", "with option='Inpaint' needs at least one of: mask_url"],
        ),
        ({"tool": "image/edit-image", "image_url": SHOE, "option": "Upscale", "quantity": 9}, ["'quantity'"]),
        ({"tool": "image/reimagine", "image_url": "human.png", "option": "TryOn"}, ["'image2_url'", "option='TryOn'"]),
        ({"tool": "image/reimagine", "image_url": SHOE}, ["'image_url'", "local image file", "'image_file'"]),
        (
            {"tool": "image/edit-image", "image_url": SHOE, "option": "ReplaceBackground"},
            ["'image2_url'", "'image/replace-background' with option='ReplaceBackground'"],
        ),
        (
            {"tool": "image/edit-image", "image_url": SHOE, "option": "Upscale", "image2_url": SHOE},
            ["'image2_url'", "not a field of tool 'image/edit-image'"],
        ),
        ({"tool": "text/prompt", "option": "RefinePrompt"}, ["'prompt'", "option='RefinePrompt'"]),
        ({"tool": "text/prompt", "option": "Image2Prompt"}, ["'image_url'", "option='Image2Prompt'"]),
        ({"tool": "audio/text-2-speech", "prompt": "hi", "voice": "HAL"}, ["'voice'", "'Rachel'"]),
        ({"tool": "audio/text-2-sound-effect", "prompt": "rain", "duration": 31}, ["from 1 to 30"]),
        ({"tool": "audio/text-2-sound-effect", "prompt": "rain", "video_url": SHOE}, ["not a field"]),
        # The image steps and text-2-music (issue 13).
        ({"tool": "image/replace-background", "option": "RemoveBackground"}, ["'image_url'", "is required"]),
        (
            {"tool": "image/replace-background", "image_url": SHOE, "option": "RestyleBackground"},
            ["'image2_url'", "with option='RestyleBackground' needs at least one of: image2_url"],
        ),
        ({"tool": "image/try-on", "human_image_url": SHOE}, ["'clothes_image_url'", "is required"]),
        (
            {"tool": "image/try-on", "human_image_url": SHOE, "clothes_image_url": SHOE, "option": "Auto"},
            ["'option'", "'KlingTryOn'", "'KontextTryOn'"],
        ),
        ({"tool": "image/face-swap", "image_urls": [SHOE]}, ["'image_urls'", "got 1 item(s)", "at least 2"]),
        (
            {"tool": "image/face-swap", "image_urls": [SHOE, MASK], "option": "DeepFace"},
            ["'option'", "'MagicFaceSwap'"],
        ),
        (
            {"tool": "image/face-swap", "image_urls": [SHOE, MASK], "inputs": {"main_image_url": SHOE}},
            ["'main_image_url'", "not a field of tool 'image/face-swap'"],  # deprecated, not in the schema
        ),
        ({"tool": "image/face-swap", "image_urls": [SHOE, MASK], "order_indices": [0, -1]}, ["'order_indices'"]),
        ({"tool": "image/face-swap", "image_urls": [SHOE, MASK], "order_indices": "first"}, ["must be an integer"]),
        ({"tool": "image/restyle", "image_url": SHOE, "style": "pixel_art"}, ["'style'", "'anime_style'"]),
        ({"tool": "image/restyle", "style": "3d"}, ["'image_url'", "is required"]),
        (
            {"tool": "image/elements", "image_urls": [SHOE] * 5, "option": "FluxKontextPro"},
            ["'image_urls'", "got 5 items", "option='FluxKontextPro' takes at most 4", "GPTImage: 10"],
        ),
        (
            {"tool": "image/elements", "image_urls": [SHOE] * 9},
            ["'image_urls'", "option='FluxPro' (the default) takes at most 8"],
        ),
        ({"tool": "image/elements", "image_urls": [SHOE], "quantity": 5}, ["'quantity'", "from 1 to 4"]),
        ({"tool": "image/elements", "image_urls": [SHOE], "option": "Midjourney"}, ["'option'", "'GPTImage'"]),
        ({"tool": "audio/text-2-music"}, ["'prompt'", "is required by tool 'audio/text-2-music'"]),
        ({"tool": "audio/text-2-music", "prompt": "jazz", "duration": 30}, ["'duration'", "not a field"]),
        ({"tool": "audio/text-2-music", "prompt": "jazz", "async_mode": True}, ["'async_mode'", "not a field"]),
    ],
)
def test_a_literal_bad_input_is_refused_when_the_dag_is_parsed(vimmerse_sandbox, kwargs, expected):
    assert_refused(vimmerse_sandbox, VimmerseToolOperator, {"task_id": "tool", **kwargs}, *expected)


def test_the_credit_guard_is_refused_where_the_api_cannot_estimate(vimmerse_sandbox):
    with pytest.raises(VimmerseInputError) as error:
        VimmerseToolOperator(task_id="tool", tool="image/text-2-image", prompt="x", max_credits=5)
    assert "'max_credits'" in str(error.value) and "cannot estimate" in str(error.value)
    assert not any(tool.can_estimate for tool in LEGACY_TOOLS.values())
    assert vimmerse_sandbox.client.ledger() == []


# ---------------------------------------------------------------------- every row


def test_every_tool_sends_its_documented_form_and_returns_its_output(vimmerse_sandbox, airflow_db, tmp_path, images):
    human, clothes = images
    calls = {  # one call per tool: the task id, the fields given
        "text_2_image": {"tool": "image/text-2-image", "prompt": "a red kite", "quantity": 2, "aspect_ratio": "9:16"},
        "image_2_image": {
            "tool": "image/image-2-image",
            "image_url": human,
            "prompt": "Restructure the shirt as a white one",
            "option": "Restructure",
            "creativity_strength": "3",
        },
        "reimagine": {"tool": "image/reimagine", "image_url": human, "image2_url": clothes, "option": "TryOn"},
        "edit_image": {
            "tool": "image/edit-image",
            "image_url": SHOE,
            "mask_url": MASK,
            "option": "Inpaint",
            "prompt": "a mountain behind",
            "reframe_parameters": {"x_start": 0, "x_end": 100},
        },
        "refine": {"tool": "text/prompt", "option": "RefinePrompt", "prompt": "a nurse smiling"},
        "describe": {"tool": "text/prompt", "option": "Image2Prompt", "image_url": human},
        "speech": {"tool": "audio/text-2-speech", "prompt": "Welcome!", "voice": "Aria"},
        "effect": {"tool": "audio/text-2-sound-effect", "prompt": "rain on a roof", "duration": 8},
    }
    dag = new_dag("legacy_every_tool", tmp_path, deferrable=True, **FAST)
    with dag:
        for task_id, fields in calls.items():
            VimmerseToolOperator(task_id=task_id, **fields)
    tasks = [task.task_id for task in dag.tasks]
    result = run_dag(dag, tmp_path, tasks)

    assert set(result.states.values()) == {"success"}, result.states
    assets = vimmerse_sandbox.state.assets
    files = f"{vimmerse_sandbox.url}/_sandbox/files/"

    kite = result.xcom("text_2_image")
    assert len(kite["urls"]) == 2 and all(u.startswith(files) and u.endswith(".png") for u in kite["urls"])
    assert (kite["mime_type"], kite["status"]) == ("image/png", "success")
    assert assets[kite["id"]].args["aspect_ratio"] == "9:16"

    recolor = assets[result.xcom("image_2_image")["id"]].args
    assert recolor["image_file"] == ["human.png"], "a local image is sent as the image_file part"
    assert (recolor["option"], recolor["creativity_strength"], recolor["image_url"]) == ("Restructure", 3, "")
    try_on = assets[result.xcom("reimagine")["id"]].args
    assert (try_on["image_file"], try_on["image2_file"]) == (["human.png"], ["clothes.png"])
    inpaint = assets[result.xcom("edit_image")["id"]].args
    assert (inpaint["image_url"], inpaint["mask_url"], inpaint["image_file"]) == (SHOE, MASK, []), "URLs stay URLs"
    assert inpaint["reframe_parameters"] == '{"x_start": 0, "x_end": 100}', "sent as a JSON string"

    refined = result.xcom("refine")
    assert refined["kind"] == "text" and refined["text"].startswith("a nurse smiling, cinematic lighting")
    assert "human.png" in result.xcom("describe")["text"]
    speech, effect = result.xcom("speech"), result.xcom("effect")
    assert speech["urls"][0].endswith(".mp3") and speech["status"] == "success", "the [{URL}] answer is read"
    # The asset's mime_type as the server gives it (the documents spell audio assets "audio/mp3").
    assert effect["urls"][0].endswith(".mp3") and effect["mime_type"] == "audio/mp3"

    ledger = vimmerse_sandbox.client.ledger()
    assert {e["method"] for e in ledger} == {"POST"}, "answers with their output are neither polled nor deferred"
    assert len(ledger) == len(tasks)
    assert [e["credits"] for e in ledger if e["path"] == "/text/prompt"] == [0, 0]


def test_an_unfinished_asset_is_waited_on(vimmerse_sandbox, airflow_db, tmp_path, capsys, caplog):
    dag = new_dag("legacy_async", tmp_path, **FAST)
    with dag:
        VimmerseToolOperator(
            task_id="deferred", tool="image/text-2-image", prompt="a kite", async_mode=True, deferrable=True
        )
        VimmerseToolOperator(
            task_id="here",
            tool="image/edit-image",
            image_url=SHOE,
            option="Upscale",
            async_mode=True,
            deferrable=False,
        )
        VimmerseToolOperator(
            task_id="fails", tool="image/text-2-image", prompt="[sandbox:fail]", async_mode=True, deferrable=True
        )
    result = run_dag(dag, tmp_path, ["deferred", "here"])
    logs = logged(capsys, caplog)

    assert result.states == {"deferred": "success", "here": "success", "fails": "failed"}
    for name in ("deferred", "here"):
        value = result.xcom(name)
        assert value["urls"] and value["urls"][0].endswith(".png")
        assert vimmerse_sandbox.client.ledger(path=f"/asset/{value['id']}", method="GET"), "polled as an asset"
    assert f"Waiting for asset {result.xcom('deferred')['id']} in the triggerer" in logs
    [error] = result.errors_of("fails")
    waited = {result.xcom(name)["id"] for name in ("deferred", "here")}
    [failed_id] = set(vimmerse_sandbox.state.assets) - waited
    # A failed asset carries no reason in any API document: the task fails naming the asset and says so.
    assert f"asset {failed_id} failed on the Vimmerse side: no reason given" in error


def test_an_account_out_of_credits_fails_at_once(vimmerse_sandbox, airflow_db, tmp_path):
    vimmerse_sandbox.client.configure(credits=1)
    dag = new_dag("legacy_402", tmp_path, retries=2, **FAST)
    with dag:
        VimmerseToolOperator(task_id="images", tool="image/text-2-image", prompt="a kite", quantity=2)
        VimmerseToolOperator(task_id="free", tool="text/prompt", option="SuggestPrompt")
    result = run_dag(dag, tmp_path, ["free"])

    assert result.states == {"images": "failed", "free": "success"}
    [error] = result.errors_of("images")
    assert "out of credits" in error, "one try only: a retry cannot add credits"
    assert result.xcom("free")["text"], "a free tool still works"
    assert [e["status"] for e in vimmerse_sandbox.client.ledger(path="/image/text-2-image")] == [402]


# ---------------------------------------------------------------------- the image steps and text-2-music


def test_the_image_steps_and_music_send_their_documented_forms(vimmerse_sandbox, airflow_db, tmp_path, images):
    human, clothes = images
    [target] = sample_images(tmp_path, "target.png")
    dag = new_dag("legacy_image_steps", tmp_path, deferrable=True, **FAST)
    with dag:
        VimmerseToolOperator(
            task_id="background", tool="image/replace-background", image_url=human, image2_url=SHOE,
            option="ReplaceBackground",
        )  # fmt: skip
        VimmerseToolOperator(task_id="cutout", tool="image/edit-image", image_url=SHOE, option="RemoveBackground")
        VimmerseToolOperator(
            task_id="try_on", tool="image/try-on", human_image_url=human, clothes_image_url=clothes,
            option="FashnTryOn",
        )  # fmt: skip
        VimmerseToolOperator(
            task_id="face_swap",
            tool="image/face-swap",
            inputs={"image_urls": [target, human, MASK], "order_indices": "[2, 0]", "face_only_mode": False},
        )
        VimmerseToolOperator(task_id="restyle", tool="image/restyle", image_url=SHOE, style="ink_style")
        VimmerseToolOperator(
            task_id="elements", tool="image/elements", image_urls=[SHOE, MASK], option="FluxKontextPro",
            prompt="add a red hat", quantity=2, aspect_ratio="21:9", swap_faces=True,
        )  # fmt: skip
        VimmerseToolOperator(task_id="music", tool="audio/text-2-music", prompt="calm lo-fi piano")
    tasks = [task.task_id for task in dag.tasks]
    result = run_dag(dag, tmp_path, tasks)

    assert set(result.states.values()) == {"success"}, result.states
    assets = vimmerse_sandbox.state.assets
    args = {name: assets[result.xcom(name)["id"]].args for name in tasks}
    assert (args["background"]["image_file"], args["background"]["image2_url"]) == (["human.png"], SHOE)
    assert args["cutout"]["option"] == "RemoveBackground", "edit-image's background option went to its route"
    try_on = args["try_on"]
    assert (try_on["human_image_file"], try_on["clothes_image_file"], try_on["option"]) == (
        ["human.png"],
        ["clothes.png"],
        "FashnTryOn",
    )
    swap = args["face_swap"]
    assert swap["image_files"] == ["target.png", "human.png"], "each local file is one image_files part, in order"
    assert swap["image_urls"] == [MASK], "URLs stay image_urls"
    assert (swap["order_indices"], swap["face_only_mode"], swap["multi_face_mode"]) == ([2, 0], False, True)
    assert args["restyle"]["style"] == "ink_style"
    elements = result.xcom("elements")
    assert len(elements["urls"]) == 2 and args["elements"]["image_urls"] == [SHOE, MASK]
    assert (args["elements"]["aspect_ratio"], args["elements"]["swap_faces"]) == ("21:9", True)
    music = result.xcom("music")
    assert music["urls"][0].startswith(vimmerse_sandbox.url) and music["kind"] == "asset"
    assert args["music"] == {"prompt": "calm lo-fi piano"}, "text-2-music documents one field"

    ledger = vimmerse_sandbox.client.ledger()
    assert sorted(e["path"] for e in ledger) == [
        "/audio/text-2-music", "/image/elements", "/image/face-swap", "/image/replace-background",
        "/image/replace-background", "/image/restyle", "/image/try-on",
    ], "each task sent one request"  # fmt: skip
    assert {e["method"] for e in ledger} == {"POST"}, "finished answers are neither polled nor deferred"
    assert all(e["credits"] > 0 for e in ledger), "every image step and the music spend credits"
    assert [e["credits"] for e in ledger if e["path"] == "/image/elements"] == [2], "priced per output image"


@pytest.mark.parametrize(
    ("audio_answer", "polled"),
    [("asset", False), ("url_list", False), ("legacy", True)],
)
def test_text_to_music_reads_each_documented_answer(vimmerse_sandbox, airflow_db, tmp_path, audio_answer, polled):
    # openapi.json shows three answers: {"data": asset} (200 example), {"data": [{"URL"}]} (the description's
    # code); platform-api-v1-legacy.txt's audio routes answer an asset without results, which is waited on.
    vimmerse_sandbox.client.configure(audio_answer=audio_answer)
    dag = new_dag(f"music_{audio_answer}", tmp_path, deferrable=True, **FAST)
    with dag:
        VimmerseToolOperator(task_id="music", tool="audio/text-2-music", prompt="an epic orchestral score")
    result = run_dag(dag, tmp_path, ["music"])

    assert result.states == {"music": "success"}
    music = result.xcom("music")
    assert music["urls"] and music["urls"][0].endswith(".mp3") and music["status"] == "success"
    reads = vimmerse_sandbox.client.ledger(method="GET")
    assert bool(reads) is polled
    assert len(vimmerse_sandbox.client.ledger(path="/audio/text-2-music")) == 1, "sent once"


def test_bad_image_steps_templated_at_run_time_send_nothing(vimmerse_sandbox, airflow_db, tmp_path):
    dag = new_dag("legacy_bad_templated", tmp_path, retries=2, **FAST)
    with dag:
        VimmerseToolOperator(
            task_id="too_many",
            tool="image/elements",
            inputs={"image_urls": "{{ ['https://cdn.test/a.png'] * 5 }}", "option": "{{ 'FluxKontextPro' }}"},
        )
        VimmerseToolOperator(
            task_id="missing_file", tool="image/face-swap", image_urls=[str(tmp_path / "nope.png"), SHOE]
        )
    result = run_dag(dag, tmp_path)

    errors = {"too_many": ("'image_urls'", "takes at most 4"), "missing_file": ("image_urls[0]", "nope.png")}
    assert_failed_early(vimmerse_sandbox, result, errors)


@NEEDS_STATE_STORE
def test_a_retry_of_an_image_step_reattaches_instead_of_paying_twice(vimmerse_sandbox, killed_then_retried):
    vimmerse_sandbox.client.configure(job_seconds=3)
    face_swap = {"tool": "image/face-swap", "image_urls": [SHOE, MASK], "async_mode": True}
    swap, submit = killed_then_retried("legacy_reattach", VimmerseToolOperator, "/image/face-swap", **face_swap)
    assert swap["urls"], "the face swap's outputs"
    assert vimmerse_sandbox.state.balance == 1000 - submit["credits"], "paid once"


def test_the_image_steps_example_dag_runs_end_to_end(
    vimmerse_sandbox, airflow_db, tmp_path, monkeypatch, capsys, caplog
):
    sandbox = vimmerse_sandbox
    monkeypatch.setenv("VIMMERSE_OUTPUT_DIR", str(tmp_path / "output"))
    dag = load_example_dag("vimmerse_image_steps", **FAST)
    tasks = ["product_on_background", "restyle", "background_music", "animate", "add_music", "download"]
    result = run_dag(dag, tmp_path, tasks)
    logs = logged(capsys, caplog)

    assert result.states == dict.fromkeys(tasks, "success")
    assets = sandbox.state.assets
    on_background, restyled, music, clip, with_music = (result.xcom(t) for t in tasks[:5])
    replaced = assets[on_background["id"]].args
    assert (replaced["image_file"], replaced["option"]) == (["product.png"], "ReplaceBackground")
    assert replaced["image2_url"].startswith("https://"), "the background is the run's param"
    assert assets[restyled["id"]].args["image_url"] == on_background["urls"][0]
    assert assets[clip["id"]].args["image_url"] == restyled["urls"][0]
    added = assets[with_music["id"]].args
    assert (added["video_url"], added["audio_url"]) == (clip["urls"][0], music["urls"][0])
    assert f"Waiting for asset {clip['id']} in the triggerer" in logs, "the video steps waited deferred"
    [video] = result.xcom("download")
    assert Path(video).read_bytes()[4:8] == b"ftyp"
    submits = [e["path"] for e in sandbox.client.ledger(method="POST")]
    assert sorted(submits) == sorted(
        ["/image/replace-background", "/image/restyle", "/audio/text-2-music", "/v2/video/video-effects",
         "/v2/video/audio"]
    ), "each step sent once"  # fmt: skip


# ---------------------------------------------------------------------- the typed inputs, generated from the rows


def test_the_typed_inputs_module_is_what_the_rows_generate(tmp_path):
    """``api/tool_inputs.py`` is checked in; a row changed without running the generator is caught here."""
    script = REPO / "scripts" / "generate_tool_inputs.py"
    run = subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    generated = (tmp_path / "tool_inputs.py").read_text(encoding="utf-8")
    checked_in = (REPO / "airflow_provider_vimmerse" / "api" / "tool_inputs.py").read_text(encoding="utf-8")
    assert generated == checked_in, "the rows changed: run `python scripts/generate_tool_inputs.py` and commit it"


def test_the_typed_inputs_name_every_field_of_every_tool_and_import_no_airflow():
    """One TypedDict per tool, keyed by the row's fields; the module imports nothing from Airflow (cheap to import)."""
    from airflow_provider_vimmerse.api import tool_inputs
    from airflow_provider_vimmerse.api.video import VIDEO_TOOLS

    tables = {"VideoToolInputs": VIDEO_TOOLS, "LegacyToolInputs": LEGACY_TOOLS}
    for union, table in tables.items():
        classes = getattr(tool_inputs, union).__args__
        assert len(classes) == len(table)
        for cls, row in zip(classes, table.values(), strict=True):
            assert f"``{row.name}``" in (cls.__doc__ or ""), cls.__name__
            assert tuple(cls.__annotations__) == row.field_names, cls.__name__
            assert cls.__required_keys__ == {f.name for f in row.fields if f.required}, cls.__name__
    probe = "import sys, airflow_provider_vimmerse.api.tool_inputs; print([m for m in sys.modules if 'airflow.' in m])"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert run.stdout.strip() == "[]", run.stdout
