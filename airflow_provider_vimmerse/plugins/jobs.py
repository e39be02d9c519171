"""
The rows of the Vimmerse page: one per task instance that started (or waited on) a Vimmerse job.

Airflow already stores everything the page shows. A task with a ``vimmerse_job_url`` XCom has a job
(operators and sensors push it as soon as the job id is known); its ``return_value`` XCom, a
:class:`~airflow_provider_vimmerse.api.results.JobResult`, says how the job ended; without one, the
task instance's state says where the task is (running, deferred, failed...). :func:`build_row` turns
those three values into a :class:`JobRow`; :mod:`airflow_provider_vimmerse.plugins.query` reads them
from Airflow's database.

Every URL in a row is checked: only ``http``/``https`` URLs are kept, so a row can go into ``src``
and ``href`` attributes as it is.

An output that only the Vimmerse API serves (a media's download route) needs the API key, which no
browser may see: its ``play_urls`` entry is then the page's own proxy route, :data:`OUTPUT_ROUTE` (see
:mod:`~airflow_provider_vimmerse.plugins.outputs`). The proxy never fetches a URL read from an XCom:
:func:`output_source` says which job owns the output and which documented download settings it asks
for, and the proxy fetches that job's download route from the API of the connection the task used
(the result's ``conn_id``), and from no other. What it cannot rebuild so is played from its URL, or not
at all when that URL is on the API's own origin (the browser would need the key).

Pure module: no Airflow imports.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict
from urllib.parse import parse_qs, quote, unquote, urlsplit

from airflow_provider_vimmerse.api.jobs import JOB_KINDS, download_query, download_route_url
from airflow_provider_vimmerse.api.urls import absolute_url, job_path, origin
from airflow_provider_vimmerse.exceptions import VimmerseInputError

#: An origin: scheme, host and port (:func:`airflow_provider_vimmerse.api.urls.origin`).
Origin = tuple[str, str, int | None]

#: ``status`` of a row whose task has neither a result nor a task instance state.
UNKNOWN_STATUS = "unknown"
#: The route (under the page's app) that streams one output of a task from the Vimmerse API;
#: ``index`` counts in the row's ``video_urls``, ``map_index`` is -1 for a task that is not mapped.
OUTPUT_ROUTE = "/api/jobs/{dag_id}/{run_id}/{task_id}/{map_index}/outputs/{index}"
#: The settings of a download route (``GET /media/{id}/download``) an output's URL may carry to the proxy:
#: those :func:`~airflow_provider_vimmerse.api.jobs.download_query` checks. Any other part of the query is dropped.
DOWNLOAD_SETTINGS = ("object_type", "motion_type", "width", "file_size")
_POSITIVE_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?")


class JobRow(TypedDict):
    """
    One job on the page, and one item of ``GET /vimmerse/api/jobs``; every key is always present.

    ``status`` is the job's status as the task's result reports it (``success``...) or, while the task
    has no result (still waiting, or failed), the task instance's state (``deferred``, ``running``,
    ``failed``...). ``task_url`` is the task's page in the Airflow UI, a path on the Airflow server.
    ``web_url`` is the job's page in the Vimmerse web app. ``play_urls`` says where a browser plays each
    of ``video_urls`` (same order): the URL itself; for an output that only the Vimmerse API serves, the
    page's :data:`OUTPUT_ROUTE` (a path on the Airflow server); or empty, for an output on the API's
    origin that the proxy does not serve (not played). ``started_at`` is when the task stored the
    job's URL (ISO 8601). ``progress``, ``used_credits``, ``title``, ``mime_type`` and ``message`` are
    None when the result does not say, or when there is no result yet.
    """

    dag_id: str
    task_id: str
    run_id: str
    map_index: int
    started_at: str | None
    kind: str
    job_id: str
    title: str | None
    status: str
    task_state: str | None
    progress: int | None
    used_credits: int | float | None
    video_urls: list[str]
    play_urls: list[str]
    mime_type: str | None
    message: str | None
    web_url: str | None
    task_url: str


def build_row(
    *,
    dag_id: str,
    task_id: str,
    run_id: str,
    map_index: int,
    job_url: Any,
    result: Any,
    task_state: str | None,
    started_at: datetime | None,
    base_path: str = "",
    app_path: str = "",
    api_origin: Origin | None = None,
) -> JobRow:
    """
    Build the row of one task instance from what Airflow stores for it.

    :param dag_id: the task's DAG
    :param task_id: the task
    :param run_id: the task's DAG run
    :param map_index: the task's map index (-1 when not mapped)
    :param job_url: the task's ``vimmerse_job_url`` XCom (the job's web-app URL)
    :param result: the task's ``return_value`` XCom, None while it has none
    :param task_state: the task instance's state, None when it has none
    :param started_at: when the ``vimmerse_job_url`` XCom was written
    :param base_path: the path Airflow is served under (empty at the root), for ``task_url``
    :param app_path: the path the page's app is served under (``/vimmerse``), for ``play_urls``
    :param api_origin: the API origin of the connection the task used (its result's ``conn_id``), None
        when the page does not know that connection: its outputs are then played from their URLs
    """
    outcome: Mapping[str, Any] = result if isinstance(result, Mapping) else {}
    url_kind, url_job_id = parse_job_url(job_url)
    status = _text(outcome.get("status")) or task_state or UNKNOWN_STATUS
    credits = outcome.get("used_credits")
    progress = outcome.get("progress")
    video_urls = output_urls(outcome)
    return {
        "dag_id": dag_id,
        "task_id": task_id,
        "run_id": run_id,
        "map_index": map_index,
        "started_at": started_at.isoformat() if started_at else None,
        "kind": _text(outcome.get("kind")) or url_kind,
        "job_id": _text(outcome.get("id")) or url_job_id,
        "title": _text(outcome.get("title")) or None,
        "status": status,
        "task_state": task_state,
        "progress": progress if isinstance(progress, int) and not isinstance(progress, bool) else None,
        "used_credits": credits if isinstance(credits, (int, float)) and not isinstance(credits, bool) else None,
        "video_urls": video_urls,
        "play_urls": [
            play_url(
                url,
                output_route(dag_id, run_id, task_id, map_index, index, app_path=app_path),
                proxied=output_source(outcome, index) is not None,
                api_origin=api_origin,
            )
            for index, url in enumerate(video_urls)
        ],
        "mime_type": _text(outcome.get("mime_type")) or None,
        "message": _text(outcome.get("message")) or None,
        "web_url": http_url(outcome.get("web_url")) or http_url(job_url),
        "task_url": base_path.rstrip("/") + task_path(dag_id, run_id, task_id, map_index),
    }


def parse_job_url(url: Any) -> tuple[str, str]:
    """
    Return the kind and the id of a job from its web-app URL, or two empty strings when it is not one.

    The URL ends with a kind's ``web_path`` (``/media/{job_id}``...), whatever the web app's base URL.

    :param url: the value of a ``vimmerse_job_url`` XCom
    """
    if not isinstance(url, str):
        return "", ""
    segments = urlsplit(url).path.rstrip("/").split("/")
    if len(segments) < 2 or not segments[-1]:
        return "", ""
    for kind in JOB_KINDS.values():
        prefix = kind.web_path.split("{job_id}")[0].strip("/")
        if prefix == segments[-2]:
            return kind.name, unquote(segments[-1])
    return "", ""


def output_urls(result: Mapping[str, Any]) -> list[str]:
    """
    Return the playable outputs of a result: its ``video_urls``, else those of its media (batch, story).

    :param result: a task's ``return_value`` (empty when there is none)
    """
    urls = _http_urls(result.get("video_urls"))
    if urls:
        return urls
    medias = result.get("medias")
    member_urls = [
        url
        for media in (medias if isinstance(medias, list) else [])
        if isinstance(media, Mapping)
        for url in _http_urls(media.get("video_urls"))
    ]
    return list(dict.fromkeys(member_urls))


def http_url(value: Any) -> str | None:
    """
    Return ``value`` when it is an absolute ``http``/``https`` URL, else None.

    :param value: anything read from an XCom
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if any(ord(char) < 0x20 or char.isspace() for char in text):
        return None
    return text


def play_url(url: str, proxy_path: str, *, proxied: bool, api_origin: Origin | None) -> str:
    """
    Return where a browser plays an output: through the proxy, from its URL, or nowhere (an empty string).

    Only when the page knows the connection the task used (``api_origin``): an output the proxy serves
    plays at ``proxy_path``, another one on that API's origin is not played (it needs the key). Every
    other output plays from its URL.

    :param url: the output's URL (from a result's ``video_urls``)
    :param proxy_path: the output's :data:`OUTPUT_ROUTE` on the Airflow server
    :param proxied: whether the proxy serves the output (:func:`output_source` finds its source)
    :param api_origin: the API origin of the task's connection, None when the page does not know it
    """
    if api_origin is None:
        return url
    if proxied:
        return proxy_path
    return "" if origin(url) == api_origin else url


@dataclass(frozen=True)
class OutputSource:
    """
    What the proxy fetches for one output: a job's download route, on the API of the task's own connection.

    :param conn_id: the connection the task used (its result's ``conn_id``): the only one the proxy uses
    :param kind: the kind of the job that owns the output (the task's job, or a media of its batch or story)
    :param job_id: that job's id
    :param query: the output's download settings, checked; empty for the route's own default
    """

    conn_id: str
    kind: str
    job_id: str
    query: Mapping[str, str]

    def url(self, api_url: str) -> str:
        """
        Return the URL to fetch: the kind's download route for the job, below ``api_url``.

        :param api_url: the API base URL of the connection :attr:`conn_id`
        """
        kind = JOB_KINDS[self.kind]
        if self.query:
            return download_route_url(kind, self.job_id, api_url, self.query)
        return absolute_url(api_url, job_path(kind.download_path, self.job_id))


def output_source(result: Mapping[str, Any], index: int) -> OutputSource | None:
    """
    Return what the proxy fetches for output ``index`` of a result, or None when it serves that output not at all.

    Nothing of the output's URL is fetched as written: the URL only has to be the download route of the
    job that owns the output (:func:`output_urls` order: the result's own outputs, else its media's), for
    that job's id, on any host. Of its query only the :data:`DOWNLOAD_SETTINGS` are kept, checked again
    as the operators check them. None for a result that names no connection (results written before
    they did), an output of a kind without a download route, a URL that is not that job's route, or
    settings the API does not document.

    :param result: a task's ``return_value`` (empty when there is none)
    :param index: the output's position in :func:`output_urls`
    """
    conn_id = _text(result.get("conn_id"))
    urls = output_urls(result)
    if not conn_id or not 0 <= index < len(urls):
        return None
    url = urls[index]
    owner = _owner(result, url)
    kind = JOB_KINDS.get(owner[0]) if owner else None
    if owner is None or kind is None or not kind.download_path:
        return None
    job_id = owner[1]
    try:
        route = job_path(kind.download_path.split("?", 1)[0], job_id)
    except VimmerseInputError:
        return None
    parts = urlsplit(url)
    if parts.path != route:
        return None
    query = _download_settings(parts.query)
    return None if query is None else OutputSource(conn_id, kind.name, job_id, query)


def _owner(result: Mapping[str, Any], url: str) -> tuple[str, str] | None:
    """Return the kind and id of the job whose output ``url`` is: the result's own, or the first media listing it."""
    if _http_urls(result.get("video_urls")):
        return _text(result.get("kind")), _text(result.get("id"))
    medias = result.get("medias")
    for media in medias if isinstance(medias, list) else []:
        if isinstance(media, Mapping) and url in _http_urls(media.get("video_urls")):
            return "media", _text(media.get("id"))
    return None


def _download_settings(query: str) -> dict[str, str] | None:
    """Return the documented download settings of a URL's query, checked; None when one is given twice or is wrong."""
    given = {
        name: values for name, values in parse_qs(query, keep_blank_values=True).items() if name in DOWNLOAD_SETTINGS
    }
    if any(len(values) != 1 for values in given.values()):
        return None
    settings: dict[str, Any] = {name: values[0] for name, values in given.items()}
    for name, integer in (("width", True), ("file_size", False)):
        text = settings.get(name)
        if text is None:
            continue
        if not _POSITIVE_NUMBER.fullmatch(text) or (integer and "." in text):
            return None
        settings[name] = int(text) if "." not in text else float(text)
    try:
        return download_query(**settings)
    except VimmerseInputError:
        return None


def output_route(dag_id: str, run_id: str, task_id: str, map_index: int, index: int, *, app_path: str = "") -> str:
    """
    Return the path of the route that streams one output of a task (:data:`OUTPUT_ROUTE`, each id quoted).

    :param dag_id: the task's DAG
    :param run_id: the DAG run
    :param task_id: the task
    :param map_index: the map index; -1 for a task that is not mapped
    :param index: the output's position in the row's ``video_urls``
    :param app_path: the path the page's app is served under (``/vimmerse``)
    """
    route = OUTPUT_ROUTE.format(
        dag_id=_segment(dag_id), run_id=_segment(run_id), task_id=_segment(task_id), map_index=map_index, index=index
    )
    return app_path.rstrip("/") + route


def task_path(dag_id: str, run_id: str, task_id: str, map_index: int) -> str:
    """
    Return the path of a task instance's page in the Airflow 3 UI (each id quoted as one path segment).

    :param dag_id: the task's DAG
    :param run_id: the DAG run
    :param task_id: the task
    :param map_index: the map index; -1 for a task that is not mapped
    """
    path = f"/dags/{_segment(dag_id)}/runs/{_segment(run_id)}/tasks/{_segment(task_id)}"
    return f"{path}/mapped/{map_index}" if map_index >= 0 else path


def _segment(value: str) -> str:
    return quote(value, safe="")


def _http_urls(value: Any) -> list[str]:
    items = value if isinstance(value, list) else []
    return [url for url in (http_url(item) for item in items) if url]


def result_conn_id(result: Any) -> str:
    """
    Return the connection a task's result names (``conn_id``), or an empty string when it names none.

    :param result: a task's ``return_value``
    """
    return _text(result.get("conn_id")) if isinstance(result, Mapping) else ""


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
