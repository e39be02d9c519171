"""
Every documented response example goes through the provider's parsers and means what the documents say.

The expected values below were written by reading the documents (the example, and the prose around it),
not by running the provider. Examples come from the sandbox's ``openapi.json`` (all of them, read programmatically:
a new example fails :func:`test_every_openapi_example_has_an_expectation` until it is given one) and from
the hand transcriptions in ``data/examples`` (cited in ``data/examples/index.json``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from airflow_provider_vimmerse.api.finetune import trigger_word_of
from airflow_provider_vimmerse.api.jobs import JOB_KINDS, job_object
from airflow_provider_vimmerse.api.responses import error_from_response, expect_object, parse_snapshot, unwrap
from airflow_provider_vimmerse.api.results import build_result
from airflow_provider_vimmerse.api.status import JobStatus
from airflow_provider_vimmerse.api.submissions import parse_submission
from airflow_provider_vimmerse.api.tools import LEGACY_TOOLS, immediate_result, is_job_answer
from airflow_provider_vimmerse.api.video import hosted_url, parse_estimate
from airflow_provider_vimmerse.exceptions import (
    VimmerseInsufficientCreditError,
    VimmerseJobMayExistError,
    VimmerseNotFoundError,
    VimmerseValidationError,
)
from airflow_provider_vimmerse.sandbox.pytest_plugin import CONN_ENV_VAR, sandbox_conn_uri
from tests.contract.examples import DocExample, openapi, openapi_example, openapi_examples, text_examples

API = "https://api.vimmerse.net"
WEB = "https://app.example/job"
RUNNING, SUCCESS = JobStatus.RUNNING, JobStatus.SUCCESS


def download_url(media_id: str, motion_type: str | None = None) -> str:
    """
    Return the documented download route of a media's video (media.txt "Download File"), or of one variation
    (``motion_type=Auto1``: platform-api-v1-legacy.txt l.213 after ``Quantity=2``).
    """
    variation = f"&motion_type={motion_type}" if motion_type else ""
    return f"{API}/media/{media_id}/download?object_type=bullet_video_mp4{variation}"


@dataclass(frozen=True)
class Answer:
    """
    What the provider must make of a documented answer.

    :param reads: how the provider takes the answer: ``submit`` (job id via ``parse_submission``), ``step`` (a
        story step: the object's ``id``), ``asset`` (a tool answer to wait on), ``rerun`` (process,
        concat, story videos: no id is read), ``status``/``object`` (a poll or a full object),
        ``upload`` (hosted URL), ``text`` (text/prompt), ``estimate``, ``nothing`` (an answer with
        neither id nor output: the provider must refuse it, not guess), ``no-id`` (a submit answer
        whose id is empty: the provider must refuse it), ``trigger-word`` (``POST /finetune``: the trigger
        word read from the answer), ``none`` (nothing to parse)
    :param value: the value read (hosted URL, text, credits)
    :param kind: job kind the answer belongs to
    :param job_id: the id the provider must read (``reads`` ``submit``, ``step``, ``asset``)
    :param status: raw status; None when the answer carries none
    :param state: what the status means
    :param progress: progress percentage
    :param video_urls: outputs of the result built from the object; None: not a full object
    :param counts: (finished, failed, total) media of a batch or story; None: not checked
    :param used: False when no operator calls this route (the parsers are shared, so it is checked anyway)
    """

    reads: str
    value: Any = None
    kind: str | None = None
    job_id: str | None = None
    status: str | None = None
    state: JobStatus | None = None
    progress: int | None = None
    video_urls: list[str] | None = None
    counts: tuple[int, int, int | None] | None = None
    used: bool = True


def media(status: str, state: JobStatus, progress: int, urls: list[str] | None, **kw: Any) -> Answer:
    return Answer(kind="media", status=status, state=state, progress=progress, video_urls=urls, **kw)


def workflow(reads: str) -> Answer:
    """The openapi.json workflow example (the same object for POST, GET and PUT /workflow)."""
    return Answer(
        reads,
        kind="workflow",
        job_id="workflow-id-12345",
        status="success",
        state=SUCCESS,
        progress=100,
        video_urls=["https://media.vimmerse.net/workflow/final_output.mp4"],
    )


def story(status: str, progress: int, **kw: Any) -> Answer:
    return Answer(kind="story", status=status, state=RUNNING, progress=progress, **kw)


ASSET = Answer(
    "asset",
    kind="asset",
    job_id="ASSET_ID",
    status="success",
    state=SUCCESS,
    video_urls=["result_url1", "result_url2"],
)
UNUSED_ASSET = Answer(**{**ASSET.__dict__, "used": False})
MEDIA_DONE = "xyz789-abc123-def456"
#: The video tools video-v2.txt documents (openapi.json lists them under ``/video/``, the transcriptions as ``v2-*``).
V2_TOOLS = (
    "crop-to-aspect-ratio",
    "reframe",
    "enhance",
    "sound-effect",
    "avatars/lip-sync",
    "lip-sync",
    "video-effects",
    "replace-background",
    "reference-to-video",
    "video-to-video",
    "audio",
)

#: openapi.json's 200 answers, by route. Errors (4xx) are checked by status in test_openapi_error_example.
OPENAPI: dict[str, Answer] = {
    "POST /media": media("queue_bullet", RUNNING, 20, [], reads="submit", job_id="abc123-def456-ghi789"),
    "GET /media/{media_id}/processing-status": media("success", SUCCESS, 100, None, reads="status"),
    # wrapped twice, "result": [] although the media succeeded: the video is served by /download
    "GET /media/{media_id}": media("success", SUCCESS, 100, [download_url(MEDIA_DONE)], reads="object"),
    "PUT /media/{media_id}": media("success", SUCCESS, 100, [download_url(MEDIA_DONE)], reads="object"),
    "PUT /media/{media_id}/edit": media("success", SUCCESS, 100, [download_url(MEDIA_DONE)], reads="object"),
    "POST /media/{media_id}/process": Answer("rerun"),
    # upload answers: the sample's results are placeholders ("result_url1"), not URLs, and the provider
    # takes only an http(s) URL as the hosted file, so none is found here
    "POST /image": Answer("upload", value=None),
    "POST /image/text-2-image": ASSET,
    "POST /image/image-2-image": ASSET,
    "POST /image/edit-image": ASSET,
    "POST /image/elements": ASSET,
    "POST /image/replace-background": ASSET,
    "POST /image/face-swap": ASSET,
    "POST /image/try-on": ASSET,
    "POST /image/restyle": ASSET,
    "POST /story/idea-2-video": story(
        "new", 0, reads="submit", job_id="abc123-def456-ghi789", video_urls=[], counts=(0, 0, None)
    ),
    "POST /story/url-2-video": story(
        "new", 0, reads="submit", job_id="xyz789-abc123-def456", video_urls=[], counts=(0, 0, None)
    ),
    "POST /story/images-2-video": story(
        "new", 0, reads="submit", job_id="img123-vid456-story789", video_urls=[], counts=(0, 0, None)
    ),
    "POST /story": story("new", 0, reads="step", job_id="story-abc123-def456", video_urls=[]),
    "POST /story/{story_id}/elements": story("processing", 10, reads="step", job_id="story-xyz789", video_urls=[]),
    "POST /story/{story_id}/scenes": story("processing", 50, reads="step", job_id="story-abc123", video_urls=[]),
    # four media listed, none finished yet ("finished_medias" is absent), no video_url yet
    "POST /story/{story_id}/videos": story("processing", 10, reads="rerun", video_urls=[], counts=(0, 0, 4)),
    "GET /story/{story_id}": story("processing", 50, reads="status", video_urls=[], counts=(0, 0, None)),
    "PUT /story/{story_id}": story("processing", 10, reads="object", video_urls=[], counts=(0, 0, 4)),
    # VimmerseDeleteJobOperator reads nothing from the answer: any 2xx is deleted
    "DELETE /story/{story_id}": Answer("none"),
    "POST /story/{story_id}/concat": Answer("rerun"),
    "POST /video": Answer("upload", value=None, used=False),
    **{f"POST /video/{tool}": UNUSED_ASSET for tool in V2_TOOLS},
    "POST /audio": Answer("upload", value=None),
    "POST /audio/text-2-speech": ASSET,
    "POST /audio/text-2-sound-effect": ASSET,
    "POST /audio/text-2-music": ASSET,
    "POST /text/prompt": Answer("text", value="Imagine a futuristic cityscape"),
    # one workflow object for the four routes: processing_status "success", outputs in result [{content_type, url}]
    "POST /workflow": workflow("submit"),
    "GET /workflow/{workflow_id}": workflow("status"),
    "PUT /workflow/{workflow_id}": workflow("object"),
    "DELETE /workflow/{workflow_id}": Answer("none"),
    "POST /workflow/error-log": Answer("none", used=False),
    # the generic asset placeholder: the trigger word is read from "id" (no document names its field)
    "POST /finetune": Answer("trigger-word", value="ASSET_ID"),
    # no status field: the listed samples are the only sign the training is done
    "GET /finetune/{trigger_word}": Answer(
        "status",
        kind="finetune",
        status="success",
        state=SUCCESS,
        video_urls=["https://dev-media.vimmerse.net/customer_id/ai_images/53c6eg9/output.png"],
    ),
}

LEGACY_MEDIA_ID = "media_id"
LEGACY_BATCH_ID = "decdb542-05ad-45aa-b172-7c54f338fe89"
LEGACY_STORY_ID = "f995140b-c1bf-4423-9682-99a0bdd8eb1d"
LEGACY_ASSET_ID = "e00b8d24-1dee-4af6-9862-3fce26bae681"
LEGACY_BATCH_DONE = Answer(
    "object",
    kind="batch",
    job_id=LEGACY_BATCH_ID,
    status="success",
    state=SUCCESS,
    progress=100,
    # the finished sample has no video_url at all (batch.txt: "you can get composed video from video_url")
    video_urls=[],
    counts=(2, 0, 2),
    used=False,
)
#: an asset answered without status or results: the provider keeps its id and polls GET /asset/{id}
LEGACY_ASSET = Answer("asset", kind="asset", job_id=LEGACY_ASSET_ID)

#: The transcribed .txt examples, by file name (see data/examples/index.json for where each comes from).
TEXT: dict[str, Answer] = {
    # media.txt prints its samples collapsed ({"data": {...}}): nothing to parse but the wrapper
    "media-create": Answer("none"),
    "media-processing-status": Answer("none"),
    "media-get": Answer("none"),
    "media-update": Answer("none"),
    "media-edit": Answer("none"),
    "media-process": Answer("rerun"),
    "batch-webhook": Answer("none"),
    # both listed media carry the placeholder id "media_id", so the total is not asserted
    "batch-create": Answer(
        "submit", kind="batch", job_id="BATCH_ID", status="processing", state=RUNNING, progress=0, video_urls=[]
    ),
    "batch-get": Answer("status", kind="batch", status="processing", state=RUNNING, progress=0, video_urls=[]),
    "batch-edit": Answer("object", kind="batch", status="processing", state=RUNNING, progress=0, video_urls=[]),
    "batch-concat": Answer("rerun"),
    "story-webhook": Answer("none"),
    "story-idea-2-video": story("new", 0, reads="submit", job_id="story_id", video_urls=[], counts=(0, 0, None)),
    "story-create": story("new", 0, reads="step", job_id="story_id", video_urls=[]),
    "story-elements": story("new", 10, reads="step", job_id="story_id", video_urls=[]),
    "story-scenes": story("new", 10, reads="step", job_id="story_id", video_urls=[]),
    "story-videos": story("new", 10, reads="rerun", video_urls=[], counts=(0, 0, None)),
    "story-get": story("new", 10, reads="status", video_urls=[], counts=(0, 0, None)),
    # video-v2.txt prints {} for every tool answer although its prose says "asset object": no id, no output
    "v2-upload": Answer("upload", value=None),
    "v2-estimate-credits": Answer("estimate", value=0),
    **{f"v2-{tool.replace('/', '-')}": Answer("nothing") for tool in V2_TOOLS},
    "legacy-media-create": media("queue_bullet", RUNNING, 20, [], reads="submit", job_id=LEGACY_MEDIA_ID),
    "legacy-media-upload": media(
        "success",
        SUCCESS,
        100,
        [download_url("496ae232-0ebf-409d-9fb0-fe75156254a7")],
        reads="submit",
        job_id="496ae232-0ebf-409d-9fb0-fe75156254a7",
        used=False,
    ),
    "legacy-media-prompt": media(
        "success",
        SUCCESS,
        100,
        # Quantity=2 in its pose_preset: two paid variations, each its own download
        [download_url("573baf50-2506-4f24-a437-93678f1e5122", f"Auto{n}") for n in (1, 2)],
        reads="submit",
        job_id="573baf50-2506-4f24-a437-93678f1e5122",
        used=False,
    ),
    "legacy-media-processing-status": media("success", SUCCESS, 100, None, reads="status"),
    "legacy-media-get": media("success", SUCCESS, 100, [download_url(LEGACY_MEDIA_ID)], reads="object"),
    "legacy-media-edit": media("success", SUCCESS, 100, [download_url(LEGACY_MEDIA_ID)], reads="object"),
    "legacy-media-process": Answer("rerun"),
    # a bare batch whose id is "": nothing to wait on, and the job may exist (it was paid for)
    "legacy-batch-create": Answer("no-id", kind="batch", status="new", state=RUNNING, progress=0, video_urls=[]),
    "legacy-batch-upload": LEGACY_BATCH_DONE,
    "legacy-batch-get": Answer(**{**LEGACY_BATCH_DONE.__dict__, "reads": "status", "used": True}),
    "legacy-batch-update": LEGACY_BATCH_DONE,
    "legacy-batch-update-2": LEGACY_BATCH_DONE,
    "legacy-batch-concat": Answer("rerun", kind="batch", status="new", state=RUNNING, progress=0),
    "legacy-story-create": story("new", 0, reads="step", job_id=LEGACY_STORY_ID, video_urls=[]),
    "legacy-story-images": story("new", 10, reads="step", job_id=LEGACY_STORY_ID, video_urls=[], used=False),
    "legacy-story-videos": story("new", 10, reads="rerun", video_urls=[]),
    "legacy-story-idea-2-video": story("new", 10, reads="submit", job_id=LEGACY_STORY_ID, video_urls=[]),
    "legacy-story-get": story("new", 10, reads="status", video_urls=[], counts=(0, 0, None)),
    "legacy-story-concat": story("new", 0, reads="rerun"),
    "legacy-image-edit-image": Answer("nothing"),
    "legacy-text-prompt": Answer("text", value="Imagine a futuristic cityscape"),
    "legacy-video-crop-to-aspect-ratio": Answer(**{**LEGACY_ASSET.__dict__, "used": False}),
    "legacy-video-enhance": Answer(**{**LEGACY_ASSET.__dict__, "used": False}),
    "legacy-video-sound-effect": Answer(**{**LEGACY_ASSET.__dict__, "used": False}),
    "legacy-video-lip-sync": Answer(**{**LEGACY_ASSET.__dict__, "used": False}),
    "legacy-video-video-effects": Answer(**{**LEGACY_ASSET.__dict__, "used": False}),
    "legacy-audio-text-2-speech": LEGACY_ASSET,
    "legacy-audio-text-2-sound-effect": LEGACY_ASSET,
}

#: Exception class per documented error status.
ERRORS = {400: VimmerseValidationError, 402: VimmerseInsufficientCreditError, 404: VimmerseNotFoundError}


def check(example: DocExample, answer: Answer) -> None:
    """Assert what the provider makes of one documented answer."""
    body, what = example.body, f"{example.method} {example.path}"
    if answer.reads == "submit":
        assert parse_submission(body, what).job_id == answer.job_id
    elif answer.reads == "no-id":
        with pytest.raises(VimmerseJobMayExistError, match="no job id"):
            parse_submission(body, what)
    elif answer.reads == "step":
        # VimmerseStoryStepOperator.execute: expect_object(...), then the object's id
        assert expect_object(body, method=example.method, path=example.path).get("id") == answer.job_id
    elif answer.reads == "asset":
        # VimmerseAssetJobOperator.take_answer: an asset with an id is waited on (or already finished)
        assert is_job_answer(unwrap(body))
        assert unwrap(body)["id"] == answer.job_id
    elif answer.reads == "nothing":
        # neither an asset id to wait on nor an output: take_answer refuses (VimmerseJobMayExistError)
        assert not is_job_answer(unwrap(body))
        assert immediate_result(LEGACY_TOOLS["image/edit-image"], body) is None
    elif answer.reads == "upload":
        assert hosted_url(body) == answer.value
    elif answer.reads == "text":
        result = immediate_result(LEGACY_TOOLS["text/prompt"], body)
        assert result is not None and result["text"].startswith(answer.value)
    elif answer.reads == "estimate":
        assert parse_estimate(body) == answer.value
    elif answer.reads == "trigger-word":
        assert trigger_word_of(body) == answer.value
    if answer.kind and answer.state is not None:
        job_id = answer.job_id or "JOB_ID"
        kind = JOB_KINDS[answer.kind]
        snapshot = parse_snapshot(kind, job_id, job_object(kind, body), method=example.method, path=example.path)
        assert (snapshot.raw_status, snapshot.state, snapshot.progress) == (
            answer.status,
            answer.state,
            answer.progress,
        )
        if answer.counts is not None:
            assert (snapshot.finished, snapshot.failed, snapshot.total) == answer.counts
    if answer.kind and answer.video_urls is not None:
        obj = expect_object(job_object(JOB_KINDS[answer.kind], body), method=example.method, path=example.path)
        result = build_result(JOB_KINDS[answer.kind], answer.job_id or "JOB_ID", obj, web_url=WEB, api_url=API)
        assert (result["status"], result["progress"]) == (answer.status, answer.progress)
        assert result["video_urls"] == answer.video_urls


def _ids(examples: list[DocExample]) -> list[str]:
    return [example.name for example in examples]


OPENAPI_OK = [e for e in openapi_examples() if e.status is not None and e.status < 400]
OPENAPI_ERRORS = [e for e in openapi_examples() if e.status is not None and e.status >= 400]


def test_every_openapi_example_has_an_expectation():
    """A new 2xx example in openapi.json needs an expectation here; a route gone from it, its row removed."""
    routes = {example.route for example in OPENAPI_OK}
    assert sorted(routes - OPENAPI.keys()) == []
    assert sorted(OPENAPI.keys() - routes) == []


def test_every_transcribed_example_has_an_expectation():
    assert sorted(_ids(text_examples())) == sorted(TEXT)


@pytest.mark.parametrize("example", OPENAPI_OK, ids=_ids(OPENAPI_OK))
def test_openapi_example(example: DocExample):
    check(example, OPENAPI[example.route])


@pytest.mark.parametrize("example", text_examples(), ids=_ids(text_examples()))
def test_text_example(example: DocExample):
    check(example, TEXT[example.name])


@pytest.mark.parametrize("example", OPENAPI_ERRORS, ids=_ids(OPENAPI_ERRORS))
def test_openapi_error_example(example: DocExample):
    """``{"message": "INSUFFICIENT_CREDIT"}`` and the like become the matching error, naming the server's message."""
    error = error_from_response(
        method=example.method, path=example.path, status=example.status or 0, body=json.dumps(example.body).encode()
    )
    assert type(error) is ERRORS[example.status or 0]
    assert error.server_message == example.body["message"]
    assert example.body["message"] in str(error)
    assert (error.status, error.method, error.path) == (example.status, example.method, example.path)


def validation_error_example() -> dict[str, Any]:
    """
    Return a 422 body built from ``components.schemas.HTTPValidationError`` (the document gives no example).

    ``ValidationError`` requires ``loc`` (strings and integers), ``msg`` and ``type``.
    """
    schemas = openapi()["components"]["schemas"]
    assert schemas["HTTPValidationError"]["properties"]["detail"]["items"] == {
        "$ref": "#/components/schemas/ValidationError"
    }
    assert schemas["ValidationError"]["required"] == ["loc", "msg", "type"]
    return {
        "detail": [
            {"loc": ["body", "quantity"], "msg": "Input should be less than or equal to 4", "type": "less_than_equal"},
            {"loc": ["body", "media_items", 0], "msg": "Field required", "type": "missing"},
        ]
    }


def test_validation_error_names_the_fields():
    error = error_from_response(
        method="POST", path="/media", status=422, body=json.dumps(validation_error_example()).encode()
    )
    assert isinstance(error, VimmerseValidationError)
    assert error.fields == ["quantity", "media_items.0"]
    assert "quantity: Input should be less than or equal to 4" in str(error)


# ---------------------------------------------------------------- answers without a job id, over HTTP


class DocumentedApi:
    """A tiny HTTP server that answers each route with a documented example (real HTTP for the hook)."""

    def __init__(self, answers: dict[tuple[str, str], Any]) -> None:
        self.answers = answers
        self.requests: list[tuple[str, str]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                route = (self.command, self.path.split("?")[0])
                api.requests.append(route)
                found = route in api.answers
                data = json.dumps(api.answers[route] if found else {"message": "NOT_FOUND"}).encode()
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def documented_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[DocumentedApi]:
    """Point ``vimmerse_default`` at a server answering the documented examples of the re-run routes."""
    get_media = openapi_example("GET", "/media/{media_id}").body
    api = DocumentedApi(
        {
            ("GET", "/media/m1"): get_media,
            ("POST", "/media/m1/process"): openapi_example("POST", "/media/{media_id}/process").body,
            ("GET", "/batch/b1"): {"data": TEXT_BODIES["batch-get"]["data"]},
            ("POST", "/batch/b1/concat"): TEXT_BODIES["batch-concat"],
            ("GET", "/story/s1"): openapi_example("GET", "/story/{story_id}").body,
            ("POST", "/story/s1/concat"): openapi_example("POST", "/story/{story_id}/concat").body,
        }
    )
    monkeypatch.setenv(CONN_ENV_VAR, sandbox_conn_uri(api.url, "documented-key", retries=0))
    yield api
    api.close()


TEXT_BODIES = {example.name: example.body for example in text_examples()}


@pytest.mark.parametrize(
    ("operator", "job_id", "route"),
    [
        ("VimmerseProcessMediaOperator", "m1", ("POST", "/media/m1/process")),
        ("VimmerseConcatBatchOperator", "b1", ("POST", "/batch/b1/concat")),
        ("VimmerseConcatStoryOperator", "s1", ("POST", "/story/s1/concat")),
    ],
)
def test_rerun_answers_without_an_id_are_accepted(documented_api: DocumentedApi, operator: str, job_id: str, route):
    """``{"data": {}}`` (process) and ``{}`` (concat) carry no id: the operator keeps the id it was given."""
    from airflow_provider_vimmerse.operators import batch, media, story

    cls = next(getattr(module, operator) for module in (media, batch, story) if hasattr(module, operator))
    field = {"media": "media_id", "batch": "batch_id", "story": "story_id"}[cls.route.kind]
    task = cls(task_id="rerun", **{field: job_id})
    submitted = task.submit({})
    assert getattr(submitted, "job_id", submitted) == job_id
    assert route in documented_api.requests
