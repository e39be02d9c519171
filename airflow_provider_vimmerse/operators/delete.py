"""Delete a story or a workflow (``DELETE /story/{id}``, ``DELETE /workflow/{id}``): the clean-up step of a DAG."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_vimmerse.exceptions import VimmerseNotFoundError
from airflow_provider_vimmerse.operators.base import VimmerseBaseOperator, fail_fast
from airflow_provider_vimmerse.operators.outlets import Made

if TYPE_CHECKING:
    from airflow_provider_vimmerse.api.endpoints import ApiRequest
    from airflow_provider_vimmerse.api.results import JobResult

#: The ``status`` of the result of a delete.
DELETED = "deleted"


class VimmerseDeleteJobOperator(VimmerseBaseOperator):
    """
    Delete a job of a kind the API can delete: a ``story`` or a ``workflow`` (free: no 402 is documented).

    The API answers ``{}`` for a story and the deleted workflow for a workflow; either way the task
    returns the usual small result with ``status`` ``"deleted"``. Deleting is idempotent here: a 404
    (the job is not there) counts as deleted, so a retry after a delete whose answer was lost, or a
    clean-up task run twice, succeeds. Set ``missing_ok=False`` to fail on a 404 instead.

    :param kind: ``story`` or ``workflow`` (the kinds with a documented delete route)
    :param job_id: the job's id, or the result of the task that made it (templated)
    :param missing_ok: count a 404 as deleted (default True)
    """

    template_fields: tuple[str, ...] = ("job_id", *VimmerseBaseOperator.template_fields)

    def __init__(
        self,
        *,
        kind: str,
        job_id: str | Mapping[str, Any],
        missing_ok: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.kind = kind
        self.job_id = job_id
        self.missing_ok = missing_ok
        self.check_values()  # literal values now, when the DAG is parsed; templated ones when the task runs

    def check_values(self) -> None:
        """Check that the kind has a delete route and, once rendered, the job's id (no request is sent)."""
        from airflow_provider_vimmerse.api.fields import is_templated
        from airflow_provider_vimmerse.api.workflow import deletable_kind

        deletable_kind(self.kind)
        if not is_templated(self.job_id):
            self.target_id()

    def target_id(self) -> str:
        """Return the rendered id of the job to delete (checked)."""
        from airflow_provider_vimmerse.api.results import job_id_from

        return job_id_from("job_id", self.job_id, self.kind)

    def build_request(self) -> ApiRequest:
        """Return the delete request of the rendered job."""
        from airflow_provider_vimmerse.api.workflow import delete_job

        return delete_job(self.kind, self.target_id())

    def execute(self, context: Any) -> JobResult:
        """Send the delete; a 404 counts as deleted unless ``missing_ok`` is False."""
        with fail_fast():
            req = self.build_request()
            job_id = self.target_id()
            try:
                self.hook.request(req)
            except VimmerseNotFoundError:
                if not self.missing_ok:
                    raise
                self.log.warning(
                    "%s %s is not there (404): counted as deleted (an earlier try or task deleted it, or the id "
                    "is wrong); set missing_ok=False to fail instead",
                    self.kind,
                    job_id,
                )
            else:
                self.log.info("%s %s deleted", self.kind, job_id)
        result: JobResult = {
            "kind": self.kind,
            "id": job_id,
            "status": DELETED,
            "progress": None,
            "video_urls": [],
            "web_url": "",
        }
        self.record(context, Made(result))
        return result
