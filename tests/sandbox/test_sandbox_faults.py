"""Fault injection, the request ledger, webhooks, redirect/echo and file streaming of the sandbox."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest
import requests

from airflow_provider_vimmerse.sandbox import DEFAULT_API_KEY, SandboxSettings, SandboxState
from airflow_provider_vimmerse.sandbox.middleware import SandboxMiddleware


def test_status_fault_before_refuses_the_request_without_creating_a_job(api, sandbox_client):
    sandbox_client.add_fault(fault="status", status=503, retry_after=2, method="POST", path="^/media$")

    refused = api.post("/media", data={"prompt": "x"})
    accepted = api.post("/media", data={"prompt": "x"})

    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "2"
    assert refused.json() == {"message": "SERVICE_UNAVAILABLE"}
    assert accepted.status_code == 200
    first, second = sandbox_client.ledger(path="/media")
    assert (first["status"], first["fault"], first["created"], first["credits"]) == (503, "status", False, 0)
    assert (second["status"], second["fault"], second["created"]) == (200, None, True)
    assert len(sandbox_client.jobs()) == 1


def test_status_fault_after_processes_the_request_then_fails(api, sandbox_client):
    sandbox_client.add_fault(fault="status", status=500, path="^/media$")

    response = api.post("/media", data={"prompt": "x", "duration": "2"})

    assert response.status_code == 500
    (entry,) = sandbox_client.ledger()
    assert (entry["status"], entry["created"], entry["credits"]) == (500, True, 2)
    (job,) = sandbox_client.jobs()
    assert job["id"] == entry["job_id"]


def test_429_is_refused_before_processing_by_default(api, sandbox_client):
    rule = sandbox_client.add_fault(fault="status", status=429, retry_after=0.5)

    response = api.post("/batch", data={"image_urls": ["https://e.com/a.png"]})

    assert rule["phase"] == "before"
    assert response.status_code == 429
    assert response.headers["retry-after"] == "0.5"
    assert sandbox_client.jobs() == []


def test_drop_cuts_the_connection_for_requests(api, sandbox_client):
    sandbox_client.add_fault(fault="drop", path="^/media$")

    with pytest.raises((requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        api.post("/media", data={"prompt": "x"})

    (entry,) = sandbox_client.ledger()
    assert (entry["fault"], entry["status"], entry["created"]) == ("drop", None, True)


def test_drop_cuts_the_connection_for_aiohttp(sandbox_server, sandbox_client):
    sandbox_client.add_fault(fault="drop", phase="before")

    async def fetch() -> None:
        async with (
            aiohttp.ClientSession(headers={"X-Api-Key": DEFAULT_API_KEY}) as session,
            session.get(f"{sandbox_server.url}/media/anything") as response,
        ):
            await response.json()

    with pytest.raises((aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError)):
        asyncio.run(fetch())
    (entry,) = sandbox_client.ledger()
    assert (entry["fault"], entry["created"]) == ("drop", False)


def test_malformed_answers_200_with_a_body_that_is_not_json(api, sandbox_client):
    sandbox_client.add_fault(fault="malformed", method="GET")
    media = api.post("/media", data={"prompt": "x"}).json()["data"]

    response = api.get(f"/media/{media['id']}")

    assert response.status_code == 200
    with pytest.raises(ValueError):
        json.loads(response.text)


def test_slow_delays_a_normal_answer(api, sandbox_client):
    sandbox_client.add_fault(fault="slow", delay=0.4, path="^/media$")

    started = time.monotonic()
    response = api.post("/media", data={"prompt": "x"})

    assert time.monotonic() - started >= 0.4
    assert response.status_code == 200
    assert sandbox_client.ledger()[0]["fault"] == "slow"


def test_a_fault_applies_to_the_next_n_matching_requests_only(api, sandbox_client):
    sandbox_client.add_fault(fault="status", status=502, method="GET", path="/processing-status$", times=2)
    media = api.post("/media", data={"prompt": "x"}).json()["data"]

    codes = [api.get(f"/media/{media['id']}/processing-status").status_code for _ in range(3)]
    other = api.get(f"/media/{media['id']}").status_code

    assert codes == [502, 502, 200]
    assert other == 200
    assert sandbox_client.faults()[0]["applied"] == 2


def test_probabilistic_faults_repeat_under_the_same_seed(api, sandbox_client):
    def run() -> list[int]:
        sandbox_client.reset()
        sandbox_client.configure(seed=42)
        sandbox_client.add_fault(fault="status", status=500, method="GET", probability=0.5, times=100)
        return [api.get("/asset/x").status_code for _ in range(30)]

    first, second = run(), run()

    assert first == second
    assert {500, 404} == set(first)


def test_invalid_fault_rules_are_refused(sandbox_client):
    for rule in ({"fault": "explode"}, {"fault": "status", "status": 418}, {"fault": "drop", "path": "("}):
        with pytest.raises(requests.HTTPError):
            sandbox_client.add_fault(**rule)


def test_admin_and_file_routes_are_not_faulted_or_recorded(sandbox_server, sandbox_client):
    sandbox_client.add_fault(fault="status", status=500, times=10)

    state = requests.get(f"{sandbox_server.url}/_sandbox/state", timeout=5)
    video = requests.get(f"{sandbox_server.url}/_sandbox/files/x.mp4", timeout=5)
    health = requests.get(f"{sandbox_server.url}/health", timeout=5)

    assert [state.status_code, video.status_code, health.status_code] == [200, 200, 200]
    assert sandbox_client.ledger() == []


@pytest.mark.parametrize("chunks", [[b"{}"], [b"[1,", b"2]"]], ids=["one body", "streamed"])
def test_a_request_is_in_the_ledger_before_its_answer_ends(chunks):
    # A client that has read a whole answer may reset the sandbox or read the ledger at once (every test
    # does); the entry written after the last byte would land in the next test's ledger.
    state = SandboxState(SandboxSettings())

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for n, chunk in enumerate(chunks, start=1):
            await send({"type": "http.response.body", "body": chunk, "more_body": n < len(chunks)})

    seen: list[tuple[str, bool, int]] = []

    async def send(message):
        seen.append((message["type"], message.get("more_body", False), len(state.ledger)))

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    headers = [(b"x-api-key", DEFAULT_API_KEY.encode())]
    scope = {"type": "http", "method": "GET", "path": "/media/x", "query_string": b"", "headers": headers}
    asyncio.run(SandboxMiddleware(app, state)(scope, receive, send))

    *before, last = seen
    assert all(entries == 0 for _, _, entries in before), "no entry before the answer is complete"
    assert last == ("http.response.body", False, 1), "the entry is there when the last byte goes"
    assert [entry["status"] for entry in state.ledger] == [200]


def test_the_ledger_never_contains_the_api_key(api, sandbox_client):
    sandbox_client.add_fault(fault="status", status=500, path="/asset")
    api.post("/media", data={"prompt": "x"})
    api.get("/asset/missing", params={"api_key": DEFAULT_API_KEY})
    api.get("/media/unknown", headers={"User-Agent": f"agent {DEFAULT_API_KEY}"})
    requests.get(f"{api.url}/media/x", headers={"X-Api-Key": "a-wrong-key"}, timeout=5)

    entries = sandbox_client.ledger()
    text = json.dumps(entries) + json.dumps(sandbox_client.state())

    assert len(entries) == 4
    assert DEFAULT_API_KEY not in text
    fields = {"seq", "time", "method", "path", "query", "status", "fault", "authorized", "user_agent"}
    assert fields | {"job_id", "created", "credits"} <= set(entries[0])


def test_media_webhook_gets_the_documented_payload(api, sandbox_client, webhook_receiver, wait_until):
    sandbox_client.configure(job_seconds=0.2)
    media = api.post("/media", data={"prompt": "x", "webhook_url": webhook_receiver.url}).json()["data"]

    (payload,) = wait_until(lambda: webhook_receiver.payloads)

    assert payload == {"customer_id": "sandbox-customer", "media_id": media["id"], "status": "success"}
    (delivery,) = wait_until(sandbox_client.webhooks)
    assert (delivery["url"], delivery["status"], delivery["error"]) == (webhook_receiver.url, 204, None)


def test_batch_and_story_webhooks_carry_batch_id(api, sandbox_client, wait_until):
    sandbox_client.configure(job_seconds=0.2)
    echo = f"{api.url}/_sandbox/echo"
    batch_form = {"image_urls": ["https://e.com/a.png"], "webhook_url": echo}
    story_body = {"idea": "[sandbox:fail]", "scene_count": 1, "webhook_url": echo}
    batch = api.post("/batch", data=batch_form).json()["data"]
    story = api.post("/story/idea-2-video", json=story_body)

    deliveries = wait_until(lambda: len(found := sandbox_client.webhooks()) == 2 and found)

    payloads = sorted((d["payload"] for d in deliveries), key=lambda p: p["status"])
    assert payloads == [
        {"customer_id": "sandbox-customer", "batch_id": story.json()["data"]["id"], "status": "fail"},
        {"customer_id": "sandbox-customer", "batch_id": batch["id"], "status": "success"},
    ]
    assert {d["status"] for d in deliveries} == {200}


def test_a_webhook_that_cannot_be_delivered_is_recorded_with_the_error(api, sandbox_client, wait_until):
    sandbox_client.configure(job_seconds=0.1)
    api.post("/media", data={"prompt": "x", "webhook_url": "http://127.0.0.1:9/nothing-listens-here"})

    (delivery,) = wait_until(sandbox_client.webhooks)

    assert delivery["status"] is None
    assert delivery["error"]


def test_redirect_to_another_origin_and_echo(api, sandbox_server):
    port = sandbox_server.port
    target = f"http://localhost:{port}/_sandbox/echo"

    not_followed = api.get("/_sandbox/redirect", params={"to": target}, allow_redirects=False)
    followed = api.get("/_sandbox/redirect", params={"to": target, "status": 302})

    assert not_followed.status_code == 307
    assert not_followed.headers["location"] == target
    echoed = followed.json()
    assert echoed["method"] == "GET"
    assert echoed["headers"]["host"] == f"localhost:{port}"
    # requests keeps custom headers across origins: exactly what a careful client must prevent.
    assert echoed["headers"]["x-api-key"] == DEFAULT_API_KEY


def test_big_file_streams_the_requested_number_of_bytes(sandbox_server):
    size = 3 * 65536 + 123

    response = requests.get(f"{sandbox_server.url}/_sandbox/files/big.bin", params={"size": size}, timeout=10)

    assert response.headers["content-length"] == str(size)
    assert len(response.content) == size
    assert response.content[:4] == bytes([0, 1, 2, 3])
