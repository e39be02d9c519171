"""
What a finished Vimmerse task leaves for Airflow besides its return value.

* The ``extra`` of the event of each asset in the task's ``outlets`` (Airflow 2: each dataset):
  the job's kind, id, status, output URLs, credits and web link, and a download's written paths
  (built by :func:`~airflow_provider_vimmerse.api.results.asset_extra`). A DAG scheduled on the
  asset reads them from ``triggering_asset_events`` (Airflow 2: ``triggering_dataset_events``).
* What the task made, kept on the operator (:attr:`~.base.VimmerseHookMixin.vimmerse_made`) for
  its OpenLineage facets (:mod:`~airflow_provider_vimmerse.operators.lineage`).

Called once per finished task by :meth:`~.base.VimmerseHookMixin.record`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Made:
    """
    One job a task made, waited on or downloaded.

    :param result: the job's result (:class:`~airflow_provider_vimmerse.api.results.JobResult`, or the
        dict a download was given)
    :param paths: the files a download wrote from its outputs, by their final names; None when the
        task downloaded nothing
    """

    result: Mapping[str, Any]
    paths: tuple[str, ...] | None = None


def event_extra(made: Sequence[Made]) -> dict[str, Any]:
    """Return the ``extra`` of the task's asset events: one job's, or a download's (one job or several)."""
    from airflow_provider_vimmerse.api.results import asset_extra, downloads_extra

    if any(item.paths is not None for item in made):
        return downloads_extra([(item.result, item.paths or ()) for item in made])
    return asset_extra(made[0].result) if made else {}


def annotate_outlets(operator: Any, context: Any, made: Sequence[Made]) -> list[str]:
    """
    Put what the task made (:func:`event_extra`) in the event of each asset (Airflow 2: dataset) of its ``outlets``.

    Keys the DAG's own code set on the same event stay unless this sets them too. Aliases and
    references are left alone: their events are the DAG author's.

    :param operator: the task
    :param context: the task's context (its ``outlet_events``)
    :param made: what the task made
    :return: the URIs of the assets annotated
    """
    outlets = [outlet for outlet in getattr(operator, "outlets", None) or () if _is_asset(outlet)]
    events = context.get("outlet_events") if outlets else None
    if events is None:
        return []
    extra = event_extra(made)
    for outlet in outlets:
        events[outlet].extra.update(extra)
    uris = [outlet.uri for outlet in outlets]
    what = f"{len(extra['jobs'])} jobs" if "jobs" in extra else f"{extra.get('kind')} {extra.get('id')}"
    operator.log.info("Asset event extra for %s: %s", ", ".join(uris), what)
    return uris


def _is_asset(outlet: Any) -> bool:
    from airflow.providers.common.compat.sdk import Asset

    return isinstance(outlet, Asset)
