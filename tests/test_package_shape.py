"""
The package's shape: no module over 600 lines, and no import circle between its modules.

The import graph is read from the source with :mod:`ast`: every ``import`` and ``from ... import`` of
the package, at module level and inside functions, but not under ``if TYPE_CHECKING:`` (those never
run). ``from package import name`` where ``name`` is a submodule imports that submodule.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

PACKAGE = "airflow_provider_vimmerse"
PACKAGE_DIR = REPO / PACKAGE
MAX_LINES = 600
# Data the package ships, not code a person maintains.
NOT_CODE = (PACKAGE_DIR / "sandbox" / "reference",)


def _module_files() -> dict[str, Path]:
    """Return every module of the package by dotted name (a package by its own name)."""
    modules = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        if "__pycache__" in path.parts or any(path.is_relative_to(folder) for folder in NOT_CODE):
            continue
        parts = path.relative_to(REPO).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    """Return True for ``TYPE_CHECKING`` or ``typing.TYPE_CHECKING``."""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Return the import statements that can run: every one but those under ``if TYPE_CHECKING:``."""
    found: list[ast.Import | ast.ImportFrom] = []
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            pending.extend(node.orelse)
            continue
        pending.extend(ast.iter_child_nodes(node))
    return found


def _imported(name: str, node: ast.Import | ast.ImportFrom, modules: dict[str, Path]) -> set[str]:
    """Return the package's modules that one import statement in module ``name`` imports."""
    if isinstance(node, ast.Import):
        targets = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:  # relative: resolve against the importing module's package
            package = name if modules[name].name == "__init__.py" else name.rpartition(".")[0]
            anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            base = f"{anchor}.{base}" if base else anchor
        targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
    return {target for target in targets if target in modules and target != name}


def import_graph() -> dict[str, set[str]]:
    """Return, for each module of the package, the package's modules it imports when it runs."""
    modules = _module_files()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        graph[name] = set().union(*(_imported(name, node, modules) for node in _runtime_imports(tree)))
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(cycles)


def _describe(cycle: list[str], graph: dict[str, set[str]]) -> str:
    """Return a cycle's modules and the imports that bind them."""
    members = set(cycle)
    edges = [f"    {source} -> {target}" for source in cycle for target in sorted(graph[source] & members)]
    return "\n".join([", ".join(cycle), *edges])


def test_no_module_is_over_600_lines() -> None:
    long = {
        path.relative_to(REPO).as_posix(): count
        for path in _module_files().values()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines (split them by job): " + ", ".join(
        f"{path} ({count})" for path, count in sorted(long.items())
    )


def test_no_import_cycle() -> None:
    graph = import_graph()
    cycles = import_cycles(graph)
    assert not cycles, "import cycles (move the shared piece where its name says):\n" + "\n".join(
        _describe(cycle, graph) for cycle in cycles
    )


def test_the_graph_sees_imports_inside_functions_and_not_type_checking() -> None:
    """The reader is what the two tests above stand on: a function's import counts, a type-only one does not."""
    graph = import_graph()
    assert f"{PACKAGE}.hooks.vimmerse" in graph[f"{PACKAGE}.triggers.job"]  # imported inside run()
    source = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import x\nelse:\n    import y\n")
    imported = [alias.name for node in _runtime_imports(source) if isinstance(node, ast.Import) for alias in node.names]
    assert imported == ["y"]
