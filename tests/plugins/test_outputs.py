"""
The page's output proxy in a real Airflow 3 api-server app: videos only the Vimmerse API serves, played without its key.

A DAG runs once for the module with ``dag.test()`` against the sandbox API: a media job (``made``), a
mapped one (``mapped``), and a task (``download_route``) whose result gives ``made``'s video as the
API documents a finished media's output, the download route ``{api}/media/{id}/download?...`` that
needs the ``X-Api-Key`` header, followed by a public URL on another origin. Then Airflow's own app is
called with FastAPI's ``TestClient``, with ``vimmerse_default`` pointing at the sandbox as in a
deployment: the page's ``<video>`` elements point at the proxy for the API's outputs and at the URL
for the others, the proxy streams the MP4 only to users who may read the DAG, and the key is nowhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pytest

from airflow_provider_vimmerse.links.vimmerse import XCOM_KEY
from airflow_provider_vimmerse.plugins.jobs import output_route
from airflow_provider_vimmerse.sandbox.pytest_plugin import sandbox_conn_uri
from airflow_provider_vimmerse.sandbox.views import SAMPLE_MP4
from tests.cluster import airflow_major
from tests.dag_runs import RETURN_VALUE, python_task, run_dag
from tests.plugins.conftest import dag_on_the_sandbox
from tests.plugins.html_rows import read_page
from tests.plugins.test_app import RESTRICTED_AUTH_MANAGER, airflow_api, token_for

pytestmark = pytest.mark.skipif(
    airflow_major() < 3, reason="the page needs Airflow 3's api-server (plugin FastAPI apps and external views)"
)

DAG_ID = "vimmerse_plugin_outputs"
#: A legacy result's output: a public URL on another origin than the API's, played as it is.
PUBLIC_URL = "https://cdn.example.test/legacy/boat.mp4"
WRONG_KEY = "wrong-key-8d2e41"
ALL = {"limit": 500}
MP4 = SAMPLE_MP4.read_bytes()


def give_the_download_route(ti) -> dict:
    """Return ``made``'s result with its video as the API's download route gives it (and two other URLs)."""
    from airflow_provider_vimmerse.api.jobs import JOB_KINDS
    from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook

    made = ti.xcom_pull(task_ids="made")
    download = JOB_KINDS["media"].download_path.format(job_id=quote(made["id"], safe=""))
    ti.xcom_push(key=XCOM_KEY, value=made["web_url"])
    api = VimmerseHook().config.base_url
    # Last, an API route that answers JSON, not a media file: the proxy must not hand that out.
    return {**made, "video_urls": [api + download, PUBLIC_URL, api + f"/media/{quote(made['id'], safe='')}"]}


@pytest.fixture(scope="module")
def run(airflow_db, vimmerse_sandbox_server, tmp_path_factory):
    """Run the DAG once; return its results and the sandbox (URL and key)."""
    from airflow_provider_vimmerse.operators.media import VimmerseCreateMediaOperator

    with dag_on_the_sandbox(vimmerse_sandbox_server, tmp_path_factory, DAG_ID) as (dag, out):
        with dag:
            made = VimmerseCreateMediaOperator(task_id="made", prompt="a paper boat at sunrise", deferrable=False)
            made >> python_task("download_route", give_the_download_route)
            VimmerseCreateMediaOperator.partial(task_id="mapped", deferrable=True).expand(prompt=["a fox", "an owl"])
        result = run_dag(dag, out, ["made", "download_route", "mapped"], keys=[RETURN_VALUE, XCOM_KEY])
    assert result.states == {
        "made": "success",
        "download_route": "success",
        "mapped[0]": "success",
        "mapped[1]": "success",
    }
    server = vimmerse_sandbox_server
    return {"run": result, "url": server.url, "key": server.state.settings.api_keys[0]}


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
    assert [video["src"] for video in rows["download_route"].videos] == [
        route("download_route", 0, run),
        PUBLIC_URL,
        route("download_route", 2, run),
    ]
    # The sandbox's own output URLs are on the API's origin too: played through the proxy as well.
    assert [video["src"] for video in rows["made"].videos] == [route("made", 0, run)]
    for index in (0, 1):
        assert [video["src"] for video in rows[f"mapped[{index}]"].videos] == [route("mapped", 0, run, index)]
    (job,) = [job for job in listed.json()["jobs"] if (job["dag_id"], job["task_id"]) == (DAG_ID, "download_route")]
    assert job["video_urls"][:2] == [download_url, PUBLIC_URL], "the JSON keeps the URLs the task returned"
    assert job["play_urls"][:2] == [route("download_route", 0, run), PUBLIC_URL]
    assert_no_key(run["key"], page, listed)


def test_without_a_vimmerse_connection_on_that_origin_every_output_plays_from_its_url(monkeypatch, run):
    monkeypatch.setenv("AIRFLOW_CONN_VIMMERSE_ELSEWHERE", sandbox_conn_uri("https://api.example.test", run["key"]))
    with deployment(monkeypatch, run, keys={}) as (client, _):
        rows = rows_by_task(client.get("/vimmerse/", params=ALL).text)
        answer = client.get(route("download_route", 0, run))
    assert [video["src"] for video in rows["download_route"].videos] == run["run"].xcom("download_route")["video_urls"]
    assert answer.status_code == 404 and "not on a Vimmerse API origin" in answer.text


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
    assert past.status_code == 416


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
        ("download_route", -1, -1),
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


def test_a_public_output_is_not_proxied(monkeypatch, run):
    with deployment(monkeypatch, run) as (client, _):
        answer = client.get(route("download_route", 1, run))
    assert answer.status_code == 404
    assert "play it from its URL" in answer.text


def test_an_api_answer_that_is_not_a_media_file_is_not_handed_out(monkeypatch, run):
    with deployment(monkeypatch, run) as (client, _):
        answer = client.get(route("download_route", 2, run))
    assert answer.status_code == 502, answer.text
    assert "did not answer a media file" in answer.text
    assert run["run"].xcom("made")["id"] not in answer.text, "nothing of the API's JSON"


# ---------------------------------------------------------------------- which connection


def test_vimmerse_default_is_tried_first_then_the_others_by_id(monkeypatch, run):
    # A wrong key on vimmerse_default: the API refuses it (401), so the next connection on that origin streams.
    keys = {"vimmerse_default": WRONG_KEY, "vimmerse_b": run["key"], "vimmerse_a": WRONG_KEY}
    with deployment(monkeypatch, run, keys=keys) as (client, _):
        answer = client.get(route("download_route", 0, run))
    assert answer.status_code == 200 and answer.content == MP4
    assert_no_key(run["key"], answer)


def test_when_every_key_is_refused_the_answer_names_no_key(monkeypatch, run):
    with deployment(monkeypatch, run, keys={"vimmerse_default": WRONG_KEY}) as (client, _):
        answer = client.get(route("download_route", 0, run))
    assert answer.status_code == 502, answer.text
    assert "HTTP 401" in answer.text
    assert WRONG_KEY not in answer.text and WRONG_KEY not in json.dumps(dict(answer.headers))


def test_a_connection_stored_in_airflows_database_is_found(monkeypatch, run):
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    conn = Connection(conn_id="vimmerse_in_db", conn_type="vimmerse", host=run["url"], password=run["key"])
    with create_session() as session:
        session.add(conn)
    try:
        with deployment(monkeypatch, run, keys={"vimmerse_default": WRONG_KEY}) as (client, _):
            answer = client.get(route("download_route", 0, run))
    finally:
        with create_session() as session:
            session.query(Connection).filter(Connection.conn_id == "vimmerse_in_db").delete()
    assert answer.status_code == 200 and answer.content == MP4


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
