"""The sandbox's workflow and finetune routes, and the deletes (``DELETE /story/{id}``, ``DELETE /workflow/{id}``).

Every shape comes from openapi.json: the workflow example (one object for ``POST``, ``GET``, ``PUT`` and ``DELETE
/workflow``), the generic asset example of ``POST /finetune``, ``{"data": [{"URL": ...}]}`` of ``GET
/finetune/{trigger_word}`` and ``{}`` of ``DELETE /story/{story_id}``. Where they are silent the sandbox does the least
convenient thing a real server could do (docs/sandbox.md, "Workflows and finetunes").
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from airflow_provider_vimmerse.sandbox import timing
from airflow_provider_vimmerse.sandbox.bodies import FORM, read_json
from airflow_provider_vimmerse.sandbox.routing import Call, api_route, router, wrapped
from airflow_provider_vimmerse.sandbox.state import format_time
from airflow_provider_vimmerse.sandbox.views import asset_view, finetune_samples, workflow_view

__all__ = ["router"]

#: openapi.json PUT /workflow/{workflow_id}: "Request body with optional fields: title, description,
#: visibility_status, rating, delivered_at"; visibility_status is "0", "1" or "2" like everywhere.
WORKFLOW_UPDATE_FIELDS = ("title", "description", "visibility_status", "rating", "delivered_at")
VISIBILITY_STATUSES = ("0", "1", "2")
#: openapi.json Body_finetune_flux_finetune_post.image_files: "In case of FluxKontextFinetune, images should be
#: provided in pairs" and prompt describes "the relationship between the start and end images".
KONTEXT = "FluxKontextFinetune"


def _invalid(name: str, message: str, kind: str = "value_error") -> RequestValidationError:
    # FastAPI's 422 shape (openapi.json HTTPValidationError).
    return RequestValidationError([{"loc": ["body", name], "msg": message, "type": kind}])


# Workflow


@api_route("POST", "/workflow", body=FORM)
async def create_workflow(call: Call) -> Any:
    """Create a workflow: a template applied to the images (multipart form; ``options`` is JSON text).

    openapi.json: 402 ``INSUFFICIENT_CREDIT`` is documented, so it costs credits. No field is required by the schema;
    the tag's "How Workflows Work" starts with "Provide one or more images", so a workflow without images is a 400.
    Files win over URLs ("If you upload image files, this field will be ignored").
    """
    body = call.body
    try:
        options = json.loads(body["options"])
    except ValueError:
        raise _invalid("options", "must be a valid JSON string (an object)") from None
    if not isinstance(options, dict):
        raise _invalid("options", "must be a JSON object")
    images = body["image_files"] or body["image_urls"]
    if not images:
        return call.bad_request("Provide image_files or image_urls.")
    if (refused := call.pay()) is not None:
        return refused
    fields = {name: body[name] for name in ("title", "description", "visibility_status", "template_id", "event_id")}
    job = timing.create_workflow(call.state, fields, options, list(images))
    call.note(job, created=True)
    return workflow_view(call.state, job, call.url)


@api_route("GET", "/workflow/{workflow_id}", kind="workflow")
async def get_workflow(call: Call) -> Any:
    """Return a workflow (openapi.json "Get Workflow Status": ``{"data": workflow}``; 404 ``NOT_FOUND``)."""
    return workflow_view(call.state, call.job, call.url)


@api_route("PUT", "/workflow/{workflow_id}", kind="workflow")
async def update_workflow(call: Call) -> Any:
    """Update a workflow's metadata from a JSON body (free; answers the updated workflow).

    openapi.json: the body is a JSON object with "optional fields: title, description, visibility_status, rating,
    delivered_at"; other keys are ignored. ``delivered_at``: "if None or not provided, current timestamp will be
    used" - the sandbox sets the current time when the body sends it as null, and leaves it alone when absent.
    """
    data = await read_json(call.request)
    changes = {name: data[name] for name in WORKFLOW_UPDATE_FIELDS if name in data}
    if "visibility_status" in changes and changes["visibility_status"] not in VISIBILITY_STATUSES:
        raise _invalid("visibility_status", "Input should be '0', '1' or '2'", "literal_error")
    for name in ("title", "description", "rating"):
        if name in changes and not isinstance(changes[name], str):
            raise _invalid(name, "Input should be a valid string", "string_type")
    if "delivered_at" in changes:
        value = changes["delivered_at"]
        if value is not None and not isinstance(value, str):
            raise _invalid("delivered_at", "Input should be a valid string", "string_type")
        if value is None:
            changes["delivered_at"] = format_time(call.state.clock())
    call.state.update_metadata(call.job, changes)
    return workflow_view(call.state, call.job, call.url)


@api_route("DELETE", "/workflow/{workflow_id}", kind="workflow")
async def delete_workflow(call: Call) -> Any:
    """Delete a workflow: the answer is the deleted workflow (openapi.json "Deleted Workflow Object"); a later
    read or delete of it is a 404 ``NOT_FOUND``."""
    view = workflow_view(call.state, call.job, call.url)
    call.state.delete(call.job)
    return view


# Story delete


@api_route("DELETE", "/story/{story_id}", kind="story", wrap=0)
async def delete_story(call: Call) -> Any:
    """Delete a story: the answer is ``{}`` (openapi.json "Deleted Story Object" example); a later read or delete
    of it is a 404 ``NOT_FOUND``. Its media are kept (no document says they go)."""
    call.state.delete(call.job)
    return {}


# Finetune


@api_route("POST", "/finetune", body=FORM)
async def create_finetune(call: Call) -> Any:
    """Start a LoRA training (multipart form) and answer the generic asset of the openapi.json example.

    The description says the route "returns its associated unique trigger word", but no document names the field:
    the sandbox answers the example's shape with the trigger word as ``id`` (``{lora_prefix}_{random}``) and adds no
    field. 402 is documented, so it costs credits. Without images it is a 400; with ``FluxKontextFinetune`` an odd
    number of images or no ``prompt`` is a 400 too.
    """
    body = call.body
    images = body["image_files"] or body["image_urls"]
    if not images:
        return call.bad_request("Provide image_files or image_urls.")
    if body["option"] == KONTEXT and (len(images) % 2 or not body["prompt"]):
        return call.bad_request("FluxKontextFinetune needs (start, end) image pairs and a prompt.")
    if (refused := call.pay()) is not None:
        return refused
    job = timing.create_finetune(call.state, {**body.values, "image_files": list(body["image_files"])})
    call.note(job, created=True)
    return asset_view(call.state, job, call.url)


def finetune_unknown(call: Call) -> Response:
    """``GET /finetune/{trigger_word}`` of a word the sandbox does not know: an empty list, like a training that
    is still running (no 404 is documented for the route; a real server may not tell them apart)."""
    return wrapped([])


@api_route("GET", "/finetune/{trigger_word}", kind="finetune", missing=finetune_unknown)
async def get_finetune(call: Call) -> Any:
    """Report a training: ``{"data": []}`` until it is done, then its samples ``{"data": [{"URL": ...}]}``.

    openapi.json: "If completed, it will also return sample outputs for the LoRA"; no status field is documented, so
    none is sent, and a failed training stays an empty list.
    """
    return finetune_samples(call.state, call.job, call.url)
