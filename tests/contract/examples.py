"""
The API documents' response examples, and JSON *shapes* to compare answers with them.

Examples come only from files inside the repository (CI clones it alone):

* the sandbox's ``openapi.json``: every ``example`` (and ``examples``) under ``responses``, read as they are, so
  an example added to the document is picked up without touching the tests;
* ``data/examples/<name>.json``: the examples of the ``.txt`` documents, transcribed by hand (the text
  prints them with ``- `` bullets); ``data/examples/index.json`` cites the file, section and lines of each.

A shape is a value's JSON type tree: ``object`` with its keys, ``array`` with its items, or a scalar type
(``string``, ``number``, ``boolean``, ``null``). :func:`shape_differences` compares an answer with the
documented examples of the same route.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from airflow_provider_vimmerse.sandbox.documented_routes import openapi

DATA = Path(__file__).parent / "data"
EXAMPLES = DATA / "examples"

#: Keys whose content is free-form (a storyboard, the request's echo, signed upload forms): only their type
#: is compared, not their keys.
FREE_FORM = frozenset({"storyboard", "args", "upload_urls", "breakdown"})


@dataclass(frozen=True)
class DocExample:
    """
    One documented answer.

    :param name: test id: ``<operationId>-<status>`` for openapi.json, the file name for a transcription
    :param source: the document (``openapi.json``, ``media.txt``...) and where in it
    :param method: HTTP method of the route
    :param path: the route as the document writes it (``/media/{media_id}``)
    :param status: HTTP status of the answer (None for a webhook payload)
    :param body: the example, decoded
    :param notes: what the transcription had to decide, if anything
    """

    name: str
    source: str
    method: str
    path: str
    status: int | None
    body: Any
    notes: str = ""

    @property
    def route(self) -> str:
        """Return ``METHOD /path``."""
        return f"{self.method} {self.path}"


def openapi_examples() -> list[DocExample]:
    """Return every response example of openapi.json, one per operation, status and example."""
    found = []
    for path, operations in openapi()["paths"].items():
        for method, operation in operations.items():
            for status, response in operation.get("responses", {}).items():
                for media_type, content in (response.get("content") or {}).items():
                    name = f"{operation['operationId']}-{status}"
                    where = f"openapi.json paths.{path}.{method}.responses.{status}.content.{media_type}"
                    if "example" in content:
                        found.append(DocExample(name, where, method.upper(), path, int(status), content["example"]))
                    for key, example in (content.get("examples") or {}).items():
                        found.append(
                            DocExample(
                                f"{name}-{key}",
                                f"{where}.examples.{key}",
                                method.upper(),
                                path,
                                int(status),
                                example.get("value"),
                            )
                        )
    return found


@cache
def _index() -> dict[str, dict[str, Any]]:
    return json.loads((EXAMPLES / "index.json").read_text(encoding="utf-8"))


def text_examples() -> list[DocExample]:
    """Return the transcribed examples of the .txt documents, in the index's order."""
    found = []
    for name, entry in _index().items():
        body = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
        where = f"{entry['source']} lines {entry['lines']} ({entry['section']})"
        found.append(
            DocExample(name, where, entry["method"], entry["path"], entry.get("status"), body, entry.get("notes", ""))
        )
    return found


def text_example(name: str) -> DocExample:
    """Return one transcribed example by its file name."""
    return next(example for example in text_examples() if example.name == name)


def openapi_example(method: str, path: str, status: int = 200) -> DocExample:
    """Return the openapi.json example of a route and status."""
    return next(
        example
        for example in openapi_examples()
        if (example.method, example.path, example.status) == (method, path, status)
    )


def json_type(value: Any) -> str:
    """Return the JSON type name of a decoded value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"not a JSON value: {value!r}")


def shape(value: Any) -> Any:
    """Return the type tree of a value: dicts of shapes, a list of the distinct item shapes, or a type name."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        items: list[Any] = []
        for item in value:
            if shape(item) not in items:
                items.append(shape(item))
        return items
    return json_type(value)


def wrappers(body: Any) -> tuple[int, Any]:
    """Return how many ``{"data": ...}`` wrappers (objects with no other key) hold the object, and the object."""
    depth = 0
    while isinstance(body, dict) and set(body) == {"data"}:
        body, depth = body["data"], depth + 1
    return depth, body


def shape_differences(
    actual: Any,
    documented: Sequence[Any],
    *,
    extra_keys: frozenset[str] = frozenset(),
    path: str = "$",
) -> list[str]:
    """
    Return how an answer's shape departs from the documented examples of its route (empty when it does not).

    The first example is the reference for the wrapper nesting (``data`` once, twice or not at all);
    examples nested otherwise are left out. Keys that every example shows must be present; a key no
    example shows may not appear unless ``extra_keys`` lists it; a key's JSON type must be one that an
    example gives it (documents disagree on some). List items are compared with every documented item.
    An empty documented object or array shows no keys or items, so only the type is compared there;
    :data:`FREE_FORM` keys are compared by type only.

    :param actual: the decoded answer
    :param documented: the documented examples (decoded), the reference first
    :param extra_keys: keys allowed although no example shows them (named by the prose, or sandbox-only)
    :param path: where in the answer we are, for the messages
    """
    if path == "$":
        depth, actual = wrappers(actual)
        documented_depth, reference = wrappers(documented[0])
        if depth != documented_depth:
            return [f"$: wrapped in data {depth} time(s), documented {documented_depth} time(s)"]
        documented = [reference, *(wrappers(other)[1] for other in documented[1:] if wrappers(other)[0] == depth)]
    kind = json_type(actual)
    same_type = [doc for doc in documented if json_type(doc) == kind]
    if not same_type:
        return [f"{path}: {kind}, documented {json_type(documented[0])}"]
    # documents that disagree on a key's type (is_transition: "No" and false) each allow theirs
    documented = same_type
    if kind == "object":
        return _object_differences(actual, [d for d in documented if isinstance(d, dict)], extra_keys, path)
    if kind == "array" and actual:
        items = [item for d in documented if isinstance(d, list) for item in d]
        if not items:
            return []
        differences: list[str] = []
        for index, item in enumerate(actual):
            same_type = [doc for doc in items if json_type(doc) == json_type(item)] or items
            differences += shape_differences(item, same_type, extra_keys=extra_keys, path=f"{path}[{index}]")
        return sorted(set(differences))
    return []


def _object_differences(
    actual: dict[str, Any], documented: list[dict[str, Any]], extra_keys: frozenset[str], path: str
) -> list[str]:
    documented = [doc for doc in documented if doc]
    if not documented:
        return []
    shown = {key for doc in documented for key in doc}
    required = [key for key in documented[0] if all(key in doc for doc in documented)]
    differences = [f"{path}.{key}: documented, missing" for key in required if key not in actual]
    differences += [
        f"{path}.{key}: not in the documents" for key in actual if key not in shown and key not in extra_keys
    ]
    for key in actual.keys() & shown:
        docs = [doc[key] for doc in documented if key in doc]
        if key in FREE_FORM:
            if json_type(actual[key]) not in {json_type(doc) for doc in docs}:
                differences.append(f"{path}.{key}: {json_type(actual[key])}, documented {json_type(docs[0])}")
            continue
        differences += shape_differences(actual[key], docs, extra_keys=extra_keys, path=f"{path}.{key}")
    return differences


def all_keys(value: Any) -> frozenset[str]:
    """Return every object key in a value, at any depth."""
    if isinstance(value, dict):
        return frozenset(value).union(*(all_keys(item) for item in value.values()))
    if isinstance(value, list):
        return frozenset().union(*(all_keys(item) for item in value))
    return frozenset()


def all_examples() -> Iterator[DocExample]:
    """Yield every documented example: openapi.json's, then the transcribed ones."""
    yield from openapi_examples()
    yield from text_examples()
