"""In-memory state of the Vimmerse sandbox: settings, jobs, credits, ledger, fault rules and webhooks.

Nothing here imports FastAPI: this module holds the rules, :mod:`~airflow_provider_vimmerse.sandbox.routes`
only translates HTTP to calls on :class:`SandboxState`.

Job timing
    A job's status is computed from the time elapsed since it was (re)submitted; no task runs per job.
    Every (re)submission is a *run*; a job keeps all its runs, so the object can show its history.

    - Media: ``queue_bullet`` for the first 15 % of ``job_seconds``, then ``processing_bullet`` with a rising
      ``progress_percentage``, then the outcome (``success``, ``fail`` or ``cancel``). Each successful run adds
      one ``video_history`` entry and raises ``bullet_version`` by one.
    - Stale window: after a regenerating edit, a process or a concat, every read shows exactly what it showed
      before the request for ``stale_success_seconds``; only then does the new run show. The documents never
      say the status leaves ``success`` at once, so the sandbox does the least convenient thing.
    - Batch and story: one child media per image (batch) or per storyboard scene (story). The children finish
      one after another, the last one after ``job_seconds``. The group is ``new`` while every child is
      queued, ``processing`` while any child runs, then ``success`` when at least one child succeeded, else
      ``fail``. A story stays ``new`` until its videos are requested (``idea-2-video`` does that at once).
    - Composition: once a group run succeeded, and after a concat, the status stays ``success`` while
      ``video_url`` is empty for ``compose_seconds``; then a new, versioned ``video_url`` appears.
    - Asset (v2 video tools): ``processing``, then ``success`` or ``fail``. ``async_mode: false`` and uploads
      are finished when created.

Outcome markers
    Put one in a prompt, title, description, idea or (v2 tools) any string argument:
    ``[sandbox:fail]``, ``[sandbox:cancel]`` (media; a group whose children are cancelled fails),
    ``[sandbox:never]`` (keeps running, progress stops at 99) and ``[sandbox:partial]`` (batch and story:
    the first child media fails, the others succeed, the group succeeds). Without a marker a job ends as
    ``settings.default_outcome``, or never ends when ``settings.jobs_never_finish`` is set.

Credit rule
    - ``POST /media``, ``PUT /media/{id}[/edit]`` with a regeneration field, ``POST /media/{id}/process``:
      ``quantity * duration``.
    - ``POST /batch`` and ``PUT /batch/{id}/edit`` with a regeneration field:
      ``images * quantity * duration``.
    - Story: ``POST /story`` 1, ``/elements`` 2, ``/scenes`` 2, ``/videos`` ``scenes * duration``;
      ``POST /story/idea-2-video`` the sum of the four (``1 + 2 + 2 + scene_count * scene_duration``).
    - ``POST /batch/{id}/concat`` and ``POST /story/{id}/concat``: 1.
    - v2 video tools: the tool's unit price (:data:`V2_TOOLS`) ``* quantity *`` the number of started
      5-second blocks of ``duration`` (one block without a duration). Upload is free.
      ``POST /v2/video/estimate-credits`` uses the same function.
    - Legacy image and audio tools (:data:`LEGACY_TOOLS`): the same rule with their unit price;
      ``text/prompt`` and the uploads (``POST /image``, ``POST /audio``) are free.

    A request that cannot pay answers 402 and creates or changes nothing.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from airflow_provider_vimmerse.sandbox.faults import FaultRule

DEFAULT_API_KEY = "sandbox-test-key"
OUTCOMES = ("success", "fail", "cancel", "never")

# Statuses as the API spells them.
MEDIA_QUEUED = "queue_bullet"
MEDIA_PROCESSING = "processing_bullet"
NEW = "new"
PROCESSING = "processing"
SUCCESS = "success"
FAIL = "fail"
CANCEL = "cancel"
MEDIA_TERMINAL = (SUCCESS, FAIL, CANCEL)

QUEUE_FRACTION = 0.15
STORY_STEP_PROGRESS = {"storyboard": 0, "elements": 10, "scenes": 20}

MARKERS = (
    ("[sandbox:fail]", "fail"),
    ("[sandbox:cancel]", "cancel"),
    ("[sandbox:never]", "never"),
    ("[sandbox:partial]", "partial"),
)

MEDIA_REGEN_FIELDS = (
    "prompt",
    "motion_type",
    "quantity",
    "duration",
    "loop",
    "camera_control",
    "aspect_ratio",
    "audio_option",
    "media_items",
    "model",
)
BATCH_REGEN_FIELDS = (
    "prompt",
    "motion_type",
    "quantity",
    "duration",
    "loop",
    "aspect_ratio",
    "sound_effects",
)

STORY_CREATE_CREDITS = 1
STORY_ELEMENTS_CREDITS = 2
STORY_SCENES_CREDITS = 2
CONCAT_CREDITS = 1

# Prices: no document gives them (openapi.json and media.txt only say which requests spend credits), so every
# number below is the sandbox's own; docs/sandbox.md "Where the documents are silent".
# v2 tool route -> (app_name on the asset, unit credits); app names from video-v2.txt "Estimate Credits".
# Estimate-only app names are in ESTIMATE_ONLY_APPS.
V2_TOOLS: dict[str, tuple[str, int]] = {
    "crop-to-aspect-ratio": ("crop-to-aspect-ratio", 1),
    "reframe": ("reframe", 5),
    "enhance": ("enhance", 5),
    "sound-effect": ("sound-effect", 2),
    "avatars/lip-sync": ("avatar-lip-sync", 5),
    "lip-sync": ("lip-sync", 5),
    "video-effects": ("video-effects", 5),
    "replace-background": ("replace-background-video", 3),
    "reference-to-video": ("reference-to-video", 10),
    "video-to-video": ("video-to-video", 10),
    "audio": ("audio", 1),
}
UPLOAD_APP_NAME = "upload-video"
# Legacy tool route -> (app_name on the asset, unit credits, MIME type of the outputs). The asset's mime_type
# is spelled as platform-api-v1-legacy.txt shows it ("audio/mp3"); openapi.json shows only "MIMETYPE".
LEGACY_TOOLS: dict[str, tuple[str, int, str]] = {
    "/image/text-2-image": ("text-2-image", 1, "image/png"),
    "/image/image-2-image": ("image-2-image", 1, "image/png"),
    "/image/reimagine": ("reimagine", 1, "image/png"),
    "/image/edit-image": ("edit-image", 1, "image/png"),
    "/audio/text-2-speech": ("text-2-speech", 1, "audio/mp3"),
    "/audio/text-2-sound-effect": ("text-2-sound-effect", 1, "audio/mp3"),
}
# Upload route -> (app_name on the asset, MIME type of the hosted file).
LEGACY_UPLOADS: dict[str, tuple[str, str]] = {
    "/image": ("upload-image", "image/png"),
    "/audio": ("upload-audio", "audio/mp3"),
}
ESTIMATE_ONLY_APPS = {"edit-video": 5, "text-image-to-video": 10, "try-on": 5, UPLOAD_APP_NAME: 0}


class InsufficientCreditError(Exception):
    """Raised when the credit balance cannot pay for a request."""


def media_cost(quantity: int, duration: int) -> int:
    """Return the credits of one media generation.

    :param quantity: number of video variations.
    :param duration: video length in seconds.
    """
    return quantity * duration


def batch_cost(images: int, quantity: int, duration: int) -> int:
    """Return the credits of a batch generation (one media per image).

    :param images: number of images in the batch.
    :param quantity: number of variations per image.
    :param duration: video length in seconds.
    """
    return images * media_cost(quantity, duration)


def story_videos_cost(scenes: int, duration: int) -> int:
    """Return the credits of the story videos step (one media per scene).

    :param scenes: number of storyboard scenes.
    :param duration: scene length in seconds.
    """
    return scenes * duration


def idea_to_video_cost(scene_count: int, scene_duration: int) -> int:
    """Return the credits of the one-step story: storyboard, elements, scenes and videos.

    :param scene_count: number of scenes.
    :param scene_duration: scene length in seconds.
    """
    steps = STORY_CREATE_CREDITS + STORY_ELEMENTS_CREDITS + STORY_SCENES_CREDITS
    return steps + story_videos_cost(scene_count, scene_duration)


def app_unit_credits(app_name: str) -> int | None:
    """Return the unit credits of a v2 app (or tool route) name, or None when it is unknown.

    :param app_name: an asset ``app_name`` such as ``reference-to-video``, or a tool route name.
    """
    for tool, (name, unit) in V2_TOOLS.items():
        if app_name in (tool, name):
            return unit
    return ESTIMATE_ONLY_APPS.get(app_name)


def tool_credits(unit: int, quantity: int = 1, duration: float | None = None) -> tuple[int, dict[str, Any]]:
    """Return the credits of a v2 video request and the breakdown behind the number.

    :param unit: unit credits of the tool.
    :param quantity: number of outputs.
    :param duration: requested length in seconds, billed in started 5-second blocks.
    """
    blocks = max(1, math.ceil(duration / 5)) if duration else 1
    total = unit * quantity * blocks
    return total, {"unit_credits": unit, "quantity": quantity, "duration_blocks": blocks}


def _choice(default: str, choices: tuple[str, ...], source: str) -> Any:
    # A setting with a fixed set of values; ``source`` names the documents behind each value.
    return field(default=default, metadata={"choices": choices, "help": source})


@dataclass
class SandboxSettings:
    """Settings of a sandbox; every field can be changed at run time with ``POST /_sandbox/config``.

    A field with ``choices`` in its metadata picks one of several documented answers (see ``docs/sandbox.md``,
    "Where the documents disagree"); the CLI builds its flags from the same metadata.
    """

    api_keys: list[str] = field(default_factory=lambda: [DEFAULT_API_KEY])
    job_seconds: float = 3.0
    credits: int = 1000
    seed: int = 0
    customer_id: str = "sandbox-customer"
    default_outcome: str = field(default="success", metadata={"choices": OUTCOMES})
    jobs_never_finish: bool = False
    stale_success_seconds: float = field(
        default=2.0, metadata={"help": "seconds a job still shows its old state after a rerun or concat"}
    )
    compose_seconds: float = field(
        default=3.0, metadata={"help": "seconds a batch or story stays success with an empty video_url"}
    )
    media_outputs: str = _choice(
        "download",
        ("download", "result"),
        "where a finished media's video is: only GET /media/{id}/download (openapi.json examples: result []), "
        "or also result [{url}] (media.txt 'Get Media' example code)",
    )
    status_progress: str = _choice(
        "string",
        ("string", "integer", "mixed"),
        "progress_percentage of GET /media/{id}/processing-status: a string (openapi.json example '100'), "
        "an integer (its field table), or integers while running and '100' on success",
    )
    media_get_wrapping: str = _choice(
        "twice",
        ("twice", "once"),
        "GET /media/{id}: {data: {data: media}} (openapi.json example) or {data: media} (media.txt example code)",
    )
    story_wrapping: str = _choice(
        "once",
        ("once", "twice"),
        "GET /story/{id}, POST /story/{id}/videos and /story/idea-2-video: {data: story} (story.txt, openapi.json)"
        " or {data: {data: story}} (platform-api-v1-legacy.txt)",
    )
    concat_answer: str = _choice(
        "empty",
        ("empty", "bare", "wrapped"),
        "POST /batch|story/{id}/concat: {} (batch.txt, openapi.json), the bare object "
        "(platform-api-v1-legacy.txt) or {data: object} (openapi.json story concat example code)",
    )
    audio_answer: str = _choice(
        "asset",
        ("asset", "url_list", "legacy"),
        "POST /audio/text-2-speech and text-2-sound-effect: {data: asset} (openapi.json examples), "
        "{data: [{URL, thumbnail_url}]} (openapi.json descriptions) or {data: asset without results} "
        "(platform-api-v1-legacy.txt)",
    )
    group_is_transition: str = _choice(
        "string",
        ("string", "boolean"),
        "is_transition of batches and stories: 'No'/'Yes' (batch.txt, story.txt) or false/true "
        "(openapi.json story examples, Batch schema)",
    )
    story_step_status: str = _choice(
        "new",
        ("new", "processing"),
        "status of a story after /elements and /scenes: new (story.txt) or processing (openapi.json examples)",
    )
    asset_get_wrapping: str = _choice(
        "bare",
        ("bare", "once"),
        "GET /asset/{id}: the bare asset (like the v2 routes, video-v2.txt) or {data: asset} (like the "
        "legacy tools); the documents show no example",
    )
    error_code_field: bool = field(
        default=False, metadata={"help": "add a 'code' next to 'message' in error bodies (README.md only)"}
    )

    def validate(self) -> None:
        """Check every field.

        :raises ValueError: when a field has an invalid value.
        """
        if not isinstance(self.api_keys, list) or not all(isinstance(k, str) and k for k in self.api_keys):
            raise ValueError("api_keys must be a list of non-empty strings")
        for name in ("job_seconds", "stale_success_seconds", "compose_seconds"):
            value = getattr(self, name)
            if not _is_number(value) or value < 0:
                raise ValueError(f"{name} must be a number >= 0")
        if not isinstance(self.credits, int) or isinstance(self.credits, bool) or self.credits < 0:
            raise ValueError("credits must be an integer >= 0")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ValueError("seed must be an integer")
        if not isinstance(self.customer_id, str):
            raise ValueError("customer_id must be a string")
        for name in ("jobs_never_finish", "error_code_field"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be a boolean")
        for name, choices in setting_choices().items():
            if getattr(self, name) not in choices:
                raise ValueError(f"{name} must be one of {', '.join(choices)}")

    def updated(self, **changes: Any) -> SandboxSettings:
        """Return a validated copy with some fields changed.

        :param changes: field names and their new values.
        :raises ValueError: when a field is unknown or a value is invalid.
        """
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(unknown)}")
        new = dataclasses.replace(copy.deepcopy(self), **changes)
        new.validate()
        return new

    def public_dict(self) -> dict[str, Any]:
        """Return the settings as JSON-ready data, with the number of API keys instead of their values."""
        data = dataclasses.asdict(self)
        data["api_keys"] = f"<{len(self.api_keys)} key(s) hidden>"
        return data


def setting_choices() -> dict[str, tuple[str, ...]]:
    """Return the settings that take one of a fixed set of values, with those values."""
    return {f.name: f.metadata["choices"] for f in dataclasses.fields(SandboxSettings) if "choices" in f.metadata}


@dataclass
class MediaRun:
    """One generation run of a media: when it was asked for, when it shows, how it ends."""

    number: int
    requested_at: float
    shown_at: float
    run_seconds: float
    outcome: str
    message: str
    generation: dict[str, Any]

    def status_at(self, now: float) -> tuple[str, int]:
        """Return the processing status and progress of this run at a given time.

        :param now: the time to look at.
        """
        fraction = _fraction(self.shown_at, self.run_seconds, now)
        if fraction < 1.0 or self.outcome == "never":
            status = MEDIA_QUEUED if fraction < QUEUE_FRACTION else MEDIA_PROCESSING
            return status, min(99, int(fraction * 100))
        if self.outcome in (FAIL, CANCEL):
            return self.outcome, 99
        return SUCCESS, 100

    @property
    def ends_at(self) -> float:
        """Return when the run reaches its outcome (meaningless for ``never``)."""
        return self.shown_at + self.run_seconds


@dataclass
class MediaJob:
    """A media (one generated video, ``quantity`` variations) and all its generation runs."""

    id: str
    created_at: float
    updated_at: float
    generation: dict[str, Any]
    runs: list[MediaRun] = field(default_factory=list)
    title: str = ""
    description: str = ""
    rating: str = ""
    visibility_status: str = "1"
    webhook_url: str = ""
    batch_id: str = ""
    notified_run: int = 0

    @property
    def run(self) -> int:
        """Return the number of the latest run."""
        return len(self.runs)

    @property
    def outcome(self) -> str:
        """Return the planned outcome of the latest run."""
        return self.runs[-1].outcome


@dataclass
class MediaState:
    """What a media shows at one moment: the visible run, its status, and the successful runs so far."""

    status: str
    progress: int
    run: MediaRun
    history: list[MediaRun]
    updated_at: float
    finished_at: float | None


@dataclass
class GroupRun:
    """One run of a batch or story: a generation of its child media, or a new composition (concat)."""

    number: int
    kind: str
    requested_at: float
    shown_at: float
    media_ids: list[str]
    compose_seconds: float
    video_name: str


@dataclass
class GroupJob:
    """A batch or a story: a group of child media composed into one video."""

    kind: str
    id: str
    created_at: float
    updated_at: float
    outcome: str
    message: str
    generation: dict[str, Any]
    title: str = ""
    description: str = ""
    visibility_status: str = "1"
    webhook_url: str = ""
    items: list[str] = field(default_factory=list)
    media_ids: list[str] = field(default_factory=list)
    runs: list[GroupRun] = field(default_factory=list)
    used_credits: int = 0
    notified_run: int = 0
    idea: str = ""
    storyboard: dict[str, Any] = field(default_factory=dict)
    step: str = ""

    @property
    def run(self) -> int:
        """Return the number of the latest run (0 before the first)."""
        return len(self.runs)


@dataclass
class GroupState:
    """What a batch or story shows at one moment."""

    status: str
    progress: int
    video_name: str
    finished: list[str]
    failed: list[str]
    media_ids: list[str]
    generation_number: int
    updated_at: float


@dataclass
class AssetJob:
    """An asset made by a v2 video tool or an upload."""

    id: str
    created_at: float
    started_at: float
    run_seconds: float
    outcome: str
    message: str
    app_name: str
    args: dict[str, Any]
    result_count: int = 1
    webhook_url: str = ""
    run: int = 1
    notified_run: int = 0
    mime_type: str = "video/mp4"


@dataclass
class WebhookCall:
    """A webhook that is due: where to POST which payload."""

    kind: str
    job_id: str
    url: str
    payload: dict[str, Any]


class SandboxState:
    """Everything the sandbox remembers; safe to share between the server thread and a test thread.

    :param settings: the settings the sandbox starts with (and returns to on :meth:`reset`).
    """

    def __init__(self, settings: SandboxSettings | None = None) -> None:
        start = copy.deepcopy(settings) if settings is not None else SandboxSettings()
        start.validate()
        self.start_settings = start
        self.lock = threading.RLock()
        self.clock: Callable[[], float] = time.time
        self.settings = copy.deepcopy(start)
        self.balance = start.credits
        self.rng = random.Random(start.seed)
        self.media: dict[str, MediaJob] = {}
        self.groups: dict[str, GroupJob] = {}
        self.assets: dict[str, AssetJob] = {}
        self.ledger: list[dict[str, Any]] = []
        self.faults: list[FaultRule] = []
        self.webhooks: list[dict[str, Any]] = []
        self._next_fault_id = 1

    # Settings, auth and credits

    def reset(self) -> None:
        """Forget jobs, ledger, faults and webhooks; restore the start settings and credits."""
        with self.lock:
            self.settings = copy.deepcopy(self.start_settings)
            self.balance = self.settings.credits
            self.rng = random.Random(self.settings.seed)
            self.media.clear()
            self.groups.clear()
            self.assets.clear()
            self.ledger.clear()
            self.faults.clear()
            self.webhooks.clear()
            self._next_fault_id = 1

    def configure(self, **changes: Any) -> None:
        """Change settings; ``credits`` also sets the balance and ``seed`` reseeds the fault draws.

        :param changes: :class:`SandboxSettings` field names and values.
        :raises ValueError: when a field is unknown or a value is invalid.
        """
        with self.lock:
            new = self.settings.updated(**changes)
            if "credits" in changes:
                self.balance = new.credits
            if "seed" in changes:
                self.rng = random.Random(new.seed)
            self.settings = new

    def is_authorized(self, api_key: str | None) -> bool:
        """Tell whether a request with this ``X-Api-Key`` value is accepted.

        :param api_key: the header value, or None when the header is missing.
        """
        return api_key is not None and api_key in self.settings.api_keys

    def try_charge(self, credits: int) -> bool:
        """Take credits from the balance if it can pay; return whether it could.

        :param credits: the price of the request.
        """
        with self.lock:
            if credits > self.balance:
                return False
            self.balance -= credits
            return True

    def scrub(self, text: str) -> str:
        """Replace any accepted API key inside a text with ``***`` so it never reaches the ledger.

        :param text: a value taken from a request.
        """
        for key in {*self.settings.api_keys, *self.start_settings.api_keys}:
            text = text.replace(key, "***")
        return text

    # Faults and ledger

    def add_fault(self, data: dict[str, Any]) -> FaultRule:
        """Add a fault rule.

        :param data: the rule fields (see :mod:`~airflow_provider_vimmerse.sandbox.faults`).
        :raises ValueError: when the rule is invalid.
        """
        with self.lock:
            rule = FaultRule.from_dict(data, rule_id=self._next_fault_id)
            self._next_fault_id += 1
            self.faults.append(rule)
            return rule

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        with self.lock:
            self.faults.clear()

    def take_fault(self, method: str, path: str) -> FaultRule | None:
        """Return the fault rule to apply to a request and count it as used, or None.

        Probabilities are drawn from ``random.Random(settings.seed)``, so a run is repeatable.

        :param method: the HTTP method of the request.
        :param path: the URL path of the request.
        """
        with self.lock:
            for rule in self.faults:
                if not rule.matches(method, path):
                    continue
                if rule.probability < 1.0 and self.rng.random() >= rule.probability:
                    continue
                rule.applied += 1
                return rule
            return None

    def record_request(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Append one API request to the ledger, numbering it and scrubbing API keys from its text fields.

        :param entry: method, path, query, status, fault, authorized, user_agent, job_id, created, credits.
        """
        with self.lock:
            record = {"seq": len(self.ledger) + 1, "time": _iso(self.clock()), **entry}
            for name in ("path", "query", "user_agent"):
                if isinstance(record.get(name), str):
                    record[name] = self.scrub(record[name])
            self.ledger.append(record)
            return record

    # Outcomes

    def resolve_outcome(self, text: str, group: bool = False) -> tuple[str, str]:
        """Return the outcome of a new run and the failure message that goes with it.

        :param text: the prompt, title, idea... that may hold a ``[sandbox:...]`` marker.
        :param group: whether the job is a batch or a story (only those understand ``partial``).
        """
        for marker, outcome in MARKERS:
            if marker in text and (group or outcome != "partial"):
                return outcome, _failure_message(outcome, "requested by marker")
        if self.settings.jobs_never_finish:
            return "never", ""
        outcome = self.settings.default_outcome
        return outcome, _failure_message(outcome, "default_outcome setting")

    # Media

    def create_media(
        self,
        generation: dict[str, Any],
        metadata: dict[str, Any],
        batch_id: str = "",
        outcome: tuple[str, str] | None = None,
        run_seconds: float | None = None,
    ) -> MediaJob:
        """Create a media job whose first run starts now.

        :param generation: the generation fields (prompt, motion_type, quantity, duration, ..., images).
        :param metadata: title, description, visibility_status, webhook_url.
        :param batch_id: the batch or story the media belongs to.
        :param outcome: a forced outcome and message (children of a group); else read from the text.
        :param run_seconds: how long the run takes; default ``settings.job_seconds``.
        """
        with self.lock:
            now = self.clock()
            job = MediaJob(
                id=_new_id(),
                created_at=now,
                updated_at=now,
                generation=dict(generation),
                title=metadata.get("title") or "",
                description=metadata.get("description") or "",
                rating=metadata.get("rating") or "",
                visibility_status=metadata.get("visibility_status") or "1",
                webhook_url=metadata.get("webhook_url") or "",
                batch_id=batch_id,
            )
            self._add_media_run(job, now, now, outcome, run_seconds)
            self.media[job.id] = job
            return job

    def restart_media(
        self,
        job: MediaJob,
        changes: dict[str, Any] | None = None,
        outcome: tuple[str, str] | None = None,
        run_seconds: float | None = None,
    ) -> None:
        """Start a new run of a media (regeneration or process); it shows after the stale window.

        :param job: the media.
        :param changes: generation fields to change first.
        :param outcome: a forced outcome and message; else read from the text.
        :param run_seconds: how long the run takes; default ``settings.job_seconds``.
        """
        with self.lock:
            now = self.clock()
            job.generation.update(changes or {})
            self._add_media_run(job, now, now + self.settings.stale_success_seconds, outcome, run_seconds)

    def _add_media_run(
        self,
        job: MediaJob,
        requested_at: float,
        shown_at: float,
        outcome: tuple[str, str] | None,
        run_seconds: float | None,
    ) -> None:
        text = f"{job.title} {job.description} {job.generation['prompt']}"
        chosen, message = outcome or self.resolve_outcome(text)
        run = MediaRun(
            number=len(job.runs) + 1,
            requested_at=requested_at,
            shown_at=shown_at,
            run_seconds=self.settings.job_seconds if run_seconds is None else run_seconds,
            outcome=chosen,
            message=message,
            generation=copy.deepcopy(job.generation),
        )
        job.runs.append(run)

    def update_metadata(self, job: MediaJob | GroupJob, metadata: dict[str, Any]) -> None:
        """Change fields that do not regenerate anything (title, description, rating, ...).

        :param job: the media, batch or story.
        :param metadata: field names and new values.
        """
        with self.lock:
            for name, value in metadata.items():
                setattr(job, name, value)
            job.updated_at = self.clock()

    def media_state(self, job: MediaJob, now: float | None = None) -> MediaState:
        """Return what a media shows at a given time.

        The visible run is the latest one whose stale window is over; while a newer run waits for its window,
        the visible run is frozen at the moment the newer one was requested.

        :param job: the media.
        :param now: the time to look at; default now.
        """
        now = self.clock() if now is None else now
        with self.lock:
            runs = list(job.runs)
        visible = max(index for index, run in enumerate(runs) if run.shown_at <= now or index == 0)
        history: list[MediaRun] = []
        status, progress = MEDIA_QUEUED, 0
        for index in range(visible + 1):
            seen_until = min(now, runs[index + 1].requested_at) if index + 1 < len(runs) else now
            status, progress = runs[index].status_at(seen_until)
            if status == SUCCESS:
                history.append(runs[index])
        run = runs[visible]
        finished_at = run.ends_at if status in MEDIA_TERMINAL else None
        updated_at = max(job.updated_at, finished_at if finished_at is not None else run.shown_at)
        return MediaState(status, progress, run, history, updated_at, finished_at)

    def media_status(self, job: MediaJob, now: float | None = None) -> tuple[str, int]:
        """Return the processing status and progress a media shows at a given time.

        :param job: the media.
        :param now: the time to look at; default now.
        """
        state = self.media_state(job, now)
        return state.status, state.progress

    # Batches and stories

    def create_group(
        self,
        kind: str,
        generation: dict[str, Any],
        metadata: dict[str, Any],
        items: list[str],
        idea: str = "",
        storyboard: dict[str, Any] | None = None,
        used_credits: int = 0,
    ) -> GroupJob:
        """Create a batch or a story (not started; see :meth:`start_group`).

        :param kind: ``batch`` or ``story``.
        :param generation: the shared generation fields of the child media.
        :param metadata: title, description, visibility_status, webhook_url.
        :param items: the images (batch) of the group.
        :param idea: the story idea.
        :param storyboard: the story's storyboard.
        :param used_credits: credits charged so far.
        """
        with self.lock:
            now = self.clock()
            job = GroupJob(
                kind=kind,
                id=_new_id(),
                created_at=now,
                updated_at=now,
                outcome=SUCCESS,
                message="",
                generation=dict(generation),
                title=metadata.get("title") or "",
                description=metadata.get("description") or "",
                visibility_status=metadata.get("visibility_status") or "1",
                webhook_url=metadata.get("webhook_url") or "",
                items=list(items),
                idea=idea,
                storyboard=storyboard or {},
                step="storyboard" if kind == "story" else "",
                used_credits=used_credits,
            )
            self.groups[job.id] = job
            return job

    def start_group(self, job: GroupJob, changes: dict[str, Any] | None = None) -> None:
        """Start a (new) generation run of a group: one child media per item, finishing one after another.

        Existing children are restarted when the number of items is unchanged; otherwise new children
        replace them. A rerun of a group that already ran shows after the stale window.

        :param job: the batch or story.
        :param changes: shared generation fields to change first.
        """
        with self.lock:
            now = self.clock()
            shown_at = now + self.settings.stale_success_seconds if job.runs else now
            job.generation.update(changes or {})
            text = f"{job.title} {job.description} {job.idea} {job.generation.get('prompt', '')}"
            job.outcome, job.message = self.resolve_outcome(text, group=True)
            count = len(job.items)
            reuse = len(job.media_ids) == count
            new_ids = []
            for index, item in enumerate(job.items):
                child_outcome = self._child_outcome(job, index)
                run_seconds = self.settings.job_seconds * (index + 1) / count
                job_generation = {**job.generation, **self._child_generation(job, index, item)}
                if reuse:
                    child = self.media[job.media_ids[index]]
                    child.generation = job_generation
                    self._add_media_run(child, now, shown_at, child_outcome, run_seconds)
                else:
                    metadata = {"title": f"{job.title} #{index + 1}".strip(), "visibility_status": "1"}
                    child = self.create_media(job_generation, metadata, job.id, child_outcome, run_seconds)
                    child.runs[-1].shown_at = shown_at
                new_ids.append(child.id)
            job.media_ids = new_ids
            generations = sum(1 for run in job.runs if run.kind == "generate") + 1
            self._add_group_run(job, "generate", now, shown_at, f"{job.id}-v{generations}.mp4")

    def start_concat(self, job: GroupJob) -> None:
        """Compose the group's videos again: after the stale window, ``video_url`` is empty for
        ``compose_seconds``, then a new, versioned one appears; the status stays ``success`` throughout.

        :param job: the batch or story.
        """
        with self.lock:
            now = self.clock()
            concats = sum(1 for run in job.runs if run.kind == "concat") + 1
            shown_at = now + self.settings.stale_success_seconds
            self._add_group_run(job, "concat", now, shown_at, f"{job.id}-concat{concats}.mp4")

    def _add_group_run(self, job: GroupJob, kind: str, requested_at: float, shown_at: float, name: str) -> None:
        run = GroupRun(
            number=len(job.runs) + 1,
            kind=kind,
            requested_at=requested_at,
            shown_at=shown_at,
            media_ids=list(job.media_ids),
            compose_seconds=self.settings.compose_seconds,
            video_name=name,
        )
        job.runs.append(run)

    def group_state(self, job: GroupJob, now: float | None = None) -> GroupState:
        """Return what a batch or story shows at a given time, derived from its runs and children.

        :param job: the batch or story.
        :param now: the time to look at; default now.
        """
        now = self.clock() if now is None else now
        with self.lock:
            runs = list(job.runs)
        if not runs:
            status = self.settings.story_step_status if job.step in ("elements", "scenes") else NEW
            progress = STORY_STEP_PROGRESS.get(job.step, 0)
            return GroupState(status, progress, "", [], [], [], 0, job.updated_at)
        visible = max(index for index, run in enumerate(runs) if run.shown_at <= now or index == 0)
        run = runs[visible]
        seen_until = min(now, runs[visible + 1].requested_at) if visible + 1 < len(runs) else now
        children = [self.media_state(self.media[media_id], seen_until) for media_id in run.media_ids]
        finished = [mid for mid, child in zip(run.media_ids, children, strict=True) if child.status == SUCCESS]
        failed = [mid for mid, child in zip(run.media_ids, children, strict=True) if child.status in (FAIL, CANCEL)]
        generation_number = sum(1 for r in runs[: visible + 1] if r.kind == "generate")
        average = sum(child.progress for child in children) // max(1, len(children))
        shown = GroupState(
            NEW, 0, "", finished, failed, run.media_ids, generation_number, max(job.updated_at, run.shown_at)
        )
        if any(child.status not in MEDIA_TERMINAL for child in children):
            all_queued = all(child.status == MEDIA_QUEUED for child in children)
            return dataclasses.replace(shown, status=NEW if all_queued else PROCESSING, progress=min(99, average))
        if not finished:
            return dataclasses.replace(shown, status=FAIL, progress=min(99, average))
        if run.kind == "concat":
            composed_at = run.shown_at + run.compose_seconds
        else:
            composed_at = max(child.finished_at or run.shown_at for child in children) + run.compose_seconds
        if seen_until < composed_at:
            return dataclasses.replace(shown, status=SUCCESS, progress=100)
        updated_at = max(shown.updated_at, composed_at)
        return dataclasses.replace(
            shown, status=SUCCESS, progress=100, video_name=run.video_name, updated_at=updated_at
        )

    def group_status(self, job: GroupJob, now: float | None = None) -> tuple[str, int]:
        """Return the status and progress a batch or story shows at a given time.

        :param job: the batch or story.
        :param now: the time to look at; default now.
        """
        state = self.group_state(job, now)
        return state.status, state.progress

    def set_storyboard(self, job: GroupJob, storyboard: dict[str, Any], step: str | None = None) -> None:
        """Replace a story's storyboard (its scenes become the items of the next videos run).

        :param job: the story.
        :param storyboard: the new storyboard.
        :param step: the advanced step reached (``storyboard``, ``elements``, ``scenes``, ``videos``).
        """
        with self.lock:
            job.storyboard = storyboard
            scenes = storyboard.get("scenes")
            count = len(scenes) if isinstance(scenes, list) else 0
            job.items = [f"scene_{number}" for number in range(1, count + 1)]
            if step is not None:
                job.step = step
            job.updated_at = self.clock()

    def _child_outcome(self, job: GroupJob, index: int) -> tuple[str, str]:
        if job.outcome == "partial":
            if index == 0:
                return FAIL, _failure_message(FAIL, "first child of a [sandbox:partial] group")
            return SUCCESS, ""
        return job.outcome, job.message

    def _child_generation(self, job: GroupJob, index: int, item: str) -> dict[str, Any]:
        if job.kind == "story":
            scenes = job.storyboard.get("scenes") or []
            scene = scenes[index] if index < len(scenes) and isinstance(scenes[index], dict) else {}
            return {"prompt": str(scene.get("description", item)), "image_urls": [], "image_files": []}
        if item.startswith(("http://", "https://")):
            return {"image_urls": [item], "image_files": []}
        return {"image_urls": [], "image_files": [item]}

    # Assets

    def create_asset(
        self,
        app_name: str,
        args: dict[str, Any],
        finished: bool,
        result_count: int = 1,
        webhook_url: str = "",
        mime_type: str = "video/mp4",
    ) -> AssetJob:
        """Create an asset job.

        :param app_name: the app name recorded on the asset.
        :param args: the request arguments (markers are read from their string values).
        :param finished: whether the asset is finished at once (``async_mode: false``, uploads).
        :param result_count: number of output URLs.
        :param webhook_url: URL to notify when the asset is finished.
        :param mime_type: MIME type of the outputs: ``video/mp4``, ``image/png``, ``audio/mp3``
            (platform-api-v1-legacy.txt spells audio ``audio/mp3``).
        """
        with self.lock:
            now = self.clock()
            text = " ".join(value for value in args.values() if isinstance(value, str))
            outcome, message = self.resolve_outcome(text)
            if outcome == CANCEL:
                outcome = FAIL
                message = _failure_message(FAIL, "cancel marker; assets cannot be cancelled")
            run_seconds = self.settings.job_seconds
            job = AssetJob(
                id=_new_id(),
                created_at=now,
                started_at=now - run_seconds if finished else now,
                run_seconds=run_seconds,
                outcome=outcome,
                message=message,
                app_name=app_name,
                args=dict(args),
                result_count=result_count,
                webhook_url=webhook_url or "",
                mime_type=mime_type,
            )
            self.assets[job.id] = job
            return job

    def asset_status(self, job: AssetJob, now: float | None = None) -> tuple[str, int]:
        """Return the status and progress of an asset at a given time.

        :param job: the asset.
        :param now: the time to look at; default now.
        """
        now = self.clock() if now is None else now
        fraction = _fraction(job.started_at, job.run_seconds, now)
        if fraction < 1.0 or job.outcome == "never":
            return PROCESSING, min(99, int(fraction * 100))
        if job.outcome == FAIL:
            return FAIL, 99
        return SUCCESS, 100

    # Webhooks

    def due_webhooks(self, now: float | None = None) -> list[WebhookCall]:
        """Return the webhooks of jobs that reached a terminal status since the last call, marking them sent.

        :param now: the time to look at; default now.
        """
        now = self.clock() if now is None else now
        customer = self.settings.customer_id
        calls = []
        with self.lock:
            for media in self.media.values():
                if media.webhook_url and media.notified_run < media.run:
                    state = self.media_state(media, now)
                    if state.run.number == media.run and state.status in MEDIA_TERMINAL:
                        media.notified_run = media.run
                        payload = {"customer_id": customer, "media_id": media.id, "status": state.status}
                        calls.append(WebhookCall("media", media.id, media.webhook_url, payload))
            for group in self.groups.values():
                if group.webhook_url and group.run > 0 and group.notified_run < group.run:
                    shown = group.runs[-1].shown_at <= now
                    status, _ = self.group_status(group, now)
                    if shown and status in (SUCCESS, FAIL):
                        group.notified_run = group.run
                        payload = {"customer_id": customer, "batch_id": group.id, "status": status}
                        calls.append(WebhookCall(group.kind, group.id, group.webhook_url, payload))
            for asset in self.assets.values():
                if asset.webhook_url and asset.notified_run < asset.run:
                    status, _ = self.asset_status(asset, now)
                    if status in (SUCCESS, FAIL):
                        asset.notified_run = asset.run
                        payload = {"customer_id": customer, "asset_id": asset.id, "status": status}
                        calls.append(WebhookCall("asset", asset.id, asset.webhook_url, payload))
        return calls

    def record_webhook(self, call: WebhookCall, status: int | None, error: str | None) -> None:
        """Remember one webhook delivery.

        :param call: the webhook that was sent.
        :param status: the HTTP status the receiver answered, or None.
        :param error: why the delivery failed, or None.
        """
        with self.lock:
            self.webhooks.append(
                {
                    "time": _iso(self.clock()),
                    "kind": call.kind,
                    "job_id": call.job_id,
                    "url": call.url,
                    "payload": call.payload,
                    "status": status,
                    "error": error,
                }
            )

    # Statistics

    def daily_statistics(self, start: date, end: date) -> list[dict[str, Any]]:
        """Return one row per day from ``start`` to ``end``: today's numbers, zeros for other days.

        :param start: first day (UTC).
        :param end: last day (UTC), not before ``start``.
        """
        today = datetime.fromtimestamp(self.clock(), tz=timezone.utc).date()
        with self.lock:
            counts = {
                "credits_used": sum(int(entry.get("credits") or 0) for entry in self.ledger),
                "media_count": len(self.media),
                "batch_count": sum(1 for g in self.groups.values() if g.kind == "batch"),
                "story_count": sum(1 for g in self.groups.values() if g.kind == "story"),
            }
        rows = []
        day = start
        while day <= end:
            numbers = counts if day == today else dict.fromkeys(counts, 0)
            rows.append({"date": day.isoformat(), **numbers})
            day += timedelta(days=1)
        return rows


def make_storyboard(idea: str, title: str, scene_count: int) -> dict[str, Any]:
    """Return a small storyboard for an idea, shaped like the API's: elements, music, title and scenes.

    :param idea: the story idea.
    :param title: the story title.
    :param scene_count: number of scenes.
    """
    scenes = [
        {
            "title": f"Scene {number}",
            "description": f"Scene {number} of {scene_count}: {idea}",
            "narrator": f"Scene {number} of the story.",
            "motion_description": "camera motion:static, camera angle:eye level",
        }
        for number in range(1, scene_count + 1)
    ]
    return {
        "characters": [{"name": "Sandbox Hero", "description": f"The main character of: {idea}"}],
        "environments": [{"name": "Sandbox Studio", "description": "A plain, evenly lit studio set."}],
        "objects": [],
        "music": {"description": "Calm background music.", "lyrics": ""},
        "title_scene": {"title": title or "Sandbox Story", "description": "The title fades in."},
        "scenes": scenes,
    }


def format_time(timestamp: float) -> str:
    """Format a Unix time the way the API does: ``2025-04-01 18:57:37.355064+00:00``.

    :param timestamp: seconds since the epoch.
    """
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat(sep=" ", timespec="microseconds")


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat()


def _fraction(started_at: float, seconds: float, now: float) -> float:
    if seconds <= 0:
        return 1.0
    return max(0.0, (now - started_at) / seconds)


def _failure_message(outcome: str, reason: str) -> str:
    if outcome == FAIL:
        return f"sandbox: generation failed ({reason})"
    if outcome == CANCEL:
        return f"sandbox: generation cancelled ({reason})"
    return ""


def _new_id() -> str:
    return str(uuid.uuid4())


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
