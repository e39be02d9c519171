"""The plugin as Airflow loads it: listed by ``airflow plugins`` once, on Airflow 2 and 3, and cheap to import."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.cluster import airflow_major
from tests.conftest import airflow_env, run_airflow

AIRFLOW_3 = airflow_major() >= 3


def listed_plugins(**env: str) -> list[dict]:
    result = run_airflow("plugins", "--output", "json", env=airflow_env(**env))
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout[result.stdout.index("[") :])


@pytest.mark.parametrize("lazy_providers", ["True", "False"])
def test_airflow_plugins_lists_the_plugin_once_from_the_entry_point(airflow_db, lazy_providers):
    # With eager provider discovery Airflow also loads the plugins named in provider info: still once.
    plugins = listed_plugins(AIRFLOW__CORE__LAZY_DISCOVER_PROVIDERS=lazy_providers)
    ours = [plugin for plugin in plugins if plugin["name"] == "vimmerse"]
    assert len(ours) == 1, f"listed once, not {len(ours)} times"
    assert "airflow.plugins" in ours[0]["source"] and "VimmersePlugin" in ours[0]["source"]
    if AIRFLOW_3:
        assert ours[0]["fastapi_apps"] == [
            {"app": "fastapi.applications.FastAPI", "url_prefix": "/vimmerse", "name": "Vimmerse"}
        ]
        (view,) = ours[0]["external_views"]
        assert (view["name"], view["destination"], view["url_route"]) == ("Vimmerse", "nav", "vimmerse")
        assert view["href"] == "vimmerse/", "relative to the UI's base URL"


def test_the_plugin_loads_without_import_errors(airflow_db):
    code = (
        "import json\n"
        "from airflow import plugins_manager as pm\n"
        "names = [info['name'] for info in pm.get_plugin_info(attrs_to_dump=['source'])]\n"
        "errors = pm.get_import_errors() if hasattr(pm, 'get_import_errors') else pm.import_errors\n"
        "print(json.dumps({'names': names, 'errors': errors}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=airflow_env(), capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["names"].count("vimmerse") == 1
    assert not any("vimmerse" in source or "vimmerse" in error for source, error in loaded["errors"].items())


def test_loading_the_plugin_imports_no_web_framework():
    """Every Airflow process loads plugins: the FastAPI app is built only when the api-server asks for it."""
    heavy = ["fastapi", "starlette", "airflow.api_fastapi.core_api", "airflow_provider_vimmerse.plugins.app"]
    code = (
        "import sys, airflow; before = set(sys.modules)\n"
        "from airflow_provider_vimmerse.plugins.vimmerse import VimmersePlugin\n"
        "VimmersePlugin(); VimmersePlugin.external_views; VimmersePlugin.name\n"
        f"print([m for m in {heavy!r} if m in sys.modules and m not in before])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.skipif(not AIRFLOW_3, reason="Airflow 2 has no plugin FastAPI apps: the page exists on Airflow 3 only")
def test_the_app_is_built_once_on_first_use():
    from fastapi import FastAPI

    from airflow_provider_vimmerse.plugins.vimmerse import VimmersePlugin

    apps = VimmersePlugin.fastapi_apps
    assert isinstance(apps[0]["app"], FastAPI)
    assert VimmersePlugin().fastapi_apps is apps, "the same app for the class and any instance"


def test_the_rows_and_the_page_need_no_airflow():
    """Rendering is pure: it can be reused and tested without Airflow, a database or a server."""
    code = (
        "import sys\n"
        "from airflow_provider_vimmerse.plugins.jobs import build_row\n"
        "from airflow_provider_vimmerse.plugins.page import render_page\n"
        "row = build_row(dag_id='d', task_id='t', run_id='r', map_index=-1, job_url='https://a.test/media/m',\n"
        "                result=None, task_state='deferred', started_at=None)\n"
        "assert 'data-job-id=\"m\"' in render_page([row], limit=5)\n"
        "print(sorted(m for m in ('airflow', 'fastapi', 'sqlalchemy') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
