"""Request bodies: read a form or JSON body and validate it against the route's documented schema.

The schema of a route is its row in :mod:`~airflow_provider_vimmerse.sandbox.documented_routes` (openapi.json, or
the text documents where openapi.json has no such route), with the values the documents give in prose
(``PROSE_ENUMS``) and the JSON text fields (``JSON_TEXT_FIELDS``) - the same tables the contract tests check the
provider against. The sandbox adds only what the documents leave open (:data:`LIKE_MEDIA`, :data:`NARROWER`).

A pydantic model is built from that schema once per route, so a bad field answers 422 in FastAPI's shape:
``{"detail": [{"loc": ["body", field], "msg": ..., "type": ...}]}`` (openapi.json ``HTTPValidationError``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal, Optional, Union

import pydantic
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, ConfigDict, Field

from airflow_provider_vimmerse.sandbox.documented_routes import (
    DOCUMENTED_ROUTES,
    JSON_TEXT_FIELDS,
    JSON_TEXT_LISTS,
    OPENAPI_ROUTES,
    PROSE_ENUMS,
)

#: How a route reads its body: a form, a JSON object, or either (where the documents disagree on the form:
#: story.txt sends forms where openapi.json and platform-api-v1-legacy.txt send JSON, and the other way round).
FORM = "form"
JSON = "json"
EITHER = "either"

#: batch.txt names the batch fields without their values; a batch makes one POST /media per image, so a batch
#: field takes the type, values, range and default POST /media documents for the same field.
LIKE_MEDIA = (("POST", "/batch"), ("PUT", "/batch/{batch_id}/edit"))
#: Where the documents leave a field open and the sandbox narrows it: (method, path) -> field -> schema keywords.
#: openapi.json: the number of scenes "varies by subscription plan"; the sandbox's plan allows 10.
NARROWER: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    ("POST", "/story/idea-2-video"): {"idea": {"minLength": 1}, "scene_count": {"maximum": 10}},
    ("POST", "/story"): {"idea": {"minLength": 1}, "scene_count": {"minimum": 1, "maximum": 10}},
}
#: What a route cannot run without beyond its schema: (method, path) -> groups, one field of each group needed (a
#: ``*_url`` field is also met by its ``*_file`` part). Answered with 400, the status the documents give.
NEEDS: dict[tuple[str, str], tuple[tuple[str, ...], ...]] = {
    # openapi.json and media.txt: "Either prompt, image_files, image_urls, or media_items must be provided."
    ("POST", "/media"): (("prompt", "image_urls", "media_items"),),
    ("POST", "/batch"): (("image_urls",),),  # batch.txt: one media per image
    # video-v2.txt "Lip-Sync Video": a face (image or video) and a voice (audio, or a script to speak).
    ("POST", "/v2/video/lip-sync"): (("image_url", "video_url"), ("audio_url", "prompt")),
    # The sandbox's reading of the legacy tools' descriptions: what each one works on.
    ("POST", "/image/image-2-image"): (("image_url",), ("prompt",)),
    ("POST", "/image/reimagine"): (("image_url",),),
    ("POST", "/image/edit-image"): (("image_url",),),
    ("POST", "/audio/text-2-speech"): (("prompt",),),
    ("POST", "/audio/text-2-sound-effect"): (("prompt",),),
    # openapi.json /image/replace-background table: "image_file or image_url ... Yes".
    ("POST", "/image/replace-background"): (("image_url",),),
    # openapi.json /image/try-on: a person and a garment, each "(required)".
    ("POST", "/image/try-on"): (("human_image_url",), ("clothes_image_url",)),
    # openapi.json /image/face-swap: "image_files ... (required if not using URLs)", and the reverse.
    ("POST", "/image/face-swap"): (("image_urls",),),
    # openapi.json /image/restyle: "image_file or image_url: Source image (required)".
    ("POST", "/image/restyle"): (("image_url",),),
    # openapi.json /image/elements: "The first image is the main image": the sandbox reads that one is needed.
    ("POST", "/image/elements"): (("image_urls",),),
    # openapi.json /audio/text-2-music table: prompt "Required: Yes" (the schema's default is "").
    ("POST", "/audio/text-2-music"): (("prompt",),),
}
#: How many images a list route takes, files and URLs together: (method, path) -> (fewest, option -> most).
#: openapi.json /image/face-swap: "The first image is the main target image and rest of them are human / face
#: images" (so two at least); /image/elements image_files: "Max 4 files are supported from FluxKontextPro, 6 files
#: for Seedream, 8 files for FluxPro, and 10 files are supported from GPTImage, NanoBanana and NanoBananaPro".
IMAGE_COUNTS: dict[tuple[str, str], tuple[int, dict[str, int]]] = {
    ("POST", "/image/face-swap"): (2, {}),
    ("POST", "/image/elements"): (
        1,
        {"FluxKontextPro": 4, "Seedream": 6, "FluxPro": 8, "GPTImage": 10, "NanoBanana": 10, "NanoBananaPro": 10},
    ),
}
#: What an ``option`` of a legacy tool needs besides: option -> groups, as in :data:`NEEDS`.
OPTION_NEEDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "TryOn": (("image2_url",),),
    "Inpaint": (("mask_url",), ("prompt",)),
    "Image2Prompt": (("image_url", "video_url"),),
    "RefinePrompt": (("prompt",),),
    # openapi.json /image/replace-background: image2 is "required for ReplaceBackground and RestyleBackground".
    "ReplaceBackground": (("image2_url",),),
    "RestyleBackground": (("image2_url",),),
}


@dataclass(frozen=True)
class Body:
    """A validated request body: every documented field (defaults filled in) and the names the client sent.

    :param values: field name -> value, in the documented order; extra fields of v2 tools follow.
    :param given: the fields the request carried.
    """

    values: dict[str, Any]
    given: frozenset[str]

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def changes(self) -> dict[str, Any]:
        """Return only the fields the request carried (what an edit changes)."""
        return {name: value for name, value in self.values.items() if name in self.given}


NO_BODY = Body({}, frozenset())


def problem(method: str, path: str, body: Body) -> str | None:
    """Return what a valid body still lacks (:data:`NEEDS`, :data:`OPTION_NEEDS`), or None when it lacks nothing.

    :param method: the route's method.
    :param path: the route's path template.
    :param body: the validated body.
    """
    _, files = form_fields(method, path)

    def given(name: str) -> bool:
        return bool(body.values.get(name) or body.values.get(_file_of(name)))

    def alternatives(name: str) -> str:
        return f"{_file_of(name)} or {name}" if _file_of(name) in files else name

    needs = NEEDS.get((method, path), ())
    option = str(body.values.get("option"))
    option_needs = OPTION_NEEDS.get(option, ())
    for group in (*needs, *option_needs):
        if not any(given(name) for name in group):
            where = f" for option {option}." if group in option_needs else "."
            return f"Provide {' or '.join(alternatives(name) for name in group)}{where}"
    if (method, path) in IMAGE_COUNTS:
        fewest, most_by_option = IMAGE_COUNTS[method, path]
        count = len(body.values.get("image_files") or []) + len(body.values.get("image_urls") or [])
        most = most_by_option.get(option)
        if count < fewest:
            return f"Provide at least {fewest} images in image_files and image_urls; got {count}."
        if most is not None and count > most:
            return f"Option {option} supports at most {most} images; got {count}."
    return None


def _file_of(name: str) -> str:
    # image_urls -> image_files, image_url -> image_file, mask_url -> mask_file.
    return name.replace("_urls", "_files").replace("_url", "_file")


async def read_body(request: Request, method: str, path: str, mode: str) -> Body:
    """Read a route's body and validate it against the route's documented schema.

    :param request: the incoming request.
    :param method: the route's method.
    :param path: the route's path template, as the documents write it.
    :param mode: :data:`FORM`, :data:`JSON` or :data:`EITHER`.
    :raises RequestValidationError: when a field is invalid (answered with 422).
    """
    as_json = mode == JSON or (mode == EITHER and request.headers.get("content-type", "").startswith(JSON_TYPE))
    if as_json:
        data = await read_json(request)
        if mode == EITHER:
            # A JSON body may carry nested objects where a form carries JSON text.
            data = {key: json.dumps(value) if isinstance(value, dict) else value for key, value in data.items()}
    else:
        lists, files = form_fields(method, path)
        data = await read_form(request, lists=lists, files=files)
    return validate(method, path, data)


def validate(method: str, path: str, data: Mapping[str, Any]) -> Body:
    """Validate request data with the route's model.

    :param method: the route's method.
    :param path: the route's path template.
    :param data: the form or JSON data.
    :raises RequestValidationError: with FastAPI's ``loc``/``msg``/``type`` items (answered with 422).
    """
    try:
        model = body_model(method, path).model_validate(data)
    except pydantic.ValidationError as exc:
        errors = [
            {"loc": ["body", *error["loc"]], "msg": error["msg"], "type": error["type"]}
            for error in exc.errors(include_url=False)
        ]
        raise RequestValidationError(errors) from None
    return Body(model.model_dump(), frozenset(model.model_fields_set))


def missing(name: str) -> RequestValidationError:
    """Return the 422 error of a missing body field, as FastAPI words it.

    :param name: the field.
    """
    return RequestValidationError([{"loc": ["body", name], "msg": "Field required", "type": "missing"}])


JSON_TYPE = "application/json"


async def read_json(request: Request) -> dict[str, Any]:
    """Read a JSON object body; an empty body is an empty object.

    :param request: the incoming request.
    :raises RequestValidationError: when the body is not a JSON object (answered with 422).
    """
    body = await request.body()
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except ValueError as exc:
        position = getattr(exc, "pos", 0)
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ["body", position], "msg": "JSON decode error"}]
        ) from None
    if not isinstance(data, dict):
        raise RequestValidationError(
            [
                {
                    "type": "model_attributes_type",
                    "loc": ["body"],
                    "msg": "Input should be a valid dictionary or object to extract fields from",
                }
            ]
        )
    return data


async def read_form(request: Request, lists: tuple[str, ...] = (), files: tuple[str, ...] = ()) -> dict[str, Any]:
    """Read a multipart or urlencoded form into a dict; empty values count as not given.

    :param request: the incoming request.
    :param lists: fields that may repeat (or hold a JSON list) and are returned as lists of strings.
    :param files: file fields, returned as lists of file names (the content is not kept).
    """
    data: dict[str, Any] = {}
    async with request.form() as form:
        for key in dict.fromkeys(form.keys()):
            values = form.getlist(key)
            if key in files:
                data[key] = [v.filename or "upload" for v in values if not isinstance(v, str)]
            elif key in lists:
                data[key] = _expand_list([v for v in values if isinstance(v, str) and v])
            elif isinstance(values[-1], str) and values[-1] != "":
                data[key] = values[-1]
    return data


def _expand_list(values: list[str]) -> list[str]:
    # A list may come as repeated fields or as one JSON list string.
    if len(values) == 1 and values[0].lstrip().startswith("["):
        try:
            parsed = json.loads(values[0])
        except ValueError:
            return values
        if isinstance(parsed, list):
            return [str(item) for item in parsed]
    return values


# The schema of a route, and the model built from it


def form_fields(method: str, path: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return a route's list fields (may repeat) and file fields, from its documented schema.

    :param method: the route's method.
    :param path: the route's path template.
    """
    properties, _ = route_schema(method, path)
    files = tuple(name for name, prop in properties.items() if _is_file(prop))
    lists = tuple(name for name, prop in properties.items() if prop.get("type") == "array" and name not in files)
    return lists, files


@cache
def route_schema(method: str, path: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Return the properties and required fields the sandbox checks for a route.

    :param method: the route's method.
    :param path: the route's path template, exactly as the documents write it.
    :raises LookupError: when no document describes the route.
    """
    route = next(
        (r for r in (*DOCUMENTED_ROUTES, *OPENAPI_ROUTES) if (r.method, r.template) == (method, path)),
        None,
    )
    if route is None:
        raise LookupError(f"no document describes {method} {path}")
    properties = copy.deepcopy(dict(route.schema.get("properties", {})))
    for (where, name), (values, _) in PROSE_ENUMS.items():
        if where == path and name in properties:
            properties[name]["enum"] = list(values)
    if (method, path) in LIKE_MEDIA:
        media, _ = route_schema("POST", "/media")
        properties = {name: copy.deepcopy(media.get(name, prop)) for name, prop in properties.items()}
    for name, narrower in NARROWER.get((method, path), {}).items():
        properties[name].update(narrower)
    return properties, tuple(route.schema.get("required", ()))


@cache
def body_model(method: str, path: str) -> type[pydantic.BaseModel]:
    """Return the pydantic model of a route's body, built from :func:`route_schema` on first use.

    Unknown fields are ignored like the API does; the v2 video tools keep them (they become the asset's ``args``).

    :param method: the route's method.
    :param path: the route's path template.
    """
    properties, required = route_schema(method, path)
    keeps_extra = path.startswith("/v2/video/") and path != "/v2/video/estimate-credits"
    fields: dict[str, Any] = {name: _field(name, prop, name in required) for name, prop in properties.items()}
    config = ConfigDict(extra="allow" if keeps_extra else "ignore")
    name = "".join(part.title() for part in f"{method} {path}".replace("/", " ").replace("-", " ").split() if part)
    return pydantic.create_model(name.replace("{", "").replace("}", ""), __config__=config, **fields)


def _field(name: str, prop: Mapping[str, Any], required: bool) -> tuple[Any, Any]:
    options = prop.get("anyOf", [prop])
    kinds = [_annotation(name, option) for option in options if option.get("type") != "null"]
    annotation: Any = kinds[0] if len(kinds) == 1 else Union[tuple(kinds)] if kinds else Any  # noqa: UP007
    if len(kinds) < len(options):
        annotation = Optional[annotation]  # noqa: UP045
    if required:
        return annotation, ...
    if "default" in prop:
        default = prop["default"]
        return annotation, Field(default_factory=lambda: copy.deepcopy(default))
    return annotation, Field(default_factory=list) if _is_file(prop) else None


def _annotation(name: str, schema: Mapping[str, Any]) -> Any:
    kind = schema.get("type")
    if _is_file(schema):
        return list[str]  # a form's file parts arrive as the list of their file names
    if kind is None and "enum" in schema:
        return Literal[tuple(schema["enum"])]  # a field without a type whose values are in prose (face-swap option)
    if kind == "string":
        if "enum" in schema:
            return Literal[tuple(schema["enum"])]
        checks: list[Any] = [Field(pattern=schema.get("pattern"), min_length=schema.get("minLength"))]
        if name in JSON_TEXT_FIELDS:
            checks.append(AfterValidator(_json_text(list if name in JSON_TEXT_LISTS else dict)))
        return Annotated[(str, *checks)]
    if kind in ("integer", "number"):
        number = int if kind == "integer" else float
        if "enum" in schema:
            return Annotated[number, AfterValidator(_one_of(tuple(schema["enum"])))]
        return Annotated[number, Field(ge=schema.get("minimum"), le=schema.get("maximum"))]
    if kind == "boolean":
        return bool
    if kind == "array":
        items = _annotation(name, schema.get("items", {}))
        return Annotated[_LIST[items], Field(min_length=schema.get("minItems"))]
    if kind == "object":
        return Union[dict[str, Any], Annotated[str, AfterValidator(_json_text(dict))]]  # noqa: UP007
    return Any


_LIST: Any = list  # subscripted with a type built at run time


def _is_file(prop: Mapping[str, Any]) -> bool:
    return prop.get("format") == "binary" or prop.get("items", {}).get("format") == "binary"


def _json_text(kind: type) -> Callable[[str], str]:
    what = "a list of items" if kind is list else "an object"

    def check(value: str) -> str:
        try:
            parsed = json.loads(value)
        except ValueError:
            raise ValueError(f"must be a valid JSON string ({what})") from None
        if not isinstance(parsed, kind):
            raise ValueError(f"must be a JSON {'list' if kind is list else 'object'}")
        return value

    return check


def _one_of(values: tuple[Any, ...]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value not in values:
            raise ValueError(f"Input should be {' or '.join(str(v) for v in values)}")
        return value

    return check
