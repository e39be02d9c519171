"""
The route table's row types: one :class:`Route` per operator route, one :class:`Tool` per tool route.

A row holds everything the provider knows about a route: its method and path, how its body is sent,
every documented field (:class:`~airflow_provider_vimmerse.api.fields.RouteField`: type, allowed values,
range, required), the fields the documents refuse and why, the job kind it starts or works on, and how
the wait for it ends. The operators run rows: validation (:meth:`Route.check`), the request
(:meth:`Route.request`) and the wait read the row, and a test keeps each operator's written-out
signature in step with its row's fields.

The rows themselves live beside the documents they come from: :mod:`~airflow_provider_vimmerse.api.media`,
:mod:`~airflow_provider_vimmerse.api.batch`, :mod:`~airflow_provider_vimmerse.api.story`,
:mod:`~airflow_provider_vimmerse.api.workflow`, :mod:`~airflow_provider_vimmerse.api.finetune`
(:class:`Route`), :mod:`~airflow_provider_vimmerse.api.video` and
:mod:`~airflow_provider_vimmerse.api.tools` (:class:`Tool` tables).

Pure module: no Airflow imports.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from airflow_provider_vimmerse.api.endpoints import ApiRequest, FilePart, form_fields
from airflow_provider_vimmerse.api.fields import (
    FieldType,
    RouteField,
    check_range,
    check_urls,
    enum_error,
    is_templated,
)
from airflow_provider_vimmerse.api.urls import job_path
from airflow_provider_vimmerse.exceptions import VimmerseInputError


class Send(str, Enum):
    """What a route's request does, which decides how the operator sends it and what it waits for."""

    #: starts a new job; the answer names it (or is the finished job, or the output itself)
    NEW = "new"
    #: a story step the API answers when its work is done (storyboard, elements, scenes)
    STEP = "step"
    #: an edit: metadata fields change at once (free); a regenerating field re-runs the job (paid)
    EDIT = "edit"
    #: runs an existing job again (process, concat); the wait takes the new run only
    RERUN = "rerun"


@dataclass(frozen=True)
class Route:
    """
    One operator route: what it sends, and how the wait for its job ends.

    :param method: the HTTP method
    :param path: the route; ``{job_id}`` stands for the id of the job it works on
    :param kind: the job kind it starts or works on (a key of
        :data:`~airflow_provider_vimmerse.api.jobs.JOB_KINDS`)
    :param send: what the request does (:class:`Send`)
    :param fields: every documented field, in the documented order
    :param refused: field -> why the documents refuse it (given, it fails before anything is sent)
    :param body: ``form`` (urlencoded, multipart when files are sent), ``json`` or ``none`` (no body)
    :param target: the argument naming the existing job the route works on (``media_id``); empty for a new job
    :param target_required: the route needs ``target`` (False: it may name one, as ``POST /story`` may)
    :param rules: the route's rules across fields and inside JSON fields (a media needs a prompt or an
        input...), or None; called by :meth:`check` after the per-field checks, with every value given
        (local files included)
    :param encode: the values as the API wants them on the wire (JSON text, ``Yes``/``No``), or None
        (the set values as they are)
    :param regenerating: :data:`Send.EDIT`: the fields that regenerate the job and spend credits
        (the others change metadata, free)
    :param regenerates: :data:`Send.EDIT`: what a regeneration makes again, for the log (``the video``)
    :param spends_credits: the route charges credits (so it is never resent once it may have reached the
        server); an edit spends only when a regenerating field is set
    :param action: what the request is, for the log and the saved state (``process``, ``concat``,
        ``regeneration``, ``storyboard``...)
    :param doing: :data:`Send.RERUN`: what the request does, for the log (``composing its videos again``)
    :param step: :data:`Send.STEP`: the story step (``storyboard``, ``elements``, ``scenes``)
    :param needs_output: a ``success`` without an output keeps the wait going (a batch or story is done
        when its composed video is there)
    :param group: the job is a batch or a story: each media is reported, and partial failures
    :param partial_failure_fails: what ``fail_on_partial_failure`` is when not given
    :param compose_timeout: with ``needs_output``: the default seconds a finished job may lack its
        composed video before the task succeeds without it; None waits until ``timeout``
    :param rerun_grace: a re-run may show no sign of its new run for a while (the default grace); False
        waits for the new run until ``timeout`` (a composition reads ``success`` all along)
    :param fills_webhook_url: with webhooks on, the provider fills ``webhook_url`` of the job it starts
    """

    method: str
    path: str
    kind: str
    send: Send = Send.NEW
    fields: tuple[RouteField, ...] = ()
    refused: Mapping[str, str] = field(default_factory=dict)
    body: str = "form"
    target: str = ""
    target_required: bool = True
    rules: Callable[[Mapping[str, Any]], None] | None = None
    encode: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None
    regenerating: tuple[str, ...] = ()
    regenerates: str = ""
    spends_credits: bool = True
    action: str = ""
    doing: str = ""
    step: str = ""
    needs_output: bool = False
    group: bool = False
    partial_failure_fails: bool = True
    compose_timeout: float | None = None
    rerun_grace: bool = True
    fills_webhook_url: bool = True

    def __str__(self) -> str:
        return f"{self.method} {self.path.replace('{job_id}', '{id}')}"

    def field(self, name: str) -> RouteField | None:
        """Return the field called ``name``, or None."""
        return next((f for f in self.fields if f.name == name), None)

    @property
    def field_names(self) -> tuple[str, ...]:
        """Return the names of every documented field, in order."""
        return tuple(f.name for f in self.fields)

    @property
    def file_fields(self) -> tuple[str, ...]:
        """Return the fields that take local files, read by the operator and sent as file parts."""
        return tuple(f.name for f in self.fields if f.type is FieldType.FILES)

    def api_values(self, given: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """
        Return the API fields that are set, as the API names them, in the row's order; ``extra`` merged last.

        Lists are sent as lists (a single URL given for a list field becomes a list of one; an empty list
        is not sent); local files (:attr:`file_fields`) are not API values and are left out.

        :param given: field name -> value, as the operator holds them (None: not set)
        :param extra: more fields sent as they are (``extra_params``)
        """
        values: dict[str, Any] = {}
        for spec in self.fields:
            value = given.get(spec.name)
            if spec.type is FieldType.FILES:
                continue
            if spec.type is FieldType.URLS and not is_templated(value):
                value = as_list(value) or None
            if value is not None:
                values[spec.name] = value
        for name in self.refused:
            if given.get(name) is not None:
                values[name] = given[name]
        values.update({name: value for name, value in (extra or {}).items() if value is not None})
        return values

    def check(self, given: Mapping[str, Any]) -> None:
        """
        Check the values given for the route, before anything is sent; no I/O.

        In order: a refused field that is set; a required field that is not; each set field against its
        declaration (allowed values, range, URL); then the route's :attr:`rules`. A value Airflow has not
        rendered yet is skipped (checked again once rendered).

        :param given: field name -> value, local files included (None: not set)
        :raises VimmerseInputError: naming the field and what is allowed
        """
        for name, reason in self.refused.items():
            if given.get(name) is not None:
                raise VimmerseInputError(name, reason)
        for spec in self.fields:
            value = given.get(spec.name)
            if value is None or is_templated(value):
                if spec.required and value is None:
                    raise VimmerseInputError(spec.name, f"is required by {self}")
                continue
            check_field(spec, value)
        if self.rules is not None:
            self.rules(given)

    def request(
        self,
        values: Mapping[str, Any],
        files: Sequence[FilePart] = (),
        *,
        job_id: str | None = None,
        read_timeout: float | None = None,
    ) -> ApiRequest:
        """
        Build the route's request from checked values.

        :param values: the API fields (:meth:`api_values`)
        :param files: the local files read for :attr:`file_fields`, sent as file parts (multipart)
        :param job_id: the job the path names (``{job_id}``)
        :param read_timeout: seconds to wait for the answer (a step answered when done); None: the connection's
        """
        if "{job_id}" in self.path and not job_id:
            raise VimmerseInputError(self.target or "job_id", f"{self} needs the id of the job it works on")
        path = job_path(self.path, job_id) if job_id else self.path
        encoded = dict(self.encode(values)) if self.encode else {n: v for n, v in values.items() if v is not None}
        spends = self.spends_credits
        if self.send is Send.EDIT:
            spends = bool(self.regenerating_fields(values))
        if self.body == "json":
            return ApiRequest(self.method, path, json=encoded, spends_credits=spends, read_timeout=read_timeout)
        if self.body == "none":
            return ApiRequest(self.method, path, spends_credits=spends, read_timeout=read_timeout)
        return ApiRequest(
            self.method,
            path,
            form=form_fields(encoded),
            files=tuple(files),
            spends_credits=spends,
            read_timeout=read_timeout,
        )

    def regenerating_fields(self, values: Mapping[str, Any]) -> list[str]:
        """Return the set fields of an edit that regenerate the job (and spend credits)."""
        return [name for name in self.regenerating if values.get(name) is not None]


def check_field(spec: RouteField, value: Any) -> None:
    """
    Check one rendered value against its declaration: allowed values, integer range, URL.

    A number given for a field whose allowed values are digit strings (``visibility_status=2``) counts as
    its text; a digit string for a field whose allowed values are numbers (``scene_duration="5"``) as its
    number.

    :raises VimmerseInputError: naming the field and what is allowed
    """
    if spec.allowed:
        candidate = value
        if isinstance(value, int) and not isinstance(value, bool) and all(isinstance(a, str) for a in spec.allowed):
            candidate = str(value)
        elif isinstance(value, str) and value.strip().isdigit() and all(isinstance(a, int) for a in spec.allowed):
            candidate = int(value)
        if isinstance(candidate, bool) or candidate not in spec.allowed:
            raise enum_error(spec.name, value, spec.allowed)
    if spec.type is FieldType.INT and (spec.low is not None or spec.high is not None):
        low = int(spec.low) if spec.low is not None else 0
        check_range(spec.name, value, low, int(spec.high) if spec.high is not None else None)
    if spec.type in (FieldType.URL, FieldType.URLS) and not spec.media:
        check_urls(spec.name, as_list(value) if spec.type is FieldType.URLS else value)


def as_list(value: Any) -> list[Any]:
    """Return ``value`` as a list (None -> [], one item -> [item], a tuple or other sequence -> its items)."""
    if value is None:
        return []
    if isinstance(value, (str, bytes, Mapping)):
        return [value]
    if isinstance(value, Sequence):
        return list(value)
    return [value]


# ---------------------------------------------------------------------- tool tables


@dataclass(frozen=True)
class Tool:
    """
    One tool route.

    :param name: the tool's name as operators take it (``enhance``, ``image/edit-image``)
    :param path: the route
    :param fields: every documented input
    :param one_of: groups of fields of which at least one must be given
    :param needs: ``option`` value -> more groups of which at least one must be given
        (``Inpaint`` needs a mask and a prompt)
    :param option_routes: ``option`` value -> the name of the row that serves it (an option the
        documents put on another route, such as ``image/edit-image`` with ``RemoveBackground``)
    :param option_field: the field naming the model or mode (priced by the estimate); by default
        ``option`` when the tool has a field of that name
    :param max_items: ``option`` value -> the most items each list field takes with that option (files
        and URLs together; ``image/elements`` takes 4 images with ``FluxKontextPro``, 10 with ``GPTImage``);
        the tool's default option applies when none is given
    :param default_option: the option the API uses when none is given; by default the option field's
        ``default``. A route without an option field may name one for its estimate
    :param app_name: the ``app_name`` of ``POST /v2/video/estimate-credits``; empty when the documents
        give no ``app_name`` (or no ``option``) that prices this tool
    :param prices: the fields besides the option that the route's handler prices, sent to the estimate
        as the job sends them (their documented ``default`` when not given)
    :param lengths: media field -> the field that states its length in seconds: the handler measures a
        given medium, the estimate cannot, so a credit guard needs that length
    :param estimate_refusal: why the estimate would have to guess this tool's price although it has an
        ``app_name`` (then there is no credit guard)
    :param body: ``json`` (v2 routes) or ``form`` (legacy routes; multipart when files are sent)
    :param regenerates: :data:`Send.EDIT`: what a regeneration makes again, for the log (``the video``)
    :param spends_credits: the route charges credits (so it is never resent after reaching the server)
    :param output: what the tool makes: ``video``, ``image``, ``audio`` or ``text``
    """

    name: str
    path: str
    fields: tuple[RouteField, ...]
    one_of: tuple[tuple[str, ...], ...] = ()
    needs: Mapping[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    option_routes: Mapping[str, str] = field(default_factory=dict)
    max_items: Mapping[str, int] = field(default_factory=dict)
    option_field: str = ""
    default_option: str = ""
    app_name: str = ""
    prices: tuple[str, ...] = ()
    lengths: Mapping[str, str] = field(default_factory=dict)
    estimate_refusal: str = ""
    body: str = "json"
    spends_credits: bool = True
    output: str = "video"

    def __post_init__(self) -> None:
        # The option field and its default are declared once, on the field (frozen: set them here, once).
        option = self.field(self.option_field or "option")
        if option is not None:
            object.__setattr__(self, "option_field", option.name)
            object.__setattr__(self, "default_option", self.default_option or option.default)

    def field(self, name: str) -> RouteField | None:
        """Return the field called ``name``, or None."""
        return next((f for f in self.fields if f.name == name), None)

    @property
    def field_names(self) -> tuple[str, ...]:
        """Return the names of every field, in the documented order."""
        return tuple(f.name for f in self.fields)

    @property
    def can_estimate(self) -> bool:
        """Return True when ``POST /v2/video/estimate-credits`` prices this tool without a guess."""
        return bool(self.app_name) and not self.estimate_refusal


def get_tool(table: Mapping[str, Tool], name: Any) -> Tool:
    """
    Return the row of ``table`` called ``name``.

    :raises VimmerseInputError: naming the tools there are
    """
    if isinstance(name, str) and name in table:
        return table[name]
    raise enum_error("tool", name, list(table))


def resolve_tool(table: Mapping[str, Tool], name: Any, values: Mapping[str, Any]) -> Tool:
    """
    Return the row that serves ``values``: the row called ``name``, or the row its ``option`` routes to.

    An unrendered ``option`` keeps the row called ``name``.

    :raises VimmerseInputError: naming the tools there are
    """
    row = get_tool(table, name)
    option = values.get(row.option_field) if row.option_field else None
    if isinstance(option, str) and option in row.option_routes:
        return get_tool(table, row.option_routes[option])
    return row


def tool_request(tool: Tool, values: Mapping[str, Any], files: Sequence[FilePart] = ()) -> ApiRequest:
    """
    Build the request of a tool from prepared values (local files already replaced or split off).

    JSON routes send the values as a JSON object; form routes as form fields, multipart with ``files``.
    """
    if tool.body == "json":
        return ApiRequest("POST", tool.path, json=dict(values), spends_credits=tool.spends_credits)
    return ApiRequest(
        "POST", tool.path, form=form_fields(values), files=tuple(files), spends_credits=tool.spends_credits
    )
