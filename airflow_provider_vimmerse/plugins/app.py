"""
The FastAPI app behind the Vimmerse page, mounted by Airflow 3's api-server at ``/vimmerse``.

* ``GET /vimmerse/``: the HTML page (:mod:`~airflow_provider_vimmerse.plugins.page`);
* ``GET /vimmerse/api/jobs?limit=N``: the same rows as JSON, ``{"jobs": [...]}``, each a
  :class:`~airflow_provider_vimmerse.plugins.jobs.JobRow`;
* both take ``limit`` (1 to 500; default ``[vimmerse] page_limit``, 50): how many of the most recent jobs;
* ``GET /vimmerse/costs?start=YYYY-MM-DD&end=YYYY-MM-DD``: the cost view, credits per day and per DAG
  (a chart, its legend and tables; :mod:`~airflow_provider_vimmerse.plugins.costs`), the last
  ``[vimmerse] cost_days`` days by default; ``GET /vimmerse/api/costs`` answers the same figures as JSON
  (a :class:`~airflow_provider_vimmerse.plugins.costs.CostReport`). A range that is not two days, ends
  before it starts or is longer than 366 days is refused with 422 naming ``start`` or ``end``;
* ``GET /vimmerse/api/jobs/{dag_id}/{run_id}/{task_id}/{map_index}/outputs/{index}``: one output of a
  task's job (``index`` in its row's ``video_urls``, 0 to 10,000; ``map_index`` -1 for a task that is
  not mapped, at most 2**31 - 1; ids at most 250 characters; 422 otherwise), streamed from the Vimmerse
  API with the key of the connection the task used (:mod:`~airflow_provider_vimmerse.plugins.outputs`):
  the page plays the outputs that only the API serves through it. 404 when the task has no job or no
  such output, or when the output is not one the proxy rebuilds (play it from its URL); 503 with
  ``Retry-After`` when too many outputs stream at once;
* ``GET /vimmerse/icon.svg``: the icon of the page's entry in the Airflow navigation.
* ``POST /vimmerse/webhooks/hint``: the webhook receiver (:mod:`~airflow_provider_vimmerse.plugins.webhooks`),
  outside Airflow's login: only a signed URL is accepted, and it records one hint.

Auth is Airflow's own, as for its REST API: the user comes from the ``Authorization: Bearer`` header
or the ``_token`` cookie the Airflow UI sets (the UI opens the page in an iframe, which sends the
cookie); with ``[core] simple_auth_manager_all_admins`` Airflow makes every request an admin's. Without
a valid token the answer is 401 (403 for a malformed one). The user must be allowed to read XComs and
task instances (what Airflow's own XCom list asks), and only the jobs of the DAGs they may read are
listed (the auth manager's ``get_authorized_dag_ids``), so the page shows no more than the REST API.
The output route checks the same permissions for the DAG in its path (403 when the user may not read it).

No route holds a database session or a worker thread while it waits on the Vimmerse API: the output
route and the cost view read the database with short sessions of their own, in worker threads, closed
before they call the API on aiohttp. The page and the job list call no API (their rows' connections are
read from Airflow's environment variables and database only).

Imported by the api-server only (:class:`~airflow_provider_vimmerse.plugins.vimmerse.VimmersePlugin`
builds the app on first use): importing FastAPI and Airflow's API modules takes seconds that the many
other processes loading plugins should not spend.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime, timezone
from typing import Annotated, Any

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import GetUserDep, requires_access_dag
from fastapi import Depends, FastAPI, Header, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from airflow_provider_vimmerse import settings
from airflow_provider_vimmerse.exceptions import VimmerseInputError
from airflow_provider_vimmerse.plugins.costs import CostRange, CostReport, build_report, cost_range
from airflow_provider_vimmerse.plugins.jobs import OUTPUT_ROUTE, JobRow, output_source, output_urls
from airflow_provider_vimmerse.plugins.outputs import ApiOrigins, ProxiedOutput
from airflow_provider_vimmerse.plugins.page import (
    CONTENT_SECURITY_POLICY,
    COST_CONTENT_SECURITY_POLICY,
    render_costs_page,
    render_page,
)
from airflow_provider_vimmerse.plugins.query import read_job_rows, read_jobs_between, read_task_result
from airflow_provider_vimmerse.plugins.urls import URL_PREFIX
from airflow_provider_vimmerse.plugins.usage import read_account_usage
from airflow_provider_vimmerse.plugins.webhooks import router as webhook_router

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
#: The most jobs the cost view adds up over one range (it says so when a range holds more).
MAX_COST_JOBS = 10_000
#: The longest DAG, run or task id Airflow stores (its ``ID_LEN``).
MAX_ID_LENGTH = 250
#: The highest map index Airflow stores (a 32-bit integer column).
MAX_MAP_INDEX = 2**31 - 1
#: The highest output index the output route takes (no job has that many outputs).
MAX_OUTPUT_INDEX = 10_000

_NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}

ICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="#7c5ce0" stroke-width="2" '
    'stroke-linecap="round" stroke-linejoin="round"><rect x="2" y="5" width="15" height="14" rx="2"/>'
    '<path d="m17 10 5-3v10l-5-3z"/><path d="m7.5 9.5 4 2.5-4 2.5z" fill="#7c5ce0"/></svg>'
)


LimitQuery = Annotated[
    int | None,
    Query(ge=1, le=MAX_LIMIT, description="How many jobs at most, newest first (default ``[vimmerse] page_limit``)."),
]


def row_limit(limit: LimitQuery = None) -> int:
    """Return how many jobs to list: ``limit``, else ``[vimmerse] page_limit`` (kept within 1 to 500)."""
    if limit is not None:
        return limit
    return max(1, min(MAX_LIMIT, settings.get("page_limit") or DEFAULT_LIMIT))


Limit = Annotated[int, Depends(row_limit)]
DayQuery = Annotated[str | None, Query(description="A day, YYYY-MM-DD (UTC).")]
IdPath = Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH)]
MapIndexPath = Annotated[int, Path(ge=-1, le=MAX_MAP_INDEX, description="-1 for a task that is not mapped.")]
OutputIndexPath = Annotated[int, Path(ge=0, le=MAX_OUTPUT_INDEX, description="The output's place in video_urls.")]

#: What Airflow's own XCom list asks of a user: reading XComs and task instances.
GUARDS = [
    Depends(requires_access_dag(method="GET", access_entity=DagAccessEntity.XCOM)),
    Depends(requires_access_dag(method="GET", access_entity=DagAccessEntity.TASK_INSTANCE)),
]


def _base_path(request: Request) -> str:
    """Return the path Airflow is served under: the mount's root path without ``/vimmerse``."""
    root_path: str = request.scope.get("root_path", "")
    return root_path.removesuffix(URL_PREFIX)


def readable_rows(request: Request, session: SessionDep, user: GetUserDep, limit: Limit) -> list[JobRow]:
    """
    Return the recent jobs of the DAGs the user may read (a FastAPI dependency).

    :param request: the request (for the path Airflow is served under)
    :param session: a session on Airflow's metadata database
    :param user: the user, from Airflow's auth manager
    :param limit: how many jobs at most
    """
    dag_ids = get_auth_manager().get_authorized_dag_ids(user=user, method="GET")
    return read_job_rows(
        session,
        limit=limit,
        dag_ids=dag_ids,
        base_path=_base_path(request),
        app_path=request.scope.get("root_path", ""),
        api_origin_of=ApiOrigins(session),
    )


RowsDep = Annotated[list[JobRow], Depends(readable_rows)]


def page(rows: RowsDep, limit: Limit) -> HTMLResponse:
    """Return the page of recent jobs."""
    headers = {**_NO_STORE, "Content-Security-Policy": CONTENT_SECURITY_POLICY}
    return HTMLResponse(render_page(rows, limit=limit), headers=headers)


def jobs(rows: RowsDep) -> JSONResponse:
    """Return the recent jobs as JSON: ``{"jobs": [...]}``."""
    return JSONResponse({"jobs": rows}, headers=_NO_STORE)


async def output(
    dag_id: IdPath,
    run_id: IdPath,
    task_id: IdPath,
    map_index: MapIndexPath,
    index: OutputIndexPath,
    byte_range: Annotated[str | None, Header(alias="Range")] = None,
) -> Response:
    """Stream one output of a task's job from the Vimmerse API (the route the page plays such outputs from)."""
    from starlette.concurrency import run_in_threadpool

    result = await run_in_threadpool(_task_result, dag_id, run_id, task_id, map_index)
    if index >= len(output_urls(result)):
        return PlainTextResponse("This task has no such output.", status_code=404, headers=_NO_STORE)
    source = output_source(result, index)
    if source is None:
        message = (
            "The proxy streams only a job's download route, from the connection the task used: "
            "play this output from its URL."
        )
        return PlainTextResponse(message, status_code=404, headers=_NO_STORE)
    return ProxiedOutput(source, byte_range=byte_range)


def _task_result(dag_id: str, run_id: str, task_id: str, map_index: int) -> Mapping[str, Any]:
    """Return a task's result, read with a session of its own that is closed before anything else happens."""
    from airflow.utils.session import create_session

    with create_session() as session:
        return read_task_result(session, dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=map_index)


async def readable_costs(user: Any, span: CostRange) -> CostReport:
    """
    Return the credits of the jobs of the DAGs the user may read over ``span``, beside the account's own.

    The database is read first, in a worker thread with a session of its own; then the account's figures
    are read from the API with no session held.

    :param user: the user, from Airflow's auth manager
    :param span: the days
    """
    from starlette.concurrency import run_in_threadpool

    rows, truncated = await run_in_threadpool(_readable_jobs_between, user, span)
    return build_report(rows, span, await read_account_usage(span), truncated=truncated)


def _readable_jobs_between(user: Any, span: CostRange) -> tuple[list[JobRow], bool]:
    from airflow.utils.session import create_session

    first, after = span.bounds()
    with create_session() as session:
        dag_ids: Collection[str] = get_auth_manager().get_authorized_dag_ids(user=user, method="GET", session=session)
        return read_jobs_between(session, start=first, end=after, limit=MAX_COST_JOBS, dag_ids=dag_ids)


def _asked_range(start: str | None, end: str | None) -> CostRange:
    return cost_range(start, end, today=_today(), default_days=settings.get("cost_days") or 30)


def _today() -> date:
    return datetime.now(timezone.utc).date()


async def costs(user: GetUserDep, start: DayQuery = None, end: DayQuery = None) -> HTMLResponse:
    """Return the cost view of a range of days (422, with the form, for a range it cannot show)."""
    headers = {**_NO_STORE, "Content-Security-Policy": COST_CONTENT_SECURITY_POLICY}
    try:
        span = _asked_range(start, end)
    except VimmerseInputError as error:
        html = render_costs_page(None, start=start or "", end=end or "", today=_today(), error=str(error))
        return HTMLResponse(html, status_code=422, headers=headers)
    report = await readable_costs(user, span)
    html = render_costs_page(report, start=report["start"], end=report["end"], today=_today())
    return HTMLResponse(html, headers=headers)


async def costs_json(user: GetUserDep, start: DayQuery = None, end: DayQuery = None) -> JSONResponse:
    """Return the cost view's figures as JSON (422 naming ``start`` or ``end`` for a range it cannot show)."""
    try:
        span = _asked_range(start, end)
    except VimmerseInputError as error:
        detail = [{"loc": ["query", error.field], "msg": str(error), "type": "value_error"}]
        return JSONResponse({"detail": detail}, status_code=422, headers=_NO_STORE)
    return JSONResponse(await readable_costs(user, span), headers=_NO_STORE)


def icon() -> Response:
    """Return the icon of the navigation entry (public: it shows nothing about any DAG)."""
    return Response(ICON_SVG, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


def create_app() -> FastAPI:
    """Return the app mounted at ``/vimmerse``; its job routes are guarded by Airflow's auth."""
    app = FastAPI(title="Vimmerse", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_api_route("/", page, methods=["GET"], response_class=HTMLResponse, dependencies=GUARDS)
    app.add_api_route("/api/jobs", jobs, methods=["GET"], dependencies=GUARDS)
    app.add_api_route(OUTPUT_ROUTE, output, methods=["GET"], dependencies=GUARDS)
    app.add_api_route("/costs", costs, methods=["GET"], response_class=HTMLResponse, dependencies=GUARDS)
    app.add_api_route("/api/costs", costs_json, methods=["GET"], dependencies=GUARDS)
    app.add_api_route("/icon.svg", icon, methods=["GET"])
    # The webhook receiver: no Airflow login; a signed URL records one hint (plugins/webhooks.py).
    app.include_router(webhook_router)
    return app
