"""Small runs of the benchmark scripts, so they keep working. The figures themselves come from ``make bench``."""

from __future__ import annotations

import json
import subprocess
import sys

from benchmarks import import_cost
from tests.conftest import REPO


def test_waiting_capacity_small_run_over_https_finishes_every_wait_of_both_triggers(tmp_path):
    # A fresh interpreter: the run trusts its own self-signed certificate before aiohttp is imported.
    out = tmp_path / "figures.json"
    command = [sys.executable, "-m", "benchmarks.waiting_capacity", "--jobs", "30", "--job-seconds", "2",
               "--poll-interval", "0.5", "--https", "--variant", "both", "--json", str(out)]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert figures["vimmerse"]["events"] == {"success": 30}
    assert figures["http"]["events"] == {"True": 30}
    for variant in ("vimmerse", "http"):
        assert figures[variant]["transport"] == "https"
        assert figures[variant]["polls_per_job"] >= 2, "each wait polled until its job finished"
    assert figures["comparison"]["cpu_per_poll_ratio_ours_to_http"] > 0


def test_waiting_capacity_reports_the_poll_rate_asked_and_the_budget(tmp_path):
    out = tmp_path / "figures.json"
    command = [sys.executable, "-m", "benchmarks.waiting_capacity", "--jobs", "20", "--job-seconds", "2",
               "--poll-interval", "0.5", "--variant", "vimmerse", "--json", str(out)]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert figures["events"] == {"success": 20}
    assert figures["polls_asked_per_second"] == 40, "20 waits polling every 0.5 s ask for 40 polls a second"
    assert figures["poll_budget_per_second"] > 0 and figures["idle_loop_lag_p99_ms"] >= 0


def test_waiting_capacity_measures_the_trigger_against_bare_requests_in_the_same_run(tmp_path):
    out = tmp_path / "figures.json"
    command = [sys.executable, "-m", "benchmarks.waiting_capacity", "--jobs", "20", "--job-seconds", "2",
               "--poll-interval", "0.5", "--https", "--variant", "vimmerse-floor", "--json", str(out)]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(out.read_text())
    for variant in ("vimmerse", "floor", "floor-lockstep"):
        assert figures[variant]["events"] == {"success": 20}, variant
        assert figures[variant]["polls_per_job"] >= 2, f"{variant}: each wait polled until its job finished"
    assert figures["comparison"]["cpu_per_poll_ratio_ours_to_floor"] > 0
    assert figures["comparison"]["cpu_per_poll_ratio_ours_to_floor_lockstep"] > 0
    assert "cpu_per_poll_ratio_ours_to_http" not in figures["comparison"], "no http variant in this run"


def test_download_small_run_over_https_writes_whole_files_with_both_clients(tmp_path):
    out = tmp_path / "figures.json"
    command = [sys.executable, "-m", "benchmarks.download", "--size-mb", "4", "--rounds", "1", "--https",
               "--json", str(out)]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert figures["bytes_written"] == 4 * 1024 * 1024
    assert len(figures["hook_runs_mib_per_second"]) == 1 and figures["hook_mib_per_second"] > 0
    assert figures["memory_growth_mib"] < 32


def test_import_cost_reports_no_heavy_module_at_parse_time():
    figures = import_cost.main(["--runs", "1"])
    assert figures["hook_heavy_modules_imported"] == []
    assert figures["operators_heavy_modules_imported"] == []


def test_waiting_webhooks_small_run_wakes_every_webhook_wait_with_fewer_polls(tmp_path):
    out = tmp_path / "figures.json"
    command = [sys.executable, "-m", "benchmarks.waiting_webhooks", "--jobs", "5", "--job-seconds", "3",
               "--check-interval", "0.5", "--https", "--json", str(out)]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert figures["polling"]["events"] == {"success": 5} and figures["webhooks"]["events"] == {"success": 5}
    assert figures["webhooks"]["deliveries"] == 5 and figures["webhooks"]["refused_deliveries"] == 0
    assert figures["webhooks"]["status_polls_per_job"] == 1, "one status request confirms each delivery"
    assert figures["webhooks"]["hint_reads_per_wait_per_minute"] > 0
