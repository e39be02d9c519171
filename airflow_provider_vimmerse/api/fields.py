"""
API fields as data: how a field is declared (:class:`RouteField`: its type, allowed values, range,
whether a local file may stand for it), and how a value is checked and converted before anything is sent.

The rows that hold these declarations are in :mod:`~airflow_provider_vimmerse.api.routes`: a
:class:`~airflow_provider_vimmerse.api.routes.Route` per operator route, a
:class:`~airflow_provider_vimmerse.api.routes.Tool` per tool route. The generic checks
(:func:`check_enum`, :func:`check_range`, :func:`check_urls`, :func:`check_images`) also serve the
cross-field rules of the media, batch, story, workflow and finetune modules.

Every check skips a value Airflow has not rendered yet (:func:`is_templated`): literal values are
checked when the DAG is parsed, templated ones when the task runs.

Pure module: no Airflow imports.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from airflow_provider_vimmerse.api.urls import HTTP_PREFIXES
from airflow_provider_vimmerse.exceptions import VimmerseInputError

if TYPE_CHECKING:
    from airflow_provider_vimmerse.api.routes import Tool

RATIO_PATTERN = re.compile(r"^(\d+):(\d+)$")
#: MIME types of the files operators upload, by extension.
CONTENT_TYPES: Mapping[str, str] = {
    ".mp4": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm", ".mkv": "video/x-matroska",
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp",
    ".mp3": "audio/mpeg", ".wav": "audio/wav", ".m4a": "audio/mp4", ".ogg": "audio/ogg", ".aac": "audio/aac",
}  # fmt: skip


# ---------------------------------------------------------------------- generic checks


def is_templated(value: Any) -> bool:
    """Return True for a value Airflow has not rendered yet (a Jinja string or an XCom reference)."""
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, Mapping):
        return any(is_templated(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(is_templated(v) for v in value)
    return value is not None and not isinstance(value, (int, float, bool, str, bytes)) and hasattr(value, "resolve")


def allowed_values(values: Sequence[Any]) -> str:
    """Return the allowed values of a field for a message: ``'a', 'b'``."""
    return ", ".join(repr(v) for v in values)


def closest(value: Any, allowed: Sequence[Any]) -> Any | None:
    """
    Return the allowed value ``value`` most likely meant (``KlingAl`` -> ``KlingAI``), or None when none is close.

    Case and surrounding spaces are ignored; otherwise the nearest spelling, if it is close enough.
    """
    text = str(value).strip().casefold()
    by_text = {str(option).casefold(): option for option in allowed if str(option)}
    if text in by_text:
        return by_text[text]
    import difflib  # only for an error message: not imported when a DAG file is parsed

    found = difflib.get_close_matches(text, list(by_text), n=1, cutoff=0.8)
    return by_text[found[0]] if found else None


def enum_error(field: str, value: Any, allowed: Sequence[Any]) -> VimmerseInputError:
    """Return the error for a value that is not one of ``allowed``: the value, a suggestion when close, the list."""
    guess = closest(value, allowed) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    hint = f" (did you mean {guess!r}?)" if guess is not None and guess != value else ""
    return VimmerseInputError(field, f"got {value!r}{hint}; allowed values: {allowed_values(allowed)}")


def check_enum(field: str, value: Any, allowed: Sequence[str]) -> None:
    """Raise :class:`.VimmerseInputError` unless ``value`` is None or one of ``allowed`` (with a suggestion)."""
    if value is None or is_templated(value):
        return
    if not isinstance(value, str) or value not in allowed:
        raise enum_error(field, value, allowed)


def check_range(field: str, value: Any, low: int, high: int | None = None) -> None:
    """Raise :class:`.VimmerseInputError` unless ``value`` is None or an integer from ``low`` to ``high`` (if given)."""
    if value is None or is_templated(value):
        return
    number = value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        number = int(value)
    if isinstance(number, bool) or not isinstance(number, int) or number < low or (high is not None and number > high):
        bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise VimmerseInputError(field, f"got {value!r}; must be an integer {bounds}")


def json_value(field: str, value: Any, kind: type[dict] | type[list]) -> Any:
    """
    Return a dict or a list given as itself or as its JSON string.

    :param field: the field, for messages
    :param value: the value or its JSON text
    :param kind: ``dict`` or ``list``
    :raises VimmerseInputError: for text that is not JSON, or a value of another type
    """
    if isinstance(value, str):
        value = _parse_json(field, value)
    if not isinstance(value, kind):
        expected = "an object (dict)" if kind is dict else "a list"
        raise VimmerseInputError(field, f"must be {expected}, got {type(value).__name__}")
    return value


def json_object(
    field: str, value: Any, keys: Sequence[str], *, what: str = "keys", enums: Mapping[str, Sequence[str]] | None = None
) -> dict[str, Any]:
    """
    Return a dict field (given as itself or as its JSON string) whose keys and their values are documented.

    :param field: the field, for messages (a key is named ``field.key``)
    :param value: the value or its JSON text
    :param keys: the documented keys
    :param what: what the keys are called in messages (``keys``, ``sections``)
    :param enums: key -> its allowed values
    :raises VimmerseInputError: naming the field or the key and what is allowed
    """
    obj: dict[str, Any] = json_value(field, value, dict)
    unknown = sorted(set(obj) - set(keys))
    if unknown:
        raise VimmerseInputError(field, f"unknown {what} {unknown}; allowed {what}: {allowed_values(keys)}")
    for key, allowed in (enums or {}).items():
        check_enum(f"{field}.{key}", obj.get(key), allowed)
    return obj


def _parse_json(field: str, text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise VimmerseInputError(field, f"is not valid JSON: {text[:80]!r}") from None


def check_urls(field: str, value: Any) -> None:
    """Validate one public http(s) URL or a list of them (``field[index]`` names a bad one)."""
    if value is None or is_templated(value):
        return
    items = value if isinstance(value, (list, tuple)) else [value]
    for index, url in enumerate(items):
        if not isinstance(url, str) or not url.startswith(HTTP_PREFIXES):
            raise VimmerseInputError(f"{field}[{index}]", f"must be a public http(s) URL, got {url!r}")


def check_images(image_files: Sequence[Any], image_urls: Sequence[Any], needed: str) -> list[Any] | None:
    """
    Require the images of a route that takes them as files or URLs: not both (the API ignores the URLs
    when files are sent), at least one.

    :param image_files: the image files (paths) to upload
    :param image_urls: the public image URLs
    :param needed: what the message says when there is none (``a batch needs at least one image``)
    :return: the images given (files, else URLs), or None while either is unrendered (nothing checked)
    :raises VimmerseInputError: naming ``image_files`` / ``image_urls``
    """
    if is_templated(image_files) or is_templated(image_urls):
        return None
    if image_files and image_urls:
        raise VimmerseInputError(
            "image_urls", "give image_files or image_urls, not both (the API ignores the URLs when files are sent)"
        )
    if not image_files and not image_urls:
        raise VimmerseInputError("image_files", f"{needed}: give image_files (paths) or image_urls (public URLs)")
    return list(image_files or image_urls)


# ---------------------------------------------------------------------- declaring fields


class FieldType(str, Enum):
    """How a field's value is checked and sent."""

    TEXT = "text"
    #: an http(s) URL; a field with ``media`` also takes a local file (uploaded, or sent as a file part)
    URL = "url"
    #: a non-empty list of URLs
    URLS = "urls"
    INT = "int"
    NUMBER = "number"
    #: a number the API takes as a string, such as ``compression_scale: "0.5"``
    NUMBER_TEXT = "number_text"
    BOOL = "bool"
    #: an aspect ratio ``W:H``
    RATIO = "ratio"
    LIST = "list"
    #: a list of integers, sent as repeated fields (``order_indices``)
    INTS = "ints"
    #: a dict or list sent as a JSON string (form routes)
    JSON = "json"
    #: local files (paths or ``ObjectStoragePath``\\ s) read by the operator and sent as file parts
    FILES = "files"


@dataclass(frozen=True)
class RouteField:
    """
    One field of a route: an input of a tool, or a field of an operator's route.

    :param name: the API's field name
    :param type: how the value is checked and sent
    :param required: the route refuses a request without it
    :param allowed: the documented values (empty: any)
    :param low: smallest allowed number (a list of integers: of each item)
    :param high: largest allowed number (a list of integers: of each item)
    :param media: ``video``, ``image`` or ``audio`` when a local file is accepted here
    :param file_field: form routes: the multipart field a local file is sent as (``image_file``);
        empty on JSON routes, where a local file is uploaded first and its hosted URL sent
    :param file_only: the route documents only the file part, no URL field: a local file is required
    :param default: the value the API uses when none is given (empty: none documented); not sent
    :param min_items: a list field: the fewest items the route works with (0: no minimum)
    """

    name: str
    type: FieldType = FieldType.TEXT
    required: bool = False
    allowed: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None
    media: str = ""
    file_field: str = ""
    file_only: bool = False
    default: str = ""
    min_items: int = 0

    def describe(self) -> str:
        """Return the field for a message, such as ``quantity (1-4)`` or ``video_url (URL or local video)``."""
        if self.allowed:
            return f"{self.name} ({'|'.join(map(str, self.allowed))})"
        if self.low is not None and self.high is not None:
            return f"{self.name} ({self.low:g}-{self.high:g})"
        if self.file_only:
            return f"{self.name} (local {self.media} file)"
        if self.media:
            return f"{self.name} (URL or local {self.media} file)"
        return self.name


# ---------------------------------------------------------------------- checking and converting values


def is_local_file(value: Any) -> bool:
    """Return True for a local file reference: a path, an ``ObjectStoragePath`` or a non-http(s) string."""
    if isinstance(value, str):
        return bool(value.strip()) and not value.startswith(HTTP_PREFIXES) and not is_templated(value)
    return isinstance(value, os.PathLike) or (hasattr(value, "read_bytes") and hasattr(value, "name"))


def prepare_values(tool: Tool, values: Mapping[str, Any]) -> dict[str, Any]:
    """
    Check every given field of a tool and return the values as the API wants them.

    Values still waiting for Airflow to render them (Jinja strings, XCom references) are kept as they
    are and checked on the next call, after rendering. Empty values (None, ``""``) count as not given.
    A job result (a dict with ``urls``/``video_urls``, e.g. another task's output) given for a URL field
    stands for its first output URL.

    :param tool: the tool's row
    :param values: field name -> value
    :raises VimmerseInputError: naming the field and what is allowed
    """
    unknown = [name for name in values if tool.field(name) is None]
    if unknown:
        fields = ", ".join(f.describe() for f in tool.fields)
        raise VimmerseInputError(unknown[0], f"is not a field of tool {tool.name!r}; its fields: {fields}")
    prepared: dict[str, Any] = {}
    for spec in tool.fields:
        value = values.get(spec.name)
        if _is_empty(value):
            continue
        prepared[spec.name] = value if is_templated(value) else convert(spec, value)
    _check_presence(tool, prepared)
    _check_counts(tool, prepared)
    return prepared


def _check_presence(tool: Tool, values: Mapping[str, Any]) -> None:
    for spec in tool.fields:
        if spec.required and spec.name not in values:
            raise VimmerseInputError(spec.name, f"is required by tool {tool.name!r}")
    groups = list(tool.one_of)
    option = values.get(tool.option_field) if tool.option_field else None
    if isinstance(option, str):
        groups.extend(tool.needs.get(option, ()))
    for group in groups:
        if not any(name in values for name in group):
            what = f"tool {tool.name!r}" + (f" with {tool.option_field}={option!r}" if option in tool.needs else "")
            raise VimmerseInputError(group[0], f"{what} needs at least one of: {', '.join(group)}")


def _check_counts(tool: Tool, values: Mapping[str, Any]) -> None:
    given = values.get(tool.option_field) if tool.option_field else None
    option = given or tool.default_option
    default = "" if given else " (the default)"
    for spec in tool.fields:
        items = values.get(spec.name)
        if not isinstance(items, list) or is_templated(items) or is_templated(option):
            continue
        if spec.min_items and len(items) < spec.min_items:
            raise VimmerseInputError(
                spec.name, f"got {len(items)} item(s); tool {tool.name!r} needs at least {spec.min_items}"
            )
        most = tool.max_items.get(option) if isinstance(option, str) else None
        if most is not None and len(items) > most:
            limits = ", ".join(f"{name}: {count}" for name, count in tool.max_items.items())
            raise VimmerseInputError(
                spec.name,
                f"got {len(items)} items; tool {tool.name!r} with {tool.option_field}={option!r}{default} takes at "
                f"most {most} (files and URLs together; by option: {limits})",
            )


def convert(spec: RouteField, value: Any) -> Any:
    """
    Return one rendered value as the API wants it.

    :raises VimmerseInputError: naming the field and what is allowed
    """
    name = spec.name
    if spec.type is FieldType.URL:
        return _url(name, _first_output(name, value), spec)
    if spec.type is FieldType.URLS:
        items = _as_items(name, value)
        if not items:
            raise VimmerseInputError(name, "must hold at least one URL")
        return [_url(f"{name}[{index}]", item, spec) for index, item in enumerate(items)]
    if spec.type in (FieldType.INT, FieldType.NUMBER, FieldType.NUMBER_TEXT):
        number = _number(name, value, integer=spec.type is FieldType.INT)
        _check_bounds(spec, number, value)
        return str(value).strip() if spec.type is FieldType.NUMBER_TEXT else number
    if spec.type is FieldType.BOOL:
        return _bool(name, value)
    if spec.type is FieldType.LIST:
        return _as_items(name, value)
    if spec.type is FieldType.INTS:
        numbers = []
        for item in _as_items(name, value):
            number = _number(name, item, integer=True)
            _check_bounds(spec, number, item)
            numbers.append(number)
        return numbers
    if spec.type is FieldType.JSON:
        return _json_text(name, value)
    if not isinstance(value, str):
        raise VimmerseInputError(name, f"must be a string, got {type(value).__name__} {value!r}")
    if spec.type is FieldType.RATIO and not RATIO_PATTERN.match(value):
        raise VimmerseInputError(name, f"got {value!r}; must be an aspect ratio W:H such as '16:9' or '9:16'")
    if spec.allowed:
        check_enum(name, value, spec.allowed)
    return value


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _first_output(name: str, value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    urls = _result_urls(value)
    if not urls:
        raise VimmerseInputError(name, f"the job result given has no output URL: {str(value)[:120]!r}")
    return urls[0]


def _result_urls(value: Mapping[str, Any]) -> list[Any]:
    urls = value.get("urls") or value.get("video_urls") or []
    return list(urls) if isinstance(urls, (list, tuple)) else [urls]


def _url(name: str, value: Any, spec: RouteField) -> Any:
    if spec.file_only and not is_local_file(value):
        raise VimmerseInputError(
            name,
            f"must be a local {spec.media} file (a path or ObjectStoragePath): the route documents only "
            f"the file part {spec.file_field!r}, no URL field; got {value!r}",
        )
    if isinstance(value, str) and value.startswith(HTTP_PREFIXES):
        return value
    if spec.media and is_local_file(value):
        return value
    also = f" or a local {spec.media} file (a path or ObjectStoragePath)" if spec.media else ""
    raise VimmerseInputError(name, f"must be an http(s) URL{also}, got {value!r}")


def _as_items(name: str, value: Any) -> list[Any]:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                try:
                    import ast  # only for a rendered Python list: not imported when a DAG file is parsed

                    value = ast.literal_eval(text)  # a rendered Python list: "['a', 'b']"
                except (ValueError, SyntaxError):
                    raise VimmerseInputError(name, f"is not a list: {text[:80]!r}") from None
        else:
            return [value]
    if isinstance(value, Mapping):
        return _result_urls(value)
    if isinstance(value, (list, tuple)):
        items: list[Any] = []
        for item in value:
            items.extend(_result_urls(item) if isinstance(item, Mapping) else [item])
        return items
    return [value]


def _number(name: str, value: Any, *, integer: bool) -> float | int:
    number: Any = value
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number):
        kind = "an integer" if integer else "a number"
        raise VimmerseInputError(name, f"must be {kind}, got {value!r}")
    if integer:
        if number != int(number):
            raise VimmerseInputError(name, f"must be an integer, got {value!r}")
        return int(number)
    return number


def _check_bounds(spec: RouteField, number: float, value: Any) -> None:
    low, high = spec.low, spec.high
    if (low is not None and number < low) or (high is not None and number > high):
        if low is not None and high is not None:
            bounds = f"from {low:g} to {high:g}"
        else:
            bounds = f"at least {low:g}" if low is not None else f"at most {high:g}"
        kind = "an integer" if spec.type in (FieldType.INT, FieldType.INTS) else "a number"
        raise VimmerseInputError(spec.name, f"got {value!r}; must be {kind} {bounds}")


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise VimmerseInputError(name, f"must be true or false, got {value!r}")


def _json_text(name: str, value: Any) -> str:
    if isinstance(value, str):
        _parse_json(name, value)
        return value
    if isinstance(value, (Mapping, list, tuple)):
        return json.dumps(value)
    raise VimmerseInputError(name, f"must be a dict, a list or a JSON string, got {type(value).__name__}")


# ---------------------------------------------------------------------- local files


@dataclass(frozen=True)
class LocalInput:
    """
    A local file given for a field, to upload (JSON routes) or send as a file part (form routes).

    :param field: the field name
    :param index: the position in a list field, or None
    :param source: the path or ``ObjectStoragePath`` as given
    :param media: ``video``, ``image`` or ``audio``
    """

    field: str
    index: int | None
    source: Any
    media: str

    @property
    def label(self) -> str:
        """Return ``field`` or ``field[index]`` for messages."""
        return self.field if self.index is None else f"{self.field}[{self.index}]"


def local_inputs(tool: Tool, values: Mapping[str, Any]) -> list[LocalInput]:
    """Return every local file among prepared values, in field order."""
    return media_inputs(tool, values, is_local_file)


def media_inputs(tool: Tool, values: Mapping[str, Any], accept: Callable[[Any], bool]) -> list[LocalInput]:
    """Return the media inputs (files or URLs) among prepared values that ``accept`` takes, in field order."""
    found: list[LocalInput] = []
    for spec in tool.fields:
        value = values.get(spec.name)
        if not spec.media or value is None:
            continue
        if spec.type is FieldType.URLS:
            found.extend(LocalInput(spec.name, i, v, spec.media) for i, v in enumerate(value) if accept(v))
        elif accept(value):
            found.append(LocalInput(spec.name, None, value, spec.media))
    return found


def replace_inputs(values: Mapping[str, Any], replacements: Mapping[tuple[str, int | None], Any]) -> dict[str, Any]:
    """Return ``values`` with some fields (or list items) replaced, e.g. local files by their hosted URLs."""
    result = dict(values)
    for (name, index), new in replacements.items():
        if index is None:
            result[name] = new
        else:
            items = list(result[name])
            items[index] = new
            result[name] = items
    return result


def content_type(filename: str) -> str:
    """Return the MIME type of a file name, by its extension."""
    return CONTENT_TYPES.get(os.path.splitext(filename)[1].lower(), "application/octet-stream")
