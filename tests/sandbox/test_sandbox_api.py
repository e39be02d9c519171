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


# Keys of the media object in the openapi.json GET /media/{media_id} 200 example, in order.
MEDIA_KEYS = [
    "id",
    "title",
    "description",
    "rating",
    "customer_id",
    "batch_id",
    "base_url",
    "is_transition",
    "duration_time",
    "progress_percentage",
    "processing_status",
    "visibility_status",
    "file_map",
    "submit_params",
    "pose_preset",
    "bullet_version",
    "video_history",
    "result",
    "webhook_url",
    "nsfw",
    "service_name",
    "service_version",
    "created_at",
    "updated_at",
    "version",
]
HISTORY_KEYS = [
    "pose_preset",
    "file_map",
    "service_name",
    "service_seeds",
    "created_at",
    "service_version",
    "bullet_version",
    "resolution",
    "submit_params",
]
TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f%z"
# Keys of the batch object in batch.txt "Get Batch", plus video_url, image_urls, aspect_ratio, webhook_url and
# used_credits (openapi.json Batch schema).
BATCH_KEYS = [
    *("id", "email", "manager_id", "customer_id", "title", "description", "visibility_status", "idea"),
    *("storyboard", "scenes", "message", "note", "feedback", "is_transition", "filenames", "files", "medias"),
    *("upload_urls", "finished_medias", "failed_medias", "pose_preset", "submit_params", "progress_percentage"),
    *("status", "generate_type", "version", "created_at", "updated_at"),
    *("video_url", "image_urls", "aspect_ratio", "webhook_url", "used_credits"),
]
# Keys of the asset object in the openapi.json examples (POST /image and every legacy tool), in order.
ASSET_KEYS = [
    *("id", "customer_id", "primary_user_id", "args", "results", "thumbnails", "status", "mime_type"),
    *("app_name", "created_at", "updated_at", "history"),
]


def test_media_goes_through_the_documented_statuses_with_string_progress(api):
    created = api.post("/media", data={"prompt": "a cat on a skateboard", "quantity": "2"}).json()["data"]
    assert created["processing_status"] == "queue_bullet"
    seen = [api.media_status(created["id"])]
    while seen[-1]["processing_status"] != "success":
        time.sleep(0.05)
        seen.append(api.media_status(created["id"]))

    statuses = [item["processing_status"] for item in seen]
    assert statuses[0] == "queue_bullet"
    assert statuses.index("processing_bullet") > statuses.index("queue_bullet")
    progress = [item["progress_percentage"] for item in seen]
    assert all(isinstance(value, str) for value in progress), "openapi.json example: a string"
    assert [int(value) for value in progress] == sorted(int(value) for value in progress)
    assert seen[-1] == {"progress_percentage": "100", "processing_status": "success"}


def test_get_media_is_wrapped_twice_with_the_documented_keys_and_types(api):
    created = api.post("/media", data={"prompt": "x", "aspect_ratio": "9:16"}).json()["data"]
    assert created["bullet_version"] == "0" and created["video_history"] == []
    assert "service_name" not in created, "the POST /media example has no service fields"
    api.finished_media(created["id"])

    body = api.get(f"/media/{created['id']}").json()
    media = body["data"]["data"]

    assert list(body) == ["data"] and list(body["data"]) == ["data"]
    assert list(media) == MEDIA_KEYS
    assert media["progress_percentage"] == 100
    assert media["bullet_version"] == "1"
    assert media["duration_time"] == "5.0"
    assert media["result"] == [], "the video is only at GET /media/{id}/download"
    (entry,) = media["video_history"]
    assert list(entry) == HISTORY_KEYS
    assert entry["bullet_version"] == "1" and entry["resolution"] == [720, 1280]
    for stamp in (media["created_at"], media["updated_at"], entry["created_at"]):
        assert datetime.strptime(stamp, TIME_FORMAT).tzinfo is not None
        assert stamp.endswith("+00:00") and len(stamp) == len("2025-04-01 13:19:10.786297+00:00")


def test_variant_settings_list_result_urls_wrap_once_and_count_in_integers(api, sandbox_client, wait_until):
    sandbox_client.configure(media_outputs="result", media_get_wrapping="once", status_progress="integer")
    created = api.post("/media", data={"prompt": "x", "quantity": "2"}).json()["data"]
    running = api.media_status(created["id"])

    media = wait_until(lambda: (m := api.get(f"/media/{created['id']}").json()["data"])["result"] and m)

    assert isinstance(running["progress_percentage"], int)
    assert [list(item) for item in media["result"]] == [["url"], ["url"]]
    video = requests.get(media["result"][0]["url"], timeout=5)
    assert video.headers["content-type"] == "video/mp4" and video.content[4:8] == b"ftyp"


def test_mixed_progress_counts_in_integers_then_says_100_as_a_string(api, sandbox_client):
    sandbox_client.configure(status_progress="mixed", job_seconds=0.3)
    media_id = api.post("/media", data={"prompt": "x"}).json()["data"]["id"]

    first = api.media_status(media_id)
    api.finished_media(media_id)

    assert isinstance(first["progress_percentage"], int)
    assert api.media_status(media_id)["progress_percentage"] == "100"


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
    assert list(response.json()) == ["message"]


#: Routes of a job, with an id no job has, that answer ``404 {"message": "NOT_FOUND"}``; ``GET /media/{id}``
#: answers ``MEDIA_NOT_FOUND`` instead (README.md "Errors").
NOT_FOUND_ROUTES = [
    "GET /media/nope/processing-status",
    "PUT /media/nope/edit",
    "POST /media/nope/process",
    "GET /batch/nope",
    "GET /story/nope",
    "POST /story/nope/concat",
    "GET /asset/nope",
]


@pytest.mark.parametrize(
    ("route", "message"),
    [("GET /media/nope", "MEDIA_NOT_FOUND"), *((route, "NOT_FOUND") for route in NOT_FOUND_ROUTES)],
)
def test_unknown_ids_answer_404_with_the_documented_message(api, route, message):
    response = api.request(*route.split())

    assert response.status_code == 404
    assert response.json() == {"message": message}


def test_error_code_field_setting_adds_a_code(api, sandbox_client):
    sandbox_client.configure(error_code_field=True, credits=0)

    missing = api.get("/media/nope")
    broke = api.post("/media", data={"prompt": "x"})

    assert missing.json() == {"message": "MEDIA_NOT_FOUND", "code": "MEDIA_NOT_FOUND"}
    assert broke.json() == {"message": "INSUFFICIENT_CREDIT", "code": "INSUFFICIENT_CREDIT"}


def test_media_edit_changes_metadata_for_free_and_regenerates_for_credits(api, sandbox_client, wait_until):
    sandbox_client.configure(job_seconds=0.2, stale_success_seconds=0.3)
    media = api.post("/media", data={"prompt": "x", "duration": "4"}).json()["data"]
    api.finished_media(media["id"])
    credits_after_create = sandbox_client.state()["credits"]

    edited = api.put(f"/media/{media['id']}/edit", data={"title": "New", "rating": "5"}).json()
    assert list(edited) == ["data"], "openapi.json PUT example: one wrapper"
    assert (edited["data"]["title"], edited["data"]["rating"]) == ("New", "5")
    assert sandbox_client.state()["credits"] == credits_after_create

    answer = api.put(f"/media/{media['id']}", data={"duration": "6", "quantity": "2"}).json()["data"]
    assert (answer["processing_status"], answer["bullet_version"]) == ("success", "1"), "the media as it was"
    assert sandbox_client.state()["credits"] == credits_after_create - 12
    assert sandbox_client.ledger(path=f"/media/{media['id']}", method="PUT")[-1]["created"] is True
    regenerated = wait_until(lambda: (m := api.media(media["id"]))["bullet_version"] == "2" and m)
    assert len(regenerated["video_history"]) == 2
    assert "MotionLength=6" in regenerated["video_history"][-1]["pose_preset"]["Params"]


def test_media_process_answers_empty_data_and_charges_again(api, sandbox_client):
    sandbox_client.configure(job_seconds=0.1)
    media = api.post("/media", data={"prompt": "x", "duration": "3"}).json()["data"]
    refused = api.post(f"/media/{media['id']}/process")
    api.finished_media(media["id"])

    processed = api.post(f"/media/{media['id']}/process")

    assert refused.status_code == 400, "openapi.json: 400 for a media in an invalid state"
    assert processed.json() == {"data": {}}
    charges = [entry["credits"] for entry in sandbox_client.ledger() if entry["status"] == 200 and entry["created"]]
    assert charges == [3, 3]


def test_stale_window_shows_the_old_success_then_the_new_run(api, sandbox_client):
    sandbox_client.configure(job_seconds=0.3, stale_success_seconds=0.6)
    media_id = api.post("/media", data={"prompt": "x"}).json()["data"]["id"]
    before = api.finished_media(media_id)
    time.sleep(0.05)

    def read() -> tuple[dict, dict]:
        return api.media(media_id), api.media_status(media_id)

    asked, during = api.post_and_watch(f"/media/{media_id}/process", read, seconds=0.45, interval=0.05)
    statuses = [api.media_status(media_id)["processing_status"]]
    while statuses[-1] == "success" and time.monotonic() - asked < 2:
        statuses.append(api.media_status(media_id)["processing_status"])
        time.sleep(0.02)
    while statuses[-1] != "success":
        statuses.append(api.media_status(media_id)["processing_status"])
        time.sleep(0.02)
    after = api.media(media_id)
    shown_at = len(statuses) - statuses[::-1].index("success") - 1

    assert during and all(media == before for _, (media, _) in during), "every read shows exactly the old object"
    assert all(status == {"progress_percentage": "100", "processing_status": "success"} for _, (_, status) in during)
    assert "processing_bullet" in statuses[:shown_at], "after the window the new run shows its progress"
    assert (after["bullet_version"], len(after["video_history"])) == ("2", 2)
    assert after["updated_at"] > before["updated_at"]


def test_download_streams_the_video_only_after_success(api, sandbox_client):
    sandbox_client.configure(job_seconds=0.3)
    media = api.post("/media", data={"prompt": "x"}).json()["data"]

    early = api.get(f"/media/{media['id']}/download")
    api.finished_media(media["id"])
    video = api.get(
        f"/media/{media['id']}/download",
        params={"object_type": "bullet_video_mp4", "motion_type": "Auto", "width": 1080, "file_size": 4},
    )
    default = api.get(f"/media/{media['id']}/download")
    without_key = requests.get(f"{api.url}/media/{media['id']}/download", timeout=5)

    assert early.status_code == 400 and list(early.json()) == ["message"]
    assert video.status_code == 200
    assert video.headers["content-type"] == "video/mp4"
    assert video.headers["content-disposition"] == f'attachment; filename="{media["id"]}-v1.mp4"'
    assert int(video.headers["content-length"]) == len(video.content) == SAMPLE_MP4.stat().st_size
    assert video.content[4:8] == b"ftyp"
    assert default.content == video.content, "media.txt's complete example sends no object_type"
    assert without_key.status_code == 401


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"object_type": "bullet_video_gif"}, 400),
        ({"object_type": "source"}, 400),
        ({"width": "wide"}, 422),
    ],
)
def test_download_refuses_undocumented_object_types_and_bad_params(api, sandbox_client, params, status):
    sandbox_client.configure(job_seconds=0.1)
    media = api.post("/media", data={"prompt": "x"}).json()["data"]
    api.finished_media(media["id"])

    response = api.get(f"/media/{media['id']}/download", params=params)

    assert response.status_code == status
    if status == 400:
        assert list(response.json()) == ["message"]
    else:
        assert response.json()["detail"][0]["loc"] == ["query", "width"]


def test_download_of_an_unknown_media_is_a_bad_request(api):
    response = api.get("/media/nope/download")

    assert response.status_code == 400, "the route documents 400 and 422 only"
    assert response.json() == {"message": "MEDIA_NOT_FOUND"}


@pytest.mark.parametrize(
    ("marker", "status"),
    [("[sandbox:fail]", "fail"), ("[sandbox:cancel]", "cancel")],
)
def test_markers_end_media_as_requested(api, sandbox_client, marker, status):
    sandbox_client.configure(job_seconds=0.2)
    media = api.post("/media", data={"prompt": f"a dog {marker}"}).json()["data"]

    finished = api.finished_media(media["id"])

    assert finished["processing_status"] == status
    assert "message" not in finished, "no document shows a failure message on a media"
    assert (finished["bullet_version"], finished["video_history"]) == ("0", [])


def test_never_marker_keeps_a_media_processing_below_100(api, sandbox_client):
    sandbox_client.configure(job_seconds=0.1)
    media = api.post("/media", data={"prompt": "x", "title": "[sandbox:never]"}).json()["data"]
    time.sleep(0.3)

    status = api.media_status(media["id"])

    assert status == {"processing_status": "processing_bullet", "progress_percentage": "99"}


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
    child = api.media(batch["medias"][0]["media_id"])
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


def test_batch_edit_regenerates_and_concat_composes_again(api, sandbox_client, wait_until):
    sandbox_client.configure(job_seconds=0.2)
    urls = ["https://e.com/1.png", "https://e.com/2.png"]
    batch = api.post("/batch", data={"image_urls": urls}).json()["data"]
    path = f"/batch/{batch['id']}"
    first = api.finished_group(path)

    def new_video(previous: str):
        group = api.get(path).json()["data"]
        return group if group["video_url"] not in ("", previous) else None

    edited = api.put(f"{path}/edit", data={"title": "Renamed", "duration": "2"}).json()["data"]
    second = wait_until(lambda: new_video(first["video_url"]))
    concat = api.post(f"{path}/concat")
    third = wait_until(lambda: new_video(second["video_url"]))

    assert (edited["title"], edited["status"], edited["video_url"]) == ("Renamed", "success", first["video_url"])
    assert concat.json() == {}, 'batch.txt "Concat": { }'
    assert len({first["video_url"], second["video_url"], third["video_url"]}) == 3
    assert [entry["credits"] for entry in sandbox_client.ledger() if entry["created"]] == [10, 4, 1]


def test_concat_keeps_success_with_an_empty_video_url_while_composing(api, sandbox_client, wait_until):
    sandbox_client.configure(job_seconds=0.1, stale_success_seconds=0.4, compose_seconds=0.6)
    batch = api.post("/batch", data={"image_urls": ["https://e.com/1.png"]}).json()["data"]
    path = f"/batch/{batch['id']}"
    before = api.finished_group(path)
    time.sleep(0.05)

    _, reads = api.post_and_watch(f"{path}/concat", lambda: api.get(path).json()["data"], seconds=1.3, interval=0.04)

    stale = [group for at, group in reads if at < 0.35]
    composing = [group for at, group in reads if 0.45 < at < 0.95]
    done = [group for at, group in reads if at > 1.05]
    unchanged = {**before, "used_credits": before["used_credits"] + 1}  # the concat is paid at once
    assert stale and all(group == unchanged for group in stale), "the stale window shows the old object"
    assert composing and all((g["status"], g["video_url"]) == ("success", "") for g in composing)
    assert done and all(g["status"] == "success" and g["video_url"] not in ("", before["video_url"]) for g in done)
    assert sorted(done[-1]) == sorted(BATCH_KEYS)


@pytest.mark.parametrize(("answer", "shape"), [("bare", "object"), ("wrapped", "data")])
def test_concat_answer_setting_serves_the_legacy_shapes(api, sandbox_client, answer, shape):
    sandbox_client.configure(job_seconds=0.1, concat_answer=answer)
    story = api.post("/story/idea-2-video", json={"idea": "x", "scene_count": 1}).json()["data"]
    api.finished_group(f"/story/{story['id']}")

    body = api.post(f"/story/{story['id']}/concat", data={"audio_urls": ["https://e.com/a.mp3"]}).json()

    obj = body if shape == "object" else body["data"]
    assert obj["id"] == story["id"] and obj["status"] == "success"


"""
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


def test_story_advanced_flow(api, sandbox_client, wait_until):
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
    concat = api.post(f"/story/{story['id']}/concat")
    composed = wait_until(
        lambda: (s := api.get(f"/story/{story['id']}").json()["data"])["video_url"] not in ("", done["video_url"]) and s
    )

    assert done["status"] == "success" and done["video_url"]
    assert (renamed["title"], renamed["visibility_status"]) == ("Bunny 2", "2")
    assert concat.json() == {}, "openapi.json POST /story/{story_id}/concat example: {}"
    assert composed["status"] == "success"
    assert [entry["credits"] for entry in sandbox_client.ledger() if entry["created"]] == [1, 2, 2, 8, 1]


def test_story_routes_accept_json_and_forms(api):
    story = api.post("/story", json={"idea": "suited man walking on the street", "scene_count": 2}).json()["data"]
    storyboard = story["storyboard"]

    elements = api.post(f"/story/{story['id']}/elements", json={"storyboard": storyboard})
    videos = api.post(f"/story/{story['id']}/videos", json={"title": "JSON", "storyboard": storyboard})

    assert len(storyboard["scenes"]) == 2
    assert elements.status_code == 200
    assert videos.status_code == 200 and len(videos.json()["data"]["medias"]) == 2


def test_story_variant_settings(api, sandbox_client):
    sandbox_client.configure(story_wrapping="twice", group_is_transition="boolean", story_step_status="processing")
    story = api.post("/story", data={"idea": "x", "scene_count": "1"}).json()["data"]

    scenes = api.post(f"/story/{story['id']}/scenes").json()
    videos = api.post(f"/story/{story['id']}/videos").json()
    got = api.get(f"/story/{story['id']}").json()

    assert scenes["data"]["status"] == "processing", "openapi.json /scenes example"
    assert videos["data"]["data"]["id"] == got["data"]["data"]["id"] == story["id"], "legacy: wrapped twice"
    assert got["data"]["data"]["is_transition"] is False


"""


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

    assert list(done) == ASSET_KEYS
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
    assert done["results"] == []


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


def test_asset_get_wrapping_setting(api, sandbox_client):
    asset = api.post("/v2/video/crop-to-aspect-ratio", json={"video_url": "https://e.com/v.mp4"}).json()
    sandbox_client.configure(asset_get_wrapping="once")

    wrapped = api.get(f"/asset/{asset['id']}").json()

    assert list(wrapped) == ["data"] and wrapped["data"]["id"] == asset["id"]
    with pytest.raises(requests.HTTPError):
        sandbox_client.configure(asset_get_wrapping="twice")
