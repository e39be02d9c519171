"""``python -m benchmarks`` (``make bench``): run every benchmark at full size and save the figures."""

from __future__ import annotations

from benchmarks import import_cost, trigger_capacity

if __name__ == "__main__":
    import_cost.main(["--save"])
    trigger_capacity.main(["--jobs", "1000", "--job-seconds", "30", "--poll-interval", "1", "--save"])
    trigger_capacity.main(["--jobs", "50", "--job-seconds", "300", "--save", "--name", "requests_per_5min_job"])
