"""
The assets the example DAGs share, defined once.

The DAG that updates an asset and the DAGs scheduled on it import it from here, so both sides name the
same asset (Airflow tells assets apart by name and URI). On Airflow 2 ``Asset`` is a ``Dataset``.
"""

from __future__ import annotations

from airflow.providers.common.compat.sdk import Asset

# [START howto_vimmerse_videos_asset]
#: The videos ``vimmerse_content_production`` downloads: its download task adds an event whose extra
#: lists each job (kind, id, status, output URLs, credits) and the files written. The URI names what
#: the events are about, not a storage location: the files' paths change every day and are in the extra.
VIDEOS = Asset("vimmerse://videos/content-production")
# [END howto_vimmerse_videos_asset]
