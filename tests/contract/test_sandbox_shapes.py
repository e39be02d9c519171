"""
The sandbox answers in the documented shapes, so the tests that talk to it talk to the documented API.

Each route the provider uses is driven over real HTTP, and its answer's shape (wrapper nesting, keys,
JSON types per key) is compared with the documented examples of that route: the first listed is the
reference (its keys must be there); the others may add keys, and so may the openapi.json schema of the
object (``Batch``, ``StoryResponse``). Fields the documents do not show are
allowed only when ``SANDBOX_ONLY`` lists them (``docs/sandbox.md`` says why each exists).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.contract.examples import (
    DocExample,
    all_examples,
    all_keys,
    openapi,
    openapi_example,
    shape,
    shape_differences,
    text_example,
    wrappers,
)
from tests.sandbox.http_api import Api

#: Keys the sandbox may send although no document shows them; keep in step with docs/sandbox.md.
SANDBOX_ONLY: frozenset[str] = frozenset()


def inner(example: DocExample) -> Any:
    """Return a documented answer without its wrappers (video-v2.txt line 30: v2 answers are bare assets)."""
    return wrappers(example.body)[1]


def asset_examples() -> list[Any]:
    """Return the documented asset shape, bare: openapi.json's tool answers (video-v2.txt prints only {})."""
    return [inner(openapi_example("POST", "/video/crop-to-aspect-ratio"))]


def media_examples(route: tuple[str, str]) -> list[Any]:
    return [openapi_example(*route).body]


#: README.md "Errors": bodies look like {"message": ...} or {"message": ..., "code": "MEDIA_NOT_FOUND"}
README_ERROR = {"message": "MEDIA_NOT_FOUND", "code": "MEDIA_NOT_FOUND"}
#: the 422 shape of openapi.json components.schemas.HTTPValidationError (no example is given)
VALIDATION_ERROR = {"detail": [{"loc": ["body", "quantity"], "msg": "message", "type": "less_than_equal"}]}


class Sandbox(Api):
    """Drive the sandbox's API routes and wait for its jobs."""

    def json(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        assert response.status_code == status, response.text
        return response.json()

    def wait(self, path: str, field: str, timeout: float = 10.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            body = self.json("GET", path)
            if wrappers(body)[1].get(field) in ("success", "fail", "cancel"):
                return body
            assert time.monotonic() < deadline, f"{path} did not finish: {body}"
            time.sleep(0.2)


@pytest.fixture
def sandbox(vimmerse_sandbox) -> Sandbox:
    return Sandbox(vimmerse_sandbox.url, vimmerse_sandbox.api_key)


def media_id(api: Sandbox) -> str:
    body = api.json("POST", "/media", data={"prompt": "a red kite", "title": "Kite"})
    return wrappers(body)[1]["id"]


def finished_media(api: Sandbox) -> str:
    job = media_id(api)
    api.wait(f"/media/{job}/processing-status", "processing_status")
    return job


def batch_id(api: Sandbox, finished: bool = False) -> str:
    body = api.json("POST", "/batch", data={"title": "B", "image_urls": ["https://e.x/1.png", "https://e.x/2.png"]})
    job = wrappers(body)[1]["id"]
    if finished:
        api.wait(f"/batch/{job}", "status")
    return job


def story_id(api: Sandbox, finished: bool = False) -> str:
    body = api.json("POST", "/story/idea-2-video", json={"idea": "a kite festival", "title": "Kites", "scene_count": 2})
    job = wrappers(body)[1]["id"]
    if finished:
        api.wait(f"/story/{job}", "status")
    return job


def storyboard_id(api: Sandbox) -> str:
    return wrappers(api.json("POST", "/story", data={"idea": "a kite festival", "scene_count": 2}))[1]["id"]


#: A workflow's ``options`` are echoed as sent: these are the example's (openapi.json tag "Workflow").
WORKFLOW_FORM = {
    "image_urls": ["https://e.x/1.png"],
    "title": "W",
    "options": json.dumps(
        {"background_urls": "https://e.x/bg.mp4", "prompt": "walks", "motion_type": "Auto", "duration": 5,
         "last_frame_support": True}
    ),
}  # fmt: skip


def workflow_id(api: Sandbox, finished: bool = False) -> str:
    body = api.json("POST", "/workflow", data=WORKFLOW_FORM)
    job = wrappers(body)[1]["id"]
    if finished:
        api.wait(f"/workflow/{job}", "processing_status")
    return job


def trained_finetune(api: Sandbox) -> Any:
    word = wrappers(api.json("POST", "/finetune", data={"image_urls": ["https://e.x/1.png"]}))[1]["id"]
    deadline = time.monotonic() + 10
    while not (body := api.json("GET", f"/finetune/{word}"))["data"]:
        assert time.monotonic() < deadline, f"finetune {word} did not finish"
        time.sleep(0.2)
    return body


def workflow_examples() -> list[Any]:
    """openapi.json's workflow object (one example for POST, GET, PUT and DELETE /workflow)."""
    return [openapi_example("GET", "/workflow/{workflow_id}").body]


def asset_id(api: Sandbox) -> str:
    body = api.json(
        "POST", "/v2/video/crop-to-aspect-ratio", json={"video_url": "https://e.x/v.mp4", "async_mode": True}
    )
    return body["id"]


Drive = Callable[[Sandbox], Any]


def family_keys(prefix: str) -> frozenset[str]:
    """Return every key the examples of one object (``batch`` or ``story``) show, on any of its routes."""
    bodies = [e.body for e in all_examples() if e.path.startswith(f"/{prefix}") and e.status in (200, None)]
    return frozenset().union(*(all_keys(body) for body in bodies))


def schema_keys(name: str) -> frozenset[str]:
    """Return the properties of an openapi.json ``components.schemas`` object: the keys it documents."""
    return frozenset(openapi()["components"]["schemas"][name]["properties"])


#: openapi.json ``components.schemas.Batch`` documents the batch object (no /batch path is in openapi.json;
#: its properties include ``used_credits``, ``image_urls``, ``aspect_ratio`` and ``webhook_url``, "Webhook URL
#: is called after batch or story is finished"). It is also the 200 schema of ``POST /story/{story_id}/concat``
#: and ``DELETE /story/{story_id}``, so a story shows its keys too, as well as ``StoryResponse``'s (the 200
#: schema of every other story route).
_BATCH_SCHEMA = schema_keys("Batch")
#: batch.txt line 106: "if Batch is finished, you can get composed video from video_url"
_BATCH = family_keys("batch") | {"video_url"} | _BATCH_SCHEMA
_STORY = family_keys("story") | _BATCH_SCHEMA | schema_keys("StoryResponse")
#: Keys allowed on a route although its own examples do not show them: the same object shows them on its
#: other routes, its openapi.json schema lists them, or the prose names them.
OTHER_DOCUMENTED_KEYS: dict[str, frozenset[str]] = {
    **{route: _BATCH for route in ("POST /batch", "GET /batch/{id}", "PUT /batch/{id}/edit")},
    **{
        route: _STORY
        for route in (
            "POST /story/idea-2-video",
            "POST /story",
            "POST /story/{id}/elements",
            "POST /story/{id}/scenes",
            "POST /story/{id}/videos",
            "GET /story/{id}",
            "POST /story/url-2-video",
            "POST /story/images-2-video",
            "PUT /story/{id}",
        )
    },
}

#: route -> (how to get the sandbox's answer, the documented examples of that route, reference first)
CASES: dict[str, tuple[Drive, Callable[[], list[Any]]]] = {
    "POST /media": (
        lambda api: api.json("POST", "/media", data={"prompt": "a red kite"}),
        lambda: [*media_examples(("POST", "/media")), text_example("legacy-media-create").body],
    ),
    "GET /media/{id}/processing-status (running)": (
        lambda api: api.json("GET", f"/media/{media_id(api)}/processing-status"),
        lambda: (
            [
                *media_examples(("GET", "/media/{media_id}/processing-status")),
                text_example("legacy-media-processing-status").body,
            ]
        ),
    ),
    "GET /media/{id}/processing-status (success)": (
        lambda api: api.wait(f"/media/{media_id(api)}/processing-status", "processing_status"),
        lambda: (
            [
                *media_examples(("GET", "/media/{media_id}/processing-status")),
                text_example("legacy-media-processing-status").body,
            ]
        ),
    ),
    "GET /media/{id}": (
        lambda api: api.json("GET", f"/media/{finished_media(api)}"),
        lambda: [*media_examples(("GET", "/media/{media_id}")), text_example("legacy-media-get").body],
    ),
    "PUT /media/{id}/edit": (
        lambda api: api.json("PUT", f"/media/{finished_media(api)}/edit", data={"title": "New title"}),
        lambda: [*media_examples(("PUT", "/media/{media_id}/edit")), text_example("legacy-media-edit").body],
    ),
    "PUT /media/{id}": (
        lambda api: api.json("PUT", f"/media/{finished_media(api)}", data={"title": "New title"}),
        lambda: media_examples(("PUT", "/media/{media_id}")),
    ),
    "POST /media/{id}/process": (
        lambda api: api.json("POST", f"/media/{finished_media(api)}/process"),
        lambda: media_examples(("POST", "/media/{media_id}/process")),
    ),
    "POST /batch": (
        lambda api: api.json("POST", "/batch", data={"title": "B", "image_urls": ["https://e.x/1.png"]}),
        lambda: [text_example("batch-create").body],
    ),
    "GET /batch/{id}": (
        lambda api: api.json("GET", f"/batch/{batch_id(api, finished=True)}"),
        lambda: [text_example("batch-get").body, text_example("legacy-batch-get").body],
    ),
    "PUT /batch/{id}/edit": (
        lambda api: api.json("PUT", f"/batch/{batch_id(api)}/edit", data={"title": "New title"}),
        lambda: [text_example("batch-edit").body],
    ),
    "POST /batch/{id}/concat": (
        lambda api: api.json("POST", f"/batch/{batch_id(api, finished=True)}/concat"),
        lambda: [text_example("batch-concat").body],
    ),
    "POST /story/idea-2-video": (
        lambda api: api.json("POST", "/story/idea-2-video", json={"idea": "a kite festival", "scene_count": 2}),
        lambda: [openapi_example("POST", "/story/idea-2-video").body, text_example("story-idea-2-video").body],
    ),
    "POST /story/url-2-video": (
        lambda api: api.json(
            "POST", "/story/url-2-video", json={"idea": "https://e.x/kites A kite shop ad", "scene_count": 2}
        ),
        # The same StoryResponse as idea-2-video, whose is_transition is a string ("No") in story.txt and the schema.
        lambda: [openapi_example("POST", "/story/url-2-video").body, text_example("story-idea-2-video").body],
    ),
    "POST /story/images-2-video": (
        lambda api: api.json(
            "POST", "/story/images-2-video", json={"image_urls": ["https://e.x/1.png", "https://e.x/2.png"]}
        ),
        lambda: [openapi_example("POST", "/story/images-2-video").body, text_example("story-idea-2-video").body],
    ),
    "PUT /story/{id}": (
        lambda api: api.json(
            "PUT",
            f"/story/{story_id(api)}",
            data={"title": "Kites", "visibility_status": "2", "additional_videos": '["https://e.x/v.mp4"]'},
        ),
        # "Updated Story Object": the StoryResponse every story route answers, as GET /story/{id} shows it too.
        lambda: [
            openapi_example("PUT", "/story/{story_id}").body,
            openapi_example("GET", "/story/{story_id}").body,
            text_example("story-get").body,
        ],
    ),
    "POST /story": (
        lambda api: api.json("POST", "/story", data={"idea": "a kite festival", "scene_count": 2}),
        lambda: [openapi_example("POST", "/story").body, text_example("story-create").body],
    ),
    "POST /story/{id}/elements": (
        lambda api: api.json("POST", f"/story/{storyboard_id(api)}/elements"),
        lambda: [
            openapi_example("POST", "/story/{story_id}/elements").body,
            text_example("story-elements").body,
        ],
    ),
    "POST /story/{id}/scenes": (
        lambda api: api.json("POST", f"/story/{storyboard_id(api)}/scenes"),
        lambda: [openapi_example("POST", "/story/{story_id}/scenes").body, text_example("story-scenes").body],
    ),
    "POST /story/{id}/videos": (
        lambda api: api.json("POST", f"/story/{storyboard_id(api)}/videos"),
        lambda: [openapi_example("POST", "/story/{story_id}/videos").body, text_example("story-videos").body],
    ),
    "GET /story/{id}": (
        lambda api: api.json("GET", f"/story/{story_id(api, finished=True)}"),
        lambda: [openapi_example("GET", "/story/{story_id}").body, text_example("story-get").body],
    ),
    "POST /story/{id}/concat": (
        lambda api: api.json("POST", f"/story/{story_id(api, finished=True)}/concat"),
        lambda: [openapi_example("POST", "/story/{story_id}/concat").body],
    ),
    "POST /v2/video/{tool}": (
        lambda api: api.json(
            "POST", "/v2/video/crop-to-aspect-ratio", json={"video_url": "https://e.x/v.mp4", "async_mode": True}
        ),
        asset_examples,
    ),
    "GET /asset/{id}": (lambda api: api.json("GET", f"/asset/{asset_id(api)}"), asset_examples),
    "POST /v2/video (upload)": (
        lambda api: api.json("POST", "/v2/video", files={"video_file": ("clip.mp4", b"\0" * 16, "video/mp4")}),
        asset_examples,
    ),
    "POST /v2/video/estimate-credits": (
        lambda api: api.json(
            "POST", "/v2/video/estimate-credits", json={"app_name": "reference-to-video", "option": "KlingO"}
        ),
        lambda: [text_example("v2-estimate-credits").body],
    ),
    "POST /image/text-2-image": (
        lambda api: api.json("POST", "/image/text-2-image", data={"prompt": "a red kite"}),
        lambda: [openapi_example("POST", "/image/text-2-image").body],
    ),
    "POST /image (upload)": (
        lambda api: api.json("POST", "/image", files={"image_file": ("a.png", b"\x89PNG", "image/png")}),
        lambda: [openapi_example("POST", "/image").body],
    ),
    "POST /audio/text-2-speech": (
        lambda api: api.json("POST", "/audio/text-2-speech", data={"prompt": "hello"}),
        lambda: [openapi_example("POST", "/audio/text-2-speech").body],
    ),
    "POST /audio/text-2-music": (
        lambda api: api.json("POST", "/audio/text-2-music", data={"prompt": "calm lo-fi piano"}),
        lambda: [openapi_example("POST", "/audio/text-2-music").body],
    ),
    "POST /image/replace-background": (
        lambda api: api.json(
            "POST",
            "/image/replace-background",
            data={"option": "ReplaceBackground", "image_url": "https://e.x/a.png", "image2_url": "https://e.x/b.png"},
        ),
        lambda: [openapi_example("POST", "/image/replace-background").body],
    ),
    "POST /image/try-on": (
        lambda api: api.json(
            "POST",
            "/image/try-on",
            data={"human_image_url": "https://e.x/h.png", "clothes_image_url": "https://e.x/c.png"},
        ),
        lambda: [openapi_example("POST", "/image/try-on").body],
    ),
    "POST /image/face-swap": (
        lambda api: api.json(
            "POST", "/image/face-swap", data={"image_urls": ["https://e.x/a.png", "https://e.x/b.png"]}
        ),
        lambda: [openapi_example("POST", "/image/face-swap").body],
    ),
    "POST /image/restyle": (
        lambda api: api.json("POST", "/image/restyle", data={"image_url": "https://e.x/a.png", "style": "3d"}),
        lambda: [openapi_example("POST", "/image/restyle").body],
    ),
    "POST /image/elements": (
        lambda api: api.json("POST", "/image/elements", data={"image_urls": ["https://e.x/a.png"], "prompt": "a hat"}),
        lambda: [openapi_example("POST", "/image/elements").body],
    ),
    "POST /text/prompt": (
        lambda api: api.json("POST", "/text/prompt", data={"option": "SuggestPrompt"}),
        lambda: [openapi_example("POST", "/text/prompt").body, text_example("legacy-text-prompt").body],
    ),
    "POST /workflow": (
        lambda api: api.json("POST", "/workflow", data=WORKFLOW_FORM),
        lambda: [openapi_example("POST", "/workflow").body],
    ),
    "GET /workflow/{id}": (
        lambda api: api.json("GET", f"/workflow/{workflow_id(api, finished=True)}"),
        workflow_examples,
    ),
    "PUT /workflow/{id}": (
        lambda api: api.json("PUT", f"/workflow/{workflow_id(api, finished=True)}", json={"title": "New"}),
        lambda: [openapi_example("PUT", "/workflow/{workflow_id}").body],
    ),
    "DELETE /workflow/{id}": (
        lambda api: api.json("DELETE", f"/workflow/{workflow_id(api, finished=True)}"),
        lambda: [openapi_example("DELETE", "/workflow/{workflow_id}").body],
    ),
    "DELETE /story/{id}": (
        lambda api: api.json("DELETE", f"/story/{storyboard_id(api)}"),
        lambda: [openapi_example("DELETE", "/story/{story_id}").body],
    ),
    "POST /finetune": (
        lambda api: api.json("POST", "/finetune", data={"image_urls": ["https://e.x/1.png"]}),
        lambda: [openapi_example("POST", "/finetune").body],
    ),
    "GET /finetune/{trigger_word}": (
        trained_finetune,
        lambda: [openapi_example("GET", "/finetune/{trigger_word}").body],
    ),
    "404 GET /media/{id}": (
        lambda api: api.json("GET", "/media/no-such-media", status=404),
        lambda: [openapi_example("GET", "/media/{media_id}/processing-status", 404).body, README_ERROR],
    ),
    "402 POST /media": (
        lambda api: _out_of_credit(api),
        lambda: [openapi_example("POST", "/media", 402).body],
    ),
    "422 POST /media": (
        lambda api: api.json("POST", "/media", status=422, data={"prompt": "a kite", "quantity": "99"}),
        lambda: [VALIDATION_ERROR],
    ),
}


def _out_of_credit(api: Sandbox) -> Any:
    from airflow_provider_vimmerse.sandbox import SandboxClient

    with SandboxClient(api.url) as client:
        client.configure(credits=0)
    return api.json("POST", "/media", status=402, data={"prompt": "a red kite"})


@pytest.mark.parametrize("route", list(CASES))
def test_sandbox_answer_has_the_documented_shape(sandbox: Sandbox, route: str):
    drive, documented = CASES[route]
    answer = drive(sandbox)
    differences = shape_differences(
        answer, documented(), extra_keys=SANDBOX_ONLY | OTHER_DOCUMENTED_KEYS.get(route, frozenset())
    )
    assert not differences, f"{route} answered {shape(answer)}:\n" + "\n".join(differences)


def test_media_download_is_the_video_file(sandbox: Sandbox):
    """media.txt "Download File": 200 "Return bullet video" (the JSON sample is ``null``)."""
    response = sandbox.request(
        "GET", f"/media/{finished_media(sandbox)}/download", params={"object_type": "bullet_video_mp4"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("video/")


def test_customer_statistics_answers_json(sandbox: Sandbox):
    """openapi.json documents only "List of statistics" with an empty schema; the shape is not documented."""
    response = sandbox.request("GET", "/customer-statistics/2025-01-01/2025-01-03")
    assert response.status_code == 200
    assert isinstance(response.json(), (dict, list))


@pytest.mark.parametrize(
    "example", list(all_examples()), ids=lambda example: f"{example.source.split()[0]}:{example.name}"
)
def test_every_example_has_its_own_shape(example: DocExample):
    """The comparison is sound: every documented example matches itself (wrappers, keys, types)."""
    assert shape_differences(example.body, [example.body]) == []
