"""
Train a LoRA (``POST /finetune``) and wait until its sample outputs are there (``GET /finetune/{trigger_word}``).

The training is the job kind ``finetune``; its id is the LoRA's trigger word. No status field is
documented for it: the wait ends when ``GET /finetune/{trigger_word}`` lists sample outputs (a failed
training cannot be told from a running one, so ``timeout`` ends that wait).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_vimmerse.api import finetune
from airflow_provider_vimmerse.api.routes import as_list
from airflow_provider_vimmerse.operators.job import VimmerseJobOperator

if TYPE_CHECKING:
    from airflow_provider_vimmerse.api.results import JobResult
    from airflow_provider_vimmerse.api.submissions import Submission
    from airflow_provider_vimmerse.operators.webhooks import WebhookPlan

#: XCom key of the trigger word, besides the result (whose ``id`` is the trigger word too).
TRIGGER_WORD_KEY = "trigger_word"


class VimmerseFinetuneOperator(VimmerseJobOperator):
    """
    Train a LoRA on images with ``POST /finetune`` (spends credits) and wait for its sample outputs.

    Give the training images as ``image_files`` (uploaded multipart) or ``image_urls``, not both. With
    ``option="FluxKontextFinetune"`` the images are (start, end) pairs and ``prompt`` describes the edit.
    Inputs are checked before anything is sent: literal values when the DAG is parsed, templated ones
    when the task runs.

    The answer's field holding the trigger word is not documented: ``trigger_word_field`` names it
    (default ``id``, the only identifying field of the documented example); when the answer lacks it
    the task fails listing the fields it had, and sends nothing again. The result's ``id`` is the
    trigger word, also pushed under the XCom key ``trigger_word``; its ``video_urls`` are the sample
    images. Done means "sample outputs are listed": the only completion signal the API documents.
    Never pay twice: a retry reattaches to the training an earlier try started (Airflow 3.3+).

    :param image_files: local paths or ``ObjectStoragePath``\\ s of the training images (templated)
    :param image_urls: public URLs of the training images (ignored by the API when files are uploaded)
        (templated)
    :param option: ``FluxFinetune`` (API default), ``FluxProFinetune`` or ``FluxKontextFinetune`` (templated)
    :param finetune_type: ``Auto`` (API default), ``Character``, ``Product`` or ``Style`` (templated)
    :param num_iterations: training iterations; 0 (API default) is Auto (templated)
    :param lora_prefix: prefix of the LoRA's name (API default ``MYLORA``); choose a unique one (templated)
    :param prompt: with ``FluxKontextFinetune``: the edit from each start image to its end image (templated)
    :param webhook_url: URL the API calls when training ends (templated)
    :param trigger_word_field: the answer's field holding the trigger word (not documented; default ``id``)
    :param extra_params: more fields sent as they are, for fields the API adds later (templated)
    """

    route = finetune.CREATE
    template_fields: tuple[str, ...] = (
        "image_files", "image_urls", "option", "finetune_type", "num_iterations", "lora_prefix", "prompt",
        "webhook_url", "extra_params", *VimmerseJobOperator.template_fields,
    )  # fmt: skip

    def __init__(
        self,
        *,
        image_files: Sequence[Any] | str | None = None,
        image_urls: Sequence[str] | str | None = None,
        option: str | None = None,
        finetune_type: str | None = None,
        num_iterations: int | None = None,
        lora_prefix: str | None = None,
        prompt: str | None = None,
        webhook_url: str | None = None,
        trigger_word_field: str = finetune.DEFAULT_TRIGGER_WORD_FIELD,
        extra_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.image_files = image_files
        self.image_urls = image_urls
        self.option = option
        self.finetune_type = finetune_type
        self.num_iterations = num_iterations
        self.lora_prefix = lora_prefix
        self.prompt = prompt
        self.webhook_url = webhook_url
        self.trigger_word_field = trigger_word_field
        self.extra_params = extra_params
        self.check_values()  # literal values now, when the DAG is parsed; templated ones when the task runs

    def submit(self, context: Any, webhook: WebhookPlan | None = None) -> Submission:
        """Read the images, send ``POST /finetune`` and read the trigger word from its answer."""
        from airflow_provider_vimmerse.api.submissions import Submission

        values = self.api_fields()
        if webhook is not None:
            values["webhook_url"] = webhook.url
        files = self.read_files()
        count = len(files) or len(as_list(self.image_urls))
        self.log.info("Starting a LoRA training on %d image(s); spends credits", count)
        answer = self.hook.request(self.route.request(values, files))
        trigger_word = finetune.trigger_word_of(answer, self.trigger_word_field)
        self.log.info("Training started; trigger word %s", trigger_word)
        return Submission(trigger_word)

    def finish(self, context: Any, job_id: str, obj: Mapping[str, Any] | None = None) -> JobResult:
        """Return the finished training's result and push its trigger word under ``trigger_word``."""
        result = super().finish(context, job_id, obj)
        if self.do_xcom_push:
            context["ti"].xcom_push(key=TRIGGER_WORD_KEY, value=result["id"])
        return result
