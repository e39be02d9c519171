"""Provider metadata read by Airflow's providers manager (entry point ``apache_airflow_provider``)."""

from __future__ import annotations

from typing import Any

from airflow_provider_vimmerse import __version__
from airflow_provider_vimmerse.api.config import DEFAULT_BASE_URL, EXTRA_FIELDS, FORM_BEHAVIOUR
from airflow_provider_vimmerse.settings import config_section

PACKAGE = "airflow_provider_vimmerse"
INTEGRATION = "Vimmerse"


def _conn_fields() -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, (label, description) in EXTRA_FIELDS.items():
        kind = "integer" if name == "retries" else "number" if name.endswith("timeout") else "string"
        fields[name] = {"label": label, "description": description, "schema": {"type": [kind, "null"]}}
    return fields


def get_provider_info() -> dict[str, Any]:
    """Return this provider's metadata in the shape of Airflow's ``provider_info.schema.json``."""
    return {
        "package-name": "airflow-provider-vimmerse",
        "name": "Vimmerse",
        "description": "Generate AI videos with the `Vimmerse Platform API <https://api.vimmerse.net>`__.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": INTEGRATION,
                "external-doc-url": DEFAULT_BASE_URL,
                "tags": ["service"],
            }
        ],
        "hooks": [{"integration-name": INTEGRATION, "python-modules": [f"{PACKAGE}.hooks.vimmerse"]}],
        "operators": [
            {
                "integration-name": INTEGRATION,
                "python-modules": [
                    f"{PACKAGE}.operators.media",
                    f"{PACKAGE}.operators.batch",
                    f"{PACKAGE}.operators.story",
                    f"{PACKAGE}.operators.download",
                    f"{PACKAGE}.operators.video",
                    f"{PACKAGE}.operators.tools",
                    f"{PACKAGE}.operators.workflow",
                    f"{PACKAGE}.operators.finetune",
                    f"{PACKAGE}.operators.delete",
                    f"{PACKAGE}.operators.statistics",
                ],
            }
        ],
        "sensors": [{"integration-name": INTEGRATION, "python-modules": [f"{PACKAGE}.sensors.job"]}],
        "triggers": [{"integration-name": INTEGRATION, "python-modules": [f"{PACKAGE}.triggers.job"]}],
        "extra-links": [f"{PACKAGE}.links.vimmerse.VimmerseJobLink"],
        "task-decorators": [
            {"name": "vimmerse_media", "class-name": f"{PACKAGE}.decorators.media.vimmerse_media_task"},
            {"name": "vimmerse_story", "class-name": f"{PACKAGE}.decorators.story.vimmerse_story_task"},
        ],
        "connection-types": [
            {
                "connection-type": "vimmerse",
                "hook-class-name": f"{PACKAGE}.hooks.vimmerse.VimmerseHook",
                "hook-name": "Vimmerse",
                "conn-fields": _conn_fields(),
                "ui-field-behaviour": {key.replace("_", "-"): value for key, value in FORM_BEHAVIOUR.items()},
            }
        ],
        "config": config_section(),
    }
