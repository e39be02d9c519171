"""The "Vimmerse" button on a task: a link to the task's job in the Vimmerse web app."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseOperatorLink, XCom

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import TaskInstanceKey

#: XCom key under which an operator stores the URL of its job.
XCOM_KEY = "vimmerse_job_url"


class VimmerseJobLink(BaseOperatorLink):
    """Link to the job a task started or waits on, read from the task's XCom (set before waiting)."""

    name = "Vimmerse"

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        """Return the job's web-app URL, or an empty string before the task has a job."""
        value = XCom.get_value(key=XCOM_KEY, ti_key=ti_key)
        return value if isinstance(value, str) else ""


def persist_job_link(context: Any, url: str) -> None:
    """Store the job's URL for the link (call as soon as the job id is known)."""
    context["ti"].xcom_push(key=XCOM_KEY, value=url)
