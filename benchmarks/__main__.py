"""``python -m benchmarks`` (``make bench``): run every benchmark at full size and save the figures."""

from __future__ import annotations

from benchmarks import download, import_cost, waiting_capacity, worker_time

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
        ["--jobs", "50", "--job-seconds", "300", "--adaptive", "--https", "--save", "--name", "requests_per_5min_job"]
    )
    download.main(["--size-mb", "1024", "--https", "--save"])
    worker_time.main(["--jobs", "20", "--job-seconds", "120", "--save"])
