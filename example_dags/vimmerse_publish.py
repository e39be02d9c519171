"""
Publish the videos ``vimmerse_content_production`` made, as soon as they are downloaded.

This DAG is scheduled on the videos asset (``vimmerse_assets.VIDEOS``), not on a clock. The download
task of the content-production DAG adds an event to that asset, and the provider puts in the event's
``extra`` what the task made: each job's kind, id, status, output URLs, credits used and web link, and
the files written. So this DAG needs no XCom from the other DAG, nor its run id: a run reads the
events that triggered it (``triggering_asset_events``; on Airflow 2 ``triggering_dataset_events``).

"Publishing" here writes ``published.json`` next to the videos: one entry per video with its job,
status, credits and the run that published it, and the credits reported per job. Replace
:func:`publish_video` with an upload to your site or CMS.

One run at a time (``max_active_runs=1``): events that arrive while a run works wait for the next
one, so each event is published by exactly one run, and the manifest is never written twice at once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pendulum
from vimmerse_assets import VIDEOS  # example_dags/ is on the DAG files' import path, as in any DAGs folder

try:
    from airflow.sdk import DAG, task
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.decorators import task

MANIFEST = "published.json"


# [START howto_vimmerse_read_asset_events]
def videos_of(events: Any) -> list[dict[str, Any]]:
    """
    Return one entry per video file the events name: its path, the job it came from, and where it was made.

    :param events: the asset events of a run (Airflow 3) or dataset events (Airflow 2)
    """
    videos = []
    for event in events:
        extra = dict(event.extra or {})
        source = f"{event.source_dag_id}/{event.source_run_id}/{event.source_task_id}"
        if event.source_map_index is not None and event.source_map_index >= 0:
            source += f"[{event.source_map_index}]"  # a mapped task
        for job in extra.get("jobs") or [extra]:  # a download of several jobs lists them under "jobs"
            urls = job.get("urls") or []
            for index, path in enumerate(job.get("paths") or []):
                videos.append(
                    {
                        "path": path,
                        "job": {key: job.get(key) for key in ("kind", "id", "status", "title", "web_url")},
                        "used_credits": job.get("used_credits"),
                        "output_url": urls[index] if index < len(urls) else None,
                        "made_by": source,
                    }
                )
    return videos


# [END howto_vimmerse_read_asset_events]


def publish_video(video: dict[str, Any]) -> None:
    """Publish one video: here, check the file is there; replace with an upload to your site."""
    if not _path(video["path"]).exists():
        raise FileNotFoundError(f"{video['path']} (job {video['job']['id']}) is not there to publish")


def write_manifest(folder: str, videos: list[dict[str, Any]], run_id: str) -> str:
    """Add ``videos`` to the folder's ``published.json`` (created on first use) and return its path."""
    target = _path(folder) / MANIFEST
    manifest = json.loads(target.read_text(encoding="utf-8")) if target.exists() else {"videos": {}}
    for video in videos:
        manifest["videos"][video["path"]] = {**video, "published_by": run_id}
    credits_by_job = {
        entry["job"]["id"]: entry["used_credits"]
        for entry in manifest["videos"].values()
        if isinstance(entry["used_credits"], (int, float))
    }
    manifest["credits_reported"] = sum(credits_by_job.values())
    manifest["credits_note"] = "counted once per job; single media jobs report no credits"
    target.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return str(target)


def _path(location: str) -> Any:
    """Return a local ``Path``, or an ``ObjectStoragePath`` for an object storage URL (``s3://...``)."""
    if "://" in location:
        from airflow.providers.common.compat.sdk import ObjectStoragePath

        return ObjectStoragePath(location)
    return Path(location)


# [START howto_vimmerse_publish_dag]
with DAG(
    dag_id="vimmerse_publish",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    schedule=[VIDEOS],
    catchup=False,
    max_active_runs=1,
    tags=["vimmerse", "example"],
) as dag:

    @task
    def publish(
        run_id: str | None = None,
        triggering_asset_events: Any = None,
        triggering_dataset_events: Any = None,
    ) -> list[dict[str, Any]]:
        """Publish every video the triggering events name; write the manifest next to them."""
        if triggering_asset_events is not None:  # Airflow 3
            events = triggering_asset_events[VIDEOS]
        else:  # Airflow 2: the dataset events, by URI
            events = (triggering_dataset_events or {}).get(VIDEOS.uri, [])
        videos = videos_of(events)
        for video in videos:
            publish_video(video)
        by_folder: dict[str, list[dict[str, Any]]] = {}
        for video in videos:
            by_folder.setdefault(str(_path(video["path"]).parent), []).append(video)
        for folder, published in by_folder.items():
            manifest = write_manifest(folder, published, str(run_id))
            print(f"Published {len(published)} video(s) from {len(events)} event(s): {manifest}")
        return videos

    publish()
# [END howto_vimmerse_publish_dag]
