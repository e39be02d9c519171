"""The package as Airflow sees it: provider info, CLI listing, connection form, light imports."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources

import jsonschema
import pytest

from airflow_provider_vimmerse.get_provider_info import get_provider_info
from benchmarks import import_cost
from tests.conftest import REPO, run_airflow

#: What a DAG file imports (the modules whose import cost ``benchmarks.import_cost`` measures), and what Airflow
#: imports for the provider besides: the trigger, and the extra link.
PUBLIC_MODULES = [
    *import_cost.MODULES["hook"],
    *import_cost.MODULES["operators"],
    "airflow_provider_vimmerse.triggers.job",
    "airflow_provider_vimmerse.links.vimmerse",
]
#: What ``@task.vimmerse_media`` and ``@task.vimmerse_story`` import when a DAG file uses them.
DECORATOR_MODULES = ["airflow_provider_vimmerse.decorators.media", "airflow_provider_vimmerse.decorators.story"]


def test_provider_info_validates_against_airflows_own_schema():
    schema = json.loads((resources.files("airflow") / "provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)


def test_every_module_named_in_provider_info_imports():
    info = get_provider_info()
    modules = [
        m
        for section in ("hooks", "operators", "sensors", "triggers")
        for e in info[section]
        for m in e["python-modules"]
    ]
    classes = [c["hook-class-name"] for c in info["connection-types"]] + info["extra-links"]
    for name in modules:
        __import__(name)
    for path in classes:
        module, _, attr = path.rpartition(".")
        assert getattr(__import__(module, fromlist=[attr]), attr)
    assert sorted([*modules, "airflow_provider_vimmerse.links.vimmerse"]) == sorted(PUBLIC_MODULES)


def test_airflow_cli_lists_the_provider_and_the_connection_type(airflow_db):
    providers = run_airflow("providers", "list", "--output", "json")
    assert providers.returncode == 0, providers.stderr
    assert "airflow-provider-vimmerse" in [p["package_name"] for p in json.loads(providers.stdout)]
    hooks = run_airflow("providers", "hooks", "--output", "json")
    assert hooks.returncode == 0, hooks.stderr
    vimmerse = [h for h in json.loads(hooks.stdout) if h.get("connection_type") == "vimmerse"]
    assert vimmerse and vimmerse[0]["class"] == "airflow_provider_vimmerse.hooks.vimmerse.VimmerseHook"


def test_connection_form_shows_api_key_and_the_extra_fields():
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    behaviour = manager.field_behaviours["vimmerse"]
    assert behaviour["relabeling"]["password"] == "API Key"
    assert {"login", "schema", "port"} <= set(behaviour["hidden_fields"])
    widgets = manager.connection_form_widgets
    for field in ("timeout", "retries", "web_url", "asset_status_path"):
        assert f"extra__vimmerse__{field}" in widgets


@pytest.mark.parametrize("module", [*PUBLIC_MODULES, *DECORATOR_MODULES])
def test_importing_a_public_module_is_light(module):
    """At DAG-parse time: no HTTP client, no sandbox, no network on top of what Airflow imports anyway."""
    code = (
        "import sys, airflow; before = set(sys.modules); import socket\n"
        "connect = socket.socket.connect\n"
        "def refuse(*a, **k): raise AssertionError('network used at import')\n"
        "socket.socket.connect = refuse\n"
        f"import {module}\n"
        f"print([m for m in {import_cost.HEAVY!r} if m in sys.modules and m not in before])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    ("name", "factory"),
    [
        ("vimmerse_media", "decorators.media.vimmerse_media_task"),
        ("vimmerse_story", "decorators.story.vimmerse_story_task"),
    ],
)
def test_task_decorators_resolve_through_provider_info(name, factory):
    """``@task.vimmerse_media`` and ``@task.vimmerse_story`` are found by Airflow's own lookup (2.11 and 3.x)."""
    from airflow.providers.common.compat.sdk import task

    module, _, attr = f"airflow_provider_vimmerse.{factory}".rpartition(".")
    assert getattr(task, name) is getattr(__import__(module, fromlist=[attr]), attr)
    assert {"name": name, "class-name": f"{module}.{attr}"} in get_provider_info()["task-decorators"]


def test_the_built_wheel_and_sdist_carry_the_licence_and_load_no_pytest_plugin(tmp_path):
    """What a package index would publish: the licence in both archives, no pytest plugin loaded by default."""
    import tarfile
    import zipfile

    uv = REPO / ".venvs" / "uv" / "bin" / "uv"  # made by the Makefile before any test venv
    run = subprocess.run(
        [str(uv), "build", "--out-dir", str(tmp_path), str(REPO)], capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stdout + run.stderr
    [wheel], [sdist] = list(tmp_path.glob("*.whl")), list(tmp_path.glob("*.tar.gz"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        entry_points = archive.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names), names
    assert "License-Expression: Apache-2.0" in metadata and "License-File: LICENSE" in metadata
    assert "[apache_airflow_provider]" in entry_points and "pytest11" not in entry_points
    with tarfile.open(sdist) as archive:
        files = {name.split("/", 1)[-1] for name in archive.getnames()}
    assert {"LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml"} <= files
