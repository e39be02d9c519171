"""
The Airflow plugin of the provider: a "Vimmerse" page in the Airflow 3 UI.

The page lists the recent jobs started by this provider's tasks (DAG, task, run, kind, status,
progress, credits) with their videos playable in place, and links to each task and to the job in the
Vimmerse web app. It reads only what Airflow already stores (see
:mod:`~airflow_provider_vimmerse.plugins.jobs`) and follows Airflow's auth (see
:mod:`~airflow_provider_vimmerse.plugins.app`).

Airflow loads the plugin through the ``airflow.plugins`` entry point of the package; ``airflow plugins``
lists it as ``vimmerse``. The page needs Airflow 3.1 or later: its api-server serves the plugin's
FastAPI app (``fastapi_apps``, at ``/vimmerse/``) and shows its external view in the navigation
(``external_views``: "Vimmerse", at ``/plugin/vimmerse``). Airflow 2 loads the plugin without error
but has neither, so there is no page there.

Every Airflow process loads plugins, so this module imports nothing but the plugin base class and the
page's paths (:mod:`~airflow_provider_vimmerse.plugins.urls`): the FastAPI app is built the first time the
api-server asks for it.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.common.compat.sdk import AirflowPlugin

from airflow_provider_vimmerse.plugins.urls import URL_PREFIX, URL_ROUTE


class _FastAPIApps:
    """The plugin's ``fastapi_apps``, with the app built on first access (importing FastAPI is not free)."""

    def __init__(self) -> None:
        self._apps: list[dict[str, Any]] | None = None

    def __get__(self, instance: object, owner: type | None = None) -> list[dict[str, Any]]:
        if self._apps is None:
            from airflow_provider_vimmerse.plugins.app import create_app

            self._apps = [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "Vimmerse"}]
        return self._apps


class VimmersePlugin(AirflowPlugin):
    """The "Vimmerse" page: recent Vimmerse jobs with their videos (Airflow 3.1+ UI)."""

    name = "vimmerse"
    fastapi_apps = _FastAPIApps()  # type: ignore[assignment]
    external_views = [
        {
            "name": "Vimmerse",
            # Relative to the UI's base URL, so the page also works when Airflow is served under a path.
            "href": URL_PREFIX.lstrip("/") + "/",
            "icon": URL_PREFIX.lstrip("/") + "/icon.svg",
            "destination": "nav",
            "url_route": URL_ROUTE,
        }
    ]
