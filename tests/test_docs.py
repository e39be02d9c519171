"""
The docs stay true to the code, without building them (``make docs`` does that, with warnings as errors).

* Code in the guides is pulled from the example DAGs between ``[START ...]`` / ``[END ...]`` comments:
  every marker the docs name exists exactly once, as a comment line, in the right order, so editing an
  example cannot silently cut or shift what the docs show.
* Code blocks written into the docs do not repeat code of the example DAGs (include it instead).
* The API reference documents every module of the package's public areas and every public class of
  the hooks, operators, sensors, triggers and links; each operator and the sensor has a guide.
* The errors page names every exception.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO

DOCS = REPO / "docs"
PACKAGE = "airflow_provider_vimmerse"
PACKAGE_DIR = REPO / PACKAGE
EXAMPLE_DAGS = REPO / "example_dags"

# A MyST directive fence: ```{name} argument, then ":option: value" lines.
_DIRECTIVE = re.compile(
    r"^(?P<fence>`{3,})\{(?P<name>[\w-]+)\}[ \t]*(?P<arg>[^\n]*)\n(?P<options>(?:[ \t]*:[\w-]+:[^\n]*\n)*)", re.M
)
_OPTION = re.compile(r"^[ \t]*:(?P<key>[\w-]+):[ \t]*(?P<value>[^\n]*)$", re.M)
_MARKER_LINE = re.compile(r"^\s*# \[(?P<edge>START|END) (?P<name>\w+)\]\s*$")
_AUTODOC = re.compile(
    r"^\.\. (?P<kind>automodule|autoclass|autofunction)::[ \t]*(?P<target>\S+)\n"
    r"(?P<options>(?:[ \t]+:[\w-]+:[^\n]*\n)*)",
    re.M,
)
# The areas whose every module is in the API reference; the sandbox's internals are not public API.
_REFERENCED_PACKAGES = ("hooks", "operators", "decorators", "sensors", "triggers", "links", "api", "plugins")
_REFERENCED_MODULES = ("exceptions", "sandbox.client", "sandbox.server", "sandbox.pytest_plugin")
# The areas whose public classes must each be documented (they are what a DAG author uses).
_CLASS_PACKAGES = ("hooks", "operators", "decorators", "sensors", "triggers", "links")


@dataclass(frozen=True)
class Include:
    page: Path
    path: Path
    options: dict[str, str]

    def __str__(self) -> str:
        return f"{self.page.relative_to(REPO)} -> {self.options.get('start-after', self.path.name)}"


def _pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.parts)


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _includes() -> list[Include]:
    found = []
    for page in _pages():
        for match in _DIRECTIVE.finditer(page.read_text(encoding="utf-8")):
            if match["name"] != "literalinclude":
                continue
            arg = match["arg"].strip()
            path = (DOCS / arg.lstrip("/")) if arg.startswith("/") else (page.parent / arg)
            options = {m["key"]: _unquote(m["value"]) for m in _OPTION.finditer(match["options"])}
            found.append(Include(page, path.resolve(), options))
    return found


def _autodoc() -> list[tuple[str, str, str]]:
    """Return (directive, target, options) of every autodoc directive in the API reference pages."""
    found = []
    for page in sorted((DOCS / "reference").glob("*.md")):
        for match in _AUTODOC.finditer(page.read_text(encoding="utf-8")):
            found.append((match["kind"], match["target"], match["options"]))
    return found


INCLUDES = _includes()


def test_the_guides_include_example_code():
    assert len(INCLUDES) >= 10, "the parser finds the literalinclude directives of the guides"
    assert {i.path.name for i in INCLUDES} >= {
        "vimmerse_quickstart.py",
        "vimmerse_content_production.py",
        "vimmerse_post_processing.py",
        "vimmerse_cost_report.py",
    }


@pytest.mark.parametrize("include", INCLUDES, ids=str)
def test_included_code_comes_from_an_example_dag_between_markers(include: Include):
    assert include.path.parent == EXAMPLE_DAGS.resolve(), f"{include}: docs show code from example_dags/ only"
    assert include.path.is_file(), f"{include}: {include.path} does not exist"
    lines = include.path.read_text(encoding="utf-8").splitlines()
    start, end = include.options.get("start-after"), include.options.get("end-before")
    if start is None and end is None:
        assert not {"start-at", "end-at", "lines"} & include.options.keys(), f"{include}: cut by markers, not lines"
        return  # a whole file
    assert start and end, f"{include}: give both :start-after: and :end-before:"
    start_marker, end_marker = re.fullmatch(r"\[START (\w+)\]", start), re.fullmatch(r"\[END (\w+)\]", end)
    assert start_marker and end_marker, f"{include}: markers look like [START name] and [END name]"
    assert start_marker[1] == end_marker[1], f"{include}: {start} is closed by {end}"

    def where(marker: str) -> int:
        found = [n for n, line in enumerate(lines) if marker in line]
        assert len(found) == 1, f"{include}: {marker!r} is in {include.path.name} {len(found)} times, not once"
        assert _MARKER_LINE.match(lines[found[0]]), f"{include}: {marker!r} must be a comment line of its own"
        return found[0]

    first, last = where(start), where(end)
    assert first < last, f"{include}: {start} comes after {end}"
    assert any(line.strip() and not _MARKER_LINE.match(line) for line in lines[first + 1 : last]), (
        f"{include}: nothing between the markers"
    )


@pytest.mark.parametrize("example", sorted(EXAMPLE_DAGS.glob("*.py")), ids=lambda p: p.name)
def test_example_markers_come_in_pairs(example: Path):
    opened: list[str] = []
    seen: set[str] = set()
    for number, line in enumerate(example.read_text(encoding="utf-8").splitlines(), start=1):
        marker = _MARKER_LINE.match(line)
        if not marker:
            continue
        name = marker["name"]
        if marker["edge"] == "START":
            assert name not in seen, f"{example.name}:{number}: [START {name}] again"
            seen.add(name)
            opened.append(name)
        else:
            assert opened and opened[-1] == name, f"{example.name}:{number}: [END {name}] closes nothing open"
            opened.pop()
    assert not opened, f"{example.name}: {opened} never closed"


def _code_lines(text: str) -> list[str]:
    """The meaningful lines of Python code: stripped, without blanks, comments and imports."""
    kept = []
    for line in text.splitlines():
        line = line.split("  #")[0].strip()
        if line and not line.startswith(("#", "import ", "from ", "try:", "except ")):
            kept.append(line)
    return kept


def test_no_code_block_repeats_an_example_dag():
    examples = {p.name: _code_lines(p.read_text(encoding="utf-8")) for p in EXAMPLE_DAGS.glob("*.py")}
    windows = {tuple(lines[i : i + 3]): name for name, lines in examples.items() for i in range(max(0, len(lines) - 2))}
    block = re.compile(r"^```python\n(.*?)^```", re.M | re.S)
    checked = 0
    for page in _pages():
        for match in block.finditer(page.read_text(encoding="utf-8")):
            lines = _code_lines(match[1])
            for i in range(max(0, len(lines) - 2)):
                window = tuple(lines[i : i + 3])
                assert window not in windows, (
                    f"{page.relative_to(REPO)} pastes code of example_dags/{windows[window]}: {window}; "
                    "include it with literalinclude between [START ...]/[END ...] markers instead"
                )
            checked += 1
    assert checked >= 5, "the parser finds the Python code blocks of the docs"


def _modules(package: str) -> list[str]:
    folder = PACKAGE_DIR / package.replace(".", "/")
    if not folder.is_dir():
        return []
    return [f"{PACKAGE}.{package}.{info.name}" for info in pkgutil.iter_modules([str(folder)])]


def test_the_api_reference_documents_every_public_module():
    documented = {target: options for kind, target, options in _autodoc() if kind == "automodule"}
    expected = [m for package in _REFERENCED_PACKAGES for m in _modules(package)]
    expected += [f"{PACKAGE}.{name}" for name in _REFERENCED_MODULES]
    assert len(expected) > 30
    missing = [m for m in expected if m not in documented]
    assert not missing, f"add these modules to a page of docs/reference/: {missing}"
    without_members = [m for m in expected if ":no-members:" in documented[m]]
    assert not without_members, f"documented without their members: {without_members}"


def _public_classes() -> list[type]:
    classes = []
    for package in _CLASS_PACKAGES:
        for name in _modules(package):
            module = importlib.import_module(name)
            classes += [
                cls
                for attr, cls in vars(module).items()
                if inspect.isclass(cls) and cls.__module__ == name and not attr.startswith("_")
            ]
    return classes


PUBLIC_CLASSES = _public_classes()


@pytest.mark.parametrize("cls", PUBLIC_CLASSES, ids=lambda c: c.__name__)
def test_every_public_class_is_in_the_api_reference(cls: type):
    autodoc = _autodoc()
    by_module = any(kind == "automodule" and target == cls.__module__ for kind, target, _ in autodoc)
    by_class = any(
        kind == "autoclass" and target == f"{cls.__module__}.{cls.__qualname__}" for kind, target, _ in autodoc
    )
    assert by_module or by_class, f"{cls.__module__}.{cls.__qualname__} is on no page of docs/reference/"
    excluded = [o for kind, t, o in autodoc if t == cls.__module__ and re.search(rf"\b{cls.__name__}\b", o)]
    assert not excluded, f"{cls.__name__} is excluded from the reference"
    # autodoc's :members: leaves out what has no docstring of its own
    assert (vars(cls).get("__doc__") or "").strip(), f"{cls.__name__} has no docstring, so autodoc skips it"


def test_every_public_class_kind_is_covered():
    names = {cls.__name__ for cls in PUBLIC_CLASSES}
    assert {"VimmerseHook", "VimmerseJobSensor", "VimmerseJobTrigger", "VimmerseJobLink"} <= names
    assert {"VimmerseCreateMediaOperator", "VimmerseDownloadOperator", "VimmerseVideoOperator"} <= names


def test_every_operator_and_the_sensor_have_a_guide():
    guides = "\n".join(p.read_text(encoding="utf-8") for p in (DOCS / "operators").glob("*.md"))
    operators = [c for c in PUBLIC_CLASSES if c.__name__.endswith(("Operator", "Sensor"))]
    bases = {base for c in operators for base in c.__mro__[1:]}
    leaves = [c.__name__ for c in operators if c not in bases]
    assert len(leaves) >= 15
    missing = [name for name in leaves if f"`{name}`" not in guides]
    assert not missing, f"no guide in docs/operators/ names {missing}"


def test_the_errors_page_names_every_exception():
    exceptions = importlib.import_module(f"{PACKAGE}.exceptions")
    names = [
        name
        for name, cls in vars(exceptions).items()
        if inspect.isclass(cls) and issubclass(cls, Exception) and cls.__module__ == exceptions.__name__
    ]
    page = (DOCS / "errors.md").read_text(encoding="utf-8")
    assert len(names) >= 10
    missing = [name for name in names if f"`{name}`" not in page]
    assert not missing, f"docs/errors.md does not say what to do about {missing}"


def test_the_readme_shows_the_first_video_example_as_it_is():
    """The README's DAG is the tested example file's marked part, letter for letter."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", readme, re.S | re.M)
    lines = (EXAMPLE_DAGS / "vimmerse_first_video.py").read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(n for n, line in enumerate(lines) if "[START howto_vimmerse_first_video]" in line)
    end = next(n for n, line in enumerate(lines) if "[END howto_vimmerse_first_video]" in line)
    shown = "".join(lines[start + 1 : end])
    assert shown in blocks, "README.md's DAG differs from example_dags/vimmerse_first_video.py"
