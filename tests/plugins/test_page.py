"""The HTML of the Vimmerse page, read back with an HTML parser (pure: no database, no server)."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import datetime, timezone

import pytest

from airflow_provider_vimmerse.plugins.jobs import build_row
from airflow_provider_vimmerse.plugins.page import CONTENT_SECURITY_POLICY, render_page, render_row, status_tone
from tests.plugins.html_rows import read_page

HOSTILE = '<script>alert(1)</script>"\' onmouseover="alert(2)" &amp; </td></tr><tr class="vimmerse-job">'


def make_row(task_id="make", *, result=None, task_state="success", map_index=-1, **fields):
    default_result = {
        "kind": "media",
        "id": f"id-{task_id}",
        "status": "success",
        "progress": 100,
        "video_urls": [f"https://cdn.example.test/{task_id}/1.mp4", f"https://cdn.example.test/{task_id}/2.mp4"],
        "web_url": f"https://app.example.test/media/id-{task_id}",
        "used_credits": 7,
    }
    row = build_row(
        dag_id="films",
        task_id=task_id,
        run_id="manual__2026-01-02T03:04:05+00:00",
        map_index=map_index,
        job_url=f"https://app.example.test/media/id-{task_id}",
        result=default_result if result is None else result,
        task_state=task_state,
        started_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
    )
    if "video_urls" in fields:
        fields.setdefault("play_urls", fields["video_urls"])
    row.update(fields)  # type: ignore[typeddict-item]
    return row


def test_each_job_is_one_row_with_its_values_videos_and_links():
    page = read_page(render_page([make_row("first"), make_row("second", map_index=2)], limit=50))
    assert [row.attrs["data-job-id"] for row in page.rows] == ["id-first", "id-second"], "in the order given"
    first, second = page.rows
    assert first.attrs["data-kind"] == "media" and first.attrs["data-status"] == "success"
    assert first.values["dag-id"] == "films"
    assert first.values["task-id"] == "first"
    assert first.values["run-id"] == "manual__2026-01-02T03:04:05+00:00"
    assert (first.values["kind"], first.values["status"]) == ("media", "success")
    assert (first.values["progress"], first.values["credits"]) == ("100%", "7")
    assert [video["src"] for video in first.videos] == [
        "https://cdn.example.test/first/1.mp4",
        "https://cdn.example.test/first/2.mp4",
    ]
    assert all("controls" in video and video["preload"] == "metadata" for video in first.videos)
    assert first.links["task-link"]["href"] == "/dags/films/runs/manual__2026-01-02T03%3A04%3A05%2B00%3A00/tasks/first"
    assert first.links["web-link"]["href"] == "https://app.example.test/media/id-first"
    assert first.links["web-link"]["rel"] == "noopener noreferrer"
    assert second.links["task-link"]["href"].endswith("/tasks/second/mapped/2")
    assert second.values["map-index"] == "[2]"


def test_the_contract_markup_is_there_literally():
    """The browser test and users' scripts look for these exact forms."""
    html = render_page([make_row("first")], limit=50)
    assert '<tr class="vimmerse-job" data-job-id="id-first" data-kind="media" data-status="success"' in html
    assert '<video controls preload="metadata" src="https://cdn.example.test/first/1.mp4">' in html


def test_unknown_values_show_a_dash():
    row = make_row(result={}, task_state="deferred")
    page = read_page(render_page([row], limit=50))
    values = page.rows[0].values
    assert (values["status"], values["progress"], values["credits"]) == ("deferred", "—", "—")
    assert page.rows[0].videos == []
    assert page.rows[0].links["web-link"]["href"] == "https://app.example.test/media/id-make", "known before the end"


@pytest.mark.parametrize("field", ["dag_id", "task_id", "run_id", "kind", "job_id", "status", "title", "message"])
def test_every_value_is_escaped(field):
    row = make_row(**{field: HOSTILE})
    page = read_page(render_page([row], limit=50))
    assert len(page.rows) == 1, "the value did not open a row of its own"
    assert len(page.scripts) == 1, "no script but the page's own"
    (parsed,) = page.rows
    attribute = {"job_id": "data-job-id", "kind": "data-kind", "status": "data-status"}.get(field)
    if attribute:
        assert parsed.attrs[attribute] == HOSTILE, "the attribute came back intact: it never broke out"
    shown = {"dag_id": "dag-id", "task_id": "task-id", "run_id": "run-id", "kind": "kind", "status": "status"}
    shown |= {"title": "title", "message": "message"}
    if field in shown:
        assert parsed.values[shown[field]] == HOSTILE
    assert not any(name.startswith("on") for name in parsed.attrs)


@pytest.mark.parametrize("bad", ["javascript:alert(1)", "data:text/html,<b>x</b>", "/relative.mp4", "vbscript:x"])
def test_a_url_that_is_not_http_never_reaches_src_or_href(bad):
    # Even a row built by hand (not through build_row) is checked again when rendered.
    row = make_row(video_urls=[bad, "https://cdn.example.test/ok.mp4"], web_url=bad)
    html = render_page([row], limit=50)
    (parsed,) = read_page(html).rows
    assert [video["src"] for video in parsed.videos] == ["https://cdn.example.test/ok.mp4"]
    assert "web-link" not in parsed.links
    assert bad not in html


@pytest.mark.parametrize("bad", ["javascript:alert(1)", "//evil.example.test/dags/x", "https://evil.example.test/"])
def test_the_task_link_is_only_ever_a_path_on_the_airflow_server(bad):
    (parsed,) = read_page(render_page([make_row(task_url=bad)], limit=50)).rows
    assert "task-link" not in parsed.links


def test_an_image_or_sound_asset_is_shown_with_the_right_player():
    image = make_row("still", mime_type="image/png", video_urls=["https://cdn.example.test/a"])
    sound = make_row("song", mime_type="audio/mpeg", video_urls=["https://cdn.example.test/b"])
    by_extension = make_row("guess", mime_type=None, video_urls=["https://cdn.example.test/c.PNG"])
    still, song, guess = read_page(render_page([image, sound, by_extension], limit=50)).rows
    assert (still.images, still.videos) == (["https://cdn.example.test/a"], [])
    assert (song.audios, song.videos) == (["https://cdn.example.test/b"], [])
    assert guess.images == ["https://cdn.example.test/c.PNG"]


def test_no_jobs_gives_a_helpful_sentence_and_no_table():
    page = read_page(render_page([], limit=50))
    assert page.rows == [] and "table" not in page.tags
    assert page.empty and "No Vimmerse jobs yet" in page.empty and "vimmerse_quickstart" in page.empty


def test_the_policy_allows_exactly_the_inline_style_and_script_and_nothing_from_elsewhere():
    page = read_page(render_page([make_row()], limit=50))
    assert len(page.styles) == 1 and len(page.scripts) == 1
    for kind, text in (("style", page.styles[0]), ("script", page.scripts[0])):
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert f"{kind}-src 'sha256-{digest}'" in CONTENT_SECURITY_POLICY, f"the browser would block the {kind}"
    assert "default-src 'none'" in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'self'" in CONTENT_SECURITY_POLICY
    html = render_page([make_row()], limit=50)
    assert not re.search(r"""(src|href)=["'](?!https?://|/dags/|\?|api/|costs")""", html), "no other asset is loaded"


def test_the_cost_view_policy_allows_its_style_and_form_and_no_script():
    from datetime import date

    from airflow_provider_vimmerse.plugins.costs import AccountUsage, CostRange, build_report
    from airflow_provider_vimmerse.plugins.page import COST_CONTENT_SECURITY_POLICY, render_costs_page

    report = build_report([], CostRange(date(2026, 3, 1), date(2026, 3, 2)), AccountUsage())
    page = read_page(render_costs_page(report, start="2026-03-01", end="2026-03-02", today=date(2026, 3, 2)))
    assert len(page.styles) == 1 and page.scripts == []
    digest = base64.b64encode(hashlib.sha256(page.styles[0].encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in COST_CONTENT_SECURITY_POLICY, "the browser would block the style"
    assert "script-src" not in COST_CONTENT_SECURITY_POLICY and "default-src 'none'" in COST_CONTENT_SECURITY_POLICY
    assert "form-action 'self'" in COST_CONTENT_SECURITY_POLICY, "the range form submits to the page itself"


@pytest.mark.parametrize(
    ("kind", "status", "task_state", "tone"),
    [
        ("media", "success", "success", "success"),
        ("media", "fail", "success", "failed"),
        ("asset", "queued", "deferred", "running"),
        ("media", "deferred", "deferred", "running"),
        ("media", "failed", "failed", "failed"),
        ("media", "upstream_failed", "upstream_failed", "failed"),
        ("media", "removed", "removed", "other"),
    ],
)
def test_the_status_colour_follows_the_job_or_the_task(kind, status, task_state, tone):
    row = make_row(kind=kind, status=status, task_state=task_state)
    assert status_tone(row) == tone
    (parsed,) = read_page(render_row(row)).rows
    assert parsed.attrs["data-tone"] == tone


@pytest.mark.parametrize("bad", ["//evil.example.test/x.mp4", "/\\evil.example.test/x.mp4", "javascript:alert(1)"])
def test_an_output_plays_from_a_path_on_the_airflow_server_but_never_from_another_host(bad):
    proxy = "/vimmerse/api/jobs/films/run/make/-1/outputs/0"
    row = make_row(video_urls=["https://api.example.test/a", "https://api.example.test/b"], play_urls=[proxy, bad])
    (parsed,) = read_page(render_page([row], limit=50)).rows
    assert [video["src"] for video in parsed.videos] == [proxy]
