"""
Signed webhook URLs that name one waiting task, and the deliveries the Vimmerse API posts to them.

When webhooks are on, the operators that start a media, batch or story job send ``webhook_url``
(:meth:`WebhookTarget.url`): the receiver's address on this Airflow with the waiting task instance
(DAG, run, task, map index) and the job kind in its query, signed with HMAC-SHA256 under the
deployment's ``[vimmerse] webhook_secret``. The receiver checks the signature
(:meth:`WebhookTarget.from_query`) before it reads the body, so a delivery is never trusted for
where it points; its body (:func:`parse_delivery`) only says which job ended with which status, and the
waiting trigger confirms that with one status request of its own.

Pure module: no Airflow imports.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

#: Where the receiver listens, under the Airflow api-server's base URL.
RECEIVER_PATH = "/vimmerse/webhooks/hint"
#: The XCom key under which the receiver records a hint on the waiting task instance.
HINT_KEY = "vimmerse_webhook"
#: Job kinds whose jobs call ``webhook_url``, and the body field that holds the job id.
ID_FIELDS: Mapping[str, str] = {"media": "media_id", "batch": "batch_id", "story": "batch_id"}
#: Largest delivery body the receiver reads (the documented payload is under 200 bytes).
MAX_BODY_BYTES = 4096
#: Longest job id or status a hint records.
MAX_VALUE_CHARS = 200
SIGNATURE_PARAM = "sig"
_VERSION = "v1"
_QUERY_KEYS = ("kind", "dag_id", "run_id", "task_id", "map_index")


class WebhookError(ValueError):
    """A delivery that is not accepted: bad signature, bad URL or bad body."""


@dataclass(frozen=True)
class WebhookTarget:
    """
    The waiting task instance a webhook URL names, and the kind of job it waits on.

    :param kind: ``media``, ``batch`` or ``story``
    :param dag_id: the DAG
    :param run_id: the DAG run
    :param task_id: the task
    :param map_index: the map index, -1 when the task is not mapped
    """

    kind: str
    dag_id: str
    run_id: str
    task_id: str
    map_index: int = -1

    def __post_init__(self) -> None:
        if self.kind not in ID_FIELDS:
            raise WebhookError(f"no webhooks for job kind {self.kind!r}; only {', '.join(ID_FIELDS)}")
        if not (self.dag_id and self.run_id and self.task_id):
            raise WebhookError("a webhook target needs a dag_id, a run_id and a task_id")

    def query(self) -> dict[str, str]:
        """Return the unsigned query parameters that name the target."""
        return {
            "kind": self.kind,
            "dag_id": self.dag_id,
            "run_id": self.run_id,
            "task_id": self.task_id,
            "map_index": str(self.map_index),
        }

    def signature(self, secret: str) -> str:
        """Return the hex HMAC-SHA256 of the target under ``secret``."""
        if not secret:
            raise WebhookError("no webhook secret is configured")
        message = json.dumps([_VERSION, *self.query().values()], separators=(",", ":")).encode()
        return hmac.new(_signing_key(secret), message, hashlib.sha256).hexdigest()

    def url(self, base_url: str, secret: str) -> str:
        """
        Return the signed URL the API should call for this target.

        :param base_url: this Airflow's api-server as the Vimmerse API reaches it (``https://airflow.example.com``)
        :param secret: the deployment's webhook secret
        """
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise WebhookError(f"webhook_base_url must be an http(s) URL, got {base_url!r}")
        query = urlencode({**self.query(), SIGNATURE_PARAM: self.signature(secret)})
        return f"{base_url.rstrip('/')}{RECEIVER_PATH}?{query}"

    @classmethod
    def from_query(cls, params: Mapping[str, str], secret: str) -> WebhookTarget:
        """
        Return the target a delivery's query names, after checking its signature (constant-time).

        :param params: the query parameters of the delivery
        :param secret: the deployment's webhook secret
        :raises WebhookError: when a part is missing or malformed, or the signature does not match
        """
        missing = [key for key in (*_QUERY_KEYS, SIGNATURE_PARAM) if not params.get(key)]
        if missing:
            raise WebhookError(f"missing {', '.join(missing)}")
        try:
            map_index = int(params["map_index"])
        except ValueError:
            raise WebhookError("map_index is not a number") from None
        target = cls(params["kind"], params["dag_id"], params["run_id"], params["task_id"], map_index)
        if str(map_index) != params["map_index"] or not hmac.compare_digest(
            target.signature(secret).encode(), str(params[SIGNATURE_PARAM]).encode()
        ):
            raise WebhookError("bad signature")
        return target


def _signing_key(secret: str) -> bytes:
    """Derive the key that signs URLs from the secret (the secret itself signs nothing else)."""
    return hmac.new(secret.encode(), b"vimmerse-webhook-url", hashlib.sha256).digest()


@dataclass(frozen=True)
class Delivery:
    """
    What one delivery says: which job ended, and how (to be confirmed by a status request).

    :param job_id: the job id from the body (``media_id``, or ``batch_id`` for batches and stories)
    :param status: the status from the body
    """

    job_id: str
    status: str

    def hint(self, received_at: float) -> dict[str, Any]:
        """Return the hint the receiver records: ``{"job_id", "status", "received_at"}``."""
        return {"job_id": self.job_id, "status": self.status, "received_at": received_at}


def parse_delivery(kind: str, body: bytes) -> Delivery:
    """
    Read a delivery's body: ``{"customer_id", "media_id" | "batch_id", "status"}``.

    :param kind: the job kind the URL names
    :param body: the raw body
    :raises WebhookError: when it is not a JSON object with a job id and a status
    """
    if len(body) > MAX_BODY_BYTES:
        raise WebhookError(f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        payload = json.loads(body)
    except ValueError:
        raise WebhookError("body is not JSON") from None
    if not isinstance(payload, dict):
        raise WebhookError("body is not a JSON object")
    id_field = ID_FIELDS[kind]
    job_id, status = payload.get(id_field), payload.get("status")
    if not isinstance(job_id, (str, int)) or not str(job_id) or len(str(job_id)) > MAX_VALUE_CHARS:
        raise WebhookError(f"body has no usable {id_field}")
    if not isinstance(status, str) or not status or len(status) > MAX_VALUE_CHARS:
        raise WebhookError("body has no usable status")
    return Delivery(str(job_id), status)


@dataclass(frozen=True)
class Hint:
    """
    A recorded hint, as the trigger reads it back.

    :param job_id: the job the delivery named
    :param status: the status it claimed
    :param received_at: when the receiver recorded it (seconds since the epoch)
    """

    job_id: str
    status: str
    received_at: float

    @classmethod
    def from_value(cls, value: Any) -> Hint | None:
        """Return the hint in an XCom value, or None when the value is not one."""
        if not isinstance(value, Mapping):
            return None
        job_id, status, received_at = value.get("job_id"), value.get("status"), value.get("received_at")
        if not isinstance(job_id, str) or not isinstance(status, str) or not isinstance(received_at, (int, float)):
            return None
        return cls(job_id, status, float(received_at))
