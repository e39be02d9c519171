"""
Operators for workflows: a template (overlay, event, product showcase, ...) applied to images, making a video.

Create a workflow and wait for it (job kind ``workflow``: ``processing_status`` and
``progress_percentage`` of ``GET /workflow/{id}``), or change its title, description, visibility,
rating or delivery time. Delete it with
:class:`~airflow_provider_vimmerse.operators.delete.VimmerseDeleteJobOperator`; wait on one started
elsewhere with ``VimmerseJobSensor(kind="workflow")``; fetch its video with
``VimmerseDownloadOperator``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from airflow_provider_vimmerse.api import workflow
from airflow_provider_vimmerse.operators.job import VimmerseJobOperator


class VimmerseCreateWorkflowOperator(VimmerseJobOperator):
    """
    Apply a workflow template to images with ``POST /workflow`` (spends credits), and wait for its video.

    Give the images as ``image_files`` (uploaded multipart) or ``image_urls``, not both. ``template_id``
    is free text: the documented templates (:data:`~airflow_provider_vimmerse.api.workflow.TEMPLATE_EXAMPLES`)
    are examples, and any other id is sent as given. ``options`` is template-specific (sent as JSON
    text); the documented keys are ``background_urls`` (a list, or one comma-separated string),
    ``prompt``, ``motion_type``, ``duration`` and ``last_frame_support``. Inputs are checked before
    anything is sent: literal values when the DAG is parsed, templated ones when the task runs.

    The result's ``video_urls`` are the workflow's ``result`` URLs. No web-app page is documented for
    a workflow, so the task has no "Vimmerse" link. Never pay twice: a retry reattaches to the workflow
    an earlier try created (Airflow 3.3+).

    :param image_files: local paths or ``ObjectStoragePath``\\ s of the images to upload (templated)
    :param image_urls: public image URLs (ignored by the API when files are uploaded) (templated)
    :param template_id: the template, e.g. ``overlay_gray_5443`` (API default); see
        :data:`~airflow_provider_vimmerse.api.workflow.TEMPLATE_EXAMPLES` (templated)
    :param options: template options, a dict (sent as JSON text) (templated)
    :param title: workflow title (templated)
    :param description: workflow description (templated)
    :param visibility_status: ``"0"`` private, ``"1"`` unlisted (API default), ``"2"`` public (templated)
    :param event_id: event id of the workflow (API default ``no_event``) (templated)
    :param webhook_url: refused: ``POST /workflow`` documents no such field (send it in ``extra_params``
        if your template takes it)
    :param extra_params: more fields sent as they are, for fields the API adds later (templated)
    """

    route = workflow.CREATE
    template_fields: tuple[str, ...] = (
        "image_files", "image_urls", "template_id", "options", "title", "description", "visibility_status",
        "event_id", "extra_params", *VimmerseJobOperator.template_fields,
    )  # fmt: skip

    def __init__(
        self,
        *,
        image_files: Sequence[Any] | str | None = None,
        image_urls: Sequence[str] | str | None = None,
        template_id: str | None = None,
        options: dict[str, Any] | str | None = None,
        title: str | None = None,
        description: str | None = None,
        visibility_status: str | None = None,
        event_id: str | None = None,
        webhook_url: str | None = None,
        extra_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.image_files = image_files
        self.image_urls = image_urls
        self.template_id = template_id
        self.options = options
        self.title = title
        self.description = description
        self.visibility_status = visibility_status
        self.event_id = event_id
        self.webhook_url = webhook_url
        self.extra_params = extra_params
        self.check_values()  # literal values now, when the DAG is parsed; templated ones when the task runs


class VimmerseUpdateWorkflowOperator(VimmerseJobOperator):
    """
    Change a workflow's metadata with ``PUT /workflow/{id}`` (a JSON body; free) and return the workflow.

    The documented fields are ``title``, ``description``, ``visibility_status``, ``rating`` (sent as
    text) and ``delivered_at`` (a timestamp; a ``datetime`` is sent as ISO text). Only the fields that
    are set are sent: the API says it uses the current time for ``delivered_at`` "if None or not
    provided", and whether leaving it out sets it is not documented. Give the fields as keyword
    arguments or in ``changes``, or both. Nothing regenerates, so the task does not wait: the answer is
    the updated workflow. A retry of a try that got the answer reads the workflow back instead of sending
    the change again (Airflow 3.3+).

    :param workflow_id: the workflow, or the result of the task that created it (templated)
    :param changes: the fields to change, with the API's names, as a dict (templated)
    :param title: new title (templated)
    :param description: new description (templated)
    :param visibility_status: ``"0"`` private, ``"1"`` unlisted, ``"2"`` public (templated)
    :param rating: rating, e.g. ``"5"`` (sent as text) (templated)
    :param delivered_at: when the workflow was delivered: ISO text or a ``datetime`` (templated)
    """

    route = workflow.UPDATE
    template_fields: tuple[str, ...] = (
        "workflow_id", "changes", "title", "description", "visibility_status", "rating", "delivered_at",
        *VimmerseJobOperator.template_fields,
    )  # fmt: skip

    def __init__(
        self,
        *,
        workflow_id: str | dict[str, Any],
        changes: dict[str, Any] | None = None,
        title: str | None = None,
        description: str | None = None,
        visibility_status: str | None = None,
        rating: str | int | None = None,
        delivered_at: str | datetime | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.workflow_id = workflow_id
        self.changes = changes
        self.title = title
        self.description = description
        self.visibility_status = visibility_status
        self.rating = rating
        self.delivered_at = delivered_at
        self.check_values()  # literal values now, when the DAG is parsed; templated ones when the task runs
