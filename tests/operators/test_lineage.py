"""
What the operators report to OpenLineage: inputs sent, outputs made, the ``vimmerse_job`` run facet.

OpenLineage is installed in the Airflow 3.3 venv only (the ``lineage`` extra), so the 2.11 venv checks
for real that nothing changes without it. The run below is a real ``airflow dags test`` in its own
process, with OpenLineage's file transport configured before Airflow loads its plugins, as a
deployment would; ``tests/native/test_lineage.py`` reads the events of a full deployment.
"""

from __future__ import annotations

import importlib.util
import json
from typing import Any

import pytest

from airflow_provider_vimmerse.operators.download import VimmerseDownloadOperator
from airflow_provider_vimmerse.operators.lineage import dataset_name, job_facet, sent_inputs
from airflow_provider_vimmerse.operators.media import VimmerseCreateMediaOperator
from airflow_provider_vimmerse.operators.outlets import Made
from airflow_provider_vimmerse.operators.video import VimmerseVideoOperator
from airflow_provider_vimmerse.sandbox.pytest_plugin import CONN_ENV_VAR, sandbox_conn_uri
from tests.conftest import airflow_env, run_airflow
from tests.operators.conftest import sample_images

OPENLINEAGE = importlib.util.find_spec("airflow.providers.openlineage") is not None
NEEDS_OPENLINEAGE = pytest.mark.skipif(
    not OPENLINEAGE, reason="OpenLineage is installed in the Airflow 3.3 venv only (the package's lineage extra)"
)
DAG_ID = "vimmerse_lineage_probe"


# ---------------------------------------------------------------------- naming and gathering, no OpenLineage needed


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("https://cdn.vimmerse.net/v/clip.mp4?X-Amz-Signature=abc", ("https://cdn.vimmerse.net", "/v/clip.mp4")),
        ("http://127.0.0.1:8080/media/m1/download", ("http://127.0.0.1:8080", "/media/m1/download")),
        # user info (a password) never reaches a lineage backend
        ("https://user:s3cret@cdn.example.com/a.png", ("https://cdn.example.com", "/a.png")),
        ("https://user:p%40ss@cdn.example.com:8443/a.png", ("https://cdn.example.com:8443", "/a.png")),
        ("s3://key:secret@bucket/a.png", ("s3://bucket", "a.png")),
        ("file:///data/videos/clip.mp4", ("file", "/data/videos/clip.mp4")),
        ("/data/videos/clip.mp4", ("file", "/data/videos/clip.mp4")),
        ("s3://bucket/videos/clip.mp4", ("s3://bucket", "videos/clip.mp4")),
        ("gs://bucket/clip.mp4", ("gs://bucket", "clip.mp4")),
        ("{{ params.image }}", None),
        ("", None),
    ],
)
def test_datasets_are_named_as_the_openlineage_naming_spec_says(location, expected):
    """The query is dropped (it may carry a signature); object storage buckets are namespaces."""
    assert dataset_name(location) == expected


def test_a_relative_path_is_named_by_its_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert dataset_name("output/clip.mp4") == ("file", str(tmp_path / "output" / "clip.mp4"))


def test_inputs_are_the_urls_and_files_the_operator_sends(tmp_path):
    [image] = sample_images(tmp_path, "boat.png")
    files = VimmerseCreateMediaOperator(task_id="files", prompt="a boat", image_files=[str(image)])
    urls = VimmerseCreateMediaOperator(
        task_id="urls",
        prompt="a boat",
        image_urls=["https://cdn.example/a.png"],
        media_items=[{"type": "image", "url": "https://cdn.example/b.png", "position": "First"}],
        webhook_url="https://hooks.example/done",
    )
    assert sent_inputs(files, ()) == [str(image)]
    assert sent_inputs(urls, ()) == ["https://cdn.example/a.png", "https://cdn.example/b.png"], "not the webhook"
    tool = VimmerseVideoOperator(
        task_id="tool", tool="enhance", video_url={"kind": "media", "id": "m1", "video_urls": ["https://x/m1.mp4"]}
    )
    assert sent_inputs(tool, ()) == ["https://x/m1.mp4"], "a previous task's result is sent as its output URL"


def test_a_download_s_inputs_are_the_urls_it_fetched_and_its_outputs_the_final_paths():
    download = VimmerseDownloadOperator(task_id="download", destination="/videos", kind="media", job_id="m1")
    made = (Made({"kind": "media", "id": "m1", "video_urls": ["https://x/m1.mp4"]}, ("/videos/m1.mp4",)),)
    assert sent_inputs(download, made) == ["https://x/m1.mp4"]
    assert job_facet(made) == {"kind": "media", "id": "m1", "status": None, "used_credits": None, "web_url": None}


@pytest.mark.skipif(OPENLINEAGE, reason="checks the venv without OpenLineage (Airflow 2.11)")
def test_without_openlineage_the_methods_report_nothing_and_change_nothing():
    operator = VimmerseDownloadOperator(task_id="download", destination="/videos", kind="media", job_id="m1")
    operator.record({}, Made({"kind": "media", "id": "m1", "video_urls": ["https://x/m1.mp4"]}, ("/videos/m1.mp4",)))
    assert operator.get_openlineage_facets_on_start() is None
    assert operator.get_openlineage_facets_on_complete(None) is None
    assert operator.get_openlineage_facets_on_failure(None) is None


# ---------------------------------------------------------------------- a real run, events from OpenLineage's listener

PROBE_DAG = """
from __future__ import annotations

import pendulum
from airflow.providers.common.compat.sdk import ObjectStoragePath

from airflow_provider_vimmerse.operators.download import VimmerseDownloadOperator
from airflow_provider_vimmerse.operators.media import VimmerseCreateMediaOperator
from airflow_provider_vimmerse.operators.video import VimmerseVideoOperator
from airflow_provider_vimmerse.sandbox.pytest_plugin import CONN_ENV_VAR, sandbox_conn_uri

try:
    from airflow.sdk import DAG
except ImportError:
    from airflow import DAG


class HookLineageOnly(VimmerseDownloadOperator):
    \"\"\"The control: a download that reports nothing itself, so OpenLineage falls back to hook lineage.\"\"\"

    def get_openlineage_facets_on_complete(self, task_instance):
        return None


with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
         default_args={{"deferrable": True, "poll_interval": 0.2}}):
    create = VimmerseCreateMediaOperator(task_id="create", prompt="a paper boat", image_files=["{image}"])
    enhance = VimmerseVideoOperator(task_id="enhance", tool="enhance", video_url=create.output)
    VimmerseDownloadOperator(task_id="download", job=create.output, destination=ObjectStoragePath("{out}"))
    HookLineageOnly(task_id="control", job=create.output, destination=ObjectStoragePath("{control}"))
"""


@pytest.fixture(scope="module")
def probe(vimmerse_sandbox_server, airflow_db, tmp_path_factory) -> dict[str, Any]:
    """Run the probe DAG once with OpenLineage's file transport; return its COMPLETE events by task and all text."""
    if not OPENLINEAGE:
        pytest.skip("OpenLineage is installed in the Airflow 3.3 venv only (the package's lineage extra)")
    server = vimmerse_sandbox_server
    server.state.reset()
    tmp = tmp_path_factory.mktemp("lineage")
    dags, events = tmp / "dags", tmp / "events"
    dags.mkdir()
    events.mkdir()
    [image] = sample_images(tmp, "boat.png")
    source = PROBE_DAG.format(dag_id=DAG_ID, image=image, out=f"file://{tmp}/out", control=f"file://{tmp}/control")
    (dags / f"{DAG_ID}.py").write_text(source)
    key = server.state.settings.api_keys[0]
    env = airflow_env(
        **{CONN_ENV_VAR: sandbox_conn_uri(server.url, key)},
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__OPENLINEAGE__TRANSPORT=json.dumps({"type": "file", "log_file_path": str(events / "event")}),
        AIRFLOW__OPENLINEAGE__NAMESPACE="vimmerse-test",
    )
    result = run_airflow("dags", "test", DAG_ID, env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    texts = [path.read_text() for path in sorted(events.glob("*.json"))]
    complete: dict[str, dict[str, Any]] = {}
    start: dict[str, list[dict[str, Any]]] = {}
    for text in texts:
        event = json.loads(text)
        if not event["job"]["name"].startswith(f"{DAG_ID}."):
            continue
        task_id = event["job"]["name"].removeprefix(f"{DAG_ID}.")
        if event["eventType"] == "COMPLETE":
            complete[task_id] = event
        elif event["eventType"] == "START":
            start.setdefault(task_id, []).append(event)
    return {
        "complete": complete,
        "start": start,
        "texts": texts,
        "output": output,
        "tmp": tmp,
        "image": image,
        "key": key,
    }


def datasets(event: dict[str, Any], side: str) -> list[tuple[str, str]]:
    return [(item["namespace"], item["name"]) for item in event[side]]


@NEEDS_OPENLINEAGE
def test_a_generation_reports_the_file_it_sent_the_video_it_made_and_its_job(probe):
    create = probe["complete"]["create"]
    assert datasets(create, "inputs") == [("file", str(probe["image"]))]
    [(namespace, name)] = datasets(create, "outputs")
    assert namespace.startswith("http://127.0.0.1:") and "/media/" in name
    job = create["run"]["facets"]["vimmerse_job"]
    assert (job["kind"], job["status"]) == ("media", "success") and job["id"] in name
    assert "used_credits" not in job, "a media reports no credits: the facet leaves it out rather than say 0"


@NEEDS_OPENLINEAGE
def test_a_task_reports_its_inputs_as_it_starts(probe):
    """START events name what the task sends (a resumed deferral may send a second START: the same inputs)."""
    starts = probe["start"]
    assert starts["create"] and all(
        datasets(event, "inputs") == [("file", str(probe["image"]))] for event in starts["create"]
    )
    create_outputs = datasets(probe["complete"]["create"], "outputs")
    assert all(datasets(event, "inputs") == create_outputs for event in starts["enhance"]), "the rendered XCom input"
    generations = [*starts["create"], *starts["enhance"]]
    assert all(not datasets(event, "outputs") for event in generations), "nothing made yet"


@NEEDS_OPENLINEAGE
def test_a_tool_reports_the_previous_task_s_video_as_its_input(probe):
    create, enhance = probe["complete"]["create"], probe["complete"]["enhance"]
    assert datasets(enhance, "inputs") == datasets(create, "outputs")
    assert enhance["run"]["facets"]["vimmerse_job"]["kind"] == "asset" and datasets(enhance, "outputs")


@NEEDS_OPENLINEAGE
def test_a_download_to_object_storage_reports_the_final_file_not_the_part_file(probe):
    download = probe["complete"]["download"]
    [(namespace, name)] = datasets(download, "outputs")
    written = list((probe["tmp"] / "out").glob("*.mp4"))
    assert (namespace, name) == ("file", str(written[0])), "the file the task wrote, under its final name"
    assert datasets(download, "inputs") == datasets(probe["complete"]["create"], "outputs")
    assert download["run"]["facets"]["vimmerse_job"]["id"] in name
    assert ".part" not in json.dumps(download)


@NEEDS_OPENLINEAGE
def test_the_control_shows_hook_lineage_alone_would_report_the_part_file(probe):
    """Without the operator's own lineage, OpenLineage reads hook lineage: the temporary ``.part`` file."""
    control = probe["complete"]["control"]
    assert any(name.endswith(".mp4.part") for _, name in datasets(control, "outputs")), control["outputs"]


@NEEDS_OPENLINEAGE
def test_no_event_carries_the_api_key(probe):
    key = probe["key"]
    assert len(probe["texts"]) >= 8, "START and COMPLETE of each task at least"
    assert not [text for text in probe["texts"] if key in text]
    assert key not in probe["output"]
