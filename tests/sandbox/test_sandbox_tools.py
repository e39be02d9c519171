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


# ---------------------------------------------------------------------- the image steps and text-2-music (issue 13)

A, B, C = "https://e.com/a.png", "https://e.com/b.png", "https://e.com/c.png"


@pytest.mark.parametrize(
    ("path", "data", "files", "expected"),
    [
        ("/image/replace-background", {"option": "RemoveBackground"}, None, "image_file or image_url"),
        (
            "/image/replace-background",
            {"option": "ReplaceBackground", "image_url": A},
            None,
            "image2_file or image2_url for option ReplaceBackground",
        ),
        ("/image/try-on", {"human_image_url": A}, None, "clothes_image_file or clothes_image_url"),
        ("/image/face-swap", {}, None, "image_files or image_urls"),
        ("/image/face-swap", {"image_urls": [A]}, None, "at least 2 images"),
        ("/image/restyle", {"style": "3d"}, None, "image_file or image_url"),
        ("/image/elements", {"prompt": "a hat"}, None, "image_files or image_urls"),
        (
            "/image/elements",
            {"image_urls": [A, B, C], "option": "FluxKontextPro"},
            [("image_files", png("d.png")), ("image_files", png("e.png"))],
            "Option FluxKontextPro supports at most 4 images; got 5.",  # two files and three URLs
        ),
        ("/image/elements", {"image_urls": [A] * 9}, None, "Option FluxPro supports at most 8 images; got 9."),
        ("/audio/text-2-music", {}, None, "Provide prompt"),
    ],
)
def test_image_steps_refuse_a_request_missing_what_they_need(api, sandbox_client, path, data, files, expected):
    response = api.post(path, data=data, files=files)

    assert response.status_code == 400
    assert expected in response.json()["message"]
    assert sandbox_client.ledger()[0]["credits"] == 0


@pytest.mark.parametrize(
    ("path", "data", "field"),
    [
        ("/image/try-on", {"human_image_url": A, "clothes_image_url": B, "option": "Auto"}, "option"),
        ("/image/face-swap", {"image_urls": [A, B], "option": "DeepFace"}, "option"),
        ("/image/face-swap", {"image_urls": [A, B], "order_indices": ["first"]}, "order_indices"),
        ("/image/restyle", {"image_url": A, "style": "pixel_art"}, "style"),
        ("/image/elements", {"image_urls": [A], "option": "Midjourney"}, "option"),
        ("/image/elements", {"image_urls": [A], "quantity": "5"}, "quantity"),
        ("/image/replace-background", {"image_url": A, "option": "Upscale"}, "option"),
    ],
)
def test_image_steps_validate_the_documented_values(api, path, data, field):
    response = api.post(path, data=data)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:2] == ["body", field]


def test_face_swap_reads_repeated_file_parts_and_urls_and_answers_a_finished_asset(api, sandbox_client):
    files = [("image_files", png("target.png")), ("image_files", png("face.png"))]
    data = {"image_urls": [A], "order_indices": ["2", "0"], "face_only_mode": "false"}

    asset = api.post("/image/face-swap", data=data, files=files).json()["data"]

    assert (asset["status"], asset["app_name"], asset["mime_type"]) == ("success", "face-swap", "image/png")
    assert asset["args"]["image_files"] == ["target.png", "face.png"] and asset["args"]["image_urls"] == [A]
    assert (asset["args"]["order_indices"], asset["args"]["face_only_mode"]) == ([2, 0], False)
    assert requests.get(asset["results"][0], timeout=5).content == SAMPLE_PNG.read_bytes()
    assert [e["credits"] for e in sandbox_client.ledger()] == [1]


def test_each_image_step_answers_the_documented_wrapped_asset(api, sandbox_client):
    answers = {
        "/image/replace-background": api.post("/image/replace-background", files={"image_file": png()}),
        "/image/try-on": api.post("/image/try-on", data={"human_image_url": A, "clothes_image_url": B}),
        "/image/restyle": api.post("/image/restyle", data={"image_url": A}),
        "/image/elements": api.post("/image/elements", data={"image_urls": [A], "quantity": "3"}),
    }

    for path, response in answers.items():
        body = response.json()
        assert list(body) == ["data"], path
        assert body["data"]["status"] == "success" and body["data"]["results"][0].endswith(".png"), path
    # The schema defaults fill what was not sent (openapi.json: RemoveBackground, KlingTryOn, anime_style, FluxPro).
    args = {path: response.json()["data"]["args"] for path, response in answers.items()}
    assert args["/image/replace-background"]["option"] == "RemoveBackground"
    assert args["/image/try-on"]["option"] == "KlingTryOn"
    assert args["/image/restyle"]["style"] == "anime_style"
    assert args["/image/elements"]["option"] == "FluxPro"
    assert len(answers["/image/elements"].json()["data"]["results"]) == 3
    assert [e["credits"] for e in sandbox_client.ledger()] == [1, 1, 1, 3], "priced per output image"


def test_image_steps_wait_as_assets_with_async_mode(api, sandbox_client):
    sandbox_client.configure(job_seconds=0.3)

    started = api.post("/image/restyle", data={"image_url": A, "async_mode": "true"}).json()["data"]
    done = api.finished_asset(started["id"])

    assert started["status"] == "processing" and started["results"] == []
    assert done["status"] == "success" and done["results"][0].endswith(".png")


def test_text_to_music_answers_each_documented_shape(api, sandbox_client):
    asset = api.post("/audio/text-2-music", data={"prompt": "calm piano"}).json()
    sandbox_client.configure(audio_answer="url_list")
    listed = api.post("/audio/text-2-music", data={"prompt": "calm piano"}).json()

    assert list(asset) == ["data"] and asset["data"]["app_name"] == "text-2-music"
    assert asset["data"]["args"] == {"prompt": "calm piano"}, "the only documented field"
    assert listed["data"][0]["URL"].endswith(".mp3"), "the description's example code reads data[0].URL"
    assert [e["credits"] for e in sandbox_client.ledger()] == [1, 1]
