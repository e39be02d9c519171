"""
Read the recent Vimmerse jobs from Airflow's metadata database (Airflow 3): no table of our own.

One SQL query (for the page; for a range of days: :func:`read_jobs_between`, which the cost view adds
up; or for one task: :func:`read_task_result`, which the output proxy uses, so it serves only what the page
lists): the most recent ``vimmerse_job_url`` XComs, each joined to the ``return_value`` XCom
and the task instance of the same task (DAG run, task id, map index). Values are decoded with
Airflow's own :meth:`XComModel.deserialize_value <airflow.models.xcom.XComModel.deserialize_value>`.
A custom XCom backend that keeps only references in the database gives rows without results: their
status is then the task's state.

Used by the api-server only (through :mod:`airflow_provider_vimmerse.plugins.app`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow.models.taskinstance import TaskInstance
from airflow.models.xcom import XComModel  # type: ignore[attr-defined,unused-ignore]  # Airflow 3 only
from sqlalchemy import and_, select
from sqlalchemy.orm import aliased

from airflow_provider_vimmerse.links.vimmerse import XCOM_KEY
from airflow_provider_vimmerse.plugins.jobs import JobRow, Origin, build_row, result_conn_id

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.orm import Session
    from sqlalchemy.sql.elements import ColumnElement

#: XCom key of a task's returned value (the job's result).
RETURN_VALUE_KEY = "return_value"
#: Reads the API origin of a connection by its id (None when unknown): how a row's ``play_urls`` are decided.
OriginOf = Callable[[str], Origin | None]


def _no_origin(conn_id: str) -> Origin | None:
    return None


def read_job_rows(
    session: Session,
    *,
    limit: int,
    dag_ids: Collection[str] | None = None,
    base_path: str = "",
    app_path: str = "",
    api_origin_of: OriginOf = _no_origin,
) -> list[JobRow]:
    """
    Return the ``limit`` most recent jobs, newest first (by when the task stored the job's URL).

    :param session: a session on Airflow's metadata database
    :param limit: how many jobs at most
    :param dag_ids: only jobs of these DAGs (the ones the user may read); None for every DAG
    :param base_path: the path Airflow is served under, for the rows' ``task_url``
    :param app_path: the path the page's app is served under, for the rows' ``play_urls``
    :param api_origin_of: reads the API origin of the connection a result names (its ``conn_id``), for the
        rows' ``play_urls``; by default none is known, so every output plays from its URL
    """
    job = aliased(XComModel, name="job")
    stmt = _jobs(job).order_by(job.timestamp.desc(), job.dag_id, job.task_id, job.map_index).limit(limit)
    if dag_ids is not None:
        stmt = stmt.where(job.dag_id.in_(list(dag_ids)))
    return _rows(session, stmt, base_path=base_path, app_path=app_path, api_origin_of=api_origin_of)


def read_jobs_between(
    session: Session, *, start: datetime, end: datetime, limit: int, dag_ids: Collection[str] | None = None
) -> tuple[list[JobRow], bool]:
    """
    Return the jobs whose task stored the job's URL from ``start`` up to (not including) ``end``, oldest first.

    For the cost view: at most ``limit`` of them, and whether there were more.

    :param session: a session on Airflow's metadata database
    :param start: the first moment (aware)
    :param end: the moment after the last
    :param limit: how many jobs at most
    :param dag_ids: only jobs of these DAGs (the ones the user may read); None for every DAG
    """
    job = aliased(XComModel, name="job")
    stmt = _jobs(job).where(job.timestamp >= start, job.timestamp < end)
    if dag_ids is not None:
        stmt = stmt.where(job.dag_id.in_(list(dag_ids)))
    rows = _rows(session, stmt.order_by(job.timestamp, job.dag_id, job.task_id, job.map_index).limit(limit + 1))
    return rows[:limit], len(rows) > limit


def read_task_result(session: Session, *, dag_id: str, run_id: str, task_id: str, map_index: int) -> Mapping[str, Any]:
    """
    Return the result (``return_value``) of one task instance that has a job, as the page reads it.

    Empty when the task has no job (no ``vimmerse_job_url``), no result yet, or a result that is not a mapping.

    :param session: a session on Airflow's metadata database
    :param dag_id: the task's DAG
    :param run_id: the DAG run
    :param task_id: the task
    :param map_index: the map index; -1 for a task that is not mapped
    """
    job = aliased(XComModel, name="job")
    stmt = _jobs(job).where(
        job.dag_id == dag_id, job.run_id == run_id, job.task_id == task_id, job.map_index == map_index
    )
    found = session.execute(stmt.limit(1)).first()
    result = XComModel.deserialize_value(found[1]) if found is not None and found[1] is not None else None
    return result if isinstance(result, Mapping) else {}


def _jobs(job: Any) -> Select:
    """Select each ``vimmerse_job_url`` XCom with the ``return_value`` XCom and the state of its task instance."""
    result = aliased(XComModel, name="result")
    return (
        select(job, result, TaskInstance.state)
        .outerjoin(result, and_(_same_task_instance(result, job), result.key == RETURN_VALUE_KEY))
        .outerjoin(TaskInstance, _same_task_instance(TaskInstance, job))
        .where(job.key == XCOM_KEY)
    )


def _same_task_instance(row: Any, job: Any) -> ColumnElement[bool]:
    """Match the rows (XComs or task instances) of the job XCom's task instance: DAG, run, task, map index."""
    return and_(
        row.dag_id == job.dag_id,
        row.run_id == job.run_id,
        row.task_id == job.task_id,
        row.map_index == job.map_index,
    )


def _rows(
    session: Session, stmt: Select, *, base_path: str = "", app_path: str = "", api_origin_of: OriginOf = _no_origin
) -> list[JobRow]:
    rows = []
    for job_xcom, result_xcom, state in session.execute(stmt):
        result = XComModel.deserialize_value(result_xcom) if result_xcom is not None else None
        conn_id = result_conn_id(result)
        rows.append(
            build_row(
                dag_id=job_xcom.dag_id,
                task_id=job_xcom.task_id,
                run_id=job_xcom.run_id,
                map_index=job_xcom.map_index,
                job_url=XComModel.deserialize_value(job_xcom),
                result=result,
                task_state=str(state) if state else None,
                started_at=job_xcom.timestamp,
                base_path=base_path,
                app_path=app_path,
                api_origin=api_origin_of(conn_id) if conn_id else None,
            )
        )
    return rows
