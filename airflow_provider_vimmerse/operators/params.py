"""
An operator's parameters, each declared once in its class body: ``prompt = Param("text of the video")``.

From these declarations the operator class gets its keyword arguments (a generated ``__init__`` whose
signature Airflow and Sphinx read, so ``default_args``, ``.partial()``/``.expand()`` and the reference
docs see every one), its ``template_fields``, the ``:param:`` lines of its docstring, and the API
fields it sends (:func:`api_fields`). The values' types and allowed values are checked by the route's
module in :mod:`airflow_provider_vimmerse.api`. Adding a field to an operator is one line.

Wired in by :class:`~airflow_provider_vimmerse.operators.base.VimmerseSubmitOperator`; no Airflow imports.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, cast, overload

#: Types of the signature and the docs.
TEXT = "str | None"
INT = "int | None"
BOOL = "bool | None"
JSON = "dict[str, Any] | str | None"
JSON_LIST = "list[dict[str, Any]] | str | None"
URLS = "Sequence[str] | str | None"
FILES = "Sequence[Any] | str | None"
EXTRA = "dict[str, Any] | None"

#: How a parameter reaches the API (``Param.send``): sent as given, when set.
SENT = "sent"
#: Given as one item or a list, sent as a list when not empty (``image_urls``).
LISTED = "listed"
#: A dict whose items are sent as more fields, as they are (``extra_params``).
MERGED = "merged"
#: Not an API field: a path id, local files to upload, an operator setting.
KEPT = "kept"
#: How a parameter of a type reaches the API unless its ``send`` says otherwise (else :data:`SENT`).
SEND_OF_TYPE = {URLS: LISTED, FILES: KEPT, EXTRA: MERGED}

#: Set on an instance while its parameters are read, so only the outermost ``__init__`` checks them.
_READING = "_vimmerse_reading_params"


@dataclass(eq=False, repr=False, slots=True)
class Param:
    """
    One keyword argument of an operator, declared in its class body.

    :param doc: what it is, for the ``:param:`` line (``(templated)`` is added when it is)
    :param annotation: its type, for the signature and the docs
    :param send: how it reaches the API: :data:`SENT`, :data:`LISTED`, :data:`MERGED` or :data:`KEPT`;
        by default the one of its type (:data:`SEND_OF_TYPE`)
    :param templated: rendered by Jinja (in ``template_fields``)
    :param required: the argument must be given
    :param default: its value when not given
    """

    doc: str
    annotation: str = TEXT
    _: KW_ONLY
    send: str = ""
    templated: bool = True
    required: bool = False
    default: Any = None
    #: The attribute it is declared as (set when its class is made).
    name: str = field(default="", init=False)

    def __post_init__(self) -> None:
        self.send = self.send or SEND_OF_TYPE.get(self.annotation, SENT)

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Param: ...

    @overload
    def __get__(self, obj: object, owner: type | None = None) -> Any: ...

    def __get__(self, obj: object | None, owner: type | None = None) -> Any:
        # The instance's own value shadows this (a non-data descriptor): reached only before it is set.
        return self if obj is None else self.default

    def __repr__(self) -> str:
        return f"Param({self.name!r})"

    @property
    def doc_line(self) -> str:
        """Return the ``:param:`` line."""
        return f":param {self.name}: {self.doc}" + (" (templated)" if self.templated else "")

    @property
    def parameter(self) -> inspect.Parameter:
        """Return the keyword-only parameter of the signature."""
        default = inspect.Parameter.empty if self.required else self.default
        return inspect.Parameter(self.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=self.annotation)


# ``extra_params``, which most operators take (one instance may serve every class: it has the same name).
# A plain comment: autodoc would take a ``#:`` one for a member and fail to read a descriptor as a function.
EXTRA_PARAMS = Param("more fields sent as they are, for fields the API adds later", EXTRA)


def declared(cls: type) -> dict[str, Param]:
    """Return the parameters declared in the body of ``cls`` itself, in their order."""
    return {name: value for name, value in vars(cls).items() if isinstance(value, Param)}


def table_of(cls: type) -> dict[str, Param]:
    """Return every parameter of ``cls`` and its bases, a base's first; a class may declare one again."""
    table: dict[str, Param] = {}
    for klass in reversed(cls.__mro__):
        table.update(declared(klass))
    return table


def wire(cls: type, own: Mapping[str, Param], check: Callable[[Any], None]) -> None:
    """
    Give ``cls`` what its parameters declare: ``__init__``, ``template_fields`` and the docstring lines.

    :param cls: the operator class (called from its ``__init_subclass__``)
    :param own: the parameters declared in its body; an ``__init__`` reading them is made when there are any
    :param check: what the outermost ``__init__`` calls once every parameter is set (parse-time checks)
    """
    table = table_of(cls)
    if "template_fields" not in vars(cls):
        templated = [name for name, param in table.items() if param.templated]
        inherited = [name for name in getattr(cls, "template_fields", ()) if name not in templated]
        cls.template_fields = (*templated, *inherited)  # type: ignore[attr-defined]
    if own:
        cls.__init__ = _init_reading(cls, own, check)  # type: ignore[misc]
    cls.__doc__ = _with_param_lines(cls.__doc__ or "", [param.doc_line for param in table.values()])


def api_fields(operator: Any, table: Mapping[str, Param]) -> dict[str, Any]:
    """Return the API fields of ``operator`` that are set, as the API names them, in the table's order."""
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for name, param in table.items():
        value = getattr(operator, name)
        if param.send == LISTED:
            value = as_list(value) or None
        if param.send == MERGED:
            extra.update(value or {})
        elif param.send != KEPT and value is not None:
            values[name] = value
    values.update(extra)
    return {name: value for name, value in values.items() if value is not None}


def as_list(value: Any) -> list[Any]:
    """Return ``value`` as a list (None -> [], a single item -> [item])."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return list(value)
    return [value]


def _init_reading(cls: type, own: Mapping[str, Param], check: Callable[[Any], None]) -> Callable[..., None]:
    def __init__(self: Any, **kwargs: Any) -> None:
        given = {name: kwargs.pop(name) for name in own if name in kwargs}
        outermost = not self.__dict__.get(_READING)
        self.__dict__[_READING] = True
        try:
            super(cast(Any, cls), self).__init__(**kwargs)
        finally:
            if outermost:
                del self.__dict__[_READING]
        for name, param in own.items():
            setattr(self, name, given.get(name, param.default))
        if outermost:
            check(self)  # literal values when the DAG is parsed; templated ones when the task runs

    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    rest = inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD, annotation="Any")
    __init__.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [self_param, *(param.parameter for param in own.values()), rest]
    )
    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    __init__.__module__ = cls.__module__
    return __init__


def _with_param_lines(doc: str, lines: list[str]) -> str:
    """Return a class docstring with ``:param:`` lines added at its end, indented like its body."""
    if not lines:
        return doc
    found = re.search(r"\n([ \t]+)\S", doc)
    indent = found.group(1) if found else ""
    body = doc.rstrip()
    last = body.rsplit("\n", 1)[-1].strip()
    gap = "" if last.startswith(":param") or (body and not body.strip()) else "\n"
    return body + gap + "".join(f"\n{indent}{line}" for line in lines) + "\n" + indent
