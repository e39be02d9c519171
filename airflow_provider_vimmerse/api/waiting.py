"""
Waiting for a job: one set of rules for the trigger (async) and the synchronous wait.

:class:`JobWatch` reads status snapshots and polling errors and decides what to log, how long to
sleep and when to stop with exactly one :class:`WaitEvent`. The trigger and the operator's
synchronous loop only do the I/O around it, so both ways of waiting behave the same.

Polling adapts unless the user fixes ``poll_interval``: quick first checks (short jobs finish fast),
then slower, up to a ceiling, so a five-minute job costs about a dozen requests.

A wait that follows a request re-running a finished job (a regenerating edit, a reprocess, a
concat) carries a :class:`Rerun`: the documents do not say the status leaves ``success`` at once,
so until the job shows a new run (a running status, or a changed run fingerprint) its ``success``
is the old one and does not end the wait. A wait may also ``need_output``: a story reads
``success`` before its composed ``video_url`` is there.

A transient error while polling (network, timeout, 5xx, 429, garbled answer) never ends the wait:
it is logged and retried with backoff until the deadline. Any other error (key rejected, job not
found) ends it with an ``error`` event.

:class:`PollBudget` caps how many polls one event loop sends per second: when more waits are due
than that, each waits its turn (polls a little later than asked) instead of all of them piling up
on the loop, so the other triggers of the triggerer stay responsive.

Pure module: no Airflow imports.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field, replace
from typing import Any

from airflow_provider_vimmerse.api.responses import JobSnapshot
from airflow_provider_vimmerse.api.retry import is_transient
from airflow_provider_vimmerse.api.status import WAIT_OUTCOMES, JobStatus

#: Seconds between the first polls when no fixed interval is set; afterwards ``POLL_CEILING``.
ADAPTIVE_SCHEDULE: tuple[float, ...] = (2, 3, 5, 10, 15, 20, 30, 45)
POLL_CEILING = 60.0
ERROR_BACKOFF_CEILING = 120.0
POLL_JITTER = 0.1
#: Most status polls one event loop sends per second for one connection (the triggerer's loop).
#: A poll costs about 0.5 ms of CPU over HTTPS, so polls keep the loop at most about 60 % busy and
#: the other triggers responsive; past it, polls are spread out instead of piling up. 1,000 waits
#: at a 1 s interval fit under it.
MAX_POLLS_PER_SECOND = 1200.0
#: Seconds of unused budget that may be spent at once (a burst of ``MAX_POLLS_PER_SECOND`` x this).
POLL_BURST_SECONDS = 0.02
#: With webhooks on, the status polls that still run in case a delivery is lost (the safety net):
#: seconds between them, unless the task sets ``poll_interval``. A lost delivery costs at most this.
SAFETY_NET_INTERVAL = 600.0
#: With webhooks on, seconds between two reads of the recorded hint (``[vimmerse] webhook_check_interval``).
HINT_CHECK_INTERVAL = 10.0


#: The keys a wait event may carry.
EVENT_KEYS = frozenset({"status", "kind", "job_id", "raw_status", "progress", "message"})


@dataclass(frozen=True)
class WaitEvent:
    """
    The one outcome of a wait, as plain JSON for a trigger event.

    :param status: how the wait ended, one of :data:`~airflow_provider_vimmerse.api.status.WAIT_OUTCOMES`
    :param kind: job kind name
    :param job_id: job id
    :param raw_status: last status value the API sent
    :param progress: last progress percentage
    :param message: the server's failure reason, or why the wait stopped
    """

    status: JobStatus
    kind: str
    job_id: str
    raw_status: str | None = None
    progress: int | None = None
    message: str | None = None

    def to_payload(self) -> dict[str, Any]:
        """Return the event as a JSON-safe dict."""
        return {
            "status": self.status.value,
            "kind": self.kind,
            "job_id": self.job_id,
            "raw_status": self.raw_status,
            "progress": self.progress,
            "message": self.message,
        }

    @classmethod
    def from_payload(cls, payload: Any) -> WaitEvent:
        """
        Read an event back, accepting only the allowed keys and statuses.

        :raises ValueError: when the payload is not an event this provider sent
        """
        if (
            not isinstance(payload, dict)
            or set(payload) - EVENT_KEYS
            or not {"status", "kind", "job_id"} <= set(payload)
        ):
            raise ValueError(f"not a Vimmerse wait event: {payload!r}")
        status = next((s for s in WAIT_OUTCOMES if s.value == payload["status"]), None)
        if status is None:
            allowed = ", ".join(s.value for s in WAIT_OUTCOMES)
            raise ValueError(f"unknown event status {payload['status']!r}; allowed: {allowed}")
        progress = payload.get("progress")
        return cls(
            status=status,
            kind=str(payload["kind"]),
            job_id=str(payload["job_id"]),
            raw_status=payload.get("raw_status"),
            progress=progress if isinstance(progress, int) else None,
            message=payload.get("message"),
        )


#: Seconds a re-run job may show no sign of its new run before the wait gives up (regeneration, process).
DEFAULT_RERUN_GRACE = 600.0


@dataclass(frozen=True)
class Rerun:
    """
    What a wait that follows a request re-running a finished job must see before it believes ``success``.

    :param action: what re-ran the job, for messages (``regeneration``, ``process``, ``concat``)
    :param baseline: the job's run fingerprint read just before the request
        (:func:`~airflow_provider_vimmerse.api.jobs.run_fingerprint`)
    :param requested_at: when the request was sent, seconds since the epoch
    :param grace_seconds: how long the job may show no sign of the new run before the wait ends in
        an error; None waits until the deadline
    """

    action: str
    baseline: Mapping[str, Any] = field(default_factory=dict)
    requested_at: float = 0.0
    grace_seconds: float | None = DEFAULT_RERUN_GRACE

    def to_payload(self) -> dict[str, Any]:
        """Return the rerun as plain JSON (for trigger kwargs and the task state store)."""
        return {
            "action": self.action,
            "baseline": dict(self.baseline),
            "requested_at": self.requested_at,
            "grace_seconds": self.grace_seconds,
        }

    @classmethod
    def from_payload(cls, payload: Any) -> Rerun | None:
        """Read a rerun back from plain JSON; None for None or anything that is not one."""
        if not isinstance(payload, Mapping) or not isinstance(payload.get("action"), str):
            return None
        baseline = payload.get("baseline")
        grace = payload.get("grace_seconds")
        return cls(
            action=payload["action"],
            baseline=dict(baseline) if isinstance(baseline, Mapping) else {},
            requested_at=float(payload.get("requested_at") or 0.0),
            grace_seconds=None if grace is None else float(grace),
        )


def poll_delay(poll_number: int, poll_interval: float | None) -> float:
    """
    Return the seconds to sleep before poll number ``poll_number + 1``.

    :param poll_number: polls done so far (1 after the first)
    :param poll_interval: fixed interval chosen by the user, or None for the adaptive schedule
    """
    if poll_interval is not None:
        return float(poll_interval)
    index = max(0, poll_number - 1)
    return ADAPTIVE_SCHEDULE[index] if index < len(ADAPTIVE_SCHEDULE) else POLL_CEILING


@dataclass(eq=False)
class JobWatch:
    """
    The bookkeeping of one wait: progress lines, unknown statuses, errors, deadline.

    :param kind: job kind name
    :param job_id: job id
    :param deadline: absolute deadline, seconds since the epoch (so a restart does not restart the clock)
    :param poll_interval: fixed seconds between polls, or None to adapt
    :param rerun: set when the wait follows a request re-running a finished job
    :param need_output: a ``success`` without an output (a story still composing) keeps the wait going
    :param output_grace: with ``need_output``, the most seconds a ``success`` without an output keeps the
        wait going (a batch's composing window); then the wait ends with the job as it is. None: until the deadline
    :param safety_net: webhooks wake the wait, so status polls run only every :data:`SAFETY_NET_INTERVAL`
        (or ``poll_interval``), until a reading shows the job finishing (then the normal schedule)
    """

    kind: str
    job_id: str
    deadline: float
    poll_interval: float | None = None
    _: KW_ONLY
    rerun: Rerun | None = None
    need_output: bool = False
    output_grace: float | None = None
    safety_net: bool = False
    #: True once a reading showed an end the wait does not take yet (a story composing, an old run)
    finishing: bool = field(default=False, init=False)
    #: True once the job showed the run that the wait is for (from the start when it is no re-run)
    new_run_seen: bool = field(init=False)
    polls: int = field(default=0, init=False)
    errors_in_a_row: int = field(default=0, init=False)
    _last_line: str | None = field(default=None, init=False, repr=False)
    _logged_once: set[str] = field(default_factory=set, init=False, repr=False)
    _last: JobSnapshot | None = field(default=None, init=False, repr=False)
    #: When a reading first showed ``success`` without an output (the composing window starts then)
    _composing_since: float | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.new_run_seen = self.rerun is None

    def expired(self, now: float | None = None) -> bool:
        """Return True once the deadline has passed."""
        return (time.time() if now is None else now) >= self.deadline

    @property
    def wants_full_object(self) -> bool:
        """Return True when a finished reading must include the full object (fingerprint, outputs)."""
        return not self.new_run_seen or self.need_output

    def observe(self, snapshot: JobSnapshot) -> tuple[list[str], WaitEvent | None]:
        """
        Take one status reading.

        :return: lines worth logging (a change of status or progress, an unknown status once), and
            the final event when the job reached a terminal state
        """
        self.polls += 1
        self.errors_in_a_row = 0
        lines: list[str] = []
        looked_terminal = snapshot.effective_state.is_terminal
        snapshot, note, stop = self._judge(snapshot)
        self.finishing = self.finishing or (looked_terminal and not snapshot.effective_state.is_terminal)
        self._last = snapshot
        if note is not None and note not in self._logged_once:
            self._logged_once.add(note)
            lines.append(note)
        if stop is not None:
            return lines, stop
        if snapshot.state is None and snapshot.raw_status not in self._logged_once:
            self._logged_once.add(snapshot.raw_status)
            lines.append(f"{self.kind} {self.job_id}: unknown status {snapshot.raw_status!r}, treated as still running")
        line = snapshot.describe()
        if line != self._last_line:
            self._last_line = line
            lines.append(line)
        state = snapshot.effective_state
        if state.is_terminal:
            return lines, self._event(state, snapshot.message)
        return lines, None

    def _judge(self, snapshot: JobSnapshot) -> tuple[JobSnapshot, str | None, WaitEvent | None]:
        """
        Decide whether a finished-looking reading is the finish this wait is for.

        :return: the reading to act on (a stale or output-less ``success`` reads as running), a line
            to log once, and an error event when the re-run job never showed its new run in time
        """
        what = f"{self.kind} {self.job_id}"
        rerun = self.rerun
        if rerun is not None and not self.new_run_seen:
            changed = snapshot.fingerprint is not None and dict(snapshot.fingerprint) != dict(rerun.baseline)
            if snapshot.state is JobStatus.RUNNING or changed:
                self.new_run_seen = True
            elif snapshot.effective_state.is_terminal:
                waited = time.time() - rerun.requested_at
                if rerun.grace_seconds is not None and waited >= rerun.grace_seconds:
                    return (
                        snapshot,
                        None,
                        self._event(
                            JobStatus.ERROR,
                            f"{what} still shows the run from before the {rerun.action} ({snapshot.raw_status!r}) "
                            f"{waited:.0f} s after it was requested, and no new run has started; the earlier "
                            "result is not taken as the new one. Check the job in the Vimmerse web app.",
                        ),
                    )
                return (
                    replace(snapshot, state=JobStatus.RUNNING),
                    f"{what}: still shows the run from before the {rerun.action} ({snapshot.raw_status!r}); "
                    "waiting for the new run",
                    None,
                )
        if self.need_output and snapshot.state is JobStatus.SUCCESS and snapshot.has_output is False:
            now = time.time()
            self._composing_since = now if self._composing_since is None else self._composing_since
            waited = now - self._composing_since
            if self.output_grace is not None and waited >= self.output_grace:
                return (
                    snapshot,
                    f"{what}: {snapshot.raw_status!r} and still no composed video after {waited:.0f} s "
                    f"(compose_timeout {self.output_grace:g} s); ending with the outputs of its media",
                    None,
                )
            window = "" if self.output_grace is None else f" for up to {self.output_grace:g} s"
            return (
                replace(snapshot, state=JobStatus.RUNNING),
                f"{what}: {snapshot.raw_status!r} but no output yet (the video is being composed); waiting{window}",
                None,
            )
        return snapshot, None, None

    def observe_error(self, error: BaseException) -> tuple[str, WaitEvent | None]:
        """
        Take one failed poll.

        :return: a line to log, and the final event when the error is not one that may pass
        """
        if not is_transient(error):
            return f"{self.kind} {self.job_id}: polling failed: {error}", self.error_event(str(error))
        self.errors_in_a_row += 1
        return (
            f"{self.kind} {self.job_id}: transient error while polling ({error}); still waiting, "
            f"retry {self.errors_in_a_row} in {self.next_delay(error):.0f} s",
            None,
        )

    def next_delay(self, error: BaseException | None = None) -> float:
        """Return how long to sleep before the next poll, never past the deadline."""
        if self.errors_in_a_row:
            base = poll_delay(1, self.poll_interval)
            delay = min(ERROR_BACKOFF_CEILING, base * 2 ** (self.errors_in_a_row - 1))
            retry_after = getattr(error, "retry_after", None)
            if isinstance(retry_after, (int, float)):
                delay = max(delay, min(float(retry_after), ERROR_BACKOFF_CEILING))
        elif self.safety_net and not self.finishing:
            delay = (self.poll_interval or SAFETY_NET_INTERVAL) * random.uniform(1 - POLL_JITTER, 1 + POLL_JITTER)
        else:
            # +-10 % so waits started together (a backfill, a mapped task) do not poll in lockstep
            delay = poll_delay(self.polls, self.poll_interval) * random.uniform(1 - POLL_JITTER, 1 + POLL_JITTER)
        return max(0.0, min(delay, self.deadline - time.time()))

    def timeout_event(self) -> WaitEvent:
        """Return the event for a wait that ran out of time."""
        never = (
            f" It never showed a new run after the {self.rerun.action}; the earlier result was not taken."
            if self.rerun is not None and not self.new_run_seen
            else ""
        )
        return self._event(
            JobStatus.TIMEOUT,
            f"{self.kind} {self.job_id} was not finished by the deadline; it may still be running remotely "
            f"(check it, or wait on it with VimmerseJobSensor(kind={self.kind!r}, job_id={self.job_id!r})).{never}",
        )

    def error_event(self, message: str) -> WaitEvent:
        """Return the event for a wait that cannot go on (key rejected, job gone, no connection)."""
        return self._event(JobStatus.ERROR, message)

    def _event(self, status: JobStatus, message: str | None) -> WaitEvent:
        last = self._last
        return WaitEvent(
            status=status,
            kind=self.kind,
            job_id=self.job_id,
            raw_status=last.raw_status if last else None,
            progress=last.progress if last else None,
            message=message,
        )


class PollBudget:
    """
    Hand out poll turns at most ``rate`` per second, first come first served.

    Unused turns accumulate for ``burst`` seconds at most, so polls that happen to fall together
    go at once, while a sustained excess waits its turn: each caller is told how long to wait.

    :param rate: polls per second; default :data:`MAX_POLLS_PER_SECOND`
    :param burst: seconds of unused budget that may be spent at once; default :data:`POLL_BURST_SECONDS`
    """

    def __init__(self, rate: float | None = None, burst: float | None = None) -> None:
        self.rate = MAX_POLLS_PER_SECOND if rate is None else float(rate)
        self.burst = POLL_BURST_SECONDS if burst is None else float(burst)
        if not self.rate > 0:
            raise ValueError(f"the poll budget must be a positive number of polls per second, got {rate!r}")
        self._next_turn = float("-inf")

    def reserve(self, now: float) -> float:
        """
        Take the next turn and return the seconds to wait for it (0 when the budget has room).

        :param now: the current time on a monotonic clock (the event loop's ``time()``)
        """
        turn = max(self._next_turn, now - self.burst)
        self._next_turn = turn + 1 / self.rate
        return max(0.0, turn - now)
