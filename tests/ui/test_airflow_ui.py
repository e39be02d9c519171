"""
The provider in the Airflow 3 UI, checked in a real browser: headless Chromium over a real deployment.

One Airflow 3 (:class:`tests.cluster.AirflowCluster`: api-server, scheduler with a LocalExecutor,
dag-processor and triggerer, each its own process, SQLite in a temporary ``AIRFLOW_HOME``,
``[core] test_connection = Enabled``) runs the quick-start DAG (``example_dags/vimmerse_quickstart.py``,
as shipped) once against the sandbox API. The run is triggered through the REST API and carried out by
the real scheduler and triggerer; every test then reads that one run:

1. the run succeeds, each generation task was DEFERRED while its job ran (seen live in the task
   instance states, with the trigger held by the deployment's triggerer, and in the run's audit log in
   the UI), each result says success, each job was submitted once and the MP4s were downloaded;
2. the connection form for type ``vimmerse`` shows the API Key field, and the Test button answers with
   the hook's own message: the key works, or the key was rejected (never the key itself);
3. each generation task's "Vimmerse" extra link points at its job in the web app;
4. the task log shows the trigger's progress lines and the hand-off to the triggerer;
5. the provider's Airflow plugin adds a "Vimmerse" page listing the three jobs with playable videos
   (the API's download route, which needs the key, played through the page's proxy);
6. the page's cost view draws the credits of the run's DAGs as a chart (bars, legend, tables), beside
   the account's own daily credits from the sandbox's usage statistics;
7. Airflow's asset view shows the event of a Vimmerse task's outlet asset, with the job in its extra.

For 6 and 7 the DAG folder also holds a small DAG the test writes (:data:`ASSET_DAG`): one batch (the
API reports a batch's credits; a single media's result has none) with an outlet asset, run once at the
same time as the quick start.

8. Without the browser, on the same deployment: outputs of the page's proxy waiting on an API that never
   answers (:data:`SILENT_DAG`, a task whose result names a connection to a silent listener) hold
   no worker thread and no database session of the api-server: its REST API answers within a second while
   45 of them wait, those past the proxy's cap get 503 at once, the rest 502 after the headers timeout.
   The deployment (and the listener) is started by :func:`deployment`, which needs no Chromium, so test 8
   runs where the browser tests skip.
9. Without the browser too: a task result rewritten through the public REST API with output URLs that
   read as the API's to ``urlsplit`` but connect to that listener never reaches it through the proxy.

Every check saves screenshots of what it looked at in ``test-artifacts/ui/``. Chromium is Debian's
package, installed by the test when missing and running as root (see :mod:`tests.ui.browser`).
"""

from __future__ import annotations

import contextlib
import json
import re
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import requests
from playwright.sync_api import Browser, Locator, Page, Response, Route, ViewportSize, expect, sync_playwright

from airflow_provider_vimmerse.plugins.jobs import output_route
from airflow_provider_vimmerse.sandbox.client import SandboxClient
from airflow_provider_vimmerse.sandbox.pytest_plugin import CONN_ENV_VAR, sandbox_conn_uri
from tests.cluster import (
    TERMINAL_RUN_STATES,
    AirflowCluster,
    cluster_test_marks,
    sandbox_in_thread,
    wait_until,
)
from tests.listeners import SilentListener
from tests.ui.browser import ChromiumUnavailable, Screenshots, chromium_executable, launch

pytestmark = cluster_test_marks(
    reason="the browser test drives the Airflow 3 UI on a deployment from tests/cluster.py (api-server with "
    "the execution API, dag-processor), which needs Airflow 3; the Airflow 2 UI is not covered",
    # Installing chromium (when missing), starting Airflow and the DAG run count against the first test.
    timeout=1500,
)

REPO = Path(__file__).resolve().parents[2]
DAG_ID = "vimmerse_quickstart"
GENERATION_TASKS = ("text_to_video", "image_to_video", "transition")
#: Long enough for each wait to stay DEFERRED for several status checks (the first comes after ~2 s).
JOB_SECONDS = 12
RUN_TIMEOUT = 300
UI_TIMEOUT_MS = 60_000
VIEWPORT: ViewportSize = {"width": 1400, "height": 900}
WRONG_KEY = "wrong-key-5f1c9a"
#: What Airflow 3.3.2 answers when its UI tests a saved connection without a port (apache/airflow#73298).
PORTLESS_TEST_BUG = "differs from the stored connection"
ASSET_DAG_ID = "vimmerse_ui_asset"
ASSET_NAME = "vimmerse_ui_batch_videos"
ASSET_URI = "vimmerse://ui-check/batch-videos"
#: A batch with an outlet asset, written into the deployment's DAG folder next to the quick start.
ASSET_DAG = f"""
from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Asset

from airflow_provider_vimmerse.operators.batch import VimmerseCreateBatchOperator

with DAG(dag_id="{ASSET_DAG_ID}", start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), schedule=None, catchup=False):
    VimmerseCreateBatchOperator(
        task_id="batch",
        image_urls=["https://img.test/front.png", "https://img.test/back.png"],
        prompt="a slow turn on a studio table",
        deferrable=True,
        outlets=[Asset(uri="{ASSET_URI}", name="{ASSET_NAME}")],
    )
"""


SILENT_DAG_ID = "vimmerse_ui_silent_api"
SILENT_TASK_ID = "silent_output"
SILENT_CONN_ID = "vimmerse_ui_silent"
#: Test 8: a task whose result names a connection to an API that never answers (``{api}``: its URL).
SILENT_DAG = """
from __future__ import annotations

import pendulum
from airflow.sdk import DAG, get_current_context, task

with DAG(dag_id="{dag_id}", start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), schedule=None, catchup=False):

    @task(task_id="{task_id}")
    def silent_output():
        get_current_context()["ti"].xcom_push(key="vimmerse_job_url", value="https://app.vimmerse.test/media/m-silent")
        return {{
            "kind": "media",
            "id": "m-silent",
            "status": "success",
            "progress": 100,
            "video_urls": ["{api}/media/m-silent/download?object_type=bullet_video_mp4"],
            "web_url": "https://app.vimmerse.test/media/m-silent",
            "conn_id": "{conn_id}",
        }}

    silent_output()
"""
#: Test 8: output requests at once (the review's 45 exhausted the database pool of the old proxy).
SILENT_REQUESTS = 45


@dataclass
class QuickStart:
    """The module's deployment and its one run of the quick-start DAG."""

    cluster: AirflowCluster
    sandbox: SandboxClient
    sandbox_url: str
    api_key: str
    run_id: str
    state: str
    states_seen: dict[str, set[str]]
    triggerers_seen: dict[str, set[int]]
    output_dir: Path
    asset_run_id: str
    asset_state: str

    def ui(self, path: str) -> str:
        """Return the URL of a page of the Airflow UI."""
        return f"{self.cluster.api_url}{path}"

    def run_page(self, tab: str = "") -> str:
        """Return the URL of the run's page in the UI (optionally one of its tabs)."""
        return self.ui(f"/dags/{DAG_ID}/runs/{quote(self.run_id, safe='')}{tab}")

    def task_page(self, task_id: str, tab: str = "") -> str:
        """Return the URL of one task instance's page in the UI (its log, or one of its tabs)."""
        return self.run_page(f"/tasks/{task_id}{tab}")

    def result(self, task_id: str) -> dict[str, Any]:
        """Return what a generation task returned (its XCom)."""
        return self.cluster.xcom(DAG_ID, self.run_id, task_id)

    def jobs(self) -> Iterator[tuple[str, str]]:
        """Yield each generation task and the id of the job it made."""
        for task in GENERATION_TASKS:
            yield task, self.result(task)["id"]


# ---------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def chromium() -> Path:
    """Find Debian's Chromium (install it when missing and running as root), or skip saying why."""
    try:
        return chromium_executable()
    except ChromiumUnavailable as error:
        pytest.skip(f"no Chromium for the browser test: {error}")


@pytest.fixture(scope="module")
def screenshots() -> Screenshots:
    """Save screenshots into test-artifacts/ui/ (emptied first)."""
    return Screenshots()


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Browser]:
    """Run one headless Chromium for the module."""
    expect.set_options(timeout=UI_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = launch(playwright, chromium)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """Give each test a page in a fresh browser context (no cookies, no state from another test)."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(UI_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@dataclass
class Deployment:
    """The module's Airflow 3 and sandbox, and the API that never answers (test 8)."""

    cluster: AirflowCluster
    sandbox: SandboxClient
    sandbox_url: str
    api_key: str
    output_dir: Path
    silent_api: SilentListener


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """Start one real Airflow 3 against the sandbox for the module (the browser tests and test 8 share it)."""
    dags = tmp_path_factory.mktemp("ui-dags")
    # Only the quick start in the DAG folder (and its images beside it, as the DAG expects).
    (dags / f"{DAG_ID}.py").symlink_to(REPO / "example_dags" / f"{DAG_ID}.py")
    (dags / "assets").symlink_to(REPO / "example_dags" / "assets")
    (dags / f"{ASSET_DAG_ID}.py").write_text(ASSET_DAG)
    output_dir = tmp_path_factory.mktemp("ui-output")
    with contextlib.ExitStack() as stack:
        silent = stack.enter_context(SilentListener())
        silent_dag = SILENT_DAG.format(
            dag_id=SILENT_DAG_ID, task_id=SILENT_TASK_ID, conn_id=SILENT_CONN_ID, api=silent.url
        )
        (dags / f"{SILENT_DAG_ID}.py").write_text(silent_dag)
        server = stack.enter_context(sandbox_in_thread(job_seconds=JOB_SECONDS))
        api_key = server.state.settings.api_keys[0]
        env = {
            CONN_ENV_VAR: sandbox_conn_uri(server.url, api_key),
            f"AIRFLOW_CONN_{SILENT_CONN_ID.upper()}": sandbox_conn_uri(silent.url, "k-silent"),
            "VIMMERSE_OUTPUT_DIR": str(output_dir),
        }
        cluster = stack.enter_context(AirflowCluster(dags, env=env, config={("core", "test_connection"): "Enabled"}))
        sandbox = stack.enter_context(SandboxClient(server.url))
        yield Deployment(cluster, sandbox, server.url, api_key, output_dir, silent)


@pytest.fixture(scope="module")
def quickstart(chromium: Path, deployment: Deployment) -> QuickStart:
    """Run the quick-start DAG once in the module's Airflow (after Chromium is known to be there)."""
    cluster = deployment.cluster
    # No logical date, as `airflow dags trigger` and the REST API default to on Airflow 3.
    run_id = cluster.trigger(DAG_ID)
    asset_run_id = cluster.trigger(ASSET_DAG_ID)  # at the same time: no browser time added
    state, states_seen, triggerers_seen = watch_run(cluster, run_id, RUN_TIMEOUT)
    asset_state = cluster.wait_for_run(ASSET_DAG_ID, asset_run_id, RUN_TIMEOUT)
    return QuickStart(
        cluster,
        deployment.sandbox,
        deployment.sandbox_url,
        deployment.api_key,
        run_id,
        state,
        states_seen,
        triggerers_seen,
        deployment.output_dir,
        asset_run_id,
        asset_state,
    )


def watch_run(
    cluster: AirflowCluster, run_id: str, timeout: float
) -> tuple[str, dict[str, set[str]], dict[str, set[int]]]:
    """
    Wait for the run to end while recording every state each task instance is seen in (every 0.5 s).

    :return: the run's final state; the states seen per task; the triggerer job ids seen holding each
        deferred task's trigger
    """
    states: dict[str, set[str]] = defaultdict(set)
    triggerers: dict[str, set[int]] = defaultdict(set)

    def ended() -> str | None:
        for ti in cluster.task_instances(DAG_ID, run_id):
            if ti.state:
                states[ti.key].add(ti.state)
            if ti.state == "deferred" and ti.triggerer_job_id is not None:
                triggerers[ti.key].add(ti.triggerer_job_id)
        state = cluster.run_state(DAG_ID, run_id)
        return state if state in TERMINAL_RUN_STATES else None

    try:
        final = wait_until(ended, timeout, f"run {run_id} of {DAG_ID}", interval=0.5)
    except TimeoutError as error:
        raise TimeoutError(f"{error}; states seen {dict(states)}\n{cluster.diagnostics()}") from None
    return final, dict(states), dict(triggerers)


# ---------------------------------------------------------------------- 1. the run


def test_quickstart_run_succeeds_and_every_generation_waits_deferred_in_the_triggerer(
    quickstart: QuickStart, page: Page, screenshots: Screenshots
) -> None:
    qs = quickstart
    with screenshots.around(page, "01-run-audit-log-deferred"):
        page.goto(qs.run_page("/events"))
        assert qs.state == "success", f"tasks: {qs.states_seen}\n{qs.cluster.diagnostics()}"

        # Live: each generation task sat in DEFERRED, its trigger held by the deployment's triggerer.
        (triggerer,) = qs.cluster.by_kind("triggerer")
        for task in GENERATION_TASKS:
            assert "deferred" in qs.states_seen[task], f"{task} was never seen deferred: {qs.states_seen[task]}"
            assert qs.triggerers_seen.get(task) == {triggerer.job_id}, f"{task}'s trigger ran elsewhere"
        # The event log says the same (one "deferred" event per wait)...
        assert qs.cluster.deferred_tasks(DAG_ID, qs.run_id) == set(GENERATION_TASKS)
        # ... and so does the run's audit log in the UI.
        expect(page.get_by_text("Success", exact=True).first).to_be_visible()
        for task in GENERATION_TASKS:
            deferred = (
                page.get_by_role("row")
                .filter(has_text=task)
                .filter(has=page.get_by_role("cell", name="deferred", exact=True))
            )
            expect(deferred).to_have_count(1)

    # Each job succeeded, was paid for once, and its video was downloaded.
    results = {task: qs.result(task) for task in GENERATION_TASKS}
    for task, result in results.items():
        assert result["status"] == "success", f"{task}: {result}"
        assert result["kind"] == "media"
        assert result["video_urls"], f"{task} has no video"
    submits = qs.sandbox.ledger(path="/media", method="POST")
    assert sorted(entry["job_id"] for entry in submits) == sorted(r["id"] for r in results.values())
    assert len(list(qs.output_dir.rglob("*.mp4"))) == len(GENERATION_TASKS)


# ---------------------------------------------------------------------- 2. the connection form


def add_vimmerse_connection(page: Page, qs: QuickStart, conn_id: str, key: str, screenshots: Screenshots) -> None:
    """Add a connection of type ``vimmerse`` through the UI's form, checking the form's fields on the way."""
    page.goto(qs.ui("/connections"))
    page.get_by_role("button", name="Add Connection").click()
    dialog = page.get_by_role("dialog")
    dialog.locator("input[name=connection_id]").fill(conn_id)
    dialog.get_by_role("combobox").fill("vimmerse")
    page.get_by_role("option", name="Vimmerse", exact=True).click()

    api_key = dialog.get_by_label("API Key", exact=True)
    base_url = dialog.get_by_label("API base URL", exact=True)
    expect(api_key).to_be_visible()
    expect(api_key).to_have_attribute("type", "password")
    expect(api_key).to_have_attribute("placeholder", "your Vimmerse API key")
    expect(base_url).to_have_attribute("placeholder", "https://api.vimmerse.net")
    for hidden in ("login", "schema", "port"):
        expect(dialog.locator(f"input[name={hidden}]")).to_have_count(0)
    expect(dialog.get_by_text("Web app URL", exact=False)).to_have_count(1)  # an extra, in "Extra Fields"

    base_url.fill(qs.sandbox_url)
    api_key.fill(key)
    screenshots.take(page, f"02-connection-form-{conn_id}")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()


def press_test(page: Page, qs: QuickStart, conn_id: str) -> Response:
    """Press the Test button of one saved connection on the connections page; return the API's answer."""
    page.goto(qs.ui("/connections"))
    row = page.get_by_role("row").filter(has=page.get_by_role("cell", name=conn_id, exact=True))
    with page.expect_response("**/api/v2/connections/test") as answer:
        row.get_by_role("button", name="Test Connection").click()
    return answer.value


def work_around_portless_test(page: Page) -> None:
    """
    Make the UI's Test button work on a connection without a port, as Airflow after 3.3.2 does.

    Airflow 3.3.2's UI posts ``port: 0`` (``Number(null)``) for a connection without one; the api-server
    compares that with the stored NULL, takes it for another destination, and refuses to test it with the
    stored key (400). Fixed in Airflow by apache/airflow#73298, which treats port 0 as no port. A ``vimmerse``
    connection never has a port (the form hides it), so every Test press hits this. Here the request is
    sent as the fixed Airflow reads it: no port.
    """

    def no_port(route: Route) -> None:
        body = json.loads(route.request.post_data or "{}")
        if body.get("port") == 0:
            body["port"] = None
        route.continue_(post_data=json.dumps(body))

    page.route("**/api/v2/connections/test", no_port)


def toast(page: Page, title: str) -> Locator:
    """Return the UI's notification with this title."""
    return page.locator("[data-scope=toast][data-part=root]").filter(has_text=title)


def check_test_answer(page: Page, answer: Response, *, works: bool, says: list[str]) -> Locator:
    """
    Check the answer to a Test press and the notification that shows it; return the notification.

    :param works: whether the hook found the connection working
    :param says: texts the notification shows (the hook's message)
    """
    assert answer.status == 200, answer.text()
    assert answer.json()["status"] is works, answer.json()
    shown = toast(page, "Test Connection Successful" if works else "Test Connection Failed")
    expect(shown).to_be_visible()
    for text in says:
        expect(shown).to_contain_text(text)
    return shown


def test_connection_form_shows_the_api_key_field_and_the_test_button_answers(
    quickstart: QuickStart, page: Page, screenshots: Screenshots
) -> None:
    qs = quickstart
    add_vimmerse_connection(page, qs, "vimmerse_ui_check", qs.api_key, screenshots)
    add_vimmerse_connection(page, qs, "vimmerse_ui_wrong_key", WRONG_KEY, screenshots)

    answer = press_test(page, qs, "vimmerse_ui_check")
    if answer.status == 400 and PORTLESS_TEST_BUG in answer.text():
        expect(toast(page, "Test Connection Failed")).to_be_visible()
        screenshots.take(page, "02-connection-test-airflow-portless-bug")
        warnings.warn(
            f"Airflow's UI cannot test a connection without a port ({answer.text()}; apache/airflow#73298); "
            "the browser test sends the request as fixed Airflow reads it",
            stacklevel=1,
        )
        work_around_portless_test(page)
        answer = press_test(page, qs, "vimmerse_ui_check")

    with screenshots.around(page, "02-connection-test-success"):
        works = f"Connected to the Vimmerse API at {qs.sandbox_url}"
        check_test_answer(page, answer, works=True, says=[works, "the API key works"])

    answer = press_test(page, qs, "vimmerse_ui_wrong_key")
    with screenshots.around(page, "02-connection-test-wrong-key"):
        rejected = f"The API key was rejected by {qs.sandbox_url} (HTTP 401)"
        failure = check_test_answer(page, answer, works=False, says=[rejected])
        expect(failure).not_to_contain_text(WRONG_KEY)
        assert WRONG_KEY not in answer.text()


# ---------------------------------------------------------------------- 3. the extra link


def test_vimmerse_extra_link_points_at_the_job_in_the_web_app(
    quickstart: QuickStart, page: Page, screenshots: Screenshots
) -> None:
    qs = quickstart
    for task, job_id in qs.jobs():
        job_url = f"{qs.sandbox_url}/app/media/{job_id}"
        assert qs.result(task)["web_url"] == job_url
        path = f"/dags/{DAG_ID}/dagRuns/{quote(qs.run_id, safe='')}/taskInstances/{task}/links"
        assert qs.cluster.api("GET", path)["extra_links"] == {"Vimmerse": job_url}

        with screenshots.around(page, f"03-extra-link-{task}"):
            page.goto(qs.task_page(task, "/details"))
            expect(page.get_by_text("Extra Links", exact=True)).to_be_visible()
            # The one "Vimmerse" link that is not the plugin's entry in the navigation.
            links = page.get_by_role("link", name="Vimmerse", exact=True)
            hrefs = [link.get_attribute("href") for link in links.all()]
            assert job_url in hrefs, hrefs
            link = links.and_(page.locator(f'[href="{job_url}"]'))
            expect(link).to_be_visible()
            expect(link).to_have_attribute("target", "_blank")


# ---------------------------------------------------------------------- 4. the task log


def trigger_lines(log: str, job_id: str) -> list[str]:
    """Return the progress lines the trigger logged for one job (the REST API's log, one JSON entry per line)."""
    lines = []
    for line in log.splitlines():
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            if (
                isinstance(entry, dict)
                and "triggers" in str(entry.get("logger", ""))
                and str(entry.get("event", "")).startswith(f"media {job_id}: ")
            ):
                lines.append(entry["event"])
    return lines


def test_task_log_shows_the_trigger_progress_lines_and_the_hand_off(
    quickstart: QuickStart, page: Page, screenshots: Screenshots
) -> None:
    qs = quickstart
    # Through the REST API: every generation task's log has its trigger's progress, ending in success.
    for task, job_id in qs.jobs():
        lines = trigger_lines(qs.cluster.task_log(DAG_ID, qs.run_id, task, 1), job_id)
        assert any(line.endswith("processing_bullet") for line in lines), f"{task}: {lines}"
        assert lines[-1] == f"media {job_id}: 100% success", f"{task}: {lines}"

    # In the UI: the log of text_to_video, as a user reads it.
    job_id = qs.result("text_to_video")["id"]
    with screenshots.around(page, "04-task-log-trigger-progress"):
        page.goto(qs.task_page("text_to_video"))
        expect(page.get_by_text(f"media {job_id}: 100% success")).to_be_visible()
        progress = page.get_by_text(re.compile(rf"media {job_id}: \d+% processing_bullet"))
        expect(progress.first).to_be_visible()
        percentages = [int(re.findall(r": (\d+)%", text)[0]) for text in progress.all_inner_texts()]
        assert percentages == sorted(percentages), percentages
        # The hand-off: the worker submits, says where it waits and defers; the trigger starts.
        expect(page.get_by_text(f"Waiting for media {job_id} in the triggerer (no worker slot held)")).to_be_visible()
        expect(page.get_by_text(re.compile(r"trigger .*/text_to_video/.* starting"))).to_be_visible()
        page.get_by_text("Post Execute").first.click()  # the group the deferral is logged in
        expect(page.get_by_text("Pausing task as DEFERRED")).to_be_visible()


# ---------------------------------------------------------------------- 5. the plugin page


def test_vimmerse_plugin_page_lists_the_jobs_with_playable_videos(
    quickstart: QuickStart, page: Page, screenshots: Screenshots
) -> None:
    qs = quickstart
    results = {task: qs.result(task) for task in GENERATION_TASKS}

    # The entry in the UI's navigation.
    with screenshots.around(page, "05-plugin-nav-entry"):
        page.goto(qs.ui("/"))
        nav = page.get_by_role("link", name="Vimmerse", exact=True)
        expect(nav).to_be_visible()
        expect(nav).to_have_attribute("href", re.compile(r"/plugin/vimmerse$"))

    # The page, in its iframe: one row per job, success, with its videos and links. (Airflow mirrors the
    # iframe's path in its own URL: /plugin/vimmerse/vimmerse/.)
    with screenshots.around(page, "05-plugin-page", full_page=True):
        nav.click()
        expect(page).to_have_url(re.compile(r"/plugin/vimmerse(/.*)?$"))
        frame = page.frame_locator("iframe")
        for task, result in results.items():
            row = frame.locator(f'tr.vimmerse-job[data-job-id="{result["id"]}"]')
            expect(row).to_have_count(1)
            expect(row).to_have_attribute("data-kind", "media")
            expect(row).to_have_attribute("data-status", "success")
            expect(row.locator("video")).to_have_count(len(result["video_urls"]))
            expect(row.locator("a.web-link")).to_have_attribute("href", result["web_url"])
            expect(row.locator("a.task-link")).to_have_attribute("href", re.compile(rf"/tasks/{task}$"))
        # Chromium loads each video's metadata (Debian's build plays the sandbox's H.264 sample). The API's
        # outputs (its download route, which needs the key) play through the page's proxy, on Airflow's origin.
        handle = page.locator("iframe").element_handle()
        inner = handle.content_frame() if handle else None
        assert inner is not None and urlsplit(inner.url).path == "/vimmerse/", inner
        sources = inner.eval_on_selector_all("tr.vimmerse-job video", "videos => videos.map(v => v.currentSrc)")
        for task, result in results.items():
            for index, url in enumerate(result["video_urls"]):
                assert url.startswith(qs.sandbox_url), f"{task}: the API's own output ({url})"
                proxy = qs.ui(output_route(DAG_ID, qs.run_id, task, -1, index, app_path="/vimmerse"))
                assert proxy in sources, f"{task}'s output {index} is not played through the proxy: {sources}"
        assert qs.api_key not in inner.content(), "the API key reached the browser"
        inner.wait_for_function(
            """() => {
                const videos = [...document.querySelectorAll('tr.vimmerse-job video')];
                return videos.length > 0 && videos.every(v => v.readyState >= 1 && v.duration > 0);
            }""",
            timeout=UI_TIMEOUT_MS,
        )

    # A row's task link opens the task in the Airflow UI (the whole window, not the iframe).
    with screenshots.around(page, "05-plugin-task-link"):
        row = frame.locator(f'tr.vimmerse-job[data-job-id="{results["text_to_video"]["id"]}"]')
        row.locator("a.task-link").click()
        expect(page).to_have_url(qs.task_page("text_to_video"))
        expect(page.get_by_text(f"media {results['text_to_video']['id']}: 100% success")).to_be_visible()

    # The same jobs through the page's JSON API (with the UI's login), and each video answers with an MP4.
    answer = page.request.get(qs.ui("/vimmerse/api/jobs?limit=10"))
    assert answer.status == 200, answer.text()
    listed = {job["job_id"]: job["status"] for job in answer.json()["jobs"]}
    assert {result["id"]: listed.get(result["id"]) for result in results.values()} == {
        result["id"]: "success" for result in results.values()
    }
    # Each video the page plays answers with an MP4 (the browser's login, never the API key).
    for src in sources:
        video = page.request.get(src)
        assert video.status == 200, src
        assert video.headers["content-type"] == "video/mp4", src
        assert qs.api_key not in json.dumps(video.headers), src


# ---------------------------------------------------------------------- 6. the cost view


def test_cost_view_charts_the_credits_of_the_run_per_dag_beside_the_account(
    quickstart: QuickStart, page: Page, screenshots: Screenshots
) -> None:
    qs = quickstart
    assert qs.asset_state == "success", qs.cluster.diagnostics()
    batch = qs.cluster.xcom(ASSET_DAG_ID, qs.asset_run_id, "batch")
    credits = batch["used_credits"]
    assert credits > 0, batch
    account = sum(int(entry.get("credits") or 0) for entry in qs.sandbox.ledger())
    quick_ids = {result_id for _, result_id in qs.jobs()}

    # Inside the Airflow UI: the page's "Costs" link, in the page's iframe.
    with screenshots.around(page, "06-cost-view-in-airflow", full_page=True):
        page.goto(qs.ui("/plugin/vimmerse"))
        frame = page.frame_locator("iframe")
        frame.get_by_role("link", name="Costs", exact=True).click()
        chart = frame.locator("svg.cost-chart")
        expect(chart).to_be_visible()
        bar = chart.locator(f'rect.bar[data-dag="{ASSET_DAG_ID}"]')
        expect(bar).to_have_count(1)
        expect(bar).to_have_attribute("data-credits", str(credits))
        expect(chart.locator("g.account-mark")).to_have_count(1)  # today: the sandbox counts today only
        expect(chart.locator("g.account-mark")).to_have_attribute("data-credits", str(account))
        expect(frame.locator(f'ul.legend li[data-dag="{ASSET_DAG_ID}"]')).to_have_text(ASSET_DAG_ID)
        expect(frame.locator("ul.legend li.account")).to_be_visible()
        dag_row = frame.locator(f'tr.cost-dag[data-dag="{ASSET_DAG_ID}"]')
        expect(dag_row.locator("td.credits")).to_have_text(str(credits))
        # The quick start's three single media carry no credit figure: counted, and said so, never priced.
        quick_row = frame.locator(f'tr.cost-dag[data-dag="{DAG_ID}"]')
        expect(quick_row.locator("td")).to_have_text([DAG_ID, "0", "3", "3"])
        expect(frame.locator("p.unpriced-note")).to_contain_text(f"{DAG_ID}: 3 of 3 (media)")
        expect(frame.locator(f'rect.bar[data-dag="{DAG_ID}"]')).to_have_count(0)
        expect(frame.locator("p.account-note")).to_have_count(0)
    assert len(quick_ids) == 3

    # The view on its own (what the iframe shows, whole), and its JSON with the UI's login.
    with screenshots.around(page, "06-cost-view", full_page=True):
        page.goto(qs.ui("/vimmerse/costs"))
        expect(page.locator("svg.cost-chart")).to_be_visible()
        expect(page.locator("strong.account-total")).to_have_text(str(account))
        assert qs.api_key not in page.content(), "the API key reached the browser"
    answer = page.request.get(qs.ui("/vimmerse/api/costs"))
    assert answer.status == 200, answer.text()
    (asset_dag,) = [dag for dag in answer.json()["dags"] if dag["dag_id"] == ASSET_DAG_ID]
    assert asset_dag["credits"] == credits and answer.json()["account"]["total"] == account


# ---------------------------------------------------------------------- 7. the asset event


def test_asset_view_shows_the_vimmerse_event_with_the_job_in_its_extra(
    quickstart: QuickStart, page: Page, screenshots: Screenshots
) -> None:
    qs = quickstart
    assert qs.asset_state == "success", qs.cluster.diagnostics()
    batch = qs.cluster.xcom(ASSET_DAG_ID, qs.asset_run_id, "batch")
    (asset,) = [
        item for item in qs.cluster.api("GET", "/assets", params={"limit": 100})["assets"] if item["uri"] == ASSET_URI
    ]
    (event,) = qs.cluster.api("GET", "/assets/events", params={"asset_id": asset["id"]})["asset_events"]
    assert event["source_dag_id"] == ASSET_DAG_ID and event["source_run_id"] == qs.asset_run_id
    extra = event["extra"]
    # The extra the operators attach (issue 14, assets): kind, id, status, outputs and credits.
    assert (extra.get("kind"), extra.get("id"), extra.get("status")) == ("batch", batch["id"], "success"), extra
    assert extra.get("used_credits") == batch["used_credits"], extra
    assert extra.get("urls") == batch["video_urls"], extra
    assert qs.api_key not in json.dumps(event)

    with screenshots.around(page, "07-asset-list"):
        page.goto(qs.ui("/assets"))
        link = page.get_by_role("link", name=ASSET_NAME, exact=True)
        expect(link).to_be_visible()
        link.click()
        expect(page).to_have_url(re.compile(rf"/assets/{asset['id']}$"))
    with screenshots.around(page, "07-asset-event-extra"):
        # The asset's page lists its events: where each came from, and its extra as folded JSON (a code
        # editor). Unfold it as a user would: the job's kind, id, status and credits are there.
        card = (
            page.locator("div")
            .filter(has=page.get_by_text("Source:", exact=True))
            .filter(has=page.locator(".monaco-editor"))
        )
        event_card = card.last
        expect(event_card.get_by_role("link", name=ASSET_DAG_ID, exact=True)).to_be_visible()
        unfold = event_card.locator(".codicon-folding-collapsed").first
        expect(unfold).to_be_visible()
        unfold.click()
        lines = event_card.locator(".monaco-editor .view-lines")
        expect(lines).to_contain_text(re.compile(r'"kind":\s*"batch"'))
        shown = re.sub(r"\s+", "", lines.inner_text())  # the narrow editor wraps long values
        assert f'"id":"{batch["id"]}"' in shown, shown
        assert '"status":"success"' in shown and f'"used_credits":{batch["used_credits"]}' in shown, shown


# ---------------------------------------------------------------------- 8. the proxy against a silent API


def test_outputs_waiting_on_a_silent_api_leave_the_api_server_responsive(deployment: Deployment) -> None:
    """
    No browser: many outputs waiting on an API that never answers hold no worker thread nor database session.

    The review's case: 45 output requests to a listener that accepts and never answers exhausted the old
    proxy's database pool, and the REST API timed out. Here, on the real api-server process, the REST API
    answers within a second while they wait, the requests past the cap get 503 at once, and the others
    502 once the headers timeout has passed.
    """
    from airflow_provider_vimmerse.plugins.outputs import HEADERS_TIMEOUT, MAX_STREAMS

    cluster, listener = deployment.cluster, deployment.silent_api
    # Run only now: the page of test 5 must not list an output that never loads.
    run_id = cluster.trigger(SILENT_DAG_ID)
    assert cluster.wait_for_run(SILENT_DAG_ID, run_id, RUN_TIMEOUT) == "success", cluster.run_report(
        SILENT_DAG_ID, run_id
    )
    url = cluster.api_url + output_route(SILENT_DAG_ID, run_id, SILENT_TASK_ID, -1, 0, app_path="/vimmerse")

    def timed_get(target: str, timeout: float = 120) -> tuple[int, float]:
        started = time.monotonic()
        try:
            status = requests.get(target, timeout=timeout).status_code  # every request is an admin's here
        except requests.RequestException:
            status = 0
        return status, time.monotonic() - started

    before = listener.accepted
    with ThreadPoolExecutor(SILENT_REQUESTS) as pool:
        outputs = [pool.submit(timed_get, url) for _ in range(SILENT_REQUESTS)]
        with contextlib.suppress(TimeoutError):  # the old proxy got no further than its database pool (15)
            wait_until(lambda: listener.accepted - before >= MAX_STREAMS, 15, "outputs waiting on the silent API", 0.1)
        waiting = listener.accepted - before
        rest = {
            path: timed_get(cluster.api_url + path, timeout=30)
            for path in ("/api/v2/version", "/api/v2/dags?limit=1", "/vimmerse/api/jobs?limit=5")
        }
        still_waiting = sum(not future.done() for future in outputs)
        answers = [future.result(timeout=120) for future in outputs]
    accepted = listener.accepted - before
    assert {path: status for path, (status, _) in rest.items()} == dict.fromkeys(rest, 200), rest
    assert max(seconds for _, seconds in rest.values()) < 1, rest
    assert waiting == MAX_STREAMS and still_waiting >= MAX_STREAMS, "the REST API answered while outputs waited"
    statuses = Counter(status for status, _ in answers)
    assert statuses == {503: SILENT_REQUESTS - MAX_STREAMS, 502: MAX_STREAMS}, statuses
    assert max(seconds for status, seconds in answers if status == 503) < 3, "past the cap: 503 at once"
    assert max(seconds for status, seconds in answers if status == 502) < HEADERS_TIMEOUT + 5
    assert accepted == MAX_STREAMS, "one connection per output that waited: no retry, no other connection"


def test_a_hostile_output_url_written_through_the_rest_api_reaches_no_other_host(deployment: Deployment) -> None:
    """
    No browser: the review's critical case, on the real api-server process.

    A task's ``return_value`` is rewritten through the public REST API with output URLs that read as the
    API's to ``urlsplit`` but connect to a listener (``http://listener\\@api/...``), and one on the
    listener itself. Opening them through the page's proxy reaches the listener not once: the proxy
    fetches only the download route it rebuilds on the connection the result names.
    """
    cluster, listener = deployment.cluster, deployment.silent_api
    run_id = cluster.trigger(SILENT_DAG_ID)
    assert cluster.wait_for_run(SILENT_DAG_ID, run_id, RUN_TIMEOUT) == "success", cluster.run_report(
        SILENT_DAG_ID, run_id
    )
    api_hostport = urlsplit(deployment.sandbox_url).netloc
    route = "/media/m-hostile/download?object_type=bullet_video_mp4"
    hostile = {
        "kind": "media",
        "id": "m-hostile",
        "status": "success",
        "progress": 100,
        "video_urls": [f"http://{listener.netloc}\\@{api_hostport}{route}", f"{listener.url}{route}"],
        "web_url": "",
        "conn_id": "vimmerse_default",
    }
    entry = f"/dags/{SILENT_DAG_ID}/dagRuns/{quote(run_id, safe='')}/taskInstances/{SILENT_TASK_ID}"
    cluster.api("PATCH", f"{entry}/xcomEntries/return_value", json={"value": hostile})

    before = listener.accepted
    for index in (0, 1):
        url = cluster.api_url + output_route(SILENT_DAG_ID, run_id, SILENT_TASK_ID, -1, index, app_path="/vimmerse")
        assert requests.get(url, timeout=30).status_code in (404, 502), "nothing playable, and no key anywhere"
    time.sleep(1)
    assert listener.accepted == before, "the listener was never reached"
    fetched = deployment.sandbox.ledger(path="/media/m-hostile/download")
    assert len(fetched) == 2 and all(entry["authorized"] for entry in fetched), "the rebuilt route on its own API"
