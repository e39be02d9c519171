"""
VimmerseJobTrigger woken by webhook hints, against the sandbox over real HTTP.

The hint store stands in for the XCom the receiver records (the real one is exercised in a real
Airflow by ``tests/native/test_webhooks.py``): a test writes what a delivery would record, and the
sandbox's ledger counts the status requests the trigger sends.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from airflow_provider_vimmerse.api.endpoints import ApiRequest, form_fields
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.triggers.job import VimmerseJobTrigger
from tests.triggers.test_job_trigger import log_lines

TI = {"dag_id": "d", "run_id": "r", "task_id": "t", "map_index": -1, "check_interval": 0.2}


class HintedTrigger(VimmerseJobTrigger):
    """The trigger with its hint read from a dict instead of Airflow's XCom."""

    store: dict[str, Any]

    def hints_unavailable(self) -> str | None:
        return None

    async def read_hint(self) -> Any:
        if self.store.get("broken"):
            raise RuntimeError("the triggerer's channel is gone")
        return self.store.get("hint")


def submit(prompt: str) -> str:
    req = ApiRequest("POST", "/media", form=form_fields({"prompt": prompt}), spends_credits=True)
    return VimmerseHook().request(req)["data"]["id"]


def make(job_id: str, store: dict[str, Any], *, seconds: float = 60, poll_interval: float | None = None):
    trigger = HintedTrigger(
        conn_id="vimmerse_default",
        kind="media",
        job_id=job_id,
        deadline=time.time() + seconds,
        poll_interval=poll_interval,
        webhook=TI,
    )
    trigger.store = store
    return trigger


def hint(job_id: str, status: str = "success") -> dict[str, Any]:
    return {"job_id": job_id, "status": status, "received_at": time.time()}


async def wait_with(trigger: VimmerseJobTrigger, *steps: tuple[float, dict[str, Any]]) -> tuple[dict, float]:
    """Run the trigger; at each (second, values) step update its store. Return the event and when it came."""
    started = time.monotonic()

    async def feed() -> None:
        for at, values in steps:
            await asyncio.sleep(max(0.0, at - (time.monotonic() - started)))
            trigger.store.update(values)

    feeder = asyncio.create_task(feed())
    try:
        async for event in trigger.run():
            return event.payload, time.monotonic() - started
    finally:
        feeder.cancel()
    raise AssertionError("no event")


def status_polls(sandbox, job_id: str) -> int:
    return len(sandbox.client.ledger(path=f"/media/{job_id}/processing-status"))


def test_a_hint_wakes_the_wait_with_one_status_request(vimmerse_sandbox):
    vimmerse_sandbox.client.configure(job_seconds=1)
    job_id = submit("a lighthouse")
    store: dict[str, Any] = {}
    event, seconds = asyncio.run(wait_with(make(job_id, store), (1.5, {"hint": hint(job_id)})))
    assert event["status"] == "success" and event["job_id"] == job_id
    assert seconds < 3, "woken within the check interval of the delivery, not by the 10-minute safety net"
    assert status_polls(vimmerse_sandbox, job_id) == 1, "one status request confirms the hint"


def test_duplicated_and_early_hints_cost_one_request_each_and_change_nothing(vimmerse_sandbox):
    vimmerse_sandbox.client.configure(job_seconds=3)
    job_id = submit("a lighthouse")
    early = hint(job_id, "success")  # out of order: claims success while the job still runs
    steps = (
        (0.3, {"hint": early}),
        (0.9, {"hint": dict(early)}),  # the same delivery read again: no request
        (1.2, {"hint": hint(job_id, "fail")}),  # a second, contradicting delivery: one request, no effect
        (3.6, {"hint": hint(job_id, "success")}),
    )
    event, seconds = asyncio.run(wait_with(make(job_id, {}), *steps))
    assert event["status"] == "success", "a hint's claimed status is never taken: the API's reading is"
    assert seconds >= 3
    assert status_polls(vimmerse_sandbox, job_id) == 3


def test_a_hint_for_another_job_costs_no_request(vimmerse_sandbox, caplog, capsys):
    vimmerse_sandbox.client.configure(job_seconds=1)
    job_id = submit("a lighthouse")
    steps = ((0.3, {"hint": hint("someone-elses-job")}), (1.5, {"hint": hint(job_id)}))
    event, _ = asyncio.run(wait_with(make(job_id, {}), *steps))
    assert event["status"] == "success"
    assert status_polls(vimmerse_sandbox, job_id) == 1
    assert log_lines(caplog, capsys, "ignoring a webhook for another job")


def test_a_hints_values_are_logged_quoted_so_they_cannot_forge_a_log_line(vimmerse_sandbox, caplog, capsys):
    """A hint's job id and status come from the delivery's body: a newline in them stays inside one line."""
    vimmerse_sandbox.client.configure(job_seconds=1)
    job_id = submit("a lighthouse")
    forged = "someone-elses-job\n2026-01-01 [error] forged line"
    steps = ((0.3, {"hint": hint(forged, "fail\nforged status")}), (1.5, {"hint": hint(job_id)}))
    event, _ = asyncio.run(wait_with(make(job_id, {}), *steps))
    assert event["status"] == "success"
    text = capsys.readouterr().out + caplog.text  # structlog prints on Airflow 3, stdlib logging on Airflow 2
    lines = [line for line in text.splitlines() if "forged" in line]
    assert lines and all("ignoring a webhook for another job" in line for line in lines), "no line of their own"
    assert "'someone-elses-job\\n2026-01-01 [error] forged line'" in lines[0]
    assert "'fail\\nforged status'" in lines[0]


def test_a_lost_delivery_costs_only_latency_the_safety_net_ends_the_wait(vimmerse_sandbox):
    vimmerse_sandbox.client.configure(job_seconds=1)
    job_id = submit("a lighthouse")
    event, seconds = asyncio.run(wait_with(make(job_id, {}, poll_interval=2.5)))
    assert event["status"] == "success"
    assert 2 <= seconds < 4, "the safety-net poll (here every 2.5 s) saw the end"
    assert status_polls(vimmerse_sandbox, job_id) == 1


def test_the_absolute_deadline_holds_without_any_hint(vimmerse_sandbox):
    job_id = submit("endless [sandbox:never]")
    event, seconds = asyncio.run(wait_with(make(job_id, {}, seconds=1.5)))
    assert event["status"] == "timeout" and job_id in event["message"]
    assert seconds < 2.5
    assert status_polls(vimmerse_sandbox, job_id) == 0, "no status request: the safety net is 10 minutes away"


def test_an_unreadable_hint_falls_back_to_polling(vimmerse_sandbox, caplog, capsys):
    vimmerse_sandbox.client.configure(job_seconds=1)
    job_id = submit("a lighthouse")
    event, seconds = asyncio.run(wait_with(make(job_id, {"broken": True})))
    assert event["status"] == "success" and seconds < 5
    assert log_lines(caplog, capsys, "cannot read the webhook hint")


def test_outside_a_triggerer_the_wait_polls_and_says_why(vimmerse_sandbox, caplog, capsys):
    vimmerse_sandbox.client.configure(job_seconds=1)
    job_id = submit("a lighthouse")
    trigger = VimmerseJobTrigger(
        conn_id="vimmerse_default", kind="media", job_id=job_id, deadline=time.time() + 30, poll_interval=0.3,
        webhook=TI,
    )  # fmt: skip
    event, _ = asyncio.run(wait_with(trigger))
    assert event["status"] == "success"
    lines = log_lines(caplog, capsys, "webhooks are on but")
    assert lines and "polling instead" in lines[0]
