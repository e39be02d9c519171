"""The waiting rules shared by the trigger and the synchronous wait."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest

from airflow_provider_vimmerse.api.responses import JobSnapshot
from airflow_provider_vimmerse.api.status import JobStatus
from airflow_provider_vimmerse.api.waiting import (
    ADAPTIVE_SCHEDULE,
    POLL_CEILING,
    JobWatch,
    PollBudget,
    Rerun,
    WaitEvent,
    poll_delay,
)
from airflow_provider_vimmerse.exceptions import (
    VimmerseAuthError,
    VimmerseConnectionError,
    VimmerseRateLimitError,
    VimmerseServerError,
)


def snap(raw: str, state: JobStatus | None, progress: int | None = None, message: str | None = None) -> JobSnapshot:
    return JobSnapshot(kind="media", job_id="m1", raw_status=raw, state=state, progress=progress, message=message)


def watch(seconds: float = 600, poll_interval: float | None = None) -> JobWatch:
    return JobWatch("media", "m1", time.time() + seconds, poll_interval)


def test_adaptive_polling_starts_quick_then_slows_to_the_ceiling():
    delays = [poll_delay(n, None) for n in range(1, 20)]
    assert delays[: len(ADAPTIVE_SCHEDULE)] == list(ADAPTIVE_SCHEDULE)
    assert delays == sorted(delays) and delays[-1] == POLL_CEILING


def test_a_five_minute_job_costs_at_most_a_dozen_polls():
    elapsed, polls = 0.0, 0
    while elapsed < 300:
        polls += 1
        elapsed += poll_delay(polls, None)
    assert polls + 1 <= 13  # + the final poll that sees success; with submit and detail fetch: <= 15 requests


def test_fixed_interval_is_kept_within_jitter_and_never_passes_the_deadline():
    w = watch(poll_interval=10)
    w.observe(snap("processing_bullet", JobStatus.RUNNING, 5))
    assert 9 <= w.next_delay() <= 11
    short = watch(seconds=1, poll_interval=10)
    short.observe(snap("processing_bullet", JobStatus.RUNNING, 5))
    assert short.next_delay() <= 1


def test_progress_is_logged_only_when_it_changes_and_terminal_states_end_the_wait():
    w = watch()
    assert w.observe(snap("queue_bullet", JobStatus.RUNNING, 0)) == (["media m1: 0% queue_bullet"], None)
    assert w.observe(snap("queue_bullet", JobStatus.RUNNING, 0)) == ([], None)
    lines, event = w.observe(snap("fail", JobStatus.FAILED, 40, "model overloaded"))
    assert lines == ["media m1: 40% fail"]
    assert event is not None and event.status is JobStatus.FAILED and event.message == "model overloaded"


@pytest.mark.parametrize(
    ("state", "status"),
    [(JobStatus.SUCCESS, JobStatus.SUCCESS), (JobStatus.CANCELLED, JobStatus.CANCELLED)],
)
def test_each_terminal_state_maps_to_its_event(state, status):
    _, event = watch().observe(snap("x", state, 100))
    assert event is not None and event.status is status


def test_unknown_status_counts_as_running_and_is_logged_once():
    w = watch()
    first, event = w.observe(snap("rendering_v2", None, 10))
    assert event is None and any("unknown status 'rendering_v2'" in line for line in first)
    again, _ = w.observe(snap("rendering_v2", None, 20))
    assert not any("unknown status" in line for line in again)


def test_transient_errors_back_off_and_keep_waiting():
    w = watch(poll_interval=2)
    line, event = w.observe_error(VimmerseServerError("503", status=503))
    assert event is None and "transient error while polling" in line
    first = w.next_delay()
    w.observe_error(VimmerseConnectionError("reset", sent=True))
    assert w.next_delay() == pytest.approx(first * 2)
    limited = watch(poll_interval=1)
    limited.observe_error(VimmerseRateLimitError("429", status=429, retry_after=30))
    assert limited.next_delay(VimmerseRateLimitError("429", status=429, retry_after=30)) == 30


def test_a_final_error_ends_the_wait_with_an_error_event():
    _, event = watch().observe_error(VimmerseAuthError("GET /media/m1 answered 401", status=401))
    assert event is not None and event.status is JobStatus.ERROR and "401" in (event.message or "")


def test_timeout_event_names_the_job_and_says_it_may_still_run():
    w = watch(seconds=-1)
    assert w.expired()
    event = w.timeout_event()
    assert event.status is JobStatus.TIMEOUT and "m1" in event.message and "may still be running" in event.message


def test_events_round_trip_and_only_allowed_payloads_are_accepted():
    event = WaitEvent(JobStatus.SUCCESS, "media", "m1", "success", 100, None)
    assert WaitEvent.from_payload(event.to_payload()) == event
    for bad in (
        None,
        {"status": "success"},
        {"status": "done", "kind": "media", "job_id": "m1"},
        {"status": "running", "kind": "media", "job_id": "m1"},  # a job state, never how a wait ends
        {"status": "success", "kind": "media", "job_id": "m1", "response": object()},
    ):
        with pytest.raises(ValueError):
            WaitEvent.from_payload(bad)


def test_polls_within_the_budget_go_at_once():
    budget = PollBudget(rate=100, burst=0)
    assert [budget.reserve(now=t / 50) for t in range(50)] == [0.0] * 50, "50 per second under a budget of 100"


def test_polls_beyond_the_budget_get_turns_in_order_one_interval_apart():
    budget = PollBudget(rate=100, burst=0.05)
    waits = [budget.reserve(now=10.0) for _ in range(20)]
    assert waits[:6] == [0.0] * 6, "a burst of 0.05 s at 100 per second goes at once"
    assert waits[6:] == pytest.approx([0.01 * n for n in range(1, 15)]), "then a turn every 0.01 s, in order"


def test_unused_budget_does_not_pile_up_beyond_the_burst():
    budget = PollBudget(rate=10, burst=0.2)
    budget.reserve(now=0.0)
    waits = [budget.reserve(now=3600.0) for _ in range(5)]
    assert waits == pytest.approx([0.0, 0.0, 0.0, 0.1, 0.2]), "an idle hour leaves only 0.2 s of budget to spend"


def test_the_budget_must_be_positive():
    with pytest.raises(ValueError):
        PollBudget(rate=0)


# A wait that follows a request re-running a finished job (regeneration, process, concat)


def rerun_watch(grace: float | None = 600, requested_ago: float = 0, need_output: bool = False) -> JobWatch:
    rerun = Rerun("regeneration", {"bullet_version": "1", "video_history": 1}, time.time() - requested_ago, grace)
    return JobWatch("media", "m1", time.time() + 3600, rerun=rerun, need_output=need_output)


def finished(version: str, history: int, has_output: bool = True) -> JobSnapshot:
    return replace(
        snap("success", JobStatus.SUCCESS, 100),
        fingerprint={"bullet_version": version, "video_history": history},
        has_output=has_output,
    )


def test_the_success_from_before_a_rerun_does_not_end_the_wait():
    w = rerun_watch()
    assert w.wants_full_object, "a finished reading must bring the fingerprint to be judged"
    lines, event = w.observe(finished("1", 1))
    assert event is None, "the old success must not be taken as the new run's"
    assert any("still shows the run from before the regeneration" in line for line in lines)
    lines, event = w.observe(finished("1", 1))
    assert event is None and not any("still shows" in line for line in lines), "the note is logged once"


def test_a_changed_fingerprint_is_the_new_run_even_without_a_running_status_seen():
    w = rerun_watch()
    w.observe(finished("1", 1))
    _, event = w.observe(finished("2", 2))
    assert event is not None and event.status is JobStatus.SUCCESS
    assert w.new_run_seen


def test_a_running_status_after_the_request_marks_the_new_run():
    w = rerun_watch()
    w.observe(finished("1", 1))
    assert w.observe(snap("processing_bullet", JobStatus.RUNNING, 30))[1] is None
    assert w.new_run_seen and not w.wants_full_object
    _, event = w.observe(snap("success", JobStatus.SUCCESS, 100))
    assert event is not None and event.status is JobStatus.SUCCESS


def test_an_old_failure_does_not_end_the_wait_either():
    w = rerun_watch()
    _, event = w.observe(
        replace(snap("fail", JobStatus.FAILED), fingerprint={"bullet_version": "1", "video_history": 1})
    )
    assert event is None, "processing a failed media again: its old 'fail' is not the new run's outcome"


def test_no_new_run_within_the_grace_period_is_a_clear_error_never_the_old_result():
    w = rerun_watch(grace=60, requested_ago=61)
    _, event = w.observe(finished("1", 1))
    assert event is not None and event.status is JobStatus.ERROR
    assert "still shows the run from before the regeneration" in (event.message or "")
    assert "earlier result is not taken" in (event.message or "")


def test_without_a_grace_period_the_rerun_waits_until_the_deadline_and_says_why_at_the_end():
    w = rerun_watch(grace=None, requested_ago=10_000)
    assert w.observe(finished("1", 1))[1] is None
    assert "never showed a new run after the regeneration" in (w.timeout_event().message or "")


def test_a_success_without_output_keeps_a_wait_that_needs_one_going():
    w = JobWatch("story", "s1", time.time() + 600, need_output=True)
    composing = replace(snap("success", JobStatus.SUCCESS, 100), has_output=False)
    lines, event = w.observe(composing)
    assert event is None and any("no output yet" in line for line in lines)
    _, event = w.observe(replace(composing, has_output=True))
    assert event is not None and event.status is JobStatus.SUCCESS


def test_a_concat_waits_for_a_new_video_url_through_an_emptied_one():
    rerun = Rerun("concat", {"video_url": "https://cdn/v1.mp4"}, time.time(), None)
    w = JobWatch("story", "s1", time.time() + 600, rerun=rerun, need_output=True)

    def story(url: str | None) -> JobSnapshot:
        return replace(snap("success", JobStatus.SUCCESS, 100), fingerprint={"video_url": url}, has_output=bool(url))

    assert w.observe(story("https://cdn/v1.mp4"))[1] is None, "the old composed video is not the new one"
    assert w.observe(story(None))[1] is None, "emptied: composing"
    _, event = w.observe(story("https://cdn/v1.mp4"))
    assert event is not None and event.status is JobStatus.SUCCESS, "same URL again after it was emptied: new video"


def test_a_rerun_round_trips_as_plain_json():
    rerun = Rerun("process", {"bullet_version": "3", "video_history": 2, "result": None}, 1234.5, 300.0)
    payload = rerun.to_payload()
    assert json.loads(json.dumps(payload)) == payload
    assert Rerun.from_payload(payload) == rerun
    assert Rerun.from_payload(None) is None and Rerun.from_payload({"baseline": {}}) is None
