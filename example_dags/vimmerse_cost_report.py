"""
A daily cost report: the Vimmerse account's usage for the day each run covers, written as a CSV.

``VimmerseUsageStatisticsOperator`` reads ``GET /customer-statistics/{start}/{end}``; without ``start``
and ``end`` it takes the run's data interval (the day before the run when the interval has no length,
as with Airflow 3's cron schedules: the API has no figures for a day until it ends). The report goes to
``output/vimmerse-usage-<day>.csv`` (``VIMMERSE_OUTPUT_DIR`` overrides ``output``).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import pendulum

from airflow_provider_vimmerse.operators.statistics import VimmerseUsageStatisticsOperator

try:
    from airflow.sdk import DAG, task
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.decorators import task

OUTPUT_DIR = os.environ.get("VIMMERSE_OUTPUT_DIR", "output")

with DAG(
    dag_id="vimmerse_cost_report",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    schedule="@daily",
    catchup=False,
    tags=["vimmerse", "example"],
    default_args={"retries": 2},
) as dag:
    # [START howto_vimmerse_usage_statistics]
    usage = VimmerseUsageStatisticsOperator(task_id="usage")
    # [END howto_vimmerse_usage_statistics]

    @task
    def write_report(report: dict[str, Any]) -> str:
        """Write one CSV row per day plus a total row, and log the totals."""
        figures = sorted({name for row in report["days"] for name in row if name != "date"})
        path = Path(OUTPUT_DIR) / f"vimmerse-usage-{report['start']}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=["date", *figures], extrasaction="ignore")
            writer.writeheader()
            writer.writerows(report["days"])
            writer.writerow({"date": "total", **report["totals"]})
        print(f"Vimmerse usage {report['start']} to {report['end']}: {report['totals']} -> {path}")
        return str(path)

    write_report(usage.output)
