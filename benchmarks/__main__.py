"""``python -m benchmarks`` (``make bench``): run every benchmark at full size and save the figures."""

from __future__ import annotations

from benchmarks import download, import_cost, waiting_capacity, waiting_webhooks, worker_time

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
                "all" if jobs == 1000 else "both",  # all: with the bare-request floors (1,000 fit one loop)
            ]
        )
    waiting_capacity.main(
        ["--jobs", "50", "--job-seconds", "300", "--adaptive", "--https", "--save", "--name", "requests_per_5min_job"]
    )
    # webhook-woken waits and adaptive polling side by side in one run (docs/waiting.md)
    waiting_webhooks.main(["--jobs", "50", "--job-seconds", "300", "--https", "--save"])
    download.main(["--size-mb", "1024", "--https", "--save"])
    worker_time.main(["--jobs", "20", "--job-seconds", "120", "--save"])
