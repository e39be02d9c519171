"""
Post-processing: one generated video made ready for social media.

create a video -> enhance it (2x upscale and deep clean) -> add an AI sound effect -> crop it to 9:16
-> download the result into ``output/<day the run started>/`` (``VIMMERSE_OUTPUT_DIR`` overrides ``output``).

Each step hands its result to the next as XCom: ``video_url=enhance.output`` stands for the first
output video of the ``enhance`` task. The media's video is served by the API's download route,
which needs the API key, so the enhance step fetches it with the key and uploads it first.

Every wait happens in the triggerer (``deferrable=True``), so no worker slot is held while the API works.
"""

from __future__ import annotations

import os

import pendulum

from airflow_provider_vimmerse.operators.download import VimmerseDownloadOperator
from airflow_provider_vimmerse.operators.media import VimmerseCreateMediaOperator
from airflow_provider_vimmerse.operators.video import VimmerseVideoOperator

try:
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG

OUTPUT_DIR = os.environ.get("VIMMERSE_OUTPUT_DIR", "output")

with DAG(
    dag_id="vimmerse_post_processing",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    schedule=None,
    catchup=False,
    tags=["vimmerse", "example"],
    default_args={"deferrable": True, "retries": 1},
) as dag:
    # [START howto_vimmerse_video_chain]
    create_media = VimmerseCreateMediaOperator(
        task_id="create_media",
        title="Post-processing: a beach at dawn",
        prompt="Waves rolling onto an empty beach at dawn, soft pink light, slow push in",
        aspect_ratio="16:9",
        duration=5,
    )

    # [START howto_vimmerse_video_tool]
    enhance = VimmerseVideoOperator(
        task_id="enhance",
        tool="enhance",
        video_url=create_media.output,
        enhance_mode="2X&DeepClean",
    )
    # [END howto_vimmerse_video_tool]

    sound_effect = VimmerseVideoOperator(
        task_id="add_sound_effect",
        tool="sound-effect",
        video_url=enhance.output,
        prompt="Gentle waves, distant seagulls, a soft breeze",
    )

    crop_for_social = VimmerseVideoOperator(
        task_id="crop_for_social",
        tool="crop-to-aspect-ratio",
        video_url=sound_effect.output,
        aspect_ratio="9:16",
    )
    # [END howto_vimmerse_video_chain]

    download = VimmerseDownloadOperator(
        task_id="download",
        job=crop_for_social.output,
        destination=OUTPUT_DIR + "/{{ dag_run.start_date | ds }}",
    )

    create_media >> enhance >> sound_effect >> crop_for_social >> download
