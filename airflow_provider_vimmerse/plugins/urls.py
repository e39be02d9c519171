"""
Where the "Vimmerse" page lives: the path its FastAPI app is mounted at, and its route in the Airflow UI.

Read by the plugin (:mod:`~airflow_provider_vimmerse.plugins.vimmerse`), which every Airflow process
loads, and by the app and its routes (:mod:`~airflow_provider_vimmerse.plugins.app`,
:mod:`~airflow_provider_vimmerse.plugins.webhooks`): plain values, so it imports nothing.
"""

from __future__ import annotations

#: Where the api-server mounts the page's FastAPI app.
URL_PREFIX = "/vimmerse"
#: The page's route in the Airflow UI: ``/plugin/vimmerse``.
URL_ROUTE = "vimmerse"
