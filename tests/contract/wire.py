"""
What the provider really puts on the wire, and the check of it against a documented request schema.

:func:`encode` turns an :class:`ApiRequest` into bytes exactly as the hook's sync path does
(:func:`~airflow_provider_vimmerse.hooks.transport.send`: ``requests`` with ``data=list(req.form)``,
``files=...``, ``json=req.json``) and decodes the prepared body back, so a check sees what the server
would see. :func:`check_request` compares that with a
:class:`Route` (from :mod:`airflow_provider_vimmerse.sandbox.documented_routes`): method,
path template, content type, every field name, type, enum, range, required fields, repeated fields
for arrays and JSON text for the fields documented as a string holding JSON.
"""

from __future__ import annotations

import copy
import email.parser
import email.policy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jsonschema
import requests

from airflow_provider_vimmerse.api.endpoints import ApiRequest
from airflow_provider_vimmerse.sandbox.documented_routes import JSON, JSON_TEXT_FIELDS, MULTIPART, URLENCODED, Route

BASE = "https://api.vimmerse.net"


@dataclass
class Wire:
    """
    A request as the server receives it.

    :param method: HTTP method
    :param path: URL path
    :param content_type: media type of the body (no parameters), or "" for no body
    :param fields: form fields in order (name, value), file parts excluded
    :param files: file parts (name, filename)
    :param json: the decoded JSON body, when the body is JSON
    """

    method: str
    path: str
    content_type: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    files: list[tuple[str, str]] = field(default_factory=list)
    json: Any = None

    def names(self) -> list[str]:
        """Return every field and file part name, in order."""
        return [name for name, _ in self.fields] + [name for name, _ in self.files]


def encode(req: ApiRequest) -> Wire:
    """Prepare ``req`` the way the hook's sync path sends it and decode the body back."""
    files = [(f.field, (f.filename, f.content, f.content_type)) for f in req.files] or None
    prepared = requests.Request(
        req.method,
        BASE + req.path,
        params=req.params,
        data=list(req.form) if req.form is not None else None,
        files=files,
        json=req.json,
    ).prepare()
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode()
    header = prepared.headers.get("Content-Type", "")
    content_type = header.split(";", 1)[0].strip().lower()
    wire = Wire(req.method, urlsplit(prepared.url or "").path, content_type if body else "")
    if content_type == URLENCODED:
        wire.fields = parse_qsl(body.decode(), keep_blank_values=True)
    elif content_type == MULTIPART:
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {header}\r\n\r\n".encode() + body
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            if filename is not None:
                wire.files.append((str(name), filename))
            else:
                wire.fields.append((str(name), part.get_payload(decode=True).decode()))
    elif content_type == JSON:
        wire.json = json.loads(body)
    return wire


# ---------------------------------------------------------------------- the check


def _types(prop: Mapping[str, Any]) -> set[str]:
    if "anyOf" in prop:
        return {t for option in prop["anyOf"] for t in _types(option)}
    kind = prop.get("type")
    return set(kind) if isinstance(kind, list) else {kind} if kind else set()


def _is_binary(prop: Mapping[str, Any]) -> bool:
    return prop.get("format") == "binary" or _is_binary(prop.get("items", {})) if prop else False


def _coerce(value: str, prop: Mapping[str, Any]) -> Any:
    """Read a form value as the server reads it for the property's type (a wrong one stays a string)."""
    kinds = _types(prop)
    if "integer" in kinds and re.fullmatch(r"-?\d+", value):
        return int(value)
    if "number" in kinds and re.fullmatch(r"-?\d+(\.\d+)?", value):
        return float(value)
    if "boolean" in kinds and value in ("true", "false"):
        return value == "true"
    return value


def strict(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Return the schema refusing properties it does not list (a field the documents do not name)."""
    result = copy.deepcopy(dict(schema))
    result["additionalProperties"] = False
    return result


def check_request(req: ApiRequest, route: Route) -> list[str]:
    """
    Return every way the request ``req`` differs from the documented ``route`` (empty: it matches).

    :param req: what the provider built
    :param route: what the documents say
    """
    wire = encode(req)
    problems: list[str] = []
    where = f"{wire.method} {wire.path} vs {route.source}"
    if not route.matches(wire.method, wire.path):
        problems.append(f"{where}: not the documented {route.method} {route.template}")
    if not route.content_types:
        if wire.content_type:
            problems.append(f"{where}: sends a {wire.content_type} body; the route documents none")
        return problems
    if not wire.content_type and not route.schema.get("required"):
        return problems  # every field is optional: sending none, and so no body, is documented too
    if wire.content_type not in _accepted(route.content_types, has_files=bool(wire.files)):
        problems.append(
            f"{where}: sends {wire.content_type or 'no body'}; documented: {', '.join(route.content_types)}"
        )
        return problems
    schema = route.schema
    if wire.content_type == JSON:
        instance = wire.json
    else:
        instance, form_problems = _form_instance(wire, schema)
        problems.extend(f"{where}: {p}" for p in form_problems)
    validator = jsonschema.Draft202012Validator(strict(schema))
    for error in validator.iter_errors(instance):
        at = "/".join(str(p) for p in error.absolute_path) or "(body)"
        problems.append(f"{where}: {at}: {error.message}")
    return problems


def _accepted(documented: tuple[str, ...], *, has_files: bool) -> set[str]:
    """
    Return the body types a route takes.

    A form route accepts either form encoding (FastAPI reads both), but files need multipart; the
    hook sends a form without files urlencoded.
    """
    accepted = set(documented)
    if MULTIPART in documented and not has_files:
        accepted.add(URLENCODED)
    if has_files:
        accepted &= {MULTIPART}
    return accepted


def _form_instance(wire: Wire, schema: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    props: Mapping[str, Any] = schema.get("properties", {})
    problems: list[str] = []
    grouped: dict[str, list[str]] = {}
    for name, value in wire.fields:
        grouped.setdefault(name, []).append(value)
    instance: dict[str, Any] = {}
    for name, values in grouped.items():
        prop = props.get(name)
        if prop is None:
            instance[name] = values[0]  # the strict schema names it
            continue
        if _is_binary(prop):
            problems.append(f"{name}: sent as a text field; documented as a file part")
            continue
        if "array" in _types(prop):
            instance[name] = [_coerce(v, prop.get("items", {})) for v in values]
            continue
        if len(values) > 1:
            problems.append(f"{name}: sent {len(values)} times; documented as one {sorted(_types(prop))} value")
        instance[name] = _coerce(values[0], prop)
        if name in JSON_TEXT_FIELDS:
            try:
                decoded = json.loads(values[0])
            except ValueError:
                problems.append(f"{name}: documented as JSON text ({JSON_TEXT_FIELDS[name]}); got {values[0]!r}")
            else:
                if not isinstance(decoded, (dict, list)):
                    problems.append(f"{name}: JSON text must hold an object or a list, got {values[0]!r}")
    files: dict[str, list[str]] = {}
    for name, filename in wire.files:
        files.setdefault(name, []).append(filename)
    for name, filenames in files.items():
        prop = props.get(name)
        if prop is None or not _is_binary(prop):
            problems.append(f"{name}: sent as a file part; the route documents no such file field")
            continue
        if "array" not in _types(prop) and len(filenames) > 1:
            problems.append(f"{name}: {len(filenames)} files; documented as one")
        instance[name] = filenames if "array" in _types(prop) else filenames[0]
    return instance, problems
