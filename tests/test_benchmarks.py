"""Small runs of the benchmark scripts, so they keep working. The figures themselves come from ``make bench``."""

from __future__ import annotations

from benchmarks import import_cost, trigger_capacity


def test_trigger_capacity_small_run_finishes_every_wait():
    figures = trigger_capacity.main(["--jobs", "40", "--job-seconds", "2", "--poll-interval", "0.5"])
    assert figures["events"] == {"success": 40}
    assert float(figures["polls_per_job"]) >= 2, "each wait polled until its job finished"
    for key in ("loop_lag_p99_ms", "memory_per_wait_kb", "cpu_seconds_per_1000_polls", "requests_per_job"):
        assert float(figures[key]) >= 0


def test_import_cost_reports_no_heavy_module_at_parse_time():
    figures = import_cost.main(["--runs", "1"])
    assert figures["hook_heavy_modules_imported"] == []
    assert figures["operators_heavy_modules_imported"] == []
