"""
Daily content production: one video per product, a composed showcase, stories, all downloaded.

Every day this DAG:

1. reads the product list shipped beside it (``products.csv``: ``name``, ``image``, ``prompt``,
   ``page``, ``photos``) and fills each prompt's placeholders (``{name}``, ``{date}``, ``{weekday}``,
   ``{month}``, ``{season}``) from the run's logical date;
2. makes one video per product from its image, with dynamic task mapping (one task per product);
3. makes a batch of all product images: one clip each, composed into one showcase video;
4. makes a story video from an idea of the day (``POST /story/idea-2-video``);
5. makes a story video per product page (``POST /story/url-2-video``: the API reads the page), then
   publishes it (``PUT /story/{id}``: its public title, visible to everyone);
6. makes a story video per product photo set (``POST /story/images-2-video``: one scene per photo);
7. downloads every output into ``output/<date>/`` (``VIMMERSE_OUTPUT_DIR`` overrides ``output``), in one
   task whose event on the videos asset (``vimmerse_assets.VIDEOS``) lists every job and file: it
   starts ``vimmerse_publish``;
8. writes ``summary.json`` next to the videos: each job's id, status, URLs, downloaded paths and the
   credits used where the API reports them (batches and stories do, single media do not).

The ``page`` and ``photos`` of ``products.csv`` are public URLs the API fetches (``photos``: several,
separated by spaces); the shipped ones are placeholders to replace with your shop's. The ``products``
parameter (a number, when triggering by hand) makes only the first products of the list, for a trial run.

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
from vimmerse_assets import VIDEOS  # example_dags/ is on the DAG files' import path, as in any DAGs folder

from airflow_provider_vimmerse.operators.batch import VimmerseCreateBatchOperator
from airflow_provider_vimmerse.operators.download import VimmerseDownloadOperator
from airflow_provider_vimmerse.operators.media import VimmerseCreateMediaOperator
from airflow_provider_vimmerse.operators.story import (
    VimmerseIdeaToVideoOperator,
    VimmerseImagesToVideoOperator,
    VimmerseUpdateStoryOperator,
    VimmerseUrlToVideoOperator,
)

try:
    from airflow.sdk import DAG, Param, task
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.decorators import task
    from airflow.models.param import Param

HERE = Path(__file__).parent
PRODUCTS_FILE = HERE / "products.csv"
OUTPUT_DIR = os.environ.get("VIMMERSE_OUTPUT_DIR", "output")
DESTINATION = OUTPUT_DIR + "/{{ ds }}"
POOL = "vimmerse_jobs"
#: Title prefix of a product-page story until the publish step gives it its public title.
DRAFT = "Draft: "
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


def read_products(ds: str | None, params: dict[str, Any] | None = None) -> tuple[pendulum.Date, list[dict[str, str]]]:
    """Return the run's logical date and the rows of the product list (the first ``products`` when set)."""
    import csv

    day = pendulum.parse(ds or pendulum.now("UTC").to_date_string()).date()
    with PRODUCTS_FILE.open(newline="", encoding="utf-8") as source:
        rows = [row for row in csv.DictReader(source) if row.get("name")]
    limit = (params or {}).get("products")
    return day, rows[:limit] if limit else rows


with DAG(
    dag_id="vimmerse_content_production",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    schedule="@daily",
    catchup=False,
    max_active_runs=1,
    tags=["vimmerse", "example"],
    default_args={"deferrable": True, "retries": 1},
    params={
        "products": Param(
            None, type=["null", "integer"], minimum=1, description="make only the first products (default: all)"
        )
    },
) as dag:

    @task
    def load_products(ds: str | None = None, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Read the product list and return one media request per product (prompt rendered for the day)."""
        day, rows = read_products(ds, params)
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

    @task
    def product_pages(ds: str | None = None, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Return one url-2-video request per product page: its URL, then what to make of it."""
        day, rows = read_products(ds, params)
        return [
            {
                "idea": f"{row['page']} A lively {SEASONS[day.month - 1]} ad for the {row['name']}, "
                "true to the product's look on the page",
                "title": f"{DRAFT}{row['name']} ({day.isoformat()})",
            }
            for row in rows
        ]

    @task
    def product_photos(ds: str | None = None, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Return one images-2-video request per product photo set (one scene per photo)."""
        day, rows = read_products(ds, params)
        return [
            {
                "image_urls": row["photos"].split(),
                "idea": render_prompt(row["prompt"], row["name"], day),
                "title": f"{row['name']} in photos ({day.isoformat()})",
            }
            for row in rows
        ]

    @task
    def publish_requests(stories: Any) -> list[dict[str, Any]]:
        """Return one publish request per product-page story: its public title, visible to everyone."""
        return [
            {"story_id": story["id"], "title": story["title"].removeprefix(DRAFT), "visibility_status": "2"}
            for story in stories
        ]

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

    # [START howto_vimmerse_url_to_video]
    page_videos = VimmerseUrlToVideoOperator.partial(
        task_id="product_page_video", pool=POOL, scene_count=3, aspect_ratio="9:16"
    ).expand_kwargs(product_pages())
    # [END howto_vimmerse_url_to_video]

    # [START howto_vimmerse_update_story]
    published = VimmerseUpdateStoryOperator.partial(task_id="publish_page_video").expand_kwargs(
        publish_requests(page_videos.output)
    )
    # [END howto_vimmerse_update_story]

    # [START howto_vimmerse_images_to_video]
    photo_videos = VimmerseImagesToVideoOperator.partial(
        task_id="product_photos_video", pool=POOL, aspect_ratio="1:1", scene_duration=5
    ).expand_kwargs(product_photos())
    # [END howto_vimmerse_images_to_video]

    @task
    def list_jobs(
        media: Any, batch: dict[str, Any], story: dict[str, Any], pages: Any, photos: Any
    ) -> list[dict[str, Any]]:
        """Return every finished job's result in one list: product videos, showcase, story, product stories."""
        return [*list(media), batch, story, *list(pages), *list(photos)]

    jobs = list_jobs(product_videos.output, showcase.output, story.output, published.output, photo_videos.output)

    # [START howto_vimmerse_download_all]
    # One task for every job, so the videos asset gets one event per day, listing each job and its files:
    # Airflow starts a run of vimmerse_publish from the events queued when its scheduler looks, and the
    # last of many events arriving together could wait for the next day's run.
    download = VimmerseDownloadOperator(task_id="download", job=jobs, destination=DESTINATION, outlets=[VIDEOS])
    # [END howto_vimmerse_download_all]

    @task
    def write_summary(jobs: list[dict[str, Any]], paths: list[str], folder: str, ds: str | None = None) -> str:
        """Write ``summary.json`` next to the videos: ids, statuses, URLs, paths, credits; return its path."""
        import json

        entries = []
        written = iter(paths)  # the download returns each job's files in turn, one per output URL
        for job in jobs:
            job_paths = [next(written) for _ in job["video_urls"]]
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
