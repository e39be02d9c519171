"""
A template video from a product photo, a LoRA trained on the product, then publish and clean up.

* a workflow (``POST /workflow``) applies a template to the product photo and waits for its video;
* a finetune (``POST /finetune``) trains a LoRA on the product shots and waits until its samples are
  listed; its trigger word is the result's ``id`` (and the XCom ``trigger_word``);
* the workflow's video is downloaded into ``output/<day the run started>/`` (``VIMMERSE_OUTPUT_DIR``
  overrides ``output``), then the workflow is published (``PUT /workflow/{id}``);
* the workflow is deleted once its video is safe (``DELETE /workflow/{id}``): the clean-up step. A
  second run of the clean-up (a retry, a cleared task) succeeds: a 404 counts as deleted.

The workflow and the training wait in the triggerer (``deferrable=True``); the other steps answer at once.
The DAG has no schedule: trigger it by hand. ``make demo``-style runs use the local sandbox API.
"""

from __future__ import annotations

import os
from pathlib import Path

import pendulum
from airflow.providers.common.compat.sdk import dag  # on Airflow 3 alone: from airflow.sdk import dag

from airflow_provider_vimmerse.operators.delete import VimmerseDeleteJobOperator
from airflow_provider_vimmerse.operators.download import VimmerseDownloadOperator
from airflow_provider_vimmerse.operators.finetune import VimmerseFinetuneOperator
from airflow_provider_vimmerse.operators.workflow import VimmerseCreateWorkflowOperator, VimmerseUpdateWorkflowOperator

ASSETS = Path(__file__).parent / "assets"
OUTPUT_DIR = os.environ.get("VIMMERSE_OUTPUT_DIR", "output")


@dag(
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    tags=["vimmerse", "example"],
    # One retry: a paid step's retry reattaches to its job (Airflow 3.3+); the clean-up's retry finds a 404.
    default_args={"retries": 1},
)
def vimmerse_workflow() -> None:
    """Make a template video of the product and a LoRA of it; download and publish the video, then delete it."""
    # [START howto_vimmerse_create_workflow]
    showcase = VimmerseCreateWorkflowOperator(
        task_id="showcase",
        image_files=[ASSETS / "product.png"],
        template_id="vim_product_showcase",
        options={"prompt": "The product turns slowly under warm studio light", "motion_type": "Auto"},
        title="Product showcase {{ dag_run.start_date | ds }}",
        visibility_status="0",
        deferrable=True,
    )
    # [END howto_vimmerse_create_workflow]

    # [START howto_vimmerse_finetune]
    VimmerseFinetuneOperator(
        task_id="brand_lora",
        image_files=[ASSETS / "product.png", ASSETS / "product_back.png"],
        option="FluxFinetune",
        finetune_type="Product",
        lora_prefix="ACMEMUG",
        deferrable=True,
    )
    # [END howto_vimmerse_finetune]

    # [START howto_vimmerse_download_workflow]
    download = VimmerseDownloadOperator(
        task_id="download",
        job=showcase.output,
        destination=OUTPUT_DIR + "/{{ dag_run.start_date | ds }}",
    )
    # [END howto_vimmerse_download_workflow]

    # [START howto_vimmerse_update_workflow]
    publish = VimmerseUpdateWorkflowOperator(
        task_id="publish", workflow_id=showcase.output, visibility_status="2", rating="5"
    )
    # [END howto_vimmerse_update_workflow]

    # [START howto_vimmerse_delete]
    clean_up = VimmerseDeleteJobOperator(task_id="clean_up", kind="workflow", job_id=showcase.output)
    # [END howto_vimmerse_delete]

    download >> publish >> clean_up


dag = vimmerse_workflow()
