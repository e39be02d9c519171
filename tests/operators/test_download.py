"""
VimmerseDownloadOperator in a real Airflow, and the hook's streaming download it relies on.

The sandbox serves real MP4 outputs; a tiny local HTTP server plays the hostile or broken file
hosts the sandbox cannot (lying ``Content-Length``, path-traversing file names, compressed bodies).
"""

from __future__ import annotations

import gzip
import http.server
import json
import threading
import time
import tracemalloc
from pathlib import Path

import pytest
from airflow.providers.common.compat.sdk import ObjectStoragePath

from airflow_provider_vimmerse.api.endpoints import ApiRequest, form_fields
from airflow_provider_vimmerse.exceptions import VimmerseError
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.operators.download import VimmerseDownloadOperator
from airflow_provider_vimmerse.operators.media import VimmerseCreateMediaOperator
from tests.dag_runs import new_dag, run_dag
from tests.operators.conftest import assert_refused, logged

MiB = 1 << 20


def is_mp4(path: str | Path) -> bool:
    """Return True for an ISO media file (``ftyp`` box first), the format of the outputs."""
    with open(path, "rb") as handle:
        return handle.read(8)[4:8] == b"ftyp"


def finished_media(quantity: int = 1) -> str:
    """Create a media through the API, wait until it succeeded, return its id."""
    hook = VimmerseHook()
    req = ApiRequest("POST", "/media", form=form_fields({"prompt": "a kite", "quantity": quantity}))
    media_id = hook.request(req)["data"]["id"]
    for _ in range(100):
        if hook.get_job_snapshot("media", media_id).raw_status == "success":
            return media_id
        time.sleep(0.1)
    raise AssertionError(f"media {media_id} did not finish")


def files_under(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()}


@pytest.fixture(autouse=True)
def quick_jobs(vimmerse_sandbox):
    vimmerse_sandbox.client.configure(job_seconds=0.5)


@pytest.fixture
def media_id(quick_jobs) -> str:
    """The id of a finished one-video media, made through the API before the DAG runs."""
    return finished_media()


# ---------------------------------------------------------------------- the operator


def test_the_outputs_of_a_mapped_create_are_downloaded_as_real_videos(vimmerse_sandbox, airflow_db, tmp_path):
    out = tmp_path / "videos"
    dag = new_dag("download_outputs", tmp_path)
    with dag:
        create = VimmerseCreateMediaOperator.partial(
            task_id="create", quantity=2, deferrable=True, poll_interval=0.2
        ).expand(prompt=["a kite at dawn", "a kite at dusk"])
        VimmerseDownloadOperator(task_id="download", job=create.output, destination=f"{out}/{{{{ ds }}}}")
    result = run_dag(dag, tmp_path, ["create", "download"])

    assert result.states == {"create[0]": "success", "create[1]": "success", "download": "success"}
    paths = result.xcom("download")
    sandbox = vimmerse_sandbox
    media_ids = [value["id"] for value in result.xcom("create")]
    urls = [url for value in result.xcom("create") for url in value["video_urls"]]
    # A media's video comes only from its download route: one URL per paid variation, by motion_type
    # (platform-api-v1-legacy.txt l.213: motion_type=Auto1 after Quantity=2).
    route = f"{sandbox.url}/media/{{}}/download?object_type=bullet_video_mp4&motion_type=Auto{{}}"
    assert urls == [route.format(media_id, n) for media_id in media_ids for n in (1, 2)]
    # Each file is named as the server's Content-Disposition says: <id>-v<bullet_version>-<variation>.mp4.
    names = [f"{media_id}-v1-{n}.mp4" for media_id in media_ids for n in (1, 2)]
    assert [Path(path).name for path in paths] == names, "one file per output"
    assert all(is_mp4(path) for path in paths)
    [day] = {Path(path).parent for path in paths}
    assert day.parent == out and len(day.name) == len("2026-01-01"), "the templated folder was rendered"
    assert files_under(out) == {Path(path) for path in paths}, "no partial file left behind"


@pytest.mark.parametrize(
    ("kwargs", "field", "allowed"),
    [
        ({"object_type": "bullet_video_gif"}, "'object_type'", "'bullet_video_mp4'"),
        ({"object_type": "source"}, "'object_type'", "no documented object_type"),
        ({"width": 0}, "'width'", "a positive integer"),
        ({"width": "1080"}, "'width'", "a positive integer"),
        ({"file_size": -4}, "'file_size'", "a positive number"),
        ({"motion_type": ""}, "'motion_type'", "'Auto'"),
        ({"object_type": "bullet_video_mp4", "kind": "workflow"}, "'object_type'", "a workflow has no download route"),
        ({"object_type": "bullet_video_mp4", "kind": "story"}, "'object_type'", "for: media"),
    ],
)
def test_download_settings_are_checked_when_the_dag_is_parsed(vimmerse_sandbox, tmp_path, kwargs, field, allowed):
    download = {"task_id": "download", "kind": "media", "job_id": "m-1", "destination": str(tmp_path), **kwargs}
    assert_refused(vimmerse_sandbox, VimmerseDownloadOperator, download, field, allowed, error=VimmerseError)


def test_a_media_is_downloaded_with_the_documented_query(vimmerse_sandbox, airflow_db, tmp_path, media_id):
    out = tmp_path / "out"
    dag = new_dag("download_query", tmp_path)
    with dag:
        VimmerseDownloadOperator(
            task_id="by_id",
            kind="media",
            job_id=media_id,
            destination=str(out / "by_id"),
            object_type="bullet_video_mp4",
            motion_type="Auto",
            width=1080,
            file_size=4,
        )
        VimmerseDownloadOperator(
            task_id="by_result",
            job={"kind": "media", "id": media_id, "video_urls": []},
            destination=str(out / "by_result"),
            width=720,
        )
    result = run_dag(dag, tmp_path, ["by_id", "by_result"])

    assert result.states == {"by_id": "success", "by_result": "success"}
    assert all(is_mp4(path) for task in ("by_id", "by_result") for path in result.xcom(task))
    queries = [entry["query"] for entry in vimmerse_sandbox.client.ledger(path=f"/media/{media_id}/download")]
    assert sorted(queries) == [
        "object_type=bullet_video_mp4&motion_type=Auto&width=1080&file_size=4",  # media.txt's "custom settings"
        "object_type=bullet_video_mp4&width=720",  # object_type is the documented one when not given
    ]


def test_a_result_with_an_unusable_url_downloads_nothing_at_all(vimmerse_sandbox, airflow_db, tmp_path, media_id):
    # A result is an XCom anyone allowed to write XComs may have shaped: the second URL reads as the API to
    # urlsplit but connects elsewhere. Nothing is fetched, not even the good first URL.
    api = vimmerse_sandbox.url
    good = f"{api}/media/{media_id}/download?object_type=bullet_video_mp4"
    hostile = f"http://127.0.0.1:9\\@{api.split('://')[1]}/media/{media_id}/download"
    out = tmp_path / "out"
    dag = new_dag("download_unusable_url", tmp_path)
    with dag:
        VimmerseDownloadOperator(
            task_id="download",
            job={"kind": "media", "id": media_id, "video_urls": [good, hostile]},
            destination=str(out),
        )
    result = run_dag(dag, tmp_path, ["download"])

    assert result.states == {"download": "failed"}
    (error,) = result.errors_of("download")
    assert f"Invalid 'media {media_id} video_urls[1]'" in error and "backslash" in error
    assert vimmerse_sandbox.client.ledger(path=f"/media/{media_id}/download") == []
    assert not out.exists() or files_under(out) == set()


def test_a_variation_the_api_has_no_video_for_is_named_and_the_others_are_kept(
    vimmerse_sandbox, airflow_db, tmp_path, capsys, caplog
):
    media_id = finished_media(quantity=2)
    route = f"{vimmerse_sandbox.url}/media/{media_id}/download?object_type=bullet_video_mp4&motion_type=Auto"
    out = tmp_path / "out"
    dag = new_dag("download_missing_variation", tmp_path)
    with dag:
        VimmerseDownloadOperator(
            task_id="download",
            job={"kind": "media", "id": media_id, "video_urls": [f"{route}1", f"{route}3", f"{route}2"]},
            destination=str(out),
        )
    result = run_dag(dag, tmp_path, ["download"])

    assert result.states == {"download": "success"}
    assert [Path(path).name for path in result.xcom("download")] == [f"{media_id}-v1-1.mp4", f"{media_id}-v1-2.mp4"]
    warning = "the API has no video for motion_type 'Auto3' (HTTP 404); kept the 2 other variation(s)"
    assert warning in logged(capsys, caplog)
    statuses = [entry["status"] for entry in vimmerse_sandbox.client.ledger(path=f"/media/{media_id}/download")]
    assert statuses == [200, 404, 200], "each variation asked for once"


def test_when_no_numbered_variation_exists_the_media_s_video_is_fetched_instead(vimmerse_sandbox, airflow_db, tmp_path):
    vimmerse_sandbox.client.configure(variation_downloads="unnumbered")  # media.txt l.1480 names motion_type=Auto only
    media_id = finished_media(quantity=2)
    route = f"{vimmerse_sandbox.url}/media/{media_id}/download?object_type=bullet_video_mp4"
    dag = new_dag("download_unnumbered_variations", tmp_path)
    with dag:
        VimmerseDownloadOperator(
            task_id="download",
            job={"kind": "media", "id": media_id, "video_urls": [f"{route}&motion_type=Auto{n}" for n in (1, 2)]},
            destination=str(tmp_path / "out"),
        )
    result = run_dag(dag, tmp_path, ["download"])

    assert result.states == {"download": "success"}
    [path] = result.xcom("download")
    assert Path(path).name == f"{media_id}-v1.mp4" and is_mp4(path)


def test_outputs_can_go_to_an_object_storage_path(vimmerse_sandbox, airflow_db, tmp_path, media_id):
    store = tmp_path / "store"
    dag = new_dag("download_object_storage", tmp_path)
    with dag:
        VimmerseDownloadOperator(
            task_id="download", kind="media", job_id=media_id, destination=ObjectStoragePath(f"file://{store}")
        )
    result = run_dag(dag, tmp_path, ["download"])

    assert result.states == {"download": "success"}
    [path] = result.xcom("download")
    [written] = files_under(store)
    assert written.name == f"{media_id}-v1.mp4" and str(written) in path, "named by the Content-Disposition"
    assert is_mp4(written)


# ---------------------------------------------------------------------- the hook's download


class _FileHost(http.server.BaseHTTPRequestHandler):
    """Serve ``answers[path] = (headers, body)`` exactly as given, then close the connection."""

    answers: dict[str, tuple[dict[str, str], bytes]] = {}

    def do_GET(self) -> None:
        headers, body = self.answers[self.path]
        self.send_response(200)
        headers = {"Content-Length": str(len(body)), **headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def file_host():
    """A local file host; set ``file_host.answers`` and download from ``file_host.url + path``."""
    _FileHost.answers = {}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FileHost)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    server.answers = _FileHost.answers
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    "disposition",
    [
        'attachment; filename="../../evil.mp4"',
        "attachment; filename*=UTF-8''..%2F..%2Fevil.mp4",
        'attachment; filename="..\\\\..\\\\evil.mp4"',
        'attachment; filename="/tmp/evil.mp4"',
        'attachment; filename=".."',
    ],
)
def test_a_file_name_proposed_by_the_server_cannot_leave_the_folder(vimmerse_sandbox, file_host, tmp_path, disposition):
    file_host.answers["/video"] = ({"Content-Disposition": disposition}, b"....ftyp video bytes")
    folder = tmp_path / "inside" / "videos"
    path = Path(VimmerseHook().download(f"{file_host.url}/video", folder, fallback_name="media-1-0.mp4"))

    assert path.parent == folder
    assert path.name in ("evil.mp4", "media-1-0.mp4")
    assert files_under(tmp_path) == {path}, "nothing written anywhere else"


def test_a_download_shorter_than_its_content_length_leaves_no_file(vimmerse_sandbox, file_host, tmp_path):
    file_host.answers["/cut.mp4"] = ({"Content-Length": str(MiB)}, b"x" * 1000)
    with pytest.raises(Exception) as error:  # which one is checked below, after the files
        VimmerseHook().download(f"{file_host.url}/cut.mp4", tmp_path, fallback_name="media-1-0.mp4")
    assert files_under(tmp_path) == set(), "neither the file nor a partial file is left"
    assert isinstance(error.value, VimmerseError), f"a provider error, not {type(error.value).__name__}"
    assert "/cut.mp4" in str(error.value)


def test_a_compressed_download_is_kept_whole(vimmerse_sandbox, file_host, tmp_path):
    # Content-Length counts the gzip-encoded bytes; what lands on disk is the decoded file.
    content = json.dumps({"frames": list(range(20000))}).encode()
    file_host.answers["/meta.json"] = ({"Content-Encoding": "gzip"}, gzip.compress(content))
    path = VimmerseHook().download(f"{file_host.url}/meta.json", tmp_path, fallback_name="media-1-0.json")
    assert Path(path).read_bytes() == content


def test_a_big_download_streams_in_flat_memory(vimmerse_sandbox, tmp_path):
    size = 200_000_000
    hook = VimmerseHook()
    tracemalloc.start()
    try:
        path = hook.download(f"{vimmerse_sandbox.url}/_sandbox/files/big.bin?size={size}", tmp_path, fallback_name="x")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert Path(path).stat().st_size == size
    assert peak < 32 * MiB, f"peak Python memory {peak / MiB:.0f} MiB for a {size / MiB:.0f} MiB file"


def echoed_headers(path: str) -> dict[str, str]:
    """Return the request headers the sandbox's echo route saw, from the downloaded answer."""
    return json.loads(Path(path).read_text())["headers"]


def test_the_api_key_is_sent_only_to_the_api_origin(vimmerse_sandbox, tmp_path):
    api = vimmerse_sandbox.url  # http://127.0.0.1:<port>
    elsewhere = api.replace("127.0.0.1", "localhost")  # the same server, another origin
    hook = VimmerseHook()

    same = hook.download(f"{api}/_sandbox/echo", tmp_path / "same", fallback_name="echo.json")
    other = hook.download(f"{elsewhere}/_sandbox/echo", tmp_path / "other", fallback_name="echo.json")

    assert echoed_headers(same).get("x-api-key") == vimmerse_sandbox.api_key
    assert "x-api-key" not in echoed_headers(other)


def test_the_api_key_does_not_follow_a_redirect_to_another_origin(vimmerse_sandbox, tmp_path):
    # An API download URL that redirects to a CDN is the usual case; the CDN must not get the key.
    api = vimmerse_sandbox.url
    elsewhere = api.replace("127.0.0.1", "localhost")
    path = VimmerseHook().download(
        f"{api}/_sandbox/redirect?to={elsewhere}/_sandbox/echo", tmp_path, fallback_name="echo.json"
    )
    assert "x-api-key" not in echoed_headers(path)
