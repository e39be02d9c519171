"""The sandbox behaves like the documented Vimmerse API: media, batch, story, v2 tools, assets, statistics."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import pytest
import requests

from airflow_provider_vimmerse.sandbox import SAMPLE_MP4, SAMPLE_PNG, SandboxClient


def test_health_needs_no_key(sandbox_server, sandbox_client):
    response = requests.get(f"{sandbox_server.url}/health", timeout=5)

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("headers", [{}, {"X-Api-Key": "wrong-key"}])
def test_api_routes_need_a_valid_key(sandbox_server, sandbox_client, headers):
    response = requests.post(f"{sandbox_server.url}/media", data={"prompt": "x"}, headers=headers, timeout=5)

    assert response.status_code == 401
    assert response.json() == {"message": "UNAUTHORIZED"}
    assert sandbox_client.jobs() == []
    (entry,) = sandbox_client.ledger()
    assert entry["authorized"] is False
    assert entry["status"] == 401


def test_media_goes_through_the_documented_statuses_with_rising_progress(api):
    created = api.post("/media", data={"prompt": "a cat on a skateboard", "quantity": "2"}).json()["data"]
    assert created["processing_status"] == "queue_bullet"
    seen = [api.media_status(created["id"])]
    while seen[-1]["processing_status"] != "success":
        time.sleep(0.05)
        seen.append(api.media_status(created["id"]))

    statuses = [item["processing_status"] for item in seen]
    assert statuses[0] == "queue_bullet"
    assert "processing_bullet" in statuses
    assert statuses.index("processing_bullet") > statuses.index("queue_bullet")
    running = [item["progress_percentage"] for item in seen[:-1]]
    assert all(isinstance(progress, int) for progress in running)
    assert running == sorted(running) and running[-1] > running[0]
    assert seen[-1]["progress_percentage"] == "100"
    media = api.get(f"/media/{created['id']}").json()["data"]
    assert media["progress_percentage"] == 100
    assert len(media["result"]) == 2
    video = requests.get(media["result"][0]["url"], timeout=5)
    assert video.headers["content-type"] == "video/mp4"
    assert video.content[4:8] == b"ftyp"


def test_media_accepts_multipart_files_and_repeated_urlencoded_fields(api):
    with SAMPLE_PNG.open("rb") as first, SAMPLE_PNG.open("rb") as last:
        files = [
            ("image_files", ("start.png", first, "image/png")),
            ("image_files", ("end.png", last, "image/png")),
        ]
        from_files = api.post("/media", data={"title": "morph"}, files=files).json()["data"]
    urls = ["https://example.com/a.png", "https://example.com/b.png"]
    from_urls = api.post("/media", data={"image_urls": urls, "aspect_ratio": "9:16"}).json()["data"]

    assert [item["FileName"] for item in from_files["file_map"]] == ["start.png", "end.png"]
    assert from_files["is_transition"] == "Yes"
    assert [item["FileName"] for item in from_urls["file_map"]] == urls
    assert "AspectRatio=9:16" in from_urls["pose_preset"]["Params"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("motion_type", "NotAModel"),
        ("camera_control", "Sideways"),
        ("quantity", "0"),
        ("quantity", "5"),
        ("duration", "11"),
        ("loop", "7"),
        ("aspect_ratio", "2:1"),
        ("visibility_status", "3"),
        ("model", "NoTryOn"),
        ("media_items", "not json"),
        ("audio_option", "{broken"),
    ],
)
def test_invalid_media_fields_answer_422_in_fastapi_shape(api, sandbox_client, field, value):
    response = api.post("/media", data={"prompt": "x", field: value})

    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", field]
    assert isinstance(error["msg"], str) and isinstance(error["type"], str)
    assert sandbox_client.jobs() == []


def test_media_without_any_input_is_a_bad_request(api):
    response = api.post("/media", data={"title": "nothing to animate"})

    assert response.status_code == 400
    assert response.json()["code"] == "BAD_REQUEST"


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/media/nope", "MEDIA_NOT_FOUND"),
        ("/media/nope/processing-status", "MEDIA_NOT_FOUND"),
        ("/batch/nope", "BATCH_NOT_FOUND"),
        ("/story/nope", "STORY_NOT_FOUND"),
        ("/asset/nope", "ASSET_NOT_FOUND"),
    ],
)
def test_unknown_ids_answer_404_with_a_code(api, path, code):
    response = api.get(path)

    assert response.status_code == 404
    assert response.json() == {"message": code, "code": code}


def test_media_edit_changes_metadata_for_free_and_regenerates_for_credits(api, sandbox_client):
    sandbox_client.configure(job_seconds=0.2)
    media = api.post("/media", data={"prompt": "x", "duration": "4"}).json()["data"]
    api.finished_media(media["id"])
    credits_after_create = sandbox_client.state()["credits"]

    edited = api.put(f"/media/{media['id']}/edit", data={"title": "New", "rating": "5"}).json()["data"]
    assert (edited["title"], edited["rating"], edited["processing_status"]) == ("New", "5", "success")
    assert sandbox_client.state()["credits"] == credits_after_create

    regenerated = api.put(f"/media/{media['id']}", data={"duration": "6", "quantity": "2"}).json()["data"]
    assert regenerated["bullet_version"] == "1"
    assert regenerated["processing_status"] == "queue_bullet"
    assert sandbox_client.state()["credits"] == credits_after_create - 12
    assert sandbox_client.ledger(path=f"/media/{media['id']}", method="PUT")[0]["created"] is True


def test_media_process_resubmits_and_charges_again(api, sandbox_client):
    media = api.post("/media", data={"prompt": "x", "duration": "3"}).json()["data"]

    processed = api.post(f"/media/{media['id']}/process", json={}).json()["data"]

    assert processed["bullet_version"] == "1"
    charges = [entry["credits"] for entry in sandbox_client.ledger()]
    assert charges == [3, 3]


def test_download_waits_for_success_then_streams_a_real_mp4(api, sandbox_client):
    sandbox_client.configure(job_seconds=0.3)
    media = api.post("/media", data={"prompt": "x"}).json()["data"]

    early = api.get(f"/media/{media['id']}/download")
    assert early.status_code == 400
    api.finished_media(media["id"])
    video = api.get(f"/media/{media['id']}/download", params={"object_type": "bullet_video_mp4"})

    assert video.status_code == 200
    assert video.headers["content-type"] == "video/mp4"
    assert video.headers["content-disposition"] == f'attachment; filename="{media["id"]}.mp4"'
    assert int(video.headers["content-length"]) == len(video.content) == SAMPLE_MP4.stat().st_size
    assert video.content[4:8] == b"ftyp"


@pytest.mark.parametrize(
    ("marker", "status"),
    [("[sandbox:fail]", "fail"), ("[sandbox:cancel]", "cancel")],
)
def test_markers_end_media_as_requested(api, sandbox_client, marker, status):
    sandbox_client.configure(job_seconds=0.2)
    media = api.post("/media", data={"prompt": f"a dog {marker}"}).json()["data"]

    finished = api.finished_media(media["id"])

    assert finished["processing_status"] == status
    assert "requested by marker" in finished["message"]
    assert finished["result"] == []


def test_never_marker_keeps_a_media_processing_below_100(api, sandbox_client):
    sandbox_client.configure(job_seconds=0.1)
    media = api.post("/media", data={"prompt": "x", "title": "[sandbox:never]"}).json()["data"]
    time.sleep(0.3)

    status = api.media_status(media["id"])

    assert status == {"processing_status": "processing_bullet", "progress_percentage": 99}


def test_default_outcome_setting_applies_without_a_marker(api, sandbox_client):
    sandbox_client.configure(job_seconds=0.1, default_outcome="fail")
    media = api.post("/media", data={"prompt": "x"}).json()["data"]

    assert api.finished_media(media["id"])["processing_status"] == "fail"


def test_insufficient_credit_answers_402_and_creates_nothing(api, sandbox_client):
    sandbox_client.configure(credits=9)

    response = api.post("/media", data={"prompt": "x", "quantity": "2", "duration": "5"})

    assert response.status_code == 402
    assert response.json() == {"message": "INSUFFICIENT_CREDIT"}
    assert sandbox_client.jobs() == []
    assert sandbox_client.state()["credits"] == 9
    (entry,) = sandbox_client.ledger()
    assert (entry["status"], entry["created"], entry["credits"], entry["job_id"]) == (402, False, 0, None)


def test_batch_makes_one_media_per_image_and_fills_the_lists_as_they_finish(api, sandbox_client, wait_until):
    urls = [f"https://example.com/{n}.png" for n in range(3)]
    form = {"image_urls": urls, "title": "three", "sound_effects": "Yes"}
    batch = api.post("/batch", data=form).json()["data"]
    assert batch["status"] == "new"
    assert len(batch["medias"]) == 3

    def some_finished():
        current = api.get(f"/batch/{batch['id']}").json()["data"]
        return current if current["finished_medias"] else None

    midway = wait_until(some_finished)
    assert midway["status"] == "processing"
    assert 0 < len(midway["finished_medias"]) < 3
    done = api.finished_group(f"/batch/{batch['id']}")
    assert done["status"] == "success"
    assert sorted(done["finished_medias"]) == sorted(m["media_id"] for m in batch["medias"])
    assert done["failed_medias"] == []
    assert done["video_url"].endswith(".mp4")
    child = api.get(f"/media/{batch['medias'][0]['media_id']}").json()["data"]
    assert child["batch_id"] == batch["id"]
    assert sandbox_client.ledger(path="/batch")[0]["credits"] == 3 * 5


def test_batch_partial_marker_fails_the_first_media_only(api, sandbox_client):
    sandbox_client.configure(job_seconds=0.3)
    urls = ["https://example.com/1.png", "https://example.com/2.png"]
    batch = api.post("/batch", data={"image_urls": urls, "prompt": "[sandbox:partial]"}).json()["data"]

    done = api.finished_group(f"/batch/{batch['id']}")

    assert done["status"] == "success"
    assert done["failed_medias"] == [batch["medias"][0]["media_id"]]
    assert done["finished_medias"] == [batch["medias"][1]["media_id"]]


def test_batch_fail_marker_fails_the_batch(api, sandbox_client):
    sandbox_client.configure(job_seconds=0.2)
    batch = api.post("/batch", data={"image_urls": ["https://e.com/1.png"], "title": "[sandbox:fail]"}).json()

    done = api.finished_group(f"/batch/{batch['data']['id']}")

    assert done["status"] == "fail"
    assert done["message"]
    assert done["video_url"] == ""


def test_batch_needs_an_image(api):
    response = api.post("/batch", data={"title": "empty"})

    assert response.status_code == 400


def test_batch_edit_regenerates_and_concat_composes_again(api, sandbox_client):
    sandbox_client.configure(job_seconds=0.2)
    urls = ["https://e.com/1.png", "https://e.com/2.png"]
    batch = api.post("/batch", data={"image_urls": urls}).json()["data"]
    first = api.finished_group(f"/batch/{batch['id']}")

    edited = api.put(f"/batch/{batch['id']}/edit", data={"title": "Renamed", "duration": "2"}).json()["data"]
    assert edited["title"] == "Renamed"
    assert edited["status"] in ("new", "processing")
    second = api.finished_group(f"/batch/{batch['id']}")
    concat = api.post(f"/batch/{batch['id']}/concat").json()["data"]
    assert concat["status"] == "processing"
    third = api.finished_group(f"/batch/{batch['id']}")

    assert len({first["video_url"], second["video_url"], third["video_url"]}) == 3
    assert [entry["credits"] for entry in sandbox_client.ledger() if entry["created"]] == [10, 4, 1]


def test_story_idea_to_video_runs_on_its_own(api, sandbox_client):
    sandbox_client.configure(job_seconds=0.3)
    body = {
        "idea": "cute animals play instruments",
        "title": "Band",
        "scene_count": 2,
        "aspect_ratio": "9:16",
    }
    story = api.post("/story/idea-2-video", json=body).json()["data"]
    assert story["status"] == "new"
    assert len(story["storyboard"]["scenes"]) == 2

    done = api.finished_group(f"/story/{story['id']}")

    assert done["status"] == "success"
    assert done["video_url"].startswith(api.url)
    assert sandbox_client.ledger()[0]["credits"] == 1 + 2 + 2 + 2 * 5


def test_story_idea_to_video_accepts_a_form_and_validates(api):
    from_form = api.post("/story/idea-2-video", data={"idea": "a form idea", "scene_count": "1"})
    missing_idea = api.post("/story/idea-2-video", json={"title": "no idea"})
    too_many = api.post("/story/idea-2-video", json={"idea": "x", "scene_count": 11})

    assert from_form.status_code == 200
    assert missing_idea.status_code == 422
    assert missing_idea.json()["detail"][0]["loc"] == ["body", "idea"]
    assert too_many.json()["detail"][0]["loc"] == ["body", "scene_count"]


def test_story_advanced_flow(api, sandbox_client):
    sandbox_client.configure(job_seconds=0.3)
    form = {"idea": "a bunny finds honey", "scene_count": "3", "title": "Bunny"}
    story = api.post("/story", data=form).json()["data"]
    assert story["status"] == "new"
    assert all({"title", "description"} <= set(scene) for scene in story["storyboard"]["scenes"])

    elements = api.post(f"/story/{story['id']}/elements", data={"option": "FluxKontextPro"}).json()["data"]
    assert elements["storyboard"]["characters"][0]["image_url"].endswith(".png")
    storyboard = elements["storyboard"]
    storyboard["scenes"] = storyboard["scenes"][:2]
    form = {"storyboard": json.dumps(storyboard)}
    scenes = api.post(f"/story/{story['id']}/scenes", data=form).json()["data"]
    assert [bool(scene.get("image_url")) for scene in scenes["storyboard"]["scenes"]] == [True, True]
    assert scenes["status"] == "new"
    videos = api.post(f"/story/{story['id']}/videos", data={"motion_type": "KlingAI", "duration": "4"}).json()
    assert len(videos["data"]["medias"]) == 2

    done = api.finished_group(f"/story/{story['id']}")
    changes = {"title": "Bunny 2", "visibility_status": "2"}
    renamed = api.put(f"/story/{story['id']}", data=changes).json()["data"]
    concat = api.post(f"/story/{story['id']}/concat").json()["data"]

    assert done["status"] == "success" and done["video_url"]
    assert (renamed["title"], renamed["visibility_status"]) == ("Bunny 2", "2")
    assert concat["status"] == "processing"
    assert [entry["credits"] for entry in sandbox_client.ledger() if entry["created"]] == [1, 2, 2, 8, 1]


def test_story_videos_rejects_a_bad_storyboard(api):
    story = api.post("/story", data={"idea": "x"}).json()["data"]

    not_json = api.post(f"/story/{story['id']}/videos", data={"storyboard": "{nope"})
    no_scenes = api.post(f"/story/{story['id']}/videos", data={"storyboard": json.dumps({"scenes": []})})

    assert not_json.status_code == 422
    assert not_json.json()["detail"][0]["loc"] == ["body", "storyboard"]
    assert no_scenes.status_code == 400


def test_v2_tool_returns_a_bare_asset_that_finishes(api, sandbox_client):
    sandbox_client.configure(job_seconds=0.3)
    body = {"video_url": "https://e.com/in.mp4", "aspect_ratio": "9:16", "async_mode": True}
    asset = api.post("/v2/video/crop-to-aspect-ratio", json=body).json()
    assert "data" not in asset
    assert asset["status"] == "processing"
    assert asset["app_name"] == "crop-to-aspect-ratio"
    assert asset["args"]["aspect_ratio"] == "9:16"

    done = api.finished_asset(asset["id"])

    assert done["progress_percentage"] == 100
    assert len(done["results"]) == 1
    assert requests.get(done["results"][0], timeout=5).content[4:8] == b"ftyp"


def test_v2_tool_with_async_mode_false_is_finished_at_once(api):
    body = {"image_urls": ["https://e.com/a.png"], "prompt": "dance", "quantity": 2, "async_mode": False}

    asset = api.post("/v2/video/reference-to-video", json=body).json()

    assert asset["status"] == "success"
    assert len(asset["results"]) == 2


def test_v2_tool_fail_marker(api, sandbox_client):
    sandbox_client.configure(job_seconds=0.1)
    body = {"video_url": "https://e.com/v.mp4", "prompt": "[sandbox:fail]"}
    asset = api.post("/v2/video/sound-effect", json=body)

    done = api.finished_asset(asset.json()["id"])

    assert done["status"] == "fail"
    assert done["error"]


@pytest.mark.parametrize(
    ("tool", "field"),
    [
        ("crop-to-aspect-ratio", "video_url"),
        ("reframe", "video_url"),
        ("enhance", "video_url"),
        ("sound-effect", "video_url"),
        ("video-effects", "image_url"),
        ("replace-background", "video_url"),
        ("reference-to-video", "image_urls"),
        ("video-to-video", "video_url"),
        ("audio", "video_url"),
    ],
)
def test_v2_tools_require_their_documented_fields(api, tool, field):
    response = api.post(f"/v2/video/{tool}", json={})

    assert response.status_code == 422
    assert ["body", field] in [error["loc"] for error in response.json()["detail"]]


def test_v2_lip_sync_tools_accept_their_inputs(api):
    face_and_voice = {"image_url": "https://e.com/f.png", "audio_url": "https://e.com/a.mp3"}
    avatar_script = {"avatar_id": "a1", "voice_id": "v1", "prompt": "Hi"}

    lip_sync = api.post("/v2/video/lip-sync", json=face_and_voice)
    no_visual = api.post("/v2/video/lip-sync", json={"audio_url": "https://e.com/a.mp3"})
    avatar = api.post("/v2/video/avatars/lip-sync", json=avatar_script)

    assert lip_sync.status_code == 200
    assert no_visual.status_code == 400
    assert avatar.json()["app_name"] == "avatar-lip-sync"


def test_estimate_credits_matches_what_the_route_charges(api, sandbox_client):
    body = {"image_urls": ["https://e.com/a.png"], "quantity": 2, "duration": 12}
    estimate = api.post(
        "/v2/video/estimate-credits",
        json={"app_name": "reference-to-video", "option": "KlingO", "quantity": 2, "duration": 12},
    ).json()

    api.post("/v2/video/reference-to-video", json=body)

    assert estimate["total_credits"] == 10 * 2 * 3
    assert estimate["breakdown"]["duration_blocks"] == 3
    charged = [entry["credits"] for entry in sandbox_client.ledger(path="/v2/video/reference-to-video")]
    assert charged == [estimate["total_credits"]]
    upload = api.post("/v2/video/estimate-credits", json={"app_name": "upload-video", "option": "x"})
    assert upload.json()["total_credits"] == 0
    assert api.post("/v2/video/estimate-credits", json={"app_name": "lip-sync"}).status_code == 422


def test_upload_video_returns_a_finished_asset_with_a_hosted_url(api):
    with SAMPLE_MP4.open("rb") as video:
        asset = api.post("/v2/video", files={"video_file": ("clip.mp4", video, "video/mp4")}).json()

    assert asset["status"] == "success"
    assert asset["app_name"] == "upload-video"
    assert asset["results"][0].startswith(api.url)
    assert api.post("/v2/video").status_code == 422


def test_customer_statistics_has_one_row_per_day(api, sandbox_client):
    api.post("/media", data={"prompt": "x", "duration": "3"})
    today = datetime.now(timezone.utc).date()

    rows = api.get(f"/customer-statistics/2020-01-01/{today.isoformat()}").json()["data"]

    assert rows[0] == {
        "date": "2020-01-01",
        "credits_used": 0,
        "media_count": 0,
        "batch_count": 0,
        "story_count": 0,
    }
    assert rows[-1] == {
        "date": today.isoformat(),
        "credits_used": 3,
        "media_count": 1,
        "batch_count": 0,
        "story_count": 0,
    }
    assert len(rows) == (today - datetime(2020, 1, 1).date()).days + 1
    assert api.get("/customer-statistics/2025-13-01/2025-12-31").status_code == 422
    assert api.get("/customer-statistics/2025-02-01/2025-01-31").status_code == 400


def test_reset_and_configure(api, sandbox_client: SandboxClient):
    sandbox_client.configure(credits=5, job_seconds=0.5)
    api.post("/media", data={"prompt": "x", "duration": "1"})

    with pytest.raises(requests.HTTPError):
        sandbox_client.configure(no_such_setting=1)
    state = sandbox_client.reset()

    assert state["credits"] == 1000
    assert state["settings"]["job_seconds"] == 1.0
    assert sandbox_client.jobs() == []
    assert sandbox_client.ledger() == []
