"""
Signed webhook URLs that name one try of a waiting task, and the deliveries the Vimmerse API posts to them.

When webhooks are on, the operators that start a media, batch or story job send ``webhook_url``
(:meth:`WebhookTarget.url`): the receiver's address on this Airflow with the waiting task instance
(DAG, run, task, map index), its try number, the job kind and an expiry (the wait's deadline) in its
query, signed with HMAC-SHA256 under the deployment's ``[vimmerse] webhook_secret`` (at least
:data:`MIN_SECRET_BYTES` bytes: :func:`check_secret`). The receiver checks the signature and the expiry
(:meth:`WebhookTarget.from_query`) before it reads the body, so a delivery is never trusted for where it
points; its body (:func:`parse_delivery`) only says which job ended with which status, and the waiting
trigger confirms that with one status request of its own.

Pure module: no Airflow imports.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass
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
#: Shortest ``[vimmerse] webhook_secret`` (UTF-8 bytes, surrounding whitespace not counted) that signs URLs.
MIN_SECRET_BYTES = 32
#: The option that holds the secret, as messages name it.
SECRET_OPTION = "[vimmerse] webhook_secret"
#: A command that prints a good secret.
MAKE_SECRET = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'
#: The query parameter that carries the signature. Airflow 3.3's api-server masks the value of a query
#: parameter with a sensitive-looking name in its access log (``token=***``), so the signature stays out of it.
SIGNATURE_PARAM = "token"
_VERSION = "v2"
_QUERY_KEYS = ("kind", "dag_id", "run_id", "task_id", "map_index", "try", "exp")


class WebhookError(ValueError):
    """A delivery that is not accepted: bad signature, bad URL or bad body."""


class WebhookExpired(WebhookError):
    """A delivery to a genuine URL after its expiry (the deadline of the wait it was made for)."""


def check_secret(secret: str | None) -> str | None:
    """
    Return why ``secret`` cannot sign webhook URLs (to follow the option's name), or None when it can.

    A secret signs only when it holds at least :data:`MIN_SECRET_BYTES` bytes (UTF-8) besides
    surrounding whitespace: a short one is recovered from a single signed URL by trying candidates.

    :param secret: the configured ``[vimmerse] webhook_secret`` (None: unset)
    """
    if not secret:
        problem = "not set"
    elif not secret.strip():
        problem = "blank"
    elif len(secret.strip().encode()) < MIN_SECRET_BYTES:
        problem = f"shorter than {MIN_SECRET_BYTES} bytes"
    else:
        return None
    return (
        f"{problem}; webhook URLs need a random secret of at least {MIN_SECRET_BYTES} bytes (UTF-8), "
        f"the same on every worker and api-server. Make one with: {MAKE_SECRET}"
    )


@dataclass(frozen=True)
class WebhookTarget:
    """
    The try of a waiting task instance a webhook URL names, the kind of job it waits on, and until when.

    :param kind: ``media``, ``batch`` or ``story``
    :param dag_id: the DAG
    :param run_id: the DAG run
    :param task_id: the task
    :param map_index: the map index, -1 when the task is not mapped
    :param try_number: the try that waits (a later try of the task takes no hint from this URL)
    :param expires_at: when the URL stops being accepted (seconds since the epoch): the wait's deadline
    """

    kind: str
    dag_id: str
    run_id: str
    task_id: str
    map_index: int = -1
    _: KW_ONLY
    try_number: int
    expires_at: int

    def __post_init__(self) -> None:
        if self.kind not in ID_FIELDS:
            raise WebhookError(f"no webhooks for job kind {self.kind!r}; only {', '.join(ID_FIELDS)}")
        if not (self.dag_id and self.run_id and self.task_id):
            raise WebhookError("a webhook target needs a dag_id, a run_id and a task_id")
        if self.try_number < 0 or self.expires_at <= 0:
            raise WebhookError("a webhook target needs a try number and an expiry")

    def query(self) -> dict[str, str]:
        """Return the unsigned query parameters that name the target."""
        return {
            "kind": self.kind,
            "dag_id": self.dag_id,
            "run_id": self.run_id,
            "task_id": self.task_id,
            "map_index": str(self.map_index),
            "try": str(self.try_number),
            "exp": str(self.expires_at),
        }

    def signature(self, secret: str) -> str:
        """
        Return the hex HMAC-SHA256 of the target (expiry and try included) under ``secret``.

        :raises WebhookError: when the secret is too weak to sign (:func:`check_secret`)
        """
        problem = check_secret(secret)
        if problem is not None:
            raise WebhookError(f"invalid {SECRET_OPTION}: {problem}")
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
    def from_query(cls, params: Mapping[str, str], secret: str, now: float | None = None) -> WebhookTarget:
        """
        Return the target a delivery's query names, after checking its signature (constant-time) and expiry.

        :param params: the query parameters of the delivery
        :param secret: the deployment's webhook secret
        :param now: the time to check the expiry against (default: now)
        :raises WebhookExpired: when the signature matches but the URL has expired
        :raises WebhookError: when a part is missing or malformed, or the signature does not match
        """
        missing = [key for key in (*_QUERY_KEYS, SIGNATURE_PARAM) if not params.get(key)]
        if missing:
            raise WebhookError(f"missing {', '.join(missing)}")
        map_index, try_number, expires_at = (_canonical_int(params[key]) for key in ("map_index", "try", "exp"))
        if map_index is None or try_number is None or expires_at is None:
            raise WebhookError("map_index, try and exp must be whole numbers, written plainly")
        kind, dag_id, run_id, task_id = (params[key] for key in ("kind", "dag_id", "run_id", "task_id"))
        target = cls(kind, dag_id, run_id, task_id, map_index, try_number=try_number, expires_at=expires_at)
        if not hmac.compare_digest(target.signature(secret).encode(), str(params[SIGNATURE_PARAM]).encode()):
            raise WebhookError("bad signature")
        if target.expires_at <= (time.time() if now is None else now):
            raise WebhookExpired("expired: the wait this URL was made for has reached its deadline")
        return target


def _canonical_int(text: str) -> int | None:
    """Return the integer ``text`` writes in its one canonical form (``-1``, ``3``), else None."""
    try:
        number = int(text)
    except ValueError:
        return None
    return number if str(number) == text else None


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
