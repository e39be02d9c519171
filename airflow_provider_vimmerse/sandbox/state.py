"""The sandbox's settings and its in-memory store: jobs, credit balance, ledger, fault rules and webhook deliveries.

Nothing here imports FastAPI and nothing here decides *when* a job shows what: a job's runs and statuses are
:mod:`~airflow_provider_vimmerse.sandbox.timing`'s, prices :mod:`~airflow_provider_vimmerse.sandbox.pricing`'s.
Every change to the store holds :attr:`SandboxState.lock`, so the server thread and a test thread can share it.
"""

from __future__ import annotations

import copy
import dataclasses
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_vimmerse.sandbox.faults import FaultRule

if TYPE_CHECKING:
    from airflow_provider_vimmerse.sandbox.timing import GroupRun, MediaRun

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

#: Settings that pick one of several documented answers (docs/sandbox.md, "Where the documents disagree"):
#: name -> (the values, default first; what each value is and where it is documented).
VARIANTS: dict[str, tuple[tuple[str, ...], str]] = {
    "media_outputs": (
        ("download", "result"),
        "where a finished media's video is: only GET /media/{id}/download (openapi.json examples: result []), "
        "or also result [{url}] (media.txt 'Get Media' example code)",
    ),
    "status_progress": (
        ("string", "integer", "mixed"),
        "progress_percentage of GET /media/{id}/processing-status: a string (openapi.json example '100'), "
        "an integer (its field table), or integers while running and '100' on success",
    ),
    "media_get_wrapping": (
        ("twice", "once"),
        "GET /media/{id}: {data: {data: media}} (openapi.json example) or {data: media} (media.txt example code)",
    ),
    "story_wrapping": (
        ("once", "twice"),
        "GET /story/{id}, POST /story/{id}/videos and /story/idea-2-video: {data: story} (story.txt, openapi.json)"
        " or {data: {data: story}} (platform-api-v1-legacy.txt)",
    ),
    "concat_answer": (
        ("empty", "bare", "wrapped"),
        "POST /batch|story/{id}/concat: {} (batch.txt, openapi.json), the bare object "
        "(platform-api-v1-legacy.txt) or {data: object} (openapi.json story concat example code)",
    ),
    "audio_answer": (
        ("asset", "url_list", "legacy"),
        "POST /audio/text-2-speech and text-2-sound-effect: {data: asset} (openapi.json examples), "
        "{data: [{URL, thumbnail_url}]} (openapi.json descriptions) or {data: asset without results} "
        "(platform-api-v1-legacy.txt)",
    ),
    "group_is_transition": (
        ("string", "boolean"),
        "is_transition of batches and stories: 'No'/'Yes' (batch.txt, story.txt) or false/true "
        "(openapi.json story examples, Batch schema)",
    ),
    "story_step_status": (
        ("new", "processing"),
        "status of a story after /elements and /scenes: new (story.txt) or processing (openapi.json examples)",
    ),
    "batch_video_url": (
        ("composed", "never"),
        "video_url of a finished batch: composed compose_seconds after its media finish (batch.txt 'if Batch "
        "is finished, you can get composed video from video_url'), or never until POST /batch/{id}/concat "
        "(platform-api-v1-legacy.txt 'Get Batch': a success at 100 % with no video_url)",
    ),
    "variation_downloads": (
        ("numbered", "unnumbered"),
        "GET /media/{id}/download of a media made with quantity N: motion_type <type>1 to <type>N each serve one "
        "variation (platform-api-v1-legacy.txt l.213, 280, 474: motion_type=Auto1 after Quantity=2), or only the "
        "media's own motion_type serves (media.txt l.1480: motion_type=Auto); any other value is 404",
    ),
    "asset_get_wrapping": (
        ("bare", "once"),
        "GET /asset/{id}: the bare asset (like the v2 routes, video-v2.txt) or {data: asset} (like the "
        "legacy tools); the documents show no example",
    ),
}


def _setting(default: Any, help_text: str, choices: tuple[str, ...] | None = None) -> Any:
    # A setting that is also a CLI flag (``help``); ``choices`` when it takes one of a fixed set of values.
    metadata: dict[str, Any] = {"help": help_text} if choices is None else {"help": help_text, "choices": choices}
    return field(default=default, metadata=metadata)


def _variant(name: str) -> Any:
    values, source = VARIANTS[name]
    return _setting(values[0], source, values)


@dataclass
class SandboxSettings:
    """Settings of a sandbox; every field can be changed at run time with ``POST /_sandbox/config``.

    A field with ``help`` in its metadata is also a flag of the CLI; one with ``choices`` takes one of a fixed set
    of values, most of them documented answers where the documents disagree (:data:`VARIANTS`).
    """

    api_keys: list[str] = field(default_factory=lambda: [DEFAULT_API_KEY])
    job_seconds: float = _setting(3.0, "seconds a job takes from submit to its outcome")
    credits: int = _setting(1000, "credit balance")
    seed: int = _setting(0, "seed of the fault probability draws")
    customer_id: str = _setting("sandbox-customer", "customer id in objects and webhooks")
    default_outcome: str = _setting("success", "how jobs without a [sandbox:...] marker end", OUTCOMES)
    jobs_never_finish: bool = False
    stale_success_seconds: float = _setting(2.0, "seconds a job still shows its old state after a rerun or concat")
    compose_seconds: float = _setting(3.0, "seconds a batch or story stays success with an empty video_url")
    media_outputs: str = _variant("media_outputs")
    status_progress: str = _variant("status_progress")
    media_get_wrapping: str = _variant("media_get_wrapping")
    story_wrapping: str = _variant("story_wrapping")
    concat_answer: str = _variant("concat_answer")
    audio_answer: str = _variant("audio_answer")
    group_is_transition: str = _variant("group_is_transition")
    story_step_status: str = _variant("story_step_status")
    asset_get_wrapping: str = _variant("asset_get_wrapping")
    batch_video_url: str = _variant("batch_video_url")
    variation_downloads: str = _variant("variation_downloads")
    error_code_field: bool = _setting(False, "add a 'code' next to 'message' in error bodies (README.md only)")
    deliver_webhooks: bool = _setting(True, "send due webhooks (false: record each as lost and send nothing)")

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


@dataclass(kw_only=True)
class Listing:
    """How a media, batch, story or workflow is listed: what a ``PUT`` changes without regenerating anything."""

    title: str = ""
    description: str = ""
    #: ``"0"`` private, ``"1"`` unlisted, ``"2"`` public.
    visibility_status: str = "1"


@dataclass
class MediaJob(Listing):
    """A media (one generated video, ``quantity`` variations) and all its generation runs."""

    id: str
    created_at: float
    updated_at: float
    generation: dict[str, Any]
    runs: list[MediaRun] = field(default_factory=list)
    rating: str = ""
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
class GroupJob(Listing):
    """A batch or a story: a group of child media composed into one video."""

    kind: str
    id: str
    created_at: float
    updated_at: float
    outcome: str
    message: str
    generation: dict[str, Any]
    webhook_url: str = ""
    items: list[str] = field(default_factory=list)
    media_ids: list[str] = field(default_factory=list)
    runs: list[GroupRun] = field(default_factory=list)
    used_credits: int = 0
    notified_run: int = 0
    idea: str = ""
    storyboard: dict[str, Any] = field(default_factory=dict)
    step: str = ""
    #: ``PUT /story/{id}``'s ``additional_videos`` (openapi.json: "for internal use only"); kept, never shown
    additional_videos: list[str] = field(default_factory=list)

    @property
    def run(self) -> int:
        """Return the number of the latest run (0 before the first)."""
        return len(self.runs)


@dataclass
class AssetJob:
    """An asset made by a v2 video tool, a legacy tool or an upload."""

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

    @property
    def updated_at(self) -> float:
        """Return when the asset last changed: never after it was created."""
        return self.created_at


@dataclass
class WorkflowJob(Listing):
    """A workflow: a template applied to images (openapi.json tag ``Workflow``); it runs like an asset.

    ``template_id`` is shown as ``model`` and ``image_urls`` as ``images`` (openapi.json workflow example).
    """

    id: str
    created_at: float
    updated_at: float
    started_at: float
    run_seconds: float
    outcome: str
    message: str
    template_id: str
    options: dict[str, Any]
    images: list[str]
    event_id: str = "no_event"
    rating: str = ""
    delivered_at: str = ""


Job = MediaJob | GroupJob | AssetJob | WorkflowJob
#: Job kinds as the routes name them. A ``finetune`` is kept as an :class:`AssetJob` whose id is its trigger word.
JOB_KINDS = ("media", "batch", "story", "asset", "workflow", "finetune")


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
        self.workflows: dict[str, WorkflowJob] = {}
        self.finetunes: dict[str, AssetJob] = {}
        self.ledger: list[dict[str, Any]] = []
        self.faults: list[FaultRule] = []
        self.webhooks: list[dict[str, Any]] = []
        #: The fields of each POST /v2/video/estimate-credits, as given (it creates no job to keep them on)
        self.estimates: list[dict[str, Any]] = []
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
            self.workflows.clear()
            self.finetunes.clear()
            self.ledger.clear()
            self.estimates.clear()
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
            record = {"seq": len(self.ledger) + 1, "time": iso_time(self.clock()), **entry}
            for name in ("path", "query", "user_agent"):
                if isinstance(record.get(name), str):
                    record[name] = self.scrub(record[name])
            self.ledger.append(record)
            return record

    # Jobs

    def find(self, kind: str, job_id: str) -> Job | None:
        """Return the job of a kind with this id, or None.

        :param kind: one of :data:`JOB_KINDS`.
        :param job_id: the id from the request path.
        """
        if kind == "media":
            return self.media.get(job_id)
        if kind == "asset":
            return self.assets.get(job_id)
        if kind == "workflow":
            return self.workflows.get(job_id)
        if kind == "finetune":
            return self.finetunes.get(job_id)
        group = self.groups.get(job_id)
        return group if group is not None and group.kind == kind else None

    def add_group(
        self,
        kind: str,
        generation: dict[str, Any],
        metadata: dict[str, Any],
        items: list[str],
        idea: str = "",
        used_credits: int = 0,
    ) -> GroupJob:
        """Create a batch or a story (not started; see :func:`~.timing.start_group`).

        :param kind: ``batch`` or ``story``.
        :param generation: the shared generation fields of the child media.
        :param metadata: title, description, visibility_status, webhook_url.
        :param items: the images (batch) of the group.
        :param idea: the story idea.
        :param used_credits: credits charged so far.
        """
        with self.lock:
            now = self.clock()
            job = GroupJob(
                kind=kind,
                id=new_id(),
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
                step="storyboard" if kind == "story" else "",
                used_credits=used_credits,
            )
            self.groups[job.id] = job
            return job

    def delete(self, job: GroupJob | WorkflowJob) -> None:
        """Forget a story or a workflow (``DELETE /story/{id}``, ``DELETE /workflow/{id}``); a later read is a 404.

        A story's media stay (the documents do not say they go).

        :param job: the story or the workflow.
        """
        with self.lock:
            store: dict[str, Any] = self.workflows if isinstance(job, WorkflowJob) else self.groups
            store.pop(job.id, None)

    def update_metadata(self, job: MediaJob | GroupJob | WorkflowJob, metadata: dict[str, Any]) -> None:
        """Change fields that do not regenerate anything (title, description, rating, ...).

        :param job: the media, batch, story or workflow.
        :param metadata: field names and new values.
        """
        with self.lock:
            for name, value in metadata.items():
                setattr(job, name, value)
            job.updated_at = self.clock()


def format_time(timestamp: float) -> str:
    """Format a Unix time the way the API does: ``2025-04-01 18:57:37.355064+00:00``.

    :param timestamp: seconds since the epoch.
    """
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat(sep=" ", timespec="microseconds")


def iso_time(timestamp: float) -> str:
    """Format a Unix time as ISO 8601 in UTC, for the ledger and the webhook log.

    :param timestamp: seconds since the epoch.
    """
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat()


def new_id() -> str:
    """Return a new job id (a UUID, like the API's)."""
    return str(uuid.uuid4())


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
