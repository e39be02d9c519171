"""
The one status vocabulary: what is known about a job, from its API status or from a wait on it.

A raw status value of the API (``processing_bullet``, ``fail``, ...) means one of
:data:`JOB_STATES`; the job kind's row says which (:meth:`.JobKind.state_of`). A wait on a job
ends with one of :data:`WAIT_OUTCOMES`, the only values a trigger event carries. Code compares these
members, never the raw strings.

Pure module: no Airflow imports.
"""

from __future__ import annotations

from enum import Enum


class JobStatus(str, Enum):
    """
    What is known about a job; each value has one meaning.

    ``RUNNING``: the job is still being worked on. ``SUCCESS``: it finished with outputs.
    ``FAILED``: it failed on the Vimmerse side. ``CANCELLED``: it was cancelled. ``TIMEOUT``: the wait
    ran out of time (the job may still be running). ``ERROR``: the wait could not follow the job
    (key rejected, job gone, no connection).
    """

    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMEOUT = "timeout"
    ERROR = "error"

    @property
    def is_terminal(self) -> bool:
        """Return True when the job will not change any more (it succeeded, failed or was cancelled)."""
        return self in _JOB_ENDS

    @property
    def is_success(self) -> bool:
        """Return True when the job finished with outputs."""
        return self is JobStatus.SUCCESS

    @property
    def is_failure(self) -> bool:
        """Return True when the job ended without outputs (failed or cancelled)."""
        return self in (JobStatus.FAILED, JobStatus.CANCELLED)


_JOB_ENDS = frozenset({JobStatus.SUCCESS, JobStatus.FAILED, JobStatus.CANCELLED})

#: What a job's raw API status can mean.
JOB_STATES: frozenset[JobStatus] = frozenset({JobStatus.RUNNING, *_JOB_ENDS})
#: How a wait can end: the only statuses a trigger event carries (``success``, ``failed``,
#: ``cancelled``, ``timeout``, ``error``).
WAIT_OUTCOMES: tuple[JobStatus, ...] = (
    JobStatus.SUCCESS,
    JobStatus.FAILED,
    JobStatus.CANCELLED,
    JobStatus.TIMEOUT,
    JobStatus.ERROR,
)
