"""A ``requests`` client of the sandbox API that sends the key as a user's code does, and a wait for what it reads."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests


def wait_until(predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.05) -> Any:
    """Call ``predicate`` until it returns something truthy, and return that; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


class Api:
    """A ``requests`` session that talks to the sandbox API with the sandbox key."""

    def __init__(self, url: str, api_key: str) -> None:
        self.url = url
        self.session = requests.Session()
        self.session.headers["X-Api-Key"] = api_key

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, f"{self.url}{path}", timeout=10, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def post_and_watch(
        self, path: str, read: Callable[[], Any], seconds: float, interval: float
    ) -> tuple[float, list[tuple[float, Any]]]:
        """
        POST ``path``, then call ``read`` every ``interval`` s for ``seconds`` s.

        :return: when the POST was sent (``time.monotonic()``), and each read with the seconds since then
        """
        asked = time.monotonic()
        self.post(path)
        reads = []
        while time.monotonic() - asked < seconds:
            reads.append((time.monotonic() - asked, read()))
            time.sleep(interval)
        return asked, reads

    def media_status(self, media_id: str) -> dict[str, Any]:
        response = self.get(f"/media/{media_id}/processing-status")
        assert response.status_code == 200
        return response.json()["data"]

    def media(self, media_id: str) -> dict[str, Any]:
        """GET /media/{id}, unwrapped: the default answer is {"data": {"data": media}}."""
        response = self.get(f"/media/{media_id}")
        assert response.status_code == 200
        return response.json()["data"]["data"]

    def finished_media(self, media_id: str, timeout: float = 5.0) -> dict[str, Any]:
        def finished() -> dict[str, Any] | None:
            media = self.media(media_id)
            return media if media["processing_status"] in ("success", "fail", "cancel") else None

        return wait_until(finished, timeout)

    def finished_group(self, path: str, timeout: float = 8.0) -> dict[str, Any]:
        """Wait until a batch or story failed, or succeeded and has its composed video_url."""

        def finished() -> dict[str, Any] | None:
            group = self.get(path).json()["data"]
            done = group["status"] == "fail" or (group["status"] == "success" and group["video_url"])
            return group if done else None

        return wait_until(finished, timeout)

    def finished_asset(self, asset_id: str, timeout: float = 5.0) -> dict[str, Any]:
        def finished() -> dict[str, Any] | None:
            asset = self.get(f"/asset/{asset_id}").json()
            return asset if asset["status"] != "processing" else None

        return wait_until(finished, timeout)
