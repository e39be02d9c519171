"""
TaskFlow: a product launch kit written as Python functions, with every guarantee of the operators.

1. ``brief`` (a plain ``@task``) turns the run's parameters into a brief: the product, who it is for,
   and the season of the day the run started;
2. ``teaser`` (``@task.vimmerse_media``) returns the media's fields built from the brief: a prompt,
   the product photo shipped beside this file, a narration. The task checks them before anything is
   sent, submits once, waits in the triggerer and returns the media's result;
3. ``story`` (``@task.vimmerse_story``) returns the idea of a short story from the brief (a str); the
   scene count and aspect ratio are decorator arguments;
4. ``download`` writes both videos into ``output/<day the run started>/`` (``VIMMERSE_OUTPUT_DIR``
   overrides ``output``);
5. ``report`` (a plain ``@task``) reads both results: what a person checks before publishing.

A bad field returned by a function (``aspect_ratio="2:1"``, a misspelt key) fails its task before
any request, naming the field and the allowed values. ``make demo DAG=vimmerse_taskflow`` runs it
against the local sandbox API.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import dag, task

from airflow_provider_vimmerse.operators.download import VimmerseDownloadOperator

ASSETS = Path(__file__).parent / "assets"
OUTPUT_DIR = os.environ.get("VIMMERSE_OUTPUT_DIR", "output")
#: Season of each month (northern hemisphere).
SEASONS = ("winter", "winter", "spring", "spring", "spring", "summer", "summer", "summer", "autumn", "autumn",
           "autumn", "winter")  # fmt: skip


@dag(
    dag_id="vimmerse_taskflow",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    schedule=None,
    catchup=False,
    tags=["vimmerse", "example"],
    default_args={"deferrable": True, "retries": 1},
    params={"product": "canvas tote", "audience": "city commuters"},
)
def vimmerse_taskflow() -> None:
    @task
    def brief(params: dict[str, Any] | None = None, dag_run: Any = None) -> dict[str, str]:
        """Return the brief the generations are written from."""
        params = params or {}
        started = dag_run.start_date if dag_run is not None else pendulum.now("UTC")
        return {
            "product": params["product"],
            "audience": params["audience"],
            "season": SEASONS[started.month - 1],
        }

    # [START howto_vimmerse_taskflow_media]
    @task.vimmerse_media(aspect_ratio="9:16")
    def teaser(brief: dict[str, str]) -> dict[str, Any]:
        """Return the teaser's fields: any field of VimmerseCreateMediaOperator, by its name."""
        return {
            "title": f"{brief['product'].title()}: teaser",
            "prompt": f"The {brief['product']} turns slowly on a sunlit table, {brief['season']} light",
            "image_files": [ASSETS / "product.png"],
            "audio_option": {
                "narrator": "Rachel",
                "narration": f"Made for {brief['audience']}.",
                "bg_music_prompt": "Warm, upbeat acoustic guitar",
            },
        }

    # [END howto_vimmerse_taskflow_media]

    # [START howto_vimmerse_taskflow_story]
    @task.vimmerse_story(scene_count=2, aspect_ratio="9:16")
    def story(brief: dict[str, str]) -> str:
        """Return the idea of the story (a str); the other fields are the decorator's."""
        return (
            f"A day in the life of the {brief['product']} with {brief['audience']}: "
            f"a {brief['season']} morning rush, a calm evening at home"
        )

    # [END howto_vimmerse_taskflow_story]

    # [START howto_vimmerse_taskflow_results]
    @task
    def report(teaser: dict[str, Any], story: dict[str, Any], paths: list[str]) -> dict[str, Any]:
        """Return what to check before publishing: each video's page, the story's scenes and credits, the files."""
        return {
            "teaser": teaser["web_url"],
            "story": story["web_url"],
            "scenes": len(story.get("storyboard", {}).get("scenes", [])),
            "story_credits": story.get("used_credits"),
            "files": paths,
        }

    the_brief = brief()
    videos = [teaser(the_brief), story(the_brief)]
    download = VimmerseDownloadOperator(
        task_id="download", job=videos, destination=OUTPUT_DIR + "/{{ dag_run.start_date | ds }}"
    )
    report(*videos, download.output)
    # [END howto_vimmerse_taskflow_results]


dag = vimmerse_taskflow()
