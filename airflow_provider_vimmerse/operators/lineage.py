"""
What a Vimmerse task reports to OpenLineage, when its provider is installed and configured.

* inputs: the image, video and audio URLs and the local files the task sent (its declared
  parameters of URL and file types, a tool's media fields), or for a download the URLs it fetched;
* outputs: the generated outputs (their URLs), or for a download the files it wrote, by their final
  names (never the ``.part`` file it writes first);
* the run facet ``vimmerse_job``: the job's kind, id, status, credits used and web link.

Datasets are named as OpenLineage's naming spec says: ``https://host`` and the URL's path (the
query is dropped: it may carry a signature); ``file`` and the absolute path; ``s3://bucket`` and
the key (any object storage alike). Only
:meth:`~.base.VimmerseHookMixin.get_openlineage_facets_on_start`, ``..._on_complete`` and
``..._on_failure`` call this module, and only OpenLineage's listener calls them: without the provider
nothing here is imported.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, urlsplit

from airflow_provider_vimmerse.api.fields import FieldType
from airflow_provider_vimmerse.api.routes import as_list
from airflow_provider_vimmerse.api.urls import HTTP_PREFIXES

if TYPE_CHECKING:
    from airflow_provider_vimmerse.operators.outlets import Made

#: Name of the run facet that says which Vimmerse job the task ran.
JOB_FACET = "vimmerse_job"
#: Object stores whose bucket is the namespace (the rest of the path is the name, without its first ``/``).
_BUCKET_SCHEMES = ("s3", "s3a", "gs", "gcs", "abfs", "abfss", "wasbs", "az", "adl")


def operator_lineage(operator: Any, made: Sequence[Made]) -> Any:
    """
    Return the task's ``OperatorLineage``: inputs, outputs and the ``vimmerse_job`` run facet.

    :param operator: the Vimmerse operator or sensor
    :param made: what its run made (empty when it failed: inputs only)
    :return: None when the OpenLineage provider is not installed (there is nothing to report to)
    """
    try:
        from airflow.providers.openlineage.extractors import OperatorLineage
        from openlineage.client.event_v2 import InputDataset, OutputDataset
    except ImportError:
        return None
    inputs = [InputDataset(namespace, name) for namespace, name in _named(sent_inputs(operator, made))]
    outputs = [OutputDataset(namespace, name) for namespace, name in _named(made_outputs(made))]
    facet = job_facet(made)
    run_facets = {JOB_FACET: _facet_class()(**facet)} if facet else {}
    return OperatorLineage(inputs=inputs, outputs=outputs, run_facets=run_facets)


def sent_inputs(operator: Any, made: Sequence[Made]) -> list[Any]:
    """
    Return the media the task sent or fetched: URLs, local paths and ``ObjectStoragePath``\\ s.

    A download's inputs are the URLs it fetched; an operator's, the values of its parameters of URL
    and file types (and ``url`` items of its JSON list parameters), or its tool's media fields.
    """
    if any(item.paths is not None for item in made):
        return [url for item in made for url in item.result.get("video_urls") or ()]
    found: list[Any] = []
    route = getattr(operator, "route", None)
    for spec in route.fields if route is not None else ():
        if spec.type in _MEDIA_TYPES:
            found.extend(_media_of(getattr(operator, spec.name, None), files=spec.type is FieldType.FILES))
    if hasattr(operator, "tool_table") and isinstance(getattr(operator, "inputs", None), Mapping):
        found.extend(_tool_inputs(operator))
    return found


def made_outputs(made: Sequence[Made]) -> list[Any]:
    """Return what the run made: the written paths of a download, else every output URL."""
    if any(item.paths is not None for item in made):
        return [path for item in made for path in item.paths or ()]
    return [url for item in made for url in item.result.get("video_urls") or ()]


def job_facet(made: Sequence[Made]) -> dict[str, Any]:
    """
    Return the fields of the ``vimmerse_job`` run facet: kind, id, status, used_credits and web_url.

    A download of several jobs gives ``jobs``, one such dict each. Empty when nothing was made.
    """
    from airflow_provider_vimmerse.api.results import asset_extra

    jobs = [
        {key: value for key, value in asset_extra(item.result).items() if key in _FACET_KEYS}
        for item in made
        if item.result.get("id")
    ]
    if len(jobs) == 1:
        return jobs[0]
    return {"jobs": jobs} if jobs else {}


def dataset_name(location: Any) -> tuple[str, str] | None:
    """
    Return the OpenLineage namespace and name of a URL, a local path or an ``ObjectStoragePath``.

    None for what names no file (an empty or templated value).
    """
    text = str(location).strip() if location is not None else ""
    if not text or "{{" in text:
        return None
    parts = urlsplit(text)
    if not parts.scheme or len(parts.scheme) == 1:  # a path (or a Windows drive letter)
        return "file", os.path.abspath(text)
    if parts.scheme == "file":
        return "file", parts.path or "/"
    authority = _authority(parts)
    if parts.scheme in _BUCKET_SCHEMES:
        return f"{parts.scheme}://{authority}", parts.path.lstrip("/")
    return f"{parts.scheme}://{authority}", parts.path or "/"


def _authority(parts: SplitResult) -> str:
    """Return ``host[:port]`` of a URL without its user info (a password must not reach a lineage backend)."""
    return parts.netloc.rpartition("@")[2]


_FACET_KEYS = ("kind", "id", "status", "used_credits", "web_url")
#: Parameter types that hold media: URL lists, local files, JSON lists of ``{"url": ...}`` items (``media_items``).
#: The field types whose values name media: URL lists, local files, JSON lists of ``{"url": ...}`` items.
_MEDIA_TYPES = (FieldType.URLS, FieldType.FILES, FieldType.JSON)


def _named(locations: Iterable[Any]) -> list[tuple[str, str]]:
    """Return the datasets of ``locations``, each once, in order."""
    named = (dataset_name(location) for location in locations)
    return list(dict.fromkeys(name for name in named if name is not None))


def _media_of(value: Any, *, files: bool) -> list[Any]:
    """Return the URLs (and, for a file parameter, the local files) in a parameter's value."""
    found: list[Any] = []
    for item in as_list(value) if not isinstance(value, Mapping) else []:
        if isinstance(item, Mapping):
            item = item.get("url")
        is_url = isinstance(item, str) and item.startswith(HTTP_PREFIXES)
        is_file = files and (isinstance(item, (str, os.PathLike)) or hasattr(item, "read_bytes"))
        if is_url or is_file:
            found.append(item)
    return found


def _tool_inputs(operator: Any) -> list[Any]:
    """Return the media fields (URLs or local files) of a tool operator's inputs."""
    from airflow_provider_vimmerse.api.fields import media_inputs, prepare_values
    from airflow_provider_vimmerse.api.routes import resolve_tool

    row = resolve_tool(operator.tool_table, operator.tool, operator.inputs)
    return [found.source for found in media_inputs(row, prepare_values(row, operator.inputs), lambda _: True)]


@functools.cache
def _facet_class() -> type:
    """Return the ``vimmerse_job`` run facet's class (made once, when OpenLineage asks)."""
    import attrs
    from openlineage.client.facet_v2 import RunFacet

    @attrs.define
    class VimmerseJobRunFacet(RunFacet):
        """The Vimmerse job a task ran: its kind, id, status, credits used and web link."""

        kind: str | None = None
        id: str | None = None
        status: str | None = None
        used_credits: float | None = None
        web_url: str | None = None
        jobs: list[dict[str, Any]] | None = None

    return VimmerseJobRunFacet
