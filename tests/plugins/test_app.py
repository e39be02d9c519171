"""
The Vimmerse page in a real Airflow 3 api-server app, over the jobs of real DAG runs.

Two DAGs run once for the module with ``dag.test()`` against the sandbox API (deferred, synchronous,
mapped, failed and batch jobs). Then Airflow's own FastAPI app (``create_app``, with its plugins,
auth manager and middlewares) is called with FastAPI's ``TestClient``: the page and the JSON must
show those jobs as Airflow stored them, and only to users who may read their DAGs.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timezone
from urllib.parse import quote

import pytest

from airflow_provider_vimmerse.links.vimmerse import XCOM_KEY
from tests.cluster import airflow_major, wait_until
from tests.dag_runs import RETURN_VALUE, run_dag
from tests.listeners import SilentListener
from tests.plugins.conftest import dag_on_the_sandbox, database_connections_in_use, fast_dag
from tests.plugins.html_rows import read_page

pytestmark = pytest.mark.skipif(
    airflow_major() < 3, reason="the page needs Airflow 3's api-server (plugin FastAPI apps and external views)"
)

DAG_ID = "vimmerse_plugin_page"
HIDDEN_DAG_ID = "vimmerse_plugin_hidden"  # the one tests.plugins.auth_managers hides from viewers
RESTRICTED_AUTH_MANAGER = "tests.plugins.auth_managers.HiddenDagAuthManager"
IMAGE_URLS = ["https://img.test/a.png", "https://img.test/b.jpg"]
ALL = {"limit": 500}


@pytest.fixture(scope="module")
def runs(airflow_db, vimmerse_sandbox_server, tmp_path_factory):
    """Run both DAGs once; return their results (what a downstream task saw) and the sandbox's jobs."""
    from airflow_provider_vimmerse.operators.batch import VimmerseCreateBatchOperator
    from airflow_provider_vimmerse.operators.media import VimmerseCreateMediaOperator

    with dag_on_the_sandbox(vimmerse_sandbox_server, tmp_path_factory, DAG_ID) as (dag, out):
        with dag:
            VimmerseCreateMediaOperator(task_id="deferred", prompt="a paper boat at sunrise", deferrable=True)
            VimmerseCreateMediaOperator(task_id="here", prompt="a lighthouse at dusk", deferrable=False)
            VimmerseCreateMediaOperator(task_id="failing", prompt="a storm [sandbox:fail]", deferrable=True)
            VimmerseCreateMediaOperator.partial(task_id="mapped", deferrable=True).expand(prompt=["a fox", "an owl"])
            VimmerseCreateBatchOperator(task_id="batch", image_urls=IMAGE_URLS, deferrable=True)
        tasks = ["deferred", "here", "failing", "mapped", "batch"]
        page = run_dag(dag, out, tasks, keys=[RETURN_VALUE, XCOM_KEY])

        hidden, hidden_out = fast_dag(tmp_path_factory, HIDDEN_DAG_ID)
        with hidden:
            VimmerseCreateMediaOperator(task_id="secret", prompt="a secret launch", deferrable=True)
        secret = run_dag(hidden, hidden_out, ["secret"], keys=[RETURN_VALUE, XCOM_KEY])
    assert page.states == {
        "deferred": "success",
        "here": "success",
        "failing": "failed",
        "mapped[0]": "success",
        "mapped[1]": "success",
        "batch": "success",
    }
    assert secret.states == {"secret": "success"}
    return {"page": page, "hidden": secret, "sandbox_media": dict(vimmerse_sandbox_server.state.media)}


@contextmanager
def airflow_api(
    monkeypatch: pytest.MonkeyPatch, *, all_admins: bool, auth_manager: str | None = None
) -> Iterator[tuple]:
    """Yield a TestClient on Airflow's own api-server app (with this provider's plugin) and its auth manager."""
    from airflow.api_fastapi.app import create_app, get_auth_manager, purge_cached_app
    from fastapi.testclient import TestClient

    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", str(all_admins))
    monkeypatch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "vimmerse-plugin-tests-" + "x" * 64)
    if auth_manager:
        monkeypatch.setenv("AIRFLOW__CORE__AUTH_MANAGER", auth_manager)
    purge_cached_app()
    try:
        with TestClient(create_app("core")) as client:
            yield client, get_auth_manager()
    finally:
        purge_cached_app()


@pytest.fixture
def admin_client(monkeypatch, runs):
    """A client of the api-server with ``simple_auth_manager_all_admins`` (every request is an admin's)."""
    with airflow_api(monkeypatch, all_admins=True) as (client, _):
        yield client


def token_for(auth_manager, username: str, role: str) -> str:
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    return auth_manager.generate_jwt(SimpleAuthManagerUser(username=username, role=role))


def ours(rows, dag_id: str = DAG_ID) -> dict[str, object]:
    """Return the rows of one DAG by ``task_id`` (``task_id[i]`` when mapped)."""
    by_task = {}
    for row in rows:
        if row["dag_id"] == dag_id:
            key = row["task_id"] if row["map_index"] < 0 else f"{row['task_id']}[{row['map_index']}]"
            assert key not in by_task, f"{key} listed twice"
            by_task[key] = row
    return by_task


def expected_task_url(run_id: str, task_id: str, dag_id: str = DAG_ID) -> str:
    base, _, index = task_id.partition("[")
    path = f"/dags/{dag_id}/runs/{quote(run_id, safe='')}/tasks/{base}"
    return f"{path}/mapped/{index.rstrip(']')}" if index else path


# ---------------------------------------------------------------------- what the page shows


def test_the_json_lists_every_job_of_the_run_as_airflow_stored_it(admin_client, runs):
    answer = admin_client.get("/vimmerse/api/jobs", params=ALL)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    rows = ours(answer.json()["jobs"])
    page = runs["page"]
    assert set(rows) == set(page.states), "one row per task instance that had a job"
    run_id = page.run.run_id
    for key, row in rows.items():
        task_id = key.partition("[")[0]
        results, urls = page.xcom(task_id), page.xcom(task_id, XCOM_KEY)
        index = row["map_index"]
        result = results[index] if index >= 0 else results
        job_url = urls[index] if index >= 0 else urls
        assert row["run_id"] == run_id
        assert row["task_state"] == page.states[key]
        assert row["web_url"] == job_url, "the job's page in the Vimmerse web app"
        assert row["task_url"] == expected_task_url(run_id, key)
        if result is None:  # the failed job: no result, so the task's state speaks
            assert (row["status"], row["progress"], row["video_urls"]) == ("failed", None, [])
            assert runs["sandbox_media"][row["job_id"]].outcome == "fail", "the id is the job the sandbox failed"
            assert row["job_id"] in page.errors_of(task_id)[0], "the task failed on that job"
            assert job_url.endswith(f"/media/{row['job_id']}") and row["kind"] == "media"
        else:
            assert (row["kind"], row["job_id"], row["status"]) == (result["kind"], result["id"], result["status"])
            assert row["status"] == "success" and row["progress"] == result["progress"]
            assert row["video_urls"] == result["video_urls"] and row["video_urls"]
            assert row["used_credits"] == result.get("used_credits")
    assert rows["batch"]["kind"] == "batch" and rows["batch"]["used_credits"], "the batch reports its credits"
    assert {rows["mapped[0]"]["job_id"], rows["mapped[1]"]["job_id"]} <= set(runs["sandbox_media"])


def test_the_json_is_newest_first_and_honours_the_limit(admin_client, runs):
    rows = admin_client.get("/vimmerse/api/jobs", params=ALL).json()["jobs"]
    started = [datetime.fromisoformat(row["started_at"]) for row in rows]
    assert started == sorted(started, reverse=True)
    assert rows[0]["dag_id"] == HIDDEN_DAG_ID, "the last job stored comes first"
    (latest,) = admin_client.get("/vimmerse/api/jobs", params={"limit": 1}).json()["jobs"]
    assert latest == rows[0]
    for bad in (0, -1, 100_000, "many"):
        assert admin_client.get("/vimmerse/api/jobs", params={"limit": bad}).status_code == 422


def test_the_page_shows_the_same_jobs_with_videos_and_links(admin_client, runs):
    answer = admin_client.get("/vimmerse/", params=ALL)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    listed = admin_client.get("/vimmerse/api/jobs", params=ALL).json()["jobs"]
    every_row = read_page(answer.text).rows
    assert [row.attrs["data-job-id"] for row in every_row] == [row["job_id"] for row in listed], "same order"
    # Earlier tests of the session share this database: look closely at this module's DAG only.
    rows = [row for row in every_row if row.values["dag-id"] == DAG_ID]
    expected = [row for row in listed if row["dag_id"] == DAG_ID]
    assert len(rows) == 6
    for shown, row in zip(rows, expected, strict=True):
        assert (shown.attrs["data-kind"], shown.attrs["data-status"]) == (row["kind"], row["status"])
        assert (shown.values["dag-id"], shown.values["task-id"]) == (row["dag_id"], row["task_id"])
        assert shown.values["run-id"] == row["run_id"]
        assert [video["src"] for video in shown.videos] == row["play_urls"]
        assert shown.links["task-link"]["href"] == row["task_url"]
        assert shown.links["web-link"]["href"] == row["web_url"]
        if row["used_credits"] is not None:
            assert shown.values["credits"] == str(row["used_credits"])
    mapped = [row for row in rows if row.values["task-id"] == "mapped"]
    assert sorted(row.links["task-link"]["href"].rsplit("/", 1)[-1] for row in mapped) == ["0", "1"]


def test_the_task_link_opens_a_real_page_of_the_airflow_ui(admin_client, runs):
    (row,) = [
        row
        for row in admin_client.get("/vimmerse/api/jobs", params=ALL).json()["jobs"]
        if (row["dag_id"], row["task_id"]) == (DAG_ID, "here")
    ]
    answer = admin_client.get(row["task_url"])
    assert answer.status_code == 200 and "<base href=" in answer.text, "Airflow's UI serves the task's page"
    task = admin_client.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(row['run_id'], safe='')}/taskInstances/here")
    assert task.status_code == 200 and task.json()["state"] == row["task_state"]


# ---------------------------------------------------------------------- Airflow sees the plugin


def test_airflow_lists_the_page_in_its_navigation(admin_client, runs):
    plugins = admin_client.get("/api/v2/plugins").json()["plugins"]
    (plugin,) = [plugin for plugin in plugins if plugin["name"] == "vimmerse"]
    (view,) = plugin["external_views"]
    assert (view["name"], view["destination"], view["url_route"], view["href"]) == (
        "Vimmerse",
        "nav",
        "vimmerse",
        "vimmerse/",
    )
    assert plugin["fastapi_apps"][0]["url_prefix"] == "/vimmerse"
    icon = admin_client.get("/" + view["icon"])
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert admin_client.get("/plugin/vimmerse").status_code == 200, "the UI route of the external view"
    errors = admin_client.get("/api/v2/plugins/importErrors").json()["import_errors"]
    assert not [error for error in errors if "vimmerse" in (error["source"] + error["error"])]


# ---------------------------------------------------------------------- auth


def test_without_a_token_nothing_is_shown(monkeypatch, runs):
    with airflow_api(monkeypatch, all_admins=False) as (client, _):
        for path in ("/vimmerse/", "/vimmerse/api/jobs"):
            answer = client.get(path)
            assert answer.status_code == 401, answer.text
            assert DAG_ID not in answer.text
        bad = client.get("/vimmerse/api/jobs", headers={"Authorization": "Bearer not-a-token"})
        assert bad.status_code in (401, 403) and DAG_ID not in bad.text


def test_a_viewer_sees_only_the_dags_they_may_read(monkeypatch, runs):
    with airflow_api(monkeypatch, all_admins=False, auth_manager=RESTRICTED_AUTH_MANAGER) as (client, auth):
        # The UI's iframe sends the ``_token`` cookie; scripts send a bearer token. Both are honoured.
        client.cookies.set("_token", token_for(auth, "viewer", "VIEWER"))
        page = read_page(client.get("/vimmerse/", params=ALL).text)
        client.cookies.clear()
        viewer = {"Authorization": f"Bearer {token_for(auth, 'viewer', 'VIEWER')}"}
        rows = client.get("/vimmerse/api/jobs", params=ALL, headers=viewer).json()["jobs"]
        admin = {"Authorization": f"Bearer {token_for(auth, 'boss', 'ADMIN')}"}
        everything = client.get("/vimmerse/api/jobs", params=ALL, headers=admin).json()["jobs"]

    secret_id = runs["hidden"].xcom("secret")["id"]
    assert secret_id in [row["job_id"] for row in everything], "an admin sees the hidden DAG's job"
    assert HIDDEN_DAG_ID not in {row["dag_id"] for row in rows} | {row.values["dag-id"] for row in page.rows}
    assert secret_id not in [row["job_id"] for row in rows] + [row.attrs["data-job-id"] for row in page.rows]
    assert set(ours(rows)) == set(runs["page"].states), "the readable DAG is still listed in full"
    assert {row.values["dag-id"] for row in page.rows} >= {DAG_ID}


def test_a_user_who_may_read_no_dag_gets_the_empty_state(monkeypatch, runs):
    with airflow_api(monkeypatch, all_admins=False, auth_manager=RESTRICTED_AUTH_MANAGER) as (client, auth):
        client.cookies.set("_token", token_for(auth, "nobody", "VIEWER"))
        answer = client.get("/vimmerse/")
        rows = client.get("/vimmerse/api/jobs").json()["jobs"]
    assert answer.status_code == 200
    page = read_page(answer.text)
    assert page.rows == [] and rows == []
    assert page.empty and "No Vimmerse jobs yet" in page.empty


# ---------------------------------------------------------------------- the cost view


def ledger_credits(server) -> int:
    """Return the credits the sandbox charged today (what its usage statistics report for today)."""
    return sum(int(entry.get("credits") or 0) for entry in server.state.ledger)


@pytest.fixture
def sandbox_connection(monkeypatch, vimmerse_sandbox_server):
    """Point ``vimmerse_default`` at the sandbox, as the api-server of a deployment sees it."""
    from airflow_provider_vimmerse.sandbox.pytest_plugin import CONN_ENV_VAR, sandbox_conn_uri

    server = vimmerse_sandbox_server
    monkeypatch.setenv(CONN_ENV_VAR, sandbox_conn_uri(server.url, server.state.settings.api_keys[0]))
    return server


def test_the_cost_json_adds_up_the_runs_credits_per_dag_beside_the_account_statistics(
    admin_client, runs, sandbox_connection
):
    answer = admin_client.get("/vimmerse/api/costs")
    assert answer.status_code == 200, answer.text
    report = answer.json()
    today = datetime.now(tz=timezone.utc).date()
    assert report["end"] == today.isoformat() and len(report["days"]) == 30, "[vimmerse] cost_days = 30"
    (ours_,) = [dag for dag in report["dags"] if dag["dag_id"] == DAG_ID]
    batch = runs["page"].xcom("batch")
    assert batch["used_credits"] > 0
    assert ours_["credits"] == batch["used_credits"], "the one result with credits: the batch"
    assert ours_["jobs"] == 6 and ours_["jobs_without_credits"] == 5, "media results carry no credits"
    assert ours_["kinds_without_credits"] == ["media"]
    (day,) = [day for day in report["days"] if day["date"] == today.isoformat()]
    assert day["by_dag"][DAG_ID] == batch["used_credits"]
    assert report["account"]["available"] is True, report["account"]
    assert day["account"] == ledger_credits(sandbox_connection), "the sandbox's statistics for today"
    assert sandbox_connection.state.settings.api_keys[0] not in answer.text


def test_the_cost_page_draws_the_chart_legend_and_tables(admin_client, runs, sandbox_connection):
    import xml.etree.ElementTree as ET

    answer = admin_client.get("/vimmerse/costs")
    assert answer.status_code == 200, answer.text
    assert "form-action 'self'" in answer.headers["content-security-policy"]
    assert "script-src" not in answer.headers["content-security-policy"], "the cost view runs no script"
    html = answer.text
    svg = ET.fromstring(html[html.index("<svg xmlns") : html.index("</svg>") + len("</svg>")])
    bars = [bar for bar in svg.iter("{http://www.w3.org/2000/svg}rect") if bar.get("data-dag") == DAG_ID]
    assert [float(bar.get("data-credits")) for bar in bars] == [runs["page"].xcom("batch")["used_credits"]]
    assert f'<li data-dag="{DAG_ID}">' in html, "the legend names the DAG"
    assert f'<tr class="cost-dag" data-dag="{DAG_ID}">' in html, "the table lists it"
    assert "Jobs without a figure" in html and "media" in html
    assert sandbox_connection.state.settings.api_keys[0] not in html


def test_a_range_it_cannot_show_is_a_422_naming_the_parameter(admin_client, runs):
    bad = admin_client.get("/vimmerse/api/costs", params={"start": "2026-03-05", "end": "2026-03-01"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "end"]
    page = admin_client.get("/vimmerse/costs", params={"start": "last week"})
    assert page.status_code == 422 and "Invalid &#x27;start&#x27;" in page.text and "<form" in page.text
    long = admin_client.get("/vimmerse/api/costs", params={"start": "2020-01-01", "end": "2026-01-01"})
    assert long.status_code == 422 and "at most 366 days" in long.json()["detail"][0]["msg"]


def test_an_unreachable_api_is_a_note_on_the_page_within_the_timeout(admin_client, runs, monkeypatch):
    import socket
    import time

    from airflow_provider_vimmerse.plugins import usage
    from airflow_provider_vimmerse.sandbox.pytest_plugin import CONN_ENV_VAR, sandbox_conn_uri

    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        monkeypatch.setattr(usage, "READ_TIMEOUT", 0.5)
        monkeypatch.setenv(CONN_ENV_VAR, sandbox_conn_uri(f"http://127.0.0.1:{silent.getsockname()[1]}", "k-secret-1"))
        started = time.monotonic()
        answer = admin_client.get("/vimmerse/api/costs")
        elapsed = time.monotonic() - started
    assert answer.status_code == 200, answer.text
    account = answer.json()["account"]
    assert account["available"] is False and account["total"] is None
    assert account["note"] == "The Vimmerse API could not be reached or did not answer within 0.5 s."
    assert elapsed < 5, "one bounded request, no retry"
    assert "k-secret-1" not in answer.text
    (ours_,) = [dag for dag in answer.json()["dags"] if dag["dag_id"] == DAG_ID]
    assert ours_["credits"] > 0, "the tasks' figures are shown all the same"


def test_cost_views_waiting_on_a_silent_api_hold_no_thread_nor_session_and_are_capped(admin_client, runs, monkeypatch):
    # The old cost view waited on the API in a worker thread with a database session: 45 of them starved
    # the REST API. Now at most MAX_READS views wait on the API, holding neither; the others say so at once.
    from airflow_provider_vimmerse.plugins import usage
    from airflow_provider_vimmerse.sandbox.pytest_plugin import CONN_ENV_VAR, sandbox_conn_uri

    # Long enough that the views past the cap all answer while the others still wait, even on a loaded CI
    # machine (at 3 s they sometimes had not, and then there was no moment when only the capped ones were done).
    read_timeout = 10.0
    monkeypatch.setattr(usage, "READ_TIMEOUT", read_timeout)
    views = 45
    too_many = "Too many cost views are reading the account's figures right now: reload the page in a moment."

    def timed_costs() -> tuple[dict, float]:
        started = time.monotonic()
        answer = admin_client.get("/vimmerse/api/costs")
        assert answer.status_code == 200, answer.text
        return answer.json()["account"], time.monotonic() - started

    with SilentListener() as silent:
        monkeypatch.setenv(CONN_ENV_VAR, sandbox_conn_uri(silent.url, "k-secret-2"))
        with database_connections_in_use() as in_use, ThreadPoolExecutor(views) as pool:
            waiting = [pool.submit(timed_costs) for _ in range(views)]
            wait_until(lambda: silent.accepted == usage.MAX_READS, 15, "cost views waiting on the silent API", 0.05)
            capped = views - usage.MAX_READS

            def capped_done() -> bool:
                done = [future.result()[0]["note"] for future in waiting if future.done()]
                return done.count(too_many) == capped

            wait_until(capped_done, 30, "the views past the cap", 0.05)
            still_waiting = sum(not future.done() for future in waiting)
            held = in_use()
            started = time.monotonic()
            dags = admin_client.get("/api/v2/dags", params={"limit": 1})
            rest_seconds = time.monotonic() - started
            answers = [future.result(timeout=60) for future in waiting]
        accepted = silent.accepted
    assert still_waiting == usage.MAX_READS, "the capped views answered while the others still waited"
    assert held == 0, f"{held} database connections held by cost views waiting on the API"
    assert dags.status_code == 200 and rest_seconds < 1, (dags.status_code, rest_seconds)
    notes = Counter(account["note"] for account, _ in answers)
    assert notes == {
        f"The Vimmerse API could not be reached or did not answer within {read_timeout:g} s.": usage.MAX_READS,
        too_many: capped,
    }
    assert accepted == usage.MAX_READS, "one request per view that waited, no retry"
    assert max(seconds for _, seconds in answers) < usage.CONNECT_TIMEOUT + read_timeout + 5


def test_without_a_connection_the_page_says_so(admin_client, runs, monkeypatch):
    from airflow_provider_vimmerse.plugins.costs import CostRange
    from airflow_provider_vimmerse.plugins.usage import read_account_usage

    today = datetime.now(tz=timezone.utc).date()
    usage = asyncio.run(read_account_usage(CostRange(today, today), conn_id="vimmerse_not_configured"))
    assert (
        usage.note
        == "No connection 'vimmerse_not_configured' is configured, so the account's own figures are not shown."
    )


def test_the_page_limit_setting_is_the_default_number_of_rows(monkeypatch, admin_client, runs):
    monkeypatch.setenv("AIRFLOW__VIMMERSE__PAGE_LIMIT", "2")
    assert len(admin_client.get("/vimmerse/api/jobs").json()["jobs"]) == 2
    assert len(read_page(admin_client.get("/vimmerse/").text).rows) == 2
    assert len(admin_client.get("/vimmerse/api/jobs", params={"limit": 3}).json()["jobs"]) == 3, "limit wins"


def test_costs_need_a_token_and_show_only_the_dags_a_viewer_may_read(monkeypatch, runs):
    with airflow_api(monkeypatch, all_admins=False, auth_manager=RESTRICTED_AUTH_MANAGER) as (client, auth):
        for path in ("/vimmerse/costs", "/vimmerse/api/costs"):
            answer = client.get(path)
            assert answer.status_code == 401 and DAG_ID not in answer.text
        viewer = {"Authorization": f"Bearer {token_for(auth, 'viewer', 'VIEWER')}"}
        admin = {"Authorization": f"Bearer {token_for(auth, 'boss', 'ADMIN')}"}
        seen = {dag["dag_id"] for dag in client.get("/vimmerse/api/costs", headers=viewer).json()["dags"]}
        everything = {dag["dag_id"] for dag in client.get("/vimmerse/api/costs", headers=admin).json()["dags"]}
        page = client.get("/vimmerse/costs", headers=viewer).text
    assert HIDDEN_DAG_ID in everything and DAG_ID in everything
    assert DAG_ID in seen and HIDDEN_DAG_ID not in seen
    assert HIDDEN_DAG_ID not in page
