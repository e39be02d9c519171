"""
Daily content production: one video per product, a composed showcase, a story, all downloaded.

Every day this DAG:

1. reads the product list shipped beside it (``products.csv``: ``name``, ``image``, ``prompt``) and
   fills each prompt's placeholders (``{name}``, ``{date}``, ``{weekday}``, ``{month}``, ``{season}``)
   from the run's logical date;
2. makes one video per product from its image, with dynamic task mapping (one task per product);
3. makes a batch of all product images: one clip each, composed into one showcase video;
4. makes a story video from an idea of the day (``POST /story/idea-2-video``);
5. downloads every output into ``output/<date>/`` (``VIMMERSE_OUTPUT_DIR`` overrides ``output``);
6. writes ``summary.json`` next to the videos: each job's id, status, URLs, downloaded paths and the
   credits used where the API reports them (batches and stories do, single media do not).

Every generation waits in the triggerer (``deferrable=True``), so a long job holds no worker slot.

Pool: every task that starts a Vimmerse job runs in the pool ``vimmerse_jobs``. The API limits how many
jobs an account may run at once (it answers 429 beyond that) and every job spends credits, so the
pool caps how many are in flight, however many products the list grows to. Deferred tasks hold no
worker slot, so the pool must count them (``include_deferred``), or it would cap nothing while jobs
wait. Create it once per Airflow (the CLI is the same on Airflow 2.11 and 3)::

    airflow pools set vimmerse_jobs 3 "Vimmerse jobs in flight" --include-deferred

``airflow dags test`` does not apply pools, so it runs without it; a scheduler leaves the tasks
queued until it exists.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pendulum

from airflow_provider_vimmerse.operators.batch import VimmerseCreateBatchOperator
from airflow_provider_vimmerse.operators.download import VimmerseDownloadOperator
from airflow_provider_vimmerse.operators.media import VimmerseCreateMediaOperator
from airflow_provider_vimmerse.operators.story import VimmerseIdeaToVideoOperator

try:
    from airflow.sdk import DAG, task
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.decorators import task

HERE = Path(__file__).parent
PRODUCTS_FILE = HERE / "products.csv"
OUTPUT_DIR = os.environ.get("VIMMERSE_OUTPUT_DIR", "output")
DESTINATION = OUTPUT_DIR + "/{{ ds }}"
POOL = "vimmerse_jobs"
#: Season of each month (northern hemisphere), for the ``{season}`` placeholder.
SEASONS = ("winter", "winter", "spring", "spring", "spring", "summer", "summer", "summer", "autumn", "autumn",
           "autumn", "winter")  # fmt: skip


def render_prompt(template: str, name: str, day: pendulum.Date) -> str:
    """Fill a product prompt's placeholders from the product name and the run's logical date."""
    return template.format(
        name=name,
        date=day.isoformat(),
        weekday=day.format("dddd"),
        month=day.format("MMMM"),
        season=SEASONS[day.month - 1],
    )


with DAG(
    dag_id="vimmerse_content_production",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    schedule="@daily",
    catchup=False,
    max_active_runs=1,
    tags=["vimmerse", "example"],
    default_args={"deferrable": True, "retries": 1},
) as dag:

    @task
    def load_products(ds: str | None = None) -> list[dict[str, Any]]:
        """Read the product list and return one media request per product (prompt rendered for the day)."""
        import csv

        day = pendulum.parse(ds or pendulum.now("UTC").to_date_string()).date()
        with PRODUCTS_FILE.open(newline="", encoding="utf-8") as source:
            rows = [row for row in csv.DictReader(source) if row.get("name")]
        media = [
            {
                "title": f"{row['name']} ({day.isoformat()})",
                "prompt": render_prompt(row["prompt"], row["name"], day),
                "image_files": [str(HERE / row["image"])],
            }
            for row in rows
        ]
        return media

    @task
    def product_images(products: list[dict[str, Any]]) -> list[str]:
        """Return the image of every product, for the showcase batch."""
        return [image for product in products for image in product["image_files"]]

    products = load_products()

    # [START howto_vimmerse_mapped_media]
    product_videos = VimmerseCreateMediaOperator.partial(
        task_id="product_video", pool=POOL, aspect_ratio="1:1", duration=5
    ).expand_kwargs(products)
    # [END howto_vimmerse_mapped_media]

    # [START howto_vimmerse_batch]
    showcase = VimmerseCreateBatchOperator(
        task_id="showcase_batch",
        pool=POOL,
        image_files=product_images(products),
        prompt="Slow push-in on the product, clean studio light",
        title="Showcase {{ ds }}",
        aspect_ratio="1:1",
        sound_effects="No",
        fail_on_partial_failure=False,  # a showcase missing one product is still worth publishing
    )
    # [END howto_vimmerse_batch]

    # [START howto_vimmerse_idea_to_video]
    story = VimmerseIdeaToVideoOperator(
        task_id="daily_story",
        pool=POOL,
        idea="A short, warm story about a small shop opening its doors on {{ logical_date.strftime('%A') }}",
        title="Story of the day {{ ds }}",
        scene_count=3,
        aspect_ratio="9:16",
    )
    # [END howto_vimmerse_idea_to_video]

    @task
    def list_jobs(media: Any, batch: dict[str, Any], story: dict[str, Any]) -> list[dict[str, Any]]:
        """Return every finished job's result in one list: the product videos, the showcase, the story."""
        return [*list(media), batch, story]

    jobs = list_jobs(product_videos.output, showcase.output, story.output)

    # [START howto_vimmerse_mapped_download]
    download = VimmerseDownloadOperator.partial(task_id="download", destination=DESTINATION).expand(job=jobs)
    # [END howto_vimmerse_mapped_download]

    @task
    def write_summary(jobs: list[dict[str, Any]], paths: Any, folder: str, ds: str | None = None) -> str:
        """Write ``summary.json`` next to the videos: ids, statuses, URLs, paths, credits; return its path."""
        import json

        entries = []
        for job, job_paths in zip(jobs, paths, strict=True):
            entry = {
                key: job[key]
                for key in ("kind", "id", "title", "status", "web_url", "video_urls", "used_credits", "failed_media")
                if key in job
            }
            entry["paths"] = [str(p) for p in job_paths]
            entries.append(entry)
        reported = [e["used_credits"] for e in entries if isinstance(e.get("used_credits"), (int, float))]
        summary = {
            "date": ds,
            "jobs": entries,
            "files": sum(len(e["paths"]) for e in entries),
            "credits_used_reported": sum(reported),
            "credits_note": "batches and stories report used_credits; single media jobs do not",
        }
        if "://" in folder:  # VIMMERSE_OUTPUT_DIR may be object storage (s3://...), like the downloads
            from airflow.providers.common.compat.sdk import ObjectStoragePath

            target: Any = ObjectStoragePath(folder) / "summary.json"
        else:
            target = Path(folder) / "summary.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        print(f"Wrote {target}: {len(entries)} jobs, {summary['files']} files")
        return str(target)

    write_summary(jobs, download.output, folder=DESTINATION)
