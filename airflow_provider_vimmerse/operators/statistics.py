"""Read the account's daily usage figures (credits, jobs) for a date range, by default the DAG run's data interval."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Any, TypedDict

from airflow_provider_vimmerse.exceptions import VimmerseInputError
from airflow_provider_vimmerse.operators.base import VimmerseBaseOperator, fail_fast

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")


class UsageReport(TypedDict):
    """
    What :class:`VimmerseUsageStatisticsOperator` returns.

    :param start: first day, ``YYYY-MM-DD``
    :param end: last day (included), ``YYYY-MM-DD``
    :param days: the API's rows, one per day, as it sent them (``date`` plus its figures)
    :param totals: the sum of every numeric figure over the days
    """

    start: str
    end: str
    days: list[dict[str, Any]]
    totals: dict[str, int | float]


class VimmerseUsageStatisticsOperator(VimmerseBaseOperator):
    """
    Return the daily usage figures of the Vimmerse account (``GET /customer-statistics/{start}/{end}``).

    Without ``start`` and ``end`` the range is the DAG run's data interval: for a daily DAG, the one day
    the run covers. When the interval has no length (Airflow 3's cron schedules, manual runs) it is the
    day before the run, the last full day: the API has no figures for a day until it ends. Both ends
    are included.

    :param start: first day: a date, a datetime, or text starting ``YYYY-MM-DD``
        (``"{{ ds }}"``, ``"{{ data_interval_start }}"``) (templated)
    :param end: last day, included; same forms as ``start`` (templated)
    """

    template_fields: tuple[str, ...] = ("start", "end", *VimmerseBaseOperator.template_fields)

    def __init__(
        self,
        *,
        start: date | str | None = None,
        end: date | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.start = start
        self.end = end

    def execute(self, context: Any) -> UsageReport:
        """Fetch the figures of every day of the range and add them up."""
        with fail_fast():
            first, last = self.date_range(context)
            days = self.hook.get_customer_statistics(first, last)
        totals = usage_totals(days)
        self.log.info("Vimmerse usage %s to %s: %d day(s), totals %s", first, last, len(days), totals)
        return {"start": first.isoformat(), "end": last.isoformat(), "days": days, "totals": totals}

    def date_range(self, context: Any) -> tuple[date, date]:
        """
        Return the first and last day: the rendered ``start``/``end``, else the run's data interval.

        :raises VimmerseInputError: for a value that is not a day, or ``start`` after ``end``
        """
        interval_start, interval_end = _data_interval(context)
        first = as_day("start", self.start) if self.start not in (None, "") else interval_start
        last = as_day("end", self.end) if self.end not in (None, "") else max(first, interval_end)
        if first > last:
            raise VimmerseInputError("end", f"{last.isoformat()} is before start {first.isoformat()}")
        return first, last


def _data_interval(context: Any) -> tuple[date, date]:
    """
    Return the first and last day of the run's data interval.

    The interval's end is exclusive: a daily run covering January 4 ends at midnight of January 5. A
    zero-length interval (Airflow 3's cron schedules, manual runs) is a point in time: the day before
    it, the last full day, is returned. Without any interval or logical date: yesterday (UTC).
    """
    start = context.get("data_interval_start") or context.get("logical_date")
    end = context.get("data_interval_end") or start
    if start is None:
        yesterday = datetime.now(timezone.utc).date() - timedelta(days=1)
        return yesterday, yesterday
    if end > start:
        just_before = timedelta(microseconds=1)
        return as_day("data_interval_start", start), as_day("data_interval_end", end - just_before)
    day = as_day("data_interval_start", start) - timedelta(days=1)  # the last full day before that point
    return day, day


def as_day(name: str, value: Any) -> date:
    """
    Return a day from a date, a datetime (its UTC day) or text starting ``YYYY-MM-DD``.

    :raises VimmerseInputError: naming ``name`` for anything else
    """
    if isinstance(value, datetime):
        return (value.astimezone(timezone.utc) if value.tzinfo else value).date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DAY.match(value.strip()):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise VimmerseInputError(name, f"must be a date such as '2026-01-31' (or a template rendering one), got {value!r}")


def usage_totals(days: list[dict[str, Any]]) -> dict[str, int | float]:
    """Return the sum of every numeric figure (not the date) over the days."""
    totals: dict[str, int | float] = {}
    for row in days:
        for name, value in row.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                totals[name] = totals.get(name, 0) + value
    return totals
