"""
Image steps before a video: a product photo on a new background, restyled, animated, with music.

put the product photo (``assets/product.png``, shipped beside this file) on a new background ->
restyle it -> animate the picture into a short video -> write background music from a text ->
lay the music under the video -> download the result into ``output/<day the run started>/``
(``VIMMERSE_OUTPUT_DIR`` overrides ``output``).

The DAG has no schedule: trigger it by hand. Its ``params`` are what a run may change (the background
image, the style, the effect, the music); "Trigger DAG" in the Airflow UI shows them as a form. The
shipped ``background_url`` is a placeholder: replace it with a public image of yours.

The image and audio tools answer with their finished output at once (``async_mode`` is not set, and
``POST /audio/text-2-music`` has no such field), so those tasks return without waiting; the video
steps wait in the triggerer (``deferrable=True``). Each step takes an earlier step's result (its first
output URL) as its input.
"""

from __future__ import annotations

import os
from pathlib import Path

import pendulum
from airflow.providers.common.compat.sdk import DAG, Param  # on Airflow 3 alone: from airflow.sdk import ...

from airflow_provider_vimmerse.operators.download import VimmerseDownloadOperator
from airflow_provider_vimmerse.operators.tools import VimmerseToolOperator
from airflow_provider_vimmerse.operators.video import VimmerseVideoOperator

PRODUCT_PHOTO = str(Path(__file__).parent / "assets" / "product.png")
OUTPUT_DIR = os.environ.get("VIMMERSE_OUTPUT_DIR", "output")

with DAG(
    dag_id="vimmerse_image_steps",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    doc_md=__doc__,
    tags=["vimmerse", "example"],
    default_args={"retries": 1},
    params={
        "background_url": Param(
            "https://images.example.com/backgrounds/marble-kitchen.jpg",
            type="string",
            pattern="^https?://",
            description="A public image of the new background",
        ),
        "style": Param(
            "realistic_style",
            enum=["realistic_style", "3d", "animated_movie", "ink_style"],
            description="The look of the picture",
        ),
        "music": Param(
            "Warm lo-fi beat with soft piano and vinyl crackle, relaxed and cheerful",
            type="string",
            minLength=1,
            description="The background music: genre, mood, instruments, tempo",
        ),
    },
) as dag:
    # [START howto_vimmerse_image_steps]
    # The local photo goes in the request as the image_file part; the background URL as image2_url.
    on_background = VimmerseToolOperator(
        task_id="product_on_background",
        tool="image/replace-background",
        option="ReplaceBackground",
        image_url=PRODUCT_PHOTO,
        image2_url="{{ params.background_url }}",
    )
    restyled = VimmerseToolOperator(
        task_id="restyle", tool="image/restyle", image_url=on_background.output, style="{{ params.style }}"
    )
    # [END howto_vimmerse_image_steps]

    # [START howto_vimmerse_background_music]
    music = VimmerseToolOperator(task_id="background_music", tool="audio/text-2-music", prompt="{{ params.music }}")
    clip = VimmerseVideoOperator(
        task_id="animate",
        tool="video-effects",
        image_url=restyled.output,
        prompt="a slow turntable spin",
        deferrable=True,  # the video steps wait in the triggerer
    )
    with_music = VimmerseVideoOperator(
        task_id="add_music",
        tool="audio",
        video_url=clip.output,
        audio_url=music.output,
        attach_mode="MatchVideo",
        deferrable=True,
    )
    # [END howto_vimmerse_background_music]

    download = VimmerseDownloadOperator(
        task_id="download", job=with_music.output, destination=OUTPUT_DIR + "/{{ dag_run.start_date | ds }}"
    )
