"""
Fault matrix: every fault the sandbox can inject, against every job kind, on the submit and while waiting.

Each cell must end as it should (recovered, or a clear error naming the route and saying the job may
exist) and the ledger must show no duplicate submission anywhere.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from airflow_provider_vimmerse.api.endpoints import ApiRequest, form_fields
from airflow_provider_vimmerse.exceptions import VimmerseJobMayExistError
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.sandbox.pytest_plugin import sandbox_conn_uri
from airflow_provider_vimmerse.triggers.job import VimmerseJobTrigger

#: One credit-spending submit per job kind, as the operators send them.
SUBMITS = {
    "media": ApiRequest("POST", "/media", form=form_fields({"prompt": "a red kite"}), spends_credits=True),
    "batch": ApiRequest(
        "POST",
        "/batch",
        form=form_fields({"title": "kites", "image_urls": ["https://example.com/1.png", "https://example.com/2.png"]}),
        spends_credits=True,
    ),
    "story": ApiRequest(
        "POST", "/story/idea-2-video", form=form_fields({"idea": "kites at dawn"}), spends_credits=True
    ),
    "asset": ApiRequest(
        "POST",
        "/v2/video/enhance",
        json={"video_url": "https://example.com/in.mp4", "async_mode": True},
        spends_credits=True,
    ),
}
#: Where each kind is polled (regex for the fault rule).
POLL_PATHS = {
    "media": r"^/media/[^/]+/processing-status$",
    "batch": r"^/batch/[^/]+$",
    "story": r"^/story/[^/]+$",
    "asset": r"^/asset/[^/]+$",
}
#: Faults and whether a credit-spending submit may be resent after them.
SUBMIT_FAULTS = {
    "503 before processing": ({"fault": "status", "status": 503}, "recovered"),
    "429 with Retry-After": ({"fault": "status", "status": 429, "retry_after": 0.2}, "recovered"),
    "429 without Retry-After": ({"fault": "status", "status": 429}, "recovered"),
    "500 after processing": ({"fault": "status", "status": 500}, "may exist"),
    "502 after processing": ({"fault": "status", "status": 502}, "may exist"),
    "504 after processing": ({"fault": "status", "status": 504}, "may exist"),
    "dropped connection": ({"fault": "drop"}, "may exist"),
    "slow answer (read timeout)": ({"fault": "slow", "delay": 1.5}, "may exist"),
    "malformed JSON": ({"fault": "malformed"}, "may exist"),
}
POLL_FAULTS = [
    {"fault": "status", "status": 503, "times": 2},
    {"fault": "status", "status": 500},
    {"fault": "status", "status": 502},
    {"fault": "status", "status": 504},
    {"fault": "status", "status": 429, "retry_after": 0.2},
    {"fault": "status", "status": 429},
    {"fault": "drop"},
    {"fault": "slow", "delay": 1.5},
    {"fault": "malformed"},
]


@pytest.fixture
def hook(vimmerse_sandbox, monkeypatch) -> VimmerseHook:
    monkeypatch.setattr("airflow_provider_vimmerse.api.retry.BACKOFF_BASE_SECONDS", 0.05)
    # Nine faults in a row back off exponentially (to two minutes in production); keep this test quick.
    monkeypatch.setattr("airflow_provider_vimmerse.api.waiting.ERROR_BACKOFF_CEILING", 0.3)
    monkeypatch.setenv(
        "AIRFLOW_CONN_VIMMERSE_DEFAULT",
        sandbox_conn_uri(vimmerse_sandbox.url, vimmerse_sandbox.api_key, timeout=1, retries=3),
    )
    vimmerse_sandbox.client.configure(job_seconds=1)
    return VimmerseHook()


def created_jobs(sandbox, kind: str) -> list[dict]:
    time.sleep(0.1)
    return [e for e in sandbox.client.ledger(path=SUBMITS[kind].path, method="POST") if e["created"]]


def job_id_of(body: dict) -> str:
    obj = body.get("data", body)
    return obj["id"]


@pytest.mark.parametrize("kind", SUBMITS)
@pytest.mark.parametrize("fault_name", SUBMIT_FAULTS)
def test_submit_faults(vimmerse_sandbox, hook, kind, fault_name):
    fault, expected = SUBMIT_FAULTS[fault_name]
    req = SUBMITS[kind]
    vimmerse_sandbox.client.add_fault(method="POST", path=f"^{req.path}$", **fault)
    if expected == "recovered":
        job_id_of(hook.request(req))
    else:
        with pytest.raises(VimmerseJobMayExistError) as raised:
            hook.request(req)
        assert req.path in str(raised.value) and "may have been created" in str(raised.value)
        time.sleep(fault.get("delay", 0))
    assert len(created_jobs(vimmerse_sandbox, kind)) == 1, "exactly one job was created, never two"


@pytest.mark.parametrize("kind", SUBMITS)
def test_poll_faults_never_end_the_wait(vimmerse_sandbox, hook, kind):
    job_id = job_id_of(hook.request(SUBMITS[kind]))
    for fault in POLL_FAULTS:
        vimmerse_sandbox.client.add_fault(method="GET", path=POLL_PATHS[kind], **fault)
    trigger = VimmerseJobTrigger(
        conn_id="vimmerse_default", kind=kind, job_id=job_id, deadline=time.time() + 60, poll_interval=0.1
    )

    async def events():
        return [e.payload async for e in trigger.run()]

    outcome = asyncio.run(events())
    assert [e["status"] for e in outcome] == ["success"], outcome
    faulted = [e for e in vimmerse_sandbox.client.ledger(method="GET") if e["fault"]]
    assert len(faulted) == len(POLL_FAULTS) + 1, "every injected fault happened while waiting"
    assert len(created_jobs(vimmerse_sandbox, kind)) == 1
