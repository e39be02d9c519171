"""
Usage statistics: the hook's call and the operator in a real Airflow, including its default range (the
run's data interval) in the daily cost-report example DAG.
"""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta, timezone

import pendulum
import pytest
from airflow import __version__ as airflow_version

from airflow_provider_vimmerse.api import media
from airflow_provider_vimmerse.exceptions import VimmerseInputError
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.operators.media import VimmerseCreateMediaOperator
from airflow_provider_vimmerse.operators.statistics import VimmerseUsageStatisticsOperator, as_day
from tests.dag_runs import _register, load_example_dag, new_dag, run_dag


def today() -> date:
    return datetime.now(timezone.utc).date()


def statistics_requests(sandbox) -> list[str]:
    return [e["path"] for e in sandbox.client.ledger(method="GET") if e["path"].startswith("/customer-statistics/")]


def test_the_hook_returns_one_row_per_day_with_todays_figures(vimmerse_sandbox):
    hook = VimmerseHook()
    hook.request(media.CREATE.request({"prompt": "a kite", "duration": 4}))

    rows = hook.get_customer_statistics(today() - timedelta(days=2), today().isoformat())

    assert [row["date"] for row in rows] == [(today() - timedelta(days=n)).isoformat() for n in (2, 1, 0)]
    assert rows[-1]["credits_used"] == 4 and rows[-1]["media_count"] == 1
    assert rows[0]["credits_used"] == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-31", date(2026, 1, 31)),
        ("2026-01-31T23:30:00+00:00", date(2026, 1, 31)),
        (pendulum.datetime(2026, 2, 1, 0, 30, tz="Europe/Paris"), date(2026, 1, 31)),
        (date(2026, 1, 31), date(2026, 1, 31)),
    ],
)
def test_a_day_is_read_from_text_dates_and_datetimes(value, expected):
    assert as_day("start", value) == expected


@pytest.mark.parametrize("value", ["yesterday", "2026-02-30", "31/01/2026", 20260131])
def test_anything_else_is_refused_naming_the_field(value):
    with pytest.raises(VimmerseInputError) as error:
        as_day("start", value)
    assert "'start'" in str(error.value) and "2026-01-31" in str(error.value)


def test_the_operator_returns_the_daily_figures_and_their_totals(vimmerse_sandbox, airflow_db, tmp_path):
    first = today() - timedelta(days=1)
    dag = new_dag("usage_statistics", tmp_path, retries=1)
    with dag:
        create = VimmerseCreateMediaOperator(task_id="create", prompt="a kite", duration=3, wait_for_completion=False)
        usage = VimmerseUsageStatisticsOperator(task_id="usage", start="{{ params.first }}", end=today())
        create >> usage
        VimmerseUsageStatisticsOperator(task_id="bad_start", start="{{ params.nonsense }}")
        VimmerseUsageStatisticsOperator(task_id="backwards", start=today(), end=first)
    dag.params.update({"first": first.isoformat(), "nonsense": "last week"})
    result = run_dag(dag, tmp_path, ["usage"])

    assert result.states == {"create": "success", "usage": "success", "bad_start": "failed", "backwards": "failed"}
    report = result.xcom("usage")
    assert (report["start"], report["end"]) == (first.isoformat(), today().isoformat())
    assert [row["date"] for row in report["days"]] == [first.isoformat(), today().isoformat()]
    assert report["totals"] == {"credits_used": 3, "media_count": 1, "batch_count": 0, "story_count": 0}
    [bad] = result.errors_of("bad_start")
    assert "'start'" in bad and "'last week'" in bad, "a bad date fails at once, before any request"
    [backwards] = result.errors_of("backwards")
    assert "'end'" in backwards and "before start" in backwards
    assert statistics_requests(vimmerse_sandbox) == [f"/customer-statistics/{first}/{today()}"]


# ---------------------------------------------------------------------- the daily cost-report example


def load_cost_report():
    return load_example_dag("vimmerse_cost_report")


def test_the_cost_report_covers_the_runs_data_interval_by_default(vimmerse_sandbox, airflow_db, tmp_path, monkeypatch):
    monkeypatch.setenv("VIMMERSE_OUTPUT_DIR", str(tmp_path))
    dag = load_cost_report()
    logical_date = pendulum.datetime(2026, 1, 5, tz="UTC")
    _register(dag)
    if airflow_version.startswith("3."):
        run = dag.test(logical_date=logical_date)
    else:
        run = dag.test(execution_date=logical_date)

    assert str(run.state).endswith("success")
    # Airflow 2's @daily gives the interval [Jan 4, Jan 5): the day it covers. Airflow 3's @daily gives the
    # point Jan 5 00:00: the last full day before it. Either way the report is about January 4.
    start, end = run.data_interval_start, run.data_interval_end
    assert (start < end) == airflow_version.startswith("2.")
    expected = date(2026, 1, 4)
    assert statistics_requests(vimmerse_sandbox) == [f"/customer-statistics/{expected}/{expected}"]
    with (tmp_path / f"vimmerse-usage-{expected}.csv").open() as report:
        rows = list(csv.DictReader(report))
    assert [row["date"] for row in rows] == [expected.isoformat(), "total"]
    assert rows[-1]["credits_used"] == "0"
