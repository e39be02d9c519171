"""
The legacy image, audio and text tool operator in a real Airflow (``dag.test()``) against the sandbox.

Every row as the API receives it (form fields, local files as multipart parts), answers that carry
their output at once (an asset, a list of URLs, a text) and unfinished assets that are waited on,
inputs checked before any request, and an account out of credits.
"""

from __future__ import annotations

import shutil

import pytest

from airflow_provider_vimmerse.api.tools import LEGACY_TOOLS
from airflow_provider_vimmerse.exceptions import VimmerseInputError
from airflow_provider_vimmerse.operators.tools import VimmerseToolOperator
from airflow_provider_vimmerse.sandbox.views import SAMPLE_PNG
from tests.dag_runs import new_dag, run_dag

FAST = {"poll_interval": 0.2}
SHOE = "https://cdn.test/shoe.png"
MASK = "https://cdn.test/mask.png"


@pytest.fixture(autouse=True)
def quick_jobs(vimmerse_sandbox):
    vimmerse_sandbox.client.configure(job_seconds=1)


@pytest.fixture
def images(tmp_path):
    human, clothes = tmp_path / "human.png", tmp_path / "clothes.png"
    shutil.copy(SAMPLE_PNG, human)
    shutil.copy(SAMPLE_PNG, clothes)
    return human, clothes


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
    ],
)
def test_a_literal_bad_input_is_refused_when_the_dag_is_parsed(vimmerse_sandbox, kwargs, expected):
    with pytest.raises(VimmerseInputError) as error:
        VimmerseToolOperator(task_id="tool", **kwargs)
    for text in expected:
        assert text in str(error.value)
    assert vimmerse_sandbox.client.ledger() == []


def test_the_credit_guard_is_refused_where_the_api_cannot_estimate(vimmerse_sandbox):
    with pytest.raises(VimmerseInputError) as error:
        VimmerseToolOperator(task_id="tool", tool="image/text-2-image", prompt="x", max_credits=5)
    assert "'max_credits'" in str(error.value) and "cannot estimate" in str(error.value)
    assert not any(tool.can_estimate for tool in LEGACY_TOOLS.values())
    assert vimmerse_sandbox.client.ledger() == []


# ---------------------------------------------------------------------- every row


def test_every_tool_sends_its_documented_form_and_returns_its_output(vimmerse_sandbox, airflow_db, tmp_path, images):
    human, clothes = images
    dag = new_dag("legacy_every_tool", tmp_path, deferrable=True, **FAST)
    with dag:
        VimmerseToolOperator(
            task_id="text_2_image", tool="image/text-2-image", prompt="a red kite", quantity=2, aspect_ratio="9:16"
        )
        VimmerseToolOperator(
            task_id="image_2_image",
            tool="image/image-2-image",
            image_url=human,
            prompt="Restructure the shirt as a white one",
            option="Restructure",
            creativity_strength="3",
        )
        VimmerseToolOperator(
            task_id="reimagine", tool="image/reimagine", image_url=human, image2_url=clothes, option="TryOn"
        )
        VimmerseToolOperator(
            task_id="edit_image",
            tool="image/edit-image",
            image_url=SHOE,
            mask_url=MASK,
            option="Inpaint",
            prompt="a mountain behind",
            reframe_parameters={"x_start": 0, "x_end": 100},
        )
        VimmerseToolOperator(task_id="refine", tool="text/prompt", option="RefinePrompt", prompt="a nurse smiling")
        VimmerseToolOperator(task_id="describe", tool="text/prompt", option="Image2Prompt", image_url=human)
        VimmerseToolOperator(task_id="speech", tool="audio/text-2-speech", prompt="Welcome!", voice="Aria")
        VimmerseToolOperator(task_id="effect", tool="audio/text-2-sound-effect", prompt="rain on a roof", duration=8)
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
    logs = capsys.readouterr().out + caplog.text

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
