"""A small ``requests`` client for the sandbox's ``/_sandbox`` control routes (not for the API itself)."""

from __future__ import annotations

from typing import Any

import requests


class SandboxClient:
    """Control a running sandbox over HTTP: reset it, change settings, add faults, read the ledger.

    :param url: the sandbox base URL, e.g. ``http://127.0.0.1:8099``.
    :param timeout: seconds to wait for each answer.
    :param verify: TLS verification for an HTTPS sandbox (a CA bundle path, or False for a self-signed one).
    """

    def __init__(self, url: str, timeout: float = 10.0, verify: bool | str = True) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.verify = verify

    def reset(self) -> dict[str, Any]:
        """Forget jobs, ledger, faults and webhooks; restore the start settings and credits."""
        return self._call("POST", "/reset")

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Change settings (``job_seconds``, ``credits``, ``stale_success_seconds``, ``media_outputs``...).

        :param settings: :class:`~airflow_provider_vimmerse.sandbox.state.SandboxSettings` fields.
        """
        return self._call("POST", "/config", json=settings)

    def state(self) -> dict[str, Any]:
        """Return the settings (API keys hidden), the credit balance and the fault rules."""
        return self._call("GET", "/state")

    def add_fault(self, **rule: Any) -> dict[str, Any]:
        """Add a fault rule and return it with its id.

        :param rule: the rule fields: ``fault``, ``status``, ``retry_after``, ``delay``, ``method``, ``path``,
            ``times``, ``probability``, ``phase``.
        """
        return self._call("POST", "/faults", json=rule)

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._call("DELETE", "/faults")

    def faults(self) -> list[dict[str, Any]]:
        """Return the fault rules and how often each was applied."""
        return self._call("GET", "/faults")

    def ledger(self, path: str | None = None, method: str | None = None) -> list[dict[str, Any]]:
        """Return the ledger of API requests, optionally only those with exactly this path and/or method.

        :param path: keep only entries with this exact path, e.g. ``/media``.
        :param method: keep only entries with this method, e.g. ``POST``.
        """
        params = {name: value for name, value in (("path", path), ("method", method)) if value is not None}
        return self._call("GET", "/ledger", params=params)

    def ledger_summary(self) -> dict[str, Any]:
        """Return request counts by method and route (cheap even when the ledger is huge)."""
        return self._call("GET", "/ledger/summary")

    def jobs(self) -> list[dict[str, Any]]:
        """Return every job with its kind, status, planned outcome and API object."""
        return self._call("GET", "/jobs")

    def webhooks(self) -> list[dict[str, Any]]:
        """Return every webhook delivery: url, payload, the receiver's status or the error."""
        return self._call("GET", "/webhooks")

    def close(self) -> None:
        """Close the HTTP session."""
        self.session.close()

    def __enter__(self) -> SandboxClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.session.request(method, f"{self.url}/_sandbox{path}", timeout=self.timeout, **kwargs)
        response.raise_for_status()
        return response.json()
