"""From what Airflow stores for a task to the row the Vimmerse page shows (pure: no database, no server)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from airflow_provider_vimmerse.api.config import DEFAULT_WEB_URL
from airflow_provider_vimmerse.api.jobs import JOB_KINDS
from airflow_provider_vimmerse.api.urls import job_path, origin
from airflow_provider_vimmerse.plugins.jobs import (
    OutputSource,
    build_row,
    http_url,
    output_source,
    parse_job_url,
    task_path,
)

WEB = "https://app.example.test"
STARTED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def row_of(result=None, *, job_url=f"{WEB}/media/m-1", task_state="success", map_index=-1, **kwargs):
    args = {
        "dag_id": "films",
        "task_id": "make",
        "run_id": "manual__2026-01-02T03:04:05+00:00",
        "map_index": map_index,
        "job_url": job_url,
        "result": result,
        "task_state": task_state,
        "started_at": STARTED,
        **kwargs,
    }
    return build_row(**args)


def media_result(**overrides):
    return {
        "kind": "media",
        "id": "m-1",
        "status": "success",
        "progress": 100,
        "video_urls": ["https://cdn.example.test/m-1/a.mp4", "https://cdn.example.test/m-1/b.mp4"],
        "web_url": f"{WEB}/media/m-1",
        "title": "A paper boat",
        **overrides,
    }


def test_a_finished_job_is_described_by_its_result():
    row = row_of(media_result(used_credits=12))
    assert row["kind"] == "media" and row["job_id"] == "m-1"
    assert row["status"] == "success" and row["task_state"] == "success"
    assert row["progress"] == 100 and row["used_credits"] == 12
    assert row["video_urls"] == media_result()["video_urls"], "every output, in the API's order"
    assert row["web_url"] == f"{WEB}/media/m-1"
    assert row["title"] == "A paper boat"
    assert row["started_at"] == "2026-01-02T03:04:05+00:00"
    assert row["task_url"] == "/dags/films/runs/manual__2026-01-02T03%3A04%3A05%2B00%3A00/tasks/make"


@pytest.mark.parametrize("state", ["deferred", "running", "failed", "up_for_retry"])
def test_without_a_result_the_task_state_is_the_status_and_the_url_names_the_job(state):
    row = row_of(None, job_url=f"{WEB}/batch/b-7", task_state=state)
    assert (row["kind"], row["job_id"], row["status"], row["task_state"]) == ("batch", "b-7", state, state)
    assert row["progress"] is None and row["used_credits"] is None and row["video_urls"] == []
    assert row["web_url"] == f"{WEB}/batch/b-7", "the job's page is known before it finishes"


def test_a_task_without_a_state_is_unknown():
    assert row_of(None, task_state=None)["status"] == "unknown"


WITH_PAGE = sorted(name for name, kind in JOB_KINDS.items() if kind.web_path)


def test_kinds_without_a_documented_page_have_no_web_path():
    # No document names a web-app page for a workflow or a finetune: the hook builds no link for them.
    assert set(JOB_KINDS) - set(WITH_PAGE) == {"workflow", "finetune"}


@pytest.mark.parametrize("kind", WITH_PAGE)
@pytest.mark.parametrize("job_id", ["abc123", "a b/c?d#e", "Ünïcode"])
def test_the_kind_and_id_come_back_from_any_job_url_the_hook_builds(kind, job_id):
    # The same construction as VimmerseHook.web_url: web app base + the kind's web path with the id quoted.
    # Kinds that share a page (a story's steps are waited on as the story) read as the first kind with it.
    owner = next(name for name, other in JOB_KINDS.items() if other.web_path == JOB_KINDS[kind].web_path)
    for base in (DEFAULT_WEB_URL, "http://127.0.0.1:8123/app"):
        url = base + job_path(JOB_KINDS[kind].web_path, job_id)
        assert parse_job_url(url) == (owner, job_id)


@pytest.mark.parametrize("url", [None, 42, "", "https://app.test/", "https://app.test/video/x", "not a url"])
def test_a_value_that_is_not_a_job_url_names_no_job(url):
    assert parse_job_url(url) == ("", "")


def test_a_mapped_task_links_to_its_own_instance():
    assert row_of(map_index=3)["task_url"].endswith("/tasks/make/mapped/3")
    assert row_of(map_index=-1)["task_url"].endswith("/tasks/make")


def test_ids_stay_one_path_segment_each_and_the_base_path_leads():
    path = task_path("d/../x", "r?y#z", "t t", 0)
    assert path == "/dags/d%2F..%2Fx/runs/r%3Fy%23z/tasks/t%20t/mapped/0"
    assert row_of(base_path="/airflow/")["task_url"].startswith("/airflow/dags/films/")


@pytest.mark.parametrize(
    "bad",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:video/mp4;base64,AAAA",
        "//cdn.example.test/a.mp4",
        "/local/a.mp4",
        "https://cdn.example.test/a.mp4\njavascript:alert(1)",
        "https://cdn.example.test/a b.mp4",
        "ftp://cdn.example.test/a.mp4",
        "https://",
        12,
        None,
    ],
)
def test_only_http_urls_reach_a_row(bad):
    row = row_of(media_result(video_urls=[bad, "https://cdn.example.test/ok.mp4"], web_url=bad), job_url=bad)
    assert row["video_urls"] == ["https://cdn.example.test/ok.mp4"]
    assert row["web_url"] is None
    assert http_url(bad) is None


def test_the_web_url_falls_back_to_the_stored_job_url():
    row = row_of(media_result(web_url=""), job_url="http://127.0.0.1:9/app/media/m-1")
    assert row["web_url"] == "http://127.0.0.1:9/app/media/m-1"


def test_a_group_without_a_composed_video_shows_its_medias_videos():
    result = {
        "kind": "batch",
        "id": "b-1",
        "status": "success",
        "progress": 100,
        "video_urls": [],
        "web_url": f"{WEB}/batch/b-1",
        "medias": [
            {"id": "m-1", "status": "success", "video_urls": ["https://cdn.test/1.mp4"]},
            {"id": "m-2", "status": "fail"},
            {"id": "m-3", "status": "success", "video_urls": ["https://cdn.test/3.mp4", "https://cdn.test/1.mp4"]},
        ],
    }
    assert row_of(result)["video_urls"] == ["https://cdn.test/1.mp4", "https://cdn.test/3.mp4"]
    composed = {**result, "video_urls": ["https://cdn.test/all.mp4"]}
    assert row_of(composed)["video_urls"] == ["https://cdn.test/all.mp4"], "the composed video when there is one"


@pytest.mark.parametrize("value", [True, "12", [1]])
def test_numbers_that_are_not_numbers_are_not_shown(value):
    row = row_of(media_result(progress=value, used_credits=value))
    assert row["progress"] is None and row["used_credits"] is None


def test_a_return_value_that_is_not_a_result_counts_as_no_result():
    # A custom XCom backend may keep only a reference string in the database.
    row = row_of("s3://bucket/xcom/abc.json", task_state="success")
    assert (row["kind"], row["job_id"], row["status"], row["video_urls"]) == ("media", "m-1", "success", [])


API = "https://api.example.test"
DOWNLOAD = f"{API}/media/m-1/download?object_type=bullet_video_mp4"
PUBLIC = "https://cdn.example.test/m-1/a.mp4"
PROXY_PATH = "/airflow/vimmerse/api/jobs/films/manual__2026-01-02T03%3A04%3A05%2B00%3A00/make/-1/outputs/0"


def test_an_api_output_plays_through_the_proxy_when_the_page_knows_the_tasks_connection():
    api = origin(API)  # port 443 filled in: the same origin as the download URL
    result = media_result(video_urls=[DOWNLOAD, PUBLIC], conn_id="vimmerse_a")
    row = row_of(result, app_path="/airflow/vimmerse/", api_origin=api)
    assert row["video_urls"] == [DOWNLOAD, PUBLIC], "the URLs the task returned"
    assert row["play_urls"] == [PROXY_PATH, PUBLIC]
    mapped = row_of(media_result(video_urls=[DOWNLOAD], conn_id="vimmerse_a"), map_index=3, api_origin=api)
    assert mapped["play_urls"] == ["/api/jobs/films/manual__2026-01-02T03%3A04%3A05%2B00%3A00/make/3/outputs/0"]
    # The page does not know the connection (not configured here, or only in a remote secrets backend).
    assert row_of(result, api_origin=None)["play_urls"] == [DOWNLOAD, PUBLIC]


def test_an_output_on_the_api_origin_that_the_proxy_does_not_serve_is_not_played():
    api = origin(API)
    json_route = f"{API}/media/m-1"
    row = row_of(media_result(video_urls=[json_route, PUBLIC], conn_id="vimmerse_a"), api_origin=api)
    assert row["play_urls"] == ["", PUBLIC], "the browser would need the key: no element at all"
    older = row_of(media_result(video_urls=[DOWNLOAD]), api_origin=api)  # a result that names no connection
    assert older["play_urls"] == [""]
    other_port = row_of(media_result(video_urls=[json_route], conn_id="vimmerse_a"), api_origin=origin(f"{API}:8443"))
    assert other_port["play_urls"] == [json_route], "another port is another origin: played from its URL"


def source_of(url, **overrides):
    return output_source(media_result(**{"video_urls": [url], "conn_id": "vimmerse_a", **overrides}), 0)


def test_the_proxy_rebuilds_a_download_route_on_the_tasks_connection_whatever_host_the_url_names():
    for url in (
        DOWNLOAD,
        "http://127.0.0.1:9\\@api.example.test/media/m-1/download?object_type=bullet_video_mp4",
        "https://attacker.test:8443/media/m-1/download?object_type=bullet_video_mp4",
    ):
        source = source_of(url)
        assert source == OutputSource("vimmerse_a", "media", "m-1", {"object_type": "bullet_video_mp4"}), url
        assert (
            source.url("https://eu.api.test/v1")
            == "https://eu.api.test/v1/media/m-1/download?object_type=bullet_video_mp4"
        )
    bare = source_of(f"{API}/media/m-1/download")
    assert bare is not None and bare.query == {}
    assert bare.url(API) == DOWNLOAD, "no settings: the route as the operators give it"


def test_only_the_documented_download_settings_are_kept_and_checked_again():
    url = f"{DOWNLOAD}&motion_type=Auto&width=1080&file_size=4.5&api_key=stolen&next=http://evil.test/"
    source = source_of(url)
    assert source is not None
    assert source.query == {
        "object_type": "bullet_video_mp4",
        "motion_type": "Auto",
        "width": "1080",
        "file_size": "4.5",
    }
    fetched = source.url(API)
    assert "api_key" not in fetched and "evil" not in fetched
    for bad in ("object_type=source_files", "width=-1", "width=1.5", "width=10&width=20", "file_size=big", "width="):
        assert source_of(f"{API}/media/m-1/download?{bad}") is None, bad


@pytest.mark.parametrize(
    "url",
    [
        f"{API}/media/m-2/download?object_type=bullet_video_mp4",  # another job's output
        f"{API}/media/m-1",  # the media's JSON, read with the key
        f"{API}/v1/media/m-1/download",
        f"{API}/media/m-1/download/../../customer-statistics/2026-01-01/2026-01-02",
        f"{API}/media/m-1%2Fx/download",
        PUBLIC,
    ],
)
def test_a_url_that_is_not_the_jobs_download_route_is_not_proxied(url):
    assert source_of(url) is None


def test_a_result_that_names_no_connection_or_an_output_of_no_download_route_is_not_proxied():
    assert output_source(media_result(video_urls=[DOWNLOAD]), 0) is None, "results written before conn_id"
    assert source_of(DOWNLOAD, conn_id="") is None
    assert output_source(media_result(video_urls=[DOWNLOAD], conn_id="vimmerse_a"), 1) is None, "no such output"
    asset = {**media_result(video_urls=[f"{API}/asset/a-1/download"], conn_id="vimmerse_a"), "kind": "asset"}
    assert output_source(asset, 0) is None, "an asset has no download route"


def test_a_groups_media_outputs_are_fetched_as_the_media_they_belong_to():
    member = f"{API}/media/m-7/download?object_type=bullet_video_mp4"
    stolen = f"{API}/media/m-1/download?object_type=bullet_video_mp4"  # listed under m-8, names m-1
    batch = {
        "kind": "batch",
        "id": "b-1",
        "status": "success",
        "video_urls": [],
        "conn_id": "vimmerse_a",
        "medias": [
            {"id": "m-7", "status": "success", "video_urls": [member]},
            {"id": "m-8", "status": "success", "video_urls": [stolen]},
        ],
    }
    assert output_source(batch, 0) == OutputSource("vimmerse_a", "media", "m-7", {"object_type": "bullet_video_mp4"})
    assert output_source(batch, 1) is None
    composed = {**batch, "video_urls": [f"{API}/batch/b-1/download"]}
    assert output_source(composed, 0) is None, "a batch has no download route"
