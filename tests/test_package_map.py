"""The map of the package in ``docs/contributing.md`` names every module once, and only modules that exist."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import REPO

PACKAGE_DIR = REPO / "airflow_provider_vimmerse"
MAP_PAGE = REPO / "docs" / "contributing.md"
# A map line: "- `path/of/module.py`: what it does."
_MAP_LINE = re.compile(r"^- `(?P<module>[\w/]+\.py)`: (?P<what>\S.*)$")


def _mapped() -> list[str]:
    text = MAP_PAGE.read_text(encoding="utf-8")
    start, end = text.index("<!-- map:start -->"), text.index("<!-- map:end -->")
    lines = [line for line in text[start:end].splitlines() if line.startswith("- ")]
    matches = [_MAP_LINE.match(line) for line in lines]
    assert all(matches), [line for line, m in zip(lines, matches, strict=True) if not m]
    return [m["module"] for m in matches if m]


def _modules() -> set[str]:
    """Every module of the package, but a bare ``__init__.py`` (a folder marker says nothing)."""
    return {
        path.relative_to(PACKAGE_DIR).as_posix()
        for path in PACKAGE_DIR.rglob("*.py")
        if "__pycache__" not in path.parts and (path.name != "__init__.py" or _says_something(path))
    }


def _says_something(init: Path) -> bool:
    return init.read_text(encoding="utf-8").strip() not in ("", "from __future__ import annotations")


def test_every_module_is_on_the_map_once() -> None:
    mapped = _mapped()
    assert len(mapped) == len(set(mapped)), "a module is on the map twice"
    modules = _modules()
    assert sorted(modules - set(mapped)) == [], "modules missing from docs/contributing.md"
    assert sorted(set(mapped) - modules) == [], "docs/contributing.md names modules that do not exist"


def test_the_map_is_in_the_docs() -> None:
    index = (REPO / "docs" / "index.md").read_text(encoding="utf-8")
    assert "contributing" in index
