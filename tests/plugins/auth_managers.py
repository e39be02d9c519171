"""
An auth manager for the page's auth tests: Airflow's simple auth manager with per-DAG rules (Airflow 3).

Viewers may read every DAG but :data:`HIDDEN_DAG_ID`; the user ``nobody`` may read no DAG at all (but
passes the general "may read XComs" check, so the page answers with its empty state); admins read all.
Configured by dotted path (``[core] auth_manager``), the way a deployment picks its auth manager.
"""

from __future__ import annotations

from typing import Any

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

HIDDEN_DAG_ID = "vimmerse_plugin_hidden"
NOBODY = "nobody"


class HiddenDagAuthManager(SimpleAuthManager):
    """Simple auth manager that hides :data:`HIDDEN_DAG_ID` from non-admins and every DAG from ``nobody``."""

    def is_authorized_dag(self, *, method: Any, user: Any, access_entity: Any = None, details: Any = None) -> bool:
        """Refuse the hidden DAG to non-admins and any DAG to ``nobody``; otherwise ask the simple auth manager."""
        dag_id = details.id if details is not None else None
        hidden = user.username == NOBODY or dag_id == HIDDEN_DAG_ID
        if dag_id is not None and hidden and user.role.upper() != "ADMIN":
            return False
        return super().is_authorized_dag(method=method, user=user, access_entity=access_entity, details=details)
