"""The sandbox's legacy image, audio and text tools and the image/audio uploads, over real HTTP."""

from __future__ import annotations

import pytest
import requests

from airflow_provider_vimmerse.sandbox import SAMPLE_PNG


def png(name: str = "shoe.png") -> tuple[str, bytes, str]:
    return (name, SAMPLE_PNG.read_bytes(), "image/png")


def test_uploads_answer_a_finished_wrapped_asset_with_a_hosted_url(api, sandbox_client):
    image = api.post("/image", files={"image_file": png()}).json()["data"]
    audio = api.post("/audio", files={"audio_file": ("voice.mp3", b"ID3", "audio/mpeg")}).json()["data"]

    assert (image["status"], image["app_name"], image["mime_type"]) == ("success", "upload-image", "image/png")
    assert requests.get(image["results"][0], timeout=5).content == SAMPLE_PNG.read_bytes()
    assert (audio["status"], audio["mime_type"]) == ("success", "audio/mp3"), "platform-api-v1-legacy.txt spelling"
    assert audio["results"][0].endswith(".mp3")
    assert api.post("/image").status_code == 422
    assert [e["credits"] for e in sandbox_client.ledger(method="POST")] == [0, 0, 0], "uploads are free"


def test_text_to_image_answers_finished_images_and_charges_per_image(api, sandbox_client):
    body = {"prompt": "a red kite", "quantity": "2", "aspect_ratio": "9:16", "option": "Seedream"}

    asset = api.post("/image/text-2-image", data=body).json()["data"]

    assert asset["status"] == "success"
    assert [url.rsplit(".", 1)[-1] for url in asset["results"]] == ["png", "png"]
    assert asset["args"]["aspect_ratio"] == "9:16"
    assert [e["credits"] for e in sandbox_client.ledger(path="/image/text-2-image")] == [2]


def test_async_mode_answers_an_unfinished_asset_polled_at_get_asset(api, sandbox_client):
    sandbox_client.configure(job_seconds=0.3)

    asset = api.post("/image/edit-image", data={"option": "Upscale", "async_mode": "true"}, files={"image_file": png()})
    started = asset.json()["data"]
    done = api.finished_asset(started["id"])

    assert started["status"] == "processing" and started["results"] == []
    assert done["status"] == "success" and done["results"][0].endswith(".png")


@pytest.mark.parametrize(
    ("path", "data", "files", "expected"),
    [
        ("/image/image-2-image", {"prompt": "blue"}, None, "image_file or image_url"),
        ("/image/edit-image", {"option": "Inpaint", "prompt": "sky"}, {"image_file": png()}, "for option Inpaint"),
        ("/image/reimagine", {"option": "TryOn"}, {"image_file": png()}, "image2_file or image2_url"),
        ("/text/prompt", {"option": "RefinePrompt"}, None, "prompt for option RefinePrompt"),
        ("/audio/text-2-speech", {"voice": "Aria"}, None, "Provide prompt"),
    ],
)
def test_legacy_tools_refuse_a_request_missing_what_they_need(api, sandbox_client, path, data, files, expected):
    response = api.post(path, data=data, files=files)

    assert response.status_code == 400
    assert expected in response.json()["message"]
    assert sandbox_client.ledger()[0]["credits"] == 0


def test_legacy_tools_validate_documented_values(api):
    bad_voice = api.post("/audio/text-2-speech", data={"prompt": "hi", "voice": "HAL"})
    bad_option = api.post("/image/edit-image", data={"image_url": "https://e.com/a.png", "option": "Blur"})

    assert bad_voice.status_code == 422 and bad_voice.json()["detail"][0]["loc"] == ["body", "voice"]
    assert bad_option.status_code == 422 and bad_option.json()["detail"][0]["loc"] == ["body", "option"]


def test_text_prompt_answers_the_text_and_is_free(api, sandbox_client):
    refined = api.post("/text/prompt", data={"option": "RefinePrompt", "prompt": "a nurse smiling"}).json()
    described = api.post("/text/prompt", data={"option": "Image2Prompt"}, files={"image_file": png("cat.png")}).json()

    assert refined["data"].startswith("a nurse smiling, cinematic lighting")
    assert "cat.png" in described["data"]
    assert [e["credits"] for e in sandbox_client.ledger()] == [0, 0]


def test_audio_routes_answer_a_wrapped_asset_like_the_openapi_examples(api, sandbox_client):
    speech = api.post("/audio/text-2-speech", data={"prompt": "Welcome", "voice": "Aria"}).json()
    effect = api.post("/audio/text-2-sound-effect", data={"prompt": "rain", "duration": "12"}).json()

    for body in (speech, effect):
        assert list(body) == ["data"]
        assert (body["data"]["status"], body["data"]["mime_type"]) == ("success", "audio/mp3")
        assert body["data"]["results"][0].endswith(".mp3")
    assert [e["credits"] for e in sandbox_client.ledger()] == [1, 3], "sound effects are billed per 5 s block"


def test_audio_answer_setting_serves_the_url_list_and_the_legacy_asset(api, sandbox_client):
    sandbox_client.configure(audio_answer="url_list")
    listed = api.post("/audio/text-2-speech", data={"prompt": "Welcome"}).json()
    sandbox_client.configure(audio_answer="legacy")
    legacy = api.post("/audio/text-2-sound-effect", data={"prompt": "rain"}).json()

    assert list(listed["data"][0]) == ["URL", "thumbnail_url"] and listed["data"][0]["URL"].endswith(".mp3")
    assert list(legacy["data"]) == [
        "id",
        "customer_id",
        "primary_user_id",
        "args",
        "mime_type",
        "created_at",
        "updated_at",
    ]


def test_a_legacy_tool_answers_402_when_the_credits_are_spent(api, sandbox_client):
    sandbox_client.configure(credits=1)

    response = api.post("/image/text-2-image", data={"prompt": "a kite", "quantity": "2"})

    assert response.status_code == 402
    assert response.json() == {"message": "INSUFFICIENT_CREDIT"}
    assert sandbox_client.state()["credits"] == 1, "nothing was charged"


def test_audio_outputs_can_be_downloaded_as_real_mp3(api, sandbox_client):
    speech = api.post("/audio/text-2-speech", data={"prompt": "Hello there"}).json()
    response = requests.get(speech["data"]["results"][0], timeout=10)
    assert response.status_code == 200 and response.headers["content-type"] == "audio/mpeg"
    assert response.content[:3] == b"ID3" or response.content[:2] == b"\xff\xfb", "an MP3 file"
