"""
The smallest useful DAG: one video from a prompt, waited for in the triggerer, then downloaded.

The README and the getting-started page show the part between the markers; the tests run this file.
"""

from __future__ import annotations

# [START howto_vimmerse_first_video]
import pendulum
from airflow.providers.common.compat.sdk import DAG  # on Airflow 3 alone: from airflow.sdk import DAG

from airflow_provider_vimmerse.operators.download import VimmerseDownloadOperator
from airflow_provider_vimmerse.operators.media import VimmerseCreateMediaOperator

with DAG("my_first_video", start_date=pendulum.datetime(2026, 1, 1), schedule=None) as dag:
    video = VimmerseCreateMediaOperator(
        task_id="video",
        prompt="A paper boat sailing across a calm lake at sunrise",
        aspect_ratio="16:9",
        audio_option={"narrator": "Rachel", "narration": "Every journey starts small."},
        deferrable=True,  # wait in the triggerer, not on a worker
    )
    VimmerseDownloadOperator(task_id="download", job=video.output, destination="videos/{{ dag_run.start_date | ds }}")
# [END howto_vimmerse_first_video]
