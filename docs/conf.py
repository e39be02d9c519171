"""
Sphinx configuration of the provider's documentation (``make docs``).

Pages are MyST Markdown. Code shown in the guides is pulled from ``example_dags/`` with ``literalinclude``
between ``[START ...]`` / ``[END ...]`` marker comments, so it is never pasted twice and always runs in
the tests; ``tests/test_docs.py`` checks that every marker the docs use exists exactly once. The build
needs no network: intersphinx is not enabled, so no inventory is fetched.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent

# Importing the package imports Airflow, which writes an airflow.cfg into AIRFLOW_HOME: keep that
# inside the build folder instead of a developer's ~/airflow.
os.environ["AIRFLOW_HOME"] = str(DOCS / "_build" / "airflow-home")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
# Importing the UI plugin's app imports Airflow's api-server, whose dependencies import starlette's test
# client, which warns about httpx; nothing of ours, and not a docs problem.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")

from airflow_provider_vimmerse import __version__  # noqa: E402

project = "airflow-provider-vimmerse"
author = "airflow-provider-vimmerse contributors"
copyright = "the airflow-provider-vimmerse contributors"
version = __version__
release = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# MyST: GitHub-style anchors, so "waiting.md#http-retries" links to a heading of another page.
myst_heading_anchors = 3

# Autodoc: the docstrings use Sphinx ":param:" fields, so napoleon is not needed.
autodoc_default_options = {"members": True, "show-inheritance": True, "member-order": "bysource"}
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
autoclass_content = "class"
add_module_names = False  # "VimmerseHook", not the full dotted path, in every signature

highlight_language = "python3"

html_theme = "furo"
html_title = f"Vimmerse provider {release}"
html_static_path: list[str] = []

_MARKER = re.compile(r"^\s*# \[(START|END) [A-Za-z0-9_]+\]\s*$")


def _strip_markers(app: Any, doctree: Any) -> None:
    """Drop the ``[START ...]`` / ``[END ...]`` comments from code included from an example DAG."""
    from docutils import nodes

    for block in doctree.findall(nodes.literal_block):
        source = block.get("source", "")
        if "example_dags" not in source:
            continue
        text = block.astext()
        kept = "\n".join(line for line in text.splitlines() if not _MARKER.match(line))
        if kept != text:
            block.children = [nodes.Text(kept)]
            block.rawsource = kept


def _inherited(obj: Any) -> list[tuple[Any, str]]:
    """
    Return the keyword-only arguments an operator takes through ``**kwargs`` from its Vimmerse bases, each with
    its ``:param`` text (the waiting arguments of ``VimmerseJobOperator``, ``vimmerse_conn_id``).
    """
    import inspect

    from airflow_provider_vimmerse.operators.base import VimmerseBaseOperator

    if not (isinstance(obj, type) and issubclass(obj, VimmerseBaseOperator)):
        return []
    own = inspect.signature(obj.__init__).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in own.values()):
        return []
    found: dict[str, tuple[Any, str]] = {}
    route = getattr(obj, "route", None)
    applies = {  # the waiting arguments only some routes take (the base refuses them elsewhere)
        "fail_on_partial_failure": route is not None and route.group,
        "compose_timeout": route is not None and route.compose_timeout is not None,
        "answer_timeout": route is not None and route.step != "",
    }
    for base in obj.__mro__[1:]:
        if not base.__module__.startswith("airflow_provider_vimmerse") or "__init__" not in vars(base):
            continue
        docs = dict(re.findall(r":param (\w+): (.*?)(?=\n:|\Z)", inspect.getdoc(base) or "", re.S))
        for param in inspect.signature(base.__init__).parameters.values():
            taken = param.name in own or param.name in found or not applies.get(param.name, True)
            if param.kind is inspect.Parameter.KEYWORD_ONLY and not taken:
                found[param.name] = (param, " ".join(docs.get(param.name, "").split()))
    return list(found.values())


def _signature_with_inherited(app: Any, what: str, name: str, obj: Any, options: Any, signature: Any, ret: Any) -> Any:
    """Show an operator's inherited waiting arguments in its signature, before ``**kwargs``."""
    inherited = _inherited(obj) if what == "class" and signature and "**kwargs" in signature else []
    if not inherited:
        return None
    added = ", ".join(f"{param.name}={param.default!r}" for param, _ in inherited)
    return signature.replace("**kwargs", f"{added}, **kwargs"), ret


def _docstring_with_inherited(app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    """Add the ``:param`` lines of an operator's inherited waiting arguments to its docstring."""
    if what != "class":
        return
    text = "\n".join(lines)
    for param, doc in _inherited(obj):
        if f":param {param.name}:" not in text:
            lines.append(f":param {param.name}: {doc} (from the base class)")


def setup(app: Any) -> dict[str, Any]:
    app.connect("doctree-read", _strip_markers)
    app.connect("autodoc-process-signature", _signature_with_inherited)
    app.connect("autodoc-process-docstring", _docstring_with_inherited)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
