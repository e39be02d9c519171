"""Job runs: what a media, batch, story or asset shows at a given time, and how a (re)submission starts a run.

A job's status is computed from the time elapsed since it was (re)submitted; no task runs per job. Every
(re)submission is a *run*; a job keeps all its runs, so the object can show its history.

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
- Asset (v2 video and legacy tools): ``processing``, then ``success`` or ``fail``. ``async_mode: false`` and
  uploads are finished when created.
- Workflow: ``processing`` (a value the documents never show: only ``success`` and ``fail`` are documented)
  with a rising ``progress_percentage`` and one more ``completions`` step at a time, then the outcome.
- Finetune: trains for :data:`FINETUNE_FACTOR` times ``job_seconds``; no status is shown at all, only sample
  outputs once done (openapi.json ``GET /finetune/{trigger_word}``).

Outcome markers
    Put one in a prompt, title, description, idea or (tools) any string argument:
    ``[sandbox:fail]``, ``[sandbox:cancel]`` (media; a group whose children are cancelled fails),
    ``[sandbox:never]`` (keeps running, progress stops at 99) and ``[sandbox:partial]`` (batch and story:
    the first child media fails, the others succeed, the group succeeds). Without a marker a job ends as
    ``settings.default_outcome``, or never ends when ``settings.jobs_never_finish`` is set.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import Any

from airflow_provider_vimmerse.sandbox.state import (
    CANCEL,
    FAIL,
    MEDIA_PROCESSING,
    MEDIA_QUEUED,
    MEDIA_TERMINAL,
    NEW,
    PROCESSING,
    SUCCESS,
    AssetJob,
    GroupJob,
    MediaJob,
    SandboxState,
    WorkflowJob,
    new_id,
)
from airflow_provider_vimmerse.sandbox.storyboards import scene_generation

QUEUE_FRACTION = 0.15
#: A LoRA training takes this many times ``job_seconds`` ("will start the training": it takes a while).
FINETUNE_FACTOR = 2
#: Samples a finished finetune shows (openapi.json GET /finetune/{trigger_word} example: one).
FINETUNE_SAMPLES = 2
STORY_STEP_PROGRESS = {"storyboard": 0, "elements": 10, "scenes": 20}

MARKERS = (
    ("[sandbox:fail]", "fail"),
    ("[sandbox:cancel]", "cancel"),
    ("[sandbox:never]", "never"),
    ("[sandbox:partial]", "partial"),
)


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
class Shown:
    """What any job shows at one moment: its processing status and progress."""

    status: str
    progress: int

    @property
    def is_success(self) -> bool:
        """Tell whether the job shows ``success``."""
        return self.status == SUCCESS

    @property
    def is_failure(self) -> bool:
        """Tell whether the job shows ``fail``."""
        return self.status == FAIL


@dataclass
class MediaState(Shown):
    """What a media shows at one moment: the visible run, its status, and the successful runs so far."""

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
class GroupState(Shown):
    """What a batch or story shows at one moment."""

    video_name: str
    finished: list[str]
    failed: list[str]
    media_ids: list[str]
    generation_number: int
    updated_at: float


# Outcomes


def resolve_outcome(state: SandboxState, text: str, group: bool = False) -> tuple[str, str]:
    """Return the outcome of a new run and the failure message that goes with it.

    :param state: the sandbox state (its ``default_outcome`` and ``jobs_never_finish`` settings).
    :param text: the prompt, title, idea... that may hold a ``[sandbox:...]`` marker.
    :param group: whether the job is a batch or a story (only those understand ``partial``).
    """
    for marker, outcome in MARKERS:
        if marker in text and (group or outcome != "partial"):
            return outcome, failure_message(outcome, "requested by marker")
    if state.settings.jobs_never_finish:
        return "never", ""
    outcome = state.settings.default_outcome
    return outcome, failure_message(outcome, "default_outcome setting")


def failure_message(outcome: str, reason: str) -> str:
    """Return the message of a failed or cancelled run, or ``""`` for any other outcome.

    :param outcome: the planned outcome.
    :param reason: why the run ends that way.
    """
    if outcome == FAIL:
        return f"sandbox: generation failed ({reason})"
    if outcome == CANCEL:
        return f"sandbox: generation cancelled ({reason})"
    return ""


# Media


def create_media(
    state: SandboxState,
    generation: dict[str, Any],
    metadata: dict[str, Any],
    batch_id: str = "",
    outcome: tuple[str, str] | None = None,
    run_seconds: float | None = None,
) -> MediaJob:
    """Create a media job whose first run starts now.

    :param state: the sandbox state.
    :param generation: the generation fields (prompt, motion_type, quantity, duration, ..., images).
    :param metadata: title, description, visibility_status, webhook_url.
    :param batch_id: the batch or story the media belongs to.
    :param outcome: a forced outcome and message (children of a group); else read from the text.
    :param run_seconds: how long the run takes; default ``settings.job_seconds``.
    """
    with state.lock:
        now = state.clock()
        job = MediaJob(
            id=new_id(),
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
        _add_media_run(state, job, now, now, outcome, run_seconds)
        state.media[job.id] = job
        return job


def restart_media(state: SandboxState, job: MediaJob, changes: dict[str, Any] | None = None) -> None:
    """Start a new run of a media (regeneration or process); it shows after the stale window.

    :param state: the sandbox state.
    :param job: the media.
    :param changes: generation fields to change first.
    """
    with state.lock:
        now = state.clock()
        job.generation.update(changes or {})
        _add_media_run(state, job, now, now + state.settings.stale_success_seconds, None, None)


def _add_media_run(
    state: SandboxState,
    job: MediaJob,
    requested_at: float,
    shown_at: float,
    outcome: tuple[str, str] | None,
    run_seconds: float | None,
) -> None:
    text = f"{job.title} {job.description} {job.generation['prompt']}"
    chosen, message = outcome or resolve_outcome(state, text)
    run = MediaRun(
        number=len(job.runs) + 1,
        requested_at=requested_at,
        shown_at=shown_at,
        run_seconds=state.settings.job_seconds if run_seconds is None else run_seconds,
        outcome=chosen,
        message=message,
        generation=copy.deepcopy(job.generation),
    )
    job.runs.append(run)


def media_state(state: SandboxState, job: MediaJob, now: float | None = None) -> MediaState:
    """Return what a media shows at a given time.

    The visible run is the latest one whose stale window is over; while a newer run waits for its window,
    the visible run is frozen at the moment the newer one was requested.

    :param state: the sandbox state.
    :param job: the media.
    :param now: the time to look at; default now.
    """
    now = state.clock() if now is None else now
    with state.lock:
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


# Batches and stories


def start_group(state: SandboxState, job: GroupJob, changes: dict[str, Any] | None = None) -> None:
    """Start a (new) generation run of a group: one child media per item, finishing one after another.

    Existing children are restarted when the number of items is unchanged; otherwise new children
    replace them. A rerun of a group that already ran shows after the stale window.

    :param state: the sandbox state.
    :param job: the batch or story.
    :param changes: shared generation fields to change first.
    """
    with state.lock:
        now = state.clock()
        shown_at = now + state.settings.stale_success_seconds if job.runs else now
        job.generation.update(changes or {})
        text = f"{job.title} {job.description} {job.idea} {job.generation.get('prompt', '')}"
        job.outcome, job.message = resolve_outcome(state, text, group=True)
        count = len(job.items)
        reuse = len(job.media_ids) == count
        new_ids = []
        for index, item in enumerate(job.items):
            child_outcome = _child_outcome(job, index)
            run_seconds = state.settings.job_seconds * (index + 1) / count
            job_generation = {**job.generation, **_child_generation(job, index, item)}
            if reuse:
                child = state.media[job.media_ids[index]]
                child.generation = job_generation
                _add_media_run(state, child, now, shown_at, child_outcome, run_seconds)
            else:
                metadata = {"title": f"{job.title} #{index + 1}".strip(), "visibility_status": "1"}
                child = create_media(state, job_generation, metadata, job.id, child_outcome, run_seconds)
                child.runs[-1].shown_at = shown_at
            new_ids.append(child.id)
        job.media_ids = new_ids
        generations = sum(1 for run in job.runs if run.kind == "generate") + 1
        _add_group_run(state, job, "generate", now, shown_at, f"{job.id}-v{generations}.mp4")


def start_concat(state: SandboxState, job: GroupJob) -> None:
    """Compose the group's videos again: after the stale window, ``video_url`` is empty for
    ``compose_seconds``, then a new, versioned one appears; the status stays ``success`` throughout.

    :param state: the sandbox state.
    :param job: the batch or story.
    """
    with state.lock:
        now = state.clock()
        concats = sum(1 for run in job.runs if run.kind == "concat") + 1
        shown_at = now + state.settings.stale_success_seconds
        _add_group_run(state, job, "concat", now, shown_at, f"{job.id}-concat{concats}.mp4")


def _add_group_run(
    state: SandboxState, job: GroupJob, kind: str, requested_at: float, shown_at: float, name: str
) -> None:
    run = GroupRun(
        number=len(job.runs) + 1,
        kind=kind,
        requested_at=requested_at,
        shown_at=shown_at,
        media_ids=list(job.media_ids),
        compose_seconds=state.settings.compose_seconds,
        video_name=name,
    )
    job.runs.append(run)


def group_state(state: SandboxState, job: GroupJob, now: float | None = None) -> GroupState:
    """Return what a batch or story shows at a given time, derived from its runs and children.

    :param state: the sandbox state.
    :param job: the batch or story.
    :param now: the time to look at; default now.
    """
    now = state.clock() if now is None else now
    with state.lock:
        runs = list(job.runs)
    if not runs:
        status = state.settings.story_step_status if job.step in ("elements", "scenes") else NEW
        progress = STORY_STEP_PROGRESS.get(job.step, 0)
        return GroupState(status, progress, "", [], [], [], 0, job.updated_at)
    visible = max(index for index, run in enumerate(runs) if run.shown_at <= now or index == 0)
    run = runs[visible]
    seen_until = min(now, runs[visible + 1].requested_at) if visible + 1 < len(runs) else now
    children = [media_state(state, state.media[media_id], seen_until) for media_id in run.media_ids]
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
    elif job.kind == "batch" and state.settings.batch_video_url == "never":
        return dataclasses.replace(shown, status=SUCCESS, progress=100)  # only a concat composes
    else:
        composed_at = max(child.finished_at or run.shown_at for child in children) + run.compose_seconds
    if seen_until < composed_at:
        return dataclasses.replace(shown, status=SUCCESS, progress=100)
    updated_at = max(shown.updated_at, composed_at)
    return dataclasses.replace(shown, status=SUCCESS, progress=100, video_name=run.video_name, updated_at=updated_at)


def _child_outcome(job: GroupJob, index: int) -> tuple[str, str]:
    if job.outcome == "partial":
        if index == 0:
            return FAIL, failure_message(FAIL, "first child of a [sandbox:partial] group")
        return SUCCESS, ""
    return job.outcome, job.message


def _child_generation(job: GroupJob, index: int, item: str) -> dict[str, Any]:
    if job.kind == "story":
        return scene_generation(job.storyboard, index, item)
    if item.startswith(("http://", "https://")):
        return {"image_urls": [item], "image_files": []}
    return {"image_urls": [], "image_files": [item]}


# Assets


def create_asset(
    state: SandboxState,
    app_name: str,
    args: dict[str, Any],
    finished: bool,
    result_count: int = 1,
    webhook_url: str = "",
    mime_type: str = "video/mp4",
) -> AssetJob:
    """Create an asset job.

    :param state: the sandbox state.
    :param app_name: the app name recorded on the asset.
    :param args: the request arguments (markers are read from their string values).
    :param finished: whether the asset is finished at once (``async_mode: false``, uploads).
    :param result_count: number of output URLs.
    :param webhook_url: URL to notify when the asset is finished.
    :param mime_type: MIME type of the outputs: ``video/mp4``, ``image/png``, ``audio/mp3``
        (platform-api-v1-legacy.txt spells audio ``audio/mp3``).
    """
    with state.lock:
        now = state.clock()
        text = " ".join(value for value in args.values() if isinstance(value, str))
        outcome, message = resolve_outcome(state, text)
        if outcome == CANCEL:
            outcome = FAIL
            message = failure_message(FAIL, "cancel marker; assets cannot be cancelled")
        run_seconds = state.settings.job_seconds
        job = AssetJob(
            id=new_id(),
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
        state.assets[job.id] = job
        return job


@dataclass
class RunState(Shown):
    """What a job of one run (an asset, a workflow) shows at one moment: ``processing``, then its outcome."""

    #: The part of the run done: below 1 (at most 0.99) until the run succeeds.
    fraction: float
    #: The last change, or the end of the run once that is past.
    updated_at: float


def run_state(state: SandboxState, job: AssetJob | WorkflowJob, now: float | None = None) -> RunState:
    """Return what an asset or a workflow shows at a given time.

    :param state: the sandbox state.
    :param job: the asset (a finetune too) or the workflow.
    :param now: the time to look at; default now.
    """
    now = state.clock() if now is None else now
    finished_at = job.started_at + job.run_seconds
    updated_at = max(job.updated_at, finished_at) if finished_at <= now else job.updated_at
    fraction = _fraction(job.started_at, job.run_seconds, now)
    if fraction < 1.0 or job.outcome == "never":
        status, fraction = PROCESSING, min(fraction, 0.99)
    elif job.outcome == FAIL:
        status, fraction = FAIL, 0.99
    else:
        status, fraction = SUCCESS, 1.0
    return RunState(status, int(fraction * 100), fraction, updated_at)


# Workflows and finetunes


def create_workflow(
    state: SandboxState, fields: dict[str, Any], options: dict[str, Any], images: list[str]
) -> WorkflowJob:
    """Create a workflow whose run starts now; markers are read from its title, description and options.

    :param state: the sandbox state.
    :param fields: title, description, visibility_status, template_id, event_id.
    :param options: the decoded ``options``.
    :param images: the uploaded file names or image URLs.
    """
    with state.lock:
        now = state.clock()
        text = " ".join(str(value) for value in (*fields.values(), *options.values()))
        outcome, message = resolve_outcome(state, text)
        if outcome == CANCEL:
            outcome = FAIL
            message = failure_message(FAIL, "cancel marker; a workflow has no documented cancel")
        job = WorkflowJob(
            id=new_id(),
            created_at=now,
            updated_at=now,
            started_at=now,
            run_seconds=state.settings.job_seconds,
            outcome=outcome,
            message=message,
            template_id=fields["template_id"],
            options=dict(options),
            images=list(images),
            event_id=fields["event_id"],
            title=fields["title"],
            description=fields["description"],
            visibility_status=fields["visibility_status"],
        )
        state.workflows[job.id] = job
        return job


def create_finetune(state: SandboxState, args: dict[str, Any]) -> AssetJob:
    """Start a LoRA training; its id is its trigger word (``lora_prefix`` and a random part).

    :param state: the sandbox state.
    :param args: the request's fields (markers are read from their text).
    """
    with state.lock:
        now = state.clock()
        text = " ".join(value for value in args.values() if isinstance(value, str))
        outcome, message = resolve_outcome(state, text)
        job = AssetJob(
            id=f"{args.get('lora_prefix') or 'MYLORA'}_{new_id().split('-')[0]}",
            created_at=now,
            started_at=now,
            run_seconds=state.settings.job_seconds * FINETUNE_FACTOR,
            outcome=outcome,
            message=message,
            app_name="finetune",
            args=dict(args),
            result_count=FINETUNE_SAMPLES,
            webhook_url=args.get("webhook_url") or "",
            mime_type="image/png",
        )
        state.finetunes[job.id] = job
        return job


def finetune_done(state: SandboxState, job: AssetJob, now: float | None = None) -> bool:
    """Tell whether a training shows its samples: it finished and did not fail (a failure is never shown).

    :param state: the sandbox state.
    :param job: the training.
    :param now: the time to look at; default now.
    """
    return run_state(state, job, now).is_success


def _fraction(started_at: float, seconds: float, now: float) -> float:
    if seconds <= 0:
        return 1.0
    return max(0.0, (now - started_at) / seconds)
