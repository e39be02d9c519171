"""VimmerseJobTrigger against the sandbox over real HTTP: one event per outcome, resilience, serialization."""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import time

import pytest

from airflow_provider_vimmerse.api.endpoints import ApiRequest, form_fields
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.triggers.job import VimmerseJobTrigger


def submit(prompt: str) -> str:
    req = ApiRequest("POST", "/media", form=form_fields({"prompt": prompt}), spends_credits=True)
    return VimmerseHook().request(req)["data"]["id"]


def log_lines(caplog, capsys, needle: str) -> list[str]:
    """Return the logged lines holding ``needle``: stdlib logging on Airflow 2, structlog's stdout on Airflow 3."""
    for text in (caplog.text, capsys.readouterr().out):
        lines = [line for line in text.splitlines() if needle in line]
        if lines:
            return lines
    return []


def run_trigger(trigger: VimmerseJobTrigger) -> list[dict]:
    async def collect():
        return [event.payload async for event in trigger.run()]

    return asyncio.run(collect())


def make(job_id: str, seconds: float = 30, poll_interval: float | None = 0.2, kind: str = "media"):
    return VimmerseJobTrigger(
        conn_id="vimmerse_default",
        kind=kind,
        job_id=job_id,
        deadline=time.time() + seconds,
        poll_interval=poll_interval,
    )


def test_serialize_round_trip_holds_only_plain_values_and_no_key(vimmerse_sandbox):
    trigger = make("m-1", seconds=600, poll_interval=None)
    classpath, kwargs = trigger.serialize()
    assert set(kwargs) == {
        "conn_id",
        "kind",
        "job_id",
        "deadline",
        "poll_interval",
        "rerun",
        "need_output",
        "webhook",
        "output_grace",
    }
    assert vimmerse_sandbox.api_key not in json.dumps(kwargs)
    module, _, name = classpath.rpartition(".")
    again = getattr(importlib.import_module(module), name)(**kwargs)
    assert again.serialize() == (classpath, kwargs)
    assert again.deadline == trigger.deadline, "a triggerer restart keeps the same absolute deadline"


@pytest.mark.parametrize(
    ("marker", "status", "message"),
    [
        ("", "success", None),
        # No API document shows a failure reason on a media: the event carries none rather than a made-up one
        # (the operator then says "no reason given").
        ("[sandbox:fail]", "failed", None),
        ("[sandbox:cancel]", "cancelled", None),
    ],
)
def test_exactly_one_event_per_outcome(vimmerse_sandbox, marker, status, message):
    vimmerse_sandbox.client.configure(job_seconds=1)
    job_id = submit(f"a lighthouse {marker}")
    events = run_trigger(make(job_id))
    assert len(events) == 1
    assert events[0]["status"] == status and events[0]["job_id"] == job_id and events[0]["kind"] == "media"
    assert events[0]["message"] == message, "the event carries the server's failure reason, and only that"


def test_a_job_that_never_finishes_ends_with_timeout_naming_the_id(vimmerse_sandbox):
    job_id = submit("endless [sandbox:never]")
    events = run_trigger(make(job_id, seconds=1.5))
    assert [e["status"] for e in events] == ["timeout"]
    assert job_id in events[0]["message"] and "may still be running" in events[0]["message"]


def test_a_missing_job_ends_with_an_error_event(vimmerse_sandbox):
    events = run_trigger(make("no-such-media"))
    assert [e["status"] for e in events] == ["error"]
    # The status route answers 404 {"message": "NOT_FOUND"} (no "code"): the event names the request and the answer.
    assert "/media/no-such-media/processing-status answered 404" in events[0]["message"]
    assert "NOT_FOUND" in events[0]["message"]


def test_transient_errors_while_polling_never_end_the_wait(vimmerse_sandbox, caplog, capsys):
    vimmerse_sandbox.client.configure(job_seconds=2)
    job_id = submit("a storm at sea")
    for fault in (
        {"fault": "status", "status": 503, "times": 2},
        {"fault": "status", "status": 429, "retry_after": 0.3, "times": 1},
        {"fault": "drop", "times": 1},
        {"fault": "malformed", "times": 1},
    ):
        vimmerse_sandbox.client.add_fault(method="GET", path="processing-status", **fault)
    caplog.set_level(logging.INFO)
    events = run_trigger(make(job_id, poll_interval=0.1))
    assert [e["status"] for e in events] == ["success"]
    assert len(log_lines(caplog, capsys, "transient error while polling")) == 5


def test_progress_changes_are_logged(vimmerse_sandbox, caplog, capsys):
    vimmerse_sandbox.client.configure(job_seconds=2)
    job_id = submit("rising sun")
    caplog.set_level(logging.INFO)
    run_trigger(make(job_id, poll_interval=0.2))
    prefix = f"media {job_id}: "
    lines = [prefix + line.split(prefix, 1)[1].split(" [")[0].strip() for line in log_lines(caplog, capsys, prefix)]
    assert any("processing_bullet" in line and "%" in line for line in lines)
    assert lines[-1].endswith("100% success")
    assert len(lines) == len(set(lines)), "a line is logged only when status or progress changes"


def test_many_triggers_share_one_session_and_finish(vimmerse_sandbox):
    vimmerse_sandbox.client.configure(job_seconds=1)
    ids = [submit(f"shot {n}") for n in range(30)]

    async def all_of_them():
        async def one(job_id):
            return [e.payload async for e in make(job_id, poll_interval=0.2).run()]

        return await asyncio.gather(*(one(job_id) for job_id in ids))

    results = asyncio.run(all_of_them())
    assert all(len(events) == 1 and events[0]["status"] == "success" for events in results)


def test_waits_beyond_the_poll_budget_all_finish_and_the_log_says_once_that_polls_run_late(
    vimmerse_sandbox, monkeypatch, caplog, capsys
):
    monkeypatch.setattr("airflow_provider_vimmerse.api.waiting.MAX_POLLS_PER_SECOND", 10.0)
    vimmerse_sandbox.client.configure(job_seconds=1)
    ids = [submit(f"crowd {n}") for n in range(20)]
    caplog.set_level(logging.WARNING)

    async def all_of_them():
        async def one(job_id):
            return [e.payload async for e in make(job_id, poll_interval=0.1).run()]

        return await asyncio.gather(*(one(job_id) for job_id in ids))

    started = time.monotonic()
    results = asyncio.run(all_of_them())
    seconds = time.monotonic() - started
    assert all(len(events) == 1 and events[0]["status"] == "success" for events in results)
    assert len(log_lines(caplog, capsys, "each poll now waits its turn")) == 1
    polls = [e for e in vimmerse_sandbox.client.ledger() if e["path"] in {f"/media/{i}/processing-status" for i in ids}]
    assert len(polls) <= 10 * seconds + 2, "20 waits asked for 200 polls a second; the budget allowed 10"
