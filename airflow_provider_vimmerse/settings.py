"""
The deployment's ``[vimmerse]`` settings: what is set once per Airflow deployment, not per connection.

Each option is declared once in :data:`OPTIONS`; Airflow's provider ``config`` section (shown by
``airflow config list``, documented in ``docs/configuration.md``) is built from it, and :func:`get`
reads an option with its declared default as the fallback (Airflow 2.11 loads a provider's config
section only in some processes). Override one with ``AIRFLOW__VIMMERSE__<NAME>`` or in
``airflow.cfg``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from airflow_provider_vimmerse.api.config import parse_flag

SECTION = "vimmerse"

OptionType = Literal["string", "boolean", "integer", "float"]


@dataclass(frozen=True)
class Option:
    """
    One option of the ``[vimmerse]`` section.

    :param name: the option's key
    :param type: ``string``, ``boolean``, ``integer`` or ``float``
    :param default: the value when nothing is configured (None: unset)
    :param description: what it does, for ``airflow config list`` and the docs
    :param example: a value to show in the docs
    :param version_added: the provider version that added it
    :param sensitive: hide the value (a secret) in Airflow's config views
    """

    name: str
    type: OptionType
    default: str | None
    description: str
    example: str | None = None
    version_added: str = "0.1.0"
    sensitive: bool = False

    def to_provider_info(self) -> dict[str, Any]:
        """Return the option in the shape of ``provider_info.schema.json``'s ``option``."""
        info: dict[str, Any] = {
            "description": self.description,
            "version_added": self.version_added,
            "type": self.type,
            "example": self.example,
            "default": self.default,
        }
        if self.sensitive:
            info["sensitive"] = True
        return info


#: Every option of the ``[vimmerse]`` section (add a row to add an option).
OPTIONS: tuple[Option, ...] = (
    Option(
        "deferrable",
        "boolean",
        "True",
        "Default of ``deferrable`` for the Vimmerse job operators and the sensor of a task that sets none. True: "
        "every wait runs in the triggerer and holds no worker slot (the deployment must run a triggerer). Set "
        "False only where no triggerer runs; waits then hold a worker slot for the whole job. Airflow's "
        "``[operators] default_deferrable`` is not read: it is off out of the box, and a job takes minutes.",
        example="False",
    ),
    Option(
        "cost_days",
        "integer",
        "30",
        "How many days the cost view of the Vimmerse page shows when no range is chosen.",
        example="7",
    ),
    Option(
        "poll_interval",
        "float",
        None,  # unset: an empty string would make ``conf.getfloat`` raise
        "Seconds between status checks of a Vimmerse job for the operators and the sensor of a task that sets "
        "none (``poll_interval`` of an operator, ``poke_interval`` of the sensor). Unset: operators adapt "
        "(quick first checks, then slower up to a minute) and the sensor checks every 60 seconds.",
        example="30",
    ),
    Option(
        "page_limit",
        "integer",
        "50",
        "How many of the most recent jobs the Vimmerse page lists when the address names no ``limit`` (1 to 500).",
        example="100",
    ),
    Option(
        "webhooks",
        "boolean",
        "False",
        "Let the Vimmerse API wake deferred waits on media, batch and story jobs by calling this Airflow's "
        "webhook receiver (Airflow 3.3+; the API must reach ``webhook_base_url``). Needs ``webhook_base_url`` and "
        "``webhook_secret``. A connection's extra ``webhooks`` (true or false) overrides it for that connection.",
        example="True",
    ),
    Option(
        "webhook_base_url",
        "string",
        None,
        "This Airflow's api-server as the Vimmerse API reaches it; the receiver is at "
        "``<webhook_base_url>/vimmerse/webhooks/hint``.",
        example="https://airflow.example.com",
    ),
    Option(
        "webhook_secret",
        "string",
        None,
        "Secret that signs the webhook URLs (HMAC-SHA256): at least 32 bytes of random text, the same value on "
        "every worker and api-server; make one with "
        '``python -c "import secrets; print(secrets.token_urlsafe(32))"``. A shorter or blank secret fails a task '
        "that would send a webhook URL, before it submits anything, and the receiver then refuses every delivery. "
        "Changing it invalidates the URLs of jobs already running (their waits then poll).",
        example="a long random string",
        sensitive=True,
    ),
    Option(
        "webhook_check_interval",
        "float",
        "10",
        "With webhooks, seconds between two reads of a wait's recorded hint by the triggerer (one read of an "
        "XCom through Airflow's API each): the delay from a delivery to the task's event is at most about this.",
        example="5",
    ),
)

_BY_NAME = {option.name: option for option in OPTIONS}


def config_section() -> dict[str, Any]:
    """Return the provider info ``config`` entry for the ``[vimmerse]`` section."""
    return {
        SECTION: {
            "description": "Settings of the Vimmerse provider shared by every connection of the deployment.",
            "options": {option.name: option.to_provider_info() for option in OPTIONS},
        }
    }


def get(name: str) -> Any:
    """
    Return the configured value of one ``[vimmerse]`` option, typed, or its declared default.

    :param name: the option's key, one of :data:`OPTIONS`
    """
    from airflow.providers.common.compat.sdk import conf

    option = _BY_NAME[name]
    raw = conf.get(SECTION, name, fallback=option.default)
    if option.type == "boolean":  # a typo fails naming the option and the words, never quietly means "no"
        return parse_flag(option.default if raw in (None, "") else raw, f"[{SECTION}] {name}")
    if raw is None or raw == "":
        return None
    if option.type == "integer":
        return int(raw)
    if option.type == "float":
        return float(raw)
    return raw
