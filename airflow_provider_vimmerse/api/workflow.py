"""
Workflow inputs: the documented fields of ``POST /workflow`` and ``PUT /workflow/{id}``, their checks,
and the request builders (create, update, delete of any job kind that has a delete route).

A workflow applies a template (a multi-step pipeline: crop, background, animation, overlay, ...) to
images and makes a video. Fields come from ``openapi.json``: the schema
``Body_create_task_workflow_post`` (``POST /workflow``, multipart form), the ``PUT /workflow/{id}``
description (a JSON body) and the tag ``Workflow``'s description (templates, options, polling). Its
status is read as the ``workflow`` job kind (:data:`~airflow_provider_vimmerse.api.jobs.JOB_KINDS`).

Pure module: no Airflow imports.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from airflow_provider_vimmerse.api.endpoints import ApiRequest, FilePart, form_fields
from airflow_provider_vimmerse.api.fields import check_enum, check_images, check_urls, is_templated, json_value
from airflow_provider_vimmerse.api.jobs import JOB_KINDS, JobKind, get_job_kind
from airflow_provider_vimmerse.api.media import VISIBILITY_STATUSES
from airflow_provider_vimmerse.api.urls import HTTP_PREFIXES, job_path
from airflow_provider_vimmerse.exceptions import VimmerseInputError

CREATE_PATH = "/workflow"
WORKFLOW_PATH = "/workflow/{job_id}"
#: The templates the tag ``Workflow`` lists ("Available Templates"). ``template_id`` is free text
#: ("Template ID of the workflow. ..."), so these are examples, not a closed list: any other id is sent.
TEMPLATE_EXAMPLES = (
    "overlay_gray_5443",
    "overlay_gray_5442",
    "overlay_only_1025",
    "vim_new_year_2026",
    "vim_dancing_santa",
    "vim_birthday",
    "vim_instagramframeescape_0226",
    "vim_dreamcareer_0226",
    "vim_ces_show",
    "vim_amazonia",
    "vim_arctic",
    "vim_sketch_me",
    "vim_product_showcase",
    "each_explodedloop_0226",
    "each_ugcproduct_0226",
)
#: The ``options`` keys the tag's examples show; "template-specific", so other keys are sent as given.
OPTION_EXAMPLES = ("background_urls", "prompt", "motion_type", "duration", "last_frame_support")
#: ``PUT /workflow/{id}``: "Request body with optional fields: title, description, visibility_status,
#: rating, delivered_at".
UPDATE_FIELDS = ("title", "description", "visibility_status", "rating", "delivered_at")
#: Inputs ``POST /workflow`` does not document, and why they are refused.
REFUSED_FIELDS: Mapping[str, str] = {
    "webhook_url": (
        "is not a field of POST /workflow (openapi.json Body_create_task_workflow_post has none). The tag "
        "'Workflow' says to include it 'if supported by the template' and that 'webhook support varies by "
        "template': when your template takes it, send it with extra_params={'webhook_url': ...}"
    ),
}


def check_workflow_fields(values: Mapping[str, Any]) -> None:
    """
    Validate the ``POST /workflow`` fields that are set (unrendered templates are skipped).

    :param values: the fields, with the API's names
    :raises VimmerseInputError: naming the field and what is allowed
    """
    check_enum("visibility_status", _visibility(values.get("visibility_status")), VISIBILITY_STATUSES)
    check_urls("image_urls", values.get("image_urls"))
    for field in ("template_id", "event_id", "title", "description"):
        value = values.get(field)
        if value is not None and not is_templated(value) and not isinstance(value, str):
            raise VimmerseInputError(field, f"must be text, got {type(value).__name__}")
    template = values.get("template_id")
    if isinstance(template, str) and not is_templated(template) and not template.strip():
        examples = ", ".join(TEMPLATE_EXAMPLES[:3])
        raise VimmerseInputError("template_id", f"must not be empty; documented templates include {examples}, ...")
    if values.get("options") is not None and not is_templated(values["options"]):
        encode_options(values["options"])


def check_refused(values: Mapping[str, Any]) -> None:
    """Raise :class:`.VimmerseInputError` for a set input that ``POST /workflow`` does not document."""
    for field, why in REFUSED_FIELDS.items():
        if values.get(field) is not None:
            raise VimmerseInputError(field, why)


def check_workflow_images(image_files: Sequence[Any], image_urls: Sequence[Any]) -> None:
    """
    Require the images of a workflow: files or URLs (not both: "If you upload image files, this field
    will be ignored"), at least one (tag ``Workflow``, "How Workflows Work": "Provide one or more images").

    :raises VimmerseInputError: naming ``image_files`` / ``image_urls``
    """
    check_images(image_files, image_urls, "a workflow needs at least one image")


def encode_options(value: Any) -> str:
    """
    Return ``options`` as the JSON text the form field holds ("Json string of options").

    A dict or its JSON text is taken; ``background_urls`` may be a list of URLs, sent comma-separated
    as the tag's examples write it.

    :raises VimmerseInputError: naming ``options`` or ``options.background_urls``
    """
    options = dict(json_value("options", value, dict))
    backgrounds = options.get("background_urls")
    if isinstance(backgrounds, (list, tuple)):
        check_urls("options.background_urls", list(backgrounds))
        options["background_urls"] = ",".join(backgrounds)
    elif backgrounds is not None:
        if not isinstance(backgrounds, str):
            raise VimmerseInputError("options.background_urls", "must be URLs: a list, or one comma-separated string")
        parts = [part.strip() for part in backgrounds.split(",") if part.strip()]
        if not all(part.startswith(HTTP_PREFIXES) for part in parts):
            raise VimmerseInputError("options.background_urls", f"must be http(s) URLs, got {backgrounds!r}")
    return json.dumps(options)


def create_workflow(values: Mapping[str, Any], files: Sequence[FilePart] = ()) -> ApiRequest:
    """
    Build ``POST /workflow``: a multipart form (one ``image_files`` part per image, or repeated
    ``image_urls``), ``options`` as JSON text. Spends credits (402 documented).

    :param values: the fields, with the API's names
    :param files: the images to upload (field ``image_files``)
    """
    encoded = {name: value for name, value in values.items() if value is not None}
    if "options" in encoded:
        encoded["options"] = encode_options(encoded["options"])
    if "visibility_status" in encoded:
        encoded["visibility_status"] = _visibility(encoded["visibility_status"])
    return ApiRequest("POST", CREATE_PATH, form=form_fields(encoded), files=tuple(files), spends_credits=True)


def check_update(changes: Mapping[str, Any]) -> None:
    """
    Validate the changes of ``PUT /workflow/{id}``: documented fields only, at least one, valid values.

    :raises VimmerseInputError: naming the field and what is allowed
    """
    if is_templated(changes):
        return
    unknown = sorted(set(changes) - set(UPDATE_FIELDS))
    if unknown:
        raise VimmerseInputError(
            unknown[0], f"is not a field of PUT /workflow/{{id}}; allowed fields: {', '.join(UPDATE_FIELDS)}"
        )
    if not changes:
        raise VimmerseInputError("changes", f"give at least one field to change: {', '.join(UPDATE_FIELDS)}")
    check_enum("visibility_status", _visibility(changes.get("visibility_status")), VISIBILITY_STATUSES)
    rating = changes.get("rating")
    if rating is not None and (isinstance(rating, bool) or not isinstance(rating, (str, int))):
        raise VimmerseInputError("rating", f"must be text or an integer (sent as text), got {rating!r}")
    delivered = changes.get("delivered_at")
    if delivered is not None and not isinstance(delivered, (str, date)):
        raise VimmerseInputError("delivered_at", f"must be a timestamp (text or datetime), got {delivered!r}")
    for field in ("title", "description"):
        if changes.get(field) is not None and not isinstance(changes[field], str):
            raise VimmerseInputError(field, f"must be text, got {type(changes[field]).__name__}")


def update_workflow(workflow_id: str, changes: Mapping[str, Any]) -> ApiRequest:
    """
    Build ``PUT /workflow/{id}``: a JSON body (not a form), free (no 402 documented).

    ``rating`` is sent as text ("Rating value (string)"); ``delivered_at`` as ISO text when a datetime.

    :param workflow_id: the workflow
    :param changes: the fields to change
    """
    body: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "visibility_status":
            value = _visibility(value)
        elif name == "rating" and isinstance(value, int):
            value = str(value)
        elif name == "delivered_at" and isinstance(value, (datetime, date)):
            value = value.isoformat()
        body[name] = value
    return ApiRequest("PUT", job_path(WORKFLOW_PATH, workflow_id), json=body)


def delete_job(kind: str, job_id: str) -> ApiRequest:
    """
    Build the delete of a job whose kind has a delete route (``DELETE /story/{id}``, ``DELETE /workflow/{id}``).

    Free (no 402 documented).

    :param kind: the job kind
    :param job_id: the job
    :raises VimmerseInputError: naming ``kind`` when the API documents no delete for it
    """
    return ApiRequest("DELETE", job_path(deletable_kind(kind).delete_path, job_id))


def deletable_kind(kind: str) -> JobKind:
    """
    Return the row of a job kind the API can delete.

    :raises VimmerseInputError: naming ``kind`` and the kinds that have a delete route
    """
    row = get_job_kind(kind)
    if not row.delete_path:
        allowed = ", ".join(name for name, other in JOB_KINDS.items() if other.delete_path)
        raise VimmerseInputError("kind", f"the API documents no delete for a {kind}; allowed values: {allowed}")
    return row


def _visibility(value: Any) -> Any:
    # "0", "1", "2" as text; an int is taken and sent as its text (like media and batch).
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value
