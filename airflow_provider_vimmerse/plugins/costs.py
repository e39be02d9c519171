"""
The cost view's figures: credits per day and per DAG over a range of days, from the tasks' results and the API.

Two sources, kept apart because they answer different questions:

* **The tasks' results**: the ``used_credits`` of each job's ``return_value`` (the page's
  :class:`~airflow_provider_vimmerse.plugins.jobs.JobRow`), counted on the UTC day the task stored the
  job's link. The API reports credits for batches and stories only: a single media's (or an asset's)
  result carries no figure, nor does a job still running or a failed task. Such jobs are counted as
  jobs *without a figure*, never priced.
* **The account's usage statistics** (``GET /customer-statistics/{start}/{end}``): the whole account's
  credits per day, whoever spent them (other deployments, the web app). The answer's fields are not
  documented; the first of :data:`CREDIT_FIGURES` a day's row carries is its credits.

:func:`cost_range` reads and checks the range asked for; :func:`build_report` adds the rows up into a
:class:`CostReport` (what ``GET /vimmerse/api/costs`` answers, and what the chart draws).

Pure module: no Airflow imports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, TypedDict

from airflow_provider_vimmerse.exceptions import VimmerseInputError
from airflow_provider_vimmerse.plugins.jobs import JobRow

#: The longest range the view adds up, in days (both ends included).
MAX_DAYS = 366
#: Fields of a day's usage statistics that hold its credits, in the order they are looked for.
CREDIT_FIGURES = ("credits_used", "used_credits", "credits")

Credits = int | float


@dataclass(frozen=True)
class CostRange:
    """
    A range of UTC days, both ends included.

    :param start: the first day
    :param end: the last day
    """

    start: date
    end: date

    @property
    def days(self) -> list[date]:
        """Return every day of the range, in order."""
        return [self.start + timedelta(days=offset) for offset in range((self.end - self.start).days + 1)]

    def bounds(self) -> tuple[datetime, datetime]:
        """Return the range as UTC times: the start of the first day, and the start of the day after the last."""
        first = datetime.combine(self.start, time.min, tzinfo=timezone.utc)
        return first, datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=timezone.utc)


def cost_range(start: str | None, end: str | None, *, today: date, default_days: int) -> CostRange:
    """
    Return the range a request asks for: ``start`` to ``end`` (``YYYY-MM-DD``, both included).

    Without ``end`` the range ends today; without ``start`` it is ``default_days`` long.

    :param start: the first day, or None (or empty)
    :param end: the last day, or None (or empty)
    :param today: today's date (UTC)
    :param default_days: the length of a range without ``start`` (``[vimmerse] cost_days``)
    :raises VimmerseInputError: naming ``start`` or ``end``: not a day, ``end`` before ``start``, or
        a range longer than :data:`MAX_DAYS`
    """
    last = _day("end", end) if end else today
    first = _day("start", start) if start else last - timedelta(days=max(1, default_days) - 1)
    if last < first:
        raise VimmerseInputError("end", f"{last.isoformat()} is before start {first.isoformat()}")
    length = (last - first).days + 1
    if length > MAX_DAYS:
        raise VimmerseInputError("end", f"the range is {length} days long; at most {MAX_DAYS} days are shown")
    return CostRange(first, last)


def _day(name: str, text: str) -> date:
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise VimmerseInputError(name, f"must be a day such as '2026-01-31', got {text!r}")


@dataclass(frozen=True)
class AccountUsage:
    """
    The account's credits per day from the API's usage statistics, or why there are none.

    :param credits: credits per day (``YYYY-MM-DD``); empty when they could not be read
    :param note: why there are no figures (no connection, the API failed...), for the page; None when read
    """

    credits: Mapping[str, Credits] = field(default_factory=dict)
    note: str | None = None

    @property
    def available(self) -> bool:
        """Return True when the statistics were read."""
        return self.note is None


def account_usage(days: Sequence[Mapping[str, Any]]) -> AccountUsage:
    """
    Return the credits per day of the API's usage statistics.

    :param days: the API's rows, one per day (``date`` plus its figures)
    """
    credits: dict[str, Credits] = {}
    for row in days:
        day = row.get("date")
        figure = next((row[name] for name in CREDIT_FIGURES if _is_number(row.get(name))), None)
        if isinstance(day, str) and figure is not None:
            credits[day[:10]] = credits.get(day[:10], 0) + figure
    if days and not credits:
        names = ", ".join(CREDIT_FIGURES)
        return AccountUsage(note=f"The usage statistics carry no credit figure (looked for {names}).")
    return AccountUsage(credits)


class DayCost(TypedDict):
    """
    The credits of one day.

    :param date: the day, ``YYYY-MM-DD`` (UTC)
    :param by_dag: the credits of each DAG's jobs started that day (DAGs with none are left out)
    :param tasks: the sum of ``by_dag``
    :param account: the account's credits that day from the usage statistics; None when unknown
    """

    date: str
    by_dag: dict[str, Credits]
    tasks: Credits
    account: Credits | None


class DagCost(TypedDict):
    """
    The credits of one DAG's jobs over the range.

    :param dag_id: the DAG
    :param credits: the sum of its jobs' ``used_credits``
    :param jobs: how many jobs its tasks started in the range
    :param jobs_without_credits: how many of them have no figure (single media, assets, unfinished, failed)
    :param kinds_without_credits: the kinds of those jobs (``media``...), sorted
    """

    dag_id: str
    credits: Credits
    jobs: int
    jobs_without_credits: int
    kinds_without_credits: list[str]


class AccountTotal(TypedDict):
    """
    The account's usage statistics over the range.

    :param available: whether they were read
    :param total: the sum of the days' credits; None when not read
    :param note: why they were not read
    """

    available: bool
    total: Credits | None
    note: str | None


class CostReport(TypedDict):
    """
    Credits per day and per DAG over a range: what ``GET /vimmerse/api/costs`` answers and the chart draws.

    :param start: the first day, ``YYYY-MM-DD``
    :param end: the last day (included)
    :param days: one :class:`DayCost` per day of the range, in order
    :param dags: one :class:`DagCost` per DAG with a job in the range, most credits first
    :param total: the credits of every job in the range
    :param account: the account's own figures (:class:`AccountTotal`)
    :param truncated: True when the range held more jobs than were read (the figures are then partial)
    """

    start: str
    end: str
    days: list[DayCost]
    dags: list[DagCost]
    total: Credits
    account: AccountTotal
    truncated: bool


def build_report(
    rows: Iterable[JobRow], span: CostRange, usage: AccountUsage, *, truncated: bool = False
) -> CostReport:
    """
    Add the jobs' credits up per day and per DAG, beside the account's own daily credits.

    :param rows: the jobs whose tasks stored their link in the range (others are ignored)
    :param span: the range
    :param usage: the account's usage statistics over the range
    :param truncated: whether ``rows`` is only part of the range's jobs
    """
    day_names = [day.isoformat() for day in span.days]
    by_day: dict[str, dict[str, Credits]] = {day: {} for day in day_names}
    dags: dict[str, DagCost] = {}
    for row in rows:
        day = _utc_day(row["started_at"])
        if day not in by_day:
            continue
        dag = dags.setdefault(
            row["dag_id"],
            {"dag_id": row["dag_id"], "credits": 0, "jobs": 0, "jobs_without_credits": 0, "kinds_without_credits": []},
        )
        dag["jobs"] += 1
        credits = row["used_credits"]
        if credits is None:
            dag["jobs_without_credits"] += 1
            if row["kind"] and row["kind"] not in dag["kinds_without_credits"]:
                dag["kinds_without_credits"] = sorted([*dag["kinds_without_credits"], row["kind"]])
            continue
        dag["credits"] += credits
        by_day[day][row["dag_id"]] = by_day[day].get(row["dag_id"], 0) + credits
    days: list[DayCost] = [
        {
            "date": day,
            "by_dag": figures,
            "tasks": sum(figures.values()),
            "account": usage.credits.get(day, 0) if usage.available else None,
        }
        for day, figures in by_day.items()
    ]
    account: AccountTotal = {
        "available": usage.available,
        "total": sum(day["account"] or 0 for day in days) if usage.available else None,
        "note": usage.note,
    }
    return {
        "start": span.start.isoformat(),
        "end": span.end.isoformat(),
        "days": days,
        "dags": sorted(dags.values(), key=lambda dag: (-dag["credits"], dag["dag_id"])),
        "total": sum(dag["credits"] for dag in dags.values()),
        "account": account,
        "truncated": truncated,
    }


def _utc_day(started_at: str | None) -> str | None:
    if not started_at:
        return None
    try:
        moment = datetime.fromisoformat(started_at)
    except ValueError:
        return None
    return (moment.astimezone(timezone.utc) if moment.tzinfo else moment).date().isoformat()


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
