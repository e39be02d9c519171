"""Tests of the job-kind table: what each raw status means, where a job is polled, where its outputs are."""

from __future__ import annotations

import json

import pytest

from airflow_provider_vimmerse.api.endpoints import job_detail, job_status
from airflow_provider_vimmerse.api.jobs import (
    DEFAULT_ASSET_STATUS_PATH,
    JOB_KINDS,
    get_job_kind,
    output_urls,
)
from airflow_provider_vimmerse.api.status import JOB_STATES, WAIT_OUTCOMES, JobStatus
from airflow_provider_vimmerse.exceptions import VimmerseInputError

# Status values the reference documents name for each kind, and what they must mean.
DOCUMENTED_STATUSES = [
    ("media", "new", JobStatus.RUNNING),
    ("media", "queue_bullet", JobStatus.RUNNING),
    ("media", "processing_bullet", JobStatus.RUNNING),
    ("media", "success", JobStatus.SUCCESS),
    ("media", "fail", JobStatus.FAILED),
    ("media", "cancel", JobStatus.CANCELLED),
    ("batch", "new", JobStatus.RUNNING),
    ("batch", "processing", JobStatus.RUNNING),
    ("batch", "success", JobStatus.SUCCESS),
    ("batch", "fail", JobStatus.FAILED),
    ("story", "new", JobStatus.RUNNING),
    ("story", "processing", JobStatus.RUNNING),
    ("story", "success", JobStatus.SUCCESS),
    ("story", "fail", JobStatus.FAILED),
    ("asset", "success", JobStatus.SUCCESS),
]


@pytest.mark.parametrize(("kind", "raw", "state"), DOCUMENTED_STATUSES)
def test_documented_status_values_mean_what_the_api_says(kind: str, raw: str, state: JobStatus) -> None:
    assert get_job_kind(kind).state_of(raw) is state


@pytest.mark.parametrize("kind", sorted(JOB_KINDS))
@pytest.mark.parametrize("raw", ["rendering", "succeeded_partially", "", None])
def test_a_status_the_table_does_not_know_is_reported_as_unknown(kind: str, raw: str | None) -> None:
    # The waiter treats None as "still running"; it must never guess success or failure.
    assert get_job_kind(kind).state_of(raw) is None


def test_surrounding_whitespace_in_a_status_does_not_change_its_meaning() -> None:
    assert get_job_kind("media").state_of(" success\n") is JobStatus.SUCCESS


@pytest.mark.parametrize("kind", sorted(JOB_KINDS))
def test_no_raw_status_means_two_different_things(kind: str) -> None:
    row = get_job_kind(kind)
    groups = [row.running, row.succeeded, row.failed, row.cancelled]
    seen: set[str] = set()
    for values in groups:
        assert not (seen & values), f"{kind}: {sorted(seen & values)} listed under two states"
        seen |= values


@pytest.mark.parametrize("kind", sorted(JOB_KINDS))
def test_every_kind_has_a_success_value_and_a_failure_value(kind: str) -> None:
    row = get_job_kind(kind)
    assert row.succeeded
    # a finetune's status is made from its sample outputs: no status, so no failure value, is documented
    assert row.failed or row.status_from_outputs


@pytest.mark.parametrize(
    ("state", "terminal", "success"),
    [
        (JobStatus.RUNNING, False, False),
        (JobStatus.SUCCESS, True, True),
        (JobStatus.FAILED, True, False),
        (JobStatus.CANCELLED, True, False),
    ],
)
def test_only_a_succeeded_job_counts_as_success_and_only_running_keeps_the_wait_going(
    state: JobStatus, terminal: bool, success: bool
) -> None:
    assert state.is_terminal is terminal
    assert state.is_success is success


def test_job_states_serialize_as_plain_json_strings_for_trigger_events() -> None:
    assert json.dumps({"state": JobStatus.CANCELLED}) == '{"state": "cancelled"}'
    assert JobStatus("failed") is JobStatus.FAILED


def test_a_wait_ends_only_with_the_five_documented_event_statuses() -> None:
    # Users and docs rely on these exact strings in the trigger's event payload.
    assert [s.value for s in WAIT_OUTCOMES] == ["success", "failed", "cancelled", "timeout", "error"]
    assert JobStatus.RUNNING not in WAIT_OUTCOMES


def test_a_raw_status_only_ever_means_a_job_state_never_a_wait_outcome() -> None:
    every_raw = [
        (row, raw) for row in JOB_KINDS.values() for raw in row.running | row.succeeded | row.failed | row.cancelled
    ]
    assert {row.state_of(raw) for row, raw in every_raw} == set(JOB_STATES)
    assert not {JobStatus.TIMEOUT, JobStatus.ERROR} & set(JOB_STATES)
    for status in (JobStatus.TIMEOUT, JobStatus.ERROR):
        assert not status.is_terminal, "a wait that timed out or lost the job says nothing about the job's end"


# Where each kind is polled and fetched: tests/api/test_endpoints.py
# (test_status_polls_and_detail_fetches_are_plain_gets_that_spend_nothing asserts the same paths).


def test_the_asset_polling_path_can_be_moved_without_touching_other_kinds() -> None:
    moved = get_job_kind("asset").with_status_path("/v2/asset/{job_id}")
    assert job_status(moved, "a1").path == "/v2/asset/a1"
    assert job_detail(moved, "a1").path == "/v2/asset/a1"
    assert moved.state_of("success") is JobStatus.SUCCESS
    assert get_job_kind("asset").status_path == DEFAULT_ASSET_STATUS_PATH


@pytest.mark.parametrize("path", [None, ""])
def test_an_empty_asset_path_setting_keeps_the_default(path: str | None) -> None:
    assert job_status(get_job_kind("asset").with_status_path(path), "a1").path == "/asset/a1"


@pytest.mark.parametrize("name", ["video", "Media", "", None, ["media"]])
def test_an_unknown_kind_is_an_input_error_listing_the_allowed_kinds(name: object) -> None:
    with pytest.raises(VimmerseInputError) as caught:
        get_job_kind(name)  # type: ignore[arg-type]
    assert caught.value.field == "kind"
    for allowed in ("media", "batch", "story", "asset"):
        assert allowed in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_media_outputs_are_the_result_urls_in_api_order() -> None:
    obj = {
        "result": [
            {"url": "https://cdn.vimmerse.net/a.mp4"},
            {"url": ""},
            {"thumbnail": "https://cdn.vimmerse.net/t.png"},
            {"url": "https://cdn.vimmerse.net/b.mp4"},
        ]
    }
    assert output_urls(get_job_kind("media"), obj) == [
        "https://cdn.vimmerse.net/a.mp4",
        "https://cdn.vimmerse.net/b.mp4",
    ]


@pytest.mark.parametrize("kind", ["batch", "story"])
def test_a_batch_or_story_output_is_its_composed_video(kind: str) -> None:
    obj = {"video_url": "https://cdn.vimmerse.net/story.mp4", "result": [{"url": "https://cdn.vimmerse.net/x.mp4"}]}
    assert output_urls(get_job_kind(kind), obj) == ["https://cdn.vimmerse.net/story.mp4"]


def test_asset_outputs_may_be_plain_urls_or_objects() -> None:
    obj = {"results": ["https://cdn.vimmerse.net/1.png", {"url": "https://cdn.vimmerse.net/2.png"}, None, 7]}
    assert output_urls(get_job_kind("asset"), obj) == [
        "https://cdn.vimmerse.net/1.png",
        "https://cdn.vimmerse.net/2.png",
    ]


@pytest.mark.parametrize("obj", [{}, {"result": None}, {"result": []}, {"result": [None, 3, {}]}, {"result": ""}])
def test_a_job_without_usable_outputs_has_no_urls_rather_than_an_error(obj: dict) -> None:
    assert output_urls(get_job_kind("media"), obj) == []
