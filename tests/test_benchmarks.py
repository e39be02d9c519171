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


def test_import_cost_reports_no_heavy_module_at_parse_time():
    figures = import_cost.main(["--runs", "1"])
    assert figures["hook_heavy_modules_imported"] == []
    assert figures["operators_heavy_modules_imported"] == []
