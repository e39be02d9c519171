"""
The workflow routes' rows: ``POST /workflow`` and ``PUT /workflow/{id}``, their documented fields and the
rules across fields checked before anything is sent; and the delete of any job kind that has a delete route.

A workflow applies a template (a multi-step pipeline: crop, background, animation, overlay, ...) to
images and makes a video. Fields come from ``openapi.json``: the schema
``Body_create_task_workflow_post`` (``POST /workflow``, multipart form), the ``PUT /workflow/{id}``
description (a JSON body) and the tag ``Workflow``'s description (templates, options, polling). Its
status is read as the ``workflow`` job kind (:data:`~airflow_provider_vimmerse.api.jobs.JOB_KINDS`).

Pure module: no Airflow imports.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from airflow_provider_vimmerse.api.endpoints import ApiRequest
from airflow_provider_vimmerse.api.fields import (
    FieldType,
    RouteField,
    check_images,
    check_urls,
    is_templated,
    json_value,
)
from airflow_provider_vimmerse.api.jobs import JOB_KINDS, JobKind, get_job_kind
from airflow_provider_vimmerse.api.media import VISIBILITY_STATUSES
from airflow_provider_vimmerse.api.routes import Route, Send, as_list
from airflow_provider_vimmerse.api.urls import HTTP_PREFIXES, job_path
from airflow_provider_vimmerse.exceptions import VimmerseInputError

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


def _check_text(values: Mapping[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        value = values.get(name)
        if value is not None and not is_templated(value) and not isinstance(value, str):
            raise VimmerseInputError(name, f"must be text, got {type(value).__name__}")


def check_create(values: Mapping[str, Any]) -> None:
    """
    Validate ``POST /workflow`` across fields: text fields, ``options``, and the images.

    The images are files or URLs (not both: "If you upload image files, this field will be ignored"), at
    least one (tag ``Workflow``, "How Workflows Work": "Provide one or more images").

    :param values: every field given, ``image_files`` included (unrendered templates are skipped)
    :raises VimmerseInputError: naming the field and what is allowed
    """
    _check_text(values, ("template_id", "event_id", "title", "description"))
    template = values.get("template_id")
    if isinstance(template, str) and not is_templated(template) and not template.strip():
        examples = ", ".join(TEMPLATE_EXAMPLES[:3])
        raise VimmerseInputError("template_id", f"must not be empty; documented templates include {examples}, ...")
    if values.get("options") is not None and not is_templated(values["options"]):
        encode_options(values["options"])
    check_images(
        as_list(values.get("image_files")), as_list(values.get("image_urls")), "a workflow needs at least one image"
    )


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


def encode_create(values: Mapping[str, Any]) -> dict[str, Any]:
    """Return the ``POST /workflow`` fields as the form wants them: ``options`` as JSON text, None dropped."""
    encoded = {name: value for name, value in values.items() if value is not None}
    if "options" in encoded:
        encoded["options"] = encode_options(encoded["options"])
    if "visibility_status" in encoded:
        encoded["visibility_status"] = _visibility(encoded["visibility_status"])
    return encoded


def check_update(values: Mapping[str, Any]) -> None:
    """
    Validate the values of ``PUT /workflow/{id}`` the row cannot: ``rating``, ``delivered_at`` and text types.

    :raises VimmerseInputError: naming the field and what is allowed
    """
    rating = values.get("rating")
    if (
        rating is not None
        and not is_templated(rating)
        and (isinstance(rating, bool) or not isinstance(rating, (str, int)))
    ):
        raise VimmerseInputError("rating", f"must be text or an integer (sent as text), got {rating!r}")
    delivered = values.get("delivered_at")
    if delivered is not None and not is_templated(delivered) and not isinstance(delivered, (str, date)):
        raise VimmerseInputError("delivered_at", f"must be a timestamp (text or datetime), got {delivered!r}")
    _check_text(values, ("title", "description"))


def encode_update(values: Mapping[str, Any]) -> dict[str, Any]:
    """
    Return the ``PUT /workflow/{id}`` body: ``rating`` as text ("Rating value (string)"), ``delivered_at``
    as ISO text when a datetime, None dropped.
    """
    body: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        if name == "visibility_status":
            value = _visibility(value)
        elif name == "rating" and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        elif name == "delivered_at" and isinstance(value, (datetime, date)):
            value = value.isoformat()
        body[name] = value
    return body


T = FieldType
VISIBILITY_STATUS = RouteField("visibility_status", allowed=VISIBILITY_STATUSES)

#: ``POST /workflow``: apply a template to images (multipart: one ``image_files`` part per image, or repeated
#: ``image_urls``); spends credits (402 documented).
CREATE = Route(
    "POST",
    "/workflow",
    "workflow",
    fields=(
        RouteField("image_files", T.FILES),
        RouteField("image_urls", T.URLS),
        RouteField("template_id"),
        RouteField("options", T.JSON),
        RouteField("title"),
        RouteField("description"),
        VISIBILITY_STATUS,
        RouteField("event_id"),
    ),
    refused={
        "webhook_url": (
            "is not a field of POST /workflow (openapi.json Body_create_task_workflow_post has none). The tag "
            "'Workflow' says to include it 'if supported by the template' and that 'webhook support varies by "
            "template': when your template takes it, send it with extra_params={'webhook_url': ...}"
        ),
    },
    rules=check_create,
    encode=encode_create,
)

#: ``PUT /workflow/{id}``: "Request body with optional fields: title, description, visibility_status, rating,
#: delivered_at" (a JSON body; free, no 402 documented). Nothing regenerates: the answer is the updated workflow.
UPDATE = Route(
    "PUT",
    "/workflow/{job_id}",
    "workflow",
    Send.EDIT,
    fields=(
        RouteField("title"),
        RouteField("description"),
        VISIBILITY_STATUS,
        RouteField("rating"),
        RouteField("delivered_at"),
    ),
    body="json",
    target="workflow_id",
    rules=check_update,
    encode=encode_update,
    spends_credits=False,
    fills_webhook_url=False,
)


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
