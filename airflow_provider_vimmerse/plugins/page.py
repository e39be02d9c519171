"""
The HTML of the Vimmerse page: a table of recent jobs with their videos playable in place.

One ``<tr class="vimmerse-job" data-job-id="..." data-kind="..." data-status="...">`` per job, in the
order given (most recent first), also carrying ``data-tone`` (``success``, ``failed``, ``running`` or
``other``: how the status reads), ``data-task-state`` and ``data-map-index``. Inside a row, elements
with the classes ``dag-id``, ``task-id``, ``run-id``, ``kind``, ``status`` and ``credits`` hold exactly
that value, ``progress`` the percentage (``40%``), each ``—`` when unknown. Each output is a
``<video controls preload="metadata" src="...">`` (``<img>`` or ``<audio>`` for an asset that is an
image or a sound), its ``src`` the row's ``play_urls`` entry: the output's URL, or the page's proxy
route for an output only the Vimmerse API serves; ``a.task-link`` opens the task in the Airflow UI and
``a.web-link`` the job in the Vimmerse web app.

Everything is escaped; only ``http``/``https`` URLs and paths on the Airflow server (task links,
proxied outputs) reach ``src`` and ``href``. The stylesheet and the one small script are inline, so
the page needs nothing from the internet; :data:`CONTENT_SECURITY_POLICY` allows exactly them.

Inside the Airflow UI the page lives in a sandboxed iframe that may neither open tabs nor navigate the
whole window; the script therefore follows a link by clicking a copy of it in the parent document
(same origin) and leaves the link to the browser when there is no such parent.

Pure module: no Airflow imports.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from html import escape
from urllib.parse import urlsplit

from airflow_provider_vimmerse.api.jobs import JOB_KINDS
from airflow_provider_vimmerse.api.status import JobStatus
from airflow_provider_vimmerse.plugins.chart import cost_chart, dag_colours, number, swatch
from airflow_provider_vimmerse.plugins.costs import CostReport
from airflow_provider_vimmerse.plugins.jobs import JobRow, http_url

#: Shown in a cell whose value is unknown.
NONE = "—"
#: Task instance states that mean "not finished yet".
_WAITING_TASK_STATES = frozenset(
    {"running", "deferred", "queued", "scheduled", "up_for_retry", "up_for_reschedule", "restarting"}
)
_FAILED_TASK_STATES = frozenset({"failed", "upstream_failed"})
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif")
_AUDIO_SUFFIXES = (".mp3", ".wav", ".m4a", ".aac", ".ogg", ".flac")

STYLESHEET = """
:root { color-scheme: light dark; --fg: #1f2933; --muted: #616e7c; --bg: #ffffff; --line: #e4e7eb;
  --head: #f5f7fa; --accent: #5b3cc4; --ok: #1b7f4b; --ok-bg: #e3f6ec; --bad: #b42318; --bad-bg: #fdecea;
  --run: #175cd3; --run-bg: #e8f0fe; --other-bg: #eef0f3; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e4e7eb; --muted: #9aa5b1; --bg: #111418; --line: #2a3038; --head: #1a1f25; --accent: #b4a2fb;
    --ok: #6ee7a8; --ok-bg: #12321f; --bad: #fda29b; --bad-bg: #3a1613; --run: #93b8ff; --run-bg: #14264a;
    --other-bg: #22272e; }
}
* { box-sizing: border-box; }
body { margin: 0; padding: 16px 20px; color: var(--fg); background: var(--bg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 16px; margin-bottom: 12px; }
h1 { margin: 0; font-size: 18px; }
header p { flex: 1; margin: 0; color: var(--muted); }
a { color: var(--accent); }
.table-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 8px; }
table { width: 100%; border-collapse: collapse; }
th, td { padding: 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: var(--head); color: var(--muted); font-size: 12px; font-weight: 600; white-space: nowrap;
  text-transform: uppercase; letter-spacing: .03em; }
tr:last-child td { border-bottom: 0; }
.dag-id, .task-id { overflow-wrap: break-word; }
.run-id { display: inline-block; min-width: 17ch; word-break: break-all; }
time { display: inline-block; min-width: 12ch; }
.run-id, time { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
.map-index, .title, .message, .none { color: var(--muted); }
.title, .message { font-size: 12px; }
.status { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600;
  background: var(--other-bg); white-space: nowrap; }
[data-tone="success"] .status { background: var(--ok-bg); color: var(--ok); }
[data-tone="failed"] .status { background: var(--bad-bg); color: var(--bad); }
[data-tone="running"] .status { background: var(--run-bg); color: var(--run); }
progress { width: 48px; vertical-align: middle; accent-color: var(--accent); }
.outputs { display: flex; flex-wrap: wrap; gap: 8px; }
video, img { display: block; width: 180px; border-radius: 6px; background: #000; }
audio { width: 180px; }
.links a { display: block; white-space: nowrap; }
.empty { padding: 32px; border: 1px dashed var(--line); border-radius: 8px; color: var(--muted); text-align: center; }
"""

SCRIPT = """
document.addEventListener("click", function (event) {
  var link = event.target instanceof Element ? event.target.closest("a[target]") : null;
  if (!link || window.parent === window) { return; }
  try {
    var doc = window.parent.document;
    var copy = doc.createElement("a");
    copy.href = link.href;
    copy.target = link.target;
    copy.rel = link.rel;
    copy.hidden = true;
    doc.body.appendChild(copy);
    copy.click();
    copy.remove();
    event.preventDefault();
  } catch (error) {
    // The parent is on another origin: let the browser follow the link in this frame.
  }
});
"""


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


#: The page's Content-Security-Policy: its own inline style and script; media from the Airflow server
#: and http(s) URLs only.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        f"style-src '{_sha256(STYLESHEET)}'",
        f"script-src '{_sha256(SCRIPT)}'",
        "img-src 'self' http: https:",
        "media-src 'self' http: https:",
        "frame-ancestors 'self'",
        "base-uri 'none'",
        "form-action 'none'",
    ]
)

_COLUMNS = ("Started", "DAG", "Task", "Run", "Kind", "Status", "Progress", "Credits", "Outputs", "Links")


def render_page(rows: Sequence[JobRow], *, limit: int) -> str:
    """
    Return the whole HTML page for ``rows`` (most recent first), or its empty state when there are none.

    :param rows: the jobs to show, as :func:`~airflow_provider_vimmerse.plugins.query.read_job_rows` gives them
    :param limit: how many jobs were asked for (named in the summary line and the JSON link)
    """
    if rows:
        body = (
            '<div class="table-wrap"><table>'
            f"<thead><tr>{''.join(f'<th>{name}</th>' for name in _COLUMNS)}</tr></thead>"
            f"<tbody>{''.join(render_row(row) for row in rows)}</tbody>"
            "</table></div>"
        )
        count = f"{len(rows)} job" + ("" if len(rows) == 1 else "s")
        summary = f"{count}, newest first (at most {limit}), from the DAGs you can read."
    else:
        body = (
            '<p class="empty">No Vimmerse jobs yet. A task shows up here as soon as a Vimmerse operator or '
            "sensor has a job id; trigger the <code>vimmerse_quickstart</code> example DAG to see one. "
            "Only the DAGs you can read are listed.</p>"
        )
        summary = "Jobs started by Vimmerse tasks, read from what Airflow stores (XComs and task states)."
    links = (
        f'<a href="?limit={limit}">Refresh</a> · <a href="api/jobs?limit={limit}">JSON</a> · '
        '<a class="costs-link" href="costs">Costs</a>'
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Vimmerse jobs</title><style>{STYLESHEET}</style></head><body>"
        f"<header><h1>Vimmerse jobs</h1><p>{escape(summary)}</p><nav>{links}</nav></header>"
        f"{body}<script>{SCRIPT}</script></body></html>"
    )


def render_row(row: JobRow) -> str:
    """
    Return the ``<tr>`` of one job.

    :param row: the job
    """
    attributes = {
        "class": "vimmerse-job",
        "data-job-id": row["job_id"],
        "data-kind": row["kind"],
        "data-status": row["status"],
        "data-tone": status_tone(row),
        "data-task-state": row["task_state"] or "",
        "data-map-index": str(row["map_index"]),
    }
    opening = "<tr " + " ".join(f'{name}="{escape(value)}"' for name, value in attributes.items()) + ">"
    mapped = f' <span class="map-index">[{row["map_index"]}]</span>' if row["map_index"] >= 0 else ""
    title = f'<div class="title">{escape(row["title"])}</div>' if row["title"] else ""
    message = f'<div class="message">{escape(row["message"])}</div>' if row["message"] else ""
    cells = [
        _started(row["started_at"]),
        f'<span class="dag-id">{escape(row["dag_id"])}</span>',
        f'<span class="task-id">{escape(row["task_id"])}</span>{mapped}',
        f'<span class="run-id">{escape(row["run_id"])}</span>',
        f'<span class="kind">{escape(row["kind"] or NONE)}</span>{title}',
        f'<span class="status">{escape(row["status"])}</span>{message}',
        _progress(row["progress"]),
        f'<span class="credits">{_credits(row["used_credits"])}</span>',
        _outputs(row["video_urls"], row["play_urls"], row["mime_type"]),
        _links(row["task_url"], row["web_url"]),
    ]
    return opening + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def status_tone(row: JobRow) -> str:
    """
    Return how a row's status reads: ``success``, ``failed``, ``running`` or ``other``.

    A status the kind's table knows (:data:`~airflow_provider_vimmerse.api.jobs.JOB_KINDS`) is read with
    it; any other (a task instance state: the row has no result yet) with Airflow's meaning of it.

    :param row: the job
    """
    kind = JOB_KINDS.get(row["kind"])
    state = kind.state_of(row["status"]) if kind else None
    if state is not None:
        return {JobStatus.SUCCESS: "success", JobStatus.RUNNING: "running"}.get(state, "failed")
    if row["status"] == "success":
        return "success"
    if row["status"] in _FAILED_TASK_STATES:
        return "failed"
    if row["status"] in _WAITING_TASK_STATES:
        return "running"
    return "other"


def output_element(url: str, mime_type: str | None = None, play_url: str | None = None) -> str:
    """
    Return the element that plays one output in place: a ``<video>``, or ``<img>``/``<audio>`` for an image or a sound.

    :param url: the output's URL; anything but ``http``/``https`` gives an empty string
    :param mime_type: the output's MIME type when the result names it (assets)
    :param play_url: where the browser gets the output when not from ``url``: a path on the Airflow
        server (the page's proxy route) or another ``http``/``https`` URL
    """
    safe = http_url(url)
    played = safe if play_url is None else (server_path(play_url) or http_url(play_url))
    if safe is None or played is None:
        return ""
    source = escape(played)
    medium = (mime_type or "").split("/")[0]
    path = urlsplit(safe).path.lower()
    if medium == "image" or (not medium and path.endswith(_IMAGE_SUFFIXES)):
        return f'<a href="{source}" target="_blank" rel="noopener noreferrer"><img src="{source}" alt="output"></a>'
    if medium == "audio" or (not medium and path.endswith(_AUDIO_SUFFIXES)):
        return f'<audio controls preload="metadata" src="{source}"></audio>'
    return f'<video controls preload="metadata" src="{source}"></video>'


def _started(started_at: str | None) -> str:
    if not started_at:
        return f'<span class="none">{NONE}</span>'
    try:
        moment = datetime.fromisoformat(started_at)
    except ValueError:
        return f"<time>{escape(started_at)}</time>"
    shown = moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") if moment.tzinfo else started_at
    return f'<time datetime="{escape(started_at)}">{escape(shown)}</time>'


def _progress(progress: int | None) -> str:
    if progress is None:
        return f'<span class="progress none">{NONE}</span>'
    value = max(0, min(100, progress))
    return f'<progress max="100" value="{value}"></progress> <span class="progress">{progress}%</span>'


def _credits(credits: int | float | None) -> str:
    if credits is None:
        return NONE
    if isinstance(credits, float) and not credits.is_integer():
        return f"{credits:.2f}".rstrip("0")
    return str(int(credits))


def server_path(value: str | None) -> str | None:
    """
    Return ``value`` when it is an absolute path on this server (``/dags/...``), else None.

    Not ``//host`` nor ``/\\host`` (which browsers read as another host), and no control characters or spaces.

    :param value: a path from a row
    """
    if not value or not value.startswith("/") or value[1:2] in ("/", "\\"):
        return None
    if any(ord(char) < 0x20 or char.isspace() for char in value):
        return None
    return value


def _outputs(urls: Sequence[str], play_urls: Sequence[str], mime_type: str | None) -> str:
    pairs = zip(urls, play_urls, strict=True)
    elements = [element for element in (output_element(url, mime_type, play) for url, play in pairs) if element]
    if not elements:
        return f'<span class="none">{NONE}</span>'
    return f'<div class="outputs">{"".join(elements)}</div>'


def _links(task_url: str, web_url: str | None) -> str:
    links = []
    path = server_path(task_url)
    if path:
        href = escape(path)
        links.append(f'<a class="task-link" href="{href}" target="_top" title="The task in Airflow">Task</a>')
    safe = http_url(web_url)
    if safe:
        opening = f'<a class="web-link" href="{escape(safe)}" target="_blank" rel="noopener noreferrer"'
        links.append(f'{opening} title="The job in the Vimmerse web app">Vimmerse ↗</a>')
    return f'<div class="links">{"".join(links)}</div>'


# ---------------------------------------------------------------------- the cost view

COST_STYLESHEET = (
    STYLESHEET
    + """
header nav a + a { margin-left: 2px; }
form.range { display: flex; flex-wrap: wrap; align-items: end; gap: 8px 12px; margin: 0 0 12px; }
form.range label { display: flex; flex-direction: column; gap: 2px; color: var(--muted); font-size: 12px; }
form.range input, form.range button { font: inherit; padding: 4px 8px; border: 1px solid var(--line);
  border-radius: 6px; background: var(--bg); color: var(--fg); }
form.range button { background: var(--accent); border-color: var(--accent); color: #fff; cursor: pointer; }
.presets a { margin-right: 8px; }
.totals { display: flex; flex-wrap: wrap; gap: 8px 24px; margin: 0 0 8px; }
.totals strong { font-size: 20px; }
.chart-wrap { border: 1px solid var(--line); border-radius: 8px; padding: 8px; }
.cost-chart { display: block; max-width: 100%; height: auto; }
.cost-chart text { font: 12px system-ui, sans-serif; }
.cost-chart .axis { fill: var(--muted); }
.cost-chart .grid { stroke: var(--line); }
.cost-chart .baseline { stroke: var(--muted); }
.account-line { fill: none; stroke: var(--fg); stroke-width: 2.5; }
tr:last-child th { border-bottom: 0; }
tbody th { background: none; color: var(--fg); font-size: 14px; font-weight: 400; text-transform: none;
  letter-spacing: 0; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.account-point { fill: var(--bg); stroke: var(--fg); stroke-width: 2; }
ul.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; margin: 8px 0 0; padding: 0; list-style: none; }
ul.legend li { display: flex; align-items: center; gap: 6px; }
.swatch { flex: none; vertical-align: middle; }
.notes p { margin: 8px 0; padding: 8px 12px; border-radius: 6px; background: var(--other-bg); }
.notes p.error { background: var(--bad-bg); color: var(--bad); }
.cost-tables { display: flex; flex-wrap: wrap; gap: 16px; margin-top: 16px; }
.cost-tables .table-wrap { flex: 1 1 320px; }
caption { padding: 8px; text-align: left; font-weight: 600; }
td.figure, th.figure { text-align: right; font-variant-numeric: tabular-nums; }
"""
)

#: The cost view's Content-Security-Policy: its own inline style, no script, and its range form.
COST_CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        f"style-src '{_sha256(COST_STYLESHEET)}'",
        "img-src 'self'",
        "frame-ancestors 'self'",
        "base-uri 'none'",
        "form-action 'self'",
    ]
)

#: The ranges the view offers as links, in days.
PRESET_DAYS = (7, 30, 90)

_UNPRICED_NOTE = (
    "The API reports credits for batches and stories only: a single media's or an asset's result carries no "
    "figure, nor does a job still running or a failed task. Jobs without a figure: "
)


def render_costs_page(report: CostReport | None, *, start: str, end: str, today: date, error: str | None = None) -> str:
    """
    Return the cost view: the range form, the chart, its legend, and the tables under it.

    :param report: the figures (:func:`~airflow_provider_vimmerse.plugins.costs.build_report`); None with ``error``
    :param start: the first day shown in the form, ``YYYY-MM-DD`` (as asked, when it was not a day)
    :param end: the last day shown in the form
    :param today: today's date (UTC), for the preset ranges
    :param error: what is wrong with the range asked for (the page then shows the form and this only)
    """
    presets = " ".join(
        f'<a href="?start={(today - timedelta(days=days - 1)).isoformat()}&amp;end={today.isoformat()}">'
        f"Last {days} days</a>"
        for days in PRESET_DAYS
    )
    form = (
        '<form class="range" method="get">'
        f'<label>From <input type="date" name="start" value="{escape(start)}" required></label>'
        f'<label>To <input type="date" name="end" value="{escape(end)}" required></label>'
        f'<button type="submit">Show</button><span class="presets">{presets}</span></form>'
    )
    if report is None:
        body = f'<div class="notes"><p class="error" role="alert">{escape(error or "")}</p></div>'
        json_query = ""
    else:
        body = _cost_body(report)
        json_query = f"?start={report['start']}&amp;end={report['end']}"
    links = f'<a href="./">Jobs</a> · <a class="json-link" href="api/costs{json_query}">JSON</a>'
    summary = "Credits per day and per DAG, from the tasks' results and the account's usage statistics (UTC days)."
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Vimmerse costs</title><style>{COST_STYLESHEET}</style></head><body>"
        f"<header><h1>Vimmerse costs</h1><p>{escape(summary)}</p><nav>{links}</nav></header>"
        f"{form}{body}</body></html>"
    )


def _cost_body(report: CostReport) -> str:
    colours = dag_colours(report)
    account = report["account"]
    totals = [f'<span>Tasks\' results: <strong class="tasks-total">{number(report["total"])}</strong> credits</span>']
    if account["available"] and account["total"] is not None:
        totals.append(
            f'<span>Account (usage statistics): <strong class="account-total">{number(account["total"])}'
            "</strong> credits</span>"
        )
    legend = [
        f'<li data-dag="{escape(dag_id)}">{swatch(colour)}<span>{escape(dag_id)}</span></li>'
        for dag_id, colour in colours.items()
    ]
    if account["available"]:
        legend.append(
            f'<li class="account">{swatch("", line=True)}<span>Account, all jobs (usage statistics)</span></li>'
        )
    notes = []
    if account["note"]:
        notes.append(f'<p class="account-note">{escape(account["note"])}</p>')
    unpriced = [dag for dag in report["dags"] if dag["jobs_without_credits"]]
    if unpriced:
        listed = "; ".join(
            f"{dag['dag_id']}: {dag['jobs_without_credits']} of {dag['jobs']} "
            f"({', '.join(dag['kinds_without_credits']) or 'unknown kind'})"
            for dag in unpriced
        )
        notes.append(f'<p class="unpriced-note">{escape(_UNPRICED_NOTE + listed)}.</p>')
    if report["truncated"]:
        notes.append(
            '<p class="truncated-note">The range holds more jobs than the view reads: choose a shorter one.</p>'
        )
    return (
        f'<div class="totals">{"".join(totals)}</div>'
        f'<figure class="chart-wrap">{cost_chart(report, colours)}'
        f'<figcaption><ul class="legend">{"".join(legend)}</ul></figcaption></figure>'
        f'<div class="notes">{"".join(notes)}</div>'
        f'<div class="cost-tables">{_dag_table(report, colours)}{_day_table(report)}</div>'
    )


def _dag_table(report: CostReport, colours: dict[str, str]) -> str:
    rows = "".join(
        f'<tr class="cost-dag" data-dag="{escape(dag["dag_id"])}">'
        f"<td>{swatch(colours[dag['dag_id']]) if dag['dag_id'] in colours else ''} {escape(dag['dag_id'])}</td>"
        f'<td class="figure credits">{number(dag["credits"])}</td><td class="figure">{dag["jobs"]}</td>'
        f'<td class="figure">{dag["jobs_without_credits"]}</td></tr>'
        for dag in report["dags"]
    )
    if not rows:
        rows = '<tr><td colspan="4" class="none">No Vimmerse jobs in this range.</td></tr>'
    return (
        '<div class="table-wrap"><table class="cost-dags"><caption>Per DAG</caption>'
        '<thead><tr><th scope="col">DAG</th><th scope="col" class="figure">Credits</th>'
        '<th scope="col" class="figure">Jobs</th><th scope="col" class="figure">Without a figure</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
    )


def _day_table(report: CostReport) -> str:
    shown = [day for day in report["days"] if day["tasks"] or day["account"]]
    rows = "".join(
        f'<tr class="cost-day" data-date="{day["date"]}"><th scope="row">{day["date"]}</th>'
        f'<td class="figure tasks">{number(day["tasks"])}</td>'
        f'<td class="figure account">{NONE if day["account"] is None else number(day["account"])}</td></tr>'
        for day in shown
    )
    if not rows:
        rows = '<tr><td colspan="3" class="none">No credits on any day of this range.</td></tr>'
    return (
        '<div class="table-wrap"><table class="cost-days"><caption>Per day (days without credits left out)</caption>'
        '<thead><tr><th scope="col">Day</th><th scope="col" class="figure">Tasks\' results</th>'
        '<th scope="col" class="figure">Account</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
    )
