"""
Every request the provider builds, checked against the API's documents instead of the local sandbox.

Real operator instances are built with each option a user can set (every documented enum value,
range end, JSON option and file/URL form), their request-building path runs the way ``submit()`` runs
it, and a recorder standing in for the hook's ``request`` keeps the :class:`ApiRequest`\\ s. Each one
is encoded exactly as the hook sends it (:func:`tests.contract.wire.encode`) and compared with the
documented request: ``openapi.json`` where it describes the route, else
:mod:`airflow_provider_vimmerse.sandbox.documented_routes` (written from ``video-v2.txt``, ``batch.txt`` and the legacy
reference). No server is involved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import DecoratedOperator

from airflow_provider_vimmerse.api import batch, finetune, media, story, workflow
from airflow_provider_vimmerse.api.config import ApiConfig
from airflow_provider_vimmerse.api.endpoints import ApiRequest
from airflow_provider_vimmerse.api.fields import FieldType, RouteField
from airflow_provider_vimmerse.api.routes import Tool
from airflow_provider_vimmerse.api.tools import LEGACY_TOOLS
from airflow_provider_vimmerse.api.video import ESTIMATE_PATH, VIDEO_TOOLS, estimate_problem
from airflow_provider_vimmerse.decorators.base import fields_from
from airflow_provider_vimmerse.decorators.media import VimmerseMediaDecoratedOperator
from airflow_provider_vimmerse.decorators.story import VimmerseStoryDecoratedOperator
from airflow_provider_vimmerse.exceptions import VimmerseInputError
from airflow_provider_vimmerse.operators import story as story_operators
from airflow_provider_vimmerse.operators.batch import (
    VimmerseConcatBatchOperator,
    VimmerseCreateBatchOperator,
    VimmerseUpdateBatchOperator,
)
from airflow_provider_vimmerse.operators.delete import VimmerseDeleteJobOperator
from airflow_provider_vimmerse.operators.finetune import VimmerseFinetuneOperator
from airflow_provider_vimmerse.operators.job import VimmerseJobOperator
from airflow_provider_vimmerse.operators.media import (
    VimmerseCreateMediaOperator,
    VimmerseProcessMediaOperator,
    VimmerseUpdateMediaOperator,
)
from airflow_provider_vimmerse.operators.tools import VimmerseToolOperator
from airflow_provider_vimmerse.operators.video import VimmerseVideoOperator
from airflow_provider_vimmerse.operators.workflow import (
    VimmerseCreateWorkflowOperator,
    VimmerseUpdateWorkflowOperator,
)
from airflow_provider_vimmerse.sandbox.documented_routes import (
    DOCUMENTED_ROUTES,
    EXAMPLE_VALUES,
    OPENAPI_ROUTES,
    PROSE_ENUMS,
    Route,
    find_route,
)
from tests.contract.wire import check_request

IDEA = "A lighthouse keeper adopts a seagull"
STORYBOARD = {"scenes": [{"description": "The keeper climbs the stairs", "narrator": "Every night..."}]}
ELEMENTS = {"characters": [{"name": "Keeper", "description": "an old man"}], "objects": []}


@dataclass(frozen=True)
class LocalFile:
    """A local file the case needs; created under the test's ``tmp_path``."""

    name: str


def url(media: str = "") -> str:
    """Return a public URL for a media type."""
    return {"video": "https://cdn.example/in.mp4", "image": "https://cdn.example/in.png"}.get(
        media, "https://cdn.example/in.mp3" if media == "audio" else "https://hooks.example/done"
    )


# ---------------------------------------------------------------------- the recorder


class Recorder:
    """Stands in for the hook's ``request``: keeps each request and answers like the API would."""

    def __init__(self) -> None:
        self.requests: list[ApiRequest] = []
        #: the default connection's settings (API origin ``https://api.vimmerse.net``)
        self.config = ApiConfig.from_connection_fields(host=None, password="k", schema=None, port=None, extra={})

    def request(self, req: ApiRequest, **_: Any) -> Any:
        """Record ``req`` and return a plausible answer for its route."""
        self.requests.append(req)
        if req.path == ESTIMATE_PATH:
            return {"total_credits": 1, "breakdown": {}}
        if req.path in ("/v2/video", "/image", "/audio"):
            return {"id": "upload-1", "status": "success", "results": [{"url": "https://cdn.example/hosted.bin"}]}
        return {"data": {"id": "job-1", "status": "processing", "storyboard": STORYBOARD}}

    def __getattr__(self, name: str) -> Callable[..., None]:
        """Answer the hook's read-only helpers (status reads before a re-run) with nothing."""
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: None


def capture(operator: Any) -> list[ApiRequest]:
    """Run the operator's request-building path (as ``submit()``/``execute()`` do) and return what it sent."""
    recorder = Recorder()
    operator.__dict__["hook"] = recorder
    if isinstance(operator, DecoratedOperator):  # as its execute() does: the function's fields first
        for name, value in fields_from(operator, operator.text_field, operator.python_callable()).items():
            setattr(operator, name, value)
    operator.check_inputs()
    operator.submit(context={})
    return recorder.requests


def materialize(value: Any, folder: Path) -> Any:
    """Replace :class:`LocalFile` placeholders by real files in ``folder``."""
    if isinstance(value, LocalFile):
        path = folder / value.name
        path.write_bytes(b"\x89PNG\r\n\x1a\n not really" if value.name.endswith(".png") else b"local bytes")
        return str(path)
    if isinstance(value, list):
        return [materialize(item, folder) for item in value]
    if isinstance(value, dict):
        return {key: materialize(item, folder) for key, item in value.items()}
    return value


ROUTES: tuple[Route, ...] = (*DOCUMENTED_ROUTES, *OPENAPI_ROUTES)


def documented_route(req: ApiRequest) -> Route:
    """Return the documented route of a request; fail naming it when the documents have none."""
    route = find_route(ROUTES, req.method, req.path)
    assert route is not None, f"{req.describe()}: no document describes this route"
    return route


# ---------------------------------------------------------------------- the cases: every option of every operator


@dataclass(frozen=True)
class Case:
    """One operator built with some options."""

    id: str
    factory: Callable[..., Any]
    kwargs: Mapping[str, Any]


def _each(prefix: str, factory: Callable[..., Any], base: Mapping[str, Any], field: str, values: Any) -> Iterator[Case]:
    for value in values:
        yield Case(f"{prefix}-{field}={value!r}", factory, {**base, field: value})


#: Values to send for each field an edit (``PUT``) of a media or a batch may change: both ends of a range,
#: every allowed value.
EDIT_SAMPLES: dict[str, Any] = {
    "prompt": ["new prompt"],
    "motion_type": media.MOTION_TYPES,
    "quantity": [1, 4],
    "duration": [1, 10],
    "loop": [1, 6],
    "camera_control": media.CAMERA_CONTROLS,
    "aspect_ratio": media.ASPECT_RATIOS,
    "sound_effects": ["Yes", "No", True],
    "audio_option": [{"narrator": "Rachel", "narration": "Hi"}],
    "model": media.TRY_ON_MODELS,
    "media_items": [[{"type": "video", "url": url("video"), "position": "Last"}]],
    "title": ["t"],
    "description": ["d"],
    "rating": [1, 5, "3"],
    "visibility_status": media.VISIBILITY_STATUSES,
    "webhook_url": [url()],
}


def edit_cases(prefix: str, operator: Callable[..., Any], base: Mapping[str, Any], fields: Any) -> Iterator[Case]:
    """Yield a case per value of :data:`EDIT_SAMPLES` of each field an edit operator may change."""
    assert set(fields) <= set(EDIT_SAMPLES), f"no sample values for {set(fields) - set(EDIT_SAMPLES)}"
    for field in fields:
        yield from _each(prefix, operator, base, field, EDIT_SAMPLES[field])


def media_cases() -> Iterator[Case]:
    """Every option of the media operators."""
    create = VimmerseCreateMediaOperator
    base = {"prompt": "a kite over the sea"}
    for spec in media.CREATE.fields:
        if spec.allowed:
            yield from _each("media", create, base, spec.name, spec.allowed)
        if spec.low is not None and spec.high is not None:
            yield from _each("media", create, base, spec.name, (int(spec.low), int(spec.high)))
    for narrator in media.NARRATORS:
        yield Case(
            f"media-narrator={narrator}", create, {**base, "audio_option": {"narrator": narrator, "narration": "Hi"}}
        )
    yield Case(
        "media-audio_option-all-keys",
        create,
        {
            **base,
            "audio_option": {"narration_url": url("audio"), "bg_music_prompt": "calm", "bg_music_url": url("audio")},
        },
    )
    for kind in media.MEDIA_ITEM_TYPES:
        for position in media.MEDIA_ITEM_POSITIONS:
            item = {"type": kind, "url": url(kind), "position": position}
            yield Case(f"media-media_items={kind}/{position}", create, {"media_items": [item]})
    yield Case("media-image_urls", create, {"image_urls": [url("image"), url("image")]})
    yield Case("media-image_files-one", create, {"image_files": [LocalFile("a.png")]})
    yield Case("media-image_files-two", create, {"image_files": [LocalFile("a.png"), LocalFile("b.png")], **base})
    yield Case(
        "media-every-field",
        create,
        {
            **base,
            "motion_type": "KlingAI",
            "camera_control": "Zoom in",
            "quantity": 2,
            "duration": 5,
            "loop": 2,
            "aspect_ratio": "9:16",
            "character_animate": True,
            "model": "FashnTryOn",
            "visibility_status": "2",
            "title": "t",
            "description": "d",
            "webhook_url": url(),
            "image_urls": [url("image")],
            "audio_option": {"narrator": "Aria", "narration": "Hello"},
            "media_items": [{"type": "image", "url": url("image"), "position": "First"}],
        },
    )
    yield Case("media-character_animate=False", create, {**base, "character_animate": False})
    yield from edit_cases("media-edit", VimmerseUpdateMediaOperator, {"media_id": "m-1"}, media.EDIT.field_names)
    yield Case("media-process", VimmerseProcessMediaOperator, {"media_id": "m-1"})


def batch_cases() -> Iterator[Case]:
    """Every option of the batch operators."""
    create = VimmerseCreateBatchOperator
    for images in (
        {"image_urls": [url("image"), url("image")]},
        {"image_files": [LocalFile("a.png"), LocalFile("b.png")]},
    ):
        source = next(iter(images))
        for spec in batch.CREATE.fields:
            if spec.allowed:
                yield from _each(f"batch-{source}", create, images, spec.name, spec.allowed)
            if spec.low is not None and spec.high is not None:
                yield from _each(f"batch-{source}", create, images, spec.name, (int(spec.low), int(spec.high)))
        yield from _each(f"batch-{source}", create, images, "sound_effects", (*batch.SOUND_EFFECTS, True, False))
        yield Case(
            f"batch-{source}-every-field",
            create,
            {
                **images,
                "prompt": "orbit",
                "motion_type": "RunwayML",
                "aspect_ratio": "9:16",
                "sound_effects": "Yes",
                "quantity": 2,
                "duration": 9,
                "loop": 1,
                "title": "t",
                "description": "d",
                "visibility_status": "2",
                "webhook_url": url(),
            },
        )
    yield from edit_cases("batch-edit", VimmerseUpdateBatchOperator, {"batch_id": "b-1"}, batch.EDIT.field_names)
    yield Case("batch-concat", VimmerseConcatBatchOperator, {"batch_id": "b-1"})


#: Values to send for the options every one-step story operator (idea-, url- and images-to-video) has. The audio
#: options set every key, both ways round, and one is JSON text.
ONE_STEP_STORY_SAMPLES: dict[str, Any] = {
    "audio_option": (
        {"narrator": "Aria", "has_narration": True, "has_bg_music": False, "native_audio": True},
        {"narrator": "Charlie", "has_narration": True, "has_bg_music": True, "native_audio": False},
        '{"native_audio": true}',
    ),
    "video_tool": story.VIDEO_TOOLS,
    "scene_duration": story.SCENE_DURATIONS,
    "aspect_ratio": media.ASPECT_RATIOS,
    "language": story.LANGUAGES,
    "is_transition": (True, False),
    "title": ("t",),
    "webhook_url": (url(),),
}


def story_cases() -> Iterator[Case]:
    """Every option of the story operators."""
    idea = story_operators.VimmerseIdeaToVideoOperator
    base = {"idea": IDEA}
    for field, values in {
        **ONE_STEP_STORY_SAMPLES,
        "image_tool": story.IMAGE_TOOLS,
        "scene_count": (1, 10, 25, "12"),
        "elements": (ELEMENTS, '{"objects": []}'),
    }.items():
        yield from _each("idea", idea, base, field, values)
    board = story_operators.VimmerseCreateStoryboardOperator
    for field, values in {
        "scene_count": (1, 12, 40),
        "language": ("English", "Portuguese", "Tagalog"),
        "aspect_ratio": media.ASPECT_RATIOS,
        "title": ("t",),
        "audio_option": ({"narrator": "Rachel", "has_narration": True},),
        "elements": (ELEMENTS,),
        "image_urls": ([url("image"), url("image")],),
        "image_files": ([LocalFile("a.png"), LocalFile("b.png")],),
        "story_id": ("s-1",),
    }.items():
        yield from _each("storyboard", board, base, field, values)
    for step in (
        story_operators.VimmerseCreateStoryElementsOperator,
        story_operators.VimmerseCreateStoryScenesOperator,
    ):
        name = step.route.step
        step_base = {"story_id": "s-1"}
        for field, values in {
            "option": story.IMAGE_OPTIONS,
            "aspect_ratio": ("16:9", "21:9"),
            "seed": (0, 4669),
            "enhance_image": (True, False),
            "storyboard": (STORYBOARD, {"kind": "story", "id": "s-1", "storyboard": STORYBOARD}),
        }.items():
            yield from _each(name, step, step_base, field, values)
    yield Case(
        "scenes-audio_option",
        story_operators.VimmerseCreateStoryScenesOperator,
        {"story_id": "s-1", "audio_option": {"narrator": "Aria", "has_bg_music": True}},
    )
    videos = story_operators.VimmerseCreateStoryVideosOperator
    for field, values in {
        "motion_type": story.STORY_MOTION_TYPES,
        "duration": (1, 10),
        "loop": (1, 6),
        "is_transition": (True, False),
        "title": ("t",),
        "webhook_url": (url(),),
        "storyboard": (STORYBOARD,),
    }.items():
        yield from _each("videos", videos, {"story_id": "s-1"}, field, values)
    concat = story_operators.VimmerseConcatStoryOperator
    yield Case("story-concat", concat, {"story_id": "s-1"})
    yield Case(
        "story-concat-urls",
        concat,
        {"story_id": "s-1", "concat_video_urls": [url("video"), url("video")], "audio_urls": [url("audio")]},
    )
    page = story_operators.VimmerseUrlToVideoOperator
    page_base = {"idea": f"https://shop.example/tote {IDEA}"}
    for field, values in {
        **ONE_STEP_STORY_SAMPLES,
        "image_tool": story.IMAGE_TOOLS,
        "scene_count": (1, 25, "12"),
        "elements": (ELEMENTS, '{"objects": []}'),
        "audio_option": ({"narrator": "Aria", "native_audio": True}, '{"native_audio": true}'),
    }.items():
        yield from _each("url-2-video", page, page_base, field, values)
    photos = story_operators.VimmerseImagesToVideoOperator
    photos_base = {"image_urls": [url("image"), url("image")]}
    yield Case("images-2-video-one-image", photos, {"image_urls": url("image")})
    for field, values in {
        **ONE_STEP_STORY_SAMPLES,
        "idea": (IDEA,),
        "scene_duration": (*story.SCENE_DURATIONS, "10"),
    }.items():
        yield from _each("images-2-video", photos, photos_base, field, values)
    update = story_operators.VimmerseUpdateStoryOperator
    for field, values in {
        "title": ("t",),
        "description": ("d",),
        "visibility_status": (*media.VISIBILITY_STATUSES, 2),
        "additional_videos": ([url("video"), url("video")], f'["{url("video")}"]'),
        "changes": ({"title": "t", "visibility_status": "0"},),
    }.items():
        yield from _each("story-update", update, {"story_id": {"kind": "story", "id": "s-1"}}, field, values)


def sample_values(spec: RouteField) -> list[Any]:
    """Return valid values of a tool field: every allowed value, both range ends, both booleans."""
    if spec.allowed:
        return list(spec.allowed)
    if spec.file_only:
        return [LocalFile(f"{spec.name}.png")]
    kind = spec.type
    if kind is FieldType.URL:
        return [url(spec.media)]
    if kind is FieldType.URLS:
        return [[url(spec.media), url(spec.media)]]
    if kind is FieldType.INT:
        ends = [v for v in (spec.low, spec.high) if v is not None]
        return [int(v) for v in ends] or [0, 12]
    if kind is FieldType.NUMBER:
        return [v for v in (spec.low, spec.high) if v is not None] + [7.5]
    if kind is FieldType.NUMBER_TEXT:
        return ["0.5"]
    if kind is FieldType.BOOL:
        return [True, False]
    if kind is FieldType.RATIO:
        return ["9:16", "5:4"]
    if kind is FieldType.LIST:
        return [[url("image")]]
    if kind is FieldType.INTS:
        return [[2, 0], "[1]"]
    if kind is FieldType.JSON:
        return [{"x_start": 0, "x_end": 100}]
    return ["some text"]


def minimal_inputs(tool: Tool, given: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``given`` plus what the tool needs: required fields, one of each group, an option's needs."""
    values = dict(given)
    option = values.get(tool.option_field) if tool.option_field else None
    if isinstance(option, str) and option in tool.option_routes:
        tool = LEGACY_TOOLS[tool.option_routes[option]]
    groups = [(spec.name,) for spec in tool.fields if spec.required] + list(tool.one_of)
    option = values.get(tool.option_field) if tool.option_field else None
    groups += list(tool.needs.get(option, ())) if isinstance(option, str) else []
    for group in groups:
        if not any(name in values for name in group):
            spec = tool.field(group[0])
            assert spec is not None
            values[group[0]] = sample_values(spec)[0]
    return values


def tool_cases(operator: Callable[..., Any], table: Mapping[str, Tool], prefix: str) -> Iterator[Case]:
    """Every field and allowed value of every tool of a table, with URLs and with local files."""
    for name, tool in table.items():
        yield Case(f"{prefix}-{name}-minimal", operator, {"tool": name, **minimal_inputs(tool, {})})
        everything: dict[str, Any] = {}
        for spec in tool.fields:
            for value in sample_values(spec):
                if value is not None:
                    case_inputs = minimal_inputs(tool, {spec.name: value})
                    yield Case(f"{prefix}-{name}-{spec.name}={value!r}", operator, {"tool": name, **case_inputs})
            if spec.media and not spec.file_only:
                ext = {"video": "mp4", "image": "png", "audio": "mp3"}[spec.media]
                local: Any = LocalFile(f"{spec.name}.{ext}")
                local = [local, url(spec.media)] if spec.type is FieldType.URLS else local
                yield Case(
                    f"{prefix}-{name}-{spec.name}=local-file",
                    operator,
                    {"tool": name, **minimal_inputs(tool, {spec.name: local})},
                )
            if not (tool.option_routes and spec.name == tool.option_field):
                everything.setdefault(spec.name, sample_values(spec)[0])
        yield Case(f"{prefix}-{name}-every-field", operator, {"tool": name, **minimal_inputs(tool, everything)})
        guarded = minimal_inputs(tool, {})
        # a medium whose length the handler measures goes with its stated length (video-v2.txt l.526)
        guarded.update({length: 12 for medium, length in tool.lengths.items() if medium in guarded})
        if tool.can_estimate and estimate_problem(tool, guarded) is None:
            yield Case(f"{prefix}-{name}-credit-guard", operator, {"tool": name, "max_credits": 100, **guarded})


def workflow_cases() -> Iterator[Case]:
    """Every option of the workflow and finetune operators."""
    create = VimmerseCreateWorkflowOperator
    base = {"image_urls": [url("image")]}
    yield from _each("workflow", create, base, "template_id", (*workflow.TEMPLATE_EXAMPLES, "my_own_template"))
    yield from _each("workflow", create, base, "visibility_status", (*media.VISIBILITY_STATUSES, 2))
    yield from _each(
        "workflow",
        create,
        base,
        "options",
        (
            {"background_urls": [url("video"), url("video")], "prompt": "walks", "motion_type": "Auto"},
            {"duration": 5, "last_frame_support": True},
            '{"background_urls": "https://cdn.example/a.mp4,https://cdn.example/b.mp4"}',
        ),
    )
    yield Case("workflow-image_files", create, {"image_files": [LocalFile("a.png"), LocalFile("b.png")]})
    yield Case(
        "workflow-every-field",
        create,
        {
            **base,
            "template_id": "overlay_gray_5443",
            "options": {"background_urls": url("video"), "prompt": "p", "duration": 5},
            "title": "t",
            "description": "d",
            "visibility_status": "0",
            "event_id": "launch",
        },
    )
    update = VimmerseUpdateWorkflowOperator
    for field, values in {
        "title": ("t",),
        "description": ("d",),
        "visibility_status": media.VISIBILITY_STATUSES,
        "rating": ("5", 4),
        "delivered_at": ("2026-01-02T03:04:05+00:00",),
    }.items():
        yield from _each("workflow-update", update, {"workflow_id": "w-1"}, field, values)
    train = VimmerseFinetuneOperator
    shots = {"image_urls": [url("image"), url("image")]}
    yield from _each("finetune", train, shots, "option", [o for o in finetune.OPTIONS if o != finetune.KONTEXT])
    yield from _each("finetune", train, shots, "finetune_type", finetune.FINETUNE_TYPES)
    yield from _each("finetune", train, shots, "num_iterations", (0, 1000))
    yield Case("finetune-image_files", train, {"image_files": [LocalFile("a.png"), LocalFile("b.png")]})
    yield Case(
        "finetune-every-field",
        train,
        {
            **shots,
            "option": finetune.KONTEXT,
            "prompt": "turn the car red",
            "finetune_type": "Style",
            "num_iterations": 500,
            "lora_prefix": "BRAND",
            "webhook_url": url(),
        },
    )


def decorator_cases() -> Iterator[Case]:
    """The TaskFlow decorators: the fields their function returns go into the request."""
    yield Case("taskflow-media-returns-a-prompt", VimmerseMediaDecoratedOperator, {"python_callable": lambda: "a kite"})
    fields = {"prompt": "a kite", "motion_type": media.MOTION_TYPES[-1], "aspect_ratio": "9:16", "quantity": 2}
    yield Case(
        "taskflow-media-returns-fields",
        VimmerseMediaDecoratedOperator,
        {"python_callable": lambda: fields, "duration": 5},
    )
    yield Case("taskflow-story-returns-an-idea", VimmerseStoryDecoratedOperator, {"python_callable": lambda: IDEA})
    yield Case(
        "taskflow-story-returns-fields",
        VimmerseStoryDecoratedOperator,
        {"python_callable": lambda: {"idea": IDEA, "scene_count": 3, "language": "French"}},
    )


CASES = [
    *media_cases(),
    *decorator_cases(),
    *batch_cases(),
    *story_cases(),
    *workflow_cases(),
    *tool_cases(VimmerseVideoOperator, VIDEO_TOOLS, "v2"),
    *tool_cases(VimmerseToolOperator, LEGACY_TOOLS, "legacy"),
]


def build(case: Case, folder: Path) -> Any:
    """Return the operator of a case."""
    return case.factory(task_id="contract", **materialize(dict(case.kwargs), folder))


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_every_request_matches_the_documented_request(case, tmp_path):
    sent = capture(build(case, tmp_path))

    assert sent, "the operator sent nothing"
    for req in sent:
        assert check_request(req, documented_route(req)) == []


def submitting_operators() -> set[type]:
    """Return every operator class a DAG can use that sends a route's request to the API (what a case must build)."""
    found, todo = set(), [VimmerseJobOperator]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("airflow_provider_vimmerse.") and not sub.__name__.startswith("_"):
                found.add(sub)
    return found


def test_every_operator_and_tool_is_covered():
    built = {case.factory for case in CASES}
    public = submitting_operators()
    assert public, "the operators are found through their base class"
    assert built >= public, f"no case builds {sorted(cls.__name__ for cls in public - built)}"
    assert set(EDIT_SAMPLES) == {*media.EDIT.field_names, *batch.EDIT.field_names}, (
        "every sample is of a field an edit may change"
    )
    ids = " ".join(case.id for case in CASES)
    for name in (*VIDEO_TOOLS, *LEGACY_TOOLS):
        assert f"-{name}-every-field" in ids


@pytest.mark.parametrize(("kind", "path"), [("story", "/story/{story_id}"), ("workflow", "/workflow/{workflow_id}")])
def test_a_delete_is_the_documented_request(kind, path):
    """The delete operator is free and sends no body: it is not a submit operator, so it is checked here."""
    req = VimmerseDeleteJobOperator(task_id="delete", kind=kind, job_id={"kind": kind, "id": "j 1"}).build_request()
    route = documented_route(req)
    assert (req.method, route.template, req.path) == ("DELETE", path, f"/{kind}/j%201")
    assert check_request(req, route) == []
    assert (req.form, req.files, req.json, req.spends_credits) == (None, (), None, False)


# ---------------------------------------------------------------------- allowed values are the documented ones


def _enum_of(route: Route, field: str) -> set[Any] | None:
    prop = route.schema.get("properties", {}).get(field, {})
    options = prop.get("anyOf", [prop])
    values = [v for option in options for v in option.get("enum", [])]
    return set(values) if values else None


def _tool_enums() -> Iterator[tuple[str, Tool, RouteField]]:
    for table in (VIDEO_TOOLS, LEGACY_TOOLS):
        for tool in table.values():
            for spec in tool.fields:
                if spec.allowed:
                    yield f"{tool.name}.{spec.name}", tool, spec


@pytest.mark.parametrize(("label", "tool", "spec"), list(_tool_enums()), ids=[t[0] for t in _tool_enums()])
def test_a_tool_field_allows_exactly_the_documented_values(label, tool, spec):
    route = documented_route(ApiRequest("POST", tool.path))
    documented = _enum_of(route, spec.name)
    allowed = set(spec.allowed) - set(tool.option_routes)
    if documented is None and (tool.path, spec.name) in PROSE_ENUMS:
        values, source = PROSE_ENUMS[tool.path, spec.name]
        assert allowed == set(values), source
        return
    if documented is None:
        values, source = EXAMPLE_VALUES[tool.path, spec.name]
        assert allowed >= set(values), f"{label}: the documented examples must be accepted ({source})"
        return
    assert allowed == documented, f"{label}: provider {sorted(allowed)} vs documented {sorted(documented)}"


def _row_enums() -> Iterator[tuple[str, Any, RouteField]]:
    """Yield every field of every operator route's row that has allowed values."""
    rows = {id(cls.route): cls.route for cls in submitting_operators()}
    for row in sorted(rows.values(), key=str):
        for spec in row.fields:
            if spec.allowed:
                yield f"{row}.{spec.name}", row, spec


ROW_ENUMS = list(_row_enums())


@pytest.mark.parametrize(("label", "row", "spec"), ROW_ENUMS, ids=[label for label, _, _ in ROW_ENUMS])
def test_a_route_field_allows_exactly_the_documented_values(label, row, spec):
    """Each row's allowed values are the documents' (the rows are the one place the operators read them)."""
    req = ApiRequest(row.method, row.path.replace("{job_id}", "x1"))
    route = documented_route(req)
    documented = _enum_of(route, spec.name)
    if documented is None and route.template.startswith("/batch"):
        # batch.txt gives no values: a batch makes one media per image with shared settings, so the values are
        # POST /media's (docs/api-contract.md)
        media_field = media.CREATE.field(spec.name)
        assert media_field is not None and set(spec.allowed) == set(media_field.allowed), label
        return
    if documented is None:
        values, source = PROSE_ENUMS[route.template, spec.name]
        assert set(spec.allowed) == set(values), f"{label}: {source}"
        return
    assert set(spec.allowed) == documented, f"{label}: provider {sorted(map(str, spec.allowed))} vs documented"


def test_fields_free_text_in_the_schema_are_not_restricted_by_the_provider():
    """``language`` and ``scene_count`` of POST /story, ``aspect_ratio`` of the image steps: any value goes."""
    create = documented_route(ApiRequest("POST", "/story"))
    assert _enum_of(create, "language") is None and "maximum" not in create.schema["properties"]["scene_count"]
    assert not (story.STORYBOARD.field("language") or RouteField("language")).allowed
    for step in ("elements", "scenes"):
        route = documented_route(ApiRequest("POST", f"/story/s/{step}"))
        assert _enum_of(route, "aspect_ratio") is None
    idea = documented_route(ApiRequest("POST", "/story/idea-2-video"))
    assert "maximum" not in idea.schema["properties"]["scene_count"], "no maximum: it varies by subscription plan"


# ---------------------------------------------------------------------- refused before any request


REFUSED = [
    (VimmerseToolOperator, {"tool": "image/text-2-image", "prompt": "p", "option": "Flux1"}, "option"),
    (VimmerseToolOperator, {"tool": "image/text-2-image", "prompt": "p", "option": "Flux1.1Pro"}, "option"),
    (VimmerseToolOperator, {"tool": "image/text-2-image", "prompt": "p", "option": "Flux1.1ProUltra"}, "option"),
    (
        VimmerseToolOperator,
        {"tool": "image/image-2-image", "image_url": url("image"), "prompt": "p", "option": "Restyle"},
        "option",
    ),
    (
        VimmerseToolOperator,
        {"tool": "image/image-2-image", "image_url": url("image"), "prompt": "p", "option": "ReplaceWith"},
        "option",
    ),
    (
        VimmerseToolOperator,
        {"tool": "image/image-2-image", "image_url": url("image"), "prompt": "p", "option": "RecolorTo"},
        "option",
    ),
    (
        VimmerseToolOperator,
        {"tool": "image/edit-image", "image_url": url("image"), "option": "RemoveText", "image2_url": url("image")},
        "image2_url",
    ),
    (VimmerseToolOperator, {"tool": "image/reimagine", "image_url": url("image")}, "image_url"),
    (VimmerseCreateBatchOperator, {"image_urls": [url("image")], "is_transition": True}, "is_transition"),
    (VimmerseCreateBatchOperator, {"image_urls": [url("image")], "is_transition": False}, "is_transition"),
    (story_operators.VimmerseIdeaToVideoOperator, {"idea": IDEA, "seed": 4669}, "seed"),
    (story_operators.VimmerseIdeaToVideoOperator, {"idea": IDEA, "language": "Portuguese"}, "language"),
    (story_operators.VimmerseIdeaToVideoOperator, {"idea": IDEA, "scene_count": 0}, "scene_count"),
    (story_operators.VimmerseCreateStoryboardOperator, {"idea": IDEA, "aspect_ratio": "21:9"}, "aspect_ratio"),
    (story_operators.VimmerseUrlToVideoOperator, {"idea": IDEA}, "idea"),
    *[
        (story_operators.VimmerseImagesToVideoOperator, {"image_urls": [url("image")], field: value}, field)
        for field, value in {"scene_count": 3, "image_tool": "Seedream", "elements": ELEMENTS, "seed": 1}.items()
    ],
    (story_operators.VimmerseImagesToVideoOperator, {"image_urls": []}, "image_urls"),
    (story_operators.VimmerseUpdateStoryOperator, {"story_id": "s-1", "visibility_status": "3"}, "visibility_status"),
    (VimmerseCreateMediaOperator, {"prompt": "p", "motion_type": "Parallax"}, "motion_type"),
    *[
        (VimmerseVideoOperator, {"tool": name, "max_credits": 10, **minimal_inputs(tool, {})}, "max_credits")
        for name, tool in VIDEO_TOOLS.items()
        if not tool.can_estimate
    ],
]


@pytest.mark.parametrize(("factory", "kwargs", "field"), REFUSED, ids=[f"{f.__name__}-{k}" for f, k, _ in REFUSED])
def test_input_the_documents_refuse_is_refused_before_any_request(factory, kwargs, field):
    with pytest.raises(VimmerseInputError) as error:
        capture(factory(task_id="refused", **kwargs))
    assert error.value.field == field
    assert f"'{field}'" in str(error.value)


def test_the_credit_guard_is_only_offered_where_the_documents_say_how_to_price():
    estimable = {name for name, tool in VIDEO_TOOLS.items() if tool.can_estimate}
    # avatars/lip-sync would be priced by an option no document lists; video-to-video's price depends on a
    # length neither its route nor the estimate can be told (docs/api-contract.md, "Credit estimate")
    assert estimable == {"lip-sync", "video-effects", "reference-to-video"}
    with pytest.raises(VimmerseInputError, match="no credit guard") as error:
        VimmerseVideoOperator(task_id="enhance", tool="enhance", video_url=url("video"), max_credits=25)
    assert "video-v2.txt, Estimate Credits" in str(error.value)


def test_background_options_of_edit_image_go_to_the_replace_background_route():
    for option in ("RemoveBackground", "ReplaceBackground", "RestyleBackground"):
        operator = VimmerseToolOperator(
            task_id="bg", tool="image/edit-image", image_url=url("image"), image2_url=url("image"), option=option
        )
        [req] = capture(operator)
        assert req.path == "/image/replace-background"
        assert dict(req.form or ())["option"] == option


# ---------------------------------------------------------------------- the check itself has teeth


WRONG = [
    ApiRequest("POST", "/batch", form=[("image_urls", url("image")), ("is_transition", "true")]),
    ApiRequest("POST", "/image/text-2-image", form=[("prompt", "p"), ("option", "Flux1")]),
    ApiRequest("POST", "/image/edit-image", form=[("image_url", url("image")), ("image2_url", url("image"))]),
    ApiRequest("POST", "/v2/video/estimate-credits", json={"app_name": "enhance", "option": "4X"}),
    ApiRequest("POST", "/media", form=[("prompt", "p"), ("audio_option", "narrator=Aria")]),
    ApiRequest("POST", "/media", form=[("prompt", "p"), ("quantity", "5")]),
    ApiRequest("POST", "/media", form=[("prompt", "p"), ("prompt", "q")]),
    ApiRequest("POST", "/story/s/scenes", json={"option": "Seedream"}),
    ApiRequest("POST", "/story/idea-2-video", form=[("idea", IDEA)]),
    ApiRequest("POST", "/story/idea-2-video", json={"idea": IDEA, "seed": 1}),
    ApiRequest("POST", "/story/images-2-video", json={"image_urls": []}),
    ApiRequest("POST", "/story/images-2-video", json={"image_urls": [url("image")], "scene_count": 2}),
    ApiRequest("POST", "/story/url-2-video", form=[("idea", IDEA)]),
    ApiRequest("PUT", "/story/s", form=[("visibility_status", "public")]),
    ApiRequest("POST", "/v2/video/enhance", json={"video_url": url("video"), "enhance_mode": "16X"}),
]


@pytest.mark.parametrize("req", WRONG, ids=[f"{r.path}-{r.form or r.json}" for r in WRONG])
def test_the_check_catches_requests_the_documents_refuse(req):
    problems = check_request(req, documented_route(req))
    assert problems, f"{req.describe()} passed the check"
