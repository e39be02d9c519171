"""The one reading of a submit's answer: the job to follow, and what the answer already says about it."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_vimmerse.api.status import JobStatus
from airflow_provider_vimmerse.api.submissions import Submission, parse_submission
from airflow_provider_vimmerse.api.tools import LEGACY_TOOLS
from airflow_provider_vimmerse.api.video import VIDEO_TOOLS
from airflow_provider_vimmerse.exceptions import VimmerseJobMayExistError

ENHANCE = VIDEO_TOOLS["enhance"]
PROMPT = LEGACY_TOOLS["text/prompt"]


def test_a_job_answer_gives_its_id_and_leaves_the_status_to_the_wait():
    submission = parse_submission({"data": {"id": "m1", "processing_status": "success"}}, "POST /media")
    assert submission == Submission("m1")


def test_an_answer_without_an_id_keeps_the_id_the_request_named():
    assert parse_submission({}, "POST /batch/b1/concat", job_id="b1") == Submission("b1")
    assert parse_submission({"data": {}}, "POST /media/m1/process", job_id="m1").job_id == "m1"


@pytest.mark.parametrize("body", [{"data": {"id": ""}}, {}, [], "created", None])
def test_a_paid_answer_without_a_job_id_is_never_sent_again(body: Any):
    with pytest.raises(VimmerseJobMayExistError, match="no job id") as error:
        parse_submission(body, "POST /media")
    assert "POST /media" in str(error.value) and "not submitted again" in str(error.value)


def test_a_step_answered_when_done_is_finished_without_a_wait():
    story = {"id": "s1", "status": "new", "storyboard": {"scenes": [{}]}}
    assert parse_submission({"data": story}, "POST /story", done=True) == Submission("s1", done=True, finished=story)
    elements = parse_submission({"data": {"title": ""}}, "POST /story/s1/elements", job_id="s1", done=True)
    assert (elements.job_id, elements.done) == ("s1", True), "story.txt's elements answer has no id"


def test_a_finished_asset_is_returned_as_it_is_and_a_running_one_is_read_as_the_first_status():
    finished = {"id": "a1", "status": "success", "results": ["https://cdn.test/a1.mp4"]}
    submission = parse_submission(finished, "POST /v2/video/enhance", tool=ENHANCE)
    assert (submission.job_id, submission.done, submission.finished) == ("a1", True, finished)
    assert submission.status is not None and submission.status.state is JobStatus.SUCCESS

    running = parse_submission({"id": "a2", "status": "processing"}, "POST /v2/video/enhance", tool=ENHANCE)
    assert (running.done, running.finished) == (False, None)
    assert running.status is not None and running.status.state is JobStatus.RUNNING

    failed = parse_submission({"id": "a3", "status": "fail"}, "POST /v2/video/enhance", tool=ENHANCE)
    assert failed.status is not None and failed.status.state is JobStatus.FAILED and not failed.done

    assert parse_submission({"id": "a4"}, "POST /v2/video/enhance", tool=ENHANCE) == Submission("a4")


def test_an_answer_that_is_the_output_itself_has_no_job():
    submission = parse_submission({"data": "A kite over the sea"}, "POST /text/prompt", tool=PROMPT)
    assert submission.job_id == "" and submission.output is not None
    assert submission.output["text"] == "A kite over the sea"


def test_a_tool_answer_with_neither_an_asset_nor_an_output_is_never_sent_again():
    with pytest.raises(VimmerseJobMayExistError, match="neither an asset id nor an output"):
        parse_submission({"data": {"message": "ok"}}, "POST /image/edit-image", tool=LEGACY_TOOLS["image/edit-image"])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["id", "data", "status"]), inner),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(
    body=json_values, job_id=st.sampled_from([None, "j1"]), done=st.booleans(), tool=st.sampled_from([None, ENHANCE])
)
def test_any_answer_ends_in_a_submission_to_follow_or_in_never_sending_again(body, job_id, done, tool):
    try:
        submission = parse_submission(body, "POST /x", job_id=job_id, done=done, tool=tool)
    except VimmerseJobMayExistError as error:
        assert "POST /x" in str(error)
        return
    assert submission.job_id or submission.output is not None
    assert not (submission.done and submission.output is not None)
