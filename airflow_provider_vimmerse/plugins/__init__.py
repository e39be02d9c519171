"""
The "Vimmerse" page of the Airflow 3 UI (an Airflow plugin shipped with the provider).

* :mod:`~airflow_provider_vimmerse.plugins.vimmerse`: the plugin Airflow loads (entry point ``airflow.plugins``);
* :mod:`~airflow_provider_vimmerse.plugins.app`: the FastAPI app behind the page, with Airflow's own auth;
* :mod:`~airflow_provider_vimmerse.plugins.query`: reads the recent jobs from Airflow's XComs and task instances;
* :mod:`~airflow_provider_vimmerse.plugins.jobs`: turns what Airflow stores into one row per job (pure);
* :mod:`~airflow_provider_vimmerse.plugins.outputs`: streams the outputs only the Vimmerse API serves (with the key
  of the connection the task used);
* :mod:`~airflow_provider_vimmerse.plugins.page`: renders the rows as the HTML page, and the cost view (pure);
* :mod:`~airflow_provider_vimmerse.plugins.costs`: adds up credits per day and per DAG for the cost view (pure);
* :mod:`~airflow_provider_vimmerse.plugins.chart`: draws the cost view's chart as an inline SVG (pure);
* :mod:`~airflow_provider_vimmerse.plugins.usage`: reads the account's usage statistics from the API, bounded;
* :mod:`~airflow_provider_vimmerse.plugins.webhooks`: the webhook receiver, which records a hint on the waiting task;
* :mod:`~airflow_provider_vimmerse.plugins.urls`: where the page lives (the app's mount point, its UI route).
"""

from __future__ import annotations
