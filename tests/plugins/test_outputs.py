"""
The page's output proxy in a real Airflow 3 api-server app: videos only the Vimmerse API serves, played without its key.

A DAG runs once for the module with ``dag.test()`` against the sandbox API: a media job (``made``), a
mapped one (``mapped``), a task (``download_route``) whose result gives ``made``'s video as the API
documents a finished media's output, the download route ``{api}/media/{id}/download?...`` that needs
the ``X-Api-Key`` header, followed by a public URL on another origin and one of the API's JSON routes,
and a mapped task (``written``) that stores nothing: tests write its XComs through Airflow's REST API, as
anyone who may write XComs can. Every result names ``vimmerse_default``, the connection its task used.
Then Airflow's own app is called with FastAPI's ``TestClient``, with connections in environment variables
as in a deployment: the page's ``<video>`` elements point at the proxy for the API's outputs and at the
URL for the others, the proxy streams the MP4 only to users who may read the DAG, fetched from the API of
the task's own connection only, and the key is nowhere.

The sandbox's ledger (one entry per API request: path, query, whether the key was accepted) shows what
the proxy fetched; :mod:`tests.listeners` stands in for an API that never answers or answers
wrongly, and for an attacker's listener that must receive nothing.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import pytest

from airflow_provider_vimmerse.links.vimmerse import XCOM_KEY
from airflow_provider_vimmerse.plugins.jobs import output_route
from airflow_provider_vimmerse.sandbox.pytest_plugin import sandbox_conn_uri
from airflow_provider_vimmerse.sandbox.views import SAMPLE_MP4
from tests.cluster import airflow_major, wait_until
from tests.dag_runs import RETURN_VALUE, python_task, run_dag
from tests.listeners import Answer, FakeApi, SilentListener
from tests.plugins.conftest import dag_on_the_sandbox, database_connections_in_use
from tests.plugins.html_rows import read_page
from tests.plugins.test_app import RESTRICTED_AUTH_MANAGER, airflow_api, token_for

pytestmark = pytest.mark.skipif(
    airflow_major() < 3, reason="the page needs Airflow 3's api-server (plugin FastAPI apps and external views)"
)

DAG_ID = "vimmerse_plugin_outputs"
#: A legacy result's output: a public URL on another origin than the API's, played as it is.
PUBLIC_URL = "https://cdn.example.test/legacy/boat.mp4"
WRONG_KEY = "wrong-key-8d2e41"
FAKE_KEY = "fake-api-key-51c7e0"
ALL = {"limit": 500}
MP4 = SAMPLE_MP4.read_bytes()
#: Map indexes of ``written``: one per result a test writes.
WRITTEN_SLOTS = 24
_next_slot = itertools.count()


def give_the_download_route(ti) -> dict:
    """Return ``made``'s result with its video as the API's download route gives it (and two other URLs)."""
    from airflow_provider_vimmerse.api.jobs import JOB_KINDS
    from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook

    made = ti.xcom_pull(task_ids="made")
    download = JOB_KINDS["media"].download_path.format(job_id=quote(made["id"], safe=""))
    ti.xcom_push(key=XCOM_KEY, value=made["web_url"])
    api = VimmerseHook().config.base_url
    # Last, an API route that answers JSON, not a media file: the proxy must not fetch that.
    return {**made, "video_urls": [api + download, PUBLIC_URL, api + f"/media/{quote(made['id'], safe='')}"]}


def store_nothing(slot: int) -> None:
    """Store nothing: the tests write this task's XComs."""


@pytest.fixture(scope="module")
def run(airflow_db, vimmerse_sandbox_server, tmp_path_factory):
    """Run the DAG once; return its results and the sandbox (URL, key and server)."""
    from airflow.providers.standard.operators.python import PythonOperator

    from airflow_provider_vimmerse.operators.media import VimmerseCreateMediaOperator

    with dag_on_the_sandbox(vimmerse_sandbox_server, tmp_path_factory, DAG_ID) as (dag, out):
        with dag:
            made = VimmerseCreateMediaOperator(task_id="made", prompt="a paper boat at sunrise", deferrable=False)
            made >> python_task("download_route", give_the_download_route)
            VimmerseCreateMediaOperator.partial(task_id="mapped", deferrable=True).expand(prompt=["a fox", "an owl"])
            PythonOperator.partial(task_id="written", python_callable=store_nothing, do_xcom_push=False).expand(
                op_args=[[slot] for slot in range(WRITTEN_SLOTS)]
            )
        result = run_dag(dag, out, ["made", "download_route", "mapped"], keys=[RETURN_VALUE, XCOM_KEY])
    assert {key: state for key, state in result.states.items() if not key.startswith("written")} == {
        "made": "success",
        "download_route": "success",
        "mapped[0]": "success",
        "mapped[1]": "success",
    }
    server = vimmerse_sandbox_server
    assert result.xcom("made")["conn_id"] == "vimmerse_default", "the result names the connection its task used"
    return {"run": result, "url": server.url, "key": server.state.settings.api_keys[0], "server": server}


@contextmanager
def deployment(monkeypatch, run, *, all_admins: bool = True, keys: dict[str, str] | None = None) -> Iterator[tuple]:
    """
    Yield a client of Airflow's app (and its auth manager) with ``vimmerse`` connections in environment variables.

    :param keys: connection id -> API key of a connection to the sandbox; by default ``vimmerse_default``
        with the sandbox's key
    """
    for conn_id, key in (keys if keys is not None else {"vimmerse_default": run["key"]}).items():
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", sandbox_conn_uri(run["url"], key))
    # What `airflow api-server` sets (airflow.api_fastapi.main): connections are read from the database too.
    monkeypatch.setenv("_AIRFLOW_PROCESS_CONTEXT", "server")
    auth_manager = None if all_admins else RESTRICTED_AUTH_MANAGER
    with airflow_api(monkeypatch, all_admins=all_admins, auth_manager=auth_manager) as (client, auth):
        yield client, auth


def route(task_id: str, index: int, run, map_index: int = -1) -> str:
    """Return the proxy's path for one output of a task of the module's run."""
    return output_route(DAG_ID, run["run"].run.run_id, task_id, map_index, index, app_path="/vimmerse")


def write_result(client, run, result: dict[str, Any]) -> int:
    """
    Store a result (and a job URL) as one map index of ``written`` through Airflow's REST API; return the index.

    What anyone who may write XComs can do: the proxy must not trust it.
    """
    slot = next(_next_slot)
    assert slot < WRITTEN_SLOTS, "more results written than the DAG has slots"
    path = f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(run['run'].run.run_id, safe='')}/taskInstances/written/xcomEntries"
    for key, value in ((XCOM_KEY, f"{run['url']}/app/media/{result['id']}"), (RETURN_VALUE, result)):
        answer = client.post(path, json={"key": key, "value": value, "map_index": slot})
        assert answer.status_code == 201, answer.text
    return slot


def made_result(run, urls: list[str], **fields: Any) -> dict[str, Any]:
    """Return ``made``'s result with other outputs (and other fields: ``conn_id``...)."""
    return {**run["run"].xcom("made"), "video_urls": urls, **fields}


def download_path(run) -> str:
    """Return the path of ``made``'s download route on the API."""
    return f"/media/{quote(run['run'].xcom('made')['id'], safe='')}/download"


def ledger_since(run, mark: int) -> list[dict[str, Any]]:
    """Return the sandbox's ledger entries after the first ``mark`` ones."""
    return list(run["server"].state.ledger)[mark:]


def ledger_mark(run) -> int:
    return len(run["server"].state.ledger)


def rows_by_task(html: str) -> dict:
    """Return the page's rows of the module's DAG by ``task_id`` (``task_id[i]`` when mapped)."""
    rows = {}
    for row in read_page(html).rows:
        if row.values["dag-id"] == DAG_ID:
            map_index = int(row.attrs["data-map-index"])
            rows[row.values["task-id"] + (f"[{map_index}]" if map_index >= 0 else "")] = row
    return rows


def assert_no_key(key: str, *answers) -> None:
    """Check that no answer carries the API key, in its body or its headers."""
    for answer in answers:
        assert key.encode() not in answer.content, "the key is in a response body"
        assert key not in json.dumps(dict(answer.headers)), "the key is in a response header"


# ---------------------------------------------------------------------- the page


def test_the_page_plays_the_api_outputs_through_the_proxy_and_the_others_from_their_url(monkeypatch, run):
    with deployment(monkeypatch, run) as (client, _):
        page = client.get("/vimmerse/", params=ALL)
        listed = client.get("/vimmerse/api/jobs", params=ALL)
    assert page.status_code == 200, page.text
    rows = rows_by_task(page.text)
    download_url = run["run"].xcom("download_route")["video_urls"][0]
    assert download_url.startswith(run["url"] + "/media/") and "/download?" in download_url
    # The API's JSON route is on the API's origin but no download route: not played at all (it needs the key).
    assert [video["src"] for video in rows["download_route"].videos] == [route("download_route", 0, run), PUBLIC_URL]
    assert [video["src"] for video in rows["made"].videos] == [route("made", 0, run)]
    for index in (0, 1):
        assert [video["src"] for video in rows[f"mapped[{index}]"].videos] == [route("mapped", 0, run, index)]
    (job,) = [job for job in listed.json()["jobs"] if (job["dag_id"], job["task_id"]) == (DAG_ID, "download_route")]
    assert job["video_urls"][:2] == [download_url, PUBLIC_URL], "the JSON keeps the URLs the task returned"
    assert job["play_urls"] == [route("download_route", 0, run), PUBLIC_URL, ""]
    assert_no_key(run["key"], page, listed)


def test_without_the_tasks_connection_every_output_plays_from_its_url_and_no_other_is_used(monkeypatch, run):
    # Another connection on the very same API, with a key that works: the proxy must not borrow it.
    monkeypatch.setenv("AIRFLOW_CONN_VIMMERSE_OTHER", sandbox_conn_uri(run["url"], run["key"]))
    mark = ledger_mark(run)
    with deployment(monkeypatch, run, keys={}) as (client, _):
        rows = rows_by_task(client.get("/vimmerse/", params=ALL).text)
        answer = client.get(route("download_route", 0, run))
    played = run["run"].xcom("download_route")["video_urls"]
    assert [video["src"] for video in rows["download_route"].videos] == played
    assert answer.status_code == 404 and "connection this task used is not configured" in answer.text
    assert ledger_since(run, mark) == [], "nothing was fetched"


# ---------------------------------------------------------------------- the proxy


def test_the_proxy_streams_the_mp4_of_the_download_route_without_giving_out_the_key(monkeypatch, run):
    with deployment(monkeypatch, run) as (client, _):
        answer = client.get(route("download_route", 0, run))
    assert answer.status_code == 200, answer.text
    assert answer.content == MP4, "the API's bytes, unchanged"
    assert answer.headers["content-type"] == "video/mp4"
    assert answer.headers["content-length"] == str(len(MP4))
    assert answer.headers["cache-control"] == "private, no-store"
    assert "set-cookie" not in answer.headers
    assert_no_key(run["key"], answer)


def test_a_range_is_passed_on_so_the_browser_can_seek(monkeypatch, run):
    with deployment(monkeypatch, run) as (client, _):
        part = client.get(route("download_route", 0, run), headers={"Range": "bytes=100-1099"})
        past = client.get(route("download_route", 0, run), headers={"Range": f"bytes={len(MP4) + 10}-"})
    assert part.status_code == 206, part.text
    assert part.content == MP4[100:1100]
    assert part.headers["content-range"] == f"bytes 100-1099/{len(MP4)}"
    assert part.headers["content-length"] == "1000"
    assert past.status_code == 416 and past.content == b""


def test_the_outputs_of_a_mapped_task_are_served_by_map_index(monkeypatch, run):
    with deployment(monkeypatch, run) as (client, _):
        answers = [client.get(route("mapped", 0, run, index)) for index in (0, 1)]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "video/mp4" and answer.content == MP4


@pytest.mark.parametrize(
    ("task_id", "index", "map_index"),
    [
        ("download_route", 3, -1),  # past the end
        ("made", 1, -1),
        ("mapped", 0, 2),  # no such map index
        ("mapped", 0, -1),  # a mapped task is addressed by its map index
        ("collect_xcoms", 0, -1),  # a task without a job
        ("no_such_task", 0, -1),
    ],
)
def test_an_output_that_is_not_there_is_404(monkeypatch, run, task_id, index, map_index):
    with deployment(monkeypatch, run) as (client, _):
        answer = client.get(route(task_id, index, run, map_index))
    assert answer.status_code == 404, answer.text
    assert_no_key(run["key"], answer)


def test_out_of_range_path_values_are_refused_with_422_before_any_lookup(monkeypatch, run):
    run_id = run["run"].run.run_id
    paths = [
        route("download_route", 0, run, map_index=2**31),  # past Airflow's 32-bit map index column
        route("download_route", 0, run, map_index=10**30),
        route("download_route", 0, run, map_index=-2),
        route("download_route", -1, run),
        route("download_route", 10_001, run),
        output_route("d" * 251, run_id, "download_route", -1, 0, app_path="/vimmerse"),
        output_route(DAG_ID, run_id, "t" * 251, -1, 0, app_path="/vimmerse"),
    ]
    with deployment(monkeypatch, run) as (client, _):
        answers = {path: client.get(path) for path in paths}
    assert {path: answer.status_code for path, answer in answers.items()} == dict.fromkeys(paths, 422)


def test_a_public_output_is_not_proxied(monkeypatch, run):
    with deployment(monkeypatch, run) as (client, _):
        answer = client.get(route("download_route", 1, run))
    assert answer.status_code == 404
    assert "play this output from its URL" in answer.text


def test_an_api_route_that_is_not_a_download_route_is_never_fetched(monkeypatch, run):
    mark = ledger_mark(run)
    with deployment(monkeypatch, run) as (client, _):
        answer = client.get(route("download_route", 2, run))
    assert answer.status_code == 404, answer.text
    assert run["run"].xcom("made")["id"] not in answer.text, "nothing of the API's JSON"
    assert ledger_since(run, mark) == [], "the API's JSON was not read with the key"


# ---------------------------------------------------------------------- what is fetched, with which key


def test_a_url_written_into_an_xcom_is_never_fetched_only_the_jobs_route_on_the_connections_api(monkeypatch, run):
    sandbox = run["url"].removeprefix("http://")
    with SilentListener() as listener:
        result = made_result(
            run,
            [
                # requests and yarl read the host of this URL differently (the review's attack)...
                f"http://{listener.netloc}\\@{sandbox}{download_path(run)}?object_type=bullet_video_mp4",
                # ... and this one simply names the attacker's host, with extra query parameters.
                f"http://{listener.netloc}{download_path(run)}?object_type=bullet_video_mp4&width=1080&api_key=x",
            ],
            conn_id="vimmerse_default",
        )
        with deployment(monkeypatch, run) as (client, _):
            slot = write_result(client, run, result)
            rows = rows_by_task(client.get("/vimmerse/", params=ALL).text)
            mark = ledger_mark(run)
            answers = [client.get(route("written", index, run, slot)) for index in (0, 1)]
        time.sleep(0.2)
        accepted = listener.accepted
    assert accepted == 0, "the listener named in the XCom got a connection"
    for answer in answers:
        assert answer.status_code == 200 and answer.content == MP4, answer.text
        assert_no_key(run["key"], answer)
    fetched = [(entry["path"], entry["query"], entry["authorized"]) for entry in ledger_since(run, mark)]
    assert fetched == [
        (download_path(run), "object_type=bullet_video_mp4", True),
        (download_path(run), "object_type=bullet_video_mp4&width=1080", True),  # no api_key: not a setting
    ]
    assert [video["src"] for video in rows[f"written[{slot}]"].videos] == [
        route("written", 0, run, slot),
        route("written", 1, run, slot),
    ], "the browser is sent to the proxy, not to the host the XCom names"


@pytest.mark.parametrize(
    "url_of",
    [
        lambda run: f"{run['url']}/media/another-media/download?object_type=bullet_video_mp4",
        lambda run: f"{run['url']}{download_path(run)}?object_type=source_files",
        lambda run: f"{run['url']}/customer-statistics/2026-01-01/2026-01-31",
    ],
    ids=["another-job", "undocumented-setting", "another-route"],
)
def test_an_output_the_proxy_cannot_rebuild_is_not_fetched(monkeypatch, run, url_of):
    with deployment(monkeypatch, run) as (client, _):
        slot = write_result(client, run, made_result(run, [url_of(run)], conn_id="vimmerse_default"))
        mark = ledger_mark(run)
        answer = client.get(route("written", 0, run, slot))
        rows = rows_by_task(client.get("/vimmerse/", params=ALL).text)
    assert answer.status_code == 404 and "play this output from its URL" in answer.text
    assert ledger_since(run, mark) == []
    assert rows[f"written[{slot}]"].videos == [], "on the API's origin, it is not played at all"


def test_a_result_that_names_no_connection_is_not_proxied(monkeypatch, run):
    older = made_result(run, run["run"].xcom("made")["video_urls"])
    older.pop("conn_id")
    with deployment(monkeypatch, run) as (client, _):
        slot = write_result(client, run, older)
        mark = ledger_mark(run)
        answer = client.get(route("written", 0, run, slot))
        rows = rows_by_task(client.get("/vimmerse/", params=ALL).text)
    assert answer.status_code == 404, answer.text
    assert ledger_since(run, mark) == []
    assert [video["src"] for video in rows[f"written[{slot}]"].videos] == older["video_urls"]


def test_a_refused_key_is_the_answer_no_other_connections_key_is_tried(monkeypatch, run):
    # The task used vimmerse_a, whose key the API refuses; vimmerse_default (first in the old order) and
    # vimmerse_b hold the working key, on the same API.
    keys = {"vimmerse_a": WRONG_KEY, "vimmerse_default": run["key"], "vimmerse_b": run["key"]}
    with deployment(monkeypatch, run, keys=keys) as (client, _):
        slot = write_result(client, run, made_result(run, run["run"].xcom("made")["video_urls"], conn_id="vimmerse_a"))
        mark = ledger_mark(run)
        answer = client.get(route("written", 0, run, slot))
    assert answer.status_code == 502, answer.text
    assert "HTTP 401" in answer.text
    assert WRONG_KEY not in answer.text and WRONG_KEY not in json.dumps(dict(answer.headers))
    fetched = [(entry["path"], entry["authorized"]) for entry in ledger_since(run, mark)]
    assert fetched == [(download_path(run), False)], "one request, with vimmerse_a's key only"


def test_a_connection_stored_in_airflows_database_is_used_when_the_task_names_it(monkeypatch, run):
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    conn = Connection(conn_id="vimmerse_in_db", conn_type="vimmerse", host=run["url"], password=run["key"])
    with create_session() as session:
        session.add(conn)
    try:
        with deployment(monkeypatch, run, keys={"vimmerse_default": WRONG_KEY}) as (client, _):
            urls = run["run"].xcom("made")["video_urls"]
            slot = write_result(client, run, made_result(run, urls, conn_id="vimmerse_in_db"))
            rows = rows_by_task(client.get("/vimmerse/", params=ALL).text)
            answer = client.get(route("written", 0, run, slot))
    finally:
        with create_session() as session:
            session.query(Connection).filter(Connection.conn_id == "vimmerse_in_db").delete()
    assert answer.status_code == 200 and answer.content == MP4
    assert [video["src"] for video in rows[f"written[{slot}]"].videos] == [route("written", 0, run, slot)]


def test_a_connection_of_another_type_is_not_used(monkeypatch, run):
    monkeypatch.setenv(
        "AIRFLOW_CONN_SOME_HTTP", json.dumps({"conn_type": "http", "host": run["url"], "password": run["key"]})
    )
    with deployment(monkeypatch, run) as (client, _):
        urls = run["run"].xcom("made")["video_urls"]
        slot = write_result(client, run, made_result(run, urls, conn_id="some_http"))
        mark = ledger_mark(run)
        answer = client.get(route("written", 0, run, slot))
    assert answer.status_code == 404, answer.text
    assert ledger_since(run, mark) == []


# ---------------------------------------------------------------------- what the API answers


@contextmanager
def fake_api_connection(monkeypatch, conn_id: str, answers: dict[str, Answer]) -> Iterator[FakeApi]:
    """Serve ``answers`` as an API and point the ``vimmerse`` connection ``conn_id`` at it."""
    with FakeApi(answers) as api:
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", sandbox_conn_uri(api.url, FAKE_KEY))
        yield api


def test_an_api_answer_that_is_not_a_media_file_is_not_handed_out(monkeypatch, run):
    body = json.dumps({"data": {"id": "m-json", "owner": "someone"}}).encode()
    json_answer = Answer(200, {"Content-Type": "application/json"}, body)
    with fake_api_connection(monkeypatch, "vimmerse_fake", {"/media/m-json/download": json_answer}):
        result = made_result(run, ["https://x.test/media/m-json/download"], id="m-json", conn_id="vimmerse_fake")
        with deployment(monkeypatch, run) as (client, _):
            answer = client.get(route("written", 0, run, write_result(client, run, result)))
    assert answer.status_code == 502, answer.text
    assert "did not answer a media file" in answer.text
    assert "someone" not in answer.text, "nothing of the API's JSON"


@pytest.mark.parametrize("media_type", ["image/svg+xml", "text/html"])
def test_a_document_that_could_run_script_is_not_handed_out(monkeypatch, run, media_type):
    page = Answer(200, {"Content-Type": media_type}, b"<svg onload='alert(1)'/>")
    with fake_api_connection(monkeypatch, "vimmerse_fake", {"/media/m-doc/download": page}):
        result = made_result(run, ["https://x.test/media/m-doc/download"], id="m-doc", conn_id="vimmerse_fake")
        with deployment(monkeypatch, run) as (client, _):
            answer = client.get(route("written", 0, run, write_result(client, run, result)))
    assert answer.status_code == 502 and b"onload" not in answer.content


def test_a_redirect_is_followed_and_the_key_goes_to_the_api_only(monkeypatch, run):
    with FakeApi({"/files/m-cdn.mp4": Answer(200, {"Content-Type": "video/mp4"}, MP4)}) as cdn:
        moved = Answer(302, {"Location": f"{cdn.url}/files/m-cdn.mp4"})
        with fake_api_connection(monkeypatch, "vimmerse_fake", {"/media/m-cdn/download": moved}) as api:
            result = made_result(run, ["https://x.test/media/m-cdn/download"], id="m-cdn", conn_id="vimmerse_fake")
            with deployment(monkeypatch, run) as (client, _):
                answer = client.get(route("written", 0, run, write_result(client, run, result)))
    assert answer.status_code == 200 and answer.content == MP4, answer.text
    assert [seen.headers.get("x-api-key") for seen in api.seen] == [FAKE_KEY]
    assert [seen.headers.get("x-api-key") for seen in cdn.seen] == [None], "the key stayed with the API"
    assert api.seen[0].target == "/media/m-cdn/download?object_type=bullet_video_mp4"
    assert api.seen[0].headers["accept-encoding"] == "identity"


def test_a_redirect_to_a_url_clients_read_differently_is_not_followed(monkeypatch, run):
    with SilentListener() as listener:
        moved = Answer(302, {"Location": f"http://{listener.netloc}\\@example.test/x.mp4"})
        with fake_api_connection(monkeypatch, "vimmerse_fake", {"/media/m-bad/download": moved}):
            result = made_result(run, ["https://x.test/media/m-bad/download"], id="m-bad", conn_id="vimmerse_fake")
            with deployment(monkeypatch, run) as (client, _):
                answer = client.get(route("written", 0, run, write_result(client, run, result)))
        time.sleep(0.2)
        assert listener.accepted == 0
    assert answer.status_code == 502, answer.text


# ---------------------------------------------------------------------- a silent API: bounded, capped, no starvation


@contextmanager
def silent_api(monkeypatch, run) -> Iterator[tuple[SilentListener, Any, str]]:
    """Yield a silent listener, a client of Airflow's app, and the proxy route of an output on it."""
    with SilentListener() as listener:
        monkeypatch.setenv("AIRFLOW_CONN_VIMMERSE_SILENT", sandbox_conn_uri(listener.url, FAKE_KEY))
        with deployment(monkeypatch, run) as (client, _):
            urls = [f"{listener.url}/media/m-silent/download?object_type=bullet_video_mp4"]
            slot = write_result(client, run, made_result(run, urls, id="m-silent", conn_id="vimmerse_silent"))
            yield listener, client, route("written", 0, run, slot)


def timed_get(client, path: str) -> tuple[int, float, str]:
    started = time.monotonic()
    answer = client.get(path)
    return answer.status_code, time.monotonic() - started, answer.headers.get("retry-after", "")


def test_the_headers_of_a_silent_api_are_awaited_for_a_few_seconds_only(monkeypatch, run):
    from airflow_provider_vimmerse.plugins import outputs

    monkeypatch.setattr(outputs, "HEADERS_TIMEOUT", 1.5)
    with silent_api(monkeypatch, run) as (listener, client, path):
        status, elapsed, _ = timed_get(client, path)
        answer = client.get(path)
        assert listener.accepted == 2, "each request reached the silent API once (no retry, no other connection)"
    assert status == 502 and 1.4 < elapsed < 5, (status, elapsed)
    assert "did not answer within 1.5 s" in answer.text


def test_past_the_cap_the_proxy_answers_503_at_once_and_the_rest_api_stays_responsive(monkeypatch, run):
    from airflow_provider_vimmerse.hooks.sessions import Slots
    from airflow_provider_vimmerse.plugins import outputs

    monkeypatch.setattr(outputs, "STREAMS", Slots(3))
    monkeypatch.setattr(outputs, "HEADERS_TIMEOUT", 4.0)
    with silent_api(monkeypatch, run) as (listener, client, path), ThreadPoolExecutor(3) as pool:
        hanging = [pool.submit(timed_get, client, path) for _ in range(3)]
        wait_until(lambda: listener.accepted == 3, 10, "three streams waiting on the silent API", interval=0.05)
        refused = [timed_get(client, path) for _ in range(3)]
        started = time.monotonic()
        dags = client.get("/api/v2/dags", params={"limit": 1})
        rest_seconds = time.monotonic() - started
        waited = [future.result(timeout=30) for future in hanging]
    assert [(status, retry_after) for status, _, retry_after in refused] == [(503, "5")] * 3
    assert max(seconds for _, seconds, _ in refused) < 1, refused
    assert dags.status_code == 200 and rest_seconds < 1, (dags.status_code, rest_seconds)
    assert [status for status, _, _ in waited] == [502] * 3, waited
    assert outputs.STREAMS.taken == 0, "every stream gave its slot back"


def test_many_outputs_waiting_on_a_silent_api_hold_no_worker_thread_and_no_database_session(monkeypatch, run):
    # Airflow's REST routes run in the same 40 worker threads the old proxy held, with a database session
    # each, while it waited: 45 waits starved them. Here 45 outputs wait (the cap raised past them) and
    # hold neither, so the REST API answers at once.
    from airflow_provider_vimmerse.hooks.sessions import Slots
    from airflow_provider_vimmerse.plugins import outputs

    monkeypatch.setattr(outputs, "STREAMS", Slots(100))
    monkeypatch.setattr(outputs, "HEADERS_TIMEOUT", 6.0)
    waits = 45
    with (
        silent_api(monkeypatch, run) as (listener, client, path),
        database_connections_in_use() as in_use,
        ThreadPoolExecutor(waits) as pool,
    ):
        hanging = [pool.submit(timed_get, client, path) for _ in range(waits)]
        wait_until(lambda: listener.accepted == waits, 15, f"{waits} outputs waiting on the silent API", interval=0.1)
        held = in_use()
        timings = []
        for rest_path in ("/api/v2/version", "/api/v2/dags", "/vimmerse/api/jobs"):
            started = time.monotonic()
            answer = client.get(rest_path, params={"limit": 1} if rest_path != "/api/v2/version" else None)
            timings.append((rest_path, answer.status_code, time.monotonic() - started))
        still_waiting = sum(not future.done() for future in hanging)
        waited = [future.result(timeout=60) for future in hanging]
    assert held == 0, f"{held} database connections held by outputs waiting on the API"
    assert still_waiting == waits, "the REST API answered while every output still waited"
    assert [(rest_path, status) for rest_path, status, _ in timings] == [
        ("/api/v2/version", 200),
        ("/api/v2/dags", 200),
        ("/vimmerse/api/jobs", 200),
    ]
    assert max(seconds for _, _, seconds in timings) < 1, timings
    assert {status for status, _, _ in waited} == {502}


# ---------------------------------------------------------------------- auth


def test_the_proxy_asks_the_same_permissions_as_the_page(monkeypatch, run):
    path = route("download_route", 0, run)
    with deployment(monkeypatch, run, all_admins=False) as (client, auth):
        anonymous = client.get(path)
        nobody = client.get(path, headers={"Authorization": f"Bearer {token_for(auth, 'nobody', 'VIEWER')}"})
        client.cookies.set("_token", token_for(auth, "viewer", "VIEWER"))  # the page's iframe sends the cookie
        viewer = client.get(path)
    assert anonymous.status_code == 401
    assert nobody.status_code == 403, "a user who may not read the DAG gets nothing"
    assert MP4[:64] not in anonymous.content + nobody.content
    assert viewer.status_code == 200 and viewer.content == MP4
