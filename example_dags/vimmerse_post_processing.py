"""
Post-processing: one generated video made ready for social media, with run parameters.

create a video -> enhance it (2x upscale and deep clean) -> add an AI sound effect -> crop it to a social
format -> download the result into ``output/<day the run started>/`` (``VIMMERSE_OUTPUT_DIR`` overrides ``output``).

The DAG has no schedule: trigger it by hand. Its ``params`` are what a run may change (the video's prompt,
the sound effect, the format to crop to); "Trigger DAG" in the Airflow UI shows them as a form, with these
defaults, and ``airflow dags trigger --conf '{"aspect_ratio": "1:1"}'`` sets them from the command line.
The tasks read them as ``{{ params.<name> }}`` in templated fields, checked when the task runs.

Each tool step takes the previous step's result as its ``video_url`` (an XCom: the first output video of
that task). The media's video is served by the API's download route, which needs the API key, so the
enhance step fetches it with the key and uploads it first.

Every wait happens in the triggerer (``deferrable=True``), so no worker slot is held while the API works.
"""

from __future__ import annotations

import os

import pendulum
from airflow.providers.common.compat.sdk import DAG, Param  # on Airflow 3 alone: from airflow.sdk import ...

from airflow_provider_vimmerse.operators.download import VimmerseDownloadOperator
from airflow_provider_vimmerse.operators.media import VimmerseCreateMediaOperator
from airflow_provider_vimmerse.operators.video import VimmerseVideoOperator

OUTPUT_DIR = os.environ.get("VIMMERSE_OUTPUT_DIR", "output")

with DAG(
    dag_id="vimmerse_post_processing",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    schedule=None,  # triggered by hand, so nothing to catch up
    doc_md=__doc__,
    tags=["vimmerse", "example"],
    default_args={"deferrable": True, "retries": 1},
    params={
        "prompt": Param(
            "Waves rolling onto an empty beach at dawn, soft pink light, slow push in",
            type="string",
            minLength=1,
            description="What the video shows",
        ),
        "sound": Param("Gentle waves, distant seagulls, a soft breeze", type="string", description="The sound effect"),
        "aspect_ratio": Param(
            "9:16", enum=["9:16", "1:1", "4:5"], description="The social format: story or reel, square, portrait"
        ),
    },
) as dag:
    # [START howto_vimmerse_video_chain]
    create_media = VimmerseCreateMediaOperator(
        task_id="create_media", title="Post-processing", prompt="{{ params.prompt }}", aspect_ratio="16:9", duration=5
    )

    # The tools, in order: each works on the video of the step before.
    video = create_media
    for task_id, tool, fields in [
        ("enhance", "enhance", {"enhance_mode": "2X&DeepClean"}),
        ("add_sound_effect", "sound-effect", {"prompt": "{{ params.sound }}"}),
        ("crop_for_social", "crop-to-aspect-ratio", {"aspect_ratio": "{{ params.aspect_ratio }}"}),
    ]:
        video = VimmerseVideoOperator(task_id=task_id, tool=tool, video_url=video.output, **fields)
    # [END howto_vimmerse_video_chain]

    download = VimmerseDownloadOperator(
        task_id="download",
        job=video.output,  # the last step's: the cropped video
        destination=OUTPUT_DIR + "/{{ dag_run.start_date | ds }}",
    )
