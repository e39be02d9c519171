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


def setup(app: Any) -> dict[str, Any]:
    app.connect("doctree-read", _strip_markers)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
