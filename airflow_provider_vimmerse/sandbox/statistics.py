"""``GET /customer-statistics/{start}/{end}``: usage per day (no document shows the answer; the rows are our own)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Any

from airflow_provider_vimmerse.sandbox.state import SandboxState

DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_day(text: str) -> date | None:
    """Return the date of a ``YYYY-MM-DD`` path segment, or None when it is not one.

    :param text: the path segment.
    """
    if not DATE_PATTERN.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def daily_statistics(state: SandboxState, start: date, end: date) -> list[dict[str, Any]]:
    """Return one row per day from ``start`` to ``end``: today's numbers, zeros for other days.

    :param state: the sandbox state.
    :param start: first day (UTC).
    :param end: last day (UTC), not before ``start``.
    """
    today = datetime.fromtimestamp(state.clock(), tz=timezone.utc).date()
    with state.lock:
        counts = {
            "credits_used": sum(int(entry.get("credits") or 0) for entry in state.ledger),
            "media_count": len(state.media),
            "batch_count": sum(1 for g in state.groups.values() if g.kind == "batch"),
            "story_count": sum(1 for g in state.groups.values() if g.kind == "story"),
        }
    rows = []
    day = start
    while day <= end:
        numbers = counts if day == today else dict.fromkeys(counts, 0)
        rows.append({"date": day.isoformat(), **numbers})
        day += timedelta(days=1)
    return rows
