"""``python -m benchmarks`` (``make bench``): run every benchmark at full size and save the figures."""

from __future__ import annotations

from benchmarks import import_cost, waiting_capacity

if __name__ == "__main__":
    import_cost.main(["--save"])
    for jobs in (1000, 5000):
        waiting_capacity.main(
            [
                "--jobs",
                str(jobs),
                "--job-seconds",
                "30",
                "--poll-interval",
                "1",
                "--https",
                "--save",
                "--variant",
                "both",
            ]
        )
    waiting_capacity.main(
        ["--jobs", "50", "--job-seconds", "300", "--variant", "vimmerse", "--https", "--save", "--name",
         "requests_per_5min_job"]
    )  # fmt: skip
