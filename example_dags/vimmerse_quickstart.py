"""
Quick start: three videos from the Vimmerse API, then download them.

* text to video, with narration and background music (``audio_option``);
* image to video, from a local image shipped beside this file;
* a transition between two images;
* download of every output into ``output/<day the run started>/`` (``VIMMERSE_OUTPUT_DIR`` overrides
  ``output``); not ``{{ ds }}``, which a manual Airflow 3 run without a logical date does not have.

Every generation waits in the triggerer (``deferrable=True``), so a ten-minute job holds no worker slot.
``make demo`` runs this DAG against the local sandbox API, or the real API when ``VIMMERSE_API_KEY`` is set.
"""

from __future__ import annotations

import os
from pathlib import Path

import pendulum

from airflow_provider_vimmerse.operators.download import VimmerseDownloadOperator
from airflow_provider_vimmerse.operators.media import VimmerseCreateMediaOperator

try:
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG

ASSETS = Path(__file__).parent / "assets"
OUTPUT_DIR = os.environ.get("VIMMERSE_OUTPUT_DIR", "output")

with DAG(
    dag_id="vimmerse_quickstart",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    schedule=None,
    catchup=False,
    tags=["vimmerse", "example"],
    default_args={"deferrable": True, "retries": 1},
) as dag:
    # [START howto_vimmerse_text_to_video]
    text_to_video = VimmerseCreateMediaOperator(
        task_id="text_to_video",
        title="Quick start: text to video",
        prompt="A paper boat sailing across a calm lake at sunrise, soft light, gentle ripples",
        aspect_ratio="16:9",
        duration=5,
        audio_option={
            "narrator": "Rachel",
            "narration": "Every journey starts with a single, quiet push.",
            "bg_music_prompt": "Calm acoustic guitar, warm and hopeful",
        },
    )
    # [END howto_vimmerse_text_to_video]

    # [START howto_vimmerse_image_to_video]
    image_to_video = VimmerseCreateMediaOperator(
        task_id="image_to_video",
        title="Quick start: image to video",
        image_files=[ASSETS / "product.png"],
        prompt="Slow orbit around the product on a studio table",
        camera_control="Orbit right",
        aspect_ratio="1:1",
    )
    # [END howto_vimmerse_image_to_video]

    transition = VimmerseCreateMediaOperator(
        task_id="transition",
        title="Quick start: two-image transition",
        image_files=[ASSETS / "product.png", ASSETS / "product_back.png"],
        motion_type="Auto",
    )

    # [START howto_vimmerse_download]
    download = VimmerseDownloadOperator(
        task_id="download",
        job=[text_to_video.output, image_to_video.output, transition.output],
        destination=OUTPUT_DIR + "/{{ dag_run.start_date | ds }}",
    )
    # [END howto_vimmerse_download]
