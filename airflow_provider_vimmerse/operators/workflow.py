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

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_vimmerse.exceptions import VimmerseInputError
from airflow_provider_vimmerse.operators.base import VimmerseJobOperator, VimmerseSubmitOperator
from airflow_provider_vimmerse.operators.params import (
    EXTRA,
    EXTRA_PARAMS,
    FILES,
    JSON,
    KEPT,
    URLS,
    Param,
    as_list,
)

if TYPE_CHECKING:
    from airflow_provider_vimmerse.api.submissions import Submission

_WORKFLOW = "~airflow_provider_vimmerse.api.workflow"


class VimmerseCreateWorkflowOperator(VimmerseJobOperator):
    """
    Apply a workflow template to images with ``POST /workflow`` (spends credits), and wait for its video.

    Give the images as ``image_files`` (uploaded multipart) or ``image_urls``, not both. ``template_id``
    is free text: the documented templates (:data:`~airflow_provider_vimmerse.api.workflow.TEMPLATE_EXAMPLES`)
    are examples, and any other id
    is sent as given. ``options`` is template-specific (sent as JSON text); the documented keys are
    ``background_urls`` (a list, or one comma-separated string), ``prompt``, ``motion_type``,
    ``duration`` and ``last_frame_support``.

    The result's ``video_urls`` are the workflow's ``result`` URLs. No web-app page is documented for
    a workflow, so the task has no "Vimmerse" link. Never pay twice: a retry reattaches to the workflow
    an earlier try created (Airflow 3.3+).
    """

    job_kind = "workflow"

    image_files = Param("local paths or ``ObjectStoragePath``\\ s of the images to upload", FILES)
    image_urls = Param("public image URLs (ignored by the API when files are uploaded)", URLS)
    template_id = Param(
        f"the template, e.g. ``overlay_gray_5443`` (API default); see :data:`{_WORKFLOW}.TEMPLATE_EXAMPLES`"
    )
    options = Param("template options, a dict (sent as JSON text)", JSON)
    title = Param("workflow title")
    description = Param("workflow description")
    visibility_status = Param('``"0"`` private, ``"1"`` unlisted (API default), ``"2"`` public')
    event_id = Param("event id of the workflow (API default ``no_event``)")
    webhook_url = Param(
        "refused: ``POST /workflow`` documents no such field (send it in ``extra_params`` if your template takes it)",
        send=KEPT,
        templated=False,
    )
    extra_params = EXTRA_PARAMS

    def check_values(self) -> None:
        """Validate the fields and require images (no request is sent)."""
        from airflow_provider_vimmerse.api import workflow

        workflow.check_refused({"webhook_url": self.webhook_url})
        workflow.check_workflow_fields(self.api_fields())
        workflow.check_workflow_images(as_list(self.image_files), as_list(self.image_urls))

    def submit(self, context: Any) -> Submission:
        """Read the images (a missing file fails here, before sending) and send ``POST /workflow``."""
        from airflow_provider_vimmerse.api import workflow
        from airflow_provider_vimmerse.operators.files import read_image_sources

        files, source = read_image_sources(self.image_files, self.image_urls)
        req = workflow.create_workflow(self.api_fields(), files)
        self.log.info(
            "Creating a workflow (template %s) from %s; spends credits", self.template_id or "default", source
        )
        return self.send(req)


class VimmerseUpdateWorkflowOperator(VimmerseSubmitOperator):
    """
    Change a workflow's metadata with ``PUT /workflow/{id}`` (a JSON body; free) and return the workflow.

    The documented fields are ``title``, ``description``, ``visibility_status``, ``rating`` (sent as
    text) and ``delivered_at`` (a timestamp; a ``datetime`` is sent as ISO text). Only the fields that
    are set are sent: the API says it uses the current time for ``delivered_at`` "if None or not
    provided", and whether leaving it out sets it is not documented. Give the fields as keyword
    arguments or in ``changes``. Nothing regenerates, so the task does not wait; a retry sends the
    change again.
    """

    job_kind = "workflow"

    workflow_id = Param(
        "the workflow, or the result of the task that created it", "str | dict[str, Any]", send=KEPT, required=True
    )
    title = Param("new title")
    description = Param("new description")
    visibility_status = Param('``"0"`` private, ``"1"`` unlisted, ``"2"`` public')
    rating = Param('rating, e.g. ``"5"`` (sent as text)', "str | int | None")
    delivered_at = Param("when the workflow was delivered: ISO text or a ``datetime``", "str | Any | None")
    changes = Param("the fields to change, with the API's names, as a dict", EXTRA)

    def target_id(self) -> str:
        """Return the workflow's id (a result dict of a workflow gives its ``id``)."""
        return job_id_from("workflow_id", self.workflow_id, "workflow")

    def check_values(self) -> None:
        """Check the changes: documented fields only, at least one, valid values (no request is sent)."""
        from airflow_provider_vimmerse.api.workflow import check_update

        check_update(self.api_fields())

    def submit(self, context: Any) -> Submission:
        """Send the change; the answer is the updated workflow."""
        from airflow_provider_vimmerse.api.workflow import update_workflow

        job_id, changes = self.target_id(), self.api_fields()
        submission = self.send(update_workflow(job_id, changes), job_id=job_id, done=True)
        self.log.info("workflow %s: updated %s (free)", job_id, ", ".join(changes))
        return submission

    def resume(self, context: Any, job_id: str, saved: Mapping[str, Any]) -> Submission | None:
        """Send the change again on a retry: it is free and changes metadata only."""
        return None


def job_id_from(param: str, value: Any, kind: str) -> str:
    """
    Return a job id given as text or as the result of the task that made the job.

    :param param: the parameter, for messages
    :param value: the id, or a result dict with ``kind`` and ``id``
    :param kind: the kind the job must be
    :raises VimmerseInputError: naming ``param`` for an empty id or a result of another kind
    """
    if isinstance(value, Mapping):
        if value.get("kind") not in (None, kind):
            raise VimmerseInputError(param, f"is the result of a {value.get('kind')}, not of a {kind}")
        value = value.get("id")
    if not isinstance(value, str) or not value.strip():
        raise VimmerseInputError(param, f"must be a {kind} id or the result of the task that made it, got {value!r}")
    return value.strip()
