"""
The cost view's figures and chart, from rows as the page reads them (pure: no Airflow, no server).

The chart is read back with an XML parser (it must be well-formed SVG), so a value that broke out of
its attribute, or a bar of the wrong height, fails here.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import pytest

from airflow_provider_vimmerse.exceptions import VimmerseInputError
from airflow_provider_vimmerse.plugins.chart import PALETTE, axis_ticks, cost_chart, dag_colours
from airflow_provider_vimmerse.plugins.costs import (
    MAX_DAYS,
    AccountUsage,
    CostRange,
    account_usage,
    build_report,
    cost_range,
)
from airflow_provider_vimmerse.plugins.page import render_costs_page

TODAY = date(2026, 3, 10)
SVG = "{http://www.w3.org/2000/svg}"


def row(dag_id: str, started_at: str, credits: float | None, kind: str = "batch") -> dict:
    return {"dag_id": dag_id, "started_at": started_at, "used_credits": credits, "kind": kind}


ROWS = [
    row("promo", "2026-03-01T23:59:00+00:00", 10),
    row("promo", "2026-03-02T00:30:00+01:00", 5),  # 2026-03-01 23:30 UTC: the day is UTC's
    row("nightly", "2026-03-02T08:00:00+00:00", 7.5, "story"),
    row("quick", "2026-03-02T09:00:00+00:00", None, "media"),
    row("quick", "2026-03-02T09:01:00+00:00", None, "asset"),
    row("promo", "2026-02-27T12:00:00+00:00", 99),  # before the range: not counted
]
SPAN = CostRange(date(2026, 3, 1), date(2026, 3, 3))


# ---------------------------------------------------------------------- the range


def test_the_default_range_is_the_last_cost_days_days_up_to_today():
    assert cost_range(None, None, today=TODAY, default_days=30) == CostRange(date(2026, 2, 9), TODAY)
    assert cost_range("", "", today=TODAY, default_days=1) == CostRange(TODAY, TODAY)
    assert cost_range(None, "2026-01-31", today=TODAY, default_days=7) == CostRange(
        date(2026, 1, 25), date(2026, 1, 31)
    )
    assert cost_range("2026-03-01", None, today=TODAY, default_days=7).days[-1] == TODAY


@pytest.mark.parametrize(
    ("start", "end", "field", "says"),
    [
        ("yesterday", None, "start", "must be a day such as '2026-01-31'"),
        ("2026-02-30", None, "start", "'2026-02-30'"),
        (None, "2026-3-1", "end", "must be a day"),
        ("2026-03-05", "2026-03-04", "end", "2026-03-04 is before start 2026-03-05"),
        ("2020-01-01", "2026-01-01", "end", f"at most {MAX_DAYS} days"),
    ],
)
def test_a_range_it_cannot_show_is_refused_naming_the_parameter(start, end, field, says):
    with pytest.raises(VimmerseInputError) as caught:
        cost_range(start, end, today=TODAY, default_days=30)
    assert caught.value.field == field
    assert says in str(caught.value)


def test_the_longest_range_is_accepted():
    span = cost_range("2025-03-10", "2026-03-10", today=TODAY, default_days=30)
    assert len(span.days) == MAX_DAYS


# ---------------------------------------------------------------------- the figures


def test_credits_add_up_per_utc_day_and_per_dag_and_jobs_without_a_figure_are_counted_not_priced():
    report = build_report(ROWS, SPAN, AccountUsage({"2026-03-01": 20, "2026-03-02": 9}))
    days = {day["date"]: day for day in report["days"]}
    assert list(days) == ["2026-03-01", "2026-03-02", "2026-03-03"]
    assert days["2026-03-01"]["by_dag"] == {"promo": 15} and days["2026-03-01"]["tasks"] == 15
    assert days["2026-03-02"]["by_dag"] == {"nightly": 7.5}
    assert days["2026-03-03"] == {"date": "2026-03-03", "by_dag": {}, "tasks": 0, "account": 0}
    assert [dag["dag_id"] for dag in report["dags"]] == ["promo", "nightly", "quick"], "most credits first"
    quick = report["dags"][2]
    assert (quick["credits"], quick["jobs"], quick["jobs_without_credits"]) == (0, 2, 2)
    assert quick["kinds_without_credits"] == ["asset", "media"]
    assert report["total"] == 22.5
    assert report["account"] == {"available": True, "total": 29, "note": None}


def test_without_the_account_statistics_the_days_say_unknown_not_zero():
    report = build_report(ROWS, SPAN, AccountUsage(note="No connection"))
    assert {day["account"] for day in report["days"]} == {None}
    assert report["account"] == {"available": False, "total": None, "note": "No connection"}


def test_the_statistics_credit_figure_is_found_by_name_or_the_note_says_there_is_none():
    usage = account_usage([{"date": "2026-03-01", "credits_used": 4, "media_count": 2}, {"date": "2026-03-02"}])
    assert usage.available and dict(usage.credits) == {"2026-03-01": 4}
    assert dict(account_usage([{"date": "2026-03-01T00:00:00", "credits": 3}]).credits) == {"2026-03-01": 3}
    missing = account_usage([{"date": "2026-03-01", "media_count": 2}])
    assert not missing.available and "credits_used" in (missing.note or "")
    assert account_usage([]).available, "no days is no credits, not an error"


# ---------------------------------------------------------------------- the chart


def chart_of(report) -> ET.Element:
    return ET.fromstring(cost_chart(report, dag_colours(report)))


def test_each_dag_is_a_bar_segment_of_its_colour_and_height_and_the_account_a_marker():
    report = build_report(ROWS, SPAN, AccountUsage({"2026-03-01": 20, "2026-03-02": 9}))
    svg = chart_of(report)
    assert svg.get("role") == "img" and svg.find(f"{SVG}title").text == "Credits per day and per DAG"
    bars = {(bar.get("data-dag"), bar.get("data-date")): bar for bar in svg.iter(f"{SVG}rect")}
    assert set(bars) == {("promo", "2026-03-01"), ("nightly", "2026-03-02")}, "no bar for a DAG without credits"
    assert dag_colours(report) == {"promo": PALETTE[0], "nightly": PALETTE[1]}
    assert bars["promo", "2026-03-01"].get("fill") == PALETTE[0]
    promo, nightly = (float(bars[key].get("height")) for key in (("promo", "2026-03-01"), ("nightly", "2026-03-02")))
    assert promo / nightly == pytest.approx(15 / 7.5, rel=0.02), "heights are proportional to the credits"
    assert "promo, 2026-03-01: 15 credits" in bars["promo", "2026-03-01"].find(f"{SVG}title").text
    marks = {mark.get("data-date"): mark.get("data-credits") for mark in svg.iter(f"{SVG}g")}
    assert marks == {"2026-03-01": "20", "2026-03-02": "9"}
    labels = [text.text for text in svg.iter(f"{SVG}text")]
    assert "Mar 1" in labels and "credits" in labels


def test_an_empty_range_draws_axes_and_says_so():
    report = build_report([], SPAN, AccountUsage())
    svg = chart_of(report)
    assert not list(svg.iter(f"{SVG}rect"))
    assert "No credits in this range" in [text.text for text in svg.iter(f"{SVG}text")]


def test_dag_ids_are_escaped_in_the_chart_and_the_page():
    hostile = 'x"><script>alert(1)</script>'
    report = build_report([row(hostile, "2026-03-01T10:00:00+00:00", 3)], SPAN, AccountUsage())
    (bar,) = chart_of(report).iter(f"{SVG}rect")
    assert bar.get("data-dag") == hostile
    html = render_costs_page(report, start=report["start"], end=report["end"], today=TODAY)
    assert "<script>" not in html


@pytest.mark.parametrize(("highest", "ticks"), [(0, [0, 1]), (3, [0, 1, 2, 3]), (37, [0, 10, 20, 30, 40]), (0.4, None)])
def test_the_axis_has_round_steps_reaching_the_highest_value(highest, ticks):
    found = axis_ticks(highest)
    assert found[0] == 0 and found[-1] >= highest
    if ticks is not None:
        assert found == ticks
