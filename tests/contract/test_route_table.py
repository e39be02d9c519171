"""
The route table of ``docs/routes.md`` says, for every route the API's documents describe, what drives it.

What drives a route is found from the code, not from the table: every operator of the request contract
(``test_requests.CASES``) is run and its requests are matched to the documented routes; the job kinds'
status, detail and download paths and the usage-statistics request are added. Then:

* every operation of the OpenAPI document, and every route only the guides document, has one row;
* a row says "not driven" exactly when no code sends that route, and then gives a reason;
* a row of a driven route names the classes that send it, and each named class sends it.
"""

from __future__ import annotations

import re
from collections import defaultdict

import pytest

from airflow_provider_vimmerse.api import endpoints
from airflow_provider_vimmerse.api.jobs import JOB_KINDS
from airflow_provider_vimmerse.api.urls import job_path
from airflow_provider_vimmerse.sandbox.documented_routes import DOCUMENTED_ROUTES, OPENAPI_ROUTES, find_route
from tests.conftest import REPO
from tests.contract.test_requests import CASES, build, capture

TABLE = REPO / "docs" / "routes.md"
NOT_DRIVEN = "not driven"
ALL_ROUTES = (*OPENAPI_ROUTES, *DOCUMENTED_ROUTES)
# A table row: | `METHOD /path` | what drives it | source |
_ROW = re.compile(r"^\| `(?P<method>[A-Z]+) (?P<path>/[^`]*)` \| (?P<driven>[^|]+) \|")
_CLASS = re.compile(r"`(Vimmerse\w+)`")
# Reads that every job kind's wait (trigger, sensor, synchronous wait) and the download operator make, and the
# delete operator's request: job-kind attribute -> (method, class).
WAIT = "VimmerseJobTrigger"
READERS = {
    "status_path": ("GET", WAIT),
    "detail_path": ("GET", WAIT),
    "download_path": ("GET", "VimmerseDownloadOperator"),
    "delete_path": ("DELETE", "VimmerseDeleteJobOperator"),
}


#: Job-kind reads that no document names, each with the reason it is still read: (kind, attribute).
UNDOCUMENTED_READS = {
    # No document names the asset polling path: the connection's asset_status_path extra decides
    # (docs/api-contract.md, "Asset status route").
    ("asset", "status_path"),
    ("asset", "detail_path"),
}


def _route_of(method: str, path: str) -> str | None:
    route = find_route(ALL_ROUTES, method, path.split("?", 1)[0])
    return f"{route.method} {route.template}" if route else None


@pytest.fixture(scope="module")
def driven(tmp_path_factory) -> dict[str, set[str]]:
    """Return each documented route the code sends -> the classes that send it."""
    found: dict[str, set[str]] = defaultdict(set)
    folder = tmp_path_factory.mktemp("files")
    for case in CASES:
        operator = build(case, folder)
        for req in capture(operator):
            route = _route_of(req.method, req.path)
            assert route, f"{req.describe()} is on no documented route"
            found[route].add(type(operator).__name__)
    unmatched = []
    for kind in JOB_KINDS.values():
        for attribute, (method, reader) in READERS.items():
            template = getattr(kind, attribute)
            if not template:
                continue
            if route := _route_of(method, job_path(template, "x1")):
                found[route].add(reader)
            elif (kind.name, attribute) not in UNDOCUMENTED_READS:
                unmatched.append(f"{kind.name}.{attribute}: {method} {template}")
    assert unmatched == [], "job-kind paths that match no documented route"
    found[_route_of("GET", endpoints.customer_statistics("2026-01-01", "2026-01-31").path) or ""].add(
        "VimmerseUsageStatisticsOperator"
    )
    return found


def _rows() -> dict[str, str]:
    rows: dict[str, str] = {}
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if match := _ROW.match(line):
            key = f"{match['method']} {match['path']}"
            assert key not in rows, f"{key} has two rows in docs/routes.md"
            rows[key] = match["driven"].strip()
    return rows


def test_every_documented_route_has_a_row() -> None:
    documented = {f"{route.method} {route.template}" for route in ALL_ROUTES}
    rows = _rows()
    assert sorted(documented - set(rows)) == [], "routes of the API's documents missing from docs/routes.md"
    assert sorted(set(rows) - documented) == [], "docs/routes.md lists routes no document describes"


def test_a_row_says_not_driven_exactly_when_nothing_sends_the_route(driven) -> None:
    for route, cell in _rows().items():
        if cell.startswith(NOT_DRIVEN):
            assert route not in driven, f"{route}: the table says not driven, but {sorted(driven[route])} send it"
            assert len(cell) > len(NOT_DRIVEN) + 5, f"{route}: say why nothing drives it"
        else:
            assert route in driven, f"{route}: the table says {cell!r}, but nothing sends it"


def test_a_driven_row_names_the_classes_that_send_it(driven) -> None:
    for route, cell in _rows().items():
        if route in driven:
            named = set(_CLASS.findall(cell))
            assert named, f"{route}: name what sends it ({sorted(driven[route])})"
            assert named <= driven[route], f"{route}: {sorted(named - driven[route])} do not send it"


def test_the_table_names_the_documents_count() -> None:
    """The page states how many operations the OpenAPI document has, counted, not copied from its README."""
    assert f"{len(OPENAPI_ROUTES)} operations" in TABLE.read_text(encoding="utf-8")


def test_the_page_is_in_the_docs() -> None:
    assert "routes" in (REPO / "docs" / "index.md").read_text(encoding="utf-8")
