"""
Read the recent Vimmerse jobs from Airflow's metadata database (Airflow 3): no table of our own.

One SQL query: the most recent ``vimmerse_job_url`` XComs, each joined to the ``return_value`` XCom
and the task instance of the same task (DAG run, task id, map index). Values are decoded with
Airflow's own :meth:`XComModel.deserialize_value <airflow.models.xcom.XComModel.deserialize_value>`.
A custom XCom backend that keeps only references in the database gives rows without results: their
status is then the task's state.

Used by the api-server only (through :mod:`airflow_provider_vimmerse.plugins.app`).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from airflow.models.taskinstance import TaskInstance
from airflow.models.xcom import XComModel  # type: ignore[attr-defined,unused-ignore]  # Airflow 3 only
from sqlalchemy import and_, select
from sqlalchemy.orm import aliased

from airflow_provider_vimmerse.links.vimmerse import XCOM_KEY
from airflow_provider_vimmerse.plugins.jobs import JobRow, build_row

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

#: XCom key of a task's returned value (the job's result).
RETURN_VALUE_KEY = "return_value"


def read_job_rows(
    session: Session, *, limit: int, dag_ids: Collection[str] | None = None, base_path: str = ""
) -> list[JobRow]:
    """
    Return the ``limit`` most recent jobs, newest first (by when the task stored the job's URL).

    :param session: a session on Airflow's metadata database
    :param limit: how many jobs at most
    :param dag_ids: only jobs of these DAGs (the ones the user may read); None for every DAG
    :param base_path: the path Airflow is served under, for the rows' ``task_url``
    """
    job = aliased(XComModel, name="job")
    result = aliased(XComModel, name="result")
    stmt = (
        select(job, result, TaskInstance.state)
        .outerjoin(
            result,
            and_(
                result.dag_run_id == job.dag_run_id,
                result.task_id == job.task_id,
                result.map_index == job.map_index,
                result.key == RETURN_VALUE_KEY,
            ),
        )
        .outerjoin(
            TaskInstance,
            and_(
                TaskInstance.dag_id == job.dag_id,
                TaskInstance.run_id == job.run_id,
                TaskInstance.task_id == job.task_id,
                TaskInstance.map_index == job.map_index,
            ),
        )
        .where(job.key == XCOM_KEY)
        .order_by(job.timestamp.desc(), job.dag_id, job.task_id, job.map_index)
        .limit(limit)
    )
    if dag_ids is not None:
        stmt = stmt.where(job.dag_id.in_(list(dag_ids)))
    return [
        build_row(
            dag_id=job_xcom.dag_id,
            task_id=job_xcom.task_id,
            run_id=job_xcom.run_id,
            map_index=job_xcom.map_index,
            job_url=XComModel.deserialize_value(job_xcom),
            result=XComModel.deserialize_value(result_xcom) if result_xcom is not None else None,
            task_state=str(state) if state else None,
            started_at=job_xcom.timestamp,
            base_path=base_path,
        )
        for job_xcom, result_xcom, state in session.execute(stmt)
    ]
