"""
Train a LoRA (``POST /finetune``) and wait until its sample outputs are there (``GET /finetune/{trigger_word}``).

The training is the job kind ``finetune``; its id is the LoRA's trigger word. No status field is
documented for it: the wait ends when ``GET /finetune/{trigger_word}`` lists sample outputs (a failed
training cannot be told from a running one, so ``timeout`` ends that wait).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_vimmerse.api.finetune import DEFAULT_TRIGGER_WORD_FIELD
from airflow_provider_vimmerse.operators.base import VimmerseJobOperator
from airflow_provider_vimmerse.operators.params import EXTRA_PARAMS, FILES, INT, KEPT, URLS, Param, as_list

if TYPE_CHECKING:
    from airflow_provider_vimmerse.api.results import JobResult
    from airflow_provider_vimmerse.api.submissions import Submission

#: XCom key of the trigger word, besides the result (whose ``id`` is the trigger word too).
TRIGGER_WORD_KEY = "trigger_word"


class VimmerseFinetuneOperator(VimmerseJobOperator):
    """
    Train a LoRA on images with ``POST /finetune`` (spends credits) and wait for its sample outputs.

    Give the training images as ``image_files`` (uploaded multipart) or ``image_urls``, not both. With
    ``option="FluxKontextFinetune"`` the images are (start, end) pairs and ``prompt`` describes the edit.

    The answer's field holding the trigger word is not documented: ``trigger_word_field`` names it
    (default ``id``, the only identifying field of the documented example); when the answer lacks it
    the task fails listing the fields it had, and sends nothing again. The result's ``id`` is the
    trigger word, also pushed under the XCom key ``trigger_word``; its ``video_urls`` are the sample
    images. Done means "sample outputs are listed": the only completion signal the API documents.
    Never pay twice: a retry reattaches to the training an earlier try started (Airflow 3.3+).
    """

    job_kind = "finetune"

    image_files = Param("local paths or ``ObjectStoragePath``\\ s of the training images", FILES)
    image_urls = Param("public URLs of the training images (ignored by the API when files are uploaded)", URLS)
    option = Param("``FluxFinetune`` (API default), ``FluxProFinetune`` or ``FluxKontextFinetune``")
    finetune_type = Param("``Auto`` (API default), ``Character``, ``Product`` or ``Style``")
    num_iterations = Param("training iterations; 0 (API default) is Auto", INT)
    lora_prefix = Param("prefix of the LoRA's name (API default ``MYLORA``); choose a unique one")
    prompt = Param("with ``FluxKontextFinetune``: the edit from each start image to its end image")
    webhook_url = Param("URL the API calls when training ends")
    trigger_word_field = Param(
        "the answer's field holding the trigger word (not documented; default ``id``)",
        send=KEPT,
        templated=False,
        default=DEFAULT_TRIGGER_WORD_FIELD,
    )
    extra_params = EXTRA_PARAMS

    def check_values(self) -> None:
        """Validate the fields and require training images (no request is sent)."""
        from airflow_provider_vimmerse.api import finetune

        finetune.check_finetune_fields(self.api_fields())
        finetune.check_finetune_images(as_list(self.image_files), as_list(self.image_urls), self.option)

    def submit(self, context: Any) -> Submission:
        """Read the images, send ``POST /finetune`` and read the trigger word from its answer."""
        from airflow_provider_vimmerse.api import finetune
        from airflow_provider_vimmerse.api.submissions import Submission
        from airflow_provider_vimmerse.operators.files import read_images

        files = read_images(self.image_files)
        req = finetune.create_finetune(self.api_fields(), files)
        count = len(files) or len(as_list(self.image_urls))
        self.log.info("Starting a LoRA training on %d image(s); spends credits", count)
        answer = self.hook.request(req)
        trigger_word = finetune.trigger_word_of(answer, self.trigger_word_field)
        self.log.info("Training started; trigger word %s", trigger_word)
        return Submission(trigger_word)

    def finish(self, context: Any, job_id: str, obj: Mapping[str, Any] | None = None) -> JobResult:
        """Return the finished training's result and push its trigger word under ``trigger_word``."""
        result = super().finish(context, job_id, obj)
        if self.do_xcom_push:
            context["ti"].xcom_push(key=TRIGGER_WORD_KEY, value=result["id"])
        return result
