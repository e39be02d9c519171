"""
What a DAG author's tools see of every public operator (STYLE.md points 13 and 16), found by scanning the package.

A hand-written, keyword-only, typed ``__init__`` and a ``template_fields`` tuple in the class body, one or two
of our classes above it: IDE completion and mypy read it, Airflow's rules for provider constructors hold, and
the signature names the fields of the route row the operator runs.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import pkgutil
import re
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from types import SimpleNamespace

import pytest
from airflow.providers.common.compat.sdk import BaseOperator, TaskDeferred

from tests.conftest import REPO
from tests.operators.test_webhook_operators import webhooks_on  # noqa: F401  (the fixture, used by name)

OURS = "airflow_provider_vimmerse"
#: The shared bases; every other Vimmerse*Operator / *Sensor class of operators/ and sensors/ is public.
BASES = {"VimmerseBaseOperator", "VimmerseJobOperator"}
#: Keyword arguments that are operator settings, not fields of the route row the operator runs.
SETTINGS = {
    "vimmerse_conn_id",  # the connection (every operator)
    "wait_for_completion", "deferrable", "poll_interval", "timeout",  # how a job operator waits
    "fail_on_partial_failure", "compose_timeout",  # what ends the wait of a batch or story
    "answer_timeout",  # how long a story step's answer is awaited
    "extra_params",  # more fields sent as they are, for fields the API adds later (no row of their own)
    "changes",  # an edit's fields given as one dict: the row's fields by another way
    "trigger_word_field",  # finetune: which field of the answer holds the trigger word (undocumented)
    "tool", "inputs",  # tool operators: the row's name, and its fields given as one dict
    "max_credits",  # the credit guard, checked against the route's estimate
}  # fmt: skip
#: Public operators that run no documented route of their own, so have no ``route`` row to drift from.
WITHOUT_ROUTE = {
    "VimmerseDownloadOperator",  # reads a job's outputs and downloads files
    "VimmerseDeleteJobOperator",  # one DELETE per job kind, no fields
    "VimmerseUsageStatisticsOperator",  # reads statistics, no fields sent
    "VimmerseJobSensor",  # waits on a job started elsewhere
}


def _classes(subpackage: str) -> Iterator[type]:
    """Yield the operator classes defined in the modules of ``subpackage`` (imported, not re-exported ones)."""
    package = importlib.import_module(f"{OURS}.{subpackage}")
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for value in vars(module).values():
            if inspect.isclass(value) and value.__module__ == module.__name__ and issubclass(value, BaseOperator):
                yield value


def _public(cls: type) -> bool:
    return bool(re.fullmatch(r"Vimmerse\w*(Operator|Sensor)", cls.__name__)) and cls.__name__ not in BASES


PUBLIC = sorted((c for sub in ("operators", "sensors") for c in _classes(sub) if _public(c)), key=lambda c: c.__name__)
DECORATED = sorted(_classes("decorators"), key=lambda cls: cls.__name__)
by_name = pytest.mark.parametrize("cls", PUBLIC, ids=lambda cls: cls.__name__)


def is_ours(cls: type) -> bool:
    return cls.__module__.split(".")[0] == OURS


def keywords(cls: type) -> list[inspect.Parameter]:
    """Return the parameters of ``cls.__init__`` besides ``self`` and ``**kwargs``."""
    params = inspect.signature(cls.__init__).parameters.values()
    return [p for p in params if p.name != "self" and p.kind is not inspect.Parameter.VAR_KEYWORD]


@cache
def _tree(path: str) -> ast.Module:
    return ast.parse(Path(path).read_text())


def class_node(cls: type) -> ast.ClassDef:
    """Return the class statement of ``cls`` in its module's source."""
    tree = _tree(inspect.getsourcefile(cls) or "")
    return next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == cls.__name__)


def init_node(cls: type) -> ast.FunctionDef | None:
    """Return the ``def __init__`` written in the class body of ``cls``, or None."""
    body = class_node(cls).body
    return next((item for item in body if isinstance(item, ast.FunctionDef) and item.name == "__init__"), None)


def test_the_scan_finds_the_operators_and_the_lists_here_name_real_ones():
    names = {cls.__name__ for cls in PUBLIC}
    assert {"VimmerseCreateMediaOperator", "VimmerseImagesToVideoOperator", "VimmerseJobSensor"} <= names
    assert DECORATED, "the decorated operator classes of decorators/ are found"
    assert names >= WITHOUT_ROUTE, f"not public operators: {sorted(WITHOUT_ROUTE - names)}"
    taken = {p.name for cls in PUBLIC + DECORATED for k in cls.__mro__ if is_ours(k) for p in keywords(k)}
    assert taken >= SETTINGS, f"SETTINGS names no parameter of any operator: {sorted(SETTINGS - taken)}"


# ---------------------------------------------------------------------- 1. IDE completion (jedi)


@pytest.fixture(scope="module")
def completions() -> dict[str, set[str]]:
    """Complete ``Cls(task_id="x", `` for every public operator in one DAG-like file (one jedi run: ~5 s)."""
    import jedi

    imports = [f"from {cls.__module__} import {cls.__name__}" for cls in PUBLIC]
    calls = [f'{cls.__name__}(task_id="x", ' for cls in PUBLIC]
    code = "\n".join(imports + [call + ")" for call in calls]) + "\n"
    project = jedi.Project(REPO, environment_path=sys.prefix)
    script = jedi.Script(code, path=REPO / "example_dags" / "completion_probe.py", project=project)
    return {
        cls.__name__: {c.name_with_symbols for c in script.complete(len(imports) + 1 + i, len(call))}
        for i, (cls, call) in enumerate(zip(PUBLIC, calls, strict=True))
    }


@by_name
def test_an_ide_completes_every_argument_of_the_signature(cls, completions):
    missing = [p.name for p in keywords(cls) if f"{p.name}=" not in completions[cls.__name__]]
    assert not missing, f"{cls.__name__}(task_id=..., : jedi does not offer {missing}"


# ---------------------------------------------------------------------- 2. mypy


def test_mypy_flags_a_wrong_type_in_a_dag_file(tmp_path):
    lines = [
        "from airflow_provider_vimmerse.operators.media import VimmerseCreateMediaOperator",
        "from airflow_provider_vimmerse.operators.story import VimmerseImagesToVideoOperator",
        'VimmerseCreateMediaOperator(task_id="a", prompt="p", duration="ten")',
        'VimmerseImagesToVideoOperator(task_id="b", image_urls=["https://x/a.png"], scene_duration="5")',
        'VimmerseCreateMediaOperator(task_id="c", prompt="p", duration=5)',
    ]
    (tmp_path / "dag.py").write_text("\n".join(lines) + "\n")
    # Airflow's own types are followed, as in a DAG author's mypy; errors inside the packages are not shown.
    (tmp_path / "mypy.ini").write_text("[mypy]\nfollow_imports = silent\n")
    args = ["--config-file", str(tmp_path / "mypy.ini"), "--cache-dir", str(tmp_path / "cache"), "--no-pretty"]
    command = [sys.executable, "-m", "mypy", *args, str(tmp_path / "dag.py")]
    env = {**os.environ, "MYPYPATH": str(REPO)}  # this source tree, whatever the venv has installed
    run = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode in (0, 1), run.stdout + run.stderr
    errors: dict[int, list[str]] = {}
    for found in re.finditer(r"^.*dag\.py:(\d+): error: (.*)$", run.stdout, re.MULTILINE):
        errors.setdefault(int(found[1]), []).append(found[2])
    for line, argument in ((3, "duration"), (4, "scene_duration")):
        said = errors.get(line, [])
        assert any(f'"{argument}"' in e and "incompatible type" in e for e in said), (line, said, run.stdout)
    assert not errors.get(5) and not errors.get(1) and not errors.get(2), run.stdout


# ---------------------------------------------------------------------- 3. Airflow's rules for constructors


def _hands_over(value: ast.expr | None, name: str, defaulting: bool) -> bool:
    """Whether ``value`` is the argument as given (``defaulting``: also ``name or x``, ``name if name ... else x``)."""
    if defaulting and isinstance(value, ast.BoolOp) and isinstance(value.op, ast.Or):
        value = value.values[0]
    elif (
        defaulting
        and isinstance(value, ast.IfExp)
        and ast.unparse(value.test) in {name, f"{name} is None", f"{name} is not None"}
    ):
        value = value.body
    return isinstance(value, ast.Name) and value.id == name


def _stored(stmt: ast.stmt, fields: list[str], invalid: set[str]) -> set[str]:
    """Return the fields one statement stores as given; add those it stores otherwise to ``invalid``."""
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    if isinstance(call, ast.Call) and ast.unparse(call.func).startswith("super()."):  # the parent stores f=f
        invalid.update(k.arg for k in call.keywords if k.arg in fields and not _hands_over(k.value, k.arg, False))
        return {k.arg for k in call.keywords if k.arg}
    pairs: list[tuple[ast.expr, ast.expr | None, bool]] = []
    if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Tuple) and isinstance(stmt.value, ast.Tuple):
        pairs = [(t, v, False) for t, v in zip(stmt.targets[0].elts, stmt.value.elts, strict=False)]
    elif isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Attribute):
        pairs = [(t, stmt.value, True) for t in stmt.targets]
    elif isinstance(stmt, ast.AnnAssign):
        pairs = [(stmt.target, stmt.value, False)]
    stored: set[str] = set()
    for target, value, defaulting in pairs:
        if isinstance(target, ast.Attribute) and ast.unparse(target.value) == "self" and target.attr in fields:
            (stored if _hands_over(value, target.attr, defaulting) else invalid).add(target.attr)
    return stored


def template_fields_value(cls: type) -> ast.expr | None:
    """Return what ``template_fields = ...`` assigns in the class body of ``cls`` (None: it is not there)."""
    for stmt in class_node(cls).body:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [getattr(stmt, "target", None)]
        if "template_fields" in [ast.unparse(t) for t in targets if t is not None]:
            return getattr(stmt, "value", None)
    return None


@by_name
def test_airflow_would_accept_the_constructor(cls):
    """
    Airflow's check of provider constructors, rebuilt: ``scripts/ci/prek/validate_operators_init.py`` (apache/airflow).

    ``template_fields`` is a tuple literal in the class body; each of its names is stored by ``__init__``
    as given, at its top level: ``self.f = f`` (also ``f or default``, ``f if f [is (not) None] else default``,
    ``self.a, self.b = a, b``, ``self.f: T = f``) or forwarded ``super().__init__(f=f)``; no statement,
    nested ones included, stores it otherwise. Relaxed on purpose: Airflow's rule against *reading* a
    template field in ``__init__`` (``_check_constructor_field_logic``). Our constructors check literal
    values when the DAG is parsed (templated ones at run time), which is worth more to a DAG author.
    """
    value = template_fields_value(cls)
    assert isinstance(value, ast.Tuple), f"{cls.__name__}: template_fields is not a tuple literal in its class body"
    odd = [ast.unparse(e) for e in value.elts if not isinstance(e, ast.Starred | ast.Constant)]
    assert not odd, f"{cls.__name__}.template_fields holds {odd}: names (or *Base.template_fields) only"
    fields = [e.value for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    init = init_node(cls)
    assert init is not None, f"{cls.__name__} has no __init__ in its class body"
    missing, invalid = set(fields), set()
    for stmt in init.body:
        missing -= _stored(stmt, fields, invalid)
        for inner in ast.walk(stmt):  # a nested statement may run or not: it can only store a field wrongly
            if isinstance(inner, ast.stmt) and inner is not stmt:
                _stored(inner, fields, invalid)
    assert not missing, f"{cls.__name__}.__init__ does not store {sorted(missing)} as given (self.f = f)"
    assert not invalid, f"{cls.__name__}.__init__ stores {sorted(invalid)} changed (templates render later)"


def _is_conn_id(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and ast.unparse(node) == "self.vimmerse_conn_id"


@by_name
def test_the_connection_id_is_templated_and_stored_as_given(cls):
    """Airflow's ``scripts/ci/prek/check_conn_id_templated.py``: a provider's conn id is a template field."""
    assert "vimmerse_conn_id" in cls.template_fields, f"{cls.__name__}: vimmerse_conn_id is not templated"
    inits = {k.__name__: init for k in cls.__mro__ if is_ours(k) and (init := init_node(k))}
    owners = {name: init for name, init in inits.items() if "vimmerse_conn_id" in {a.arg for a in init.args.kwonlyargs}}
    assert owners, f"no __init__ of ours above {cls.__name__} takes vimmerse_conn_id"
    direct = [
        o for o, init in owners.items() if "self.vimmerse_conn_id = vimmerse_conn_id" in map(ast.unparse, init.body)
    ]
    assert direct, f"no __init__ of ours above {cls.__name__} does self.vimmerse_conn_id = vimmerse_conn_id"
    for owner, init in owners.items():
        stored = set().union(*(_stored(stmt, ["vimmerse_conn_id"], set()) for stmt in init.body))
        assert "vimmerse_conn_id" in stored, f"{owner}.__init__ does not store vimmerse_conn_id as given"
        reads = [n.lineno for n in ast.walk(init) if isinstance(getattr(n, "ctx", None), ast.Load) and _is_conn_id(n)]
        assert not reads, f"{owner}.__init__ reads self.vimmerse_conn_id (unrendered) at lines {reads}"


# ---------------------------------------------------------------------- 4, 5, 6: the shape of the classes


@pytest.mark.parametrize("cls", PUBLIC + DECORATED, ids=lambda cls: cls.__name__)
def test_at_most_two_of_our_classes_sit_above_an_operator(cls):
    ours = [k for k in cls.__mro__ if is_ours(k)]
    assert len(ours) <= 3, f"{cls.__name__}: {len(ours)} classes of ours in its MRO: {[k.__name__ for k in ours]}"
    for k in ours:
        bases = [b.__name__ for b in k.__bases__ if is_ours(b)]
        assert len(bases) <= 1, f"{k.__name__} has more than one base of ours: {bases}"


@by_name
def test_the_constructor_is_written_out_keyword_only_and_typed(cls):
    assert "__init__" in vars(cls), f"{cls.__name__} has no __init__ of its own"
    node, code, body = init_node(cls), inspect.unwrap(vars(cls)["__init__"]).__code__, class_node(cls)
    assert node is not None, f"{cls.__name__}.__init__ is not written in its class body"
    where = (code.co_filename, body.lineno <= code.co_firstlineno <= (body.end_lineno or 0))
    assert where == (inspect.getsourcefile(cls), True), f"{cls.__name__}.__init__ is made, not the one written"
    positional = [p.name for p in keywords(cls) if p.kind is not inspect.Parameter.KEYWORD_ONLY]
    assert not positional, f"{cls.__name__}.__init__ takes {positional} by position: make them keyword-only"
    untyped = [p.name for p in keywords(cls) if p.annotation is inspect.Parameter.empty]
    assert not untyped, f"{cls.__name__}.__init__ does not annotate {untyped}"


def test_no_param_declarations_are_left_in_the_package():
    """Parameters are written in ``__init__``, not declared as ``Param``\\ s; Airflow's own ``Param`` may be used."""
    found = []
    for path in sorted((REPO / OURS).rglob("*.py")):
        nodes, where = list(ast.walk(_tree(str(path)))), path.relative_to(REPO)
        imports = {
            n.module or "." for n in nodes if isinstance(n, ast.ImportFrom) and "Param" in [a.name for a in n.names]
        }
        found += [f"{where}: class Param" for n in nodes if isinstance(n, ast.ClassDef) and n.name == "Param"]
        found += [f"{where}: imports Param from {m}" for m in imports if m.split(".")[0] != "airflow"]
        if not any(m.split(".")[0] == "airflow" for m in imports):  # a Param(...) here is not Airflow's
            calls = [n for n in nodes if isinstance(n, ast.Call) and ast.unparse(n.func) == "Param"]
            found += [f"{where}:{n.lineno}: Param(...)" for n in calls]
    assert not found, "\n".join(found)


# ---------------------------------------------------------------------- 7. a signature and its route row


@by_name
def test_the_signature_and_the_route_row_name_the_same_fields(cls):
    if cls.__name__ in WITHOUT_ROUTE:
        pytest.skip(f"{cls.__name__} runs no documented route")
    route = getattr(cls, "route", None)
    assert route is not None, f"{cls.__name__} runs a route but has no `route` (or belongs in WITHOUT_ROUTE)"
    assert hasattr(route, "fields") and hasattr(route, "refused"), f"{cls.__name__}.route is {route!r}, not a row"
    # The row's fields, the ones it refuses, and the argument naming the job it works on (Route.target).
    row = {f.name for f in route.fields} | set(route.refused) | {getattr(route, "target", "")} - {""}
    params = {p.name for p in keywords(cls) if p.kind is inspect.Parameter.KEYWORD_ONLY} - SETTINGS
    assert params == row, (
        f"{cls.__name__}: arguments missing from its route row (add them to the row, or to SETTINGS): "
        f"{sorted(params - row)}; row fields missing from its signature: {sorted(row - params)}"
    )


# ---------------------------------------------------------------------- 8. api_fields() reads no stashed state


@pytest.mark.usefixtures("webhooks_on")
def test_api_fields_read_the_same_before_and_after_the_task_runs(vimmerse_sandbox):
    """What the operator sends is a function of its arguments; a try's webhook is not stashed on it."""
    from airflow_provider_vimmerse.operators.media import VimmerseCreateMediaOperator

    vimmerse_sandbox.client.configure(job_seconds=60)  # still running at the first check: the task defers
    operator = VimmerseCreateMediaOperator(task_id="a", prompt="p", deferrable=True)
    before = operator.api_fields()
    ti = SimpleNamespace(dag_id="d", run_id="r", task_id="a", map_index=-1, try_number=1, xcom_push=lambda **_: None)
    with pytest.raises(TaskDeferred):
        operator.execute({"ti": ti})
    assert len(vimmerse_sandbox.client.ledger(path="/media", method="POST")) == 1, "the task submitted its job"
    assert operator.api_fields() == before
